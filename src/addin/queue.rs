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
use crate::queue::{self, Job, Queue};

/// WaitForDelivery's default limit, in seconds.
pub const DEFAULT_WAIT_SECONDS: f64 = 30.0;

/// WaitForDelivery's longest timeout: a 1C call that blocks for more than
/// an hour is a mistake, not a wait.
pub const MAX_WAIT_SECONDS: u64 = 3600;

impl Client {
    /// The QueueDirectory in effect: the property, or the per-user default.
    pub fn queue_directory(&self) -> PathBuf {
        let dir = self.queue_directory.trim();
        if dir.is_empty() {
            queue::default_directory()
        } else {
            PathBuf::from(dir)
        }
    }

    fn queue(&self) -> Result<Queue, CallError> {
        Ok(Queue::open(&self.queue_directory())?)
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
        };
        let queue = self.queue()?;
        let id = queue.enqueue(job)?;
        self.events.watch(&queue, &id);
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

    /// Where ExternalEvent goes (the host's connection), or None after Done.
    pub fn set_event_sink(&self, sink: Option<Arc<dyn EventSink>>) {
        self.events.set_sink(sink);
    }
}
