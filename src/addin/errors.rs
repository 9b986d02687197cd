//! Everything a call, a property read or a property write can fail with.
//! The texts and stable codes of these kinds live in [`super::catalog`].

use crate::host::value::Kind;
use crate::http;
use crate::queue::QueueError;

/// A parameter or property, named in both languages for error texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub en: &'static str,
    pub ru: &'static str,
    pub property: bool,
}

impl Target {
    pub const fn param(en: &'static str, ru: &'static str) -> Target {
        Target {
            en,
            ru,
            property: false,
        }
    }

    pub const fn property(en: &'static str, ru: &'static str) -> Target {
        Target {
            en,
            ru,
            property: true,
        }
    }
}

/// The 1C type a value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Str,
    Number,
    Bool,
    StrOrBlob,
    StrBlobOrUndefined,
}

/// Why a call, property read or property write failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallError {
    /// A value of the wrong 1C type.
    WrongType {
        target: Target,
        expected: Expected,
        got: Kind,
    },
    /// A required parameter was left out (the host passes Undefined).
    Missing {
        target: Target,
        expected: Expected,
    },
    /// A String with an unpaired UTF-16 surrogate, which no encoding can send.
    LoneSurrogate {
        target: Target,
        position: usize,
    },
    /// Text that must be JSON is not.
    InvalidJson {
        target: Target,
        line: usize,
        column: usize,
        detail: String,
    },
    /// JSON that must be an object of header names to values is not.
    HeadersNotObject {
        target: Target,
    },
    /// Configure's settings are not a JSON object.
    SettingsNotObject {
        target: Target,
    },
    /// Configure names something that is not a writable property.
    NotASetting {
        target: Target,
        name: String,
    },
    /// A header's JSON value is an object, array or null.
    HeaderValueType {
        target: Target,
        name: String,
    },
    /// A number below zero where only zero or more makes sense.
    Negative {
        target: Target,
    },
    /// A number that is not finite or too large.
    OutOfRange {
        target: Target,
    },
    /// A number above the member's documented maximum.
    AboveMaximum {
        target: Target,
        max: u64,
    },
    /// RetrySchedule is empty or malformed.
    InvalidSchedule {
        target: Target,
    },
    /// A message state that is not `pending`, `delivered` or `failed`.
    InvalidState {
        target: Target,
        got: String,
    },
    /// SigningSecret has `whsec_` but no valid base64 after it.
    InvalidSecret {
        target: Target,
    },
    /// VerifySignature did not accept a webhook: not an exception, the
    /// call returns Ложь with this as ErrorText and ErrorCode.
    Rejected(http::sign::Rejected),
    /// The HTTP core failed.
    Http(http::Error),
    /// The delivery queue failed.
    Queue(QueueError),
    /// A result too large to hand to the host (more than 4 GiB).
    ResultTooLarge,
    /// The host gave no memory manager, so no string can be returned.
    NoMemoryManager,
    /// AuthType is neither Basic nor Digest.
    InvalidAuthType {
        target: Target,
        got: String,
    },
    /// Cookies is not the JSON that reading it gives.
    InvalidCookies {
        target: Target,
        detail: String,
    },
    /// A form is pending (AddFormField / AddFormFile) but the call cannot
    /// send it: only Request without Body and ContentType does.
    FormPending,
    /// The member number the host passed does not exist.
    NoSuchMember,
    /// A property is read-only / write-only.
    NotWritable,
    NotReadable,
    /// A bug: a panic caught at the boundary.
    Internal(String),
}

impl CallError {
    /// A failure the method reports by returning Ложь (with ErrorText and
    /// ErrorCode set) rather than by raising an exception.
    pub fn is_answer(&self) -> bool {
        matches!(self, CallError::Rejected(_))
    }
}

impl From<http::Error> for CallError {
    fn from(e: http::Error) -> Self {
        CallError::Http(e)
    }
}

impl From<QueueError> for CallError {
    fn from(e: QueueError) -> Self {
        CallError::Queue(e)
    }
}

impl CallError {
    /// The parameter or property the error is about, if it names one.
    pub fn target(&self) -> Option<Target> {
        match self {
            CallError::WrongType { target, .. }
            | CallError::Missing { target, .. }
            | CallError::LoneSurrogate { target, .. }
            | CallError::InvalidJson { target, .. }
            | CallError::HeadersNotObject { target }
            | CallError::SettingsNotObject { target }
            | CallError::NotASetting { target, .. }
            | CallError::HeaderValueType { target, .. }
            | CallError::Negative { target }
            | CallError::OutOfRange { target }
            | CallError::AboveMaximum { target, .. }
            | CallError::InvalidSchedule { target }
            | CallError::InvalidState { target, .. }
            | CallError::InvalidSecret { target }
            | CallError::InvalidCookies { target, .. }
            | CallError::InvalidAuthType { target, .. } => Some(*target),
            _ => None,
        }
    }
}
