//! Malformed local input and secrets: every input edgeprobe reads gets a clear message naming
//! it (exit status 2, or an error finding), never a panic; no output format ever carries a
//! SharedAccessKey value or private-key bytes.

use std::io::Write;
use std::path::PathBuf;

use crate::harness::{Run, check_root_ca_file, fixture, run};

/// A run must end in `expected` with no panic and no backtrace.
fn assert_clean_failure(output: &Run, expected: i32, context: &str) {
    assert_eq!(output.code, expected, "{context}: {}", output.all());
    assert!(
        !output.all().contains("panicked") && !output.all().contains("RUST_BACKTRACE"),
        "{context}: {}",
        output.all()
    );
}

/// CA files that are not usable: each is an error finding naming the file (status 1 from
/// `check`) and a usage error (status 2) from `verify`, which cannot run without roots.
#[test]
fn malformed_ca_files_are_named_and_explained() {
    let directory = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let path = directory.path().join(name);
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(bytes))
            .expect("write");
        path
    };
    let certificate = std::fs::read_to_string(fixture("root-ca.pem")).expect("fixture");
    let truncated = certificate[..certificate.len() / 2].to_owned();
    let bad_base64 = certificate.replacen("MI", "M!", 1);
    let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBADCBpwIBADAPMQ0wCwYDVQQDDAR0ZXN0\n-----END CERTIFICATE REQUEST-----\n";
    let mut huge = Vec::with_capacity(50 * 1024 * 1024);
    while huge.len() < 50 * 1024 * 1024 {
        huge.extend_from_slice(certificate.as_bytes());
    }
    let cases: Vec<(&str, PathBuf)> = vec![
        ("empty", write("empty.pem", b"")),
        ("whitespace", write("blank.pem", b" \n\t\n")),
        (
            "truncated PEM",
            write("truncated.pem", truncated.as_bytes()),
        ),
        ("bad base64", write("bad-base64.pem", bad_base64.as_bytes())),
        (
            "DER garbage",
            write("garbage.der", &[0x30, 0x82, 0xff, 0xff, 0x01, 0x02]),
        ),
        ("private key", fixture("private-key-only.pem")),
        ("certificate request", write("request.pem", csr.as_bytes())),
        ("50 MB file", write("huge.pem", &huge)),
        ("directory", directory.path().to_path_buf()),
        ("missing", directory.path().join("missing.pem")),
    ];
    for (what, path) in &cases {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        let checked = check_root_ca_file(path);
        assert_clean_failure(&checked, 1, what);
        let report = checked.json();
        assert_eq!(report.result("root-ca-file"), "error", "{what}");
        assert!(
            report.text_of("root-ca-file").contains(&name),
            "{what}: the message names the file: {}",
            report.text_of("root-ca-file")
        );

        let verified = run(&[
            "verify",
            "--ca-file",
            path.to_str().expect("utf-8"),
            fixture("server.pem").to_str().expect("utf-8"),
        ]);
        assert_clean_failure(&verified, 2, what);
        assert!(
            verified.stderr.contains(&name),
            "{what}: {}",
            verified.stderr
        );
        assert_eq!(
            verified.stderr.trim().lines().count(),
            1,
            "{what}: one line: {}",
            verified.stderr
        );
    }
}

#[test]
fn malformed_connection_strings_never_panic_nor_leak() {
    let key = "c2VjcmV0LWtleS1kby1ub3QtcHJpbnQtbWUtZXZlcg==";
    let cases = [
        String::new(),
        ";;;".to_owned(),
        format!("HostName=hub;DeviceId=d;SharedAccessKey={key};HostName=again"),
        format!("HostName=;DeviceId=d;SharedAccessKey={key}"),
        "HostName=hub;DeviceId=d;SharedAccessKey=not base64!".to_owned(),
        format!("HostName=hub;DeviceId=d;SharedAccessKey{key}"),
        format!("HostName=hub;DeviceId=dévice;SharedAccessKey={key};GatewayHostName=gw"),
        format!("HostName=hub;SharedAccessKeyName=iothubowner;SharedAccessKey={key}"),
    ];
    for connection_string in &cases {
        for format in ["text", "json"] {
            let output = run(&[
                "check",
                "--connection-string",
                connection_string,
                "--only",
                "connection-string",
                "--output",
                format,
                "--verbose",
            ]);
            assert!(
                matches!(output.code, 0 | 1),
                "{connection_string:?}: {}",
                output.all()
            );
            assert!(!output.all().contains("panicked"), "{}", output.all());
            assert!(
                !output.all().contains(&key[..12]),
                "{connection_string:?} leaked the key:\n{}",
                output.all()
            );
        }
    }
}

#[test]
fn malformed_host_names_are_findings_not_crashes() {
    let long = "a".repeat(300);
    for name in [
        "",
        &long,
        "gw_01.contoso.com",
        "gw.contoso.com.",
        "gateway.münchen.de",
        "-gw.contoso.com",
        "gw..contoso.com",
    ] {
        let output = run(&[
            "check",
            "--gateway",
            name,
            "--only",
            "gateway-hostname",
            "--output",
            "json",
        ]);
        assert!(matches!(output.code, 0..=2), "{name:?}: {}", output.all());
        assert!(
            !output.all().contains("panicked"),
            "{name:?}: {}",
            output.all()
        );
        if output.code == 1 {
            let report = output.json();
            assert!(!report.check("gateway-hostname").result.details.is_empty());
        }
    }
}

#[test]
fn the_secret_never_appears_in_any_command_or_format() {
    // 32 bytes, like a real IoT Hub key, so the connection string itself is valid.
    let key = "ZWRnZXByb2JlLXNlY3JldC1kby1ub3QtcHJpbnQtISE=";
    let connection_string = format!(
        "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={key};GatewayHostName=unknown.edgeprobe.test"
    );
    let key_file = fixture("server.key.pem");
    let key_pem = std::fs::read_to_string(&key_file).expect("key fixture");
    let key_body: String = key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let hosts = tempfile::NamedTempFile::new().expect("hosts");
    let runs: Vec<Vec<String>> = vec![
        vec![
            "check".into(),
            "--connection-string".into(),
            connection_string.clone(),
            "--hosts-file".into(),
            hosts.path().display().to_string(),
            "--resolve".into(),
            "unknown.edgeprobe.test:127.0.0.1".into(),
            "--port".into(),
            "mqtt=1".into(),
            "--port".into(),
            "amqp=1".into(),
            "--port".into(),
            "https=1".into(),
            "--timeout".into(),
            "300ms".into(),
            "--verbose".into(),
        ],
        vec![
            "check".into(),
            "--connection-string".into(),
            connection_string.clone(),
            "--only".into(),
            "connection-string".into(),
            "--output".into(),
            "json".into(),
        ],
        vec![
            "check".into(),
            "--connection-string".into(),
            format!("{connection_string};"),
            "--ca-file".into(),
            key_file.display().to_string(),
            "--only".into(),
            "root-ca-file,connection-string".into(),
            "--verbose".into(),
        ],
        vec!["inspect".into(), key_file.display().to_string()],
        vec![
            "inspect".into(),
            key_file.display().to_string(),
            "--output".into(),
            "json".into(),
        ],
        vec![
            "verify".into(),
            "--ca-file".into(),
            key_file.display().to_string(),
            fixture("server.pem").display().to_string(),
        ],
    ];
    for args in &runs {
        let output = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let all = output.all();
        assert!(
            !all.contains(&key[..12]),
            "{args:?} leaked the SharedAccessKey:\n{all}"
        );
        for chunk in key_body.as_bytes().chunks(24) {
            let chunk = String::from_utf8_lossy(chunk);
            assert!(
                !all.contains(chunk.as_ref()),
                "{args:?} leaked private-key bytes:\n{all}"
            );
        }
        assert!(!all.contains("panicked"), "{args:?}: {all}");
    }
    // Also through the environment variable, the recommended way to pass the string.
    let output: Run = crate::harness::edgeprobe()
        .env("EDGEPROBE_CONNECTION_STRING", &connection_string)
        .args(["check", "--only", "connection-string", "--output", "json"])
        .output()
        .expect("runs")
        .into();
    output.assert_not_shown(&key[..12]);
    assert_eq!(output.json().result("connection-string"), "ok");
}

/// A fresh key for each run, so no fixture or earlier output can make a leak look like a pass:
/// 32 random letters and digits (printable, so the decoded form is searchable too) and their
/// standard base64, as IoT Hub writes keys.
fn random_key() -> (String, String) {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let state = std::collections::hash_map::RandomState::new();
    let decoded: String = (0..32)
        .map(|index| {
            let mut hasher = state.build_hasher();
            hasher.write_usize(index);
            let pick = usize::try_from(hasher.finish() % ALPHABET.len() as u64).expect("small");
            char::from(ALPHABET[pick])
        })
        .collect();
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &decoded);
    (key, decoded)
}

/// Issue #12's regression test: a connection string whose key is a random value, valid and
/// damaged in the ways a paste goes wrong, through `check` in text, JSON, JSON Lines and
/// Prometheus, with the string as an argument, in the environment and without its flag. No
/// 12-character piece of the key, of its decoded bytes or of its URL-encoded form may appear
/// on stdout or stderr.
#[test]
fn a_random_key_never_reaches_any_output_even_on_error_paths() {
    let (key, decoded) = random_key();
    let url_encoded =
        percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC).to_string();
    let (first_half, second_half) = key.split_at(key.len() / 2);
    let valid = format!(
        "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={key};GatewayHostName=unknown.edgeprobe.test"
    );
    let base = "HostName=hub.azure-devices.net;DeviceId=leaf-01";
    let malformed = [
        format!("{base};SharedAcessKey={key};GatewayHostName=gw"),
        format!("{base};SharedAccessKey={first_half};{second_half};GatewayHostName=gw"),
        format!("{base};SharedAccessKey={first_half}\n{second_half}"),
        format!("{base};SharedAccessKey={first_half} {second_half}"),
        format!("{base};SharedAccessKey{key}"),
        format!("{base};SharedAccessKey={key};x509=true"),
        format!("{base};SharedAccessKey={key};SharedAccessKey={key}"),
        format!("HostName=hub;SharedAccessKeyName=iothubowner;SharedAccessKey={key}"),
        format!("SharedAccessSignature sr=hub%2Fdevices%2Fleaf-01&sig={url_encoded}&se=1"),
        format!("{base};SharedAccessKey={}", key.replace('=', "")),
    ];
    let formats = ["text", "json", "jsonl", "prometheus"];
    let mut runs: Vec<(Vec<String>, Option<String>)> = Vec::new();
    for format in formats {
        // The whole leaf suite, every probe refused fast on loopback port 1.
        let mut args: Vec<String> = ["check", "--connection-string", &valid]
            .into_iter()
            .chain([
                "--resolve",
                "unknown.edgeprobe.test:127.0.0.1",
                "--port",
                "mqtt=1",
                "--port",
                "amqp=1",
                "--port",
                "https=1",
                "--timeout",
                "300ms",
                "--verbose",
                "-o",
                format,
            ])
            .map(str::to_owned)
            .collect();
        runs.push((args.clone(), None));
        args.drain(1..3);
        runs.push((args, Some(valid.clone())));
        for connection_string in &malformed {
            let only = ["--only", "connection-string", "--verbose", "-o", format];
            let args = ["check", "--connection-string", connection_string]
                .into_iter()
                .chain(only)
                .map(str::to_owned)
                .collect();
            runs.push((args, None));
            let args = ["check"]
                .into_iter()
                .chain(only)
                .map(str::to_owned)
                .collect();
            runs.push((args, Some(connection_string.clone())));
        }
    }
    // Pasted without its flag: clap's own error quotes the argument.
    for connection_string in malformed.iter().chain([&valid]) {
        runs.push((vec!["check".into(), connection_string.clone()], None));
    }

    let forms = [
        ("key", key.as_str()),
        ("decoded key", &decoded),
        ("URL-encoded key", &url_encoded),
    ];
    for (args, environment) in &runs {
        let mut command = crate::harness::edgeprobe();
        command.args(args);
        if let Some(value) = environment {
            command.env("EDGEPROBE_CONNECTION_STRING", value);
        }
        let output: Run = command.output().expect("the edgeprobe binary runs").into();
        let all = output.all();
        assert!(matches!(output.code, 0..=2), "{args:?}: {all}");
        assert!(!all.contains("panicked"), "{args:?}: {all}");
        for (form, value) in forms {
            for window in value.as_bytes().windows(12) {
                let piece = std::str::from_utf8(window).expect("ASCII");
                assert!(
                    !all.contains(piece),
                    "{args:?} (environment: {}) leaked the {form} (`{piece}`):\n{all}",
                    environment.is_some()
                );
            }
        }
    }
}
