//! `device-clock` (issue 14): the binary runs under libfaketime (Debian `faketime`) with its
//! clock 45 days ahead and 400 days behind, against the simulator on loopback (whose HTTP
//! answers carry a `Date`, as edgeHub's do) and a test-side SNTP server
//! (tests/servers/sntp_server.py), both on this machine's real clock. When the skew explains
//! other findings, their remedies lead with the clock.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use edgeprobe::demo::server::RunningGateway;

use crate::brokers::{find_program, required};
use crate::harness::{LOOPBACK_GATEWAY, Report, Run, simulated};

/// The SNTP server child, killed when dropped.
pub(crate) struct SntpServer {
    child: Child,
    pub(crate) port: u16,
}

impl SntpServer {
    pub(crate) fn start() -> SntpServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/sntp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["127.0.0.1", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the SNTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the server prints its port");
        let port = line.trim().parse().expect("a port");
        SntpServer { child, port }
    }
}

impl Drop for SntpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator serving a PKI issued now (valid from a day ago), with its root file.
struct ClockGateway {
    gateway: RunningGateway,
    root: PathBuf,
    _directory: tempfile::TempDir,
}

impl ClockGateway {
    async fn start() -> ClockGateway {
        let (pki, gateway) = simulated(LOOPBACK_GATEWAY).await;
        let directory = tempfile::tempdir().expect("tempdir");
        let root = directory.path().join("root.pem");
        std::fs::write(&root, pki.root_pem()).expect("root written");
        ClockGateway {
            gateway,
            root,
            _directory: directory,
        }
    }

    /// A new gateway and its first check under `faketime -f OFFSET`; `None` without faketime.
    async fn checked_at(offset: &str) -> Option<(ClockGateway, Run)> {
        let gateway = ClockGateway::start().await;
        let output = gateway.check_at(offset, &[]).await?;
        Some((gateway, output))
    }

    async fn check_at(&self, offset: &str, extra: &[String]) -> Option<Run> {
        check_at(offset, &self.gateway, &self.root, extra).await
    }
}

/// `edgeprobe check` under `faketime -f OFFSET`, with the root installed in the OS store.
async fn check_at(
    offset: &str,
    gateway: &RunningGateway,
    root: &Path,
    extra: &[String],
) -> Option<Run> {
    let faketime = required("faketime", find_program("faketime"))?;
    let ports = gateway.ports;
    let mut command = Command::new(faketime);
    command
        .args(["-f", offset, env!("CARGO_BIN_EXE_edgeprobe")])
        .args(["check", "--gateway", LOOPBACK_GATEWAY, "--resolve"])
        .arg(format!("{LOOPBACK_GATEWAY}:127.0.0.1"))
        .arg("--ca-file")
        .arg(root)
        .args(["--port", &format!("mqtt={}", ports.mqtt)])
        .args(["--port", &format!("amqp={}", ports.amqp)])
        .args(["--port", &format!("https={}", ports.https)])
        .args(["--timeout", "5s", "--output", "json"])
        .args(extra)
        // Timers keep the real monotonic clock; only the time of day is moved.
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("SSL_CERT_FILE", root)
        .env_remove("SSL_CERT_DIR")
        .env_remove("EDGEPROBE_CONNECTION_STRING")
        .env("NO_COLOR", "1");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("faketime runs the binary");
    Some(output.into())
}

fn remedy_of(report: &Report, id: &str) -> String {
    report.check(id).remedy.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_45_days_ahead_is_an_error_against_the_gateway_and_ntp() {
    let ntp = SntpServer::start();
    let extra = ["--ntp-server".to_owned(), format!("127.0.0.1:{}", ntp.port)];
    let Some((gateway, output)) = ClockGateway::checked_at("+45d").await else {
        return;
    };
    let report = output.json();
    let clock = report.expect(
        "device-clock",
        "error",
        "this device's clock is 45 days ahead of the gateway's (HTTP Date: ",
    );
    assert!(remedy_of(&report, "device-clock").contains("timedatectl"));
    let skew = clock.additional_info["gateway_skew_seconds"]
        .as_i64()
        .expect("skew");
    assert!((skew - 45 * 86_400).abs() < 60, "{skew}");

    let output = gateway.check_at("+45d", &extra).await.expect("faketime");
    let report = output.json();
    let clock = report.expect(
        "device-clock",
        "error",
        &format!(
            "this device's clock is 45 days ahead of NTP server 127.0.0.1:{}",
            ntp.port
        ),
    );
    let ntp_skew = clock.additional_info["ntp_skew_seconds"]
        .as_f64()
        .expect("skew");
    assert!((ntp_skew - 45.0 * 86_400.0).abs() < 60.0, "{ntp_skew}");
    report.assert_text_contains("device-clock", "the gateway's clock agrees");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_400_days_behind_leads_the_certificate_remedies() {
    let Some((_gateway, output)) = ClockGateway::checked_at("-400d").await else {
        return;
    };
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    report.expect("device-clock", "error", "400 days behind the gateway's");
    // Issued a day ago by the real clock: "not yet valid" on this device, and the fix is the
    // clock, not new certificates.
    for id in ["gateway-cert-chain", "gateway-cert-expiry"] {
        assert_eq!(report.result(id), "error", "{id}: {}", report.text_of(id));
        let remedy = remedy_of(&report, id);
        assert!(
            remedy.starts_with("first fix the clock: this device's clock is 400 days behind"),
            "{id}: {remedy}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_clock_is_ok_and_an_unanswered_ntp_server_is_not() {
    let Some((gateway, output)) = ClockGateway::checked_at("+0d").await else {
        return;
    };
    let report = output.json();
    assert_eq!(report.result("device-clock"), "ok", "{}", output.all());
    assert_eq!(output.code, 0, "{}", output.all());
    // A UDP port nobody answers on: the clock is not judged against NTP, and says so.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let extra = [
        "--ntp-server".to_owned(),
        silent.local_addr().expect("address").to_string(),
        "--skip".to_owned(),
        "gateway-protocol-https".to_owned(),
    ];
    let output = gateway.check_at("+0d", &extra).await.expect("faketime");
    let report = output.json();
    report.expect("device-clock", "warning", "UDP port 123 may be blocked");
}
