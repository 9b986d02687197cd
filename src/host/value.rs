//! `Value`: what a `tVariant` carries, owned and safe. Parameters arrive as
//! values, results leave as values; `abi::variant` is the only converter.

use super::Lang;

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

    /// The 1C name of this value's type, for error texts.
    pub fn type_name(&self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Value::Empty, Lang::En) => "Undefined",
            (Value::Empty, Lang::Ru) => "Неопределено",
            (Value::Null, _) => "NULL",
            (Value::Bool(_), Lang::En) => "Boolean",
            (Value::Bool(_), Lang::Ru) => "Булево",
            (Value::Int(_) | Value::Double(_), Lang::En) => "Number",
            (Value::Int(_) | Value::Double(_), Lang::Ru) => "Число",
            (Value::Date(_), Lang::En) => "Date",
            (Value::Date(_), Lang::Ru) => "Дата",
            (Value::Str(_), Lang::En) => "String",
            (Value::Str(_), Lang::Ru) => "Строка",
            (Value::Blob(_), Lang::En) => "BinaryData",
            (Value::Blob(_), Lang::Ru) => "ДвоичныеДанные",
            (Value::Unsupported(_), Lang::En) => "an unsupported value",
            (Value::Unsupported(_), Lang::Ru) => "неподдерживаемое значение",
        }
    }
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
        assert_eq!(Value::Blob(vec![]).type_name(Lang::Ru), "ДвоичныеДанные");
    }
}
