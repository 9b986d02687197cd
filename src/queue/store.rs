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

/// The table layout this version writes (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// How long a statement waits for another connection (or process) to
/// release the write lock before it reports "database is locked".
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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
    finished_at     INTEGER
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS messages_state ON messages (state);
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

/// Opens a connection with the settings every connection needs: WAL, so
/// readers never block the writer and other processes can share the file;
/// `synchronous=FULL`, so a commit is on disk (WAL fsync) before it returns;
/// the busy timeout, so concurrent writers wait instead of failing.
pub(crate) fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
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
    tx.execute_batch(SCHEMA)?;
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
) -> rusqlite::Result<bool> {
    let now = time::now_ms();
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    // In the caller's transaction (the worker's group commit), or its own
    // when there is none; with synchronous=FULL durable once committed.
    let added = conn
        .prepare_cached(
            "INSERT INTO messages (id, state, job, body, created_at, next_attempt_at, lease_ms)
             VALUES (?1, 'pending', ?2, ?3, ?4, ?4, ?5)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![id, job, body, now, lease_ms])?;
    Ok(added == 1)
}

/// The status of `id`, `None` when the queue never had it.
pub(crate) fn status(conn: &Connection, id: &str) -> rusqlite::Result<Option<MessageStatus>> {
    conn.prepare_cached(
        "SELECT state, attempts, last_status, last_error, next_attempt_at
         FROM messages WHERE id = ?1",
    )?
    .query_row([id], |r| {
        let state = State::parse(&r.get::<_, String>(0)?);
        let next: Option<i64> = r.get(4)?;
        Ok(MessageStatus {
            id: id.to_string(),
            state,
            attempts: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            status: u16::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            error: r.get(3)?,
            next_attempt: next
                .filter(|_| state == State::Pending)
                .map(|ms| time::rfc3339(ms, false)),
        })
    })
    .optional()
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
}

/// Leases up to `limit` due messages to `owner`, oldest due first. A message
/// is due when it is pending, its time has come and no live lease holds it:
/// an expired lease (its holder died or hung) counts as none. Select and
/// update run in one IMMEDIATE transaction, so two processes claiming at
/// once queue on the write lock and never get the same message.
/// `lease_override` replaces each message's own lease length (tests).
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
             RETURNING id, lease_token, attempts, job, body",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![owner, now, limit, lease], |r| {
            Ok(Claimed {
                id: r.get(0)?,
                token: r.get(1)?,
                attempts: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                job: r.get(3)?,
                body: r.get(4)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(claimed)
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

/// Records an attempt (when there was one) and applies `verdict`. Run
/// it inside a transaction (the worker's group commit), so both or neither
/// happen. Returns true when the message's state changed through us.
///
/// The attempt is always recorded: it happened, and the receiver may have
/// seen it. A retry or failure is applied only while our claim (`token`)
/// still holds, because if our lease ran out another worker owns the
/// message now and its outcome counts. Delivered is applied whenever the
/// message is still pending: a 2xx is final whoever got it, and the other
/// worker's later outcome then finds the message no longer pending.
pub(crate) fn finish(
    tx: &Connection,
    id: &str,
    token: i64,
    attempt: Option<&AttemptRecord>,
    verdict: Verdict,
    last_error: &str,
) -> rusqlite::Result<bool> {
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
                     last_status = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL
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
    };
    Ok(changed == 1)
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

    fn ready(path: &Path) -> Connection {
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
        assert!(insert(&a, "m1", "{}", None, Duration::from_secs(60)).unwrap());
        assert!(!insert(&a, "m1", "{}", Some(b"x"), Duration::from_secs(60)).unwrap());
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
        assert!(!finish(
            &a,
            &first[0].id,
            first[0].token,
            Some(&record("A")),
            Verdict::Failed,
            ""
        )
        .unwrap());
        let s = status(&a, "m1").unwrap().unwrap();
        assert_eq!((s.state, s.attempts), (State::Pending, 1));
        // B holds it: its retry applies.
        let before = time::now_ms();
        assert!(finish(
            &b,
            &second[0].id,
            second[0].token,
            Some(&record("B")),
            Verdict::Retry(Duration::from_secs(60)),
            ""
        )
        .unwrap());
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
        assert!(finish(
            &a,
            &first[0].id,
            first[0].token,
            None,
            Verdict::Delivered,
            ""
        )
        .unwrap());
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
}
