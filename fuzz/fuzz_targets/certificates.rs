//! Certificate loading (PEM bundles and DER) and description: arbitrary bytes never panic.
#![no_main]

use std::path::Path;

use edgeprobe::pki::describe::{describe, s_client_listing};
use edgeprobe::pki::load::{parse_certificates, parse_private_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let origin = Path::new("fuzz.pem");
    if let Ok(certificates) = parse_certificates(bytes, origin) {
        for (depth, certificate) in certificates.iter().enumerate() {
            if let Ok(summary) = describe(certificate) {
                let _ = s_client_listing(depth, &summary);
            }
        }
    }
    let _ = parse_private_key(bytes, origin);
    // Raw DER straight into the describer, as a server could send it.
    let _ = describe(&rustls_pki_types::CertificateDer::from(bytes.to_vec()));
});
