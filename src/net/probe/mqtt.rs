//! MQTT 3.1.1 probe: a CONNECT without credentials (section 3.1), the CONNACK it earns
//! (section 3.2), then DISCONNECT (section 3.14). Any CONNACK proves an MQTT broker; its
//! return code says what the broker thinks of an anonymous client.

use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::{ByteStream, TransportError, describe_received, exchange, kept, random_bytes};

/// Keep alive announced in the CONNECT (section 3.1.2.10); the probe never lasts that long.
pub const KEEP_ALIVE_SECONDS: u16 = 30;

/// DISCONNECT: fixed header type 14, no flags, remaining length 0 (section 3.14).
pub const DISCONNECT: [u8; 2] = [0xe0, 0x00];

/// A CONNACK is 4 bytes; a server that sends this much without one is not answering MQTT.
pub const ANSWER_LIMIT: usize = 256;

/// How long the courtesy DISCONNECT may take before the probe gives up on it.
const DISCONNECT_GRACE: Duration = Duration::from_millis(200);

/// A client id every MQTT 3.1.1 server must accept: section 3.1.3.1 only guarantees ids of
/// 1 to 23 characters from `[0-9a-zA-Z]`, so no dash: `edgeprobe` and 14 hex digits. Random,
/// so that two technicians probing at once do not take over each other's session.
pub fn client_id() -> String {
    let random: [u8; 7] = random_bytes();
    let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("edgeprobe{hex}")
}

/// CONNECT for MQTT 3.1.1 (section 3.1): protocol name "MQTT", level 4, only the Clean
/// Session flag (no user name, password or will), keep alive [`KEEP_ALIVE_SECONDS`], and the
/// client id as the whole payload.
pub fn connect_packet(client_id: &str) -> Vec<u8> {
    connect_packet_as(client_id, None)
}

/// What an authenticating CONNECT carries besides the client id: the user name and, unless
/// the client authenticated with its TLS certificate, the password (sections 3.1.2.8-9).
#[derive(Clone, Copy)]
pub struct Login<'a> {
    pub username: &'a str,
    /// Never printed: `Login` has no `Debug`.
    pub password: Option<&'a [u8]>,
}

/// [`connect_packet`] with `login`'s user name and password flags and fields (sections
/// 3.1.2.8, 3.1.2.9, 3.1.3.4, 3.1.3.5), in that order after the client id.
pub fn connect_packet_as(client_id: &str, login: Option<Login<'_>>) -> Vec<u8> {
    let mut flags = 0x02; // Clean Session (section 3.1.2.4)
    let mut payload = Vec::new();
    put_string(&mut payload, client_id.as_bytes());
    if let Some(login) = login {
        flags |= 0x80;
        put_string(&mut payload, login.username.as_bytes());
        if let Some(password) = login.password {
            flags |= 0x40;
            put_string(&mut payload, password);
        }
    }
    let mut variable = Vec::with_capacity(10 + payload.len());
    variable.extend_from_slice(&[0x00, 0x04]);
    variable.extend_from_slice(b"MQTT");
    variable.push(4); // protocol level 4 = 3.1.1 (section 3.1.2.2)
    variable.push(flags);
    variable.extend_from_slice(&KEEP_ALIVE_SECONDS.to_be_bytes());
    variable.extend_from_slice(&payload);
    let mut packet = vec![0x10];
    encode_remaining_length(variable.len(), &mut packet);
    packet.extend_from_slice(&variable);
    packet
}

/// A UTF-8 string or binary field: two length bytes, then the bytes (section 1.5.3), cut at
/// 65,535 bytes rather than mis-encoded.
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let bytes = &bytes[..bytes.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// PUBLISH at QoS 1 (section 3.3): fixed header 0x32, topic, packet identifier, payload.
pub fn publish_packet(topic: &str, packet_id: u16, payload: &[u8]) -> Vec<u8> {
    let mut variable = Vec::with_capacity(4 + topic.len() + payload.len());
    put_string(&mut variable, topic.as_bytes());
    variable.extend_from_slice(&packet_id.to_be_bytes());
    variable.extend_from_slice(payload);
    let mut packet = vec![0x32];
    encode_remaining_length(variable.len(), &mut packet);
    packet.extend_from_slice(&variable);
    packet
}

/// Reads the PUBACK for `packet_id` (section 3.4): `40 02 id`.
pub fn parse_puback(bytes: &[u8], packet_id: u16) -> Result<Option<()>, MqttError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    if first != 0x40 {
        return Err(MqttError::NotPuback {
            received: kept(bytes),
        });
    }
    if bytes.len() < 4 {
        return Ok(None);
    }
    if bytes[1] != 2 || u16::from_be_bytes([bytes[2], bytes[3]]) != packet_id {
        return Err(MqttError::NotPuback {
            received: kept(bytes),
        });
    }
    Ok(Some(()))
}

/// The variable-length "remaining length" of section 2.2.3: 7 bits per byte, low first.
fn encode_remaining_length(mut length: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (length % 128) as u8;
        length /= 128;
        if length > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if length == 0 {
            break;
        }
    }
}

/// A CONNACK as received (section 3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Connack {
    pub session_present: bool,
    pub return_code: u8,
    /// The return code's meaning, as table 3.1 of the specification words it.
    pub meaning: &'static str,
}

impl Connack {
    pub fn new(session_present: bool, return_code: u8) -> Self {
        Connack {
            session_present,
            return_code,
            meaning: return_code_meaning(return_code),
        }
    }
}

/// Table 3.1, "Connect Return code values".
pub fn return_code_meaning(code: u8) -> &'static str {
    match code {
        0 => "Connection Accepted",
        1 => "Connection Refused, unacceptable protocol version",
        2 => "Connection Refused, identifier rejected",
        3 => "Connection Refused, Server unavailable",
        4 => "Connection Refused, bad user name or password",
        5 => "Connection Refused, not authorized",
        _ => "a return code MQTT 3.1.1 does not define (6-255 are reserved)",
    }
}

/// Why no usable CONNACK came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MqttError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("answered {} instead of an MQTT CONNACK", describe_received(received))]
    NotConnack { received: Vec<u8> },
    #[error(
        "sent a malformed CONNACK ({problem}): {}",
        describe_received(received)
    )]
    MalformedConnack {
        problem: &'static str,
        received: Vec<u8>,
    },
    #[error(
        "answered the test message with {} instead of its PUBACK",
        describe_received(received)
    )]
    NotPuback { received: Vec<u8> },
}

impl MqttError {
    pub fn kind(&self) -> &'static str {
        match self {
            MqttError::Transport(error) => error.kind(),
            MqttError::NotConnack { .. } => "not_mqtt",
            MqttError::MalformedConnack { .. } => "malformed_connack",
            MqttError::NotPuback { .. } => "not_puback",
        }
    }

    pub fn received(&self) -> &[u8] {
        match self {
            MqttError::Transport(error) => error.received(),
            MqttError::NotConnack { received }
            | MqttError::MalformedConnack { received, .. }
            | MqttError::NotPuback { received } => received,
        }
    }
}

/// Reads a CONNACK from the start of `bytes`: `Ok(None)` while incomplete. Fails as soon as
/// the bytes cannot be one, so garbage is reported without waiting for the deadline.
pub fn parse_connack(bytes: &[u8]) -> Result<Option<Connack>, MqttError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    // Fixed header: packet type 2, flags 0 (section 3.2.1).
    if first != 0x20 {
        return Err(MqttError::NotConnack {
            received: kept(bytes),
        });
    }
    let Some(&remaining_length) = bytes.get(1) else {
        return Ok(None);
    };
    if remaining_length != 2 {
        return Err(MqttError::MalformedConnack {
            problem: "remaining length is not 2",
            received: kept(bytes),
        });
    }
    let (Some(&flags), Some(&return_code)) = (bytes.get(2), bytes.get(3)) else {
        return Ok(None);
    };
    // Bits 7-1 of the acknowledge flags are reserved and must be 0 (section 3.2.2.1).
    if flags & 0xfe != 0 {
        return Err(MqttError::MalformedConnack {
            problem: "reserved acknowledge flags are set",
            received: kept(bytes),
        });
    }
    Ok(Some(Connack::new(flags & 0x01 == 1, return_code)))
}

/// CONNECT, wait for the CONNACK within `timeout`, then DISCONNECT (best effort: a broker
/// that refused the connection has already closed it, section 3.2.2.3).
pub async fn probe<S: ByteStream>(
    stream: &mut S,
    client_id: &str,
    timeout: Duration,
) -> Result<Connack, MqttError> {
    Ok(authenticate(stream, client_id, None, None, timeout)
        .await?
        .0)
}

/// A test message to publish after CONNACK 0: topic and payload.
#[derive(Clone, Copy)]
pub struct TestMessage<'a> {
    pub topic: &'a str,
    pub payload: &'a [u8],
}

/// The packet identifier of the one test message.
const TEST_MESSAGE_ID: u16 = 1;

/// CONNECT as `client_id` with `login` (none: the anonymous probe), read the CONNACK; after
/// CONNACK 0 and with `message`, PUBLISH it at QoS 1 and wait for its PUBACK (the second
/// result); then DISCONNECT. Each wait has `timeout`.
pub async fn authenticate<S: ByteStream>(
    stream: &mut S,
    client_id: &str,
    login: Option<Login<'_>>,
    message: Option<TestMessage<'_>>,
    timeout: Duration,
) -> Result<(Connack, Option<Result<(), MqttError>>), MqttError> {
    let connect = connect_packet_as(client_id, login);
    let connack = exchange(stream, &connect, ANSWER_LIMIT, timeout, parse_connack).await?;
    let published = match message {
        Some(message) if connack.return_code == 0 => Some(
            exchange(
                stream,
                &publish_packet(message.topic, TEST_MESSAGE_ID, message.payload),
                ANSWER_LIMIT,
                timeout,
                |bytes| parse_puback(bytes, TEST_MESSAGE_ID),
            )
            .await,
        ),
        _ => None,
    };
    disconnect(stream).await;
    Ok((connack, published))
}

async fn disconnect<S: ByteStream>(stream: &mut S) {
    let _ = tokio::time::timeout(DISCONNECT_GRACE, async {
        stream.write_all(&DISCONNECT).await?;
        stream.flush().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn connect_is_mqtt_3_1_1_with_clean_session_and_no_credentials() {
        let packet = connect_packet("edgeprobe0123");
        let mut expected = vec![0x10, 25, 0x00, 0x04, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 30];
        expected.extend_from_slice(&[0x00, 13]);
        expected.extend_from_slice(b"edgeprobe0123");
        assert_eq!(packet, expected);
    }

    #[test]
    fn an_authenticating_connect_carries_user_name_then_password() {
        let login = Login {
            username: "h/d/?api-version=2021-04-12",
            password: Some(b"tok"),
        };
        let packet = connect_packet_as("d", Some(login));
        assert_eq!(
            packet[9], 0xc2,
            "user name, password and clean session flags"
        );
        let mut payload = vec![0, 1, b'd', 0, 27];
        payload.extend_from_slice(b"h/d/?api-version=2021-04-12");
        payload.extend_from_slice(&[0, 3, b't', b'o', b'k']);
        assert!(packet.ends_with(&payload));
        assert_eq!(usize::from(packet[1]), packet.len() - 2);
        let certificate_only = connect_packet_as(
            "d",
            Some(Login {
                password: None,
                ..login
            }),
        );
        assert_eq!(certificate_only[9], 0x82);
        assert!(certificate_only.ends_with(b"h/d/?api-version=2021-04-12"));
    }

    #[test]
    fn publish_is_qos_1_and_only_its_puback_is_accepted() {
        assert_eq!(
            publish_packet("t/x", 1, b"hi"),
            [0x32, 9, 0, 3, b't', b'/', b'x', 0, 1, b'h', b'i']
        );
        assert_eq!(parse_puback(&[0x40, 2, 0], 1), Ok(None));
        assert_eq!(parse_puback(&[0x40, 2, 0, 1], 1), Ok(Some(())));
        assert_eq!(
            parse_puback(&[0x40, 2, 0, 2], 1).unwrap_err().kind(),
            "not_puback"
        );
        assert_eq!(
            parse_puback(&[0xe0, 0], 1).unwrap_err().kind(),
            "not_puback"
        );
    }

    #[test]
    fn client_ids_are_23_alphanumerics_and_differ() {
        let (first, second) = (client_id(), client_id());
        assert_eq!(first.len(), 23);
        assert!(first.starts_with("edgeprobe"));
        assert!(first.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_ne!(first, second);
    }

    #[test]
    fn remaining_length_uses_continuation_bytes() {
        let mut out = Vec::new();
        encode_remaining_length(321, &mut out);
        assert_eq!(out, [0xc1, 0x02]);
        let long_id = "x".repeat(200);
        let packet = connect_packet(&long_id);
        assert_eq!(&packet[..3], &[0x10, 0xd4, 0x01]);
        assert_eq!(packet.len(), 3 + 212);
    }

    #[test]
    fn connack_parses_incrementally() {
        assert_eq!(parse_connack(&[]), Ok(None));
        assert_eq!(parse_connack(&[0x20]), Ok(None));
        assert_eq!(parse_connack(&[0x20, 0x02, 0x00]), Ok(None));
        assert_eq!(
            parse_connack(&[0x20, 0x02, 0x00, 0x05]),
            Ok(Some(Connack::new(false, 5)))
        );
        assert_eq!(
            parse_connack(&[0x20, 0x02, 0x01, 0x00, 0xff]),
            Ok(Some(Connack::new(true, 0)))
        );
        assert_eq!(
            Connack::new(false, 5).meaning,
            "Connection Refused, not authorized"
        );
        assert!(Connack::new(false, 9).meaning.contains("reserved"));
    }

    #[test]
    fn non_mqtt_answers_fail_on_the_first_byte() {
        assert_eq!(
            parse_connack(b"H"),
            Err(MqttError::NotConnack {
                received: b"H".to_vec()
            })
        );
        let error = parse_connack(b"HTTP/1.1 400 Bad Request\r\n").unwrap_err();
        assert_eq!(error.kind(), "not_mqtt");
        assert_eq!(
            error.to_string(),
            "answered `HTTP/1.1 400 Bad Request` instead of an MQTT CONNACK"
        );
        // An MQTT 5 style CONNACK with properties, and reserved flags set.
        assert_eq!(
            parse_connack(&[0x20, 0x03, 0x00, 0x00, 0x00])
                .unwrap_err()
                .kind(),
            "malformed_connack"
        );
        assert_eq!(
            parse_connack(&[0x20, 0x02, 0x80, 0x00]).unwrap_err().kind(),
            "malformed_connack"
        );
    }

    #[tokio::test]
    async fn probe_sends_connect_then_disconnect() {
        let (mut client, mut server) = tokio::io::duplex(256);
        let broker = tokio::spawn(async move {
            let mut connect = vec![0u8; connect_packet("edgeprobe0123").len()];
            server.read_exact(&mut connect).await.unwrap();
            server.write_all(&[0x20, 0x02, 0x00, 0x05]).await.unwrap();
            let mut disconnect = [0u8; 2];
            server.read_exact(&mut disconnect).await.unwrap();
            (connect, disconnect)
        });
        let connack = probe(&mut client, "edgeprobe0123", Duration::from_secs(5)).await;
        assert_eq!(connack, Ok(Connack::new(false, 5)));
        let (connect, disconnect) = broker.await.unwrap();
        assert_eq!(connect, connect_packet("edgeprobe0123"));
        assert_eq!(disconnect, DISCONNECT);
    }
}
