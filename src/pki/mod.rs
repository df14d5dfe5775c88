//! Certificates: loading, describing and verifying chains the way OpenSSL does.

pub mod certificate_facts;
pub mod codes;
pub mod describe;
pub mod diagnose;
pub mod host_match;
pub mod keys;
pub mod load;
pub mod name_constraints;
pub mod name_hash;
pub mod oids;
pub mod signature;
pub mod signature_memo;
pub mod strict;
pub mod trust_settings;
pub mod verdicts;
pub mod verify;

use std::path::PathBuf;
use std::sync::OnceLock;

use rustls_pki_types::CertificateDer;

use describe::CertificateSummary;

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
    /// [`describe::describe`] of `certificates[i]` (or why it failed), made on first use and
    /// kept: what a check or a report shows of a root (subject, notAfter, fingerprint) is read
    /// from here rather than parsed again. Made lazily because the OS store holds a hundred
    /// roots that most runs never show.
    summaries: OnceLock<Vec<Result<CertificateSummary, String>>>,
    /// What tells these anchors from others (`pki::verdicts`' memo key), hashed on the first
    /// ask: the OS store holds ~140 certificates, and every verdict asks.
    digest: OnceLock<[u8; 32]>,
}

impl Clone for TrustAnchors {
    /// The same certificates and settings, without what was worked out from them: a clone is
    /// made to be changed (other trust settings are other anchors).
    fn clone(&self) -> Self {
        TrustAnchors {
            path: self.path.clone(),
            certificates: self.certificates.clone(),
            trust_settings: self.trust_settings.clone(),
            summaries: OnceLock::new(),
            digest: OnceLock::new(),
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
            summaries: OnceLock::new(),
            digest: OnceLock::new(),
        }
    }

    /// Reads a CA file as OpenSSL's `-CAfile` (and TLS clients' CA files) read it, trust
    /// settings included.
    pub fn load(path: &std::path::Path) -> Result<TrustAnchors, load::CertificateFileError> {
        Ok(TrustAnchors::of_store(
            path,
            load::load_store_certificates(path)?,
        ))
    }

    /// [`Self::load`] for a system bundle, whose certificates are checked for their DER
    /// framing only ([`load::load_system_store_certificates`]).
    pub fn load_system_store(
        path: &std::path::Path,
    ) -> Result<TrustAnchors, load::CertificateFileError> {
        Ok(TrustAnchors::of_store(
            path,
            load::load_system_store_certificates(path)?,
        ))
    }

    fn of_store(
        path: &std::path::Path,
        store: Vec<trust_settings::StoreCertificate>,
    ) -> TrustAnchors {
        let trust_settings = if store.iter().any(|certificate| certificate.trust.is_some()) {
            store
                .iter()
                .map(|certificate| certificate.trust.clone())
                .collect()
        } else {
            Vec::new()
        };
        TrustAnchors {
            path: path.to_path_buf(),
            certificates: store
                .into_iter()
                .map(|certificate| certificate.der)
                .collect(),
            trust_settings,
            summaries: OnceLock::new(),
            digest: OnceLock::new(),
        }
    }

    /// Each certificate described (in `certificates` order), or why it cannot be.
    pub fn summaries(&self) -> &[Result<CertificateSummary, String>] {
        self.summaries.get_or_init(|| {
            self.certificates
                .iter()
                .map(|der| describe::describe(der).map_err(|error| error.to_string()))
                .collect()
        })
    }

    /// The description of the anchor whose DER is `der`, when it is one of these and readable.
    pub fn summary_of(&self, der: &CertificateDer<'_>) -> Option<&CertificateSummary> {
        let index = self.certificates.iter().position(|known| known == der)?;
        self.summaries().get(index)?.as_ref().ok()
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
