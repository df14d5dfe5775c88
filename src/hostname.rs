//! Host name syntax (RFC 1123) for the gateway a device dials: what may be dialled and put in
//! a certificate. Matching a name against a certificate, as OpenSSL's `X509_check_host` does, is
//! PKI code: [`crate::pki::host_match`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use thiserror::Error;

/// IoT Edge requires the gateway host name to be shorter than 64 characters because it becomes
/// the common name of the edge CA / server certificate, and RFC 5280 (Appendix A,
/// `ub-common-name`) bounds a common name at 64 characters.
pub const MAX_HOSTNAME_LENGTH: usize = 63;

/// RFC 1035 §2.3.4: a label is at most 63 octets.
pub const MAX_LABEL_LENGTH: usize = 63;

/// A host name or IP literal that passed [`validate_hostname`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostName {
    /// The name as given, with one trailing dot removed (IPv6 literals keep their brackets).
    pub name: String,
    pub kind: HostKind,
    /// A DNS name without any dot (`edgegw`): it resolves only through a search domain or a hosts
    /// file, which leaf devices often lack. Not an error; callers warn.
    pub single_label: bool,
    /// The name was given with a trailing dot (`gw.contoso.com.`).
    /// [`match_server_name`](crate::pki::host_match::match_server_name) ignores it, but OpenSSL
    /// compares names byte for byte, so a device given the dotted form fails name verification
    /// against a certificate that says `gw.contoso.com`. Callers warn.
    pub trailing_dot: bool,
}

/// What kind of address the device will dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Dns,
    /// An IP literal: valid, but the certificate then needs an iPAddress SAN. Callers warn.
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl HostName {
    /// The address, when the name is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.kind {
            HostKind::Dns => None,
            HostKind::Ipv4(address) => Some(IpAddr::V4(address)),
            HostKind::Ipv6(address) => Some(IpAddr::V6(address)),
        }
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Why a host name cannot be dialled or put in a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HostnameError {
    #[error("the host name is empty: give the gateway's fully qualified name, e.g. gw.contoso.com")]
    Empty,

    #[error(
        "host name `{name}` is {length} characters long: IoT Edge requires fewer than 64, because \
         the name becomes the certificate's common name, which RFC 5280 limits to 64 characters \
         (ub-common-name); use a shorter name or a CNAME"
    )]
    TooLong { name: String, length: usize },

    #[error(
        "host name `{name}` has an empty label (label {label_number}): remove the doubled, leading \
         or stray dot"
    )]
    EmptyLabel { name: String, label_number: usize },

    #[error(
        "host name `{name}` has a label `{label}` of {length} characters: a DNS label is at most 63 \
         characters (RFC 1035 §2.3.4)"
    )]
    LabelTooLong {
        name: String,
        label: String,
        length: usize,
    },

    #[error(
        "host name `{name}` has an invalid character {character:?} at position {position}: host \
         names use only letters, digits, hyphens and dots (RFC 1123 §2.1){hint}",
        hint = character_hint(*.character)
    )]
    InvalidCharacter {
        name: String,
        character: char,
        /// 1-based position of the character in `name`.
        position: usize,
    },

    #[error(
        "host name `{name}` has label `{label}` that starts or ends with a hyphen, which RFC 1123 \
         §2.1 does not allow: rename it"
    )]
    HyphenAtLabelEdge { name: String, label: String },

    #[error(
        "host name `{name}` contains non-ASCII characters: use its punycode form (labels starting \
         with xn--, e.g. from `idn2 '{name}'`) both on the device and in the gateway certificate"
    )]
    NonAscii { name: String },

    #[error(
        "host name `{name}` is not a valid IPv4 address, and a host name's last label is never all \
         digits (RFC 1123 §2.1): correct the address or the name"
    )]
    NumericTopLabel { name: String },

    #[error(
        "`{name}` is in brackets but is not a valid IPv6 address: write e.g. [fd00::1], or drop the \
         brackets for a host name or IPv4 address"
    )]
    InvalidBracketedAddress { name: String },
}

/// The extra sentence for characters technicians commonly get wrong.
fn character_hint(character: char) -> &'static str {
    match character {
        '_' => {
            "; underscores are legal in DNS records but not in host names, and certificate name \
             validation rejects them: rename the gateway (hostname in /etc/aziot/config.toml) and \
             reissue its certificate"
        }
        ':' | '/' => {
            "; this looks like a URL, a host:port pair or a malformed IPv6 address: give only the \
             host name"
        }
        '*' => "; a wildcard belongs in a certificate, not in the name a device dials",
        ' ' | '\t' => "; remove the whitespace",
        _ => "",
    }
}

/// Whether two host names name the same host: host names compare case-insensitively (RFC 4343),
/// and a trailing root dot (`gw.contoso.com.`) does not make another name.
pub fn same_host_name(left: &str, right: &str) -> bool {
    left.trim_end_matches('.')
        .eq_ignore_ascii_case(right.trim_end_matches('.'))
}

/// Checks the syntax of the name a device dials to reach its gateway.
///
/// Follows RFC 1123 §2.1, which relaxes RFC 952 so labels may start with a digit, plus IoT
/// Edge's under-64-character limit. IP literals (IPv6 bare or in brackets) and single-label names
/// are accepted and reported through [`HostName::kind`] and [`HostName::single_label`], because
/// they work but deserve a warning.
pub fn validate_hostname(name: &str) -> Result<HostName, HostnameError> {
    let trailing_dot = name.len() > 1 && name.ends_with('.');
    let name = if trailing_dot {
        &name[..name.len() - 1]
    } else {
        name
    };
    if name.is_empty() || name == "." {
        return Err(HostnameError::Empty);
    }
    let found = |kind: HostKind, single_label: bool| HostName {
        name: name.to_string(),
        kind,
        single_label,
        trailing_dot,
    };

    if let Some(inner) = name
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return match inner.parse::<Ipv6Addr>() {
            Ok(address) => Ok(found(HostKind::Ipv6(address), false)),
            Err(_) => Err(HostnameError::InvalidBracketedAddress {
                name: name.to_string(),
            }),
        };
    }
    if let Ok(address) = name.parse::<Ipv4Addr>() {
        return Ok(found(HostKind::Ipv4(address), false));
    }
    if let Ok(address) = name.parse::<Ipv6Addr>() {
        return Ok(found(HostKind::Ipv6(address), false));
    }

    if !name.is_ascii() {
        return Err(HostnameError::NonAscii {
            name: name.to_string(),
        });
    }
    // `offset` tracks where each label starts so character positions refer to the whole name.
    let mut offset = 0;
    let mut last_label = "";
    for (index, label) in name.split('.').enumerate() {
        check_label(name, label, index + 1, offset)?;
        offset += label.len() + 1;
        last_label = label;
    }
    // Checked after the labels, which give the more specific diagnosis (a 64-character label
    // always makes the whole name too long as well).
    if name.len() > MAX_HOSTNAME_LENGTH {
        return Err(HostnameError::TooLong {
            name: name.to_string(),
            length: name.len(),
        });
    }
    // RFC 1123 §2.1: "the highest-level component label will be alphabetic", so an all-digit
    // last label means a mistyped IPv4 address (`192.168.1.300`), which resolvers may even
    // reinterpret as a number.
    if last_label.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(HostnameError::NumericTopLabel {
            name: name.to_string(),
        });
    }
    Ok(found(HostKind::Dns, !name.contains('.')))
}

fn check_label(
    name: &str,
    label: &str,
    label_number: usize,
    offset: usize,
) -> Result<(), HostnameError> {
    if label.is_empty() {
        return Err(HostnameError::EmptyLabel {
            name: name.to_string(),
            label_number,
        });
    }
    if label.len() > MAX_LABEL_LENGTH {
        return Err(HostnameError::LabelTooLong {
            name: name.to_string(),
            label: label.to_string(),
            length: label.len(),
        });
    }
    if let Some((index, character)) = label
        .char_indices()
        .find(|&(_, character)| !(character.is_ascii_alphanumeric() || character == '-'))
    {
        return Err(HostnameError::InvalidCharacter {
            name: name.to_string(),
            character,
            position: offset + index + 1,
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(HostnameError::HyphenAtLabelEdge {
            name: name.to_string(),
            label: label.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> HostName {
        match validate_hostname(name) {
            Ok(host) => host,
            Err(error) => panic!("{name} should be valid: {error}"),
        }
    }

    #[test]
    fn host_names_compare_without_case() {
        assert!(same_host_name("GW.Contoso.com", "gw.contoso.com"));
        assert!(same_host_name("gw.contoso.com.", "gw.contoso.com"));
        assert!(!same_host_name("gw", "gw.contoso.com"));
    }

    // ---- syntax ----

    #[test]
    fn accepts_an_ordinary_name() {
        let parsed = host("gw.contoso.com");
        assert_eq!(parsed.name, "gw.contoso.com");
        assert_eq!(parsed.kind, HostKind::Dns);
        assert!(!parsed.single_label);
        assert!(!parsed.trailing_dot);
        assert_eq!(parsed.ip(), None);
        assert_eq!(parsed.to_string(), "gw.contoso.com");
    }

    #[test]
    fn labels_may_start_with_a_digit_per_rfc_1123() {
        assert_eq!(host("1gw.3contoso.com").kind, HostKind::Dns);
        assert_eq!(host("edge-01.contoso.com").kind, HostKind::Dns);
    }

    #[test]
    fn removes_one_trailing_dot_and_remembers_it() {
        let parsed = host("gw.contoso.com.");
        assert_eq!(parsed.name, "gw.contoso.com");
        assert!(parsed.trailing_dot);
        assert_eq!(
            validate_hostname("gw.contoso.com.."),
            Err(HostnameError::EmptyLabel {
                name: "gw.contoso.com.".to_string(),
                label_number: 4
            })
        );
    }

    #[test]
    fn single_label_is_valid_but_flagged() {
        let parsed = host("edgegw");
        assert!(parsed.single_label);
        assert_eq!(parsed.kind, HostKind::Dns);
    }

    #[test]
    fn ip_literals_are_valid_and_reported_by_kind() {
        assert_eq!(
            host("10.0.0.4").kind,
            HostKind::Ipv4(Ipv4Addr::new(10, 0, 0, 4))
        );
        assert_eq!(
            host("fd00::1").kind,
            HostKind::Ipv6("fd00::1".parse().unwrap())
        );
        let bracketed = host("[fd00::1]");
        assert_eq!(bracketed.kind, HostKind::Ipv6("fd00::1".parse().unwrap()));
        assert_eq!(bracketed.name, "[fd00::1]");
        assert!(!bracketed.single_label);
        assert_eq!(bracketed.ip(), Some("fd00::1".parse().unwrap()));
    }

    #[test]
    fn rejects_empty_names() {
        assert_eq!(validate_hostname(""), Err(HostnameError::Empty));
        assert_eq!(validate_hostname("."), Err(HostnameError::Empty));
    }

    #[test]
    fn length_limit_is_under_64() {
        // 63 characters: accepted.
        let at_limit = format!("{}.{}.com", "a".repeat(40), "b".repeat(18));
        assert_eq!(at_limit.len(), 63);
        assert!(validate_hostname(&at_limit).is_ok());
        let over = format!("{}.{}.com", "a".repeat(40), "b".repeat(19));
        assert_eq!(over.len(), 64);
        let error = validate_hostname(&over).unwrap_err();
        assert_eq!(
            error,
            HostnameError::TooLong {
                name: over.clone(),
                length: 64
            }
        );
        assert!(error.to_string().contains("ub-common-name"));
        // The trailing dot does not count.
        assert!(validate_hostname(&format!("{at_limit}.")).is_ok());
    }

    #[test]
    fn rejects_empty_labels() {
        assert_eq!(
            validate_hostname("gw..contoso.com"),
            Err(HostnameError::EmptyLabel {
                name: "gw..contoso.com".to_string(),
                label_number: 2
            })
        );
        assert!(matches!(
            validate_hostname(".gw.contoso.com"),
            Err(HostnameError::EmptyLabel {
                label_number: 1,
                ..
            })
        ));
    }

    #[test]
    fn rejects_labels_over_63_characters() {
        let label = "a".repeat(64);
        let name = format!("{label}.com");
        // The label rule wins over the overall length: it says more precisely what to fix.
        assert_eq!(
            validate_hostname(&name),
            Err(HostnameError::LabelTooLong {
                name: name.clone(),
                label,
                length: 64
            })
        );
        assert!(validate_hostname(&format!("{}.com", "a".repeat(59))).is_ok());
    }

    #[test]
    fn rejects_invalid_characters_with_position() {
        let error = validate_hostname("gw.con$oso.com").unwrap_err();
        assert_eq!(
            error,
            HostnameError::InvalidCharacter {
                name: "gw.con$oso.com".to_string(),
                character: '$',
                position: 7
            }
        );
        assert!(error.to_string().contains("position 7"));
    }

    #[test]
    fn underscore_gets_a_hint() {
        let error = validate_hostname("edge_gw.contoso.com").unwrap_err();
        assert!(matches!(
            error,
            HostnameError::InvalidCharacter {
                character: '_',
                position: 5,
                ..
            }
        ));
        let message = error.to_string();
        assert!(message.contains("underscores are legal in DNS records"));
        assert!(message.contains("certificate"));
    }

    #[test]
    fn host_and_port_gets_a_hint() {
        let error = validate_hostname("gw.contoso.com:8883").unwrap_err();
        assert!(matches!(
            error,
            HostnameError::InvalidCharacter { character: ':', .. }
        ));
        assert!(error.to_string().contains("host:port"));
    }

    #[test]
    fn rejects_hyphen_at_label_edges() {
        assert_eq!(
            validate_hostname("-gw.contoso.com"),
            Err(HostnameError::HyphenAtLabelEdge {
                name: "-gw.contoso.com".to_string(),
                label: "-gw".to_string()
            })
        );
        assert!(matches!(
            validate_hostname("gw.contoso-.com"),
            Err(HostnameError::HyphenAtLabelEdge { .. })
        ));
    }

    #[test]
    fn non_ascii_asks_for_punycode() {
        let error = validate_hostname("passerelle.exémple.fr").unwrap_err();
        assert!(matches!(error, HostnameError::NonAscii { .. }));
        assert!(error.to_string().contains("xn--"));
        assert!(validate_hostname("passerelle.xn--exmple-cva.fr").is_ok());
    }

    /// Every name in `names` is rejected with an error that `is_expected` accepts.
    #[track_caller]
    fn assert_rejected(names: &[&str], is_expected: fn(&HostnameError) -> bool) {
        for name in names {
            let result = validate_hostname(name);
            assert!(
                result.as_ref().is_err_and(is_expected),
                "{name}: {result:?}"
            );
        }
    }

    #[test]
    fn all_digit_last_label_is_a_bad_address() {
        assert_rejected(&["192.168.1.300", "12345"], |error| {
            matches!(error, HostnameError::NumericTopLabel { .. })
        });
        // Digits elsewhere are fine.
        assert!(validate_hostname("10.contoso.com").is_ok());
    }

    #[test]
    fn brackets_need_an_ipv6_address() {
        assert_rejected(&["[10.0.0.4]", "[gw.contoso.com]"], |error| {
            matches!(error, HostnameError::InvalidBracketedAddress { .. })
        });
    }

    #[test]
    fn every_error_message_is_one_line() {
        for name in [
            "",
            "gw..contoso.com",
            "g_w.contoso.com",
            "-gw.contoso.com",
            "gw.exémple.fr",
            "1.2.3.400",
            "[nope]",
            &"a".repeat(70),
        ] {
            let message = validate_hostname(name).unwrap_err().to_string();
            assert!(!message.contains('\n'), "{message}");
        }
    }
}
