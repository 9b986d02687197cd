//! The 1C face of the add-in: the bilingual member table, the `Client`
//! object that maps calls onto the HTTP core, and the error texts. Nothing
//! here touches a raw pointer; values arrive and leave as [`crate::host::Value`].

mod args;
pub mod client;
pub mod errors;
pub mod members;

pub use client::Client;
pub use errors::CallError;
pub use members::{find_method, find_property, methods, properties, Method, Param, Property};

/// Class name (`GetClassNames`) and extension name (`RegisterExtensionAs`):
/// 1C code creates `Новый("AddIn.<attach name>.Client")`.
pub const CLASS_NAME: &str = "Client";

/// `source` of every AddError call.
pub const ERROR_SOURCE: &str = "Webhook1C";
