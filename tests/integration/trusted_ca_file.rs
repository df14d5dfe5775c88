//! A root CA file of `TRUSTED CERTIFICATE` blocks (`openssl x509 -trustout`) carries trust and
//! reject settings that OpenSSL's `-CAfile` honours: a root marked to reject serverAuth is
//! rejected by `check_trust` (28) and fails the trust anchor's purpose check (26, the code
//! `s_client` ends with); `connect` and `check` must say the same.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{LOOPBACK_GATEWAY, check_loopback, edgeprobe, fixture, fixture_gateway};

/// `openssl x509 -in root-ca.pem -trustout` with extra settings, into `directory`.
fn trusted_root(directory: &Path, name: &str, settings: &[&str]) -> PathBuf {
    let path = directory.join(name);
    let status = Command::new("openssl")
        .arg("x509")
        .arg("-in")
        .arg(fixture("root-ca.pem"))
        .args(settings)
        .arg("-trustout")
        .arg("-out")
        .arg(&path)
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl x509 -trustout failed");
    path
}

/// `Verify return code: N` of `openssl s_client` and `edgeprobe connect` for the same file.
fn return_codes(port: u16, ca_file: &Path) -> (String, String, i32) {
    let code = |text: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix("Verify return code: "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("none")
            .to_owned()
    };
    let openssl = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args([
            "-servername",
            LOOPBACK_GATEWAY,
            "-verify_hostname",
            LOOPBACK_GATEWAY,
        ])
        .arg("-CAfile")
        .arg(ca_file)
        .args(["-no-CApath", "-no-CAstore"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl s_client runs");
    let ours = edgeprobe()
        .args(["connect", &format!("{LOOPBACK_GATEWAY}:{port}")])
        .args(["--resolve", &format!("{LOOPBACK_GATEWAY}:127.0.0.1")])
        .arg("--ca-file")
        .arg(ca_file)
        .args(["--hosts-file", "/dev/null", "--timeout", "5s"])
        .output()
        .expect("edgeprobe connect runs");
    (
        code(&String::from_utf8_lossy(&openssl.stdout)),
        code(&String::from_utf8_lossy(&ours.stdout)),
        ours.status.code().unwrap_or(-1),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn trust_settings_in_the_root_file_decide_as_in_s_client() {
    let directory = tempfile::tempdir().expect("tempdir");
    let rejecting = trusted_root(
        directory.path(),
        "reject.pem",
        &["-addreject", "serverAuth"],
    );
    let trusting = trusted_root(directory.path(), "trust.pem", &["-addtrust", "serverAuth"]);
    let client_only = trusted_root(directory.path(), "client.pem", &["-addtrust", "clientAuth"]);
    let gateway = fixture_gateway().await;
    let port = gateway.ports.mqtt;
    for (file, trusted) in [
        (&rejecting, false),
        (&trusting, true),
        (&client_only, false),
    ] {
        let file = file.clone();
        let (openssl, ours, exit) = tokio::task::spawn_blocking(move || return_codes(port, &file))
            .await
            .expect("clients ran");
        assert_eq!(openssl == "0", trusted, "s_client's verdict: {openssl}");
        assert_eq!(ours, openssl, "edgeprobe connect agrees with s_client");
        assert_eq!(exit, i32::from(!trusted), "exit status for {openssl}");
    }

    let ports = [gateway.ports.mqtt, gateway.ports.amqp, gateway.ports.https];
    let rejected = check_loopback(ports, &rejecting, "5s", &[]).await;
    assert_eq!(rejected.code, 1, "{}", rejected.all());
    let report = rejected.json();
    assert_eq!(report.result("gateway-cert-chain"), "error");
    report.assert_text_contains("gateway-cert-chain", "26 (unsuitable certificate purpose)");
    let trusted = check_loopback(ports, &trusting, "5s", &[]).await;
    assert_eq!(trusted.json().result("gateway-cert-chain"), "ok");
    gateway.shutdown().await;
}
