//! One gateway's run reduced to what monitoring reads: the verdict, each check's status, and per
//! port the connect outcome, timings, OpenSSL verify code and certificate expiry. Fleet mode
//! reduces every run to this as soon as it finishes and drops the rest (chains, details), so
//! memory does not grow with the number of gateways; the fleet printers and the Prometheus
//! output read only this.

use std::time::Duration;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{Verdict, verdict};
use crate::engine::{Evidence, Ports, RunReport, Status};
use crate::net::Protocol;
use crate::secrets::redact;

/// The compact result of checking one gateway.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    /// The line of the targets file that named this gateway (1-based); absent for a
    /// single-gateway run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub gateway: String,
    pub ca_file: Option<String>,
    pub verdict: Verdict,
    /// Every check that was reported, in registry order, with its status.
    #[serde(serialize_with = "statuses_by_id")]
    pub checks: Vec<CheckStatus>,
    /// The checks that raised a warning or an error, with what they found and what to do.
    pub problems: Vec<Problem>,
    pub ports: Vec<PortResult>,
    #[serde(rename = "elapsed_ms", serialize_with = "as_millis")]
    pub elapsed: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStatus {
    pub id: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub check: String,
    pub status: Status,
    pub message: String,
    pub remedy: Option<String>,
}

/// One port as the connect check and the chain check saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortResult {
    pub protocol: Protocol,
    pub port: u16,
    /// The connect check's status (`skipped` when it could not run).
    pub status: Status,
    /// Why the connection failed (`refused`, `connect_timeout`, `handshake_timeout`, ...).
    pub error: Option<String>,
    pub connect_seconds: Option<f64>,
    pub handshake_seconds: Option<f64>,
    /// OpenSSL's verify return code for the chain this port presented (0 is OK).
    pub verify_code: Option<u32>,
    /// `notAfter` of the certificate this port presented, in Unix seconds.
    pub cert_not_after: Option<i64>,
}

fn statuses_by_id<S: Serializer>(checks: &[CheckStatus], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(checks.len()))?;
    for check in checks {
        map.serialize_entry(&check.id, &check.status)?;
    }
    map.end()
}

fn as_millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

/// The part of `gateway-cert-chain`'s `additional_info` read here (docs/json-schema.md).
#[derive(Deserialize)]
struct ChainInfo {
    #[serde(default)]
    ports: Vec<ChainPort>,
}

#[derive(Deserialize)]
struct ChainPort {
    protocol: String,
    verify_code: u32,
}

impl TargetResult {
    /// Reduce a finished run. `ports` are the ports probed (for ports whose check did not run).
    pub fn from_run<'r>(
        line: Option<usize>,
        gateway: &str,
        ca_file: Option<String>,
        ports: Ports,
        report: &'r RunReport,
    ) -> TargetResult {
        let checks = report
            .checks
            .iter()
            .map(|check| CheckStatus {
                id: check.id.to_owned(),
                status: check.outcome.status,
            })
            .collect();
        let problems = report
            .checks
            .iter()
            .filter(|check| matches!(check.outcome.status, Status::Warning | Status::Error))
            .map(|check| Problem {
                check: check.id.to_owned(),
                status: check.outcome.status,
                message: redact(&check.outcome.message).into_owned(),
                remedy: check
                    .outcome
                    .remedy
                    .as_deref()
                    .map(|remedy| redact(remedy).into_owned()),
            })
            .collect();
        // Read in place: the info also holds every port's chain summary, not worth a copy.
        let verify_codes: Vec<ChainPort> = report
            .get("gateway-cert-chain")
            .and_then(|chain| ChainInfo::deserialize(&chain.outcome.info).ok())
            .map(|info| info.ports)
            .unwrap_or_default();
        // The ports usually present one chain: parse each distinct leaf once.
        let mut expiries: Vec<(&'r [u8], Option<i64>)> = Vec::new();
        let mut not_after = |leaf: &'r [u8]| -> Option<i64> {
            if let Some((_, known)) = expiries.iter().find(|(der, _)| *der == leaf) {
                return *known;
            }
            let parsed = x509_parser::parse_x509_certificate(leaf)
                .ok()
                .map(|(_, certificate)| certificate.validity().not_after.timestamp());
            expiries.push((leaf, parsed));
            parsed
        };
        let ports = Protocol::ALL
            .into_iter()
            .filter_map(|protocol| {
                let check = report.get(protocol.connect_check_id())?;
                let outcome = &check.outcome;
                let handshake = match &outcome.evidence {
                    Evidence::Handshake(handshake) => Some(handshake),
                    _ => None,
                };
                Some(PortResult {
                    protocol,
                    port: handshake
                        .map_or(ports.get(protocol), |handshake| handshake.address.port()),
                    status: outcome.status,
                    error: (outcome.status == Status::Error)
                        .then(|| outcome.info.get("error")?.as_str().map(str::to_owned))
                        .flatten(),
                    connect_seconds: handshake
                        .map(|handshake| handshake.connect_time.as_secs_f64()),
                    handshake_seconds: handshake
                        .map(|handshake| handshake.handshake_time.as_secs_f64()),
                    verify_code: verify_codes
                        .iter()
                        .find(|port| port.protocol == protocol.key())
                        .map(|port| port.verify_code),
                    cert_not_after: handshake
                        .and_then(|handshake| handshake.chain.first())
                        .and_then(|leaf| not_after(leaf.as_ref())),
                })
            })
            .collect();
        TargetResult {
            line,
            gateway: redact(gateway).into_owned(),
            ca_file: ca_file.map(|path| redact(&path).into_owned()),
            verdict: verdict(report),
            checks,
            problems,
            ports,
            elapsed: report.elapsed,
        }
    }

    /// A gateway (or a line of the targets file) that could not be checked at all: an error
    /// reported under `reason` (such as `targets-file`) instead of check results.
    pub fn not_checked(
        line: Option<usize>,
        gateway: &str,
        reason: &str,
        message: String,
        remedy: Option<String>,
    ) -> TargetResult {
        TargetResult {
            line,
            gateway: redact(gateway.trim()).into_owned(),
            ca_file: None,
            verdict: Verdict::Error,
            checks: Vec::new(),
            problems: vec![Problem {
                check: reason.to_owned(),
                status: Status::Error,
                message: redact(&message).into_owned(),
                remedy: remedy.map(|remedy| redact(&remedy).into_owned()),
            }],
            ports: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Whether this gateway makes the run fail (exit status 1).
    pub fn fails(&self, warnings_as_errors: bool) -> bool {
        match self.verdict {
            Verdict::Error => true,
            Verdict::Warning => warnings_as_errors,
            Verdict::Ok => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::engine::{CheckReport, Group, Outcome};

    use super::*;

    fn check(id: &'static str, outcome: Outcome) -> CheckReport {
        CheckReport {
            id,
            group: Group::GatewayConnectivity,
            description: "something holds",
            outcome: Arc::new(outcome),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn reduces_statuses_problems_and_port_findings() {
        let report = RunReport {
            checks: vec![
                check("gateway-resolve", Outcome::ok("resolves")),
                check(
                    "gateway-connect-mqtt",
                    Outcome::error("MQTTS 18883: connection refused")
                        .remedy("start edgeHub")
                        .info(&serde_json::json!({"protocol": "mqtt", "port": 18883, "error": "refused"})),
                ),
                check(
                    "gateway-connect-amqp",
                    Outcome::skipped("skipped because `gateway-resolve` failed"),
                ),
                check(
                    "gateway-cert-chain",
                    Outcome::error("Verify return code: 20").info(&serde_json::json!({
                        "ports": [{"protocol": "https", "port": 443, "verify_code": 20}]
                    })),
                ),
            ],
            elapsed: Duration::from_millis(12),
        };
        let ports = Ports {
            mqtt: 18883,
            ..Ports::default()
        };
        let result = TargetResult::from_run(
            Some(4),
            "gw.contoso.com",
            Some("root.pem".into()),
            ports,
            &report,
        );
        assert_eq!(result.verdict, Verdict::Error);
        assert_eq!(result.checks.len(), 4);
        assert_eq!(
            result
                .problems
                .iter()
                .map(|problem| problem.check.as_str())
                .collect::<Vec<_>>(),
            ["gateway-connect-mqtt", "gateway-cert-chain"]
        );
        assert_eq!(result.problems[0].remedy.as_deref(), Some("start edgeHub"));
        // No HTTPS connect check was reported: no HTTPS port entry, even though the chain
        // info names one.
        assert_eq!(result.ports.len(), 2);
        let mqtt = &result.ports[0];
        assert_eq!(
            (
                mqtt.port,
                mqtt.status,
                mqtt.error.as_deref(),
                mqtt.verify_code
            ),
            (18883, Status::Error, Some("refused"), None)
        );
        let amqp = &result.ports[1];
        assert_eq!(
            (amqp.port, amqp.status, amqp.error.as_deref()),
            (5671, Status::Skipped, None)
        );
        assert!(result.fails(false));

        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["line"], 4);
        assert_eq!(json["checks"]["gateway-connect-amqp"], "skipped");
        assert_eq!(json["elapsed_ms"], 12.0);
        assert_eq!(json["ports"][0]["protocol"], "mqtt");
    }

    #[test]
    fn single_gateway_results_have_no_line_and_secrets_are_redacted() {
        let secret = "HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0";
        let report = RunReport {
            checks: vec![check("connection-string", Outcome::warning(secret))],
            elapsed: Duration::ZERO,
        };
        let result = TargetResult::from_run(None, "gw", None, Ports::default(), &report);
        let json = serde_json::to_string(&result).unwrap();
        assert!(!json.contains("\"line\""), "{json}");
        assert!(!json.contains("c2VjcmV0"), "{json}");
        assert!(!result.fails(false));
        assert!(result.fails(true));
    }
}
