//! `edgeprobe demo`: a generated PKI and an in-process gateway on loopback.

pub mod devices;
pub mod pki;
pub mod scenario;
pub mod server;

pub use scenario::Scenario;
