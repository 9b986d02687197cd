//! ExternalEvent for queued messages: each final outcome (delivered or
//! failed) of a message this object enqueued is sent once to this object's
//! host connection, from the worker thread that settled it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::host::EventSink;
use crate::queue::{Queue, State, Subscription};

/// `source` of every ExternalEvent.
pub const EVENT_SOURCE: &str = "Webhook1C";

/// The host's event buffer depth asked for at Init. 1C keeps one waiting
/// event by default and drops later ones (ExternalEvent answers false)
/// until the 1C code is idle again; a burst of outcomes (a scheduled job
/// enqueuing a few hundred messages to a receiver that comes back up)
/// would lose all but the first. A thousand events of a few hundred bytes
/// each is well under a megabyte of the host's memory.
pub const EVENT_BUFFER_DEPTH: i32 = 1000;

type Slot = Arc<Mutex<Option<Arc<dyn EventSink>>>>;

/// The object's side of the queue's outcome notifications.
#[derive(Default)]
pub struct EventRelay {
    /// The host connection; cleared on Done. Held locked while an event is
    /// sent, so clearing it waits for an event in flight.
    sink: Slot,
    /// Messages this object enqueued and has not heard the end of, with
    /// the LogFile they were enqueued with (for warnings about them).
    ids: Arc<Mutex<HashMap<String, Option<PathBuf>>>>,
    subscription: Option<(PathBuf, Subscription)>,
}

impl EventRelay {
    pub fn set_sink(&self, sink: Option<Arc<dyn EventSink>>) {
        *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = sink;
    }

    /// Remembers `id` (and the LogFile its warnings go to) and makes sure
    /// this object hears `queue`'s outcomes.
    pub fn watch(&mut self, queue: &Queue, id: &str, log_file: Option<PathBuf>) {
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), log_file);
        let dir = queue.directory().to_path_buf();
        if self.subscription.as_ref().is_some_and(|(d, _)| *d == dir) {
            return;
        }
        let (sink, ids) = (self.sink.clone(), self.ids.clone());
        let subscription = queue.subscribe(Arc::new(move |status| {
            let Some(log_file) = ids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&status.id)
            else {
                return;
            };
            let message = if status.state == State::Delivered {
                "Delivered"
            } else {
                "Failed"
            };
            if let Some(sink) = sink.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                if !sink.external_event(EVENT_SOURCE, message, &status.to_json()) {
                    // The outcome itself is in the queue (MessageStatus);
                    // only the notification is lost.
                    crate::audit::warn(
                        log_file.as_deref(),
                        format_args!(
                            "message {}: the host refused the {message} event (its event buffer is full)",
                            status.id
                        ),
                    );
                }
            }
        }));
        self.subscription = Some((dir, subscription));
    }
}

impl Drop for EventRelay {
    fn drop(&mut self) {
        // The connection is the host's: no event may use it after the
        // object is gone.
        self.set_sink(None);
    }
}
