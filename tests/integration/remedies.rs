//! Issue 15: every remedy true. Each test reproduces one scenario of the field walk with
//! certGen-style certificates (`edgeprobe::demo::pki`, the fixture program: certGen's names,
//! its chain layout, its 30-day default where that matters) or the gateway fixtures, through
//! the binary, and reads what the technician is told. Nothing leaves 127.0.0.1.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use edgeprobe::demo::pki::{GatewayPki, Issued, Validity};
use edgeprobe::demo::server::{RunningGateway, SimulatorConfig, start};
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::gateway_mode::{Tree, check, check_args, check_config, ports, remedy, serve, strings};
use crate::harness::{
    CONNECT_CHECKS, LOOPBACK_GATEWAY, Report, Run, assert_contains, check_loopback, fixture,
    port_flags, ports_of, run, targets_file, temp_file,
};

const KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// A certGen-style PKI for the loopback gateway, valid now.
fn certgen_pki() -> GatewayPki {
    GatewayPki::generate(LOOPBACK_GATEWAY, OffsetDateTime::now_utc()).expect("PKI")
}

/// Serves `chain` with `key` on three loopback ports.
async fn serve_chain(chain: Vec<CertificateDer<'static>>, key: &Issued) -> RunningGateway {
    start(SimulatorConfig::loopback(chain, key.key_der(), Vec::new()))
        .await
        .expect("simulator starts")
}

/// A gateway serving a chain of `pki`, and `pki`'s root in a file, as the leaf holds it.
struct Served {
    gateway: RunningGateway,
    root: PathBuf,
    _directory: tempfile::TempDir,
}

impl Served {
    async fn start(pki: &GatewayPki, chain: Vec<CertificateDer<'static>>, key: &Issued) -> Served {
        let directory = tempfile::tempdir().expect("temporary directory");
        let root = write(directory.path(), "root.pem", pki.root_pem());
        Served {
            gateway: serve_chain(chain, key).await,
            root,
            _directory: directory,
        }
    }

    /// `pki`'s own server chain.
    async fn pki(pki: &GatewayPki) -> Served {
        Served::start(pki, pki.server_chain(), &pki.server).await
    }

    /// The leaf's check against it, with `extra` flags.
    async fn check(&self, extra: &[&str]) -> Run {
        check_loopback(ports_of(&self.gateway), &self.root, "5s", extra).await
    }
}

fn write(directory: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = directory.join(name);
    fs::write(&path, contents).expect("file written");
    path
}

/// `edgeprobe check` on `ports` (`--port` for each) with `args`, JSON unless `args` name
/// another `--output`; off the async runtime so the test's own servers keep serving.
async fn check_ports(ports: [u16; 3], args: &[&str]) -> Run {
    let mut all = strings(&["check"]);
    all.extend(port_flags("--port", ports));
    all.extend(strings(args));
    if !args.contains(&"--output") {
        all.extend(strings(&["--output", "json"]));
    }
    tokio::task::spawn_blocking(move || run(&all.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    crate::brokers::free_port()
}

/// `openssl x509 -fingerprint -sha256`'s form, computed here rather than by edgeprobe.
fn sha256_fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `edgeprobe check ARGS --only ID -o json`: one check (and what it needs), no gateway mode.
fn check_only(id: &str, args: &[&str]) -> Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend(["--only", id, "--output", "json"]);
    run(&all)
}

/// The message of `id`, after checking that its result is `expected`.
fn message_if<'r>(report: &'r Report, id: &str, expected: &str) -> &'r str {
    assert_status(report, id, expected);
    &report.check(id).message
}

fn assert_status(report: &Report, id: &str, expected: &str) {
    assert_eq!(report.result(id), expected, "{id}: {}", report.text_of(id));
}

// ---- 1 and 9: name resolution ----

/// Item 1: a top-layer gateway that cannot resolve its hub is told about its own DNS and
/// outbound path and --iothub-hostname, not the leaf's GatewayHostName and hosts line.
/// Item 9: the DNS server is named as unreachable, with the `dig` to run against it.
#[tokio::test(flavor = "multi_thread")]
async fn an_unresolvable_iot_hub_gets_the_gateways_advice_and_the_real_dig() {
    let tree = Tree::top_layer();
    let dns = closed_port();
    let server = format!("127.0.0.1:{dns}");
    let output = check_args(
        &tree,
        &[
            "--only",
            "iothub-connect-mqtt",
            "--dns-server",
            &server,
            "--timeout",
            "2s",
        ],
    )
    .await;
    let report = output.json();
    assert_status(&report, "iothub-connect-mqtt", "error");
    let text = report.text_of("iothub-connect-mqtt");
    let fix = remedy(&report, "iothub-connect-mqtt");
    assert_contains(&fix, "*.azure-devices.net");
    assert_contains(&fix, "--iothub-hostname");
    assert!(fix.contains("firewall") && fix.contains("proxy"), "{fix}");
    assert!(!fix.contains("GatewayHostName"), "{fix}");
    assert!(!fix.contains("/etc/hosts"), "{fix}");
    assert!(!text.contains("no connections available"), "{text}");
    assert!(!text.contains("@<server>"), "{text}");
    assert_contains(&fix, &format!("dig hub.edgeprobe.test @127.0.0.1 -p {dns}"));
}

/// Item 9 on a leaf: the unreachable server is named as such, and the remedy's `dig` asks it.
/// Loopback's broadcast address cannot be sent to (EACCES without SO_BROADCAST), which hickory
/// reported as "no connections available"; nothing leaves the machine.
#[test]
fn an_unreachable_dns_server_is_named_with_the_dig_that_asks_it() {
    let dns = closed_port();
    let dns_server = format!("127.255.255.255:{dns}");
    let report = check_only(
        "gateway-resolve",
        &[
            "--gateway",
            "gw.edgeprobe.test",
            "--dns-server",
            &dns_server,
            "--hosts-file",
            "/dev/null",
            "--timeout",
            "2s",
        ],
    )
    .json();
    assert_status(&report, "gateway-resolve", "error");
    let entry = report.check("gateway-resolve");
    assert!(
        entry
            .message
            .contains(&format!("cannot reach DNS server 127.255.255.255:{dns}")),
        "{}",
        entry.message
    );
    let fix = remedy(&report, "gateway-resolve");
    assert_contains(
        &fix,
        &format!("`dig gw.edgeprobe.test @127.255.255.255 -p {dns}`"),
    );
    assert!(
        !report
            .text_of("gateway-resolve")
            .contains("no connections available")
    );
}

// ---- 2: the 2038 limit by version ----

#[tokio::test(flavor = "multi_thread")]
async fn a_device_ca_past_2038_is_a_warning_on_1_2_and_an_error_on_1_1() {
    let modern = Tree::new("top-layer.toml", "/etc/aziot/config.toml", "post-2038");
    let report = check_config(&modern).await.json();
    let message = message_if(&report, "certificates-expiry", "warning");
    assert_contains(message, "2038-01-01");
    assert_contains(message, "32-bit time_t");
    assert!(!message.contains("libiothsm"), "{message}");

    let legacy = Tree::new("top-layer.yaml", "/etc/iotedge/config.yaml", "post-2038");
    let report = check_config(&legacy).await.json();
    let message = message_if(&report, "certificates-expiry", "error");
    assert_contains(message, "IoT Edge 1.1's libiothsm");
}

// ---- 3: file:// URIs on 1.2+ ----

/// The config checks of `tree` with its `config` fixture installed without `file://`: 1.2+'s
/// config.toml in /etc/aziot, 1.1's config.yaml in /etc/iotedge.
async fn check_with_plain_paths(tree: &Tree, config: &str) -> Report {
    let system_path = if config.ends_with(".toml") {
        "/etc/aziot/config.toml"
    } else {
        "/etc/iotedge/config.yaml"
    };
    tree.copy_replacing(system_path, &format!("config/{config}"), "file://", "");
    check_config(tree).await.json()
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_paths_in_config_toml_are_an_error_with_the_uri_to_write() {
    let tree = Tree::top_layer();
    let report = check_with_plain_paths(&tree, "top-layer.toml").await;
    assert_status(&report, "certificates-configured", "error");
    let text = report.text_of("certificates-configured");
    for (setting, path) in [
        ("trust_bundle_cert", "/var/aziot/certs/root-ca.pem"),
        (
            "[edge_ca] cert",
            "/var/aziot/certs/device-ca-full-chain.pem",
        ),
        ("[edge_ca] pk", "/var/aziot/secrets/device-ca.key.pem"),
    ] {
        assert_contains(&text, &format!("{setting} = \"{path}\" is a plain path"));
        assert_contains(&text, &format!("{setting} = \"file://{path}\""));
    }
    // The files themselves are still judged.
    assert_status(&report, "device-ca-key-match", "ok");

    // 1.1's config.yaml took plain absolute paths.
    let legacy = Tree::new("top-layer.yaml", "/etc/iotedge/config.yaml", "top");
    let report = check_with_plain_paths(&legacy, "top-layer.yaml").await;
    assert_status(&report, "certificates-configured", "ok");
}

// ---- 4: two certGen runs, two roots of one name ----

#[tokio::test(flavor = "multi_thread")]
async fn a_regenerated_root_of_the_same_name_is_told_apart_by_fingerprint() {
    let first = certgen_pki();
    let second = certgen_pki();
    let directory = tempfile::tempdir().expect("temporary directory");
    let old_root = write(directory.path(), "root.pem", first.root_pem());
    // certGen's device CA full chain ends with the root: the gateway sends it.
    let mut chain = second.server_chain();
    chain.push(second.root.der.clone());
    let gateway = serve_chain(chain, &second.server).await;
    let output = check_loopback(ports_of(&gateway), &old_root, "5s", &[]).await;
    let report = output.json();
    assert_status(&report, "gateway-cert-chain", "error");
    let text = report.text_of("gateway-cert-chain");
    assert_contains(&text, "a different root with the same name");
    assert_contains(&text, "the CA was regenerated");
    assert!(
        text.contains(&sha256_fingerprint(&first.root.der)),
        "{text}"
    );
    assert!(
        text.contains(&sha256_fingerprint(&second.root.der)),
        "{text}"
    );
    assert!(!text.contains("that file holds"), "{text}");

    // The same in the text report, and without the root in the chain (code 20).
    let gateway = serve_chain(second.server_chain(), &second.server).await;
    let output = check_loopback(
        ports_of(&gateway),
        &old_root,
        "5s",
        &["--output", "text", "--verbose"],
    )
    .await;
    assert!(
        output
            .stdout
            .contains("a different root with the same name"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains(&sha256_fingerprint(&first.root.der)));
}

// ---- 5: the trust bundle file is missing ----

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_trust_bundle_file_is_named_not_called_unconfigured() {
    let tree = Tree::top_layer();
    tree.remove("/var/aziot/certs/root-ca.pem");
    let edgehub = serve("top-edgehub-full-chain.pem", "top-edgehub.key.pem").await;
    let mut extra = ports("--port", &edgehub);
    extra.extend(strings(&["--only", "edgehub-listening-mqtt"]));
    let report = check(&tree, &extra).await.json();
    let message = message_if(&report, "edgehub-listening-mqtt", "warning");
    assert_contains(
        message,
        "trust_bundle_cert = `file:///var/aziot/certs/root-ca.pem` does not exist",
    );
    assert!(
        !message.contains("no trusted root is configured"),
        "{message}"
    );
    let fix = remedy(&report, "edgehub-listening-mqtt");
    assert!(!fix.contains("stale"), "{fix}");
    assert_contains(&fix, "trust_bundle_cert");
}

// ---- 6: --gateway against GatewayHostName ----

#[test]
fn gateway_flag_against_another_gateway_host_name_is_a_warning_naming_both() {
    let connection_string = format!(
        "HostName=contoso-hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={KEY};GatewayHostName=gw-b.edgeprobe.test"
    );
    let output = check_only(
        "gateway-hostname",
        &[
            "--gateway",
            "gw-a.edgeprobe.test",
            "--connection-string",
            &connection_string,
        ],
    );
    let report = output.json();
    let message = message_if(&report, "gateway-hostname", "warning");
    assert_contains(message, "`gw-a.edgeprobe.test` (--gateway)");
    assert_contains(message, "GatewayHostName is `gw-b.edgeprobe.test`");
    output.assert_not_shown(KEY);
}

// ---- 7: name-mismatch remedies fix the leaf first ----

#[tokio::test(flavor = "multi_thread")]
async fn a_leaf_dialling_the_wrong_name_is_told_to_fix_itself_in_the_gateways_syntax() {
    // The gateway (IoT Edge 1.1) is `other.edgeprobe.test` and serves its certificate; this
    // leaf dials `gateway.edgeprobe.test`.
    let gateway = crate::harness::serve_fixture(
        "wrong-name-server-full-chain.pem",
        "wrong-name-server.key.pem",
        &[],
    )
    .await;
    let directory = tempfile::tempdir().expect("temporary directory");
    let yaml = fs::read_to_string(fixture("gateway/config/top-layer.yaml"))
        .expect("fixture")
        .replace("gateway.edgeprobe.test", "other.edgeprobe.test");
    let copy = write(directory.path(), "config.yaml", yaml);
    let copy = copy.display().to_string();
    let output = check_loopback(
        ports_of(&gateway),
        &fixture("root-ca.pem"),
        "5s",
        &["--gateway-config", &copy],
    )
    .await;
    let report = output.json();
    assert_status(&report, "gateway-cert-hostname", "error");
    let fix = remedy(&report, "gateway-cert-hostname");
    assert!(
        fix.starts_with(
            "set GatewayHostName=other.edgeprobe.test in this leaf's connection string"
        ),
        "{fix}"
    );
    assert_contains(&fix, "/etc/iotedge/config.yaml");
    assert!(!fix.contains("config.toml"), "{fix}");
    assert!(!fix.contains("iotedge config apply"), "{fix}");

    assert_status(&report, "gateway-hostname-matches-config", "error");
    let fix = remedy(&report, "gateway-hostname-matches-config");
    assert!(
        fix.starts_with("set GatewayHostName=other.edgeprobe.test in the leaf's connection string"),
        "{fix}"
    );
    assert_contains(&fix, "/etc/iotedge/config.yaml");
    assert_contains(&fix, "sudo systemctl restart iotedge");
    assert!(!fix.contains("iotedge config apply"), "{fix}");
}

/// Item 7, an address as GatewayHostName: never "set `hostname` to 127.0.0.1".
#[tokio::test(flavor = "multi_thread")]
async fn an_address_as_gateway_host_name_is_told_to_dial_the_certified_name() {
    let served = Served::pki(&certgen_pki()).await;
    let directory = tempfile::tempdir().expect("temporary directory");
    let copy = write(
        directory.path(),
        "config.toml",
        fs::read_to_string(fixture("gateway/config/top-layer.toml")).expect("fixture"),
    );
    let connection_string = format!(
        "HostName=contoso-hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={KEY};GatewayHostName=127.0.0.1"
    );
    let root = served.root.display().to_string();
    let copy = copy.display().to_string();
    let output = check_ports(
        ports_of(&served.gateway),
        &[
            "--connection-string",
            &connection_string,
            "--ca-file",
            &root,
            "--gateway-config",
            &copy,
        ],
    )
    .await;
    let report = output.json();
    assert_status(&report, "gateway-cert-hostname", "error");
    for id in ["gateway-cert-hostname", "gateway-hostname-matches-config"] {
        let fix = remedy(&report, id);
        assert!(
            fix.starts_with(&format!("set GatewayHostName={LOOPBACK_GATEWAY}"))
                || fix.contains(&format!("set GatewayHostName={LOOPBACK_GATEWAY}")),
            "{id}: {fix}"
        );
        assert!(!fix.contains("to `127.0.0.1`"), "{id}: {fix}");
        assert!(
            fix.contains(&format!("127.0.0.1 {LOOPBACK_GATEWAY}")),
            "{id}: {fix}"
        );
    }
}

// ---- 8: a CA certificate served as the server certificate ----

#[tokio::test(flavor = "multi_thread")]
async fn a_device_ca_served_as_the_server_certificate_is_named_as_such() {
    let pki = certgen_pki();
    // certGen's device CA full chain, served as is with the device CA's key.
    let chain = vec![
        pki.device_ca.der.clone(),
        pki.intermediate.der.clone(),
        pki.root.der.clone(),
    ];
    let served = Served::start(&pki, chain, &pki.device_ca).await;
    let report = served.check(&[]).await.json();
    assert_status(&report, "gateway-cert-hostname", "error");
    let fix = remedy(&report, "gateway-cert-hostname");
    assert_contains(&fix, "serves a CA certificate");
    assert_contains(&fix, "serve a server certificate issued by it");
    assert!(!fix.contains("set `hostname`"), "{fix}");

    let port = served.gateway.ports.mqtt.to_string();
    let root = served.root.clone();
    let output = tokio::task::spawn_blocking(move || {
        run(&[
            "connect",
            &format!("{LOOPBACK_GATEWAY}:{port}"),
            "--resolve",
            &format!("{LOOPBACK_GATEWAY}:127.0.0.1"),
            "--ca-file",
            &root.display().to_string(),
        ])
    })
    .await
    .expect("connect ran");
    assert!(
        output.stdout.contains("a CA certificate is being served"),
        "{}",
        output.all()
    );
    assert!(!output.stdout.contains("subjectAltName does not list it"));
}

// ---- 10: PKCS#12 files ----

#[test]
fn a_pfx_is_recognised_with_the_openssl_command_to_extract_it() {
    let pki = certgen_pki();
    let directory = tempfile::tempdir().expect("temporary directory");
    let cert = write(directory.path(), "device.cert.pem", &pki.device_ca.pem);
    let key = write(directory.path(), "device.key.pem", pki.device_ca.key_pem());
    let pfx = directory.path().join("device.cert.pfx");
    // As certGen.sh's generate_device_certificate_common does.
    let status = Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:", "-name", "device"])
        .arg("-in")
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .arg("-out")
        .arg(&pfx)
        .status()
        .expect("openssl runs (bash scripts/test installs it)");
    assert!(status.success());
    let file = pfx.display().to_string();
    let extract = format!("openssl pkcs12 -in {file} -nokeys -out cert.pem");

    let inspect = run(&["inspect", &file]);
    assert!(inspect.stdout.contains("PKCS#12"), "{}", inspect.all());
    assert!(inspect.stdout.contains(&extract), "{}", inspect.all());
    assert!(!inspect.stdout.contains("PKCS#8"), "{}", inspect.all());

    let verify = run(&["verify", "--ca-file", &file, &cert.display().to_string()]);
    assert_eq!(verify.code, 2, "{}", verify.all());
    assert!(verify.stderr.contains(&extract), "{}", verify.all());
    assert!(!verify.all().contains("private key"), "{}", verify.all());

    let verify = run(&["verify", "--ca-file", &cert.display().to_string(), &file]);
    assert!(verify.stderr.contains("PKCS#12"), "{}", verify.all());

    let report = check_only(
        "root-ca-file",
        &["--gateway", LOOPBACK_GATEWAY, "--ca-file", &file],
    )
    .json();
    assert_status(&report, "root-ca-file", "error");
    report.assert_text_contains("root-ca-file", &extract);
}

// ---- 11: one unreadable directory, one sentence ----

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_directory_holding_two_files_is_said_once() {
    let tree = Tree::top_layer();
    // aziotcs is another user than the owner of the 0700 certs directory, which holds both
    // the device CA and the trust bundle.
    tree.chmod("/var/aziot/certs", 0o700);
    let owner = std::os::unix::fs::MetadataExt::uid(
        &fs::metadata(tree.path("/var/aziot/certs")).expect("directory"),
    );
    tree.users(owner + 1, owner);
    let report = check_config(&tree).await.json();
    let message = message_if(&report, "certificates-configured", "error");
    assert_eq!(
        message.matches("cannot enter directory").count(),
        1,
        "{message}"
    );
    // 14: the command is for the gateway, not for the copy under --root.
    let fix = remedy(&report, "certificates-configured");
    assert_contains(&fix, "sudo chown aziotcs:aziotcs /var/aziot/certs ");
    assert!(!fix.contains(&tree.root().display().to_string()), "{fix}");
}

// ---- 12: the gateway written as HostName ----

#[test]
fn the_gateway_in_host_name_is_named_as_the_mistake() {
    let connection_string =
        format!("HostName={LOOPBACK_GATEWAY};DeviceId=leaf-01;SharedAccessKey={KEY}");
    let output = check_only(
        "connection-string",
        &[
            "--connection-string",
            &connection_string,
            "--gateway",
            LOOPBACK_GATEWAY,
        ],
    );
    let report = output.json();
    let message = message_if(&report, "connection-string", "error");
    assert_contains(
        message,
        &format!("HostName=`{LOOPBACK_GATEWAY}` is the gateway"),
    );
    assert!(!message.contains("bypassing"), "{message}");
    let fix = remedy(&report, "connection-string");
    assert_contains(&fix, "HostName=<hub>.azure-devices.net");
    assert_contains(&fix, &format!("GatewayHostName={LOOPBACK_GATEWAY}"));
    output.assert_not_shown(KEY);
}

// ---- 13: every port refused at an address from the hosts file ----

#[tokio::test(flavor = "multi_thread")]
async fn refused_ports_at_a_hosts_file_address_name_that_source() {
    let (_directory, hosts) = temp_file("hosts", format!("127.0.0.1 {LOOPBACK_GATEWAY}\n"));
    let output = check_ports(
        [closed_port(), closed_port(), closed_port()],
        &[
            "--gateway",
            LOOPBACK_GATEWAY,
            "--hosts-file",
            &hosts.display().to_string(),
            "--ca-file",
            &fixture("root-ca.pem").display().to_string(),
        ],
    )
    .await;
    let report = output.json();
    for id in CONNECT_CHECKS {
        assert_status(&report, id, "error");
        let fix = remedy(&report, id);
        assert!(fix.contains("edgeHub"), "{id}: {fix}");
        assert!(
            fix.contains(&format!(
                "127.0.0.1 may not be the gateway at all: it came from hosts file {}",
                hosts.display()
            )),
            "{id}: {fix}"
        );
    }
}

// ---- 14: the small ones ----

/// A certificate 47 hours from expiry is not "1 day" away.
#[tokio::test(flavor = "multi_thread")]
async fn expiry_in_47_hours_reads_as_1_day_23_hours() {
    let now = OffsetDateTime::now_utc();
    let ca = Validity::around(now, 1, 365).expect("validity");
    let server = Validity::new(
        now - Duration::days(1),
        now + Duration::hours(47) + Duration::minutes(30),
    );
    let pki = GatewayPki::generate_with_validity(LOOPBACK_GATEWAY, ca, server).expect("PKI");
    let report = Served::pki(&pki).await.check(&[]).await.json();
    let message = message_if(&report, "gateway-cert-expiry", "warning");
    assert_contains(message, "expires in 1 day 23 hours");
}

/// certGen's 30-day default: one certificate per line, and how to make longer ones.
#[tokio::test(flavor = "multi_thread")]
async fn certgen_30_day_certificates_warn_one_per_line_and_say_how_to_last_longer() {
    let now = OffsetDateTime::now_utc();
    let thirty_days = Validity::new(
        now - Duration::hours(1),
        now + Duration::days(30) - Duration::hours(1),
    );
    let pki = GatewayPki::generate_with_validity(LOOPBACK_GATEWAY, thirty_days, thirty_days)
        .expect("PKI");
    let output = Served::pki(&pki).await.check(&["--output", "text"]).await;
    let section: Vec<&str> = output
        .stdout
        .lines()
        .skip_while(|line| !line.contains("gateway certificates are valid and not close to expiry"))
        .collect();
    let warned: Vec<&&str> = section
        .iter()
        .filter(|line| line.contains("expires in"))
        .collect();
    // Server, device CA, intermediate and root: four certificates, four lines.
    assert_eq!(warned.len(), 4, "{}", output.stdout);
    assert!(
        warned.iter().all(|line| line.len() < 200),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("certGen.sh's test certificates last 30 days"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("DEFAULT_VALIDITY_DAYS=365 ./certGen.sh")
    );
}

#[test]
fn demo_help_does_not_describe_targets() {
    let output = run(&["demo", "--help"]);
    assert_eq!(output.code, 0);
    assert!(
        !output.stdout.contains("with --targets"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_system_config_path_is_read_under_root() {
    let tree = Tree::top_layer();
    let output = check_args(
        &tree,
        &[
            "--config",
            "/etc/aziot/config.toml",
            "--only",
            "config-well-formed",
        ],
    )
    .await;
    let report = output.json();
    assert_status(&report, "config-well-formed", "ok");
    let config = report.target.config.clone().unwrap_or_default();
    assert!(
        config.starts_with(&tree.root().display().to_string()),
        "{config}"
    );
}

/// The device CA file without its intermediate: 20, as `openssl verify` says on the same
/// files, not s_client's 21.
#[tokio::test(flavor = "multi_thread")]
async fn device_ca_chain_reports_the_code_openssl_verify_prints() {
    let tree = Tree::top_layer();
    let chain = fs::read_to_string(tree.path("/var/aziot/certs/device-ca-full-chain.pem"))
        .expect("device CA file");
    let end = "-----END CERTIFICATE-----\n";
    let first = &chain[..chain.find(end).expect("a PEM certificate") + end.len()];
    tree.write("/var/aziot/certs/device-ca-full-chain.pem", first);
    let openssl = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(tree.path("/var/aziot/certs/root-ca.pem"))
        .arg(tree.path("/var/aziot/certs/device-ca-full-chain.pem"))
        .output()
        .expect("openssl runs");
    let openssl = String::from_utf8_lossy(&openssl.stdout).into_owned()
        + &String::from_utf8_lossy(&openssl.stderr);
    assert_contains(&openssl, "error 20 at 0 depth lookup");
    let report = check_config(&tree).await.json();
    let message = message_if(&report, "device-ca-chain", "error");
    assert_contains(message, "Verify return code: 20");
    assert!(
        !report
            .text_of("device-ca-chain")
            .contains("return code: 21")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_rows_for_the_same_host_are_told_apart() {
    let (directory, targets) = targets_file(
        "targets.txt",
        &format!("{LOOPBACK_GATEWAY} a.pem\n{LOOPBACK_GATEWAY} b.pem\n"),
        &[("root-ca.pem", "a.pem"), ("other-root-ca.pem", "b.pem")],
    );
    let hosts = write(
        directory.path(),
        "hosts",
        format!("127.0.0.1 {LOOPBACK_GATEWAY}\n"),
    );
    let port = closed_port();
    let output = check_ports(
        [port; 3],
        &[
            "--targets",
            &targets.display().to_string(),
            "--hosts-file",
            &hosts.display().to_string(),
            "--concurrency",
            "1",
            "--output",
            "text",
        ],
    )
    .await;
    let rows: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("error") || line.starts_with("ok"))
        .collect();
    assert_eq!(rows.len(), 2, "{}", output.stdout);
    assert_ne!(rows[0], rows[1], "{}", output.stdout);
    assert!(
        rows.iter().any(|row| row.contains("(line 2, CA ")),
        "{}",
        output.stdout
    );
}

// ---- 15: titles that state a fact ----

/// "config provisions the IoT Edge device with a well-formed identity" is not OK for a DPS
/// section without its ID scope.
#[tokio::test(flavor = "multi_thread")]
async fn dps_without_an_id_scope_is_not_a_well_formed_identity() {
    let tree = Tree::top_layer();
    let toml = fs::read_to_string(fixture("gateway/config/top-layer.toml")).expect("fixture");
    let start = toml.find("[provisioning]").expect("a provisioning section");
    let end = toml[start..]
        .find("\n[")
        .map_or(toml.len(), |offset| start + offset + 1);
    let toml = format!(
        "{}[provisioning]\nsource = \"dps\"\n[provisioning.attestation]\nmethod = \"symmetric_key\"\n{}",
        &toml[..start],
        &toml[end..]
    );
    tree.write("/etc/aziot/config.toml", &toml);
    let report = check_config(&tree).await.json();
    assert_status(&report, "connection-string", "error");
    report.assert_text_contains("connection-string", "id_scope");
}

/// "... readable by IoT Edge" is claimed only when it was checked: a copy without the
/// service users says what was not checked.
#[tokio::test(flavor = "multi_thread")]
async fn readable_by_iot_edge_is_not_claimed_when_access_was_not_checked() {
    let tree = Tree::top_layer();
    tree.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    let report = check_config(&tree).await.json();
    let message = message_if(&report, "certificates-configured", "ok");
    assert!(!message.contains("readable by IoT Edge"), "{message}");
    assert_contains(message, "not checked");
}
