//! IoT Edge 1.1 `/etc/iotedge/config.yaml`, read by iotedged at start (layout per the 1.1
//! template and "Configure an IoT Edge device to act as a transparent gateway", 1.1 version:
//! `certificates.device_ca_cert`, `device_ca_pk`, `trusted_ca_certs`, `hostname`). Parsed with
//! serde-saphyr; keys edgeprobe does not use are ignored, as iotedged's own settings loader
//! ignores unknown keys.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::v2_toml::Agent;
use super::{
    ConfigError, ConfigFormat, EdgeCaSection, EdgeConfig, Method, SuperConfig, normalize, recognize,
};

/// Top-level keys of the 1.1 config.
const KNOWN_KEYS: &[&str] = &[
    "provisioning",
    "certificates",
    "hostname",
    "parent_hostname",
    "agent",
    "connect",
    "listen",
    "homedir",
    "moby_runtime",
];

const EXPECTED: &[&str] = &[
    "provisioning",
    "certificates",
    "hostname",
    "agent",
    "homedir",
];

/// libiothsm's home when `homedir` is not set.
const DEFAULT_HOMEDIR: &str = "/var/lib/iotedge";

#[derive(Deserialize)]
struct Config {
    provisioning: Option<ProvisioningSection>,
    certificates: Option<Certificates>,
    hostname: Option<String>,
    parent_hostname: Option<String>,
    homedir: Option<String>,
    agent: Option<Agent>,
}

#[derive(Deserialize)]
struct ProvisioningSection {
    source: Option<String>,
    /// Never printed.
    device_connection_string: Option<String>,
    authentication: Option<Authentication>,
    scope_id: Option<String>,
    attestation: Option<Method>,
}

#[derive(Deserialize, Default)]
struct Authentication {
    method: Option<String>,
    iothub_hostname: Option<String>,
    device_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct Certificates {
    device_ca_cert: Option<String>,
    device_ca_pk: Option<String>,
    trusted_ca_certs: Option<String>,
    auto_generated_ca_lifetime_days: Option<i64>,
}

/// Parses the text of a 1.1 config read from `path`.
pub fn parse(text: &str, path: &Path) -> Result<EdgeConfig, ConfigError> {
    let syntax = |error: serde_saphyr::Error| {
        let (line, column) = error.location().map_or((1, 1), |location| {
            (location.line() as usize, location.column() as usize)
        });
        // Without the snippet: it quotes source lines, which may hold the connection string.
        let message = error.without_snippet().to_string();
        ConfigError::syntax(
            path,
            ConfigFormat::V1Yaml,
            (line, column),
            strip_location(&message),
        )
    };
    let keys: std::collections::BTreeMap<String, IgnoredAny> =
        serde_saphyr::from_str(text).map_err(syntax)?;
    recognize(
        path,
        ConfigFormat::V1Yaml,
        KNOWN_KEYS,
        EXPECTED,
        keys.into_keys().collect(),
    )?;
    let config: Config = serde_saphyr::from_str(text).map_err(syntax)?;
    let homedir = PathBuf::from(config.homedir.as_deref().unwrap_or(DEFAULT_HOMEDIR));
    Ok(normalize(
        import(config),
        path,
        ConfigFormat::V1Yaml,
        homedir,
    ))
}

/// serde-saphyr ends its messages with the position, which `ConfigError` already gives.
fn strip_location(message: &str) -> &str {
    let message = message.trim();
    match message.rfind(" at line ") {
        Some(index) => message[..index].trim_end_matches(','),
        None => message,
    }
}

/// The 1.1 config in the 1.2+ super config's terms, as `iotedge config import` carries it over:
/// `certificates.device_ca_cert`/`device_ca_pk`/`trusted_ca_certs` become `[edge_ca] cert`/`pk`
/// and `trust_bundle_cert`, `provisioning.device_connection_string` becomes `connection_string`,
/// and the manual X.509 `authentication` and DPS `scope_id` move to their 1.2+ places.
fn import(config: Config) -> SuperConfig {
    let certificates = config.certificates.unwrap_or_default();
    SuperConfig {
        hostname: config.hostname,
        parent_hostname: config.parent_hostname,
        trust_bundle_cert: certificates.trusted_ca_certs,
        provisioning: config.provisioning.map(|section| {
            let authentication = section.authentication.unwrap_or_default();
            super::ProvisioningSection {
                source: section.source,
                connection_string: section.device_connection_string,
                iothub_hostname: authentication.iothub_hostname,
                device_id: authentication.device_id,
                authentication: Some(Method {
                    method: authentication.method,
                }),
                id_scope: section.scope_id,
                attestation: section.attestation,
            }
        }),
        edge_ca: Some(EdgeCaSection {
            cert: certificates.device_ca_cert,
            pk: certificates.device_ca_pk,
            method: None,
            auto_generated_edge_ca_expiry_days: certificates.auto_generated_ca_lifetime_days,
        }),
        agent: config.agent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provisioning;

    const GATEWAY: &str = r#"
# IoT Edge 1.1, transparent gateway.
provisioning:
  source: "manual"
  device_connection_string: "HostName=hub.azure-devices.net;DeviceId=gw;SharedAccessKey=c2VjcmV0"
  dynamic_reprovisioning: false

certificates:
  device_ca_cert: "file:///home/pi/certs/iot-edge-device-ca-gateway-full-chain.cert.pem"
  device_ca_pk: "file:///home/pi/private/iot-edge-device-ca-gateway.key.pem"
  trusted_ca_certs: "file:///home/pi/certs/azure-iot-test-only.root.ca.cert.pem"

agent:
  name: "edgeAgent"
  type: "docker"
  env: {}
  config:
    image: "mcr.microsoft.com/azureiotedge-agent:1.1"
    auth: {}

hostname: "gateway.edgeprobe.test"

connect:
  management_uri: "unix:///var/run/iotedge/mgmt.sock"
  workload_uri: "unix:///var/run/iotedge/workload.sock"

homedir: "/var/lib/iotedge"
"#;

    #[test]
    fn a_gateway_config_normalizes() {
        let config = crate::config::parse_gateway_sample(
            GATEWAY,
            "/etc/iotedge/config.yaml",
            ConfigFormat::V1Yaml,
        );
        assert!(matches!(
            config.provisioning,
            Provisioning::ConnectionString(_)
        ));
        let (cert, key) = crate::config::edge_ca_files(&config);
        assert_eq!(cert.setting, "certificates.device_ca_cert");
        assert_eq!(
            key.system_path(),
            Some(Path::new(
                "/home/pi/private/iot-edge-device-ca-gateway.key.pem"
            ))
        );
        assert_eq!(
            config.trust_bundle.unwrap().setting,
            "certificates.trusted_ca_certs"
        );
        assert_eq!(config.homedir, Path::new("/var/lib/iotedge"));
        assert_eq!(
            config.agent.image.as_deref(),
            Some("mcr.microsoft.com/azureiotedge-agent:1.1")
        );
    }

    #[test]
    fn dps_and_quickstart() {
        crate::config::assert_dps_with_quickstart_ca(
            "provisioning:\n  source: dps\n  scope_id: 0ne0000\n  attestation:\n    method: tpm\nhostname: gw\n",
            ConfigFormat::V1Yaml,
            "0ne0000",
            "tpm",
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column_and_no_source_text() {
        let text = "provisioning:\n  source: \"manual\"\n  device_connection_string: \"HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0\"\n hostname: [gw\n";
        let (line, column, message) =
            crate::config::syntax_error(text, "/etc/iotedge/config.yaml", ConfigFormat::V1Yaml);
        assert!(line >= 3, "{message}");
        assert!(column >= 1);
    }
}
