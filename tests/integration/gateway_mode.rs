//! The gateway suite (`edgeprobe check` on an IoT Edge device) through the binary. Each test
//! builds a temporary `--root` tree from `fixtures/gateway/` (config, certificate and key files,
//! passwd, hostname, OS trust store), swaps in the broken file it is about, and, for the
//! connectivity checks, serves the fixture chains with the loopback simulator. Nothing leaves
//! 127.0.0.1: IoT Hub is a simulator mapped with --resolve, or skipped.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use edgeprobe::demo::server::RunningGateway;

use crate::harness::{
    Report, Run, assert_contains, assert_some_contains, fixture, port_flags, ports_of, run,
    serve_fixture,
};

const TOP: &str = "gateway.edgeprobe.test";
const FAKE_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";
pub(crate) const CONNECTIVITY: &[&str] = &[
    "edgehub-listening-mqtt",
    "edgehub-listening-amqp",
    "edgehub-listening-https",
    "parent-hostname",
    "parent-connect-mqtt",
    "parent-connect-amqp",
    "parent-connect-https",
    "iothub-connect-mqtt",
    "iothub-connect-amqp",
    "iothub-connect-https",
];
pub(crate) const IOTHUB: &[&str] = &[
    "iothub-connect-mqtt",
    "iothub-connect-amqp",
    "iothub-connect-https",
];

/// Where IoT Edge 1.2+ keeps the device CA's chain and its key (the quickstart's paths).
const DEVICE_CA_CHAIN: &str = "/var/aziot/certs/device-ca-full-chain.pem";
const DEVICE_CA_KEY: &str = "/var/aziot/secrets/device-ca.key.pem";

/// A gateway's filesystem in a temporary directory.
pub(crate) struct Tree {
    directory: tempfile::TempDir,
}

impl Tree {
    /// A healthy top-layer gateway: `config` (a fixtures/gateway/config file) installed at
    /// `config_path`, the top layer's device CA, key and root, service users, OS trust store.
    pub(crate) fn new(config: &str, config_path: &str, device_ca: &str) -> Tree {
        let tree = Tree {
            directory: tempfile::tempdir().expect("temporary directory"),
        };
        tree.copy(config_path, &format!("config/{config}"));
        tree.copy("/var/aziot/certs/root-ca.pem", "pki/root-ca.pem");
        tree.copy(
            DEVICE_CA_CHAIN,
            &format!("pki/{device_ca}-device-ca-full-chain.pem"),
        );
        tree.copy(DEVICE_CA_KEY, &format!("pki/{device_ca}-device-ca.key.pem"));
        tree.chmod(DEVICE_CA_KEY, 0o600);
        tree.chmod("/var/aziot/secrets", 0o700);
        // The service users own nothing here; they are the file owner, so the owner bits
        // apply, as after the guide's chown (whatever uid the tests run as).
        let metadata = fs::metadata(tree.path(DEVICE_CA_KEY)).expect("key written");
        tree.users(metadata.uid(), metadata.uid());
        tree.write("/etc/hostname", "gateway\n");
        tree.write("/etc/hosts", "127.0.0.1 localhost\n");
        tree.os_trust_store(&["pki/root-ca.pem", "pki/hub-root-ca.pem"]);
        tree
    }

    pub(crate) fn top_layer() -> Tree {
        Tree::new("top-layer.toml", "/etc/aziot/config.toml", "top")
    }

    /// The same gateway on IoT Edge 1.1: config.yaml, read as the iotedge user.
    pub(crate) fn top_layer_1_1() -> Tree {
        Tree::new("top-layer.yaml", "/etc/iotedge/config.yaml", "top")
    }

    /// The top layer with the fixture `fixture_name` at `system_path` instead.
    pub(crate) fn top_layer_with(system_path: &str, fixture_name: &str) -> Tree {
        let tree = Tree::top_layer();
        tree.copy(system_path, fixture_name);
        tree
    }

    pub(crate) fn path(&self, system_path: &str) -> PathBuf {
        self.directory
            .path()
            .join(system_path.trim_start_matches('/'))
    }

    pub(crate) fn root(&self) -> &Path {
        self.directory.path()
    }

    pub(crate) fn write(&self, system_path: &str, contents: &str) {
        let path = self.path(system_path);
        fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
        fs::write(&path, contents).expect("file written");
    }

    /// Install `fixtures/gateway/<fixture>` at `system_path`.
    pub(crate) fn copy(&self, system_path: &str, fixture_name: &str) {
        let contents = fs::read_to_string(fixture(&format!("gateway/{fixture_name}")))
            .expect("fixture exists");
        self.write(system_path, &contents);
    }

    /// Install `fixtures/gateway/<fixture>` at `system_path` with `from` replaced by `to`.
    pub(crate) fn copy_replacing(
        &self,
        system_path: &str,
        fixture_name: &str,
        from: &str,
        to: &str,
    ) {
        let contents = fs::read_to_string(fixture(&format!("gateway/{fixture_name}")))
            .expect("fixture exists");
        self.write(system_path, &contents.replace(from, to));
    }

    pub(crate) fn chmod(&self, system_path: &str, mode: u32) {
        fs::set_permissions(self.path(system_path), fs::Permissions::from_mode(mode))
            .expect("chmod");
    }

    /// passwd and group with the IoT Edge service users: aziotcs reads certificates,
    /// aziotks keys (1.2+), iotedge both (1.1).
    pub(crate) fn users(&self, certificate_uid: u32, key_uid: u32) {
        let gid = fs::metadata(self.root()).map(|m| m.gid()).unwrap_or(0);
        self.write(
            "/etc/passwd",
            &format!(
                "root:x:0:0:root:/root:/bin/bash\n\
                 aziotcs:x:{certificate_uid}:{gid}::/var/lib/aziot/certd:/sbin/nologin\n\
                 aziotks:x:{key_uid}:{gid}::/var/lib/aziot/keyd:/sbin/nologin\n\
                 iotedge:x:{certificate_uid}:{gid}::/var/lib/iotedge:/sbin/nologin\n"
            ),
        );
        self.write("/etc/group", "root:x:0:\n");
    }

    fn os_trust_store(&self, fixtures: &[&str]) {
        let bundle: String = fixtures
            .iter()
            .map(|name| {
                fs::read_to_string(fixture(&format!("gateway/{name}"))).expect("fixture exists")
            })
            .collect();
        self.write("/etc/ssl/certs/ca-certificates.crt", &bundle);
    }

    pub(crate) fn remove(&self, system_path: &str) {
        fs::remove_file(self.path(system_path)).expect("file removed");
    }
}

/// `edgeprobe check --root <tree> -o json` plus `extra`.
pub(crate) async fn check(tree: &Tree, extra: &[String]) -> Run {
    let mut args: Vec<String> = vec![
        "check".into(),
        "--root".into(),
        tree.root().display().to_string(),
    ];
    args.extend(extra.iter().cloned());
    if !extra.iter().any(|arg| arg == "--timeout") {
        args.extend(["--timeout".into(), "5s".into()]);
    }
    if !extra.iter().any(|arg| arg == "--output") {
        args.extend(["--output".into(), "json".into()]);
    }
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}

/// [`check`] with `extra` as the test writes it.
pub(crate) async fn check_args(tree: &Tree, extra: &[&str]) -> Run {
    check(tree, &strings(extra)).await
}

pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Only the configuration checks: no socket is opened.
pub(crate) async fn check_config(tree: &Tree) -> Run {
    check_config_with(tree, &[]).await
}

/// [`check_config`] with `extra` flags.
pub(crate) async fn check_config_with(tree: &Tree, extra: &[&str]) -> Run {
    let connectivity = CONNECTIVITY.join(",");
    let mut args = vec!["--skip", connectivity.as_str()];
    args.extend_from_slice(extra);
    check_args(tree, &args).await
}

/// The JSON report of [`check_args`].
pub(crate) async fn check_args_report(tree: &Tree, extra: &[&str]) -> Report {
    check_args(tree, extra).await.json()
}

/// The JSON report of [`check_config_with`].
pub(crate) async fn check_config_report(tree: &Tree, extra: &[&str]) -> Report {
    check_config_with(tree, extra).await.json()
}

/// The configuration checks' report on the top layer with the fixture `fixture_name` at
/// `system_path` instead.
async fn config_swapped(system_path: &str, fixture_name: &str) -> Report {
    check_config(&Tree::top_layer_with(system_path, fixture_name))
        .await
        .json()
}

pub(crate) async fn serve(chain: &str, key: &str) -> RunningGateway {
    serve_fixture(
        &format!("gateway/pki/{chain}"),
        &format!("gateway/pki/{key}"),
        &[],
    )
    .await
}

/// The top layer's edgeHub, simulated, and the flags that point `check` at it with the IoT Hub
/// checks skipped; the simulator serves as long as the gateway returned is kept.
pub(crate) async fn top_edgehub() -> (RunningGateway, Vec<String>) {
    let edgehub = serve("top-edgehub-full-chain.pem", "top-edgehub.key.pem").await;
    let mut extra = ports("--port", &edgehub);
    extra.extend(strings(&["--skip", &IOTHUB.join(",")]));
    (edgehub, extra)
}

/// `--port mqtt=N` (or `--parent-port`, `--iothub-port`) for each of the simulator's ports.
pub(crate) fn ports(flag: &str, gateway: &RunningGateway) -> Vec<String> {
    port_flags(flag, ports_of(gateway))
}

pub(crate) fn assert_result(report: &Report, id: &str, expected: &str) {
    let entry = report.check(id);
    assert_eq!(
        entry.result.result, expected,
        "{id}: {:?} remedy {:?}",
        entry.result.details, entry.remedy
    );
}

/// The check `id` says `expected` with `part` in its message, which it returns.
pub(crate) fn assert_verdict(report: &Report, id: &str, expected: &str, part: &str) -> String {
    assert_result(report, id, expected);
    let text = message(report, id);
    assert!(text.contains(part), "{id}: `{part}` not in {text}");
    text
}

/// The check `id` is an error with OpenSSL's verify code `code` in its additional_info.
fn assert_verify_error(report: &Report, id: &str, code: u32) {
    assert_result(report, id, "error");
    assert_eq!(report.check(id).additional_info["verify_code"], code);
}

/// The remedy of `id` names every one of `parts`.
fn assert_remedy_names(report: &Report, id: &str, parts: &[&str]) {
    let remedy = remedy(report, id);
    assert!(
        parts.iter().all(|part| remedy.contains(part)),
        "{id}: not all of {parts:?} in {remedy}"
    );
}

/// The remedy of `id`, empty when it has none.
pub(crate) fn remedy(report: &Report, id: &str) -> String {
    report.check(id).remedy.clone().unwrap_or_default()
}

pub(crate) fn message(report: &Report, id: &str) -> String {
    report
        .check(id)
        .result
        .details
        .first()
        .cloned()
        .unwrap_or_default()
}

const CONFIGURATION: &[&str] = &[
    "config-well-formed",
    "hostname",
    "connection-string",
    "certificates-configured",
    "device-ca-key-match",
    "device-ca-chain",
    "certificates-expiry",
    "stale-generated-certs",
    "root-ca-trust-store",
];

#[tokio::test(flavor = "multi_thread")]
async fn healthy_top_layer_gateway_is_all_ok_including_what_edgehub_serves() {
    let tree = Tree::top_layer();
    let (_edgehub, extra) = top_edgehub().await;
    let output = check(&tree, &extra).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    for id in CONFIGURATION {
        assert_result(&report, id, "ok");
        assert_eq!(report.check(id).group, "Configuration");
    }
    for id in [
        "edgehub-listening-mqtt",
        "edgehub-listening-amqp",
        "edgehub-listening-https",
    ] {
        assert_result(&report, id, "ok");
        let entry = report.check(id);
        assert_eq!(entry.group, "Connectivity");
        assert_eq!(entry.additional_info["verify_code"], 0);
        assert!(message(&report, id).contains("SNI gateway.edgeprobe.test"));
    }
    // A top layer has no parent: the nested checks stay out of the way.
    assert_verdict(&report, "parent-hostname", "skipped", "top-layer");
    assert_eq!(
        report.check("config-well-formed").additional_info["version"],
        "1.2+"
    );
    output.assert_not_shown(FAKE_KEY);
    let target: serde_json::Value = serde_json::from_str(&output.stdout).expect("json");
    assert!(
        target["target"]["config"]
            .as_str()
            .is_some_and(|config| config.ends_with("etc/aziot/config.toml")),
        "{}",
        target["target"]
    );
}

/// Issue 12: gateway mode's monitoring outputs name the gateway by its configured `hostname`
/// (not `gateway=""`) and carry edgeHub's ports, as the leaf suite's carry the gateway's.
#[tokio::test(flavor = "multi_thread")]
async fn gateway_mode_jsonl_and_prometheus_name_the_hostname_and_each_port() {
    let tree = Tree::top_layer();
    let (edgehub, extra) = top_edgehub().await;
    let ports = edgehub.ports;

    let mut jsonl = extra.clone();
    jsonl.extend(strings(&["--output", "jsonl"]));
    let output = check(&tree, &jsonl).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let line: serde_json::Value = serde_json::from_str(output.stdout.trim()).expect("one line");
    assert_eq!(line["gateway"], TOP, "{line}");
    let reported: Vec<(String, u64)> = line["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|port| {
            (
                port["protocol"].as_str().unwrap_or_default().to_owned(),
                port["port"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        reported,
        [
            ("mqtt".to_owned(), u64::from(ports.mqtt)),
            ("amqp".to_owned(), u64::from(ports.amqp)),
            ("https".to_owned(), u64::from(ports.https)),
        ],
        "{line}"
    );
    for port in line["ports"].as_array().expect("ports") {
        assert_eq!(port["status"], "ok", "{port}");
        assert_eq!(port["verify_code"], 0, "{port}");
        assert!(port["connect_seconds"].is_number(), "{port}");
        assert!(port["handshake_seconds"].is_number(), "{port}");
        assert!(port["cert_not_after"].is_i64(), "{port}");
    }

    let mut prometheus = extra;
    prometheus.extend(strings(&["--output", "prometheus"]));
    let output = check(&tree, &prometheus).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let exposition = output.prometheus();
    for family in [
        "edgeprobe_verify_code",
        "probe_ssl_earliest_cert_expiry",
        "edgeprobe_connect_seconds",
        "edgeprobe_handshake_seconds",
    ] {
        let series: Vec<(String, String)> = exposition.families[family]
            .iter_samples()
            .map(|sample| {
                let labels = sample.get_labelset().expect("labels");
                let label = |name: &str| {
                    labels
                        .iter()
                        .find(|(key, _)| key.as_str() == name)
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                };
                (label("gateway"), label("port"))
            })
            .collect();
        assert_eq!(
            series,
            [ports.mqtt, ports.amqp, ports.https].map(|port| (TOP.to_owned(), port.to_string())),
            "{family}: {}",
            output.stdout
        );
    }
    assert_contains(
        &output.stdout,
        &format!("edgeprobe_check_status{{gateway=\"{TOP}\",check=\"hostname\",status=\"ok\"}} 1"),
    );
    assert!(!output.stdout.contains("gateway=\"\""), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn iot_edge_1_1_config_yaml_is_found_and_checked_with_the_iotedge_user() {
    let tree = Tree::top_layer_1_1();
    let output = check_config(&tree).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    for id in CONFIGURATION {
        assert_result(&report, id, "ok");
    }
    assert_eq!(
        report.check("config-well-formed").additional_info["version"],
        "1.1"
    );
    let files = &report.check("certificates-configured").additional_info["files"];
    assert_eq!(files[0]["reader"], "iotedge");
    assert_eq!(files[0]["setting"], "certificates.device_ca_cert");
}

#[tokio::test(flavor = "multi_thread")]
async fn text_report_of_a_gateway_has_configuration_and_connectivity_sections() {
    let tree = Tree::top_layer();
    let (_edgehub, mut extra) = top_edgehub().await;
    extra.extend(strings(&["--output", "text"]));
    let output = check(&tree, &extra).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let text = &output.stdout;
    assert_contains(text, "IoT Edge gateway configured by");
    let configuration = text
        .find("Configuration checks")
        .expect("configuration section");
    let connectivity = text
        .find("Connectivity checks")
        .expect("connectivity section");
    assert!(configuration < connectivity, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_yaml_is_an_error_with_line_and_column_and_skips_the_rest() {
    let tree = Tree::new("bad-syntax.yaml", "/etc/iotedge/config.yaml", "top");
    let output = check_config(&tree).await;
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    assert_result(&report, "config-well-formed", "error");
    let text = message(&report, "config-well-formed");
    // The broken line is line 20 of the generated file (` hostname: [unclosed ...`).
    assert_contains(&text, "config.yaml:");
    let position = text
        .split("config.yaml:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|line| line.parse::<usize>().ok());
    assert!(position.is_some_and(|line| line >= 19), "{text}");
    assert_some_contains(
        report.check("config-well-formed").remedy.as_deref(),
        "systemctl restart iotedge",
    );
    for id in ["hostname", "certificates-configured"] {
        assert_result(&report, id, "skipped");
    }
    output.assert_not_shown(FAKE_KEY);
}

// Gateway trees with one fault each in the config or the device CA: `Tree::new`'s config
// file, its path and the device CA variant.
const TOML: &str = "/etc/aziot/config.toml";
/// `[edge_ca` is line 9 of the generated file; the parser stops at its end.
const BAD_TOML: [&str; 3] = ["bad-syntax.toml", TOML, "top"];
const IP_HOSTNAME: [&str; 3] = ["ip-hostname.toml", TOML, "top"];
/// 70 characters, over IoT Edge's limit of 64.
const LONG_HOSTNAME: [&str; 3] = ["long-hostname.toml", TOML, "top"];
const EXPIRED: [&str; 3] = ["top-layer.toml", TOML, "expired"];
/// Issue 15 item 2: after 2038 is an error on 1.1 (libiothsm) only; 1.2+ warns (remedies.rs).
const POST_2038: [&str; 3] = ["top-layer.yaml", "/etc/iotedge/config.yaml", "post-2038"];
/// A server certificate configured as the device CA.
const NOT_A_CA: [&str; 3] = ["top-layer.toml", TOML, "not-a-ca"];
const MISSING_FILES: [&str; 3] = ["missing-files.toml", TOML, "top"];
/// Quickstart certificates are for testing only: nothing is judged of them.
const QUICKSTART: [&str; 3] = ["quickstart.toml", TOML, "top"];

/// What the configuration checks say about each faulty tree: (tree, check, result, part of its
/// message). Dependents of a check that failed say why they skipped. One row a line, as a table.
#[rustfmt::skip]
const FAULT_VERDICTS: &[([&str; 3], &str, &str, &str)] = &[
    (BAD_TOML, "config-well-formed", "error", "config.toml:9:9: unclosed table"),
    (IP_HOSTNAME, "hostname", "warning", "IP address"),
    (LONG_HOSTNAME, "hostname", "error", "70 characters"),
    (LONG_HOSTNAME, "hostname", "error", "64"),
    (EXPIRED, "certificates-expiry", "error", "expired on"),
    (EXPIRED, "device-ca-chain", "error", ""),
    (EXPIRED, "device-ca-key-match", "ok", ""),
    (POST_2038, "certificates-expiry", "error", "2038-01-01"),
    (POST_2038, "device-ca-chain", "ok", ""),
    (NOT_A_CA, "device-ca-chain", "error", "not a CA certificate"),
    (MISSING_FILES, "certificates-configured", "error", "no-such-device-ca.pem"),
    (MISSING_FILES, "certificates-configured", "error", "does not exist"),
    (MISSING_FILES, "certificates-configured", "error", "no-such-root.pem"),
    (MISSING_FILES, "device-ca-key-match", "skipped", "certificates-configured"),
    (QUICKSTART, "certificates-configured", "warning", "quickstart"),
    (QUICKSTART, "device-ca-key-match", "skipped", ""),
    (QUICKSTART, "device-ca-chain", "skipped", ""),
    (QUICKSTART, "stale-generated-certs", "skipped", ""),
];

/// And what they record of it: (tree, check, JSON pointer into its additional_info, the value
/// there as JSON). An expired device CA is OpenSSL's 10.
const FAULT_INFO: &[([&str; 3], &str, &str, &str)] = &[
    (
        EXPIRED,
        "device-ca-chain",
        "/verifications/0/verify_code",
        "10",
    ),
    (NOT_A_CA, "device-ca-chain", "/is_ca", "false"),
];

/// Each faulty tree gets its [`FAULT_VERDICTS`] and [`FAULT_INFO`]; one with an error exits 1,
/// and none shows the connection string's key.
#[tokio::test(flavor = "multi_thread")]
async fn each_fault_in_the_config_or_the_device_ca_gets_its_verdict() {
    let mut trees: Vec<[&str; 3]> = FAULT_VERDICTS.iter().map(|row| row.0).collect();
    trees.dedup();
    for tree in trees {
        let output = check_config(&Tree::new(tree[0], tree[1], tree[2])).await;
        let report = output.json();
        let verdicts = FAULT_VERDICTS.iter().filter(|row| row.0 == tree);
        for (_, id, result, part) in verdicts.clone() {
            let entry = report.check(id);
            assert_eq!(entry.result.result, *result, "{tree:?} {id}: {entry:#?}");
            assert!(
                entry.message.contains(part),
                "{tree:?} {id}: `{part}` not in {}",
                entry.message
            );
        }
        for (_, id, pointer, value) in FAULT_INFO.iter().filter(|row| row.0 == tree) {
            let expected: serde_json::Value = serde_json::from_str(value).expect("JSON value");
            assert_eq!(
                report.check(id).additional_info.pointer(pointer),
                Some(&expected),
                "{tree:?} {id} {pointer}"
            );
        }
        if verdicts.clone().any(|(_, _, result, _)| *result == "error") {
            assert_eq!(output.code, 1, "{tree:?}: {}", output.all());
        }
        output.assert_not_shown(FAKE_KEY);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostname_unlike_the_machine_name_warns_as_iotedge_check_would_fail() {
    let tree = Tree::top_layer();
    tree.write("/etc/hostname", "raspberrypi\n");
    let report = check_config(&tree).await.json();
    assert_verdict(&report, "hostname", "warning", "raspberrypi");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_that_is_not_the_device_cas_is_an_error() {
    let report = config_swapped(DEVICE_CA_KEY, "pki/other-device-ca.key.pem").await;
    assert_result(&report, "certificates-configured", "ok");
    assert_verdict(
        &report,
        "device-ca-key-match",
        "error",
        "is not the private key",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_ca_file_in_the_wrong_order_is_told_apart_from_a_wrong_key() {
    let report = config_swapped(DEVICE_CA_CHAIN, "pki/wrong-order-device-ca-full-chain.pem").await;
    assert_verdict(
        &report,
        "device-ca-key-match",
        "error",
        "belongs to certificate 2",
    );
    assert_some_contains(
        report.check("device-ca-key-match").remedy.as_deref(),
        "first",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_root_from_another_pki_fails_the_chain_with_openssl_code_20() {
    let tree = Tree::top_layer_with("/var/aziot/certs/root-ca.pem", "pki/other-root-ca.pem");
    tree.os_trust_store(&["pki/other-root-ca.pem"]);
    let (_edgehub, extra) = top_edgehub().await;
    let report = check(&tree, &extra).await.json();
    assert_result(&report, "device-ca-chain", "error");
    let verifications = &report.check("device-ca-chain").additional_info["verifications"];
    assert_eq!(verifications[0]["verify_code"], 20, "{verifications}");
    // The leaves' view is the same: edgeHub's chain does not reach that root either.
    assert_verify_error(&report, "edgehub-listening-mqtt", 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_ca_issued_under_another_root_than_the_leaves_hold_is_an_error() {
    let tree = Tree::new("top-layer.toml", "/etc/aziot/config.toml", "wrong-root");
    let leaf_root = fixture("gateway/pki/root-ca.pem").display().to_string();
    let report = check_config_report(&tree, &["--ca-file", &leaf_root]).await;
    assert_result(&report, "device-ca-key-match", "ok");
    let text = assert_verdict(&report, "device-ca-chain", "error", "leaves' root CA file");
    // The file holds the device CA alone and its issuer is nowhere: `openssl verify` on the
    // same files stops at 20 at depth 0 and reports it (not s_client's 21; issue 15 item 14).
    assert_contains(
        &text,
        "Verify return code: 20 (unable to get local issuer certificate)",
    );
    assert!(!text.contains("Verify return code: 21"), "{text}");
    let errors = &report.check("device-ca-chain").additional_info["verifications"][0]["errors"];
    assert_eq!(errors[0]["code"], 20, "{errors}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_expiry_threshold_or_a_higher_one_decides_the_warning() {
    let tree = Tree::top_layer();
    // The fixture CAs end on 2037-12-31: with a threshold beyond that, they warn.
    let report = check_config_report(&tree, &["--expiry-warning-days", "10000"]).await;
    assert_result(&report, "certificates-expiry", "warning");
    assert_eq!(
        report.check("certificates-expiry").additional_info["warning_days"],
        10000
    );
    let default = check_config(&tree).await.json();
    assert_eq!(
        default.check("certificates-expiry").additional_info["warning_days"],
        90,
        "gateway default"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_the_key_service_cannot_read_is_an_error_with_the_guides_chown() {
    let tree = Tree::top_layer();
    let uid = fs::metadata(tree.path("/var/aziot/certs/root-ca.pem"))
        .map(|metadata| metadata.uid())
        .expect("metadata");
    // aziotks is now someone else than the files' owner: a 600 key is closed to it.
    tree.users(uid, 4242);
    let report = check_config(&tree).await.json();
    assert_verdict(
        &report,
        "certificates-configured",
        "error",
        "aziotks cannot",
    );
    assert_remedy_names(
        &report,
        "certificates-configured",
        &["chown aziotks:aziotks"],
    );
    // What loaded is still examined.
    assert_result(&report, "device-ca-key-match", "ok");
    assert_result(&report, "device-ca-chain", "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_readable_by_everyone_is_a_warning() {
    let tree = Tree::top_layer();
    tree.chmod(DEVICE_CA_KEY, 0o644);
    let report = check_config(&tree).await.json();
    assert_verdict(
        &report,
        "certificates-configured",
        "warning",
        "readable by every user",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_left_from_an_old_device_ca_are_a_warning_1_2() {
    let tree = Tree::top_layer();
    tree.copy(
        "/var/lib/aziot/certd/certs/aziotedgedmoduleedgeHub-old.cert.pem",
        "pki/stale-edgehub.pem",
    );
    tree.copy(
        "/var/lib/aziot/certd/certs/aziotedgedmoduleedgeHub-new.cert.pem",
        "pki/top-edgehub.pem",
    );
    let report = check_config(&tree).await.json();
    assert_result(&report, "stale-generated-certs", "warning");
    let entry = report.check("stale-generated-certs");
    assert_eq!(entry.additional_info["checked"], 2);
    let stale = entry.additional_info["stale"]
        .as_array()
        .expect("stale list");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(
        stale[0]["file"]
            .as_str()
            .is_some_and(|file| file.ends_with("edgeHub-old.cert.pem"))
    );
    assert_remedy_names(
        &report,
        "stale-generated-certs",
        &["/var/lib/aziot/certd/certs", "/var/lib/aziot/keyd/keys"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_left_in_hsm_certs_are_a_warning_1_1() {
    let tree = Tree::top_layer_1_1();
    tree.copy(
        "/var/lib/iotedge/hsm/certs/edgehub_server.cert.pem",
        "pki/stale-edgehub.pem",
    );
    let report = check_config(&tree).await.json();
    assert_result(&report, "stale-generated-certs", "warning");
    assert_remedy_names(
        &report,
        "stale-generated-certs",
        &[
            "/var/lib/iotedge/hsm/certs",
            "/var/lib/iotedge/hsm/cert_keys",
            "restart iotedge",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_root_dropped_as_pem_in_ca_certificates_is_caught_with_the_docs_commands() {
    let tree = Tree::top_layer();
    tree.os_trust_store(&["pki/hub-root-ca.pem"]);
    tree.copy(
        "/usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem",
        "pki/root-ca.pem",
    );
    let report = check_config(&tree).await.json();
    assert_verdict(
        &report,
        "root-ca-trust-store",
        "warning",
        "only files ending in .crt",
    );
    assert_remedy_names(
        &report,
        "root-ca-trust-store",
        &[
            "/usr/local/share/ca-certificates/root-ca.pem.crt",
            "sudo update-ca-certificates",
        ],
    );
    // Once named .crt but not yet installed, the fix is the second command alone.
    tree.remove("/usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem");
    tree.copy(
        "/usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem.crt",
        "pki/root-ca.pem",
    );
    let report = check_config(&tree).await.json();
    assert_result(&report, "root-ca-trust-store", "warning");
    assert_eq!(
        report.check("root-ca-trust-store").remedy.as_deref(),
        Some("run `sudo update-ca-certificates`")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn edgehub_still_serving_a_former_hostname_fails_with_code_62() {
    let tree = Tree::top_layer();
    let edgehub = serve(
        "old-name-edgehub-full-chain.pem",
        "old-name-edgehub.key.pem",
    )
    .await;
    let mut extra = ports("--port", &edgehub);
    extra.extend(strings(&["--skip", &IOTHUB.join(",")]));
    let output = check(&tree, &extra).await;
    let report = output.json();
    assert_eq!(output.code, 1);
    for id in [
        "edgehub-listening-mqtt",
        "edgehub-listening-amqp",
        "edgehub-listening-https",
    ] {
        assert_verify_error(&report, id, 62);
        assert_some_contains(
            report.check(id).remedy.as_deref(),
            "docker rm -f edgeAgent edgeHub",
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_listening_for_edgehub_is_a_connection_refused_error() {
    let tree = Tree::top_layer();
    // Bind and drop: a loopback port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("ephemeral port")
        .port();
    let report = check_args(
        &tree,
        &[
            "--only",
            "edgehub-listening-mqtt",
            "--port",
            &format!("mqtt={closed}"),
        ],
    )
    .await
    .json();
    assert_verdict(&report, "edgehub-listening-mqtt", "error", "refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn top_layer_reaches_iot_hub_through_the_os_trust_store() {
    let tree = Tree::top_layer();
    let hub = serve("hub-full-chain.pem", "hub.key.pem").await;
    let mut extra = ports("--iothub-port", &hub);
    extra.extend(strings(&[
        "--resolve",
        "hub.edgeprobe.test:127.0.0.1",
        "--only",
        &IOTHUB.join(","),
    ]));
    let output = check(&tree, &extra).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    for id in IOTHUB {
        assert_verdict(&report, id, "ok", "hub.edgeprobe.test");
    }
    // Without the hub's root in the OS store, the hub is not trusted.
    tree.os_trust_store(&["pki/root-ca.pem"]);
    let report = check(&tree, &extra).await.json();
    assert_result(&report, "iothub-connect-mqtt", "error");
}

/// A parent (top layer) and a child (lower layer) on loopback: the child's config names the
/// parent, its hosts file maps it to 127.0.0.1, its agent's ExtraHosts too.
#[tokio::test(flavor = "multi_thread")]
async fn nested_child_checks_its_parent_on_loopback() {
    let parent = serve("top-edgehub-full-chain.pem", "top-edgehub.key.pem").await;
    let child_edgehub = serve("child-edgehub-full-chain.pem", "child-edgehub.key.pem").await;
    let tree = Tree::new("lower-layer.toml", "/etc/aziot/config.toml", "child");
    tree.write("/etc/hostname", "child\n");
    tree.write(
        "/etc/hosts",
        &format!("127.0.0.1 localhost\n127.0.0.1 {TOP}\n"),
    );
    let mut extra = ports("--port", &child_edgehub);
    extra.extend(ports("--parent-port", &parent));
    // The simulated parent has no API proxy (its 443 is edgeHub's 404): tests/integration/nested.rs
    // checks the registry route with real ones.
    extra.extend(strings(&["--skip", "parent-registry,agent-image-upstream"]));
    let output = check(&tree, &extra).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    for id in CONFIGURATION {
        assert_result(&report, id, "ok");
    }
    assert_result(&report, "parent-hostname", "ok");
    assert!(
        report
            .check("parent-hostname")
            .result
            .details
            .iter()
            .any(|line| line.contains("ExtraHosts")),
        "{:?}",
        report.check("parent-hostname").result.details
    );
    for id in [
        "edgehub-listening-mqtt",
        "parent-connect-mqtt",
        "parent-connect-amqp",
        "parent-connect-https",
    ] {
        assert_result(&report, id, "ok");
    }
    assert!(message(&report, "edgehub-listening-mqtt").contains("child.edgeprobe.test"));
    assert!(message(&report, "parent-connect-mqtt").contains(TOP));
    // A lower layer reaches IoT Hub through its parent only.
    for id in IOTHUB {
        assert_result(&report, id, "skipped");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_child_without_extra_hosts_warns_and_a_parent_with_another_name_fails() {
    let parent = serve(
        "old-name-edgehub-full-chain.pem",
        "old-name-edgehub.key.pem",
    )
    .await;
    let tree = Tree::new(
        "lower-layer-no-extra-hosts.toml",
        "/etc/aziot/config.toml",
        "child",
    );
    tree.write("/etc/hostname", "child\n");
    tree.write("/etc/hosts", &format!("127.0.0.1 {TOP}\n"));
    let mut extra = ports("--parent-port", &parent);
    extra.extend(strings(&[
        "--skip",
        "edgehub-listening-mqtt,edgehub-listening-amqp,edgehub-listening-https",
    ]));
    let report = check(&tree, &extra).await.json();
    assert_result(&report, "parent-hostname", "warning");
    assert_some_contains(
        report.check("parent-hostname").remedy.as_deref(),
        "ExtraHosts = [\"gateway.edgeprobe.test:127.0.0.1\"]",
    );
    assert_verify_error(&report, "parent-connect-amqp", 62);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unresolvable_parent_is_an_error_and_its_connect_checks_are_skipped() {
    let tree = Tree::new("lower-layer.toml", "/etc/aziot/config.toml", "child");
    let report = check_args(
        &tree,
        &[
            "--only",
            "parent-connect-mqtt",
            // An empty hosts file and no DNS server that knows `.test` (RFC 2606): the
            // resolver is pointed at a closed loopback port so nothing leaves the machine.
            "--dns-server",
            "127.0.0.1:9",
            "--timeout",
            "1s",
        ],
    )
    .await
    .json();
    assert_result(&report, "parent-hostname", "error");
    assert_result(&report, "parent-connect-mqtt", "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_config_and_no_gateway_named_is_a_usage_error_pointing_to_both_modes() {
    let empty = tempfile::tempdir().expect("temporary directory");
    let output = run(&["check", "--root", &empty.path().display().to_string()]);
    assert_eq!(output.code, 2, "{}", output.all());
    assert_contains(&output.stderr, "--gateway");
    assert_contains(&output.stderr, "--config");
}

#[test]
fn leaf_only_flags_are_refused_in_gateway_mode() {
    let config = fixture("gateway/config/top-layer.toml")
        .display()
        .to_string();
    for args in [
        &["check", "--config", &config, "--gateway", TOP][..],
        &[
            "check",
            "--config",
            &config,
            "--connection-string",
            "HostName=h;DeviceId=d;SharedAccessKey=a2V5",
        ],
        &["check", "--config", &config, "--gateway-config", &config],
    ] {
        let output = run(args);
        assert_eq!(output.code, 2, "{args:?}: {}", output.all());
    }
}

#[test]
fn leaf_cross_check_compares_gateway_host_name_with_the_gateway_config() {
    let config = fixture("gateway/config/top-layer.toml")
        .display()
        .to_string();
    let with = |connection_string: &str| {
        run(&[
            "check",
            "--connection-string",
            connection_string,
            "--gateway-config",
            &config,
            "--only",
            "gateway-hostname-matches-config",
            "-o",
            "json",
        ])
    };
    let report = with(
        "HostName=hub.edgeprobe.test;DeviceId=leaf;SharedAccessKey=a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=;GatewayHostName=Gateway.EdgeProbe.test",
    )
    .json();
    assert_result(&report, "gateway-hostname-matches-config", "ok");
    assert_eq!(
        report.check("gateway-hostname-matches-config").group,
        "Configuration"
    );
    let other = with(
        "HostName=hub.edgeprobe.test;DeviceId=leaf;SharedAccessKey=a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=;GatewayHostName=10.0.0.4",
    );
    let report = other.json();
    assert_eq!(other.code, 1, "{}", other.all());
    assert_result(&report, "gateway-hostname-matches-config", "error");
    let text = message(&report, "gateway-hostname-matches-config");
    assert!(
        text.contains("`10.0.0.4`") && text.contains("hostname = \"gateway.edgeprobe.test\""),
        "{text}"
    );
    assert_some_contains(
        report
            .check("gateway-hostname-matches-config")
            .remedy
            .as_deref(),
        "GatewayHostName=gateway.edgeprobe.test",
    );
}

#[test]
fn leaf_with_ca_file_is_told_when_its_root_copy_was_ignored_by_update_ca_certificates() {
    let tree = tempfile::tempdir().expect("temporary directory");
    let root_pem = fs::read_to_string(fixture("root-ca.pem")).expect("fixture");
    let local = tree.path().join("usr/local/share/ca-certificates");
    fs::create_dir_all(&local).expect("directories");
    fs::write(local.join("gateway-root.pem"), &root_pem).expect("written");
    fs::create_dir_all(tree.path().join("etc/ssl/certs")).expect("directories");
    fs::write(
        tree.path().join("etc/ssl/certs/ca-certificates.crt"),
        fs::read_to_string(fixture("other-root-ca.pem")).expect("fixture"),
    )
    .expect("written");
    let output = run(&[
        "check",
        "--gateway",
        TOP,
        "--ca-file",
        &fixture("root-ca.pem").display().to_string(),
        "--root",
        &tree.path().display().to_string(),
        "--only",
        "root-ca-trust-store",
        "-o",
        "json",
    ]);
    let report = output.json();
    assert_result(&report, "root-ca-trust-store", "warning");
    assert_eq!(
        report.check("root-ca-trust-store").group,
        "Gateway connectivity"
    );
    let details = report.text_of("root-ca-trust-store");
    assert_contains(&details, "Node.js");
    assert_contains(&details, "sudo update-ca-certificates");
}
