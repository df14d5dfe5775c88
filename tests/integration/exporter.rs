//! `edgeprobe exporter` as a monitoring team runs it: a real Prometheus (Debian's
//! `prometheus`) scraping it with blackbox_exporter's relabelling, against a gateway made of the
//! real servers (mosquitto, Qpid Proton, nginx); `promtool check metrics` on everything
//! edgeprobe exposes; the shipped alert rules under `promtool test rules`; SIGTERM draining.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::brokers::{GATEWAY, Server, Trio, find_program, free_port, required};
use crate::harness::{
    assert_contains, assert_succeeded, edgeprobe, fixture, port_flags, run, signal_and_wait,
    temp_file,
};

/// A running `edgeprobe exporter`, killed when dropped.
struct Exporter {
    child: Child,
    port: u16,
}

impl Exporter {
    /// Starts it on a system-chosen port with the trio's ports as the `leaf` module, and reads
    /// the port from the line it prints.
    fn start(trio: &Trio, extra: &[&str]) -> Exporter {
        let mut child = edgeprobe()
            .args(["exporter", "--listen", "127.0.0.1:0"])
            .args(leaf_options(trio))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the exporter starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Exporter { child, port }
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(self.port, path, &[])
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn leaf_options(trio: &Trio) -> Vec<String> {
    let mut options = vec![
        "--resolve".to_owned(),
        format!("{GATEWAY}:127.0.0.1"),
        "--ca-file".to_owned(),
        fixture("root-ca.pem").display().to_string(),
    ];
    options.extend(port_flags(
        "--port",
        [trio.mqtt.port, trio.amqp.port, trio.https.port],
    ));
    options
}

/// One GET on a fresh connection; the status and the body.
fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_owned())
}

pub(crate) fn promtool() -> Option<PathBuf> {
    required("prometheus (promtool)", find_program("promtool"))
}

/// `promtool check metrics` on an exposition: the linter Prometheus's own docs point to.
pub(crate) fn assert_promtool_accepts(promtool: &Path, what: &str, exposition: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("promtool ends");
    assert_succeeded(
        &output,
        &format!("promtool check metrics on {what}:\n{exposition}\n"),
    );
}

fn sample_value(exposition: &str, prefix: &str) -> Option<String> {
    exposition
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .map(str::to_owned)
}

#[test]
fn a_probe_checks_the_gateway_and_every_exposition_passes_promtool() {
    let (Some(trio), Some(promtool)) = (Trio::start(), promtool()) else {
        return;
    };
    let exporter = Exporter::start(&trio, &[]);
    let (status, probe) = http_get(
        exporter.port,
        &format!("/probe?target={GATEWAY}&module=leaf"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "20")],
    );
    assert_eq!(status, 200, "{probe}");
    assert_eq!(
        sample_value(&probe, "probe_success{").as_deref(),
        Some("1"),
        "{probe}"
    );
    let mqtt = format!("protocol=\"mqtt\",port=\"{}\"", trio.mqtt.port);
    for family in [
        "probe_ssl_earliest_cert_expiry",
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "probe_tls_version_info",
        "probe_ssl_last_chain_info",
        "edgeprobe_verify_code",
    ] {
        assert!(
            probe
                .lines()
                .any(|line| line.starts_with(family) && line.contains(&mqtt)),
            "{family} for MQTT:\n{probe}"
        );
    }
    assert_promtool_accepts(&promtool, "/probe", &probe);

    // Only the named port's protocol when the target carries a port.
    let (_, one_port) = exporter.get(&format!("/probe?target={GATEWAY}:{}", trio.amqp.port));
    assert_contains(&one_port, "protocol=\"amqp\"");
    assert!(
        !one_port.contains(
            "probe_tls_version_info{gateway=\"gateway.edgeprobe.test\",protocol=\"mqtt\""
        ),
        "{one_port}"
    );

    let (status, unknown) = exporter.get(&format!("/probe?target={GATEWAY}&module=nope"));
    assert_eq!(
        (status, unknown.as_str()),
        (400, "unknown module `nope`: this exporter has leaf\n")
    );
    let (status, bad) = exporter.get(&format!("/probe?target={GATEWAY}:1"));
    assert_eq!(status, 400);
    assert_eq!(bad.lines().count(), 1, "{bad}");
    let (status, metrics) = exporter.get("/metrics");
    assert_eq!(status, 200);
    assert_contains(
        &metrics,
        "edgeprobe_exporter_probes_total{module=\"leaf\",result=\"success\"} 2",
    );
    assert!(metrics.contains("edgeprobe_exporter_request_errors_total{reason=\"bad_target\"} 1"));
    assert_promtool_accepts(&promtool, "/metrics", &metrics);

    // The textfile form of `check` uses the same families.
    let mut check = vec![
        "check".to_owned(),
        "--gateway".to_owned(),
        GATEWAY.to_owned(),
    ];
    check.extend(leaf_options(&trio));
    check.extend(["--output".to_owned(), "prometheus".to_owned()]);
    let check = run(&check.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(check.code, 0, "{}", check.all());
    assert_eq!(
        sample_value(&check.stdout, "probe_success{").as_deref(),
        Some("1")
    );
    assert_promtool_accepts(&promtool, "check --output prometheus", &check.stdout);
}

/// Prometheus's HTTP API: the value of `query`'s one result, if it has one.
fn query(port: u16, query: &str) -> Option<String> {
    let encoded: String = query
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let (status, body) = http_get(port, &format!("/api/v1/query?query={encoded}"), &[]);
    if status != 200 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    json["data"]["result"][0]["value"][1]
        .as_str()
        .map(str::to_owned)
}

fn wait_for(what: &str, prometheus: &Server, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{what} did not happen within 120 s; Prometheus said:\n{}",
            prometheus.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn prometheus_scrapes_the_exporter_and_sees_the_gateway_go_down() {
    let (Some(mut trio), Some(program)) = (
        Trio::start(),
        required("prometheus", find_program("prometheus")),
    ) else {
        return;
    };
    let exporter = Exporter::start(&trio, &[]);
    let directory = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    // The README's relabelling, with a short interval for the test.
    let config = directory.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            r#"global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: iot-edge-gateways
    metrics_path: /probe
    params:
      module: [leaf]
    static_configs:
      - targets: [{GATEWAY}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:{}
"#,
            exporter.port
        ),
    )
    .expect("prometheus.yml");
    let mut command = Command::new(program);
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            directory.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let prometheus = Server::start("prometheus", port, command, directory);
    let success = || query(port, &format!("probe_success{{instance=\"{GATEWAY}\"}}"));

    wait_for("probe_success 1", &prometheus, || {
        success().as_deref() == Some("1")
    });
    assert_eq!(
        query(port, "count(probe_ssl_last_chain_info)").as_deref(),
        Some("3"),
        "one chain info per port"
    );
    trio.mqtt.stop();
    wait_for(
        "probe_success 0 after mosquitto stopped",
        &prometheus,
        || success().as_deref() == Some("0"),
    );
    assert_eq!(
        query(
            port,
            "edgeprobe_check_status{check=\"gateway-connect-mqtt\",status=\"error\"}"
        )
        .as_deref(),
        Some("1")
    );
}

#[test]
fn the_shipped_alert_rules_and_prometheus_config_pass_promtool() {
    let Some(promtool) = promtool() else {
        return;
    };
    let monitoring = Path::new(env!("CARGO_MANIFEST_DIR")).join("monitoring");
    for args in [
        vec!["test", "rules", "alerts.test.yml"],
        vec!["check", "config", "prometheus.yml"],
    ] {
        let output = Command::new(&promtool)
            .args(&args)
            .current_dir(&monitoring)
            .output()
            .expect("promtool runs");
        assert_succeeded(&output, &format!("promtool {args:?}"));
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_exporter_with_status_zero() {
    let Some(trio) = Trio::start() else {
        return;
    };
    let mut exporter = Exporter::start(&trio, &[]);
    assert_eq!(exporter.get("/-/healthy").0, 200);
    let exit = signal_and_wait(&mut exporter.child, "-TERM", Duration::from_secs(40));
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn a_bad_config_or_a_busy_address_is_one_line_and_exit_two() {
    let (_directory, config) = temp_file("exporter.toml", "[modules.a]\ncafile = \"x\"\n");
    let bad = run(&[
        "exporter",
        "--listen",
        "127.0.0.1:0",
        "--config",
        &config.display().to_string(),
    ]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("exporter.toml") && bad.stderr.contains("cafile"),
        "{}",
        bad.stderr
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let busy = run(&["exporter", "--listen", &address]);
    assert_eq!(busy.code, 2, "{}", busy.all());
    assert_contains(&busy.stderr, &format!("cannot listen on {address}"));
}
