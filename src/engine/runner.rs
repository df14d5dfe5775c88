//! The runner owns concurrency and time: every selected check starts at once and waits only
//! for its own prerequisites, so total time is bounded by the longest dependency path, not by
//! the sum of the checks (three blocked ports cost one timeout, not three). Results come back
//! in registry order whatever order they finished in.

use std::collections::{BTreeMap, BTreeSet};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Check, Context, Dependency, Evidence, Group, Outcome, PortCheck, Status};
use crate::checks::iotedge_ids::{self, Resolved};
use crate::config::{ConfiguredCertificates, EdgeConfig};
use crate::connection_string::ConnectionString;
use crate::net::Protocol;
use crate::net::observation::Observation;
use crate::net::resolve::Resolution;
use crate::pki::TrustAnchors;

/// Where a check's outcome is published once it finishes (`None` until then).
type OutcomeReceiver = watch::Receiver<Option<Arc<Outcome>>>;

/// `--only` and `--skip`, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    #[error("unknown check id `{id}` in {flag}; valid ids: {}", valid.join(", "))]
    UnknownCheck {
        id: String,
        flag: &'static str,
        valid: Vec<&'static str>,
    },
    /// An `iotedge check` id whose edgeprobe counterparts belong to the other suite.
    #[error(
        "`{id}` in {flag} is iotedge check's id for {}, which this suite does not run (`edgeprobe list` shows which suite runs each check)",
        counterparts.join(", ")
    )]
    OtherSuite {
        id: String,
        flag: &'static str,
        counterparts: &'static [&'static str],
    },
}

impl Selection {
    /// The selection in `registry`'s own ids: an `iotedge check` id (`--dont-run
    /// certificates-quickstart`) becomes the edgeprobe checks that do what it does
    /// (`crate::checks::iotedge_ids`); an id neither tool knows here is an error.
    pub fn resolve(&self, registry: &[Box<dyn Check>]) -> Result<Selection, SelectionError> {
        let resolve_all =
            |flag: &'static str, ids: &[String]| -> Result<Vec<String>, SelectionError> {
                let mut resolved: Vec<String> = Vec::new();
                for id in ids {
                    let named = match iotedge_ids::resolve(id, registry) {
                        Resolved::Edgeprobe(own) => vec![own],
                        Resolved::Iotedge(counterparts) => counterparts,
                        Resolved::OtherSuite(counterparts) => {
                            return Err(SelectionError::OtherSuite {
                                id: id.clone(),
                                flag,
                                counterparts,
                            });
                        }
                        Resolved::Unknown => {
                            return Err(SelectionError::UnknownCheck {
                                id: id.clone(),
                                flag,
                                valid: registry.iter().map(|check| check.id()).collect(),
                            });
                        }
                    };
                    for own in named {
                        if !resolved.iter().any(|known| known == own) {
                            resolved.push(own.to_owned());
                        }
                    }
                }
                Ok(resolved)
            };
        Ok(Selection {
            only: resolve_all("--only", &self.only)?,
            skip: resolve_all("--skip", &self.skip)?,
        })
    }
}

/// One check's result as reported.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub id: &'static str,
    pub group: Group,
    /// The registry's description (the default ports), as `list` and `explain` show it.
    pub description: &'static str,
    /// The line as this run shows it: the description, naming the port actually probed.
    pub title: String,
    /// For a check of a port family, the port it probed and whose it is.
    pub port: Option<PortCheck>,
    pub outcome: Arc<Outcome>,
    /// Time spent in the check itself, not waiting for prerequisites.
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub checks: Vec<CheckReport>,
    pub elapsed: Duration,
}

impl RunReport {
    pub fn count(&self, status: Status) -> usize {
        self.checks
            .iter()
            .filter(|check| check.outcome.status == status)
            .count()
    }

    pub fn get(&self, id: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|check| check.id == id)
    }
}

/// The outcomes of a check's prerequisites, keyed by id, with typed accessors for evidence.
#[derive(Debug, Default)]
pub struct Prior {
    outcomes: BTreeMap<&'static str, Arc<Outcome>>,
    /// The checks of this run that will run (selected, applicable, not `--skip`ped).
    scheduled: Arc<BTreeSet<&'static str>>,
}

impl Prior {
    pub fn from_outcomes(outcomes: impl IntoIterator<Item = (&'static str, Outcome)>) -> Self {
        Prior {
            outcomes: outcomes
                .into_iter()
                .map(|(id, outcome)| (id, Arc::new(outcome)))
                .collect(),
            scheduled: Arc::default(),
        }
    }

    /// Whether check `id` runs in this run: a connect check reads the protocol's answer on its
    /// connection only for a protocol check that will judge it, so `--skip` and `--only` keep
    /// a port free of requests nobody asked for.
    pub fn is_scheduled(&self, id: &str) -> bool {
        self.scheduled.contains(id)
    }

    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.get(id).map(Arc::as_ref)
    }

    fn usable(&self) -> impl Iterator<Item = &Evidence> {
        self.outcomes
            .values()
            .filter(|outcome| outcome.status.allows_dependents())
            .map(|outcome| &outcome.evidence)
    }

    pub fn connection_string(&self) -> Option<&Arc<ConnectionString>> {
        self.usable().find_map(|evidence| match evidence {
            Evidence::ConnectionString(parsed) => Some(parsed),
            _ => None,
        })
    }

    pub fn gateway_name(&self) -> Option<&str> {
        self.usable().find_map(|evidence| match evidence {
            Evidence::GatewayName(name) => Some(name.as_str()),
            _ => None,
        })
    }

    pub fn resolution(&self) -> Option<&Arc<Resolution>> {
        self.usable().find_map(|evidence| match evidence {
            Evidence::Resolution(resolution) => Some(resolution),
            _ => None,
        })
    }

    pub fn trust_anchors(&self) -> Option<&Arc<TrustAnchors>> {
        self.usable().find_map(|evidence| match evidence {
            Evidence::TrustAnchors(anchors) => Some(anchors),
            _ => None,
        })
    }

    pub fn edge_config(&self) -> Option<&Arc<EdgeConfig>> {
        self.usable().find_map(|evidence| match evidence {
            Evidence::EdgeConfig(config) => Some(config),
            _ => None,
        })
    }

    /// What `certificates-configured` loaded, whatever its status: it reports an error about
    /// one file (a key readable by everyone, a trust bundle the service user cannot read) while
    /// handing over the files that did load, so that one problem does not hide what the key,
    /// chain and expiry checks can still say. Those checks declare `Uses`, never `Requires`,
    /// and say themselves when what they need is missing.
    pub fn configured_certificates(&self) -> Option<&Arc<ConfiguredCertificates>> {
        self.outcomes
            .values()
            .find_map(|outcome| match &outcome.evidence {
                Evidence::ConfiguredCertificates(certificates) => Some(certificates),
                _ => None,
            })
    }

    /// How far this device's clock is off, when `device-clock` found it off (a warning or an
    /// error: both explain other findings, so the evidence is read whatever the status).
    pub fn clock_skew(&self) -> Option<time::Duration> {
        self.outcomes
            .values()
            .find_map(|outcome| match &outcome.evidence {
                Evidence::ClockSkew(skew) => Some(*skew),
                _ => None,
            })
    }

    /// Every port observed with a completed TLS session by a check that passed, each once, in
    /// protocol order.
    pub fn observations(&self) -> Vec<&Arc<Observation>> {
        let mut observations: Vec<&Arc<Observation>> = Vec::new();
        for observation in self
            .usable()
            .flat_map(Evidence::ports)
            .map(|port| &port.observation)
            .filter(|observation| observation.session().is_some())
        {
            // A chain check's evidence repeats the observations it judged.
            if !observations
                .iter()
                .any(|known| Arc::ptr_eq(known, observation))
            {
                observations.push(observation);
            }
        }
        observations.sort_by_key(|observation| observation.protocol);
        observations
    }

    /// Protocols whose connect check ran and failed, with its message, for "not checked" lines.
    pub fn failed_protocols(&self) -> Vec<(Protocol, &Outcome)> {
        Protocol::ALL
            .into_iter()
            .filter_map(|protocol| {
                let outcome = self.outcome(protocol.connect_check_id())?;
                (!outcome.status.allows_dependents()).then_some((protocol, outcome))
            })
            .collect()
    }
}

/// Every id in `--only` and `--skip` names a check of `registry`, by edgeprobe's id or by
/// `iotedge check`'s ([`Selection::resolve`]); checked once up front by callers that run many
/// contexts (fleet mode, the exporter), and by [`run_checks`] itself.
pub fn validate_selection(
    registry: &[Box<dyn Check>],
    selection: &Selection,
) -> Result<(), SelectionError> {
    selection.resolve(registry).map(drop)
}

/// Run the selected checks of `registry` against `context`.
pub async fn run_checks(
    registry: &[Box<dyn Check>],
    context: &Context,
    selection: &Selection,
) -> Result<RunReport, SelectionError> {
    let started = Instant::now();
    let selection = &selection.resolve(registry)?;
    let index_of: BTreeMap<&'static str, usize> = registry
        .iter()
        .enumerate()
        .map(|(index, check)| (check.id(), index))
        .collect();

    let selected = selected_checks(registry, &index_of, selection);
    let applicable: Vec<bool> = registry
        .iter()
        .enumerate()
        .map(|(index, check)| selected.contains(&index) && check.applies(context))
        .collect();
    let skipped_by_flag: BTreeSet<&str> = selection.skip.iter().map(String::as_str).collect();
    let scheduled: Arc<BTreeSet<&'static str>> = Arc::new(
        registry
            .iter()
            .enumerate()
            .filter(|(index, check)| applicable[*index] && !skipped_by_flag.contains(check.id()))
            .map(|(_, check)| check.id())
            .collect(),
    );

    let channels: Vec<_> = registry
        .iter()
        .map(|_| watch::channel::<Option<Arc<Outcome>>>(None))
        .collect();
    let mut tasks: Vec<Option<Pin<Box<dyn Future<Output = CheckReport> + Send + '_>>>> = Vec::new();
    for (index, check) in registry.iter().enumerate() {
        if !applicable[index] {
            continue;
        }
        let sender = channels[index].0.clone();
        // A check sees its transitive prerequisites (a connect check reads the gateway name
        // two steps up); only direct ones decide whether it is skipped.
        let waits: Vec<(&'static str, Option<OutcomeReceiver>)> =
            transitive_prerequisites(registry, &index_of, index)
                .into_iter()
                .map(|id| {
                    let receiver = index_of
                        .get(id)
                        .filter(|dep_index| applicable[**dep_index])
                        .map(|dep_index| channels[*dep_index].1.clone());
                    (id, receiver)
                })
                .collect();
        let by_flag = skipped_by_flag.contains(check.id());
        if !by_flag {
            check.prepare(context);
        }
        let scheduled = Arc::clone(&scheduled);
        tasks.push(Some(Box::pin(async move {
            let mut outcomes = Vec::new();
            for (id, receiver) in waits {
                if let Some(mut receiver) = receiver
                    && let Ok(value) = receiver.wait_for(Option::is_some).await
                    && let Some(outcome) = value.as_ref()
                {
                    outcomes.push((id, Arc::clone(outcome)));
                }
            }
            let prior = Prior {
                outcomes: outcomes.into_iter().collect(),
                scheduled,
            };
            let begun = Instant::now();
            let outcome = if by_flag {
                Outcome::ignored("not run: excluded with --skip")
            } else if let Some(reason) = unmet_prerequisite(check.dependencies(), &prior) {
                Outcome::skipped(reason)
            } else {
                check.run(context, &prior).await
            };
            let outcome = Arc::new(outcome);
            sender.send_replace(Some(Arc::clone(&outcome)));
            CheckReport {
                id: check.id(),
                group: check.group(),
                description: check.description(),
                title: check.title(context),
                port: check.port(context),
                outcome,
                duration: begun.elapsed(),
            }
        })));
    }

    let mut finished: Vec<Option<CheckReport>> = (0..tasks.len()).map(|_| None).collect();
    poll_fn(|task_context| {
        let mut pending = false;
        for (slot, task) in finished.iter_mut().zip(tasks.iter_mut()) {
            if let Some(future) = task {
                match future.as_mut().poll(task_context) {
                    Poll::Ready(report) => {
                        *slot = Some(report);
                        *task = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;

    Ok(RunReport {
        checks: finished.into_iter().flatten().collect(),
        elapsed: started.elapsed(),
    })
}

/// Every check `index` depends on, directly or through others, in registry order.
fn transitive_prerequisites(
    registry: &[Box<dyn Check>],
    index_of: &BTreeMap<&'static str, usize>,
    index: usize,
) -> Vec<&'static str> {
    let mut found = BTreeSet::new();
    let mut pending = vec![index];
    while let Some(current) = pending.pop() {
        for dependency in registry[current].dependencies() {
            for id in dependency.ids() {
                if let Some(dep_index) = index_of.get(id)
                    && found.insert(*dep_index)
                {
                    pending.push(*dep_index);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|dep_index| registry[dep_index].id())
        .collect()
}

/// `--only` selects the named checks plus everything they need; without it, all checks.
fn selected_checks(
    registry: &[Box<dyn Check>],
    index_of: &BTreeMap<&'static str, usize>,
    selection: &Selection,
) -> BTreeSet<usize> {
    if selection.only.is_empty() {
        return (0..registry.len()).collect();
    }
    let mut selected = BTreeSet::new();
    let mut pending: Vec<usize> = selection
        .only
        .iter()
        .filter_map(|id| index_of.get(id.as_str()).copied())
        .collect();
    while let Some(index) = pending.pop() {
        if selected.insert(index) {
            for dependency in registry[index].dependencies() {
                pending.extend(
                    dependency
                        .ids()
                        .iter()
                        .filter_map(|id| index_of.get(id).copied()),
                );
            }
        }
    }
    selected
}

/// Why a check cannot run, naming the prerequisite, or `None` when it can.
fn unmet_prerequisite(dependencies: &[Dependency], prior: &Prior) -> Option<String> {
    let state = |id: &str| match prior.outcome(id) {
        None => "was not run".to_owned(),
        Some(outcome) if outcome.status == Status::Skipped => "was skipped".to_owned(),
        Some(outcome) if outcome.status == Status::Ignored => "was excluded with --skip".to_owned(),
        Some(_) => "failed".to_owned(),
    };
    let passed = |id: &str| {
        prior
            .outcome(id)
            .is_some_and(|outcome| outcome.status.allows_dependents())
    };
    for dependency in dependencies {
        match dependency {
            Dependency::Requires(id) if !passed(id) => {
                return Some(format!("skipped because `{id}` {}", state(id)));
            }
            Dependency::RequiresAny(ids) if !ids.iter().any(|id| passed(id)) => {
                return Some(format!(
                    "skipped because none of `{}` succeeded",
                    ids.join("`, `")
                ));
            }
            _ => {}
        }
    }
    None
}
