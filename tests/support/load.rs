//! Builds `webhook1c-load` (`tests/load/`), the multi-threaded C program
//! that plays the 1C host for load, memory and cold-start runs, once per
//! test binary and build kind. Its interface is described at the top of
//! `tests/load/main.c`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// How the program is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadBuild {
    /// AddressSanitizer and UndefinedBehaviorSanitizer, `-g`.
    Asan,
    /// ThreadSanitizer, `-g`, with gcc's own runtime (libtsan). That runtime
    /// cannot load an add-in built with `-Zsanitizer=thread` (gcc 12's lacks
    /// `__tsan_memcpy`, which rustc's instrumentation calls), and with an
    /// uninstrumented add-in TSan sees only half of each hand-over and
    /// reports races that are not there: `tests/tsan/run.sh` links the host
    /// with rustc's runtime instead.
    Tsan,
    /// `-O2`, for benchmarks.
    Optimized,
}

impl LoadBuild {
    fn name(self) -> &'static str {
        match self {
            LoadBuild::Asan => "asan",
            LoadBuild::Tsan => "tsan",
            LoadBuild::Optimized => "opt",
        }
    }

    fn flags(self) -> &'static [&'static str] {
        match self {
            LoadBuild::Asan => &[
                "-g",
                "-fsanitize=address,undefined",
                "-fno-omit-frame-pointer",
            ],
            LoadBuild::Tsan => &["-g", "-fsanitize=thread"],
            LoadBuild::Optimized => &["-O2"],
        }
    }

    fn cell(self) -> &'static OnceLock<PathBuf> {
        static ASAN: OnceLock<PathBuf> = OnceLock::new();
        static TSAN: OnceLock<PathBuf> = OnceLock::new();
        static OPTIMIZED: OnceLock<PathBuf> = OnceLock::new();
        match self {
            LoadBuild::Asan => &ASAN,
            LoadBuild::Tsan => &TSAN,
            LoadBuild::Optimized => &OPTIMIZED,
        }
    }
}

/// `webhook1c-load` built as `build`, compiled on the first call in this
/// test binary into `CARGO_TARGET_TMPDIR/load/`.
pub fn load_binary(build: LoadBuild) -> PathBuf {
    build.cell().get_or_init(|| compile(build)).clone()
}

fn compile(build: LoadBuild) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/load");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("load");
    std::fs::create_dir_all(&out_dir).expect("create the load build dir");
    let out = out_dir.join(format!("webhook1c-load-{}", build.name()));
    // Several test binaries may build at once: write a private file, then
    // rename it into place.
    let tmp = out_dir.join(format!(
        "webhook1c-load-{}-{}.tmp",
        build.name(),
        std::process::id()
    ));
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("tests/load")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .args(build.flags())
        .arg("-o")
        .arg(&tmp)
        .args(&sources)
        .arg("-ldl")
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(
        status.success(),
        "webhook1c-load ({}) did not compile",
        build.name()
    );
    std::fs::rename(&tmp, &out).expect("rename webhook1c-load");
    out
}
