//! Typed `additional_info`: what each check reports in JSON, as Rust types. These types are the
//! schema: `docs/report.schema.json` is generated from them (`cargo run --example
//! generate_schemas`), and the tests validate real output against it, so a field that is
//! renamed or retyped here shows up as a schema diff in review rather than in someone's
//! monitoring script. The doc comments on the fields become the schema's descriptions and the
//! field tables of `docs/json-schema.md`.
//!
//! # Giving a check typed info
//! 1. Define a `Serialize + JsonSchema` struct for it below, under a heading naming the check
//!    (an untagged enum when the check reports different shapes, e.g. on success and on
//!    failure). Mark it `#[schemars(deny_unknown_fields)]`, so the schema is exact. Times are
//!    [`Timestamp`] (RFC 3339), durations [`Milliseconds`] (float milliseconds), paths
//!    `PathBuf`, addresses `IpAddr`; never a pre-formatted string for a value a program reads.
//! 2. Add a line `Variant(YourInfo)` to the `typed_info!` list at the end of this file: it
//!    declares the [`CheckInfo`] variant, the `From` impl and the [`InfoSchema`] tag.
//! 3. In the check's row of `src/checks/catalog.rs` (its [`CheckMeta`](super::CheckMeta)) give
//!    `Info::Variant` as the last column; the report schema then requires that shape (or `{}`)
//!    under `checks.<id>.additional_info`.
//! 4. Attach it with `outcome.info(YourInfo { .. })`, run `cargo run --example
//!    generate_schemas` and commit `docs/`.
//!
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use super::Status;
use crate::config::{ConfigFormat, DeviceNames};
use crate::connection_string::DeviceAddress;
use crate::net::Protocol;
use crate::net::observation::Observation;
use crate::net::probe::ProbeAnswer;
use crate::net::resolve::Resolution;
use crate::pki::VerifyCode;
use crate::pki::describe::SubjectAltNames;
use crate::pki::strict::StrictVerdict;
use crate::pki::verify::{ChainLink, VerifyError};
use crate::system::Ownership;

fn empty_object<S: Serializer>(serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    serializer.serialize_map(Some(0))?.end()
}

impl CheckInfo {
    pub fn is_empty(&self) -> bool {
        matches!(self, CheckInfo::Empty)
    }
}

/// The schema of a check's `additional_info`, for [`CheckMeta::info`](super::CheckMeta).
///
/// It names the type (`info: InfoSchema::RootCaTrustStore`) rather than holding a schema
/// function: check metadata is in the binary, and a function pointer there would link schemars'
/// generation code into it (about 180 KB of the 5 MiB budget, measured); the schema itself is
/// only made by [`InfoSchema::schema`], which the schema generator and tests call.
pub use self::info_kinds::InfoSchema;

/// Implements `JsonSchema` for a type whose JSON has one fixed shape, given its name in the
/// schema's `$defs` and the schema: the units below, and `report::schema`'s `{}`.
macro_rules! fixed_json_schema {
    ($type:ty, $name:literal, $schema:tt) => {
        impl schemars::JsonSchema for $type {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($schema)
            }
        }
    };
}
pub(crate) use fixed_json_schema;

// ---- Units shared by every check ----

/// A point in time, written as RFC 3339 (`2036-12-31T00:00:00Z`), the one time format of the
/// JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Timestamp(#[serde(with = "time::serde::rfc3339")] pub OffsetDateTime);

fixed_json_schema!(Timestamp, "Timestamp", {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339, in UTC (`2036-12-31T00:00:00Z`).",
});

/// A duration, written as a number of milliseconds with microsecond precision (`3.482`): the
/// one unit of every `*_ms` field of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Milliseconds(pub Duration);

impl Milliseconds {
    pub fn as_f64(self) -> f64 {
        (self.0.as_secs_f64() * 1_000_000.0).round() / 1000.0
    }
}

impl Serialize for Milliseconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

fixed_json_schema!(Milliseconds, "Milliseconds", {
    "type": "number",
    "minimum": 0,
    "description": "Milliseconds, a float with microsecond precision (`3.482`).",
});

// A protocol and the port it was probed on: the two keys every per-port entry of the report
// starts with. (A `//` comment, as for `VerifyOutcome` below.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProtocolPort {
    pub protocol: Protocol,
    pub port: u16,
}

// OpenSSL's verdict on a chain, as `openssl s_client` reports it: the code, its text and every
// error the verify callback saw. Every check that reports a verdict carries this one type,
// flattened, so the three keys are the same wherever they appear. (A `//` comment: schemars
// would lend a doc comment to every struct it is flattened into as that struct's description.)
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VerifyOutcome {
    pub verify_code: VerifyCode,
    /// OpenSSL's text for `verify_code`, exactly.
    pub verify_message: &'static str,
    /// Every error OpenSSL's verify callback would see, in order.
    pub errors: Vec<VerifyError>,
}

impl VerifyOutcome {
    /// `code` with its own text, and the errors that led to it.
    pub fn new(code: VerifyCode, errors: Vec<VerifyError>) -> Self {
        VerifyOutcome {
            verify_code: code,
            verify_message: code.text(),
            errors,
        }
    }
}

// ---- config-well-formed ----

/// `config-well-formed`: what the config says, or only its path when it could not be read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ConfigWellFormedInfo {
    Read(ConfigSummary),
    Unreadable(UnreadableConfig),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ConfigSummary {
    /// The config file read.
    pub path: PathBuf,
    /// The IoT Edge generation the file belongs to.
    pub version: ConfigFormat,
    #[serde(flatten)]
    pub names: DeviceNames,
    pub provisioning: ProvisioningKind,
    pub edge_ca: EdgeCaKind,
    /// Top-level keys written inside a section, where IoT Edge does not read them
    /// (`hostname (in [provisioning])`).
    pub misplaced_keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UnreadableConfig {
    /// The config file that could not be read or parsed.
    pub path: PathBuf,
}

/// How the device is provisioned (`[provisioning]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum ProvisioningKind {
    #[serde(rename = "manual, connection string")]
    ConnectionString,
    #[serde(rename = "manual, hub and device named")]
    Manual,
    #[serde(rename = "DPS")]
    Dps,
    #[serde(rename = "other")]
    Other,
    #[serde(rename = "missing")]
    Missing,
}

impl ProvisioningKind {
    /// The same words as in JSON, for the text report.
    pub fn text(self) -> &'static str {
        match self {
            ProvisioningKind::ConnectionString => "manual, connection string",
            ProvisioningKind::Manual => "manual, hub and device named",
            ProvisioningKind::Dps => "DPS",
            ProvisioningKind::Other => "other",
            ProvisioningKind::Missing => "missing",
        }
    }
}

/// Where the device CA comes from (`[edge_ca]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum EdgeCaKind {
    #[serde(rename = "files")]
    Files,
    #[serde(rename = "incomplete")]
    Incomplete,
    #[serde(rename = "quickstart (generated by IoT Edge)")]
    Quickstart,
    #[serde(rename = "issued at run time (EST)")]
    Issued,
}

impl EdgeCaKind {
    /// The same words as in JSON, for the text report.
    pub fn text(self) -> &'static str {
        match self {
            EdgeCaKind::Files => "files",
            EdgeCaKind::Incomplete => "incomplete",
            EdgeCaKind::Quickstart => "quickstart (generated by IoT Edge)",
            EdgeCaKind::Issued => "issued at run time (EST)",
        }
    }
}

// ---- hostname ----

/// `hostname`: the configured name as judged, or only the name when it is not a valid one.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum HostnameInfo {
    Checked(CheckedHostname),
    Invalid(InvalidHostname),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CheckedHostname {
    /// `hostname`, normalized (lower case, no trailing dot).
    pub hostname: String,
    /// This machine's own host name (`/etc/hostname`); null when unknown.
    pub machine_hostname: Option<String>,
    /// The address when `hostname` is an IP address; null for a name.
    pub ip_address: Option<IpAddr>,
    /// A name of one label (`edgegw`), resolvable only through a hosts entry or search domain.
    pub single_label: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct InvalidHostname {
    /// `hostname` as written.
    pub hostname: String,
}

// ---- connection-string ----

/// `connection-string`: the parsed connection string (key redacted), or on a gateway
/// provisioned without one, where the identity comes from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ConnectionStringInfo {
    Parsed(ParsedConnectionString),
    Provisioned(ProvisionedIdentity),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ParsedConnectionString {
    #[serde(flatten)]
    pub address: DeviceAddress,
    pub authentication: Authentication,
    /// The whole string with `SharedAccessKey=<redacted>`.
    pub redacted: String,
}

/// How the device authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// `SharedAccessKey=`.
    SharedAccessKey,
    /// `x509=true`.
    X509,
    /// `SharedAccessSignature=`: a token made elsewhere.
    SharedAccessSignature,
}

/// A gateway provisioned without a connection string.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum ProvisionedIdentity {
    /// `source = "manual"` with `iothub_hostname` and `device_id`.
    Manual {
        /// `[provisioning] iothub_hostname`.
        iothub_hostname: String,
        /// `[provisioning] device_id`.
        device_id: String,
        /// `[provisioning.authentication] method` (`sas` when unset).
        method: String,
    },
    /// The Device Provisioning Service assigns the identity at run time.
    Dps {
        /// `[provisioning] id_scope`.
        id_scope: Option<String>,
        /// `[provisioning.attestation] method` (`symmetric_key`, `x509`, `tpm`).
        attestation: Option<String>,
    },
}

// ---- certificates-configured ----

/// `certificates-configured`: each certificate and key file the config names.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CertificatesConfiguredInfo {
    pub version: ConfigFormat,
    /// No device CA configured: IoT Edge generates quickstart certificates.
    pub quickstart: bool,
    pub files: Vec<ConfiguredFileInfo>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ConfiguredFileInfo {
    /// The setting as the operator finds it (`[edge_ca] cert`).
    pub setting: &'static str,
    /// The value as written (`file:///var/aziot/certs/edge-ca.pem`).
    pub value: String,
    /// The local path it names; null for another URI scheme (`pkcs11:`) or an invalid value.
    pub path: Option<PathBuf>,
    /// The service user that must read it (`aziotcs`, `aziotks`, `iotedge`).
    pub reader: &'static str,
    pub status: Status,
    /// Certificates the file holds; null for a key or a file that did not load.
    pub certificates: Option<usize>,
    /// Mode and owner; null when the file could not be examined.
    pub ownership: Option<Ownership>,
}

// ---- device-ca-key-match ----

/// `device-ca-key-match`: the pair compared.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DeviceCaKeyMatchInfo {
    /// The device CA certificate file.
    pub certificate: PathBuf,
    /// The device CA private key file.
    pub key: PathBuf,
    /// `EC P-256 (PKCS#8)`, `RSA 2048 (PKCS#1)`, ...; `unknown` when unreadable.
    pub key_kind: String,
    /// The certificate's key as `s_client` prints it (`id-ecPublicKey, 256 (bit)`).
    pub certificate_public_key: String,
}

// ---- device-ca-chain ----

/// `device-ca-chain`: the device CA and its verification against each root.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DeviceCaChainInfo {
    /// The device CA (full-chain) file.
    pub device_ca: PathBuf,
    /// Its first certificate's subject, OpenSSL's one-line form.
    pub subject: String,
    /// basicConstraints `CA:TRUE`.
    pub is_ca: bool,
    /// keyUsage, OpenSSL's names (`Certificate Sign`).
    pub key_usage: Vec<String>,
    /// One per root file verified against: the trust bundle, then `--ca-file`.
    pub verifications: Vec<ChainVerification>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChainVerification {
    /// The root file verified against.
    pub against: PathBuf,
    #[serde(flatten)]
    pub verdict: VerifyOutcome,
    /// The chain as built, leaf first.
    pub chain: Vec<ChainLink>,
}

// ---- certificates-expiry (and gateway-cert-expiry) ----

/// `certificates-expiry` and `gateway-cert-expiry`: each certificate's dates and verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExpiryInfo {
    /// A certificate that expires within this many days is a warning.
    pub warning_days: u32,
    /// Leaf first, then the rest of the chain and the roots.
    pub certificates: Vec<Validity>,
}

/// One certificate's dates and verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Validity {
    /// OpenSSL's one-line form.
    pub subject: String,
    /// Where it came from (`device CA, /var/aziot/certs/device-ca.pem`, `sent by the gateway`).
    pub source: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// `not_after` in Unix seconds, for arithmetic in jq or Prometheus.
    pub not_after_unix: i64,
    /// SHA-256 fingerprint, `AB:CD:...`, as `openssl x509 -fingerprint -sha256`: tells apart
    /// two certificates of one subject (two certGen runs' roots).
    pub sha256: String,
    /// Whole days from now to `not_after`; negative once expired.
    pub days_left: i64,
    /// This certificate's verdict: `warning` within `warning_days`, `error` when expired, not
    /// yet valid or ending on or after 2038-01-01 (IoT Edge's libiothsm limit).
    pub status: Status,
}

// ---- stale-generated-certs ----

/// `stale-generated-certs`: the store of certificates IoT Edge issued, and those not issued by
/// the configured device CA.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StaleGeneratedCertsInfo {
    /// The directory read (under `--root`).
    pub directory: PathBuf,
    /// Certificates IoT Edge issued that were examined.
    pub checked: usize,
    pub stale: Vec<StaleCertificate>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StaleCertificate {
    pub file: PathBuf,
    /// OpenSSL's one-line form.
    pub subject: String,
    /// The CA that issued it: not the configured device CA.
    pub issuer: String,
}

// ---- root-ca-file ----

/// `root-ca-file`: the file the device trusts and its certificates, or the system store used
/// instead.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RootCaFileInfo {
    File(RootFile),
    SystemStore(SystemStore),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RootFile {
    /// `--ca-file`.
    pub path: PathBuf,
    /// Always false here: the file given was read.
    pub system_store: bool,
    pub certificates: Vec<RootCertificate>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SystemStore {
    /// The system bundle read, as no `--ca-file` was given.
    pub path: PathBuf,
    /// Always true here.
    pub system_store: bool,
    /// Certificates in the bundle.
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RootCertificate {
    /// OpenSSL's one-line form.
    pub subject: String,
    /// The same as `subject` for a root.
    pub issuer: String,
    pub not_after: Timestamp,
    /// SHA-256 fingerprint, `AB:CD:...`, as `openssl x509 -fingerprint -sha256`.
    pub sha256: String,
    /// basicConstraints `CA:TRUE`: only a CA can be a trusted root.
    pub is_ca: bool,
    /// Issued by itself: a root, not an intermediate given as one.
    pub self_signed: bool,
}

// ---- root-ca-trust-store ----

/// `root-ca-trust-store`: whether the root is in the OS store.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RootCaTrustStoreInfo {
    /// The root compared: `--ca-file` on a leaf, the trust bundle on a gateway; null on a
    /// leaf without `--ca-file` (the roots added to the store are checked instead).
    pub root_ca_file: Option<PathBuf>,
    /// The OS bundle compared with (`/etc/ssl/certs/ca-certificates.crt` on Debian, under
    /// `--root`; `SSL_CERT_FILE` when set).
    pub trust_store: PathBuf,
    /// The distribution family whose layout was read: `Debian/Ubuntu`, `RHEL/Fedora`,
    /// `Alpine` or `openSUSE/SLES`.
    pub store_family: &'static str,
    /// Every root of the file is in the store.
    pub installed: bool,
    /// The check raised a warning.
    pub problem: bool,
}

// ---- device-clock ----

/// `device-clock`: this device's clock against the gateway's and an NTP server's.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DeviceClockInfo {
    /// This device's clock when the run started.
    pub local_time: Timestamp,
    /// The HTTPS port's `Date` header; null when it sent none (or was not reached).
    pub gateway_date: Option<Timestamp>,
    /// This device's clock minus the gateway's, in seconds (positive: this device is ahead).
    pub gateway_skew_seconds: Option<i64>,
    /// `--ntp-server`, as given.
    pub ntp_server: Option<String>,
    /// This device's clock minus the NTP server's, in seconds (SNTP, RFC 4330).
    pub ntp_skew_seconds: Option<f64>,
    /// Why the NTP server gave no usable answer.
    pub ntp_error: Option<String>,
}

// ---- gateway-hostname, gateway-hostname-matches-config ----

/// `gateway-hostname`: the name the device dials and where it came from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GatewayHostnameInfo {
    /// The gateway name, normalized.
    pub gateway: String,
    pub source: GatewayNameSource,
}

/// Where the leaf's gateway name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum GatewayNameSource {
    /// `--gateway`, which wins over the connection string.
    #[serde(rename = "--gateway")]
    Flag,
    /// `GatewayHostName=` in `--connection-string`.
    #[serde(rename = "the connection string's GatewayHostName")]
    ConnectionString,
}

impl GatewayNameSource {
    /// The same words as in JSON, for messages.
    pub fn text(self) -> &'static str {
        match self {
            GatewayNameSource::Flag => "--gateway",
            GatewayNameSource::ConnectionString => "the connection string's GatewayHostName",
        }
    }
}

/// `gateway-hostname-matches-config`: the gateway's `hostname` and the names the leaf dials.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GatewayHostnameMatchesConfigInfo {
    /// `--gateway-config`, the copy of the gateway's config read.
    pub gateway_config: PathBuf,
    /// Its `hostname`.
    pub hostname: String,
    pub names: Vec<DialedName>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DialedName {
    pub source: GatewayNameSource,
    /// The name as given.
    pub name: String,
}

// ---- gateway-resolve, parent-hostname ----

/// `gateway-resolve` and `parent-hostname`: the addresses found, or why there are none.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ResolveInfo {
    Resolved(Resolution),
    Failed(ResolveFailure),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ResolveFailure {
    /// The name asked.
    pub name: String,
    /// The resolver's diagnosis, naming the server asked.
    pub error: String,
}

// ---- gateway-connect-* (and every check that connects, on failure) ----
//
// The port's `net::observation::Observation`, as is (`CheckInfo::Connect`): its schema is
// written beside it, in `net/observation.rs`.

// ---- gateway-protocol-* ----

/// `gateway-protocol-*`: where the probe went and what came back.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GatewayProtocolInfo {
    #[serde(flatten)]
    pub probed: ProtocolPort,
    /// The address that accepted the connection (`10.0.0.4:8883`).
    pub endpoint: String,
    /// The protocol's answer; absent when reading it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<ProbeAnswer>,
    /// Why reading the answer failed (its kind); absent on an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// What came back instead of an answer, described; absent on an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
}

// ---- device-certificate ----

/// `device-certificate`: the device's `--cert`/`--key` as judged before use.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DeviceCertificateInfo {
    /// `--cert`.
    pub certificate: PathBuf,
    /// `--key` (its path only).
    pub key: PathBuf,
    /// OpenSSL's one-line form.
    pub subject: String,
    pub issuer: String,
    /// One self-issued certificate: IoT Hub authenticates it by thumbprint.
    pub self_signed: bool,
    /// Whether the key is the certificate's; null when that cannot be told.
    pub key_matches: Option<bool>,
    /// The EKU allows clientAuth (or there is no EKU).
    pub client_auth: bool,
    /// The CN equals the DeviceId; null when not compared (self-signed, or no connection string).
    pub common_name_matches: Option<bool>,
    pub not_after: Timestamp,
    /// Upper-case hex, no separators, as IoT Hub takes it.
    pub sha1_thumbprint: String,
    pub sha256_thumbprint: String,
    /// OpenSSL's verify code against `--device-ca` (purpose sslclient); null without it.
    pub verify_code: Option<u32>,
    /// The leaf's dates and verdict.
    pub validity: Vec<Validity>,
}

// ---- gateway-auth-mqtt, gateway-auth-amqp, gateway-auth-websocket ----

/// `gateway-auth-*`: what was sent as the device (never the token) and the gateway's verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GatewayAuthInfo {
    #[serde(flatten)]
    pub probed: ProtocolPort,
    /// The address that accepted the connection (`10.0.0.4:8883`).
    pub endpoint: String,
    /// The identity sent, and the test message's fate.
    pub identity: crate::net::observation::IdentityExchange,
    pub verdict: AuthVerdict,
    /// The CONNACK return code (MQTT, MQTT over WebSockets); absent when none came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_code: Option<u8>,
    /// AMQP: the SASL mechanism used (`ANONYMOUS`, `EXTERNAL`, `PLAIN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<&'static str>,
    /// AMQP: the CBS put-token reply's `status-code` (200, 401, 404, ...), or the sasl-outcome
    /// code when SASL refused; absent when none came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    /// AMQP: the reply's `status-description`, or the error condition of a detach or close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_description: Option<String>,
}

/// The gateway's verdict on the device's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthVerdict {
    /// CONNACK 0, CBS 200, SASL PLAIN ok, or the telemetry link attached (AMQP X.509).
    Accepted,
    /// CONNACK 2: the client id is not the device's.
    IdentifierRejected,
    /// CONNACK 3: edgeHub cannot check the identity (offline, nothing cached).
    ServerUnavailable,
    /// CONNACK 4, CBS 401 (or SASL PLAIN `auth`): wrong key or token, wrong hub, clock, or an
    /// unregistered certificate.
    BadCredentials,
    /// CONNACK 5, CBS 404 (or 403): device unknown, disabled, or not a child of this gateway.
    NotAuthorized,
    /// Another refusal (CONNACK 1 or an undefined code, another CBS status, a WebSocket
    /// upgrade refused, a detach or close with an error).
    Refused,
    /// The gateway ended the TLS session with an alert about the client certificate.
    CertificateRejected,
    /// The connection was closed or reset without a CONNACK.
    Closed,
    /// No answer within the deadline, or not MQTT.
    NoAnswer,
}

// ---- gateway-cert-chain ----

/// `gateway-cert-chain`: each port's chain, verified against the root CA file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GatewayCertChainInfo {
    /// The root verified against.
    pub root_ca_file: PathBuf,
    pub ports: Vec<PortVerdict>,
}

/// One port's verdict: what monitoring scripts read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PortVerdict {
    #[serde(flatten)]
    pub probed: ProtocolPort,
    #[serde(flatten)]
    pub verdict: VerifyOutcome,
    /// What rustls/webpki concluded; null when it was not asked.
    pub strict_client_verdict: Option<StrictVerdict>,
    /// The certificates as sent, leaf first.
    pub chain: Vec<ChainEntry>,
}

/// One certificate as sent, in the fields monitoring scripts read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChainEntry {
    /// OpenSSL's one-line form.
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// `DNS:name` and `IP:address`, as `openssl x509 -ext subjectAltName` lists them.
    pub sans: Vec<String>,
    /// SHA-256 fingerprint, colon-separated upper-case hex like `openssl x509 -fingerprint -sha256`.
    pub sha256: String,
    /// Upper-case hex, as `openssl x509 -noout -serial`.
    pub serial: String,
    /// `id-ecPublicKey, 256 (bit)`.
    pub public_key: String,
    pub signature_algorithm: String,
    /// basicConstraints `CA:TRUE`.
    pub is_ca: bool,
}

// ---- gateway-cert-hostname ----

/// `gateway-cert-hostname`: each port's certificate against the name dialed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GatewayCertHostnameInfo {
    /// The name the device dials.
    pub gateway: String,
    pub ports: Vec<PortNameMatch>,
}

/// One port's certificate against the name dialed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PortNameMatch {
    #[serde(flatten)]
    pub probed: ProtocolPort,
    pub result: NameMatchResult,
    /// The certificate name that matched; null on a mismatch.
    pub matched: Option<String>,
    /// The leaf's subjectAltName entries.
    #[serde(flatten)]
    pub alt_names: SubjectAltNames,
    /// The leaf's subject, OpenSSL's one-line form.
    pub subject: String,
}

/// How the name matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NameMatchResult {
    /// A subjectAltName matches.
    Ok,
    /// Only the subject CN matches: OpenSSL accepts it, strict clients do not.
    CommonName,
    /// No name of the certificate matches.
    Mismatch,
}

// ---- edgehub-listening-*, parent-connect-*, iothub-connect-* ----

/// A port examined from the gateway: the observation with the verdicts on its chain, or the
/// observation alone when there was no handshake or the chain could not be read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TlsPortInfo {
    Examined(ExaminedPort),
    Observed(Arc<Observation>),
}

/// A port that completed a handshake, and the verdicts on what it presented (without a root,
/// `errors` are only the name's).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExaminedPort {
    /// The observation, as the connect checks show it.
    pub handshake: Arc<Observation>,
    #[serde(flatten)]
    pub verdict: VerifyOutcome,
    /// What rustls/webpki concluded; null when it was not asked.
    pub strict_client_verdict: Option<StrictVerdict>,
    /// The root verified against; null when none is known.
    pub trusted_root_file: Option<PathBuf>,
}

// ---- sdk-trust ----

/// `sdk-trust`: for each SDK runtime examined, the stores it reads and whether the gateway's
/// root is in them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SdkTrustInfo {
    /// The root looked for: `--ca-file`; null when it is the root of the chain the gateway
    /// presented.
    pub root_ca_file: Option<PathBuf>,
    pub runtimes: Vec<SdkRuntimeTrust>,
}

/// One runtime (one JRE, for Java) and its verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SdkRuntimeTrust {
    pub runtime: crate::sdk_trust::Runtime,
    /// What showed the runtime is on the device (a program, a directory, a variable); null when
    /// `--sdk` asked for a runtime that was not found.
    pub found_by: Option<String>,
    /// The runtime's own directory where it has one (a JRE's home).
    pub location: Option<PathBuf>,
    pub verdict: SdkVerdict,
    /// The stores it reads, in the order it reads them, as device paths.
    pub stores: Vec<SdkStore>,
}

/// Whether the runtime finds the root without the application passing the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SdkVerdict {
    /// A store the SDK reads holds the root.
    Trusted,
    /// No store the SDK reads holds it: the application must pass the file (or install it).
    Missing,
    /// A store could not be read, so edgeprobe cannot tell.
    Unknown,
    /// `--sdk` named a runtime that is not on the device.
    NotFound,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SdkStore {
    /// As the device names it (`--root` not included).
    pub path: PathBuf,
    pub format: crate::sdk_trust::StoreFormat,
    /// Why the runtime reads this store (`NODE_EXTRA_CA_CERTS`, `the JRE's cacerts`, ...).
    pub source: String,
    pub role: crate::sdk_trust::StoreRole,
    /// Whether it holds the root; null when it could not be read.
    pub holds_root: Option<bool>,
    /// The file of a directory store that holds it.
    pub found_in: Option<PathBuf>,
    /// The store does not exist (it then holds nothing).
    pub missing: bool,
    /// Why it could not be read, or a near miss (the root under a name the runtime skips).
    pub note: Option<String>,
}

// ---- parent-registry, agent-image-upstream ----

/// `parent-registry` and `agent-image-upstream`: the registry request made, and what answered.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RegistryRequestInfo {
    /// The edgeAgent image as configured (`agent-image-upstream`); null for `parent-registry`.
    pub image: Option<String>,
    /// The URL asked, with its port (`https://parent.contoso.com:443/v2/`); null when the
    /// finding is the config's alone and no request was made.
    pub url: Option<String>,
    /// Where the address came from; null when no request was made.
    pub address_source: Option<AddressSource>,
    /// The address connected to; null when no connection was made.
    pub address: Option<IpAddr>,
    /// OpenSSL's verify return code for the chain presented; null for plain HTTP or without a
    /// handshake.
    pub verify_code: Option<u32>,
    /// The HTTP status; null when no response came back.
    pub status: Option<u16>,
    /// The `Docker-Distribution-API-Version` header (`registry/2.0` from a registry); null
    /// when absent.
    pub distribution_api_version: Option<String>,
    /// The Server header; null when absent.
    pub server: Option<String>,
}

/// How the registry's address was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    /// edgeAgent's `createOptions.HostConfig.ExtraHosts`: the address its container uses.
    ExtraHosts,
    /// Resolved on this host (hosts file, DNS, `--resolve` or an IP literal).
    Resolved,
    /// This machine: the registry module's published port.
    Loopback,
}

// ---- The conversions `outcome.info(..)` takes ----

/// Declares [`CheckInfo`] (one variant per check family), the conversions into it and the
/// [`InfoSchema`] tags, from one list, so a new family is one line.
macro_rules! typed_info {
    ($($variant:ident($payload:ty)),* $(,)?) => {
        /// The `additional_info` of one outcome: `{}` or one check family's typed data.
        /// Serialized untagged, so the JSON is the payload itself, as in `iotedge check -o json`.
        #[derive(Debug, Clone, Default, Serialize)]
        #[serde(untagged)]
        pub enum CheckInfo {
            /// No data: written as `{}`, never `null`, as iotedge consumers expect an object.
            #[default]
            #[serde(serialize_with = "empty_object")]
            Empty,
            $($variant($payload),)*
        }

        $(
            impl From<$payload> for CheckInfo {
                fn from(info: $payload) -> Self {
                    CheckInfo::$variant(info)
                }
            }
        )*

        mod info_kinds {
            use super::*;

            /// The schema a check declares for its `additional_info`, by the type's name.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub enum InfoSchema {
                $($variant,)*
            }

            impl InfoSchema {
                /// The JSON Schema of the type.
                pub fn schema(self, generator: &mut SchemaGenerator) -> Schema {
                    match self {
                        $(InfoSchema::$variant => generator.subschema_for::<$payload>(),)*
                    }
                }
            }
        }
    };
}

typed_info!(
    ConfigWellFormed(ConfigWellFormedInfo),
    Hostname(HostnameInfo),
    ConnectionString(ConnectionStringInfo),
    CertificatesConfigured(CertificatesConfiguredInfo),
    DeviceCaKeyMatch(DeviceCaKeyMatchInfo),
    DeviceCaChain(DeviceCaChainInfo),
    Expiry(ExpiryInfo),
    StaleGeneratedCerts(StaleGeneratedCertsInfo),
    RootCaFile(RootCaFileInfo),
    RootCaTrustStore(RootCaTrustStoreInfo),
    DeviceClock(DeviceClockInfo),
    GatewayHostname(GatewayHostnameInfo),
    GatewayHostnameMatchesConfig(GatewayHostnameMatchesConfigInfo),
    Resolve(ResolveInfo),
    Connect(Arc<Observation>),
    GatewayProtocol(GatewayProtocolInfo),
    GatewayAuth(GatewayAuthInfo),
    DeviceCertificate(DeviceCertificateInfo),
    GatewayCertChain(GatewayCertChainInfo),
    GatewayCertHostname(GatewayCertHostnameInfo),
    TlsPort(TlsPortInfo),
    SdkTrust(SdkTrustInfo),
    RegistryRequest(RegistryRequestInfo),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_an_object_and_units_have_one_form() {
        assert_eq!(serde_json::to_string(&CheckInfo::Empty).unwrap(), "{}");
        assert_eq!(
            serde_json::to_string(&Milliseconds(Duration::from_micros(3482))).unwrap(),
            "3.482"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp(time::macros::datetime!(2036-12-31 00:00 UTC)))
                .unwrap(),
            "\"2036-12-31T00:00:00Z\""
        );
    }
}
