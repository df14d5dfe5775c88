//! What a check returns: a status from a small closed set, a message, details, a remedy,
//! typed data for JSON, and typed evidence for the checks that depend on it.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::info::CheckInfo;
use crate::config::{ConfiguredCertificates, EdgeConfig};
use crate::connection_string::ConnectionString;
use crate::net::observation::Observation;
use crate::net::resolve::Resolution;
use crate::pki::TrustAnchors;
use crate::pki::verdicts::ChainVerdict;

/// The closed set of results, as `iotedge check -o json` spells them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Error,
    /// A prerequisite failed or was not run, so the check could not be judged.
    Skipped,
    /// Excluded by the user (`--skip`, `--dont-run`), as `iotedge check --dont-run` reports it.
    Ignored,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 5] = [
        Status::Ok,
        Status::Warning,
        Status::Error,
        Status::Skipped,
        Status::Ignored,
    ];

    /// The status as the JSON report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Ignored => "ignored",
        }
    }

    /// Whether a dependent may use this check's evidence (warnings do not block dependents).
    pub fn allows_dependents(self) -> bool {
        matches!(self, Status::Ok | Status::Warning)
    }
}

/// Typed data a check hands to the checks that depend on it.
#[derive(Debug, Clone, Default)]
pub enum Evidence {
    #[default]
    None,
    ConnectionString(Arc<ConnectionString>),
    /// The gateway name the device dials, after validation.
    GatewayName(String),
    Resolution(Arc<Resolution>),
    /// One port as observed (the leaf suite's connect checks; the gateway suite's checks, with
    /// their verdict). A failed connect check hands it over too, for the monitoring printers;
    /// dependents only read the evidence of checks that passed.
    Port(Arc<ObservedPort>),
    /// Every port `gateway-cert-chain` judged, each with its verdict.
    JudgedPorts(Arc<[ObservedPort]>),
    TrustAnchors(Arc<TrustAnchors>),
    /// The IoT Edge config, parsed (`config-well-formed`).
    EdgeConfig(Arc<EdgeConfig>),
    /// The certificates and keys the config names, as far as they loaded
    /// (`certificates-configured`).
    ConfiguredCertificates(Arc<ConfiguredCertificates>),
    /// This device's clock minus the reference's, when `device-clock` found it off.
    ClockSkew(time::Duration),
}

/// Whose port was observed: the one value remedies and printers need to tell a gateway's own
/// ports from the way upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    /// The gateway, as a leaf device dials it (leaf suite).
    Gateway,
    /// This gateway's own edgeHub on loopback (gateway suite).
    EdgeHub,
    /// The parent gateway of a lower-layer device (nested edge).
    Parent,
    /// The IoT hub of a top-layer gateway.
    IotHub,
}

impl Peer {
    /// The gateway's own ports, the ones the monitoring outputs report per port.
    pub fn is_gateway(self) -> bool {
        matches!(self, Peer::Gateway | Peer::EdgeHub)
    }
}

/// What one port presented, and OpenSSL's and rustls's verdict on it once one was reached: the
/// value every consumer reads instead of connecting, parsing or verifying again.
#[derive(Debug, Clone)]
pub struct ObservedPort {
    pub peer: Peer,
    pub observation: Arc<Observation>,
    pub verdict: Option<Arc<ChainVerdict>>,
}

impl Evidence {
    /// The ports this evidence describes (none, one, or every port a chain check judged).
    pub fn ports(&self) -> &[ObservedPort] {
        match self {
            Evidence::Port(port) => std::slice::from_ref(port.as_ref()),
            Evidence::JudgedPorts(ports) => ports,
            _ => &[],
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// One line: what was found.
    pub message: String,
    /// Further lines for `--verbose` and JSON `details` (causes, listings).
    pub details: Vec<String>,
    /// What to do about it, when there is something to do.
    pub remedy: Option<String>,
    /// Typed data for JSON `additional_info` (see [`CheckInfo`]).
    pub info: CheckInfo,
    pub evidence: Evidence,
}

impl Outcome {
    fn new(status: Status, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            details: Vec::new(),
            remedy: None,
            info: CheckInfo::Empty,
            evidence: Evidence::None,
        }
    }

    pub fn ok(message: impl Into<String>) -> Self {
        Self::new(Status::Ok, message)
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Status::Warning, message)
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Status::Error, message)
    }

    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::new(Status::Skipped, reason)
    }

    pub fn ignored(reason: impl Into<String>) -> Self {
        Self::new(Status::Ignored, reason)
    }

    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    pub fn details<I, S>(mut self, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.details.extend(lines.into_iter().map(Into::into));
        self
    }

    pub fn remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = Some(remedy.into());
        self
    }

    /// Attach typed data for JSON: one of [`CheckInfo`]'s payloads, by value.
    pub fn info(mut self, info: impl Into<CheckInfo>) -> Self {
        self.info = info.into();
        self
    }

    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = evidence;
        self
    }

    /// Raise the status to `status` if it is more severe (ok < warning < error).
    pub fn escalate(&mut self, status: Status) {
        if status > self.status && !matches!(status, Status::Skipped | Status::Ignored) {
            self.status = status;
        }
    }

    /// A finding that takes over the line: the status raised to `status` (as
    /// [`Outcome::escalate`] raises it), `message` in place of the message, and its `remedy`.
    pub fn raise(&mut self, status: Status, message: impl Into<String>, remedy: impl Into<String>) {
        self.escalate(status);
        self.message = message.into();
        self.remedy = Some(remedy.into());
    }
}

/// Why a check could not run: it is reported as `skipped` with this reason. Checks return it
/// with `?` from their one prologue, `let x = prior.something().or_skip("skipped because ..")?;`,
/// instead of each spelling out `let Some(x) = .. else { return Outcome::skipped(..) }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl Skip {
    pub fn because(reason: impl Into<String>) -> Self {
        Skip(reason.into())
    }
}

impl From<Skip> for Outcome {
    fn from(skip: Skip) -> Self {
        Outcome::skipped(skip.0)
    }
}

/// What a declared check's `run` returns: an outcome, or the reason it could not run.
pub type Ran = Result<Outcome, Skip>;

/// `.or_skip(reason)`: a missing prerequisite (evidence, input, setting) as a [`Skip`].
pub trait OrSkip<T> {
    fn or_skip(self, reason: &str) -> Result<T, Skip>;
}

impl<T> OrSkip<T> for Option<T> {
    fn or_skip(self, reason: &str) -> Result<T, Skip> {
        self.ok_or_else(|| Skip::because(reason))
    }
}
