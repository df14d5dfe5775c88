//! The device's files as one run reads them: what each path resolves to under `--root`, what a
//! link points at, what a path is (`stat`), what a directory holds and which certificates the
//! files under a directory carry, each found once per run and shared by every asker. The
//! `sdk-trust` survey asks about the same paths again and again (OpenSSL's default paths for
//! the C SDK, .NET and Python; `/usr/lib` for libssl and for Python; `/home` for .NET, nvm and
//! certifi; `/usr/local/share/ca-certificates` for each runtime and for `root-ca-trust-store`),
//! and each ask was a `readlink` per path component, a `stat` or a directory listing.
//!
//! A run's [`Shared`](crate::engine::Shared) hands out one (see
//! [`Shared::device_files`](crate::engine::Shared::device_files)): a later run reads the files
//! afresh, so a file changed between two runs (or two scrapes of the exporter) is seen.

use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use super::device::DevicePath;
use crate::memo::Memo;
use crate::pki::load::load_certificates;
use crate::system::SystemRoot;

/// How many answers of each kind a run keeps: a survey asks about a few hundred paths; the
/// bound only keeps a pathological tree from growing memory without end.
const KEPT: usize = 4096;

/// One entry of a directory: its name and its type as the listing gives it (`d_type` on
/// Linux, so no `stat`; a link is a link, not what it points at).
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub name: OsString,
    pub file_type: FileType,
}

/// A directory's entries, sorted by name, or why it could not be listed.
pub type Listing = Result<Arc<[DirectoryEntry]>, Arc<io::Error>>;

/// Certificate files under a directory, each with its certificates, in the order
/// update-ca-certificates would meet them.
pub type CertificateFiles = Arc<Vec<(PathBuf, Vec<CertificateDer<'static>>)>>;

/// The per-run memo of file facts (see the module documentation), one memo for every kind
/// (one copy of the memo's code in the binary, not one per kind). Paths are keyed by their
/// bytes: hashing a `Path` parses its components, several times the cost of its bytes, and
/// two spellings of one path only cost a second look.
pub struct DeviceFiles {
    facts: Memo<FactKey, Fact>,
}

/// What is asked, about which path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FactKey {
    /// `readlink` of a host path.
    Link(OsString),
    /// Where a device path is on this machine: (`--root`, device path).
    Located(OsString, OsString),
    /// `stat` (links followed) of a host path.
    Metadata(OsString),
    /// The listing of a host directory.
    Listing(OsString),
    /// [`DeviceFiles::certificate_files`] of a host directory.
    Certificates(OsString),
}

/// The answer to a [`FactKey`], of the same kind.
#[derive(Clone)]
enum Fact {
    /// `None` for a path that is no link (or does not exist).
    Link(Option<PathBuf>),
    Located(PathBuf),
    /// `None` where `stat` fails.
    Metadata(Option<Metadata>),
    Listing(Listing),
    Certificates(CertificateFiles),
}

impl Default for DeviceFiles {
    fn default() -> Self {
        DeviceFiles {
            facts: Memo::new(KEPT),
        }
    }
}

impl std::fmt::Debug for DeviceFiles {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeviceFiles")
            .field("facts", &self.facts.len())
            .finish()
    }
}

impl DeviceFiles {
    /// Where the device path `path` is on this machine. On the host itself the kernel follows
    /// links; under `--root` each link is followed here, an absolute target taken inside the
    /// root, so a copied tree never reads this machine's files. A relative `path` (from a
    /// variable) is relative to the device's `/`. Each path component is `readlink`ed once per
    /// run, and each whole path resolved once.
    pub fn locate(&self, root: &SystemRoot, path: &Path) -> DevicePath {
        if root.is_host() {
            return DevicePath {
                device: path.to_path_buf(),
                host: path.to_path_buf(),
            };
        }
        let resolve = || root.path(self.follow_links(path, |candidate| root.path(candidate)));
        let host = match self.fact(FactKey::Located(key(root.root()), key(path)), &|| {
            Fact::Located(resolve())
        }) {
            Fact::Located(host) => host,
            _ => resolve(),
        };
        DevicePath {
            device: path.to_path_buf(),
            host,
        }
    }

    /// `path` with every link followed, `..` taken after the link before it, as realpath(3)
    /// does; each component is read where `on_host` puts it.
    fn follow_links(&self, path: &Path, on_host: impl Fn(&Path) -> PathBuf) -> PathBuf {
        let mut pending = parts(path);
        pending.reverse();
        let mut resolved = PathBuf::from("/");
        let mut links_followed = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = resolved.join(&part);
            // Linux gives up after 40 links (path_resolution(7)); a loop then reads as missing.
            match self.read_link(&on_host(&candidate)) {
                Some(target) if links_followed < 40 => {
                    links_followed += 1;
                    if target.is_absolute() {
                        resolved = PathBuf::from("/");
                    }
                    pending.extend(parts(&target).into_iter().rev());
                }
                _ => resolved = candidate,
            }
        }
        resolved
    }

    /// The file itself, every link followed (what `std::fs::canonicalize` gives, or the path
    /// as it is when that fails): what tells two names of one file apart. The links are the
    /// ones [`Self::locate`] already read.
    pub fn real(&self, path: &DevicePath) -> PathBuf {
        let host = &path.host;
        if !host.is_absolute() {
            return std::fs::canonicalize(host).unwrap_or_else(|_| host.clone());
        }
        if self.metadata(host).is_none() {
            return host.clone();
        }
        self.follow_links(host, Path::to_path_buf)
    }

    /// `readlink(2)` of a host path, once per run.
    pub fn read_link(&self, host: &Path) -> Option<PathBuf> {
        let read = || std::fs::read_link(host).ok();
        match self.fact(FactKey::Link(key(host)), &|| Fact::Link(read())) {
            Fact::Link(target) => target,
            _ => read(),
        }
    }

    /// `stat(2)` of a host path (links followed), once per run.
    pub fn metadata(&self, host: &Path) -> Option<Metadata> {
        let read = || std::fs::metadata(host).ok();
        match self.fact(FactKey::Metadata(key(host)), &|| Fact::Metadata(read())) {
            Fact::Metadata(metadata) => metadata,
            _ => read(),
        }
    }

    pub fn exists(&self, path: &DevicePath) -> bool {
        self.metadata(&path.host).is_some()
    }

    pub fn is_dir(&self, path: &DevicePath) -> bool {
        self.metadata(&path.host)
            .is_some_and(|metadata| metadata.is_dir())
    }

    pub fn is_file(&self, path: &DevicePath) -> bool {
        self.metadata(&path.host)
            .is_some_and(|metadata| metadata.is_file())
    }

    /// The entries of the host directory `host`, sorted by name, listed once per run.
    pub fn listing(&self, host: &Path) -> Listing {
        let list = || -> Listing {
            let mut entries: Vec<DirectoryEntry> = std::fs::read_dir(host)
                .map_err(Arc::new)?
                .flatten()
                .filter_map(|entry| {
                    Some(DirectoryEntry {
                        file_type: entry.file_type().ok()?,
                        name: entry.file_name(),
                    })
                })
                .collect();
            entries.sort_by(|one, other| one.name.cmp(&other.name));
            Ok(entries.into())
        };
        match self.fact(FactKey::Listing(key(host)), &|| Fact::Listing(list())) {
            Fact::Listing(listing) => listing,
            _ => list(),
        }
    }

    /// Certificate files under the host directory `directory` (recursively, as
    /// update-ca-certificates searches), whatever their name, with their certificates; read
    /// once per run for `root-ca-trust-store` and every runtime `sdk-trust` judges.
    pub fn certificate_files(&self, directory: &Path) -> CertificateFiles {
        let read = || {
            let mut found = Vec::new();
            let mut pending = vec![directory.to_path_buf()];
            while let Some(current) = pending.pop() {
                let Ok(entries) = self.listing(&current) else {
                    continue;
                };
                for entry in entries.iter() {
                    let path = current.join(&entry.name);
                    // The listing's type, but a link counts as what it points at.
                    let is_dir = entry.file_type.is_dir()
                        || (entry.file_type.is_symlink()
                            && self.metadata(&path).is_some_and(|meta| meta.is_dir()));
                    if is_dir {
                        pending.push(path);
                    } else if let Ok(certificates) = load_certificates(&path) {
                        found.push((path, certificates));
                    }
                }
            }
            Arc::new(found)
        };
        match self.fact(FactKey::Certificates(key(directory)), &|| {
            Fact::Certificates(read())
        }) {
            Fact::Certificates(files) => files,
            _ => read(),
        }
    }

    /// The memo's answer to `key`, `compute`d on the first ask. Every caller asks with a key
    /// and a fact of one kind, so the other arms of its `match` only recompute, never mislead.
    fn fact(&self, key: FactKey, compute: &dyn Fn() -> Fact) -> Fact {
        self.facts.get_or_compute(key, compute)
    }
}

fn key(path: &Path) -> OsString {
    path.as_os_str().to_os_string()
}

fn parts(path: &Path) -> Vec<OsString> {
    use std::path::Component;
    path.components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk_trust::device::temporary_root;

    /// A device tree with these directories and `(target, link)` symbolic links.
    fn tree(directories: &[&str], links: &[(&str, &str)]) -> (tempfile::TempDir, SystemRoot) {
        let (tree, root) = temporary_root();
        for directory in directories {
            std::fs::create_dir_all(tree.path().join(directory)).unwrap();
        }
        for (target, link) in links {
            std::os::unix::fs::symlink(target, tree.path().join(link)).unwrap();
        }
        (tree, root)
    }

    /// Every answer is kept for the run: a link changed after the first ask is not read
    /// again, while a fresh memo (the next run) sees the change.
    #[test]
    fn a_path_is_resolved_once_per_run() {
        let (tree, root) = self::tree(&["etc/ssl/certs", "etc/pki"], &[("/etc/ssl", "usr-ssl")]);
        let files = DeviceFiles::default();
        let located = files.locate(&root, Path::new("/usr-ssl/certs"));
        assert_eq!(located.host, tree.path().join("etc/ssl/certs"));
        assert!(files.is_dir(&located));
        let listed = files.listing(tree.path()).unwrap().len();
        // Asked again after the tree changed: the run's first answers stand.
        std::fs::remove_file(tree.path().join("usr-ssl")).unwrap();
        std::os::unix::fs::symlink("/etc/pki", tree.path().join("usr-ssl")).unwrap();
        std::fs::create_dir(tree.path().join("new")).unwrap();
        assert_eq!(
            files.locate(&root, Path::new("/usr-ssl/certs")).host,
            tree.path().join("etc/ssl/certs")
        );
        assert_eq!(
            files.read_link(&tree.path().join("usr-ssl")),
            Some(PathBuf::from("/etc/ssl"))
        );
        assert_eq!(files.listing(tree.path()).unwrap().len(), listed);
        // The next run's memo reads the tree as it is now.
        let next = DeviceFiles::default();
        let moved = next.locate(&root, Path::new("/usr-ssl/certs"));
        assert_eq!(moved.host, tree.path().join("etc/pki/certs"));
        assert!(!next.exists(&moved));
        assert_eq!(next.listing(tree.path()).unwrap().len(), listed + 1);
    }

    /// One device path under two roots is two entries, each resolved inside its own root.
    #[test]
    fn another_root_is_another_entry() {
        let (first_tree, first) = tree(&["a"], &[("/a", "link")]);
        let (second_tree, second) = tree(&["b"], &[("/b", "link")]);
        let files = DeviceFiles::default();
        let path = Path::new("/link");
        assert_eq!(files.locate(&first, path).host, first_tree.path().join("a"));
        assert_eq!(
            files.locate(&second, path).host,
            second_tree.path().join("b")
        );
        for (root, tree) in [(&first, &first_tree), (&second, &second_tree)] {
            assert!(
                files
                    .facts
                    .contains(&FactKey::Located(key(root.root()), key(path)))
            );
            assert!(
                files
                    .facts
                    .contains(&FactKey::Link(key(&tree.path().join("link"))))
            );
        }
    }

    /// `real` is canonicalize's answer, from the memo's links.
    #[test]
    fn the_real_path_follows_every_link_like_canonicalize() {
        let (tree, root) = self::tree(
            &["etc/ssl/certs", "usr/lib/ssl"],
            &[
                ("../../../etc/ssl/certs", "usr/lib/ssl/certs"),
                ("certs/bundle.crt", "usr/lib/ssl/cert.pem"),
            ],
        );
        std::fs::write(tree.path().join("etc/ssl/certs/bundle.crt"), b"x").unwrap();
        let files = DeviceFiles::default();
        let host = DevicePath {
            device: PathBuf::new(),
            host: tree.path().join("usr/lib/ssl/cert.pem"),
        };
        assert_eq!(
            files.real(&host),
            std::fs::canonicalize(&host.host).unwrap()
        );
        assert_eq!(
            files.real(&files.locate(&root, Path::new("/usr/lib/ssl/cert.pem"))),
            std::fs::canonicalize(&host.host).unwrap()
        );
        // A missing file is its own path, as when canonicalize fails.
        let missing = DevicePath {
            device: PathBuf::new(),
            host: tree.path().join("usr/lib/ssl/missing.pem"),
        };
        assert_eq!(files.real(&missing), missing.host);
    }
}
