//! The request methods (PostJson, Post, Request) and the object's header
//! methods. A call reads its arguments, shapes the request with the
//! object's defaults (`http::Defaults::shape`), prepares it once and sends
//! it with the object's retries, signing and audit log.

use bytes::Bytes;

use super::args::{Args, Body};
use super::client::{json_object, Client};
use super::errors::CallError;
use crate::audit;
use crate::host::Value;
use crate::http::{self, retry, Call, Method, Request, Response};

/// Content-Type of PostJson and Enqueue unless a header names another.
const JSON_TYPE: &str = "application/json; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; charset=utf-8";
const BINARY_TYPE: &str = "application/octet-stream";

impl Client {
    /// PostJson(URL, Json, [Headers]).
    pub fn post_json(&mut self, a: &mut Args) -> Result<Value, CallError> {
        self.last = Response::default();
        self.no_pending_form()?;
        let call = json_call(a.str(0)?, a.json(1)?, a.headers(2)?);
        self.execute(call)
    }

    /// Post(URL, Body, [ContentType], [Headers]).
    pub fn post(&mut self, a: &mut Args) -> Result<Value, CallError> {
        self.last = Response::default();
        self.no_pending_form()?;
        let (url, body) = (a.str(0)?, a.get(1).body()?);
        let call = call(Method::Post, url, body, a.opt_str(2)?, a.headers(3)?);
        self.execute(call)
    }

    /// Request(Method, URL, [Body], [ContentType], [Headers]). Without Body
    /// and ContentType, a pending form goes as multipart/form-data (and is
    /// cleared, whatever the outcome).
    pub fn request(&mut self, a: &mut Args) -> Result<Value, CallError> {
        self.last = Response::default();
        let method = Method::parse(&a.str(0)?)?;
        let (url, body) = (a.str(1)?, a.get(2).opt_body()?);
        let (content_type, headers) = (a.opt_str(3)?, a.headers(4)?);
        let call = if self.form.is_empty() {
            call(method, url, body, content_type, headers)
        } else if matches!(body, Body::None) && content_type.trim().is_empty() {
            let (form_type, form) = std::mem::take(&mut self.form).encode();
            call(method, url, Body::Binary(form.into()), form_type, headers)
        } else {
            return Err(CallError::FormPending);
        };
        self.execute(call)
    }

    /// AddFormField(Name, Value): a text field of the next form.
    pub fn add_form_field(&mut self, a: &mut Args) -> Result<Value, CallError> {
        self.form.field(&a.str(0)?, &a.str(1)?);
        Ok(Value::Empty)
    }

    /// AddFormFile(Name, FileName, Data, [ContentType]): a file of the next
    /// form; Data is ДвоичныеДанные or a String (sent as UTF-8).
    pub fn add_form_file(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let (name, file_name) = (a.str(0)?, a.str(1)?);
        let data = match a.get(2).body()? {
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bytes) => bytes,
            Body::None => Vec::new(),
        };
        self.form.file(&name, &file_name, data, &a.opt_str(3)?);
        Ok(Value::Empty)
    }

    /// ClearForm().
    pub fn clear_form(&mut self, _: &mut Args) -> Result<Value, CallError> {
        self.form = Default::default();
        Ok(Value::Empty)
    }

    /// PostJson and Post carry a body of their own: a pending form would be
    /// silently left for a later call.
    fn no_pending_form(&self) -> Result<(), CallError> {
        if self.form.is_empty() {
            Ok(())
        } else {
            Err(CallError::FormPending)
        }
    }

    /// The request `call` makes with this object's headers, credentials
    /// and limits.
    pub(crate) fn shape(&self, call: Call) -> Request {
        self.request_defaults().shape(call)
    }

    fn execute(&mut self, call: Call) -> Result<Value, CallError> {
        let request = self.shape(call).prepare()?;
        let log_file = self.log_file_path();
        // The id signs every attempt and names them in the audit log; an
        // unsigned call without LogFile needs none (and skips the OS's
        // random number call).
        let message_id = if self.signer.is_some() || log_file.is_some() {
            http::sign::new_message_id()
        } else {
            String::new()
        };
        let audit = log_file
            .as_deref()
            .map(|file| move |attempt: &retry::Attempt<'_>| audit::record_attempt(file, attempt));
        let how = retry::Attempts {
            policy: retry::RetryPolicy {
                extra_attempts: self.retry_count,
                first_delay: self.retry_delay,
            },
            signer: self.signer.as_ref(),
            message_id: &message_id,
            observe: audit
                .as_ref()
                .map(|audit| audit as &dyn Fn(&retry::Attempt<'_>)),
            sleep: &std::thread::sleep,
        };
        let outcome = retry::send_with_retries(&self.transport, &request, &how);
        self.last = outcome.result?;
        Ok(Value::string(&self.last.text()))
    }

    /// SetHeader(Name, Value).
    pub fn set_header(&mut self, a: &mut Args) -> Result<Value, CallError> {
        self.put_header(a.str(0)?, a.str(1)?)?;
        Ok(Value::Empty)
    }

    /// RemoveHeader(Name).
    pub fn remove_header(&mut self, a: &mut Args) -> Result<Value, CallError> {
        self.headers.remove(&a.str(0)?);
        Ok(Value::Empty)
    }

    /// ClearHeaders().
    pub fn clear_headers(&mut self, _: &mut Args) -> Result<Value, CallError> {
        self.headers.clear();
        Ok(Value::Empty)
    }

    /// GetResponseHeader(Name): "" when absent.
    pub fn response_header(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let name = a.str(0)?;
        Ok(Value::string(
            &self.last.header(name.trim()).unwrap_or_default(),
        ))
    }

    /// GetResponseBinary().
    pub fn response_binary(&mut self, _: &mut Args) -> Result<Value, CallError> {
        Ok(Value::Blob(self.last.body.clone()))
    }

    /// ResponseHeaders: the last response's headers as a JSON object.
    pub fn response_headers_json(&self) -> String {
        json_object(
            self.last
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone())),
        )
    }
}

/// A PostJson or Enqueue call: a JSON POST.
pub(super) fn json_call(url: String, json: Vec<u8>, headers: http::Headers) -> Call {
    Call {
        method: Method::Post,
        url,
        body: Some(Bytes::from(json)),
        content_type: None,
        default_content_type: Some(JSON_TYPE),
        headers,
    }
}

/// A Post or Request call: the body's own type unless ContentType is given.
fn call(
    method: Method,
    url: String,
    body: Body,
    content_type: String,
    headers: http::Headers,
) -> Call {
    let (body, body_type) = match body {
        Body::None => (None, None),
        Body::Text(text) => (Some(Bytes::from(text)), Some(TEXT_TYPE)),
        Body::Binary(data) => (Some(Bytes::from(data)), Some(BINARY_TYPE)),
    };
    let content_type = content_type.trim();
    Call {
        method,
        url,
        body,
        content_type: (!content_type.is_empty()).then(|| content_type.to_string()),
        default_content_type: body_type,
        headers,
    }
}
