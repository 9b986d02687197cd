//! The durable delivery queue behind Enqueue: webhooks stored in SQLite in a
//! QueueDirectory and delivered in the background with retries, by every
//! process that opens the directory.
//!
//! Invariant: a message is committed to disk before [`Queue::enqueue`]
//! returns and leaves `pending` only through a recorded attempt (2xx makes
//! it `delivered`; a hopeless answer or the end of its schedule makes it
//! `failed`). A worker attempts a message only while it holds the message's
//! time-limited lease, so processes sharing a directory deliver each message
//! once in the normal case, and a dead process's messages become due again
//! when its leases run out.
//!
//! The directory must be on a local disk: SQLite's WAL mode shares memory
//! between the processes using the file, which network file systems do not
//! provide, so processes on different machines cannot share one directory
//! ([`directory`] refuses one that is remote or not private).
//!
//! The delivery engine (`worker`, `attempt`, `schedule`) works over the
//! [`backend::Store`] trait; `embedded` is the SQLite store.
//!
//! Nothing here knows 1C: the add-in maps Enqueue, MessageStatus,
//! QueueStatus and WaitForDelivery onto [`Queue`], and its ExternalEvent
//! onto [`Queue::subscribe`].

mod attempt;
mod backend;
mod copies;
mod directory;
mod embedded;
mod error;
mod group;
mod job;
mod postgres;
mod schedule;
mod status;
mod store;
mod time;
mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use once_cell::sync::Lazy;

pub use directory::default_directory;
pub use error::{QueueError, Unsafe};
pub use job::{Job, DEFAULT_RETENTION, DEFAULT_SCHEDULE, MAX_ATTEMPT_TIMEOUT, MAX_ID_LEN};
pub use schedule::{JITTER, MAX_PAUSE};
pub use status::{Attempt, Counts, MessageStatus, State};
pub use store::{BUSY_TIMEOUT, DATABASE_FILE};
pub use time::{skew_system_clock, system_ms};
pub use worker::{Listener, CONCURRENCY, EXCERPT_BYTES, POLL_INTERVAL};

use worker::{lock, Shared};

/// The workers of this process, one per canonical directory. Entries stay
/// for the life of the process: pending messages keep being delivered after
/// the last 1C object that enqueued them is gone.
static OPEN: Lazy<Mutex<HashMap<Key, Arc<Shared>>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// What a worker serves: a canonical QueueDirectory or a QueueDatabase URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Directory(PathBuf),
    Database(String),
}

/// Workers whose database was deleted under them: kept, never dropped, so
/// their connections are never closed.
static RETIRED: Lazy<Mutex<Vec<Arc<Shared>>>> = Lazy::new(|| Mutex::new(Vec::new()));

/// One QueueDirectory. Cheap to clone; every handle of a directory in this
/// process shares one database connection for its calls and one worker.
#[derive(Clone)]
pub struct Queue {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("directory", &self.shared.dir)
            .field("worker", &self.shared.owner)
            .finish()
    }
}

impl Queue {
    /// Opens the queue in `dir`, creating the directory (private to the
    /// user on Unix) and the database when missing. The first open of a
    /// directory in this process starts its delivery worker, which then
    /// resumes whatever is pending there, including messages of processes
    /// that died; later opens return a handle to the same worker.
    ///
    /// A directory whose database was deleted (or replaced) since its
    /// worker started gets a new worker on the new files: nothing accepted
    /// later goes into a deleted file. The old worker stops; its
    /// connections stay open (on the deleted files) for the reason given in
    /// `copies`: no connection of the queue is ever closed.
    pub fn open(dir: &Path) -> Result<Queue, QueueError> {
        let dir = directory::prepare(dir)?;
        let key = Key::Directory(dir.clone());
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(shared) = open.get(&key) {
            if shared.is_current() {
                return Ok(Queue {
                    shared: Arc::clone(shared),
                });
            }
            log::warn!(
                "queue {}: the database was deleted or replaced; opening the new one",
                dir.display()
            );
            shared.stop();
            if let Some(old) = open.remove(&key) {
                lock(&RETIRED).push(old);
            }
        }
        let shared = Shared::start(dir, None)?;
        open.insert(key, Arc::clone(&shared));
        Ok(Queue { shared })
    }

    /// Opens the queue in the PostgreSQL database `url`
    /// (`postgresql://user[:password]@host[:port]/db[?…]`), creating its
    /// schema when missing. As with a directory, the first open in this
    /// process starts the worker that delivers whatever is pending there,
    /// whichever server enqueued it; later opens share it.
    pub fn open_database(url: &str) -> Result<Queue, QueueError> {
        let key = Key::Database(url.trim().to_string());
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(shared) = open.get(&key) {
            return Ok(Queue {
                shared: Arc::clone(shared),
            });
        }
        let target = postgres::Target::parse(url)?;
        let label = PathBuf::from(&target.shown);
        let store = Box::new(postgres::Postgres::open(target)?);
        let shared = Shared::with_store(label, store, None)?;
        open.insert(key, Arc::clone(&shared));
        Ok(Queue { shared })
    }

    /// [`Queue::open_database`] with a worker of its own and the lease
    /// override of [`Queue::open_unshared_with_lease`]. For tests.
    #[doc(hidden)]
    pub fn open_database_unshared(url: &str, lease: Option<Duration>) -> Result<Queue, QueueError> {
        let target = postgres::Target::parse(url)?;
        let label = PathBuf::from(&target.shown);
        let store = Box::new(postgres::Postgres::open(target)?);
        Ok(Queue {
            shared: Shared::with_store(label, store, lease)?,
        })
    }

    /// A QueueDatabase URL as texts show it: without its password or query.
    pub fn shown_database(url: &str) -> String {
        postgres::show(url)
    }

    /// A QueueDatabase URL as the property reads back: password as `***`.
    pub fn masked_database(url: &str) -> String {
        postgres::masked(url)
    }

    /// Checks a QueueDatabase URL without connecting.
    pub fn check_database(url: &str) -> Result<(), QueueError> {
        postgres::Target::parse(url).map(|_| ())
    }

    /// Opens `dir` with connections and a worker of its own, outside the
    /// process cache: within one process it behaves like another process
    /// sharing the directory. For tests of the multi-process behaviour.
    #[doc(hidden)]
    pub fn open_unshared(dir: &Path) -> Result<Queue, QueueError> {
        Queue::open_unshared_with_lease(dir, None)
    }

    /// [`Queue::open_unshared`] whose worker leases every message it claims
    /// for `lease` instead of the message's own timeout plus margin, so a
    /// test that kills it sees its messages resume quickly.
    #[doc(hidden)]
    pub fn open_unshared_with_lease(
        dir: &Path,
        lease: Option<Duration>,
    ) -> Result<Queue, QueueError> {
        let dir = directory::prepare(dir)?;
        Ok(Queue {
            shared: Shared::start(dir, lease)?,
        })
    }

    /// The canonical directory.
    pub fn directory(&self) -> &Path {
        &self.shared.dir
    }

    /// This process's worker name as attempts record it.
    pub fn worker_name(&self) -> &str {
        &self.shared.owner
    }

    /// Stores `job` for delivery and returns its id once the row is
    /// committed and synced to disk. The first attempt starts at once. An id
    /// already in the queue (in any state) adds nothing and comes back as
    /// it is, so enqueueing with a document's UUID is idempotent. Checks the
    /// id, URL, headers and signing secret first, so a mistake fails here
    /// rather than in the background.
    pub fn enqueue(&self, job: Job) -> Result<String, QueueError> {
        let prepared = job::prepare(job)?;
        let id = prepared.id.clone();
        // Committed, with whatever other writes wait at the same moment,
        // before `write` returns.
        let added = self.shared.store.insert(backend::NewMessage {
            id: prepared.id,
            job: prepared.json,
            body: prepared.body,
            lease: prepared.lease,
            retention: prepared.retention,
        })?;
        if added {
            self.shared.wake_scheduler();
        }
        Ok(id)
    }

    /// Where message `id` stands; `unknown` when the queue never had it.
    pub fn status(&self, id: &str) -> Result<MessageStatus, QueueError> {
        Ok(self
            .shared
            .store
            .status(id)?
            .unwrap_or_else(|| MessageStatus::unknown(id)))
    }

    /// Messages by state in the whole directory, whichever process
    /// enqueued or delivered them.
    pub fn counts(&self) -> Result<Counts, QueueError> {
        self.shared.store.counts()
    }

    /// Blocks until no message of the directory is pending (true) or
    /// `timeout` passes (false). Messages waiting for a later retry count
    /// as pending.
    pub fn wait_idle(&self, timeout: Duration) -> Result<bool, QueueError> {
        self.shared.wait_idle(timeout)
    }

    /// Up to `limit` messages in `state`, newest first.
    pub fn messages(&self, state: State, limit: usize) -> Result<Vec<MessageStatus>, QueueError> {
        self.shared.store.messages(state, limit)
    }

    /// Puts a failed message back to pending for a fresh round of attempts;
    /// false when it is not failed, unknown, or past its retention.
    pub fn requeue(&self, id: &str) -> Result<bool, QueueError> {
        let requeued = self.shared.store.requeue(id)?;
        if requeued {
            self.shared.wake_scheduler();
        }
        Ok(requeued)
    }

    /// The recorded attempts of `id`, first one first; empty when there
    /// were none (or the id is unknown).
    pub fn attempts(&self, id: &str) -> Result<Vec<Attempt>, QueueError> {
        self.shared.store.attempts(id)
    }

    /// Calls `listener` once with the final status (delivered or failed) of
    /// every message whose final attempt this process makes, on a delivery
    /// thread; it should return quickly. A panic in it is caught and logged.
    /// Dropping the [`Subscription`] unsubscribes.
    pub fn subscribe(&self, listener: Listener) -> Subscription {
        Subscription {
            shared: Arc::downgrade(&self.shared),
            key: self.shared.subscribe(listener),
        }
    }

    /// Transactions committed by this directory's writes in this process so
    /// far: each costs one sync, and concurrent Enqueue calls, claims and
    /// recorded outcomes share them. For benchmarks.
    #[doc(hidden)]
    pub fn commits(&self) -> u64 {
        self.shared.commits()
    }

    /// Stops this handle's worker after the attempts in progress, as if its
    /// process had died: messages it had leased stay leased until their
    /// lease runs out. Meant for [`Queue::open_unshared`] handles in tests.
    #[doc(hidden)]
    pub fn stop_worker(&self) {
        self.shared.stop();
    }

    /// Leases up to `limit` due messages to a worker named `owner` for
    /// `lease`, without attempting them, as a process that dies right after
    /// claiming would. Returns their ids. For tests of lease expiry.
    #[doc(hidden)]
    pub fn claim_as(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<String>, QueueError> {
        let claimed = self.shared.store.claim(owner, limit, Some(lease))?;
        Ok(claimed.into_iter().map(|c| c.id).collect())
    }
}

/// Keeps a [`Queue::subscribe`] listener registered; dropping it
/// unsubscribes.
#[must_use = "dropping the Subscription unsubscribes at once"]
pub struct Subscription {
    shared: Weak<Shared>,
    key: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("key", &self.key)
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.unsubscribe(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_directory_is_absolute_and_named() {
        let dir = default_directory().expect("HOME is set where tests run");
        assert!(dir.is_absolute());
        assert!(dir.ends_with(Path::new("Webhook1C").join("queue")));
    }

    #[test]
    fn two_spellings_of_a_directory_share_one_worker() {
        let base = std::env::temp_dir().join(format!(
            "webhook1c-queue-unit-{}-{}",
            std::process::id(),
            time::now_ms()
        ));
        std::fs::create_dir_all(base.join("sub")).unwrap();
        let a = Queue::open(&base).unwrap();
        let b = Queue::open(&base.join("sub").join("..")).unwrap();
        assert_eq!(a.worker_name(), b.worker_name());
        assert_eq!(a.directory(), b.directory());
        assert!(a.directory().join(DATABASE_FILE).exists());
        assert_eq!(a.status("none").unwrap().state, State::Unknown);
        // The worker keeps its (then unlinked) files open; that is harmless.
        let _ = std::fs::remove_dir_all(&base);
    }
}
