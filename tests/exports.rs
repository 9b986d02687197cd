//! The library's dynamic symbol table: exactly the five Native API exports,
//! undecorated.

mod support;

use std::process::Command;

#[test]
#[cfg(target_os = "linux")]
fn exports_exactly_the_five_native_api_functions() {
    let lib = support::host::library();
    let output = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("run nm (binutils)");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let mut names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "DestroyObject",
            "GetAttachType",
            "GetClassNames",
            "GetClassObject",
            "SetPlatformCapabilities"
        ],
        "nm -D --defined-only {}:\n{text}",
        lib.display()
    );
    for line in text.lines() {
        assert!(line.contains(" T "), "not a text symbol: {line}");
    }
}
