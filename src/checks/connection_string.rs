//! `connection-string`: the connection string is well-formed. On a leaf, the device's
//! `--connection-string`, which must route through a gateway; on a gateway, the IoT Edge
//! device's own, from its config (`[provisioning] connection_string`), or a note that the
//! device is provisioned otherwise (DPS, X.509). One id and one page for both, because an
//! operator asks the same question of both: will this identity connect where it should?

use std::sync::Arc;

use super::catalog;
use super::{Suite, SuiteCheck, edge_config};
use crate::config::Provisioning;
use crate::connection_string::{self, Authentication, ConnectionString};
use crate::engine::info::{
    self, ConnectionStringInfo, ParsedConnectionString, ProvisionedIdentity,
};
use crate::engine::{CheckMeta, Context, Evidence, OrSkip, Outcome, Prior, Ran, Status};
use crate::hostname::same_host_name;
use crate::secrets::SecretString;

pub struct ConnectionStringCheck;

/// The template's placeholder for the 1.1 connection string.
const PLACEHOLDER_START: char = '<';

const GET_DEVICE_CONNECTION_STRING: &str =
    "`az iot hub device-identity connection-string show --device-id <id> --hub-name <hub>`";

impl SuiteCheck for ConnectionStringCheck {
    const LEAF: CheckMeta = catalog::CONNECTION_STRING_LEAF;
    const GATEWAY: CheckMeta = catalog::CONNECTION_STRING_GATEWAY;
    fn applies(&self, suite: Suite, context: &Context) -> bool {
        match suite {
            Suite::Leaf => context.connection_string.is_some(),
            Suite::Gateway => true,
        }
    }
    async fn run(&self, suite: Suite, context: &Context, prior: &Prior) -> Ran {
        match suite {
            Suite::Leaf => leaf(context),
            Suite::Gateway => gateway(prior),
        }
    }
}

fn leaf(context: &Context) -> Ran {
    let raw = context
        .connection_string
        .as_ref()
        .map(SecretString::expose_str)
        .or_skip("no --connection-string given")?;
    let parsed = match connection_string::parse(raw) {
        Ok(parsed) => parsed,
        Err(error) => {
            return Ok(Outcome::error(format!("the connection string is malformed: {error}")).remedy(
                format!("copy the device's connection string again from the Azure portal (IoT Hub > Devices > the device) or {GET_DEVICE_CONNECTION_STRING}"),
            ));
        }
    };
    let outcome = match &parsed.address.gateway_host_name {
        Some(gateway) => Outcome::ok(format!(
            "device `{}` on hub `{}` connects through gateway `{gateway}`",
            parsed.address.device_id, parsed.address.host_name
        )),
        // HostName is the hub; the gateway's name there (the one --gateway names) is the
        // mistake, not the missing GatewayHostName. A name outside IoT Hub's domains most
        // likely is that mistake too, but could be a private cloud's hub: said as a likelihood.
        None if context
            .gateway
            .as_deref()
            .is_some_and(|gateway| same_host_name(gateway, &parsed.address.host_name)) =>
        {
            Outcome::error(format!(
                "HostName=`{}` is the gateway (the name --gateway gives), not the IoT hub, and there is no GatewayHostName: HostName must name the hub, GatewayHostName the gateway",
                parsed.address.host_name
            ))
            .remedy(hub_and_gateway_remedy(&parsed))
        }
        None if !is_iot_hub_name(&parsed.address.host_name) => Outcome::error(format!(
            "the connection string has no GatewayHostName, and HostName=`{}` is not an IoT hub name (<hub>.azure-devices.net): if `{}` is the gateway, it belongs in GatewayHostName and HostName must name the hub",
            parsed.address.host_name, parsed.address.host_name
        ))
        .remedy(hub_and_gateway_remedy(&parsed)),
        None => Outcome::error(format!(
            "the connection string has no GatewayHostName: device `{}` will connect straight to `{}`, bypassing the gateway",
            parsed.address.device_id, parsed.address.host_name
        ))
        .remedy("append `;GatewayHostName=<gateway FQDN>` to the connection string, using the exact `hostname` from the gateway's config.toml"),
    };
    Ok(with_common_findings(outcome, parsed))
}

fn gateway(prior: &Prior) -> Ran {
    let config = edge_config(prior)?;
    let file = config.source.display();
    let setting = match config.format {
        crate::config::ConfigFormat::V1Yaml => "provisioning.device_connection_string",
        crate::config::ConfigFormat::V2Toml => "[provisioning] connection_string",
    };
    let apply = config.format.apply_command();
    let raw = match &config.provisioning {
        Provisioning::ConnectionString(secret) => secret.expose(),
        Provisioning::Manual {
            iothub_hostname,
            device_id,
            method,
        } => {
            let method = method.as_deref().unwrap_or("sas");
            return Ok(match (iothub_hostname, device_id) {
                (Some(hub), Some(device)) => Outcome::ok(format!(
                    "manual provisioning of IoT Edge device `{device}` on hub `{hub}` ({method} authentication): no connection string to check"
                ))
                .info(ConnectionStringInfo::Provisioned(ProvisionedIdentity::Manual {
                    iothub_hostname: hub.clone(),
                    device_id: device.clone(),
                    method: method.to_owned(),
                })),
                _ => Outcome::error(format!(
                    "{file}: manual provisioning without a connection string needs both `iothub_hostname` and `device_id` in [provisioning]"
                ))
                .remedy(format!("set `iothub_hostname` and `device_id` (or `connection_string`) in [provisioning] of {file}, then `{apply}`")),
            });
        }
        // DPS cannot assign an identity without its ID scope: the title's "well-formed
        // identity" is false then, however the rest reads.
        Provisioning::Dps { id_scope: None, .. } => {
            let scope = match config.format {
                crate::config::ConfigFormat::V1Yaml => "provisioning.scope_id",
                crate::config::ConfigFormat::V2Toml => "id_scope in [provisioning]",
            };
            return Ok(Outcome::error(format!(
                "{file}: provisioning by the Device Provisioning Service without {scope}: IoT Edge cannot ask DPS for its identity"
            ))
            .remedy(format!(
                "set {scope} of {file} to the ID scope of your DPS instance (Azure portal: the Device Provisioning Service > Overview), then `{apply}`"
            )));
        }
        Provisioning::Dps {
            id_scope,
            attestation,
        } => {
            return Ok(Outcome::ok(format!(
                "provisioned by the Device Provisioning Service (ID scope {}, {} attestation): IoT Hub assigns the identity at run time, so there is no connection string to check",
                id_scope.as_deref().unwrap_or("not set"),
                attestation.as_deref().unwrap_or("unknown")
            ))
            .info(ConnectionStringInfo::Provisioned(ProvisionedIdentity::Dps {
                id_scope: id_scope.clone(),
                attestation: attestation.clone(),
            })));
        }
        Provisioning::Other { source } => {
            return Ok(Outcome::warning(format!(
                "{file}: provisioning source `{source}` is not one edgeprobe knows (manual or dps)"
            ))
            .remedy(format!(
                "set `source = \"manual\"` or `source = \"dps\"` in [provisioning] of {file}, then `{apply}`"
            )));
        }
        Provisioning::Missing => {
            return Ok(Outcome::error(format!(
                "{file} has no provisioning section: IoT Edge does not know which device it is"
            ))
            .remedy(format!(
                "add a [provisioning] section, e.g. `source = \"manual\"` and `connection_string = \"<IoT Edge device connection string>\"` (from {GET_DEVICE_CONNECTION_STRING}), then `{apply}`"
            )));
        }
    };
    if raw.trim_start().starts_with(PLACEHOLDER_START) {
        return Ok(Outcome::error(format!(
            "{setting} in {file} is still the template's placeholder"
        ))
        .remedy(format!(
            "paste the IoT Edge device's connection string ({GET_DEVICE_CONNECTION_STRING}) into {setting}, then `{apply}`"
        )));
    }
    let parsed = match connection_string::parse(raw) {
        Ok(parsed) => parsed,
        Err(error) => {
            return Ok(Outcome::error(format!("{setting} in {file} is malformed: {error}")).remedy(
                format!("copy the IoT Edge device's connection string again ({GET_DEVICE_CONNECTION_STRING}, or the portal: IoT Hub > Devices > the device) into {setting}, then `{apply}`"),
            ));
        }
    };
    let mut outcome = Outcome::ok(format!(
        "IoT Edge device `{}` on hub `{}` (manual provisioning)",
        parsed.address.device_id, parsed.address.host_name
    ));
    if let Some(module) = &parsed.address.module_id {
        outcome.raise(
            Status::Error,
            format!(
                "{setting} in {file} is the connection string of module `{module}`, not of the IoT Edge device `{}`",
                parsed.address.device_id
            ),
            format!(
                "use the device's connection string (without ModuleId; {GET_DEVICE_CONNECTION_STRING}), then `{apply}`"
            ),
        );
    } else if matches!(parsed.authentication, Authentication::X509) {
        outcome.raise(
            Status::Error,
            format!(
                "{setting} in {file} has no SharedAccessKey: IoT Edge's connection-string provisioning authenticates with the key"
            ),
            format!(
                "for X.509 authentication set `iothub_hostname`, `device_id` and [provisioning.authentication] `method = \"x509\"` with `identity_cert` and `identity_pk` instead of a connection string, then `{apply}`"
            ),
        );
    } else if let Some(gateway) = &parsed.address.gateway_host_name {
        // A lower-layer IoT Edge device names its parent with `parent_hostname` ("Connect Azure
        // IoT Edge devices to create a hierarchy"); GatewayHostName is for leaf devices.
        outcome.escalate(Status::Warning);
        outcome = outcome.detail(format!(
            "GatewayHostName={gateway} is for leaf devices: an IoT Edge device names its parent with `parent_hostname`"
        ));
        outcome.remedy = Some(format!(
            "remove `;GatewayHostName={gateway}` from {setting}{}, then `{apply}`",
            if config.names.parent_hostname.is_none() {
                format!(
                    " and, if this device sits below another gateway, set `parent_hostname = \"{gateway}\"` at the top of {file}"
                )
            } else {
                String::new()
            }
        ));
    }
    Ok(with_common_findings(outcome, parsed))
}

/// What both suites say about any parsed connection string: the redacted form, a key that
/// looks truncated, mis-cased or unknown key names; and the evidence for dependents.
/// The fix for a gateway written in HostName: the hub there, the gateway after it.
fn hub_and_gateway_remedy(parsed: &ConnectionString) -> String {
    format!(
        "write the hub in HostName and the gateway in GatewayHostName: `HostName=<hub>.azure-devices.net;DeviceId={};SharedAccessKey=...;GatewayHostName={}` (copy the device's connection string again from the portal, then append `;GatewayHostName={}`)",
        parsed.address.device_id, parsed.address.host_name, parsed.address.host_name
    )
}

/// IoT Hub's domains in Azure's public and national clouds: a HostName outside them is not a
/// hub (an IoT Hub name is always `<hub>.azure-devices.<cloud domain>`).
fn is_iot_hub_name(host_name: &str) -> bool {
    const HUB_DOMAINS: &[&str] = &[
        ".azure-devices.net",
        ".azure-devices.cn",
        ".azure-devices.us",
        ".azure-devices.de",
    ];
    let name = host_name.trim_end_matches('.').to_ascii_lowercase();
    HUB_DOMAINS.iter().any(|domain| name.ends_with(domain))
}

fn with_common_findings(mut outcome: Outcome, parsed: ConnectionString) -> Outcome {
    let info = ParsedConnectionString {
        address: parsed.address.clone(),
        authentication: match parsed.authentication {
            Authentication::SharedAccessKey(_) => info::Authentication::SharedAccessKey,
            Authentication::X509 => info::Authentication::X509,
            Authentication::SharedAccessSignature(_) => info::Authentication::SharedAccessSignature,
        },
        redacted: parsed.to_string(),
    };
    outcome = outcome
        .detail(format!("connection string: {parsed}"))
        .info(ConnectionStringInfo::Parsed(info));
    if let Authentication::SharedAccessKey(key) = &parsed.authentication
        && !key.has_typical_length()
    {
        outcome.escalate(Status::Warning);
        outcome.message = format!(
            "{} (but the SharedAccessKey looks truncated)",
            outcome.message
        );
        outcome = outcome.detail(format!(
            "the SharedAccessKey decodes to {} bytes; IoT Hub keys are 32 or 64 bytes: it may be truncated",
            key.decoded_len()
        ));
        outcome.remedy.get_or_insert_with(|| "copy the primary key again from the portal (IoT Hub > Devices > the device), whole, including any trailing `=`".to_owned());
    }
    for miscased in &parsed.miscased_keys {
        outcome.escalate(Status::Warning);
        outcome = outcome.detail(format!(
            "`{}` should be written `{}`: the device SDKs compare key names case-sensitively and will not see it",
            miscased.written, miscased.expected
        ));
        outcome.remedy.get_or_insert_with(|| "write the key names exactly as the portal shows them (HostName, DeviceId, SharedAccessKey, GatewayHostName)".to_owned());
    }
    for key in &parsed.unknown_keys {
        outcome = outcome.detail(format!("unknown key `{key}` is ignored by the device SDKs"));
    }
    outcome.evidence(Evidence::ConnectionString(Arc::new(parsed)))
}
