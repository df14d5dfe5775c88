//! Last line of defence for secrets in printed output: every string a printer writes passes
//! through [`redact`], so a `SharedAccessKey` value or a PEM private key that slipped into a
//! message, a detail, a remedy or `additional_info` is replaced before it reaches a terminal, a
//! log or a JSON file. Callers are still expected to redact first (the connection string in
//! [`super::Target`] arrives redacted); this only catches mistakes.

use std::borrow::Cow;

/// What a secret value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// The connection-string key whose value is a secret (IoT Hub device connection strings:
/// `HostName=...;DeviceId=...;SharedAccessKey=<base64>`). Matched case-insensitively, because
/// IoT Hub accepts the keys in any case.
const SHARED_ACCESS_KEY: &str = "sharedaccesskey=";

/// Replace secrets in `text`; borrows when there is nothing to replace (the common case).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    if let Some(redacted) = redact_shared_access_keys(&text) {
        text = Cow::Owned(redacted);
    }
    if let Some(redacted) = redact_private_keys(&text) {
        text = Cow::Owned(redacted);
    }
    text
}

/// Redact every string inside a JSON value (object keys are names, not values, and are kept).
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(redact(text).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), redact_json(item)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `SharedAccessKey=<value>`: the value runs to the next `;` (the connection-string separator),
/// whitespace or quote. A base64 key contains `=`, `+` and `/` but none of those.
fn redact_shared_access_keys(text: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets identical, so positions found in `lower` index `text`.
    let lower = text.to_ascii_lowercase();
    lower.find(SHARED_ACCESS_KEY)?;
    let mut result = String::with_capacity(text.len());
    let mut position = 0;
    while let Some(found) = lower[position..].find(SHARED_ACCESS_KEY) {
        let value_start = position + found + SHARED_ACCESS_KEY.len();
        let value_end = text[value_start..]
            .find(|character: char| {
                character == ';'
                    || character == '"'
                    || character == '\''
                    || character.is_whitespace()
            })
            .map_or(text.len(), |offset| value_start + offset);
        result.push_str(&text[position..value_start]);
        if value_end > value_start {
            result.push_str(REDACTED);
        }
        position = value_end;
    }
    result.push_str(&text[position..]);
    Some(result)
}

/// PEM private keys (RFC 7468 labels `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`): the whole block, armour included, is replaced. A block without its
/// END line is redacted to the end of the text rather than leaked.
fn redact_private_keys(text: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    const END: &str = "-----END ";

    let mut result = String::new();
    let mut position = 0;
    let mut changed = false;
    while let Some(found) = text[position..].find(BEGIN) {
        let begin = position + found;
        let label_start = begin + BEGIN.len();
        let Some(label_end) = text[label_start..]
            .find(DASHES)
            .map(|offset| label_start + offset)
        else {
            break;
        };
        let armour_end = label_end + DASHES.len();
        if !text[label_start..label_end].ends_with("PRIVATE KEY") {
            // A certificate or other public block: keep it and look further on.
            result.push_str(&text[position..armour_end]);
            position = armour_end;
            continue;
        }
        let footer = format!("{END}{}{DASHES}", &text[label_start..label_end]);
        let block_end = text[armour_end..]
            .find(&footer)
            .map_or(text.len(), |offset| armour_end + offset + footer.len());
        result.push_str(&text[position..begin]);
        result.push_str("<redacted private key>");
        position = block_end;
        changed = true;
    }
    if !changed {
        return None;
    }
    result.push_str(&text[position..]);
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_access_key_values_are_replaced_in_any_case() {
        let text = "HostName=hub.azure-devices.net;DeviceId=dev1;SharedAccessKey=c2VjcmV0Cg+/a==;GatewayHostName=gw";
        assert_eq!(
            redact(text),
            "HostName=hub.azure-devices.net;DeviceId=dev1;SharedAccessKey=<redacted>;GatewayHostName=gw"
        );
        assert_eq!(
            redact("sharedaccesskey=abc def"),
            "sharedaccesskey=<redacted> def"
        );
        assert_eq!(redact("SHAREDACCESSKEY=abc"), "SHAREDACCESSKEY=<redacted>");
        assert_eq!(
            redact("a SharedAccessKey=x;SharedAccessKey=y"),
            "a SharedAccessKey=<redacted>;SharedAccessKey=<redacted>"
        );
    }

    #[test]
    fn text_without_secrets_is_borrowed_unchanged() {
        let text = "Verify return code: 20 (unable to get local issuer certificate)";
        assert!(matches!(redact(text), Cow::Borrowed(_)));
        assert_eq!(redact("SharedAccessKey="), "SharedAccessKey=");
    }

    #[test]
    fn private_key_blocks_are_replaced_but_certificates_kept() {
        let text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n\
                    -----BEGIN EC PRIVATE KEY-----\nc2VjcmV0\n-----END EC PRIVATE KEY-----\ntail";
        let redacted = redact(text);
        assert!(!redacted.contains("c2VjcmV0"), "{redacted}");
        assert!(redacted.contains("MIIB"));
        assert!(
            redacted.ends_with("<redacted private key>\ntail"),
            "{redacted}"
        );

        let unterminated = redact("key: -----BEGIN PRIVATE KEY-----\nc2VjcmV0");
        assert_eq!(unterminated, "key: <redacted private key>");
    }

    #[test]
    fn json_strings_are_redacted_at_any_depth() {
        let value = serde_json::json!({"a": ["SharedAccessKey=s3cr3t"], "b": {"c": "SharedAccessKey=s3cr3t"}, "n": 1});
        let text = redact_json(&value).to_string();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("\"n\":1"));
    }
}
