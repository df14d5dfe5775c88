//! Bad input gets a clear one-line message naming the input, and exit status 2 for usage
//! errors or an error finding (status 1) for a bad file; never a panic.

use std::io::Write;

use crate::harness::{assert_contains, check_root_ca_file, fixture, run};

/// Run the suite with `--only root-ca-file` (no network) against a CA file.
fn root_ca_check(path: &std::path::Path) -> crate::harness::Report {
    let output = check_root_ca_file(path);
    assert_eq!(
        output.code,
        1,
        "a bad CA file is an error finding: {}",
        output.all()
    );
    assert!(!output.all().contains("panicked"), "{}", output.all());
    output.json()
}

#[test]
fn missing_ca_file_names_the_file() {
    let directory = tempfile::tempdir().expect("tempdir");
    let path = directory.path().join("no-such-root.pem");
    let report = root_ca_check(&path);
    assert_eq!(report.result("root-ca-file"), "error");
    report.assert_text_contains("root-ca-file", "no-such-root.pem");
}

#[test]
fn empty_garbage_and_key_files_are_told_apart() {
    for (name, expected) in [
        ("empty.pem", "empty"),
        ("garbage.pem", "certificate"),
        ("private-key-only.pem", "private key"),
    ] {
        let report = root_ca_check(&fixture(name));
        assert_eq!(report.result("root-ca-file"), "error", "{name}");
        let text = report.text_of("root-ca-file");
        assert!(
            text.contains(name),
            "{name}: message must name the file: {text}"
        );
        assert!(
            text.to_lowercase().contains(expected),
            "{name}: expected `{expected}` in: {text}"
        );
        assert!(
            !text.contains("PRIVATE KEY-----"),
            "{name}: key material leaked: {text}"
        );
    }
}

#[test]
fn unknown_check_id_is_a_usage_error_listing_valid_ids() {
    let output = run(&[
        "check",
        "--gateway",
        "gw.example.test",
        "--only",
        "gateway-ping",
    ]);
    assert_eq!(output.code, 2, "{}", output.all());
    assert_contains(&output.stderr, "gateway-ping");
    // The valid ids are listed.
    assert_contains(&output.stderr, "gateway-cert-chain");
}

#[test]
fn no_gateway_at_all_is_a_usage_error() {
    let output = run(&["check"]);
    assert_eq!(output.code, 2, "{}", output.all());
    assert_contains(&output.stderr, "--gateway");
}

#[test]
fn nonsense_flag_values_are_usage_errors() {
    for args in [
        &["check", "--gateway", "gw.test", "--port", "mqtt=70000"][..],
        &["check", "--gateway", "gw.test", "--port", "mqtt=0"],
        &["check", "--gateway", "gw.test", "--timeout", "-1s"],
        &["check", "--gateway", "gw.test", "--resolve", "gw.test"],
    ] {
        let output = run(args);
        assert_eq!(output.code, 2, "{args:?}: {}", output.all());
        assert!(!output.all().contains("panicked"), "{}", output.all());
    }
}

/// A SharedAccessKey that must never be printed.
const KEY: &str = "c2VjcmV0LWtleS1kby1ub3QtcHJpbnQtbWUtZXZlcg==";

/// `check --only connection-string` of `connection_string`, with `options`.
fn check_connection_string(connection_string: &str, options: &[&str]) -> crate::harness::Run {
    let mut args = vec![
        "check",
        "--connection-string",
        connection_string,
        "--only",
        "connection-string",
    ];
    args.extend_from_slice(options);
    run(&args)
}

/// A connection string to `hub.azure-devices.net` with `device` and the SharedAccessKey `KEY`,
/// and its `check_connection_string` as JSON, asserted to be an error that never shows the key.
fn connection_string_error(device: &str) -> (String, crate::harness::Run) {
    let connection_string =
        format!("HostName=hub.azure-devices.net;{device};SharedAccessKey={KEY}");
    let output = check_connection_string(&connection_string, &["--output", "json"]);
    assert_eq!(output.json().result("connection-string"), "error");
    output.assert_not_shown(KEY);
    (connection_string, output)
}

#[test]
fn malformed_connection_string_is_an_error_finding_without_the_key() {
    let (_, output) = connection_string_error("DeviceId");
    assert_eq!(output.code, 1, "{}", output.all());
}

#[test]
fn connection_string_without_gateway_says_how_to_fix_it() {
    let key = KEY;
    let (connection_string, output) = connection_string_error("DeviceId=leaf-01");
    let report = output.json();
    report.assert_text_contains("connection-string", ";GatewayHostName=");
    for format in ["text", "json"] {
        let output =
            check_connection_string(&connection_string, &["--verbose", "--output", format]);
        assert!(
            !output.all().contains(key),
            "{format}: the key leaked:\n{}",
            output.all()
        );
    }
}

#[test]
fn unknown_explain_id_suggests_the_nearest() {
    let output = run(&["explain", "gateway-cert-chian"]);
    assert_eq!(output.code, 2);
    assert_contains(&output.stderr, "gateway-cert-chain");
}

#[test]
fn a_ca_file_that_is_a_directory_is_an_error_finding() {
    let directory = tempfile::tempdir().expect("tempdir");
    let report = root_ca_check(directory.path());
    assert_eq!(report.result("root-ca-file"), "error");
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(b"   \n\n ").expect("write");
    let report = root_ca_check(file.path());
    assert_eq!(report.result("root-ca-file"), "error");
}
