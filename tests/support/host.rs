//! Drives the C host (`tests/host/`): builds it once with AddressSanitizer and
//! `-Wall -Wextra -Werror`, runs it on the add-in library with a script, and
//! parses what it printed: one result per command, the AddError and event
//! lines, and the memory summary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The debug build of the add-in that cargo built for these tests. `cargo
/// test` leaves it in `target/debug/deps/` (only `cargo build` copies it up
/// a level), so that is the one that matches the code under test.
pub fn library() -> PathBuf {
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

/// The host program, compiled once per test binary.
pub fn host_binary() -> &'static Path {
    static HOST: OnceLock<PathBuf> = OnceLock::new();
    HOST.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/host");
        let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-host");
        std::fs::create_dir_all(&out_dir).expect("create c-host dir");
        let out = out_dir.join("webhook1c-host-asan");
        // Several test binaries may build at once: write a private file, then
        // rename it into place.
        let tmp = out_dir.join(format!("webhook1c-host-{}.tmp", std::process::id()));
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
            .expect("tests/host")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        sources.sort();
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
            .args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer"])
            .arg("-o")
            .arg(&tmp)
            .args(&sources)
            .args(["-ldl", "-lpthread"])
            .status()
            .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
        assert!(status.success(), "the C host did not compile");
        std::fs::rename(&tmp, &out).expect("rename host");
        out
    })
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
            "unclean host session:\n{}\n--- stderr ---\n{}",
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

/// Runs the host on the add-in with `script` (one command per line).
pub fn run(lang: &str, script: &str) -> HostRun {
    run_with(&["--lang", lang], script)
}

/// Runs the host with extra options before the library path.
pub fn run_with(options: &[&str], script: &str) -> HostRun {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-host");
    std::fs::create_dir_all(&dir).expect("script dir");
    let script_path = dir.join(format!(
        "script-{}-{:?}.txt",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&script_path, script).expect("write script");
    let output = Command::new(host_binary())
        .args(options)
        .arg("--script")
        .arg(&script_path)
        .arg(library())
        // LeakSanitizer would count the process-wide pool's threads and
        // buffers that live until exit; the host's own tracker checks every
        // block handed across the boundary.
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=0:abort_on_error=0:halt_on_error=1",
        )
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .stdin(Stdio::null())
        .output()
        .expect("run host");
    let _ = std::fs::remove_file(&script_path);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let steps = parse(&stdout);
    HostRun {
        stdout,
        stderr,
        code: output.status.code(),
        steps,
    }
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
