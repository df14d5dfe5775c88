//! `certificates-configured`: the device CA certificate and key and the trusted root that the
//! config names exist, parse, and are readable by the service that loads them, as "Configure an
//! IoT Edge device to act as a transparent gateway" sets them up: certificates owned by
//! `aziotcs` and readable, keys owned by `aziotks` and private (1.2+); `iotedge` reads both in
//! 1.1. No device CA at all means quickstart certificates, which the docs reserve for testing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::config::{
    ConfigFormat, ConfiguredCertificates, ConfiguredFile, DeviceCa, EdgeCa, EdgeConfig,
    FileLocation,
};
use crate::engine::{
    Check, CheckFuture, Context, Dependency, Evidence, Group, Outcome, Prior, Status,
};
use crate::pki::TrustAnchors;
use crate::pki::load::{CertificateFileError, KeyFileError, load_certificates, load_private_key};
use crate::system::{AccessDenied, Accounts, Ownership, check_read_access};

pub struct CertificatesConfiguredCheck;

/// One finding; the check's status is the worst, its message lists them all.
struct Finding {
    status: Status,
    message: String,
    remedy: Option<String>,
}

/// Per file, for JSON.
use crate::engine::info::{CertificatesConfiguredInfo, ConfiguredFileInfo as FileInfo};

struct Inspector<'a> {
    context: &'a Context,
    config: &'a EdgeConfig,
    accounts: Result<Accounts, String>,
    findings: Vec<Finding>,
    notes: Vec<String>,
    files: Vec<FileInfo>,
}

/// What a file is, for choosing the reader and the remedies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Certificate,
    Key,
}

impl Check for CertificatesConfiguredCheck {
    fn id(&self) -> &'static str {
        "certificates-configured"
    }
    fn group(&self) -> Group {
        Group::Configuration
    }
    fn description(&self) -> &'static str {
        "device CA certificate, key and trusted root are configured and readable"
    }
    fn dependencies(&self) -> &'static [Dependency] {
        &[Dependency::Requires("config-well-formed")]
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(config) = prior.edge_config() else {
                return Outcome::skipped("skipped because the config was not read");
            };
            let mut inspector = Inspector {
                context,
                config,
                accounts: Accounts::load(&context.root).map_err(|error| error.to_string()),
                findings: Vec::new(),
                notes: Vec::new(),
                files: Vec::new(),
            };
            let format = config.format;
            let apply = format.apply_command();
            let mut device_ca = None;
            let mut quickstart = false;
            match &config.edge_ca {
                EdgeCa::Files { cert, key } => {
                    let chain = inspector.certificates(cert);
                    let key_loaded = inspector.key(key);
                    if let Some((cert_path, chain)) = chain {
                        let (key_path, key) = match key_loaded {
                            Some((path, key)) => (Some(path), Some(Arc::new(key))),
                            None => (None, None),
                        };
                        device_ca = Some(DeviceCa {
                            cert_path,
                            chain,
                            key_path,
                            key,
                        });
                    }
                }
                EdgeCa::Incomplete { cert, key } => {
                    let (set, missing) = match (cert, key) {
                        (Some(cert), _) => (cert.setting, format.device_ca_key_setting()),
                        (_, Some(key)) => (key.setting, format.device_ca_cert_setting()),
                        (None, None) => (
                            format.device_ca_cert_setting(),
                            format.device_ca_key_setting(),
                        ),
                    };
                    inspector.findings.push(Finding {
                        status: Status::Error,
                        message: format!("{set} is set but {missing} is not: IoT Edge needs both the device CA certificate and its private key"),
                        remedy: Some(format!("set {missing} in {} to the device CA's private key (file:///var/aziot/secrets/<name>.key.pem), then `{apply}`", config.source.display())),
                    });
                }
                EdgeCa::Quickstart { lifetime_days } => {
                    quickstart = true;
                    inspector.findings.push(Finding {
                        status: Status::Warning,
                        message: format!(
                            "no device CA is configured: IoT Edge generates a quickstart CA{}, for testing only; leaves cannot be given a lasting root for it",
                            lifetime_days.map(|days| format!(" valid {days} days")).unwrap_or_default()
                        ),
                        remedy: Some(format!(
                            "issue a device CA certificate and key from your PKI (or, for tests, `./certGen.sh create_edge_device_ca_certificate <name>`), copy them to /var/aziot/certs and /var/aziot/secrets, set {} and {} in {}, then `{apply}`",
                            format.device_ca_cert_setting(),
                            format.device_ca_key_setting(),
                            config.source.display()
                        )),
                    });
                }
                EdgeCa::Issued { method } => {
                    inspector.notes.push(format!(
                        "the edge CA is issued at run time ([edge_ca] method = \"{method}\"): no certificate file to check"
                    ));
                }
            }
            let trust_bundle = match &config.trust_bundle {
                Some(file) => inspector
                    .certificates(file)
                    .map(|(path, certificates)| Arc::new(TrustAnchors::new(path, certificates))),
                None if !quickstart => {
                    // A lower layer verifies its parent with it; a top layer's modules and
                    // edgeHub get it as their trust bundle.
                    let nested = config.parent_hostname.is_some();
                    inspector.findings.push(Finding {
                        status: if nested { Status::Error } else { Status::Warning },
                        message: format!(
                            "{} is not set{}",
                            format.trust_bundle_setting(),
                            if nested {
                                ": this lower-layer device cannot verify its parent's certificate"
                            } else {
                                ": IoT Edge's trust bundle then lacks the root CA your leaves use, and the device CA's chain cannot be checked"
                            }
                        ),
                        remedy: Some(format!(
                            "set `{} = \"file:///var/aziot/certs/<root CA>.pem\"` at the top of {} (the root CA shared by the hierarchy), then `{apply}`",
                            format.trust_bundle_setting(),
                            config.source.display()
                        )),
                    });
                    None
                }
                None => None,
            };

            let certificates = ConfiguredCertificates {
                format,
                device_ca,
                trust_bundle,
                quickstart,
            };
            inspector
                .outcome(&certificates)
                .evidence(Evidence::ConfiguredCertificates(Arc::new(certificates)))
        })
    }
}

impl Inspector<'_> {
    fn reader(&self, kind: Kind) -> &'static str {
        match kind {
            Kind::Certificate => self.config.format.certificate_user(),
            Kind::Key => self.config.format.key_user(),
        }
    }

    /// The real path of a file setting, or a finding when it is not a local file.
    fn resolve(&mut self, file: &ConfiguredFile, kind: Kind) -> Option<PathBuf> {
        let config = self.config.source.display();
        match &file.location {
            FileLocation::Path(path) => Some(self.context.root.path(path)),
            FileLocation::NotAFile { scheme } if kind == Kind::Key && scheme == "pkcs11" => {
                self.notes.push(format!(
                    "{} is a PKCS#11 URI: the key lives in an HSM and is not checked here",
                    file.setting
                ));
                None
            }
            FileLocation::NotAFile { scheme } => {
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!(
                        "{} = `{}` is a `{scheme}:` URI, not a file",
                        file.setting, file.value
                    ),
                    remedy: Some(format!(
                        "set {} in {config} to file:///<absolute path>",
                        file.setting
                    )),
                });
                None
            }
            FileLocation::Invalid { reason } => {
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!("{}: {reason}", file.setting),
                    remedy: Some(format!(
                        "set {} in {config} to file:///<absolute path> (three slashes), then `{}`",
                        file.setting,
                        self.config.format.apply_command()
                    )),
                });
                None
            }
        }
    }

    /// Loads a certificate file and checks its reader's access.
    fn certificates(
        &mut self,
        file: &ConfiguredFile,
    ) -> Option<(PathBuf, Vec<CertificateDer<'static>>)> {
        let path = self.resolve(file, Kind::Certificate)?;
        let mut info = self.file_info(file, &path, Kind::Certificate);
        let loaded = match load_certificates(&path) {
            Ok(certificates) => {
                info.certificates = Some(certificates.len());
                self.notes.push(format!(
                    "{} = {}: {} certificate(s)",
                    file.setting,
                    path.display(),
                    certificates.len()
                ));
                Some((path.clone(), certificates))
            }
            Err(error) => {
                let remedy = certificate_remedy(&error, file, self.config);
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!("{}: {error}", file.setting),
                    remedy: Some(remedy),
                });
                info.status = Status::Error;
                None
            }
        };
        if loaded.is_some() {
            info.status = self.access(&path, Kind::Certificate);
        }
        self.files.push(info);
        loaded
    }

    /// Loads the private key and checks its reader's access and that others cannot read it.
    fn key(
        &mut self,
        file: &ConfiguredFile,
    ) -> Option<(PathBuf, rustls_pki_types::PrivateKeyDer<'static>)> {
        let path = self.resolve(file, Kind::Key)?;
        let mut info = self.file_info(file, &path, Kind::Key);
        let loaded = match load_private_key(&path) {
            Ok(key) => Some((path.clone(), key)),
            Err(error) => {
                let remedy = key_remedy(&error, file, self.config);
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!("{}: {error}", file.setting),
                    remedy: Some(remedy),
                });
                info.status = Status::Error;
                None
            }
        };
        if loaded.is_some() {
            info.status = self.access(&path, Kind::Key);
            if let Some(ownership) = &info.ownership
                && ownership.world_readable()
            {
                info.status = info.status.max(Status::Warning);
                self.findings.push(Finding {
                    status: Status::Warning,
                    message: format!(
                        "the device CA private key {} is readable by every user ({ownership}): anyone on this machine can copy it and impersonate the gateway",
                        path.display()
                    ),
                    remedy: Some(format!(
                        "`sudo chown {reader}:{reader} {path} && sudo chmod 600 {path}`, as the gateway guide sets keys",
                        reader = self.reader(Kind::Key),
                        path = path.display()
                    )),
                });
            }
        }
        self.files.push(info);
        loaded
    }

    fn file_info(&self, file: &ConfiguredFile, path: &Path, kind: Kind) -> FileInfo {
        FileInfo {
            setting: file.setting,
            value: file.value.clone(),
            path: Some(path.to_path_buf()),
            reader: self.reader(kind),
            status: Status::Ok,
            certificates: None,
            // Owners are shown by name when the accounts could be read, by number otherwise.
            ownership: Ownership::of(path, self.accounts.as_ref().unwrap_or(&Accounts::default()))
                .ok(),
        }
    }

    /// Whether the service user can read `path`; a finding when it cannot.
    fn access(&mut self, path: &Path, kind: Kind) -> Status {
        let reader = self.reader(kind);
        let accounts = match &self.accounts {
            Ok(accounts) => accounts,
            Err(error) => {
                let note = format!("which users may read the files was not checked: {error}");
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
                return Status::Ok;
            }
        };
        let Some(user) = accounts.user(reader) else {
            let note = format!(
                "user `{reader}` does not exist in {}: IoT Edge is not installed here (or this is a copy of its files), so access was not checked",
                self.context.root.path("/etc/passwd").display()
            );
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
            return Status::Ok;
        };
        match check_read_access(&self.context.root, path, user, accounts) {
            Ok(Ok(())) => Status::Ok,
            Ok(Err(denied)) => {
                let remedy =
                    access_remedy(&denied, reader, kind, self.config.format.restart_command());
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!(
                        "{denied}: IoT Edge's {} runs as `{reader}` and will fail to load it",
                        match (self.config.format, kind) {
                            (ConfigFormat::V1Yaml, _) => "daemon (iotedged)",
                            (ConfigFormat::V2Toml, Kind::Certificate) =>
                                "certificate service (aziot-certd)",
                            (ConfigFormat::V2Toml, Kind::Key) => "key service (aziot-keyd)",
                        }
                    ),
                    remedy: Some(remedy),
                });
                Status::Error
            }
            Err(error) => {
                self.notes
                    .push(format!("access to {} not checked: {error}", path.display()));
                Status::Ok
            }
        }
    }

    fn outcome(self, certificates: &ConfiguredCertificates) -> Outcome {
        let status = self
            .findings
            .iter()
            .map(|finding| finding.status)
            .max()
            .unwrap_or(Status::Ok);
        let message = if self.findings.is_empty() {
            let mut parts = Vec::new();
            if let Some(device_ca) = &certificates.device_ca {
                parts.push(format!(
                    "device CA {} ({} certificate(s)){}",
                    device_ca.cert_path.display(),
                    device_ca.chain.len(),
                    device_ca
                        .key_path
                        .as_ref()
                        .map(|key| format!(" with key {}", key.display()))
                        .unwrap_or_default()
                ));
            }
            if let Some(trust) = &certificates.trust_bundle {
                parts.push(format!("trusted root {}", trust.path.display()));
            }
            if parts.is_empty() {
                "no certificate files to check".to_owned()
            } else {
                format!(
                    "{}: present, valid PEM, readable by IoT Edge",
                    parts.join("; ")
                )
            }
        } else {
            self.findings
                .iter()
                .map(|finding| finding.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut remedies: Vec<String> = Vec::new();
        for remedy in self
            .findings
            .iter()
            .filter_map(|finding| finding.remedy.clone())
        {
            if !remedies.contains(&remedy) {
                remedies.push(remedy);
            }
        }
        let mut outcome = Outcome::ok(message).details(self.notes);
        outcome.escalate(status);
        if !remedies.is_empty() {
            outcome = outcome.remedy(remedies.join(". Also: "));
        }
        outcome.info(CertificatesConfiguredInfo {
            version: self.config.format,
            quickstart: certificates.quickstart,
            files: self.files,
        })
    }
}

fn certificate_remedy(
    error: &CertificateFileError,
    file: &ConfiguredFile,
    config: &EdgeConfig,
) -> String {
    let apply = config.format.apply_command();
    match error {
        CertificateFileError::NotFound { path } => format!(
            "copy the certificate to {} or correct {} in {}, then `{apply}`",
            path.display(),
            file.setting,
            config.source.display()
        ),
        CertificateFileError::PermissionDenied { .. } => {
            "run `sudo edgeprobe check` so the file can be read".to_owned()
        }
        _ => format!(
            "{} must name a PEM certificate file (the full-chain file for the device CA): copy it again from where the certificates were made, then `{apply}`",
            file.setting
        ),
    }
}

fn key_remedy(error: &KeyFileError, file: &ConfiguredFile, config: &EdgeConfig) -> String {
    let apply = config.format.apply_command();
    match error {
        KeyFileError::NotFound { path } => format!(
            "copy the device CA's private key to {} or correct {} in {}, then `{apply}`",
            path.display(),
            file.setting,
            config.source.display()
        ),
        KeyFileError::PermissionDenied { .. } => {
            "run `sudo edgeprobe check` so the key can be read".to_owned()
        }
        _ => format!(
            "{} must name the device CA's unencrypted PEM private key (iot-edge-device-ca-<name>.key.pem): copy it again, then `{apply}`",
            file.setting
        ),
    }
}

/// The guide's ownership for the file, or for the directory in the way.
fn access_remedy(denied: &AccessDenied, reader: &str, kind: Kind, restart: &str) -> String {
    let (mode, directory_mode, home) = match kind {
        Kind::Certificate => ("644", "755", "/var/aziot/certs"),
        Kind::Key => ("600", "700", "/var/aziot/secrets"),
    };
    match denied {
        AccessDenied::File { file, .. } => format!(
            "`sudo chown {reader}:{reader} {file} && sudo chmod {mode} {file}` (the transparent gateway guide's ownership), then `{restart}`",
            file = file.display()
        ),
        AccessDenied::Directory { directory, .. }
            if directory.ends_with("aziot/certs") || directory.ends_with("aziot/secrets") =>
        {
            format!(
                "`sudo chown {reader}:{reader} {directory} && sudo chmod {directory_mode} {directory}`, then `{restart}`",
                directory = directory.display()
            )
        }
        AccessDenied::Directory { directory, .. } => format!(
            "{reader} cannot pass through {}: move the file to {home} as the guides do (owned by {reader}), update the config, and apply it",
            directory.display()
        ),
    }
}
