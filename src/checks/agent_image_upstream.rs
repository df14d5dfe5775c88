//! `agent-image-upstream`: the edgeAgent image of the config can be pulled from where this layer
//! is. A lower layer of a nested hierarchy has no route to the internet, so its image must come
//! through the parent (`$upstream:443/azureiotedge-agent:1.5`, which aziot-edged turns into
//! `parent_hostname`); its manifest is asked through the parent's API proxy as the Docker daemon
//! asks it (`GET /v2/<name>/manifests/<tag>`, accepting manifest lists). A top layer
//! (`--top-layer`) pulls straight from the registry named, so that registry is asked on its
//! port 443, trusted through the OS store; when this machine cannot resolve names at all, that
//! is said and the check skipped, never reported as the gateway's failure.

use super::catalog;
use super::parent_registry::{nested_config, parent_failure, unverified_warning};
use super::registry_request::{Exchange, ParentRoute, RegistryTarget, Transport, request};
use crate::checks::SYSTEM_BUNDLE;
use crate::config::EdgeConfig;
use crate::config::image_reference::{ImageReference, Registry, parse_image_reference};
use crate::engine::info::{AddressSource, RegistryRequestInfo};
use crate::engine::os_trust_store::os_trust_store;
use crate::engine::{CheckMeta, Context, DeclaredCheck, Outcome, Prior, Ran, Skip};
use crate::hostname::validate_hostname;
use crate::net::registry::{MANIFEST_ACCEPT, RegistryAnswer};
use crate::net::resolve::{RESOLV_CONF, ResolveError, resolve_gateway};

pub struct AgentImageUpstreamCheck;

/// The image the nested guide gives a lower layer's edgeAgent.
const UPSTREAM_AGENT: &str = "$upstream:443/azureiotedge-agent:1.5";

impl DeclaredCheck for AgentImageUpstreamCheck {
    const META: CheckMeta = catalog::AGENT_IMAGE_UPSTREAM;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let config = nested_config(context, prior)?;
        let parent = config.names.parent_hostname.as_deref();
        let setting = config.format.agent_image_setting();
        let file = config.source.display();
        let Some(image) = config.agent.image.as_deref() else {
            let example = parent.map_or("mcr.microsoft.com/azureiotedge-agent:1.5", |_| {
                UPSTREAM_AGENT
            });
            return Ok(
                Outcome::error(format!("{file} sets no edgeAgent image ({setting})")).remedy(
                    format!(
                        "set {setting} = \"{example}\" in {file}, then `{}`",
                        config.format.apply_command()
                    ),
                ),
            );
        };
        let reference = match parse_image_reference(image) {
            Ok(reference) => reference,
            Err(error) => {
                return Ok(Outcome::error(format!("{setting} in {file}: {error}"))
                    .remedy(format!("write the image as registry/repository:tag, e.g. `{UPSTREAM_AGENT}` on a lower layer"))
                    .info(config_only(image)));
            }
        };
        Ok(match (parent, &reference.registry) {
            (Some(parent), Registry::Upstream { port }) => {
                through_parent(context, prior, config, parent, image, &reference, *port).await?
            }
            (Some(_), Registry::Host { .. }) => direct_from_lower_layer(context, config, image, &reference).await,
            (None, Registry::Upstream { .. }) => Outcome::error(format!(
                "{setting} is `{image}`, but this device has no parent_hostname for IoT Edge to put in place of $upstream"
            ))
            .remedy(format!(
                "on the top layer, name the registry itself ({setting} = \"mcr.microsoft.com/{}:{}\"); on a lower layer, set parent_hostname in {file}; then `{}`",
                reference.repository, reference.reference, config.format.apply_command()
            ))
            .info(config_only(image)),
            (None, Registry::Host { .. }) => direct_from_top_layer(context, image, &reference).await,
        })
    }
}

/// The JSON of a finding about the config alone: no request was made.
fn config_only(image: &str) -> RegistryRequestInfo {
    RegistryRequestInfo {
        image: Some(image.to_owned()),
        url: None,
        address_source: None,
        address: None,
        verify_code: None,
        status: None,
        distribution_api_version: None,
        server: None,
    }
}

/// `$upstream[:port]/name:tag`: the manifest, asked through the parent's API proxy.
async fn through_parent(
    context: &Context,
    prior: &Prior,
    config: &EdgeConfig,
    parent: &str,
    image: &str,
    reference: &ImageReference,
    port: Option<u16>,
) -> Result<Outcome, Skip> {
    let route = ParentRoute::to(config, prior, parent)?;
    let host = &route.host;
    // `--parent-port https=N` moves the parent's 443, as for every other probe of the parent.
    let port = match port {
        None | Some(443) => context.gateway_mode.parent_ports.https,
        Some(port) => port,
    };
    let exchange = request(
        &route.target(port),
        &reference.manifest_path(),
        MANIFEST_ACCEPT,
        context,
    )
    .await;
    let info = exchange.info(Some(image));
    if let Some(outcome) = parent_failure(&exchange, &host.name, config) {
        return Ok(outcome.details(exchange.address_detail()).info(info));
    }
    let Ok(answered) = &exchange.result else {
        return Ok(Outcome::error(format!("GET {}: no answer", exchange.url)).info(info));
    };
    let status = Exchange::status_line(answered);
    let name = format!("{}:{}", reference.repository, reference.reference);
    let outcome = match answered.answer {
        RegistryAnswer::Found => unverified_warning(
            Outcome::ok(format!("`{image}`: GET {}: {status}, the parent serves the manifest of {name}", exchange.url)),
            answered,
            config,
        ),
        RegistryAnswer::NeedsCredentials => unverified_warning(
            Outcome::ok(format!(
                "`{image}`: GET {}: {status}, a registry answers through the parent and wants credentials (whether {name} exists is not known without them)",
                exchange.url
            )),
            answered,
            config,
        ),
        _ => Outcome::error(format!(
            "`{image}`: GET {}: {status}: the registry behind the parent has no {name}",
            exchange.url
        ))
        .remedy(format!(
            "check the repository and tag in {} of {}; the top layer's registry module must hold it or proxy the registry it comes from (env REGISTRY_PROXY_REMOTEURL=https://mcr.microsoft.com for IoT Edge's images)",
            config.format.agent_image_setting(),
            config.source.display()
        )),
    };
    Ok(outcome.details(exchange.address_detail()).info(info))
}

/// A lower layer whose image names a registry directly: it works only while this layer still
/// has a route to that registry, which the nested design takes away.
async fn direct_from_lower_layer(
    context: &Context,
    config: &EdgeConfig,
    image: &str,
    reference: &ImageReference,
) -> Outcome {
    let setting = config.format.agent_image_setting();
    let fix = format!(
        "a lower layer pulls through its parent: set {setting} = \"{}\" in {}, then `{}`; the top layer's registry module must proxy {} (env REGISTRY_PROXY_REMOTEURL=https://{})",
        reference.through_upstream(),
        config.source.display(),
        config.format.apply_command(),
        reference.registry,
        reference.registry
    );
    let (exchange, unreachable) = match ask_registry(context, reference, true).await {
        Ok(exchange) => {
            let reached = matches!(
                exchange.result.as_ref().map(|answered| answered.answer),
                Ok(RegistryAnswer::Found | RegistryAnswer::NeedsCredentials)
            );
            let reason = match &exchange.result {
                Ok(answered) => Exchange::status_line(answered),
                Err(failure) => failure.describe(),
            };
            (Some(exchange), (!reached).then_some(reason))
        }
        Err(NotAsked::NoDns(reason) | NotAsked::Failed(reason)) => (None, Some(reason)),
    };
    let info = exchange
        .as_ref()
        .map_or_else(|| config_only(image), |exchange| exchange.info(Some(image)));
    match unreachable {
        Some(reason) => Outcome::error(format!(
            "`{image}` names the registry {} directly, which this lower layer cannot reach ({reason})",
            reference.registry
        ))
        .remedy(fix)
        .info(info),
        None => Outcome::warning(format!(
            "`{image}` names the registry {} directly: this lower layer reaches it today, but not once its layer is cut off from the internet as the nested design has it",
            reference.registry
        ))
        .remedy(fix)
        .info(info),
    }
}

/// The top layer pulls straight from the registry named: it needs outbound 443 to it.
async fn direct_from_top_layer(
    context: &Context,
    image: &str,
    reference: &ImageReference,
) -> Outcome {
    let registry = &reference.registry;
    let needs = format!(
        "this top layer needs outbound TCP {} to {registry} (and to IoT Hub, see iothub-connect-https)",
        registry.port()
    );
    let exchange = match ask_registry(context, reference, false).await {
        Ok(exchange) => exchange,
        Err(NotAsked::NoDns(reason)) => {
            return Outcome::skipped(format!(
                "not checked: this machine cannot resolve {registry} ({reason}); {needs} to pull `{image}`"
            ));
        }
        Err(NotAsked::Failed(reason)) => {
            return Outcome::error(format!("`{image}`: {reason}"))
                .remedy(format!("{needs}: check the name and this layer's DNS"))
                .info(config_only(image));
        }
    };
    let info = exchange.info(Some(image));
    let outcome = match &exchange.result {
        Ok(answered) => {
            let status = Exchange::status_line(answered);
            match answered.answer {
                RegistryAnswer::Found | RegistryAnswer::NeedsCredentials => Outcome::ok(format!(
                    "`{image}`: GET {}: {status} from {registry}",
                    exchange.url
                ))
                .detail(needs),
                RegistryAnswer::NotInRegistry => Outcome::error(format!(
                    "`{image}`: GET {}: {status}: {registry} has no {}:{}",
                    exchange.url, reference.repository, reference.reference
                ))
                .remedy("check the repository and tag (IoT Edge's agent is mcr.microsoft.com/azureiotedge-agent:1.5)"),
                _ => Outcome::error(format!(
                    "`{image}`: GET {}: {status}: {registry} does not answer as a Docker registry (a proxy or captive portal in between?)",
                    exchange.url
                ))
                .remedy(format!("{needs}: exempt it from TLS inspection and web filtering")),
            }
        }
        Err(failure) => Outcome::error(format!("`{image}`: GET {}: {}", exchange.url, failure.describe()))
            .remedy(format!(
                "{needs}: open it in the firewall (for mcr.microsoft.com also *.data.mcr.microsoft.com, where the layers are served), or configure the Docker daemon's proxy"
            )),
    };
    outcome.details(exchange.address_detail()).info(info)
}

/// Why the registry was not asked.
enum NotAsked {
    /// This machine resolves no names (no DNS server configured, or none answers): a limit of
    /// where edgeprobe runs, which says nothing about the gateway's own route.
    NoDns(String),
    /// Anything else: the name, or the trust store.
    Failed(String),
}

/// The registry named in the image, asked for the manifest over HTTPS and trusted through the
/// OS store, as the Docker daemon on this host would. With `reachability_only` (a lower layer,
/// where the question is whether the registry can be reached at all) an OS store that cannot be
/// read leaves only the name to judge instead of ending the check.
async fn ask_registry(
    context: &Context,
    reference: &ImageReference,
    reachability_only: bool,
) -> Result<Exchange, NotAsked> {
    let Registry::Host { host, port } = &reference.registry else {
        return Err(NotAsked::Failed(
            "the image names no registry host".to_owned(),
        ));
    };
    let host = validate_hostname(host)
        .map_err(|error| NotAsked::Failed(format!("registry `{host}`: {error}")))?;
    let anchors = match os_trust_store(&context.root.path(SYSTEM_BUNDLE)) {
        Ok(anchors) => Some(anchors),
        Err(_) if reachability_only => None,
        Err(error) => {
            return Err(NotAsked::Failed(format!(
                "the operating system's trust store, which the Docker daemon verifies registries with: {error}"
            )));
        }
    };
    let resolution = match resolve_gateway(
        &host.name,
        &context.resolver_settings(context.root.path(RESOLV_CONF)),
    )
    .await
    {
        Ok(resolution) => resolution,
        Err(failure) => {
            let reason = failure.error.to_string();
            return Err(match failure.error {
                ResolveError::NoNameservers { .. }
                | ResolveError::Timeout { .. }
                | ResolveError::Unreachable { .. } => NotAsked::NoDns(reason),
                _ => NotAsked::Failed(reason),
            });
        }
    };
    let target = RegistryTarget {
        host: &host,
        addresses: &resolution.addresses,
        address_source: AddressSource::Resolved,
        port: port.unwrap_or(443),
        transport: Transport::Https {
            anchors: anchors.as_deref(),
        },
    };
    Ok(request(
        &target,
        &reference.manifest_path(),
        MANIFEST_ACCEPT,
        context,
    )
    .await)
}
