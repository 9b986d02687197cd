//! The five functions the host looks up by name. Plain C calling convention
//! (cdecl on i686, so the names stay undecorated); each is one call into the
//! panic guard.

use std::ffi::{c_int, c_long, c_void};
use std::ptr;

use crate::abi::{self, guard::guard, types::WChar};

/// Returns the `|`-separated class list (a static UTF-16 string).
#[no_mangle]
pub extern "C" fn GetClassNames() -> *const WChar {
    guard(ptr::null(), abi::class_names)
}

/// Creates an object of class `name` into `*object`; non-zero on success.
///
/// # Safety
/// `name` is NULL or NUL-terminated UTF-16; `object` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn GetClassObject(name: *const WChar, object: *mut *mut c_void) -> c_long {
    // SAFETY: forwarded host pointers, checked inside.
    guard(0, || unsafe { abi::get_class_object(name, object) })
}

/// Frees `*object` and sets it to NULL; 0 on success.
///
/// # Safety
/// `object` is NULL or points to a pointer GetClassObject produced.
#[no_mangle]
pub unsafe extern "C" fn DestroyObject(object: *mut *mut c_void) -> c_long {
    // SAFETY: forwarded host pointer, checked inside.
    guard(-1, || unsafe { abi::destroy_object(object) })
}

/// Takes the host's capability level, returns ours.
#[no_mangle]
pub extern "C" fn SetPlatformCapabilities(capabilities: c_int) -> c_int {
    guard(-1, || abi::set_platform_capabilities(capabilities))
}

/// May the add-in be loaded isolated, not isolated, or either.
#[no_mangle]
pub extern "C" fn GetAttachType() -> c_int {
    guard(abi::types::ATTACH_ANY, abi::attach_type)
}
