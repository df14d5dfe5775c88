//! The JSON report: a superset of `iotedge check -o json` (`checks.<id>.result.result`,
//! `result.details`, per-check and top-level `additional_info`) so monitoring scripts written
//! for iotedge keep working, plus what it lacks: tool and target, skip reasons, remedies,
//! timings, a summary and a verdict. Every field comes from a `Serialize` type here or in
//! `engine::info`; `docs/report.schema.json` is generated from the same types
//! (`report::schema`), and `docs/json-schema.md` documents it.

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::{Target, Verdict, verdict};
use crate::engine::{CheckInfo, CheckReport, Group, Milliseconds, RunReport, Status};
use crate::host_info::HostInfo;
use crate::secrets::{redact, redacting_json};

/// Additive changes keep 2.x; removing or retyping a field bumps the major version. 2.0: every
/// duration is float milliseconds (`duration_ms`, `elapsed_ms` were integers) and every time
/// RFC 3339 (`not_after` of `root-ca-file` and the expiry checks was OpenSSL's text).
pub const SCHEMA_VERSION: &str = "2.0";

/// Write the report as one pretty-printed JSON document followed by a newline.
pub fn write_json<W: Write + ?Sized>(
    out: &mut W,
    report: &RunReport,
    target: &Target,
    host: &HostInfo,
) -> io::Result<()> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool::EDGEPROBE,
        target: target.redacted(),
        checks: Checks(&report.checks),
        summary: Summary {
            total: report.checks.len(),
            ok: report.count(Status::Ok),
            warning: report.count(Status::Warning),
            error: report.count(Status::Error),
            skipped: report.count(Status::Skipped),
            ignored: report.count(Status::Ignored),
        },
        verdict: verdict(report),
        elapsed_ms: Milliseconds(report.elapsed),
        additional_info: host,
    };
    // Into a buffer first: serde_json writes a few bytes at a time, and each write into `out`
    // (a `dyn Write` in `check`) would be a call of its own; the report then goes out at once.
    let mut buffer = Vec::with_capacity(REPORT_CAPACITY);
    serde_json::to_writer_pretty(&mut buffer, &document)?;
    buffer.push(b'\n');
    out.write_all(&buffer)
}

/// Room for a full leaf check's report (44 KB with a three-port observation each) without
/// growing the buffer.
const REPORT_CAPACITY: usize = 64 * 1024;

/// The single-gateway report (`check --output json`), leaf or gateway suite.
#[derive(Serialize, JsonSchema)]
#[schemars(title = "edgeprobe report (check --output json)", deny_unknown_fields)]
pub struct Document<'a> {
    /// `MAJOR.MINOR` of this schema. Within a major version changes are additive only.
    schema_version: &'static str,
    tool: Tool,
    target: Target,
    /// One entry per check that applied to this run, keyed by check id, in the order the
    /// checks run and print. Checks that do not apply (`connection-string` without one) are
    /// absent; skipped ones are present with `result.result` = `skipped`.
    #[schemars(schema_with = "super::schema::checks_by_id")]
    checks: Checks<'a>,
    summary: Summary,
    verdict: Verdict,
    /// Wall-clock time of the whole run.
    elapsed_ms: Milliseconds,
    /// iotedge's top-level host information (`now`, `os`), with edgeprobe's version and, on a
    /// gateway, the IoT Edge version its config names.
    additional_info: &'a HostInfo,
}

/// Which program wrote the document.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Tool {
    /// Always `edgeprobe`.
    pub name: &'static str,
    /// The edgeprobe release.
    pub version: &'static str,
}

impl Tool {
    pub const EDGEPROBE: Tool = Tool {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
    };
}

/// Checks by result; `total` is the sum of the others and the number of keys in `checks`.
#[derive(Serialize, JsonSchema)]
// The tests read the summary back as it is.
#[cfg_attr(test, derive(Debug, PartialEq, serde::Deserialize))]
#[serde(deny_unknown_fields)]
#[schemars(deny_unknown_fields)]
struct Summary {
    /// Checks reported.
    total: usize,
    ok: usize,
    warning: usize,
    error: usize,
    /// A prerequisite failed or was not run.
    skipped: usize,
    /// Excluded with `--skip` / `--dont-run`.
    ignored: usize,
}

/// The `checks` object, keyed by id in registry order. Written entry by entry because
/// `serde_json::Map` sorts its keys unless the crate-wide `preserve_order` feature is on; order
/// does not matter to programs but does to people reading the file.
pub struct Checks<'a>(&'a [CheckReport]);

impl Serialize for Checks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for check in self.0 {
            map.serialize_entry(check.id, &CheckJson::from(check))?;
        }
        map.end()
    }
}

/// One check's result (`checks.<id>`).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "CheckResult", deny_unknown_fields)]
pub struct CheckJson {
    /// One line phrased as what should be true ("gateway name resolves to an address"),
    /// naming the port this run probed.
    description: String,
    /// The report section.
    group: Group,
    result: ResultJson,
    /// The one-line finding (the same as `result.details[0]`).
    message: String,
    /// What to do about it, when there is something to do. Commands are in backticks.
    remedy: Option<String>,
    /// Time spent in the check itself, excluding time waiting for its prerequisites.
    duration_ms: Milliseconds,
    /// The check's typed data, `{}` when it has none (a skipped check, most failures): its
    /// shape per check id is in this schema's `checks` properties.
    #[schemars(with = "super::schema::AnyObject")]
    additional_info: Redacted,
}

/// iotedge's `{"result": "warning", "details": [...]}`, with details for every status: the
/// message first, then the detail lines. Skipped checks keep their reason, which iotedge drops.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "IotedgeResult", deny_unknown_fields)]
struct ResultJson {
    /// iotedge also defines `ignored` and `fatal`; edgeprobe does not emit them.
    result: Status,
    /// The message first, then any detail lines (causes, a certificate-chain listing; some
    /// pre-formatted, starting with spaces). Present for every result, unlike iotedge.
    details: Vec<String>,
}

/// A check's info with every secret redacted on the way out: serialized as JSON, then written
/// through the one redactor, which also hides any value under a key named like a secret.
struct Redacted(serde_json::Value);

impl Redacted {
    fn of(info: &CheckInfo) -> Redacted {
        Redacted(match serde_json::to_value(info) {
            Ok(value) => value,
            Err(error) => {
                let mut object = serde_json::Map::new();
                object.insert(
                    "serialization_error".to_owned(),
                    serde_json::Value::String(error.to_string()),
                );
                serde_json::Value::Object(object)
            }
        })
    }
}

impl Serialize for Redacted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        redacting_json(&self.0).serialize(serializer)
    }
}

impl From<&CheckReport> for CheckJson {
    fn from(check: &CheckReport) -> Self {
        let outcome = &check.outcome;
        let message = redact(&outcome.message).into_owned();
        let details = std::iter::once(message.clone())
            .chain(
                outcome
                    .details
                    .iter()
                    .map(|detail| redact(detail).into_owned()),
            )
            .collect();
        CheckJson {
            description: check.title.clone(),
            group: check.group,
            result: ResultJson {
                result: outcome.status,
                details,
            },
            message,
            remedy: outcome
                .remedy
                .as_deref()
                .map(|remedy| redact(remedy).into_owned()),
            duration_ms: Milliseconds(check.duration),
            additional_info: Redacted::of(&outcome.info),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The output is read back into the test's own types, as a consumer would read it, so a
    //! renamed or retyped field fails here rather than in someone's monitoring script.

    use std::collections::BTreeMap;

    use serde::Deserialize;

    use crate::connection_string::DeviceAddress;
    use crate::engine::info::{Authentication, ConnectionStringInfo, ParsedConnectionString};
    use crate::engine::{Outcome, Ports};
    use crate::report::sample;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Report {
        schema_version: String,
        tool: ToolOut,
        target: TargetOut,
        checks: BTreeMap<String, CheckOut>,
        summary: Summary,
        verdict: String,
        elapsed_ms: f64,
        additional_info: serde_json::Value,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ToolOut {
        name: String,
        version: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct TargetOut {
        gateway: Option<String>,
        device_id: Option<String>,
        connection_string: Option<String>,
        ca_file: Option<String>,
        ports: BTreeMap<String, u16>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct CheckOut {
        description: String,
        group: String,
        result: ResultOut,
        message: String,
        remedy: Option<String>,
        duration_ms: f64,
        additional_info: serde_json::Value,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct ResultOut {
        result: String,
        details: Vec<String>,
    }

    /// How a consumer of `iotedge check -o json` reads it (written from its documented shape:
    /// an internally tagged `result`, `details` on warnings and errors, `additional_info`).
    mod iotedge_consumer {
        use std::collections::BTreeMap;

        use serde::Deserialize;

        #[derive(Debug, Deserialize)]
        pub struct Results {
            pub additional_info: serde_json::Value,
            pub checks: BTreeMap<String, Output>,
        }

        #[derive(Debug, Deserialize)]
        pub struct Output {
            pub result: Result,
            pub additional_info: serde_json::Value,
        }

        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(tag = "result", rename_all = "snake_case")]
        pub enum Result {
            Ok,
            Warning { details: Vec<String> },
            Ignored,
            Skipped,
            Fatal { details: Vec<String> },
            Error { details: Vec<String> },
        }
    }

    fn render(report: &RunReport, target: &Target) -> String {
        let mut out = Vec::new();
        write_json(&mut out, report, target, &sample::host())
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    #[test]
    fn document_has_every_documented_field() {
        let text = render(&sample::report(), &sample::target());
        assert!(text.ends_with("}\n"), "one document and a newline");
        let report: Report =
            serde_json::from_str(&text).expect("the output parses as the documented schema");

        assert_eq!(report.schema_version, "2.0");
        assert_eq!(
            (report.tool.name.as_str(), report.tool.version.as_str()),
            ("edgeprobe", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            report.target,
            TargetOut {
                gateway: Some("gw.contoso.com".into()),
                device_id: Some("thermostat-7".into()),
                connection_string: sample::target().connection_string,
                ca_file: Some("/etc/ssl/edge/azure-iot-test-only.root.ca.cert.pem".into()),
                ports: [
                    ("amqp".into(), 5671),
                    ("https".into(), 443),
                    ("mqtt".into(), 8883)
                ]
                .into(),
            }
        );
        assert_eq!(
            report.summary,
            Summary {
                total: 4,
                ok: 1,
                warning: 1,
                error: 1,
                skipped: 1,
                ignored: 0
            }
        );
        assert_eq!(report.verdict, "error");
        assert_eq!(report.elapsed_ms, 812.0);
        assert_eq!(
            report.additional_info,
            serde_json::json!({
                "now": "2026-12-01T12:00:00Z",
                "os": { "id": "debian", "version_id": "12", "arch": "x86_64" },
                "edgeprobe_version": env!("CARGO_PKG_VERSION"),
            })
        );

        let resolves = &report.checks["gateway-resolve"];
        assert_eq!(resolves.description, "gateway name resolves");
        assert_eq!(resolves.group, "Gateway connectivity");
        assert_eq!(
            resolves.result,
            ResultOut {
                result: "ok".into(),
                details: vec!["gw.contoso.com resolves to 10.0.0.4".into()]
            }
        );
        assert_eq!(resolves.message, "gw.contoso.com resolves to 10.0.0.4");
        assert_eq!(resolves.remedy, None);
        assert_eq!(resolves.duration_ms, 3.0);
        assert_eq!(
            resolves.additional_info,
            serde_json::to_value(sample::resolved()).expect("serializes"),
            "the typed info, as its own type serializes it"
        );
        assert_eq!(
            (
                &resolves.additional_info["name"],
                &resolves.additional_info["addresses"]
            ),
            (&"gw.contoso.com".into(), &serde_json::json!(["10.0.0.4"]))
        );

        let chain = &report.checks["gateway-cert-chain"];
        assert_eq!(chain.result.result, "error");
        assert_eq!(
            chain.result.details,
            [
                "Verify return code: 20 (unable to get local issuer certificate)",
                "Certificate chain",
                " 0 s:CN = gw.contoso.com",
                "   i:CN = Edge Device CA",
            ]
        );
        assert!(
            chain
                .remedy
                .as_deref()
                .is_some_and(|remedy| remedy.contains("`openssl s_client"))
        );
        assert_eq!(chain.duration_ms, 41.0);
        assert_eq!(
            chain.additional_info,
            serde_json::json!({}),
            "no info is an empty object, not null"
        );

        let expiry = &report.checks["gateway-cert-expiry"];
        assert_eq!(expiry.result.result, "warning");
        assert_eq!(
            expiry.remedy.as_deref(),
            Some("renew the edge CA certificate before it expires")
        );

        let name = &report.checks["gateway-cert-hostname"];
        assert_eq!(
            name.result,
            ResultOut {
                result: "skipped".into(),
                details: vec!["skipped because `gateway-cert-chain` failed".into()]
            }
        );
    }

    #[test]
    fn checks_appear_in_registry_order() {
        let text = render(&sample::report(), &sample::target());
        let positions: Vec<usize> = sample::report()
            .checks
            .iter()
            .map(|check| {
                text.find(&format!("\"{}\": {{", check.id))
                    .expect("every check is a key")
            })
            .collect();
        assert!(
            positions.windows(2).all(|pair| pair[0] < pair[1]),
            "{positions:?}\n{text}"
        );
        // And not merely sorted: the sample is deliberately not in alphabetical order.
        let ids: Vec<&str> = sample::report()
            .checks
            .iter()
            .map(|check| check.id)
            .collect();
        let mut sorted_ids = ids.clone();
        sorted_ids.sort_unstable();
        assert_ne!(ids, sorted_ids);
    }

    #[test]
    fn iotedge_check_consumers_can_read_it() {
        use iotedge_consumer::{Result, Results};
        let text = render(&sample::report(), &sample::target());
        let results: Results =
            serde_json::from_str(&text).expect("iotedge-shaped consumers accept our output");
        assert_eq!(results.checks["gateway-resolve"].result, Result::Ok);
        assert_eq!(
            results.checks["gateway-cert-hostname"].result,
            Result::Skipped
        );
        assert!(matches!(
            &results.checks["gateway-cert-chain"].result,
            Result::Error { details } if details[0].starts_with("Verify return code: 20")
        ));
        assert!(
            matches!(&results.checks["gateway-cert-expiry"].result, Result::Warning { details } if details.len() == 1)
        );
        assert!(
            results.checks["gateway-resolve"]
                .additional_info
                .is_object()
        );
        assert!(results.additional_info.is_object());
    }

    #[test]
    fn verdict_and_summary_follow_the_worst_status() {
        let mut report = sample::report();
        report
            .checks
            .retain(|check| check.outcome.status != Status::Error);
        let parsed: Report =
            serde_json::from_str(&render(&report, &Target::default())).expect("parses");
        assert_eq!(parsed.verdict, "warning");
        assert_eq!(
            parsed.summary,
            Summary {
                total: 3,
                ok: 1,
                warning: 1,
                error: 0,
                skipped: 1,
                ignored: 0
            }
        );
        assert_eq!(
            parsed.target,
            TargetOut {
                gateway: None,
                device_id: None,
                connection_string: None,
                ca_file: None,
                ports: [
                    ("amqp".into(), 5671),
                    ("https".into(), 443),
                    ("mqtt".into(), 8883)
                ]
                .into(),
            }
        );

        report
            .checks
            .retain(|check| check.outcome.status == Status::Ok);
        let parsed: Report =
            serde_json::from_str(&render(&report, &Target::default())).expect("parses");
        assert_eq!(parsed.verdict, "ok");

        report.checks.clear();
        let parsed: Report =
            serde_json::from_str(&render(&report, &Target::default())).expect("parses");
        assert_eq!(
            (
                parsed.verdict.as_str(),
                parsed.summary.total,
                parsed.checks.len()
            ),
            ("ok", 0, 0)
        );
    }

    #[test]
    fn custom_ports_are_reported() {
        let target = Target {
            ports: Ports {
                mqtt: 18883,
                amqp: 15671,
                https: 8443,
            },
            ..Target::default()
        };
        let parsed: Report =
            serde_json::from_str(&render(&sample::report(), &target)).expect("parses");
        assert_eq!(
            parsed.target.ports,
            [
                ("amqp".into(), 15671),
                ("https".into(), 8443),
                ("mqtt".into(), 18883)
            ]
            .into()
        );
    }

    #[test]
    fn secrets_slipped_into_any_field_are_not_written() {
        let with_leaky_info = |leaky: String| {
            Outcome::error(leaky.clone()).info(ConnectionStringInfo::Parsed(
                ParsedConnectionString {
                    address: DeviceAddress {
                        host_name: "h".into(),
                        device_id: "d".into(),
                        module_id: None,
                        gateway_host_name: Some(leaky.clone()),
                    },
                    authentication: Authentication::SharedAccessKey,
                    redacted: leaky,
                },
            ))
        };
        let (report, target) = sample::leaky(with_leaky_info, "RSA PRIVATE KEY");
        let text = render(&report, &target);
        assert!(!text.contains(sample::SECRET), "{text}");
        let parsed: Report = serde_json::from_str(&text).expect("parses");
        assert_eq!(
            parsed.target.connection_string.as_deref(),
            Some("HostName=h;DeviceId=d;SharedAccessKey=<redacted>")
        );
        assert_eq!(
            parsed.checks["gateway-resolve"].result.details[1],
            "HostName=h;DeviceId=d;SharedAccessKey=<redacted>"
        );
    }
}
