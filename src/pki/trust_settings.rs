//! TEMPORARY shim until helper/trustnc lands: OpenSSL's X509_check_trust (x509_trust.c).

use super::verify::Purpose;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    pub trust: Vec<String>,
    pub reject: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustId {
    Default,
    Compat,
    SslClient,
    SslServer,
    Email,
    ObjectSign,
    OcspSign,
    OcspRequest,
    Tsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustVerdict {
    Trusted,
    Rejected,
    Untrusted,
}

pub fn trust_for_purpose(purpose: Purpose) -> TrustId {
    match purpose {
        Purpose::SslClient => TrustId::SslClient,
        Purpose::SslServer | Purpose::NsSslServer => TrustId::SslServer,
        Purpose::SmimeSign | Purpose::SmimeEncrypt => TrustId::Email,
        Purpose::CrlSign | Purpose::OcspHelper => TrustId::Compat,
        Purpose::Any => TrustId::Default,
        Purpose::TimestampSign => TrustId::Tsa,
    }
}

const ANY_EKU: &str = "2.5.29.37.0";

pub fn check_trust(
    settings: Option<&TrustSettings>,
    self_signed: bool,
    trust: TrustId,
    no_self_signed_compat: bool,
) -> TrustVerdict {
    let (oid, ss_compat, any_eku) = match trust {
        TrustId::Default => (ANY_EKU, true, false),
        TrustId::Compat => {
            return if !no_self_signed_compat && self_signed {
                TrustVerdict::Trusted
            } else {
                TrustVerdict::Untrusted
            };
        }
        TrustId::SslClient => ("1.3.6.1.5.5.7.3.2", true, true),
        TrustId::SslServer => ("1.3.6.1.5.5.7.3.1", true, true),
        TrustId::Email => ("1.3.6.1.5.5.7.3.4", true, true),
        TrustId::ObjectSign => ("1.3.6.1.5.5.7.3.3", true, true),
        TrustId::OcspSign => ("1.3.6.1.5.5.7.3.9", false, false),
        TrustId::OcspRequest => ("1.3.6.1.5.5.7.48.1", false, false),
        TrustId::Tsa => ("1.3.6.1.5.5.7.3.8", true, true),
    };
    let matches = |candidate: &String| candidate == oid || (any_eku && candidate == ANY_EKU);
    if let Some(settings) = settings {
        if settings.reject.iter().any(matches) {
            return TrustVerdict::Rejected;
        }
        if !settings.trust.is_empty() {
            return if settings.trust.iter().any(matches) {
                TrustVerdict::Trusted
            } else {
                TrustVerdict::Rejected
            };
        }
    }
    if ss_compat && !no_self_signed_compat && self_signed {
        TrustVerdict::Trusted
    } else {
        TrustVerdict::Untrusted
    }
}
