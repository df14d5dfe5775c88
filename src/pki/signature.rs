//! TEMPORARY shim until helper/crypto lands: signature facts and checks with ring only.

use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    RsaPss,
    Dsa,
    Dh,
    Ec,
    Sm2,
    Ed25519,
    Ed448,
    X25519,
    X448,
    Unknown,
}

pub fn key_type(spki_der: &[u8]) -> KeyType {
    let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(spki_der) else {
        return KeyType::Unknown;
    };
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => KeyType::Rsa,
        "1.2.840.113549.1.1.10" => KeyType::RsaPss,
        "1.2.840.10045.2.1" => KeyType::Ec,
        "1.2.840.10040.4.1" => KeyType::Dsa,
        "1.3.101.112" => KeyType::Ed25519,
        "1.3.101.113" => KeyType::Ed448,
        "1.3.101.110" => KeyType::X25519,
        "1.3.101.111" => KeyType::X448,
        _ => KeyType::Unknown,
    }
}

pub fn key_decodes(spki_der: &[u8]) -> bool {
    SubjectPublicKeyInfo::from_der(spki_der).is_ok_and(|(_, spki)| spki.parsed().is_ok())
}

pub fn key_security_bits(spki_der: &[u8]) -> Option<u32> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).ok()?;
    match spki.parsed().ok()? {
        PublicKey::RSA(rsa) => Some(match rsa.key_size() {
            15360.. => 256,
            7680.. => 192,
            3072.. => 128,
            2048.. => 112,
            1024.. => 80,
            _ => 0,
        }),
        PublicKey::EC(point) => u32::try_from(point.key_size()).ok().map(|bits| bits / 2),
        _ => Some(128),
    }
}

pub fn ec_explicit_parameters(_spki_der: &[u8]) -> bool {
    false
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    pub key_type: KeyType,
    pub digest: &'static str,
    pub security_bits: u32,
}

pub fn signature_info(algorithm_identifier_der: &[u8]) -> Option<SignatureInfo> {
    let (_, algorithm) = AlgorithmIdentifier::from_der(algorithm_identifier_der).ok()?;
    let (key_type, digest, security_bits) = match algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.4" => (KeyType::Rsa, "md5", 39),
        "1.2.840.113549.1.1.5" => (KeyType::Rsa, "sha1", 63),
        "1.2.840.113549.1.1.11" => (KeyType::Rsa, "sha256", 128),
        "1.2.840.113549.1.1.12" => (KeyType::Rsa, "sha384", 192),
        "1.2.840.113549.1.1.13" => (KeyType::Rsa, "sha512", 256),
        "1.2.840.10045.4.1" => (KeyType::Ec, "sha1", 63),
        "1.2.840.10045.4.3.2" => (KeyType::Ec, "sha256", 128),
        "1.2.840.10045.4.3.3" => (KeyType::Ec, "sha384", 192),
        "1.2.840.10045.4.3.4" => (KeyType::Ec, "sha512", 256),
        "1.3.101.112" => (KeyType::Ed25519, "", 128),
        _ => return None,
    };
    Some(SignatureInfo {
        key_type,
        digest,
        security_bits,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("unsupported: {algorithm}")]
    Unsupported { algorithm: String },
    #[error("invalid")]
    Invalid,
}

pub fn verify_signature(
    algorithm_identifier_der: &[u8],
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    use ring::signature as s;
    let (_, algorithm) = AlgorithmIdentifier::from_der(algorithm_identifier_der)
        .map_err(|_| SignatureError::Invalid)?;
    let (_, spki) =
        SubjectPublicKeyInfo::from_der(spki_der).map_err(|_| SignatureError::Invalid)?;
    let oid = algorithm.algorithm.to_id_string();
    let verifier: &dyn s::VerificationAlgorithm = match oid.as_str() {
        "1.2.840.113549.1.1.5" => &s::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.11" => &s::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.12" => &s::RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &s::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        "1.2.840.10045.4.3.2" => &s::ECDSA_P256_SHA256_ASN1,
        "1.2.840.10045.4.3.3" => &s::ECDSA_P384_SHA384_ASN1,
        "1.3.101.112" => &s::ED25519,
        _ => return Err(SignatureError::Unsupported { algorithm: oid }),
    };
    s::UnparsedPublicKey::new(verifier, &spki.subject_public_key.data)
        .verify(message, signature)
        .map_err(|_| SignatureError::Invalid)
}
