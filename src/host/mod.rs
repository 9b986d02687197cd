//! Safe models of what the host hands us and what we hand back: the value a
//! `tVariant` carries, UTF-16 text, and the host's interface language. No raw
//! pointers live here; `abi` converts between these and the C types.

pub mod lang;
pub mod value;
pub mod wstr;

pub use lang::Lang;
pub use value::{DateTime, Value};
