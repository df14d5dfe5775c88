//! Fleet mode through the binary: `check --targets` against a simulated gateway on 127.0.0.1
//! presenting a generated `*.edgeprobe.test` chain, with every target name mapped to 127.0.0.1
//! by a hosts file. Good targets, a wrong CA file, a missing CA file, a malformed line and a
//! closed port; results read back as a consumer reads them (JSON, JSON Lines, and Prometheus
//! through a strict parser of the format).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use edgeprobe::demo::pki::{CertificateSpec, GatewayPki, Validity};
use edgeprobe::demo::server::{RunningGateway, SimulatorConfig, start};
use edgeprobe::net::Protocol;
use openmetrics_parser::PrometheusType;
use serde::Deserialize;
use tempfile::TempDir;
use time::OffsetDateTime;

use crate::harness::{
    NOT_THIS_MACHINES_SDKS, Run, Schema, assert_valid, edgeprobe, edgeprobe_trusting, fixture, run,
    temp_file,
};

/// A gateway PKI whose server certificate is valid for every `gw-NNN.edgeprobe.test`, served
/// on three loopback ports (minus `closed`), with the files a fleet run needs.
struct Fleet {
    gateway: RunningGateway,
    directory: TempDir,
    not_after: i64,
}

impl Fleet {
    async fn start(closed: &[Protocol]) -> Fleet {
        Fleet::start_with(closed, |_| {}).await
    }

    /// [`Fleet::start`] with the simulator's configuration adjusted by `adjust`.
    async fn start_with(closed: &[Protocol], adjust: impl FnOnce(&mut SimulatorConfig)) -> Fleet {
        let now = OffsetDateTime::now_utc();
        let pki = GatewayPki::generate("gateway.edgeprobe.test", now).expect("PKI");
        let server = pki
            .issue_from_device_ca(&CertificateSpec::tls_server(
                "*.edgeprobe.test",
                Validity::around(now, 1, 90).expect("validity"),
            ))
            .expect("wildcard server certificate");
        let directory = tempfile::tempdir().expect("temporary directory");
        std::fs::write(directory.path().join("root.pem"), pki.root_pem()).expect("root file");
        std::fs::copy(
            fixture("other-root-ca.pem"),
            directory.path().join("wrong-root.pem"),
        )
        .expect("wrong root file");
        let mut config =
            SimulatorConfig::loopback(pki.chain_with(&server), server.key_der(), closed.to_vec());
        adjust(&mut config);
        let gateway = start(config).await.expect("simulator starts");
        let not_after = server.spec.validity.not_after.unix_timestamp();
        Fleet {
            gateway,
            directory,
            not_after,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// Writes the targets file and a hosts file mapping every name in it to 127.0.0.1.
    fn write_targets(&self, lines: &[String]) -> PathBuf {
        let mut hosts = String::from("127.0.0.1 localhost\n");
        for line in lines {
            if let Some(name) = line
                .split_whitespace()
                .next()
                .filter(|name| name.starts_with("gw-"))
            {
                hosts.push_str(&format!("127.0.0.1 {name}\n"));
            }
        }
        std::fs::write(self.path("hosts"), hosts).expect("hosts file");
        let targets = self.path("targets.txt");
        std::fs::write(&targets, lines.join("\n") + "\n").expect("targets file");
        targets
    }

    /// The common arguments: hosts file, ports, the good root as the default CA file, and a
    /// DNS server on a closed loopback port, so no query can ever leave 127.0.0.1.
    fn args(&self, targets: &str, output: &str) -> Vec<String> {
        let ports = self.gateway.ports;
        let closed_dns = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|socket| socket.local_addr())
            .expect("a free loopback port");
        vec![
            "check".into(),
            "--targets".into(),
            targets.into(),
            "--ca-file".into(),
            self.path("root.pem").display().to_string(),
            "--hosts-file".into(),
            self.path("hosts").display().to_string(),
            "--dns-server".into(),
            closed_dns.to_string(),
            "--port".into(),
            format!("mqtt={}", ports.mqtt),
            "--port".into(),
            format!("amqp={}", ports.amqp),
            "--port".into(),
            format!("https={}", ports.https),
            "--timeout".into(),
            "5s".into(),
            "--concurrency".into(),
            "8".into(),
            "--output".into(),
            output.into(),
        ]
    }
}

/// Runs the binary off the runtime's threads (the simulator needs them).
async fn run_async(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}

// ---- The fleet result, as a consumer reads it (docs/json-schema.md, "Fleet mode") ----

use crate::consumer::{SummaryOut, sample};

type Document = crate::consumer::Document<TargetOut>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetOut {
    line: usize,
    gateway: String,
    ca_file: Option<String>,
    verdict: String,
    checks: BTreeMap<String, String>,
    problems: Vec<ProblemOut>,
    ports: Vec<PortOut>,
    dns_lookup_seconds: Option<f64>,
    elapsed_ms: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemOut {
    check: String,
    status: String,
    message: String,
    remedy: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortOut {
    protocol: String,
    port: u16,
    status: String,
    error: Option<String>,
    connect_seconds: Option<f64>,
    handshake_seconds: Option<f64>,
    verify_code: Option<u32>,
    cert_not_after: Option<i64>,
    tls_version: Option<String>,
    protocol_seconds: Option<f64>,
    certificate: Option<CertificateOut>,
    chain_not_after: Option<i64>,
    verified_chain_not_after: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateOut {
    fingerprint_sha256: String,
    subject: String,
    issuer: String,
    subject_alternative_names: String,
}

/// What each line of the mixed targets file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Good,
    WrongCa,
    MissingCa,
    Malformed,
}

/// The name of fleet gateway `index`: `gw-007.edgeprobe.test`.
fn gateway_name(index: usize) -> String {
    format!("gw-{index:03}.edgeprobe.test")
}

/// The names of fleet gateways 1 to `count`, one target line each.
fn gateway_names(count: usize) -> Vec<String> {
    (1..=count).map(gateway_name).collect()
}

/// 30 gateways: every fifth trusts the wrong root, one names a CA file that does not exist,
/// plus a comment, a blank line and one malformed line. Returns the lines and, by line
/// number, what each target is.
fn mixed_targets() -> (Vec<String>, BTreeMap<usize, (Kind, String)>) {
    let mut lines = vec!["# gateways of plant 3".to_owned(), String::new()];
    let mut kinds = BTreeMap::new();
    for index in 1..=30 {
        let name = gateway_name(index);
        let (kind, line) = match index {
            7 => (Kind::MissingCa, format!("{name} missing.pem")),
            _ if index % 5 == 0 => (
                Kind::WrongCa,
                format!("{name}   wrong-root.pem  # old root"),
            ),
            _ => (Kind::Good, name.clone()),
        };
        lines.push(line);
        kinds.insert(lines.len(), (kind, name));
    }
    lines.push("gw-999.edgeprobe.test root.pem surplus-field".to_owned());
    kinds.insert(
        lines.len(),
        (Kind::Malformed, "gw-999.edgeprobe.test".to_owned()),
    );
    (lines, kinds)
}

fn assert_target(target: &TargetOut, kind: Kind, name: &str, fleet: &Fleet, ports: &[u16; 3]) {
    match kind {
        Kind::Good => {
            assert_eq!(target.gateway, name);
            assert_eq!(target.verdict, "ok", "{target:#?}");
            assert!(target.problems.is_empty(), "{target:#?}");
            assert_eq!(target.checks["gateway-cert-chain"], "ok");
            assert_eq!(target.checks["gateway-cert-hostname"], "ok");
            assert_eq!(
                target.ca_file.as_deref(),
                Some(fleet.path("root.pem").display().to_string().as_str()),
                "no CA file on the line: the global --ca-file"
            );
            let seen: Vec<(String, u16, Option<u32>)> = target
                .ports
                .iter()
                .map(|port| (port.protocol.clone(), port.port, port.verify_code))
                .collect();
            assert_eq!(
                seen,
                vec![
                    ("mqtt".into(), ports[0], Some(0)),
                    ("amqp".into(), ports[1], Some(0)),
                    ("https".into(), ports[2], Some(0)),
                ]
            );
            for port in &target.ports {
                assert_eq!(port.status, "ok");
                assert_eq!(port.error, None);
                assert_eq!(port.cert_not_after, Some(fleet.not_after));
                assert!(port.connect_seconds.is_some_and(|seconds| seconds >= 0.0));
                assert!(port.handshake_seconds.is_some_and(|seconds| seconds > 0.0));
                assert!(port.protocol_seconds.is_some_and(|seconds| seconds >= 0.0));
                assert!(matches!(
                    port.tls_version.as_deref(),
                    Some("TLSv1.3" | "TLSv1.2")
                ));
                let certificate = port.certificate.as_ref().expect("the leaf, described");
                assert_eq!(certificate.fingerprint_sha256.len(), 64, "{certificate:?}");
                assert!(!certificate.subject.is_empty() && !certificate.issuer.is_empty());
                assert!(!certificate.subject_alternative_names.is_empty());
                // The fixture's chain: every certificate lasts at least as long as the leaf, so
                // the earliest expiry is the leaf's, along the presented and the verified chain.
                assert_eq!(port.chain_not_after, Some(fleet.not_after));
                assert_eq!(port.verified_chain_not_after, Some(fleet.not_after));
            }
            assert!(
                target
                    .dns_lookup_seconds
                    .is_some_and(|seconds| seconds >= 0.0)
            );
            assert!(target.elapsed_ms > 0.0);
        }
        Kind::WrongCa => {
            assert_eq!(target.verdict, "error", "{target:#?}");
            assert_eq!(
                target.ca_file.as_deref(),
                Some(fleet.path("wrong-root.pem").display().to_string().as_str()),
                "a relative CA file is found next to the targets file"
            );
            assert_eq!(target.checks["gateway-cert-chain"], "error");
            let codes: Vec<Option<u32>> =
                target.ports.iter().map(|port| port.verify_code).collect();
            assert!(
                target
                    .ports
                    .iter()
                    .all(|port| port.verified_chain_not_after.is_none()),
                "no verified chain, no verified-chain expiry"
            );
            assert_eq!(
                codes,
                vec![Some(20); 3],
                "unable to get local issuer certificate"
            );
            let problem = target
                .problems
                .iter()
                .find(|problem| problem.check == "gateway-cert-chain")
                .expect("the chain problem is reported");
            assert_eq!(problem.status, "error");
            assert!(
                problem.message.contains("Verify return code: 20"),
                "{problem:?}"
            );
            assert!(problem.remedy.is_some());
        }
        Kind::MissingCa => {
            assert_eq!(target.verdict, "error");
            assert_eq!(target.checks["root-ca-file"], "error");
            assert_eq!(target.checks["gateway-cert-chain"], "skipped");
            assert!(
                target.problems[0].message.contains("missing.pem"),
                "{:?}",
                target.problems
            );
        }
        Kind::Malformed => {
            assert_eq!(target.verdict, "error");
            assert!(target.checks.is_empty());
            assert_eq!(target.problems[0].check, "targets-file");
            assert!(
                target.problems[0].message.contains("found 3 fields"),
                "{:?}",
                target.problems
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_document_has_a_result_per_target_and_exit_code_one() {
    let fleet = Fleet::start(&[]).await;
    let (lines, kinds) = mixed_targets();
    let targets = fleet.write_targets(&lines);
    let output = run_async(fleet.args(&targets.display().to_string(), "json")).await;
    assert_eq!(output.code, 1, "{}", output.all());
    assert_eq!(
        output.stderr, "",
        "no progress bar when stderr is not a terminal"
    );
    assert_valid(
        Schema::Fleet,
        &serde_json::from_str(&output.stdout).unwrap_or_default(),
    );
    let document: Document = serde_json::from_str(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}\n{}", output.stdout));
    assert_eq!(document.schema_version, edgeprobe::report::SCHEMA_VERSION);
    assert_eq!(document.tool["name"], "edgeprobe");
    assert_eq!(document.ports["mqtt"], fleet.gateway.ports.mqtt);
    assert_eq!(document.verdict, "error");
    assert!(document.elapsed_ms > 0);
    let count = |kind| kinds.values().filter(|(other, _)| *other == kind).count();
    assert_eq!(
        document.summary,
        SummaryOut {
            total: 31,
            ok: count(Kind::Good),
            warning: 0,
            error: 31 - count(Kind::Good),
        }
    );
    assert_eq!(count(Kind::Good), 23);

    let ports = [
        fleet.gateway.ports.mqtt,
        fleet.gateway.ports.amqp,
        fleet.gateway.ports.https,
    ];
    let by_line: BTreeMap<usize, &TargetOut> = document
        .targets
        .iter()
        .map(|target| (target.line, target))
        .collect();
    assert_eq!(
        by_line.keys().copied().collect::<BTreeSet<_>>(),
        kinds.keys().copied().collect::<BTreeSet<_>>(),
        "one result per target line, none for comments or blank lines"
    );
    for (line, (kind, name)) in &kinds {
        assert_target(by_line[line], *kind, name, &fleet, &ports);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonl_streams_one_object_per_target_and_text_ends_with_totals() {
    let fleet = Fleet::start(&[]).await;
    let (lines, kinds) = mixed_targets();
    let targets = fleet.write_targets(&lines);
    let ports = [
        fleet.gateway.ports.mqtt,
        fleet.gateway.ports.amqp,
        fleet.gateway.ports.https,
    ];

    let output = run_async(fleet.args(&targets.display().to_string(), "jsonl")).await;
    assert_eq!(output.code, 1, "{}", output.all());
    for line in output.stdout.lines() {
        assert_valid(
            Schema::TargetResult,
            &serde_json::from_str(line).unwrap_or_default(),
        );
    }
    let results: Vec<TargetOut> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect();
    assert_eq!(results.len(), kinds.len());
    for result in &results {
        let (kind, name) = &kinds[&result.line];
        assert_target(result, *kind, name, &fleet, &ports);
    }

    let output = run_async(fleet.args(&targets.display().to_string(), "text")).await;
    assert_eq!(output.code, 1, "{}", output.all());
    for (kind, name) in kinds.values() {
        let row = output
            .stdout
            .lines()
            .find(|row| !row.starts_with(' ') && row.split_whitespace().any(|field| field == name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", output.stdout));
        let status = if *kind == Kind::Good { "ok " } else { "error " };
        assert!(row.starts_with(status), "{row}");
    }
    assert!(
        output
            .stdout
            .contains("\n31 gateway(s): 23 ok, 0 with warnings, 8 with errors, in "),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_good_targets_exit_zero_and_stdin_works() {
    let fleet = Fleet::start(&[]).await;
    let lines = gateway_names(20);
    fleet.write_targets(&lines);
    let mut child = edgeprobe_trusting(&fleet.path("root.pem"))
        .args(fleet.args("-", "jsonl"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = lines.join("\n");
    let output = tokio::task::spawn_blocking(move || {
        stdin
            .write_all(input.as_bytes())
            .expect("write the targets");
        drop(stdin);
        child.wait_with_output().expect("the binary ran")
    })
    .await
    .expect("joined");
    let output = Run::from(output);
    assert_eq!(output.code, 0, "{}", output.all());
    let gateways: BTreeSet<String> = output
        .stdout
        .lines()
        .map(|line| {
            let result: TargetOut = serde_json::from_str(line).expect("a result");
            assert_eq!(result.verdict, "ok", "{result:#?}");
            result.gateway
        })
        .collect();
    assert_eq!(gateways, lines.iter().cloned().collect());
}

/// Issue 12: a gateway that serves fewer connections at once than a fleet run opens makes
/// the surplus wait (in the listen backlog) instead of closing them, so a fleet run never
/// reports a healthy gateway as broken because the server was busy. 200 gateways at
/// `--concurrency 64` open up to 128 connections per port at once (the connect check's and
/// the protocol probe's); the simulator here serves 8 per port.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_gateway_queues_connections_and_no_target_gets_a_false_error() {
    let fleet = Fleet::start_with(&[], |config| config.max_connections_per_port = 8).await;
    let lines = gateway_names(200);
    let targets = fleet.write_targets(&lines);
    let mut args = fleet.args(&targets.display().to_string(), "jsonl");
    let set = |args: &mut Vec<String>, flag: &str, value: &str| {
        let position = args.iter().position(|arg| arg == flag).expect("flag");
        args[position + 1] = value.to_owned();
    };
    set(&mut args, "--concurrency", "64");
    // A deadline, not a measurement: generous so a loaded CI machine cannot time out.
    set(&mut args, "--timeout", "60s");
    let output = run_async(args).await;
    let results: Vec<TargetOut> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect();
    let failed: Vec<&TargetOut> = results
        .iter()
        .filter(|result| result.verdict != "ok")
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 200 gateways failed, first: {:#?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(results.len(), 200, "{}", output.stderr);
    assert_eq!(output.code, 0, "{}", output.all());
}

/// Issue 12: running out of file descriptors is this machine's limit, reported with the
/// `ulimit -n` fix, never as the gateways' or the network's fault. `ulimit -n 40` in sh sets
/// the hard limit too, so fleet mode's raise of the soft limit to the hard one cannot lift
/// it; 64 gateways at once need about 192 sockets.
#[tokio::test(flavor = "multi_thread")]
async fn running_out_of_file_descriptors_is_reported_as_the_local_limit() {
    let fleet = Fleet::start(&[]).await;
    let lines = gateway_names(200);
    let targets = fleet.write_targets(&lines);
    let mut args = fleet.args(&targets.display().to_string(), "jsonl");
    let position = args
        .iter()
        .position(|arg| arg == "--concurrency")
        .expect("flag");
    args[position + 1] = "64".to_owned();
    let root = fleet.path("root.pem");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 40 && exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_edgeprobe"))
            .args(&args)
            .env_remove("EDGEPROBE_CONNECTION_STRING")
            .env_remove("SSL_CERT_DIR")
            // The root is in this device's OS store (see harness::edgeprobe_trusting).
            .env("SSL_CERT_FILE", &root)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs")
    })
    .await
    .map(Run::from)
    .expect("joined");
    assert_eq!(output.code, 1, "{}", output.all());
    let results: Vec<TargetOut> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect();
    assert_eq!(results.len(), 200, "{}", output.stderr);
    let problems: Vec<&ProblemOut> = results.iter().flat_map(|result| &result.problems).collect();
    assert!(!problems.is_empty(), "some gateway must have hit the limit");
    for problem in &problems {
        assert!(
            problem.check.starts_with("gateway-connect-")
                || problem.check.starts_with("gateway-protocol-"),
            "only sockets run out: {problem:#?}"
        );
        assert!(
            problem
                .message
                .contains("open files limit (`ulimit -n` is 40)")
                && problem
                    .message
                    .contains("a local limit, not a network or gateway problem"),
            "{problem:#?}"
        );
        let remedy = problem.remedy.as_deref().unwrap_or_default();
        assert!(remedy.contains("`ulimit -n 4096`"), "{problem:#?}");
        for network in ["unreachable", "network path", "firewall", "edgeHub"] {
            assert!(!remedy.contains(network), "{problem:#?}");
        }
    }
    for port in results.iter().flat_map(|result| &result.ports) {
        assert!(
            matches!(port.error.as_deref(), None | Some("open_files_limit")),
            "{port:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_output_parses_with_the_expected_series() {
    let fleet = Fleet::start(&[Protocol::Amqp]).await;
    let lines = gateway_names(20);
    let targets = fleet.write_targets(&lines);
    let output = run_async(fleet.args(&targets.display().to_string(), "prometheus")).await;
    assert_eq!(
        output.code,
        1,
        "the closed AMQP port is an error: {}",
        output.all()
    );

    let exposition = output.prometheus();
    for name in [
        "edgeprobe_check_status",
        "edgeprobe_verify_code",
        "probe_ssl_earliest_cert_expiry",
        "edgeprobe_connect_seconds",
        "edgeprobe_handshake_seconds",
    ] {
        let family = exposition
            .families
            .get(name)
            .unwrap_or_else(|| panic!("no {name}:\n{}", output.stdout));
        assert_eq!(family.family_type, PrometheusType::Gauge, "{name}");
        assert!(!family.help.is_empty(), "{name}");
        let expected_labels = if name == "edgeprobe_check_status" {
            ["check", "gateway", "status"]
        } else {
            ["gateway", "port", "protocol"]
        };
        let mut labels: Vec<&str> = family
            .get_label_names()
            .iter()
            .map(String::as_str)
            .collect();
        labels.sort_unstable();
        assert_eq!(labels, expected_labels, "{name}");
    }

    let mqtt = fleet.gateway.ports.mqtt.to_string();
    let amqp = fleet.gateway.ports.amqp.to_string();
    let https = fleet.gateway.ports.https.to_string();
    let value = |name: &str, labels: &[(&str, &str)]| sample(&exposition.families[name], labels);
    for gateway in &lines {
        // One-hot: the status the check had is 1, the others 0.
        let check = |id, status| {
            value(
                "edgeprobe_check_status",
                &[("gateway", gateway), ("check", id), ("status", status)],
            )
        };
        assert_eq!(check("gateway-resolve", "ok"), Some(1.0), "{gateway}");
        assert_eq!(check("gateway-resolve", "error"), Some(0.0), "{gateway}");
        assert_eq!(check("gateway-connect-mqtt", "ok"), Some(1.0), "{gateway}");
        assert_eq!(
            check("gateway-connect-amqp", "error"),
            Some(1.0),
            "{gateway}"
        );
        assert_eq!(check("gateway-connect-amqp", "ok"), Some(0.0), "{gateway}");
        assert_eq!(check("gateway-cert-chain", "ok"), Some(1.0), "{gateway}");
        assert_eq!(
            check("connection-string", "ok"),
            None,
            "does not apply: no sample"
        );
        assert_eq!(
            value("probe_success", &[("gateway", gateway)]),
            Some(0.0),
            "the closed AMQP port fails the probe"
        );
        for (protocol, port) in [("mqtt", &mqtt), ("https", &https)] {
            let labels = [
                ("gateway", gateway.as_str()),
                ("protocol", protocol),
                ("port", port.as_str()),
            ];
            assert_eq!(value("edgeprobe_verify_code", &labels), Some(0.0));
            assert_eq!(
                value("probe_ssl_earliest_cert_expiry", &labels),
                Some(fleet.not_after as f64)
            );
            assert!(value("edgeprobe_connect_seconds", &labels).is_some_and(|s| s >= 0.0));
            assert!(value("edgeprobe_handshake_seconds", &labels).is_some_and(|s| s > 0.0));
        }
        let closed = [
            ("gateway", gateway.as_str()),
            ("protocol", "amqp"),
            ("port", amqp.as_str()),
        ];
        assert_eq!(value("edgeprobe_verify_code", &closed), None);
        assert_eq!(value("edgeprobe_handshake_seconds", &closed), None);
    }
    assert_eq!(
        exposition.families["edgeprobe_verify_code"]
            .iter_samples()
            .count(),
        40
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn single_gateway_check_speaks_jsonl_and_prometheus_too() {
    let fleet = Fleet::start(&[]).await;
    fleet.write_targets(&["gw-001.edgeprobe.test".to_owned()]);
    for output_format in ["jsonl", "prometheus"] {
        let mut args = fleet.args("unused", output_format);
        // Replace `--targets FILE` with `--gateway NAME`, keeping everything else.
        args[1] = "--gateway".into();
        args[2] = "gw-001.edgeprobe.test".into();
        args.retain(|arg| arg != "--concurrency" && arg != "8");
        args.extend(NOT_THIS_MACHINES_SDKS.map(str::to_owned));
        let output = run_async(args).await;
        assert_eq!(output.code, 0, "{}", output.all());
        if output_format == "jsonl" {
            assert_eq!(output.stdout.lines().count(), 1);
            let result: serde_json::Value =
                serde_json::from_str(&output.stdout).expect("one JSON object");
            assert_valid(Schema::TargetResult, &result);
            assert_eq!(result["gateway"], "gw-001.edgeprobe.test");
            assert_eq!(result["verdict"], "ok");
            assert!(result.get("line").is_none(), "no targets file, no line");
            assert_eq!(result["ports"][0]["verify_code"], 0);
        } else {
            let exposition = output.prometheus();
            let family = &exposition.families["edgeprobe_verify_code"];
            assert_eq!(family.iter_samples().count(), 3);
        }
    }
}

#[test]
fn usage_errors_exit_two_without_output() {
    let (directory, empty) = temp_file("empty.txt", "# nothing here\n\n");
    let empty = empty.display().to_string();
    let missing = directory.path().join("missing.txt").display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "--targets", &empty, "--gateway", "gw.contoso.com"],
            "cannot be used with",
        ),
        (vec!["check", "--concurrency", "4"], "--targets"),
        (
            vec![
                "check",
                "--gateway",
                "gw",
                "--resolve",
                "gw:127.0.0.1",
                "--concurrency",
                "4",
            ],
            "--concurrency applies only with --targets",
        ),
        (
            vec!["check", "--targets", &empty, "--concurrency", "0"],
            "0",
        ),
        (
            vec!["check", "--targets", &missing],
            "cannot read the targets file",
        ),
        (vec!["check", "--targets", &empty], "lists no gateway"),
        (
            vec!["check", "--targets", &empty, "--only", "no-such-check"],
            "unknown check id `no-such-check`",
        ),
    ];
    for (args, expected) in cases {
        let output = run(&args);
        assert_eq!(output.code, 2, "{args:?}: {}", output.all());
        assert_eq!(output.stdout, "", "{args:?}");
        assert!(
            output.stderr.contains(expected),
            "{args:?}: {}",
            output.stderr
        );
    }
    // A connection string belongs to one device, even when it comes from the environment.
    for args in [
        vec![
            "check",
            "--targets",
            &empty,
            "--connection-string",
            "HostName=h;DeviceId=d",
        ],
        vec!["check", "--targets", &empty],
    ] {
        let output = edgeprobe()
            .args(&args)
            .env(
                "EDGEPROBE_CONNECTION_STRING",
                "HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0",
            )
            .output()
            .map(Run::from)
            .expect("the binary runs");
        assert_eq!(output.code, 2, "{args:?}: {}", output.all());
        assert_eq!(output.stdout, "", "{args:?}");
        assert!(
            output
                .stderr
                .contains("drop --connection-string (or unset EDGEPROBE_CONNECTION_STRING)"),
            "{args:?}: {}",
            output.stderr
        );
        assert!(!output.all().contains("c2VjcmV0"));
    }
    let directory_as_targets = run(&[
        "check",
        "--targets",
        Path::new(&empty)
            .parent()
            .and_then(Path::to_str)
            .unwrap_or("/"),
    ]);
    assert_eq!(directory_as_targets.code, 2);
    assert!(directory_as_targets.stderr.contains("is a directory"));
}
