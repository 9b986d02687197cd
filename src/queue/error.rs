//! What can go wrong when the 1C side talks to the queue. Failures of a
//! delivery itself are not errors here: they are recorded attempts. The
//! texts (and `Display`) live in the add-in's message catalog.

use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;

/// A queue operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum QueueError {
    /// The QueueDirectory cannot be created or resolved.
    Directory { path: PathBuf, source: io::Error },
    /// No QueueDirectory was set and the environment names no per-user
    /// data folder to put the default in.
    NoDefaultDirectory,
    /// The QueueDirectory is not private to the user the process runs as.
    UnsafeDirectory { path: PathBuf, reason: Unsafe },
    /// The QueueDirectory is on a network file system, where SQLite's
    /// locks do not hold (`kind`: NFS, CIFS, FUSE, network share, …).
    NetworkDirectory { path: PathBuf, kind: &'static str },
    /// SQLite failed: the file cannot be opened or written (permissions,
    /// disk full), it stayed locked longer than the busy timeout, or it is
    /// damaged.
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The QueueDatabase server failed: the URL does not parse, the
    /// connection was refused or broke, the credentials were wrong, or a
    /// statement failed (a read-only database). `database` is the URL
    /// without its password.
    Server { database: String, detail: String },
    /// Every pooled connection to the QueueDatabase stayed busy.
    PoolExhausted { database: String },
    /// The database was created by a newer Webhook1C whose layout this
    /// version does not know.
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The message id is too long or cannot travel in the `webhook-id`
    /// header (control characters, line breaks).
    InvalidId { id: String },
    /// The request could not be sent as described (URL, method, header).
    InvalidRequest(crate::http::Error),
    /// A worker thread could not be started.
    Thread(io::Error),
}

/// Why a QueueDirectory is not private.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsafe {
    /// Another user owns it (their user id).
    OtherOwner { owner: u32 },
    /// Group or others may write to it (its mode).
    WritableByOthers { mode: u32 },
}

impl StdError for QueueError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            QueueError::Directory { source, .. } => Some(source),
            QueueError::Database { source, .. } => Some(source),
            QueueError::InvalidRequest(e) => Some(e),
            QueueError::Thread(e) => Some(e),
            _ => None,
        }
    }
}
