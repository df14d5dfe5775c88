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
//!
//! One job per file: `hosts_file` parses hosts(5), `dns` asks the name servers, `error`
//! names every way resolution fails and its fix; this module puts them in the device's order.

mod dns;
mod error;
mod hosts_file;
mod system;
#[cfg(test)]
mod test_dns;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::proto::rr::Name;
use serde::{Serialize, Serializer};
use tokio::sync::OnceCell;

use dns::{DnsClient, DnsSetupError};
pub use error::{NameRole, ResolveError, ResolveFailure};
use hosts_file::read_hosts_file;
pub use hosts_file::{HostsEntry, HostsFile, MalformedHostsLine};
pub use system::{same_addresses, system_lookup};

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

/// Where the system resolver's configuration lives (under `--root` on a gateway).
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

impl ResolverSettings {
    /// The device's own configuration: `/etc/hosts`, `/etc/resolv.conf`, no overrides.
    pub fn system(timeout: Duration) -> Self {
        ResolverSettings {
            hosts_file: PathBuf::from("/etc/hosts"),
            resolv_conf: PathBuf::from(RESOLV_CONF),
            dns_server: None,
            overrides: BTreeMap::new(),
            timeout,
        }
    }
}

/// The addresses the gateway name resolved to, and which step produced them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Resolution {
    /// The name as asked.
    pub name: String,
    /// In the order the device would try them: file order for the hosts file, A before AAAA
    /// for DNS.
    #[serde(serialize_with = "addresses_as_strings")]
    #[schemars(with = "Vec<IpAddr>")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[schemars(deny_unknown_fields)]
pub enum ResolutionSource {
    /// A `--resolve NAME:ADDR` override.
    Override,
    /// The name was already an IP address.
    IpLiteral,
    /// The hosts file at `path`.
    HostsFile { path: PathBuf },
    /// DNS; `server` names the server(s) asked: `127.0.0.1:5353` for `--dns-server`, or
    /// `system resolver (/etc/resolv.conf: 10.0.0.2)`.
    Dns { server: String },
    /// getaddrinfo(3) (`/etc/nsswitch.conf`: mDNS, systemd-resolved, ...), where the hosts
    /// file and DNS had no answer but device SDKs get one.
    SystemResolver,
}

impl fmt::Display for ResolutionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolutionSource::Override => f.write_str("--resolve override"),
            ResolutionSource::IpLiteral => f.write_str("IP literal (no lookup)"),
            ResolutionSource::HostsFile { path } => write!(f, "hosts file {}", path.display()),
            ResolutionSource::Dns { server } => write!(f, "DNS via {server}"),
            ResolutionSource::SystemResolver => f.write_str("the system resolver (getaddrinfo)"),
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::test_dns::{
        GATEWAY_V6, assert_answered_locally, resolve_error, serve, serve_with_hosts,
    };
    use super::*;

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

    /// One note, and the one `expected` describes.
    fn assert_one_note(notes: &[String], expected: impl Fn(&str) -> bool) {
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(expected(&notes[0]), "{notes:?}");
    }

    // --- precedence ---

    #[tokio::test]
    async fn override_wins_over_hosts_file_and_dns() {
        let (server, _directory, mut settings) =
            serve_with_hosts("192.0.2.50 gateway.test\n").await;
        let pinned: IpAddr = "192.0.2.99".parse().unwrap();
        settings
            .overrides
            .insert("Gateway.Test".to_owned(), vec![pinned]);

        let source = ResolutionSource::Override;
        assert_answered_locally("gateway.test.", &settings, &server, &[pinned], source).await;
    }

    #[tokio::test]
    async fn ip_literal_is_not_looked_up() {
        let (server, _directory, settings) = serve_with_hosts("192.0.2.50 192.0.2.7\n").await;

        for (literal, expected) in [
            ("192.0.2.7", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))),
            ("[2001:db8::10]", IpAddr::V6(GATEWAY_V6)),
        ] {
            let source = ResolutionSource::IpLiteral;
            assert_answered_locally(literal, &settings, &server, &[expected], source).await;
        }
    }

    #[tokio::test]
    async fn hosts_file_answer_means_dns_is_not_asked() {
        let (server, _directory, settings) =
            serve_with_hosts("192.0.2.50 gateway.test gw\nbogus-line\n").await;

        // The DNS server would have answered 192.0.2.10.
        let address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 50));
        let source = ResolutionSource::HostsFile {
            path: settings.hosts_file.clone(),
        };
        let resolution =
            assert_answered_locally("GATEWAY.test", &settings, &server, &[address], source).await;
        assert_one_note(&resolution.notes, |note| {
            note.contains("line 2 `bogus-line`")
        });
    }

    #[tokio::test]
    async fn name_missing_from_hosts_file_goes_to_dns() {
        let (server, _directory, settings) = serve_with_hosts("192.0.2.50 other.test\n").await;

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
        let (_server, directory, mut settings) = serve().await;
        // A directory cannot be read as a file, whoever runs the test (root ignores modes).
        settings.hosts_file = directory.path().to_path_buf();

        let resolution = resolve_gateway("gateway.test", &settings).await.unwrap();
        assert!(matches!(resolution.source, ResolutionSource::Dns { .. }));
        assert_one_note(&resolution.notes, |note| {
            note.starts_with("could not read hosts file")
        });
    }

    #[tokio::test]
    async fn failure_carries_hosts_file_notes_into_the_remedy() {
        // The typo a technician makes: no blank between address and name.
        let (_server, _directory, settings) = serve_with_hosts("192.0.2.50missing.test\n").await;

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

    #[tokio::test]
    async fn empty_and_invalid_names_are_rejected_before_any_query() {
        let (server, _directory, settings) = serve().await;
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
}
