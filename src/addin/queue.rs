//! The delivery queue as the object shows it: Enqueue stores the request a
//! PostJson with the same arguments would send, with the object's
//! transport, signer, retry schedule and audit log; the other members read
//! the queue of QueueDirectory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::args::Args;
use super::calls::json_call;
use super::client::Client;
use super::errors::CallError;
use crate::host::{EventSink, Value};
use crate::queue::{self, Job, Queue, QueueError, State};

/// Messages' default Limit.
pub const DEFAULT_LIST: usize = 100;

/// Messages' largest Limit: one call hands 1C at most this many statuses.
pub const MAX_LIST: usize = 10_000;

/// QueueRetention's largest value, in days (ten years).
pub const MAX_RETENTION_DAYS: f64 = 3650.0;

/// WaitForDelivery's default limit, in seconds.
pub const DEFAULT_WAIT_SECONDS: f64 = 30.0;

/// WaitForDelivery's longest timeout: a 1C call that blocks for more than
/// an hour is a mistake, not a wait.
pub const MAX_WAIT_SECONDS: u64 = 3600;

impl Client {
    /// The QueueDirectory in effect: the property, or the per-user default
    /// (`None` when the environment names no per-user folder).
    pub fn queue_directory(&self) -> Option<PathBuf> {
        let dir = self.queue_directory.trim();
        if dir.is_empty() {
            queue::default_directory()
        } else {
            Some(PathBuf::from(dir))
        }
    }

    fn queue(&self) -> Result<Queue, CallError> {
        let database = self.queue_database.trim();
        if !database.is_empty() {
            return Ok(Queue::open_database(database)?);
        }
        let dir = self
            .queue_directory()
            .ok_or(CallError::Queue(QueueError::NoDefaultDirectory))?;
        Ok(Queue::open(&dir)?)
    }

    /// Enqueue(URL, Json, [Headers], [MessageId]).
    pub fn enqueue(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let (url, json, headers, id) = (a.str(0)?, a.json(1)?, a.headers(2)?, a.opt_str(3)?);
        let request = self.shape(json_call(url, json, headers));
        let job = Job {
            id: id.trim().to_string(),
            request,
            transport: self.transport.clone(),
            signer: self.signer.clone(),
            schedule: self.retry_schedule.clone(),
            log_file: self.log_file_path(),
            retention: self.queue_retention,
        };
        let queue = self.queue()?;
        let id = queue.enqueue(job)?;
        self.events.watch(&queue, &id, self.log_file_path());
        Ok(Value::string(&id))
    }

    /// MessageStatus(MessageId): the status JSON.
    pub fn message_status(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let id = a.str(0)?;
        let status = self.queue()?.status(id.trim())?;
        Ok(Value::string(&status.to_json()))
    }

    /// QueueStatus(): counts by state for the whole directory.
    pub fn queue_status(&mut self, _: &mut Args) -> Result<Value, CallError> {
        Ok(Value::string(&self.queue()?.counts()?.to_json()))
    }

    /// WaitForDelivery([TimeoutSeconds]): true when nothing is pending.
    pub fn wait_for_delivery(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let timeout = a.get(0);
        let seconds = if timeout.is_undefined() {
            DEFAULT_WAIT_SECONDS
        } else {
            let seconds = timeout.seconds()?;
            if seconds > MAX_WAIT_SECONDS as f64 {
                return Err(CallError::AboveMaximum {
                    target: timeout.target(),
                    max: MAX_WAIT_SECONDS,
                });
            }
            seconds
        };
        let idle = self.queue()?.wait_idle(Duration::from_secs_f64(seconds))?;
        Ok(Value::Bool(idle))
    }

    /// Messages(State, [Limit]): a JSON array of statuses, newest first.
    pub fn messages(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let state = a.get(0);
        let text = state.str()?;
        let state = match text.trim().to_ascii_lowercase().as_str() {
            "pending" => State::Pending,
            "delivered" => State::Delivered,
            "failed" => State::Failed,
            _ => {
                return Err(CallError::InvalidState {
                    target: state.target(),
                    got: text.trim().to_string(),
                })
            }
        };
        let limit = a.get(1);
        let n = if limit.is_undefined() {
            DEFAULT_LIST as f64
        } else {
            limit.number()?
        };
        if n < 1.0 || n.fract() != 0.0 || !n.is_finite() {
            return Err(CallError::OutOfRange {
                target: limit.target(),
            });
        }
        if n > MAX_LIST as f64 {
            return Err(CallError::AboveMaximum {
                target: limit.target(),
                max: MAX_LIST as u64,
            });
        }
        let list = self.queue()?.messages(state, n as usize)?;
        let json: Vec<serde_json::Value> = list
            .iter()
            .map(|s| serde_json::from_str(&s.to_json()).unwrap_or_default())
            .collect();
        Ok(Value::string(&serde_json::Value::Array(json).to_string()))
    }

    /// Requeue(MessageId): true when a failed message is pending again.
    pub fn requeue(&mut self, a: &mut Args) -> Result<Value, CallError> {
        let id = a.str(0)?;
        let id = id.trim();
        let queue = self.queue()?;
        let requeued = queue.requeue(id)?;
        if requeued {
            // Its new outcome is reported like a fresh Enqueue's.
            self.events.watch(&queue, id, self.log_file_path());
        }
        Ok(Value::Bool(requeued))
    }

    /// Where ExternalEvent goes (the host's connection), or None after Done.
    pub fn set_event_sink(&self, sink: Option<Arc<dyn EventSink>>) {
        self.events.set_sink(sink);
    }
}
