//! `connection-string`: the device connection string is well-formed and routes via a gateway.

use crate::connection_string::{self, Authentication};
use crate::engine::{Check, CheckFuture, Context, Evidence, Group, Outcome, Prior};

pub struct ConnectionStringCheck;

#[derive(serde::Serialize)]
struct Info<'a> {
    host_name: &'a str,
    device_id: &'a str,
    module_id: Option<&'a str>,
    gateway_host_name: Option<&'a str>,
    authentication: &'static str,
    redacted: String,
}

impl Check for ConnectionStringCheck {
    fn id(&self) -> &'static str {
        "connection-string"
    }
    fn group(&self) -> Group {
        Group::GatewayConnectivity
    }
    fn description(&self) -> &'static str {
        "device connection string is well-formed and names a gateway"
    }
    fn applies(&self, context: &Context) -> bool {
        context.connection_string.is_some()
    }
    fn run<'a>(&'a self, context: &'a Context, _prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(raw) = context.connection_string.as_deref() else {
                return Outcome::skipped("no --connection-string given");
            };
            let parsed = match connection_string::parse(raw) {
                Ok(parsed) => parsed,
                Err(error) => {
                    return Outcome::error(format!("the connection string is malformed: {error}")).remedy(
                        "copy the device's connection string again from the Azure portal (IoT Hub > Devices > the device) or `az iot hub device-identity connection-string show --device-id <id> --hub-name <hub>`",
                    );
                }
            };
            let info = Info {
                host_name: &parsed.host_name,
                device_id: &parsed.device_id,
                module_id: parsed.module_id.as_deref(),
                gateway_host_name: parsed.gateway_host_name.as_deref(),
                authentication: match parsed.authentication {
                    Authentication::SharedAccessKey(_) => "shared_access_key",
                    Authentication::X509 => "x509",
                },
                redacted: parsed.to_string(),
            };
            let mut outcome = match &parsed.gateway_host_name {
                Some(gateway) => Outcome::ok(format!(
                    "device `{}` on hub `{}` connects through gateway `{gateway}`",
                    parsed.device_id, parsed.host_name
                )),
                None => Outcome::error(format!(
                    "the connection string has no GatewayHostName: device `{}` will connect straight to `{}`, bypassing the gateway",
                    parsed.device_id, parsed.host_name
                ))
                .remedy("append `;GatewayHostName=<gateway FQDN>` to the connection string, using the exact `hostname` from the gateway's config.toml"),
            };
            outcome = outcome
                .detail(format!("connection string: {parsed}"))
                .info(&info);
            if let Authentication::SharedAccessKey(key) = &parsed.authentication
                && !key.has_typical_length()
            {
                outcome.escalate(crate::engine::Status::Warning);
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
                outcome.escalate(crate::engine::Status::Warning);
                outcome = outcome.detail(format!(
                    "`{}` should be written `{}`: the device SDKs compare key names case-sensitively and will not see it",
                    miscased.written, miscased.expected
                ));
                outcome.remedy.get_or_insert_with(|| "write the key names exactly as the portal shows them (HostName, DeviceId, SharedAccessKey, GatewayHostName)".to_owned());
            }
            for key in &parsed.unknown_keys {
                outcome =
                    outcome.detail(format!("unknown key `{key}` is ignored by the device SDKs"));
            }
            outcome.evidence(Evidence::ConnectionString(std::sync::Arc::new(parsed)))
        })
    }
}
