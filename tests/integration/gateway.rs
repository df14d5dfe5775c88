//! The leaf suite through the binary against a real TLS gateway on 127.0.0.1 presenting the
//! fixture chains: ids, results, OpenSSL verify codes, remedies and exit codes.

use edgeprobe::demo::server::RunningGateway;
use edgeprobe::net::Protocol;

use crate::harness::{
    Report, Run, assert_contains, check_loopback, fixture, run, serve_fixture as serve, temp_file,
};

const GATEWAY: &str = "gateway.edgeprobe.test";

/// `edgeprobe check` against `gateway` with `ca_file`, as JSON unless `extra` says otherwise.
async fn check(gateway: &RunningGateway, ca_file: &str, extra: &[&str]) -> Run {
    let ports = gateway.ports;
    check_loopback(
        [ports.mqtt, ports.amqp, ports.https],
        &fixture(ca_file),
        "5s",
        extra,
    )
    .await
}

/// `check` against a gateway presenting `chain` (`NAME.pem` or `NAME-full-chain.pem`, with
/// `NAME.key.pem`) on every port, shut down after this one run.
async fn check_once(chain: &str, ca_file: &str, extra: &[&str]) -> Run {
    let name = chain
        .trim_end_matches(".pem")
        .trim_end_matches("-full-chain");
    let gateway = serve(chain, &format!("{name}.key.pem"), &[]).await;
    let output = check(&gateway, ca_file, extra).await;
    gateway.shutdown().await;
    output
}

/// The JSON report of `check_once` with no extra arguments.
async fn report_once(chain: &str, ca_file: &str) -> Report {
    check_once(chain, ca_file, &[]).await.json()
}

/// The OpenSSL code reported for each port by the chain check.
/// Every port's chain verified with OpenSSL code `expected`.
#[track_caller]
fn assert_every_verify_code(report: &Report, expected: u64) {
    let codes = verify_codes(report);
    assert!(
        codes.iter().all(|(_, code)| *code == expected),
        "not all {expected}: {codes:?}"
    );
}

fn verify_codes(report: &Report) -> Vec<(String, u64)> {
    report.check("gateway-cert-chain").additional_info["ports"]
        .as_array()
        .expect("ports array")
        .iter()
        .map(|port| {
            (
                port["protocol"].as_str().unwrap_or_default().to_owned(),
                port["verify_code"].as_u64().unwrap_or(999),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_gateway_is_all_ok_with_verify_code_0() {
    let gateway = serve("server-full-chain.pem", "server.key.pem", &[]).await;
    let output = check(&gateway, "root-ca.pem", &[]).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_eq!(report.verdict, "ok");
    assert_eq!(report.schema_version, edgeprobe::report::SCHEMA_VERSION);
    assert_eq!(report.tool.name, "edgeprobe");
    assert_eq!(report.tool.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        report.summary.error + report.summary.warning,
        0,
        "{:#?}",
        report.checks
    );
    // Ignored: only sdk-trust, which check_loopback leaves out (this machine's runtimes).
    assert_eq!(report.summary.ignored, 1);
    assert_eq!(
        report.summary.total,
        report.summary.ok + report.summary.skipped + report.summary.ignored
    );
    for id in [
        "gateway-hostname",
        "root-ca-file",
        "gateway-resolve",
        "gateway-connect-mqtt",
        "gateway-connect-amqp",
        "gateway-connect-https",
        "gateway-cert-chain",
        "gateway-cert-hostname",
        "gateway-cert-expiry",
    ] {
        let entry = report.check(id);
        assert_eq!(
            entry.result.result, "ok",
            "{id}: {:?}",
            entry.result.details
        );
        assert_eq!(entry.group, "Gateway connectivity");
        assert!(!entry.description.is_empty());
        assert!(entry.duration_ms >= 0.0);
    }
    assert_eq!(
        verify_codes(&report),
        vec![("mqtt".into(), 0), ("amqp".into(), 0), ("https".into(), 0)]
    );
    let chain = &report.check("gateway-cert-chain").additional_info["ports"][0]["chain"];
    assert_eq!(
        chain.as_array().map(Vec::len),
        Some(3),
        "server, device CA, intermediate"
    );
    assert_eq!(chain[0]["sans"][0], format!("DNS:{GATEWAY}"));
    assert!(
        chain[0]["sha256"].as_str().is_some_and(|f| f.len() == 95),
        "{}",
        chain[0]
    );
    for field in ["subject", "issuer", "not_before", "not_after"] {
        assert!(
            chain[0][field].is_string(),
            "chain entries carry `{field}`: {}",
            chain[0]
        );
    }
    let port = &report.check("gateway-cert-chain").additional_info["ports"][0];
    assert_eq!(port["verify_message"], "ok");
    assert!(
        !report.checks.contains_key("connection-string"),
        "only applies with a connection string"
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_text_reads_like_openssl() {
    let output = check_once(
        "server-full-chain.pem",
        "root-ca.pem",
        &["--verbose", "--output", "text"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.all());
    for expected in [
        "Verification: OK",
        "Verify return code: 0 (ok)",
        " 0 s:CN = gateway.edgeprobe.test",
        "   i:CN = gateway.edgeprobe.test.ca",
        "√ gateway certificate chain verifies",
    ] {
        assert!(
            output.stdout.contains(expected),
            "missing `{expected}` in:\n{}",
            output.stdout
        );
    }
    assert!(
        !output.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn leaf_only_chain_is_21_with_the_full_chain_fix() {
    let output = check_once("server.pem", "root-ca.pem", &[]).await;
    assert_eq!(output.code, 1);
    let report = output.json();
    assert_eq!(report.result("gateway-cert-chain"), "error");
    assert_every_verify_code(&report, 21);
    let text = report.text_of("gateway-cert-chain");
    assert_contains(
        &text,
        "Verify return code: 21 (unable to verify the first certificate)",
    );
    assert!(
        text.contains("full-chain"),
        "the fix names the full-chain file: {text}"
    );
    // The other checks still ran and passed: one fault, one finding.
    assert_eq!(report.result("gateway-cert-hostname"), "ok");
    assert_eq!(report.result("gateway-connect-mqtt"), "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_root_file_is_20_and_names_both_roots() {
    let report = report_once("server-full-chain.pem", "other-root-ca.pem").await;
    assert_every_verify_code(&report, 20);
    let text = report.text_of("gateway-cert-chain");
    assert!(
        text.contains("edgeprobe_Unrelated_Root_CA_Test_Only"),
        "names what the file holds: {text}"
    );
    assert!(
        text.contains("Azure_IoT_Hub_CA_Cert_Test_Only"),
        "names the issuer the chain needs: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn intermediate_as_trust_anchor_is_2_and_warned_about() {
    let report = report_once("server-full-chain.pem", "intermediate-only-as-root.pem").await;
    assert_eq!(
        report.result("root-ca-file"),
        "warning",
        "{}",
        report.text_of("root-ca-file")
    );
    assert_every_verify_code(&report, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_server_certificate_is_10_and_an_expiry_error() {
    let report = report_once("expired-server-full-chain.pem", "root-ca.pem").await;
    assert_every_verify_code(&report, 10);
    assert_eq!(report.result("gateway-cert-expiry"), "error");
    report.assert_text_contains("gateway-cert-expiry", "expired on Jan  1 00:00:00 2021 GMT");
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_for_another_name_is_62() {
    let report = report_once("wrong-name-server-full-chain.pem", "root-ca.pem").await;
    assert_eq!(
        report.result("gateway-cert-chain"),
        "ok",
        "the chain itself is fine"
    );
    assert_eq!(report.result("gateway-cert-hostname"), "error");
    let text = report.text_of("gateway-cert-hostname");
    assert!(
        text.contains("62 (hostname mismatch)") && text.contains("other.edgeprobe.test"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cn_only_certificate_is_a_warning_naming_strict_clients() {
    let gateway = serve(
        "cn-only-server-full-chain.pem",
        "cn-only-server.key.pem",
        &[],
    )
    .await;
    let output = check(&gateway, "root-ca.pem", &[]).await;
    let report = output.json();
    assert_eq!(report.result("gateway-cert-hostname"), "warning");
    report.assert_text_contains("gateway-cert-hostname", "rustls");
    assert_eq!(output.code, 0, "warnings alone exit 0");
    let strict = check(&gateway, "root-ca.pem", &["--warnings-as-errors"]).await;
    assert_eq!(strict.code, 1);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn post_2038_certificate_is_an_expiry_error() {
    let report = report_once("post-2038-server-full-chain.pem", "root-ca.pem").await;
    assert_eq!(report.result("gateway-cert-expiry"), "error");
    report.assert_text_contains("gateway-cert-expiry", "2038");
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_port_is_refused_and_the_others_are_still_verified() {
    let gateway = serve("server-full-chain.pem", "server.key.pem", &[Protocol::Amqp]).await;
    let output = check(&gateway, "root-ca.pem", &[]).await;
    assert_eq!(output.code, 1);
    let report = output.json();
    assert_eq!(report.result("gateway-connect-amqp"), "error");
    assert_eq!(
        report.check("gateway-connect-amqp").additional_info["error"],
        "refused"
    );
    report.assert_text_contains("gateway-connect-amqp", "PortBindings");
    assert_eq!(report.result("gateway-connect-mqtt"), "ok");
    assert_eq!(report.result("gateway-cert-chain"), "ok");
    assert_eq!(
        verify_codes(&report),
        vec![("mqtt".into(), 0), ("https".into(), 0)]
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unresolvable_name_skips_dependents_with_the_reason() {
    // A name with no override, looked up in an empty hosts file and a DNS server on a closed
    // loopback port: nothing leaves the machine.
    let (_directory, hosts) = temp_file("hosts", "127.0.0.1 localhost\n");
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let dns = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let output = run(&[
        "check",
        "--gateway",
        "unknown.edgeprobe.test",
        "--hosts-file",
        hosts.to_str().expect("path"),
        "--dns-server",
        &dns,
        "--ca-file",
        fixture("root-ca.pem").to_str().expect("path"),
        "--timeout",
        "500ms",
        "--output",
        "json",
    ]);
    let report = output.json();
    assert_eq!(output.code, 1);
    assert_eq!(report.result("gateway-resolve"), "error");
    report.assert_text_contains("gateway-resolve", "unknown.edgeprobe.test");
    for id in ["gateway-connect-mqtt", "gateway-cert-chain"] {
        assert_eq!(report.result(id), "skipped");
        assert!(
            !report.check(id).result.details.is_empty(),
            "{id}: the skip reason is kept"
        );
    }
}

/// `--skip` (and iotedge's spelling, `--dont-run`) reports the excluded check as `ignored`, as
/// `iotedge check --dont-run` does; `skipped` stays for the checks whose prerequisite is missing,
/// and their reason names the exclusion.
#[test]
fn excluded_checks_are_ignored_and_their_dependents_skipped() {
    for flag in ["--skip", "--dont-run"] {
        let output = run(&[
            "check",
            "--gateway",
            "gw.edgeprobe.test",
            "--ca-file",
            fixture("root-ca.pem").to_str().expect("path"),
            flag,
            "gateway-resolve",
            "--output",
            "json",
        ]);
        let report = output.json();
        assert_eq!(report.result("gateway-resolve"), "ignored", "{flag}");
        assert_eq!(report.summary.ignored, 1, "{flag}");
        assert_eq!(report.result("gateway-connect-mqtt"), "skipped", "{flag}");
        assert!(
            report
                .text_of("gateway-connect-mqtt")
                .contains("excluded with --skip"),
            "{flag}: {}",
            report.text_of("gateway-connect-mqtt")
        );
        // Nothing failed, nothing was judged: not a success either.
        assert_ne!(report.summary.ok, report.summary.total, "{flag}");
    }
}
