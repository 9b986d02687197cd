//! Webhook1C: a 1C:Enterprise Native API add-in that sends webhooks and HTTP
//! requests.
//!
//! Boundary rules:
//! 1. `exports` holds the five C functions; `abi` is the only module with
//!    raw pointers, `repr(C)` types and vtables, and every entry runs inside
//!    `abi::guard::guard` so no panic reaches the host.
//! 2. `host` models what crosses the boundary as safe values.
//! 3. `addin` is the 1C face: the bilingual member table and the Client.
//! 4. `http` is the HTTP core and knows nothing of 1C.
//!
//! Data flows host -> abi -> host values -> addin -> http and back.

#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod addin;
pub mod audit;
mod calendar;
mod exports;
pub mod host;
pub mod http;
pub mod queue;
