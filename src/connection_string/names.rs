//! The names a device connection string is made of, spelled as the Azure IoT device SDKs
//! spell them (they compare them case-sensitively). Shared by the parser, the connection-string
//! redaction and the secrets redactor, which ends a secret value at the next known name.

pub(crate) const HOST_NAME: &str = "HostName";
pub(crate) const DEVICE_ID: &str = "DeviceId";
pub(crate) const MODULE_ID: &str = "ModuleId";
pub(crate) const SHARED_ACCESS_KEY: &str = "SharedAccessKey";
pub(crate) const X509: &str = "x509";
pub(crate) const GATEWAY_HOST_NAME: &str = "GatewayHostName";
pub(crate) const SHARED_ACCESS_KEY_NAME: &str = "SharedAccessKeyName";
pub(crate) const SHARED_ACCESS_SIGNATURE: &str = "SharedAccessSignature";

/// The keys edgeprobe understands, spelled as the Azure SDKs spell them.
pub(crate) const KNOWN_KEYS: [&str; 8] = [
    HOST_NAME,
    DEVICE_ID,
    MODULE_ID,
    SHARED_ACCESS_KEY,
    X509,
    GATEWAY_HOST_NAME,
    SHARED_ACCESS_KEY_NAME,
    SHARED_ACCESS_SIGNATURE,
];

/// The names whose values may be shown: everything but the key and the signature.
pub(crate) const PUBLIC_KEYS: [&str; 6] = [
    HOST_NAME,
    DEVICE_ID,
    MODULE_ID,
    X509,
    GATEWAY_HOST_NAME,
    SHARED_ACCESS_KEY_NAME,
];
