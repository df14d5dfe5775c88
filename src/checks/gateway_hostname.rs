//! `gateway-hostname`: the gateway name the device dials is a valid host name.

use crate::engine::{
    Check, CheckFuture, Context, Dependency, Evidence, Group, Outcome, Prior, Status,
};
use crate::hostname::{HostKind, validate_hostname};

pub struct GatewayHostnameCheck;

impl Check for GatewayHostnameCheck {
    fn id(&self) -> &'static str {
        "gateway-hostname"
    }
    fn group(&self) -> Group {
        Group::GatewayConnectivity
    }
    fn description(&self) -> &'static str {
        "gateway name is a valid host name"
    }
    fn dependencies(&self) -> &'static [Dependency] {
        &[Dependency::Uses("connection-string")]
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            // --gateway wins over the connection string's GatewayHostName.
            let (name, source) = match (&context.gateway, prior.connection_string()) {
                (Some(gateway), _) => (gateway.clone(), "--gateway"),
                (None, Some(parsed)) => match &parsed.gateway_host_name {
                    Some(gateway) => (gateway.clone(), "the connection string's GatewayHostName"),
                    None => {
                        return Outcome::skipped(
                            "skipped because the connection string names no gateway",
                        );
                    }
                },
                (None, None) => {
                    return match prior.outcome("connection-string") {
                        Some(outcome) if outcome.status == Status::Error => {
                            Outcome::skipped("skipped because `connection-string` failed")
                        }
                        _ => Outcome::error("no gateway name given")
                            .remedy("pass --gateway <gateway FQDN> or a --connection-string with GatewayHostName"),
                    };
                }
            };
            let host = match validate_hostname(&name) {
                Ok(host) => host,
                Err(error) => {
                    return Outcome::error(format!("`{name}` (from {source}) is not a valid host name: {error}"))
                        .remedy("use the gateway's fully qualified domain name, exactly as set in `hostname` in its config.toml");
                }
            };
            let info = serde_json::json!({ "gateway": host.name, "source": source });
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
                HostKind::Dns => Outcome::ok(format!("`{}` (from {source}) is a valid host name", host.name)),
            };
            outcome
                .info(&info)
                .evidence(Evidence::GatewayName(host.name))
        })
    }
}
