//! Build-time facts for the library:
//! - the git commit, exposed to the code as `WEBHOOK1C_GIT_COMMIT` (shown in
//!   the Version property);
//! - on Windows, a version resource (product name, version, description) so
//!   that the DLL's Properties dialog and 1C's diagnostics show what it is;
//! - on Linux, `-z nodelete`, so that dlclose keeps the library mapped while
//!   the connection pool's threads live.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = git_commit();
    println!("cargo:rustc-env=WEBHOOK1C_GIT_COMMIT={commit}");
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        println!("cargo:rerun-if-changed={path}");
    }

    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete"),
        Ok("windows") => windows_resource(&version, &commit),
        _ => {}
    }
}

fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn windows_resource(version: &str, commit: &str) {
    let numbers: Vec<u16> = version
        .split(['.', '-', '+'])
        .take(3)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    let (major, minor, patch) = (
        numbers[0],
        numbers.get(1).copied().unwrap_or(0),
        numbers.get(2).copied().unwrap_or(0),
    );
    let full = if commit.is_empty() {
        version.to_string()
    } else {
        format!("{version}+{commit}")
    };
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let file = if arch == "x86" {
        "webhook1c_x86.dll"
    } else {
        "webhook1c_x64.dll"
    };
    let rc = format!(
        r#"#include <winver.h>
1 VERSIONINFO
FILEVERSION {major},{minor},{patch},0
PRODUCTVERSION {major},{minor},{patch},0
FILEFLAGSMASK 0x3fL
FILEFLAGS 0x0L
FILEOS VOS_NT_WINDOWS32
FILETYPE VFT_DLL
FILESUBTYPE VFT2_UNKNOWN
BEGIN
    BLOCK "StringFileInfo"
    BEGIN
        BLOCK "040904b0"
        BEGIN
            VALUE "CompanyName", "Webhook1C\0"
            VALUE "FileDescription", "Webhook1C: 1C:Enterprise add-in for webhooks and HTTP requests\0"
            VALUE "FileVersion", "{full}\0"
            VALUE "InternalName", "webhook1c\0"
            VALUE "LegalCopyright", "MIT OR Apache-2.0\0"
            VALUE "OriginalFilename", "{file}\0"
            VALUE "ProductName", "Webhook1C\0"
            VALUE "ProductVersion", "{version}\0"
        END
    END
    BLOCK "VarFileInfo"
    BEGIN
        VALUE "Translation", 0x409, 1200
    END
END
"#
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("webhook1c.rc");
    std::fs::write(&out, rc).expect("write the resource script");
    embed_resource::compile_for_cdylib(&out, embed_resource::NONE)
        .manifest_optional()
        .unwrap_or_else(|e| {
            panic!("cannot compile the version resource (is mingw's windres installed?): {e}")
        });
}
