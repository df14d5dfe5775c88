//! Resolving the gateway name the way a Linux leaf device does, and saying why it fails.
//!
//! The order is glibc's for the usual `/etc/nsswitch.conf` line `hosts: files dns`, with
//! edgeprobe's own overrides in front:
//!
//! 1. `--resolve NAME:ADDR` overrides (as curl's `--resolve`): they win outright.
//! 2. An IP literal (`10.0.0.5`, `fd00::5`, `[fd00::5]`) is its own address; nothing is looked up.
//! 3. The hosts file, parsed as glibc's `nss_files` does (hosts(5)): every address listed for the
//!    name, in file order. A match here means DNS is never asked, exactly as on the device.
//! 4. DNS through hickory-resolver, with `/etc/resolv.conf` or an explicit `--dns-server`, asking
//!    for A and AAAA; the caller's deadline bounds the whole step.
//!
//! Failures are told apart (NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout, no name server) because
//! each has a different fix; [`ResolveError::remedy`] says which.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::Name;
use serde::{Serialize, Serializer};
use tokio::sync::OnceCell;

/// Where the device's resolver configuration lives, and how long the DNS step may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverSettings {
    /// `/etc/hosts` unless `--hosts-file` says otherwise.
    pub hosts_file: PathBuf,
    /// Read only when `dns_server` is `None`: the system resolver's configuration.
    pub resolv_conf: PathBuf,
    /// `--dns-server IP[:PORT]`: ask this server instead of the ones in `resolv_conf`.
    pub dns_server: Option<SocketAddr>,
    /// `--resolve NAME:ADDR` overrides; names match case-insensitively, trailing dot ignored.
    pub overrides: BTreeMap<String, Vec<IpAddr>>,
    /// Deadline for the whole DNS step (every query, retry and search-list name together).
    pub timeout: Duration,
}

impl ResolverSettings {
    /// The device's own configuration: `/etc/hosts`, `/etc/resolv.conf`, no overrides.
    pub fn system(timeout: Duration) -> Self {
        ResolverSettings {
            hosts_file: PathBuf::from("/etc/hosts"),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            dns_server: None,
            overrides: BTreeMap::new(),
            timeout,
        }
    }
}

/// The addresses the gateway name resolved to, and which step produced them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The name as asked.
    pub name: String,
    /// In the order the device would try them: file order for the hosts file, A before AAAA
    /// for DNS.
    #[serde(serialize_with = "addresses_as_strings")]
    pub addresses: Vec<IpAddr>,
    pub source: ResolutionSource,
    /// Things a technician should know even though resolution worked, such as skipped hosts
    /// file lines.
    pub notes: Vec<String>,
}

fn addresses_as_strings<S: Serializer>(
    addresses: &[IpAddr],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(addresses.iter().map(ToString::to_string))
}

/// Which step answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ResolutionSource {
    /// A `--resolve NAME:ADDR` override.
    Override,
    /// The name was already an IP address.
    IpLiteral,
    HostsFile {
        path: PathBuf,
    },
    /// `server` names the server(s) asked: `127.0.0.1:5353` for `--dns-server`, or
    /// `system resolver (/etc/resolv.conf: 10.0.0.2)`.
    Dns {
        server: String,
    },
}

impl fmt::Display for ResolutionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolutionSource::Override => f.write_str("--resolve override"),
            ResolutionSource::IpLiteral => f.write_str("IP literal (no lookup)"),
            ResolutionSource::HostsFile { path } => write!(f, "hosts file {}", path.display()),
            ResolutionSource::Dns { server } => write!(f, "DNS via {server}"),
        }
    }
}

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

/// Resolves `name` as the device would: override, IP literal, hosts file, then DNS.
///
/// A one-off lookup; to resolve many names with the same settings, build one
/// [`SharedResolver`] and reuse it.
pub async fn resolve_gateway(
    name: &str,
    settings: &ResolverSettings,
) -> Result<Resolution, ResolveFailure> {
    SharedResolver::new(settings.clone()).resolve(name).await
}

/// One resolver for every lookup made with the same settings: the hosts file is read once and
/// one hickory resolver (with its answer cache and its connections to the name servers) is
/// built on first need and reused. Cloning shares it. A run reads the hosts file once, as a
/// snapshot; glibc re-reads it per lookup, which only matters if it changes mid-run.
#[derive(Clone)]
pub struct SharedResolver {
    inner: Arc<SharedResolverState>,
}

struct SharedResolverState {
    settings: ResolverSettings,
    /// `Ok(None)`: no hosts file; `Err`: unreadable, with the note to report.
    hosts: OnceCell<Result<Option<HostsFile>, String>>,
    dns: OnceCell<Result<DnsClient, DnsSetupError>>,
}

impl fmt::Debug for SharedResolver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SharedResolver")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl SharedResolver {
    pub fn new(settings: ResolverSettings) -> Self {
        SharedResolver {
            inner: Arc::new(SharedResolverState {
                settings,
                hosts: OnceCell::new(),
                dns: OnceCell::new(),
            }),
        }
    }

    pub fn settings(&self) -> &ResolverSettings {
        &self.inner.settings
    }

    /// Whether both handles share one resolver (and so one hosts file read and one cache).
    pub fn same_as(&self, other: &SharedResolver) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Resolves `name` as the device would: override, IP literal, hosts file, then DNS.
    pub async fn resolve(&self, name: &str) -> Result<Resolution, ResolveFailure> {
        let settings = &self.inner.settings;
        let found = |addresses, source, notes| Resolution {
            name: name.to_owned(),
            addresses,
            source,
            notes,
        };
        let key = normalize(name);
        if key.is_empty() {
            return Err(ResolveFailure {
                error: ResolveError::InvalidName {
                    name: name.to_owned(),
                    detail: "the name is empty".to_owned(),
                },
                notes: Vec::new(),
            });
        }

        if let Some(addresses) = settings
            .overrides
            .iter()
            .find_map(|(override_name, addresses)| {
                (normalize(override_name) == key).then_some(addresses)
            })
        {
            return Ok(found(
                addresses.clone(),
                ResolutionSource::Override,
                Vec::new(),
            ));
        }

        if let Some(address) = parse_ip_literal(name) {
            return Ok(found(
                vec![address],
                ResolutionSource::IpLiteral,
                Vec::new(),
            ));
        }

        let mut notes = Vec::new();
        let hosts = self
            .inner
            .hosts
            .get_or_init(|| async {
                read_hosts_file(&settings.hosts_file)
                    .await
                    .map_err(|error| {
                        format!(
                            "could not read hosts file {}: {error}; it was skipped, as glibc would",
                            settings.hosts_file.display()
                        )
                    })
            })
            .await;
        match hosts {
            Ok(Some(hosts)) => {
                notes.extend(hosts.malformed_note(&settings.hosts_file));
                let addresses = hosts.lookup(name);
                if !addresses.is_empty() {
                    let source = ResolutionSource::HostsFile {
                        path: settings.hosts_file.clone(),
                    };
                    return Ok(found(addresses, source, notes));
                }
            }
            Ok(None) => {}
            Err(note) => notes.push(note.clone()),
        }

        // The name is checked before the resolver is set up, so a bad name is reported as
        // such even on a device without a usable resolv.conf.
        let lookup = match Name::from_utf8(name.trim()) {
            Err(error) => Err(ResolveError::InvalidName {
                name: name.to_owned(),
                detail: error.to_string(),
            }),
            Ok(query_name) => {
                let dns = self
                    .inner
                    .dns
                    .get_or_init(|| DnsClient::build(settings))
                    .await;
                match dns {
                    Ok(client) => client.lookup(name, query_name, settings.timeout).await,
                    Err(error) => Err(error.for_name(name)),
                }
            }
        };
        match lookup {
            Ok((addresses, server)) => {
                Ok(found(addresses, ResolutionSource::Dns { server }, notes))
            }
            Err(error) => Err(ResolveFailure { error, notes }),
        }
    }
}

/// Lower-case (host names compare case-insensitively, RFC 4343) without the trailing root dot.
fn normalize(name: &str) -> String {
    without_root_dot(name).to_ascii_lowercase()
}

fn without_root_dot(name: &str) -> &str {
    let name = name.trim();
    name.strip_suffix('.').unwrap_or(name)
}

/// `10.0.0.5`, `fd00::5` or `[fd00::5]` (the URL form, RFC 3986 §3.2.2).
fn parse_ip_literal(name: &str) -> Option<IpAddr> {
    let name = name.trim();
    let unbracketed = name
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'));
    match unbracketed {
        Some(inner) => inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
        None => name.parse().ok(),
    }
}

// ---------------------------------------------------------------------------------------------
// Hosts file
// ---------------------------------------------------------------------------------------------

/// A parsed hosts file: the usable lines, and the ones glibc would skip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsFile {
    pub entries: Vec<HostsEntry>,
    pub malformed: Vec<MalformedHostsLine>,
}

/// One line of hosts(5): an address, its canonical name, then aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsEntry {
    pub line_number: usize,
    pub address: IpAddr,
    pub names: Vec<String>,
}

/// A line that is neither blank, a comment, nor `ADDRESS NAME [ALIAS...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedHostsLine {
    pub line_number: usize,
    pub text: String,
    pub reason: String,
}

impl HostsFile {
    /// Parses hosts(5) text: `#` starts a comment anywhere on a line, fields are separated by
    /// any run of blanks, and a line needs an address followed by at least one name.
    pub fn parse(text: &str) -> HostsFile {
        let mut hosts = HostsFile::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let content = line.split('#').next().unwrap_or_default();
            let mut fields = content.split_ascii_whitespace();
            let Some(address_text) = fields.next() else {
                continue;
            };
            let names: Vec<String> = fields.map(str::to_owned).collect();
            let reason = match address_text.parse::<IpAddr>() {
                Ok(address) if !names.is_empty() => {
                    hosts.entries.push(HostsEntry {
                        line_number,
                        address,
                        names,
                    });
                    continue;
                }
                Ok(_) => "no host name after the address".to_owned(),
                Err(_) => format!("`{address_text}` is not an IP address"),
            };
            hosts.malformed.push(MalformedHostsLine {
                line_number,
                text: line.trim().to_owned(),
                reason,
            });
        }
        hosts
    }

    /// Every address listed for `name` (canonical name or alias), in file order, without
    /// repeats; glibc returns them all since 2.26 made `multi on` the default.
    pub fn lookup(&self, name: &str) -> Vec<IpAddr> {
        let wanted = normalize(name);
        let mut addresses = Vec::new();
        for entry in &self.entries {
            // Compared in place: a fleet run looks up every gateway in a hosts file that may
            // list all of them.
            let listed = entry
                .names
                .iter()
                .any(|listed| without_root_dot(listed).eq_ignore_ascii_case(&wanted));
            if listed && !addresses.contains(&entry.address) {
                addresses.push(entry.address);
            }
        }
        addresses
    }

    /// One note naming the skipped lines, or `None` when every line was understood.
    fn malformed_note(&self, path: &Path) -> Option<String> {
        const SHOWN: usize = 3;
        if self.malformed.is_empty() {
            return None;
        }
        let mut listed: Vec<String> = self
            .malformed
            .iter()
            .take(SHOWN)
            .map(|line| {
                format!(
                    "line {} `{}` ({})",
                    line.line_number, line.text, line.reason
                )
            })
            .collect();
        if self.malformed.len() > SHOWN {
            listed.push(format!("and {} more", self.malformed.len() - SHOWN));
        }
        let count = self.malformed.len();
        let lines = if count == 1 { "line" } else { "lines" };
        Some(format!(
            "skipped {count} malformed {lines} in {}: {}",
            path.display(),
            listed.join(", ")
        ))
    }
}

/// `Ok(None)` when the file does not exist: like glibc, a device without one just goes to DNS.
async fn read_hosts_file(path: &Path) -> io::Result<Option<HostsFile>> {
    match tokio::fs::read(path).await {
        // Bytes, not UTF-8: glibc compares bytes, and a stray Latin-1 comment must not hide
        // the rest of the file.
        Ok(bytes) => Ok(Some(HostsFile::parse(&String::from_utf8_lossy(&bytes)))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

// ---------------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------------

/// A hickory resolver set up from the settings, and how to name the server(s) it asks.
struct DnsClient {
    resolver: Resolver<TokioRuntimeProvider>,
    server: String,
    /// `--dns-server` given: names are asked as they are, without the search list.
    explicit_server: bool,
}

/// Why no DNS query can be made at all; turned into a [`ResolveError`] naming the host asked.
#[derive(Debug, Clone)]
enum DnsSetupError {
    NoNameservers { detail: String },
    Resolver { server: String, detail: String },
}

impl DnsSetupError {
    fn for_name(&self, name: &str) -> ResolveError {
        match self {
            DnsSetupError::NoNameservers { detail } => ResolveError::NoNameservers {
                detail: detail.clone(),
            },
            DnsSetupError::Resolver { server, detail } => ResolveError::Other {
                name: name.to_owned(),
                server: server.clone(),
                detail: format!("could not set up the resolver: {detail}"),
            },
        }
    }
}

impl DnsClient {
    async fn build(settings: &ResolverSettings) -> Result<DnsClient, DnsSetupError> {
        let (config, mut options, server) = match settings.dns_server {
            Some(address) => {
                let mut name_server = NameServerConfig::udp_and_tcp(address.ip());
                for connection in &mut name_server.connections {
                    connection.port = address.port();
                }
                let config = ResolverConfig::from_name_servers(vec![name_server]);
                (config, ResolverOpts::default(), address.to_string())
            }
            None => system_config(&settings.resolv_conf).await?,
        };

        // hickory's bound per exchange is `timeout`, repeated `attempts` more times on failure;
        // one exchange with the caller's whole budget keeps hickory itself within the deadline
        // (UDP is still retransmitted inside it), and the outer timeout covers the search list.
        options.timeout = settings.timeout;
        options.attempts = 0;
        // The hosts file was already read, from the path the caller chose.
        options.use_hosts_file = ResolveHosts::Never;
        // A first: most gateways are reached over IPv4, and its error is the one reported when
        // both queries fail.
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;

        let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = options;
        let resolver = builder.build().map_err(|error| DnsSetupError::Resolver {
            server: server.clone(),
            detail: error.to_string(),
        })?;
        Ok(DnsClient {
            resolver,
            server,
            explicit_server: settings.dns_server.is_some(),
        })
    }

    /// Asks DNS for A and AAAA; returns the addresses and a description of the server(s) asked.
    async fn lookup(
        &self,
        name: &str,
        mut query_name: Name,
        timeout: Duration,
    ) -> Result<(Vec<IpAddr>, String), ResolveError> {
        let server = &self.server;
        if self.explicit_server {
            // An explicit server is asked for exactly this name, as `dig @server` does; the
            // search list belongs to the system configuration it replaces.
            query_name.set_fqdn(true);
        }

        let lookup = match tokio::time::timeout(timeout, self.resolver.lookup_ip(query_name)).await
        {
            Ok(Ok(lookup)) => lookup,
            Ok(Err(error)) => return Err(classify(error, name, server, timeout)),
            Err(_elapsed) => {
                return Err(ResolveError::Timeout {
                    name: name.to_owned(),
                    server: server.clone(),
                    timeout,
                });
            }
        };
        let addresses: Vec<IpAddr> = lookup.iter().collect();
        if addresses.is_empty() {
            // A NOERROR answer holding only other records (a dangling CNAME) is still NODATA.
            return Err(ResolveError::NoAddresses {
                name: name.to_owned(),
                server: server.clone(),
            });
        }
        Ok((addresses, server.clone()))
    }
}

/// Reads the system resolver configuration from `path` (normally `/etc/resolv.conf`).
async fn system_config(
    path: &Path,
) -> Result<(ResolverConfig, ResolverOpts, String), DnsSetupError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|error| DnsSetupError::NoNameservers {
            detail: format!("cannot read {}: {error}", path.display()),
        })?;
    let (config, options) =
        hickory_resolver::system_conf::parse_resolv_conf(bytes).map_err(|error| {
            DnsSetupError::NoNameservers {
                detail: format!("{}: {error}", path.display()),
            }
        })?;
    let mut servers: Vec<String> = Vec::new();
    for name_server in config.name_servers() {
        let ip = name_server.ip.to_string();
        if !servers.contains(&ip) {
            servers.push(ip);
        }
    }
    let server = format!(
        "system resolver ({}: {})",
        path.display(),
        servers.join(", ")
    );
    Ok((config, options, server))
}

/// Maps hickory 0.26's error to the diagnosis. NXDOMAIN and NODATA arrive as
/// `DnsError::NoRecordsFound` with the response code; SERVFAIL and REFUSED as
/// `DnsError::ResponseCode` (see `hickory_net::error::DnsError::from_response`).
fn classify(error: NetError, name: &str, server: &str, timeout: Duration) -> ResolveError {
    let name = name.to_owned();
    let server = server.to_owned();
    match error {
        NetError::Timeout => ResolveError::Timeout {
            name,
            server,
            timeout,
        },
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
            match response_code {
                ResponseCode::NXDomain => ResolveError::NxDomain { name, server },
                ResponseCode::NoError => ResolveError::NoAddresses { name, server },
                ResponseCode::ServFail => ResolveError::ServerFailure { name, server },
                ResponseCode::Refused => ResolveError::Refused { name, server },
                other => ResolveError::Other {
                    name,
                    server,
                    detail: format!("answer {other}"),
                },
            }
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => {
            ResolveError::ServerFailure { name, server }
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => {
            ResolveError::Refused { name, server }
        }
        NetError::Io(io_error)
            if matches!(
                io_error.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::HostUnreachable
                    | io::ErrorKind::NetworkUnreachable
            ) =>
        {
            ResolveError::Unreachable {
                name,
                server,
                detail: io_error.to_string(),
            }
        }
        other => ResolveError::Other {
            name,
            server,
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::net::UdpSocket;

    use super::*;

    // Addresses from the documentation ranges (RFC 5737, RFC 3849): they only ever appear as
    // data in answers; nothing is sent to them.
    const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
    const GATEWAY_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);

    const TYPE_A: u16 = 1;
    const TYPE_AAAA: u16 = 28;
    const RCODE_SERVFAIL: u8 = 2;
    const RCODE_NXDOMAIN: u8 = 3;
    const RCODE_REFUSED: u8 = 5;

    /// What the test server answers for a name (compared lower-case, with the root dot).
    fn answer_for(name: &str, query_type: u16) -> (u8, Vec<Vec<u8>>) {
        match (name, query_type) {
            ("gateway.test.", TYPE_A) => (0, vec![GATEWAY_V4.octets().to_vec()]),
            ("gateway.test.", TYPE_AAAA) => (0, vec![GATEWAY_V6.octets().to_vec()]),
            ("gateway.test.", _) | ("empty.test.", _) => (0, Vec::new()),
            ("broken.test.", _) => (RCODE_SERVFAIL, Vec::new()),
            ("refused.test.", _) => (RCODE_REFUSED, Vec::new()),
            _ => (RCODE_NXDOMAIN, Vec::new()),
        }
    }

    /// The question's name in dotted form and the offset just past QTYPE and QCLASS.
    fn parse_question(query: &[u8]) -> Option<(String, u16, usize)> {
        let mut position = 12;
        let mut name = String::new();
        loop {
            let length = usize::from(*query.get(position)?);
            position += 1;
            if length == 0 {
                break;
            }
            let label = query.get(position..position + length)?;
            name.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
            name.push('.');
            position += length;
        }
        let query_type = u16::from_be_bytes([*query.get(position)?, *query.get(position + 1)?]);
        Some((name, query_type, position + 4))
    }

    /// Builds an RFC 1035 §4.1 response by hand: the query's id and question, QR and RA set,
    /// the RCODE, and answers whose owner is a pointer to the question name (0xC00C).
    fn build_response(query: &[u8]) -> Option<Vec<u8>> {
        let (name, query_type, question_end) = parse_question(query)?;
        let (rcode, answers) = answer_for(&name, query_type);
        let mut response = Vec::with_capacity(512);
        response.extend_from_slice(query.get(0..2)?);
        // Keep the opcode and RD bits of the query; set QR and RA.
        let flags_high = 0x80 | (query.get(2)? & 0x79);
        response.extend_from_slice(&[flags_high, 0x80 | rcode]);
        response.extend_from_slice(&1u16.to_be_bytes());
        response.extend_from_slice(&u16::try_from(answers.len()).ok()?.to_be_bytes());
        response.extend_from_slice(&[0, 0, 0, 0]);
        response.extend_from_slice(query.get(12..question_end)?);
        for data in answers {
            response.extend_from_slice(&[0xC0, 0x0C]);
            response.extend_from_slice(&query_type.to_be_bytes());
            response.extend_from_slice(&1u16.to_be_bytes()); // class IN
            response.extend_from_slice(&60u32.to_be_bytes()); // TTL
            response.extend_from_slice(&u16::try_from(data.len()).ok()?.to_be_bytes());
            response.extend_from_slice(&data);
        }
        Some(response)
    }

    /// A DNS server on 127.0.0.1 answering from [`answer_for`]; counts the queries it gets.
    struct TestDnsServer {
        address: SocketAddr,
        queries: Arc<AtomicUsize>,
        task: tokio::task::JoinHandle<()>,
    }

    impl TestDnsServer {
        async fn start() -> TestDnsServer {
            let socket = UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind test DNS server");
            let address = socket.local_addr().expect("test DNS server address");
            let queries = Arc::new(AtomicUsize::new(0));
            let counter = queries.clone();
            let task = tokio::spawn(async move {
                let mut buffer = [0u8; 1500];
                while let Ok((length, peer)) = socket.recv_from(&mut buffer).await {
                    counter.fetch_add(1, Ordering::SeqCst);
                    if let Some(response) = build_response(&buffer[..length]) {
                        let _ = socket.send_to(&response, peer).await;
                    }
                }
            });
            TestDnsServer {
                address,
                queries,
                task,
            }
        }

        fn queries(&self) -> usize {
            self.queries.load(Ordering::SeqCst)
        }
    }

    impl Drop for TestDnsServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// Settings that can only reach `dns_server` (never the system resolver), with a hosts file
    /// that does not exist unless a test writes one.
    fn settings(dns_server: SocketAddr, directory: &tempfile::TempDir) -> ResolverSettings {
        ResolverSettings {
            hosts_file: directory.path().join("hosts"),
            resolv_conf: directory.path().join("resolv.conf"),
            dns_server: Some(dns_server),
            overrides: BTreeMap::new(),
            timeout: Duration::from_secs(5),
        }
    }

    async fn resolve_error(name: &str, settings: &ResolverSettings) -> ResolveError {
        match resolve_gateway(name, settings).await {
            Ok(resolution) => panic!("expected `{name}` to fail, got {resolution:?}"),
            Err(failure) => failure.error,
        }
    }

    // --- hosts file parsing ---

    const HOSTS: &str = "\
# /etc/hosts on a leaf device
127.0.0.1\tlocalhost
192.0.2.50   Gateway.Contoso.Local   gateway  edge-gw # the transparent gateway

fd00::50 gateway.contoso.local
   # an indented comment
192.0.2.51\t \tgateway.contoso.local.
192.0.2.52gateway.contoso.local
192.0.2.53
300.1.2.3 gateway.contoso.local
192.0.2.50 gateway
";

    #[test]
    fn hosts_parser_collects_every_address_for_a_name_in_file_order() {
        let hosts = HostsFile::parse(HOSTS);
        let expected: Vec<IpAddr> = vec![
            "192.0.2.50".parse().unwrap(),
            "fd00::50".parse().unwrap(),
            "192.0.2.51".parse().unwrap(),
        ];
        assert_eq!(hosts.lookup("gateway.contoso.local"), expected);
        assert_eq!(
            hosts.lookup("GATEWAY.contoso.LOCAL."),
            expected,
            "case and root dot"
        );
    }

    #[test]
    fn hosts_parser_matches_aliases_and_ignores_comments() {
        let hosts = HostsFile::parse(HOSTS);
        let gateway: IpAddr = "192.0.2.50".parse().unwrap();
        assert_eq!(hosts.lookup("edge-gw"), vec![gateway]);
        assert_eq!(
            hosts.lookup("gateway"),
            vec![gateway],
            "repeated line adds no duplicate"
        );
        assert!(
            hosts.lookup("the").is_empty(),
            "words after `#` are not aliases"
        );
        assert!(hosts.lookup("transparent").is_empty());
        assert!(
            hosts.lookup("contoso.local").is_empty(),
            "no partial matches"
        );
    }

    #[test]
    fn hosts_parser_reports_malformed_lines_with_their_numbers() {
        let hosts = HostsFile::parse(HOSTS);
        let numbers: Vec<usize> = hosts
            .malformed
            .iter()
            .map(|line| line.line_number)
            .collect();
        assert_eq!(numbers, vec![8, 9, 10]);
        assert!(
            hosts.malformed[0]
                .reason
                .contains("192.0.2.52gateway.contoso.local")
        );
        assert!(hosts.malformed[1].reason.contains("no host name"));
        assert!(hosts.malformed[2].reason.contains("300.1.2.3"));

        let note = hosts
            .malformed_note(Path::new("/etc/hosts"))
            .expect("a note");
        assert!(
            note.starts_with("skipped 3 malformed lines in /etc/hosts"),
            "{note}"
        );
        assert!(
            note.contains("line 8 `192.0.2.52gateway.contoso.local`"),
            "{note}"
        );
    }

    #[test]
    fn hosts_parser_accepts_an_empty_or_comment_only_file() {
        for text in ["", "\n\n", "# nothing here\n   \t\n"] {
            let hosts = HostsFile::parse(text);
            assert!(
                hosts.entries.is_empty() && hosts.malformed.is_empty(),
                "{text:?}"
            );
            assert_eq!(hosts.malformed_note(Path::new("/etc/hosts")), None);
        }
    }

    #[test]
    fn ip_literals_include_bracketed_ipv6() {
        assert_eq!(
            parse_ip_literal("192.0.2.7"),
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))
        );
        assert_eq!(
            parse_ip_literal("[2001:db8::10]"),
            Some(IpAddr::V6(GATEWAY_V6))
        );
        assert_eq!(
            parse_ip_literal("2001:db8::10"),
            Some(IpAddr::V6(GATEWAY_V6))
        );
        assert_eq!(
            parse_ip_literal("[192.0.2.7]"),
            None,
            "brackets are for IPv6 only"
        );
        assert_eq!(parse_ip_literal("gateway.test"), None);
    }

    // --- precedence ---

    #[tokio::test]
    async fn override_wins_over_hosts_file_and_dns() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let mut settings = settings(server.address, &directory);
        std::fs::write(&settings.hosts_file, "192.0.2.50 gateway.test\n").unwrap();
        let pinned: IpAddr = "192.0.2.99".parse().unwrap();
        settings
            .overrides
            .insert("Gateway.Test".to_owned(), vec![pinned]);

        let resolution = resolve_gateway("gateway.test.", &settings).await.unwrap();
        assert_eq!(resolution.addresses, vec![pinned]);
        assert_eq!(resolution.source, ResolutionSource::Override);
        assert_eq!(server.queries(), 0);
    }

    #[tokio::test]
    async fn ip_literal_is_not_looked_up() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        std::fs::write(&settings.hosts_file, "192.0.2.50 192.0.2.7\n").unwrap();

        for (literal, expected) in [
            ("192.0.2.7", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))),
            ("[2001:db8::10]", IpAddr::V6(GATEWAY_V6)),
        ] {
            let resolution = resolve_gateway(literal, &settings).await.unwrap();
            assert_eq!(resolution.addresses, vec![expected]);
            assert_eq!(resolution.source, ResolutionSource::IpLiteral);
        }
        assert_eq!(server.queries(), 0);
    }

    #[tokio::test]
    async fn hosts_file_answer_means_dns_is_not_asked() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        std::fs::write(
            &settings.hosts_file,
            "192.0.2.50 gateway.test gw\nbogus-line\n",
        )
        .unwrap();

        let resolution = resolve_gateway("GATEWAY.test", &settings).await.unwrap();
        assert_eq!(
            resolution.addresses,
            vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 50))]
        );
        assert_eq!(
            resolution.source,
            ResolutionSource::HostsFile {
                path: settings.hosts_file.clone()
            }
        );
        assert_eq!(resolution.notes.len(), 1, "{:?}", resolution.notes);
        assert!(
            resolution.notes[0].contains("line 2 `bogus-line`"),
            "{:?}",
            resolution.notes
        );
        assert_eq!(
            server.queries(),
            0,
            "the DNS server would have answered 192.0.2.10"
        );
    }

    #[tokio::test]
    async fn name_missing_from_hosts_file_goes_to_dns() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        std::fs::write(&settings.hosts_file, "192.0.2.50 other.test\n").unwrap();

        let resolution = resolve_gateway("gateway.test", &settings).await.unwrap();
        assert_eq!(
            resolution.source,
            ResolutionSource::Dns {
                server: server.address.to_string()
            }
        );
        assert!(server.queries() > 0);
    }

    #[tokio::test]
    async fn unreadable_hosts_file_is_a_note_not_a_failure() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let mut settings = settings(server.address, &directory);
        // A directory cannot be read as a file, whoever runs the test (root ignores modes).
        settings.hosts_file = directory.path().to_path_buf();

        let resolution = resolve_gateway("gateway.test", &settings).await.unwrap();
        assert!(matches!(resolution.source, ResolutionSource::Dns { .. }));
        assert_eq!(resolution.notes.len(), 1, "{:?}", resolution.notes);
        assert!(
            resolution.notes[0].starts_with("could not read hosts file"),
            "{:?}",
            resolution.notes
        );
    }

    // --- DNS answers ---

    #[tokio::test]
    async fn dns_answer_with_a_and_aaaa() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);

        let resolution = resolve_gateway("gateway.test", &settings).await.unwrap();
        assert_eq!(
            resolution.addresses,
            vec![IpAddr::V4(GATEWAY_V4), IpAddr::V6(GATEWAY_V6)]
        );
        assert_eq!(
            resolution.source,
            ResolutionSource::Dns {
                server: server.address.to_string()
            }
        );
        assert!(
            resolution.notes.is_empty(),
            "a missing hosts file is not worth a note"
        );

        let json = serde_json::to_value(&resolution).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "gateway.test",
                "addresses": ["192.0.2.10", "2001:db8::10"],
                "source": { "kind": "dns", "server": server.address.to_string() },
                "notes": [],
            })
        );
    }

    #[tokio::test]
    async fn nxdomain() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        let error = resolve_error("missing.test", &settings).await;
        let server = server.address.to_string();
        assert_eq!(
            error,
            ResolveError::NxDomain {
                name: "missing.test".into(),
                server
            }
        );
        assert!(
            error
                .remedy("missing.test")
                .contains("add an A record for missing.test")
        );
        assert!(
            error
                .remedy("missing.test")
                .contains("`<gateway IP> missing.test`")
        );
    }

    #[tokio::test]
    async fn nodata() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        let error = resolve_error("empty.test", &settings).await;
        let server = server.address.to_string();
        assert_eq!(
            error,
            ResolveError::NoAddresses {
                name: "empty.test".into(),
                server
            }
        );
    }

    #[tokio::test]
    async fn servfail() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        let error = resolve_error("broken.test", &settings).await;
        let server = server.address.to_string();
        assert_eq!(
            error,
            ResolveError::ServerFailure {
                name: "broken.test".into(),
                server
            }
        );
    }

    #[tokio::test]
    async fn refused() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        let error = resolve_error("refused.test", &settings).await;
        let server = server.address.to_string();
        assert_eq!(
            error,
            ResolveError::Refused {
                name: "refused.test".into(),
                server
            }
        );
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        // Bound but never read: queries arrive and nobody answers.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let directory = tempfile::tempdir().unwrap();
        let mut settings = settings(silent.local_addr().unwrap(), &directory);
        settings.timeout = Duration::from_millis(300);

        let error = resolve_error("gateway.test", &settings).await;
        assert_eq!(
            error,
            ResolveError::Timeout {
                name: "gateway.test".into(),
                server: silent.local_addr().unwrap().to_string(),
                timeout: Duration::from_millis(300),
            }
        );
        assert!(error.to_string().contains("within 300ms"), "{error}");
        assert!(error.remedy("gateway.test").contains("port 53"));
    }

    #[tokio::test]
    async fn failure_carries_hosts_file_notes_into_the_remedy() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        // The typo a technician makes: no blank between address and name.
        std::fs::write(&settings.hosts_file, "192.0.2.50missing.test\n").unwrap();

        let failure = resolve_gateway("missing.test", &settings)
            .await
            .unwrap_err();
        assert!(matches!(failure.error, ResolveError::NxDomain { .. }));
        assert_eq!(failure.notes.len(), 1);
        let remedy = failure.remedy("missing.test");
        assert!(
            remedy.contains("line 1 `192.0.2.50missing.test`"),
            "{remedy}"
        );
    }

    // --- configuration problems ---

    #[tokio::test]
    async fn missing_or_empty_resolv_conf_means_no_nameservers() {
        let directory = tempfile::tempdir().unwrap();
        let mut settings = ResolverSettings::system(Duration::from_secs(1));
        settings.hosts_file = directory.path().join("hosts");
        settings.resolv_conf = directory.path().join("resolv.conf");

        let error = resolve_error("gateway.test", &settings).await;
        assert!(
            matches!(error, ResolveError::NoNameservers { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("resolv.conf"), "{error}");

        std::fs::write(
            &settings.resolv_conf,
            "# managed by nobody\nsearch contoso.local\n",
        )
        .unwrap();
        let error = resolve_error("gateway.test", &settings).await;
        assert!(
            matches!(error, ResolveError::NoNameservers { .. }),
            "{error:?}"
        );
        assert!(error.remedy("gateway.test").contains("nameserver"));
    }

    #[tokio::test]
    async fn system_config_names_its_servers() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("resolv.conf");
        std::fs::write(
            &path,
            "nameserver 127.0.0.1\nnameserver ::1\nsearch contoso.local\n",
        )
        .unwrap();
        // Only reads the file; no query is sent.
        let (config, _options, server) = system_config(&path).await.unwrap();
        assert_eq!(config.name_servers().len(), 2);
        assert_eq!(
            server,
            format!("system resolver ({}: 127.0.0.1, ::1)", path.display())
        );
    }

    #[tokio::test]
    async fn empty_and_invalid_names_are_rejected_before_any_query() {
        let server = TestDnsServer::start().await;
        let directory = tempfile::tempdir().unwrap();
        let settings = settings(server.address, &directory);
        for name in ["", ".", "gate way.test", "a..b"] {
            let error = resolve_error(name, &settings).await;
            assert!(
                matches!(error, ResolveError::InvalidName { .. }),
                "{name:?}: {error:?}"
            );
        }
        assert_eq!(server.queries(), 0);
    }

    #[test]
    fn source_display_and_json_tags() {
        let hosts = ResolutionSource::HostsFile {
            path: PathBuf::from("/etc/hosts"),
        };
        assert_eq!(hosts.to_string(), "hosts file /etc/hosts");
        assert_eq!(
            serde_json::to_value(&hosts).unwrap(),
            serde_json::json!({ "kind": "hosts-file", "path": "/etc/hosts" })
        );
        assert_eq!(
            serde_json::to_value(ResolutionSource::IpLiteral).unwrap(),
            serde_json::json!({ "kind": "ip-literal" })
        );
    }

    #[test]
    fn hickory_errors_map_to_their_diagnosis() {
        use hickory_resolver::proto::op::Query;
        let classify =
            |error: NetError| classify(error, "gw.test", "192.0.2.53:53", Duration::from_secs(1));
        let no_records = |code| NetError::from(NoRecords::new(Query::new(), code));
        let (name, server) = ("gw.test".to_owned(), "192.0.2.53:53".to_owned());

        assert_eq!(
            classify(no_records(ResponseCode::NXDomain)),
            ResolveError::NxDomain {
                name: name.clone(),
                server: server.clone()
            }
        );
        assert_eq!(
            classify(no_records(ResponseCode::NoError)),
            ResolveError::NoAddresses {
                name: name.clone(),
                server: server.clone()
            }
        );
        assert_eq!(
            classify(NetError::Dns(DnsError::ResponseCode(
                ResponseCode::ServFail
            ))),
            ResolveError::ServerFailure {
                name: name.clone(),
                server: server.clone()
            }
        );
        assert_eq!(
            classify(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
            ResolveError::Refused {
                name: name.clone(),
                server: server.clone()
            }
        );
        assert_eq!(
            classify(NetError::Timeout),
            ResolveError::Timeout {
                name,
                server,
                timeout: Duration::from_secs(1)
            }
        );
        // TCP to a port nobody listens on; hickory's UDP sockets never report it, so this only
        // shows when the TCP fallback is used.
        let refused = NetError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(matches!(
            classify(refused),
            ResolveError::Unreachable { .. }
        ));
        let odd = classify(NetError::Dns(DnsError::ResponseCode(ResponseCode::NotImp)));
        assert!(matches!(odd, ResolveError::Other { .. }), "{odd:?}");
    }
}
