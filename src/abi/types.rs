//! `#[repr(C)]` mirrors of the host's types: `tVariant`, `struct tm`, the
//! vtables of the component's four bases and of the two host objects we call
//! (memory manager, connection). Layouts follow the fact sheet and are pinned
//! by compile-time assertions for every target we ship.

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

/// `WCHAR_T`: always a 2-byte UTF-16 code unit, on every platform.
pub type WChar = u16;

// ENUMVAR values stored in `tVariant::vt`.
pub const VTYPE_EMPTY: u16 = 0;
pub const VTYPE_NULL: u16 = 1;
pub const VTYPE_I2: u16 = 2;
pub const VTYPE_I4: u16 = 3;
pub const VTYPE_R4: u16 = 4;
pub const VTYPE_R8: u16 = 5;
pub const VTYPE_DATE: u16 = 6;
pub const VTYPE_TM: u16 = 7;
pub const VTYPE_PSTR: u16 = 8;
pub const VTYPE_ERROR: u16 = 10;
pub const VTYPE_BOOL: u16 = 11;
pub const VTYPE_I1: u16 = 13;
pub const VTYPE_UI1: u16 = 14;
pub const VTYPE_UI2: u16 = 15;
pub const VTYPE_UI4: u16 = 16;
pub const VTYPE_I8: u16 = 17;
pub const VTYPE_UI8: u16 = 18;
pub const VTYPE_INT: u16 = 19;
pub const VTYPE_UINT: u16 = 20;
pub const VTYPE_HRESULT: u16 = 21;
pub const VTYPE_PWSTR: u16 = 22;
pub const VTYPE_BLOB: u16 = 23;

/// `GetInfo` answer: interface version 2.0, which lets 1C create several
/// objects of one class.
pub const COMPONENT_INFO: c_long = 2000;

/// `ADDIN_E_FAIL`: AddError's presentation code for an error.
pub const ADDIN_E_FAIL: u16 = 1006;

/// `AppCapabilities` level we support (`eAppCapabilitiesLast` of the new SDK).
pub const APP_CAPABILITIES_LAST: c_int = 3;

/// `AttachType::eCanAttachAny`: isolated or not, as the 1C code chooses.
pub const ATTACH_ANY: c_int = 3;

/// C `struct tm`. Linux adds `tm_gmtoff` and `tm_zone`; MSVCRT/UCRT has only
/// the nine ints.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Tm {
    pub tm_sec: c_int,
    pub tm_min: c_int,
    pub tm_hour: c_int,
    pub tm_mday: c_int,
    pub tm_mon: c_int,
    pub tm_year: c_int,
    pub tm_wday: c_int,
    pub tm_yday: c_int,
    pub tm_isdst: c_int,
    #[cfg(not(windows))]
    pub tm_gmtoff: c_long,
    #[cfg(not(windows))]
    pub tm_zone: *const c_char,
}

/// A length-delimited string or blob inside the variant union: `pwstrVal` +
/// `wstrLen` (UTF-16 units) or `pstrVal` + `strLen` (bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PtrLen<T> {
    pub ptr: *mut T,
    pub len: u32,
}

/// The anonymous union of `tVariant`; its size comes from `struct tm`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union VariantValue {
    pub b: bool,
    pub i32_: i32,
    pub i16_: i16,
    pub i8_: i8,
    pub u8_: u8,
    pub u16_: u16,
    pub u32_: u32,
    pub i64_: i64,
    pub u64_: u64,
    pub f32_: f32,
    pub f64_: f64,
    pub tm: Tm,
    pub wstr: PtrLen<WChar>,
    pub str_: PtrLen<c_char>,
    pub ptr: *mut c_void,
}

/// `tVariant`: the value cell of every parameter, property and result.
#[repr(C)]
pub struct TVariant {
    pub value: VariantValue,
    pub cb_elements: u32,
    pub vt: u16,
}

macro_rules! assert_layout {
    ($size:expr, $align:expr, $cb:expr, $vt:expr, $tm:expr) => {
        const _: () = {
            assert!(std::mem::size_of::<TVariant>() == $size);
            assert!(std::mem::align_of::<TVariant>() == $align);
            assert!(std::mem::offset_of!(TVariant, cb_elements) == $cb);
            assert!(std::mem::offset_of!(TVariant, vt) == $vt);
            assert!(std::mem::size_of::<Tm>() == $tm);
        };
    };
}

// Figures from the fact sheet (g++, clang MS-ABI and mingw-w64 agree), and
// for Linux i386 from a C program built with the same target (8-byte
// members are 4-aligned there). Linux aarch64 is LP64 like x86_64, so the
// same figures (tests/host/addin_host.h asserts them with Debian's aarch64
// gcc).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
assert_layout!(64, 8, 56, 60, 56);
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
assert_layout!(64, 8, 56, 60, 56);
#[cfg(all(target_os = "linux", target_arch = "x86"))]
assert_layout!(52, 4, 44, 48, 44);
#[cfg(all(windows, target_arch = "x86_64"))]
assert_layout!(48, 8, 40, 44, 36);
#[cfg(all(windows, target_arch = "x86"))]
assert_layout!(48, 8, 40, 44, 36);

// String pointer and length offsets inside the union: 0 / P.
const _: () = {
    assert!(std::mem::offset_of!(PtrLen<WChar>, len) == std::mem::size_of::<usize>());
};

/// Slot(s) before the first method: GCC/Itanium emits two destructors (D1,
/// D0), MSVC one. The host never calls them; DestroyObject does the deletion.
#[repr(C)]
pub struct DestructorSlots {
    pub dtor: usize,
    #[cfg(not(windows))]
    pub dtor2: usize,
}

pub const NO_DESTRUCTORS: DestructorSlots = DestructorSlots {
    dtor: 0,
    #[cfg(not(windows))]
    dtor2: 0,
};

/// `IInitDoneBase` (object + 0).
#[repr(C)]
pub struct InitDoneVtable {
    pub dtors: DestructorSlots,
    pub init: unsafe extern "system" fn(this: *mut c_void, disp: *mut c_void) -> bool,
    pub set_mem_manager: unsafe extern "system" fn(this: *mut c_void, mem: *mut c_void) -> bool,
    pub get_info: unsafe extern "system" fn(this: *mut c_void) -> c_long,
    pub done: unsafe extern "system" fn(this: *mut c_void),
}

/// `ILanguageExtenderBase` (object + P).
#[repr(C)]
pub struct LanguageExtenderVtable {
    pub dtors: DestructorSlots,
    pub register_extension_as:
        unsafe extern "system" fn(this: *mut c_void, name: *mut *mut WChar) -> bool,
    pub get_n_props: unsafe extern "system" fn(this: *mut c_void) -> c_long,
    pub find_prop: unsafe extern "system" fn(this: *mut c_void, name: *const WChar) -> c_long,
    pub get_prop_name:
        unsafe extern "system" fn(this: *mut c_void, num: c_long, alias: c_long) -> *const WChar,
    pub get_prop_val:
        unsafe extern "system" fn(this: *mut c_void, num: c_long, val: *mut TVariant) -> bool,
    pub set_prop_val:
        unsafe extern "system" fn(this: *mut c_void, num: c_long, val: *mut TVariant) -> bool,
    pub is_prop_readable: unsafe extern "system" fn(this: *mut c_void, num: c_long) -> bool,
    pub is_prop_writable: unsafe extern "system" fn(this: *mut c_void, num: c_long) -> bool,
    pub get_n_methods: unsafe extern "system" fn(this: *mut c_void) -> c_long,
    pub find_method: unsafe extern "system" fn(this: *mut c_void, name: *const WChar) -> c_long,
    pub get_method_name:
        unsafe extern "system" fn(this: *mut c_void, num: c_long, alias: c_long) -> *const WChar,
    pub get_n_params: unsafe extern "system" fn(this: *mut c_void, num: c_long) -> c_long,
    pub get_param_def_value: unsafe extern "system" fn(
        this: *mut c_void,
        method: c_long,
        param: c_long,
        val: *mut TVariant,
    ) -> bool,
    pub has_ret_val: unsafe extern "system" fn(this: *mut c_void, method: c_long) -> bool,
    pub call_as_proc: unsafe extern "system" fn(
        this: *mut c_void,
        method: c_long,
        params: *mut TVariant,
        count: c_long,
    ) -> bool,
    pub call_as_func: unsafe extern "system" fn(
        this: *mut c_void,
        method: c_long,
        ret: *mut TVariant,
        params: *mut TVariant,
        count: c_long,
    ) -> bool,
}

/// `LocaleBase` (object + 2P).
#[repr(C)]
pub struct LocaleVtable {
    pub dtors: DestructorSlots,
    pub set_locale: unsafe extern "system" fn(this: *mut c_void, loc: *const WChar),
}

/// `UserLanguageBase` (object + 3P).
#[repr(C)]
pub struct UserLanguageVtable {
    pub dtors: DestructorSlots,
    pub set_user_interface_language_code:
        unsafe extern "system" fn(this: *mut c_void, lang: *const WChar),
}

/// The host's `IMemoryManager`. Host vtable slots are `Option` so that a
/// missing entry is detected instead of called.
#[repr(C)]
pub struct MemoryManagerVtable {
    pub dtors: DestructorSlots,
    pub alloc_memory: Option<
        unsafe extern "system" fn(this: *mut c_void, mem: *mut *mut c_void, size: c_ulong) -> bool,
    >,
    pub free_memory: Option<unsafe extern "system" fn(this: *mut c_void, mem: *mut *mut c_void)>,
}

/// The host's `IAddInDefBaseEx` (the `disp` given to `Init`).
#[repr(C)]
pub struct ConnectionVtable {
    pub dtors: DestructorSlots,
    pub add_error: Option<
        unsafe extern "system" fn(
            this: *mut c_void,
            wcode: u16,
            source: *const WChar,
            descr: *const WChar,
            scode: c_long,
        ) -> bool,
    >,
    pub read: Option<
        unsafe extern "system" fn(
            this: *mut c_void,
            name: *mut WChar,
            val: *mut TVariant,
            err: *mut c_long,
            descr: *mut *mut WChar,
        ) -> bool,
    >,
    pub write: Option<
        unsafe extern "system" fn(this: *mut c_void, name: *mut WChar, val: *mut TVariant) -> bool,
    >,
    pub register_profile_as:
        Option<unsafe extern "system" fn(this: *mut c_void, name: *mut WChar) -> bool>,
    pub set_event_buffer_depth:
        Option<unsafe extern "system" fn(this: *mut c_void, depth: c_long) -> bool>,
    pub get_event_buffer_depth: Option<unsafe extern "system" fn(this: *mut c_void) -> c_long>,
    pub external_event: Option<
        unsafe extern "system" fn(
            this: *mut c_void,
            source: *mut WChar,
            message: *mut WChar,
            data: *mut WChar,
        ) -> bool,
    >,
    pub clean_event_buffer: Option<unsafe extern "system" fn(this: *mut c_void)>,
    pub set_status_line:
        Option<unsafe extern "system" fn(this: *mut c_void, text: *mut WChar) -> bool>,
    pub reset_status_line: Option<unsafe extern "system" fn(this: *mut c_void)>,
    pub get_interface:
        Option<unsafe extern "system" fn(this: *mut c_void, iface: c_int) -> *mut c_void>,
}

/// Every host object starts with its vtable pointer.
#[repr(C)]
pub struct HostObject<V> {
    pub vtable: *const V,
}
