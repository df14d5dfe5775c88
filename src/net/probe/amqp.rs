//! AMQP 1.0 probe: send the SASL protocol header, expect it echoed and a `sasl-mechanisms`
//! frame listing what the server accepts (OASIS AMQP 1.0 sections 2.2, 2.3 and 5.3). Nothing
//! is authenticated: the probe stops before `sasl-init`.

use std::time::Duration;

use serde::Serialize;

use super::{ByteStream, TransportError, describe_received, exchange, kept};

/// The SASL protocol header, section 5.3.1: "AMQP", protocol id 3, version 1.0.0.
pub const SASL_HEADER: [u8; 8] = *b"AMQP\x03\x01\x00\x00";

/// Frame type of SASL frames (section 5.3.1); 0x00 are AMQP frames (section 2.3.2).
const SASL_FRAME_TYPE: u8 = 0x01;

/// The largest sasl-mechanisms frame accepted. Section 5.3.1 caps SASL frames at
/// MIN-MAX-FRAME-SIZE (512 bytes) unless both sides agree otherwise before SASL; edgeHub's
/// own SASL layer allows 64 KiB, but a list of mechanism names never needs more than this.
pub const MAX_FRAME_SIZE: usize = 4096;

/// The header plus one frame: nothing longer can be a valid answer.
pub const ANSWER_LIMIT: usize = SASL_HEADER.len() + MAX_FRAME_SIZE;

/// Descriptor code of sasl-mechanisms (section 5.3.3.1): 0x00000000:0x00000040.
const SASL_MECHANISMS_CODE: u64 = 0x40;
const SASL_MECHANISMS_NAME: &[u8] = b"amqp:sasl-mechanisms:list";

/// A protocol header as a server sent it: the four bytes after "AMQP" (section 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProtocolHeader {
    pub protocol_id: u8,
    pub major: u8,
    pub minor: u8,
    pub revision: u8,
}

impl ProtocolHeader {
    pub(crate) fn from_bytes(bytes: [u8; 4]) -> Self {
        let [protocol_id, major, minor, revision] = bytes;
        ProtocolHeader {
            protocol_id,
            major,
            minor,
            revision,
        }
    }

    /// The protocol a header announces. AMQP 0-x brokers (RabbitMQ, Qpid's 0-10 broker)
    /// answer a header they do not support with their own, as AMQP 0-9-1 section 4.2.2 asks.
    pub fn protocol_name(&self) -> String {
        match (self.protocol_id, self.major, self.minor, self.revision) {
            (0, 1, 0, 0) => "AMQP 1.0 without SASL".to_owned(),
            (2, 1, 0, 0) => "AMQP 1.0 with a TLS upgrade (protocol id 2)".to_owned(),
            (3, 1, 0, 0) => "AMQP 1.0 with SASL".to_owned(),
            (0, 0, 9, 1) | (1, 1, 9, 1) => "AMQP 0-9-1".to_owned(),
            (1, 1, 0, 9) => "AMQP 0-9".to_owned(),
            (1, 1, 8, 0) => "AMQP 0-8".to_owned(),
            (1, 1, 0, 10) => "AMQP 0-10".to_owned(),
            (id, major, minor, revision) => {
                format!("an unknown AMQP version (header `AMQP {id} {major} {minor} {revision}`)")
            }
        }
    }
}

impl std::fmt::Display for ProtocolHeader {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "AMQP {} {} {} {}",
            self.protocol_id, self.major, self.minor, self.revision
        )
    }
}

/// What a healthy AMQP 1.0 server answered: the SASL mechanisms it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SaslOffer {
    pub mechanisms: Vec<String>,
}

/// Why the answer was not an AMQP 1.0 SASL offer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmqpError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(
        "answered {} instead of an AMQP protocol header",
        describe_received(received)
    )]
    NotAmqp { received: Vec<u8> },
    #[error(
        "speaks {}, not AMQP 1.0 with SASL: it answered the SASL header with `{header}`",
        header.protocol_name()
    )]
    OtherProtocol {
        header: ProtocolHeader,
        received: Vec<u8>,
    },
    #[error("sent an AMQP frame of type {frame_type:#04x} instead of a SASL frame")]
    NotSaslFrame { frame_type: u8, received: Vec<u8> },
    #[error("sent {performative} instead of sasl-mechanisms")]
    UnexpectedPerformative {
        performative: String,
        received: Vec<u8>,
    },
    #[error(
        "announced a {size}-byte SASL frame, more than the {limit} bytes a mechanism list needs"
    )]
    FrameTooLarge {
        size: u32,
        limit: usize,
        received: Vec<u8>,
    },
    #[error(
        "sent a malformed sasl-mechanisms frame ({problem}): {}",
        describe_received(received)
    )]
    Malformed {
        problem: &'static str,
        received: Vec<u8>,
    },
    /// Authenticating (`probe::amqp_auth`): no mechanism a device SDK would use is offered.
    #[error(
        "offers the SASL mechanisms {} but not {usable}, which a device uses",
        offered.join(", ")
    )]
    NoUsableMechanism {
        offered: Vec<String>,
        usable: String,
    },
    #[error(
        "sent a malformed AMQP frame ({problem}): {}",
        describe_received(received)
    )]
    MalformedFrame {
        problem: &'static str,
        received: Vec<u8>,
    },
    #[error("sent {performative} where {expected} was due")]
    OutOfOrder {
        expected: &'static str,
        performative: String,
        received: Vec<u8>,
    },
}

impl AmqpError {
    pub fn kind(&self) -> &'static str {
        match self {
            AmqpError::Transport(error) => error.kind(),
            AmqpError::NotAmqp { .. } => "not_amqp",
            AmqpError::OtherProtocol { .. } => "other_protocol",
            AmqpError::NotSaslFrame { .. } => "not_sasl_frame",
            AmqpError::UnexpectedPerformative { .. } => "unexpected_performative",
            AmqpError::FrameTooLarge { .. } => "frame_too_large",
            AmqpError::Malformed { .. } | AmqpError::MalformedFrame { .. } => "malformed_frame",
            AmqpError::NoUsableMechanism { .. } => "no_usable_mechanism",
            AmqpError::OutOfOrder { .. } => "unexpected_performative",
        }
    }

    pub fn received(&self) -> &[u8] {
        match self {
            AmqpError::Transport(error) => error.received(),
            AmqpError::NotAmqp { received }
            | AmqpError::OtherProtocol { received, .. }
            | AmqpError::NotSaslFrame { received, .. }
            | AmqpError::UnexpectedPerformative { received, .. }
            | AmqpError::FrameTooLarge { received, .. }
            | AmqpError::Malformed { received, .. }
            | AmqpError::MalformedFrame { received, .. }
            | AmqpError::OutOfOrder { received, .. } => received,
            AmqpError::NoUsableMechanism { .. } => &[],
        }
    }
}

/// Reads the server's answer to [`SASL_HEADER`]: its protocol header, then one SASL frame.
/// `Ok(None)` while incomplete; fails as soon as the bytes cannot be a valid answer.
pub fn parse_answer(bytes: &[u8]) -> Result<Option<SaslOffer>, AmqpError> {
    let magic_seen = bytes.len().min(4);
    if bytes[..magic_seen] != b"AMQP"[..magic_seen] {
        return Err(AmqpError::NotAmqp {
            received: kept(bytes),
        });
    }
    let Some(header) = bytes.get(4..8) else {
        return Ok(None);
    };
    if header != &SASL_HEADER[4..] {
        let header = ProtocolHeader::from_bytes([header[0], header[1], header[2], header[3]]);
        return Err(AmqpError::OtherProtocol {
            header,
            received: kept(bytes),
        });
    }
    parse_sasl_mechanisms_frame(&bytes[8..]).map_err(|error| match error {
        // Keep the whole answer, header included, for the message.
        AmqpError::Malformed { problem, .. } => AmqpError::Malformed {
            problem,
            received: kept(bytes),
        },
        other => other,
    })
}

/// Reads one SASL frame (section 2.3: SIZE, DOFF, TYPE, two type-specific bytes, then the
/// body at DOFF * 4) holding sasl-mechanisms. `Ok(None)` while incomplete.
pub fn parse_sasl_mechanisms_frame(bytes: &[u8]) -> Result<Option<SaslOffer>, AmqpError> {
    let malformed = |problem| AmqpError::Malformed {
        problem,
        received: kept(bytes),
    };
    let Some(size) = bytes
        .first_chunk::<4>()
        .map(|size| u32::from_be_bytes(*size))
    else {
        return Ok(None);
    };
    if size < 8 {
        return Err(malformed("frame size below the 8-byte frame header"));
    }
    if size as usize > MAX_FRAME_SIZE {
        return Err(AmqpError::FrameTooLarge {
            size,
            limit: MAX_FRAME_SIZE,
            received: kept(bytes),
        });
    }
    let (Some(&data_offset), Some(&frame_type)) = (bytes.get(4), bytes.get(5)) else {
        return Ok(None);
    };
    if frame_type != SASL_FRAME_TYPE {
        return Err(AmqpError::NotSaslFrame {
            frame_type,
            received: kept(bytes),
        });
    }
    let body_start = usize::from(data_offset) * 4;
    if data_offset < 2 || body_start > size as usize {
        return Err(malformed("data offset outside the frame"));
    }
    let Some(body) = bytes.get(body_start..size as usize) else {
        return Ok(None);
    };
    match decode_sasl_mechanisms(body) {
        Ok(mechanisms) => Ok(Some(SaslOffer { mechanisms })),
        Err(Decode::Malformed(problem)) => Err(malformed(problem)),
        Err(Decode::Other(performative)) => Err(AmqpError::UnexpectedPerformative {
            performative,
            received: kept(bytes),
        }),
    }
}

enum Decode {
    Malformed(&'static str),
    /// A well-formed SASL body that is not sasl-mechanisms, named.
    Other(String),
}

/// A bounds-checked reader over a frame body: every read fails instead of running past it.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], Decode> {
        if count > self.bytes.len() {
            return Err(Decode::Malformed("value runs past the end of the frame"));
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, Decode> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Decode> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, Decode> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_be_bytes(array))
    }

    /// A length given as u32, as a usize no larger than what is left.
    fn length32(&mut self) -> Result<usize, Decode> {
        let length = self.u32()? as usize;
        if length > self.bytes.len() {
            return Err(Decode::Malformed("length runs past the end of the frame"));
        }
        Ok(length)
    }
}

/// The descriptor of a described type (section 1.5), numeric or symbolic.
enum Descriptor<'a> {
    Code(u64),
    Symbol(&'a [u8]),
}

/// Decodes the body of a sasl-mechanisms frame: the described list of section 5.3.3.1 whose
/// first field, `sasl-server-mechanisms`, is a symbol or an array of symbols (type encodings
/// of section 1.6).
fn decode_sasl_mechanisms(body: &[u8]) -> Result<Vec<String>, Decode> {
    let mut cursor = Cursor { bytes: body };
    if cursor.byte()? != 0x00 {
        return Err(Decode::Malformed("the body is not a described type"));
    }
    let descriptor = match cursor.byte()? {
        0x53 => Descriptor::Code(u64::from(cursor.byte()?)), // smallulong
        0x80 => Descriptor::Code(cursor.u64()?),             // ulong
        0x44 => Descriptor::Code(0),                         // ulong0
        0xa3 => {
            let length = usize::from(cursor.byte()?);
            Descriptor::Symbol(cursor.take(length)?) // sym8
        }
        0xb3 => {
            let length = cursor.length32()?;
            Descriptor::Symbol(cursor.take(length)?) // sym32
        }
        _ => {
            return Err(Decode::Malformed(
                "the descriptor is not a ulong or a symbol",
            ));
        }
    };
    match descriptor {
        Descriptor::Code(SASL_MECHANISMS_CODE) => {}
        Descriptor::Symbol(SASL_MECHANISMS_NAME) => {}
        Descriptor::Code(code) => return Err(Decode::Other(performative_name(code))),
        Descriptor::Symbol(name) => {
            return Err(Decode::Other(format!(
                "`{}`",
                String::from_utf8_lossy(name)
                    .chars()
                    .take(48)
                    .collect::<String>()
            )));
        }
    }
    let field_count = match cursor.byte()? {
        0x45 => 0, // list0
        0xc0 => {
            let _size = cursor.byte()?;
            usize::from(cursor.byte()?) // list8
        }
        0xd0 => {
            let _size = cursor.u32()?;
            cursor.u32()? as usize // list32
        }
        _ => return Err(Decode::Malformed("the performative is not a list")),
    };
    if field_count == 0 {
        return Err(Decode::Malformed("the mandatory mechanism list is missing"));
    }
    match cursor.byte()? {
        0x40 => Err(Decode::Malformed("the mandatory mechanism list is null")),
        constructor @ (0xa3 | 0xb3) => Ok(vec![symbol(&mut cursor, constructor)?]),
        0xe0 => {
            let _size = cursor.byte()?;
            let count = usize::from(cursor.byte()?);
            symbol_array(&mut cursor, count) // array8
        }
        0xf0 => {
            let _size = cursor.u32()?;
            let count = cursor.u32()? as usize;
            symbol_array(&mut cursor, count) // array32
        }
        _ => Err(Decode::Malformed("the mechanisms are not symbols")),
    }
}

/// An array's elements share one constructor, given once before them (section 1.6.24).
fn symbol_array(cursor: &mut Cursor<'_>, count: usize) -> Result<Vec<String>, Decode> {
    let constructor = cursor.byte()?;
    if !matches!(constructor, 0xa3 | 0xb3) {
        return Err(Decode::Malformed(
            "the mechanism array does not hold symbols",
        ));
    }
    // Every element takes at least one byte, so a count larger than the rest is a lie.
    if count > cursor.bytes.len() {
        return Err(Decode::Malformed(
            "array count runs past the end of the frame",
        ));
    }
    (0..count).map(|_| symbol(cursor, constructor)).collect()
}

/// One symbol body after its constructor: sym8 (1-byte length) or sym32 (4-byte length).
/// Symbols are ASCII (section 1.6.21); anything else is not a mechanism name.
fn symbol(cursor: &mut Cursor<'_>, constructor: u8) -> Result<String, Decode> {
    let length = if constructor == 0xa3 {
        usize::from(cursor.byte()?)
    } else {
        cursor.length32()?
    };
    let bytes = cursor.take(length)?;
    if !bytes.iter().all(u8::is_ascii_graphic) {
        return Err(Decode::Malformed("a mechanism name is not printable ASCII"));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// SASL performatives by descriptor code (section 5.3.3).
fn performative_name(code: u64) -> String {
    match code {
        0x41 => "sasl-init".to_owned(),
        0x42 => "sasl-challenge".to_owned(),
        0x43 => "sasl-response".to_owned(),
        0x44 => "sasl-outcome".to_owned(),
        other => format!("a performative with descriptor {other:#x}"),
    }
}

/// A sasl-mechanisms frame offering `mechanisms`, as a server sends it after the header; the
/// simulator's answer. Uses the compact encodings (list8, array8, sym8) when they fit.
pub fn encode_sasl_mechanisms(mechanisms: &[&str]) -> Vec<u8> {
    let small = mechanisms.iter().all(|name| name.len() <= 255);
    let mut elements = Vec::new();
    for name in mechanisms {
        if small {
            elements.push(name.len() as u8);
        } else {
            elements.extend_from_slice(&(name.len() as u32).to_be_bytes());
        }
        elements.extend_from_slice(name.as_bytes());
    }
    let constructor = if small { 0xa3 } else { 0xb3 };
    let mut array = Vec::new();
    // array8 size counts the count byte, the constructor and the elements.
    if small && elements.len() + 2 <= 255 && mechanisms.len() <= 255 {
        array.extend_from_slice(&[0xe0, (elements.len() + 2) as u8, mechanisms.len() as u8]);
    } else {
        array.push(0xf0);
        array.extend_from_slice(&((elements.len() + 5) as u32).to_be_bytes());
        array.extend_from_slice(&(mechanisms.len() as u32).to_be_bytes());
    }
    array.push(constructor);
    array.extend_from_slice(&elements);

    let mut body = vec![0x00, 0x53, SASL_MECHANISMS_CODE as u8];
    if array.len() < 255 {
        body.extend_from_slice(&[0xc0, (array.len() + 1) as u8, 1]);
    } else {
        body.push(0xd0);
        body.extend_from_slice(&((array.len() + 4) as u32).to_be_bytes());
        body.extend_from_slice(&1u32.to_be_bytes());
    }
    body.extend_from_slice(&array);

    let size = (8 + body.len()) as u32;
    let mut frame = size.to_be_bytes().to_vec();
    frame.extend_from_slice(&[2, SASL_FRAME_TYPE, 0, 0]);
    frame.extend_from_slice(&body);
    frame
}

/// Sends the SASL header and reads the header and sasl-mechanisms frame within `timeout`.
pub async fn probe<S: ByteStream>(
    stream: &mut S,
    timeout: Duration,
) -> Result<SaslOffer, AmqpError> {
    exchange(stream, &SASL_HEADER, ANSWER_LIMIT, timeout, parse_answer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(frame: &[u8]) -> Vec<u8> {
        let mut bytes = SASL_HEADER.to_vec();
        bytes.extend_from_slice(frame);
        bytes
    }

    fn offer(names: &[&str]) -> Option<SaslOffer> {
        Some(SaslOffer {
            mechanisms: names.iter().map(|name| (*name).to_owned()).collect(),
        })
    }

    /// The frame Qpid Proton 0.37 (Debian's python3-qpid-proton, built-in SASL) sends as a
    /// server allowing ANONYMOUS, captured from tests/servers/amqp_listener.py: an array8 of
    /// sym8 holding one symbol.
    const PROTON_FRAME: &[u8] = &[
        0x00, 0x00, 0x00, 0x1c, 0x02, 0x01, 0x00, 0x00, 0x00, 0x53, 0x40, 0xc0, 0x0f, 0x01, 0xe0,
        0x0c, 0x01, 0xa3, 0x09, b'A', b'N', b'O', b'N', b'Y', b'M', b'O', b'U', b'S',
    ];

    #[test]
    fn proton_style_array8_of_sym8_parses() {
        assert_eq!(
            parse_answer(&answer(PROTON_FRAME)),
            Ok(offer(&["ANONYMOUS"]))
        );
        // Every prefix is incomplete, never an error.
        let whole = answer(PROTON_FRAME);
        for end in 0..whole.len() {
            assert_eq!(
                parse_answer(&whole[..end]),
                Ok(None),
                "prefix of {end} bytes"
            );
        }
    }

    #[test]
    fn encoder_round_trips_in_both_widths() {
        let names = ["ANONYMOUS", "MSSBCBS", "PLAIN"];
        assert_eq!(
            parse_answer(&answer(&encode_sasl_mechanisms(&names))),
            Ok(offer(&names))
        );
        let long = "X".repeat(300);
        let frame = encode_sasl_mechanisms(&[&long, "PLAIN"]);
        assert_eq!(frame[11], 0xd0, "list32 for a long body");
        assert_eq!(
            parse_sasl_mechanisms_frame(&frame),
            Ok(offer(&[&long, "PLAIN"]))
        );
    }

    #[test]
    fn single_symbol_array32_and_symbolic_descriptor_parse() {
        let mut body = vec![0x00, 0xa3, SASL_MECHANISMS_NAME.len() as u8];
        body.extend_from_slice(SASL_MECHANISMS_NAME);
        body.extend_from_slice(&[0xd0, 0, 0, 0, 14, 0, 0, 0, 1, 0xb3, 0, 0, 0, 5]);
        body.extend_from_slice(b"PLAIN");
        let mut frame = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&[2, 1, 0, 0]);
        frame.extend_from_slice(&body);
        assert_eq!(parse_sasl_mechanisms_frame(&frame), Ok(offer(&["PLAIN"])));

        let array32: Vec<u8> = [
            &[0x00, 0x00, 0x00, 0x23, 0x02, 0x01, 0x00, 0x00][..],
            &[0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x40, 0xc0, 0x0f, 0x01],
            &[
                0xf0, 0, 0, 0, 0x09, 0, 0, 0, 1, 0xa3, 0x03, b'E', b'X', b'T',
            ],
        ]
        .concat();
        assert_eq!(parse_sasl_mechanisms_frame(&array32), Ok(offer(&["EXT"])));
    }

    #[test]
    fn other_amqp_versions_are_named() {
        let error = parse_answer(b"AMQP\x00\x00\x09\x01").unwrap_err();
        assert_eq!(error.kind(), "other_protocol");
        assert_eq!(
            error.to_string(),
            "speaks AMQP 0-9-1, not AMQP 1.0 with SASL: it answered the SASL header with `AMQP 0 0 9 1`"
        );
        let error = parse_answer(b"AMQP\x00\x01\x00\x00").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("speaks AMQP 1.0 without SASL")
        );
        let error = parse_answer(b"AMQP\x07\x07\x07\x07").unwrap_err();
        assert!(
            error.to_string().contains("unknown AMQP version"),
            "{error}"
        );
    }

    #[test]
    fn garbage_fails_early_and_names_what_came_back() {
        let error = parse_answer(b"HT").unwrap_err();
        assert_eq!(error.kind(), "not_amqp");
        let error = parse_answer(b"HTTP/1.1 400 Bad Request\r\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "answered `HTTP/1.1 400 Bad Request` instead of an AMQP protocol header"
        );
        // An AMQP (not SASL) frame, a huge frame, a tiny frame.
        let error = parse_answer(&answer(&[0, 0, 0, 8, 2, 0, 0, 0])).unwrap_err();
        assert_eq!(error.kind(), "not_sasl_frame");
        let error = parse_answer(&answer(&[0x7f, 0xff, 0xff, 0xff])).unwrap_err();
        assert_eq!(error.kind(), "frame_too_large");
        let error = parse_answer(&answer(&[0, 0, 0, 4])).unwrap_err();
        assert_eq!(error.kind(), "malformed_frame");
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        let frame = |body: &[u8]| {
            let mut frame = ((8 + body.len()) as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(&[2, 1, 0, 0]);
            frame.extend_from_slice(body);
            frame
        };
        let cases: &[(&[u8], &str)] = &[
            (&[], "malformed_frame"),
            (&[0x01], "malformed_frame"),
            (&[0x00, 0x53], "malformed_frame"),
            (&[0x00, 0x53, 0x44, 0x45], "unexpected_performative"),
            (&[0x00, 0x53, 0x40, 0x45], "malformed_frame"),
            (
                &[0x00, 0x53, 0x40, 0xc0, 0x02, 0x01, 0x40],
                "malformed_frame",
            ),
            (
                &[0x00, 0x53, 0x40, 0xc0, 0x02, 0x01, 0xa1],
                "malformed_frame",
            ),
            // array8 claiming 200 elements in a 5-byte rest.
            (
                &[0x00, 0x53, 0x40, 0xc0, 0x06, 0x01, 0xe0, 0x03, 200, 0xa3, 1],
                "malformed_frame",
            ),
            // sym32 with a length of 4 GiB.
            (
                &[
                    0x00, 0x53, 0x40, 0xc0, 0x06, 0x01, 0xb3, 0xff, 0xff, 0xff, 0xff,
                ],
                "malformed_frame",
            ),
            // Control characters in a name.
            (
                &[0x00, 0x53, 0x40, 0xc0, 0x04, 0x01, 0xa3, 0x01, 0x07],
                "malformed_frame",
            ),
        ];
        for (body, kind) in cases {
            let error = parse_sasl_mechanisms_frame(&frame(body)).unwrap_err();
            assert_eq!(error.kind(), *kind, "{body:02x?}: {error}");
        }
        let error = parse_sasl_mechanisms_frame(&frame(&[0x00, 0x53, 0x44, 0x45])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "sent sasl-outcome instead of sasl-mechanisms"
        );
        // A data offset past the frame.
        let error = parse_sasl_mechanisms_frame(&[0, 0, 0, 8, 9, 1, 0, 0]).unwrap_err();
        assert_eq!(error.kind(), "malformed_frame");
    }

    #[test]
    fn every_single_byte_answer_is_handled() {
        for first in 0..=255u8 {
            let _ = parse_answer(&[first]);
            let mut bytes = answer(&[0, 0, 0, 16, 2, 1, 0, 0, 0x00, 0x53, 0x40, 0xc0, 2, 1]);
            bytes.extend_from_slice(&[first, first]);
            let _ = parse_answer(&bytes);
        }
    }
}
