//! .NET on Linux: X509Chain trusts the OS store (OpenSSL's default paths) and the CurrentUser
//! Root store, which .NET keeps as one `.pfx` per certificate in
//! `~/.dotnet/corefx/cryptography/x509stores/root/` (the EdgeDownstreamDevice sample's
//! `InstallCACert()` puts the root there).

use std::path::{Path, PathBuf};

use super::device::{Device, Environment};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole, openssl};

/// The CurrentUser Root store under a home directory.
pub const CURRENT_USER_ROOT: &str = ".dotnet/corefx/cryptography/x509stores/root";

const INSTALL_DIRECTORIES: &[&str] = &[
    "/usr/share/dotnet",
    "/usr/lib/dotnet",
    "/usr/local/share/dotnet",
    "/opt/dotnet",
];

pub fn discover(device: Device<'_>, environment: &Environment) -> Option<Installation> {
    let homes = device.home_directories(environment);
    let user_stores: Vec<PathBuf> = homes
        .iter()
        .map(|home| home.join(CURRENT_USER_ROOT))
        .collect();
    let found_by = environment
        .get("DOTNET_ROOT")
        .map(PathBuf::from)
        .filter(|directory| device.files.is_dir(&device.locate(directory)))
        .map(|directory| format!("DOTNET_ROOT={}", directory.display()))
        .or_else(|| {
            device
                .find_program(environment, &["dotnet"])
                .map(|program| program.display().to_string())
        })
        .or_else(|| {
            INSTALL_DIRECTORIES
                .iter()
                .find(|directory| device.files.is_dir(&device.locate(Path::new(directory))))
                .map(|directory| (*directory).to_owned())
        })
        .or_else(|| {
            user_stores
                .iter()
                .find(|store| device.files.is_dir(&device.locate(store)))
                .map(|store| store.display().to_string())
        })?;
    // $HOME's store is always listed (it is where the fix goes); other users' when they exist.
    let mut stores: Vec<(StoreRole, StoreLocation)> = user_stores
        .iter()
        .enumerate()
        .filter(|(index, store)| {
            (*index == 0 && environment.get("HOME").is_some())
                || device.files.is_dir(&device.locate(store))
        })
        .map(|(_, store)| {
            (
                StoreRole::Sdk,
                StoreLocation::new(
                    device,
                    store,
                    StoreFormat::DotnetStoreDirectory,
                    "CurrentUser Root store",
                ),
            )
        })
        .collect();
    stores.extend(
        openssl::default_stores(device, environment)
            .into_iter()
            .map(|store| (StoreRole::Sdk, store)),
    );
    Some(Installation {
        runtime: Runtime::Dotnet,
        found_by,
        location: None,
        stores,
        notes: vec![
            ".NET trusts the OS store (OpenSSL's default paths) and the CurrentUser Root store of the user the application runs as".to_owned(),
        ],
    })
}
