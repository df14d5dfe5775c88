//! `gateway-protocol-{mqtt,amqp,https}`: behind each TLS port, the protocol itself answers:
//! an MQTT CONNACK, an AMQP 1.0 SASL offer, an HTTP status. One parameterized family, like the
//! connect checks it depends on.
//!
//! The answer is read by the connect check, on its own connection right after the handshake,
//! as a device would speak first thing after TLS: one connection and one handshake per port.
//! This check judges what came back (the observation is plain data, shared by every check of
//! the port). `Requires` on the connect check skips it with the reason when the port is closed.
//! Only `--websocket`'s upgrade, a second request a device makes on a connection of its own,
//! opens another connection.

use super::catalog;
use crate::engine::info::{GatewayProtocolInfo, ProtocolPort};

use crate::engine::{Context, FamilyCheck, OrSkip, Outcome, PortFamily, Prior, Ran};
use crate::net::Protocol;
use crate::net::observation::Observation;
use crate::net::probe::amqp::AmqpError;
use crate::net::probe::http::{self, WebSocketAnswer};
use crate::net::probe::{ProbeAnswer, ProbeError, TransportError, describe_received};
use crate::net::tls::{ConnectRequest, connect};

pub struct GatewayProtocolCheck;

impl FamilyCheck for GatewayProtocolCheck {
    const FAMILY: &'static PortFamily = &catalog::GATEWAY_PROTOCOL;
    async fn run(&self, protocol: Protocol, context: &Context, prior: &Prior) -> Ran {
        let observations = prior.observations();
        let observation = observations
            .iter()
            .find(|observation| observation.protocol == protocol)
            .or_skip("skipped because no TLS connection was made on this port")?;
        Ok(self.judge_answer(protocol, context, observation).await)
    }
}

impl GatewayProtocolCheck {
    async fn judge_answer(
        &self,
        protocol: Protocol,
        context: &Context,
        observation: &Observation,
    ) -> Outcome {
        let Some(session) = observation.session() else {
            return Outcome::skipped("skipped because no TLS connection was made on this port");
        };
        let address = session.handshake.address;
        // The gateway's port (through a proxy, `address` is the proxy's).
        let port = observation.port;
        let label = format!("{} {port}", protocol.display_name());
        let mut info = GatewayProtocolInfo {
            probed: ProtocolPort { protocol, port },
            endpoint: address.to_string(),
            answer: None,
            error: None,
            received: None,
        };
        let answer = match &session.answer {
            Some(Ok(answer)) => answer,
            Some(Err(error)) => {
                info.error = Some(error.kind());
                info.received = Some(describe_received(error.received()));
                return Outcome::error(format!("{label}: after TLS, the server {error}"))
                    .detail(format!("sent: {}", request_summary(protocol)))
                    .remedy(failure_remedy(protocol, error, port))
                    .info(info);
            }
            // The connect check reads the answer whenever this check is scheduled.
            None => {
                return Outcome::skipped(
                    "skipped because the connect check did not read the protocol's answer",
                );
            }
        };
        let mut answer = answer.clone();
        // With `--authenticate` the connection itself made the upgrade (gateway-auth-websocket).
        if let (ProbeAnswer::Https(https), true) = (&mut answer, context.leaf.websocket)
            && https.websocket.is_none()
        {
            https.websocket = Some(probe_websocket(context, observation).await);
        }
        let outcome = match (&answer, &session.identity) {
            // `--authenticate`: the CONNECT carried the device's credentials, so a refusal
            // proves the broker as well as an anonymous one does; `gateway-auth-mqtt` judges it.
            (ProbeAnswer::Mqtt(connack), Some(_)) if matches!(connack.return_code, 0 | 2..=5) => {
                Outcome::ok(format!(
                    "{label}: an MQTT broker answered the device's CONNECT with {}",
                    answer.summary()
                ))
                .detail("the CONNECT carried the device's credentials (--authenticate): see gateway-auth-mqtt for the verdict on them")
            }
            // `--authenticate` on 443: the connection asked for the WebSocket upgrade, not GET /.
            (ProbeAnswer::Https(_), Some(_)) => {
                let mut outcome = judge(&label, &answer);
                outcome.message = outcome.message.replace(
                    "answered GET / with",
                    &format!("answered the WebSocket upgrade to {} with", http::WEBSOCKET_PATH),
                );
                outcome
            }
            _ => judge(&label, &answer),
        };
        info.answer = Some(answer);
        outcome.info(info)
    }
}

/// `--websocket`: the upgrade device SDKs send for MQTT over WebSockets, on its own connection
/// to the address the connect check reached.
async fn probe_websocket(context: &Context, observation: &Observation) -> WebSocketAnswer {
    let Some(session) = observation.session() else {
        return WebSocketAnswer::failed("no TLS connection");
    };
    let address = session.handshake.address;
    let client = match context.shared.tls_client() {
        Ok(client) => client,
        Err(error) => return WebSocketAnswer::failed(error.to_string()),
    };
    let addresses = [address.ip()];
    let request = ConnectRequest {
        protocol: Protocol::Https,
        server_name: &observation.server_name,
        addresses: &addresses,
        port: observation.port,
        timeout: context.leaf.timeout,
        client: &client,
        // The same way as the connect check's connection: through its proxy, if any.
        proxy: context
            .leaf
            .proxy
            .route(&observation.server_name)
            .map(|proxy| proxy.as_ref()),
    };
    let mut connected = match connect(&request).await {
        Ok(connected) => connected,
        Err(error) => return WebSocketAnswer::failed(format!("no TLS connection: {error}")),
    };
    let host = http::host_header(&observation.server_name, observation.port);
    let answer = http::probe_websocket(&mut connected.stream, &host, context.leaf.timeout)
        .await
        .unwrap_or_else(|error| WebSocketAnswer::failed(format!("the server {error}")));
    connected.close().await;
    answer
}

fn request_summary(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Mqtt => "MQTT 3.1.1 CONNECT (clean session, no user name or password)",
        Protocol::Amqp => "AMQP 1.0 SASL protocol header `AMQP 3 1 0 0`",
        Protocol::Https => "HTTP/1.1 GET / with the gateway name as Host",
    }
}

/// The verdict on a complete answer, with the code or mechanisms explained.
fn judge(label: &str, answer: &ProbeAnswer) -> Outcome {
    let summary = answer.summary();
    match answer {
        ProbeAnswer::Mqtt(connack) => match connack.return_code {
            0 => Outcome::ok(format!("{label}: an MQTT broker answered {summary}"))
                .detail("the broker accepts clients without credentials; edgeHub and IoT Hub never do, so make sure this port is served by edgeHub"),
            4 | 5 => Outcome::ok(format!("{label}: an MQTT broker answered {summary}"))
                .detail("a client without credentials is refused, which is what edgeHub and IoT Hub answer: the broker is alive and checks credentials"),
            1 => Outcome::warning(format!("{label}: the broker answered {summary}"))
                .remedy("the broker does not accept MQTT 3.1.1, which IoT device SDKs and edgeHub speak: the port is served by another broker (e.g. one limited to MQTT 5); let edgeHub serve it"),
            2 => Outcome::warning(format!("{label}: the broker answered {summary}"))
                .remedy("the broker rejected the probe's anonymous client id; edgeHub expects the device id as client id, so check with the device itself, and check the broker's client id rules if this is not edgeHub"),
            3 => Outcome::warning(format!("{label}: the broker answered {summary}"))
                .remedy("the MQTT service is up but unavailable: check `sudo iotedge logs edgeHub` (e.g. edgeHub still starting, or not connected to IoT Hub with no offline state yet)"),
            code => Outcome::error(format!("{label}: the server answered {summary}"))
                .remedy(format!("return code {code} is not MQTT 3.1.1: the service on this port is not a compliant MQTT 3.1.1 broker; let edgeHub serve it")),
        },
        ProbeAnswer::Amqp(offer) => {
            // Device SDKs authenticate through CBS after SASL ANONYMOUS (or MSSBCBS in the C
            // SDK); edgeHub registers ANONYMOUS, MSSBCBS and PLAIN (AmqpSettingsProvider.cs).
            let cbs = offer
                .mechanisms
                .iter()
                .any(|name| name == "ANONYMOUS" || name == "MSSBCBS");
            let outcome = format!(
                "{label}: an AMQP 1.0 server answered the SASL header, offering {}",
                offer.mechanisms.join(", ")
            );
            if cbs {
                Outcome::ok(outcome)
            } else {
                Outcome::warning(outcome).remedy("device SDKs start with SASL ANONYMOUS or MSSBCBS and then send a SAS token over CBS; this server offers neither, so it is probably not edgeHub: let edgeHub serve the port")
            }
        }
        ProbeAnswer::Https(https) => {
            let outcome = Outcome::ok(format!("{label}: an HTTP server answered GET / with {summary}"));
            match &https.websocket {
                None => outcome,
                Some(websocket) if websocket.upgraded => outcome.detail(format!(
                    "WebSocket upgrade at {} (subprotocol {}): {}",
                    http::WEBSOCKET_PATH,
                    http::WEBSOCKET_SUBPROTOCOL,
                    websocket.status_line.as_deref().unwrap_or_default()
                )),
                Some(websocket) => {
                    let mut outcome = outcome.detail(format!(
                        "WebSocket upgrade at {} failed: {}",
                        http::WEBSOCKET_PATH,
                        websocket.problem.as_deref().unwrap_or("no reason given")
                    ));
                    outcome.escalate(crate::engine::Status::Warning);
                    outcome.remedy("devices using MQTT over WebSockets (e.g. Mqtt_WebSocket_Only, MQTT_WebSocket_Protocol) cannot connect: edgeHub serves them at /$iothub/websocket on 443; check that port 443 is edgeHub's and not another web server's")
                }
            }
        }
    }
}

/// What to do when the protocol did not answer properly, naming the port and the setting.
fn failure_remedy(protocol: Protocol, error: &ProbeError, port: u16) -> String {
    let owner =
        format!("find what holds the port on the gateway with `sudo ss -ltnp 'sport = :{port}'`");
    let head = match protocol {
        Protocol::Mqtt => "mqttSettings__enabled",
        Protocol::Amqp => "amqpSettings__enabled",
        Protocol::Https => "httpSettings__enabled",
    };
    let service = protocol_name(protocol);
    match (error.transport(), error) {
        (Some(TransportError::Silent { .. } | TransportError::Stalled { .. }), _) => format!(
            "TLS works but the {service} service behind it does not answer: edgeHub is hung or overloaded (`sudo iotedge logs edgeHub`, `sudo iotedge restart edgeHub`), or a TLS proxy forwards to a dead backend; {owner}"
        ),
        (Some(TransportError::Closed { .. } | TransportError::Reset { .. }), _) => format!(
            "the server hung up on a well-formed request: the {service} protocol head may be disabled in edgeHub ({head} must not be false in edgeHub's environment), or another TLS service holds the port; {owner}"
        ),
        // TLS 1.3 servers reject a client certificate (or its absence) after the handshake.
        (Some(TransportError::Tls { detail }), _)
            if let Some((alert, remedy)) = crate::identity::alert_in(detail).and_then(|alert| {
                let remedy = crate::identity::certificate_alert_remedy(&alert)?;
                Some((alert, remedy))
            }) =>
        {
            format!("the gateway sent the TLS alert `{alert}`: {remedy}")
        }
        (Some(TransportError::Tls { .. } | TransportError::Send { .. }), _) => {
            "the TLS session broke after the handshake: check `sudo iotedge logs edgeHub` for errors".to_owned()
        }
        (_, ProbeError::Amqp(AmqpError::OtherProtocol { .. })) => format!(
            "another AMQP broker (e.g. RabbitMQ or a Qpid 0-10 broker) holds the port; edgeHub speaks AMQP 1.0 with SASL: move that broker and let edgeHub bind {port}; {owner}"
        ),
        // Oversized answers and every "not this protocol" finding.
        _ => format!(
            "port {port} is served by something that speaks TLS but not {service}: free the port and let edgeHub bind it (createOptions HostConfig.PortBindings \"{}/tcp\"); {owner}",
            protocol.default_port()
        ),
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Mqtt => "MQTT",
        Protocol::Amqp => "AMQP",
        Protocol::Https => "HTTP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Status;
    use crate::net::probe::amqp::SaslOffer;
    use crate::net::probe::http::{HttpProbe, HttpResponse};
    use crate::net::probe::mqtt::Connack;

    fn status_of(answer: ProbeAnswer) -> Status {
        judge("MQTTS 8883", &answer).status
    }

    #[test]
    fn connack_codes_map_to_the_documented_verdicts() {
        let verdicts: Vec<Status> = (0..=6)
            .map(|code| status_of(ProbeAnswer::Mqtt(Connack::new(false, code))))
            .collect();
        use Status::{Error, Ok, Warning};
        assert_eq!(verdicts, [Ok, Warning, Warning, Warning, Ok, Ok, Error]);
        let outcome = judge("MQTTS 8883", &ProbeAnswer::Mqtt(Connack::new(false, 5)));
        assert_eq!(
            outcome.message,
            "MQTTS 8883: an MQTT broker answered CONNACK 5 (Connection Refused, not authorized)"
        );
        let outcome = judge("MQTTS 8883", &ProbeAnswer::Mqtt(Connack::new(false, 3)));
        assert!(
            outcome
                .remedy
                .is_some_and(|remedy| remedy.contains("iotedge logs edgeHub"))
        );
    }

    #[test]
    fn amqp_without_a_cbs_mechanism_is_a_warning() {
        let offer = |names: &[&str]| {
            ProbeAnswer::Amqp(SaslOffer {
                mechanisms: names.iter().map(|name| (*name).to_owned()).collect(),
            })
        };
        assert_eq!(
            status_of(offer(&["ANONYMOUS", "MSSBCBS", "PLAIN"])),
            Status::Ok
        );
        assert_eq!(status_of(offer(&["MSSBCBS"])), Status::Ok);
        assert_eq!(
            status_of(offer(&["PLAIN", "SCRAM-SHA-256"])),
            Status::Warning
        );
    }

    #[test]
    fn a_refused_websocket_upgrade_is_a_warning_with_the_reason() {
        let response = HttpResponse {
            version: "HTTP/1.1".into(),
            status: 404,
            reason: "Not Found".into(),
            server: None,
            headers: Vec::new(),
        };
        let mut probe = HttpProbe {
            response,
            websocket: None,
        };
        assert_eq!(status_of(ProbeAnswer::Https(probe.clone())), Status::Ok);
        probe.websocket = Some(WebSocketAnswer::failed(
            "the server answered 404 instead of 101 Switching Protocols",
        ));
        let outcome = judge("HTTPS 443", &ProbeAnswer::Https(probe));
        assert_eq!(outcome.status, Status::Warning);
        assert!(
            outcome
                .details
                .iter()
                .any(|line| line.contains("404 instead of 101"))
        );
        assert!(
            outcome
                .remedy
                .is_some_and(|remedy| remedy.contains("/$iothub/websocket"))
        );
    }
}
