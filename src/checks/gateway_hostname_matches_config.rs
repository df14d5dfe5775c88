//! `gateway-hostname-matches-config`: on a leaf, given a copy of the gateway's config
//! (`--gateway-config`), the name the leaf dials equals the gateway's `hostname`, compared
//! case-insensitively as host names are (RFC 4343). It is the first step of "Troubleshoot your
//! IoT Edge gateway": edgeHub's certificate is issued for `hostname`, so any other name fails
//! name verification on the leaf even when it reaches the right machine.

use super::catalog;
use crate::config;
use crate::engine::info::{DialedName, GatewayHostnameMatchesConfigInfo, GatewayNameSource};
use crate::engine::{CheckMeta, Context, DeclaredCheck, OrSkip, Outcome, Prior, Ran};
use crate::hostname::same_host_name;

pub struct GatewayHostnameMatchesConfigCheck;

impl DeclaredCheck for GatewayHostnameMatchesConfigCheck {
    const META: CheckMeta = catalog::GATEWAY_HOSTNAME_MATCHES_CONFIG;
    fn applies(&self, context: &Context) -> bool {
        context.gateway_config.is_some()
    }
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let path = context
            .gateway_config
            .as_ref()
            .or_skip("no --gateway-config given")?;
        let gateway = match config::load(path) {
            Ok(gateway) => gateway,
            Err(error) => {
                return Ok(Outcome::error(format!("--gateway-config: {error}")).remedy(
                    "copy the gateway's /etc/aziot/config.toml (1.1: /etc/iotedge/config.yaml) again, e.g. `sudo cat /etc/aziot/config.toml` on the gateway",
                ));
            }
        };
        let file = gateway.source.display();
        let Some(hostname) = gateway.names.hostname.as_deref() else {
            return Ok(Outcome::error(format!("the gateway config {file} sets no `hostname`"))
                .remedy("set `hostname` at the top of the gateway's config, apply it there, and copy it again"));
        };
        // The names the leaf may dial: the connection string's GatewayHostName, and
        // --gateway, which wins over it.
        let mut names: Vec<(GatewayNameSource, &str)> = Vec::new();
        if let Some(gateway_host_name) = prior
            .connection_string()
            .and_then(|parsed| parsed.address.gateway_host_name.as_deref())
        {
            names.push((GatewayNameSource::ConnectionString, gateway_host_name));
        }
        if let Some(given) = context.gateway.as_deref() {
            names.push((GatewayNameSource::Flag, given));
        }
        let (first_source, first_name) = names.first().copied().or_skip(
            "skipped because no gateway name is known (no GatewayHostName in the connection string, no --gateway)",
        )?;
        let info = GatewayHostnameMatchesConfigInfo {
            gateway_config: gateway.source.clone(),
            hostname: hostname.to_owned(),
            names: names
                .iter()
                .map(|(source, name)| DialedName {
                    source: *source,
                    name: (*name).to_owned(),
                })
                .collect(),
        };
        // Whitespace around either name is not part of it.
        let mismatched = names
            .iter()
            .find(|(_, name)| !same_host_name(name.trim(), hostname.trim()));
        Ok(match mismatched {
            None => Outcome::ok(format!(
                "{} `{first_name}` matches `hostname` in {file}",
                first_source.text()
            ))
            .info(info),
            Some((source, name)) => Outcome::error(format!(
                "{} `{name}` differs from `hostname = \"{hostname}\"` in {file}: edgeHub's certificate is issued for `{hostname}`, so the leaf's TLS name check fails",
                source.text()
            ))
            .remedy(mismatch_remedy(name, hostname, &gateway))
            .info(info),
        })
    }
}

/// Fix the leaf first: the gateway's `hostname` is what its certificate and its other leaves
/// use. The gateway's own syntax and command (1.1's config.yaml or 1.2+'s config.toml) are
/// quoted for the rarer case where `hostname` itself is wrong; an address is never proposed
/// as `hostname`, which the IoT Edge docs advise against.
fn mismatch_remedy(name: &str, hostname: &str, gateway: &config::EdgeConfig) -> String {
    let leaf = format!(
        "set GatewayHostName={hostname} in the leaf's connection string (and --gateway, if used)"
    );
    if name.parse::<std::net::IpAddr>().is_ok() {
        return format!(
            "{leaf}, and make `{hostname}` resolve to {name} on the leaf (DNS, or the line `{name} {hostname}` in /etc/hosts)"
        );
    }
    format!(
        "{leaf}: edgeHub's certificate is issued for `{hostname}`, the name the other leaves dial. Only if `{hostname}` is itself wrong, set `hostname` in the gateway's {} to `{name}`, run `{}` there and recreate edgeHub",
        gateway.format.system_path(),
        gateway.format.apply_command()
    )
}
