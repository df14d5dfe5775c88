//! Redacting what a usage error echoes of the command line. clap quotes the argument it could
//! not place (`unexpected argument '...'`), and that argument can be a connection string pasted
//! without `--connection-string`, with a misspelled `SharedAcessKey=` no free-text rule knows,
//! or a bare key.

use std::borrow::Cow;

use super::redact;
use crate::connection_string::redact_connection_string;

/// `text` with every argument of `arguments` that may hold a secret (it has a `=` or a `;`,
/// or looks like a base64 key) replaced by its redacted form, then through [`redact`].
/// `--flag=value` counts as its value; other flags (`--gatway`) are kept, as are plain words
/// and host names, so the message still says what was mistyped.
pub fn redact_command_line<'a>(text: &'a str, arguments: &[String]) -> Cow<'a, str> {
    let mut suspects: Vec<&str> = arguments
        .iter()
        .map(|argument| match argument.strip_prefix("--") {
            Some(flag) => flag.split_once('=').map_or("", |(_, value)| value),
            None => argument.as_str(),
        })
        .filter(|argument| may_hold_a_secret(argument) && text.contains(*argument))
        .collect();
    if suspects.is_empty() {
        return redact(text);
    }
    // Longest first, so an argument inside another is not replaced half-way.
    suspects.sort_by_key(|argument| std::cmp::Reverse(argument.len()));
    let mut redacted = text.to_owned();
    for suspect in suspects {
        redacted = redacted.replace(suspect, &redact_connection_string(suspect));
    }
    if redacted == text {
        return redact(text);
    }
    Cow::Owned(redact(&redacted).into_owned())
}

fn may_hold_a_secret(argument: &str) -> bool {
    argument.contains(['=', ';']) || looks_like_a_key(argument)
}

/// 16 or more base64 characters with upper case, lower case and digits, as a key is (a host
/// name has dots, a word has no digits).
pub(crate) fn looks_like_a_key(argument: &str) -> bool {
    let bytes = argument.as_bytes();
    bytes.len() >= 16
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/'))
        && bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase)
        && bytes.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ=";

    fn arguments(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn echoed_connection_strings_and_keys_are_redacted() {
        let misspelled = format!("HostName=h;DeviceId=d;SharedAcessKey={KEY}");
        let text = format!("error: unexpected argument '{misspelled}' found\n\nUsage: ...");
        assert_eq!(
            redact_command_line(&text, &arguments(&["check", &misspelled])),
            "error: unexpected argument 'HostName=h;DeviceId=d;SharedAcessKey=<redacted>' found\n\nUsage: ..."
        );
        let bare = KEY.trim_end_matches('=');
        assert_eq!(
            redact_command_line(
                &format!("unexpected argument '{bare}' found"),
                &arguments(&["check", bare])
            ),
            "unexpected argument '<redacted>' found"
        );
        let flag = format!("--connection-strin={misspelled}");
        assert!(
            !redact_command_line(&format!("'{misspelled}'"), &arguments(&[&flag])).contains(KEY)
        );
    }

    #[test]
    fn flags_words_and_host_names_stay() {
        let text = "unexpected argument '--gatway' found; unexpected argument 'gw.contoso.com' found; unrecognized subcommand 'chek'";
        assert!(matches!(
            redact_command_line(
                text,
                &arguments(&["chek", "--gatway", "gw.contoso.com", "ThisIsAWordOnly"])
            ),
            Cow::Borrowed(_)
        ));
    }
}
