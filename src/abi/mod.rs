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
use widestring::{u16cstr, U16CStr};

/// `GetClassNames`: one class, `Client` (as `addin::CLASS_NAME`, checked
/// by a test); static, never freed by the host.
static CLASS_NAMES: &U16CStr = u16cstr!("Client");

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
    let Some(requested) = (unsafe { strings::read_name(name) }) else {
        return 0;
    };
    if crate::host::wstr::fold(&requested) != crate::host::wstr::fold(crate::addin::CLASS_NAME) {
        return 0;
    }
    guard::install_panic_hook();
    pin_module();
    // SAFETY: `out` is the host's non-NULL out-pointer.
    unsafe { *out = Component::create() };
    // Non-zero means success; `long` is 32-bit on Windows, so never a pointer.
    1
}

/// Keeps the library loaded until the process ends. The queue's delivery
/// threads and the name-lookup threads of the connection pool's runtimes
/// outlive any one object; if the host unloaded the library under them
/// (FreeLibrary / dlclose), they would run unmapped code. Linux gets the
/// same effect from the `-z nodelete` link flag (build.rs).
#[cfg(windows)]
fn pin_module() {
    const GET_MODULE_HANDLE_EX_FLAG_PIN: u32 = 0x1;
    const GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS: u32 = 0x4;
    #[link(name = "kernel32")]
    extern "system" {
        fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut *mut c_void) -> i32;
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut module = std::ptr::null_mut();
        let anchor = pin_module as *const () as *const u16;
        // SAFETY: with FROM_ADDRESS, `name` is any address inside this module
        // (this function's); `module` is a valid out-pointer.
        let pinned = unsafe {
            GetModuleHandleExW(
                GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                anchor,
                &mut module,
            )
        };
        if pinned == 0 {
            log::warn!("could not pin the module; unloading it with live connections is unsafe");
        }
    });
}

#[cfg(not(windows))]
fn pin_module() {}

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

#[cfg(test)]
mod tests {
    //! Host misbehaviour the C host cannot easily produce: NULL and foreign
    //! pointers at every kind of entry must give the failure value.

    use super::types::*;
    use crate::exports::*;
    use std::ffi::c_void;
    use std::ptr;

    fn class_name() -> Vec<u16> {
        "client\0".encode_utf16().collect()
    }

    #[test]
    fn exports_refuse_null_and_unknown_arguments() {
        // SAFETY: the exports accept NULL and foreign pointers by contract.
        unsafe {
            assert_eq!(GetClassObject(ptr::null(), ptr::null_mut()), 0);
            let mut object: *mut c_void = ptr::null_mut();
            assert_eq!(GetClassObject(ptr::null(), &mut object), 0);
            let other: Vec<u16> = "Other\0".encode_utf16().collect();
            assert_eq!(GetClassObject(other.as_ptr(), &mut object), 0);
            assert!(object.is_null());
            assert_eq!(DestroyObject(ptr::null_mut()), -1);
            let mut not_ours = [0u64; 8];
            let mut fake: *mut c_void = not_ours.as_mut_ptr().cast();
            assert_eq!(DestroyObject(&mut fake), -1, "a foreign object is refused");
            let mut null_object: *mut c_void = ptr::null_mut();
            assert_eq!(DestroyObject(&mut null_object), -1);
        }
        assert_eq!(SetPlatformCapabilities(2), APP_CAPABILITIES_LAST);
        assert_eq!(GetAttachType(), ATTACH_ANY);
        assert!(!GetClassNames().is_null());
        assert_eq!(
            super::CLASS_NAMES.to_string_lossy(),
            crate::addin::CLASS_NAME
        );
    }

    #[test]
    fn vtable_entries_survive_null_pointers_and_a_missing_host() {
        let name = class_name();
        let mut object: *mut c_void = ptr::null_mut();
        // SAFETY: valid arguments; the object is destroyed at the end.
        unsafe {
            assert_eq!(GetClassObject(name.as_ptr(), &mut object), 1);
            let vtables = object.cast::<*const c_void>();
            let init_done = &*(*vtables).cast::<InitDoneVtable>();
            let this_ext = object
                .cast::<u8>()
                .add(std::mem::size_of::<usize>())
                .cast::<c_void>();
            let ext = &*(*vtables.add(1)).cast::<LanguageExtenderVtable>();

            assert!(
                !(init_done.init)(object, ptr::null_mut()),
                "Init(NULL) fails"
            );
            assert!(!(init_done.set_mem_manager)(object, ptr::null_mut()));
            assert_eq!((init_done.get_info)(object), COMPONENT_INFO);
            assert_eq!((init_done.get_info)(ptr::null_mut()), 0, "NULL this");
            assert!(!(ext.register_extension_as)(this_ext, ptr::null_mut()));
            let mut out: *mut WChar = ptr::null_mut();
            assert!(
                !(ext.register_extension_as)(this_ext, &mut out),
                "no memory manager"
            );
            assert_eq!((ext.find_method)(this_ext, ptr::null()), -1);
            assert_eq!((ext.find_prop)(ptr::null_mut(), ptr::null()), -1);
            assert!(
                (ext.get_prop_name)(this_ext, 0, 0).is_null(),
                "no memory manager: NULL"
            );
            assert!((ext.get_method_name)(this_ext, 9999, 0).is_null());
            assert_eq!((ext.get_n_params)(this_ext, -1), 0);
            assert!(!(ext.get_param_def_value)(this_ext, 0, 2, ptr::null_mut()));
            assert!(!(ext.get_prop_val)(this_ext, 0, ptr::null_mut()));
            assert!(
                !(ext.set_prop_val)(this_ext, 1, ptr::null_mut()),
                "Undefined is not a Number"
            );
            // ClearHeaders takes no parameters: params may be NULL.
            let clear_headers = crate::addin::find_method("ClearHeaders").expect("ClearHeaders");
            assert!((ext.call_as_proc)(
                this_ext,
                clear_headers as _,
                ptr::null_mut(),
                0
            ));
            assert!(!(ext.call_as_func)(
                this_ext,
                9999,
                ptr::null_mut(),
                ptr::null_mut(),
                0
            ));
            assert!(
                !(ext.call_as_func)(this_ext, 0, ptr::null_mut(), ptr::null_mut(), 0),
                "no URL given"
            );
            (init_done.done)(object);

            assert_eq!(DestroyObject(&mut object), 0);
            assert!(object.is_null());
        }
    }
}
