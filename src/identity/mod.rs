//! The device's identity as a gateway checks it: the credentials a device SDK presents when it
//! connects (MQTT client id, user name and password; the SAS token), made from the connection
//! string once and handed to the network step that sends them. Secrets stay in
//! [`SecretString`]s; what may be shown (the client id, the user name, how the device
//! authenticates, the token's expiry) is in [`SentIdentity`].
//!
//! MQTT as IoT Hub and edgeHub expect it ("Communicate with an IoT hub using the MQTT
//! protocol"): client id = DeviceId (`DeviceId/ModuleId` for a module), user name
//! `{HostName}/{DeviceId}/?api-version=2021-04-12`, password the SAS token, or no password
//! when the device presents an X.509 certificate in the TLS handshake.

pub mod certificate;
pub mod sas;

use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::connection_string::{Authentication, ConnectionString};
use crate::secrets::SecretString;
use sas::{SasError, SasToken, make_token, resource};

/// The API version the device SDKs put in the MQTT user name.
pub const API_VERSION: &str = "2021-04-12";

/// How long a token edgeprobe makes from the key lives: long enough for one check, short
/// enough that a token caught on the wire is soon useless.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::minutes(5);

/// `check`'s identity options: whether to authenticate as the device, and with which files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityOptions {
    /// `--authenticate`: connect as the device (this ends a live session of the real device).
    pub authenticate: bool,
    /// `--send-test-message`: publish one QoS 1 message after CONNACK 0.
    pub send_test_message: bool,
    /// `--cert`: the device's certificate (its full chain), presented in the TLS handshake.
    pub certificate: Option<PathBuf>,
    /// `--key`: the private key of `--cert`; never printed.
    pub key: Option<PathBuf>,
    /// `--device-ca`: the CA the device certificate should chain to.
    pub device_ca: Option<PathBuf>,
}

/// How the device proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A SAS token signed with the connection string's SharedAccessKey.
    SharedAccessKey,
    /// The connection string's own SharedAccessSignature.
    SharedAccessSignature,
    /// `x509=true`: a client certificate in the TLS handshake.
    X509,
}

impl Method {
    pub fn text(self) -> &'static str {
        match self {
            Method::SharedAccessKey => "a SAS token made from the SharedAccessKey",
            Method::SharedAccessSignature => "the connection string's SharedAccessSignature",
            Method::X509 => "the X.509 certificate",
        }
    }
}

/// What was sent to prove the identity, as it may be shown: never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SentIdentity {
    pub method: Method,
    /// The MQTT client id (the DeviceId, `DeviceId/ModuleId` for a module).
    pub client_id: String,
    /// The MQTT user name.
    pub username: String,
    /// The token's `se`, RFC 3339; absent for X.509.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schemars(with = "Option<crate::engine::Timestamp>")]
    pub token_expires: Option<OffsetDateTime>,
}

/// The device's credentials, ready to send.
#[derive(Debug, Clone)]
pub struct DeviceCredentials {
    pub sent: SentIdentity,
    /// The MQTT password: the SAS token; `None` for X.509.
    pub password: Option<SecretString>,
    pub device: Device,
    /// `--send-test-message`: publish one QoS 1 message after CONNACK 0.
    pub send_test_message: bool,
}

/// The device (or module) the connection string names, and its hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `HostName`: the IoT hub.
    pub host_name: String,
    pub device_id: String,
    pub module_id: Option<String>,
}

impl Device {
    /// `devices/{DeviceId}` (plus `/modules/{ModuleId}`): where the hub keeps the device's
    /// token resource and telemetry.
    fn path(&self) -> String {
        match &self.module_id {
            Some(module) => format!("devices/{}/modules/{module}", self.device_id),
            None => format!("devices/{}", self.device_id),
        }
    }
}

/// Why no credentials could be made; found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the connection string's SharedAccessSignature cannot be used: {0}")]
    BadToken(SasError),
    #[error(
        "the connection string's SharedAccessSignature expired at {expired} (now {now}): it was not sent, since the gateway would refuse it"
    )]
    Expired { expired: String, now: String },
    #[error(
        "the connection string's SharedAccessSignature is for `{resource}`, not for `{expected}`: the gateway would refuse it"
    )]
    WrongResource { resource: String, expected: String },
}

impl CredentialError {
    /// What to do about it.
    pub fn remedy(&self) -> &'static str {
        match self {
            CredentialError::BadToken(_) | CredentialError::WrongResource { .. } => {
                "generate a new token for this device (`az iot hub generate-sas-token --device-id <id> --hub-name <hub>`), or use the connection string with `SharedAccessKey=`"
            }
            CredentialError::Expired { .. } => {
                "generate a new token (`az iot hub generate-sas-token --device-id <id> --hub-name <hub> --du <seconds>`), or use the connection string with `SharedAccessKey=` so the SDK renews tokens itself; check the device clock too (`timedatectl`)"
            }
        }
    }
}

impl DeviceCredentials {
    /// The credentials `parsed` gives at `now`: a fresh token from the key (valid for
    /// [`TOKEN_LIFETIME`]), the string's own token once its expiry and resource are checked,
    /// or no password for X.509.
    pub fn from_connection_string(
        parsed: &ConnectionString,
        now: OffsetDateTime,
        send_test_message: bool,
    ) -> Result<DeviceCredentials, CredentialError> {
        let device_id = parsed.address.device_id.clone();
        let module_id = parsed.address.module_id.clone();
        let client_id = match &module_id {
            Some(module) => format!("{device_id}/{module}"),
            None => device_id.clone(),
        };
        let username = format!(
            "{}/{client_id}/?api-version={API_VERSION}",
            parsed.address.host_name
        );
        let scope = resource(&parsed.address.host_name, &device_id, module_id.as_deref());
        let (method, password, token_expires) = match &parsed.authentication {
            Authentication::SharedAccessKey(key) => {
                // `se` is whole seconds; the expiry shown is the one signed.
                let expiry = (now + TOKEN_LIFETIME).unix_timestamp();
                let token = make_token(key.expose_secret(), &scope, expiry);
                let expires = OffsetDateTime::from_unix_timestamp(expiry).ok();
                (Method::SharedAccessKey, Some(token), expires)
            }
            Authentication::SharedAccessSignature(text) => {
                let token =
                    SasToken::parse(text.expose_str()).map_err(CredentialError::BadToken)?;
                if token.is_expired(now) {
                    return Err(CredentialError::Expired {
                        expired: rfc3339_seconds(token.expiry),
                        now: rfc3339_seconds(now.unix_timestamp()),
                    });
                }
                if !token.resource.eq_ignore_ascii_case(&scope) {
                    return Err(CredentialError::WrongResource {
                        resource: token.resource,
                        expected: scope,
                    });
                }
                let expires = token.expires_at();
                (Method::SharedAccessSignature, Some(token.token), expires)
            }
            Authentication::X509 => (Method::X509, None, None),
        };
        Ok(DeviceCredentials {
            sent: SentIdentity {
                method,
                client_id,
                username,
                token_expires,
            },
            password,
            device: Device {
                host_name: parsed.address.host_name.clone(),
                device_id,
                module_id,
            },
            send_test_message,
        })
    }

    /// The CBS audience of the device's token (the put-token `name`): the token's resource,
    /// `{HostName}/devices/{DeviceId}` (plus `/modules/{ModuleId}`), not URL-encoded.
    pub fn audience(&self) -> String {
        let device = &self.device;
        resource(
            &device.host_name,
            &device.device_id,
            device.module_id.as_deref(),
        )
    }

    /// The SASL PLAIN user name IoT Hub takes a device token with: `{DeviceId}@sas.{hub name}`
    /// (`{DeviceId}/{ModuleId}@sas.{hub name}` for a module), the hub name being HostName's
    /// first label.
    pub fn plain_user(&self) -> String {
        let hub = self.device.host_name.split('.').next().unwrap_or_default();
        format!("{}@sas.{hub}", self.sent.client_id)
    }

    /// The AMQP address device-to-cloud messages go to: `/devices/{id}/messages/events`
    /// (`/devices/{id}/modules/{module}/messages/events` for a module).
    pub fn telemetry_address(&self) -> String {
        format!("/{}/messages/events", self.device.path())
    }

    /// The topic device-to-cloud messages go to (`devices/{id}/messages/events/`), with the
    /// application property `edgeprobe-test=true` that marks the test message.
    pub fn telemetry_topic(&self) -> String {
        format!("{}/messages/events/edgeprobe-test=true", self.device.path())
    }
}

/// The TLS alerts (RFC 8446 §6.2) a gateway sends when it does not accept the device's
/// certificate, with what to do; `None` for alerts that are not about the client's identity.
pub fn certificate_alert_remedy(alert: &str) -> Option<&'static str> {
    Some(match alert {
        "certificate_required" => {
            "the gateway requires a client certificate and none was sent: pass the device's certificate and key with --cert leaf-full-chain.pem --key leaf.key.pem (the device SDK's x509 options), or use a SharedAccessKey device"
        }
        "unknown_ca" => {
            "the gateway does not trust the CA that issued the device certificate: send the full chain (leaf, then its intermediates) with --cert, and register the root or intermediate CA the device chains to in IoT Hub (Certificates, verified) or in the gateway's trusted CAs"
        }
        "bad_certificate" | "unsupported_certificate" | "certificate_unknown" => {
            "the gateway rejected the device certificate: check it is for TLS client authentication (extendedKeyUsage clientAuth), signed by a CA the gateway trusts, and that --key is its key (`edgeprobe check --cert ... --key ...` runs `device-certificate`)"
        }
        "certificate_expired" => {
            "the device certificate has expired (or is not yet valid; check the device clock with `timedatectl`): issue a new device certificate"
        }
        "certificate_revoked" => {
            "the device certificate was revoked: issue a new one from the device CA"
        }
        "decrypt_error" => {
            "the gateway could not verify the handshake signature of the device certificate: --key is probably not the key of --cert"
        }
        _ => return None,
    })
}

/// The alert named in a TLS error's text (rustls: `received fatal alert: UnknownCA`), spelled
/// as RFC 8446 spells it (`unknown_ca`).
pub fn alert_in(detail: &str) -> Option<String> {
    let (_, name) = detail.split_once("received fatal alert: ")?;
    let name: String = name
        .chars()
        .take_while(|character| character.is_ascii_alphanumeric())
        .collect();
    (!name.is_empty()).then(|| crate::net::tls::snake_case_alert(&name))
}

fn rfc3339_seconds(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| {
            time.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{seconds} (Unix seconds)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection_string::parse;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    /// The credentials a connection string gives at `now()`, without `--cert`.
    fn credentials_of(connection_string: &str) -> DeviceCredentials {
        DeviceCredentials::from_connection_string(&parse(connection_string).unwrap(), now(), false)
            .unwrap()
    }

    #[test]
    fn a_key_gives_the_sdk_client_id_user_name_and_a_short_token() {
        let credentials = credentials_of(&format!(
            "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={KEY}"
        ));
        assert_eq!(credentials.sent.client_id, "leaf-01");
        assert_eq!(
            credentials.sent.username,
            "hub.azure-devices.net/leaf-01/?api-version=2021-04-12"
        );
        assert_eq!(credentials.sent.method, Method::SharedAccessKey);
        assert_eq!(
            credentials.sent.token_expires,
            Some(now() + TOKEN_LIFETIME),
            "whole seconds: now() has none"
        );
        let token = credentials.password.as_ref().unwrap().expose_str();
        assert_eq!(
            sas::verify_token(
                token,
                "hub.azure-devices.net/devices/leaf-01",
                &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, KEY).unwrap(),
                now()
            ),
            Ok(())
        );
        let shown = format!(
            "{credentials:?} {}",
            serde_json::to_string(&credentials.sent).unwrap()
        );
        assert!(!shown.contains(token) && !shown.contains("sig="), "{shown}");
        assert_eq!(
            credentials.telemetry_topic(),
            "devices/leaf-01/messages/events/edgeprobe-test=true"
        );
    }

    #[test]
    fn modules_use_device_slash_module() {
        let credentials = credentials_of(&format!(
            "HostName=h.net;DeviceId=d;ModuleId=m;SharedAccessKey={KEY}"
        ));
        let sent = &credentials.sent;
        assert_eq!(
            (sent.client_id.as_str(), sent.username.as_str()),
            ("d/m", "h.net/d/m/?api-version=2021-04-12")
        );
    }

    #[test]
    fn a_signature_is_checked_for_expiry_and_resource_before_use() {
        let token = make_token(b"k", "h.net/devices/d", 1_700_000_100);
        let text = format!(
            "HostName=h.net;DeviceId=d;SharedAccessSignature={}",
            token.expose_str()
        );
        let parsed = parse(&text).unwrap();
        let credentials = DeviceCredentials::from_connection_string(&parsed, now(), false).unwrap();
        assert_eq!(credentials.sent.method, Method::SharedAccessSignature);
        let later = now() + time::Duration::seconds(100);
        let error = DeviceCredentials::from_connection_string(&parsed, later, false).unwrap_err();
        assert!(matches!(error, CredentialError::Expired { .. }), "{error}");
        assert!(
            error.to_string().contains("2023-11-14T22:15:00Z"),
            "{error}"
        );
        let other = parse(&text.replace("DeviceId=d", "DeviceId=e")).unwrap();
        assert!(matches!(
            DeviceCredentials::from_connection_string(&other, now(), false),
            Err(CredentialError::WrongResource { .. })
        ));
    }

    #[test]
    fn certificate_alerts_are_named_and_explained() {
        for (error, alert) in [
            (
                "received fatal alert: CertificateRequired",
                Some("certificate_required"),
            ),
            ("received fatal alert: UnknownCA", Some("unknown_ca")),
            ("connection reset", None),
        ] {
            assert_eq!(alert_in(error).as_deref(), alert, "{error}");
        }
        assert!(
            certificate_alert_remedy("certificate_required")
                .is_some_and(|fix| fix.contains("--cert"))
        );
        assert!(certificate_alert_remedy("unknown_ca").is_some());
        assert!(certificate_alert_remedy("protocol_version").is_none());
    }

    #[test]
    fn x509_sends_the_user_name_without_a_password() {
        let credentials = credentials_of("HostName=h.net;DeviceId=d;x509=true");
        assert_eq!(credentials.sent.method, Method::X509);
        assert!(credentials.password.is_none());
    }
}
