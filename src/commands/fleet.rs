//! `edgeprobe check --targets FILE`: opens the list, shows progress on a terminal, prints each
//! gateway's result as it comes (the work itself is [`crate::fleet`]) and maps the run to an
//! exit status: 1 when any gateway has an error.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use time::OffsetDateTime;

use super::AppError;
use crate::checks::leaf_registry;
use crate::cli::{CheckArgs, DEFAULT_CONCURRENCY, ReportFormat};
use crate::engine::{Context, Peer};
use crate::fleet::{FleetError, FleetOptions, count_targets, read_lines, run_fleet};
use crate::net::local_limits::raise_open_files_limit;
use crate::report::fleet::{FleetHeader, FleetPrinter, FleetPrometheus};
use crate::report::fleet_json::{FleetJson, FleetJsonLines};
use crate::report::fleet_text::FleetText;
use crate::report::{TextOptions, Verdict};

pub async fn run(args: CheckArgs, targets: PathBuf, out: &mut dyn Write) -> Result<u8, AppError> {
    // Checked here rather than by clap, which would blame `--connection-string` even when the
    // value comes from the environment.
    if args.connection_string.is_some() {
        return Err(AppError::Usage(
            "--targets checks gateways, not one device: drop --connection-string (or unset EDGEPROBE_CONNECTION_STRING)".to_owned(),
        ));
    }
    let selection = super::check::selection(&args, &leaf_registry())?;

    let from_stdin = targets.as_os_str() == "-";
    let (reader, source, base_directory): (Box<dyn BufRead + Send>, String, PathBuf) = if from_stdin
    {
        let reader = Box::new(BufReader::new(std::io::stdin()));
        (reader, "standard input".to_owned(), PathBuf::new())
    } else {
        let file = open_targets(&targets)?;
        let base = targets.parent().map(Path::to_path_buf).unwrap_or_default();
        (
            Box::new(BufReader::new(file)),
            targets.display().to_string(),
            base,
        )
    };

    let concurrency = usize::try_from(args.concurrency.unwrap_or(DEFAULT_CONCURRENCY)).unwrap_or(1);
    // Each gateway in flight holds a socket per port; a soft limit of 1024 (still many
    // systems' default) runs out long before a high --concurrency does. A gateway that still
    // finds none is reported as this machine's limit, with `ulimit -n` as the fix.
    raise_open_files_limit();
    let now = OffsetDateTime::now_utc();
    let ports = args.network.ports();
    let options = FleetOptions {
        template: Context {
            now,
            asked_ports: super::check::asked_ports(
                &args,
                &selection,
                &leaf_registry(),
                Peer::Gateway,
            ),
            ..Context::leaf(&super::check::leaf_settings(&args)?)
        },
        selection,
        concurrency,
        base_directory,
    };
    let header = FleetHeader {
        source: source.clone(),
        ports,
        concurrency,
    };
    let text_options = TextOptions {
        verbose: args.output.verbose,
        color: args.output.color.use_color(),
    };
    let mut printer: Box<dyn FleetPrinter> = match args.output.output {
        ReportFormat::Text => Box::new(FleetText::new(header, text_options, now.unix_timestamp())),
        ReportFormat::Json => Box::new(FleetJson::new(ports)),
        ReportFormat::Jsonl => Box::new(FleetJsonLines),
        ReportFormat::Prometheus => Box::new(FleetPrometheus::default()),
    };

    // Progress only where someone watches: never on a pipe, a file or a CI log.
    let progress = std::io::stderr().is_terminal().then(|| {
        let total = (!from_stdin)
            .then(|| File::open(&targets).ok())
            .flatten()
            .and_then(|file| count_targets(BufReader::new(file)).ok());
        progress_bar(total)
    });
    let mut errors = 0usize;
    let outcome = run_fleet(read_lines(reader, concurrency * 2), options, |result| {
        if result.verdict == Verdict::Error {
            errors += 1;
        }
        match &progress {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{errors} with errors"));
                // The bar is drawn on the same terminal as the rows: lift it while writing.
                bar.suspend(|| printer.target(out, &result))
            }
            None => printer.target(out, &result),
        }
    })
    .await;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }

    let (summary, read_error) = match outcome {
        Ok(summary) => (summary, None),
        Err(FleetError::Output(error)) => return Err(AppError::Output(error)),
        Err(FleetError::Read {
            line,
            source: error,
            summary,
        }) => (
            summary,
            Some(format!(
                "reading the targets from {source} failed after line {line}: {error}"
            )),
        ),
    };
    if summary.total == 0 && read_error.is_none() {
        return Err(AppError::Usage(format!(
            "{source} lists no gateway: write one `HOST [CA-FILE]` per line"
        )));
    }
    // What was checked before a read error is still reported in full (a valid document).
    printer.finish(out, &summary)?;
    match read_error {
        Some(message) => Err(AppError::Usage(message)),
        None => Ok(summary.exit_code(args.output.warnings_as_errors)),
    }
}

fn open_targets(path: &Path) -> Result<File, AppError> {
    let unreadable = |detail: String| {
        AppError::Usage(format!(
            "cannot read the targets file {}: {detail}",
            path.display()
        ))
    };
    if path.is_dir() {
        return Err(unreadable("it is a directory".to_owned()));
    }
    File::open(path).map_err(|error| unreadable(error.to_string()))
}

fn progress_bar(total: Option<u64>) -> ProgressBar {
    let (template, length) = match total {
        Some(total) => (
            "{spinner} [{bar:30}] {pos}/{len} gateways, {msg}, {rate}, ETA {eta}",
            Some(total),
        ),
        None => ("{spinner} {pos} gateways, {msg}, {rate}, {elapsed}", None),
    };
    let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        // Whole gateways per second: indicatif's own {per_sec} shows four decimals.
        let rate = |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = write!(out, "{:.0}/s", state.per_sec());
        };
        bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
    }
    bar.set_message("0 with errors");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
