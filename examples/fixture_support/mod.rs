//! What the two fixture generators (`generate_fixtures`, `generate_gateway_fixtures`) share:
//! the fixed validity periods, the command line and the writer that lists what it wrote.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use edgeprobe::demo::pki::Validity;
use time::macros::datetime;

/// Every CA: fixed dates, before 2038-01-01 (IoT Edge 1.1's libiothsm limit).
pub const CA_VALIDITY: Validity = Validity {
    not_before: datetime!(2020-01-01 00:00:00 UTC),
    not_after: datetime!(2037-12-31 00:00:00 UTC),
};
/// Every server certificate unless a fixture says otherwise.
pub const SERVER_VALIDITY: Validity = Validity {
    not_before: datetime!(2025-01-01 00:00:00 UTC),
    not_after: datetime!(2036-12-31 00:00:00 UTC),
};
/// Expired since 2021: for the expiry checks.
pub const EXPIRED_VALIDITY: Validity = Validity {
    not_before: datetime!(2020-01-01 00:00:00 UTC),
    not_after: datetime!(2021-01-01 00:00:00 UTC),
};

/// The generator's `main`: one argument, the output directory; `generate` writes into it
/// and returns the paths, which are printed one `wrote PATH` line each.
pub fn main_with(
    example: &str,
    generate: fn(&mut Writer) -> Result<(), Box<dyn Error>>,
) -> ExitCode {
    let mut arguments = std::env::args_os().skip(1);
    let (Some(directory), None) = (arguments.next(), arguments.next()) else {
        eprintln!("usage: cargo run --example {example} -- <output directory>");
        return ExitCode::from(2);
    };
    let mut writer = Writer {
        directory: Path::new(&directory).to_path_buf(),
        written: Vec::new(),
    };
    let result = writer
        .create_directory()
        .and_then(|()| generate(&mut writer));
    if result.is_ok() {
        for path in &writer.written {
            println!("wrote {}", path.display());
        }
    }
    super::exit_status::exit_status("error", result)
}

/// Writes fixture files under one directory, creating subdirectories as needed, and keeps
/// the list of what it wrote.
pub struct Writer {
    directory: PathBuf,
    written: Vec<PathBuf>,
}

impl Writer {
    fn create_directory(&self) -> Result<(), Box<dyn Error>> {
        fs::create_dir_all(&self.directory)
            .map_err(|error| format!("cannot create {}: {error}", self.directory.display()))?;
        Ok(())
    }

    /// Writes `contents` to `name` (a path relative to the output directory).
    pub fn write(&mut self, name: &str, contents: &str) -> Result<(), Box<dyn Error>> {
        let path = self.directory.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
        }
        fs::write(&path, contents)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}
