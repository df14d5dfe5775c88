//! Shared access signatures as IoT Hub and edgeHub read them ("Control access to IoT Hub with
//! shared access signatures"): `SharedAccessSignature sr={resource}&sig={signature}&se={expiry}`
//! (plus `&skn={policy}` only for a policy key, never for a device key). The signature is
//! HMAC-SHA256, keyed with the decoded SharedAccessKey, over the URL-encoded resource, a line
//! feed and the expiry in Unix seconds; resource and signature are URL-encoded in the token as
//! the device SDKs do it (azure-iot-sdk-python `RenewableSasToken`: `quote(uri, safe="")`;
//! azure-iot-sdk-c `SASToken_CreateString`: `URL_Encode` of both).
//!
//! Made here: a token from a key ([`make_token`]); read here: a token the connection string
//! carries ([`SasToken::parse`], whose expiry the caller checks against its clock), and a token
//! a client presents to the simulator ([`verify_token`]). Tokens are [`SecretString`]s: only
//! their resource, expiry and policy name are ever shown.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use time::OffsetDateTime;

use crate::secrets::SecretString;

/// What `quote(text, safe="")` leaves alone (RFC 3986 §2.3 unreserved characters).
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The token's prefix, followed by a space (not part of any field).
pub const TOKEN_PREFIX: &str = "SharedAccessSignature ";

/// Percent-encodes everything but RFC 3986's unreserved characters, as the SDKs encode `sr`.
pub fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, URL_ENCODE).to_string()
}

/// The resource a device (or module) token is scoped to: `{HostName}/devices/{DeviceId}`
/// (`/modules/{ModuleId}` appended for a module identity), not yet URL-encoded.
pub fn resource(host_name: &str, device_id: &str, module_id: Option<&str>) -> String {
    match module_id {
        Some(module) => format!("{host_name}/devices/{device_id}/modules/{module}"),
        None => format!("{host_name}/devices/{device_id}"),
    }
}

/// The signature of `encoded_resource` and `expiry` with `key`, base64 (not URL-encoded).
fn signature(key: &[u8], encoded_resource: &str, expiry: i64) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let message = format!("{encoded_resource}\n{expiry}");
    STANDARD.encode(ring::hmac::sign(&key, message.as_bytes()).as_ref())
}

/// A device token for `resource` (see [`resource`]) that expires at `expiry` (Unix seconds).
pub fn make_token(key: &[u8], resource: &str, expiry: i64) -> SecretString {
    let encoded = url_encode(resource);
    let signature = url_encode(&signature(key, &encoded, expiry));
    SecretString::new(format!(
        "{TOKEN_PREFIX}sr={encoded}&sig={signature}&se={expiry}"
    ))
}

/// Why a SharedAccessSignature cannot be used; no variant carries the signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SasError {
    #[error("it does not start with `SharedAccessSignature ` followed by `sr=`, `sig=` and `se=`")]
    NotAToken,
    #[error("it has no `{field}=` field")]
    MissingField { field: &'static str },
    #[error("its `se=` expiry is not a number of Unix seconds")]
    BadExpiry,
    #[error("its `sr=` resource is not valid URL-encoded UTF-8")]
    BadResource,
}

/// The public parts of a SharedAccessSignature, and the token itself (a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasToken {
    /// `sr`, URL-decoded: `hub.azure-devices.net/devices/leaf-01`.
    pub resource: String,
    /// `se`, Unix seconds.
    pub expiry: i64,
    /// `skn`: present only in a token signed with a policy key.
    pub key_name: Option<String>,
    /// The whole token, as given.
    pub token: SecretString,
}

impl SasToken {
    /// Reads a token (`SharedAccessSignature sr=..&sig=..&se=..`, fields in any order).
    pub fn parse(text: &str) -> Result<SasToken, SasError> {
        let text = text.trim();
        let fields = text
            .get(..TOKEN_PREFIX.len())
            .filter(|prefix| prefix.eq_ignore_ascii_case(TOKEN_PREFIX))
            .map(|_| &text[TOKEN_PREFIX.len()..])
            .ok_or(SasError::NotAToken)?;
        let field = |name: &'static str| {
            fields
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        };
        let resource = field("sr").ok_or(SasError::MissingField { field: "sr" })?;
        field("sig").ok_or(SasError::MissingField { field: "sig" })?;
        let expiry = field("se").ok_or(SasError::MissingField { field: "se" })?;
        let resource = percent_decode_str(resource)
            .decode_utf8()
            .map_err(|_| SasError::BadResource)?
            .into_owned();
        let expiry = expiry.parse::<i64>().map_err(|_| SasError::BadExpiry)?;
        Ok(SasToken {
            resource,
            expiry,
            key_name: field("skn").map(str::to_owned),
            token: SecretString::new(text.to_owned()),
        })
    }

    /// The expiry as a time, when it is one (`se` far out of range is not).
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.expiry).ok()
    }

    /// Whether the token has expired at `now` (IoT Hub refuses a token at its `se` second).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expiry <= now.unix_timestamp()
    }
}

/// Why the simulator refused a token, as edgeHub would log it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the token is not a SharedAccessSignature: {0}")]
    Malformed(SasError),
    #[error("the token expired")]
    Expired,
    #[error("the token is for another resource")]
    WrongResource,
    #[error("the signature does not match the device's key")]
    WrongSignature,
}

/// Whether `token` is a valid token for `expected_resource`, signed with `key`, at `now`:
/// what edgeHub's `DeviceScopeTokenAuthenticator` checks. The signature is compared in
/// constant time (ring's HMAC verify).
pub fn verify_token(
    token: &str,
    expected_resource: &str,
    key: &[u8],
    now: OffsetDateTime,
) -> Result<(), TokenRejection> {
    let parsed = SasToken::parse(token).map_err(TokenRejection::Malformed)?;
    if parsed.is_expired(now) {
        return Err(TokenRejection::Expired);
    }
    if !parsed.resource.eq_ignore_ascii_case(expected_resource) {
        return Err(TokenRejection::WrongResource);
    }
    let fields = &token.trim()[TOKEN_PREFIX.len()..];
    let signature = fields
        .split('&')
        .find_map(|pair| pair.strip_prefix("sig="))
        .and_then(|sig| percent_decode_str(sig).decode_utf8().ok())
        .and_then(|sig| STANDARD.decode(sig.as_bytes()).ok())
        .ok_or(TokenRejection::WrongSignature)?;
    let encoded_resource = fields
        .split('&')
        .find_map(|pair| pair.strip_prefix("sr="))
        .unwrap_or_default();
    let message = format!("{encoded_resource}\n{}", parsed.expiry);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::verify(&key, message.as_bytes(), &signature)
        .map_err(|_| TokenRejection::WrongSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From Microsoft's "Control access to IoT Hub" sample's shape, with a fixed key: the
    /// signature below was computed independently with Python
    /// (`base64.b64encode(hmac.new(key, b"myhub.azure-devices.net%2Fdevices%2Fdevice1\n1700000000", sha256).digest())`).
    #[test]
    fn tokens_sign_the_url_encoded_resource_and_the_expiry() {
        let key = [7u8; 32];
        let token = make_token(
            &key,
            &resource("myhub.azure-devices.net", "device1", None),
            1_700_000_000,
        );
        let text = token.expose_str();
        assert!(
            text.starts_with(
                "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1&sig="
            ),
            "{text}"
        );
        assert!(text.ends_with("&se=1700000000"));
        assert!(!text.contains("skn="));
        let expected = signature(
            &key,
            "myhub.azure-devices.net%2Fdevices%2Fdevice1",
            1_700_000_000,
        );
        assert_eq!(expected, "MNDglexPBJagRJAhcwt2fgJHNlSOMPgiiVVJrA++kvM=");
        assert!(text.contains(&format!("sig={}", url_encode(&expected))));
    }

    #[test]
    fn module_resources_and_encoding_follow_the_sdks() {
        assert_eq!(
            resource("h.net", "leaf 1", Some("m")),
            "h.net/devices/leaf 1/modules/m"
        );
        assert_eq!(url_encode("a/b c+d=~_.-"), "a%2Fb%20c%2Bd%3D~_.-");
    }

    #[test]
    fn tokens_parse_and_expire() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let token = make_token(b"key", "h/devices/d", 1_700_000_060);
        let parsed = SasToken::parse(token.expose_str()).unwrap();
        assert_eq!(parsed.resource, "h/devices/d");
        assert_eq!(parsed.expiry, 1_700_000_060);
        assert!(!parsed.is_expired(now));
        assert!(parsed.is_expired(now + time::Duration::seconds(60)));
        assert_eq!(SasToken::parse("sr=a&sig=b&se=1"), Err(SasError::NotAToken));
        assert_eq!(
            SasToken::parse("SharedAccessSignature sr=a&se=1"),
            Err(SasError::MissingField { field: "sig" })
        );
        assert_eq!(
            SasToken::parse("SharedAccessSignature sr=a&sig=b&se=soon"),
            Err(SasError::BadExpiry)
        );
        let policy = SasToken::parse("SharedAccessSignature sr=a&sig=b&se=1&skn=device").unwrap();
        assert_eq!(policy.key_name.as_deref(), Some("device"));
        assert!(!format!("{policy:?}").contains("sig=b"));
    }

    #[test]
    fn verification_accepts_only_the_right_key_resource_and_time() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let token = make_token(b"key", "h/devices/d", 1_700_000_060);
        let text = token.expose_str();
        assert_eq!(verify_token(text, "h/devices/d", b"key", now), Ok(()));
        assert_eq!(
            verify_token(text, "h/devices/d", b"other", now),
            Err(TokenRejection::WrongSignature)
        );
        assert_eq!(
            verify_token(text, "h/devices/e", b"key", now),
            Err(TokenRejection::WrongResource)
        );
        assert_eq!(
            verify_token(text, "h/devices/d", b"key", now + time::Duration::hours(1)),
            Err(TokenRejection::Expired)
        );
    }
}
