//! What one endpoint (a name, a port, a protocol) presented, made once by one network step and
//! read by every consumer: the checks of both suites, `connect`, `demo` and the monitoring
//! printers. [`observe`] resolves nothing and judges nothing: it tries the addresses it is given,
//! completes a TLS handshake, describes each certificate of the chain, and, when asked, reads the
//! protocol's first answer (MQTT CONNACK, AMQP SASL header, HTTP status) on that same
//! connection, so a port costs one TCP connection and one handshake. A chain is described once
//! per run, not once per port: [`PresentedChains`] (the run's, passed in) hands every port that
//! presents the same certificates the same [`PresentedChain`].
//!
//! Durations are kept as [`Duration`] and written as milliseconds (`*_ms`, a float, to the
//! microsecond), like every other duration in edgeprobe's JSON; certificate times are RFC 3339.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Protocol;
use super::probe::amqp::AmqpError;
use super::probe::amqp_auth::AmqpAuthentication;
use super::probe::mqtt::{Connack, MqttError};
use super::probe::{self, ProbeAnswer, ProbeError, ProbeRequest, describe_received};
use super::tls::{ConnectError, ConnectRequest, Handshake, connect_recording};
use crate::identity::{DeviceCredentials, SentIdentity};
use crate::memo::{Memo, Recent};
use crate::pki::describe::{CertificateSummary, describe};
use crate::pki::verdicts::{ChainDigest, chain_digest};

/// One endpoint as observed.
#[derive(Debug, Clone)]
pub struct Observation {
    pub protocol: Protocol,
    /// The name dialed (SNI, and the HTTP Host).
    pub server_name: String,
    pub port: u16,
    /// The HTTP proxy the connection was tunnelled through (its URL, the password redacted);
    /// the attempts are then the proxy's addresses.
    pub proxy: Option<String>,
    /// Every address tried, in order, and how each TCP attempt ended.
    pub attempts: Vec<Attempt>,
    /// The TLS session, or why there was none.
    pub result: Result<Session, ConnectError>,
}

/// One TCP connection attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub address: SocketAddr,
    pub elapsed: Duration,
    pub outcome: AttemptOutcome,
}

/// How one address of the race (`net::happy_eyeballs`) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Connected,
    Failed(ConnectError),
    /// Still unanswered when another address connected: RFC 8305 abandons it.
    Abandoned {
        winner: SocketAddr,
    },
    /// The deadline passed before its turn came.
    NotTried,
}

impl Attempt {
    /// The error, for an attempt that failed.
    pub fn error(&self) -> Option<&ConnectError> {
        match &self.outcome {
            AttemptOutcome::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// `connected`, the error's kind, `abandoned` or `not_tried`.
    pub fn kind(&self) -> &'static str {
        match &self.outcome {
            AttemptOutcome::Connected => "connected",
            AttemptOutcome::Failed(error) => error.kind(),
            AttemptOutcome::Abandoned { .. } => "abandoned",
            AttemptOutcome::NotTried => "not_tried",
        }
    }

    /// What became of the attempt, one line (`None` for a connection).
    pub fn message(&self) -> Option<String> {
        match &self.outcome {
            AttemptOutcome::Connected => None,
            AttemptOutcome::Failed(error) => Some(error.to_string()),
            AttemptOutcome::Abandoned { winner } => Some(format!(
                "{} had not answered after {} when {winner} connected; abandoned, as RFC 8305 clients do (a client that tries one address at a time waits for its whole timeout here)",
                self.address,
                format_elapsed(self.elapsed)
            )),
            AttemptOutcome::NotTried => Some(format!(
                "{} was not tried: the timeout ran out before its turn",
                self.address
            )),
        }
    }
}

fn format_elapsed(elapsed: Duration) -> String {
    format!("{:.0} ms", elapsed.as_secs_f64() * 1000.0)
}

/// A completed TLS handshake and what came over it.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    #[serde(flatten)]
    pub handshake: Handshake,
    /// Shared with every port of the run that presented the same certificates.
    #[serde(serialize_with = "shared_chain")]
    pub chain: Arc<PresentedChain>,
    /// The protocol's first answer, read right after the handshake on the same connection;
    /// `None` when it was not asked for.
    #[serde(
        serialize_with = "answer_json",
        skip_serializing_if = "Option::is_none"
    )]
    pub answer: Option<Result<ProbeAnswer, ProbeError>>,
    /// `--authenticate`: the identity the answer was asked for with; `None` for the anonymous
    /// probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityExchange>,
    /// How long the protocol's first request took to be answered (the `protocol` phase of the
    /// monitoring outputs); `None` when it was not asked.
    #[serde(
        rename = "answer_ms",
        serialize_with = "optional_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub answer_time: Option<Duration>,
}

fn optional_millis<S: serde::Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => as_millis(duration, serializer),
        None => serializer.serialize_none(),
    }
}

/// What an authenticating probe sent (never the token) and what came of the test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct IdentityExchange {
    pub sent: SentIdentity,
    /// `--send-test-message`: whether the PUBACK came; absent when no message was sent (not
    /// asked for, or the CONNACK was not 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_message: Option<TestMessageOutcome>,
    /// AMQP and MQTT over WebSockets: the gateway's answer to the credentials, which came after
    /// the port's first answer (the SASL offer, the 101); `None` for MQTT, whose CONNACK is the
    /// answer. Judged by `gateway-auth-*`, whose JSON carries the verdict.
    #[serde(skip)]
    #[schemars(skip)]
    pub reply: Option<IdentityReply>,
}

/// What came back to the credentials after the port's first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityReply {
    Amqp(Result<AmqpAuthentication, AmqpError>),
    WebSocket(Result<Connack, MqttError>),
}

/// How the test message's QoS 1 PUBLISH ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum TestMessageOutcome {
    /// The PUBACK came: the gateway took the message.
    Acknowledged { topic: String },
    /// No PUBACK: why (one line).
    Failed { topic: String, message: String },
}

/// The certificates exactly as the server sent them, leaf first, each described once.
#[derive(Debug, Clone)]
pub struct PresentedChain {
    pub certificates: Vec<CertificateDer<'static>>,
    /// One per certificate, in the same order: its description, or why it cannot be read.
    pub summaries: Vec<Result<CertificateSummary, String>>,
    pub digest: ChainDigest,
}

impl PresentedChain {
    pub fn new(certificates: Vec<CertificateDer<'static>>) -> PresentedChain {
        let summaries = certificates
            .iter()
            .map(|der| describe(der).map_err(|error| error.to_string()))
            .collect();
        PresentedChain {
            digest: chain_digest(&certificates),
            certificates,
            summaries,
        }
    }

    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// The server certificate's description, when there is one and it could be read.
    pub fn leaf(&self) -> Option<&CertificateSummary> {
        self.summaries.first()?.as_ref().ok()
    }

    /// The descriptions of the certificates that could be read, in chain order.
    pub fn readable(&self) -> impl Iterator<Item = &CertificateSummary> {
        self.summaries
            .iter()
            .filter_map(|summary| summary.as_ref().ok())
    }
}

/// The chains a run was presented, each described once (bounded, for fleet runs).
#[derive(Debug)]
pub struct PresentedChains {
    memo: Memo<ChainDigest, Arc<PresentedChain>>,
    /// The chains interned last, compared byte for byte before any digest is computed: the
    /// ports of a gateway, and a fleet's gateways, mostly present the same certificates, and
    /// comparing them costs far less than hashing them for every port.
    recent: Recent<Arc<PresentedChain>>,
}

/// Chains compared byte for byte before the memo is asked.
const RECENT_CHAINS_KEPT: usize = 4;

/// The most chains remembered: a fleet of gateways usually presents a handful.
const CHAINS_KEPT: usize = 1024;

impl Default for PresentedChains {
    fn default() -> Self {
        PresentedChains {
            memo: Memo::new(CHAINS_KEPT),
            recent: Recent::new(RECENT_CHAINS_KEPT),
        }
    }
}

impl PresentedChains {
    /// The chain of `certificates`, described on its first presentation and shared after.
    pub fn intern(&self, certificates: Vec<CertificateDer<'static>>) -> Arc<PresentedChain> {
        if let Some(known) = self
            .recent
            .find(|known| (known.certificates == certificates).then(|| Arc::clone(known)))
        {
            return known;
        }
        let digest = chain_digest(&certificates);
        let chain = self
            .memo
            .get_or_compute(digest, || Arc::new(PresentedChain::new(certificates)));
        self.recent
            .remember(Arc::clone(&chain), |known| Arc::ptr_eq(known, &chain));
        chain
    }

    /// How many distinct chains were described.
    pub fn len(&self) -> usize {
        self.memo.len()
    }

    pub fn is_empty(&self) -> bool {
        self.memo.is_empty()
    }
}

impl Serialize for PresentedChain {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Entry<'a> {
            Described(&'a CertificateSummary),
            Unreadable { unreadable: &'a str },
        }
        let entries: Vec<Entry<'_>> = self
            .summaries
            .iter()
            .map(|summary| match summary {
                Ok(summary) => Entry::Described(summary),
                Err(reason) => Entry::Unreadable { unreadable: reason },
            })
            .collect();
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("sha256", &hex(&self.digest))?;
        map.serialize_entry("certificates", &entries)?;
        map.end()
    }
}

fn shared_chain<S: Serializer>(
    chain: &Arc<PresentedChain>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    chain.as_ref().serialize(serializer)
}

fn hex(bytes: &[u8]) -> String {
    crate::pki::describe::hex(bytes, b"0123456789abcdef", None)
}

impl Observation {
    pub fn session(&self) -> Option<&Session> {
        self.result.as_ref().ok()
    }

    pub fn error(&self) -> Option<&ConnectError> {
        self.result.as_ref().err()
    }

    pub fn chain(&self) -> Option<&PresentedChain> {
        self.session().map(|session| session.chain.as_ref())
    }

    /// "MQTTS 8883", for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.protocol.display_name(), self.port)
    }
}

impl Serialize for Observation {
    /// `protocol`, `server_name`, `port`, `attempts`, then the session's fields (`address`,
    /// `tls_version`, `cipher_suite`, `key_exchange_group`, `alpn`, `connect_ms`,
    /// `handshake_ms`, `chain`, `answer`) or, when there is none, `error` (its kind),
    /// `message` and `endpoint`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Failure {
            error: &'static str,
            message: String,
            endpoint: Option<String>,
        }
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Outcome<'a> {
            Session(&'a Session),
            Failure(Failure),
        }
        #[derive(Serialize)]
        struct Json<'a> {
            protocol: Protocol,
            server_name: &'a str,
            port: u16,
            #[serde(skip_serializing_if = "Option::is_none")]
            proxy: Option<&'a str>,
            attempts: &'a [Attempt],
            #[serde(flatten)]
            outcome: Outcome<'a>,
        }
        let outcome = match &self.result {
            Ok(session) => Outcome::Session(session),
            Err(error) => Outcome::Failure(Failure {
                error: error.kind(),
                message: error.to_string(),
                endpoint: error.endpoint().map(|endpoint| endpoint.to_string()),
            }),
        };
        Json {
            protocol: self.protocol,
            server_name: &self.server_name,
            port: self.port,
            proxy: self.proxy.as_deref(),
            attempts: &self.attempts,
            outcome,
        }
        .serialize(serializer)
    }
}

impl Serialize for Attempt {
    /// `address`, `elapsed_ms`, `result` (`connected`, the error's kind, `abandoned` or
    /// `not_tried`) and, unless connected, `message`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("address", &self.address.to_string())?;
        map.serialize_entry("elapsed_ms", &millis(self.elapsed))?;
        map.serialize_entry("result", self.kind())?;
        if let Some(message) = self.message() {
            map.serialize_entry("message", &message)?;
        }
        map.end()
    }
}

/// `{"result": "answered", ...the answer}` or `{"result": "failed", "error", "message",
/// "received"}`.
fn answer_json<S: Serializer>(
    answer: &Option<Result<ProbeAnswer, ProbeError>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(tag = "result", rename_all = "snake_case")]
    enum Json<'a> {
        Answered {
            answer: &'a ProbeAnswer,
        },
        Failed {
            error: &'static str,
            message: String,
            received: String,
        },
    }
    match answer {
        None => serializer.serialize_none(),
        Some(Ok(answer)) => Json::Answered { answer }.serialize(serializer),
        Some(Err(error)) => Json::Failed {
            error: error.kind(),
            message: format!("the server {error}"),
            received: describe_received(error.received()),
        }
        .serialize(serializer),
    }
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// A duration as milliseconds, to the microsecond: the one way durations are written.
pub(crate) fn as_millis<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(millis(*duration))
}

// ---- The JSON Schema of the above's JSON ----
//
// `Observation`, `Attempt` and `PresentedChain` serialize by hand (the session or the failure
// flattened in, the error as its kind and message), so their schema is written as the shapes
// they produce. Read only by `schemars` (the schema generator and tests, never the binary); the
// tests validating real output against the generated schema catch any drift.

impl schemars::JsonSchema for Observation {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Observation".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schema::ObservationJson::json_schema(generator)
    }
}

// Never built: read only by the derives, so neither field use nor variant size matters.
#[allow(dead_code, clippy::large_enum_variant)]
mod schema {
    use schemars::JsonSchema;

    use super::super::Protocol;
    use super::super::tls::Handshake;
    use crate::engine::Milliseconds;
    use crate::net::probe::ProbeAnswer;
    use crate::pki::describe::CertificateSummary;

    /// One endpoint as observed: the addresses tried, then the TLS session or why there was
    /// none.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    pub(super) enum ObservationJson {
        Connected(Connected),
        Failed(Failed),
    }

    /// A completed TLS handshake.
    #[derive(JsonSchema)]
    #[schemars(rename = "ObservedSession", deny_unknown_fields)]
    pub(super) struct Connected {
        #[serde(flatten)]
        dialed: Dialed,
        #[serde(flatten)]
        handshake: Handshake,
        chain: ChainJson,
        /// The protocol's first answer, read on the same connection; absent when not asked
        /// for.
        #[serde(skip_serializing_if = "Option::is_none")]
        answer: Option<AnswerJson>,
        /// `--authenticate`: the identity the answer was asked for with.
        #[serde(skip_serializing_if = "Option::is_none")]
        identity: Option<super::IdentityExchange>,
        /// How long the answer took, from the request; absent when none was asked for.
        #[serde(skip_serializing_if = "Option::is_none")]
        answer_ms: Option<Milliseconds>,
    }

    /// No TLS session: the connection or the handshake failed.
    #[derive(JsonSchema)]
    #[schemars(rename = "ObservationFailure", deny_unknown_fields)]
    pub(super) struct Failed {
        #[serde(flatten)]
        dialed: Dialed,
        /// The error's kind (`refused`, `connect_timeout`, `not_tls`, ...).
        error: String,
        /// The diagnosis, one line.
        message: String,
        /// The address concerned (`10.0.0.4:8883`); null when the error names none.
        endpoint: Option<String>,
    }

    // What both shapes open with: the endpoint dialed and every address tried, flattened in as
    // `Observation`'s serializer writes them. (A `//` comment: schemars would lend a doc comment
    // to both shapes as their description.)
    #[derive(JsonSchema)]
    struct Dialed {
        protocol: Protocol,
        /// The name dialed (SNI, and the HTTP Host).
        server_name: String,
        port: u16,
        /// The HTTP proxy tunnelled through (`http://user:<redacted>@host:port`); absent for
        /// a direct connection.
        #[serde(skip_serializing_if = "Option::is_none")]
        proxy: Option<String>,
        /// Every address tried, in order, and how each TCP attempt ended.
        attempts: Vec<AttemptJson>,
    }

    /// One TCP connection attempt.
    #[derive(JsonSchema)]
    #[schemars(rename = "Attempt", deny_unknown_fields)]
    struct AttemptJson {
        /// `10.0.0.4:8883`.
        address: String,
        elapsed_ms: Milliseconds,
        /// `connected`, the error's kind (`refused`, `connect_timeout`, ...), `abandoned`
        /// (unanswered when another address connected, RFC 8305) or `not_tried`.
        result: String,
        /// What became of it, unless it connected.
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    }

    /// The certificates exactly as the server sent them, leaf first.
    #[derive(JsonSchema)]
    #[schemars(rename = "PresentedChain", deny_unknown_fields)]
    struct ChainJson {
        /// SHA-256 over the chain (`pki::verdicts::chain_digest`), lower-case hex: the same for
        /// every port that presented the same certificates.
        sha256: String,
        certificates: Vec<ChainEntryJson>,
    }

    /// A certificate described, or why it could not be.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    #[schemars(rename = "PresentedCertificate")]
    enum ChainEntryJson {
        Described(CertificateSummary),
        Unreadable(Unreadable),
    }

    #[derive(JsonSchema)]
    #[schemars(rename = "UnreadableCertificate", deny_unknown_fields)]
    struct Unreadable {
        /// Why the certificate is not X.509.
        unreadable: String,
    }

    /// The protocol's answer, or how reading it failed.
    #[derive(JsonSchema)]
    #[serde(tag = "result", rename_all = "snake_case")]
    #[schemars(rename = "ProbeResult", deny_unknown_fields)]
    enum AnswerJson {
        Answered {
            answer: ProbeAnswer,
        },
        Failed {
            /// The failure's kind.
            error: String,
            message: String,
            /// What came back instead, described.
            received: String,
        },
    }
}

/// Connects (each address in turn), completes the TLS handshake, describes the chain (through
/// `chains`, once per run) and, with `read_answer`, sends the protocol's first request and reads
/// its answer on the same connection (within `request.timeout`), then closes politely.
pub async fn observe(
    request: &ConnectRequest<'_>,
    read_answer: bool,
    chains: &PresentedChains,
) -> Observation {
    observe_as(request, read_answer, None, chains).await
}

/// [`observe`], with the device's `credentials` sent as the device sends them
/// (`--authenticate`; [`super::authentication`]): the port still costs one connection.
pub async fn observe_as(
    request: &ConnectRequest<'_>,
    read_answer: bool,
    credentials: Option<&DeviceCredentials>,
    chains: &PresentedChains,
) -> Observation {
    let mut attempts = Vec::new();
    let result = match connect_recording(request, &mut attempts).await {
        Err(error) => Err(error),
        Ok(mut connected) => {
            let asked = std::time::Instant::now();
            let (answer, identity) = match (read_answer, credentials) {
                (false, _) => (None, None),
                (true, Some(credentials)) => {
                    let (answer, identity) = super::authentication::authenticate(
                        &mut connected.stream,
                        request,
                        credentials,
                    )
                    .await;
                    (Some(answer), Some(identity))
                }
                (true, _) => {
                    let probe_request = ProbeRequest {
                        protocol: request.protocol,
                        server_name: request.server_name,
                        port: request.port,
                        timeout: request.timeout,
                    };
                    let answer = probe::run(&mut connected.stream, &probe_request).await;
                    (Some(answer), None)
                }
            };
            let handshake = connected.handshake.clone();
            let chain = chains.intern(std::mem::take(&mut connected.chain));
            connected.close().await;
            let answer_time = answer.is_some().then(|| asked.elapsed());
            Ok(Session {
                handshake,
                chain,
                answer,
                identity,
                answer_time,
            })
        }
    };
    Observation {
        protocol: request.protocol,
        server_name: request.server_name.to_owned(),
        port: request.port,
        proxy: request.proxy.map(|proxy| proxy.to_string()),
        attempts,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lowercase_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn a_failed_observation_names_the_error_and_every_attempt() {
        let refused: SocketAddr = "192.0.2.1:8883".parse().unwrap();
        let accepted: SocketAddr = "192.0.2.2:8883".parse().unwrap();
        let observation = Observation {
            protocol: Protocol::Mqtt,
            server_name: "gw.contoso.com".to_owned(),
            port: 8883,
            proxy: None,
            attempts: vec![
                Attempt {
                    address: refused,
                    elapsed: Duration::from_micros(1500),
                    outcome: AttemptOutcome::Failed(ConnectError::Refused { endpoint: refused }),
                },
                Attempt {
                    address: accepted,
                    elapsed: Duration::from_micros(250),
                    outcome: AttemptOutcome::Connected,
                },
            ],
            result: Err(ConnectError::Closed { endpoint: accepted }),
        };
        let json = serde_json::to_value(&observation).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "protocol": "mqtt",
                "server_name": "gw.contoso.com",
                "port": 8883,
                "attempts": [
                    {
                        "address": "192.0.2.1:8883",
                        "elapsed_ms": 1.5,
                        "result": "refused",
                        "message": "connection to 192.0.2.1:8883 refused: nothing is listening on port 8883",
                    },
                    { "address": "192.0.2.2:8883", "elapsed_ms": 0.25, "result": "connected" },
                ],
                "error": "closed",
                "message": "192.0.2.2:8883 closed the connection during the TLS handshake",
                "endpoint": "192.0.2.2:8883",
            })
        );
        assert_eq!(observation.label(), "MQTTS 8883");
        assert!(observation.chain().is_none());
    }

    /// A demo gateway's PKI, its server certificate issued for `gateway.edgeprobe.test`.
    fn gateway_pki() -> crate::demo::pki::GatewayPki {
        crate::demo::pki::GatewayPki::generate(
            "gateway.edgeprobe.test",
            time::OffsetDateTime::now_utc(),
        )
        .expect("PKI")
    }

    #[test]
    fn the_chain_is_described_once_and_unreadable_certificates_say_why() {
        let pki = gateway_pki();
        let mut certificates = pki.server_chain();
        certificates.push(CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]));
        let chain = PresentedChain::new(certificates);
        assert_eq!(chain.len(), chain.summaries.len());
        assert_eq!(
            chain.leaf().map(|leaf| leaf.alt_names.dns_names.clone()),
            Some(vec!["gateway.edgeprobe.test".to_owned()])
        );
        assert_eq!(chain.readable().count(), chain.len() - 1);
        let json = serde_json::to_value(&chain).unwrap();
        assert_eq!(json["sha256"].as_str().map(str::len), Some(64));
        let last = &json["certificates"][chain.len() - 1];
        assert!(last["unreadable"].is_string(), "{last}");
        assert!(json["certificates"][0]["not_after"].is_string());
    }

    #[test]
    fn ports_presenting_the_same_chain_share_one_description() {
        let pki = gateway_pki();
        let chains = PresentedChains::default();
        let first = chains.intern(pki.server_chain());
        let again = chains.intern(pki.server_chain());
        assert!(Arc::ptr_eq(&first, &again));
        let leaf_only = chains.intern(pki.server_chain()[..1].to_vec());
        assert!(!Arc::ptr_eq(&first, &leaf_only));
        assert_eq!(chains.len(), 2);
    }

    /// Chains interleaved beyond the few compared byte for byte still come back as the one
    /// description per chain, each of its own certificates.
    #[test]
    fn many_interleaved_chains_each_keep_their_own_description() {
        let now = time::OffsetDateTime::now_utc();
        let chains = PresentedChains::default();
        let presented: Vec<Vec<CertificateDer<'static>>> = (0..RECENT_CHAINS_KEPT + 2)
            .map(|index| {
                crate::demo::pki::GatewayPki::generate(&format!("gw-{index}.edgeprobe.test"), now)
                    .expect("PKI")
                    .server_chain()
            })
            .collect();
        let first: Vec<Arc<PresentedChain>> = presented
            .iter()
            .map(|certificates| chains.intern(certificates.clone()))
            .collect();
        for _ in 0..2 {
            for (certificates, described) in presented.iter().zip(&first) {
                let again = chains.intern(certificates.clone());
                assert!(Arc::ptr_eq(&again, described));
                assert_eq!(&again.certificates, certificates);
                assert_eq!(again.digest, chain_digest(certificates));
            }
        }
        assert_eq!(chains.len(), presented.len());
    }
}
