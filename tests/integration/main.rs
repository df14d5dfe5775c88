//! edgeprobe's integration tests: one binary (as ripgrep does), a small harness, and one
//! module per area. Servers are real sockets on 127.0.0.1; nothing leaves the loopback.

mod address_families;
mod authentication;
mod bad_input;
mod brokers;
mod conformance;
mod consumer;
mod conventions;
mod der_mutate;
mod device_clock;
mod diagnosis;
mod differential;
mod docs;
mod exporter;
mod fleet;
mod forged_chains;
mod gateway;
#[cfg(unix)]
mod gateway_metrics;
#[cfg(unix)]
mod gateway_mode;
mod hardening;
mod harness;
mod hostile_chains;
mod identity;
mod misbehaving;
mod nested;
mod observation;
mod openssl;
mod openssl_suite;
mod proxy;
mod remedies;
mod schema;
mod sdk_trust;
mod serve;
mod strict_der;
mod timing;
mod tls_algorithms;
mod trust_stores;
mod trusted_ca_file;
