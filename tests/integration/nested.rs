//! Nested hierarchies with real components on loopback: Debian's `docker-registry` (the
//! distribution registry, as the top layer's registry module) behind nginx with TLS standing in
//! for a parent's API proxy module, each started from a temporary directory on 127.0.0.1. The
//! registry gets a tiny image pushed with its own API (blob upload, manifest PUT) before the
//! checks ask for it. Nothing leaves the loopback: names are mapped with the tree's hosts file,
//! edgeAgent's ExtraHosts or `--resolve`, and DNS, where asked at all, is a closed loopback port.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

use crate::brokers::{Server, configured_server, free_port, nginx_serving, path_text};
use crate::gateway_mode::{Tree, assert_result, check, check_args, serve, strings};
use crate::harness::{Report, assert_contains, fixture, port_flags, ports_of, targets_file};

const PARENT: &str = "gateway.edgeprobe.test";
const NESTED: &str = "parent-registry,agent-image-upstream";

/// `docker-registry serve` with filesystem storage in its own temporary directory.
fn registry() -> Option<Server> {
    configured_server(
        "docker-registry",
        |port, directory| {
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}/data\nhttp:\n  addr: 127.0.0.1:{port}\n",
                path_text(directory)
            )
        },
        |command, config, _| {
            command.arg("serve").arg(config);
        },
    )
}

/// What the API proxy stand-in does with `/v2`.
enum Route {
    /// `location /v2` proxied to this port, as the API proxy's DOCKER_REQUEST_ROUTE_ADDRESS does.
    Registry(u16),
    /// No `/v2` route: every path is 404.
    None,
}

/// nginx with TLS on 127.0.0.1, presenting the top layer's edgeHub chain for `PARENT` (the
/// API proxy module serves the parent's server certificate on 443).
fn api_proxy(route: Route) -> Option<Server> {
    let v2 = match route {
        Route::Registry(registry) => format!(
            "location /v2 {{ proxy_http_version 1.1; proxy_pass http://127.0.0.1:{registry}; }}\n"
        ),
        Route::None => String::new(),
    };
    nginx_serving(
        &fixture("gateway/pki/top-edgehub-full-chain.pem"),
        &fixture("gateway/pki/top-edgehub.key.pem"),
        &format!("{v2}location / {{ return 404; }}\n"),
    )
}

/// A registry holding `azureiotedge-agent:1.5` and the API proxy routing `/v2` to it (both
/// kept running while the pair lives); `None` where either server is missing.
fn registry_behind_api_proxy() -> Option<(Server, Server)> {
    let registry = registry()?;
    push_image(registry.port, "azureiotedge-agent", "1.5");
    let proxy = api_proxy(Route::Registry(registry.port))?;
    Some((registry, proxy))
}

/// One plain HTTP/1.1 request to the registry: the status and the Location header.
fn http(port: u16, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("registry listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("request");
    stream.write_all(body).expect("body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Response::new(&mut headers);
    parsed.parse(&response).expect("an HTTP response");
    let location = parsed
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case("location"))
        .map(|header| String::from_utf8_lossy(header.value).into_owned())
        .unwrap_or_default();
    (parsed.code.expect("a status"), location)
}

/// Uploads `blob` (monolithic upload: POST, then PUT with the digest) and returns its digest.
fn upload_blob(port: u16, repository: &str, blob: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, blob);
    let digest: String = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let digest = format!("sha256:{digest}");
    let (status, location) = http(
        port,
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        "application/octet-stream",
        b"",
    );
    assert_eq!(status, 202, "blob upload not started");
    let path = &location[location.find("/v2/").expect("an upload URL")..];
    let separator = if path.contains('?') { '&' } else { '?' };
    let (status, _) = http(
        port,
        "PUT",
        &format!("{path}{separator}digest={digest}"),
        "application/octet-stream",
        blob,
    );
    assert_eq!(status, 201, "blob not stored");
    digest
}

/// Pushes a tiny image (a config blob, no layers) as `repository:tag`.
fn push_image(port: u16, repository: &str, tag: &str) {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let digest = upload_blob(port, repository, config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{digest}"}},"layers":[]}}"#,
        config.len()
    );
    let (status, _) = http(
        port,
        "PUT",
        &format!("/v2/{repository}/manifests/{tag}"),
        "application/vnd.docker.distribution.manifest.v2+json",
        manifest.as_bytes(),
    );
    assert_eq!(status, 201, "manifest not stored");
}

/// A lower layer (`fixtures/gateway/config/lower-layer.toml`: parent_hostname = PARENT, the
/// agent's ExtraHosts mapping it to 127.0.0.1) whose edgeAgent image is `image`.
fn lower_layer(image: &str) -> Tree {
    let tree = Tree::new("lower-layer.toml", "/etc/aziot/config.toml", "child");
    tree.copy_replacing(
        "/etc/aziot/config.toml",
        "config/lower-layer.toml",
        "$upstream:443/azureiotedge-agent:1.5",
        image,
    );
    tree.write("/etc/hostname", "child\n");
    tree.write(
        "/etc/hosts",
        &format!("127.0.0.1 localhost\n127.0.0.1 {PARENT}\n"),
    );
    tree
}

/// The two nested checks (and what they need) against the parent's HTTPS port `port`.
async fn check_nested(tree: &Tree, port: u16, extra: &[&str]) -> Report {
    let mut args = strings(&["--only", NESTED, "--parent-port"]);
    args.push(format!("https={port}"));
    args.extend(strings(extra));
    check(tree, &args).await.json()
}

/// `agent-image-upstream` (with `extra`) on a machine that resolves no names: the only DNS
/// server is a closed loopback port, so nothing leaves the machine.
fn without_dns(extra: &[&str]) -> Vec<String> {
    let mut args = strings(&["--only", "agent-image-upstream"]);
    args.extend(strings(extra));
    args.extend(strings(&["--dns-server", "127.0.0.1:9", "--timeout", "1s"]));
    args
}

fn text(report: &Report, id: &str) -> String {
    let entry = report.check(id);
    format!(
        "{} {}",
        entry.message,
        entry.remedy.as_deref().unwrap_or_default()
    )
}

/// `id` is `result` with HTTP `status`, and its message or remedy says each of `parts`.
#[track_caller]
fn assert_answer(report: &Report, id: &str, result: &str, status: u16, parts: &[&str]) {
    assert_result(report, id, result);
    assert_eq!(report.check(id).additional_info["status"], status, "{id}");
    let found = text(report, id);
    for part in parts {
        assert_contains(&found, part);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_layer_pulls_its_agent_through_the_parents_api_proxy_from_a_real_registry() {
    let Some((_registry, proxy)) = registry_behind_api_proxy() else {
        return;
    };
    let tree = lower_layer("$upstream:443/azureiotedge-agent:1.5");
    let report = check_nested(&tree, proxy.port, &[]).await;
    assert_result(&report, "parent-registry", "ok");
    let info = &report.check("parent-registry").additional_info;
    assert_eq!(info["status"], 200);
    assert_eq!(info["distribution_api_version"], "registry/2.0");
    assert_eq!(info["address_source"], "extra_hosts");
    assert_eq!(info["verify_code"], 0);
    assert_eq!(info["url"], format!("https://{PARENT}:{}/v2/", proxy.port));
    assert_result(&report, "agent-image-upstream", "ok");
    let info = &report.check("agent-image-upstream").additional_info;
    assert_eq!(info["status"], 200);
    assert_eq!(info["image"], "$upstream:443/azureiotedge-agent:1.5");
    assert!(text(&report, "agent-image-upstream").contains("/v2/azureiotedge-agent/manifests/1.5"));

    // A repository the registry does not have: 404 from the registry itself.
    let tree = lower_layer("$upstream:443/azureiotedge-missing:1.5");
    let report = check_nested(&tree, proxy.port, &[]).await;
    assert_result(&report, "parent-registry", "ok");
    assert_answer(
        &report,
        "agent-image-upstream",
        "error",
        404,
        &[
            "has no azureiotedge-missing:1.5",
            "REGISTRY_PROXY_REMOTEURL",
        ],
    );

    // Without a trust bundle the answer is not trusted: a warning, never OK.
    let config = std::fs::read_to_string(tree.root().join("etc/aziot/config.toml"))
        .expect("config")
        .replace("azureiotedge-missing", "azureiotedge-agent")
        .lines()
        .filter(|line| !line.starts_with("trust_bundle_cert"))
        .map(|line| format!("{line}\n"))
        .collect::<String>();
    tree.write("/etc/aziot/config.toml", &config);
    let report = check_nested(&tree, proxy.port, &[]).await;
    assert_result(&report, "parent-registry", "warning");
    assert!(text(&report, "parent-registry").contains("trust_bundle_cert"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_with_the_api_proxy_but_no_registry_is_a_502_naming_the_registry_module() {
    // The route points at a port nothing listens on: nginx answers 502 Bad Gateway.
    let Some(proxy) = api_proxy(Route::Registry(free_port())) else {
        return;
    };
    let tree = lower_layer("$upstream:443/azureiotedge-agent:1.5");
    let report = check_nested(&tree, proxy.port, &[]).await;
    for id in ["parent-registry", "agent-image-upstream"] {
        let parts = ["the registry behind it does not", "registry:5000"];
        assert_answer(&report, id, "error", 502, &parts);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_without_the_v2_route_or_without_the_api_proxy_is_a_404() {
    let Some(proxy) = api_proxy(Route::None) else {
        return;
    };
    let tree = lower_layer("$upstream:443/azureiotedge-agent:1.5");
    let report = check_nested(&tree, proxy.port, &[]).await;
    let parts = ["routes no `/v2`", "DOCKER_REQUEST_ROUTE_ADDRESS"];
    assert_answer(&report, "parent-registry", "error", 404, &parts);

    // edgeHub itself on the parent's 443 (the simulator answers 404 as edgeHub does).
    let edgehub = serve("top-edgehub-full-chain.pem", "top-edgehub.key.pem").await;
    let report = check_nested(&tree, edgehub.ports.https, &[]).await;
    assert_result(&report, "parent-registry", "error");
    let found = text(&report, "parent-registry");
    assert_contains(&found, "the API proxy module is not deployed");
    assert_contains(&found, "azureiotedge-api-proxy");
    assert!(
        !found.contains("8883"),
        "the registry route needs only 443: {found}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_layer_whose_agent_image_names_mcr_directly_is_an_error_with_the_upstream_fix() {
    let tree = lower_layer("mcr.microsoft.com/azureiotedge-agent:1.5");
    // No route to the internet: the only DNS server is a closed loopback port.
    let report = check(&tree, &without_dns(&[])).await.json();
    assert_result(&report, "agent-image-upstream", "error");
    let found = text(&report, "agent-image-upstream");
    assert_contains(&found, "cannot reach");
    assert_contains(&found, "\"$upstream:443/azureiotedge-agent:1.5\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_top_layer_registry_module_answers_on_its_published_port() {
    let Some(mut registry) = registry() else {
        return;
    };
    let tree = Tree::top_layer();
    let port = registry.port.to_string();
    let args = [
        "--only",
        "parent-registry",
        "--top-layer",
        "--registry-port",
        &port,
    ];
    let report = check_args(&tree, &args).await.json();
    assert_result(&report, "parent-registry", "ok");
    let info = &report.check("parent-registry").additional_info;
    assert_eq!(info["url"], format!("http://127.0.0.1:{port}/v2/"));
    assert_eq!(info["address_source"], "loopback");

    registry.stop();
    let report = check_args(&tree, &args).await.json();
    assert_result(&report, "parent-registry", "error");
    assert!(text(&report, "parent-registry").contains("registry:latest"));

    // Without --top-layer and without a parent, a gateway is not part of a hierarchy.
    let report = check_args(&tree, &["--only", NESTED]).await.json();
    assert_result(&report, "parent-registry", "skipped");
    assert_result(&report, "agent-image-upstream", "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_top_layer_reaches_its_agent_images_registry_or_says_it_cannot_tell() {
    let Some((_registry, proxy)) = registry_behind_api_proxy() else {
        return;
    };
    // The configured registry stands in for mcr.microsoft.com: named with its port, trusted
    // through the tree's OS store (which holds the fixtures' root).
    let tree = Tree::top_layer();
    tree.copy_replacing(
        "/etc/aziot/config.toml",
        "config/top-layer.toml",
        "mcr.microsoft.com/azureiotedge-agent:1.5",
        &format!("{PARENT}:{}/azureiotedge-agent:1.5", proxy.port),
    );
    let resolve = format!("{PARENT}:127.0.0.1");
    let report = check_args(
        &tree,
        &[
            "--only",
            "agent-image-upstream",
            "--top-layer",
            "--resolve",
            &resolve,
        ],
    )
    .await
    .json();
    assert_result(&report, "agent-image-upstream", "ok");
    assert!(text(&report, "agent-image-upstream").contains("200 OK"));
    report.assert_text_contains("agent-image-upstream", "needs outbound TCP");

    // mcr.microsoft.com itself, from a machine that resolves no names: skipped, never an error.
    let tree = Tree::top_layer();
    let report = check(&tree, &without_dns(&["--top-layer"])).await.json();
    assert_result(&report, "agent-image-upstream", "skipped");
    let found = text(&report, "agent-image-upstream");
    assert_contains(&found, "needs outbound TCP 443 to mcr.microsoft.com");
}

/// `check --targets` over a file naming each layer's gateway with its root: one row per layer.
#[tokio::test(flavor = "multi_thread")]
async fn a_targets_file_of_each_layers_gateway_gives_one_row_per_layer() {
    use edgeprobe::demo::server::{SimulatorConfig, start};
    use edgeprobe::pki::load::{load_certificates, load_private_key};
    let load = |name: &str| {
        (
            load_certificates(&fixture(&format!(
                "gateway/pki/{name}-edgehub-full-chain.pem"
            )))
            .expect("chain"),
            load_private_key(&fixture(&format!("gateway/pki/{name}-edgehub.key.pem")))
                .expect("key"),
        )
    };
    let (chain, key) = load("top");
    let top = start(SimulatorConfig::loopback(chain, key, Vec::new()))
        .await
        .expect("top layer");
    // The lower layer on 127.0.0.2, on the same ports: `--port` applies to every line.
    let (chain, key) = load("child");
    let mut config = SimulatorConfig::loopback(chain, key, Vec::new());
    config.bind = std::net::IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    config.ports = top.ports;
    let child = start(config).await.expect("lower layer");
    let (directory, targets) = targets_file(
        "hierarchy.txt",
        &format!(
            "# top layer, then the layer below it\n{PARENT} root.pem\nchild.edgeprobe.test root.pem\n"
        ),
        &[("gateway/pki/root-ca.pem", "root.pem")],
    );
    let mut args: Vec<String> = vec![
        "check".into(),
        "--targets".into(),
        targets.display().to_string(),
        "--resolve".into(),
        format!("{PARENT}:127.0.0.1"),
        "--resolve".into(),
        "child.edgeprobe.test:127.0.0.2".into(),
    ];
    args.extend(port_flags("--port", ports_of(&top)));
    args.extend(["--output".into(), "jsonl".into()]);
    // Each line's root is installed in this device's OS store (harness::edgeprobe_trusting).
    let root = directory.path().join("root.pem");
    let output: crate::harness::Run = tokio::task::spawn_blocking(move || {
        crate::harness::edgeprobe_trusting(&root)
            .args(&args)
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("ran")
    .into();
    let rows: Vec<serde_json::Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 2, "{}", output.all());
    let mut gateways = Vec::new();
    for row in &rows {
        crate::harness::assert_valid(crate::harness::Schema::TargetResult, row);
        assert_eq!(row["verdict"], "ok", "{row}");
        gateways.push(row["gateway"].as_str().unwrap_or_default().to_owned());
    }
    // Rows stream out as gateways finish, in any order.
    gateways.sort();
    assert_eq!(gateways, ["child.edgeprobe.test", PARENT]);
    assert_eq!(output.code, 0, "{}", output.all());
    drop((top, child));
}
