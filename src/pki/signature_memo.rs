//! Each signature verified once per process: OpenSSL's verdict ([`super::signature`]) and
//! webpki's ([`super::strict`]) check the same certificates' signatures with the same ring
//! functions, and a full leaf check used to pay for every one of them twice (issue 12).
//!
//! What is remembered is one function's answer for exact inputs: a webpki
//! [`SignatureVerificationAlgorithm`] (ring's algorithm behind it, with its rules for keys and
//! encodings) and the public key, message and signature bytes it was given. Both verifiers call
//! those very algorithm objects: webpki through [`algorithms`], which wraps the ring provider's
//! list rustls verifies with, and `pki::signature` where its own rules lead to the same ring
//! call (ECDSA on P-256/P-384 with SHA-256/384, Ed25519). A hit therefore needs the same
//! algorithm object and byte-for-byte the same key, message and signature; a changed byte or
//! another key is a miss and is verified anew. A signature that does not verify is remembered
//! as not verifying.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

use crate::memo::Memo;

/// The most answers kept: a gateway's chain needs two or three, a fleet of gateways with
/// chains of their own a few thousand; each is about one certificate's size.
const SIGNATURES_KEPT: usize = 1024;

/// One question: which algorithm object (its address: every algorithm is a distinct static
/// value, and one object always answers the same), and its three inputs, length-prefixed in
/// one buffer so equal keys are equal bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Question {
    algorithm: usize,
    inputs: Arc<[u8]>,
}

impl Question {
    fn new(
        algorithm: &dyn SignatureVerificationAlgorithm,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Question {
        let parts = [public_key, message, signature];
        let mut inputs = Vec::with_capacity(parts.iter().map(|part| 8 + part.len()).sum());
        for part in parts {
            inputs.extend_from_slice(&(part.len() as u64).to_be_bytes());
            inputs.extend_from_slice(part);
        }
        Question {
            algorithm: std::ptr::from_ref(algorithm).cast::<()>().addr(),
            inputs: inputs.into(),
        }
    }
}

/// Answers to signature questions, bounded; concurrent askers of one question wait for the
/// first one's answer.
#[derive(Debug)]
pub struct SignatureMemo {
    answers: Memo<Question, bool>,
    /// How many answers were really computed (the rest were remembered ones).
    computed: AtomicUsize,
}

impl SignatureMemo {
    pub fn new(capacity: usize) -> SignatureMemo {
        SignatureMemo {
            answers: Memo::new(capacity),
            computed: AtomicUsize::new(0),
        }
    }

    /// `algorithm.verify_signature(public_key, message, signature)`, computed on the first ask
    /// of these exact inputs and remembered.
    pub fn verify(
        &self,
        algorithm: &dyn SignatureVerificationAlgorithm,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let question = Question::new(algorithm, public_key, message, signature);
        let verified = self.answers.get_or_compute(question, || {
            self.computed.fetch_add(1, Ordering::Relaxed);
            algorithm
                .verify_signature(public_key, message, signature)
                .is_ok()
        });
        if verified {
            Ok(())
        } else {
            Err(InvalidSignature)
        }
    }

    /// Whether the answer for these exact inputs is kept.
    pub fn remembers(
        &self,
        algorithm: &dyn SignatureVerificationAlgorithm,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        self.answers
            .contains(&Question::new(algorithm, public_key, message, signature))
    }

    /// How many answers were computed rather than remembered.
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

/// The process's memo, which both verifiers consult.
pub fn shared() -> &'static SignatureMemo {
    static SHARED: OnceLock<SignatureMemo> = OnceLock::new();
    SHARED.get_or_init(|| SignatureMemo::new(SIGNATURES_KEPT))
}

/// [`SignatureMemo::verify`] on the process's memo.
pub fn verify(
    algorithm: &'static dyn SignatureVerificationAlgorithm,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), InvalidSignature> {
    shared().verify(algorithm, public_key, message, signature)
}

/// A webpki algorithm that asks the process's memo before verifying: the same identifiers
/// (webpki picks algorithms by them) and the same answers as the algorithm it wraps.
#[derive(Debug)]
struct Remembered(&'static dyn SignatureVerificationAlgorithm);

impl SignatureVerificationAlgorithm for Remembered {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        verify(self.0, public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.0.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.0.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.0.fips()
    }
}

/// The ring provider's certificate signature algorithms, as rustls clients built with it
/// verify certificates, in its order, each asking the process's memo first.
pub fn algorithms() -> &'static [&'static dyn SignatureVerificationAlgorithm] {
    static WRAPPED: OnceLock<Vec<Remembered>> = OnceLock::new();
    static LIST: OnceLock<Vec<&'static dyn SignatureVerificationAlgorithm>> = OnceLock::new();
    LIST.get_or_init(|| {
        WRAPPED
            .get_or_init(|| {
                rustls::crypto::ring::default_provider()
                    .signature_verification_algorithms
                    .all
                    .iter()
                    .map(|algorithm| Remembered(*algorithm))
                    .collect()
            })
            .iter()
            .map(|algorithm| algorithm as &'static dyn SignatureVerificationAlgorithm)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::pki::{CertificateSpec, Validity, issue, issue_ca};

    /// A real signature: a P-256 leaf's tbsCertificate, its signature and its issuer's key.
    struct Signed {
        issuer_key: Vec<u8>,
        other_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    }

    fn signed() -> Signed {
        use x509_parser::prelude::FromDer;
        let now = time::OffsetDateTime::now_utc();
        let validity = Validity::around(now, 1, 30).expect("validity");
        let root = issue_ca("Memo Root", validity, None).expect("root");
        let other = issue_ca("Memo Root", validity, None).expect("another root");
        let leaf = issue(
            &CertificateSpec::tls_server("gw.memo.test", validity),
            Some(&root),
        )
        .expect("leaf");
        let key = |der: &[u8]| {
            let (_, certificate) =
                x509_parser::certificate::X509Certificate::from_der(der).expect("parses");
            certificate.public_key().subject_public_key.data.to_vec()
        };
        let parts = crate::pki::signature::certificate_parts(leaf.der.as_ref()).expect("leaf");
        Signed {
            issuer_key: key(root.der.as_ref()),
            other_key: key(other.der.as_ref()),
            message: parts.tbs_certificate.to_vec(),
            signature: parts.signature.to_vec(),
        }
    }

    #[test]
    fn a_signature_is_verified_once_and_a_remembered_ok_covers_only_its_exact_bytes() {
        let signed = signed();
        let memo = SignatureMemo::new(16);
        let ask = |key: &[u8], message: &[u8], signature: &[u8]| {
            memo.verify(webpki::ring::ECDSA_P256_SHA256, key, message, signature)
                .is_ok()
        };
        assert!(ask(&signed.issuer_key, &signed.message, &signed.signature));
        assert!(ask(&signed.issuer_key, &signed.message, &signed.signature));
        assert_eq!(memo.computed(), 1, "asked once");

        // With the good answer remembered, a wrong key, a changed message or a changed
        // signature is asked anew and fails.
        assert!(!ask(&signed.other_key, &signed.message, &signed.signature));
        let mut changed = signed.message.clone();
        *changed.last_mut().expect("a message") ^= 1;
        assert!(!ask(&signed.issuer_key, &changed, &signed.signature));
        let mut forged = signed.signature.clone();
        let middle = forged.len() / 2;
        forged[middle] ^= 1;
        assert!(!ask(&signed.issuer_key, &signed.message, &forged));
        // The key, message and signature are told apart even where their bytes run together.
        let mut shifted_key = signed.issuer_key.clone();
        shifted_key.push(signed.message[0]);
        assert!(!ask(&shifted_key, &signed.message[1..], &signed.signature));
        assert_eq!(memo.computed(), 5);

        // A failure is remembered as a failure.
        assert!(!ask(&signed.issuer_key, &changed, &signed.signature));
        assert_eq!(memo.computed(), 5);
        assert_eq!(memo.len(), 5);
    }

    #[test]
    fn another_algorithm_is_another_question() {
        let signed = signed();
        let memo = SignatureMemo::new(16);
        let p256 = webpki::ring::ECDSA_P256_SHA256;
        // The same bytes under P-256 with SHA-384: ring's answer for that algorithm, not the
        // one remembered for SHA-256.
        let p256_sha384 = webpki::ring::ECDSA_P256_SHA384;
        assert!(
            memo.verify(p256, &signed.issuer_key, &signed.message, &signed.signature)
                .is_ok()
        );
        assert!(
            memo.verify(
                p256_sha384,
                &signed.issuer_key,
                &signed.message,
                &signed.signature
            )
            .is_err()
        );
        assert_eq!(memo.len(), 2);
    }

    #[test]
    fn the_wrapped_algorithms_are_rustls_own_in_its_order() {
        let own = rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .all;
        let wrapped = algorithms();
        assert_eq!(wrapped.len(), own.len());
        for (wrapped, own) in wrapped.iter().zip(own) {
            assert_eq!(wrapped.public_key_alg_id(), own.public_key_alg_id());
            assert_eq!(wrapped.signature_alg_id(), own.signature_alg_id());
            assert_eq!(wrapped.fips(), own.fips());
        }
    }
}
