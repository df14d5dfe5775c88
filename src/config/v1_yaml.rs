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
    ConfigError, ConfigFormat, ConfiguredFile, EdgeCa, EdgeConfig, Provisioning, SecretString,
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
    attestation: Option<Attestation>,
}

#[derive(Deserialize)]
struct Authentication {
    method: Option<String>,
    iothub_hostname: Option<String>,
    device_id: Option<String>,
}

#[derive(Deserialize)]
struct Attestation {
    method: Option<String>,
}

#[derive(Deserialize)]
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
        ConfigError::Syntax {
            path: path.to_path_buf(),
            format: ConfigFormat::V1Yaml,
            line,
            column,
            message: crate::secrets::redact(strip_location(&message)).into_owned(),
        }
    };
    let keys: std::collections::BTreeMap<String, IgnoredAny> =
        serde_saphyr::from_str(text).map_err(syntax)?;
    if !KNOWN_KEYS.iter().any(|key| keys.contains_key(*key)) {
        return Err(ConfigError::UnknownFormat {
            path: path.to_path_buf(),
            format: ConfigFormat::V1Yaml,
            expected: EXPECTED,
            found: keys.into_keys().collect(),
        });
    }
    let config: Config = serde_saphyr::from_str(text).map_err(syntax)?;
    Ok(normalize(config, path))
}

/// serde-saphyr ends its messages with the position, which `ConfigError` already gives.
fn strip_location(message: &str) -> &str {
    let message = message.trim();
    match message.rfind(" at line ") {
        Some(index) => message[..index].trim_end_matches(','),
        None => message,
    }
}

fn normalize(config: Config, path: &Path) -> EdgeConfig {
    let provisioning = match config.provisioning {
        None => Provisioning::Missing,
        Some(section) => Provisioning::from_source(
            section.source,
            || match (section.device_connection_string, section.authentication) {
                (Some(connection_string), _) => {
                    Provisioning::ConnectionString(SecretString::new(connection_string))
                }
                (None, Some(authentication)) => Provisioning::Manual {
                    iothub_hostname: authentication.iothub_hostname,
                    device_id: authentication.device_id,
                    method: authentication.method,
                },
                (None, None) => Provisioning::Manual {
                    iothub_hostname: None,
                    device_id: None,
                    method: None,
                },
            },
            || Provisioning::Dps {
                id_scope: section.scope_id,
                attestation: section
                    .attestation
                    .and_then(|attestation| attestation.method),
            },
        ),
    };
    let certificates = config.certificates;
    let file = |setting, value: &Option<String>| {
        value
            .as_deref()
            .map(|value| ConfiguredFile::new(setting, value))
    };
    let (edge_ca, trust_bundle) = match certificates {
        None => (
            EdgeCa::Quickstart {
                lifetime_days: None,
            },
            None,
        ),
        Some(certificates) => {
            let cert = file("certificates.device_ca_cert", &certificates.device_ca_cert);
            let key = file("certificates.device_ca_pk", &certificates.device_ca_pk);
            let trust = file(
                "certificates.trusted_ca_certs",
                &certificates.trusted_ca_certs,
            );
            let edge_ca = match (cert, key) {
                (Some(cert), Some(key)) => EdgeCa::Files { cert, key },
                (None, None) => EdgeCa::Quickstart {
                    lifetime_days: certificates.auto_generated_ca_lifetime_days,
                },
                (cert, key) => EdgeCa::Incomplete { cert, key },
            };
            (edge_ca, trust)
        }
    };
    let (agent_env, agent_image, agent_extra_hosts) = Agent::into_parts(config.agent);
    EdgeConfig {
        source: path.to_path_buf(),
        format: ConfigFormat::V1Yaml,
        hostname: config.hostname,
        parent_hostname: config.parent_hostname,
        provisioning,
        edge_ca,
        trust_bundle,
        homedir: PathBuf::from(config.homedir.as_deref().unwrap_or(DEFAULT_HOMEDIR)),
        agent_env,
        agent_image,
        agent_extra_hosts,
        misplaced_keys: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let config = parse(GATEWAY, Path::new("/etc/iotedge/config.yaml")).unwrap();
        assert_eq!(config.format, ConfigFormat::V1Yaml);
        assert_eq!(config.hostname.as_deref(), Some("gateway.edgeprobe.test"));
        assert!(matches!(
            config.provisioning,
            Provisioning::ConnectionString(_)
        ));
        match &config.edge_ca {
            EdgeCa::Files { cert, key } => {
                assert_eq!(cert.setting, "certificates.device_ca_cert");
                assert_eq!(
                    key.system_path(),
                    Some(Path::new(
                        "/home/pi/private/iot-edge-device-ca-gateway.key.pem"
                    ))
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            config.trust_bundle.unwrap().setting,
            "certificates.trusted_ca_certs"
        );
        assert_eq!(config.homedir, Path::new("/var/lib/iotedge"));
        assert_eq!(
            config.agent_image.as_deref(),
            Some("mcr.microsoft.com/azureiotedge-agent:1.1")
        );
    }

    #[test]
    fn dps_and_quickstart() {
        let config = parse(
            "provisioning:\n  source: dps\n  scope_id: 0ne0000\n  attestation:\n    method: tpm\nhostname: gw\n",
            Path::new("config.yaml"),
        )
        .unwrap();
        assert_eq!(
            config.provisioning,
            Provisioning::Dps {
                id_scope: Some("0ne0000".into()),
                attestation: Some("tpm".into())
            }
        );
        assert_eq!(
            config.edge_ca,
            EdgeCa::Quickstart {
                lifetime_days: None
            }
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column_and_no_source_text() {
        let text = "provisioning:\n  source: \"manual\"\n  device_connection_string: \"HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0\"\n hostname: [gw\n";
        match parse(text, Path::new("/etc/iotedge/config.yaml")) {
            Err(error @ ConfigError::Syntax { .. }) => {
                let message = error.to_string();
                assert!(!message.contains("c2VjcmV0"), "{message}");
                let ConfigError::Syntax { line, column, .. } = error else {
                    unreachable!()
                };
                assert!(line >= 3, "{message}");
                assert!(column >= 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_yaml_file_of_another_kind_lists_the_expected_keys() {
        crate::config::assert_unknown_format(
            parse("apiVersion: v1\nkind: Pod\n", Path::new("pod.yaml")),
            "provisioning, certificates, hostname",
            "apiVersion, kind",
        );
    }
}
