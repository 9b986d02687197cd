//! Builds `webhook1c-load` (`tests/load/`), the multi-threaded C program
//! that plays the 1C host for load, memory and cold-start runs, once per
//! test binary and build kind, with the C it shares with the test host
//! (`tests/common/`). Its interface is described at the top of
//! `tests/load/main.c`.

use std::path::PathBuf;
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
            LoadBuild::Asan => super::host::ASAN_FLAGS,
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
/// test binary into `CARGO_TARGET_TMPDIR/c-load/`.
pub fn load_binary(build: LoadBuild) -> PathBuf {
    build.cell().get_or_init(|| compile(build)).clone()
}

fn compile(build: LoadBuild) -> PathBuf {
    let mut flags = vec!["-pthread"];
    flags.extend(build.flags());
    super::host::compile_c("load", &format!("webhook1c-load-{}", build.name()), &flags)
}
