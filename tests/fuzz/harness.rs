//! The fuzz harness: plays the 1C host against the add-in's real exports and
//! vtable entries, driven by arbitrary bytes.
//!
//! Shared by the cargo-fuzz target (`fuzz_targets/vtable.rs`, nightly, ASan)
//! and by the stable replay of the committed corpus (`tests/fuzz_corpus.rs`),
//! so `cargo test` runs the same code on every input of the corpus.
//!
//! One input is one session: `GetClassObject`, `Init` / `setMemManager` (in
//! either order, sometimes NULL or with empty vtable slots), then up to
//! [`MAX_OPS`] calls of any entry of the four bases with fuzzed member
//! numbers, names, argument counts and variants of every `vt`, then `Done`
//! and `DestroyObject`. The host objects follow the host's rules: every
//! pointer is valid or NULL, strings and blobs the add-in hands over are
//! freed through the memory manager, and in/out parameters the add-in
//! replaced are freed as the new values.
//!
//! What a session checks (a failed check panics, which the fuzzer reports as
//! a crash): no panic inside the add-in, even a caught one; every block the
//! add-in allocated through the host is freed by the end and none is freed
//! twice or by a foreign pointer; names and values come back in live blocks
//! of the right size with their terminator; a call that fails with a live
//! connection reports an error through AddError, and a call that succeeds
//! reports none; answers agree with the member table.
//!
//! Nothing reaches the network: before every CallAsProc/CallAsFunc the
//! session sets Proxy to `http://127.0.0.1:1` (a closed port, so a request
//! fails at once with "connection refused"; queued messages carry the proxy
//! in their own transport and fail the same way), RetryCount to 0, Timeout
//! and ConnectTimeout to 1, QueueDirectory (and LogFile, when used) to a
//! folder of this process under the temporary directory, and clamps the
//! argument of WaitForDelivery to 0.05 s. DebugPanic (debug builds only)
//! panics on purpose and is never called.

#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::collections::HashMap;
use std::ffi::{c_int, c_long, c_ulong, c_void};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use webhook1c::abi::types::*;
use webhook1c::addin;

// The five exports, as the host finds them: the `#[no_mangle]` functions of
// src/exports.rs in the linked webhook1c library (used above, so linked).
extern "C" {
    fn GetClassNames() -> *const WChar;
    fn GetClassObject(name: *const WChar, object: *mut *mut c_void) -> c_long;
    fn DestroyObject(object: *mut *mut c_void) -> c_long;
    fn SetPlatformCapabilities(capabilities: c_int) -> c_int;
    fn GetAttachType() -> c_int;
}

/// Calls per session at most.
pub const MAX_OPS: usize = 48;
/// Parameters per call at most.
const MAX_PARAMS: usize = 10;
/// Bytes of "huge" string and blob buffers per session at most.
const HUGE_BUDGET: usize = 2 << 20;
/// The closed port every request goes to.
const PROXY: &str = "http://127.0.0.1:1";
/// WaitForDelivery waits at most this long.
const MAX_WAIT_SECONDS: f64 = 0.05;

// ---- counters and panics ---------------------------------------------------

static SESSIONS: AtomicU64 = AtomicU64::new(0);
static OBJECTS_CREATED: AtomicU64 = AtomicU64::new(0);
static OBJECTS_DESTROYED: AtomicU64 = AtomicU64::new(0);
static CALLS: AtomicU64 = AtomicU64::new(0);
static ADD_ERRORS: AtomicU64 = AtomicU64::new(0);
static HOST_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static HOST_FREES: AtomicU64 = AtomicU64::new(0);

/// What the sessions so far did, summed.
#[allow(dead_code)] // Read by the replay test only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub sessions: u64,
    pub objects_created: u64,
    pub objects_destroyed: u64,
    /// Entries of the object's vtables called.
    pub calls: u64,
    /// AddError calls the add-in made.
    pub add_errors: u64,
    /// AllocMemory calls that succeeded, and FreeMemory calls that freed a
    /// block (the add-in's and the harness's own).
    pub host_allocations: u64,
    pub host_frees: u64,
}

#[allow(dead_code)] // Used by the replay test only.
pub fn stats() -> Stats {
    Stats {
        sessions: SESSIONS.load(Ordering::SeqCst),
        objects_created: OBJECTS_CREATED.load(Ordering::SeqCst),
        objects_destroyed: OBJECTS_DESTROYED.load(Ordering::SeqCst),
        calls: CALLS.load(Ordering::SeqCst),
        add_errors: ADD_ERRORS.load(Ordering::SeqCst),
        host_allocations: HOST_ALLOCATIONS.load(Ordering::SeqCst),
        host_frees: HOST_FREES.load(Ordering::SeqCst),
    }
}

/// The folder of this process for QueueDirectory and LogFile.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("webhook1c-fuzz-{}", std::process::id()))
}

/// Panics seen anywhere in the process since the recorder was installed.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Replaces the add-in's panic hook (installed by its first GetClassObject)
/// with one that records every panic, so that a panic the add-in caught and
/// turned into an error still fails the session.
fn install_panic_recorder() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let text = format!(
                "panic on thread {:?}: {info}\n{}",
                thread.name().unwrap_or("?"),
                std::backtrace::Backtrace::force_capture()
            );
            eprintln!("{text}");
            lock(&PANICS).push(text);
            previous(info);
        }));
    });
}

fn assert_no_panics() {
    let panics = std::mem::take(&mut *lock(&PANICS));
    assert!(
        panics.is_empty(),
        "the add-in panicked ({} time(s)); first:\n{}",
        panics.len(),
        panics[0]
    );
}

// ---- the host's memory manager ----------------------------------------------

const BLOCK_ALIGN: usize = 16;

/// `IMemoryManager`: blocks from the Rust allocator (so ASan sees overruns),
/// each one recorded; a free of anything else is counted, not performed.
#[repr(C)]
struct HostMemory {
    vtable: *const MemoryManagerVtable,
    state: Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    /// Live blocks: address -> size in bytes.
    blocks: HashMap<usize, usize>,
    /// Allocations the add-in may still make before AllocMemory refuses.
    budget: Option<u32>,
    refused: u64,
    foreign_frees: u64,
    null_frees: u64,
}

static MEMORY_FULL: MemoryManagerVtable = MemoryManagerVtable {
    dtors: NO_DESTRUCTORS,
    alloc_memory: Some(alloc_memory),
    free_memory: Some(free_memory),
};
static MEMORY_NO_ALLOC: MemoryManagerVtable = MemoryManagerVtable {
    dtors: NO_DESTRUCTORS,
    alloc_memory: None,
    free_memory: Some(free_memory),
};
static MEMORY_NO_FREE: MemoryManagerVtable = MemoryManagerVtable {
    dtors: NO_DESTRUCTORS,
    alloc_memory: Some(alloc_memory),
    free_memory: None,
};

impl HostMemory {
    fn new(vtable: *const MemoryManagerVtable, budget: Option<u32>) -> Box<HostMemory> {
        Box::new(HostMemory {
            vtable,
            state: Mutex::new(MemoryState {
                budget,
                ..MemoryState::default()
            }),
        })
    }

    fn as_raw(&self) -> *mut c_void {
        (self as *const HostMemory).cast_mut().cast()
    }

    fn state(&self) -> MutexGuard<'_, MemoryState> {
        lock(&self.state)
    }

    /// A block for the harness itself (parameter buffers): never refused.
    fn host_alloc(&self, bytes: usize) -> *mut u8 {
        let layout =
            std::alloc::Layout::from_size_align(bytes.max(1), BLOCK_ALIGN).expect("a small layout");
        // SAFETY: the layout has a non-zero size.
        let block = unsafe { std::alloc::alloc(layout) };
        assert!(!block.is_null(), "out of memory");
        self.state().blocks.insert(block as usize, bytes.max(1));
        HOST_ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        block
    }

    /// Frees a block as the host does after a call; false if it is not ours.
    fn host_free(&self, block: *mut c_void) -> bool {
        if block.is_null() {
            return true;
        }
        let Some(size) = self.state().blocks.remove(&(block as usize)) else {
            self.state().foreign_frees += 1;
            return false;
        };
        let layout = std::alloc::Layout::from_size_align(size, BLOCK_ALIGN).expect("recorded");
        // SAFETY: the block was allocated by `host_alloc`/`alloc_memory`
        // with this layout and was still live.
        unsafe { std::alloc::dealloc(block.cast(), layout) };
        HOST_FREES.fetch_add(1, Ordering::SeqCst);
        true
    }

    fn block_size(&self, block: *const c_void) -> Option<usize> {
        self.state().blocks.get(&(block as usize)).copied()
    }

    fn live(&self) -> usize {
        self.state().blocks.len()
    }

    fn refused(&self) -> u64 {
        self.state().refused
    }

    /// A harness-owned copy of `units` (no terminator unless it is in them).
    fn wide(&self, units: &[u16]) -> *mut u16 {
        let block = self.host_alloc(units.len() * 2).cast::<u16>();
        // SAFETY: the block holds `units.len()` units (alignment 16).
        unsafe { ptr::copy_nonoverlapping(units.as_ptr(), block, units.len()) };
        block
    }

    fn narrow(&self, bytes: &[u8]) -> *mut u8 {
        let block = self.host_alloc(bytes.len());
        // SAFETY: the block holds `bytes.len()` bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), block, bytes.len()) };
        block
    }

    /// Frees the string or blob a variant holds, as 1C does when it is done
    /// with a parameter, a result or a property value.
    fn free_variant(&self, v: &mut TVariant) {
        if matches!(v.vt, VTYPE_PWSTR | VTYPE_BLOB | VTYPE_PSTR) {
            // SAFETY: for these types the pointer member is the buffer.
            let block = unsafe { v.value.ptr };
            assert!(
                self.host_free(block),
                "a variant (vt {}) holds a block the host did not allocate",
                v.vt
            );
            v.value.ptr = ptr::null_mut();
            v.vt = VTYPE_EMPTY;
        }
    }

    /// Checks a variant the add-in filled: a known type, and for a string or
    /// blob a live block large enough (strings NUL-terminated).
    fn check_filled(&self, v: &TVariant, what: &str) {
        match v.vt {
            VTYPE_EMPTY | VTYPE_NULL | VTYPE_BOOL | VTYPE_I4 | VTYPE_R8 | VTYPE_TM => {}
            VTYPE_PWSTR => {
                // SAFETY: vt says the wide string member is active.
                let s = unsafe { v.value.wstr };
                let size = self
                    .block_size(s.ptr.cast())
                    .unwrap_or_else(|| panic!("{what}: string not in a host block"));
                let len = s.len as usize;
                assert!(size >= (len + 1) * 2, "{what}: block too small");
                // SAFETY: the block holds len + 1 units.
                assert_eq!(unsafe { *s.ptr.add(len) }, 0, "{what}: no terminator");
            }
            VTYPE_BLOB => {
                // SAFETY: vt says the narrow member is active.
                let s = unsafe { v.value.str_ };
                let size = self
                    .block_size(s.ptr.cast())
                    .unwrap_or_else(|| panic!("{what}: blob not in a host block"));
                assert!(size >= s.len as usize, "{what}: block too small");
            }
            other => panic!("{what}: the add-in wrote vt {other}"),
        }
    }
}

impl Drop for HostMemory {
    fn drop(&mut self) {
        let blocks: Vec<usize> = self.state().blocks.keys().copied().collect();
        for block in blocks {
            self.host_free(block as *mut c_void);
        }
    }
}

/// # Safety
/// `this` is a live `HostMemory` (the add-in passes back what it was given).
unsafe fn memory<'a>(this: *mut c_void) -> &'a HostMemory {
    assert!(!this.is_null(), "a memory manager call with NULL this");
    // SAFETY: caller's guarantee.
    unsafe { &*this.cast::<HostMemory>() }
}

unsafe extern "system" fn alloc_memory(
    this: *mut c_void,
    out: *mut *mut c_void,
    size: c_ulong,
) -> bool {
    // SAFETY: the add-in calls us with the object it was given.
    let host = unsafe { memory(this) };
    assert!(!out.is_null(), "AllocMemory with a NULL out-pointer");
    {
        let mut state = host.state();
        if let Some(budget) = state.budget.as_mut() {
            if *budget == 0 {
                state.refused += 1;
                return false;
            }
            *budget -= 1;
        }
    }
    let size = usize::try_from(size).expect("c_ulong fits usize");
    assert!(size < 1 << 30, "AllocMemory of {size} bytes");
    let block = host.host_alloc(size);
    // Garbage, not zeroes: a missing terminator must show.
    // SAFETY: the block holds `size` bytes.
    unsafe { ptr::write_bytes(block, 0xA5, size) };
    // SAFETY: `out` is the add-in's non-NULL out-pointer.
    unsafe { *out = block.cast() };
    true
}

unsafe extern "system" fn free_memory(this: *mut c_void, block: *mut *mut c_void) {
    // SAFETY: the add-in calls us with the object it was given.
    let host = unsafe { memory(this) };
    if block.is_null() {
        host.state().null_frees += 1;
        return;
    }
    // SAFETY: `block` points to the add-in's pointer variable.
    let target = unsafe { *block };
    host.host_free(target);
    // SAFETY: as above; hosts clear the pointer after freeing.
    unsafe { *block = ptr::null_mut() };
}

// ---- the host's connection ------------------------------------------------------

/// `IAddInDefBaseEx`: records AddError texts and counts events. The add-in
/// may call ExternalEvent from its delivery threads, hence the lock.
#[repr(C)]
struct HostConnection {
    vtable: *const ConnectionVtable,
    state: Mutex<ConnectionState>,
}

#[derive(Default)]
struct ConnectionState {
    errors: Vec<(u16, String, String, c_long)>,
    events: u64,
    depth: c_long,
}

const FULL_CONNECTION: ConnectionVtable = ConnectionVtable {
    dtors: NO_DESTRUCTORS,
    add_error: Some(add_error),
    read: Some(read),
    write: Some(write),
    register_profile_as: Some(register_profile_as),
    set_event_buffer_depth: Some(set_event_buffer_depth),
    get_event_buffer_depth: Some(get_event_buffer_depth),
    external_event: Some(external_event),
    clean_event_buffer: Some(clean_event_buffer),
    set_status_line: Some(set_status_line),
    reset_status_line: Some(reset_status_line),
    get_interface: Some(get_interface),
};
static CONNECTION_FULL: ConnectionVtable = FULL_CONNECTION;
static CONNECTION_NO_ADD_ERROR: ConnectionVtable = ConnectionVtable {
    add_error: None,
    ..FULL_CONNECTION
};
static CONNECTION_NO_EVENTS: ConnectionVtable = ConnectionVtable {
    external_event: None,
    ..FULL_CONNECTION
};
static CONNECTION_EMPTY: ConnectionVtable = ConnectionVtable {
    dtors: NO_DESTRUCTORS,
    add_error: None,
    read: None,
    write: None,
    register_profile_as: None,
    set_event_buffer_depth: None,
    get_event_buffer_depth: None,
    external_event: None,
    clean_event_buffer: None,
    set_status_line: None,
    reset_status_line: None,
    get_interface: None,
};

impl HostConnection {
    fn new(vtable: *const ConnectionVtable) -> Box<HostConnection> {
        Box::new(HostConnection {
            vtable,
            state: Mutex::new(ConnectionState::default()),
        })
    }

    fn as_raw(&self) -> *mut c_void {
        (self as *const HostConnection).cast_mut().cast()
    }

    fn errors(&self) -> usize {
        lock(&self.state).errors.len()
    }

    fn has_add_error(&self) -> bool {
        // SAFETY: `vtable` is NULL or one of the statics above.
        !self.vtable.is_null() && unsafe { (*self.vtable).add_error.is_some() }
    }
}

/// # Safety
/// `this` is a live `HostConnection`.
unsafe fn connection<'a>(this: *mut c_void) -> &'a HostConnection {
    assert!(!this.is_null(), "a connection call with NULL this");
    // SAFETY: caller's guarantee.
    unsafe { &*this.cast::<HostConnection>() }
}

/// Reads a NUL-terminated string the add-in passed into a host call.
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn c16(p: *const WChar, what: &str) -> String {
    assert!(!p.is_null(), "{what}: NULL string");
    let mut units = Vec::new();
    loop {
        // SAFETY: the add-in's strings are NUL-terminated (caller).
        let unit = unsafe { *p.add(units.len()) };
        if unit == 0 {
            break;
        }
        units.push(unit);
        assert!(units.len() < 64 << 20, "{what}: no terminator");
    }
    String::from_utf16(&units).unwrap_or_else(|_| panic!("{what}: not UTF-16"))
}

unsafe extern "system" fn add_error(
    this: *mut c_void,
    wcode: u16,
    source: *const WChar,
    descr: *const WChar,
    scode: c_long,
) -> bool {
    // SAFETY: the add-in calls us with the object it was given.
    let host = unsafe { connection(this) };
    // SAFETY: the add-in passes NUL-terminated strings.
    let (source, descr) = unsafe { (c16(source, "AddError source"), c16(descr, "AddError")) };
    ADD_ERRORS.fetch_add(1, Ordering::SeqCst);
    lock(&host.state).errors.push((wcode, source, descr, scode));
    true
}

unsafe extern "system" fn read(
    _this: *mut c_void,
    _name: *mut WChar,
    _val: *mut TVariant,
    _err: *mut c_long,
    _descr: *mut *mut WChar,
) -> bool {
    false
}

unsafe extern "system" fn write(
    _this: *mut c_void,
    _name: *mut WChar,
    _val: *mut TVariant,
) -> bool {
    false
}

unsafe extern "system" fn register_profile_as(_this: *mut c_void, _name: *mut WChar) -> bool {
    true
}

unsafe extern "system" fn set_event_buffer_depth(this: *mut c_void, depth: c_long) -> bool {
    // SAFETY: the add-in calls us with the object it was given.
    lock(&unsafe { connection(this) }.state).depth = depth;
    true
}

unsafe extern "system" fn get_event_buffer_depth(this: *mut c_void) -> c_long {
    // SAFETY: as above.
    lock(&unsafe { connection(this) }.state).depth
}

unsafe extern "system" fn external_event(
    this: *mut c_void,
    source: *mut WChar,
    message: *mut WChar,
    data: *mut WChar,
) -> bool {
    // SAFETY: the add-in calls us with the object it was given, and passes
    // NUL-terminated strings.
    let host = unsafe { connection(this) };
    // SAFETY: as above.
    let (source, message, data) = unsafe {
        (
            c16(source, "event source"),
            c16(message, "event message"),
            c16(data, "event data"),
        )
    };
    assert_eq!(source, addin::events::EVENT_SOURCE);
    assert!(message == "Delivered" || message == "Failed", "{message}");
    assert!(data.starts_with('{'), "{data}");
    lock(&host.state).events += 1;
    true
}

unsafe extern "system" fn clean_event_buffer(_this: *mut c_void) {}

unsafe extern "system" fn set_status_line(_this: *mut c_void, _text: *mut WChar) -> bool {
    true
}

unsafe extern "system" fn reset_status_line(_this: *mut c_void) {}

unsafe extern "system" fn get_interface(_this: *mut c_void, _iface: c_int) -> *mut c_void {
    ptr::null_mut()
}

// ---- fuzz bytes -------------------------------------------------------------

/// Reads the input front to back; past the end every read is 0.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = self.pos.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.u8()) % items.len()]
    }

    /// A member or parameter number: mostly in range, sometimes one past
    /// the end, negative or extreme.
    fn number(&mut self, count: usize) -> c_long {
        let b = self.u8();
        let count = c_long::try_from(count).expect("a small table");
        if b < 0xE0 {
            return c_long::from(b) % (count + 1);
        }
        match b & 7 {
            0 => -1,
            1 => -c_long::from(self.u8()) - 2,
            2 => c_long::MIN,
            3 => c_long::MAX,
            4 => c_long::from(i32::MIN),
            5 => c_long::from(i32::MAX),
            6 => count + c_long::from(self.u8()),
            _ => c_long::from(self.u32() as i32),
        }
    }

    fn double(&mut self) -> f64 {
        const SPECIAL: [f64; 16] = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.05,
            30.0,
            1.0e9,
            1.0e9 + 1.0,
            9.0e15,
            2_958_465.999_99,
            -657_434.5,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        match self.u8() % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 | 4 => self.pick(&SPECIAL),
            5 => f64::from(self.u8() as i8),
            _ => f64::from_bits(self.u64()),
        }
    }

    fn int(&mut self) -> i64 {
        const SPECIAL: [i64; 10] = [
            0,
            1,
            -1,
            100,
            101,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
            (1 << 53) + 1,
        ];
        match self.u8() % 4 {
            0 | 1 => i64::from(self.u8() as i8),
            2 => self.pick(&SPECIAL),
            _ => self.u64() as i64,
        }
    }
}

/// Text the fuzzer would take long to find: URLs, JSON, header names,
/// methods, schedules, PEM markers, secrets, locales, surrogates.
const WORDS: &[&str] = &[
    "http://127.0.0.1:1/",
    "https://example.com/hook",
    "http://[::1]:1/x?token=abc#frag",
    "http://user:pw@127.0.0.1:1/",
    "ftp://x/",
    "http://",
    "socks5://127.0.0.1:1",
    "{}",
    "[]",
    "{\"a\":1}",
    "{\"X-Test\":\"1\",\"X-N\":2}",
    "\"",
    "{",
    "}",
    ":",
    ",",
    "null",
    "true",
    "1e999",
    "-0",
    "\\u0000",
    "\\ud800",
    "Content-Type",
    "Authorization",
    "X-Test",
    "\r\n",
    "GET",
    "POST",
    "PUT",
    "HEAD",
    "DELETE",
    "OPTIONS",
    "patch",
    "5,300",
    "0",
    "0,0",
    "-1",
    "1.5",
    "18446744073709551616",
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    "-----BEGIN PRIVATE KEY-----\n",
    "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    "whsec_",
    "msg_",
    "ru",
    "en",
    "ru_RU",
    "rus_RUS",
    "Привет",
    "😀",
    "\u{feff}",
    " ",
    "\t",
    "application/json",
];

/// Values of the kind each parameter takes, for calls that get past the
/// type checks.
fn plausible_words(param: &str) -> Option<&'static [&'static str]> {
    Some(match param {
        "URL" => &[
            "http://127.0.0.1:1/hook",
            "https://example.com/hook",
            "http://[::1]:1/x?token=abc#frag",
            "http://user:pw@example.com/",
            "ftp://example.com/",
        ],
        "Json" => &["{}", "[]", "{\"a\":1}", "\"text\"", "null", "{"],
        "Body" => &["{}", "text", ""],
        "Headers" => &[
            "",
            "{\"X-Test\":\"1\",\"X-N\":2}",
            "{\"Content-Type\":\"text/plain\"}",
            "{\"Bad Name\":\"1\"}",
            "[]",
        ],
        "ContentType" => &["", "application/json", "text/plain; charset=utf-8"],
        "Method" => &[
            "GET", "POST", "put", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE",
        ],
        "MessageId" => &["", "order-1", "msg_2", "id with space", "é"],
        "Name" => &["X-Test", "Content-Type", "Authorization", "webhook-id", ""],
        "Value" => &["1", "Bearer x", "", "a\r\nb"],
        _ => return None,
    })
}

/// Fills for huge buffers.
const FILLS: &[u16] = &[
    b'a' as u16,
    b' ' as u16,
    b'{' as u16,
    0,
    0xD800,
    0xDC00,
    0x044F,
    0xFFFF,
];

/// A name the add-in looks up: `Some` with the member's index when the
/// lookup must find it.
struct Name {
    units: Option<Vec<u16>>,
    expect: Option<usize>,
}

// ---- the component ----------------------------------------------------------

/// The host's view of one component: four vtable pointers at `raw`.
struct Object {
    raw: *mut c_void,
}

const INIT_DONE: usize = 0;
const EXTENDER: usize = 1;
const LOCALE: usize = 2;
const USER_LANGUAGE: usize = 3;

impl Object {
    /// `this` of base `k`: object + k·P.
    fn this(&self, base: usize) -> *mut c_void {
        self.raw
            .cast::<u8>()
            .wrapping_add(base * std::mem::size_of::<usize>())
            .cast()
    }

    fn vtable<V>(&self, base: usize) -> &'static V {
        // SAFETY: a live component starts with four vtable pointers, each to
        // a static vtable of the base's type.
        unsafe { &**self.this(base).cast::<*const V>() }
    }

    fn init_done(&self) -> &'static InitDoneVtable {
        self.vtable(INIT_DONE)
    }

    fn ext(&self) -> &'static LanguageExtenderVtable {
        self.vtable(EXTENDER)
    }
}

/// Member numbers the session needs to know.
struct Indices {
    proxy: c_long,
    retry_count: c_long,
    timeout: c_long,
    connect_timeout: c_long,
    queue_directory: c_long,
    log_file: c_long,
    wait_for_delivery: c_long,
    debug_panic: c_long,
}

struct Session<'a> {
    input: Input<'a>,
    object: Object,
    memory: Box<HostMemory>,
    connection: Box<HostConnection>,
    /// The add-in holds our connection (Init succeeded, no Done since).
    connected: bool,
    /// The add-in holds a working memory manager.
    has_memory: bool,
    indices: Indices,
    huge_bytes: usize,
    n_props: usize,
    n_methods: usize,
}

fn wide_nul(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

fn zeroed() -> TVariant {
    // SAFETY: all-zero bytes are a valid TVariant: integers, NULL pointers
    // and VTYPE_EMPTY.
    unsafe { std::mem::zeroed() }
}

/// Runs one session from `data`. Panics when the add-in breaks a rule.
pub fn run_one(data: &[u8]) {
    run_session(data, false);
}

/// Runs the tour: one session of a well-behaved host that calls every
/// entry for every member of the table in both languages, each method with
/// arguments of the kinds it takes, with the same checks as [`run_one`].
#[allow(dead_code)] // Used by the replay test only.
pub fn run_tour() {
    run_session(&[], true);
}

/// A session; zero bytes (and so the empty input) mean a well-behaved host:
/// Init, then setMemManager, both with complete objects.
fn run_session(data: &[u8], tour: bool) {
    SESSIONS.fetch_add(1, Ordering::SeqCst);
    let mut input = Input { data, pos: 0 };
    let setup = input.u8();

    // SAFETY: the exports take no pointers.
    let names = unsafe { GetClassNames() };
    assert!(!names.is_null());
    // SAFETY: GetClassNames returns a static NUL-terminated string.
    assert_eq!(unsafe { c16(names, "GetClassNames") }, addin::CLASS_NAME);
    if setup & 0x80 != 0 {
        let level = input.u32() as c_int;
        // SAFETY: as above.
        unsafe {
            assert_eq!(SetPlatformCapabilities(level), APP_CAPABILITIES_LAST);
            assert_eq!(GetAttachType(), ATTACH_ANY);
        }
    }

    let Some(raw) = create(&mut input) else {
        assert_no_panics();
        return;
    };
    install_panic_recorder();

    let memory_kind = input.u8();
    let budget = (memory_kind & 0x10 != 0).then(|| u32::from(memory_kind >> 5));
    let memory_vtable: *const MemoryManagerVtable = match memory_kind % 8 {
        5 => &MEMORY_NO_ALLOC,
        6 => &MEMORY_NO_FREE,
        7 => ptr::null(),
        _ => &MEMORY_FULL,
    };
    let connection_vtable: *const ConnectionVtable = match input.u8() % 10 {
        6 => &CONNECTION_NO_ADD_ERROR,
        7 => &CONNECTION_NO_EVENTS,
        8 => &CONNECTION_EMPTY,
        9 => ptr::null(),
        _ => &CONNECTION_FULL,
    };
    let mut session = Session {
        input,
        object: Object { raw },
        memory: HostMemory::new(memory_vtable, budget),
        connection: HostConnection::new(connection_vtable),
        connected: false,
        has_memory: false,
        indices: Indices {
            proxy: -1,
            retry_count: -1,
            timeout: -1,
            connect_timeout: -1,
            queue_directory: -1,
            log_file: -1,
            wait_for_delivery: -1,
            debug_panic: -1,
        },
        huge_bytes: 0,
        n_props: addin::properties().len(),
        n_methods: addin::methods().len(),
    };
    session.look_up_indices();
    // The documented order is Init first; some hosts set the memory manager
    // first.
    if setup & 1 == 0 {
        session.init(setup & 2 != 0);
        session.set_mem_manager(setup & 4 != 0);
    } else {
        session.set_mem_manager(setup & 4 != 0);
        session.init(setup & 2 != 0);
    }
    if setup & 8 != 0 {
        session.register_extension();
    }

    if tour {
        session.tour();
    }
    let mut ops = 0;
    while !session.input.is_empty() && ops < MAX_OPS {
        session.step();
        ops += 1;
    }

    let Session {
        object,
        memory,
        connection,
        ..
    } = session;
    let mut raw = object.raw;
    if setup & 0x40 == 0 {
        // SAFETY: a live component.
        unsafe { (object.init_done().done)(object.this(INIT_DONE)) };
    }
    // SAFETY: `raw` is the host's pointer to a live component.
    assert_eq!(unsafe { DestroyObject(&mut raw) }, 0);
    assert!(raw.is_null(), "DestroyObject clears the host's pointer");
    OBJECTS_DESTROYED.fetch_add(1, Ordering::SeqCst);
    // The object is gone: no event may reach the connection any more.
    drop(connection);
    {
        let state = memory.state();
        assert_eq!(state.foreign_frees, 0, "FreeMemory of a foreign block");
        assert_eq!(state.null_frees, 0, "FreeMemory with a NULL pointer");
    }
    assert_eq!(memory.live(), 0, "host blocks leaked");
    drop(memory);
    assert_no_panics();
}

/// GetClassObject with a fuzzed class name; the object when it succeeded.
fn create(input: &mut Input) -> Option<*mut c_void> {
    let choice = input.u8();
    let (name, expect): (Option<Vec<u16>>, bool) = match choice % 16 {
        0..=7 => (Some(wide_nul("Client")), true),
        8 => (Some(wide_nul("client")), true),
        9 => (Some(wide_nul("CLIENT")), true),
        10 => (Some(wide_nul(" Client")), false),
        11 => (Some(wide_nul("Other")), false),
        12 => (Some(wide_nul("")), false),
        13 => (None, false),
        14 => {
            // Longer than the add-in reads: no terminator in its window.
            let mut units = vec![u16::from(b'C'); 1500];
            units.push(0);
            (Some(units), false)
        }
        _ => (Some(vec![0xD800, 0]), false),
    };
    let name_ptr = name.as_ref().map_or(ptr::null(), |n| n.as_ptr());
    if choice & 0x10 != 0 {
        // SAFETY: a valid name or NULL, and a NULL out-pointer.
        assert_eq!(unsafe { GetClassObject(name_ptr, ptr::null_mut()) }, 0);
    }
    let mut raw: *mut c_void = ptr::null_mut();
    // SAFETY: a NUL-terminated name (or NULL) and a valid out-pointer.
    let created = unsafe { GetClassObject(name_ptr, &mut raw) };
    if !expect {
        assert_eq!(created, 0, "GetClassObject accepted a wrong class name");
        assert!(raw.is_null());
        // SAFETY: NULL and a pointer to NULL are refused by contract.
        unsafe {
            assert_eq!(DestroyObject(ptr::null_mut()), -1);
            assert_eq!(DestroyObject(&mut raw), -1);
        }
        return None;
    }
    assert_eq!(created, 1);
    assert!(!raw.is_null());
    OBJECTS_CREATED.fetch_add(1, Ordering::SeqCst);
    Some(raw)
}

impl Session<'_> {
    fn call(&self) {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    fn find(&self, base_method: bool, name: &str) -> c_long {
        let units = wide_nul(name);
        self.call();
        let ext = self.object.ext();
        let f = if base_method {
            ext.find_method
        } else {
            ext.find_prop
        };
        // SAFETY: a live component and a NUL-terminated name.
        unsafe { f(self.object.this(EXTENDER), units.as_ptr()) }
    }

    fn look_up_indices(&mut self) {
        self.indices = Indices {
            proxy: self.find(false, "Proxy"),
            retry_count: self.find(false, "RetryCount"),
            timeout: self.find(false, "Timeout"),
            connect_timeout: self.find(false, "ConnectTimeout"),
            queue_directory: self.find(false, "QueueDirectory"),
            log_file: self.find(false, "LogFile"),
            wait_for_delivery: self.find(true, "WaitForDelivery"),
            // Debug builds only; -1 otherwise.
            debug_panic: self.find(true, "DebugPanic"),
        };
        let i = &self.indices;
        for (n, name) in [
            (i.proxy, "Proxy"),
            (i.retry_count, "RetryCount"),
            (i.timeout, "Timeout"),
            (i.connect_timeout, "ConnectTimeout"),
            (i.queue_directory, "QueueDirectory"),
            (i.log_file, "LogFile"),
            (i.wait_for_delivery, "WaitForDelivery"),
        ] {
            assert!(n >= 0, "{name} not found");
        }
    }

    fn init(&mut self, null: bool) {
        let disp = if null {
            ptr::null_mut()
        } else {
            self.connection.as_raw()
        };
        self.call();
        // SAFETY: a live component; `disp` is our connection or NULL.
        let ok = unsafe { (self.object.init_done().init)(self.object.this(INIT_DONE), disp) };
        let usable = !null && !self.connection.vtable.is_null();
        assert_eq!(ok, usable, "Init");
        self.connected = usable;
    }

    fn set_mem_manager(&mut self, null: bool) {
        let mem = if null {
            ptr::null_mut()
        } else {
            self.memory.as_raw()
        };
        self.call();
        // SAFETY: a live component; `mem` is our memory manager or NULL.
        let ok =
            unsafe { (self.object.init_done().set_mem_manager)(self.object.this(INIT_DONE), mem) };
        let usable = !null && ptr::eq(self.memory.vtable, &MEMORY_FULL);
        assert_eq!(ok, usable, "setMemManager");
        self.has_memory = usable;
    }

    fn register_extension(&mut self) {
        let null = self.input.u8() % 8 == 7;
        let mut name: *mut WChar = ptr::null_mut();
        let out = if null {
            ptr::null_mut()
        } else {
            &mut name as *mut *mut WChar
        };
        let refused = self.memory.refused();
        self.call();
        // SAFETY: a live component; `out` is valid or NULL.
        let ok =
            unsafe { (self.object.ext().register_extension_as)(self.object.this(EXTENDER), out) };
        if null {
            assert!(!ok);
            return;
        }
        if ok {
            assert_eq!(
                self.take_name(name.cast_const(), "RegisterExtensionAs"),
                addin::CLASS_NAME
            );
        } else {
            assert!(name.is_null());
            assert!(!self.has_memory || self.memory.refused() > refused);
        }
    }

    /// Checks and frees a name the add-in allocated.
    fn take_name(&self, p: *const WChar, what: &str) -> String {
        let size = self
            .memory
            .block_size(p.cast())
            .unwrap_or_else(|| panic!("{what}: not a host block"));
        let units = size / 2;
        // SAFETY: the block holds `size` bytes.
        let all = unsafe { std::slice::from_raw_parts(p, units) };
        let end = all
            .iter()
            .position(|&u| u == 0)
            .unwrap_or_else(|| panic!("{what}: no terminator in the block"));
        let text = String::from_utf16(&all[..end]).expect("UTF-16");
        assert!(self.memory.host_free(p.cast_mut().cast()));
        text
    }

    /// Every entry for every member, in English and then in Russian.
    fn tour(&mut self) {
        let methods = addin::methods();
        for lang in ["en", "ru"] {
            let code = wide_nul(lang);
            self.call();
            let v: &UserLanguageVtable = self.object.vtable(USER_LANGUAGE);
            // SAFETY: a live component and a NUL-terminated code.
            unsafe {
                (v.set_user_interface_language_code)(self.object.this(USER_LANGUAGE), code.as_ptr())
            };
            self.register_extension();
            self.counts();
            for i in 0..self.n_props as c_long + 1 {
                self.member_name_with(false, i, 0);
                self.member_name_with(false, i, 1);
                self.prop_access_with(i);
                self.get_prop_val_with(i, false, None);
            }
            for i in 0..self.n_methods as c_long + 1 {
                self.member_name_with(true, i, 0);
                self.member_name_with(true, i, 1);
                self.n_params_and_ret_with(i);
                for param in 0..7 {
                    self.param_def_value_with(i, param, false);
                }
            }
            // Each method with arguments of its kinds (every listed value of
            // each parameter in turn), then with none (the defaults).
            for (i, m) in methods.iter().enumerate() {
                let num = i as c_long;
                if num == self.indices.debug_panic {
                    continue;
                }
                for k in 0..8 {
                    let params: Vec<TVariant> = m
                        .params
                        .iter()
                        .map(|p| match plausible_words(p.en) {
                            Some(words) => {
                                self.plausible_value(words, k, p.en == "Body" && k % 2 == 1)
                            }
                            None => Self::number_variant(0),
                        })
                        .collect();
                    self.call_with(num, m.returns, params, 2);
                }
                self.call_with(num, m.returns, Vec::new(), 2);
                self.call_with(num, !m.returns, Vec::new(), 2);
            }
            // Every property set to a value of each kind, then read back.
            for i in 0..self.n_props as c_long {
                let values = [
                    self.string_variant(""),
                    self.string_variant("1"),
                    self.string_variant("http://127.0.0.1:1"),
                    Self::number_variant(1),
                    Self::number_variant(-1),
                    {
                        let mut v = zeroed();
                        v.vt = VTYPE_BOOL;
                        v.value.u8_ = 1;
                        v
                    },
                    zeroed(),
                ];
                for value in values {
                    self.set_prop_val_with(i, false, value);
                }
                self.get_prop_val_with(i, false, None);
            }
        }
    }

    /// One fuzzed call.
    fn step(&mut self) {
        let op = self.input.u8();
        match op % 24 {
            0 => self.register_extension(),
            1 => self.counts(),
            2 | 3 => self.find_member(op.is_multiple_of(2)),
            4 => self.member_name(false),
            5 => self.member_name(true),
            6 | 7 => self.get_prop_val(),
            8 | 9 => self.set_prop_val(),
            10 => self.prop_access(),
            11 => self.n_params_and_ret(),
            12 => self.param_def_value(),
            13..=15 => self.call_method(false),
            16..=18 => self.call_method(true),
            19 => self.language(false),
            20 => self.language(true),
            21 => self.null_this(),
            22 => {
                let null = self.input.u8().is_multiple_of(4);
                if self.input.bool() {
                    self.init(null);
                } else {
                    self.set_mem_manager(null);
                }
            }
            _ => {
                self.call();
                // SAFETY: a live component.
                unsafe { (self.object.init_done().done)(self.object.this(INIT_DONE)) };
                self.connected = false;
            }
        }
    }

    fn counts(&self) {
        let ext = self.object.ext();
        let this = self.object.this(EXTENDER);
        self.call();
        // SAFETY: a live component.
        unsafe {
            assert_eq!((ext.get_n_props)(this), self.n_props as c_long);
            assert_eq!((ext.get_n_methods)(this), self.n_methods as c_long);
            assert_eq!(
                (self.object.init_done().get_info)(self.object.this(INIT_DONE)),
                COMPONENT_INFO
            );
        }
    }

    /// A fuzzed name: a member's name in some case, or fuzzed text.
    fn name(&mut self, methods: bool) -> Name {
        let choice = self.input.u8();
        match choice % 8 {
            0..=2 => {
                let count = if methods {
                    self.n_methods
                } else {
                    self.n_props
                };
                let i = usize::from(self.input.u8()) % count;
                let (en, ru) = if methods {
                    let m = addin::methods()[i];
                    (m.en, m.ru)
                } else {
                    let p = &addin::properties()[i];
                    (p.en, p.ru)
                };
                let base = if choice & 8 != 0 { ru } else { en };
                let (text, exact) = match (choice >> 4) % 6 {
                    0 => (base.to_string(), true),
                    1 => (base.to_uppercase(), true),
                    2 => (base.to_lowercase(), true),
                    3 => (format!("  {base} "), true),
                    4 => (format!("{base}x"), false),
                    _ => (base.chars().rev().collect(), false),
                };
                Name {
                    units: Some(wide_nul(&text)),
                    expect: exact.then_some(i),
                }
            }
            3 => Name {
                units: None,
                expect: None,
            },
            4 => {
                // Longer than the add-in reads, or exactly at its limit.
                let len = [1023usize, 1024, 1025, 4000][usize::from(choice >> 3) % 4];
                let mut units = vec![u16::from(b'a'); len];
                units.push(0);
                Name {
                    units: Some(units),
                    expect: None,
                }
            }
            _ => {
                let mut units = self.text(24);
                units.retain(|&u| u != 0);
                units.push(0);
                Name {
                    units: Some(units),
                    expect: None,
                }
            }
        }
    }

    /// Up to `pieces` pieces of fuzzed UTF-16: words, raw units, surrogates.
    fn text(&mut self, pieces: usize) -> Vec<u16> {
        let n = usize::from(self.input.u8()) % (pieces + 1);
        let mut units = Vec::new();
        for _ in 0..n {
            let b = self.input.u8();
            match b % 8 {
                0..=3 => units.extend(self.input.pick(WORDS).encode_utf16()),
                4 => units.push(self.input.u16()),
                5 => units.push(0xD800 | (self.input.u16() & 0x7FF)),
                6 => units.extend(
                    self.input
                        .bytes(usize::from(b >> 3))
                        .iter()
                        .map(|&b| u16::from(b)),
                ),
                _ => units.push(u16::from(b >> 3) + u16::from(b'0')),
            }
        }
        units
    }

    fn find_member(&mut self, methods: bool) {
        let name = self.name(methods);
        let count = if methods {
            self.n_methods
        } else {
            self.n_props
        };
        let ext = self.object.ext();
        let f = if methods {
            ext.find_method
        } else {
            ext.find_prop
        };
        let p = name.units.as_ref().map_or(ptr::null(), |u| u.as_ptr());
        self.call();
        // SAFETY: a live component and a NUL-terminated name or NULL.
        let found = unsafe { f(self.object.this(EXTENDER), p) };
        assert!(found >= -1 && found < count as c_long, "{found}");
        if let Some(i) = name.expect {
            assert_eq!(found, i as c_long, "lookup of a member's own name");
        }
    }

    fn member_name(&mut self, methods: bool) {
        let count = if methods {
            self.n_methods
        } else {
            self.n_props
        };
        let num = self.input.number(count);
        let alias = match self.input.u8() % 4 {
            0 => 0,
            1 => 1,
            2 => -1,
            _ => c_long::from(self.input.u32() as i32),
        };
        self.member_name_with(methods, num, alias);
    }

    fn member_name_with(&mut self, methods: bool, num: c_long, alias: c_long) {
        let count = if methods {
            self.n_methods
        } else {
            self.n_props
        };
        let ext = self.object.ext();
        let f = if methods {
            ext.get_method_name
        } else {
            ext.get_prop_name
        };
        let refused = self.memory.refused();
        self.call();
        // SAFETY: a live component.
        let p = unsafe { f(self.object.this(EXTENDER), num, alias) };
        let index = usize::try_from(num).ok().filter(|&i| i < count);
        match index {
            None => assert!(p.is_null(), "a name for member {num}"),
            Some(i) if !p.is_null() => {
                let (en, ru) = if methods {
                    (addin::methods()[i].en, addin::methods()[i].ru)
                } else {
                    (addin::properties()[i].en, addin::properties()[i].ru)
                };
                let expected = if alias == 1 { ru } else { en };
                assert_eq!(self.take_name(p, "member name"), expected);
            }
            Some(_) => assert!(
                !self.has_memory || self.memory.refused() > refused,
                "no name for an existing member"
            ),
        }
    }

    /// Checks the AddError rule after a call that reports failures.
    fn check_report(&self, ok: bool, errors_before: usize, what: &str) {
        let errors = lock(&self.connection.state);
        let new = &errors.errors[errors_before..];
        if !self.connected || !self.connection.has_add_error() {
            assert!(new.is_empty(), "{what}: AddError without a connection");
            return;
        }
        if ok {
            assert!(new.is_empty(), "{what} succeeded but reported {new:?}");
        } else {
            assert_eq!(new.len(), 1, "{what} failed: one AddError expected");
            let (wcode, source, descr, scode) = &new[0];
            assert_eq!(*wcode, ADDIN_E_FAIL);
            assert_eq!(source, addin::ERROR_SOURCE);
            assert!(!descr.trim().is_empty(), "{what}: empty error text");
            assert_ne!(*scode, 0);
        }
    }

    fn get_prop_val(&mut self) {
        let num = self.input.number(self.n_props);
        let null = self.input.u8() % 8 == 7;
        let prefill = self
            .input
            .bool()
            .then(|| (self.input.u64(), self.input.u32()));
        self.get_prop_val_with(num, null, prefill);
    }

    fn get_prop_val_with(&mut self, num: c_long, null: bool, prefill: Option<(u64, u32)>) {
        let mut val = zeroed();
        if let Some((bits, cb)) = prefill {
            // A cell that is not zeroed: the add-in must overwrite it all.
            val.vt = VTYPE_I4;
            val.value.u64_ = bits;
            val.cb_elements = cb;
        }
        let out = if null {
            ptr::null_mut()
        } else {
            &mut val as *mut TVariant
        };
        let before = self.connection.errors();
        self.call();
        // SAFETY: a live component; `out` is valid or NULL.
        let ok = unsafe { (self.object.ext().get_prop_val)(self.object.this(EXTENDER), num, out) };
        self.check_report(ok, before, "GetPropVal");
        if ok {
            assert!(!null);
            self.memory.check_filled(&val, "GetPropVal");
            self.memory.free_variant(&mut val);
        } else if !null && matches!(val.vt, VTYPE_PWSTR | VTYPE_BLOB) {
            // A failed call left a value anyway: still ours to free.
            self.memory.check_filled(&val, "GetPropVal (failed)");
            self.memory.free_variant(&mut val);
        }
    }

    fn set_prop_val(&mut self) {
        let num = self.input.number(self.n_props);
        let null = self.input.u8() % 10 == 9;
        let val = self.variant();
        self.set_prop_val_with(num, null, val);
    }

    fn set_prop_val_with(&mut self, num: c_long, null: bool, mut val: TVariant) -> bool {
        let p = if null {
            ptr::null_mut()
        } else {
            &mut val as *mut TVariant
        };
        let before = self.connection.errors();
        self.call();
        // SAFETY: a live component; a well-formed variant or NULL.
        let ok = unsafe { (self.object.ext().set_prop_val)(self.object.this(EXTENDER), num, p) };
        self.check_report(ok, before, "SetPropVal");
        self.memory.free_variant(&mut val);
        ok
    }

    fn prop_access(&mut self) {
        let num = self.input.number(self.n_props);
        self.prop_access_with(num);
    }

    fn prop_access_with(&self, num: c_long) {
        let ext = self.object.ext();
        let this = self.object.this(EXTENDER);
        self.call();
        // SAFETY: a live component.
        let (readable, writable) = unsafe {
            (
                (ext.is_prop_readable)(this, num),
                (ext.is_prop_writable)(this, num),
            )
        };
        match usize::try_from(num).ok().filter(|&i| i < self.n_props) {
            Some(i) => {
                let p = &addin::properties()[i];
                assert_eq!((readable, writable), (p.get.is_some(), p.set.is_some()));
            }
            None => assert!(!readable && !writable),
        }
    }

    fn n_params_and_ret(&mut self) {
        let num = self.input.number(self.n_methods);
        self.n_params_and_ret_with(num);
    }

    fn n_params_and_ret_with(&self, num: c_long) {
        let ext = self.object.ext();
        let this = self.object.this(EXTENDER);
        self.call();
        // SAFETY: a live component.
        let (n, ret) = unsafe { ((ext.get_n_params)(this, num), (ext.has_ret_val)(this, num)) };
        match usize::try_from(num).ok().filter(|&i| i < self.n_methods) {
            Some(i) => {
                let m = addin::methods()[i];
                assert_eq!((n, ret), (m.params.len() as c_long, m.returns));
            }
            None => assert_eq!((n, ret), (0, false)),
        }
    }

    fn param_def_value(&mut self) {
        let num = self.input.number(self.n_methods);
        let param = self.input.number(6);
        let null = self.input.u8() % 8 == 7;
        self.param_def_value_with(num, param, null);
    }

    fn param_def_value_with(&mut self, num: c_long, param: c_long, null: bool) {
        let mut val = zeroed();
        let out = if null {
            ptr::null_mut()
        } else {
            &mut val as *mut TVariant
        };
        self.call();
        // SAFETY: a live component; `out` is valid or NULL.
        let ok = unsafe {
            (self.object.ext().get_param_def_value)(self.object.this(EXTENDER), num, param, out)
        };
        if ok {
            assert!(!null);
            self.memory.check_filled(&val, "GetParamDefValue");
            self.memory.free_variant(&mut val);
        } else if !null {
            assert!(
                !matches!(val.vt, VTYPE_PWSTR | VTYPE_BLOB),
                "a failed GetParamDefValue left a string"
            );
        }
    }

    fn language(&mut self, user_language: bool) {
        let name = self.name(false);
        let code = if self.input.bool() {
            Some(wide_nul(
                self.input.pick(&["ru", "en", "ru_RU", "rus_RUS", "uk", ""]),
            ))
        } else {
            name.units
        };
        let p = code.as_ref().map_or(ptr::null(), |u| u.as_ptr());
        self.call();
        // SAFETY: a live component and a NUL-terminated string or NULL.
        unsafe {
            if user_language {
                let v: &UserLanguageVtable = self.object.vtable(USER_LANGUAGE);
                (v.set_user_interface_language_code)(self.object.this(USER_LANGUAGE), p);
            } else {
                let v: &LocaleVtable = self.object.vtable(LOCALE);
                (v.set_locale)(self.object.this(LOCALE), p);
            }
        }
    }

    /// An entry called with `this == NULL` gives its failure value.
    fn null_this(&mut self) {
        let null = ptr::null_mut();
        let ext = self.object.ext();
        let mut val = zeroed();
        let mut name: *mut WChar = ptr::null_mut();
        let units = wide_nul("Proxy");
        self.call();
        // SAFETY: NULL `this` is refused by every entry; the other pointers
        // are valid.
        unsafe {
            match self.input.u8() % 8 {
                0 => assert!(!(self.object.init_done().init)(
                    null,
                    self.connection.as_raw()
                )),
                1 => assert_eq!((self.object.init_done().get_info)(null), 0),
                2 => assert!(!(ext.register_extension_as)(null, &mut name)),
                3 => assert_eq!((ext.find_prop)(null, units.as_ptr()), -1),
                4 => assert!((ext.get_prop_name)(null, 0, 0).is_null()),
                5 => assert!(!(ext.get_prop_val)(null, 0, &mut val)),
                6 => assert!(!(ext.call_as_func)(null, 0, &mut val, ptr::null_mut(), 0)),
                _ => {
                    let v: &LocaleVtable = self.object.vtable(LOCALE);
                    (v.set_locale)(null, units.as_ptr());
                    (self.object.init_done().done)(null);
                }
            }
        }
        assert!(name.is_null());
        assert_eq!(val.vt, VTYPE_EMPTY);
    }

    // ---- variants ---------------------------------------------------------

    /// A fuzzed tVariant of any type; strings and blobs in host blocks.
    fn variant(&mut self) -> TVariant {
        const KNOWN: [u16; 22] = [
            VTYPE_EMPTY,
            VTYPE_NULL,
            VTYPE_I2,
            VTYPE_I4,
            VTYPE_R4,
            VTYPE_R8,
            VTYPE_DATE,
            VTYPE_TM,
            VTYPE_PSTR,
            VTYPE_ERROR,
            VTYPE_BOOL,
            VTYPE_I1,
            VTYPE_UI1,
            VTYPE_UI2,
            VTYPE_UI4,
            VTYPE_I8,
            VTYPE_UI8,
            VTYPE_INT,
            VTYPE_UINT,
            VTYPE_HRESULT,
            VTYPE_PWSTR,
            VTYPE_BLOB,
        ];
        // Types with a pointer member the add-in must not follow.
        const POINTER_TYPES: [u16; 7] = [9, 12, 24, 0x1000 | 22, 0x2000 | 12, 0x4000 | 3, 0x0FFF];
        let mut v = zeroed();
        let sel = self.input.u8();
        v.vt = match sel % 40 {
            0..=21 => KNOWN[usize::from(sel % 40)],
            22..=31 => VTYPE_PWSTR,
            32..=33 => VTYPE_BLOB,
            34 | 35 => self.input.pick(&POINTER_TYPES),
            36 => 0xFFFF,
            37 => 0x8000 | u16::from(self.input.u8()),
            _ => self.input.u16(),
        };
        if sel & 0x80 != 0 {
            v.cb_elements = self.input.u32();
        }
        match v.vt {
            VTYPE_EMPTY | VTYPE_NULL => {
                if self.input.bool() {
                    v.value.u64_ = self.input.u64();
                }
            }
            VTYPE_BOOL | VTYPE_I1 | VTYPE_UI1 => v.value.u8_ = self.input.u8(),
            VTYPE_I2 | VTYPE_UI2 => v.value.u16_ = self.input.int() as u16,
            VTYPE_I4 | VTYPE_INT | VTYPE_ERROR | VTYPE_HRESULT | VTYPE_UI4 | VTYPE_UINT => {
                v.value.i32_ = self.input.int() as i32
            }
            VTYPE_I8 | VTYPE_UI8 => v.value.i64_ = self.input.int(),
            VTYPE_R4 => v.value.f32_ = self.input.double() as f32,
            VTYPE_R8 | VTYPE_DATE => v.value.f64_ = self.input.double(),
            VTYPE_TM => v.value.tm = self.tm(),
            VTYPE_PWSTR => v.value.wstr = self.wide_payload(),
            VTYPE_BLOB | VTYPE_PSTR => v.value.str_ = self.narrow_payload(),
            vt if POINTER_TYPES.contains(&vt) => {}
            _ => v.value.u32_ = self.input.u32(),
        }
        v
    }

    fn tm(&mut self) -> Tm {
        const FIELDS: [c_int; 12] = [0, -1, 1, 11, 12, 13, 31, 32, 59, 60, c_int::MIN, c_int::MAX];
        let field = |input: &mut Input| match input.u8() % 3 {
            0 => input.pick(&FIELDS),
            1 => c_int::from(input.u8()),
            _ => input.u32() as c_int,
        };
        static ZONE: &[u8] = b"UTC\0";
        Tm {
            tm_sec: field(&mut self.input),
            tm_min: field(&mut self.input),
            tm_hour: field(&mut self.input),
            tm_mday: field(&mut self.input),
            tm_mon: field(&mut self.input),
            tm_year: match self.input.u8() % 4 {
                0 => 124,
                1 => -1900,
                _ => field(&mut self.input),
            },
            tm_wday: field(&mut self.input),
            tm_yday: field(&mut self.input),
            tm_isdst: field(&mut self.input),
            #[cfg(not(windows))]
            tm_gmtoff: self.input.u64() as c_long,
            #[cfg(not(windows))]
            tm_zone: if self.input.bool() {
                ZONE.as_ptr().cast()
            } else {
                ptr::null()
            },
        }
    }

    /// The size of a huge buffer, in elements, if the budget allows.
    fn huge(&mut self, element: usize) -> Option<usize> {
        let n = 1usize << (12 + self.input.u8() % 7); // 4 K .. 256 K
        let bytes = n * element;
        (self.huge_bytes + bytes <= HUGE_BUDGET).then(|| {
            self.huge_bytes += bytes;
            n
        })
    }

    fn wide_payload(&mut self) -> PtrLen<WChar> {
        let mode = self.input.u8();
        let (units, len): (Vec<u16>, Option<u32>) = match mode % 12 {
            0 => {
                return PtrLen {
                    ptr: ptr::null_mut(),
                    len: 0,
                }
            }
            1 => {
                // NULL with a length: the pointer wins.
                let len = self.input.pick(&[1, 7, 0x7FFF_FFFF, u32::MAX]);
                return PtrLen {
                    ptr: ptr::null_mut(),
                    len,
                };
            }
            2 => (vec![0xA5A5], Some(0)),
            3 => match self.huge(2) {
                Some(n) => {
                    let fill = self.input.pick(FILLS);
                    let cut = u32::from(self.input.u8()) % 3;
                    (vec![fill; n], Some(n as u32 - cut))
                }
                None => (self.text(8), None),
            },
            4 => {
                // A length shorter than the buffer, which holds no terminator.
                let units = self.text(16);
                let len = (units.len() as u32).saturating_sub(u32::from(self.input.u8() % 4));
                (units, Some(len))
            }
            5 => {
                // The terminator counted in the length, and embedded NULs.
                let mut units = self.text(8);
                units.insert(units.len() / 2, 0);
                units.push(0);
                (units, None)
            }
            6 | 7 => (self.input.pick(WORDS).encode_utf16().collect(), None),
            _ => (self.text(16), None),
        };
        let len = len.unwrap_or(units.len() as u32);
        PtrLen {
            ptr: self.memory.wide(&units),
            len,
        }
    }

    fn narrow_payload(&mut self) -> PtrLen<std::ffi::c_char> {
        let mode = self.input.u8();
        let (bytes, len): (Vec<u8>, Option<u32>) = match mode % 8 {
            0 => {
                return PtrLen {
                    ptr: ptr::null_mut(),
                    len: 0,
                }
            }
            1 => {
                return PtrLen {
                    ptr: ptr::null_mut(),
                    len: self.input.pick(&[1, 0x7FFF_FFFF, u32::MAX]),
                }
            }
            2 => (vec![0xA5], Some(0)),
            3 => match self.huge(1) {
                Some(n) => (vec![self.input.u8(); n], None),
                None => (Vec::new(), None),
            },
            4 => {
                let units = self.text(8);
                (String::from_utf16_lossy(&units).into_bytes(), None)
            }
            _ => {
                let n = usize::from(self.input.u8() % 64);
                (self.input.bytes(n).to_vec(), None)
            }
        };
        let len = len.unwrap_or(bytes.len() as u32);
        PtrLen {
            ptr: self.memory.narrow(&bytes).cast(),
            len,
        }
    }

    // ---- methods ----------------------------------------------------------

    /// Sets a property through SetPropVal, as the 1C code would; it must work.
    fn force(&mut self, num: c_long, mut value: TVariant, what: &str) {
        let before = self.connection.errors();
        self.call();
        // SAFETY: a live component and a well-formed variant.
        let ok = unsafe {
            (self.object.ext().set_prop_val)(self.object.this(EXTENDER), num, &mut value)
        };
        assert!(ok, "setting {what} failed");
        self.check_report(ok, before, what);
        self.memory.free_variant(&mut value);
    }

    fn string_variant(&self, text: &str) -> TVariant {
        let units: Vec<u16> = text.encode_utf16().collect();
        let mut v = zeroed();
        v.vt = VTYPE_PWSTR;
        v.value.wstr = PtrLen {
            ptr: self.memory.wide(&units),
            len: units.len() as u32,
        };
        v
    }

    fn number_variant(n: i32) -> TVariant {
        let mut v = zeroed();
        v.vt = VTYPE_I4;
        v.value.i32_ = n;
        v
    }

    /// Keeps the next call off the network and short.
    fn fence(&mut self) {
        let i = &self.indices;
        let (proxy, retry, timeout, connect, queue, log) = (
            i.proxy,
            i.retry_count,
            i.timeout,
            i.connect_timeout,
            i.queue_directory,
            i.log_file,
        );
        let dir = scratch_dir();
        let proxy_value = self.string_variant(PROXY);
        self.force(proxy, proxy_value, "Proxy");
        self.force(retry, Self::number_variant(0), "RetryCount");
        self.force(timeout, Self::number_variant(1), "Timeout");
        self.force(connect, Self::number_variant(1), "ConnectTimeout");
        let queue_value = self.string_variant(&dir.to_string_lossy());
        self.force(queue, queue_value, "QueueDirectory");
        let log_value = if self.input.u8().is_multiple_of(4) {
            self.string_variant(&dir.join("audit.log").to_string_lossy())
        } else {
            self.string_variant("")
        };
        self.force(log, log_value, "LogFile");
    }

    /// WaitForDelivery gets an explicit number of at most 0.05 s (a missing
    /// or Undefined argument would mean its default of 30 s).
    fn clamp_wait(params: &mut Vec<TVariant>) {
        if params.is_empty() {
            params.push(zeroed());
        }
        let v = &mut params[0];
        // SAFETY: each arm reads the member `vt` names.
        let number = unsafe {
            match v.vt {
                VTYPE_EMPTY => Some(0.0),
                VTYPE_I1 => Some(f64::from(v.value.i8_)),
                VTYPE_I2 => Some(f64::from(v.value.i16_)),
                VTYPE_I4 | VTYPE_INT | VTYPE_ERROR | VTYPE_HRESULT => Some(f64::from(v.value.i32_)),
                VTYPE_UI1 => Some(f64::from(v.value.u8_)),
                VTYPE_UI2 => Some(f64::from(v.value.u16_)),
                VTYPE_UI4 | VTYPE_UINT => Some(f64::from(v.value.u32_)),
                VTYPE_I8 => Some(v.value.i64_ as f64),
                VTYPE_UI8 => Some(v.value.u64_ as f64),
                VTYPE_R4 => Some(f64::from(v.value.f32_)),
                VTYPE_R8 => Some(v.value.f64_),
                _ => None,
            }
        };
        if let Some(n) = number.filter(|n| *n > MAX_WAIT_SECONDS || v.vt == VTYPE_EMPTY) {
            let seconds = if n.is_finite() {
                n.rem_euclid(MAX_WAIT_SECONDS)
            } else {
                MAX_WAIT_SECONDS
            };
            *v = zeroed();
            v.vt = VTYPE_R8;
            v.value.f64_ = seconds;
        }
    }

    /// A value of the kind the parameter named `param` takes.
    fn plausible(&mut self, param: &str) -> TVariant {
        if param == "TimeoutSeconds" {
            return Self::number_variant(0);
        }
        let Some(words) = plausible_words(param) else {
            return self.variant();
        };
        let k = usize::from(self.input.u8());
        let blob = param == "Body" && self.input.bool();
        self.plausible_value(words, k, blob)
    }

    /// The `k`-th of `words` (cyclically), as a String or as BinaryData.
    fn plausible_value(&self, words: &[&str], k: usize, blob: bool) -> TVariant {
        let word = words[k % words.len()];
        if blob {
            let mut v = zeroed();
            v.vt = VTYPE_BLOB;
            v.value.str_ = PtrLen {
                ptr: self.memory.narrow(word.as_bytes()).cast(),
                len: word.len() as u32,
            };
            return v;
        }
        self.string_variant(word)
    }

    fn call_method(&mut self, as_func: bool) {
        let num = self.input.number(self.n_methods);
        if num == self.indices.debug_panic {
            return;
        }
        let shape = self.input.u8();
        let count = usize::from(shape % 16).min(MAX_PARAMS);
        let declared = usize::try_from(num)
            .ok()
            .and_then(|i| addin::methods().get(i))
            .map(|m| m.params);
        let mut params: Vec<TVariant> = Vec::with_capacity(count);
        for i in 0..count {
            // Arguments of the kind each parameter wants, so that calls get
            // past the type checks; or anything at all.
            let param = declared
                .and_then(|d| d.get(i))
                .filter(|_| shape & 0x10 == 0);
            let v = match param {
                Some(p) if self.input.u8() % 4 != 3 => self.plausible(p.en),
                _ => self.variant(),
            };
            params.push(v);
        }
        self.call_with(num, as_func, params, shape >> 5);
    }

    /// CallAsFunc or CallAsProc of method `num` with `params`; `layout` 0
    /// passes NULL with their count, 1 a negative count, else the array.
    fn call_with(&mut self, num: c_long, as_func: bool, mut params: Vec<TVariant>, layout: u8) {
        if num == self.indices.wait_for_delivery {
            Self::clamp_wait(&mut params);
        }
        let (p, n): (*mut TVariant, c_long) = match layout {
            // NULL with a count: the add-in takes no parameters.
            0 if num != self.indices.wait_for_delivery => (ptr::null_mut(), params.len() as c_long),
            // A negative count reads as none.
            1 if num != self.indices.wait_for_delivery => (params.as_mut_ptr(), -1),
            _ if params.is_empty() => (ptr::null_mut(), 0),
            _ => (params.as_mut_ptr(), params.len() as c_long),
        };
        self.fence();
        let mut ret = zeroed();
        let ret_null = as_func && self.input.u8() % 8 == 7;
        let before = self.connection.errors();
        self.call();
        let ext = self.object.ext();
        let this = self.object.this(EXTENDER);
        // SAFETY: a live component; `p` holds `n` well-formed variants (or
        // is NULL, or `n` is negative), `ret` is valid or NULL.
        let ok = unsafe {
            if as_func {
                let r = if ret_null {
                    ptr::null_mut()
                } else {
                    &mut ret as *mut TVariant
                };
                (ext.call_as_func)(this, num, r, p, n)
            } else {
                (ext.call_as_proc)(this, num, p, n)
            }
        };
        self.check_report(
            ok,
            before,
            if as_func { "CallAsFunc" } else { "CallAsProc" },
        );
        if ok && as_func && !ret_null {
            self.memory.check_filled(&ret, "CallAsFunc");
        }
        self.memory.free_variant(&mut ret);
        // In/out parameters: whatever each slot holds now is the host's to
        // free (the add-in freed any buffer it replaced).
        for v in &mut params {
            self.memory.free_variant(v);
        }
    }
}
