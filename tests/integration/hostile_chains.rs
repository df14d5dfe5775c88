//! Gateways presenting absurd chains (issue 8): a certificate with 10,000 SANs, a chain of 35
//! intermediates, 200 unrelated certificates. Each gets a specific finding and no panic, and
//! the work stays bounded (the verifier considers at most a fixed number of certificates).

use edgeprobe::demo::pki::{CertificateSpec, Issued, Validity, issue};
use edgeprobe::demo::server::{RunningGateway, SimulatorConfig, start};
use time::OffsetDateTime;

use crate::harness::{Report, Run, assert_contains, check_loopback, temp_file};

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
    let (directory, ca_file) = temp_file("root.pem", &root.pem);
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
    versions: &[&'static rustls::SupportedProtocolVersion],
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
        .with_protocol_versions(versions)
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

/// A leaf for [`GATEWAY`] with 10,000 more SANs: a Certificate message of about 300 KB.
fn ten_thousand_san_leaf(root: &Issued) -> Issued {
    let mut spec = CertificateSpec::tls_server(GATEWAY, validity());
    for index in 0..10_000 {
        spec = spec.with_dns_name(&format!("device-{index:05}.edgeprobe.test"));
    }
    issue(&spec, Some(root)).expect("leaf")
}

fn root_file(root: &Issued) -> (tempfile::TempDir, std::path::PathBuf) {
    let (directory, ca_file) = temp_file("root.pem", &root.pem);
    (directory, ca_file)
}

async fn connect_run(port: u16, ca_file: &std::path::Path) -> Run {
    let ca_file = ca_file.to_owned();
    tokio::task::spawn_blocking(move || {
        crate::harness::edgeprobe()
            .arg("connect")
            .arg(format!("{GATEWAY}:{port}"))
            .arg("--resolve")
            .arg(format!("{GATEWAY}:127.0.0.1"))
            .arg("--ca-file")
            .arg(&ca_file)
            .args(["--hosts-file", "/dev/null", "--timeout", "5s"])
            .output()
            .expect("edgeprobe connect runs")
            .into()
    })
    .await
    .expect("the binary ran")
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_sans_are_a_specific_finding() {
    let root = root();
    let leaf = ten_thousand_san_leaf(&root);
    let port = serve_raw(vec![leaf.der.clone()], leaf.key_der(), rustls::ALL_VERSIONS).await;
    let (_directory, ca_file) = root_file(&root);
    let output = check_loopback([port, port, port], &ca_file, "5s", &[]).await;
    assert_ne!(output.code, 101, "panic:\n{}", output.all());
    let report = output.json();
    // ~300 KB of certificate: more than rustls accepts in one handshake message (64 KiB). A
    // failed check with a remedy, not an unexplained library error.
    assert_eq!(report.result("gateway-connect-mqtt"), "error");
    let entry = report.check("gateway-connect-mqtt");
    let message = entry.result.details.join("\n");
    assert!(
        message.contains("Certificate message") && message.contains("larger than rustls"),
        "{message}"
    );
    let remedy = entry.remedy.as_deref().unwrap_or_default();
    assert!(
        remedy.contains("shorter chain") && remedy.contains("fewer subjectAltNames"),
        "{remedy}"
    );
    assert_eq!(entry.additional_info["error"], "certificate_too_large");

    // `connect`: exit 1 (a failed check, never 2) and one line saying why. TLS 1.3 encrypts
    // the Certificate message, so its size is not known here.
    let output = connect_run(port, &ca_file).await;
    assert_eq!(output.code, 1, "{}", output.all());
    let all = output.all();
    let lines: Vec<&str> = all.lines().filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("Certificate message") && lines[0].contains("TLS 1.3 encrypts it"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("OpenSSL-based clients"), "{}", lines[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_certificate_message_in_tls_1_2_is_reported_with_its_size() {
    let root = root();
    let leaf = ten_thousand_san_leaf(&root);
    let port = serve_raw(
        vec![leaf.der.clone()],
        leaf.key_der(),
        &[&rustls::version::TLS12],
    )
    .await;
    let (_directory, ca_file) = root_file(&root);
    let output = connect_run(port, &ca_file).await;
    assert_eq!(output.code, 1, "{}", output.all());
    let line = output.all();
    // The Certificate message: its 4-byte header, a 3-byte list length, a 3-byte certificate
    // length and the certificate.
    let expected = leaf.der.len() + 10;
    assert_contains(&line, &format!("Certificate message of {expected} bytes"));
    // Over OpenSSL's own 100 KiB default too: the message says so rather than promise more.
    assert_contains(&line, "OpenSSL-based clients refuse it too");
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
