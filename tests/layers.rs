//! The rule of what may import what inside `src/` (README, Architecture):
//! every `crate::<room>` a source file names must be its own room or one
//! its room may use. Comments are not code and are skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Room -> the rooms it may name.
const ALLOWED: &[(&str, &[&str])] = &[
    ("exports", &["abi"]),
    ("abi", &["host", "addin", "calendar", "exports"]),
    ("host", &[]),
    ("addin", &["host", "http", "queue", "audit"]),
    ("queue", &["http", "audit", "calendar", "os"]),
    ("audit", &["http"]),
    ("http", &[]),
    ("calendar", &[]),
    ("os", &[]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The room of a file: `src/http/pool.rs` -> `http`, `src/audit.rs` -> `audit`.
fn room(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn rooms_import_only_what_the_architecture_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut violations = Vec::new();
    for file in files {
        let room = room(&src, &file);
        if room == "lib" {
            continue;
        }
        let Some(may) = allowed.get(room.as_str()) else {
            violations.push(format!(
                "{}: room `{room}` is not in ALLOWED",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let named: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if named != room && !may.contains(&named.as_str()) {
                    violations.push(format!(
                        "{}:{}: `{room}` names crate::{named}",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
