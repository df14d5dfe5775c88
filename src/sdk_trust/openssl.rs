//! OpenSSL's default verify paths, which the C SDK, .NET on Linux and Python's `ssl` module all
//! load (`X509_get_default_cert_file`/`_dir`, moved by `SSL_CERT_FILE` and `SSL_CERT_DIR`), and
//! finding the C SDK's OpenSSL itself.

use std::path::{Path, PathBuf};

use super::device::{Environment, children, locate};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole};
use crate::system::SystemRoot;

/// OPENSSLDIR as distributions build it: Debian and Ubuntu, then RHEL and Fedora, then Alpine
/// and SUSE. The first that exists on the device is its OpenSSL's.
const OPENSSL_DIRECTORIES: &[&str] = &["/usr/lib/ssl", "/etc/pki/tls", "/etc/ssl"];

/// Where the device's OpenSSL loads trusted roots from by default: the CA file, then the hashed
/// directories.
pub fn default_stores(root: &SystemRoot, environment: &Environment) -> Vec<StoreLocation> {
    let directory = OPENSSL_DIRECTORIES
        .iter()
        .map(Path::new)
        .find(|directory| locate(root, directory).is_dir())
        .unwrap_or(Path::new(OPENSSL_DIRECTORIES[0]));
    let mut stores = vec![match environment.get("SSL_CERT_FILE") {
        Some(file) => StoreLocation::new(root, file, StoreFormat::PemFile, "SSL_CERT_FILE"),
        None => StoreLocation::new(
            root,
            directory.join("cert.pem"),
            StoreFormat::PemFile,
            "OpenSSL's default CA file",
        ),
    }];
    match environment.get("SSL_CERT_DIR") {
        Some(list) => stores.extend(std::env::split_paths(list).map(|directory| {
            StoreLocation::new(
                root,
                directory,
                StoreFormat::HashedDirectory,
                "SSL_CERT_DIR",
            )
        })),
        None => stores.push(StoreLocation::new(
            root,
            directory.join("certs"),
            StoreFormat::HashedDirectory,
            "OpenSSL's default CA directory",
        )),
    }
    stores
}

/// The C SDK links OpenSSL on Linux: it is there when libssl is.
pub fn discover_c_sdk(root: &SystemRoot, environment: &Environment) -> Option<Installation> {
    let library = library_directories(root)
        .into_iter()
        .flat_map(|directory| children(root, &directory))
        .find(|file| {
            file.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("libssl.so"))
        })?;
    Some(Installation {
        runtime: Runtime::C,
        found_by: library.display().to_string(),
        location: None,
        stores: default_stores(root, environment)
            .into_iter()
            .map(|store| (StoreRole::Sdk, store))
            .collect(),
        notes: vec![
            "the C SDK trusts what the application sets with OPTION_TRUSTED_CERT, else OpenSSL's default paths".to_owned(),
        ],
    })
}

fn library_directories(root: &SystemRoot) -> Vec<PathBuf> {
    let mut directories = Vec::new();
    for base in ["/usr/lib", "/lib", "/usr/lib64", "/lib64", "/usr/local/lib"] {
        directories.push(PathBuf::from(base));
        // Debian's multiarch directories: /usr/lib/x86_64-linux-gnu, /usr/lib/aarch64-linux-gnu.
        directories.extend(children(root, Path::new(base)).into_iter().filter(|child| {
            child
                .file_name()
                .is_some_and(|name| name.to_string_lossy().contains("-linux-"))
        }));
    }
    directories
}
