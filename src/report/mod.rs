//! TEMPORARY stand-in matching the contract; replaced at merge.
use crate::engine::{Ports, RunReport, Status};
use std::io::{self, Write};
#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    pub gateway: Option<String>,
    pub device_id: Option<String>,
    pub connection_string: Option<String>,
    pub ca_file: Option<String>,
    #[serde(skip)]
    pub ports: Ports,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
impl ColorChoice {
    pub fn enabled(self) -> bool {
        matches!(self, ColorChoice::Always)
    }
}
pub struct TextOptions {
    pub verbose: bool,
    pub color: bool,
}
pub fn write_text(
    out: &mut dyn Write,
    report: &RunReport,
    target: &Target,
    options: &TextOptions,
) -> io::Result<()> {
    let _ = (target, options);
    for c in &report.checks {
        writeln!(
            out,
            "{:?} {} - {}",
            c.outcome.status, c.description, c.outcome.message
        )?;
        for d in &c.outcome.details {
            writeln!(out, "    {d}")?;
        }
        if let Some(r) = &c.outcome.remedy {
            writeln!(out, "    Remedy: {r}")?;
        }
    }
    Ok(())
}
pub fn write_json(out: &mut dyn Write, report: &RunReport, target: &Target) -> io::Result<()> {
    let _ = (report, target);
    writeln!(out, "{{}}")
}
pub fn exit_code(report: &RunReport, warnings_as_errors: bool) -> u8 {
    if report.count(Status::Error) > 0 || (warnings_as_errors && report.count(Status::Warning) > 0)
    {
        1
    } else {
        0
    }
}
