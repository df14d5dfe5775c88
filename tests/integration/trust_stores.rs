//! The OS trust store on a leaf, distribution by distribution (issue 14): `--root` trees laid
//! out as Debian, RHEL and Alpine keep them, with and without `--ca-file`. Without one the
//! store is what the device's SDK uses, so the roots added to it are diagnosed; a root that is
//! not installed is never "installed - OK".

use std::fs;
use std::path::Path;

use crate::harness::{LOOPBACK_GATEWAY, Report, assert_contains, edgeprobe, fixture};

/// A device's `/` in a temporary directory.
struct Root {
    directory: tempfile::TempDir,
}

impl Root {
    /// `os_release` as /etc/os-release (`None`: no such file).
    fn new(os_release: Option<&str>) -> Root {
        let root = Root {
            directory: tempfile::tempdir().expect("temporary directory"),
        };
        if let Some(text) = os_release {
            root.write("/etc/os-release", text.as_bytes());
        }
        root
    }

    /// A machine of `os_release` whose store `bundle` holds another root, with the fixtures'
    /// root copied to `added` (where an admin puts it before updating the store).
    fn with_added_root(os_release: &str, bundle: &str, added: &str) -> Root {
        let root = Root::new(Some(os_release));
        root.install(bundle, "other-root-ca.pem");
        root.install(added, "root-ca.pem");
        root
    }

    fn write(&self, system_path: &str, contents: &[u8]) {
        let path = self
            .directory
            .path()
            .join(system_path.trim_start_matches('/'));
        fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
        fs::write(&path, contents).expect("written");
    }

    /// The fixture `name` (a PEM file) at `system_path`.
    fn install(&self, system_path: &str, name: &str) {
        self.write(system_path, &fs::read(fixture(name)).expect("fixture"));
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    /// `check --only root-ca-trust-store` on a leaf, reading the store under this root.
    fn check(&self, extra: &[&str], environment: &[(&str, &str)]) -> Report {
        let mut command = edgeprobe();
        command
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .envs(environment.iter().copied())
            .args(["check", "--gateway", LOOPBACK_GATEWAY, "--root"])
            .arg(self.path())
            .args(["--only", "root-ca-trust-store", "-o", "json"])
            .args(extra);
        let output: crate::harness::Run = command.output().expect("the binary runs").into();
        output.json()
    }
}

const DEBIAN: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
const RHEL: &str = "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\n";
const ALPINE: &str = "NAME=\"Alpine Linux\"\nID=alpine\n";

fn ca_file() -> String {
    fixture("root-ca.pem").display().to_string()
}

#[test]
fn debian_without_ca_file_names_the_root_copied_without_crt() {
    let root = Root::with_added_root(
        DEBIAN,
        "/etc/ssl/certs/ca-certificates.crt",
        "/usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem",
    );
    let report = root.check(&[], &[]);
    let check = report.expect(
        "root-ca-trust-store",
        "warning",
        "only files ending in .crt",
    );
    assert_eq!(
        check.remedy.as_deref(),
        Some(
            "give it a .crt name and update the store: `sudo mv /usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem /usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem.crt` then `sudo update-ca-certificates`"
        )
    );
    assert_eq!(check.additional_info["store_family"], "Debian/Ubuntu");
    assert!(check.additional_info["root_ca_file"].is_null());
    // root-ca-file read the tree's store, not this machine's.
    let store = report.check("root-ca-file").message.clone();
    assert!(
        store.contains(&root.path().display().to_string()),
        "{store}"
    );

    // Renamed and installed: now it is true.
    fs::remove_file(
        root.path()
            .join("usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem"),
    )
    .expect("removed");
    root.install(
        "/usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem.crt",
        "root-ca.pem",
    );
    let bundle = [
        fs::read_to_string(fixture("other-root-ca.pem")).expect("fixture"),
        fs::read_to_string(fixture("root-ca.pem")).expect("fixture"),
    ]
    .concat();
    root.write("/etc/ssl/certs/ca-certificates.crt", bundle.as_bytes());
    let report = root.check(&[], &[]);
    assert_eq!(report.result("root-ca-trust-store"), "ok");
}

#[test]
fn debian_without_any_added_root_is_not_ok() {
    let root = Root::new(Some(DEBIAN));
    root.install("/etc/ssl/certs/ca-certificates.crt", "other-root-ca.pem");
    let report = root.check(&[], &[]);
    report.expect("root-ca-trust-store", "warning", "no root CA was added");
}

/// The remedy for a leaf's `--ca-file` root missing from the store of the distribution
/// `os_release` names (its bundle holding another root), asserted to be a warning.
fn missing_root_remedy(os_release: &str) -> String {
    let root = Root::new(Some(os_release));
    root.install("/etc/ssl/certs/ca-certificates.crt", "other-root-ca.pem");
    let report = root.check(&["--ca-file", &ca_file()], &[]);
    let check = report.expect(
        "root-ca-trust-store",
        "warning",
        "is not in the OS trust store",
    );
    // The root named as its subject reads (from the anchors' own description).
    assert_contains(
        &check.message,
        "the root CA `CN = Azure_IoT_Hub_CA_Cert_Test_Only` from ",
    );
    check.remedy.clone().unwrap_or_default()
}

#[test]
fn a_leaf_root_missing_from_the_store_is_a_warning_not_ok() {
    let remedy = missing_root_remedy(DEBIAN);
    assert_contains(
        &remedy,
        "root-ca.pem.crt` then `sudo update-ca-certificates`",
    );
}

#[test]
fn rhel_anchors_need_update_ca_trust_and_any_name_is_fine() {
    let root = Root::with_added_root(
        RHEL,
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/source/anchors/gateway-root.pem",
    );
    for extra in [&[][..], &["--ca-file", &ca_file()]] {
        let report = root.check(extra, &[]);
        let check = report.expect("root-ca-trust-store", "warning", "anchors/gateway-root.pem");
        assert!(
            check.message.contains("not in")
                && check.message.contains("ca-bundle.crt (RHEL/Fedora)"),
            "{extra:?}: {}",
            check.message
        );
        assert_eq!(check.remedy.as_deref(), Some("run `sudo update-ca-trust`"));
    }
    root.install("/etc/pki/tls/certs/ca-bundle.crt", "root-ca.pem");
    let report = root.check(&["--ca-file", &ca_file()], &[]);
    report.expect("root-ca-trust-store", "ok", "ca-bundle.crt (RHEL/Fedora)");
}

#[test]
fn alpine_takes_a_pem_name_and_its_fix_has_no_crt() {
    let remedy = missing_root_remedy(ALPINE);
    assert!(
        remedy.ends_with(
            "/usr/local/share/ca-certificates/root-ca.pem` then `sudo update-ca-certificates`"
        ),
        "{remedy}"
    );
    // A .pem copy is not ignored on Alpine: it only waits for the update.
    let root = Root::with_added_root(
        ALPINE,
        "/etc/ssl/certs/ca-certificates.crt",
        "/usr/local/share/ca-certificates/root-ca.pem",
    );
    let report = root.check(&[], &[]);
    let check = report.expect("root-ca-trust-store", "warning", "not in");
    assert!(
        !check.message.contains(".crt are installed"),
        "{}",
        check.message
    );
    assert_eq!(check.additional_info["store_family"], "Alpine");
}

#[test]
fn ssl_cert_file_and_a_hashed_directory_are_the_store() {
    let root = Root::new(None);
    // No bundle: OpenSSL's hashed directory is the store.
    root.install("/etc/ssl/certs/3513523f.0", "root-ca.pem");
    let report = root.check(&["--ca-file", &ca_file()], &[]);
    report.expect("root-ca-trust-store", "ok", "(hashed directory)");
    // SSL_CERT_FILE replaces the default bundle, read under --root like every system path.
    root.install("/opt/certs/bundle.pem", "other-root-ca.pem");
    let report = root.check(
        &["--ca-file", &ca_file()],
        &[
            ("SSL_CERT_FILE", "/opt/certs/bundle.pem"),
            ("SSL_CERT_DIR", "/nowhere"),
        ],
    );
    report.expect(
        "root-ca-trust-store",
        "warning",
        "bundle.pem (SSL_CERT_FILE)",
    );
}
