//! What the queue reports: one message's state, the counts of a directory,
//! and the recorded attempts. The JSON forms are the ones ADDIN-API.md gives
//! the 1C code (MessageStatus, QueueStatus).

use serde::Serialize;

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for its next attempt, or being attempted now.
    Pending,
    /// A 2xx answer came; final.
    Delivered,
    /// A final failure: 410 or another non-retryable answer, or the retry
    /// schedule ran out; final.
    Failed,
    /// The queue never had this id.
    Unknown,
}

impl State {
    pub(crate) fn parse(text: &str) -> State {
        match text {
            "pending" => State::Pending,
            "delivered" => State::Delivered,
            "failed" => State::Failed,
            _ => State::Unknown,
        }
    }

    /// `pending`, `delivered`, `failed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Failed => "failed",
            State::Unknown => "unknown",
        }
    }

    /// Delivered or failed: nothing more will happen to the message.
    pub fn is_final(self) -> bool {
        matches!(self, State::Delivered | State::Failed)
    }
}

/// One message as MessageStatus reports it:
/// `{"id","state","attempts","status","error","next_attempt"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageStatus {
    pub id: String,
    pub state: State,
    /// Attempts made so far.
    pub attempts: u32,
    /// HTTP status of the last attempt; 0 when it got no answer (or there
    /// was none yet), as StatusCode does.
    pub status: u16,
    /// Why the last attempt got no answer (English, as the HTTP core says
    /// it); "" when it got one, as ErrorText does.
    pub error: String,
    /// When a pending message is due next, RFC 3339 in UTC with seconds
    /// (`2024-05-01T12:00:05Z`; in the past while an attempt is running or
    /// the message waits for a free delivery thread); `null` once the
    /// message is final or unknown.
    pub next_attempt: Option<String>,
}

impl MessageStatus {
    /// The status of an id the queue never had.
    pub fn unknown(id: &str) -> MessageStatus {
        MessageStatus {
            id: id.to_string(),
            state: State::Unknown,
            attempts: 0,
            status: 0,
            error: String::new(),
            next_attempt: None,
        }
    }

    /// The JSON object of MessageStatus.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// Messages of a whole directory by state, as QueueStatus reports them:
/// `{"pending","delivered","failed"}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
}

impl Counts {
    /// The JSON object of QueueStatus.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// One recorded attempt of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When it started, RFC 3339 in UTC with milliseconds.
    pub time: String,
    /// HTTP status; 0 when no answer came.
    pub status: u16,
    /// Why no answer came; "" when one did.
    pub error: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The first KiB of the answer's body as text (decoded by its charset).
    pub response_excerpt: String,
    /// Which worker made it (process id and a random tag), to tell processes
    /// sharing a directory apart.
    pub worker: String,
}

impl Attempt {
    /// The attempt as a JSON object with the field names above.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Structs of strings and numbers always serialise.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_documented_shape() {
        let status = MessageStatus {
            id: "doc-1".into(),
            state: State::Pending,
            attempts: 2,
            status: 503,
            error: String::new(),
            next_attempt: Some("2024-05-01T12:00:05Z".into()),
        };
        assert_eq!(
            status.to_json(),
            r#"{"id":"doc-1","state":"pending","attempts":2,"status":503,"error":"","next_attempt":"2024-05-01T12:00:05Z"}"#
        );
        assert_eq!(
            MessageStatus::unknown("x").to_json(),
            r#"{"id":"x","state":"unknown","attempts":0,"status":0,"error":"","next_attempt":null}"#
        );
        let counts = Counts {
            pending: 1,
            delivered: 2,
            failed: 3,
        };
        assert_eq!(
            counts.to_json(),
            r#"{"pending":1,"delivered":2,"failed":3}"#
        );
    }

    #[test]
    fn states_round_trip() {
        for state in [State::Pending, State::Delivered, State::Failed] {
            assert_eq!(State::parse(state.as_str()), state);
        }
        assert_eq!(State::parse("nonsense"), State::Unknown);
        assert!(State::Failed.is_final() && !State::Pending.is_final());
    }
}
