//! Webhook1C: a 1C:Enterprise Native API add-in that sends webhooks and HTTP
//! requests.
//!
//! Boundary rules:
//! 1. `exports` holds the five C functions; `abi` is the only module with
//!    raw pointers, `repr(C)` types and vtables, every entry runs inside
//!    `abi::guard::guard` so no panic reaches the host, and it only
//!    converts values and dispatches to `addin::Object`.
//! 2. `host` models what crosses the boundary as safe values.
//! 3. `addin` is the 1C face: the bilingual member table, argument reading,
//!    error texts and codes (one catalog), the Client's settings and calls.
//! 4. `http` and `queue` know nothing of 1C; `http` imports no other module
//!    of the crate. `audit` writes LogFile lines of HTTP attempts. `os`
//!    holds the few operating-system calls no safe crate offers (a
//!    Windows ACL): besides `abi`, the only module with `unsafe`.
//!
//! Data flows host -> abi -> host values -> addin -> http / queue and back.

pub mod abi;
pub mod addin;
pub mod audit;
mod calendar;
mod exports;
pub mod host;
pub mod http;
mod os;
pub mod queue;
