//! Gateway mode's monitoring outputs (issue 16): `check --output prometheus` and `--output
//! jsonl` on the IoT Edge device itself export the gateway under its own name with each
//! certificate its config names, edgeHub's ports and, on a lower layer, the parent and its
//! ports. The gateway and its parent are the loopback simulator serving the fixture chains;
//! every exposition passes `promtool check metrics`.

use std::collections::BTreeMap;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricFamily, PrometheusType, PrometheusValue};

use crate::exporter::{assert_promtool_accepts, promtool};
use crate::gateway_mode::{
    CONNECTIVITY, IOTHUB, Tree, check, check_args, check_config, ports, serve, strings,
};

const CHILD: &str = "child.edgeprobe.test";
const PARENT: &str = "gateway.edgeprobe.test";

type Family = MetricFamily<PrometheusType, PrometheusValue>;

/// Every sample of `family` as its labels (by name) and value.
fn samples(family: &Family) -> Vec<(BTreeMap<String, String>, f64)> {
    family
        .iter_samples()
        .map(|sample| {
            let labels = sample
                .get_labelset()
                .expect("labels parse")
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let value = match &sample.value {
                PrometheusValue::Gauge(number) => number.as_f64(),
                other => panic!("not a gauge: {other:?}"),
            };
            (labels, value)
        })
        .collect()
}

/// `(gateway, protocol, port)` of every sample of a per-port family, in output order.
fn per_port(family: &Family) -> Vec<(String, String, String)> {
    samples(family)
        .into_iter()
        .map(|(labels, _)| {
            let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
            (label("gateway"), label("protocol"), label("port"))
        })
        .collect()
}

/// A lower-layer gateway's tree (`child`), its parent mapped to loopback.
fn child_tree() -> Tree {
    let tree = Tree::new("lower-layer.toml", "/etc/aziot/config.toml", "child");
    tree.write("/etc/hostname", "child\n");
    tree.write(
        "/etc/hosts",
        &format!("127.0.0.1 localhost\n127.0.0.1 {PARENT}\n"),
    );
    tree
}

/// `check` of `tree` with its parent and own edgeHub as simulators on loopback; `extra` adds to
/// the command line.
async fn nested_child(tree: &Tree, extra: &[&str]) -> (crate::harness::Run, [u16; 3], [u16; 3]) {
    let parent = serve("top-edgehub-full-chain.pem", "top-edgehub.key.pem").await;
    let child = serve("child-edgehub-full-chain.pem", "child-edgehub.key.pem").await;
    let mut args = ports("--port", &child);
    args.extend(ports("--parent-port", &parent));
    // The simulated parent has no API proxy: tests/integration/nested.rs checks that route.
    args.extend(strings(&["--skip", "parent-registry,agent-image-upstream"]));
    args.extend(strings(extra));
    let output = check(tree, &args).await;
    let numbers = |gateway: &edgeprobe::demo::server::RunningGateway| {
        [gateway.ports.mqtt, gateway.ports.amqp, gateway.ports.https]
    };
    (output, numbers(&child), numbers(&parent))
}

fn expected_ports(gateway: &str, numbers: [u16; 3]) -> Vec<(String, String, String)> {
    ["mqtt", "amqp", "https"]
        .into_iter()
        .zip(numbers)
        .map(|(protocol, port)| (gateway.to_owned(), protocol.to_owned(), port.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_layer_exports_its_certificates_its_ports_and_its_parents() {
    let tree = child_tree();
    let (output, child_ports, parent_ports) =
        nested_child(&tree, &["--output", "prometheus"]).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let text = &output.stdout;
    if let Some(promtool) = promtool() {
        assert_promtool_accepts(&promtool, "gateway-mode check --output prometheus", text);
    }
    let exposition = parse_prometheus(text).unwrap_or_else(|error| panic!("{error:?}\n{text}"));
    assert!(!text.contains("gateway=\"\""), "{text}");

    // edgeHub's own ports under the child's name, then the parent's under the parent's.
    let mut expected = expected_ports(CHILD, child_ports);
    expected.extend(expected_ports(PARENT, parent_ports));
    for family in [
        "edgeprobe_verify_code",
        "probe_ssl_earliest_cert_expiry",
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "edgeprobe_connect_seconds",
        "edgeprobe_handshake_seconds",
    ] {
        assert_eq!(
            per_port(&exposition.families[family]),
            expected,
            "{family}\n{text}"
        );
    }
    for (labels, code) in samples(&exposition.families["edgeprobe_verify_code"]) {
        assert_eq!(code, 0.0, "{labels:?}");
    }
    let parent = samples(&exposition.families["edgeprobe_parent_info"]);
    let wanted: BTreeMap<String, String> = [("gateway", CHILD), ("parent", PARENT)]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    assert_eq!(parent, [(wanted, 1.0)], "{text}");
    // The parent was not checked as a gateway here: no verdict is made up for it.
    let success = samples(&exposition.families["probe_success"]);
    assert_eq!(success.len(), 1, "{text}");
    assert_eq!(success[0].0["gateway"], CHILD);

    // Each configured certificate, with the expiry certificates-expiry rated (read from the
    // JSON report of the same tree, which the schema tests check on their own).
    let json = check_config(&tree).await;
    let report = json.json();
    let rated = report.check("certificates-expiry").additional_info["certificates"]
        .as_array()
        .expect("certificates")
        .clone();
    assert!(
        rated.len() >= 3,
        "device CA, its issuer, the root: {rated:?}"
    );
    let exported = samples(&exposition.families["edgeprobe_certificate_expiry_timestamp_seconds"]);
    assert_eq!(exported.len(), rated.len(), "{text}");
    for certificate in &rated {
        let fingerprint = certificate["sha256"]
            .as_str()
            .expect("sha256")
            .replace(':', "")
            .to_ascii_lowercase();
        let found = exported
            .iter()
            .find(|(labels, _)| labels["fingerprint_sha256"] == fingerprint)
            .unwrap_or_else(|| panic!("{certificate} not exported:\n{text}"));
        assert_eq!(found.0["gateway"], CHILD);
        assert_eq!(found.0["check"], "certificates-expiry");
        assert_eq!(found.0["subject"], certificate["subject"].as_str().unwrap());
        assert_eq!(found.0["source"], certificate["source"].as_str().unwrap());
        assert_eq!(
            found.1,
            certificate["not_after_unix"].as_i64().unwrap() as f64
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_layers_jsonl_line_carries_its_certificates_and_its_parent() {
    let (output, child_ports, parent_ports) =
        nested_child(&child_tree(), &["--output", "jsonl"]).await;
    assert_eq!(output.code, 0, "{}", output.all());
    let line: serde_json::Value = serde_json::from_str(output.stdout.trim()).expect("one line");
    crate::harness::assert_valid(crate::harness::Schema::TargetResult, &line);
    assert_eq!(line["gateway"], CHILD, "{line}");
    let numbers = |ports: &serde_json::Value| -> Vec<u64> {
        ports
            .as_array()
            .expect("ports")
            .iter()
            .map(|port| port["port"].as_u64().expect("port"))
            .collect()
    };
    assert_eq!(
        numbers(&line["ports"]),
        child_ports.map(u64::from),
        "{line}"
    );
    assert_eq!(line["parent"]["hostname"], PARENT, "{line}");
    assert_eq!(
        numbers(&line["parent"]["ports"]),
        parent_ports.map(u64::from),
        "{line}"
    );
    for port in line["parent"]["ports"].as_array().expect("ports") {
        assert_eq!(
            (&port["status"], &port["verify_code"]),
            (&"ok".into(), &0.into())
        );
    }
    let certificates = line["certificates"].as_array().expect("certificates");
    assert!(!certificates.is_empty(), "{line}");
    for certificate in certificates {
        assert_eq!(certificate["check"], "certificates-expiry", "{certificate}");
        assert_eq!(certificate["status"], "ok", "{certificate}");
        assert!(certificate["not_after"].is_i64(), "{certificate}");
    }
}

/// A config without `hostname`: IoT Edge then issues edgeHub's certificate for the machine's
/// name, and that is the name the series carry (never `gateway=""`).
#[tokio::test(flavor = "multi_thread")]
async fn without_a_configured_hostname_the_machine_name_labels_the_series() {
    let tree = Tree::top_layer();
    let config = std::fs::read_to_string(tree.path("/etc/aziot/config.toml")).expect("config");
    let without: String = config
        .lines()
        .filter(|line| !line.starts_with("hostname"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(without, config, "the fixture sets hostname");
    tree.write("/etc/aziot/config.toml", &without);
    let skip = [CONNECTIVITY, IOTHUB].concat().join(",");
    let output = check_args(&tree, &["--skip", &skip, "--output", "prometheus"]).await;
    assert_eq!(output.code, 1, "no hostname is an error: {}", output.all());
    let text = &output.stdout;
    if let Some(promtool) = promtool() {
        assert_promtool_accepts(&promtool, "a gateway without hostname", text);
    }
    assert!(!text.contains("gateway=\"\""), "{text}");
    // Tree::new writes `gateway` to /etc/hostname.
    assert!(
        text.contains("probe_success{gateway=\"gateway\"} 0"),
        "{text}"
    );
    assert!(
        text.contains(
            "edgeprobe_check_status{gateway=\"gateway\",check=\"hostname\",status=\"error\"} 1"
        ),
        "{text}"
    );
}
