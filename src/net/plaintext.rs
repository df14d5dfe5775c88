//! Naming a plaintext service found on a TLS port: an MQTT broker listening without TLS on
//! 8883, a web server serving plain HTTP on 443. Such a service answers a TLS ClientHello with
//! a reset (mosquitto drops a client whose first packet is not a valid MQTT packet), a close,
//! or its own protocol's error (`HTTP/1.1 400 Bad Request`), all of which also look like a
//! firewall or a broken TLS endpoint. Asking again in plaintext, on a connection of its own,
//! with the protocol's first request (the same probes `gateway-protocol-*` sends over TLS)
//! tells them apart: an answer proves the service and that it does not use TLS.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::Protocol;
use super::probe::{self, ProbeRequest};

/// A service that answered in plaintext where TLS was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaintextService {
    /// `an MQTT broker`, `an AMQP server`, `an HTTP server`.
    pub service: &'static str,
    /// What it answered: `CONNACK 5 (...)`, `` `HTTP/1.1 400 Bad Request` ``.
    pub answer: String,
}

fn service_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Mqtt => "an MQTT broker",
        Protocol::Amqp => "an AMQP server",
        Protocol::Https => "an HTTP server",
    }
}

/// The HTTP status line a web server sent in answer to the ClientHello, if that is what
/// `first_bytes` are (RFC 9112 section 4: `HTTP/1.1 400 Bad Request`).
pub fn http_answer(first_bytes: &[u8]) -> Option<PlaintextService> {
    first_bytes.starts_with(b"HTTP/").then(|| PlaintextService {
        service: service_name(Protocol::Https),
        answer: format!(
            "it answered the TLS ClientHello with {}",
            probe::describe_received(first_bytes)
        ),
    })
}

/// Connects to `endpoint` again without TLS and sends `protocol`'s first request; an answer
/// within `timeout` names the plaintext service.
pub async fn identify(
    protocol: Protocol,
    server_name: &str,
    endpoint: SocketAddr,
    timeout: Duration,
) -> Option<PlaintextService> {
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(endpoint))
        .await
        .ok()?
        .ok()?;
    let request = ProbeRequest {
        protocol,
        server_name,
        port: endpoint.port(),
        timeout,
    };
    let answer = probe::run(&mut stream, &request).await.ok()?;
    Some(PlaintextService {
        service: service_name(protocol),
        answer: format!(
            "a plaintext {} was answered {}",
            match protocol {
                Protocol::Mqtt => "MQTT CONNECT",
                Protocol::Amqp => "AMQP header",
                Protocol::Https => "HTTP GET",
            },
            answer.summary()
        ),
    })
}
