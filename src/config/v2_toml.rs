//! IoT Edge 1.2+ `/etc/aziot/config.toml`, the "super config" that `iotedge config apply` splits
//! between aziot-edged and the identity, key and certificate services. Only the keys the gateway
//! checks need are typed; everything else is accepted and ignored, as aziot does for comments.
//! Layout per the template `/etc/aziot/config.toml.edge.template` and "Configure IoT Edge device
//! settings" (hostname, parent_hostname and trust_bundle_cert must come before any section).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::upstream::AgentEnv;
use super::{
    ConfigError, ConfigFormat, EdgeAgent, EdgeConfig, SuperConfig, line_and_column, normalize,
    recognize,
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
    pub(super) fn settings(agent: Option<Agent>) -> EdgeAgent {
        let Some(agent) = agent else {
            return EdgeAgent::default();
        };
        let (image, extra_hosts) = agent
            .config
            .map(AgentConfig::into_image_and_extra_hosts)
            .unwrap_or_default();
        EdgeAgent {
            image,
            extra_hosts,
            env: AgentEnv::from_table(agent.env),
        }
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
        ConfigError::syntax(
            path,
            ConfigFormat::V2Toml,
            (line, column),
            error.message().trim(),
        )
    };
    let table: toml::Table = toml::from_str(text).map_err(syntax)?;
    recognize(
        path,
        ConfigFormat::V2Toml,
        KNOWN_KEYS,
        EXPECTED,
        table.keys().cloned().collect(),
    )?;
    let config: SuperConfig = toml::from_str(text).map_err(syntax)?;
    // 1.2+ keeps issued certificates in the certificate service's store, not under a homedir.
    let homedir = PathBuf::from("/var/lib/aziot");
    let mut parsed = normalize(config, path, ConfigFormat::V2Toml, homedir);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfiguredFile, EdgeCa, FileLocation, Provisioning};

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
        let config = crate::config::parse_gateway_sample(
            TOP_LAYER,
            "/etc/aziot/config.toml",
            ConfigFormat::V2Toml,
        );
        assert_eq!(config.names.parent_hostname, None);
        match &config.provisioning {
            Provisioning::ConnectionString(secret) => {
                assert!(secret.expose().starts_with("HostName=hub"));
            }
            other => panic!("{other:?}"),
        }
        let (cert, key) = crate::config::edge_ca_files(&config);
        assert_eq!(
            cert.system_path(),
            Some(Path::new(
                "/var/aziot/certs/iot-edge-device-ca-gateway-full-chain.cert.pem"
            ))
        );
        assert_eq!(key.setting, "[edge_ca] pk");
        assert_eq!(
            config
                .trust_bundle
                .as_ref()
                .and_then(ConfiguredFile::system_path),
            Some(Path::new(
                "/var/aziot/certs/azure-iot-test-only.root.ca.cert.pem"
            ))
        );
        assert_eq!(config.agent.extra_hosts, ["parent.edgeprobe.test:10.0.0.4"]);
        assert_eq!(
            config.agent.image.as_deref(),
            Some("mcr.microsoft.com/azureiotedge-agent:1.5")
        );
    }

    #[test]
    fn provisioning_and_edge_ca_variants() {
        let parse = |text: &str| parse(text, Path::new("c.toml")).unwrap();
        crate::config::assert_dps_with_quickstart_ca(
            "[provisioning]\nsource = \"dps\"\nid_scope = \"0ne00000000\"\n[provisioning.attestation]\nmethod = \"symmetric_key\"\n",
            ConfigFormat::V2Toml,
            "0ne00000000",
            "symmetric_key",
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
        assert_eq!(
            crate::config::edge_ca_files(&hsm).1.location,
            FileLocation::NotAFile {
                scheme: "pkcs11".into()
            }
        );
        let json_options = parse(
            "[agent.config]\ncreateOptions = '{\"HostConfig\":{\"ExtraHosts\":[\"p:10.0.0.9\"]}}'\n",
        );
        assert_eq!(json_options.agent.extra_hosts, ["p:10.0.0.9"]);
    }

    #[test]
    fn syntax_errors_carry_line_and_column_and_no_source_text() {
        let text = "hostname = \"gw\"\n[provisioning]\nsource = \"manual\"\nconnection_string = \"HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0\n";
        let (line, column, message) =
            crate::config::syntax_error(text, "/etc/aziot/config.toml", ConfigFormat::V2Toml);
        assert_eq!(line, 4, "{message}");
        assert!(column > 1);
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
        assert_eq!(config.names.hostname, None);
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
}
