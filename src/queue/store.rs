//! The SQLite file: its settings, its tables and every statement the queue
//! runs. Each state change is one transaction, so a process killed at any
//! instant leaves either the old row or the new one.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::schedule::Verdict;
use super::status::{Attempt, Counts, MessageStatus, State};
use super::time;

/// The database file inside a QueueDirectory.
pub const DATABASE_FILE: &str = "queue.sqlite3";

/// The table layout this version writes (`PRAGMA user_version`). Layout 2
/// added `keep_ms` (QueueRetention) and the expiry index.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// How long a statement waits for another connection (or process) to
/// release the write lock before it reports "database is locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id              TEXT PRIMARY KEY NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    job             TEXT NOT NULL,          -- request, transport, secret, schedule (JSON)
    body            BLOB,
    created_at      INTEGER NOT NULL,       -- Unix ms, like every time here
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,                -- NULL once final
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    lease_ms        INTEGER NOT NULL,       -- attempt timeout + margin
    lease_owner     TEXT,                   -- worker holding the message now
    lease_until     INTEGER,                -- the claim is void after this
    lease_token     INTEGER NOT NULL DEFAULT 0, -- bumped by every claim
    finished_at     INTEGER,
    keep_ms         INTEGER NOT NULL DEFAULT 604800000 -- QueueRetention
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS messages_state ON messages (state);
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (finished_at + keep_ms)
    WHERE state <> 'pending';
CREATE TABLE IF NOT EXISTS attempts (
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    error       TEXT NOT NULL,
    response    TEXT NOT NULL,
    worker      TEXT NOT NULL,
    PRIMARY KEY (message_id, number)
);
";

/// From layout 1: every message then was kept for ever; it gets the
/// default retention.
const LAYOUT_1_TO_2: &str = "
ALTER TABLE messages ADD COLUMN keep_ms INTEGER NOT NULL DEFAULT 604800000;
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (finished_at + keep_ms)
    WHERE state <> 'pending';
";

/// A connection that is never closed: dropping it leaks it on purpose.
///
/// Why: 1C loads a new copy of this library (another file) after a
/// configuration's template is updated while the old copy keeps running in
/// the same process, and each copy links its own SQLite. POSIX advisory
/// locks belong to the process, not to a file descriptor, so when one copy
/// closes any descriptor of the database, its `-wal` or its `-shm`, the
/// kernel drops the locks the other copy holds on that file, and a third
/// party (another process) can then write or rebuild the shared-memory
/// index under it: the corruption SQLite's "How To Corrupt" page describes
/// in section 2.2.1. SQLite avoids this among the connections of one copy,
/// not across copies. So the queue opens its connections once per directory
/// and copy (the process-wide worker keeps them) and never closes one,
/// not even after an error: a failed transaction is rolled back on the same
/// connection. At process exit the kernel releases everything at once, when
/// no copy can be using the file any more. The other half of the remedy,
/// that two copies are never inside SQLite on one file at once, is the
/// gate in `copies`.
pub(crate) struct Held(std::mem::ManuallyDrop<Connection>);

impl std::ops::Deref for Held {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

/// Opens a connection with the settings every connection needs: WAL, so
/// readers never block the writer and other processes can share the file;
/// `synchronous=FULL`, so a commit is on disk (WAL fsync) before it returns;
/// the busy timeout, so concurrent writers wait instead of failing;
/// `secure_delete`, so the bytes of an erased request or a deleted row are
/// overwritten with zeros in the file instead of lingering in free space.
pub(crate) fn connect(path: &Path) -> rusqlite::Result<Held> {
    let conn = Held(std::mem::ManuallyDrop::new(Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?));
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode answers with the mode in force; it is persistent in the
    // file, so only the first connection ever changes it.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!(
            "queue database {}: journal mode is {mode}, not WAL",
            path.display()
        );
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

/// Why the tables could not be made ready.
pub(crate) enum MigrateError {
    /// A newer version of the add-in made the file (its `user_version`).
    Newer(i64),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

/// Creates the tables when the file is new; refuses a file laid out by a
/// newer version rather than guess at it.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    // Read first: the common case needs no write lock.
    let found = version(conn)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if found > SCHEMA_VERSION {
        return Err(MigrateError::Newer(found));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have created the tables since we looked.
    let found = version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::Newer(found));
    }
    match found {
        1 => tx.execute_batch(LAYOUT_1_TO_2)?,
        // A new file (or one already at this layout by now: nothing to do).
        0 => tx.execute_batch(SCHEMA)?,
        _ => {}
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Adds a pending message due now. False when the id is already there (in
/// any state): nothing is changed then.
pub(crate) fn insert(
    conn: &Connection,
    id: &str,
    job: &str,
    body: Option<&[u8]>,
    lease: Duration,
    keep: Duration,
) -> rusqlite::Result<bool> {
    let now = time::now_ms();
    let lease_ms = millis(lease);
    // In the caller's transaction (the worker's group commit), or its own
    // when there is none; with synchronous=FULL durable once committed.
    let added = conn
        .prepare_cached(
            "INSERT INTO messages (id, state, job, body, created_at, next_attempt_at, lease_ms, keep_ms)
             VALUES (?1, 'pending', ?2, ?3, ?4, ?4, ?5, ?6)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![id, job, body, now, lease_ms, millis(keep)])?;
    Ok(added == 1)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The columns [`status_row`] reads, in its order.
const STATUS_COLUMNS: &str = "id, state, attempts, last_status, last_error, next_attempt_at";

fn status_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageStatus> {
    let state = State::parse(&r.get::<_, String>(1)?);
    let next: Option<i64> = r.get(5)?;
    Ok(MessageStatus {
        id: r.get(0)?,
        state,
        attempts: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
        status: u16::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        error: r.get(4)?,
        next_attempt: next
            .filter(|_| state == State::Pending)
            .map(|ms| time::rfc3339(ms, false)),
    })
}

/// The status of `id`, `None` when the queue never had it (or its
/// retention has passed).
pub(crate) fn status(conn: &Connection, id: &str) -> rusqlite::Result<Option<MessageStatus>> {
    let now = time::now_ms();
    conn.prepare_cached(&format!(
        "SELECT {STATUS_COLUMNS} FROM messages
         WHERE id = ?1 AND (state = 'pending' OR finished_at + keep_ms > ?2)"
    ))?
    .query_row(params![id, now], status_row)
    .optional()
}

/// Up to `limit` messages in `state`, newest (by Enqueue) first. Final ones
/// past their retention are not listed, though the purge may not have
/// removed them yet.
pub(crate) fn messages(
    conn: &Connection,
    state: State,
    limit: usize,
) -> rusqlite::Result<Vec<MessageStatus>> {
    let now = time::now_ms();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATUS_COLUMNS} FROM messages INDEXED BY messages_state
         WHERE state = ?1 AND (state = 'pending' OR finished_at + keep_ms > ?2)
         ORDER BY created_at DESC, rowid DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![state.as_str(), now, limit], status_row)?;
    rows.collect()
}

/// Puts a failed message back to pending, due now, for a fresh round of
/// attempts (its attempt history stays and its numbering goes on). False
/// when `id` is unknown, not failed, or past its retention.
pub(crate) fn requeue(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    let now = time::now_ms();
    let changed = conn
        .prepare_cached(
            "UPDATE messages
             SET state = 'pending', attempts = 0, next_attempt_at = ?2, finished_at = NULL,
                 lease_owner = NULL, lease_until = NULL
             WHERE id = ?1 AND state = 'failed' AND finished_at + keep_ms > ?2 AND job <> ''",
        )?
        .execute(params![id, now])?;
    Ok(changed == 1)
}

/// Deletes the final messages whose retention has passed (with their
/// attempts); with `secure_delete` their bytes are overwritten. Returns how
/// many went.
pub(crate) fn purge(conn: &Connection) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM messages
         WHERE state <> 'pending' AND finished_at + keep_ms <= ?1",
    )?
    .execute([time::now_ms()])
}

/// Copies every page of the WAL into the database file and truncates the
/// WAL to nothing, so erased bytes survive in no old WAL frame. True when
/// it completed; false when a reader (another process, another copy of the
/// library) still uses old frames: try again later.
pub(crate) fn checkpoint(conn: &Connection) -> rusqlite::Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

/// Messages of the whole file by state.
pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<Counts> {
    let mut counts = Counts::default();
    let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM messages GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        let n = u64::try_from(n).unwrap_or(0);
        match State::parse(&state) {
            State::Pending => counts.pending = n,
            State::Delivered => counts.delivered = n,
            State::Failed => counts.failed = n,
            State::Unknown => {}
        }
    }
    Ok(counts)
}

/// True when some message of the file is pending.
pub(crate) fn any_pending(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE state = 'pending')")?
        .query_row([], |r| r.get(0))
}

/// The attempts of `id`, first one first.
pub(crate) fn attempts(conn: &Connection, id: &str) -> rusqlite::Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT number, started_at, status, error, duration_ms, response, worker
         FROM attempts WHERE message_id = ?1 ORDER BY number",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Attempt {
            number: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            time: time::rfc3339(r.get(1)?, true),
            status: u16::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            error: r.get(3)?,
            duration_ms: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
            response_excerpt: r.get(5)?,
            worker: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// A message this worker now holds under a lease.
pub(crate) struct Claimed {
    pub id: String,
    /// The claim's token: the outcome is applied only while it still matches.
    pub token: i64,
    /// Attempts made before this claim.
    pub attempts: u32,
    pub job: String,
    pub body: Option<Vec<u8>>,
    /// When the lease runs out, on this process's monotonic clock.
    pub deadline: std::time::Instant,
}

/// Leases up to `limit` due messages to `owner`, oldest due first. A message
/// is due when it is pending, its time has come and no live lease holds it:
/// an expired lease (its holder died or hung) counts as none. Select and
/// update run in one IMMEDIATE transaction, so two processes claiming at
/// once queue on the write lock and never get the same message.
/// `lease_override` replaces each message's own lease length. The worker
/// claims through [`claim_in`] in its group commit; this is for tests.
#[cfg(test)]
pub(crate) fn claim(
    conn: &mut Connection,
    owner: &str,
    limit: usize,
    lease_override: Option<Duration>,
) -> rusqlite::Result<Vec<Claimed>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let claimed = claim_in(&tx, owner, limit, lease_override)?;
    tx.commit()?;
    Ok(claimed)
}

/// [`claim`] inside the caller's IMMEDIATE transaction (the worker's group
/// commit): the write lock is already held when it reads the clock.
pub(crate) fn claim_in(
    tx: &Connection,
    owner: &str,
    limit: usize,
    lease_override: Option<Duration>,
) -> rusqlite::Result<Vec<Claimed>> {
    // Read the clock after the lock is ours: waiting for it must not make
    // us judge leases by a stale time.
    let now = time::now_ms();
    let lease = lease_override.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let claimed = {
        let mut stmt = tx.prepare_cached(
            "UPDATE messages
             SET lease_owner = ?1,
                 lease_until = ?2 + COALESCE(?4, lease_ms),
                 lease_token = lease_token + 1
             WHERE id IN (
                 -- Without statistics the planner would pick messages_state
                 -- and sort every pending row; due ones come first here.
                 SELECT id FROM messages INDEXED BY messages_due
                 WHERE state = 'pending' AND next_attempt_at <= ?2
                   AND (lease_until IS NULL OR lease_until < ?2)
                 ORDER BY next_attempt_at
                 LIMIT ?3)
             RETURNING id, lease_token, attempts, job, body, lease_until",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let claimed_at = std::time::Instant::now();
        let rows = stmt.query_map(params![owner, now, limit, lease], |r| {
            let until: i64 = r.get(5)?;
            let left = u64::try_from(until.saturating_sub(now)).unwrap_or(0);
            Ok(Claimed {
                id: r.get(0)?,
                token: r.get(1)?,
                attempts: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                job: r.get(3)?,
                body: r.get(4)?,
                deadline: claimed_at + Duration::from_millis(left),
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(claimed)
}

/// Debug builds only: `WEBHOOK1C_TEST_HOLD_WRITE=<message id>:<ms>` makes
/// the transaction that records that message's outcome keep the write lock
/// for `ms`, so a test can probe the file's locks while one copy of the
/// library holds them (tests/c_host_queue.rs). Release builds, the ones
/// package.sh ships, have no such hook.
#[cfg(debug_assertions)]
fn test_hold_write(id: &str) {
    let Ok(spec) = std::env::var("WEBHOOK1C_TEST_HOLD_WRITE") else {
        return;
    };
    if let Some((held, ms)) = spec.rsplit_once(':') {
        if let (true, Ok(ms)) = (held == id, ms.parse()) {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }
}

/// One attempt as it is recorded.
#[derive(Clone)]
pub(crate) struct AttemptRecord {
    pub started_at: i64,
    pub duration_ms: u64,
    pub status: u16,
    pub error: String,
    pub response: String,
    pub worker: String,
}

/// What [`finish`] did.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    /// The message's state changed through us.
    pub changed: bool,
    /// Its final status when our outcome made it final (read before a
    /// retention of zero deleted the row).
    pub final_status: Option<MessageStatus>,
    /// Request bytes were erased or a row deleted: a checkpoint is due.
    pub erased: bool,
}

/// Records an attempt (when there was one) and applies `verdict`. Run
/// it inside a transaction (the worker's group commit), so both or neither
/// happen.
///
/// The attempt is always recorded: it happened, and the receiver may have
/// seen it. A retry or failure is applied only while our claim (`token`)
/// still holds, because if our lease ran out another worker owns the
/// message now and its outcome counts. Delivered is applied whenever the
/// message is still pending: a 2xx is final whoever got it, and the other
/// worker's later outcome then finds the message no longer pending.
///
/// Delivered erases the request (URL, headers, credentials, signing
/// secret, transport settings) and the body in the same transaction; failed
/// keeps them for Requeue until the retention passes. A retention of zero
/// deletes a final message at once, attempts included.
pub(crate) fn finish(
    tx: &Connection,
    id: &str,
    token: i64,
    attempt: Option<&AttemptRecord>,
    verdict: Verdict,
    last_error: &str,
) -> rusqlite::Result<Finished> {
    #[cfg(debug_assertions)]
    test_hold_write(id);
    let now = time::now_ms();
    let status = attempt.map_or(0, |a| a.status);
    if let Some(a) = attempt {
        tx.prepare_cached(
            "INSERT INTO attempts
                 (message_id, number, started_at, duration_ms, status, error, response, worker)
             VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM attempts WHERE message_id = ?1),
                     ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            id,
            a.started_at,
            i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            a.status,
            a.error,
            a.response,
            a.worker
        ])?;
        tx.prepare_cached("UPDATE messages SET attempts = attempts + 1 WHERE id = ?1")?
            .execute([&id])?;
    }
    let changed = match verdict {
        Verdict::Delivered => tx
            .prepare_cached(
                "UPDATE messages
                 SET state = 'delivered', next_attempt_at = NULL, finished_at = ?2,
                     last_status = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL,
                     job = '', body = NULL
                 WHERE id = ?1 AND state = 'pending'",
            )?
            .execute(params![id, now, status, last_error])?,
        Verdict::Retry(pause) => tx
            .prepare_cached(
                "UPDATE messages
                 SET next_attempt_at = ?2, last_status = ?3, last_error = ?4,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND state = 'pending' AND lease_token = ?5",
            )?
            .execute(params![
                id,
                time::after(now, pause),
                status,
                last_error,
                token
            ])?,
        Verdict::Failed => tx
            .prepare_cached(
                "UPDATE messages
                 SET state = 'failed', next_attempt_at = NULL, finished_at = ?2,
                     last_status = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND state = 'pending' AND lease_token = ?5",
            )?
            .execute(params![id, now, status, last_error, token])?,
    } == 1;
    let mut finished = Finished {
        changed,
        final_status: None,
        erased: changed && verdict == Verdict::Delivered,
    };
    if changed && !matches!(verdict, Verdict::Retry(_)) {
        finished.final_status = tx
            .prepare_cached(&format!(
                "SELECT {STATUS_COLUMNS} FROM messages WHERE id = ?1"
            ))?
            .query_row([id], status_row)
            .optional()?;
        let gone = tx
            .prepare_cached("DELETE FROM messages WHERE id = ?1 AND keep_ms <= 0")?
            .execute([id])?;
        finished.erased |= gone == 1;
    }
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database path in a fresh folder that is removed on drop.
    struct TempDb(std::path::PathBuf);

    impl TempDb {
        fn new(name: &str) -> TempDb {
            let dir = std::env::temp_dir().join(format!(
                "webhook1c-store-{name}-{}-{}",
                std::process::id(),
                time::now_ms()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDb(dir)
        }

        fn path(&self) -> std::path::PathBuf {
            self.0.join(DATABASE_FILE)
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const DAY: Duration = Duration::from_secs(86_400);

    fn ready(path: &Path) -> Held {
        let mut conn = connect(path).unwrap();
        assert!(migrate(&mut conn).is_ok());
        conn
    }

    #[test]
    fn every_connection_is_durable_and_shared() {
        let temp = TempDb::new("pragmas");
        let path = temp.path();
        let conn = ready(&path);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        // A second open of a ready file changes nothing.
        let _again = ready(&path);
    }

    #[test]
    fn a_newer_layout_is_refused() {
        let temp = TempDb::new("newer");
        let path = temp.path();
        let conn = ready(&path);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let mut other = connect(&path).unwrap();
        assert!(matches!(
            migrate(&mut other),
            Err(MigrateError::Newer(v)) if v == SCHEMA_VERSION + 1
        ));
    }

    #[test]
    fn claims_are_exclusive_until_the_lease_runs_out() {
        let temp = TempDb::new("claims");
        let path = temp.path();
        let mut a = ready(&path);
        let mut b = ready(&path);
        assert!(insert(&a, "m1", "{}", None, Duration::from_secs(60), DAY).unwrap());
        assert!(!insert(&a, "m1", "{}", Some(b"x"), Duration::from_secs(60), DAY).unwrap());
        let first = claim(&mut a, "A", 10, Some(Duration::from_millis(150))).unwrap();
        assert_eq!(first.len(), 1);
        assert!(claim(&mut b, "B", 10, None).unwrap().is_empty());
        std::thread::sleep(Duration::from_millis(200));
        let second = claim(&mut b, "B", 10, None).unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].token, first[0].token + 1);

        let record = |worker: &str| AttemptRecord {
            started_at: time::now_ms(),
            duration_ms: 5,
            status: 500,
            error: String::new(),
            response: "oops".into(),
            worker: worker.into(),
        };
        // A's lease is gone: its failure is recorded but decides nothing.
        assert!(
            !finish(
                &a,
                &first[0].id,
                first[0].token,
                Some(&record("A")),
                Verdict::Failed,
                ""
            )
            .unwrap()
            .changed
        );
        let s = status(&a, "m1").unwrap().unwrap();
        assert_eq!((s.state, s.attempts), (State::Pending, 1));
        // B holds it: its retry applies.
        let before = time::now_ms();
        assert!(
            finish(
                &b,
                &second[0].id,
                second[0].token,
                Some(&record("B")),
                Verdict::Retry(Duration::from_secs(60)),
                ""
            )
            .unwrap()
            .changed
        );
        let after = time::now_ms();
        let s = status(&b, "m1").unwrap().unwrap();
        assert_eq!((s.state, s.attempts, s.status), (State::Pending, 2, 500));
        let due = s.next_attempt.unwrap();
        assert!(
            due >= time::rfc3339(before + 60_000, false)
                && due <= time::rfc3339(after + 60_000, false),
            "{due}"
        );
        assert!(claim(&mut a, "A", 10, None).unwrap().is_empty(), "not due");
        // A late 2xx from a stale claim still delivers.
        assert!(
            finish(
                &a,
                &first[0].id,
                first[0].token,
                None,
                Verdict::Delivered,
                ""
            )
            .unwrap()
            .changed
        );
        assert_eq!(status(&a, "m1").unwrap().unwrap().state, State::Delivered);
        let numbers: Vec<u32> = attempts(&a, "m1")
            .unwrap()
            .iter()
            .map(|x| x.number)
            .collect();
        assert_eq!(numbers, vec![1, 2]);
        assert_eq!(
            counts(&a).unwrap(),
            Counts {
                pending: 0,
                delivered: 1,
                failed: 0
            }
        );
        assert!(!any_pending(&a).unwrap());
        assert!(status(&a, "nope").unwrap().is_none());
    }

    fn outcome(conn: &Held, id: &str, token: i64, verdict: Verdict) -> Finished {
        let record = AttemptRecord {
            started_at: time::now_ms(),
            duration_ms: 1,
            status: if verdict == Verdict::Delivered {
                200
            } else {
                410
            },
            error: String::new(),
            response: String::new(),
            worker: "W".into(),
        };
        finish(conn, id, token, Some(&record), verdict, "").unwrap()
    }

    #[test]
    fn delivery_erases_the_request_and_failure_keeps_it_for_requeue() {
        let temp = TempDb::new("erase");
        let mut conn = ready(&temp.path());
        let job = r#"{"url":"https://u:SECRET@x/hook"}"#;
        insert(&conn, "ok", job, Some(b"BODY"), DAY, DAY).unwrap();
        insert(&conn, "bad", job, Some(b"BODY"), DAY, DAY).unwrap();
        let claimed = claim(&mut conn, "W", 10, None).unwrap();
        let token = |id: &str| claimed.iter().find(|c| c.id == id).unwrap().token;
        let done = outcome(&conn, "ok", token("ok"), Verdict::Delivered);
        assert!(done.changed && done.erased);
        assert_eq!(done.final_status.unwrap().state, State::Delivered);
        let failed = outcome(&conn, "bad", token("bad"), Verdict::Failed);
        assert!(failed.changed && !failed.erased);
        let stored = |id: &str| {
            conn.query_row("SELECT job, body FROM messages WHERE id = ?1", [id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
            })
            .unwrap()
        };
        assert_eq!(stored("ok"), (String::new(), None));
        assert_eq!(stored("bad"), (job.to_string(), Some(b"BODY".to_vec())));

        let listed = messages(&conn, State::Failed, 10).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "bad");
        assert!(!requeue(&conn, "ok").unwrap(), "delivered");
        assert!(!requeue(&conn, "nope").unwrap(), "unknown");
        assert!(requeue(&conn, "bad").unwrap());
        let again = status(&conn, "bad").unwrap().unwrap();
        assert_eq!((again.state, again.attempts), (State::Pending, 0));
        assert!(!requeue(&conn, "bad").unwrap(), "pending now");
        let claimed = claim(&mut conn, "W", 10, None).unwrap();
        assert_eq!(claimed.len(), 1, "due at once");
        outcome(&conn, "bad", claimed[0].token, Verdict::Failed);
        let numbers: Vec<u32> = attempts(&conn, "bad")
            .unwrap()
            .iter()
            .map(|a| a.number)
            .collect();
        assert_eq!(numbers, vec![1, 2], "the history goes on");
    }

    #[test]
    fn retention_ends_final_messages_and_zero_ends_them_at_once() {
        let temp = TempDb::new("retention");
        let mut conn = ready(&temp.path());
        let short = Duration::from_millis(300);
        insert(&conn, "short", "{}", None, DAY, short).unwrap();
        insert(&conn, "zero", "{}", None, DAY, Duration::ZERO).unwrap();
        insert(&conn, "long", "{}", None, DAY, DAY).unwrap();
        for c in claim(&mut conn, "W", 10, None).unwrap() {
            let done = outcome(&conn, &c.id, c.token, Verdict::Failed);
            assert_eq!(done.final_status.unwrap().state, State::Failed, "{}", c.id);
            assert_eq!(done.erased, c.id == "zero", "{}", c.id);
        }
        assert!(status(&conn, "zero").unwrap().is_none(), "row gone at once");
        let rows: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM attempts WHERE message_id = 'zero'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 0, "its attempts too");
        assert_eq!(
            status(&conn, "short").unwrap().unwrap().state,
            State::Failed
        );
        std::thread::sleep(short + Duration::from_millis(50));
        assert!(status(&conn, "short").unwrap().is_none(), "expired");
        assert!(!requeue(&conn, "short").unwrap(), "expired");
        assert_eq!(messages(&conn, State::Failed, 10).unwrap().len(), 1);
        assert_eq!(purge(&conn).unwrap(), 1);
        assert_eq!(purge(&conn).unwrap(), 0);
        assert!(status(&conn, "long").unwrap().is_some());
        assert!(checkpoint(&conn).unwrap());
    }

    #[test]
    fn a_layout_1_file_gains_retention() {
        let temp = TempDb::new("layout1");
        let path = temp.path();
        {
            let conn = connect(&path).unwrap();
            let v1 = SCHEMA
                .replace(",\n    keep_ms         INTEGER NOT NULL DEFAULT 604800000 -- QueueRetention", "")
                .replace(
                    "CREATE INDEX IF NOT EXISTS messages_expiry ON messages (finished_at + keep_ms)\n    WHERE state <> 'pending';",
                    "",
                );
            assert!(!v1.contains("keep_ms"), "{v1}");
            conn.execute_batch(&v1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO messages (id, state, job, created_at, lease_ms) VALUES ('old', 'pending', '{}', 0, 1)",
                [],
            )
            .unwrap();
        }
        let conn = ready(&path);
        let keep: i64 = conn
            .query_row("SELECT keep_ms FROM messages WHERE id = 'old'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(keep, 7 * 86_400_000);
    }
}
