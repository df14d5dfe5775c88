//! Running the real binary and reading its JSON back into the test's own types, so the schema
//! is checked the way a monitoring script consumes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
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
    use edgeprobe::pki::load::{load_certificates, load_private_key};
    edgeprobe::demo::server::start(edgeprobe::demo::server::SimulatorConfig::loopback(
        load_certificates(&fixture("server-full-chain.pem")).expect("fixture chain"),
        load_private_key(&fixture("server.key.pem")).expect("fixture key"),
        Vec::new(),
    ))
    .await
    .expect("simulator starts")
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

/// `--skip sdk-trust`, for leaf runs about the gateway: `sdk-trust` runs by default and would
/// judge the SDK runtimes of the machine running the tests (its JREs, node, Python), which are
/// not the device the test models; tests/integration/sdk_trust.rs checks it on device trees.
pub const NOT_THIS_MACHINES_SDKS: [&str; 2] = ["--skip", "sdk-trust"];

/// `edgeprobe check` against [`LOOPBACK_GATEWAY`] on 127.0.0.1 with the MQTT, AMQP and HTTPS
/// ports given, `ca_file`, `timeout` (e.g. "5s") and `extra` flags; JSON unless `extra` names
/// another `--output`. Runs the binary off the async runtime so in-test servers keep serving.
pub async fn check_loopback(ports: [u16; 3], ca_file: &Path, timeout: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "check".into(),
        "--gateway".into(),
        LOOPBACK_GATEWAY.into(),
        "--resolve".into(),
        format!("{LOOPBACK_GATEWAY}:127.0.0.1"),
        "--ca-file".into(),
        ca_file.display().to_string(),
        "--port".into(),
        format!("mqtt={}", ports[0]),
        "--port".into(),
        format!("amqp={}", ports[1]),
        "--port".into(),
        format!("https={}", ports[2]),
        "--timeout".into(),
        timeout.into(),
    ];
    args.extend(NOT_THIS_MACHINES_SDKS.map(str::to_owned));
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    if !extra.contains(&"--output") {
        args.extend(["--output".into(), "json".into()]);
    }
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}
