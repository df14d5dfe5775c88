//! `parent-hostname`: on a lower-layer device of a nested hierarchy, `parent_hostname` is a
//! valid name under 64 characters that resolves from this host; and when it resolves only
//! through /etc/hosts (or is a single label), the edgeAgent container can resolve it too, which
//! "Connect Azure IoT Edge devices to create a hierarchy" solves with the agent's
//! `createOptions.HostConfig.ExtraHosts`: Docker gives containers the host's DNS servers, not
//! the host's /etc/hosts.

use std::net::IpAddr;
use std::sync::Arc;

use super::catalog;
use super::{edge_config, resolve_upstream};
use crate::engine::info::ResolveInfo;
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Evidence, OrSkip, Outcome, Prior, Ran, Status,
};
use crate::hostname::validate_hostname;
use crate::net::resolve::{NameRole, ResolutionSource};

pub struct ParentHostnameCheck;

impl DeclaredCheck for ParentHostnameCheck {
    const META: CheckMeta = catalog::PARENT_HOSTNAME;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let config = edge_config(prior)?;
        let parent = config.names.parent_hostname.as_deref().or_skip(
            "no parent_hostname: this is a top-layer gateway, which connects to IoT Hub itself",
        )?;
        let file = config.source.display();
        let apply = config.format.apply_command();
        let host = match validate_hostname(parent) {
            Ok(host) => host,
            Err(error) => {
                return Ok(Outcome::error(format!("`parent_hostname` in {file}: {error}")).remedy(
                    format!(
                        "set `parent_hostname` in {file} to exactly the `hostname` of the parent's config (FQDN or IP address), then `{apply}`"
                    ),
                ));
            }
        };
        let resolution =
            match resolve_upstream(context, &host.name, "parent gateway", NameRole::Parent).await {
                Ok(resolution) => resolution,
                Err(failure) => return Ok(failure),
            };
        let addresses: Vec<String> = resolution
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut outcome = Outcome::ok(format!(
            "parent `{}` resolves to {} (from {})",
            host.name,
            addresses.join(", "),
            resolution.source
        ))
        .details(resolution.notes.clone());
        let needs_extra_hosts = matches!(resolution.source, ResolutionSource::HostsFile { .. })
            || (host.single_label && host.ip().is_none());
        if needs_extra_hosts {
            match extra_host(&config.agent.extra_hosts, &host.name) {
                Some(address) if resolution.addresses.contains(&address) => {
                    outcome = outcome.detail(format!(
                        "the edgeAgent container resolves it too: createOptions ExtraHosts maps it to {address}"
                    ));
                }
                Some(address) => {
                    outcome.escalate(Status::Warning);
                    outcome.message = format!(
                        "parent `{}` resolves to {} on this host, but edgeAgent's ExtraHosts maps it to {address}",
                        host.name,
                        addresses.join(", ")
                    );
                    outcome.remedy = Some(extra_hosts_remedy(
                        &host.name,
                        &addresses,
                        &file.to_string(),
                        apply,
                    ));
                }
                None => {
                    outcome.escalate(Status::Warning);
                    outcome.message = format!(
                        "parent `{}` resolves on this host only through {}: the edgeAgent container, which does not see the host's /etc/hosts, cannot resolve it",
                        host.name, resolution.source
                    );
                    outcome.remedy = Some(extra_hosts_remedy(
                        &host.name,
                        &addresses,
                        &file.to_string(),
                        apply,
                    ));
                }
            }
        }
        Ok(outcome
            .info(ResolveInfo::Resolved(resolution.clone()))
            .evidence(Evidence::Resolution(Arc::new(resolution))))
    }
}

/// The address an `ExtraHosts` entry (`name:address`, Docker's syntax) gives `name`.
pub(super) fn extra_host(entries: &[String], name: &str) -> Option<IpAddr> {
    entries.iter().find_map(|entry| {
        let (entry_name, address) = entry.split_once(':')?;
        entry_name
            .trim()
            .eq_ignore_ascii_case(name)
            .then(|| {
                address
                    .trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse()
                    .ok()
            })
            .flatten()
    })
}

fn extra_hosts_remedy(name: &str, addresses: &[String], file: &str, apply: &str) -> String {
    let address = addresses.first().map_or("<parent IP>", String::as_str);
    format!(
        "in [agent.config] of {file} set `createOptions = {{ HostConfig = {{ ExtraHosts = [\"{name}:{address}\"] }} }}` (keep any other HostConfig entries), run `sudo docker rm -f edgeAgent` so it is recreated, then `{apply}`; give edgeHub the same ExtraHosts in the deployment"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_hosts_entries_use_dockers_name_colon_address_form() {
        let entries = vec![
            "other:10.0.0.9".to_owned(),
            "Parent-GW:10.0.0.4".to_owned(),
            "v6:[fd00::4]".to_owned(),
        ];
        assert_eq!(
            extra_host(&entries, "parent-gw"),
            Some("10.0.0.4".parse().unwrap())
        );
        assert_eq!(extra_host(&entries, "v6"), Some("fd00::4".parse().unwrap()));
        assert_eq!(extra_host(&entries, "missing"), None);
    }
}
