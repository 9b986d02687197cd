//! Drives the C host (`tests/host/`): builds it once with AddressSanitizer and
//! `-Wall -Wextra -Werror`, runs it on the add-in library with a script, and
//! parses what it printed: one result per command, the AddError and event
//! lines, and the memory summary.
//!
//! By default the host is built here for Linux and loads cargo's own debug
//! build of the add-in. Three environment variables switch it, so that the
//! same suite runs the Windows builds under Wine (`tests/wine/run.sh`) and
//! the Linux ARM64 build under qemu-user (`tests/qemu/run.sh`):
//!
//! - `WEBHOOK1C_HOST_CMD`: the command that runs an already built host, split
//!   on whitespace, e.g. `wine64 /abs/target/wine/x86_64/webhook1c-host.exe`
//!   or `qemu-aarch64 -L /usr/aarch64-linux-gnu /abs/target/qemu/aarch64/webhook1c-host`.
//!   The host's options, script and library are appended to it. When set,
//!   the native host is not built.
//! - `WEBHOOK1C_LIBRARY`: the add-in the host loads (a path on this machine,
//!   relative ones from the crate root), e.g.
//!   `target/x86_64-pc-windows-gnu/debug/webhook1c.dll`.
//! - `WEBHOOK1C_WINE`: `1` when the host runs under Wine, `0` when not;
//!   unset, it is `1` exactly when the first word of `WEBHOOK1C_HOST_CMD` is
//!   `wine` or `wine64` (by file name). Under Wine every path handed to the
//!   host or the add-in goes through [`path`], which gives `Z:\x\y` for
//!   `/x/y`, and [`under_wine`] lets a test relax an expectation that only
//!   Wine (not Windows) breaks.
//!
//! Under Wine, start the prefix's wineserver (`wineserver -p`) and its
//! background processes (`wine64 cmd /c exit`, output to /dev/null) before
//! the suite, as `tests/wine/run.sh` does: started by a host run instead,
//! services.exe and its children inherit that run's stdout/stderr pipes, and
//! the test waits for them to exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The host command from `WEBHOOK1C_HOST_CMD`, or None for the native host.
fn host_command_words() -> Option<Vec<String>> {
    let cmd = std::env::var("WEBHOOK1C_HOST_CMD").ok()?;
    let words: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
    assert!(!words.is_empty(), "WEBHOOK1C_HOST_CMD is set but empty");
    Some(words)
}

/// True when the host (and so the add-in) runs under Wine: see the module
/// documentation. Tests use it only for the few expectations that hold on
/// Windows and Linux but not under Wine, each with the reason beside it.
pub fn under_wine() -> bool {
    static WINE: OnceLock<bool> = OnceLock::new();
    *WINE.get_or_init(|| match std::env::var("WEBHOOK1C_WINE").ok().as_deref() {
        Some("1") => true,
        Some("0") => false,
        Some(other) => panic!("WEBHOOK1C_WINE must be 0 or 1, not {other:?}"),
        None => host_command_words().is_some_and(|words| {
            let program = Path::new(&words[0]).file_name().unwrap_or_default();
            program == "wine" || program == "wine64"
        }),
    })
}

/// A path on this machine as the host and the add-in must be given it:
/// unchanged natively; under Wine the absolute path on drive `Z:` (Wine's
/// mapping of `/`), so `/x/y` becomes `Z:\x\y`.
pub fn path(p: &Path) -> String {
    if !under_wine() {
        return p.display().to_string();
    }
    let absolute = if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
    };
    let text = absolute
        .to_str()
        .unwrap_or_else(|| panic!("not UTF-8: {}", absolute.display()));
    format!("Z:{}", text.replace('/', "\\"))
}

/// The add-in the host loads: `WEBHOOK1C_LIBRARY`, or else the debug build
/// that cargo built for these tests. `cargo test` leaves that one in
/// `target/debug/deps/` (only `cargo build` copies it up a level), so it is
/// the one that matches the code under test.
pub fn library() -> PathBuf {
    if let Ok(lib) = std::env::var("WEBHOOK1C_LIBRARY") {
        let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join(lib);
        assert!(
            lib.is_file(),
            "WEBHOOK1C_LIBRARY: {} not found",
            lib.display()
        );
        return lib;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("target/debug/deps");
    let name = if cfg!(windows) {
        "webhook1c.dll"
    } else {
        "libwebhook1c.so"
    };
    let lib = deps.join(name);
    assert!(lib.exists(), "{} not built", lib.display());
    lib
}

/// Compiles one of the C programs that play 1C, `tests/<program>/*.c` with
/// the code they share (`tests/common/*.c`), by `$CC` (default `cc`) with
/// `-std=c11 -Wall -Wextra -Werror`, `flags` and `-ldl -lpthread`, into
/// `CARGO_TARGET_TMPDIR/c-<program>/<name>`, and returns that path. Several
/// test binaries may build at once: each writes a private file, then renames
/// it into place.
pub fn compile_c(program: &str, name: &str, flags: &[&str]) -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("c-{program}"));
    std::fs::create_dir_all(&out_dir).expect("create the C build dir");
    let out = out_dir.join(name);
    let tmp = out_dir.join(format!("{name}-{}.tmp", std::process::id()));
    let mut sources = Vec::new();
    for dir in ["common", program] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(tests.join(dir))
            .unwrap_or_else(|e| panic!("tests/{dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        files.sort();
        sources.extend(files);
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .args(flags)
        .arg("-o")
        .arg(&tmp)
        .args(&sources)
        .args(["-ldl", "-lpthread"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(status.success(), "{name} (tests/{program}) did not compile");
    std::fs::rename(&tmp, &out).unwrap_or_else(|e| panic!("rename {name}: {e}"));
    out
}

/// The flags of the AddressSanitizer and UBSan builds of the C programs.
pub const ASAN_FLAGS: &[&str] = &[
    "-g",
    "-fsanitize=address,undefined",
    "-fno-omit-frame-pointer",
];

/// The host program with AddressSanitizer, compiled once per test binary.
pub fn host_binary() -> &'static Path {
    static HOST: OnceLock<PathBuf> = OnceLock::new();
    HOST.get_or_init(|| compile_c("host", "webhook1c-host-asan", ASAN_FLAGS))
}

/// One command's outcome as the host printed it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The command line as echoed (after `> `).
    pub command: String,
    /// `= …` value line without the `= `, or None when the call raised.
    pub value: Option<String>,
    /// `! …` exception text, or None.
    pub exception: Option<String>,
    /// Every other line printed for this command (`# param`, `# AddError`, events).
    pub notes: Vec<String>,
}

impl Step {
    /// The value, panicking with the exception text if the call raised.
    pub fn ok(&self) -> &str {
        match (&self.value, &self.exception) {
            (Some(v), _) => v,
            (None, Some(e)) => panic!("`{}` raised: {e}", self.command),
            (None, None) => panic!("`{}` printed no result", self.command),
        }
    }

    /// The exception text, panicking if the call succeeded.
    pub fn err(&self) -> &str {
        match (&self.value, &self.exception) {
            (_, Some(e)) => e,
            (Some(v), None) => panic!("`{}` did not raise; it returned {v}", self.command),
            (None, None) => panic!("`{}` printed no result", self.command),
        }
    }

    /// The string a `= string "..."` line holds, unescaped.
    pub fn string(&self) -> String {
        let v = self.ok();
        let quoted = v
            .strip_prefix("string ")
            .unwrap_or_else(|| panic!("not a string: {v}"));
        serde_json::from_str(quoted).unwrap_or_else(|e| panic!("bad string {quoted}: {e}"))
    }
}

/// What one host run printed.
#[derive(Debug)]
pub struct HostRun {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
    /// How the process ended, as the OS reported it (a signal included).
    pub status: std::process::ExitStatus,
    pub steps: Vec<Step>,
}

impl HostRun {
    /// The outcome of the `index`-th command of the script (0-based).
    pub fn step(&self, index: usize) -> &Step {
        &self.steps[index]
    }

    /// Everything the host printed except the echoed commands (which repeat
    /// the script, secrets included): what the 1C code and the user would see.
    pub fn shown(&self) -> String {
        self.stdout
            .lines()
            .filter(|l| !l.starts_with("> "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Asserts a clean session: exit 0, no leaked host blocks, no foreign
    /// frees, no ABI errors.
    pub fn assert_clean(&self) {
        assert!(
            self.stdout.contains("live=0 foreign_frees=0")
                && self.stdout.contains("# abi errors: 0"),
            "unclean host session ({}):\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        assert_eq!(
            self.code,
            Some(0),
            "host exit code\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Quotes text as a script string literal.
pub fn q(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A copy of the add-in library under another path (`name` tells copies
/// apart), as 1C makes one after a configuration's template is updated:
/// the same bytes, another file, so the loader maps it a second time.
pub fn library_copy(name: &str) -> PathBuf {
    let original = library();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("library-copies")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("library copy dir");
    let copy = dir.join(original.file_name().expect("library file name"));
    std::fs::copy(&original, &copy).expect("copy the library");
    copy
}

/// Runs the host on the add-in with `script` (one command per line).
pub fn run(lang: &str, script: &str) -> HostRun {
    run_with(&["--lang", lang], script)
}

/// Writes `script` to a file of its own for one host run.
fn script_file(script: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-host");
    std::fs::create_dir_all(&dir).expect("script dir");
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let script_path = dir.join(format!("script-{}-{n}.txt", std::process::id()));
    std::fs::write(&script_path, script).expect("write script");
    script_path
}

/// The host command for one run: the native ASan build or the command from
/// `WEBHOOK1C_HOST_CMD`, with options, the script file and the library.
fn command(options: &[&str], script_path: &Path) -> Command {
    let mut command = match host_command_words() {
        Some(words) => {
            let mut command = Command::new(&words[0]);
            command.args(&words[1..]);
            command
        }
        None => {
            let mut command = Command::new(host_binary());
            // LeakSanitizer would count the process-wide pool's threads and
            // buffers that live until exit; the host's own tracker checks
            // every block handed across the boundary.
            command
                .env(
                    "ASAN_OPTIONS",
                    "detect_leaks=0:abort_on_error=0:halt_on_error=1",
                )
                .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
            command
        }
    };
    command
        .args(options)
        .arg("--script")
        .arg(path(script_path))
        .arg(path(&library()))
        .stdin(Stdio::null());
    command
}

/// Starts the host in the background (for tests that kill it); its output
/// goes to `output`.
pub fn spawn(options: &[&str], script: &str, output: &Path) -> std::process::Child {
    spawn_adjusted(options, script, output, |command| command)
}

/// [`spawn`], after `adjust` changed the host's command (its environment).
pub fn spawn_adjusted(
    options: &[&str],
    script: &str,
    output: &Path,
    adjust: impl FnOnce(Command) -> Command,
) -> std::process::Child {
    let script_path = script_file(script);
    let log = std::fs::File::create(output).expect("host output file");
    let err = log.try_clone().expect("host output file");
    adjust(command(options, &script_path))
        .stdout(log)
        .stderr(err)
        .spawn()
        .expect("start the host")
}

/// Runs the host with extra options before the library path.
pub fn run_with(options: &[&str], script: &str) -> HostRun {
    run_adjusted(options, script, |command| command)
}

/// [`run_with`], after `adjust` changed the host's command (its
/// environment, a wrapper that sets the umask).
pub fn run_adjusted(
    options: &[&str],
    script: &str,
    adjust: impl FnOnce(Command) -> Command,
) -> HostRun {
    let script_path = script_file(script);
    let mut command = adjust(command(options, &script_path));
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run the host {:?}: {e}", command.get_program()));
    let _ = std::fs::remove_file(&script_path);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let steps = parse(&stdout);
    let code = exit_code(&output.status, &stdout);
    HostRun {
        stdout,
        stderr,
        code,
        status: output.status,
        steps,
    }
}

/// True when the host runs under the 32-bit Wine loader (`wine`, not
/// `wine64`).
fn under_wine32() -> bool {
    under_wine()
        && host_command_words()
            .is_some_and(|w| Path::new(&w[0]).file_name() == Some("wine".as_ref()))
}

fn exit_code(status: &std::process::ExitStatus, stdout: &str) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let code = exit_code_of(under_wine32(), status.code(), status.signal(), stdout);
        if code.is_some() && status.code().is_none() {
            // Straight to stderr, past the test harness's capture, so that
            // tests/wine/run.sh counts it even when the test passes.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: 32-bit Wine died with SIGSEGV after the host returned 0 from main (tolerated)"
            );
        }
        code
    }
    #[cfg(not(unix))]
    {
        let _ = stdout;
        status.code()
    }
}

/// The host's exit code. One case is read as the code main returned
/// although the process died by a signal: 32-bit Wine 8 itself may crash
/// with SIGSEGV while it ends a process whose main has returned (its
/// thread-termination signal handler faults; tests/wine/exit_race.c shows it
/// with no add-in loaded). Only that case: under the 32-bit loader,
/// SIGSEGV, and the host's last line `# exit 0` printed, i.e. every add-in
/// call, the object's destruction and the library's unloading already done.
pub fn exit_code_of(
    wine32: bool,
    code: Option<i32>,
    signal: Option<i32>,
    stdout: &str,
) -> Option<i32> {
    const SIGSEGV: i32 = 11;
    if code.is_none()
        && wine32
        && signal == Some(SIGSEGV)
        && stdout.lines().last() == Some("# exit 0")
    {
        return Some(0);
    }
    code
}

fn parse(stdout: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for line in stdout.lines() {
        if let Some(command) = line.strip_prefix("> ") {
            steps.push(Step {
                command: command.to_string(),
                value: None,
                exception: None,
                notes: vec![],
            });
            continue;
        }
        let Some(step) = steps.last_mut() else {
            continue;
        };
        if let Some(v) = line.strip_prefix("= ") {
            if step.value.is_none() && step.exception.is_none() {
                step.value = Some(v.to_string());
                continue;
            }
        }
        if let Some(e) = line.strip_prefix("! ") {
            if step.exception.is_none() {
                step.exception = Some(e.to_string());
                continue;
            }
        }
        step.notes.push(line.to_string());
    }
    steps
}
