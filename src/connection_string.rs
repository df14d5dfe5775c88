//! Azure IoT Hub device connection strings: parsing with diagnoses a technician can act on, and
//! redaction of the SharedAccessKey so no output, Debug included, ever shows it.
//!
//! Format (Azure IoT device SDKs): `;`-separated `Name=value` pairs, e.g.
//! `HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey=<base64>;GatewayHostName=gw`,
//! with `ModuleId=` for module identities and `x509=true` instead of a key for certificate
//! authentication.

use std::fmt;
use std::str::FromStr;

use base64::DecodeError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use thiserror::Error;

/// What every redacted secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Decoded lengths of the keys IoT Hub generates (256-bit and 512-bit). Others are accepted;
/// callers may warn, since an odd length usually means a truncated or altered key.
pub const TYPICAL_KEY_LENGTHS: [usize; 2] = [32, 64];

/// Where to get a device connection string, for error messages.
const HOW_TO_GET_ONE: &str = "copy the device connection string from the Azure portal (IoT Hub > \
     Devices > <device>) or `az iot hub device-identity connection-string show`";

/// A parsed device connection string. Its `Debug` and `Display` never show the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    pub host_name: String,
    pub device_id: String,
    pub module_id: Option<String>,
    /// Absent for a device that talks to IoT Hub directly; a leaf device behind a gateway needs
    /// it. Not a parse error: the checks report it.
    pub gateway_host_name: Option<String>,
    pub authentication: Authentication,
    /// Names (never values) of keys edgeprobe does not know, as written.
    pub unknown_keys: Vec<String>,
    /// Known names written in another case (`hostname=`): accepted here, but the Azure IoT SDKs
    /// compare names case-sensitively and will reject them, so checks should report these.
    pub miscased_keys: Vec<MiscasedKey>,
}

/// A known name written in the wrong case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscasedKey {
    pub written: String,
    pub expected: &'static str,
}

/// How the device proves its identity to IoT Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    SharedAccessKey(SharedAccessKey),
    /// `x509=true`: the device presents a client certificate instead.
    X509,
}

/// A device's symmetric key, already checked to be non-empty standard base64. The secret stays
/// private: `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedAccessKey {
    decoded: Vec<u8>,
}

impl SharedAccessKey {
    /// Decodes a key written in standard base64 (RFC 4648 §4, with padding), as IoT Hub issues
    /// them.
    pub fn from_base64(text: &str) -> Result<Self, ConnectionStringError> {
        let decoded = STANDARD
            .decode(text)
            .map_err(|error| ConnectionStringError::InvalidKey {
                problem: KeyProblem::from_decode_error(&error),
            })?;
        if decoded.is_empty() {
            return Err(ConnectionStringError::EmptyValue {
                key: SHARED_ACCESS_KEY,
            });
        }
        Ok(Self { decoded })
    }

    /// Length in bytes after base64 decoding.
    pub fn decoded_len(&self) -> usize {
        self.decoded.len()
    }

    /// Whether the length is one IoT Hub generates ([`TYPICAL_KEY_LENGTHS`]).
    pub fn has_typical_length(&self) -> bool {
        TYPICAL_KEY_LENGTHS.contains(&self.decoded.len())
    }

    /// The key bytes, e.g. to sign a SAS token. Never print them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.decoded
    }
}

impl fmt::Debug for SharedAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SharedAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Why a connection string was refused. No message ever contains the key, nor any part of the
/// input that could be a fragment of it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnectionStringError {
    #[error("the connection string is empty: {HOW_TO_GET_ONE}")]
    Empty,

    // The segment's text is withheld on purpose: a stray `;` inside a pasted key would make a
    // key fragment the segment.
    #[error(
        "part {position} of the connection string has no `=`: every `;`-separated part must be \
         Name=value; look for a stray `;` or a line break where the string was pasted"
    )]
    SegmentWithoutEquals {
        /// 1-based position among the `;`-separated parts.
        position: usize,
    },

    #[error(
        "part {position} of the connection string has nothing before its `=`: every part must be \
         Name=value; look for a stray `;` where the string was pasted"
    )]
    EmptyKeyName { position: usize },

    #[error("`{key}=` has no value in the connection string: fill it in, or {HOW_TO_GET_ONE}")]
    EmptyValue { key: &'static str },

    // An unknown name is withheld: a key split by a stray `;` leaves a fragment ending in `=`
    // padding, which looks exactly like `Name=` with an empty value.
    #[error(
        "part {position} of the connection string has nothing after its `=`: fill the value in or \
         remove the part; if it is a piece of the key, the key was split by a stray `;`"
    )]
    EmptyUnknownValue {
        /// 1-based position among the `;`-separated parts.
        position: usize,
    },

    #[error("`{key}` appears more than once in the connection string: keep exactly one")]
    DuplicateKey { key: String },

    #[error(
        "the connection string has no `{key}=`: a device connection string needs HostName, \
         DeviceId and SharedAccessKey (or x509=true); {HOW_TO_GET_ONE}"
    )]
    MissingKey { key: &'static str },

    #[error(
        "the connection string has neither SharedAccessKey= nor x509=true: add the device's \
         primary key for symmetric-key authentication, or x509=true if the device authenticates \
         with a certificate"
    )]
    MissingAuthentication,

    #[error(
        "the connection string has both SharedAccessKey= and x509=true: keep SharedAccessKey for \
         a symmetric-key device or x509=true for a certificate device, not both"
    )]
    ConflictingAuthentication,

    #[error(
        "`x509=` must be `true` (certificate authentication) or absent; remove it if the device \
         uses SharedAccessKey"
    )]
    InvalidX509Flag,

    #[error(
        "the SharedAccessKey is not valid base64 ({problem}): it was probably cut or altered when \
         pasted; {HOW_TO_GET_ONE}"
    )]
    InvalidKey { problem: KeyProblem },

    #[error(
        "this is an IoT Hub policy connection string (SharedAccessKeyName={policy_name}), not a \
         device connection string: a device needs its own; {HOW_TO_GET_ONE}"
    )]
    ServiceConnectionString { policy_name: String },

    #[error(
        "the connection string carries a SharedAccessSignature (a SAS token, which expires), not \
         a device key: edgeprobe needs the device connection string with SharedAccessKey=; \
         {HOW_TO_GET_ONE}"
    )]
    SasToken,
}

/// What is wrong with a key's base64, described without any of its characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum KeyProblem {
    #[error("character {position} is not in the base64 alphabet")]
    InvalidCharacter {
        /// 1-based position in the key.
        position: usize,
    },
    #[error(
        "character {position} is from URL-safe base64 (`-` or `_`), but IoT Hub keys use \
         standard base64 (`+` and `/`)"
    )]
    UrlSafeCharacter { position: usize },
    #[error("its length or last character cannot end a base64 text, so it was likely cut short")]
    Truncated,
    #[error("its `=` padding is missing or misplaced")]
    Padding,
}

impl KeyProblem {
    // base64's own DecodeError Display includes the offending byte; it must not reach output.
    fn from_decode_error(error: &DecodeError) -> Self {
        match *error {
            DecodeError::InvalidByte(_, b'=') | DecodeError::InvalidPadding => KeyProblem::Padding,
            DecodeError::InvalidByte(offset, b'-' | b'_') => KeyProblem::UrlSafeCharacter {
                position: offset + 1,
            },
            DecodeError::InvalidByte(offset, _) => KeyProblem::InvalidCharacter {
                position: offset + 1,
            },
            // A length of 4n+1, or a last character whose bits decode to nothing: cut short.
            DecodeError::InvalidLength(_) | DecodeError::InvalidLastSymbol(..) => {
                KeyProblem::Truncated
            }
        }
    }
}

const HOST_NAME: &str = "HostName";
const DEVICE_ID: &str = "DeviceId";
const MODULE_ID: &str = "ModuleId";
const SHARED_ACCESS_KEY: &str = "SharedAccessKey";
const X509: &str = "x509";
const GATEWAY_HOST_NAME: &str = "GatewayHostName";
const SHARED_ACCESS_KEY_NAME: &str = "SharedAccessKeyName";
const SHARED_ACCESS_SIGNATURE: &str = "SharedAccessSignature";

/// The keys edgeprobe understands, spelled as the Azure SDKs spell them.
const KNOWN_KEYS: [&str; 8] = [
    HOST_NAME,
    DEVICE_ID,
    MODULE_ID,
    SHARED_ACCESS_KEY,
    X509,
    GATEWAY_HOST_NAME,
    SHARED_ACCESS_KEY_NAME,
    SHARED_ACCESS_SIGNATURE,
];

/// Parses a device connection string.
///
/// Lenient where a technician's copy-and-paste goes wrong harmlessly: whitespace around parts,
/// names and values is trimmed, empty parts (a trailing `;`) are skipped, one pair of enclosing
/// quotes is removed, and names are matched case-insensitively (the SDKs are case-sensitive,
/// so the checks may point a wrong case out) and normalised. A value is everything after the
/// first `=`, so base64 padding survives.
pub fn parse(text: &str) -> Result<ConnectionString, ConnectionStringError> {
    let text = without_enclosing_quotes(text.trim());
    if text.is_empty() {
        return Err(ConnectionStringError::Empty);
    }
    // A bare SAS token (`SharedAccessSignature sr=...&sig=...&se=...`) has no `Name=` form.
    if starts_with_ignore_case(text, "SharedAccessSignature ") {
        return Err(ConnectionStringError::SasToken);
    }

    // One slot per KNOWN_KEYS entry.
    let mut values: [Option<&str>; KNOWN_KEYS.len()] = [None; KNOWN_KEYS.len()];
    let mut unknown_keys: Vec<String> = Vec::new();
    let mut miscased_keys = Vec::new();
    for (index, part) in text.split(';').enumerate() {
        let position = index + 1;
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(ConnectionStringError::SegmentWithoutEquals { position });
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err(ConnectionStringError::EmptyKeyName { position });
        }
        let known = KNOWN_KEYS
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name));
        if value.is_empty() {
            return Err(match known {
                Some(slot) => ConnectionStringError::EmptyValue {
                    key: KNOWN_KEYS[slot],
                },
                None => ConnectionStringError::EmptyUnknownValue { position },
            });
        }
        // An unknown name followed by a non-empty value cannot be a key fragment (base64 has
        // `=` only at its end), so naming it is safe.
        let canonical = known.map(|slot| KNOWN_KEYS[slot]);
        if let Some(expected) = canonical.filter(|expected| *expected != name) {
            miscased_keys.push(MiscasedKey {
                written: name.to_string(),
                expected,
            });
        }
        let key = canonical.unwrap_or(name);
        let duplicate = match known {
            Some(slot) => values[slot].replace(value).is_some(),
            None => {
                let seen = unknown_keys
                    .iter()
                    .any(|unknown| unknown.eq_ignore_ascii_case(name));
                unknown_keys.push(name.to_string());
                seen
            }
        };
        if duplicate {
            return Err(ConnectionStringError::DuplicateKey {
                key: key.to_string(),
            });
        }
    }
    let value_of = |key: &str| {
        KNOWN_KEYS
            .iter()
            .position(|known| *known == key)
            .and_then(|slot| values[slot])
    };

    // What kind of string this is comes first: a hub policy string also lacks DeviceId, and
    // "add DeviceId" would send the technician the wrong way.
    if value_of(SHARED_ACCESS_SIGNATURE).is_some() {
        return Err(ConnectionStringError::SasToken);
    }
    if let Some(policy_name) = value_of(SHARED_ACCESS_KEY_NAME) {
        return Err(ConnectionStringError::ServiceConnectionString {
            policy_name: policy_name.to_string(),
        });
    }
    let host_name =
        value_of(HOST_NAME).ok_or(ConnectionStringError::MissingKey { key: HOST_NAME })?;
    let device_id =
        value_of(DEVICE_ID).ok_or(ConnectionStringError::MissingKey { key: DEVICE_ID })?;
    let x509 = match value_of(X509) {
        None => false,
        Some(flag) if flag.eq_ignore_ascii_case("true") => true,
        Some(flag) if flag.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(ConnectionStringError::InvalidX509Flag),
    };
    let authentication = match (value_of(SHARED_ACCESS_KEY), x509) {
        (Some(_), true) => return Err(ConnectionStringError::ConflictingAuthentication),
        (None, false) => return Err(ConnectionStringError::MissingAuthentication),
        (None, true) => Authentication::X509,
        (Some(key), false) => Authentication::SharedAccessKey(SharedAccessKey::from_base64(key)?),
    };

    Ok(ConnectionString {
        host_name: host_name.to_string(),
        device_id: device_id.to_string(),
        module_id: value_of(MODULE_ID).map(str::to_string),
        gateway_host_name: value_of(GATEWAY_HOST_NAME).map(str::to_string),
        authentication,
        unknown_keys,
        miscased_keys,
    })
}

impl FromStr for ConnectionString {
    type Err = ConnectionStringError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text)
    }
}

/// The canonical form, with the key redacted:
/// `HostName=..;DeviceId=..[;ModuleId=..];SharedAccessKey=<redacted>|x509=true[;GatewayHostName=..]`.
/// Unknown keys are left out: only their names were kept.
impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{HOST_NAME}={};{DEVICE_ID}={}",
            self.host_name, self.device_id
        )?;
        if let Some(module_id) = &self.module_id {
            write!(f, ";{MODULE_ID}={module_id}")?;
        }
        match &self.authentication {
            Authentication::SharedAccessKey(key) => write!(f, ";{SHARED_ACCESS_KEY}={key}")?,
            Authentication::X509 => write!(f, ";{X509}=true")?,
        }
        if let Some(gateway) = &self.gateway_host_name {
            write!(f, ";{GATEWAY_HOST_NAME}={gateway}")?;
        }
        Ok(())
    }
}

fn without_enclosing_quotes(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner.trim();
        }
    }
    text
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Replaces secrets in arbitrary text (an echoed argument, a config line, a log) with
/// `<redacted>`, for any message that repeats user input:
///
/// - the value of `SharedAccessKey=` and `SharedAccessSignature=` (any case, spaces allowed
///   before `=`), up to the next `;` or the end;
/// - a bare SAS token, `SharedAccessSignature sr=...`, up to the next `;` or the end;
/// - a `sig=` parameter (the SAS signature) up to the next `&`, `;`, whitespace or the end.
///
/// `SharedAccessKeyName=` (a policy name, not a secret) is left alone. Redacting too much is
/// preferred over too little: a value is not assumed to end at a quote or a space.
pub fn redact(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut output = String::with_capacity(text.len());
    // Everything before `copied` has been handled; every index used to slice is at an ASCII
    // byte or the end, so always on a char boundary.
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        if let Some(value_start) = secret_value_start(bytes, index) {
            let value_end = secret_value_end(bytes, value_start, index);
            output.push_str(&text[copied..value_start]);
            output.push_str(REDACTED);
            copied = value_end;
            index = value_end.max(index + 1);
        } else {
            index += 1;
        }
    }
    output.push_str(&text[copied..]);
    output
}

/// If a secret's name starts at `index`, where its value starts.
fn secret_value_start(bytes: &[u8], index: usize) -> Option<usize> {
    let rest = &bytes[index..];
    let after_name = |name: &str| {
        (rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes()))
            .then_some(index + name.len())
    };
    let skip_spaces = |mut at: usize| {
        while bytes
            .get(at)
            .is_some_and(|byte| *byte == b' ' || *byte == b'\t')
        {
            at += 1;
        }
        at
    };
    if let Some(end) = after_name(SHARED_ACCESS_SIGNATURE) {
        let at = skip_spaces(end);
        if bytes.get(at) == Some(&b'=') {
            return Some(at + 1);
        }
        // Bare token: "SharedAccessSignature sr=..."
        if at > end && starts_with_ignore_case_bytes(&bytes[at..], b"sr=") {
            return Some(at);
        }
        return None;
    }
    if let Some(end) = after_name(SHARED_ACCESS_KEY) {
        let at = skip_spaces(end);
        if bytes.get(at) == Some(&b'=') {
            return Some(at + 1);
        }
        // `SharedAccessKeyName` is a policy name, not a secret. Anything else glued to the
        // name (a forgotten `=`: `SharedAccessKeyc2Vj...`) is the key itself: hide it too.
        let glued = bytes
            .get(end)
            .is_some_and(|byte| *byte != b';' && !byte.is_ascii_whitespace());
        return (glued && !starts_with_ignore_case_bytes(&bytes[end..], b"Name")).then_some(end);
    }
    // `sig=` only as a whole parameter name, not inside a word such as `design=`.
    let word_start = index == 0 || !bytes[index - 1].is_ascii_alphanumeric();
    if word_start && starts_with_ignore_case_bytes(rest, b"sig=") {
        return Some(index + 4);
    }
    None
}

/// Where the secret that starts at `value_start` ends. `name_start` tells which rule found it.
fn secret_value_end(bytes: &[u8], value_start: usize, name_start: usize) -> usize {
    let is_sig = starts_with_ignore_case_bytes(&bytes[name_start..], b"sig=");
    bytes[value_start..]
        .iter()
        .position(|&byte| byte == b';' || (is_sig && (byte == b'&' || byte.is_ascii_whitespace())))
        .map_or(bytes.len(), |offset| value_start + offset)
}

fn starts_with_ignore_case_bytes(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes to "secret-key-do:not-print" (23 bytes): easy to spot in any output.
    const KEY: &str = "c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ=";
    /// A 32-byte key like IoT Hub's.
    const KEY_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn must_parse(text: &str) -> ConnectionString {
        match parse(text) {
            Ok(parsed) => parsed,
            Err(error) => panic!("should parse: {error}"),
        }
    }

    fn must_fail(text: &str) -> ConnectionStringError {
        match parse(text) {
            Ok(_) => panic!("should fail: {}", redact(text)),
            Err(error) => error,
        }
    }

    #[test]
    fn a_key_glued_to_its_name_is_still_redacted() {
        let text = format!("HostName=hub;DeviceId=d;SharedAccessKey{KEY}");
        assert_eq!(
            redact(&text),
            "HostName=hub;DeviceId=d;SharedAccessKey<redacted>"
        );
        assert_eq!(
            redact("SharedAccessKeyName=iothubowner"),
            "SharedAccessKeyName=iothubowner"
        );
    }

    #[test]
    fn parses_a_gateway_device_string() {
        let text = format!(
            "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={KEY_32};\
             GatewayHostName=gw.contoso.com"
        );
        let parsed = must_parse(&text);
        assert_eq!(parsed.host_name, "hub.azure-devices.net");
        assert_eq!(parsed.device_id, "leaf-01");
        assert_eq!(parsed.module_id, None);
        assert_eq!(parsed.gateway_host_name.as_deref(), Some("gw.contoso.com"));
        assert!(parsed.unknown_keys.is_empty());
        assert!(parsed.miscased_keys.is_empty());
        let Authentication::SharedAccessKey(key) = &parsed.authentication else {
            panic!("expected a key");
        };
        assert_eq!(key.decoded_len(), 32);
        assert!(key.has_typical_length());
        assert_eq!(key.expose_secret()[..4], [0, 1, 2, 3]);
        assert_eq!(text.parse::<ConnectionString>(), Ok(parsed));
    }

    #[test]
    fn gateway_host_name_is_optional() {
        let parsed = must_parse(&format!("HostName=h;DeviceId=d;SharedAccessKey={KEY}"));
        assert_eq!(parsed.gateway_host_name, None);
    }

    #[test]
    fn parses_module_and_x509_strings() {
        let parsed = must_parse("HostName=h;DeviceId=d;ModuleId=m;x509=true;GatewayHostName=gw");
        assert_eq!(parsed.module_id.as_deref(), Some("m"));
        assert_eq!(parsed.authentication, Authentication::X509);
        assert_eq!(
            must_parse(" HostName=h;DeviceId=d;X509=TRUE ").authentication,
            Authentication::X509
        );
    }

    #[test]
    fn x509_false_with_a_key_is_key_authentication() {
        let parsed = must_parse(&format!(
            "HostName=h;DeviceId=d;x509=false;SharedAccessKey={KEY}"
        ));
        assert!(matches!(
            parsed.authentication,
            Authentication::SharedAccessKey(_)
        ));
    }

    #[test]
    fn tolerates_case_whitespace_trailing_semicolon_and_quotes() {
        let text = format!(
            "  \"hostname = h ; DEVICEID=d;  sharedaccesskey={KEY} ;gatewayhostname=gw;\"  "
        );
        let parsed = must_parse(&text);
        assert_eq!(parsed.host_name, "h");
        assert_eq!(parsed.device_id, "d");
        assert_eq!(parsed.gateway_host_name.as_deref(), Some("gw"));
        let miscased = |written: &str, expected| MiscasedKey {
            written: written.to_string(),
            expected,
        };
        assert_eq!(
            parsed.miscased_keys,
            vec![
                miscased("hostname", "HostName"),
                miscased("DEVICEID", "DeviceId"),
                miscased("sharedaccesskey", "SharedAccessKey"),
                miscased("gatewayhostname", "GatewayHostName"),
            ]
        );
        let Authentication::SharedAccessKey(key) = &parsed.authentication else {
            panic!("expected a key");
        };
        assert_eq!(key.expose_secret(), b"secret-key-do:not-print");
        assert!(!key.has_typical_length());
        assert!(
            must_parse(&format!("'HostName=h;DeviceId=d;SharedAccessKey={KEY};;'"))
                .unknown_keys
                .is_empty()
        );
    }

    #[test]
    fn value_keeps_everything_after_the_first_equals() {
        // "YQ==" is base64 for "a": both padding characters must survive the split.
        let parsed = must_parse("HostName=h;DeviceId=d;SharedAccessKey=YQ==");
        let Authentication::SharedAccessKey(key) = &parsed.authentication else {
            panic!("expected a key");
        };
        assert_eq!(key.expose_secret(), b"a");
    }

    #[test]
    fn keeps_unknown_key_names_only() {
        let parsed = must_parse(&format!(
            "HostName=h;DeviceId=d;SharedAccessKey={KEY};Foo=bar;Baz=1"
        ));
        assert_eq!(
            parsed.unknown_keys,
            vec!["Foo".to_string(), "Baz".to_string()]
        );
    }

    #[test]
    fn display_is_canonical_and_redacted() {
        let parsed = must_parse(&format!(
            "gatewayhostname=gw;sharedaccesskey={KEY};moduleid=m;deviceid=d;hostname=h;Extra=x"
        ));
        assert_eq!(
            parsed.to_string(),
            "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=<redacted>;GatewayHostName=gw"
        );
        let x509 = must_parse("HostName=h;DeviceId=d;x509=true");
        assert_eq!(x509.to_string(), "HostName=h;DeviceId=d;x509=true");
    }

    #[test]
    fn key_never_shows_in_debug_or_display() {
        let parsed = must_parse(&format!("HostName=h;DeviceId=d;SharedAccessKey={KEY}"));
        for shown in [
            format!("{parsed:?}"),
            format!("{parsed:#?}"),
            parsed.to_string(),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(!shown.contains("secret-key"), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
        let Authentication::SharedAccessKey(key) = parsed.authentication else {
            panic!("expected a key");
        };
        assert_eq!(format!("{key:?}"), REDACTED);
        assert_eq!(key.to_string(), REDACTED);
    }

    #[test]
    fn empty_input() {
        assert_eq!(must_fail(""), ConnectionStringError::Empty);
        assert_eq!(must_fail("  \n "), ConnectionStringError::Empty);
        assert_eq!(must_fail("\"\""), ConnectionStringError::Empty);
    }

    #[test]
    fn part_without_equals_reports_its_position() {
        assert_eq!(
            must_fail("HostName=h;DeviceId=d;SharedAccessKey=abc;c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ"),
            ConnectionStringError::SegmentWithoutEquals { position: 4 }
        );
    }

    #[test]
    fn empty_key_name() {
        assert_eq!(
            must_fail("HostName=h;=d"),
            ConnectionStringError::EmptyKeyName { position: 2 }
        );
    }

    #[test]
    fn empty_values_name_the_key() {
        assert_eq!(
            must_fail("HostName=h;deviceid=;x509=true"),
            ConnectionStringError::EmptyValue { key: "DeviceId" }
        );
        assert_eq!(
            must_fail("HostName=h;DeviceId=d;SharedAccessKey= "),
            ConnectionStringError::EmptyValue {
                key: "SharedAccessKey"
            }
        );
        assert_eq!(
            must_fail("HostName=h;Custom=;x509=true"),
            ConnectionStringError::EmptyUnknownValue { position: 2 }
        );
    }

    #[test]
    fn duplicates_name_the_key_in_any_case() {
        assert_eq!(
            must_fail("HostName=a;hostname=b;DeviceId=d;x509=true"),
            ConnectionStringError::DuplicateKey {
                key: "HostName".to_string()
            }
        );
        assert_eq!(
            must_fail("HostName=a;DeviceId=d;x509=true;Foo=1;FOO=2"),
            ConnectionStringError::DuplicateKey {
                key: "FOO".to_string()
            }
        );
    }

    #[test]
    fn missing_host_name_or_device_id() {
        assert_eq!(
            must_fail(&format!("DeviceId=d;SharedAccessKey={KEY}")),
            ConnectionStringError::MissingKey { key: "HostName" }
        );
        assert_eq!(
            must_fail(&format!("HostName=h;SharedAccessKey={KEY}")),
            ConnectionStringError::MissingKey { key: "DeviceId" }
        );
    }

    #[test]
    fn authentication_must_be_exactly_one() {
        assert_eq!(
            must_fail("HostName=h;DeviceId=d"),
            ConnectionStringError::MissingAuthentication
        );
        assert_eq!(
            must_fail("HostName=h;DeviceId=d;x509=false"),
            ConnectionStringError::MissingAuthentication
        );
        assert_eq!(
            must_fail(&format!(
                "HostName=h;DeviceId=d;SharedAccessKey={KEY};x509=true"
            )),
            ConnectionStringError::ConflictingAuthentication
        );
        assert_eq!(
            must_fail("HostName=h;DeviceId=d;x509=yes"),
            ConnectionStringError::InvalidX509Flag
        );
    }

    #[test]
    fn invalid_base64_keys() {
        let cases = [
            (
                "c2VjcmV0!WtleS1kbzpub3QtcHJpbnQ=",
                KeyProblem::InvalidCharacter { position: 9 },
            ),
            (
                "c2VjcmV0-WtleS1kbzpub3QtcHJpbnQ=",
                KeyProblem::UrlSafeCharacter { position: 9 },
            ),
            ("c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ", KeyProblem::Padding),
            ("c2Vj=mV0LWtleS1kbzpub3QtcHJpbnQ=", KeyProblem::Padding),
            ("c2VjcmV0LWtleS1kbzpub3QtcHJpb", KeyProblem::Truncated),
            ("c2VjcmV0LWtleS1kbzpub3QtcHJpbnR=", KeyProblem::Truncated),
        ];
        for (key, problem) in cases {
            assert_eq!(
                must_fail(&format!("HostName=h;DeviceId=d;SharedAccessKey={key}")),
                ConnectionStringError::InvalidKey { problem },
                "{key}"
            );
        }
    }

    #[test]
    fn hub_policy_string_is_recognised() {
        let text = format!("HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}");
        let error = must_fail(&text);
        assert_eq!(
            error,
            ConnectionStringError::ServiceConnectionString {
                policy_name: "iothubowner".to_string()
            }
        );
        assert!(
            error
                .to_string()
                .contains("device-identity connection-string show")
        );
    }

    #[test]
    fn sas_tokens_are_recognised() {
        assert_eq!(
            must_fail(
                "HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc%3D&se=1"
            ),
            ConnectionStringError::SasToken
        );
        assert_eq!(
            must_fail("SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc%3D&se=1"),
            ConnectionStringError::SasToken
        );
    }

    /// Every error the parser can return, each from an input holding the recognisable key (or a
    /// damaged copy of it): no message and no Debug output may contain any 6-character piece of
    /// it.
    #[test]
    fn no_error_message_ever_contains_the_key() {
        use ConnectionStringError as E;
        const UNPADDED: &str = "c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ";
        let base = "HostName=h;DeviceId=d";
        let cases: Vec<(String, ConnectionStringError)> = vec![
            // Key split by a stray `;`: the fragment ends in padding.
            (
                format!("{base};SharedAccessKey=c2VjcmV0LW;tleS1kbzpub3QtcHJpbnQ="),
                E::EmptyUnknownValue { position: 4 },
            ),
            (
                format!("{base};SharedAccessKey=c2VjcmV0LWtleS1k;bzpub3QtcHJpbnQ"),
                E::SegmentWithoutEquals { position: 4 },
            ),
            (
                format!("{base};SharedAccessKey={KEY};={KEY}"),
                E::EmptyKeyName { position: 4 },
            ),
            (
                format!("{base};SharedAccessKey={KEY};DeviceId="),
                E::EmptyValue { key: "DeviceId" },
            ),
            (
                format!("{base};SharedAccessKey={KEY};sharedaccesskey={KEY}"),
                E::DuplicateKey {
                    key: "SharedAccessKey".to_string(),
                },
            ),
            (
                format!("{base};Foo={KEY};Foo={KEY};x509=true"),
                E::DuplicateKey {
                    key: "Foo".to_string(),
                },
            ),
            (
                format!("DeviceId=d;SharedAccessKey={KEY}"),
                E::MissingKey { key: "HostName" },
            ),
            (
                format!("HostName=h;SharedAccessKey={KEY}"),
                E::MissingKey { key: "DeviceId" },
            ),
            // Misspelled name: the key lands among the unknown keys, its value is dropped.
            (
                format!("{base};SharedAcessKey={KEY}"),
                E::MissingAuthentication,
            ),
            (
                format!("{base};x509=true;SharedAccessKey={KEY}"),
                E::ConflictingAuthentication,
            ),
            (format!("{base};x509={KEY}"), E::InvalidX509Flag),
            (
                format!("{base};SharedAccessKey=c2VjcmV0!WtleS1kbzpub3QtcHJpbnQ="),
                E::InvalidKey {
                    problem: KeyProblem::InvalidCharacter { position: 9 },
                },
            ),
            (
                format!("{base};SharedAccessKey=c2VjcmV0_WtleS1kbzpub3QtcHJpbnQ="),
                E::InvalidKey {
                    problem: KeyProblem::UrlSafeCharacter { position: 9 },
                },
            ),
            (
                format!("{base};SharedAccessKey={UNPADDED}"),
                E::InvalidKey {
                    problem: KeyProblem::Padding,
                },
            ),
            (
                format!("{base};SharedAccessKey=c2VjcmV0LWtleS1kbzpub3QtcHJpb"),
                E::InvalidKey {
                    problem: KeyProblem::Truncated,
                },
            ),
            (
                format!("HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"),
                E::ServiceConnectionString {
                    policy_name: "iothubowner".to_string(),
                },
            ),
            (
                format!("{base};SharedAccessKey={KEY};SharedAccessSignature=x"),
                E::SasToken,
            ),
            (
                format!("SharedAccessSignature sr=h&sig={KEY}&se=1"),
                E::SasToken,
            ),
        ];
        for (input, expected) in cases {
            let error = must_fail(&input);
            assert_eq!(error, expected, "{}", redact(&input));
            let shown = format!("{error} / {error:?}");
            for window in KEY.as_bytes().windows(6) {
                let piece = std::str::from_utf8(window).unwrap();
                assert!(!shown.contains(piece), "`{piece}` leaked: {shown}");
            }
        }
    }

    #[test]
    fn every_message_is_one_line_and_says_what_to_do() {
        let all = [
            ConnectionStringError::Empty,
            ConnectionStringError::SegmentWithoutEquals { position: 1 },
            ConnectionStringError::EmptyKeyName { position: 1 },
            ConnectionStringError::EmptyValue { key: "DeviceId" },
            ConnectionStringError::EmptyUnknownValue { position: 1 },
            ConnectionStringError::DuplicateKey {
                key: "DeviceId".into(),
            },
            ConnectionStringError::MissingKey { key: "DeviceId" },
            ConnectionStringError::MissingAuthentication,
            ConnectionStringError::ConflictingAuthentication,
            ConnectionStringError::InvalidX509Flag,
            ConnectionStringError::InvalidKey {
                problem: KeyProblem::Padding,
            },
            ConnectionStringError::ServiceConnectionString {
                policy_name: "p".into(),
            },
            ConnectionStringError::SasToken,
        ];
        for error in all {
            let message = error.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(message.contains(':') || message.contains(';'), "{message}");
        }
    }

    #[test]
    fn redacts_keys_and_signatures_in_free_text() {
        let text = format!(
            "could not use 'HostName=h;DeviceId=d;SharedAccessKey={KEY};GatewayHostName=gw'"
        );
        assert_eq!(
            redact(&text),
            "could not use 'HostName=h;DeviceId=d;SharedAccessKey=<redacted>;GatewayHostName=gw'"
        );
        // Any case, spaces before `=`, value running to the end.
        assert_eq!(
            redact(&format!("sharedaccesskey = {KEY}")),
            "sharedaccesskey =<redacted>"
        );
        assert_eq!(
            redact("SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1;DeviceId=d"),
            "SharedAccessSignature=<redacted>;DeviceId=d"
        );
        assert_eq!(
            redact("token: SharedAccessSignature sr=a%2Fb&sig=c2ln&se=1"),
            "token: SharedAccessSignature <redacted>"
        );
        assert_eq!(
            redact("url?sig=c2ln&se=1 next"),
            "url?sig=<redacted>&se=1 next"
        );
    }

    #[test]
    fn redact_leaves_everything_else_alone() {
        for text in [
            "HostName=h;SharedAccessKeyName=iothubowner;DeviceId=d",
            "no secrets here, just a SharedAccessSignature mention",
            "design=blue; SharedAccessKey is missing",
            "gateway naïve.example — ünïcode",
            "",
        ] {
            assert_eq!(redact(text), text);
        }
        // SharedAccessKeyName stays, the key after it goes.
        assert_eq!(
            redact(&format!("SharedAccessKeyName=owner;SharedAccessKey={KEY}")),
            "SharedAccessKeyName=owner;SharedAccessKey=<redacted>"
        );
        // Non-ASCII around a key.
        assert_eq!(
            redact(&format!("é SharedAccessKey={KEY};é")),
            "é SharedAccessKey=<redacted>;é"
        );
    }
}
