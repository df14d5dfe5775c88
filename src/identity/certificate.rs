//! The device's X.509 identity (`--cert`, `--key`): the chain it presents and the key that
//! proves it, read once per run and shared by the network step (which presents it) and
//! `device-certificate` (which judges it). The key never leaves this type except to rustls.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::net::tls::TlsClient;
use crate::pki::keys::key_matches_certificate;
use crate::pki::load::{load_certificates, load_private_key};

/// The device certificate files, read.
pub struct DeviceCertificate {
    pub certificate_path: PathBuf,
    pub key_path: PathBuf,
    /// Leaf first, as the file holds it (a full-chain file: leaf, then its CAs).
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// Whether `key` is the private half of the leaf's public key; `Err` when that cannot be
    /// told (an unsupported key type).
    pub key_matches: Result<bool, String>,
    /// The TLS client that presents this chain, or why there can be none (rustls refuses a
    /// key that is not the certificate's).
    pub client: Result<Arc<TlsClient>, String>,
}

// By hand: the key is never shown, not even its length.
impl fmt::Debug for DeviceCertificate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DeviceCertificate")
            .field("certificate_path", &self.certificate_path)
            .field("key_path", &self.key_path)
            .field("chain", &self.chain.len())
            .field("key", &crate::secrets::REDACTED)
            .finish_non_exhaustive()
    }
}

impl DeviceCertificate {
    /// Reads `certificate` and `key`; the error is one line naming the file and the fix.
    pub fn load(certificate: &Path, key: &Path) -> Result<DeviceCertificate, String> {
        let chain = load_certificates(certificate).map_err(|error| error.to_string())?;
        let private_key = load_private_key(key).map_err(|error| error.to_string())?;
        let key_matches = match chain.first() {
            Some(leaf) => {
                key_matches_certificate(&private_key, leaf).map_err(|error| error.to_string())
            }
            None => Err(format!(
                "{} holds no certificate: pass the device's certificate (PEM)",
                certificate.display()
            )),
        };
        let client = TlsClient::with_client_certificate(chain.clone(), private_key.clone_key())
            .map_err(|error| {
                format!(
                    "cannot present {} with {}: {error}",
                    certificate.display(),
                    key.display()
                )
            })
            .map(Arc::new);
        Ok(DeviceCertificate {
            certificate_path: certificate.to_path_buf(),
            key_path: key.to_path_buf(),
            chain,
            key: private_key,
            key_matches,
            client,
        })
    }

    /// The leaf: the device's own certificate.
    pub fn leaf(&self) -> Option<&CertificateDer<'static>> {
        self.chain.first()
    }

    /// The key, for a caller that signs with it (rustls); never format it.
    pub fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }
}
