//! The JSON Schemas in docs/ are what the report types generate; docs/json-schema.md's
//! reference is what the schemas say and names only real check ids; its examples are real
//! output of every mode (leaf, gateway, JSON Lines, fleet) that validates against them. (Every
//! other test that reads a report validates it too, through the harness.)
//!
//! The examples are written by this file's last test when `EDGEPROBE_WRITE_DOC_EXAMPLES=1`:
//! `EDGEPROBE_WRITE_DOC_EXAMPLES=1 cargo test --test integration schema::` then
//! `cargo run --example generate_schemas` to embed them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use edgeprobe::report::schema::{self, DOC, EXAMPLES, FILES, REGENERATE};
use serde::Deserialize;

use crate::gateway_mode::{Tree, check as check_gateway, strings, top_edgehub};
use crate::harness::{
    LOOPBACK_GATEWAY, Run, Schema, assert_valid, check_loopback, fixture, fixture_gateway,
    registered_check_ids, run, serve_fixture, targets_file,
};

fn repository(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read_example(name: &str) -> std::io::Result<String> {
    std::fs::read_to_string(repository(schema::EXAMPLES_DIR).join(name))
}

#[test]
fn checked_in_schemas_are_what_the_types_generate() {
    for file in FILES {
        let on_disk = std::fs::read_to_string(repository(file.path)).unwrap_or_default();
        assert!(
            on_disk == schema::render(&(file.generate)()),
            "{} is out of date with the report types: run `{REGENERATE}`",
            file.path
        );
        let parsed: serde_json::Value = serde_json::from_str(&on_disk).expect("JSON");
        jsonschema::meta::validate(&parsed)
            .unwrap_or_else(|error| panic!("{} is not a valid JSON Schema: {error}", file.path));
    }
}

#[test]
fn the_reference_in_json_schema_md_is_current() {
    let doc = std::fs::read_to_string(repository(DOC)).expect("docs/json-schema.md");
    let rebuilt = schema::with_reference(&doc, read_example).expect("markers and examples");
    assert!(
        doc == rebuilt,
        "{DOC}'s generated reference is out of date: run `{REGENERATE}`"
    );
}

/// Words in backticks or JSON keys that look like check ids but are not: values, flags and
/// file names the doc mentions.
const NOT_CHECK_IDS: &[&str] = &[
    "hosts-file",
    "ip-literal",
    "targets-file",
    "kebab-case",
    "full-chain",
    "root-ca",
    "device-ca",
    "test-only",
    "edge-ca",
];

#[test]
fn json_schema_md_names_only_registered_check_ids() {
    let registered = registered_check_ids();
    let doc = std::fs::read_to_string(repository(DOC)).expect("docs/json-schema.md");
    let mut unknown = BTreeSet::new();
    // Words, with file names and paths kept whole (`device-ca-full-chain.pem` is not an id).
    let words = doc
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '.' | '/' | '_')));
    for token in words.map(|word| word.trim_end_matches('.')) {
        let family = token.strip_suffix("-*");
        let word = family.unwrap_or(token);
        let looks_like_an_id = word.contains('-')
            && !word.starts_with('-')
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && word.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if !looks_like_an_id || NOT_CHECK_IDS.contains(&word) {
            continue;
        }
        let known = match family {
            Some(prefix) => registered
                .iter()
                .any(|id| id.starts_with(&format!("{prefix}-"))),
            None => {
                registered.contains(word)
                    || registered
                        .iter()
                        .any(|id| id.starts_with(&format!("{word}-")))
            }
        };
        if !known && is_id_shaped(word) {
            unknown.insert(word.to_owned());
        }
    }
    assert!(
        unknown.is_empty(),
        "{DOC} names check ids that are not registered: {unknown:?}"
    );
}

/// Check ids start with what the registry's ids start with; other kebab-case words (`x509-cert`,
/// `well-known`) are prose.
fn is_id_shaped(word: &str) -> bool {
    [
        "gateway-",
        "root-ca-",
        "connection-",
        "config-",
        "certificates-",
        "device-ca-",
        "stale-",
        "edgehub-",
        "parent-",
        "iothub-",
        "hostname-",
    ]
    .iter()
    .any(|prefix| word.starts_with(prefix))
}

#[test]
fn the_examples_in_the_docs_are_valid_output() {
    for example in EXAMPLES {
        let text = read_example(example.file)
            .unwrap_or_else(|error| panic!("{}/{}: {error}", schema::EXAMPLES_DIR, example.file));
        let schema = match example.schema {
            "report" => Schema::Report,
            "target-result" => Schema::TargetResult,
            _ => Schema::Fleet,
        };
        if example.file.ends_with(".jsonl") {
            for line in text.lines() {
                assert_valid(schema, &serde_json::from_str(line).expect("a JSON line"));
            }
        } else {
            assert_valid(schema, &serde_json::from_str(&text).expect("JSON"));
        }
    }
}

/// A fleet document read the way a consumer would (docs/json-schema.md, "Fleet mode"): the
/// schema says what may be there, these types what a script relies on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // fields are read by the deserializer
struct FleetDocument {
    schema_version: String,
    tool: serde_json::Value,
    ports: serde_json::Value,
    targets: Vec<serde_json::Value>,
    summary: serde_json::Value,
    verdict: String,
    elapsed_ms: f64,
}

/// Every mode's real output validates against the checked-in schema, and, when asked, becomes
/// the examples of docs/json-schema.md (ephemeral ports shown as the defaults, temporary
/// directories as the paths a device would have).
#[tokio::test(flavor = "multi_thread")]
async fn every_mode_validates_against_the_schema() {
    let write = std::env::var_os("EDGEPROBE_WRITE_DOC_EXAMPLES").is_some();

    // Leaf: a healthy gateway, with a connection string and a copy of the gateway's config.
    let healthy = fixture_gateway().await;
    let healthy_ports = [healthy.ports.mqtt, healthy.ports.amqp, healthy.ports.https];
    let connection_string = format!(
        "HostName=hub.azure-devices.net;DeviceId=leaf-01;SharedAccessKey={};GatewayHostName={LOOPBACK_GATEWAY}",
        "ZXhhbXBsZS1rZXktbm90LWEtcmVhbC1vbmUtMzJieXQ="
    );
    let gateway_config = fixture("gateway/config/top-layer.toml")
        .display()
        .to_string();
    let leaf_flags = [
        "--connection-string",
        connection_string.as_str(),
        "--gateway-config",
        gateway_config.as_str(),
    ];
    let leaf = check_loopback(healthy_ports, &fixture("root-ca.pem"), "5s", &leaf_flags).await;
    let report = leaf.json();
    assert_eq!(leaf.code, 0, "{}", leaf.all());
    let not_ok: Vec<String> = report
        .checks
        .iter()
        .filter(|(_, entry)| entry.result.result != "ok")
        .map(|(id, _)| report.text_of(id))
        .collect();
    assert_eq!(report.verdict, "ok", "{not_ok:?}");
    for id in [
        "connection-string",
        "gateway-hostname-matches-config",
        "root-ca-file",
    ] {
        assert_eq!(report.result(id), "ok", "{}", report.text_of(id));
    }
    let jsonl = check_loopback(
        healthy_ports,
        &fixture("root-ca.pem"),
        "5s",
        &["--output", "jsonl"],
    )
    .await;
    assert_eq!(jsonl.code, 0, "{}", jsonl.all());
    assert_valid(
        Schema::TargetResult,
        &serde_json::from_str(&jsonl.stdout).expect("one JSON line"),
    );

    // Leaf: a gateway that sends only its own certificate, and a CA file from another PKI.
    let leaf_only = serve_fixture("server.pem", "server.key.pem", &[]).await;
    let broken_ports = [
        leaf_only.ports.mqtt,
        leaf_only.ports.amqp,
        leaf_only.ports.https,
    ];
    let broken = check_loopback(broken_ports, &fixture("other-root-ca.pem"), "5s", &[]).await;
    assert_eq!(broken.json().result("gateway-cert-chain"), "error");
    assert_eq!(broken.code, 1);

    // Gateway mode: a top-layer IoT Edge gateway whose edgeHub is simulated.
    let tree = Tree::top_layer();
    let (edgehub, extra) = top_edgehub().await;
    let gateway = check_gateway(&tree, &extra).await;
    let gateway_report = gateway.json();
    assert_eq!(gateway.code, 0, "{}", gateway.all());
    assert!(gateway_report.target.config.is_some());

    // Fleet mode: two gateways (one with the wrong root) and a line that names none.
    let (directory, targets) = targets_file(
        "gateways.txt",
        "# gateway [CA file]\ngw-001.edgeprobe.test\ngw-002.edgeprobe.test wrong-root.pem\nnot a host name\n",
        &[
            ("root-ca.pem", "root.pem"),
            ("other-root-ca.pem", "wrong-root.pem"),
        ],
    );
    let hosts = directory.path().join("hosts");
    std::fs::write(
        &hosts,
        "127.0.0.1 gw-001.edgeprobe.test gw-002.edgeprobe.test\n",
    )
    .expect("hosts file");
    let closed_dns = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|socket| socket.local_addr())
        .expect("a free loopback port");
    let fleet_args = |output: &str| -> Vec<String> {
        let mut args = strings(&["check", "--targets"]);
        args.push(targets.display().to_string());
        args.extend(strings(&["--ca-file"]));
        args.push(directory.path().join("root.pem").display().to_string());
        args.extend(strings(&["--hosts-file"]));
        args.push(hosts.display().to_string());
        args.extend(strings(&["--dns-server"]));
        args.push(closed_dns.to_string());
        for (protocol, port) in ["mqtt", "amqp", "https"].iter().zip(healthy_ports) {
            args.push("--port".into());
            args.push(format!("{protocol}={port}"));
        }
        args.extend(strings(&["--timeout", "5s", "--output", output]));
        args
    };
    let fleet_json = run_args(fleet_args("json")).await;
    assert_eq!(fleet_json.code, 1, "{}", fleet_json.all());
    let document: serde_json::Value =
        serde_json::from_str(&fleet_json.stdout).expect("one JSON document");
    assert_valid(Schema::Fleet, &document);
    let read: FleetDocument = serde_json::from_value(document).expect("the documented fields");
    assert_eq!(read.targets.len(), 3);
    let fleet_jsonl = run_args(fleet_args("jsonl")).await;
    for line in fleet_jsonl.stdout.lines() {
        assert_valid(
            Schema::TargetResult,
            &serde_json::from_str(line).expect("a JSON line"),
        );
    }
    assert_eq!(fleet_jsonl.stdout.lines().count(), 3);

    if write {
        let manifest = format!("{}/", env!("CARGO_MANIFEST_DIR"));
        let tree_root = tree.root().display().to_string();
        let temporary = format!("{}/", directory.path().display());
        let leaf_paths = [
            (
                format!("{manifest}fixtures/gateway/config/"),
                "/home/tech/".to_owned(),
            ),
            (format!("{manifest}fixtures/"), "/home/tech/".to_owned()),
        ];
        let defaults = |ports: [u16; 3]| -> Vec<(u16, u16)> {
            ports.into_iter().zip([8883, 5671, 443]).collect()
        };
        let edgehub_ports = [edgehub.ports.mqtt, edgehub.ports.amqp, edgehub.ports.https];
        let fleet_paths = [(temporary, "/etc/edgeprobe/".to_owned())];
        let gateway_paths = [(tree_root, String::new())];
        let outputs = [
            Shown::new("leaf.json", &leaf, &leaf_paths, defaults(healthy_ports)),
            Shown::new(
                "leaf-broken-chain.json",
                &broken,
                &leaf_paths,
                defaults(broken_ports),
            ),
            Shown::new(
                "gateway.json",
                &gateway,
                &gateway_paths,
                defaults(edgehub_ports),
            ),
            Shown::new(
                "fleet.json",
                &fleet_json,
                &fleet_paths,
                defaults(healthy_ports),
            ),
            Shown::new(
                "fleet.jsonl",
                &fleet_jsonl,
                &fleet_paths,
                defaults(healthy_ports),
            ),
        ];
        let directory = repository(schema::EXAMPLES_DIR);
        std::fs::create_dir_all(&directory).expect("docs/examples");
        for shown in outputs {
            std::fs::write(directory.join(shown.file), shown.text).expect("example written");
        }
    }
}

/// One output as the docs show it.
struct Shown {
    file: &'static str,
    text: String,
}

impl Shown {
    /// `run`'s stdout with each temporary path and ephemeral port replaced.
    fn new(
        file: &'static str,
        run: &Run,
        paths: &[(String, String)],
        ports: Vec<(u16, u16)>,
    ) -> Shown {
        let mut text = run.stdout.clone();
        for (from, to) in paths {
            text = text.replace(from.as_str(), to);
        }
        for (from, to) in ports {
            text = replace_number(&text, from, to);
        }
        Shown { file, text }
    }
}

async fn run_args(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("the binary ran")
}

/// `text` with the number `from` replaced by `to` wherever it stands alone (not inside a
/// longer number, such as a Unix time).
fn replace_number(text: &str, from: u16, to: u16) -> String {
    let from = from.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find(&from) {
        let before = rest[..position].chars().last().or(out.chars().last());
        let after = rest[position + from.len()..].chars().next();
        out.push_str(&rest[..position]);
        if before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit()) {
            out.push_str(&from);
        } else {
            out.push_str(&to.to_string());
        }
        rest = &rest[position + from.len()..];
    }
    out.push_str(rest);
    out
}
