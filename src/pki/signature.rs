//! Signature verification exactly as OpenSSL 3.0's default provider accepts it: every
//! algorithm it verifies in certificates (RSA PKCS#1 v1.5 and RSASSA-PSS, ECDSA, DSA, Ed25519,
//! Ed448), its rules for keys and parameters, and its security-bit figures. Pure and clock-free.
//!
//! ring verifies what it can with exactly OpenSSL's semantics (Ed25519, ECDSA P-256/P-384 with
//! SHA-256/384, RSA 1024-8192 bits with SHA-1/256/384/512 and PSS with salt = digest length);
//! RustCrypto crates verify the rest: any RSA size OpenSSL accepts (up to 16384 bits, any
//! exponent below the modulus) with `rsa`'s raw operation, PSS with any digest, MGF1 digest and
//! salt length, MD5, SHA-224, SHA-512/t, SHA3 and RIPEMD-160 digests, DSA (`dsa`) and Ed448
//! (`ed448-goldilocks`); ECDSA on every other prime-field curve OpenSSL knows (P-192, P-224,
//! P-521, secp256k1, brainpool, ... and explicit parameters) with one generic implementation
//! over crypto-bigint (`weierstrass`). What OpenSSL verifies and edgeprobe does not (binary
//! curves, SM2) is [`SignatureError::Unsupported`], never `Ok`.
//!
//! The OpenSSL behaviour followed is cited at each rule: `crypto/asn1/a_verify.c`
//! (`ASN1_item_verify_ctx`), `crypto/x509/x509_set.c` (`x509_sig_info_init`),
//! `crypto/rsa/rsa_ameth.c` and `rsa_backend.c` (PSS parameters), `crypto/rsa/rsa_sign.c`,
//! `rsa_ossl.c`, `rsa_pk1.c`, `rsa_pss.c`, `providers/implementations/signature/rsa_sig.c`,
//! `crypto/ec/ecdsa_ossl.c`, `crypto/dsa/dsa_ossl.c` and `dsa_sign.c`.

mod curves;
pub(crate) mod der;
#[cfg(test)]
mod tests;
mod weierstrass;

use std::fmt;

use dsa::signature::hazmat::PrehashVerifier;

use der::{Element, Reader};
use x509_parser::asn1_rs::Oid;

use super::oids::*;
use super::signature_memo;

/// Key types as OpenSSL 3.0 tells them apart (EVP_PKEY_is_a), from the SubjectPublicKeyInfo
/// algorithm OID.
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

impl fmt::Display for KeyType {
    /// OpenSSL's names for the key types (`EVP_PKEY_get0_type_name`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            KeyType::Rsa => "RSA",
            KeyType::RsaPss => "RSA-PSS",
            KeyType::Dsa => "DSA",
            KeyType::Dh => "DH",
            KeyType::Ec => "EC",
            KeyType::Sm2 => "SM2",
            KeyType::Ed25519 => "ED25519",
            KeyType::Ed448 => "ED448",
            KeyType::X25519 => "X25519",
            KeyType::X448 => "X448",
            KeyType::Unknown => "unknown",
        })
    }
}

/// What OpenSSL 3.0's `X509_get_signature_info` (`x509_sig_info_init`) says about a
/// certificate's signatureAlgorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The key type the algorithm is for (the sigid's public-key NID).
    pub key_type: KeyType,
    /// OpenSSL's short name of the digest (`SHA256`, `SHA512-224`, `SHA3-256`, `MD5`);
    /// `UNDEF` for Ed25519/Ed448, which hash internally.
    pub digest: &'static str,
    /// Half the digest's bits, except MD5 (39) and SHA-1 (63; 64 under PSS), which OpenSSL
    /// lowers below security level 1; Ed25519 128, Ed448 224.
    pub security_bits: u32,
}

/// Why a signature was not accepted. Every variant but [`SignatureError::Unsupported`] is a
/// verdict OpenSSL reaches too (`X509_verify` fails: X509_V_ERR_CERT_SIGNATURE_FAILURE, or
/// X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY for [`SignatureError::UndecodableKey`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// OBJ_find_sigid_algs does not know the OID, or the digest it names is not available in
    /// OpenSSL 3.0's default provider (MD2, MD4, MDC2, SHA-0, GOST).
    #[error("OpenSSL 3.0 cannot verify the signature algorithm {algorithm}")]
    UnknownAlgorithm { algorithm: String },
    /// RSASSA-PSS parameters OpenSSL rejects (`ossl_rsa_pss_get_param`, `rsa_setup_md`).
    #[error("the RSASSA-PSS parameters are invalid: {reason}")]
    InvalidParameters { reason: String },
    /// ASN1_R_WRONG_PUBLIC_KEY_TYPE: the issuer's key is not of the type the algorithm needs.
    #[error("{algorithm} is not a signature algorithm for a {key} key")]
    KeyTypeMismatch { algorithm: String, key: KeyType },
    /// The RSASSA-PSS parameters of an id-RSASSA-PSS key forbid this signature (RFC 4055 §3.1;
    /// `rsa_sig.c` `rsa_check_padding`, `rsa_set_ctx_params`).
    #[error("the issuer's RSA-PSS key does not allow this signature: {reason}")]
    KeyRestriction { reason: String },
    /// X509_get0_pubkey would be NULL.
    #[error("the issuer's public key cannot be decoded")]
    UndecodableKey,
    /// The signature is malformed or does not match the message and key.
    #[error("the signature does not verify")]
    Invalid,
    /// OpenSSL 3.0 verifies this and edgeprobe cannot: the caller must say "not checked".
    #[error("edgeprobe cannot verify {algorithm} signatures (OpenSSL 3.0 can)")]
    Unsupported { algorithm: String },
}

impl SignatureError {
    /// Whether OpenSSL 3.0 also refuses the signature (everything except `Unsupported`).
    pub fn openssl_rejects(&self) -> bool {
        !matches!(self, SignatureError::Unsupported { .. })
    }
}

/// The key type of a SubjectPublicKeyInfo, from its algorithm OID (and, for id-ecPublicKey,
/// the SM2 curve, which OpenSSL 3.0 decodes as an `SM2` key).
pub fn key_type(spki_der: &[u8]) -> KeyType {
    let Some(spki) = parse_spki(spki_der) else {
        return KeyType::Unknown;
    };
    key_type_of(&spki)
}

/// EVP_PKEY_get_security_bits of the key: RSA by `ossl_ifc_ffc_compute_security_bits` (SP
/// 800-56B), DSA and DH by `BN_security_bits` (SP 800-57 table, capped by half the subgroup
/// order), EC by the order-bits table of `ec_kmgmt.c` (512: 256, 384: 192, 256: 128, 224: 112,
/// 160: 80, else half), X25519/Ed25519 128, X448/Ed448 224. `None` when OpenSSL could not
/// decode the key; `Some(0)` for a DSA/DH key without domain parameters (OpenSSL's -1).
pub fn key_security_bits(spki_der: &[u8]) -> Option<u32> {
    key_properties(spki_der).security_bits
}

/// Whether OpenSSL would decode the key at all (X509_get0_pubkey != NULL): a known algorithm
/// with a well-formed key, a named curve it knows (or explicit parameters) and a point on the
/// curve where edgeprobe can check it.
pub fn key_decodes(spki_der: &[u8]) -> bool {
    key_properties(spki_der).decodes
}

/// An EC key given with explicit curve parameters instead of a named curve (x509_vfy.c
/// `check_curve`, X509_V_ERR_EC_KEY_EXPLICIT_PARAMS, code 94).
pub fn ec_explicit_parameters(spki_der: &[u8]) -> bool {
    key_properties(spki_der).ec_explicit_parameters
}

/// What the verifier asks of a subjectPublicKeyInfo ([`key_decodes`], [`key_security_bits`],
/// [`ec_explicit_parameters`]), from one decoding of it: an EC key's decoding checks its point
/// on the curve, which is most of the work of reading a certificate's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProperties {
    pub decodes: bool,
    pub security_bits: Option<u32>,
    pub ec_explicit_parameters: bool,
}

pub fn key_properties(spki_der: &[u8]) -> KeyProperties {
    let Ok(key) = decode_key(spki_der) else {
        return KeyProperties {
            decodes: false,
            security_bits: None,
            ec_explicit_parameters: false,
        };
    };
    let security_bits = match &key {
        PublicKey::Rsa(rsa) => rsa_security_bits(bit_length(rsa.modulus)),
        PublicKey::Dsa { parameters, .. } => match parameters {
            Some(parameters) => {
                bn_security_bits(bit_length(parameters.p), Some(bit_length(parameters.q)))
            }
            None => 0,
        },
        PublicKey::Dh {
            prime_bits,
            subgroup_bits,
        } => bn_security_bits(*prime_bits, *subgroup_bits),
        PublicKey::Ec(ec) => ec_security_bits(ec.order_bits),
        PublicKey::Ed25519(_) | PublicKey::X25519 => 128,
        PublicKey::Ed448(_) | PublicKey::X448 => 224,
    };
    KeyProperties {
        decodes: true,
        security_bits: Some(security_bits),
        ec_explicit_parameters: matches!(key, PublicKey::Ec(EcKey { explicit: true, .. })),
    }
}

/// v3_purp.c `check_sig_alg_match`, part of `ossl_x509_likely_issued`: whether a signature
/// algorithm (the subject's tbsCertificate `signature`) is one for the issuer's key type
/// (RSASSA-PSS also for rsaEncryption keys). `None` when OBJ_find_sigid_algs does not know the
/// algorithm (X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM); `Some(false)` is
/// X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH.
pub fn signature_algorithm_matches_key(
    algorithm_identifier_der: &[u8],
    issuer_spki_der: &[u8],
) -> Option<bool> {
    let algorithm = parse_algorithm(algorithm_identifier_der)?;
    let sigid = sigid(&algorithm.oid)?;
    Some(sigid.key.accepts(key_type(issuer_spki_der)))
}

/// A certificate's parts as [`verify_signature`] and [`signature_info`] take them, sliced from
/// the DER as received (X509_verify hashes the cached tbsCertificate encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateParts<'a> {
    /// The whole tbsCertificate element.
    pub tbs_certificate: &'a [u8],
    /// The whole outer signatureAlgorithm AlgorithmIdentifier.
    pub signature_algorithm: &'a [u8],
    /// The whole tbsCertificate `signature` AlgorithmIdentifier (compare with the outer one:
    /// X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY).
    pub inner_signature_algorithm: &'a [u8],
    /// The signature BIT STRING's bits.
    pub signature: &'a [u8],
    /// The BIT STRING's unused-bits count: OpenSSL refuses a signature unless it is 0
    /// (a_verify.c ASN1_R_INVALID_BIT_STRING_BITS_LEFT).
    pub signature_unused_bits: u8,
    /// The whole subjectPublicKeyInfo, for the certificates this one issues.
    pub subject_public_key_info: &'a [u8],
}

/// Slices `certificate_der` (RFC 5280 §4.1) into its [`CertificateParts`]; `None` when the
/// outer structure is not well-formed DER.
pub fn certificate_parts(certificate_der: &[u8]) -> Option<CertificateParts<'_>> {
    let mut outer = Reader::new(der::single(certificate_der, der::SEQUENCE)?);
    let (tbs, tbs_certificate) = outer.element_with_encoding()?;
    let (algorithm, signature_algorithm) = outer.element_with_encoding()?;
    let bits = outer.expect(der::BIT_STRING)?;
    if tbs.tag != der::SEQUENCE || algorithm.tag != der::SEQUENCE || !outer.is_empty() {
        return None;
    }
    let (&signature_unused_bits, signature) = bits.split_first()?;
    let mut fields = Reader::new(tbs.content);
    if fields.peek_tag() == Some(0xa0) {
        fields.element()?;
    }
    fields.expect(der::INTEGER)?;
    let (inner, inner_signature_algorithm) = fields.element_with_encoding()?;
    for _ in 0..3 {
        fields.element()?; // issuer, validity, subject
    }
    let (spki, subject_public_key_info) = fields.element_with_encoding()?;
    if inner.tag != der::SEQUENCE || spki.tag != der::SEQUENCE {
        return None;
    }
    Some(CertificateParts {
        tbs_certificate,
        signature_algorithm,
        inner_signature_algorithm,
        signature,
        signature_unused_bits,
        subject_public_key_info,
    })
}

/// What `X509_get_signature_info` reports for a signatureAlgorithm (the whole
/// AlgorithmIdentifier DER, parameters included). `None` when OpenSSL does not know the
/// algorithm (OBJ_find_sigid_algs fails, the digest has no EVP_MD, the PSS parameters are
/// rejected, or an algorithm without digest has no `siginf_set`, as ecdsa-with-Specified).
pub fn signature_info(algorithm_identifier_der: &[u8]) -> Option<SignatureInfo> {
    let algorithm = parse_algorithm(algorithm_identifier_der)?;
    let sigid = sigid(&algorithm.oid)?;
    match sigid.digest {
        SigDigest::Named(digest) => {
            // x509_sig_info_init: the GOST R 34.11-94 case needs no EVP_MD; the others are
            // looked up with EVP_get_digestbynid, which fails for digests not compiled in.
            let security_bits = match digest {
                Digest::Gost94 => 105,
                Digest::Md5 => 39,
                Digest::Sha1 => 63,
                _ if !digest.has_evp_md() => return None,
                _ => digest.size() as u32 * 4,
            };
            Some(SignatureInfo {
                key_type: sigid.key.key_type(),
                digest: digest.name(),
                security_bits,
            })
        }
        SigDigest::None => match sigid.key {
            // ecx_meth.c ecd_sig_info_set.
            SigKey::Ed25519 => Some(SignatureInfo {
                key_type: KeyType::Ed25519,
                digest: "UNDEF",
                security_bits: 128,
            }),
            SigKey::Ed448 => Some(SignatureInfo {
                key_type: KeyType::Ed448,
                digest: "UNDEF",
                security_bits: 224,
            }),
            // rsa_ameth.c rsa_sig_info_set: the PSS digest decides, SHA-1 counts 64 here.
            SigKey::RsaPss => {
                let parameters = pss_parameters(algorithm.parameters).ok()?;
                let security_bits = match parameters.digest {
                    Digest::Sha1 => 64,
                    Digest::Md5 => 39,
                    digest => digest.size() as u32 * 4,
                };
                Some(SignatureInfo {
                    key_type: KeyType::RsaPss,
                    digest: parameters.digest.name(),
                    security_bits,
                })
            }
            // The EC method has no siginf_set: ecdsa-with-Recommended/-Specified fail here.
            _ => None,
        },
    }
}

/// Verify `signature` over `message` (the tbsCertificate DER as received) with the issuer's
/// SubjectPublicKeyInfo DER, for the signatureAlgorithm AlgorithmIdentifier DER, exactly as
/// OpenSSL 3.0's X509_verify would accept it. `signature` is the content of the signature BIT
/// STRING; a BIT STRING with unused bits is the caller's to reject first (a_verify.c
/// ASN1_R_INVALID_BIT_STRING_BITS_LEFT). That the outer and inner algorithms match is the
/// caller's check too.
pub fn verify_signature(
    algorithm_identifier_der: &[u8],
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    // internal_verify decodes the issuer key first (X509_get0_pubkey), then X509_verify.
    let key = decode_key(spki_der).map_err(|_| SignatureError::UndecodableKey)?;
    let key_type = key_type(spki_der);
    let algorithm = parse_algorithm(algorithm_identifier_der).ok_or_else(|| {
        SignatureError::UnknownAlgorithm {
            algorithm: "a malformed AlgorithmIdentifier".to_owned(),
        }
    })?;
    let unknown = || SignatureError::UnknownAlgorithm {
        algorithm: der::dotted(&algorithm.oid),
    };
    let sigid = sigid(&algorithm.oid).ok_or_else(unknown)?;
    let mismatch = || SignatureError::KeyTypeMismatch {
        algorithm: sigid.name.to_owned(),
        key: key_type,
    };

    // a_verify.c: RSA-PSS is special-cased (either RSA key type), everything else needs
    // EVP_PKEY_is_a(pkey, OBJ_nid2sn(pknid)).
    if sigid.key == SigKey::RsaPss {
        let PublicKey::Rsa(rsa) = &key else {
            return Err(mismatch());
        };
        let parameters = pss_parameters(algorithm.parameters)
            .map_err(|reason| SignatureError::InvalidParameters { reason })?;
        return verify_rsa_pss(rsa, &parameters, message, signature);
    }
    if !sigid.key.accepts(key_type) {
        return Err(mismatch());
    }
    let digest = match sigid.digest {
        SigDigest::Named(digest) => Some(digest),
        SigDigest::None => None,
    };
    match (&key, sigid.key) {
        (PublicKey::Rsa(rsa), SigKey::RsaEncryption | SigKey::RsaAnyName) => {
            let digest = digest.ok_or_else(unknown)?;
            // rsa_sig.c rsa_setup_md: the default provider must have the digest, and it must
            // be one RSA signs with (ossl_digest_rsa_sign_get_md_nid).
            if !digest.in_default_provider() || !digest.rsa_allowed() {
                return Err(unknown());
            }
            verify_rsa_pkcs1(rsa, digest, message, signature)
        }
        (PublicKey::Ec(ec), SigKey::Ec) => {
            // ecdsa-with-Recommended/-Specified carry no digest in the sigid table, and
            // EVP_DigestVerifyInit then takes the EC key's default digest, SHA-256.
            let digest = digest.unwrap_or(Digest::Sha256);
            if !digest.in_default_provider() || !digest.approved() {
                return Err(unknown());
            }
            verify_ecdsa(ec, digest, message, signature, Remember::Yes)
        }
        (PublicKey::Dsa { parameters, public }, SigKey::Dsa) => {
            let digest = digest.ok_or_else(unknown)?;
            if !digest.in_default_provider() || !digest.approved() {
                return Err(unknown());
            }
            verify_dsa(parameters.as_ref(), public, digest, message, signature)
        }
        // webpki's ED25519 is ring's ED25519 on these bytes; shared with webpki's verdict.
        (PublicKey::Ed25519(public), SigKey::Ed25519) => {
            signature_memo::verify(webpki::ring::ED25519, public, message, signature)
                .map_err(|_| SignatureError::Invalid)
        }
        (PublicKey::Ed448(public), SigKey::Ed448) => verify_ed448(public, message, signature),
        (PublicKey::Ec(_), SigKey::Sm2) => Err(SignatureError::Unsupported {
            algorithm: "SM2-with-SM3".to_owned(),
        }),
        _ => Err(mismatch()),
    }
}

// ---------------------------------------------------------------------------------------
// Digests

/// The digests OpenSSL 3.0 has an EVP_MD for (the legacy table EVP_get_digestbyobj uses),
/// plus the few signature OIDs name that it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Md2,
    Md4,
    Md5,
    Sha0,
    Sha1,
    Mdc2,
    Ripemd160,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    Shake128,
    Shake256,
    Sm3,
    Blake2b512,
    Blake2s256,
    Whirlpool,
    Gost94,
    Gost2012_256,
    Gost2012_512,
}

impl Digest {
    /// EVP_get_digestbyobj for a hash AlgorithmIdentifier's OID (PSS parameters).
    fn from_oid(oid: &Oid<'_>) -> Option<Digest> {
        DIGESTS
            .iter()
            .find(|(known, _)| known == oid)
            .map(|(_, digest)| *digest)
    }

    /// OBJ_nid2sn.
    fn name(self) -> &'static str {
        match self {
            Digest::Md2 => "MD2",
            Digest::Md4 => "MD4",
            Digest::Md5 => "MD5",
            Digest::Sha0 => "SHA",
            Digest::Sha1 => "SHA1",
            Digest::Mdc2 => "MDC2",
            Digest::Ripemd160 => "RIPEMD160",
            Digest::Sha224 => "SHA224",
            Digest::Sha256 => "SHA256",
            Digest::Sha384 => "SHA384",
            Digest::Sha512 => "SHA512",
            Digest::Sha512_224 => "SHA512-224",
            Digest::Sha512_256 => "SHA512-256",
            Digest::Sha3_224 => "SHA3-224",
            Digest::Sha3_256 => "SHA3-256",
            Digest::Sha3_384 => "SHA3-384",
            Digest::Sha3_512 => "SHA3-512",
            Digest::Shake128 => "SHAKE128",
            Digest::Shake256 => "SHAKE256",
            Digest::Sm3 => "SM3",
            Digest::Blake2b512 => "BLAKE2b512",
            Digest::Blake2s256 => "BLAKE2s256",
            Digest::Whirlpool => "whirlpool",
            Digest::Gost94 => "md_gost94",
            Digest::Gost2012_256 => "md_gost12_256",
            Digest::Gost2012_512 => "md_gost12_512",
        }
    }

    /// EVP_MD_get_size.
    fn size(self) -> usize {
        match self {
            Digest::Md2 | Digest::Md4 | Digest::Md5 | Digest::Mdc2 | Digest::Shake128 => 16,
            Digest::Sha0 | Digest::Sha1 | Digest::Ripemd160 => 20,
            Digest::Sha224 | Digest::Sha512_224 | Digest::Sha3_224 => 28,
            Digest::Sha256
            | Digest::Sha512_256
            | Digest::Sha3_256
            | Digest::Shake256
            | Digest::Sm3
            | Digest::Blake2s256
            | Digest::Gost94
            | Digest::Gost2012_256 => 32,
            Digest::Sha384 | Digest::Sha3_384 => 48,
            Digest::Sha512
            | Digest::Sha3_512
            | Digest::Blake2b512
            | Digest::Whirlpool
            | Digest::Gost2012_512 => 64,
        }
    }

    /// Whether EVP_get_digestbynid finds it: MD2 is not built by default, SHA-0 was removed,
    /// GOST digests live in an engine.
    fn has_evp_md(self) -> bool {
        !matches!(
            self,
            Digest::Md2
                | Digest::Sha0
                | Digest::Gost94
                | Digest::Gost2012_256
                | Digest::Gost2012_512
        )
    }

    /// Whether the default provider can fetch it (MD4, MDC2 and Whirlpool are in the legacy
    /// provider only; RIPEMD-160 is back in the default one since 3.0.7).
    fn in_default_provider(self) -> bool {
        self.has_evp_md() && !matches!(self, Digest::Md4 | Digest::Mdc2 | Digest::Whirlpool)
    }

    /// `ossl_digest_get_approved_nid`: SHA-1, SHA-2 and SHA-3 (what ECDSA and DSA accept).
    fn approved(self) -> bool {
        matches!(
            self,
            Digest::Sha1
                | Digest::Sha224
                | Digest::Sha256
                | Digest::Sha384
                | Digest::Sha512
                | Digest::Sha512_224
                | Digest::Sha512_256
                | Digest::Sha3_224
                | Digest::Sha3_256
                | Digest::Sha3_384
                | Digest::Sha3_512
        )
    }

    /// `ossl_digest_rsa_sign_get_md_nid` (securitycheck_default.c): the approved digests plus
    /// MD5, MD5-SHA1, MD2, MD4, MDC2 and RIPEMD-160.
    fn rsa_allowed(self) -> bool {
        self.approved()
            || matches!(
                self,
                Digest::Md5 | Digest::Md2 | Digest::Md4 | Digest::Mdc2 | Digest::Ripemd160
            )
    }

    /// The digest of the concatenated `parts`, for the digests edgeprobe implements (all those
    /// [`Digest::in_default_provider`] and [`Digest::rsa_allowed`] together admit).
    fn hash(self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        fn run<D: sha2::digest::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut hasher = D::new();
            for part in parts {
                hasher.update(part);
            }
            hasher.finalize().to_vec()
        }
        Some(match self {
            Digest::Md5 => run::<md5::Md5>(parts),
            Digest::Sha1 => run::<sha1::Sha1>(parts),
            Digest::Ripemd160 => run::<ripemd::Ripemd160>(parts),
            Digest::Sha224 => run::<sha2::Sha224>(parts),
            Digest::Sha256 => run::<sha2::Sha256>(parts),
            Digest::Sha384 => run::<sha2::Sha384>(parts),
            Digest::Sha512 => run::<sha2::Sha512>(parts),
            Digest::Sha512_224 => run::<sha2::Sha512_224>(parts),
            Digest::Sha512_256 => run::<sha2::Sha512_256>(parts),
            Digest::Sha3_224 => run::<sha3::Sha3_224>(parts),
            Digest::Sha3_256 => run::<sha3::Sha3_256>(parts),
            Digest::Sha3_384 => run::<sha3::Sha3_384>(parts),
            Digest::Sha3_512 => run::<sha3::Sha3_512>(parts),
            _ => return None,
        })
    }

    /// The DER content of the digest's OID, for a PKCS#1 DigestInfo: for the digests
    /// [`Digest::hash`] computes.
    fn oid_content(self) -> Option<&'static [u8]> {
        if !(self.approved() || matches!(self, Digest::Md5 | Digest::Ripemd160)) {
            return None;
        }
        DIGESTS
            .iter()
            .find(|(_, digest)| *digest == self)
            .map(|(oid, _)| oid.as_bytes())
    }
}

/// The digests EVP_get_digestbyobj finds by OID.
const DIGESTS: &[(Oid<'static>, Digest)] = &[
    (OID_HASH_MD4, Digest::Md4),
    (OID_HASH_MD5, Digest::Md5),
    (OID_HASH_SHA1, Digest::Sha1),
    (OID_HASH_MDC2, Digest::Mdc2),
    (OID_HASH_RIPEMD160, Digest::Ripemd160),
    (OID_NIST_HASH_SHA224, Digest::Sha224),
    (OID_NIST_HASH_SHA256, Digest::Sha256),
    (OID_NIST_HASH_SHA384, Digest::Sha384),
    (OID_NIST_HASH_SHA512, Digest::Sha512),
    (OID_NIST_HASH_SHA512_224, Digest::Sha512_224),
    (OID_NIST_HASH_SHA512_256, Digest::Sha512_256),
    (OID_NIST_HASH_SHA3_224, Digest::Sha3_224),
    (OID_NIST_HASH_SHA3_256, Digest::Sha3_256),
    (OID_NIST_HASH_SHA3_384, Digest::Sha3_384),
    (OID_NIST_HASH_SHA3_512, Digest::Sha3_512),
    (OID_NIST_HASH_SHAKE128, Digest::Shake128),
    (OID_NIST_HASH_SHAKE256, Digest::Shake256),
    (OID_HASH_SM3, Digest::Sm3),
    (OID_HASH_BLAKE2B512, Digest::Blake2b512),
    (OID_HASH_BLAKE2S256, Digest::Blake2s256),
    (OID_HASH_WHIRLPOOL, Digest::Whirlpool),
];

// ---------------------------------------------------------------------------------------
// The sigid table (crypto/objects/obj_xref.h, sigoid_srt)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SigDigest {
    Named(Digest),
    /// NID_undef: EdDSA, RSA-PSS (digest in the parameters), ecdsa-with-Recommended/Specified.
    None,
}

/// The public-key NID of a sigid, as EVP_PKEY_is_a(pkey, OBJ_nid2sn(pknid)) tests it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SigKey {
    /// `rsaEncryption`: RSA keys, not RSA-PSS ones.
    RsaEncryption,
    /// X.500's `RSA` (2.5.8.1.1), the OIW algorithms' key: also RSA keys only.
    RsaAnyName,
    RsaPss,
    Dsa,
    /// `DSA-old` (1.3.14.3.2.12): no provider key type has that name, so nothing matches.
    DsaOld,
    Ec,
    Ed25519,
    Ed448,
    Sm2,
    /// GOST and the dhSinglePass KDF schemes: no default-provider key matches.
    Other,
}

impl SigKey {
    fn accepts(self, key: KeyType) -> bool {
        match self {
            SigKey::RsaEncryption | SigKey::RsaAnyName => key == KeyType::Rsa,
            SigKey::RsaPss => matches!(key, KeyType::Rsa | KeyType::RsaPss),
            SigKey::Dsa => key == KeyType::Dsa,
            SigKey::Ec => key == KeyType::Ec,
            SigKey::Ed25519 => key == KeyType::Ed25519,
            SigKey::Ed448 => key == KeyType::Ed448,
            SigKey::Sm2 => key == KeyType::Sm2,
            SigKey::DsaOld | SigKey::Other => false,
        }
    }

    fn key_type(self) -> KeyType {
        match self {
            SigKey::RsaEncryption | SigKey::RsaAnyName => KeyType::Rsa,
            SigKey::RsaPss => KeyType::RsaPss,
            SigKey::Dsa | SigKey::DsaOld => KeyType::Dsa,
            SigKey::Ec => KeyType::Ec,
            SigKey::Ed25519 => KeyType::Ed25519,
            SigKey::Ed448 => KeyType::Ed448,
            SigKey::Sm2 => KeyType::Sm2,
            SigKey::Other => KeyType::Unknown,
        }
    }
}

struct SigId {
    /// OpenSSL's short name of the signature algorithm.
    name: &'static str,
    digest: SigDigest,
    key: SigKey,
}

/// OBJ_find_sigid_algs: OpenSSL 3.0.20's whole sigid table. Not in it (so unknown to
/// OpenSSL 3.0): sha512-224/256WithRSAEncryption, ecdsa-with-SHA3-*, dsa-with-SHA384/512 and
/// dsa-with-SHA3-*.
fn sigid(oid: &Oid<'_>) -> Option<SigId> {
    SIGIDS
        .iter()
        .find(|(known, ..)| known == oid)
        .map(|&(_, name, digest, key)| SigId { name, digest, key })
}

/// (OID, OpenSSL's short name, digest, public-key NID) of every sigid, one row each.
#[rustfmt::skip]
const SIGIDS: &[(Oid<'static>, &str, SigDigest, SigKey)] = {
    use Digest as D;
    use SigDigest::{Named, None as Undef};
    use SigKey as K;
    &[
        (OID_PKCS1_MD2WITHRSAENC, "RSA-MD2", Named(D::Md2), K::RsaEncryption),
        (OID_PKCS1_MD4WITHRSAENC, "RSA-MD4", Named(D::Md4), K::RsaEncryption),
        (OID_PKCS1_MD5WITHRSAENC, "RSA-MD5", Named(D::Md5), K::RsaEncryption),
        (OID_PKCS1_SHA1WITHRSA, "RSA-SHA1", Named(D::Sha1), K::RsaEncryption),
        (OID_PKCS1_RSASSAPSS, "RSASSA-PSS", Undef, K::RsaPss),
        (OID_PKCS1_SHA256WITHRSA, "RSA-SHA256", Named(D::Sha256), K::RsaEncryption),
        (OID_PKCS1_SHA384WITHRSA, "RSA-SHA384", Named(D::Sha384), K::RsaEncryption),
        (OID_PKCS1_SHA512WITHRSA, "RSA-SHA512", Named(D::Sha512), K::RsaEncryption),
        (OID_PKCS1_SHA224WITHRSA, "RSA-SHA224", Named(D::Sha224), K::RsaEncryption),
        (OID_OIW_SHA_WITH_RSA, "RSA-SHA", Named(D::Sha0), K::RsaEncryption),
        (OID_X500_MDC2_WITH_RSA, "RSA-MDC2", Named(D::Mdc2), K::RsaEncryption),
        (OID_SIG_RSA_RIPE_MD160, "RSA-RIPEMD160", Named(D::Ripemd160), K::RsaEncryption),
        (OID_OIW_MD5_WITH_RSA, "RSA-NP-MD5", Named(D::Md5), K::RsaAnyName),
        (OID_SHA1_WITH_RSA, "RSA-SHA1-2", Named(D::Sha1), K::RsaAnyName),
        (OID_NIST_SIG_RSA_WITH_SHA3_224, "RSA-SHA3-224", Named(D::Sha3_224), K::RsaEncryption),
        (OID_NIST_SIG_RSA_WITH_SHA3_256, "RSA-SHA3-256", Named(D::Sha3_256), K::RsaEncryption),
        (OID_NIST_SIG_RSA_WITH_SHA3_384, "RSA-SHA3-384", Named(D::Sha3_384), K::RsaEncryption),
        (OID_NIST_SIG_RSA_WITH_SHA3_512, "RSA-SHA3-512", Named(D::Sha3_512), K::RsaEncryption),
        (OID_OIW_DSA_WITH_SHA, "DSA-SHA", Named(D::Sha0), K::Dsa),
        (OID_OIW_DSA_WITH_SHA1, "DSA-SHA1-old", Named(D::Sha1), K::DsaOld),
        (OID_SIG_DSA_WITH_SHA1, "DSA-SHA1", Named(D::Sha1), K::Dsa),
        (OID_NIST_SIG_DSA_WITH_SHA224, "dsa_with_SHA224", Named(D::Sha224), K::Dsa),
        (OID_NIST_SIG_DSA_WITH_SHA256, "dsa_with_SHA256", Named(D::Sha256), K::Dsa),
        (OID_SIG_ECDSA_WITH_SHA1, "ecdsa-with-SHA1", Named(D::Sha1), K::Ec),
        (OID_SIG_ECDSA_WITH_RECOMMENDED, "ecdsa-with-Recommended", Undef, K::Ec),
        (OID_SIG_ECDSA_WITH_SPECIFIED, "ecdsa-with-Specified", Undef, K::Ec),
        (OID_SIG_ECDSA_WITH_SHA224, "ecdsa-with-SHA224", Named(D::Sha224), K::Ec),
        (OID_SIG_ECDSA_WITH_SHA256, "ecdsa-with-SHA256", Named(D::Sha256), K::Ec),
        (OID_SIG_ECDSA_WITH_SHA384, "ecdsa-with-SHA384", Named(D::Sha384), K::Ec),
        (OID_SIG_ECDSA_WITH_SHA512, "ecdsa-with-SHA512", Named(D::Sha512), K::Ec),
        (OID_SIG_ED25519, "ED25519", Undef, K::Ed25519),
        (OID_SIG_ED448, "ED448", Undef, K::Ed448),
        (OID_SM2_WITH_SM3, "SM2-SM3", Named(D::Sm3), K::Sm2),
        (OID_SIG_GOST_R3411_94_WITH_R3410_2001, GOST94, Named(D::Gost94), K::Other),
        (OID_SIG_GOST_R3411_94_WITH_R3410_94, GOST94, Named(D::Gost94), K::Other),
        (OID_SIG_GOST_R3411_94_WITH_R3410_94_CC, GOST94, Named(D::Gost94), K::Other),
        (OID_SIG_GOST_R3411_94_WITH_R3410_2001_CC, GOST94, Named(D::Gost94), K::Other),
        (OID_SIG_GOST_R3410_2012_256, "GOST R 34.10-2012 256", Named(D::Gost2012_256), K::Other),
        (OID_SIG_GOST_R3410_2012_512, "GOST R 34.10-2012 512", Named(D::Gost2012_512), K::Other),
        (OID_KDF_SHA1_SINGLE, "dhSinglePass-sha1kdf", Named(D::Sha1), K::Other),
        (OID_KDF_COFACTOR_SHA1_SINGLE, "dhSinglePass-sha1kdf", Named(D::Sha1), K::Other),
        (OID_KDF_SHA224_SINGLE, "dhSinglePass-sha224kdf", Named(D::Sha224), K::Other),
        (OID_KDF_COFACTOR_SHA224_SINGLE, "dhSinglePass-sha224kdf", Named(D::Sha224), K::Other),
        (OID_KDF_SHA256_SINGLE, "dhSinglePass-sha256kdf", Named(D::Sha256), K::Other),
        (OID_KDF_COFACTOR_SHA256_SINGLE, "dhSinglePass-sha256kdf", Named(D::Sha256), K::Other),
        (OID_KDF_SHA384_SINGLE, "dhSinglePass-sha384kdf", Named(D::Sha384), K::Other),
        (OID_KDF_COFACTOR_SHA384_SINGLE, "dhSinglePass-sha384kdf", Named(D::Sha384), K::Other),
        (OID_KDF_SHA512_SINGLE, "dhSinglePass-sha512kdf", Named(D::Sha512), K::Other),
        (OID_KDF_COFACTOR_SHA512_SINGLE, "dhSinglePass-sha512kdf", Named(D::Sha512), K::Other),
    ]
};

/// The name the sigid table gives all four GOST R 34.11-94 signature algorithms.
const GOST94: &str = "GOST R 34.11-94 with GOST R 34.10";

fn parse_algorithm(der_bytes: &[u8]) -> Option<der::AlgorithmIdentifier<'_>> {
    der::algorithm_identifier(der::single(der_bytes, der::SEQUENCE)?)
}

// ---------------------------------------------------------------------------------------
// Keys

struct Spki<'a> {
    algorithm: der::AlgorithmIdentifier<'a>,
    /// The subjectPublicKey BIT STRING's bits (after the unused-bits byte).
    key: &'a [u8],
}

fn parse_spki(spki_der: &[u8]) -> Option<Spki<'_>> {
    let mut reader = Reader::new(der::single(spki_der, der::SEQUENCE)?);
    let algorithm = der::algorithm_identifier(reader.expect(der::SEQUENCE)?)?;
    let bits = reader.expect(der::BIT_STRING)?;
    if !reader.is_empty() {
        return None;
    }
    let (_unused, key) = bits.split_first()?;
    Some(Spki { algorithm, key })
}

fn key_type_of(spki: &Spki<'_>) -> KeyType {
    let oid = &spki.algorithm.oid;
    if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
        return match spki.algorithm.parameters {
            Some(Element {
                tag: der::OBJECT_IDENTIFIER,
                content,
            }) if der::object_identifier(content) == Some(OID_SM2) => KeyType::Sm2,
            _ => KeyType::Ec,
        };
    }
    KEY_TYPES
        .iter()
        .find(|(known, _)| known == oid)
        .map_or(KeyType::Unknown, |(_, key_type)| *key_type)
}

/// The key types of the SubjectPublicKeyInfo algorithms OpenSSL 3.0 decodes (id-ecPublicKey
/// aside: its curve decides).
const KEY_TYPES: &[(Oid<'static>, KeyType)] = &[
    // rsaEncryption, and X.500's `rsa` (2.5.8.1.1), which OpenSSL decodes as an RSA key too
    // (an alias in its RSA ASN.1 methods).
    (OID_PKCS1_RSAENCRYPTION, KeyType::Rsa),
    (OID_X500_RSA, KeyType::Rsa),
    (OID_PKCS1_RSASSAPSS, KeyType::RsaPss),
    (OID_KEY_TYPE_DSA, KeyType::Dsa),
    (OID_PKCS3_DH_KEY_AGREEMENT, KeyType::Dh),
    (OID_X942_DH_PUBLIC_NUMBER, KeyType::Dh),
    (OID_SM2, KeyType::Sm2),
    (OID_KEY_TYPE_ED25519, KeyType::Ed25519),
    (OID_KEY_TYPE_ED448, KeyType::Ed448),
    (OID_KEY_TYPE_X25519, KeyType::X25519),
    (OID_KEY_TYPE_X448, KeyType::X448),
];

/// The curves ring verifies ECDSA on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RingCurve {
    P256,
    P384,
    P521,
}

impl RingCurve {
    fn name(self) -> &'static str {
        match self {
            RingCurve::P256 => "prime256v1",
            RingCurve::P384 => "secp384r1",
            RingCurve::P521 => "secp521r1",
        }
    }
}

#[derive(Debug, Clone)]
struct EcKey {
    /// The curve, for a prime field (`None`: a binary curve, which edgeprobe cannot verify on).
    domain: Option<weierstrass::Domain>,
    /// The public point on it.
    public: Option<weierstrass::Affine>,
    /// A named curve ring has an implementation of (P-521 only for TLS 1.3's curve check).
    named: Option<RingCurve>,
    curve_name: String,
    order_bits: u32,
    explicit: bool,
    /// The point as encoded, uncompressed or compressed (hybrid is converted to uncompressed).
    point: Vec<u8>,
}

#[derive(Debug, Clone)]
struct RsaKey<'a> {
    modulus: &'a [u8],
    exponent: &'a [u8],
    /// The PSS parameters of an id-RSASSA-PSS key that has them (RFC 4055 §3.1: the key may
    /// only be used with these digests and at least this salt length).
    restriction: Option<PssParameters>,
}

#[derive(Debug, Clone)]
struct DsaParameters<'a> {
    p: &'a [u8],
    q: &'a [u8],
    g: &'a [u8],
}

enum PublicKey<'a> {
    Rsa(RsaKey<'a>),
    Dsa {
        parameters: Option<DsaParameters<'a>>,
        public: &'a [u8],
    },
    Dh {
        prime_bits: u32,
        subgroup_bits: Option<u32>,
    },
    Ec(EcKey),
    Ed25519(&'a [u8]),
    Ed448(&'a [u8]),
    X25519,
    X448,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Undecodable;

fn decode_key(spki_der: &[u8]) -> Result<PublicKey<'_>, Undecodable> {
    let spki = parse_spki(spki_der).ok_or(Undecodable)?;
    let parameters = spki.algorithm.parameters;
    match key_type_of(&spki) {
        KeyType::Rsa | KeyType::RsaPss => {
            // rsa_pub_decode: RSAPublicKey with BIGNUMs read unsigned; rsaEncryption's
            // parameters are not looked at; an RSA-PSS key's must be absent or valid PSS
            // parameters (ossl_rsa_param_decode).
            let mut key = Reader::new(der::single(spki.key, der::SEQUENCE).ok_or(Undecodable)?);
            let modulus = der::unsigned_lenient(key.expect(der::INTEGER).ok_or(Undecodable)?);
            let exponent = der::unsigned_lenient(key.expect(der::INTEGER).ok_or(Undecodable)?);
            if !key.is_empty() {
                return Err(Undecodable);
            }
            let restriction = match (key_type_of(&spki), parameters) {
                (KeyType::RsaPss, Some(element)) => {
                    if element.tag != der::SEQUENCE {
                        return Err(Undecodable);
                    }
                    // The key's parameters are synced without verify_param (rsa_backend.c),
                    // so only the digests must be known.
                    Some(pss_parameters_unverified(Some(element)).map_err(|_| Undecodable)?)
                }
                _ => None,
            };
            Ok(PublicKey::Rsa(RsaKey {
                modulus,
                exponent,
                restriction,
            }))
        }
        KeyType::Dsa => {
            // dsa_pub_decode: Dss-Parms, or NULL/absent for inherited parameters.
            let dsa_parameters = match parameters {
                None | Some(Element { tag: der::NULL, .. }) => None,
                Some(Element {
                    tag: der::SEQUENCE,
                    content,
                }) => {
                    let mut reader = Reader::new(content);
                    let p = der::unsigned_lenient(reader.expect(der::INTEGER).ok_or(Undecodable)?);
                    let q = der::unsigned_lenient(reader.expect(der::INTEGER).ok_or(Undecodable)?);
                    let g = der::unsigned_lenient(reader.expect(der::INTEGER).ok_or(Undecodable)?);
                    if !reader.is_empty() {
                        return Err(Undecodable);
                    }
                    Some(DsaParameters { p, q, g })
                }
                Some(_) => return Err(Undecodable),
            };
            let public = der::single(spki.key, der::INTEGER).ok_or(Undecodable)?;
            Ok(PublicKey::Dsa {
                parameters: dsa_parameters,
                public: der::unsigned_lenient(public),
            })
        }
        KeyType::Dh => {
            // PKCS#3 DHParameter {p, g, privateValueLength?} or X9.42 DomainParameters
            // {p, g, q, j?, validationParms?}; DH_security_bits uses q, else the length.
            let content = match parameters {
                Some(Element {
                    tag: der::SEQUENCE,
                    content,
                }) => content,
                _ => return Err(Undecodable),
            };
            let mut reader = Reader::new(content);
            let prime = der::unsigned_lenient(reader.expect(der::INTEGER).ok_or(Undecodable)?);
            reader.expect(der::INTEGER).ok_or(Undecodable)?;
            let third = reader.optional(der::INTEGER);
            let subgroup_bits = if spki.algorithm.oid == OID_X942_DH_PUBLIC_NUMBER {
                Some(bit_length(der::unsigned_lenient(third.ok_or(Undecodable)?)))
            } else {
                third
                    .map(der::integer_as_long)
                    .filter(|length| *length > 0)
                    .and_then(|length| u32::try_from(length).ok())
            };
            der::single(spki.key, der::INTEGER).ok_or(Undecodable)?;
            Ok(PublicKey::Dh {
                prime_bits: bit_length(prime),
                subgroup_bits,
            })
        }
        KeyType::Ec | KeyType::Sm2 => decode_ec_key(parameters, spki.key).map(PublicKey::Ec),
        // ecx_key_op: parameters must be absent and the key exactly the curve's length.
        KeyType::Ed25519 | KeyType::Ed448 | KeyType::X25519 | KeyType::X448 => {
            if parameters.is_some() {
                return Err(Undecodable);
            }
            match (key_type_of(&spki), spki.key.len()) {
                (KeyType::Ed25519, 32) => Ok(PublicKey::Ed25519(spki.key)),
                (KeyType::Ed448, 57) => Ok(PublicKey::Ed448(spki.key)),
                (KeyType::X25519, 32) => Ok(PublicKey::X25519),
                (KeyType::X448, 56) => Ok(PublicKey::X448),
                _ => Err(Undecodable),
            }
        }
        KeyType::Unknown => Err(Undecodable),
    }
}

fn decode_ec_key(parameters: Option<Element<'_>>, point: &[u8]) -> Result<EcKey, Undecodable> {
    let (domain, named, curve_name, order_bits, explicit) = match parameters {
        Some(Element {
            tag: der::OBJECT_IDENTIFIER,
            content,
        }) => {
            let oid = der::object_identifier(content).ok_or(Undecodable)?;
            let (_, name, order_bits, curve) = curves::NAMED_CURVES
                .iter()
                .find(|(known, ..)| *known == oid)
                .ok_or(Undecodable)?;
            let domain = match curve {
                Some(curve) => Some(weierstrass::Domain::named_shared(curve).ok_or(Undecodable)?),
                None => None,
            };
            let named = match *name {
                "prime256v1" => Some(RingCurve::P256),
                "secp384r1" => Some(RingCurve::P384),
                "secp521r1" => Some(RingCurve::P521),
                _ => None,
            };
            (domain, named, (*name).to_owned(), *order_bits, false)
        }
        Some(Element {
            tag: der::SEQUENCE,
            content,
        }) => {
            let (domain, order_bits) = explicit_curve(content).ok_or(Undecodable)?;
            let name = if domain.is_some() {
                "explicit prime-field parameters"
            } else {
                "explicit binary-field parameters"
            };
            (domain, None, name.to_owned(), order_bits, true)
        }
        // implicitlyCA (NULL) or absent: OpenSSL cannot build a group.
        _ => return Err(Undecodable),
    };
    // EC_POINT_oct2point: compressed (02/03), uncompressed (04) or hybrid (06/07) forms.
    let point = match point.first() {
        Some(0x02..=0x04) => point.to_vec(),
        Some(tag @ (0x06 | 0x07)) => {
            // Hybrid: uncompressed with the y parity in the tag, which must agree.
            let y_odd = point.last().is_some_and(|byte| byte & 1 == 1);
            if y_odd != (*tag == 0x07) {
                return Err(Undecodable);
            }
            let mut uncompressed = point.to_vec();
            uncompressed[0] = 0x04;
            uncompressed
        }
        _ => return Err(Undecodable),
    };
    let public = match &domain {
        Some(domain) => Some(domain.decode_point(&point).ok_or(Undecodable)?),
        None => None,
    };
    Ok(EcKey {
        domain,
        public,
        named,
        curve_name,
        order_bits,
        explicit,
        point,
    })
}

/// ECParameters (RFC 3279 §2.3.5) as `EC_GROUP_new_from_ecparameters` takes them: a prime
/// field gives a curve to verify on (OpenSSL computes with the parameters as given, named curve
/// or not); a binary field only its order bits. `None` when OpenSSL would refuse them.
fn explicit_curve(content: &[u8]) -> Option<(Option<weierstrass::Domain>, u32)> {
    let mut reader = Reader::new(content);
    let version = reader.expect(der::INTEGER)?;
    if !matches!(version, [1..=3]) {
        return None;
    }
    let mut field = Reader::new(reader.expect(der::SEQUENCE)?);
    let field_type = der::object_identifier(field.expect(der::OBJECT_IDENTIFIER)?)?;
    let prime = if field_type == OID_X962_PRIME_FIELD {
        // Prime-p ::= INTEGER
        Some(der::unsigned_lenient(field.expect(der::INTEGER)?))
    } else if field_type == OID_X962_CHARACTERISTIC_TWO_FIELD {
        None
    } else {
        return None;
    };
    let mut equation = Reader::new(reader.expect(der::SEQUENCE)?);
    let a = equation.expect(der::OCTET_STRING)?;
    let b = equation.expect(der::OCTET_STRING)?;
    let base = reader.expect(der::OCTET_STRING)?;
    let order = der::unsigned_lenient(reader.expect(der::INTEGER)?);
    if order.is_empty() {
        return None;
    }
    let Some(prime) = prime else {
        return Some((None, bit_length(order)));
    };
    let domain = weierstrass::Domain::new(prime, a, b, base, order)?;
    let order_bits = domain.order_bits();
    Some((Some(domain), order_bits))
}

fn bit_length(unsigned: &[u8]) -> u32 {
    let unsigned = der::unsigned_lenient(unsigned);
    match unsigned.first() {
        None => 0,
        Some(first) => (unsigned.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

/// `ossl_ifc_ffc_compute_security_bits` (rsa_lib.c): the SP 800-56B rev 2 formula
/// E = (1.923 * cbrt(n ln 2 * (ln(n ln 2))^2) - 4.69) / ln 2, rounded to a multiple of 8,
/// with OpenSSL's canonical values for the standard sizes and its caps. Computed in OpenSSL's
/// 2^18 fixed point, not floating point: the rounding differs at 54 sizes up to 20000 bits.
fn rsa_security_bits(bits: u32) -> u32 {
    match bits {
        2048 => return 112,
        3072 => return 128,
        4096 => return 152,
        6144 => return 176,
        7680 => return 192,
        8192 => return 200,
        15360 => return 256,
        687_737.. => return 1200,
        0..8 => return 0,
        _ => {}
    }
    let cap = match bits {
        ..=7680 => 192,
        7681..=15360 => 256,
        _ => 1200,
    };
    let x = u64::from(bits) * fixed_point::LN_2;
    let log_x = fixed_point::ln(x);
    let root = fixed_point::cube_root(fixed_point::multiply(
        fixed_point::multiply(x, log_x),
        log_x,
    ));
    let estimate = (fixed_point::multiply(fixed_point::C1_923, root) - fixed_point::C4_690)
        / fixed_point::LN_2;
    // OpenSSL keeps the estimate in a uint16_t before rounding.
    let rounded = ((estimate as u16 as u32) + 4) & !7;
    rounded.min(cap)
}

/// The fixed-point arithmetic of rsa_lib.c: values scaled by 2^18.
mod fixed_point {
    pub const SCALE: u64 = 1 << 18;
    /// The cube root of SCALE^2, to rescale an integer cube root of a scaled value.
    const CUBE_ROOT_SCALE: u64 = 1 << 12;
    pub const LN_2: u64 = 0x02c5c8;
    const LOG2_E: u64 = 0x05c551;
    pub const C1_923: u64 = 0x07b126;
    pub const C4_690: u64 = 0x12c28f;

    pub fn multiply(a: u64, b: u64) -> u64 {
        a.wrapping_mul(b) / SCALE
    }

    /// Integer cube root by the shifting nth-root method, three bits at a time, rescaled.
    pub fn cube_root(mut x: u64) -> u64 {
        let mut root: u64 = 0;
        for shift in (0..=63).rev().step_by(3) {
            root <<= 1;
            let step = 3 * root * (root + 1) + 1;
            if (x >> shift) >= step {
                x -= step << shift;
                root += 1;
            }
        }
        root * CUBE_ROOT_SCALE
    }

    /// Natural logarithm of a scaled value above one: the base-2 logarithm bit by bit
    /// (halve into [1, 2), then square and test), divided by log2(e).
    pub fn ln(mut value: u64) -> u64 {
        let mut log2: u64 = 0;
        while value >= 2 * SCALE {
            value >>= 1;
            log2 += SCALE;
        }
        let mut bit = SCALE / 2;
        while bit != 0 {
            value = multiply(value, value);
            if value >= 2 * SCALE {
                value >>= 1;
                log2 += bit;
            }
            bit /= 2;
        }
        // OpenSSL holds the base-2 logarithm in a uint32_t.
        (u64::from(log2 as u32) * SCALE) / LOG2_E
    }
}

/// `BN_security_bits(L, N)` (bn_lib.c), used for DSA and DH keys.
fn bn_security_bits(prime_bits: u32, subgroup_bits: Option<u32>) -> u32 {
    let table = match prime_bits {
        15360.. => 256,
        7680.. => 192,
        3072.. => 128,
        2048.. => 112,
        1024.. => 80,
        _ => return 0,
    };
    match subgroup_bits {
        None => table,
        Some(subgroup_bits) if subgroup_bits / 2 < 80 => 0,
        Some(subgroup_bits) => table.min(subgroup_bits / 2),
    }
}

/// ec_kmgmt.c `ec_get_params` (OSSL_PKEY_PARAM_SECURITY_BITS), after SP 800-57 Table 2.
fn ec_security_bits(order_bits: u32) -> u32 {
    match order_bits {
        512.. => 256,
        384.. => 192,
        256.. => 128,
        224.. => 112,
        160.. => 80,
        bits => bits / 2,
    }
}

// ---------------------------------------------------------------------------------------
// RSA

/// RSASSA-PSS-params (RFC 4055 §3.1) as OpenSSL resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PssParameters {
    digest: Digest,
    mask_digest: Digest,
    /// A C `int`, as `ossl_rsa_pss_get_param_unverified` stores ASN1_INTEGER_get's `long`.
    salt_length: i32,
    trailer_field: i32,
}

/// `ossl_rsa_pss_decode` + `ossl_rsa_pss_get_param_unverified` (rsa_backend.c): defaults
/// SHA-1, MGF1 with SHA-1, salt 20, trailer 1; digests must be ones OpenSSL has.
fn pss_parameters_unverified(parameters: Option<Element<'_>>) -> Result<PssParameters, String> {
    let content = match parameters {
        Some(Element {
            tag: der::SEQUENCE,
            content,
        }) => content,
        _ => return Err("the parameters are missing or not a SEQUENCE".to_owned()),
    };
    let malformed = || "the parameters are malformed".to_owned();
    let mut reader = Reader::new(content);
    let digest_of = |algorithm: &[u8]| -> Result<Digest, String> {
        let algorithm = der::algorithm_identifier(algorithm).ok_or_else(malformed)?;
        Digest::from_oid(&algorithm.oid)
            .filter(|digest| digest.has_evp_md())
            .ok_or_else(|| format!("the digest {} is unknown", der::dotted(&algorithm.oid)))
    };
    let mut digest = Digest::Sha1;
    let mut mask_digest = Digest::Sha1;
    let mut salt_length: i64 = 20;
    let mut trailer_field: i64 = 1;
    if let Some(explicit) = reader.optional(0xa0) {
        digest = digest_of(der::single(explicit, der::SEQUENCE).ok_or_else(malformed)?)?;
    }
    if let Some(explicit) = reader.optional(0xa1) {
        // ossl_x509_algor_mgf1_decode: the mask generation must be MGF1, its parameter a
        // hash AlgorithmIdentifier.
        let mask =
            der::algorithm_identifier(der::single(explicit, der::SEQUENCE).ok_or_else(malformed)?)
                .ok_or_else(malformed)?;
        if mask.oid != OID_PKCS1_MGF1 {
            return Err(format!(
                "the mask generation function {} is not MGF1",
                der::dotted(&mask.oid)
            ));
        }
        match mask.parameters {
            Some(Element {
                tag: der::SEQUENCE,
                content,
            }) => mask_digest = digest_of(content)?,
            _ => return Err("the MGF1 digest is missing".to_owned()),
        }
    }
    if let Some(explicit) = reader.optional(0xa2) {
        salt_length =
            der::integer_as_long(der::single(explicit, der::INTEGER).ok_or_else(malformed)?);
    }
    if let Some(explicit) = reader.optional(0xa3) {
        trailer_field =
            der::integer_as_long(der::single(explicit, der::INTEGER).ok_or_else(malformed)?);
    }
    if !reader.is_empty() {
        return Err(malformed());
    }
    Ok(PssParameters {
        digest,
        mask_digest,
        // Stored into C ints: the truncation is OpenSSL's.
        salt_length: salt_length as i32,
        trailer_field: trailer_field as i32,
    })
}

/// `ossl_rsa_pss_get_param` for a signature: the unverified parameters, then
/// `rsa_pss_verify_param` (salt length not negative, trailer field 1).
fn pss_parameters(parameters: Option<Element<'_>>) -> Result<PssParameters, String> {
    let parameters = pss_parameters_unverified(parameters)?;
    if parameters.salt_length < 0 {
        return Err(format!(
            "the salt length {} is negative",
            parameters.salt_length
        ));
    }
    if parameters.trailer_field != 1 {
        return Err(format!(
            "the trailer field is {}, not 1 (0xbc)",
            parameters.trailer_field
        ));
    }
    Ok(parameters)
}

/// `rsa_ossl_public_decrypt`'s key checks (modulus at most 16384 bits, exponent below the
/// modulus, at most 64 bits above 3072-bit moduli; Montgomery needs an odd modulus) and the
/// raw RSAVP1 operation. `signature` may be shorter than the modulus ("PGP chops off the top
/// zero bytes"), never longer; the result is the modulus's length.
fn rsa_public_operation(key: &RsaKey<'_>, signature: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let modulus_bits = bit_length(key.modulus);
    let exponent_bits = bit_length(key.exponent);
    let modulus_odd = key.modulus.last().is_some_and(|byte| byte & 1 == 1);
    if modulus_bits > 16384
        || modulus_bits <= 1
        || !modulus_odd
        || (modulus_bits > 3072 && exponent_bits > 64)
        || exponent_bits > modulus_bits
        || (exponent_bits == modulus_bits && key.exponent >= key.modulus)
    {
        return Err(SignatureError::Invalid);
    }
    let length = key.modulus.len();
    if signature.len() > length {
        return Err(SignatureError::Invalid);
    }
    let precision = (length * 8) as u32;
    let modulus = rsa::BoxedUint::from_be_slice(key.modulus, precision)
        .map_err(|_| SignatureError::Invalid)?;
    let exponent = rsa::BoxedUint::from_be_slice_vartime(key.exponent);
    let value =
        rsa::BoxedUint::from_be_slice(signature, precision).map_err(|_| SignatureError::Invalid)?;
    if value >= modulus {
        return Err(SignatureError::Invalid);
    }
    // The checks above are new_unchecked's preconditions (odd, non-zero modulus).
    let public = rsa::PublicKey::new_unchecked(modulus, exponent);
    let result = rsa::hazmat::rsa_encrypt(&public, &value).map_err(|_| SignatureError::Invalid)?;
    let bytes = result.to_be_bytes();
    // BN_bn2binpad to the modulus's length.
    let mut out = vec![0u8; length];
    let take = bytes.len().min(length);
    out[length - take..].copy_from_slice(&bytes[bytes.len() - take..]);
    if bytes[..bytes.len() - take].iter().any(|byte| *byte != 0) {
        return Err(SignatureError::Invalid);
    }
    Ok(out)
}

/// Whether ring's RSA verifiers take this key as OpenSSL does: ring wants an odd exponent in
/// 3..2^33 (OpenSSL takes any below the modulus) and a modulus in its size range; other keys
/// go to the RustCrypto path.
fn ring_takes_rsa_key(key: &RsaKey<'_>, minimum_bits: u32) -> bool {
    let bits = bit_length(key.modulus);
    let exponent = (key.exponent.len() <= 8).then(|| {
        key.exponent
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
    });
    (minimum_bits..=8192).contains(&bits)
        && exponent.is_some_and(|exponent| exponent % 2 == 1 && (3..1 << 33).contains(&exponent))
}

/// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) as `ossl_rsa_verify` checks it: the signature exactly
/// the modulus's length, EM = 00 01 FF..FF (at least 8) 00 DigestInfo, the DigestInfo
/// byte-for-byte the one OpenSSL encodes (NULL parameters).
fn verify_rsa_pkcs1(
    key: &RsaKey<'_>,
    digest: Digest,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    if signature.len() != key.modulus.len() {
        return Err(SignatureError::Invalid);
    }
    let ring_algorithm: Option<(&'static ring::signature::RsaParameters, u32)> = match digest {
        Digest::Sha1 => Some((
            &ring::signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            1024,
        )),
        Digest::Sha256 => Some((
            &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            1024,
        )),
        Digest::Sha384 => Some((&ring::signature::RSA_PKCS1_2048_8192_SHA384, 2048)),
        Digest::Sha512 => Some((
            &ring::signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            1024,
        )),
        _ => None,
    };
    if let Some((parameters, minimum_bits)) = ring_algorithm
        && ring_takes_rsa_key(key, minimum_bits)
    {
        return ring::signature::RsaPublicKeyComponents {
            n: key.modulus,
            e: key.exponent,
        }
        .verify(parameters, message, signature)
        .map_err(|_| SignatureError::Invalid);
    }
    let (Some(hash), Some(oid)) = (digest.hash(&[message]), digest.oid_content()) else {
        return Err(SignatureError::Unsupported {
            algorithm: format!("RSA with {}", digest.name()),
        });
    };
    let encoded = rsa_public_operation(key, signature)?;
    // DigestInfo ::= SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING digest }
    let algorithm_length = 2 + oid.len() + 2;
    let mut digest_info = vec![0x30, (2 + algorithm_length + 2 + hash.len()) as u8];
    digest_info.extend_from_slice(&[0x30, algorithm_length as u8, 0x06, oid.len() as u8]);
    digest_info.extend_from_slice(oid);
    digest_info.extend_from_slice(&[0x05, 0x00, 0x04, hash.len() as u8]);
    digest_info.extend_from_slice(&hash);
    // RSA_padding_check_PKCS1_type_1 needs at least 11 bytes and 8 bytes of padding.
    let padding = encoded
        .len()
        .checked_sub(3 + digest_info.len())
        .filter(|padding| *padding >= 8)
        .ok_or(SignatureError::Invalid)?;
    let mut expected = vec![0x00, 0x01];
    expected.extend(std::iter::repeat_n(0xff, padding));
    expected.push(0x00);
    expected.extend_from_slice(&digest_info);
    if expected == encoded {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

/// MGF1 (RFC 8017 §B.2.1).
fn mgf1(digest: Digest, seed: &[u8], length: usize) -> Option<Vec<u8>> {
    let mut mask = Vec::with_capacity(length + digest.size());
    let mut counter: u32 = 0;
    while mask.len() < length {
        mask.extend_from_slice(&digest.hash(&[seed, &counter.to_be_bytes()])?);
        counter = counter.checked_add(1)?;
    }
    mask.truncate(length);
    Some(mask)
}

/// RSASSA-PSS as OpenSSL 3.0 verifies a certificate signature: `ossl_rsa_pss_to_ctx` sets the
/// digest, MGF1 digest and exact salt length from the parameters; an RSA-PSS key's own
/// parameters restrict them (`rsa_signverify_init`, `rsa_check_padding`,
/// `rsa_set_ctx_params`); `RSA_verify_PKCS1_PSS_mgf1` checks the encoding.
fn verify_rsa_pss(
    key: &RsaKey<'_>,
    parameters: &PssParameters,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    // rsa_setup_md / rsa_setup_mgf1_md: both digests must be fetchable and RSA-allowed.
    for digest in [parameters.digest, parameters.mask_digest] {
        if !digest.in_default_provider() || !digest.rsa_allowed() {
            return Err(SignatureError::InvalidParameters {
                reason: format!(
                    "{} is not a digest OpenSSL signs RSA-PSS with",
                    digest.name()
                ),
            });
        }
    }
    let modulus_bits = bit_length(key.modulus) as usize;
    let modulus_length = key.modulus.len();
    if let Some(restriction) = &key.restriction {
        // rsa_check_parameters: the key's minimum salt must fit the key at all.
        let mut maximum_salt = modulus_length as i64 - restriction.digest.size() as i64;
        if modulus_bits & 7 == 1 {
            maximum_salt -= 1;
        }
        if restriction.salt_length < 0 || i64::from(restriction.salt_length) > maximum_salt {
            return Err(SignatureError::KeyRestriction {
                reason: format!(
                    "its minimum salt length {} cannot fit a {modulus_bits}-bit key",
                    restriction.salt_length
                ),
            });
        }
        if restriction.digest != parameters.digest {
            return Err(SignatureError::KeyRestriction {
                reason: format!(
                    "it allows only {}, the signature uses {}",
                    restriction.digest.name(),
                    parameters.digest.name()
                ),
            });
        }
        if restriction.mask_digest != parameters.mask_digest {
            return Err(SignatureError::KeyRestriction {
                reason: format!(
                    "it allows only MGF1 with {}, the signature uses MGF1 with {}",
                    restriction.mask_digest.name(),
                    parameters.mask_digest.name()
                ),
            });
        }
        if parameters.salt_length < restriction.salt_length {
            return Err(SignatureError::KeyRestriction {
                reason: format!(
                    "its minimum salt length is {}, the signature's is {}",
                    restriction.salt_length, parameters.salt_length
                ),
            });
        }
    }
    let hash_length = parameters.digest.size();
    let ring_algorithm: Option<&'static ring::signature::RsaParameters> = match parameters.digest {
        Digest::Sha256 => Some(&ring::signature::RSA_PSS_2048_8192_SHA256),
        Digest::Sha384 => Some(&ring::signature::RSA_PSS_2048_8192_SHA384),
        Digest::Sha512 => Some(&ring::signature::RSA_PSS_2048_8192_SHA512),
        _ => None,
    };
    if let Some(ring_parameters) = ring_algorithm
        && parameters.mask_digest == parameters.digest
        && parameters.salt_length as usize == hash_length
        && ring_takes_rsa_key(key, 2048)
        && signature.len() <= modulus_length
    {
        // ring wants the signature at full length; OpenSSL's RSA_public_decrypt accepts it
        // shorter, with the top zero bytes missing, which is the same number.
        let mut padded = vec![0u8; modulus_length - signature.len()];
        padded.extend_from_slice(signature);
        return ring::signature::RsaPublicKeyComponents {
            n: key.modulus,
            e: key.exponent,
        }
        .verify(ring_parameters, message, &padded)
        .map_err(|_| SignatureError::Invalid);
    }
    let message_hash = parameters
        .digest
        .hash(&[message])
        .ok_or(SignatureError::Invalid)?;
    let decrypted = rsa_public_operation(key, signature)?;
    // RSA_verify_PKCS1_PSS_mgf1.
    let top_bits = (modulus_bits - 1) & 7;
    if top_bits != 0 && decrypted[0] & (0xffu8 << top_bits) != 0 {
        return Err(SignatureError::Invalid);
    }
    if top_bits == 0 && decrypted[0] != 0 {
        return Err(SignatureError::Invalid);
    }
    let encoded = if top_bits == 0 {
        &decrypted[1..]
    } else {
        &decrypted[..]
    };
    let salt_length = parameters.salt_length as usize;
    if encoded.len() < hash_length + 2 || salt_length > encoded.len() - hash_length - 2 {
        return Err(SignatureError::Invalid);
    }
    if encoded.last() != Some(&0xbc) {
        return Err(SignatureError::Invalid);
    }
    let masked_length = encoded.len() - hash_length - 1;
    let (masked, rest) = encoded.split_at(masked_length);
    let hash = &rest[..hash_length];
    let mask = mgf1(parameters.mask_digest, hash, masked_length).ok_or(SignatureError::Invalid)?;
    let mut data_block: Vec<u8> = masked.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
    if top_bits != 0 {
        data_block[0] &= 0xff >> (8 - top_bits);
    }
    let separator = data_block[..masked_length - 1]
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(masked_length - 1);
    if data_block[separator] != 0x01 || masked_length - separator - 1 != salt_length {
        return Err(SignatureError::Invalid);
    }
    let salt = &data_block[separator + 1..];
    let recomputed = parameters
        .digest
        .hash(&[&[0u8; 8], &message_hash, salt])
        .ok_or(SignatureError::Invalid)?;
    if recomputed == hash {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

// ---------------------------------------------------------------------------------------
// ECDSA, DSA, Ed448

/// ECDSA-Sig-Value / Dss-Sig-Value: SEQUENCE { r INTEGER, s INTEGER }, which OpenSSL decodes,
/// re-encodes and compares (so only canonical DER of positive integers and nothing after it).
fn der_signature(signature: &[u8]) -> Result<(&[u8], &[u8]), SignatureError> {
    let sequence = der::single(signature, der::SEQUENCE).ok_or(SignatureError::Invalid)?;
    let mut reader = Reader::new(sequence);
    let r = reader.expect(der::INTEGER).ok_or(SignatureError::Invalid)?;
    let s = reader.expect(der::INTEGER).ok_or(SignatureError::Invalid)?;
    if !reader.is_empty() {
        return Err(SignatureError::Invalid);
    }
    let r = der::positive_strict(r).ok_or(SignatureError::Invalid)?;
    let s = der::positive_strict(s).ok_or(SignatureError::Invalid)?;
    Ok((r, s))
}

/// Whether a signature's answer goes to the [`signature_memo`]: a certificate's is asked for
/// again (by webpki's verdict, by every port presenting the chain), a TLS handshake's never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remember {
    Yes,
    No,
}

fn verify_ecdsa(
    key: &EcKey,
    digest: Digest,
    message: &[u8],
    signature: &[u8],
    remember: Remember,
) -> Result<(), SignatureError> {
    let (Some(domain), Some(public)) = (&key.domain, &key.public) else {
        return Err(SignatureError::Unsupported {
            algorithm: format!("ECDSA on {}", key.curve_name),
        });
    };
    let (r, s) = der_signature(signature)?;
    // ring: P-256 and P-384 with SHA-256/384 and uncompressed keys. Its ASN.1 parser is as
    // strict as `der_signature`, which has already accepted the encoding. Called through
    // webpki's algorithm objects, each exactly ring's `ECDSA_P*_SHA*_ASN1` on these bytes, so
    // that webpki's verdict on the same chain finds the answer in the signature memo.
    let ring_algorithm: Option<&'static dyn rustls_pki_types::SignatureVerificationAlgorithm> =
        match (key.named, digest) {
            (Some(RingCurve::P256), Digest::Sha256) => Some(webpki::ring::ECDSA_P256_SHA256),
            (Some(RingCurve::P256), Digest::Sha384) => Some(webpki::ring::ECDSA_P256_SHA384),
            (Some(RingCurve::P384), Digest::Sha256) => Some(webpki::ring::ECDSA_P384_SHA256),
            (Some(RingCurve::P384), Digest::Sha384) => Some(webpki::ring::ECDSA_P384_SHA384),
            _ => None,
        };
    if let Some(algorithm) = ring_algorithm
        && key.point.first() == Some(&0x04)
    {
        let verified = match remember {
            Remember::Yes => signature_memo::verify(algorithm, &key.point, message, signature),
            Remember::No => algorithm.verify_signature(&key.point, message, signature),
        };
        return verified.map_err(|_| SignatureError::Invalid);
    }
    let hash = digest.hash(&[message]).ok_or(SignatureError::Invalid)?;
    if domain.verify(public, &hash, r, s) {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

/// `dsa_do_verify` (dsa_ossl.c): the key needs its parameters, q of 160, 224 or 256 bits, p
/// of at most 10000 bits; r and s in [1, q-1]; the digest truncated to q's bytes.
fn verify_dsa(
    parameters: Option<&DsaParameters<'_>>,
    public: &[u8],
    digest: Digest,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let parameters = parameters.ok_or(SignatureError::Invalid)?;
    let (r, s) = der_signature(signature)?;
    let q_bits = bit_length(parameters.q);
    if !matches!(q_bits, 160 | 224 | 256) || bit_length(parameters.p) > 10000 {
        return Err(SignatureError::Invalid);
    }
    let hash = digest.hash(&[message]).ok_or(SignatureError::Invalid)?;
    let integer = |bytes: &[u8]| rsa::BoxedUint::from_be_slice_vartime(bytes);
    let components = dsa::Components::from_components_unchecked(
        integer(parameters.p),
        integer(parameters.q),
        integer(parameters.g),
    )
    .map_err(|_| SignatureError::Invalid)?;
    // The dsa crate also insists y^q = 1 mod p, which OpenSSL does not check; a key failing
    // that was not made by DSA key generation, and no honest signature exists for it.
    let key = dsa::VerifyingKey::from_components(components, integer(public))
        .map_err(|_| SignatureError::Invalid)?;
    let signature =
        dsa::Signature::from_components(integer(r), integer(s)).ok_or(SignatureError::Invalid)?;
    key.verify_prehash(&hash, &signature)
        .map_err(|_| SignatureError::Invalid)
}

/// Ed448 (RFC 8032 §5.2.7, pure, empty context), as `ossl_ed448_verify`.
fn verify_ed448(public: &[u8], message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
    let public: &[u8; 57] = public
        .try_into()
        .map_err(|_| SignatureError::UndecodableKey)?;
    let key =
        ed448_goldilocks::VerifyingKey::from_bytes(public).map_err(|_| SignatureError::Invalid)?;
    let signature =
        ed448_goldilocks::Signature::try_from(signature).map_err(|_| SignatureError::Invalid)?;
    key.verify_raw(&signature, message)
        .map_err(|_| SignatureError::Invalid)
}

// ---------------------------------------------------------------------------------------
// TLS handshake signatures

/// TLS 1.3's rsa_pss_pss_* schemes (RFC 8446 §4.2.3), which rustls has no names for.
const RSA_PSS_PSS_SHA256: u16 = 0x0809;
const RSA_PSS_PSS_SHA384: u16 = 0x080a;
const RSA_PSS_PSS_SHA512: u16 = 0x080b;

/// The signature schemes to advertise: those of OpenSSL 3.0's default list (`tls12_sigalgs`
/// in ssl/t1_lib.c) that its default security level 1 allows (SHA-1 counts 64 bits there, below
/// 80) and that rustls can carry: the SHA-224 and DSA schemes have no rustls name, and a TLS
/// 1.2 server choosing an unnamed scheme would make rustls abort the handshake.
pub fn tls_signature_schemes() -> Vec<rustls::SignatureScheme> {
    use rustls::SignatureScheme as Scheme;
    vec![
        Scheme::ECDSA_NISTP256_SHA256,
        Scheme::ECDSA_NISTP384_SHA384,
        Scheme::ECDSA_NISTP521_SHA512,
        Scheme::ED25519,
        Scheme::ED448,
        Scheme::from(RSA_PSS_PSS_SHA256),
        Scheme::from(RSA_PSS_PSS_SHA384),
        Scheme::from(RSA_PSS_PSS_SHA512),
        Scheme::RSA_PSS_SHA256,
        Scheme::RSA_PSS_SHA384,
        Scheme::RSA_PSS_SHA512,
        Scheme::RSA_PKCS1_SHA256,
        Scheme::RSA_PKCS1_SHA384,
        Scheme::RSA_PKCS1_SHA512,
    ]
}

/// Verify a TLS 1.2 ServerKeyExchange (or TLS 1.3 CertificateVerify, after
/// [`verify_tls13_signature`]'s extra rules) signature with the end-entity certificate's key,
/// as an OpenSSL 3.0 client does (`tls12_check_peer_sigalg`, `tls_process_key_exchange`):
/// the key type must be the scheme's (rsae: rsaEncryption, pss: id-RSASSA-PSS), PSS uses the
/// scheme's digest for MGF1 too and a salt of the digest's length, and an RSA-PSS key's own
/// parameters still restrict it. In TLS 1.2 an ECDSA scheme's curve need not be the key's.
pub fn verify_tls_signature(
    scheme: rustls::SignatureScheme,
    end_entity_spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let key = decode_key(end_entity_spki_der).map_err(|_| SignatureError::UndecodableKey)?;
    verify_tls_signature_with_key(scheme, end_entity_spki_der, &key, message, signature)
}

/// [`verify_tls_signature`] with the key already decoded from `end_entity_spki_der` (TLS 1.3
/// decodes it once for its curve rule and the signature).
fn verify_tls_signature_with_key(
    scheme: rustls::SignatureScheme,
    end_entity_spki_der: &[u8],
    key: &PublicKey<'_>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    use rustls::SignatureScheme as Scheme;
    let key_type = key_type(end_entity_spki_der);
    let mismatch = || SignatureError::KeyTypeMismatch {
        algorithm: format!("{scheme:?}"),
        key: key_type,
    };
    let pss = |digest: Digest| PssParameters {
        digest,
        mask_digest: digest,
        salt_length: digest.size() as i32,
        trailer_field: 1,
    };
    let code = u16::from(scheme);
    match (scheme, key) {
        (
            Scheme::ECDSA_NISTP256_SHA256
            | Scheme::ECDSA_NISTP384_SHA384
            | Scheme::ECDSA_NISTP521_SHA512,
            PublicKey::Ec(ec),
        ) if key_type == KeyType::Ec => {
            let digest = match scheme {
                Scheme::ECDSA_NISTP256_SHA256 => Digest::Sha256,
                Scheme::ECDSA_NISTP384_SHA384 => Digest::Sha384,
                _ => Digest::Sha512,
            };
            // A handshake's signed message is new every time: nothing to remember.
            verify_ecdsa(ec, digest, message, signature, Remember::No)
        }
        (
            Scheme::RSA_PSS_SHA256 | Scheme::RSA_PSS_SHA384 | Scheme::RSA_PSS_SHA512,
            PublicKey::Rsa(rsa),
        ) if key_type == KeyType::Rsa => {
            let digest = match scheme {
                Scheme::RSA_PSS_SHA256 => Digest::Sha256,
                Scheme::RSA_PSS_SHA384 => Digest::Sha384,
                _ => Digest::Sha512,
            };
            verify_rsa_pss(rsa, &pss(digest), message, signature)
        }
        (_, PublicKey::Rsa(rsa))
            if matches!(
                code,
                RSA_PSS_PSS_SHA256 | RSA_PSS_PSS_SHA384 | RSA_PSS_PSS_SHA512
            ) && key_type == KeyType::RsaPss =>
        {
            let digest = match code {
                RSA_PSS_PSS_SHA256 => Digest::Sha256,
                RSA_PSS_PSS_SHA384 => Digest::Sha384,
                _ => Digest::Sha512,
            };
            verify_rsa_pss(rsa, &pss(digest), message, signature)
        }
        (
            Scheme::RSA_PKCS1_SHA256 | Scheme::RSA_PKCS1_SHA384 | Scheme::RSA_PKCS1_SHA512,
            PublicKey::Rsa(rsa),
        ) if key_type == KeyType::Rsa => {
            let digest = match scheme {
                Scheme::RSA_PKCS1_SHA256 => Digest::Sha256,
                Scheme::RSA_PKCS1_SHA384 => Digest::Sha384,
                _ => Digest::Sha512,
            };
            verify_rsa_pkcs1(rsa, digest, message, signature)
        }
        (Scheme::ED25519, PublicKey::Ed25519(public)) => {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
                .verify(message, signature)
                .map_err(|_| SignatureError::Invalid)
        }
        (Scheme::ED448, PublicKey::Ed448(public)) => verify_ed448(public, message, signature),
        _ if tls_signature_schemes().contains(&scheme) => Err(mismatch()),
        _ => Err(SignatureError::UnknownAlgorithm {
            algorithm: format!("the TLS signature scheme {scheme:?}"),
        }),
    }
}

/// A TLS 1.3 CertificateVerify signature: RFC 8446 §4.4.3 forbids PKCS#1 v1.5 there, and an
/// ECDSA scheme names the key's curve (OpenSSL: `tls12_check_peer_sigalg`, SSL_R_WRONG_CURVE).
pub fn verify_tls13_signature(
    scheme: rustls::SignatureScheme,
    end_entity_spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    use rustls::SignatureScheme as Scheme;
    let required_curve = match scheme {
        Scheme::RSA_PKCS1_SHA256 | Scheme::RSA_PKCS1_SHA384 | Scheme::RSA_PKCS1_SHA512 => {
            return Err(SignatureError::UnknownAlgorithm {
                algorithm: format!("{scheme:?} in TLS 1.3 (RFC 8446 §4.4.3)"),
            });
        }
        Scheme::ECDSA_NISTP256_SHA256 => Some(RingCurve::P256),
        Scheme::ECDSA_NISTP384_SHA384 => Some(RingCurve::P384),
        Scheme::ECDSA_NISTP521_SHA512 => Some(RingCurve::P521),
        _ => None,
    };
    let key = decode_key(end_entity_spki_der);
    if let Some(required) = required_curve
        && let Ok(PublicKey::Ec(ec)) = &key
        && ec.named != Some(required)
    {
        return Err(SignatureError::KeyTypeMismatch {
            algorithm: format!("{scheme:?} (TLS 1.3 needs a {} key)", required.name()),
            key: KeyType::Ec,
        });
    }
    let key = key.map_err(|_| SignatureError::UndecodableKey)?;
    verify_tls_signature_with_key(scheme, end_entity_spki_der, &key, message, signature)
}
