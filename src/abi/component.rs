//! The component object the host holds: four vtable pointers (one per base
//! interface, in the host's order) followed by our state. The host calls base
//! `k` with `this = object + k * P`; each entry recovers the object, checks it
//! and runs inside the panic guard.

use std::ffi::{c_long, c_void};
use std::mem::offset_of;
use std::sync::{Arc, Mutex, MutexGuard};

use super::connection::Connection;
use super::guard::guard;
use super::memory::MemoryManager;
use super::strings::read_name;
use super::types::*;
use super::variant;
use crate::addin::{self, Member, Object, Outcome, ReturnFailure};
use crate::host::{wstr, Value};

/// Marks a live component; checked on every call so that a stale or foreign
/// pointer is refused instead of used.
const MAGIC: u64 = 0x5745_4248_4f4f_4b31; // "WEBHOOK1"

#[repr(C)]
pub struct Component {
    init_done: *const InitDoneVtable,
    language_extender: *const LanguageExtenderVtable,
    locale: *const LocaleVtable,
    user_language: *const UserLanguageVtable,
    magic: u64,
    state: Mutex<State>,
}

struct State {
    memory: Option<MemoryManager>,
    connection: Option<Connection>,
    object: Object,
}

// Base subobject offsets: 0, P, 2P, 3P.
const INIT_DONE: usize = offset_of!(Component, init_done);
const LANGUAGE_EXTENDER: usize = offset_of!(Component, language_extender);
const LOCALE: usize = offset_of!(Component, locale);
const USER_LANGUAGE: usize = offset_of!(Component, user_language);
const _: () = {
    let p = std::mem::size_of::<usize>();
    assert!(INIT_DONE == 0 && LANGUAGE_EXTENDER == p && LOCALE == 2 * p && USER_LANGUAGE == 3 * p);
};

impl Component {
    /// A new component on the heap, as the raw `IComponentBase*` the host
    /// keeps. Freed by [`Component::destroy`].
    pub fn create() -> *mut c_void {
        let component = Box::new(Component {
            init_done: &INIT_DONE_VTABLE,
            language_extender: &LANGUAGE_EXTENDER_VTABLE,
            locale: &LOCALE_VTABLE,
            user_language: &USER_LANGUAGE_VTABLE,
            magic: MAGIC,
            state: Mutex::new(State {
                memory: None,
                connection: None,
                object: Object::new(),
            }),
        });
        Box::into_raw(component).cast()
    }

    /// Frees a component made by [`Component::create`]. Returns false for a
    /// pointer that is not a live component.
    ///
    /// # Safety
    /// `object` is NULL or a pointer the host got from `create`, not used
    /// after this call.
    pub unsafe fn destroy(object: *mut c_void) -> bool {
        // SAFETY: caller's guarantee; checked for NULL and the magic.
        let Some(component) = (unsafe { from_this(object, INIT_DONE) }) else {
            return false;
        };
        let raw = (component as *const Component).cast_mut();
        // SAFETY: `raw` came from Box::into_raw in `create`. The magic is
        // cleared so that a stale copy of the pointer that the allocator has
        // not reused yet fails the check; DestroyObject also sets the host's
        // pointer to NULL, which is what stops a second destroy.
        unsafe {
            (*raw).magic = 0;
            drop(Box::from_raw(raw));
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A caught panic may have poisoned the lock; the state stays usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Recovers the component from the `this` of base interface at `offset`.
///
/// # Safety
/// `this` is NULL or the host's `this` for that base of a component.
unsafe fn from_this<'a>(this: *mut c_void, offset: usize) -> Option<&'a Component> {
    if this.is_null() {
        return None;
    }
    // SAFETY: the host passes object + offset for this base, so subtracting
    // gives the object start, which holds a Component while it is alive.
    let component = unsafe { &*this.cast::<u8>().sub(offset).cast::<Component>() };
    (component.magic == MAGIC).then_some(component)
}

/// Runs `f` on the component behind `this` inside the panic guard;
/// `failure` if the pointer is not a live component or anything panics.
fn with<R: Copy>(
    this: *mut c_void,
    offset: usize,
    failure: R,
    f: impl FnOnce(&Component) -> R,
) -> R {
    guard(failure, || {
        // SAFETY: entry points hand over the host's `this` for the base at
        // `offset` unchanged; `from_this` checks NULL and the magic.
        match unsafe { from_this(this, offset) } {
            Some(component) => f(component),
            None => failure,
        }
    })
}

impl State {
    /// Hands `outcome` back to the host: rewritten in/out parameters into
    /// `slots`, the value into `ret`; on failure raises the text through
    /// AddError and answers false.
    fn hand_back(
        &mut self,
        member: Member,
        outcome: Outcome,
        ret: Option<&mut TVariant>,
        slots: &mut [TVariant],
    ) -> bool {
        if let Some(text) = &outcome.error {
            self.raise(text);
            return false;
        }
        match self.write_back(&outcome, ret, slots) {
            Ok(()) => true,
            Err(why) => {
                let text = self.object.return_failed(member, why);
                self.raise(&text);
                false
            }
        }
    }

    fn write_back(
        &self,
        outcome: &Outcome,
        ret: Option<&mut TVariant>,
        slots: &mut [TVariant],
    ) -> Result<(), ReturnFailure> {
        for (i, value) in &outcome.written {
            // A defaulted parameter the host did not pass has no slot.
            let Some(slot) = slots.get_mut(*i) else {
                continue;
            };
            let memory = self.memory.ok_or(ReturnFailure::NoMemoryManager)?;
            // SAFETY: the slot holds the host's value, whose buffer is
            // host-allocated; it is freed before being replaced.
            unsafe { variant::replace(slot, value, &memory) }
                .map_err(|_| ReturnFailure::TooLarge)?;
        }
        match (ret, &outcome.value) {
            (Some(out), Some(value)) => self.write(out, value),
            _ => Ok(()),
        }
    }

    fn write(&self, out: &mut TVariant, value: &Value) -> Result<(), ReturnFailure> {
        let memory = self.memory.ok_or(ReturnFailure::NoMemoryManager)?;
        variant::write(out, value, &memory).map_err(|_| ReturnFailure::TooLarge)
    }

    /// AddError with `text`: the host raises it in the 1C code when the
    /// call returns false.
    fn raise(&self, text: &str) {
        if let Some(connection) = &self.connection {
            connection.add_error(ADDIN_E_FAIL, addin::ERROR_SOURCE, text, 1);
        }
    }

    /// A host-allocated copy of a member's name, or NULL when there is no
    /// such member.
    fn member_name(&self, name: Option<&str>) -> *const WChar {
        name.map_or(std::ptr::null(), |name| self.host_string(name))
    }

    /// A host-allocated NUL-terminated copy of `text`, or NULL.
    fn host_string(&self, text: &str) -> *mut WChar {
        match self.memory.and_then(|m| m.alloc_wstr(&wstr::encode(text))) {
            Some(block) => block.as_ptr(),
            None => std::ptr::null_mut(),
        }
    }
}

/// A member index from the host; a negative one names no member.
fn index(num: c_long) -> usize {
    usize::try_from(num).unwrap_or(usize::MAX)
}

fn count(n: usize) -> c_long {
    c_long::try_from(n).unwrap_or(c_long::MAX)
}

/// Reads a NUL-terminated name the host passed (a member name or a locale).
fn host_name(ptr: *const WChar) -> Option<String> {
    // SAFETY: the host passes NUL-terminated strings; read_name stops at
    // the NUL or its length limit.
    unsafe { read_name(ptr) }
}

// ---- IInitDoneBase ---------------------------------------------------------

static INIT_DONE_VTABLE: InitDoneVtable = InitDoneVtable {
    dtors: NO_DESTRUCTORS,
    init,
    set_mem_manager,
    get_info,
    done,
};

unsafe extern "system" fn init(this: *mut c_void, disp: *mut c_void) -> bool {
    with(this, INIT_DONE, false, |c| {
        // SAFETY: `disp` is the host's connection object (or NULL), alive
        // until Done.
        let connection = unsafe { Connection::from_raw(disp) };
        if let Some(connection) = &connection {
            // C `long`: i64 on Linux x86_64, i32 on Windows (no conversion there).
            #[allow(clippy::useless_conversion)]
            let depth = c_long::from(crate::addin::EVENT_BUFFER_DEPTH);
            if !connection.raise_event_buffer(depth) {
                log::warn!(
                    "the host did not raise its event buffer; outcome events may be dropped"
                );
            }
        }
        let mut state = c.lock();
        state.connection = connection;
        let sink = connection.map(|c| Arc::new(c) as Arc<dyn crate::host::EventSink>);
        state.object.set_event_sink(sink);
        connection.is_some()
    })
}

unsafe extern "system" fn set_mem_manager(this: *mut c_void, mem: *mut c_void) -> bool {
    with(this, INIT_DONE, false, |c| {
        // SAFETY: `mem` is the host's memory manager (or NULL), alive while
        // the object is.
        let memory = unsafe { MemoryManager::from_raw(mem) };
        c.lock().memory = memory;
        memory.is_some()
    })
}

unsafe extern "system" fn get_info(this: *mut c_void) -> c_long {
    with(this, INIT_DONE, 0, |_| COMPONENT_INFO)
}

unsafe extern "system" fn done(this: *mut c_void) {
    with(this, INIT_DONE, (), |c| {
        // The host's objects may go away after Done: forget them.
        let mut state = c.lock();
        state.connection = None;
        state.object.set_event_sink(None);
    })
}

// ---- ILanguageExtenderBase -------------------------------------------------

static LANGUAGE_EXTENDER_VTABLE: LanguageExtenderVtable = LanguageExtenderVtable {
    dtors: NO_DESTRUCTORS,
    register_extension_as,
    get_n_props,
    find_prop,
    get_prop_name,
    get_prop_val,
    set_prop_val,
    is_prop_readable,
    is_prop_writable,
    get_n_methods,
    find_method,
    get_method_name,
    get_n_params,
    get_param_def_value,
    has_ret_val,
    call_as_proc,
    call_as_func,
};

unsafe extern "system" fn register_extension_as(this: *mut c_void, name: *mut *mut WChar) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |c| {
        if name.is_null() {
            return false;
        }
        let block = c.lock().host_string(addin::CLASS_NAME);
        // SAFETY: `name` is the host's non-NULL out-pointer.
        unsafe { *name = block };
        !block.is_null()
    })
}

unsafe extern "system" fn get_n_props(this: *mut c_void) -> c_long {
    with(this, LANGUAGE_EXTENDER, 0, |_| {
        count(addin::property_count())
    })
}

unsafe extern "system" fn find_prop(this: *mut c_void, name: *const WChar) -> c_long {
    with(this, LANGUAGE_EXTENDER, -1, |_| {
        host_name(name)
            .and_then(|n| addin::find_property(&n))
            .map_or(-1, count)
    })
}

unsafe extern "system" fn get_prop_name(
    this: *mut c_void,
    num: c_long,
    alias: c_long,
) -> *const WChar {
    with(this, LANGUAGE_EXTENDER, std::ptr::null(), |c| {
        c.lock()
            .member_name(addin::property_name(index(num), index(alias)))
    })
}

unsafe extern "system" fn get_prop_val(this: *mut c_void, num: c_long, val: *mut TVariant) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |c| {
        let mut state = c.lock();
        let member = Member::Property(index(num));
        // SAFETY: `val` is the host's variant for the result (or NULL).
        let Some(out) = (unsafe { val.as_mut() }) else {
            let text = state.object.return_failed(member, ReturnFailure::NoVariant);
            state.raise(&text);
            return false;
        };
        let outcome = state.object.get_property(index(num));
        state.hand_back(member, outcome, Some(out), &mut [])
    })
}

unsafe extern "system" fn set_prop_val(this: *mut c_void, num: c_long, val: *mut TVariant) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |c| {
        // SAFETY: `val` is the host's well-formed variant (or NULL).
        let value = unsafe { val.as_ref() }.map_or(Value::Empty, |v| unsafe { variant::read(v) });
        let mut state = c.lock();
        let outcome = state.object.set_property(index(num), value);
        state.hand_back(Member::Property(index(num)), outcome, None, &mut [])
    })
}

unsafe extern "system" fn is_prop_readable(this: *mut c_void, num: c_long) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |_| {
        addin::is_readable(index(num))
    })
}

unsafe extern "system" fn is_prop_writable(this: *mut c_void, num: c_long) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |_| {
        addin::is_writable(index(num))
    })
}

unsafe extern "system" fn get_n_methods(this: *mut c_void) -> c_long {
    with(this, LANGUAGE_EXTENDER, 0, |_| count(addin::method_count()))
}

unsafe extern "system" fn find_method(this: *mut c_void, name: *const WChar) -> c_long {
    with(this, LANGUAGE_EXTENDER, -1, |_| {
        host_name(name)
            .and_then(|n| addin::find_method(&n))
            .map_or(-1, count)
    })
}

unsafe extern "system" fn get_method_name(
    this: *mut c_void,
    num: c_long,
    alias: c_long,
) -> *const WChar {
    with(this, LANGUAGE_EXTENDER, std::ptr::null(), |c| {
        c.lock()
            .member_name(addin::method_name(index(num), index(alias)))
    })
}

unsafe extern "system" fn get_n_params(this: *mut c_void, num: c_long) -> c_long {
    with(this, LANGUAGE_EXTENDER, 0, |_| {
        count(addin::param_count(index(num)))
    })
}

unsafe extern "system" fn get_param_def_value(
    this: *mut c_void,
    num: c_long,
    param: c_long,
    val: *mut TVariant,
) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |c| {
        let Some(default) = addin::param_default(index(num), index(param)) else {
            return false;
        };
        // SAFETY: `val` is the host's variant (or NULL).
        let Some(out) = (unsafe { val.as_mut() }) else {
            return false;
        };
        c.lock().write(out, &default).is_ok()
    })
}

unsafe extern "system" fn has_ret_val(this: *mut c_void, num: c_long) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |_| {
        addin::has_return(index(num))
    })
}

unsafe extern "system" fn call_as_proc(
    this: *mut c_void,
    num: c_long,
    params: *mut TVariant,
    n: c_long,
) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |c| {
        // SAFETY: the host's parameter array of `n` variants (NULL if n == 0).
        unsafe { call(c, num, std::ptr::null_mut(), params, n) }
    })
}

unsafe extern "system" fn call_as_func(
    this: *mut c_void,
    num: c_long,
    ret: *mut TVariant,
    params: *mut TVariant,
    n: c_long,
) -> bool {
    with(this, LANGUAGE_EXTENDER, false, |c| {
        // SAFETY: as in call_as_proc; `ret` is the host's result variant.
        unsafe { call(c, num, ret, params, n) }
    })
}

/// The shared body of CallAsProc and CallAsFunc.
///
/// # Safety
/// `params` points to `n` well-formed variants (or is NULL with n == 0);
/// `ret` is NULL or the host's result variant.
unsafe fn call(
    c: &Component,
    num: c_long,
    ret: *mut TVariant,
    params: *mut TVariant,
    n: c_long,
) -> bool {
    let given = usize::try_from(n).unwrap_or(0);
    let slots: &mut [TVariant] = if given == 0 || params.is_null() {
        &mut []
    } else {
        // SAFETY: caller's guarantee: `n` variants at `params`.
        unsafe { std::slice::from_raw_parts_mut(params, given) }
    };
    // SAFETY: each slot is a well-formed host variant.
    let values: Vec<Value> = slots.iter().map(|v| unsafe { variant::read(v) }).collect();
    let mut state = c.lock();
    let outcome = state.object.call(index(num), values);
    // SAFETY: `ret` is the host's result variant or NULL (CallAsProc).
    let ret = unsafe { ret.as_mut() };
    state.hand_back(Member::Method(index(num)), outcome, ret, slots)
}

// ---- LocaleBase and UserLanguageBase ---------------------------------------

static LOCALE_VTABLE: LocaleVtable = LocaleVtable {
    dtors: NO_DESTRUCTORS,
    set_locale,
};

static USER_LANGUAGE_VTABLE: UserLanguageVtable = UserLanguageVtable {
    dtors: NO_DESTRUCTORS,
    set_user_interface_language_code,
};

unsafe extern "system" fn set_locale(this: *mut c_void, loc: *const WChar) {
    // Only our texts follow the locale; the process locale is left alone.
    with(this, LOCALE, (), |c| {
        if let Some(locale) = host_name(loc) {
            c.lock().object.set_locale(&locale);
        }
    })
}

unsafe extern "system" fn set_user_interface_language_code(this: *mut c_void, lang: *const WChar) {
    with(this, USER_LANGUAGE, (), |c| {
        if let Some(code) = host_name(lang) {
            c.lock().object.set_interface_language(&code);
        }
    })
}
