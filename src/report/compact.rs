//! One gateway's run reduced to what monitoring reads: the verdict, each check's status, and per
//! port the connect outcome, timings, OpenSSL verify code and certificate expiry. Fleet mode
//! reduces every run to this as soon as it finishes and drops the rest (chains, details), so
//! memory does not grow with the number of gateways; the fleet printers and the Prometheus
//! output read only this.
//!
//! The per-port facts come from the run's typed evidence (each port's observation and the
//! verdict on its chain), for the leaf suite's gateway ports as for the gateway suite's own
//! edgeHub ports and its parent's: nothing here parses a certificate or reads a check's JSON.
//! A gateway-mode run adds the certificates its config names, from the typed expiry info of
//! its configuration checks.

use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::{Verdict, verdict};
use crate::engine::info::{CheckInfo, ProtocolPort};
use crate::engine::{CheckReport, Evidence, Group, ObservedPort, Peer, RunReport, Status};
use crate::net::observation::Session;
use crate::pki::TrustAnchors;
use crate::pki::describe::CertificateSummary;
use crate::pki::verdicts::ChainVerdict;
use crate::secrets::redact;

// Its JSON Schema (`docs/target-result.schema.json`) is derived from this type, the
// hand-written serializers given their shape with `schemars(with)`; the doc comments below are
// the schema's descriptions.
/// One gateway's compact result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(
    title = "edgeprobe target result (a line of --output jsonl)",
    deny_unknown_fields
)]
pub struct TargetResult {
    /// Line of the targets file (1-based). Absent for a single-gateway run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The gateway name as listed (for a malformed line: the line's text).
    pub gateway: String,
    /// The root CA file used: the line's own, else `--ca-file`, else null (system store).
    pub ca_file: Option<String>,
    pub verdict: Verdict,
    /// Check id to `result.result`, in run order; empty when the gateway could not be checked
    /// at all.
    #[serde(serialize_with = "statuses_by_id")]
    #[schemars(with = "std::collections::BTreeMap<String, Status>")]
    pub checks: Vec<CheckStatus>,
    /// The checks that raised a warning or an error.
    pub problems: Vec<Problem>,
    /// One entry per connect check that applied.
    pub ports: Vec<PortResult>,
    /// Gateway mode: each certificate the config names (the device CA chain, the trusted
    /// roots) with its expiry, as `certificates-expiry` rated it; absent on a leaf.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<ConfiguredCertificate>,
    /// Gateway mode on a lower layer of a nested hierarchy: the parent (`parent_hostname`) and
    /// its ports as this gateway reaches them; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentResult>,
    /// How long resolving the gateway's name took (hosts file or DNS); absent when the run did
    /// not resolve it.
    pub dns_lookup_seconds: Option<f64>,
    /// Time spent on this gateway.
    #[serde(rename = "elapsed_ms", serialize_with = "as_millis")]
    #[schemars(with = "crate::engine::Milliseconds")]
    pub elapsed: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStatus {
    pub id: String,
    pub status: Status,
}

// A check that raised a warning or an error, with what it found and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Problem {
    /// The check id, or `targets-file` for a malformed line.
    pub check: String,
    pub status: Status,
    pub message: String,
    pub remedy: Option<String>,
}

// One port as the connect check and the chain check saw it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PortResult {
    #[serde(flatten)]
    pub probed: ProtocolPort,
    /// The connect check's result.
    pub status: Status,
    /// Why it failed: `refused`, `connect_timeout`, `handshake_timeout`, `not_tls`,
    /// `tls_alert`, ..., `open_files_limit` when edgeprobe ran out of file descriptors on this
    /// machine; null when it did not.
    pub error: Option<String>,
    /// TCP connect time, in seconds.
    pub connect_seconds: Option<f64>,
    /// TLS handshake time, in seconds.
    pub handshake_seconds: Option<f64>,
    /// OpenSSL's verify return code for the chain this port presented (0 is OK); null when
    /// not verified.
    pub verify_code: Option<u32>,
    /// The presented certificate's notAfter, in Unix seconds.
    pub cert_not_after: Option<i64>,
    /// `TLSv1.3` or `TLSv1.2`, as OpenSSL names it.
    pub tls_version: Option<String>,
    /// How long the protocol's first request took to be answered (CONNACK, SASL offer, HTTP
    /// status).
    pub protocol_seconds: Option<f64>,
    /// The certificate this port presented (the leaf), as monitoring labels it.
    pub certificate: Option<PresentedCertificate>,
    /// The earliest `notAfter` among every certificate the port presented, in Unix seconds:
    /// an intermediate can expire before the leaf.
    pub chain_not_after: Option<i64>,
    /// The earliest `notAfter` along the chain that verified (the presented certificates used
    /// and the root from the CA file), in Unix seconds; absent unless the chain verified.
    pub verified_chain_not_after: Option<i64>,
}

/// A certificate the gateway's config names, as monitoring reads its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ConfiguredCertificate {
    /// The check that rated it (`certificates-expiry`).
    pub check: String,
    /// Where it came from (`device CA, /etc/aziot/certs/device-ca.pem`, `trusted root, ...`).
    pub source: String,
    /// OpenSSL's one-line form.
    pub subject: String,
    /// SHA-256 of the DER, lower-case hex without separators (blackbox_exporter's form).
    pub fingerprint_sha256: String,
    /// Its notAfter, in Unix seconds.
    pub not_after: i64,
    /// The check's verdict on it: `warning` within the threshold, `error` when expired, not
    /// yet valid or past IoT Edge's 2038 limit.
    pub status: Status,
}

/// A lower layer's parent gateway, as the child reaches it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ParentResult {
    /// `parent_hostname` from the config: the name the child dials.
    pub hostname: String,
    /// One entry per parent connect check that applied.
    pub ports: Vec<PortResult>,
}

/// The presented leaf, as blackbox_exporter's `probe_ssl_last_chain_info` labels it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PresentedCertificate {
    /// SHA-256 of the DER, lower-case hex without separators (blackbox_exporter's form).
    pub fingerprint_sha256: String,
    pub subject: String,
    pub issuer: String,
    /// The subjectAltName entries, DNS names then IP addresses, comma-separated.
    pub subject_alternative_names: String,
}

impl PresentedCertificate {
    fn of(leaf: &CertificateSummary) -> PresentedCertificate {
        let names = leaf
            .alt_names
            .dns_names
            .iter()
            .cloned()
            .chain(leaf.alt_names.ip_addresses.iter().map(ToString::to_string));
        PresentedCertificate {
            fingerprint_sha256: blackbox_fingerprint(&leaf.sha256_fingerprint),
            subject: leaf.subject.clone(),
            issuer: leaf.issuer.clone(),
            subject_alternative_names: names.collect::<Vec<_>>().join(","),
        }
    }
}

/// `ab01...` from OpenSSL's `AB:01:...`: blackbox_exporter's form of a SHA-256 fingerprint.
fn blackbox_fingerprint(openssl: &str) -> String {
    openssl.replace(':', "").to_ascii_lowercase()
}

/// The earliest expiry along the chain OpenSSL built, when it verified: each link is a
/// certificate the server presented or a root of the run's trust anchors, each already
/// described where it was loaded.
fn verified_chain_not_after(
    session: &Session,
    verdict: &ChainVerdict,
    anchors: &[&TrustAnchors],
) -> Option<i64> {
    let verification = verdict.openssl.as_ref().ok()?;
    if verification.code().number() != 0 {
        return None;
    }
    verification
        .chain
        .iter()
        .map(|link| {
            let presented = session
                .chain
                .certificates
                .iter()
                .position(|der| *der == link.der)
                .and_then(|index| session.chain.summaries.get(index)?.as_ref().ok())
                .map(|summary| summary.not_after);
            // A root from the CA file was never presented: its description is the anchors'.
            presented
                .or_else(|| {
                    anchors
                        .iter()
                        .find_map(|anchors| anchors.summary_of(&link.der))
                        .map(|summary| summary.not_after)
                })
                .map(|not_after| not_after.unix_timestamp())
        })
        .collect::<Option<Vec<i64>>>()?
        .into_iter()
        .min()
}

/// Every port of `wanted` peers the run observed, one per connect check that applied, with the
/// verdict on its chain where one was reached.
fn port_results(report: &RunReport, wanted: impl Fn(Peer) -> bool) -> Vec<PortResult> {
    // The roots chains were verified against: the leaf's CA file (or OS store), the gateway's
    // trust bundle.
    let anchors: Vec<&TrustAnchors> = report
        .checks
        .iter()
        .filter_map(|check| match &check.outcome.evidence {
            Evidence::TrustAnchors(anchors) => Some(anchors.as_ref()),
            Evidence::ConfiguredCertificates(configured) => configured.trust_bundle.as_deref(),
            _ => None,
        })
        .collect();
    let observed: Vec<&ObservedPort> = report
        .checks
        .iter()
        .flat_map(|check| check.outcome.evidence.ports())
        .filter(|port| wanted(port.peer))
        .collect();
    report
        .checks
        .iter()
        .filter_map(|check| {
            let probed = check
                .port
                .filter(|port| port.connects && wanted(port.peer))?;
            let outcome = &check.outcome;
            let mine = |port: &&&ObservedPort| port.observation.protocol == probed.protocol;
            let observation = observed.iter().find(mine).map(|port| &port.observation);
            let session = observation.and_then(|observation| observation.session());
            let verdict = observed
                .iter()
                .filter(mine)
                .find_map(|port| port.verdict.as_ref());
            Some(PortResult {
                probed: ProtocolPort {
                    protocol: probed.protocol,
                    port: probed.port,
                },
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
                tls_version: session
                    .map(|session| session.handshake.negotiated.tls_version.clone()),
                protocol_seconds: session
                    .and_then(|session| session.answer_time)
                    .map(|time| time.as_secs_f64()),
                certificate: session
                    .and_then(|session| session.chain.leaf())
                    .map(PresentedCertificate::of),
                chain_not_after: session.and_then(|session| {
                    session
                        .chain
                        .readable()
                        .map(|certificate| certificate.not_after.unix_timestamp())
                        .min()
                }),
                verified_chain_not_after: session.zip(verdict).and_then(|(session, verdict)| {
                    verified_chain_not_after(session, verdict, &anchors)
                }),
            })
        })
        .collect()
}

/// The certificates the configuration checks rated (gateway mode's `certificates-expiry`),
/// once each.
fn configured_certificates(report: &RunReport) -> Vec<ConfiguredCertificate> {
    let mut certificates: Vec<ConfiguredCertificate> = Vec::new();
    let rated = report
        .checks
        .iter()
        .filter(|check| check.group == Group::Configuration)
        .filter_map(|check: &CheckReport| match &check.outcome.info {
            CheckInfo::Expiry(info) => Some((check.id, info)),
            _ => None,
        });
    for (id, info) in rated {
        for validity in &info.certificates {
            let certificate = ConfiguredCertificate {
                check: id.to_owned(),
                source: redact(&validity.source).into_owned(),
                subject: validity.subject.clone(),
                fingerprint_sha256: blackbox_fingerprint(&validity.sha256),
                not_after: validity.not_after_unix,
                status: validity.status,
            };
            if !certificates.contains(&certificate) {
                certificates.push(certificate);
            }
        }
    }
    certificates
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
        let ports = port_results(report, Peer::is_gateway);
        let certificates = configured_certificates(report);
        let parent = TargetResult::configured_parent(report).map(|hostname| ParentResult {
            hostname,
            ports: port_results(report, |peer| peer == Peer::Parent),
        });
        let dns_lookup_seconds = report
            .checks
            .iter()
            .find(|check| matches!(check.outcome.evidence, Evidence::Resolution(_)))
            .map(|check| check.duration.as_secs_f64());
        TargetResult {
            line,
            gateway: redact(gateway).into_owned(),
            ca_file: ca_file.map(|path| redact(&path).into_owned()),
            verdict: verdict(report),
            checks,
            problems,
            ports,
            certificates,
            parent,
            dns_lookup_seconds,
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
                Evidence::EdgeConfig(config) => config.names.hostname.clone(),
                _ => None,
            })
    }

    /// The parent's name (`parent_hostname`) for a gateway-mode run of a lower layer: from the
    /// config the run parsed.
    pub fn configured_parent(report: &RunReport) -> Option<String> {
        report
            .checks
            .iter()
            .find_map(|check| match &check.outcome.evidence {
                Evidence::EdgeConfig(config) => config.names.parent_hostname.clone(),
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
            certificates: Vec::new(),
            parent: None,
            dns_lookup_seconds: None,
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

    use crate::engine::{CheckReport, Outcome, Peer, PortCheck};
    use crate::net::observation::{Attempt, AttemptOutcome, Observation, PresentedChain, Session};
    use crate::net::tls::{ConnectError, Handshake, Negotiated};
    use crate::pki::VerifyCode;
    use crate::pki::verdicts::ChainVerdict;
    use crate::pki::verify::{Verification, VerifyError};

    use super::*;
    use crate::net::Protocol;

    fn check(id: &'static str, outcome: Outcome) -> CheckReport {
        crate::report::sample::check(id, "something holds", outcome, 0)
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
            proxy: None,
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
                mqtt.probed.port,
                mqtt.status,
                mqtt.error.as_deref(),
                mqtt.verify_code
            ),
            (18883, Status::Error, Some("refused"), None)
        );
        let amqp = &result.ports[1];
        assert_eq!(
            (amqp.probed.port, amqp.status, amqp.error.as_deref()),
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
                negotiated: Negotiated {
                    tls_version: "TLSv1.3".to_owned(),
                    cipher_suite: "TLS_AES_256_GCM_SHA384".to_owned(),
                    key_exchange_group: Some("X25519".to_owned()),
                    alpn: None,
                },
                connect_time: Duration::from_millis(2),
                handshake_time: Duration::from_millis(5),
            },
            chain: Arc::new(chain),
            answer: None,
            identity: None,
            answer_time: None,
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
            (
                port.probed.protocol,
                port.probed.port,
                port.status,
                port.verify_code
            ),
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
