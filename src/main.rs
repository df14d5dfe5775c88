//! The edgeprobe binary: parse, run, map the result to an exit code.
#![forbid(unsafe_code)]

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
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match runtime.block_on(edgeprobe::commands::run(cli, &mut out)) {
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
