//! edgeprobe's integration tests: one binary (as ripgrep does), a small harness, and one
//! module per area. Servers are real sockets on 127.0.0.1; nothing leaves the loopback.

mod bad_input;
mod brokers;
mod conformance;
mod docs;
mod fleet;
mod gateway;
mod gateway_mode;
mod hardening;
mod harness;
mod hostile_chains;
mod misbehaving;
mod serve;
mod timing;
mod tls_algorithms;
