//! Private keys: what kind they are and whether one belongs to a certificate, without ever
//! exposing key material (only the public half is compared or printed).

use rustls_pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::oids::{self, OID_KEY_TYPE_ED25519};

/// What a private key is, described through its public half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySummary {
    /// `EC P-256`, `RSA 2048`, `Ed25519`.
    pub kind: String,
    /// `PKCS#8`, `PKCS#1 (RSA)` or `SEC1 (EC)`: the container the key came in.
    pub format: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the private key is of a type or size this tool cannot use (RSA 2048+, ECDSA P-256/P-384, Ed25519 are supported)"
    )]
    Unsupported,
    #[error("the certificate cannot be parsed: {0}")]
    Certificate(String),
}

/// The SubjectPublicKeyInfo of a private key, derived by the ring provider.
fn public_key_of(key: &PrivateKeyDer<'_>) -> Result<SubjectPublicKeyInfoDer<'static>, KeyError> {
    let signer =
        rustls::crypto::ring::sign::any_supported_type(key).map_err(|_| KeyError::Unsupported)?;
    signer
        .public_key()
        .map(|spki| spki.into_owned())
        .ok_or(KeyError::Unsupported)
}

pub fn describe_key(key: &PrivateKeyDer<'_>) -> Result<KeySummary, KeyError> {
    let spki = public_key_of(key)?;
    let format = match key {
        PrivateKeyDer::Pkcs1(_) => "PKCS#1 (RSA)",
        PrivateKeyDer::Sec1(_) => "SEC1 (EC)",
        _ => "PKCS#8",
    };
    Ok(KeySummary {
        kind: key_kind(spki.as_ref()),
        format,
    })
}

/// Whether `key` is the private half of `certificate`'s public key (the check `openssl x509
/// -modulus` / `openssl pkey -pubout` comparisons in the IoT Edge docs do by hand).
pub fn key_matches_certificate(
    key: &PrivateKeyDer<'_>,
    certificate: &CertificateDer<'_>,
) -> Result<bool, KeyError> {
    let spki = public_key_of(key)?;
    let (_, parsed) = X509Certificate::from_der(certificate.as_ref())
        .map_err(|error| KeyError::Certificate(error.to_string()))?;
    let (_, derived) =
        SubjectPublicKeyInfo::from_der(spki.as_ref()).map_err(|_| KeyError::Unsupported)?;
    Ok(derived.subject_public_key.data == parsed.public_key().subject_public_key.data)
}

fn key_kind(spki: &[u8]) -> String {
    let Ok((_, info)) = SubjectPublicKeyInfo::from_der(spki) else {
        return "unknown".to_owned();
    };
    match info.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(point)) => match point.key_size() {
            256 => "EC P-256".to_owned(),
            384 => "EC P-384".to_owned(),
            521 => "EC P-521".to_owned(),
            bits => format!("EC {bits}-bit"),
        },
        _ if oids::same(&info.algorithm.algorithm, &OID_KEY_TYPE_ED25519) => "Ed25519".to_owned(),
        _ => info.algorithm.algorithm.to_id_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};

    #[test]
    fn matching_and_foreign_keys_are_told_apart() {
        let key = KeyPair::generate().expect("key");
        let other = KeyPair::generate().expect("key");
        let certificate = CertificateParams::new(vec!["gw".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let own = PrivateKeyDer::try_from(key.serialize_der()).expect("pkcs8");
        let foreign = PrivateKeyDer::try_from(other.serialize_der()).expect("pkcs8");
        assert_eq!(key_matches_certificate(&own, certificate.der()), Ok(true));
        assert_eq!(
            key_matches_certificate(&foreign, certificate.der()),
            Ok(false)
        );
        assert_eq!(
            describe_key(&own).map(|summary| summary.kind),
            Ok("EC P-256".to_owned())
        );
    }
}
