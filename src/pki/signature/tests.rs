//! Real keys and certificates made by the `openssl` binary at test time, for every algorithm
//! OpenSSL 3.0 verifies: each genuine signature must verify, and a flipped bit in the
//! signature or the signed bytes, a truncated or empty signature, and another key must not.
//! A case is skipped, with a note, only when `openssl` is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

fn openssl_present() -> bool {
    let present = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !present {
        eprintln!("note: the openssl binary is absent; signature cases skipped");
    }
    present
}

fn run_openssl(directory: &Path, arguments: &[&str]) -> bool {
    Command::new("openssl")
        .current_dir(directory)
        .args(arguments)
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A certificate split into what `verify_signature` takes.
#[derive(Debug, Clone)]
struct Signed {
    tbs: Vec<u8>,
    algorithm: Vec<u8>,
    signature: Vec<u8>,
    spki: Vec<u8>,
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
    fn new() -> Workshop {
        Workshop {
            directory: tempfile::tempdir().expect("tempdir"),
            counter: std::cell::Cell::new(0),
        }
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
    assert_eq!(
        verify(&signed.spki, &signed.tbs, &signed.signature),
        Ok(()),
        "{label}: the genuine signature"
    );
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
    refused(
        verify(other_spki, &signed.tbs, &signed.signature),
        "another key",
    );
}

struct Case<'a> {
    label: &'a str,
    key: &'a [&'a str],
    sign: &'a [&'a str],
    signature_bits: u32,
    key_bits: u32,
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
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    let rsa =
        |bits: &'static str| -> Vec<&'static str> { vec!["-algorithm", "RSA", "-pkeyopt", bits] };
    let rsa512 = rsa("rsa_keygen_bits:512");
    let rsa768 = rsa("rsa_keygen_bits:768");
    let rsa1024 = rsa("rsa_keygen_bits:1024");
    let rsa2048 = rsa("rsa_keygen_bits:2048");
    let rsa3072_e3 = vec![
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:3072",
        "-pkeyopt",
        "rsa_keygen_pubexp:3",
    ];
    let mut cases = vec![
        Case {
            label: "RSA-512 MD5",
            key: &rsa512,
            sign: &["-md5"],
            signature_bits: 39,
            key_bits: 56,
        },
        Case {
            label: "RSA-512 SHA-1",
            key: &rsa512,
            sign: &["-sha1"],
            signature_bits: 63,
            key_bits: 56,
        },
        Case {
            label: "RSA-512 SHA-256",
            key: &rsa512,
            sign: &["-sha256"],
            signature_bits: 128,
            key_bits: 56,
        },
        Case {
            label: "RSA-768 SHA-256",
            key: &rsa768,
            sign: &["-sha256"],
            signature_bits: 128,
            key_bits: 72,
        },
        Case {
            label: "RSA-3072 e=3 SHA-256",
            key: &rsa3072_e3,
            sign: &["-sha256"],
            signature_bits: 128,
            key_bits: 128,
        },
    ];
    for (digest, bits) in [
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
    ] {
        cases.push(Case {
            label: digest,
            key: &rsa1024,
            sign: std::slice::from_ref(Box::leak(Box::new(digest))),
            signature_bits: bits,
            key_bits: 80,
        });
        cases.push(Case {
            label: digest,
            key: &rsa2048,
            sign: std::slice::from_ref(Box::leak(Box::new(digest))),
            signature_bits: bits,
            key_bits: 112,
        });
    }
    run_cases(&workshop, &cases);
}

#[test]
fn rsa_pss_signatures_verify_with_any_digest_mask_and_salt() {
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    let rsa1024 = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"];
    let rsa2048 = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
    let rsa2049 = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2049"];
    let pss = |digest: &'static str, mask: &'static str, salt: &'static str| -> Vec<&'static str> {
        vec![
            digest,
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            mask,
            "-sigopt",
            salt,
        ]
    };
    let specs = [
        (
            "SHA-256 salt 32 (ring)",
            pss("-sha256", "rsa_mgf1_md:sha256", "rsa_pss_saltlen:32"),
            128,
        ),
        (
            "SHA-384 salt 48 (ring)",
            pss("-sha384", "rsa_mgf1_md:sha384", "rsa_pss_saltlen:48"),
            192,
        ),
        (
            "SHA-512 salt 64 (ring)",
            pss("-sha512", "rsa_mgf1_md:sha512", "rsa_pss_saltlen:64"),
            256,
        ),
        (
            "SHA-256 salt 0",
            pss("-sha256", "rsa_mgf1_md:sha256", "rsa_pss_saltlen:0"),
            128,
        ),
        (
            "SHA-256 salt max",
            pss("-sha256", "rsa_mgf1_md:sha256", "rsa_pss_saltlen:max"),
            128,
        ),
        (
            "SHA-256 MGF1-SHA-1",
            pss("-sha256", "rsa_mgf1_md:sha1", "rsa_pss_saltlen:20"),
            128,
        ),
        (
            "SHA-1 MGF1-SHA-256",
            pss("-sha1", "rsa_mgf1_md:sha256", "rsa_pss_saltlen:20"),
            64,
        ),
        (
            "SHA-224",
            pss("-sha224", "rsa_mgf1_md:sha224", "rsa_pss_saltlen:28"),
            112,
        ),
        (
            "SHA-512/224",
            pss(
                "-sha512-224",
                "rsa_mgf1_md:sha512-224",
                "rsa_pss_saltlen:28",
            ),
            112,
        ),
        (
            "SHA-512/256",
            pss("-sha512-256", "rsa_mgf1_md:sha256", "rsa_pss_saltlen:32"),
            128,
        ),
    ];
    let mut cases = Vec::new();
    for (label, sign, bits) in &specs {
        cases.push(Case {
            label,
            key: &rsa2048,
            sign,
            signature_bits: *bits,
            key_bits: 112,
        });
        // 64 + 64 + 2 bytes do not fit a 1024-bit modulus.
        if !label.starts_with("SHA-512 salt 64") {
            cases.push(Case {
                label,
                key: &rsa1024,
                sign,
                signature_bits: *bits,
                key_bits: 80,
            });
        }
    }
    // 2049 bits: the encoded message is a byte shorter than the modulus (RFC 8017 §9.1.2).
    cases.push(Case {
        label: "2049-bit",
        key: &rsa2049,
        sign: &specs[0].1,
        signature_bits: 128,
        key_bits: 112,
    });
    run_cases(&workshop, &cases);

    // id-RSASSA-PSS keys: unrestricted, and restricted to SHA-256/MGF1-SHA-256/salt >= 32.
    let unrestricted = ["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"];
    let restricted = [
        "-algorithm",
        "RSA-PSS",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-pkeyopt",
        "rsa_pss_keygen_md:sha256",
        "-pkeyopt",
        "rsa_pss_keygen_mgf1_md:sha256",
        "-pkeyopt",
        "rsa_pss_keygen_saltlen:32",
    ];
    run_cases(
        &workshop,
        &[
            Case {
                label: "RSA-PSS key",
                key: &unrestricted,
                sign: &specs[4].1,
                signature_bits: 128,
                key_bits: 112,
            },
            Case {
                label: "restricted RSA-PSS key",
                key: &restricted,
                sign: &[],
                signature_bits: 128,
                key_bits: 112,
            },
        ],
    );
    let key = workshop.key(&unrestricted);
    let spki = workshop.public_key(&key, &[]);
    assert_eq!(key_type(&spki), KeyType::RsaPss);
}

#[test]
fn ecdsa_signatures_verify_on_every_curve_edgeprobe_knows() {
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
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
    let keys: Vec<(String, Vec<&str>, u32)> = curves
        .iter()
        .map(|(curve, bits)| {
            let option: &'static str =
                Box::leak(format!("ec_paramgen_curve:{curve}").into_boxed_str());
            (
                (*curve).to_owned(),
                vec!["-algorithm", "EC", "-pkeyopt", option],
                *bits,
            )
        })
        .collect();
    let mut cases = Vec::new();
    for (curve, key, key_bits) in &keys {
        for (digest, bits) in &digests {
            let label: &'static str = Box::leak(format!("{curve} {digest}").into_boxed_str());
            cases.push(Case {
                label,
                key,
                sign: std::slice::from_ref(digest),
                signature_bits: *bits,
                key_bits: *key_bits,
            });
        }
    }
    run_cases(&workshop, &cases);
}

#[test]
fn ecdsa_keys_in_compressed_and_explicit_form() {
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    // secp224r1: p = 1 (mod 4), so decompression takes Tonelli-Shanks.
    for curve in [
        "prime256v1",
        "secp384r1",
        "secp521r1",
        "secp256k1",
        "secp224r1",
        "brainpoolP512t1",
    ] {
        let option = format!("ec_paramgen_curve:{curve}");
        let key = workshop.key(&["-algorithm", "EC", "-pkeyopt", &option]);
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
        let other = workshop.public_key(
            &workshop.key(&["-algorithm", "EC", "-pkeyopt", &option]),
            &[],
        );
        assert_signature_properties(&format!("{curve} compressed"), &as_compressed, &other);

        let explicit = workshop.key(&[
            "-algorithm",
            "EC",
            "-pkeyopt",
            &option,
            "-pkeyopt",
            "ec_param_enc:explicit",
        ]);
        let signed = workshop
            .certificate(&explicit, &["-sha384"])
            .expect("explicit certificate");
        assert!(ec_explicit_parameters(&signed.spki), "{curve}: explicit");
        assert_signature_properties(&format!("{curve} explicit"), &signed, &other);
    }
}

#[test]
fn eddsa_and_dsa_signatures_verify() {
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    let dsa1024 = workshop.parameters(&["-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024"]);
    let dsa2048 = workshop.parameters(&[
        "-algorithm",
        "DSA",
        "-pkeyopt",
        "dsa_paramgen_bits:2048",
        "-pkeyopt",
        "dsa_paramgen_q_bits:256",
    ]);
    let dsa1024 = ["-paramfile", dsa1024.as_str()];
    let dsa2048 = ["-paramfile", dsa2048.as_str()];
    run_cases(
        &workshop,
        &[
            Case {
                label: "Ed25519",
                key: &["-algorithm", "ED25519"],
                sign: &[],
                signature_bits: 128,
                key_bits: 128,
            },
            Case {
                label: "Ed448",
                key: &["-algorithm", "ED448"],
                sign: &[],
                signature_bits: 224,
                key_bits: 224,
            },
            Case {
                label: "DSA-1024 SHA-1",
                key: &dsa1024,
                sign: &["-sha1"],
                signature_bits: 63,
                key_bits: 80,
            },
            Case {
                label: "DSA-1024 SHA-224",
                key: &dsa1024,
                sign: &["-sha224"],
                signature_bits: 112,
                key_bits: 80,
            },
            Case {
                label: "DSA-1024 SHA-256 (truncated)",
                key: &dsa1024,
                sign: &["-sha256"],
                signature_bits: 128,
                key_bits: 80,
            },
            Case {
                label: "DSA-2048/256 SHA-256",
                key: &dsa2048,
                sign: &["-sha256"],
                signature_bits: 128,
                key_bits: 112,
            },
        ],
    );
}

/// SEQUENCE { SEQUENCE { OID }, BIT STRING } with another algorithm OID (content bytes).
fn respelled_spki(spki: &[u8], oid: &[u8], parameters: &[u8]) -> Vec<u8> {
    let mut reader = Reader::new(der::single(spki, der::SEQUENCE).expect("spki"));
    reader.element().expect("algorithm");
    let (_, bits) = reader.element_with_encoding().expect("bits");
    let mut algorithm = vec![der::OBJECT_IDENTIFIER, oid.len() as u8];
    algorithm.extend_from_slice(oid);
    algorithm.extend_from_slice(parameters);
    let algorithm = wrap(der::SEQUENCE, &algorithm);
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

const RSASSA_PSS: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];

fn pss_parameters_der(hash_oid_last: u8, salt: u8) -> Vec<u8> {
    let hash = wrap(
        der::SEQUENCE,
        &[
            0x06,
            0x09,
            0x60,
            0x86,
            0x48,
            0x01,
            0x65,
            0x03,
            0x04,
            0x02,
            hash_oid_last,
            0x05,
            0x00,
        ],
    );
    let mgf1_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
    ];
    let mask = wrap(der::SEQUENCE, &[&mgf1_oid[..], &hash].concat());
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
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    let key = workshop.key(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let pkcs1 = workshop
        .certificate(&key, &["-sha256"])
        .expect("certificate");
    let pss_spki = respelled_spki(&pkcs1.spki, &RSASSA_PSS, &[]);
    assert_eq!(key_type(&pss_spki), KeyType::RsaPss);
    assert!(key_decodes(&pss_spki));
    assert!(matches!(
        verify_signature(&pkcs1.algorithm, &pss_spki, &pkcs1.tbs, &pkcs1.signature),
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
        .certificate(
            &key,
            &[
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-sigopt",
                "rsa_mgf1_md:sha256",
            ],
        )
        .expect("pss");
    assert_eq!(
        verify_signature(
            &sha256_salt32.algorithm,
            &restricted,
            &sha256_salt32.tbs,
            &sha256_salt32.signature
        ),
        Ok(())
    );
    for (label, sign) in [
        (
            "SHA-384",
            [
                "-sha384",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-sigopt",
                "rsa_mgf1_md:sha384",
            ],
        ),
        (
            "MGF1-SHA-1",
            [
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-sigopt",
                "rsa_mgf1_md:sha1",
            ],
        ),
        (
            "salt 20",
            [
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:20",
                "-sigopt",
                "rsa_mgf1_md:sha256",
            ],
        ),
    ] {
        let signed = workshop.certificate(&key, &sign).expect(label);
        assert_eq!(
            verify_signature(
                &signed.algorithm,
                &signed.spki,
                &signed.tbs,
                &signed.signature
            ),
            Ok(()),
            "{label} with the unrestricted key"
        );
        assert!(
            matches!(
                verify_signature(
                    &signed.algorithm,
                    &restricted,
                    &signed.tbs,
                    &signed.signature
                ),
                Err(SignatureError::KeyRestriction { .. })
            ),
            "{label} with the restricted key"
        );
    }
}

#[test]
fn pss_parameters_openssl_rejects_are_rejected() {
    let algorithm = |parameters: Vec<u8>| {
        wrap(
            der::SEQUENCE,
            &[wrap(der::OBJECT_IDENTIFIER, &RSASSA_PSS), parameters].concat(),
        )
    };
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
    let bare = wrap(der::SEQUENCE, &wrap(der::OBJECT_IDENTIFIER, &RSASSA_PSS));
    let trailer = algorithm(wrap(der::SEQUENCE, &wrap(0xa3, &[der::INTEGER, 1, 2])));
    let negative = algorithm(wrap(der::SEQUENCE, &wrap(0xa2, &[der::INTEGER, 1, 0xff])));
    let unknown_hash = algorithm(wrap(
        der::SEQUENCE,
        &wrap(0xa0, &wrap(der::SEQUENCE, &[0x06, 0x03, 0x2a, 0x03, 0x04])),
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

#[test]
fn algorithms_openssl_3_0_does_not_know_are_unknown() {
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    let key = workshop.key(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
    ]);
    let signed = workshop
        .certificate(&key, &["-sha256"])
        .expect("certificate");
    // ecdsa-with-SHA3-256 (2.16.840.1.101.3.4.3.10) is not in OpenSSL 3.0's sigid table.
    let sha3 = wrap(
        der::SEQUENCE,
        &wrap(
            der::OBJECT_IDENTIFIER,
            &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0a],
        ),
    );
    assert_eq!(signature_info(&sha3), None);
    assert!(matches!(
        verify_signature(&sha3, &signed.spki, &signed.tbs, &signed.signature),
        Err(SignatureError::UnknownAlgorithm { .. })
    ));
    // An RSA signature algorithm with an EC key.
    let rsa_sha256 = wrap(
        der::SEQUENCE,
        &[
            wrap(
                der::OBJECT_IDENTIFIER,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    assert!(matches!(
        verify_signature(&rsa_sha256, &signed.spki, &signed.tbs, &signed.signature),
        Err(SignatureError::KeyTypeMismatch {
            key: KeyType::Ec,
            ..
        })
    ));
    // ecdsa-with-Specified: no signature info, but verified with the EC key's default
    // digest, SHA-256 (EVP_DigestVerifyInit with no digest).
    let specified = wrap(
        der::SEQUENCE,
        &wrap(
            der::OBJECT_IDENTIFIER,
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03],
        ),
    );
    assert_eq!(signature_info(&specified), None);
    assert_eq!(
        verify_signature(&specified, &signed.spki, &signed.tbs, &signed.signature),
        Ok(())
    );
}

#[test]
fn ecdsa_encodings_are_as_strict_as_openssl_and_high_s_is_accepted() {
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    let key = workshop.key(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:secp256k1",
    ]);
    let signed = workshop
        .certificate(&key, &["-sha256"])
        .expect("certificate");
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
    if !openssl_present() {
        return;
    }
    let workshop = Workshop::new();
    // Binary-field curves: OpenSSL verifies on them, edgeprobe has no implementation.
    for (curve, key_bits) in [("sect283k1", 128), ("c2pnb163v1", 80)] {
        let option = format!("ec_paramgen_curve:{curve}");
        let key = workshop.key(&["-algorithm", "EC", "-pkeyopt", &option]);
        let signed = workshop.certificate(&key, &["-sha256"]).expect(curve);
        assert!(key_decodes(&signed.spki), "{curve}");
        assert_eq!(key_security_bits(&signed.spki), Some(key_bits), "{curve}");
        match verify_signature(
            &signed.algorithm,
            &signed.spki,
            &signed.tbs,
            &signed.signature,
        ) {
            Err(SignatureError::Unsupported { algorithm }) => assert!(algorithm.contains(curve)),
            other => panic!("{curve}: {other:?}"),
        }
    }
}

#[test]
fn undecodable_keys_are_told_apart() {
    // An unknown curve OID, a point off the curve, garbage in place of an RSA key.
    let ec_spki = |curve: &[u8], point: &[u8]| {
        let algorithm = wrap(
            der::SEQUENCE,
            &[
                wrap(
                    der::OBJECT_IDENTIFIER,
                    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
                ),
                wrap(der::OBJECT_IDENTIFIER, curve),
            ]
            .concat(),
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
    let rsa_algorithm = wrap(
        der::SEQUENCE,
        &[
            wrap(
                der::OBJECT_IDENTIFIER,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
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
