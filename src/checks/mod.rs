//! The registry of checks, one file per check (or per parameterized family).

use crate::engine::Check;

/// The leaf-device suite, in report order.
pub fn leaf_registry() -> Vec<Box<dyn Check>> {
    Vec::new()
}
