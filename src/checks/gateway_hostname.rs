//! `gateway-hostname`: the gateway name the device dials is a valid host name.

use super::catalog;
use crate::engine::info::{GatewayHostnameInfo, GatewayNameSource};
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Evidence, OrSkip, Outcome, Prior, Ran, Skip, Status,
};
use crate::hostname::{HostKind, same_host_name, validate_hostname};

pub struct GatewayHostnameCheck;

impl DeclaredCheck for GatewayHostnameCheck {
    const META: CheckMeta = catalog::GATEWAY_HOSTNAME;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        // --gateway wins over the connection string's GatewayHostName.
        let (name, source) = match (&context.gateway, prior.connection_string()) {
            (Some(gateway), _) => (gateway.clone(), GatewayNameSource::Flag),
            (None, Some(parsed)) => (
                parsed
                    .address
                    .gateway_host_name
                    .clone()
                    .or_skip("skipped because the connection string names no gateway")?,
                GatewayNameSource::ConnectionString,
            ),
            (None, None) => {
                return match prior.outcome("connection-string") {
                    Some(outcome) if outcome.status == Status::Error => {
                        Err(Skip::because("skipped because `connection-string` failed"))
                    }
                    _ => Ok(Outcome::error("no gateway name given")
                        .remedy("pass --gateway <gateway FQDN> or a --connection-string with GatewayHostName")),
                };
            }
        };
        let source_text = source.text();
        let host = match validate_hostname(&name) {
            Ok(host) => host,
            Err(error) => {
                return Ok(Outcome::error(format!("`{name}` (from {source_text}) is not a valid host name: {error}"))
                    .remedy("use the gateway's fully qualified domain name, exactly as set in `hostname` in its config.toml"));
            }
        };
        let info = GatewayHostnameInfo {
            gateway: host.name.clone(),
            source,
        };
        let outcome = match host.kind {
            HostKind::Ipv4(_) | HostKind::Ipv6(_) => Outcome::warning(format!(
                "`{}` is an IP address: the gateway's certificate must then carry it as an IP SAN, and the IoT Edge docs advise a host name",
                host.name
            ))
            .remedy("set the gateway's `hostname` to an FQDN (or keep the machine name and add `<IP> <name>` to /etc/hosts on the devices), and use that name as GatewayHostName"),
            HostKind::Dns if host.single_label => Outcome::warning(format!(
                "`{}` is a single-label name: it resolves only through a hosts entry or a DNS search domain",
                host.name
            ))
            .remedy("prefer the gateway's FQDN (e.g. gw.contoso.com) in `hostname` and GatewayHostName"),
            HostKind::Dns => Outcome::ok(format!("`{}` (from {source_text}) is a valid host name", host.name)),
        };
        // --gateway points the checks elsewhere than the device itself dials: say so, or every
        // verdict below is about another machine than the one the device connects to.
        let dialled = prior
            .connection_string()
            .and_then(|parsed| parsed.address.gateway_host_name.clone())
            .filter(|dialled| {
                source == GatewayNameSource::Flag && !same_host_name(dialled, &host.name)
            });
        let outcome = match dialled {
            None => outcome,
            Some(dialled) => {
                let mut warned = Outcome::warning(format!(
                    "checking `{}` (--gateway), but the connection string's GatewayHostName is `{dialled}`: the device itself dials `{dialled}`, which these checks do not test",
                    host.name
                ))
                .detail(outcome.message.clone())
                .remedy(format!(
                    "to check what the device does, drop --gateway (or pass --gateway {dialled}); if `{}` is the right gateway, set GatewayHostName={} in the device's connection string",
                    host.name, host.name
                ));
                warned.escalate(outcome.status);
                if outcome.status > Status::Warning {
                    warned.remedy = outcome.remedy.clone();
                }
                warned
            }
        };
        Ok(outcome
            .info(info)
            .evidence(Evidence::GatewayName(host.name)))
    }
}
