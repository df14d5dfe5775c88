//! Prometheus text exposition format (version 0.0.4), ready for node_exporter's textfile
//! collector: write it to `<dir>/edgeprobe.prom.tmp` and rename it to `edgeprobe.prom`.
//!
//! The format needs every sample of a metric family in one group under its `# HELP` and
//! `# TYPE` lines, so samples are collected per family as results arrive (a few hundred bytes
//! of text per gateway, never a chain) and written at the end. Label values are escaped as the
//! format requires (backslash, double quote, line feed), and so is the help text (backslash,
//! line feed).
//!
//! A gateway-mode run exports the gateway under its configured `hostname` with edgeHub's ports,
//! plus each certificate its config names (`edgeprobe_certificate_expiry_timestamp_seconds`)
//! and, on a lower layer, its parent: `edgeprobe_parent_info` names it, and the parent's ports
//! as this gateway reaches them are per-port series under the parent's own name, the series a
//! leaf of that parent would export for it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::Verdict;
use super::compact::{PortResult, TargetResult};
use crate::engine::Status;

/// Every family edgeprobe exports: name, help. All are gauges. Where blackbox_exporter has a
/// metric with the same meaning, edgeprobe uses its name (`probe_*`), so dashboards and alerts
/// written for blackbox_exporter's TLS probes work; every series carries `gateway`, and the
/// per-port ones `protocol` and `port` as well (a gateway's three ports can present three
/// different chains).
pub const FAMILIES: [(&str, &str); 14] = [
    (
        "probe_success",
        "1 if no check failed for the gateway (warnings allowed), 0 if one did.",
    ),
    (
        "probe_duration_seconds",
        "How long checking the gateway took, in seconds.",
    ),
    (
        "probe_dns_lookup_time_seconds",
        "How long resolving the gateway's name took (hosts file or DNS), in seconds.",
    ),
    (
        "probe_ssl_earliest_cert_expiry",
        "Earliest notAfter among the certificates the port presented, in Unix seconds.",
    ),
    (
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "Earliest notAfter along the chain that verified against the root CA (the root included), in Unix seconds; no sample unless it verified.",
    ),
    (
        "probe_tls_version_info",
        "The TLS version the port negotiated, as the version label; the value is 1.",
    ),
    (
        "probe_ssl_last_chain_info",
        "The certificate the port presented: SHA-256 fingerprint, subject, issuer and subjectAltName as labels; the value is 1.",
    ),
    (
        "edgeprobe_check_status",
        "1 for the check's status and 0 for the others: ok, warning, error, skipped (a prerequisite failed) or ignored (deselected).",
    ),
    (
        "edgeprobe_verify_code",
        "OpenSSL verify return code for the chain the port presented (0 is OK, 20 unable to get local issuer certificate, ...).",
    ),
    (
        "edgeprobe_connect_seconds",
        "Time to establish the TCP connection to the port, in seconds.",
    ),
    (
        "edgeprobe_handshake_seconds",
        "Time to complete the TLS handshake on the port, in seconds.",
    ),
    (
        "edgeprobe_phase_duration_seconds",
        "Time spent in each phase of reaching the gateway, in seconds: resolve (no protocol or port), then connect, tls and protocol (the protocol's first answer) per port.",
    ),
    (
        "edgeprobe_certificate_expiry_timestamp_seconds",
        "Gateway mode: notAfter of each certificate the gateway's config names (device CA chain, trusted roots), in Unix seconds, labelled with the check that rated it, where it came from, its subject and SHA-256 fingerprint.",
    ),
    (
        "edgeprobe_parent_info",
        "Gateway mode on a lower layer: the parent gateway (parent_hostname) as the parent label; the value is 1. The parent's ports are per-port series with gateway set to the parent's name.",
    ),
];

const SUCCESS: usize = 0;
const DURATION: usize = 1;
const DNS_LOOKUP: usize = 2;
const EARLIEST_EXPIRY: usize = 3;
const LAST_CHAIN_EXPIRY: usize = 4;
const TLS_VERSION: usize = 5;
const LAST_CHAIN_INFO: usize = 6;
const CHECK_STATUS: usize = 7;
const VERIFY_CODE: usize = 8;
const CONNECT: usize = 9;
const HANDSHAKE: usize = 10;
const PHASE: usize = 11;
const CERTIFICATE_EXPIRY: usize = 12;
const PARENT: usize = 13;

/// Collects results and writes them as one exposition.
#[derive(Debug, Default)]
pub struct PrometheusWriter {
    /// Sample lines per family, in [`FAMILIES`] order.
    samples: [String; FAMILIES.len()],
    /// Gateways already exported: a second result for the same name would repeat its series,
    /// which the format forbids, so it is left out (and said so in a comment).
    gateways: HashSet<String>,
    /// What was left out, and why: written as comments at the end.
    repeated: Vec<String>,
}

impl PrometheusWriter {
    pub fn new() -> Self {
        Self::default()
    }

    fn sample(&mut self, family: usize, labels: &str, value: impl std::fmt::Display) {
        let _ = writeln!(
            self.samples[family],
            "{}{{{labels}}} {value}",
            FAMILIES[family].0
        );
    }

    /// Adds one gateway's samples.
    pub fn add(&mut self, result: &TargetResult) {
        if !self.gateways.insert(result.gateway.clone()) {
            let line = result
                .line
                .map(|line| format!(" (line {line})"))
                .unwrap_or_default();
            self.repeated.push(format!(
                "{}{line} is listed more than once; only its first result is exported",
                result.gateway
            ));
            return;
        }
        let gateway = format!("gateway=\"{}\"", escape_label_value(&result.gateway));
        let success = u8::from(result.verdict != Verdict::Error);
        self.sample(SUCCESS, &gateway, success);
        self.sample(DURATION, &gateway, result.elapsed.as_secs_f64());
        if let Some(seconds) = result.dns_lookup_seconds {
            self.sample(DNS_LOOKUP, &gateway, seconds);
            self.sample(
                PHASE,
                &format!("{gateway},protocol=\"\",port=\"\",phase=\"resolve\""),
                seconds,
            );
        }
        for check in &result.checks {
            // One-hot over every status, as the JSON report spells them.
            for candidate in Status::ALL {
                let labels = format!(
                    "{gateway},check=\"{}\",status=\"{}\"",
                    escape_label_value(&check.id),
                    candidate.as_str()
                );
                self.sample(CHECK_STATUS, &labels, u8::from(candidate == check.status));
            }
        }
        for certificate in &result.certificates {
            let labels = with_labels(
                &gateway,
                &[
                    ("check", &certificate.check),
                    ("source", &certificate.source),
                    ("subject", &certificate.subject),
                    ("fingerprint_sha256", &certificate.fingerprint_sha256),
                ],
            );
            // Exact as an f64 for any date before the year 285 million.
            self.sample(CERTIFICATE_EXPIRY, &labels, certificate.not_after as f64);
        }
        self.add_ports(&gateway, &result.ports);
        if let Some(parent) = &result.parent {
            let name = escape_label_value(&parent.hostname);
            self.sample(PARENT, &format!("{gateway},parent=\"{name}\""), 1);
            // Under the parent's name, unless that name is already exported (a parent named
            // like its child would repeat the child's series, which the format forbids).
            if self.gateways.insert(parent.hostname.clone()) {
                self.add_ports(&format!("gateway=\"{name}\""), &parent.ports);
            } else {
                self.repeated.push(format!(
                    "{}, the parent of {}, is named like a gateway already exported; its ports are left out",
                    parent.hostname, result.gateway
                ));
            }
        }
    }

    /// The per-port samples of one gateway's ports; `gateway` is its label, already escaped.
    fn add_ports(&mut self, gateway: &str, ports: &[PortResult]) {
        for port in ports {
            let labels = format!(
                "{gateway},protocol=\"{}\",port=\"{}\"",
                port.probed.protocol.key(),
                port.probed.port
            );
            let values = [
                (VERIFY_CODE, port.verify_code.map(f64::from)),
                // Exact as an f64 for any date before the year 285 million.
                (
                    EARLIEST_EXPIRY,
                    port.chain_not_after.map(|seconds| seconds as f64),
                ),
                (
                    LAST_CHAIN_EXPIRY,
                    port.verified_chain_not_after.map(|seconds| seconds as f64),
                ),
                (CONNECT, port.connect_seconds),
                (HANDSHAKE, port.handshake_seconds),
            ];
            for (family, value) in values {
                if let Some(value) = value {
                    self.sample(family, &labels, value);
                }
            }
            let phases = [
                ("connect", port.connect_seconds),
                ("tls", port.handshake_seconds),
                ("protocol", port.protocol_seconds),
            ];
            for (phase, seconds) in phases {
                if let Some(seconds) = seconds {
                    self.sample(PHASE, &format!("{labels},phase=\"{phase}\""), seconds);
                }
            }
            if let Some(version) = &port.tls_version {
                let version = escape_label_value(version);
                self.sample(TLS_VERSION, &format!("{labels},version=\"{version}\""), 1);
            }
            if let Some(certificate) = &port.certificate {
                let info = with_labels(
                    &labels,
                    &[
                        ("fingerprint_sha256", &certificate.fingerprint_sha256),
                        ("subject", &certificate.subject),
                        ("issuer", &certificate.issuer),
                        ("subjectalternative", &certificate.subject_alternative_names),
                    ],
                );
                self.sample(LAST_CHAIN_INFO, &info, 1);
            }
        }
    }

    /// Writes every family, `# HELP` and `# TYPE` once each, then its samples.
    pub fn write<W: Write + ?Sized>(&self, out: &mut W) -> io::Result<()> {
        for ((name, help), samples) in FAMILIES.iter().zip(&self.samples) {
            writeln!(out, "# HELP {name} {}", escape_help(help))?;
            writeln!(out, "# TYPE {name} gauge")?;
            out.write_all(samples.as_bytes())?;
        }
        for left_out in &self.repeated {
            // A comment line: ignored by parsers, read by whoever wonders where it went.
            writeln!(out, "# edgeprobe: {}", escape_help(left_out))?;
        }
        Ok(())
    }
}

/// `labels` (already written) followed by `,name="value"` for each pair, values escaped.
fn with_labels(labels: &str, pairs: &[(&str, &str)]) -> String {
    let mut all = labels.to_owned();
    for (name, value) in pairs {
        let _ = write!(all, ",{name}=\"{}\"", escape_label_value(value));
    }
    all
}

/// Label values may hold any UTF-8, with `\`, `"` and line feed escaped as `\\`, `\"`, `\n`.
pub fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Help text escapes `\` and line feed (a double quote is fine there).
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// One gateway's result as a whole exposition (single-gateway `check --output prometheus`).
pub fn write_prometheus<W: Write + ?Sized>(out: &mut W, result: &TargetResult) -> io::Result<()> {
    let mut writer = PrometheusWriter::new();
    writer.add(result);
    writer.write(out)
}

#[cfg(test)]
mod tests {
    //! The output is read back with a strict parser of the format (openmetrics-parser's
    //! Prometheus grammar: rejects split or repeated families, bad escapes, duplicate series
    //! and mixed label sets), as Prometheus itself would read it.

    use std::time::Duration;

    use openmetrics_parser::prometheus::parse_prometheus;
    use openmetrics_parser::{PrometheusType, PrometheusValue};

    use super::*;
    use crate::engine::info::ProtocolPort;
    use crate::net::Protocol;
    use crate::report::Verdict;
    use crate::report::compact::{CheckStatus, PortResult, PresentedCertificate};
    use crate::report::consumer::sample;

    fn result(gateway: &str, line: usize) -> TargetResult {
        TargetResult {
            line: Some(line),
            gateway: gateway.to_owned(),
            ca_file: None,
            verdict: Verdict::Error,
            checks: vec![
                CheckStatus {
                    id: "gateway-resolve".into(),
                    status: Status::Ok,
                },
                CheckStatus {
                    id: "gateway-cert-expiry".into(),
                    status: Status::Warning,
                },
                CheckStatus {
                    id: "gateway-cert-chain".into(),
                    status: Status::Error,
                },
                CheckStatus {
                    id: "gateway-cert-hostname".into(),
                    status: Status::Skipped,
                },
            ],
            problems: Vec::new(),
            ports: vec![
                PortResult {
                    probed: ProtocolPort {
                        protocol: Protocol::Mqtt,
                        port: 8883,
                    },
                    status: Status::Ok,
                    error: None,
                    connect_seconds: Some(0.000_25),
                    handshake_seconds: Some(0.0021),
                    verify_code: Some(20),
                    cert_not_after: Some(2_000_000_000),
                    tls_version: Some("TLSv1.3".into()),
                    protocol_seconds: Some(0.0011),
                    certificate: Some(PresentedCertificate {
                        fingerprint_sha256: "ab01".into(),
                        subject: "CN = gw \"one\"".into(),
                        issuer: "CN = Azure_IoT_Hub_CA_Cert_Test_Only".into(),
                        subject_alternative_names: "gw-1.contoso.com,10.0.0.5".into(),
                    }),
                    chain_not_after: Some(1_900_000_000),
                    verified_chain_not_after: None,
                },
                PortResult {
                    probed: ProtocolPort {
                        protocol: Protocol::Amqp,
                        port: 5671,
                    },
                    status: Status::Error,
                    error: Some("refused".into()),
                    connect_seconds: None,
                    handshake_seconds: None,
                    verify_code: None,
                    cert_not_after: None,
                    tls_version: None,
                    protocol_seconds: None,
                    certificate: None,
                    chain_not_after: None,
                    verified_chain_not_after: None,
                },
            ],
            certificates: Vec::new(),
            parent: None,
            dns_lookup_seconds: Some(0.0004),
            elapsed: Duration::from_millis(3),
        }
    }

    type Exposition = openmetrics_parser::MetricsExposition<PrometheusType, PrometheusValue>;

    /// `results` written as one exposition, and that text parsed (failing the test when it
    /// does not parse).
    fn written(results: &[&TargetResult]) -> (String, Exposition) {
        let mut writer = PrometheusWriter::new();
        for result in results {
            writer.add(result);
        }
        let mut text = Vec::new();
        writer.write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let exposition =
            parse_prometheus(&text).unwrap_or_else(|error| panic!("{error:?}\n{text}"));
        (text, exposition)
    }

    fn sorted(names: &[String]) -> Vec<&str> {
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn exposition_parses_with_every_family_typed_and_labelled() {
        let awkward = "gw\"quoted\\back\nslash";
        let (_, exposition) = written(&[&result("gw-1.contoso.com", 1), &result(awkward, 2)]);
        let names: HashSet<&str> = exposition.families.keys().map(String::as_str).collect();
        assert_eq!(names, FAMILIES.iter().map(|(name, _)| *name).collect());
        for (name, help) in FAMILIES {
            let family = &exposition.families[name];
            assert_eq!(family.family_type, PrometheusType::Gauge, "{name}");
            assert_eq!(family.help, help, "{name}");
        }

        let status = &exposition.families["edgeprobe_check_status"];
        assert_eq!(
            sorted(status.get_label_names()),
            ["check", "gateway", "status"]
        );
        for gateway in ["gw-1.contoso.com", awkward] {
            let value = |check, status_value| {
                sample(
                    status,
                    &[
                        ("gateway", gateway),
                        ("check", check),
                        ("status", status_value),
                    ],
                )
            };
            assert_eq!(value("gateway-resolve", "ok"), Some(1.0));
            assert_eq!(value("gateway-resolve", "warning"), Some(0.0));
            assert_eq!(value("gateway-cert-expiry", "warning"), Some(1.0));
            assert_eq!(value("gateway-cert-expiry", "ok"), Some(0.0));
            assert_eq!(value("gateway-cert-chain", "error"), Some(1.0));
            assert_eq!(value("gateway-cert-hostname", "skipped"), Some(1.0));
            assert_eq!(value("gateway-cert-hostname", "ignored"), Some(0.0));
            let success = &exposition.families["probe_success"];
            assert_eq!(sample(success, &[("gateway", gateway)]), Some(0.0));
            let dns = &exposition.families["probe_dns_lookup_time_seconds"];
            assert_eq!(sample(dns, &[("gateway", gateway)]), Some(0.0004));
        }
        assert_eq!(status.iter_samples().count(), 2 * 4 * Status::ALL.len());

        let per_port = [
            ("edgeprobe_verify_code", 20.0),
            ("probe_ssl_earliest_cert_expiry", 1_900_000_000.0),
            ("edgeprobe_connect_seconds", 0.000_25),
            ("edgeprobe_handshake_seconds", 0.0021),
        ];
        for (name, expected) in per_port {
            let family = &exposition.families[name];
            assert_eq!(
                sorted(family.get_label_names()),
                ["gateway", "port", "protocol"],
                "{name}"
            );
            let value = |protocol, port| {
                sample(
                    family,
                    &[("gateway", awkward), ("protocol", protocol), ("port", port)],
                )
            };
            assert_eq!(value("mqtt", "8883"), Some(expected), "{name}");
            assert_eq!(value("amqp", "5671"), None, "{name}: refused port");
            assert_eq!(family.iter_samples().count(), 2, "{name}");
        }
        // Not verified: no last-chain expiry.
        assert_eq!(
            exposition.families["probe_ssl_last_chain_expiry_timestamp_seconds"]
                .iter_samples()
                .count(),
            0
        );
        let port = [("gateway", awkward), ("protocol", "mqtt"), ("port", "8883")];
        let with = |extra: &[(&'static str, &'static str)]| {
            port.iter()
                .copied()
                .chain(extra.iter().copied())
                .collect::<Vec<_>>()
        };
        let tls = &exposition.families["probe_tls_version_info"];
        assert_eq!(sample(tls, &with(&[("version", "TLSv1.3")])), Some(1.0));
        let info = &exposition.families["probe_ssl_last_chain_info"];
        let labels = with(&[
            ("fingerprint_sha256", "ab01"),
            ("subject", "CN = gw \"one\""),
            ("issuer", "CN = Azure_IoT_Hub_CA_Cert_Test_Only"),
            ("subjectalternative", "gw-1.contoso.com,10.0.0.5"),
        ]);
        assert_eq!(sample(info, &labels), Some(1.0));
        let phases = &exposition.families["edgeprobe_phase_duration_seconds"];
        for (phase, seconds) in [("connect", 0.000_25), ("tls", 0.0021), ("protocol", 0.0011)] {
            assert_eq!(
                sample(phases, &with(&[("phase", phase)])),
                Some(seconds),
                "{phase}"
            );
        }
        let resolve = [
            ("gateway", awkward),
            ("protocol", ""),
            ("port", ""),
            ("phase", "resolve"),
        ];
        assert_eq!(sample(phases, &resolve), Some(0.0004));
    }

    #[test]
    fn a_gateway_listed_twice_is_exported_once() {
        let (text, exposition) = written(&[&result("gw-1", 1), &result("gw-1", 9)]);
        assert_eq!(
            exposition.families["edgeprobe_check_status"]
                .iter_samples()
                .count(),
            4 * Status::ALL.len()
        );
        assert!(
            text.contains("# edgeprobe: gw-1 (line 9) is listed more than once"),
            "{text}"
        );
    }

    /// Gateway mode: configured certificates under the gateway, the parent named by its info
    /// series and its ports under its own name; a parent named like its child is left out.
    #[test]
    fn a_lower_layer_exports_its_certificates_and_its_parents_ports() {
        use crate::report::compact::{ConfiguredCertificate, ParentResult};
        let certificate = |source: &str, fingerprint: &str| ConfiguredCertificate {
            check: "certificates-expiry".into(),
            source: source.into(),
            subject: "CN = Azure_IoT_Hub_CA_Cert_Test_Only".into(),
            fingerprint_sha256: fingerprint.into(),
            not_after: 2_000_000_000,
            status: Status::Ok,
        };
        let mut child = result("child.contoso.com", 1);
        child.line = None;
        // Two roots of one subject (two certGen runs) stay two series.
        child.certificates = vec![
            certificate("trusted root, /var/aziot/certs/root.pem", "ab01"),
            certificate("trusted root, /var/aziot/certs/root.pem", "cd02"),
        ];
        child.parent = Some(ParentResult {
            hostname: "top.contoso.com".into(),
            ports: child.ports.clone(),
        });
        let (text, exposition) = written(&[&child]);
        let expiry = &exposition.families["edgeprobe_certificate_expiry_timestamp_seconds"];
        assert_eq!(
            sorted(expiry.get_label_names()),
            [
                "check",
                "fingerprint_sha256",
                "gateway",
                "source",
                "subject"
            ]
        );
        assert_eq!(expiry.iter_samples().count(), 2, "{text}");
        let parent = &exposition.families["edgeprobe_parent_info"];
        assert_eq!(
            sample(
                parent,
                &[
                    ("gateway", "child.contoso.com"),
                    ("parent", "top.contoso.com")
                ]
            ),
            Some(1.0)
        );
        let verify = &exposition.families["edgeprobe_verify_code"];
        for gateway in ["child.contoso.com", "top.contoso.com"] {
            let labels = [("gateway", gateway), ("protocol", "mqtt"), ("port", "8883")];
            assert_eq!(sample(verify, &labels), Some(20.0), "{gateway}");
        }
        // No verdict is made up for the parent: it was not checked as a gateway.
        let success = &exposition.families["probe_success"];
        assert_eq!(sample(success, &[("gateway", "top.contoso.com")]), None);

        let mut looped = result("gw.contoso.com", 1);
        looped.parent = Some(ParentResult {
            hostname: "gw.contoso.com".into(),
            ports: looped.ports.clone(),
        });
        let (text, _) = written(&[&looped]);
        assert!(
            text.contains("# edgeprobe: gw.contoso.com, the parent of gw.contoso.com, is named like a gateway already exported"),
            "{text}"
        );
    }

    #[test]
    fn escaping_follows_the_exposition_format() {
        assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(escape_label_value("plain.name"), "plain.name");
        assert_eq!(escape_help("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
    }

    #[test]
    fn empty_families_still_parse() {
        let (_, exposition) = written(&[]);
        assert_eq!(exposition.families.len(), FAMILIES.len());
    }
}
