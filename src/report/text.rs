//! The plain-text report, laid out like `iotedge check` (sections, `√ ‼ × -` lines, the same
//! summary sentences) because that is the output our users already read.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::AnsiColor as Color;

use super::{Target, paint};
use crate::engine::{CheckReport, Group, RunReport, Status};
use crate::net::Protocol;
use crate::secrets::redact;

/// Remedies are wrapped to fit an 80-column terminal (an SSH session on a gateway, typically).
const WIDTH: usize = 80;
const INDENT: &str = "    ";
const DETAIL_INDENT: &str = "        ";
const REMEDY_LABEL: &str = "Remedy: ";
const RERUN_HINT: &str = " Re-run with --verbose for more details.";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Show every check's message, details, remedy and skip reason.
    pub verbose: bool,
    /// Colour the check lines (decided by the caller, see [`super::ColorChoice`]).
    pub color: bool,
}

/// Write the report for a human.
pub fn write_text<W: Write + ?Sized>(
    out: &mut W,
    report: &RunReport,
    target: &Target,
    options: TextOptions,
) -> io::Result<()> {
    writeln!(out, "{}", header(target))?;

    // Sections follow `Group`'s order; checks keep registry order within a section.
    let mut sections: BTreeMap<Group, Vec<&CheckReport>> = BTreeMap::new();
    for check in &report.checks {
        if options.verbose || !matches!(check.outcome.status, Status::Skipped | Status::Ignored) {
            sections.entry(check.group).or_default().push(check);
        }
    }
    for (group, checks) in sections {
        let title = format!("{} checks", group.title());
        writeln!(out)?;
        writeln!(out, "{title}")?;
        writeln!(out, "{}", "-".repeat(title.chars().count()))?;
        for check in checks {
            write_check(out, check, options)?;
        }
    }

    writeln!(out)?;
    write_summary(out, report, options)
}

/// `edgeprobe 0.1.0: gateway gw.contoso.com (MQTTS 8883, AMQPS 5671, HTTPS 443), device dev1`
fn header(target: &Target) -> String {
    let target = target.redacted();
    let ports: Vec<String> = Protocol::ALL
        .into_iter()
        .map(|protocol| format!("{} {}", protocol.display_name(), target.ports.get(protocol)))
        .collect();
    let mut header = match &target.config {
        // Gateway mode: this machine is the gateway; the ports are its local edgeHub's.
        Some(config) => format!(
            "edgeprobe {}: IoT Edge gateway configured by {config} (edgeHub on {})",
            env!("CARGO_PKG_VERSION"),
            ports.join(", ")
        ),
        None => format!(
            "edgeprobe {}: gateway {} ({})",
            env!("CARGO_PKG_VERSION"),
            target.gateway.as_deref().unwrap_or("unknown"),
            ports.join(", ")
        ),
    };
    if let Some(device) = &target.device_id {
        header.push_str(", device ");
        header.push_str(device);
    }
    header
}

fn write_check<W: Write + ?Sized>(
    out: &mut W,
    check: &CheckReport,
    options: TextOptions,
) -> io::Result<()> {
    let outcome = &check.outcome;
    let (symbol, word, color) = match outcome.status {
        Status::Ok => ("\u{221a}", "OK", Some(Color::Green)),
        Status::Warning => ("\u{203c}", "Warning", Some(Color::Yellow)),
        Status::Error => ("\u{00d7}", "Error", Some(Color::Red)),
        Status::Skipped => ("-", "Skipped", None),
        Status::Ignored => ("-", "Ignored", None),
    };
    let line = format!("{symbol} {} - {word}", check.title);
    match color.filter(|_| options.color) {
        Some(color) => writeln!(out, "{}", paint(&line, color))?,
        None => writeln!(out, "{line}")?,
    }

    let failed = matches!(outcome.status, Status::Warning | Status::Error);
    if failed || options.verbose {
        // Point at `explain` for anything that needs action, as iotedge points at its docs.
        let message = redact(&outcome.message);
        let message = if failed {
            format!("{message} (edgeprobe explain {})", check.id)
                .trim_start()
                .to_owned()
        } else {
            message.into_owned()
        };
        write_indented(out, INDENT, &message)?;
    }
    if options.verbose {
        for detail in &outcome.details {
            write_indented(out, DETAIL_INDENT, &redact(detail))?;
        }
    }
    // The fix is shown whenever there is something to fix, not only with --verbose: the
    // technician's next step should never be one flag away.
    if (options.verbose || failed)
        && let Some(remedy) = &outcome.remedy
    {
        for line in wrap_remedy(&redact(remedy)) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Every line of `text` behind `indent`, verbatim otherwise (details may be pre-formatted
/// listings such as a certificate chain, whose alignment matters). Empty text prints nothing.
fn write_indented<W: Write + ?Sized>(out: &mut W, indent: &str, text: &str) -> io::Result<()> {
    for line in text.lines() {
        if line.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "{indent}{line}")?;
        }
    }
    Ok(())
}

/// `    Remedy: ...` wrapped at [`WIDTH`], continuation lines aligned after the label. Text in
/// backticks is a command to copy and paste, so it is never split across lines, even when it
/// is longer than the line; explicit line breaks in the remedy are kept.
fn wrap_remedy(remedy: &str) -> Vec<String> {
    let first_prefix = format!("{INDENT}{REMEDY_LABEL}");
    let continuation = " ".repeat(first_prefix.len());
    let mut lines = Vec::new();
    for paragraph in remedy.lines() {
        let mut line = if lines.is_empty() {
            first_prefix.clone()
        } else {
            continuation.clone()
        };
        let mut empty = true;
        for token in unbreakable_tokens(paragraph) {
            let width = line.chars().count() + usize::from(!empty) + token.chars().count();
            if !empty && width > WIDTH {
                lines.push(std::mem::replace(&mut line, continuation.clone()));
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(&token);
            empty = false;
        }
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Split on whitespace, except inside backticks: a backtick-quoted command stays one token
/// (its internal spaces collapsed to one, which a shell does not mind). An unclosed backtick
/// runs to the end of the paragraph rather than risk breaking a command.
fn unbreakable_tokens(paragraph: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_command = false;
    for word in paragraph.split_whitespace() {
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        if word.matches('`').count() % 2 == 1 {
            in_command = !in_command;
        }
        if !in_command {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// The summary, worded as `iotedge check` words it. "succeeded" is always printed; the other
/// lines only when their count is non-zero.
fn write_summary<W: Write + ?Sized>(
    out: &mut W,
    report: &RunReport,
    options: TextOptions,
) -> io::Result<()> {
    let hint = if options.verbose { "" } else { RERUN_HINT };
    writeln!(out, "{} check(s) succeeded.", report.count(Status::Ok))?;
    let lines = [
        (Status::Warning, "raised warnings."),
        (Status::Error, "raised errors."),
        (Status::Skipped, "were skipped (a prerequisite failed)."),
        (Status::Ignored, "were ignored (--skip)."),
    ];
    for (status, sentence) in lines {
        let count = report.count(status);
        if count > 0 {
            writeln!(out, "{count} check(s) {sentence}{hint}")?;
        }
    }
    if options.verbose {
        writeln!(out, "Completed in {} ms", report.elapsed.as_millis())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::engine::{Outcome, Ports};
    use crate::report::sample;

    use super::*;

    fn render(report: &RunReport, target: &Target, verbose: bool, color: bool) -> String {
        let mut buffer = Vec::new();
        // Through `dyn Write`, as `main` passes a locked stdout.
        let out: &mut dyn Write = &mut buffer;
        write_text(out, report, target, TextOptions { verbose, color })
            .expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("the report is UTF-8")
    }

    #[test]
    fn default_output_matches_iotedge_check_layout_plus_the_fix() {
        let expected = format!(
            "\
edgeprobe {version}: gateway gw.contoso.com (MQTTS 8883, AMQPS 5671, HTTPS 443), device thermostat-7

Gateway connectivity checks
---------------------------
\u{221a} gateway name resolves - OK
\u{00d7} gateway presents a certificate chain that verifies against the root CA file - Error
    Verify return code: 20 (unable to get local issuer certificate) (edgeprobe explain gateway-cert-chain)
    Remedy: the gateway did not send its intermediate certificate; check the
            edgeHub certificate bundle with
            `openssl s_client -connect gw.contoso.com:8883 -showcerts` and
            install the full chain
\u{203c} gateway certificate is not close to expiry - Warning
    the edgeHub server certificate expires in 12 days (edgeprobe explain gateway-cert-expiry)
    Remedy: renew the edge CA certificate before it expires

1 check(s) succeeded.
1 check(s) raised warnings. Re-run with --verbose for more details.
1 check(s) raised errors. Re-run with --verbose for more details.
1 check(s) were skipped (a prerequisite failed). Re-run with --verbose for more details.
",
            version = env!("CARGO_PKG_VERSION")
        );
        assert_eq!(
            render(&sample::report(), &sample::target(), false, false),
            expected
        );
    }

    #[test]
    fn verbose_output_shows_messages_details_remedies_and_skips() {
        let expected = format!(
            "\
edgeprobe {version}: gateway gw.contoso.com (MQTTS 8883, AMQPS 5671, HTTPS 443), device thermostat-7

Gateway connectivity checks
---------------------------
\u{221a} gateway name resolves - OK
    gw.contoso.com resolves to 10.0.0.4
\u{00d7} gateway presents a certificate chain that verifies against the root CA file - Error
    Verify return code: 20 (unable to get local issuer certificate) (edgeprobe explain gateway-cert-chain)
        Certificate chain
         0 s:CN = gw.contoso.com
           i:CN = Edge Device CA
    Remedy: the gateway did not send its intermediate certificate; check the
            edgeHub certificate bundle with
            `openssl s_client -connect gw.contoso.com:8883 -showcerts` and
            install the full chain
\u{203c} gateway certificate is not close to expiry - Warning
    the edgeHub server certificate expires in 12 days (edgeprobe explain gateway-cert-expiry)
    Remedy: renew the edge CA certificate before it expires
- gateway certificate is valid for the gateway name - Skipped
    skipped because `gateway-cert-chain` failed

1 check(s) succeeded.
1 check(s) raised warnings.
1 check(s) raised errors.
1 check(s) were skipped (a prerequisite failed).
Completed in 812 ms
",
            version = env!("CARGO_PKG_VERSION")
        );
        assert_eq!(
            render(&sample::report(), &sample::target(), true, false),
            expected
        );
    }

    #[test]
    fn all_ok_prints_only_the_success_count_and_no_colour_codes_when_off() {
        let mut report = sample::report();
        report.checks.truncate(1);
        let target = Target {
            gateway: None,
            ports: Ports {
                mqtt: 18883,
                amqp: 5671,
                https: 8443,
            },
            ..Target::default()
        };
        let text = render(&report, &target, false, false);
        assert!(text.starts_with(&format!(
            "edgeprobe {}: gateway unknown (MQTTS 18883, AMQPS 5671, HTTPS 8443)\n",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(
            text.ends_with("\u{221a} gateway name resolves - OK\n\n1 check(s) succeeded.\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colour_wraps_each_check_line_in_its_status_colour() {
        let text = render(&sample::report(), &sample::target(), true, true);
        assert!(
            text.contains("\x1b[32m\u{221a} gateway name resolves - OK\x1b[0m\n"),
            "{text}"
        );
        assert!(text.contains(
            "\x1b[33m\u{203c} gateway certificate is not close to expiry - Warning\x1b[0m\n"
        ));
        assert!(text.contains(
            "\x1b[31m\u{00d7} gateway presents a certificate chain that verifies against the root CA file - Error\x1b[0m\n"
        ));
        // Skipped lines and messages stay plain.
        assert!(text.contains("\n- gateway certificate is valid for the gateway name - Skipped\n"));
        assert!(text.contains("\n    gw.contoso.com resolves to 10.0.0.4\n"));
    }

    #[test]
    fn remedy_wrapping_never_splits_a_command_even_when_too_long() {
        let command = "`openssl verify -CAfile /etc/ssl/edge/azure-iot-test-only.root.ca.cert.pem -untrusted chain.pem gw.pem`";
        let lines = wrap_remedy(&format!("run {command} then retry\nsecond   paragraph"));
        assert_eq!(
            lines,
            vec![
                "    Remedy: run".to_owned(),
                format!("            {command}"),
                "            then retry".to_owned(),
                "            second paragraph".to_owned(),
            ]
        );
        // An unclosed backtick keeps the rest together instead of guessing.
        assert_eq!(unbreakable_tokens("a `b c d"), vec!["a", "`b c d"]);
        assert_eq!(unbreakable_tokens("`a` b"), vec!["`a`", "b"]);
    }

    #[test]
    fn wrapped_lines_fit_the_width_when_they_can() {
        let remedy = "word ".repeat(60);
        for line in wrap_remedy(&remedy) {
            assert!(line.chars().count() <= WIDTH, "{line:?}");
        }
    }

    #[test]
    fn secrets_slipped_into_any_field_are_not_printed() {
        let (mut report, target) = sample::leaky(Outcome::warning, "PRIVATE KEY");
        report.checks[0].duration = Duration::ZERO;
        for verbose in [false, true] {
            let text = render(&report, &target, verbose, false);
            assert!(!text.contains(sample::SECRET), "{text}");
        }
        let text = render(&report, &target, true, false);
        assert!(
            text.contains("SharedAccessKey=<redacted> (edgeprobe explain gateway-resolve)"),
            "{text}"
        );
        assert!(text.contains("<redacted private key>"), "{text}");
    }
}
