//! Echoing a connection string that may not parse (a report's header, a `Debug` line) without
//! its secrets. Free-text rules cannot know that `SharedAcessKey=` is a misspelled key or that
//! `;cmV0==` is the tail of a key split by a stray `;`; here the text is known to be a
//! connection string, so only parts whose names are known to be public keep their values.

use super::names::{PUBLIC_KEYS, SHARED_ACCESS_KEY, SHARED_ACCESS_SIGNATURE};
use super::parse::without_enclosing_quotes;
use crate::secrets::{REDACTED, looks_like_a_key, redact};

/// `raw` with every part not known to be public replaced:
/// - `HostName`, `DeviceId`, `ModuleId`, `GatewayHostName`, `x509` and `SharedAccessKeyName`
///   (any case) keep their values;
/// - `SharedAccessKey=` and `SharedAccessSignature=` keep their names:
///   `SharedAccessKey=<redacted>`;
/// - any other `Name=value` keeps its name when the value is more than `=` padding, so a
///   misspelled `SharedAcessKey=` shows its typo but not its key;
/// - anything else (a part without `=`, `=value`, `Name=` or `Name==`: pieces of a key split
///   by a stray `;`; a bare SAS token) becomes `<redacted>`.
///
/// Each part first goes through [`redact`], so a public value holding a secret is caught too.
/// Enclosing quotes are dropped as the parser drops them. Redacting the result again changes
/// nothing: the parts stay the parts.
pub fn redact_connection_string(raw: &str) -> String {
    let text = without_enclosing_quotes(raw.trim());
    let parts: Vec<String> = text
        .split(';')
        .map(|part| redact_part(&redact(part)))
        .collect();
    parts.join(";")
}

fn redact_part(part: &str) -> String {
    if part.trim().is_empty() {
        return part.to_owned();
    }
    let Some((name, value)) = part.split_once('=') else {
        return REDACTED.to_owned();
    };
    let (trimmed_name, value) = (name.trim(), value.trim());
    let is_named = |names: &[&str]| {
        names
            .iter()
            .any(|known| known.eq_ignore_ascii_case(trimmed_name))
    };
    if is_named(&PUBLIC_KEYS) {
        return part.to_owned();
    }
    if is_named(&[SHARED_ACCESS_KEY, SHARED_ACCESS_SIGNATURE]) {
        // An empty key is worth seeing as such.
        return if value.is_empty() {
            part.to_owned()
        } else {
            format!("{name}={REDACTED}")
        };
    }
    // A name is shown only if it reads as one: not `SharedAccessSignature sr` (a bare token),
    // nor a key glued to a name (`SharedAcessKeyc2VjcmV0LWtl`).
    let reads_as_a_name = !trimmed_name.is_empty()
        && !looks_like_a_key(trimmed_name)
        && trimmed_name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
    if !reads_as_a_name || value.bytes().all(|byte| byte == b'=') {
        return REDACTED.to_owned();
    }
    format!("{name}={REDACTED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes to "secret-key-do:not-print".
    const KEY: &str = "c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ=";

    #[test]
    fn public_parts_stay_and_secrets_go() {
        assert_eq!(
            redact_connection_string(&format!(
                "HostName=hub;DeviceId=d;ModuleId=m;SharedAccessKey={KEY};GatewayHostName=gw"
            )),
            "HostName=hub;DeviceId=d;ModuleId=m;SharedAccessKey=<redacted>;GatewayHostName=gw"
        );
        assert_eq!(
            redact_connection_string(&format!(
                " 'hostname=hub;sharedaccesskeyname=owner;sharedaccesskey = {KEY};x509=true;' "
            )),
            "hostname=hub;sharedaccesskeyname=owner;sharedaccesskey =<redacted>;x509=true;"
        );
        assert_eq!(
            redact_connection_string(
                "HostName=h;SharedAccessSignature=SharedAccessSignature sr=h&sig=c2ln&se=1"
            ),
            "HostName=h;SharedAccessSignature=<redacted>"
        );
        assert_eq!(
            redact_connection_string("HostName=h;DeviceId=d;SharedAccessKey="),
            "HostName=h;DeviceId=d;SharedAccessKey="
        );
    }

    #[test]
    fn what_cannot_be_known_public_is_hidden() {
        let cases = [
            // A misspelled name keeps its typo, not its value.
            (
                format!("HostName=h;DeviceId=d;SharedAcessKey={KEY}"),
                "HostName=h;DeviceId=d;SharedAcessKey=<redacted>",
            ),
            // A key split by a stray `;`, the tail with one, two or no `=`.
            (
                "HostName=h;SharedAccessKey=c2VjcmV0LW;tleS1kbzpub3QtcHJpbnQ=".to_owned(),
                "HostName=h;SharedAccessKey=<redacted>;<redacted>",
            ),
            (
                "SharedAccessKey=c2VjcmV0LWtleS1k;bzpub3QtcHJpbnQtbWUtZXZlcg==;DeviceId=d"
                    .to_owned(),
                "SharedAccessKey=<redacted>;<redacted>;DeviceId=d",
            ),
            (
                "DeviceId=d;SharedAccessKey=c2VjcmV0LWtleS1k;bzpub3QtcHJpbnQ".to_owned(),
                "DeviceId=d;SharedAccessKey=<redacted>;<redacted>",
            ),
            (format!("HostName=h;={KEY}"), "HostName=h;<redacted>"),
            // The key glued to its name, or with no name at all.
            (
                format!("HostName=h;SharedAccessKey{KEY}"),
                "HostName=h;<redacted>",
            ),
            (KEY.to_owned(), "<redacted>"),
            (
                format!("SharedAccessSignature sr=h&sig={KEY}&se=1"),
                "<redacted>",
            ),
            (
                format!("HostName=h;SharedAcessKey{}=x", &KEY[..20]),
                "HostName=h;<redacted>",
            ),
        ];
        for (raw, expected) in cases {
            let redacted = redact_connection_string(&raw);
            assert_eq!(redacted, expected, "{expected}");
            for window in KEY.as_bytes().windows(6) {
                let piece = std::str::from_utf8(window).unwrap();
                assert!(!redacted.contains(piece), "`{piece}` leaked: {redacted}");
            }
        }
    }

    #[test]
    fn public_values_still_pass_the_free_text_rules() {
        assert_eq!(
            redact_connection_string(&format!("HostName=h SharedAccessKey={KEY};DeviceId=d")),
            "HostName=h SharedAccessKey=<redacted>;DeviceId=d"
        );
    }
}
