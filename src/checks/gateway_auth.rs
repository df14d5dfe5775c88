//! `gateway-auth-mqtt`: with `--authenticate`, the gateway accepts the device's identity: the
//! CONNECT the device SDK sends (client id, user name, SAS token or X.509 certificate) earns
//! CONNACK 0, and with `--send-test-message` a QoS 1 message its PUBACK. The CONNECT was sent by
//! the port's connect check, on its one connection (`observation::observe_as`); this check
//! judges the answer, and first whether credentials could be made at all (an expired
//! SharedAccessSignature is reported without connecting).
//!
//! The verdicts follow MQTT 3.1.1 table 3.1 as edgeHub and IoT Hub use it ("Communicate with an
//! IoT hub using the MQTT protocol"; edgeHub's `DeviceScopeTokenAuthenticator` and
//! `AuthAgentController`), and step 2 of "Connect a downstream device to an Azure IoT Edge
//! gateway": a leaf must be a child of its gateway in IoT Hub.
//!
//! What every `gateway-auth-*` check shares lives here: the prologue ([`attempt`]: credentials,
//! the port's observation), the verdict table with its causes and fixes (`gateway-auth-websocket`
//! reads the same CONNACK, `gateway-auth-amqp` maps CBS statuses onto the same verdicts), and
//! the no-answer verdict.

use super::catalog;
use crate::engine::info::{AuthVerdict, GatewayAuthInfo, ProtocolPort};
use crate::engine::{CheckMeta, Context, DeclaredCheck, OrSkip, Outcome, Prior, Ran, Skip};
use crate::identity::{
    CredentialError, DeviceCredentials, Method, alert_in, certificate_alert_remedy,
};
use crate::net::Protocol;
use crate::net::observation::{IdentityExchange, Session, TestMessageOutcome};
use crate::net::probe::{ProbeAnswer, ProbeError, TransportError};

use super::device_clock::token_clock_first;

/// One `gateway-auth-*` check: the shared prologue ([`attempt`]), then its protocol's judge.
pub struct GatewayAuthCheck<J>(pub J);

/// What differs between the `gateway-auth-*` checks: their metadata, their port, and how the
/// answer is judged.
pub(super) trait AuthJudge: Send + Sync {
    const META: CheckMeta;
    const PROTOCOL: Protocol;
    /// The verdict on what came back, and what was sent (as it may be shown).
    fn judge(&self, attempt: &mut Attempt<'_>) -> Result<(Outcome, String), Skip>;
}

impl<J: AuthJudge> DeclaredCheck for GatewayAuthCheck<J> {
    const META: CheckMeta = J::META;
    fn applies(&self, context: &Context) -> bool {
        context.identity.authenticate
    }
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let mut attempt = match attempt(context, prior, J::PROTOCOL)? {
            Ok(attempt) => attempt,
            Err(outcome) => return Ok(outcome),
        };
        let (outcome, sent) = self.0.judge(&mut attempt)?;
        Ok(attempt.finish(outcome, sent))
    }
}

/// Skipped: the connect check made no authenticating exchange.
pub(super) fn not_authenticated() -> Skip {
    Skip::because("skipped because the connect check did not authenticate")
}

/// `gateway-auth-mqtt`.
pub struct Mqtt;

impl AuthJudge for Mqtt {
    const META: CheckMeta = catalog::GATEWAY_AUTH_MQTT;
    const PROTOCOL: Protocol = Protocol::Mqtt;
    fn judge(&self, attempt: &mut Attempt<'_>) -> Result<(Outcome, String), Skip> {
        let outcome = match &attempt.session.answer {
            Some(Ok(ProbeAnswer::Mqtt(connack))) => {
                let outcome = attempt.judge_connack(connack.return_code);
                with_test_message(outcome, attempt.identity)
            }
            Some(Ok(other)) => Outcome::error(format!(
                "{}: the server answered {} instead of a CONNACK",
                attempt.label,
                other.summary()
            )),
            Some(Err(error)) => attempt.judge_failure(error, "CONNACK", CONNACK_REFUSAL),
            None => return Err(not_authenticated()),
        };
        Ok((
            outcome,
            format!("MQTT 3.1.1 CONNECT, {}", mqtt_login(attempt.identity)),
        ))
    }
}

/// How MQTT refuses: what a close or silence is not.
pub(super) const CONNACK_REFUSAL: &str = "a CONNACK code";

/// A `gateway-auth-*` check's inputs: the credentials, and what the port's connection sent
/// and got back; `info` filled in as the verdict is made.
pub(super) struct Attempt<'p> {
    pub context: &'p Context,
    pub prior: &'p Prior,
    pub credentials: DeviceCredentials,
    pub session: &'p Session,
    pub identity: &'p IdentityExchange,
    /// `MQTTS 8883`.
    pub label: String,
    /// `device `leaf-01` with a SAS token made from the SharedAccessKey`.
    pub who: String,
    pub info: GatewayAuthInfo,
}

/// The shared prologue: the connection string's credentials (an expired SharedAccessSignature
/// or a missing certificate is the verdict, nothing having been sent), and the `protocol`
/// port's observation with what was sent as the device.
pub(super) fn attempt<'p>(
    context: &'p Context,
    prior: &'p Prior,
    protocol: Protocol,
) -> Result<Result<Attempt<'p>, Outcome>, Skip> {
    let parsed = prior.connection_string().or_skip(
        "skipped because no usable connection string was given: --authenticate needs the device's (HostName, DeviceId and SharedAccessKey, SharedAccessSignature or x509=true)",
    )?;
    let credentials = match DeviceCredentials::from_connection_string(
        parsed,
        context.now,
        context.identity.send_test_message,
    ) {
        Ok(credentials) => credentials,
        Err(error) => return Ok(Err(refused_before_connecting(&error))),
    };
    if credentials.sent.method == Method::X509 && context.identity.certificate.is_none() {
        return Ok(Err(Outcome::error(format!(
            "device `{}` authenticates with an X.509 certificate (x509=true), but no certificate was given: nothing was sent",
            credentials.sent.client_id
        ))
        .remedy("pass the device's certificate and key: --cert <device full-chain.pem> --key <device key.pem>")));
    }
    let unconnected = format!(
        "skipped because no TLS connection was made on the {} port",
        protocol.display_name()
    );
    let observation = prior
        .observations()
        .into_iter()
        .find(|observation| observation.protocol == protocol)
        .or_skip(&unconnected)?;
    let session = observation.session().or_skip(&unconnected)?;
    let identity = session.identity.as_ref().ok_or_else(not_authenticated)?;
    let who = format!(
        "device `{}` with {}",
        identity.sent.client_id,
        identity.sent.method.text()
    );
    let info = GatewayAuthInfo {
        probed: ProtocolPort {
            protocol,
            port: observation.port,
        },
        endpoint: session.handshake.address.to_string(),
        identity: identity.clone(),
        verdict: AuthVerdict::NoAnswer,
        return_code: None,
        mechanism: None,
        status_code: None,
        status_description: None,
    };
    Ok(Ok(Attempt {
        context,
        prior,
        credentials,
        session,
        identity,
        label: observation.label(),
        who,
        info,
    }))
}

impl Attempt<'_> {
    /// A CONNACK's verdict (MQTT, and MQTT over WebSockets), the clock first when a token was
    /// refused and `device-clock` found it off.
    pub fn judge_connack(&mut self, code: u8) -> Outcome {
        self.info.return_code = Some(code);
        let (verdict, outcome) = judge_connack(&self.label, &self.who, code, &self.credentials);
        self.verdict(verdict, outcome)
    }

    /// Records `verdict`; a refused token leads its remedy with the clock when it is off.
    pub fn verdict(&mut self, verdict: AuthVerdict, outcome: Outcome) -> Outcome {
        self.info.verdict = verdict;
        if verdict == AuthVerdict::BadCredentials && self.credentials.sent.method != Method::X509 {
            return token_clock_first(self.prior, outcome);
        }
        outcome
    }

    /// No `answer` (`CONNACK`, `AMQP reply`) came: told apart from a `refusal` (`a CONNACK
    /// code`), which is an answer.
    pub fn judge_failure(&mut self, error: &ProbeError, answer: &str, refusal: &str) -> Outcome {
        let (verdict, outcome) = judge_failure(&self.label, &self.who, error, (answer, refusal));
        self.info.verdict = verdict;
        outcome
    }

    /// The outcome with what was `sent` and the typed info.
    pub fn finish(self, outcome: Outcome, sent: String) -> Outcome {
        outcome.detail(format!("sent: {sent}")).info(self.info)
    }
}

/// The CONNECT's login as it may be shown: user name, and the password's kind and expiry.
pub(super) fn mqtt_login(identity: &IdentityExchange) -> String {
    format!(
        "client id `{}`, user name `{}`, {}",
        identity.sent.client_id,
        identity.sent.username,
        match identity.sent.method {
            Method::X509 =>
                "no password (the certificate was presented in the TLS handshake)".to_owned(),
            _ => format!("password: {}", token_text(identity)),
        }
    )
}

/// `a SAS token made from the SharedAccessKey (expires 2026-12-01T12:05:00Z)`.
pub(super) fn token_text(identity: &IdentityExchange) -> String {
    format!(
        "{}{}",
        identity.sent.method.text(),
        identity
            .sent
            .token_expires
            .map(|expires| format!(" (expires {})", rfc3339(expires)))
            .unwrap_or_default()
    )
}

fn rfc3339(time: time::OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

/// Credentials that could not be made: nothing was sent.
fn refused_before_connecting(error: &CredentialError) -> Outcome {
    Outcome::error(error.to_string()).remedy(error.remedy())
}

/// The CONNACK verdict table: each refusal with its cause and fix.
fn judge_connack(
    label: &str,
    who: &str,
    code: u8,
    credentials: &DeviceCredentials,
) -> (AuthVerdict, Outcome) {
    let (verdict, meaning) = match code {
        0 => {
            return (
                AuthVerdict::Accepted,
                Outcome::ok(format!("{label}: the gateway accepted {who} (CONNACK 0)")),
            );
        }
        2 => (AuthVerdict::IdentifierRejected, "identifier rejected"),
        3 => (AuthVerdict::ServerUnavailable, "server unavailable"),
        4 => (AuthVerdict::BadCredentials, "bad user name or password"),
        5 => (AuthVerdict::NotAuthorized, "not authorized"),
        1 => (AuthVerdict::Refused, "unacceptable protocol version"),
        _ => (AuthVerdict::Refused, "a code MQTT 3.1.1 does not define"),
    };
    let outcome = Outcome::error(format!(
        "{label}: the gateway refused {who}: CONNACK {code} ({meaning})"
    ));
    let remedy = match (verdict, code) {
        (AuthVerdict::Refused, 1) => "the server does not speak MQTT 3.1.1, which edgeHub and the device SDKs speak: the port is served by another broker; let edgeHub serve it".to_owned(),
        (AuthVerdict::Refused, _) => "the server on this port is not a compliant MQTT 3.1.1 broker; let edgeHub serve it".to_owned(),
        _ => refusal_remedy(verdict, credentials),
    };
    (verdict, outcome.remedy(remedy))
}

/// The cause and fix of a refusal, whichever protocol said it (CONNACK 2-5, CBS 401/404).
pub(super) fn refusal_remedy(verdict: AuthVerdict, credentials: &DeviceCredentials) -> String {
    let device = &credentials.device.device_id;
    let hub = &credentials.device.host_name;
    match verdict {
        AuthVerdict::IdentifierRejected => format!(
            "edgeHub takes the MQTT client id as the device identity and it must be exactly `{}` (DeviceId, or DeviceId/ModuleId for a module): check DeviceId in the connection string against the device in IoT Hub (`az iot hub device-identity show --device-id {device} --hub-name {hub}`); ids are case-sensitive",
            credentials.sent.client_id
        ),
        AuthVerdict::ServerUnavailable => "edgeHub cannot reach IoT Hub to check this identity and has none cached (a device must connect once while the gateway is online): on the gateway run `sudo iotedge check` and `sudo iotedge logs edgeHub`, and restore its connection to IoT Hub".to_owned(),
        AuthVerdict::BadCredentials => match credentials.sent.method {
            Method::X509 => format!(
                "IoT Hub does not accept this certificate for `{device}`: for a self-signed device register the thumbprint `device-certificate` prints (`az iot hub device-identity create --device-id {device} --hub-name {hub} --am x509_thumbprint --ptp <SHA-1 or SHA-256>`); for a CA-signed device the CN must be `{device}` and the CA verified in IoT Hub"
            ),
            _ => format!(
                "the key or token does not match the device identity: copy the current primary key again (`az iot hub device-identity connection-string show --device-id {device} --hub-name {hub}`; the key may have been rotated), check that HostName `{hub}` is the hub the gateway belongs to, and that the device clock is right (`timedatectl`): a token signed with a wrong clock is expired or not yet valid"
            ),
        },
        AuthVerdict::NotAuthorized => format!(
            "the gateway does not know `{device}` as one of its devices: it may not exist or be disabled in `{hub}` (`az iot hub device-identity show --device-id {device} --hub-name {hub}`), or it is not a child of this gateway (step 2 of the downstream-device guide): `az iot hub device-identity parent set --device-id {device} --parent-device-id <gateway device id> --hub-name {hub}`, or in the portal the device's \"Set a parent device\""
        ),
        _ => "see `sudo iotedge logs edgeHub` on the gateway for why it refused the device".to_owned(),
    }
}

/// No CONNACK: told apart from a refusal. A TLS alert after the handshake is how a TLS 1.3
/// server rejects the client's certificate (RFC 8446 §4.4.2.4).
fn judge_failure(
    label: &str,
    who: &str,
    error: &ProbeError,
    (answer, refusal): (&str, &str),
) -> (AuthVerdict, Outcome) {
    let transport = error.transport();
    if let Some(TransportError::Tls { detail }) = transport
        && let Some(alert) = alert_in(detail)
    {
        let outcome = Outcome::error(format!(
            "{label}: the gateway ended the TLS session with the alert `{alert}` instead of answering {who}"
        ));
        return (
            AuthVerdict::CertificateRejected,
            match certificate_alert_remedy(&alert) {
                Some(remedy) => outcome.remedy(remedy),
                None => outcome.remedy(
                    "see `sudo iotedge logs edgeHub` for why the gateway ended the session",
                ),
            },
        );
    }
    let verdict = match transport {
        Some(TransportError::Closed { .. } | TransportError::Reset { .. }) => AuthVerdict::Closed,
        _ => AuthVerdict::NoAnswer,
    };
    (
        verdict,
        Outcome::error(format!("{label}: no {answer} for {who}: the server {error}"))
            .remedy(format!("this is not a refusal (a refusing gateway answers with {refusal}): edgeHub may be hung or restarting, or something else holds the port; check `sudo iotedge logs edgeHub`")),
    )
}

/// `--send-test-message`: the PUBACK, or why it did not come.
fn with_test_message(mut outcome: Outcome, identity: &IdentityExchange) -> Outcome {
    match &identity.test_message {
        None => outcome,
        Some(TestMessageOutcome::Acknowledged { topic }) => {
            outcome.detail(format!("test message to `{topic}`: PUBACK received"))
        }
        Some(TestMessageOutcome::Failed { topic, message }) => {
            outcome.escalate(crate::engine::Status::Error);
            outcome.message = format!(
                "{} but its test message was not acknowledged",
                outcome.message
            );
            outcome
                .detail(format!("test message to `{topic}`: {message}"))
                .remedy("the gateway accepted the device but not its telemetry: check `sudo iotedge logs edgeHub` (routes, or a full message store)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Status;

    fn credentials() -> DeviceCredentials {
        let parsed = crate::connection_string::parse(
            "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .unwrap();
        DeviceCredentials::from_connection_string(&parsed, time::OffsetDateTime::now_utc(), false)
            .unwrap()
    }

    #[test]
    fn every_connack_code_has_its_verdict_cause_and_fix() {
        let credentials = credentials();
        let verdicts: Vec<(AuthVerdict, Status)> = (0..=6)
            .map(|code| {
                let (verdict, outcome) = judge_connack("MQTTS 8883", "device", code, &credentials);
                assert!(code == 0 || outcome.remedy.is_some(), "{code}");
                (verdict, outcome.status)
            })
            .collect();
        use AuthVerdict::*;
        assert_eq!(
            verdicts,
            [
                (Accepted, Status::Ok),
                (Refused, Status::Error),
                (IdentifierRejected, Status::Error),
                (ServerUnavailable, Status::Error),
                (BadCredentials, Status::Error),
                (NotAuthorized, Status::Error),
                (Refused, Status::Error),
            ]
        );
        let (_, five) = judge_connack("MQTTS 8883", "device", 5, &credentials);
        let remedy = five.remedy.unwrap();
        assert!(
            remedy.contains("az iot hub device-identity parent set --device-id leaf-01"),
            "{remedy}"
        );
        assert!(remedy.contains("Set a parent device"));
        let (_, four) = judge_connack("MQTTS 8883", "device", 4, &credentials);
        assert!(four.remedy.unwrap().contains("rotated"));
    }

    #[test]
    fn a_close_is_not_a_refusal_and_an_alert_is_named() {
        let closed = ProbeError::from(crate::net::probe::mqtt::MqttError::from(
            TransportError::Closed { received: vec![] },
        ));
        let (verdict, outcome) = judge_failure(
            "MQTTS 8883",
            "device",
            &closed,
            ("CONNACK", CONNACK_REFUSAL),
        );
        assert_eq!(verdict, AuthVerdict::Closed);
        assert!(
            outcome.message.contains("no CONNACK"),
            "{}",
            outcome.message
        );
        let alert = ProbeError::from(crate::net::probe::mqtt::MqttError::from(
            TransportError::Tls {
                detail: "received fatal alert: CertificateRequired".into(),
            },
        ));
        let (verdict, outcome) =
            judge_failure("MQTTS 8883", "device", &alert, ("CONNACK", CONNACK_REFUSAL));
        assert_eq!(verdict, AuthVerdict::CertificateRejected);
        assert!(outcome.message.contains("`certificate_required`"));
        assert!(outcome.remedy.unwrap().contains("--cert"));
    }
}
