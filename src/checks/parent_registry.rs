//! `parent-registry`: the Docker registry the layer below pulls its images from answers.
//! On a lower layer of a nested hierarchy that is `GET https://{parent_hostname}:443/v2/`
//! through the parent's API proxy module (an nginx on 443 that routes `/v2` towards the top
//! layer's registry module), verified against this device's trust bundle as the Docker daemon
//! verifies it; on the top layer (`--top-layer`) the registry module itself, on the port its
//! deployment publishes (`registry:latest`, PortBindings `5000/tcp`). A registry answers 200, or
//! 401 when it wants credentials, with `Docker-Distribution-API-Version: registry/2.0`
//! ("Connect Azure IoT Edge devices to create a hierarchy"; the API proxy module's README).

use super::catalog;
use super::edge_config;
use super::registry_request::{
    Answered, Exchange, ParentRoute, RegistryTarget, RequestFailure, Transport, request,
};
use crate::config::EdgeConfig;
use crate::engine::info::AddressSource;
use crate::engine::{CheckMeta, Context, DeclaredCheck, Outcome, Peer, Prior, Ran, Skip, Status};
use crate::hostname::validate_hostname;
use crate::net::Protocol;
use crate::net::registry::{BASE_PATH, RegistryAnswer};
use crate::net::tls::ConnectError;

pub struct ParentRegistryCheck;

/// Why the nested checks do not apply to a gateway without a parent, unless told it is a top layer.
const NOT_NESTED: &str = "no parent_hostname and no --top-layer: not part of a nested hierarchy (on its top layer, pass --top-layer)";

/// The API proxy module as the nested guide deploys it.
const API_PROXY: &str = "the API proxy module (image mcr.microsoft.com/azureiotedge-api-proxy:1.1, createOptions HostConfig.PortBindings \"443/tcp\" to host port 443, env NGINX_DEFAULT_PORT=443 and DOCKER_REQUEST_ROUTE_ADDRESS, both listed in PROXY_CONFIG_ENV_VAR_LIST; edgeHub then publishes no 443)";

impl DeclaredCheck for ParentRegistryCheck {
    const META: CheckMeta = catalog::PARENT_REGISTRY;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let config = nested_config(context, prior)?;
        match config.names.parent_hostname.as_deref() {
            Some(parent) => lower_layer(context, prior, config, parent).await,
            None => Ok(top_layer(context).await),
        }
    }
}

/// The nested checks' prologue: the config, on a lower layer or a top layer (`--top-layer`).
pub(super) fn nested_config<'a>(
    context: &Context,
    prior: &'a Prior,
) -> Result<&'a EdgeConfig, Skip> {
    let config = edge_config(prior)?;
    if config.names.parent_hostname.is_none() && !context.gateway_mode.nested.top_layer {
        return Err(Skip::because(NOT_NESTED));
    }
    Ok(config)
}

async fn lower_layer(context: &Context, prior: &Prior, config: &EdgeConfig, parent: &str) -> Ran {
    let route = ParentRoute::to(config, prior, parent)?;
    let host = &route.host;
    let exchange = request(
        &route.target(context.gateway_mode.parent_ports.https),
        BASE_PATH,
        &[],
        context,
    )
    .await;
    let outcome = match parent_failure(&exchange, &host.name, config) {
        Some(outcome) => outcome,
        None => match &exchange.result {
            Ok(answered)
                if matches!(
                    answered.answer,
                    RegistryAnswer::Found | RegistryAnswer::NeedsCredentials
                ) =>
            {
                unverified_warning(
                    Outcome::ok(format!(
                        "GET {}: {}, a Docker registry (registry/2.0) answers through the parent's API proxy",
                        exchange.url,
                        Exchange::status_line(answered)
                    )),
                    answered,
                    config,
                )
            }
            _ => unexpected(&exchange, "the parent's API proxy"),
        },
    };
    Ok(outcome
        .details(exchange.address_detail())
        .info(exchange.info(None)))
}

/// The findings a request through the parent shares with `agent-image-upstream`: everything
/// but a registry's 200, 401 and 404, which mean different things for `/v2/` and a manifest.
pub(super) fn parent_failure(
    exchange: &Exchange,
    parent: &str,
    config: &EdgeConfig,
) -> Option<Outcome> {
    let url = &exchange.url;
    let file = config.source.display().to_string();
    let answered = match &exchange.result {
        Ok(answered) => answered,
        Err(failure) => return Some(request_failure(exchange, failure, parent, &file)),
    };
    let status = Exchange::status_line(answered);
    let outcome = match answered.answer {
        RegistryAnswer::Found | RegistryAnswer::NeedsCredentials | RegistryAnswer::NotInRegistry => {
            return None;
        }
        RegistryAnswer::NoRegistryRoute => {
            let proxy = answered
                .response
                .server
                .as_deref()
                .is_some_and(|server| server.to_ascii_lowercase().contains("nginx"));
            let (finding, fix) = if proxy {
                (
                    "an nginx answers on the parent's port but routes no `/v2` to a registry: the API proxy's config has no registry route",
                    format!(
                        "on the parent `{parent}`, set the API proxy module's DOCKER_REQUEST_ROUTE_ADDRESS (on the top layer `registry:5000`, the registry module; on a middle layer leave the default, its own parent) and list it in PROXY_CONFIG_ENV_VAR_LIST; a custom proxy config needs the `location /v2` block"
                    ),
                )
            } else {
                (
                    "no registry behind the parent's port: the API proxy module is not deployed there (edgeHub answers this port itself with 404)",
                    format!("deploy on the parent `{parent}` {API_PROXY}"),
                )
            };
            Outcome::error(format!("GET {url}: {status}: {finding}")).remedy(fix)
        }
        RegistryAnswer::UpstreamDown => Outcome::error(format!(
            "GET {url}: {status}: the parent's API proxy answers, but the registry behind it does not"
        ))
        .remedy(format!(
            "if `{parent}` is the top layer: check its registry module runs (`sudo iotedge list`, `sudo iotedge logs registry`; image registry:latest, PortBindings \"5000/tcp\") and that the API proxy's DOCKER_REQUEST_ROUTE_ADDRESS is `registry:5000`; if it is a middle layer: run `edgeprobe check` there, its own parent's registry is what fails"
        )),
        RegistryAnswer::NotARegistry => Outcome::error(format!(
            "GET {url}: {status} without `Docker-Distribution-API-Version: registry/2.0`: what answers is not a Docker registry"
        ))
        .remedy(format!(
            "on the parent `{parent}`, the API proxy's DOCKER_REQUEST_ROUTE_ADDRESS must name the registry module (`registry:5000` on the top layer), not another service"
        )),
        RegistryAnswer::Unexpected => unexpected(exchange, "the parent's API proxy"),
    };
    Some(outcome)
}

/// A registry reached through the parent without a trust bundle: it answered, but the chain
/// was only checked for the name, so the outcome is a warning, never OK.
pub(super) fn unverified_warning(
    mut outcome: Outcome,
    answered: &Answered,
    config: &EdgeConfig,
) -> Outcome {
    if answered.unverified {
        outcome.escalate(Status::Warning);
        outcome.message.push_str(
            ", but the parent's certificate was not verified: no trust bundle is configured",
        );
        outcome.remedy = Some(format!(
            "set `{}` in {} to the root CA the hierarchy shares, then `{}`: the Docker daemon refuses a registry it cannot verify",
            config.format.trust_bundle_setting(),
            config.source.display(),
            config.format.apply_command()
        ));
    }
    outcome
}

/// A status no finding explains.
fn unexpected(exchange: &Exchange, what: &str) -> Outcome {
    let status = exchange
        .result
        .as_ref()
        .map(Exchange::status_line)
        .unwrap_or_default();
    Outcome::error(format!(
        "GET {}: {status}: {what} does not answer as a Docker registry does (200, or 401 for credentials)",
        exchange.url
    ))
    .remedy(format!(
        "look at the logs of {what} and of the registry module behind it (`sudo iotedge logs <module>`)"
    ))
}

/// No answer to judge: the connection, the chain or the HTTP exchange failed.
fn request_failure(
    exchange: &Exchange,
    failure: &RequestFailure,
    parent: &str,
    file: &str,
) -> Outcome {
    let outcome = Outcome::error(format!("GET {}: {}", exchange.url, failure.describe()));
    let port = exchange
        .address
        .map_or_else(|| "443".to_owned(), |address| address.port().to_string());
    match failure {
        RequestFailure::Connect(ConnectError::Refused { endpoint }) => outcome.remedy(format!(
            "nothing listens on {parent}:{}: deploy on the parent {API_PROXY}",
            endpoint.port()
        )),
        RequestFailure::Connect(error) => {
            let mut remedy = super::connect_failure::remedy(
                error,
                Peer::Parent,
                Protocol::Https,
                error.endpoint().map_or(443, |endpoint| endpoint.port()),
                parent,
            );
            if exchange.address_source == AddressSource::ExtraHosts {
                remedy.push_str(
                    "; the address came from edgeAgent's ExtraHosts: check that it is the parent's",
                );
            }
            outcome.remedy(remedy)
        }
        RequestFailure::Untrusted { code, errors, .. } => outcome
            .details(errors.clone())
            .remedy(super::parent_connect::remedy(*code, parent, file)),
        RequestFailure::NoHttp(_) => outcome.remedy(format!(
            "the parent's port {port} does not answer HTTP as the API proxy does: check `sudo iotedge logs IoTEdgeAPIProxy` on {parent}"
        )),
        RequestFailure::Setup(_) => outcome,
    }
}

/// The top layer: its registry module on the port the deployment publishes, in plain HTTP.
async fn top_layer(context: &Context) -> Outcome {
    let Ok(loopback) = validate_hostname("127.0.0.1") else {
        return Outcome::error("127.0.0.1 is not a valid host (cannot happen)");
    };
    let port = context.gateway_mode.nested.registry_port;
    let target = RegistryTarget {
        host: &loopback,
        addresses: &[std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)],
        address_source: AddressSource::Loopback,
        port,
        transport: Transport::Http,
    };
    let exchange = request(&target, BASE_PATH, &[], context).await;
    let module = "deploy the registry module on this top layer: image registry:latest, createOptions {\"HostConfig\":{\"PortBindings\":{\"5000/tcp\":[{\"HostPort\":\"5000\"}]}}}, env REGISTRY_PROXY_REMOTEURL=https://mcr.microsoft.com (the registry the children's images come from); check it with `sudo iotedge list`, or pass --registry-port when it publishes another port";
    let outcome = match &exchange.result {
        Ok(answered)
            if matches!(
                answered.answer,
                RegistryAnswer::Found | RegistryAnswer::NeedsCredentials
            ) =>
        {
            Outcome::ok(format!(
                "the registry module answers GET {}: {} (registry/2.0)",
                exchange.url,
                Exchange::status_line(answered)
            ))
            .detail("the layers below reach it through this gateway's API proxy on 443, whose DOCKER_REQUEST_ROUTE_ADDRESS must be registry:5000")
        }
        Ok(_) => unexpected(&exchange, "the registry module's port"),
        Err(failure) => Outcome::error(format!(
            "GET {}: {}: the registry module does not answer",
            exchange.url,
            failure.describe()
        ))
        .remedy(module),
    };
    outcome
        .details(exchange.address_detail())
        .info(exchange.info(None))
}
