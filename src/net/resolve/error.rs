//! Why a name did not resolve, one variant per diagnosis (NXDOMAIN, NODATA, SERVFAIL,
//! REFUSED, timeout, no name server, ...), each with the fix it calls for.

use std::net::{IpAddr, SocketAddr};
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

/// Whose name failed to resolve: the advice differs. A leaf names its gateway in
/// GatewayHostName and may pin it in /etc/hosts; a lower layer names its parent in
/// `parent_hostname`; a top-layer gateway needs IoT Hub's public name (`*.azure-devices.net`)
/// from real DNS, through its firewall or proxy, and a hosts line for it would pin an address
/// Azure may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRole {
    /// A leaf device dialling its gateway.
    Gateway,
    /// A lower-layer IoT Edge device dialling its parent (`parent_hostname`).
    Parent,
    /// A top-layer IoT Edge device dialling its IoT hub.
    IotHub,
}

impl ResolveError {
    /// What a leaf should do about its gateway's name, naming the file, record or flag to
    /// change. See [`ResolveError::remedy_for`] for the other roles.
    pub fn remedy(&self, name: &str) -> String {
        self.remedy_for(name, NameRole::Gateway)
    }

    /// What to do when `name`, dialled as `role`, did not resolve.
    pub fn remedy_for(&self, name: &str, role: NameRole) -> String {
        if role == NameRole::IotHub {
            return self.iothub_remedy(name);
        }
        let hosts_line = match role {
            NameRole::Parent => format!(
                "add the line `<parent IP> {name}` to /etc/hosts on this device and map it in \
                 edgeAgent's createOptions ExtraHosts too (the nested edge guide's option for \
                 networks without DNS)"
            ),
            _ => format!(
                "add the line `<gateway IP> {name}` to /etc/hosts on this device (the IoT Edge \
                 transparent gateway guide's option for networks without DNS)"
            ),
        };
        let spelling = match role {
            NameRole::Parent => {
                "Check the spelling of `parent_hostname` (it must equal the \
                 parent's `hostname` in its config)"
            }
            _ => {
                "Check the spelling of the gateway name (GatewayHostName must equal the \
                 gateway's `hostname` in /etc/aziot/config.toml)"
            }
        };
        let dig = self.dig_command(name);
        match self {
            ResolveError::NxDomain { .. } => format!(
                "{spelling}; then add an A record for {name} in your DNS zone, or {hosts_line}."
            ),
            ResolveError::NoAddresses { server, .. } => format!(
                "{name} exists on {server} but has no address record (perhaps only a CNAME to \
                 nothing, or records of other types): add an A record for {name} in your DNS \
                 zone, or {hosts_line}."
            ),
            ResolveError::Timeout { server, .. } => format!(
                "Check that this device can reach its DNS server {server}: the server is up, \
                 and no firewall drops UDP or TCP port 53 to it (try `{dig}`). \
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
                 /etc/resolv.conf or `--dns-server`, that a DNS service runs there and that no \
                 firewall blocks port 53 to it (`{dig}` shows the same); or {hosts_line}."
            ),
            ResolveError::InvalidName { .. } => format!(
                "Fix the gateway name `{name}`: it must be a DNS host name (letters, digits, \
                 `-` and `.`), the same value as `hostname` in the gateway's \
                 /etc/aziot/config.toml."
            ),
            ResolveError::Other { server, .. } => {
                format!("Query {server} by hand (`{dig}`) to see its answer, or {hosts_line}.")
            }
        }
    }

    /// A top-layer gateway's IoT hub: only DNS can answer for it, so the fixes are the
    /// gateway's DNS and outbound path, and the hub's name itself.
    fn iothub_remedy(&self, name: &str) -> String {
        let dig = self.dig_command(name);
        let outbound = "this gateway needs DNS that resolves public names (`*.azure-devices.net`) \
             and outbound access to IoT Hub (TCP 8883, 5671 and 443 through the firewall, or the \
             proxy set for IoT Edge)";
        match self {
            ResolveError::NxDomain { .. } | ResolveError::InvalidName { .. } => format!(
                "Check the hub name `{name}`: it is HostName in the provisioning connection \
                 string (<hub>.azure-devices.net); when DPS provisioned this device, pass the hub \
                 it was assigned with --iothub-hostname. Also, {outbound}."
            ),
            ResolveError::NoNameservers { .. } => format!(
                "Add a `nameserver <DNS server IP>` line to /etc/resolv.conf (or fix whatever \
                 writes it: DHCP, NetworkManager, systemd-resolved): {outbound}. Test a server \
                 with `--dns-server IP`."
            ),
            _ => format!(
                "Make this gateway's DNS answer for `{name}` (`{dig}`): {outbound}. Test another \
                 server with `--dns-server IP`; when DPS provisioned this device, name the hub \
                 with --iothub-hostname."
            ),
        }
    }

    /// The `dig` command that asks the same server the same question, for the technician to
    /// run by hand: `dig NAME @10.0.0.2` (`-p PORT` off port 53), or plain `dig NAME` when
    /// the system resolver's servers are unknown.
    fn dig_command(&self, name: &str) -> String {
        let server = match self {
            ResolveError::NxDomain { server, .. }
            | ResolveError::NoAddresses { server, .. }
            | ResolveError::Timeout { server, .. }
            | ResolveError::ServerFailure { server, .. }
            | ResolveError::Refused { server, .. }
            | ResolveError::Unreachable { server, .. }
            | ResolveError::Other { server, .. } => server.as_str(),
            ResolveError::NoNameservers { .. } | ResolveError::InvalidName { .. } => "",
        };
        match server_addresses(server).first() {
            Some(address) if address.port() == 53 => format!("dig {name} @{}", address.ip()),
            Some(address) => format!("dig {name} @{} -p {}", address.ip(), address.port()),
            None => format!("dig {name}"),
        }
    }
}

/// The servers named in a [`ResolveError`]'s `server`: `127.0.0.1:5353` (`--dns-server`) or
/// `system resolver (/etc/resolv.conf: 10.0.0.2, 10.0.0.3)`, the two forms `dns.rs` writes.
fn server_addresses(server: &str) -> Vec<SocketAddr> {
    if let Ok(address) = server.parse::<SocketAddr>() {
        return vec![address];
    }
    let listed = server
        .strip_suffix(')')
        .and_then(|inner| inner.rsplit_once(": "))
        .map_or("", |(_, list)| list);
    listed
        .split(", ")
        .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
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
        self.remedy_for(name, NameRole::Gateway)
    }

    /// [`ResolveError::remedy_for`], plus the hosts file problems to fix when there were any.
    pub fn remedy_for(&self, name: &str, role: NameRole) -> String {
        let remedy = self.error.remedy_for(name, role);
        if self.notes.is_empty() {
            remedy
        } else {
            format!("{remedy} Also: {}.", self.notes.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(server: &str) -> ResolveError {
        ResolveError::Timeout {
            name: "gw.test".to_owned(),
            server: server.to_owned(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn dig_asks_the_server_that_was_asked() {
        assert_eq!(
            timeout("10.0.0.2:53").dig_command("gw.test"),
            "dig gw.test @10.0.0.2"
        );
        assert_eq!(
            timeout("127.0.0.1:5353").dig_command("gw.test"),
            "dig gw.test @127.0.0.1 -p 5353"
        );
        assert_eq!(
            timeout("system resolver (/etc/resolv.conf: 10.0.0.2, 10.0.0.3)")
                .dig_command("gw.test"),
            "dig gw.test @10.0.0.2"
        );
        // Nothing usable: plain dig, the system's servers.
        assert_eq!(
            timeout("system resolver (/etc/resolv.conf: )").dig_command("gw.test"),
            "dig gw.test"
        );
        assert_eq!(timeout("garbage").dig_command("gw.test"), "dig gw.test");
    }

    #[test]
    fn an_iot_hub_gets_the_gateways_fixes_and_a_parent_its_setting() {
        let missing = ResolveError::NxDomain {
            name: "hub.azure-devices.net".to_owned(),
            server: "10.0.0.2:53".to_owned(),
        };
        let hub = missing.remedy_for("hub.azure-devices.net", NameRole::IotHub);
        assert!(hub.contains("--iothub-hostname"), "{hub}");
        assert!(hub.contains("*.azure-devices.net"), "{hub}");
        assert!(
            !hub.contains("GatewayHostName") && !hub.contains("/etc/hosts"),
            "{hub}"
        );
        let parent = missing.remedy_for("parent.test", NameRole::Parent);
        assert!(parent.contains("parent_hostname"), "{parent}");
        assert!(!parent.contains("GatewayHostName"), "{parent}");
        let leaf = missing.remedy("gw.test");
        assert!(leaf.contains("GatewayHostName"), "{leaf}");
    }
}
