//! One gateway's run reduced to what monitoring reads: the verdict, each check's status, and per
//! port the connect outcome, timings, OpenSSL verify code and certificate expiry. Fleet mode
//! reduces every run to this as soon as it finishes and drops the rest (chains, details), so
//! memory does not grow with the number of gateways; the fleet printers and the Prometheus
//! output read only this.
//!
//! The per-port facts come from the run's typed evidence (each port's observation and the
//! verdict on its chain), for the leaf suite's gateway ports as for the gateway suite's own
//! edgeHub ports: nothing here parses a certificate or reads a check's JSON.

use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::{Verdict, verdict};
use crate::engine::{Evidence, ObservedPort, RunReport, Status};
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

impl TargetResult {
    /// Reduce a finished run of `gateway` (the name leaves dial).
    pub fn from_run(
        line: Option<usize>,
        gateway: &str,
        ca_file: Option<String>,
        report: &RunReport,
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
        // Every port of the gateway the run observed, with its verdict where one was reached.
        let observed: Vec<&ObservedPort> = report
            .checks
            .iter()
            .flat_map(|check| check.outcome.evidence.ports())
            .filter(|port| port.peer.is_gateway())
            .collect();
        let ports = report
            .checks
            .iter()
            .filter_map(|check| {
                let probed = check
                    .port
                    .filter(|port| port.connects && port.peer.is_gateway())?;
                let outcome = &check.outcome;
                let mine = |port: &&&ObservedPort| port.observation.protocol == probed.protocol;
                let observation = observed.iter().find(mine).map(|port| &port.observation);
                let session = observation.and_then(|observation| observation.session());
                let verdict = observed
                    .iter()
                    .filter(mine)
                    .find_map(|port| port.verdict.as_ref());
                Some(PortResult {
                    protocol: probed.protocol,
                    port: probed.port,
                    status: outcome.status,
                    error: (outcome.status == Status::Error)
                        .then(|| observation?.error().map(|error| error.kind().to_owned()))
                        .flatten(),
                    connect_seconds: session
                        .map(|session| session.handshake.connect_time.as_secs_f64()),
                    handshake_seconds: session
                        .map(|session| session.handshake.handshake_time.as_secs_f64()),
                    verify_code: verdict
                        .and_then(|verdict| verdict.code())
                        .map(|code| code.number()),
                    cert_not_after: session
                        .and_then(|session| session.chain.leaf())
                        .map(|leaf| leaf.not_after.unix_timestamp()),
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

    /// The gateway's configured `hostname`, for a gateway-mode run (where no name is dialed):
    /// from the config the run parsed.
    pub fn configured_gateway(report: &RunReport) -> Option<String> {
        report
            .checks
            .iter()
            .find_map(|check| match &check.outcome.evidence {
                Evidence::EdgeConfig(config) => config.hostname.clone(),
                _ => None,
            })
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
    use std::net::SocketAddr;
    use std::sync::Arc;

    use crate::engine::{CheckReport, Group, Outcome, Peer, PortCheck};
    use crate::net::observation::{Attempt, AttemptOutcome, Observation, PresentedChain, Session};
    use crate::net::tls::{ConnectError, Handshake};
    use crate::pki::VerifyCode;
    use crate::pki::verdicts::ChainVerdict;
    use crate::pki::verify::{Verification, VerifyError};

    use super::*;

    fn check(id: &'static str, outcome: Outcome) -> CheckReport {
        CheckReport {
            id,
            group: Group::GatewayConnectivity,
            description: "something holds",
            title: "something holds".to_owned(),
            port: None,
            outcome: Arc::new(outcome),
            duration: Duration::ZERO,
        }
    }

    fn port_check(
        id: &'static str,
        protocol: Protocol,
        port: u16,
        peer: Peer,
        outcome: Outcome,
    ) -> CheckReport {
        CheckReport {
            port: Some(PortCheck {
                protocol,
                port,
                peer,
                connects: true,
            }),
            ..check(id, outcome)
        }
    }

    fn observation(
        protocol: Protocol,
        port: u16,
        result: Result<Session, ConnectError>,
    ) -> Arc<Observation> {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        Arc::new(Observation {
            protocol,
            server_name: "gw.contoso.com".to_owned(),
            port,
            attempts: vec![Attempt {
                address,
                elapsed: Duration::from_micros(300),
                outcome: match &result {
                    Ok(_) => AttemptOutcome::Connected,
                    Err(error) => AttemptOutcome::Failed(error.clone()),
                },
            }],
            result,
        })
    }

    fn verdict(code: VerifyCode) -> Arc<ChainVerdict> {
        let errors = (!code.is_ok())
            .then(|| VerifyError {
                code,
                depth: 0,
                subject: "CN = gw.contoso.com".to_owned(),
                issuer: "CN = ca".to_owned(),
            })
            .into_iter()
            .collect();
        Arc::new(ChainVerdict {
            openssl: Ok(Verification {
                chain: Vec::new(),
                errors,
                unchecked_signatures: Vec::new(),
            }),
            strict: None,
        })
    }

    #[test]
    fn reduces_statuses_problems_and_port_findings() {
        let refused = SocketAddr::from(([127, 0, 0, 1], 18883));
        let mqtt = observation(
            Protocol::Mqtt,
            18883,
            Err(ConnectError::Refused { endpoint: refused }),
        );
        let https = observation(
            Protocol::Https,
            443,
            Err(ConnectError::Refused { endpoint: refused }),
        );
        let report = RunReport {
            checks: vec![
                check("gateway-resolve", Outcome::ok("resolves")),
                port_check(
                    "gateway-connect-mqtt",
                    Protocol::Mqtt,
                    18883,
                    Peer::Gateway,
                    Outcome::error("MQTTS 18883: connection refused")
                        .remedy("start edgeHub")
                        .evidence(Evidence::Port(Arc::new(ObservedPort {
                            peer: Peer::Gateway,
                            observation: mqtt,
                            verdict: None,
                        }))),
                ),
                port_check(
                    "gateway-connect-amqp",
                    Protocol::Amqp,
                    5671,
                    Peer::Gateway,
                    Outcome::skipped("skipped because `gateway-resolve` failed"),
                ),
                check(
                    "gateway-cert-chain",
                    Outcome::error("Verify return code: 20").evidence(Evidence::JudgedPorts(
                        vec![ObservedPort {
                            peer: Peer::Gateway,
                            observation: https,
                            verdict: Some(verdict(VerifyCode::UnableToGetIssuerCertLocally)),
                        }]
                        .into(),
                    )),
                ),
            ],
            elapsed: Duration::from_millis(12),
        };
        let result =
            TargetResult::from_run(Some(4), "gw.contoso.com", Some("root.pem".into()), &report);
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
        // check judged one.
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

    /// Gateway mode: edgeHub's ports, observed and judged by one check each, are the gateway's
    /// per-port series; the way upstream (parent, IoT Hub) is not.
    #[test]
    fn the_gateway_suites_edgehub_ports_are_reported_per_port() {
        let now = time::OffsetDateTime::now_utc();
        let pki = crate::demo::pki::GatewayPki::generate("gw.contoso.com", now).expect("PKI");
        let chain = PresentedChain::new(pki.server_chain());
        let not_after = chain.leaf().map(|leaf| leaf.not_after.unix_timestamp());
        let session = Session {
            handshake: Handshake {
                address: SocketAddr::from(([127, 0, 0, 1], 8883)),
                tls_version: "TLSv1.3".to_owned(),
                cipher_suite: "TLS_AES_256_GCM_SHA384".to_owned(),
                key_exchange_group: Some("X25519".to_owned()),
                alpn: None,
                connect_time: Duration::from_millis(2),
                handshake_time: Duration::from_millis(5),
            },
            chain: Arc::new(chain),
            answer: None,
        };
        let examined = |peer, code| {
            Outcome::ok("presents").evidence(Evidence::Port(Arc::new(ObservedPort {
                peer,
                observation: observation(Protocol::Mqtt, 8883, Ok(session.clone())),
                verdict: Some(verdict(code)),
            })))
        };
        let report = RunReport {
            checks: vec![
                port_check(
                    "edgehub-listening-mqtt",
                    Protocol::Mqtt,
                    8883,
                    Peer::EdgeHub,
                    examined(Peer::EdgeHub, VerifyCode::HostnameMismatch),
                ),
                port_check(
                    "parent-connect-mqtt",
                    Protocol::Mqtt,
                    8883,
                    Peer::Parent,
                    examined(Peer::Parent, VerifyCode::Ok),
                ),
            ],
            elapsed: Duration::ZERO,
        };
        let result = TargetResult::from_run(None, "gw.contoso.com", None, &report);
        assert_eq!(result.ports.len(), 1, "{:?}", result.ports);
        let port = &result.ports[0];
        assert_eq!(
            (port.protocol, port.port, port.status, port.verify_code),
            (Protocol::Mqtt, 8883, Status::Ok, Some(62))
        );
        assert_eq!(port.connect_seconds, Some(0.002));
        assert_eq!(port.handshake_seconds, Some(0.005));
        assert_eq!(port.cert_not_after, not_after);
        assert!(port.cert_not_after.is_some());
    }

    #[test]
    fn single_gateway_results_have_no_line_and_secrets_are_redacted() {
        let secret = "HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0";
        let report = RunReport {
            checks: vec![check("connection-string", Outcome::warning(secret))],
            elapsed: Duration::ZERO,
        };
        let result = TargetResult::from_run(None, "gw", None, &report);
        let json = serde_json::to_string(&result).unwrap();
        assert!(!json.contains("\"line\""), "{json}");
        assert!(!json.contains("c2VjcmV0"), "{json}");
        assert!(!result.fails(false));
        assert!(result.fails(true));
    }
}
