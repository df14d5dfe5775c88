//! Certificates: loading, describing and verifying chains the way OpenSSL does. (stub)

pub mod describe;
pub mod load;

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct TrustAnchors {
    pub path: PathBuf,
}
