//! The OpenSSL-compatible verifier on hostile chains: the input is split into "certificates"
//! at a separator byte, the first part becoming the trust store; the first byte picks the
//! verify options (purpose, -partial_chain, -x509_strict, proxies, -check_ss_sig, depth,
//! security level). No panic, whatever arrives.
#![no_main]

use edgeprobe::pki::verify::{Purpose, VerifyOptions, verify_chain};
use libfuzzer_sys::fuzz_target;
use rustls_pki_types::CertificateDer;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, bytes)) = bytes.split_first() else {
        return;
    };
    let mut parts = bytes.split(|byte| *byte == 0xA5).map(|part| CertificateDer::from(part.to_vec()));
    let trusted: Vec<_> = parts.next().into_iter().collect();
    let presented: Vec<_> = parts.take(40).collect();
    let host = edgeprobe::hostname::validate_hostname("gw.contoso.com").ok();
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let purposes = [None, Some(Purpose::SslServer), Some(Purpose::SslClient), Some(Purpose::Any)];
    let options = VerifyOptions {
        purpose: purposes[usize::from(flags & 3)],
        partial_chain: flags & 4 != 0,
        x509_strict: flags & 8 != 0,
        allow_proxy_certs: flags & 16 != 0,
        check_self_signature: flags & 32 != 0,
        verify_depth: (flags & 64 != 0).then_some(1),
        security_level: if flags & 128 != 0 { 0 } else { 1 },
        ..VerifyOptions::openssl_verify(now)
    }
    .with_host(host.as_ref());
    if let Ok(verification) = verify_chain(&presented, &trusted, &options) {
        let _ = verification.code();
        let _ = verification.openssl_verify_error();
    }
});
