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
    /// SQLite failed: the file cannot be opened or written (permissions,
    /// disk full), it stayed locked longer than the busy timeout, or it is
    /// damaged.
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
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
