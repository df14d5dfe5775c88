//! `gateway-connect-{mqtt,amqp,https}`: TCP connect and TLS handshake on each gateway port,
//! one parameterized family as in `iotedge check`'s port checks.
//!
//! This is the leaf suite's one network step per port: it makes the port's [`Observation`]
//! (addresses tried, handshake, the chain described once) and, when `gateway-protocol-*` is to
//! judge it, reads the protocol's answer on the same connection. Every later check of the port
//! reads that observation; none connects again.
//!
//! [`Observation`]: crate::net::observation::Observation

use std::sync::Arc;

use crate::engine::{
    Check, CheckFuture, Context, Dependency, Evidence, Group, InfoSchema, ObservedPort, Outcome,
    Peer, PortCheck, Prior, Status,
};
use crate::net::Protocol;
use crate::net::observation::{AttemptOutcome, observe};
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

const DEPENDENCIES: &[Dependency] = &[Dependency::Requires("gateway-resolve")];

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
    fn port(&self, context: &Context) -> Option<PortCheck> {
        Some(PortCheck {
            protocol: self.protocol,
            port: context.ports.get(self.protocol),
            peer: Peer::Gateway,
            connects: true,
        })
    }
    fn dependencies(&self) -> &'static [Dependency] {
        DEPENDENCIES
    }
    fn info(&self) -> InfoSchema {
        InfoSchema::Connect
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let (Some(name), Some(resolution)) = (prior.gateway_name(), prior.resolution()) else {
                return Outcome::skipped("skipped because the gateway address is unknown");
            };
            let client = match context.shared.tls_client() {
                Ok(client) => client,
                Err(error) => return Outcome::error(error.to_string()),
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
                    return connect_failure(&label, Peer::Gateway, observation, &error);
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
            let mut outcome = Outcome::ok(message)
                .detail(format!("certificates presented: {}", session.chain.len()));
            if let Some(group) = &handshake.key_exchange_group {
                outcome = outcome.detail(format!("key exchange: {group}"));
            }
            if tried > 1 {
                outcome = outcome.details(
                    observation
                        .attempts
                        .iter()
                        .filter_map(|attempt| Some(format!("also tried: {}", attempt.message()?))),
                );
            }
            if let Some(silent) = observation.attempts.iter().find(|attempt| {
                matches!(
                    attempt.outcome,
                    AttemptOutcome::Abandoned { .. }
                        | AttemptOutcome::Failed(ConnectError::ConnectTimeout { .. })
                )
            }) {
                // A Happy Eyeballs client (RFC 8305) got through; one that dials the addresses
                // in turn, as many embedded stacks do, hangs on this one first.
                outcome.escalate(Status::Warning);
                outcome = outcome.remedy(format!(
                    "{} drops connections: remove that address from the gateway name's DNS records or hosts file line, or open TCP {} to it in the gateway's firewall; devices that try addresses one at a time wait for their whole connect timeout there before trying {}",
                    silent.address.ip(),
                    silent.address.port(),
                    handshake.address.ip()
                ));
            }
            outcome
                .info(Arc::clone(&observation))
                .evidence(Evidence::Port(Arc::new(ObservedPort {
                    peer: Peer::Gateway,
                    observation,
                    verdict: None,
                })))
        })
    }
}

fn format_millis(duration: std::time::Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
