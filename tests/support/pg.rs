//! A throwaway PostgreSQL cluster for the QueueDatabase tests: `initdb` and
//! `pg_ctl` from Debian's `postgresql` package (tests/run.sh installs it),
//! in a folder of its own under the test target, listening on 127.0.0.1 on
//! a free port, with password (SCRAM) authentication. One cluster per test
//! process, started on first use; a watcher process stops it and removes
//! its folder when the test process ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The role the add-in connects as: it owns the `queue` database.
pub const USER: &str = "webhooks";
pub const PASSWORD: &str = "pg-s3cret-pass";
const ADMIN_PASSWORD: &str = "admin-s3cret";

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
}

impl Cluster {
    /// `postgresql://webhooks:…@127.0.0.1:PORT/<database>?sslmode=disable`:
    /// the server offers TLS with a certificate of the test CA, which
    /// only the TLS tests trust.
    pub fn url(&self, database: &str) -> String {
        format!("{}?sslmode=disable", self.url_without_options(database))
    }

    pub fn url_without_options(&self, database: &str) -> String {
        format!(
            "postgresql://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// A fresh database owned by the test role, so each test sees an
    /// empty queue.
    pub fn database(&self, name: &str) -> String {
        let mut admin = self.admin("postgres");
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name} OWNER {USER}"),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        }
        self.url(name)
    }

    /// A superuser connection.
    pub fn admin(&self, database: &str) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "postgresql://postgres_admin:{ADMIN_PASSWORD}@127.0.0.1:{}/{database}?sslmode=disable",
                self.port
            ),
            postgres::NoTls,
        )
        .expect("connect as the cluster's superuser")
    }

    /// `pg_ctl ARGS` on this cluster, as the cluster's owner.
    pub fn pg_ctl(&self, args: &[&str]) {
        let status = as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.dir)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("run pg_ctl");
        assert!(status.success(), "pg_ctl {args:?} failed");
    }
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|b| b.join("pg_ctl").exists());
    found.sort_by_key(|b| {
        b.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (apt-get install postgresql; tests/run.sh does this as root)")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` run as the cluster's owner: `postgres` when we are root
/// (PostgreSQL refuses to run as root), else ourselves.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// The cluster of this test process, started on first use.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(start_shared)
}

/// A cluster of its own, for a test that restarts or stops it.
pub fn own_cluster() -> Cluster {
    start(false)
}

/// A cluster of its own that syncs every commit to disk as a production
/// server does (the test clusters skip fsync), for benchmarks.
pub fn durable_cluster() -> Cluster {
    start(true)
}

fn start_shared() -> Cluster {
    start(false)
}

fn start(durable: bool) -> Cluster {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let bin = bin_dir();
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pg-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown the cluster folder to postgres");
        // The owner must reach the folder through its parents.
        let _ = Command::new("chmod")
            .args(["o+x"])
            .arg(env!("CARGO_TARGET_TMPDIR"))
            .status();
    }
    let data = dir.join("data");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, ADMIN_PASSWORD).unwrap();
    if is_root() {
        let _ = Command::new("chown").arg("postgres").arg(&pwfile).status();
    }
    let status = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres_admin",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdout(Stdio::null())
        .status()
        .expect("run initdb");
    assert!(status.success(), "initdb failed");
    // TLS with the test CA's certificate for localhost and 127.0.0.1.
    let tls = super::TlsFixtures::shared();
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, &tls.server.cert_pem).unwrap();
    std::fs::write(&key, &tls.server.key_pem).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    if is_root() {
        let _ = Command::new("chown")
            .arg("postgres")
            .arg(&cert)
            .arg(&key)
            .status();
    }
    let port = super::closed_port();
    let cluster = Cluster {
        port,
        dir: data,
        bin,
    };
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} -c fsync={fsync} \
         -c max_connections=500 -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}",
        fsync = if durable { "on" } else { "off" },
        dir = dir.display(),
        cert = cert.display(),
        key = key.display(),
    );
    let log = dir.join("log");
    cluster.pg_ctl(&["-w", "-o", &options, "-l", log.to_str().unwrap(), "start"]);
    // Stop it when this process is gone, whatever ends it.
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            ctl = if is_root() {
                format!("runuser -u postgres -- {}", cluster.bin.join("pg_ctl").display())
            } else {
                cluster.bin.join("pg_ctl").display().to_string()
            },
            data = cluster.dir.display(),
            dir = dir.display(),
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    cluster
        .admin("postgres")
        .batch_execute(&format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"))
        .expect("create the test role");
    cluster
}
