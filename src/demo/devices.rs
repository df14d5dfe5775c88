//! The simulator's device registry (`serve --device ID=KEY`, `--device-ca FILE`): it answers an
//! MQTT CONNECT as edgeHub does once it knows its devices. A token is checked against the
//! device's key, its resource (`{hub}/devices/{id}`, the hub taken from the user name) and its
//! expiry; a client certificate against the device CA (rustls verifies the chain and clientAuth
//! during the handshake) with CN = client id. CONNACK 0, 4 or 5 accordingly, and a PUBACK for
//! every QoS 1 PUBLISH after CONNACK 0.

use std::collections::BTreeMap;
use std::fmt;

use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use crate::identity::sas::{resource, verify_token};
use crate::secrets::SecretBytes;

/// The devices the simulated gateway knows.
#[derive(Clone, Default)]
pub struct DeviceRegistry {
    /// Device id to its decoded SharedAccessKey.
    keys: BTreeMap<String, SecretBytes>,
    /// `--device-ca`: client certificates issued by these are accepted for their CN.
    pub device_ca: Vec<CertificateDer<'static>>,
}

// By hand: ids only, never keys.
impl fmt::Debug for DeviceRegistry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DeviceRegistry")
            .field("devices", &self.keys.keys().collect::<Vec<_>>())
            .field("device_ca", &self.device_ca.len())
            .finish()
    }
}

/// What a CONNECT claims (MQTT 3.1.1 section 3.1.3).
#[derive(Debug, PartialEq, Eq)]
pub struct ConnectClaims<'a> {
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    /// Not printed: the password is the token.
    pub password: Option<&'a [u8]>,
}

impl DeviceRegistry {
    /// Registers `device_id` with its `key` (decoded).
    pub fn add(&mut self, device_id: String, key: SecretBytes) {
        self.keys.insert(device_id, key);
    }

    pub fn device_ids(&self) -> impl Iterator<Item = &String> {
        self.keys.keys()
    }

    /// The CONNACK return code edgeHub would give `claims`, at `now`. `certificate_cn` is the
    /// CN of a client certificate rustls verified against the device CA during the handshake.
    pub fn return_code(
        &self,
        claims: &ConnectClaims<'_>,
        certificate_cn: Option<&str>,
        now: OffsetDateTime,
    ) -> u8 {
        if certificate_cn == Some(claims.client_id) {
            return 0;
        }
        let Some(key) = self.keys.get(claims.client_id) else {
            return 5;
        };
        // `{hub}/{device}/?api-version=...`: the hub the token must be scoped to.
        let Some(hub) = claims.username.and_then(|username| {
            let (hub, rest) = username.split_once('/')?;
            rest.starts_with(&format!("{}/", claims.client_id))
                .then_some(hub)
        }) else {
            return 4;
        };
        let token = claims
            .password
            .and_then(|password| std::str::from_utf8(password).ok());
        match token {
            Some(token)
                if verify_token(
                    token,
                    &resource(hub, claims.client_id, None),
                    key.expose(),
                    now,
                )
                .is_ok() =>
            {
                0
            }
            _ => 4,
        }
    }
}

/// Reads the payload fields of a CONNECT body (everything after the fixed header): protocol
/// name and level, flags, keep alive, then client id, will (skipped), user name, password.
pub fn parse_claims(body: &[u8]) -> Option<ConnectClaims<'_>> {
    fn string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
        let (length, rest) = bytes.split_first_chunk::<2>()?;
        let length = usize::from(u16::from_be_bytes(*length));
        (rest.len() >= length).then(|| rest.split_at(length))
    }
    let (_name, rest) = string(body)?;
    let (&[_level, flags], rest) = rest.split_first_chunk::<2>()?;
    let (_keep_alive, rest) = rest.split_first_chunk::<2>()?;
    let (client_id, mut rest) = string(rest)?;
    if flags & 0x04 != 0 {
        let (_topic, after) = string(rest)?;
        let (_message, after) = string(after)?;
        rest = after;
    }
    let mut username = None;
    if flags & 0x80 != 0 {
        let (name, after) = string(rest)?;
        username = Some(std::str::from_utf8(name).ok()?);
        rest = after;
    }
    let password = if flags & 0x40 != 0 {
        Some(string(rest)?.0)
    } else {
        None
    };
    Some(ConnectClaims {
        client_id: std::str::from_utf8(client_id).ok()?,
        username,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::sas::make_token;
    use crate::net::probe::mqtt::{Login, connect_packet_as};

    fn registry() -> DeviceRegistry {
        let mut registry = DeviceRegistry::default();
        registry.add("leaf-01".into(), SecretBytes::new(b"key".to_vec()));
        registry
    }

    #[test]
    fn tokens_earn_0_4_or_5_as_edgehub_answers() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let token = make_token(b"key", "hub.net/devices/leaf-01", 1_700_000_300);
        let wrong = make_token(b"other", "hub.net/devices/leaf-01", 1_700_000_300);
        let code = |client_id: &str, token: &str| {
            let packet = connect_packet_as(
                client_id,
                Some(Login {
                    username: &format!("hub.net/{client_id}/?api-version=2021-04-12"),
                    password: Some(token.as_bytes()),
                }),
            );
            // The body starts after the type byte and the remaining length's bytes.
            let length_bytes = packet[1..].iter().position(|byte| byte & 0x80 == 0);
            let body = &packet[2 + length_bytes.expect("remaining length")..];
            let claims = parse_claims(body).expect("claims");
            registry().return_code(&claims, None, now)
        };
        assert_eq!(code("leaf-01", token.expose_str()), 0);
        assert_eq!(code("leaf-01", wrong.expose_str()), 4);
        assert_eq!(code("leaf-02", token.expose_str()), 5);
        let claims = ConnectClaims {
            client_id: "leaf-02",
            username: None,
            password: None,
        };
        assert_eq!(registry().return_code(&claims, Some("leaf-02"), now), 0);
        assert!(!format!("{:?}", registry()).contains("key\""));
    }
}
