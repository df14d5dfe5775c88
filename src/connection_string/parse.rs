//! Parsing a device connection string into a [`ConnectionString`], with a diagnosis for each
//! way a copy-and-paste goes wrong. Nothing here formats the key: errors carry positions and
//! names, never values.

use std::str::FromStr;

use super::names::{
    DEVICE_ID, GATEWAY_HOST_NAME, HOST_NAME, KNOWN_KEYS, MODULE_ID, SHARED_ACCESS_KEY,
    SHARED_ACCESS_KEY_NAME, SHARED_ACCESS_SIGNATURE, X509,
};
use crate::secrets::SecretString;

use super::{
    Authentication, ConnectionString, ConnectionStringError, DeviceAddress, MiscasedKey,
    SharedAccessKey,
};

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
        // Base64 pads with `=` or `==`: an unknown name with only padding after it is the tail
        // of a key split by a stray `;`, so its "name" is a piece of the key.
        let padding_only = known.is_none() && value.bytes().all(|byte| byte == b'=');
        if value.is_empty() || padding_only {
            return Err(match known {
                Some(slot) => ConnectionStringError::EmptyValue {
                    key: KNOWN_KEYS[slot],
                },
                None => ConnectionStringError::EmptyUnknownValue { position },
            });
        }
        // An unknown name followed by a value other than padding cannot be a key fragment
        // (base64 has `=` only at its end), so naming it is safe.
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
    // A device string may carry a token instead of a key (the SDKs' `SharedAccessSignature=`
    // form), used as is; with a key or x509=true beside it, or not a token, it is refused.
    let signature = value_of(SHARED_ACCESS_SIGNATURE);
    let usable_signature = signature.filter(|token| {
        starts_with_ignore_case(token, "SharedAccessSignature ")
            && value_of(SHARED_ACCESS_KEY).is_none()
            && value_of(X509).is_none()
    });
    if signature.is_some() && usable_signature.is_none() {
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
        (None, false) if let Some(token) = usable_signature => {
            Authentication::SharedAccessSignature(SecretString::new(token.to_string()))
        }
        (Some(_), true) => return Err(ConnectionStringError::ConflictingAuthentication),
        (None, false) => return Err(ConnectionStringError::MissingAuthentication),
        (None, true) => Authentication::X509,
        (Some(key), false) => Authentication::SharedAccessKey(SharedAccessKey::from_base64(key)?),
    };

    Ok(ConnectionString {
        address: DeviceAddress {
            host_name: host_name.to_string(),
            device_id: device_id.to_string(),
            module_id: value_of(MODULE_ID).map(str::to_string),
            gateway_host_name: value_of(GATEWAY_HOST_NAME).map(str::to_string),
        },
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

pub(super) fn without_enclosing_quotes(text: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection_string::KeyProblem;
    use crate::secrets::{REDACTED, redact};

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
    fn parses_a_gateway_device_string() {
        let text = format!(
            "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={KEY_32};\
             GatewayHostName=gw.contoso.com"
        );
        let parsed = must_parse(&text);
        assert_eq!(parsed.address.host_name, "hub.azure-devices.net");
        assert_eq!(parsed.address.device_id, "leaf-01");
        assert_eq!(parsed.address.module_id, None);
        assert_eq!(
            parsed.address.gateway_host_name.as_deref(),
            Some("gw.contoso.com")
        );
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
        assert_eq!(parsed.address.gateway_host_name, None);
    }

    #[test]
    fn parses_module_and_x509_strings() {
        let parsed = must_parse("HostName=h;DeviceId=d;ModuleId=m;x509=true;GatewayHostName=gw");
        assert_eq!(parsed.address.module_id.as_deref(), Some("m"));
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
        assert_eq!(parsed.address.host_name, "h");
        assert_eq!(parsed.address.device_id, "d");
        assert_eq!(parsed.address.gateway_host_name.as_deref(), Some("gw"));
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
        // Issue 13: a device string may carry its own token; it is kept as a secret.
        let parsed = must_parse(
            "HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc%3D&se=1",
        );
        let Authentication::SharedAccessSignature(token) = &parsed.authentication else {
            panic!("expected a token");
        };
        assert!(token.expose_str().ends_with("&se=1"));
        assert!(!format!("{parsed} {parsed:?}").contains("abc%3D"));
        assert_eq!(
            must_fail(
                "HostName=h;DeviceId=d;x509=true;SharedAccessSignature=SharedAccessSignature sr=h&sig=a&se=1"
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

    /// A key whose base64 ends in `==`, split by a stray `;` just before the padding's run:
    /// the tail reads `Name==`, and its name must not be reported as an unknown key.
    #[test]
    fn a_key_split_before_double_padding_is_not_named() {
        let error = must_fail(
            "HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0LWtleS1k;bzpub3QtcHJpbnQtbWUtZXZlcg==",
        );
        assert_eq!(
            error,
            ConnectionStringError::EmptyUnknownValue { position: 4 }
        );
        assert!(!format!("{error} {error:?}").contains("bzpub3Qt"));
        // A real unknown key with a value is still named.
        let parsed = must_parse(&format!(
            "HostName=h;DeviceId=d;SharedAccessKey={KEY};Foo=a=="
        ));
        assert_eq!(parsed.unknown_keys, ["Foo"]);
    }
}
