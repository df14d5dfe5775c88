//! Certificate name matching as OpenSSL 3's `X509_check_host` / `X509_check_ip` do it
//! (RFC 6125), so edgeprobe judges the gateway's certificate the way an OpenSSL-based device SDK
//! will. The host name's own syntax (RFC 1123) is [`crate::hostname`].

use std::net::IpAddr;

use crate::hostname::{HostKind, HostName};

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
    use crate::hostname::validate_hostname;

    /// A target as the checks hand it over: validated first.
    fn host(name: &str) -> HostName {
        validate_hostname(name).unwrap_or_else(|error| panic!("{name} should be valid: {error}"))
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }
    // ---- dns_name_matches ----

    #[test]
    fn dns_name_matches_follows_x509_check_host() {
        // (pattern presented in the certificate, target host, whether it matches)
        let cases = [
            // An exact match ignores ASCII case.
            ("gw.contoso.com", "gw.contoso.com", true),
            ("GW.Contoso.COM", "gw.contoso.com", true),
            ("gw.contoso.com", "gw2.contoso.com", false),
            ("gw.contoso.com", "gw.contoso.co", false),
            // Trailing dots are ignored on either side.
            ("gw.contoso.com.", "gw.contoso.com", true),
            ("gw.contoso.com", "gw.contoso.com.", true),
            ("*.contoso.com.", "gw.contoso.com", true),
            // Empty names never match.
            ("", "gw.contoso.com", false),
            ("gw.contoso.com", "", false),
            ("gw.contoso.com\0", "gw.contoso.com", false),
            // A wildcard covers exactly one label.
            ("*.contoso.com", "gw.contoso.com", true),
            ("*.contoso.com", "GW-01.Contoso.com", true),
            ("*.contoso.com", "a.gw.contoso.com", false),
            ("*.contoso.com", "contoso.com", false),
            ("*.contoso.com", ".contoso.com", false),
            ("*.contoso.com", "gw.fabrikam.com", false),
            // A wildcard needs two labels after it: `*.com` is not a wildcard, so it is compared
            // literally.
            ("*.com", "contoso.com", false),
            ("*", "gw", false),
            ("*.local", "gw.local", false),
            // A wildcard only in the leftmost label and only once.
            ("gw.*.com", "gw.contoso.com", false),
            ("*.*.com", "gw.contoso.com", false),
            ("**.contoso.com", "gw.contoso.com", false),
            // Partial wildcards are allowed at a label edge.
            ("gw*.contoso.com", "gw01.contoso.com", true),
            ("*gw.contoso.com", "edgegw.contoso.com", true),
            // A partial wildcard may cover nothing.
            ("gw*.contoso.com", "gw.contoso.com", true),
            ("gw*.contoso.com", "edge.contoso.com", false),
            ("gw*.contoso.com", "gw.a.contoso.com", false),
            // Not in the middle of a label.
            ("g*w.contoso.com", "gaw.contoso.com", false),
            // OpenSSL quirk, a hyphen before a trailing star: valid_star keeps its hyphen state
            // across the star, so OpenSSL treats `gw-*` literally.
            ("gw-*.contoso.com", "gw-01.contoso.com", false),
            ("*-gw.contoso.com", "edge-gw.contoso.com", true),
            // IDNA labels: a whole-label wildcard may match a punycode label.
            ("*.contoso.com", "xn--bcher-kva.contoso.com", true),
            // A partial wildcard may not.
            ("*kva.contoso.com", "xn--bcher-kva.contoso.com", false),
            ("x*.contoso.com", "xn--bcher-kva.contoso.com", false),
            // A wildcard inside an xn-- label is no wildcard at all.
            ("xn--*.contoso.com", "xn--bcher-kva.contoso.com", false),
            ("xn--*.contoso.com", "xn--*.contoso.com", true),
            // Malformed patterns are compared literally.
            ("*.contoso..com", "gw.contoso..com", false),
            ("*_x.contoso.com", "a_x.contoso.com", false),
            ("*.contoso.com", "*.contoso.com", true),
        ];
        for (pattern, target, expected) in cases {
            assert_eq!(
                dns_name_matches(pattern, target),
                expected,
                "{pattern:?} against {target:?}"
            );
        }
    }

    #[test]
    fn whole_label_wildcard_covers_at_least_one_character() {
        // Unreachable through dns_name_matches (a host starting with '.' never meets a wildcard),
        // but wildcard_matches keeps OpenSSL's own guard.
        assert!(!wildcard_matches(b"", b".contoso.com", b".contoso.com"));
        assert!(wildcard_matches(b"", b".contoso.com", b"a.contoso.com"));
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
