//! Eight threads of a 1C host call PostJson for 30 seconds, each with its
//! own objects (a new one every 100 calls), through `webhook1c-load`
//! (`tests/load/`) built with AddressSanitizer and UBSan. Every call must be
//! answered 200, the server must have received exactly one request with the
//! expected body per call (none lost, none extra), the host's memory ledger
//! must end with no live block, and no sanitizer may report anything.
//!
//! The add-in itself is cargo's uninstrumented debug build, but it allocates
//! through the process's malloc, which ASan replaces: a double free, a free
//! of a foreign pointer or a leak in the add-in is caught here too.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::host;
use support::load::{load_binary, LoadBuild};
use support::TestServer;

const THREADS: usize = 8;
const SECONDS: u64 = 30;
const JSON: &str = r#"{"event":"document_created","number":"00-000123","text":"Привет, мир","lines":[1,2,3],"ok":true}"#;

/// The `key=value` fields of the first output line starting with `prefix`.
fn fields<'a>(stdout: &'a str, prefix: &str) -> HashMap<&'a str, &'a str> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in\n{stdout}"));
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

fn number(fields: &HashMap<&str, &str>, key: &str) -> f64 {
    fields
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn eight_threads_for_thirty_seconds_under_asan() {
    let server = TestServer::http();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("load");
    std::fs::create_dir_all(&dir).expect("load dir");
    let tag = std::process::id();
    let json_path = dir.join(format!("concurrency-{tag}.json"));
    std::fs::write(&json_path, JSON).expect("write json");
    let out_path = dir.join(format!("concurrency-{tag}.out"));
    let err_path = dir.join(format!("concurrency-{tag}.err"));

    let binary = load_binary(LoadBuild::Asan);
    let mut child = Command::new(&binary)
        .arg(host::library())
        .arg("stress")
        .arg(server.url("/echo"))
        .arg(&json_path)
        .arg(THREADS.to_string())
        .arg(SECONDS.to_string())
        // LeakSanitizer stays on: the add-in's process-wide pieces (the
        // connection pool, its runtime threads, the logger) are reachable
        // from statics at exit, so a report here is a real leak.
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:halt_on_error=1",
        )
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start webhook1c-load");

    // The run takes SECONDS plus start-up and shutdown; a hang must not
    // hold the suite.
    let limit = Instant::now() + Duration::from_secs(SECONDS + 90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for webhook1c-load") {
            break status;
        }
        if Instant::now() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("webhook1c-load did not finish within {}s", SECONDS + 90);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&out_path).expect("read stdout");
    let stderr = std::fs::read_to_string(&err_path).expect("read stderr");
    for path in [&json_path, &out_path, &err_path] {
        let _ = std::fs::remove_file(path);
    }
    let context = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");

    for marker in [
        "AddressSanitizer",
        "LeakSanitizer",
        "runtime error:",
        "UndefinedBehaviorSanitizer",
        "ABI ERROR",
    ] {
        assert!(
            !stderr.contains(marker),
            "sanitizer or ABI report ({marker}):\n{context}"
        );
    }
    assert_eq!(status.code(), Some(0), "exit status\n{context}");

    let result = fields(&stdout, "result mode=stress");
    let calls = number(&result, "calls") as usize;
    let ok = number(&result, "ok") as usize;
    let failed = number(&result, "failed") as usize;
    let rps = number(&result, "rps");
    assert_eq!(number(&result, "threads") as usize, THREADS, "{context}");
    assert!(number(&result, "seconds") >= SECONDS as f64, "{context}");
    assert_eq!(failed, 0, "{context}");
    assert_eq!(calls, ok, "{context}");
    assert!(calls > 0, "{context}");
    let per_thread = stdout.lines().filter(|l| l.starts_with("thread ")).count();
    assert_eq!(per_thread, THREADS, "{context}");

    let memory = fields(&stdout, "memory ");
    for key in ["live", "foreign_frees", "abi_errors"] {
        assert_eq!(memory.get(key), Some(&"0"), "{key}\n{context}");
    }

    // Every call is one request on the server, none lost and none extra,
    // each carrying the JSON byte for byte.
    let requests = server.requests();
    println!(
        "concurrency: threads={THREADS} seconds={SECONDS} calls={calls} ok={ok} failed={failed} \
         rps={rps:.1} server_requests={} connections={}",
        requests.len(),
        server.connections_accepted()
    );
    assert_eq!(requests.len(), calls, "server count != client count");
    for (i, r) in requests.iter().enumerate() {
        assert!(
            r.method == "POST"
                && r.path() == "/echo"
                && r.body == JSON.as_bytes()
                && r.header("content-type")
                    .is_some_and(|t| t.starts_with("application/json")),
            "request {i} is not the expected PostJson: {}\n{}",
            r.raw_head(),
            r.body_text()
        );
    }
}
