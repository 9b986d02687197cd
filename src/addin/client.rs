//! The `Client` object: one per `Новый("AddIn.Webhook.Client")`. It holds
//! its own settings and last response; connections come from the process-wide
//! pool in `http`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::args::{self, Body};
use super::errors::{CallError, Target};
use super::events::EventRelay;
use crate::host::{EventSink, Lang, Value};
use crate::http::{self, Method, Request, Response};
use crate::queue::{self, Job, Queue};

pub const DEFAULT_TIMEOUT: f64 = 30.0;
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 10.0;
pub const DEFAULT_MAX_RESPONSE_SIZE: f64 = 64.0 * 1024.0 * 1024.0;
pub const DEFAULT_RETRY_DELAY: f64 = 1.0;
/// WaitForDelivery's default limit, in seconds.
pub const DEFAULT_WAIT_SECONDS: f64 = 30.0;
/// More extra attempts than this is a mistake, not a policy.
pub const MAX_RETRY_COUNT: f64 = 100.0;
pub const DEFAULT_RETRY_SCHEDULE: &str = "5,300,1800,7200,18000,36000,36000";

const JSON_TYPE: &str = "application/json; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; charset=utf-8";
const BINARY_TYPE: &str = "application/octet-stream";

/// Shown instead of a secret in readable properties.
pub const MASK: &str = "***";

/// One add-in object's state. No `Debug`: it holds the password and the
/// signing secret.
pub struct Client {
    pub lang: Lang,
    pub(crate) transport: http::Transport,
    pub(crate) timeout: f64,
    pub(crate) connect_timeout: f64,
    pub(crate) max_response_size: f64,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) retry_schedule: String,
    pub(crate) retry_count: u32,
    pub(crate) retry_delay: f64,
    pub(crate) signer: Option<http::sign::Signer>,
    pub(crate) log_file: String,
    /// The secret text (for queued jobs, which sign in the worker); never
    /// readable.
    pub(crate) signing_secret: String,
    pub(crate) queue_directory: String,
    pub(crate) events: EventRelay,
    pub(crate) last: Response,
    pub(crate) error_text: String,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            lang: Lang::En,
            transport: http::Transport {
                connect_timeout: duration(DEFAULT_CONNECT_TIMEOUT),
                ..http::Transport::default()
            },
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            user: String::new(),
            password: String::new(),
            headers: Vec::new(),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.into(),
            retry_count: 0,
            retry_delay: DEFAULT_RETRY_DELAY,
            signer: None,
            log_file: String::new(),
            signing_secret: String::new(),
            queue_directory: String::new(),
            events: EventRelay::default(),
            last: Response::default(),
            error_text: String::new(),
        }
    }
}

/// Seconds as a limit: 0 means none.
fn duration(seconds: f64) -> Option<Duration> {
    (seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Header names whose values are secrets in readable properties.
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "authorization"
        || lower == "proxy-authorization"
        || lower == "cookie"
        || [
            "token",
            "secret",
            "api-key",
            "apikey",
            "password",
            "signature",
        ]
        .iter()
        .any(|s| lower.contains(s))
}

fn json_object<'a>(pairs: impl Iterator<Item = (&'a str, String)>) -> String {
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

impl Client {
    // ---- properties -------------------------------------------------------

    /// Headers as JSON, secrets masked.
    pub fn headers_json(&self) -> String {
        json_object(self.headers.iter().map(|(n, v)| {
            let shown = if is_secret_header(n) {
                MASK.to_string()
            } else {
                v.clone()
            };
            (n.as_str(), shown)
        }))
    }

    pub fn set_headers(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        let parsed = args::headers_json(&args::string(value, target)?, target)?;
        self.headers.clear();
        for (name, value) in parsed {
            self.put_header(name, value);
        }
        Ok(())
    }

    pub fn response_headers_json(&self) -> String {
        json_object(
            self.last
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone())),
        )
    }

    /// Proxy URL with its password masked.
    pub fn proxy_shown(&self) -> String {
        let proxy = &self.transport.proxy;
        match reqwest::Url::parse(proxy) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some(MASK));
                url.to_string()
            }
            _ => proxy.clone(),
        }
    }

    pub fn set_proxy(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        let value = args::string(value, target)?;
        let trimmed = value.trim();
        if !trimmed.is_empty() {
            http::parse_proxy(trimmed)?;
        }
        self.transport.proxy = trimmed.to_string();
        Ok(())
    }

    /// ClientCertificate with any private key block masked.
    pub fn client_certificate_shown(&self) -> String {
        mask_private_keys(&self.transport.client_certificate)
    }

    pub fn set_timeout(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.timeout = args::seconds(value, target)?;
        Ok(())
    }

    pub fn set_connect_timeout(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.connect_timeout = args::seconds(value, target)?;
        self.transport.connect_timeout = duration(self.connect_timeout);
        Ok(())
    }

    pub fn set_verify_ssl(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.transport.verify_tls = args::boolean(value, target)?;
        Ok(())
    }

    pub fn set_allow_redirects(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.transport.follow_redirects = args::boolean(value, target)?;
        Ok(())
    }

    pub fn set_user(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.user = args::string(value, target)?;
        Ok(())
    }

    pub fn set_password(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.password = args::string(value, target)?;
        Ok(())
    }

    pub fn set_trusted_certificates(
        &mut self,
        value: &Value,
        target: Target,
    ) -> Result<(), CallError> {
        self.transport.trusted_certificates = args::string(value, target)?;
        Ok(())
    }

    pub fn set_client_certificate(
        &mut self,
        value: &Value,
        target: Target,
    ) -> Result<(), CallError> {
        self.transport.client_certificate = args::string(value, target)?;
        Ok(())
    }

    pub fn set_max_response_size(
        &mut self,
        value: &Value,
        target: Target,
    ) -> Result<(), CallError> {
        let n = args::number(value, target)?;
        if n < 0.0 {
            return Err(CallError::Negative { target });
        }
        if n > 9.0e15 {
            return Err(CallError::OutOfRange { target });
        }
        self.max_response_size = n.floor();
        Ok(())
    }

    pub fn set_retry_schedule(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        let text = args::string(value, target)?;
        parse_schedule(&text).ok_or(CallError::InvalidSchedule { target })?;
        self.retry_schedule = text.trim().to_string();
        Ok(())
    }

    pub fn set_retry_count(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        let n = args::number(value, target)?;
        if n < 0.0 {
            return Err(CallError::Negative { target });
        }
        if n > MAX_RETRY_COUNT || n.fract() != 0.0 {
            return Err(CallError::OutOfRange { target });
        }
        self.retry_count = n as u32;
        Ok(())
    }

    pub fn set_retry_delay(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.retry_delay = args::seconds(value, target)?;
        Ok(())
    }

    pub fn set_log_file(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.log_file = args::string(value, target)?;
        Ok(())
    }

    /// SigningSecret: "" turns signing off.
    pub fn set_signing_secret(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        let secret = args::string(value, target)?;
        self.signer = if secret.trim().is_empty() {
            None
        } else {
            Some(
                http::sign::Signer::new(&secret)
                    .map_err(|_| CallError::InvalidSecret { target })?,
            )
        };
        self.signing_secret = secret.trim().to_string();
        Ok(())
    }

    // ---- header methods ---------------------------------------------------

    fn put_header(&mut self, name: String, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value));
    }

    pub fn set_header(&mut self, name: &Value, value: &Value) -> Result<(), CallError> {
        let name = args::string(name, Target::param("Name", "Имя"))?;
        let value = args::string(value, Target::param("Value", "Значение"))?;
        http::validate_header(&name, &value)?;
        self.put_header(name, value);
        Ok(())
    }

    pub fn remove_header(&mut self, name: &Value) -> Result<(), CallError> {
        let name = args::string(name, Target::param("Name", "Имя"))?;
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name.trim()));
        Ok(())
    }

    pub fn clear_headers(&mut self) {
        self.headers.clear();
    }

    pub fn response_header(&self, name: &Value) -> Result<Value, CallError> {
        let name = args::string(name, Target::param("Name", "Имя"))?;
        Ok(Value::string(
            &self.last.header(name.trim()).unwrap_or_default(),
        ))
    }

    pub fn response_binary(&self) -> Value {
        Value::Blob(self.last.body.clone())
    }

    // ---- requests ---------------------------------------------------------

    /// PostJson(URL, Json, [Headers]).
    pub fn post_json(
        &mut self,
        url: &Value,
        json: &Value,
        headers: &Value,
    ) -> Result<Value, CallError> {
        self.begin_call();
        let target = Target::param("Json", "Json");
        let text = args::string(json, target)?;
        args::check_json(&text, target)?;
        let body = Body::Text(text);
        self.execute(Method::Post, url, body, JSON_TYPE, &Value::Empty, headers)
    }

    /// Post(URL, Body, [ContentType], [Headers]).
    pub fn post(
        &mut self,
        url: &Value,
        body: &Value,
        content_type: &Value,
        headers: &Value,
    ) -> Result<Value, CallError> {
        self.begin_call();
        let body = args::body(body, Target::param("Body", "Тело"))?;
        self.execute(Method::Post, url, body, "", content_type, headers)
    }

    /// Request(Method, URL, [Body], [ContentType], [Headers]).
    pub fn request(
        &mut self,
        method: &Value,
        url: &Value,
        body: &Value,
        content_type: &Value,
        headers: &Value,
    ) -> Result<Value, CallError> {
        self.begin_call();
        let method = Method::parse(&args::string(method, Target::param("Method", "Метод"))?)?;
        let body = args::optional_body(body, Target::param("Body", "Тело"))?;
        self.execute(method, url, body, "", content_type, headers)
    }

    /// Forgets the previous response: a failed call leaves StatusCode 0.
    fn begin_call(&mut self) {
        self.last = Response::default();
    }

    /// The request a call describes: URL, object and per-call headers,
    /// body and its type, Basic credentials, limits.
    fn build_request(
        &self,
        method: Method,
        url: &Value,
        body: Body,
        default_type: &str,
        content_type: &Value,
        call_headers: &Value,
    ) -> Result<Request, CallError> {
        let url = args::string(url, Target::param("URL", "URL"))?;
        let content_type =
            args::optional_string(content_type, Target::param("ContentType", "ТипСодержимого"))?;
        let call_headers_target = Target::param("Headers", "Заголовки");
        let call_headers = args::headers_json(
            &args::optional_string(call_headers, call_headers_target)?,
            call_headers_target,
        )?;

        let mut headers = self.headers.clone();
        for (name, value) in call_headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, value));
        }
        let mut request = Request::new(method, url);
        let (bytes, body_type) = match body {
            Body::None => (None, None),
            Body::Text(text) => (Some(Bytes::from(text)), Some(TEXT_TYPE)),
            Body::Binary(data) => (Some(Bytes::from(data)), Some(BINARY_TYPE)),
        };
        request.body = bytes;
        if !content_type.trim().is_empty() {
            // An explicit ContentType argument wins over any header.
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
            request.content_type = Some(content_type.trim().to_string());
        } else if !default_type.is_empty() {
            request.content_type = Some(default_type.to_string());
        } else {
            request.content_type = body_type.map(str::to_string);
        }
        request.headers = headers;
        if !self.user.is_empty() {
            request.basic_auth = Some((self.user.clone(), self.password.clone()));
        }
        request.timeout = duration(self.timeout);
        request.max_response_size =
            (self.max_response_size > 0.0).then_some(self.max_response_size as u64);
        Ok(request)
    }

    fn log_file_path(&self) -> Option<PathBuf> {
        let file = self.log_file.trim();
        (!file.is_empty()).then(|| PathBuf::from(file))
    }

    fn execute(
        &mut self,
        method: Method,
        url: &Value,
        body: Body,
        default_type: &str,
        content_type: &Value,
        call_headers: &Value,
    ) -> Result<Value, CallError> {
        let request =
            self.build_request(method, url, body, default_type, content_type, call_headers)?;
        let policy = http::retry::RetryPolicy {
            extra_attempts: self.retry_count,
            first_delay: Duration::from_secs_f64(self.retry_delay),
        };
        let message_id = http::sign::new_message_id();
        let log_file = self.log_file_path();
        let how = http::retry::Attempts {
            policy,
            signer: self.signer.as_ref(),
            message_id: &message_id,
            log_file: log_file.as_deref(),
            sleep: &std::thread::sleep,
        };
        let outcome = http::retry::send_with_retries(&self.transport, &request, &how);
        let response = outcome.result?;
        self.error_text.clear();
        self.last = response;
        Ok(Value::string(&self.last.text()))
    }
}

impl Client {
    // ---- the delivery queue ------------------------------------------------

    /// The QueueDirectory in effect: the property, or the per-user default.
    pub fn queue_directory(&self) -> PathBuf {
        let dir = self.queue_directory.trim();
        if dir.is_empty() {
            queue::default_directory()
        } else {
            PathBuf::from(dir)
        }
    }

    pub fn set_queue_directory(&mut self, value: &Value, target: Target) -> Result<(), CallError> {
        self.queue_directory = args::string(value, target)?;
        Ok(())
    }

    fn queue(&self) -> Result<Queue, CallError> {
        Queue::open(&self.queue_directory()).map_err(CallError::Queue)
    }

    /// Enqueue(URL, Json, [Headers], [MessageId]).
    pub fn enqueue(
        &mut self,
        url: &Value,
        json: &Value,
        headers: &Value,
        message_id: &Value,
    ) -> Result<Value, CallError> {
        let target = Target::param("Json", "Json");
        let text = args::string(json, target)?;
        args::check_json(&text, target)?;
        let id = args::optional_string(
            message_id,
            Target::param("MessageId", "ИдентификаторСообщения"),
        )?;
        let request = self.build_request(
            Method::Post,
            url,
            Body::Text(text),
            JSON_TYPE,
            &Value::Empty,
            headers,
        )?;
        let schedule = parse_schedule(&self.retry_schedule)
            .unwrap_or_else(|| queue::DEFAULT_SCHEDULE.to_vec());
        let job = Job {
            id: id.trim().to_string(),
            request,
            transport: self.transport.clone(),
            signing_secret: self.signer.is_some().then(|| self.signing_secret.clone()),
            schedule,
            log_file: self.log_file_path(),
        };
        let queue = self.queue()?;
        let id = queue.enqueue(job).map_err(CallError::Queue)?;
        self.events.watch(&queue, &id);
        Ok(Value::string(&id))
    }

    /// MessageStatus(MessageId): the status JSON.
    pub fn message_status(&self, id: &Value) -> Result<Value, CallError> {
        let id = args::string(id, Target::param("MessageId", "ИдентификаторСообщения"))?;
        let status = self.queue()?.status(id.trim()).map_err(CallError::Queue)?;
        Ok(Value::string(&status.to_json()))
    }

    /// QueueStatus(): counts by state for the whole directory.
    pub fn queue_status(&self) -> Result<Value, CallError> {
        let counts = self.queue()?.counts().map_err(CallError::Queue)?;
        Ok(Value::string(&counts.to_json()))
    }

    /// WaitForDelivery([TimeoutSeconds]): true when nothing is pending.
    pub fn wait_for_delivery(&self, timeout: &Value) -> Result<Value, CallError> {
        let target = Target::param("TimeoutSeconds", "ТаймаутСекунд");
        let seconds = match timeout {
            Value::Empty => DEFAULT_WAIT_SECONDS,
            other => args::seconds(other, target)?,
        };
        let idle = self
            .queue()?
            .wait_idle(Duration::from_secs_f64(seconds))
            .map_err(CallError::Queue)?;
        Ok(Value::Bool(idle))
    }

    /// Where ExternalEvent goes (the host's connection), or None after Done.
    pub fn set_event_sink(&self, sink: Option<Arc<dyn EventSink>>) {
        self.events.set_sink(sink);
    }
}

/// Parses a retry schedule: positive whole seconds separated by commas.
pub fn parse_schedule(text: &str) -> Option<Vec<u64>> {
    let pauses: Option<Vec<u64>> = text
        .split(',')
        .map(|part| part.trim().parse::<u64>().ok())
        .collect();
    pauses.filter(|p| !p.is_empty())
}

/// Replaces the body of every `PRIVATE KEY` PEM block with `***`.
fn mask_private_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with("-----BEGIN") && trimmed.contains("PRIVATE KEY") {
            in_key = true;
            out.push_str(line);
            out.push_str(MASK);
            out.push('\n');
        } else if trimmed.starts_with("-----END") && trimmed.contains("PRIVATE KEY") {
            in_key = false;
            out.push_str(line);
        } else if !in_key {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_or_fail() {
        assert_eq!(parse_schedule(DEFAULT_RETRY_SCHEDULE).unwrap().len(), 7);
        assert_eq!(parse_schedule(" 1, 1 ,1").unwrap(), vec![1, 1, 1]);
        for bad in ["", " ", "1,,2", "a", "1,-2", "1.5"] {
            assert!(parse_schedule(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_masked_in_readable_values() {
        let mut c = Client::default();
        let t = Target::property("Headers", "Заголовки");
        let headers = r#"{"Authorization": "Bearer t0k", "X-Plain": "v"}"#;
        c.set_headers(&Value::string(headers), t).unwrap();
        let shown = c.headers_json();
        assert!(!shown.contains("t0k"), "{shown}");
        assert!(shown.contains("\"X-Plain\":\"v\""), "{shown}");
        c.set_proxy(&Value::string("http://u:pw@127.0.0.1:3128"), t)
            .unwrap();
        assert_eq!(c.proxy_shown(), "http://u:***@127.0.0.1:3128/");
        let pem = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
        c.transport.client_certificate = pem.into();
        let shown = c.client_certificate_shown();
        assert!(
            shown.contains("AAA") && !shown.contains("SECRET"),
            "{shown}"
        );
    }
}
