//! The one redactor: replaces secrets in free text (a message, a detail, a remedy, an echoed
//! argument, a config error) and in JSON values. Every printer and every error path that may
//! repeat user input passes its text through [`redact`]; a connection string known to be one is
//! better echoed with [`crate::connection_string::redact_connection_string`], which keeps only
//! the parts known to be public.
//!
//! The rules, each in its own function below:
//! - `SharedAccessKey` (any case), then `=` (white space allowed around it) or the key glued to
//!   the name (`SharedAccessKeyc2Vj..`, a forgotten `=`); `SharedAccessKeyName` (a policy name)
//!   is not a secret. The same for `SharedAccessSignature=` and a bare SAS token
//!   (`SharedAccessSignature sr=..&sig=..&se=..`). The value runs to the `;` that starts the
//!   next connection-string part (`;DeviceId=`, `;GatewayHostName=`, ...), or to the end: a key
//!   split by a stray `;` (`..Key=c2Vj;cmV0==`) is hidden whole, and a value is not assumed to
//!   end at a space or a quote.
//! - `sig=` (also URL-encoded, `sig%3D`) as a whole parameter name: the SAS signature, up to
//!   the next `&` (or `%26`), `;`, white space or the end.
//! - The password of a URL's `user:password@host` (RFC 3986 §3.2.1 userinfo), as in a proxy URL.
//! - PEM private keys (RFC 7468 labels `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`,
//!   `ENCRYPTED PRIVATE KEY`, ...): the whole block, armour included, up to the END line, or to
//!   the end of the text when there is none.
//! - In JSON, also every value under a key named like a secret (`password`, `sas_token`,
//!   `private_key`, ...), whatever it holds.
//!
//! Redacting too much is preferred over too little; our own messages therefore write a key's
//! name alone in backticks (`` `SharedAccessKey=` ``), which is never taken for a value.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::{REDACTED, REDACTED_PRIVATE_KEY};
use crate::connection_string::names::{KNOWN_KEYS, SHARED_ACCESS_KEY, SHARED_ACCESS_SIGNATURE};

/// Replace every secret in `text`; borrows when there is nothing to replace (the common case).
///
/// Idempotent: redacting redacted text changes nothing. A rule looks ahead (a URL's userinfo
/// runs to its last `@`), and what it sees can change once a later secret is replaced, so the
/// rules are applied again until a pass changes nothing. Every pass that changes something
/// replaces text that was not a marker, so this ends, in practice after one more pass; the
/// bound only guards a printer against a rule added later that would not.
pub fn redact(text: &str) -> Cow<'_, str> {
    const MAX_PASSES: usize = 16;
    let Some(mut redacted) = redact_once(text) else {
        return Cow::Borrowed(text);
    };
    for _ in 1..MAX_PASSES {
        match redact_once(&redacted) {
            Some(again) if again != redacted => redacted = again,
            _ => break,
        }
    }
    Cow::Owned(redacted)
}

/// One pass over `text`: `None` when no rule matched.
fn redact_once(text: &str) -> Option<String> {
    redact_once_trying(text, next_possible_start)
}

/// [`redact_once`] trying [`secret_at`] at the places `next` gives (the first at or after an
/// index); the tests pass every byte, to check [`next_possible_start`] skips nothing.
fn redact_once_trying(text: &str, next: impl Fn(&[u8], usize) -> Option<usize>) -> Option<String> {
    let mut output: Option<String> = None;
    // Everything before `copied` has been handled. Every position a rule returns is at an
    // ASCII byte or the end of the text, so always on a char boundary.
    let mut copied = 0;
    let mut index = 0;
    // Only where a rule can start (`may_start_a_secret`); most text holds no such place, so
    // it costs one scan and no call per byte.
    while let Some(at) = next(text.as_bytes(), index) {
        let Some(secret) = secret_at(text, at) else {
            index = at + 1;
            continue;
        };
        let redacted = output.get_or_insert_with(|| String::with_capacity(text.len()));
        redacted.push_str(&text[copied..secret.start]);
        redacted.push_str(secret.marker);
        copied = secret.end;
        index = secret.end.max(at + 1);
    }
    output.map(|mut redacted| {
        redacted.push_str(&text[copied..]);
        redacted
    })
}

/// Redact every string inside a JSON value, object keys included; a value under a key named
/// like a secret is replaced whole.
pub fn redact_json(value: &Value) -> Value {
    let mut redacted = value.clone();
    redact_json_in_place(&mut redacted);
    redacted
}

/// [`redact_json`] on a value the caller owns: only what holds a secret is replaced, so a
/// report without secrets (the usual one) is not copied string by string on its way out.
pub fn redact_json_in_place(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Cow::Owned(redacted) = redact(text) {
                *text = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json_in_place),
        Value::Object(map) => {
            // Judged by the key as it came, before the key itself is redacted.
            for (key, item) in map.iter_mut() {
                if is_secret_name(key) {
                    *item = hide(item);
                } else {
                    redact_json_in_place(item);
                }
            }
            if map.keys().any(|key| matches!(redact(key), Cow::Owned(_))) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(key, item)| (redact(&key).into_owned(), item))
                    .collect();
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// [`redact_json`] applied while `value` is written, without a redacted copy: serializes as
/// exactly what `redact_json(value)` would (tests compare the two). Strings are redacted as
/// they go out and a value under a secret name is hidden whole; an object with a key the
/// redactor changes (never one of edgeprobe's field names) is rebuilt as `redact_json` does,
/// so the keys keep its order and merging.
pub fn redacting_json(value: &Value) -> impl Serialize + '_ {
    RedactingJson(value)
}

struct RedactingJson<'a>(&'a Value);

impl Serialize for RedactingJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => serializer.serialize_str(&redact(text)),
            Value::Array(items) => serializer.collect_seq(items.iter().map(RedactingJson)),
            Value::Object(map) if map.keys().any(|key| matches!(redact(key), Cow::Owned(_))) => {
                redact_json(self.0).serialize(serializer)
            }
            Value::Object(map) => {
                let mut object = serializer.serialize_map(Some(map.len()))?;
                for (key, item) in map {
                    if is_secret_name(key) {
                        object.serialize_entry(key, &hide(item))?;
                    } else {
                        object.serialize_entry(key, &RedactingJson(item))?;
                    }
                }
                object.end()
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => self.0.serialize(serializer),
        }
    }
}

/// A secret found in the text: `text[start..end]` is replaced with `marker`.
struct Found {
    start: usize,
    end: usize,
    marker: &'static str,
}

impl Found {
    fn value(start: usize, end: usize) -> Option<Found> {
        Some(Found {
            start,
            end,
            marker: REDACTED,
        })
    }
}

/// The first index from `from` on where [`secret_at`] can find something.
fn next_possible_start(bytes: &[u8], from: usize) -> Option<usize> {
    // Pairs of bytes: every rule is at least two bytes long, so the last byte never starts one.
    bytes
        .get(from..)?
        .windows(2)
        .position(|pair| may_start_a_secret(pair[0], pair[1]))
        .map(|offset| from + offset)
}

/// Whether a rule can start at a byte followed by `next`: each rule below begins with a fixed
/// text, and these are its first two bytes (`--` of `-----BEGIN `, `:/` of `://`, `sh` of
/// `SharedAccess..` and `si` of `sig`, any case). Anywhere else [`secret_at`] finds nothing,
/// so the scan skips it (tests check both against every pair of ASCII bytes).
fn may_start_a_secret(byte: u8, next: u8) -> bool {
    match byte {
        b'-' => next == b'-',
        b':' => next == b'/',
        b's' | b'S' => matches!(next | 0x20, b'h' | b'i'),
        _ => false,
    }
}

/// The secret whose name (or armour, or URL) starts at `index`, if any.
fn secret_at(text: &str, index: usize) -> Option<Found> {
    match text.as_bytes()[index] {
        b'-' => private_key_block(text, index),
        b's' | b'S' => {
            connection_string_secret(text, index).or_else(|| signature_parameter(text, index))
        }
        b':' => url_password(text, index),
        _ => None,
    }
}

/// `SharedAccessKey=..`, `SharedAccessKey..` (glued), `SharedAccessSignature=..` and a bare
/// `SharedAccessSignature sr=..` token.
fn connection_string_secret(text: &str, index: usize) -> Option<Found> {
    let bytes = text.as_bytes();
    let (name, is_signature) = if starts_with_ignore_case(bytes, index, SHARED_ACCESS_SIGNATURE) {
        (SHARED_ACCESS_SIGNATURE, true)
    } else if starts_with_ignore_case(bytes, index, SHARED_ACCESS_KEY) {
        (SHARED_ACCESS_KEY, false)
    } else {
        return None;
    };
    let name_end = index + name.len();
    let at = skip_whitespace(text, name_end);
    let value_start = if bytes.get(at) == Some(&b'=') {
        // The `=` stays, so the text still reads `SharedAccessKey=<redacted>`.
        let first = skip_whitespace(text, at + 1);
        starts_a_value(text, first).then_some(at + 1)?
    } else if is_signature {
        // Bare token: `SharedAccessSignature sr=..&sig=..&se=..` (fields in any order).
        let bare = at > name_end
            && ["sr=", "sig=", "se=", "skn="]
                .iter()
                .any(|field| starts_with_ignore_case(bytes, at, field));
        bare.then_some(at)?
    } else {
        // A forgotten `=`: the key glued to its name. `SharedAccessKeyName` is a policy name;
        // a short run (`SharedAccessKeys`) is a word, not a key.
        let glued = !starts_with_ignore_case(bytes, name_end, "Name")
            && bytes[name_end..]
                .iter()
                .take_while(|byte| is_base64(**byte))
                .count()
                >= 4;
        glued.then_some(name_end)?
    };
    Found::value(value_start, connection_string_value_end(text, value_start))
}

/// Whether the value starting at `at` is one (and not our own prose: the end of the text, a
/// closing backtick, the `<redacted>` marker or a `<placeholder>`, an ellipsis).
fn starts_a_value(text: &str, at: usize) -> bool {
    text[at..]
        .chars()
        .next()
        .is_some_and(|first| !matches!(first, ';' | '`' | '<' | '.' | ',' | ')'))
}

/// Where a connection-string value that starts at `start` ends: at the `;` before the next
/// part that starts with a name the format knows (`;GatewayHostName=`), else at the end. The
/// parser splits at every `;`, but a `;` followed by anything else is more likely a stray one
/// inside the key.
fn connection_string_value_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = start;
    while let Some(offset) = bytes[at..].iter().position(|byte| *byte == b';') {
        let separator = at + offset;
        let name_start = skip_whitespace(text, separator + 1);
        let names_a_part = KNOWN_KEYS.iter().any(|name| {
            starts_with_ignore_case(bytes, name_start, name)
                && bytes.get(skip_whitespace(text, name_start + name.len())) == Some(&b'=')
        });
        if names_a_part {
            return separator;
        }
        at = separator + 1;
    }
    bytes.len()
}

/// `sig=` (or `sig%3D`, URL-encoded) as a parameter name: a SAS token's signature.
fn signature_parameter(text: &str, index: usize) -> Option<Found> {
    let bytes = text.as_bytes();
    // A whole name, not the end of `design=`; after `%26` (an encoded `&`) too.
    let after_encoded = index >= 3
        && bytes[index - 3] == b'%'
        && bytes[index - 2].is_ascii_hexdigit()
        && bytes[index - 1].is_ascii_hexdigit();
    let word_start = index == 0 || !bytes[index - 1].is_ascii_alphanumeric() || after_encoded;
    if !word_start || !starts_with_ignore_case(bytes, index, "sig") {
        return None;
    }
    let value_start = [("=", 1), ("%3D", 3)]
        .iter()
        .find(|(equals, _)| starts_with_ignore_case(bytes, index + 3, equals))
        .map(|(_, length)| index + 3 + length)?;
    let value_end = (value_start..bytes.len())
        .find(|&at| {
            matches!(bytes[at], b'&' | b';')
                || bytes[at].is_ascii_whitespace()
                || starts_with_ignore_case(bytes, at, "%26")
        })
        .unwrap_or(bytes.len());
    Found::value(value_start, value_end)
}

/// `scheme://user:password@host`: the password. The userinfo is taken up to the last `@`
/// before white space or a quote, so a password with an unencoded `@` or `/` is still hidden.
fn url_password(text: &str, index: usize) -> Option<Found> {
    let bytes = text.as_bytes();
    if !bytes[index..].starts_with(b"://") {
        return None;
    }
    let authority_start = index + 3;
    let url_end = bytes[authority_start..]
        .iter()
        .position(|byte| byte.is_ascii_whitespace() || matches!(byte, b'"' | b'\'' | b'`'))
        .map_or(bytes.len(), |offset| authority_start + offset);
    let at_sign = authority_start
        + bytes[authority_start..url_end]
            .iter()
            .rposition(|byte| *byte == b'@')?;
    let userinfo = &bytes[authority_start..at_sign];
    let colon = userinfo.iter().position(|byte| *byte == b':')?;
    // `host/path:x@y` is a path, not a user.
    if userinfo[..colon].contains(&b'/') || colon + 1 == userinfo.len() {
        return None;
    }
    Found::value(authority_start + colon + 1, at_sign)
}

/// A PEM private-key block, from its BEGIN line through the first END line after it. Labels
/// are matched as written (RFC 7468 §2: upper case), which also keeps the lower-case marker
/// from reading as a label.
fn private_key_block(text: &str, index: usize) -> Option<Found> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    const DASHES: &str = "-----";
    let rest = &text[index..];
    if !rest.starts_with(BEGIN) {
        return None;
    }
    // The label ends at its dashes, or at the line's end when the armour was cut.
    let label = &rest[BEGIN.len()..];
    let label = &label[..[label.find(DASHES), label.find('\n')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(label.len())];
    if !label.contains("PRIVATE KEY") {
        return None;
    }
    let after_label = index + BEGIN.len() + label.len();
    let end = text[after_label..]
        .find(END)
        .map(|offset| after_label + offset + END.len())
        .map_or(text.len(), |footer_label| {
            text[footer_label..]
                .find(DASHES)
                .map_or(text.len(), |offset| footer_label + offset + DASHES.len())
        });
    Some(Found {
        start: index,
        end,
        marker: REDACTED_PRIVATE_KEY,
    })
}

/// Key names that are secrets as they are (after [`is_secret_name`]'s normalization).
const EXACT: [&str; 4] = ["sig", "sas", "pwd", "pass"];
/// Endings that make a name holding a secret's word a public fact about it (`token_expiry`).
const PUBLIC_SUFFIXES: [&str; 13] = [
    "name",
    "path",
    "file",
    "id",
    "kind",
    "type",
    "len",
    "length",
    "expiry",
    "expires",
    "algorithm",
    "format",
    "count",
];

/// A JSON key whose value is a secret: `password`, `proxy_password`, `sas_token`,
/// `SharedAccessKey`, `private_key`, `client_secret`, `sig`, ... but not `key` (edgeprobe's
/// info names key *files* so), `private_key_path`, `SharedAccessKeyName` or `token_expiry`.
fn is_secret_name(key: &str) -> bool {
    // The key's ASCII letters and digits, lower-cased, on the stack: keys are field names,
    // and this runs for every key of every report. A longer key is judged from a copy.
    let mut buffer = [0u8; 64];
    let mut length = 0;
    let mut long = Vec::new();
    for byte in key.bytes().filter(u8::is_ascii_alphanumeric) {
        let byte = byte.to_ascii_lowercase();
        if length < buffer.len() {
            buffer[length] = byte;
            length += 1;
        } else {
            if long.is_empty() {
                long.extend_from_slice(&buffer);
            }
            long.push(byte);
        }
    }
    let name = if long.is_empty() {
        &buffer[..length]
    } else {
        &long[..]
    };
    let holds_a_secret_word = (0..name.len()).any(|at| {
        words_starting_with(name[at])
            .iter()
            .any(|word| name[at..].starts_with(word.as_bytes()))
    });
    EXACT.iter().any(|word| name == word.as_bytes())
        || (holds_a_secret_word
            && !PUBLIC_SUFFIXES
                .iter()
                .any(|suffix| name.ends_with(suffix.as_bytes())))
}

/// The words a secret's name contains (`password`, `sas_token`, `client_secret`), by their
/// first letter: most places in most names start none, and are passed over with one match.
fn words_starting_with(letter: u8) -> &'static [&'static str] {
    match letter {
        b'a' => &["apikey"],
        b'c' => &["credential"],
        b'p' => &["password", "passwd", "passphrase", "privatekey"],
        b's' => &["secret", "sharedaccesskey", "sharedaccesssignature"],
        b't' => &["token"],
        _ => &[],
    }
}

/// Every string, number and string inside a secret-named value becomes the marker.
fn hide(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(hide).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (redact(key).into_owned(), hide(item)))
                .collect(),
        ),
        Value::String(text) if text.is_empty() => Value::String(String::new()),
        Value::String(_) | Value::Number(_) => Value::String(REDACTED.to_owned()),
        Value::Null | Value::Bool(_) => value.clone(),
    }
}

/// Base64's alphabet, standard and URL-safe (RFC 4648 §4, §5).
fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_')
}

/// Skips Unicode white space, as `str::trim` in the connection-string parser does, so a name
/// and its `=` split by a line break are still found. `at` must be on a char boundary.
fn skip_whitespace(text: &str, at: usize) -> usize {
    text[at..]
        .char_indices()
        .find(|(_, character)| !character.is_whitespace())
        .map_or(text.len(), |(offset, _)| at + offset)
}

fn starts_with_ignore_case(bytes: &[u8], at: usize, prefix: &str) -> bool {
    bytes
        .get(at..at + prefix.len())
        .is_some_and(|slice| slice.eq_ignore_ascii_case(prefix.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes to "secret-key-do:not-print": easy to spot in any output.
    const KEY: &str = "c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ=";

    /// `redact(input) == expected`, and redacting again changes nothing.
    fn assert_redacts(input: &str, expected: &str) {
        let redacted = redact(input);
        assert_eq!(redacted, expected, "input: {input}");
        assert_eq!(redact(&redacted), redacted, "not idempotent: {input}");
    }

    #[test]
    fn shared_access_key_values_in_any_case_and_spacing() {
        assert_redacts(
            &format!("HostName=hub;DeviceId=dev1;SharedAccessKey={KEY};GatewayHostName=gw"),
            "HostName=hub;DeviceId=dev1;SharedAccessKey=<redacted>;GatewayHostName=gw",
        );
        assert_redacts(
            &format!("SHAREDACCESSKEY={KEY}"),
            "SHAREDACCESSKEY=<redacted>",
        );
        assert_redacts(
            &format!("sharedaccesskey = {KEY}"),
            "sharedaccesskey =<redacted>",
        );
        // A line break between the name and its `=`: the parser trims it, so must we.
        assert_redacts(
            &format!("SharedAccessKey\n=\n{KEY};DeviceId=d"),
            "SharedAccessKey\n=<redacted>;DeviceId=d",
        );
        assert_redacts(
            &format!("a SharedAccessKey={KEY};SharedAccessKey={KEY}"),
            "a SharedAccessKey=<redacted>;SharedAccessKey=<redacted>",
        );
        // Quoted, URL-safe or damaged values are values too.
        assert_redacts(
            &format!("SharedAccessKey=\"{KEY}\""),
            "SharedAccessKey=<redacted>",
        );
        assert_redacts("SharedAccessKey=-_x", "SharedAccessKey=<redacted>");
        assert_redacts("SharedAccessKey=\u{200b}abc", "SharedAccessKey=<redacted>");
    }

    #[test]
    fn a_value_runs_past_spaces_quotes_and_stray_semicolons() {
        // A key pasted with a space or a line break in it, or split by a stray `;`.
        assert_redacts(
            "SharedAccessKey=c2Vj cmV0\nLWtl;DeviceId=d",
            "SharedAccessKey=<redacted>;DeviceId=d",
        );
        assert_redacts(
            "SharedAccessKey=c2VjcmV0LW;tleS1kbzpub3QtcHJpbnQ=;GatewayHostName=gw",
            "SharedAccessKey=<redacted>;GatewayHostName=gw",
        );
        assert_redacts(
            "SharedAccessKey=c2VjcmV0LWtleS1k;bzpub3QtcHJpbnQ==",
            "SharedAccessKey=<redacted>",
        );
        // Free text after a key is dropped rather than guessed at.
        assert_redacts(
            &format!("'SharedAccessKey={KEY}' is not valid"),
            "'SharedAccessKey=<redacted>",
        );
        // Any known part ends it, in any case and spacing.
        assert_redacts(
            &format!("SharedAccessKey={KEY}; deviceid = d"),
            "SharedAccessKey=<redacted>; deviceid = d",
        );
    }

    #[test]
    fn a_key_glued_to_its_name_is_still_redacted() {
        assert_redacts(
            &format!("HostName=hub;DeviceId=d;SharedAccessKey{KEY}"),
            "HostName=hub;DeviceId=d;SharedAccessKey<redacted>",
        );
        assert_redacts(
            &format!("sharedaccesskey{KEY};GatewayHostName=gw"),
            "sharedaccesskey<redacted>;GatewayHostName=gw",
        );
    }

    #[test]
    fn shared_access_signatures_and_their_sig_parameter() {
        assert_redacts(
            "SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1;DeviceId=d",
            "SharedAccessSignature=<redacted>;DeviceId=d",
        );
        assert_redacts(
            "token: SharedAccessSignature sr=a%2Fb&sig=c2ln&se=1",
            "token: SharedAccessSignature <redacted>",
        );
        assert_redacts(
            "sharedaccesssignature  se=1&sig=c2ln&sr=a",
            "sharedaccesssignature  <redacted>",
        );
        assert_redacts("url?sig=c2ln&se=1 next", "url?sig=<redacted>&se=1 next");
        assert_redacts("url?SIG=c2ln%3D%3D;x", "url?SIG=<redacted>;x");
        assert_redacts("a sig= b", "a sig=<redacted> b");
        // The whole token URL-encoded, as in a query string.
        assert_redacts(
            "?token=SharedAccessSignature%20sr%3Dh%26sig%3Dc2ln%253D%26se%3D1",
            "?token=SharedAccessSignature%20sr%3Dh%26sig%3D<redacted>%26se%3D1",
        );
    }

    #[test]
    fn url_passwords() {
        assert_redacts(
            "proxy http://operator:s3cr3t@proxy.contoso.com:3128 refused",
            "proxy http://operator:<redacted>@proxy.contoso.com:3128 refused",
        );
        // Unencoded `@` and `/` in the password (RFC 3986 wants them encoded; people paste).
        assert_redacts(
            "https://operator:p@ss/w0rd@proxy:8080/path",
            "https://operator:<redacted>@proxy:8080/path",
        );
        assert_redacts("'socks5://u:p%40ss@h'", "'socks5://u:<redacted>@h'");
    }

    #[test]
    fn private_key_blocks_are_replaced_but_certificates_kept() {
        let text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n\
                    -----BEGIN EC PRIVATE KEY-----\nc2VjcmV0\n-----END EC PRIVATE KEY-----\ntail";
        let redacted = redact(text);
        assert!(!redacted.contains("c2VjcmV0"), "{redacted}");
        assert!(redacted.contains("MIIB"));
        assert_eq!(
            redacted,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n<redacted private key>\ntail"
        );
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ] {
            assert_redacts(
                &format!("a -----BEGIN {label}-----\nc2VjcmV0\n-----END {label}----- b"),
                "a <redacted private key> b",
            );
        }
        // No END line, or armour cut short: to the end.
        assert_redacts(
            "key: -----BEGIN PRIVATE KEY-----\nc2VjcmV0",
            "key: <redacted private key>",
        );
        assert_redacts(
            "key: -----BEGIN PRIVATE KEY\nc2VjcmV0",
            "key: <redacted private key>",
        );
    }

    #[test]
    fn text_without_secrets_is_borrowed_unchanged() {
        for text in [
            "Verify return code: 20 (unable to get local issuer certificate)",
            "HostName=h;SharedAccessKeyName=iothubowner;DeviceId=d",
            "no secrets here, just a SharedAccessSignature mention",
            "the connection string has neither `SharedAccessKey=` nor `x509=true`",
            "the SharedAccessKey looks truncated; SharedAccessKeys are base64",
            "HostName=...;DeviceId=...;SharedAccessKey=...;GatewayHostName=...",
            "SharedAccessKey=<redacted>;GatewayHostName=gw",
            "design=blue; insignia=3; https://gw.contoso.com:443/path https://user@host",
            "https://host/a:b@c",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "gateway naïve.example — ünïcode",
            "SharedAccessKey=",
            "",
        ] {
            assert!(
                matches!(redact(text), Cow::Borrowed(same) if same == text),
                "changed: {text}"
            );
        }
        // SharedAccessKeyName stays, the key after it goes; non-ASCII around a key.
        assert_redacts(
            &format!("SharedAccessKeyName=owner;SharedAccessKey={KEY}"),
            "SharedAccessKeyName=owner;SharedAccessKey=<redacted>",
        );
        assert_redacts(
            &format!("é SharedAccessKey={KEY};DeviceId=é"),
            "é SharedAccessKey=<redacted>;DeviceId=é",
        );
    }

    #[test]
    fn json_strings_are_redacted_at_any_depth() {
        let value = serde_json::json!({
            "a": [format!("SharedAccessKey={KEY}")],
            "b": {"c": format!("SharedAccessKey={KEY}")},
            format!("SharedAccessKey={KEY}"): 1,
            "n": 1,
        });
        let text = redact_json(&value).to_string();
        assert!(!text.contains(KEY), "{text}");
        assert!(text.contains("\"n\":1"), "{text}");
    }

    #[test]
    fn in_place_redaction_replaces_only_what_holds_a_secret() {
        let mut value = serde_json::json!({
            "a": [format!("SharedAccessKey={KEY}"), "plain", 2, null, true],
            format!("SharedAccessKey={KEY}"): {"password": "hunter2", "n": 1.5},
            "proxy": {"password": "hunter2", "port": 3128},
            "plain": "nothing to hide",
        });
        redact_json_in_place(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "a": [format!("SharedAccessKey={REDACTED}"), "plain", 2, null, true],
                // A key named like a secret hides its whole value.
                format!("SharedAccessKey={REDACTED}"): {"password": REDACTED, "n": REDACTED},
                "proxy": {"password": REDACTED, "port": 3128},
                "plain": "nothing to hide",
            })
        );
    }

    #[test]
    fn json_values_of_secret_names_are_hidden_whole() {
        let value = serde_json::json!({
            "password": "hunter2",
            "proxy": {"proxyPassword": "hunter2", "user": "operator"},
            "sas_token": "opaque",
            "SharedAccessKey": KEY,
            "private_key": {"pem": "opaque", "bytes": [1, 2]},
            "sig": "opaque",
            "empty_secret": "",
            "key": "/etc/aziot/device-ca.key.pem",
            "private_key_path": "/etc/aziot/device-ca.key.pem",
            "SharedAccessKeyName": "iothubowner",
            "token_expiry": 1,
        });
        let redacted = redact_json(&value);
        let text = redacted.to_string();
        for hidden in ["hunter2", "opaque", KEY, "[1,2]"] {
            assert!(!text.contains(hidden), "{hidden}: {text}");
        }
        assert_eq!(redacted["proxy"]["user"], "operator");
        assert_eq!(redacted["private_key"]["bytes"][0], REDACTED);
        assert_eq!(redacted["empty_secret"], "");
        assert_eq!(redacted["key"], "/etc/aziot/device-ca.key.pem");
        assert_eq!(redacted["private_key_path"], "/etc/aziot/device-ca.key.pem");
        assert_eq!(redacted["SharedAccessKeyName"], "iothubowner");
        assert_eq!(redacted["token_expiry"], 1);
    }
    /// What each rule matches at the start of a text, for the tests of the scan.
    const RULE_STARTS: [&str; 7] = [
        "-----BEGIN PRIVATE KEY-----\nc2Vj\n-----END PRIVATE KEY-----",
        "://operator:s3cr3t@proxy",
        "SharedAccessKey=c2VjcmV0",
        "sharedaccesskeyc2VjcmV0",
        "SharedAccessSignature sr=a&sig=b",
        "SharedAccessSignature=c2ln",
        "SIG%3Dc2ln",
    ];

    #[test]
    fn the_scan_skips_only_bytes_no_rule_starts_at() {
        for rule in RULE_STARTS {
            let bytes = rule.as_bytes();
            assert!(secret_at(rule, 0).is_some(), "{rule}");
            assert!(may_start_a_secret(bytes[0], bytes[1]), "{rule}");
            // Every other first two bytes, ASCII or not, before the rest of the rule.
            let rest = &rule[2..];
            let firsts = (0..128u8).map(char::from).chain(['é', '\u{200b}', '—']);
            for first in firsts {
                for second in (0..128u8).map(char::from).chain(['é']) {
                    let text = format!("{first}{second}{rest}");
                    let bytes = text.as_bytes();
                    if !may_start_a_secret(bytes[0], bytes[1]) {
                        assert!(secret_at(&text, 0).is_none(), "skipped a match: {text:?}");
                    }
                }
            }
            // A rule's first byte alone at the end of the text.
            assert!(secret_at(&rule[..1], 0).is_none());
            assert_eq!(next_possible_start(&bytes[..1], 0), None);
        }
    }

    /// The pass as it was before the scan: `secret_at` tried at every byte.
    fn redact_once_at_every_byte(text: &str) -> Option<String> {
        redact_once_trying(text, |bytes, index| (index < bytes.len()).then_some(index))
    }

    /// Deterministic texts made of the pieces the rules look for, glued at random.
    fn generated_texts(pieces: &[&str], count: usize) -> Vec<String> {
        let mut next = crate::test_fixtures::xorshift(0x2545_f491_4f6c_dd1d);
        (0..count)
            .map(|_| {
                let length = next() % 12;
                (0..length)
                    .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_scan_finds_what_trying_every_byte_finds() {
        const PIECES: [&str; 34] = [
            "s",
            "S",
            "h",
            "H",
            "i",
            "g",
            "=",
            " = ",
            "-",
            "-----BEGIN ",
            "PRIVATE KEY",
            "CERTIFICATE",
            "-----",
            "-----END ",
            "\n",
            "://",
            ":",
            "@",
            "/",
            "SharedAccess",
            "Key",
            "Signature",
            "Name",
            " ",
            ";",
            ";DeviceId=",
            "&",
            "%3D",
            "%26",
            "é",
            "sr=",
            "c2VjcmV0",
            "`",
            "<redacted>",
        ];
        let mut texts = generated_texts(&PIECES, 20_000);
        texts.extend(RULE_STARTS.iter().map(|rule| format!("x {rule} y")));
        for text in &texts {
            assert_eq!(
                redact_once(text),
                redact_once_at_every_byte(text),
                "{text:?}"
            );
        }
    }

    /// `is_secret_name` as it was, on a lower-cased copy of the key.
    fn is_secret_name_of_a_copy(key: &str) -> bool {
        let name: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|character| character.to_ascii_lowercase())
            .collect();
        EXACT.contains(&name.as_str())
            || ([
                "password",
                "passwd",
                "passphrase",
                "secret",
                "sharedaccesskey",
                "sharedaccesssignature",
                "token",
                "privatekey",
                "credential",
                "apikey",
            ]
            .iter()
            .any(|word| name.contains(word))
                && !PUBLIC_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)))
    }

    #[test]
    fn secret_names_are_judged_as_on_a_lower_cased_copy() {
        const PIECES: [&str; 24] = [
            "pass",
            "Word",
            "wd",
            "phrase",
            "secret",
            "Shared",
            "Access",
            "Key",
            "Signature",
            "token",
            "private",
            "_",
            "-",
            "Name",
            "path",
            "ID",
            "s",
            "ig",
            "pwd",
            "é",
            "api",
            "credential",
            "expiry",
            "9",
        ];
        let mut keys = generated_texts(&PIECES, 20_000);
        let long = "x".repeat(70);
        keys.extend([
            format!("{long}password"),
            format!("password{long}"),
            format!("password{long}name"),
            format!("{long}sig"),
            format!("pass{long}word"),
            "é".repeat(40) + "pass",
            String::new(),
        ]);
        for key in &keys {
            assert_eq!(
                is_secret_name(key),
                is_secret_name_of_a_copy(key),
                "{key:?}"
            );
        }
    }

    #[test]
    fn redacting_while_writing_writes_what_redact_json_makes() {
        let values = [
            serde_json::json!({
                "a": [format!("SharedAccessKey={KEY}"), "plain", 2, null, true, 1.5],
                format!("SharedAccessKey={KEY}"): {"password": "hunter2", "n": 1.5},
                "proxy": {"password": "hunter2", "port": 3128, "url": "http://u:p@h:1"},
                "private_key": {"pem": "opaque", "bytes": [1, 2], "empty": "", "none": null},
                "SharedAccessKeyName": "iothubowner",
                "plain": "nothing to hide",
                "nested": [[{"sig": "x", "token_expiry": 1}], {}, []],
            }),
            // Two keys that redact to the same one merge, as a rebuilt map merges them.
            serde_json::json!({
                "outer": {
                    format!("SharedAccessKey={KEY}"): 1,
                    "SharedAccessKey=c2VjcmV0LW90aGVy": {"token": "t"},
                    "b": "-----BEGIN PRIVATE KEY-----\nc2Vj\n-----END PRIVATE KEY-----",
                },
            }),
            serde_json::json!("SharedAccessSignature sr=a&sig=b&se=1"),
            serde_json::json!(null),
        ];
        for value in &values {
            let expected = redact_json(value);
            assert_eq!(
                serde_json::to_string_pretty(&redacting_json(value)).unwrap(),
                serde_json::to_string_pretty(&expected).unwrap()
            );
            assert_eq!(
                serde_json::to_string(&redacting_json(value)).unwrap(),
                expected.to_string()
            );
        }
    }
}
