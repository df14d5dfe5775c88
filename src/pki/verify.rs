//! Chain verification that reaches the same verdict as OpenSSL 3.0's `X509_verify_cert`, the
//! code behind `openssl s_client`, `openssl verify` and the device SDKs built on OpenSSL.
//!
//! Why not only webpki: webpki answers "valid or not" with its own error names, and rejects
//! things OpenSSL accepts (CN-only names, a CA certificate as server certificate, SHA-1). The
//! technician's guide, their SDK and every forum thread speak OpenSSL's codes, so this module
//! re-traces OpenSSL's steps in OpenSSL's order (crypto/x509/x509_vfy.c), over the view of
//! each certificate OpenSSL itself takes (`certificate_facts`, v3_purp.c):
//!
//! 0. `X509_verify_cert` itself: the leaf's own key against the security level (66).
//! 1. `build_chain`: trusted-first issuer search (the default since 1.1.0), then the peer's
//!    certificates; `check_trust` applies trust settings (28) and `-partial_chain`; the end of
//!    the search decides 18, 19, 2, 20 or 22.
//! 2. `check_extensions`: critical extensions (34), proxy certificates (40), CA-ness (79, 37),
//!    explicit EC parameters (94), the `-x509_strict` profile (80-93), the purpose (26), path
//!    length (25, 38).
//! 3. `check_auth_level`: the security level for issuer keys and signatures (67, 68).
//! 4. `check_id`: the host name (62), IP address (64) or email address (63).
//! 5. `internal_verify`: from the top down, key usage (32, 39), signatures (6, 7), validity
//!    (9, 10); a lone leaf with no issuer gives 21.
//! 6. `check_name_constraints`: RFC 5280 name constraints (47-53) and RFC 3820 proxy names (72).
//!
//! Like `s_client`'s callback, verification carries on after an error, recording every error
//! in order; `s_client` prints the last one, `openssl verify` stops at the first one its
//! callback does not tolerate. Not modelled: CRLs/OCSP, certificate policies, DANE, RFC 3779
//! resources, Suite B; none occurs in IoT Edge's certificates. A signature edgeprobe cannot
//! check is an error, never a pass.

use rustls_pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;

use super::VerifyCode;
use super::certificate_facts::Facts;
use super::host_match::{MismatchKind, NameMatch, match_server_name};
use super::name_constraints;
use super::signature::SignatureError;
use super::trust_settings::{
    StoreCertificate, TrustFlags, TrustId, TrustVerdict, check_trust, trust_for_verify,
};
use crate::hostname::HostName;

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
    /// The time validity periods are judged at (the caller's clock, or `-attime`); `None` with
    /// `-no_check_time`: validity periods are not looked at, so no time is needed.
    pub time: Option<OffsetDateTime>,
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
            time: Some(now),
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VerifyError {
    pub code: VerifyCode,
    pub depth: usize,
    pub subject: String,
    pub issuer: String,
}

/// One certificate of the chain OpenSSL built (not necessarily what the server sent).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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
    /// Signatures OpenSSL would check but edgeprobe cannot (an algorithm none of its crypto
    /// libraries implements). Each is also an error (`Unspecified`) in `errors`: a chain with
    /// an unchecked signature is never reported OK.
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

    /// The errors `openssl verify` prints: each one its callback sees, up to the one it stops
    /// at (see [`Verification::openssl_verify_error`]). The last is the code it reports.
    pub fn openssl_verify_printed(&self) -> &[VerifyError] {
        match self.openssl_verify_error() {
            Some(stop) => {
                let end = self
                    .errors
                    .iter()
                    .position(|error| std::ptr::eq(error, stop))
                    .map_or(self.errors.len(), |index| index + 1);
                &self.errors[..end]
            }
            None => &self.errors[..0],
        }
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
            "note: the signature on depth {} `{}` could not be checked: edgeprobe cannot verify {} (OpenSSL can), so the chain is not judged OK",
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
/// or extensions. Tells apart two generations of a CA that share a name (regenerated test
/// certificates), which name matching cannot. A signature that cannot be checked is not counted
/// as a match.
pub fn is_signed_by(
    certificate: &CertificateDer<'static>,
    issuer: &CertificateDer<'static>,
) -> bool {
    let (Ok(certificate), Ok(issuer)) = (
        Facts::parse(certificate, false, None),
        Facts::parse(issuer, true, None),
    ) else {
        return false;
    };
    certificate.signature_verifies_with(&issuer).is_ok()
}

/// Verify `presented` (leaf first, as the server sent it) against `trusted` roots.
pub fn verify_chain(
    presented: &[CertificateDer<'static>],
    trusted: &[CertificateDer<'static>],
    options: &VerifyOptions<'_>,
) -> Result<Verification, UnparseableCertificate> {
    let store = plain_store(trusted);
    verify_chain_with_store(presented, &store, options)
}

/// Store certificates without trust settings.
fn plain_store(trusted: &[CertificateDer<'static>]) -> Vec<StoreCertificate> {
    trusted
        .iter()
        .map(|der| StoreCertificate {
            der: der.clone(),
            trust: None,
        })
        .collect()
}

/// [`verify_chain`] with trust settings on the store's certificates, as OpenSSL's `-CAfile`
/// and `-trusted` load `TRUSTED CERTIFICATE` blocks.
pub fn verify_chain_with_store(
    presented: &[CertificateDer<'static>],
    store: &[StoreCertificate],
    options: &VerifyOptions<'_>,
) -> Result<Verification, UnparseableCertificate> {
    run_verification(presented, store, options, true)
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
    let store = plain_store(trusted);
    run_verification(presented, &store, &options, false).map(|verification| verification.chain)
}

fn run_verification(
    presented: &[CertificateDer<'static>],
    store: &[StoreCertificate],
    options: &VerifyOptions<'_>,
    all_steps: bool,
) -> Result<Verification, UnparseableCertificate> {
    let presented = &presented[..presented.len().min(MAX_PRESENTED)];
    let peer = presented
        .iter()
        .enumerate()
        .map(|(index, der)| {
            Facts::parse(der, false, None).map_err(|reason| UnparseableCertificate {
                origin: "the presented chain",
                position: index + 1,
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let store = store
        .iter()
        .enumerate()
        .map(|(index, certificate)| {
            Facts::parse(&certificate.der, true, certificate.trust.clone()).map_err(|reason| {
                UnparseableCertificate {
                    origin: "the trusted root file",
                    position: index + 1,
                    reason,
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(leaf) = peer.first() else {
        return Err(UnparseableCertificate {
            origin: "the presented chain",
            position: 1,
            reason: "no certificate was presented".to_owned(),
        });
    };

    let trust = trust_for_verify(options.purpose);
    let mut run = Run {
        options,
        trust,
        chain: vec![leaf],
        num_untrusted: 1,
        errors: Vec::new(),
        unchecked_signatures: Vec::new(),
        store: &store,
    };
    // "If the peer's public key is too weak, we can stop early."
    if !run.key_level_ok(leaf) {
        run.error(VerifyCode::EeKeyTooSmall, 0);
    }
    run.build_chain(&peer[1..]);
    if all_steps {
        run.check_extensions();
        run.check_auth_level();
        run.check_id();
        run.internal_verify();
        run.check_name_constraints();
    }

    let chain = run
        .chain
        .iter()
        .enumerate()
        .map(|(depth, facts)| ChainLink {
            depth,
            subject: facts.subject_text.clone(),
            issuer: facts.issuer_text.clone(),
            from_trust_store: facts.from_store,
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
    options: &'a VerifyOptions<'a>,
    trust: TrustId,
    store: &'a [Facts],
    chain: Vec<&'a Facts>,
    /// How many certificates at the start of the chain came from the peer.
    num_untrusted: usize,
    errors: Vec<VerifyError>,
    unchecked_signatures: Vec<UncheckedSignature>,
}

/// What check_trust decided (X509_TRUST_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    Trusted,
    /// Not (yet) trusted; a rejection is reported to the callback and then counts as this.
    Untrusted,
}

impl<'a> Run<'a> {
    /// The verify callback is told of an error: recorded, and verification goes on, as
    /// s_client's callback lets it (`openssl verify` stops at the first error it does not
    /// tolerate, see [`Verification::openssl_verify_error`]).
    fn error(&mut self, code: VerifyCode, depth: usize) {
        let facts = self.chain[depth.min(self.chain.len() - 1)];
        self.error_for(code, depth, facts);
    }

    fn error_for(&mut self, code: VerifyCode, depth: usize, facts: &Facts) {
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

    fn contains(&self, candidate: &Facts) -> bool {
        self.chain.iter().any(|link| link.der == candidate.der)
    }

    /// `ossl_x509_check_cert_time(ctx, x, -1)`: within its validity period (always, with
    /// -no_check_time).
    fn time_ok(&self, facts: &Facts) -> bool {
        self.options
            .time
            .is_none_or(|now| facts.not_before <= now && now <= facts.not_after)
    }

    /// OpenSSL's `build_chain` with X509_V_FLAG_TRUSTED_FIRST (always on since 1.1.0, so
    /// alternate chains are never needed).
    fn build_chain(&mut self, peer: &'a [Facts]) {
        let mut untrusted: Vec<&'a Facts> = peer.iter().collect();
        // -verify_depth N bounds the CA certificates between leaf and anchor (default 100);
        // chains are built one longer, to tell "too long" from "no issuer".
        let max_depth = self.options.verify_depth.unwrap_or(MAX_DEPTH) + 1;
        let mut search_untrusted = !peer.is_empty();
        let mut search_trusted = true;
        let mut trust = Trust::Untrusted;
        while search_untrusted || search_trusted {
            if search_trusted {
                let num = self.chain.len();
                let current = self.top();
                let issuer = if num > max_depth {
                    None
                } else {
                    self.find_issuer_in(self.store, current)
                };
                if let Some(issuer) = issuer {
                    let mut added = false;
                    let mut look_further = false;
                    if !current.is_self_signed() {
                        self.chain.push(issuer);
                        added = true;
                        look_further = !issuer.is_self_signed();
                    } else if current.der == issuer.der {
                        // The peer sent the trust anchor itself: use the trusted copy.
                        self.chain[num - 1] = issuer;
                        self.num_untrusted = num - 1;
                        added = true;
                    }
                    // Otherwise a self-signed untrusted mimic of a trust anchor: no.
                    if added {
                        // Once a trusted certificate is in, the peer's are no longer searched.
                        search_untrusted = false;
                        trust = self.check_trust(self.chain.len() - 1);
                        if trust != Trust::Untrusted {
                            break;
                        }
                        if look_further {
                            continue;
                        }
                    }
                }
                if !search_untrusted {
                    break;
                }
            }
            if search_untrusted {
                let current = self.top();
                let issuer = if current.is_self_signed() || self.chain.len() > max_depth {
                    None
                } else {
                    self.find_issuer_in(untrusted.iter().copied(), current)
                };
                match issuer {
                    None => {
                        search_untrusted = false;
                        search_trusted = true;
                    }
                    Some(issuer) => {
                        untrusted.retain(|candidate| !std::ptr::eq(*candidate, issuer));
                        self.chain.push(issuer);
                        self.num_untrusted += 1;
                    }
                }
            }
        }

        let num = self.chain.len();
        if num <= max_depth && trust == Trust::Untrusted && num == self.num_untrusted {
            trust = self.check_trust(num);
        }
        match trust {
            Trust::Trusted => {}
            Trust::Untrusted => {
                let depth = num - 1;
                // "A preliminary error has become final": an error already reported (a weak
                // leaf key, a rejected certificate) is reported again, at the top, in place
                // of the chain-building verdict.
                if let Some(previous) = self.errors.last().map(|error| error.code) {
                    self.error(previous, depth);
                    return;
                }
                let code = if num > max_depth {
                    VerifyCode::CertChainTooLong
                } else if self.top().is_self_signed() {
                    if num == 1 {
                        VerifyCode::DepthZeroSelfSignedCert
                    } else {
                        VerifyCode::SelfSignedCertInChain
                    }
                } else if self.num_untrusted < num {
                    VerifyCode::UnableToGetIssuerCert
                } else {
                    VerifyCode::UnableToGetIssuerCertLocally
                };
                // The callback lets verification go on (s_client does), with the chain as
                // built.
                self.error(code, depth);
            }
        }
    }

    /// x509_vfy.c `find_issuer`: the first candidate that is likely the issuer and currently
    /// valid, else the matching one that expires last. A certificate already in the chain is
    /// skipped, except for a self-issued leaf looking for itself.
    fn find_issuer_in(
        &self,
        candidates: impl IntoIterator<Item = &'a Facts>,
        subject: &Facts,
    ) -> Option<&'a Facts> {
        let mut fallback: Option<&'a Facts> = None;
        for candidate in candidates {
            if !candidate.likely_issued(subject)
                || !((subject.self_issued && self.chain.len() == 1) || !self.contains(candidate))
            {
                continue;
            }
            if self.time_ok(candidate) {
                return Some(candidate);
            }
            if fallback.is_none_or(|best| candidate.not_after > best.not_after) {
                fallback = Some(candidate);
            }
        }
        fallback
    }

    /// x509_vfy.c `check_trust(ctx, num_untrusted)`: the store certificates at depth
    /// `num_untrusted` and up decide by their trust settings; a partial chain is trusted with
    /// -partial_chain; as a last resort (-partial_chain) the leaf itself may be in the store.
    fn check_trust(&mut self, num_untrusted: usize) -> Trust {
        let num = self.chain.len();
        for depth in num_untrusted..num {
            let facts = self.chain[depth];
            match self.trust_of(facts, TrustFlags::NONE) {
                TrustVerdict::Trusted => return Trust::Trusted,
                TrustVerdict::Rejected => {
                    self.error(VerifyCode::CertRejected, depth);
                    return Trust::Untrusted;
                }
                TrustVerdict::Untrusted => {}
            }
        }
        if num_untrusted < num {
            return if self.options.partial_chain {
                Trust::Trusted
            } else {
                Trust::Untrusted
            };
        }
        if num_untrusted == num && self.options.partial_chain {
            // Last resort: the leaf itself in the store, byte for byte.
            let leaf = self.chain[0];
            let Some(matched) = self.store.iter().find(|candidate| {
                candidate.subject_name == leaf.subject_name && candidate.der == leaf.der
            }) else {
                return Trust::Untrusted;
            };
            if self.trust_of(matched, TrustFlags::NONE) == TrustVerdict::Rejected {
                self.error(VerifyCode::CertRejected, 0);
                return Trust::Untrusted;
            }
            self.chain[0] = matched;
            self.num_untrusted = 0;
            return Trust::Trusted;
        }
        Trust::Untrusted
    }

    /// X509_check_trust(x, ctx->param->trust, flags).
    fn trust_of(&self, facts: &Facts, flags: TrustFlags) -> TrustVerdict {
        check_trust(
            facts.trust_settings.as_ref(),
            facts.self_signed,
            !facts.invalid,
            self.trust,
            flags,
        )
    }

    /// OpenSSL's `check_extensions`.
    fn check_extensions(&mut self) {
        let num = self.chain.len();
        let strict = self.options.x509_strict;
        let mut must_be_ca: i8 = -1;
        let mut path_length: u64 = 0;
        let mut proxy_path_length: u64 = 0;
        for depth in 0..num {
            let facts = self.chain[depth];
            if facts.unhandled_critical_extension {
                self.error(VerifyCode::UnhandledCriticalExtension, depth);
            }
            if !self.options.allow_proxy_certs && facts.proxy {
                self.error(VerifyCode::ProxyCertificatesNotAllowed, depth);
            }
            let ca = facts.check_ca();
            match must_be_ca {
                -1 => {
                    if strict && ca != 1 && ca != 0 {
                        self.error(VerifyCode::InvalidCa, depth);
                    }
                }
                0 => {
                    if ca != 0 {
                        self.error(VerifyCode::InvalidNonCa, depth);
                    }
                }
                _ => {
                    // "X509_V_FLAG_X509_STRICT is implicit for intermediate CAs".
                    if ca == 0 || ((depth + 1 < num || strict) && ca != 1) {
                        self.error(VerifyCode::InvalidCa, depth);
                    }
                }
            }
            if num > 1 {
                if !facts.key.decodes {
                    self.error(VerifyCode::Unspecified, depth);
                } else if facts.key.ec_explicit_parameters {
                    self.error(VerifyCode::EcKeyExplicitParams, depth);
                }
            }
            if strict && num > 1 {
                self.check_strict(facts, depth, num);
            }
            if let Some(purpose) = self.options.purpose {
                self.check_purpose(facts, purpose, depth, must_be_ca);
            }
            if depth > 1
                && let Some(limit) = facts.path_len
                && path_length > limit + proxy_path_length
            {
                self.error(VerifyCode::PathLengthExceeded, depth);
            }
            if depth > 0 && !facts.self_issued {
                path_length += 1;
            }
            if facts.proxy {
                if let Some(limit) = facts.proxy_path_len {
                    if proxy_path_length > limit {
                        self.error(VerifyCode::ProxyPathLengthExceeded, depth);
                    }
                    proxy_path_length = limit;
                }
                proxy_path_length += 1;
                must_be_ca = 0;
            } else {
                must_be_ca = 1;
            }
        }
    }

    /// The -x509_strict profile checks of `check_extensions` (RFC 5280 as OpenSSL 3.0 reads
    /// it: codes 80 to 93).
    fn check_strict(&mut self, facts: &Facts, depth: usize, num: usize) {
        use super::certificate_facts::{KU_CRL_SIGN, KU_KEY_CERT_SIGN};
        if facts.path_len.is_some() {
            if !facts.ca {
                self.error(VerifyCode::PathlenInvalidForNonCa, depth);
            }
            if facts
                .key_usage
                .is_none_or(|usage| usage & KU_KEY_CERT_SIGN == 0)
            {
                self.error(VerifyCode::PathlenWithoutKuKeyCertSign, depth);
            }
        }
        if facts.ca && facts.basic_constraints && !facts.basic_constraints_critical {
            self.error(VerifyCode::CaBconsNotCritical, depth);
        }
        if facts.ca {
            if facts.key_usage.is_none() {
                self.error(VerifyCode::CaCertMissingKeyUsage, depth);
            }
        } else if facts
            .key_usage
            .is_some_and(|usage| usage & KU_KEY_CERT_SIGN != 0)
        {
            self.error(VerifyCode::KuKeyCertSignInvalidForNonCa, depth);
        }
        if facts.issuer_entry_count == 0 {
            self.error(VerifyCode::IssuerNameEmpty, depth);
        }
        if (facts.ca
            || facts
                .key_usage
                .is_some_and(|usage| usage & KU_CRL_SIGN != 0)
            || facts.subject_alt_names.is_none())
            && facts.subject_entry_count == 0
        {
            self.error(VerifyCode::SubjectNameEmpty, depth);
        }
        if facts.subject_entry_count == 0
            && facts.subject_alt_names.is_some()
            && !facts.subject_alt_name_critical
        {
            self.error(VerifyCode::EmptySubjectSanNotCritical, depth);
        }
        if facts.subject_alt_names == Some(0) {
            self.error(VerifyCode::EmptySubjectAltName, depth);
        }
        if facts.outer_algorithm != facts.inner_algorithm {
            self.error(VerifyCode::SignatureAlgorithmInconsistency, depth);
        }
        if facts.authority_key_id.is_some() && facts.authority_key_id_critical {
            self.error(VerifyCode::AuthorityKeyIdentifierCritical, depth);
        }
        if facts.subject_key_id.is_some() && facts.subject_key_id_critical {
            self.error(VerifyCode::SubjectKeyIdentifierCritical, depth);
        }
        if facts.version >= 3 {
            if depth + 1 < num
                && facts
                    .authority_key_id
                    .as_ref()
                    .is_none_or(|akid| akid.key_id.is_none())
            {
                self.error(VerifyCode::MissingAuthorityKeyIdentifier, depth);
            }
            if facts.ca && facts.subject_key_id.is_none() {
                self.error(VerifyCode::MissingSubjectKeyIdentifier, depth);
            }
        } else if facts.extension_count > 0 {
            self.error(VerifyCode::ExtensionsRequireVersion3, depth);
        }
    }

    /// x509_vfy.c `check_purpose`: for a store certificate, explicit trust settings may
    /// override the purpose (trust wins, reject fails); otherwise X509_check_purpose decides.
    fn check_purpose(&mut self, facts: &Facts, purpose: Purpose, depth: usize, must_be_ca: i8) {
        let trust = if depth >= self.num_untrusted {
            self.trust_of(facts, TrustFlags::NO_SS_COMPAT)
        } else {
            TrustVerdict::Untrusted
        };
        let suits = match trust {
            TrustVerdict::Trusted => true,
            TrustVerdict::Rejected => false,
            TrustVerdict::Untrusted => match facts.check_purpose(purpose, must_be_ca > 0) {
                1 => true,
                0 => false,
                _ => !self.options.x509_strict,
            },
        };
        if !suits {
            self.error(VerifyCode::InvalidPurpose, depth);
        }
    }

    /// `check_key_level`: the key reaches the security level's minimum bits; an undecodable
    /// key never does.
    fn key_level_ok(&self, facts: &Facts) -> bool {
        let Some(minimum) = minimum_security_bits(self.options.security_level) else {
            return true;
        };
        facts.key.decodes && facts.key.security_bits.is_some_and(|bits| bits >= minimum)
    }

    /// OpenSSL's `check_auth_level`: issuer keys and the signatures of every certificate but
    /// the trust anchor must reach the security level.
    fn check_auth_level(&mut self) {
        let Some(minimum) = minimum_security_bits(self.options.security_level) else {
            return;
        };
        let num = self.chain.len();
        for depth in 0..num {
            let facts = self.chain[depth];
            if depth > 0 && !self.key_level_ok(facts) {
                self.error(VerifyCode::CaKeyTooSmall, depth);
            }
            if depth + 1 < num
                && facts
                    .signature_info
                    .as_ref()
                    .is_none_or(|info| info.security_bits < minimum)
            {
                self.error(VerifyCode::CaMdTooWeak, depth);
            }
        }
    }

    /// OpenSSL's `check_id`: X509_check_host for a name, X509_check_ip for an address,
    /// X509_check_email for -verify_email.
    fn check_id(&mut self) {
        let leaf = self.chain[0];
        if let Some(host) = self.options.host
            && let NameMatch::Mismatch { kind, .. } = match_server_name(
                host,
                &leaf.dns_names,
                &leaf.ip_addresses,
                &leaf.common_names,
            )
        {
            let code = match kind {
                MismatchKind::Dns => VerifyCode::HostnameMismatch,
                MismatchKind::Ip => VerifyCode::IpAddressMismatch,
            };
            self.error(code, 0);
        }
        if let Some(email) = self.options.email {
            // X509_check_email: rfc822Name SANs, or the subject's emailAddress when the
            // certificate has no rfc822Name; the domain part compares case-insensitively.
            let candidates = if leaf.email_addresses.is_empty() {
                &leaf.subject_email_addresses
            } else {
                &leaf.email_addresses
            };
            if !candidates
                .iter()
                .any(|candidate| email_matches(candidate, email))
            {
                self.error(VerifyCode::EmailMismatch, 0);
            }
        }
    }

    /// OpenSSL's `internal_verify`: walk down from the top, checking each signature with its
    /// issuer's key and each certificate's validity period.
    fn internal_verify(&mut self) {
        let mut depth = self.chain.len() - 1;
        let mut issuer = self.chain[depth];
        let mut subject = issuer;
        if !issuer.likely_issued(issuer) && !self.options.partial_chain {
            if depth > 0 {
                // The top's own signature cannot be checked without its issuer.
                depth -= 1;
                subject = self.chain[depth];
            } else {
                self.error(VerifyCode::UnableToVerifyLeafSignature, 0);
            }
        }
        loop {
            let same = std::ptr::eq(subject, issuer);
            // Self-signed signatures are only checked with -check_ss_sig.
            if !same || (self.options.check_self_signature && issuer.self_signed) {
                let issuer_depth = depth + usize::from(!same);
                let allowed = if same && !issuer.ca {
                    Ok(())
                } else {
                    issuer.signing_allowed(subject)
                };
                if let Err(code) = allowed {
                    self.error_for(code, issuer_depth, issuer);
                }
                if !issuer.key.decodes {
                    self.error_for(
                        VerifyCode::UnableToDecodeIssuerPublicKey,
                        issuer_depth,
                        issuer,
                    );
                } else {
                    match subject.signature_verifies_with(issuer) {
                        Ok(()) => {}
                        Err(SignatureError::Unsupported { algorithm }) => {
                            // OpenSSL would check this signature; edgeprobe cannot, so the
                            // chain is not judged OK (a false OK is the worst outcome).
                            self.unchecked_signatures.push(UncheckedSignature {
                                depth,
                                subject: subject.subject_text.clone(),
                                algorithm,
                            });
                            self.error(VerifyCode::Unspecified, depth);
                        }
                        Err(_) => self.error(VerifyCode::CertSignatureFailure, depth),
                    }
                }
            }
            self.check_time(subject, depth);
            if depth == 0 {
                break;
            }
            depth -= 1;
            issuer = subject;
            subject = self.chain[depth];
        }
    }

    fn check_time(&mut self, facts: &Facts, depth: usize) {
        let Some(now) = self.options.time else {
            return;
        };
        if now < facts.not_before {
            self.error(VerifyCode::CertNotYetValid, depth);
        }
        if now > facts.not_after {
            self.error(VerifyCode::CertHasExpired, depth);
        }
    }

    /// OpenSSL's `check_name_constraints`: from the top down, every certificate (self-issued
    /// intermediates excepted) against the name constraints of every certificate above it;
    /// proxy certificates must be named after their issuer plus one CN.
    fn check_name_constraints(&mut self) {
        let num = self.chain.len();
        for depth in (0..num).rev() {
            let facts = self.chain[depth];
            if depth != 0 && facts.self_issued {
                continue;
            }
            if facts.proxy && !proxy_name_ok(facts) {
                self.error(VerifyCode::ProxySubjectNameViolation, depth);
            }
            for above in (depth + 1..num).rev() {
                let Some(constraints) = &self.chain[above].name_constraints else {
                    continue;
                };
                let mut result = name_constraints::check(facts.der.as_ref(), constraints);
                // For the leaf, DNS-looking CNs too, unless it has a DNS SAN.
                if result.is_ok() && depth == 0 && facts.dns_names.is_empty() {
                    result = name_constraints::check_common_names(facts.der.as_ref(), constraints);
                }
                if let Err(code) = result {
                    self.error(code, depth);
                }
            }
        }
    }
}

/// RFC 3820 3.4: a proxy certificate's subject is its issuer's name with one more CN, in an
/// RDN of its own.
fn proxy_name_ok(facts: &Facts) -> bool {
    let count = facts.subject_entry_count;
    if count < 2 || count != facts.issuer_entry_count + 1 {
        return false;
    }
    let sets = &facts.subject_entry_sets;
    if sets[count - 1] == sets[count - 2] {
        return false;
    }
    facts.subject_last_entry_is_common_name && facts.subject_name_without_last == facts.issuer_name
}

/// X509_check_email's comparison: the local part exactly, the domain case-insensitively.
fn email_matches(candidate: &str, wanted: &str) -> bool {
    match (candidate.rsplit_once('@'), wanted.rsplit_once('@')) {
        (Some((local, domain)), Some((wanted_local, wanted_domain))) => {
            local == wanted_local && domain.eq_ignore_ascii_case(wanted_domain)
        }
        _ => candidate.eq_ignore_ascii_case(wanted),
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

    /// Root, intermediate and a server leaf named `leaf_name`: the chain most tests start from.
    fn root_intermediate_leaf(leaf_name: &'static str) -> (Authority, Authority, Authority) {
        let root = issue(&ca("Root"), None);
        let intermediate = issue(&ca("Intermediate"), Some(&root));
        let leaf = issue(&server(leaf_name), Some(&intermediate));
        (root, intermediate, leaf)
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

    /// `leaf` issued by a new root and verified (alone) against that root.
    fn verify_under_root(leaf: &Spec) -> Verification {
        let root = issue(&ca("Root"), None);
        verify(&[&issue(leaf, Some(&root))], &[&root])
    }

    /// A server leaf `gw` under an intermediate made from `intermediate`, under a root made
    /// from `root`: the chain presented as leaf and intermediate, verified against the root.
    fn verify_through(root: &Spec, intermediate: &Spec) -> Verification {
        let root = issue(root, None);
        let intermediate = issue(intermediate, Some(&root));
        let leaf = issue(&server("gw"), Some(&intermediate));
        verify(&[&leaf, &intermediate], &[&root])
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
        let (root, intermediate, leaf) = root_intermediate_leaf("gw.contoso.com");
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
        let (root, _intermediate, leaf) = root_intermediate_leaf("gw");
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
        let (root, intermediate, leaf) = root_intermediate_leaf("gw");
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
        let (_root, intermediate, leaf) = root_intermediate_leaf("gw");
        assert_eq!(
            verify(&[&leaf, &intermediate], &[&intermediate]).code(),
            VerifyCode::UnableToGetIssuerCert
        );
    }

    #[test]
    fn expired_and_not_yet_valid() {
        let mut expired = server("gw");
        expired.not_after = datetime!(2026-05-01 00:00 UTC);
        let verification = verify_under_root(&expired);
        assert_eq!(verification.code(), VerifyCode::CertHasExpired);
        assert_eq!(verification.final_error().map(|e| e.depth), Some(0));
        let mut future = server("gw");
        future.not_before = datetime!(2026-07-01 00:00 UTC);
        assert_eq!(
            verify_under_root(&future).code(),
            VerifyCode::CertNotYetValid
        );
    }

    #[test]
    fn non_ca_issuer_is_79_and_missing_cert_sign_is_32() {
        let mut not_ca = ca("Not A CA");
        not_ca.ca = None;
        not_ca.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let verification = verify_through(&ca("Root"), &not_ca);
        assert!(
            verification.has(VerifyCode::InvalidCa),
            "{:?}",
            verification.errors
        );
        let mut no_cert_sign = ca("No CertSign");
        no_cert_sign.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        assert_eq!(
            verify_through(&ca("Root"), &no_cert_sign).code(),
            VerifyCode::KeyUsageNoCertSign
        );
    }

    #[test]
    fn path_length_is_25() {
        let mut constrained = ca("Root");
        constrained.ca = Some(BasicConstraints::Constrained(0));
        assert!(
            verify_through(&constrained, &ca("Intermediate")).has(VerifyCode::PathLengthExceeded)
        );
    }

    #[test]
    fn client_auth_only_server_is_26() {
        let mut client = server("gw");
        client.server_auth = false;
        client.client_auth_only = true;
        assert_eq!(
            verify_under_root(&client).code(),
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
        let (root, intermediate, leaf) = root_intermediate_leaf("gw");
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
