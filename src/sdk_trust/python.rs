//! Python: azure-iot-device's TLS context loads the `server_verification_cert` the application
//! passes (the edge samples read it from `EdgeModuleCACertificateFile` or
//! `IOTEDGE_ROOT_CA_CERT_PATH`), else `load_default_certs()`, OpenSSL's default paths. The
//! `requests` library reads neither: it uses `REQUESTS_CA_BUNDLE` (or `CURL_CA_BUNDLE`), else
//! certifi's `cacert.pem` in site-packages.

use std::path::{Path, PathBuf};

use super::device::{Device, Environment};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole, openssl};

/// The variables the SDK's edge samples and module clients read the root's path from.
const SAMPLE_VARIABLES: &[&str] = &["EdgeModuleCACertificateFile", "IOTEDGE_ROOT_CA_CERT_PATH"];

pub fn discover(device: Device<'_>, environment: &Environment) -> Option<Installation> {
    let certifi = certifi_bundles(device, environment);
    let found_by = device
        .find_program(environment, &["python3", "python"])
        .map(|program| program.display().to_string())
        .or_else(|| {
            environment
                .text("VIRTUAL_ENV")
                .map(|venv| format!("VIRTUAL_ENV={venv}"))
        })
        .or_else(|| certifi.first().map(|bundle| bundle.display().to_string()))?;
    let mut stores: Vec<(StoreRole, StoreLocation)> = Vec::new();
    match SAMPLE_VARIABLES
        .iter()
        .find_map(|variable| Some((*variable, environment.get(variable)?)))
    {
        Some((variable, file)) => stores.push((
            StoreRole::Sdk,
            StoreLocation::new(device, file, StoreFormat::PemFile, variable),
        )),
        None => stores.extend(
            openssl::default_stores(device, environment)
                .into_iter()
                .map(|store| (StoreRole::Sdk, store)),
        ),
    }
    match ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]
        .iter()
        .find_map(|variable| Some((*variable, environment.get(variable)?)))
    {
        Some((variable, file)) => stores.push((
            StoreRole::Requests,
            StoreLocation::new(device, file, StoreFormat::PemFile, variable),
        )),
        None => stores.extend(certifi.iter().map(|bundle| {
            (
                StoreRole::Requests,
                StoreLocation::new(device, bundle, StoreFormat::PemFile, "certifi"),
            )
        })),
    }
    Some(Installation {
        runtime: Runtime::Python,
        found_by,
        location: None,
        stores,
        notes: vec![
            "the Python SDK trusts the file the application passes as server_verification_cert, else OpenSSL's default paths; `requests` reads certifi's bundle or REQUESTS_CA_BUNDLE instead".to_owned(),
        ],
    })
}

/// certifi's `cacert.pem` in every site-packages on the device: the system's (Debian's
/// dist-packages), /usr/local's, a virtual environment's and users' `~/.local`.
fn certifi_bundles(device: Device<'_>, environment: &Environment) -> Vec<PathBuf> {
    let mut packages: Vec<PathBuf> = vec![PathBuf::from("/usr/lib/python3/dist-packages")];
    let mut library_directories: Vec<PathBuf> = ["/usr/lib", "/usr/lib64", "/usr/local/lib"]
        .iter()
        .map(PathBuf::from)
        .collect();
    if let Some(venv) = environment.get("VIRTUAL_ENV") {
        library_directories.push(Path::new(venv).join("lib"));
    }
    for home in device.home_directories(environment) {
        library_directories.push(home.join(".local/lib"));
    }
    for directory in library_directories {
        for python in device.children_named(&directory, &|name| name.starts_with("python3")) {
            packages.push(python.join("site-packages"));
            packages.push(python.join("dist-packages"));
        }
    }
    let mut bundles = Vec::new();
    for directory in packages {
        let bundle = directory.join("certifi/cacert.pem");
        if device.files.exists(&device.locate(&bundle)) && !bundles.contains(&bundle) {
            bundles.push(bundle);
        }
    }
    bundles
}
