//! The check engine: what a check is, what it returns, and how results flow to dependents.
//!
//! Modelled on `iotedge check` (one check per file, stable kebab-case ids) without its shared
//! mutable "check context": a check receives read-only [`Context`] and the typed [`Evidence`]
//! of the checks it depends on, and returns an [`Outcome`]. Checks never print.

pub mod info;
pub mod os_trust_location;
pub mod os_trust_store;
pub mod outcome;
pub mod registry;
pub mod runner;
pub mod shared;

pub use info::{CheckInfo, InfoSchema, Milliseconds, Timestamp};
pub use outcome::{Evidence, ObservedPort, OrSkip, Outcome, Peer, Ran, Skip, Status};
pub use registry::{
    Check, CheckFuture, CheckMeta, DeclaredCheck, Dependency, FamilyCheck, Group, OnPort,
    PortCheck, PortFamily,
};
pub use runner::{CheckReport, Prior, RunReport, Selection, run_checks, validate_selection};
pub use shared::Shared;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::Located;
use crate::net::Protocol;
use crate::net::resolve::ResolverSettings;
use crate::secrets::SecretString;
use crate::system::SystemRoot;

/// Everything a check may read. Built once from the command line; never mutated by checks.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--gateway`, which wins over the connection string's `GatewayHostName`.
    pub gateway: Option<String>,
    /// `--connection-string`, raw; parsed by the `connection-string` check. A secret, so this
    /// struct's derived `Debug` shows `<redacted>`.
    pub connection_string: Option<SecretString>,
    /// The leaf-facing settings every mode shares (`--ca-file`, the network options, the
    /// proxy, the OS store's environment): declared once, in [`LeafSettings`].
    pub leaf: LeafSettings,
    /// The clock, passed in so nothing deep inside reads it and tests can pin it.
    pub now: OffsetDateTime,
    /// `--root`: where the gateway's `/` is; every system path is read under it.
    pub root: SystemRoot,
    /// The gateway-mode settings (the config, the parent's and IoT Hub's ports, the nested
    /// options): declared once, in [`GatewaySettings`].
    pub gateway_mode: GatewaySettings,
    /// Leaf mode: `--gateway-config`, a copy of the gateway's config for cross-checks.
    pub gateway_config: Option<PathBuf>,
    /// Compare the gateway name's resolution with getaddrinfo's (a single leaf run; fleet
    /// mode does not double every lookup).
    pub compare_system_resolver: bool,
    /// `--ntp-server HOST[:PORT]`: `device-clock` also asks it (SNTP).
    pub ntp_server: Option<String>,
    /// Leaf mode: `--authenticate`, `--send-test-message`, `--cert`, `--key`, `--device-ca`.
    pub identity: crate::identity::IdentityOptions,
    /// The ports asked for by name (`--port`, `--parent-port`, `--iothub-port`, or `--only`
    /// naming a port's check): probed even where this configuration does not use them.
    pub asked_ports: Vec<(Peer, Protocol)>,
    /// `--sdk`: the runtimes `sdk-trust` examines, empty for every runtime found on the device
    /// (`check`'s default on a leaf); `None` where the machine is not the device (exporter,
    /// fleet mode, demo), so the check does not apply.
    pub sdk_runtimes: Option<Vec<crate::sdk_trust::Runtime>>,
    /// The environment variables that move runtimes' trust stores, read once by the command.
    pub environment: crate::sdk_trust::Environment,
    /// Resolver, trust anchors and TLS clients built once and reused by every check (and, in
    /// fleet mode, by every target's context, which all hold the same handle).
    pub shared: Shared,
}

impl Default for Context {
    /// The documented defaults, with no gateway named: the base every mode builds on.
    fn default() -> Self {
        Context {
            gateway: None,
            connection_string: None,
            leaf: LeafSettings::default(),
            now: OffsetDateTime::now_utc(),
            root: SystemRoot::host(),
            gateway_mode: GatewaySettings::default(),
            gateway_config: None,
            compare_system_resolver: false,
            ntp_server: None,
            identity: crate::identity::IdentityOptions::default(),
            asked_ports: Vec::new(),
            sdk_runtimes: None,
            environment: crate::sdk_trust::Environment::default(),
            shared: Shared::default(),
        }
    }
}

/// What a leaf run takes from the command line to reach and judge its gateway (`--ca-file`, the
/// network options, `--expiry-warning-days`, `--websocket`, the proxy and the OS store's
/// environment). `check --gateway`, `check --targets` and every exporter module make their
/// context from one of these with [`Context::leaf`], so the three cannot drift apart.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafSettings {
    /// `--ca-file`: the gateway's root CA as given to the leaf device.
    pub ca_file: Option<PathBuf>,
    /// `--hosts-file`
    pub hosts_file: PathBuf,
    /// `--dns-server IP[:PORT]`; `None` means `/etc/resolv.conf`.
    pub dns_server: Option<SocketAddr>,
    /// `--resolve NAME:ADDR` overrides, like curl's; keys are lower-case names.
    pub resolve_overrides: BTreeMap<String, Vec<std::net::IpAddr>>,
    /// `--port`
    pub ports: Ports,
    /// `--timeout`: the deadline for every network step (each connect, each handshake, each
    /// DNS query).
    pub timeout: Duration,
    /// `--expiry-warning-days`
    pub expiry_warning_days: u32,
    /// `--websocket`: also try the IoT Hub WebSocket upgrade on the HTTPS port.
    pub websocket: bool,
    /// Leaf mode and `connect`: `--proxy`/`--noproxy`, else `https_proxy`/`no_proxy`. Gateway
    /// mode: `--proxy`, else none (the upstream checks read the config's `[agent.env]`).
    pub proxy: crate::net::proxy::ProxySettings,
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR` as the device's environment sets them (read by the
    /// command): where OpenSSL-based SDKs find the OS trust store.
    pub trust_environment: os_trust_location::TrustEnvironment,
}

impl Default for LeafSettings {
    /// The documented defaults.
    fn default() -> Self {
        LeafSettings {
            ca_file: None,
            hosts_file: PathBuf::from("/etc/hosts"),
            dns_server: None,
            resolve_overrides: BTreeMap::new(),
            ports: Ports::default(),
            timeout: Duration::from_secs(5),
            expiry_warning_days: LEAF_EXPIRY_WARNING_DAYS,
            websocket: false,
            proxy: Default::default(),
            trust_environment: os_trust_location::TrustEnvironment::default(),
        }
    }
}

/// What gateway mode (`check` on the gateway itself) takes besides the [`LeafSettings`]: the
/// config examined and where the gateway's own upstream connections go. Empty (no config) on a
/// leaf, where the gateway checks do not apply.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// The IoT Edge config found (or given with `--config`).
    pub config: Option<Located>,
    /// The parent gateway's ports (nested edge), `--parent-port`.
    pub parent_ports: Ports,
    /// IoT Hub's ports, `--iothub-port`.
    pub iothub_ports: Ports,
    /// `--iothub-hostname`, the hub when the config does not name it (DPS).
    pub iothub_hostname: Option<String>,
    /// `--top-layer` and `--registry-port`.
    pub nested: NestedSettings,
}

/// Nested hierarchies: what the top layer serves the layers below it (the options of
/// [`NestedArgs`](crate::cli::NestedArgs)).
#[derive(Debug, Clone)]
pub struct NestedSettings {
    /// `--top-layer`, this gateway is the top layer of a nested hierarchy (its children pull
    /// their images through it, from its registry module).
    pub top_layer: bool,
    /// `--registry-port`, the host port the top layer's registry module publishes.
    pub registry_port: u16,
}

impl Default for GatewaySettings {
    /// The documented defaults, with no config.
    fn default() -> Self {
        GatewaySettings {
            config: None,
            parent_ports: Ports::default(),
            iothub_ports: Ports::default(),
            iothub_hostname: None,
            nested: NestedSettings {
                top_layer: false,
                registry_port: DEFAULT_REGISTRY_PORT,
            },
        }
    }
}

impl Context {
    /// The context of a leaf run with `settings`, no gateway named yet, a fresh [`Shared`] and
    /// the clock read now.
    pub fn leaf(settings: &LeafSettings) -> Self {
        Context {
            leaf: settings.clone(),
            now: OffsetDateTime::now_utc(),
            ..Context::default()
        }
    }

    /// Whether `protocol`'s port of `peer` was asked for by name on the command line.
    pub fn asked_for(&self, peer: Peer, protocol: Protocol) -> bool {
        self.asked_ports.contains(&(peer, protocol))
    }

    /// A context with the documented defaults, for `gateway`; used by `demo` and tests.
    pub fn for_gateway(gateway: &str) -> Self {
        Context {
            gateway: Some(gateway.to_owned()),
            ..Context::default()
        }
    }

    /// How this run resolves names (`--hosts-file`, `--dns-server`, `--resolve`, the timeout),
    /// with the system resolver's configuration read from `resolv_conf`: the gateway suite
    /// reads the gateway's own under `--root`, the leaf suite this device's.
    pub fn resolver_settings(&self, resolv_conf: PathBuf) -> ResolverSettings {
        ResolverSettings {
            hosts_file: self.leaf.hosts_file.clone(),
            resolv_conf,
            dns_server: self.leaf.dns_server,
            overrides: self.leaf.resolve_overrides.clone(),
            timeout: self.leaf.timeout,
        }
    }

    /// A context for checking the gateway configured at `config`, with the documented
    /// defaults; the gateway-mode counterpart of [`Context::for_gateway`].
    pub fn for_config(root: SystemRoot, config: Located) -> Self {
        Context {
            leaf: LeafSettings {
                hosts_file: root.path("/etc/hosts"),
                expiry_warning_days: GATEWAY_EXPIRY_WARNING_DAYS,
                ..LeafSettings::default()
            },
            root,
            gateway_mode: GatewaySettings {
                config: Some(config),
                ..GatewaySettings::default()
            },
            ..Context::default()
        }
    }
}

/// The registry module's port in the nested guide's top-layer deployment (`registry:latest`,
/// createOptions PortBindings `5000/tcp`).
pub const DEFAULT_REGISTRY_PORT: u16 = 5000;

/// Leaves warn 30 days before a certificate expires.
pub const LEAF_EXPIRY_WARNING_DAYS: u32 = 30;
/// The gateway side warns 90 days ahead: replacing a device CA means issuing it, copying it and
/// restarting IoT Edge on every gateway, and the quickstart CA itself only lives 90 days.
pub const GATEWAY_EXPIRY_WARNING_DAYS: u32 = 90;

/// The port each protocol is probed on: 8883, 5671 and 443 unless `--port` says otherwise.
/// (In JSON an object keyed like `--port`; its schema is this struct's.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Ports {
    /// MQTT over TLS, 8883 by default.
    pub mqtt: u16,
    /// AMQP over TLS, 5671 by default.
    pub amqp: u16,
    /// HTTPS (and MQTT/AMQP over WebSockets), 443 by default.
    pub https: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            mqtt: 8883,
            amqp: 5671,
            https: 443,
        }
    }
}

impl Ports {
    pub fn get(&self, protocol: Protocol) -> u16 {
        match protocol {
            Protocol::Mqtt => self.mqtt,
            Protocol::Amqp => self.amqp,
            Protocol::Https => self.https,
        }
    }
}
