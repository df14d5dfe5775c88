//! Fleet mode: the leaf suite against every gateway of a targets file, a bounded number at a
//! time, with one shared resolver, one set of trust anchors per CA file and one TLS client per
//! set of anchors. Each run is reduced to a [`TargetResult`] as soon as it finishes and handed
//! to the caller, which prints it; nothing keeps every result, so memory stays flat however
//! many gateways the file lists.

pub mod targets;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};

use crate::checks::leaf_registry;
use crate::engine::{Check, Context, Selection, run_checks};
use crate::report::TargetResult;
use crate::report::fleet::FleetSummary;

pub use targets::{
    ReadLine, TargetLine, TargetLineError, count_targets, parse_target_line, read_lines,
};

/// What every target shares.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The context each target's is made from: network settings, the global `--ca-file`, the
    /// clock and the shared state. Its gateway and connection string are ignored.
    pub template: Context,
    pub selection: Selection,
    /// Gateways checked at once (at least one).
    pub concurrency: usize,
    /// Where relative CA files in the targets file are looked up.
    pub base_directory: PathBuf,
}

/// Why a fleet run stopped before the end of its targets.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The gateways listed before the error were checked and reported: `summary` counts them.
    #[error("reading the targets failed after line {line}: {source}")]
    Read {
        line: usize,
        source: io::Error,
        summary: FleetSummary,
    },
    #[error("writing the report failed: {0}")]
    Output(#[from] io::Error),
}

/// Checks every target `lines` names, at most `options.concurrency` at once, and calls
/// `on_result` with each result as it finishes (completion order; each result names its
/// line). An error from `on_result` (a closed stdout) stops the run: running checks are
/// dropped. A read error stops reading, lets the running checks finish, then is returned.
pub async fn run_fleet<F>(
    mut lines: mpsc::Receiver<ReadLine>,
    options: FleetOptions,
    mut on_result: F,
) -> Result<FleetSummary, FleetError>
where
    F: FnMut(TargetResult) -> io::Result<()>,
{
    let registry: Arc<Vec<Box<dyn Check>>> = Arc::new(leaf_registry());
    let selection = Arc::new(options.selection);
    let concurrency = options.concurrency.max(1);
    let started = std::time::Instant::now();
    let mut summary = FleetSummary::default();
    let mut running: JoinSet<TargetResult> = JoinSet::new();
    // Which target each running task checks, to report a task that died (a bug) against its
    // line. Never more entries than `concurrency`.
    let mut in_flight: HashMap<Id, TargetLine> = HashMap::new();
    let mut input_open = true;
    let mut last_line = 0;
    let mut read_error = None;

    loop {
        let can_start = input_open && running.len() < concurrency;
        if !can_start && running.is_empty() {
            break;
        }
        tokio::select! {
            item = lines.recv(), if can_start => match item {
                None => input_open = false,
                Some(Err(error)) => {
                    input_open = false;
                    read_error = Some((last_line, error));
                }
                Some(Ok((number, text))) => {
                    last_line = number;
                    match parse_target_line(number, &text, &options.base_directory) {
                        Ok(None) => {}
                        Ok(Some(target)) => {
                            let context = target_context(&options.template, &target);
                            let registry = Arc::clone(&registry);
                            let selection = Arc::clone(&selection);
                            let line = target.line;
                            let gateway = target.gateway.clone();
                            let handle = running.spawn(async move {
                                check_target(&registry, &selection, context, line, &gateway).await
                            });
                            in_flight.insert(handle.id(), target);
                        }
                        Err(error) => {
                            let result = TargetResult::not_checked(
                                Some(number),
                                &text,
                                "targets-file",
                                error.to_string(),
                                Some("write each target as `HOST [CA-FILE]`, one per line".to_owned()),
                            );
                            summary.add(&result);
                            on_result(result)?;
                        }
                    }
                }
            },
            Some(joined) = running.join_next_with_id(), if !running.is_empty() => {
                let result = match joined {
                    Ok((id, result)) => {
                        in_flight.remove(&id);
                        result
                    }
                    Err(error) => {
                        let target = in_flight.remove(&error.id());
                        TargetResult::not_checked(
                            target.as_ref().map(|target| target.line),
                            target.as_ref().map_or("", |target| target.gateway.as_str()),
                            "edgeprobe",
                            format!("edgeprobe failed while checking this gateway: {error}"),
                            Some("this is a bug in edgeprobe: please report it with the targets line".to_owned()),
                        )
                    }
                };
                summary.add(&result);
                on_result(result)?;
            }
        }
    }
    summary.elapsed = started.elapsed();
    match read_error {
        Some((line, source)) => Err(FleetError::Read {
            line,
            source,
            summary,
        }),
        None => Ok(summary),
    }
}

/// The context for one target: the template's settings and shared state, this gateway, and
/// its own CA file when the line names one.
fn target_context(template: &Context, target: &TargetLine) -> Context {
    let mut context = Context {
        gateway: Some(target.gateway.clone()),
        connection_string: None,
        ..template.clone()
    };
    if let Some(ca_file) = &target.ca_file {
        context.leaf.ca_file = Some(ca_file.clone());
    }
    context
}

async fn check_target(
    registry: &[Box<dyn Check>],
    selection: &Selection,
    context: Context,
    line: usize,
    gateway: &str,
) -> TargetResult {
    let ca_file = context
        .leaf
        .ca_file
        .as_deref()
        .map(|path: &Path| path.display().to_string());
    match run_checks(registry, &context, selection).await {
        Ok(report) => TargetResult::from_run(Some(line), gateway, ca_file, &report),
        // The selection was validated before the run started; kept as a result, not a panic.
        Err(error) => {
            TargetResult::not_checked(Some(line), gateway, "selection", error.to_string(), None)
        }
    }
}
