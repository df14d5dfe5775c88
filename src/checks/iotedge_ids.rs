//! The ids `iotedge check` gives the checks edgeprobe also makes, in one table: `list` and
//! `explain` name them, and `--only`, `--skip` and `--dont-run` accept them, so a technician's
//! `iotedge check --dont-run certificates-quickstart` works unchanged.
//!
//! The ids are those of Azure/iotedge's `edgelet/iotedge/src/check/checks/*.rs` (1.1 and 1.2+)
//! and of the identity service's `aziot check` (`aziotctl/src/internal/check/checks/*.rs`),
//! which `iotedge check` runs first on 1.2+. A check is listed only where edgeprobe judges the
//! same thing from the same side: iotedge's `container-connect-upstream-*` and
//! `container-connect-iothub-*` run a container on the module network, which edgeprobe does
//! not, so they have no counterpart; nor do its container-engine, logrotate, storage, version
//! and proxy-consistency checks.

use super::Check;

/// One `iotedge check` id and the edgeprobe checks that do what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counterpart {
    /// The id as `iotedge check` (or `aziot check`) prints it.
    pub iotedge: &'static str,
    /// The edgeprobe checks that answer it; several when edgeprobe splits it by peer.
    pub edgeprobe: &'static [&'static str],
}

const fn counterpart(iotedge: &'static str, edgeprobe: &'static [&'static str]) -> Counterpart {
    Counterpart { iotedge, edgeprobe }
}

/// Every iotedge id with an edgeprobe counterpart. Some ids are the same in both tools
/// (`hostname`, `connection-string`, `certificates-expiry`); they are listed so that `list`
/// says so.
pub const COUNTERPARTS: &[Counterpart] = &[
    // 1.1's config.yaml and 1.2+'s config.toml.
    counterpart("config-yaml-well-formed", &["config-well-formed"]),
    counterpart("aziot-edged-config-well-formed", &["config-well-formed"]),
    counterpart("connection-string", &["connection-string"]),
    counterpart("hostname", &["hostname"]),
    // iotedge's own spelling, with an underscore.
    counterpart("parent_hostname", &["parent-hostname"]),
    // iotedge warns about quickstart certificates; edgeprobe's check of the configured
    // certificates does too.
    counterpart("certificates-quickstart", &["certificates-configured"]),
    counterpart("certificates-expiry", &["certificates-expiry"]),
    // aziot check's `certs-match-private-keys`: the preloaded Edge CA against its key.
    counterpart("certs-match-private-keys", &["device-ca-key-match"]),
    counterpart("check-agent-image", &["agent-image-upstream"]),
    // 1.1 and aziot check: a TLS handshake with IoT Hub from the host.
    counterpart("host-connect-iothub-mqtt", &["iothub-connect-mqtt"]),
    counterpart("host-connect-iothub-amqp", &["iothub-connect-amqp"]),
    counterpart("host-connect-iothub-https", &["iothub-connect-https"]),
    // 1.2's upstream is the parent gateway in a nested hierarchy, else IoT Hub.
    counterpart(
        "host-connect-upstream-mqtt",
        &["parent-connect-mqtt", "iothub-connect-mqtt"],
    ),
    counterpart(
        "host-connect-upstream-amqp",
        &["parent-connect-amqp", "iothub-connect-amqp"],
    ),
    counterpart(
        "host-connect-upstream-https",
        &["parent-connect-https", "iothub-connect-https"],
    ),
    // The host's clock against a reference (iotedge asks NTP; edgeprobe the gateway and,
    // with --ntp-server, NTP).
    counterpart("host-local-time", &["device-clock"]),
];

/// The iotedge ids of edgeprobe check `id`, in table order (none for most leaf checks).
pub fn iotedge_ids_of(id: &str) -> Vec<&'static str> {
    COUNTERPARTS
        .iter()
        .filter(|entry| entry.edgeprobe.contains(&id))
        .map(|entry| entry.iotedge)
        .collect()
}

/// The edgeprobe checks for iotedge id `id`, or `None` when iotedge has no such id here.
pub fn edgeprobe_ids_for(id: &str) -> Option<&'static [&'static str]> {
    COUNTERPARTS
        .iter()
        .find(|entry| entry.iotedge == id)
        .map(|entry| entry.edgeprobe)
}

/// Every id `--only`, `--skip` and `explain` accept: edgeprobe's, in registry order, then
/// iotedge's that differ. Shell completion offers these.
pub fn accepted_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = super::all_checks().iter().map(|check| check.id()).collect();
    for entry in COUNTERPARTS {
        if !ids.contains(&entry.iotedge) {
            ids.push(entry.iotedge);
        }
    }
    ids
}

/// How an id given to `--only`, `--skip` or `explain` names checks of `registry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// An edgeprobe id of the registry (also when iotedge uses the same id).
    Edgeprobe(&'static str),
    /// An iotedge id, standing for these checks of the registry.
    Iotedge(Vec<&'static str>),
    /// An iotedge id whose counterparts are all in the other suite (`host-local-time` on a
    /// gateway): these, which the registry does not hold.
    OtherSuite(&'static [&'static str]),
    /// Neither tool's id.
    Unknown,
}

/// What `id` names in `registry`: edgeprobe's own ids first, then iotedge's.
pub fn resolve(id: &str, registry: &[Box<dyn Check>]) -> Resolved {
    if let Some(check) = registry.iter().find(|check| check.id() == id) {
        return Resolved::Edgeprobe(check.id());
    }
    let Some(counterparts) = edgeprobe_ids_for(id) else {
        return Resolved::Unknown;
    };
    let present: Vec<&'static str> = registry
        .iter()
        .map(|check| check.id())
        .filter(|registered| counterparts.contains(registered))
        .collect();
    if present.is_empty() {
        Resolved::OtherSuite(counterparts)
    } else {
        Resolved::Iotedge(present)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::checks::{all_checks, gateway_registry, leaf_registry};

    /// Every edgeprobe id in the table is a registered check, and every iotedge id appears once.
    #[test]
    fn the_table_names_registered_checks_once() {
        let registered: BTreeSet<&str> = all_checks().iter().map(|check| check.id()).collect();
        let mut iotedge = BTreeSet::new();
        for entry in COUNTERPARTS {
            assert!(iotedge.insert(entry.iotedge), "{} twice", entry.iotedge);
            assert!(
                !entry.edgeprobe.is_empty(),
                "{} maps to nothing",
                entry.iotedge
            );
            for id in entry.edgeprobe {
                assert!(
                    registered.contains(id),
                    "{}: {id} is no check",
                    entry.iotedge
                );
            }
        }
    }

    /// iotedge id -> edgeprobe checks, and edgeprobe check -> iotedge ids.
    #[test]
    fn both_directions() {
        assert_eq!(
            edgeprobe_ids_for("config-yaml-well-formed"),
            Some(&["config-well-formed"][..])
        );
        assert_eq!(edgeprobe_ids_for("gateway-cert-chain"), None);
        assert_eq!(
            iotedge_ids_of("config-well-formed"),
            ["config-yaml-well-formed", "aziot-edged-config-well-formed"]
        );
        assert_eq!(
            iotedge_ids_of("iothub-connect-amqp"),
            ["host-connect-iothub-amqp", "host-connect-upstream-amqp"]
        );
        assert!(iotedge_ids_of("gateway-cert-chain").is_empty());
    }

    #[test]
    fn resolution_prefers_edgeprobe_ids_and_keeps_to_the_suite() {
        let gateway = gateway_registry();
        let leaf = leaf_registry();
        assert_eq!(
            resolve("hostname", &gateway),
            Resolved::Edgeprobe("hostname")
        );
        assert_eq!(
            resolve("certificates-quickstart", &gateway),
            Resolved::Iotedge(vec!["certificates-configured"])
        );
        assert_eq!(
            resolve("host-connect-upstream-https", &gateway),
            Resolved::Iotedge(vec!["parent-connect-https", "iothub-connect-https"])
        );
        assert_eq!(
            resolve("host-local-time", &leaf),
            Resolved::Iotedge(vec!["device-clock"])
        );
        assert_eq!(
            resolve("host-local-time", &gateway),
            Resolved::OtherSuite(&["device-clock"])
        );
        assert_eq!(
            resolve("container-engine-installed", &gateway),
            Resolved::Unknown
        );
    }
}
