//! A message as Enqueue hands it over, and the form it takes in the database:
//! everything needed to send it again after a restart travels with it, so a
//! later change of the 1C object's settings does not affect it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::QueueError;
use crate::http::{self, sign::Signer, Headers, Method, Request, Transport};

/// The pauses, in seconds, between the attempts of a message unless the job
/// says otherwise: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

/// Longest accepted message id (it travels in a header and is the key).
pub const MAX_ID_LEN: usize = 255;

/// Longest single attempt. A queued request with no Timeout (or a longer
/// one) is cut here, because the lease that keeps other processes off the
/// message must outlast the attempt, and a hung receiver must not hold a
/// delivery thread for ever.
pub const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(600);

/// How long past the attempt's timeout a claim stays valid: time to record
/// the outcome while other writers hold the database. Recording stops
/// trying once less than two busy timeouts of the lease are left (a write
/// may wait for the batch ahead of it and then for its own lock, each at
/// most the busy timeout), so a record never runs past the lease; 30 s
/// leaves one full attempt at recording even when the database is slow.
/// Longer means fewer duplicate attempts when the database is slow; shorter
/// means a killed process's messages resume sooner. Outliving it costs at
/// most a duplicate, never a message.
pub(crate) const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// One webhook to deliver in the background.
#[derive(Clone)]
pub struct Job {
    /// The message id: the database key and the `webhook-id` header of every
    /// attempt. Empty means "make one" (`msg_` and 27 random characters).
    pub id: String,
    /// What to send: method, URL, every header (Content-Type and
    /// Authorization included), body, timeout, response size limit.
    pub request: Request,
    /// Connection settings: TLS verification, certificates, proxy, connect
    /// timeout, redirects.
    pub transport: Transport,
    /// When set, every attempt is signed per Standard Webhooks with a fresh
    /// timestamp; the signer's secret is stored with the message.
    pub signer: Option<Signer>,
    /// Pauses in seconds after the 1st, 2nd, … failed attempt; when they run
    /// out, the message is `failed`. Empty means a single attempt.
    pub schedule: Vec<u64>,
    /// The audit log (LogFile at Enqueue time) that gets one line per
    /// attempt through [`crate::audit`]; `None` or empty for none.
    pub log_file: Option<PathBuf>,
    /// How long the message stays once final (QueueRetention): for
    /// MessageStatus, and a failed one with its request for Requeue. Zero
    /// erases a final message at once, row included.
    pub retention: Duration,
}

/// QueueRetention's default: 7 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl Job {
    /// A job with a fresh id, no signature and [`DEFAULT_SCHEDULE`].
    pub fn new(request: Request, transport: Transport) -> Job {
        Job {
            id: String::new(),
            request,
            transport,
            signer: None,
            schedule: DEFAULT_SCHEDULE.to_vec(),
            log_file: None,
            retention: DEFAULT_RETENTION,
        }
    }
}

// Requests carry credentials and the secret: `{:?}` shows only what is safe.
impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("method", &self.request.method.as_str())
            .field("url", &http::redact_url_str(&self.request.url))
            .field("signed", &self.signer.is_some())
            .field("schedule", &self.schedule)
            .field("log_file", &self.log_file)
            .finish_non_exhaustive()
    }
}

/// The timeout every attempt of `request` runs with.
pub(crate) fn attempt_timeout(request: &Request) -> Duration {
    request
        .timeout
        .filter(|t| !t.is_zero())
        .map_or(MAX_ATTEMPT_TIMEOUT, |t| t.min(MAX_ATTEMPT_TIMEOUT))
}

/// A job checked and ready to be stored.
pub(crate) struct Prepared {
    pub id: String,
    pub json: String,
    pub body: Option<Bytes>,
    pub lease: Duration,
    pub retention: Duration,
}

/// A message id as the Standard Webhooks specification allows it in
/// `webhook-id` and in the signed content: 1 to [`MAX_ID_LEN`] characters
/// from `A-Z a-z 0-9 _ - :`. A dot would make the signed content
/// (`id.timestamp.body`) ambiguous.
pub fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

/// Checks what can be checked before the message is accepted, so that a
/// typo fails the Enqueue call instead of a silent background failure.
pub(crate) fn prepare(job: Job) -> Result<Prepared, QueueError> {
    let id = if job.id.is_empty() {
        http::sign::new_message_id()
    } else {
        job.id
    };
    if !valid_id(&id) {
        return Err(QueueError::InvalidId { id });
    }
    let request = &job.request;
    request.prepare().map_err(QueueError::InvalidRequest)?;
    let lease = attempt_timeout(request) + LEASE_MARGIN;
    let stored = Stored {
        version: STORED_VERSION,
        method: request.method.as_str().to_string(),
        url: request.url.clone(),
        headers: request.headers.clone().into(),
        content_type: None,
        basic_auth: None,
        timeout_ms: request.timeout.map(millis),
        max_response_size: request.max_response_size,
        transport: StoredTransport {
            verify_tls: job.transport.verify_tls,
            trusted_certificates: job.transport.trusted_certificates.clone(),
            client_certificate: job.transport.client_certificate.clone(),
            proxy: job.transport.proxy.clone(),
            connect_timeout_ms: job.transport.connect_timeout.map(millis),
            follow_redirects: false,
        },
        signing_secret: job.signer.as_ref().map(|s| s.secret().to_string()),
        schedule: job.schedule,
        log_file: job
            .log_file
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.to_string_lossy().into_owned()),
    };
    // Strings, numbers and lists only: serialising cannot fail.
    let json = serde_json::to_string(&stored).expect("a stored job always serialises");
    Ok(Prepared {
        id,
        json,
        body: job.request.body,
        lease,
        retention: job.retention,
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Layout of the `job` column; a newer layout is refused, not guessed.
/// Layout 1 (before 0.2) kept Content-Type and the Basic credentials beside
/// the headers; layout 2 keeps every header in `headers`.
const STORED_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "v")]
    version: u32,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    /// Layout 1 only: the Content-Type to send when `headers` has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    /// Layout 1 only: Basic credentials, used when `headers` has no
    /// Authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    basic_auth: Option<(String, String)>,
    timeout_ms: Option<u64>,
    max_response_size: Option<u64>,
    transport: StoredTransport,
    signing_secret: Option<String>,
    schedule: Vec<u64>,
    #[serde(default)]
    log_file: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredTransport {
    verify_tls: bool,
    trusted_certificates: String,
    client_certificate: String,
    proxy: String,
    connect_timeout_ms: Option<u64>,
    follow_redirects: bool,
}

/// A stored message made sendable again.
pub(crate) struct Loaded {
    pub request: Request,
    pub transport: Transport,
    pub signer: Option<Signer>,
    pub schedule: Vec<u64>,
    pub log_file: Option<PathBuf>,
}

/// Rebuilds a job from its `job` and `body` columns. The error text says why
/// the message cannot be sent (it becomes the message's error).
pub(crate) fn load(json: &str, body: Option<Vec<u8>>) -> Result<Loaded, String> {
    let stored: Stored =
        serde_json::from_str(json).map_err(|e| format!("the stored message is unreadable: {e}"))?;
    if !(1..=STORED_VERSION).contains(&stored.version) {
        return Err(format!(
            "the stored message has layout {} which this version of Webhook1C does not know",
            stored.version
        ));
    }
    let method = Method::parse(&stored.method).map_err(|e| e.to_string())?;
    let signer = match stored.signing_secret.as_deref() {
        Some(secret) => Some(
            Signer::new(secret)
                .map_err(|_| "the stored signing secret is not usable".to_string())?,
        ),
        None => None,
    };
    let mut headers = Headers::from(stored.headers);
    if let Some(content_type) = stored.content_type.filter(|ct| !ct.is_empty()) {
        headers.set_default("Content-Type", content_type);
    }
    if let Some((user, password)) = stored.basic_auth {
        headers.set_default("Authorization", http::basic_auth(&user, &password));
    }
    let request = Request {
        method,
        url: stored.url,
        headers,
        body: body.map(Bytes::from),
        timeout: stored.timeout_ms.map(Duration::from_millis),
        max_response_size: stored.max_response_size,
        // Queued messages keep no cookies: each is delivered on its own.
        cookies: None,
        digest: None,
    };
    let t = stored.transport;
    let transport = Transport {
        verify_tls: t.verify_tls,
        trusted_certificates: t.trusted_certificates,
        client_certificate: t.client_certificate,
        proxy: t.proxy,
        connect_timeout: t.connect_timeout_ms.map(Duration::from_millis),
        // A queued message never follows a redirect, whatever AllowRedirects
        // said when it was enqueued (rows stored before this rule included):
        // a 3xx is an answer to retry, as the Standard Webhooks
        // specification says, and the signed body is never sent to a host
        // the 1C code did not name.
        follow_redirects: false,
    };
    Ok(Loaded {
        request,
        transport,
        signer,
        schedule: stored.schedule,
        log_file: stored.log_file.map(PathBuf::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Job {
        let mut request = Request::new(Method::Post, "https://user:pw@example.com/hook?token=t");
        request.headers.set("Authorization", "Bearer abc");
        request
            .headers
            .set("Content-Type", "application/json; charset=utf-8");
        request.body = Some(Bytes::from_static(b"{\"a\":1}"));
        request.timeout = Some(Duration::from_millis(2500));
        let transport = Transport {
            verify_tls: false,
            proxy: "socks5://127.0.0.1:1080".into(),
            connect_timeout: None,
            follow_redirects: false,
            ..Transport::default()
        };
        Job {
            id: "doc-1".into(),
            signer: Some(Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap()),
            schedule: vec![1, 2, 3],
            log_file: Some(PathBuf::from("/var/log/1c/webhooks.log")),
            ..Job::new(request, transport)
        }
    }

    #[test]
    fn a_stored_job_comes_back_as_it_went_in() {
        let job = sample();
        let prepared = prepare(job.clone()).unwrap();
        assert_eq!(prepared.id, "doc-1");
        assert_eq!(prepared.lease, Duration::from_millis(2500) + LEASE_MARGIN);
        let loaded = load(&prepared.json, prepared.body.map(|b| b.to_vec())).unwrap();
        let (a, b) = (&loaded.request, &job.request);
        assert_eq!(a.method, b.method);
        assert_eq!(a.url, b.url);
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.body, b.body);
        assert_eq!(a.timeout, b.timeout);
        assert_eq!(a.max_response_size, b.max_response_size);
        assert_eq!(loaded.transport, job.transport);
        assert!(loaded.signer.is_some());
        assert_eq!(loaded.schedule, vec![1, 2, 3]);
        assert_eq!(
            loaded.log_file.as_deref(),
            Some(std::path::Path::new("/var/log/1c/webhooks.log"))
        );
    }

    #[test]
    fn bad_jobs_are_refused_before_they_are_stored() {
        let mut job = sample();
        job.id = "a\r\nb".into();
        assert!(matches!(prepare(job), Err(QueueError::InvalidId { .. })));
        let mut job = sample();
        job.id = "x".repeat(MAX_ID_LEN + 1);
        assert!(matches!(prepare(job), Err(QueueError::InvalidId { .. })));
        for bad in ["a.b", "msg 1", "докум-1", "a/b", "a\0b"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
        for good in [
            "x",
            "msg_2Zb9",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "order:1-A_b",
        ] {
            assert!(valid_id(good), "{good:?}");
        }
        assert!(valid_id(&"x".repeat(MAX_ID_LEN)));
        let mut job = sample();
        job.request.url = "ftp://example.com/".into();
        assert!(matches!(prepare(job), Err(QueueError::InvalidRequest(_))));
        let mut job = sample();
        job.request.headers.set("Bad Name", "v");
        assert!(matches!(prepare(job), Err(QueueError::InvalidRequest(_))));
    }

    #[test]
    fn ids_are_made_when_missing_and_unsigned_jobs_stay_unsigned() {
        let mut job = sample();
        job.id = String::new();
        job.signer = None;
        let prepared = prepare(job).unwrap();
        assert!(prepared.id.starts_with("msg_"));
        assert!(load(&prepared.json, None).unwrap().signer.is_none());
    }

    #[test]
    fn attempts_always_have_a_time_limit() {
        let mut request = Request::new(Method::Post, "http://x/");
        request.timeout = None;
        assert_eq!(attempt_timeout(&request), MAX_ATTEMPT_TIMEOUT);
        request.timeout = Some(Duration::ZERO);
        assert_eq!(attempt_timeout(&request), MAX_ATTEMPT_TIMEOUT);
        request.timeout = Some(Duration::from_secs(3600));
        assert_eq!(attempt_timeout(&request), MAX_ATTEMPT_TIMEOUT);
        request.timeout = Some(Duration::from_secs(5));
        assert_eq!(attempt_timeout(&request), Duration::from_secs(5));
    }

    #[test]
    fn unreadable_rows_say_why() {
        assert!(load("{", None).err().unwrap().contains("unreadable"));
        let newer = r#"{"v":9,"method":"POST","url":"http://x/","headers":[],"content_type":null,"basic_auth":null,"timeout_ms":null,"max_response_size":null,"transport":{"verify_tls":true,"trusted_certificates":"","client_certificate":"","proxy":"","connect_timeout_ms":null,"follow_redirects":true},"signing_secret":null,"schedule":[]}"#;
        assert!(load(newer, None).err().unwrap().contains("layout 9"));
    }

    #[test]
    fn layout_1_rows_still_load() {
        // As 0.1 stored them: Content-Type and Basic credentials beside the
        // headers, each used only when no header of that name was set.
        let v1 = r#"{"v":1,"method":"POST","url":"http://x/","headers":[["X-A","1"]],"content_type":"application/json; charset=utf-8","basic_auth":["Aladdin","open sesame"],"timeout_ms":1000,"max_response_size":null,"transport":{"verify_tls":true,"trusted_certificates":"","client_certificate":"","proxy":"","connect_timeout_ms":null,"follow_redirects":true},"signing_secret":null,"schedule":[1]}"#;
        let loaded = load(v1, Some(b"{}".to_vec())).unwrap();
        let headers: Vec<(&str, &str)> = loaded.request.headers.iter().collect();
        assert_eq!(
            headers,
            vec![
                ("X-A", "1"),
                ("Content-Type", "application/json; charset=utf-8"),
                ("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            ]
        );
        assert_eq!(loaded.request.timeout, Some(Duration::from_secs(1)));
    }

    #[test]
    fn debug_hides_credentials() {
        let shown = format!("{:?}", sample());
        assert!(!shown.contains("pw") && !shown.contains("Bearer") && !shown.contains("whsec"));
        assert!(shown.contains("token=***"));
    }
}
