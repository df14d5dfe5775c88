//! Name constraints: arbitrary extension bytes against real certificates, and arbitrary
//! certificate bytes against real constraints. Never a panic, whatever either side holds.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use edgeprobe::pki::load::parse_certificates;
use edgeprobe::pki::name_constraints::{
    NameConstraints, check, check_common_names, has_dns_subject_alt_name, parse_name_constraints,
};
use libfuzzer_sys::fuzz_target;

/// OpenSSL's test certificates: leaves with every kind of subjectAltName, and the CAs whose
/// constraints they are checked against.
const LEAVES: &[&[u8]] = &[
    include_bytes!("../../fixtures/openssl/alt1-cert.pem"),
    include_bytes!("../../fixtures/openssl/badalt6-cert.pem"),
    include_bytes!("../../fixtures/openssl/bad-othername-cert.pem"),
    include_bytes!("../../fixtures/openssl/bad-othername-namec.pem"),
];
const CAS: &[&[u8]] = &[
    include_bytes!("../../fixtures/openssl/ncca1-cert.pem"),
    include_bytes!("../../fixtures/openssl/ncca2-cert.pem"),
    include_bytes!("../../fixtures/openssl/nccaothername-cert.pem"),
];

fn first_certificates(files: &[&[u8]]) -> Vec<Vec<u8>> {
    files
        .iter()
        .filter_map(|pem| parse_certificates(pem, Path::new("fixture.pem")).ok())
        .filter_map(|certificates| certificates.into_iter().next())
        .map(|certificate| certificate.to_vec())
        .collect()
}

fn leaves() -> &'static [Vec<u8>] {
    static LEAVES_DER: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    LEAVES_DER.get_or_init(|| first_certificates(LEAVES))
}

fn ca_constraints() -> &'static [NameConstraints] {
    static CONSTRAINTS: OnceLock<Vec<NameConstraints>> = OnceLock::new();
    CONSTRAINTS.get_or_init(|| {
        first_certificates(CAS)
            .iter()
            .filter_map(|der| {
                let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
                let extension = certificate
                    .tbs_certificate
                    .extensions()
                    .iter()
                    .find(|extension| extension.oid.to_id_string() == "2.5.29.30")?;
                parse_name_constraints(extension.value).ok()
            })
            .collect()
    })
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(constraints) = parse_name_constraints(bytes) {
        for leaf in leaves() {
            let _ = check(leaf, &constraints);
            let _ = check_common_names(leaf, &constraints);
        }
    }
    for constraints in ca_constraints() {
        let _ = check(bytes, constraints);
        let _ = check_common_names(bytes, constraints);
    }
    let _ = has_dns_subject_alt_name(bytes);
});
