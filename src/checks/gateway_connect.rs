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
    Context, Evidence, FamilyCheck, ObservedPort, OrSkip, Outcome, Peer, PortFamily, Prior, Ran,
    Status,
};
use crate::identity::DeviceCredentials;
use crate::identity::certificate::DeviceCertificate;
use crate::net::Protocol;
use crate::net::observation::{AttemptOutcome, observe_as};
use crate::net::proxy::ProxyUrl;
use crate::net::resolve::{Resolution, ResolutionSource};
use crate::net::tls::{ConnectError, ConnectRequest};

use super::catalog;
use super::connect_failure::connect_failure;

pub struct GatewayConnectCheck;

impl FamilyCheck for GatewayConnectCheck {
    const FAMILY: &'static PortFamily = &catalog::GATEWAY_CONNECT;
    async fn run(&self, protocol: Protocol, context: &Context, prior: &Prior) -> Ran {
        let unknown = "skipped because the gateway address is unknown";
        let name = prior.gateway_name().or_skip(unknown)?;
        // Through a proxy the proxy resolves the name; no local address is needed.
        let proxy = context.leaf.proxy.route(name);
        let resolution = prior.resolution();
        let addresses = match (resolution, proxy) {
            (Some(resolution), _) => resolution.addresses.clone(),
            (None, Some(_)) => Vec::new(),
            (None, None) => return Err(crate::engine::Skip::because(unknown)),
        };
        if let Some(proxy) = proxy
            && protocol != Protocol::Https
            && !context.asked_for(Peer::Gateway, protocol)
        {
            return Ok(Outcome::skipped(format!(
                "not used through the proxy {proxy} ({}): behind an HTTP proxy a device reaches its gateway on 443 only (HTTPS, MQTT and AMQP over WebSockets); to try this port through the proxy anyway, pass --port {}=PORT or --only {}",
                context.leaf.proxy.source,
                protocol.key(),
                protocol.connect_check_id()
            )));
        }
        let client = match context.shared.tls_client() {
            Ok(client) => client,
            Err(error) => return Ok(Outcome::error(error.to_string())),
        };
        // `--cert`: the device's certificate goes into every handshake, as the device's own
        // TLS stack sends it; unreadable, it is not sent (`device-certificate` says why).
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
        let credentials = device_credentials(context, prior, protocol);
        let request = ConnectRequest {
            protocol,
            server_name: name,
            addresses: &addresses,
            port: context.leaf.ports.get(protocol),
            timeout: context.leaf.timeout,
            client: &client,
            proxy: proxy.map(|proxy| proxy.as_ref()),
        };
        let read_answer = prior.is_scheduled(protocol.protocol_check_id()) || credentials.is_some();
        let chains = context.shared.presented_chains();
        let observation =
            Arc::new(observe_as(&request, read_answer, credentials.as_ref(), chains).await);
        super::start_leaf_verdict(context, prior, &observation);
        let label = observation.label();
        let session = match &observation.result {
            Ok(session) => session,
            Err(error) => {
                let error = error.clone();
                let mut outcome = connect_failure(&label, Peer::Gateway, observation, &error)
                    .details(through(proxy, &context.leaf.proxy.source));
                if let ConnectError::Refused { endpoint } = &error
                    && let Some(remedy) = &mut outcome.remedy
                    && let Some(resolution) = resolution
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
            handshake.negotiated.tls_version,
            handshake.negotiated.cipher_suite,
            format_millis(handshake.handshake_time),
        );
        let tried = observation.attempts.len();
        let mut outcome = Outcome::ok(message)
            .details(through(proxy, &context.leaf.proxy.source))
            .detail(format!("certificates presented: {}", session.chain.len()))
            .details(certificate_note);
        if let Some(group) = &handshake.negotiated.key_exchange_group {
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
        Ok(outcome
            .info(Arc::clone(&observation))
            .evidence(Evidence::Port(Arc::new(ObservedPort {
                peer: Peer::Gateway,
                observation,
                verdict: None,
            }))))
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

/// With `--authenticate`, the credentials the port's first exchange carries when the port's
/// `gateway-auth-*` check is to judge them and they can be made (that check reports why not).
fn device_credentials(
    context: &Context,
    prior: &Prior,
    protocol: Protocol,
) -> Option<DeviceCredentials> {
    let check = match protocol {
        Protocol::Mqtt => "gateway-auth-mqtt",
        Protocol::Amqp => "gateway-auth-amqp",
        Protocol::Https => "gateway-auth-websocket",
    };
    if !context.identity.authenticate || !prior.is_scheduled(check) {
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
        ResolutionSource::SystemResolver => format!(
            "check what `getent ahosts {name}` answers (the system resolver: /etc/nsswitch.conf)"
        ),
    };
    format!(
        ". If every port is refused, {address} may not be the gateway at all: it came from {}; {check}",
        resolution.source
    )
}

/// "through the proxy http://proxy:3128 (https_proxy)", when there is one.
fn through(proxy: Option<&Arc<ProxyUrl>>, source: &str) -> Option<String> {
    proxy.map(|proxy| format!("through the proxy {proxy} ({source})"))
}

fn format_millis(duration: std::time::Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
