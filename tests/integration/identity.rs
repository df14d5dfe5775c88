//! `--authenticate` (issue 13) through the binary: against a test-side MQTT broker that checks
//! IoT Hub SAS tokens with Python's own `hmac` (tests/servers/mqtt_sas_broker.py, written from
//! the IoT Hub documentation, not from edgeprobe's token code), and against real mosquitto
//! requiring client certificates. Every path also runs in text, `--verbose` and JSON, and the
//! key and the token must appear in none of them.

use std::path::{Path, PathBuf};

use crate::brokers::{
    Server, connect_probe, mosquitto_with, path_text, python_server, python_with, required,
};
use crate::harness::{Report, Run, assert_contains, fixture, run};
use crate::serve::Serving;

pub(crate) const GATEWAY: &str = "gateway.edgeprobe.test";
pub(crate) const HUB: &str = "hub.edgeprobe.test";
pub(crate) const DEVICE: &str = "leaf-01";
/// 32 bytes, as IoT Hub issues keys.
pub(crate) const KEY: &str = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=";
/// Another 32-byte key: the device's key after a rotation.
pub(crate) const ROTATED_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The SAS-checking broker with `leaf-01` registered under [`KEY`].
fn sas_broker() -> Option<Server> {
    let python = required("python3", python_with("ssl, hmac"))?;
    let arguments = [HUB.to_owned(), format!("{DEVICE}={KEY}")];
    Some(python_server(
        "sas-broker",
        python,
        "mqtt_sas_broker.py",
        &arguments,
    ))
}

pub(crate) fn connection_string(device: &str, credential: &str) -> String {
    format!("HostName={HUB};DeviceId={device};{credential};GatewayHostName={GATEWAY}")
}

pub(crate) fn with_key(device: &str, key: &str) -> String {
    connection_string(device, &format!("SharedAccessKey={key}"))
}

/// `check --authenticate` of the MQTT port only, in `format` (`json`, `text` or `verbose`).
fn authenticate(port: u16, connection_string: &str, format: &str, extra: &[&str]) -> Run {
    authenticate_against(
        &fixture("root-ca.pem"),
        port,
        connection_string,
        format,
        extra,
    )
}

/// [`authenticate`] with `root` as the gateway's root CA file.
fn authenticate_against(
    root: &Path,
    port: u16,
    connection_string: &str,
    format: &str,
    extra: &[&str],
) -> Run {
    let checks = "gateway-auth-mqtt,gateway-protocol-mqtt";
    authenticate_port(
        root,
        ("mqtt", port),
        checks,
        connection_string,
        format,
        extra,
    )
}

/// `check --authenticate` of `checks` only, with `port` as (`mqtt`|`amqp`|`https`, number).
pub(crate) fn authenticate_port(
    root: &Path,
    port: (&str, u16),
    checks: &str,
    connection_string: &str,
    format: &str,
    extra: &[&str],
) -> Run {
    let port = format!("{}={}", port.0, port.1);
    let resolve = format!("{GATEWAY}:127.0.0.1");
    let root = path_text(root);
    let mut args = vec![
        "check",
        "--connection-string",
        connection_string,
        "--resolve",
        &resolve,
        "--ca-file",
        &root,
        "--port",
        &port,
        "--only",
        checks,
        "--authenticate",
        "--timeout",
        "5s",
    ];
    // `gateway-auth-*` use `device-clock`, which reads the HTTPS port's Date: not served here.
    if port.starts_with("mqtt=") || port.starts_with("amqp=") {
        args.extend(["--skip", "gateway-connect-https"]);
    }
    match format {
        "json" => args.extend(["--output", "json"]),
        "verbose" => args.push("--verbose"),
        _ => {}
    }
    args.extend(extra);
    run(&args)
}

fn auth_info(report: &Report) -> &serde_json::Value {
    &report.check("gateway-auth-mqtt").additional_info
}

#[test]
fn the_right_key_is_accepted_and_the_test_message_acknowledged() {
    let Some(broker) = sas_broker() else { return };
    let output = authenticate(
        broker.port,
        &with_key(DEVICE, KEY),
        "json",
        &["--send-test-message"],
    );
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_eq!(
        report.result("gateway-auth-mqtt"),
        "ok",
        "{}",
        report.text_of("gateway-auth-mqtt")
    );
    let info = auth_info(&report);
    assert_eq!(info["verdict"], "accepted", "{info}");
    assert_eq!(info["return_code"], 0);
    assert_eq!(info["identity"]["sent"]["client_id"], DEVICE);
    assert_eq!(
        info["identity"]["sent"]["username"],
        format!("{HUB}/{DEVICE}/?api-version=2021-04-12")
    );
    assert_eq!(
        info["identity"]["test_message"]["result"], "acknowledged",
        "{info}"
    );
    let logs = broker.logs();
    assert_contains(
        &logs,
        &format!("PUBLISH topic=devices/{DEVICE}/messages/events/edgeprobe-test=true"),
    );
    // The protocol check still passes, and says whose verdict the credentials are.
    assert_eq!(report.result("gateway-protocol-mqtt"), "ok");
    report.assert_text_contains("gateway-protocol-mqtt", "gateway-auth-mqtt");
}

#[test]
fn a_rotated_key_earns_4_and_an_unknown_device_5() {
    let Some(broker) = sas_broker() else { return };
    let output = authenticate(broker.port, &with_key(DEVICE, ROTATED_KEY), "json", &[]);
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    assert_eq!(report.result("gateway-auth-mqtt"), "error");
    assert_eq!(auth_info(&report)["return_code"], 4);
    assert_eq!(auth_info(&report)["verdict"], "bad_credentials");
    let text = report.text_of("gateway-auth-mqtt");
    assert!(
        text.contains("bad user name or password") && text.contains("rotated"),
        "{text}"
    );

    let output = authenticate(broker.port, &with_key("leaf-02", KEY), "json", &[]);
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    assert_eq!(auth_info(&report)["return_code"], 5);
    assert_eq!(auth_info(&report)["verdict"], "not_authorized");
    let text = report.text_of("gateway-auth-mqtt");
    assert_contains(
        &text,
        "az iot hub device-identity parent set --device-id leaf-02",
    );
}

/// A token whose `se` is long past: reported as expired, and nothing reaches the broker.
#[test]
fn an_expired_signature_is_an_error_before_connecting() {
    let Some(broker) = sas_broker() else { return };
    let token = format!(
        "SharedAccessSignature sr={HUB}%2Fdevices%2F{DEVICE}&sig=c2lnbmF0dXJlLW5vdC1jaGVja2Vk%3D&se=1600000000"
    );
    let output = authenticate(
        broker.port,
        &connection_string(DEVICE, &format!("SharedAccessSignature={token}")),
        "json",
        &[],
    );
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    let text = report.text_of("gateway-auth-mqtt");
    assert!(
        text.contains("expired at 2020-09-13T12:26:40Z") && text.contains("it was not sent"),
        "{text}"
    );
    // Only the anonymous probe of gateway-protocol-mqtt reached the broker, not the device.
    assert!(
        !broker.logs().contains(&format!("client={DEVICE} ")),
        "{}",
        broker.logs()
    );
    assert!(!output.all().contains("c2lnbmF0dXJlLW5vdC1jaGVja2Vk"));
}

/// A valid SharedAccessSignature from the connection string is used as is.
#[test]
fn a_valid_signature_is_sent_as_is() {
    let Some(broker) = sas_broker() else { return };
    let key = base64_decode(KEY);
    let expiry = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let token =
        edgeprobe::identity::sas::make_token(&key, &format!("{HUB}/devices/{DEVICE}"), expiry);
    let connection = connection_string(
        DEVICE,
        &format!("SharedAccessSignature={}", token.expose_str()),
    );
    let output = authenticate(broker.port, &connection, "json", &[]);
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_eq!(
        auth_info(&report)["identity"]["sent"]["method"],
        "shared_access_signature"
    );
    assert!(
        broker
            .logs()
            .contains(&format!("password={}", token.expose_str()))
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// Every new path (accepted, refused, expired, test message) in text, `--verbose` and JSON:
/// neither the key nor any token edgeprobe made (read from the broker's log) nor the
/// connection string's own token appears.
#[test]
fn the_key_and_the_token_never_appear_in_any_format() {
    let Some(broker) = sas_broker() else { return };
    let expired = format!(
        "SharedAccessSignature sr={HUB}%2Fdevices%2F{DEVICE}&sig=ZXhwaXJlZC1zaWduYXR1cmU%3D&se=1600000000"
    );
    let cases = [
        with_key(DEVICE, KEY),
        with_key(DEVICE, ROTATED_KEY),
        with_key("leaf-02", KEY),
        connection_string(DEVICE, &format!("SharedAccessSignature={expired}")),
    ];
    let outputs = in_every_format(&cases, |case, format| {
        authenticate(broker.port, case, format, &["--send-test-message"])
    });
    let tokens = logged_tokens(&broker.logs());
    assert!(tokens.len() >= 9, "every key case connected: {tokens:?}");
    assert_no_secret_shown(&outputs, &tokens);
}

/// What `authenticate(case, format)` printed for every case in text, `--verbose` and JSON,
/// each run asserted to exit 0 or 1: the outputs [`assert_no_secret_shown`] searches.
pub(crate) fn in_every_format(
    cases: &[String],
    mut authenticate: impl FnMut(&str, &str) -> Run,
) -> Vec<String> {
    let mut outputs = Vec::new();
    for case in cases {
        for format in ["text", "verbose", "json"] {
            let output = authenticate(case, format);
            assert!(matches!(output.code, 0 | 1), "{}", output.all());
            outputs.push(output.all());
        }
    }
    outputs
}

/// The tokens a test server received, from its log: the CBS node's `token=<token> status=`
/// (tests/servers/amqp_listener.py) and the MQTT broker's `password=<token> verdict=`
/// (tests/servers/mqtt_sas_broker.py); empty passwords are left out.
pub(crate) fn logged_tokens(logs: &str) -> Vec<String> {
    logs.lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("token=").or(line.split_once("password="))?;
            Some(
                rest.split(" status=")
                    .next()?
                    .split(" verdict=")
                    .next()?
                    .to_owned(),
            )
        })
        .filter(|token| !token.is_empty())
        .collect()
}

/// Neither key, nor the expired signature the cases use, nor any of `tokens` (those the server
/// received) or their signatures appears in any of `outputs`.
pub(crate) fn assert_no_secret_shown(outputs: &[String], tokens: &[String]) {
    let signatures: Vec<String> = tokens
        .iter()
        .filter_map(|token| Some(token.split_once("sig=")?.1.split('&').next()?.to_owned()))
        .collect();
    for output in outputs {
        for secret in [KEY, ROTATED_KEY, "ZXhwaXJlZC1zaWduYXR1cmU"]
            .iter()
            .copied()
            .chain(tokens.iter().map(String::as_str))
            .chain(signatures.iter().map(String::as_str))
        {
            assert!(!output.contains(secret), "`{secret}` leaked:\n{output}");
        }
    }
}

// ---- X.509 against mosquitto ----

/// A device certificate for `leaf-01` issued by a fresh CA, and that CA, in `directory`.
fn device_pki(directory: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use edgeprobe::demo::pki::{CertificateSpec, Validity, issue};
    let now = time::OffsetDateTime::now_utc();
    let validity = Validity::around(now, 1, 365).expect("validity");
    let ca = issue(
        &CertificateSpec::certificate_authority("edgeprobe test device CA", validity),
        None,
    )
    .expect("CA");
    let device = issue(&CertificateSpec::tls_client(DEVICE, validity), Some(&ca)).expect("device");
    let paths = (
        directory.join("device-ca.pem"),
        directory.join("leaf-01-full-chain.pem"),
        directory.join("leaf-01.key.pem"),
    );
    std::fs::write(&paths.0, &ca.pem).expect("write");
    std::fs::write(&paths.1, format!("{}{}", device.pem, ca.pem)).expect("write");
    std::fs::write(&paths.2, device.key_pem()).expect("write");
    paths
}

/// mosquitto requiring a client certificate from `client_ca`, the certificate's CN as user name.
fn mosquitto_x509(client_ca: &Path) -> Option<Server> {
    mosquitto_with(
        "mosquitto-x509",
        client_ca,
        "require_certificate true\nuse_identity_as_username true\n",
    )
}

#[test]
fn mosquitto_accepts_the_device_certificate_and_names_its_absence() {
    let directory = tempfile::tempdir().expect("tempdir");
    let (ca, chain, key) = device_pki(directory.path());
    let Some(mosquitto) = mosquitto_x509(&ca) else {
        return;
    };
    let x509 = connection_string(DEVICE, "x509=true");
    let output = authenticate(
        mosquitto.port,
        &x509,
        "json",
        &["--cert", &path_text(&chain), "--key", &path_text(&key)],
    );
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    let info = auth_info(&report);
    assert_eq!(info["verdict"], "accepted", "{info}");
    assert_eq!(info["identity"]["sent"]["method"], "x509");
    for format in ["text", "verbose"] {
        let output = authenticate(
            mosquitto.port,
            &x509,
            format,
            &["--cert", &path_text(&chain), "--key", &path_text(&key)],
        );
        assert!(!output.all().contains("PRIVATE KEY"), "{}", output.all());
    }

    // `connect --cert --key`, as `s_client -cert -key`: mosquitto takes the certificate's CN as
    // the user name and accepts the CONNECT.
    let output = connect_probe(
        mosquitto.port,
        &["--cert", &path_text(&chain), "--key", &path_text(&key)],
    );
    assert_eq!(output.code, 0, "{}", output.all());
    assert_contains(&output.stdout, "CONNACK 0 (Connection Accepted)");

    // Without a certificate the gateway's refusal is named, whether TLS 1.3 sends the alert
    // after the handshake (gateway-auth-mqtt) or TLS 1.2 ends the handshake with it.
    let output = authenticate(mosquitto.port, &x509, "json", &[]);
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    let text = [
        report.text_of("gateway-connect-mqtt"),
        report.text_of("gateway-protocol-mqtt"),
    ]
    .join("\n");
    assert_contains(&text, "certificate_required");
    report.assert_text_contains("gateway-auth-mqtt", "no certificate was given");
    assert_contains(&text, "--cert");
}

fn device_certificate_check(chain: &Path, key: &Path, extra: &[&str]) -> Report {
    let x509 = connection_string(DEVICE, "x509=true");
    let (chain, key) = (path_text(chain), path_text(key));
    let mut args = vec![
        "check",
        "--connection-string",
        &x509,
        "--only",
        "device-certificate",
        "--cert",
        &chain,
        "--key",
        &key,
        "--output",
        "json",
    ];
    args.extend(extra);
    run(&args).json()
}

#[test]
fn the_device_certificate_is_judged_before_use() {
    let directory = tempfile::tempdir().expect("tempdir");
    let (ca, chain, key) = device_pki(directory.path());
    let report = device_certificate_check(&chain, &key, &["--device-ca", &path_text(&ca)]);
    assert_eq!(
        report.result("device-certificate"),
        "ok",
        "{}",
        report.text_of("device-certificate")
    );
    let info = &report.check("device-certificate").additional_info;
    assert_eq!(info["common_name_matches"], true, "{info}");
    assert_eq!(info["key_matches"], true);
    assert_eq!(info["client_auth"], true);
    assert_eq!(info["verify_code"], 0);
    assert_eq!(info["sha1_thumbprint"].as_str().map(str::len), Some(40));
    assert_eq!(info["sha256_thumbprint"].as_str().map(str::len), Some(64));
    let text = report.text_of("device-certificate");
    assert!(
        text.contains("SHA-1 thumbprint: ") && text.contains("SHA-256 thumbprint: "),
        "{text}"
    );

    // The gateway's server certificate and key: a serverAuth EKU, the wrong CN, another CA.
    let report = device_certificate_check(
        &fixture("server-full-chain.pem"),
        &fixture("server.key.pem"),
        &["--device-ca", &path_text(&ca)],
    );
    assert_eq!(report.result("device-certificate"), "error");
    let text = report.text_of("device-certificate");
    assert_contains(&text, "TLS client authentication");
    assert_contains(&text, "the DeviceId is `leaf-01`");
    assert_contains(&text, "purpose sslclient");
    let info = &report.check("device-certificate").additional_info;
    assert_ne!(info["verify_code"], 0, "{info}");

    // A key from another certificate.
    let report = device_certificate_check(&chain, &fixture("server.key.pem"), &[]);
    assert_eq!(report.result("device-certificate"), "error");
    report.assert_text_contains("device-certificate", "is not the private key");
    // A key file given as the certificate.
    let report = device_certificate_check(&key, &key, &[]);
    assert_eq!(report.result("device-certificate"), "error");
    report.assert_text_contains("device-certificate", "holds a private key");
}

// ---- The same through `edgeprobe serve --device` ----

#[test]
fn serve_with_devices_answers_as_edgehub_does() {
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().join("root.pem");
    let (ca, chain, key) = device_pki(directory.path());
    let serving = Serving::start(&[
        "--device",
        &format!("{DEVICE}={KEY}"),
        "--device-ca",
        &path_text(&ca),
        "--ca-out",
        &path_text(&root),
    ]);
    let port = serving.port("MQTTS");
    let verdict = |connection_string: &str, extra: &[&str]| {
        let output = authenticate_against(&root, port, connection_string, "json", extra);
        let report = output.json();
        (
            report.result("gateway-auth-mqtt").to_owned(),
            auth_info(&report).clone(),
            report.text_of("gateway-auth-mqtt"),
        )
    };
    let (result, info, text) = verdict(&with_key(DEVICE, KEY), &["--send-test-message"]);
    assert_eq!(result, "ok", "{text}");
    assert_eq!(
        info["identity"]["test_message"]["result"], "acknowledged",
        "{info}"
    );
    let (result, info, _) = verdict(&with_key(DEVICE, ROTATED_KEY), &[]);
    assert_eq!(
        (result.as_str(), &info["return_code"]),
        ("error", &serde_json::json!(4))
    );
    let (_, info, _) = verdict(&with_key("leaf-02", KEY), &[]);
    assert_eq!(info["return_code"], 5);
    let expired = format!(
        "SharedAccessSignature=SharedAccessSignature sr={HUB}%2Fdevices%2F{DEVICE}&sig=eA%3D%3D&se=1600000000"
    );
    let (result, _, text) = verdict(&connection_string(DEVICE, &expired), &[]);
    assert_eq!(result, "error");
    assert_contains(&text, "expired");
    // X.509: the device certificate from --device-ca, CN = client id.
    let (result, info, text) = verdict(
        &connection_string(DEVICE, "x509=true"),
        &["--cert", &path_text(&chain), "--key", &path_text(&key)],
    );
    assert_eq!(result, "ok", "{text}");
    assert_eq!(info["identity"]["sent"]["method"], "x509");
}

// ---- `edgeprobe demo`'s identity scenarios ----

/// Each identity scenario ends in its diagnosis, and shows no key or token.
#[test]
fn demo_identity_scenarios_end_in_the_right_diagnosis() {
    for (scenario, result, expected) in [
        (
            "wrong-key",
            "error",
            "CONNACK 4 (bad user name or password)",
        ),
        ("unknown-device", "error", "CONNACK 5 (not authorized)"),
        ("expired-token", "error", "SharedAccessSignature expired"),
        (
            "x509",
            "ok",
            "accepted device `leaf-01` with the X.509 certificate",
        ),
    ] {
        let output = run(&["demo", "--scenario", scenario, "--output", "json"]);
        let report = output.json();
        let text = report.text_of("gateway-auth-mqtt");
        assert_eq!(
            report.result("gateway-auth-mqtt"),
            result,
            "{scenario}: {text}"
        );
        assert!(text.contains(expected), "{scenario}: {text}");
        let shown = run(&["demo", "--scenario", scenario]).all();
        for secret in ["SharedAccessKey=", "sig=", "PRIVATE KEY"] {
            let leaked = shown
                .match_indices(secret)
                // `<redacted>`, or our prose naming the key in backticks.
                .any(|(at, _)| !shown[at + secret.len()..].starts_with(['<', '`']));
            assert!(!leaked, "{scenario}: `{secret}` shown:\n{shown}");
        }
    }
}
