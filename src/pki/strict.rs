//! What strict TLS clients conclude about a chain OpenSSL may accept: rustls/webpki's verdict,
//! computed with webpki itself, and which other client families share each objection.
//!
//! OpenSSL-based device SDKs (C, Python, Node) accept a name found only in the subject CN, and,
//! at security level 0, SHA-1 signatures; OpenSSL also accepts a CA certificate as the server
//! certificate and chains of up to 100 certificates. Clients on other stacks do not. edgeprobe
//! reports OpenSSL's code and, with this verdict, warns which clients will refuse the gateway.
//! Only documented behaviour is claimed:
//! - Go no longer reads a host name from the CN of a certificate without SANs since 1.15 (Go
//!   1.15 release notes, crypto/x509; the GODEBUG x509ignoreCN=0 way back went in 1.17). .NET
//!   still falls back to the CN when there is no SAN (dotnet/corefx#34061), so it is not named.
//! - Go rejects SHA-1 certificate signatures since 1.18 (Go 1.18 release notes,
//!   golang/go#41682), except on self-signed roots, whose signatures nobody checks.
//! - ring, webpki's crypto, verifies RSA signatures only with keys of 2048 bits or more, which
//!   is also what OpenSSL's security level 2 demands (112 bits, SSL_CTX_set_security_level(3)):
//!   Debian and Ubuntu build OpenSSL with level 2 as the default
//!   (`-DOPENSSL_TLS_SECURITY_LEVEL=2` in `openssl version -a`), edgeprobe judges at upstream's 1.
//! - webpki refuses a CA certificate as end entity (`Error::CaUsedAsEndEntity`) and more than 6
//!   intermediates (`MAX_SUB_CA_COUNT`, `Error::MaximumPathDepthExceeded`).

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::VerifyCode;
use super::oids::{
    self, OID_PKCS1_SHA1WITHRSA, OID_SHA1_WITH_RSA, OID_SIG_DSA_WITH_SHA1, OID_SIG_ECDSA_WITH_SHA1,
};

/// What a strict client (rustls/webpki) concluded about a chain and a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum StrictVerdict {
    Accepted,
    Rejected {
        objection: StrictObjection,
        /// One line: what webpki objects to, naming the certificate or name concerned.
        reason: String,
        /// The objection is about the name (the hostname check's business), not the chain.
        name_mismatch: bool,
        /// The client families documented to reject it, e.g. `["rustls/webpki", "Go 1.15+"]`.
        rejected_by: &'static [&'static str],
    },
}

impl StrictVerdict {
    /// Both verifiers' verdicts in one sentence, given OpenSSL's on the same chain (`openssl`,
    /// [`VerifyCode::Ok`] when it accepts): `OpenSSL accepts this chain, but rustls/webpki and
    /// Go 1.15+ reject it: <reason>`, `OpenSSL rejects this chain (20 (...)), but rustls/webpki
    /// accepts it`, or, when both reject, that they agree. `None` when both accept.
    pub fn compared_with(&self, openssl: VerifyCode) -> Option<String> {
        match self {
            StrictVerdict::Accepted if openssl.is_ok() => None,
            StrictVerdict::Accepted => Some(format!(
                "OpenSSL rejects this chain ({openssl}), but rustls/webpki accepts it"
            )),
            StrictVerdict::Rejected {
                reason,
                rejected_by,
                ..
            } => {
                let clients = rejected_by.join(" and ");
                let verb = if rejected_by.len() > 1 {
                    "reject"
                } else {
                    "rejects"
                };
                Some(if openssl.is_ok() {
                    format!("OpenSSL accepts this chain, but {clients} {verb} it: {reason}")
                } else {
                    format!(
                        "OpenSSL rejects this chain ({openssl}), and {clients} {verb} it too: {reason}"
                    )
                })
            }
        }
    }

    /// Whether the two verdicts differ: worth a line of its own.
    pub fn disagrees_with(&self, openssl: VerifyCode) -> bool {
        matches!(self, StrictVerdict::Accepted) != openssl.is_ok()
    }
}

/// Why webpki rejected the chain, in the categories where client families are known to differ
/// from OpenSSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StrictObjection {
    /// The name is only in the subject CN; strict clients read the subjectAltName only
    /// (RFC 6125 §6.4.4).
    CommonNameOnly,
    /// A certificate below the trust anchor is signed with SHA-1.
    Sha1Signature,
    /// The server certificate is a CA certificate (basicConstraints CA:TRUE).
    CaAsServerCertificate,
    /// More than 6 intermediate certificates.
    TooManyIntermediates,
    /// An issuing certificate has an RSA key under 2048 bits.
    WeakRsaKey,
    /// The certificate does not carry the name at all (OpenSSL says 62 or 64 too).
    NameMismatch,
    /// Anything else webpki rejects (the reason says what).
    Other,
}

impl StrictObjection {
    /// The client families documented to reject a chain for this reason (see the module doc).
    pub fn rejected_by(self) -> &'static [&'static str] {
        match self {
            StrictObjection::CommonNameOnly => &["rustls/webpki", "Go 1.15+"],
            StrictObjection::Sha1Signature => &["rustls/webpki", "Go 1.18+"],
            StrictObjection::WeakRsaKey => &[
                "rustls/webpki",
                "OpenSSL at security level 2 (the Debian and Ubuntu default)",
            ],
            StrictObjection::CaAsServerCertificate
            | StrictObjection::TooManyIntermediates
            | StrictObjection::NameMismatch
            | StrictObjection::Other => &["rustls/webpki"],
        }
    }
}

/// The ring provider's algorithms, as rustls clients built with it verify certificates; each
/// asks the signature memo first, where OpenSSL's verdict on the same chain leaves its answers.
fn verification_algorithms()
-> &'static [&'static dyn rustls_pki_types::SignatureVerificationAlgorithm] {
    super::signature_memo::algorithms()
}

/// webpki's verdict on `presented` (leaf first) against `roots` at `now`, for `server_name`
/// when given: exactly what rustls' `WebPkiServerVerifier` decides (chain for the serverAuth
/// usage, then the name). `None` when no root is usable as a webpki trust anchor.
pub fn strict_verdict(
    presented: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
    server_name: Option<&ServerName<'_>>,
    now: UnixTime,
) -> Option<StrictVerdict> {
    let path = strict_path(presented, roots, now)?;
    Some(strict_verdict_for_name(path, presented, roots, server_name))
}

/// The part of [`strict_verdict`] that does not depend on the name: webpki's path from the
/// leaf to one of `roots` (signatures, validity, usage, path length). The same for every name a
/// chain is asked about, so a fleet of gateways presenting one chain needs it once. `None`
/// without anchors webpki can use, or without a leaf.
pub fn strict_path(
    presented: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
    now: UnixTime,
) -> Option<Result<(), webpki::Error>> {
    let anchors: Vec<_> = roots
        .iter()
        .filter_map(|root| webpki::anchor_from_trusted_cert(root).ok())
        .collect();
    if anchors.is_empty() {
        return None;
    }
    let (leaf_der, intermediates) = presented.split_first()?;
    Some(webpki::EndEntityCert::try_from(leaf_der).and_then(|leaf| {
        leaf.verify_for_usage(
            verification_algorithms(),
            &anchors,
            intermediates,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map(|_| ())
    }))
}

/// [`strict_verdict`] from the chain's [`strict_path`]: the name is judged only when the path
/// is good, as webpki's own order has it.
pub fn strict_verdict_for_name(
    path: Result<(), webpki::Error>,
    presented: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
    server_name: Option<&ServerName<'_>>,
) -> StrictVerdict {
    let result = path.and_then(|()| match (server_name, presented.first()) {
        (Some(name), Some(leaf_der)) => webpki::EndEntityCert::try_from(leaf_der)
            .and_then(|leaf| leaf.verify_is_valid_for_subject_name(name)),
        _ => Ok(()),
    });
    match result {
        Ok(()) => StrictVerdict::Accepted,
        Err(error) => {
            let (objection, reason) = classify(&error, presented, roots, server_name);
            StrictVerdict::Rejected {
                objection,
                reason,
                name_mismatch: matches!(
                    objection,
                    StrictObjection::CommonNameOnly | StrictObjection::NameMismatch
                ),
                rejected_by: objection.rejected_by(),
            }
        }
    }
}

/// `time` as webpki's clock; times before 1970 (never a real "now") become the epoch.
pub fn unix_time(time: time::OffsetDateTime) -> UnixTime {
    let seconds = u64::try_from(time.unix_timestamp()).unwrap_or(0);
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds))
}

/// `name` as a TLS server name: a DNS name or an IP address (brackets and one trailing dot
/// removed). `None` when it is neither.
pub fn server_name(name: &str) -> Option<ServerName<'static>> {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    let bare = bare.strip_suffix('.').unwrap_or(bare);
    ServerName::try_from(bare.to_owned()).ok()
}

fn classify(
    error: &webpki::Error,
    presented: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
    server_name: Option<&ServerName<'_>>,
) -> (StrictObjection, String) {
    use webpki::Error;
    let name = server_name.map(|name| name.to_str().into_owned());
    let name = name.as_deref().unwrap_or("the name");
    #[allow(deprecated)]
    match error {
        Error::CertNotValidForName(_) => {
            if matches!(server_name, Some(ServerName::DnsName(_)))
                && presented
                    .first()
                    .is_some_and(|leaf| !has_dns_subject_alt_name(leaf))
            {
                (
                    StrictObjection::CommonNameOnly,
                    format!(
                        "`{name}` is only in the subject CN: the certificate has no subjectAltName DNS entry, and strict clients ignore the CN (RFC 6125 §6.4.4)"
                    ),
                )
            } else {
                (
                    StrictObjection::NameMismatch,
                    format!("the certificate is not valid for `{name}`"),
                )
            }
        }
        Error::InvalidSignatureForPublicKey
        | Error::UnsupportedSignatureAlgorithm
        | Error::UnsupportedSignatureAlgorithmContext(_)
        | Error::UnsupportedSignatureAlgorithmForPublicKey
        | Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            signature_objection(error, presented, roots)
        }
        Error::CaUsedAsEndEntity => (
            StrictObjection::CaAsServerCertificate,
            "the server certificate is a CA certificate (basicConstraints CA:TRUE); serve a server certificate issued by that CA instead".to_owned(),
        ),
        Error::MaximumPathDepthExceeded => (
            StrictObjection::TooManyIntermediates,
            "the chain has more than 6 intermediate certificates, webpki's limit".to_owned(),
        ),
        other => (StrictObjection::Other, describe_webpki_error(other)),
    }
}

/// Why webpki could not verify a signature: an RSA issuer key under 2048 bits (ring verifies
/// RSA only from 2048 bits, and webpki reports that as a bad signature), a SHA-1 signature, or
/// something else.
fn signature_objection(
    error: &webpki::Error,
    presented: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
) -> (StrictObjection, String) {
    // Issuer keys: every certificate but the leaf, and the roots.
    if let Some((subject, bits)) = presented
        .iter()
        .skip(1)
        .chain(roots)
        .find_map(|certificate| small_rsa_key(certificate))
    {
        return (
            StrictObjection::WeakRsaKey,
            format!("`{subject}` has a {bits}-bit RSA key; strict clients need 2048 bits"),
        );
    }
    // The trust anchor's own signature is never checked, so only the others count.
    if let Some(subject) = presented
        .iter()
        .filter(|certificate| {
            !roots
                .iter()
                .any(|root| root.as_ref() == certificate.as_ref())
        })
        .find_map(|certificate| sha1_signed_subject(certificate))
    {
        return (
            StrictObjection::Sha1Signature,
            format!("`{subject}` is signed with SHA-1"),
        );
    }
    (StrictObjection::Other, describe_webpki_error(error))
}

/// webpki's error in words (its `Display` is its `Debug`).
fn describe_webpki_error(error: &webpki::Error) -> String {
    use webpki::Error;
    #[allow(deprecated)]
    let text = match error {
        Error::UnknownIssuer => "no path from the certificate to a trusted root",
        Error::CertExpired { .. } | Error::InvalidCertValidity => "a certificate has expired",
        Error::CertNotValidYet { .. } => "a certificate is not valid yet",
        Error::InvalidSignatureForPublicKey => "a signature does not verify with its issuer's key",
        Error::UnsupportedSignatureAlgorithm
        | Error::UnsupportedSignatureAlgorithmContext(_)
        | Error::UnsupportedSignatureAlgorithmForPublicKey
        | Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a certificate uses a signature algorithm (or key) rustls does not accept"
        }
        Error::EndEntityUsedAsCa => "an issuing certificate is not a CA (basicConstraints)",
        Error::PathLenConstraintViolated => "a CA's pathLenConstraint is exceeded",
        Error::RequiredEkuNotFound | Error::RequiredEkuNotFoundContext(_) => {
            "the server certificate's extendedKeyUsage does not allow serverAuth"
        }
        Error::UnsupportedCriticalExtension => {
            "a certificate has a critical extension webpki does not know"
        }
        Error::BadDer | Error::BadDerTime | Error::TrailingData(_) => {
            "a certificate's encoding is not valid DER"
        }
        other => return format!("{other:?}"),
    };
    text.to_owned()
}

fn parse<'a>(der: &'a CertificateDer<'_>) -> Option<X509Certificate<'a>> {
    X509Certificate::from_der(der.as_ref())
        .ok()
        .map(|(_, certificate)| certificate)
}

fn has_dns_subject_alt_name(der: &CertificateDer<'_>) -> bool {
    parse(der).is_some_and(|certificate| {
        certificate.extensions().iter().any(|extension| {
            matches!(
                extension.parsed_extension(),
                ParsedExtension::SubjectAlternativeName(names)
                    if names.general_names.iter().any(|name| matches!(name, GeneralName::DNSName(_)))
            )
        })
    })
}

/// The subject and key size of `der` when its key is RSA under 2048 bits.
fn small_rsa_key(der: &CertificateDer<'_>) -> Option<(String, usize)> {
    let certificate = parse(der)?;
    match certificate.public_key().parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(rsa) if rsa.key_size() < 2048 => Some((
            super::openssl_oneline(certificate.subject()),
            rsa.key_size(),
        )),
        _ => None,
    }
}

/// The subject of `der` when it is signed with SHA-1 (RSA, ECDSA or DSA).
fn sha1_signed_subject(der: &CertificateDer<'_>) -> Option<String> {
    let certificate = parse(der)?;
    let sha1 = oids::is_one_of(
        &certificate.signature_algorithm.algorithm,
        &[
            OID_PKCS1_SHA1WITHRSA,
            OID_SHA1_WITH_RSA, // sha1WithRSASignature (OIW)
            OID_SIG_ECDSA_WITH_SHA1,
            OID_SIG_DSA_WITH_SHA1,
        ],
    );
    sha1.then(|| super::openssl_oneline(certificate.subject()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::pki::{CertificateSpec, Validity, issue, issue_ca};
    use time::macros::datetime;

    const NOW: time::OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
    const HOST: &str = "gw.strict.test";

    fn validity() -> Validity {
        Validity::around(NOW, 1, 90).expect("validity")
    }

    fn verdict(spec: &CertificateSpec) -> StrictVerdict {
        let root = issue_ca("Strict Root", validity(), None).expect("root");
        let leaf = issue(spec, Some(&root)).expect("leaf");
        let name = server_name(HOST).expect("a DNS name");
        strict_verdict(&[leaf.der], &[root.der], Some(&name), unix_time(NOW))
            .expect("a usable root")
    }

    #[test]
    fn a_server_certificate_with_its_san_is_accepted() {
        assert_eq!(
            verdict(&CertificateSpec::tls_server(HOST, validity())),
            StrictVerdict::Accepted
        );
        assert_eq!(StrictVerdict::Accepted.compared_with(VerifyCode::Ok), None);
    }

    #[test]
    fn a_cn_only_name_names_rustls_and_go() {
        let verdict =
            verdict(&CertificateSpec::tls_server(HOST, validity()).without_subject_alt_names());
        let StrictVerdict::Rejected {
            objection,
            name_mismatch,
            ..
        } = &verdict
        else {
            panic!("accepted: {verdict:?}");
        };
        assert_eq!(*objection, StrictObjection::CommonNameOnly);
        assert!(*name_mismatch);
        let warning = verdict.compared_with(VerifyCode::Ok).expect("a warning");
        assert!(
            warning.contains("rustls/webpki and Go 1.15+ reject it") && warning.contains(HOST),
            "{warning}"
        );
    }

    #[test]
    fn a_ca_as_server_certificate_names_rustls_only() {
        let spec = CertificateSpec::certificate_authority(HOST, validity()).with_dns_name(HOST);
        let verdict = verdict(&spec);
        assert!(
            matches!(
                verdict,
                StrictVerdict::Rejected {
                    objection: StrictObjection::CaAsServerCertificate,
                    name_mismatch: false,
                    ..
                }
            ),
            "{verdict:?}"
        );
        let warning = verdict.compared_with(VerifyCode::Ok).expect("a warning");
        assert!(warning.contains("rustls/webpki rejects it"), "{warning}");
    }

    #[test]
    fn a_wrong_name_is_a_name_mismatch() {
        let verdict = verdict(&CertificateSpec::tls_server(
            "other.strict.test",
            validity(),
        ));
        assert!(
            matches!(
                verdict,
                StrictVerdict::Rejected {
                    objection: StrictObjection::NameMismatch,
                    name_mismatch: true,
                    ..
                }
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn no_usable_root_gives_no_verdict() {
        let leaf = issue(&CertificateSpec::tls_server(HOST, validity()), None).expect("leaf");
        let garbage = CertificateDer::from(vec![0x30, 0x00]);
        assert_eq!(
            strict_verdict(&[leaf.der], &[garbage], None, unix_time(NOW)),
            None
        );
    }

    #[test]
    fn server_names_lose_brackets_and_the_trailing_dot() {
        assert!(matches!(
            server_name("[::1]"),
            Some(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("gw.contoso.com."),
            Some(ServerName::DnsName(name)) if name.as_ref() == "gw.contoso.com"
        ));
        assert_eq!(server_name("not a name"), None);
    }

    #[test]
    fn the_sentence_states_both_verdicts_as_they_are() {
        let rejected =
            verdict(&CertificateSpec::certificate_authority(HOST, validity()).with_dns_name(HOST));
        let expired = VerifyCode::CertHasExpired;
        assert_eq!(
            rejected.compared_with(VerifyCode::Ok).as_deref(),
            Some(
                "OpenSSL accepts this chain, but rustls/webpki rejects it: the server certificate is a CA certificate (basicConstraints CA:TRUE); serve a server certificate issued by that CA instead"
            )
        );
        let both = rejected.compared_with(expired).expect("a sentence");
        assert!(
            both.starts_with("OpenSSL rejects this chain (10 (certificate has expired)), and rustls/webpki rejects it too: "),
            "{both}"
        );
        assert!(!both.contains("accepts"), "{both}");
        assert_eq!(
            StrictVerdict::Accepted.compared_with(expired).as_deref(),
            Some(
                "OpenSSL rejects this chain (10 (certificate has expired)), but rustls/webpki accepts it"
            )
        );
        assert!(rejected.disagrees_with(VerifyCode::Ok));
        assert!(!rejected.disagrees_with(expired));
        assert!(StrictVerdict::Accepted.disagrees_with(expired));
        assert!(!StrictVerdict::Accepted.disagrees_with(VerifyCode::Ok));
    }
}
