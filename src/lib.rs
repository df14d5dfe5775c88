//! edgeprobe: tells, in seconds, why a device cannot connect to its Azure IoT Edge gateway,
//! and how to fix it. `main.rs` only parses, runs and maps the result to an exit code; the work
//! lives here so tests and the demo drive the same code.
#![forbid(unsafe_code)]

pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connection_string;
pub mod demo;
pub mod engine;
pub mod exporter;
pub mod fleet;
pub mod host_info;
pub mod hostname;
pub mod identity;
pub mod manpages;
pub mod memo;
pub mod net;
pub mod pki;
pub mod report;
pub mod sdk_trust;
pub mod secrets;
pub mod system;
#[cfg(test)]
mod test_fixtures;
