//! Trust settings: arbitrary bytes as an X509_CERT_AUX, and as a trust-store file read by both
//! of OpenSSL's readers, then every trust decision on what was read. Never a panic.
#![no_main]

use std::path::Path;

use edgeprobe::pki::load::{StoreReader, parse_store_certificates_as};
use edgeprobe::pki::trust_settings::{
    TrustFlags, TrustId, TrustSettings, check_trust, parse_trust_settings,
};
use libfuzzer_sys::fuzz_target;

const TRUST_IDS: &[TrustId] = &[
    TrustId::Default,
    TrustId::Compat,
    TrustId::SslClient,
    TrustId::SslServer,
    TrustId::Email,
    TrustId::ObjectSign,
    TrustId::OcspSign,
    TrustId::OcspRequest,
    TrustId::Tsa,
];

fn decide(settings: Option<&TrustSettings>) {
    for &trust in TRUST_IDS {
        for flags in [TrustFlags::NONE, TrustFlags::NO_SS_COMPAT] {
            for self_signed in [false, true] {
                let _ = check_trust(settings, self_signed, true, trust, flags);
            }
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok((settings, _rest)) = parse_trust_settings(bytes) {
        decide(Some(&settings));
    }
    for reader in [StoreReader::CaFile, StoreReader::Store] {
        if let Ok(certificates) = parse_store_certificates_as(bytes, Path::new("fuzz.pem"), reader) {
            for certificate in &certificates {
                decide(certificate.trust.as_ref());
            }
        }
    }
});
