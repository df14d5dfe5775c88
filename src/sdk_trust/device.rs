//! The device as an SDK runtime sees it: the environment variables that move a runtime's trust
//! store, and paths read under `--root` with symbolic links followed inside that root (Debian's
//! `/usr/lib/ssl/cert.pem` and every JRE's `lib/security/cacerts` are absolute links, which in a
//! copied device tree must resolve to the copy, not to the machine edgeprobe runs on).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::files::DeviceFiles;
use crate::system::SystemRoot;

/// The environment variables edgeprobe reads to find where runtimes look; nothing else of the
/// process environment is kept (none of these holds a secret).
pub const VARIABLES: &[&str] = &[
    "HOME",
    "PATH",
    "NODE_EXTRA_CA_CERTS",
    "NODE_OPTIONS",
    "DOTNET_ROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "JAVA_HOME",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "VIRTUAL_ENV",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "EdgeModuleCACertificateFile",
    "IOTEDGE_ROOT_CA_CERT_PATH",
];

/// A snapshot of [`VARIABLES`], taken once by the command and passed in, so checks never read
/// the process environment and tests can pin it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    variables: BTreeMap<String, OsString>,
}

impl Environment {
    /// The variables of this process.
    pub fn from_process() -> Self {
        Environment::from_pairs(
            VARIABLES
                .iter()
                .filter_map(|name| Some((*name, std::env::var_os(name)?))),
        )
    }

    pub fn from_pairs<N: Into<String>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Environment {
            variables: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// A variable's value; an empty value counts as unset, as every runtime here treats it.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.variables
            .get(name)
            .map(OsString::as_os_str)
            .filter(|value| !value.is_empty())
    }

    /// OpenSSL's `SSL_CERT_FILE` and `SSL_CERT_DIR` from this snapshot, parsed as the OS trust
    /// store checks parse them.
    pub fn trust(&self) -> crate::engine::os_trust_location::TrustEnvironment {
        crate::engine::os_trust_location::TrustEnvironment::from_variables(|name| {
            self.get(name).map(OsStr::to_os_string)
        })
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|value| value.to_string_lossy().into_owned())
    }
}

/// A path on the device (as a variable or a default names it), and where edgeprobe reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePath {
    /// As the device names it (`/usr/lib/jvm/default-java/lib/security/cacerts`).
    pub device: PathBuf,
    /// Where that is on this machine: under `--root`, symbolic links followed inside it.
    pub host: PathBuf,
}

/// The device under `--root` as one run reads it: the root, and the run's memo of its files
/// (see [`DeviceFiles`]), which every discovery and lookup of the run shares.
#[derive(Debug, Clone, Copy)]
pub struct Device<'a> {
    pub root: &'a SystemRoot,
    pub files: &'a DeviceFiles,
}

impl Device<'_> {
    /// Where the device path `path` is on this machine ([`DeviceFiles::locate`]).
    pub fn locate(&self, path: &Path) -> DevicePath {
        self.files.locate(self.root, path)
    }

    /// The entries of the device directory `directory`, as device paths, sorted.
    pub fn children(&self, directory: &Path) -> Vec<PathBuf> {
        self.children_named(directory, &|_| true)
    }

    /// The entries of `directory` whose name `keep` accepts, as device paths, sorted. The
    /// names are filtered before they are joined.
    pub fn children_named(&self, directory: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
        let Ok(entries) = self.files.listing(&self.locate(directory).host) else {
            return Vec::new();
        };
        entries
            .iter()
            .filter(|entry| keep(&entry.name.to_string_lossy()))
            .map(|entry| directory.join(&entry.name))
            .collect()
    }

    /// The first program of these names in [`program_directories`], as a device path.
    pub fn find_program(&self, environment: &Environment, names: &[&str]) -> Option<PathBuf> {
        program_directories(environment)
            .into_iter()
            .flat_map(|directory| names.iter().map(move |name| directory.join(name)))
            .find(|program| self.files.is_file(&self.locate(program)))
    }

    /// Home directories whose per-user stores count: `$HOME`, `/root` and every `/home/*`.
    pub fn home_directories(&self, environment: &Environment) -> Vec<PathBuf> {
        let mut homes: Vec<PathBuf> = environment
            .get("HOME")
            .map(PathBuf::from)
            .filter(|home| home.is_absolute())
            .into_iter()
            .collect();
        homes.push(PathBuf::from("/root"));
        homes.extend(self.children(Path::new("/home")));
        let mut unique = Vec::new();
        for home in homes {
            if !unique.contains(&home) {
                unique.push(home);
            }
        }
        unique
    }
}

/// The directories a device's programs are found in: `PATH`, then the usual ones.
pub fn program_directories(environment: &Environment) -> Vec<PathBuf> {
    let mut directories: Vec<PathBuf> = environment
        .get("PATH")
        .map(|path| std::env::split_paths(path).collect())
        .unwrap_or_default();
    for usual in ["/usr/local/bin", "/usr/bin", "/bin"] {
        directories.push(PathBuf::from(usual));
    }
    directories.retain(|directory| directory.is_absolute());
    directories.dedup();
    directories
}

/// An empty directory to stand for a device's `/`, and the root that reads under it.
#[cfg(test)]
pub fn temporary_root() -> (tempfile::TempDir, SystemRoot) {
    let tree = tempfile::tempdir().unwrap();
    let root = SystemRoot::new(tree.path());
    (tree, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_root() {
        let (tree, root) = temporary_root();
        std::fs::create_dir_all(tree.path().join("etc/ssl/certs/java")).unwrap();
        std::fs::write(tree.path().join("etc/ssl/certs/java/cacerts"), b"x").unwrap();
        std::fs::create_dir_all(tree.path().join("usr/lib/jvm/java-17/lib/security")).unwrap();
        std::os::unix::fs::symlink(
            "/etc/ssl/certs/java/cacerts",
            tree.path().join("usr/lib/jvm/java-17/lib/security/cacerts"),
        )
        .unwrap();
        std::os::unix::fs::symlink("java-17", tree.path().join("usr/lib/jvm/default-java"))
            .unwrap();
        let files = DeviceFiles::default();
        let locate = |path: &str| files.locate(&root, Path::new(path));
        let found = locate("/usr/lib/jvm/default-java/lib/security/cacerts");
        assert_eq!(found.host, tree.path().join("etc/ssl/certs/java/cacerts"));
        assert!(files.exists(&found));
        // A link that climbs with `..` stays inside the root.
        std::os::unix::fs::symlink("../../../../etc/passwd", tree.path().join("usr/lib/jvm/up"))
            .unwrap();
        assert_eq!(
            locate("/usr/lib/jvm/up").host,
            tree.path().join("etc/passwd")
        );
        // A loop ends as a missing path rather than hanging.
        std::os::unix::fs::symlink("loop", tree.path().join("loop")).unwrap();
        assert!(!files.exists(&locate("/loop")));
    }

    #[test]
    fn empty_variables_are_unset_and_others_are_not_kept() {
        let environment = Environment::from_pairs([("SSL_CERT_FILE", ""), ("HOME", "/home/pi")]);
        assert_eq!(environment.get("SSL_CERT_FILE"), None);
        assert_eq!(environment.text("HOME").as_deref(), Some("/home/pi"));
    }
}
