//! The check traits and their metadata. One registry (`crate::checks::leaf_registry` and
//! `gateway_registry`) drives `list`, `explain`, `--only/--skip`, the JSON ids, the JSON Schema
//! and the docs.
//!
//! A check is data plus one function: [`DeclaredCheck`] declares its [`CheckMeta`] (id, group,
//! title, prerequisites, explain page, the schema of its JSON data) once, as a `const`, and has
//! one `async fn run`. [`Check`] is what the runner and printers hold (`Box<dyn Check>`); every
//! `DeclaredCheck` is one through the blanket impl below.
//!
//! # Converting a check written against the older `Check` shape
//! (TO BE REMOVED once no check implements `Check` directly: the network checks, and
//! `certificates-configured` while it is being split.) Replace `impl Check for X { fn id ..
//! fn group .. fn description .. fn dependencies .. fn run }` with
//! ```ignore
//! impl DeclaredCheck for GatewayCertChainCheck {
//!     const META: CheckMeta = CheckMeta {
//!         id: "gateway-cert-chain",
//!         group: Group::GatewayConnectivity,
//!         title: "gateway certificate chain verifies against the root CA file",
//!         dependencies: &[Dependency::RequiresAny(CONNECT_CHECKS)],
//!         info: InfoSchema::GatewayCertChain,
//!     };
//!     async fn run(&self, context: &Context, prior: &Prior) -> Ran {
//!         let anchors = prior.trust_anchors().or_skip("skipped because ..")?;
//!         ..
//!         Ok(outcome.info(GatewayCertChainInfo { .. }))
//!     }
//! }
//! ```
//! A parameterized family (one type for three ports) declares one `const` per port, sets
//! `META` to one of them and overrides `meta()` to return the one at hand, as
//! `connection_string.rs` does for its two suites. Then drop the ids from `PAGES` in
//! `checks/mod.rs`. When no check is left on the older shape, fold `Check`'s four legacy
//! methods into `meta()`.

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

/// `description` with the protocol's default port, written `(8883)`, replaced by `port`: the
/// registry's text names the default, a run's title the port it probes.
pub fn title_for_port(description: &str, protocol: Protocol, port: u16) -> String {
    description.replace(
        &format!("({})", protocol.default_port()),
        &format!("({port})"),
    )
}

/// What a check is, declared once.
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
    /// What the check is, declared once in its `impl`.
    const META: CheckMeta;
    /// [`Self::META`]; a check registered in two suites, or for three ports, returns the
    /// metadata of the instance at hand instead.
    fn meta(&self) -> &'static CheckMeta {
        const { &Self::META }
    }
    /// Whether the check applies to this invocation at all (e.g. `connection-string` only when
    /// one was given). Checks that do not apply are left out of the report.
    fn applies(&self, _context: &Context) -> bool {
        true
    }
    /// Judge, from read-only context and the prerequisites' outcomes. A missing input is a
    /// `Skip` returned with `?` (see [`OrSkip`](super::OrSkip)), reported as `skipped`.
    fn run(&self, context: &Context, prior: &Prior) -> impl Future<Output = Ran> + Send;
}

/// One check as the runner, the printers and `list` see it.
///
/// Its first four methods are the older way of declaring a check, kept (TO BE REMOVED, see the
/// module documentation) so that checks not yet converted to [`DeclaredCheck`] compile
/// unchanged; callers read [`Check::meta`].
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
    /// The type of its JSON `additional_info`: required, so no check reports untyped data.
    fn info(&self) -> InfoSchema;
    /// Everything declared about the check, from the methods above.
    fn meta(&self) -> CheckMeta {
        CheckMeta {
            id: self.id(),
            group: self.group(),
            title: self.description(),
            dependencies: self.dependencies(),
            info: self.info(),
        }
    }
}

impl<T: DeclaredCheck> Check for T {
    fn id(&self) -> &'static str {
        DeclaredCheck::meta(self).id
    }
    fn group(&self) -> Group {
        DeclaredCheck::meta(self).group
    }
    fn description(&self) -> &'static str {
        DeclaredCheck::meta(self).title
    }
    fn dependencies(&self) -> &'static [Dependency] {
        DeclaredCheck::meta(self).dependencies
    }
    fn applies(&self, context: &Context) -> bool {
        DeclaredCheck::applies(self, context)
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            DeclaredCheck::run(self, context, prior)
                .await
                .unwrap_or_else(Outcome::from)
        })
    }
    fn info(&self) -> InfoSchema {
        DeclaredCheck::meta(self).info
    }
    fn meta(&self) -> CheckMeta {
        *DeclaredCheck::meta(self)
    }
}
