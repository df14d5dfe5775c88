//! `gateway-connect-{mqtt,amqp,https}`: TCP connect and TLS handshake on each gateway port,
//! one parameterized family as in `iotedge check`'s port checks.
//!
//! This is the leaf suite's one network step per port: it makes the port's [`Observation`]
//! (addresses tried, handshake, the chain described once) and, when `gateway-protocol-*` is to
//! judge it, reads the protocol's answer on the same connection. Every later check of the port
//! reads that observation; none connects again.
//!
//! [`Observation`]: crate::net::observation::Observation

use std::net::IpAddr;
use std::sync::Arc;

use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Dependency, Evidence, Group, InfoSchema, ObservedPort,
    OrSkip, Outcome, Peer, PortFamily, Prior, Ran,
};
use crate::net::Protocol;
use crate::net::observation::observe;
use crate::net::resolve::{Resolution, ResolutionSource};
use crate::net::tls::{ConnectError, ConnectRequest};

use super::connect_failure::connect_failure;

pub struct GatewayConnectCheck {
    protocol: Protocol,
}

impl GatewayConnectCheck {
    pub fn new(protocol: Protocol) -> Self {
        GatewayConnectCheck { protocol }
    }
}

const FAMILY: &PortFamily = &PortFamily::new(
    Peer::Gateway,
    CheckMeta {
        id: "gateway-connect-mqtt",
        group: Group::GatewayConnectivity,
        title: "gateway accepts TLS connections on the MQTT port (8883)",
        dependencies: &[Dependency::Requires("gateway-resolve")],
        info: InfoSchema::Connect,
    },
    (
        "gateway-connect-amqp",
        "gateway accepts TLS connections on the AMQP port (5671)",
    ),
    (
        "gateway-connect-https",
        "gateway accepts TLS connections on the HTTPS port (443)",
    ),
);

impl DeclaredCheck for GatewayConnectCheck {
    const META: CheckMeta = FAMILY.mqtt;
    fn family(&self) -> Option<(&'static PortFamily, Protocol)> {
        Some((FAMILY, self.protocol))
    }
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let unknown = "skipped because the gateway address is unknown";
        let name = prior.gateway_name().or_skip(unknown)?;
        let resolution = prior.resolution().or_skip(unknown)?;
        let client = match context.shared.tls_client() {
            Ok(client) => client,
            Err(error) => return Ok(Outcome::error(error.to_string())),
        };
        let request = ConnectRequest {
            protocol: self.protocol,
            server_name: name,
            addresses: &resolution.addresses,
            port: context.ports.get(self.protocol),
            timeout: context.timeout,
            client: &client,
        };
        let read_answer = prior.is_scheduled(self.protocol.protocol_check_id());
        let chains = context.shared.presented_chains();
        let observation = Arc::new(observe(&request, read_answer, chains).await);
        let label = observation.label();
        let session = match &observation.result {
            Ok(session) => session,
            Err(error) => {
                let error = error.clone();
                let mut outcome = connect_failure(&label, Peer::Gateway, observation, &error);
                if let ConnectError::Refused { endpoint } = &error
                    && let Some(remedy) = &mut outcome.remedy
                {
                    remedy.push_str(&address_source_hint(name, endpoint.ip(), resolution));
                }
                return Ok(outcome);
            }
        };
        let handshake = &session.handshake;
        let message = format!(
            "{label}: connected to {} in {}, {} handshake ({}) in {}",
            handshake.address,
            format_millis(handshake.connect_time),
            handshake.tls_version,
            handshake.cipher_suite,
            format_millis(handshake.handshake_time),
        );
        let tried = observation.attempts.len();
        let mut outcome =
            Outcome::ok(message).detail(format!("certificates presented: {}", session.chain.len()));
        if let Some(group) = &handshake.key_exchange_group {
            outcome = outcome.detail(format!("key exchange: {group}"));
        }
        if tried > 1 {
            outcome = outcome.details(observation.attempts.iter().filter_map(|attempt| {
                let error = attempt.error.as_ref()?;
                Some(format!("tried {} first: {error}", attempt.address))
            }));
        }
        Ok(outcome
            .info(Arc::clone(&observation))
            .evidence(Evidence::Port(Arc::new(ObservedPort {
                peer: Peer::Gateway,
                observation,
                verdict: None,
            }))))
    }
}

/// A refused port may be the wrong machine rather than a stopped edgeHub, most of all when
/// every port is refused: where the address came from says what to check.
fn address_source_hint(name: &str, address: IpAddr, resolution: &Resolution) -> String {
    let check = match &resolution.source {
        ResolutionSource::HostsFile { path } => {
            format!("check the line for {name} in {}", path.display())
        }
        ResolutionSource::Override => format!("check --resolve {name}:<address>"),
        ResolutionSource::IpLiteral => "check the address the device dials".to_owned(),
        ResolutionSource::Dns { server } => {
            format!("check the A/AAAA record of {name} (DNS via {server})")
        }
    };
    format!(
        ". If every port is refused, {address} may not be the gateway at all: it came from {}; {check}",
        resolution.source
    )
}

fn format_millis(duration: std::time::Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
