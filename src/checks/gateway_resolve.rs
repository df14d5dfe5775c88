//! `gateway-resolve`: the gateway name resolves the way the device resolves it, and (in a
//! single-gateway leaf run without `--dns-server`) the answer agrees with the system
//! resolver, getaddrinfo, which device SDKs call.

use std::sync::Arc;

use super::{catalog, gateway_name};
use crate::engine::info::{ResolveFailure, ResolveInfo};
use crate::engine::{CheckMeta, Context, DeclaredCheck, Evidence, Outcome, Prior, Ran, Status};
use crate::net::resolve::RESOLV_CONF;
use crate::net::resolve::{Resolution, ResolutionSource, same_addresses, system_lookup};

pub struct GatewayResolveCheck;

impl DeclaredCheck for GatewayResolveCheck {
    const META: CheckMeta = catalog::GATEWAY_RESOLVE;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let name = gateway_name(prior)?;
        // The device resolves with its own resolv.conf, whatever `--root` says.
        let settings = context.resolver_settings(RESOLV_CONF.into());
        let resolved = context.shared.resolver(&settings).resolve(name).await;
        // What device SDKs get (getaddrinfo), asked only where it can differ: not for an
        // override or an IP literal, nor when --dns-server names another server on purpose.
        let compare = context.compare_system_resolver
            && context.leaf.dns_server.is_none()
            && resolved.as_ref().map_or(true, |resolution| {
                matches!(
                    resolution.source,
                    ResolutionSource::HostsFile { .. } | ResolutionSource::Dns { .. }
                )
            });
        let system = if compare {
            Some(system_lookup(name, context.leaf.timeout).await)
        } else {
            None
        };
        Ok(match resolved {
            Ok(resolution) => {
                let addresses = listed(&resolution.addresses);
                let mut outcome = Outcome::ok(format!(
                    "`{name}` resolves to {addresses} (from {})",
                    resolution.source
                ))
                .details(resolution.notes.clone());
                match &system {
                    Some(Ok(found)) if same_addresses(found, &resolution.addresses) => {
                        outcome = outcome.detail(
                            "the system resolver (getaddrinfo, what device SDKs call) agrees",
                        );
                    }
                    Some(answer) => {
                        let said = match answer {
                            Ok(found) => format!("answers {}", listed(found)),
                            Err(error) => format!("does not resolve it ({error})"),
                        };
                        outcome.raise(
                            Status::Warning,
                            format!(
                                "`{name}` resolves to {addresses} (from {}), but the system resolver (getaddrinfo, what device SDKs call) {said}",
                                resolution.source
                            ),
                            format!(
                                "SDKs resolve through /etc/nsswitch.conf (its `hosts:` line: files, mdns, resolve, dns): compare with `getent ahosts {name}` on the device, and make /etc/hosts and DNS give the gateway's address{}",
                                if settings.hosts_file == std::path::Path::new("/etc/hosts") {
                                    String::new()
                                } else {
                                    format!(" (this run read {} instead of /etc/hosts)", settings.hosts_file.display())
                                }
                            ),
                        );
                    }
                    None => {}
                }
                outcome
                    .info(ResolveInfo::Resolved(resolution.clone()))
                    .evidence(Evidence::Resolution(Arc::new(resolution)))
            }
            // The hosts file and DNS have nothing, but getaddrinfo does (mDNS for a `.local`
            // name, systemd-resolved): the device reaches the gateway, through those addresses.
            Err(failure) if matches!(&system, Some(Ok(_))) => {
                let found = match system {
                    Some(Ok(found)) => found,
                    _ => Vec::new(),
                };
                let resolution = Resolution {
                    name: name.to_owned(),
                    addresses: found,
                    source: ResolutionSource::SystemResolver,
                    notes: failure.notes.clone(),
                };
                Outcome::warning(format!(
                    "`{name}` resolves to {} only through the system resolver (getaddrinfo: /etc/nsswitch.conf, e.g. mDNS for .local names); the hosts file and DNS do not: {failure}",
                    listed(&resolution.addresses)
                ))
                .remedy(format!(
                    "device SDKs that call getaddrinfo reach the gateway; anything that asks DNS itself (containers, other devices) does not: {}",
                    failure.remedy(name)
                ))
                .info(ResolveInfo::Resolved(resolution.clone()))
                .evidence(Evidence::Resolution(Arc::new(resolution)))
            }
            // Through a proxy the device leaves the name to the proxy (as curl does): not
            // resolving here is then no reason to stop the connect checks.
            Err(failure) if context.leaf.proxy.route(name).is_some() => Outcome::warning(format!(
                "{failure}; through the proxy ({}) the proxy resolves the name, so the connect checks go on",
                context.leaf.proxy.source
            ))
            .details(failure.notes.clone())
            .remedy("nothing to do if this device reaches the gateway only through the proxy; otherwise see the resolver's fix: `edgeprobe explain gateway-resolve`")
            .info(ResolveInfo::Failed(ResolveFailure {
                name: name.to_owned(),
                error: failure.error.to_string(),
            })),
            Err(failure) => {
                let mut outcome = Outcome::error(failure.to_string())
                    .details(failure.notes.clone())
                    .remedy(failure.remedy(name));
                if let Some(Err(error)) = &system {
                    outcome = outcome.detail(format!(
                        "the system resolver (getaddrinfo) does not resolve it either: {error}"
                    ));
                }
                outcome.info(ResolveInfo::Failed(ResolveFailure {
                    name: name.to_owned(),
                    error: failure.error.to_string(),
                }))
            }
        })
    }
}

/// `10.0.0.5, fd00::5`.
fn listed(addresses: &[std::net::IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
