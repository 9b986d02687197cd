//! The host's memory manager. Every string or blob we hand to the host
//! (results, property values, defaults, names) is allocated here, because the
//! host frees it with its own allocator.

use std::ffi::{c_ulong, c_void};
use std::ptr::{self, NonNull};

use super::types::{HostObject, MemoryManagerVtable};

type AllocFn = unsafe extern "system" fn(*mut c_void, *mut *mut c_void, c_ulong) -> bool;
type FreeFn = unsafe extern "system" fn(*mut c_void, *mut *mut c_void);

/// A checked handle to the host's `IMemoryManager`.
#[derive(Clone, Copy)]
pub struct MemoryManager {
    object: NonNull<c_void>,
    alloc: AllocFn,
    free: FreeFn,
}

// SAFETY: the host's memory manager is a process-wide object that outlives
// the components using it; its methods may be called from any thread.
unsafe impl Send for MemoryManager {}
// SAFETY: as above; the handle itself is immutable.
unsafe impl Sync for MemoryManager {}

impl MemoryManager {
    /// Checks the pointer the host gave to `setMemManager`: non-NULL, with a
    /// vtable whose two slots are filled.
    ///
    /// # Safety
    /// `raw` is NULL or points to a live `IMemoryManager` that stays alive
    /// while the handle is used.
    pub unsafe fn from_raw(raw: *mut c_void) -> Option<MemoryManager> {
        let object = NonNull::new(raw)?;
        // SAFETY: `raw` points to a host object, which starts with its vtable
        // pointer (caller's guarantee).
        let vtable = unsafe { (*raw.cast::<HostObject<MemoryManagerVtable>>()).vtable };
        if vtable.is_null() {
            return None;
        }
        // SAFETY: a non-NULL vtable pointer of a live host object points to
        // its vtable.
        let vtable = unsafe { &*vtable };
        Some(MemoryManager {
            object,
            alloc: vtable.alloc_memory?,
            free: vtable.free_memory?,
        })
    }

    /// Allocates `bytes` (at least 1) through the host.
    pub fn alloc(&self, bytes: usize) -> Option<NonNull<u8>> {
        let size = c_ulong::try_from(bytes.max(1)).ok()?;
        let mut block: *mut c_void = ptr::null_mut();
        // SAFETY: `object` and `alloc` were checked in `from_raw`; `block` is
        // a valid out-pointer.
        let ok = unsafe { (self.alloc)(self.object.as_ptr(), &mut block, size) };
        if ok {
            NonNull::new(block.cast::<u8>())
        } else {
            None
        }
    }

    /// Gives a block back to the host.
    ///
    /// # Safety
    /// `block` came from this host's allocator and is not used afterwards.
    pub unsafe fn free(&self, block: *mut c_void) {
        if block.is_null() {
            return;
        }
        let mut block = block;
        // SAFETY: checked handle; the caller guarantees the block's origin.
        unsafe { (self.free)(self.object.as_ptr(), &mut block) };
    }

    /// A host-allocated copy of `units` followed by a NUL.
    pub fn alloc_wstr(&self, units: &[u16]) -> Option<NonNull<u16>> {
        let bytes = units.len().checked_add(1)?.checked_mul(2)?;
        let block = self.alloc(bytes)?.cast::<u16>();
        // SAFETY: the block holds `units.len() + 1` u16 (the host's allocator
        // returns memory aligned for any type, as malloc does).
        unsafe {
            ptr::copy_nonoverlapping(units.as_ptr(), block.as_ptr(), units.len());
            *block.as_ptr().add(units.len()) = 0;
        }
        Some(block)
    }

    /// A host-allocated copy of `bytes`.
    pub fn alloc_bytes(&self, bytes: &[u8]) -> Option<NonNull<u8>> {
        let block = self.alloc(bytes.len())?;
        // SAFETY: the block holds at least `bytes.len()` bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), block.as_ptr(), bytes.len()) };
        Some(block)
    }
}
