//! The registry of checks, one file per check (or per parameterized family). This one list
//! drives the run order, `list`, `explain`, `--only/--skip`, the JSON ids and the docs.

mod connection_string;
mod gateway_cert_chain;
mod gateway_cert_expiry;
mod gateway_cert_hostname;
mod gateway_connect;
mod gateway_hostname;
mod gateway_protocol;
mod gateway_resolve;
mod root_ca_file;

pub use root_ca_file::SYSTEM_BUNDLE;

use crate::engine::Check;
use crate::net::Protocol;
use crate::net::tls::Handshake;

/// The leaf-device suite, in report order.
pub fn leaf_registry() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(connection_string::ConnectionStringCheck),
        Box::new(gateway_hostname::GatewayHostnameCheck),
        Box::new(root_ca_file::RootCaFileCheck),
        Box::new(gateway_resolve::GatewayResolveCheck),
        Box::new(gateway_connect::GatewayConnectCheck::new(Protocol::Mqtt)),
        Box::new(gateway_connect::GatewayConnectCheck::new(Protocol::Amqp)),
        Box::new(gateway_connect::GatewayConnectCheck::new(Protocol::Https)),
        Box::new(gateway_protocol::GatewayProtocolCheck::new(Protocol::Mqtt)),
        Box::new(gateway_protocol::GatewayProtocolCheck::new(Protocol::Amqp)),
        Box::new(gateway_protocol::GatewayProtocolCheck::new(Protocol::Https)),
        Box::new(gateway_cert_chain::GatewayCertChainCheck),
        Box::new(gateway_cert_hostname::GatewayCertHostnameCheck),
        Box::new(gateway_cert_expiry::GatewayCertExpiryCheck),
    ]
}

/// The ids of the three connect checks, for `RequiresAny`.
const CONNECT_CHECKS: &[&str] = &[
    "gateway-connect-mqtt",
    "gateway-connect-amqp",
    "gateway-connect-https",
];

/// "MQTTS 8883" for messages.
fn port_label(handshake: &Handshake) -> String {
    format!(
        "{} {}",
        handshake.protocol.display_name(),
        handshake.address.port()
    )
}

/// Groups handshakes that presented the same chain, so one finding covers all ports that
/// share it (edgeHub normally presents one certificate on all three).
fn group_by_chain<'a>(handshakes: &[&'a std::sync::Arc<Handshake>]) -> Vec<Vec<&'a Handshake>> {
    let mut groups: Vec<Vec<&'a Handshake>> = Vec::new();
    for handshake in handshakes {
        match groups
            .iter_mut()
            .find(|group| group[0].chain == handshake.chain)
        {
            Some(group) => group.push(handshake),
            None => groups.push(vec![handshake]),
        }
    }
    groups
}

fn ports_of(group: &[&Handshake]) -> String {
    group
        .iter()
        .map(|handshake| port_label(handshake))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page for a check id, from `checks/<id>.md` compiled into the binary.
pub fn explanation(id: &str) -> Option<&'static str> {
    PAGES
        .iter()
        .find(|(page_id, _)| *page_id == id)
        .map(|(_, page)| *page)
}

macro_rules! pages {
    ($($id:literal),* $(,)?) => {
        &[$(($id, include_str!(concat!("../../checks/", $id, ".md")))),*]
    };
}

const PAGES: &[(&str, &str)] = pages!(
    "connection-string",
    "gateway-hostname",
    "root-ca-file",
    "gateway-resolve",
    "gateway-connect-mqtt",
    "gateway-connect-amqp",
    "gateway-connect-https",
    "gateway-protocol-mqtt",
    "gateway-protocol-amqp",
    "gateway-protocol-https",
    "gateway-cert-chain",
    "gateway-cert-hostname",
    "gateway-cert-expiry",
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case_and_described() {
        let registry = leaf_registry();
        let mut seen = BTreeSet::new();
        for check in &registry {
            let id = check.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !id.starts_with('-')
                    && !id.ends_with('-')
                    && !id.contains("--"),
                "id {id} is not kebab-case"
            );
            assert!(!check.description().is_empty(), "{id} has no description");
        }
    }

    #[test]
    fn dependencies_name_registered_checks_that_come_earlier() {
        let registry = leaf_registry();
        for (index, check) in registry.iter().enumerate() {
            for dependency in check.dependencies() {
                for id in dependency.ids() {
                    let position = registry.iter().position(|other| other.id() == *id);
                    assert!(
                        position.is_some_and(|p| p < index),
                        "{} depends on unknown or later {id}",
                        check.id()
                    );
                }
            }
        }
    }
}
