//! Running the real binary and reading its JSON back into the test's own types, so the schema
//! is checked the way a monitoring script consumes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The binary under test, as cargo built it for this test run.
pub fn edgeprobe() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeprobe"));
    // The machine's own OpenSSL settings never reach a test: the store is the default one,
    // or the one a test names.
    command
        .env_remove("EDGEPROBE_CONNECTION_STRING")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        // A proxy in the test runner's environment would route every leaf test through it.
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .env("NO_COLOR", "1");
    command
}

/// The binary for a leaf run given `ca_file` on this machine: the device the tests model
/// followed the guides and installed that root in its OS store (`SSL_CERT_FILE`, which
/// OpenSSL and edgeprobe read instead of the distribution's bundle), so the store check
/// passes unless a test says otherwise. Runs under `--root` read the tree's own store.
pub fn edgeprobe_trusting(ca_file: &Path) -> Command {
    let mut command = edgeprobe();
    command.env("SSL_CERT_FILE", ca_file);
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The report on stdout, validated against the checked-in `docs/report.schema.json` and
    /// read into this harness's own types, which reject unknown fields: every test that reads a
    /// report checks the schema as a consumer would.
    pub fn json(&self) -> Report {
        let value: serde_json::Value = serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        });
        assert_valid(Schema::Report, &value);
        let report: Report = serde_json::from_value(value).unwrap_or_else(|error| {
            panic!(
                "stdout is not a report ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        });
        // What docs/json-schema.md promises beyond the schema's shapes.
        assert_eq!(report.summary.total, report.checks.len(), "summary.total");
        assert!(report.elapsed_ms >= 0.0);
        // iotedge's top-level additional_info: the run's time, the OS, and our version.
        let info = &report.additional_info;
        assert!(
            time::OffsetDateTime::parse(&info.now, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "now: {}",
            info.now
        );
        assert_eq!(info.os.arch, std::env::consts::ARCH);
        assert_eq!(info.edgeprobe_version, report.tool.version);
        for (id, entry) in &report.checks {
            assert_eq!(
                Some(&entry.message),
                entry.result.details.first(),
                "{id}: message is details[0]"
            );
        }
        report
    }

    /// The Prometheus exposition on stdout, parsed; fails the test with the text if it does not.
    pub fn prometheus(
        &self,
    ) -> openmetrics_parser::MetricsExposition<
        openmetrics_parser::PrometheusType,
        openmetrics_parser::PrometheusValue,
    > {
        openmetrics_parser::prometheus::parse_prometheus(&self.stdout)
            .unwrap_or_else(|error| panic!("{error:?}\n{}", self.stdout))
    }

    /// Asserts that `secret` appears nowhere in stdout or stderr.
    #[track_caller]
    pub fn assert_not_shown(&self, secret: &str) {
        let all = self.all();
        assert!(!all.contains(secret), "`{secret}` leaked:\n{all}");
    }

    /// Asserts that stdout says `part`; the failure shows stdout and stderr.
    #[track_caller]
    pub fn assert_stdout_contains(&self, part: &str) {
        assert!(
            self.stdout.contains(part),
            "missing `{part}` in:\n{}",
            self.all()
        );
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Asserts that a helper tool (`what`: its command line, or what it was given) exited 0,
/// showing its stdout and stderr when it did not.
#[track_caller]
pub fn assert_succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub fn run(args: &[&str]) -> Run {
    let ca_file = args
        .iter()
        .position(|arg| *arg == "--ca-file")
        .and_then(|index| args.get(index + 1))
        .filter(|_| !args.contains(&"--root"));
    match ca_file {
        Some(ca_file) => edgeprobe_trusting(Path::new(ca_file)),
        None => edgeprobe(),
    }
    .args(args)
    .output()
    .expect("the edgeprobe binary runs")
    .into()
}

/// The simulator serving the fixture chain (`server-full-chain.pem`) on three ephemeral
/// loopback ports.
pub async fn fixture_gateway() -> edgeprobe::demo::server::RunningGateway {
    serve_fixture("server-full-chain.pem", "server.key.pem", &[]).await
}

/// The simulator serving fixture `chain_file` with `key_file` on three ephemeral loopback
/// ports, with the `closed` protocols' ports not listening.
pub async fn serve_fixture(
    chain_file: &str,
    key_file: &str,
    closed: &[edgeprobe::net::Protocol],
) -> edgeprobe::demo::server::RunningGateway {
    use edgeprobe::pki::load::{load_certificates, load_private_key};
    edgeprobe::demo::server::start(edgeprobe::demo::server::SimulatorConfig::loopback(
        load_certificates(&fixture(chain_file)).expect("fixture chain"),
        load_private_key(&fixture(key_file)).expect("fixture key"),
        closed.to_vec(),
    ))
    .await
    .expect("simulator starts")
}

/// A new temporary directory holding one file, `name`, with `contents`; both last as long as
/// the directory returned is kept.
pub fn temp_file(name: &str, contents: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let directory = tempfile::tempdir().expect("tempdir");
    let path = directory.path().join(name);
    std::fs::write(&path, contents).expect("write the temporary file");
    (directory, path)
}

/// `temp_file` for `check --targets`: the targets file `name` with `lines`, beside copies of
/// the fixtures in `copies` (fixture, file name) that its lines name as CA files.
pub fn targets_file(
    name: &str,
    lines: &str,
    copies: &[(&str, &str)],
) -> (tempfile::TempDir, PathBuf) {
    let (directory, targets) = temp_file(name, lines);
    for (from, to) in copies {
        std::fs::copy(fixture(from), directory.path().join(to)).expect("fixture copied");
    }
    (directory, targets)
}

/// A repository fixture (see fixtures/README.md).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

// ---- The JSON Schemas, as checked in ----

/// A checked-in schema (`docs/*.schema.json`).
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    Report,
    TargetResult,
    Fleet,
}

impl Schema {
    pub fn path(self) -> &'static str {
        match self {
            Schema::Report => "docs/report.schema.json",
            Schema::TargetResult => "docs/target-result.schema.json",
            Schema::Fleet => "docs/fleet.schema.json",
        }
    }

    fn validator(self) -> &'static jsonschema::Validator {
        static VALIDATORS: [OnceLock<jsonschema::Validator>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        VALIDATORS[self as usize].get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(self.path());
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let schema: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|error| panic!("{} is not a valid schema: {error}", path.display()))
        })
    }
}

/// Fails the test, listing every violation, unless `value` is valid against `schema`.
pub fn assert_valid(schema: Schema, value: &serde_json::Value) {
    let errors: Vec<String> = schema
        .validator()
        .iter_errors(value)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "output does not match {}:\n{}\n{}",
        schema.path(),
        errors.join("\n"),
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

// ---- The JSON report, as a consumer sees it (docs/json-schema.md) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: String,
    pub tool: Tool,
    pub target: Target,
    pub checks: BTreeMap<String, CheckEntry>,
    pub summary: Summary,
    pub verdict: String,
    pub elapsed_ms: f64,
    pub additional_info: AdditionalInfo,
}

/// The top-level `additional_info`, iotedge's `now` and `os` and edgeprobe's additions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditionalInfo {
    pub now: String,
    pub os: OsInfo,
    pub edgeprobe_version: String,
    /// Gateway mode, when the config names a versioned edgeAgent image.
    #[serde(default)]
    pub iot_edge_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsInfo {
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub arch: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // named so that unknown fields are refused; read by the tests that need them
pub struct Target {
    pub gateway: Option<String>,
    pub device_id: Option<String>,
    pub connection_string: Option<String>,
    pub ca_file: Option<String>,
    /// Gateway mode only.
    #[serde(default)]
    pub config: Option<String>,
    pub ports: BTreeMap<String, u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckEntry {
    pub description: String,
    pub group: String,
    pub result: ResultEntry,
    pub message: String,
    pub remedy: Option<String>,
    pub duration_ms: f64,
    pub additional_info: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultEntry {
    pub result: String,
    #[serde(default)]
    pub details: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub warning: usize,
    pub error: usize,
    pub skipped: usize,
    pub ignored: usize,
}

impl Report {
    pub fn result(&self, id: &str) -> &str {
        &self.check(id).result.result
    }

    pub fn check(&self, id: &str) -> &CheckEntry {
        self.checks
            .get(id)
            .unwrap_or_else(|| panic!("no check `{id}` in {:?}", self.checks.keys()))
    }

    /// Check `id`, asserted to have `result` and a message containing `part`.
    pub fn expect(&self, id: &str, result: &str, part: &str) -> &CheckEntry {
        let check = self.check(id);
        assert_eq!(check.result.result, result, "{id}: {check:#?}");
        assert!(
            check.message.contains(part),
            "{id}: `{part}` not in {}",
            check.message
        );
        check
    }

    /// Asserts that the details or remedy of check `id` ([`Report::text_of`]) contain `part`.
    #[track_caller]
    pub fn assert_text_contains(&self, id: &str, part: &str) {
        let text = self.text_of(id);
        assert!(text.contains(part), "{id}: `{part}` not in {text}");
    }

    pub fn text_of(&self, id: &str) -> String {
        let entry = self.check(id);
        format!(
            "{} {}",
            entry.result.details.join("\n"),
            entry.remedy.as_deref().unwrap_or_default()
        )
    }
}

/// The gateway name every loopback test dials; mapped to 127.0.0.1 with `--resolve`.
pub const LOOPBACK_GATEWAY: &str = "gateway.edgeprobe.test";

/// `edgeprobe check --only root-ca-file` (no network) with `ca_file`, as JSON.
pub fn check_root_ca_file(ca_file: &Path) -> Run {
    run(&[
        "check",
        "--gateway",
        LOOPBACK_GATEWAY,
        "--ca-file",
        ca_file.to_str().expect("utf-8 path"),
        "--only",
        "root-ca-file",
        "--output",
        "json",
    ])
}

/// `--skip sdk-trust`, for leaf runs about the gateway: `sdk-trust` runs by default and would
/// judge the SDK runtimes of the machine running the tests (its JREs, node, Python), which are
/// not the device the test models; tests/integration/sdk_trust.rs checks it on device trees.
pub const NOT_THIS_MACHINES_SDKS: [&str; 2] = ["--skip", "sdk-trust"];

/// `edgeprobe check` against [`LOOPBACK_GATEWAY`] on 127.0.0.1 with the MQTT, AMQP and HTTPS
/// ports given, `ca_file`, `timeout` (e.g. "5s") and `extra` flags; JSON unless `extra` names
/// another `--output`. Runs the binary off the async runtime so in-test servers keep serving.
pub async fn check_loopback(ports: [u16; 3], ca_file: &Path, timeout: &str, extra: &[&str]) -> Run {
    let args = loopback_check_args(ports, ca_file, timeout, extra);
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}

/// The command line of [`check_loopback`], for tests that run it without an async runtime.
pub fn loopback_check_args(
    ports: [u16; 3],
    ca_file: &Path,
    timeout: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "check".into(),
        "--gateway".into(),
        LOOPBACK_GATEWAY.into(),
        "--resolve".into(),
        format!("{LOOPBACK_GATEWAY}:127.0.0.1"),
        "--ca-file".into(),
        ca_file.display().to_string(),
    ];
    args.extend(port_flags("--port", ports));
    args.extend(["--timeout".into(), timeout.into()]);
    args.extend(NOT_THIS_MACHINES_SDKS.map(str::to_owned));
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    if !extra.contains(&"--output") {
        args.extend(["--output".into(), "json".into()]);
    }
    args
}

/// `FLAG mqtt=N FLAG amqp=N FLAG https=N` for the MQTT, AMQP and HTTPS `ports`; FLAG is
/// `--port`, or gateway mode's `--parent-port` or `--iothub-port`.
pub fn port_flags(flag: &str, [mqtt, amqp, https]: [u16; 3]) -> Vec<String> {
    [("mqtt", mqtt), ("amqp", amqp), ("https", https)]
        .into_iter()
        .flat_map(|(protocol, port)| [flag.to_owned(), format!("{protocol}={port}")])
        .collect()
}

/// The simulator's MQTT, AMQP and HTTPS ports, for [`port_flags`] or [`check_loopback`].
pub fn ports_of(gateway: &edgeprobe::demo::server::RunningGateway) -> [u16; 3] {
    [gateway.ports.mqtt, gateway.ports.amqp, gateway.ports.https]
}

/// The three connect checks, one per port family, in registry order.
pub const CONNECT_CHECKS: [&str; 3] = [
    "gateway-connect-mqtt",
    "gateway-connect-amqp",
    "gateway-connect-https",
];

/// The ids of every registered check: what `list`, `explain` and the docs are checked against.
pub fn registered_check_ids() -> BTreeSet<String> {
    edgeprobe::checks::all_checks()
        .iter()
        .map(|check| check.id().to_owned())
        .collect()
}

/// Sends `signal` (`-TERM`, `-INT`) to `child` with kill(1) and waits for it to exit, failing
/// the test if it is still running after `deadline`.
#[cfg(unix)]
pub fn signal_and_wait(child: &mut Child, signal: &str, deadline: Duration) -> ExitStatus {
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill {signal} failed: {sent}");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            started.elapsed() < deadline,
            "still running {deadline:?} after kill {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the server `command` (`what` names it if it cannot start) with nothing on stdin
/// and stderr going to `stderr`, and returns it with its stdout, where it says it listens.
pub fn spawn_with_stdout(command: &mut Command, what: &str, stderr: Stdio) -> (Child, ChildStdout) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|error| panic!("{what} does not start: {error}"));
    let stdout = child.stdout.take().expect("stdout piped");
    (child, stdout)
}

/// Asserts that `text` contains `part`, showing both when it does not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "`{part}` not in {text}");
}

/// Where `part` first stands in `text`; fails the test, showing `text`, when it does not.
#[track_caller]
pub fn position_of(text: &str, part: &str) -> usize {
    text.find(part)
        .unwrap_or_else(|| panic!("no {part} in:\n{text}"))
}

/// Asserts that `text` is there and contains `part` (a remedy, a note).
#[track_caller]
pub fn assert_some_contains(text: Option<&str>, part: &str) {
    assert!(
        text.is_some_and(|text| text.contains(part)),
        "`{part}` not in {text:?}"
    );
}

/// The simulator serving a PKI for `name` issued now (valid from a day ago), and that PKI.
pub async fn simulated(
    name: &str,
) -> (
    edgeprobe::demo::pki::GatewayPki,
    edgeprobe::demo::server::RunningGateway,
) {
    use edgeprobe::demo::server::{SimulatorConfig, start};
    let pki = edgeprobe::demo::pki::GatewayPki::generate(name, time::OffsetDateTime::now_utc())
        .expect("PKI");
    let running = start(SimulatorConfig::loopback(
        pki.server_chain(),
        pki.server.key_der(),
        Vec::new(),
    ))
    .await
    .expect("simulator starts");
    (pki, running)
}
