//! Chain verification that reaches the same verdict as OpenSSL 3.0's `X509_verify_cert`, the
//! code behind `openssl s_client`, `openssl verify` and the device SDKs built on OpenSSL.
//!
//! Why not only webpki: webpki answers "valid or not" with its own error names, and rejects
//! things OpenSSL accepts (CN-only names, a CA certificate as server certificate, SHA-1). The
//! technician's guide, their SDK and every forum thread speak OpenSSL's codes, so this module
//! re-traces OpenSSL's steps in OpenSSL's order (crypto/x509/x509_vfy.c):
//!
//! 0. `X509_verify_cert` itself: the leaf's own key against the security level (66).
//! 1. `build_chain`: trusted-first issuer search (the default since 1.1.0), then the peer's
//!    certificates; the end of the search decides 18, 19, 2 or 20.
//! 2. `check_extensions`: critical extensions (34), CA-ness (79), purpose sslserver (26),
//!    path length (25).
//! 3. `check_auth_level`: security level 1, what TLS clients run at (67, 68).
//! 4. `check_id`: the host name (62) or IP address (64).
//! 5. `internal_verify`: from the top down, keyCertSign (32), signatures (7), validity (9, 10);
//!    a lone leaf with no issuer gives 21.
//!
//! Like `s_client`'s callback, verification carries on after an error, recording every error
//! in order; `s_client` prints the last one, `openssl verify` stops at the first one its
//! callback does not tolerate. Deliberately not modelled: CRLs/OCSP, policies, name
//! constraints, DANE, alternative chains (irrelevant with trusted-first), proxy certificates.

use std::net::IpAddr;

use rustls_pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use super::VerifyCode;
use crate::hostname::{HostName, MismatchKind, NameMatch, match_server_name};

/// OpenSSL's default maximum chain depth (X509_VERIFY_PARAM default of 100).
const MAX_DEPTH: usize = 100;

/// The most presented certificates considered: enough for any chain OpenSSL would build
/// (MAX_DEPTH), so a hostile peer sending thousands cannot make verification work grow with
/// them. Certificates past the cap are ignored, as unusable extras would be.
pub const MAX_PRESENTED: usize = MAX_DEPTH + 1;

/// What the verifier is asked to check, mirroring the X509_VERIFY_PARAM a TLS client (or
/// `openssl verify` with its options) sets.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// `None` skips the name check, as `openssl verify` without `-verify_hostname` does.
    pub host: Option<&'a HostName>,
    /// `-verify_email`: the leaf must carry this address (63 otherwise).
    pub email: Option<&'a str>,
    pub now: OffsetDateTime,
    /// `-no_check_time` turns this off: validity periods are not looked at.
    pub check_time: bool,
    /// The purpose the chain is verified for (`-purpose`); `None` checks no purpose, as
    /// `openssl verify` without `-purpose` does. TLS clients verify for [`Purpose::SslServer`].
    pub purpose: Option<Purpose>,
    /// OpenSSL security level: 1 is the library default for TLS; 0 disables the checks
    /// (`openssl verify` without `-auth_level`).
    pub security_level: u8,
    /// `-partial_chain`: a trusted certificate that is not self-signed may end the chain.
    pub partial_chain: bool,
    /// `-verify_depth N`: at most N certificates between the leaf and the trust anchor.
    pub verify_depth: Option<usize>,
    /// `-x509_strict`: RFC 5280's profile checks (codes 80 to 94) on every certificate.
    pub x509_strict: bool,
    /// `-allow_proxy_certs`: RFC 3820 proxy certificates are accepted.
    pub allow_proxy_certs: bool,
    /// `-check_ss_sig`: also check the signature of a self-signed trust anchor.
    pub check_self_signature: bool,
}

impl<'a> VerifyOptions<'a> {
    /// What a TLS client built on OpenSSL checks for a server: purpose sslserver, security
    /// level 1, the name it dials (when given).
    pub fn tls_server(host: Option<&'a HostName>, now: OffsetDateTime) -> VerifyOptions<'a> {
        VerifyOptions {
            purpose: Some(Purpose::SslServer),
            ..VerifyOptions::openssl_verify(now)
        }
        .with_host(host)
    }

    /// `openssl verify -auth_level 1` with no other option: no purpose, no name.
    pub fn openssl_verify(now: OffsetDateTime) -> VerifyOptions<'a> {
        VerifyOptions {
            host: None,
            email: None,
            now,
            check_time: true,
            purpose: None,
            security_level: 1,
            partial_chain: false,
            verify_depth: None,
            x509_strict: false,
            allow_proxy_certs: false,
            check_self_signature: false,
        }
    }

    pub fn with_host(self, host: Option<&'a HostName>) -> VerifyOptions<'a> {
        VerifyOptions { host, ..self }
    }
}

/// OpenSSL's X509_PURPOSE table (v3_purp.c), the `-purpose` names `openssl verify` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    SslClient,
    SslServer,
    NsSslServer,
    SmimeSign,
    SmimeEncrypt,
    CrlSign,
    Any,
    OcspHelper,
    TimestampSign,
}

/// One error as OpenSSL's verify callback sees it (`verify error:num=N:...` at `depth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyError {
    pub code: VerifyCode,
    pub depth: usize,
    pub subject: String,
    pub issuer: String,
}

/// One certificate of the chain OpenSSL built (not necessarily what the server sent).
#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    pub depth: usize,
    pub subject: String,
    pub issuer: String,
    /// Whether it came from the trusted root file rather than from the server.
    pub from_trust_store: bool,
    #[serde(skip)]
    pub der: CertificateDer<'static>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub chain: Vec<ChainLink>,
    pub errors: Vec<VerifyError>,
    /// Signatures OpenSSL would check but ring, edgeprobe's crypto library, cannot (an RSA key
    /// under 1024 bits, SHA-384 with an RSA key under 2048 bits, ECDSA with SHA-1 or SHA-512,
    /// P-521, DSA): not counted as failures, since OpenSSL would verify them.
    pub unchecked_signatures: Vec<UncheckedSignature>,
}

/// A signature that was not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncheckedSignature {
    /// The depth of the signed certificate.
    pub depth: usize,
    pub subject: String,
    /// E.g. `sha384WithRSAEncryption with a 1024-bit RSA key`.
    pub algorithm: String,
}

impl Verification {
    /// The code `openssl s_client` reports as `Verify return code`: its callback continues
    /// after every error, so the last error recorded wins.
    pub fn code(&self) -> VerifyCode {
        self.errors
            .last()
            .map_or(VerifyCode::Ok, |error| error.code)
    }

    /// The error `s_client` reports, with its depth and certificate.
    pub fn final_error(&self) -> Option<&VerifyError> {
        self.errors.last()
    }

    /// The error `openssl verify` stops at: the first one its callback does not tolerate.
    pub fn openssl_verify_error(&self) -> Option<&VerifyError> {
        self.errors
            .iter()
            .find(|error| !error.code.openssl_verify_continues())
            .or(self.errors.last())
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn has(&self, code: VerifyCode) -> bool {
        self.errors.iter().any(|error| error.code == code)
    }
}

impl UncheckedSignature {
    /// One line for the text outputs.
    pub fn note(&self) -> String {
        format!(
            "note: the signature on depth {} `{}` was not checked: ring, edgeprobe's crypto library, cannot verify {} (OpenSSL can)",
            self.depth, self.subject, self.algorithm
        )
    }
}

/// A certificate that could not be parsed at all; OpenSSL would fail before verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate {position} of {origin} is not a valid X.509 certificate: {reason}")]
pub struct UnparseableCertificate {
    pub origin: &'static str,
    pub position: usize,
    pub reason: String,
}

/// Whether `issuer`'s key made `certificate`'s signature: the signature alone, no names, dates
/// or extensions, checked as the verifier checks signatures (so legacy RSA counts as OpenSSL
/// counts it). Tells apart two generations of a CA that share a name (regenerated test
/// certificates), which name matching cannot. A signature that cannot be checked is not counted
/// as a match.
pub fn is_signed_by(
    certificate: &CertificateDer<'static>,
    issuer: &CertificateDer<'static>,
) -> bool {
    let (Ok(certificate), Ok(issuer)) =
        (Facts::parse(certificate, false), Facts::parse(issuer, true))
    else {
        return false;
    };
    matches!(
        certificate.signature_verified_by(&issuer),
        SignatureCheck::Valid
    )
}

/// Verify `presented` (leaf first, as the server sent it) against `trusted` roots.
pub fn verify_chain(
    presented: &[CertificateDer<'static>],
    trusted: &[CertificateDer<'static>],
    options: &VerifyOptions<'_>,
) -> Result<Verification, UnparseableCertificate> {
    run_verification(presented, trusted, options, true)
}

/// Only the first step, OpenSSL's `build_chain`: the chain as OpenSSL would assemble it from
/// `presented` and `trusted` (issuers found by name, key identifier and key type), without
/// checking extensions, names or signatures; the same chain [`verify_chain`] reports. For
/// callers that only need to know which trusted certificate anchors a chain.
pub fn build_chain(
    presented: &[CertificateDer<'static>],
    trusted: &[CertificateDer<'static>],
    now: OffsetDateTime,
) -> Result<Vec<ChainLink>, UnparseableCertificate> {
    let options = VerifyOptions {
        security_level: 0,
        ..VerifyOptions::openssl_verify(now)
    };
    run_verification(presented, trusted, &options, false).map(|verification| verification.chain)
}

fn run_verification(
    presented: &[CertificateDer<'static>],
    trusted: &[CertificateDer<'static>],
    options: &VerifyOptions<'_>,
    all_steps: bool,
) -> Result<Verification, UnparseableCertificate> {
    let parse_all = |ders: &[CertificateDer<'static>], origin: &'static str, trusted: bool| {
        ders.iter()
            .enumerate()
            .map(|(index, der)| {
                Facts::parse(der, trusted).map_err(|reason| UnparseableCertificate {
                    origin,
                    position: index + 1,
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let presented = &presented[..presented.len().min(MAX_PRESENTED)];
    let peer = parse_all(presented, "the presented chain", false)?;
    let store = parse_all(trusted, "the trusted root file", true)?;
    let Some(leaf) = peer.first() else {
        return Err(UnparseableCertificate {
            origin: "the presented chain",
            position: 1,
            reason: "no certificate was presented".to_owned(),
        });
    };

    let mut run = Run {
        chain: vec![leaf],
        num_untrusted: 1,
        errors: Vec::new(),
        unchecked_signatures: Vec::new(),
    };
    run.check_leaf_key_level(options.security_level);
    run.build_chain(&peer[1..], &store, options.now);
    if all_steps {
        run.check_extensions(options.purpose == Some(Purpose::SslServer));
        run.check_auth_level(options.security_level);
        if let Some(host) = options.host {
            run.check_host(host);
        }
        run.internal_verify(options.now);
    }

    let chain = run
        .chain
        .iter()
        .enumerate()
        .map(|(depth, facts)| ChainLink {
            depth,
            subject: facts.subject_text.clone(),
            issuer: facts.issuer_text.clone(),
            from_trust_store: facts.trusted,
            der: facts.der.clone(),
        })
        .collect();
    Ok(Verification {
        chain,
        errors: run.errors,
        unchecked_signatures: run.unchecked_signatures,
    })
}

/// The state of one verification: the chain being built and the errors seen so far.
struct Run<'a> {
    chain: Vec<&'a Facts>,
    /// How many certificates at the start of the chain came from the peer.
    num_untrusted: usize,
    errors: Vec<VerifyError>,
    unchecked_signatures: Vec<UncheckedSignature>,
}

impl<'a> Run<'a> {
    fn error(&mut self, code: VerifyCode, depth: usize) {
        let facts = self.chain[depth.min(self.chain.len() - 1)];
        self.errors.push(VerifyError {
            code,
            depth,
            subject: facts.subject_text.clone(),
            issuer: facts.issuer_text.clone(),
        });
    }

    fn top(&self) -> &'a Facts {
        self.chain[self.chain.len() - 1]
    }

    /// OpenSSL's `build_chain` with X509_V_FLAG_TRUSTED_FIRST (default since 1.1.0).
    fn build_chain(&mut self, peer: &'a [Facts], store: &'a [Facts], now: OffsetDateTime) {
        let mut trusted = false;
        let mut searching_untrusted = true;
        while self.chain.len() <= MAX_DEPTH {
            let top = self.top();
            // Trusted first: look for the top's issuer in the trust store.
            if let Some(issuer) = find_issuer(store, top, &[], now) {
                if !top.self_signed {
                    self.chain.push(issuer);
                    // Once a trusted certificate is appended, the peer's certificates are no
                    // longer searched (x509_vfy.c asserts num == num_untrusted there).
                    searching_untrusted = false;
                    // Only a self-signed store certificate is a trust anchor by default
                    // (trust_compat without X509_TRUST_NO_SS_COMPAT for the SSL server trust).
                    if issuer.self_signed {
                        trusted = true;
                        break;
                    }
                    continue;
                }
                if self.chain.len() == self.num_untrusted && issuer.der == top.der {
                    // The peer sent the trust anchor itself: swap in the trusted copy.
                    let last = self.chain.len() - 1;
                    self.chain[last] = issuer;
                    self.num_untrusted -= 1;
                    trusted = true;
                    break;
                }
                // A self-signed peer certificate that only mimics a trusted one's name: no.
            }
            if !searching_untrusted || top.self_signed {
                break;
            }
            match find_issuer(peer, top, &self.chain, now) {
                Some(issuer) => {
                    self.chain.push(issuer);
                    self.num_untrusted += 1;
                }
                None => break,
            }
        }
        if trusted {
            return;
        }
        let depth = self.chain.len() - 1;
        let code = if self.chain.len() > MAX_DEPTH {
            VerifyCode::CertChainTooLong
        } else if self.top().self_signed && self.chain.len() == 1 {
            VerifyCode::DepthZeroSelfSignedCert
        } else if self.top().self_signed {
            VerifyCode::SelfSignedCertInChain
        } else if self.num_untrusted < self.chain.len() {
            VerifyCode::UnableToGetIssuerCert
        } else {
            VerifyCode::UnableToGetIssuerCertLocally
        };
        self.error(code, depth);
    }

    /// OpenSSL's `check_extensions` (non-strict mode) with purpose sslserver.
    fn check_extensions(&mut self, check_server_purpose: bool) {
        let count = self.chain.len();
        let mut path_length = 0u32;
        for depth in 0..count {
            let facts = self.chain[depth];
            if facts.unhandled_critical_extension {
                self.error(VerifyCode::UnhandledCriticalExtension, depth);
            }
            let ca = facts.check_ca();
            // "X509_V_FLAG_X509_STRICT is implicit for intermediate CAs": anything below the
            // top must be a CA by basicConstraints; the top may also be a v1 root (3) or a
            // keyCertSign-only certificate (4).
            if depth > 0 && (ca == 0 || (depth + 1 < count && ca != 1)) {
                self.error(VerifyCode::InvalidCa, depth);
            }
            if check_server_purpose && !facts.suits_tls_server(depth > 0) {
                self.error(VerifyCode::InvalidPurpose, depth);
            }
            if depth > 1
                && let Some(limit) = facts.path_len
                && path_length > limit
            {
                self.error(VerifyCode::PathLengthExceeded, depth);
            }
            if depth > 0 && !facts.self_issued {
                path_length += 1;
            }
        }
    }

    /// The first step of OpenSSL's `X509_verify_cert`, before any chain is built: "If the
    /// peer's public key is too weak, we can stop early" (`check_key_level` on the leaf,
    /// X509_V_ERR_EE_KEY_TOO_SMALL at depth 0).
    fn check_leaf_key_level(&mut self, level: u8) {
        let Some(minimum) = minimum_security_bits(level) else {
            return;
        };
        if self.chain[0]
            .key_security_bits
            .is_some_and(|bits| bits < minimum)
        {
            self.error(VerifyCode::EeKeyTooSmall, 0);
        }
    }

    /// OpenSSL's `check_auth_level`: issuer keys and non-anchor signatures must reach the
    /// security level's minimum bits.
    fn check_auth_level(&mut self, level: u8) {
        let Some(minimum) = minimum_security_bits(level) else {
            return;
        };
        let count = self.chain.len();
        for depth in 0..count {
            let facts = self.chain[depth];
            if depth > 0 && facts.key_security_bits.is_some_and(|bits| bits < minimum) {
                self.error(VerifyCode::CaKeyTooSmall, depth);
            }
            if depth + 1 < count
                && facts
                    .signature_security_bits
                    .is_some_and(|bits| bits < minimum)
            {
                self.error(VerifyCode::CaMdTooWeak, depth);
            }
        }
    }

    /// OpenSSL's `check_id`: X509_check_host for a name, X509_check_ip for an address.
    fn check_host(&mut self, host: &HostName) {
        let leaf = self.chain[0];
        if let NameMatch::Mismatch { kind, .. } = match_server_name(
            host,
            &leaf.dns_names,
            &leaf.ip_addresses,
            &leaf.common_names,
        ) {
            let code = match kind {
                MismatchKind::Dns => VerifyCode::HostnameMismatch,
                MismatchKind::Ip => VerifyCode::IpAddressMismatch,
            };
            self.error(code, 0);
        }
    }

    /// OpenSSL's `internal_verify`: walk down from the top, checking each signature with its
    /// issuer's key and each certificate's validity period.
    fn internal_verify(&mut self, now: OffsetDateTime) {
        let mut depth = self.chain.len() - 1;
        let mut issuer = self.chain[depth];
        let mut subject = issuer;
        if !issuer.issued_by_check(issuer) {
            if depth == 0 {
                // A lone certificate whose issuer was never found.
                self.error(VerifyCode::UnableToVerifyLeafSignature, 0);
                self.check_time(issuer, 0, now);
                return;
            }
            // The top's own signature cannot be checked without its issuer; start one down.
            depth -= 1;
            subject = self.chain[depth];
        }
        loop {
            // Self-signed certificates' signatures are not checked (no X509_V_FLAG_CHECK_SS_SIGNATURE).
            if !std::ptr::eq(subject, issuer) {
                if issuer
                    .key_usage
                    .is_some_and(|usage| usage & KEY_CERT_SIGN == 0)
                {
                    self.error(VerifyCode::KeyUsageNoCertSign, depth + 1);
                }
                match subject.signature_verified_by(issuer) {
                    SignatureCheck::Valid => {}
                    SignatureCheck::Invalid => self.error(VerifyCode::CertSignatureFailure, depth),
                    SignatureCheck::UndecodableKey => {
                        self.error(VerifyCode::UnableToDecodeIssuerPublicKey, depth + 1)
                    }
                    SignatureCheck::Unchecked { algorithm } => {
                        self.unchecked_signatures.push(UncheckedSignature {
                            depth,
                            subject: subject.subject_text.clone(),
                            algorithm,
                        })
                    }
                }
            }
            self.check_time(subject, depth, now);
            if depth == 0 {
                break;
            }
            depth -= 1;
            issuer = subject;
            subject = self.chain[depth];
        }
    }

    fn check_time(&mut self, facts: &Facts, depth: usize, now: OffsetDateTime) {
        if now < facts.not_before {
            self.error(VerifyCode::CertNotYetValid, depth);
        }
        if now > facts.not_after {
            self.error(VerifyCode::CertHasExpired, depth);
        }
    }
}

/// The security bits a key or signature needs at `level` (x509_vfy.c `minbits_table`: 80 at
/// level 1, 112 at 2, ... as in SSL_CTX_set_security_level(3)); `None` at level 0, which checks
/// nothing.
fn minimum_security_bits(level: u8) -> Option<u32> {
    match level {
        0 => None,
        1 => Some(80),
        2 => Some(112),
        3 => Some(128),
        4 => Some(192),
        _ => Some(256),
    }
}

/// OpenSSL's `find_issuer` / `X509_STORE_CTX_get1_issuer`: the first candidate that is
/// "likely" the issuer and currently valid, else the matching one that expires last.
fn find_issuer<'a>(
    candidates: &'a [Facts],
    subject: &Facts,
    chain: &[&Facts],
    now: OffsetDateTime,
) -> Option<&'a Facts> {
    let mut fallback: Option<&'a Facts> = None;
    for candidate in candidates {
        if !candidate.issued_by_check(subject) || chain.iter().any(|link| link.der == candidate.der)
        {
            continue;
        }
        if candidate.not_before <= now && now <= candidate.not_after {
            return Some(candidate);
        }
        if fallback.is_none_or(|best| candidate.not_after > best.not_after) {
            fallback = Some(candidate);
        }
    }
    fallback
}

const DIGITAL_SIGNATURE: u16 = 1 << 0;
const KEY_ENCIPHERMENT: u16 = 1 << 2;
const KEY_AGREEMENT: u16 = 1 << 4;
const KEY_CERT_SIGN: u16 = 1 << 5;

enum SignatureCheck {
    Valid,
    Invalid,
    UndecodableKey,
    /// ring cannot verify this algorithm with this key; OpenSSL can.
    Unchecked {
        algorithm: String,
    },
}

/// What verification needs to know about one certificate, extracted once.
struct Facts {
    der: CertificateDer<'static>,
    trusted: bool,
    subject_text: String,
    issuer_text: String,
    subject_name: Vec<Vec<(String, String)>>,
    issuer_name: Vec<Vec<(String, String)>>,
    version: u32,
    self_issued: bool,
    self_signed: bool,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    authority_serial: Option<Vec<u8>>,
    serial: Vec<u8>,
    basic_constraints: Option<bool>,
    path_len: Option<u32>,
    key_usage: Option<u16>,
    /// `Some(allows_server_auth)` when an extendedKeyUsage extension is present.
    extended_key_usage_server: Option<bool>,
    unhandled_critical_extension: bool,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    key_algorithm: KeyAlgorithm,
    signature_key_algorithm: KeyAlgorithm,
    key_security_bits: Option<u32>,
    signature_security_bits: Option<u32>,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    common_names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyAlgorithm {
    Rsa,
    Ec,
    Ed25519,
    Other,
}

impl Facts {
    fn parse(der: &CertificateDer<'static>, trusted: bool) -> Result<Facts, String> {
        let (_, certificate) =
            X509Certificate::from_der(der.as_ref()).map_err(|error| error.to_string())?;
        let subject_name = canonical_name(certificate.subject());
        let issuer_name = canonical_name(certificate.issuer());
        let mut facts = Facts {
            der: der.clone(),
            trusted,
            subject_text: super::openssl_oneline(certificate.subject()),
            issuer_text: super::openssl_oneline(certificate.issuer()),
            self_issued: subject_name == issuer_name,
            subject_name,
            issuer_name,
            version: certificate.version().0 + 1,
            self_signed: false,
            subject_key_id: None,
            authority_key_id: None,
            authority_serial: None,
            serial: certificate.raw_serial().to_vec(),
            basic_constraints: None,
            path_len: None,
            key_usage: None,
            extended_key_usage_server: None,
            unhandled_critical_extension: false,
            not_before: certificate.validity().not_before.to_datetime(),
            not_after: certificate.validity().not_after.to_datetime(),
            key_algorithm: key_algorithm_of_spki(&certificate),
            signature_key_algorithm: key_algorithm_of_signature(&certificate),
            key_security_bits: key_security_bits(&certificate),
            signature_security_bits: signature_security_bits(&certificate),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            common_names: certificate
                .subject()
                .iter_common_name()
                .filter_map(|attribute| attribute.as_str().ok().map(str::to_owned))
                .collect(),
        };
        for extension in certificate.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    facts.subject_key_id = Some(id.0.to_vec())
                }
                ParsedExtension::AuthorityKeyIdentifier(id) => {
                    facts.authority_key_id = id.key_identifier.as_ref().map(|key| key.0.to_vec());
                    facts.authority_serial = id.authority_cert_serial.map(<[u8]>::to_vec);
                }
                ParsedExtension::BasicConstraints(constraints) => {
                    facts.basic_constraints = Some(constraints.ca);
                    facts.path_len = constraints.path_len_constraint.filter(|_| constraints.ca);
                }
                ParsedExtension::KeyUsage(usage) => facts.key_usage = Some(usage.flags),
                ParsedExtension::ExtendedKeyUsage(usage) => {
                    facts.extended_key_usage_server = Some(usage.server_auth);
                }
                ParsedExtension::SubjectAlternativeName(names) => {
                    for name in &names.general_names {
                        match name {
                            GeneralName::DNSName(dns) => facts.dns_names.push((*dns).to_owned()),
                            GeneralName::IPAddress(bytes) => {
                                if let Some(address) = ip_from_san(bytes) {
                                    facts.ip_addresses.push(address);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            if extension.critical && !openssl_supports_extension(&extension.oid.to_id_string()) {
                facts.unhandled_critical_extension = true;
            }
        }
        facts.self_signed = facts.self_issued
            && facts.key_identifiers_match(&facts)
            && facts.algorithms_match(&facts);
        Ok(facts)
    }

    /// OpenSSL's `ossl_x509_likely_issued(self, subject)`: names, key identifiers and the
    /// signature algorithm's key type agree. The signature itself is checked later.
    fn issued_by_check(&self, subject: &Facts) -> bool {
        self.subject_name == subject.issuer_name
            && self.key_identifiers_match(subject)
            && self.algorithms_match(subject)
    }

    /// `X509_check_akid`: a subject's authority key id must match this issuer's subject key
    /// id (when both are present) and its serial (when given).
    fn key_identifiers_match(&self, subject: &Facts) -> bool {
        if let (Some(authority), Some(own)) = (&subject.authority_key_id, &self.subject_key_id)
            && authority != own
        {
            return false;
        }
        if let Some(serial) = &subject.authority_serial
            && serial != &self.serial
        {
            return false;
        }
        true
    }

    /// `check_sig_alg_match`: the subject was signed with an algorithm for this key type.
    fn algorithms_match(&self, subject: &Facts) -> bool {
        self.key_algorithm == KeyAlgorithm::Other
            || subject.signature_key_algorithm == KeyAlgorithm::Other
            || self.key_algorithm == subject.signature_key_algorithm
    }

    /// `X509_check_ca`: 1 = CA by basicConstraints, 3 = self-signed v1 root,
    /// 4 = keyCertSign without basicConstraints, 0 = not a CA.
    fn check_ca(&self) -> u8 {
        if self
            .key_usage
            .is_some_and(|usage| usage & KEY_CERT_SIGN == 0)
        {
            return 0;
        }
        match self.basic_constraints {
            Some(true) => 1,
            Some(false) => 0,
            None if self.version == 1 && self.self_signed => 3,
            None if self.key_usage.is_some() => 4,
            None => 0,
        }
    }

    /// `check_purpose_ssl_server` (v3_purp.c): an extendedKeyUsage, when present, must allow
    /// serverAuth (even for CAs); a leaf's keyUsage must allow a TLS key exchange; a CA must
    /// pass `check_ca`.
    fn suits_tls_server(&self, as_ca: bool) -> bool {
        if self.extended_key_usage_server == Some(false) {
            return false;
        }
        if as_ca {
            return self.check_ca() != 0;
        }
        self.key_usage
            .is_none_or(|usage| usage & (DIGITAL_SIGNATURE | KEY_ENCIPHERMENT | KEY_AGREEMENT) != 0)
    }

    /// OpenSSL verifies a signature whatever the key size (the security level, checked
    /// before, decides what is too small), but ring's stock RSA algorithms start at 2048 bits.
    /// So PKCS#1 v1.5 signatures use ring's 1024-8192-bit variants where ring has them (SHA-1,
    /// SHA-256, SHA-512); what ring cannot verify at all is reported as unchecked rather than
    /// as a failure OpenSSL would not report.
    fn signature_verified_by(&self, issuer: &Facts) -> SignatureCheck {
        use ring::signature;
        let (Ok((_, subject)), Ok((_, issuer))) = (
            X509Certificate::from_der(self.der.as_ref()),
            X509Certificate::from_der(issuer.der.as_ref()),
        ) else {
            return SignatureCheck::Invalid;
        };
        let Ok(key) = issuer.public_key().parsed() else {
            return SignatureCheck::UndecodableKey;
        };
        let oid = subject.signature_algorithm.algorithm.to_id_string();
        let unchecked = || {
            let name = super::describe::signature_algorithm_long_name(
                &subject.signature_algorithm.algorithm,
            );
            SignatureCheck::Unchecked {
                algorithm: match &key {
                    PublicKey::RSA(rsa) => {
                        format!("{name} with a {}-bit RSA key", rsa.key_size())
                    }
                    _ => name,
                },
            }
        };
        let rsa_pkcs1 = match oid.as_str() {
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => Some(("sha1", 1024)),
            "1.2.840.113549.1.1.11" => Some(("sha256", 1024)),
            "1.2.840.113549.1.1.12" => Some(("sha384", 2048)),
            "1.2.840.113549.1.1.13" => Some(("sha512", 1024)),
            _ => None,
        };
        let verified = match (rsa_pkcs1, &key) {
            (Some((digest, minimum_bits)), PublicKey::RSA(rsa)) => {
                if !(minimum_bits..=8192).contains(&rsa.key_size()) {
                    return unchecked();
                }
                let algorithm: &dyn signature::VerificationAlgorithm = match digest {
                    "sha1" => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    "sha256" => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                    "sha384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                    _ => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                };
                signature::UnparsedPublicKey::new(
                    algorithm,
                    &issuer.public_key().subject_public_key.data,
                )
                .verify(
                    subject.tbs_certificate.as_ref(),
                    &subject.signature_value.data,
                )
                .is_ok()
            }
            _ => match subject.verify_signature(Some(issuer.public_key())) {
                Ok(()) => true,
                Err(X509Error::SignatureUnsupportedAlgorithm) => return unchecked(),
                // ring's RSA-PSS algorithms start at 2048 bits too.
                Err(_) if matches!(&key, PublicKey::RSA(rsa) if rsa.key_size() < 2048) => {
                    return unchecked();
                }
                Err(_) => false,
            },
        };
        if verified {
            SignatureCheck::Valid
        } else {
            SignatureCheck::Invalid
        }
    }
}

/// X509_NAME_cmp compares canonical encodings: attribute values case-folded with white space
/// trimmed and collapsed (x_name.c `asn1_string_canon`), RDN structure preserved.
fn canonical_name(name: &X509Name<'_>) -> Vec<Vec<(String, String)>> {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let value = match attribute.as_str() {
                        Ok(text) => text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_lowercase(),
                        Err(_) => format!("{:02x?}", attribute.attr_value().data),
                    };
                    (attribute.attr_type().to_id_string(), value)
                })
                .collect()
        })
        .collect()
}

/// Extensions OpenSSL 3.0 handles, so a critical one is not "unhandled" (v3_purp.c
/// `X509_supported_extension`).
fn openssl_supports_extension(oid: &str) -> bool {
    matches!(
        oid,
        "2.16.840.1.113730.1.1" // netscape cert type
            | "2.5.29.15" // key usage
            | "2.5.29.17" // subject alt name
            | "2.5.29.19" // basic constraints
            | "2.5.29.32" // certificate policies
            | "2.5.29.37" // extended key usage
            | "1.3.6.1.5.5.7.1.14" // proxy cert info
            | "2.5.29.30" // name constraints
            | "2.5.29.36" // policy constraints
            | "2.5.29.33" // policy mappings
            | "2.5.29.54" // inhibit any policy
            | "1.3.6.1.5.5.7.1.7" // sbgp ipAddrBlock
            | "1.3.6.1.5.5.7.1.8" // sbgp autonomousSysNum
    )
}

fn ip_from_san(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

fn key_algorithm_of_spki(certificate: &X509Certificate<'_>) -> KeyAlgorithm {
    match certificate
        .public_key()
        .algorithm
        .algorithm
        .to_id_string()
        .as_str()
    {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => KeyAlgorithm::Rsa,
        "1.2.840.10045.2.1" => KeyAlgorithm::Ec,
        "1.3.101.112" => KeyAlgorithm::Ed25519,
        _ => KeyAlgorithm::Other,
    }
}

fn key_algorithm_of_signature(certificate: &X509Certificate<'_>) -> KeyAlgorithm {
    let oid = certificate.signature_algorithm.algorithm.to_id_string();
    if oid.starts_with("1.2.840.113549.1.1.") || oid == "1.3.14.3.2.29" {
        KeyAlgorithm::Rsa
    } else if oid.starts_with("1.2.840.10045.4.") {
        KeyAlgorithm::Ec
    } else if oid == "1.3.101.112" {
        KeyAlgorithm::Ed25519
    } else {
        KeyAlgorithm::Other
    }
}

/// Security bits of the certificate's key, as OpenSSL's `EVP_PKEY_get_security_bits`
/// (RSA per NIST SP 800-57 as in `ossl_ifc_ffc_compute_security_bits`; EC half the order).
fn key_security_bits(certificate: &X509Certificate<'_>) -> Option<u32> {
    match certificate.public_key().parsed().ok()? {
        PublicKey::RSA(rsa) => {
            let bits = rsa.key_size();
            Some(match bits {
                15360.. => 256,
                7680.. => 192,
                3072.. => 128,
                2048.. => 112,
                1024.. => 80,
                _ => 0,
            })
        }
        PublicKey::EC(point) => u32::try_from(point.key_size()).ok().map(|bits| bits / 2),
        _ => None,
    }
}

/// Security bits of the signature's digest: half its size, except SHA-1 (63) and MD5 (39),
/// which OpenSSL 3.0 marks as broken so level 1 rejects them (x509_set.c `x509_sig_info_init`).
fn signature_security_bits(certificate: &X509Certificate<'_>) -> Option<u32> {
    Some(
        match certificate
            .signature_algorithm
            .algorithm
            .to_id_string()
            .as_str()
        {
            "1.2.840.113549.1.1.4" => 39, // md5WithRSA
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" => 63, // SHA-1
            "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => 128,
            "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => 192,
            "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => 256,
            "1.3.101.112" => 128,
            _ => return None,
        },
    )
}

#[cfg(test)]
mod tests {
    //! One generated chain per OpenSSL code. Each scenario is also run through the real
    //! `openssl verify` when the binary is present, so a divergence from OpenSSL fails here.

    use super::*;
    use crate::hostname::HostName;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    struct Authority {
        der: CertificateDer<'static>,
        issuer: Issuer<'static, KeyPair>,
    }

    #[derive(Clone)]
    struct Spec {
        name: &'static str,
        ca: Option<BasicConstraints>,
        key_usages: Vec<KeyUsagePurpose>,
        server_auth: bool,
        client_auth_only: bool,
        sans: Vec<&'static str>,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    }

    fn ca(name: &'static str) -> Spec {
        Spec {
            name,
            ca: Some(BasicConstraints::Unconstrained),
            key_usages: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            server_auth: false,
            client_auth_only: false,
            sans: vec![],
            not_before: datetime!(2025-01-01 00:00 UTC),
            not_after: datetime!(2030-01-01 00:00 UTC),
        }
    }

    fn server(name: &'static str) -> Spec {
        Spec {
            ca: None,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            server_auth: true,
            sans: vec![name],
            ..ca(name)
        }
    }

    fn params(spec: &Spec) -> CertificateParams {
        let mut params =
            CertificateParams::new(spec.sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("valid SANs");
        params
            .distinguished_name
            .push(DnType::CommonName, spec.name);
        params.is_ca = match spec.ca {
            Some(constraints) => IsCa::Ca(constraints),
            None => IsCa::ExplicitNoCa,
        };
        params.key_usages = spec.key_usages.clone();
        if spec.server_auth {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        }
        if spec.client_auth_only {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.use_authority_key_identifier_extension = true;
        params
    }

    fn issue(spec: &Spec, issuer: Option<&Authority>) -> Authority {
        let key = KeyPair::generate().expect("key");
        let params = params(spec);
        let certificate = match issuer {
            Some(issuer) => params.signed_by(&key, &issuer.issuer).expect("signed"),
            None => params.self_signed(&key).expect("self-signed"),
        };
        Authority {
            der: certificate.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    fn host(name: &str) -> HostName {
        crate::hostname::validate_hostname(name).expect("valid test host name")
    }

    fn verify(presented: &[&Authority], trusted: &[&Authority]) -> Verification {
        let presented: Vec<_> = presented.iter().map(|a| a.der.clone()).collect();
        let trusted: Vec<_> = trusted.iter().map(|a| a.der.clone()).collect();
        let options = VerifyOptions::tls_server(None, NOW);
        let verification = verify_chain(&presented, &trusted, &options).expect("parsable");
        compare_with_openssl(&presented, &trusted, &verification);
        verification
    }

    /// Run `openssl verify -purpose sslserver -auth_level 1 -attime` over the same files and
    /// compare its final error code with ours.
    fn compare_with_openssl(
        presented: &[CertificateDer<'static>],
        trusted: &[CertificateDer<'static>],
        ours: &Verification,
    ) {
        use std::io::Write;
        if std::process::Command::new("openssl")
            .arg("version")
            .output()
            .is_err()
        {
            return;
        }
        let directory = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, ders: &[CertificateDer<'static>]| {
            let path = directory.path().join(name);
            let mut file = std::fs::File::create(&path).expect("create");
            for der in ders {
                let body = base64_lines(der.as_ref());
                writeln!(
                    file,
                    "-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----"
                )
                .expect("write");
            }
            path
        };
        let leaf = write("leaf.pem", &presented[..1]);
        let untrusted = write("untrusted.pem", &presented[1..]);
        let roots = write("roots.pem", trusted);
        let mut command = std::process::Command::new("openssl");
        command.args([
            "verify",
            "-purpose",
            "sslserver",
            "-auth_level",
            "1",
            "-attime",
        ]);
        command.arg(NOW.unix_timestamp().to_string());
        command.arg("-CAfile").arg(&roots);
        if presented.len() > 1 {
            command.arg("-untrusted").arg(&untrusted);
        }
        if trusted.is_empty() {
            command.arg("-no-CApath").arg("-no-CAstore");
        }
        command.arg(&leaf);
        let output = command.output().expect("openssl runs");
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        // `openssl verify` prints "error N at D depth lookup: text" for each error it reports
        // and stops at the first its callback does not tolerate.
        let codes: Vec<u32> = text
            .lines()
            .filter_map(|line| line.split("error ").nth(1))
            .filter_map(|rest| rest.split(' ').next()?.parse().ok())
            .collect();
        let openssl_final = codes.last().copied().unwrap_or(0);
        let ours_final = ours
            .openssl_verify_error()
            .map_or(0, |error| error.code.number());
        assert_eq!(
            ours_final, openssl_final,
            "openssl said:\n{text}\nwe recorded {:?}",
            ours.errors
        );
    }

    fn base64_lines(bytes: &[u8]) -> String {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        encoded
            .as_bytes()
            .chunks(64)
            .map(|chunk| format!("{}\n", String::from_utf8_lossy(chunk)))
            .collect()
    }

    #[test]
    fn full_chain_verifies() {
        let root = issue(&ca("Root"), None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server("gw.contoso.com"), Some(&intermediate));
        let verification = verify(&[&leaf, &intermediate], &[&root]);
        assert_eq!(verification.code(), VerifyCode::Ok);
        assert_eq!(verification.chain.len(), 3);
        assert!(verification.chain[2].from_trust_store);
        // Root also sent, intermediates out of order: still fine with trusted-first.
        assert_eq!(
            verify(&[&leaf, &root, &intermediate], &[&root]).code(),
            VerifyCode::Ok
        );
    }

    #[test]
    fn leaf_only_is_21_after_20() {
        let root = issue(&ca("Root"), None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server("gw"), Some(&intermediate));
        let verification = verify(&[&leaf], &[&root]);
        let codes: Vec<u32> = verification
            .errors
            .iter()
            .map(|e| e.code.number())
            .collect();
        assert_eq!(codes, vec![20, 21]);
        assert_eq!(verification.code(), VerifyCode::UnableToVerifyLeafSignature);
    }

    #[test]
    fn wrong_root_file_is_20_and_sent_foreign_root_is_19() {
        let root = issue(&ca("Root"), None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server("gw"), Some(&intermediate));
        let other = issue(&ca("Other Root"), None);
        assert_eq!(
            verify(&[&leaf, &intermediate], &[&other]).code(),
            VerifyCode::UnableToGetIssuerCertLocally
        );
        let sent_root = verify(&[&leaf, &intermediate, &root], &[&other]);
        assert_eq!(sent_root.code(), VerifyCode::SelfSignedCertInChain);
        assert_eq!(sent_root.final_error().map(|e| e.depth), Some(2));
    }

    #[test]
    fn self_signed_leaf_is_18_unless_trusted() {
        let mut spec = server("gw");
        spec.ca = None;
        let leaf = issue(&spec, None);
        let other = issue(&ca("Root"), None);
        assert_eq!(
            verify(&[&leaf], &[&other]).code(),
            VerifyCode::DepthZeroSelfSignedCert
        );
        assert_eq!(verify(&[&leaf], &[&leaf]).code(), VerifyCode::Ok);
    }

    #[test]
    fn intermediate_as_trust_anchor_is_2() {
        let root = issue(&ca("Root"), None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server("gw"), Some(&intermediate));
        assert_eq!(
            verify(&[&leaf, &intermediate], &[&intermediate]).code(),
            VerifyCode::UnableToGetIssuerCert
        );
    }

    #[test]
    fn expired_and_not_yet_valid() {
        let root = issue(&ca("Root"), None);
        let mut expired = server("gw");
        expired.not_after = datetime!(2026-05-01 00:00 UTC);
        let leaf = issue(&expired, Some(&root));
        let verification = verify(&[&leaf], &[&root]);
        assert_eq!(verification.code(), VerifyCode::CertHasExpired);
        assert_eq!(verification.final_error().map(|e| e.depth), Some(0));
        let mut future = server("gw");
        future.not_before = datetime!(2026-07-01 00:00 UTC);
        assert_eq!(
            verify(&[&issue(&future, Some(&root))], &[&root]).code(),
            VerifyCode::CertNotYetValid
        );
    }

    #[test]
    fn non_ca_issuer_is_79_and_missing_cert_sign_is_32() {
        let root = issue(&ca("Root"), None);
        let mut not_ca = ca("Not A CA");
        not_ca.ca = None;
        not_ca.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let fake = issue(&not_ca, Some(&root));
        let leaf = issue(&server("gw"), Some(&fake));
        let verification = verify(&[&leaf, &fake], &[&root]);
        assert!(
            verification.has(VerifyCode::InvalidCa),
            "{:?}",
            verification.errors
        );
        let mut no_cert_sign = ca("No CertSign");
        no_cert_sign.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let weak = issue(&no_cert_sign, Some(&root));
        let leaf = issue(&server("gw"), Some(&weak));
        assert_eq!(
            verify(&[&leaf, &weak], &[&root]).code(),
            VerifyCode::KeyUsageNoCertSign
        );
    }

    #[test]
    fn path_length_is_25() {
        let mut constrained = ca("Root");
        constrained.ca = Some(BasicConstraints::Constrained(0));
        let root = issue(&constrained, None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server("gw"), Some(&intermediate));
        assert!(verify(&[&leaf, &intermediate], &[&root]).has(VerifyCode::PathLengthExceeded));
    }

    #[test]
    fn client_auth_only_server_is_26() {
        let root = issue(&ca("Root"), None);
        let mut client = server("gw");
        client.server_auth = false;
        client.client_auth_only = true;
        assert_eq!(
            verify(&[&issue(&client, Some(&root))], &[&root]).code(),
            VerifyCode::InvalidPurpose
        );
    }

    #[test]
    fn signature_by_another_key_is_7() {
        let root = issue(&ca("Root"), None);
        // Same name as the root, different key: the leaf's signature does not verify with the
        // trusted root's key. Without key identifiers, OpenSSL still picks the root by name.
        let impostor_key = KeyPair::generate().expect("key");
        let mut impostor_params = params(&ca("Root"));
        impostor_params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(Vec::new());
        let impostor = Issuer::new(impostor_params, impostor_key);
        let mut leaf_params = params(&server("gw"));
        leaf_params.use_authority_key_identifier_extension = false;
        let leaf_key = KeyPair::generate().expect("key");
        let leaf = Authority {
            der: leaf_params
                .signed_by(&leaf_key, &impostor)
                .expect("signed")
                .der()
                .clone(),
            issuer: Issuer::new(leaf_params, leaf_key),
        };
        assert_eq!(
            verify(&[&leaf], &[&root]).code(),
            VerifyCode::CertSignatureFailure
        );
    }

    #[test]
    fn build_chain_gives_the_chain_verify_chain_reports_without_checking_signatures() {
        let root = issue(&ca("Root"), None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server("gw"), Some(&intermediate));
        let other = issue(&ca("Other Root"), None);
        let cases: [(&[&Authority], &[&Authority]); 4] = [
            (&[&leaf, &intermediate], &[&root]),
            (&[&leaf], &[&root]),
            (&[&leaf, &intermediate], &[&other]),
            (&[&leaf, &intermediate, &root], &[&other, &root]),
        ];
        let links = |chain: &[ChainLink]| -> Vec<(String, bool)> {
            chain
                .iter()
                .map(|link| (link.subject.clone(), link.from_trust_store))
                .collect()
        };
        for (presented, trusted) in cases {
            let presented: Vec<_> = presented.iter().map(|a| a.der.clone()).collect();
            let trusted: Vec<_> = trusted.iter().map(|a| a.der.clone()).collect();
            let options = VerifyOptions::tls_server(None, NOW);
            let verified = verify_chain(&presented, &trusted, &options).expect("parses");
            let built = build_chain(&presented, &trusted, NOW).expect("parses");
            assert_eq!(links(&built), links(&verified.chain));
        }
        let anchored = build_chain(
            &[leaf.der.clone(), intermediate.der.clone()],
            std::slice::from_ref(&root.der),
            NOW,
        )
        .expect("parses");
        assert_eq!(
            links(&anchored),
            vec![
                ("CN = gw".to_owned(), false),
                ("CN = Intermediate".to_owned(), false),
                ("CN = Root".to_owned(), true),
            ]
        );
    }

    #[test]
    fn hostname_mismatch_is_62_and_comes_before_time_errors() {
        let root = issue(&ca("Root"), None);
        let leaf = issue(&server("gw.contoso.com"), Some(&root));
        let presented = vec![leaf.der.clone()];
        let trusted = vec![root.der.clone()];
        let target = host("other.contoso.com");
        let options = VerifyOptions::tls_server(Some(&target), NOW);
        let verification = verify_chain(&presented, &trusted, &options).expect("parsable");
        assert_eq!(verification.code(), VerifyCode::HostnameMismatch);
    }

    #[test]
    fn presented_certificates_past_the_cap_are_ignored() {
        let root = issue(&ca("Root"), None);
        let leaf = issue(&server("gw"), Some(&root));
        let mut presented = vec![leaf.der.clone()];
        // Garbage past the cap would fail parsing if it were looked at.
        presented.extend((0..MAX_PRESENTED).map(|_| leaf.der.clone()));
        presented.push(CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff]));
        let options = VerifyOptions::tls_server(None, NOW);
        let verification = verify_chain(&presented, std::slice::from_ref(&root.der), &options)
            .expect("cap applies before parsing");
        assert_eq!(verification.code(), VerifyCode::Ok);
    }

    #[test]
    fn garbage_is_reported_not_panicked() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff]);
        let options = VerifyOptions::tls_server(None, NOW);
        let error = verify_chain(&[garbage], &[], &options).expect_err("garbage");
        assert_eq!(error.position, 1);
        assert!(verify_chain(&[], &[], &options).is_err());
    }
}
