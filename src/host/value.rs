//! `Value`: what a `tVariant` carries, owned and safe. Parameters arrive as
//! values, results leave as values; `abi::variant` is the only converter.

/// A calendar date and time as 1C passes it (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// One 1C value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `Неопределено` / Undefined (VTYPE_EMPTY).
    Empty,
    /// `NULL`.
    Null,
    Bool(bool),
    /// An integral number (I1..I8, UI1..UI8 that fit).
    Int(i64),
    /// A number with a fraction, or one too large for `Int`.
    Double(f64),
    Date(DateTime),
    /// A String, as UTF-16 code units exactly as the host gave them (a lone
    /// surrogate is kept so that the add-in can report it).
    Str(Vec<u16>),
    /// `ДвоичныеДанные` / BinaryData.
    Blob(Vec<u8>),
    /// A variant type 1C code cannot produce (kept for the error text).
    Unsupported(u16),
}

impl Value {
    /// A String value from Rust text.
    pub fn string(text: &str) -> Value {
        Value::Str(super::wstr::encode(text))
    }

    /// A Number value: integral when it is one, else a double.
    pub fn number(n: f64) -> Value {
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            Value::Int(n as i64)
        } else {
            Value::Double(n)
        }
    }

    /// The numeric value, if this is a Number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Double(d) => Some(d),
            _ => None,
        }
    }

    /// The 1C type of this value, for error texts.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Empty => Kind::Undefined,
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Int(_) | Value::Double(_) => Kind::Number,
            Value::Date(_) => Kind::Date,
            Value::Str(_) => Kind::String,
            Value::Blob(_) => Kind::BinaryData,
            Value::Unsupported(_) => Kind::Unsupported,
        }
    }
}

/// The 1C type of a [`Value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Undefined,
    Null,
    Boolean,
    Number,
    Date,
    String,
    BinaryData,
    /// A variant type 1C code cannot produce.
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_integral_when_they_are() {
        assert_eq!(Value::number(30.0), Value::Int(30));
        assert_eq!(Value::number(1.5), Value::Double(1.5));
        assert_eq!(Value::Int(7).as_f64(), Some(7.0));
        assert_eq!(Value::string("x").as_f64(), None);
        assert_eq!(Value::Blob(vec![]).kind(), Kind::BinaryData);
        assert_eq!(Value::Int(1).kind(), Value::Double(0.5).kind());
    }
}
