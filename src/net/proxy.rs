//! HTTP proxies, the way devices and curl use them: the proxy URL (`--proxy`, `https_proxy`,
//! IoT Edge's `[agent.env] https_proxy`), curl's `no_proxy` rules, and the HTTP CONNECT tunnel
//! (RFC 9110 §9.3.6) a TLS connection is then opened through. This is one way of obtaining a
//! TCP stream: [`tunnel`] hands the TLS layer a stream that already reaches `host:port`, so
//! every consumer of an observation (leaf checks, the gateway suite, `connect`, fleet) goes
//! through the proxy the same way.
//!
//! Proxy credentials are secrets: the password lives in a [`SecretString`] and every display of
//! a proxy URL writes `<redacted>` in its place.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::observation::{Attempt, AttemptOutcome};
use super::tls::{ConnectError, classify_connect_error, format_duration};
use crate::secrets::{REDACTED, SecretString};

/// curl's port for a proxy URL that names none (`CURLOPT_PROXYPORT`'s default).
pub const DEFAULT_PROXY_PORT: u16 = 1080;

/// The longest CONNECT answer header read; real ones are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// An `http://[user[:password]@]host[:port]` proxy.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// The host as written, without brackets for an IPv6 address.
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    password: Option<SecretString>,
}

/// Why a proxy URL cannot be used; the text never holds the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyUrlError {
    #[error(
        "`{url}` is not an HTTP proxy URL: {reason} (expected http://host:port, with `user:password@` before the host for credentials)"
    )]
    Malformed { url: String, reason: &'static str },
    #[error(
        "`{url}`: {scheme}:// proxies are not supported; edgeprobe, like the IoT Edge runtime, speaks to an HTTP proxy with CONNECT (http://host:port)"
    )]
    UnsupportedScheme { url: String, scheme: String },
}

impl ProxyUrl {
    /// Parses a proxy URL as curl reads `-x`/`https_proxy`: no scheme means `http://`, no port
    /// means 1080, user and password are percent-decoded (RFC 3986 §3.2.1).
    pub fn parse(text: &str) -> Result<ProxyUrl, ProxyUrlError> {
        let text = text.trim();
        // What error messages quote: never the password.
        let shown = crate::secrets::redact(text).into_owned();
        let malformed = |reason| ProxyUrlError::Malformed {
            url: shown.clone(),
            reason,
        };
        if text.is_empty() {
            return Err(malformed("it is empty"));
        }
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(ProxyUrlError::UnsupportedScheme {
                    url: shown.clone(),
                    scheme: scheme.to_ascii_lowercase(),
                });
            }
            None => text,
        };
        // The authority ends at the first `/` after the userinfo (a password may hold one).
        let (userinfo, hostport) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let hostport = hostport.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = split_host_port(hostport)
            .ok_or_else(|| malformed("the port is not a number between 1 and 65535"))?;
        if host.is_empty() {
            return Err(malformed("it names no host"));
        }
        if host.contains(|c: char| c.is_whitespace() || c == '@') {
            return Err(malformed("the host is not a name or an address"));
        }
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| malformed("the user or password is not UTF-8 once percent-decoded"))
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, password)) => (
                    Some(decode(user)?),
                    Some(SecretString::new(decode(password)?)),
                ),
                None => (Some(decode(userinfo)?), None),
            },
        };
        Ok(ProxyUrl {
            host: host.to_owned(),
            port: port.unwrap_or(DEFAULT_PROXY_PORT),
            user: user.filter(|user| !user.is_empty()),
            password,
        })
    }

    /// Whether a user (and perhaps a password) is sent in `Proxy-Authorization`.
    pub fn has_credentials(&self) -> bool {
        self.user.is_some()
    }

    /// `Proxy-Authorization: Basic base64(user:password)` (RFC 7617), when a user is given.
    fn authorization(&self) -> Option<String> {
        let user = self.user.as_deref()?;
        let password = self
            .password
            .as_ref()
            .map_or("", |secret| secret.expose_str());
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Some(format!("Basic {token}"))
    }
}

/// `host` and the optional port of `host[:port]` (`[v6]:port` for IPv6); `None` for a port
/// that is not 1..=65535.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            // More than one colon and no brackets: a bare IPv6 address, as curl accepts.
            Some((host, _)) if host.contains(':') => (text, None),
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    match port {
        None | Some("") => Some((host, None)),
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .map(|port| (host, Some(port))),
    }
}

impl fmt::Display for ProxyUrl {
    /// `http://user:<redacted>@host:port`: the password never shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("http://")?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if self.password.is_some() {
                write!(f, ":{REDACTED}")?;
            }
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

/// curl's `no_proxy`/`NO_PROXY`/`--noproxy` list: names and addresses reached without the proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    /// `*`: no host uses the proxy.
    everything: bool,
    entries: Vec<String>,
}

impl NoProxy {
    /// Entries are separated by commas (and, as curl allows, white space); a list that is just
    /// `*` matches every host.
    pub fn parse(text: &str) -> NoProxy {
        let text = text.trim();
        NoProxy {
            everything: text == "*",
            entries: text
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|entry| !entry.is_empty())
                .map(|entry| entry.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether `host` bypasses the proxy, by curl's rules (lib/noproxy.c, 7.86+): for a name,
    /// an entry matches the name itself or any name under it (`contoso.com` and `.contoso.com`
    /// both match `gw.contoso.com`, never `notcontoso.com`); for an address, an entry is an
    /// address or a CIDR block (`10.0.0.0/8`, `fd00::/8`), compared as addresses.
    pub fn matches(&self, host: &str) -> bool {
        if self.everything {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        match host.parse::<IpAddr>() {
            Ok(address) => self
                .entries
                .iter()
                .any(|entry| address_matches(address, entry)),
            Err(_) => self.entries.iter().any(|entry| {
                let entry = entry.trim_start_matches('.').trim_end_matches('.');
                !entry.is_empty()
                    && (host == entry
                        || host
                            .strip_suffix(entry)
                            .is_some_and(|prefix| prefix.ends_with('.')))
            }),
        }
    }
}

/// An address against an address or CIDR entry (`[::1]` brackets allowed, as curl does).
fn address_matches(address: IpAddr, entry: &str) -> bool {
    let (network, bits) = match entry.split_once('/') {
        Some((network, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (network, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(network) = network
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return false;
    };
    match (address, network) {
        (IpAddr::V4(address), IpAddr::V4(network)) => {
            prefix_equal(&address.octets(), &network.octets(), bits.unwrap_or(32))
        }
        (IpAddr::V6(address), IpAddr::V6(network)) => {
            prefix_equal(&address.octets(), &network.octets(), bits.unwrap_or(128))
        }
        _ => false,
    }
}

/// Whether the first `bits` bits of `a` and `b` agree; a prefix longer than the address never
/// matches (curl rejects it).
fn prefix_equal(a: &[u8], b: &[u8], bits: u32) -> bool {
    let total = (a.len() * 8) as u32;
    if bits > total {
        return false;
    }
    let whole = (bits / 8) as usize;
    let rest = bits % 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// The proxy a run uses and where it was configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    pub proxy: Option<Arc<ProxyUrl>>,
    pub no_proxy: NoProxy,
    /// Where the proxy came from, for messages: `--proxy`, `https_proxy`, `[agent.env]
    /// https_proxy in /etc/aziot/config.toml`.
    pub source: String,
}

impl ProxySettings {
    /// A leaf device's (and `connect`'s) proxy, as curl finds it: `--proxy` first, else
    /// `https_proxy`, then `HTTPS_PROXY`; `--noproxy` first, else `no_proxy`, then `NO_PROXY`.
    /// `environment` reads one variable (the process environment, or a test's).
    pub fn from_command_line(
        proxy: Option<&str>,
        noproxy: Option<&str>,
        environment: impl Fn(&str) -> Option<String>,
    ) -> Result<ProxySettings, ProxyUrlError> {
        let set = |name: &str| environment(name).filter(|value| !value.trim().is_empty());
        let (url, source) = match proxy {
            Some(url) => (Some(url.to_owned()), "--proxy".to_owned()),
            None => match ["https_proxy", "HTTPS_PROXY"]
                .into_iter()
                .find_map(|name| set(name).map(|value| (value, name)))
            {
                Some((value, name)) => (Some(value), name.to_owned()),
                None => (None, String::new()),
            },
        };
        let no_proxy = match noproxy {
            Some(list) => NoProxy::parse(list),
            None => ["no_proxy", "NO_PROXY"]
                .into_iter()
                .find_map(set)
                .map(|list| NoProxy::parse(&list))
                .unwrap_or_default(),
        };
        // `--proxy ""` turns a proxy from the environment off, as in curl.
        let proxy = match url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(Arc::new(
                ProxyUrl::parse(url).map_err(|error| with_source(error, &source))?,
            )),
        };
        Ok(ProxySettings {
            proxy,
            no_proxy,
            source,
        })
    }

    /// The proxy a connection to `host` goes through, or `None` when it goes direct.
    pub fn route(&self, host: &str) -> Option<&Arc<ProxyUrl>> {
        self.proxy.as_ref().filter(|_| !self.no_proxy.matches(host))
    }
}

/// The error, naming where the URL came from.
fn with_source(error: ProxyUrlError, source: &str) -> ProxyUrlError {
    match error {
        ProxyUrlError::Malformed { url, reason } => ProxyUrlError::Malformed {
            url: format!("{source}={url}"),
            reason,
        },
        ProxyUrlError::UnsupportedScheme { url, scheme } => ProxyUrlError::UnsupportedScheme {
            url: format!("{source}={url}"),
            scheme,
        },
    }
}

/// How reaching the target through the proxy failed. Each variant is its own finding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("the proxy's name does not resolve: {detail}")]
    Unresolved { detail: String },
    #[error("connection to the proxy refused: nothing is listening on {endpoint}")]
    Refused { endpoint: SocketAddr },
    #[error("connection to the proxy at {endpoint} timed out after {}", format_duration(*timeout))]
    TimedOut {
        endpoint: SocketAddr,
        timeout: Duration,
    },
    #[error("the proxy at {endpoint} is unreachable: {detail}")]
    Unreachable {
        endpoint: SocketAddr,
        detail: String,
    },
    #[error("the proxy sent no answer to CONNECT {target} within {}", format_duration(*timeout))]
    NoAnswer { target: String, timeout: Duration },
    #[error("the proxy closed the connection without answering CONNECT {target}")]
    Closed { target: String },
    #[error("the proxy's answer to CONNECT {target} is not HTTP: {received}")]
    NotHttp { target: String, received: String },
    /// 407 (RFC 9110 §15.5.8), or the 401 some proxies send for rejected credentials.
    #[error("the proxy requires authentication for CONNECT {target}: it answered `{status_line}`{}", if *sent_credentials { " to the credentials given" } else { "" })]
    AuthenticationRequired {
        target: String,
        status_line: String,
        sent_credentials: bool,
    },
    /// Any other non-2xx answer: 403 (a port or destination rule), 502/503/504 (the proxy
    /// could not reach the target).
    #[error("the proxy refused CONNECT {target}: it answered `{status_line}`")]
    Rejected {
        target: String,
        status: u16,
        status_line: String,
    },
}

impl ProxyError {
    /// A short stable name for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            ProxyError::Unresolved { .. } => "proxy_unresolved",
            ProxyError::Refused { .. } => "proxy_refused",
            ProxyError::TimedOut { .. } => "proxy_timeout",
            ProxyError::Unreachable { .. } => "proxy_unreachable",
            ProxyError::NoAnswer { .. } => "proxy_no_answer",
            ProxyError::Closed { .. } => "proxy_closed",
            ProxyError::NotHttp { .. } => "proxy_not_http",
            ProxyError::AuthenticationRequired { .. } => "proxy_authentication_required",
            ProxyError::Rejected { .. } => "proxy_rejected",
        }
    }

    /// What to do, naming the proxy (`proxy`, redacted) and where it is configured (`source`).
    pub fn remedy(&self, proxy: &str, source: &str) -> String {
        let configured = if source.is_empty() {
            String::new()
        } else {
            format!(" (set by {source})")
        };
        match self {
            ProxyError::Unresolved { .. }
            | ProxyError::Refused { .. }
            | ProxyError::TimedOut { .. }
            | ProxyError::Unreachable { .. } => format!(
                "the proxy {proxy}{configured} cannot be reached: check its host and port, that it runs, and that this device may reach it (test with `curl -x {proxy} https://<host>`)"
            ),
            ProxyError::NoAnswer { .. }
            | ProxyError::Closed { .. }
            | ProxyError::NotHttp { .. } => format!(
                "{proxy}{configured} does not behave as an HTTP proxy: check that the port is the proxy's HTTP port (an HTTPS or SOCKS proxy is not what devices use)"
            ),
            ProxyError::AuthenticationRequired {
                sent_credentials: false,
                ..
            } => format!(
                "the proxy requires a user and password: put them in the proxy URL{configured} before the host, as `user:password@` (percent-encode `@`, `:` and `/` in the password)"
            ),
            ProxyError::AuthenticationRequired { .. } => format!(
                "the proxy rejected the user and password in {proxy}{configured}: check them with the proxy's administrator"
            ),
            ProxyError::Rejected {
                status: 403,
                target,
                ..
            } => format!(
                "the proxy's rules forbid CONNECT to {target}: have it allow the port (squid `http_access allow CONNECT` with the port in SSL_ports, tinyproxy `ConnectPort`), or reach the gateway without the proxy (add it to no_proxy)"
            ),
            ProxyError::Rejected {
                status: 502..=504,
                target,
                ..
            } => format!(
                "the proxy could not reach {target}: check that the proxy resolves the name and may connect to that port (its firewall and DNS, not this device's)"
            ),
            ProxyError::Rejected { target, .. } => format!(
                "the proxy does not tunnel to {target}: check its rules and logs, or reach the target without the proxy (no_proxy)"
            ),
        }
    }
}

/// The `host:port` a CONNECT names (RFC 9110 §9.3.6: authority form, IPv6 in brackets).
fn authority(host: &str, port: u16) -> String {
    let host = host.trim_end_matches('.');
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connects to `proxy` (each of its addresses in turn, recording each attempt), asks it to
/// CONNECT to `host:port` and returns the stream once it answered 2xx: from then on the bytes
/// are the target's. The connect and the proxy's answer each have `timeout`. Returns the
/// stream, the proxy's address and the time until the tunnel stood.
pub(crate) async fn tunnel(
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    timeout: Duration,
    attempts: &mut Vec<Attempt>,
) -> Result<(TcpStream, SocketAddr, Duration), ConnectError> {
    let started = Instant::now();
    let fail = |endpoint: Option<SocketAddr>, error: ProxyError| ConnectError::Proxy {
        endpoint,
        proxy: proxy.to_string(),
        error,
    };
    let addresses = proxy_addresses(proxy, timeout)
        .await
        .map_err(|detail| fail(None, ProxyError::Unresolved { detail }))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    let mut stream = None;
    for endpoint in addresses {
        let attempt_started = Instant::now();
        let result = match tokio::time::timeout_at(deadline, TcpStream::connect(endpoint)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(error)) => Err(match classify_connect_error(&error, endpoint, timeout) {
                // This machine's limit stays what it is, whoever the peer.
                local @ ConnectError::LocalLimit { .. } => local,
                ConnectError::Refused { .. } => {
                    fail(Some(endpoint), ProxyError::Refused { endpoint })
                }
                ConnectError::ConnectTimeout { .. } => {
                    fail(Some(endpoint), ProxyError::TimedOut { endpoint, timeout })
                }
                other => fail(
                    Some(endpoint),
                    ProxyError::Unreachable {
                        endpoint,
                        detail: error_detail(&other, &error),
                    },
                ),
            }),
            Err(_) => Err(fail(
                Some(endpoint),
                ProxyError::TimedOut { endpoint, timeout },
            )),
        };
        attempts.push(Attempt {
            address: endpoint,
            elapsed: attempt_started.elapsed(),
            outcome: match &result {
                Ok(_) => AttemptOutcome::Connected,
                Err(error) => AttemptOutcome::Failed(error.clone()),
            },
        });
        match result {
            Ok(connected) => {
                stream = Some((connected, endpoint));
                break;
            }
            Err(error) => {
                let timed_out = matches!(
                    error,
                    ConnectError::Proxy {
                        error: ProxyError::TimedOut { .. },
                        ..
                    }
                );
                last = Some(error);
                // One deadline covers every address: none is left for the next.
                if timed_out {
                    break;
                }
            }
        }
    }
    let Some((mut stream, endpoint)) = stream else {
        return Err(last.unwrap_or(ConnectError::NoAddress));
    };
    let _ = stream.set_nodelay(true);
    let target = authority(host, port);
    let answer = tokio::time::timeout(timeout, ask(&mut stream, proxy, &target)).await;
    match answer {
        Err(_) => Err(fail(
            Some(endpoint),
            ProxyError::NoAnswer { target, timeout },
        )),
        Ok(Err(error)) => Err(fail(Some(endpoint), error)),
        Ok(Ok(())) => Ok((stream, endpoint, started.elapsed())),
    }
}

/// The detail of a failed connect to the proxy, from the error edgeprobe's own classification
/// gave (its text names the proxy's address already).
fn error_detail(classified: &ConnectError, error: &std::io::Error) -> String {
    match classified {
        ConnectError::Unreachable { detail, .. } | ConnectError::ConnectFailed { detail, .. } => {
            detail.clone()
        }
        _ => error.to_string(),
    }
}

/// The proxy's addresses: the address itself, or what the system resolver gives for the name
/// (as curl and the device SDKs do: the proxy is not the gateway, and is not looked up in
/// edgeprobe's gateway resolver).
async fn proxy_addresses(proxy: &ProxyUrl, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
    if let Ok(address) = proxy.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(address, proxy.port)]);
    }
    let lookup = tokio::net::lookup_host((proxy.host.as_str(), proxy.port));
    match tokio::time::timeout(timeout, lookup).await {
        Err(_) => Err(format!(
            "looking up `{}` took longer than {}",
            proxy.host,
            format_duration(timeout)
        )),
        Ok(Err(error)) => Err(format!("`{}`: {error}", proxy.host)),
        Ok(Ok(addresses)) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() {
                Err(format!("`{}` has no address", proxy.host))
            } else {
                Ok(addresses)
            }
        }
    }
}

/// Sends `CONNECT target` and reads the answer's header, byte by byte so that nothing the
/// target sends after it is taken from the TLS layer.
async fn ask(stream: &mut TcpStream, proxy: &ProxyUrl, target: &str) -> Result<(), ProxyError> {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(authorization) = proxy.authorization() {
        request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    request.push_str("Proxy-Connection: Keep-Alive\r\n\r\n");
    let closed = || ProxyError::Closed {
        target: target.to_owned(),
    };
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|_| closed())?;
    let mut header = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !header.ends_with(b"\r\n\r\n") && header.len() < MAX_ANSWER_BYTES {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) if header.is_empty() => return Err(closed()),
            Ok(0) | Err(_) => break,
            Ok(_) => header.push(byte[0]),
        }
    }
    read_answer(&header, target, proxy.has_credentials())
}

/// The verdict on a CONNECT answer's header (RFC 9110 §9.3.6: any 2xx opens the tunnel).
fn read_answer(header: &[u8], target: &str, sent_credentials: bool) -> Result<(), ProxyError> {
    let not_http = || ProxyError::NotHttp {
        target: target.to_owned(),
        received: super::probe::describe_received(header),
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let status = match response.parse(header) {
        Ok(httparse::Status::Complete(_)) => response.code.ok_or_else(not_http)?,
        // A header cut short still says how it began, when it began as HTTP.
        Ok(httparse::Status::Partial) if response.code.is_some() => {
            response.code.unwrap_or_default()
        }
        _ => return Err(not_http()),
    };
    if (200..300).contains(&status) {
        return Ok(());
    }
    let status_line = String::from_utf8_lossy(header)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect::<String>();
    // 407 is the proxy's own "authenticate" (RFC 9110 §15.5.8); some proxies (tinyproxy 1.11
    // among them) answer credentials they reject with 401 instead.
    if status == 407 || status == 401 {
        return Err(ProxyError::AuthenticationRequired {
            target: target.to_owned(),
            status_line,
            sent_credentials,
        });
    }
    Err(ProxyError::Rejected {
        target: target.to_owned(),
        status,
        status_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_as_curl_reads_them_and_never_show_the_password() {
        let url = ProxyUrl::parse("http://operator:p%40ss:w0rd@proxy.contoso.com:3128/").unwrap();
        assert_eq!(url.host, "proxy.contoso.com");
        assert_eq!(url.port, 3128);
        assert_eq!(url.user.as_deref(), Some("operator"));
        assert_eq!(
            url.password.as_ref().map(|p| p.expose_str()),
            Some("p@ss:w0rd")
        );
        assert_eq!(
            url.to_string(),
            "http://operator:<redacted>@proxy.contoso.com:3128"
        );
        assert!(!format!("{url:?}").contains("w0rd"));
        // RFC 7617: base64("operator:p@ss:w0rd").
        assert_eq!(
            url.authorization().as_deref(),
            Some("Basic b3BlcmF0b3I6cEBzczp3MHJk")
        );

        let bare = ProxyUrl::parse("10.0.0.1").unwrap();
        assert_eq!((bare.host.as_str(), bare.port), ("10.0.0.1", 1080));
        assert_eq!(bare.authorization(), None);
        let v6 = ProxyUrl::parse("http://[fd00::1]:8080").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("fd00::1", 8080));
        assert_eq!(v6.to_string(), "http://[fd00::1]:8080");

        for bad in [
            "",
            "http://",
            "http://proxy:0",
            "http://proxy:99999",
            "proxy:port",
        ] {
            assert!(ProxyUrl::parse(bad).is_err(), "{bad}");
        }
        let error = ProxyUrl::parse("socks5://user:hunter2@proxy:1080").unwrap_err();
        assert!(matches!(error, ProxyUrlError::UnsupportedScheme { .. }));
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = ProxyUrl::parse("http://user:hunter2@proxy:http").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn no_proxy_follows_curls_rules() {
        let list = NoProxy::parse("contoso.com, .fabrikam.com,10.0.0.0/8 ::1 192.168.1.7");
        for host in [
            "contoso.com",
            "gw.contoso.com",
            "GW.Contoso.COM.",
            "fabrikam.com",
            "a.b.fabrikam.com",
            "10.1.2.3",
            "[::1]",
            "192.168.1.7",
        ] {
            assert!(list.matches(host), "{host}");
        }
        for host in [
            "notcontoso.com",
            "contoso.com.evil.net",
            "11.0.0.1",
            "192.168.1.8",
            "::2",
        ] {
            assert!(!list.matches(host), "{host}");
        }
        assert!(NoProxy::parse("*").matches("anything.example"));
        assert!(!NoProxy::parse("").matches("gw"));
        assert!(NoProxy::parse("fd00::/8").matches("fd12::1"));
        assert!(!NoProxy::parse("10.0.0.0/33").matches("10.0.0.1"));
    }

    #[test]
    fn the_flag_wins_over_the_environment_and_an_empty_flag_turns_the_proxy_off() {
        let environment = |name: &str| match name {
            "https_proxy" => Some("http://lower:3128".to_owned()),
            "HTTPS_PROXY" => Some("http://upper:3128".to_owned()),
            "NO_PROXY" => Some("gw.contoso.com".to_owned()),
            _ => None,
        };
        let settings = ProxySettings::from_command_line(None, None, environment).unwrap();
        assert_eq!(settings.source, "https_proxy");
        assert_eq!(settings.proxy.as_ref().unwrap().host, "lower");
        assert!(settings.route("gw.contoso.com").is_none());
        assert!(settings.route("other.contoso.com").is_some());

        let flag =
            ProxySettings::from_command_line(Some("flag:8080"), Some(""), environment).unwrap();
        assert_eq!(flag.source, "--proxy");
        assert!(flag.route("gw.contoso.com").is_some());
        let off = ProxySettings::from_command_line(Some(""), None, environment).unwrap();
        assert!(off.proxy.is_none());

        let error = ProxySettings::from_command_line(None, None, |_| Some("ftp://x".to_owned()))
            .unwrap_err();
        assert!(error.to_string().contains("https_proxy=ftp://x"), "{error}");
    }

    #[test]
    fn connect_answers_are_judged_by_their_status() {
        let target = "gw.contoso.com:443";
        assert_eq!(
            read_answer(
                b"HTTP/1.1 200 Connection established\r\n\r\n",
                target,
                false
            ),
            Ok(())
        );
        assert!(matches!(
            read_answer(b"HTTP/1.0 403 Access violation\r\nServer: x\r\n\r\n", target, false),
            Err(ProxyError::Rejected { status: 403, ref status_line, .. }) if status_line == "HTTP/1.0 403 Access violation"
        ));
        assert!(matches!(
            read_answer(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
                target,
                true
            ),
            Err(ProxyError::AuthenticationRequired {
                sent_credentials: true,
                ..
            })
        ));
        assert!(matches!(
            read_answer(b"HTTP/1.0 401 Unauthorized\r\n\r\n", target, true),
            Err(ProxyError::AuthenticationRequired { .. })
        ));
        assert!(matches!(
            read_answer(b"\x16\x03\x01\x00\x05hello", target, false),
            Err(ProxyError::NotHttp { .. })
        ));
        assert_eq!(authority("fd00::1", 443), "[fd00::1]:443");
        assert_eq!(authority("gw.contoso.com.", 8883), "gw.contoso.com:8883");
    }
}
