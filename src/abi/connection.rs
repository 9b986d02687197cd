//! The host's connection object (`IAddInDefBase(Ex)`), given to `Init`:
//! AddError turns a failure into a 1C exception with our text;
//! ExternalEvent reaches `ОбработкаВнешнегоСобытия`.

use std::ffi::{c_long, c_void};
use std::ptr::NonNull;

use super::types::{ConnectionVtable, HostObject, WChar};
use widestring::U16CString;

type AddErrorFn =
    unsafe extern "system" fn(*mut c_void, u16, *const WChar, *const WChar, c_long) -> bool;
type ExternalEventFn =
    unsafe extern "system" fn(*mut c_void, *mut WChar, *mut WChar, *mut WChar) -> bool;
type SetDepthFn = unsafe extern "system" fn(*mut c_void, c_long) -> bool;
type GetDepthFn = unsafe extern "system" fn(*mut c_void) -> c_long;

/// A checked handle to the host's connection object.
#[derive(Clone, Copy)]
pub struct Connection {
    object: NonNull<c_void>,
    add_error: Option<AddErrorFn>,
    external_event: Option<ExternalEventFn>,
    set_event_buffer_depth: Option<SetDepthFn>,
    get_event_buffer_depth: Option<GetDepthFn>,
}

// SAFETY: the connection object lives until Done; the host documents
// ExternalEvent as callable from add-in threads, and we only copy the handle.
unsafe impl Send for Connection {}
// SAFETY: as above; the handle is immutable.
unsafe impl Sync for Connection {}

impl Connection {
    /// Checks the `disp` pointer given to `Init`.
    ///
    /// # Safety
    /// `raw` is NULL or points to a live `IAddInDefBase` that stays alive
    /// until `Done`.
    pub unsafe fn from_raw(raw: *mut c_void) -> Option<Connection> {
        let object = NonNull::new(raw)?;
        // SAFETY: a host object starts with its vtable pointer.
        let vtable = unsafe { (*raw.cast::<HostObject<ConnectionVtable>>()).vtable };
        if vtable.is_null() {
            return None;
        }
        // SAFETY: a non-NULL vtable pointer of a live host object.
        let vtable = unsafe { &*vtable };
        Some(Connection {
            object,
            add_error: vtable.add_error,
            external_event: vtable.external_event,
            set_event_buffer_depth: vtable.set_event_buffer_depth,
            get_event_buffer_depth: vtable.get_event_buffer_depth,
        })
    }

    /// Reports an error; with `scode != 0` the host raises an exception in
    /// the 1C code once the call returns.
    pub fn add_error(&self, wcode: u16, source: &str, description: &str, scode: c_long) -> bool {
        let Some(add_error) = self.add_error else {
            return false;
        };
        let source = U16CString::from_str_truncate(source);
        let description = U16CString::from_str_truncate(description);
        // SAFETY: checked handle; both strings are NUL-terminated and live
        // across the call (the host copies them).
        unsafe {
            add_error(
                self.object.as_ptr(),
                wcode,
                source.as_ptr(),
                description.as_ptr(),
                scode,
            )
        }
    }

    /// Raises the host's event buffer to `depth` unless it is deeper
    /// already; true when the buffer holds at least `depth` afterwards.
    pub fn raise_event_buffer(&self, depth: c_long) -> bool {
        let (Some(set), Some(get)) = (self.set_event_buffer_depth, self.get_event_buffer_depth)
        else {
            return false;
        };
        // SAFETY: checked handle; both entries take only the object.
        let current = unsafe { get(self.object.as_ptr()) };
        if current >= depth {
            return true;
        }
        // SAFETY: as above.
        unsafe { set(self.object.as_ptr(), depth) }
    }

    /// Sends `ExternalEvent(source, message, data)`.
    pub fn external_event(&self, source: &str, message: &str, data: &str) -> bool {
        let Some(external_event) = self.external_event else {
            return false;
        };
        let mut source = U16CString::from_str_truncate(source);
        let mut message = U16CString::from_str_truncate(message);
        let mut data = U16CString::from_str_truncate(data);
        // SAFETY: checked handle; NUL-terminated buffers that outlive the call.
        unsafe {
            external_event(
                self.object.as_ptr(),
                source.as_mut_ptr(),
                message.as_mut_ptr(),
                data.as_mut_ptr(),
            )
        }
    }
}

impl crate::host::EventSink for Connection {
    fn external_event(&self, source: &str, message: &str, data: &str) -> bool {
        Connection::external_event(self, source, message, data)
    }
}
