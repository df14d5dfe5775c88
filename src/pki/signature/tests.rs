//! Real keys and certificates made by the `openssl` binary at test time, for every algorithm
//! OpenSSL 3.0 verifies: each genuine signature must verify, and a flipped bit in the
//! signature or the signed bytes, a truncated or empty signature, and another key must not.
//! A case is skipped, with a note, only when `openssl` is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

fn run_openssl(directory: &Path, arguments: &[&str]) -> bool {
    Command::new("openssl")
        .current_dir(directory)
        .args(arguments)
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A string made at run time that lives as long as the test binary (for option tables).
fn leaked(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// `openssl genpkey` arguments: `-algorithm algorithm` and a `-pkeyopt` for each option.
fn genpkey<'a>(algorithm: &'a str, options: &[&'a str]) -> Vec<&'a str> {
    let mut arguments = vec!["-algorithm", algorithm];
    for option in options {
        arguments.extend(["-pkeyopt", option]);
    }
    arguments
}

/// `openssl genpkey` arguments for an RSA key of `bits` bits.
fn rsa(bits: u32) -> Vec<&'static str> {
    genpkey("RSA", &[leaked(format!("rsa_keygen_bits:{bits}"))])
}

/// `openssl req` signing arguments for RSA-PSS: the message digest, the MGF1 digest and the
/// salt length (`rsa_pss_saltlen` values: a number of bytes or `max`).
fn pss(digest: &str, mask_digest: &str, salt: &str) -> Vec<&'static str> {
    vec![
        leaked(format!("-{digest}")),
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        leaked(format!("rsa_mgf1_md:{mask_digest}")),
        "-sigopt",
        leaked(format!("rsa_pss_saltlen:{salt}")),
    ]
}

/// A certificate split into what `verify_signature` takes.
#[derive(Debug, Clone)]
struct Signed {
    tbs: Vec<u8>,
    algorithm: Vec<u8>,
    signature: Vec<u8>,
    spki: Vec<u8>,
}

impl Signed {
    /// The certificate's own signature checked with `spki` (its own key or another).
    fn verify_with(&self, spki: &[u8]) -> Result<(), SignatureError> {
        verify_signature(&self.algorithm, spki, &self.tbs, &self.signature)
    }

    fn verify(&self) -> Result<(), SignatureError> {
        self.verify_with(&self.spki)
    }
}

fn split_certificate(certificate: &[u8]) -> Signed {
    let parts = certificate_parts(certificate).expect("a certificate");
    assert_eq!(parts.signature_unused_bits, 0);
    assert_eq!(parts.inner_signature_algorithm, parts.signature_algorithm);
    assert_eq!(
        signature_algorithm_matches_key(
            parts.inner_signature_algorithm,
            parts.subject_public_key_info
        ),
        Some(true)
    );
    Signed {
        tbs: parts.tbs_certificate.to_vec(),
        algorithm: parts.signature_algorithm.to_vec(),
        signature: parts.signature.to_vec(),
        spki: parts.subject_public_key_info.to_vec(),
    }
}

/// Makes keys and self-signed certificates in a temporary directory.
struct Workshop {
    directory: tempfile::TempDir,
    counter: std::cell::Cell<u32>,
}

impl Workshop {
    /// A workshop, or none (with a note) when the `openssl` binary does not run.
    fn when_openssl_present() -> Option<Workshop> {
        if !run_openssl(Path::new("."), &["version"]) {
            eprintln!("note: the openssl binary is absent; signature cases skipped");
            return None;
        }
        Some(Workshop {
            directory: tempfile::tempdir().expect("tempdir"),
            counter: std::cell::Cell::new(0),
        })
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    fn fresh(&self, extension: &str) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("f{}.{extension}", self.counter.get())
    }

    /// `openssl genpkey` with `arguments`; the key's file name.
    fn key(&self, arguments: &[&str]) -> String {
        let name = self.fresh("pem");
        let mut all = vec!["genpkey"];
        all.extend_from_slice(arguments);
        all.extend_from_slice(&["-out", &name]);
        assert!(run_openssl(self.path(), &all), "genpkey {arguments:?}");
        name
    }

    /// An EC key on the named `curve`, with the further `-pkeyopt` `options`.
    fn ec_key(&self, curve: &str, options: &[&str]) -> String {
        let curve = format!("ec_paramgen_curve:{curve}");
        self.key(&genpkey("EC", &[&[curve.as_str()], options].concat()))
    }

    /// `openssl genpkey -genparam`; the parameter file's name.
    fn parameters(&self, arguments: &[&str]) -> String {
        let name = self.fresh("pem");
        let mut all = vec!["genpkey", "-genparam"];
        all.extend_from_slice(arguments);
        all.extend_from_slice(&["-out", &name]);
        assert!(run_openssl(self.path(), &all), "genparam {arguments:?}");
        name
    }

    /// A self-signed certificate for `key`, signed with `arguments` (`-sha256`, `-sigopt ...`).
    fn certificate(&self, key: &str, arguments: &[&str]) -> Option<Signed> {
        let name = self.fresh("der");
        let mut all = vec![
            "req",
            "-x509",
            "-new",
            "-key",
            key,
            "-subj",
            "/CN=signature test",
            "-days",
            "1",
            "-outform",
            "DER",
            "-out",
            &name,
        ];
        all.extend_from_slice(arguments);
        if !run_openssl(self.path(), &all) {
            return None;
        }
        let bytes = std::fs::read(self.path().join(&name)).expect("certificate");
        Some(split_certificate(&bytes))
    }

    fn public_key(&self, key: &str, arguments: &[&str]) -> Vec<u8> {
        let name = self.fresh("der");
        let mut all = vec![
            "pkey", "-in", key, "-pubout", "-outform", "DER", "-out", &name,
        ];
        all.extend_from_slice(arguments);
        assert!(run_openssl(self.path(), &all), "pkey {arguments:?}");
        std::fs::read(self.path().join(&name)).expect("public key")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }
}

fn flipped(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    copy[index] ^= 0x01;
    copy
}

/// The genuine signature verifies; every corruption is refused (and never as Unsupported).
fn assert_signature_properties(label: &str, signed: &Signed, other_spki: &[u8]) {
    let verify = |spki: &[u8], tbs: &[u8], signature: &[u8]| {
        verify_signature(&signed.algorithm, spki, tbs, signature)
    };
    assert_eq!(signed.verify(), Ok(()), "{label}: the genuine signature");
    let refused = |result: Result<(), SignatureError>, what: &str| match result {
        Err(error) => assert!(error.openssl_rejects(), "{label}: {what}: {error}"),
        Ok(()) => panic!("{label}: {what} verified"),
    };
    let last = signed.signature.len() - 1;
    refused(
        verify(&signed.spki, &signed.tbs, &flipped(&signed.signature, last)),
        "flipped signature bit",
    );
    refused(
        verify(
            &signed.spki,
            &signed.tbs,
            &flipped(&signed.signature, last / 2),
        ),
        "flipped middle bit",
    );
    refused(
        verify(
            &signed.spki,
            &flipped(&signed.tbs, signed.tbs.len() / 2),
            &signed.signature,
        ),
        "flipped tbs bit",
    );
    refused(
        verify(&signed.spki, &signed.tbs, &signed.signature[..last]),
        "truncated signature",
    );
    refused(verify(&signed.spki, &signed.tbs, &[]), "empty signature");
    refused(signed.verify_with(other_spki), "another key");
}

struct Case<'a> {
    label: &'a str,
    key: &'a [&'a str],
    sign: &'a [&'a str],
    signature_bits: u32,
    key_bits: u32,
}

/// A row of a case table: a key made with the `key` genpkey arguments, a certificate signed
/// with the `sign` req arguments, and the security bits OpenSSL gives the signature and key.
fn case<'a>(
    label: &'a str,
    key: &'a [&'a str],
    sign: &'a [&'a str],
    signature_bits: u32,
    key_bits: u32,
) -> Case<'a> {
    Case {
        label,
        key,
        sign,
        signature_bits,
        key_bits,
    }
}

fn run_cases(workshop: &Workshop, cases: &[Case<'_>]) {
    for case in cases {
        let key = workshop.key(case.key);
        let other = workshop.key(case.key);
        let signed = workshop
            .certificate(&key, case.sign)
            .unwrap_or_else(|| panic!("{}: openssl could not sign", case.label));
        let other_spki = workshop.public_key(&other, &[]);
        assert_signature_properties(case.label, &signed, &other_spki);
        let info = signature_info(&signed.algorithm).expect(case.label);
        assert_eq!(
            info.security_bits, case.signature_bits,
            "{}: signature bits",
            case.label
        );
        assert_eq!(
            key_security_bits(&signed.spki),
            Some(case.key_bits),
            "{}: key bits",
            case.label
        );
        assert!(key_decodes(&signed.spki), "{}", case.label);
    }
}

#[test]
fn rsa_pkcs1_signatures_verify_for_every_digest_and_size() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let [rsa512, rsa768, rsa1024, rsa2048] = [512, 768, 1024, 2048].map(rsa);
    let rsa3072_e3 = genpkey("RSA", &["rsa_keygen_bits:3072", "rsa_keygen_pubexp:3"]);
    let mut cases = vec![
        case("RSA-512 MD5", &rsa512, &["-md5"], 39, 56),
        case("RSA-512 SHA-1", &rsa512, &["-sha1"], 63, 56),
        case("RSA-512 SHA-256", &rsa512, &["-sha256"], 128, 56),
        case("RSA-768 SHA-256", &rsa768, &["-sha256"], 128, 72),
        case("RSA-3072 e=3 SHA-256", &rsa3072_e3, &["-sha256"], 128, 128),
    ];
    let digests = [
        ("-md5", 39),
        ("-sha1", 63),
        ("-sha224", 112),
        ("-sha256", 128),
        ("-sha384", 192),
        ("-sha512", 256),
        ("-sha3-224", 112),
        ("-sha3-256", 128),
        ("-sha3-384", 192),
        ("-sha3-512", 256),
        ("-ripemd160", 80),
    ];
    for (digest, bits) in &digests {
        let sign = std::slice::from_ref(digest);
        cases.push(case(digest, &rsa1024, sign, *bits, 80));
        cases.push(case(digest, &rsa2048, sign, *bits, 112));
    }
    run_cases(&workshop, &cases);
}

#[test]
fn rsa_pss_signatures_verify_with_any_digest_mask_and_salt() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let [rsa1024, rsa2048, rsa2049] = [1024, 2048, 2049].map(rsa);
    let specs = [
        ("SHA-256 salt 32 (ring)", pss("sha256", "sha256", "32"), 128),
        ("SHA-384 salt 48 (ring)", pss("sha384", "sha384", "48"), 192),
        ("SHA-512 salt 64 (ring)", pss("sha512", "sha512", "64"), 256),
        ("SHA-256 salt 0", pss("sha256", "sha256", "0"), 128),
        ("SHA-256 salt max", pss("sha256", "sha256", "max"), 128),
        ("SHA-256 MGF1-SHA-1", pss("sha256", "sha1", "20"), 128),
        ("SHA-1 MGF1-SHA-256", pss("sha1", "sha256", "20"), 64),
        ("SHA-224", pss("sha224", "sha224", "28"), 112),
        ("SHA-512/224", pss("sha512-224", "sha512-224", "28"), 112),
        ("SHA-512/256", pss("sha512-256", "sha256", "32"), 128),
    ];
    let mut cases = Vec::new();
    for (label, sign, bits) in &specs {
        cases.push(case(label, &rsa2048, sign, *bits, 112));
        // 64 + 64 + 2 bytes do not fit a 1024-bit modulus.
        if !label.starts_with("SHA-512 salt 64") {
            cases.push(case(label, &rsa1024, sign, *bits, 80));
        }
    }
    // 2049 bits: the encoded message is a byte shorter than the modulus (RFC 8017 §9.1.2).
    cases.push(case("2049-bit", &rsa2049, &specs[0].1, 128, 112));
    run_cases(&workshop, &cases);

    // id-RSASSA-PSS keys: unrestricted, and restricted to SHA-256/MGF1-SHA-256/salt >= 32.
    let unrestricted = genpkey("RSA-PSS", &["rsa_keygen_bits:2048"]);
    let restricted = genpkey(
        "RSA-PSS",
        &[
            "rsa_keygen_bits:2048",
            "rsa_pss_keygen_md:sha256",
            "rsa_pss_keygen_mgf1_md:sha256",
            "rsa_pss_keygen_saltlen:32",
        ],
    );
    run_cases(
        &workshop,
        &[
            case("RSA-PSS key", &unrestricted, &specs[4].1, 128, 112),
            case("restricted RSA-PSS key", &restricted, &[], 128, 112),
        ],
    );
    let key = workshop.key(&unrestricted);
    let spki = workshop.public_key(&key, &[]);
    assert_eq!(key_type(&spki), KeyType::RsaPss);
}

#[test]
fn ecdsa_signatures_verify_on_every_curve_edgeprobe_knows() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let curves = [
        ("prime192v1", 80),
        ("secp224r1", 112),
        ("prime256v1", 128),
        ("secp384r1", 192),
        ("secp521r1", 256),
        ("secp256k1", 128),
        ("brainpoolP256r1", 128),
        ("brainpoolP256t1", 128),
        ("brainpoolP384r1", 192),
        ("brainpoolP384t1", 192),
        ("brainpoolP512r1", 256),
        ("brainpoolP512t1", 256),
        ("secp160r1", 80),
        ("secp224k1", 112),
        ("prime239v1", 112),
        ("secp112r1", 56),
    ];
    let digests = [
        ("-sha1", 63),
        ("-sha224", 112),
        ("-sha256", 128),
        ("-sha384", 192),
        ("-sha512", 256),
    ];
    let keys: Vec<(&str, Vec<&str>, u32)> = curves
        .iter()
        .map(|(curve, bits)| {
            let option = leaked(format!("ec_paramgen_curve:{curve}"));
            (*curve, genpkey("EC", &[option]), *bits)
        })
        .collect();
    let mut cases = Vec::new();
    for (curve, key, key_bits) in &keys {
        for (digest, bits) in &digests {
            let label = leaked(format!("{curve} {digest}"));
            let sign = std::slice::from_ref(digest);
            cases.push(case(label, key, sign, *bits, *key_bits));
        }
    }
    run_cases(&workshop, &cases);
}

#[test]
fn ecdsa_keys_in_compressed_and_explicit_form() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    // secp224r1: p = 1 (mod 4), so decompression takes Tonelli-Shanks.
    for curve in [
        "prime256v1",
        "secp384r1",
        "secp521r1",
        "secp256k1",
        "secp224r1",
        "brainpoolP512t1",
    ] {
        let key = workshop.ec_key(curve, &[]);
        let signed = workshop
            .certificate(&key, &["-sha256"])
            .expect("certificate");
        let compressed = workshop.public_key(&key, &["-ec_conv_form", "compressed"]);
        let compressed = if compressed == signed.spki {
            // Older pkey builds ignore the option: convert with `ec`.
            let name = workshop.fresh("der");
            assert!(run_openssl(
                workshop.path(),
                &[
                    "ec",
                    "-in",
                    &key,
                    "-conv_form",
                    "compressed",
                    "-pubout",
                    "-outform",
                    "DER",
                    "-out",
                    &name
                ]
            ));
            std::fs::read(workshop.file(&name)).expect("compressed")
        } else {
            compressed
        };
        assert_ne!(compressed, signed.spki, "{curve}: compressed form");
        assert!(key_decodes(&compressed), "{curve}");
        let as_compressed = Signed {
            spki: compressed,
            ..signed.clone()
        };
        let other = workshop.public_key(&workshop.ec_key(curve, &[]), &[]);
        assert_signature_properties(&format!("{curve} compressed"), &as_compressed, &other);

        let explicit = workshop.ec_key(curve, &["ec_param_enc:explicit"]);
        let signed = workshop
            .certificate(&explicit, &["-sha384"])
            .expect("explicit certificate");
        assert!(ec_explicit_parameters(&signed.spki), "{curve}: explicit");
        assert_signature_properties(&format!("{curve} explicit"), &signed, &other);
    }
}

#[test]
fn eddsa_and_dsa_signatures_verify() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let dsa1024 = workshop.parameters(&genpkey("DSA", &["dsa_paramgen_bits:1024"]));
    let dsa2048 = workshop.parameters(&genpkey(
        "DSA",
        &["dsa_paramgen_bits:2048", "dsa_paramgen_q_bits:256"],
    ));
    let dsa1024 = ["-paramfile", dsa1024.as_str()];
    let dsa2048 = ["-paramfile", dsa2048.as_str()];
    run_cases(
        &workshop,
        &[
            case("Ed25519", &["-algorithm", "ED25519"], &[], 128, 128),
            case("Ed448", &["-algorithm", "ED448"], &[], 224, 224),
            case("DSA-1024 SHA-1", &dsa1024, &["-sha1"], 63, 80),
            case("DSA-1024 SHA-224", &dsa1024, &["-sha224"], 112, 80),
            case(
                "DSA-1024 SHA-256 (truncated)",
                &dsa1024,
                &["-sha256"],
                128,
                80,
            ),
            case("DSA-2048/256 SHA-256", &dsa2048, &["-sha256"], 128, 112),
        ],
    );
}

/// SEQUENCE { SEQUENCE { OID }, BIT STRING } with another algorithm OID (content bytes).
fn respelled_spki(spki: &[u8], oid: &[u8], parameters: &[u8]) -> Vec<u8> {
    let mut reader = Reader::new(der::single(spki, der::SEQUENCE).expect("spki"));
    reader.element().expect("algorithm");
    let (_, bits) = reader.element_with_encoding().expect("bits");
    let algorithm = algorithm_identifier(oid, parameters);
    wrap(der::SEQUENCE, &[algorithm, bits.to_vec()].concat())
}

fn wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        length @ 0..0x80 => out.push(length as u8),
        length @ 0x80..0x100 => out.extend_from_slice(&[0x81, length as u8]),
        length => out.extend_from_slice(&[0x82, (length >> 8) as u8, length as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// AlgorithmIdentifier: SEQUENCE { OID (content bytes), the encoded `parameters` }.
fn algorithm_identifier(oid: &[u8], parameters: &[u8]) -> Vec<u8> {
    wrap(
        der::SEQUENCE,
        &[&wrap(der::OBJECT_IDENTIFIER, oid)[..], parameters].concat(),
    )
}

/// An encoded ASN.1 NULL, the parameters of the RSA PKCS#1 algorithms.
const NULL: [u8; 2] = [0x05, 0x00];

const RSASSA_PSS: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];

fn pss_parameters_der(hash_oid_last: u8, salt: u8) -> Vec<u8> {
    let sha2 = [
        0x60,
        0x86,
        0x48,
        0x01,
        0x65,
        0x03,
        0x04,
        0x02,
        hash_oid_last,
    ];
    let hash = algorithm_identifier(&sha2, &NULL);
    let mgf1 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
    let mask = algorithm_identifier(&mgf1, &hash);
    wrap(
        der::SEQUENCE,
        &[
            wrap(0xa0, &hash),
            wrap(0xa1, &mask),
            wrap(0xa2, &[der::INTEGER, 1, salt]),
        ]
        .concat(),
    )
}

#[test]
fn pss_keys_refuse_pkcs1_and_signatures_outside_their_parameters() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let key = workshop.key(&rsa(2048));
    let pkcs1 = workshop
        .certificate(&key, &["-sha256"])
        .expect("certificate");
    let pss_spki = respelled_spki(&pkcs1.spki, &RSASSA_PSS, &[]);
    assert_eq!(key_type(&pss_spki), KeyType::RsaPss);
    assert!(key_decodes(&pss_spki));
    assert!(matches!(
        pkcs1.verify_with(&pss_spki),
        Err(SignatureError::KeyTypeMismatch {
            key: KeyType::RsaPss,
            ..
        })
    ));

    // check_sig_alg_match: PKCS#1 needs an rsaEncryption key; PSS takes either RSA key type.
    assert_eq!(
        signature_algorithm_matches_key(&pkcs1.algorithm, &pss_spki),
        Some(false)
    );
    // The same modulus as an id-RSASSA-PSS key restricted to SHA-256, salt >= 32.
    let restricted = respelled_spki(&pkcs1.spki, &RSASSA_PSS, &pss_parameters_der(1, 32));
    assert!(key_decodes(&restricted));
    let sha256_salt32 = workshop
        .certificate(&key, &pss("sha256", "sha256", "32"))
        .expect("pss");
    assert_eq!(sha256_salt32.verify_with(&restricted), Ok(()));
    for (label, sign) in [
        ("SHA-384", pss("sha384", "sha384", "32")),
        ("MGF1-SHA-1", pss("sha256", "sha1", "32")),
        ("salt 20", pss("sha256", "sha256", "20")),
    ] {
        let signed = workshop.certificate(&key, &sign).expect(label);
        assert_eq!(signed.verify(), Ok(()), "{label} with the unrestricted key");
        assert!(
            matches!(
                signed.verify_with(&restricted),
                Err(SignatureError::KeyRestriction { .. })
            ),
            "{label} with the restricted key"
        );
    }
}

#[test]
fn pss_parameters_openssl_rejects_are_rejected() {
    let algorithm = |parameters: Vec<u8>| algorithm_identifier(&RSASSA_PSS, &parameters);
    let valid = algorithm(pss_parameters_der(1, 32));
    assert_eq!(
        signature_info(&valid),
        Some(SignatureInfo {
            key_type: KeyType::RsaPss,
            digest: "SHA256",
            security_bits: 128
        })
    );
    // Defaults: SHA-1, which PSS counts as 64 bits (rsa_sig_info_set), not 63.
    let defaults = algorithm(wrap(der::SEQUENCE, &[]));
    assert_eq!(
        signature_info(&defaults).map(|info| info.security_bits),
        Some(64)
    );
    // No parameters at all, a trailer field of 2, a negative salt: OpenSSL refuses all three.
    let bare = algorithm_identifier(&RSASSA_PSS, &[]);
    let trailer = algorithm(wrap(der::SEQUENCE, &wrap(0xa3, &[der::INTEGER, 1, 2])));
    let negative = algorithm(wrap(der::SEQUENCE, &wrap(0xa2, &[der::INTEGER, 1, 0xff])));
    let unknown_hash = algorithm(wrap(
        der::SEQUENCE,
        &wrap(0xa0, &algorithm_identifier(&[0x2a, 0x03, 0x04], &[])),
    ));
    for (label, bad) in [
        ("bare", bare),
        ("trailer", trailer),
        ("negative salt", negative),
        ("unknown hash", unknown_hash),
    ] {
        assert_eq!(signature_info(&bad), None, "{label}");
        assert!(
            matches!(
                verify_signature(&bad, &[], &[], &[]),
                Err(SignatureError::UndecodableKey)
            ),
            "{label}: the key is looked at first, as internal_verify does"
        );
    }
}

/// A self-signed certificate for a new EC key on `curve`, signed with SHA-256.
fn ec_certificate(workshop: &Workshop, curve: &str) -> Signed {
    let key = workshop.ec_key(curve, &[]);
    workshop.certificate(&key, &["-sha256"]).expect(curve)
}

#[test]
fn algorithms_openssl_3_0_does_not_know_are_unknown() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let signed = ec_certificate(&workshop, "prime256v1");
    let with_algorithm = |algorithm: &[u8]| Signed {
        algorithm: algorithm.to_vec(),
        ..signed.clone()
    };
    // ecdsa-with-SHA3-256 (2.16.840.1.101.3.4.3.10) is not in OpenSSL 3.0's sigid table.
    let sha3 = algorithm_identifier(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0a], &[]);
    assert_eq!(signature_info(&sha3), None);
    assert!(matches!(
        with_algorithm(&sha3).verify(),
        Err(SignatureError::UnknownAlgorithm { .. })
    ));
    // An RSA signature algorithm with an EC key.
    let rsa_sha256 = algorithm_identifier(
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        &NULL,
    );
    assert!(matches!(
        with_algorithm(&rsa_sha256).verify(),
        Err(SignatureError::KeyTypeMismatch {
            key: KeyType::Ec,
            ..
        })
    ));
    // ecdsa-with-Specified: no signature info, but verified with the EC key's default
    // digest, SHA-256 (EVP_DigestVerifyInit with no digest).
    let specified = algorithm_identifier(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03], &[]);
    assert_eq!(signature_info(&specified), None);
    assert_eq!(with_algorithm(&specified).verify(), Ok(()));
}

#[test]
fn ecdsa_encodings_are_as_strict_as_openssl_and_high_s_is_accepted() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    let signed = ec_certificate(&workshop, "secp256k1");
    let verify = |signature: &[u8]| {
        verify_signature(&signed.algorithm, &signed.spki, &signed.tbs, signature)
    };
    // Trailing garbage, and a long-form length where the short form fits.
    assert!(verify(&[signed.signature.clone(), vec![0]].concat()).is_err());
    let content = der::single(&signed.signature, der::SEQUENCE).expect("sequence");
    let long_form = [vec![0x30, 0x81, content.len() as u8], content.to_vec()].concat();
    assert!(verify(&long_form).is_err());
    // (r, n - s) is as valid as (r, s) for OpenSSL, though secp256k1 crates prefer low s.
    let (r, s) = der_signature(&signed.signature).expect("signature");
    let order = rsa::BoxedUint::from_be_slice_vartime(&weierstrass::hex_bytes(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
    ));
    let s = rsa::BoxedUint::from_be_slice(s, order.bits_precision()).expect("s");
    let other_s = order.wrapping_sub(&s).to_be_bytes_trimmed_vartime();
    let integer = |value: &[u8]| {
        let value = der::unsigned_lenient(value);
        let content = if value[0] & 0x80 != 0 {
            [&[0][..], value].concat()
        } else {
            value.to_vec()
        };
        wrap(der::INTEGER, &content)
    };
    let other = wrap(der::SEQUENCE, &[integer(r), integer(&other_s)].concat());
    assert_eq!(verify(&other), Ok(()));
}

#[test]
fn curves_edgeprobe_cannot_verify_are_unsupported_never_ok() {
    let Some(workshop) = Workshop::when_openssl_present() else {
        return;
    };
    // Binary-field curves: OpenSSL verifies on them, edgeprobe has no implementation.
    for (curve, key_bits) in [("sect283k1", 128), ("c2pnb163v1", 80)] {
        let signed = ec_certificate(&workshop, curve);
        assert!(key_decodes(&signed.spki), "{curve}");
        assert_eq!(key_security_bits(&signed.spki), Some(key_bits), "{curve}");
        match signed.verify() {
            Err(SignatureError::Unsupported { algorithm }) => assert!(algorithm.contains(curve)),
            other => panic!("{curve}: {other:?}"),
        }
    }
}

#[test]
fn undecodable_keys_are_told_apart() {
    // An unknown curve OID, a point off the curve, garbage in place of an RSA key.
    let ec_spki = |curve: &[u8], point: &[u8]| {
        let algorithm = algorithm_identifier(
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
            &wrap(der::OBJECT_IDENTIFIER, curve),
        );
        wrap(
            der::SEQUENCE,
            &[
                algorithm,
                wrap(der::BIT_STRING, &[&[0][..], point].concat()),
            ]
            .concat(),
        )
    };
    let p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut off_curve = vec![0x04];
    off_curve.extend_from_slice(&[1u8; 64]);
    assert!(!key_decodes(&ec_spki(&[0x2a, 0x03, 0x04], &off_curve)));
    assert!(!key_decodes(&ec_spki(&p256, &off_curve)));
    assert_eq!(key_security_bits(&ec_spki(&p256, &off_curve)), None);
    let rsa_algorithm = algorithm_identifier(
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
        &NULL,
    );
    let garbage = wrap(
        der::SEQUENCE,
        &[rsa_algorithm, wrap(der::BIT_STRING, &[0, 1, 2, 3])].concat(),
    );
    assert_eq!(key_type(&garbage), KeyType::Rsa);
    assert!(!key_decodes(&garbage));
    assert_eq!(
        verify_signature(&[], &garbage, &[], &[]),
        Err(SignatureError::UndecodableKey)
    );
}

#[test]
fn security_bits_follow_openssl() {
    // ossl_ifc_ffc_compute_security_bits at sizes where a floating-point formula rounds
    // differently (checked against libcrypto's RSA_security_bits for 2..20000 bits).
    for (bits, expected) in [
        (512, 56),
        (768, 72),
        (1024, 80),
        (1382, 88),
        (2048, 112),
        (3074, 128),
        (4096, 152),
        (16384, 272),
    ] {
        assert_eq!(rsa_security_bits(bits), expected, "{bits}");
    }
    assert_eq!(bn_security_bits(1024, Some(160)), 80);
    assert_eq!(bn_security_bits(2048, Some(224)), 112);
    assert_eq!(bn_security_bits(3072, Some(256)), 128);
    assert_eq!(bn_security_bits(2048, Some(150)), 0);
    assert_eq!(ec_security_bits(521), 256);
    assert_eq!(ec_security_bits(192), 80);
    assert_eq!(ec_security_bits(113), 56);
}
