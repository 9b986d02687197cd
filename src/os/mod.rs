//! Operating-system calls that neither the standard library nor rustix
//! offers. Besides `abi/` (and `exports.rs`), the only module with
//! `unsafe`; like `http` and `queue` it knows nothing of 1C, and it imports
//! no other module of the crate.

#[cfg(windows)]
mod windows;

#[cfg(windows)]
pub(crate) use windows::restrict_to_user;
