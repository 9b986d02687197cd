//! The delivery queue as a 1C server runs it, driven through the C host:
//! administration (Messages, Requeue, QueueRetention), what stays on disk
//! after delivery and with which file modes, the directories the queue
//! refuses, a QueueDirectory deleted under a running process, and several
//! copies of the library in one process sharing a directory with another
//! process. Servers are started here on 127.0.0.1.

mod support;

use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use support::host::{self, q, HostRun};
use support::{TestServer, TlsFixtures};

fn run_ru(script: &str) -> HostRun {
    let run = host::run("ru", script);
    run.assert_clean();
    run
}

fn queue_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("host-queue-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn ids(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect()
}

/// The host's command run through `sh` with `umask` set first.
#[cfg(unix)]
fn with_umask(command: Command, umask: &str) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => sh.env(key, value),
            None => sh.env_remove(key),
        };
    }
    sh
}

#[test]
fn messages_and_requeue_let_an_administrator_send_a_failed_message_again() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = AtomicUsize::new(0);
    // /gone-once answers 410 (final at once) the first time, then 200.
    let server = TestServer::with_handler(None, move |r| match r.path() {
        "/gone-once" if calls.fetch_add(1, Ordering::SeqCst) == 0 => support::Reply::new(410),
        "/gone-once" | "/ok" => support::Reply::new(200),
        _ => support::Reply::new(410),
    });
    let dir = queue_dir("admin");
    let run = run_ru(&format!(
        "set КаталогОчереди {dir}
set РасписаниеПовторов {schedule}
call ПоставитьВОчередь {gone_once} {body} {empty} {a1}
call ПоставитьВОчередь {ok} {body} {empty} {a2}
call ДождатьсяОтправки 20
call Сообщения {failed}
call Сообщения {delivered_upper} 10
call ПовторитьОтправку {a2}
call ПовторитьОтправку {never}
call ПовторитьОтправку {a1}
call ПовторитьОтправку {a1}
call ДождатьсяОтправки 20
call СостояниеСообщения {a1}
call Сообщения {failed}
call Сообщения {lost}
call Сообщения {failed} 0
call Сообщения {failed} 10001
set СрокХраненияОчереди 0.00001
call ПоставитьВОчередь {gone} {body} {empty} {a3}
call ДождатьсяОтправки 20
sleep 1.5
call ПовторитьОтправку {a3}
call СостояниеСообщения {a3}
set СрокХраненияОчереди -1
get СрокХраненияОчереди
call Сообщения {delivered}",
        dir = q(&host::path(&dir)),
        schedule = q("1"),
        gone_once = q(&server.url("/gone-once")),
        ok = q(&server.url("/ok")),
        gone = q(&server.url("/gone")),
        body = q(r#"{"event":"paid"}"#),
        empty = q(""),
        a1 = q("adm-1"),
        a2 = q("adm-2"),
        a3 = q("adm-3"),
        never = q("never-enqueued"),
        failed = q("failed"),
        delivered = q("delivered"),
        delivered_upper = q("DELIVERED"),
        lost = q("lost"),
    ));
    assert_eq!(run.step(4).ok(), "bool true");
    let failed = json(&run.step(5).string());
    assert_eq!(ids(&failed), ["adm-1"]);
    assert_eq!(failed[0]["state"], "failed");
    assert_eq!(failed[0]["status"], 410);
    assert_eq!(ids(&json(&run.step(6).string())), ["adm-2"]);
    assert_eq!(run.step(7).ok(), "bool false", "a delivered message");
    assert_eq!(run.step(8).ok(), "bool false", "an unknown id");
    assert_eq!(run.step(9).ok(), "bool true", "a failed message");
    assert_eq!(run.step(10).ok(), "bool false", "no longer failed");
    assert_eq!(run.step(11).ok(), "bool true");
    let again = json(&run.step(12).string());
    assert_eq!(again["state"], "delivered", "{again}");
    // A fresh round: its attempts count from the Requeue on.
    assert_eq!(again["attempts"], 1, "{again}");
    assert_eq!(ids(&json(&run.step(13).string())), Vec::<&str>::new());
    assert!(
        run.step(14).err().contains("pending, delivered или failed"),
        "{}",
        run.step(14).err()
    );
    assert!(
        run.step(15).err().contains("Лимит"),
        "{}",
        run.step(15).err()
    );
    assert!(
        run.step(16).err().contains("10000"),
        "{}",
        run.step(16).err()
    );
    // QueueRetention 0.00001 days (0.864 s): adm-3 failed, then expired.
    assert_eq!(run.step(19).ok(), "bool true");
    assert_eq!(run.step(21).ok(), "bool false", "an expired message");
    assert_eq!(json(&run.step(22).string())["state"], "unknown");
    assert!(
        run.step(23).err().contains("СрокХраненияОчереди"),
        "{}",
        run.step(23).err()
    );
    let days: f64 = run
        .step(24)
        .ok()
        .strip_prefix("number ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", run.step(24).ok()));
    assert!((days - 0.00001).abs() < 1e-12, "{days}");
    // Newest first.
    assert_eq!(ids(&json(&run.step(25).string())), ["adm-2", "adm-1"]);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path() == "/gone-once")
            .count(),
        2,
        "Requeue sent adm-1 once more"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every byte of every file in `dir` (recursively).
fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

fn holders<'a>(files: &'a [(PathBuf, Vec<u8>)], needle: &str) -> Vec<&'a Path> {
    files
        .iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(p, _)| p.as_path())
        .collect()
}

/// After delivery the password, the signing secret, a bearer token, the
/// URL's user info and query, a private key and the body are gone from
/// every file of the QueueDirectory; a failed message keeps its own (for
/// Requeue), which also shows the search finds what is there. Under umask
/// 000 the directory is 0700 and every file 0600.
#[test]
fn delivered_messages_leave_no_secret_or_body_on_disk() {
    let server = TestServer::http();
    let tls = TlsFixtures::shared();
    let key_line = tls
        .client_pem
        .lines()
        .skip_while(|l| !l.contains("BEGIN PRIVATE KEY"))
        .nth(1)
        .expect("a private key in the client PEM")
        .to_string();
    let dir = queue_dir("at-rest");
    // Two sets of secrets: the first (and a client certificate's private
    // key) goes with delivered messages, the second with one that fails
    // (410) and keeps them.
    let secrets = |tag: &str| {
        [
            format!("password-{tag}-5c1f"),
            format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(format!("signing-{tag}-key-4d2a"))
            ),
            format!("bearer-{tag}-9e77"),
            format!("urlpass-{tag}-3b08"),
            format!("query-{tag}-61aa"),
            format!("body-{tag}-marker-0f3c"),
        ]
    };
    let script_for = |tag: &str, path: &str, ids: &[&str], pem: &str| {
        let [password, signing, bearer, url_password, query, marker] = secrets(tag);
        let url = server
            .url(&format!("{path}?token={query}"))
            .replace("http://", &format!("http://alice:{url_password}@"));
        let mut script = format!(
            "set Пользователь {user}
set Пароль {password}
set СекретПодписи {signing}
set КлиентскийСертификат {pem}
call УстановитьЗаголовок {auth_name} {bearer}
",
            user = q("bob"),
            password = q(&password),
            signing = q(&signing),
            pem = q(pem),
            auth_name = q("X-Api-Key"),
            bearer = q(&format!("Bearer {bearer}")),
        );
        for id in ids {
            script.push_str(&format!(
                "call ПоставитьВОчередь {} {} {} {}\n",
                q(&url),
                q(&format!(r#"{{"text":"{marker}"}}"#)),
                q(""),
                q(id)
            ));
        }
        script
    };
    let script = format!(
        "set КаталогОчереди {dir}\n{delivered}{failed}call ДождатьсяОтправки 20\nsleep 4\ncall СостояниеОчереди",
        dir = q(&host::path(&dir)),
        delivered = script_for("sent", "/status/200", &["rest-1", "rest-2", "rest-3"], &tls.client_pem),
        failed = script_for("kept", "/status/410", &["rest-4"], ""),
    );
    #[cfg(unix)]
    let run = if host::under_wine() {
        host::run_with(&["--lang", "ru"], &script)
    } else {
        host::run_adjusted(&["--lang", "ru"], &script, |c| with_umask(c, "000"))
    };
    #[cfg(not(unix))]
    let run = host::run_with(&["--lang", "ru"], &script);
    run.assert_clean();
    let counts = json(&run.steps.last().unwrap().string());
    assert_eq!(
        counts,
        serde_json::json!({"pending": 0, "delivered": 3, "failed": 1})
    );
    assert_eq!(server.request_count(), 4);

    let files = all_bytes(&dir);
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "queue.sqlite3"), "{names:?}");
    let basic = |tag: &str| {
        let password = &secrets(tag)[0];
        base64::engine::general_purpose::STANDARD.encode(format!("bob:{password}"))
    };
    for (tag, must_be_there) in [("sent", false), ("kept", true)] {
        // The password travels inside the Basic header (base64).
        let mut needles = secrets(tag)[1..].to_vec();
        needles.push(basic(tag));
        for needle in &needles {
            let found = holders(&files, needle);
            assert_eq!(
                !found.is_empty(),
                must_be_there,
                "{needle} ({tag}) in {found:?}"
            );
        }
    }
    assert!(
        holders(&files, &key_line).is_empty(),
        "the private key went with the delivered messages"
    );
    #[cfg(unix)]
    if !host::under_wine() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "the directory");
        for (path, _) in &files {
            assert_eq!(mode(path), 0o600, "{}", path.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A QueueDirectory that others can write to, or that another user owns,
/// is refused with its own error code; one that others may only read is
/// made private. Without HOME (and XDG_DATA_HOME) there is no default: the
/// property reads "" and the queue asks for it.
#[cfg(unix)]
#[test]
fn unsafe_directories_are_refused_and_there_is_no_shared_fallback() {
    use std::os::unix::fs::PermissionsExt;
    if host::under_wine() {
        // Unix owners and modes: the Windows build checks neither.
        return;
    }
    let open = |dir: &Path| {
        format!(
            "set КаталогОчереди {}\ncall СостояниеОчереди\nget КодОшибки",
            q(&host::path(dir))
        )
    };
    let made = |name: &str, mode: u32| {
        let dir = queue_dir(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        dir
    };
    let refused = |dir: &Path, text: &str| {
        let run = run_ru(&open(dir));
        assert!(run.step(1).err().contains(text), "{}", run.step(1).err());
        assert_eq!(run.step(2).string(), "queue_directory_unsafe");
        assert!(!dir.join("queue.sqlite3").exists(), "nothing written there");
    };
    let shared = made("others-write", 0o777);
    refused(&shared, "могут писать другие пользователи (права 0777)");

    let readable = made("others-read", 0o755);
    let run = run_ru(&open(&readable));
    assert_eq!(
        json(&run.step(1).string()),
        serde_json::json!({"pending": 0, "delivered": 0, "failed": 0})
    );
    let mode = std::fs::metadata(&readable).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);

    // Another owner: only root can make one here.
    if running_as_root() {
        let foreign = made("foreign", 0o700);
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        refused(&foreign, "принадлежит другому пользователю (uid 65534)");
        let _ = std::fs::remove_dir_all(&foreign);
    } else {
        eprintln!("not root: the other-owner case needs chown and is not run");
    }

    // No HOME, no XDG_DATA_HOME: no default folder, no temp fallback.
    let run = host::run_adjusted(
        &["--lang", "ru"],
        &format!(
            "get КаталогОчереди\ncall ПоставитьВОчередь {} {}\nget КодОшибки",
            q("http://127.0.0.1:9/hook"),
            q("{}")
        ),
        |mut c| {
            c.env_remove("HOME").env_remove("XDG_DATA_HOME");
            c
        },
    );
    run.assert_clean();
    assert_eq!(run.step(0).string(), "");
    assert!(
        run.step(1).err().contains("задайте КаталогОчереди"),
        "{}",
        run.step(1).err()
    );
    assert_eq!(run.step(2).string(), "queue_directory");
    for dir in [shared, readable] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Root or not, from the owner of a file this process just made.
#[cfg(unix)]
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = queue_dir("whoami");
    std::fs::create_dir_all(&probe).unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    let _ = std::fs::remove_dir_all(&probe);
    root
}

/// The QueueDirectory is deleted and made again while the process runs:
/// the next Enqueue goes into the new files, not the deleted ones.
#[cfg(unix)]
#[test]
fn a_deleted_and_recreated_directory_gets_new_files() {
    if host::under_wine() {
        // Windows cannot delete a database file that is open; under Wine
        // the Linux side could, which no Windows server would see.
        return;
    }
    let server = TestServer::http();
    let dir = queue_dir("recreated");
    let output = dir.with_extension("out");
    let enqueue = |id: &str| {
        format!(
            "call Enqueue {} {} {} {}",
            q(&server.url("/status/200")),
            q(r#"{"n":1}"#),
            q(""),
            q(id)
        )
    };
    let script = format!(
        "set QueueDirectory {dir}
{first}
call WaitForDelivery 20
echo first-delivered
sleep 3
{second}
call WaitForDelivery 20
call MessageStatus {r1}
call MessageStatus {r2}
call QueueStatus",
        dir = q(&host::path(&dir)),
        first = enqueue("r-1"),
        second = enqueue("r-2"),
        r1 = q("r-1"),
        r2 = q("r-2"),
    );
    let mut child = host::spawn(&["--lang", "en"], &script, &output);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&output)
        .unwrap_or_default()
        .contains("# first-delivered")
    {
        assert!(Instant::now() < deadline, "the first delivery never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(status.success(), "{text}");
    let run_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("= ")).collect();
    assert!(
        run_lines[run_lines.len() - 3].contains(r#"\"state\":\"unknown\""#),
        "r-1 was in the deleted file: {text}"
    );
    assert!(
        run_lines[run_lines.len() - 2].contains(r#"\"state\":\"delivered\""#),
        "{text}"
    );
    let conn = rusqlite::Connection::open(dir.join("queue.sqlite3")).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM messages")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, ["r-2"], "the new file holds what came after");
    assert_eq!(server.request_count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&output);
}

/// A third party that takes the database's write lock again and again,
/// each time long enough for writers to meet SQLITE_BUSY.
struct LockHolder {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    holding: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl LockHolder {
    fn start(db: PathBuf, hold: Duration, pause: Duration) -> LockHolder {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let holding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stopped, held) = (stop.clone(), holding.clone());
        let thread = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.busy_timeout(Duration::from_secs(30)).unwrap();
            let mut holds = 0;
            while !stopped.load(Ordering::SeqCst) {
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                held.store(true, Ordering::SeqCst);
                std::thread::sleep(hold);
                held.store(false, Ordering::SeqCst);
                conn.execute_batch("COMMIT").unwrap();
                holds += 1;
                std::thread::sleep(pause);
            }
            holds
        });
        LockHolder {
            stop,
            holding,
            thread: Some(thread),
        }
    }

    /// Returns once the holder has the lock (so what starts now meets it).
    fn wait_holding(&self) {
        while !self.holding.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops and tells how often the lock was held.
    fn finish(mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// The ids that the Enqueue calls of a host run returned.
fn enqueued(run_output: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after_enqueue = false;
    for line in run_output.lines() {
        if let Some(command) = line.strip_prefix("> ") {
            after_enqueue = command.starts_with("call Enqueue ");
        } else if let Some(value) = line.strip_prefix("= string ") {
            if after_enqueue {
                ids.push(serde_json::from_str(value).unwrap());
            }
            after_enqueue = false;
        }
    }
    ids
}

/// 1C keeps an old copy of the library running after loading a new one
/// (another file) into the same process. Two copies in one host process
/// and a second host process enqueue into one QueueDirectory and deliver
/// from it at once, while a third party keeps taking the write lock; three
/// rounds. Then the file passes `PRAGMA integrity_check`, and every id an
/// Enqueue returned was delivered, exactly once. Each round starts while
/// the third party holds the lock.
#[test]
fn two_copies_and_another_process_share_one_directory_under_write_contention() {
    const PER_COPY: usize = 60;
    let server = TestServer::with_handler(None, |_| support::Reply::new(200));
    let dir = queue_dir("copies");
    let copy = host::library_copy("contention");
    let dir_arg = q(&host::path(&dir));
    let created = run_ru(&format!(
        "set КаталогОчереди {dir_arg}\ncall СостояниеОчереди"
    ));
    assert!(created.step(1).ok().starts_with("string"));
    let holder = LockHolder::start(
        dir.join("queue.sqlite3"),
        Duration::from_millis(300),
        Duration::from_millis(100),
    );
    let url = q(&server.url("/copies"));
    let enqueue = |id: String| {
        format!(
            "call Enqueue {url} {} {} {}\n",
            q(r#"{"n":1}"#),
            q(""),
            q(&id)
        )
    };
    let mut expected: Vec<String> = Vec::new();
    for round in 0..3 {
        let mut other = format!("set QueueDirectory {dir_arg}\n");
        for i in 0..PER_COPY {
            other.push_str(&enqueue(format!("p-{round}-{i}")));
        }
        other.push_str("call WaitForDelivery 300\n");
        let output = dir.with_extension(format!("other-{round}.out"));
        // Each round starts while the third party holds the lock: the
        // first writes of both processes meet SQLITE_BUSY.
        holder.wait_holding();
        let mut process = host::spawn(&["--lang", "en"], &other, &output);

        let mut script = format!(
            "set QueueDirectory {dir_arg}\ncopy {}\nset QueueDirectory {dir_arg}\n",
            q(&host::path(&copy))
        );
        for i in 0..PER_COPY {
            script.push_str("use 0\n");
            script.push_str(&enqueue(format!("a-{round}-{i}")));
            script.push_str("use 1\n");
            script.push_str(&enqueue(format!("b-{round}-{i}")));
        }
        script.push_str("call WaitForDelivery 300\nuse 0\ncall WaitForDelivery 300\n");
        let run = host::run("en", &script);
        run.assert_clean();
        assert!(run.stdout.contains("# copy 1: "), "{}", run.stdout);
        let status = process.wait().unwrap();
        let other_output = std::fs::read_to_string(&output).unwrap();
        assert!(status.success(), "{other_output}");
        let _ = std::fs::remove_file(&output);
        for (text, n) in [(&run.stdout, 2 * PER_COPY), (&other_output, PER_COPY)] {
            let ids = enqueued(text);
            assert_eq!(ids.len(), n, "every Enqueue returned its id:\n{text}");
            expected.extend(ids);
        }
    }
    let holds = holder.finish();

    let conn = rusqlite::Connection::open(dir.join("queue.sqlite3")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut states = conn
        .prepare("SELECT id, state FROM messages")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .collect::<Result<std::collections::HashMap<_, _>, _>>()
        .unwrap();
    for id in &expected {
        assert_eq!(
            states.remove(id).as_deref(),
            Some("delivered"),
            "{id} is not delivered"
        );
    }
    assert!(states.is_empty(), "rows nobody enqueued: {states:?}");
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for request in server.requests() {
        *seen
            .entry(request.header("webhook-id").unwrap_or_default().to_string())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), expected.len(), "each id reached the receiver");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    eprintln!(
        "two copies + a process: {} messages in 3 rounds, the write lock taken {holds} times by a third party, integrity ok",
        expected.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
/// Another process tries the write lock at once (no waiting): true when it
/// got it (and let it go).
fn write_lock_is_free(db: &Path) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            conn.execute_batch("ROLLBACK").unwrap();
            true
        }
        Err(e) => {
            assert!(e.to_string().contains("locked"), "{e}");
            false
        }
    }
}

#[cfg(target_os = "linux")]
/// Waits for `# marker` in a running host's output file.
fn wait_for_line(output: &Path, marker: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    let line = format!("# {marker}");
    loop {
        let text = std::fs::read_to_string(output).unwrap_or_default();
        if text.lines().any(|l| l == line) {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "no {line}:\n{text}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The lock hazard itself, step by step. Copy A holds the write lock (a
/// debug-build hook keeps the transaction that records `probe-1` open for
/// 4 s); copy B, which has the same file open, then enqueues: it waits for
/// A instead of taking the lock beside it, and another process still
/// cannot take the lock meanwhile. The control shows the probe can see the
/// hazard: a plain open and close of the `-shm` file by the same process
/// (what a second SQLite does when it is done with a file) drops A's lock,
/// and the other process gets it.
#[cfg(target_os = "linux")]
#[test]
fn a_copy_that_holds_the_lock_keeps_it_while_another_copy_uses_the_file() {
    if host::under_wine() || std::env::var_os("WEBHOOK1C_LIBRARY").is_some() {
        // POSIX locks only; the hook exists in debug builds only.
        return;
    }
    let server = TestServer::http();
    let copy = host::library_copy("probe");
    let enqueue = |id: &str| {
        format!(
            "call Enqueue {} {} {} {}",
            q(&server.url("/status/200")),
            q("{}"),
            q(""),
            q(id)
        )
    };
    let probe_run = |name: &str, middle: &str| {
        let dir = queue_dir(name);
        let output = dir.with_extension("out");
        let script = format!(
            "set QueueDirectory {dir}
call QueueStatus
copy {copy}
set QueueDirectory {dir}
call QueueStatus
use 0
{hold}
sleep 1
echo a-holds
{middle}
call WaitForDelivery 20",
            dir = q(&host::path(&dir)),
            copy = q(&host::path(&copy)),
            hold = enqueue("probe-1"),
        );
        let child = host::spawn_adjusted(&["--lang", "en"], &script, &output, |mut c| {
            c.env("WEBHOOK1C_TEST_HOLD_WRITE", "probe-1:4000");
            c
        });
        (dir, output, child)
    };

    // Copy B enqueues while copy A holds the lock.
    let middle = format!("use 1\n{}\necho b-done", enqueue("probe-2"));
    let (dir, output, mut child) = probe_run("probe", &middle);
    let db = dir.join("queue.sqlite3");
    let holding = wait_for_line(&output, "a-holds");
    assert!(!write_lock_is_free(&db), "A holds the lock");
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        !write_lock_is_free(&db),
        "A still holds it while B waits to write"
    );
    let b_done = wait_for_line(&output, "b-done");
    assert!(
        b_done - holding >= Duration::from_millis(1500),
        "B waited for A: {:?}",
        b_done - holding
    );
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&output).unwrap();
    assert_eq!(enqueued(&text), ["probe-1", "probe-2"], "{text}");
    assert!(write_lock_is_free(&db), "free once the host is gone");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // Control: the same hold, then a plain open and close of the -shm file.
    let shm = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("host-queue-probe-control-{}", std::process::id()))
        .join("queue.sqlite3-shm");
    let shm = host::path(&shm);
    let middle = format!("sleep 1\nopenclose {}\necho closed", q(&shm));
    let (control_dir, control_output, mut control) = probe_run("probe-control", &middle);
    let control_db = control_dir.join("queue.sqlite3");
    wait_for_line(&control_output, "a-holds");
    assert!(!write_lock_is_free(&control_db), "A holds the lock");
    wait_for_line(&control_output, "closed");
    assert!(
        write_lock_is_free(&control_db),
        "the close dropped A's lock: the hazard the gate prevents"
    );
    assert!(control.wait().unwrap().success());
    for d in [dir, control_dir] {
        let _ = std::fs::remove_dir_all(&d);
    }
    let _ = std::fs::remove_file(output);
    let _ = std::fs::remove_file(control_output);
}

/// On Windows a folder the queue creates is made owner-only, as mode 0700
/// is on Unix: a protected DACL (nothing inherited from the parent) with
/// one entry, full control for the user the process runs as, inherited by
/// the files made inside. Wine 8 accepts the ACL but neither stores nor
/// enforces it (it reads back its default), so under Wine the test checks
/// the calls the add-in makes, from Wine's advapi32 trace: the one entry
/// (FILE_ALL_ACCESS, SET_ACCESS, inherited by sub-folders and files, a SID
/// of type user) and the protected DACL set on the queue's folder. The
/// effect itself needs a real Windows (the C host's `acl PATH` prints a
/// DACL as SDDL there).
#[test]
fn a_folder_the_queue_creates_is_made_owner_only_on_windows() {
    if !host::under_wine() {
        // Unix: the modes are checked by
        // delivered_messages_leave_no_secret_or_body_on_disk.
        return;
    }
    let parent = queue_dir("acl");
    std::fs::create_dir_all(&parent).unwrap();
    let dir = parent.join("queue");
    let script = format!(
        "set КаталогОчереди {dir}\ncall СостояниеОчереди\nacl {dir}\nset КаталогОчереди {parent}\ncall СостояниеОчереди",
        parent = q(&host::path(&parent)),
        dir = q(&host::path(&dir)),
    );
    let run = host::run_adjusted(&["--lang", "ru"], &script, |mut c| {
        c.env("WINEDEBUG", "trace+advapi");
        c
    });
    run.assert_clean();
    assert!(
        run.step(2).notes.iter().any(|n| n.starts_with("# acl D:")),
        "{}",
        run.stdout
    );
    let trace = &run.stderr;
    let entry = trace
        .split("SetEntriesInAclW [0]:")
        .nth(1)
        .unwrap_or_else(|| panic!("no ACL entry made:\n{trace}"));
    for field in [
        "grfAccessPermissions = 0x1f01ff",
        "grfAccessMode = 2",
        "grfInheritance = 0x3",
        "MultipleTrusteeOperation = 0",
        "TrusteeForm = 0",
        "Trustee.TrusteeType = 1",
    ] {
        assert!(entry.contains(field), "{field} in {entry}");
    }
    // debugstr_w escapes each backslash; 1 = SE_FILE_OBJECT; -2147483644 =
    // PROTECTED_DACL_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION.
    let set = format!(
        "SetNamedSecurityInfoW L\"{}\" 1 -2147483644 ",
        host::path(&dir).replace('\\', "\\\\")
    );
    let calls: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("SetNamedSecurityInfoW"))
        .collect();
    assert_eq!(calls.len(), 1, "only the folder the queue made: {calls:?}");
    assert!(calls[0].contains(&set), "{set} in {}", calls[0]);
    let _ = std::fs::remove_dir_all(&parent);
}

/// QueueDatabase through the add-in: two host processes (two servers of a
/// cluster) on one PostgreSQL database. What one enqueues the other sees
/// delivered; the property reads back with the password masked, and no
/// output shows it.
#[test]
fn two_hosts_share_a_queue_in_postgresql() {
    let url = support::pg::cluster().database("c_host_queue");
    let server = TestServer::http();
    let first = host::run(
        "en",
        &format!(
            "set QueueDatabase {url}
get QueueDatabase
call Enqueue {hook} {json} {empty} {id}
call WaitForDelivery 30",
            url = q(&url),
            hook = q(&server.url("/echo")),
            json = q(r#"{"event":"posted"}"#),
            empty = q(""),
            id = q("doc-pg-1"),
        ),
    );
    first.assert_clean();
    assert_eq!(
        first.step(1).string(),
        url.replace(support::pg::PASSWORD, "***")
    );
    assert_eq!(first.step(2).string(), "doc-pg-1");
    assert_eq!(first.step(3).ok(), "bool true");
    assert!(
        first
            .stdout
            .lines()
            .any(|l| l.starts_with("* event \"Webhook1C\" \"Delivered\"") && l.contains("doc-pg-1")),
        "ExternalEvent on the outcome: {}",
        first.stdout
    );
    let second = host::run(
        "ru",
        &format!(
            "set БазаДанныхОчереди {url}
call СостояниеСообщения {id}
call СостояниеОчереди
set БазаДанныхОчереди {refused}
call СостояниеОчереди
get КодОшибки",
            url = q(&url),
            id = q("doc-pg-1"),
            refused = q(&format!(
                "postgresql://webhooks:{}@127.0.0.1:{}/q",
                support::pg::PASSWORD,
                support::closed_port()
            )),
        ),
    );
    let status: serde_json::Value = serde_json::from_str(&second.step(1).string()).unwrap();
    assert_eq!(
        (status["state"].as_str(), status["status"].as_i64()),
        (Some("delivered"), Some(200))
    );
    let counts: serde_json::Value = serde_json::from_str(&second.step(2).string()).unwrap();
    assert_eq!(counts["delivered"], 1);
    assert!(
        second
            .step(4)
            .err()
            .contains("ошибка базы данных очереди postgresql://webhooks@127.0.0.1:"),
        "{}",
        second.step(4).err()
    );
    assert_eq!(second.step(5).string(), "queue_server");
    assert_eq!(server.requests().len(), 1);
    for run in [&first, &second] {
        assert!(
            !run.shown().contains(support::pg::PASSWORD),
            "{}",
            run.shown()
        );
    }
}
