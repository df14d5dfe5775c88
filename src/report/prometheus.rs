//! Prometheus text exposition format (version 0.0.4), ready for node_exporter's textfile
//! collector: write it to `<dir>/edgeprobe.prom.tmp` and rename it to `edgeprobe.prom`.
//!
//! The format needs every sample of a metric family in one group under its `# HELP` and
//! `# TYPE` lines, so samples are collected per family as results arrive (a few hundred bytes
//! of text per gateway, never a chain) and written at the end. Label values are escaped as the
//! format requires (backslash, double quote, line feed), and so is the help text (backslash,
//! line feed).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::compact::TargetResult;
use crate::engine::Status;

/// Every family edgeprobe exports: name, help. All are gauges.
const FAMILIES: [(&str, &str); 5] = [
    (
        "edgeprobe_check_ok",
        "1 if the check passed (ok, or a warning), 0 if it failed; checks that did not run (skipped) have no sample.",
    ),
    (
        "edgeprobe_tls_verify_code",
        "OpenSSL verify return code for the chain the port presented (0 is OK, 20 unable to get local issuer certificate, ...).",
    ),
    (
        "edgeprobe_cert_expiry_timestamp_seconds",
        "notAfter of the certificate the port presented, in Unix seconds.",
    ),
    (
        "edgeprobe_connect_seconds",
        "Time to establish the TCP connection to the port.",
    ),
    (
        "edgeprobe_handshake_seconds",
        "Time to complete the TLS handshake on the port.",
    ),
];

const CHECK_OK: usize = 0;
const VERIFY_CODE: usize = 1;
const CERT_EXPIRY: usize = 2;
const CONNECT: usize = 3;
const HANDSHAKE: usize = 4;

/// Collects results and writes them as one exposition.
#[derive(Debug, Default)]
pub struct PrometheusWriter {
    /// Sample lines per family, in [`FAMILIES`] order.
    samples: [String; FAMILIES.len()],
    /// Gateways already exported: a second result for the same name would repeat its series,
    /// which the format forbids, so it is left out (and said so in a comment).
    gateways: HashSet<String>,
    repeated: Vec<String>,
}

impl PrometheusWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one gateway's samples.
    pub fn add(&mut self, result: &TargetResult) {
        if !self.gateways.insert(result.gateway.clone()) {
            let line = result
                .line
                .map(|line| format!(" (line {line})"))
                .unwrap_or_default();
            self.repeated.push(format!("{}{line}", result.gateway));
            return;
        }
        let gateway = escape_label_value(&result.gateway);
        for check in &result.checks {
            let value = match check.status {
                Status::Ok | Status::Warning => 1,
                Status::Error => 0,
                Status::Skipped | Status::Ignored => continue,
            };
            let _ = writeln!(
                self.samples[CHECK_OK],
                "edgeprobe_check_ok{{gateway=\"{gateway}\",check=\"{}\"}} {value}",
                escape_label_value(&check.id)
            );
        }
        for port in &result.ports {
            let labels = format!("gateway=\"{gateway}\",port=\"{}\"", port.port);
            let values = [
                (VERIFY_CODE, port.verify_code.map(f64::from)),
                // Exact as an f64 for any date before the year 285 million.
                (
                    CERT_EXPIRY,
                    port.cert_not_after.map(|seconds| seconds as f64),
                ),
                (CONNECT, port.connect_seconds),
                (HANDSHAKE, port.handshake_seconds),
            ];
            for (family, value) in values {
                if let Some(value) = value {
                    let _ = writeln!(
                        self.samples[family],
                        "{}{{{labels}}} {value}",
                        FAMILIES[family].0
                    );
                }
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
        for gateway in &self.repeated {
            // A comment line: ignored by parsers, read by whoever wonders where it went.
            writeln!(
                out,
                "# edgeprobe: {} is listed more than once; only its first result is exported",
                escape_help(gateway)
            )?;
        }
        Ok(())
    }
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

    use std::collections::BTreeMap;
    use std::time::Duration;

    use openmetrics_parser::prometheus::parse_prometheus;
    use openmetrics_parser::{PrometheusType, PrometheusValue};

    use super::*;
    use crate::net::Protocol;
    use crate::report::Verdict;
    use crate::report::compact::{CheckStatus, PortResult};

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
                    protocol: Protocol::Mqtt,
                    port: 8883,
                    status: Status::Ok,
                    error: None,
                    connect_seconds: Some(0.000_25),
                    handshake_seconds: Some(0.0021),
                    verify_code: Some(20),
                    cert_not_after: Some(2_000_000_000),
                },
                PortResult {
                    protocol: Protocol::Amqp,
                    port: 5671,
                    status: Status::Error,
                    error: Some("refused".into()),
                    connect_seconds: None,
                    handshake_seconds: None,
                    verify_code: None,
                    cert_not_after: None,
                },
            ],
            elapsed: Duration::from_millis(3),
        }
    }

    type Family = openmetrics_parser::MetricFamily<PrometheusType, PrometheusValue>;

    fn sorted(names: &[String]) -> Vec<&str> {
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The value of the one sample of `family` with exactly these labels (as parsed, so
    /// unescaped), if there is one.
    fn sample(family: &Family, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<&str, &str> = labels.iter().copied().collect();
        let found: Vec<f64> = family
            .iter_samples()
            .filter(|sample| {
                let labelset = sample.get_labelset().expect("labels parse");
                let have: BTreeMap<&str, &str> = labelset
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                have == wanted
            })
            .map(|sample| match &sample.value {
                PrometheusValue::Gauge(number) => number.as_f64(),
                other => panic!("not a gauge: {other:?}"),
            })
            .collect();
        assert!(found.len() <= 1, "duplicate series {labels:?}");
        found.first().copied()
    }

    #[test]
    fn exposition_parses_with_every_family_typed_and_labelled() {
        let awkward = "gw\"quoted\\back\nslash";
        let mut writer = PrometheusWriter::new();
        writer.add(&result("gw-1.contoso.com", 1));
        writer.add(&result(awkward, 2));
        let mut text = Vec::new();
        writer.write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();

        let exposition =
            parse_prometheus(&text).unwrap_or_else(|error| panic!("{error:?}\n{text}"));
        let names: HashSet<&str> = exposition.families.keys().map(String::as_str).collect();
        assert_eq!(names, FAMILIES.iter().map(|(name, _)| *name).collect());
        for (name, help) in FAMILIES {
            let family = &exposition.families[name];
            assert_eq!(family.family_type, PrometheusType::Gauge, "{name}");
            assert_eq!(family.help, help, "{name}");
        }

        let check_ok = &exposition.families["edgeprobe_check_ok"];
        assert_eq!(sorted(check_ok.get_label_names()), ["check", "gateway"]);
        for gateway in ["gw-1.contoso.com", awkward] {
            let value = |check| sample(check_ok, &[("gateway", gateway), ("check", check)]);
            assert_eq!(value("gateway-resolve"), Some(1.0));
            assert_eq!(value("gateway-cert-expiry"), Some(1.0));
            assert_eq!(value("gateway-cert-chain"), Some(0.0));
            assert_eq!(value("gateway-cert-hostname"), None);
        }
        assert_eq!(check_ok.iter_samples().count(), 6);

        let per_port = [
            ("edgeprobe_tls_verify_code", 20.0),
            ("edgeprobe_cert_expiry_timestamp_seconds", 2_000_000_000.0),
            ("edgeprobe_connect_seconds", 0.000_25),
            ("edgeprobe_handshake_seconds", 0.0021),
        ];
        for (name, expected) in per_port {
            let family = &exposition.families[name];
            assert_eq!(
                sorted(family.get_label_names()),
                ["gateway", "port"],
                "{name}"
            );
            let value = |port| sample(family, &[("gateway", awkward), ("port", port)]);
            assert_eq!(value("8883"), Some(expected), "{name}");
            assert_eq!(value("5671"), None, "{name}: refused port");
            assert_eq!(family.iter_samples().count(), 2, "{name}");
        }
    }

    #[test]
    fn a_gateway_listed_twice_is_exported_once() {
        let mut writer = PrometheusWriter::new();
        writer.add(&result("gw-1", 1));
        writer.add(&result("gw-1", 9));
        let mut text = Vec::new();
        writer.write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let exposition =
            parse_prometheus(&text).unwrap_or_else(|error| panic!("{error:?}\n{text}"));
        assert_eq!(
            exposition.families["edgeprobe_check_ok"]
                .iter_samples()
                .count(),
            3
        );
        assert!(
            text.contains("# edgeprobe: gw-1 (line 9) is listed more than once"),
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
        let mut text = Vec::new();
        PrometheusWriter::new().write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let exposition =
            parse_prometheus(&text).unwrap_or_else(|error| panic!("{error:?}\n{text}"));
        assert_eq!(exposition.families.len(), FAMILIES.len());
    }
}
