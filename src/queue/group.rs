//! Group commit: writes that arrive while another commit is on its way to
//! disk share the next transaction, and so its one sync.
//!
//! A durable commit costs one `fsync` of the WAL whatever it holds, and the
//! disk allows only so many of those a second. Enqueue calls from several
//! 1C sessions of one process and the outcomes of the delivery threads all
//! write through one [`GroupCommit`]: the first writer to find no commit in
//! progress becomes the leader, takes every write queued so far, applies
//! them in one IMMEDIATE transaction and commits; the others wait for that
//! commit and return with it. Each caller still returns only after its own
//! write is on disk, and a lone caller pays exactly what it paid alone.
//!
//! A write that fails inside a batch (or a commit that fails) rolls the
//! batch back, and each write of it is then applied in a transaction of its
//! own, so every caller gets the result of its own write and nobody is told
//! "done" for a row that was rolled back. When the batch failed because the
//! database stayed locked for the whole busy timeout, every caller gets that
//! error at once instead: retrying the writes one by one would make the last
//! caller wait one busy timeout per write ahead of it.
//!
//! The writer connection is never closed, and it is used only inside a
//! pass of the database's gate (see `copies` on both: other copies of the
//! library in this process share the file).

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};

use super::copies::{self, is_busy, Gate};
use super::store;

/// One write: statements run inside the batch's transaction. It must own
/// what it writes (the leader runs it on its own thread), may run twice
/// (the second time alone, after a batch rolled back) and answers whether
/// it changed anything.
pub(crate) type Write = Box<dyn Fn(&Connection) -> rusqlite::Result<bool> + Send>;

/// Longest batch: bounds the time one transaction holds the write lock that
/// other processes sharing the file wait for.
const MAX_BATCH: usize = 256;

#[derive(Default)]
struct Pending {
    /// Writes waiting for a leader, with their tickets.
    queued: Vec<(u64, Write)>,
    /// Outcomes not yet collected by their callers.
    done: HashMap<u64, rusqlite::Result<bool>>,
    next_ticket: u64,
    /// A leader is applying a batch now.
    leading: bool,
}

/// The writer connection of one database and the writes waiting for it.
pub(crate) struct GroupCommit {
    /// Only the leader uses it (and the checkpoints between batches).
    conn: Mutex<store::Held>,
    /// Shared with the API connection of the same database.
    gate: Arc<Gate>,
    pending: Mutex<Pending>,
    finished: Condvar,
    /// Transactions committed: fewer than writes when batches formed.
    commits: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// rusqlite errors are not `Clone`; every caller of a failed batch gets one.
fn copy_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

impl GroupCommit {
    /// A group using `conn` as its writer connection (settings from
    /// [`store::connect`]), inside passes of `gate`.
    pub fn new(conn: store::Held, gate: Arc<Gate>) -> GroupCommit {
        GroupCommit {
            conn: Mutex::new(conn),
            gate,
            pending: Mutex::new(Pending::default()),
            finished: Condvar::new(),
            commits: AtomicU64::new(0),
        }
    }

    /// Applies `write` durably, together with whatever other writes are
    /// waiting, and returns its own outcome once the commit is on disk.
    pub fn write(&self, write: Write) -> rusqlite::Result<bool> {
        let mut pending = lock(&self.pending);
        let ticket = pending.next_ticket;
        pending.next_ticket += 1;
        pending.queued.push((ticket, write));
        loop {
            if let Some(outcome) = pending.done.remove(&ticket) {
                return outcome;
            }
            if !pending.leading {
                pending.leading = true;
                let take = pending.queued.len().min(MAX_BATCH);
                let batch: Vec<(u64, Write)> = pending.queued.drain(..take).collect();
                drop(pending);
                let tickets: Vec<u64> = batch.iter().map(|(t, _)| *t).collect();
                // A panic must neither leave `leading` set (every later
                // writer would wait forever) nor leave callers without an
                // answer.
                // The unwinding drops the open transaction, which rolls it
                // back; the connection stays usable.
                let outcomes =
                    catch_unwind(AssertUnwindSafe(|| self.apply(batch))).unwrap_or_else(|_| {
                        let panicked = || {
                            rusqlite::Error::SqliteFailure(
                                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                                Some("a queue write panicked".into()),
                            )
                        };
                        tickets.iter().map(|t| (*t, Err(panicked()))).collect()
                    });
                pending = lock(&self.pending);
                pending.done.extend(outcomes);
                pending.leading = false;
                self.finished.notify_all();
                continue;
            }
            pending = self
                .finished
                .wait(pending)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Transactions committed so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` on the writer connection between batches, outside any
    /// transaction (checkpoints).
    pub fn with_connection<T>(
        &self,
        f: impl FnMut(&mut Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut conn = lock(&self.conn);
        let deadline = Instant::now() + store::BUSY_TIMEOUT;
        copies::using(&self.gate, &mut conn, deadline, f)
    }

    /// Runs one batch on the writer connection: all writes in one
    /// transaction, or, when any of them or the commit fails, each alone
    /// (unless the database was busy: then all fail with that). The whole
    /// batch has one busy timeout, however many transactions it takes.
    fn apply(&self, batch: Vec<(u64, Write)>) -> Vec<(u64, rusqlite::Result<bool>)> {
        let mut conn = lock(&self.conn);
        let deadline = Instant::now() + store::BUSY_TIMEOUT;
        let together = |conn: &mut Connection, writes: &[(u64, &Write)]| {
            copies::using(&self.gate, conn, deadline, |c| self.together(c, writes))
        };
        let writes: Vec<(u64, &Write)> = batch.iter().map(|(t, w)| (*t, w)).collect();
        if writes.len() > 1 {
            match together(&mut conn, &writes) {
                Ok(outcomes) => return outcomes,
                Err(e) if is_busy(&e) => {
                    return writes
                        .iter()
                        .map(|(t, _)| (*t, Err(copy_error(&e))))
                        .collect()
                }
                Err(_) => {}
            }
        }
        let mut outcomes = Vec::with_capacity(writes.len());
        for one in &writes {
            let outcome = together(&mut conn, std::slice::from_ref(one))
                .and_then(|mut alone| alone.pop().map_or(Ok(false), |(_, r)| r));
            outcomes.push((one.0, outcome));
        }
        outcomes
    }

    /// All of `writes` in one transaction; Err (everything rolled back) when
    /// any write or the commit fails.
    fn together(
        &self,
        conn: &mut Connection,
        writes: &[(u64, &Write)],
    ) -> rusqlite::Result<Vec<(u64, rusqlite::Result<bool>)>> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(writes.len());
        for (ticket, write) in writes {
            outcomes.push((*ticket, Ok(write(&tx)?)));
        }
        tx.commit()?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("webhook1c-group-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("test.sqlite3")
    }

    fn group(path: &std::path::Path) -> GroupCommit {
        let conn = store::connect(path).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        let gate = Gate::for_directory(path.parent().unwrap()).unwrap();
        GroupCommit::new(conn, Arc::new(gate))
    }

    fn insert(id: i64, v: Option<&'static str>) -> Write {
        Box::new(move |c: &Connection| {
            c.execute(
                "INSERT INTO t (id, v) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                rusqlite::params![id, v],
            )
            .map(|n| n == 1)
        })
    }

    #[test]
    fn concurrent_writers_share_commits_and_each_gets_its_own_outcome() {
        let path = temp_db("share");
        let group = Arc::new(group(&path));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let group = Arc::clone(&group);
                std::thread::spawn(move || {
                    let mut results = Vec::new();
                    for i in 0..50 {
                        let id = t * 1000 + i;
                        // Every tenth write of thread 3 violates NOT NULL.
                        let v = if t == 3 && i % 10 == 0 {
                            None
                        } else {
                            Some("x")
                        };
                        results.push((id, v.is_some(), group.write(insert(id, v))));
                    }
                    results
                })
            })
            .collect();
        let mut expected = 0;
        for thread in threads {
            for (id, valid, result) in thread.join().unwrap() {
                if valid {
                    assert!(result.unwrap(), "row {id} added");
                    expected += 1;
                } else {
                    assert!(result.is_err(), "row {id} must fail");
                }
            }
        }
        let reader = store::connect(&path).unwrap();
        let rows: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            rows, expected,
            "every write reported done is in the file, no other"
        );
        assert!(
            !group.write(insert(0, Some("again"))).unwrap(),
            "duplicate adds nothing"
        );
    }

    #[test]
    fn writes_queued_behind_a_commit_share_the_next_one() {
        let path = temp_db("batch");
        let group = Arc::new(group(&path));
        // Hold the writer connection as a slow commit would: the first
        // writer leads with its own write and waits; the rest queue up.
        let held = lock(&group.conn);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let group = Arc::clone(&group);
                std::thread::spawn(move || group.write(insert(t, Some("x"))).unwrap())
            })
            .collect();
        while lock(&group.pending).queued.len() < 7 {
            std::thread::yield_now();
        }
        drop(held);
        for thread in threads {
            assert!(thread.join().unwrap());
        }
        assert_eq!(
            group.commits(),
            2,
            "one commit for the leader, one for the seven"
        );
    }

    #[test]
    fn a_panicking_write_fails_alone_and_the_group_goes_on() {
        let path = temp_db("panic");
        let group = group(&path);
        let result = group.write(Box::new(|_c: &Connection| panic!("write bug")));
        assert!(result.is_err());
        assert!(group.write(insert(1, Some("x"))).unwrap());
    }
}
