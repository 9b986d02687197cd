//! What can go wrong when the 1C side talks to the queue. Failures of a
//! delivery itself are not errors here: they are recorded attempts.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// A queue operation failed; `Display` gives the English text.
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
    /// The signing secret is not usable (empty, or not base64 after `whsec_`).
    InvalidSecret,
    /// A worker thread could not be started.
    Thread(io::Error),
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueError::Directory { path, source } => write!(
                f,
                "cannot use the queue directory \"{}\": {source}",
                path.display()
            ),
            QueueError::Database { path, source } => {
                write!(f, "queue database \"{}\": {source}", path.display())
            }
            QueueError::NewerSchema {
                path,
                found,
                supported,
            } => write!(
                f,
                "the queue database \"{}\" was created by a newer Webhook1C (layout {found}, this version knows up to {supported})",
                path.display()
            ),
            QueueError::InvalidId { id } => write!(
                f,
                "invalid message id \"{}\": at most {} characters, no line breaks or control characters",
                id.escape_debug(),
                super::job::MAX_ID_LEN
            ),
            QueueError::InvalidRequest(e) => write!(f, "{e}"),
            QueueError::InvalidSecret => write!(
                f,
                "invalid SigningSecret: it is empty or not base64 after \"whsec_\""
            ),
            QueueError::Thread(e) => write!(f, "cannot start the delivery worker: {e}"),
        }
    }
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
