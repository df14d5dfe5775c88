//! Forged certificate chains for the differential test ([`crate::differential`]): root ->
//! intermediate -> leaf chains for every signature algorithm OpenSSL 3.0 verifies, generated
//! on every run with the `openssl` command line (keys once per type, in parallel), then the
//! leaf, and separately the intermediate, forged the ways a forger would, with
//! [`crate::der_mutate`]:
//! - unknown signature-algorithm OIDs (the bug report's 1.2.840.10045.4.3.9) and other known
//!   algorithms (another digest, padding, parameters or key type), in both AlgorithmIdentifiers
//!   or only in the outer one or the inner one (RFC 5280 4.1.1.2 says they must match);
//! - the signature truncated, emptied or with one bit flipped;
//! - the subject renamed or the serial changed under the old signature;
//! - the certificate issued again by a same-name impostor CA that claims the genuine key
//!   identifier, so only the signature gives it away;
//! - the reported forgery: renamed, both OIDs 1.2.840.10045.4.3.9, signature bytes kept.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use crate::der_mutate::{
    Certificate, Place, Tlv, algorithm_identifier, der_from_pem, null, pem, pss_parameters,
};
use crate::openssl::run as openssl;

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
pub struct Chain {
    pub name: &'static str,
    /// The root's, the intermediate's and the leaf's key.
    keys: [Key; 3],
    /// How the root signs itself, how the root signs the intermediate, how the intermediate
    /// signs the leaf.
    signing: [Signing; 3],
    /// The security level the chain is forged at: 1, or 0 for algorithms level 1 refuses.
    pub level: u8,
    /// OpenSSL's (code, depth) for the unforged chain at that level when it refuses the
    /// algorithm outright; otherwise it says OK. Anything else is a generator bug.
    pub refused: Option<(u32, usize)>,
}

impl Chain {
    const fn refused(mut self, code: u32, depth: usize) -> Chain {
        self.refused = Some((code, depth));
        self
    }
}

const fn uniform(name: &'static str, key: Key, signing: Signing, level: u8) -> Chain {
    Chain {
        name,
        keys: [key, key, key],
        signing: [signing, signing, signing],
        level,
        refused: None,
    }
}

const fn mixed(name: &'static str, keys: [Key; 3], signing: [Signing; 3]) -> Chain {
    Chain {
        name,
        keys,
        signing,
        level: 1,
        refused: None,
    }
}

const P224: Key = Key::Ec("P-224");
const P256: Key = Key::Ec("P-256");
const P384: Key = Key::Ec("P-384");
const P521: Key = Key::Ec("P-521");
const SECP256K1: Key = Key::Ec("secp256k1");

#[rustfmt::skip]
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
    uniform("RSA-2048 PSS SHA-256 salt 32", Key::Rsa(2048), PSS_SHA256_SALT_32, 1),
    uniform("RSA-2048 PSS SHA-256 salt max", Key::Rsa(2048), PSS_SHA256_SALT_MAX, 1),
    uniform("RSA-2048 PSS SHA-256 MGF1-SHA-1 salt 20", Key::Rsa(2048), PSS_SHA256_MGF1_SHA1_SALT_20, 1),
    uniform("RSA-2048 PSS SHA-384 salt 48", Key::Rsa(2048), PSS_SHA384_SALT_48, 1),
    uniform("RSA-2048 PSS SHA-512 salt 0", Key::Rsa(2048), PSS_SHA512_SALT_0, 1),
    uniform("RSA-1024 PSS SHA-256 salt 32", Key::Rsa(1024), PSS_SHA256_SALT_32, 1),
    uniform("RSA-4096 PSS SHA-512 salt 64", Key::Rsa(4096), PSS_SHA512_SALT_64, 1),
    // id-RSASSA-PSS keys (the padding is implied by the key).
    uniform("RSA-PSS key SHA-256", Key::RsaPss, SHA256, 1),
    uniform("RSA-PSS key SHA-512", Key::RsaPss, SHA512, 1),
    uniform("RSA-PSS key restricted to SHA-256", Key::RsaPssSha256, SHA256, 1),
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
    uniform("P-256 explicit parameters SHA-256", Key::EcExplicit("P-256"), SHA256, 1).refused(94, 0),
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
    mixed("P-521 root, RSA-2048 intermediate, Ed25519 leaf", [P521, Key::Rsa(2048), Key::Ed25519], [SHA512, SHA512, SHA256]),
    mixed("Ed448 root, P-256 intermediate, RSA-2048 leaf", [Key::Ed448, P256, Key::Rsa(2048)], [PURE, PURE, SHA256]),
    mixed("RSA-4096 PSS root, P-384 intermediate, P-256 leaf", [Key::Rsa(4096), P384, P256], [PSS_SHA384_SALT_48, PSS_SHA256_SALT_32, SHA384]),
    mixed("DSA-2048 root, Ed25519 intermediate, P-224 leaf", [Key::Dsa(2048), Key::Ed25519, P224], [SHA256, SHA256, PURE]),
    mixed("RSA-PSS key root, secp256k1 intermediate, Ed448 leaf", [Key::RsaPss, SECP256K1, Key::Ed448], [SHA256, SHA384, SHA256]),
    mixed("Ed25519 root, RSA-1024 intermediate, secp256k1 leaf", [Key::Ed25519, Key::Rsa(1024), SECP256K1], [PURE, PURE, SHA256]),
    mixed("P-256 root, RSA-PSS key intermediate, P-384 leaf", [P256, Key::RsaPssSha256, P384], [SHA256, SHA256, SHA256]),
];

/// The openssl configuration every certificate is made with: CA and TLS-server extensions,
/// so the unforged chains pass `-purpose sslserver`.
const OPENSSL_CONFIG: &str = "\
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
pub fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
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

fn strings(arguments: &[&str]) -> Vec<String> {
    arguments.iter().map(|a| (*a).to_owned()).collect()
}

/// Key `index` of a type: 0, 1 and 2 for root, intermediate and leaf, 3 for an impostor.
fn key_path(keys: &Path, key: Key, index: usize) -> PathBuf {
    keys.join(format!("{}-{index}.key", key.file_stem()))
}

/// Which forgery a case verifies.
#[derive(Clone, Debug)]
pub enum Forged {
    Nothing,
    Leaf(String),
    Intermediate(String),
}

/// One verification: files, flags and what it is called in the report.
pub struct Case {
    pub chain: &'static Chain,
    pub forged: Forged,
    pub root: PathBuf,
    pub untrusted: PathBuf,
    pub leaf: PathBuf,
    /// `-purpose sslserver` (else no purpose check: `--purpose any`).
    pub purpose: bool,
    pub level: u8,
}

impl std::fmt::Display for Case {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
pub struct Generated {
    pub directory: tempfile::TempDir,
    pub cases: Vec<Case>,
    /// The verification time both tools are given: when generation finished.
    pub at: i64,
}

/// Keys once per type, then every chain with its impostors and forgeries.
pub fn generate() -> Generated {
    let directory = tempfile::tempdir().expect("temporary directory");
    let base = directory.path();
    crate::openssl::write_config(base, OPENSSL_CONFIG);
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

/// One `openssl req -x509 -new`: a certificate for `key`, signed by `issuer` (certificate and
/// key) or by itself, with the extensions of `section` in [`OPENSSL_CONFIG`].
struct Issue<'a> {
    out: &'a str,
    subject: &'a str,
    key: PathBuf,
    issuer: Option<(&'a str, PathBuf)>,
    section: &'a str,
    serial: u32,
    signing: Signing,
    extra: Vec<String>,
}

impl Issue<'_> {
    fn run(self, base: &Path, directory: &Path) {
        let path = |path: &Path| path.display().to_string();
        let mut arguments = strings(&["req", "-x509", "-new", "-config"]);
        arguments.push(path(&base.join("openssl.cnf")));
        arguments.extend(["-extensions".into(), self.section.into()]);
        arguments.extend(["-key".into(), path(&self.key)]);
        arguments.extend(["-subj".into(), self.subject.into()]);
        if let Some((certificate, key)) = &self.issuer {
            arguments.extend(["-CA".into(), path(&directory.join(certificate))]);
            arguments.extend(["-CAkey".into(), path(key)]);
        }
        arguments.extend(["-days".into(), "2".into()]);
        arguments.extend(["-set_serial".into(), self.serial.to_string()]);
        arguments.extend(self.signing.arguments());
        arguments.extend(self.extra);
        arguments.extend(["-out".into(), path(&directory.join(self.out))]);
        openssl(directory, &arguments);
    }
}

/// `-addext` arguments for an impostor claiming `genuine`'s subjectKeyIdentifier, so that
/// what it signs carries the genuine authorityKeyIdentifier.
fn claimed_key_identifier(genuine: &Certificate) -> Vec<String> {
    let identifier = genuine
        .subject_key_identifier()
        .expect("generated CAs have a subjectKeyIdentifier");
    let hex: Vec<String> = identifier.iter().map(|b| format!("{b:02X}")).collect();
    vec![
        "-addext".to_owned(),
        format!("subjectKeyIdentifier={}", hex.join(":")),
    ]
}

/// Read back a generated certificate for forging.
fn load(path: &Path) -> Certificate {
    let der = der_from_pem(&fs::read_to_string(path).expect("read a generated certificate"));
    let certificate = Certificate::from_der(&der);
    // The editor must give back exactly what it read, or its forgeries prove nothing.
    assert_eq!(
        certificate.to_der(),
        der,
        "DER editor round trip of {}",
        path.display()
    );
    certificate
}

const IMPOSTOR: &str = "re-signed by a same-name impostor key";

/// One chain, its two impostor CAs, every forgery of its leaf and intermediate, and the
/// cases that verify them.
fn generate_chain(base: &Path, keys: &Path, index: usize, chain: &'static Chain) -> Vec<Case> {
    let directory = base.join(format!("chain-{index}"));
    fs::create_dir(&directory).expect("chain directory");
    let [root_signing, _, leaf_signing] = chain.signing;
    let key = |key: Key, index: usize| key_path(keys, key, index);
    let issue = |issue: Issue<'_>| issue.run(base, &directory);

    // The genuine certificates at depth 0 (the root), 1 (the intermediate) and 2 (the leaf),
    // each under `issuer`: the certificate file above it and which of that one's keys signs
    // (the genuine one, or the impostor's).
    let subjects = [ROOT_SUBJECT, INTERMEDIATE_SUBJECT, LEAF_SUBJECT];
    let genuine = |depth: usize, out, issuer: Option<(&'static str, usize)>| {
        issue(Issue {
            out,
            subject: subjects[depth],
            key: key(chain.keys[depth], depth),
            issuer: issuer.map(|(file, index)| (file, key(chain.keys[depth - 1], index))),
            section: ["ca", "ca", "leaf"][depth],
            serial: [1, 2, 3][depth],
            signing: chain.signing[depth],
            extra: Vec::new(),
        });
    };
    genuine(0, "root.pem", None);
    genuine(1, "intermediate.pem", Some(("root.pem", 0)));
    genuine(2, "leaf.pem", Some(("intermediate.pem", 1)));
    let root = load(&directory.join("root.pem"));
    let intermediate = load(&directory.join("intermediate.pem"));
    let leaf = load(&directory.join("leaf.pem"));

    // Same-name impostors with fresh keys of the same type, then the intermediate and the
    // leaf issued again by them, everything else unchanged.
    let impostor = |depth: usize, out, genuine: &Certificate, signing| {
        issue(Issue {
            out,
            subject: subjects[depth],
            key: key(chain.keys[depth], 3),
            issuer: None,
            section: "impostor",
            serial: [11, 12][depth],
            signing,
            extra: claimed_key_identifier(genuine),
        });
    };
    impostor(0, "impostor-root.pem", &root, root_signing);
    impostor(1, "impostor-intermediate.pem", &intermediate, leaf_signing);
    genuine(
        1,
        "intermediate-impostor.pem",
        Some(("impostor-root.pem", 3)),
    );
    genuine(
        2,
        "leaf-impostor.pem",
        Some(("impostor-intermediate.pem", 3)),
    );

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
    // without a purpose (the signature checks do not depend on it, so twice the processes for
    // every case would buy little).
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
fn substitutes(current: &str) -> Vec<(String, Tlv)> {
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
    let own = certificate.signature_algorithm().clone();
    let substitutes = substitutes(&current)
        .into_iter()
        .filter(|(_, algorithm)| *algorithm != own);
    for (number, (name, algorithm)) in substitutes.enumerate() {
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
