//! Every check's metadata, declared once, as data: one row a check (id, report section, title,
//! prerequisites, the type of its JSON `additional_info`), a port family's three rows together.
//! A check's file names its row (`const META: CheckMeta = catalog::GATEWAY_RESOLVE;`), the
//! registries in `checks/mod.rs` put the checks in report order, and the explain page is
//! `checks/<id>.md`, found by the id. A port family's titles name the default port, which a
//! run's title replaces with the port it probes (`engine::registry::title_for_port`).
//!
//! A check registered in both suites (`connection-string`, `root-ca-trust-store`) has one row
//! per suite, with one id: the group, the title and the prerequisites may differ.
//!
//! rustfmt leaves this file as written (`#[rustfmt::skip]` on `mod catalog`), so that a row
//! stays one line and the table reads as a table.

use crate::engine::Dependency::{Requires, RequiresAny, Uses};
use crate::engine::Group::{self, Configuration, Connectivity, GatewayConnectivity};
use crate::engine::Peer::{EdgeHub, Gateway, IotHub, Parent};
use crate::engine::{CheckMeta, Dependency, InfoSchema as Info, PortFamily};

/// One row: id, report section, title, prerequisites, the type of its `additional_info`.
const fn check(id: &'static str, group: Group, title: &'static str, dependencies: &'static [Dependency], info: Info) -> CheckMeta {
    CheckMeta { id, group, title, dependencies, info }
}

/// The leaf suite's three connect checks: what judges the chains the ports presented runs when
/// at least one of them connected.
const CONNECT_CHECKS: &[&str] = &["gateway-connect-mqtt", "gateway-connect-amqp", "gateway-connect-https"];

/// What both nested checks read: the config, the trust bundle, the parent's address.
const NESTED: &[Dependency] = &[Requires("config-well-formed"), Uses("certificates-configured"), Uses("parent-hostname")];

// ---- The leaf suite (`edgeprobe check --gateway ...`) ----

pub const CONNECTION_STRING_LEAF: CheckMeta = check("connection-string", GatewayConnectivity, "device connection string is well-formed and names a gateway", &[], Info::ConnectionString);
pub const GATEWAY_HOSTNAME: CheckMeta = check("gateway-hostname", GatewayConnectivity, "gateway name is a valid host name", &[Uses("connection-string")], Info::GatewayHostname);
pub const GATEWAY_HOSTNAME_MATCHES_CONFIG: CheckMeta = check("gateway-hostname-matches-config", Configuration, "GatewayHostName matches the gateway config's hostname", &[Uses("connection-string")], Info::GatewayHostnameMatchesConfig);
pub const ROOT_CA_FILE: CheckMeta = check("root-ca-file", GatewayConnectivity, "root CA file is readable and holds CA certificates", &[], Info::RootCaFile);
pub const ROOT_CA_TRUST_STORE_LEAF: CheckMeta = check("root-ca-trust-store", GatewayConnectivity, "root CA is installed in the operating system's trust store", &[Uses("root-ca-file")], Info::RootCaTrustStore);
pub const DEVICE_CERTIFICATE: CheckMeta = check("device-certificate", GatewayConnectivity, "device certificate and key are usable for X.509 authentication", &[Uses("connection-string")], Info::DeviceCertificate);
pub const GATEWAY_RESOLVE: CheckMeta = check("gateway-resolve", GatewayConnectivity, "gateway name resolves to an address", &[Requires("gateway-hostname")], Info::Resolve);

/// The leaf suite's one network step per port: it makes the port's observation.
pub const GATEWAY_CONNECT: PortFamily = PortFamily::connecting(Gateway, [
    check("gateway-connect-mqtt", GatewayConnectivity, "gateway accepts TLS connections on the MQTT port (8883)", &[Requires("gateway-resolve")], Info::Connect),
    check("gateway-connect-amqp", GatewayConnectivity, "gateway accepts TLS connections on the AMQP port (5671)", &[Requires("gateway-resolve")], Info::Connect),
    check("gateway-connect-https", GatewayConnectivity, "gateway accepts TLS connections on the HTTPS port (443)", &[Requires("gateway-resolve")], Info::Connect),
]);

/// The protocol answers on the connection its connect check made, so each requires its own.
pub const GATEWAY_PROTOCOL: PortFamily = PortFamily::reading(Gateway, [
    check("gateway-protocol-mqtt", GatewayConnectivity, "an MQTT broker answers behind the MQTT port (8883)", &[Requires("gateway-connect-mqtt")], Info::GatewayProtocol),
    check("gateway-protocol-amqp", GatewayConnectivity, "an AMQP 1.0 server answers behind the AMQP port (5671)", &[Requires("gateway-connect-amqp")], Info::GatewayProtocol),
    check("gateway-protocol-https", GatewayConnectivity, "an HTTP server answers behind the HTTPS port (443)", &[Requires("gateway-connect-https")], Info::GatewayProtocol),
]);

/// `gateway-protocol-https` schedules the HTTP request on the HTTPS connection, whose answer
/// has the gateway's Date.
pub const DEVICE_CLOCK: CheckMeta = check("device-clock", GatewayConnectivity, "device clock agrees with the gateway's and NTP's", &[Uses("gateway-connect-https"), Uses("gateway-protocol-https")], Info::DeviceClock);
/// A token refused because of the clock (CONNACK 4, CBS 401) leads its remedy with the clock.
pub const GATEWAY_AUTH_MQTT: CheckMeta = check("gateway-auth-mqtt", GatewayConnectivity, "gateway accepts the device's identity over MQTT", &[Requires("gateway-connect-mqtt"), Uses("connection-string"), Uses("device-clock")], Info::GatewayAuth);
pub const GATEWAY_AUTH_AMQP: CheckMeta = check("gateway-auth-amqp", GatewayConnectivity, "gateway accepts the device's identity over AMQP", &[Requires("gateway-connect-amqp"), Uses("connection-string"), Uses("device-clock")], Info::GatewayAuth);
pub const GATEWAY_AUTH_WEBSOCKET: CheckMeta = check("gateway-auth-websocket", GatewayConnectivity, "gateway accepts the device's identity over MQTT over WebSockets", &[Requires("gateway-connect-https"), Uses("connection-string"), Uses("device-clock")], Info::GatewayAuth);
/// A wrong clock explains "not yet valid" and "expired" (codes 9 and 10).
pub const GATEWAY_CERT_CHAIN: CheckMeta = check("gateway-cert-chain", GatewayConnectivity, "gateway certificate chain verifies against the root CA file", &[Requires("root-ca-file"), RequiresAny(CONNECT_CHECKS), Uses("device-clock")], Info::GatewayCertChain);
pub const GATEWAY_CERT_HOSTNAME: CheckMeta = check("gateway-cert-hostname", GatewayConnectivity, "gateway certificate is issued for the gateway name", &[Requires("gateway-hostname"), RequiresAny(CONNECT_CHECKS)], Info::GatewayCertHostname);
/// A wrong clock makes every certificate look expired or not yet valid at once.
pub const GATEWAY_CERT_EXPIRY: CheckMeta = check("gateway-cert-expiry", GatewayConnectivity, "gateway certificates are valid and not close to expiry", &[RequiresAny(CONNECT_CHECKS), Uses("root-ca-file"), Uses("device-clock")], Info::Expiry);
pub const SDK_TRUST: CheckMeta = check("sdk-trust", GatewayConnectivity, "each device SDK runtime finds the gateway's root CA where it looks", &[Uses("root-ca-file"), Uses("gateway-connect-mqtt"), Uses("gateway-connect-amqp"), Uses("gateway-connect-https")], Info::SdkTrust);

// ---- The gateway suite (`edgeprobe check` on an IoT Edge device) ----

pub const CONFIG_WELL_FORMED: CheckMeta = check("config-well-formed", Configuration, "IoT Edge config file is well-formed", &[], Info::ConfigWellFormed);
pub const HOSTNAME: CheckMeta = check("hostname", Configuration, "config specifies a valid hostname for leaves to dial", &[Requires("config-well-formed")], Info::Hostname);
pub const CONNECTION_STRING_GATEWAY: CheckMeta = check("connection-string", Configuration, "config provisions the IoT Edge device with a well-formed identity", &[Requires("config-well-formed")], Info::ConnectionString);
pub const CERTIFICATES_CONFIGURED: CheckMeta = check("certificates-configured", Configuration, "device CA certificate, key and trusted root are configured and readable", &[Requires("config-well-formed")], Info::CertificatesConfigured);
pub const DEVICE_CA_KEY_MATCH: CheckMeta = check("device-ca-key-match", Configuration, "device CA private key matches its certificate", &[Uses("certificates-configured")], Info::DeviceCaKeyMatch);
pub const DEVICE_CA_CHAIN: CheckMeta = check("device-ca-chain", Configuration, "device CA is a CA and chains to the trusted root", &[Uses("certificates-configured")], Info::DeviceCaChain);
pub const CERTIFICATES_EXPIRY: CheckMeta = check("certificates-expiry", Configuration, "configured certificates are valid and not close to expiry", &[Uses("certificates-configured")], Info::Expiry);
pub const STALE_GENERATED_CERTS: CheckMeta = check("stale-generated-certs", Configuration, "certificates IoT Edge generated come from the current device CA", &[Requires("config-well-formed"), Uses("certificates-configured")], Info::StaleGeneratedCerts);
pub const ROOT_CA_TRUST_STORE_GATEWAY: CheckMeta = check("root-ca-trust-store", Configuration, "root CA is installed in the operating system's trust store", &[Uses("certificates-configured")], Info::RootCaTrustStore);

pub const EDGEHUB_LISTENING: PortFamily = PortFamily::connecting(EdgeHub, [
    check("edgehub-listening-mqtt", Connectivity, "edgeHub serves a valid certificate on the MQTT port (8883)", &[Requires("hostname"), Uses("certificates-configured")], Info::TlsPort),
    check("edgehub-listening-amqp", Connectivity, "edgeHub serves a valid certificate on the AMQP port (5671)", &[Requires("hostname"), Uses("certificates-configured")], Info::TlsPort),
    check("edgehub-listening-https", Connectivity, "edgeHub serves a valid certificate on the HTTPS port (443)", &[Requires("hostname"), Uses("certificates-configured")], Info::TlsPort),
]);

pub const PARENT_HOSTNAME: CheckMeta = check("parent-hostname", Connectivity, "parent gateway name is valid and resolves (nested edge)", &[Requires("config-well-formed")], Info::Resolve);

pub const PARENT_CONNECT: PortFamily = PortFamily::connecting(Parent, [
    check("parent-connect-mqtt", Connectivity, "parent gateway is reachable and trusted on the MQTT port (8883)", &[Requires("parent-hostname"), Uses("certificates-configured")], Info::TlsPort),
    check("parent-connect-amqp", Connectivity, "parent gateway is reachable and trusted on the AMQP port (5671)", &[Requires("parent-hostname"), Uses("certificates-configured")], Info::TlsPort),
    check("parent-connect-https", Connectivity, "parent gateway is reachable and trusted on the HTTPS port (443)", &[Requires("parent-hostname"), Uses("certificates-configured")], Info::TlsPort),
]);

pub const PARENT_REGISTRY: CheckMeta = check("parent-registry", Connectivity, "a Docker registry answers for the layer below: through the parent's API proxy, or the top layer's registry module (nested edge)", NESTED, Info::RegistryRequest);
pub const AGENT_IMAGE_UPSTREAM: CheckMeta = check("agent-image-upstream", Connectivity, "edgeAgent image can be pulled from this layer: through the parent ($upstream) below the top (nested edge)", NESTED, Info::RegistryRequest);

pub const IOTHUB_CONNECT: PortFamily = PortFamily::connecting(IotHub, [
    check("iothub-connect-mqtt", Connectivity, "IoT Hub is reachable and trusted on the MQTT port (8883)", &[Requires("config-well-formed"), Uses("connection-string")], Info::TlsPort),
    check("iothub-connect-amqp", Connectivity, "IoT Hub is reachable and trusted on the AMQP port (5671)", &[Requires("config-well-formed"), Uses("connection-string")], Info::TlsPort),
    check("iothub-connect-https", Connectivity, "IoT Hub is reachable and trusted on the HTTPS port (443)", &[Requires("config-well-formed"), Uses("connection-string")], Info::TlsPort),
]);
