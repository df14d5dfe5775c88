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
    let library = find_libssl(root)?;
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

/// The first `libssl.so*` (by name) of `/usr/lib`, `/lib`, `/usr/lib64`, `/lib64` and
/// `/usr/local/lib`, each followed by its Debian multiarch directories (`<base>/x86_64-linux-gnu`,
/// `<base>/aarch64-linux-gnu`). Each base is listed once, for its libraries and its triplets
/// alike, and the search stops at the first directory that has one: a `<triplet>` directory
/// holds ~1,100 entries, and the bases after the one found are never listed.
fn find_libssl(root: &SystemRoot) -> Option<PathBuf> {
    let is_libssl = |name: &str| name.starts_with("libssl.so");
    ["/usr/lib", "/lib", "/usr/lib64", "/lib64", "/usr/local/lib"]
        .into_iter()
        .find_map(|base| {
            let entries = children_named(root, Path::new(base), &|name| {
                is_libssl(name) || name.contains("-linux-")
            });
            let named = |path: &PathBuf, keep: &dyn Fn(&str) -> bool| {
                path.file_name()
                    .is_some_and(|name| keep(&name.to_string_lossy()))
            };
            entries
                .iter()
                .find(|path| named(path, &is_libssl))
                .cloned()
                .or_else(|| {
                    entries
                        .iter()
                        .filter(|path| named(path, &|name| name.contains("-linux-")))
                        .find_map(|triplet| {
                            children_named(root, triplet, &is_libssl).into_iter().next()
                        })
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order the search keeps: a base's own libraries, then its triplets (by name), then
    /// the next base.
    #[test]
    fn libssl_is_the_first_by_directory_then_name() {
        let (tree, root) = crate::sdk_trust::device::temporary_root();
        assert_eq!(find_libssl(&root), None);
        // Each step adds files under the root; the search then finds another library.
        let steps: [(&[&str], &str); 4] = [
            (
                &["usr/local/lib/libssl.so.1.1"],
                "/usr/local/lib/libssl.so.1.1",
            ),
            (
                &[
                    "usr/lib/x86_64-linux-gnu/libssl.so.3",
                    "usr/lib/x86_64-linux-gnu/libcrypto.so.3",
                    "usr/lib/aarch64-linux-gnu/libcrypto.so.3",
                ],
                "/usr/lib/x86_64-linux-gnu/libssl.so.3",
            ),
            (
                &["usr/lib/aarch64-linux-gnu/libssl.so.3"],
                "/usr/lib/aarch64-linux-gnu/libssl.so.3",
            ),
            (
                &["usr/lib/libssl.so.3", "usr/lib/libssl.so"],
                "/usr/lib/libssl.so",
            ),
        ];
        for (added, found) in steps {
            for path in added.iter().map(|path| tree.path().join(path)) {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, b"").unwrap();
            }
            assert_eq!(
                find_libssl(&root),
                Some(PathBuf::from(found)),
                "after {added:?}"
            );
        }
    }
}
