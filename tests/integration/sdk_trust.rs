//! `sdk-trust` over `--root` trees laid out like real leaf devices: Debian's OpenSSL layout
//! (absolute links included) with the `.pem` trap, JREs whose `cacerts` keytool wrote with and
//! without the root, a .NET CurrentUser Root store of `.pfx` files from `openssl pkcs12`,
//! `NODE_EXTRA_CA_CERTS` set and unset, and a certifi bundle. The stores are made by the real
//! tools (Debian's default JRE's keytool, openssl); with CI=true a missing one fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::brokers::required;
/// The variables edgeprobe reads to find runtimes' stores: cleared for every run, so the
/// machine's own environment never leaks into a device tree's verdict.
use edgeprobe::sdk_trust::VARIABLES;

use crate::harness::{
    Run, assert_contains, assert_some_contains, assert_succeeded, edgeprobe, fixture,
};

// ---- The check's JSON, as a consumer reads it ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Info {
    root_ca_file: Option<PathBuf>,
    runtimes: Vec<RuntimeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeEntry {
    runtime: String,
    found_by: Option<String>,
    location: Option<PathBuf>,
    verdict: String,
    stores: Vec<StoreEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreEntry {
    path: PathBuf,
    format: String,
    source: String,
    role: String,
    holds_root: Option<bool>,
    found_in: Option<PathBuf>,
    missing: bool,
    note: Option<String>,
}

/// What one run said: the check's result, message, remedy and data.
struct Verdict {
    result: String,
    message: String,
    remedy: Option<String>,
    text: String,
    info: Info,
}

impl Verdict {
    /// Fails unless `runtime`'s verdict is `expected`, showing the text report.
    fn assert_runtime(&self, runtime: &str, expected: &str) {
        assert_eq!(self.runtime(runtime).verdict, expected, "{}", self.text);
    }

    fn runtime(&self, name: &str) -> &RuntimeEntry {
        self.info
            .runtimes
            .iter()
            .find(|entry| entry.runtime == name)
            .unwrap_or_else(|| panic!("no {name} in {:#?}", self.info.runtimes))
    }
}

// ---- A device tree ----

struct Device {
    tree: tempfile::TempDir,
    environment: Vec<(&'static str, String)>,
}

impl Device {
    /// An empty device: no runtime, no store.
    fn empty() -> Self {
        Device {
            tree: tempfile::tempdir().expect("a temporary directory"),
            environment: vec![("HOME", "/home/pi".to_owned())],
        }
    }

    /// Debian's OpenSSL: `/etc/ssl/certs` with the bundle (holding another root) and its hashed
    /// links, `/usr/lib/ssl/{cert.pem,certs}` as absolute links to them, and libssl.
    fn debian() -> Self {
        let device = Device::empty();
        device.copy(
            &fixture("other-root-ca.pem"),
            "/etc/ssl/certs/ca-certificates.crt",
        );
        device.copy(
            &fixture("other-root-ca.pem"),
            "/usr/share/ca-certificates/mozilla/Other_Root.crt",
        );
        device.link(
            "/usr/share/ca-certificates/mozilla/Other_Root.crt",
            "/etc/ssl/certs/Other_Root.pem",
        );
        device.link(
            "Other_Root.pem",
            &format!(
                "/etc/ssl/certs/{}.0",
                subject_hash(&fixture("other-root-ca.pem"))
            ),
        );
        device.link(
            "/etc/ssl/certs/ca-certificates.crt",
            "/usr/lib/ssl/cert.pem",
        );
        device.link("/etc/ssl/certs", "/usr/lib/ssl/certs");
        device.write("/usr/lib/x86_64-linux-gnu/libssl.so.3", b"");
        device
    }

    fn path(&self, device_path: &str) -> PathBuf {
        self.tree.path().join(device_path.trim_start_matches('/'))
    }

    fn write(&self, device_path: &str, bytes: &[u8]) {
        let path = self.path(device_path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }

    fn copy(&self, from: &Path, device_path: &str) {
        self.write(device_path, &std::fs::read(from).expect("a fixture"));
    }

    /// A symbolic link at `device_path` to `target`, absolute as Debian writes them.
    fn link(&self, target: &str, device_path: &str) {
        let path = self.path(device_path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, path).expect("symlink");
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.environment.retain(|(known, _)| *known != name);
        self.environment.push((name, value.to_owned()));
    }

    /// `edgeprobe check --ca-file root-ca.pem` and `arguments`, against closed loopback ports
    /// (the check needs no gateway when given the file).
    fn run(&self, arguments: &[&str]) -> Run {
        let mut command = self.check_command([1, 1, 1]);
        command.arg("--ca-file").arg(fixture("root-ca.pem"));
        command.args(arguments);
        command.output().expect("edgeprobe runs").into()
    }

    /// `edgeprobe check --output json` of this tree, in this device's environment only, against
    /// the gateway on loopback at these MQTT, AMQP and HTTPS ports.
    fn check_command(&self, ports: [u16; 3]) -> Command {
        let mut command = edgeprobe();
        for name in VARIABLES {
            command.env_remove(name);
        }
        command.envs(self.environment.iter().map(|(name, value)| (name, value)));
        command.args([
            "check",
            "--output",
            "json",
            "--gateway",
            "gateway.edgeprobe.test",
        ]);
        command.args(["--resolve", "gateway.edgeprobe.test:127.0.0.1"]);
        for (protocol, port) in ["mqtt", "amqp", "https"].into_iter().zip(ports) {
            command.arg("--port").arg(format!("{protocol}={port}"));
        }
        command.arg("--root").arg(self.tree.path());
        command
    }

    /// [`Device::run`] with `--only sdk-trust` and these `--sdk` values: the check's verdict.
    fn check(&self, sdk: &[&str]) -> Verdict {
        let mut arguments = vec!["--only", "sdk-trust"];
        for runtime in sdk {
            arguments.extend(["--sdk", runtime]);
        }
        let run = self.run(&arguments);
        let report = run.json();
        let entry = report
            .checks
            .get("sdk-trust")
            .unwrap_or_else(|| panic!("no sdk-trust in {}", run.stdout));
        Verdict {
            result: entry.result.result.clone(),
            message: entry.message.clone(),
            remedy: entry.remedy.clone(),
            text: entry.result.details.join("\n"),
            info: serde_json::from_value(entry.additional_info.clone()).unwrap_or_else(|error| {
                panic!("additional_info ({error}): {}", entry.additional_info)
            }),
        }
    }
}

/// `openssl x509 -hash`: the name OpenSSL looks a certificate up by in a directory.
fn subject_hash(certificate: &Path) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-hash", "-noout", "-in"])
        .arg(certificate)
        .output()
        .expect("openssl runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Runs a tool that makes a store, failing the test with its output when it fails.
fn make(command: &mut Command) {
    let output = command.output().expect("the tool runs");
    assert_succeeded(&output, &format!("{command:?}"));
}

/// Debian's default JRE's keytool (default-jre-headless), or `None` to skip (a failure on CI).
fn keytool() -> Option<PathBuf> {
    let found = ["/usr/bin/keytool", "/usr/lib/jvm/default-java/bin/keytool"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file());
    required("keytool (default-jre-headless)", found)
}

/// A truststore written by keytool, of `storetype`, holding `certificates`.
fn truststore(keytool: &Path, storetype: &str, certificates: &[&str], path: &Path) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    for certificate in certificates {
        make(
            Command::new(keytool)
                .args(["-importcert", "-noprompt", "-storetype", storetype])
                .arg("-keystore")
                .arg(path)
                .args(["-storepass", "changeit", "-alias", certificate])
                .arg("-file")
                .arg(fixture(certificate)),
        );
    }
}

// ---- The tests ----

/// Issue 19's default: without --sdk every runtime found on the device is checked (here
/// Debian's OpenSSL, so the C SDK); on a device with none, a skip that says where it looked.
#[test]
fn without_sdk_every_runtime_found_is_checked() {
    let run = Device::debian().run(&[]);
    let report = run.json();
    let entry = report
        .checks
        .get("sdk-trust")
        .unwrap_or_else(|| panic!("no sdk-trust by default: {}", run.stdout));
    assert_eq!(entry.result.result, "warning", "{}", entry.message);
    let runtimes: Vec<&str> = entry.additional_info["runtimes"]
        .as_array()
        .expect("runtimes")
        .iter()
        .filter_map(|runtime| runtime["runtime"].as_str())
        .collect();
    assert_eq!(runtimes, ["c"], "{}", entry.message);

    let report = Device::empty().run(&[]).json();
    let entry = &report.checks["sdk-trust"];
    assert_eq!(entry.result.result, "skipped", "{}", entry.message);
    assert!(
        entry
            .message
            .contains("no device SDK runtime was found on this device (looked for"),
        "{}",
        entry.message
    );
}

#[test]
fn a_debian_root_copied_as_pem_is_not_installed_for_the_c_sdk() {
    let device = Device::debian();
    device.copy(
        &fixture("root-ca.pem"),
        "/usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem",
    );
    let verdict = device.check(&["c"]);
    assert_eq!(verdict.result, "warning", "{}", verdict.text);
    let c = verdict.runtime("c");
    assert_eq!(c.verdict, "missing");
    assert_eq!(
        c.found_by.as_deref(),
        Some("/usr/lib/x86_64-linux-gnu/libssl.so.3")
    );
    assert_eq!(c.stores[0].path, Path::new("/usr/lib/ssl/cert.pem"));
    assert_eq!(c.stores[0].format, "pem-file");
    assert_eq!(c.stores[0].holds_root, Some(false));
    let note = c.stores[0].note.as_deref().unwrap_or_default();
    assert!(
        note.contains("azure-iot-test-only.root.ca.cert.pem holds the root")
            && note.contains(".crt"),
        "{note}"
    );
    assert_eq!(c.stores[1].path, Path::new("/usr/lib/ssl/certs"));
    assert_eq!(c.stores[1].format, "hashed-directory");
    let remedy = verdict.remedy.as_deref().unwrap_or_default();
    assert_contains(remedy, "OPTION_TRUSTED_CERT");
    assert_contains(remedy, "root-ca.pem.crt && sudo update-ca-certificates");
    assert_eq!(
        verdict.info.root_ca_file.as_deref(),
        Some(fixture("root-ca.pem").as_path())
    );
}

#[test]
fn a_root_in_the_debian_bundle_is_found_through_its_links_inside_the_root() {
    let device = Device::debian();
    let mut bundle = std::fs::read(fixture("other-root-ca.pem")).unwrap();
    bundle.extend(std::fs::read(fixture("root-ca.pem")).unwrap());
    device.write("/etc/ssl/certs/ca-certificates.crt", &bundle);
    let verdict = device.check(&["c"]);
    assert_eq!(verdict.result, "ok", "{}", verdict.text);
    let c = verdict.runtime("c");
    assert_eq!(c.verdict, "trusted");
    assert_eq!(c.stores[0].holds_root, Some(true));
    assert!(verdict.remedy.is_none());
}

#[test]
fn a_hashed_directory_counts_only_hash_names() {
    let mut device = Device::debian();
    device.set("SSL_CERT_DIR", "/opt/certs");
    device.copy(&fixture("root-ca.pem"), "/opt/certs/gateway-root.pem");
    let verdict = device.check(&["c"]);
    let c = verdict.runtime("c");
    assert_eq!(c.verdict, "missing", "{}", verdict.text);
    let directory = &c.stores[1];
    assert_eq!(
        (directory.path.as_path(), directory.source.as_str()),
        (Path::new("/opt/certs"), "SSL_CERT_DIR")
    );
    assert_note(directory, "openssl rehash /opt/certs");
    // After `openssl rehash`: the hash name is a link to the file.
    device.link(
        "gateway-root.pem",
        &format!("/opt/certs/{}.0", subject_hash(&fixture("root-ca.pem"))),
    );
    let verdict = device.check(&["c"]);
    let c = verdict.runtime("c");
    assert_eq!(c.verdict, "trusted", "{}", verdict.text);
    assert!(c.stores[1].found_in.is_some());
}

#[test]
fn a_jre_with_and_without_the_root_in_cacerts() {
    let Some(keytool) = keytool() else { return };
    let device = Device::debian();
    // Debian's layout: the JRE's cacerts links to /etc/ssl/certs/java/cacerts; default-java
    // links to the JRE (one JRE, reported once).
    let jre = "/usr/lib/jvm/java-17-openjdk-amd64";
    device.write(&format!("{jre}/bin/java"), b"");
    device.link(
        "/etc/ssl/certs/java/cacerts",
        &format!("{jre}/lib/security/cacerts"),
    );
    device.link("java-17-openjdk-amd64", "/usr/lib/jvm/default-java");
    let store = device.path("/etc/ssl/certs/java/cacerts");
    truststore(&keytool, "pkcs12", &["other-root-ca.pem"], &store);

    let verdict = device.check(&["java"]);
    assert_eq!(verdict.result, "warning", "{}", verdict.text);
    assert_eq!(
        verdict.info.runtimes.len(),
        1,
        "{:#?}",
        verdict.info.runtimes
    );
    let java = verdict.runtime("java");
    assert_eq!(java.verdict, "missing");
    assert_eq!(java.location.as_deref(), Some(Path::new(jre)));
    assert_eq!(java.stores[0].format, "java-keystore");
    assert_eq!(java.stores[0].holds_root, Some(false));
    let remedy = verdict.remedy.as_deref().unwrap_or_default();
    assert!(
        remedy.contains(&format!(
            "{jre}/bin/keytool -importcert -cacerts -storepass changeit"
        )) && remedy.contains("ca-certificates-java"),
        "{remedy}"
    );

    // keytool -importcert into the same store: now the JVM trusts it.
    truststore(&keytool, "pkcs12", &["root-ca.pem"], &store);
    let verdict = device.check(&["java"]);
    assert_eq!(verdict.result, "ok", "{}", verdict.text);
    assert_eq!(verdict.runtime("java").verdict, "trusted");

    // The JKS store ca-certificates-java writes reads the same way.
    std::fs::remove_file(&store).unwrap();
    truststore(
        &keytool,
        "jks",
        &["other-root-ca.pem", "root-ca.pem"],
        &store,
    );
    assert_eq!(device.check(&["java"]).runtime("java").verdict, "trusted");
}

#[test]
fn a_certificate_without_javas_trust_attribute_is_not_trusted_by_the_jvm() {
    let device = Device::empty();
    let jre = "/opt/java/openjdk";
    device.write(&format!("{jre}/bin/java"), b"");
    let store = device.path(&format!("{jre}/lib/security/cacerts"));
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    make(
        Command::new("openssl")
            .args([
                "pkcs12",
                "-export",
                "-nokeys",
                "-passout",
                "pass:changeit",
                "-in",
            ])
            .arg(fixture("root-ca.pem"))
            .arg("-out")
            .arg(&store),
    );
    device.check(&["java"]).assert_runtime("java", "missing");
}

#[test]
fn an_unreadable_truststore_is_a_note_and_never_an_ok() {
    let device = Device::empty();
    let jre = "/usr/lib/jvm/java-21-openjdk-arm64";
    device.write(&format!("{jre}/bin/java"), b"");
    device.write(&format!("{jre}/lib/security/cacerts"), b"\x30\x80garbage");
    let verdict = device.check(&["java"]);
    assert_eq!(verdict.result, "warning", "{}", verdict.text);
    let java = verdict.runtime("java");
    assert_eq!(java.verdict, "unknown");
    assert_eq!(java.stores[0].holds_root, None);
    assert!(
        java.stores[0]
            .note
            .as_deref()
            .is_some_and(|note| note.contains("cacerts"))
    );
    assert_contains(&verdict.text, "cannot be judged");
}

#[test]
fn the_dotnet_current_user_root_store() {
    let device = Device::debian();
    device.write("/usr/share/dotnet/dotnet", b"");
    let store = "/home/pi/.dotnet/corefx/cryptography/x509stores/root";
    std::fs::create_dir_all(device.path(store)).unwrap();
    let verdict = device.check(&["dotnet"]);
    let dotnet = verdict.runtime("dotnet");
    assert_eq!(dotnet.verdict, "missing", "{}", verdict.text);
    assert_eq!(dotnet.found_by.as_deref(), Some("/usr/share/dotnet"));
    assert_eq!(dotnet.stores[0].path, Path::new(store));
    assert_eq!(dotnet.stores[0].format, "dotnet-store-directory");
    let remedy = verdict.remedy.as_deref().unwrap_or_default();
    assert_contains(remedy, "InstallCACert()");

    // As .NET names them: the SHA-1 thumbprint, upper-case hex, `.pfx`.
    let thumbprint = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(fixture("root-ca.pem"))
        .output()
        .expect("openssl runs");
    let thumbprint = String::from_utf8_lossy(&thumbprint.stdout)
        .split('=')
        .nth(1)
        .unwrap_or_default()
        .trim()
        .replace(':', "");
    let pfx = device.path(&format!("{store}/{thumbprint}.pfx"));
    // OpenSSL 3's default (PBES2, AES-256-CBC), then the PKCS#12 3DES .NET's own export uses.
    for encryption in [&[][..], &["-certpbe", "PBE-SHA1-3DES"]] {
        make(
            Command::new("openssl")
                .args(["pkcs12", "-export", "-nokeys", "-passout", "pass:"])
                .args(encryption)
                .arg("-in")
                .arg(fixture("root-ca.pem"))
                .arg("-out")
                .arg(&pfx),
        );
        let verdict = device.check(&["dotnet"]);
        assert_eq!(verdict.result, "ok", "{encryption:?}: {}", verdict.text);
        let dotnet = verdict.runtime("dotnet");
        assert_eq!(dotnet.verdict, "trusted");
        assert_eq!(
            dotnet.stores[0].found_in.as_deref(),
            Some(Path::new(&format!("{store}/{thumbprint}.pfx")))
        );
    }
    // A .pfx that cannot be opened leaves the answer open.
    std::fs::write(&pfx, b"\x30\x03\x02\x01\x03").unwrap();
    device
        .check(&["dotnet"])
        .assert_runtime("dotnet", "unknown");
}

#[test]
fn node_extra_ca_certs_set_and_unset() {
    let mut device = Device::debian();
    device.write("/usr/bin/node", b"");
    let verdict = device.check(&["node"]);
    assert_eq!(verdict.result, "warning", "{}", verdict.text);
    let node = verdict.runtime("node");
    assert_eq!(node.verdict, "missing");
    assert_eq!(node.found_by.as_deref(), Some("/usr/bin/node"));
    // The OS store holds nothing for Node.js: it is not even listed.
    assert!(node.stores.is_empty(), "{:?}", node.stores);
    assert_contains(&verdict.text, "does not read the OS store");
    let remedy = verdict.remedy.as_deref().unwrap_or_default();
    assert!(
        remedy.contains("`ca` option") && remedy.contains("NODE_EXTRA_CA_CERTS="),
        "{remedy}"
    );

    device.copy(&fixture("root-ca.pem"), "/opt/app/gateway-root.pem");
    device.set("NODE_EXTRA_CA_CERTS", "/opt/app/gateway-root.pem");
    let verdict = device.check(&["node"]);
    assert_eq!(verdict.result, "ok", "{}", verdict.text);
    let node = verdict.runtime("node");
    assert_eq!(node.verdict, "trusted");
    assert_eq!(node.stores[0].source, "NODE_EXTRA_CA_CERTS");
    assert_eq!(node.stores[0].path, Path::new("/opt/app/gateway-root.pem"));

    // Set to a file that is not there: Node.js warns and trusts nothing more.
    device.set("NODE_EXTRA_CA_CERTS", "/opt/app/missing.pem");
    let node = device.check(&["node"]);
    let node = node.runtime("node");
    assert_eq!(
        (node.verdict.as_str(), node.stores[0].missing),
        ("missing", true)
    );
}

#[test]
fn a_certifi_bundle_is_what_requests_reads_not_the_sdk() {
    let mut device = Device::debian();
    device.write("/usr/bin/python3", b"");
    device.copy(
        &fixture("root-ca.pem"),
        "/usr/local/lib/python3.11/dist-packages/certifi/cacert.pem",
    );
    let verdict = device.check(&["python"]);
    let python = verdict.runtime("python");
    assert_eq!(python.verdict, "missing", "{}", verdict.text);
    let requests: Vec<&StoreEntry> = python
        .stores
        .iter()
        .filter(|store| store.role == "requests")
        .collect();
    assert_eq!(requests.len(), 1, "{:?}", python.stores);
    assert_eq!(
        requests[0].path,
        Path::new("/usr/local/lib/python3.11/dist-packages/certifi/cacert.pem")
    );
    assert_eq!(
        (requests[0].source.as_str(), requests[0].holds_root),
        ("certifi", Some(true))
    );
    assert_some_contains(verdict.remedy.as_deref(), "IOTEDGE_ROOT_CA_CERT_PATH");

    // The edge sample's variable names the file the SDK is given.
    device.copy(&fixture("root-ca.pem"), "/home/pi/root.pem");
    device.set("IOTEDGE_ROOT_CA_CERT_PATH", "/home/pi/root.pem");
    let verdict = device.check(&["python"]);
    assert_eq!(verdict.result, "ok", "{}", verdict.text);
    assert_eq!(
        verdict.runtime("python").stores[0].source,
        "IOTEDGE_ROOT_CA_CERT_PATH"
    );
}

#[test]
fn every_runtime_found_or_none() {
    let device = Device::empty();
    // Asked for by name and absent: said so, never OK.
    let verdict = device.check(&["java", "node"]);
    assert_eq!(verdict.result, "warning", "{}", verdict.text);
    assert_eq!(verdict.runtime("java").verdict, "not-found");
    assert_eq!(verdict.runtime("node").found_by, None);
    // `--sdk all` on a device without runtimes: nothing to judge.
    let report = device.run(&["--sdk", "all"]).json();
    let entry = &report.checks["sdk-trust"];
    assert_eq!(entry.result.result, "skipped", "{}", entry.message);
    assert!(entry.message.contains("no device SDK runtime was found"));
}

#[test]
fn every_runtime_found_on_one_device() {
    let device = Device::debian();
    device.write("/usr/bin/node", b"");
    device.write("/usr/bin/python3", b"");
    device.write("/usr/share/dotnet/dotnet", b"");
    let verdict = device.check(&[]);
    // `--only sdk-trust` without --sdk: every runtime found.
    let mut found: Vec<&str> = verdict
        .info
        .runtimes
        .iter()
        .map(|entry| entry.runtime.as_str())
        .collect();
    found.sort();
    assert_eq!(found, ["c", "dotnet", "node", "python"], "{}", verdict.text);
    assert_contains(&verdict.message, "0 of 4");
    for line in [
        "Node.js does not find the root",
        ".NET does not find the root",
    ] {
        assert_contains(&verdict.text, line);
    }
}

/// Without --ca-file the root looked for is the one the gateway's chain leads to: found by
/// signature in NODE_EXTRA_CA_CERTS, and not in a bundle holding only another root.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_ca_file_the_presented_chain_names_the_root() {
    let gateway =
        crate::harness::serve_fixture("server-full-chain.pem", "server.key.pem", &[]).await;
    let mut device = Device::debian();
    device.write("/usr/bin/node", b"");
    device.copy(&fixture("other-root-ca.pem"), "/opt/app/roots.pem");
    device.set("NODE_EXTRA_CA_CERTS", "/opt/app/roots.pem");
    let ports = gateway.ports;
    let run_with = |device: &Device| -> Run {
        let mut command = device.check_command([ports.mqtt, ports.amqp, ports.https]);
        command.args(["--sdk", "node"]);
        command.output().expect("edgeprobe runs").into()
    };
    let report = tokio::task::block_in_place(|| run_with(&device)).json();
    let entry = &report.checks["sdk-trust"];
    assert_eq!(entry.result.result, "warning", "{}", entry.message);
    assert_contains(&entry.message, "the root of the gateway's chain");
    assert_eq!(
        entry.additional_info["root_ca_file"],
        serde_json::Value::Null
    );

    device.copy(&fixture("root-ca.pem"), "/opt/app/roots.pem");
    let report = tokio::task::block_in_place(|| run_with(&device)).json();
    let entry = &report.checks["sdk-trust"];
    assert_eq!(entry.result.result, "ok", "{}", entry.message);
}

#[test]
fn a_file_a_hash_name_leads_to_is_no_near_miss_even_under_the_wrong_hash() {
    let mut device = Device::debian();
    device.set("SSL_CERT_DIR", "/opt/certs");
    device.copy(&fixture("root-ca.pem"), "/opt/certs/gateway-root.pem");
    device.copy(&fixture("other-root-ca.pem"), "/opt/certs/other-root.pem");
    // A stale name (say, an old `subject_hash_old`) leads to the other root: the gateway's root
    // is still a file no hash name leads to, so the note names it.
    device.link("other-root.pem", "/opt/certs/0badc0de.0");
    let verdict = device.check(&["c"]);
    let directory = &verdict.runtime("c").stores[1];
    assert_note(directory, "/opt/certs/gateway-root.pem holds the root");
    // Once the stale name leads to the gateway's root, OpenSSL still never finds it under its
    // own hash, but no file is left unread: no rehash note.
    device.link("gateway-root.pem", "/opt/certs/0badc0de.1");
    let verdict = device.check(&["c"]);
    let c = verdict.runtime("c");
    assert_eq!(c.verdict, "missing", "{}", verdict.text);
    assert!(
        c.stores[1]
            .note
            .as_deref()
            .is_none_or(|note| !note.contains("rehash")),
        "{:?}",
        c.stores[1]
    );
}

/// That the store's note says `text`.
#[track_caller]
fn assert_note(store: &StoreEntry, text: &str) {
    assert!(
        store
            .note
            .as_deref()
            .is_some_and(|note| note.contains(text)),
        "{store:?}"
    );
}

/// Two JDKs whose `cacerts` link to one file (Debian's OpenJDK and Temurin both link
/// `/etc/ssl/certs/java/cacerts`): the file is decoded once, and each JDK is judged on it
/// under its own path, before and after the root is imported.
#[test]
fn two_jdks_that_share_one_cacerts_are_judged_alike() {
    let Some(keytool) = keytool() else { return };
    let device = Device::debian();
    let jdks = [
        "/usr/lib/jvm/java-17-openjdk-amd64",
        "/usr/lib/jvm/temurin-25-jdk-amd64",
    ];
    for jdk in jdks {
        device.write(&format!("{jdk}/bin/java"), b"");
        device.link(
            "/etc/ssl/certs/java/cacerts",
            &format!("{jdk}/lib/security/cacerts"),
        );
    }
    let store = device.path("/etc/ssl/certs/java/cacerts");
    for (roots, holds) in [(["other-root-ca.pem"], false), (["root-ca.pem"], true)] {
        truststore(&keytool, "pkcs12", &roots, &store);
        let verdict = device.check(&["java"]);
        let javas: Vec<&RuntimeEntry> = verdict
            .info
            .runtimes
            .iter()
            .filter(|entry| entry.runtime == "java")
            .collect();
        let seen: Vec<(Option<&Path>, Option<bool>)> = javas
            .iter()
            .map(|java| (java.location.as_deref(), java.stores[0].holds_root))
            .collect();
        let expected: Vec<(Option<&Path>, Option<bool>)> = jdks
            .iter()
            .map(|jdk| (Some(Path::new(jdk)), Some(holds)))
            .collect();
        assert_eq!(seen, expected, "{}", verdict.text);
        for (java, jdk) in javas.iter().zip(jdks) {
            assert_eq!(
                java.stores[0].path,
                Path::new(jdk).join("lib/security/cacerts"),
                "{}",
                verdict.text
            );
        }
    }
}
