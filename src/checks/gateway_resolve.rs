//! `gateway-resolve`: the gateway name resolves the way the device resolves it.

use std::sync::Arc;

use crate::engine::info::{ResolveFailure, ResolveInfo};
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Dependency, Evidence, Group, InfoSchema, OrSkip, Outcome,
    Prior, Ran,
};
use crate::net::resolve::RESOLV_CONF;

pub struct GatewayResolveCheck;

impl DeclaredCheck for GatewayResolveCheck {
    const META: CheckMeta = CheckMeta {
        id: "gateway-resolve",
        group: Group::GatewayConnectivity,
        title: "gateway name resolves to an address",
        dependencies: &[Dependency::Requires("gateway-hostname")],
        info: InfoSchema::Resolve,
    };
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let name = prior
            .gateway_name()
            .or_skip("skipped because no gateway name is known")?;
        // The device resolves with its own resolv.conf, whatever `--root` says.
        let settings = context.resolver_settings(RESOLV_CONF.into());
        Ok(
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
                    .info(ResolveInfo::Resolved(resolution.clone()))
                    .evidence(Evidence::Resolution(Arc::new(resolution)))
                }
                Err(failure) => Outcome::error(failure.to_string())
                    .details(failure.notes.clone())
                    .remedy(failure.remedy(name))
                    .info(ResolveInfo::Failed(ResolveFailure {
                        name: name.to_owned(),
                        error: failure.error.to_string(),
                    })),
            },
        )
    }
}
