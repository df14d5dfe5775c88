//! Certificates: loading, describing and verifying chains the way OpenSSL does.

pub mod codes;
pub mod describe;
pub mod diagnose;
pub mod keys;
pub mod load;
pub mod signature;
pub mod strict;
pub mod verify;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;

pub use codes::VerifyCode;

/// libiothsm (IoT Edge 1.1's security daemon) stores validity as a 32-bit `time_t`: the
/// IoT Edge certificate docs require certificates to expire before 2038-01-01.
pub const IOTHSM_LIMIT: time::OffsetDateTime = time::macros::datetime!(2038-01-01 00:00 UTC);
pub use describe::openssl_oneline;

/// The roots a leaf device trusts: the `--ca-file` (or the system bundle), loaded and parsed.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    pub path: PathBuf,
    pub certificates: Vec<CertificateDer<'static>>,
}
