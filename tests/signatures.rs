//! Signed requests sent through the C host, verified by the reference
//! verifiers: the `standardwebhooks` and `svix` packages from PyPI,
//! installed into `target/py-venv` by `tests/run.sh` (or point
//! `WEBHOOK1C_PYTHON` at a Python that has them).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use support::host::{self, q};
use support::{Reply, TestServer};

fn python() -> PathBuf {
    if let Ok(python) = std::env::var("WEBHOOK1C_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run tests/run.sh, or python3 -m venv target/py-venv && target/py-venv/bin/pip install standardwebhooks svix",
        venv.display()
    );
    venv
}

#[test]
fn signatures_verify_with_the_reference_library_on_every_attempt() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    // The first attempt of each call fails, so every call is signed twice.
    // Bodies are text: the reference library decodes the payload as UTF-8
    // (binary bodies are signed over their raw bytes, as the specification
    // says; tests/c_host.rs checks those with our own signer).
    let server = TestServer::with_handler(None, move |r| {
        if seen.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
            Reply::text(500, "try again")
        } else {
            Reply::new(200).with_body(r.body.clone())
        }
    });
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let run = host::run(
        "en",
        &format!(
            "set SigningSecret {secret}
set RetryCount 1
set RetryDelay 0
call PostJson {url} {json}
call Post {url} {text}
call Post {url} {form} {form_type}
call Request {put} {url} {unicode}",
            secret = q(secret),
            url = q(&server.url("/hook")),
            json = q(r#"{"event":"document_created","number":"00-000123"}"#),
            text = q("plain text body"),
            put = q("PUT"),
            form = q("a=1&b=%D0%AF"),
            form_type = q("application/x-www-form-urlencoded"),
            unicode = q("Привет, мир 😀"),
        ),
    );
    run.assert_clean();
    for step in [2, 3, 4, 5] {
        run.step(step).ok();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 8);
    let recorded: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| {
            let headers: serde_json::Map<String, serde_json::Value> =
                ["webhook-id", "webhook-timestamp", "webhook-signature"]
                    .iter()
                    .map(|h| {
                        (
                            h.to_string(),
                            r.header(h).unwrap_or_else(|| panic!("no {h}")).into(),
                        )
                    })
                    .collect();
            serde_json::json!({
                "body_b64": base64::engine::general_purpose::STANDARD.encode(&r.body),
                "headers": headers,
            })
        })
        .collect();
    for pair in requests.chunks(2) {
        assert_eq!(
            pair[0].header("webhook-id"),
            pair[1].header("webhook-id"),
            "a retry keeps the id"
        );
    }
    assert_ne!(
        requests[0].header("webhook-id"),
        requests[2].header("webhook-id"),
        "each call has its own id"
    );

    assert!(verifies(&[secret], &recorded), "every attempt verifies");

    // A tampered body must fail the same verifiers: the check is real.
    let mut tampered = recorded[1].clone();
    tampered["body_b64"] = base64::engine::general_purpose::STANDARD
        .encode(b"{\"event\":\"forged\"}")
        .into();
    assert!(!verifies(&[secret], &[tampered]), "a forged body verified");
}

/// Runs the reference verifiers on `requests` with `secrets`: true when
/// every request verifies with each secret alone.
fn verifies(secrets: &[&str], requests: &[serde_json::Value]) -> bool {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let input = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "signatures-{}-{}.json",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(
        &input,
        serde_json::json!({ "secrets": secrets, "requests": requests }).to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/verify_signatures.py");
    let output = Command::new(python())
        .arg(&script)
        .arg(&input)
        .output()
        .expect("run python");
    let _ = std::fs::remove_file(&input);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() || stdout.contains("failed verification"),
        "the verifier did not run: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.success()
}

/// Key rotation: SigningSecret "new old" signs each request once per key,
/// space-separated, new first; a receiver that knows only the new key, or
/// only the old one, accepts it (standardwebhooks and svix alike), one
/// that knows neither does not. Direct calls and the queue.
#[test]
fn rotated_secrets_sign_once_each_and_either_key_verifies() {
    let server = TestServer::with_handler(None, |_| Reply::new(200));
    let (new, old) = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "old-plain-secret");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("signatures-queue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = host::run(
        "en",
        &format!(
            "set SigningSecret {secrets}
call PostJson {url} {json}
set QueueDirectory {dir}
call Enqueue {url} {json}
call WaitForDelivery 20",
            secrets = q(&format!("{new} {old}")),
            url = q(&server.url("/hook")),
            json = q(r#"{"event":"rotated"}"#),
            dir = q(&host::path(&dir)),
        ),
    );
    run.assert_clean();
    assert_eq!(run.step(4).ok(), "bool true");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let recorded: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| {
            let signature = r.header("webhook-signature").unwrap();
            let parts: Vec<&str> = signature.split(' ').collect();
            assert_eq!(parts.len(), 2, "{signature}");
            assert!(parts.iter().all(|p| p.starts_with("v1,")), "{signature}");
            serde_json::json!({
                "body_b64": base64::engine::general_purpose::STANDARD.encode(&r.body),
                "headers": {
                    "webhook-id": r.header("webhook-id").unwrap(),
                    "webhook-timestamp": r.header("webhook-timestamp").unwrap(),
                    "webhook-signature": signature,
                },
            })
        })
        .collect();
    assert!(verifies(&[new], &recorded), "the new key alone");
    assert!(verifies(&[old], &recorded), "the old key alone");
    assert!(
        !verifies(&["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"], &recorded),
        "a key it was not signed with"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
