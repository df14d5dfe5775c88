//! The Diagnosis explains what each command reported: `verify` the errors it printed (those
//! `openssl verify` prints, up to the one it stops at), `connect` the code it reports (the last
//! one, as `s_client`) and, after it, the errors OpenSSL recorded before. Regression tests for
//! "prints 20, then talks only about expiry".

use std::fs;
use std::path::Path;

use edgeprobe::demo::pki::{CertificateSpec, Issued, Validity, issue};
use edgeprobe::demo::server::{SimulatorConfig, start};
use edgeprobe::net::Protocol;
use time::{Duration, OffsetDateTime};

use crate::harness::{Run, assert_contains, edgeprobe, run};

const HOST: &str = "gw.diagnosis.test";

struct Pki {
    root: Issued,
    intermediate: Issued,
    /// Issued by the intermediate, expired yesterday.
    expired_leaf: Issued,
}

fn pki() -> Pki {
    let now = OffsetDateTime::now_utc();
    let valid = Validity::around(now, 30, 365).expect("validity");
    let root = issue(
        &CertificateSpec::certificate_authority("Diagnosis Root", valid),
        None,
    )
    .expect("root");
    let intermediate = issue(
        &CertificateSpec::certificate_authority("Diagnosis Intermediate", valid),
        Some(&root),
    )
    .expect("intermediate");
    let expired = Validity::new(now - Duration::days(60), now - Duration::days(1));
    let expired_leaf = issue(
        &CertificateSpec::tls_server(HOST, expired),
        Some(&intermediate),
    )
    .expect("leaf");
    Pki {
        root,
        intermediate,
        expired_leaf,
    }
}

fn write(directory: &Path, name: &str, certificates: &[&Issued]) -> String {
    let path = directory.join(name);
    let pem: String = certificates
        .iter()
        .map(|issued| issued.pem.as_str())
        .collect();
    fs::write(&path, pem).expect("write");
    path.display().to_string()
}

/// The `Diagnosis:` and `Fix:` lines of an output.
fn diagnosis_of(output: &Run) -> (String, String) {
    let line = |label: &str| {
        output
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{}", output.all()))
            .to_owned()
    };
    (line("Diagnosis: "), line("Fix: "))
}

#[test]
fn verify_explains_the_missing_intermediate_it_printed_not_the_expiry_it_did_not() {
    let pki = pki();
    let directory = tempfile::tempdir().expect("tempdir");
    let root = write(directory.path(), "root.pem", &[&pki.root]);
    let leaf = write(directory.path(), "leaf.pem", &[&pki.expired_leaf]);
    let output = run(&["verify", "--ca-file", &root, &leaf]);
    assert_eq!(output.code, 1, "{}", output.all());
    assert!(
        output.stdout.contains("error 20 at 0 depth lookup") && !output.stdout.contains("error 10"),
        "openssl verify stops at 20:\n{}",
        output.stdout
    );
    let (cause, fix) = diagnosis_of(&output);
    assert!(
        cause.contains("only the certificate itself was given") && !cause.contains("expired"),
        "{cause}"
    );
    assert_contains(&fix, "--untrusted");

    // With the intermediate, the expiry is what is printed, and explained.
    let intermediate = write(directory.path(), "intermediate.pem", &[&pki.intermediate]);
    let output = run(&[
        "verify",
        "--ca-file",
        &root,
        "--untrusted",
        &intermediate,
        &leaf,
    ]);
    assert!(
        output.stdout.contains("error 10 at 0 depth lookup"),
        "{}",
        output.all()
    );
    let (cause, _) = diagnosis_of(&output);
    assert_contains(&cause, "has expired");
}

#[test]
fn verify_names_every_printed_error_in_order_and_fixes_the_chain_first() {
    let now = OffsetDateTime::now_utc();
    let expired = Validity::new(now - Duration::days(60), now - Duration::days(1));
    // A self-signed, expired server certificate: 18 and 10, both tolerated, both printed.
    let leaf = issue(&CertificateSpec::tls_server(HOST, expired), None).expect("leaf");
    let other = issue(
        &CertificateSpec::certificate_authority(
            "Other Root",
            Validity::around(now, 1, 30).expect("validity"),
        ),
        None,
    )
    .expect("root");
    let directory = tempfile::tempdir().expect("tempdir");
    let root = write(directory.path(), "root.pem", &[&other]);
    let file = write(directory.path(), "leaf.pem", &[&leaf]);
    let output = run(&["verify", "--ca-file", &root, &file]);
    let printed: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("error ") && line.contains(" depth lookup"))
        .collect();
    assert_eq!(
        printed,
        [
            "error 18 at 0 depth lookup: self-signed certificate",
            "error 10 at 0 depth lookup: certificate has expired"
        ],
        "{}",
        output.all()
    );
    let (cause, fix) = diagnosis_of(&output);
    let self_signed = cause.find("(1) error 18: ").expect("18 named first");
    let expiry = cause.find("(2) error 10: ").expect("10 named second");
    assert!(self_signed < expiry, "{cause}");
    assert!(
        fix.starts_with("first, configure the edge CA certificate") && fix.contains("; then renew"),
        "{fix}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_explains_its_reported_code_and_names_the_earlier_errors() {
    let pki = pki();
    let directory = tempfile::tempdir().expect("tempdir");
    let root = write(directory.path(), "root.pem", &[&pki.root]);
    // The gateway sends its expired leaf alone: s_client reports 10, after 20 and 21.
    let gateway = start(SimulatorConfig::loopback(
        vec![pki.expired_leaf.der.clone()],
        pki.expired_leaf.key_der(),
        vec![Protocol::Amqp, Protocol::Https],
    ))
    .await
    .expect("simulator starts");
    let port = gateway.ports.mqtt;
    let output: Run = tokio::task::spawn_blocking(move || {
        edgeprobe()
            .args(["connect", &format!("{HOST}:{port}")])
            .args(["--resolve", &format!("{HOST}:127.0.0.1")])
            .args(["--ca-file", &root, "--hosts-file", "/dev/null"])
            .output()
            .expect("edgeprobe connect runs")
            .into()
    })
    .await
    .expect("connect ran");
    gateway.shutdown().await;
    assert!(
        output
            .stdout
            .contains("Verify return code: 10 (certificate has expired)"),
        "{}",
        output.all()
    );
    let (cause, fix) = diagnosis_of(&output);
    assert!(
        cause.starts_with("depth 0 ") && cause.contains("has expired"),
        "{cause}"
    );
    let missing = cause
        .find("error 20 at depth 0 (unable to get local issuer certificate)")
        .unwrap_or_else(|| panic!("20 not named: {cause}"));
    let lone = cause
        .find("error 21 at depth 0 (unable to verify the first certificate)")
        .unwrap_or_else(|| panic!("21 not named: {cause}"));
    assert!(missing < lone, "in OpenSSL's order: {cause}");
    assert!(fix.starts_with("renew the gateway's certificates"), "{fix}");
    assert_contains(&fix, "Also: make the gateway send the full chain");
}

#[test]
fn the_strict_client_note_states_both_verdicts_as_they_are() {
    let pki = pki();
    let directory = tempfile::tempdir().expect("tempdir");
    let now = OffsetDateTime::now_utc();
    let valid = Validity::around(now, 1, 30).expect("validity");
    let leaf = issue(
        &CertificateSpec::tls_server(HOST, valid),
        Some(&pki.intermediate),
    )
    .expect("leaf");
    let file = write(directory.path(), "leaf.pem", &[&leaf]);
    // The intermediate as the only trusted certificate: OpenSSL wants a self-signed anchor
    // (2 without --partial-chain); webpki takes any trusted certificate as one.
    let intermediate = write(directory.path(), "intermediate.pem", &[&pki.intermediate]);
    let output = run(&["verify", "--ca-file", &intermediate, &file]);
    assert!(
        output.stdout.contains("error 2 at 1 depth lookup"),
        "{}",
        output.all()
    );
    assert!(
        output.stdout.contains(
            "note: OpenSSL rejects this chain (2 (unable to get issuer certificate)), but rustls/webpki accepts it"
        ) && !output.stdout.contains("OpenSSL accepts"),
        "{}",
        output.stdout
    );
    // Both reject (no root at all for webpki either): nothing to add.
    let other = write(directory.path(), "other.pem", &[&pki.root]);
    let output = run(&["verify", "--ca-file", &other, &file]);
    assert!(output.stdout.contains("error 20"), "{}", output.all());
    assert!(
        !output.stdout.contains("rustls/webpki"),
        "{}",
        output.stdout
    );
}
