//! The receiving side: VerifySignature checks a Standard Webhooks webhook
//! that a 1C HTTP service received. The check itself is
//! [`crate::http::sign::verify`]; here the 1C values are read and a refusal
//! becomes Ложь with ErrorText and ErrorCode (see `CallError::is_answer`).

use super::args::{Args, Body};
use super::client::Client;
use super::errors::CallError;
use crate::host::Value;
use crate::http::sign::{self, Received};

impl Client {
    /// VerifySignature(Secret, Body, WebhookId, WebhookTimestamp,
    /// WebhookSignature, [ToleranceSeconds = 300]). A header the request
    /// did not have reaches here as Undefined (`Заголовки.Получить` gives
    /// that), which is a refusal like an empty one, not an exception.
    pub fn verify_signature(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let secrets = a.str(0)?;
        let body = match a.get(1).body()? {
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bytes) => bytes,
            Body::None => Vec::new(),
        };
        let (id, timestamp, signature) = (a.opt_str(2)?, a.opt_str(3)?, a.opt_str(4)?);
        // Whole seconds: the timestamps compared are whole seconds.
        let tolerance = a.get(5).seconds()? as u64;
        let received = Received {
            id: &id,
            timestamp: &timestamp,
            signature: &signature,
            body: &body,
        };
        sign::verify(&secrets, &received, tolerance, sign::unix_now())
            .map_err(CallError::Rejected)?;
        Ok(Value::Bool(true))
    }
}
