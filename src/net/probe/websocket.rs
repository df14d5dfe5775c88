//! MQTT over WebSockets as the device SDKs speak it to `/$iothub/websocket` (subprotocol
//! `mqtt`): the opening handshake of [`super::http`], then MQTT packets in binary frames (RFC
//! 6455 section 5), the client's masked (section 5.3), the server's not. Only what one CONNECT
//! and its CONNACK need: binary, continuation and close frames; pings are skipped.

use std::time::Duration;

use super::http::{self, HttpError, HttpResponse, WebSocketAnswer};
use super::mqtt::{self, Connack, Login, MqttError};
use super::{ByteStream, TransportError, exchange, kept, random_bytes, write_request};

/// Opcodes (RFC 6455 section 5.2).
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xa;

/// The most read while waiting for the CONNACK: a few small frames.
const ANSWER_LIMIT: usize = 1024;

const CLOSE_GRACE: Duration = Duration::from_millis(200);

/// One client frame: FIN, `opcode`, masked with `mask` (RFC 6455 sections 5.2-5.3).
pub fn client_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        length @ 0..=125 => frame.push(0x80 | length as u8),
        length @ 126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(length as u16).to_be_bytes());
        }
        length => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(length as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(
        payload
            .iter()
            .enumerate()
            .map(|(index, byte)| byte ^ mask[index % 4]),
    );
    frame
}

/// What the frames so far carry: the bytes of the binary frames, in order (masked or not: the
/// simulator reads a client's with it), and whether a close frame ended them. A frame still
/// incomplete is left out.
pub fn frames_payload(mut bytes: &[u8]) -> Result<(Vec<u8>, bool), MqttError> {
    let mut payload = Vec::new();
    let not_mqtt = |all: &[u8]| MqttError::NotConnack {
        received: kept(all),
    };
    let all = bytes;
    while let [first, second, rest @ ..] = bytes {
        let opcode = first & 0x0f;
        let masked = second & 0x80 != 0;
        let (length, rest) = match second & 0x7f {
            126 => match rest.split_first_chunk::<2>() {
                Some((length, rest)) => (u64::from(u16::from_be_bytes(*length)), rest),
                None => break,
            },
            127 => match rest.split_first_chunk::<8>() {
                Some((length, rest)) => (u64::from_be_bytes(*length), rest),
                None => break,
            },
            length => (u64::from(length), rest),
        };
        let (mask, rest) = if masked {
            match rest.split_first_chunk::<4>() {
                Some((mask, rest)) => (Some(*mask), rest),
                None => break,
            }
        } else {
            (None, rest)
        };
        if length > ANSWER_LIMIT as u64 {
            return Err(not_mqtt(all));
        }
        let Some((body, rest)) = rest.split_at_checked(length as usize) else {
            break;
        };
        let body: Vec<u8> = match mask {
            Some(mask) => body
                .iter()
                .enumerate()
                .map(|(index, byte)| byte ^ mask[index % 4])
                .collect(),
            None => body.to_vec(),
        };
        match opcode {
            BINARY | CONTINUATION => payload.extend_from_slice(&body),
            CLOSE => return Ok((payload, true)),
            PING | PONG => {}
            TEXT => return Err(not_mqtt(all)),
            _ => return Err(not_mqtt(all)),
        }
        bytes = rest;
    }
    Ok((payload, false))
}

/// Reads a CONNACK out of the server's WebSocket frames: `Ok(None)` while incomplete.
pub fn parse_framed_connack(bytes: &[u8]) -> Result<Option<Connack>, MqttError> {
    let (payload, closed) = frames_payload(bytes)?;
    match mqtt::parse_connack(&payload)? {
        Some(connack) => Ok(Some(connack)),
        None if closed => Err(MqttError::Transport(TransportError::Closed {
            received: kept(bytes),
        })),
        None => Ok(None),
    }
}

/// What the WebSocket path answered: the upgrade's response and verdict, and after a good
/// upgrade the CONNACK (or why none came).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketLogin {
    pub response: HttpResponse,
    pub upgrade: WebSocketAnswer,
    pub connack: Option<Result<Connack, MqttError>>,
}

/// The upgrade to `/$iothub/websocket`, then CONNECT as `client_id` with `login` in a binary
/// frame and the CONNACK; then DISCONNECT and a close frame. Each wait has `timeout`.
pub async fn authenticate<S: ByteStream>(
    stream: &mut S,
    host: &str,
    client_id: &str,
    login: Login<'_>,
    timeout: Duration,
) -> Result<WebSocketLogin, HttpError> {
    let key = http::websocket_key();
    let response =
        http::send_request(stream, &http::websocket_request(host, &key), timeout).await?;
    let upgrade = http::judge_upgrade(&response, &key);
    if !upgrade.upgraded {
        return Ok(WebSocketLogin {
            response,
            upgrade,
            connack: None,
        });
    }
    let connect = client_frame(
        BINARY,
        &mqtt::connect_packet_as(client_id, Some(login)),
        random_bytes(),
    );
    let connack = exchange(
        stream,
        &connect,
        ANSWER_LIMIT,
        timeout,
        parse_framed_connack,
    )
    .await;
    let mut goodbye = client_frame(BINARY, &mqtt::DISCONNECT, random_bytes());
    // Close with status 1000, normal closure (RFC 6455 section 7.4.1).
    goodbye.extend(client_frame(CLOSE, &1000u16.to_be_bytes(), random_bytes()));
    let _ = tokio::time::timeout(CLOSE_GRACE, write_request(stream, &goodbye)).await;
    Ok(WebSocketLogin {
        response,
        upgrade,
        connack: Some(connack),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_masked_as_rfc_6455_section_5_7_shows() {
        // Section 5.7: a masked "Hello" with mask 37 fa 21 3d.
        assert_eq!(
            client_frame(TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d]),
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        let long = client_frame(BINARY, &[0; 300], [0; 4]);
        assert_eq!(&long[..4], &[0x82, 0x80 | 126, 0x01, 0x2c]);
        assert_eq!(long.len(), 4 + 4 + 300);
    }

    #[test]
    fn a_connack_is_read_across_frames_and_a_close_is_not_one() {
        assert_eq!(parse_framed_connack(&[]), Ok(None));
        assert_eq!(parse_framed_connack(&[0x82, 4, 0x20, 2]), Ok(None));
        assert_eq!(
            parse_framed_connack(&[0x82, 4, 0x20, 2, 0, 4]),
            Ok(Some(Connack::new(false, 4)))
        );
        // Split over a binary and a continuation frame, after a ping.
        assert_eq!(
            parse_framed_connack(&[0x89, 0, 0x02, 2, 0x20, 2, 0x80, 2, 0, 0]),
            Ok(Some(Connack::new(false, 0)))
        );
        let closed = parse_framed_connack(&[0x88, 2, 0x03, 0xe8]).unwrap_err();
        assert_eq!(closed.kind(), "closed");
        assert_eq!(
            parse_framed_connack(&[0x81, 2, b'h', b'i'])
                .unwrap_err()
                .kind(),
            "not_mqtt"
        );
        assert_eq!(
            parse_framed_connack(&[0x82, 127, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
                .unwrap_err()
                .kind(),
            "not_mqtt"
        );
        // Every single-byte answer and prefix is handled without a panic.
        for first in 0..=255u8 {
            for second in [0, 1, 2, 125, 126, 127, 0x80, 0xfe, 0xff] {
                let _ = parse_framed_connack(&[first, second, 0x20, 2, 0, 0]);
            }
        }
    }
}
