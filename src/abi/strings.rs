//! NUL-terminated UTF-16 strings that cross the boundary as raw pointers,
//! read and made with `widestring`.

use widestring::U16CStr;

use super::types::WChar;
use crate::host::wstr;

/// Longest name we read from the host (member names, locales).
pub const MAX_NAME_UNITS: usize = 1024;

/// Copies a NUL-terminated name the host passed (a member name, a class
/// name, a locale), reading at most [`MAX_NAME_UNITS`] units. `None` for
/// NULL, an unterminated string or a lone surrogate.
///
/// # Safety
/// `ptr` is NULL or points to readable UTF-16 units up to a NUL or
/// `MAX_NAME_UNITS`.
pub unsafe fn read_name(ptr: *const WChar) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and the caller guarantees the units up to the NUL
    // (or the limit) are readable; the search reads indices 0..=len, so at
    // most MAX_NAME_UNITS units.
    let name = unsafe { U16CStr::from_ptr_truncate(ptr, MAX_NAME_UNITS - 1) }.ok()?;
    wstr::decode(name.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use widestring::u16cstr;

    #[test]
    fn names_are_read_up_to_the_nul_or_refused() {
        let name = u16cstr!("ОтправитьJson");
        // SAFETY: a NUL-terminated static string.
        let read = unsafe { read_name(name.as_ptr()) };
        assert_eq!(read.as_deref(), Some("ОтправитьJson"));
        // SAFETY: NULL is refused before any read.
        assert_eq!(unsafe { read_name(std::ptr::null()) }, None);
        let unterminated = vec![u16::from(b'a'); MAX_NAME_UNITS];
        // SAFETY: the buffer holds MAX_NAME_UNITS readable units.
        assert_eq!(unsafe { read_name(unterminated.as_ptr()) }, None);
        let lone = [0xD800u16, 0];
        // SAFETY: NUL-terminated.
        assert_eq!(unsafe { read_name(lone.as_ptr()) }, None);
    }
}
