//! The catalogue, man pages and completions stay in step with the code.

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::{assert_contains, registered_check_ids, run};

#[test]
fn every_check_has_a_page_and_every_page_a_check() {
    let registered = registered_check_ids();
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    let pages: BTreeSet<String> = std::fs::read_dir(&directory)
        .expect("checks/ exists")
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".md")
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        registered, pages,
        "checks/<id>.md must match the registry one to one"
    );
    for id in &registered {
        let page = edgeprobe::checks::explanation(id).expect("page compiled in");
        assert!(
            page.starts_with(&format!("# {id}")),
            "{id}: page must open with its id"
        );
        assert!(
            page.contains("## How it can fail"),
            "{id}: page must say how it fails and how to fix it"
        );
    }
}

#[test]
fn list_and_explain_read_the_registry() {
    let output = run(&["list"]);
    assert_eq!(output.code, 0);
    for check in edgeprobe::checks::all_checks() {
        assert!(
            output.stdout.contains(check.id()),
            "list misses {}",
            check.id()
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&run(&["list", "-o", "json"]).stdout).expect("json");
    let field_of = |id: &str, field: &str| {
        json["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|check| check["id"] == id))
            .map(|check| check[field].clone())
    };
    let suite_of = |id: &str| field_of(id, "suite");
    // iotedge check's ids for the same check (src/checks/iotedge_ids.rs), empty for none.
    assert_eq!(
        field_of("iothub-connect-mqtt", "iotedge_ids"),
        Some(serde_json::json!([
            "host-connect-iothub-mqtt",
            "host-connect-upstream-mqtt"
        ]))
    );
    assert_eq!(
        field_of("gateway-cert-chain", "iotedge_ids"),
        Some(serde_json::json!([]))
    );
    assert_eq!(suite_of("gateway-cert-chain"), Some("leaf".into()));
    assert_eq!(suite_of("device-ca-chain"), Some("gateway".into()));
    assert_eq!(suite_of("connection-string"), Some("both".into()));
    assert_eq!(
        json["checks"].as_array().map(Vec::len),
        Some(edgeprobe::checks::all_checks().len())
    );
    let explained = run(&["explain", "gateway-cert-chain"]);
    assert_eq!(explained.code, 0);
    assert!(
        explained
            .stdout
            .contains("unable to get local issuer certificate"),
        "{}",
        explained.stdout
    );
}

#[test]
fn man_pages_are_current() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let rendered = edgeprobe::manpages::render_all().expect("render");
    for (name, page) in &rendered {
        let on_disk = std::fs::read(directory.join(name)).unwrap_or_default();
        assert!(
            on_disk == *page,
            "man/{name} is out of date with the CLI: run `{}`",
            edgeprobe::manpages::REGENERATE
        );
    }
    let files = std::fs::read_dir(&directory).expect("man/ exists").count();
    assert_eq!(
        files,
        rendered.len(),
        "man/ holds pages for commands that no longer exist"
    );
}

/// What `man edgeprobe-check` shows a newcomer: a NAME line that fits on one line, a SYNOPSIS
/// with the command as typed (`edgeprobe check`), and no markdown quoting left in the roff.
#[test]
fn man_pages_read_like_man_pages() {
    for (name, page) in edgeprobe::manpages::render_all().expect("render") {
        let page = String::from_utf8(page).expect("roff is UTF-8");
        let lines: Vec<&str> = page.lines().collect();
        let section = |title: &str| {
            let at = lines
                .iter()
                .position(|line| *line == format!(".SH {title}"))
                .unwrap_or_else(|| panic!("{name} has no {title} section"));
            lines[at + 1]
        };
        let name_line = section("NAME").replace("\\*(Aq", "'").replace('\\', "");
        assert!(
            name_line.len() <= 80,
            "{name}: NAME is {} characters: {name_line}",
            name_line.len()
        );
        assert!(!page.contains('`'), "{name} has literal backticks");
        if let Some(command) = name.strip_prefix("edgeprobe-") {
            let command = command.trim_end_matches(".1");
            assert!(
                section("SYNOPSIS").starts_with(&format!("\\fBedgeprobe {command}\\fR")),
                "{name}: SYNOPSIS is {}",
                section("SYNOPSIS")
            );
        }
    }
}

#[test]
fn help_subcommand_works_alone_and_with_a_command() {
    let alone = run(&["help"]);
    assert_eq!(alone.code, 0, "{}", alone.stderr);
    assert_contains(&alone.stdout, "Usage: edgeprobe");
    let check = run(&["help", "check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_contains(&check.stdout, "--ca-file");
}

#[test]
fn man_pages_render_without_warnings() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let Ok(output) = std::process::Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .args(
            std::fs::read_dir(&directory)
                .expect("man/")
                .filter_map(|entry| Some(entry.ok()?.path())),
        )
        .output()
    else {
        assert!(
            std::env::var("CI").is_err(),
            "groff is missing on CI: scripts/test must install groff-base"
        );
        return;
    };
    let warnings = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && warnings.trim().is_empty(),
        "groff warnings:\n{warnings}"
    );
}

#[test]
fn completions_are_generated_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = run(&["completions", shell]);
        assert_eq!(output.code, 0, "{shell}: {}", output.stderr);
        assert!(
            output.stdout.contains("ca-file"),
            "{shell} completion lacks the flags"
        );
    }
}

/// Asserts that `text` holds each of `parts`; the failure says "`what` `part`".
#[track_caller]
fn assert_says(text: &str, what: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{what} `{part}`");
    }
}

/// The release build is not run by CI (it needs Debian's multiarch standard libraries, cross gcc
/// and qemu-user, and minutes of fat-LTO builds), so this test pins what the README documents:
/// the command, the glibc targets with Debian's toolchain, the musl targets it reports when it
/// cannot build them, the 5 MiB goal and the runs on each binary.
#[test]
fn release_command_is_documented_and_checks_what_it_promises() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(
        readme.contains("bash scripts/release"),
        "README documents the release command"
    );
    let script = std::fs::read_to_string(root.join("scripts/release")).expect("scripts/release");
    assert_says(
        &script,
        "scripts/release no longer mentions",
        &[
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "armv7-unknown-linux-gnueabihf",
            "unknown-linux-musl",
            "dpkg --add-architecture",
            "libstd-rust-web-dev",
            "rustc-web",
            "/usr/bin/cargo",
            "5 * 1024 * 1024",
            "--version",
            "demo",
            "qemu-aarch64",
            "qemu-arm",
            "not built",
        ],
    );
    assert_says(
        &readme,
        "README's release section no longer names",
        &[
            "aarch64-unknown-linux-gnu",
            "armv7-unknown-linux-gnueabihf",
            "rustc-web",
        ],
    );
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert_says(
        &manifest,
        "release profile lost",
        &[
            "opt-level = \"s\"",
            "lto = \"fat\"",
            "codegen-units = 1",
            "strip = true",
            "panic = \"abort\"",
        ],
    );
}
