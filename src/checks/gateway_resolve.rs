//! `gateway-resolve`: the gateway name resolves the way the device resolves it.

use std::sync::Arc;

use crate::engine::{Check, CheckFuture, Context, Dependency, Evidence, Group, Outcome, Prior};
use crate::net::resolve::ResolverSettings;

pub struct GatewayResolveCheck;

impl Check for GatewayResolveCheck {
    fn id(&self) -> &'static str {
        "gateway-resolve"
    }
    fn group(&self) -> Group {
        Group::GatewayConnectivity
    }
    fn description(&self) -> &'static str {
        "gateway name resolves to an address"
    }
    fn dependencies(&self) -> &'static [Dependency] {
        &[Dependency::Requires("gateway-hostname")]
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(name) = prior.gateway_name() else {
                return Outcome::skipped("skipped because no gateway name is known");
            };
            let settings = ResolverSettings {
                hosts_file: context.hosts_file.clone(),
                dns_server: context.dns_server,
                overrides: context.resolve_overrides.clone(),
                timeout: context.timeout,
                ..ResolverSettings::system(context.timeout)
            };
            match context.shared.resolver(&settings).resolve(name).await {
                Ok(resolution) => {
                    let addresses: Vec<String> = resolution
                        .addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    Outcome::ok(format!(
                        "`{name}` resolves to {} (from {})",
                        addresses.join(", "),
                        resolution.source
                    ))
                    .details(resolution.notes.clone())
                    .info(&resolution)
                    .evidence(Evidence::Resolution(Arc::new(resolution)))
                }
                Err(failure) => Outcome::error(failure.to_string())
                    .details(failure.notes.clone())
                    .remedy(failure.remedy(name))
                    .info(&serde_json::json!({ "name": name, "error": failure.error.to_string() })),
            }
        })
    }
}
