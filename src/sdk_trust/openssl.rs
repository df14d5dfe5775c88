//! OpenSSL's default verify paths as the stores the C SDK, .NET on Linux and Python's `ssl`
//! module all load (the paths and variables themselves are
//! [`OpensslDefaults`](crate::engine::os_trust_location::OpensslDefaults)), and finding the C
//! SDK's OpenSSL itself.

use std::path::{Path, PathBuf};

use super::device::{Device, Environment};
use super::files::DirectoryEntry;
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole};
use crate::engine::os_trust_location::OpensslDefaults;

/// Where the device's OpenSSL loads trusted roots from by default: the CA file, then the hashed
/// directories ([`OpensslDefaults`], the same paths and variables the OS trust store checks
/// read), each located under `--root`.
pub fn default_stores(device: Device<'_>, environment: &Environment) -> Vec<StoreLocation> {
    let defaults = OpensslDefaults::new(&environment.trust(), |directory| {
        device.files.is_dir(&device.locate(directory))
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
        device,
        &defaults.file,
        StoreFormat::PemFile,
        file_source,
    )];
    stores.extend(defaults.directories.iter().map(|directory| {
        StoreLocation::new(
            device,
            directory,
            StoreFormat::HashedDirectory,
            directory_source,
        )
    }));
    stores
}

/// The C SDK links OpenSSL on Linux: it is there when libssl is.
pub fn discover_c_sdk(device: Device<'_>, environment: &Environment) -> Option<Installation> {
    let library = find_libssl(device)?;
    Some(Installation {
        runtime: Runtime::C,
        found_by: library.display().to_string(),
        location: None,
        stores: default_stores(device, environment)
            .into_iter()
            .map(|store| (StoreRole::Sdk, store))
            .collect(),
        notes: vec![
            "the C SDK trusts what the application sets with OPTION_TRUSTED_CERT, else OpenSSL's default paths".to_owned(),
        ],
    })
}

/// The names OpenSSL's libssl is installed under, in name order: the development link, then
/// each release's soname (0.9.8, 1.0.0 in Debian, 1.0.2 and RHEL 7's 1.0.2k, 1.1, RHEL's 10,
/// 3, RHEL 6's 6).
const LIBSSL_NAMES: &[&str] = &[
    "libssl.so",
    "libssl.so.0.9.8",
    "libssl.so.1.0.0",
    "libssl.so.1.0.2",
    "libssl.so.1.0.2k",
    "libssl.so.1.1",
    "libssl.so.10",
    "libssl.so.3",
    "libssl.so.6",
];

/// The first `libssl.so*` (by name) of `/usr/lib`, `/lib`, `/usr/lib64`, `/lib64` and
/// `/usr/local/lib`, each followed by its Debian multiarch directories (`<base>/x86_64-linux-gnu`,
/// `<base>/aarch64-linux-gnu`); the search stops at the first directory that has one.
///
/// A base is listed (once per run: Python's discovery lists `/usr/lib` too) for its own
/// libraries and its triplets; a `<triplet>` directory holds ~1,100 entries, so it is not
/// listed but asked for [`LIBSSL_NAMES`], one `lstat` each in name order (a dangling link
/// counts, as it did in a listing). The answer is the listing's for every layout whose
/// triplet directory holds one of those names; it differs only where a triplet directory's
/// libssl goes by a name not in that list (a bare `libssl.so.3.0.2` without its soname link,
/// a vendor's `libssl.so.1.0.2u`): such a library is not found there, or a later name of the
/// list is reported instead of it.
fn find_libssl(device: Device<'_>) -> Option<PathBuf> {
    ["/usr/lib", "/lib", "/usr/lib64", "/lib64", "/usr/local/lib"]
        .into_iter()
        .find_map(|base| {
            let base = Path::new(base);
            let entries = device.files.listing(&device.locate(base).host).ok()?;
            let name = |entry: &DirectoryEntry| entry.name.to_string_lossy().into_owned();
            if let Some(library) = entries
                .iter()
                .find(|entry| name(entry).starts_with("libssl.so"))
            {
                return Some(base.join(&library.name));
            }
            entries
                .iter()
                .filter(|entry| name(entry).contains("-linux-"))
                // A triplet is a directory (or a link to one); `/usr/lib` also holds the
                // loaders `ld-linux-aarch64.so.1` and `ld-linux-armhf.so.3`, which the
                // listing's types rule out without a call.
                .filter_map(|entry| {
                    let triplet = base.join(&entry.name);
                    let is_directory = entry.file_type.is_dir()
                        || (entry.file_type.is_symlink()
                            && device.files.is_dir(&device.locate(&triplet)));
                    is_directory.then_some(triplet)
                })
                .find_map(|triplet| {
                    let directory = device.locate(&triplet).host;
                    LIBSSL_NAMES
                        .iter()
                        .find(|name| std::fs::symlink_metadata(directory.join(name)).is_ok())
                        .map(|name| triplet.join(name))
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::SystemRoot;

    /// The order the search keeps: a base's own libraries, then its triplets (by name), then
    /// the next base.
    #[test]
    fn libssl_is_the_first_by_directory_then_name() {
        let (tree, root) = crate::sdk_trust::device::temporary_root();
        // Each step is a run of its own: a run's memo keeps what it listed.
        let find_libssl = |root: &SystemRoot| {
            find_libssl(Device {
                root,
                files: &crate::sdk_trust::DeviceFiles::default(),
            })
        };
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

    /// The names are probed in the order a listing sorted them, so the first found is the
    /// one a listing found first.
    #[test]
    fn libssl_names_are_in_name_order() {
        assert!(LIBSSL_NAMES.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            LIBSSL_NAMES
                .iter()
                .all(|name| name.starts_with("libssl.so"))
        );
    }
}
