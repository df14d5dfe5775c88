//! Azure IoT Hub device connection strings: the parsed form ([`ConnectionString`]), whose key
//! is a secret no output, Debug included, ever shows. Parsing, with diagnoses a technician can
//! act on, is in [`parse`](mod@parse); echoing a raw string safely in [`redact`](mod@redact).
//!
//! Format (Azure IoT device SDKs): `;`-separated `Name=value` pairs, e.g.
//! `HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey=<base64>;GatewayHostName=gw`,
//! with `ModuleId=` for module identities and `x509=true` instead of a key for certificate
//! authentication.

mod error;
pub(crate) mod names;
pub mod parse;
pub mod redact;

/// Free-text redaction, kept here for callers of the former `connection_string::redact`.
pub use crate::secrets::{REDACTED, redact};
pub use error::{ConnectionStringError, KeyProblem};
pub use parse::parse;
pub use redact::redact_connection_string;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::secrets::{SecretBytes, SecretString};
use names::{
    DEVICE_ID, GATEWAY_HOST_NAME, HOST_NAME, MODULE_ID, SHARED_ACCESS_KEY, SHARED_ACCESS_SIGNATURE,
    X509,
};

/// Decoded lengths of the keys IoT Hub generates (256-bit and 512-bit). Others are accepted;
/// callers may warn, since an odd length usually means a truncated or altered key.
pub const TYPICAL_KEY_LENGTHS: [usize; 2] = [32, 64];

/// A parsed device connection string. Its `Debug` and `Display` never show the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// The identity and where it connects (`HostName`, `DeviceId`, `ModuleId`,
    /// `GatewayHostName`).
    pub address: DeviceAddress,
    pub authentication: Authentication,
    /// Names (never values) of keys edgeprobe does not know, as written.
    pub unknown_keys: Vec<String>,
    /// Known names written in another case (`hostname=`): accepted here, but the Azure IoT SDKs
    /// compare names case-sensitively and will reject them, so checks should report these.
    pub miscased_keys: Vec<MiscasedKey>,
}

/// A known name written in the wrong case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscasedKey {
    pub written: String,
    pub expected: &'static str,
}

/// How the device proves its identity to IoT Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    SharedAccessKey(SharedAccessKey),
    /// `x509=true`: the device presents a client certificate instead.
    X509,
    /// `SharedAccessSignature=SharedAccessSignature sr=..&sig=..&se=..`: a token made
    /// elsewhere, used as is until it expires (`identity::sas` reads it).
    SharedAccessSignature(SecretString),
}

/// A device's symmetric key, already checked to be non-empty standard base64. The bytes are a
/// [`SecretBytes`]: `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedAccessKey {
    decoded: SecretBytes,
}

impl SharedAccessKey {
    /// Decodes a key written in standard base64 (RFC 4648 §4, with padding), as IoT Hub issues
    /// them.
    pub fn from_base64(text: &str) -> Result<Self, ConnectionStringError> {
        let decoded = STANDARD
            .decode(text)
            .map_err(|error| ConnectionStringError::InvalidKey {
                problem: KeyProblem::from_decode_error(&error),
            })?;
        if decoded.is_empty() {
            return Err(ConnectionStringError::EmptyValue {
                key: SHARED_ACCESS_KEY,
            });
        }
        Ok(Self {
            decoded: SecretBytes::new(decoded),
        })
    }

    /// Length in bytes after base64 decoding.
    pub fn decoded_len(&self) -> usize {
        self.decoded.expose().len()
    }

    /// Whether the length is one IoT Hub generates ([`TYPICAL_KEY_LENGTHS`]).
    pub fn has_typical_length(&self) -> bool {
        TYPICAL_KEY_LENGTHS.contains(&self.decoded_len())
    }

    /// The key bytes, e.g. to sign a SAS token. Never print them.
    pub fn expose_secret(&self) -> &[u8] {
        self.decoded.expose()
    }
}

// By hand, so the output stays the bare marker (`SharedAccessKey(<redacted>)` in a parent's
// derived Debug) rather than a struct around it.
impl fmt::Debug for SharedAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.decoded, f)
    }
}

impl fmt::Display for SharedAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decoded, f)
    }
}

// The public part of a connection string: which identity, on which hub, through which
// gateway; the `connection-string` check reports it as is. (A `//` comment: schemars would
// lend a doc comment to every struct it is flattened into as that struct's description.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct DeviceAddress {
    /// `HostName`: the IoT hub.
    pub host_name: String,
    /// `DeviceId`.
    pub device_id: String,
    /// `ModuleId`, when the string is a module's.
    pub module_id: Option<String>,
    // Absent for a device that talks to IoT Hub directly; a leaf device behind a gateway needs
    // it. Not a parse error: the checks report it.
    /// `GatewayHostName`: the gateway a leaf connects through.
    pub gateway_host_name: Option<String>,
}

/// The canonical form, with the key redacted:
/// `HostName=..;DeviceId=..[;ModuleId=..];SharedAccessKey=<redacted>|x509=true|SharedAccessSignature=<redacted>[;GatewayHostName=..]`.
/// Unknown keys are left out: only their names were kept.
impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{HOST_NAME}={};{DEVICE_ID}={}",
            self.address.host_name, self.address.device_id
        )?;
        if let Some(module_id) = &self.address.module_id {
            write!(f, ";{MODULE_ID}={module_id}")?;
        }
        match &self.authentication {
            Authentication::SharedAccessKey(key) => write!(f, ";{SHARED_ACCESS_KEY}={key}")?,
            Authentication::X509 => write!(f, ";{X509}=true")?,
            Authentication::SharedAccessSignature(token) => {
                write!(f, ";{SHARED_ACCESS_SIGNATURE}={token}")?
            }
        }
        if let Some(gateway) = &self.address.gateway_host_name {
            write!(f, ";{GATEWAY_HOST_NAME}={gateway}")?;
        }
        Ok(())
    }
}
