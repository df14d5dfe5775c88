//! The object identifiers the PKI code compares, in one table: the ones `oid-registry` (through
//! x509-parser) names, under its names, and the rest here, each with the standard that assigns
//! it. The signature module's generated curve table (`signature/curves.rs`) keeps its own OIDs,
//! as OpenSSL's `obj_mac.h` lists them.
//!
//! Compare an OID x509-parser read with [`same`], [`lookup`] or [`is_one_of`], not `==`: see
//! [`same`] for why. OIDs whose reader already refused non-minimal encodings (the signature
//! module's DER reader, the trust settings' parser) compare with `==`, and name constraints
//! compares the encodings themselves, as OpenSSL's `OBJ_cmp` does.

use x509_parser::asn1_rs::{Oid, oid};

pub use x509_parser::oid_registry::{
    MS_JURISDICTION_COUNTRY, MS_JURISDICTION_LOCALITY, MS_JURISDICTION_STATE_OR_PROVINCE,
    OID_DOMAIN_COMPONENT, OID_EC_P256, OID_HASH_SHA1, OID_KDF_SHA1_SINGLE, OID_KEY_TYPE_DSA,
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521, OID_NIST_HASH_SHA256,
    OID_NIST_HASH_SHA384, OID_NIST_HASH_SHA512, OID_PKCS1_MD2WITHRSAENC, OID_PKCS1_MD4WITHRSAENC,
    OID_PKCS1_MD5WITHRSAENC, OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS, OID_PKCS1_SHA1WITHRSA,
    OID_PKCS1_SHA224WITHRSA, OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA,
    OID_PKCS1_SHA512WITHRSA, OID_PKCS9_EMAIL_ADDRESS, OID_PKCS9_UNSTRUCTURED_NAME,
    OID_PKIX_ACCESS_DESCRIPTOR_OCSP, OID_SHA1_WITH_RSA, OID_SIG_DSA_WITH_SHA1,
    OID_SIG_ECDSA_WITH_SHA224, OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
    OID_SIG_ECDSA_WITH_SHA512, OID_SIG_ED448, OID_SIG_ED25519, OID_SIG_GOST_R3410_2012_256,
    OID_SIG_GOST_R3410_2012_512, OID_SIG_GOST_R3411_94_WITH_R3410_2001, OID_SIG_RSA_RIPE_MD160,
    OID_USERID, OID_X509_BUSINESS_CATEGORY, OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME,
    OID_X509_DESCRIPTION, OID_X509_DN_QUALIFIER, OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
    OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_CERT_TYPE, OID_X509_EXT_CERTIFICATE_POLICIES,
    OID_X509_EXT_CRL_DISTRIBUTION_POINTS, OID_X509_EXT_EXTENDED_KEY_USAGE,
    OID_X509_EXT_INHIBIT_ANY_POLICY, OID_X509_EXT_KEY_USAGE, OID_X509_EXT_NAME_CONSTRAINTS,
    OID_X509_EXT_POLICY_CONSTRAINTS, OID_X509_EXT_POLICY_MAPPINGS, OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER, OID_X509_GENERATION_QUALIFIER, OID_X509_GIVEN_NAME,
    OID_X509_INITIALS, OID_X509_LOCALITY_NAME, OID_X509_NAME, OID_X509_ORGANIZATION_NAME,
    OID_X509_ORGANIZATIONAL_UNIT, OID_X509_POSTAL_ADDRESS, OID_X509_POSTAL_CODE,
    OID_X509_SERIALNUMBER, OID_X509_STATE_OR_PROVINCE_NAME, OID_X509_STREET_ADDRESS,
    OID_X509_SURNAME, OID_X509_TITLE, OID_X509_UNIQUE_IDENTIFIER,
};

/// The comparison the verifier has always made, without building dotted strings when the bytes
/// settle it: whether `a` and `b` have the same dotted form (`to_id_string`).
///
/// x509-parser keeps an OID's bytes as found, and its dotted form reads a padded arc (a leading
/// `0x80`) or an unterminated last arc as if it were minimal, though DER forbids both and
/// OpenSSL refuses them (`ossl_c2i_ASN1_OBJECT`). On canonical bytes, all DER allows, the dotted
/// form is one-to-one, so the bytes decide; anything else is compared in dotted form.
pub fn same(a: &Oid<'_>, b: &Oid<'_>) -> bool {
    if canonical(a.as_bytes()) && canonical(b.as_bytes()) {
        a.as_bytes() == b.as_bytes()
    } else {
        a.to_id_string() == b.to_id_string()
    }
}

/// Whether `oid` is one of `known`, compared as [`same`] does.
pub fn is_one_of(oid: &Oid<'_>, known: &[Oid<'static>]) -> bool {
    position(oid, known.iter()).is_some()
}

/// What `table` holds for `oid`, compared as [`same`] does.
pub fn lookup<'t, T>(oid: &Oid<'_>, table: &'t [(Oid<'static>, T)]) -> Option<&'t T> {
    position(oid, table.iter().map(|(known, _)| known)).map(|index| &table[index].1)
}

/// Where `oid` is among `known`, which are all canonical (the constants of this table).
fn position<'k>(oid: &Oid<'_>, mut known: impl Iterator<Item = &'k Oid<'static>>) -> Option<usize> {
    if canonical(oid.as_bytes()) {
        known.position(|known| known.as_bytes() == oid.as_bytes())
    } else {
        let dotted = oid.to_id_string();
        known.position(|known| known.to_id_string() == dotted)
    }
}

/// Bytes whose dotted form no other bytes have: after the first byte (which x509-parser's
/// dotted form reads alone), no arc starts with a padding `0x80` and the last arc ends.
fn canonical(bytes: &[u8]) -> bool {
    let Some((_, arcs)) = bytes.split_first() else {
        return true;
    };
    let mut arc_start = true;
    for &byte in arcs {
        if arc_start && byte == 0x80 {
            return false;
        }
        arc_start = byte & 0x80 == 0;
    }
    arc_start
}

// ---------------------------------------------------------------------------------------
// Name attributes (X.520, PKCS #9, RFC 8398)

/// X.520 postOfficeBox.
pub const OID_X509_POST_OFFICE_BOX: Oid<'static> = oid!(2.5.4.18);
/// X.520 pseudonym.
pub const OID_X509_PSEUDONYM: Oid<'static> = oid!(2.5.4.65);
/// X.520 role.
pub const OID_X509_ROLE: Oid<'static> = oid!(2.5.4.72);
/// X.520 organizationIdentifier (ETSI EN 319 412-1 gives it its use in certificates).
pub const OID_X509_ORGANIZATION_IDENTIFIER: Oid<'static> = oid!(2.5.4.97);
/// PKCS #9 (RFC 2985 §5.2.6) unstructuredAddress.
pub const OID_PKCS9_UNSTRUCTURED_ADDRESS: Oid<'static> = oid!(1.2.840.113549.1.9.8);
/// RFC 8398 id-on-SmtpUTF8Mailbox: an otherName that name constraints treat as an email.
pub const OID_PKIX_ON_SMTP_UTF8_MAILBOX: Oid<'static> = oid!(1.3.6.1.5.5.7.8.9);

// ---------------------------------------------------------------------------------------
// Certificate extensions beyond RFC 5280's (which oid-registry names)

/// RFC 3820 §3.8 id-pe-proxyCertInfo.
pub const OID_PKIX_PROXY_CERT_INFO: Oid<'static> = oid!(1.3.6.1.5.5.7.1.14);
/// RFC 3779 §2.2.1 id-pe-ipAddrBlocks (OpenSSL's `sbgp-ipAddrBlock`).
pub const OID_PKIX_IP_ADDR_BLOCKS: Oid<'static> = oid!(1.3.6.1.5.5.7.1.7);
/// RFC 3779 §3.2.1 id-pe-autonomousSysIds (OpenSSL's `sbgp-autonomousSysNum`).
pub const OID_PKIX_AUTONOMOUS_SYS_IDS: Oid<'static> = oid!(1.3.6.1.5.5.7.1.8);
/// RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck.
pub const OID_PKIX_OCSP_NOCHECK: Oid<'static> = oid!(1.3.6.1.5.5.7.48.1.5);

// ---------------------------------------------------------------------------------------
// Extended key usages (RFC 5280 §4.2.1.12 and the purposes OpenSSL names)

/// RFC 5280 §4.2.1.12 anyExtendedKeyUsage.
pub const OID_ANY_EXTENDED_KEY_USAGE: Oid<'static> = oid!(2.5.29.37.0);
/// RFC 5280 §4.2.1.12 id-kp-serverAuth.
pub const OID_PKIX_KP_SERVER_AUTH: Oid<'static> = oid!(1.3.6.1.5.5.7.3.1);
/// RFC 5280 §4.2.1.12 id-kp-clientAuth.
pub const OID_PKIX_KP_CLIENT_AUTH: Oid<'static> = oid!(1.3.6.1.5.5.7.3.2);
/// RFC 5280 §4.2.1.12 id-kp-codeSigning.
pub const OID_PKIX_KP_CODE_SIGNING: Oid<'static> = oid!(1.3.6.1.5.5.7.3.3);
/// RFC 5280 §4.2.1.12 id-kp-emailProtection.
pub const OID_PKIX_KP_EMAIL_PROTECTION: Oid<'static> = oid!(1.3.6.1.5.5.7.3.4);
/// RFC 2459 §4.2.1.13 id-kp-ipsecEndSystem (obsoleted by RFC 4945, still named by OpenSSL).
pub const OID_PKIX_KP_IPSEC_END_SYSTEM: Oid<'static> = oid!(1.3.6.1.5.5.7.3.5);
/// RFC 2459 §4.2.1.13 id-kp-ipsecTunnel.
pub const OID_PKIX_KP_IPSEC_TUNNEL: Oid<'static> = oid!(1.3.6.1.5.5.7.3.6);
/// RFC 2459 §4.2.1.13 id-kp-ipsecUser.
pub const OID_PKIX_KP_IPSEC_USER: Oid<'static> = oid!(1.3.6.1.5.5.7.3.7);
/// RFC 5280 §4.2.1.12 id-kp-timeStamping.
pub const OID_PKIX_KP_TIME_STAMPING: Oid<'static> = oid!(1.3.6.1.5.5.7.3.8);
/// RFC 5280 §4.2.1.12 id-kp-OCSPSigning.
pub const OID_PKIX_KP_OCSP_SIGNING: Oid<'static> = oid!(1.3.6.1.5.5.7.3.9);
/// RFC 3029 §10 id-kp-dvcs.
pub const OID_PKIX_KP_DVCS: Oid<'static> = oid!(1.3.6.1.5.5.7.3.10);
/// RFC 4945 §5.1.3.12 id-kp-ipsecIKE.
pub const OID_PKIX_KP_IPSEC_IKE: Oid<'static> = oid!(1.3.6.1.5.5.7.3.17);
/// Microsoft's szOID_SERVER_GATED_CRYPTO.
pub const OID_MS_SERVER_GATED_CRYPTO: Oid<'static> = oid!(1.3.6.1.4.1.311.10.3.3);
/// Microsoft's szOID_KP_SMARTCARD_LOGON.
pub const OID_MS_SMARTCARD_LOGIN: Oid<'static> = oid!(1.3.6.1.4.1.311.20.2.2);
/// Netscape's Server Gated Crypto (step-up) purpose.
pub const OID_NETSCAPE_SERVER_GATED_CRYPTO: Oid<'static> = oid!(2.16.840.1.113730.4.1);

// ---------------------------------------------------------------------------------------
// Public-key algorithms

/// RFC 8410 §3 id-Ed25519: one OID names the key and the signature algorithm.
pub const OID_KEY_TYPE_ED25519: Oid<'static> = OID_SIG_ED25519;
/// RFC 8410 §3 id-Ed448.
pub const OID_KEY_TYPE_ED448: Oid<'static> = OID_SIG_ED448;
/// RFC 8410 §3 id-X25519.
pub const OID_KEY_TYPE_X25519: Oid<'static> = oid!(1.3.101.110);
/// RFC 8410 §3 id-X448.
pub const OID_KEY_TYPE_X448: Oid<'static> = oid!(1.3.101.111);
/// X.509 (1988) `rsa`, id-ea-rsa; OpenSSL decodes such a key as RSA.
pub const OID_X500_RSA: Oid<'static> = oid!(2.5.8.1.1);
/// PKCS #3 dhKeyAgreement.
pub const OID_PKCS3_DH_KEY_AGREEMENT: Oid<'static> = oid!(1.2.840.113549.1.3.1);
/// ANSI X9.42 dhpublicnumber (RFC 3279 §2.3.3).
pub const OID_X942_DH_PUBLIC_NUMBER: Oid<'static> = oid!(1.2.840.10046.2.1);
/// GM/T 0006 sm2 (`SM2` in OpenSSL): the curve, and as an algorithm an SM2 key.
pub const OID_SM2: Oid<'static> = oid!(1.2.156.10197.1.301);

// ---------------------------------------------------------------------------------------
// Signature algorithms

/// RFC 8017 §A.2.4 sha512-224WithRSAEncryption.
pub const OID_PKCS1_SHA512_224WITHRSA: Oid<'static> = oid!(1.2.840.113549.1.1.15);
/// RFC 8017 §A.2.4 sha512-256WithRSAEncryption.
pub const OID_PKCS1_SHA512_256WITHRSA: Oid<'static> = oid!(1.2.840.113549.1.1.16);
/// RFC 3279 §2.2.3 ecdsa-with-SHA1.
pub const OID_SIG_ECDSA_WITH_SHA1: Oid<'static> = oid!(1.2.840.10045.4.1);
/// ANSI X9.62 ecdsa-with-Recommended.
pub const OID_SIG_ECDSA_WITH_RECOMMENDED: Oid<'static> = oid!(1.2.840.10045.4.2);
/// ANSI X9.62 ecdsa-with-Specified.
pub const OID_SIG_ECDSA_WITH_SPECIFIED: Oid<'static> = oid!(1.2.840.10045.4.3);
/// RFC 5758 §3.1 id-dsa-with-sha224.
pub const OID_NIST_SIG_DSA_WITH_SHA224: Oid<'static> = oid!(2.16.840.1.101.3.4.3.1);
/// RFC 5758 §3.1 id-dsa-with-sha256.
pub const OID_NIST_SIG_DSA_WITH_SHA256: Oid<'static> = oid!(2.16.840.1.101.3.4.3.2);
/// NIST CSOR id-dsa-with-sha384.
pub const OID_NIST_SIG_DSA_WITH_SHA384: Oid<'static> = oid!(2.16.840.1.101.3.4.3.3);
/// NIST CSOR id-dsa-with-sha512.
pub const OID_NIST_SIG_DSA_WITH_SHA512: Oid<'static> = oid!(2.16.840.1.101.3.4.3.4);
/// NIST CSOR id-dsa-with-sha3-224.
pub const OID_NIST_SIG_DSA_WITH_SHA3_224: Oid<'static> = oid!(2.16.840.1.101.3.4.3.5);
/// NIST CSOR id-dsa-with-sha3-256.
pub const OID_NIST_SIG_DSA_WITH_SHA3_256: Oid<'static> = oid!(2.16.840.1.101.3.4.3.6);
/// NIST CSOR id-dsa-with-sha3-384.
pub const OID_NIST_SIG_DSA_WITH_SHA3_384: Oid<'static> = oid!(2.16.840.1.101.3.4.3.7);
/// NIST CSOR id-dsa-with-sha3-512.
pub const OID_NIST_SIG_DSA_WITH_SHA3_512: Oid<'static> = oid!(2.16.840.1.101.3.4.3.8);
/// NIST CSOR id-ecdsa-with-sha3-224.
pub const OID_NIST_SIG_ECDSA_WITH_SHA3_224: Oid<'static> = oid!(2.16.840.1.101.3.4.3.9);
/// NIST CSOR id-ecdsa-with-sha3-256.
pub const OID_NIST_SIG_ECDSA_WITH_SHA3_256: Oid<'static> = oid!(2.16.840.1.101.3.4.3.10);
/// NIST CSOR id-ecdsa-with-sha3-384.
pub const OID_NIST_SIG_ECDSA_WITH_SHA3_384: Oid<'static> = oid!(2.16.840.1.101.3.4.3.11);
/// NIST CSOR id-ecdsa-with-sha3-512.
pub const OID_NIST_SIG_ECDSA_WITH_SHA3_512: Oid<'static> = oid!(2.16.840.1.101.3.4.3.12);
/// NIST CSOR id-rsassa-pkcs1-v1_5-with-sha3-224.
pub const OID_NIST_SIG_RSA_WITH_SHA3_224: Oid<'static> = oid!(2.16.840.1.101.3.4.3.13);
/// NIST CSOR id-rsassa-pkcs1-v1_5-with-sha3-256.
pub const OID_NIST_SIG_RSA_WITH_SHA3_256: Oid<'static> = oid!(2.16.840.1.101.3.4.3.14);
/// NIST CSOR id-rsassa-pkcs1-v1_5-with-sha3-384.
pub const OID_NIST_SIG_RSA_WITH_SHA3_384: Oid<'static> = oid!(2.16.840.1.101.3.4.3.15);
/// NIST CSOR id-rsassa-pkcs1-v1_5-with-sha3-512.
pub const OID_NIST_SIG_RSA_WITH_SHA3_512: Oid<'static> = oid!(2.16.840.1.101.3.4.3.16);
/// OIW md5WithRSA (OpenSSL's `RSA-NP-MD5`).
pub const OID_OIW_MD5_WITH_RSA: Oid<'static> = oid!(1.3.14.3.2.3);
/// OIW dsaWithSHA (SHA-0; OpenSSL's `DSA-SHA`).
pub const OID_OIW_DSA_WITH_SHA: Oid<'static> = oid!(1.3.14.3.2.13);
/// OIW shaWithRSASignature (SHA-0; OpenSSL's `RSA-SHA`).
pub const OID_OIW_SHA_WITH_RSA: Oid<'static> = oid!(1.3.14.3.2.15);
/// OIW dsaWithSHA1 (OpenSSL's `DSA-SHA1-old`).
pub const OID_OIW_DSA_WITH_SHA1: Oid<'static> = oid!(1.3.14.3.2.27);
/// X.509 (1988) mdc2WithRSA, id-ea-mdc2WithRsa (OpenSSL's `RSA-MDC2`).
pub const OID_X500_MDC2_WITH_RSA: Oid<'static> = oid!(2.5.8.3.100);
/// GM/T 0006 SM2-with-SM3.
pub const OID_SM2_WITH_SM3: Oid<'static> = oid!(1.2.156.10197.1.501);
/// RFC 4491 §2.2.2 id-GostR3411-94-with-GostR3410-94.
pub const OID_SIG_GOST_R3411_94_WITH_R3410_94: Oid<'static> = oid!(1.2.643.2.2.4);
/// CryptoCom's id-GostR3411-94-with-GostR3410-94-cc (OpenSSL's objects.txt).
pub const OID_SIG_GOST_R3411_94_WITH_R3410_94_CC: Oid<'static> = oid!(1.2.643.2.9.1.3.3);
/// CryptoCom's id-GostR3411-94-with-GostR3410-2001-cc (OpenSSL's objects.txt).
pub const OID_SIG_GOST_R3411_94_WITH_R3410_2001_CC: Oid<'static> = oid!(1.2.643.2.9.1.3.4);
/// RFC 5753 §7.1.4 dhSinglePass-cofactorDH-sha1kdf-scheme.
pub const OID_KDF_COFACTOR_SHA1_SINGLE: Oid<'static> = oid!(1.3.133.16.840.63.0.3);
/// RFC 5753 §7.1.4 dhSinglePass-stdDH-sha224kdf-scheme (SEC 1).
pub const OID_KDF_SHA224_SINGLE: Oid<'static> = oid!(1.3.132.1.11.0);
/// RFC 5753 §7.1.4 dhSinglePass-stdDH-sha256kdf-scheme.
pub const OID_KDF_SHA256_SINGLE: Oid<'static> = oid!(1.3.132.1.11.1);
/// RFC 5753 §7.1.4 dhSinglePass-stdDH-sha384kdf-scheme.
pub const OID_KDF_SHA384_SINGLE: Oid<'static> = oid!(1.3.132.1.11.2);
/// RFC 5753 §7.1.4 dhSinglePass-stdDH-sha512kdf-scheme.
pub const OID_KDF_SHA512_SINGLE: Oid<'static> = oid!(1.3.132.1.11.3);
/// RFC 5753 §7.1.4 dhSinglePass-cofactorDH-sha224kdf-scheme.
pub const OID_KDF_COFACTOR_SHA224_SINGLE: Oid<'static> = oid!(1.3.132.1.14.0);
/// RFC 5753 §7.1.4 dhSinglePass-cofactorDH-sha256kdf-scheme.
pub const OID_KDF_COFACTOR_SHA256_SINGLE: Oid<'static> = oid!(1.3.132.1.14.1);
/// RFC 5753 §7.1.4 dhSinglePass-cofactorDH-sha384kdf-scheme.
pub const OID_KDF_COFACTOR_SHA384_SINGLE: Oid<'static> = oid!(1.3.132.1.14.2);
/// RFC 5753 §7.1.4 dhSinglePass-cofactorDH-sha512kdf-scheme.
pub const OID_KDF_COFACTOR_SHA512_SINGLE: Oid<'static> = oid!(1.3.132.1.14.3);
/// RFC 8017 §B.2.1 id-mgf1.
pub const OID_PKCS1_MGF1: Oid<'static> = oid!(1.2.840.113549.1.1.8);

// ---------------------------------------------------------------------------------------
// Digests

/// RFC 1320 md4.
pub const OID_HASH_MD4: Oid<'static> = oid!(1.2.840.113549.2.4);
/// RFC 1321 md5.
pub const OID_HASH_MD5: Oid<'static> = oid!(1.2.840.113549.2.5);
/// X.509 (1988) mdc2, id-ea-mdc2.
pub const OID_HASH_MDC2: Oid<'static> = oid!(2.5.8.3.101);
/// TeleTrusT ripemd160 (ISO/IEC 10118-3).
pub const OID_HASH_RIPEMD160: Oid<'static> = oid!(1.3.36.3.2.1);
/// NIST CSOR id-sha224 (RFC 5754 §2).
pub const OID_NIST_HASH_SHA224: Oid<'static> = oid!(2.16.840.1.101.3.4.2.4);
/// NIST CSOR id-sha512-224.
pub const OID_NIST_HASH_SHA512_224: Oid<'static> = oid!(2.16.840.1.101.3.4.2.5);
/// NIST CSOR id-sha512-256.
pub const OID_NIST_HASH_SHA512_256: Oid<'static> = oid!(2.16.840.1.101.3.4.2.6);
/// NIST CSOR id-sha3-224.
pub const OID_NIST_HASH_SHA3_224: Oid<'static> = oid!(2.16.840.1.101.3.4.2.7);
/// NIST CSOR id-sha3-256.
pub const OID_NIST_HASH_SHA3_256: Oid<'static> = oid!(2.16.840.1.101.3.4.2.8);
/// NIST CSOR id-sha3-384.
pub const OID_NIST_HASH_SHA3_384: Oid<'static> = oid!(2.16.840.1.101.3.4.2.9);
/// NIST CSOR id-sha3-512.
pub const OID_NIST_HASH_SHA3_512: Oid<'static> = oid!(2.16.840.1.101.3.4.2.10);
/// NIST CSOR id-shake128.
pub const OID_NIST_HASH_SHAKE128: Oid<'static> = oid!(2.16.840.1.101.3.4.2.11);
/// NIST CSOR id-shake256.
pub const OID_NIST_HASH_SHAKE256: Oid<'static> = oid!(2.16.840.1.101.3.4.2.12);
/// GM/T 0004 sm3.
pub const OID_HASH_SM3: Oid<'static> = oid!(1.2.156.10197.1.401);
/// RFC 7693 §7 id-blake2b512.
pub const OID_HASH_BLAKE2B512: Oid<'static> = oid!(1.3.6.1.4.1.1722.12.2.1.16);
/// RFC 7693 §7 id-blake2s256.
pub const OID_HASH_BLAKE2S256: Oid<'static> = oid!(1.3.6.1.4.1.1722.12.2.2.8);
/// ISO/IEC 10118-3 whirlpool.
pub const OID_HASH_WHIRLPOOL: Oid<'static> = oid!(1.0.10118.3.0.55);

// ---------------------------------------------------------------------------------------
// Elliptic curves and their fields (ANSI X9.62, SEC 2, RFC 5639)

/// ANSI X9.62 prime-field (RFC 3279 §2.3.5).
pub const OID_X962_PRIME_FIELD: Oid<'static> = oid!(1.2.840.10045.1.1);
/// ANSI X9.62 characteristic-two-field (RFC 3279 §2.3.5).
pub const OID_X962_CHARACTERISTIC_TWO_FIELD: Oid<'static> = oid!(1.2.840.10045.1.2);
/// ANSI X9.62 prime192v1 (NIST P-192).
pub const OID_EC_PRIME192V1: Oid<'static> = oid!(1.2.840.10045.3.1.1);
/// SEC 2 secp224r1 (NIST P-224).
pub const OID_EC_SECP224R1: Oid<'static> = oid!(1.3.132.0.33);
/// SEC 2 secp256k1.
pub const OID_EC_SECP256K1: Oid<'static> = oid!(1.3.132.0.10);
/// RFC 5639 §4.1 brainpoolP256r1.
pub const OID_EC_BRAINPOOL_P256R1: Oid<'static> = oid!(1.3.36.3.3.2.8.1.1.7);
/// RFC 5639 §4.1 brainpoolP384r1.
pub const OID_EC_BRAINPOOL_P384R1: Oid<'static> = oid!(1.3.36.3.3.2.8.1.1.11);
/// RFC 5639 §4.1 brainpoolP512r1.
pub const OID_EC_BRAINPOOL_P512R1: Oid<'static> = oid!(1.3.36.3.3.2.8.1.1.13);

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn read(bytes: &[u8]) -> Oid<'_> {
        Oid::new(Cow::Borrowed(bytes))
    }

    #[test]
    fn canonical_bytes_compare_as_bytes() {
        let basic_constraints = read(&[0x55, 0x1d, 0x13]);
        assert!(same(&basic_constraints, &OID_X509_EXT_BASIC_CONSTRAINTS));
        assert!(!same(&basic_constraints, &OID_X509_EXT_KEY_USAGE));
        assert!(is_one_of(
            &basic_constraints,
            &[OID_X509_EXT_KEY_USAGE, OID_X509_EXT_BASIC_CONSTRAINTS]
        ));
        assert!(!is_one_of(&basic_constraints, &[OID_X509_EXT_KEY_USAGE]));
        let table = [
            (OID_X509_EXT_KEY_USAGE, 1),
            (OID_X509_EXT_BASIC_CONSTRAINTS, 2),
        ];
        assert_eq!(lookup(&basic_constraints, &table), Some(&2));
        assert_eq!(lookup(&read(&[0x55, 0x1d, 0x14]), &table), None);
    }

    #[test]
    fn padded_or_unterminated_arcs_compare_as_their_dotted_form_reads() {
        // 2.5.29.19 with its last arc padded (0x80 0x13) or left unterminated (0x93): DER
        // forbids both, x509-parser's dotted form reads both as 2.5.29.19.
        for bytes in [&[0x55, 0x1d, 0x80, 0x13][..], &[0x55, 0x1d, 0x93]] {
            let oid = read(bytes);
            assert_eq!(
                oid.to_id_string(),
                OID_X509_EXT_BASIC_CONSTRAINTS.to_id_string()
            );
            assert!(same(&oid, &OID_X509_EXT_BASIC_CONSTRAINTS), "{bytes:02x?}");
            assert!(same(&OID_X509_EXT_BASIC_CONSTRAINTS, &oid), "{bytes:02x?}");
            assert!(same(&oid, &read(&[0x55, 0x1d, 0x80, 0x13])));
            let table = [(OID_X509_EXT_BASIC_CONSTRAINTS, ())];
            assert_eq!(lookup(&oid, &table), Some(&()));
            assert!(!same(&oid, &OID_X509_EXT_KEY_USAGE));
        }
    }
}
