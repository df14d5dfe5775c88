//! `gateway-connect-{mqtt,amqp,https}`: TCP connect and TLS handshake on each gateway port,
//! one parameterized family as in `iotedge check`'s port checks.

use std::sync::Arc;

use crate::engine::{Check, CheckFuture, Context, Dependency, Evidence, Group, Outcome, Prior};
use crate::net::Protocol;
use crate::net::local_limits::DescriptorExhaustion;
use crate::net::tls::{ConnectError, ConnectRequest, connect, format_duration};

pub struct GatewayConnectCheck {
    protocol: Protocol,
}

impl GatewayConnectCheck {
    pub fn new(protocol: Protocol) -> Self {
        GatewayConnectCheck { protocol }
    }
}

const DEPENDENCIES: &[Dependency] = &[
    Dependency::Requires("gateway-resolve"),
    Dependency::Uses("root-ca-file"),
];

impl Check for GatewayConnectCheck {
    fn id(&self) -> &'static str {
        self.protocol.connect_check_id()
    }
    fn group(&self) -> Group {
        Group::GatewayConnectivity
    }
    fn description(&self) -> &'static str {
        match self.protocol {
            Protocol::Mqtt => "gateway accepts TLS connections on the MQTT port (8883)",
            Protocol::Amqp => "gateway accepts TLS connections on the AMQP port (5671)",
            Protocol::Https => "gateway accepts TLS connections on the HTTPS port (443)",
        }
    }
    fn dependencies(&self) -> &'static [Dependency] {
        DEPENDENCIES
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let (Some(name), Some(resolution)) = (prior.gateway_name(), prior.resolution()) else {
                return Outcome::skipped("skipped because the gateway address is unknown");
            };
            let client = match context.shared.tls_client(prior.trust_anchors()) {
                Ok(client) => client,
                Err(error) => return Outcome::error(error.to_string()),
            };
            let port = context.ports.get(self.protocol);
            let request = ConnectRequest {
                protocol: self.protocol,
                server_name: name,
                addresses: &resolution.addresses,
                port,
                timeout: context.timeout,
                client: &client,
            };
            match connect(&request).await {
                Ok(connected) => {
                    let handshake = connected.handshake.clone();
                    connected.close().await;
                    Outcome::ok(format!(
                        "{} {}: connected to {} in {}, {} handshake ({}) in {}",
                        self.protocol.display_name(),
                        port,
                        handshake.address,
                        format_millis(handshake.connect_time),
                        handshake.tls_version,
                        handshake.cipher_suite,
                        format_millis(handshake.handshake_time),
                    ))
                    .detail(format!("certificates presented: {}", handshake.chain.len()))
                    .info(&handshake)
                    .evidence(Evidence::Handshake(Arc::new(handshake)))
                }
                Err(error) => {
                    // Out of file descriptors here: a limit of this machine, reported with its
                    // own fix rather than as the network's fault (issue 12).
                    let (finding, remedy, kind) =
                        match DescriptorExhaustion::from_connect_error(&error) {
                            Some(local) => (local.to_string(), local.remedy(), local.kind()),
                            None => (
                                error.to_string(),
                                remedy(&error, self.protocol, port),
                                error.kind(),
                            ),
                        };
                    Outcome::error(format!(
                        "{} {}: {finding}",
                        self.protocol.display_name(),
                        port
                    ))
                    .remedy(remedy)
                    .info(&serde_json::json!({
                        "protocol": self.protocol,
                        "port": port,
                        "endpoint": error.endpoint().map(|endpoint| endpoint.to_string()),
                        "error": kind,
                    }))
                }
            }
        })
    }
}

fn format_millis(duration: std::time::Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// What to do for each way a port can fail, naming the IoT Edge setting involved.
fn remedy(error: &ConnectError, protocol: Protocol, port: u16) -> String {
    let binding = format!(
        "edgeHub's deployment must publish it: createOptions HostConfig.PortBindings \"{}/tcp\" (check with `sudo iotedge list` and `sudo docker port edgeHub`)",
        protocol.default_port()
    );
    match error {
        ConnectError::NoAddress => "the gateway name resolved to no address; see gateway-resolve".to_owned(),
        ConnectError::Refused { .. } => {
            format!("nothing listens on port {port}: check that edgeHub is running (`sudo iotedge list`); {binding}")
        }
        ConnectError::ConnectTimeout { endpoint, .. } => format!(
            "packets to {endpoint} are dropped: allow inbound TCP {port} in the gateway's firewall (e.g. `sudo ufw allow {port}/tcp`) and any firewall in between, and check that {} is really the gateway",
            endpoint.ip()
        ),
        ConnectError::Unreachable { .. } => {
            "no route to the gateway: check this device's network, default route and the gateway's address".to_owned()
        }
        ConnectError::ConnectFailed { .. } => format!("check the network path to the gateway on port {port}"),
        ConnectError::HandshakeTimeout { timeout, .. } => format!(
            "something accepts connections on port {port} but sends no TLS handshake within {}: another service or a proxy holds the port, or edgeHub is overloaded (`sudo iotedge logs edgeHub`)",
            format_duration(*timeout)
        ),
        ConnectError::Reset { .. } => format!(
            "the connection was reset: a firewall or IPS may block TLS on port {port}, or the service rejects this client; check `sudo iotedge logs edgeHub`"
        ),
        ConnectError::Closed { .. } => {
            "the server hung up mid-handshake: check `sudo iotedge logs edgeHub` for TLS errors (edgeHub requires TLS 1.2 or later)".to_owned()
        }
        ConnectError::NotTls { .. } => format!(
            "port {port} is served by something that is not edgeHub's TLS endpoint (a plain-text service): free the port on the gateway and let edgeHub bind it; {binding}"
        ),
        ConnectError::Alert { .. } => {
            "the gateway rejected the handshake: it may require a TLS version or cipher suite this client does not offer (edgeHub accepts TLS 1.2+); see `sudo iotedge logs edgeHub`".to_owned()
        }
        ConnectError::CertificateTooLarge { .. } => {
            "make the gateway's Certificate message smaller: send a shorter chain (the server certificate and its intermediates, not the root) and fewer subjectAltNames (edgeHub's server certificate needs only the gateway's hostname)".to_owned()
        }
        ConnectError::Tls { .. } => "see `sudo iotedge logs edgeHub` for the TLS error on the gateway side".to_owned(),
    }
}
