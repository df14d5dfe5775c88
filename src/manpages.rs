//! Man pages generated from the one CLI definition (clap_mangen) plus the check catalogue, so
//! help, man pages and completions can never disagree. `man/` holds the rendered pages;
//! `cargo run --example generate_man` rewrites them and a test fails when they are stale.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_mangen::Man;

use crate::checks::all_checks;
use crate::cli::Cli;

/// The command that regenerates `man/`, named by the staleness test.
pub const REGENERATE: &str = "cargo run --example generate_man";

/// Every page as (file name, roff text): `edgeprobe.1` and `edgeprobe-<command>.1`.
pub fn render_all() -> io::Result<Vec<(String, Vec<u8>)>> {
    // `edgeprobe help` is clap's built-in subcommand: nothing of its own to document.
    let command = Cli::command().disable_help_subcommand(true);
    let version = command.get_version().unwrap_or_default().to_owned();
    let mut pages = Vec::new();

    let mut main = Vec::new();
    // The NAME line is one short line (`whatis` and `apropos` show it); --help keeps the sentence.
    let man = Man::new(
        command
            .clone()
            .about("why a device cannot reach its IoT Edge gateway, and the fix"),
    )
    .source(format!("edgeprobe {version}"))
    .manual("edgeprobe manual");
    man.render_title(&mut main)?;
    man.render_name_section(&mut main)?;
    man.render_synopsis_section(&mut main)?;
    man.render_description_section(&mut main)?;
    man.render_subcommands_section(&mut main)?;
    write_checks_section(&mut main)?;
    write_exit_status_section(&mut main)?;
    write_examples_section(&mut main)?;
    write_files_section(&mut main)?;
    writeln!(main, ".SH \"SEE ALSO\"")?;
    let see_also: Vec<String> = command
        .get_subcommands()
        .map(|sub| format!("\\fBedgeprobe\\-{}\\fR(1)", roff_escape(sub.get_name())))
        .chain([
            "\\fBopenssl\\-s_client\\fR(1)".to_owned(),
            "\\fBopenssl\\-verify\\fR(1)".to_owned(),
        ])
        .collect();
    writeln!(main, "{}", see_also.join(", "))?;
    man.render_version_section(&mut main)?;
    pages.push(("edgeprobe.1".to_owned(), main));

    for sub in command.get_subcommands() {
        // The page is edgeprobe-check(1), but its synopsis shows what one types: `edgeprobe check`.
        let name = format!("edgeprobe-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("edgeprobe {}", sub.get_name()))
            .version(version.clone());
        let mut page = Vec::new();
        let man = Man::new(sub)
            .source(format!("edgeprobe {version}"))
            .manual("edgeprobe manual");
        man.render(&mut page)?;
        write_exit_status_section(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages
        .into_iter()
        .map(|(name, page)| (name, markdown_code_to_bold(&page)))
        .collect())
}

/// The help texts quote commands and options the way markdown does (`openssl verify`); roff has
/// no backtick quoting, so each quoted span becomes bold, as man pages set literal text.
fn markdown_code_to_bold(page: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut rest = line;
        while let Some(open) = rest.find('`') {
            let Some(close) = rest[open + 1..].find('`') else {
                break;
            };
            out.push_str(&rest[..open]);
            out.push_str("\\fB");
            out.push_str(&rest[open + 1..open + 1 + close]);
            out.push_str("\\fR");
            rest = &rest[open + 2 + close..];
        }
        out.push_str(rest);
    }
    out.into_bytes()
}

/// Roff-safe text: backslashes escaped, hyphens as `\-`, no line starting with a control
/// character (groff_man(7)).
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn write_checks_section(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, ".SH CHECKS")?;
    writeln!(
        out,
        "Each check has a stable id, used by \\fB\\-\\-only\\fR, \\fB\\-\\-skip\\fR, the JSON report and \\fBedgeprobe explain\\fR."
    )?;
    for check in all_checks() {
        writeln!(out, ".TP")?;
        writeln!(
            out,
            "\\fB{}\\fR ({})",
            roff_escape(check.id()),
            roff_escape(check.group().title())
        )?;
        writeln!(out, "{}", roff_escape(check.description()))?;
    }
    Ok(())
}

fn write_exit_status_section(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for (status, meaning) in [
        (
            "0",
            "No check failed (warnings allowed); for connect and verify, the chain verified.",
        ),
        (
            "1",
            "At least one check failed (or warned, with \\-\\-warnings\\-as\\-errors); for connect and verify, verification failed.",
        ),
        (
            "2",
            "Usage error (unknown flag, check id or bad value), unreadable input, or edgeprobe itself could not run.",
        ),
    ] {
        writeln!(out, ".TP\n{status}\n{meaning}")?;
    }
    Ok(())
}

fn write_examples_section(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, ".SH EXAMPLES")?;
    for (what, example) in [
        (
            "On a leaf device, with the connection string and the gateway's root CA:",
            "edgeprobe check \\-\\-connection\\-string \"HostName=hub.azure\\-devices.net;DeviceId=leaf\\-01;SharedAccessKey=...;GatewayHostName=gw.contoso.com\" \\-\\-ca\\-file azure\\-iot\\-test\\-only.root.ca.cert.pem \\-\\-verbose",
        ),
        (
            "Without a connection string, as JSON for monitoring:",
            "edgeprobe check \\-\\-gateway gw.contoso.com \\-\\-ca\\-file root.pem \\-\\-output json",
        ),
        (
            "One port, openssl s_client style:",
            "edgeprobe connect gw.contoso.com:8883 \\-\\-ca\\-file root.pem",
        ),
        (
            "Offline, openssl verify style:",
            "edgeprobe verify \\-\\-ca\\-file root.pem \\-\\-untrusted chain.pem \\-\\-hostname gw.contoso.com server.pem",
        ),
        (
            "See it work against a simulated gateway:",
            "edgeprobe demo \\-\\-scenario missing\\-intermediate",
        ),
    ] {
        writeln!(out, ".PP\n{what}\n.PP\n.RS 4\n.nf\n{example}\n.fi\n.RE")?;
    }
    Ok(())
}

fn write_files_section(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, ".SH FILES")?;
    for (file, meaning) in [
        (
            "/etc/hosts",
            "Consulted before DNS when resolving the gateway, as the device's resolver does (\\-\\-hosts\\-file).",
        ),
        (
            "/etc/resolv.conf",
            "The DNS servers used unless \\-\\-dns\\-server is given.",
        ),
        (
            "/etc/ssl/certs/ca\\-certificates.crt",
            "The system trust store, used when no \\-\\-ca\\-file is given.",
        ),
        (
            "/etc/aziot/config.toml",
            "IoT Edge 1.2+ configuration on a gateway.",
        ),
        (
            "/etc/iotedge/config.yaml",
            "IoT Edge 1.1 configuration on a gateway.",
        ),
    ] {
        writeln!(out, ".TP\n\\fI{file}\\fR\n{meaning}")?;
    }
    Ok(())
}
