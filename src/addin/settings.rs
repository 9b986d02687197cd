//! The object's writable properties that check more than a type (headers,
//! proxy, limits, schedule, secret); the others are one [`store`] each in
//! the member table. Every setting is stored once, in the form the calls
//! use.

use std::path::PathBuf;
use std::time::Duration;

use super::args::{Arg, Args};
use super::client::Client;
use super::errors::CallError;
use super::members::{find_property, properties};
use crate::host::Value;
use crate::http::{self, sign::Signer};

/// More extra attempts than this is a mistake, not a policy.
pub const MAX_RETRY_COUNT: f64 = 100.0;

/// Parses a retry schedule: positive whole seconds separated by commas.
pub fn parse_schedule(text: &str) -> Option<Vec<u64>> {
    let pauses: Option<Vec<u64>> = text
        .split(',')
        .map(|part| part.trim().parse::<u64>().ok())
        .collect();
    pauses.filter(|p| !p.is_empty())
}

/// Stores a checked value: the whole body of a setter that only checks the
/// value's type and range.
pub(crate) fn store<T>(slot: &mut T, value: Result<T, CallError>) -> Result<(), CallError> {
    *slot = value?;
    Ok(())
}

impl Client {
    /// Configure(Settings): sets several properties from one JSON object of
    /// names (English or Russian, any case) and values, as that many
    /// assignments would, in the object's order: a client on a form sets
    /// them all with one awaited call. Every name is checked before any
    /// value is set; a value's error names its property, and the properties
    /// before it stay set. An object or array value reaches the property as
    /// its JSON text (`"Headers": {"X-Token": "…"}`).
    pub fn configure(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let arg = a.get(0);
        let settings = arg.settings()?;
        let mut setters = Vec::with_capacity(settings.len());
        for name in settings.keys() {
            let row = find_property(name).map(|i| &properties()[i]);
            match row.and_then(|p| Some((p.set?, p.target()))) {
                Some(setter) => setters.push(setter),
                None => {
                    return Err(CallError::NotASetting {
                        target: arg.target(),
                        name: name.clone(),
                    })
                }
            }
        }
        for ((set, target), value) in setters.into_iter().zip(settings.values()) {
            let value = match value {
                serde_json::Value::Null => Value::Empty,
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::Number(n) => Value::number(n.as_f64().unwrap_or(f64::NAN)),
                serde_json::Value::String(s) => Value::string(s),
                nested => Value::string(&nested.to_string()),
            };
            set(self, Arg::property(&value, target))?;
        }
        Ok(Value::Empty)
    }

    /// Headers: a JSON object that replaces every header of the object;
    /// each one is checked now, so a typo fails here and not in a call.
    pub fn set_headers(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let headers = value.headers()?;
        for (name, value) in headers.iter() {
            http::validate_header(name, value)?;
        }
        self.headers = headers;
        Ok(())
    }

    pub fn set_proxy(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let value = value.str()?;
        let trimmed = value.trim();
        if !trimmed.is_empty() {
            http::parse_proxy(trimmed)?;
        }
        self.transport.proxy = trimmed.to_string();
        Ok(())
    }

    pub fn set_max_response_size(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let n = value.number()?;
        let target = value.target();
        if n < 0.0 {
            return Err(CallError::Negative { target });
        }
        if n > 9.0e15 {
            return Err(CallError::OutOfRange { target });
        }
        self.max_response_size = (n >= 1.0).then_some(n.floor() as u64);
        Ok(())
    }

    pub fn set_retry_schedule(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        self.retry_schedule = parse_schedule(&value.str()?).ok_or(CallError::InvalidSchedule {
            target: value.target(),
        })?;
        Ok(())
    }

    /// RetrySchedule as it reads back: the pauses joined by commas.
    pub fn retry_schedule_shown(&self) -> String {
        let pauses: Vec<String> = self.retry_schedule.iter().map(u64::to_string).collect();
        pauses.join(",")
    }

    pub fn set_retry_count(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let n = value.number()?;
        let target = value.target();
        if n < 0.0 {
            return Err(CallError::Negative { target });
        }
        if n > MAX_RETRY_COUNT || n.fract() != 0.0 {
            return Err(CallError::OutOfRange { target });
        }
        self.retry_count = n as u32;
        Ok(())
    }

    /// QueueDatabase: "" or a PostgreSQL URL, checked (not connected) now.
    pub fn set_queue_database(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let url = value.str()?;
        if !url.trim().is_empty() {
            crate::queue::Queue::check_database(&url)?;
        }
        self.queue_database = url;
        Ok(())
    }

    /// QueueRetention, in days: 0 or more, at most ten years; fractions of
    /// a day are kept to the millisecond.
    pub fn set_queue_retention(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let days = value.number()?;
        let target = value.target();
        if days < 0.0 {
            return Err(CallError::Negative { target });
        }
        if !days.is_finite() || days > super::queue::MAX_RETENTION_DAYS {
            return Err(CallError::AboveMaximum {
                target,
                max: super::queue::MAX_RETENTION_DAYS as u64,
            });
        }
        self.queue_retention = Duration::from_millis((days * 86_400_000.0).round() as u64);
        Ok(())
    }

    /// LogFile as a path, or None when it is not set.
    pub(crate) fn log_file_path(&self) -> Option<PathBuf> {
        let file = self.log_file.trim();
        (!file.is_empty()).then(|| PathBuf::from(file))
    }

    /// SigningSecret: "" turns signing off.
    pub fn set_signing_secret(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let secret = value.str()?;
        self.signer = if secret.trim().is_empty() {
            None
        } else {
            Some(Signer::new(&secret).map_err(|_| CallError::InvalidSecret {
                target: value.target(),
            })?)
        };
        Ok(())
    }

    /// The request defaults of this object's calls.
    pub(crate) fn request_defaults(&self) -> http::Defaults<'_> {
        http::Defaults {
            headers: &self.headers,
            basic_auth: (!self.user.is_empty()).then_some((&self.user, &self.password)),
            digest: self.digest_auth,
            timeout: self.timeout,
            max_response_size: self.max_response_size,
            cookies: self.keep_cookies.then_some(&self.cookies),
        }
    }

    /// AuthType: "Basic" (User and Password with every request) or
    /// "Digest" (in answer to the server's challenge).
    pub fn set_auth_type(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let text = value.str()?;
        self.digest_auth = match text.trim().to_ascii_lowercase().as_str() {
            "" | "basic" => false,
            "digest" => true,
            _ => {
                return Err(CallError::InvalidAuthType {
                    target: value.target(),
                    got: text,
                })
            }
        };
        Ok(())
    }

    /// Cookies: replaces the jar with the JSON the property gave earlier.
    pub fn set_cookies(&mut self, value: Arg<'_>) -> Result<(), CallError> {
        let json = value.str()?;
        self.cookies
            .load_json(&json)
            .map_err(|detail| CallError::InvalidCookies {
                target: value.target(),
                detail,
            })
    }

    /// The object's headers with one replaced (SetHeader).
    pub(crate) fn put_header(&mut self, name: String, value: String) -> Result<(), CallError> {
        http::validate_header(&name, &value)?;
        self.headers.set(name, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_or_fail() {
        assert_eq!(
            parse_schedule("5,300,1800,7200,18000,36000,36000")
                .unwrap()
                .len(),
            7
        );
        assert_eq!(parse_schedule(" 1, 1 ,1").unwrap(), vec![1, 1, 1]);
        for bad in ["", " ", "1,,2", "a", "1,-2", "1.5"] {
            assert!(parse_schedule(bad).is_none(), "{bad:?}");
        }
    }
}
