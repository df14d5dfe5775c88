//! Host name syntax (RFC 1123) and certificate name matching (RFC 6125). (stub: being written)
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostName {
    pub name: String,
    pub kind: HostKind,
    pub single_label: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Dns,
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    Matched {
        by: MatchedBy,
        presented: String,
    },
    Mismatch {
        kind: MismatchKind,
        presented: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    SubjectAltDns,
    SubjectAltIp,
    CommonName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchKind {
    Dns,
    Ip,
}

pub fn match_server_name(
    target: &HostName,
    dns_sans: &[String],
    ip_sans: &[IpAddr],
    common_names: &[String],
) -> NameMatch {
    let _ = (target, dns_sans, ip_sans, common_names);
    NameMatch::Mismatch {
        kind: MismatchKind::Dns,
        presented: Vec::new(),
    }
}
#[derive(Debug, Clone, thiserror::Error)]
#[error("bad host name")]
pub struct HostnameError;
pub fn validate_hostname(name: &str) -> Result<HostName, HostnameError> {
    Ok(HostName {
        name: name.to_owned(),
        kind: HostKind::Dns,
        single_label: !name.contains('.'),
    })
}
