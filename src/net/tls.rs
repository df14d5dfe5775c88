//! TCP connect and TLS handshake to one gateway port, observing what a leaf device would see:
//! every address tried, the protocol, cipher and key exchange, and the chain exactly as sent.
//! It observes only: the verdicts on the chain (OpenSSL's and rustls/webpki's) are the PKI
//! layer's (`pki::verdicts`), reached with the caller's clock; nothing here reads the time of day.
//!
//! The handshake is never stopped by certificate verification: the client's verifier lets the
//! handshake finish whatever the chain, so that a bad chain is still captured and diagnosed.
//! Handshake signatures are still verified for real, by `pki::signature`, for every scheme an
//! OpenSSL 3.0 client accepts (P-521, Ed448, RSA-PSS keys, RSA below 2048 bits), so a gateway the
//! device's OpenSSL-based SDK reaches is reached here too.
//!
//! The client side ([`TlsClient`]: provider and configurations) is built once per run and shared
//! by every connection.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::Protocol;
use super::local_limits::DescriptorExhaustion;
use super::observation::{Attempt, as_millis};
use crate::memo::Recent;

/// The most of the server's first bytes kept to recognise a non-TLS service.
const FIRST_BYTES_KEPT: usize = 64;

/// What one completed handshake showed, besides the chain (kept apart, as DER, in
/// [`Connected::chain`]).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Handshake {
    /// The address that accepted the connection.
    pub address: SocketAddr,
    /// The version, suite, group and protocol agreed on.
    #[serde(flatten)]
    pub negotiated: Negotiated,
    #[serde(rename = "connect_ms", serialize_with = "as_millis")]
    #[schemars(with = "crate::engine::Milliseconds")]
    pub connect_time: Duration,
    #[serde(rename = "handshake_ms", serialize_with = "as_millis")]
    #[schemars(with = "crate::engine::Milliseconds")]
    pub handshake_time: Duration,
}

// The parameters client and server agreed on (RFC 8446 section 4.1.3's ServerHello, with
// ALPN from RFC 7301), as rustls reports them after the handshake. (A `//` comment: schemars
// would lend a doc comment to every struct it is flattened into as that struct's description.)
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Negotiated {
    /// `TLSv1.3` or `TLSv1.2`, as OpenSSL prints it.
    pub tls_version: String,
    /// The OpenSSL name of the negotiated suite (what `s_client` prints as `Cipher`).
    pub cipher_suite: String,
    /// The key exchange group, as OpenSSL's `-groups` names it (`X25519`, `P-256`); `None`
    /// when the library did not say (a TLS 1.2 RSA key exchange has none).
    pub key_exchange_group: Option<String>,
    pub alpn: Option<String>,
}

impl Negotiated {
    /// What `connection` agreed on, in OpenSSL's names.
    fn of(connection: &rustls::ClientConnection) -> Self {
        Negotiated {
            tls_version: match connection.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
                Some(other) => format!("{other:?}"),
                None => "unknown".to_owned(),
            },
            cipher_suite: connection
                .negotiated_cipher_suite()
                .map(|suite| openssl_cipher_name(suite.suite()))
                .unwrap_or_else(|| "unknown".to_owned()),
            key_exchange_group: connection
                .negotiated_key_exchange_group()
                .map(|group| openssl_group_name(group.name())),
            alpn: connection
                .alpn_protocol()
                .map(|alpn| String::from_utf8_lossy(alpn).into_owned()),
        }
    }
}

/// One connection attempt's parameters.
#[derive(Debug, Clone)]
pub struct ConnectRequest<'a> {
    pub protocol: Protocol,
    /// The name the device dials: used for SNI (omitted for an IP address, per RFC 6066 §3).
    pub server_name: &'a str,
    pub addresses: &'a [IpAddr],
    pub port: u16,
    /// The deadline for the TCP connect (every address raced within it, RFC 8305) and,
    /// separately, for the TLS handshake.
    pub timeout: Duration,
    pub client: &'a TlsClient,
    /// The HTTP proxy to tunnel through (CONNECT `server_name:port`), or `None` to connect to
    /// `addresses` directly. Through a proxy, the proxy resolves the name; `addresses` is unused.
    pub proxy: Option<&'a super::proxy::ProxyUrl>,
}

/// A live, verified-or-not TLS connection and what its handshake showed.
pub struct Connected {
    pub handshake: Handshake,
    /// The certificates exactly as the server sent them, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    pub stream: TlsStream<ObservedStream>,
}

impl fmt::Debug for Connected {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Connected")
            .field("handshake", &self.handshake)
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Connected {
    /// Close politely (TLS close_notify), ignoring a peer that is already gone.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.stream.shutdown()).await;
    }
}

/// Why a port could not be reached or did not complete a TLS handshake. Each variant is a
/// distinct finding with its own remedy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("no address to connect to")]
    NoAddress,
    /// This machine had no file descriptor left for the socket (`EMFILE`, `ENFILE`): a limit of
    /// the machine edgeprobe runs on, not a finding about the network or the gateway.
    #[error("{exhaustion}")]
    LocalLimit {
        endpoint: SocketAddr,
        exhaustion: DescriptorExhaustion,
    },
    #[error("connection to {endpoint} refused: nothing is listening on port {}", endpoint.port())]
    Refused { endpoint: SocketAddr },
    #[error("connection to {endpoint} timed out after {}: packets are being dropped", format_duration(*timeout))]
    ConnectTimeout {
        endpoint: SocketAddr,
        timeout: Duration,
    },
    #[error("{endpoint} is unreachable: {detail}")]
    Unreachable {
        endpoint: SocketAddr,
        detail: String,
    },
    #[error("connecting to {endpoint} failed: {detail}")]
    ConnectFailed {
        endpoint: SocketAddr,
        detail: String,
    },
    #[error("{endpoint} accepted the connection but sent no TLS handshake within {}", format_duration(*timeout))]
    HandshakeTimeout {
        endpoint: SocketAddr,
        timeout: Duration,
    },
    #[error("{endpoint} reset the connection during the TLS handshake")]
    Reset { endpoint: SocketAddr },
    #[error("{endpoint} closed the connection during the TLS handshake")]
    Closed { endpoint: SocketAddr },
    #[error(
        "{endpoint} does not speak TLS: it answered {}",
        describe_first_bytes(first_bytes)
    )]
    NotTls {
        endpoint: SocketAddr,
        first_bytes: Vec<u8>,
    },
    /// A service answered, but without TLS: `net::plaintext` asked it in plaintext.
    #[error("{endpoint} is {} without TLS: {}", service.service, service.answer)]
    Plaintext {
        endpoint: SocketAddr,
        service: super::plaintext::PlaintextService,
    },
    #[error("{endpoint} refused the TLS handshake with the alert `{alert}`")]
    Alert { endpoint: SocketAddr, alert: String },
    /// rustls refuses handshake messages over 64 KiB (its `MAX_HANDSHAKE_SIZE`); OpenSSL's
    /// client takes a Certificate message of up to 100 KiB by default (`SSL_CTX_set_max_cert_list`).
    #[error("{}", describe_oversized(endpoint, *size))]
    CertificateTooLarge {
        endpoint: SocketAddr,
        /// The Certificate handshake message's size in bytes, when it was seen (TLS 1.2 sends
        /// it in clear; TLS 1.3 encrypts it).
        size: Option<usize>,
    },
    #[error("TLS handshake with {endpoint} failed: {detail}")]
    Tls {
        endpoint: SocketAddr,
        detail: String,
    },
    /// The HTTP proxy the connection goes through could not be reached, or would not tunnel.
    #[error("proxy {proxy}: {error}")]
    Proxy {
        /// The proxy's address, once one was tried.
        endpoint: Option<SocketAddr>,
        /// The proxy URL, its password redacted.
        proxy: String,
        error: super::proxy::ProxyError,
    },
}

impl ConnectError {
    /// The endpoint concerned, when there is one.
    pub fn endpoint(&self) -> Option<SocketAddr> {
        match self {
            ConnectError::NoAddress => None,
            ConnectError::Proxy { endpoint, .. } => *endpoint,
            ConnectError::LocalLimit { endpoint, .. }
            | ConnectError::Refused { endpoint }
            | ConnectError::ConnectTimeout { endpoint, .. }
            | ConnectError::Unreachable { endpoint, .. }
            | ConnectError::ConnectFailed { endpoint, .. }
            | ConnectError::HandshakeTimeout { endpoint, .. }
            | ConnectError::Reset { endpoint }
            | ConnectError::Closed { endpoint }
            | ConnectError::NotTls { endpoint, .. }
            | ConnectError::Plaintext { endpoint, .. }
            | ConnectError::Alert { endpoint, .. }
            | ConnectError::CertificateTooLarge { endpoint, .. }
            | ConnectError::Tls { endpoint, .. } => Some(*endpoint),
        }
    }

    /// A short stable name for JSON (`refused`, `timeout`, `not_tls`, ...; `open_files_limit`
    /// or `system_file_table_full` for a local limit).
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectError::NoAddress => "no_address",
            ConnectError::LocalLimit { exhaustion, .. } => exhaustion.kind(),
            ConnectError::Refused { .. } => "refused",
            ConnectError::ConnectTimeout { .. } => "connect_timeout",
            ConnectError::Unreachable { .. } => "unreachable",
            ConnectError::ConnectFailed { .. } => "connect_failed",
            ConnectError::HandshakeTimeout { .. } => "handshake_timeout",
            ConnectError::Reset { .. } => "reset",
            ConnectError::Closed { .. } => "closed",
            ConnectError::NotTls { .. } => "not_tls",
            // Still not TLS; the message names the service that answered instead.
            ConnectError::Plaintext { .. } => "not_tls",
            ConnectError::Alert { .. } => "tls_alert",
            ConnectError::CertificateTooLarge { .. } => "certificate_too_large",
            ConnectError::Tls { .. } => "tls_error",
            ConnectError::Proxy { error, .. } => error.kind(),
        }
    }
}

/// The largest handshake message rustls accepts (RFC 8446 allows 2^24 - 1).
const RUSTLS_MAX_HANDSHAKE: usize = 0xffff;
/// OpenSSL's default `max_cert_list` (ssl_lib.c `SSL_MAX_CERT_LIST_DEFAULT`, 100 KiB).
const OPENSSL_MAX_CERT_LIST: usize = 1024 * 100;

fn describe_oversized(endpoint: &SocketAddr, size: Option<usize>) -> String {
    let limits = format!(
        "larger than rustls, the TLS library edgeprobe uses, accepts ({RUSTLS_MAX_HANDSHAKE} bytes)"
    );
    match size {
        Some(size) if size > OPENSSL_MAX_CERT_LIST => format!(
            "{endpoint} sent a Certificate message of {size} bytes, {limits}; OpenSSL-based clients refuse it too unless they raise their 100 KiB limit"
        ),
        Some(size) => format!(
            "{endpoint} sent a Certificate message of {size} bytes, {limits}; OpenSSL-based clients (limit 100 KiB) may still accept it"
        ),
        None => format!(
            "{endpoint}'s Certificate message is {limits} (its size is not visible: TLS 1.3 encrypts it); OpenSSL-based clients may still accept it"
        ),
    }
}

pub fn format_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// A printable summary of what a non-TLS service sent: its first line when it is text
/// (`HTTP/1.1 400 Bad Request`, marked as plaintext), otherwise the first bytes in hex; the
/// same rendering the protocol probes use.
fn describe_first_bytes(bytes: &[u8]) -> String {
    let described = super::probe::describe_received(bytes);
    if described.starts_with('`') {
        format!("{described} (plaintext)")
    } else {
        described
    }
}

/// The ring provider: the only one compiled in (aws-lc is deliberately not a dependency).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client side of every connection: one rustls configuration per ALPN list. Building
/// these (assembling the provider and configuration) is done once and shared, not once per
/// connection: in fleet mode that is thousands of connections. It trusts nothing and decides
/// nothing about chains: verdicts are `pki::verdicts`'.
#[derive(Debug)]
pub struct TlsClient {
    /// No ALPN: MQTTS and AMQPS clients (the device SDKs) offer none.
    plain: Arc<ClientConfig>,
    /// ALPN `http/1.1`, as HTTPS clients offer it.
    http: Arc<ClientConfig>,
}

/// Why the TLS client could not be set up (not expected with the ring provider; reported
/// rather than assumed away).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot set up the TLS client: {0}")]
pub struct TlsSetupError(rustls::Error);

impl TlsClient {
    pub fn new() -> Result<TlsClient, TlsSetupError> {
        Self::build(None)
    }

    /// A client that presents `chain` (leaf first) and proves it holds `key` whenever a server
    /// asks for a certificate (RFC 8446 §4.4.2), as an `x509=true` device does and as
    /// `openssl s_client -cert -key` does.
    pub fn with_client_certificate(
        chain: Vec<CertificateDer<'static>>,
        key: rustls_pki_types::PrivateKeyDer<'static>,
    ) -> Result<TlsClient, TlsSetupError> {
        Self::build(Some((chain, key)))
    }

    fn build(
        identity: Option<(
            Vec<CertificateDer<'static>>,
            rustls_pki_types::PrivateKeyDer<'static>,
        )>,
    ) -> Result<TlsClient, TlsSetupError> {
        let provider = crypto_provider();
        let verifier = Arc::new(ObservingVerifier::new());
        let config = |alpn_protocols: Vec<Vec<u8>>| -> Result<Arc<ClientConfig>, TlsSetupError> {
            let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
                .with_safe_default_protocol_versions()
                .map_err(TlsSetupError)?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone());
            let mut config = match &identity {
                None => builder.with_no_client_auth(),
                Some((chain, key)) => builder
                    .with_client_auth_cert(chain.clone(), key.clone_key())
                    .map_err(TlsSetupError)?,
            };
            config.alpn_protocols = alpn_protocols;
            // A shared configuration would otherwise resume sessions (RFC 8446 section 2.2),
            // and a resumed handshake carries no Certificate message: every probe must see the
            // chain the gateway presents now, as a device connecting for the first time does.
            config.resumption = Resumption::disabled();
            Ok(Arc::new(config))
        };
        Ok(TlsClient {
            plain: config(Vec::new())?,
            http: config(vec![b"http/1.1".to_vec()])?,
        })
    }

    fn config_for(&self, protocol: Protocol) -> Arc<ClientConfig> {
        match protocol {
            Protocol::Https => Arc::clone(&self.http),
            Protocol::Mqtt | Protocol::Amqp => Arc::clone(&self.plain),
        }
    }
}

/// Connect to the first address that accepts (raced, RFC 8305), then complete a TLS handshake.
pub async fn connect(request: &ConnectRequest<'_>) -> Result<Connected, ConnectError> {
    connect_recording(request, &mut Vec::new()).await
}

/// [`connect`], recording every TCP attempt (address, time taken, how it ended) in `attempts`.
pub(crate) async fn connect_recording(
    request: &ConnectRequest<'_>,
    attempts: &mut Vec<Attempt>,
) -> Result<Connected, ConnectError> {
    let (tcp, address, connect_time) = match request.proxy {
        Some(proxy) => {
            super::proxy::tunnel(
                proxy,
                request.server_name,
                request.port,
                request.timeout,
                attempts,
            )
            .await?
        }
        None => connect_tcp(request, attempts).await?,
    };
    let config = request.client.config_for(request.protocol);
    let server_name = server_name_for(request.server_name).map_err(|detail| ConnectError::Tls {
        endpoint: address,
        detail,
    })?;
    let first_bytes = Arc::new(Mutex::new(Vec::with_capacity(FIRST_BYTES_KEPT)));
    let watch = Arc::new(Mutex::new(HandshakeWatch::default()));
    let recorded = ObservedStream {
        inner: tcp,
        first_bytes: Arc::clone(&first_bytes),
        watch: Arc::clone(&watch),
    };

    let started = Instant::now();
    let handshake = tokio::time::timeout(
        request.timeout,
        TlsConnector::from(config).connect(server_name, recorded),
    )
    .await;
    let handshake_time = started.elapsed();
    let stream = match handshake {
        Err(_) => {
            return Err(ConnectError::HandshakeTimeout {
                endpoint: address,
                timeout: request.timeout,
            });
        }
        Ok(Err(error)) => {
            let seen = first_bytes
                .lock()
                .map(|bytes| bytes.clone())
                .unwrap_or_default();
            let certificate_size = watch
                .lock()
                .ok()
                .and_then(|watch| watch.certificate_length)
                .map(|length| length + 4);
            let error = classify_handshake_error(&error, address, seen, certificate_size);
            return Err(name_plaintext_service(error, request).await);
        }
        Ok(Ok(stream)) => stream,
    };
    let (_, connection) = stream.get_ref();
    let chain: Vec<CertificateDer<'static>> = connection
        .peer_certificates()
        .map(|certificates| {
            certificates
                .iter()
                .map(|certificate| certificate.clone().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let handshake = Handshake {
        address,
        negotiated: Negotiated::of(connection),
        connect_time,
        handshake_time,
    };
    Ok(Connected {
        handshake,
        chain,
        stream,
    })
}

/// The TCP connection alone, raced over every address (`net::happy_eyeballs`): also for a
/// plain-HTTP endpoint such as a registry module's published port; `request.client` is not used.
pub(crate) async fn connect_tcp(
    request: &ConnectRequest<'_>,
    attempts: &mut Vec<Attempt>,
) -> Result<(TcpStream, SocketAddr, Duration), ConnectError> {
    super::happy_eyeballs::race(request.addresses, request.port, request.timeout, attempts).await
}

/// What a failed `connect(2)` means. Out of file descriptors is told apart first, from the
/// error number (`EMFILE`, `ENFILE`): it is this machine's limit, whatever the network does.
pub(crate) fn classify_connect_error(
    error: &io::Error,
    endpoint: SocketAddr,
    timeout: Duration,
) -> ConnectError {
    if let Some(exhaustion) = DescriptorExhaustion::from_io_error(error) {
        return ConnectError::LocalLimit {
            endpoint,
            exhaustion,
        };
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused => ConnectError::Refused { endpoint },
        // The server accepted, then reset before the connect was even reported complete (a
        // service that drops clients with SO_LINGER 0, a firewall or IPS): the same finding
        // as a reset during the handshake, not an unexplained socket error.
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            ConnectError::Reset { endpoint }
        }
        // The kernel gave up before our deadline (SYN retries exhausted): still a filtered port.
        io::ErrorKind::TimedOut => ConnectError::ConnectTimeout { endpoint, timeout },
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            ConnectError::Unreachable {
                endpoint,
                detail: error.to_string(),
            }
        }
        _ => ConnectError::ConnectFailed {
            endpoint,
            detail: error.to_string(),
        },
    }
}

fn classify_handshake_error(
    error: &io::Error,
    endpoint: SocketAddr,
    first_bytes: Vec<u8>,
    certificate_size: Option<usize>,
) -> ConnectError {
    if let Some(tls_error) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return match tls_error {
            rustls::Error::AlertReceived(alert) => ConnectError::Alert {
                endpoint,
                alert: alert_name(*alert),
            },
            rustls::Error::InvalidMessage(
                rustls::InvalidMessage::HandshakePayloadTooLarge
                | rustls::InvalidMessage::MessageTooLarge,
            ) if looks_like_tls_record(&first_bytes) => ConnectError::CertificateTooLarge {
                endpoint,
                size: certificate_size.filter(|size| *size > RUSTLS_MAX_HANDSHAKE),
            },
            rustls::Error::InvalidMessage(_) if !looks_like_tls_record(&first_bytes) => {
                ConnectError::NotTls {
                    endpoint,
                    first_bytes,
                }
            }
            other => ConnectError::Tls {
                endpoint,
                detail: other.to_string(),
            },
        };
    }
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ConnectError::Reset { endpoint },
        io::ErrorKind::UnexpectedEof
            if first_bytes.is_empty() || looks_like_tls_record(&first_bytes) =>
        {
            ConnectError::Closed { endpoint }
        }
        io::ErrorKind::UnexpectedEof => ConnectError::NotTls {
            endpoint,
            first_bytes,
        },
        io::ErrorKind::InvalidData if !looks_like_tls_record(&first_bytes) => {
            ConnectError::NotTls {
                endpoint,
                first_bytes,
            }
        }
        _ => ConnectError::Tls {
            endpoint,
            detail: error.to_string(),
        },
    }
}

/// A reset, a close or a non-TLS answer during the handshake may be a plaintext service on the
/// TLS port (`net::plaintext`): named as such when it answers its protocol in plaintext.
async fn name_plaintext_service(error: ConnectError, request: &ConnectRequest<'_>) -> ConnectError {
    use super::plaintext::{http_answer, identify};
    let endpoint = match &error {
        ConnectError::NotTls {
            endpoint,
            first_bytes,
        } => match http_answer(first_bytes) {
            Some(service) => {
                return ConnectError::Plaintext {
                    endpoint: *endpoint,
                    service,
                };
            }
            None => *endpoint,
        },
        ConnectError::Reset { endpoint } | ConnectError::Closed { endpoint } => *endpoint,
        _ => return error,
    };
    match identify(
        request.protocol,
        request.server_name,
        endpoint,
        request.timeout,
    )
    .await
    {
        Some(service) => ConnectError::Plaintext { endpoint, service },
        None => error,
    }
}

/// The alert's name as RFC 8446 §6 spells it (`handshake_failure`), as OpenSSL prints it.
fn alert_name(alert: rustls::AlertDescription) -> String {
    snake_case_alert(&format!("{alert:?}"))
}

/// rustls' name of an alert (`UnknownCA`, `CertificateRequired`) as RFC 8446 §6 spells it
/// (`unknown_ca`, `certificate_required`): a capital starts a word unless it follows one.
pub(crate) fn snake_case_alert(debug_name: &str) -> String {
    let mut name = String::new();
    let mut previous_upper = true;
    for character in debug_name.chars() {
        if character.is_ascii_uppercase() && !previous_upper {
            name.push('_');
        }
        previous_upper = character.is_ascii_uppercase();
        name.push(character.to_ascii_lowercase());
    }
    name
}

/// A TLS record starts with a content type 20..=23 and major version 3 (RFC 8446 §5.1).
fn looks_like_tls_record(bytes: &[u8]) -> bool {
    matches!(bytes, [20..=23, 3, ..] | [20..=23] | [])
}

fn server_name_for(name: &str) -> Result<ServerName<'static>, String> {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(address.into()));
    }
    ServerName::try_from(name.trim_end_matches('.').to_owned())
        .map_err(|_| format!("`{name}` cannot be sent as a TLS server name (SNI)"))
}

/// OpenSSL's names for the suites rustls negotiates, so the output reads like `s_client`.
fn openssl_cipher_name(suite: rustls::CipherSuite) -> String {
    use rustls::CipherSuite as Suite;
    let name = match suite {
        Suite::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        Suite::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        Suite::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        Suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        Suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        Suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        Suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        Suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        Suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

/// OpenSSL's names for the key exchange groups (`openssl s_client -groups`, `Negotiated TLS1.3
/// group`), so the output reads like `s_client`.
fn openssl_group_name(group: rustls::NamedGroup) -> String {
    use rustls::NamedGroup as Group;
    let name = match group {
        Group::X25519 => "X25519",
        Group::X448 => "X448",
        Group::secp256r1 => "P-256",
        Group::secp384r1 => "P-384",
        Group::secp521r1 => "P-521",
        Group::FFDHE2048 => "ffdhe2048",
        Group::FFDHE3072 => "ffdhe3072",
        Group::FFDHE4096 => "ffdhe4096",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

/// A TCP stream that keeps the first bytes the server sends, to name a non-TLS service, and
/// watches the plaintext handshake for the Certificate message's size.
pub struct ObservedStream {
    inner: TcpStream,
    first_bytes: Arc<Mutex<Vec<u8>>>,
    watch: Arc<Mutex<HandshakeWatch>>,
}

/// Follows the server's TLS records (RFC 8446 §5.1) while they carry plaintext handshake
/// messages (§4: a type byte and a 24-bit length), to learn the Certificate message's declared
/// size; stops at the first other record (ChangeCipherSpec, encrypted data, an alert). Only
/// headers are kept, whatever the message sizes.
#[derive(Debug, Default)]
struct HandshakeWatch {
    record_header: Vec<u8>,
    record_left: usize,
    message_header: Vec<u8>,
    message_left: usize,
    stopped: bool,
    /// The Certificate (type 11) message's body length.
    certificate_length: Option<usize>,
}

impl HandshakeWatch {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.stopped {
            if self.record_left == 0 {
                let take = (5 - self.record_header.len()).min(bytes.len());
                self.record_header.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if let [content_type, _, _, high, low] = self.record_header[..] {
                    self.record_header.clear();
                    if content_type != 22 {
                        self.stopped = true;
                    }
                    self.record_left = usize::from(u16::from_be_bytes([high, low]));
                }
                continue;
            }
            let take = self.record_left.min(bytes.len());
            let (mut chunk, rest) = bytes.split_at(take);
            bytes = rest;
            self.record_left -= take;
            while !chunk.is_empty() {
                if self.message_left == 0 {
                    let take = (4 - self.message_header.len()).min(chunk.len());
                    self.message_header.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                    if let [message_type, a, b, c] = self.message_header[..] {
                        self.message_header.clear();
                        let length = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
                        if message_type == 11 && self.certificate_length.is_none() {
                            self.certificate_length = Some(length);
                        }
                        self.message_left = length;
                    }
                } else {
                    let take = self.message_left.min(chunk.len());
                    chunk = &chunk[take..];
                    self.message_left -= take;
                }
            }
        }
    }
}

impl AsyncRead for ObservedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut TaskContext<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buffer.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(context, buffer);
        if let Poll::Ready(Ok(())) = result {
            let fresh = &buffer.filled()[before..];
            if let Ok(mut kept) = this.first_bytes.lock()
                && kept.len() < FIRST_BYTES_KEPT
            {
                let room = FIRST_BYTES_KEPT - kept.len();
                kept.extend_from_slice(&fresh[..fresh.len().min(room)]);
            }
            if let Ok(mut watch) = this.watch.lock() {
                watch.feed(fresh);
            }
        }
        result
    }
}

impl tokio::io::AsyncWrite for ObservedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(context, data)
    }

    /// rustls hands over every record it has queued at once (ChangeCipherSpec and Finished,
    /// say); without this the default writes only the first of them per call, one `sendto` per
    /// record (three more system calls per gateway in fleet mode, each also waking the peer).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut TaskContext<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(context)
    }
}

/// Accepts any certificate so the handshake completes and the chain can be examined; the
/// verdicts come afterwards, from the PKI layer (`pki::verdicts`: OpenSSL's and webpki's). Handshake signatures are checked for real, with OpenSSL 3.0's rules
/// (`pki::signature`), over every scheme its client accepts.
#[derive(Debug)]
struct ObservingVerifier {
    schemes: Vec<SignatureScheme>,
    /// The SubjectPublicKeyInfo of the end-entity certificates seen last, by their DER: a fleet
    /// or a gateway's three ports present the same leaf again and again, and parsing it whole
    /// (x509-parser) for every handshake signature was a measurable part of each connection.
    /// Same bytes, same key: a hit changes nothing but the work done.
    recent_keys: Recent<(CertificateDer<'static>, Arc<[u8]>)>,
}

/// Leaves whose key is remembered: more than the distinct leaves of one fleet run's in-flight
/// gateways usually present; beyond, the oldest is forgotten (a miss only costs a parse).
const RECENT_KEYS_KEPT: usize = 8;

/// A TLS 1.2 or TLS 1.3 handshake-signature check: scheme, the certificate's
/// SubjectPublicKeyInfo, the signed message and the signature.
type HandshakeSignatureCheck =
    fn(SignatureScheme, &[u8], &[u8], &[u8]) -> Result<(), crate::pki::signature::SignatureError>;

impl ObservingVerifier {
    fn new() -> ObservingVerifier {
        ObservingVerifier {
            schemes: crate::pki::signature::tls_signature_schemes(),
            recent_keys: Recent::new(RECENT_KEYS_KEPT),
        }
    }

    /// The end-entity certificate's SubjectPublicKeyInfo (DER), from a certificate x509-parser
    /// reads whole; `BadEncoding` when it cannot.
    fn public_key(&self, certificate: &CertificateDer<'_>) -> Result<Arc<[u8]>, rustls::Error> {
        use x509_parser::prelude::FromDer;
        if let Some(key) = self
            .recent_keys
            .find(|(seen, key)| (seen == certificate).then(|| Arc::clone(key)))
        {
            return Ok(key);
        }
        // Parsed outside the list's lock: concurrent handshakes do not wait on one another.
        let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(certificate.as_ref())
            .map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
            })?;
        let key: Arc<[u8]> = Arc::from(parsed.public_key().raw);
        self.recent_keys.remember(
            (certificate.clone().into_owned(), Arc::clone(&key)),
            |(seen, _)| seen == certificate,
        );
        Ok(key)
    }

    fn verify(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
        verify: HandshakeSignatureCheck,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let public_key = self.public_key(certificate)?;
        if !self.schemes.contains(&signature.scheme) {
            return Err(rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ));
        }
        match verify(
            signature.scheme,
            &public_key,
            message,
            signature.signature(),
        ) {
            Ok(()) => Ok(HandshakeSignatureValid::assertion()),
            Err(error) => Err(rustls::Error::General(format!(
                "the server's {:?} handshake signature: {error}",
                signature.scheme
            ))),
        }
    }
}

impl ServerCertVerifier for ObservingVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify(
            message,
            certificate,
            signature,
            crate::pki::signature::verify_tls_signature,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify(
            message,
            certificate,
            signature,
            crate::pki::signature::verify_tls13_signature,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The remembered keys are the certificates' own: each leaf gets its key, a repeat gets the
    /// same one, a certificate that cannot be read stays `BadEncoding`, and the memory is bounded.
    #[test]
    fn handshake_keys_are_remembered_per_leaf() {
        use crate::pki::load::load_certificates;
        use crate::test_fixtures::fixture;
        use x509_parser::prelude::FromDer;
        let verifier = ObservingVerifier::new();
        let spki = |der: &CertificateDer<'_>| {
            let (_, parsed) =
                x509_parser::certificate::X509Certificate::from_der(der.as_ref()).unwrap();
            parsed.public_key().raw.to_vec()
        };
        let server = load_certificates(&fixture("server.pem")).unwrap().remove(0);
        let other = load_certificates(&fixture("wrong-name-server-full-chain.pem"))
            .unwrap()
            .remove(0);
        assert_ne!(spki(&server), spki(&other));
        for _ in 0..2 {
            assert_eq!(
                &*verifier.public_key(&server).unwrap(),
                spki(&server).as_slice()
            );
            assert_eq!(
                &*verifier.public_key(&other).unwrap(),
                spki(&other).as_slice()
            );
        }
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        for _ in 0..2 {
            assert!(matches!(
                verifier.public_key(&garbage),
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::BadEncoding
                ))
            ));
        }
        let roots = load_certificates(&fixture("root-ca.pem")).unwrap();
        let many: Vec<CertificateDer<'static>> = [
            "server-full-chain.pem",
            "expired-server-full-chain.pem",
            "cn-only-server-full-chain.pem",
            "post-2038-server-full-chain.pem",
            "wrong-name-server-full-chain.pem",
            "intermediate-ca.pem",
            "other-root-ca.pem",
            "device-ca.pem",
        ]
        .iter()
        .flat_map(|name| load_certificates(&fixture(name)).unwrap())
        .chain(roots)
        .collect();
        for certificate in &many {
            assert_eq!(
                &*verifier.public_key(certificate).unwrap(),
                spki(certificate).as_slice()
            );
        }
        assert!(verifier.recent_keys.len() <= RECENT_KEYS_KEPT);
    }

    #[test]
    fn alerts_are_named_as_in_rfc_8446() {
        use rustls::AlertDescription as Alert;
        for (alert, name) in [
            (Alert::HandshakeFailure, "handshake_failure"),
            (Alert::ProtocolVersion, "protocol_version"),
            (Alert::UnknownCA, "unknown_ca"),
            (Alert::CertificateRequired, "certificate_required"),
        ] {
            assert_eq!(alert_name(alert), name);
        }
    }

    /// The records rustls queues together leave in one system call: a vectored write through
    /// the observing wrapper takes every buffer, not only the first (the default's behaviour).
    #[tokio::test]
    async fn queued_records_are_written_in_one_call() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        let mut stream = ObservedStream {
            inner: client.unwrap(),
            first_bytes: Arc::default(),
            watch: Arc::default(),
        };
        assert!(tokio::io::AsyncWrite::is_write_vectored(&stream));
        let records = [
            io::IoSlice::new(b"\x14\x03\x03\x00\x01\x01"),
            io::IoSlice::new(b"finished"),
        ];
        let written = stream.write_vectored(&records).await.unwrap();
        assert_eq!(written, 14, "both records in one write");
        stream.shutdown().await.unwrap();
        let mut received = Vec::new();
        accepted
            .unwrap()
            .0
            .read_to_end(&mut received)
            .await
            .unwrap();
        assert_eq!(received, b"\x14\x03\x03\x00\x01\x01finished");
    }

    #[test]
    fn reset_while_connecting_is_a_reset() {
        let endpoint: SocketAddr = "127.0.0.1:8883".parse().unwrap();
        let error = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            classify_connect_error(&error, endpoint, Duration::from_secs(5)),
            ConnectError::Reset { endpoint }
        );
    }

    #[test]
    fn plaintext_answers_are_shown_as_text() {
        assert_eq!(
            describe_first_bytes(b"HTTP/1.1 400 Bad Request\r\n"),
            "`HTTP/1.1 400 Bad Request` (plaintext)"
        );
        assert_eq!(describe_first_bytes(&[0x00, 0xff, 0x10]), "bytes 00 ff 10");
        assert!(looks_like_tls_record(&[0x15, 0x03, 0x03]));
        assert!(!looks_like_tls_record(b"HTTP"));
    }
}
