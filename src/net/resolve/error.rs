//! Why a name did not resolve, one variant per diagnosis (NXDOMAIN, NODATA, SERVFAIL,
//! REFUSED, timeout, no name server, ...), each with the fix it calls for.

use std::time::Duration;

/// Why the gateway name did not resolve. Every variant names the server asked, because "which
/// DNS server said that" is the first thing the network team will ask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// RFC 1035 §4.1.1 RCODE 3: the server says the name does not exist at all.
    #[error("`{name}` does not exist in DNS: {server} answered NXDOMAIN")]
    NxDomain { name: String, server: String },
    /// RFC 2308 §2.2 NODATA: the name exists but has no A or AAAA record.
    #[error(
        "`{name}` exists in DNS but has no A or AAAA record: {server} answered with no address"
    )]
    NoAddresses { name: String, server: String },
    #[error("no DNS answer for `{name}` from {server} within {timeout:?}")]
    Timeout {
        name: String,
        server: String,
        timeout: Duration,
    },
    /// RCODE 2: the server could not complete the lookup (its upstream or the zone is broken).
    #[error("{server} failed to resolve `{name}` (SERVFAIL)")]
    ServerFailure { name: String, server: String },
    /// RCODE 5: the server will not answer this client or this name.
    #[error("{server} refused to resolve `{name}` (REFUSED)")]
    Refused { name: String, server: String },
    /// `/etc/resolv.conf` is missing, unreadable, or lists no `nameserver`.
    #[error("no DNS server configured: {detail}")]
    NoNameservers { detail: String },
    /// Nothing answers DNS at that address (ICMP port unreachable, TCP connection refused).
    #[error("cannot reach DNS server {server} to resolve `{name}`: {detail}")]
    Unreachable {
        name: String,
        server: String,
        detail: String,
    },
    /// The name cannot be put in a DNS query at all (bad characters, label over 63 bytes).
    #[error("`{name}` is not a valid host name: {detail}")]
    InvalidName { name: String, detail: String },
    #[error("DNS lookup of `{name}` via {server} failed: {detail}")]
    Other {
        name: String,
        server: String,
        detail: String,
    },
}

impl ResolveError {
    /// What the technician should do, naming the file, record or flag to change.
    pub fn remedy(&self, name: &str) -> String {
        let hosts_line = format!(
            "add the line `<gateway IP> {name}` to /etc/hosts on this device (the IoT Edge \
             transparent gateway guide's option for networks without DNS)"
        );
        match self {
            ResolveError::NxDomain { .. } => format!(
                "Check the spelling of the gateway name (GatewayHostName must equal the \
                 gateway's `hostname` in /etc/aziot/config.toml); then add an A record for \
                 {name} in your DNS zone, or {hosts_line}."
            ),
            ResolveError::NoAddresses { server, .. } => format!(
                "{name} exists on {server} but has no address record (perhaps only a CNAME to \
                 nothing, or records of other types): add an A record for {name} in your DNS \
                 zone, or {hosts_line}."
            ),
            ResolveError::Timeout { server, .. } => format!(
                "Check that this device can reach its DNS server {server}: the server is up, \
                 and no firewall drops UDP or TCP port 53 to it (try `dig {name} @<server>`). \
                 To test another server, rerun with `--dns-server IP`; or {hosts_line}."
            ),
            ResolveError::ServerFailure { server, .. } => format!(
                "{server} is up but could not resolve {name}: check its forwarders and the \
                 health of the zone's authoritative servers (DNSSEC failures also show as \
                 SERVFAIL). Rerun with `--dns-server` pointing at the zone's own server to \
                 confirm, or {hosts_line}."
            ),
            ResolveError::Refused { server, .. } => format!(
                "{server} does not serve this device: allow queries (and recursion) from the \
                 device's subnet on that server (e.g. BIND `allow-query`/`allow-recursion`), or \
                 point the device at a DNS server that serves the zone of {name} (test with \
                 `--dns-server IP`), or {hosts_line}."
            ),
            ResolveError::NoNameservers { .. } => format!(
                "Add a `nameserver <DNS server IP>` line to /etc/resolv.conf (or fix whatever \
                 writes it: DHCP, NetworkManager, systemd-resolved); without one glibc asks \
                 127.0.0.1, where a leaf device rarely runs a DNS server. Or test a server with \
                 `--dns-server IP`, or {hosts_line}."
            ),
            ResolveError::Unreachable { server, .. } => format!(
                "Nothing answers DNS at {server}: check the address (and port) in \
                 /etc/resolv.conf or `--dns-server`, and that a DNS service runs there; or \
                 {hosts_line}."
            ),
            ResolveError::InvalidName { .. } => format!(
                "Fix the gateway name `{name}`: it must be a DNS host name (letters, digits, \
                 `-` and `.`), the same value as `hostname` in the gateway's \
                 /etc/aziot/config.toml."
            ),
            ResolveError::Other { server, .. } => format!(
                "Query {server} by hand (`dig {name} @<server>`) to see its answer, or {hosts_line}."
            ),
        }
    }
}

/// A failed resolution: the DNS diagnosis plus what the hosts file step noticed on the way,
/// because a malformed hosts line is often the real cause on networks without DNS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct ResolveFailure {
    #[source]
    pub error: ResolveError,
    /// Hosts file problems seen before DNS was asked (skipped lines, unreadable file).
    pub notes: Vec<String>,
}

impl ResolveFailure {
    /// [`ResolveError::remedy`], plus the hosts file problems to fix when there were any.
    pub fn remedy(&self, name: &str) -> String {
        let remedy = self.error.remedy(name);
        if self.notes.is_empty() {
            remedy
        } else {
            format!("{remedy} Also: {}.", self.notes.join("; "))
        }
    }
}
