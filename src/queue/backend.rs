//! The store behind a queue, as the delivery engine (`worker`, `attempt`)
//! and the API (`Queue`) see it: every read and state change a queue makes,
//! with its transaction boundaries. The engine, its leases, retries,
//! retention and notifications exist once; a store only keeps rows.
//! [`super::embedded::Embedded`] keeps them in SQLite in a QueueDirectory.

use std::time::Duration;

use super::schedule::Verdict;
use super::status::{Attempt, Counts, MessageStatus, State};
use super::store::{AttemptRecord, Claimed, Finished};
use super::QueueError;

/// A message as Enqueue stores it.
pub(crate) struct NewMessage {
    pub id: String,
    /// The request, transport, signing secret and schedule (JSON).
    pub job: String,
    pub body: Option<bytes::Bytes>,
    /// How long one attempt may hold the message.
    pub lease: Duration,
    /// How long the message stays once final (QueueRetention).
    pub retention: Duration,
}

/// The outcome of one attempt, to record.
pub(crate) struct Outcome<'a> {
    pub id: &'a str,
    /// The claim it was attempted under.
    pub token: i64,
    pub attempt: Option<&'a AttemptRecord>,
    pub verdict: Verdict,
    pub last_error: &'a str,
}

/// The rows of one queue. Every method is durable when it returns (a
/// write is committed) and is safe to call from many threads and, for the
/// rows themselves, from many processes at once.
pub(crate) trait Store: Send + Sync {
    /// Adds a pending message due now; false when the id is there already
    /// (in any state), which changes nothing.
    fn insert(&self, message: NewMessage) -> Result<bool, QueueError>;

    /// Where a message stands; `None` when the store never had it.
    fn status(&self, id: &str) -> Result<Option<MessageStatus>, QueueError>;

    fn counts(&self) -> Result<Counts, QueueError>;

    /// Up to `limit` messages in `state`, newest first.
    fn messages(&self, state: State, limit: usize) -> Result<Vec<MessageStatus>, QueueError>;

    /// The recorded attempts of `id`, first one first.
    fn attempts(&self, id: &str) -> Result<Vec<Attempt>, QueueError>;

    /// Whether any message is pending (due now or later).
    fn any_pending(&self) -> Result<bool, QueueError>;

    /// A failed message back to pending for a fresh round; false when it is
    /// not failed, unknown or past its retention.
    fn requeue(&self, id: &str) -> Result<bool, QueueError>;

    /// Leases up to `limit` due messages to `owner`, oldest due first, for
    /// each message's own lease or `lease`; two workers never get the same
    /// message while a lease holds.
    fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Option<Duration>,
    ) -> Result<Vec<Claimed>, QueueError>;

    /// Records `outcome` and, with `take_next`, leases one more due message
    /// to `owner` in the same transaction.
    fn finish(
        &self,
        outcome: &Outcome<'_>,
        take_next: Option<(&str, Option<Duration>)>,
    ) -> Result<(Finished, Option<Claimed>), QueueError>;

    /// Deletes the final messages whose retention has passed; true when a
    /// row went.
    fn purge(&self) -> Result<bool, QueueError>;

    /// After erasures: makes sure the erased bytes left every file. False
    /// when it could not yet (try again later).
    fn flush_erased(&self) -> Result<bool, QueueError>;

    /// False once the store this worker opened was replaced under it (its
    /// file deleted), so a new worker must open the new one.
    fn is_current(&self) -> bool;

    /// Transactions committed by this process's writes (benchmarks).
    fn commits(&self) -> u64;
}
