//! `hostname`: the gateway's `hostname` setting is a name leaves can dial and edgeHub's server
//! certificate can carry, and agrees with the machine's own name as `iotedge check` expects.

use super::catalog;
use super::edge_config;
use crate::engine::info::{CheckedHostname, HostnameInfo, InvalidHostname};
use crate::engine::{CheckMeta, Context, DeclaredCheck, Evidence, Outcome, Prior, Ran, Status};
use crate::hostname::{HostKind, HostnameError, validate_hostname};

pub struct HostnameCheck;

impl DeclaredCheck for HostnameCheck {
    const META: CheckMeta = catalog::HOSTNAME;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let config = edge_config(prior)?;
        let file = config.source.display();
        let apply = config.format.apply_command();
        let Some(name) = config.names.hostname.as_deref() else {
            let misplaced = config
                .misplaced_keys
                .iter()
                .find(|key| key.starts_with("hostname "));
            return Ok(Outcome::error(match misplaced {
                Some(key) => format!("{file} has `hostname` only as {key}, where IoT Edge does not read it"),
                None => format!("{file} sets no `hostname`: edgeHub's certificate is then issued for the machine name, which leaves may not be able to dial"),
            })
            .remedy(format!(
                "add `hostname = \"<gateway FQDN>\"` at the top of {file}, before any [section] (1.1: `hostname: \"<FQDN>\"`), the same name leaves use as GatewayHostName; then `{apply}`"
            )));
        };
        let host = match validate_hostname(name) {
            Ok(host) => host,
            Err(error) => {
                let remedy = match error {
                    HostnameError::TooLong { .. } => format!(
                        "IoT Edge puts the hostname in the common name of edgeHub's certificate, which RFC 5280 limits to 64 characters: set `hostname` in {file} to a shorter name (a shorter DNS alias works), then `{apply}` and recreate edgeHub"
                    ),
                    _ => format!(
                        "set `hostname` in {file} to the gateway's FQDN (letters, digits, hyphens and dots), then `{apply}` and give leaves the same name as GatewayHostName"
                    ),
                };
                return Ok(Outcome::error(format!("`hostname` in {file}: {error}"))
                    .remedy(remedy)
                    .info(HostnameInfo::Invalid(InvalidHostname {
                        hostname: name.to_owned(),
                    })));
            }
        };
        let machine = context.root.machine_hostname();
        let mut outcome = Outcome::ok(format!("hostname `{}` is valid", host.name));
        match &host.kind {
            HostKind::Ipv4(_) | HostKind::Ipv6(_) => {
                // The nested-edge guide allows IP addresses (edgeHub then gets an IP SAN),
                // the transparent-gateway guide asks for a name: warn, do not fail.
                outcome.raise(
                    Status::Warning,
                    format!(
                        "hostname `{}` is an IP address: leaves must then dial exactly that address, and a DHCP change breaks every leaf",
                        host.name
                    ),
                    format!(
                        "use the gateway's FQDN as `hostname` in {file}, or keep the machine name and map it on each leaf (`<IP> <name>` in /etc/hosts); use the same form (name or IP) across the hierarchy; then `{apply}`"
                    ),
                );
            }
            HostKind::Dns if host.single_label => {
                outcome.raise(
                    Status::Warning,
                    format!(
                        "hostname `{}` is a single label: leaves resolve it only through a hosts entry or a DNS search domain",
                        host.name
                    ),
                    format!(
                        "prefer the FQDN (e.g. `{}.contoso.com`) as `hostname` in {file}, or add `<gateway IP> {}` to /etc/hosts on every leaf",
                        host.name, host.name
                    ),
                );
            }
            HostKind::Dns => {}
        }
        if host.trailing_dot {
            outcome.escalate(Status::Warning);
            outcome = outcome.detail(format!(
                "`{name}` ends with a dot: edgeHub's certificate then names `{name}`, which OpenSSL will not match with `{}`",
                host.name
            ));
            outcome.remedy.get_or_insert_with(|| {
                format!("remove the trailing dot from `hostname` in {file}, then `{apply}`")
            });
        }
        // The message and remedy name the first finding; later ones add details.
        let earlier_finding = outcome.status != Status::Ok;
        match &machine {
            Ok(machine) => {
                if matches_machine(&host.name, machine) {
                    outcome = outcome.detail(format!(
                        "matches the machine's host name `{machine}` (compared case-insensitively, as iotedge check does)"
                    ));
                } else {
                    // iotedge check fails here; IoT Edge itself only needs leaves to resolve
                    // the name to this machine, so it is a warning, with iotedge's rule.
                    outcome.escalate(Status::Warning);
                    outcome = outcome.detail(format!(
                        "the machine's host name is `{machine}`: `iotedge check` expects `hostname` to equal it or to be an FQDN starting with `{machine}.`"
                    ));
                    if !earlier_finding {
                        outcome.message = format!(
                            "hostname `{}` differs from the machine's host name `{machine}`",
                            host.name
                        );
                        outcome.remedy = Some(format!(
                            "make sure `{}` resolves to this gateway on every leaf; to satisfy `iotedge check`, set `hostname` to `{machine}` or `{machine}.<domain>` (or rename the machine with `sudo hostnamectl set-hostname`)",
                            host.name
                        ));
                    }
                }
            }
            Err(error) => {
                outcome = outcome.detail(format!(
                    "the machine's host name is unknown ({error}); not compared"
                ));
            }
        }
        let info = HostnameInfo::Checked(CheckedHostname {
            hostname: host.name.clone(),
            machine_hostname: machine.ok(),
            ip_address: host.ip(),
            single_label: host.single_label,
        });
        Ok(outcome
            .info(info)
            .evidence(Evidence::GatewayName(host.name)))
    }
}

/// iotedge check's rule: equal, or an FQDN whose first label is the machine name, ignoring case.
fn matches_machine(hostname: &str, machine: &str) -> bool {
    let hostname = hostname.to_ascii_lowercase();
    let machine = machine.to_ascii_lowercase();
    hostname == machine || hostname.starts_with(&format!("{machine}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_name_rule_is_iotedge_checks() {
        assert!(matches_machine("EdgeGW", "edgegw"));
        assert!(matches_machine("edgegw.contoso.com", "EdgeGW"));
        assert!(!matches_machine("gw.contoso.com", "edgegw"));
        assert!(!matches_machine("edgegw2.contoso.com", "edgegw"));
    }
}
