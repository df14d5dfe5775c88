//! Node.js: its own bundled Mozilla roots, `NODE_EXTRA_CA_CERTS`, and the application's `ca`
//! option; never the OS store, unless started with `--use-openssl-ca` (or `--use-system-ca`).

use std::path::PathBuf;

use super::device::{Device, Environment};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole, openssl};

pub fn discover(device: Device<'_>, environment: &Environment) -> Option<Installation> {
    let found_by = device
        .find_program(environment, &["node", "nodejs"])
        .or_else(|| nvm_node(device, environment))
        .map(|program| program.display().to_string())
        .or_else(|| {
            environment
                .get("NODE_EXTRA_CA_CERTS")
                .map(|_| "NODE_EXTRA_CA_CERTS is set".to_owned())
        })?;
    let mut stores = Vec::new();
    if let Some(file) = environment.get("NODE_EXTRA_CA_CERTS") {
        stores.push((
            StoreRole::Sdk,
            StoreLocation::new(device, file, StoreFormat::PemFile, "NODE_EXTRA_CA_CERTS"),
        ));
    }
    let options = environment.text("NODE_OPTIONS").unwrap_or_default();
    let reads_openssl_store = options
        .split_whitespace()
        .any(|option| option == "--use-openssl-ca" || option == "--use-system-ca");
    if reads_openssl_store {
        stores.extend(
            openssl::default_stores(device, environment)
                .into_iter()
                .map(|store| (StoreRole::Sdk, store)),
        );
    }
    let mut notes = vec![
        "Node.js trusts its bundled public roots, NODE_EXTRA_CA_CERTS and the client's `ca` option; it does not read the OS store".to_owned(),
    ];
    if reads_openssl_store {
        notes.push("NODE_OPTIONS makes it read OpenSSL's store too".to_owned());
    }
    Some(Installation {
        runtime: Runtime::Node,
        found_by,
        location: None,
        stores,
        notes,
    })
}

/// Node.js installed per user with nvm: `~/.nvm/versions/node/<version>/bin/node`.
fn nvm_node(device: Device<'_>, environment: &Environment) -> Option<PathBuf> {
    device
        .home_directories(environment)
        .into_iter()
        .flat_map(|home| device.children(&home.join(".nvm/versions/node")))
        .map(|version| version.join("bin/node"))
        .find(|program| device.files.is_file(&device.locate(program)))
}
