//! Report printers: plain text like `iotedge check`, JSON (a superset of
//! `iotedge check -o json`), and for monitoring, compact per-gateway results as JSON Lines and
//! Prometheus metrics; fleet mode's streaming printers are in [`fleet`]. Printers only format
//! an [`engine::RunReport`](crate::engine::RunReport) or its [`TargetResult`]; they never
//! probe, and checks never print. All write to any `std::io::Write`, so tests capture the
//! output exactly as a user would see it.

pub mod compact;
pub mod fleet;
pub mod fleet_json;
pub mod fleet_text;
pub mod json;
pub mod prometheus;
pub mod schema;
pub mod text;

pub use compact::TargetResult;
pub use fleet_json::write_json_line;
pub use json::{SCHEMA_VERSION, write_json};
pub use prometheus::write_prometheus;
pub use text::{TextOptions, write_text};

use std::io::IsTerminal;

use serde::{Serialize, Serializer};

use crate::engine::{Ports, RunReport, Status};
use crate::net::Protocol;
use crate::secrets::redact;

/// What was probed, for the text header and the JSON `target` object.
#[derive(Clone, Default, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Target {
    /// The gateway name the device dials (from `--gateway` or the connection string's
    /// `GatewayHostName`), when known.
    pub gateway: Option<String>,
    /// The device id, when known (from the connection string).
    pub device_id: Option<String>,
    /// The connection string: its canonical form with `SharedAccessKey=<redacted>` when it
    /// parses; otherwise as given, with every part not known to be public redacted. (In the
    /// struct: ALREADY redacted by the caller; printers redact it again in case.)
    pub connection_string: Option<String>,
    /// `--ca-file`, the root CA file given.
    pub ca_file: Option<String>,
    /// Gateway mode only (absent on a leaf): the IoT Edge config checked
    /// (`/etc/aziot/config.toml`, `/etc/iotedge/config.yaml`, or `--config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The port probed for each protocol.
    #[serde(serialize_with = "serialize_ports")]
    pub ports: Ports,
}

/// Debug goes through the same redaction as output, so `{:?}` in a log cannot leak a key that
/// a caller forgot to redact.
impl std::fmt::Debug for Target {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Target")
            .field("gateway", &self.gateway)
            .field("device_id", &self.device_id)
            .field(
                "connection_string",
                &self.connection_string.as_deref().map(redact),
            )
            .field("ca_file", &self.ca_file)
            .field("config", &self.config)
            .field("ports", &self.ports)
            .finish()
    }
}

impl Target {
    /// A copy with every string passed through [`redact`].
    fn redacted(&self) -> Target {
        let scrub = |value: &Option<String>| value.as_deref().map(|text| redact(text).into_owned());
        Target {
            gateway: scrub(&self.gateway),
            device_id: scrub(&self.device_id),
            connection_string: scrub(&self.connection_string),
            ca_file: scrub(&self.ca_file),
            config: scrub(&self.config),
            ports: self.ports,
        }
    }
}

/// `"ports": {"mqtt": 8883, "amqp": 5671, "https": 443}`, keyed like `--port` and check ids.
fn serialize_ports<S: Serializer>(ports: &Ports, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(Protocol::ALL.len()))?;
    for protocol in Protocol::ALL {
        map.serialize_entry(protocol.key(), &ports.get(protocol))?;
    }
    map.end()
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour only on a terminal, honouring `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE` and `TERM=dumb`.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour stdout. `auto` is anstream's decision (the terminal layer clap prints
    /// its own help with), in its order: <https://no-color.org> (`NO_COLOR` set and not empty
    /// disables colour), then <https://bixense.com/clicolors/> (`CLICOLOR_FORCE` set and not
    /// `0` colours even a pipe; `CLICOLOR=0` disables), then a terminal whose `TERM` is set and
    /// not `dumb`. An explicit `--color always`/`never` wins over all of them.
    pub fn use_color(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // anstream forces colour for any non-empty CLICOLOR_FORCE; the convention says
            // `0` does not force, so then its decision is taken without the force.
            ColorChoice::Auto if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v == "0") => {
                !anstyle_query::no_color()
                    && anstyle_query::clicolor() != Some(false)
                    && std::io::stdout().is_terminal()
                    && (anstyle_query::term_supports_color()
                        || anstyle_query::clicolor() == Some(true)
                        || anstyle_query::is_ci())
            }
            ColorChoice::Auto => {
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
            }
        }
    }
}

/// `text` in `color`, with the reset after it: the escape codes of anstyle, written only when
/// [`ColorChoice::use_color`] said so.
pub(crate) fn paint(text: &str, color: anstyle::AnsiColor) -> String {
    let style = anstyle::Style::new().fg_color(Some(color.into()));
    format!("{style}{text}{style:#}")
}

/// The overall result of a run: the most severe status among the checks (skips do not count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Warning,
    Error,
}

pub fn verdict(report: &RunReport) -> Verdict {
    if report.count(Status::Error) > 0 {
        Verdict::Error
    } else if report.count(Status::Warning) > 0 {
        Verdict::Warning
    } else {
        Verdict::Ok
    }
}

/// The process exit code for a finished run: 0 when no check failed (warnings allowed), 1 when
/// one did, or when one warned and `warnings_as_errors` is set. (2, a usage or tool failure,
/// is decided by `main`.)
pub fn exit_code(report: &RunReport, warnings_as_errors: bool) -> u8 {
    match verdict(report) {
        Verdict::Error => 1,
        Verdict::Warning if warnings_as_errors => 1,
        Verdict::Warning | Verdict::Ok => 0,
    }
}

/// How a consumer reads the fleet output; shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/integration/consumer.rs"]
pub(crate) mod consumer;

/// A hand-built report shared by the printer tests: one check of each status.
#[cfg(test)]
pub(crate) mod sample {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::engine::info::ResolveInfo;
    use crate::engine::{CheckReport, Group, Outcome, Ports, RunReport};
    use crate::net::resolve::{Resolution, ResolutionSource};

    use super::Target;

    /// Never passed to any printer in clear; tests assert it never comes out.
    pub const SECRET: &str = "c2VjcmV0LWtleS1ub3QtZm9yLXByaW50aW5n";

    pub fn target() -> Target {
        Target {
            gateway: Some("gw.contoso.com".to_owned()),
            device_id: Some("thermostat-7".to_owned()),
            connection_string: Some(
                "HostName=hub.azure-devices.net;DeviceId=thermostat-7;SharedAccessKey=<redacted>;GatewayHostName=gw.contoso.com"
                    .to_owned(),
            ),
            ca_file: Some("/etc/ssl/edge/azure-iot-test-only.root.ca.cert.pem".to_owned()),
            config: None,
            ports: Ports::default(),
        }
    }

    /// The host a sample report ran on, at a fixed time.
    pub fn host() -> crate::host_info::HostInfo {
        crate::host_info::HostInfo {
            now: crate::engine::Timestamp(time::macros::datetime!(2026-12-01 12:00 UTC)),
            os: crate::host_info::OsInfo {
                id: Some("debian".to_owned()),
                version_id: Some("12".to_owned()),
                arch: "x86_64",
            },
            edgeprobe_version: env!("CARGO_PKG_VERSION"),
            iot_edge_version: None,
        }
    }

    /// A check of the Gateway connectivity group that took `millis`.
    pub fn check(
        id: &'static str,
        description: &'static str,
        outcome: Outcome,
        millis: u64,
    ) -> CheckReport {
        CheckReport {
            id,
            group: Group::GatewayConnectivity,
            description,
            title: description.to_owned(),
            port: None,
            outcome: Arc::new(outcome),
            duration: Duration::from_millis(millis),
        }
    }

    /// The typed info `gateway-resolve` reports.
    pub fn resolved() -> ResolveInfo {
        ResolveInfo::Resolved(Resolution {
            name: "gw.contoso.com".to_owned(),
            addresses: vec![[10, 0, 0, 4].into()],
            source: ResolutionSource::Dns {
                server: "10.0.0.2:53".to_owned(),
            },
            notes: Vec::new(),
        })
    }

    /// The sample report and target with [`SECRET`] slipped into every field a printer
    /// writes, in a connection string: the first check's outcome is made by `outcome` from it,
    /// repeats it as a detail and as its remedy, and adds a private key (PEM label
    /// `key_label`) holding it; the target's connection string is it too.
    pub fn leaky(outcome: impl FnOnce(String) -> Outcome, key_label: &str) -> (RunReport, Target) {
        let leaky = format!("HostName=h;DeviceId=d;SharedAccessKey={SECRET}");
        let mut report = report();
        report.checks[0].outcome = Arc::new(
            outcome(leaky.clone())
                .detail(leaky.clone())
                .detail(format!(
                    "-----BEGIN {key_label}-----\n{SECRET}\n-----END {key_label}-----"
                ))
                .remedy(leaky.clone()),
        );
        let target = Target {
            connection_string: Some(leaky),
            ..target()
        };
        (report, target)
    }

    pub fn report() -> RunReport {
        RunReport {
            checks: vec![
                check(
                    "gateway-resolve",
                    "gateway name resolves",
                    Outcome::ok("gw.contoso.com resolves to 10.0.0.4").info(resolved()),
                    3,
                ),
                check(
                    "gateway-cert-chain",
                    "gateway presents a certificate chain that verifies against the root CA file",
                    Outcome::error("Verify return code: 20 (unable to get local issuer certificate)")
                        .details([
                            "Certificate chain",
                            " 0 s:CN = gw.contoso.com",
                            "   i:CN = Edge Device CA",
                        ])
                        .remedy(
                            "the gateway did not send its intermediate certificate; check the edgeHub certificate \
                             bundle with `openssl s_client -connect gw.contoso.com:8883 -showcerts` and install the \
                             full chain",
                        ),
                    41,
                ),
                check(
                    "gateway-cert-expiry",
                    "gateway certificate is not close to expiry",
                    Outcome::warning("the edgeHub server certificate expires in 12 days")
                        .remedy("renew the edge CA certificate before it expires"),
                    1,
                ),
                check(
                    "gateway-cert-hostname",
                    "gateway certificate is valid for the gateway name",
                    Outcome::skipped("skipped because `gateway-cert-chain` failed"),
                    0,
                ),
            ],
            elapsed: Duration::from_millis(812),
        }
    }
}

#[cfg(test)]
mod tests {

    use std::time::Duration;

    use crate::engine::{Outcome, RunReport};

    use super::*;

    fn report_of(outcomes: Vec<Outcome>) -> RunReport {
        RunReport {
            checks: outcomes
                .into_iter()
                .map(|outcome| sample::check("some-check", "something holds", outcome, 0))
                .collect(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn exit_code_is_zero_without_errors_and_one_with() {
        let empty = report_of(vec![]);
        assert_eq!(exit_code(&empty, false), 0);
        assert_eq!(exit_code(&empty, true), 0);

        let ok = report_of(vec![
            Outcome::ok("fine"),
            Outcome::ignored("not run: excluded with --skip"),
        ]);
        assert_eq!(
            (verdict(&ok), exit_code(&ok, false), exit_code(&ok, true)),
            (Verdict::Ok, 0, 0)
        );

        let warning = report_of(vec![Outcome::ok("fine"), Outcome::warning("soon")]);
        assert_eq!(verdict(&warning), Verdict::Warning);
        assert_eq!(exit_code(&warning, false), 0);
        assert_eq!(exit_code(&warning, true), 1);

        let error = report_of(vec![
            Outcome::warning("soon"),
            Outcome::error("broken"),
            Outcome::skipped("because"),
        ]);
        assert_eq!(verdict(&error), Verdict::Error);
        assert_eq!(exit_code(&error, false), 1);
        assert_eq!(exit_code(&error, true), 1);

        assert_eq!(exit_code(&sample::report(), false), 1);
    }

    #[test]
    fn target_debug_does_not_leak_an_unredacted_key() {
        let target = Target {
            connection_string: Some(format!(
                "HostName=h;DeviceId=d;SharedAccessKey={}",
                sample::SECRET
            )),
            ..Target::default()
        };
        let debug = format!("{target:?}");
        assert!(!debug.contains(sample::SECRET), "{debug}");
        assert!(debug.contains("SharedAccessKey=<redacted>"), "{debug}");
    }
}
