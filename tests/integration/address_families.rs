//! Both address families (issue 14, RFC 8305): every address the gateway name resolves to is
//! raced as device stacks do, IPv6 first, so an IPv6 address that drops SYNs no longer hides a
//! working IPv4 one. The black hole is real: a listener on [::1] whose accept queue is full
//! (backlog 0, filled, never accepted) makes the kernel drop further SYNs.

use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::harness::{
    LOOPBACK_GATEWAY, assert_some_contains, check_loopback, fixture, fixture_gateway, run,
    temp_file,
};

/// A listener on [::1]:`port` that never accepts, and the connections that fill its queue:
/// from then on the kernel drops every SYN to it (tcp_abort_on_overflow is 0 by default).
pub struct BlackHole {
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
}

impl BlackHole {
    pub async fn on_ipv6_loopback(port: u16) -> BlackHole {
        let socket = TcpSocket::new_v6().expect("IPv6 socket");
        socket
            .bind(format!("[::1]:{port}").parse().expect("address"))
            .expect("bind [::1] (the tests need IPv6 on loopback)");
        let listener = socket.listen(0).expect("listen");
        let mut queued = Vec::new();
        // Fill the accept queue until a connect stalls: that SYN, and every later one, is
        // dropped. A handful of connections at most (Linux queues backlog + 1).
        for _ in 0..8 {
            match tokio::time::timeout(
                Duration::from_millis(300),
                TcpStream::connect(("::1", port)),
            )
            .await
            {
                Ok(Ok(stream)) => queued.push(stream),
                _ => break,
            }
        }
        assert!(!queued.is_empty(), "the accept queue could not be filled");
        BlackHole {
            _listener: listener,
            _queued: queued,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_black_holed_ipv6_address_does_not_hide_a_working_ipv4_one() {
    let gateway = fixture_gateway().await;
    let ports = [gateway.ports.mqtt, gateway.ports.amqp, gateway.ports.https];
    let mut holes = Vec::new();
    for port in ports {
        holes.push(BlackHole::on_ipv6_loopback(port).await);
    }
    let both = format!("{LOOPBACK_GATEWAY}:[::1]");
    let output = check_loopback(ports, &fixture("root-ca.pem"), "3s", &["--resolve", &both]).await;
    let report = output.json();
    for id in [
        "gateway-connect-mqtt",
        "gateway-connect-amqp",
        "gateway-connect-https",
    ] {
        let check = report.expect(id, "warning", "connected to 127.0.0.1");
        let attempts = check.additional_info["attempts"]
            .as_array()
            .expect("attempts");
        let tried: Vec<(&str, &str)> = attempts
            .iter()
            .map(|attempt| {
                (
                    attempt["address"].as_str().unwrap_or_default(),
                    attempt["result"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let port = check.additional_info["port"].as_u64().expect("port");
        assert_eq!(
            tried,
            [
                (format!("[::1]:{port}").as_str(), "abandoned"),
                (format!("127.0.0.1:{port}").as_str(), "connected"),
            ],
            "{id}"
        );
        let text = report.text_of(id);
        assert!(
            text.contains("[::1]") && text.contains("abandoned"),
            "{text}"
        );
        assert_some_contains(check.remedy.as_deref(), "::1 drops connections");
    }
    // The port's chain was still judged: the connection over IPv4 was a real one.
    assert_eq!(
        report.result("gateway-cert-chain"),
        "ok",
        "{}",
        output.all()
    );
    drop(holes);
}

/// `connect` reports a gateway it cannot resolve or reach as a finding (exit 1, as `check`
/// does), listing every address tried; 2 stays for usage errors.
#[tokio::test(flavor = "multi_thread")]
async fn connect_exits_1_when_the_gateway_is_unreachable_or_unresolved() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address").port()
    };
    let hole = BlackHole::on_ipv6_loopback(closed).await;
    let directory = tempfile::tempdir().expect("tempdir");
    let hosts = directory.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("::1 {LOOPBACK_GATEWAY}\n127.0.0.1 {LOOPBACK_GATEWAY}\n"),
    )
    .expect("hosts file");
    let dns = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent_dns = dns.local_addr().expect("address").to_string();
    let root = fixture("root-ca.pem").display().to_string();
    let hosts = hosts.display().to_string();
    let target = format!("{LOOPBACK_GATEWAY}:{closed}");
    let unresolved = format!("missing.edgeprobe.test:{closed}");
    let runs = tokio::task::spawn_blocking(move || {
        let common = [
            "--ca-file",
            &root,
            "--hosts-file",
            &hosts,
            "--timeout",
            "1s",
        ];
        let reached = run(&[&["connect", &target][..], &common].concat());
        let json = run(&[&["connect", &target, "--output", "json"][..], &common].concat());
        let lookup = run(&[
            &["connect", &unresolved, "--dns-server", &silent_dns][..],
            &common,
        ]
        .concat());
        (reached, json, lookup)
    })
    .await
    .expect("the binary ran");
    let (reached, json, lookup) = runs;
    assert_eq!(reached.code, 1, "{}", reached.all());
    reached.assert_stdout_contains(&format!("tried: connection to 127.0.0.1:{closed} refused"));
    reached.assert_stdout_contains(&format!("[::1]:{closed} timed out"));
    reached.assert_stdout_contains("Fix: ");

    assert_eq!(json.code, 1, "{}", json.all());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let results: Vec<&str> = value["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter_map(|attempt| attempt["result"].as_str())
        .collect();
    assert_eq!(results, ["connect_timeout", "refused"], "{value}");

    assert_eq!(lookup.code, 1, "{}", lookup.all());
    lookup.assert_stdout_contains("missing.edgeprobe.test");
    drop((hole, dns));
}

/// What edgeprobe resolved is compared with getaddrinfo, what SDKs call: a hosts file that
/// says otherwise than the device's own resolver is a warning naming both answers. Only
/// `localhost` is asked, which the system answers from /etc/hosts: nothing leaves loopback.
#[test]
fn an_answer_unlike_the_system_resolvers_is_named() {
    let (_directory, hosts) = temp_file("hosts", "127.0.0.2 localhost\n");
    let output = run(&[
        "check",
        "--gateway",
        "localhost",
        "--hosts-file",
        &hosts.display().to_string(),
        "--only",
        "gateway-resolve",
        "--output",
        "json",
    ]);
    let report = output.json();
    let check = report.expect(
        "gateway-resolve",
        "warning",
        "but the system resolver (getaddrinfo, what device SDKs call) answers ",
    );
    assert!(
        check
            .message
            .starts_with("`localhost` resolves to 127.0.0.2 (from hosts file ")
            && check.message.contains("127.0.0.1"),
        "{}",
        check.message
    );
    assert_some_contains(check.remedy.as_deref(), "getent ahosts localhost");
}
