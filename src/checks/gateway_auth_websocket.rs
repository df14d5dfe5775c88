//! `gateway-auth-websocket`: with `--authenticate`, the gateway accepts the device's identity
//! over MQTT over WebSockets, as devices behind a proxy or a closed 8883 connect: on the HTTPS
//! port's one connection, the upgrade to `/$iothub/websocket` (subprotocol `mqtt`), then the
//! same CONNECT as `gateway-auth-mqtt` in WebSocket binary frames (RFC 6455). The CONNACK is
//! judged by `gateway-auth-mqtt`'s verdict table.

use super::catalog;
use crate::engine::info::AuthVerdict;
use crate::engine::{CheckMeta, Outcome, Skip};
use crate::net::Protocol;
use crate::net::observation::IdentityReply;
use crate::net::probe::http::{WEBSOCKET_PATH, WEBSOCKET_SUBPROTOCOL};
use crate::net::probe::{ProbeAnswer, ProbeError};

use super::gateway_auth::{Attempt, AuthJudge, CONNACK_REFUSAL, mqtt_login, not_authenticated};

/// `gateway-auth-websocket`.
pub struct WebSocket;

impl AuthJudge for WebSocket {
    const META: CheckMeta = catalog::GATEWAY_AUTH_WEBSOCKET;
    const PROTOCOL: Protocol = Protocol::Https;
    fn judge(&self, attempt: &mut Attempt<'_>) -> Result<(Outcome, String), Skip> {
        let upgrade = match &attempt.session.answer {
            Some(Ok(ProbeAnswer::Https(https))) => https.websocket.as_ref(),
            _ => None,
        };
        let outcome = match (&attempt.session.answer, upgrade, &attempt.identity.reply) {
            (Some(Err(error)), _, _) => {
                attempt.judge_failure(error, "WebSocket upgrade answer", "an HTTP status")
            }
            (_, Some(upgrade), _) if !upgrade.upgraded => {
                attempt.info.verdict = AuthVerdict::Refused;
                Outcome::error(format!(
                    "{}: the gateway did not take MQTT over WebSockets at {WEBSOCKET_PATH}: {}",
                    attempt.label,
                    upgrade.problem.as_deref().unwrap_or("no reason given")
                ))
                .remedy("devices using MQTT over WebSockets (e.g. Mqtt_WebSocket_Only, MQTT_WebSocket_Protocol) cannot connect: edgeHub serves them at /$iothub/websocket on 443; check that port 443 is edgeHub's and not another web server's or a proxy's that drops the Upgrade header")
            }
            (_, _, Some(IdentityReply::WebSocket(Ok(connack)))) => {
                attempt.judge_connack(connack.return_code)
            }
            (_, _, Some(IdentityReply::WebSocket(Err(error)))) => {
                attempt.judge_failure(&ProbeError::from(error.clone()), "CONNACK", CONNACK_REFUSAL)
            }
            _ => return Err(not_authenticated()),
        };
        let outcome = if attempt.context.identity.send_test_message {
            outcome
                .detail("--send-test-message publishes over MQTT on 8883 only (gateway-auth-mqtt)")
        } else {
            outcome
        };
        let sent = format!(
            "WebSocket upgrade to {WEBSOCKET_PATH} (subprotocol {WEBSOCKET_SUBPROTOCOL}), then MQTT 3.1.1 CONNECT in binary frames, {}",
            mqtt_login(attempt.identity)
        );
        Ok((outcome, sent))
    }
}
