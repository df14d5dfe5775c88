//! `edgehub-listening-{mqtt,amqp,https}`: the local edgeHub accepts TLS on each port and presents
//! a certificate that verifies against the trusted root and the configured hostname: exactly
//! what a leaf will see, checked from the gateway itself (127.0.0.1, SNI = `hostname`), so a
//! failure here is the gateway's and not the network's.

use std::net::{IpAddr, Ipv4Addr};

use crate::engine::{Context, FamilyCheck, OrSkip, Peer, PortFamily, Prior, Ran};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::pki::VerifyCode;

use super::catalog;
use super::tls_probe::{Endpoint, NoRoot, examine};

pub struct EdgeHubListeningCheck;

const LOOPBACK: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::LOCALHOST)];

impl FamilyCheck for EdgeHubListeningCheck {
    const FAMILY: &'static PortFamily = &catalog::EDGEHUB_LISTENING;
    async fn run(&self, protocol: Protocol, context: &Context, prior: &Prior) -> Ran {
        let host = prior
            .gateway_name()
            .and_then(|name| validate_hostname(name).ok())
            .or_skip("skipped because the hostname is unknown")?;
        let certificates = prior.configured_certificates();
        let anchors = certificates.and_then(|certificates| certificates.trust_bundle.as_deref());
        let format = certificates.map(|certificates| certificates.format);
        let port = context.leaf.ports.get(protocol);
        let endpoint = Endpoint {
            protocol,
            peer: Peer::EdgeHub,
            host: &host,
            addresses: &LOOPBACK,
            port,
            // edgeHub's own ports, on this machine: never through a proxy.
            proxy: None,
            anchors,
            what: format!(
                "edgeHub on 127.0.0.1:{port} ({}, SNI {})",
                protocol.display_name(),
                host.name
            ),
            unparseable_remedy: "edgeHub presents a certificate that is not valid X.509: restart IoT Edge so it is reissued",
            no_root: NoRoot::of(context, prior.edge_config().map(AsRef::as_ref)),
        };
        Ok(examine(&endpoint, context, |code| {
            remedy(code, &host.name, format.map(|f| f.apply_command()))
        })
        .await)
    }
}

/// What to do when what edgeHub presents does not verify, by OpenSSL code.
fn remedy(code: VerifyCode, hostname: &str, apply: Option<&str>) -> String {
    let apply = apply.unwrap_or("sudo iotedge config apply");
    match code {
        VerifyCode::HostnameMismatch | VerifyCode::IpAddressMismatch => format!(
            "edgeHub's certificate was issued for another name: edgeHub keeps the hostname it was created with (its EdgeDeviceHostName, see `sudo docker inspect edgeHub`), so after changing `hostname` to `{hostname}` remove the containers to have them recreated: `sudo docker rm -f edgeAgent edgeHub`, then `{apply}`"
        ),
        VerifyCode::UnableToGetIssuerCertLocally
        | VerifyCode::UnableToGetIssuerCert
        | VerifyCode::SelfSignedCertInChain
        | VerifyCode::DepthZeroSelfSignedCert
        | VerifyCode::CertSignatureFailure => format!(
            "edgeHub's certificate does not lead to the trusted root: either it was issued by an old device CA (delete the generated certificates as stale-generated-certs says, then `{apply}`), or the device CA itself comes from another PKI (see device-ca-chain)"
        ),
        VerifyCode::UnableToVerifyLeafSignature => format!(
            "edgeHub sends its certificate without the device CA chain: set the device CA setting to the *full-chain* file (device CA, then intermediates), then `{apply}`"
        ),
        VerifyCode::CertHasExpired | VerifyCode::CertNotYetValid => format!(
            "renew the expired certificate (see certificates-expiry; edgeHub's own is reissued by restarting IoT Edge), check the clock with `timedatectl`, then `{apply}`"
        ),
        _ => format!("see the verify errors above; reissue the certificate named, then `{apply}`"),
    }
}
