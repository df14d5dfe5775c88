//! The IoT Edge device configuration, read the way the IoT Edge daemons read it: IoT Edge 1.1's
//! `/etc/iotedge/config.yaml` ([`v1_yaml`]) and IoT Edge 1.2+'s `/etc/aziot/config.toml`
//! ([`v2_toml`]), both normalized into one [`EdgeConfig`] holding what a gateway check needs.
//!
//! Parsing is typed (serde) and tolerant of keys edgeprobe does not use, so a config with extra
//! sections still loads; a value of the wrong type, or a syntax error, is an error with its line
//! and column. Secrets (the connection string) are kept out of `Debug` and error messages.

pub mod image_reference;
pub mod upstream;
pub mod v1_yaml;
pub mod v2_toml;

/// Where the connection string's secret type lived before [`crate::secrets`].
pub use crate::secrets::SecretString;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use crate::pki::TrustAnchors;
use crate::system::SystemRoot;
use v2_toml::Agent;

/// IoT Edge 1.2 and later: the "super config" that `iotedge config apply` distributes.
pub const V2_CONFIG_PATH: &str = "/etc/aziot/config.toml";
/// IoT Edge 1.1 (and 1.0.x): read by iotedged at start.
pub const V1_CONFIG_PATH: &str = "/etc/iotedge/config.yaml";

/// The largest config file read; real ones are a few KiB (the template with its comments is
/// about 30 KiB).
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Which IoT Edge generation the file belongs to; it decides file names, service users and the
/// command that applies a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum ConfigFormat {
    /// IoT Edge 1.1 `config.yaml` (iotedged, libiothsm).
    #[serde(rename = "1.1")]
    V1Yaml,
    /// IoT Edge 1.2+ `config.toml` (aziot-edged with the identity, key and certificate services).
    #[serde(rename = "1.2+")]
    V2Toml,
}

impl ConfigFormat {
    /// "IoT Edge 1.1 config.yaml", for messages.
    pub fn title(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "IoT Edge 1.1 config.yaml",
            ConfigFormat::V2Toml => "IoT Edge 1.2+ config.toml",
        }
    }

    /// The user that reads certificate files: "Configure an IoT Edge device to act as a
    /// transparent gateway" has 1.2+ operators `chown aziotcs:aziotcs` the certificates, and 1.1
    /// ran everything as `iotedge`.
    pub fn certificate_user(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "iotedge",
            ConfigFormat::V2Toml => "aziotcs",
        }
    }

    /// The user that reads private keys (`chown aziotks:aziotks` in the same guide).
    pub fn key_user(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "iotedge",
            ConfigFormat::V2Toml => "aziotks",
        }
    }

    /// Where IoT Edge keeps this config on a gateway, for remedies that a copy is read from.
    pub fn system_path(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => V1_CONFIG_PATH,
            ConfigFormat::V2Toml => V2_CONFIG_PATH,
        }
    }

    /// What makes IoT Edge read the config again.
    pub fn apply_command(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "sudo systemctl restart iotedge",
            ConfigFormat::V2Toml => "sudo iotedge config apply",
        }
    }

    /// What restarts IoT Edge without changing its configuration.
    pub fn restart_command(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "sudo systemctl restart iotedge",
            ConfigFormat::V2Toml => "sudo iotedge system restart",
        }
    }

    /// The settings, as an operator finds them in the file.
    pub fn device_ca_cert_setting(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "certificates.device_ca_cert",
            ConfigFormat::V2Toml => "[edge_ca] cert",
        }
    }

    pub fn device_ca_key_setting(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "certificates.device_ca_pk",
            ConfigFormat::V2Toml => "[edge_ca] pk",
        }
    }

    /// Where the edgeAgent image is set.
    pub fn agent_image_setting(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "agent.config.image",
            ConfigFormat::V2Toml => "[agent.config] image",
        }
    }

    pub fn trust_bundle_setting(self) -> &'static str {
        match self {
            ConfigFormat::V1Yaml => "certificates.trusted_ca_certs",
            ConfigFormat::V2Toml => "trust_bundle_cert",
        }
    }
}

/// The parts of an IoT Edge config the gateway checks use, from either format.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// The file it was read from (a real path, under `--root` when one is given).
    pub source: PathBuf,
    pub format: ConfigFormat,
    /// `hostname` and `parent_hostname`.
    pub names: DeviceNames,
    pub provisioning: Provisioning,
    pub edge_ca: EdgeCa,
    /// `trust_bundle_cert` (1.2+) or `certificates.trusted_ca_certs` (1.1).
    pub trust_bundle: Option<ConfiguredFile>,
    /// IoT Edge 1.1's `homedir` (default `/var/lib/iotedge`), where libiothsm keeps the
    /// certificates it issued (`hsm/certs`) and their keys (`hsm/cert_keys`).
    pub homedir: PathBuf,
    /// `[agent]` (1.2+) or `agent` (1.1): how IoT Edge starts edgeAgent.
    pub agent: EdgeAgent,
    /// Top-level settings found inside a section ("hostname in [provisioning]"): in TOML a key
    /// written after a `[section]` header belongs to that section, so IoT Edge never sees it.
    pub misplaced_keys: Vec<String>,
}

// The names that place the device in a nested hierarchy: its own, which leaves dial and
// edgeHub's server certificate is issued for, and (1.2+, nested edge) the parent gateway it
// connects through. (A `//` comment: schemars would lend a doc comment to every struct it is
// flattened into as that struct's description.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DeviceNames {
    /// `hostname`, as written; null when unset.
    pub hostname: Option<String>,
    /// `parent_hostname` (a lower layer of a nested hierarchy); null on a top layer.
    pub parent_hostname: Option<String>,
}

/// The edgeAgent settings the checks read, the same in both formats.
#[derive(Debug, Clone, Default)]
pub struct EdgeAgent {
    /// `[agent.config] image` (1.2+) or `agent.config.image` (1.1): the edgeAgent image; a lower
    /// layer of a nested hierarchy pulls it through its parent (`$upstream:443/...`).
    pub image: Option<String>,
    /// `agent.config.createOptions.HostConfig.ExtraHosts` (`name:address` entries), how the docs
    /// make a parent name resolvable inside the edgeAgent container.
    pub extra_hosts: Vec<String>,
    /// `[agent.env]` (1.2+) or `agent.env` (1.1): the proxy and `UpstreamProtocol`.
    pub env: upstream::AgentEnv,
}

/// How the device gets its IoT Hub identity.
#[derive(Clone, PartialEq, Eq)]
pub enum Provisioning {
    /// Manual provisioning with a connection string (`[provisioning] connection_string` in 1.2+,
    /// `provisioning.device_connection_string` in 1.1).
    ConnectionString(SecretString),
    /// Manual provisioning with the hub and device named separately (SAS key or X.509).
    Manual {
        iothub_hostname: Option<String>,
        device_id: Option<String>,
        /// `sas` or `x509`.
        method: Option<String>,
    },
    /// The Device Provisioning Service assigns the hub at run time.
    Dps {
        id_scope: Option<String>,
        attestation: Option<String>,
    },
    /// A `source` edgeprobe does not know.
    Other { source: String },
    /// No `provisioning` section at all.
    Missing,
}

impl Provisioning {
    /// The `provisioning.source` dispatch both config formats share: IoT Edge compares the
    /// source without case; `manual` and `dps` are read by the format's own closures, any other
    /// source (or none) is kept as [`Provisioning::Other`] for the checks to name.
    fn from_source(
        source: Option<String>,
        manual: impl FnOnce() -> Provisioning,
        dps: impl FnOnce() -> Provisioning,
    ) -> Provisioning {
        match source.as_deref().map(str::to_ascii_lowercase) {
            Some(source) if source == "manual" => manual(),
            Some(source) if source == "dps" => dps(),
            Some(source) => Provisioning::Other { source },
            None => Provisioning::Other {
                source: String::new(),
            },
        }
    }
}

/// Both parsers' test of a DPS config that names no CA certificate (`text`, in `format`): the
/// scope and the attestation method are read, and IoT Edge's quickstart CA is what it gets.
#[cfg(test)]
fn assert_dps_with_quickstart_ca(
    text: &str,
    format: ConfigFormat,
    id_scope: &str,
    attestation: &str,
) {
    let config = parser(format)(text, Path::new("config")).unwrap();
    assert_eq!(
        config.provisioning,
        Provisioning::Dps {
            id_scope: Some(id_scope.into()),
            attestation: Some(attestation.into())
        }
    );
    assert_eq!(
        config.edge_ca,
        EdgeCa::Quickstart {
            lifetime_days: None
        }
    );
}

/// The parser of `format`, for the tests both parsers share.
#[cfg(test)]
fn parser(format: ConfigFormat) -> fn(&str, &Path) -> Result<EdgeConfig, ConfigError> {
    match format {
        ConfigFormat::V1Yaml => v1_yaml::parse,
        ConfigFormat::V2Toml => v2_toml::parse,
    }
}

/// Both parsers' sample gateway config, read from `path`: it parses as `format` and names the
/// gateway `gateway.edgeprobe.test`; the rest is each format's own test.
#[cfg(test)]
fn parse_gateway_sample(text: &str, path: &str, format: ConfigFormat) -> EdgeConfig {
    let config = parser(format)(text, Path::new(path)).unwrap();
    assert_eq!(config.format, format);
    assert_eq!(
        config.names.hostname.as_deref(),
        Some("gateway.edgeprobe.test")
    );
    config
}

/// Both parsers' test of a syntax error in a config holding a connection string (key
/// `c2VjcmV0`): it is a `Syntax` error whose text never quotes the key; hands back where the
/// parser stopped (line, column) and its message, for each format's own expectations.
#[cfg(test)]
fn syntax_error(text: &str, path: &str, format: ConfigFormat) -> (usize, usize, String) {
    match parser(format)(text, Path::new(path)) {
        Err(error @ ConfigError::Syntax { .. }) => {
            let shown = error.to_string();
            assert!(!shown.contains("c2VjcmV0"), "{shown}");
            let ConfigError::Syntax {
                line,
                column,
                message,
                ..
            } = error
            else {
                unreachable!()
            };
            (line, column, message)
        }
        other => panic!("{other:?}"),
    }
}

/// The certificate and key files a config's `EdgeCa::Files` names, for the parsers' tests;
/// any other edge CA fails the test.
#[cfg(test)]
fn edge_ca_files(config: &EdgeConfig) -> (&ConfiguredFile, &ConfiguredFile) {
    match &config.edge_ca {
        EdgeCa::Files { cert, key } => (cert, key),
        other => panic!("expected the edge CA's files, found {other:?}"),
    }
}

impl fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provisioning::ConnectionString(secret) => f
                .debug_tuple("ConnectionString")
                // The public parts (HostName, DeviceId) help; the key never shows.
                .field(&crate::connection_string::redact_connection_string(
                    secret.expose(),
                ))
                .finish(),
            Provisioning::Manual {
                iothub_hostname,
                device_id,
                method,
            } => f
                .debug_struct("Manual")
                .field("iothub_hostname", iothub_hostname)
                .field("device_id", device_id)
                .field("method", method)
                .finish(),
            Provisioning::Dps {
                id_scope,
                attestation,
            } => f
                .debug_struct("Dps")
                .field("id_scope", id_scope)
                .field("attestation", attestation)
                .finish(),
            Provisioning::Other { source } => {
                f.debug_struct("Other").field("source", source).finish()
            }
            Provisioning::Missing => f.write_str("Missing"),
        }
    }
}

/// Where the edge (device) CA certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeCa {
    /// The operator's own certificate and key files, as the gateway guides require.
    Files {
        cert: ConfiguredFile,
        key: ConfiguredFile,
    },
    /// Only one of the two is set: IoT Edge refuses to start (1.2+) or falls back to quickstart.
    Incomplete {
        cert: Option<ConfiguredFile>,
        key: Option<ConfiguredFile>,
    },
    /// No certificate configured: IoT Edge generates a "quickstart" CA, for testing only.
    Quickstart { lifetime_days: Option<i64> },
    /// Issued at run time by another method (1.2+ `[edge_ca] method = "est"`).
    Issued { method: String },
}

/// A file setting as written in the config, and where it points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfiguredFile {
    /// The setting's name as the operator finds it (`[edge_ca] cert`).
    pub setting: &'static str,
    /// The value as written (`file:///var/aziot/certs/edge-ca.pem`).
    pub value: String,
    pub location: FileLocation,
}

impl ConfiguredFile {
    pub fn new(setting: &'static str, value: &str) -> Self {
        ConfiguredFile {
            setting,
            value: value.to_owned(),
            location: parse_file_uri(value),
        }
    }

    /// The system path when the value names a local file.
    pub fn system_path(&self) -> Option<&Path> {
        match &self.location {
            FileLocation::Path(path) => Some(path),
            _ => None,
        }
    }
}

/// What a file setting points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileLocation {
    /// A local file: the system path (before `--root` is applied).
    Path(PathBuf),
    /// A URI of another scheme (`pkcs11:` for a key in an HSM): valid, but not a file to check.
    NotAFile {
        scheme: String,
    },
    Invalid {
        reason: String,
    },
}

/// Resolves a file setting the way IoT Edge does: a `file://` URI parsed with the `url` crate,
/// as IoT Edge itself parses it (RFC 8089 in WHATWG URL's reading: `file:///path`,
/// `file://localhost/path`, percent-encoding decoded, and `file:///C:/...` for a Windows
/// drive), or, as IoT Edge 1.0 and 1.1 also accepted, a plain absolute path.
pub fn parse_file_uri(value: &str) -> FileLocation {
    let value = value.trim();
    let invalid = |reason: String| FileLocation::Invalid { reason };
    if value.is_empty() {
        return invalid("the value is empty".to_owned());
    }
    if value.starts_with('<') && value.ends_with('>') {
        return invalid(format!(
            "`{value}` is the template's placeholder, not a file: replace it with a file:// URI"
        ));
    }
    let is_drive = |text: &str| {
        let bytes = text.as_bytes();
        bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
    };
    let path = if is_drive(value) {
        // `C:\...` or `C:/...`: a Windows path without a scheme (IoT Edge 1.1 on Windows),
        // which a URL parser would read as the scheme `c`.
        value.replace('\\', "/")
    } else {
        match url::Url::parse(value) {
            Ok(uri) if uri.scheme() != "file" => {
                return FileLocation::NotAFile {
                    scheme: uri.scheme().to_owned(),
                };
            }
            Ok(uri) => {
                // WHATWG URL drops `localhost`, so any host left is another machine's.
                if let Some(host) = uri.host_str().filter(|host| !host.is_empty()) {
                    return invalid(format!(
                        "`{value}` names the host `{host}`: a file URI must be file:///<absolute path> (three slashes)"
                    ));
                }
                let decoded = match percent_encoding::percent_decode_str(uri.path()).decode_utf8() {
                    Ok(decoded) => decoded.into_owned(),
                    Err(_) => {
                        return invalid(format!(
                            "`{value}` has percent-encoding that is not UTF-8"
                        ));
                    }
                };
                // RFC 8089 appendix E.2: `file:///C:/x` is the Windows path `C:/x`.
                match decoded.strip_prefix('/') {
                    Some(windows) if is_drive(windows) => windows.to_owned(),
                    // `file://` alone: the URL parser makes it the root, which names no file.
                    Some("") => return invalid(format!("`{value}` has no path")),
                    _ => decoded,
                }
            }
            // No scheme at all: a plain path, judged below.
            Err(url::ParseError::RelativeUrlWithoutBase) => value.to_owned(),
            Err(error) => return invalid(format!("`{value}` is not a valid URI: {error}")),
        }
    };
    if !(path.starts_with('/') || is_drive(&path)) {
        return invalid(format!(
            "`{value}` is a relative path: IoT Edge needs file:///<absolute path>"
        ));
    }
    FileLocation::Path(PathBuf::from(path))
}

/// Where a config was found, or was looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The real path to read.
    pub path: PathBuf,
    /// The other generation's file, when both exist (a 1.1 config.yaml left behind after an
    /// upgrade to 1.2+, which `iotedge config import` does not delete).
    pub also_present: Option<PathBuf>,
}

/// Finds the config: `explicit` (`--config`), else `/etc/aziot/config.toml`, else
/// `/etc/iotedge/config.yaml`, both under `root`. An explicit absolute path is a system path
/// like the defaults, so it is read under `root` when it exists there (`--root /srv/gw
/// --config /etc/aziot/config.toml` reads `/srv/gw/etc/aziot/config.toml`); otherwise, and for
/// a relative path, the file is read as given (a copy kept elsewhere).
pub fn locate(root: &SystemRoot, explicit: Option<&Path>) -> Result<Located, ConfigError> {
    if let Some(path) = explicit {
        let under_root = root.path(path);
        let path = if !root.is_host()
            && path.is_absolute()
            && !path.starts_with(root.root())
            && under_root.exists()
        {
            under_root
        } else {
            path.to_path_buf()
        };
        return Ok(Located {
            path,
            also_present: None,
        });
    }
    let v2 = root.path(V2_CONFIG_PATH);
    let v1 = root.path(V1_CONFIG_PATH);
    let exists = |path: &Path| -> Result<bool, ConfigError> {
        path.try_exists()
            .map_err(|source| classify_io(path, source))
    };
    match (exists(&v2)?, exists(&v1)?) {
        (true, v1_too) => Ok(Located {
            path: v2,
            also_present: v1_too.then_some(v1),
        }),
        (false, true) => Ok(Located {
            path: v1,
            also_present: None,
        }),
        (false, false) => Err(ConfigError::NotFound {
            tried: vec![v2, v1],
        }),
    }
}

/// The keys of the 1.2+ super config the checks use, as [`v2_toml`] reads them; a 1.1 config
/// is imported into it ([`v1_yaml`]), so both are normalized by one [`normalize`]. (Fields are
/// private: the two parsers, child modules, see them.)
#[derive(Deserialize)]
struct SuperConfig {
    hostname: Option<String>,
    parent_hostname: Option<String>,
    trust_bundle_cert: Option<String>,
    provisioning: Option<ProvisioningSection>,
    edge_ca: Option<EdgeCaSection>,
    agent: Option<Agent>,
}

#[derive(Deserialize)]
struct ProvisioningSection {
    source: Option<String>,
    /// Manual provisioning with a connection string. Never printed.
    connection_string: Option<String>,
    iothub_hostname: Option<String>,
    device_id: Option<String>,
    authentication: Option<Method>,
    id_scope: Option<String>,
    attestation: Option<Method>,
}

#[derive(Deserialize)]
struct Method {
    method: Option<String>,
}

#[derive(Deserialize, Default)]
struct EdgeCaSection {
    cert: Option<String>,
    pk: Option<String>,
    method: Option<String>,
    auto_generated_edge_ca_expiry_days: Option<i64>,
}

/// The parts the checks use, with the settings named as `format`'s file names them (a 1.1
/// config comes here imported, and its operator fixes `certificates.device_ca_cert`, not
/// `[edge_ca] cert`).
fn normalize(
    config: SuperConfig,
    path: &Path,
    format: ConfigFormat,
    homedir: PathBuf,
) -> EdgeConfig {
    let provisioning = match config.provisioning {
        None => Provisioning::Missing,
        Some(section) => Provisioning::from_source(
            section.source,
            || match section.connection_string {
                Some(connection_string) => {
                    Provisioning::ConnectionString(SecretString::new(connection_string))
                }
                None => Provisioning::Manual {
                    iothub_hostname: section.iothub_hostname,
                    device_id: section.device_id,
                    method: section.authentication.and_then(|method| method.method),
                },
            },
            || Provisioning::Dps {
                id_scope: section.id_scope,
                attestation: section.attestation.and_then(|method| method.method),
            },
        ),
    };
    let file =
        |setting, value: Option<String>| value.map(|value| ConfiguredFile::new(setting, &value));
    let edge_ca = match config.edge_ca.unwrap_or_default() {
        EdgeCaSection {
            method: Some(method),
            ..
        } if !method.eq_ignore_ascii_case("file") => EdgeCa::Issued { method },
        section => match (
            file(format.device_ca_cert_setting(), section.cert),
            file(format.device_ca_key_setting(), section.pk),
        ) {
            (Some(cert), Some(key)) => EdgeCa::Files { cert, key },
            (None, None) => EdgeCa::Quickstart {
                lifetime_days: section.auto_generated_edge_ca_expiry_days,
            },
            (cert, key) => EdgeCa::Incomplete { cert, key },
        },
    };
    EdgeConfig {
        source: path.to_path_buf(),
        format,
        names: DeviceNames {
            hostname: config.hostname,
            parent_hostname: config.parent_hostname,
        },
        provisioning,
        edge_ca,
        trust_bundle: file(format.trust_bundle_setting(), config.trust_bundle_cert),
        homedir,
        agent: Agent::settings(config.agent),
        misplaced_keys: Vec::new(),
    }
}

/// Reads and parses the config at `path`; the format follows the extension (`.toml`, or
/// `.yaml`/`.yml`), and a file named otherwise is tried as TOML and then as YAML.
pub fn load(path: &Path) -> Result<EdgeConfig, ConfigError> {
    let text = read(path)?;
    if text.trim().is_empty() {
        return Err(ConfigError::Empty {
            path: path.to_path_buf(),
        });
    }
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("toml") => v2_toml::parse(&text, path),
        Some("yaml" | "yml") => v1_yaml::parse(&text, path),
        _ => match v2_toml::parse(&text, path) {
            Ok(config) => Ok(config),
            Err(toml_error) => v1_yaml::parse(&text, path).map_err(|_| toml_error),
        },
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let metadata = std::fs::metadata(path).map_err(|source| classify_io(path, source))?;
    if metadata.is_dir() {
        return Err(ConfigError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| classify_io(path, source))?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|error| ConfigError::NotUtf8 {
        path: path.to_path_buf(),
        offset: error.utf8_error().valid_up_to(),
    })
}

fn classify_io(path: &Path, source: io::Error) -> ConfigError {
    let path = path.to_path_buf();
    match source.kind() {
        io::ErrorKind::NotFound => ConfigError::Missing { path },
        io::ErrorKind::PermissionDenied => ConfigError::PermissionDenied { path },
        _ => ConfigError::Io { path, source },
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Why the config could not be read. Every variant names the file and ends with what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no IoT Edge configuration found: looked for {}: install IoT Edge and provision it, or pass the file with --config",
        tried.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(" and ")
    )]
    NotFound { tried: Vec<PathBuf> },

    #[error("{} does not exist: check the path given with --config", path.display())]
    Missing { path: PathBuf },

    #[error("permission denied reading {}: the IoT Edge config is readable by root only; run edgeprobe with sudo", path.display())]
    PermissionDenied { path: PathBuf },

    #[error("{} is a directory: pass the config file (config.toml or config.yaml) inside it", path.display())]
    IsDirectory { path: PathBuf },

    #[error("{} is larger than {limit} bytes, far more than any IoT Edge config: check the path", path.display())]
    TooLarge { path: PathBuf, limit: u64 },

    #[error("{} is empty: restore it from the template (`sudo cp /etc/aziot/config.toml.edge.template /etc/aziot/config.toml` on 1.2+) and fill it in", path.display())]
    Empty { path: PathBuf },

    #[error("{} is not UTF-8 text (invalid byte at offset {offset}): save it as UTF-8", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },

    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        format: ConfigFormat,
        line: usize,
        column: usize,
        /// The parser's message, without any quoted source text.
        message: String,
    },

    #[error(
        "{} is not an IoT Edge configuration this tool knows: expected {} keys such as {}, found {}",
        path.display(),
        format.title(),
        expected.join(", "),
        if found.is_empty() { "none".to_owned() } else { found.join(", ") }
    )]
    UnknownFormat {
        path: PathBuf,
        format: ConfigFormat,
        expected: &'static [&'static str],
        found: Vec<String>,
    },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ConfigError {
    /// A parser's syntax or type error at `line`:`column` of `path`, its `message` redacted
    /// (neither parser quotes source text here, but a message may still echo a value, and the
    /// value may be the connection string).
    fn syntax(
        path: &Path,
        format: ConfigFormat,
        (line, column): (usize, usize),
        message: &str,
    ) -> Self {
        ConfigError::Syntax {
            path: path.to_path_buf(),
            format,
            line,
            column,
            message: crate::secrets::redact(message).into_owned(),
        }
    }
}

/// Both parsers' test that the file is an IoT Edge config of their format at all: `found`, its
/// top-level keys, must hold one of the format's `known` keys, else the file is some other
/// YAML or TOML and the error lists what was `expected`.
fn recognize(
    path: &Path,
    format: ConfigFormat,
    known: &[&str],
    expected: &'static [&'static str],
    found: Vec<String>,
) -> Result<(), ConfigError> {
    if known.iter().any(|key| found.iter().any(|name| name == key)) {
        return Ok(());
    }
    Err(ConfigError::UnknownFormat {
        path: path.to_path_buf(),
        format,
        expected,
        found,
    })
}

/// The certificates and keys a gateway config names, loaded by `certificates-configured` and
/// handed to the checks that examine them. Whatever loaded is here even when another file did
/// not, so one bad file does not hide what can still be checked about the others.
#[derive(Debug, Clone)]
pub struct ConfiguredCertificates {
    pub format: ConfigFormat,
    pub device_ca: Option<DeviceCa>,
    /// The trusted root(s): `trust_bundle_cert` / `trusted_ca_certs`.
    pub trust_bundle: Option<Arc<TrustAnchors>>,
    /// No device CA configured: IoT Edge generates its own, for testing only.
    pub quickstart: bool,
}

/// The device (edge) CA: the certificate file as given (its own certificate first, then any
/// chain), and the private key when it is a loadable file.
#[derive(Debug, Clone)]
pub struct DeviceCa {
    pub cert_path: PathBuf,
    pub chain: Vec<CertificateDer<'static>>,
    pub key_path: Option<PathBuf>,
    /// Never printed; `PrivateKeyDer`'s `Debug` elides the bytes.
    pub key: Option<Arc<PrivateKeyDer<'static>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_resolve_as_rfc_8089_says() {
        let path = |value: &str| match parse_file_uri(value) {
            FileLocation::Path(path) => path,
            other => panic!("{value}: {other:?}"),
        };
        assert_eq!(
            path("file:///var/aziot/certs/edge-ca.pem"),
            Path::new("/var/aziot/certs/edge-ca.pem")
        );
        assert_eq!(path("file://localhost/etc/x.pem"), Path::new("/etc/x.pem"));
        assert_eq!(path("file:/etc/x.pem"), Path::new("/etc/x.pem"));
        assert_eq!(
            path("file:///var/my%20certs/ca.pem"),
            Path::new("/var/my certs/ca.pem")
        );
        assert_eq!(
            path("file:///C:/ProgramData/iotedge/ca.pem"),
            Path::new("C:/ProgramData/iotedge/ca.pem")
        );
        // Where IoT Edge 1.1 for Windows kept its config and certificates.
        assert_eq!(
            path("C:\\ProgramData\\iotedge\\config.yaml"),
            Path::new("C:/ProgramData/iotedge/config.yaml")
        );
        assert_eq!(
            path("file:///C:/ProgramData/iotedge/config.yaml"),
            Path::new("C:/ProgramData/iotedge/config.yaml")
        );
        assert_eq!(
            path("file:///c:/Program%20Data/iotedge/ca.pem"),
            Path::new("c:/Program Data/iotedge/ca.pem")
        );
        assert_eq!(
            path("C:\\certs\\ca.pem"),
            Path::new("C:/certs/ca.pem"),
            "1.1 on Windows"
        );
        assert_eq!(
            path("/home/pi/certs/ca.pem"),
            Path::new("/home/pi/certs/ca.pem")
        );
        assert_eq!(
            parse_file_uri("pkcs11:token=edge;object=ca?pin-value=1234"),
            FileLocation::NotAFile {
                scheme: "pkcs11".into()
            }
        );
        for invalid in [
            "",
            "certs/ca.pem",
            "file://server/share/ca.pem",
            "<ADD URI TO DEVICE CA CERTIFICATE HERE>",
            "file://",
            "file:///bad%ff",
        ] {
            assert!(
                matches!(parse_file_uri(invalid), FileLocation::Invalid { .. }),
                "{invalid:?}"
            );
        }
    }

    #[test]
    fn locate_prefers_the_1_2_config_and_notes_a_leftover_1_1_one() {
        let directory = tempfile::tempdir().unwrap();
        let root = SystemRoot::new(directory.path());
        match locate(&root, None) {
            Err(ConfigError::NotFound { tried }) => assert_eq!(tried.len(), 2),
            other => panic!("{other:?}"),
        }
        std::fs::create_dir_all(root.path("/etc/iotedge")).unwrap();
        std::fs::write(root.path(V1_CONFIG_PATH), "hostname: gw\n").unwrap();
        assert_eq!(locate(&root, None).unwrap().path, root.path(V1_CONFIG_PATH));
        std::fs::create_dir_all(root.path("/etc/aziot")).unwrap();
        std::fs::write(root.path(V2_CONFIG_PATH), "hostname = \"gw\"\n").unwrap();
        let located = locate(&root, None).unwrap();
        assert_eq!(located.path, root.path(V2_CONFIG_PATH));
        assert_eq!(located.also_present, Some(root.path(V1_CONFIG_PATH)));
        let explicit = Path::new("/somewhere/config.toml");
        assert_eq!(locate(&root, Some(explicit)).unwrap().path, explicit);
        // A system path that exists under the root is read there, as the defaults are.
        assert_eq!(
            locate(&root, Some(Path::new(V2_CONFIG_PATH))).unwrap().path,
            root.path(V2_CONFIG_PATH)
        );
    }

    #[test]
    fn load_reports_file_problems_by_kind() {
        let directory = tempfile::tempdir().unwrap();
        let missing = directory.path().join("config.toml");
        assert!(matches!(load(&missing), Err(ConfigError::Missing { .. })));
        assert!(matches!(
            load(directory.path()),
            Err(ConfigError::IsDirectory { .. })
        ));
        std::fs::write(&missing, "  \n").unwrap();
        assert!(matches!(load(&missing), Err(ConfigError::Empty { .. })));
        std::fs::write(&missing, b"hostname = \"\xff\"").unwrap();
        assert!(matches!(
            load(&missing),
            Err(ConfigError::NotUtf8 { offset: 12, .. })
        ));
    }

    #[test]
    fn permission_denied_says_to_run_with_sudo() {
        // Tests may run as root, which reads any file: classify the error itself.
        let error = classify_io(
            Path::new("/etc/aziot/config.toml"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(matches!(error, ConfigError::PermissionDenied { .. }));
        assert!(
            error.to_string().contains("run edgeprobe with sudo"),
            "{error}"
        );
    }

    #[test]
    fn an_unnamed_file_is_tried_as_toml_then_yaml() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("gateway-config");
        std::fs::write(&file, "hostname: gw.contoso.com\n").unwrap();
        let config = load(&file).unwrap();
        assert_eq!(config.format, ConfigFormat::V1Yaml);
        std::fs::write(&file, "hostname = \"gw.contoso.com\"\n").unwrap();
        assert_eq!(load(&file).unwrap().format, ConfigFormat::V2Toml);
    }

    #[test]
    fn a_file_of_another_kind_lists_the_keys_its_format_expects() {
        let refused = [
            (
                v1_yaml::parse("apiVersion: v1\nkind: Pod\n", Path::new("pod.yaml")),
                "provisioning, certificates, hostname",
                "apiVersion, kind",
            ),
            (
                v2_toml::parse("[package]\nname = \"x\"\n", Path::new("Cargo.toml")),
                "hostname, trust_bundle_cert, [provisioning]",
                "package",
            ),
        ];
        for (result, expected, found) in refused {
            match result {
                Err(error @ ConfigError::UnknownFormat { .. }) => {
                    let message = error.to_string();
                    assert!(message.contains(expected), "{message}");
                    assert!(message.contains(&format!("found {found}")), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = [\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, 9), (2, 3));
        assert_eq!(line_and_column(text, 999), (3, 1));
    }

    #[test]
    fn debug_never_shows_the_connection_string_key() {
        let provisioning = Provisioning::ConnectionString(SecretString::new(
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=c2VjcmV0c2VjcmV0".into(),
        ));
        let shown = format!("{provisioning:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("DeviceId=d"));
        assert!(!format!("{:?}", SecretString::new("topsecret".into())).contains("topsecret"));
    }
}
