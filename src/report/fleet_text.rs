//! Fleet results for people: a table with one row per gateway, written as each finishes, each
//! failing gateway followed by what failed (and, with `--verbose`, the fix), then the totals.
//!
//! ```text
//! STATUS   MQTTS         AMQPS         HTTPS         EXPIRES    TIME      GATEWAY
//! ok       ok            ok            ok            89 days    14 ms     gw-001.contoso.com
//! error    verify 20     verify 20     verify 20     89 days    15 ms     gw-002.contoso.com
//!     × gateway-cert-chain: MQTTS 8883, AMQPS 5671, HTTPS 443: Verify return code: 20 (...)
//! ```
//! The gateway comes last because it is the only column of unknown width, and rows cannot
//! be aligned after the fact when they are printed as they come.

use std::collections::HashSet;
use std::io::{self, Write};

use anstyle::AnsiColor as Color;

use super::TextOptions;
use super::Verdict;
use super::compact::{PortResult, TargetResult};
use super::fleet::{FleetHeader, FleetPrinter, FleetSummary};
use crate::engine::Status;
use crate::net::Protocol;

const STATUS_WIDTH: usize = 9;
const PORT_WIDTH: usize = 14;
const EXPIRES_WIDTH: usize = 11;
const TIME_WIDTH: usize = 10;

pub struct FleetText {
    header: FleetHeader,
    options: TextOptions,
    started: bool,
    /// The run's clock (Unix seconds), for EXPIRES.
    now: i64,
    /// The gateways already shown: a second row for the same host names its line of the
    /// targets file and its CA file, or the two rows could not be told apart.
    shown: HashSet<String>,
}

impl FleetText {
    pub fn new(header: FleetHeader, options: TextOptions, now: i64) -> Self {
        FleetText {
            header,
            options,
            started: false,
            now,
            shown: HashSet::new(),
        }
    }

    /// GATEWAY: the host, and when the host was already shown, the line of the targets file
    /// and the CA file that tell the two rows apart.
    fn gateway_cell(&mut self, result: &TargetResult) -> String {
        if self.shown.insert(result.gateway.clone()) {
            return result.gateway.clone();
        }
        let mut apart: Vec<String> = Vec::new();
        if let Some(line) = result.line {
            apart.push(format!("line {line}"));
        }
        if let Some(ca_file) = &result.ca_file {
            apart.push(format!("CA {ca_file}"));
        }
        if apart.is_empty() {
            result.gateway.clone()
        } else {
            format!("{} ({})", result.gateway, apart.join(", "))
        }
    }

    fn start(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let ports: Vec<String> = Protocol::ALL
            .into_iter()
            .map(|protocol| {
                format!(
                    "{} {}",
                    protocol.display_name(),
                    self.header.ports.get(protocol)
                )
            })
            .collect();
        writeln!(
            out,
            "edgeprobe {}: gateways from {} ({}), {} at a time",
            env!("CARGO_PKG_VERSION"),
            self.header.source,
            ports.join(", "),
            self.header.concurrency
        )?;
        writeln!(out)?;
        let mut line = format!("{:<STATUS_WIDTH$}", "STATUS");
        for protocol in Protocol::ALL {
            line.push_str(&format!("{:<PORT_WIDTH$}", protocol.display_name()));
        }
        line.push_str(&format!(
            "{:<EXPIRES_WIDTH$}{:<TIME_WIDTH$}GATEWAY",
            "EXPIRES", "TIME"
        ));
        writeln!(out, "{line}")
    }
}

impl FleetPrinter for FleetText {
    fn target(&mut self, out: &mut dyn Write, result: &TargetResult) -> io::Result<()> {
        self.start(out)?;
        let (word, color) = match result.verdict {
            Verdict::Ok => ("ok", Color::Green),
            Verdict::Warning => ("warning", Color::Yellow),
            Verdict::Error => ("error", Color::Red),
        };
        let status = format!("{word:<STATUS_WIDTH$}");
        let mut line = if self.options.color {
            super::paint(&status, color)
        } else {
            status
        };
        for protocol in Protocol::ALL {
            let cell = result
                .ports
                .iter()
                .find(|port| port.probed.protocol == protocol)
                .map_or_else(|| "-".to_owned(), port_cell);
            line.push_str(&format!("{cell:<PORT_WIDTH$}"));
        }
        let expires = result
            .ports
            .iter()
            .filter_map(|port| port.cert_not_after)
            .min()
            .map_or_else(
                || "-".to_owned(),
                |not_after| days_until(not_after, self.now),
            );
        let time = format!("{} ms", result.elapsed.as_millis());
        line.push_str(&format!(
            "{expires:<EXPIRES_WIDTH$}{time:<TIME_WIDTH$}{}",
            self.gateway_cell(result)
        ));
        writeln!(out, "{}", line.trim_end())?;
        for problem in &result.problems {
            let symbol = match problem.status {
                Status::Warning => "\u{203c}",
                _ => "\u{00d7}",
            };
            // A message of several lines (one per certificate) stays under its check.
            let message = problem.message.replace('\n', "\n      ");
            writeln!(out, "    {symbol} {}: {message}", problem.check)?;
            if let Some(remedy) = problem.remedy.as_ref().filter(|_| self.options.verbose) {
                writeln!(out, "      Remedy: {remedy}")?;
            }
        }
        // Each row is shown as soon as its gateway is done, even through a buffered stdout.
        out.flush()
    }

    fn finish(&mut self, out: &mut dyn Write, summary: &FleetSummary) -> io::Result<()> {
        self.start(out)?;
        let seconds = summary.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            format!(", {:.0} gateways/s", summary.total as f64 / seconds)
        } else {
            String::new()
        };
        writeln!(out)?;
        writeln!(
            out,
            "{} gateway(s): {} ok, {} with warnings, {} with errors, in {:.1} s{rate}",
            summary.total, summary.ok, summary.warning, summary.error, seconds
        )?;
        out.flush()
    }
}

/// `ok` (verify code 0), `verify 20`, `refused`, `tls` (connected, chain not checked), or `-`.
fn port_cell(port: &PortResult) -> String {
    match (port.status, port.verify_code, port.error.as_deref()) {
        (_, Some(0), _) => "ok".to_owned(),
        (_, Some(code), _) => format!("verify {code}"),
        (Status::Error, _, Some(kind)) => short_error(kind).to_owned(),
        (Status::Error, _, None) => "error".to_owned(),
        (Status::Ok | Status::Warning, None, _) => "tls".to_owned(),
        (Status::Skipped | Status::Ignored, None, _) => "-".to_owned(),
    }
}

/// The connect error kinds (`ConnectError::kind`) in at most 13 characters.
fn short_error(kind: &str) -> &str {
    match kind {
        "connect_timeout" => "timeout",
        "handshake_timeout" => "no-handshake",
        "connect_failed" => "failed",
        "tls_alert" => "tls-alert",
        "tls_error" => "tls-error",
        "not_tls" => "not-tls",
        "no_address" => "no-address",
        // This machine ran out of file descriptors (net::local_limits), not the gateway.
        "open_files_limit" | "system_file_table_full" => "fd-limit",
        "certificate_too_large" => "cert-too-big",
        other => other,
    }
}

fn days_until(not_after: i64, now: i64) -> String {
    let days = (not_after - now).div_euclid(86_400);
    if days.abs() == 1 {
        format!("{days} day")
    } else {
        format!("{days} days")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::Ports;
    use crate::engine::info::ProtocolPort;
    use crate::report::compact::{CheckStatus, Problem};

    const NOW: i64 = 1_700_000_000;

    fn port(protocol: Protocol, verify_code: Option<u32>, error: Option<&str>) -> PortResult {
        PortResult {
            probed: ProtocolPort {
                protocol,
                port: protocol.default_port(),
            },
            status: if error.is_some() {
                Status::Error
            } else {
                Status::Ok
            },
            error: error.map(str::to_owned),
            connect_seconds: None,
            handshake_seconds: None,
            verify_code,
            cert_not_after: verify_code.map(|_| NOW + 89 * 86_400 + 10),
            tls_version: None,
            protocol_seconds: None,
            certificate: None,
            chain_not_after: None,
            verified_chain_not_after: None,
        }
    }

    fn render(results: &[TargetResult], verbose: bool) -> String {
        let header = FleetHeader {
            source: "targets.txt".into(),
            ports: Ports::default(),
            concurrency: 64,
        };
        let mut printer = FleetText::new(
            header,
            TextOptions {
                verbose,
                color: false,
            },
            NOW,
        );
        crate::report::fleet::render(&mut printer, results, Duration::from_millis(500))
    }

    #[test]
    fn rows_then_problems_then_totals() {
        let good = TargetResult {
            line: Some(1),
            gateway: "gw-001.contoso.com".into(),
            ca_file: None,
            verdict: Verdict::Ok,
            checks: vec![CheckStatus {
                id: "gateway-resolve".into(),
                status: Status::Ok,
            }],
            problems: Vec::new(),
            ports: Protocol::ALL
                .into_iter()
                .map(|protocol| port(protocol, Some(0), None))
                .collect(),
            certificates: Vec::new(),
            parent: None,
            dns_lookup_seconds: None,
            elapsed: Duration::from_millis(14),
        };
        let bad = TargetResult {
            line: Some(2),
            gateway: "gw-002.contoso.com".into(),
            verdict: Verdict::Error,
            problems: vec![Problem {
                check: "gateway-cert-chain".into(),
                status: Status::Error,
                message:
                    "MQTTS 8883: Verify return code: 20 (unable to get local issuer certificate)"
                        .into(),
                remedy: Some("install the full chain".into()),
            }],
            ports: vec![
                port(Protocol::Mqtt, Some(20), None),
                port(Protocol::Amqp, None, Some("handshake_timeout")),
                port(Protocol::Https, None, Some("refused")),
            ],
            elapsed: Duration::from_millis(2003),
            ..good.clone()
        };
        let expected = format!(
            "\
edgeprobe {version}: gateways from targets.txt (MQTTS 8883, AMQPS 5671, HTTPS 443), 64 at a time

STATUS   MQTTS         AMQPS         HTTPS         EXPIRES    TIME      GATEWAY
ok       ok            ok            ok            89 days    14 ms     gw-001.contoso.com
error    verify 20     no-handshake  refused       89 days    2003 ms   gw-002.contoso.com
    \u{00d7} gateway-cert-chain: MQTTS 8883: Verify return code: 20 (unable to get local issuer certificate)

2 gateway(s): 1 ok, 0 with warnings, 1 with errors, in 0.5 s, 4 gateways/s
",
            version = env!("CARGO_PKG_VERSION")
        );
        assert_eq!(render(&[good.clone(), bad.clone()], false), expected);
        assert!(render(&[bad], true).contains("\n      Remedy: install the full chain\n"));
    }

    #[test]
    fn an_empty_run_still_has_a_header_and_totals() {
        let text = render(&[], false);
        assert!(text.contains("STATUS   MQTTS"), "{text}");
        assert!(text.ends_with(
            "0 gateway(s): 0 ok, 0 with warnings, 0 with errors, in 0.5 s, 0 gateways/s\n"
        ));
    }

    #[test]
    fn expiry_is_counted_in_whole_days_either_way() {
        assert_eq!(days_until(NOW + 86_400, NOW), "1 day");
        assert_eq!(days_until(NOW + 86_399, NOW), "0 days");
        assert_eq!(days_until(NOW - 1, NOW), "-1 day");
        assert_eq!(days_until(NOW - 3 * 86_400, NOW), "-3 days");
    }
}
