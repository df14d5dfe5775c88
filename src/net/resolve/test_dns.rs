//! A DNS server on 127.0.0.1 for the resolver's tests: answers built by hand from RFC 1035,
//! every query counted, so a test can prove DNS was (or was not) asked.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;

use super::{Resolution, ResolutionSource, ResolveError, ResolverSettings, resolve_gateway};

// Addresses from the documentation ranges (RFC 5737, RFC 3849): they only ever appear as
// data in answers; nothing is sent to them.
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
pub const GATEWAY_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);

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
pub struct TestDnsServer {
    pub address: SocketAddr,
    queries: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TestDnsServer {
    pub async fn start() -> TestDnsServer {
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

    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for TestDnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The start most resolver tests share: a test DNS server, a fresh directory for the hosts file
/// and resolv.conf, and [`settings`] that ask only that server.
pub async fn serve() -> (TestDnsServer, tempfile::TempDir, ResolverSettings) {
    let server = TestDnsServer::start().await;
    let directory = tempfile::tempdir().expect("temporary directory");
    let settings = settings(server.address, &directory);
    (server, directory, settings)
}

/// [`serve`] with a hosts file that holds `hosts`.
pub async fn serve_with_hosts(hosts: &str) -> (TestDnsServer, tempfile::TempDir, ResolverSettings) {
    let (server, directory, settings) = serve().await;
    std::fs::write(&settings.hosts_file, hosts).expect("write the test hosts file");
    (server, directory, settings)
}

/// Resolves `name`, which must succeed from `source` with `addresses` without a DNS query.
pub async fn assert_answered_locally(
    name: &str,
    settings: &ResolverSettings,
    server: &TestDnsServer,
    addresses: &[IpAddr],
    source: ResolutionSource,
) -> Resolution {
    let resolution = resolve_gateway(name, settings).await.unwrap();
    assert_eq!(resolution.addresses, addresses);
    assert_eq!(resolution.source, source);
    assert_eq!(server.queries(), 0, "`{name}` was looked up in DNS");
    resolution
}

/// Settings that can only reach `dns_server` (never the system resolver), with a hosts file
/// that does not exist unless a test writes one.
pub fn settings(dns_server: SocketAddr, directory: &tempfile::TempDir) -> ResolverSettings {
    ResolverSettings {
        hosts_file: directory.path().join("hosts"),
        resolv_conf: directory.path().join("resolv.conf"),
        dns_server: Some(dns_server),
        overrides: BTreeMap::new(),
        timeout: Duration::from_secs(5),
    }
}

pub async fn resolve_error(name: &str, settings: &ResolverSettings) -> ResolveError {
    match resolve_gateway(name, settings).await {
        Ok(resolution) => panic!("expected `{name}` to fail, got {resolution:?}"),
        Err(failure) => failure.error,
    }
}
