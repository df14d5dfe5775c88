//! `edgeprobe exporter`: builds the modules from the command line and `--config`, binds the
//! listener, says where it listens and serves until Ctrl-C or SIGTERM (then drains).

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::AppError;
use crate::cli::ExporterArgs;
use crate::engine::Selection;
use crate::exporter::config::parse_modules;
use crate::exporter::{DEFAULT_MODULE, Exporter, Module, listening_line};
use crate::net::local_limits::raise_open_files_limit;

pub async fn run(
    args: ExporterArgs,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<u8, AppError> {
    let base = Module {
        leaf: super::leaf_settings(
            &args.network,
            args.ca_file.as_deref(),
            args.expiry_warning_days,
            args.websocket,
        )?,
        selection: Selection {
            only: args.only.clone(),
            skip: args.skip.clone(),
        },
    };
    let modules = match &args.config {
        None => [(DEFAULT_MODULE.to_owned(), base)].into_iter().collect(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                AppError::Usage(format!(
                    "cannot read the exporter config {}: {error}",
                    path.display()
                ))
            })?;
            parse_modules(path, &text, &base).map_err(|error| AppError::Usage(error.to_string()))?
        }
    };
    let concurrency = usize::try_from(args.max_concurrent_probes).unwrap_or(1);
    let exporter =
        Exporter::new(modules, concurrency).map_err(|error| AppError::Usage(error.to_string()))?;
    // Each probe holds a socket per port, and each scrape a connection.
    raise_open_files_limit();
    let listener = TcpListener::bind(args.listen).await.map_err(|error| {
        AppError::Usage(format!(
            "cannot listen on {}: {error} (is another exporter running there? choose another --listen)",
            args.listen
        ))
    })?;
    let address = listener.local_addr().map_err(AppError::Output)?;
    writeln!(out, "{}", listening_line(address))?;
    out.flush()?;

    let (stopping, shutdown) = watch::channel(false);
    let serving = tokio::spawn(Arc::new(exporter).serve(listener, shutdown));
    stop.await;
    let _ = stopping.send(true);
    let _ = serving.await;
    writeln!(out, "edgeprobe exporter stopped")?;
    Ok(0)
}
