//! The fix for a runtime that does not find the root, as Microsoft's downstream-device guide
//! and the SDKs' edge samples give it.

use std::path::Path;

use super::{DeviceFiles, Installation, Runtime, StoreFormat};

/// Where update-ca-certificates(8) takes local roots from; only `*.crt` names are installed.
pub const LOCAL_CERTIFICATES: &str = "/usr/local/share/ca-certificates";

/// The OS-store fix of the guide's Ubuntu tab, with the `.crt` name it insists on.
pub fn install_in_os_store(root_file: &Path) -> String {
    let name = root_file
        .file_name()
        .map_or_else(|| "root-ca.pem".into(), |name| name.to_string_lossy());
    format!(
        "`sudo cp {} {LOCAL_CERTIFICATES}/{name}.crt && sudo update-ca-certificates` (the .crt name matters)",
        root_file.display()
    )
}

/// One line: what to do so that `installation` trusts `root_file` (its stores' paths read
/// through the run's `files`).
pub fn fix(installation: &Installation, root_file: &Path, files: &DeviceFiles) -> String {
    let file = root_file.display();
    let os_store = install_in_os_store(root_file);
    match installation.runtime {
        Runtime::Node => format!(
            "Node.js: give the client the file in its `ca` option (`client.setOptions({{ ca: fs.readFileSync('{file}', 'utf-8') }})`, as edge_downstream_device.js does), or start node with NODE_EXTRA_CA_CERTS={file}"
        ),
        Runtime::Dotnet => format!(
            ".NET: install it in the OS store: {os_store}; or into the CurrentUser Root store of the user the application runs as, as the EdgeDownstreamDevice sample's InstallCACert() does (X509Store(StoreName.Root, StoreLocation.CurrentUser))"
        ),
        Runtime::C => format!(
            "C SDK: pass the PEM text with `IoTHubDeviceClient_SetOption(handle, OPTION_TRUSTED_CERT, cert_string)` as iotedge_downstream_device_sample.c does, or install it in OpenSSL's store: {os_store} (or point SSL_CERT_FILE at it)"
        ),
        Runtime::Java => {
            let store = installation
                .stores
                .iter()
                .find(|(_, store)| store.format == StoreFormat::JavaKeystore)
                .map(|(_, store)| store);
            let home = installation.location.as_deref();
            let keytool = home.map_or_else(
                || "keytool".to_owned(),
                |home| home.join("bin/keytool").display().to_string(),
            );
            // JDK 8's keytool has no -cacerts (its store is under jre/), nor does it apply to
            // jssecacerts or a -Djavax.net.ssl.trustStore file.
            let target = match (store, home) {
                (Some(store), Some(home))
                    if store.path.device == home.join("lib/security/cacerts") =>
                {
                    "-cacerts".to_owned()
                }
                (Some(store), _) => format!("-keystore {}", store.path.device.display()),
                (None, _) => "-cacerts".to_owned(),
            };
            let debian = if store.is_some_and(|store| {
                files
                    .real(&store.path)
                    .ends_with("etc/ssl/certs/java/cacerts")
            }) {
                format!(
                    " (on Debian, {os_store} also adds it here when ca-certificates-java is installed)"
                )
            } else {
                String::new()
            };
            format!(
                "Java: `sudo {keytool} -importcert {target} -storepass changeit -noprompt -alias azure-iot-edge-root -file {file}`{debian}"
            )
        }
        Runtime::Python => format!(
            "Python: have the application pass the file as server_verification_cert (the edge samples read its path from IOTEDGE_ROOT_CA_CERT_PATH, modules from EdgeModuleCACertificateFile: `export IOTEDGE_ROOT_CA_CERT_PATH={file}`), or install it in the OS store: {os_store}"
        ),
    }
}
