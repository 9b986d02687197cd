//! The PostgreSQL store (QueueDatabase): the queue's rows in the schema
//! `webhook1c` of a database that every server of a 1C cluster reaches.
//!
//! - Times that decide delivery (due, lease) are the database's clock
//!   (`webhook1c.now_ms()`), so the servers' clocks do not matter.
//! - Claims take due rows with `FOR UPDATE SKIP LOCKED`: workers on many
//!   servers claim at once without waiting for each other or ever getting
//!   the same message while its lease holds.
//! - The schema is created on first use and versioned in
//!   `webhook1c.migrations`; a transaction-level advisory lock makes many
//!   processes starting at once migrate one after another.
//! - Connections are pooled per process and database, at most
//!   [`POOL_SIZE`]; a connection that broke (the server restarted) is
//!   dropped and the next use opens a new one.

use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls, Transaction};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::backend::{NewMessage, Outcome, Store};
use super::schedule::Verdict;
use super::status::{Attempt, Counts, MessageStatus, State};
use super::store::{Claimed, Finished};
use super::time;
use super::worker::lock;
use super::QueueError;

/// The layout this version writes (a row of `webhook1c.migrations`).
pub(crate) const SCHEMA_VERSION: i32 = 1;

/// Connections per database in one process: the delivery threads, the
/// scheduler and the 1C calls.
pub const POOL_SIZE: usize = 12;

/// How long a call waits for a free pooled connection.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// Taken (transaction-level) around the migration.
const MIGRATION_LOCK: i64 = 0x7765_6268_6f6f_6b31; // "webhook1"

const LAYOUT_1: &str = "
CREATE TABLE webhook1c.messages (
    id              text PRIMARY KEY,
    state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    job             text NOT NULL,          -- request, transport, secret, schedule (JSON)
    body            bytea,
    created_at      bigint NOT NULL,        -- Unix ms of the database clock
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint,                 -- NULL once final
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    lease_ms        bigint NOT NULL,
    lease_owner     text,
    lease_until     bigint,
    lease_token     bigint NOT NULL DEFAULT 0,
    finished_at     bigint,
    keep_ms         bigint NOT NULL
);
CREATE INDEX messages_due ON webhook1c.messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX messages_state ON webhook1c.messages (state, created_at);
CREATE INDEX messages_expiry ON webhook1c.messages ((finished_at + keep_ms)) WHERE state <> 'pending';
CREATE TABLE webhook1c.attempts (
    message_id  text NOT NULL REFERENCES webhook1c.messages (id) ON DELETE CASCADE,
    number      integer NOT NULL,
    started_at  bigint NOT NULL,
    duration_ms bigint NOT NULL,
    status      integer NOT NULL,
    error       text NOT NULL,
    response    text NOT NULL,
    worker      text NOT NULL,
    PRIMARY KEY (message_id, number)
);
CREATE FUNCTION webhook1c.now_ms() RETURNS bigint LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
";

const STATUS_COLUMNS: &str = "id, state, attempts, last_status, last_error, next_attempt_at";

/// The connection settings of a QueueDatabase URL, and how it is shown.
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    /// `None` with `sslmode=disable`.
    tls: Option<MakeRustlsConnect>,
    /// The URL without its password, for errors.
    pub shown: String,
}

impl Target {
    /// Parses `postgresql://user[:password]@host[:port]/db[?…]`.
    ///
    /// TLS: `sslmode=disable` connects in clear text; `prefer` (the
    /// default) uses TLS when the server offers it; `require`, `verify-ca`
    /// and `verify-full` insist on it. Whenever TLS is used the server's
    /// certificate is verified, for its host name too, against the public
    /// roots and the PEM file `sslrootcert` names.
    pub fn parse(url: &str) -> Result<Target, QueueError> {
        let shown = show(url);
        let invalid = |detail: String| QueueError::Server {
            database: shown.clone(),
            detail,
        };
        let mut mode = "prefer".to_string();
        let mut root_cert = None;
        let mut passed = url.trim().to_string();
        if let Some(mut parsed) = as_http(url) {
            let mut kept = Vec::new();
            for (key, value) in parsed.query_pairs() {
                match key.as_ref() {
                    "sslmode" => mode = value.into_owned(),
                    "sslrootcert" => root_cert = Some(value.into_owned()),
                    _ => kept.push((key.into_owned(), value.into_owned())),
                }
            }
            let client_mode = match mode.as_str() {
                "disable" | "prefer" | "require" => mode.as_str(),
                "verify-ca" | "verify-full" => "require",
                other => {
                    return Err(invalid(format!(
                        "unknown sslmode \"{other}\": use disable, prefer, require, verify-ca or verify-full"
                    )))
                }
            };
            kept.push(("sslmode".into(), client_mode.into()));
            parsed.query_pairs_mut().clear().extend_pairs(kept);
            passed = as_postgresql(&parsed);
        }
        let config = Config::from_str(&passed).map_err(|e| invalid(e.to_string()))?;
        let tls = if mode == "disable" {
            None
        } else {
            Some(MakeRustlsConnect::new(
                tls_config(root_cert.as_deref()).map_err(invalid)?,
            ))
        };
        Ok(Target { config, tls, shown })
    }

    fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }
}

/// Verifies servers against the public roots plus `root_cert` (a PEM file).
fn tls_config(root_cert: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = root_cert {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("sslrootcert \"{path}\": {e}"))?;
        if certs.is_empty() {
            return Err(format!(
                "sslrootcert \"{path}\": no certificate in the file"
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("sslrootcert \"{path}\": {e}"))?;
        }
    }
    crate::http::install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The URL parsed with an http scheme in place of its postgresql one (the
/// rest parses alike), to edit its parts.
fn as_http(url: &str) -> Option<reqwest::Url> {
    let url = url.trim();
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))?;
    crate::http::parse_url(&format!("http://{rest}")).ok()
}

/// Back from [`as_http`].
fn as_postgresql(url: &reqwest::Url) -> String {
    let text = url.as_str();
    format!(
        "postgresql://{}",
        text.strip_prefix("http://").unwrap_or(text)
    )
}

/// A QueueDatabase URL as texts may show it: no password, no query.
pub(crate) fn show(url: &str) -> String {
    match as_http(url) {
        Some(mut parsed) => {
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            as_postgresql(&parsed)
        }
        None => "<invalid QueueDatabase URL>".into(),
    }
}

/// A QueueDatabase URL as the property reads back: the password as `***`.
pub(crate) fn masked(url: &str) -> String {
    let Some(mut parsed) = as_http(url) else {
        return show(url);
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    // libpq also takes the password as a query parameter.
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    as_postgresql(&parsed)
}

struct Pool {
    target: Target,
    idle: Mutex<(Vec<Client>, usize)>,
    freed: Condvar,
}

impl Pool {
    /// Runs `f` on a pooled connection; a connection that failed is not
    /// put back.
    fn with<T>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, QueueError> {
        let mut client = self.take()?;
        let result = f(&mut client);
        let mut idle = lock(&self.idle);
        if client.is_closed() || result.is_err() && client.is_valid(Duration::from_secs(2)).is_err()
        {
            idle.1 -= 1;
        } else {
            idle.0.push(client);
        }
        drop(idle);
        self.freed.notify_one();
        result.map_err(|e| self.error(e))
    }

    fn take(&self) -> Result<Client, QueueError> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut idle = lock(&self.idle);
        loop {
            if let Some(client) = idle.0.pop() {
                return Ok(client);
            }
            if idle.1 < POOL_SIZE {
                idle.1 += 1;
                drop(idle);
                return self.target.connect().map_err(|e| {
                    lock(&self.idle).1 -= 1;
                    self.freed.notify_one();
                    self.error(e)
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(QueueError::PoolExhausted {
                    database: self.target.shown.clone(),
                });
            }
            idle = match self.freed.wait_timeout(idle, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    fn error(&self, source: postgres::Error) -> QueueError {
        QueueError::Server {
            database: self.target.shown.clone(),
            detail: error_text(&source),
        }
    }
}

pub(crate) struct Postgres {
    pool: Arc<Pool>,
    commits: std::sync::atomic::AtomicU64,
}

impl Postgres {
    /// Connects and makes the schema ready.
    pub fn open(target: Target) -> Result<Postgres, QueueError> {
        let pool = Arc::new(Pool {
            target,
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
        });
        let store = Postgres {
            pool,
            commits: std::sync::atomic::AtomicU64::new(0),
        };
        let found = store.pool.with(migrate)?;
        if found > SCHEMA_VERSION {
            return Err(QueueError::NewerSchema {
                path: store.pool.target.shown.clone().into(),
                found: found.into(),
                supported: SCHEMA_VERSION.into(),
            });
        }
        Ok(store)
    }

    /// Runs `f` in a transaction of its own and commits it.
    fn transaction<T>(
        &self,
        mut f: impl FnMut(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, QueueError> {
        let done = self.pool.with(|c| {
            let mut tx = c.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })?;
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(done)
    }
}

/// Creates or updates the schema under the migration lock; returns the
/// version found before (a newer one is left alone).
fn migrate(c: &mut Client) -> Result<i32, postgres::Error> {
    // The common case reads only: no lock, no DDL (a read-only database
    // still opens, and then refuses writes with its own clear error).
    let exists: bool = c
        .query_one(
            "SELECT to_regclass('webhook1c.migrations') IS NOT NULL",
            &[],
        )?
        .get(0);
    let current: Option<i32> = if exists {
        Some(
            c.query_one(
                "SELECT COALESCE(MAX(version), 0) FROM webhook1c.migrations",
                &[],
            )?
            .get(0),
        )
    } else {
        None
    };
    if let Some(found) = current.filter(|&v| v >= SCHEMA_VERSION) {
        return Ok(found);
    }
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // A role that owns the schema but may not create schemas in the
    // database finds it there and does not ask.
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'webhook1c')",
            &[],
        )?
        .get(0);
    if !exists {
        tx.batch_execute("CREATE SCHEMA webhook1c")?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS webhook1c.migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )?;
    let found: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM webhook1c.migrations",
            &[],
        )?
        .get(0);
    if found < 1 {
        tx.batch_execute(LAYOUT_1)?;
        tx.execute("INSERT INTO webhook1c.migrations (version) VALUES (1)", &[])?;
    }
    tx.commit()?;
    Ok(found)
}

/// A server error as its message and the server's own words, without
/// the wrapping the client adds ("db error: ").
fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            // The client's text names the step ("error connecting to
            // server"); its causes say why.
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                let more = c.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                cause = c.source();
            }
            text
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn status_row(r: &postgres::Row) -> MessageStatus {
    let state = State::parse(r.get::<_, &str>(1));
    let next: Option<i64> = r.get(5);
    MessageStatus {
        id: r.get(0),
        state,
        attempts: u32::try_from(r.get::<_, i32>(2)).unwrap_or(0),
        status: u16::try_from(r.get::<_, i32>(3)).unwrap_or(0),
        error: r.get(4),
        next_attempt: next
            .filter(|_| state == State::Pending)
            .map(|ms| time::rfc3339(ms, false)),
    }
}

fn claim_in(
    tx: &mut Transaction<'_>,
    owner: &str,
    limit: usize,
    lease: Option<Duration>,
) -> Result<Vec<Claimed>, postgres::Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease = lease.map(millis);
    let claimed_at = Instant::now();
    let rows = tx.query(
        "WITH t AS (SELECT webhook1c.now_ms() AS now),
         due AS (
             SELECT m.id FROM webhook1c.messages m, t
             WHERE m.state = 'pending' AND m.next_attempt_at <= t.now
               AND (m.lease_until IS NULL OR m.lease_until < t.now)
             ORDER BY m.next_attempt_at
             LIMIT $2
             FOR UPDATE OF m SKIP LOCKED)
         UPDATE webhook1c.messages m
         SET lease_owner = $1,
             lease_until = t.now + COALESCE($3, m.lease_ms),
             lease_token = m.lease_token + 1
         FROM due, t
         WHERE m.id = due.id
         RETURNING m.id, m.lease_token, m.attempts, m.job, m.body, m.lease_until - t.now",
        &[&owner, &limit, &lease],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let left = u64::try_from(r.get::<_, i64>(5)).unwrap_or(0);
            Claimed {
                id: r.get(0),
                token: r.get(1),
                attempts: u32::try_from(r.get::<_, i32>(2)).unwrap_or(0),
                job: r.get(3),
                body: r.get(4),
                deadline: claimed_at + Duration::from_millis(left),
            }
        })
        .collect())
}

fn finish(tx: &mut Transaction<'_>, o: &Outcome<'_>) -> Result<Finished, postgres::Error> {
    let status = i32::from(o.attempt.map_or(0, |a| a.status));
    if let Some(a) = o.attempt {
        // The attempt happened (the receiver may have seen it): recorded
        // whatever the claim's fate, in one round trip.
        tx.execute(
            "WITH recorded AS (
                 INSERT INTO webhook1c.attempts
                     (message_id, number, started_at, duration_ms, status, error, response, worker)
                 VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM webhook1c.attempts
                              WHERE message_id = $1),
                         $2, $3, $4, $5, $6, $7))
             UPDATE webhook1c.messages SET attempts = attempts + 1 WHERE id = $1",
            &[
                &o.id,
                &a.started_at,
                &i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
                &i32::from(a.status),
                &a.error,
                &a.response,
                &a.worker,
            ],
        )?;
    }
    let returning = format!("RETURNING {STATUS_COLUMNS}, keep_ms");
    let row = match o.verdict {
        Verdict::Delivered => tx.query_opt(
            &format!(
                "UPDATE webhook1c.messages
                 SET state = 'delivered', next_attempt_at = NULL, finished_at = webhook1c.now_ms(),
                     last_status = $2, last_error = $3, lease_owner = NULL, lease_until = NULL,
                     job = '', body = NULL
                 WHERE id = $1 AND state = 'pending' {returning}"
            ),
            &[&o.id, &status, &o.last_error],
        )?,
        Verdict::Retry(pause) => tx.query_opt(
            &format!(
                "UPDATE webhook1c.messages
                 SET next_attempt_at = webhook1c.now_ms() + $2, last_status = $3, last_error = $4,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND state = 'pending' AND lease_token = $5 {returning}"
            ),
            &[&o.id, &millis(pause), &status, &o.last_error, &o.token],
        )?,
        Verdict::Failed => tx.query_opt(
            &format!(
                "UPDATE webhook1c.messages
                 SET state = 'failed', next_attempt_at = NULL, finished_at = webhook1c.now_ms(),
                     last_status = $2, last_error = $3, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND state = 'pending' AND lease_token = $4 {returning}"
            ),
            &[&o.id, &status, &o.last_error, &o.token],
        )?,
    };
    let changed = row.is_some();
    let mut finished = Finished {
        changed,
        final_status: None,
        erased: changed && o.verdict == Verdict::Delivered,
    };
    if let Some(row) = row.filter(|_| !matches!(o.verdict, Verdict::Retry(_))) {
        finished.final_status = Some(status_row(&row));
        // A retention of zero: the final message goes at once.
        if row.get::<_, i64>(6) <= 0 {
            tx.execute("DELETE FROM webhook1c.messages WHERE id = $1", &[&o.id])?;
            finished.erased = true;
        }
    }
    Ok(finished)
}

impl Store for Postgres {
    fn insert(&self, m: NewMessage) -> Result<bool, QueueError> {
        let body = m.body.as_deref();
        self.transaction(|tx| {
            let added = tx.execute(
                "INSERT INTO webhook1c.messages
                     (id, state, job, body, created_at, next_attempt_at, lease_ms, keep_ms)
                 VALUES ($1, 'pending', $2, $3, webhook1c.now_ms(), webhook1c.now_ms(), $4, $5)
                 ON CONFLICT (id) DO NOTHING",
                &[&m.id, &m.job, &body, &millis(m.lease), &millis(m.retention)],
            )?;
            Ok(added == 1)
        })
    }

    fn status(&self, id: &str) -> Result<Option<MessageStatus>, QueueError> {
        self.pool.with(|c| {
            Ok(c.query_opt(
                &format!(
                    "SELECT {STATUS_COLUMNS} FROM webhook1c.messages
                     WHERE id = $1 AND (state = 'pending'
                           OR finished_at + keep_ms > webhook1c.now_ms())"
                ),
                &[&id],
            )?
            .as_ref()
            .map(status_row))
        })
    }

    fn counts(&self) -> Result<Counts, QueueError> {
        self.pool.with(|c| {
            let mut counts = Counts::default();
            for r in c.query(
                "SELECT state, COUNT(*) FROM webhook1c.messages GROUP BY state",
                &[],
            )? {
                let n = u64::try_from(r.get::<_, i64>(1)).unwrap_or(0);
                match State::parse(r.get::<_, &str>(0)) {
                    State::Pending => counts.pending = n,
                    State::Delivered => counts.delivered = n,
                    State::Failed => counts.failed = n,
                    State::Unknown => {}
                }
            }
            Ok(counts)
        })
    }

    fn messages(&self, state: State, limit: usize) -> Result<Vec<MessageStatus>, QueueError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.pool.with(|c| {
            Ok(c.query(
                &format!(
                    "SELECT {STATUS_COLUMNS} FROM webhook1c.messages
                     WHERE state = $1 AND (state = 'pending'
                           OR finished_at + keep_ms > webhook1c.now_ms())
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ),
                &[&state.as_str(), &limit],
            )?
            .iter()
            .map(status_row)
            .collect())
        })
    }

    fn attempts(&self, id: &str) -> Result<Vec<Attempt>, QueueError> {
        self.pool.with(|c| {
            Ok(c.query(
                "SELECT number, started_at, status, error, duration_ms, response, worker
                 FROM webhook1c.attempts WHERE message_id = $1 ORDER BY number",
                &[&id],
            )?
            .iter()
            .map(|r| Attempt {
                number: u32::try_from(r.get::<_, i32>(0)).unwrap_or(0),
                time: time::rfc3339(r.get(1), true),
                status: u16::try_from(r.get::<_, i32>(2)).unwrap_or(0),
                error: r.get(3),
                duration_ms: u64::try_from(r.get::<_, i64>(4)).unwrap_or(0),
                response_excerpt: r.get(5),
                worker: r.get(6),
            })
            .collect())
        })
    }

    fn any_pending(&self) -> Result<bool, QueueError> {
        self.pool.with(|c| {
            Ok(c.query_one(
                "SELECT EXISTS (SELECT 1 FROM webhook1c.messages WHERE state = 'pending')",
                &[],
            )?
            .get(0))
        })
    }

    fn requeue(&self, id: &str) -> Result<bool, QueueError> {
        self.transaction(|tx| {
            Ok(tx.execute(
                "UPDATE webhook1c.messages
                 SET state = 'pending', attempts = 0, next_attempt_at = webhook1c.now_ms(),
                     finished_at = NULL, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND state = 'failed'
                   AND finished_at + keep_ms > webhook1c.now_ms() AND job <> ''",
                &[&id],
            )? == 1)
        })
    }

    fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Option<Duration>,
    ) -> Result<Vec<Claimed>, QueueError> {
        self.transaction(|tx| claim_in(tx, owner, limit, lease))
    }

    fn finish(
        &self,
        outcome: &Outcome<'_>,
        take_next: Option<(&str, Option<Duration>)>,
    ) -> Result<(Finished, Option<Claimed>), QueueError> {
        self.transaction(|tx| {
            let finished = finish(tx, outcome)?;
            let next = match take_next {
                Some((owner, lease)) => claim_in(tx, owner, 1, lease)?.pop(),
                None => None,
            };
            Ok((finished, next))
        })
    }

    fn purge(&self) -> Result<bool, QueueError> {
        self.transaction(|tx| {
            Ok(tx.execute(
                "DELETE FROM webhook1c.messages
                 WHERE state <> 'pending' AND finished_at + keep_ms <= webhook1c.now_ms()",
                &[],
            )? > 0)
        })
    }

    /// Erased values are gone from every row a query can read once the
    /// transaction commits; their old row versions are reclaimed by
    /// PostgreSQL's autovacuum.
    fn flush_erased(&self) -> Result<bool, QueueError> {
        Ok(true)
    }

    fn is_current(&self) -> bool {
        true
    }

    fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_have_no_password_or_query() {
        assert_eq!(
            show("postgresql://webhooks:s3cret@db.example:5433/infobase?sslmode=require"),
            "postgresql://webhooks@db.example:5433/infobase"
        );
        assert_eq!(show("postgres://u@h/d"), "postgresql://u@h/d");
        assert_eq!(show("not a url"), "<invalid QueueDatabase URL>");
        assert_eq!(
            masked("postgresql://webhooks:s3cret@db:5433/q?sslmode=require"),
            "postgresql://webhooks:***@db:5433/q?sslmode=require"
        );
        assert_eq!(masked("postgresql://u@h/d"), "postgresql://u@h/d");
        assert_eq!(
            masked("postgres://u@h/d?password=pw&application_name=1c"),
            "postgresql://u@h/d?password=***&application_name=1c"
        );
    }
}
