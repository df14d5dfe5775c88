//! Local listeners on 127.0.0.1 that misbehave the ways field gateways do, before TLS (a
//! service that never answers, plaintext HTTP, random bytes, a TLS alert, a reset) and after
//! it (silence, garbage, a close, a reset, another protocol). For each, the report names the
//! specific finding, the binary exits 1 (never 101, a panic) and reaches a verdict within its
//! timeout. Durations are never asserted.

use std::sync::Arc;
use std::time::Duration;

use edgeprobe::pki::load::{load_certificates, load_private_key};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::harness::{Report, Run, assert_contains, check_loopback, fixture, run};

const GATEWAY: &str = "gateway.edgeprobe.test";

/// What a listener does with each connection before any TLS.
#[derive(Debug, Clone, Copy)]
enum BeforeTls {
    /// Accepts and never says a word.
    Silent,
    /// A web server without TLS: `HTTP/1.1 400 Bad Request`.
    PlaintextHttp,
    /// 64 KiB of random bytes.
    RandomBytes,
    /// A fatal `handshake_failure` alert record (RFC 8446 section 6): 15 03 03 00 02 02 28.
    TlsAlert,
    /// Closes with SO_LINGER 0, so the kernel sends a TCP reset.
    Reset,
    /// Reads the ClientHello, then closes without a word.
    ReadAndClose,
    /// Drips the start of a TLS handshake record, one byte a second (a slowloris server).
    Drip,
}

/// What a listener does after a successful TLS handshake with the fixture chain.
#[derive(Debug, Clone, Copy)]
enum AfterTls {
    Silent,
    RandomBytes,
    /// close_notify right after the handshake.
    Close,
    Reset,
    /// An HTTP answer whatever the port.
    HttpAnswer,
    /// The header an AMQP 0-9-1 broker (RabbitMQ) answers an unsupported header with.
    Amqp091Header,
}

const PLAINTEXT_HTTP: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const TLS_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// 64 KiB from a fixed xorshift sequence, so every run sends the same bytes. The first byte is
/// pinned to 0x9c: it starts no TLS record, MQTT CONNACK, `AMQP` or `HTTP`.
fn random_bytes() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    bytes[0] = 0x9c;
    bytes
}

/// Reads until the peer closes, bounded, so that closing never discards unread data (which
/// would turn a clean close into a reset).
async fn drain<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while matches!(stream.read(&mut sink).await, Ok(read) if read > 0) {}
    })
    .await;
}

#[allow(deprecated)] // SO_LINGER 0 resets at once; tokio warns about linger > 0 blocking.
fn reset(socket: TcpStream) {
    let _ = socket.set_linger(Some(Duration::ZERO));
    drop(socket);
}

async fn misbehave_before_tls(mut socket: TcpStream, behaviour: BeforeTls) {
    let mut client_hello = [0u8; 4096];
    match behaviour {
        BeforeTls::Silent => drain(&mut socket).await,
        BeforeTls::Reset => reset(socket),
        BeforeTls::ReadAndClose => {
            let _ = socket.read(&mut client_hello).await;
            let _ = socket.shutdown().await;
        }
        BeforeTls::Drip => {
            let _ = socket.read(&mut client_hello).await;
            // A handshake record header announcing a 16 KiB ServerHello that never comes.
            for byte in [
                0x16u8, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00, 0x3f, 0xfc, 0x03, 0x03,
            ] {
                if socket.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            drain(&mut socket).await;
        }
        BeforeTls::PlaintextHttp | BeforeTls::RandomBytes | BeforeTls::TlsAlert => {
            let _ = socket.read(&mut client_hello).await;
            let answer = match behaviour {
                BeforeTls::PlaintextHttp => PLAINTEXT_HTTP.to_vec(),
                BeforeTls::TlsAlert => TLS_ALERT.to_vec(),
                _ => random_bytes(),
            };
            // The client may hang up after the first bytes; that is its right.
            let _ = socket.write_all(&answer).await;
            drain(&mut socket).await;
        }
    }
}

async fn misbehave_after_tls(socket: TcpStream, acceptor: TlsAcceptor, behaviour: AfterTls) {
    let Ok(mut tls) = acceptor.accept(socket).await else {
        return;
    };
    let mut request = [0u8; 4096];
    match behaviour {
        AfterTls::Silent => drain(&mut tls).await,
        AfterTls::Close => {
            let _ = tls.shutdown().await;
        }
        AfterTls::Reset => reset(tls.into_inner().0),
        AfterTls::RandomBytes | AfterTls::HttpAnswer | AfterTls::Amqp091Header => {
            let _ = tls.read(&mut request).await;
            let answer = match behaviour {
                AfterTls::HttpAnswer => PLAINTEXT_HTTP.to_vec(),
                AfterTls::Amqp091Header => b"AMQP\x00\x00\x09\x01".to_vec(),
                _ => random_bytes(),
            };
            let _ = tls.write_all(&answer).await;
            let _ = tls.flush().await;
            drain(&mut tls).await;
        }
    }
}

/// A listener on 127.0.0.1:0 serving each connection with `serve`; returns its port.
async fn listen<F, Fut>(serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket));
        }
    });
    port
}

fn acceptor() -> TlsAcceptor {
    let chain = load_certificates(&fixture("server-full-chain.pem")).expect("fixture chain");
    let key = load_private_key(&fixture("server.key.pem")).expect("fixture key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("fixture chain and key match");
    TlsAcceptor::from(Arc::new(config))
}

/// `edgeprobe check` with all three ports on listeners, a short timeout, JSON out.
async fn check(ports: [u16; 3]) -> Run {
    check_loopback(ports, &fixture("root-ca.pem"), "1s", &[]).await
}

/// The run failed on findings, not on a crash.
fn assert_clean_failure(output: &Run) -> Report {
    assert_ne!(output.code, 101, "edgeprobe panicked:\n{}", output.all());
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
    assert_eq!(output.code, 1, "{}", output.all());
    output.json()
}

async fn before_tls(behaviour: BeforeTls) -> Report {
    let mut ports = [0u16; 3];
    for port in &mut ports {
        *port = listen(move |socket| misbehave_before_tls(socket, behaviour)).await;
    }
    assert_clean_failure(&check(ports).await)
}

/// Check `id` failed with error `kind`, and its text contains `message_part`.
#[track_caller]
fn assert_error_kind(report: &Report, id: &str, kind: &str, message_part: &str) {
    assert_eq!(report.result(id), "error", "{id}: {}", report.text_of(id));
    assert_eq!(
        report.check(id).additional_info["error"],
        kind,
        "{id}: {}",
        report.text_of(id)
    );
    assert!(
        report.text_of(id).contains(message_part),
        "{id}: `{message_part}` missing from {}",
        report.text_of(id)
    );
}

/// Each connect check failed with `kind`; the probes behind them were skipped.
fn assert_connect_errors(report: &Report, kind: &str, message_part: &str) {
    for protocol in ["mqtt", "amqp", "https"] {
        assert_error_kind(
            report,
            &format!("gateway-connect-{protocol}"),
            kind,
            message_part,
        );
        assert_eq!(
            report.result(&format!("gateway-protocol-{protocol}")),
            "skipped"
        );
    }
}

/// Every way a listener can fail the TLS handshake, the error kind each connect check reports
/// and a part of its message. The deadline covers the whole handshake, not each read: a slow
/// drip cannot extend it.
#[tokio::test(flavor = "multi_thread")]
async fn each_failure_before_tls_is_named_on_every_port() {
    for (behaviour, kind, message_part) in [
        (
            BeforeTls::ReadAndClose,
            "closed",
            "closed the connection during the TLS handshake",
        ),
        (
            BeforeTls::Drip,
            "handshake_timeout",
            "sent no TLS handshake within 1 s",
        ),
        (
            BeforeTls::Silent,
            "handshake_timeout",
            "sent no TLS handshake within 1 s",
        ),
        (
            BeforeTls::PlaintextHttp,
            "not_tls",
            "`HTTP/1.1 400 Bad Request`",
        ),
        (BeforeTls::RandomBytes, "not_tls", "bytes 9c"),
        (BeforeTls::TlsAlert, "tls_alert", "handshake_failure"),
        (BeforeTls::Reset, "reset", "reset the connection"),
    ] {
        let report = before_tls(behaviour).await;
        assert_connect_errors(&report, kind, message_part);
    }
}

async fn after_tls(behaviour: AfterTls) -> Report {
    let acceptor = acceptor();
    let mut ports = [0u16; 3];
    for port in &mut ports {
        let acceptor = acceptor.clone();
        *port =
            listen(move |socket| misbehave_after_tls(socket, acceptor.clone(), behaviour)).await;
    }
    let report = assert_clean_failure(&check(ports).await);
    // TLS itself was fine on every port: only the protocol layer misbehaves.
    for protocol in ["mqtt", "amqp", "https"] {
        let id = format!("gateway-connect-{protocol}");
        assert_eq!(report.result(&id), "ok", "{id}: {}", report.text_of(&id));
    }
    report
}

/// The probe on `protocol` failed with `kind`, and its message contains `message_part`.
fn assert_probe_error(report: &Report, protocol: &str, kind: &str, message_part: &str) {
    let id = format!("gateway-protocol-{protocol}");
    assert_error_kind(report, &id, kind, message_part);
    assert!(report.check(&id).remedy.is_some(), "{id} has a remedy");
}

/// [`assert_probe_error`] on every port's probe.
fn assert_probe_errors(report: &Report, kind: &str, message_part: &str) {
    for protocol in ["mqtt", "amqp", "https"] {
        assert_probe_error(report, protocol, kind, message_part);
    }
}

/// Silence, a close or a reset after a good handshake: the same error on every protocol.
#[tokio::test(flavor = "multi_thread")]
async fn silence_close_or_reset_after_tls_is_named_on_every_protocol() {
    for (behaviour, kind, message_part) in [
        (AfterTls::Silent, "no_answer", "sent no answer within 1 s"),
        (
            AfterTls::Close,
            "closed",
            "closed the connection without answering",
        ),
        (AfterTls::Reset, "reset", "reset the connection"),
    ] {
        let report = after_tls(behaviour).await;
        assert_probe_errors(&report, kind, message_part);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_after_tls_is_not_the_protocol() {
    let report = after_tls(AfterTls::RandomBytes).await;
    assert_probe_error(&report, "mqtt", "not_mqtt", "instead of an MQTT CONNACK");
    assert_probe_error(
        &report,
        "amqp",
        "not_amqp",
        "instead of an AMQP protocol header",
    );
    assert_probe_error(&report, "https", "not_http", "instead of an HTTP response");
    assert_eq!(
        report.check("gateway-protocol-mqtt").additional_info["received"],
        "bytes 9c 02 e5 36 a1 4e d6 1a b0 49 b8 56 ad d6 3f fc ...",
        "what came back is shown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_behind_the_mqtt_and_amqp_ports_is_named() {
    let report = after_tls(AfterTls::HttpAnswer).await;
    assert_probe_error(
        &report,
        "mqtt",
        "not_mqtt",
        "answered `HTTP/1.1 400 Bad Request` instead of an MQTT CONNACK",
    );
    assert_probe_error(&report, "amqp", "not_amqp", "`HTTP/1.1 400 Bad Request`");
    // On the HTTPS port, any status proves an HTTP server.
    assert_eq!(report.result("gateway-protocol-https"), "ok");
    report.assert_text_contains(
        "gateway-protocol-https",
        "answered GET / with HTTP/1.1 400 Bad Request (Server: nginx)",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn amqp_0_9_1_broker_is_named() {
    let report = after_tls(AfterTls::Amqp091Header).await;
    assert_probe_error(&report, "amqp", "other_protocol", "speaks AMQP 0-9-1");
    assert!(
        report
            .check("gateway-protocol-amqp")
            .remedy
            .as_deref()
            .is_some_and(|remedy| remedy.contains("RabbitMQ")),
        "{:?}",
        report.check("gateway-protocol-amqp").remedy
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_probe_names_the_amqp_version_and_exits_1() {
    let acceptor = acceptor();
    let port = listen(move |socket| {
        misbehave_after_tls(socket, acceptor.clone(), AfterTls::Amqp091Header)
    })
    .await;
    let args: Vec<String> = vec![
        "connect".into(),
        format!("{GATEWAY}:{port}"),
        "--resolve".into(),
        format!("{GATEWAY}:127.0.0.1"),
        "--ca-file".into(),
        fixture("root-ca.pem").display().to_string(),
        "--probe".into(),
        "--protocol".into(),
        "amqp".into(),
        "--brief".into(),
        "--timeout".into(),
        "1s".into(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .expect("the binary ran");
    assert_eq!(output.code, 1, "{}", output.all());
    assert_contains(&output.stdout, "Verification: OK");
    assert!(
        output.stdout.contains(
            "Protocol probe (AMQP 1.0 SASL header) failed: the server speaks AMQP 0-9-1, not AMQP 1.0 with SASL"
        ),
        "{}",
        output.stdout
    );
}
