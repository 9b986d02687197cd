//! One user of a queue database at a time among the copies of this library
//! in one process.
//!
//! 1C loads a new copy of the library (another file) after a configuration's
//! template is updated, while the old copy keeps running in the same worker
//! process; one worker process also serves several infobases. Each copy links
//! its own SQLite, and on Linux SQLite's locks are POSIX advisory locks,
//! which belong to the process: two copies in one process never exclude each
//! other (both "get" the write lock), and a close() by one copy drops the
//! locks the other holds (SQLite's "How To Corrupt" page, section 2.2.1).
//! SQLite sorts this out among the connections of one copy (its table of
//! open inodes), not across copies.
//!
//! So two rules hold here:
//! - a queue never closes a connection to its database ([`super::store::Held`]),
//!   so no close by this copy can drop another copy's locks;
//! - every use of a connection (a transaction, a read, a checkpoint, the
//!   opening itself) happens inside a [`Pass`] of the database's [`Gate`],
//!   a lock that all copies in this process see and that other processes do
//!   not: while one copy is inside SQLite on that file, no other copy of
//!   the process is, so the process's POSIX locks are exactly those of one
//!   SQLite, which keeps them right against other processes.
//!
//! The gate on Linux is a name in the abstract Unix socket namespace, bound
//! by the holder: `webhook1c-queue/<pid>/<dev>:<inode of the directory>`.
//! The kernel lets only one socket bind a name and frees it when the socket
//! closes (also when the process dies), it involves no file (so no file
//! lock to be dropped), and the process id keeps processes out of each
//! other's way. A waiter retries the bind until its deadline.
//!
//! Windows needs no gate between copies: its file locks belong to a handle,
//! so copies in one process exclude each other and closing a handle
//! releases only its own locks. There (and on Unix systems other than
//! Linux, which are not targets of the add-in) the gate is a mutex of the
//! copy, which only serializes its own threads.

use std::path::Path;
use std::time::{Duration, Instant};

/// The longest pause between two tries of a busy gate.
const MAX_PAUSE: Duration = Duration::from_millis(2);

/// The longest pause between two tries of a database locked elsewhere (the
/// steps of SQLite's own busy handler end at 100 ms).
const MAX_BUSY_PAUSE: Duration = Duration::from_millis(50);

/// The lock of one queue database across the library copies of a process.
pub(crate) struct Gate {
    #[cfg(target_os = "linux")]
    name: std::os::unix::net::SocketAddr,
    #[cfg(not(target_os = "linux"))]
    local: std::sync::Mutex<()>,
}

/// Held while a connection is in use; dropping it opens the gate.
pub(crate) struct Pass<'a> {
    #[cfg(target_os = "linux")]
    _bound: std::os::unix::net::UnixDatagram,
    #[cfg(target_os = "linux")]
    _gate: std::marker::PhantomData<&'a Gate>,
    #[cfg(not(target_os = "linux"))]
    _local: std::sync::MutexGuard<'a, ()>,
}

impl Gate {
    /// The gate of the queue in `dir` (an existing, canonical directory).
    pub fn for_directory(dir: &Path) -> std::io::Result<Gate> {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let (dev, ino) = super::directory::identity(dir)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
            let name = format!("webhook1c-queue/{}/{dev:x}:{ino:x}", std::process::id());
            Ok(Gate {
                name: std::os::unix::net::SocketAddr::from_abstract_name(name)?,
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            Ok(Gate {
                local: std::sync::Mutex::new(()),
            })
        }
    }

    /// Waits until no other user (thread or library copy of this process)
    /// is inside, or until `deadline`: `None` then.
    pub fn enter(&self, deadline: Instant) -> Option<Pass<'_>> {
        let mut pause = Duration::from_micros(50);
        loop {
            if let Some(pass) = self.try_enter() {
                return Some(pass);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    #[cfg(target_os = "linux")]
    fn try_enter(&self) -> Option<Pass<'_>> {
        match std::os::unix::net::UnixDatagram::bind_addr(&self.name) {
            Ok(bound) => Some(Pass {
                _bound: bound,
                _gate: std::marker::PhantomData,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => None,
            // Sockets exhausted or forbidden: going on without the gate
            // would risk the file, so wait as for a busy gate (the caller
            // then reports the database as busy).
            Err(e) => {
                log::warn!("the queue's copy lock cannot be taken: {e}");
                None
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn try_enter(&self) -> Option<Pass<'_>> {
        match self.local.try_lock() {
            Ok(guard) => Some(Pass { _local: guard }),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(Pass {
                _local: p.into_inner(),
            }),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// Runs `f` on `conn` inside a pass of `gate`, until `deadline`.
///
/// SQLite's own busy handler is off here: when `f` meets a lock that
/// another process holds (SQLITE_BUSY), the pass is given back while this
/// use waits and tries `f` again, so a lock held elsewhere never keeps the
/// other users of the gate (this copy's reads, other copies) waiting behind
/// this one. `f` must be safe to run again after a busy failure: a
/// transaction rolled back, or a read. After `deadline` the busy error is
/// the answer.
pub(crate) fn using<T>(
    gate: &Gate,
    conn: &mut rusqlite::Connection,
    deadline: Instant,
    mut f: impl FnMut(&mut rusqlite::Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let mut pause = Duration::from_millis(1);
    loop {
        let pass = gate.enter(deadline).ok_or_else(busy)?;
        conn.busy_timeout(Duration::ZERO)?;
        match f(conn) {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                drop(pass);
                let left = deadline.saturating_duration_since(Instant::now());
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(MAX_BUSY_PAUSE);
            }
            outcome => return outcome,
        }
    }
}

/// The database was locked by another connection (or process), or the gate
/// stayed closed.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The error a use reports when the gate stayed closed until its deadline:
/// SQLITE_BUSY, like a write lock another process held as long.
pub(crate) fn busy() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("another copy of Webhook1C in this process kept the queue database busy".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("webhook1c-gate-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn one_pass_at_a_time_and_the_next_after_it_is_dropped() {
        let d = dir("one");
        // Two gates for one directory, as two copies of the library make.
        let (a, b) = (
            Gate::for_directory(&d).unwrap(),
            Gate::for_directory(&d).unwrap(),
        );
        let soon = || Instant::now() + Duration::from_millis(30);
        let pass = a.enter(soon()).expect("a free gate opens");
        let started = Instant::now();
        assert!(b.enter(soon()).is_none(), "a second pass while one is out");
        assert!(started.elapsed() >= Duration::from_millis(25));
        drop(pass);
        assert!(b.enter(soon()).is_some(), "free again once dropped");
        // Another directory has its own gate.
        let other = dir("other");
        let _held = a.enter(soon()).unwrap();
        assert!(Gate::for_directory(&other).unwrap().enter(soon()).is_some());
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_dir_all(&other);
    }
}
