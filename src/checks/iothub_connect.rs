//! `iothub-connect-{mqtt,amqp,https}`: a top-layer gateway reaches its IoT hub on each port and
//! the hub's certificate verifies against the operating system's trust store (what the host's
//! identity service uses), with the hub's name. The hub comes from the connection string, the
//! config's `iothub_hostname`, or `--iothub-hostname` (needed with DPS).

use crate::config::Provisioning;
use crate::engine::os_trust_location::OsTrustLocation;
use crate::engine::{
    Check, CheckFuture, Context, Dependency, Group, InfoSchema, Outcome, Peer, PortCheck, Prior,
};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::net::resolve::{ResolverSettings, resolve_gateway};
use crate::pki::VerifyCode;

use super::tls_probe::{Endpoint, examine};

pub struct IotHubConnectCheck {
    protocol: Protocol,
}

impl IotHubConnectCheck {
    pub fn new(protocol: Protocol) -> Self {
        IotHubConnectCheck { protocol }
    }
}

const DEPENDENCIES: &[Dependency] = &[
    Dependency::Requires("config-well-formed"),
    Dependency::Uses("connection-string"),
];

impl Check for IotHubConnectCheck {
    fn id(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "iothub-connect-mqtt",
            Protocol::Amqp => "iothub-connect-amqp",
            Protocol::Https => "iothub-connect-https",
        }
    }
    fn group(&self) -> Group {
        Group::Connectivity
    }
    fn description(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "IoT Hub is reachable and trusted on the MQTT port (8883)",
            Protocol::Amqp => "IoT Hub is reachable and trusted on the AMQP port (5671)",
            Protocol::Https => "IoT Hub is reachable and trusted on the HTTPS port (443)",
        }
    }
    fn port(&self, context: &Context) -> Option<PortCheck> {
        Some(PortCheck {
            protocol: self.protocol,
            port: context.iothub_ports.get(self.protocol),
            peer: Peer::IotHub,
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
            let Some(config) = prior.edge_config() else {
                return Outcome::skipped("skipped because the config was not read");
            };
            if config.parent_hostname.is_some() {
                return Outcome::skipped(
                    "a lower-layer device reaches IoT Hub through its parent (see parent-connect-*)",
                );
            }
            let configured = match &config.provisioning {
                Provisioning::Manual {
                    iothub_hostname, ..
                } => iothub_hostname.clone(),
                _ => None,
            };
            let Some(hub) = context
                .iothub_hostname
                .clone()
                .or_else(|| {
                    prior
                        .connection_string()
                        .map(|parsed| parsed.host_name.clone())
                })
                .or(configured)
            else {
                return Outcome::skipped(
                    "the IoT hub is not named in the config (DPS assigns it): pass --iothub-hostname <hub>.azure-devices.net to check it",
                );
            };
            let host = match validate_hostname(&hub) {
                Ok(host) => host,
                Err(error) => {
                    return Outcome::error(format!("IoT hub `{hub}`: {error}"))
                        .remedy("correct HostName in the connection string (or --iothub-hostname): <hub>.azure-devices.net");
                }
            };
            let location = OsTrustLocation::locate(&context.root, &context.trust_environment);
            let anchors = match location.load() {
                Ok(anchors) => anchors,
                Err(error) => {
                    return Outcome::error(format!(
                        "the operating system's trust store {location}: {error}"
                    ))
                    .remedy(format!(
                        "install the CA certificates package (`{}`)",
                        location.family.install_package()
                    ));
                }
            };
            let settings = ResolverSettings {
                hosts_file: context.hosts_file.clone(),
                resolv_conf: context.root.path("/etc/resolv.conf"),
                dns_server: context.dns_server,
                overrides: context.resolve_overrides.clone(),
                timeout: context.timeout,
            };
            let resolution = match resolve_gateway(&host.name, &settings).await {
                Ok(resolution) => resolution,
                Err(failure) => {
                    return Outcome::error(format!("IoT hub: {failure}"))
                        .details(failure.notes.clone())
                        .remedy(failure.remedy(&host.name));
                }
            };
            let port = context.iothub_ports.get(self.protocol);
            let endpoint = Endpoint {
                protocol: self.protocol,
                peer: Peer::IotHub,
                host: &host,
                addresses: &resolution.addresses,
                port,
                anchors: Some(&anchors),
                what: format!(
                    "IoT hub `{}` on port {port} ({})",
                    host.name,
                    self.protocol.display_name()
                ),
                unparseable_remedy: "something between this gateway and IoT Hub presents an invalid certificate: check for a TLS-inspecting proxy",
            };
            examine(&endpoint, context, remedy).await
        })
    }
}

fn remedy(code: VerifyCode) -> String {
    match code {
        VerifyCode::HostnameMismatch | VerifyCode::IpAddressMismatch => {
            "the certificate is not IoT Hub's: a proxy or captive portal answers instead; exempt *.azure-devices.net from TLS inspection".to_owned()
        }
        VerifyCode::CertHasExpired | VerifyCode::CertNotYetValid => {
            "check this machine's clock (`timedatectl`; enable NTP with `sudo timedatectl set-ntp true`)".to_owned()
        }
        _ => "a TLS-inspecting proxy re-signs the connection, or the OS trust store is outdated: exempt *.azure-devices.net from inspection, or install the proxy's root (`sudo cp root.pem /usr/local/share/ca-certificates/root.crt && sudo update-ca-certificates`); update the ca-certificates package".to_owned(),
    }
}
