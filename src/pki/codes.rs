//! OpenSSL 3's certificate verification codes, with the numbers and texts exactly as
//! `openssl s_client` and `openssl verify` print them (include/openssl/x509_vfy.h and
//! crypto/x509/x509_txt.c of OpenSSL 3.0, the version Debian 12 and most gateways ship).
//!
//! Every IoT Edge troubleshooting guide tells the technician to look for
//! `Verify return code: 0 (ok)`, so these are the words edgeprobe speaks.

use std::fmt;

use serde::{Serialize, Serializer};

/// Declares [`VerifyCode`] with every `X509_V_*` code of OpenSSL 3.0's x509_vfy.h, its number
/// and its `X509_verify_cert_error_string` text (x509_txt.c), in one table.
macro_rules! verify_codes {
    ($($variant:ident = $number:literal => $text:literal,)*) => {
        /// An OpenSSL `X509_V_*` code: the whole OpenSSL 3.0 set, so every verdict OpenSSL can
        /// reach has its own value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum VerifyCode {
            $($variant,)*
        }

        impl VerifyCode {
            /// Every code, in number order.
            pub const ALL: &'static [VerifyCode] = &[$(VerifyCode::$variant,)*];

            /// The number OpenSSL 3 prints (`Verify return code: N`).
            pub fn number(self) -> u32 {
                match self {
                    $(VerifyCode::$variant => $number,)*
                }
            }

            /// The text OpenSSL 3.0 prints for the code (`X509_verify_cert_error_string`).
            pub fn text(self) -> &'static str {
                match self {
                    $(VerifyCode::$variant => $text,)*
                }
            }

            /// The code with this number, if OpenSSL 3.0 defines one.
            pub fn from_number(number: u32) -> Option<VerifyCode> {
                match number {
                    $($number => Some(VerifyCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

verify_codes! {
    Ok = 0 => "ok",
    Unspecified = 1 => "unspecified certificate verification error",
    UnableToGetIssuerCert = 2 => "unable to get issuer certificate",
    UnableToGetCrl = 3 => "unable to get certificate CRL",
    UnableToDecryptCertSignature = 4 => "unable to decrypt certificate's signature",
    UnableToDecryptCrlSignature = 5 => "unable to decrypt CRL's signature",
    UnableToDecodeIssuerPublicKey = 6 => "unable to decode issuer public key",
    CertSignatureFailure = 7 => "certificate signature failure",
    CrlSignatureFailure = 8 => "CRL signature failure",
    CertNotYetValid = 9 => "certificate is not yet valid",
    CertHasExpired = 10 => "certificate has expired",
    CrlNotYetValid = 11 => "CRL is not yet valid",
    CrlHasExpired = 12 => "CRL has expired",
    ErrorInCertNotBeforeField = 13 => "format error in certificate's notBefore field",
    ErrorInCertNotAfterField = 14 => "format error in certificate's notAfter field",
    ErrorInCrlLastUpdateField = 15 => "format error in CRL's lastUpdate field",
    ErrorInCrlNextUpdateField = 16 => "format error in CRL's nextUpdate field",
    OutOfMem = 17 => "out of memory",
    DepthZeroSelfSignedCert = 18 => "self-signed certificate",
    SelfSignedCertInChain = 19 => "self-signed certificate in certificate chain",
    UnableToGetIssuerCertLocally = 20 => "unable to get local issuer certificate",
    UnableToVerifyLeafSignature = 21 => "unable to verify the first certificate",
    CertChainTooLong = 22 => "certificate chain too long",
    CertRevoked = 23 => "certificate revoked",
    NoIssuerPublicKey = 24 => "issuer certificate doesn't have a public key",
    PathLengthExceeded = 25 => "path length constraint exceeded",
    InvalidPurpose = 26 => "unsuitable certificate purpose",
    CertUntrusted = 27 => "certificate not trusted",
    CertRejected = 28 => "certificate rejected",
    SubjectIssuerMismatch = 29 => "subject issuer mismatch",
    AkidSkidMismatch = 30 => "authority and subject key identifier mismatch",
    AkidIssuerSerialMismatch = 31 => "authority and issuer serial number mismatch",
    KeyUsageNoCertSign = 32 => "key usage does not include certificate signing",
    UnableToGetCrlIssuer = 33 => "unable to get CRL issuer certificate",
    UnhandledCriticalExtension = 34 => "unhandled critical extension",
    KeyUsageNoCrlSign = 35 => "key usage does not include CRL signing",
    UnhandledCriticalCrlExtension = 36 => "unhandled critical CRL extension",
    InvalidNonCa = 37 => "invalid non-CA certificate (has CA markings)",
    ProxyPathLengthExceeded = 38 => "proxy path length constraint exceeded",
    KeyUsageNoDigitalSignature = 39 => "key usage does not include digital signature",
    ProxyCertificatesNotAllowed = 40 => "proxy certificates not allowed, please set the appropriate flag",
    InvalidExtension = 41 => "invalid or inconsistent certificate extension",
    InvalidPolicyExtension = 42 => "invalid or inconsistent certificate policy extension",
    NoExplicitPolicy = 43 => "no explicit policy",
    DifferentCrlScope = 44 => "different CRL scope",
    UnsupportedExtensionFeature = 45 => "unsupported extension feature",
    UnnestedResource = 46 => "RFC 3779 resource not subset of parent's resources",
    PermittedViolation = 47 => "permitted subtree violation",
    ExcludedViolation = 48 => "excluded subtree violation",
    SubtreeMinmax = 49 => "name constraints minimum and maximum not supported",
    ApplicationVerification = 50 => "application verification failure",
    UnsupportedConstraintType = 51 => "unsupported name constraint type",
    UnsupportedConstraintSyntax = 52 => "unsupported or invalid name constraint syntax",
    UnsupportedNameSyntax = 53 => "unsupported or invalid name syntax",
    CrlPathValidationError = 54 => "CRL path validation error",
    PathLoop = 55 => "path loop",
    SuiteBInvalidVersion = 56 => "Suite B: certificate version invalid",
    SuiteBInvalidAlgorithm = 57 => "Suite B: invalid public key algorithm",
    SuiteBInvalidCurve = 58 => "Suite B: invalid ECC curve",
    SuiteBInvalidSignatureAlgorithm = 59 => "Suite B: invalid signature algorithm",
    SuiteBLosNotAllowed = 60 => "Suite B: curve not allowed for this LOS",
    SuiteBCannotSignP384WithP256 = 61 => "Suite B: cannot sign P-384 with P-256",
    HostnameMismatch = 62 => "hostname mismatch",
    EmailMismatch = 63 => "email address mismatch",
    IpAddressMismatch = 64 => "IP address mismatch",
    DaneNoMatch = 65 => "no matching DANE TLSA records",
    EeKeyTooSmall = 66 => "EE certificate key too weak",
    CaKeyTooSmall = 67 => "CA certificate key too weak",
    CaMdTooWeak = 68 => "CA signature digest algorithm too weak",
    InvalidCall = 69 => "invalid certificate verification context",
    StoreLookup = 70 => "issuer certificate lookup error",
    NoValidScts = 71 => "Certificate Transparency required, but no valid SCTs found",
    ProxySubjectNameViolation = 72 => "proxy subject name violation",
    OcspVerifyNeeded = 73 => "OCSP verification needed",
    OcspVerifyFailed = 74 => "OCSP verification failed",
    OcspCertUnknown = 75 => "OCSP unknown cert",
    UnsupportedSignatureAlgorithm = 76 => "Cannot find certificate signature algorithm",
    SignatureAlgorithmMismatch = 77 => "subject signature algorithm and issuer public key algorithm mismatch",
    SignatureAlgorithmInconsistency = 78 => "cert info signature and signature algorithm mismatch",
    InvalidCa = 79 => "invalid CA certificate",
    PathlenInvalidForNonCa = 80 => "Path length invalid for non-CA cert",
    PathlenWithoutKuKeyCertSign = 81 => "Path length given without key usage keyCertSign",
    KuKeyCertSignInvalidForNonCa = 82 => "Key usage keyCertSign invalid for non-CA cert",
    IssuerNameEmpty = 83 => "Issuer name empty",
    SubjectNameEmpty = 84 => "Subject name empty",
    MissingAuthorityKeyIdentifier = 85 => "Missing Authority Key Identifier",
    MissingSubjectKeyIdentifier = 86 => "Missing Subject Key Identifier",
    EmptySubjectAltName = 87 => "Empty Subject Alternative Name extension",
    EmptySubjectSanNotCritical = 88 => "Subject empty and Subject Alt Name extension not critical",
    CaBconsNotCritical = 89 => "Basic Constraints of CA cert not marked critical",
    AuthorityKeyIdentifierCritical = 90 => "Authority Key Identifier marked critical",
    SubjectKeyIdentifierCritical = 91 => "Subject Key Identifier marked critical",
    CaCertMissingKeyUsage = 92 => "CA cert does not include key usage extension",
    ExtensionsRequireVersion3 = 93 => "Using cert extension requires at least X509v3",
    EcKeyExplicitParams = 94 => "Certificate public key has explicit ECC parameters",
}

impl VerifyCode {
    pub fn is_ok(self) -> bool {
        self == VerifyCode::Ok
    }

    /// `openssl verify` keeps going after these errors (the callback in apps/verify.c
    /// pretends they are fine so the rest of the chain is still checked), so its final verdict
    /// can name a later error; every other error stops it.
    pub fn openssl_verify_continues(self) -> bool {
        use VerifyCode::*;
        matches!(
            self,
            NoExplicitPolicy
                | CertHasExpired
                | DepthZeroSelfSignedCert
                | InvalidCa
                | InvalidNonCa
                | PathLengthExceeded
                | CrlHasExpired
                | CrlNotYetValid
                | UnhandledCriticalExtension
                | InvalidPurpose
                | PathlenInvalidForNonCa
                | PathlenWithoutKuKeyCertSign
                | CaBconsNotCritical
                | CaCertMissingKeyUsage
                | KuKeyCertSignInvalidForNonCa
                | IssuerNameEmpty
                | SubjectNameEmpty
                | EmptySubjectSanNotCritical
                | EmptySubjectAltName
                | SignatureAlgorithmInconsistency
                | AuthorityKeyIdentifierCritical
                | SubjectKeyIdentifierCritical
                | MissingAuthorityKeyIdentifier
                | MissingSubjectKeyIdentifier
                | ExtensionsRequireVersion3
        )
    }
}

impl fmt::Display for VerifyCode {
    /// `20 (unable to get local issuer certificate)`, the form after `Verify return code:`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.number(), self.text())
    }
}

impl Serialize for VerifyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.number())
    }
}

/// In JSON a code is its number, as `Verify return code: N` prints it.
impl schemars::JsonSchema for VerifyCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "VerifyCode".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let last = VerifyCode::ALL.len() - 1;
        schemars::json_schema!({
            "type": "integer",
            "minimum": 0,
            "maximum": last,
            "description": "OpenSSL 3's X509_V_* verify code, as `openssl s_client` prints it in `Verify return code: N`; 0 is ok.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_texts_match_openssl_3() {
        assert_eq!(
            VerifyCode::UnableToGetIssuerCertLocally.to_string(),
            "20 (unable to get local issuer certificate)"
        );
        assert_eq!(
            VerifyCode::UnableToVerifyLeafSignature.to_string(),
            "21 (unable to verify the first certificate)"
        );
        assert_eq!(VerifyCode::Ok.to_string(), "0 (ok)");
        assert_eq!(VerifyCode::InvalidCa.number(), 79);
        assert_eq!(
            VerifyCode::DepthZeroSelfSignedCert.text(),
            "self-signed certificate"
        );
        assert_eq!(VerifyCode::ALL.len(), 95);
        for (index, code) in VerifyCode::ALL.iter().enumerate() {
            assert_eq!(code.number() as usize, index, "{code:?}");
            assert_eq!(VerifyCode::from_number(code.number()), Some(*code));
        }
        assert_eq!(
            VerifyCode::EcKeyExplicitParams.to_string(),
            "94 (Certificate public key has explicit ECC parameters)"
        );
    }
}
