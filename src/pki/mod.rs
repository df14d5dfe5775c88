//! Certificates: loading, describing and verifying chains the way OpenSSL does.

pub mod codes;
pub mod describe;
pub mod diagnose;
pub mod keys;
pub mod load;
pub mod strict;
pub mod verify;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;

pub use codes::VerifyCode;
pub use describe::openssl_oneline;

/// The roots a leaf device trusts: the `--ca-file` (or the system bundle), loaded and parsed.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    pub path: PathBuf,
    pub certificates: Vec<CertificateDer<'static>>,
}
