//! Gateways whose server key ring's rustls algorithms cannot handle (P-521, Ed448, Ed25519, an
//! id-RSASSA-PSS key, RSA 1024) but an OpenSSL-based device SDK connects to: `connect` must
//! complete the handshake against the real `openssl s_server` and print the chain, and
//! `check` must not call the gateway unreachable. Skipped, with a note, without `openssl`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::harness::{LOOPBACK_GATEWAY, check_loopback, edgeprobe, spawn_with_stdout};
use crate::openssl::run as openssl;

fn openssl_present() -> bool {
    crate::openssl::present("TLS algorithm cases")
}

/// A root CA and a server certificate for `key_arguments` (genpkey), for 127.0.0.1 and the
/// loopback gateway name.
fn pki(directory: &Path, key_arguments: &[&str]) {
    openssl(
        directory,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "root.key",
            "-subj",
            "/CN=TLS Algorithms Root",
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-out",
            "root.pem",
        ],
    );
    let mut genpkey = vec!["genpkey"];
    genpkey.extend_from_slice(key_arguments);
    genpkey.extend_from_slice(&["-out", "server.key"]);
    openssl(directory, &genpkey);
    let names = format!("subjectAltName=IP:127.0.0.1,DNS:{LOOPBACK_GATEWAY}");
    openssl(
        directory,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "server.key",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-subj",
            "/CN=127.0.0.1",
            "-days",
            "1",
            "-addext",
            "basicConstraints=CA:FALSE",
            "-addext",
            &names,
            "-out",
            "server.pem",
        ],
    );
}

/// `openssl s_server` on an ephemeral loopback port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(directory: &Path, extra: &[&str]) -> Server {
        let mut command = Command::new("openssl");
        command
            .current_dir(directory)
            .args([
                "s_server",
                "-accept",
                "127.0.0.1:0",
                "-cert",
                "server.pem",
                "-key",
                "server.key",
                "-www",
            ])
            .args(extra);
        let (child, stdout) = spawn_with_stdout(&mut command, "openssl s_server", Stdio::null());
        let mut lines = BufReader::new(stdout).lines();
        // "ACCEPT 127.0.0.1:PORT" once it listens.
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("ACCEPT ")?
                    .rsplit(':')
                    .next()?
                    .parse()
                    .ok()
            })
            .expect("s_server's listening line");
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CASES: &[(&str, &[&str])] = &[
    (
        "P-521",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    ),
    ("Ed448", &["-algorithm", "ED448"]),
    ("Ed25519", &["-algorithm", "ED25519"]),
    (
        "RSA-PSS key",
        &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"],
    ),
    (
        "RSA 1024",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    ),
];

fn connect(directory: &Path, port: u16) -> crate::harness::Run {
    edgeprobe()
        .arg("connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--ca-file")
        .arg(directory.join("root.pem"))
        .args(["--hosts-file", "/dev/null", "--timeout", "5s"])
        .output()
        .expect("edgeprobe connect runs")
        .into()
}

#[test]
fn connect_completes_the_handshake_with_every_key_openssl_clients_accept() {
    if !openssl_present() {
        return;
    }
    for (label, key) in CASES {
        // TLS 1.3 for all; TLS 1.2 for RSA 1024. (A TLS 1.2 server only uses a P-521
        // certificate when the client offers the secp521r1 group, which ring's rustls provider
        // lacks; rustls has no TLS 1.2 form of rsa_pss_pss_*.)
        let mut versions: Vec<(&str, &[&str])> = vec![("TLSv1.3", &["-tls1_3"])];
        if *label == "RSA 1024" {
            versions.push(("TLSv1.2", &["-tls1_2"]));
        }
        for (version, flags) in versions {
            let directory = tempfile::tempdir().expect("tempdir");
            pki(directory.path(), key);
            // Debian builds OpenSSL at security level 2, which refuses to load a 1024-bit key;
            // device SDKs run at OpenSSL's default level 1, where it is allowed.
            let server_flags = [flags, &["-cipher", "DEFAULT:@SECLEVEL=1"]].concat();
            let server = Server::start(directory.path(), &server_flags);
            let output = connect(directory.path(), server.port);
            let all = output.all();
            assert_eq!(output.code, 0, "{label} {version}: {all}");
            let negotiated = format!("New, {version}");
            for part in ["Certificate chain", &negotiated, "BEGIN CERTIFICATE"] {
                assert!(
                    all.contains(part),
                    "{label} {version}: `{part}` not in {all}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reaches_gateways_with_such_keys() {
    if !openssl_present() {
        return;
    }
    for (label, key) in [CASES[0], CASES[1], CASES[3]] {
        let directory = tempfile::tempdir().expect("tempdir");
        pki(directory.path(), key);
        let server = Server::start(directory.path(), &[]);
        let port = server.port;
        // One single-threaded `s_server -www` serves all three ports, and it is no MQTT or
        // AMQP broker: the protocol checks, which read the answer on the connect check's own
        // connection, would hold that connection (s_server waits for an HTTP line) while the
        // other ports queue behind it. This test is about the handshakes.
        let output = check_loopback(
            [port, port, port],
            &directory.path().join("root.pem"),
            "5s",
            &[
                "--skip",
                "gateway-protocol-mqtt,gateway-protocol-amqp,gateway-protocol-https",
            ],
        )
        .await;
        let report = output.json();
        for id in [
            "gateway-connect-mqtt",
            "gateway-connect-amqp",
            "gateway-connect-https",
        ] {
            assert_eq!(
                report.result(id),
                "ok",
                "{label} {id}: {}",
                report.text_of(id)
            );
        }
        drop(server);
    }
}
