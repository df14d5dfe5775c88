//! `edgeprobe serve` as a technician runs it: the real binary on loopback ports it picks, the
//! printed ports and root CA used by `edgeprobe check`, and a clean stop on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::harness::{
    NOT_THIS_MACHINES_SDKS, assert_contains, edgeprobe, fixture, run, signal_and_wait,
    spawn_with_stdout,
};

const GATEWAY: &str = "gateway.edgeprobe.test";

/// Bound on waiting for the server's banner and for its exit.
const DEADLINE: Duration = Duration::from_secs(20);

/// A running `edgeprobe serve`, killed if the test ends without stopping it.
pub(crate) struct Serving {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Everything printed up to "Press Ctrl-C to stop."
    banner: Vec<String>,
}

impl Serving {
    pub(crate) fn start(args: &[&str]) -> Serving {
        let mut command = edgeprobe();
        command
            .arg("serve")
            .args(["--port", "mqtt=0", "--port", "amqp=0", "--port", "https=0"])
            .args(args);
        let (child, stdout) = spawn_with_stdout(&mut command, "edgeprobe serve", Stdio::piped());
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut serving = Serving {
            child,
            lines,
            banner: Vec::new(),
        };
        let started = Instant::now();
        while serving.banner.last().map(String::as_str) != Some("Press Ctrl-C to stop.") {
            let left = DEADLINE.saturating_sub(started.elapsed());
            match serving.lines.recv_timeout(left) {
                Ok(line) => serving.banner.push(line),
                Err(_) => panic!("serve printed no banner: {:?}", serving.banner),
            }
        }
        serving
    }

    /// The port printed for `label` (`MQTTS  127.0.0.1:40001`).
    pub(crate) fn port(&self, label: &str) -> u16 {
        let line = self
            .banner
            .iter()
            .find(|line| line.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("no {label} line in {:?}", self.banner));
        let address = line.split_whitespace().nth(1).expect("address");
        assert!(address.starts_with("127.0.0.1:"), "loopback only: {line}");
        address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("port")
    }

    fn line_starting(&self, prefix: &str) -> &str {
        self.banner
            .iter()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {:?}", self.banner))
    }

    fn check(&self, ca_file: &str, extra: &[&str]) -> crate::harness::Run {
        let mut args = vec![
            "check".to_owned(),
            "--gateway".into(),
            GATEWAY.into(),
            "--resolve".into(),
            format!("{GATEWAY}:127.0.0.1"),
            "--ca-file".into(),
            ca_file.into(),
            "--timeout".into(),
            "5s".into(),
            "--output".into(),
            "json".into(),
        ];
        args.extend(NOT_THIS_MACHINES_SDKS.map(str::to_owned));
        for (protocol, label) in [("mqtt", "MQTTS"), ("amqp", "AMQPS"), ("https", "HTTPS")] {
            args.push("--port".into());
            args.push(format!("{protocol}={}", self.port(label)));
        }
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn generated_pki_serves_a_healthy_gateway_and_stops_on_ctrl_c() {
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().join("root.pem");
    let root_text = root.display().to_string();
    let mut serving = Serving::start(&["--ca-out", &root_text]);
    assert_eq!(
        serving.line_starting("root CA for the leaf: "),
        format!("root CA for the leaf: {root_text}")
    );
    assert!(
        serving
            .line_starting("try: edgeprobe check --gateway gateway.edgeprobe.test")
            .contains(&root_text)
    );

    let output = serving.check(&root_text, &["--websocket"]);
    assert_eq!(output.code, 0, "{}", output.all());
    let report = output.json();
    assert_eq!(
        report.summary.error + report.summary.warning,
        0,
        "{}",
        output.stdout
    );
    report.assert_text_contains("gateway-protocol-https", "101 Switching Protocols");

    // Ctrl-C is SIGINT.
    let status = signal_and_wait(&mut serving.child, "-INT", DEADLINE);
    assert!(status.success(), "Ctrl-C is a clean stop: {status}");
    // The reader thread forwards what is left and ends at end of output.
    let mut rest = Vec::new();
    while let Ok(line) = serving.lines.recv_timeout(DEADLINE) {
        rest.push(line);
    }
    assert_eq!(rest, ["stopped"]);
}

#[test]
fn given_chain_and_key_are_served() {
    let chain = fixture("server-full-chain.pem").display().to_string();
    let key = fixture("server.key.pem").display().to_string();
    let serving = Serving::start(&["--cert", &chain, "--key", &key]);
    assert!(
        serving
            .line_starting("try: ")
            .contains("--gateway gateway.edgeprobe.test"),
        "the name comes from the certificate: {:?}",
        serving.banner
    );
    let output = serving.check(&fixture("root-ca.pem").display().to_string(), &[]);
    assert_eq!(output.code, 0, "{}", output.all());
}

#[test]
fn port_closed_scenario_leaves_amqp_closed() {
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().join("root.pem").display().to_string();
    let serving = Serving::start(&["--scenario", "port-closed", "--ca-out", &root]);
    assert!(
        serving
            .line_starting("AMQPS ")
            .ends_with("(closed: nothing listens)")
    );
    let report = serving.check(&root, &[]).json();
    assert_eq!(
        report.check("gateway-connect-amqp").additional_info["error"],
        "refused"
    );
    assert_eq!(report.result("gateway-protocol-amqp"), "skipped");
    assert_eq!(report.result("gateway-protocol-mqtt"), "ok");
}

#[test]
fn unreadable_certificate_is_a_usage_error() {
    // Ports 0, so that a wrongly successful start could never take a real gateway's ports.
    let output = run(&[
        "serve",
        "--port",
        "mqtt=0",
        "--port",
        "amqp=0",
        "--port",
        "https=0",
        "--cert",
        &fixture("garbage.pem").display().to_string(),
        "--key",
        &fixture("server.key.pem").display().to_string(),
    ]);
    assert_eq!(output.code, 2, "{}", output.all());
    assert_contains(&output.stderr, "garbage.pem");
}
