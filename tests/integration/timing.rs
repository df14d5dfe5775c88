//! Time is bounded by the longest dependency path, not the sum of the checks: three ports that
//! accept and never answer cost one timeout, not three. Measured on tokio's paused clock, so
//! the assertion is about the engine's structure and cannot flake on a loaded machine; the
//! wall-clock figure lives in the benchmark.

use std::time::Duration;

use edgeprobe::checks::leaf_registry;
use edgeprobe::engine::{Context, Ports, Selection, Status, run_checks};
use tokio::net::TcpListener;

use crate::harness::CONNECT_CHECKS;

/// A listener that accepts connections and never says a word, like a hung edgeHub.
async fn silent_listener() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

#[tokio::test(start_paused = true)]
async fn three_silent_ports_cost_one_timeout() {
    let timeout = Duration::from_secs(5);
    let mut context = Context::for_gateway("gateway.edgeprobe.test");
    context.leaf.resolve_overrides.insert(
        "gateway.edgeprobe.test".into(),
        vec!["127.0.0.1".parse().expect("ip")],
    );
    context.leaf.ca_file = Some(crate::harness::fixture("root-ca.pem"));
    context.leaf.ports = Ports {
        mqtt: silent_listener().await,
        amqp: silent_listener().await,
        https: silent_listener().await,
    };
    context.leaf.timeout = timeout;
    let selection = Selection {
        only: CONNECT_CHECKS.map(String::from).to_vec(),
        skip: vec![],
    };

    let started = tokio::time::Instant::now();
    let report = run_checks(&leaf_registry(), &context, &selection)
        .await
        .expect("valid selection");
    let elapsed = started.elapsed();

    for id in CONNECT_CHECKS {
        let check = report.get(id).expect("check ran");
        assert_eq!(
            check.outcome.status,
            Status::Error,
            "{id}: {}",
            check.outcome.message
        );
        assert!(
            check.outcome.message.contains("within") || check.outcome.message.contains("timed out"),
            "{id}: {}",
            check.outcome.message
        );
    }
    // Sequential probing would take at least 3 timeouts of virtual time.
    assert!(
        elapsed < timeout * 2,
        "three silent ports took {elapsed:?} of virtual time with a {timeout:?} timeout"
    );
    assert!(
        elapsed >= timeout,
        "the verdict cannot come before the deadline: {elapsed:?}"
    );
}
