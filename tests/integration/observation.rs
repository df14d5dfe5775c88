//! One observation per port (issue 12): a full leaf check opens one TCP connection and one TLS
//! handshake per port, reads the protocol's answer on that connection, and says so in its
//! JSON; its titles name the ports actually probed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use edgeprobe::demo::server::RunningGateway;
use edgeprobe::net::Protocol;
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{
    Run, assert_contains, check_loopback, fixture, fixture_gateway as gateway, run,
};

/// `check` on loopback `ports` trusting the fixtures' root, with `extra`.
async fn check_fixture_root(ports: [u16; 3], extra: &[&str]) -> Run {
    check_loopback(ports, &fixture("root-ca.pem"), "5s", extra).await
}

/// A TCP relay on 127.0.0.1 in front of `backend` that counts the connections it accepts.
struct CountingRelay {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl CountingRelay {
    async fn start(backend: SocketAddr) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        CountingRelay { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn relays(gateway: &RunningGateway) -> Vec<CountingRelay> {
    let mut relays = Vec::new();
    for protocol in Protocol::ALL {
        relays.push(CountingRelay::start(gateway.address(protocol)).await);
    }
    relays
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_leaf_check_opens_one_connection_per_port() {
    let gateway = gateway().await;
    let relays = relays(&gateway).await;
    let ports = [relays[0].port, relays[1].port, relays[2].port];
    let output = check_fixture_root(ports, &[]).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_eq!(
        report.summary.error + report.summary.warning,
        0,
        "{:#?}",
        report.checks
    );
    for protocol in ["mqtt", "amqp", "https"] {
        assert_eq!(report.result(&format!("gateway-protocol-{protocol}")), "ok");
    }
    let accepted: Vec<usize> = relays.iter().map(CountingRelay::accepted).collect();
    assert_eq!(
        accepted,
        [1, 1, 1],
        "one TCP connection (and one handshake) per port, answer read on it"
    );
    assert_eq!(accepted.iter().sum::<usize>(), 3);

    // The connect checks carry the observation: the address tried, the key exchange, the chain
    // described once, and the protocol's answer read on the same connection.
    for protocol in ["mqtt", "amqp", "https"] {
        let info = &report
            .check(&format!("gateway-connect-{protocol}"))
            .additional_info;
        assert_eq!(info["attempts"].as_array().map(Vec::len), Some(1), "{info}");
        assert_eq!(info["attempts"][0]["result"], "connected", "{info}");
        assert!(info["key_exchange_group"].is_string(), "{info}");
        assert!(info["connect_ms"].is_number(), "{info}");
        assert_eq!(
            info["chain"]["certificates"].as_array().map(Vec::len),
            Some(3),
            "{info}"
        );
        assert_eq!(info["answer"]["result"], "answered", "{info}");
    }

    // --websocket's upgrade is a request of its own, on a connection of its own, on 443 only.
    let output = check_fixture_root(ports, &["--websocket"]).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let accepted: Vec<usize> = relays.iter().map(CountingRelay::accepted).collect();
    assert_eq!(
        accepted,
        [2, 2, 3],
        "one more run, plus the WebSocket upgrade on 443"
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_reads_no_answer_sends_no_request() {
    let gateway = gateway().await;
    let relays = relays(&gateway).await;
    let ports = [relays[0].port, relays[1].port, relays[2].port];
    let output = check_fixture_root(ports, &["--skip", "gateway-protocol-mqtt"]).await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_eq!(report.result("gateway-protocol-mqtt"), "ignored");
    assert!(
        report.check("gateway-connect-mqtt").additional_info["answer"].is_null(),
        "no CONNECT was sent for a skipped protocol check"
    );
    assert_eq!(
        report.check("gateway-connect-amqp").additional_info["answer"]["result"],
        "answered"
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn titles_name_the_ports_probed() {
    let gateway = gateway().await;
    let ports = gateway.ports;
    let output =
        check_fixture_root([ports.mqtt, ports.amqp, ports.https], &["--output", "text"]).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let text = &output.stdout;
    for (name, port) in [
        ("MQTT", ports.mqtt),
        ("AMQP", ports.amqp),
        ("HTTPS", ports.https),
    ] {
        assert_contains(
            text,
            &format!("gateway accepts TLS connections on the {name} port ({port}) - OK"),
        );
    }
    assert_contains(
        text,
        &format!(
            "an MQTT broker answers behind the MQTT port ({}) - OK",
            ports.mqtt
        ),
    );
    for default in ["(8883)", "(5671)", "(443)"] {
        assert!(!text.contains(default), "`{default}` in {text}");
    }
    // The JSON's descriptions are the same titles.
    let output = check_fixture_root([ports.mqtt, ports.amqp, ports.https], &[]).await;
    let report = output.json();
    assert_eq!(
        report.check("gateway-protocol-amqp").description,
        format!(
            "an AMQP 1.0 server answers behind the AMQP port ({})",
            ports.amqp
        )
    );
    // The registry's own text (list, explain, man page) names the defaults.
    let list = run(&["list"]);
    assert_contains(
        &list.stdout,
        "gateway accepts TLS connections on the MQTT port (8883)",
    );
    gateway.shutdown().await;
}
