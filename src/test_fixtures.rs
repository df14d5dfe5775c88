//! Unit tests' way to the checked-in fixtures (made by the programs fixtures/README.md names).

use std::path::{Path, PathBuf};

/// `fixtures/<relative>` of this crate.
pub(crate) fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}
