//! `edgehub-listening-{mqtt,amqp,https}`: the local edgeHub accepts TLS on each port and presents
//! a certificate that verifies against the trusted root and the configured hostname: exactly
//! what a leaf will see, checked from the gateway itself (127.0.0.1, SNI = `hostname`), so a
//! failure here is the gateway's and not the network's.

use std::net::{IpAddr, Ipv4Addr};

use crate::engine::{Check, CheckFuture, Context, Dependency, Group, Outcome, Prior};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::net::tls::ConnectError;
use crate::pki::VerifyCode;

use super::tls_probe::{Endpoint, ProbeError, probe, verdict};

pub struct EdgeHubListeningCheck {
    protocol: Protocol,
}

impl EdgeHubListeningCheck {
    pub fn new(protocol: Protocol) -> Self {
        EdgeHubListeningCheck { protocol }
    }
}

const DEPENDENCIES: &[Dependency] = &[
    Dependency::Requires("hostname"),
    Dependency::Uses("certificates-configured"),
];

const LOOPBACK: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::LOCALHOST)];

impl Check for EdgeHubListeningCheck {
    fn id(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "edgehub-listening-mqtt",
            Protocol::Amqp => "edgehub-listening-amqp",
            Protocol::Https => "edgehub-listening-https",
        }
    }
    fn group(&self) -> Group {
        Group::Connectivity
    }
    fn description(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "edgeHub serves a valid certificate on the MQTT port (8883)",
            Protocol::Amqp => "edgeHub serves a valid certificate on the AMQP port (5671)",
            Protocol::Https => "edgeHub serves a valid certificate on the HTTPS port (443)",
        }
    }
    fn dependencies(&self) -> &'static [Dependency] {
        DEPENDENCIES
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(Ok(host)) = prior.gateway_name().map(validate_hostname) else {
                return Outcome::skipped("skipped because the hostname is unknown");
            };
            let certificates = prior.configured_certificates();
            let anchors =
                certificates.and_then(|certificates| certificates.trust_bundle.as_deref());
            let format = certificates.map(|certificates| certificates.format);
            let port = context.ports.get(self.protocol);
            let endpoint = Endpoint {
                protocol: self.protocol,
                host: &host,
                addresses: &LOOPBACK,
                port,
                anchors,
            };
            let what = format!(
                "edgeHub on 127.0.0.1:{port} ({}, SNI {})",
                self.protocol.display_name(),
                host.name
            );
            match probe(&endpoint, context).await {
                Ok(probed) => verdict(&what, &probed, anchors, |code| {
                    remedy(code, &host.name, format.map(|f| f.apply_command()))
                }),
                Err(ProbeError::Connect(error)) => Outcome::error(format!("{what}: {error}"))
                    .remedy(connect_remedy(&error, self.protocol, port))
                    .info(&serde_json::json!({
                        "protocol": self.protocol,
                        "port": port,
                        "error": error.kind(),
                    })),
                Err(error @ ProbeError::Unparseable(_)) => Outcome::error(format!("{what}: {error}"))
                    .remedy("edgeHub presents a certificate that is not valid X.509: restart IoT Edge so it is reissued"),
            }
        })
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

fn connect_remedy(error: &ConnectError, protocol: Protocol, port: u16) -> String {
    let binding = format!(
        "edgeHub's createOptions must publish it: HostConfig.PortBindings \"{}/tcp\" (check with `sudo iotedge list` and `sudo docker port edgeHub`)",
        protocol.default_port()
    );
    match error {
        ConnectError::Refused { .. } => format!(
            "nothing listens on port {port}: check that edgeHub runs (`sudo iotedge list`, `sudo iotedge logs edgeHub`); {binding}{}",
            if protocol == Protocol::Https {
                "; in a nested hierarchy the API proxy module may own 443 instead"
            } else {
                ""
            }
        ),
        ConnectError::NotTls { .. } => format!(
            "port {port} is held by a service that does not speak TLS: stop it so edgeHub can bind the port; {binding}"
        ),
        ConnectError::HandshakeTimeout { .. } => format!(
            "something accepts connections on port {port} but sends no TLS handshake: another service or a proxy holds it, or edgeHub is overloaded (`sudo iotedge logs edgeHub`)"
        ),
        _ => "see `sudo iotedge logs edgeHub` for the TLS error on edgeHub's side".to_owned(),
    }
}
