//! The outcome of a port that could not be reached or did not complete a TLS handshake, for
//! every check that connects (`gateway-connect-*`, `edgehub-listening-*`, `parent-connect-*`,
//! `iothub-connect-*`): the finding, the fix for whose port it is, and the observation.

use std::sync::Arc;

use crate::engine::{Evidence, ObservedPort, Outcome, Peer};
use crate::net::Protocol;
use crate::net::observation::Observation;
use crate::net::plaintext::PlaintextService;
use crate::net::tls::{ConnectError, format_duration};

/// The error outcome for `observation`, which failed with `error`; `what` names the endpoint
/// ("MQTTS 8883", "edgeHub on 127.0.0.1:8883 (MQTTS, SNI gw)"). The observation goes along as
/// evidence (for the monitoring printers: the attempts and the error kind) and as JSON.
pub(super) fn connect_failure(
    what: &str,
    peer: Peer,
    observation: Arc<Observation>,
    error: &ConnectError,
) -> Outcome {
    let mut fix = remedy(
        error,
        peer,
        observation.protocol,
        observation.port,
        &observation.server_name,
    );
    let message = match (&observation.proxy, error) {
        // The proxy's own findings name it already.
        (_, ConnectError::Proxy { .. }) | (None, _) => format!("{what}: {error}"),
        // The tunnel stood; what failed is TLS with the target, seen through the proxy.
        (Some(proxy), _) => {
            fix = format!(
                "the proxy tunnelled the connection, so the failure is beyond it: {fix}; a proxy that inspects TLS (re-signs or ends it) must let {}:{} through untouched",
                observation.server_name, observation.port
            );
            format!("{what} through the proxy {proxy}: {error}")
        }
    };
    // Every address the race tried, when there was more than one: which family failed how.
    let each_address = observation
        .attempts
        .iter()
        .filter(|_| observation.attempts.len() > 1)
        .map(|attempt| match attempt.message() {
            Some(message) => format!("tried: {message}"),
            None => format!("tried: {} connected", attempt.address),
        });
    Outcome::error(message)
        .details(each_address)
        .remedy(fix)
        .info(Arc::clone(&observation))
        .evidence(Evidence::Port(Arc::new(ObservedPort {
            peer,
            observation,
            verdict: None,
        })))
}

/// What to do for each way a port can fail, naming the setting involved on whichever side
/// holds it: the gateway (from a leaf), this gateway's edgeHub, its parent, or IoT Hub. Also
/// `connect`'s fix when it cannot reach the gateway.
pub fn remedy(
    error: &ConnectError,
    peer: Peer,
    protocol: Protocol,
    port: u16,
    host: &str,
) -> String {
    // Out of file descriptors here: a limit of this machine, reported with its own fix rather
    // than as the network's fault, whoever's port it was.
    if let ConnectError::LocalLimit { exhaustion, .. } = error {
        return exhaustion.remedy();
    }
    // The proxy could not be reached or would not tunnel: its fix, whoever's port it was.
    if let ConnectError::Proxy { proxy, error, .. } = error {
        return error.remedy(proxy, "");
    }
    match peer {
        Peer::Gateway => gateway_remedy(error, protocol, port),
        Peer::EdgeHub => edgehub_remedy(error, protocol, port),
        Peer::Parent => parent_remedy(error, host, port),
        Peer::IotHub => iothub_remedy(error, protocol, port),
    }
}

/// A leaf device cannot reach its gateway.
fn gateway_remedy(error: &ConnectError, protocol: Protocol, port: u16) -> String {
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
        ConnectError::ConnectFailed { .. }
        | ConnectError::LocalLimit { .. }
        | ConnectError::Proxy { .. } => {
            format!("check the network path to the gateway on port {port}")
        }
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
        ConnectError::Plaintext { service, .. } => plaintext_remedy(service, port),
        ConnectError::Alert { alert, .. } => match crate::identity::certificate_alert_remedy(alert) {
            Some(remedy) => remedy.to_owned(),
            None => "the gateway rejected the handshake: it may require a TLS version or cipher suite this client does not offer (edgeHub accepts TLS 1.2+); see `sudo iotedge logs edgeHub`".to_owned(),
        },
        ConnectError::CertificateTooLarge { .. } => certificate_too_large(),
        ConnectError::Tls { .. } => "see `sudo iotedge logs edgeHub` for the TLS error on the gateway side".to_owned(),
    }
}

/// A plaintext service holds a TLS port: whoever's port it is, the fix is to find it and give
/// the port to edgeHub (or TLS to the service).
fn plaintext_remedy(service: &PlaintextService, port: u16) -> String {
    format!(
        "port {port} is served by {} without TLS, and devices only connect with TLS: find it with `sudo ss -ltnp 'sport = :{port}'`; if it should be edgeHub, stop that service and let edgeHub bind the port; if it is meant to serve devices itself, enable TLS on it (mosquitto: `certfile` and `keyfile` on the listener; nginx: `listen {port} ssl` with `ssl_certificate`)",
        service.service
    )
}

/// The gateway's own edgeHub, checked on loopback, does not serve the port.
fn edgehub_remedy(error: &ConnectError, protocol: Protocol, port: u16) -> String {
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
        ConnectError::Plaintext { service, .. } => plaintext_remedy(service, port),
        ConnectError::NotTls { .. } => format!(
            "port {port} is held by a service that does not speak TLS: stop it so edgeHub can bind the port; {binding}"
        ),
        ConnectError::HandshakeTimeout { .. } => format!(
            "something accepts connections on port {port} but sends no TLS handshake: another service or a proxy holds it, or edgeHub is overloaded (`sudo iotedge logs edgeHub`)"
        ),
        ConnectError::CertificateTooLarge { .. } => certificate_too_large(),
        _ => "see `sudo iotedge logs edgeHub` for the TLS error on edgeHub's side".to_owned(),
    }
}

/// A lower-layer device cannot reach its parent gateway.
fn parent_remedy(error: &ConnectError, parent: &str, port: u16) -> String {
    match error {
        ConnectError::Refused { .. } => format!(
            "nothing listens on {parent}:{port}: check that the parent's edgeHub runs and publishes the port (on 443, the parent's API proxy module)"
        ),
        ConnectError::ConnectTimeout { .. } | ConnectError::Unreachable { .. } => format!(
            "packets to {parent}:{port} are dropped: allow outbound TCP {port} from this device to its parent, and inbound on the parent (network layers of ISA-95 setups often block it)"
        ),
        _ => format!("check the parent's edgeHub logs (`sudo iotedge logs edgeHub` on {parent})"),
    }
}

/// A top-layer gateway cannot reach its IoT hub.
fn iothub_remedy(error: &ConnectError, protocol: Protocol, port: u16) -> String {
    match error {
        ConnectError::ConnectTimeout { .. }
        | ConnectError::Unreachable { .. }
        | ConnectError::Refused { .. } => format!(
            "outbound TCP {port} to IoT Hub is blocked: open it in the firewall, or, if only 443 is allowed, set UpstreamProtocol to {} for edgeAgent and edgeHub (AMQP and MQTT over WebSockets use 443)",
            match protocol {
                Protocol::Mqtt => "MqttWs",
                _ => "AmqpWs",
            }
        ),
        _ => "check the network path to IoT Hub (proxy settings: \"Configure an IoT Edge device to communicate through a proxy server\")".to_owned(),
    }
}

fn certificate_too_large() -> String {
    "make the gateway's Certificate message smaller: send a shorter chain (the server certificate and its intermediates, not the root) and fewer subjectAltNames (edgeHub's server certificate needs only the gateway's hostname)".to_owned()
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::net::local_limits::{DescriptorExhaustion, DescriptorScope};

    #[test]
    fn every_peer_gets_its_own_fix_and_a_local_limit_is_never_the_networks() {
        let endpoint: SocketAddr = "127.0.0.1:8883".parse().unwrap();
        let refused = ConnectError::Refused { endpoint };
        let fixes: Vec<String> = [Peer::Gateway, Peer::EdgeHub, Peer::Parent, Peer::IotHub]
            .into_iter()
            .map(|peer| remedy(&refused, peer, Protocol::Mqtt, 8883, "parent.contoso.com"))
            .collect();
        assert!(
            fixes[0].contains("check that edgeHub is running"),
            "{}",
            fixes[0]
        );
        assert!(
            fixes[1].contains("sudo iotedge logs edgeHub"),
            "{}",
            fixes[1]
        );
        assert!(fixes[2].contains("parent.contoso.com:8883"), "{}", fixes[2]);
        assert!(
            fixes[3].contains("UpstreamProtocol to MqttWs"),
            "{}",
            fixes[3]
        );

        let local = ConnectError::LocalLimit {
            endpoint,
            exhaustion: DescriptorExhaustion {
                scope: DescriptorScope::Process,
                open_files_limit: None,
            },
        };
        for peer in [Peer::Gateway, Peer::EdgeHub, Peer::Parent, Peer::IotHub] {
            let fix = remedy(&local, peer, Protocol::Amqp, 5671, "gw");
            assert!(fix.contains("ulimit -n"), "{fix}");
            assert!(!fix.contains("firewall"), "{fix}");
        }
        assert_eq!(local.kind(), "open_files_limit");
        assert!(
            local
                .to_string()
                .contains("a local limit, not a network or gateway problem")
        );
    }
}
