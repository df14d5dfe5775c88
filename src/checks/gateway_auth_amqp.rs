//! `gateway-auth-amqp`: with `--authenticate`, the gateway accepts the device's identity over
//! AMQP as the device SDKs present it: SASL ANONYMOUS then a CBS put-token of the SAS token on
//! `$cbs` (SASL PLAIN with `{DeviceId}@sas.{hub}` where ANONYMOUS is not offered), or for
//! X.509 SASL EXTERNAL and a link to the device's telemetry address. The exchange ran on the
//! AMQP port's one connection (`net::authentication`); this check judges the reply with the
//! verdicts and fixes `gateway-auth-mqtt` gives CONNACK codes (CBS 401 as CONNACK 4, 404 as 5).

use super::catalog;
use crate::engine::info::AuthVerdict;
use crate::engine::{CheckMeta, Outcome, Skip};
use crate::identity::Method;
use crate::net::Protocol;
use crate::net::observation::IdentityReply;
use crate::net::probe::ProbeError;
use crate::net::probe::amqp_auth::{AmqpReply, CBS_NODE, TOKEN_TYPE, sasl_code_meaning};

use super::gateway_auth::{Attempt, AuthJudge, not_authenticated, refusal_remedy, token_text};

/// How AMQP refuses: what a close or silence is not.
const AMQP_REFUSAL: &str = "a SASL outcome code, a CBS status or a detach or close with an error";

/// `gateway-auth-amqp`.
pub struct Amqp;

impl AuthJudge for Amqp {
    const META: CheckMeta = catalog::GATEWAY_AUTH_AMQP;
    const PROTOCOL: Protocol = Protocol::Amqp;
    fn judge(&self, attempt: &mut Attempt<'_>) -> Result<(Outcome, String), Skip> {
        let (outcome, mechanism) = match (&attempt.session.answer, &attempt.identity.reply) {
            (Some(Err(error)), _) => (
                attempt.judge_failure(error, "SASL offer", AMQP_REFUSAL),
                None,
            ),
            (_, Some(IdentityReply::Amqp(Ok(authentication)))) => {
                attempt.info.mechanism = Some(authentication.mechanism);
                let outcome = judge_reply(attempt, &authentication.reply);
                (outcome, Some(authentication.mechanism))
            }
            (_, Some(IdentityReply::Amqp(Err(error)))) => {
                let error = ProbeError::from(error.clone());
                (
                    attempt.judge_failure(&error, "AMQP reply", AMQP_REFUSAL),
                    None,
                )
            }
            _ => return Err(not_authenticated()),
        };
        Ok((outcome, sent(attempt, mechanism)))
    }
}

/// The verdict on what the gateway answered after SASL.
fn judge_reply(attempt: &mut Attempt<'_>, reply: &AmqpReply) -> Outcome {
    let (label, who) = (&attempt.label, &attempt.who);
    let refused =
        |what: String| Outcome::error(format!("{label}: the gateway refused {who}: {what}"));
    let (verdict, outcome) = match reply {
        AmqpReply::Cbs {
            status_code,
            status_description,
        } => {
            attempt.info.status_code = *status_code;
            attempt.info.status_description = status_description.clone();
            let described = |code: &dyn std::fmt::Display| match status_description {
                Some(description) => format!("CBS put-token status {code} ({description})"),
                None => format!("CBS put-token status {code}"),
            };
            match status_code {
                Some(200..=299) => (
                    AuthVerdict::Accepted,
                    Outcome::ok(format!(
                        "{label}: the gateway accepted {who} ({})",
                        described(&status_code.unwrap_or_default())
                    )),
                ),
                Some(401) => (AuthVerdict::BadCredentials, refused(described(&401))),
                Some(code @ (403 | 404)) => (AuthVerdict::NotAuthorized, refused(described(code))),
                Some(code) => (AuthVerdict::Refused, refused(described(code))),
                None => (
                    AuthVerdict::Refused,
                    refused("a CBS reply without a status-code".to_owned()),
                ),
            }
        }
        AmqpReply::SaslOutcome { code } => {
            attempt.info.status_code = Some((*code).into());
            let what = format!("SASL outcome {code} ({})", sasl_code_meaning(*code));
            match code {
                0 => (
                    AuthVerdict::Accepted,
                    Outcome::ok(format!("{label}: the gateway accepted {who} ({what})")),
                ),
                1 if attempt.info.mechanism != Some("ANONYMOUS") => {
                    (AuthVerdict::BadCredentials, refused(what))
                }
                4 => (AuthVerdict::ServerUnavailable, refused(what)),
                _ => (AuthVerdict::Refused, refused(what)),
            }
        }
        AmqpReply::Attached => (
            AuthVerdict::Accepted,
            Outcome::ok(format!(
                "{label}: the gateway accepted {who} (the telemetry link was attached)"
            )),
        ),
        AmqpReply::Refused {
            performative,
            condition,
            description,
        } => {
            attempt.info.status_description = condition.clone();
            let what = match (condition, description) {
                (Some(condition), Some(description)) => {
                    format!("{performative} with `{condition}` ({description})")
                }
                (Some(condition), None) => format!("{performative} with `{condition}`"),
                (None, _) => format!("{performative} without an error"),
            };
            let verdict = match condition.as_deref() {
                Some("amqp:unauthorized-access") => AuthVerdict::BadCredentials,
                Some("amqp:not-found") => AuthVerdict::NotAuthorized,
                _ => AuthVerdict::Refused,
            };
            (verdict, refused(what))
        }
    };
    let outcome = match verdict {
        AuthVerdict::Accepted => outcome,
        _ => outcome.remedy(refusal_remedy(verdict, &attempt.credentials)),
    };
    attempt.verdict(verdict, outcome)
}

/// What was sent, as it may be shown: the mechanism and the CBS request, never the token.
fn sent(attempt: &Attempt<'_>, mechanism: Option<&str>) -> String {
    let credentials = &attempt.credentials;
    let token = token_text(attempt.identity);
    let then = match (credentials.sent.method, mechanism) {
        (Method::X509, _) => format!(
            "an attach to `{}` (the certificate was presented in the TLS handshake)",
            credentials.telemetry_address()
        ),
        (_, Some("PLAIN")) => format!("user `{}`, password: {token}", credentials.plain_user()),
        _ => format!(
            "a CBS put-token on `{CBS_NODE}` for `{}` (type {TOKEN_TYPE}), token: {token}",
            credentials.audience()
        ),
    };
    match mechanism {
        Some(mechanism) => format!("AMQP 1.0, SASL {mechanism}, then {then}"),
        None => format!("AMQP 1.0 SASL header; the device would send {then}"),
    }
}
