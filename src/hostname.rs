//! Host name syntax (RFC 1123) for the gateway a device dials, and certificate name matching as
//! OpenSSL 3's `X509_check_host` / `X509_check_ip` do it (RFC 6125), so edgeprobe judges the
//! gateway's certificate the way an OpenSSL-based device SDK will.

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
    /// The name was given with a trailing dot (`gw.contoso.com.`). [`match_server_name`] ignores
    /// it, but OpenSSL compares names byte for byte, so a device given the dotted form fails name
    /// verification against a certificate that says `gw.contoso.com`. Callers warn.
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

/// The result of comparing the name a device dials with the names its gateway's certificate
/// presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    Matched {
        by: MatchedBy,
        /// The certificate's name that matched, as written in it (`*.contoso.com`, `10.0.0.4`).
        presented: String,
    },
    Mismatch {
        kind: MismatchKind,
        /// Everything the certificate offers, prefixed like `openssl x509 -text` does:
        /// `DNS:name`, `IP:address`, and `CN=name` for subject common names.
        presented: Vec<String>,
    },
}

/// Which certificate field matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    SubjectAltDns,
    SubjectAltIp,
    /// Only possible without any DNS SAN: OpenSSL accepts it, strict clients (rustls, Go 1.15+)
    /// do not, so callers warn.
    CommonName,
}

/// Whether a name or an address failed to match, which decides OpenSSL's verify error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchKind {
    Dns,
    Ip,
}

impl MismatchKind {
    /// The code OpenSSL reports: `X509_V_ERR_HOSTNAME_MISMATCH` (62) or
    /// `X509_V_ERR_IP_ADDRESS_MISMATCH` (64).
    pub fn openssl_verify_code(self) -> i32 {
        match self {
            MismatchKind::Dns => 62,
            MismatchKind::Ip => 64,
        }
    }
}

/// Decides whether a certificate is valid for `target` as OpenSSL 3 does with default flags
/// (`X509_check_host` / `X509_check_ip` in `crypto/x509/v3_utl.c`, function `do_x509_check`).
///
/// - A DNS target is compared with the dNSName SANs. Only when the certificate has no dNSName
///   SAN at all does OpenSSL 3 fall back to the subject common names (RFC 6125 §6.4.4 allows
///   this; OpenSSL's master branch has since dropped it, rustls never did it, Go dropped it in
///   1.15, .NET still does it: dotnet/corefx#34061).
///   A DNS target never matches an iPAddress SAN.
/// - An IP target is compared byte for byte with the iPAddress SANs only, never with names or
///   the common name, so IPv4 and IPv4-mapped IPv6 addresses differ.
pub fn match_server_name(
    target: &HostName,
    dns_sans: &[String],
    ip_sans: &[IpAddr],
    subject_common_names: &[String],
) -> NameMatch {
    match target.ip() {
        Some(address) => {
            if let Some(presented) = ip_sans.iter().find(|&&presented| presented == address) {
                return NameMatch::Matched {
                    by: MatchedBy::SubjectAltIp,
                    presented: presented.to_string(),
                };
            }
        }
        None => {
            let (by, candidates) = if dns_sans.is_empty() {
                (MatchedBy::CommonName, subject_common_names)
            } else {
                (MatchedBy::SubjectAltDns, dns_sans)
            };
            if let Some(presented) = candidates
                .iter()
                .find(|pattern| dns_name_matches(pattern, &target.name))
            {
                return NameMatch::Matched {
                    by,
                    presented: presented.clone(),
                };
            }
        }
    }
    let kind = match target.kind {
        HostKind::Dns => MismatchKind::Dns,
        HostKind::Ipv4(_) | HostKind::Ipv6(_) => MismatchKind::Ip,
    };
    let presented = dns_sans
        .iter()
        .map(|name| format!("DNS:{name}"))
        .chain(ip_sans.iter().map(|address| format!("IP:{address}")))
        .chain(subject_common_names.iter().map(|name| format!("CN={name}")))
        .collect();
    NameMatch::Mismatch { kind, presented }
}

/// Whether the certificate name `pattern` (a dNSName SAN or common name) covers `host`, with
/// the wildcard rules of OpenSSL 3's `equal_wildcard` under default flags (partial wildcards
/// allowed, a wildcard spans one label only).
///
/// Comparison is ASCII case-insensitive (RFC 6125 §6.4.1). One trailing dot on either side is
/// ignored: a leniency over OpenSSL, which compares bytes ([`HostName::trailing_dot`] lets
/// callers warn about it). OpenSSL's "sub-domain" form, a host starting with `.`, is not
/// supported: such a host is compared literally.
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = without_trailing_dot(pattern).as_bytes();
    let host = without_trailing_dot(host).as_bytes();
    // OpenSSL's do_check_string skips empty names, and equal_nocase refuses a NUL in a pattern.
    if pattern.is_empty() || host.is_empty() || pattern.contains(&0) {
        return false;
    }
    // equal_wildcard: a host starting with '.' never meets a wildcard.
    let star = if host[0] == b'.' {
        None
    } else {
        wildcard_position(pattern)
    };
    match star {
        // A pattern that is not a valid wildcard is compared literally, `*` included.
        None => pattern.eq_ignore_ascii_case(host),
        Some(star) => wildcard_matches(&pattern[..star], &pattern[star + 1..], host),
    }
}

fn without_trailing_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// Where the pattern's wildcard is, if it has a usable one; re-expresses OpenSSL's `valid_star`.
///
/// A usable wildcard is the only `*`, sits in the left-most label at its start or its end (so
/// `*.a.b`, `gw*.a.b` and `*gw.a.b` but not `g*w.a.b`), not in a label starting with `xn--`, and
/// is followed by at least two more labels (two dots), so `*.com` is no wildcard. The whole
/// pattern must also be a syntactically sane name: letters, digits, hyphens, dots, no empty
/// label, no label starting with a hyphen, and no label ending with one. OpenSSL does not reset
/// its "last character was a hyphen" state at the star, so `gw-*.a.b` is not a wildcard either.
fn wildcard_position(pattern: &[u8]) -> Option<usize> {
    let mut star = None;
    let mut dots = 0;
    let mut at_label_start = true;
    let mut after_hyphen = false;
    let mut idna_label = false;
    for (index, &byte) in pattern.iter().enumerate() {
        match byte {
            b'*' => {
                let at_label_end = pattern.get(index + 1).is_none_or(|&next| next == b'.');
                if star.is_some() || idna_label || dots > 0 {
                    return None;
                }
                if !at_label_start && !at_label_end {
                    return None;
                }
                star = Some(index);
                at_label_start = false;
            }
            byte if byte.is_ascii_alphanumeric() => {
                if at_label_start && starts_with_ignore_case(&pattern[index..], b"xn--") {
                    idna_label = true;
                }
                at_label_start = false;
                after_hyphen = false;
            }
            b'.' => {
                if at_label_start || after_hyphen {
                    return None;
                }
                at_label_start = true;
                idna_label = false;
                dots += 1;
            }
            b'-' => {
                if at_label_start {
                    return None;
                }
                after_hyphen = true;
            }
            _ => return None,
        }
    }
    if at_label_start || after_hyphen || dots < 2 {
        return None;
    }
    star
}

/// Matches `host` against `prefix*suffix`; re-expresses OpenSSL's `wildcard_match` with default
/// flags (no multi-label wildcards).
fn wildcard_matches(prefix: &[u8], suffix: &[u8], host: &[u8]) -> bool {
    if host.len() < prefix.len() + suffix.len() {
        return false;
    }
    let wildcard_end = host.len() - suffix.len();
    if !host[..prefix.len()].eq_ignore_ascii_case(prefix)
        || !host[wildcard_end..].eq_ignore_ascii_case(suffix)
    {
        return false;
    }
    let covered = &host[prefix.len()..wildcard_end];
    // A `*` that is the whole label must cover at least one character; a partial one (`gw*`)
    // may cover none, so `gw*.contoso.com` matches `gw.contoso.com`.
    let whole_label = prefix.is_empty() && suffix.first() == Some(&b'.');
    if whole_label && covered.is_empty() {
        return false;
    }
    // A partial wildcard never matches an IDNA (punycode) label: `*gw` must not match
    // `xn--...gw`, whose Unicode form looks nothing like it.
    if !whole_label && starts_with_ignore_case(host, b"xn--") {
        return false;
    }
    // OpenSSL lets a wildcard cover a literal `*`.
    if covered == b"*" {
        return true;
    }
    // One label only: a dot (or anything but a letter, digit or hyphen) in the covered part fails.
    covered
        .iter()
        .all(|&byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
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

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
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

    #[test]
    fn all_digit_last_label_is_a_bad_address() {
        assert!(matches!(
            validate_hostname("192.168.1.300"),
            Err(HostnameError::NumericTopLabel { .. })
        ));
        assert!(matches!(
            validate_hostname("12345"),
            Err(HostnameError::NumericTopLabel { .. })
        ));
        // Digits elsewhere are fine.
        assert!(validate_hostname("10.contoso.com").is_ok());
    }

    #[test]
    fn brackets_need_an_ipv6_address() {
        assert!(matches!(
            validate_hostname("[10.0.0.4]"),
            Err(HostnameError::InvalidBracketedAddress { .. })
        ));
        assert!(matches!(
            validate_hostname("[gw.contoso.com]"),
            Err(HostnameError::InvalidBracketedAddress { .. })
        ));
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

    // ---- dns_name_matches ----

    #[test]
    fn exact_match_ignores_ascii_case() {
        assert!(dns_name_matches("gw.contoso.com", "gw.contoso.com"));
        assert!(dns_name_matches("GW.Contoso.COM", "gw.contoso.com"));
        assert!(!dns_name_matches("gw.contoso.com", "gw2.contoso.com"));
        assert!(!dns_name_matches("gw.contoso.com", "gw.contoso.co"));
    }

    #[test]
    fn trailing_dots_are_ignored_on_either_side() {
        assert!(dns_name_matches("gw.contoso.com.", "gw.contoso.com"));
        assert!(dns_name_matches("gw.contoso.com", "gw.contoso.com."));
        assert!(dns_name_matches("*.contoso.com.", "gw.contoso.com"));
    }

    #[test]
    fn empty_names_never_match() {
        assert!(!dns_name_matches("", "gw.contoso.com"));
        assert!(!dns_name_matches("gw.contoso.com", ""));
        assert!(!dns_name_matches("gw.contoso.com\0", "gw.contoso.com"));
    }

    #[test]
    fn wildcard_covers_exactly_one_label() {
        assert!(dns_name_matches("*.contoso.com", "gw.contoso.com"));
        assert!(dns_name_matches("*.contoso.com", "GW-01.Contoso.com"));
        assert!(!dns_name_matches("*.contoso.com", "a.gw.contoso.com"));
        assert!(!dns_name_matches("*.contoso.com", "contoso.com"));
        assert!(!dns_name_matches("*.contoso.com", ".contoso.com"));
        assert!(!dns_name_matches("*.contoso.com", "gw.fabrikam.com"));
    }

    #[test]
    fn whole_label_wildcard_covers_at_least_one_character() {
        // Unreachable through dns_name_matches (a host starting with '.' never meets a wildcard),
        // but wildcard_matches keeps OpenSSL's own guard.
        assert!(!wildcard_matches(b"", b".contoso.com", b".contoso.com"));
        assert!(wildcard_matches(b"", b".contoso.com", b"a.contoso.com"));
    }

    #[test]
    fn wildcard_needs_two_labels_after_it() {
        // `*.com` is not a wildcard, so it is compared literally.
        assert!(!dns_name_matches("*.com", "contoso.com"));
        assert!(!dns_name_matches("*", "gw"));
        assert!(!dns_name_matches("*.local", "gw.local"));
    }

    #[test]
    fn wildcard_only_in_the_leftmost_label_and_only_once() {
        assert!(!dns_name_matches("gw.*.com", "gw.contoso.com"));
        assert!(!dns_name_matches("*.*.com", "gw.contoso.com"));
        assert!(!dns_name_matches("**.contoso.com", "gw.contoso.com"));
    }

    #[test]
    fn partial_wildcards_are_allowed_at_a_label_edge() {
        assert!(dns_name_matches("gw*.contoso.com", "gw01.contoso.com"));
        assert!(dns_name_matches("*gw.contoso.com", "edgegw.contoso.com"));
        // A partial wildcard may cover nothing.
        assert!(dns_name_matches("gw*.contoso.com", "gw.contoso.com"));
        assert!(!dns_name_matches("gw*.contoso.com", "edge.contoso.com"));
        assert!(!dns_name_matches("gw*.contoso.com", "gw.a.contoso.com"));
        // Not in the middle of a label.
        assert!(!dns_name_matches("g*w.contoso.com", "gaw.contoso.com"));
    }

    #[test]
    fn openssl_quirk_hyphen_before_a_trailing_star() {
        // valid_star keeps its hyphen state across the star, so OpenSSL treats `gw-*` literally.
        assert!(!dns_name_matches("gw-*.contoso.com", "gw-01.contoso.com"));
        assert!(dns_name_matches("*-gw.contoso.com", "edge-gw.contoso.com"));
    }

    #[test]
    fn idna_labels_and_wildcards() {
        // A whole-label wildcard may match a punycode label.
        assert!(dns_name_matches(
            "*.contoso.com",
            "xn--bcher-kva.contoso.com"
        ));
        // A partial wildcard may not.
        assert!(!dns_name_matches(
            "*kva.contoso.com",
            "xn--bcher-kva.contoso.com"
        ));
        assert!(!dns_name_matches(
            "x*.contoso.com",
            "xn--bcher-kva.contoso.com"
        ));
        // A wildcard inside an xn-- label is no wildcard at all.
        assert!(!dns_name_matches(
            "xn--*.contoso.com",
            "xn--bcher-kva.contoso.com"
        ));
        assert!(dns_name_matches("xn--*.contoso.com", "xn--*.contoso.com"));
    }

    #[test]
    fn malformed_patterns_are_compared_literally() {
        assert!(!dns_name_matches("*.contoso..com", "gw.contoso..com"));
        assert!(!dns_name_matches("*_x.contoso.com", "a_x.contoso.com"));
        assert!(dns_name_matches("*.contoso.com", "*.contoso.com"));
    }

    // ---- match_server_name ----

    #[test]
    fn dns_target_matches_a_dns_san() {
        let result = match_server_name(
            &host("gw.contoso.com"),
            &strings(&["other.contoso.com", "*.contoso.com"]),
            &[],
            &strings(&["gw.contoso.com"]),
        );
        assert_eq!(
            result,
            NameMatch::Matched {
                by: MatchedBy::SubjectAltDns,
                presented: "*.contoso.com".to_string()
            }
        );
    }

    #[test]
    fn common_name_is_used_only_without_dns_sans() {
        let target = host("gw.contoso.com");
        let cn = strings(&["gw.contoso.com"]);
        assert_eq!(
            match_server_name(&target, &[], &[], &cn),
            NameMatch::Matched {
                by: MatchedBy::CommonName,
                presented: "gw.contoso.com".to_string()
            }
        );
        // An IP SAN does not stop the fallback: OpenSSL only counts SANs of the type it checks.
        let ip: IpAddr = "10.0.0.4".parse().unwrap();
        assert!(matches!(
            match_server_name(&target, &[], &[ip], &cn),
            NameMatch::Matched {
                by: MatchedBy::CommonName,
                ..
            }
        ));
        // Any DNS SAN does.
        let result = match_server_name(&target, &strings(&["other.contoso.com"]), &[ip], &cn);
        assert_eq!(
            result,
            NameMatch::Mismatch {
                kind: MismatchKind::Dns,
                presented: strings(&["DNS:other.contoso.com", "IP:10.0.0.4", "CN=gw.contoso.com"])
            }
        );
    }

    #[test]
    fn common_name_wildcards_follow_the_same_rules() {
        let target = host("gw.contoso.com");
        assert!(matches!(
            match_server_name(&target, &[], &[], &strings(&["*.contoso.com"])),
            NameMatch::Matched {
                by: MatchedBy::CommonName,
                ..
            }
        ));
        assert!(matches!(
            match_server_name(&target, &[], &[], &strings(&["*.com"])),
            NameMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn dns_target_never_matches_an_ip_san() {
        let target = host("gw.contoso.com");
        let ip: IpAddr = "10.0.0.4".parse().unwrap();
        let result = match_server_name(&target, &strings(&["10.0.0.4"]), &[ip], &[]);
        assert!(matches!(
            result,
            NameMatch::Mismatch {
                kind: MismatchKind::Dns,
                ..
            }
        ));
    }

    #[test]
    fn ip_target_matches_ip_sans_only() {
        let target = host("10.0.0.4");
        let ip: IpAddr = "10.0.0.4".parse().unwrap();
        assert_eq!(
            match_server_name(&target, &[], &[ip], &[]),
            NameMatch::Matched {
                by: MatchedBy::SubjectAltIp,
                presented: "10.0.0.4".to_string()
            }
        );
        // The same text as a DNS SAN or common name does not count.
        let result = match_server_name(
            &target,
            &strings(&["10.0.0.4"]),
            &[],
            &strings(&["10.0.0.4"]),
        );
        assert_eq!(
            result,
            NameMatch::Mismatch {
                kind: MismatchKind::Ip,
                presented: strings(&["DNS:10.0.0.4", "CN=10.0.0.4"])
            }
        );
        assert_eq!(MismatchKind::Ip.openssl_verify_code(), 64);
        assert_eq!(MismatchKind::Dns.openssl_verify_code(), 62);
    }

    #[test]
    fn ipv6_target_and_mapped_addresses() {
        let target = host("[fd00::4]");
        let v6: IpAddr = "fd00::4".parse().unwrap();
        assert!(matches!(
            match_server_name(&target, &[], &[v6], &[]),
            NameMatch::Matched {
                by: MatchedBy::SubjectAltIp,
                ..
            }
        ));
        // IPv4 vs IPv4-mapped IPv6: different bytes, no match, as in OpenSSL.
        let mapped: IpAddr = "::ffff:10.0.0.4".parse().unwrap();
        assert!(matches!(
            match_server_name(&host("10.0.0.4"), &[], &[mapped], &[]),
            NameMatch::Mismatch {
                kind: MismatchKind::Ip,
                ..
            }
        ));
        let v4: IpAddr = "10.0.0.4".parse().unwrap();
        assert!(matches!(
            match_server_name(&host("::ffff:10.0.0.4"), &[], &[v4], &[]),
            NameMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn trailing_dot_target_matches() {
        assert!(matches!(
            match_server_name(
                &host("gw.contoso.com."),
                &strings(&["gw.contoso.com"]),
                &[],
                &[]
            ),
            NameMatch::Matched { .. }
        ));
    }

    #[test]
    fn mismatch_with_empty_certificate_lists_nothing() {
        assert_eq!(
            match_server_name(&host("gw.contoso.com"), &[], &[], &[]),
            NameMatch::Mismatch {
                kind: MismatchKind::Dns,
                presented: vec![]
            }
        );
    }
}
