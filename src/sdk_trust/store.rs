//! One trust store a runtime reads, and whether the gateway's root is in it. A store that does
//! not exist holds nothing; one that cannot be read leaves the answer unknown, never "yes".

use std::borrow::Cow;
use std::fs::FileType;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use rustls_pki_types::CertificateDer;
use schemars::JsonSchema;
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::device::{Device, DevicePath};
use super::files::DeviceFiles;
use super::keystore::{self, JavaCertificates};
use crate::engine::os_trust_store::os_trust_store;
use crate::pki::load::{CertificateFileError, MAX_FILE_BYTES, read_to_end_bounded};
use crate::pki::name_hash::{hash_file_stem, name_hash};
use crate::pki::verify::is_signed_by;
use crate::system::SystemRoot;

/// How a store is laid out, which decides how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StoreFormat {
    /// A PEM bundle (or one DER certificate): OpenSSL's CA file, NODE_EXTRA_CA_CERTS, certifi.
    PemFile,
    /// OpenSSL's hashed directory (`SSL_CERT_DIR`, `/etc/ssl/certs`): only `<hash>.<n>` names
    /// are looked up.
    HashedDirectory,
    /// A Java truststore, JKS or PKCS#12 (`cacerts`, password `changeit`).
    JavaKeystore,
    /// .NET's CurrentUser Root store on Linux: one PKCS#12 `.pfx` per certificate.
    DotnetStoreDirectory,
}

/// A store a runtime reads, and why it reads that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLocation {
    pub path: DevicePath,
    /// The `--root` it is read under (a directory's entries are located from it).
    pub root: SystemRoot,
    pub format: StoreFormat,
    /// What put it there: `NODE_EXTRA_CA_CERTS`, `OpenSSL default (OPENSSLDIR/cert.pem)`, ...
    pub source: String,
}

impl StoreLocation {
    pub fn new(
        device: Device<'_>,
        path: impl AsRef<Path>,
        format: StoreFormat,
        source: impl Into<String>,
    ) -> Self {
        StoreLocation {
            path: device.locate(path.as_ref()),
            root: device.root.clone(),
            format,
            source: source.into(),
        }
    }
}

/// The gateway's root, as far as it is known: the roots of `--ca-file`, or the top of the chain
/// the gateway presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedRoot {
    /// Any of these certificates.
    Roots(Vec<CertificateDer<'static>>),
    /// A certificate that issued this one (checked by signature, not by name: regenerated test
    /// roots share their names), or this one itself.
    IssuerOf(CertificateDer<'static>),
}

impl WantedRoot {
    /// The root of a presented chain: its last certificate if self-issued, else its issuer.
    pub fn of_chain(chain: &[CertificateDer<'static>]) -> Option<WantedRoot> {
        let top = chain.last()?;
        let (_, parsed) = X509Certificate::from_der(top).ok()?;
        Some(if parsed.subject().as_raw() == parsed.issuer().as_raw() {
            WantedRoot::Roots(vec![top.clone()])
        } else {
            WantedRoot::IssuerOf(top.clone())
        })
    }

    /// The subject hashes ([`name_hash`]) OpenSSL looks the root up by in a hashed directory:
    /// each root's subject; the top's issuer (and the top itself, which [`Self::is_in`] also
    /// accepts). `None` when a name has no hash (OpenSSL cannot decode it).
    fn subject_hashes(&self) -> Option<Vec<u32>> {
        let mut hashes = Vec::new();
        let certificates = match self {
            WantedRoot::Roots(roots) => roots.as_slice(),
            WantedRoot::IssuerOf(top) => std::slice::from_ref(top),
        };
        for certificate in certificates {
            let (_, parsed) = X509Certificate::from_der(certificate).ok()?;
            let mut names = vec![parsed.subject()];
            if matches!(self, WantedRoot::IssuerOf(_)) {
                names.push(parsed.issuer());
            }
            for name in names {
                let hash = name_hash(name)?;
                if !hashes.contains(&hash) {
                    hashes.push(hash);
                }
            }
        }
        Some(hashes)
    }

    pub fn is_in(&self, certificates: &[CertificateDer<'_>]) -> bool {
        match self {
            WantedRoot::Roots(roots) => certificates
                .iter()
                .any(|c| roots.iter().any(|root| root.as_ref() == c.as_ref())),
            WantedRoot::IssuerOf(top) => {
                let Ok((_, parsed)) = X509Certificate::from_der(top) else {
                    return false;
                };
                let issuer = parsed.issuer().as_raw();
                certificates.iter().any(|candidate| {
                    candidate.as_ref() == top.as_ref()
                        || X509Certificate::from_der(candidate).is_ok_and(|(_, c)| {
                            c.subject().as_raw() == issuer
                                && is_signed_by(top, &candidate.clone().into_owned())
                        })
                })
            }
        }
    }
}

/// What looking in one store found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The store holds the root (in this file, for a directory store).
    Holds(PathBuf),
    /// Read, and the root is not there (`note` tells a near miss, e.g. an un-hashed file).
    Lacks { note: Option<String> },
    /// The store does not exist: it holds nothing.
    Missing,
    /// Could not be read: the answer is unknown.
    Unreadable(String),
}

/// `store` looked up for `wanted`, its files read through the run's `files`.
pub fn look_up(store: &StoreLocation, wanted: &WantedRoot, files: &DeviceFiles) -> Lookup {
    match store.format {
        // Read through its real path: Debian's OpenSSL CA file `/usr/lib/ssl/cert.pem` is a
        // link to the bundle the OS trust store checks read, which is then read once.
        StoreFormat::PemFile => match os_trust_store(&files.real(&store.path)) {
            Ok(anchors) if wanted.is_in(&anchors.certificates) => {
                Lookup::Holds(store.path.device.clone())
            }
            Ok(_) => Lookup::Lacks { note: None },
            Err(error) if matches!(*error, CertificateFileError::NotFound { .. }) => {
                Lookup::Missing
            }
            Err(error) => Lookup::Unreadable(error.to_string()),
        },
        StoreFormat::JavaKeystore => match java_truststore_certificates(store, files) {
            Ok(None) => Lookup::Missing,
            Ok(Some(store_certificates)) if wanted.is_in(&store_certificates.certificates()) => {
                Lookup::Holds(store.path.device.clone())
            }
            Ok(Some(_)) => Lookup::Lacks { note: None },
            Err(error) => Lookup::Unreadable(error),
        },
        StoreFormat::HashedDirectory => directory_lookup(store, wanted, files, |name| {
            is_hash_name(name).then_some(DirectoryEntry::Pem)
        }),
        StoreFormat::DotnetStoreDirectory => directory_lookup(store, wanted, files, |name| {
            name.ends_with(".pfx").then_some(DirectoryEntry::Pfx)
        }),
    }
}

/// The certificates of a Java truststore, or `None` where the file does not exist, decoded once
/// per process for each real file: on Debian every JDK's `lib/security/cacerts` (OpenJDK's and
/// Temurin's alike) links to the one `/etc/ssl/certs/java/cacerts` (165 KB), which was read and
/// decoded once per JDK. Only what decoded is kept: a file that cannot be read or decoded is
/// tried again, so each store's message names its own path.
fn java_truststore_certificates(
    store: &StoreLocation,
    files: &DeviceFiles,
) -> Result<Option<Certificates>, String> {
    static DECODED: LazyLock<Mutex<Vec<(PathBuf, Certificates)>>> = LazyLock::new(Mutex::default);
    let decoded = || DECODED.lock().unwrap_or_else(PoisonError::into_inner);
    let real = files.real(&store.path);
    if let Some((_, certificates)) = decoded().iter().find(|(path, _)| *path == real) {
        return Ok(Some(Arc::clone(certificates)));
    }
    let Some(bytes) = read_bounded(&store.path.host)? else {
        return Ok(None);
    };
    let kept = keystore::java_truststore_kept(&bytes)
        .map_err(|error| format!("{}: {error}", store.path.device.display()))?;
    let certificates = Arc::new(match kept {
        JavaCertificates::InFile(spans) => JavaTruststore { bytes, spans },
        JavaCertificates::Decrypted(certificates) => {
            let mut bytes = Vec::new();
            let spans = certificates
                .iter()
                .map(|certificate| {
                    let start = bytes.len();
                    bytes.extend_from_slice(certificate);
                    start..bytes.len()
                })
                .collect();
            JavaTruststore { bytes, spans }
        }
    });
    decoded().push((real, Arc::clone(&certificates)));
    Ok(Some(certificates))
}

/// A Java truststore's certificates, shared by every runtime that reads the same file.
type Certificates = Arc<JavaTruststore>;

/// A Java truststore as kept: bytes (the file's, for a JKS) and where each certificate is.
#[derive(Debug)]
struct JavaTruststore {
    bytes: Vec<u8>,
    spans: Vec<Range<usize>>,
}

impl JavaTruststore {
    fn certificates(&self) -> Vec<CertificateDer<'_>> {
        self.spans
            .iter()
            .map(|span| CertificateDer::from(&self.bytes[span.clone()]))
            .collect()
    }
}

#[derive(Clone, Copy)]
enum DirectoryEntry {
    Pem,
    Pfx,
}

/// Looks through the files of a directory store that the runtime reads (`read_as` names them);
/// when the root is only in a file the runtime skips, the note says so.
///
/// A hashed directory is looked up as OpenSSL's by_dir.c looks it up: only `<hash>.0`,
/// `<hash>.1`, ... of the wanted subject's hash ([`name_hash`]), up to the first missing one
/// (or one it cannot load, where OpenSSL stops too), so a Debian `/etc/ssl/certs` costs a few
/// opens rather than a parse of its ~290 files.
fn directory_lookup(
    store: &StoreLocation,
    wanted: &WantedRoot,
    files: &DeviceFiles,
    read_as: impl Fn(&str) -> Option<DirectoryEntry>,
) -> Lookup {
    let directory = &store.path;
    let entry = |name: &str| files.locate(&store.root, &directory.device.join(name));
    let hashes = match store.format {
        StoreFormat::HashedDirectory => wanted.subject_hashes(),
        _ => None,
    };
    let mut stopped_at = None;
    for hash in hashes.iter().flatten() {
        for number in 0.. {
            let name = format!("{}.{number}", hash_file_stem(*hash));
            match os_trust_store(&entry(&name).host) {
                Ok(anchors) if wanted.is_in(&anchors.certificates) => {
                    return Lookup::Holds(directory.device.join(name));
                }
                Ok(_) => {}
                Err(error) if matches!(*error, CertificateFileError::NotFound { .. }) => break,
                Err(error) => {
                    stopped_at.get_or_insert(format!(
                        "{} cannot be read ({error}), and OpenSSL looks no further for this name",
                        directory.device.join(&name).display()
                    ));
                    break;
                }
            }
        }
    }
    let listing = match files.listing(&directory.host) {
        Ok(listing) => listing,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
        Err(error) => {
            return Lookup::Unreadable(format!("{}: {error}", directory.device.display()));
        }
    };
    let entries: Vec<(Cow<'_, str>, FileType)> = listing
        .iter()
        .map(|entry| (entry.name.to_string_lossy(), entry.file_type))
        .collect();
    let mut unreadable = Vec::new();
    // Without a hash for the wanted name (OpenSSL could not decode it), every file the runtime
    // reads is looked in.
    for (name, _) in entries.iter().filter(|_| hashes.is_none()) {
        let certificates = match read_as(name) {
            None => continue,
            Some(DirectoryEntry::Pem) => os_trust_store(&entry(name).host)
                .map(|anchors| anchors.certificates.clone())
                .map_err(|error| error.to_string()),
            Some(DirectoryEntry::Pfx) => read_bounded(&entry(name).host).and_then(|bytes| {
                keystore::pkcs12_certificates(&bytes.unwrap_or_default(), "")
                    .map_err(|error| error.to_string())
            }),
        };
        match certificates {
            Ok(certificates) if wanted.is_in(&certificates) => {
                return Lookup::Holds(directory.device.join(&**name));
            }
            Ok(_) => {}
            // OpenSSL skips a hashed name it cannot read, and so does .NET a broken .pfx; a
            // .pfx that might be the root leaves the answer open.
            Err(error) if store.format == StoreFormat::DotnetStoreDirectory => {
                unreadable.push(format!("{name} ({error})"));
            }
            Err(_) => {}
        }
    }
    if !unreadable.is_empty() {
        return Lookup::Unreadable(format!(
            "{}: cannot open {}",
            directory.device.display(),
            unreadable.join(", ")
        ));
    }
    let note = near_miss(store, wanted, &entries, &read_as, files).map(|name| match store.format {
        StoreFormat::DotnetStoreDirectory => format!(
            "{} holds the root, but .NET only reads the .pfx files of this directory",
            directory.device.join(name).display()
        ),
        _ => format!(
            "{} holds the root, but OpenSSL looks a directory up by subject hash (`<hash>.0`) and never opens that name: run `sudo openssl rehash {}`",
            directory.device.join(name).display(),
            directory.device.display()
        ),
    });
    Lookup::Lacks {
        note: note.or(stopped_at),
    }
}

/// A near miss: the file of the directory that holds the root under a name the runtime never
/// opens. Only a file that no name the runtime reads leads to can be one (Debian's `*.pem`
/// links are the same files as its `<hash>.0` links), so only those others are read: in a
/// Debian `/etc/ssl/certs`, the bundle `ca-certificates.crt`, itself read through its real
/// path, which is the bundle OpenSSL's default CA file (and the OS trust store checks) read
/// already.
///
/// The listing's file types (free: `d_type`) decide what needs a system call at all: a
/// directory is no candidate, an entry that is no link leads nowhere, so only the links among
/// the names the runtime reads are `readlink`ed (in the directory's real path, so that each
/// call walks `/etc/ssl/certs` rather than `/usr/lib/ssl/certs` and its link again), and none
/// when no other name is left to rule out.
fn near_miss<'a>(
    store: &StoreLocation,
    wanted: &WantedRoot,
    entries: &'a [(Cow<'a, str>, FileType)],
    read_as: &dyn Fn(&str) -> Option<DirectoryEntry>,
    files: &DeviceFiles,
) -> Option<&'a str> {
    use std::os::unix::fs::MetadataExt;
    let located = |name: &str| files.locate(&store.root, &store.path.device.join(name));
    let candidates: Vec<&'a str> = entries
        .iter()
        .filter(|(name, file_type)| read_as(name).is_none() && !file_type.is_dir())
        .map(|(name, _)| name.as_ref())
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let read_entries = || entries.iter().filter(|(name, _)| read_as(name).is_some());
    // The names an entry the runtime reads links to by a bare name in this directory
    // (`3513523f.0 -> ACCVRAIZ1.pem`, as `openssl rehash` and update-ca-certificates make
    // them): that file is read, whatever it is, so it is no near miss.
    // Each is asked once per directory, so straight to the system rather than through the
    // run's memo, and kept sorted for the lookups below.
    let real_directory = files.real(&store.path);
    let mut linked: Vec<std::ffi::OsString> = read_entries()
        .filter(|(_, file_type)| file_type.is_symlink())
        .filter_map(|(name, _)| std::fs::read_link(real_directory.join(&**name)).ok())
        .filter(|target| target.components().count() == 1 && target.file_name().is_some())
        .map(PathBuf::into_os_string)
        .collect();
    linked.sort_unstable();
    // Which files the read entries are, by (device, inode): needed only once a file the
    // runtime skips holds the root, so stat'd then, for every read entry.
    let read = std::cell::OnceCell::new();
    let read = || {
        read.get_or_init(|| {
            read_entries()
                .filter_map(|(name, _)| files.metadata(&located(name).host))
                .map(|metadata| (metadata.dev(), metadata.ino()))
                .collect::<Vec<(u64, u64)>>()
        })
    };
    candidates
        .into_iter()
        .filter(|name| {
            linked
                .binary_search_by(|target| target.as_os_str().cmp(std::ffi::OsStr::new(name)))
                .is_err()
        })
        .filter_map(|name| Some((name, files.metadata(&located(name).host)?)))
        .filter(|(_, metadata)| metadata.is_file())
        .filter(|(name, _)| {
            os_trust_store(&files.real(&located(name)))
                .is_ok_and(|anchors| wanted.is_in(&anchors.certificates))
        })
        .find(|(_, metadata)| !read().contains(&(metadata.dev(), metadata.ino())))
        .map(|(name, _)| name)
}

/// OpenSSL's by-directory lookup names: eight hex digits, a dot, a number (`3513523f.0`).
fn is_hash_name(name: &str) -> bool {
    let Some((hash, number)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 8
        && hash.bytes().all(|byte| byte.is_ascii_hexdigit())
        && !number.is_empty()
        && number.bytes().all(|byte| byte.is_ascii_digit())
}

/// A store file's bytes (`None` when it does not exist), bounded like every certificate file.
fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("{}: {error}", path.display())),
    };
    let length = file.metadata().map_or(0, |metadata| metadata.len());
    let bytes = read_to_end_bounded(file, length)
        .map_err(|error| format!("{}: {error}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{} is larger than any trust store", path.display()));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::load::load_certificates;

    fn fixture(name: &str) -> Vec<CertificateDer<'static>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        load_certificates(&path).unwrap()
    }

    /// A regenerated test root: the same name as `root-ca.pem`, another key.
    fn same_name_root() -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Azure_IoT_Hub_CA_Cert_Test_Only");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn a_presented_chain_is_matched_to_its_root_by_signature_not_by_name() {
        let chain = fixture("server-full-chain.pem");
        let wanted = WantedRoot::of_chain(&chain).unwrap();
        assert!(matches!(wanted, WantedRoot::IssuerOf(_)));
        assert!(wanted.is_in(&fixture("root-ca.pem")));
        assert!(!wanted.is_in(&fixture("other-root-ca.pem")));
        assert!(!wanted.is_in(&[same_name_root()]));
        // A chain that ends in its root wants that very certificate.
        let root = fixture("root-ca.pem");
        let with_root: Vec<_> = chain.iter().chain(&root).cloned().collect();
        let wanted = WantedRoot::of_chain(&with_root).unwrap();
        assert!(matches!(&wanted, WantedRoot::Roots(roots) if roots == &root));
        assert!(!wanted.is_in(&[same_name_root()]));
    }

    /// A hashed directory `/certs` in a device tree, and the hash name of `root-ca.pem`.
    fn hashed_directory() -> (tempfile::TempDir, StoreLocation, String) {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir(tree.path().join("certs")).unwrap();
        let root = SystemRoot::new(tree.path());
        let device = Device {
            root: &root,
            files: &DeviceFiles::default(),
        };
        let store = StoreLocation::new(device, "/certs", StoreFormat::HashedDirectory, "test");
        let root_ca = fixture("root-ca.pem");
        let (_, parsed) = X509Certificate::from_der(&root_ca[0]).unwrap();
        let stem = hash_file_stem(name_hash(parsed.subject()).unwrap());
        (tree, store, stem)
    }

    fn copy_in(tree: &tempfile::TempDir, fixture_name: &str, name: &str) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(fixture_name);
        std::fs::copy(from, tree.path().join("certs").join(name)).unwrap();
    }

    #[test]
    fn a_hashed_directory_is_read_at_the_hash_names_of_the_wanted_subject() {
        let (tree, store, stem) = hashed_directory();
        let wanted = WantedRoot::Roots(fixture("root-ca.pem"));
        // A hash collision: `.0` holds another certificate, `.1` the root.
        copy_in(&tree, "other-root-ca.pem", &format!("{stem}.0"));
        copy_in(&tree, "root-ca.pem", &format!("{stem}.1"));
        assert_eq!(
            look_up(&store, &wanted, &DeviceFiles::default()),
            Lookup::Holds(PathBuf::from(format!("/certs/{stem}.1")))
        );
        // OpenSSL stops at the first `<hash>.N` it cannot load, and says so. (Another tree: a
        // process reads each store file once; each lookup here is a run's, with its own
        // memo of the directory.)
        let (tree, store, stem) = hashed_directory();
        std::fs::write(tree.path().join(format!("certs/{stem}.0")), b"not PEM").unwrap();
        copy_in(&tree, "root-ca.pem", &format!("{stem}.1"));
        let Lookup::Lacks { note: Some(note) } = look_up(&store, &wanted, &DeviceFiles::default())
        else {
            panic!("{:?}", look_up(&store, &wanted, &DeviceFiles::default()));
        };
        assert!(
            note.contains(&format!("/certs/{stem}.0 cannot be read"))
                && note.contains("looks no further"),
            "{note}"
        );
    }

    #[test]
    fn only_a_file_no_hash_name_leads_to_is_a_near_miss() {
        let (tree, store, stem) = hashed_directory();
        let wanted = WantedRoot::Roots(fixture("root-ca.pem"));
        copy_in(&tree, "root-ca.pem", "gateway-root.pem");
        let Lookup::Lacks { note: Some(note) } = look_up(&store, &wanted, &DeviceFiles::default())
        else {
            panic!("{:?}", look_up(&store, &wanted, &DeviceFiles::default()));
        };
        assert!(
            note.starts_with("/certs/gateway-root.pem holds the root") && note.contains("rehash"),
            "{note}"
        );
        // Rehashed: the hash name is a link to that file, which is then found, not missed.
        std::os::unix::fs::symlink(
            "gateway-root.pem",
            tree.path().join(format!("certs/{stem}.0")),
        )
        .unwrap();
        assert_eq!(
            look_up(&store, &wanted, &DeviceFiles::default()),
            Lookup::Holds(PathBuf::from(format!("/certs/{stem}.0")))
        );
        // The root under another subject's hash name: not where OpenSSL looks, and not a near
        // miss either, since a hash name leads to it (the file is what OpenSSL would read for
        // that other name).
        let (tree, store, _) = hashed_directory();
        copy_in(&tree, "root-ca.pem", "0badc0de.0");
        std::os::unix::fs::symlink("0badc0de.0", tree.path().join("certs/gateway-root.pem"))
            .unwrap();
        assert_eq!(
            look_up(&store, &wanted, &DeviceFiles::default()),
            Lookup::Lacks { note: None }
        );
    }

    #[test]
    fn only_hash_names_are_looked_up_in_a_directory() {
        assert!(is_hash_name("3513523f.0"));
        assert!(is_hash_name("3513523F.12"));
        for name in [
            "3513523f",
            "3513523f.r0",
            "3513523.0",
            "root.pem",
            "ca-certificates.crt",
        ] {
            assert!(!is_hash_name(name), "{name}");
        }
    }
}
