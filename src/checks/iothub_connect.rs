//! `iothub-connect-{mqtt,amqp,https}`: a top-layer gateway reaches its IoT hub on each port and
//! the hub's certificate verifies against the operating system's trust store (what the host's
//! identity service uses), with the hub's name. The hub comes from the connection string, the
//! config's `iothub_hostname`, or `--iothub-hostname` (needed with DPS).

use crate::config::Provisioning;
use crate::engine::os_trust_location::OsTrustLocation;
use crate::engine::{Context, FamilyCheck, OrSkip, Outcome, Peer, PortFamily, Prior, Ran, Skip};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::net::resolve::NameRole;
use crate::pki::VerifyCode;

use super::catalog;
use super::tls_probe::{Endpoint, examine, upstream_path};
use super::{edge_config, resolve_upstream};

pub struct IotHubConnectCheck;

impl FamilyCheck for IotHubConnectCheck {
    const FAMILY: &'static PortFamily = &catalog::IOTHUB_CONNECT;
    async fn run(&self, protocol: Protocol, context: &Context, prior: &Prior) -> Ran {
        let config = edge_config(prior)?;
        if config.names.parent_hostname.is_some() {
            return Err(Skip::because(
                "a lower-layer device reaches IoT Hub through its parent (see parent-connect-*)",
            ));
        }
        let configured = match &config.provisioning {
            Provisioning::Manual {
                iothub_hostname, ..
            } => iothub_hostname.clone(),
            _ => None,
        };
        let hub = context
                .gateway_mode
            .iothub_hostname
                .clone()
                .or_else(|| {
                    prior
                        .connection_string()
                        .map(|parsed| parsed.address.host_name.clone())
                })
                .or(configured)
                .or_skip(
                    "the IoT hub is not named in the config (DPS assigns it): pass --iothub-hostname <hub>.azure-devices.net to check it",
                )?;
        let host = match validate_hostname(&hub) {
            Ok(host) => host,
            Err(error) => {
                return Ok(Outcome::error(format!("IoT hub `{hub}`: {error}"))
                        .remedy("correct HostName in the connection string (or --iothub-hostname): <hub>.azure-devices.net"));
            }
        };
        let location = OsTrustLocation::locate(&context.root, &context.leaf.trust_environment);
        let anchors = match location.load_without_blocking().await {
            Ok(anchors) => anchors,
            Err(error) => {
                return Ok(Outcome::error(format!(
                    "the operating system's trust store {location}: {error}"
                ))
                .remedy(format!(
                    "install the CA certificates package (`{}`)",
                    location.family.install_package()
                )));
            }
        };
        let path = match upstream_path(context, config, Peer::IotHub, protocol, &host.name) {
            Ok(path) => path,
            Err(outcome) => return Ok(*outcome),
        };
        // Through a proxy the proxy resolves the hub's name; this machine need not.
        let addresses = match path.proxy {
            Some(_) => Vec::new(),
            None => {
                match resolve_upstream(context, &host.name, "IoT hub", NameRole::IotHub).await {
                    Ok(resolution) => resolution.addresses,
                    Err(failure) => return Ok(failure),
                }
            }
        };
        let port = context.gateway_mode.iothub_ports.get(protocol);
        let endpoint = Endpoint {
            protocol,
            peer: Peer::IotHub,
            host: &host,
            addresses: &addresses,
            port,
            proxy: path.proxy(),
            anchors: Some(&anchors),
            what: format!(
                "IoT hub `{}` on port {port} ({})",
                host.name,
                protocol.display_name()
            ),
            unparseable_remedy: "something between this gateway and IoT Hub presents an invalid certificate: check for a TLS-inspecting proxy",
            no_root: None,
        };
        Ok(examine(&endpoint, context, remedy).await)
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
