//! Through a real HTTP proxy (Debian's tinyproxy, started by each test on 127.0.0.1): the
//! leaf suite through `--proxy` and `https_proxy`, a CONNECT refused by the proxy's port rule
//! (403), a password proxy (407, the password in no output), no proxy listening, the gateway
//! suite taking the proxy from `[agent.env]`, and which upstream ports `UpstreamProtocol`
//! requires. The gateways are the in-process simulator, issued for `localhost` so the proxy can
//! resolve the name itself (from /etc/hosts) without any outside DNS.

use edgeprobe::demo::server::RunningGateway;
use edgeprobe::net::Protocol;

use crate::brokers::{Server, configured_server, free_port};
use crate::gateway_mode::{Tree, assert_result, check, message, ports, serve, strings};
use crate::harness::{Report, Run, assert_contains, edgeprobe, simulated, temp_file};

/// A name every machine resolves, and so does the proxy.
const GATEWAY: &str = "localhost";

/// The proxy's password in the tests that need one: it must appear in no output.
const PASSWORD: &str = "Pr0xy-s3cret-word";

/// tinyproxy on a free loopback port with `rules` (tinyproxy.conf lines) added; `-d` keeps it
/// in the foreground, logging to stderr, so the test owns the process.
fn tinyproxy(rules: &str) -> Option<Server> {
    configured_server(
        "tinyproxy",
        |port, _| {
            format!(
                "Listen 127.0.0.1\nPort {port}\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\n\
LogLevel Info\nDisableViaHeader Yes\n{rules}\n"
            )
        },
        |command, config, _| {
            command.arg("-d").arg("-c").arg(config);
        },
    )
}

fn proxy_url(proxy: &Server, credentials: &str) -> String {
    format!("http://{credentials}127.0.0.1:{}", proxy.port)
}

/// A healthy simulated gateway, and its root CA in a file for `--ca-file`.
struct Simulated {
    running: RunningGateway,
    name: &'static str,
    root: String,
    _directory: tempfile::TempDir,
}

/// A healthy gateway for `name`.
async fn gateway_named(name: &'static str) -> Simulated {
    let (pki, running) = simulated(name).await;
    let (directory, root) = temp_file("root.pem", pki.root_pem());
    Simulated {
        running,
        name,
        root: root.display().to_string(),
        _directory: directory,
    }
}

/// A healthy gateway for `localhost`.
async fn gateway() -> Simulated {
    gateway_named(GATEWAY).await
}

/// `check --gateway localhost` on the simulator's HTTPS port, with `extra`, in `format`.
async fn leaf(
    gateway: &Simulated,
    extra: &[String],
    environment: &[(&str, &str)],
    format: &str,
) -> Run {
    let mut command = edgeprobe();
    command
        .args([
            "check",
            "--gateway",
            gateway.name,
            "--ca-file",
            &gateway.root,
            "--timeout",
            "5s",
        ])
        .args(["--port", &format!("https={}", gateway.running.ports.https)])
        .args(["--output", format])
        .args(extra);
    for (name, value) in environment {
        command.env(name, value);
    }
    tokio::task::spawn_blocking(move || command.output().expect("edgeprobe runs").into())
        .await
        .expect("the binary ran")
}

fn remedy_of(report: &Report, id: &str) -> String {
    report.check(id).remedy.clone().unwrap_or_default()
}

/// Each of `ids` skipped, its reason saying `why`.
fn assert_skipped_saying(report: &Report, ids: &[&str], why: &str) {
    for id in ids {
        assert_result(report, id, "skipped");
        let reason = message(report, id);
        assert!(reason.contains(why), "{id}: {reason}");
    }
}

/// The proxy really carried the connection: tinyproxy logs each CONNECT's target.
fn assert_carried(proxy: &Server, port: u16) {
    let logs = proxy.logs();
    assert_contains(&logs, &format!("{GATEWAY}:{port}"));
}

fn assert_error_kind(report: &Report, id: &str, kind: &str) {
    assert_result(report, id, "error");
    assert_eq!(
        report.check(id).additional_info["error"],
        kind,
        "{id}: {:?}",
        report.check(id).additional_info
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leaf_behind_a_proxy_checks_443_through_it_and_skips_8883_and_5671() {
    let Some(proxy) = tinyproxy("") else { return };
    let gateway = gateway().await;
    let url = proxy_url(&proxy, "");
    // As curl reads it: https_proxy from the environment.
    let output = leaf(&gateway, &[], &[("https_proxy", &url)], "json").await;
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_result(&report, "gateway-connect-https", "ok");
    let connect = report.check("gateway-connect-https");
    assert_eq!(connect.additional_info["proxy"], url.as_str());
    assert!(
        connect
            .result
            .details
            .contains(&format!("through the proxy {url} (https_proxy)")),
        "{:?}",
        connect.result.details
    );
    assert_result(&report, "gateway-protocol-https", "ok");
    assert_result(&report, "gateway-cert-chain", "ok");
    assert_skipped_saying(
        &report,
        &["gateway-connect-mqtt", "gateway-connect-amqp"],
        "443 only",
    );
    assert_carried(&proxy, gateway.running.ports.https);

    // no_proxy (curl's rules) sends the gateway around the proxy; asked for by --port, the
    // MQTT port is then probed directly too.
    let direct = leaf(
        &gateway,
        &strings(&["--port", &format!("mqtt={}", gateway.running.ports.mqtt)]),
        &[("https_proxy", &url), ("no_proxy", ".localhost")],
        "json",
    )
    .await;
    let report = direct.json();
    assert!(report.check("gateway-connect-https").additional_info["proxy"].is_null());
    assert_result(&report, "gateway-connect-mqtt", "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connect_refused_by_the_proxys_port_rule_is_the_403_naming_the_proxy() {
    // Only 443 may be tunnelled; the simulator's HTTPS port is another one.
    let Some(proxy) = tinyproxy("ConnectPort 443") else {
        return;
    };
    let gateway = gateway().await;
    let url = proxy_url(&proxy, "");
    let output = leaf(&gateway, &strings(&["--proxy", &url]), &[], "json").await;
    assert_eq!(output.code, 1, "{}", output.all());
    let report = output.json();
    assert_error_kind(&report, "gateway-connect-https", "proxy_rejected");
    let text = message(&report, "gateway-connect-https");
    assert_contains(&text, &url);
    assert_contains(&text, "403 Access violation");
    let remedy = remedy_of(&report, "gateway-connect-https");
    assert_contains(&remedy, "ConnectPort");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_that_is_not_listening_is_named_with_its_fix() {
    let gateway = gateway().await;
    let url = format!("http://127.0.0.1:{}", free_port());
    let output = leaf(&gateway, &strings(&["--proxy", &url]), &[], "json").await;
    assert_eq!(output.code, 1, "{}", output.all());
    let report = output.json();
    assert_error_kind(&report, "gateway-connect-https", "proxy_refused");
    let text = message(&report, "gateway-connect-https");
    assert_contains(&text, &format!("proxy {url}"));
    let remedy = remedy_of(&report, "gateway-connect-https");
    assert_contains(&remedy, "cannot be reached");
    // A malformed URL is a usage error naming the flag, never a panic.
    let bad = leaf(
        &gateway,
        &strings(&["--proxy", "socks5://127.0.0.1:1"]),
        &[],
        "json",
    )
    .await;
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert_contains(&bad.stderr, "--proxy=socks5://");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_proxy_answers_407_and_the_password_never_shows() {
    let Some(proxy) = tinyproxy(&format!("BasicAuth operator {PASSWORD}")) else {
        return;
    };
    let gateway = gateway().await;

    let anonymous = leaf(
        &gateway,
        &strings(&["--proxy", &proxy_url(&proxy, "")]),
        &[],
        "json",
    )
    .await;
    let report = anonymous.json();
    assert_error_kind(
        &report,
        "gateway-connect-https",
        "proxy_authentication_required",
    );
    assert!(message(&report, "gateway-connect-https").contains("407"));
    let remedy = remedy_of(&report, "gateway-connect-https");
    assert_contains(&remedy, "before the host");

    // Wrong password: still 407, told apart; right one: through. In every format, from the
    // flag and from the environment, the password is never printed.
    let wrong = format!("{PASSWORD}-not");
    for (password, expected) in [(wrong.as_str(), "error"), (PASSWORD, "ok")] {
        let url = proxy_url(&proxy, &format!("operator:{password}@"));
        for format in ["text", "json", "jsonl", "prometheus"] {
            for (mut extra, environment) in [
                (strings(&["--proxy", &url]), vec![]),
                (Vec::new(), vec![("HTTPS_PROXY", url.as_str())]),
            ] {
                if format == "text" {
                    extra.push("--verbose".to_owned());
                }
                let output = leaf(&gateway, &extra, &environment, format).await;
                assert!(
                    !output.all().contains(PASSWORD),
                    "{format}: {}",
                    output.all()
                );
                if format == "json" {
                    let report = output.json();
                    assert_result(&report, "gateway-connect-https", expected);
                    if expected == "error" {
                        assert!(
                            message(&report, "gateway-connect-https")
                                .contains("to the credentials given")
                        );
                    }
                    let shown =
                        report.check("gateway-connect-https").additional_info["proxy"].clone();
                    assert_eq!(
                        shown,
                        format!("http://operator:<redacted>@127.0.0.1:{}", proxy.port)
                    );
                }
            }
        }
    }
}

/// A gateway tree whose config gets `[agent.env]` with `env` (TOML lines).
fn with_agent_env(tree: &Tree, env: &str) {
    let path = tree.path("/etc/aziot/config.toml");
    let mut text = std::fs::read_to_string(&path).expect("config");
    text.push_str(&format!("\n[agent.env]\n{env}\n"));
    std::fs::write(&path, text).expect("config written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_top_layer_gateway_reaches_iot_hub_through_the_proxy_in_its_config() {
    let Some(proxy) = tinyproxy(&format!("BasicAuth operator {PASSWORD}")) else {
        return;
    };
    // IoT Hub, simulated for `localhost`; its root in the OS trust store.
    let (pki, hub) = simulated(GATEWAY).await;
    let tree = Tree::top_layer();
    tree.write("/etc/ssl/certs/ca-certificates.crt", &pki.root_pem());
    let url = proxy_url(&proxy, &format!("operator:{PASSWORD}@"));
    with_agent_env(
        &tree,
        &format!("https_proxy = \"{url}\"\nUpstreamProtocol = \"AmqpWs\""),
    );
    let extra = strings(&[
        "--iothub-hostname",
        GATEWAY,
        "--iothub-port",
        &format!("https={}", hub.ports.https),
        "--skip",
        "edgehub-listening-mqtt,edgehub-listening-amqp,edgehub-listening-https",
    ]);
    let output = check(&tree, &extra).await;
    output.assert_not_shown(PASSWORD);
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_result(&report, "iothub-connect-https", "ok");
    let details = &report.check("iothub-connect-https").result.details;
    assert!(
        details.iter().any(|line| line
            .contains("through the proxy http://operator:<redacted>@127.0.0.1")
            && line.contains("[agent.env] https_proxy in")),
        "{details:?}"
    );
    assert_skipped_saying(
        &report,
        &["iothub-connect-mqtt", "iothub-connect-amqp"],
        "UpstreamProtocol=AmqpWs",
    );
    assert_carried(&proxy, hub.ports.https);

    // A proxy that is not there is named, with the setting that holds it.
    let gone = format!("http://127.0.0.1:{}", free_port());
    let tree = Tree::top_layer();
    with_agent_env(
        &tree,
        &format!("https_proxy = \"{gone}\"\nUpstreamProtocol = \"AmqpWs\""),
    );
    let report = check(&tree, &extra).await.json();
    assert_error_kind(&report, "iothub-connect-https", "proxy_refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nested_child_whose_parent_serves_only_443_and_5671_passes_with_amqp() {
    const TOP: &str = "gateway.edgeprobe.test";
    // The parent of Microsoft's nested guide: 443 and 5671 open, nothing on 8883.
    let parent = crate::harness::serve_fixture(
        "gateway/pki/top-edgehub-full-chain.pem",
        "gateway/pki/top-edgehub.key.pem",
        &[Protocol::Mqtt],
    )
    .await;
    let child_edgehub = serve("child-edgehub-full-chain.pem", "child-edgehub.key.pem").await;
    for upstream in ["UpstreamProtocol = \"Amqp\"", ""] {
        let tree = Tree::new("lower-layer.toml", "/etc/aziot/config.toml", "child");
        tree.write("/etc/hostname", "child\n");
        tree.write(
            "/etc/hosts",
            &format!("127.0.0.1 localhost\n127.0.0.1 {TOP}\n"),
        );
        with_agent_env(&tree, upstream);
        let mut extra = ports("--port", &child_edgehub);
        extra.extend(strings(&[
            "--parent-port",
            &format!("amqp={}", parent.ports.amqp),
            "--parent-port",
            &format!("https={}", parent.ports.https),
            // The simulated parent serves edgeHub's ports, not the nested registry route.
            "--skip",
            "parent-registry,agent-image-upstream",
        ]));
        let output = check(&tree, &extra).await;
        let report = output.json();
        assert_eq!(output.code, 0, "{upstream}: {}", output.all());
        assert_result(&report, "parent-connect-amqp", "ok");
        assert_result(&report, "parent-connect-https", "ok");
        assert_skipped_saying(&report, &["parent-connect-mqtt"], "not required");

        // Asked for by name, 8883 is probed, and the closed port is the error it is.
        extra.extend(strings(&[
            "--parent-port",
            &format!("mqtt={}", parent.ports.mqtt),
        ]));
        let report = check(&tree, &extra).await.json();
        assert_error_kind(&report, "parent-connect-mqtt", "refused");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_that_cannot_resolve_the_gateway_leaves_the_name_to_the_proxy() {
    // This device resolves nothing (an empty hosts file, a DNS server that does not answer),
    // and `.invalid` (RFC 6761) resolves nowhere, so no proxy may be asked to look it up
    // either: the proxy is a closed port. The connect check must still run, through it.
    let (_directory, empty) = temp_file("hosts", "");
    let hosts = empty.display().to_string();
    let gateway = "gw.edgeprobe.invalid";
    let url = format!("http://127.0.0.1:{}", free_port());
    let flags = |proxy: &str| {
        let mut command = edgeprobe();
        command.args([
            "check",
            "--gateway",
            gateway,
            "--proxy",
            proxy,
            "--hosts-file",
            &hosts,
            "--dns-server",
            "127.0.0.1:9",
            "--timeout",
            "2s",
            "--output",
            "json",
        ]);
        command
    };
    let mut command = flags(&url);
    let run: Run = tokio::task::spawn_blocking(move || command.output().expect("runs").into())
        .await
        .expect("the binary ran");
    let report = run.json();
    assert_result(&report, "gateway-resolve", "warning");
    assert!(message(&report, "gateway-resolve").contains("the proxy resolves the name"));
    assert_error_kind(&report, "gateway-connect-https", "proxy_refused");
    // Without a proxy, the unresolvable name is the error it always was.
    let mut command = flags("");
    let run: Run = tokio::task::spawn_blocking(move || command.output().expect("runs").into())
        .await
        .expect("the binary ran");
    let report = run.json();
    assert_result(&report, "gateway-resolve", "error");
    assert_result(&report, "gateway-connect-https", "skipped");
}
