//! `edgeprobe demo`: stand-in until the simulator lands.
use super::AppError;
use crate::cli::DemoArgs;
use std::io::Write;
pub async fn run(args: DemoArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let _ = (args, out);
    Err(AppError::Demo("not yet".into()))
}
