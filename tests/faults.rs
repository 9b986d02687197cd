//! The fault matrix: the add-in driven by the C host (under AddressSanitizer)
//! as 1C drives it, against local servers that each misbehave one way: a
//! refused connection, a name that does not resolve, three bad certificates,
//! a body that never comes, a reset in the middle of a body, an endless
//! redirect loop, a 2 GB answer, broken UTF-8 and 429 with Retry-After.
//!
//! Each row is one host session: `PostJson`, then `StatusCode`, `ErrorText`
//! and `rss`. It records the text the 1C code sees, whether the process lived
//! on to run the commands after the failure and ended with a clean memory
//! ledger, and its resident memory afterwards. The table is built from what
//! happened, written to `target/reports/fault-matrix.md` and printed:
//!
//! ```sh
//! cargo test --test faults -- --nocapture
//! ```

mod support;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::host::{self, q, HostRun, Step};
use support::server::{RawOutcome, RawServer, RawWriter};
use support::{closed_port, Recorded, Reply, TestServer, TlsFixtures};

const JSON: &str = r#"{"event":"fault"}"#;
/// MaxResponseSize when the 1C code leaves it alone (src/addin/client.rs).
const DEFAULT_MAX_RESPONSE_SIZE: u64 = 64 * 1024 * 1024;
const TWO_GB: u64 = 2 * 1024 * 1024 * 1024;
const MIB: f64 = 1024.0 * 1024.0;

/// The language of a session: the host's `--lang` and the member names.
#[derive(Clone, Copy, PartialEq)]
enum Lang {
    En,
    Ru,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    fn post_json(self) -> &'static str {
        match self {
            Lang::En => "PostJson",
            Lang::Ru => "ОтправитьJson",
        }
    }

    fn status_code(self) -> &'static str {
        match self {
            Lang::En => "StatusCode",
            Lang::Ru => "КодСостояния",
        }
    }

    fn error_text(self) -> &'static str {
        match self {
            Lang::En => "ErrorText",
            Lang::Ru => "ТекстОшибки",
        }
    }
}

/// One host session: `setup`, the PostJson call, `get StatusCode`,
/// `get ErrorText`, `extra`, `rss`.
struct Session {
    run: HostRun,
    /// Number of commands in the script.
    commands: usize,
    /// Index of the PostJson step.
    call: usize,
    /// Wall time of the whole host process, start-up included.
    elapsed: Duration,
    /// When the host process had exited.
    ended: Instant,
}

/// The script of a session, and the index of its PostJson command.
fn script(lang: Lang, setup: &[String], url: &str, extra: &[String]) -> (Vec<String>, usize) {
    let mut lines: Vec<String> = setup.to_vec();
    let call = lines.len();
    lines.push(format!("call {} {} {}", lang.post_json(), q(url), q(JSON)));
    lines.push(format!("get {}", lang.status_code()));
    lines.push(format!("get {}", lang.error_text()));
    lines.extend(extra.iter().cloned());
    lines.push("rss".into());
    (lines, call)
}

fn session(lang: Lang, setup: &[String], url: &str, extra: &[String]) -> Session {
    let (lines, call) = script(lang, setup, url, extra);
    let started = Instant::now();
    let run = host::run(lang.code(), &lines.join("\n"));
    Session {
        run,
        commands: lines.len(),
        call,
        elapsed: started.elapsed(),
        ended: Instant::now(),
    }
}

/// The C host built without AddressSanitizer, once. AddressSanitizer keeps
/// freed blocks resident in its quarantine (256 MB by default), so after a
/// call that allocated a lot only this build shows what a 1C process keeps.
/// None when the suite runs another host (`WEBHOOK1C_HOST_CMD`, Wine).
fn plain_host() -> Option<&'static Path> {
    static HOST: OnceLock<Option<PathBuf>> = OnceLock::new();
    HOST.get_or_init(|| {
        if std::env::var_os("WEBHOOK1C_HOST_CMD").is_some() {
            return None;
        }
        let out = host::compile_c("host", "webhook1c-host-plain", &["-O2"]);
        Some(out)
    })
    .as_deref()
}

/// Runs the script of a session in the plain host and returns its `rss`
/// figure, or None without a plain host.
fn plain_rss_kb(setup: &[String], url: &str, extra: &[String]) -> Option<u64> {
    let host = plain_host()?;
    let (lines, _) = script(Lang::En, setup, url, extra);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-host");
    let script_path = dir.join(format!("faults-plain-{}.txt", std::process::id()));
    std::fs::write(&script_path, lines.join("\n")).expect("write the script");
    let output = Command::new(host)
        .arg("--script")
        .arg(&script_path)
        .arg(host::library())
        .stdin(Stdio::null())
        .output()
        .expect("run the plain host");
    let _ = std::fs::remove_file(&script_path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("# rss_kb="))
        .and_then(|kb| kb.trim().parse().ok())
}

impl Session {
    fn step(&self, index: usize) -> Option<&Step> {
        self.run.steps.get(index)
    }

    fn call(&self) -> Option<&Step> {
        self.step(self.call)
    }

    /// The `index`-th command of `extra`.
    fn extra(&self, index: usize) -> Option<&Step> {
        self.step(self.call + 3 + index)
    }

    fn exception(&self) -> Option<&str> {
        self.call()?.exception.as_deref()
    }

    fn status(&self) -> Option<&str> {
        self.step(self.call + 1)?.value.as_deref()
    }

    fn error_text(&self) -> Option<String> {
        let step = self.step(self.call + 2)?;
        step.value.as_ref()?;
        Some(step.string())
    }

    fn rss_kb(&self) -> Option<u64> {
        let step = self.step(self.commands - 1)?;
        step.notes
            .iter()
            .find_map(|n| n.strip_prefix("# rss_kb="))
            .and_then(|kb| kb.trim().parse().ok())
    }

    /// Ok when the process ran every command after the failure (the reads
    /// printed values, `rss` its figure) and ended cleanly: exit 0, every
    /// block handed over freed, nothing foreign freed, no ABI errors.
    fn survived(&self) -> Result<(), String> {
        let run = &self.run;
        if run.steps.len() < self.commands {
            return Err(format!(
                "stopped after {} of {} commands (exit {:?})",
                run.steps.len(),
                self.commands,
                run.code
            ));
        }
        for read in [self.call + 1, self.call + 2] {
            if run.steps[read].value.is_none() {
                return Err(format!("`{}` printed no value", run.steps[read].command));
            }
        }
        if self.rss_kb().is_none() {
            return Err("`rss` printed no figure".into());
        }
        if !run.stdout.contains("live=0 foreign_frees=0") {
            return Err("memory handed to the host leaked or was freed twice".into());
        }
        if !run.stdout.contains("# abi errors: 0") {
            return Err("ABI errors".into());
        }
        if run.code != Some(0) {
            return Err(format!("exit {:?}", run.code));
        }
        Ok(())
    }
}

/// One line of the matrix and everything checked for it.
struct Row {
    fault: &'static str,
    en: Session,
    ru: Option<Session>,
    /// Cell text for a call that did not raise (a raised call shows its text).
    answer: Option<String>,
    /// Measured details printed under the table.
    notes: Vec<String>,
    /// Expectations that did not hold.
    problems: Vec<String>,
    /// Ports shown as `PORT` in the table, so that it reads the same each run.
    ports: Vec<u16>,
    /// `rss` of the same script in the host built without AddressSanitizer.
    plain_rss_kb: Option<u64>,
}

impl Row {
    fn new(fault: &'static str, en: Session, port: u16) -> Row {
        let mut row = Row {
            fault,
            en,
            ru: None,
            answer: None,
            notes: vec![],
            problems: vec![],
            ports: if port == 0 { vec![] } else { vec![port] },
            plain_rss_kb: None,
        };
        if let Err(why) = row.en.survived() {
            row.problems
                .push(format!("the process did not survive: {why}"));
        }
        row
    }

    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.problems.push(what.into());
        }
    }

    /// The call raised exactly `expected`, ErrorText holds the same text and
    /// StatusCode is 0 (no answer).
    fn expect_exception(&mut self, expected: &str) {
        let (exception, error_text, status) = (
            self.en.exception().map(str::to_string),
            self.en.error_text(),
            self.en.status().map(str::to_string),
        );
        self.check(
            exception.as_deref() == Some(expected),
            format!("exception {exception:?}, expected {expected:?}"),
        );
        self.check(
            error_text.as_deref() == Some(expected),
            format!("ErrorText {error_text:?}, expected {expected:?}"),
        );
        self.check(
            status.as_deref() == Some("number 0"),
            format!("StatusCode {status:?}, expected 0"),
        );
    }

    /// The same fault in a Russian session raises `expected`.
    fn expect_russian(&mut self, ru: Session, expected: &str) {
        if let Err(why) = ru.survived() {
            self.problems
                .push(format!("the Russian session did not survive: {why}"));
        }
        let (exception, error_text) = (ru.exception().map(str::to_string), ru.error_text());
        self.check(
            exception.as_deref() == Some(expected),
            format!("Russian exception {exception:?}, expected {expected:?}"),
        );
        self.check(
            error_text.as_deref() == Some(expected),
            format!("ТекстОшибки {error_text:?}, expected {expected:?}"),
        );
        self.ru = Some(ru);
    }

    /// The call returned without raising; its value, unescaped.
    fn returned(&mut self) -> Option<String> {
        let step = self.en.call()?;
        if step.value.is_none() {
            let raised = step.exception.clone();
            self.problems
                .push(format!("the call raised {raised:?}, expected an answer"));
            return None;
        }
        Some(step.string())
    }

    fn mask(&self, text: &str) -> String {
        let mut text = text.to_string();
        for port in &self.ports {
            for host in ["127.0.0.1", "localhost"] {
                text = text.replace(&format!("{host}:{port}/"), &format!("{host}:PORT/"));
            }
        }
        text
    }

    fn seen_cell(&self) -> String {
        let en = match (self.en.exception(), &self.answer) {
            (Some(text), _) => format!("exception: {}", code(&self.mask(text))),
            (None, Some(answer)) => self.mask(answer),
            (None, None) => "no exception, no answer recorded".into(),
        };
        match self.ru.as_ref().and_then(Session::exception) {
            Some(ru) => format!("{en}<br>ru: {}", code(&self.mask(ru))),
            None => en,
        }
    }

    fn survived_cell(&self) -> String {
        let sessions = std::iter::once(&self.en).chain(self.ru.as_ref());
        let failures: Vec<String> = sessions.filter_map(|s| s.survived().err()).collect();
        if failures.is_empty() {
            "yes".into()
        } else {
            format!("no: {}", failures.join("; "))
        }
    }

    fn rss_cell(&self) -> String {
        let asan = megabytes(self.en.rss_kb());
        match self.plain_rss_kb {
            Some(kb) => format!("{asan} ({} without ASan)", megabytes(Some(kb))),
            None => asan,
        }
    }
}

/// A Markdown code span that cannot break the table.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|").replace('`', "'"))
}

fn megabytes(kb: Option<u64>) -> String {
    kb.map_or_else(|| "?".into(), |kb| format!("{:.1}", kb as f64 / 1024.0))
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The outcome of a raw server's first connection, once the handlers of
/// all `sessions` have stopped.
fn first_outcome(server: &RawServer, row: &mut Row, sessions: usize) -> Option<RawOutcome> {
    let outcomes = server.wait_for_outcomes(sessions, Duration::from_secs(30));
    row.check(
        outcomes.len() == sessions,
        format!(
            "the server saw {} connections end, expected {sessions}",
            outcomes.len()
        ),
    );
    outcomes.into_iter().next()
}

// ---------------------------------------------------------------------------
// The rows
// ---------------------------------------------------------------------------

fn refused() -> Row {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let mut row = Row::new(
        "Connection refused",
        session(Lang::En, &[], &url, &[]),
        port,
    );
    row.expect_exception(&format!(
        "PostJson: could not connect to {url}: connection refused"
    ));
    row.expect_russian(
        session(Lang::Ru, &[], &url, &[]),
        &format!("ОтправитьJson: не удалось подключиться к {url}: соединение отклонено"),
    );
    row
}

fn dns_failure() -> Row {
    let url = "http://webhook1c-fault.invalid/";
    let mut row = Row::new("DNS failure", session(Lang::En, &[], url, &[]), 0);
    row.expect_exception(&format!(
        "PostJson: could not connect to {url}: the host name could not be resolved"
    ));
    row.expect_russian(
        session(Lang::Ru, &[], url, &[]),
        &format!(
            "ОтправитьJson: не удалось подключиться к {url}: не удалось определить адрес по имени узла"
        ),
    );
    let elapsed = row.en.elapsed;
    row.notes.push(format!("host run {}", seconds(elapsed)));
    row
}

/// A TLS server with a bad certificate; the test CA is trusted, so the
/// only fault is the one the row names.
fn bad_certificate(
    fault: &'static str,
    config: std::sync::Arc<rustls::ServerConfig>,
    why: &str,
) -> Row {
    let tls = TlsFixtures::shared();
    let server = TestServer::https(config);
    let url = server.url("/hook");
    let setup = [format!(
        "set TrustedCertificates {}",
        q(&host::path(&tls.ca_path))
    )];
    let mut row = Row::new(fault, session(Lang::En, &setup, &url, &[]), server.port());
    row.expect_exception(&format!("PostJson: TLS error with {url}: {why}"));
    row.check(
        server.request_count() == 0,
        "a request was sent over a connection that failed verification",
    );
    row
}

fn wrong_host_name() -> Row {
    let tls = TlsFixtures::shared();
    bad_certificate(
        "TLS: certificate for another host name",
        tls.wrong_name_server_config(),
        "the server certificate is not valid for this host name",
    )
}

fn expired_certificate() -> Row {
    let tls = TlsFixtures::shared();
    bad_certificate(
        "TLS: expired certificate",
        tls.expired_server_config(),
        "the server certificate has expired or is not yet valid",
    )
}

fn unknown_ca() -> Row {
    let tls = TlsFixtures::shared();
    bad_certificate(
        "TLS: certificate from an unknown CA",
        tls.unknown_ca_server_config(),
        "the server certificate is not trusted (unknown issuer); add its CA with TrustedCertificates",
    )
}

/// Status line and headers (Content-Length: 1000), then nothing.
fn slowloris() -> Row {
    let server = TestServer::with_handler(None, |_| {
        Reply::new(200)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_header("Content-Length", "1000")
            .with_body(vec![b'x'; 1000])
            .with_body_delay(Duration::from_secs(600))
    });
    let url = server.url("/hook");
    let en = session(Lang::En, &["set Timeout 2".into()], &url, &[]);
    let mut row = Row::new(
        "Server stalls after the headers (slowloris), Timeout = 2",
        en,
        server.port(),
    );
    row.expect_exception(&format!(
        "PostJson: request to {url} timed out after 2 s (Timeout)"
    ));
    let elapsed = row.en.elapsed;
    // Two seconds of Timeout plus the host's start-up and exit under ASan.
    row.check(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(10),
        format!("host run {}, expected about 2 s", seconds(elapsed)),
    );
    row.notes.push(format!(
        "host run {} (start-up and exit included)",
        seconds(elapsed)
    ));
    row
}

/// Headers with Content-Length: 100000, 1000 bytes of body, then a TCP reset.
fn reset_mid_body() -> Row {
    let server = RawServer::start(|_, w: &mut RawWriter<'_>| {
        w.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 100000\r\n\r\n",
        )?;
        w.write_all(&[b'x'; 1000])?;
        w.flush()?;
        // The client has the head and the first bytes and is waiting for
        // the rest when the reset arrives.
        w.sleep(Duration::from_millis(300));
        w.reset_on_close()
    });
    let url = server.url("/hook");
    let mut row = Row::new(
        "Connection reset in the middle of the body",
        session(Lang::En, &[], &url, &[]),
        server.port(),
    );
    // The server wrote 1,000 of the 100,000 bytes it announced.
    let expected = format!(
        "PostJson: the connection to {url} broke during the transfer: the server reset the connection after 1000 of 100000 bytes of the response"
    );
    let exception = row.en.exception().unwrap_or_default().to_string();
    row.check(
        exception == expected,
        format!("exception {exception:?}, expected {expected:?}"),
    );
    let error_text = row.en.error_text();
    row.check(
        error_text.as_deref() == Some(exception.as_str()),
        format!("ErrorText {error_text:?}"),
    );
    let ru = session(Lang::Ru, &[], &url, &[]);
    let ru_expected = format!(
        "ОтправитьJson: соединение с {url} прервалось во время передачи: сервер сбросил соединение после 1000 из 100000 байт ответа"
    );
    let ru_text = ru.exception().unwrap_or_default().to_string();
    row.check(
        ru_text == ru_expected,
        format!("Russian exception {ru_text:?}, expected {ru_expected:?}"),
    );
    if let Err(why) = ru.survived() {
        row.problems
            .push(format!("the Russian session did not survive: {why}"));
    }
    row.ru = Some(ru);
    if let Some(outcome) = first_outcome(&server, &mut row, 2) {
        row.check(
            outcome.error.is_none(),
            format!("the server's writes failed: {:?}", outcome.error),
        );
        row.notes.push(format!(
            "the server wrote {} bytes, then reset",
            outcome.bytes_written
        ));
    }
    row
}

fn redirect_loop() -> Row {
    let server = TestServer::http();
    let url = server.url("/redirect-loop");
    let mut row = Row::new(
        "Endless redirect loop (302 to itself)",
        session(Lang::En, &[], &url, &[]),
        server.port(),
    );
    row.expect_exception(&format!(
        "PostJson: too many redirects (more than 10) starting at {url}"
    ));
    let requests = server.request_count();
    row.check(
        requests == 11,
        format!("the server saw {requests} requests, expected 11"),
    );
    row.notes
        .push(format!("the server saw {requests} requests, then none"));
    row
}

/// Zeros as fast as the client takes them: 2 GB announced by Content-Length,
/// or chunked without a length.
fn two_gigabytes(chunked: bool) -> impl Fn(&Recorded, &mut RawWriter<'_>) -> io::Result<()> {
    move |_, w| {
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_string()
        } else {
            format!("Content-Length: {TWO_GB}")
        };
        write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{framing}\r\n\r\n"
        )?;
        let block = vec![0u8; 64 * 1024];
        let mut sent = 0u64;
        while sent < TWO_GB {
            if w.stopping() {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = (TWO_GB - sent).min(block.len() as u64) as usize;
            if chunked {
                write!(w, "{n:x}\r\n")?;
            }
            w.write_all(&block[..n])?;
            if chunked {
                w.write_all(b"\r\n")?;
            }
            sent += n as u64;
        }
        if chunked {
            w.write_all(b"0\r\n\r\n")?;
        }
        Ok(())
    }
}

fn two_gb_response(chunked: bool) -> Row {
    let server = RawServer::start(two_gigabytes(chunked));
    let url = server.url("/hook");
    // The pause lets the server's writes end before the process does, so a
    // connection closed only at exit would show.
    let extra = ["sleep 1".to_string()];
    let fault = if chunked {
        "2 GB response, chunked without a length (default MaxResponseSize)"
    } else {
        "2 GB response, Content-Length: 2147483648 (default MaxResponseSize)"
    };
    let mut row = Row::new(fault, session(Lang::En, &[], &url, &extra), server.port());
    let expected = format!(
        "PostJson: the response from {url} is larger than MaxResponseSize ({DEFAULT_MAX_RESPONSE_SIZE} bytes); raise MaxResponseSize, or set it to 0 for no limit"
    );
    row.expect_exception(&expected);
    if !chunked {
        row.expect_russian(
            session(Lang::Ru, &[], &url, &extra),
            &format!(
                "ОтправитьJson: ответ от {url} больше, чем МаксимальныйРазмерОтвета ({DEFAULT_MAX_RESPONSE_SIZE} байт); увеличьте МаксимальныйРазмерОтвета или укажите 0 (без ограничения)"
            ),
        );
    }
    let sessions = 1 + usize::from(row.ru.is_some());
    if let Some(outcome) = first_outcome(&server, &mut row, sessions) {
        let sent = outcome.bytes_written;
        row.check(
            outcome.error.is_some(),
            "the server wrote all 2 GB: the client never closed",
        );
        let closed_early = outcome.ended_at + Duration::from_millis(500) < row.en.ended;
        row.check(
            closed_early,
            "the connection was closed only when the process exited",
        );
        // Content-Length alone ends the call: the body is never read, the
        // server only fills the socket buffers. Chunked, the add-in reads
        // up to the limit and stops.
        let bound = if chunked {
            2 * DEFAULT_MAX_RESPONSE_SIZE
        } else {
            DEFAULT_MAX_RESPONSE_SIZE / 2
        };
        row.check(
            sent < bound,
            format!("the server wrote {sent} bytes, expected fewer than {bound}"),
        );
        if chunked {
            row.check(
                sent > DEFAULT_MAX_RESPONSE_SIZE,
                format!("the server wrote only {sent} bytes: the limit was not reached"),
            );
        }
        row.notes.push(format!(
            "the server wrote {:.1} MB of the 2048 MB before the client closed ({:?})",
            sent as f64 / MIB,
            outcome.error.unwrap_or(io::ErrorKind::Other)
        ));
    }
    // Far below the 2 GB: under AddressSanitizer the freed buffers of up to
    // the limit stay in its quarantine; without it the process is back near
    // its size before the call, far below the 64 MB limit.
    if let Some(kb) = row.en.rss_kb() {
        let mb = kb as f64 / 1024.0;
        row.check(mb < 512.0, format!("RSS after {mb:.1} MB under ASan"));
    }
    row.plain_rss_kb = plain_rss_kb(&[], &url, &extra);
    if let Some(kb) = row.plain_rss_kb {
        let mb = kb as f64 / 1024.0;
        row.check(
            mb < DEFAULT_MAX_RESPONSE_SIZE as f64 / MIB / 2.0,
            format!("RSS after {mb:.1} MB without ASan"),
        );
    }
    row
}

/// `text/plain; charset=utf-8` whose bytes are not UTF-8.
fn invalid_utf8() -> Row {
    const BODY: &[u8] = b"caf\xc3\xa9 \xff\xfe ok \xc3(";
    const DECODED: &str = "caf\u{e9} \u{fffd}\u{fffd} ok \u{fffd}(";
    let server = TestServer::with_handler(None, |_| {
        Reply::new(200)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(BODY)
    });
    let url = server.url("/hook");
    let extra = [
        "get ResponseBody".to_string(),
        "call GetResponseBinary".to_string(),
    ];
    let mut row = Row::new(
        "Invalid UTF-8 in a `text/plain; charset=utf-8` body",
        session(Lang::En, &[], &url, &extra),
        server.port(),
    );
    let returned = row.returned();
    let status = row.en.status().map(str::to_string);
    let body = row
        .en
        .extra(0)
        .filter(|s| s.value.is_some())
        .map(Step::string);
    let binary = row.en.extra(1).and_then(|s| s.value.clone());
    let want_binary = format!(
        "binary {} {}",
        BODY.len(),
        BODY.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    row.check(
        returned.as_deref() == Some(DECODED),
        format!("PostJson returned {returned:?}, expected {DECODED:?}"),
    );
    row.check(
        status.as_deref() == Some("number 200"),
        format!("StatusCode {status:?}"),
    );
    row.check(
        body.as_deref() == Some(DECODED),
        format!("ResponseBody {body:?}, expected {DECODED:?}"),
    );
    row.check(
        binary.as_deref() == Some(want_binary.as_str()),
        format!("GetResponseBinary {binary:?}, expected {want_binary:?}"),
    );
    let exact = if binary.as_deref() == Some(want_binary.as_str()) {
        "the exact bytes sent"
    } else {
        "NOT the bytes sent"
    };
    row.answer = Some(format!(
        "no exception; {}; ResponseBody {} (U+FFFD for each bad sequence); GetResponseBinary: {exact}",
        status.as_deref().map_or("?".into(), status_text),
        code(body.as_deref().unwrap_or("?"))
    ));
    row
}

/// `number 200` as `StatusCode 200`.
fn status_text(value: &str) -> String {
    format!(
        "StatusCode {}",
        value.strip_prefix("number ").unwrap_or(value)
    )
}

/// 429 with `Retry-After: 1`, then 200; RetryCount 1, RetryDelay 0, so the
/// pause between the attempts is the server's.
fn too_many_requests_honoured() -> Row {
    let count = AtomicUsize::new(0);
    let server = TestServer::with_handler(None, move |_| {
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::text(429, "slow down").with_header("Retry-After", "1")
        } else {
            Reply::text(200, "ok")
        }
    });
    let url = server.url("/hook");
    let setup = [
        "set RetryCount 1".to_string(),
        "set RetryDelay 0".to_string(),
    ];
    let mut row = Row::new(
        "429 with Retry-After: 1 (RetryCount 1)",
        session(Lang::En, &setup, &url, &[]),
        server.port(),
    );
    let returned = row.returned();
    let status = row.en.status().map(str::to_string);
    let error_text = row.en.error_text();
    row.check(
        returned.as_deref() == Some("ok"),
        format!("PostJson returned {returned:?}"),
    );
    row.check(
        status.as_deref() == Some("number 200"),
        format!("StatusCode {status:?}"),
    );
    row.check(
        error_text.as_deref() == Some(""),
        format!("ErrorText {error_text:?}"),
    );
    let requests = server.requests();
    row.check(
        requests.len() == 2,
        format!("the server saw {} requests, expected 2", requests.len()),
    );
    if let [first, second] = requests.as_slice() {
        let gap = second.received_at - first.received_at;
        row.check(
            gap >= Duration::from_secs(1) && gap < Duration::from_secs(5),
            format!(
                "attempts {} apart, expected Retry-After's 1 s",
                seconds(gap)
            ),
        );
        row.notes
            .push(format!("the server saw 2 requests, {} apart", seconds(gap)));
    }
    row.answer = Some(format!(
        "no exception; {} on attempt {}, body {}",
        status.as_deref().map_or("?".into(), status_text),
        requests.len(),
        code(returned.as_deref().unwrap_or("?"))
    ));
    row
}

/// 429 asking for 120 s, more than a direct call may wait: the answer comes
/// back at once.
fn too_many_requests_over_the_cap() -> Row {
    let server = TestServer::with_handler(None, |_| {
        Reply::text(429, "slow down").with_header("Retry-After", "120")
    });
    let url = server.url("/hook");
    let setup = ["set RetryCount 3".to_string()];
    let extra = [format!("call GetResponseHeader {}", q("Retry-After"))];
    let mut row = Row::new(
        "429 with Retry-After: 120, over the 60 s cap (RetryCount 3)",
        session(Lang::En, &setup, &url, &extra),
        server.port(),
    );
    let returned = row.returned();
    let status = row.en.status().map(str::to_string);
    let header = row
        .en
        .extra(0)
        .filter(|s| s.value.is_some())
        .map(Step::string);
    row.check(
        returned.as_deref() == Some("slow down"),
        format!("PostJson returned {returned:?}"),
    );
    row.check(
        status.as_deref() == Some("number 429"),
        format!("StatusCode {status:?}"),
    );
    row.check(
        header.as_deref() == Some("120"),
        format!("Retry-After {header:?}"),
    );
    let requests = server.request_count();
    row.check(
        requests == 1,
        format!("the server saw {requests} requests, expected 1"),
    );
    let elapsed = row.en.elapsed;
    row.check(
        elapsed < Duration::from_secs(10),
        format!("host run {}: the call waited", seconds(elapsed)),
    );
    row.notes.push(format!(
        "the server saw {requests} request; host run {}",
        seconds(elapsed)
    ));
    row.answer = Some(format!(
        "no exception, at once; {}, GetResponseHeader(\"Retry-After\") = {}, body {}",
        status.as_deref().map_or("?".into(), status_text),
        code(header.as_deref().unwrap_or("?")),
        code(returned.as_deref().unwrap_or("?"))
    ));
    row
}

/// A session with one successful call, for comparison.
fn baseline() -> Session {
    let server = TestServer::http();
    session(Lang::En, &[], &server.url("/echo"), &[])
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

fn report(rows: &[Row], baseline: &Session, took: Duration) -> String {
    let mut out = String::from("# Fault matrix\n\n");
    out.push_str(
        "Each row is one session of the C host that plays 1C (built with \
         AddressSanitizer), loading the add-in and calling `PostJson` against a \
         local server with that fault, then reading `StatusCode` and `ErrorText` \
         and the process's resident memory. \"Process survived\": it ran every \
         command after the failure and exited 0 with every block it was handed \
         freed and no ABI errors. Ports are shown as PORT. Produced by \
         `cargo test --test faults -- --nocapture`.\n\n",
    );
    out.push_str(
        "| Fault | What 1C sees (ErrorText / exception) | Process survived | RSS after, MB |\n",
    );
    out.push_str("|---|---|---|---|\n");
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.fault.replace('|', "\\|"),
            row.seen_cell(),
            row.survived_cell(),
            row.rss_cell()
        ));
    }
    out.push('\n');
    out.push_str(&format!(
        "RSS is the whole host process after the failure, AddressSanitizer's \
         shadow memory and quarantine of freed blocks included; for comparison, \
         a session after one successful `PostJson`: {} MB. Where a row gives a \
         second figure, the same script ran in the host built without \
         AddressSanitizer, as a 1C process would keep it.\n\n",
        megabytes(baseline.rss_kb())
    ));
    out.push_str("Measured along the way:\n\n");
    for row in rows.iter().filter(|r| !r.notes.is_empty()) {
        out.push_str(&format!("- {}: {}\n", row.fault, row.notes.join("; ")));
    }
    out.push_str(&format!("\nThe whole matrix took {}.\n", seconds(took)));
    out
}

#[test]
fn fault_matrix() {
    let started = Instant::now();
    let rows = vec![
        refused(),
        dns_failure(),
        wrong_host_name(),
        expired_certificate(),
        unknown_ca(),
        slowloris(),
        reset_mid_body(),
        redirect_loop(),
        two_gb_response(false),
        two_gb_response(true),
        invalid_utf8(),
        too_many_requests_honoured(),
        too_many_requests_over_the_cap(),
    ];
    let baseline = baseline();
    let table = report(&rows, &baseline, started.elapsed());

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("reports");
    std::fs::create_dir_all(&dir).expect("create target/reports");
    let path = dir.join("fault-matrix.md");
    std::fs::write(&path, &table).expect("write the fault matrix");
    println!("{table}\n(written to {})", path.display());

    baseline.run.assert_clean();
    for row in &rows {
        row.en.run.assert_clean();
        if let Some(ru) = &row.ru {
            ru.run.assert_clean();
        }
    }
    let problems: Vec<String> = rows
        .iter()
        .flat_map(|r| r.problems.iter().map(move |p| format!("{}: {p}", r.fault)))
        .collect();
    assert!(
        problems.is_empty(),
        "the fault matrix found problems:\n{}",
        problems.join("\n")
    );
}
