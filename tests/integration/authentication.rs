//! `gateway-auth-amqp` and `gateway-auth-websocket` (issue 13) through the binary: against a
//! `$cbs` node on Qpid Proton (tests/servers/amqp_listener.py) and MQTT over WebSockets
//! (tests/servers/mqtt_sas_broker.py --websocket), both checking IoT Hub SAS tokens with
//! Python's own `hmac`, independently of edgeprobe's token, AMQP and WebSocket code. Every path
//! also runs in text, `--verbose` and JSON without the key or a token in any of them; and
//! under libfaketime a token refused because the device clock is off leads with the clock
//! (issue 14).

use std::process::Command;

use crate::brokers::{Server, find_program, python_server, python_with, required};
use crate::device_clock::SntpServer;
use crate::harness::{Report, Run, fixture};
use crate::identity::{
    DEVICE, GATEWAY, HUB, KEY, ROTATED_KEY, assert_no_secret_shown, authenticate_port,
    connection_string, in_every_format, logged_tokens, with_key,
};

const EXPIRED: &str = "SharedAccessSignature sr=hub.edgeprobe.test%2Fdevices%2Fleaf-01&sig=ZXhwaXJlZC1zaWduYXR1cmU%3D&se=1600000000";

/// One of the two new paths: its server, port key and checks.
#[derive(Clone, Copy)]
enum Path {
    Amqp,
    WebSocket,
}

impl Path {
    fn id(self) -> &'static str {
        match self {
            Path::Amqp => "gateway-auth-amqp",
            Path::WebSocket => "gateway-auth-websocket",
        }
    }

    /// The test server with `leaf-01` registered under [`KEY`].
    fn server(self) -> Option<Server> {
        let registered = [HUB.to_owned(), format!("{DEVICE}={KEY}")];
        Some(match self {
            Path::Amqp => {
                let python = required("python3-qpid-proton", python_with("proton, hmac"))?;
                python_server("cbs", python, "amqp_listener.py", &registered)
            }
            Path::WebSocket => {
                let python = required("python3", python_with("ssl, hmac"))?;
                let arguments = [
                    registered[0].clone(),
                    "--websocket".to_owned(),
                    registered[1].clone(),
                ];
                python_server("websocket-broker", python, "mqtt_sas_broker.py", &arguments)
            }
        })
    }

    fn authenticate(self, server: &Server, connection_string: &str, format: &str) -> Run {
        let (port, protocol_check) = match self {
            Path::Amqp => ("amqp", "gateway-protocol-amqp"),
            Path::WebSocket => ("https", "gateway-protocol-https"),
        };
        let checks = format!("{},{protocol_check}", self.id());
        let root = fixture("root-ca.pem");
        authenticate_port(
            &root,
            (port, server.port),
            &checks,
            connection_string,
            format,
            &[],
        )
    }

    /// The JSON report, its check's `additional_info` and text, for `connection_string`.
    fn verdict(self, server: &Server, connection_string: &str) -> (Run, Report) {
        let output = self.authenticate(server, connection_string, "json");
        let report = output.json();
        (output, report)
    }

    /// The server and its report on `leaf-01` with the right key, which must exit 0; `None`
    /// where the server's Debian package is missing (see [`required`]).
    fn accepting(self) -> Option<(Server, Report)> {
        let server = self.server()?;
        let (output, report) = self.verdict(&server, &with_key(DEVICE, KEY));
        assert_eq!(output.code, 0, "{}", output.all());
        Some((server, report))
    }
}

fn info(report: &Report, path: Path) -> &serde_json::Value {
    &report.check(path.id()).additional_info
}

#[test]
fn cbs_accepts_the_right_key_and_answers_401_and_404() {
    let path = Path::Amqp;
    let Some((server, report)) = path.accepting() else {
        return;
    };
    let accepted = info(&report, path);
    assert_eq!(accepted["verdict"], "accepted", "{accepted}");
    assert_eq!(accepted["status_code"], 200);
    assert_eq!(accepted["mechanism"], "ANONYMOUS");
    assert_eq!(report.result("gateway-protocol-amqp"), "ok");
    assert!(
        server.logs().contains(&format!(
            "PUT-TOKEN name={HUB}/devices/{DEVICE} type=servicebus.windows.net:sastoken token=SharedAccessSignature sr="
        )),
        "{}",
        server.logs()
    );

    let (output, report) = path.verdict(&server, &with_key(DEVICE, ROTATED_KEY));
    assert_eq!(output.code, 1, "{}", output.all());
    assert_eq!(info(&report, path)["status_code"], 401);
    assert_eq!(info(&report, path)["verdict"], "bad_credentials");
    let text = report.text_of(path.id());
    assert!(
        text.contains("CBS put-token status 401") && text.contains("rotated"),
        "{text}"
    );

    let (_, report) = path.verdict(&server, &with_key("leaf-02", KEY));
    assert_eq!(info(&report, path)["status_code"], 404);
    assert_eq!(info(&report, path)["verdict"], "not_authorized");
    let text = report.text_of(path.id());
    assert!(
        text.contains("az iot hub device-identity parent set --device-id leaf-02"),
        "{text}"
    );
}

#[test]
fn websockets_carry_the_connect_and_its_connack_is_judged_as_mqtts() {
    let path = Path::WebSocket;
    let Some((server, report)) = path.accepting() else {
        return;
    };
    assert_eq!(info(&report, path)["verdict"], "accepted");
    assert_eq!(info(&report, path)["return_code"], 0);
    assert!(server.logs().contains("UPGRADE path=/$iothub/websocket"));
    assert!(
        report
            .text_of(path.id())
            .contains("then MQTT 3.1.1 CONNECT in binary frames, client id `leaf-01`")
    );
    let (_, report) = path.verdict(&server, &with_key(DEVICE, ROTATED_KEY));
    assert_eq!(info(&report, path)["return_code"], 4);
    assert!(
        report
            .text_of(path.id())
            .contains("bad user name or password")
    );
    let (_, report) = path.verdict(&server, &with_key("leaf-02", KEY));
    assert_eq!(info(&report, path)["return_code"], 5);
    assert!(report.text_of(path.id()).contains("Set a parent device"));
}

/// `serve --device` answers MQTT over WebSockets as edgeHub does: CONNACK 0, 4 and 5 in frames.
#[test]
fn serve_with_devices_answers_mqtt_over_websockets() {
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().join("root.pem");
    let serving = crate::serve::Serving::start(&[
        "--device",
        &format!("{DEVICE}={KEY}"),
        "--ca-out",
        &crate::brokers::path_text(&root),
    ]);
    let port = ("https", serving.port("HTTPS"));
    let checks = "gateway-auth-websocket";
    for (connection_string, code) in [
        (with_key(DEVICE, KEY), 0),
        (with_key(DEVICE, ROTATED_KEY), 4),
        (with_key("leaf-02", KEY), 5),
    ] {
        let output = authenticate_port(&root, port, checks, &connection_string, "json", &[]);
        let report = output.json();
        let info = info(&report, Path::WebSocket);
        assert_eq!(info["return_code"], code, "{}", report.text_of(checks));
    }
}

/// An expired SharedAccessSignature is refused by the shared credential logic before anything
/// is sent: nothing reaches either server as the device.
#[test]
fn an_expired_signature_is_an_error_before_connecting_on_both_paths() {
    for path in [Path::Amqp, Path::WebSocket] {
        let Some(server) = path.server() else { return };
        let expired = connection_string(DEVICE, &format!("SharedAccessSignature={EXPIRED}"));
        let (output, report) = path.verdict(&server, &expired);
        assert_eq!(output.code, 1, "{}", output.all());
        let text = report.text_of(path.id());
        assert!(
            text.contains("expired at 2020-09-13T12:26:40Z") && text.contains("it was not sent"),
            "{text}"
        );
        let logs = server.logs();
        assert!(
            !logs.contains("PUT-TOKEN") && !logs.contains("CONNECT client"),
            "{logs}"
        );
    }
}

/// Every case in text, `--verbose` and JSON: neither key, nor any token the servers received,
/// nor its signature, nor the connection string's own signature appears.
#[test]
fn the_key_and_the_token_never_appear_over_amqp_or_websockets() {
    let cases = [
        with_key(DEVICE, KEY),
        with_key(DEVICE, ROTATED_KEY),
        with_key("leaf-02", KEY),
        connection_string(DEVICE, &format!("SharedAccessSignature={EXPIRED}")),
    ];
    for path in [Path::Amqp, Path::WebSocket] {
        let Some(server) = path.server() else { return };
        let outputs = in_every_format(&cases, |case, format| {
            path.authenticate(&server, case, format)
        });
        let tokens = logged_tokens(&server.logs());
        assert!(
            tokens.len() >= 9,
            "every key case reached the server: {tokens:?}"
        );
        assert_no_secret_shown(&outputs, &tokens);
    }
}

/// Under `faketime -3h` the token edgeprobe signs with the right key has expired by the
/// servers' clock: CONNACK 4 and CBS 401, and since `device-clock` (against an SNTP server on
/// the real clock) finds the skew, both remedies lead with the clock.
#[test]
fn a_token_refused_because_the_clock_is_behind_leads_with_the_clock() {
    let Some(faketime) = required("faketime", find_program("faketime")) else {
        return;
    };
    let Some(cbs) = Path::Amqp.server() else {
        return;
    };
    let Some(python) = required("python3", python_with("ssl, hmac")) else {
        return;
    };
    let mqtt = python_server(
        "sas-broker",
        python,
        "mqtt_sas_broker.py",
        &[HUB.to_owned(), format!("{DEVICE}={KEY}")],
    );
    let ntp = SntpServer::start();
    let output: Run = Command::new(faketime)
        .args(["-f", "-3h", env!("CARGO_BIN_EXE_edgeprobe"), "check"])
        .args(["--connection-string", &with_key(DEVICE, KEY)])
        .args(["--resolve", &format!("{GATEWAY}:127.0.0.1"), "--ca-file"])
        .arg(fixture("root-ca.pem"))
        .args(["--port", &format!("mqtt={}", mqtt.port)])
        .args(["--port", &format!("amqp={}", cbs.port)])
        .args(["--ntp-server", &format!("127.0.0.1:{}", ntp.port)])
        .args(["--only", "gateway-auth-mqtt,gateway-auth-amqp,device-clock"])
        .args(["--skip", "gateway-connect-https"])
        .args(["--authenticate", "--timeout", "5s", "--output", "json"])
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env_remove("EDGEPROBE_CONNECTION_STRING")
        .output()
        .expect("faketime runs the binary")
        .into();
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    report.expect("device-clock", "warning", "3 hours behind");
    for (id, refusal) in [
        ("gateway-auth-mqtt", "CONNACK 4"),
        ("gateway-auth-amqp", "CBS put-token status 401"),
    ] {
        let text = report.text_of(id);
        assert!(text.contains(refusal), "{id}: {text}");
        let remedy = report.check(id).remedy.clone().unwrap_or_default();
        assert!(
            remedy.starts_with("first fix the clock: this device's clock is 3 hours behind")
                && remedy.contains("already expired by the gateway's clock")
                && remedy.contains("Only if the clock is right: the key or token does not match"),
            "{id}: {remedy}"
        );
    }
}
