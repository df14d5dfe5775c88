//! The registries of checks, one file per check (or per parameterized family): the leaf suite
//! (`edgeprobe check --gateway ...`) and the gateway suite (`edgeprobe check` on an IoT Edge
//! device). These lists drive the run order, `list`, `explain`, `--only/--skip`, the JSON ids
//! and the docs. An id means one thing in both suites: `connection-string` and
//! `root-ca-trust-store` are in both, as one check type told which suite it serves.

mod agent_image_upstream;
// A table, one row a line: see its module comment.
#[rustfmt::skip]
mod catalog;
mod certificates_configured;
mod certificates_expiry;
mod config_hostname;
mod config_well_formed;
mod connect_failure;
mod connection_string;
mod device_ca_chain;
mod device_ca_key_match;
mod device_certificate;
mod device_clock;
mod edgehub_listening;
mod expiry;
mod gateway_auth;
mod gateway_auth_amqp;
mod gateway_auth_websocket;
mod gateway_cert_chain;
mod gateway_cert_expiry;
mod gateway_cert_hostname;
mod gateway_connect;
mod gateway_hostname;
mod gateway_hostname_matches_config;
mod gateway_protocol;
mod gateway_resolve;
pub mod iotedge_ids;
mod iothub_connect;
mod parent_connect;
mod parent_hostname;
mod parent_registry;
mod registry_request;
mod root_ca_file;
mod root_ca_trust_store;
mod sdk_trust;
mod stale_generated_certs;
mod tls_probe;

pub use connect_failure::remedy as connect_remedy;
pub use root_ca_file::SYSTEM_BUNDLE;

use std::collections::BTreeSet;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use connection_string::ConnectionStringCheck;
use edgehub_listening::EdgeHubListeningCheck;
use gateway_connect::GatewayConnectCheck;
use gateway_protocol::GatewayProtocolCheck;
use iothub_connect::IotHubConnectCheck;
use parent_connect::ParentConnectCheck;
use root_ca_trust_store::RootCaTrustStoreCheck;

use crate::config::{ConfiguredCertificates, DeviceCa, EdgeConfig};
use crate::engine::{
    Check, CheckMeta, Context, DeclaredCheck, OnPort, OrSkip, Outcome, Prior, Ran, Shared, Skip,
    Status,
};
use crate::hostname::{HostName, validate_hostname};
use crate::net::Protocol;
use crate::net::observation::{Observation, PresentedChain};
use crate::net::resolve::{NameRole, RESOLV_CONF, Resolution, resolve_gateway};
use crate::pki::strict::StrictVerdict;
use crate::pki::verdicts::{ChainVerdict, Question};
use crate::pki::{TrustAnchors, VerifyCode};

/// Which suite a check that serves both is registered in: it decides the group, the
/// prerequisites and where the inputs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suite {
    Leaf,
    Gateway,
}

/// A check registered in both suites (`connection-string`, `root-ca-trust-store`): its two
/// rows of `checks/catalog.rs` and one function told which suite it serves. The registries hold
/// one [`InSuite`] per suite, which is the [`DeclaredCheck`] of that suite, as
/// [`OnPort`] is a port family's.
pub(crate) trait SuiteCheck: Send + Sync {
    /// Its row in the leaf suite.
    const LEAF: CheckMeta;
    /// Its row in the gateway suite.
    const GATEWAY: CheckMeta;
    /// Whether it applies to this invocation in `suite`, as [`DeclaredCheck::applies`].
    fn applies(&self, _suite: Suite, _context: &Context) -> bool {
        true
    }
    /// Judge, in `suite`, as [`DeclaredCheck::run`] judges a check.
    fn run(
        &self,
        suite: Suite,
        context: &Context,
        prior: &Prior,
    ) -> impl Future<Output = Ran> + Send;
}

/// A two-suite check in one suite: `InSuite::leaf(ConnectionStringCheck)` is the leaf's
/// `connection-string`.
pub(crate) struct InSuite<C>(C, Suite);

impl<C: SuiteCheck> InSuite<C> {
    fn leaf(check: C) -> Self {
        InSuite(check, Suite::Leaf)
    }

    fn gateway(check: C) -> Self {
        InSuite(check, Suite::Gateway)
    }
}

impl<C: SuiteCheck> DeclaredCheck for InSuite<C> {
    const META: CheckMeta = C::LEAF;
    fn meta(&self) -> &'static CheckMeta {
        match self.1 {
            Suite::Leaf => const { &C::LEAF },
            Suite::Gateway => const { &C::GATEWAY },
        }
    }
    fn applies(&self, context: &Context) -> bool {
        self.0.applies(self.1, context)
    }
    fn run(&self, context: &Context, prior: &Prior) -> impl Future<Output = Ran> + Send {
        self.0.run(self.1, context, prior)
    }
}

/// The leaf-device suite, in report order.
pub fn leaf_registry() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(InSuite::leaf(ConnectionStringCheck)),
        Box::new(gateway_hostname::GatewayHostnameCheck),
        Box::new(gateway_hostname_matches_config::GatewayHostnameMatchesConfigCheck),
        Box::new(root_ca_file::RootCaFileCheck),
        Box::new(InSuite::leaf(RootCaTrustStoreCheck)),
        Box::new(device_certificate::DeviceCertificateCheck),
        Box::new(gateway_resolve::GatewayResolveCheck),
        Box::new(OnPort(GatewayConnectCheck, Protocol::Mqtt)),
        Box::new(OnPort(GatewayConnectCheck, Protocol::Amqp)),
        Box::new(OnPort(GatewayConnectCheck, Protocol::Https)),
        Box::new(OnPort(GatewayProtocolCheck, Protocol::Mqtt)),
        Box::new(OnPort(GatewayProtocolCheck, Protocol::Amqp)),
        Box::new(OnPort(GatewayProtocolCheck, Protocol::Https)),
        Box::new(device_clock::DeviceClockCheck),
        Box::new(gateway_auth::GatewayAuthCheck(gateway_auth::Mqtt)),
        Box::new(gateway_auth::GatewayAuthCheck(gateway_auth_amqp::Amqp)),
        Box::new(gateway_auth::GatewayAuthCheck(
            gateway_auth_websocket::WebSocket,
        )),
        Box::new(gateway_cert_chain::GatewayCertChainCheck),
        Box::new(gateway_cert_hostname::GatewayCertHostnameCheck),
        Box::new(gateway_cert_expiry::GatewayCertExpiryCheck),
        Box::new(sdk_trust::SdkTrustCheck),
    ]
}

/// The IoT Edge gateway suite, in report order: the config and the files it names, then what
/// the local edgeHub serves, then the way upstream (a parent gateway, or IoT Hub).
pub fn gateway_registry() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(config_well_formed::ConfigWellFormedCheck),
        Box::new(config_hostname::HostnameCheck),
        Box::new(InSuite::gateway(ConnectionStringCheck)),
        Box::new(certificates_configured::CertificatesConfiguredCheck),
        Box::new(device_ca_key_match::DeviceCaKeyMatchCheck),
        Box::new(device_ca_chain::DeviceCaChainCheck),
        Box::new(certificates_expiry::CertificatesExpiryCheck),
        Box::new(stale_generated_certs::StaleGeneratedCertsCheck),
        Box::new(InSuite::gateway(RootCaTrustStoreCheck)),
        Box::new(OnPort(EdgeHubListeningCheck, Protocol::Mqtt)),
        Box::new(OnPort(EdgeHubListeningCheck, Protocol::Amqp)),
        Box::new(OnPort(EdgeHubListeningCheck, Protocol::Https)),
        Box::new(parent_hostname::ParentHostnameCheck),
        Box::new(OnPort(ParentConnectCheck, Protocol::Mqtt)),
        Box::new(OnPort(ParentConnectCheck, Protocol::Amqp)),
        Box::new(OnPort(ParentConnectCheck, Protocol::Https)),
        Box::new(parent_registry::ParentRegistryCheck),
        Box::new(agent_image_upstream::AgentImageUpstreamCheck),
        Box::new(OnPort(IotHubConnectCheck, Protocol::Mqtt)),
        Box::new(OnPort(IotHubConnectCheck, Protocol::Amqp)),
        Box::new(OnPort(IotHubConnectCheck, Protocol::Https)),
    ]
}

/// Every check of both suites, once per id (the leaf entry of a shared id first): what `list`,
/// `explain` and the man page describe.
pub fn all_checks() -> Vec<Box<dyn Check>> {
    let mut seen = BTreeSet::new();
    leaf_registry()
        .into_iter()
        .chain(gateway_registry())
        .filter(|check| seen.insert(check.id()))
        .collect()
}

/// Why a check that needs `config-well-formed`'s parsed config cannot run.
const CONFIG_NOT_READ: &str = "skipped because the config was not read";

/// The config `config-well-formed` parsed, or why there is none: the prologue of every check
/// of the gateway's config.
fn edge_config(prior: &Prior) -> Result<&Arc<EdgeConfig>, Skip> {
    prior.edge_config().or_skip(CONFIG_NOT_READ)
}

/// The gateway name `gateway-hostname` validated, or why there is none: the prologue of the
/// leaf checks that need the name dialed.
fn gateway_name(prior: &Prior) -> Result<&str, Skip> {
    prior
        .gateway_name()
        .or_skip("skipped because no gateway name is known")
}

/// Why a check of the device CA cannot run although the file loaded.
const DEVICE_CA_FILE_EMPTY: &str = "skipped because the device CA file holds no certificate";

/// What `certificates-configured` loaded, or why nothing did.
fn configured_certificates(prior: &Prior) -> Result<&ConfiguredCertificates, Skip> {
    prior
        .configured_certificates()
        .map(AsRef::as_ref)
        .ok_or_else(|| device_ca_unavailable(prior, None))
}

/// The device CA `certificates-configured` loaded (with everything it loaded), or why there
/// is none: the prologue of every check of the device CA.
fn device_ca(prior: &Prior) -> Result<(&ConfiguredCertificates, &DeviceCa), Skip> {
    let certificates = configured_certificates(prior)?;
    let device_ca = certificates
        .device_ca
        .as_ref()
        .ok_or_else(|| device_ca_unavailable(prior, Some(certificates)))?;
    Ok((certificates, device_ca))
}

/// Why a check that reads `certificates-configured`'s evidence found nothing to work on: the
/// reason names what is missing.
fn device_ca_unavailable(prior: &Prior, loaded: Option<&ConfiguredCertificates>) -> Skip {
    if loaded.is_some_and(|certificates| certificates.quickstart) {
        return Skip::because(
            "skipped because no device CA is configured (IoT Edge uses quickstart certificates)",
        );
    }
    Skip::because(match prior.outcome("certificates-configured") {
        None => "skipped because `certificates-configured` was not run",
        Some(outcome) if outcome.status == Status::Skipped => {
            "skipped because `certificates-configured` was skipped"
        }
        Some(outcome) if outcome.status == Status::Ignored => {
            "skipped because `certificates-configured` was excluded with --skip"
        }
        Some(_) => {
            "skipped because the device CA certificate was not loaded (see `certificates-configured`)"
        }
    })
}

/// A certificate's subject as OpenSSL prints it, or a placeholder when it cannot be read.
fn subject_of(der: &CertificateDer<'_>) -> String {
    crate::pki::describe::describe(der)
        .map(|summary| summary.subject)
        .unwrap_or_else(|_| "unreadable certificate".to_owned())
}

/// A chain as `openssl s_client` lists it, indented for a check's details, each certificate
/// followed by its SHA-256 fingerprint as `openssl x509 -noout -fingerprint -sha256` prints it:
/// two certificates of one name (a renewed root, a re-issued device CA) differ only there.
fn listed_chain<'a>(
    summaries: impl IntoIterator<Item = &'a crate::pki::describe::CertificateSummary>,
) -> Vec<String> {
    summaries
        .into_iter()
        .enumerate()
        .flat_map(|(depth, summary)| {
            let mut lines = crate::pki::describe::s_client_listing(depth, summary);
            lines.push(format!(
                "   sha256 Fingerprint={}",
                summary.sha256_fingerprint
            ));
            lines
        })
        .map(|line| format!("  {line}"))
        .collect()
}

/// Groups the ports that presented the same chain, so one finding covers all ports that
/// share it (edgeHub normally presents one certificate on all three).
fn group_by_chain<'a>(observations: &[&'a Arc<Observation>]) -> Vec<Vec<&'a Arc<Observation>>> {
    let mut groups: Vec<Vec<&'a Arc<Observation>>> = Vec::new();
    for observation in observations {
        let digest = observation.chain().map(|chain| chain.digest);
        match groups
            .iter_mut()
            .find(|group| group[0].chain().map(|chain| chain.digest) == digest)
        {
            Some(group) => group.push(observation),
            None => groups.push(vec![observation]),
        }
    }
    groups
}

/// "MQTTS 8883, AMQPS 5671" for messages.
fn ports_of(group: &[&Arc<Observation>]) -> String {
    group
        .iter()
        .map(|observation| observation.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The leaf suite's verdict on what a port presented: OpenSSL's against the root CA file without
/// the name (`gateway-cert-hostname` judges it), webpki's with the name dialed. One question,
/// whichever check asks, so the run's memo answers it once per chain.
fn leaf_verdict(
    context: &Context,
    anchors: &TrustAnchors,
    observation: &Observation,
) -> Option<Arc<ChainVerdict>> {
    let name = validate_hostname(&observation.server_name).ok();
    judge_leaf(
        &context.shared,
        context.now,
        anchors,
        observation,
        name.as_ref(),
    )
}

/// The question [`leaf_verdict`] asks about `observation`'s chain, and the chain.
fn leaf_question<'a>(
    now: OffsetDateTime,
    anchors: &'a TrustAnchors,
    observation: &'a Observation,
    name: Option<&'a HostName>,
) -> Option<(&'a PresentedChain, Question<'a>)> {
    let chain = observation.chain()?;
    let question = Question {
        anchors: Some(anchors),
        name,
        openssl_checks_name: false,
        now,
    };
    Some((chain, question))
}

/// [`leaf_verdict`] from what it is made of (`name`: the name dialed, as
/// [`validate_hostname`] reads it), so that it can be reached off the runner's thread.
fn judge_leaf(
    shared: &Shared,
    now: OffsetDateTime,
    anchors: &TrustAnchors,
    observation: &Observation,
    name: Option<&HostName>,
) -> Option<Arc<ChainVerdict>> {
    let (chain, question) = leaf_question(now, anchors, observation, name)?;
    Some(
        shared
            .verdicts()
            .judge_digested(&chain.certificates, chain.digest, &question),
    )
}

/// Starts the [`leaf_verdict`] on the chain a port just presented, on tokio's blocking pool,
/// when `gateway-cert-chain` will ask for it against `--ca-file`: the chain's signatures are
/// then checked beside the other ports' handshakes and protocol answers rather than after
/// them all (that check waits for every port and the device clock). It finds the verdict in
/// the run's memo, or waits there for the one under way; nothing is judged twice, and the
/// question is the check's own (the file as `root-ca-file` loaded it, the run's clock). Only
/// the first port to present a chain starts it: the others' question is then reserved.
fn start_leaf_verdict(context: &Context, prior: &Prior, observation: &Arc<Observation>) {
    if !prior.is_scheduled(catalog::GATEWAY_CERT_CHAIN.id) {
        return;
    }
    let Some(path) = &context.leaf.ca_file else {
        return;
    };
    let Ok(anchors) = context.shared.trust_anchors(path) else {
        return;
    };
    let name = validate_hostname(&observation.server_name).ok();
    let Some((chain, question)) = leaf_question(context.now, &anchors, observation, name.as_ref())
    else {
        return;
    };
    if !context.shared.verdicts().reserve(chain.digest, &question) {
        return;
    }
    let shared = context.shared.clone();
    let now = context.now;
    let observation = Arc::clone(observation);
    drop(tokio::task::spawn_blocking(move || {
        judge_leaf(&shared, now, &anchors, &observation, name.as_ref())
    }));
}

/// Resolves an upstream name (the parent gateway, IoT Hub) as the gateway itself does, with
/// its hosts file and resolv.conf under `--root`; a failure is the check's error, `what`
/// naming the peer.
async fn resolve_upstream(
    context: &Context,
    name: &str,
    what: &str,
    role: NameRole,
) -> Result<Resolution, Outcome> {
    let settings = context.resolver_settings(context.root.path(RESOLV_CONF));
    resolve_gateway(name, &settings).await.map_err(|failure| {
        Outcome::error(format!("{what}: {failure}"))
            .details(failure.notes.clone())
            .remedy(failure.remedy_for(name, role))
    })
}

/// When OpenSSL accepts a chain (`code` is OK) that a strict client (rustls/webpki, Go)
/// rejects for a reason other than the name (names are judged with OpenSSL's rules by the
/// name checks): the detail that says so. Such a port is a warning, with
/// [`STRICT_CLIENTS_REMEDY`].
fn strict_clients_object(strict: Option<&StrictVerdict>, code: VerifyCode) -> Option<String> {
    match strict? {
        strict @ StrictVerdict::Rejected {
            name_mismatch: false,
            ..
        } => {
            let warning = strict.compared_with(code)?;
            Some(format!(
                "{warning}; OpenSSL-based clients (C, Python, Node SDKs) connect"
            ))
        }
        _ => None,
    }
}

/// What to do when only strict clients reject the chain.
const STRICT_CLIENTS_REMEDY: &str = "reissue the certificate so that strict clients accept it too (a leaf that is not a CA, SHA-256 signatures, a subjectAltName, at most 6 intermediates)";

/// The page for a check id, from `checks/<id>.md`: build.rs compresses every page into one
/// DEFLATE blob (the release binary's size budget), inflated once, on first use.
pub fn explanation(id: &str) -> Option<&'static str> {
    pages()
        .iter()
        .find(|(page_id, _)| *page_id == id)
        .map(|(_, page)| *page)
}

/// Every explain page, as `(id, text)`.
pub fn pages() -> &'static [(&'static str, &'static str)] {
    static PAGES: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    PAGES.get_or_init(|| {
        const COMPRESSED: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/explain_pages.deflate"));
        // The blob is made by build.rs from this crate's own files, so it always inflates;
        // should it not, there are simply no pages (explain then names none), never a panic.
        let text = miniz_oxide::inflate::decompress_to_vec(COMPRESSED)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        let text: &'static str = Box::leak(text.into_boxed_str());
        text.split_terminator('\0')
            .filter_map(|entry| entry.split_once('\n'))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case_and_described() {
        for registry in [leaf_registry(), gateway_registry(), all_checks()] {
            ids_are_unique_kebab_case_and_described_in(&registry);
        }
    }

    fn ids_are_unique_kebab_case_and_described_in(registry: &[Box<dyn Check>]) {
        let mut seen = BTreeSet::new();
        for check in registry {
            let id = check.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !id.starts_with('-')
                    && !id.ends_with('-')
                    && !id.contains("--"),
                "id {id} is not kebab-case"
            );
            assert!(!check.description().is_empty(), "{id} has no description");
        }
    }

    /// The compressed pages inflate to exactly one page per check.
    #[test]
    fn every_check_has_its_page_and_every_page_a_check() {
        let ids: BTreeSet<&str> = all_checks().iter().map(|check| check.id()).collect();
        let named: BTreeSet<&str> = pages().iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, named);
        for (id, page) in pages() {
            assert!(page.len() > 200, "{id}'s page is suspiciously short");
        }
    }

    /// A port family's description names the default port, and its title the port a run
    /// probes: `--port mqtt=18883` shows "(18883)".
    #[test]
    fn port_titles_name_the_port_probed() {
        use crate::engine::Ports;
        let moved = Ports {
            mqtt: 18883,
            amqp: 15671,
            https: 8443,
        };
        let mut context = Context::default();
        context.gateway_mode.parent_ports = moved;
        context.gateway_mode.iothub_ports = moved;
        context.leaf.ports = moved;
        let mut families = 0;
        for check in all_checks() {
            let Some(port) = check.port(&context) else {
                assert_eq!(check.title(&context), check.description());
                continue;
            };
            families += 1;
            let default = format!("({})", port.protocol.default_port());
            assert!(
                check.description().contains(&default),
                "{}: `{}` names no {default}",
                check.id(),
                check.description()
            );
            assert_eq!(port.port, moved.get(port.protocol), "{}", check.id());
            let title = check.title(&context);
            assert!(title.contains(&format!("({})", port.port)), "{title}");
            assert!(!title.contains(&default), "{title}");
            let unmoved = check.title(&Context::default());
            assert_eq!(unmoved, check.description());
        }
        assert_eq!(
            families, 15,
            "connect, protocol, edgeHub, parent and IoT Hub, three each"
        );
    }

    #[test]
    fn dependencies_name_registered_checks_that_come_earlier() {
        for registry in [leaf_registry(), gateway_registry()] {
            dependencies_come_earlier_in(&registry);
        }
    }

    /// A check shared by both suites is one id with one meaning: the same type, registered
    /// once per suite, never two unrelated checks that happen to share a name.
    #[test]
    fn shared_ids_are_the_shared_checks() {
        let leaf: BTreeSet<&str> = leaf_registry().iter().map(|check| check.id()).collect();
        let gateway: BTreeSet<&str> = gateway_registry().iter().map(|check| check.id()).collect();
        let shared: Vec<&str> = leaf.intersection(&gateway).copied().collect();
        assert_eq!(shared, ["connection-string", "root-ca-trust-store"]);
        assert_eq!(
            all_checks().len(),
            leaf.len() + gateway.len() - shared.len()
        );
    }

    fn dependencies_come_earlier_in(registry: &[Box<dyn Check>]) {
        for (index, check) in registry.iter().enumerate() {
            for dependency in check.dependencies() {
                for id in dependency.ids() {
                    let position = registry.iter().position(|other| other.id() == *id);
                    assert!(
                        position.is_some_and(|p| p < index),
                        "{} depends on unknown or later {id}",
                        check.id()
                    );
                }
            }
        }
    }
}
