//! The QueueDirectory itself: where it is by default, and the checks that
//! make it a safe place for credentials at rest and for SQLite's locks.
//!
//! - Private: created 0700 (whatever the umask), an existing one owned by
//!   another user or writable by group or others is refused (someone else
//!   could plant or swap the files), and one readable by others is narrowed
//!   to 0700. The database and its `-wal`/`-shm` files are set to 0600 when
//!   they appear; SQLite gives the files it creates later the mode of the
//!   database file. On Windows a folder the queue creates gets an
//!   owner-only ACL (one entry: full control for the process's user,
//!   inherited by the files, nothing inherited from the parent); a folder
//!   that exists is left as its administrator set it up.
//! - Local: SQLite's locks and its shared-memory index do not work on a
//!   network file system, so NFS, SMB/CIFS, FUSE (sshfs and the like) and
//!   other remote or cluster file systems are refused on Linux, and UNC
//!   paths (network shares and mapped network drives, which resolve to them)
//!   on Windows. A cluster of several servers uses QueueDatabase.
//! - No fallback: without a per-user data folder (no `HOME`, no
//!   `XDG_DATA_HOME`, no `LOCALAPPDATA`) there is no default; the error says
//!   to set QueueDirectory. A shared temporary folder is never used, because
//!   another local user could create the folder there first.

use std::path::{Path, PathBuf};

use super::error::QueueError;
#[cfg(unix)]
use super::error::Unsafe;

/// The QueueDirectory default: a per-user data folder
/// (`%LOCALAPPDATA%\Webhook1C\queue` on Windows,
/// `$XDG_DATA_HOME/Webhook1C/queue` or `~/.local/share/Webhook1C/queue`
/// elsewhere), or `None` when the environment names none.
pub fn default_directory() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = if cfg!(windows) {
        var("LOCALAPPDATA").or_else(|| var("APPDATA"))
    } else {
        var("XDG_DATA_HOME").or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
    };
    base.map(|b| b.join("Webhook1C").join("queue"))
}

/// Creates `dir` when missing, checks that it is private and local, and
/// returns its canonical form, the key that makes two spellings of one
/// folder share one worker.
pub(crate) fn prepare(dir: &Path) -> Result<PathBuf, QueueError> {
    let failed = |source| QueueError::Directory {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        // The umask can only take bits away from 0700.
        builder.mode(0o700);
    }
    let created = !dir.exists();
    builder.create(dir).map_err(failed)?;
    let canonical = dir.canonicalize().map(plain_path).map_err(failed)?;
    // What mode 0700 does on Unix: set when the queue makes the folder
    // (one that exists is the administrator's to set up).
    #[cfg(windows)]
    if created {
        crate::os::restrict_to_user(&canonical).map_err(failed)?;
    }
    #[cfg(not(windows))]
    let _ = created;
    check_private(&canonical)?;
    check_local(&canonical)?;
    Ok(canonical)
}

#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), QueueError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(dir).map_err(|source| QueueError::Directory {
        path: dir.to_path_buf(),
        source,
    })?;
    let refuse = |reason| {
        Err(QueueError::UnsafeDirectory {
            path: dir.to_path_buf(),
            reason,
        })
    };
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return refuse(Unsafe::OtherOwner { owner: meta.uid() });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return refuse(Unsafe::WritableByOthers { mode });
    }
    if mode & 0o077 != 0 {
        // Ours, but others may read or enter it: narrow it.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| QueueError::Directory {
                path: dir.to_path_buf(),
                source,
            },
        )?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<(), QueueError> {
    Ok(())
}

/// Sets the queue's files in `dir` (the database, `-wal`, `-shm`) that
/// exist to 0600, by path: opening them would risk the hazard `worker`
/// describes.
/// The lock file beside the database that every process holds, exclusively,
/// while it opens the database (see [`open_lock`]).
pub(crate) const OPEN_LOCK_FILE: &str = "queue.lock";

/// Takes the directory's open lock: an exclusive advisory lock (flock on
/// Unix, LockFileEx on Windows) on [`OPEN_LOCK_FILE`], released when the
/// returned file is dropped (or the process dies). Processes take it only
/// while they open the database, so they wait at most for one another's
/// open.
pub(crate) fn open_lock(dir: &Path) -> std::io::Result<std::fs::File> {
    let path = dir.join(OPEN_LOCK_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path)?;
    file.lock()?;
    Ok(file)
}

pub(crate) fn secure_files(dir: &Path, database: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = dir.join(format!("{database}{suffix}"));
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, database);
    Ok(())
}

/// The file systems on which SQLite's locking does not hold, by the magic
/// numbers of `statfs(2)` (linux/magic.h).
#[cfg(any(target_os = "linux", test))]
const REMOTE_FILE_SYSTEMS: &[(u32, &str)] = &[
    (0x6969, "NFS"),
    (0x517B, "SMB"),
    (0xFF53_4D42, "CIFS"),
    (0xFE53_4D42, "SMB2"),
    (0x6573_5546, "FUSE"),
    (0x0102_1997, "9P"),
    (0x00C3_6400, "Ceph"),
    (0x5346_414F, "AFS"),
    (0x7375_7245, "Coda"),
    (0x564C, "NCP"),
    (0x0116_1970, "GFS2"),
    (0x7461_636F, "OCFS2"),
];

/// The name of the remote file system with statfs magic `magic`, if it is one.
#[cfg(any(target_os = "linux", test))]
fn remote_kind(magic: u32) -> Option<&'static str> {
    REMOTE_FILE_SYSTEMS
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|(_, name)| *name)
}

#[cfg(target_os = "linux")]
fn check_local(dir: &Path) -> Result<(), QueueError> {
    let stat = rustix::fs::statfs(dir).map_err(|e| QueueError::Directory {
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    // f_type is 32 bits wide on 32-bit targets, 64 on others; the magic
    // numbers are 32-bit values either way.
    #[allow(clippy::unnecessary_cast)]
    let magic = stat.f_type as u32;
    match remote_kind(magic) {
        Some(kind) => Err(QueueError::NetworkDirectory {
            path: dir.to_path_buf(),
            kind,
        }),
        None => Ok(()),
    }
}

#[cfg(windows)]
fn check_local(dir: &Path) -> Result<(), QueueError> {
    match network_share(dir) {
        Some(kind) => Err(QueueError::NetworkDirectory {
            path: dir.to_path_buf(),
            kind,
        }),
        None => Ok(()),
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
fn check_local(_dir: &Path) -> Result<(), QueueError> {
    Ok(())
}

/// A canonical Windows path on a network share: `\\server\share\…`, or
/// `\\?\UNC\server\share\…` (what canonicalize makes of a mapped network
/// drive too).
#[cfg(any(windows, test))]
fn network_share(canonical: &Path) -> Option<&'static str> {
    let text = canonical.to_string_lossy();
    let upper = text.to_ascii_uppercase();
    (upper.starts_with(r"\\?\UNC\") || (text.starts_with(r"\\") && !text.starts_with(r"\\?\")))
        .then_some("network share")
}

/// On Windows `canonicalize` answers `\\?\C:\…`; the plain `C:\…` names
/// the same folder and reads better in texts and logs.
fn plain_path(path: PathBuf) -> PathBuf {
    if cfg!(windows) {
        if let Some(rest) = path.to_str().and_then(|p| p.strip_prefix(r"\\?\")) {
            let bytes = rest.as_bytes();
            if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
                return PathBuf::from(rest);
            }
        }
    }
    path
}

/// The identity of a file or folder (device and inode): to notice that the
/// database was deleted or replaced under an open queue, and to name the
/// directory's gate (`copies`). `None` when it is gone; `(0, 0)` on
/// Windows, where an open SQLite file cannot be deleted.
pub(crate) fn identity(file: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(file).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        file.exists().then_some((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_file_systems_are_known_by_their_magic() {
        assert_eq!(remote_kind(0x6969), Some("NFS"));
        assert_eq!(remote_kind(0xFF53_4D42), Some("CIFS"));
        assert_eq!(remote_kind(0xFE53_4D42), Some("SMB2"));
        assert_eq!(remote_kind(0x6573_5546), Some("FUSE"));
        // ext4, xfs, btrfs, tmpfs, overlayfs: local.
        for local in [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630] {
            assert_eq!(remote_kind(local), None, "{local:#x}");
        }
    }

    #[test]
    fn unc_paths_are_network_shares() {
        assert!(network_share(Path::new(r"\\?\UNC\srv\share\queue")).is_some());
        assert!(network_share(Path::new(r"\\srv\share\queue")).is_some());
        assert!(network_share(Path::new(r"C:\Users\u\queue")).is_none());
        assert!(network_share(Path::new(r"\\?\C:\Users\u\queue")).is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_machines_temp_folder_is_local() {
        assert!(check_local(&std::env::temp_dir()).is_ok());
    }
}
