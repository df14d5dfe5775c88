//! TEMPORARY stand-in matching the contract; replaced at merge.
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::Path;
#[derive(Debug, thiserror::Error)]
#[error("cannot read certificates from {0}")]
pub struct CertificateFileError(String);
pub fn load_certificates(
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, CertificateFileError> {
    let bytes =
        std::fs::read(path).map_err(|_| CertificateFileError(path.display().to_string()))?;
    CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CertificateFileError(path.display().to_string()))
}
