//! The edgeprobe binary: parse, run, map the result to an exit code.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use edgeprobe::cli::{Cli, Command};
use edgeprobe::secrets::{redact, redact_command_line};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let runtime = match runtime_for(&cli.command) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("edgeprobe: error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    // Buffered: a locked stdout alone is line-buffered, one write(2) per line of a JSON
    // report. Printers that stream (fleet mode) flush after each result themselves.
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = runtime
        .block_on(edgeprobe::commands::run(cli, &mut out))
        .and_then(|code| {
            out.flush()?;
            Ok(code)
        });
    // The report is written: exit without waiting for the blocking pool's idle threads to wake
    // and be joined, as dropping the runtime would.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`edgeprobe ... | head`) is not a failure (as ripgrep does).
        Err(edgeprobe::commands::AppError::Output(error))
            if error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("edgeprobe: error: {}", redact(&error.to_string()));
            ExitCode::from(2)
        }
    }
}

/// The runtime a command needs. One gateway's checks are polled together by the runner on one
/// thread, so a thread pool would only add start-up work (worker threads, cross-thread wake-ups)
/// to a run that takes a few milliseconds. Fleet mode (`check --targets`) runs on one thread
/// too: its gateways wait on the network, not on the CPU, and a thread pool cost each gateway
/// about 15% more CPU (the results crossing from the workers to the printing thread, tasks
/// moving between workers, frees into another thread's malloc arena: 1.24 against 1.05 ms per
/// gateway in 12 interleaved runs of 1,000 gateways at --concurrency 64, 1.38 against 1.12 at
/// 256) for no more gateways per second on the two cores bench/run measures. The servers
/// (`serve`, `demo`'s in-process gateway) spread their connections over the cores.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    let many_tasks = matches!(command, Command::Serve(_) | Command::Demo(_));
    let mut builder = if many_tasks {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build()
}

/// clap's own message and status (2; 0 for `--help`), but redacted: clap quotes what was
/// typed (`unexpected argument '...'`), and what was typed can be a connection string pasted
/// without its flag. Printed by clap, in colour, when there is nothing to redact.
fn usage_error(error: &clap::Error) -> ExitCode {
    let plain = error.render().to_string();
    let arguments: Vec<String> = std::env::args_os()
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    match redact_command_line(&plain, &arguments) {
        // Help and version go to stdout, as clap prints them.
        _ if !error.use_stderr() => error.exit(),
        Cow::Borrowed(_) => error.exit(),
        // A value runs to the end of the text, so the usage lines after it may be gone.
        Cow::Owned(redacted) => {
            eprintln!("{}", redacted.trim_end());
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
        }
    }
}
