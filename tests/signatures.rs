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
        if seen.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
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

/// Runs `tests/py/<script>` on `input` (written to a temporary JSON file of
/// its own, so tests running at once never read each other's).
fn run_python(script: &str, input: &serde_json::Value) -> std::process::Output {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{script}-{}-{}.json",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, input.to_string()).unwrap();
    let output = Command::new(python())
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/py")
                .join(script),
        )
        .arg(&file)
        .output()
        .expect("run python");
    let _ = std::fs::remove_file(&file);
    output
}

/// Runs the reference verifiers on `requests` with `secrets`: true when
/// every request verifies with each secret alone.
fn verifies(secrets: &[&str], requests: &[serde_json::Value]) -> bool {
    let output = run_python(
        "verify_signatures.py",
        &serde_json::json!({ "secrets": secrets, "requests": requests }),
    );
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

/// Signatures the reference libraries make for `messages` (id, timestamp,
/// body) under `secret`: (standardwebhooks, svix) for each.
fn reference_signatures(secret: &str, messages: &[(&str, u64, &str)]) -> Vec<(String, String)> {
    let messages: Vec<_> = messages
        .iter()
        .map(|(id, timestamp, body)| serde_json::json!({"id": id, "timestamp": timestamp, "body": body}))
        .collect();
    let output = run_python(
        "sign_webhooks.py",
        &serde_json::json!({ "secret": secret, "messages": messages }),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let signed: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    signed
        .iter()
        .map(|s| {
            let pick = |k: &str| s[k].as_str().unwrap().to_string();
            (pick("standardwebhooks"), pick("svix"))
        })
        .collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// VerifySignature, the receiving side: the specification's published
/// vector and webhooks signed by standardwebhooks and svix verify (as
/// String and as ДвоичныеДанные, with rotated secrets, with several
/// signatures); every flaw gives Ложь with its ErrorCode; wrong argument
/// types raise.
#[test]
fn verify_signature_accepts_reference_signatures_and_refuses_every_flaw() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let body = r#"{"event":"order.paid","сумма":"1 500,00 ₽"}"#;
    let t = now();
    let signed = reference_signatures(
        secret,
        &[
            ("msg_now", t, body),
            ("msg_old", t - 400, body),
            ("msg_future", t + 400, body),
        ],
    );
    let (std_now, svix_now) = &signed[0];
    assert_eq!(std_now, svix_now, "both libraries sign alike");
    let hex: String = body.bytes().map(|b| format!("{b:02x}")).collect();
    // Another base64 character inside the signature: a changed byte.
    let flipped = {
        let mut s = std_now.clone();
        let i = 10;
        let c = if &s[i..i + 1] == "A" { "B" } else { "A" };
        s.replace_range(i..i + 1, c);
        s
    };
    let ts = t.to_string();
    // (call arguments after the method name, expected result, ErrorCode)
    let v = |args: String| format!("call VerifySignature {args}");
    let w = |secret: &str, body: &str, id: &str, ts: &str, sig: &str| {
        v(format!(
            "{} {body} {} {} {}",
            q(secret),
            q(id),
            q(ts),
            q(sig)
        ))
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (
            w(secret, &q(body), "msg_now", &ts, std_now),
            "bool true",
            "",
        ),
        (
            w(secret, &q(body), "msg_now", &ts, svix_now),
            "bool true",
            "",
        ),
        (
            w(secret, &format!("hex:{hex}"), "msg_now", &ts, std_now),
            "bool true",
            "",
        ),
        (
            w(
                &format!("{other} {secret}"),
                &q(body),
                "msg_now",
                &ts,
                &format!("v2,abc v1,AAAA {std_now}"),
            ),
            "bool true",
            "",
        ),
        // The specification's published test vector, within a tolerance
        // that reaches back to 2021, then with the default 300 s.
        (
            v(format!(
                "{} {} {} {} {} 1000000000",
                q(secret),
                q(r#"{"test": 2432232314}"#),
                q("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                q("1614265330"),
                q("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
            )),
            "bool true",
            "",
        ),
        (
            v(format!(
                "{} {} {} {} {}",
                q(secret),
                q(r#"{"test": 2432232314}"#),
                q("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                q("1614265330"),
                q("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
            )),
            "bool false",
            "timestamp_too_old",
        ),
        (
            w(secret, &q(body), "msg_now", &ts, &flipped),
            "bool false",
            "signature_mismatch",
        ),
        (
            w(other, &q(body), "msg_now", &ts, std_now),
            "bool false",
            "signature_mismatch",
        ),
        (
            w(
                secret,
                &q(&body.replace("paid", "void")),
                "msg_now",
                &ts,
                std_now,
            ),
            "bool false",
            "signature_mismatch",
        ),
        (
            w(secret, &q(body), "msg_now", &(t + 1).to_string(), std_now),
            "bool false",
            "signature_mismatch",
        ),
        (
            w(
                secret,
                &q(body),
                "msg_old",
                &(t - 400).to_string(),
                &signed[1].0,
            ),
            "bool false",
            "timestamp_too_old",
        ),
        (
            v(format!(
                "{} {} {} {} {} 500",
                q(secret),
                q(body),
                q("msg_old"),
                q(&(t - 400).to_string()),
                q(&signed[1].1)
            )),
            "bool true",
            "",
        ),
        (
            w(
                secret,
                &q(body),
                "msg_future",
                &(t + 400).to_string(),
                &signed[2].0,
            ),
            "bool false",
            "timestamp_in_future",
        ),
        (
            w(secret, &q(body), "msg_now", &ts, ""),
            "bool false",
            "malformed_signature",
        ),
        (
            w(secret, &q(body), "msg_now", &ts, "garbage"),
            "bool false",
            "malformed_signature",
        ),
        (
            w(
                secret,
                &q(body),
                "msg_now",
                &ts,
                &std_now.replace("v1,", "v1a,"),
            ),
            "bool false",
            "malformed_signature",
        ),
        (
            w(secret, &q(body), "msg_now", "yesterday", std_now),
            "bool false",
            "malformed_signature",
        ),
        (
            v(format!(
                "{} {} undefined {} {}",
                q(secret),
                q(body),
                q(&ts),
                q(std_now)
            )),
            "bool false",
            "malformed_signature",
        ),
        (
            w("whsec_%%%", &q(body), "msg_now", &ts, std_now),
            "bool false",
            "malformed_secret",
        ),
        (
            w("", &q(body), "msg_now", &ts, std_now),
            "bool false",
            "malformed_secret",
        ),
        // Wrong argument types are the 1C code's mistakes: exceptions.
        (
            v(format!(
                "{} 5 {} {} {}",
                q(secret),
                q("msg_now"),
                q(&ts),
                q(std_now)
            )),
            "raises",
            "invalid_argument",
        ),
        (
            v(format!(
                "undefined {} {} {} {}",
                q(body),
                q("msg_now"),
                q(&ts),
                q(std_now)
            )),
            "raises",
            "missing_argument",
        ),
        (
            v(format!(
                "{} {} {} {} 7",
                q(secret),
                q(body),
                q("msg_now"),
                q(&ts)
            )),
            "raises",
            "invalid_argument",
        ),
        (
            v(format!(
                "{} {} {} {} {} {}",
                q(secret),
                q(body),
                q("msg_now"),
                q(&ts),
                q(std_now),
                q("soon")
            )),
            "raises",
            "invalid_argument",
        ),
        (
            v(format!(
                "{} {} {} {} {} -1",
                q(secret),
                q(body),
                q("msg_now"),
                q(&ts),
                q(std_now)
            )),
            "raises",
            "invalid_argument",
        ),
    ];
    let script: String = cases
        .iter()
        .map(|(call, _, _)| format!("{call}\nget ErrorCode\n"))
        .collect();
    let run = host::run("en", &script);
    for (i, (call, expected, code)) in cases.iter().enumerate() {
        let step = run.step(2 * i);
        if *expected == "raises" {
            assert!(step.exception.is_some(), "{call}: {step:?}");
        } else {
            assert_eq!(step.ok(), *expected, "{call}");
        }
        assert_eq!(run.step(2 * i + 1).string(), *code, "{call}");
    }
    for secret in [secret, other] {
        assert!(!run.shown().contains(&secret[6..]), "a secret was shown");
    }
}

/// The texts of a refusal, in both languages, with the figures that help:
/// how old, how far ahead, how many signatures and secrets.
#[test]
fn verify_signature_explains_a_refusal_in_the_hosts_language() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = "{}";
    let t = now() - 1000;
    let signed = reference_signatures(secret, &[("msg_1", t, body)]);
    let call = format!(
        "call VerifySignature {} {} {} {} {}\nget ErrorText\ncall VerifySignature {} {} {} {} {}\nget ErrorText\n",
        q(secret),
        q(body),
        q("msg_1"),
        q(&t.to_string()),
        q(&signed[0].0),
        q("whsec_AAAA whsec_BBBB"),
        q(body),
        q("msg_1"),
        q(&t.to_string()),
        q(&signed[0].0),
    );
    let en = host::run("en", &call);
    let text = en.step(1).string();
    assert!(
        text.starts_with("VerifySignature: the webhook was signed "),
        "{text}"
    );
    assert!(
        text.contains("s ago, more than ToleranceSeconds (300 s)"),
        "{text}"
    );
    assert_eq!(
        en.step(3).string(),
        "VerifySignature: the signature does not match: none of 1 v1 signatures is the body's for any of 2 secrets"
    );
    let ru = host::run("ru", &call);
    let text = ru.step(1).string();
    assert!(
        text.starts_with("ПроверитьПодпись: вебхук подписан "),
        "{text}"
    );
    assert!(
        ru.step(3)
            .string()
            .starts_with("ПроверитьПодпись: подпись не совпадает"),
        "{}",
        ru.step(3).string()
    );
}
