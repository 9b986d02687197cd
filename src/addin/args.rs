//! Typed reading of what the 1C code passed: a method's arguments ([`Args`],
//! named by the member table's row) and a property's new value ([`Arg`]).
//! Every error names the parameter or property in both languages.

use super::errors::{CallError, Expected, Target};
use super::members::Param;
use crate::host::{wstr, Value};
use crate::http::Headers;

/// A request body as 1C passed it.
pub enum Body {
    None,
    Text(String),
    Binary(Vec<u8>),
}

/// One value passed by the 1C code, with the name its errors give it.
#[derive(Clone, Copy)]
pub struct Arg<'a> {
    value: &'a Value,
    target: Target,
    /// A required method parameter: Undefined means it was left out.
    required: bool,
}

impl<'a> Arg<'a> {
    /// The new value of a property.
    pub fn property(value: &'a Value, target: Target) -> Arg<'a> {
        Arg {
            value,
            target,
            required: false,
        }
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// True when the 1C code passed Undefined (or left the parameter out).
    pub fn is_undefined(&self) -> bool {
        matches!(self.value, Value::Empty)
    }

    fn wrong(&self, expected: Expected) -> CallError {
        if self.required && self.is_undefined() {
            CallError::Missing {
                target: self.target,
                expected,
            }
        } else {
            CallError::WrongType {
                target: self.target,
                expected,
                got: self.value.kind(),
            }
        }
    }

    fn decode(&self, units: &[u16]) -> Result<String, CallError> {
        wstr::decode(units).map_err(|position| self.lone_surrogate(position))
    }

    fn lone_surrogate(&self, position: usize) -> CallError {
        CallError::LoneSurrogate {
            target: self.target,
            position,
        }
    }

    /// A String.
    pub fn str(&self) -> Result<String, CallError> {
        match self.value {
            Value::Str(units) => self.decode(units),
            _ => Err(self.wrong(Expected::Str)),
        }
    }

    /// A String that may be left out: Undefined reads as "".
    pub fn opt_str(&self) -> Result<String, CallError> {
        match self.value {
            Value::Empty => Ok(String::new()),
            _ => self.str(),
        }
    }

    /// A finite Number.
    pub fn number(&self) -> Result<f64, CallError> {
        let n = self
            .value
            .as_f64()
            .ok_or_else(|| self.wrong(Expected::Number))?;
        if !n.is_finite() {
            return Err(CallError::OutOfRange {
                target: self.target,
            });
        }
        Ok(n)
    }

    /// A Number of seconds: zero or more, at most about 31 years.
    pub fn seconds(&self) -> Result<f64, CallError> {
        let n = self.number()?;
        if n < 0.0 {
            return Err(CallError::Negative {
                target: self.target,
            });
        }
        if n > 1.0e9 {
            return Err(CallError::OutOfRange {
                target: self.target,
            });
        }
        Ok(n)
    }

    /// A Boolean.
    pub fn boolean(&self) -> Result<bool, CallError> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.wrong(Expected::Bool)),
        }
    }

    /// A body that must be given: String or BinaryData.
    pub fn body(&self) -> Result<Body, CallError> {
        match self.value {
            Value::Str(units) => Ok(Body::Text(self.decode(units)?)),
            Value::Blob(bytes) => Ok(Body::Binary(bytes.clone())),
            _ => Err(self.wrong(Expected::StrOrBlob)),
        }
    }

    /// A body that may be left out (Undefined).
    pub fn opt_body(&self) -> Result<Body, CallError> {
        match self.value {
            Value::Empty => Ok(Body::None),
            Value::Str(_) | Value::Blob(_) => self.body(),
            _ => Err(self.wrong(Expected::StrBlobOrUndefined)),
        }
    }

    /// A String that must be JSON, as its UTF-8 bytes (it goes on as a
    /// request body); the error names line and column.
    pub fn json(&self) -> Result<Vec<u8>, CallError> {
        let Value::Str(units) = self.value else {
            return Err(self.wrong(Expected::Str));
        };
        let text = wstr::decode_to_utf8(units).map_err(|position| self.lone_surrogate(position))?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&text)
            .map_err(|e| json_error(&e, self.target))?;
        Ok(text)
    }

    /// Headers as a JSON object (`{"Name": "value", "X-Count": 5}`); ""
    /// (or, for a parameter, Undefined) means none. Names and values are
    /// checked when the request is prepared, with every other header.
    pub fn headers(&self) -> Result<Headers, CallError> {
        let text = if self.target.property {
            self.str()?
        } else {
            self.opt_str()?
        };
        if text.trim().is_empty() {
            return Ok(Headers::new());
        }
        let parsed: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| json_error(&e, self.target))?;
        let serde_json::Value::Object(map) = parsed else {
            return Err(CallError::HeadersNotObject {
                target: self.target,
            });
        };
        let mut headers = Headers::new();
        for (name, value) in map {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(CallError::HeaderValueType {
                        target: self.target,
                        name,
                    })
                }
            };
            headers.set(name, value);
        }
        Ok(headers)
    }

    /// A JSON object of property names and values (Configure).
    pub fn settings(&self) -> Result<serde_json::Map<String, serde_json::Value>, CallError> {
        let text = self.str()?;
        let parsed: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| json_error(&e, self.target))?;
        match parsed {
            serde_json::Value::Object(map) => Ok(map),
            _ => Err(CallError::SettingsNotObject {
                target: self.target,
            }),
        }
    }
}

fn json_error(e: &serde_json::Error, target: Target) -> CallError {
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

/// The arguments of one method call, one per parameter of its row (the
/// host's, then the defaults of those it did not pass). Handlers read them
/// by position and write an in/out parameter with [`Args::set`], so the
/// boundary copies back only what was written (most calls write nothing).
#[derive(Debug)]
pub struct Args {
    params: &'static [Param],
    values: Vec<Value>,
    written: Vec<bool>,
}

impl Args {
    /// The values the host passed for a method with `params`; parameters
    /// it did not pass get their defaults (Undefined for required ones).
    pub fn new(params: &'static [Param], mut values: Vec<Value>) -> Args {
        for param in params.iter().skip(values.len()) {
            values.push(param.default.map_or(Value::Empty, |d| d.value()));
        }
        let written = vec![false; values.len()];
        Args {
            params,
            values,
            written,
        }
    }

    /// Argument `index`, named by its parameter.
    pub fn get(&self, index: usize) -> Arg<'_> {
        static MISSING: Value = Value::Empty;
        let param = self.params.get(index);
        Arg {
            value: self.values.get(index).unwrap_or(&MISSING),
            target: param.map_or(Target::param("?", "?"), |p| Target::param(p.en, p.ru)),
            required: param.is_some_and(|p| p.default.is_none()),
        }
    }

    pub fn str(&self, index: usize) -> Result<String, CallError> {
        self.get(index).str()
    }

    pub fn opt_str(&self, index: usize) -> Result<String, CallError> {
        self.get(index).opt_str()
    }

    pub fn json(&self, index: usize) -> Result<Vec<u8>, CallError> {
        self.get(index).json()
    }

    pub fn headers(&self, index: usize) -> Result<Headers, CallError> {
        self.get(index).headers()
    }

    /// Replaces argument `index` (ignored past the end).
    pub fn set(&mut self, index: usize, value: Value) {
        if let (Some(slot), Some(written)) =
            (self.values.get_mut(index), self.written.get_mut(index))
        {
            *slot = value;
            *written = true;
        }
    }

    /// The arguments a handler wrote, with their positions.
    pub fn take_written(&mut self) -> Vec<(usize, Value)> {
        let mut out = Vec::new();
        for (i, written) in self.written.iter().enumerate() {
            if *written {
                out.push((i, std::mem::replace(&mut self.values[i], Value::Empty)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addin::members::{optional, required, ParamDefault};

    const T: Target = Target::param("Json", "Json");

    fn arg(value: &Value) -> Arg<'_> {
        Arg {
            value,
            target: T,
            required: true,
        }
    }

    #[test]
    fn json_errors_name_line_and_column() {
        let bad = Value::string("{\n  \"a\": 1,\n  \"b\": }");
        match arg(&bad).json().unwrap_err() {
            CallError::InvalidJson { line, column, .. } => assert_eq!((line, column), (3, 8)),
            other => panic!("{other:?}"),
        }
        assert!(arg(&Value::string("[1, {\"x\": null}]")).json().is_ok());
        assert!(arg(&Value::string("")).json().is_err());
    }

    #[test]
    fn headers_json_accepts_scalars_only() {
        let h = arg(&Value::string(r#"{"X-A": "1", "X-B": 2, "X-C": true}"#))
            .headers()
            .unwrap();
        assert_eq!(h.get("x-b"), Some("2"));
        assert!(matches!(
            arg(&Value::string("[]")).headers(),
            Err(CallError::HeadersNotObject { .. })
        ));
        assert!(matches!(
            arg(&Value::string(r#"{"X": null}"#)).headers(),
            Err(CallError::HeaderValueType { .. })
        ));
        assert!(arg(&Value::string("  ")).headers().unwrap().is_empty());
        assert!(arg(&Value::Empty).headers().unwrap().is_empty());
    }

    #[test]
    fn types_are_checked_and_left_out_parameters_are_missing() {
        assert!(matches!(
            arg(&Value::Int(1)).str(),
            Err(CallError::WrongType { .. })
        ));
        assert!(matches!(
            arg(&Value::Empty).str(),
            Err(CallError::Missing { .. })
        ));
        assert!(matches!(
            Arg::property(&Value::Empty, T).str(),
            Err(CallError::WrongType { .. })
        ));
        assert!(matches!(
            arg(&Value::Str(vec![0xD800])).str(),
            Err(CallError::LoneSurrogate { position: 0, .. })
        ));
        assert!(matches!(
            arg(&Value::Int(-1)).seconds(),
            Err(CallError::Negative { .. })
        ));
        assert_eq!(arg(&Value::Double(1.5)).seconds().unwrap(), 1.5);
    }

    #[test]
    fn left_out_parameters_get_their_defaults_and_names() {
        static PARAMS: &[Param] = &[
            required("URL", "URL"),
            optional("Headers", "Заголовки", ParamDefault::Str("")),
        ];
        let mut args = Args::new(PARAMS, vec![]);
        assert!(matches!(
            args.str(0),
            Err(CallError::Missing { target, .. }) if target.ru == "URL"
        ));
        assert_eq!(args.opt_str(1).unwrap(), "");
        assert_eq!(args.get(1).target().ru, "Заголовки");
        args.set(1, Value::string("x"));
        args.set(7, Value::string("ignored"));
        assert_eq!(args.take_written(), vec![(1, Value::string("x"))]);
    }
}
