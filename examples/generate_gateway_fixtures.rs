//! Regenerates the gateway-side fixtures under `fixtures/gateway/` (see `fixtures/README.md`):
//!
//!     cargo run --example generate_gateway_fixtures -- fixtures/gateway
//!
//! A two-layer hierarchy laid out as "Connect Azure IoT Edge devices to create a hierarchy" does
//! it: one root and intermediate, a device CA per gateway (top layer `gateway.edgeprobe.test`,
//! lower layer `child.edgeprobe.test`) and the edgeHub server certificate IoT Edge would issue
//! from each; broken variants of the device CA; an "IoT Hub" chain under a separate public-style
//! root; and IoT Edge 1.1 and 1.2+ configs that name the files at fixed system paths. Tests copy
//! a config and the files into a temporary `--root` tree. Dates are fixed so the files stay
//! valid for years.

mod exit_status;
mod fixture_support;

use std::error::Error;
use std::process::ExitCode;

use edgeprobe::demo::pki::{
    CertificateSpec, GatewayPki, Issued, Validity, device_ca_common_name, issue, issue_ca,
    unrelated_root_ca,
};
use fixture_support::{CA_VALIDITY, EXPIRED_VALIDITY, SERVER_VALIDITY, Writer, main_with};
use time::macros::datetime;

const TOP: &str = "gateway.edgeprobe.test";
const CHILD: &str = "child.edgeprobe.test";
const HUB: &str = "hub.edgeprobe.test";
/// 70 characters: over IoT Edge's 64-character limit, every label under 63.
const LONG_HOSTNAME: &str =
    "edge-gateway-for-the-north-building-line-7.plant-12.contoso-example.io";

const POST_2038_VALIDITY: Validity = Validity {
    not_before: datetime!(2020-01-01 00:00:00 UTC),
    not_after: datetime!(2039-06-01 00:00:00 UTC),
};

/// Not a real key: 32 bytes of 0x2a, base64. Fixtures must never hold a working credential.
const FAKE_SHARED_ACCESS_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// Where every config names its files; tests put the PKI files there under `--root`.
const CERTS: &str = "/var/aziot/certs";
const SECRETS: &str = "/var/aziot/secrets";

fn main() -> ExitCode {
    main_with("generate_gateway_fixtures", generate)
}

fn full_chain(certificates: &[&Issued]) -> String {
    certificates
        .iter()
        .map(|issued| issued.pem.as_str())
        .collect()
}

/// A device CA for gateway `hostname` with `validity`, issued by `issuer`.
fn device_ca(
    hostname: &str,
    validity: Validity,
    issuer: &Issued,
) -> Result<Issued, Box<dyn Error>> {
    Ok(issue_ca(
        &device_ca_common_name(hostname),
        validity,
        Some(issuer),
    )?)
}

/// The two files a config names for device CA variant `name`:
/// `pki/<name>-device-ca-full-chain.pem` holding `chain` (the device CA first) and
/// `pki/<name>-device-ca.key.pem` holding `key`.
fn write_device_ca(
    out: &mut Writer,
    name: &str,
    chain: &[&Issued],
    key: &Issued,
) -> Result<(), Box<dyn Error>> {
    out.write(
        &format!("pki/{name}-device-ca-full-chain.pem"),
        &full_chain(chain),
    )?;
    out.write(&format!("pki/{name}-device-ca.key.pem"), &key.key_pem())
}

fn generate(out: &mut Writer) -> Result<(), Box<dyn Error>> {
    // The shared hierarchy: root, intermediate, top-layer device CA and edgeHub certificate.
    let top = GatewayPki::generate_with_validity(TOP, CA_VALIDITY, SERVER_VALIDITY)?;
    let intermediate = &top.intermediate;
    out.write("pki/root-ca.pem", &top.root.pem)?;
    write_device_ca(out, "top", &[&top.device_ca, intermediate], &top.device_ca)?;
    out.write(
        "pki/top-edgehub-full-chain.pem",
        &top.server_full_chain_pem(),
    )?;
    out.write("pki/top-edgehub.pem", &top.server.pem)?;
    out.write("pki/top-edgehub.key.pem", &top.server.key_pem())?;

    // The lower layer: its own device CA from the same intermediate, and its edgeHub.
    let child_ca = device_ca(CHILD, CA_VALIDITY, intermediate)?;
    let child_server = issue(
        &CertificateSpec::tls_server(CHILD, SERVER_VALIDITY),
        Some(&child_ca),
    )?;
    write_device_ca(out, "child", &[&child_ca, intermediate], &child_ca)?;
    out.write(
        "pki/child-edgehub-full-chain.pem",
        &full_chain(&[&child_server, &child_ca, intermediate]),
    )?;
    out.write("pki/child-edgehub.key.pem", &child_server.key_pem())?;

    // Broken variants of the top layer's device CA.
    let unrelated = unrelated_root_ca(CA_VALIDITY)?;
    out.write("pki/other-root-ca.pem", &unrelated.pem)?;
    let other_ca = device_ca(TOP, CA_VALIDITY, &unrelated)?;
    out.write("pki/other-device-ca.key.pem", &other_ca.key_pem())?;
    write_device_ca(out, "wrong-root", &[&other_ca], &other_ca)?;
    out.write(
        "pki/wrong-order-device-ca-full-chain.pem",
        &full_chain(&[intermediate, &top.device_ca]),
    )?;
    let expired_ca = device_ca(TOP, EXPIRED_VALIDITY, intermediate)?;
    write_device_ca(out, "expired", &[&expired_ca, intermediate], &expired_ca)?;
    let late_ca = device_ca(TOP, POST_2038_VALIDITY, intermediate)?;
    write_device_ca(out, "post-2038", &[&late_ca, intermediate], &late_ca)?;
    let not_ca = issue(
        &CertificateSpec::tls_server(TOP, SERVER_VALIDITY),
        Some(&top.device_ca),
    )?;
    write_device_ca(
        out,
        "not-a-ca",
        &[&not_ca, &top.device_ca, intermediate],
        &not_ca,
    )?;

    // A previous generation of the top device CA (same name, new key), and the edgeHub
    // certificate IoT Edge issued from it and left in its store.
    let old_ca = device_ca(TOP, CA_VALIDITY, intermediate)?;
    let stale = issue(
        &CertificateSpec::tls_server(TOP, SERVER_VALIDITY),
        Some(&old_ca),
    )?;
    out.write("pki/stale-edgehub.pem", &stale.pem)?;
    out.write(
        "pki/stale-edgehub-full-chain.pem",
        &full_chain(&[&stale, &old_ca, intermediate]),
    )?;
    out.write("pki/stale-edgehub.key.pem", &stale.key_pem())?;

    // edgeHub still serving the certificate of a former hostname.
    let renamed = top.issue_from_device_ca(&CertificateSpec::tls_server(
        "old-name.edgeprobe.test",
        SERVER_VALIDITY,
    ))?;
    out.write(
        "pki/old-name-edgehub-full-chain.pem",
        &top.full_chain_pem_with(&renamed),
    )?;
    out.write("pki/old-name-edgehub.key.pem", &renamed.key_pem())?;

    // "IoT Hub": a server under a separate, public-style root in the OS trust store.
    let hub_root = issue_ca("edgeprobe Public Root Test Only", CA_VALIDITY, None)?;
    let hub = issue(
        &CertificateSpec::tls_server(HUB, SERVER_VALIDITY),
        Some(&hub_root),
    )?;
    out.write("pki/hub-root-ca.pem", &hub_root.pem)?;
    out.write("pki/hub-full-chain.pem", &full_chain(&[&hub]))?;
    out.write("pki/hub.key.pem", &hub.key_pem())?;

    // Configs.
    let connection_string =
        format!("HostName={HUB};DeviceId={{device}};SharedAccessKey={FAKE_SHARED_ACCESS_KEY}");
    out.write(
        "config/top-layer.toml",
        &toml_config(TOP, None, &connection_string.replace("{device}", "gateway")),
    )?;
    out.write(
        "config/top-layer.yaml",
        &yaml_config(TOP, &connection_string.replace("{device}", "gateway")),
    )?;
    out.write(
        "config/lower-layer.toml",
        &toml_config(
            CHILD,
            Some(TOP),
            &connection_string.replace("{device}", "child"),
        ),
    )?;
    let lower = toml_config(
        CHILD,
        Some(TOP),
        &connection_string.replace("{device}", "child"),
    );
    out.write(
        "config/lower-layer-no-extra-hosts.toml",
        &lower
            .lines()
            .filter(|line| !line.starts_with("createOptions"))
            .map(|line| format!("{line}\n"))
            .collect::<String>(),
    )?;
    let top_toml = toml_config(TOP, None, &connection_string.replace("{device}", "gateway"));
    out.write(
        "config/quickstart.toml",
        &top_toml
            .lines()
            .filter(|line| {
                !(line.starts_with("[edge_ca]")
                    || line.starts_with("cert =")
                    || line.starts_with("pk ="))
            })
            .map(|line| format!("{line}\n"))
            .collect::<String>(),
    )?;
    out.write(
        "config/ip-hostname.toml",
        &toml_config(
            "10.0.0.4",
            None,
            &connection_string.replace("{device}", "gateway"),
        ),
    )?;
    out.write(
        "config/long-hostname.toml",
        &toml_config(
            LONG_HOSTNAME,
            None,
            &connection_string.replace("{device}", "gateway"),
        ),
    )?;
    out.write(
        "config/missing-files.toml",
        &toml_config(TOP, None, &connection_string.replace("{device}", "gateway"))
            .replace("device-ca-full-chain.pem", "no-such-device-ca.pem")
            .replace("root-ca.pem", "no-such-root.pem"),
    )?;
    out.write(
        "config/bad-syntax.yaml",
        &yaml_config(TOP, &connection_string.replace("{device}", "gateway"))
            .replace("\nhostname: ", "\n hostname: [unclosed "),
    )?;
    out.write(
        "config/bad-syntax.toml",
        &toml_config(TOP, None, &connection_string.replace("{device}", "gateway"))
            .replace("[edge_ca]", "[edge_ca"),
    )?;
    Ok(())
}

/// An IoT Edge 1.2+ config.toml as the gateway guides write it.
fn toml_config(hostname: &str, parent: Option<&str>, connection_string: &str) -> String {
    let parent_line = parent
        .map(|parent| format!("parent_hostname = \"{parent}\"\n"))
        .unwrap_or_default();
    // A lower layer's edgeAgent resolves the parent through ExtraHosts (nested guide); tests
    // map the parent name to 127.0.0.1 in the tree's /etc/hosts to match.
    let create_options = parent
        .map(|parent| {
            format!(
                "createOptions = {{ HostConfig = {{ ExtraHosts = [\"{parent}:127.0.0.1\"], Binds = [\"/iotedge/storage:/iotedge/storage\"] }} }}\n"
            )
        })
        .unwrap_or_default();
    // A lower layer pulls its images through the parent's API proxy (nested guide).
    let agent_image = match parent {
        Some(_) => "$upstream:443/azureiotedge-agent:1.5",
        None => "mcr.microsoft.com/azureiotedge-agent:1.5",
    };
    format!(
        "# Generated by examples/generate_gateway_fixtures.rs: an IoT Edge 1.2+ gateway config.\n\
hostname = \"{hostname}\"\n\
{parent_line}\
trust_bundle_cert = \"file://{CERTS}/root-ca.pem\"\n\
\n\
[provisioning]\n\
source = \"manual\"\n\
connection_string = \"{connection_string}\"\n\
\n\
[edge_ca]\n\
cert = \"file://{CERTS}/device-ca-full-chain.pem\"\n\
pk = \"file://{SECRETS}/device-ca.key.pem\"\n\
\n\
[agent]\n\
name = \"edgeAgent\"\n\
type = \"docker\"\n\
\n\
[agent.config]\n\
image = \"{agent_image}\"\n\
{create_options}\
\n\
[connect]\n\
workload_uri = \"unix:///var/run/iotedge/workload.sock\"\n\
management_uri = \"unix:///var/run/iotedge/mgmt.sock\"\n"
    )
}

/// An IoT Edge 1.1 config.yaml for a transparent gateway.
fn yaml_config(hostname: &str, connection_string: &str) -> String {
    format!(
        "# Generated by examples/generate_gateway_fixtures.rs: an IoT Edge 1.1 gateway config.\n\
provisioning:\n\
\x20 source: \"manual\"\n\
\x20 device_connection_string: \"{connection_string}\"\n\
\n\
certificates:\n\
\x20 device_ca_cert: \"file://{CERTS}/device-ca-full-chain.pem\"\n\
\x20 device_ca_pk: \"file://{SECRETS}/device-ca.key.pem\"\n\
\x20 trusted_ca_certs: \"file://{CERTS}/root-ca.pem\"\n\
\n\
agent:\n\
\x20 name: \"edgeAgent\"\n\
\x20 type: \"docker\"\n\
\x20 env: {{}}\n\
\x20 config:\n\
\x20   image: \"mcr.microsoft.com/azureiotedge-agent:1.1\"\n\
\x20   auth: {{}}\n\
\n\
hostname: \"{hostname}\"\n\
\n\
connect:\n\
\x20 management_uri: \"unix:///var/run/iotedge/mgmt.sock\"\n\
\x20 workload_uri: \"unix:///var/run/iotedge/workload.sock\"\n\
\n\
homedir: \"/var/lib/iotedge\"\n"
    )
}
