//! Webhook1C benchmarks, side by side in one run on loopback with 1 KB JSON
//! bodies: the ABI path against the Rust HTTP core, both against the floor
//! (a bare kept-alive client; our test server and nginx), a fresh add-in object
//! per call against a reused one, Webhook1C against what a 1C developer
//! would use instead (a new connection per request, curl per request) and a
//! well-known reference client (Python `requests.Session`), the durable
//! queue, memory growth over 100,000 calls, cold start and library sizes.
//!
//! Figures and ratios are printed and written to `target/bench/results.csv`
//! and `target/bench/summary.md`; nothing is asserted on timings.
//! `benches/run.sh` builds what this needs, runs it and plots the CSV.
//!
//! Options: `--quick` (few calls, for a smoke run), `--only GROUP[,GROUP]`
//! (abi, floor, variant, profile, pool, alternatives, queue, memory,
//! coldstart, size).
//! Environment: `WEBHOOK1C_LIBRARY` (default target/release/libwebhook1c.so),
//! `WEBHOOK1C_BASELINE_LIBRARY` (another build, that the variant group
//! compares the library with; without it the group measures nothing),
//! `WEBHOOK1C_BENCH_PYTHON` (a Python with `requests`; default
//! target/py-venv/bin/python), `WEBHOOK1C_PROFILE_LIBRARY` (the library with
//! symbols that the profile group records; benches/run.sh builds it).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::load::{load_binary, LoadBuild};
use support::{TestServer, TlsFixtures};
use webhook1c::host::Value;
use webhook1c::http::{self, Method, Request, Transport};
use webhook1c::queue::{Job, Queue};

/// Runs of each measurement; the median is reported.
const RUNS: usize = 5;
/// Paired runs of the two ratios with targets (ABI overhead, fresh object):
/// more of them, since a ratio of two noisy rates is noisier than either.
const PAIRED_RUNS: usize = 9;

struct Settings {
    quick: bool,
    only: Option<Vec<String>>,
    library: PathBuf,
    load: PathBuf,
    work: PathBuf,
    json_file: PathBuf,
    json: String,
}

impl Settings {
    fn wants(&self, group: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|groups| groups.iter().any(|g| g == group))
    }

    /// `full` normally, `quick` with `--quick`.
    fn count(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }

    fn runs(&self) -> usize {
        if self.quick {
            3
        } else {
            RUNS
        }
    }

    fn paired_runs(&self) -> usize {
        if self.quick {
            3
        } else {
            PAIRED_RUNS
        }
    }
}

/// One figure of the report.
struct Row {
    group: &'static str,
    name: String,
    value: f64,
    unit: &'static str,
    note: String,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn add(
        &mut self,
        group: &'static str,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
        note: impl Into<String>,
    ) {
        let row = Row {
            group,
            name: name.into(),
            value,
            unit,
            note: note.into(),
        };
        println!(
            "  {:<58} {:>12} {:<8} {}",
            row.name,
            format_value(row.value),
            row.unit,
            row.note
        );
        self.rows.push(row);
    }

    fn csv(&self) -> String {
        let mut out = String::from("group,name,value,unit,note\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                r.group,
                csv_field(&r.name),
                r.value,
                r.unit,
                csv_field(&r.note)
            );
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out =
            String::from("| Group | Measurement | Value | Unit | Note |\n|---|---|---:|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.group,
                r.name,
                format_value(r.value),
                r.unit,
                r.note
            );
        }
        out
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn format_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    assert!(!values.is_empty(), "no runs measured");
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The median of paired ratios and their range, as a note: `a / b` per run,
/// each pair measured back to back so that the machine's drift over a
/// minute cancels out of the ratio.
fn paired(ratios: &[f64]) -> (f64, String) {
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (
        median(ratios.to_vec()),
        format!(
            "median of {} paired runs ({low:.2}–{high:.2})",
            ratios.len()
        ),
    )
}

/// A 1 KB JSON document like an order event from 1C.
fn json_body() -> String {
    let mut lines = String::new();
    let mut n = 1;
    while lines.len() < 800 {
        let _ = write!(
            lines,
            r#"{{"line":{n},"sku":"SKU-{n:05}","name":"Товар {n}","qty":{n},"price":{}.50}},"#,
            n * 10
        );
        n += 1;
    }
    lines.pop();
    let mut json = format!(
        r#"{{"event":"order.created","number":"00-000123","date":"2026-11-28T10:00:00","lines":[{lines}],"comment":""#
    );
    while json.len() < 1022 {
        json.push('x');
    }
    json.push_str("\"}");
    json
}

/// The "result" line of a webhook1c-load run as key=value pairs.
fn run_load(s: &Settings, args: &[&str]) -> HashMap<String, String> {
    run_load_with(s, &s.library, args)
}

/// As [`run_load`], with another build of the library.
fn run_load_with(s: &Settings, library: &Path, args: &[&str]) -> HashMap<String, String> {
    let output = Command::new(&s.load)
        .arg(library)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", s.load.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        panic!(
            "webhook1c-load {args:?} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("result "))
        .unwrap_or_else(|| panic!("no result line from webhook1c-load {args:?}:\n{stdout}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn number(result: &HashMap<String, String>, key: &str) -> f64 {
    result
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("webhook1c-load printed no number {key}: {result:?}"))
}

/// Requests per second of `count` sequential calls of `call`, after a
/// warm-up of a tenth (at most 50).
fn rps(count: usize, mut call: impl FnMut()) -> f64 {
    for _ in 0..(count / 10).min(50) {
        call();
    }
    let start = Instant::now();
    for _ in 0..count {
        call();
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn core_request(url: &str, json: &str) -> Request {
    let mut request = Request::new(Method::Post, url);
    request.body = Some(json.as_bytes().to_vec().into());
    request
        .headers
        .set("Content-Type", "application/json; charset=utf-8");
    request
}

fn expect_ok(result: Result<http::Response, http::Error>) {
    match result {
        Ok(r) if r.status == 200 => {}
        Ok(r) => panic!("status {}", r.status),
        Err(e) => panic!("{e}"),
    }
}

/// `--core-client URL JSON_FILE COUNT [CA_PEM]`: this binary as a plain
/// Rust client of the HTTP core, in a process of its own like the C host's,
/// so both sides of the ABI comparison meet the server the same way.
fn core_client(url: &str, json_file: &Path, count: usize, trusted: Option<String>) {
    let json = std::fs::read_to_string(json_file).expect("read the JSON file");
    let transport = Transport {
        trusted_certificates: trusted.unwrap_or_default(),
        ..Transport::default()
    };
    let request = core_request(url, &json);
    let rate = rps(count, || expect_ok(http::send(&transport, &request)));
    println!("result mode=core calls={count} rps={rate:.1}");
}

/// `--client-client URL JSON_FILE COUNT`: the add-in's object (what the
/// vtable entries dispatch to) driven from Rust, without the ABI.
fn client_client(url: &str, json_file: &Path, count: usize) {
    let json = std::fs::read_to_string(json_file).expect("read the JSON file");
    let mut object = webhook1c::addin::Object::new();
    let post_json = webhook1c::addin::find_method("PostJson").expect("PostJson");
    let (url, json) = (Value::string(url), Value::string(&json));
    let rate = rps(count, || {
        let outcome = object.call(post_json, vec![url.clone(), json.clone()]);
        assert!(outcome.error.is_none(), "PostJson: {:?}", outcome.error);
    });
    println!("result mode=client calls={count} rps={rate:.1}");
}

/// Runs this bench binary as one of its client modes (`--core-client`,
/// `--client-client`) in a process of its own; its requests/s.
fn own_client_rps(args: &[&str]) -> f64 {
    let me = std::env::current_exe().expect("the bench binary");
    let out = Command::new(me)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", args[0]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{} failed: {text}", args[0]);
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix("rps="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no rps from {}: {text}", args[0]))
}

/// 1. The whole ABI path (C host → vtable → PostJson) against the same
///    requests through the Rust HTTP core, each from a process of its own,
///    over HTTP and HTTPS.
fn abi_overhead(s: &Settings, report: &mut Report, tls: &TlsFixtures) {
    println!("\n== ABI path vs the Rust HTTP core (keep-alive, one object)");
    let count = s.count(10_000, 300).to_string();
    let ca = path_str(&tls.ca_path).to_string();
    for https in [false, true] {
        let server = if https {
            TestServer::https(tls.server_config())
        } else {
            TestServer::http()
        };
        let url = server.url("/status/200");
        let scheme = if https { "HTTPS" } else { "HTTP" };
        let trust = format!("TrustedCertificates={ca}");
        let mut core = Vec::new();
        let mut client = Vec::new();
        let mut abi = Vec::new();
        let mut ratios = Vec::new();
        for pair in 0..s.paired_runs() {
            // Every run meets a server with nothing recorded yet (the server
            // keeps each request it received, and a run after 20,000 others
            // would pay for that), and the two runs of a pair take turns
            // going first, so neither side of the ratio gets the warmer
            // start.
            server.clear_requests();
            if !https {
                // The add-in's Client from Rust: its own cost without the ABI.
                client.push(own_client_rps(&[
                    "--client-client",
                    &url,
                    path_str(&s.json_file),
                    &count,
                ]));
                server.clear_requests();
            }
            let mut core_args = vec!["--core-client", &url, path_str(&s.json_file), &count];
            let mut abi_args = vec!["bench", &url, path_str(&s.json_file), &count];
            if https {
                core_args.push(&ca);
                abi_args.extend(["--set", &trust]);
            }
            let core_run = || {
                let rate = own_client_rps(&core_args);
                server.clear_requests();
                rate
            };
            let abi_run = || {
                let rate = number(&run_load(s, &abi_args), "rps");
                server.clear_requests();
                rate
            };
            let (rate, through_abi) = if pair % 2 == 0 {
                let rate = core_run();
                (rate, abi_run())
            } else {
                let through_abi = abi_run();
                (core_run(), through_abi)
            };
            core.push(rate);
            abi.push(through_abi);
            ratios.push(rate / through_abi);
        }
        let runs = core.len();
        let (core, abi) = (median(core), median(abi));
        report.add(
            "abi",
            format!("Rust HTTP core (a Rust program calling http::send), {scheme}"),
            core,
            "req/s",
            format!("{count} calls × {runs} runs, median"),
        );
        if !client.is_empty() {
            let client = median(client);
            report.add(
                "abi",
                format!("the add-in's Client::post_json from Rust (no ABI), {scheme}"),
                client,
                "req/s",
                format!(
                    "{:.0} µs per call more than the core",
                    1e6 / client - 1e6 / core
                ),
            );
        }
        report.add(
            "abi",
            format!("C host → PostJson (the ABI path), {scheme}"),
            abi,
            "req/s",
            format!("{:.0} µs per call more", 1e6 / abi - 1e6 / core),
        );
        let (ratio, note) = paired(&ratios);
        report.add(
            "abi",
            format!("ABI overhead, {scheme}: time per call, ABI / core"),
            ratio,
            "ratio",
            format!("{note}; target ≤ 1.10"),
        );
    }
}

/// A local nginx (Debian's nginx-light) on free ports that answers every
/// request with 200 and `{}`, over HTTP and over HTTPS with the test CA's
/// server certificate: a receiver that is not ours, for the floor group.
/// One process (`master_process off`), so that killing it leaves no worker
/// behind holding the ports.
struct Nginx {
    child: std::process::Child,
    http_port: u16,
    https_port: u16,
}

impl Nginx {
    /// Starts nginx in the foreground, or None when it is not installed.
    fn start(work: &Path, tls: &TlsFixtures) -> Option<Nginx> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())?;
        let dir = work.join("nginx");
        std::fs::create_dir_all(dir.join("body")).expect("target/bench/nginx");
        std::fs::write(dir.join("cert.pem"), &tls.server.cert_pem).expect("cert.pem");
        std::fs::write(dir.join("key.pem"), &tls.server.key_pem).expect("key.pem");
        let (http_port, https_port) = (free_port(), free_port());
        let d = path_str(&dir);
        let conf = format!(
            "worker_processes 1;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
             keepalive_requests 10000000;\n  default_type application/json;\n  \
             ssl_certificate {d}/cert.pem;\n  ssl_certificate_key {d}/key.pem;\n  \
             server {{\n    listen 127.0.0.1:{http_port};\n    listen 127.0.0.1:{https_port} ssl;\n    \
             location / {{ return 200 '{{}}'; }}\n  }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
        let child = Command::new(binary)
            .args(["-p", d, "-c", &format!("{d}/nginx.conf")])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Nginx {
            child,
            http_port,
            https_port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", https_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: see {d}/error.log"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(nginx)
    }

    fn url(&self, https: bool) -> String {
        if https {
            format!("https://localhost:{}/status/200", self.https_port)
        } else {
            format!("http://127.0.0.1:{}/status/200", self.http_port)
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// `--floor-client URL JSON_FILE COUNT [CA_PEM]`: the floor. One kept-alive
/// connection (rustls over TCP for https, the TLS library the add-in uses)
/// writes the same POST the add-in writes, as one buffer, and reads each
/// answer's head and Content-Length body; nothing else happens per call.
fn floor_client(url: &str, json_file: &Path, count: usize, ca: Option<String>) {
    use std::io::Write as _;
    let json = std::fs::read(json_file).expect("read the JSON file");
    let (scheme, rest) = url.split_once("://").expect("URL with a scheme");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = authority.rsplit_once(':').expect("URL with a port");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\n\r\n",
        json.len()
    )
    .into_bytes();
    request.extend_from_slice(&json);
    let port: u16 = port.parse().expect("port");
    let tls = (scheme == "https").then(|| {
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        let ca = ca.expect("a CA PEM file for https");
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(&ca).expect("CA PEM") {
            roots
                .add(cert.expect("CA certificate"))
                .expect("add the CA");
        }
        Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
        )
    });
    // A new connection when the server ends one (our test server does after
    // 10,000 requests), as any kept-alive client does.
    let connect = || -> Box<dyn ReadWrite> {
        let tcp = std::net::TcpStream::connect((host, port)).expect("connect");
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        match &tls {
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_string()).expect("name");
                let connection = rustls::ClientConnection::new(config.clone(), name).expect("TLS");
                Box::new(rustls::StreamOwned::new(connection, tcp))
            }
            None => Box::new(tcp),
        }
    };
    let mut stream = connect();
    let mut buffer = Vec::with_capacity(4096);
    let rate = rps(count, || {
        if !exchange(&mut stream, &request, &mut buffer) {
            stream = connect();
            assert!(
                exchange(&mut stream, &request, &mut buffer),
                "a new connection was closed at once"
            );
        }
    });
    std::io::stdout().flush().ok();
    println!("result mode=floor calls={count} rps={rate:.1}");
}

trait ReadWrite: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> ReadWrite for T {}

/// Writes one request and reads its answer: the head up to the blank line,
/// then as many body bytes as Content-Length says. False when the server had
/// closed the connection before answering; panics on anything but 200.
fn exchange(stream: &mut Box<dyn ReadWrite>, request: &[u8], buffer: &mut Vec<u8>) -> bool {
    if stream.write_all(request).is_err() {
        return false;
    }
    buffer.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) if buffer.is_empty() => return false,
            Ok(n) => n,
            Err(e) => panic!("read the answer: {e}"),
        };
        assert!(n > 0, "the server closed the connection mid-answer");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = std::str::from_utf8(&buffer[..head_end]).expect("an ASCII head");
    assert!(head.starts_with("HTTP/1.1 200"), "answer: {head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a Content-Length");
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).expect("read the body");
        assert!(n > 0, "the server closed the connection mid-answer");
        buffer.extend_from_slice(&chunk[..n]);
    }
    true
}

/// 1a. The distance to the wire: the add-in through the C host and the Rust
///     core against the floor (one kept-alive connection that writes the
///     same request and reads the answer, nothing more), over HTTP and
///     HTTPS, against our test server and against nginx.
fn floor(s: &Settings, report: &mut Report, tls: &TlsFixtures) {
    println!(
        "\n== the distance to the wire: the add-in and the core against a bare kept-alive client"
    );
    let count = s.count(10_000, 300).to_string();
    let ca = path_str(&tls.ca_path).to_string();
    let trust = format!("TrustedCertificates={ca}");
    let nginx = Nginx::start(&s.work, tls);
    if nginx.is_none() {
        println!(
            "  nginx is not installed (Debian's nginx-light): only the test server is measured"
        );
    }
    for https in [false, true] {
        let server = if https {
            TestServer::https(tls.server_config())
        } else {
            TestServer::http()
        };
        let scheme = if https { "HTTPS" } else { "HTTP" };
        let mut receivers = vec![("test server", server.url("/status/200"))];
        if let Some(nginx) = &nginx {
            receivers.push(("nginx", nginx.url(https)));
        }
        for (receiver, url) in receivers {
            let mut floor_args = vec!["--floor-client", &url, path_str(&s.json_file), &count];
            let mut core_args = vec!["--core-client", &url, path_str(&s.json_file), &count];
            let mut abi_args = vec!["bench", &url, path_str(&s.json_file), &count];
            if https {
                floor_args.push(&ca);
                core_args.push(&ca);
                abi_args.extend(["--set", &trust]);
            }
            let (mut floors, mut cores, mut abis, mut ratios) = (vec![], vec![], vec![], vec![]);
            for pair in 0..s.paired_runs() {
                server.clear_requests();
                // The floor and the add-in take turns going first.
                let (bare, through_abi) = if pair % 2 == 0 {
                    let bare = own_client_rps(&floor_args);
                    (bare, number(&run_load(s, &abi_args), "rps"))
                } else {
                    let through_abi = number(&run_load(s, &abi_args), "rps");
                    (own_client_rps(&floor_args), through_abi)
                };
                server.clear_requests();
                cores.push(own_client_rps(&core_args));
                floors.push(bare);
                abis.push(through_abi);
                ratios.push(through_abi / bare);
            }
            let (bare, core, through_abi) = (median(floors), median(cores), median(abis));
            let label = format!("{scheme}, {receiver}");
            report.add(
                "floor",
                format!("floor: one kept-alive connection, bare, {label}"),
                bare,
                "req/s",
                format!("{count} calls × {} runs, median", ratios.len()),
            );
            report.add(
                "floor",
                format!("Rust HTTP core, {label}"),
                core,
                "req/s",
                format!("{:.2} of the floor", core / bare),
            );
            report.add(
                "floor",
                format!("C host → PostJson, {label}"),
                through_abi,
                "req/s",
                format!(
                    "{:.0} µs per call more than the floor",
                    1e6 / through_abi - 1e6 / bare
                ),
            );
            let (ratio, note) = paired(&ratios);
            report.add(
                "floor",
                format!("C host → PostJson / floor, {label}"),
                ratio,
                "ratio",
                format!("{note}; goal ≥ 0.5 over HTTPS"),
            );
        }
    }
}

/// 1b. Two builds of the library side by side (`WEBHOOK1C_BASELINE_LIBRARY`
///     against the library benchmarked): the C host's PostJson against nginx
///     over HTTP and HTTPS, in pairs that take turns going first; requests/s
///     and the host process's CPU time per call (user and system). What a
///     build setting (opt-level, features) costs in speed; the figures for
///     the size work are in benches/results/size.md.
fn variant(s: &Settings, report: &mut Report, tls: &TlsFixtures) {
    println!(
        "\n== two builds of the library: baseline against candidate (C host → PostJson, nginx)"
    );
    let Some(baseline) = std::env::var_os("WEBHOOK1C_BASELINE_LIBRARY").map(PathBuf::from) else {
        println!("  WEBHOOK1C_BASELINE_LIBRARY is not set: nothing to compare");
        return;
    };
    assert!(baseline.exists(), "{} is missing", baseline.display());
    let Some(nginx) = Nginx::start(&s.work, tls) else {
        println!("  nginx is not installed (Debian's nginx-light): skipped");
        return;
    };
    let count = s.count(10_000, 300).to_string();
    let trust = format!("TrustedCertificates={}", path_str(&tls.ca_path));
    for https in [false, true] {
        let scheme = if https { "HTTPS" } else { "HTTP" };
        let url = nginx.url(https);
        let mut args = vec!["bench", &url, path_str(&s.json_file), &count];
        if https {
            args.extend(["--set", &trust]);
        }
        let (mut rates, mut cpu) = ((vec![], vec![]), (vec![], vec![]));
        let (mut rate_ratios, mut cpu_ratios) = (vec![], vec![]);
        for pair in 0..s.paired_runs() {
            let run = |library: &Path| {
                let result = run_load_with(s, library, &args);
                (number(&result, "rps"), number(&result, "cpu_us_per_call"))
            };
            let (base, candidate) = if pair % 2 == 0 {
                let base = run(&baseline);
                (base, run(&s.library))
            } else {
                let candidate = run(&s.library);
                (run(&baseline), candidate)
            };
            rates.0.push(base.0);
            rates.1.push(candidate.0);
            cpu.0.push(base.1);
            cpu.1.push(candidate.1);
            rate_ratios.push(candidate.0 / base.0);
            cpu_ratios.push(candidate.1 / base.1);
        }
        let runs = rate_ratios.len();
        for (who, rate, cpu) in [("baseline", rates.0, cpu.0), ("candidate", rates.1, cpu.1)] {
            report.add(
                "variant",
                format!("{who} library, C host → PostJson, {scheme}, nginx"),
                median(rate),
                "req/s",
                format!(
                    "{count} calls × {runs} runs, median; {:.1} µs CPU per call",
                    median(cpu)
                ),
            );
        }
        let (ratio, note) = paired(&rate_ratios);
        report.add(
            "variant",
            format!("candidate / baseline, requests/s, {scheme}"),
            ratio,
            "ratio",
            note,
        );
        let (ratio, note) = paired(&cpu_ratios);
        report.add(
            "variant",
            format!("candidate / baseline, CPU per call, {scheme}"),
            ratio,
            "ratio",
            note,
        );
    }
}

/// 2. A new add-in object per call against one reused object, HTTPS, with
///    the server's count of TCP connections and TLS handshakes.
fn pool(s: &Settings, report: &mut Report, tls: &TlsFixtures) {
    println!("\n== fresh object per call vs one reused object (HTTPS)");
    let server = TestServer::https(tls.server_config());
    let url = server.url("/status/200");
    let count = s.count(1000, 200);
    let trust = format!("TrustedCertificates={}", tls.ca_path.display());
    // Per mode: rates, TCP connections, TLS handshakes; the two modes
    // alternate, each pair back to back.
    let mut figures = [(Vec::new(), 0, 0), (Vec::new(), 0, 0)];
    let mut ratios = Vec::new();
    let n = count.to_string();
    for _ in 0..s.paired_runs() {
        let mut pair = [0.0; 2];
        for (mode, fresh) in [false, true].into_iter().enumerate() {
            let (conns, shakes) = (server.connections_accepted(), server.tls_handshakes());
            let mut args = vec!["bench", &url, path_str(&s.json_file), &n];
            if fresh {
                args.push("--fresh");
            }
            args.extend(["--set", &trust]);
            pair[mode] = number(&run_load(s, &args), "rps");
            let figure = &mut figures[mode];
            figure.0.push(pair[mode]);
            figure.1 += server.connections_accepted() - conns;
            figure.2 += server.tls_handshakes() - shakes;
            server.clear_requests();
        }
        ratios.push(pair[0] / pair[1]);
    }
    let runs = ratios.len();
    let calls = (count + (count / 10).min(50)) * runs;
    let [(reused, rc, rh), (fresh, fc, fh)] = figures;
    report.add(
        "pool",
        "one object reused, HTTPS",
        median(reused),
        "req/s",
        format!("{rc} TCP connections, {rh} TLS handshakes for {calls} calls in {runs} processes"),
    );
    report.add(
        "pool",
        "new object per call, HTTPS",
        median(fresh),
        "req/s",
        format!("{fc} TCP connections, {fh} TLS handshakes for {calls} calls in {runs} processes"),
    );
    let (ratio, note) = paired(&ratios);
    report.add(
        "pool",
        "fresh object cost: time per call, fresh / reused",
        ratio,
        "ratio",
        format!("{note}; target ≤ 1.2"),
    );
}

/// 3. Webhook1C against the alternatives on one HTTPS server.
fn alternatives(s: &Settings, report: &mut Report, tls: &TlsFixtures) {
    println!("\n== Webhook1C vs the alternatives (HTTPS, same server)");
    let server = TestServer::https(tls.server_config());
    let url = server.url("/status/200");
    let trust = format!("TrustedCertificates={}", tls.ca_path.display());

    let count = s.count(1000, 200);
    let mut ours = Vec::new();
    for _ in 0..s.runs() {
        let n = count.to_string();
        let r = run_load(
            s,
            &["bench", &url, path_str(&s.json_file), &n, "--set", &trust],
        );
        ours.push(number(&r, "rps"));
    }
    let ours = median(ours);
    report.add(
        "alternatives",
        "Webhook1C PostJson (C host, pooled connection)",
        ours,
        "req/s",
        "",
    );

    // `Новый HTTPСоединение` per call: a new TCP connection and TLS
    // handshake for every request, on the same HTTP stack.
    http::install_crypto_provider();
    let ca = reqwest::Certificate::from_pem(tls.ca_pem.as_bytes()).expect("CA certificate");
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(ca)
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let count = s.count(300, 60);
    let conns = server.connections_accepted();
    let mut fresh = Vec::new();
    for _ in 0..s.runs() {
        fresh.push(rps(count, || {
            let r = client
                .post(&url)
                .header("Content-Type", "application/json; charset=utf-8")
                .body(s.json.clone())
                .send()
                .expect("request");
            assert_eq!(r.status(), 200);
            r.bytes().expect("response body");
        }));
    }
    let fresh = median(fresh);
    let per = (server.connections_accepted() - conns) as f64
        / ((count + (count / 10).min(50)) * s.runs()) as f64;
    report.add(
        "alternatives",
        "new TCP+TLS connection per request (HTTPСоединение per call)",
        fresh,
        "req/s",
        format!("{per:.2} connections per request"),
    );
    report.add(
        "alternatives",
        "Webhook1C / new connection per request",
        ours / fresh,
        "ratio",
        "",
    );

    let count = s.count(100, 20);
    if Command::new("curl").arg("--version").output().is_ok() {
        let mut curl = Vec::new();
        for _ in 0..s.runs().min(3) {
            curl.push(rps(count, || {
                let out = Command::new("curl")
                    .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
                    .arg(&tls.ca_path)
                    .args([
                        "-H",
                        "Content-Type: application/json; charset=utf-8",
                        "--data-binary",
                    ])
                    .arg(format!("@{}", s.json_file.display()))
                    .arg(&url)
                    .output()
                    .expect("curl");
                assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "curl failed");
            }));
        }
        let curl = median(curl);
        report.add(
            "alternatives",
            "curl started per request",
            curl,
            "req/s",
            "",
        );
        report.add(
            "alternatives",
            "Webhook1C / curl per request",
            ours / curl,
            "ratio",
            "",
        );
    } else {
        println!("  curl not found: skipped");
    }

    let python = std::env::var_os("WEBHOOK1C_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/py-venv/bin/python"));
    let script = root().join("benches/reference_requests.py");
    let count = s.count(1000, 200);
    let mut py = Vec::new();
    for _ in 0..s.runs() {
        let out = Command::new(&python)
            .arg(&script)
            .arg(&url)
            .arg(&tls.ca_path)
            .arg(&s.json_file)
            .arg(count.to_string())
            .output();
        match out {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                let value = text
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("rps="))
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("no rps from {}: {text}", script.display()));
                py.push(value);
            }
            Ok(out) => {
                println!(
                    "  Python requests skipped: {}",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
                break;
            }
            Err(e) => {
                println!("  Python requests skipped: {}: {e}", python.display());
                break;
            }
        }
    }
    if !py.is_empty() {
        let py = median(py);
        report.add(
            "alternatives",
            "Python requests.Session (reference client)",
            py,
            "req/s",
            "",
        );
        report.add(
            "alternatives",
            "Webhook1C / Python requests.Session",
            ours / py,
            "ratio",
            "",
        );
    }
}

fn queue_job(url: &str, json: &str, id: String) -> Job {
    let mut request = core_request(url, json);
    request.timeout = Some(Duration::from_secs(10));
    Job {
        id,
        schedule: vec![1, 1, 1],
        ..Job::new(request, Transport::default())
    }
}

/// Enqueues `total` messages from `threads` threads on `queue`; messages/s.
fn enqueue_rate(
    queue: &Queue,
    url: &str,
    json: &str,
    threads: usize,
    total: usize,
    tag: &str,
) -> f64 {
    let per_thread = total / threads;
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for i in 0..per_thread {
                    queue
                        .enqueue(queue_job(url, json, format!("{tag}-{t}-{i}")))
                        .expect("enqueue");
                }
            });
        }
    });
    (per_thread * threads) as f64 / start.elapsed().as_secs_f64()
}

/// 4. The queue: durable Enqueue (each message committed and synced before
///    Enqueue returns) and delivery to a local receiver.
fn queue(s: &Settings, report: &mut Report) {
    println!("\n== the durable queue (SQLite WAL, synchronous=FULL)");
    let server = TestServer::http();
    let url = server.url("/status/200");
    let base = s.work.join("queue");
    let count = s.count(2000, 300);
    let mut single = Vec::new();
    let mut eight = Vec::new();
    let mut delivery = Vec::new();
    let mut eight_commits = Vec::new();
    let mut delivery_commits = Vec::new();
    for run in 0..s.runs().min(3) {
        let dir = base.join(format!("run-{run}"));
        let _ = std::fs::remove_dir_all(&dir);
        // A worker that is stopped at once: the messages stay pending, so
        // enqueueing is measured alone and delivery starts from a full queue.
        let filler = Queue::open_unshared(&dir).expect("open queue");
        filler.stop_worker();
        single.push(enqueue_rate(&filler, &url, &s.json, 1, count, "one"));
        let commits = filler.commits();
        eight.push(enqueue_rate(&filler, &url, &s.json, 8, count * 2, "eight"));
        eight_commits.push((filler.commits() - commits) as f64);
        drop(filler);
        let total = count * 3;

        let before = server.request_count();
        let start = Instant::now();
        let worker = Queue::open_unshared(&dir).expect("open queue");
        assert!(
            worker.wait_idle(Duration::from_secs(300)).expect("wait"),
            "delivery did not finish"
        );
        let elapsed = start.elapsed();
        worker.stop_worker();
        delivery_commits.push(worker.commits() as f64);
        let counts = worker.counts().expect("counts");
        assert_eq!(counts.delivered as usize, total, "every message delivered");
        assert_eq!(server.request_count() - before, total, "each once");
        delivery.push(total as f64 / elapsed.as_secs_f64());
        server.clear_requests();
        let _ = std::fs::remove_dir_all(&dir);
    }
    report.add(
        "queue",
        "Enqueue, 1 caller, durable on return",
        median(single),
        "msg/s",
        format!("{count} messages × {} runs, median", s.runs().min(3)),
    );
    report.add(
        "queue",
        "Enqueue, 8 concurrent callers, durable on return",
        median(eight),
        "msg/s",
        format!(
            "{:.0} commits for {} messages; target ≥ 1,000",
            median(eight_commits),
            count * 2
        ),
    );
    report.add(
        "queue",
        "delivery to a local receiver, 8 delivery threads",
        median(delivery),
        "msg/s",
        format!(
            "{:.0} commits (claims and outcomes) for {} messages; target ≥ 2,000",
            median(delivery_commits),
            count * 3
        ),
    );
}

/// 4b. The same queue in PostgreSQL (QueueDatabase) on a local cluster that
///     syncs every commit (fsync on, synchronous_commit on): Enqueue from one
///     and eight callers, and delivery by two processes (two servers), each
///     with its worker, from their start to the last message.
fn queue_postgres(s: &Settings, report: &mut Report) {
    println!("\n== the durable queue in PostgreSQL (QueueDatabase; fsync on)");
    let cluster = support::pg::durable_cluster();
    let server = TestServer::http();
    let url = server.url("/status/200");
    let count = s.count(2000, 300);
    let mut single = Vec::new();
    let mut eight = Vec::new();
    let mut delivery = Vec::new();
    for run in 0..s.runs().min(3) {
        let database = cluster.database(&format!("bench_{run}"));
        let filler = Queue::open_database_unshared(&database, None).expect("open queue");
        filler.stop_worker();
        single.push(enqueue_rate(&filler, &url, &s.json, 1, count, "one"));
        eight.push(enqueue_rate(&filler, &url, &s.json, 8, count * 2, "eight"));
        let total = count * 3;
        let before = server.request_count();
        let start = Instant::now();
        // Two processes, each with its own worker and connections, as two
        // servers of a cluster.
        let me = std::env::current_exe().expect("the bench binary");
        let workers: Vec<_> = (0..2)
            .map(|_| {
                Command::new(&me)
                    .args(["--pg-worker", &database])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("start a delivering process")
            })
            .collect();
        for mut worker in workers {
            assert!(worker.wait().expect("wait").success(), "a worker failed");
        }
        let elapsed = start.elapsed();
        let counts = filler.counts().expect("counts");
        assert_eq!(counts.delivered as usize, total, "every message delivered");
        assert!(
            server.request_count() - before >= total,
            "each at least once"
        );
        delivery.push(total as f64 / elapsed.as_secs_f64());
        server.clear_requests();
    }
    let runs = s.runs().min(3);
    report.add(
        "queue-pg",
        "PostgreSQL: Enqueue, 1 caller, committed on return",
        median(single),
        "msg/s",
        format!("{count} messages × {runs} runs, median"),
    );
    report.add(
        "queue-pg",
        "PostgreSQL: Enqueue, 8 concurrent callers, committed on return",
        median(eight),
        "msg/s",
        format!(
            "{} messages × {runs} runs, median; target ≥ 1,000",
            count * 2
        ),
    );
    report.add(
        "queue-pg",
        "PostgreSQL: delivery to a local receiver, 2 processes × 8 threads",
        median(delivery),
        "msg/s",
        format!(
            "{} messages × {runs} runs, median; target ≥ 1,000",
            count * 3
        ),
    );
}

/// 5. RSS growth over 100,000 PostJson calls (objects recreated every 100).
fn memory(s: &Settings, report: &mut Report) {
    println!("\n== memory over many calls");
    let server = TestServer::http();
    let url = server.url("/status/200");
    let count = s.count(100_000, 10_000);
    let every = (count / 20).to_string();
    let r = run_load(
        s,
        &[
            "memory",
            &url,
            path_str(&s.json_file),
            &count.to_string(),
            &every,
        ],
    );
    report.add(
        "memory",
        format!("RSS growth after {count} calls (after 1,000 warm-up)"),
        number(&r, "growth_kb") / 1024.0,
        "MB",
        format!(
            "{} KB → {} KB; target < 5 MB",
            number(&r, "rss_kb_first"),
            number(&r, "rss_kb_last")
        ),
    );
}

/// 6. dlopen to the first response, in a new process each time.
fn coldstart(s: &Settings, report: &mut Report) {
    println!("\n== cold start");
    let server = TestServer::http();
    let url = server.url("/status/200");
    let mut total = Vec::new();
    let mut dlopen = Vec::new();
    for _ in 0..s.count(9, 3) {
        let r = run_load(s, &["coldstart", &url, path_str(&s.json_file)]);
        total.push(number(&r, "total_ms"));
        dlopen.push(number(&r, "dlopen_ms"));
    }
    report.add("coldstart", "dlopen", median(dlopen), "ms", "");
    report.add(
        "coldstart",
        "dlopen to first PostJson response",
        median(total),
        "ms",
        "includes the first connection and the TLS root store",
    );
}

/// Where the time of one PostJson goes between the host's call and the
/// socket: `perf record` of the C host posting to nginx over HTTPS, with a
/// library built with symbols (`WEBHOOK1C_PROFILE_LIBRARY`, which
/// benches/run.sh builds for this group), the samples summed by who spends
/// them. Skipped when perf or that library is missing.
fn profile(s: &Settings, report: &mut Report, tls: &TlsFixtures) {
    println!("\n== one PostJson, profiled: C host → nginx over HTTPS (perf record)");
    let Some(library) = std::env::var_os("WEBHOOK1C_PROFILE_LIBRARY").map(PathBuf::from) else {
        println!("  WEBHOOK1C_PROFILE_LIBRARY is not set (benches/run.sh sets it): skipped");
        return;
    };
    let Some(nginx) = Nginx::start(&s.work, tls) else {
        println!("  nginx is not installed: skipped");
        return;
    };
    let data = s.work.join("perf.data");
    let count = s.count(20_000, 2_000);
    let trust = format!("TrustedCertificates={}", tls.ca_path.display());
    let url = nginx.url(true);
    let recorded = Command::new("perf")
        .args(["record", "-q", "-F", "4000", "-o", path_str(&data), "--"])
        .arg(&s.load)
        .arg(&library)
        .args([
            "bench",
            &url,
            path_str(&s.json_file),
            &count.to_string(),
            "--set",
            &trust,
        ])
        .output();
    let run = match recorded {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            println!(
                "  perf record failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("  perf is not available ({e}): skipped");
            return;
        }
    };
    let per_call_us = run
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("us_per_call="))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("us_per_call from webhook1c-load");
    let out = Command::new("perf")
        .args([
            "report",
            "-i",
            path_str(&data),
            "--stdio",
            "--no-children",
            "-n",
        ])
        .args(["--sort", "dso,sym"])
        .output()
        .expect("perf report");
    let library_name = library
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut shares: Vec<(&'static str, f64)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "  8.62%   53  [kernel.kallsyms]  [k] finish_task_switch"
        let Some((_, rest)) = line.trim_start().split_once('%') else {
            continue;
        };
        let rest = rest.trim_start();
        let Some((samples, rest)) = rest.split_once(char::is_whitespace) else {
            continue;
        };
        let Ok(samples) = samples.parse::<f64>() else {
            continue;
        };
        let bucket = profile_bucket(rest.trim(), &library_name);
        match shares.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, total)) => *total += samples,
            None => shares.push((bucket, samples)),
        }
    }
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    let all: f64 = shares.iter().map(|(_, n)| n).sum();
    // perf samples the CPU 4,000 times a second; every call of the run (the
    // warm-up too) spent these samples.
    let calls = (count + (count / 10).min(50)) as f64;
    let cpu_us = |samples: f64| samples / 4000.0 / calls * 1e6;
    report.add(
        "profile",
        "one PostJson, HTTPS to nginx: CPU time of the C host process",
        cpu_us(all),
        "µs",
        format!("{per_call_us:.0} µs per call of wall time; the rest is waiting for nginx"),
    );
    for (bucket, samples) in shares {
        report.add(
            "profile",
            format!("  of which {bucket}"),
            cpu_us(samples),
            "µs",
            format!("{:.0} % of the CPU time", samples / all * 100.0),
        );
    }
}

/// Who a `perf report -n --sort dso,sym` line's samples belong to: the
/// kernel, libc, the C host, or the crate of the library's symbol (the first
/// path segment of the type or function the code belongs to).
fn profile_bucket(line: &str, library: &str) -> &'static str {
    if line.contains("[k]") {
        return "kernel (system calls, TCP over loopback, scheduling)";
    }
    let Some((dso, symbol)) = line.split_once("[.]") else {
        return "other";
    };
    let dso = dso.split_whitespace().last().unwrap_or("");
    if dso.starts_with("libc") || dso.starts_with("ld-linux") || dso == "[vdso]" {
        return "libc (malloc, memcpy, syscall wrappers)";
    }
    if dso != library {
        return "the C host itself";
    }
    let mut path = symbol.trim();
    loop {
        let before = path;
        path = path.trim_start_matches('<');
        for wrapper in ["core::ptr::drop_in_place<", "&", "dyn "] {
            path = path.strip_prefix(wrapper).unwrap_or(path);
        }
        if path == before {
            break;
        }
    }
    let mut segments = path.split("::");
    match segments.next().unwrap_or("") {
        "webhook1c" => match segments.next().unwrap_or("") {
            "http" => "add-in: our HTTP core (request shaping, pool, response)",
            _ => "add-in: 1C values, the ABI, the member table",
        },
        "rustls" | "ring" | "rustls_pki_types" | "webpki" => "TLS (rustls, ring)",
        "hyper" | "hyper_util" | "http" | "httparse" | "http_body" | "http_body_util" | "tower"
        | "tower_http" | "tower_service" => "HTTP/1 (hyper, http, tower)",
        "reqwest" => "reqwest",
        "tokio" | "mio" | "futures_util" | "futures_core" => "tokio runtime and futures",
        "serde" | "serde_core" | "serde_json" | "encoding_rs" | "url" | "idna" | "widestring" => {
            "JSON, text and URL handling"
        }
        "alloc" | "__rdl_alloc" | "__rdl_dealloc" | "__rdl_realloc" | "__rust_alloc"
        | "__rust_dealloc" | "__rust_realloc" => "Rust allocation glue",
        "core" | "std" => "Rust core and std",
        _ => "the library: other crates",
    }
}

/// 7. The size of each platform's library, as package.sh builds them.
fn sizes(report: &mut Report) {
    println!("\n== library size per platform");
    let root = root();
    let libraries = [
        (
            "Linux x86_64 (.so)",
            "target/x86_64-unknown-linux-gnu/release/libwebhook1c.so",
        ),
        (
            "Linux i386 (.so)",
            "target/i686-unknown-linux-gnu/release/libwebhook1c.so",
        ),
        (
            "Windows x64 (.dll)",
            "target/x86_64-pc-windows-gnu/release/webhook1c.dll",
        ),
        (
            "Windows x86 (.dll)",
            "target/i686-pc-windows-gnu/release/webhook1c.dll",
        ),
    ];
    for (platform, path) in libraries {
        match std::fs::metadata(root.join(path)) {
            Ok(m) => report.add("size", platform, m.len() as f64 / 1e6, "MB", ""),
            Err(_) => println!("  {platform}: not built (./package.sh builds it)"),
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    if let Ok(m) = std::fs::metadata(root.join(format!("dist/Webhook1C-{version}.zip"))) {
        report.add(
            "size",
            "the package zip (all four)",
            m.len() as f64 / 1e6,
            "MB",
            "",
        );
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn main() {
    let mut quick = false;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // A server alone, for profiling the clients by hand.
            "--serve" => {
                let server = TestServer::http();
                println!("{}", server.url("/status/200"));
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    server.clear_requests();
                }
            }
            "--client-client" => {
                let url = args.next().expect("URL");
                let json_file = PathBuf::from(args.next().expect("JSON_FILE"));
                let count = args.next().and_then(|n| n.parse().ok()).expect("COUNT");
                return client_client(&url, &json_file, count);
            }
            // One delivering process on a QueueDatabase: until nothing is
            // pending.
            "--pg-worker" => {
                let url = args.next().expect("QueueDatabase URL");
                let queue = Queue::open_database(&url).expect("open the queue");
                assert!(queue.wait_idle(Duration::from_secs(300)).expect("wait"));
                println!("result mode=pg-worker done");
                return;
            }
            "--floor-client" => {
                let url = args.next().expect("URL");
                let json_file = PathBuf::from(args.next().expect("JSON_FILE"));
                let count = args.next().and_then(|n| n.parse().ok()).expect("COUNT");
                return floor_client(&url, &json_file, count, args.next());
            }
            "--core-client" => {
                let url = args.next().expect("URL");
                let json_file = PathBuf::from(args.next().expect("JSON_FILE"));
                let count = args.next().and_then(|n| n.parse().ok()).expect("COUNT");
                return core_client(&url, &json_file, count, args.next());
            }
            "--quick" => quick = true,
            "--only" => {
                only = args
                    .next()
                    .map(|g| g.split(',').map(str::to_string).collect())
            }
            // cargo bench passes --bench; libtest's other flags mean nothing here.
            _ => {}
        }
    }
    let library = std::env::var_os("WEBHOOK1C_LIBRARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release/libwebhook1c.so"));
    assert!(
        library.exists(),
        "{} is missing: run `cargo rustc --release --lib --crate-type cdylib` (benches/run.sh does)",
        library.display()
    );
    let work = root().join("target/bench");
    std::fs::create_dir_all(&work).expect("target/bench");
    let json = json_body();
    let json_file = work.join("body.json");
    std::fs::write(&json_file, &json).expect("write body.json");
    let settings = Settings {
        quick,
        only,
        library,
        load: load_binary(LoadBuild::Optimized),
        work: work.clone(),
        json_file,
        json,
    };
    println!(
        "Webhook1C {} benchmarks: library {}, body {} bytes, {} cores{}",
        env!("CARGO_PKG_VERSION"),
        settings.library.display(),
        settings.json.len(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if quick { ", --quick" } else { "" }
    );
    let tls = Arc::new(TlsFixtures::new());
    let mut report = Report::default();
    if settings.wants("abi") {
        abi_overhead(&settings, &mut report, &tls);
    }
    if settings.wants("floor") {
        floor(&settings, &mut report, &tls);
    }
    if settings.wants("variant") {
        variant(&settings, &mut report, &tls);
    }
    if settings.wants("profile") {
        profile(&settings, &mut report, &tls);
    }
    if settings.wants("pool") {
        pool(&settings, &mut report, &tls);
    }
    if settings.wants("alternatives") {
        alternatives(&settings, &mut report, &tls);
    }
    if settings.wants("queue") {
        queue(&settings, &mut report);
    }
    if settings.wants("queue-pg") {
        queue_postgres(&settings, &mut report);
    }
    if settings.wants("memory") {
        memory(&settings, &mut report);
    }
    if settings.wants("coldstart") {
        coldstart(&settings, &mut report);
    }
    if settings.wants("size") {
        sizes(&mut report);
    }
    std::fs::write(work.join("results.csv"), report.csv()).expect("results.csv");
    std::fs::write(work.join("summary.md"), report.markdown()).expect("summary.md");
    println!("\nwritten: {0}/results.csv, {0}/summary.md", work.display());
}
