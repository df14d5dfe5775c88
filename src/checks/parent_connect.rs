//! `parent-connect-{mqtt,amqp,https}`: a lower-layer device reaches its parent gateway on each
//! port, and the parent's certificate verifies against this device's trusted root for
//! `parent_hostname`: every device of a hierarchy must share the root CA ("Connect Azure IoT
//! Edge devices to create a hierarchy", which checks the same with `openssl s_client`).

use crate::engine::{
    Check, CheckFuture, Context, Dependency, Group, InfoSchema, Outcome, Peer, PortCheck, Prior,
};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::pki::VerifyCode;

use super::tls_probe::{Endpoint, examine};

pub struct ParentConnectCheck {
    protocol: Protocol,
}

impl ParentConnectCheck {
    pub fn new(protocol: Protocol) -> Self {
        ParentConnectCheck { protocol }
    }
}

const DEPENDENCIES: &[Dependency] = &[
    Dependency::Requires("parent-hostname"),
    Dependency::Uses("certificates-configured"),
];

impl Check for ParentConnectCheck {
    fn id(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "parent-connect-mqtt",
            Protocol::Amqp => "parent-connect-amqp",
            Protocol::Https => "parent-connect-https",
        }
    }
    fn group(&self) -> Group {
        Group::Connectivity
    }
    fn description(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "parent gateway is reachable and trusted on the MQTT port (8883)",
            Protocol::Amqp => "parent gateway is reachable and trusted on the AMQP port (5671)",
            Protocol::Https => "parent gateway is reachable and trusted on the HTTPS port (443)",
        }
    }
    fn port(&self, context: &Context) -> Option<PortCheck> {
        Some(PortCheck {
            protocol: self.protocol,
            port: context.parent_ports.get(self.protocol),
            peer: Peer::Parent,
            connects: true,
        })
    }
    fn dependencies(&self) -> &'static [Dependency] {
        DEPENDENCIES
    }
    fn info(&self) -> InfoSchema {
        InfoSchema::TlsPort
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let (Some(config), Some(resolution)) = (prior.edge_config(), prior.resolution()) else {
                return Outcome::skipped("skipped because the parent's address is unknown");
            };
            let Some(Ok(host)) = config.parent_hostname.as_deref().map(validate_hostname) else {
                return Outcome::skipped("skipped because parent_hostname is not set or invalid");
            };
            let certificates = prior.configured_certificates();
            let anchors =
                certificates.and_then(|certificates| certificates.trust_bundle.as_deref());
            let port = context.parent_ports.get(self.protocol);
            let endpoint = Endpoint {
                protocol: self.protocol,
                peer: Peer::Parent,
                host: &host,
                addresses: &resolution.addresses,
                port,
                anchors,
                what: format!(
                    "parent `{}` on port {port} ({})",
                    host.name,
                    self.protocol.display_name()
                ),
                unparseable_remedy: "the parent presents a certificate that is not valid X.509: restart IoT Edge on the parent",
            };
            let file = config.source.display().to_string();
            examine(&endpoint, context, |code| remedy(code, &host.name, &file)).await
        })
    }
}

pub(super) fn remedy(code: VerifyCode, parent: &str, file: &str) -> String {
    match code {
        VerifyCode::HostnameMismatch | VerifyCode::IpAddressMismatch => format!(
            "the parent's certificate is not issued for `{parent}`: set `parent_hostname` in {file} to exactly the parent's `hostname` (the same form, FQDN or IP, across the hierarchy), or fix the parent's hostname and recreate its edgeHub"
        ),
        VerifyCode::UnableToVerifyLeafSignature => "the parent sends its certificate without its device CA chain: on the parent, set the device CA to the full-chain file and apply".to_owned(),
        VerifyCode::CertHasExpired | VerifyCode::CertNotYetValid => "renew the parent's expired certificate (check both devices' clocks with `timedatectl`)".to_owned(),
        _ => format!(
            "every device of a hierarchy must trust the same root: set `trust_bundle_cert` in {file} to the root CA the parent's device CA was issued from (and install it with update-ca-certificates), then `sudo iotedge config apply`"
        ),
    }
}
