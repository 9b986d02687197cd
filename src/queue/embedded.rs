//! The embedded store: the queue's rows in SQLite in a QueueDirectory
//! (`store` holds the statements). Reads go through one connection, writes
//! through the group commit; every use of either is inside a pass of the
//! directory's gate, because other copies of the library in this process
//! may use the same file (see `copies`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::backend::{NewMessage, Outcome, Store};
use super::copies::{self, Gate};
use super::directory;
use super::group::{GroupCommit, Write};
use super::status::{Attempt, Counts, MessageStatus, State};
use super::store::{self, Claimed, Finished, MigrateError};
use super::worker::lock;
use super::QueueError;

pub(crate) struct Embedded {
    db_path: PathBuf,
    /// The connection of the API's reads (status, counts).
    api: Mutex<store::Held>,
    gate: Arc<Gate>,
    /// The database file's identity when it was opened.
    identity: Option<(u64, u64)>,
    /// Every write (enqueued messages, claims, recorded outcomes), in
    /// shared transactions: one sync per batch, not per write.
    writer: GroupCommit,
}

impl Embedded {
    /// Opens the database of `dir` (already created and canonical) and
    /// makes its tables ready.
    pub fn open(dir: &Path) -> Result<Embedded, QueueError> {
        let db_path = dir.join(store::DATABASE_FILE);
        let db_error = |source| QueueError::Database {
            path: db_path.clone(),
            source,
        };
        let dir_error = |source| QueueError::Directory {
            path: dir.to_path_buf(),
            source,
        };
        let gate = Arc::new(Gate::for_directory(dir).map_err(dir_error)?);
        // Other processes open the same file under the same lock. A new
        // database keeps its first commits (the tables, the first Enqueue)
        // in the WAL while the database file is still zero bytes long, and
        // SQLite deletes the WAL of a zero-byte database when a connection
        // opens it: a second process that opened the file then would have
        // discarded the first process's first message. So the first opener
        // checkpoints before it lets anyone else in.
        let open_lock = directory::open_lock(dir).map_err(dir_error)?;
        // Opening runs SQL too (journal mode, the shared-memory index): it
        // is a use of the file like any other, so inside a pass.
        let (api, writer_conn) = {
            let pass = gate
                .enter(Instant::now() + store::BUSY_TIMEOUT)
                .ok_or_else(|| db_error(copies::busy()))?;
            let mut api = store::connect(&db_path).map_err(db_error)?;
            store::migrate(&mut api).map_err(|e| match e {
                MigrateError::Newer(found) => QueueError::NewerSchema {
                    path: db_path.clone(),
                    found,
                    supported: store::SCHEMA_VERSION,
                },
                MigrateError::Sqlite(e) => db_error(e),
            })?;
            if std::fs::metadata(&db_path).map_err(dir_error)?.len() == 0
                && !store::checkpoint(&api).map_err(db_error)?
            {
                // Only this process can have the new file open (the others
                // wait for the lock), so no reader can hold old frames.
                log::warn!(
                    "queue database {}: the new file could not be checkpointed",
                    db_path.display()
                );
            }
            let writer_conn = store::connect(&db_path).map_err(db_error)?;
            drop(pass);
            (api, writer_conn)
        };
        drop(open_lock);
        // The files exist now (journal_mode=WAL made -wal and -shm); SQLite
        // gives files it creates later the database file's mode.
        directory::secure_files(dir, store::DATABASE_FILE).map_err(dir_error)?;
        directory::secure_files(dir, directory::OPEN_LOCK_FILE).map_err(dir_error)?;
        let identity = directory::identity(&db_path);
        Ok(Embedded {
            db_path,
            api: Mutex::new(api),
            gate: Arc::clone(&gate),
            identity,
            writer: GroupCommit::new(writer_conn, gate),
        })
    }

    fn error(&self, source: rusqlite::Error) -> QueueError {
        QueueError::Database {
            path: self.db_path.clone(),
            source,
        }
    }

    /// Runs `f` on the API connection.
    fn read<T>(
        &self,
        f: impl FnMut(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, QueueError> {
        let mut api = lock(&self.api);
        let deadline = Instant::now() + store::BUSY_TIMEOUT;
        copies::using(&self.gate, &mut api, deadline, f).map_err(|e| self.error(e))
    }

    /// Applies `write` durably, together with other writes waiting at the
    /// same time.
    fn write(&self, write: Write) -> Result<bool, QueueError> {
        self.writer.write(write).map_err(|e| self.error(e))
    }
}

impl Store for Embedded {
    fn insert(&self, m: NewMessage) -> Result<bool, QueueError> {
        self.write(Box::new(move |c| {
            store::insert(c, &m.id, &m.job, m.body.as_deref(), m.lease, m.retention)
        }))
    }

    fn status(&self, id: &str) -> Result<Option<MessageStatus>, QueueError> {
        self.read(|c| store::status(c, id))
    }

    fn counts(&self) -> Result<Counts, QueueError> {
        self.read(|c| store::counts(c))
    }

    fn messages(&self, state: State, limit: usize) -> Result<Vec<MessageStatus>, QueueError> {
        self.read(|c| store::messages(c, state, limit))
    }

    fn attempts(&self, id: &str) -> Result<Vec<Attempt>, QueueError> {
        self.read(|c| store::attempts(c, id))
    }

    fn any_pending(&self) -> Result<bool, QueueError> {
        self.read(|c| store::any_pending(c))
    }

    fn requeue(&self, id: &str) -> Result<bool, QueueError> {
        let id = id.to_string();
        self.write(Box::new(move |c| store::requeue(c, &id)))
    }

    fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Option<Duration>,
    ) -> Result<Vec<Claimed>, QueueError> {
        let found = Arc::new(Mutex::new(Vec::new()));
        let out = Arc::clone(&found);
        let owner = owner.to_string();
        self.write(Box::new(move |c| {
            let batch = store::claim_in(c, &owner, limit, lease)?;
            let any = !batch.is_empty();
            // Run again alone after a rolled-back batch: this replaces the
            // rows of the attempt that did not count.
            *lock(&out) = batch;
            Ok(any)
        }))?;
        let claimed = std::mem::take(&mut *lock(&found));
        Ok(claimed)
    }

    fn finish(
        &self,
        outcome: &Outcome<'_>,
        take_next: Option<(&str, Option<Duration>)>,
    ) -> Result<(Finished, Option<Claimed>), QueueError> {
        let (id, token, record, verdict, last_error) = (
            outcome.id.to_string(),
            outcome.token,
            outcome.attempt.cloned(),
            outcome.verdict,
            outcome.last_error.to_string(),
        );
        let next_for = take_next.map(|(owner, lease)| (owner.to_string(), lease));
        let out = Arc::new(Mutex::new((Finished::default(), None)));
        let slot = Arc::clone(&out);
        self.write(Box::new(move |c| {
            let finished = store::finish(c, &id, token, record.as_ref(), verdict, &last_error)?;
            let changed = finished.changed;
            // Run again alone after a rolled-back batch: this replaces the
            // outcome and the claim that did not count.
            let next = match &next_for {
                Some((owner, lease)) => store::claim_in(c, owner, 1, *lease)?.pop(),
                None => None,
            };
            *lock(&slot) = (finished, next);
            Ok(changed)
        }))?;
        let done = std::mem::take(&mut *lock(&out));
        Ok(done)
    }

    fn purge(&self) -> Result<bool, QueueError> {
        self.write(Box::new(|c| Ok(store::purge(c)? > 0)))
    }

    fn flush_erased(&self) -> Result<bool, QueueError> {
        self.writer
            .with_connection(|c| store::checkpoint(c))
            .map_err(|e| self.error(e))
    }

    fn is_current(&self) -> bool {
        directory::identity(&self.db_path) == self.identity
    }

    fn commits(&self) -> u64 {
        self.writer.commits()
    }
}
