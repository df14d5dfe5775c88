//! Differential test of `edgeprobe verify` against the real `openssl verify` over forged
//! certificates: edgeprobe must never say OK where OpenSSL 3.0 does not, and should give the
//! same final `error N at D depth lookup` line.
//!
//! Root -> intermediate -> leaf chains are generated on every run with the `openssl` command
//! line (see [`generate`]) for every signature algorithm OpenSSL 3.0 verifies: RSA PKCS#1 v1.5
//! from 512 to 4096 bits with MD5 to SHA-512, RSA-PSS with rsaEncryption and id-RSASSA-PSS keys,
//! ECDSA on P-224/P-256/P-384/P-521/secp256k1 and explicit parameters, Ed25519, Ed448 and
//! DSA, and chains mixing them. Then the leaf, and separately the intermediate, is forged with
//! [`crate::der_mutate`]: unknown or swapped signature-algorithm OIDs (on both fields, or on
//! only the outer or inner one), damaged signatures, a renamed subject or changed serial under
//! the old signature, a re-signature by a same-name impostor key, and the forgery of the bug
//! report (renamed, both OIDs 1.2.840.10045.4.3.9, signature bytes kept).
//!
//! Each case runs `openssl verify -auth_level L [-purpose sslserver]` next to `edgeprobe verify
//! --security-level L [--purpose any]`. Chains whose digests or keys are too weak for level 1
//! (MD5, SHA-1, RSA under 1024 bits) are forged at level 0, where OpenSSL still checks their
//! signatures (x509_vfy.c `check_auth_level` would otherwise stop at 66/67/68 before
//! `internal_verify` ever looks at a signature); their unforged chain also runs at level 1.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use crate::der_mutate::{
    Certificate, Place, algorithm_identifier, der_from_pem, null, pem, pss_parameters,
};
use crate::harness::edgeprobe;

/// Code mismatches accepted on purpose, as (substring of the case name, reason). A false OK is
/// never accepted, whatever this list says; an entry that no longer matches any mismatch fails
/// the test, so the list cannot outlive the difference it excuses.
///
/// Empty: every difference from OpenSSL 3.0 found so far is a defect to fix, not a choice.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// The OID the bug report's forgery carries: under ecdsa-with-SHA3 (1.2.840.10045.4.3), one
/// past the last one assigned, so no library knows it.
const UNKNOWN_SIGNATURE_ALGORITHM: &str = "1.2.840.10045.4.3.9";

mod oid {
    pub const MD5_WITH_RSA: &str = "1.2.840.113549.1.1.4";
    pub const SHA1_WITH_RSA: &str = "1.2.840.113549.1.1.5";
    pub const SHA224_WITH_RSA: &str = "1.2.840.113549.1.1.14";
    pub const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
    pub const SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
    pub const SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
    pub const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
    pub const ECDSA_SHA1: &str = "1.2.840.10045.4.1";
    pub const ECDSA_SHA224: &str = "1.2.840.10045.4.3.1";
    pub const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
    pub const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
    pub const ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
    pub const ED25519: &str = "1.3.101.112";
    pub const ED448: &str = "1.3.101.113";
    pub const DSA_SHA1: &str = "1.2.840.10040.4.3";
    pub const DSA_SHA224: &str = "2.16.840.1.101.3.4.3.1";
    pub const DSA_SHA256: &str = "2.16.840.1.101.3.4.3.2";
    pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";
    pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
}

/// A key type, generated with `openssl genpkey`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Rsa(u32),
    /// id-RSASSA-PSS key, unrestricted.
    RsaPss,
    /// id-RSASSA-PSS key restricted to SHA-256, MGF1-SHA-256 and 32-byte salts (RFC 4055).
    RsaPssSha256,
    Ec(&'static str),
    /// The curve's parameters spelled out in the key instead of its OID (RFC 3279 2.3.5).
    EcExplicit(&'static str),
    Ed25519,
    Ed448,
    /// DSA with a p of this many bits (q of 160 bits for 1024, 256 for 2048).
    Dsa(u32),
}

impl Key {
    fn file_stem(self) -> String {
        match self {
            Key::Rsa(bits) => format!("rsa{bits}"),
            Key::RsaPss => "rsa-pss".into(),
            Key::RsaPssSha256 => "rsa-pss-sha256".into(),
            Key::Ec(curve) => format!("ec-{curve}"),
            Key::EcExplicit(curve) => format!("ec-explicit-{curve}"),
            Key::Ed25519 => "ed25519".into(),
            Key::Ed448 => "ed448".into(),
            Key::Dsa(bits) => format!("dsa{bits}"),
        }
    }

    fn genpkey_arguments(self, keys: &Path) -> Vec<String> {
        let strings = |arguments: &[&str]| arguments.iter().map(|a| (*a).to_owned()).collect();
        match self {
            Key::Rsa(bits) => vec![
                "-algorithm".into(),
                "RSA".into(),
                "-pkeyopt".into(),
                format!("rsa_keygen_bits:{bits}"),
            ],
            Key::RsaPss => strings(&["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"]),
            Key::RsaPssSha256 => strings(&[
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
            ]),
            Key::Ec(curve) => vec![
                "-algorithm".into(),
                "EC".into(),
                "-pkeyopt".into(),
                format!("ec_paramgen_curve:{curve}"),
            ],
            Key::EcExplicit(curve) => vec![
                "-algorithm".into(),
                "EC".into(),
                "-pkeyopt".into(),
                format!("ec_paramgen_curve:{curve}"),
                "-pkeyopt".into(),
                "ec_param_enc:explicit".into(),
            ],
            Key::Ed25519 => strings(&["-algorithm", "ED25519"]),
            Key::Ed448 => strings(&["-algorithm", "ED448"]),
            Key::Dsa(bits) => vec![
                "-paramfile".into(),
                keys.join(format!("dsa{bits}.param")).display().to_string(),
            ],
        }
    }
}

/// How an issuer's key signs: the digest flag of `openssl req` and its `-sigopt`s.
#[derive(Clone, Copy, Debug)]
struct Signing {
    digest: Option<&'static str>,
    options: &'static [&'static str],
}

impl Signing {
    fn arguments(self) -> Vec<String> {
        let mut arguments: Vec<String> = self.digest.iter().map(|d| (*d).to_owned()).collect();
        for option in self.options {
            arguments.extend(["-sigopt".to_owned(), (*option).to_owned()]);
        }
        arguments
    }
}

const fn digest(flag: &'static str) -> Signing {
    Signing {
        digest: Some(flag),
        options: &[],
    }
}

const MD5: Signing = digest("-md5");
const SHA1: Signing = digest("-sha1");
const SHA224: Signing = digest("-sha224");
const SHA256: Signing = digest("-sha256");
const SHA384: Signing = digest("-sha384");
const SHA512: Signing = digest("-sha512");
/// Ed25519 and Ed448 take no digest.
const PURE: Signing = Signing {
    digest: None,
    options: &[],
};
const PSS_SHA256_SALT_32: Signing = Signing {
    digest: Some("-sha256"),
    options: &[
        "rsa_padding_mode:pss",
        "rsa_pss_saltlen:32",
        "rsa_mgf1_md:sha256",
    ],
};
const PSS_SHA256_SALT_MAX: Signing = Signing {
    digest: Some("-sha256"),
    options: &["rsa_padding_mode:pss", "rsa_pss_saltlen:max"],
};
const PSS_SHA256_MGF1_SHA1_SALT_20: Signing = Signing {
    digest: Some("-sha256"),
    options: &[
        "rsa_padding_mode:pss",
        "rsa_pss_saltlen:20",
        "rsa_mgf1_md:sha1",
    ],
};
const PSS_SHA384_SALT_48: Signing = Signing {
    digest: Some("-sha384"),
    options: &[
        "rsa_padding_mode:pss",
        "rsa_pss_saltlen:48",
        "rsa_mgf1_md:sha384",
    ],
};
const PSS_SHA512_SALT_0: Signing = Signing {
    digest: Some("-sha512"),
    options: &[
        "rsa_padding_mode:pss",
        "rsa_pss_saltlen:0",
        "rsa_mgf1_md:sha512",
    ],
};
const PSS_SHA512_SALT_64: Signing = Signing {
    digest: Some("-sha512"),
    options: &[
        "rsa_padding_mode:pss",
        "rsa_pss_saltlen:64",
        "rsa_mgf1_md:sha512",
    ],
};

/// A root -> intermediate -> leaf chain.
struct Chain {
    name: &'static str,
    /// The root's, the intermediate's and the leaf's key.
    keys: [Key; 3],
    /// How the root signs itself, how the root signs the intermediate, how the intermediate
    /// signs the leaf.
    signing: [Signing; 3],
    /// The security level the chain is forged at: 1, or 0 for algorithms level 1 refuses.
    level: u8,
    /// What OpenSSL says about the unforged chain at that level: OK, unless OpenSSL refuses
    /// the algorithm outright. Anything else is a generator bug.
    unforged: Verdict,
}

impl Chain {
    const fn refused(mut self, code: u32, depth: usize) -> Chain {
        self.unforged = Verdict::Failed { code, depth };
        self
    }
}

const fn uniform(name: &'static str, key: Key, signing: Signing, level: u8) -> Chain {
    Chain {
        name,
        keys: [key, key, key],
        signing: [signing, signing, signing],
        level,
        unforged: Verdict::Ok,
    }
}

const fn mixed(name: &'static str, keys: [Key; 3], signing: [Signing; 3]) -> Chain {
    Chain {
        name,
        keys,
        signing,
        level: 1,
        unforged: Verdict::Ok,
    }
}

const P224: Key = Key::Ec("P-224");
const P256: Key = Key::Ec("P-256");
const P384: Key = Key::Ec("P-384");
const P521: Key = Key::Ec("P-521");
const SECP256K1: Key = Key::Ec("secp256k1");

const CHAINS: &[Chain] = &[
    // RSA PKCS#1 v1.5.
    uniform("RSA-2048 SHA-256", Key::Rsa(2048), SHA256, 1),
    uniform("RSA-2048 SHA-224", Key::Rsa(2048), SHA224, 1),
    uniform("RSA-2048 SHA-384", Key::Rsa(2048), SHA384, 1),
    uniform("RSA-2048 SHA-512", Key::Rsa(2048), SHA512, 1),
    uniform("RSA-2048 SHA-1", Key::Rsa(2048), SHA1, 0),
    uniform("RSA-2048 MD5", Key::Rsa(2048), MD5, 0),
    uniform("RSA-512 SHA-256", Key::Rsa(512), SHA256, 0),
    uniform("RSA-768 SHA-256", Key::Rsa(768), SHA256, 0),
    uniform("RSA-1024 SHA-256", Key::Rsa(1024), SHA256, 1),
    uniform("RSA-1024 SHA-384", Key::Rsa(1024), SHA384, 1),
    uniform("RSA-1024 SHA-224", Key::Rsa(1024), SHA224, 1),
    uniform("RSA-1024 SHA-1", Key::Rsa(1024), SHA1, 0),
    uniform("RSA-4096 SHA-256", Key::Rsa(4096), SHA256, 1),
    uniform("RSA-4096 SHA-512", Key::Rsa(4096), SHA512, 1),
    // RSA-PSS signatures by rsaEncryption keys.
    uniform(
        "RSA-2048 PSS SHA-256 salt 32",
        Key::Rsa(2048),
        PSS_SHA256_SALT_32,
        1,
    ),
    uniform(
        "RSA-2048 PSS SHA-256 salt max",
        Key::Rsa(2048),
        PSS_SHA256_SALT_MAX,
        1,
    ),
    uniform(
        "RSA-2048 PSS SHA-256 MGF1-SHA-1 salt 20",
        Key::Rsa(2048),
        PSS_SHA256_MGF1_SHA1_SALT_20,
        1,
    ),
    uniform(
        "RSA-2048 PSS SHA-384 salt 48",
        Key::Rsa(2048),
        PSS_SHA384_SALT_48,
        1,
    ),
    uniform(
        "RSA-2048 PSS SHA-512 salt 0",
        Key::Rsa(2048),
        PSS_SHA512_SALT_0,
        1,
    ),
    uniform(
        "RSA-1024 PSS SHA-256 salt 32",
        Key::Rsa(1024),
        PSS_SHA256_SALT_32,
        1,
    ),
    uniform(
        "RSA-4096 PSS SHA-512 salt 64",
        Key::Rsa(4096),
        PSS_SHA512_SALT_64,
        1,
    ),
    // id-RSASSA-PSS keys (the padding is implied by the key).
    uniform("RSA-PSS key SHA-256", Key::RsaPss, SHA256, 1),
    uniform("RSA-PSS key SHA-512", Key::RsaPss, SHA512, 1),
    uniform(
        "RSA-PSS key restricted to SHA-256",
        Key::RsaPssSha256,
        SHA256,
        1,
    ),
    // ECDSA.
    uniform("P-256 SHA-256", P256, SHA256, 1),
    uniform("P-256 SHA-224", P256, SHA224, 1),
    uniform("P-256 SHA-384", P256, SHA384, 1),
    uniform("P-256 SHA-512", P256, SHA512, 1),
    uniform("P-256 SHA-1", P256, SHA1, 0),
    uniform("P-384 SHA-384", P384, SHA384, 1),
    uniform("P-384 SHA-256", P384, SHA256, 1),
    uniform("P-384 SHA-512", P384, SHA512, 1),
    uniform("P-521 SHA-512", P521, SHA512, 1),
    uniform("P-521 SHA-256", P521, SHA256, 1),
    uniform("P-224 SHA-224", P224, SHA224, 1),
    uniform("P-224 SHA-256", P224, SHA256, 1),
    uniform("secp256k1 SHA-256", SECP256K1, SHA256, 1),
    // OpenSSL 3.0 refuses explicit curve parameters in any chain longer than one certificate
    // (x509_vfy.c check_chain_extensions, `check_curve`), so its signatures are never checked.
    uniform(
        "P-256 explicit parameters SHA-256",
        Key::EcExplicit("P-256"),
        SHA256,
        1,
    )
    .refused(94, 0),
    // EdDSA.
    uniform("Ed25519", Key::Ed25519, PURE, 1),
    uniform("Ed448", Key::Ed448, PURE, 1),
    // DSA.
    uniform("DSA-1024 SHA-1", Key::Dsa(1024), SHA1, 0),
    uniform("DSA-1024 SHA-256", Key::Dsa(1024), SHA256, 1),
    uniform("DSA-2048 SHA-256", Key::Dsa(2048), SHA256, 1),
    uniform("DSA-2048 SHA-224", Key::Dsa(2048), SHA224, 1),
    uniform("DSA-2048 SHA-1", Key::Dsa(2048), SHA1, 0),
    // Mixed chains: each certificate signed by a different algorithm from the one it holds.
    mixed(
        "P-521 root, RSA-2048 intermediate, Ed25519 leaf",
        [P521, Key::Rsa(2048), Key::Ed25519],
        [SHA512, SHA512, SHA256],
    ),
    mixed(
        "Ed448 root, P-256 intermediate, RSA-2048 leaf",
        [Key::Ed448, P256, Key::Rsa(2048)],
        [PURE, PURE, SHA256],
    ),
    mixed(
        "RSA-4096 PSS root, P-384 intermediate, P-256 leaf",
        [Key::Rsa(4096), P384, P256],
        [PSS_SHA384_SALT_48, PSS_SHA256_SALT_32, SHA384],
    ),
    mixed(
        "DSA-2048 root, Ed25519 intermediate, P-224 leaf",
        [Key::Dsa(2048), Key::Ed25519, P224],
        [SHA256, SHA256, PURE],
    ),
    mixed(
        "RSA-PSS key root, secp256k1 intermediate, Ed448 leaf",
        [Key::RsaPss, SECP256K1, Key::Ed448],
        [SHA256, SHA384, SHA256],
    ),
    mixed(
        "Ed25519 root, RSA-1024 intermediate, secp256k1 leaf",
        [Key::Ed25519, Key::Rsa(1024), SECP256K1],
        [PURE, PURE, SHA256],
    ),
    mixed(
        "P-256 root, RSA-PSS key intermediate, P-384 leaf",
        [P256, Key::RsaPssSha256, P384],
        [SHA256, SHA256, SHA256],
    ),
];

/// The openssl configuration every certificate is made with: CA and TLS-server extensions,
/// so the unforged chains pass `-purpose sslserver`.
const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:leaf.differential.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
# An impostor CA: the genuine issuer's name and (given with -addext) its key identifier, so
# what it signs is matched to the genuine issuer and only the signature gives it away.
[impostor]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
";

const ROOT_SUBJECT: &str = "/O=edgeprobe differential/CN=Differential Root";
const INTERMEDIATE_SUBJECT: &str = "/O=edgeprobe differential/CN=Differential Intermediate";
const LEAF_SUBJECT: &str = "/CN=leaf.differential.test";

/// At most this many openssl or edgeprobe processes at once.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from) + 1
}

/// `work` on every item, on a few threads; results in the items' order.
fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers().min(items.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    let result = work(item);
                    *results[index].lock().expect("no worker panicked") = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("no worker panicked")
                .expect("every item was worked on")
        })
        .collect()
}

fn openssl(directory: &Path, arguments: &[String]) {
    let output = Command::new("openssl")
        .args(arguments)
        .current_dir(directory)
        .output()
        .expect("openssl runs (scripts/test installs it)");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        arguments.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn strings(arguments: &[&str]) -> Vec<String> {
    arguments.iter().map(|a| (*a).to_owned()).collect()
}

/// Key `index` of a type: 0, 1 and 2 for root, intermediate and leaf, 3 for an impostor.
fn key_path(keys: &Path, key: Key, index: usize) -> PathBuf {
    keys.join(format!("{}-{index}.key", key.file_stem()))
}

/// Which forgery a case verifies.
#[derive(Clone, Debug)]
enum Forged {
    Nothing,
    Leaf(String),
    Intermediate(String),
}

/// One verification: files, flags and what it is called in the report.
struct Case {
    chain: &'static Chain,
    forged: Forged,
    root: PathBuf,
    untrusted: PathBuf,
    leaf: PathBuf,
    /// `-purpose sslserver` (else no purpose check: `--purpose any`).
    purpose: bool,
    level: u8,
}

impl fmt::Display for Case {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let purpose = if self.purpose {
            "sslserver"
        } else {
            "no purpose"
        };
        let forged = match &self.forged {
            Forged::Nothing => "unforged".to_owned(),
            Forged::Leaf(how) => format!("leaf: {how}"),
            Forged::Intermediate(how) => format!("intermediate: {how}"),
        };
        write!(
            formatter,
            "{} / {forged} [{purpose}, level {}]",
            self.chain.name, self.level
        )
    }
}

/// The generated chains and their forgeries, in a temporary directory.
struct Generated {
    directory: tempfile::TempDir,
    cases: Vec<Case>,
    /// The verification time both tools are given: when generation finished.
    at: i64,
}

/// Keys once per type, then every chain with its impostors and forgeries.
fn generate() -> Generated {
    let directory = tempfile::tempdir().expect("temporary directory");
    let base = directory.path();
    fs::write(base.join("openssl.cnf"), OPENSSL_CONFIG).expect("write openssl.cnf");
    let keys = base.join("keys");
    fs::create_dir(&keys).expect("keys directory");

    // DSA keys share one parameter set per size.
    parallel_map(&[(1024, 160), (2048, 256)], |(bits, q_bits)| {
        openssl(
            &keys,
            &[
                "genpkey".into(),
                "-genparam".into(),
                "-algorithm".into(),
                "DSA".into(),
                "-pkeyopt".into(),
                format!("dsa_paramgen_bits:{bits}"),
                "-pkeyopt".into(),
                format!("dsa_paramgen_q_bits:{q_bits}"),
                "-out".into(),
                format!("dsa{bits}.param"),
            ],
        );
    });
    let mut needed: Vec<(Key, usize)> = CHAINS
        .iter()
        .flat_map(|chain| {
            let [root, intermediate, leaf] = chain.keys;
            [
                (root, 0),
                (intermediate, 1),
                (leaf, 2),
                (root, 3),
                (intermediate, 3),
            ]
        })
        .collect();
    needed.sort();
    needed.dedup();
    parallel_map(&needed, |&(key, index)| {
        let mut arguments = vec!["genpkey".to_owned()];
        arguments.extend(key.genpkey_arguments(&keys));
        arguments.extend([
            "-out".into(),
            key_path(&keys, key, index).display().to_string(),
        ]);
        openssl(&keys, &arguments);
    });

    let indexed: Vec<(usize, &Chain)> = CHAINS.iter().enumerate().collect();
    let cases = parallel_map(&indexed, |(index, chain)| {
        generate_chain(base, &keys, *index, chain)
    })
    .into_iter()
    .flatten()
    .collect();
    Generated {
        directory,
        cases,
        at: OffsetDateTime::now_utc().unix_timestamp(),
    }
}

/// One chain, its two impostor CAs, every forgery of its leaf and intermediate, and the
/// cases that verify them.
fn generate_chain(base: &Path, keys: &Path, index: usize, chain: &'static Chain) -> Vec<Case> {
    let directory = base.join(format!("chain-{index}"));
    fs::create_dir(&directory).expect("chain directory");
    let config = base.join("openssl.cnf").display().to_string();
    let path = |name: &str| directory.join(name).display().to_string();
    let [root_key, intermediate_key, leaf_key] = chain.keys;
    let [root_signing, intermediate_signing, leaf_signing] = chain.signing;
    let key = |key: Key, index: usize| key_path(keys, key, index).display().to_string();
    // `openssl req -x509 -new`: the certificate for `subject_key`, signed by `issuer` (itself
    // when None), with the extensions of `section` and any `extra` arguments.
    let certificate = |out: &str,
                       subject: &str,
                       subject_key: String,
                       issuer: Option<(String, String)>,
                       section: &str,
                       serial: u32,
                       signing: Signing,
                       extra: &[String]| {
        let mut arguments = strings(&["req", "-x509", "-new", "-config"]);
        arguments.extend([config.clone(), "-extensions".into(), section.into()]);
        arguments.extend(["-key".into(), subject_key, "-subj".into(), subject.into()]);
        if let Some((issuer_certificate, issuer_key)) = issuer {
            arguments.extend([
                "-CA".into(),
                issuer_certificate,
                "-CAkey".into(),
                issuer_key,
            ]);
        }
        arguments.extend(["-days".into(), "2".into(), "-set_serial".into()]);
        arguments.push(serial.to_string());
        arguments.extend(signing.arguments());
        arguments.extend(extra.iter().cloned());
        arguments.extend(["-out".into(), path(out)]);
        openssl(&directory, &arguments);
    };
    let load = |name: &str| {
        let der = der_from_pem(&fs::read_to_string(directory.join(name)).expect("read"));
        let certificate = Certificate::from_der(&der);
        // The editor must give back exactly what it read before any forgery is trusted.
        assert_eq!(certificate.to_der(), der, "DER editor round trip of {name}");
        certificate
    };

    certificate(
        "root.pem",
        ROOT_SUBJECT,
        key(root_key, 0),
        None,
        "ca",
        1,
        root_signing,
        &[],
    );
    certificate(
        "intermediate.pem",
        INTERMEDIATE_SUBJECT,
        key(intermediate_key, 1),
        Some((path("root.pem"), key(root_key, 0))),
        "ca",
        2,
        intermediate_signing,
        &[],
    );
    certificate(
        "leaf.pem",
        LEAF_SUBJECT,
        key(leaf_key, 2),
        Some((path("intermediate.pem"), key(intermediate_key, 1))),
        "leaf",
        3,
        leaf_signing,
        &[],
    );
    let root = load("root.pem");
    let intermediate = load("intermediate.pem");
    let leaf = load("leaf.pem");

    // Same-name impostors with a fresh key, claiming the genuine key identifier; then the
    // intermediate and the leaf issued again, by them, with everything else unchanged.
    let claimed_key_identifier = |certificate: &Certificate| {
        let identifier = certificate
            .subject_key_identifier()
            .expect("generated CAs have a subjectKeyIdentifier");
        let hex: Vec<String> = identifier.iter().map(|b| format!("{b:02X}")).collect();
        vec![
            "-addext".to_owned(),
            format!("subjectKeyIdentifier={}", hex.join(":")),
        ]
    };
    certificate(
        "impostor-root.pem",
        ROOT_SUBJECT,
        key(root_key, 3),
        None,
        "impostor",
        11,
        root_signing,
        &claimed_key_identifier(&root),
    );
    certificate(
        "impostor-intermediate.pem",
        INTERMEDIATE_SUBJECT,
        key(intermediate_key, 3),
        None,
        "impostor",
        12,
        leaf_signing,
        &claimed_key_identifier(&intermediate),
    );
    certificate(
        "intermediate-impostor.pem",
        INTERMEDIATE_SUBJECT,
        key(intermediate_key, 1),
        Some((path("impostor-root.pem"), key(root_key, 3))),
        "ca",
        2,
        intermediate_signing,
        &[],
    );
    certificate(
        "leaf-impostor.pem",
        LEAF_SUBJECT,
        key(leaf_key, 2),
        Some((path("impostor-intermediate.pem"), key(intermediate_key, 3))),
        "leaf",
        3,
        leaf_signing,
        &[],
    );
    const IMPOSTOR: &str = "re-signed by a same-name impostor key";

    let case = |forged: Forged, untrusted: &str, leaf: &str, purpose: bool, level: u8| Case {
        chain,
        forged,
        root: directory.join("root.pem"),
        untrusted: directory.join(untrusted),
        leaf: directory.join(leaf),
        purpose,
        level,
    };
    let mut cases = Vec::new();
    // Every case with -purpose sslserver; the unforged chain and the headline forgeries also
    // without a purpose (twice as many processes for every case would buy little: the
    // signature checks do not depend on the purpose).
    let mut add = |forged: Forged, untrusted: &str, leaf: &str, without_purpose_too: bool| {
        cases.push(case(forged.clone(), untrusted, leaf, true, chain.level));
        if without_purpose_too {
            cases.push(case(forged, untrusted, leaf, false, chain.level));
        }
    };
    add(Forged::Nothing, "intermediate.pem", "leaf.pem", true);
    add(
        Forged::Leaf(IMPOSTOR.into()),
        "intermediate.pem",
        "leaf-impostor.pem",
        true,
    );
    add(
        Forged::Intermediate(IMPOSTOR.into()),
        "intermediate-impostor.pem",
        "leaf.pem",
        true,
    );
    for (number, forgery) in forgeries(&leaf).into_iter().enumerate() {
        let name = format!("leaf-{number}.pem");
        fs::write(directory.join(&name), pem(&forgery.der)).expect("write forgery");
        add(
            Forged::Leaf(forgery.how),
            "intermediate.pem",
            &name,
            forgery.headline,
        );
    }
    for (number, forgery) in forgeries(&intermediate).into_iter().enumerate() {
        let name = format!("intermediate-{number}.pem");
        fs::write(directory.join(&name), pem(&forgery.der)).expect("write forgery");
        add(
            Forged::Intermediate(forgery.how),
            &name,
            "leaf.pem",
            forgery.headline,
        );
    }
    if chain.level == 0 {
        // What level 1 says about the weak algorithm itself (66, 67 or 68).
        cases.push(case(
            Forged::Nothing,
            "intermediate.pem",
            "leaf.pem",
            true,
            1,
        ));
    }
    cases
}

fn algorithm_name(oid: &str) -> &'static str {
    match oid {
        oid::MD5_WITH_RSA => "md5WithRSAEncryption",
        oid::SHA1_WITH_RSA => "sha1WithRSAEncryption",
        oid::SHA224_WITH_RSA => "sha224WithRSAEncryption",
        oid::SHA256_WITH_RSA => "sha256WithRSAEncryption",
        oid::SHA384_WITH_RSA => "sha384WithRSAEncryption",
        oid::SHA512_WITH_RSA => "sha512WithRSAEncryption",
        oid::RSASSA_PSS => "RSASSA-PSS",
        oid::ECDSA_SHA1 => "ecdsa-with-SHA1",
        oid::ECDSA_SHA224 => "ecdsa-with-SHA224",
        oid::ECDSA_SHA256 => "ecdsa-with-SHA256",
        oid::ECDSA_SHA384 => "ecdsa-with-SHA384",
        oid::ECDSA_SHA512 => "ecdsa-with-SHA512",
        oid::ED25519 => "Ed25519",
        oid::ED448 => "Ed448",
        oid::DSA_SHA1 => "dsa-with-SHA1",
        oid::DSA_SHA224 => "dsa-with-SHA224",
        oid::DSA_SHA256 => "dsa-with-SHA256",
        _ => "an unknown algorithm",
    }
}

/// Known algorithms a forger could put in place of `current`, the certificate's own: the
/// same family with another digest, another padding, other or no parameters, another family.
fn substitutes(current: &str) -> Vec<(String, crate::der_mutate::Tlv)> {
    use oid::*;
    let with_null = |oid: &str| {
        (
            algorithm_name(oid).to_owned(),
            algorithm_identifier(oid, Some(null())),
        )
    };
    let bare = |oid: &str| {
        (
            algorithm_name(oid).to_owned(),
            algorithm_identifier(oid, None),
        )
    };
    let pss = |hash: &str, salt: u8| {
        let digest = if hash == SHA256 { "SHA-256" } else { "SHA-384" };
        (
            format!("RSASSA-PSS {digest} salt {salt}"),
            algorithm_identifier(RSASSA_PSS, Some(pss_parameters(hash, salt))),
        )
    };
    let relabel = |(name, algorithm): (String, _), how: &str| (format!("{name} {how}"), algorithm);
    let pkcs1 = [
        SHA1_WITH_RSA,
        SHA224_WITH_RSA,
        SHA256_WITH_RSA,
        SHA384_WITH_RSA,
        SHA512_WITH_RSA,
    ];
    let ecdsa = [
        ECDSA_SHA1,
        ECDSA_SHA224,
        ECDSA_SHA256,
        ECDSA_SHA384,
        ECDSA_SHA512,
    ];
    let next = |family: &[&'static str]| {
        let position = family.iter().position(|oid| *oid == current);
        family[position.map_or(0, |p| (p + 1) % family.len())]
    };
    match current {
        MD5_WITH_RSA | SHA1_WITH_RSA | SHA224_WITH_RSA | SHA256_WITH_RSA | SHA384_WITH_RSA
        | SHA512_WITH_RSA => vec![
            with_null(next(&pkcs1)),
            relabel(bare(RSASSA_PSS), "without parameters"),
            pss(SHA256, 32),
            relabel(bare(current), "without its NULL parameters"),
            bare(ECDSA_SHA256),
        ],
        RSASSA_PSS => vec![
            pss(SHA256, 32),
            pss(SHA384, 48),
            relabel(bare(RSASSA_PSS), "without parameters"),
            with_null(SHA256_WITH_RSA),
        ],
        ECDSA_SHA1 | ECDSA_SHA224 | ECDSA_SHA256 | ECDSA_SHA384 | ECDSA_SHA512 => vec![
            bare(next(&ecdsa)),
            relabel(with_null(current), "with NULL parameters"),
            with_null(SHA256_WITH_RSA),
            bare(ED25519),
        ],
        ED25519 => vec![
            bare(ED448),
            relabel(with_null(ED25519), "with NULL parameters"),
            bare(ECDSA_SHA256),
        ],
        ED448 => vec![
            bare(ED25519),
            relabel(with_null(ED448), "with NULL parameters"),
        ],
        DSA_SHA1 | DSA_SHA224 | DSA_SHA256 => vec![
            bare(if current == DSA_SHA256 {
                DSA_SHA1
            } else {
                DSA_SHA256
            }),
            relabel(with_null(current), "with NULL parameters"),
            bare(ECDSA_SHA256),
        ],
        other => panic!("no substitutes for signature algorithm {other}"),
    }
}

/// A forged certificate and how it was forged.
struct Forgery {
    how: String,
    der: Vec<u8>,
    /// One of the forgeries the bug report names, also verified without a purpose.
    headline: bool,
}

/// Every forgery of `certificate`.
fn forgeries(certificate: &Certificate) -> Vec<Forgery> {
    let place_name = |place: Place| match place {
        Place::Both => "both",
        Place::Outer => "outer only",
        Place::Inner => "inner only",
    };
    let mut forgeries: Vec<(String, Certificate)> = Vec::new();
    let mut forge = |how: String, edit: &dyn Fn(&mut Certificate)| {
        let mut forged = certificate.clone();
        edit(&mut forged);
        forgeries.push((how, forged));
    };
    let unknown = algorithm_identifier(UNKNOWN_SIGNATURE_ALGORITHM, None);
    for place in [Place::Both, Place::Outer, Place::Inner] {
        forge(
            format!(
                "signature algorithm {UNKNOWN_SIGNATURE_ALGORITHM} ({})",
                place_name(place)
            ),
            &|forged| forged.set_signature_algorithm(place, &unknown),
        );
    }
    let current = certificate.signature_algorithm_oid();
    for (number, (name, algorithm)) in substitutes(&current).into_iter().enumerate() {
        // Only the first substitute also goes in one field at a time: the mismatch itself is
        // what those cases test.
        let places: &[Place] = if number == 0 {
            &[Place::Both, Place::Outer, Place::Inner]
        } else {
            &[Place::Both]
        };
        for &place in places {
            forge(
                format!("signature algorithm {name} ({})", place_name(place)),
                &|forged| forged.set_signature_algorithm(place, &algorithm),
            );
        }
    }
    forge("signature truncated by one byte".into(), &|forged| {
        let signature = forged.signature().to_vec();
        forged.set_signature(&signature[..signature.len() - 1]);
    });
    forge("signature empty".into(), &|forged| {
        forged.set_signature(&[])
    });
    forge("signature with one bit flipped".into(), &|forged| {
        let mut signature = forged.signature().to_vec();
        let middle = signature.len() / 2;
        signature[middle] ^= 0x01;
        forged.set_signature(&signature);
    });
    forge("subject renamed".into(), &|forged| {
        forged.rename_subject(" forged")
    });
    forge("serial number changed".into(), &|forged| {
        forged.change_serial()
    });
    forge(
        format!(
            "renamed, both signature algorithms {UNKNOWN_SIGNATURE_ALGORITHM} (the reported forgery)"
        ),
        &|forged| {
            forged.rename_subject(" forged");
            forged.set_signature_algorithm(Place::Both, &unknown);
        },
    );
    let original = certificate.to_der();
    let count = forgeries.len();
    forgeries
        .into_iter()
        .enumerate()
        .map(|(number, (how, forged))| {
            let der = forged.to_der();
            assert_ne!(der, original, "the forgery `{how}` changed nothing");
            // The first (both OIDs unknown) and the last (the reported forgery).
            let headline = number == 0 || number == count - 1;
            Forgery { how, der, headline }
        })
        .collect()
}

/// A tool's verdict on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// The last `error N at D depth lookup` line: (N, D).
    Failed {
        code: u32,
        depth: usize,
    },
    /// Neither OK nor an error line: the files could not be loaded.
    Unreadable,
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ok => write!(formatter, "OK"),
            Verdict::Failed { code, depth } => write!(formatter, "{code} at depth {depth}"),
            Verdict::Unreadable => write!(formatter, "no verdict (unreadable input)"),
        }
    }
}

/// What one tool printed and how it exited.
struct Outcome {
    verdict: Verdict,
    exit: i32,
    text: String,
}

impl Outcome {
    fn read(output: std::process::Output, leaf: &Path) -> Outcome {
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let ok_line = format!("{}: OK", leaf.display());
        let verdict =
            if text.lines().any(|line| line == ok_line) {
                Verdict::Ok
            } else {
                text.lines().rev().find_map(error_line).map_or(
                    Verdict::Unreadable,
                    |(code, depth)| Verdict::Failed { code, depth },
                )
            };
        Outcome {
            verdict,
            exit: output.status.code().unwrap_or(-1),
            text,
        }
    }
}

/// `error N at D depth lookup: ...` as (N, D).
fn error_line(line: &str) -> Option<(u32, usize)> {
    let mut words = line.strip_prefix("error ")?.split_whitespace();
    let code = words.next()?.parse().ok()?;
    (words.next()? == "at").then_some(())?;
    let depth = words.next()?.parse().ok()?;
    (words.next()? == "depth").then_some((code, depth))
}

fn openssl_verify(case: &Case, at: i64) -> Outcome {
    let mut command = Command::new("openssl");
    command.args(["verify", "-auth_level", &case.level.to_string()]);
    if case.purpose {
        command.args(["-purpose", "sslserver"]);
    }
    command.args(["-attime", &at.to_string()]);
    // -trusted: only these roots, not the system's (apps/verify.c sets -no-CApath/-no-CAstore).
    command.arg("-trusted").arg(&case.root);
    command.arg("-untrusted").arg(&case.untrusted);
    command.arg(&case.leaf);
    let output = command.output().expect("openssl verify runs");
    let outcome = Outcome::read(output, &case.leaf);
    // apps/verify.c exits 0 for OK and 2 for anything else.
    let ok = outcome.verdict == Verdict::Ok;
    assert_eq!(
        outcome.exit == 0,
        ok,
        "openssl verify's exit status disagrees with its output for {case}:\n{}",
        outcome.text
    );
    outcome
}

fn edgeprobe_verify(case: &Case, at: i64) -> Outcome {
    let mut command = edgeprobe();
    command.arg("verify").arg("--ca-file").arg(&case.root);
    command.arg("--untrusted").arg(&case.untrusted);
    command.args(["--security-level", &case.level.to_string()]);
    if !case.purpose {
        command.args(["--purpose", "any"]);
    }
    command.args(["--at", &at.to_string()]);
    command.arg(&case.leaf);
    Outcome::read(command.output().expect("edgeprobe verify runs"), &case.leaf)
}

/// What is wrong with edgeprobe's output whatever OpenSSL said: panics, key material, an
/// exit status that contradicts the verdict (0 OK, 1 failed, 2 only for unusable input).
fn contract_violations(ours: &Outcome, theirs: &Outcome) -> Vec<String> {
    let mut violations = Vec::new();
    for forbidden in [
        "panicked",
        "stack backtrace",
        "RUST_BACKTRACE",
        "PRIVATE KEY",
    ] {
        if ours.text.contains(forbidden) {
            violations.push(format!("output contains `{forbidden}`"));
        }
    }
    let expected_exit = match (&ours.verdict, &theirs.verdict) {
        (Verdict::Ok, _) => 0,
        (Verdict::Failed { .. }, _) => 1,
        // A file openssl loads is not a usage error.
        (Verdict::Unreadable, Verdict::Unreadable) => 2,
        (Verdict::Unreadable, _) => 1,
    };
    if ours.exit != expected_exit {
        violations.push(format!(
            "exit status {} for {} (expected {expected_exit})",
            ours.exit, ours.verdict
        ));
    }
    violations
}

#[test]
fn edgeprobe_never_says_ok_where_openssl_refuses_a_forged_certificate() {
    let Generated {
        directory,
        cases,
        at,
    } = generate();
    let outcomes = parallel_map(&cases, |case| {
        (openssl_verify(case, at), edgeprobe_verify(case, at))
    });

    let mut generator_problems = Vec::new();
    let mut false_oks = Vec::new();
    let mut mismatches = Vec::new();
    let mut contract = Vec::new();
    let mut known_used = vec![false; KNOWN_DIFFERENCES.len()];
    let mut exact = 0;
    for (case, (theirs, ours)) in cases.iter().zip(&outcomes) {
        // An unforged chain that OpenSSL refuses at its own level is a generator bug, and
        // would make every forgery of it prove nothing.
        if matches!(case.forged, Forged::Nothing)
            && case.level == case.chain.level
            && theirs.verdict != case.chain.unforged
        {
            generator_problems.push(format!(
                "{case}: openssl says {}\n{}",
                theirs.verdict, theirs.text
            ));
        }
        for violation in contract_violations(ours, theirs) {
            contract.push(format!("{case}: {violation}"));
        }
        let line = format!(
            "{case} -> openssl {}, edgeprobe {}",
            theirs.verdict, ours.verdict
        );
        if ours.verdict == theirs.verdict {
            exact += 1;
        } else if ours.verdict == Verdict::Ok {
            false_oks.push((line, case, theirs, ours));
        } else {
            let name = case.to_string();
            match KNOWN_DIFFERENCES
                .iter()
                .position(|(pattern, _)| name.contains(pattern))
            {
                Some(index) => known_used[index] = true,
                None => mismatches.push(line),
            }
        }
    }
    assert!(
        generator_problems.is_empty(),
        "unforged chains OpenSSL does not judge as the table says (fix the generator):\n{}",
        generator_problems.join("\n")
    );
    let stale: Vec<String> = KNOWN_DIFFERENCES
        .iter()
        .zip(&known_used)
        .filter(|(_, used)| !**used)
        .map(|((pattern, reason), _)| format!("`{pattern}` ({reason})"))
        .collect();

    let summary = format!(
        "differential: {} cases, {exact} exact, {} false OK",
        cases.len(),
        false_oks.len(),
    );
    let details = format!(
        "differential: {} code mismatches, {} known differences, {} contract violations",
        mismatches.len(),
        known_used.iter().filter(|used| **used).count(),
        contract.len(),
    );
    eprintln!("{summary}\n{details}");
    let mut report = vec![summary, details];
    if !false_oks.is_empty() {
        report.push("FALSE OK (edgeprobe said OK where openssl refused):".into());
        report.extend(false_oks.iter().map(|(line, ..)| format!("  {line}")));
    }
    if !mismatches.is_empty() {
        report.push("CODE MISMATCHES:".into());
        report.extend(mismatches.iter().map(|line| format!("  {line}")));
    }
    if !contract.is_empty() {
        report.push("CONTRACT VIOLATIONS:".into());
        report.extend(contract.iter().map(|line| format!("  {line}")));
    }
    if !stale.is_empty() {
        report.push("KNOWN_DIFFERENCES entries that match nothing any more (remove them):".into());
        report.extend(stale.iter().map(|line| format!("  {line}")));
    }
    // The first false OK in full, to start debugging from.
    if let Some((line, case, theirs, ours)) = false_oks.first() {
        report.push(format!(
            "first false OK: {line}\n  files: {} {} {}\n--- openssl:\n{}--- edgeprobe:\n{}",
            case.root.display(),
            case.untrusted.display(),
            case.leaf.display(),
            theirs.text,
            ours.text,
        ));
    }
    let failed =
        !(false_oks.is_empty() && mismatches.is_empty() && contract.is_empty() && stale.is_empty());
    if failed {
        // The files go with the temporary directory unless asked for.
        if std::env::var_os("EDGEPROBE_KEEP_DIFFERENTIAL").is_some() {
            report.push(format!("files kept in {}", directory.keep().display()));
        } else {
            report.push("set EDGEPROBE_KEEP_DIFFERENTIAL=1 to keep the files".into());
        }
    }
    assert!(!failed, "{}", report.join("\n"));
}
