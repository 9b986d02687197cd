//! Replays the committed fuzz corpus (`tests/fuzz/corpus/vtable/`) through
//! the fuzz harness on stable Rust: every input is one host session against
//! the real exports and vtable entries, which checks that the add-in neither
//! panics nor leaks or foreign-frees a host block, that failures are
//! reported through AddError, and that every object is destroyed. The
//! campaign that grows the corpus is `tests/fuzz/run.sh` (nightly, ASan).

#[path = "fuzz/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn the_committed_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/vtable");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "the corpus {} has only {} inputs",
        dir.display(),
        files.len()
    );

    // Inputs that need no corpus: the empty one and two trivial sessions.
    let mut inputs: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("create and destroy".into(), vec![0]),
        ("no class".into(), vec![0, 13]),
    ];
    for path in &files {
        let data = std::fs::read(path).expect("read a corpus file");
        assert!(
            data.len() <= 16 * 1024,
            "{}: keep inputs small",
            path.display()
        );
        inputs.push((path.display().to_string(), data));
    }

    let before = harness::stats();
    for (name, data) in &inputs {
        eprintln!("replaying {name} ({} bytes)", data.len());
        harness::run_one(data);
    }
    // The tour calls every entry for every member in both languages.
    harness::run_tour();
    let after = harness::stats();
    eprintln!("{after:?}");

    assert_eq!(after.sessions - before.sessions, inputs.len() as u64 + 1);
    let created = after.objects_created - before.objects_created;
    let destroyed = after.objects_destroyed - before.objects_destroyed;
    assert!(created >= files.len() as u64 / 2, "{created} objects");
    assert_eq!(created, destroyed, "every object is destroyed");
    assert_eq!(
        after.host_allocations - before.host_allocations,
        after.host_frees - before.host_frees,
        "every host block is freed"
    );
    assert!(
        after.calls - before.calls >= 20 * files.len() as u64,
        "the corpus exercises the vtables ({} calls)",
        after.calls - before.calls
    );
    assert!(after.add_errors > before.add_errors, "some calls fail");

    let _ = std::fs::remove_dir_all(harness::scratch_dir());
}
