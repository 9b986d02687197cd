//! The 1C face of the add-in: the bilingual member table, the [`Object`]
//! that the boundary dispatches every property access and method call to,
//! and the message catalog. Nothing here touches a raw pointer; values
//! arrive and leave as [`crate::host::Value`], failures leave as text.
//!
//! The boundary (`abi`) only converts values and forwards; everything a 1C
//! developer sees of a call happens here: defaults of parameters left out,
//! typed reading of arguments, the error text in the host's language with
//! its member prefix, and ErrorText / ErrorCode.

mod args;
pub mod calls;
pub mod catalog;
pub mod client;
pub mod errors;
pub mod events;
pub mod members;
pub mod queue;
mod receive;
pub mod secrets;
pub mod settings;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

pub use args::{Arg, Args};
pub use client::Client;
pub use errors::CallError;
pub use events::EVENT_BUFFER_DEPTH;
pub use members::{find_method, find_property, methods, properties, Method, Param, Property};

use crate::host::{EventSink, Lang, Value};
use client::Failure;

/// Class name (`GetClassNames`) and extension name (`RegisterExtensionAs`):
/// 1C code creates `Новый("AddIn.<attach name>.Client")`.
pub const CLASS_NAME: &str = "Client";

/// `source` of every AddError call.
pub const ERROR_SOURCE: &str = "Webhook1C";

/// The Version property: the crate version with the git commit as SemVer
/// build metadata (`0.1.0+1a2b3c4d5e6f`), or just the version when built
/// outside a git checkout.
pub fn version() -> String {
    let commit = env!("WEBHOOK1C_GIT_COMMIT");
    if commit.is_empty() {
        env!("CARGO_PKG_VERSION").to_string()
    } else {
        format!("{}+{commit}", env!("CARGO_PKG_VERSION"))
    }
}

/// What a dispatched access or call produced, for the boundary to hand
/// back: the value (on success), the in/out parameters the call rewrote,
/// or the text to raise as a 1C exception.
#[derive(Debug, Default)]
pub struct Outcome {
    pub value: Option<Value>,
    pub written: Vec<(usize, Value)>,
    pub error: Option<String>,
}

/// A property or method by its index in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Property(usize),
    Method(usize),
}

/// Why the boundary could not hand a result to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnFailure {
    /// The host gave no memory manager (setMemManager).
    NoMemoryManager,
    /// The value is too large for a variant, or the host's allocator
    /// refused it.
    TooLarge,
    /// The host passed no variant to put the value in.
    NoVariant,
}

/// One add-in object as the host sees it: the [`Client`] and the language
/// of its texts.
#[derive(Default)]
pub struct Object {
    client: Client,
    /// From SetLocale.
    locale: Lang,
    /// From SetUserInterfaceLanguageCode; wins over the locale.
    interface: Option<Lang>,
}

impl Object {
    pub fn new() -> Object {
        Object::default()
    }

    /// The language of this object's texts.
    pub fn lang(&self) -> Lang {
        self.interface.unwrap_or(self.locale)
    }

    /// SetLocale: the host's locale (`ru_RU`, `rus_RUS`, …).
    pub fn set_locale(&mut self, locale: &str) {
        self.locale = Lang::from_code(locale);
    }

    /// SetUserInterfaceLanguageCode: the 1C user's interface language.
    pub fn set_interface_language(&mut self, code: &str) {
        self.interface = Some(Lang::from_code(code));
    }

    /// Where ExternalEvent goes: the host's connection, or None after Done.
    pub fn set_event_sink(&self, sink: Option<Arc<dyn EventSink>>) {
        self.client.set_event_sink(sink);
    }

    /// GetPropVal.
    pub fn get_property(&mut self, num: usize) -> Outcome {
        let Some(p) = properties().get(num) else {
            return self.failed(Member::Property(num), CallError::NoSuchMember);
        };
        let client = &self.client;
        match guarded(|| p.get.map(|get| get(client)).ok_or(CallError::NotReadable)) {
            Ok(value) => Outcome {
                value: Some(value),
                ..Outcome::default()
            },
            Err(e) => self.failed(Member::Property(num), e),
        }
    }

    /// SetPropVal.
    pub fn set_property(&mut self, num: usize, value: Value) -> Outcome {
        let Some(p) = properties().get(num) else {
            return self.failed(Member::Property(num), CallError::NoSuchMember);
        };
        let client = &mut self.client;
        let result = guarded(|| match p.set {
            Some(set) => set(client, Arg::property(&value, p.target())),
            None => Err(CallError::NotWritable),
        });
        match result {
            Ok(()) => Outcome {
                value: Some(Value::Empty),
                ..Outcome::default()
            },
            Err(e) => self.failed(Member::Property(num), e),
        }
    }

    /// CallAsProc / CallAsFunc with the values the host passed; parameters
    /// it left out get their defaults. A successful call clears ErrorText
    /// and ErrorCode.
    pub fn call(&mut self, num: usize, given: Vec<Value>) -> Outcome {
        let Some(m) = methods().get(num).copied() else {
            return self.failed(Member::Method(num), CallError::NoSuchMember);
        };
        let mut args = Args::new(m.params, given);
        let client = &mut self.client;
        match guarded(|| (m.call)(client, &mut args)) {
            Ok(value) => {
                self.client.failure = None;
                Outcome {
                    value: Some(value),
                    written: args.take_written(),
                    error: None,
                }
            }
            // A refusal that is an answer: Ложь, with ErrorText and ErrorCode.
            Err(e) if e.is_answer() => {
                self.failed(Member::Method(num), e);
                Outcome {
                    value: Some(Value::Bool(false)),
                    ..Outcome::default()
                }
            }
            Err(e) => self.failed(Member::Method(num), e),
        }
    }

    /// The boundary could not hand `member`'s result to the host: records
    /// the failure and returns the text to raise.
    pub fn return_failed(&mut self, member: Member, why: ReturnFailure) -> String {
        let err = match why {
            ReturnFailure::NoMemoryManager => CallError::NoMemoryManager,
            ReturnFailure::TooLarge => CallError::ResultTooLarge,
            ReturnFailure::NoVariant => {
                CallError::Internal("the host passed no variant for the result".into())
            }
        };
        self.failed(member, err).error.unwrap_or_default()
    }

    /// Records `err` as ErrorText / ErrorCode and returns it as the text to
    /// raise, prefixed with the member's name in the object's language
    /// unless the text already names it ("property Timeout cannot be
    /// negative", "Proxy: invalid proxy URL").
    fn failed(&mut self, member: Member, err: CallError) -> Outcome {
        let lang = self.lang();
        let message = catalog::message(&err, lang);
        let name = match member {
            Member::Property(i) => properties().get(i).map_or_else(
                || lang.pick("property", "свойство"),
                |p| lang.pick(p.en, p.ru),
            ),
            Member::Method(i) => methods()
                .get(i)
                .map_or_else(|| lang.pick("method", "метод"), |m| lang.pick(m.en, m.ru)),
        };
        let names_itself = err.target().is_some_and(|t| t.property)
            || message.text.starts_with(&format!("{name}: "));
        let text = if names_itself {
            message.text
        } else {
            format!("{name}: {}", message.text)
        };
        self.client.failure = Some(Failure {
            code: message.code,
            text: text.clone(),
        });
        Outcome {
            value: None,
            written: Vec::new(),
            error: Some(text),
        }
    }
}

/// Runs a handler with a panic turned into an internal error, so the
/// object records it like any other failure.
fn guarded<T>(f: impl FnOnce() -> Result<T, CallError>) -> Result<T, CallError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(CallError::Internal(panic_message(&*payload))))
}

/// The text of a panic payload (also for the boundary's own guard).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// GetNProps.
pub fn property_count() -> usize {
    properties().len()
}

/// GetNMethods.
pub fn method_count() -> usize {
    methods().len()
}

/// The name of property `num` in English (alias 0) or Russian (alias 1).
pub fn property_name(num: usize, alias: usize) -> Option<&'static str> {
    properties()
        .get(num)
        .map(|p| if alias == 1 { p.ru } else { p.en })
}

/// The name of method `num` in English (alias 0) or Russian (alias 1).
pub fn method_name(num: usize, alias: usize) -> Option<&'static str> {
    methods()
        .get(num)
        .map(|m| if alias == 1 { m.ru } else { m.en })
}

pub fn is_readable(num: usize) -> bool {
    properties().get(num).is_some_and(|p| p.get.is_some())
}

pub fn is_writable(num: usize) -> bool {
    properties().get(num).is_some_and(|p| p.set.is_some())
}

/// GetNParams.
pub fn param_count(method: usize) -> usize {
    methods().get(method).map_or(0, |m| m.params.len())
}

/// GetParamDefValue: the default of an optional parameter.
pub fn param_default(method: usize, param: usize) -> Option<Value> {
    methods()
        .get(method)?
        .params
        .get(param)?
        .default
        .map(|d| d.value())
}

/// HasRetVal.
pub fn has_return(method: usize) -> bool {
    methods().get(method).is_some_and(|m| m.returns)
}
