//! Reading typed arguments out of host values, with errors that name the
//! parameter or property in both languages.

use super::errors::{CallError, Expected, Target};
use crate::host::{wstr, Lang, Value};

fn wrong(target: Target, expected: Expected, got: &Value) -> CallError {
    CallError::WrongType {
        target,
        expected,
        got_en: got.type_name(Lang::En),
        got_ru: got.type_name(Lang::Ru),
    }
}

fn decode(units: &[u16], target: Target) -> Result<String, CallError> {
    wstr::decode(units).map_err(|position| CallError::LoneSurrogate { target, position })
}

/// A String argument.
pub fn string(value: &Value, target: Target) -> Result<String, CallError> {
    match value {
        Value::Str(units) => decode(units, target),
        other => Err(wrong(target, Expected::Str, other)),
    }
}

/// An optional String argument: Undefined reads as "".
pub fn optional_string(value: &Value, target: Target) -> Result<String, CallError> {
    match value {
        Value::Empty => Ok(String::new()),
        other => string(other, target),
    }
}

/// A Number argument.
pub fn number(value: &Value, target: Target) -> Result<f64, CallError> {
    let n = value
        .as_f64()
        .ok_or_else(|| wrong(target, Expected::Number, value))?;
    if !n.is_finite() {
        return Err(CallError::OutOfRange { target });
    }
    Ok(n)
}

/// A Number of seconds: zero or more, at most about 31 years.
pub fn seconds(value: &Value, target: Target) -> Result<f64, CallError> {
    let n = number(value, target)?;
    if n < 0.0 {
        return Err(CallError::Negative { target });
    }
    if n > 1.0e9 {
        return Err(CallError::OutOfRange { target });
    }
    Ok(n)
}

/// A Boolean argument.
pub fn boolean(value: &Value, target: Target) -> Result<bool, CallError> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong(target, Expected::Bool, other)),
    }
}

/// A request body.
pub enum Body {
    None,
    Text(String),
    Binary(Vec<u8>),
}

/// A body that must be given: String or BinaryData.
pub fn body(value: &Value, target: Target) -> Result<Body, CallError> {
    match value {
        Value::Str(units) => Ok(Body::Text(decode(units, target)?)),
        Value::Blob(bytes) => Ok(Body::Binary(bytes.clone())),
        other => Err(wrong(target, Expected::StrOrBlob, other)),
    }
}

/// A body that may be left out (Undefined).
pub fn optional_body(value: &Value, target: Target) -> Result<Body, CallError> {
    match value {
        Value::Empty => Ok(Body::None),
        Value::Str(_) | Value::Blob(_) => body(value, target),
        other => Err(wrong(target, Expected::StrBlobOrUndefined, other)),
    }
}

/// Checks that `text` is JSON, naming line and column when it is not.
pub fn check_json(text: &str, target: Target) -> Result<(), CallError> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| json_error(&e, target))
}

pub fn json_error(e: &serde_json::Error, target: Target) -> CallError {
    // serde_json's Display repeats the position; keep just the reason.
    let full = e.to_string();
    let detail = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    CallError::InvalidJson {
        target,
        line: e.line(),
        column: e.column(),
        detail,
    }
}

/// Headers given as a JSON object: `{"Name": "value", "X-Count": 5}`.
/// An empty string means none.
pub fn headers_json(text: &str, target: Target) -> Result<Vec<(String, String)>, CallError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let parsed: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(&e, target))?;
    let serde_json::Value::Object(map) = parsed else {
        return Err(CallError::HeadersNotObject { target });
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let value = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => return Err(CallError::HeaderValueType { target, name }),
        };
        crate::http::validate_header(&name, &value)?;
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Target = Target::param("Json", "Json");

    #[test]
    fn json_errors_name_line_and_column() {
        let err = check_json("{\n  \"a\": 1,\n  \"b\": }", T).unwrap_err();
        match err {
            CallError::InvalidJson { line, column, .. } => assert_eq!((line, column), (3, 8)),
            other => panic!("{other:?}"),
        }
        assert!(check_json("[1, {\"x\": null}]", T).is_ok());
        assert!(check_json("", T).is_err());
    }

    #[test]
    fn headers_json_accepts_scalars_only() {
        let h = headers_json(r#"{"X-A": "1", "X-B": 2, "X-C": true}"#, T).unwrap();
        assert_eq!(h[1], ("X-B".to_string(), "2".to_string()));
        assert!(matches!(
            headers_json("[]", T),
            Err(CallError::HeadersNotObject { .. })
        ));
        assert!(matches!(
            headers_json(r#"{"X": null}"#, T),
            Err(CallError::HeaderValueType { .. })
        ));
        assert!(matches!(
            headers_json(r#"{"Bad Name": "1"}"#, T),
            Err(CallError::Http(_))
        ));
        assert!(headers_json("  ", T).unwrap().is_empty());
    }

    #[test]
    fn types_are_checked() {
        assert!(matches!(
            string(&Value::Int(1), T),
            Err(CallError::WrongType { .. })
        ));
        assert!(matches!(
            string(&Value::Str(vec![0xD800]), T),
            Err(CallError::LoneSurrogate { position: 0, .. })
        ));
        assert!(matches!(
            seconds(&Value::Int(-1), T),
            Err(CallError::Negative { .. })
        ));
        assert_eq!(seconds(&Value::Double(1.5), T).unwrap(), 1.5);
    }
}
