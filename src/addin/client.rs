//! The `Client` object: one per `Новый("AddIn.Webhook1C.Client")`. It holds
//! its own settings (each stored once), its last response and its last
//! failure; connections come from the process-wide pool in `http`. Its
//! members live by concept: [`super::settings`] (properties),
//! [`super::calls`] (requests and headers), [`super::queue`] (the delivery
//! queue), [`super::secrets`] (what readable properties hide).

use std::time::Duration;

use super::events::EventRelay;
use crate::http::{self, sign::Signer, Headers, Response};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 64 * 1024 * 1024;
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The last failure, as ErrorText and ErrorCode show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub text: String,
}

/// One add-in object's state. No `Debug`: it holds the password and the
/// signing secret.
pub struct Client {
    pub(crate) transport: http::Transport,
    /// The whole-request limit; `None` for none (Timeout = 0).
    pub(crate) timeout: Option<Duration>,
    /// `None` for no limit (MaxResponseSize = 0).
    pub(crate) max_response_size: Option<u64>,
    pub(crate) user: String,
    pub(crate) password: String,
    /// AuthType Digest: User and Password answer a Digest challenge instead
    /// of going as Basic with every request.
    pub(crate) digest_auth: bool,
    pub(crate) headers: Headers,
    /// The queue's pauses in seconds (RetrySchedule).
    pub(crate) retry_schedule: Vec<u64>,
    pub(crate) retry_count: u32,
    pub(crate) retry_delay: Duration,
    pub(crate) signer: Option<Signer>,
    pub(crate) log_file: String,
    pub(crate) queue_directory: String,
    /// QueueDatabase: a PostgreSQL URL, or "" for the embedded queue.
    pub(crate) queue_database: String,
    /// How long final messages stay (QueueRetention).
    pub(crate) queue_retention: Duration,
    pub(crate) events: EventRelay,
    /// KeepCookies: the jar's cookies go with each call and each answer's
    /// Set-Cookie is kept.
    pub(crate) keep_cookies: bool,
    pub(crate) cookies: http::cookies::Jar,
    /// Parts added by AddFormField / AddFormFile, sent (and cleared) by the
    /// next Request without a body.
    pub(crate) form: http::multipart::Form,
    pub(crate) last: Response,
    /// ErrorText and ErrorCode: set together, cleared together.
    pub(crate) failure: Option<Failure>,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            // ConnectTimeout 10 s, VerifySSL, redirects followed.
            transport: http::Transport::default(),
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_size: Some(DEFAULT_MAX_RESPONSE_SIZE),
            user: String::new(),
            password: String::new(),
            digest_auth: false,
            headers: Headers::new(),
            retry_schedule: crate::queue::DEFAULT_SCHEDULE.to_vec(),
            retry_count: 0,
            retry_delay: DEFAULT_RETRY_DELAY,
            signer: None,
            log_file: String::new(),
            queue_directory: String::new(),
            queue_database: String::new(),
            queue_retention: crate::queue::DEFAULT_RETENTION,
            events: EventRelay::default(),
            keep_cookies: false,
            cookies: http::cookies::Jar::default(),
            form: http::multipart::Form::default(),
            last: Response::default(),
            failure: None,
        }
    }
}

/// Seconds as a limit: 0 means none.
pub(crate) fn limit(seconds: f64) -> Option<Duration> {
    (seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Header lines as a JSON object; a repeated name joins its values.
pub(crate) fn json_object<'a>(pairs: impl Iterator<Item = (&'a str, String)>) -> String {
    let mut map = serde_json::Map::new();
    for (name, value) in pairs {
        match map.get_mut(name) {
            Some(serde_json::Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.to_string(), serde_json::Value::String(value));
            }
        }
    }
    serde_json::Value::Object(map).to_string()
}
