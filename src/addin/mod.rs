//! The 1C face of the add-in: the bilingual member table, the `Client`
//! object that maps calls onto the HTTP core, and the error texts. Nothing
//! here touches a raw pointer; values arrive and leave as [`crate::host::Value`].

mod args;
pub mod client;
pub mod errors;
pub mod events;
pub mod members;

pub use client::Client;
pub use errors::CallError;
pub use members::{find_method, find_property, methods, properties, Args, Method, Param, Property};

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
