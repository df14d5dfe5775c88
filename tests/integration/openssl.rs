//! The `openssl` command line as the tests drive it: whether it is installed, its version,
//! and running it in a directory where a failure stops the test with OpenSSL's own words.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The start of every openssl.cnf the tests write: `openssl req` needs a distinguished name
/// section even when `-subj` gives the name, and must not prompt for one.
const REQUEST_SECTIONS: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
";

/// Writes `directory/openssl.cnf`: [`REQUEST_SECTIONS`] and then the extension `sections`.
pub fn write_config(directory: &Path, sections: &str) -> PathBuf {
    let config = directory.join("openssl.cnf");
    std::fs::write(&config, [REQUEST_SECTIONS, sections].concat()).expect("write openssl.cnf");
    config
}

/// Whether `openssl` runs; when it does not, says which `cases` are skipped.
pub fn present(cases: &str) -> bool {
    let present = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !present {
        eprintln!("note: the openssl binary is absent; {cases} skipped");
    }
    present
}

/// `openssl version`'s line ("OpenSSL 3.0.19 27 Jan 2026 (Library: ...)"), or empty when it
/// does not run.
pub fn version() -> String {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Runs `openssl arguments..` in `directory`; panics with its stderr when it fails.
pub fn run<S: AsRef<OsStr>>(directory: &Path, arguments: &[S]) {
    let output = Command::new("openssl")
        .args(arguments)
        .current_dir(directory)
        .output()
        .expect("openssl runs (scripts/test installs it)");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        arguments
            .iter()
            .map(|argument| argument.as_ref().to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
