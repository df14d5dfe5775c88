//! The verdicts on a presented chain, reached once per distinct question: OpenSSL's
//! ([`verify_chain_with_store`] with the anchors' trust settings) and rustls/webpki's
//! ([`strict_verdict`]), side by side in one [`ChainVerdict`].
//!
//! A question is the chain, the trust anchors, the name dialed and the time; the time is the
//! caller's clock, passed in (as rustls-webpki takes `now`), never read here. [`Verdicts`]
//! remembers recent answers: a gateway presents one chain on all three ports, and in fleet mode
//! many gateways present the same one, so verifying once instead of once per port is most of a
//! run's signature checks. The network layer only observes; it never asks for a verdict.

use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::TrustAnchors;
use super::VerifyCode;
use super::strict::{
    StrictVerdict, server_name, strict_path, strict_verdict, strict_verdict_for_name, unix_time,
};
use super::verify::{
    UnparseableCertificate, Verification, VerifyError, VerifyOptions, verify_chain_with_store,
};
use crate::hostname::HostName;
use crate::memo::Memo;

/// SHA-256 over a chain's certificates (each length-prefixed, in order): what tells one chain
/// from another, here and wherever ports are grouped by the chain they presented.
pub type ChainDigest = [u8; 32];

pub fn chain_digest(chain: &[CertificateDer<'_>]) -> ChainDigest {
    // ring's SHA-256 (assembly, with the CPU's SHA extensions where it has them): this runs for
    // every port of every gateway, and the portable implementation of `sha2` took several times
    // as long. The same function, so the same digest.
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for certificate in chain {
        digest.update(&(certificate.len() as u64).to_be_bytes());
        digest.update(certificate.as_ref());
    }
    let mut bytes = [0; 32];
    bytes.copy_from_slice(digest.finish().as_ref());
    bytes
}

/// What is asked about a chain.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The roots a client of this endpoint holds; `None` when none is known (every chain then
    /// ends in "unable to get local issuer certificate", and webpki gives no verdict).
    pub anchors: Option<&'a TrustAnchors>,
    /// The name the client dials: webpki always judges it when given.
    pub name: Option<&'a HostName>,
    /// Whether OpenSSL's verdict includes the name (`-verify_hostname`: codes 62 and 64), as
    /// `s_client` and the gateway suite ask, or leaves it to a check of its own, as the leaf
    /// suite does (`gateway-cert-hostname`).
    pub openssl_checks_name: bool,
    /// The caller's clock.
    pub now: OffsetDateTime,
}

/// OpenSSL's and rustls/webpki's verdicts on one chain, for one question.
#[derive(Debug, Clone, Serialize)]
pub struct ChainVerdict {
    /// `Err` when a certificate cannot be parsed at all (OpenSSL fails before verifying).
    #[serde(serialize_with = "openssl_json")]
    pub openssl: Result<Verification, UnparseableCertificate>,
    /// `None` without anchors webpki can use.
    pub strict: Option<StrictVerdict>,
}

fn openssl_json<S: serde::Serializer>(
    openssl: &Result<Verification, UnparseableCertificate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match openssl {
        Ok(verification) => verification.serialize(serializer),
        Err(error) => {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("unparseable", &error.to_string())?;
            map.end()
        }
    }
}

impl ChainVerdict {
    /// Reaches both verdicts now, without remembering them (for a one-off like `connect`).
    pub fn reach(chain: &[CertificateDer<'static>], question: &Question<'_>) -> ChainVerdict {
        let sni = question.name.and_then(|name| server_name(&name.name));
        ChainVerdict {
            openssl: openssl_verdict(chain, question),
            strict: strict_verdict(
                chain,
                roots(question),
                sni.as_ref(),
                unix_time(question.now),
            ),
        }
    }

    /// The code `s_client` reports (`None` when the chain could not be parsed).
    pub fn code(&self) -> Option<VerifyCode> {
        self.openssl.as_ref().ok().map(Verification::code)
    }
}

/// OpenSSL's verdict alone, with the name only when the question has OpenSSL check it.
fn openssl_verdict(
    chain: &[CertificateDer<'static>],
    question: &Question<'_>,
) -> Result<Verification, UnparseableCertificate> {
    let host = question.name.filter(|_| question.openssl_checks_name);
    let options = VerifyOptions::tls_server(host, question.now);
    let store = question
        .anchors
        .map(TrustAnchors::store)
        .unwrap_or_default();
    verify_chain_with_store(chain, &store, &options)
}

fn roots<'a>(question: &Question<'a>) -> &'a [CertificateDer<'static>] {
    question
        .anchors
        .map(|anchors| anchors.certificates.as_slice())
        .unwrap_or_default()
}

/// One `verify error:num=N:text at depth D (`subject`)` line, as the checks list every error
/// OpenSSL's verify callback saw (s_client's `verify error:num=` lines, with the certificate).
pub fn verify_error_line(error: &VerifyError) -> String {
    format!(
        "verify error:num={}:{} at depth {} (`{}`)",
        error.code.number(),
        error.code.text(),
        error.depth,
        error.subject
    )
}

/// The most verdicts remembered, so memory stays bounded in fleet mode.
const VERDICTS_KEPT: usize = 4096;

/// Everything a verdict depends on: the chain, the anchors (certificates and trust settings),
/// the name as OpenSSL compares it (a trailing dot matters there), which verifier checks it,
/// and the time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    chain: ChainDigest,
    anchors: Option<[u8; 32]>,
    name: Option<(String, bool)>,
    openssl_checks_name: bool,
    now: OffsetDateTime,
}

/// What a verdict depends on besides the name: a fleet's gateways are many names presenting
/// one chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ChainKey {
    chain: ChainDigest,
    anchors: Option<[u8; 32]>,
    now: OffsetDateTime,
}

/// Recent verdicts, shared by every check of a run (and every target of a fleet run); bounded.
/// Beside whole verdicts it keeps the parts that do not depend on the name (OpenSSL's verdict
/// when the name is left to a check of its own, webpki's path), so a chain's signatures are
/// checked once however many names present it.
#[derive(Debug)]
pub struct Verdicts {
    memo: Memo<Key, Arc<ChainVerdict>>,
    openssl_without_name: Memo<ChainKey, Arc<Result<Verification, UnparseableCertificate>>>,
    strict_paths: Memo<ChainKey, Option<Result<(), webpki::Error>>>,
}

impl Default for Verdicts {
    fn default() -> Self {
        Verdicts {
            memo: Memo::new(VERDICTS_KEPT),
            openssl_without_name: Memo::new(VERDICTS_KEPT),
            strict_paths: Memo::new(VERDICTS_KEPT),
        }
    }
}

/// The memo keys of `question` about the chain of `digest`: the part that does not depend on
/// the name, and the whole question.
fn keys(digest: ChainDigest, question: &Question<'_>) -> (ChainKey, Key) {
    let chain_key = ChainKey {
        chain: digest,
        anchors: question
            .anchors
            .map(|anchors| *anchors.digest.get_or_init(|| anchors_digest(anchors))),
        now: question.now,
    };
    let key = Key {
        chain: chain_key.chain,
        anchors: chain_key.anchors,
        name: question
            .name
            .map(|name| (name.name.clone(), name.trailing_dot)),
        openssl_checks_name: question.openssl_checks_name,
        now: question.now,
    };
    (chain_key, key)
}

impl Verdicts {
    /// The verdict on `chain` (leaf first, as sent) for `question`, reached on the first ask
    /// and shared afterwards; concurrent askers of the same question wait for the first one's.
    pub fn judge(
        &self,
        chain: &[CertificateDer<'static>],
        question: &Question<'_>,
    ) -> Arc<ChainVerdict> {
        self.judge_digested(chain, chain_digest(chain), question)
    }

    /// [`Verdicts::judge`] for a chain whose [`chain_digest`] is known already (a presented
    /// chain carries it): the digest is not computed again for every check that asks.
    pub fn judge_digested(
        &self,
        chain: &[CertificateDer<'static>],
        digest: ChainDigest,
        question: &Question<'_>,
    ) -> Arc<ChainVerdict> {
        debug_assert_eq!(digest, chain_digest(chain));
        let (chain_key, key) = keys(digest, question);
        self.memo.get_or_compute(key, || {
            Arc::new(self.reach_sharing_parts(chain, question, chain_key))
        })
    }

    /// Marks `question` about the chain of `digest` as asked, so that whoever asks it next
    /// waits for the first asker's verdict: `true` for the first, when the chain's signatures
    /// have not been checked for another name yet. For a caller that has the verdict reached on
    /// another thread ahead of the checks that ask, and wants that only once however many
    /// ports present the chain. Once another name's verdict on the chain has checked its
    /// signatures (a fleet's gateways present one chain), what is left is the name, which costs
    /// less where it is asked than a hand-over to another thread and back (in fleet mode it
    /// woke a pool thread for every gateway: 4.6 futex calls per gateway).
    pub fn reserve(&self, digest: ChainDigest, question: &Question<'_>) -> bool {
        let (chain_key, key) = keys(digest, question);
        // Both marked, whatever the first says: the chain's path check is what every
        // verdict on it computes first (`reach_sharing_parts`).
        self.memo.reserve(key) & self.strict_paths.reserve(chain_key)
    }

    /// [`ChainVerdict::reach`], taking the parts that do not depend on the name from the memo.
    fn reach_sharing_parts(
        &self,
        chain: &[CertificateDer<'static>],
        question: &Question<'_>,
        chain_key: ChainKey,
    ) -> ChainVerdict {
        // Both verifiers check the same signatures with the same ring functions, and
        // `signature_memo` answers each question once per process: OpenSSL's verdict goes
        // first (it checks every signature on its path, carrying on past errors), and webpki's
        // path then finds them answered. One after the other on this thread: run side by side,
        // as they were, the second would only wait for the first's answers, and the thread cost
        // its start-up (callgrind, full leaf check: 26.23 M instructions either way, against
        // 28.46 M when each verified its own; perf stat: about 0.15 ms less task-clock and 5
        // fewer page faults without the thread).
        let openssl = if question.openssl_checks_name {
            openssl_verdict(chain, question)
        } else {
            let shared = self
                .openssl_without_name
                .get_or_compute(chain_key.clone(), || {
                    Arc::new(openssl_verdict(chain, question))
                });
            (*shared).clone()
        };
        let roots = roots(question);
        let path = self.strict_paths.get_or_compute(chain_key, || {
            strict_path(chain, roots, unix_time(question.now))
        });
        let sni = question.name.and_then(|name| server_name(&name.name));
        ChainVerdict {
            openssl,
            strict: path.map(|path| strict_verdict_for_name(path, chain, roots, sni.as_ref())),
        }
    }

    /// How many verdicts are remembered.
    pub fn len(&self) -> usize {
        self.memo.len()
    }

    pub fn is_empty(&self) -> bool {
        self.memo.is_empty()
    }
}

/// The anchors as the verifier sees them: every certificate and its trust settings.
fn anchors_digest(anchors: &TrustAnchors) -> [u8; 32] {
    let mut digest = Sha256::new();
    let field = |digest: &mut Sha256, bytes: &[u8]| {
        digest.update((bytes.len() as u64).to_be_bytes());
        digest.update(bytes);
    };
    for (index, certificate) in anchors.certificates.iter().enumerate() {
        field(&mut digest, certificate.as_ref());
        match anchors.trust_settings.get(index).and_then(Option::as_ref) {
            None => digest.update([0]),
            Some(settings) => {
                digest.update([1]);
                for list in [&settings.trust, &settings.reject] {
                    match list {
                        None => digest.update([0]),
                        Some(oids) => {
                            digest.update([1]);
                            digest.update((oids.len() as u64).to_be_bytes());
                            for oid in oids {
                                field(&mut digest, oid.as_bytes());
                            }
                        }
                    }
                }
                field(
                    &mut digest,
                    settings.alias.as_deref().unwrap_or_default().as_bytes(),
                );
                field(&mut digest, settings.key_id.as_deref().unwrap_or_default());
            }
        }
    }
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::demo::pki::GatewayPki;

    /// ring computes the digest: still SHA-256 over each certificate's length and bytes.
    #[test]
    fn a_chain_digest_is_sha256_of_the_length_prefixed_certificates() {
        let chain = GatewayPki::generate("gw.edgeprobe.test", OffsetDateTime::now_utc())
            .unwrap()
            .server_chain();
        let mut expected = Sha256::new();
        for certificate in &chain {
            expected.update((certificate.len() as u64).to_be_bytes());
            expected.update(certificate.as_ref());
        }
        let expected: ChainDigest = expected.finalize().into();
        assert_eq!(chain_digest(&chain), expected);
        assert_ne!(chain_digest(&chain[..1]), expected);
        assert_ne!(chain_digest(&[]), expected);
    }
    use crate::hostname::validate_hostname;
    use crate::pki::trust_settings::TrustSettings;

    fn question<'a>(
        anchors: &'a TrustAnchors,
        name: &'a HostName,
        now: OffsetDateTime,
    ) -> Question<'a> {
        Question {
            anchors: Some(anchors),
            name: Some(name),
            openssl_checks_name: true,
            now,
        }
    }

    /// As the leaf suite asks: the name is webpki's to judge, and a check of its own.
    fn leaf_question<'a>(
        anchors: &'a TrustAnchors,
        name: &'a HostName,
        now: OffsetDateTime,
    ) -> Question<'a> {
        Question {
            openssl_checks_name: false,
            ..question(anchors, name, now)
        }
    }

    /// The name the generated chain is for, and another it also covers (`*.edgeprobe.test`).
    fn two_names() -> (HostName, HostName) {
        (
            validate_hostname("gateway.edgeprobe.test").expect("name"),
            validate_hostname("other.edgeprobe.test").expect("name"),
        )
    }

    /// A generated gateway's root (as anchors) and server chain.
    fn gateway_chain(now: OffsetDateTime) -> (TrustAnchors, Vec<CertificateDer<'static>>) {
        let pki = GatewayPki::generate("gateway.edgeprobe.test", now).expect("PKI");
        let anchors = TrustAnchors::new(PathBuf::from("root.pem"), vec![pki.root.der.clone()]);
        (anchors, pki.server_chain())
    }

    #[test]
    fn verdicts_are_reused_per_name_chain_anchors_and_time_only() {
        let now = OffsetDateTime::now_utc();
        let (anchors, chain) = gateway_chain(now);
        let good = validate_hostname("gateway.edgeprobe.test").expect("name");
        let verdicts = Verdicts::default();

        let first = verdicts.judge(&chain, &question(&anchors, &good, now));
        assert_eq!(first.code(), Some(VerifyCode::Ok));
        assert_eq!(first.strict, Some(StrictVerdict::Accepted));
        let again = verdicts.judge(&chain, &question(&anchors, &good, now));
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same question is answered once"
        );
        assert_eq!(verdicts.len(), 1);

        let other = validate_hostname("other.edgeprobe.test").expect("name");
        let renamed = verdicts.judge(&chain, &question(&anchors, &other, now));
        assert_eq!(renamed.code(), Some(VerifyCode::HostnameMismatch));
        assert!(matches!(
            renamed.strict,
            Some(StrictVerdict::Rejected {
                name_mismatch: true,
                ..
            })
        ));
        let leaf_only = verdicts.judge(&chain[..1], &question(&anchors, &good, now));
        assert!(matches!(
            leaf_only.strict,
            Some(StrictVerdict::Rejected {
                name_mismatch: false,
                ..
            })
        ));
        let later = verdicts.judge(
            &chain,
            &question(&anchors, &good, now + time::Duration::days(1)),
        );
        assert!(
            !Arc::ptr_eq(&first, &later),
            "another time is another question"
        );
        let name_left_out = verdicts.judge(
            &chain,
            &Question {
                openssl_checks_name: false,
                ..question(&anchors, &other, now)
            },
        );
        assert_eq!(name_left_out.code(), Some(VerifyCode::Ok));
        assert_eq!(
            verdicts.len(),
            5,
            "another name, chain, time or name check is verified on its own"
        );

        // The same certificates with other trust settings are other anchors.
        let mut distrusted = anchors.clone();
        distrusted.trust_settings = vec![Some(TrustSettings {
            reject: Some(vec![crate::pki::oids::OID_PKIX_KP_SERVER_AUTH]),
            ..TrustSettings::default()
        })];
        let rejected = verdicts.judge(&chain, &question(&distrusted, &good, now));
        assert_ne!(rejected.code(), Some(VerifyCode::Ok));
        assert_eq!(verdicts.len(), 6);

        let without_anchors = ChainVerdict::reach(
            &chain,
            &Question {
                anchors: None,
                ..question(&anchors, &good, now)
            },
        );
        assert_eq!(without_anchors.strict, None);
        assert_eq!(
            without_anchors.code(),
            Some(VerifyCode::UnableToGetIssuerCertLocally)
        );
    }

    /// Fleet mode: the first gateway's verdict is worth a thread of its own (the chain's
    /// signatures); the next name on the same chain only needs its name judged.
    #[test]
    fn only_a_chain_not_yet_judged_is_reserved_for_another_thread() {
        let now = OffsetDateTime::now_utc();
        let (anchors, chain) = gateway_chain(now);
        let digest = chain_digest(&chain);
        let (good, other) = two_names();
        let verdicts = Verdicts::default();
        let leaf_question = |name| leaf_question(&anchors, name, now);
        assert!(
            verdicts.reserve(digest, &leaf_question(&good)),
            "a new chain"
        );
        assert!(
            !verdicts.reserve(digest, &leaf_question(&good)),
            "the same question again (another port)"
        );
        assert!(
            !verdicts.reserve(digest, &leaf_question(&other)),
            "another name on a chain whose signatures are under way"
        );
        // Reserved but not computed by anyone: each asker computes its own, to the same
        // verdicts as a fresh verification.
        for name in [&good, &other] {
            let verdict = verdicts.judge_digested(&chain, digest, &leaf_question(name));
            let fresh = ChainVerdict::reach(&chain, &leaf_question(name));
            assert_eq!(verdict.code(), fresh.code());
            assert_eq!(verdict.strict, fresh.strict);
        }
        let (_, changed) = gateway_chain(now);
        assert!(
            verdicts.reserve(chain_digest(&changed), &leaf_question(&other)),
            "another chain is new again"
        );
    }

    #[test]
    fn names_presenting_one_chain_share_its_signature_checks() {
        let now = OffsetDateTime::now_utc();
        let (anchors, chain) = gateway_chain(now);
        let (good, other) = two_names();
        let verdicts = Verdicts::default();
        let leaf_question = |name| leaf_question(&anchors, name, now);

        let for_good = verdicts.judge(&chain, &leaf_question(&good));
        let for_other = verdicts.judge(&chain, &leaf_question(&other));
        assert_eq!(verdicts.len(), 2, "one verdict per name");
        assert_eq!(verdicts.openssl_without_name.len(), 1);
        assert_eq!(verdicts.strict_paths.len(), 1, "one path check per chain");
        // Shared parts, yet each name's verdict is what a fresh verification gives.
        for (verdict, name) in [(&for_good, &good), (&for_other, &other)] {
            let fresh = ChainVerdict::reach(&chain, &leaf_question(name));
            assert_eq!(verdict.code(), fresh.code());
            assert_eq!(verdict.strict, fresh.strict);
        }
        assert_eq!(for_good.code(), Some(VerifyCode::Ok));
        assert_eq!(for_good.strict, Some(StrictVerdict::Accepted));
        assert!(matches!(
            for_other.strict,
            Some(StrictVerdict::Rejected {
                name_mismatch: true,
                ..
            })
        ));

        // OpenSSL's verdict with the name is not shared between names; webpki's path still is.
        let named = verdicts.judge(&chain, &question(&anchors, &other, now));
        assert_eq!(named.code(), Some(VerifyCode::HostnameMismatch));
        assert_eq!(verdicts.openssl_without_name.len(), 1);
        assert_eq!(verdicts.strict_paths.len(), 1);

        // A path that fails is shared with its failure: expired for every name.
        let later = now + time::Duration::days(4000);
        let expired = verdicts.judge(
            &chain,
            &Question {
                now: later,
                ..leaf_question(&good)
            },
        );
        assert_eq!(verdicts.strict_paths.len(), 2);
        assert!(matches!(
            expired.strict,
            Some(StrictVerdict::Rejected {
                name_mismatch: false,
                ..
            })
        ));
        assert_ne!(expired.code(), Some(VerifyCode::Ok));
    }

    /// Both verifiers consult one signature memo: once a chain's signatures are remembered as
    /// good, a leaf whose signed bytes changed, or a root with the same name and another key,
    /// is still refused by both, and webpki's verdict on the good chain reads the answers
    /// OpenSSL's verification left.
    #[test]
    fn remembered_signatures_do_not_vouch_for_a_changed_leaf_or_another_key() {
        let now = OffsetDateTime::now_utc();
        let (anchors, chain) = gateway_chain(now);
        let name = validate_hostname("gateway.edgeprobe.test").expect("name");
        let leaf_question = |anchors| Question {
            openssl_checks_name: false,
            ..question(anchors, &name, now)
        };
        let good = Verdicts::default().judge(&chain, &leaf_question(&anchors));
        assert_eq!(good.code(), Some(VerifyCode::Ok));
        assert_eq!(good.strict, Some(StrictVerdict::Accepted));
        // OpenSSL's verification alone leaves the answers webpki asks for: the same algorithm
        // object (P-256 with SHA-256) and the same key, message and signature bytes.
        let (other_anchors, other_chain) = gateway_chain(now);
        let alone = openssl_verdict(&other_chain, &leaf_question(&other_anchors));
        assert_eq!(
            alone.map(|verification| verification.code()),
            Ok(VerifyCode::Ok)
        );
        let issuers = other_chain
            .iter()
            .skip(1)
            .chain(&other_anchors.certificates);
        for (subject, issuer) in other_chain.iter().zip(issuers) {
            let parts = crate::pki::signature::certificate_parts(subject).expect("parts");
            let (_, issuer) =
                <x509_parser::certificate::X509Certificate as x509_parser::prelude::FromDer<_>>::from_der(issuer)
                    .expect("issuer");
            assert!(
                crate::pki::signature_memo::shared().remembers(
                    webpki::ring::ECDSA_P256_SHA256,
                    &issuer.public_key().subject_public_key.data,
                    parts.tbs_certificate,
                    parts.signature,
                ),
                "webpki's question is remembered"
            );
        }

        // One byte of the leaf's subjectAltName changed (the name's last occurrence; still
        // valid DER): its signature is not over these bytes.
        let mut leaf = chain[0].as_ref().to_vec();
        let alt_name = leaf
            .windows(name.name.len())
            .rposition(|window| window == name.name.as_bytes())
            .expect("the leaf names the gateway");
        leaf[alt_name] ^= 0x01;
        let mut changed = chain.clone();
        changed[0] = CertificateDer::from(leaf);
        let forged = Verdicts::default().judge(&changed, &leaf_question(&anchors));
        assert_eq!(forged.code(), Some(VerifyCode::CertSignatureFailure));
        assert!(
            matches!(forged.strict, Some(StrictVerdict::Rejected { .. })),
            "{:?}",
            forged.strict
        );

        // A root with the same name and another key (OpenSSL already tells it apart by its key
        // identifier: 20).
        let impostor = GatewayPki::generate("gateway.edgeprobe.test", now).expect("PKI");
        let impostor_anchors =
            TrustAnchors::new(PathBuf::from("root.pem"), vec![impostor.root.der.clone()]);
        let wrong_key = Verdicts::default().judge(&chain, &leaf_question(&impostor_anchors));
        assert_eq!(
            wrong_key.code(),
            Some(VerifyCode::UnableToGetIssuerCertLocally)
        );
        assert!(
            matches!(wrong_key.strict, Some(StrictVerdict::Rejected { .. })),
            "{:?}",
            wrong_key.strict
        );
    }

    #[test]
    fn verify_errors_are_listed_in_one_form() {
        let error = VerifyError {
            code: VerifyCode::UnableToGetIssuerCertLocally,
            depth: 1,
            subject: "CN = gw.ca".to_owned(),
            issuer: "CN = root".to_owned(),
        };
        assert_eq!(
            verify_error_line(&error),
            "verify error:num=20:unable to get local issuer certificate at depth 1 (`CN = gw.ca`)"
        );
    }
}
