//! The audit log behind LogFile: one line per HTTP attempt, written through
//! the `log` facade to a rotating file (flexi_logger's file writer) chosen
//! per record, so objects with different LogFile values share one logger.
//! Lines carry only redacted URLs and error texts that never include
//! credentials; no header, body or secret is ever logged.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use flexi_logger::writers::{FileLogWriter, LogWriter};
use flexi_logger::{Cleanup, Criterion, DeferredNow, FileSpec, Naming, WriteMode};
use log::kv::{Key, Value};
use once_cell::sync::Lazy;

use crate::http;

/// Target of audit records.
pub const TARGET: &str = "webhook1c::audit";
/// Rotate a log file when it reaches this size...
pub const ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// ...and keep this many rotated files beside it.
pub const KEEP_FILES: usize = 5;
/// The current file is LogFile itself (empty infix); rotated ones get a
/// timestamp: `audit.r2026-11-28_10-00-00.log`.
const NAMING: Naming = Naming::TimestampsCustomFormat {
    current_infix: Some(""),
    format: "r%Y-%m-%d_%H-%M-%S",
};

/// One attempt, as logged.
pub struct Line<'a> {
    pub method: &'a str,
    /// Already redacted (see `http::redact_url`).
    pub url: &'a str,
    /// HTTP status, or None when no answer came.
    pub status: Option<u16>,
    /// The failure text when no answer came (free of secrets by construction).
    pub error: Option<&'a str>,
    pub duration: Duration,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    pub attempt: u32,
    pub message_id: &'a str,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.method, self.url)?;
        match self.status {
            Some(status) => write!(f, "status={status}")?,
            None => write!(f, "status=-")?,
        }
        write!(
            f,
            " duration_ms={} sent={} received={} attempt={} id={}",
            self.duration.as_millis(),
            self.bytes_sent,
            self.bytes_received,
            self.attempt,
            self.message_id
        )?;
        if let Some(error) = self.error {
            write!(f, " error={error:?}")?;
        }
        Ok(())
    }
}

/// The record key naming the file a record goes to.
const LOG_FILE_KEY: &str = "log_file";

/// Appends one attempt line to `file` (created with its folder if needed).
pub fn record(file: &Path, line: &Line<'_>) {
    install();
    let file = file.to_string_lossy();
    log::info!(target: TARGET, log_file = file.as_ref(); "{line}");
}

/// A warning about an object or a queued message: written to its LogFile
/// (`file`) only; with none, to the host's standard error.
pub fn warn(file: Option<&Path>, args: fmt::Arguments<'_>) {
    match file {
        Some(file) => {
            install();
            let file = file.to_string_lossy();
            log::warn!(target: "webhook1c", log_file = file.as_ref(); "{args}");
        }
        None => log::warn!(target: "webhook1c", "{args}"),
    }
}

/// Appends the line of one HTTP attempt, direct or queued: the redacted
/// URL, the status or the error text, sizes and timing.
pub fn record_attempt(file: &Path, attempt: &http::retry::Attempt<'_>) {
    let error = attempt.result.as_ref().err().map(ToString::to_string);
    record(
        file,
        &Line {
            method: attempt.request.method().as_str(),
            url: attempt.request.shown_url(),
            status: attempt.result.as_ref().ok().map(|r| r.status),
            error: error.as_deref(),
            duration: attempt.duration,
            bytes_sent: attempt.request.body_len(),
            bytes_received: attempt.result.as_ref().map_or(0, |r| r.body.len()),
            attempt: attempt.number,
            message_id: attempt.message_id,
        },
    );
}

/// Routes audit records, and our own warnings and errors, to the rotating
/// writer of the `log_file` they name.
struct Dispatcher {
    writers: Mutex<HashMap<PathBuf, FileLogWriter>>,
}

static DISPATCHER: Lazy<Dispatcher> = Lazy::new(|| Dispatcher {
    writers: Mutex::new(HashMap::new()),
});

fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err: the process already has a logger of ours; keep it.
        if log::set_logger(&*DISPATCHER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    });
}

/// Writes one record as one line. Every character that could end a line
/// or hide one (control characters such as CR, LF, tab and NEL, and the
/// Unicode line and paragraph separators) is written as `\u{…}`, whatever
/// field it came in (a URL, a message id, a server's text), so no value can
/// forge a line of its own.
fn line_format(
    w: &mut dyn std::io::Write,
    now: &mut DeferredNow,
    record: &log::Record<'_>,
) -> std::io::Result<()> {
    let text = if record.target() == TARGET {
        record.args().to_string()
    } else {
        format!("{} {}", record.level(), record.args())
    };
    write!(w, "{} {}", now.format_rfc3339(), escape_line(&text))
}

/// `text` with line-breaking and other control characters as `\u{…}`.
pub(crate) fn escape_line(text: &str) -> std::borrow::Cow<'_, str> {
    let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.contains(breaks) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if breaks(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn open(path: &Path) -> Option<FileLogWriter> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    let spec = FileSpec::try_from(path).ok()?;
    FileLogWriter::builder(spec)
        .append()
        .format(line_format)
        .write_mode(WriteMode::Direct)
        .rotate(
            Criterion::Size(ROTATE_BYTES),
            NAMING,
            Cleanup::KeepLogFiles(KEEP_FILES),
        )
        .try_build()
        .map_err(|e| {
            eprintln!(
                "Webhook1C: cannot open the log file {}: {e}",
                path.display()
            )
        })
        .ok()
}

impl log::Log for Dispatcher {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == TARGET
            || (metadata.target().starts_with("webhook1c") && metadata.level() <= log::Level::Warn)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Each record goes to the one file it names: the LogFile of the
        // object or queued message it concerns. One infobase's ids and
        // paths never land in another's log.
        let Some(file) = record
            .key_values()
            .get(Key::from_str(LOG_FILE_KEY))
            .map(|v: Value<'_>| v.to_string())
        else {
            if record.target() != TARGET {
                // Concerns no object (the process, a thread, a queue
                // folder shared by many): the host's standard error only.
                eprintln!(
                    "Webhook1C {}: {}",
                    record.level(),
                    escape_line(&record.args().to_string())
                );
            }
            return;
        };
        let mut writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        let path = PathBuf::from(file);
        if !writers.contains_key(&path) {
            match open(&path) {
                Some(writer) => {
                    writers.insert(path.clone(), writer);
                }
                None => return,
            }
        }
        if let Some(writer) = writers.get(&path) {
            let _ = writer.write(&mut DeferredNow::new(), record);
        }
    }

    fn flush(&self) {
        let writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        for writer in writers.values() {
            let _ = writer.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_attempt_in_the_file_itself() {
        let dir = std::env::temp_dir().join(format!("webhook1c-audit-{}", std::process::id()));
        let file = dir.join("nested").join("audit.log");
        let line = Line {
            method: "POST",
            url: "https://example.com/hook",
            status: None,
            error: Some("could not connect to https://example.com/hook: connection refused"),
            duration: Duration::from_millis(12),
            bytes_sent: 80,
            bytes_received: 0,
            attempt: 2,
            message_id: "msg_1",
        };
        record(&file, &line);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("POST https://example.com/hook status=- duration_ms=12 sent=80 received=0 attempt=2 id=msg_1 error=\"could not connect"), "{text}");
        assert_eq!(text.lines().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Hostile values in every text field (URL, id, error) cannot start a
    /// line of their own: one line per record, the breaks escaped.
    #[test]
    fn no_field_can_forge_a_line() {
        let dir = std::env::temp_dir().join(format!("webhook1c-forge-{}", std::process::id()));
        let file = dir.join("audit.log");
        let hostile = [
            "\r\n2026-01-01T00:00:00+00:00 POST https://forged/ status=200",
            "\n",
            "\t",
            "\u{85}",
            "\u{2028}",
            "\u{2029}",
            "\u{b}\u{c}",
        ];
        for h in hostile {
            let url = format!("https://example.com/{h}");
            let id = format!("id{h}");
            let error = format!("server said {h}");
            record(
                &file,
                &Line {
                    method: "POST",
                    url: &url,
                    status: None,
                    error: Some(&error),
                    duration: Duration::ZERO,
                    bytes_sent: 0,
                    bytes_received: 0,
                    attempt: 1,
                    message_id: &id,
                },
            );
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Split on every character any reader might take for a line end.
        let lines: Vec<&str> = text
            .split([
                '\n', '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{b}', '\u{c}',
            ])
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), hostile.len(), "{text}");
        for line in &lines {
            assert!(
                line.contains(" POST https://example.com/") && line.contains(" id=id"),
                "{line}"
            );
            assert!(!line.contains('\t'), "{line}");
        }
        assert!(!text.contains("\nPOST https://forged"));
        assert!(lines[0].contains("\\u{d}\\u{a}2026"), "{}", lines[0]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn warnings_go_only_to_the_log_file_they_concern() {
        let dir = std::env::temp_dir().join(format!("webhook1c-routing-{}", std::process::id()));
        let (ours, theirs) = (dir.join("ours.log"), dir.join("theirs.log"));
        let line = Line {
            method: "POST",
            url: "https://example.com/theirs",
            status: Some(200),
            error: None,
            duration: Duration::from_millis(1),
            bytes_sent: 2,
            bytes_received: 0,
            attempt: 1,
            message_id: "msg_theirs",
        };
        // Another object's log is open when warnings about ours arrive.
        record(&theirs, &line);
        warn(
            Some(&ours),
            format_args!("message msg_ours: the host refused the Delivered event"),
        );
        warn(None, format_args!("delivery thread 3 did not start"));
        log::error!("a panic in no object");
        let ours_text = std::fs::read_to_string(&ours).unwrap_or_default();
        let theirs_text = std::fs::read_to_string(&theirs).unwrap();
        assert_eq!(ours_text.lines().count(), 1, "{ours_text}");
        assert!(
            ours_text.contains("WARN message msg_ours: the host refused"),
            "{ours_text}"
        );
        assert_eq!(theirs_text.lines().count(), 1, "{theirs_text}");
        assert!(theirs_text.contains("id=msg_theirs"), "{theirs_text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
