//! The check trait and its metadata. One registry (`crate::checks::registry`) drives `list`,
//! `explain`, `--only/--skip`, the JSON ids and the docs.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use super::{Context, Outcome, Peer, Prior};
use crate::net::Protocol;

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Report sections, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Group {
    /// Gateway side: the IoT Edge config and the files it names (also the leaf's cross-check of
    /// a copy of the gateway's config).
    #[serde(rename = "Configuration")]
    Configuration,
    /// Gateway side: what this gateway serves on loopback, and its upstream (parent or IoT Hub).
    #[serde(rename = "Connectivity")]
    Connectivity,
    /// Leaf side: reaching the gateway.
    #[serde(rename = "Gateway connectivity")]
    GatewayConnectivity,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Configuration => "Configuration",
            Group::Connectivity => "Connectivity",
            Group::GatewayConnectivity => "Gateway connectivity",
        }
    }
}

/// How a check relates to an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// Runs only when this check passed (ok or warning); skipped with the reason otherwise.
    Requires(&'static str),
    /// Runs when at least one of these passed; works with the ones that did.
    RequiresAny(&'static [&'static str]),
    /// Waits for this check and reads its evidence when present, but runs either way.
    Uses(&'static str),
}

impl Dependency {
    pub fn ids(&self) -> &[&'static str] {
        match self {
            Dependency::Requires(id) | Dependency::Uses(id) => std::slice::from_ref(id),
            Dependency::RequiresAny(ids) => ids,
        }
    }
}

/// The port a check of a port family is about, as this run probes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortCheck {
    pub protocol: Protocol,
    pub port: u16,
    pub peer: Peer,
    /// This check makes the connection; the other checks of the port read its observation.
    pub connects: bool,
}

/// `description` with the protocol's default port, written `(8883)`, replaced by `port`: the
/// registry's text names the default, a run's title the port it probes.
pub fn title_for_port(description: &str, protocol: Protocol, port: u16) -> String {
    description.replace(
        &format!("({})", protocol.default_port()),
        &format!("({port})"),
    )
}

/// One check. Implementations live one per file under `src/checks/`.
pub trait Check: Send + Sync {
    /// Stable kebab-case id: part of the interface (JSON keys, `--only`, `explain`).
    fn id(&self) -> &'static str;
    fn group(&self) -> Group;
    /// One line, phrased as what should be true ("gateway name resolves").
    fn description(&self) -> &'static str;
    /// For a check of a port family: the port it probes in this run, and whose it is.
    fn port(&self, _context: &Context) -> Option<PortCheck> {
        None
    }
    /// The line the report shows: the description, naming the port actually probed.
    fn title(&self, context: &Context) -> String {
        match self.port(context) {
            Some(port) => title_for_port(self.description(), port.protocol, port.port),
            None => self.description().to_owned(),
        }
    }
    fn dependencies(&self) -> &'static [Dependency] {
        &[]
    }
    /// Whether the check applies to this invocation at all (e.g. `connection-string` only when
    /// one was given). Checks that do not apply are left out of the report.
    fn applies(&self, _context: &Context) -> bool {
        true
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a>;
}
