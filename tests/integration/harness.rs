//! Running the real binary and reading its JSON back into the test's own types, so the schema
//! is checked the way a monitoring script consumes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

/// The binary under test, as cargo built it for this test run.
pub fn edgeprobe() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeprobe"));
    command
        .env_remove("EDGEPROBE_CONNECTION_STRING")
        .env("NO_COLOR", "1");
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Report {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not a report ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
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
    edgeprobe()
        .args(args)
        .output()
        .expect("the edgeprobe binary runs")
        .into()
}

/// A repository fixture (see fixtures/README.md).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

// ---- The JSON report, as a consumer sees it (docs/json-schema.md) ----

#[derive(Debug, Deserialize)]
pub struct Report {
    pub schema_version: String,
    pub tool: Tool,
    pub checks: BTreeMap<String, CheckEntry>,
    pub summary: Summary,
    pub verdict: String,
}

#[derive(Debug, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Deserialize)]
pub struct CheckEntry {
    pub description: String,
    pub group: String,
    pub result: ResultEntry,
    pub remedy: Option<String>,
    pub duration_ms: f64,
    pub additional_info: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub struct ResultEntry {
    pub result: String,
    #[serde(default)]
    pub details: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub warning: usize,
    pub error: usize,
    pub skipped: usize,
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
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    if !extra.contains(&"--output") {
        args.extend(["--output".into(), "json".into()]);
    }
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}
