//! AMQP 1.0 authentication as the Azure IoT device SDKs do it, on an established TLS stream:
//! the SASL offer (read with the probe's parser, [`super::amqp`]), then SASL ANONYMOUS (EXTERNAL with a client
//! certificate, PLAIN with `{DeviceId}@sas.{hub}` and the token when the server offers no
//! ANONYMOUS), open and begin (OASIS AMQP 1.0 part 2 sections 2.4-2.5), and then:
//!
//! - a SAS token: a sender and a receiver link on `$cbs` and one put-token message
//!   (application-properties `operation=put-token`, `type=servicebus.windows.net:sastoken`,
//!   `name=` the audience; the token as an AMQP string), whose reply carries `status-code` and
//!   `status-description` (Azure's "AMQP claims-based security" (CBS) draft, section 3.2);
//! - a certificate: a sender link to `/devices/{id}/messages/events`, which a gateway that
//!   does not accept the device refuses (attach with a null target, then detach with an error,
//!   part 2 section 2.6.3).
//!
//! Every wait has the caller's timeout; a refusal (a SASL outcome code, a CBS status, a detach
//! or close with an error) is an answer, told apart from silence and hang-ups.

use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::amqp::{ANSWER_LIMIT, AmqpError, ProtocolHeader, SASL_HEADER, SaslOffer, parse_answer};
use super::amqp_codec::{
    AMQP_FRAME, CodecError, Frame, Performative, SASL_FRAME, Value, code, decode_all, encode_frame,
    parse_frame,
};
use super::{ByteStream, Side, TransportError, classify, kept, random_bytes, write_request};

/// The AMQP protocol header (part 2 section 2.2): protocol id 0, version 1.0.0.
pub const AMQP_HEADER: [u8; 8] = *b"AMQP\x00\x01\x00\x00";

/// The largest frame read, and the max-frame-size announced in open.
pub const MAX_FRAME_SIZE: usize = 64 * 1024;

/// The put-token `type` the Azure IoT SDKs send for a device SAS token.
pub const TOKEN_TYPE: &str = "servicebus.windows.net:sastoken";

/// The CBS node (CBS draft section 3).
pub const CBS_NODE: &str = "$cbs";

/// Where the CBS reply is sent: the receiver link's own address.
const REPLY_ADDRESS: &str = "edgeprobe-cbs-reply";

/// How long the closing frame may take to be written.
const CLOSE_GRACE: Duration = Duration::from_millis(200);

/// The device's credentials as an AMQP client presents them. Never printed: no `Debug`.
#[derive(Clone, Copy)]
pub enum AmqpCredential<'a> {
    /// A SAS token for `audience` (`{HostName}/devices/{DeviceId}`), put on `$cbs`, or sent
    /// with SASL PLAIN as `plain_user`'s password.
    Token {
        audience: &'a str,
        token: &'a str,
        plain_user: &'a str,
    },
    /// The certificate went into the TLS handshake; attaching to `address` tells whether the
    /// gateway accepts it.
    Certificate { address: &'a str },
}

/// How the gateway answered the device after its SASL offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpAuthentication {
    /// The SASL mechanism used.
    pub mechanism: &'static str,
    pub reply: AmqpReply,
}

/// The gateway's answer to the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmqpReply {
    /// The put-token reply: `status-code` (200 accepted, 401, 404, ...) and its description.
    Cbs {
        status_code: Option<i64>,
        status_description: Option<String>,
    },
    /// The sasl-outcome code (part 5 section 5.3.3.6): 0 ok, 1 auth, 2-4 system errors. For
    /// PLAIN, 0 is the gateway's acceptance of the token.
    SaslOutcome { code: u8 },
    /// X.509: the telemetry link was attached.
    Attached,
    /// The gateway refused with a detach, end or close carrying an error (or none).
    Refused {
        performative: String,
        condition: Option<String>,
        description: Option<String>,
    },
}

/// The meaning of a sasl-outcome code (part 5 section 5.3.3.6).
pub fn sasl_code_meaning(code: u8) -> &'static str {
    match code {
        0 => "ok",
        1 => "auth: authentication failed because of bad credentials",
        2 => "sys: a system error",
        3 => "sys-perm: a permanent system error",
        4 => "sys-temp: a transient system error",
        _ => "a code AMQP 1.0 does not define",
    }
}

/// Offers a gateway must make: ANONYMOUS (then CBS) or PLAIN for a token, EXTERNAL or
/// ANONYMOUS for a certificate.
fn choose_mechanism(
    offer: &SaslOffer,
    credential: &AmqpCredential<'_>,
) -> Result<&'static str, AmqpError> {
    let offered = |name: &str| offer.mechanisms.iter().any(|offered| offered == name);
    let preference: &[&'static str] = match credential {
        AmqpCredential::Token { .. } => &["ANONYMOUS", "PLAIN"],
        AmqpCredential::Certificate { .. } => &["EXTERNAL", "ANONYMOUS"],
    };
    preference
        .iter()
        .copied()
        .find(|name| offered(name))
        .ok_or_else(|| AmqpError::NoUsableMechanism {
            offered: offer.mechanisms.clone(),
            usable: preference.join(" or "),
        })
}

/// SASL, open, begin, then the put-token or the telemetry link; then close. The outer error
/// is the probe's (no SASL offer); the inner result is what followed the offer.
pub async fn authenticate<S: ByteStream>(
    stream: &mut S,
    host: &str,
    credential: AmqpCredential<'_>,
    timeout: Duration,
) -> Result<(SaslOffer, Result<AmqpAuthentication, AmqpError>), AmqpError> {
    let mut connection = Connection {
        stream,
        buffer: Vec::new(),
        timeout,
    };
    let offer = connection.offer().await?;
    let mechanism = match choose_mechanism(&offer, &credential) {
        Ok(mechanism) => mechanism,
        Err(error) => return Ok((offer, Err(error))),
    };
    let reply = connection.run(host, mechanism, credential).await;
    connection.close().await;
    Ok((
        offer,
        reply.map(|reply| AmqpAuthentication { mechanism, reply }),
    ))
}

/// One AMQP connection being read frame by frame, bytes beyond the frame kept for the next.
struct Connection<'s, S> {
    stream: &'s mut S,
    buffer: Vec<u8>,
    timeout: Duration,
}

/// The frame of `performative` with `fields` on channel 0.
fn frame(frame_type: u8, code: u64, fields: Vec<Value>, payload: &[u8]) -> Vec<u8> {
    encode_frame(frame_type, 0, &Value::described_list(code, fields), payload)
}

fn terminus(code: u64, address: &str) -> Value {
    Value::described_list(code, vec![Value::string(address)])
}

/// attach (part 2 section 2.7.3): name, handle, role (false sender, true receiver), settle
/// modes (settled, first), source, target, and for a sender its initial delivery count.
fn attach(name: &str, handle: u32, receiver: bool, source: &str, target: &str) -> Vec<u8> {
    frame(
        AMQP_FRAME,
        code::ATTACH,
        vec![
            Value::string(name),
            Value::Uint(handle),
            Value::Bool(receiver),
            Value::Ubyte(1),
            Value::Ubyte(0),
            terminus(code::SOURCE, source),
            terminus(code::TARGET, target),
            Value::Null,
            Value::Null,
            if receiver {
                Value::Null
            } else {
                Value::Uint(0)
            },
        ],
        &[],
    )
}

/// begin (part 2 section 2.7.2): remote-channel (null from the side that begins), next-outgoing-id,
/// and the same incoming and outgoing window.
fn begin(remote_channel: Value, next_outgoing_id: u32, window: u32) -> Vec<u8> {
    let mut fields = vec![remote_channel];
    fields.extend([next_outgoing_id, window, window].map(Value::Uint));
    frame(AMQP_FRAME, code::BEGIN, fields, &[])
}

/// flow (part 2 section 2.7.4) for link `handle`: next-incoming-id (the peer's next-outgoing-id),
/// the same incoming and outgoing window, next-outgoing-id, then the link's delivery-count and
/// link-credit.
fn flow(
    next_incoming_id: Value,
    window: u32,
    next_outgoing_id: u32,
    handle: u32,
    delivery_count: u32,
    link_credit: u32,
) -> Vec<u8> {
    let mut fields = vec![next_incoming_id];
    fields.extend(
        [
            window,
            next_outgoing_id,
            window,
            handle,
            delivery_count,
            link_credit,
        ]
        .map(Value::Uint),
    );
    frame(AMQP_FRAME, code::FLOW, fields, &[])
}

/// The put-token request's message sections (CBS draft section 3.2).
fn put_token_message(audience: &str, token: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    Value::described_list(
        code::PROPERTIES,
        vec![
            Value::string("edgeprobe-put-token"),
            Value::Null,
            Value::string(CBS_NODE),
            Value::Null,
            Value::string(REPLY_ADDRESS),
        ],
    )
    .encode(&mut payload);
    Value::Described(
        Box::new(Value::Ulong(code::APPLICATION_PROPERTIES)),
        Box::new(Value::Map(vec![
            (Value::string("operation"), Value::string("put-token")),
            (Value::string("type"), Value::string(TOKEN_TYPE)),
            (Value::string("name"), Value::string(audience)),
        ])),
    )
    .encode(&mut payload);
    Value::Described(
        Box::new(Value::Ulong(code::AMQP_VALUE)),
        Box::new(Value::string(token)),
    )
    .encode(&mut payload);
    payload
}

/// `status-code` and `status-description` from a reply's application-properties.
fn cbs_status(payload: &[u8]) -> Result<AmqpReply, CodecError> {
    let mut status_code = None;
    let mut status_description = None;
    for section in decode_all(payload)? {
        if let Some((code::APPLICATION_PROPERTIES, Value::Map(pairs))) = section.as_described() {
            for (key, value) in pairs {
                match key.as_text() {
                    Some("status-code") => status_code = value.as_integer(),
                    Some("status-description") => {
                        status_description = value.as_text().map(str::to_owned);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(AmqpReply::Cbs {
        status_code,
        status_description,
    })
}

/// A detach, end or close: the refusal it carries (its error is field 2, 0 and 0).
fn refusal(performative: &Performative) -> Option<AmqpReply> {
    let error_field = match performative.code {
        code::DETACH => 2,
        code::END | code::CLOSE => 0,
        _ => return None,
    };
    let (condition, description) = performative.error(error_field).unzip();
    Some(AmqpReply::Refused {
        performative: performative.name(),
        condition,
        description: description.flatten(),
    })
}

impl<S: ByteStream> Connection<'_, S> {
    async fn run(
        &mut self,
        host: &str,
        mechanism: &'static str,
        credential: AmqpCredential<'_>,
    ) -> Result<AmqpReply, AmqpError> {
        let initial_response = match (mechanism, credential) {
            // RFC 4616: authzid (empty), NUL, authcid, NUL, password.
            (
                "PLAIN",
                AmqpCredential::Token {
                    token, plain_user, ..
                },
            ) => Value::Binary(format!("\0{plain_user}\0{token}").into_bytes()),
            // RFC 4422 appendix A: an empty authzid, the identity being the certificate's.
            ("EXTERNAL", _) => Value::Binary(Vec::new()),
            _ => Value::Null,
        };
        let init = vec![
            Value::symbol(mechanism),
            initial_response,
            Value::string(host),
        ];
        self.send(&frame(SASL_FRAME, code::SASL_INIT, init, &[]))
            .await?;
        let outcome = self.expect(code::SASL_OUTCOME, "sasl-outcome").await?;
        let outcome_code = match outcome.field(0) {
            Some(Value::Ubyte(outcome_code)) => *outcome_code,
            _ => return Err(self.malformed("sasl-outcome without a code")),
        };
        if outcome_code != 0 {
            return Ok(AmqpReply::SaslOutcome { code: outcome_code });
        }
        let container = random_bytes::<8>()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>();
        let mut opening = AMQP_HEADER.to_vec();
        opening.extend(frame(
            AMQP_FRAME,
            code::OPEN,
            vec![
                Value::String(format!("edgeprobe-{container}")),
                Value::string(host),
                Value::Uint(MAX_FRAME_SIZE as u32),
            ],
            &[],
        ));
        opening.extend(begin(Value::Null, 0, 16));
        self.send(&opening).await?;
        self.header().await?;
        let begin = loop {
            let performative = self.performative().await?;
            if let Some(refused) = refusal(&performative) {
                return Ok(refused);
            }
            match performative.code {
                code::OPEN => continue,
                code::BEGIN => break performative,
                _ => return Err(self.out_of_order("begin", &performative)),
            }
        };
        match credential {
            // PLAIN authenticated in SASL: the session is the proof.
            AmqpCredential::Token { .. } if mechanism == "PLAIN" => {
                Ok(AmqpReply::SaslOutcome { code: 0 })
            }
            AmqpCredential::Token {
                audience, token, ..
            } => self.put_token(&begin, audience, token).await,
            AmqpCredential::Certificate { address } => self.attach_telemetry(address).await,
        }
    }

    /// Attaches to `$cbs` both ways, waits for credit, sends the put-token, reads the reply.
    async fn put_token(
        &mut self,
        begin: &Performative,
        audience: &str,
        token: &str,
    ) -> Result<AmqpReply, AmqpError> {
        const SENDER: &str = "edgeprobe-cbs-sender";
        const RECEIVER: &str = "edgeprobe-cbs-receiver";
        let their_next_outgoing = begin.field(1).cloned().unwrap_or(Value::Uint(0));
        let mut request = attach(SENDER, 0, false, SENDER, CBS_NODE);
        request.extend(attach(RECEIVER, 1, true, CBS_NODE, REPLY_ADDRESS));
        // One credit on the receiver link for the reply.
        request.extend(flow(their_next_outgoing, 16, 0, 1, 0, 1));
        self.send(&request).await?;
        let (mut sender_handle, mut receiver_handle, mut credit) = (None, None, false);
        while sender_handle.is_none() || receiver_handle.is_none() || !credit {
            let performative = self.performative().await?;
            if let Some(refused) = refusal(&performative) {
                return Ok(refused);
            }
            let handle = performative.field(1).and_then(Value::as_integer);
            match performative.code {
                // A null terminus refuses the link; the detach that follows says why.
                code::ATTACH => match performative.field(0).and_then(Value::as_text) {
                    Some(SENDER) if performative.field(6).is_some() => sender_handle = handle,
                    Some(RECEIVER) if performative.field(5).is_some() => receiver_handle = handle,
                    _ => {}
                },
                code::FLOW => {
                    let link = performative.field(4).and_then(Value::as_integer);
                    let granted = performative.field(6).and_then(Value::as_integer);
                    if link.is_some() && link == sender_handle && granted.unwrap_or(0) > 0 {
                        credit = true;
                    }
                }
                _ => {}
            }
        }
        // transfer (part 2 section 2.7.5): handle 0, delivery 0, tag, format 0, settled.
        self.send(&frame(
            AMQP_FRAME,
            code::TRANSFER,
            vec![
                Value::Uint(0),
                Value::Uint(0),
                Value::Binary(vec![0]),
                Value::Uint(0),
                Value::Bool(true),
            ],
            &put_token_message(audience, token),
        ))
        .await?;
        let mut message = Vec::new();
        loop {
            let frame = self.frame().await?;
            let Some(performative) = &frame.performative else {
                continue;
            };
            if let Some(refused) = refusal(performative) {
                return Ok(refused);
            }
            let handle = performative.field(0).and_then(Value::as_integer);
            if performative.code != code::TRANSFER || handle != receiver_handle {
                continue;
            }
            message.extend_from_slice(&frame.payload);
            if message.len() > MAX_FRAME_SIZE {
                return Err(self.malformed("a CBS reply larger than the maximum frame size"));
            }
            if performative.field(5) != Some(&Value::Bool(true)) {
                return cbs_status(&message).map_err(|error| self.malformed(error.0));
            }
        }
    }

    /// X.509: a sender link to the device's telemetry address; attached with a target means
    /// accepted.
    async fn attach_telemetry(&mut self, address: &str) -> Result<AmqpReply, AmqpError> {
        const NAME: &str = "edgeprobe-telemetry";
        self.send(&attach(NAME, 0, false, NAME, address)).await?;
        loop {
            let performative = self.performative().await?;
            if let Some(refused) = refusal(&performative) {
                return Ok(refused);
            }
            if performative.code == code::ATTACH && performative.field(6).is_some() {
                return Ok(AmqpReply::Attached);
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), AmqpError> {
        match tokio::time::timeout(self.timeout, write_request(self.stream, bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(classify(&error, &self.buffer, Side::Send).into()),
            Err(_) => Err(TransportError::Send {
                detail: format!(
                    "the write did not complete within {}",
                    super::super::tls::format_duration(self.timeout)
                ),
            }
            .into()),
        }
    }

    /// Reads more bytes before `deadline`.
    async fn fill(&mut self, deadline: tokio::time::Instant) -> Result<(), AmqpError> {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Err(_) if self.buffer.is_empty() => Err(TransportError::Silent {
                timeout: self.timeout,
            }
            .into()),
            Err(_) => Err(TransportError::Stalled {
                timeout: self.timeout,
                received: kept(&self.buffer),
            }
            .into()),
            Ok(Ok(0)) => Err(TransportError::Closed {
                received: kept(&self.buffer),
            }
            .into()),
            Ok(Ok(read)) => {
                self.buffer.extend_from_slice(&chunk[..read]);
                Ok(())
            }
            Ok(Err(error)) => Err(classify(&error, &self.buffer, Side::Receive).into()),
        }
    }

    /// The SASL header sent, the server's header and sasl-mechanisms read (the probe's parser);
    /// whatever followed them is kept.
    async fn offer(&mut self) -> Result<SaslOffer, AmqpError> {
        self.send(&SASL_HEADER).await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(offer) = parse_answer(&self.buffer)? {
                let size = self.buffer.get(8..12).map_or(0, |size| {
                    u32::from_be_bytes([size[0], size[1], size[2], size[3]])
                });
                self.buffer
                    .drain(..(SASL_HEADER.len() + size as usize).min(self.buffer.len()));
                return Ok(offer);
            }
            if self.buffer.len() > ANSWER_LIMIT {
                return Err(TransportError::Oversized {
                    limit: ANSWER_LIMIT,
                    received: kept(&self.buffer),
                }
                .into());
            }
            self.fill(deadline).await?;
        }
    }

    /// The server's AMQP protocol header, after SASL.
    async fn header(&mut self) -> Result<(), AmqpError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let seen = self.buffer.len().min(4);
            if self.buffer[..seen] != b"AMQP"[..seen] {
                return Err(AmqpError::NotAmqp {
                    received: kept(&self.buffer),
                });
            }
            if self.buffer.len() >= AMQP_HEADER.len() {
                break;
            }
            self.fill(deadline).await?;
        }
        let header: Vec<u8> = self.buffer.drain(..AMQP_HEADER.len()).collect();
        if header != AMQP_HEADER {
            return Err(AmqpError::OtherProtocol {
                header: ProtocolHeader::from_bytes([header[4], header[5], header[6], header[7]]),
                received: kept(&header),
            });
        }
        Ok(())
    }

    /// The next frame, keep-alive frames included.
    async fn frame(&mut self) -> Result<Frame, AmqpError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match parse_frame(&self.buffer, MAX_FRAME_SIZE) {
                Ok(Some((frame, used))) => {
                    self.buffer.drain(..used);
                    return Ok(frame);
                }
                Ok(None) => self.fill(deadline).await?,
                Err(error) => return Err(self.malformed(error.0)),
            }
        }
    }

    /// The next performative, keep-alive frames skipped.
    async fn performative(&mut self) -> Result<Performative, AmqpError> {
        loop {
            if let Some(performative) = self.frame().await?.performative {
                return Ok(performative);
            }
        }
    }

    /// The next performative, which must be `code`.
    async fn expect(&mut self, code: u64, name: &'static str) -> Result<Performative, AmqpError> {
        let performative = self.performative().await?;
        if performative.code != code {
            return Err(self.out_of_order(name, &performative));
        }
        Ok(performative)
    }

    fn malformed(&self, problem: &'static str) -> AmqpError {
        AmqpError::MalformedFrame {
            problem,
            received: kept(&self.buffer),
        }
    }

    fn out_of_order(&self, expected: &'static str, got: &Performative) -> AmqpError {
        AmqpError::OutOfOrder {
            expected,
            performative: got.name(),
            received: kept(&self.buffer),
        }
    }

    /// close (part 2 section 2.7.9), best effort: the answer is not awaited.
    async fn close(&mut self) {
        let close = frame(AMQP_FRAME, code::CLOSE, Vec::new(), &[]);
        let _ = tokio::time::timeout(CLOSE_GRACE, write_request(self.stream, &close)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn server_frame(frame_type: u8, code: u64, fields: Vec<Value>, payload: &[u8]) -> Vec<u8> {
        frame(frame_type, code, fields, payload)
    }

    #[test]
    fn the_put_token_message_is_what_the_sdks_send() {
        let payload = put_token_message("hub/devices/d", "SharedAccessSignature sr=x");
        let sections = decode_all(&payload).unwrap();
        assert_eq!(sections.len(), 3);
        let (properties, Value::List(fields)) = sections[0].as_described().unwrap() else {
            panic!()
        };
        assert_eq!(properties, code::PROPERTIES);
        assert_eq!(fields[4], Value::string(REPLY_ADDRESS));
        let Some((code::APPLICATION_PROPERTIES, Value::Map(pairs))) = sections[1].as_described()
        else {
            panic!()
        };
        assert!(pairs.contains(&(Value::string("operation"), Value::string("put-token"))));
        assert!(pairs.contains(&(Value::string("type"), Value::string(TOKEN_TYPE))));
        assert!(pairs.contains(&(Value::string("name"), Value::string("hub/devices/d"))));
        assert_eq!(
            sections[2].as_described(),
            Some((
                code::AMQP_VALUE,
                &Value::string("SharedAccessSignature sr=x")
            ))
        );
    }

    #[test]
    fn the_reply_status_is_read_from_application_properties() {
        let mut reply = Vec::new();
        Value::Described(
            Box::new(Value::Ulong(code::APPLICATION_PROPERTIES)),
            Box::new(Value::Map(vec![
                (Value::string("status-code"), Value::Int(401)),
                (
                    Value::string("status-description"),
                    Value::string("Unauthorized"),
                ),
            ])),
        )
        .encode(&mut reply);
        assert_eq!(
            cbs_status(&reply),
            Ok(AmqpReply::Cbs {
                status_code: Some(401),
                status_description: Some("Unauthorized".to_owned())
            })
        );
        assert!(cbs_status(&[0xa1, 9]).is_err());
    }

    #[test]
    fn mechanisms_are_chosen_as_the_sdks_do() {
        let offer = |names: &[&str]| SaslOffer {
            mechanisms: names.iter().map(|name| (*name).to_owned()).collect(),
        };
        let token = AmqpCredential::Token {
            audience: "a",
            token: "t",
            plain_user: "u",
        };
        let certificate = AmqpCredential::Certificate { address: "a" };
        assert_eq!(
            choose_mechanism(&offer(&["PLAIN", "ANONYMOUS"]), &token).ok(),
            Some("ANONYMOUS")
        );
        assert_eq!(
            choose_mechanism(&offer(&["PLAIN"]), &token).ok(),
            Some("PLAIN")
        );
        assert_eq!(
            choose_mechanism(&offer(&["ANONYMOUS", "EXTERNAL"]), &certificate).ok(),
            Some("EXTERNAL")
        );
        let error = choose_mechanism(&offer(&["SCRAM-SHA-1"]), &token).unwrap_err();
        assert_eq!(error.kind(), "no_usable_mechanism");
        assert!(error.to_string().contains("SCRAM-SHA-1"), "{error}");
    }

    /// A scripted server: SASL offer, outcome, header, open, begin, both attaches, credit,
    /// then `reply` (the frames after the put-token).
    async fn scripted(reply: Vec<u8>) -> Result<AmqpAuthentication, AmqpError> {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        let script = tokio::spawn(async move {
            let mut bytes = super::super::amqp::SASL_HEADER.to_vec();
            bytes.extend(super::super::amqp::encode_sasl_mechanisms(&["ANONYMOUS"]));
            bytes.extend(server_frame(
                SASL_FRAME,
                code::SASL_OUTCOME,
                vec![Value::Ubyte(0)],
                &[],
            ));
            bytes.extend(AMQP_HEADER);
            bytes.extend(server_frame(
                AMQP_FRAME,
                code::OPEN,
                vec![Value::string("s")],
                &[],
            ));
            bytes.extend(begin(Value::Ushort(0), 1, 9));
            for (name, handle, role) in [
                ("edgeprobe-cbs-sender", 5, true),
                ("edgeprobe-cbs-receiver", 6, false),
            ] {
                bytes.extend(attach(name, handle, role, "s", "t"));
            }
            bytes.extend(flow(Value::Uint(0), 9, 1, 5, 0, 10));
            bytes.extend(reply);
            server.write_all(&bytes).await.unwrap();
            let mut sink = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(5), server.read_to_end(&mut sink)).await;
            sink
        });
        let credential = AmqpCredential::Token {
            audience: "hub/devices/d",
            token: "SharedAccessSignature sr=secret",
            plain_user: "d@sas.hub",
        };
        let result = authenticate(&mut client, "gw", credential, Duration::from_secs(5))
            .await
            .expect("the offer")
            .1;
        drop(client);
        let sent = script.await.unwrap();
        assert!(
            sent.windows(b"put-token".len())
                .any(|window| window == b"put-token"),
            "the put-token was sent"
        );
        result
    }

    #[tokio::test]
    async fn a_put_token_reply_is_read_on_the_receiver_link() {
        let mut properties = Vec::new();
        Value::Described(
            Box::new(Value::Ulong(code::APPLICATION_PROPERTIES)),
            Box::new(Value::Map(vec![(
                Value::string("status-code"),
                Value::Int(200),
            )])),
        )
        .encode(&mut properties);
        let reply = server_frame(
            AMQP_FRAME,
            code::TRANSFER,
            vec![Value::Uint(6), Value::Uint(0), Value::Binary(vec![1])],
            &properties,
        );
        let result = scripted(reply).await.unwrap();
        assert_eq!(result.mechanism, "ANONYMOUS");
        assert_eq!(
            result.reply,
            AmqpReply::Cbs {
                status_code: Some(200),
                status_description: None
            }
        );
    }

    #[tokio::test]
    async fn a_close_with_an_error_is_a_refusal_and_garbage_an_error() {
        let error = Value::described_list(
            code::ERROR,
            vec![
                Value::symbol("amqp:unauthorized-access"),
                Value::string("no"),
            ],
        );
        let close = server_frame(AMQP_FRAME, code::CLOSE, vec![error], &[]);
        assert_eq!(
            scripted(close).await.unwrap().reply,
            AmqpReply::Refused {
                performative: "close".to_owned(),
                condition: Some("amqp:unauthorized-access".to_owned()),
                description: Some("no".to_owned())
            }
        );
        let garbage = scripted(vec![0, 0, 0, 9, 2, 0, 0, 0, 0x40])
            .await
            .unwrap_err();
        assert_eq!(garbage.kind(), "malformed_frame");
    }

    #[tokio::test(start_paused = true)]
    async fn silence_after_the_offer_is_no_answer() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let mut bytes = super::super::amqp::SASL_HEADER.to_vec();
        bytes.extend(super::super::amqp::encode_sasl_mechanisms(&["ANONYMOUS"]));
        server.write_all(&bytes).await.unwrap();
        let credential = AmqpCredential::Certificate {
            address: "/devices/d/messages/events",
        };
        let (offer, result) = authenticate(&mut client, "gw", credential, Duration::from_secs(3))
            .await
            .expect("the offer");
        assert_eq!(offer.mechanisms, ["ANONYMOUS"]);
        let error = result.unwrap_err();
        assert_eq!(error.kind(), "no_answer");
        drop(server);
    }
}
