//! Reading the certificates of the stores Java and .NET keep: Java KeyStores (JKS, Debian's
//! `/etc/ssl/certs/java/cacerts` as ca-certificates-java writes it) and PKCS#12 files (current
//! JREs' `cacerts`, `keytool -storetype pkcs12`, and the `.pfx` files of .NET's CurrentUser Root
//! store). Only certificates are taken; a private key in a store is never decrypted or kept.
//!
//! PKCS#12 is read by [`super::pkcs12`]. JKS is short enough to read here: magic `FEEDFEED`, a version, an entry count, entries, then a SHA-1 digest keyed
//! by the store password. The JVM's default trust manager loads `cacerts` without a password
//! (`javax.net.ssl.trustStorePassword` unset), which skips that digest, so it is not checked
//! here either: what counts is what the JVM would read.

use std::ops::Range;

use rustls_pki_types::CertificateDer;

use super::pkcs12;

/// The password every JRE ships `cacerts` with, and the one the guides use with keytool.
pub const JAVA_DEFAULT_PASSWORD: &str = "changeit";

const JKS_MAGIC: u32 = 0xFEED_FEED;
/// JCEKS, the older JCE store; its trusted-certificate entries are laid out as JKS's.
const JCEKS_MAGIC: u32 = 0xCECE_CECE;
const JKS_PRIVATE_KEY: u32 = 1;
const JKS_TRUSTED_CERTIFICATE: u32 = 2;
const JCEKS_SECRET_KEY: u32 = 3;

/// Why a store's certificates could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoreError {
    #[error("not a Java KeyStore or PKCS#12 file")]
    UnknownFormat,
    #[error("a damaged Java KeyStore ({0})")]
    DamagedJks(&'static str),
    #[error("a PKCS#12 file that does not open with the password {password}: {reason}")]
    Pkcs12 {
        /// Shown as `changeit` or `(empty)`: the well-known defaults, never a user's secret.
        password: &'static str,
        reason: String,
    },
}

/// The certificates of a Java truststore, JKS or PKCS#12 (read with `changeit`, then with no
/// password, as a store written with an empty one opens). A JKS's are slices of `bytes`.
pub fn java_truststore(bytes: &[u8]) -> Result<Vec<CertificateDer<'_>>, KeystoreError> {
    Ok(match java_truststore_kept(bytes)? {
        JavaCertificates::InFile(spans) => spans
            .into_iter()
            .map(|span| CertificateDer::from(&bytes[span]))
            .collect(),
        JavaCertificates::Decrypted(certificates) => certificates,
    })
}

/// Where a Java truststore's certificates are: a JKS keeps them as they are, so they are the
/// file's bytes in these ranges (not copied: Debian's `cacerts` holds ~145 of them, 165 KB,
/// and copying each cost ~40 page faults and as many `mprotect`s of a pool thread's arena);
/// a PKCS#12 file's are decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JavaCertificates {
    InFile(Vec<Range<usize>>),
    Decrypted(Vec<CertificateDer<'static>>),
}

/// [`java_truststore`], telling where the certificates are rather than borrowing them, for a
/// caller that keeps the file's bytes.
pub fn java_truststore_kept(bytes: &[u8]) -> Result<JavaCertificates, KeystoreError> {
    match read_u32(bytes, 0) {
        Some(JKS_MAGIC | JCEKS_MAGIC) => jks_certificates(bytes).map(JavaCertificates::InFile),
        _ if bytes.first() == Some(&0x30) => {
            let trusted = |password| {
                pkcs12_bags(bytes, password).map(|bags| {
                    bags.into_iter()
                        // keytool lists a certificate without Java's trust attribute (one put
                        // in with `openssl pkcs12 -export`) as no entry at all.
                        .filter(|bag| bag.java_trusted)
                        .map(|bag| bag.certificate)
                        .collect()
                })
            };
            trusted(JAVA_DEFAULT_PASSWORD)
                .or_else(|first| trusted("").map_err(|_| first))
                .map(JavaCertificates::Decrypted)
        }
        _ => Err(KeystoreError::UnknownFormat),
    }
}

/// Every certificate of a PKCS#12 file opened with `password` (a well-known default:
/// `changeit` or empty), as .NET reads a `.pfx` of its stores.
pub fn pkcs12_certificates(
    bytes: &[u8],
    password: &'static str,
) -> Result<Vec<CertificateDer<'static>>, KeystoreError> {
    Ok(pkcs12_bags(bytes, password)?
        .into_iter()
        .map(|bag| bag.certificate)
        .collect())
}

fn pkcs12_bags(
    bytes: &[u8],
    password: &'static str,
) -> Result<Vec<pkcs12::CertificateBag>, KeystoreError> {
    pkcs12::certificate_bags(bytes, password).map_err(|error| KeystoreError::Pkcs12 {
        password: if password.is_empty() {
            "(empty)"
        } else {
            password
        },
        reason: error.to_string(),
    })
}

/// The trusted-certificate entries of a JKS (or JCEKS) store, and the first certificate of each
/// key entry's chain: what `KeyStores.getTrustedCerts` gives the JVM's trust manager.
fn jks_certificates(bytes: &[u8]) -> Result<Vec<Range<usize>>, KeystoreError> {
    let mut reader = Reader { bytes, at: 4 };
    let version = reader.u32()?;
    if version != 1 && version != 2 {
        return Err(KeystoreError::DamagedJks("unknown version"));
    }
    let count = reader.u32()?;
    let mut certificates = Vec::new();
    for _ in 0..count {
        let tag = reader.u32()?;
        reader.utf()?; // alias
        reader.take(8)?; // creation time
        match tag {
            JKS_TRUSTED_CERTIFICATE => certificates.push(reader.certificate(version)?),
            JKS_PRIVATE_KEY => {
                let key_length = reader.u32()? as usize;
                reader.take(key_length)?; // encrypted key: skipped, never decrypted
                let chain = reader.u32()?;
                for position in 0..chain {
                    let certificate = reader.certificate(version)?;
                    if position == 0 {
                        certificates.push(certificate);
                    }
                }
            }
            JCEKS_SECRET_KEY => {
                return Err(KeystoreError::DamagedJks(
                    "a JCEKS secret-key entry, which a truststore never holds",
                ));
            }
            _ => return Err(KeystoreError::DamagedJks("unknown entry type")),
        }
    }
    // The keyed SHA-1 digest follows: 20 bytes.
    if bytes.len() != reader.at + 20 {
        return Err(KeystoreError::DamagedJks("wrong length"));
    }
    Ok(certificates)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let slice = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], KeystoreError> {
        let end = self
            .at
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(KeystoreError::DamagedJks("truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, KeystoreError> {
        let slice = self.take(4)?;
        Ok(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
    }

    /// Java's `writeUTF`: a 16-bit length, then modified UTF-8.
    fn utf(&mut self) -> Result<&'a [u8], KeystoreError> {
        let length = self.take(2)?;
        self.take(usize::from(u16::from_be_bytes([length[0], length[1]])))
    }

    /// One certificate: in version 2 its type (`X.509`) first, then its length and DER, whose
    /// place in the file is returned.
    fn certificate(&mut self, version: u32) -> Result<Range<usize>, KeystoreError> {
        if version == 2 && self.utf()? != b"X.509" {
            return Err(KeystoreError::DamagedJks("a certificate that is not X.509"));
        }
        let length = self.u32()? as usize;
        let start = self.at;
        self.take(length)?;
        Ok(start..self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JKS with one trusted certificate, laid out as `sun.security.provider.JavaKeyStore`
    /// writes it.
    fn jks_with(certificate: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(JKS_MAGIC.to_be_bytes());
        bytes.extend(2u32.to_be_bytes());
        bytes.extend(1u32.to_be_bytes());
        bytes.extend(JKS_TRUSTED_CERTIFICATE.to_be_bytes());
        bytes.extend(4u16.to_be_bytes());
        bytes.extend(b"edge");
        bytes.extend(0u64.to_be_bytes());
        bytes.extend(5u16.to_be_bytes());
        bytes.extend(b"X.509");
        bytes.extend((certificate.len() as u32).to_be_bytes());
        bytes.extend(certificate);
        bytes.extend([0u8; 20]);
        bytes
    }

    #[test]
    fn a_jks_truststore_gives_its_certificates() {
        let root = b"\x30\x03\x02\x01\x01";
        assert_eq!(
            java_truststore(&jks_with(root)).unwrap(),
            vec![CertificateDer::from(root.to_vec())]
        );
    }

    #[test]
    fn damaged_stores_are_errors_not_panics() {
        let whole = jks_with(b"\x30\x03\x02\x01\x01");
        for cut in 0..whole.len() {
            assert!(java_truststore(&whole[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = whole.clone();
        // The certificate's length field, made enormous.
        let at = whole.len() - 20 - 5 - 4;
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(java_truststore(&huge).is_err());
        assert_eq!(
            java_truststore(b"-----BEGIN CERTIFICATE-----"),
            Err(KeystoreError::UnknownFormat)
        );
        assert!(matches!(
            java_truststore(b"\x30\x03\x02\x01\x03"),
            Err(KeystoreError::Pkcs12 { .. })
        ));
    }
}
