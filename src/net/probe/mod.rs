//! Protocol probes: the first exchange of MQTT, AMQP or HTTP over an established TLS stream,
//! enough to prove that a broker (not just something that terminates TLS) answers on a port,
//! without credentials and without side effects.
//!
//! Each protocol has its own module with typed answers, typed errors carrying what came back,
//! and pure parsing functions over `&[u8]` (`Ok(None)` means "need more bytes"), so that the
//! wire logic can be tested and fuzzed without sockets. [`exchange`] is the one place that does
//! I/O: it writes a request, then reads under a deadline and a byte limit until the parser
//! decides, classifying silence, stalls, closes and resets.

pub mod amqp;
pub mod amqp_auth;
pub mod amqp_codec;
pub mod http;
pub mod mqtt;
pub mod websocket;

use std::io;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Protocol;
use super::tls::format_duration;

/// A stream a probe talks over: a TLS stream to a broker, the demo gateway's side of one, or
/// a duplex pipe in tests.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin {}

impl<S: AsyncRead + AsyncWrite + Unpin> ByteStream for S {}

/// The most of a peer's answer kept for messages and JSON: enough to recognise it.
pub const RECEIVED_KEPT: usize = 64;

/// Why an exchange ended without an answer the parser could judge. Each variant keeps the
/// first bytes that did come back (at most [`RECEIVED_KEPT`]). Messages read after "the server"
/// ("the server sent no answer within 5 s").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("sent no answer within {}", format_duration(*timeout))]
    Silent { timeout: Duration },
    #[error(
        "answered {} and then nothing more within {}",
        describe_received(received),
        format_duration(*timeout)
    )]
    Stalled {
        timeout: Duration,
        received: Vec<u8>,
    },
    #[error("closed the connection {}", after(received))]
    Closed { received: Vec<u8> },
    #[error("reset the connection {}", after(received))]
    Reset { received: Vec<u8> },
    #[error(
        "sent more than {limit} bytes without a complete answer, starting with {}",
        describe_received(received)
    )]
    Oversized { limit: usize, received: Vec<u8> },
    #[error("broke the TLS session after the handshake: {detail}")]
    Tls { detail: String },
    #[error("did not take the request: {detail}")]
    Send { detail: String },
}

fn after(received: &[u8]) -> String {
    if received.is_empty() {
        "without answering".to_owned()
    } else {
        format!("after sending only {}", describe_received(received))
    }
}

impl TransportError {
    /// A short stable name for JSON (`additional_info.error`).
    pub fn kind(&self) -> &'static str {
        match self {
            TransportError::Silent { .. } => "no_answer",
            TransportError::Stalled { .. } => "stalled",
            TransportError::Closed { .. } => "closed",
            TransportError::Reset { .. } => "reset",
            TransportError::Oversized { .. } => "oversized",
            TransportError::Tls { .. } => "tls_error",
            TransportError::Send { .. } => "send_failed",
        }
    }

    /// The bytes that came back before the exchange ended, if any.
    pub fn received(&self) -> &[u8] {
        match self {
            TransportError::Stalled { received, .. }
            | TransportError::Closed { received }
            | TransportError::Reset { received }
            | TransportError::Oversized { received, .. } => received,
            TransportError::Silent { .. }
            | TransportError::Tls { .. }
            | TransportError::Send { .. } => &[],
        }
    }
}

/// The first [`RECEIVED_KEPT`] bytes, for an error to carry.
pub fn kept(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len().min(RECEIVED_KEPT)].to_vec()
}

/// What came back, printable: its first line in backticks when it is text
/// (`` `HTTP/1.1 400 Bad Request` ``), otherwise the first bytes in hex.
pub fn describe_received(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing".to_owned();
    }
    let first_line = bytes
        .split(|byte| *byte == b'\n')
        .next()
        .unwrap_or_default();
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    let printable = !first_line.is_empty()
        && first_line
            .iter()
            .all(|byte| byte.is_ascii_graphic() || *byte == b' ');
    if printable {
        let text: String = String::from_utf8_lossy(first_line)
            .chars()
            .take(48)
            .collect();
        format!("`{text}`")
    } else {
        let hex: Vec<String> = bytes
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let more = if bytes.len() > 16 { " ..." } else { "" };
        format!("bytes {}{more}", hex.join(" "))
    }
}

/// Writes `request`, then reads until `parse` gives a verdict, all within `timeout` and never
/// buffering more than `limit` bytes. `parse` sees everything received so far and returns
/// `Ok(None)` while the answer is incomplete.
pub async fn exchange<S: ByteStream, T, E>(
    stream: &mut S,
    request: &[u8],
    limit: usize,
    timeout: Duration,
    parse: impl Fn(&[u8]) -> Result<Option<T>, E>,
) -> Result<T, E>
where
    E: From<TransportError>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut received = Vec::new();
    let outcome = tokio::time::timeout_at(deadline, async {
        if let Err(error) = write_request(stream, request).await {
            return Err(E::from(classify(&error, &received, Side::Send)));
        }
        let mut chunk = [0u8; 1024];
        loop {
            let room = limit.saturating_sub(received.len()).min(chunk.len());
            if room == 0 {
                return Err(E::from(TransportError::Oversized {
                    limit,
                    received: kept(&received),
                }));
            }
            match stream.read(&mut chunk[..room]).await {
                Ok(0) => {
                    return Err(E::from(TransportError::Closed {
                        received: kept(&received),
                    }));
                }
                Ok(read) => {
                    received.extend_from_slice(&chunk[..read]);
                    if let Some(answer) = parse(&received)? {
                        return Ok(answer);
                    }
                }
                Err(error) => return Err(E::from(classify(&error, &received, Side::Receive))),
            }
        }
    })
    .await;
    match outcome {
        Ok(result) => result,
        Err(_elapsed) if received.is_empty() => Err(E::from(TransportError::Silent { timeout })),
        Err(_elapsed) => Err(E::from(TransportError::Stalled {
            timeout,
            received: kept(&received),
        })),
    }
}

async fn write_request<S: AsyncWrite + Unpin>(stream: &mut S, request: &[u8]) -> io::Result<()> {
    stream.write_all(request).await?;
    stream.flush().await
}

#[derive(Clone, Copy)]
enum Side {
    Send,
    Receive,
}

fn classify(error: &io::Error, received: &[u8], side: Side) -> TransportError {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TransportError::Reset {
            received: kept(received),
        },
        // rustls reports a TCP close without close_notify (RFC 8446 §6.1) this way: for a
        // diagnosis it is the same finding as a clean close.
        io::ErrorKind::UnexpectedEof => TransportError::Closed {
            received: kept(received),
        },
        // Everything rustls rejects after the handshake (a fatal alert, a record that does not
        // decrypt) surfaces as InvalidData.
        io::ErrorKind::InvalidData => TransportError::Tls {
            detail: error.to_string(),
        },
        _ => match side {
            Side::Send => TransportError::Send {
                detail: error.to_string(),
            },
            Side::Receive => TransportError::Tls {
                detail: error.to_string(),
            },
        },
    }
}

/// One probe's answer, whichever protocol, for checks, `connect --probe` and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum ProbeAnswer {
    Mqtt(mqtt::Connack),
    Amqp(amqp::SaslOffer),
    Https(http::HttpProbe),
}

impl ProbeAnswer {
    /// One line saying what came back: `CONNACK 5 (Connection Refused, not authorized)`,
    /// `SASL mechanisms: ANONYMOUS, MSSBCBS, PLAIN`, `HTTP/1.1 404 Not Found (Server: nginx)`.
    pub fn summary(&self) -> String {
        match self {
            ProbeAnswer::Mqtt(connack) => {
                format!("CONNACK {} ({})", connack.return_code, connack.meaning)
            }
            ProbeAnswer::Amqp(offer) => {
                format!("SASL mechanisms: {}", offer.mechanisms.join(", "))
            }
            ProbeAnswer::Https(probe) => match &probe.response.server {
                Some(server) => format!("{} (Server: {server})", probe.response.status_line()),
                None => probe.response.status_line(),
            },
        }
    }
}

/// One probe's failure, whichever protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Mqtt(#[from] mqtt::MqttError),
    #[error(transparent)]
    Amqp(#[from] amqp::AmqpError),
    #[error(transparent)]
    Http(#[from] http::HttpError),
}

impl ProbeError {
    /// A short stable name for JSON (`no_answer`, `not_mqtt`, `other_protocol`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeError::Mqtt(error) => error.kind(),
            ProbeError::Amqp(error) => error.kind(),
            ProbeError::Http(error) => error.kind(),
        }
    }

    /// The transport-level failure, when the protocol itself was never judged.
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            ProbeError::Mqtt(mqtt::MqttError::Transport(error))
            | ProbeError::Amqp(amqp::AmqpError::Transport(error))
            | ProbeError::Http(http::HttpError::Transport(error)) => Some(error),
            _ => None,
        }
    }

    /// The first bytes the server sent, if any.
    pub fn received(&self) -> &[u8] {
        match self {
            ProbeError::Mqtt(error) => error.received(),
            ProbeError::Amqp(error) => error.received(),
            ProbeError::Http(error) => error.received(),
        }
    }
}

/// What the probe for a protocol needs to know besides the stream.
#[derive(Debug, Clone)]
pub struct ProbeRequest<'a> {
    pub protocol: Protocol,
    /// The name the device dials, for HTTP's Host header.
    pub server_name: &'a str,
    pub port: u16,
    /// Deadline for the whole exchange: request sent and answer read.
    pub timeout: Duration,
}

/// Runs the probe for `request.protocol` on an established TLS stream.
pub async fn run<S: ByteStream>(
    stream: &mut S,
    request: &ProbeRequest<'_>,
) -> Result<ProbeAnswer, ProbeError> {
    Ok(match request.protocol {
        Protocol::Mqtt => {
            ProbeAnswer::Mqtt(mqtt::probe(stream, &mqtt::client_id(), request.timeout).await?)
        }
        Protocol::Amqp => ProbeAnswer::Amqp(amqp::probe(stream, request.timeout).await?),
        Protocol::Https => {
            let host = http::host_header(request.server_name, request.port);
            ProbeAnswer::Https(http::probe(stream, &host, request.timeout).await?)
        }
    })
}

/// Random bytes from the system's generator, for MQTT client ids and WebSocket keys. Neither
/// is a secret, so a failing generator falls back to the clock rather than failing the probe.
fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default()
            ^ u128::from(std::process::id());
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = (nanos >> ((index % 16) * 8)) as u8;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(bytes: &[u8]) -> Result<Option<Vec<u8>>, TransportError> {
        Ok(bytes
            .iter()
            .position(|byte| *byte == b'\n')
            .map(|end| bytes[..end].to_vec()))
    }

    #[tokio::test]
    async fn exchange_returns_the_parsed_answer_across_several_reads() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let serve = tokio::spawn(async move {
            let mut request = [0u8; 4];
            server.read_exact(&mut request).await.unwrap();
            assert_eq!(&request, b"ping");
            server.write_all(b"po").await.unwrap();
            server.flush().await.unwrap();
            server.write_all(b"ng\nrest").await.unwrap();
            server
        });
        let answer = exchange(&mut client, b"ping", 64, Duration::from_secs(5), parse_line).await;
        assert_eq!(answer, Ok(b"pong".to_vec()));
        drop(serve.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn silence_and_stalls_end_at_the_deadline() {
        let (mut client, server) = tokio::io::duplex(64);
        let timeout = Duration::from_secs(3);
        let answer = exchange(&mut client, b"ping", 64, timeout, parse_line).await;
        assert_eq!(answer, Err(TransportError::Silent { timeout }));

        let (mut client, mut stalled) = tokio::io::duplex(64);
        stalled.write_all(b"half an answer").await.unwrap();
        let answer = exchange(&mut client, b"ping", 64, timeout, parse_line).await;
        assert_eq!(
            answer,
            Err(TransportError::Stalled {
                timeout,
                received: b"half an answer".to_vec()
            })
        );
        drop((server, stalled));
    }

    #[tokio::test]
    async fn close_and_oversized_answers_keep_what_came_back() {
        let (mut client, mut server) = tokio::io::duplex(256);
        server.write_all(b"bye").await.unwrap();
        drop(server);
        let answer = exchange(&mut client, b"", 64, Duration::from_secs(5), parse_line).await;
        assert_eq!(
            answer,
            Err(TransportError::Closed {
                received: b"bye".to_vec()
            })
        );

        let (mut client, mut server) = tokio::io::duplex(256);
        server.write_all(&[b'x'; 200]).await.unwrap();
        let answer = exchange(&mut client, b"", 100, Duration::from_secs(5), parse_line).await;
        match answer {
            Err(TransportError::Oversized { limit, received }) => {
                assert_eq!(limit, 100);
                assert_eq!(received.len(), RECEIVED_KEPT);
            }
            other => panic!("expected Oversized, got {other:?}"),
        }
    }

    #[test]
    fn received_bytes_are_shown_as_text_or_hex() {
        assert_eq!(describe_received(b""), "nothing");
        assert_eq!(
            describe_received(b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n"),
            "`HTTP/1.1 400 Bad Request`"
        );
        assert_eq!(describe_received(&[0x20, 0x02]), "bytes 20 02");
        assert_eq!(
            describe_received(&[0xff; 20]),
            "bytes ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ..."
        );
    }
}
