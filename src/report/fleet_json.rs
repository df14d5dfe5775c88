//! Fleet results as JSON: JSON Lines (one compact object per gateway, written as it finishes)
//! and one JSON document whose `targets` array is also written element by element, so neither
//! holds more than one result. Both are described in docs/json-schema.md ("Fleet mode").

use std::io::{self, Write};

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::compact::TargetResult;
use super::fleet::{FleetPrinter, FleetSummary};
use crate::engine::Ports;

/// `--output jsonl`: one object per line, nothing else, so `jq -c 'select(.verdict=="error")'`
/// and log shippers read it line by line.
#[derive(Debug, Default)]
pub struct FleetJsonLines;

impl FleetPrinter for FleetJsonLines {
    fn target(&mut self, out: &mut dyn Write, result: &TargetResult) -> io::Result<()> {
        write_json_line(out, result)
    }

    fn finish(&mut self, out: &mut dyn Write, _summary: &FleetSummary) -> io::Result<()> {
        out.flush()
    }
}

/// One result as one line of JSON (also single-gateway `check --output jsonl`). Flushed, so a
/// reader of a pipe sees each gateway as soon as it is done.
pub fn write_json_line<W: Write + ?Sized>(out: &mut W, result: &TargetResult) -> io::Result<()> {
    serde_json::to_writer(&mut *out, result)?;
    writeln!(out)?;
    out.flush()
}

/// `--output json` with `--targets`: one document,
/// `{"schema_version", "tool", "ports", "targets": [...], "summary", "verdict", "elapsed_ms"}`,
/// one target per line inside the array.
#[derive(Debug)]
pub struct FleetJson {
    ports: Ports,
    started: bool,
}

impl FleetJson {
    pub fn new(ports: Ports) -> Self {
        FleetJson {
            ports,
            started: false,
        }
    }

    fn start(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        #[derive(Serialize)]
        struct Head {
            schema_version: &'static str,
            tool: serde_json::Value,
            #[serde(serialize_with = "super::serialize_ports")]
            ports: Ports,
        }
        let head = serde_json::to_string(&Head {
            schema_version: SCHEMA_VERSION,
            tool: serde_json::json!({
                "name": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
            }),
            ports: self.ports,
        })?;
        // The head object without its closing brace, continued by the targets array.
        let open = head.strip_suffix('}').unwrap_or(&head);
        write!(out, "{open},\"targets\":[")
    }
}

impl FleetPrinter for FleetJson {
    fn target(&mut self, out: &mut dyn Write, result: &TargetResult) -> io::Result<()> {
        let first = !self.started;
        self.start(out)?;
        out.write_all(if first { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, result)?;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, summary: &FleetSummary) -> io::Result<()> {
        self.start(out)?;
        #[derive(Serialize)]
        struct Tail<'a> {
            summary: &'a FleetSummary,
            verdict: super::Verdict,
            elapsed_ms: u64,
        }
        let tail = serde_json::to_string(&Tail {
            summary,
            verdict: summary.verdict(),
            elapsed_ms: u64::try_from(summary.elapsed.as_millis()).unwrap_or(u64::MAX),
        })?;
        let fields = tail.strip_prefix('{').unwrap_or(&tail);
        writeln!(out, "\n],{fields}")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use crate::report::consumer::SummaryOut;

    type Document = crate::report::consumer::Document<serde_json::Value>;

    fn results() -> Vec<TargetResult> {
        (1..=3)
            .map(|line| {
                TargetResult::not_checked(
                    Some(line),
                    &format!("gw-{line}"),
                    "targets-file",
                    "bad".into(),
                    None,
                )
            })
            .collect()
    }

    fn render(printer: &mut dyn FleetPrinter, results: &[TargetResult]) -> String {
        crate::report::fleet::render(printer, results, Duration::from_millis(1500))
    }

    #[test]
    fn document_is_one_valid_json_value_with_every_target() {
        for count in [0, 1, 3] {
            let text = render(&mut FleetJson::new(Ports::default()), &results()[..count]);
            let document: Document =
                serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
            assert_eq!(document.schema_version, SCHEMA_VERSION);
            assert_eq!(document.tool["name"], "edgeprobe");
            assert_eq!(document.ports["mqtt"], 8883);
            assert_eq!(document.targets.len(), count);
            assert_eq!(
                document.summary,
                SummaryOut {
                    total: count,
                    ok: 0,
                    warning: 0,
                    error: count
                }
            );
            let verdict = if count == 0 { "ok" } else { "error" };
            assert_eq!(document.verdict, verdict);
            assert_eq!(document.elapsed_ms, 1500);
            for (index, target) in document.targets.iter().enumerate() {
                assert_eq!(target["line"], index + 1);
                assert_eq!(target["gateway"], format!("gw-{}", index + 1));
            }
            assert!(text.ends_with("}\n"));
        }
    }

    #[test]
    fn lines_are_one_object_each() {
        let text = render(&mut FleetJsonLines, &results());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for (index, line) in lines.iter().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["line"], index + 1);
            assert_eq!(value["verdict"], "error");
            assert_eq!(value["problems"][0]["check"], "targets-file");
        }
    }
}
