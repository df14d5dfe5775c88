//! Certificates: loading, describing and verifying chains the way OpenSSL does.

pub mod certificate_facts;
pub mod codes;
pub mod describe;
pub mod diagnose;
pub mod host_match;
pub mod keys;
pub mod load;
pub mod name_constraints;
pub mod oids;
pub mod signature;
pub mod strict;
pub mod trust_settings;
pub mod verdicts;
pub mod verify;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;

pub use codes::VerifyCode;

/// libiothsm (IoT Edge 1.1's security daemon) stores validity as a 32-bit `time_t`: the
/// IoT Edge certificate docs require certificates to expire before 2038-01-01.
pub const IOTHSM_LIMIT: time::OffsetDateTime = time::macros::datetime!(2038-01-01 00:00 UTC);
pub use describe::openssl_oneline;

/// The roots a leaf device trusts: the `--ca-file` (or the system bundle), loaded and parsed.
/// Their descriptions and digest are worked out on first use and kept: change a clone (which
/// starts without them), not anchors already in use.
#[derive(Debug)]
pub struct TrustAnchors {
    pub path: PathBuf,
    pub certificates: Vec<CertificateDer<'static>>,
    /// The `TRUSTED CERTIFICATE` settings of `certificates[i]`, where the file gave any (an
    /// empty list when none did).
    pub trust_settings: Vec<Option<trust_settings::TrustSettings>>,
    /// `certificates` described, on the first ask: anchors are loaded once per run (once per
    /// exporter), and every target's checks read their descriptions.
    descriptions: std::sync::OnceLock<Vec<Result<describe::CertificateSummary, String>>>,
    /// What tells these anchors from others (`pki::verdicts`' memo key), hashed on the first
    /// ask: the OS store holds ~140 certificates, and every verdict asks.
    digest: std::sync::OnceLock<[u8; 32]>,
}

impl Clone for TrustAnchors {
    /// The same certificates and settings, without what was worked out from them: a clone is
    /// made to be changed (other trust settings are other anchors).
    fn clone(&self) -> Self {
        TrustAnchors {
            path: self.path.clone(),
            certificates: self.certificates.clone(),
            trust_settings: self.trust_settings.clone(),
            descriptions: std::sync::OnceLock::new(),
            digest: std::sync::OnceLock::new(),
        }
    }
}

impl TrustAnchors {
    /// Anchors without trust settings.
    pub fn new(path: PathBuf, certificates: Vec<CertificateDer<'static>>) -> TrustAnchors {
        TrustAnchors {
            path,
            certificates,
            trust_settings: Vec::new(),
            descriptions: std::sync::OnceLock::new(),
            digest: std::sync::OnceLock::new(),
        }
    }

    /// Each certificate's description (or why it cannot be read), in `certificates`' order;
    /// described once.
    pub fn descriptions(&self) -> &[Result<describe::CertificateSummary, String>] {
        self.descriptions.get_or_init(|| {
            self.certificates
                .iter()
                .map(|der| describe::describe(der).map_err(|error| error.to_string()))
                .collect()
        })
    }

    /// The description of `der` when it is one of these anchors.
    pub fn description_of(
        &self,
        der: &CertificateDer<'_>,
    ) -> Option<&Result<describe::CertificateSummary, String>> {
        let index = self.certificates.iter().position(|known| known == der)?;
        self.descriptions().get(index)
    }

    /// Reads a CA file as OpenSSL's `-CAfile` (and TLS clients' CA files) read it, trust
    /// settings included.
    pub fn load(path: &std::path::Path) -> Result<TrustAnchors, load::CertificateFileError> {
        let store = load::load_store_certificates(path)?;
        let trust_settings = if store.iter().any(|certificate| certificate.trust.is_some()) {
            store
                .iter()
                .map(|certificate| certificate.trust.clone())
                .collect()
        } else {
            Vec::new()
        };
        Ok(TrustAnchors {
            path: path.to_path_buf(),
            certificates: store
                .into_iter()
                .map(|certificate| certificate.der)
                .collect(),
            trust_settings,
            descriptions: std::sync::OnceLock::new(),
            digest: std::sync::OnceLock::new(),
        })
    }

    /// The anchors as the verifier's store, with their trust settings.
    pub fn store(&self) -> Vec<trust_settings::StoreCertificate> {
        self.certificates
            .iter()
            .enumerate()
            .map(|(index, der)| trust_settings::StoreCertificate {
                der: der.clone(),
                trust: self.trust_settings.get(index).cloned().flatten(),
            })
            .collect()
    }
}
