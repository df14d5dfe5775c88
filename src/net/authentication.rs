//! `--authenticate`: the port's first exchange made as the device makes it, on the connection
//! the port's connect check opened (so a port still costs one connection): MQTT's CONNECT with
//! the device's user name and token (and `--send-test-message`'s PUBLISH), AMQP's SASL and
//! CBS put-token ([`super::probe::amqp_auth`]), or on the HTTPS port the WebSocket upgrade to
//! `/$iothub/websocket` and the same CONNECT in WebSocket frames ([`super::probe::websocket`]).
//! The token leaves through the stream only; what may be shown is in [`SentIdentity`].
//!
//! [`SentIdentity`]: crate::identity::SentIdentity

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::Protocol;
use super::observation::{IdentityExchange, IdentityReply, TestMessageOutcome};
use super::probe::amqp_auth::{self, AmqpCredential};
use super::probe::http::{self, HttpProbe};
use super::probe::{ProbeAnswer, ProbeError, mqtt, websocket};
use super::tls::ConnectRequest;
use crate::identity::DeviceCredentials;

/// The exchange for `request.protocol`: the port's answer (CONNACK, SASL offer, the upgrade's
/// HTTP response) and what was sent as the device, with what came back to it.
pub async fn authenticate<S>(
    stream: &mut S,
    request: &ConnectRequest<'_>,
    credentials: &DeviceCredentials,
) -> (Result<ProbeAnswer, ProbeError>, IdentityExchange)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut identity = IdentityExchange {
        sent: credentials.sent.clone(),
        test_message: None,
        reply: None,
    };
    let answer = match request.protocol {
        Protocol::Mqtt => {
            authenticate_mqtt(stream, credentials, request.timeout, &mut identity).await
        }
        Protocol::Amqp => {
            let (audience, plain_user, address) = (
                credentials.audience(),
                credentials.plain_user(),
                credentials.telemetry_address(),
            );
            let credential = match &credentials.password {
                Some(token) => AmqpCredential::Token {
                    audience: &audience,
                    token: token.expose_str(),
                    plain_user: &plain_user,
                },
                None => AmqpCredential::Certificate { address: &address },
            };
            match amqp_auth::authenticate(stream, request.server_name, credential, request.timeout)
                .await
            {
                Ok((offer, reply)) => {
                    identity.reply = Some(IdentityReply::Amqp(reply));
                    Ok(ProbeAnswer::Amqp(offer))
                }
                Err(error) => Err(ProbeError::from(error)),
            }
        }
        Protocol::Https => {
            let host = http::host_header(request.server_name, request.port);
            match websocket::authenticate(
                stream,
                &host,
                &credentials.sent.client_id,
                login(credentials),
                request.timeout,
            )
            .await
            {
                Ok(answer) => {
                    identity.reply = answer.connack.map(IdentityReply::WebSocket);
                    Ok(ProbeAnswer::Https(HttpProbe {
                        response: answer.response,
                        websocket: Some(answer.upgrade),
                    }))
                }
                Err(error) => Err(ProbeError::from(error)),
            }
        }
    };
    (answer, identity)
}

/// The MQTT user name and password (the token; none for X.509).
fn login(credentials: &DeviceCredentials) -> mqtt::Login<'_> {
    mqtt::Login {
        username: &credentials.sent.username,
        password: credentials
            .password
            .as_ref()
            .map(|token| token.expose_str().as_bytes()),
    }
}

/// The authenticating MQTT exchange: CONNECT as the device, CONNACK, and the test message.
async fn authenticate_mqtt<S>(
    stream: &mut S,
    credentials: &DeviceCredentials,
    timeout: Duration,
    identity: &mut IdentityExchange,
) -> Result<ProbeAnswer, ProbeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let topic = credentials.telemetry_topic();
    let message = credentials.send_test_message.then_some(mqtt::TestMessage {
        topic: &topic,
        payload: TEST_MESSAGE_PAYLOAD,
    });
    let result = mqtt::authenticate(
        stream,
        &credentials.sent.client_id,
        Some(login(credentials)),
        message,
        timeout,
    )
    .await;
    let (connack, published) = result.map_err(ProbeError::from)?;
    identity.test_message = published.map(|published| match published {
        Ok(()) => TestMessageOutcome::Acknowledged {
            topic: topic.clone(),
        },
        Err(error) => TestMessageOutcome::Failed {
            topic: topic.clone(),
            message: format!("the server {error}"),
        },
    });
    Ok(ProbeAnswer::Mqtt(connack))
}

/// The test message's body: says what it is to whoever reads the hub's telemetry.
const TEST_MESSAGE_PAYLOAD: &[u8] =
    br#"{"edgeprobe":"test message sent by edgeprobe check --send-test-message; ignore"}"#;
