//! Secrets and their redaction, in one place: the [`Secret`] wrapper that holds a key, a token
//! or a password so `Debug`, `Display` and `Serialize` can only ever print [`REDACTED`], and
//! the one [`redact`] that every printer and error path passes text through, so a secret that
//! slipped into a message anyway is caught before it reaches a terminal, a log or a JSON file.
//!
//! The type is the first defence (a value that is never a `String` cannot be formatted by
//! mistake); the redactor is the last (it catches what a caller wrote into free text).

mod command_line;
mod redact;

pub(crate) use command_line::looks_like_a_key;
pub use command_line::redact_command_line;
pub use redact::{redact, redact_json, redact_json_in_place, redacting_json};

use std::fmt;

use serde::{Serialize, Serializer};

/// What every redacted secret is replaced with, in every output format.
pub const REDACTED: &str = "<redacted>";

/// What a PEM private-key block, armour included, is replaced with.
pub const REDACTED_PRIVATE_KEY: &str = "<redacted private key>";

/// A value that must never be printed: `Debug`, `Display` and `Serialize` all write
/// [`REDACTED`]. The value is reached only through [`Secret::expose`], which makes every place
/// that really needs it (parsing it, signing a SAS token with it) easy to find and review.
///
/// Hand-written rather than the `secrecy` crate's: edgeprobe's marker must be the same
/// `<redacted>` the redactor writes, and a secret field in a `Serialize` struct must come out
/// redacted rather than fail to compile or serialize the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

/// Text secrets: a raw connection string, a SAS token (`SharedAccessSignature sr=..&sig=..`),
/// a proxy password.
pub type SecretString = Secret<String>;

/// Binary secrets: a decoded SharedAccessKey, private-key bytes (their paths are not secret).
pub type SecretBytes = Secret<Vec<u8>>;

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself. Never format it: pass it to what needs it (a parser, a signer).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl SecretString {
    /// The text itself, as a `&str`. Never format it.
    pub fn expose_str(&self) -> &str {
        &self.0
    }
}

/// So clap can parse `--connection-string` straight into a secret.
impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "c2VjcmV0LXZhbHVl";

    #[test]
    fn debug_display_and_serialize_print_only_the_marker() {
        let secret = SecretString::new(VALUE.to_owned());
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{secret:#?}"), REDACTED);
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(
            format!("{secret:>40}"),
            REDACTED,
            "no padding tricks either"
        );
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            format!("\"{REDACTED}\"")
        );
        let bytes = SecretBytes::new(VALUE.as_bytes().to_vec());
        assert_eq!(
            format!("{bytes:?} {bytes}"),
            format!("{REDACTED} {REDACTED}")
        );
    }

    #[test]
    fn a_secret_inside_a_derived_struct_stays_redacted() {
        #[derive(Debug, Serialize)]
        struct Proxy {
            user: String,
            password: SecretString,
        }
        let proxy = Proxy {
            user: "operator".into(),
            password: VALUE.to_owned().into(),
        };
        let shown = format!(
            "{proxy:?} {proxy:#?} {}",
            serde_json::to_string(&proxy).unwrap()
        );
        assert!(!shown.contains(VALUE), "{shown}");
        assert!(shown.contains("operator"), "{shown}");
        assert!(
            shown.contains(r#""password":"<redacted>""#),
            "serialized as the marker: {shown}"
        );
    }

    #[test]
    fn expose_gives_the_value_back() {
        let secret = SecretString::from(VALUE.to_owned());
        assert_eq!(secret.expose(), VALUE);
        assert_eq!(secret.expose_str(), VALUE);
        assert_eq!(SecretBytes::new(vec![1, 2]).expose(), &[1, 2]);
        assert_eq!(secret.clone(), secret);
    }
}
