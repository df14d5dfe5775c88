//! Unit tests' way to the checked-in fixtures (made by the programs fixtures/README.md names).

use std::path::{Path, PathBuf};

/// `fixtures/<relative>` of this crate.
pub(crate) fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Deterministic pseudo-random numbers for generated test inputs: xorshift64 (Marsaglia) from
/// `seed` (not zero), the same sequence on every run.
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
