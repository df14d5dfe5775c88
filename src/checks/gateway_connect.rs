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
    Peer, PortCheck, Prior,
};
use crate::identity::DeviceCredentials;
use crate::identity::certificate::DeviceCertificate;
use crate::net::Protocol;
use crate::net::observation::observe_as;
use crate::net::tls::ConnectRequest;

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
            // `--cert`: the device's certificate goes into every handshake, as the device's
            // own TLS stack sends it; unreadable, it is not sent (`device-certificate` says why).
            let (client, certificate_note) = match device_certificate(context) {
                Some(Ok(device)) => match &device.client {
                    Ok(device_client) => (Arc::clone(device_client), None),
                    Err(error) => (
                        client,
                        Some(format!("the device certificate was not presented: {error}")),
                    ),
                },
                Some(Err(error)) => (
                    client,
                    Some(format!("the device certificate was not presented: {error}")),
                ),
                None => (client, None),
            };
            let credentials = device_credentials(context, prior, self.protocol);
            let request = ConnectRequest {
                protocol: self.protocol,
                server_name: name,
                addresses: &resolution.addresses,
                port: context.ports.get(self.protocol),
                timeout: context.timeout,
                client: &client,
            };
            let read_answer =
                prior.is_scheduled(self.protocol.protocol_check_id()) || credentials.is_some();
            let chains = context.shared.presented_chains();
            let observation =
                Arc::new(observe_as(&request, read_answer, credentials.as_ref(), chains).await);
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
                .detail(format!("certificates presented: {}", session.chain.len()))
                .details(certificate_note);
            if let Some(group) = &handshake.key_exchange_group {
                outcome = outcome.detail(format!("key exchange: {group}"));
            }
            if tried > 1 {
                outcome = outcome.details(observation.attempts.iter().filter_map(|attempt| {
                    let error = attempt.error.as_ref()?;
                    Some(format!("tried {} first: {error}", attempt.address))
                }));
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

/// `--cert`/`--key`, read once per run.
pub(super) fn device_certificate(
    context: &Context,
) -> Option<Result<Arc<DeviceCertificate>, String>> {
    let options = &context.identity;
    let (certificate, key) = (options.certificate.as_ref()?, options.key.as_ref()?);
    Some(context.shared.device_certificate(certificate, key))
}

/// With `--authenticate`, the credentials the port's first request carries, when the protocol
/// has a way to carry them and they can be made (`gateway-auth-*` reports why not).
fn device_credentials(
    context: &Context,
    prior: &Prior,
    protocol: Protocol,
) -> Option<DeviceCredentials> {
    if !context.identity.authenticate || protocol != Protocol::Mqtt {
        return None;
    }
    let parsed = prior.connection_string()?;
    DeviceCredentials::from_connection_string(
        parsed,
        context.now,
        context.identity.send_test_message,
    )
    .ok()
}

fn format_millis(duration: std::time::Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
