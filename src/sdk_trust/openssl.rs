//! OpenSSL's default verify paths as the stores the C SDK, .NET on Linux and Python's `ssl`
//! module all load (the paths and variables themselves are
//! [`OpensslDefaults`](crate::engine::os_trust_location::OpensslDefaults)), and finding the C
//! SDK's OpenSSL itself.

use std::path::{Path, PathBuf};

use super::device::{Environment, children_named, locate};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole};
use crate::engine::os_trust_location::OpensslDefaults;
use crate::system::SystemRoot;

/// Where the device's OpenSSL loads trusted roots from by default: the CA file, then the hashed
/// directories ([`OpensslDefaults`], the same paths and variables the OS trust store checks
/// read), each located under `--root`.
pub fn default_stores(root: &SystemRoot, environment: &Environment) -> Vec<StoreLocation> {
    let defaults = OpensslDefaults::new(&environment.trust(), |directory| {
        locate(root, directory).is_dir()
    });
    let (file_source, directory_source) = (
        if defaults.file_from_environment {
            "SSL_CERT_FILE"
        } else {
            "OpenSSL's default CA file"
        },
        if defaults.directories_from_environment {
            "SSL_CERT_DIR"
        } else {
            "OpenSSL's default CA directory"
        },
    );
    let mut stores = vec![StoreLocation::new(
        root,
        &defaults.file,
        StoreFormat::PemFile,
        file_source,
    )];
    stores.extend(defaults.directories.iter().map(|directory| {
        StoreLocation::new(
            root,
            directory,
            StoreFormat::HashedDirectory,
            directory_source,
        )
    }));
    stores
}

/// The C SDK links OpenSSL on Linux: it is there when libssl is.
pub fn discover_c_sdk(root: &SystemRoot, environment: &Environment) -> Option<Installation> {
    let library = library_directories(root)
        .into_iter()
        .find_map(|directory| {
            children_named(root, &directory, &|name| name.starts_with("libssl.so"))
                .into_iter()
                .next()
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
        directories.extend(children_named(root, Path::new(base), &|name| {
            name.contains("-linux-")
        }));
    }
    directories
}
