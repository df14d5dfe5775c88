//! The check traits and their metadata. One registry (`crate::checks::leaf_registry` and
//! `gateway_registry`) drives `list`, `explain`, `--only/--skip`, the JSON ids, the JSON Schema
//! and the docs.
//!
//! A check is data plus one function: [`DeclaredCheck`] names its [`CheckMeta`] (id, group,
//! title, prerequisites, the schema of its JSON data; the explain page is found by the id), a
//! row of the one table in `checks/catalog.rs`, and has one `async fn run`. [`Check`] is what the runner and printers hold (`Box<dyn Check>`); every
//! `DeclaredCheck` is one through the blanket impl below.
//!
//! A parameterized family (one type for three ports) has its three `CheckMeta`s, its peer and
//! whether it connects as one [`PortFamily`] in the catalog, implements [`FamilyCheck`] and is
//! registered as one [`OnPort`] per protocol, as `gateway_connect.rs` is; a check registered in two suites returns the
//! metadata of its suite from `meta()`, as `checks::InSuite` does for `connection_string.rs`.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use super::info::InfoSchema;
use super::{Context, Outcome, Peer, Prior, Ran};
use crate::net::Protocol;

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Report sections, in the order they are printed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
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

/// A port family as data: one [`CheckMeta`] per protocol, whose port the family probes, and
/// whether it makes the connection or reads the connecting check's observation. A family's
/// checks differ in id and title (and sometimes prerequisites), so each has its row in
/// `checks/catalog.rs`.
#[derive(Debug, Clone, Copy)]
pub struct PortFamily {
    pub mqtt: CheckMeta,
    pub amqp: CheckMeta,
    pub https: CheckMeta,
    pub peer: Peer,
    pub connects: bool,
}

impl PortFamily {
    /// A family whose checks make the connection to `peer`'s ports: `[mqtt, amqp, https]`.
    pub const fn connecting(peer: Peer, [mqtt, amqp, https]: [CheckMeta; 3]) -> Self {
        PortFamily {
            mqtt,
            amqp,
            https,
            peer,
            connects: true,
        }
    }

    /// A family whose checks read the observation the connecting family's check of the same
    /// port made: `[mqtt, amqp, https]`.
    pub const fn reading(peer: Peer, checks: [CheckMeta; 3]) -> Self {
        PortFamily {
            connects: false,
            ..Self::connecting(peer, checks)
        }
    }

    /// The family's check for `protocol`.
    pub const fn get(&'static self, protocol: Protocol) -> &'static CheckMeta {
        match protocol {
            Protocol::Mqtt => &self.mqtt,
            Protocol::Amqp => &self.amqp,
            Protocol::Https => &self.https,
        }
    }

    /// The port the family's check for `protocol` probes in this run: the peer's port as
    /// `--port`, `--parent-port` or `--iothub-port` set it.
    pub fn port(&self, protocol: Protocol, context: &Context) -> PortCheck {
        let ports = match self.peer {
            Peer::Gateway | Peer::EdgeHub => &context.leaf.ports,
            Peer::Parent => &context.gateway_mode.parent_ports,
            Peer::IotHub => &context.gateway_mode.iothub_ports,
        };
        PortCheck {
            protocol,
            port: ports.get(protocol),
            peer: self.peer,
            connects: self.connects,
        }
    }
}

/// `description` with the protocol's default port, written `(8883)`, replaced by `port`: the
/// registry's text names the default, a run's title the port it probes.
pub fn title_for_port(description: &str, protocol: Protocol, port: u16) -> String {
    description.replace(
        &format!("({})", protocol.default_port()),
        &format!("({port})"),
    )
}

/// What a check is, declared once: a row of `checks/catalog.rs`.
#[derive(Debug, Clone, Copy)]
pub struct CheckMeta {
    /// Stable kebab-case id: part of the interface (JSON keys, `--only`, `explain`).
    pub id: &'static str,
    /// The report section.
    pub group: Group,
    /// One line, phrased as what should be true ("gateway name resolves"): the text report's
    /// line, JSON `description`, `list`.
    pub title: &'static str,
    pub dependencies: &'static [Dependency],
    /// The schema of its JSON `additional_info` (besides `{}`).
    pub info: InfoSchema,
}

/// A check: its metadata as data, and one function. Implementations live one per file under
/// `src/checks/`; the runner sees them as [`Check`].
pub trait DeclaredCheck: Send + Sync {
    /// What the check is: its row of `checks/catalog.rs`.
    const META: CheckMeta;
    /// For one check of a port family: the family's table and the protocol of this instance,
    /// from which its metadata and the port it probes follow.
    fn family(&self) -> Option<(&'static PortFamily, Protocol)> {
        None
    }
    /// [`Self::META`], or the family's entry for this instance's protocol; a check registered
    /// in two suites returns the metadata of its suite instead.
    fn meta(&self) -> &'static CheckMeta {
        match self.family() {
            Some((family, protocol)) => family.get(protocol),
            None => const { &Self::META },
        }
    }
    /// Whether the check applies to this invocation at all (e.g. `connection-string` only when
    /// one was given). Checks that do not apply are left out of the report.
    fn applies(&self, _context: &Context) -> bool {
        true
    }
    /// Judge, from read-only context and the prerequisites' outcomes. A missing input is a
    /// `Skip` returned with `?` (see [`OrSkip`](super::OrSkip)), reported as `skipped`.
    fn run(&self, context: &Context, prior: &Prior) -> impl Future<Output = Ran> + Send;
    /// Called by the runner once it has scheduled the check, before the check waits for its
    /// prerequisites: a check may start work that does not depend on them (on tokio's
    /// blocking pool), so that it goes on beside the checks waited for. `run` still decides.
    fn prepare(&self, _context: &Context) {}
}

/// A parameterized family's one function (`gateway-connect-{mqtt,amqp,https}`): its row of
/// `checks/catalog.rs` and how it judges the port of `protocol`. The registry holds one
/// [`OnPort`] per protocol, which is the [`DeclaredCheck`] of that port.
pub trait FamilyCheck: Send + Sync {
    /// The family's three checks, their peer and whether they connect.
    const FAMILY: &'static PortFamily;
    /// Judge the port of `protocol`, as [`DeclaredCheck::run`] judges a check.
    fn run(
        &self,
        protocol: Protocol,
        context: &Context,
        prior: &Prior,
    ) -> impl Future<Output = Ran> + Send;
}

/// The check of a port family for one protocol: `OnPort(GatewayConnectCheck, Protocol::Mqtt)`
/// is `gateway-connect-mqtt`.
pub struct OnPort<F>(pub F, pub Protocol);

impl<F: FamilyCheck> DeclaredCheck for OnPort<F> {
    const META: CheckMeta = F::FAMILY.mqtt;
    fn family(&self) -> Option<(&'static PortFamily, Protocol)> {
        Some((F::FAMILY, self.1))
    }
    fn run(&self, context: &Context, prior: &Prior) -> impl Future<Output = Ran> + Send {
        self.0.run(self.1, context, prior)
    }
}

/// One check as the runner, the printers and `list` see it (`Box<dyn Check>`): every
/// [`DeclaredCheck`] is one through the blanket impl below, and nothing else implements it.
pub trait Check: Send + Sync {
    /// Everything declared about the check.
    fn meta(&self) -> &'static CheckMeta;
    /// For a check of a port family: the port it probes in this run, and whose it is.
    fn port(&self, context: &Context) -> Option<PortCheck>;
    /// Whether the check applies to this invocation at all.
    fn applies(&self, context: &Context) -> bool;
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a>;
    /// [`DeclaredCheck::prepare`].
    fn prepare(&self, context: &Context);

    /// Stable kebab-case id: part of the interface (JSON keys, `--only`, `explain`).
    fn id(&self) -> &'static str {
        self.meta().id
    }
    fn group(&self) -> Group {
        self.meta().group
    }
    /// One line, phrased as what should be true ("gateway name resolves").
    fn description(&self) -> &'static str {
        self.meta().title
    }
    fn dependencies(&self) -> &'static [Dependency] {
        self.meta().dependencies
    }
    /// The type of its JSON `additional_info`.
    fn info(&self) -> InfoSchema {
        self.meta().info
    }
    /// The line the report shows: the description, naming the port actually probed.
    fn title(&self, context: &Context) -> String {
        match self.port(context) {
            Some(port) => title_for_port(self.description(), port.protocol, port.port),
            None => self.description().to_owned(),
        }
    }
}

impl<T: DeclaredCheck> Check for T {
    fn meta(&self) -> &'static CheckMeta {
        DeclaredCheck::meta(self)
    }
    fn port(&self, context: &Context) -> Option<PortCheck> {
        let (family, protocol) = self.family()?;
        Some(family.port(protocol, context))
    }
    fn applies(&self, context: &Context) -> bool {
        DeclaredCheck::applies(self, context)
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        outcome_of(Box::pin(DeclaredCheck::run(self, context, prior)))
    }
    fn prepare(&self, context: &Context) {
        DeclaredCheck::prepare(self, context);
    }
}

/// A check's result as its outcome (a `Skip` becomes `skipped`), written once rather than once
/// per check type: the blanket impl above is instantiated for every check, and each copy of
/// this wrapper moved the check's whole `Outcome` around in its own code.
fn outcome_of<'a>(ran: Pin<Box<dyn Future<Output = Ran> + Send + 'a>>) -> CheckFuture<'a> {
    Box::pin(async move { ran.await.unwrap_or_else(Outcome::from) })
}
