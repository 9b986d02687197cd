//! NUL-terminated UTF-16 strings that cross the boundary as raw pointers.

use super::types::WChar;

/// Longest name we read from the host (member names, locales).
pub const MAX_NAME_UNITS: usize = 1024;

/// Copies a NUL-terminated string the host passed, reading at most `max`
/// units. `None` for NULL or an unterminated string.
///
/// # Safety
/// `ptr` is NULL or points to readable UTF-16 units up to a NUL or `max`.
pub unsafe fn read_nul_terminated(ptr: *const WChar, max: usize) -> Option<Vec<u16>> {
    if ptr.is_null() {
        return None;
    }
    let mut units = Vec::new();
    for i in 0..max {
        // SAFETY: the caller guarantees the units up to the NUL are readable;
        // we stop at the NUL.
        let unit = unsafe { *ptr.add(i) };
        if unit == 0 {
            return Some(units);
        }
        units.push(unit);
    }
    None
}

/// A static NUL-terminated UTF-16 copy of an ASCII string, built at compile
/// time (for `GetClassNames`, whose result the host never frees).
pub const fn ascii_utf16<const N: usize>(text: &str) -> [u16; N] {
    let bytes = text.as_bytes();
    assert!(bytes.len() + 1 == N, "N must be the length plus the NUL");
    let mut out = [0u16; N];
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii());
        out[i] = bytes[i] as u16;
        i += 1;
    }
    out
}
