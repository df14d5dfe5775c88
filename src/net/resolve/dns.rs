//! The DNS step: a hickory resolver built from `--dns-server` or `/etc/resolv.conf`, asked for A
//! and AAAA within the caller's deadline, and hickory's errors mapped to [`ResolveError`].

use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::Name;

use super::{ResolveError, ResolverSettings};

/// A hickory resolver set up from the settings, and how to name the server(s) it asks.
pub(super) struct DnsClient {
    resolver: Resolver<TokioRuntimeProvider>,
    server: String,
    /// `--dns-server` given: names are asked as they are, without the search list.
    explicit_server: bool,
}

/// Why no DNS query can be made at all; turned into a [`ResolveError`] naming the host asked.
#[derive(Debug, Clone)]
pub(super) enum DnsSetupError {
    NoNameservers { detail: String },
    Resolver { server: String, detail: String },
}

impl DnsSetupError {
    pub(super) fn for_name(&self, name: &str) -> ResolveError {
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
    pub(super) async fn build(settings: &ResolverSettings) -> Result<DnsClient, DnsSetupError> {
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
    pub(super) async fn lookup(
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
        // hickory gives up on a server whose every connection failed at once (the send refused
        // or not permitted, TCP refused) with "no connections available": the server is known
        // and cannot be reached, which is what Unreachable says.
        NetError::NoConnections => ResolveError::Unreachable {
            name,
            server,
            detail: "every query to it failed at once (refused, unreachable or not permitted)"
                .to_owned(),
        },
        other => ResolveError::Other {
            name,
            server,
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::UdpSocket;

    use super::super::test_dns::{GATEWAY_V4, GATEWAY_V6, resolve_error, serve, settings};
    use super::super::{ResolutionSource, resolve_gateway};
    use super::*;

    // --- DNS answers ---

    #[tokio::test]
    async fn dns_answer_with_a_and_aaaa() {
        let (server, _directory, settings) = serve().await;

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
        let (server, _directory, settings) = serve().await;
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
    async fn nodata_servfail_and_refused_name_the_server() {
        let (server, _directory, settings) = serve().await;
        let address = server.address.to_string();
        // The name asked and the test server's address make the expected error.
        type Expected = fn(String, String) -> ResolveError;
        let cases: [(&str, Expected); 3] = [
            ("empty.test", |name, server| ResolveError::NoAddresses {
                name,
                server,
            }),
            ("broken.test", |name, server| ResolveError::ServerFailure {
                name,
                server,
            }),
            ("refused.test", |name, server| ResolveError::Refused {
                name,
                server,
            }),
        ];
        for (name, expected) in cases {
            assert_eq!(
                resolve_error(name, &settings).await,
                expected(name.to_owned(), address.clone()),
                "{name}"
            );
        }
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
