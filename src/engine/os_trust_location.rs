//! Where the operating system keeps its trust store, distribution by distribution, and how a
//! root is added to it: what OpenSSL-based device SDKs read when no root file is configured.
//!
//! | family | bundle | where local roots go | update |
//! | --- | --- | --- | --- |
//! | Debian, Ubuntu, Raspberry Pi OS | `/etc/ssl/certs/ca-certificates.crt` | `/usr/local/share/ca-certificates` (only `*.crt`) | `update-ca-certificates` |
//! | RHEL, Fedora, CentOS | `/etc/pki/tls/certs/ca-bundle.crt` | `/etc/pki/ca-trust/source/anchors` | `update-ca-trust` |
//! | Alpine | `/etc/ssl/certs/ca-certificates.crt` | `/usr/local/share/ca-certificates` (any name) | `update-ca-certificates` |
//! | openSUSE, SLES | `/var/lib/ca-certificates/ca-bundle.pem` | `/etc/pki/trust/anchors` | `update-ca-certificates` |
//!
//! The family comes from `/etc/os-release` (`ID`, `ID_LIKE`, os-release(5)), else from which
//! bundle exists. OpenSSL's `SSL_CERT_FILE` and `SSL_CERT_DIR` (X509_get_default_cert_file_env,
//! `by_dir.c`) replace the default file and add a hashed directory (`<hash>.<n>` names, as
//! `c_rehash`/`openssl rehash` make them), which is also read when the bundle is missing and
//! `/etc/ssl/certs` is such a directory. Every path is read under `--root`.
//!
//! [`OpensslDefaults`] is OpenSSL's own view of the same (OPENSSLDIR's `cert.pem` and
//! `certs/`, or the variables), which the SDK runtimes built on OpenSSL read
//! ([`crate::sdk_trust`]): one description of those paths and variables for both.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use rustls_pki_types::CertificateDer;

use super::os_trust_store::{
    OsTrustStore, already_read, os_trust_store, os_trust_store_without_blocking, read_once,
};
use crate::host_info::OsRelease;
use crate::pki::TrustAnchors;
use crate::pki::load::load_certificates;
use crate::system::SystemRoot;

/// The distribution families whose trust store layouts edgeprobe knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFamily {
    Debian,
    Rhel,
    Alpine,
    Suse,
}

impl StoreFamily {
    pub fn name(self) -> &'static str {
        match self {
            StoreFamily::Debian => "Debian/Ubuntu",
            StoreFamily::Rhel => "RHEL/Fedora",
            StoreFamily::Alpine => "Alpine",
            StoreFamily::Suse => "openSUSE/SLES",
        }
    }

    /// The bundle OpenSSL reads by default (its `OPENSSLDIR/cert.pem`, linked to this file).
    pub fn bundle(self) -> &'static str {
        match self {
            StoreFamily::Debian | StoreFamily::Alpine => "/etc/ssl/certs/ca-certificates.crt",
            StoreFamily::Rhel => "/etc/pki/tls/certs/ca-bundle.crt",
            StoreFamily::Suse => "/var/lib/ca-certificates/ca-bundle.pem",
        }
    }

    /// Where an administrator drops roots for the update command (the first is where the
    /// guides copy one), searched recursively.
    pub fn anchor_directories(self) -> &'static [&'static str] {
        match self {
            StoreFamily::Debian | StoreFamily::Alpine => &["/usr/local/share/ca-certificates"],
            StoreFamily::Rhel => &[
                "/etc/pki/ca-trust/source/anchors",
                "/usr/share/pki/ca-trust-source/anchors",
            ],
            StoreFamily::Suse => &["/etc/pki/trust/anchors", "/usr/share/pki/trust/anchors"],
        }
    }

    /// update-ca-certificates(8) on Debian reads only `*.crt` there and skips the rest without
    /// a word; Alpine's rewrite, update-ca-trust and openSUSE's p11-kit take any file name.
    pub fn requires_crt_extension(self) -> bool {
        self == StoreFamily::Debian
    }

    pub fn update_command(self) -> &'static str {
        match self {
            StoreFamily::Rhel => "sudo update-ca-trust",
            _ => "sudo update-ca-certificates",
        }
    }

    pub fn install_package(self) -> &'static str {
        match self {
            StoreFamily::Debian => "sudo apt-get install ca-certificates",
            StoreFamily::Rhel => "sudo dnf install ca-certificates",
            StoreFamily::Alpine => "sudo apk add ca-certificates",
            StoreFamily::Suse => "sudo zypper install ca-certificates",
        }
    }

    /// The two commands that install `root` (a file path as the user has it): copy it into
    /// the anchors directory under a name the update command takes, then update.
    pub fn install_commands(self, root: &Path) -> String {
        let name = root
            .file_name()
            .map_or_else(|| "root-ca.pem".into(), |name| name.to_string_lossy());
        let suffix = if self.requires_crt_extension() && !name.ends_with(".crt") {
            ".crt"
        } else {
            ""
        };
        format!(
            "`sudo cp {} {}/{name}{suffix}` then `{}`",
            root.display(),
            self.anchor_directories()[0],
            self.update_command()
        )
    }

    /// The family of the system under `root`: os-release's `ID` and `ID_LIKE` first, then
    /// the first family whose bundle is there; Debian's layout when nothing says. Found once
    /// per process for each root, like the store itself (`os_trust_store`): every target of a
    /// fleet, and every scrape of the exporter, asks.
    pub fn detect(root: &SystemRoot) -> StoreFamily {
        static FOUND: LazyLock<Mutex<HashMap<PathBuf, StoreFamily>>> =
            LazyLock::new(Mutex::default);
        // A poisoned lock only means a caller panicked between two steps of an insertion.
        let found = || FOUND.lock().unwrap_or_else(PoisonError::into_inner);
        let key = root.path("/");
        if let Some(family) = found().get(&key) {
            return *family;
        }
        let family = Self::detect_now(root);
        found().insert(key, family);
        family
    }

    fn detect_now(root: &SystemRoot) -> StoreFamily {
        if let Some(family) = family_of(&OsRelease::read(root)) {
            return family;
        }
        [StoreFamily::Debian, StoreFamily::Rhel, StoreFamily::Suse]
            .into_iter()
            .find(|family| root.path(family.bundle()).is_file())
            .unwrap_or(StoreFamily::Debian)
    }
}

/// The family named by os-release's `ID` or, failing that, `ID_LIKE` (space-separated).
fn family_of(release: &OsRelease) -> Option<StoreFamily> {
    let known = |id: &str| match id {
        "debian" | "ubuntu" | "raspbian" => Some(StoreFamily::Debian),
        "rhel" | "fedora" | "centos" | "rocky" | "almalinux" | "ol" | "amzn" => {
            Some(StoreFamily::Rhel)
        }
        "alpine" => Some(StoreFamily::Alpine),
        "suse" | "opensuse" | "sles" | "opensuse-leap" | "opensuse-tumbleweed" => {
            Some(StoreFamily::Suse)
        }
        _ => None,
    };
    let id = release
        .id
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let id_like = release.id_like.as_deref().unwrap_or_default();
    known(&id).or_else(|| {
        id_like
            .split_whitespace()
            .find_map(|like| known(&like.to_ascii_lowercase()))
    })
}

/// OpenSSL's trust store variables, as the device's environment sets them; read by the
/// command, passed in (`Context::trust_environment`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustEnvironment {
    /// `SSL_CERT_FILE`: replaces the default CA file (X509_get_default_cert_file_env).
    pub ssl_cert_file: Option<PathBuf>,
    /// `SSL_CERT_DIR`: replaces the default hashed directory; several may be listed,
    /// `:`-separated, each looked up in turn (by_dir.c).
    pub ssl_cert_dirs: Vec<PathBuf>,
}

impl TrustEnvironment {
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` of this process.
    pub fn from_process() -> TrustEnvironment {
        TrustEnvironment::from_variables(|name| std::env::var_os(name))
    }

    /// The two variables as `variable` gives them (empty values count as unset, as OpenSSL's
    /// `ossl_safe_getenv` callers treat them).
    pub fn from_variables(variable: impl Fn(&str) -> Option<OsString>) -> TrustEnvironment {
        let ssl_cert_file = variable("SSL_CERT_FILE")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let ssl_cert_dirs = variable("SSL_CERT_DIR")
            .map(|list| {
                std::env::split_paths(&list)
                    .filter(|directory| !directory.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        TrustEnvironment {
            ssl_cert_file,
            ssl_cert_dirs,
        }
    }
}

/// OPENSSLDIR as distributions build it: Debian and Ubuntu, then RHEL and Fedora, then Alpine
/// and SUSE. The first that exists on the device is its OpenSSL's.
pub const OPENSSL_DIRECTORIES: &[&str] = &["/usr/lib/ssl", "/etc/pki/tls", "/etc/ssl"];

/// Where OpenSSL on a device loads trusted roots from by default (`X509_get_default_cert_file`
/// and `_dir`, i.e. OPENSSLDIR's `cert.pem` and `certs/`, or the variables that replace them),
/// as device paths: what the C SDK, .NET on Linux and Python's `ssl` module read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpensslDefaults {
    pub file: PathBuf,
    /// Set by `SSL_CERT_FILE` rather than compiled in.
    pub file_from_environment: bool,
    pub directories: Vec<PathBuf>,
    /// Set by `SSL_CERT_DIR` rather than compiled in.
    pub directories_from_environment: bool,
}

impl OpensslDefaults {
    /// The defaults on a device where `is_directory` tells which OPENSSLDIR exists (the caller
    /// decides how a device path is read: under `--root`, its links followed inside it).
    pub fn new(
        environment: &TrustEnvironment,
        is_directory: impl Fn(&Path) -> bool,
    ) -> OpensslDefaults {
        let openssl_directory = OPENSSL_DIRECTORIES
            .iter()
            .map(Path::new)
            .find(|directory| is_directory(directory))
            .unwrap_or(Path::new(OPENSSL_DIRECTORIES[0]));
        let (file, file_from_environment) = match &environment.ssl_cert_file {
            Some(file) => (file.clone(), true),
            None => (openssl_directory.join("cert.pem"), false),
        };
        let directories_from_environment = !environment.ssl_cert_dirs.is_empty();
        let directories = if directories_from_environment {
            environment.ssl_cert_dirs.clone()
        } else {
            vec![openssl_directory.join("certs")]
        };
        OpensslDefaults {
            file,
            file_from_environment,
            directories,
            directories_from_environment,
        }
    }
}

/// The OS trust store of one system: its family, the bundle read and the hashed directory
/// read with it, if any (all under `--root`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsTrustLocation {
    pub family: StoreFamily,
    pub bundle: PathBuf,
    /// Set by `SSL_CERT_FILE` rather than the distribution's default.
    pub bundle_from_environment: bool,
    pub directory: Option<PathBuf>,
}

impl OsTrustLocation {
    pub fn locate(root: &SystemRoot, environment: &TrustEnvironment) -> OsTrustLocation {
        let family = StoreFamily::detect(root);
        let (bundle, bundle_from_environment) = match &environment.ssl_cert_file {
            Some(file) => (root.path(file), true),
            None => (root.path(family.bundle()), false),
        };
        // The first SSL_CERT_DIR entry: where the guides tell users to put their roots.
        let directory = match environment.ssl_cert_dirs.first() {
            Some(directory) => Some(root.path(directory)),
            None if !bundle.is_file() => {
                Some(root.path("/etc/ssl/certs")).filter(|directory| has_hashed_entries(directory))
            }
            None => None,
        };
        OsTrustLocation {
            family,
            bundle,
            bundle_from_environment,
            directory,
        }
    }

    /// The store's certificates: the bundle plus, when there is one, the hashed directory, read
    /// once per process. An unreadable bundle is an error unless the directory gave some.
    pub fn load(&self) -> OsTrustStore {
        match &self.directory {
            None => os_trust_store(&self.bundle),
            Some(directory) => read_once(&self.bundle, Some(directory), || {
                self.with_directory(directory, os_trust_store(&self.bundle))
            }),
        }
    }

    /// [`load`](Self::load) for checks: a store not read yet is read on tokio's blocking pool
    /// (see [`os_trust_store_without_blocking`]).
    pub async fn load_without_blocking(&self) -> OsTrustStore {
        let Some(directory) = &self.directory else {
            return os_trust_store_without_blocking(&self.bundle).await;
        };
        if let Some(read) = already_read(&self.bundle, Some(directory)) {
            return read;
        }
        let location = self.clone();
        match tokio::task::spawn_blocking(move || location.load()).await {
            Ok(read) => read,
            // The blocking pool could not run it (the runtime is shutting down): read it here.
            Err(_) => self.load(),
        }
    }

    fn with_directory(&self, directory: &Path, bundle: OsTrustStore) -> OsTrustStore {
        let hashed = hashed_certificates(directory);
        match bundle {
            Ok(anchors) if hashed.is_empty() => Ok(anchors),
            Ok(anchors) => {
                let mut certificates = anchors.certificates.clone();
                certificates.extend(
                    hashed
                        .into_iter()
                        .filter(|certificate| !anchors.certificates.contains(certificate)),
                );
                Ok(Arc::new(TrustAnchors::new(
                    self.bundle.clone(),
                    certificates,
                )))
            }
            Err(_) if !hashed.is_empty() => {
                Ok(Arc::new(TrustAnchors::new(directory.to_path_buf(), hashed)))
            }
            Err(error) => Err(error),
        }
    }
}

impl fmt::Display for OsTrustLocation {
    /// `/etc/pki/tls/certs/ca-bundle.crt (RHEL/Fedora)`, `/opt/ca.pem (SSL_CERT_FILE)`, with
    /// `+ /etc/ssl/certs (hashed directory)` when one is read too.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = if self.bundle_from_environment {
            "SSL_CERT_FILE"
        } else {
            self.family.name()
        };
        write!(formatter, "{} ({origin})", self.bundle.display())?;
        if let Some(directory) = &self.directory {
            write!(formatter, " + {} (hashed directory)", directory.display())?;
        }
        Ok(())
    }
}

/// `<8 hex digits>.<digits>`: the names OpenSSL's directory lookup opens (by_dir.c).
fn is_hashed_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((hash, index)) => {
            hash.len() == 8
                && hash.chars().all(|character| character.is_ascii_hexdigit())
                && !index.is_empty()
                && index.chars().all(|character| character.is_ascii_digit())
        }
        None => false,
    }
}

fn hashed_entries(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| is_hashed_name(&entry.file_name().to_string_lossy()))
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    paths
}

fn has_hashed_entries(directory: &Path) -> bool {
    !hashed_entries(directory).is_empty()
}

/// Every certificate of the hashed directory's entries, once each (an unreadable entry is
/// skipped, as OpenSSL's lookup skips it).
fn hashed_certificates(directory: &Path) -> Vec<CertificateDer<'static>> {
    let mut certificates: Vec<CertificateDer<'static>> = Vec::new();
    for path in hashed_entries(directory) {
        for certificate in load_certificates(&path).unwrap_or_default() {
            if !certificates.contains(&certificate) {
                certificates.push(certificate);
            }
        }
    }
    certificates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_names_the_family_by_id_then_id_like() {
        assert_eq!(
            family_of(&OsRelease::parse(
                "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n"
            )),
            Some(StoreFamily::Debian)
        );
        assert_eq!(
            family_of(&OsRelease::parse(
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"
            )),
            Some(StoreFamily::Rhel)
        );
        assert_eq!(
            family_of(&OsRelease::parse("ID=mariner\nID_LIKE=\"fedora\"\n")),
            Some(StoreFamily::Rhel)
        );
        assert_eq!(
            family_of(&OsRelease::parse("ID=alpine\n")),
            Some(StoreFamily::Alpine)
        );
        assert_eq!(
            family_of(&OsRelease::parse(
                "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n"
            )),
            Some(StoreFamily::Suse)
        );
        assert_eq!(family_of(&OsRelease::parse("ID=nixos\n")), None);
    }

    #[test]
    fn only_debian_needs_the_crt_name() {
        let root = Path::new("/home/me/azure-iot-test-only.root.ca.cert.pem");
        assert_eq!(
            StoreFamily::Debian.install_commands(root),
            "`sudo cp /home/me/azure-iot-test-only.root.ca.cert.pem /usr/local/share/ca-certificates/azure-iot-test-only.root.ca.cert.pem.crt` then `sudo update-ca-certificates`"
        );
        assert_eq!(
            StoreFamily::Rhel.install_commands(root),
            "`sudo cp /home/me/azure-iot-test-only.root.ca.cert.pem /etc/pki/ca-trust/source/anchors/azure-iot-test-only.root.ca.cert.pem` then `sudo update-ca-trust`"
        );
    }

    #[test]
    fn openssls_defaults_follow_openssldir_and_the_variables() {
        let none = TrustEnvironment::from_variables(|_| None);
        assert_eq!(none, TrustEnvironment::default());
        let rhel = OpensslDefaults::new(&none, |directory| directory == Path::new("/etc/pki/tls"));
        assert_eq!(rhel.file, Path::new("/etc/pki/tls/cert.pem"));
        assert_eq!(rhel.directories, [PathBuf::from("/etc/pki/tls/certs")]);
        assert!(!rhel.file_from_environment && !rhel.directories_from_environment);
        // Nothing found: Debian's OPENSSLDIR, the one most devices have.
        let unknown = OpensslDefaults::new(&none, |_| false);
        assert_eq!(unknown.file, Path::new("/usr/lib/ssl/cert.pem"));

        let set = TrustEnvironment::from_variables(|name| match name {
            "SSL_CERT_FILE" => Some("/opt/roots.pem".into()),
            "SSL_CERT_DIR" => Some("/opt/a::/opt/b".into()),
            _ => None,
        });
        assert_eq!(
            set.ssl_cert_dirs,
            [PathBuf::from("/opt/a"), PathBuf::from("/opt/b")]
        );
        let moved = OpensslDefaults::new(&set, |_| true);
        assert_eq!(moved.file, Path::new("/opt/roots.pem"));
        assert!(moved.file_from_environment && moved.directories_from_environment);
        assert_eq!(moved.directories, set.ssl_cert_dirs);
        // Empty values count as unset.
        let empty = TrustEnvironment::from_variables(|_| Some(OsString::new()));
        assert_eq!(empty, TrustEnvironment::default());
    }

    #[test]
    fn hashed_names_are_openssls() {
        assert!(is_hashed_name("3513523f.0"));
        assert!(is_hashed_name("ABCDEF01.12"));
        assert!(!is_hashed_name("ca-certificates.crt"));
        assert!(
            !is_hashed_name("3513523f.r0"),
            "CRL links are not certificates"
        );
        assert!(!is_hashed_name("3513523f."));
    }

    /// A root directory with a hashed /etc/ssl/certs holding the fixture root, and where the
    /// fixtures are.
    fn root_with_hashed_directory() -> (tempfile::TempDir, SystemRoot, PathBuf, PathBuf) {
        let directory = tempfile::tempdir().unwrap();
        let root = SystemRoot::new(directory.path());
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let certs = directory.path().join("etc/ssl/certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::copy(fixture.join("root-ca.pem"), certs.join("0123abcd.0")).unwrap();
        (directory, root, certs, fixture)
    }

    /// The directory is read with the bundle, once per process: in fleet mode and in the
    /// exporter every target asks for the store.
    #[test]
    fn a_hashed_directory_is_read_once_per_process() {
        let (_directory, root, certs, fixture) = root_with_hashed_directory();
        let environment = TrustEnvironment {
            ssl_cert_file: None,
            ssl_cert_dirs: vec![PathBuf::from("/etc/ssl/certs")],
        };
        let location = OsTrustLocation::locate(&root, &environment);
        let first = location.load().unwrap();
        assert_eq!(first.certificates.len(), 1);
        std::fs::copy(fixture.join("other-root-ca.pem"), certs.join("4567cdef.0")).unwrap();
        let again = OsTrustLocation::locate(&root, &environment).load().unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let checked = runtime.block_on(location.load_without_blocking()).unwrap();
        assert!(Arc::ptr_eq(&first, &checked));
    }

    #[test]
    fn ssl_cert_file_and_a_hashed_directory_under_the_root() {
        // No bundle, a hashed /etc/ssl/certs: the directory is the store.
        let (directory, root, certs, fixture) = root_with_hashed_directory();
        let location = OsTrustLocation::locate(&root, &TrustEnvironment::default());
        assert_eq!(location.family, StoreFamily::Debian);
        assert_eq!(location.directory.as_deref(), Some(certs.as_path()));
        let store = location.load().unwrap();
        assert_eq!(store.certificates.len(), 1);
        // SSL_CERT_FILE replaces the bundle, mapped under the root.
        std::fs::copy(
            fixture.join("other-root-ca.pem"),
            directory.path().join("ca.pem"),
        )
        .unwrap();
        let environment = TrustEnvironment {
            ssl_cert_file: Some(PathBuf::from("/ca.pem")),
            ssl_cert_dirs: vec![PathBuf::from("/etc/ssl/certs")],
        };
        let location = OsTrustLocation::locate(&root, &environment);
        assert!(location.bundle_from_environment);
        assert!(
            location.to_string().contains("(SSL_CERT_FILE)"),
            "{location}"
        );
        assert_eq!(location.load().unwrap().certificates.len(), 2);
    }
}
