//! How the generator examples end: success, or one `PREFIX: error` line on stderr and a
//! failure status.

use std::fmt::Display;
use std::process::ExitCode;

/// `ExitCode::SUCCESS` for `Ok`; for `Err`, prints `{prefix}: {error}` and fails.
pub fn exit_status<E: Display>(prefix: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{prefix}: {error}");
            ExitCode::FAILURE
        }
    }
}
