//! TCP connect and TLS handshake to one gateway port. (stub: being written)

use std::net::SocketAddr;
use std::time::Duration;

use rustls_pki_types::CertificateDer;

use super::Protocol;

/// What one completed handshake showed.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub protocol: Protocol,
    pub server_name: String,
    pub address: SocketAddr,
    pub tls_version: String,
    pub cipher_suite: String,
    pub alpn: Option<String>,
    pub connect_time: Duration,
    pub handshake_time: Duration,
    /// The certificates exactly as the server sent them, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
}
