//! A simulated IoT Edge gateway on loopback: TLS listeners on the MQTTS, AMQPS and HTTPS ports
//! that serve a given certificate chain, answer the first protocol step the way edgeHub does
//! for an unauthenticated client, and then close.
//!
//! What each port serves after the TLS handshake:
//! - MQTTS: after a complete MQTT CONNECT packet, a CONNACK with return code 5 "not authorized"
//!   (MQTT 3.1.1 section 3.2.2.3), which is what edgeHub answers a client without valid
//!   credentials. A CONNECT for a protocol level other than 3 (MQTT 3.1) or 4 (MQTT 3.1.1) gets
//!   return code 1 "unacceptable protocol version" (section 3.1.2.2). Anything else: closed.
//! - AMQPS: the SASL header `AMQP 3 1 0 0` is echoed and followed by a sasl-mechanisms frame
//!   offering [`EDGEHUB_SASL_MECHANISMS`] (AMQP 1.0 sections 2.2 and 5.3.3.1); the connection is
//!   closed where a real server would wait for sasl-init. Any other `AMQP` header is answered
//!   with the SASL header alone and closed, as a server that requires SASL must (section 2.2).
//! - HTTPS (ALPN `http/1.1`): the WebSocket upgrade device SDKs send for MQTT over WebSockets
//!   (`GET /$iothub/websocket`, subprotocol `mqtt`) gets `101 Switching Protocols` with the
//!   right Sec-WebSocket-Accept (RFC 6455 section 4.2.2); any other request gets
//!   `404 Not Found`. Either way the connection is then closed.
//!
//! Every connection runs in its own task, reads at most [`MAX_REQUEST_BYTES`], and lives at most
//! [`SimulatorConfig::connection_lifetime`], so a misbehaving client cannot pin a task. Failed
//! handshakes (a leaf that rejects the chain) and malformed input just close the connection.
//!
//! A port serves at most [`SimulatorConfig::max_connections_per_port`] connections at once and
//! never drops one for being over that cap: while all slots are taken it stops accepting, so
//! further clients wait in the kernel's listen backlog (their TCP handshake already done,
//! listen(2)) until a slot frees, as a busy edgeHub behind a full accept queue would make them
//! wait. Memory stays bounded by the cap; the backlog is bounded by [`LISTEN_BACKLOG`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::devices::{DeviceRegistry, parse_claims};
use crate::engine::Ports;
use crate::net::Protocol;
use crate::net::local_limits::DescriptorExhaustion;
use crate::net::probe::{ByteStream, amqp, http, websocket};

/// The most a client may send before the simulator answers or gives up; real first packets
/// (an MQTT CONNECT with a SAS token, an HTTP request head) are well below it.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;

/// How long a connection may live, handshake included, unless configured otherwise.
pub const DEFAULT_CONNECTION_LIFETIME: Duration = Duration::from_secs(10);

/// Connections served at once per port unless configured otherwise; further ones wait to be
/// accepted.
pub const DEFAULT_MAX_CONNECTIONS_PER_PORT: usize = 64;

/// Connections the kernel queues per port while every slot is taken: tokio's (and mio's)
/// default, written out because the queue is what makes the cap backpressure instead of
/// refusal. Linux caps it at `net.core.somaxconn` (4096 since 5.4).
pub const LISTEN_BACKLOG: u32 = 1024;

/// Pause after a failed `accept` that freeing one of our own connections cannot cure, so the
/// loop does not spin; the same back-off idea as mini-redis's listener.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The SASL protocol header, AMQP 1.0 section 5.3.1: "AMQP", protocol id 3, version 1.0.0.
pub const AMQP_SASL_HEADER: [u8; 8] = amqp::SASL_HEADER;

/// The SASL mechanisms edgeHub registers, in its order: ANONYMOUS and MSSBCBS (both lead to a
/// SAS token sent over CBS; the C SDK uses MSSBCBS) and PLAIN (SAS token as password), per
/// edge-hub/core/src/Microsoft.Azure.Devices.Edge.Hub.Amqp/settings/AmqpSettingsProvider.cs.
pub const EDGEHUB_SASL_MECHANISMS: [&str; 3] = ["ANONYMOUS", "MSSBCBS", "PLAIN"];

/// CONNACK, return code 5 "connection refused, not authorized" (MQTT 3.1.1 section 3.2).
pub const MQTT_CONNACK_NOT_AUTHORIZED: [u8; 4] = [0x20, 0x02, 0x00, 0x05];

/// CONNACK, return code 1 "unacceptable protocol version" (MQTT 3.1.1 section 3.2.2.3).
pub const MQTT_CONNACK_UNACCEPTABLE_PROTOCOL: [u8; 4] = [0x20, 0x02, 0x00, 0x01];

/// The whole HTTP answer to any request.
pub const HTTP_NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\n\
Server: edgeprobe-simulator\r\n\
Content-Length: 0\r\n\
Connection: close\r\n\r\n";

/// What to serve, and where.
#[derive(Debug)]
pub struct SimulatorConfig {
    /// Address to listen on; tests and the demo use 127.0.0.1 only.
    pub bind: IpAddr,
    /// Port per protocol; 0 means an ephemeral port chosen by the system.
    pub ports: Ports,
    /// Sent as-is in the TLS Certificate message, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// Protocols whose port is closed: nothing listens there.
    pub closed: Vec<Protocol>,
    /// Longest time one connection may stay open, handshake included.
    pub connection_lifetime: Duration,
    /// Connections served at once per port (at least one); further ones wait in the listen
    /// backlog until one ends.
    pub max_connections_per_port: usize,
    /// `serve --device`/`--device-ca`: the devices to authenticate; `None` answers every
    /// CONNECT with CONNACK 5, as edgeHub answers an anonymous client.
    pub devices: Option<Arc<DeviceRegistry>>,
}

impl SimulatorConfig {
    /// 127.0.0.1, ephemeral ports, the default connection lifetime.
    pub fn loopback(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        closed: Vec<Protocol>,
    ) -> Self {
        SimulatorConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: Ports {
                mqtt: 0,
                amqp: 0,
                https: 0,
            },
            chain,
            key,
            closed,
            connection_lifetime: DEFAULT_CONNECTION_LIFETIME,
            max_connections_per_port: DEFAULT_MAX_CONNECTIONS_PER_PORT,
            devices: None,
        }
    }
}

/// Why the simulated gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("the simulated gateway was given no certificate to serve")]
    EmptyChain,
    #[error("the simulated gateway cannot serve its certificate chain: {source}")]
    Tls { source: rustls::Error },
    #[error("the simulated gateway cannot listen on {address} for {}: {source}", protocol.display_name())]
    Bind {
        protocol: Protocol,
        address: SocketAddr,
        source: io::Error,
    },
}

/// A started simulator. Listeners and connections stop when this is dropped, or, waiting for
/// them to finish, with [`RunningGateway::shutdown`].
#[derive(Debug)]
pub struct RunningGateway {
    /// The ports actually used, closed ones included.
    pub ports: Ports,
    pub bind: IpAddr,
    pub closed: Vec<Protocol>,
    /// One accept loop per open port; each owns its connection tasks, so aborting a loop
    /// (which dropping the set does) ends its connections too.
    listeners: JoinSet<()>,
}

impl RunningGateway {
    /// Where `protocol` is (or, if closed, is not) served.
    pub fn address(&self, protocol: Protocol) -> SocketAddr {
        SocketAddr::new(self.bind, self.ports.get(protocol))
    }

    /// Stops every listener and connection and waits until they are gone.
    pub async fn shutdown(mut self) {
        self.listeners.shutdown().await;
    }
}

/// Binds every open port and starts serving; returns once all listeners are bound.
pub async fn start(config: SimulatorConfig) -> Result<RunningGateway, SimulatorError> {
    if config.chain.is_empty() {
        return Err(SimulatorError::EmptyChain);
    }
    let plain = tls_config(&config, Vec::new())?;
    // Browsers and HTTP clients offer ALPN; edgeHub's HTTPS endpoint speaks HTTP/1.1.
    let https = tls_config(&config, vec![b"http/1.1".to_vec()])?;

    let mut ports = config.ports;
    let mut listeners = JoinSet::new();
    for protocol in Protocol::ALL {
        let requested = SocketAddr::new(config.bind, config.ports.get(protocol));
        let bind_error = |source| SimulatorError::Bind {
            protocol,
            address: requested,
            source,
        };
        let listener = listen(requested).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        set_port(&mut ports, protocol, port);
        if config.closed.contains(&protocol) {
            // Dropping the listener leaves a port nobody listens on: connecting gets a
            // connection refused (RST), exactly what a leaf sees when a port is closed.
            drop(listener);
            continue;
        }
        let acceptor = TlsAcceptor::from(match protocol {
            Protocol::Https => https.clone(),
            Protocol::Mqtt | Protocol::Amqp => plain.clone(),
        });
        listeners.spawn(accept_loop(
            listener,
            acceptor,
            protocol,
            config.connection_lifetime,
            config.max_connections_per_port,
            config.devices.clone(),
        ));
    }
    Ok(RunningGateway {
        ports,
        bind: config.bind,
        closed: config.closed,
        listeners,
    })
}

fn tls_config(
    config: &SimulatorConfig,
    alpn_protocols: Vec<Vec<u8>>,
) -> Result<Arc<ServerConfig>, SimulatorError> {
    let tls = |source| SimulatorError::Tls { source };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    let device_ca = config
        .devices
        .as_ref()
        .map(|devices| devices.device_ca.as_slice())
        .unwrap_or_default();
    let builder = if device_ca.is_empty() {
        builder.with_no_client_auth()
    } else {
        // `--device-ca`: ask for a client certificate, as edgeHub does, but let SAS devices
        // connect without one (rustls checks chain, dates and clientAuth of those presented).
        let mut roots = rustls::RootCertStore::empty();
        for certificate in device_ca {
            roots.add(certificate.clone()).map_err(tls)?;
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|error| tls(rustls::Error::General(error.to_string())))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut server_config = builder
        .with_single_cert(config.chain.clone(), config.key.clone_key())
        .map_err(tls)?;
    server_config.alpn_protocols = alpn_protocols;
    Ok(Arc::new(server_config))
}

fn set_port(ports: &mut Ports, protocol: Protocol, port: u16) {
    match protocol {
        Protocol::Mqtt => ports.mqtt = port,
        Protocol::Amqp => ports.amqp = port,
        Protocol::Https => ports.https = port,
    }
}

/// A listening socket on `address` with [`LISTEN_BACKLOG`] and, as `TcpListener::bind` does on
/// Unix, `SO_REUSEADDR`, so a restarted simulator can bind the port its predecessor left in
/// TIME_WAIT.
fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    protocol: Protocol,
    lifetime: Duration,
    max_connections: usize,
    devices: Option<Arc<DeviceRegistry>>,
) {
    let max_connections = max_connections.max(1);
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        if connections.len() >= max_connections {
            // Every slot is taken: accept nothing until a connection ends. The next clients
            // wait in the listen backlog, never closed for being one too many.
            connections.join_next().await;
            continue;
        }
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Out of file descriptors: the client stays queued; ending one of our own
            // connections (each lives at most `lifetime`) gives its descriptor back.
            Err(error)
                if DescriptorExhaustion::from_io_error(&error).is_some()
                    && !connections.is_empty() =>
            {
                connections.join_next().await;
                continue;
            }
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        connections.spawn(serve_connection(
            stream,
            acceptor.clone(),
            protocol,
            lifetime,
            devices.clone(),
        ));
    }
}

async fn serve_connection(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    protocol: Protocol,
    lifetime: Duration,
    devices: Option<Arc<DeviceRegistry>>,
) {
    // Errors and timeouts both mean the same thing here: the client is gone or misbehaving,
    // and the connection is simply closed. The simulator never prints.
    let _ = tokio::time::timeout(lifetime, async {
        let mut tls = acceptor.accept(stream).await?;
        let certificate_cn = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| crate::pki::describe::describe(leaf).ok())
            .and_then(|leaf| leaf.subject_common_names.first().cloned());
        let login = devices.as_deref().map(|devices| DeviceLogin {
            devices,
            certificate_cn: certificate_cn.as_deref(),
        });
        match (protocol, login) {
            (Protocol::Mqtt, None) => answer_mqtt(&mut tls).await?,
            (Protocol::Mqtt, Some(login)) => authenticate_mqtt(&mut tls, login).await?,
            (Protocol::Amqp, _) => answer_amqp(&mut tls).await?,
            (Protocol::Https, login) => answer_https(&mut tls, login).await?,
        }
        // close_notify, so the client reads a clean end of stream (RFC 8446 section 6.1)
        // whether or not it got an answer.
        tls.shutdown().await
    })
    .await;
}

/// Reads once more into `buffer`, never past [`MAX_REQUEST_BYTES`]. `Ok(false)` when the
/// client closed or the cap is reached.
async fn read_more<S: AsyncRead + Unpin>(stream: &mut S, buffer: &mut Vec<u8>) -> io::Result<bool> {
    let room = MAX_REQUEST_BYTES.saturating_sub(buffer.len());
    if room == 0 {
        return Ok(false);
    }
    let mut chunk = [0u8; MAX_REQUEST_BYTES];
    let read = stream.read(&mut chunk[..room]).await?;
    buffer.extend_from_slice(&chunk[..read]);
    Ok(read > 0)
}

/// What the bytes received so far on the MQTT port are.
#[derive(Debug, PartialEq, Eq)]
enum MqttFirstPacket {
    Incomplete,
    Connect {
        protocol_level: u8,
    },
    /// Not a CONNECT, malformed, or larger than [`MAX_REQUEST_BYTES`].
    Unacceptable,
}

/// Parses a CONNECT packet (MQTT 3.1.1 sections 2.2 and 3.1): fixed header `0x10`, remaining
/// length as a variable byte integer, then the protocol name and level.
fn parse_mqtt_connect(bytes: &[u8]) -> MqttFirstPacket {
    let Some((&packet_type, rest)) = bytes.split_first() else {
        return MqttFirstPacket::Incomplete;
    };
    // CONNECT with the reserved flags all zero; any other first packet is a protocol error.
    if packet_type != 0x10 {
        return MqttFirstPacket::Unacceptable;
    }
    let mut remaining_length = 0usize;
    let mut length_bytes = 0usize;
    loop {
        // At most four length bytes (section 2.2.3).
        if length_bytes == 4 {
            return MqttFirstPacket::Unacceptable;
        }
        let Some(&byte) = rest.get(length_bytes) else {
            return MqttFirstPacket::Incomplete;
        };
        remaining_length |= usize::from(byte & 0x7f) << (7 * length_bytes);
        length_bytes += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let header_length = 1 + length_bytes;
    if header_length + remaining_length > MAX_REQUEST_BYTES {
        return MqttFirstPacket::Unacceptable;
    }
    let Some(body) = bytes.get(header_length..header_length + remaining_length) else {
        return MqttFirstPacket::Incomplete;
    };
    // Protocol name: a length-prefixed UTF-8 string, "MQTT" (3.1.1, 5) or "MQIsdp" (3.1).
    let Some((name_length, body)) = body.split_first_chunk::<2>() else {
        return MqttFirstPacket::Unacceptable;
    };
    let name_length = usize::from(u16::from_be_bytes(*name_length));
    let (Some(name), Some(&protocol_level)) = (body.get(..name_length), body.get(name_length))
    else {
        return MqttFirstPacket::Unacceptable;
    };
    if name != b"MQTT" && name != b"MQIsdp" {
        return MqttFirstPacket::Unacceptable;
    }
    MqttFirstPacket::Connect { protocol_level }
}

async fn answer_mqtt<S: ByteStream>(stream: &mut S) -> io::Result<()> {
    let mut buffer = Vec::new();
    let protocol_level = loop {
        match parse_mqtt_connect(&buffer) {
            MqttFirstPacket::Connect { protocol_level } => break protocol_level,
            MqttFirstPacket::Unacceptable => return Ok(()),
            MqttFirstPacket::Incomplete => {
                if !read_more(stream, &mut buffer).await? {
                    return Ok(());
                }
            }
        }
    };
    let connack = match protocol_level {
        3 | 4 => MQTT_CONNACK_NOT_AUTHORIZED,
        _ => MQTT_CONNACK_UNACCEPTABLE_PROTOCOL,
    };
    stream.write_all(&connack).await
}

/// `serve --device`: the devices that may connect, and the CN of the client certificate rustls
/// verified against the device CA during the handshake, if one was sent.
#[derive(Clone, Copy)]
struct DeviceLogin<'a> {
    devices: &'a DeviceRegistry,
    certificate_cn: Option<&'a str>,
}

impl DeviceLogin<'_> {
    /// Reads until a whole CONNECT has come, in what `packets` unwraps from the bytes received
    /// so far (`None`: they cannot carry one), and gives its CONNACK return code; `None` when
    /// the client sent something else or left.
    async fn connack<S: ByteStream>(
        &self,
        stream: &mut S,
        packets: impl Fn(&[u8]) -> Option<Vec<u8>>,
    ) -> io::Result<Option<u8>> {
        let mut received = Vec::new();
        loop {
            let Some(packet) = packets(&received) else {
                return Ok(None);
            };
            match mqtt_packet(&packet) {
                Some(Ok((0x10, body, _))) => return Ok(self.connack_code(body)),
                Some(_) => return Ok(None),
                None if !read_more(stream, &mut received).await? => return Ok(None),
                None => {}
            }
        }
    }

    /// The CONNACK return code for a CONNECT's variable header and payload: the registry's
    /// for MQTT 3.1.1 (protocol level 4), 1 (unacceptable protocol version) for any other
    /// level; `None` when the CONNECT cannot be read.
    fn connack_code(&self, body: &[u8]) -> Option<u8> {
        let claims = parse_claims(body)?;
        Some(if body.get(6) == Some(&4) {
            let now = time::OffsetDateTime::now_utc();
            self.devices.return_code(&claims, self.certificate_cn, now)
        } else {
            1
        })
    }
}

/// `serve --device`: CONNACK 0, 4 or 5 by the registry, then a PUBACK per QoS 1 PUBLISH until
/// DISCONNECT or the client leaves.
async fn authenticate_mqtt<S: ByteStream>(
    stream: &mut S,
    login: DeviceLogin<'_>,
) -> io::Result<()> {
    let Some(code) = login.connack(stream, |bytes| Some(bytes.to_vec())).await? else {
        return Ok(());
    };
    stream.write_all(&[0x20, 0x02, 0x00, code]).await?;
    if code != 0 {
        return Ok(());
    }
    let mut buffer = Vec::new();
    loop {
        match mqtt_packet(&buffer) {
            None => {
                if !read_more(stream, &mut buffer).await? {
                    return Ok(());
                }
            }
            Some(Ok((header, body, length))) => {
                // PUBLISH at QoS 1 (section 3.3.1.2): acknowledge its packet identifier.
                if header >> 4 == 3 && (header >> 1) & 0x03 == 1 {
                    let topic_length = body.get(..2).map_or(0, |bytes| {
                        usize::from(u16::from_be_bytes([bytes[0], bytes[1]]))
                    });
                    let Some(id) = body.get(2 + topic_length..4 + topic_length) else {
                        return Ok(());
                    };
                    let puback = [0x40, 0x02, id[0], id[1]];
                    stream.write_all(&puback).await?;
                } else if header == 0xe0 {
                    return Ok(());
                }
                buffer.drain(..length);
            }
            Some(Err(())) => return Ok(()),
        }
    }
}

/// One whole MQTT packet: its first byte, its body, and its length with the fixed header.
type MqttPacket<'a> = (u8, &'a [u8], usize);

/// The whole MQTT packet at the start of `bytes`; `None` while incomplete, `Err` when malformed
/// or over [`MAX_REQUEST_BYTES`].
fn mqtt_packet(bytes: &[u8]) -> Option<Result<MqttPacket<'_>, ()>> {
    let (&header, rest) = bytes.split_first()?;
    let mut remaining = 0usize;
    for (index, &byte) in rest.iter().enumerate().take(4) {
        remaining |= usize::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            let start = 2 + index;
            if start + remaining > MAX_REQUEST_BYTES {
                return Some(Err(()));
            }
            let body = bytes.get(start..start + remaining)?;
            return Some(Ok((header, body, start + remaining)));
        }
    }
    (rest.len() >= 4).then_some(Err(()))
}

async fn answer_amqp<S: ByteStream>(stream: &mut S) -> io::Result<()> {
    let mut header = Vec::new();
    while header.len() < AMQP_SASL_HEADER.len() {
        if !read_more(stream, &mut header).await? {
            return Ok(());
        }
    }
    if !header.starts_with(b"AMQP") {
        return Ok(());
    }
    // Echo for the SASL header; for any other version, the header we do support (section 2.2).
    stream.write_all(&AMQP_SASL_HEADER).await?;
    if header[..AMQP_SASL_HEADER.len()] == AMQP_SASL_HEADER {
        stream
            .write_all(&amqp::encode_sasl_mechanisms(&EDGEHUB_SASL_MECHANISMS))
            .await?;
    }
    Ok(())
}

/// `GET /` gets 404; the MQTT WebSocket upgrade 101, and with `serve --device` the CONNECT in
/// the client's binary frames its CONNACK by the registry (a server frame, RFC 6455 section 5).
async fn answer_https<S: ByteStream>(
    stream: &mut S,
    login: Option<DeviceLogin<'_>>,
) -> io::Result<()> {
    let mut request = Vec::new();
    // Answer once the request head is complete, or once the cap is reached.
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        if !read_more(stream, &mut request).await? {
            break;
        }
    }
    if request.is_empty() {
        return Ok(());
    }
    match websocket_key(&request) {
        Some(key) => {
            let answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
                http::websocket_accept(&key),
                http::WEBSOCKET_SUBPROTOCOL
            );
            stream.write_all(answer.as_bytes()).await?;
            // The CONNECT out of the client's binary frames, its CONNACK in a server frame.
            let frames = |bytes: &[u8]| match websocket::frames_payload(bytes) {
                Ok((payload, false)) => Some(payload),
                _ => None,
            };
            match login {
                Some(login) => match login.connack(stream, frames).await? {
                    Some(code) => stream.write_all(&[0x82, 4, 0x20, 0x02, 0x00, code]).await,
                    None => Ok(()),
                },
                None => Ok(()),
            }
        }
        None => stream.write_all(&with_date(HTTP_NOT_FOUND)).await,
    }
}

/// `answer` with a `Date` header after its status line, as edgeHub's Kestrel (and every
/// HTTP/1.1 origin server with a clock, RFC 9110 §6.6.1) sends it: `device-clock` reads it.
fn with_date(answer: &[u8]) -> Vec<u8> {
    let date = format!(
        "Date: {}\r\n",
        http::format_http_date(time::OffsetDateTime::now_utc())
    );
    let status_end = answer
        .windows(2)
        .position(|window| window == b"\r\n")
        .map_or(answer.len(), |position| position + 2);
    [
        &answer[..status_end],
        date.as_bytes(),
        &answer[status_end..],
    ]
    .concat()
}

/// The Sec-WebSocket-Key of a well-formed upgrade to MQTT over WebSockets at edgeHub's path
/// (RFC 6455 section 4.2.1), or `None` for any other request.
fn websocket_key(request: &[u8]) -> Option<String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    if !parsed.parse(request).ok()?.is_complete()
        || parsed.method != Some("GET")
        || parsed.path != Some(http::WEBSOCKET_PATH)
    {
        return None;
    }
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .and_then(|header| std::str::from_utf8(header.value).ok())
    };
    let upgrade = header("upgrade")?.eq_ignore_ascii_case("websocket");
    let version = header("sec-websocket-version")? == "13";
    let mqtt = header("sec-websocket-protocol")?
        .split(',')
        .any(|protocol| protocol.trim() == http::WEBSOCKET_SUBPROTOCOL);
    (upgrade && version && mqtt).then(|| header("sec-websocket-key").map(str::to_owned))?
}

#[cfg(test)]
mod tests {
    use super::*;

    use rustls::{ClientConfig, RootCertStore};
    use rustls_pki_types::ServerName;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::client::TlsStream;

    use crate::demo::pki::{GatewayPki, Validity, unrelated_root_ca};
    use crate::demo::scenario::{Scenario, prepare};

    const GATEWAY: &str = "gateway.edgeprobe.test";
    /// The rustls client checks validity against the system clock, so the PKI is issued
    /// around it: tests are the edge where the clock is read and passed in.
    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    /// Generous: only reached if the simulator failed to answer or close.
    const CLIENT_DEADLINE: Duration = Duration::from_secs(30);

    /// A 3.1.1 CONNECT for client id "leaf", clean session, keep-alive 60 s.
    const MQTT_CONNECT: &[u8] = &[
        0x10, 16, 0x00, 0x04, b'M', b'Q', b'T', b'T', 4, 0x02, 0x00, 60, 0x00, 0x04, b'l', b'e',
        b'a', b'f',
    ];

    fn client_config(root: &CertificateDer<'static>, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(root.clone()).unwrap();
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        Arc::new(config)
    }

    async fn start_healthy() -> (GatewayPki, RunningGateway) {
        let pki = GatewayPki::generate(GATEWAY, now()).unwrap();
        let config = SimulatorConfig::loopback(pki.server_chain(), pki.server.key_der(), vec![]);
        let gateway = start(config).await.unwrap();
        (pki, gateway)
    }

    /// Connects to 127.0.0.1 directly, with SNI = the gateway name, as a leaf whose DNS
    /// resolved the gateway to loopback would.
    async fn connect(
        gateway: &RunningGateway,
        protocol: Protocol,
        config: Arc<ClientConfig>,
    ) -> io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(gateway.address(protocol)).await?;
        let name = ServerName::try_from(GATEWAY).unwrap();
        TlsConnector::from(config).connect(name, tcp).await
    }

    /// A TLS session without ALPN to a healthy simulator's `protocol` port, trusting its root;
    /// the simulator runs as long as the returned gateway is kept.
    async fn connect_to_healthy(protocol: Protocol) -> (RunningGateway, TlsStream<TcpStream>) {
        let (pki, gateway) = start_healthy().await;
        let tls = connect(&gateway, protocol, client_config(&pki.root.der, &[]))
            .await
            .unwrap();
        (gateway, tls)
    }

    /// The simulator's answer without its `Date` line (the one part that changes), which
    /// must itself be an IMF-fixdate.
    fn without_date(answer: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(answer);
        let mut kept = String::new();
        for line in text.split_inclusive("\r\n") {
            match line.strip_prefix("Date: ") {
                Some(date) => assert!(http::parse_http_date(date.trim_end()).is_some(), "{date}"),
                None => kept.push_str(line),
            }
        }
        kept.into_bytes()
    }

    async fn read_to_end<S: AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
        let mut answer = Vec::new();
        tokio::time::timeout(CLIENT_DEADLINE, stream.read_to_end(&mut answer))
            .await
            .expect("simulator neither answered nor closed")
            .expect("read from simulator");
        answer
    }

    #[tokio::test]
    async fn handshake_succeeds_on_all_three_ports_with_the_full_chain() {
        let (pki, gateway) = start_healthy().await;
        assert_eq!(gateway.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        for protocol in Protocol::ALL {
            assert_ne!(gateway.ports.get(protocol), 0);
            let alpn: &[&[u8]] = match protocol {
                Protocol::Https => &[b"h2", b"http/1.1"],
                _ => &[],
            };
            let tls = connect(&gateway, protocol, client_config(&pki.root.der, alpn))
                .await
                .unwrap_or_else(|error| panic!("{protocol:?} handshake failed: {error}"));
            let (_, session) = tls.get_ref();
            assert_eq!(
                session.peer_certificates(),
                Some(pki.server_chain().as_slice())
            );
            let expected_alpn = matches!(protocol, Protocol::Https).then_some(&b"http/1.1"[..]);
            assert_eq!(session.alpn_protocol(), expected_alpn);
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn closed_port_refuses_and_the_others_stay_open() {
        let setup = prepare(Scenario::PortClosed, GATEWAY, now()).unwrap();
        let config = SimulatorConfig::loopback(setup.server_chain, setup.server_key, setup.closed);
        let gateway = start(config).await.unwrap();
        assert_eq!(gateway.closed, vec![Protocol::Amqp]);
        assert_ne!(gateway.ports.amqp, 0);
        let refused = TcpStream::connect(gateway.address(Protocol::Amqp))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        for protocol in [Protocol::Mqtt, Protocol::Https] {
            TcpStream::connect(gateway.address(protocol)).await.unwrap();
        }
    }

    #[tokio::test]
    async fn mqtt_connect_gets_connack_not_authorized() {
        let (_gateway, mut tls) = connect_to_healthy(Protocol::Mqtt).await;
        // Split in two writes: the simulator must wait for the whole packet.
        tls.write_all(&MQTT_CONNECT[..5]).await.unwrap();
        tls.flush().await.unwrap();
        tls.write_all(&MQTT_CONNECT[5..]).await.unwrap();
        assert_eq!(read_to_end(&mut tls).await, MQTT_CONNACK_NOT_AUTHORIZED);
    }

    #[tokio::test]
    async fn amqp_sasl_header_is_echoed_with_edgehub_mechanisms() {
        let (_gateway, mut tls) = connect_to_healthy(Protocol::Amqp).await;
        tls.write_all(&AMQP_SASL_HEADER).await.unwrap();
        let answer = read_to_end(&mut tls).await;
        assert_eq!(
            amqp::parse_answer(&answer),
            Ok(Some(amqp::SaslOffer {
                mechanisms: vec!["ANONYMOUS".into(), "MSSBCBS".into(), "PLAIN".into()]
            }))
        );
    }

    #[tokio::test]
    async fn websocket_upgrade_for_mqtt_gets_101_and_other_paths_404() {
        let (pki, gateway) = start_healthy().await;
        let config = client_config(&pki.root.der, &[b"http/1.1"]);
        let mut tls = connect(&gateway, Protocol::Https, config.clone())
            .await
            .unwrap();
        let key = http::websocket_key();
        tls.write_all(&http::websocket_request(GATEWAY, &key))
            .await
            .unwrap();
        let answer = read_to_end(&mut tls).await;
        let response = http::parse_response(&answer).unwrap().unwrap();
        let judged = http::judge_upgrade(&response, &key);
        assert!(judged.upgraded, "{judged:?}");
        // The same upgrade without the mqtt subprotocol is not what edgeHub serves.
        let mut tls = connect(&gateway, Protocol::Https, config).await.unwrap();
        let request = String::from_utf8(http::websocket_request(GATEWAY, &key))
            .unwrap()
            .replace(
                "Sec-WebSocket-Protocol: mqtt",
                "Sec-WebSocket-Protocol: chat",
            );
        tls.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(without_date(&read_to_end(&mut tls).await), HTTP_NOT_FOUND);
    }

    #[tokio::test]
    async fn https_get_gets_404_from_the_simulator() {
        let (pki, gateway) = start_healthy().await;
        let config = client_config(&pki.root.der, &[b"http/1.1"]);
        let mut tls = connect(&gateway, Protocol::Https, config).await.unwrap();
        let request = format!("GET /$iothub/websocket HTTP/1.1\r\nHost: {GATEWAY}\r\n\r\n");
        tls.write_all(request.as_bytes()).await.unwrap();
        let answer = String::from_utf8(read_to_end(&mut tls).await).unwrap();
        assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
        assert!(
            answer.contains("\r\nServer: edgeprobe-simulator\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\nContent-Length: 0\r\n"), "{answer}");
    }

    #[tokio::test]
    async fn bad_clients_do_not_stop_the_simulator() {
        let (pki, gateway) = start_healthy().await;
        // A leaf holding the wrong root aborts the handshake.
        let other_root = unrelated_root_ca(Validity::around(now(), 1, 30).unwrap()).unwrap();
        let error = connect(
            &gateway,
            Protocol::Mqtt,
            client_config(&other_root.der, &[]),
        )
        .await
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        // A client that speaks plain text instead of TLS.
        let mut plain = TcpStream::connect(gateway.address(Protocol::Mqtt))
            .await
            .unwrap();
        plain.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut ignored = Vec::new();
        // End of stream or reset: either way the simulator hung up instead of waiting.
        let _ = tokio::time::timeout(CLIENT_DEADLINE, plain.read_to_end(&mut ignored))
            .await
            .expect("simulator kept a non-TLS client open");
        // A CONNECT announcing a 2 MB packet is refused rather than buffered.
        let mut tls = connect(&gateway, Protocol::Mqtt, client_config(&pki.root.der, &[]))
            .await
            .unwrap();
        tls.write_all(&[0x10, 0x80, 0x80, 0x80, 0x01])
            .await
            .unwrap();
        assert_eq!(read_to_end(&mut tls).await, b"");
        // The port still serves a well-behaved leaf.
        let mut tls = connect(&gateway, Protocol::Mqtt, client_config(&pki.root.der, &[]))
            .await
            .unwrap();
        tls.write_all(MQTT_CONNECT).await.unwrap();
        assert_eq!(read_to_end(&mut tls).await, MQTT_CONNACK_NOT_AUTHORIZED);
    }

    /// Issue 12: a client over the cap waits for a slot and is then served; it is never closed
    /// for being one too many. The first connection is held open until the second is queued.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_connection_over_the_cap_waits_and_is_then_served() {
        let pki = GatewayPki::generate(GATEWAY, now()).unwrap();
        let mut config =
            SimulatorConfig::loopback(pki.server_chain(), pki.server.key_der(), vec![]);
        config.max_connections_per_port = 1;
        let gateway = Arc::new(start(config).await.unwrap());
        let client = client_config(&pki.root.der, &[]);
        let mut first = connect(&gateway, Protocol::Mqtt, client.clone())
            .await
            .unwrap();
        // The second handshake cannot finish until the simulator accepts it, so it runs in its
        // own task while the first connection still holds the only slot.
        let second = tokio::spawn({
            let gateway = Arc::clone(&gateway);
            async move {
                let mut tls = connect(&gateway, Protocol::Mqtt, client).await?;
                tls.write_all(MQTT_CONNECT).await?;
                Ok::<_, io::Error>(read_to_end(&mut tls).await)
            }
        });
        first.write_all(MQTT_CONNECT).await.unwrap();
        assert_eq!(read_to_end(&mut first).await, MQTT_CONNACK_NOT_AUTHORIZED);
        drop(first);
        let answer = tokio::time::timeout(CLIENT_DEADLINE, second)
            .await
            .expect("the queued client was never served")
            .unwrap()
            .expect("the queued client was closed instead of served");
        assert_eq!(answer, MQTT_CONNACK_NOT_AUTHORIZED);
    }

    #[tokio::test]
    async fn idle_connection_is_closed_after_its_lifetime() {
        let pki = GatewayPki::generate(GATEWAY, now()).unwrap();
        let mut config =
            SimulatorConfig::loopback(pki.server_chain(), pki.server.key_der(), vec![]);
        config.connection_lifetime = Duration::from_millis(50);
        let gateway = start(config).await.unwrap();
        // Connects but never sends a ClientHello: the simulator must hang up on its own.
        let mut idle = TcpStream::connect(gateway.address(Protocol::Https))
            .await
            .unwrap();
        assert_eq!(read_to_end(&mut idle).await, b"");
    }

    #[tokio::test]
    async fn empty_chain_is_an_error_not_a_panic() {
        let pki = GatewayPki::generate(GATEWAY, now()).unwrap();
        let config = SimulatorConfig::loopback(Vec::new(), pki.server.key_der(), vec![]);
        assert!(matches!(
            start(config).await,
            Err(SimulatorError::EmptyChain)
        ));
        // A key that does not belong to the certificate is refused by rustls up front.
        let config = SimulatorConfig::loopback(pki.server_chain(), pki.root.key_der(), vec![]);
        assert!(matches!(
            start(config).await,
            Err(SimulatorError::Tls { .. })
        ));
    }

    #[test]
    fn mqtt_connect_parser_handles_every_shape_of_input() {
        assert_eq!(parse_mqtt_connect(&[]), MqttFirstPacket::Incomplete);
        assert_eq!(
            parse_mqtt_connect(&MQTT_CONNECT[..MQTT_CONNECT.len() - 1]),
            MqttFirstPacket::Incomplete
        );
        assert_eq!(
            parse_mqtt_connect(MQTT_CONNECT),
            MqttFirstPacket::Connect { protocol_level: 4 }
        );
        // PINGREQ first: not a CONNECT.
        assert_eq!(
            parse_mqtt_connect(&[0xc0, 0x00]),
            MqttFirstPacket::Unacceptable
        );
        // Five length bytes: malformed.
        assert_eq!(
            parse_mqtt_connect(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            MqttFirstPacket::Unacceptable
        );
        // Empty body, and a protocol name running past the packet.
        assert_eq!(
            parse_mqtt_connect(&[0x10, 0x00]),
            MqttFirstPacket::Unacceptable
        );
        assert_eq!(
            parse_mqtt_connect(&[0x10, 0x03, 0x00, 0x09, b'M']),
            MqttFirstPacket::Unacceptable
        );
        let mut mqtt_31 = vec![0x10, 9, 0x00, 0x06];
        mqtt_31.extend_from_slice(b"MQIsdp");
        mqtt_31.push(3);
        assert_eq!(
            parse_mqtt_connect(&mqtt_31),
            MqttFirstPacket::Connect { protocol_level: 3 }
        );
        let mut wrong_name = MQTT_CONNECT.to_vec();
        wrong_name[4] = b'X';
        assert_eq!(
            parse_mqtt_connect(&wrong_name),
            MqttFirstPacket::Unacceptable
        );
    }

    #[tokio::test]
    async fn mqtt_5_connect_gets_unacceptable_protocol_version() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let mut connect = MQTT_CONNECT.to_vec();
        connect[8] = 5;
        client.write_all(&connect).await.unwrap();
        answer_mqtt(&mut server).await.unwrap();
        drop(server);
        assert_eq!(
            read_to_end(&mut client).await,
            MQTT_CONNACK_UNACCEPTABLE_PROTOCOL
        );
    }

    #[tokio::test]
    async fn other_amqp_versions_get_the_sasl_header_and_non_amqp_gets_nothing() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(b"AMQP\x00\x01\x00\x00").await.unwrap();
        answer_amqp(&mut server).await.unwrap();
        drop(server);
        assert_eq!(read_to_end(&mut client).await, AMQP_SASL_HEADER);

        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(b"HTTP/1.1").await.unwrap();
        answer_amqp(&mut server).await.unwrap();
        drop(server);
        assert_eq!(read_to_end(&mut client).await, b"");
    }

    #[tokio::test]
    async fn oversized_http_head_is_cut_at_the_cap_and_still_answered() {
        let (mut client, mut server) = tokio::io::duplex(2 * MAX_REQUEST_BYTES);
        client
            .write_all(&[b'a'; 2 * MAX_REQUEST_BYTES])
            .await
            .unwrap();
        answer_https(&mut server, None).await.unwrap();
        drop(server);
        assert_eq!(
            without_date(&read_to_end(&mut client).await),
            HTTP_NOT_FOUND
        );
    }
}
