//! `parent-connect-{mqtt,amqp,https}`: a lower-layer device reaches its parent gateway on each
//! port, and the parent's certificate verifies against this device's trusted root for
//! `parent_hostname`: every device of a hierarchy must share the root CA ("Connect Azure IoT
//! Edge devices to create a hierarchy", which checks the same with `openssl s_client`).

use crate::engine::{Context, FamilyCheck, OrSkip, Peer, PortFamily, Prior, Ran};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::pki::VerifyCode;

use super::catalog;
use super::tls_probe::{Endpoint, NoRoot, examine, upstream_path};

pub struct ParentConnectCheck;

impl FamilyCheck for ParentConnectCheck {
    const FAMILY: &'static PortFamily = &catalog::PARENT_CONNECT;
    async fn run(&self, protocol: Protocol, context: &Context, prior: &Prior) -> Ran {
        let unknown = "skipped because the parent's address is unknown";
        let config = prior.edge_config().or_skip(unknown)?;
        let resolution = prior.resolution().or_skip(unknown)?;
        let host = config
            .names
            .parent_hostname
            .as_deref()
            .and_then(|name| validate_hostname(name).ok())
            .or_skip("skipped because parent_hostname is not set or invalid")?;
        let certificates = prior.configured_certificates();
        let anchors = certificates.and_then(|certificates| certificates.trust_bundle.as_deref());
        let path = match upstream_path(context, config, Peer::Parent, protocol, &host.name) {
            Ok(path) => path,
            Err(outcome) => return Ok(*outcome),
        };
        let port = context.gateway_mode.parent_ports.get(protocol);
        let endpoint = Endpoint {
            protocol,
            peer: Peer::Parent,
            host: &host,
            addresses: &resolution.addresses,
            port,
            proxy: path.proxy(),
            anchors,
            what: format!(
                "parent `{}` on port {port} ({})",
                host.name,
                protocol.display_name()
            ),
            unparseable_remedy: "the parent presents a certificate that is not valid X.509: restart IoT Edge on the parent",
            no_root: NoRoot::of(context, prior.edge_config().map(AsRef::as_ref)),
        };
        let file = config.source.display().to_string();
        Ok(examine(&endpoint, context, |code| remedy(code, &host.name, &file)).await)
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
