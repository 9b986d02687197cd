//! `tVariant` <-> [`Value`]. Reading copies everything out of host memory;
//! writing allocates strings and blobs through the host's memory manager.
//! `replace` frees the buffer an in/out parameter held before overwriting it.

use std::ffi::c_int;

use super::memory::MemoryManager;
use super::types::*;
use crate::host::{DateTime, Value};

/// Writing failed: the host's allocator refused, or the value is too large
/// for a `tVariant` (lengths are 32-bit).
#[derive(Debug)]
pub struct WriteError;

/// Copies the value out of a variant the host filled.
///
/// # Safety
/// `v` is a valid `tVariant` whose pointer members (by `vt`) point to
/// readable memory of the stated length.
pub unsafe fn read(v: &TVariant) -> Value {
    // SAFETY: `vt` says which union member is active, and the caller
    // guarantees the variant (and the memory its pointers name) is valid.
    unsafe {
        match v.vt {
            VTYPE_EMPTY => Value::Empty,
            VTYPE_NULL => Value::Null,
            VTYPE_BOOL => Value::Bool(v.value.u8_ != 0),
            VTYPE_I1 => Value::Int(v.value.i8_.into()),
            VTYPE_I2 => Value::Int(v.value.i16_.into()),
            VTYPE_I4 | VTYPE_INT | VTYPE_ERROR | VTYPE_HRESULT => Value::Int(v.value.i32_.into()),
            VTYPE_UI1 => Value::Int(v.value.u8_.into()),
            VTYPE_UI2 => Value::Int(v.value.u16_.into()),
            VTYPE_UI4 | VTYPE_UINT => Value::Int(v.value.u32_.into()),
            VTYPE_I8 => Value::Int(v.value.i64_),
            VTYPE_UI8 => match i64::try_from(v.value.u64_) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Double(v.value.u64_ as f64),
            },
            VTYPE_R4 => Value::Double(v.value.f32_.into()),
            VTYPE_R8 => Value::Double(v.value.f64_),
            VTYPE_DATE => Value::Date(from_ole_date(v.value.f64_)),
            VTYPE_TM => Value::Date(from_tm(&v.value.tm)),
            VTYPE_PWSTR => {
                let s = v.value.wstr;
                Value::Str(copy_slice(s.ptr, s.len))
            }
            VTYPE_BLOB => {
                let s = v.value.str_;
                Value::Blob(copy_slice(s.ptr.cast::<u8>(), s.len))
            }
            VTYPE_PSTR => {
                let s = v.value.str_;
                let bytes = copy_slice(s.ptr.cast::<u8>(), s.len);
                Value::string(&String::from_utf8_lossy(&bytes))
            }
            other => Value::Unsupported(other),
        }
    }
}

/// # Safety
/// `ptr` is NULL or points to `len` readable elements.
unsafe fn copy_slice<T: Copy>(ptr: *const T, len: u32) -> Vec<T> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: caller's guarantee.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }.to_vec()
}

/// Fills a variant the host zeroed (a result, a property value, a default).
/// Strings and blobs are allocated through `mem`.
pub fn write(v: &mut TVariant, value: &Value, mem: &MemoryManager) -> Result<(), WriteError> {
    v.cb_elements = 0;
    match value {
        Value::Empty | Value::Unsupported(_) => set(v, VTYPE_EMPTY, VariantValue { i64_: 0 }),
        Value::Null => set(v, VTYPE_NULL, VariantValue { i64_: 0 }),
        Value::Bool(b) => {
            set(v, VTYPE_BOOL, VariantValue { i64_: 0 });
            v.value.b = *b;
        }
        Value::Int(i) => match i32::try_from(*i) {
            Ok(small) => {
                set(v, VTYPE_I4, VariantValue { i64_: 0 });
                v.value.i32_ = small;
            }
            Err(_) => set(v, VTYPE_R8, VariantValue { f64_: *i as f64 }),
        },
        Value::Double(d) => set(v, VTYPE_R8, VariantValue { f64_: *d }),
        Value::Date(d) => set(v, VTYPE_TM, VariantValue { tm: to_tm(d) }),
        Value::Str(units) => {
            let len = u32::try_from(units.len()).map_err(|_| WriteError)?;
            let block = mem.alloc_wstr(units).ok_or(WriteError)?;
            set(
                v,
                VTYPE_PWSTR,
                VariantValue {
                    wstr: PtrLen {
                        ptr: block.as_ptr(),
                        len,
                    },
                },
            );
        }
        Value::Blob(bytes) => {
            let len = u32::try_from(bytes.len()).map_err(|_| WriteError)?;
            let block = mem.alloc_bytes(bytes).ok_or(WriteError)?;
            set(
                v,
                VTYPE_BLOB,
                VariantValue {
                    str_: PtrLen {
                        ptr: block.as_ptr().cast(),
                        len,
                    },
                },
            );
        }
    }
    Ok(())
}

/// Overwrites an in/out parameter: the buffer it held (host-allocated) is
/// freed through the host first, then the new value is written.
///
/// # Safety
/// `v` holds a well-formed value whose string/blob buffer came from the
/// host's allocator.
pub unsafe fn replace(
    v: &mut TVariant,
    value: &Value,
    mem: &MemoryManager,
) -> Result<(), WriteError> {
    if matches!(v.vt, VTYPE_PWSTR | VTYPE_BLOB | VTYPE_PSTR) {
        // SAFETY: for these types the pointer member is the buffer (caller's
        // guarantee about its origin); it is not used after this.
        unsafe { mem.free(v.value.ptr) };
    }
    set(v, VTYPE_EMPTY, VariantValue { i64_: 0 });
    write(v, value, mem)
}

fn set(v: &mut TVariant, vt: u16, value: VariantValue) {
    // Clear the whole union first so no stale bytes of a larger member stay.
    // SAFETY: writing zeroes over plain data is always valid for this union.
    v.value = unsafe { std::mem::zeroed() };
    v.value = value;
    v.vt = vt;
}

fn from_tm(tm: &Tm) -> DateTime {
    let clamp = |x: c_int, lo: u32, hi: u32| (x.max(0) as u32).clamp(lo, hi);
    DateTime {
        year: tm.tm_year.saturating_add(1900),
        month: clamp(tm.tm_mon.saturating_add(1), 1, 12),
        day: clamp(tm.tm_mday, 1, 31),
        hour: clamp(tm.tm_hour, 0, 23),
        minute: clamp(tm.tm_min, 0, 59),
        second: clamp(tm.tm_sec, 0, 60),
    }
}

fn to_tm(d: &DateTime) -> Tm {
    let days = days_from_civil(d.year, d.month, d.day);
    let year_start = days_from_civil(d.year, 1, 1);
    Tm {
        tm_sec: d.second as c_int,
        tm_min: d.minute as c_int,
        tm_hour: d.hour as c_int,
        tm_mday: d.day as c_int,
        tm_mon: d.month as c_int - 1,
        tm_year: d.year - 1900,
        // 1970-01-01 was a Thursday (4).
        tm_wday: (days + 4).rem_euclid(7) as c_int,
        tm_yday: (days - year_start) as c_int,
        tm_isdst: 0,
        #[cfg(not(windows))]
        tm_gmtoff: 0,
        #[cfg(not(windows))]
        tm_zone: std::ptr::null(),
    }
}

/// OLE automation date: days since 1899-12-30, fraction = time of day.
fn from_ole_date(date: f64) -> DateTime {
    if !date.is_finite() {
        return civil_from_days(-25569, 0);
    }
    let date = date.clamp(-657_434.0, 2_958_465.0);
    let days = date.floor();
    let seconds = ((date - days) * 86_400.0).round() as i64;
    civil_from_days(
        days as i64 - 25_569 + seconds / 86_400,
        (seconds % 86_400) as u32,
    )
}

fn civil_from_days(days_since_epoch: i64, seconds: u32) -> DateTime {
    let (year, month, day) = crate::calendar::civil_from_days(days_since_epoch);
    DateTime {
        year: i32::try_from(year).unwrap_or(i32::MAX),
        month,
        day,
        hour: seconds / 3600,
        minute: seconds / 60 % 60,
        second: seconds % 60,
    }
}

fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    crate::calendar::days_from_civil(year.into(), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ole_dates_convert() {
        let d = from_ole_date(45_292.5); // 2024-01-01 12:00
        assert_eq!((d.year, d.month, d.day, d.hour), (2024, 1, 1, 12));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        let tm = to_tm(&DateTime {
            year: 2024,
            month: 3,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        });
        assert_eq!((tm.tm_yday, tm.tm_wday), (60, 5)); // leap year; a Friday
        assert_eq!(from_tm(&tm).month, 3);
    }
}
