//! OpenSSL 3's certificate verification codes, with the numbers and texts exactly as
//! `openssl s_client` and `openssl verify` print them (include/openssl/x509_vfy.h and
//! crypto/x509/x509_txt.c of OpenSSL 3.0, the version Debian 12 and most gateways ship).
//!
//! Every IoT Edge troubleshooting guide tells the technician to look for
//! `Verify return code: 0 (ok)`, so these are the words edgeprobe speaks.

use std::fmt;

use serde::{Serialize, Serializer};

/// An OpenSSL `X509_V_*` code. Only the codes OpenSSL's default verification (as run by
/// `s_client` and by TLS clients built on OpenSSL) can produce for a server chain are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VerifyCode {
    Ok,
    UnableToGetIssuerCert,
    UnableToDecodeIssuerPublicKey,
    CertSignatureFailure,
    CertNotYetValid,
    CertHasExpired,
    ErrorInCertNotBeforeField,
    ErrorInCertNotAfterField,
    DepthZeroSelfSignedCert,
    SelfSignedCertInChain,
    UnableToGetIssuerCertLocally,
    UnableToVerifyLeafSignature,
    CertChainTooLong,
    PathLengthExceeded,
    InvalidPurpose,
    KeyUsageNoCertSign,
    UnhandledCriticalExtension,
    HostnameMismatch,
    IpAddressMismatch,
    EeKeyTooSmall,
    CaKeyTooSmall,
    CaMdTooWeak,
    UnsupportedSignatureAlgorithm,
    InvalidCa,
}

impl VerifyCode {
    /// The number OpenSSL 3 prints (`Verify return code: N`).
    pub fn number(self) -> u32 {
        match self {
            VerifyCode::Ok => 0,
            VerifyCode::UnableToGetIssuerCert => 2,
            VerifyCode::UnableToDecodeIssuerPublicKey => 6,
            VerifyCode::CertSignatureFailure => 7,
            VerifyCode::CertNotYetValid => 9,
            VerifyCode::CertHasExpired => 10,
            VerifyCode::ErrorInCertNotBeforeField => 13,
            VerifyCode::ErrorInCertNotAfterField => 14,
            VerifyCode::DepthZeroSelfSignedCert => 18,
            VerifyCode::SelfSignedCertInChain => 19,
            VerifyCode::UnableToGetIssuerCertLocally => 20,
            VerifyCode::UnableToVerifyLeafSignature => 21,
            VerifyCode::CertChainTooLong => 22,
            VerifyCode::PathLengthExceeded => 25,
            VerifyCode::InvalidPurpose => 26,
            VerifyCode::KeyUsageNoCertSign => 32,
            VerifyCode::UnhandledCriticalExtension => 34,
            VerifyCode::HostnameMismatch => 62,
            VerifyCode::IpAddressMismatch => 64,
            VerifyCode::EeKeyTooSmall => 66,
            VerifyCode::CaKeyTooSmall => 67,
            VerifyCode::CaMdTooWeak => 68,
            VerifyCode::UnsupportedSignatureAlgorithm => 76,
            // OpenSSL 3.0 renumbered X509_V_ERR_INVALID_CA from 24 to 79.
            VerifyCode::InvalidCa => 79,
        }
    }

    /// The text OpenSSL 3.0 prints for the code (`X509_verify_cert_error_string`).
    pub fn text(self) -> &'static str {
        match self {
            VerifyCode::Ok => "ok",
            VerifyCode::UnableToGetIssuerCert => "unable to get issuer certificate",
            VerifyCode::UnableToDecodeIssuerPublicKey => "unable to decode issuer public key",
            VerifyCode::CertSignatureFailure => "certificate signature failure",
            VerifyCode::CertNotYetValid => "certificate is not yet valid",
            VerifyCode::CertHasExpired => "certificate has expired",
            VerifyCode::ErrorInCertNotBeforeField => {
                "format error in certificate's notBefore field"
            }
            VerifyCode::ErrorInCertNotAfterField => "format error in certificate's notAfter field",
            VerifyCode::DepthZeroSelfSignedCert => "self-signed certificate",
            VerifyCode::SelfSignedCertInChain => "self-signed certificate in certificate chain",
            VerifyCode::UnableToGetIssuerCertLocally => "unable to get local issuer certificate",
            VerifyCode::UnableToVerifyLeafSignature => "unable to verify the first certificate",
            VerifyCode::CertChainTooLong => "certificate chain too long",
            VerifyCode::PathLengthExceeded => "path length constraint exceeded",
            VerifyCode::InvalidPurpose => "unsuitable certificate purpose",
            VerifyCode::KeyUsageNoCertSign => "key usage does not include certificate signing",
            VerifyCode::UnhandledCriticalExtension => "unhandled critical extension",
            VerifyCode::HostnameMismatch => "hostname mismatch",
            VerifyCode::IpAddressMismatch => "IP address mismatch",
            VerifyCode::EeKeyTooSmall => "EE certificate key too weak",
            VerifyCode::CaKeyTooSmall => "CA certificate key too weak",
            VerifyCode::CaMdTooWeak => "CA signature digest algorithm too weak",
            VerifyCode::UnsupportedSignatureAlgorithm => {
                "Cannot find certificate signature algorithm"
            }
            VerifyCode::InvalidCa => "invalid CA certificate",
        }
    }

    pub fn is_ok(self) -> bool {
        self == VerifyCode::Ok
    }

    /// `openssl verify` keeps going after these errors (apps/verify.c callback; 26 observed
    /// with OpenSSL 3.0.19), so its final
    /// verdict can name a later error; every other error stops it.
    pub fn openssl_verify_continues(self) -> bool {
        matches!(
            self,
            VerifyCode::CertHasExpired
                | VerifyCode::DepthZeroSelfSignedCert
                | VerifyCode::InvalidCa
                | VerifyCode::InvalidPurpose
                | VerifyCode::PathLengthExceeded
                | VerifyCode::UnhandledCriticalExtension
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
    }
}
