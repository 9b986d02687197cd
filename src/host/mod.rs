//! Safe models of what the host hands us and what we hand back: the value a
//! `tVariant` carries, UTF-16 text, and the host's interface language. No raw
//! pointers live here; `abi` converts between these and the C types.

pub mod lang;
pub mod value;
pub mod wstr;

pub use lang::Lang;
pub use value::{DateTime, Value};

/// Where ExternalEvent goes: the host's connection, as a safe handle that
/// may be used from any thread while the object lives.
pub trait EventSink: Send + Sync {
    /// `ExternalEvent(source, message, data)`; false if the host refused.
    fn external_event(&self, source: &str, message: &str, data: &str) -> bool;
}
