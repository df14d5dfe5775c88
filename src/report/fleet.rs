//! Printers for fleet mode (`check --targets`): each receives [`TargetResult`]s one at a time,
//! as gateways finish, and writes as it goes (JSON Lines, the JSON document, the text table),
//! or at the end where the format demands it (Prometheus groups samples by metric family).

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::Verdict;
use super::compact::TargetResult;
use super::prometheus::PrometheusWriter;
use crate::engine::Ports;

// Counts over the whole run, kept as results stream by.
/// Gateways by verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FleetSummary {
    pub total: usize,
    pub ok: usize,
    pub warning: usize,
    pub error: usize,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl FleetSummary {
    pub fn add(&mut self, result: &TargetResult) {
        self.total += 1;
        match result.verdict {
            Verdict::Ok => self.ok += 1,
            Verdict::Warning => self.warning += 1,
            Verdict::Error => self.error += 1,
        }
    }

    pub fn verdict(&self) -> Verdict {
        if self.error > 0 {
            Verdict::Error
        } else if self.warning > 0 {
            Verdict::Warning
        } else {
            Verdict::Ok
        }
    }

    /// 0 when no gateway failed (warnings allowed unless `warnings_as_errors`), else 1.
    pub fn exit_code(&self, warnings_as_errors: bool) -> u8 {
        match self.verdict() {
            Verdict::Error => 1,
            Verdict::Warning if warnings_as_errors => 1,
            Verdict::Warning | Verdict::Ok => 0,
        }
    }
}

/// A fleet printer: results one by one, then the summary.
pub trait FleetPrinter: Send {
    fn target(&mut self, out: &mut dyn Write, result: &TargetResult) -> io::Result<()>;
    fn finish(&mut self, out: &mut dyn Write, summary: &FleetSummary) -> io::Result<()>;
}

/// What the text header says about the run.
#[derive(Debug, Clone)]
pub struct FleetHeader {
    /// Where the targets come from: a path, or `standard input`.
    pub source: String,
    pub ports: Ports,
    pub concurrency: usize,
}

/// Prometheus samples are collected and written at the end, grouped by family.
#[derive(Debug, Default)]
pub struct FleetPrometheus(PrometheusWriter);

impl FleetPrinter for FleetPrometheus {
    fn target(&mut self, _out: &mut dyn Write, result: &TargetResult) -> io::Result<()> {
        self.0.add(result);
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, _summary: &FleetSummary) -> io::Result<()> {
        self.0.write(out)
    }
}

/// Everything `printer` writes for `results` and a run that took `elapsed`: what the printers'
/// tests compare.
#[cfg(test)]
pub(crate) fn render(
    printer: &mut dyn FleetPrinter,
    results: &[TargetResult],
    elapsed: Duration,
) -> String {
    let mut out = Vec::new();
    let mut summary = FleetSummary::default();
    for result in results {
        summary.add(result);
        printer.target(&mut out, result).unwrap();
    }
    summary.elapsed = elapsed;
    printer.finish(&mut out, &summary).unwrap();
    String::from_utf8(out).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(verdict: Verdict) -> TargetResult {
        let mut result =
            TargetResult::not_checked(Some(1), "gw", "targets-file", "bad".to_owned(), None);
        result.verdict = verdict;
        result
    }

    #[test]
    fn summary_counts_and_exit_codes() {
        let mut summary = FleetSummary::default();
        assert_eq!(
            (summary.verdict(), summary.exit_code(true)),
            (Verdict::Ok, 0)
        );
        summary.add(&result(Verdict::Ok));
        summary.add(&result(Verdict::Warning));
        assert_eq!(summary.exit_code(false), 0);
        assert_eq!(summary.exit_code(true), 1);
        summary.add(&result(Verdict::Error));
        assert_eq!(
            (summary.total, summary.ok, summary.warning, summary.error),
            (3, 1, 1, 1)
        );
        assert_eq!(
            (summary.verdict(), summary.exit_code(false)),
            (Verdict::Error, 1)
        );
    }
}
