//! The binary interface with the 1C host: `#[repr(C)]` types, our vtables,
//! the host's memory manager and connection, variant conversion, and the
//! panic guard. This is the only module with raw pointers; everything it
//! passes on is a safe value.

pub mod component;
pub mod connection;
pub mod guard;
pub mod memory;
pub mod strings;
pub mod types;
pub mod variant;

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

use component::Component;
use types::WChar;

/// `GetClassNames`: one class, `Client`; static, never freed by the host.
static CLASS_NAMES: [WChar; 7] = strings::ascii_utf16::<7>(crate::addin::CLASS_NAME);

/// The capability level the host announced (0 until it does).
static HOST_CAPABILITIES: AtomicI32 = AtomicI32::new(0);

pub fn class_names() -> *const WChar {
    CLASS_NAMES.as_ptr()
}

/// `GetClassObject`: creates the object if `name` is our class.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or writable.
pub unsafe fn get_class_object(name: *const WChar, out: *mut *mut c_void) -> c_long {
    if out.is_null() {
        return 0;
    }
    // SAFETY: NUL-terminated host string, bounded read.
    let requested = unsafe { strings::read_nul_terminated(name, strings::MAX_NAME_UNITS) };
    let Some(requested) = requested.and_then(|u| crate::host::wstr::decode(&u).ok()) else {
        return 0;
    };
    if crate::host::wstr::fold(&requested) != crate::host::wstr::fold(crate::addin::CLASS_NAME) {
        return 0;
    }
    guard::install_panic_hook();
    // SAFETY: `out` is the host's non-NULL out-pointer.
    unsafe { *out = Component::create() };
    // Non-zero means success; `long` is 32-bit on Windows, so never a pointer.
    1
}

/// `DestroyObject`: frees the object and clears the host's pointer.
///
/// # Safety
/// `object` is NULL or points to the host's pointer to one of our objects.
pub unsafe fn destroy_object(object: *mut *mut c_void) -> c_long {
    if object.is_null() {
        return -1;
    }
    // SAFETY: non-NULL pointer to the host's IComponentBase* variable.
    let ptr = unsafe { *object };
    // SAFETY: `ptr` is what GetClassObject stored (checked by magic inside).
    if !unsafe { Component::destroy(ptr) } {
        return -1;
    }
    // SAFETY: as above.
    unsafe { *object = std::ptr::null_mut() };
    0
}

/// `SetPlatformCapabilities`: remembers the host's level, answers ours.
pub fn set_platform_capabilities(capabilities: c_int) -> c_int {
    HOST_CAPABILITIES.store(capabilities, Ordering::Relaxed);
    types::APP_CAPABILITIES_LAST
}

/// The level the host announced through `SetPlatformCapabilities`.
pub fn host_capabilities() -> c_int {
    HOST_CAPABILITIES.load(Ordering::Relaxed)
}

/// `GetAttachType`: the add-in works isolated and not isolated.
pub fn attach_type() -> c_int {
    types::ATTACH_ANY
}
