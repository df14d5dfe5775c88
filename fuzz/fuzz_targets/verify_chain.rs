//! The OpenSSL-compatible verifier on hostile chains: the input is split into "certificates"
//! at a separator byte, the first part becoming the trust store. No panic, whatever arrives.
#![no_main]

use edgeprobe::pki::verify::{VerifyOptions, verify_chain};
use libfuzzer_sys::fuzz_target;
use rustls_pki_types::CertificateDer;

fuzz_target!(|bytes: &[u8]| {
    let mut parts = bytes.split(|byte| *byte == 0xA5).map(|part| CertificateDer::from(part.to_vec()));
    let trusted: Vec<_> = parts.next().into_iter().collect();
    let presented: Vec<_> = parts.take(40).collect();
    let host = edgeprobe::hostname::validate_hostname("gw.contoso.com").ok();
    let options = VerifyOptions {
        host: host.as_ref(),
        now: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        check_server_purpose: true,
        security_level: 1,
    };
    if let Ok(verification) = verify_chain(&presented, &trusted, &options) {
        let _ = verification.code();
        let _ = verification.openssl_verify_error();
    }
});
