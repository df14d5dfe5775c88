//! `gateway-hostname-matches-config`: on a leaf, given a copy of the gateway's config
//! (`--gateway-config`), the name the leaf dials equals the gateway's `hostname`, compared
//! case-insensitively as host names are (RFC 4343). It is the first step of "Troubleshoot your
//! IoT Edge gateway": edgeHub's certificate is issued for `hostname`, so any other name fails
//! name verification on the leaf even when it reaches the right machine.

use crate::config;
use crate::engine::{Check, CheckFuture, Context, Dependency, Group, Outcome, Prior};

pub struct GatewayHostnameMatchesConfigCheck;

impl Check for GatewayHostnameMatchesConfigCheck {
    fn id(&self) -> &'static str {
        "gateway-hostname-matches-config"
    }
    fn group(&self) -> Group {
        Group::Configuration
    }
    fn description(&self) -> &'static str {
        "GatewayHostName matches the gateway config's hostname"
    }
    fn dependencies(&self) -> &'static [Dependency] {
        &[Dependency::Uses("connection-string")]
    }
    fn applies(&self, context: &Context) -> bool {
        context.gateway_config.is_some()
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(path) = &context.gateway_config else {
                return Outcome::skipped("no --gateway-config given");
            };
            let gateway = match config::load(path) {
                Ok(gateway) => gateway,
                Err(error) => {
                    return Outcome::error(format!("--gateway-config: {error}")).remedy(
                        "copy the gateway's /etc/aziot/config.toml (1.1: /etc/iotedge/config.yaml) again, e.g. `sudo cat /etc/aziot/config.toml` on the gateway",
                    );
                }
            };
            let file = gateway.source.display();
            let Some(hostname) = gateway.hostname.as_deref() else {
                return Outcome::error(format!("the gateway config {file} sets no `hostname`"))
                    .remedy("set `hostname` at the top of the gateway's config, apply it there, and copy it again");
            };
            // The names the leaf may dial: the connection string's GatewayHostName, and
            // --gateway, which wins over it.
            let mut names: Vec<(&str, &str)> = Vec::new();
            if let Some(gateway_host_name) = prior
                .connection_string()
                .and_then(|parsed| parsed.gateway_host_name.as_deref())
            {
                names.push(("the connection string's GatewayHostName", gateway_host_name));
            }
            if let Some(given) = context.gateway.as_deref() {
                names.push(("--gateway", given));
            }
            if names.is_empty() {
                return Outcome::skipped(
                    "skipped because no gateway name is known (no GatewayHostName in the connection string, no --gateway)",
                );
            }
            let info = serde_json::json!({
                "gateway_config": gateway.source,
                "hostname": hostname,
                "names": names.iter().map(|(source, name)| serde_json::json!({ "source": source, "name": name })).collect::<Vec<_>>(),
            });
            let mismatched: Vec<&(&str, &str)> = names
                .iter()
                .filter(|(_, name)| !same_host(name, hostname))
                .collect();
            match mismatched.first() {
                None => Outcome::ok(format!(
                    "{} `{}` matches `hostname` in {file}",
                    names[0].0, names[0].1
                ))
                .info(&info),
                Some((source, name)) => Outcome::error(format!(
                    "{source} `{name}` differs from `hostname = \"{hostname}\"` in {file}: edgeHub's certificate is issued for `{hostname}`, so the leaf's TLS name check fails"
                ))
                .remedy(format!(
                    "set GatewayHostName={hostname} in the leaf's connection string (and --gateway, if used), or change `hostname` on the gateway to `{name}`, apply it there and recreate edgeHub"
                ))
                .info(&info),
            }
        })
    }
}

/// Host names compare case-insensitively (RFC 4343); one trailing dot is ignored.
fn same_host(left: &str, right: &str) -> bool {
    let trim = |name: &str| name.trim().trim_end_matches('.').to_owned();
    trim(left).eq_ignore_ascii_case(&trim(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_compare_without_case() {
        assert!(same_host("GW.Contoso.com", "gw.contoso.com"));
        assert!(same_host("gw.contoso.com.", "gw.contoso.com"));
        assert!(!same_host("gw", "gw.contoso.com"));
    }
}
