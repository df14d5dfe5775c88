//! Certificates: loading, describing and verifying chains the way OpenSSL does. (stub)

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct TrustAnchors {
    pub path: PathBuf,
}
