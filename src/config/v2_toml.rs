//! IoT Edge 1.2+ `/etc/aziot/config.toml`, the "super config" that `iotedge config apply` splits
//! between aziot-edged and the identity, key and certificate services. Only the keys the gateway
//! checks need are typed; everything else is accepted and ignored, as aziot does for comments.
//! Layout per the template `/etc/aziot/config.toml.edge.template` and "Configure IoT Edge device
//! settings" (hostname, parent_hostname and trust_bundle_cert must come before any section).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::upstream::AgentEnv;
use super::{
    ConfigError, ConfigFormat, ConfiguredFile, EdgeCa, EdgeConfig, Provisioning, SecretString,
    line_and_column,
};

/// Top-level keys and sections of the 1.2+ config; a file with none of them is something else.
const KNOWN_KEYS: &[&str] = &[
    "hostname",
    "parent_hostname",
    "trust_bundle_cert",
    "provisioning",
    "edge_ca",
    "agent",
    "connect",
    "listen",
    "moby_runtime",
    "auto_reprovisioning_mode",
    "homedir",
    "cert_issuance",
    "aziot_keys",
    "preloaded_keys",
    "preloaded_certs",
    "principal",
];

/// What the "expected keys" message lists: the ones every gateway config has.
const EXPECTED: &[&str] = &[
    "hostname",
    "trust_bundle_cert",
    "[provisioning]",
    "[edge_ca]",
    "[agent]",
];

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

#[derive(Deserialize)]
struct EdgeCaSection {
    cert: Option<String>,
    pk: Option<String>,
    method: Option<String>,
    auto_generated_edge_ca_expiry_days: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct Agent {
    pub(super) config: Option<AgentConfig>,
    /// `[agent.env]`: where `https_proxy` and `UpstreamProtocol` are set.
    pub(super) env: Option<std::collections::BTreeMap<String, super::upstream::EnvValue>>,
}

#[derive(Deserialize)]
pub(super) struct AgentConfig {
    /// `[agent.config] image` (`agent.config.image` in 1.1): the edgeAgent image aziot-edged
    /// starts; `$upstream:443/azureiotedge-agent:1.5` on a lower layer of a nested hierarchy.
    pub(super) image: Option<String>,
    #[serde(rename = "createOptions")]
    pub(super) create_options: Option<CreateOptionsValue>,
}

impl Agent {
    /// `[agent.env]` and the edgeAgent image with its `ExtraHosts` (1.1's `agent.env` and
    /// `agent.config` are the same shape), as [`EdgeConfig`] holds them.
    pub(super) fn into_parts(agent: Option<Agent>) -> (AgentEnv, Option<String>, Vec<String>) {
        let Some(agent) = agent else {
            return (AgentEnv::from_table(None), None, Vec::new());
        };
        let (image, extra_hosts) = agent
            .config
            .map(AgentConfig::into_image_and_extra_hosts)
            .unwrap_or_default();
        (AgentEnv::from_table(agent.env), image, extra_hosts)
    }
}

impl AgentConfig {
    /// The edgeAgent image and its `HostConfig.ExtraHosts`, as [`EdgeConfig`] holds them.
    pub(super) fn into_image_and_extra_hosts(self) -> (Option<String>, Vec<String>) {
        let extra_hosts = self
            .create_options
            .map(CreateOptionsValue::extra_hosts)
            .unwrap_or_default();
        (self.image, extra_hosts)
    }
}

/// Docker create options: a TOML inline table in 1.2+ ("this format looks like JSON but it's not
/// JSON", says the docs), a map in 1.1's YAML; a JSON string is accepted too, as deployment
/// manifests write it.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum CreateOptionsValue {
    Table(CreateOptions),
    Json(String),
}

#[derive(Deserialize)]
pub(super) struct CreateOptions {
    #[serde(rename = "HostConfig")]
    host_config: Option<HostConfig>,
}

#[derive(Deserialize)]
struct HostConfig {
    #[serde(rename = "ExtraHosts")]
    extra_hosts: Option<Vec<String>>,
}

impl CreateOptionsValue {
    /// `HostConfig.ExtraHosts`; an unparseable JSON string yields none (the check that needs
    /// them says they are missing, which is what Docker would make of it too).
    pub(super) fn extra_hosts(self) -> Vec<String> {
        let options = match self {
            CreateOptionsValue::Table(options) => Some(options),
            CreateOptionsValue::Json(json) => serde_json::from_str::<CreateOptions>(&json).ok(),
        };
        options
            .and_then(|options| options.host_config)
            .and_then(|host_config| host_config.extra_hosts)
            .unwrap_or_default()
    }
}

/// Parses the text of a 1.2+ config read from `path`.
pub fn parse(text: &str, path: &Path) -> Result<EdgeConfig, ConfigError> {
    let syntax = |error: toml::de::Error| {
        let (line, column) = error
            .span()
            .map_or((1, 1), |span| line_and_column(text, span.start));
        // The message only: the error's Display quotes the offending source line, which may be
        // the connection string.
        ConfigError::Syntax {
            path: path.to_path_buf(),
            format: ConfigFormat::V2Toml,
            line,
            column,
            message: crate::secrets::redact(error.message().trim()).into_owned(),
        }
    };
    let table: toml::Table = toml::from_str(text).map_err(syntax)?;
    if !KNOWN_KEYS.iter().any(|key| table.contains_key(*key)) {
        return Err(ConfigError::UnknownFormat {
            path: path.to_path_buf(),
            format: ConfigFormat::V2Toml,
            expected: EXPECTED,
            found: table.keys().cloned().collect(),
        });
    }
    let config: SuperConfig = toml::from_str(text).map_err(syntax)?;
    let mut parsed = normalize(config, path);
    parsed.misplaced_keys = misplaced_keys(&table);
    Ok(parsed)
}

/// The keys that must come before any section, found inside one instead.
const TOP_LEVEL_ONLY: &[&str] = &["hostname", "parent_hostname", "trust_bundle_cert"];

fn misplaced_keys(table: &toml::Table) -> Vec<String> {
    fn walk(table: &toml::Table, section: &str, found: &mut Vec<String>) {
        for (key, value) in table {
            if let toml::Value::Table(inner) = value {
                let name = if section.is_empty() {
                    key.clone()
                } else {
                    format!("{section}.{key}")
                };
                for misplaced in TOP_LEVEL_ONLY {
                    if inner.contains_key(*misplaced) {
                        found.push(format!("{misplaced} in [{name}]"));
                    }
                }
                walk(inner, &name, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(table, "", &mut found);
    found
}

fn normalize(config: SuperConfig, path: &Path) -> EdgeConfig {
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
    let edge_ca = match config.edge_ca {
        None => EdgeCa::Quickstart {
            lifetime_days: None,
        },
        Some(section) => match (section.cert, section.pk, section.method) {
            (_, _, Some(method)) if !method.eq_ignore_ascii_case("file") => {
                EdgeCa::Issued { method }
            }
            (Some(cert), Some(pk), _) => EdgeCa::Files {
                cert: ConfiguredFile::new("[edge_ca] cert", &cert),
                key: ConfiguredFile::new("[edge_ca] pk", &pk),
            },
            (None, None, _) => EdgeCa::Quickstart {
                lifetime_days: section.auto_generated_edge_ca_expiry_days,
            },
            (cert, pk, _) => EdgeCa::Incomplete {
                cert: cert.map(|cert| ConfiguredFile::new("[edge_ca] cert", &cert)),
                key: pk.map(|pk| ConfiguredFile::new("[edge_ca] pk", &pk)),
            },
        },
    };
    let (agent_env, agent_image, agent_extra_hosts) = Agent::into_parts(config.agent);
    EdgeConfig {
        source: path.to_path_buf(),
        format: ConfigFormat::V2Toml,
        hostname: config.hostname,
        parent_hostname: config.parent_hostname,
        provisioning,
        edge_ca,
        trust_bundle: config
            .trust_bundle_cert
            .map(|value| ConfiguredFile::new("trust_bundle_cert", &value)),
        // 1.2+ keeps issued certificates in the certificate service's store instead.
        homedir: PathBuf::from("/var/lib/aziot"),
        agent_env,
        agent_image,
        agent_extra_hosts,
        misplaced_keys: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileLocation;

    const TOP_LAYER: &str = r#"
# Top-layer gateway, as in "Configure an IoT Edge device to act as a transparent gateway".
hostname = "gateway.edgeprobe.test"
trust_bundle_cert = "file:///var/aziot/certs/azure-iot-test-only.root.ca.cert.pem"
auto_reprovisioning_mode = "Dynamic"

[provisioning]
source = "manual"
connection_string = "HostName=hub.azure-devices.net;DeviceId=gw;SharedAccessKey=c2VjcmV0"

[edge_ca]
cert = "file:///var/aziot/certs/iot-edge-device-ca-gateway-full-chain.cert.pem"
pk = "file:///var/aziot/secrets/iot-edge-device-ca-gateway.key.pem"

[agent]
name = "edgeAgent"
type = "docker"

[agent.config]
image = "mcr.microsoft.com/azureiotedge-agent:1.5"
createOptions = { HostConfig = { ExtraHosts = ["parent.edgeprobe.test:10.0.0.4"], Binds = ["/iotedge/storage:/iotedge/storage"] } }

[connect]
workload_uri = "unix:///var/run/iotedge/workload.sock"
"#;

    #[test]
    fn a_top_layer_config_normalizes() {
        let config = parse(TOP_LAYER, Path::new("/etc/aziot/config.toml")).unwrap();
        assert_eq!(config.format, ConfigFormat::V2Toml);
        assert_eq!(config.hostname.as_deref(), Some("gateway.edgeprobe.test"));
        assert_eq!(config.parent_hostname, None);
        match &config.provisioning {
            Provisioning::ConnectionString(secret) => {
                assert!(secret.expose().starts_with("HostName=hub"));
            }
            other => panic!("{other:?}"),
        }
        match &config.edge_ca {
            EdgeCa::Files { cert, key } => {
                assert_eq!(
                    cert.system_path(),
                    Some(Path::new(
                        "/var/aziot/certs/iot-edge-device-ca-gateway-full-chain.cert.pem"
                    ))
                );
                assert_eq!(key.setting, "[edge_ca] pk");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            config
                .trust_bundle
                .as_ref()
                .and_then(ConfiguredFile::system_path),
            Some(Path::new(
                "/var/aziot/certs/azure-iot-test-only.root.ca.cert.pem"
            ))
        );
        assert_eq!(config.agent_extra_hosts, ["parent.edgeprobe.test:10.0.0.4"]);
        assert_eq!(
            config.agent_image.as_deref(),
            Some("mcr.microsoft.com/azureiotedge-agent:1.5")
        );
    }

    #[test]
    fn provisioning_and_edge_ca_variants() {
        let parse = |text: &str| parse(text, Path::new("c.toml")).unwrap();
        let dps = parse(
            "[provisioning]\nsource = \"dps\"\nid_scope = \"0ne00000000\"\n[provisioning.attestation]\nmethod = \"symmetric_key\"\n",
        );
        assert_eq!(
            dps.provisioning,
            Provisioning::Dps {
                id_scope: Some("0ne00000000".into()),
                attestation: Some("symmetric_key".into())
            }
        );
        assert_eq!(
            dps.edge_ca,
            EdgeCa::Quickstart {
                lifetime_days: None
            }
        );
        let x509 = parse(
            "[provisioning]\nsource = \"manual\"\niothub_hostname = \"h.azure-devices.net\"\ndevice_id = \"gw\"\n[provisioning.authentication]\nmethod = \"x509\"\n[edge_ca]\nauto_generated_edge_ca_expiry_days = 90\n",
        );
        assert!(matches!(
            x509.provisioning,
            Provisioning::Manual { method: Some(ref method), .. } if method == "x509"
        ));
        assert_eq!(
            x509.edge_ca,
            EdgeCa::Quickstart {
                lifetime_days: Some(90)
            }
        );
        let est = parse("hostname = \"gw\"\n[edge_ca]\nmethod = \"est\"\n");
        assert_eq!(
            est.edge_ca,
            EdgeCa::Issued {
                method: "est".into()
            }
        );
        let half = parse("[edge_ca]\ncert = \"file:///c.pem\"\n");
        assert!(matches!(
            half.edge_ca,
            EdgeCa::Incomplete {
                cert: Some(_),
                key: None
            }
        ));
        let hsm = parse("[edge_ca]\ncert = \"file:///c.pem\"\npk = \"pkcs11:object=edge-ca\"\n");
        match hsm.edge_ca {
            EdgeCa::Files { key, .. } => assert_eq!(
                key.location,
                FileLocation::NotAFile {
                    scheme: "pkcs11".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        let json_options = parse(
            "[agent.config]\ncreateOptions = '{\"HostConfig\":{\"ExtraHosts\":[\"p:10.0.0.9\"]}}'\n",
        );
        assert_eq!(json_options.agent_extra_hosts, ["p:10.0.0.9"]);
    }

    #[test]
    fn syntax_errors_carry_line_and_column_and_no_source_text() {
        let text = "hostname = \"gw\"\n[provisioning]\nsource = \"manual\"\nconnection_string = \"HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0\n";
        match parse(text, Path::new("/etc/aziot/config.toml")) {
            Err(ConfigError::Syntax {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!(line, 4, "{message}");
                assert!(column > 1);
                assert!(!message.contains("c2VjcmV0"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match parse("hostname = 42\n", Path::new("c.toml")) {
            Err(error @ ConfigError::Syntax { line: 1, .. }) => {
                assert!(error.to_string().starts_with("c.toml:1:"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn top_level_keys_written_after_a_section_are_reported() {
        let config = parse(
            "[provisioning]\nsource = \"dps\"\nhostname = \"gw\"\n[agent.config]\ntrust_bundle_cert = \"file:///r.pem\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(config.hostname, None);
        assert_eq!(
            config.misplaced_keys,
            // In section-name order: toml::Table is sorted.
            [
                "trust_bundle_cert in [agent.config]",
                "hostname in [provisioning]"
            ]
        );
        assert!(
            parse(TOP_LAYER, Path::new("c.toml"))
                .unwrap()
                .misplaced_keys
                .is_empty()
        );
    }

    #[test]
    fn a_toml_file_of_another_kind_lists_the_expected_keys() {
        crate::config::assert_unknown_format(
            parse("[package]\nname = \"x\"\n", Path::new("Cargo.toml")),
            "hostname, trust_bundle_cert, [provisioning]",
            "package",
        );
    }
}
