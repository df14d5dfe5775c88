//! The edgeprobe binary: parse, run, map the result to an exit code.
#![forbid(unsafe_code)]

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use edgeprobe::cli::Cli;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`edgeprobe ... | head`) is not a failure (as ripgrep does).
        Err(edgeprobe::commands::AppError::Output(error))
            if error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("edgeprobe: error: {error}");
            ExitCode::from(2)
        }
    }
}
