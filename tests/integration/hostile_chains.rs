//! Gateways presenting absurd chains (issue 8): a certificate with 10,000 SANs, a chain of 35
//! intermediates, 200 unrelated certificates. Each gets a specific finding and no panic, and
//! the work stays bounded (the verifier considers at most a fixed number of certificates).

use edgeprobe::demo::pki::{CertificateSpec, Issued, Validity, issue};
use edgeprobe::demo::server::{RunningGateway, SimulatorConfig, start};
use time::OffsetDateTime;

use crate::harness::{Report, Run, check_loopback};

use crate::harness::LOOPBACK_GATEWAY as GATEWAY;

fn validity() -> Validity {
    let now = OffsetDateTime::now_utc();
    Validity::around(now, 1, 300).expect("validity")
}

fn root() -> Issued {
    issue(
        &CertificateSpec::certificate_authority("Hostile Root", validity()),
        None,
    )
    .expect("root")
}

async fn serve(
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
) -> RunningGateway {
    start(SimulatorConfig::loopback(chain, key, Vec::new()))
        .await
        .expect("simulator")
}

async fn check(gateway: &RunningGateway, root: &Issued) -> (Run, tempfile::TempDir) {
    let directory = tempfile::tempdir().expect("tempdir");
    let ca_file = directory.path().join("root.pem");
    std::fs::write(&ca_file, &root.pem).expect("root file");
    let ports = gateway.ports;
    let output = check_loopback([ports.mqtt, ports.amqp, ports.https], &ca_file, "5s", &[]).await;
    assert_ne!(output.code, 101, "panic:\n{}", output.all());
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
    (output, directory)
}

fn chain_code(report: &Report) -> Option<u64> {
    report.check("gateway-cert-chain").additional_info["ports"][0]["verify_code"].as_u64()
}

/// Serves `chain` as-is on one loopback port, skipping the sanity checks rustls' own server
/// applies to its certificate (a hostile gateway would not apply them either).
async fn serve_raw(
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
) -> u16 {
    #[derive(Debug)]
    struct Always(std::sync::Arc<rustls::sign::CertifiedKey>);
    impl rustls::server::ResolvesServerCert for Always {
        fn resolve(
            &self,
            _: rustls::server::ClientHello<'_>,
        ) -> Option<std::sync::Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .expect("signing key");
    let certified = rustls::sign::CertifiedKey::new(chain, signing_key);
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(std::sync::Arc::new(Always(std::sync::Arc::new(certified))));
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    acceptor.accept(socket),
                )
                .await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_sans_are_a_specific_finding() {
    let root = root();
    let mut spec = CertificateSpec::tls_server(GATEWAY, validity());
    for index in 0..10_000 {
        spec = spec.with_dns_name(&format!("device-{index:05}.edgeprobe.test"));
    }
    let leaf = issue(&spec, Some(&root)).expect("leaf");
    let port = serve_raw(vec![leaf.der.clone()], leaf.key_der()).await;
    let directory = tempfile::tempdir().expect("tempdir");
    let ca_file = directory.path().join("root.pem");
    std::fs::write(&ca_file, &root.pem).expect("root file");
    let output = check_loopback([port, port, port], &ca_file, "5s", &[]).await;
    assert_ne!(output.code, 101, "panic:\n{}", output.all());
    let report = output.json();
    // ~300 KB of certificate: more than TLS clients accept in one handshake message (rustls
    // and OpenSSL both cap it), so the handshake fails, and the finding says why.
    assert_eq!(report.result("gateway-connect-mqtt"), "error");
    let text = report.text_of("gateway-connect-mqtt").to_lowercase();
    assert!(
        text.contains("large") || text.contains("too big") || text.contains("oversized"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_five_intermediates_verify_for_openssl_and_warn_for_strict_clients() {
    let root = root();
    let mut issuers = vec![root];
    for depth in 0..35 {
        let spec = CertificateSpec::certificate_authority(
            &format!("Hostile Intermediate {depth:02}"),
            validity(),
        );
        let next = issue(&spec, issuers.last()).expect("intermediate");
        issuers.push(next);
    }
    let leaf = issue(
        &CertificateSpec::tls_server(GATEWAY, validity()),
        issuers.last(),
    )
    .expect("leaf");
    let mut chain = vec![leaf.der.clone()];
    chain.extend(issuers[1..].iter().rev().map(|issued| issued.der.clone()));
    let gateway = serve(chain, leaf.key_der()).await;
    let (output, _directory) = check(&gateway, &issuers[0]).await;
    let report = output.json();
    // OpenSSL's default depth limit is 100: a 37-certificate chain verifies (code 0), but
    // webpki stops at 6 intermediates, so strict clients reject it: a warning says so.
    assert_eq!(
        chain_code(&report),
        Some(0),
        "{}",
        report.text_of("gateway-cert-chain")
    );
    assert_eq!(
        report.result("gateway-cert-chain"),
        "warning",
        "{}",
        report.text_of("gateway-cert-chain")
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_unrelated_certificates_do_not_confuse_the_verdict() {
    let root = root();
    let leaf = issue(
        &CertificateSpec::tls_server(GATEWAY, validity()),
        Some(&root),
    )
    .expect("leaf");
    let mut chain = vec![leaf.der.clone()];
    for index in 0..200 {
        let stranger = issue(
            &CertificateSpec::certificate_authority(&format!("Stranger {index:03}"), validity()),
            None,
        )
        .expect("stranger");
        chain.push(stranger.der.clone());
    }
    let gateway = serve(chain, leaf.key_der()).await;
    let (output, _directory) = check(&gateway, &root).await;
    let report = output.json();
    match report.result("gateway-connect-mqtt") {
        "error" => assert!(
            report
                .text_of("gateway-connect-mqtt")
                .to_lowercase()
                .contains("large"),
            "{}",
            report.text_of("gateway-connect-mqtt")
        ),
        _ => assert_eq!(
            chain_code(&report),
            Some(0),
            "{}",
            report.text_of("gateway-cert-chain")
        ),
    }
    gateway.shutdown().await;
}
