//! One file per command, dispatched from one place (as tokio's mini-redis does). Commands
//! build a context, run, print through a report printer and return the exit code.

mod check;
mod connect;
mod demo;
mod explain;
mod exporter;
mod fleet;
mod inspect;
mod list;
mod serve;
mod verify;

use std::io::{self, Write};
use std::path::Path;

use crate::cli::{Cli, Command, NetworkArgs, OutputArgs, ReportFormat};
use crate::engine::{LEAF_EXPIRY_WARNING_DAYS, LeafSettings, RunReport};
use crate::host_info::HostInfo;
use crate::report::{self, Target, TargetResult, TextOptions};

/// Why a command could not run at all (exit status 2). Check failures are not errors: they
/// are findings in the report (exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Usage(String),
    #[error("writing the report failed: {0}")]
    Output(#[from] io::Error),
    #[error("{0}")]
    Demo(String),
    #[error("{0}")]
    Connect(String),
}

/// Run the parsed command, writing to `out`; returns the process exit status.
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<u8, AppError> {
    match cli.command {
        Command::Check(args) => check::run(*args.0, out).await,
        Command::Demo(args) => demo::run(args.0, out).await,
        Command::Serve(args) => serve::run(args.0, out, wait_for_ctrl_c()).await,
        Command::Exporter(args) => exporter::run(*args.0, out, wait_for_ctrl_c()).await,
        Command::Connect(args) => connect::run(&args, out).await,
        Command::Verify(args) => verify::run(&args, out),
        Command::Inspect(args) => inspect::run(&args, out),
        Command::List(args) => list::run(&args, out),
        Command::Explain(args) => explain::run(&args, out),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "edgeprobe", out);
            Ok(0)
        }
    }
}

/// The leaf settings the command line gives `check` (one gateway or a fleet) and `exporter`
/// alike: `--ca-file`, the network options, `--expiry-warning-days` (30 days by default),
/// `--websocket`, the proxy as curl finds it (`--proxy`, else `https_proxy`) and the OS store's
/// `SSL_CERT_FILE`/`SSL_CERT_DIR`.
fn leaf_settings(
    network: &NetworkArgs,
    ca_file: Option<&std::path::Path>,
    expiry_warning_days: Option<u32>,
    websocket: bool,
) -> Result<LeafSettings, AppError> {
    Ok(LeafSettings {
        ca_file: ca_file.map(std::path::Path::to_path_buf),
        hosts_file: network.resolver.hosts_file.clone(),
        dns_server: network.resolver.dns_server,
        resolve_overrides: network.resolver.overrides(),
        ports: network.ports(),
        timeout: network.timeout,
        expiry_warning_days: expiry_warning_days.unwrap_or(LEAF_EXPIRY_WARNING_DAYS),
        websocket,
        proxy: network
            .proxy
            .settings(true)
            .map_err(|error| AppError::Usage(error.to_string()))?,
        trust_environment: crate::engine::os_trust_location::TrustEnvironment::from_process(),
    })
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `kill`, systemd and `docker stop`
/// send), so `serve` always stops its listeners and removes the files it wrote. A signal whose
/// handler cannot be installed keeps its default action: the process just ends.
async fn wait_for_ctrl_c() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Print a run in the chosen format and compute the exit status from it. `monitored_as` is the
/// gateway's name in `jsonl` and `prometheus`: the name leaves dial, or in gateway mode the
/// gateway's own (see [`gateway_name`]).
fn print_report(
    out: &mut dyn Write,
    run: &RunReport,
    target: &Target,
    host: &HostInfo,
    monitored_as: Option<&str>,
    output: &OutputArgs,
) -> Result<u8, AppError> {
    match output.output {
        ReportFormat::Text => report::write_text(
            out,
            run,
            target,
            TextOptions {
                verbose: output.verbose,
                color: output.color.use_color(),
            },
        )?,
        ReportFormat::Json => report::write_json(out, run, target, host)?,
        ReportFormat::Jsonl => {
            report::write_json_line(out, &compact(run, target, monitored_as))?;
        }
        ReportFormat::Prometheus => {
            report::write_prometheus(out, &compact(run, target, monitored_as))?;
        }
    }
    out.flush()?;
    Ok(report::exit_code(run, output.warnings_as_errors))
}

/// The single-gateway run as fleet mode reports each gateway, for `jsonl` and `prometheus`.
fn compact(run: &RunReport, target: &Target, monitored_as: Option<&str>) -> TargetResult {
    let gateway = monitored_as.unwrap_or_default();
    TargetResult::from_run(None, gateway, target.ca_file.clone(), run)
}

/// A gateway-mode run's name for monitoring, never empty: the config's `hostname` (the name its
/// leaves dial and edgeHub's certificate carries); without one, the machine's host name, which
/// IoT Edge then uses; without that either, the config file's path.
fn gateway_name(run: &RunReport, machine_hostname: Option<String>, config: &Path) -> String {
    TargetResult::configured_gateway(run)
        .filter(|name| !name.trim().is_empty())
        .or(machine_hostname)
        .unwrap_or_else(|| config.display().to_string())
}
