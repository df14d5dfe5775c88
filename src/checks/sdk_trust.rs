//! `sdk-trust`: each device SDK runtime on the leaf finds the gateway's root CA where it looks.
//! The root is `--ca-file` (or, without it, the root of the chain the gateway presented); the
//! runtimes are those `--sdk` names, or every one found on the device (see
//! [`crate::sdk_trust`] for where each looks). A runtime whose stores lack the root works only
//! when the application passes the file itself, which edgeprobe cannot see: a warning with the
//! runtime's fix, never an OK.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::catalog;
use crate::engine::info::{SdkRuntimeTrust, SdkStore, SdkTrustInfo, SdkVerdict};
use crate::engine::{CheckMeta, Context, DeclaredCheck, Outcome, Prior, Ran, Skip};
use crate::sdk_trust::fixes::{LOCAL_CERTIFICATES, fix};
use crate::sdk_trust::{
    Device, DeviceFiles, Environment, Installation, Lookup, Runtime, StoreFormat, StoreLocation,
    StoreRole, WantedRoot, discover, look_up,
};
use crate::system::SystemRoot;

pub struct SdkTrustCheck;

impl DeclaredCheck for SdkTrustCheck {
    const META: CheckMeta = catalog::SDK_TRUST;

    /// On the leaf device itself (`check`; `--sdk` narrows it to some runtimes), not where
    /// edgeprobe checks gateways from elsewhere (the exporter, fleet mode, the demo): what a
    /// runtime on that machine trusts says nothing about the devices.
    fn applies(&self, context: &Context) -> bool {
        context.sdk_runtimes.is_some()
    }

    /// The runtimes are found and their stores read from files (directory listings, a `stat`
    /// per entry, the bundles), so on tokio's blocking pool: the runner polls every check of a
    /// run on one thread, and the handshakes go on beside this instead of after it.
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let (wanted, root_file) = wanted_root(context, prior)?;
        let survey = Survey::new(context, wanted, root_file);
        let slot = context
            .shared
            .take_over(Self::META.id, &survey.inputs)
            .unwrap_or_default();
        // The survey `prepare` started is usually done by now (it runs beside the
        // handshakes): its result is taken here, without a round trip through the pool.
        if let Some(ran) = slot.get() {
            return ran.clone();
        }
        match judge_on_the_pool(slot, survey.clone()).await {
            Ok(ran) => ran,
            // The blocking pool could not run it (the runtime is shutting down): judge here.
            Err(_) => survey.judge(),
        }
    }

    /// The check waits for the connect checks (the root without `--ca-file` is the top of a
    /// presented chain), but with `--ca-file` the root is that file's, known at once: the
    /// survey starts now on the blocking pool, beside the handshakes, and `run` takes its
    /// result when it asks about the same root (the file as `root-ca-file` loaded it),
    /// through the run's own [`Shared`](crate::engine::Shared): another run never takes it.
    fn prepare(&self, context: &Context) {
        let Some(path) = &context.leaf.ca_file else {
            return;
        };
        let Ok(anchors) = context.shared.trust_anchors(path) else {
            return;
        };
        let survey = Survey::new(
            context,
            WantedRoot::Roots(anchors.certificates.clone()),
            Some(anchors.path.clone()),
        );
        let slot = Arc::new(OnceLock::new());
        context
            .shared
            .hand_over(Self::META.id, survey.inputs.clone(), Arc::clone(&slot));
        drop(judge_on_the_pool(slot, survey));
    }
}

/// `survey` judged into `slot` on tokio's blocking pool, unless it was already: one task type
/// for `prepare` and `run` alike.
fn judge_on_the_pool(slot: Arc<OnceLock<Ran>>, survey: Survey) -> tokio::task::JoinHandle<Ran> {
    tokio::task::spawn_blocking(move || slot.get_or_init(|| survey.judge()).clone())
}

/// What `sdk-trust` judges, owned, so that it can be judged off the runner's thread.
#[derive(Clone)]
struct Survey {
    inputs: SurveyInputs,
    /// The run's memo of the device's files, shared with `root-ca-trust-store`.
    files: Arc<DeviceFiles>,
}

/// What a survey's answer depends on: `run` takes the survey `prepare` started only when these
/// are the same.
#[derive(Clone, PartialEq, Eq)]
struct SurveyInputs {
    wanted: WantedRoot,
    root_file: Option<PathBuf>,
    /// `--sdk`'s runtimes; empty for every runtime found.
    asked: Vec<Runtime>,
    root: SystemRoot,
    environment: Environment,
}

impl Survey {
    fn new(context: &Context, wanted: WantedRoot, root_file: Option<PathBuf>) -> Survey {
        Survey {
            inputs: SurveyInputs {
                wanted,
                root_file,
                asked: context.sdk_runtimes.clone().unwrap_or_default(),
                root: context.root.clone(),
                environment: context.environment.clone(),
            },
            files: context.shared.device_files(context.now),
        }
    }

    fn judge(self) -> Ran {
        let Survey { inputs, files } = self;
        let SurveyInputs {
            wanted,
            root_file,
            asked,
            root,
            environment,
        } = inputs;
        let device = Device {
            root: &root,
            files: &files,
        };
        let asked = asked.as_slice();
        let runtimes: &[Runtime] = if asked.is_empty() {
            &Runtime::ALL
        } else {
            asked
        };
        let mut entries = Vec::new();
        let mut lines = Vec::new();
        let mut fixes = Vec::new();
        let mut lookups = Lookups::default();
        let root_name = root_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("<the gateway's root CA file>"));
        for &runtime in runtimes {
            let installations = discover(runtime, device, &environment);
            if installations.is_empty() && !asked.is_empty() {
                lines.push(format!(
                    "{}: not found on this device (looked for {}), so not judged",
                    runtime.name(),
                    runtime.looked_for()
                ));
                entries.push(SdkRuntimeTrust {
                    runtime,
                    found_by: None,
                    location: None,
                    verdict: SdkVerdict::NotFound,
                    stores: Vec::new(),
                });
            }
            for installation in installations {
                let entry = judge(&installation, &wanted, device, &mut lookups);
                lines.push(describe(&installation, &entry));
                if !matches!(entry.verdict, SdkVerdict::Trusted) {
                    fixes.push(fix(&installation, &root_name, &files));
                }
                entries.push(entry);
            }
        }
        if entries.is_empty() {
            return Err(Skip::because(format!(
                "skipped because no device SDK runtime was found on this device (looked for {})",
                Runtime::ALL
                    .iter()
                    .map(|runtime| format!("{}: {}", runtime.name(), runtime.looked_for()))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let trusted = entries
            .iter()
            .filter(|entry| entry.verdict == SdkVerdict::Trusted)
            .count();
        let source = root_file.as_ref().map_or_else(
            || "the root of the gateway's chain".to_owned(),
            |file| format!("the root CA from {}", file.display()),
        );
        let outcome = if trusted == entries.len() {
            Outcome::ok(format!(
                "{source} is in a store each of {} runtime(s) reads",
                entries.len()
            ))
        } else {
            let others: Vec<&str> = entries
                .iter()
                .filter(|entry| entry.verdict != SdkVerdict::Trusted)
                .map(|entry| entry.runtime.name())
                .collect();
            Outcome::warning(format!(
                "{source} is where {trusted} of {} runtime(s) look; {} connect(s) only if the application passes the file itself",
                entries.len(),
                dedupe(others.iter().map(|name| name.to_string()).collect()).join(", ")
            ))
            .remedy(dedupe(fixes).join("; "))
        };
        Ok(outcome.details(lines).info(SdkTrustInfo {
            root_ca_file: root_file,
            runtimes: entries,
        }))
    }
}

/// The root to look for: `--ca-file`'s, else the root of the first chain a port presented.
fn wanted_root(context: &Context, prior: &Prior) -> Result<(WantedRoot, Option<PathBuf>), Skip> {
    if context.leaf.ca_file.is_some() {
        let anchors = prior
            .trust_anchors()
            .ok_or_else(|| Skip::because("skipped because the root CA file was not loaded"))?;
        return Ok((
            WantedRoot::Roots(anchors.certificates.clone()),
            Some(anchors.path.clone()),
        ));
    }
    prior
        .observations()
        .iter()
        .find_map(|observation| WantedRoot::of_chain(&observation.chain()?.certificates))
        .map(|wanted| (wanted, None))
        .ok_or_else(|| {
            Skip::because(
                "skipped because no root is known: pass the gateway's root with --ca-file, or let edgeprobe reach the gateway to read its chain",
            )
        })
}

/// Each store looked up once per run: the C SDK, .NET and Python all read OpenSSL's default
/// paths, and a hashed directory costs a directory listing and a `stat` per entry.
#[derive(Default)]
struct Lookups(Vec<(PathBuf, StoreFormat, Lookup)>);

impl Lookups {
    fn of(&mut self, store: &StoreLocation, wanted: &WantedRoot, files: &DeviceFiles) -> Lookup {
        let known = self
            .0
            .iter()
            .find(|(path, format, _)| *path == store.path.host && *format == store.format);
        if let Some((_, _, lookup)) = known {
            return lookup.clone();
        }
        let lookup = look_up(store, wanted, files);
        self.0
            .push((store.path.host.clone(), store.format, lookup.clone()));
        lookup
    }
}

fn judge(
    installation: &Installation,
    wanted: &WantedRoot,
    device: Device<'_>,
    lookups: &mut Lookups,
) -> SdkRuntimeTrust {
    let mut stores = Vec::new();
    let mut verdict = SdkVerdict::Missing;
    for (role, store) in &installation.stores {
        let lookup = lookups.of(store, wanted, device.files);
        let mut entry = SdkStore {
            path: store.path.device.clone(),
            format: store.format,
            source: store.source.clone(),
            role: *role,
            holds_root: Some(false),
            found_in: None,
            missing: false,
            note: None,
        };
        match lookup {
            Lookup::Holds(file) => {
                entry.holds_root = Some(true);
                if store.format != StoreFormat::PemFile && store.format != StoreFormat::JavaKeystore
                {
                    entry.found_in = Some(file);
                }
            }
            Lookup::Lacks { note } => entry.note = note,
            Lookup::Missing => entry.missing = true,
            Lookup::Unreadable(reason) => {
                entry.holds_root = None;
                entry.note = Some(reason);
            }
        }
        if *role == StoreRole::Sdk {
            verdict = match (verdict, entry.holds_root) {
                (SdkVerdict::Trusted, _) | (_, Some(true)) => SdkVerdict::Trusted,
                (_, None) => SdkVerdict::Unknown,
                (current, Some(false)) => current,
            };
        }
        stores.push(entry);
    }
    // The Debian trap: a copy under /usr/local/share/ca-certificates without the .crt name.
    if verdict == SdkVerdict::Missing
        && let Some(first) = stores
            .iter_mut()
            .find(|store| store.role == StoreRole::Sdk && store.format != StoreFormat::JavaKeystore)
        && first.note.is_none()
        && installation.runtime != Runtime::Node
    {
        let local = device.root.path(LOCAL_CERTIFICATES);
        if let Some((ignored, _)) = device
            .files
            .certificate_files(&local)
            .iter()
            .filter(|(_, certificates)| wanted.is_in(certificates))
            .find(|(copy, _)| copy.extension().is_none_or(|extension| extension != "crt"))
        {
            first.note = Some(format!(
                "{} holds the root, but update-ca-certificates installs only files ending in .crt",
                Path::new(LOCAL_CERTIFICATES)
                    .join(ignored.strip_prefix(&local).unwrap_or(ignored))
                    .display()
            ));
        }
    }
    SdkRuntimeTrust {
        runtime: installation.runtime,
        found_by: Some(installation.found_by.clone()),
        location: installation.location.clone(),
        verdict,
        stores,
    }
}

/// One text line per runtime: its verdict and where it looked.
fn describe(installation: &Installation, entry: &SdkRuntimeTrust) -> String {
    let name = match &installation.location {
        Some(location) => format!("{} {}", installation.runtime.name(), location.display()),
        None => installation.runtime.name().to_owned(),
    };
    let stores = |role: StoreRole| {
        entry
            .stores
            .iter()
            .filter(|store| store.role == role)
            .map(|store| {
                let state = match (store.holds_root, store.missing) {
                    (Some(true), _) => match &store.found_in {
                        Some(file) => format!("holds it in {}", file.display()),
                        None => "holds it".to_owned(),
                    },
                    (None, _) => "cannot be read".to_owned(),
                    (Some(false), true) => "does not exist".to_owned(),
                    (Some(false), false) => "lacks it".to_owned(),
                };
                let note = store
                    .note
                    .as_ref()
                    .map(|note| format!(": {note}"))
                    .unwrap_or_default();
                format!("{} ({}) {state}{note}", store.path.display(), store.source)
            })
            .collect::<Vec<_>>()
    };
    let sdk = stores(StoreRole::Sdk);
    let verdict = match entry.verdict {
        SdkVerdict::Trusted => "trusts the root",
        SdkVerdict::Missing => "does not find the root",
        SdkVerdict::Unknown => "cannot be judged",
        SdkVerdict::NotFound => "not found",
    };
    let mut line = if sdk.is_empty() {
        format!(
            "{name} {verdict}: it reads no store on this device ({})",
            installation.notes.join("; ")
        )
    } else {
        format!("{name} {verdict}: {}", sdk.join("; "))
    };
    let requests = stores(StoreRole::Requests);
    if !requests.is_empty() {
        line.push_str(&format!("; for `requests`: {}", requests.join("; ")));
    }
    line
}

fn dedupe(lines: Vec<String>) -> Vec<String> {
    let mut unique = Vec::new();
    for line in lines {
        if !unique.contains(&line) {
            unique.push(line);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Check, Selection, Shared, Status, run_checks};

    fn temporary_root() -> (tempfile::TempDir, SystemRoot) {
        let tree = tempfile::tempdir().unwrap();
        let root = SystemRoot::new(tree.path());
        (tree, root)
    }
    use crate::test_fixtures::fixture;

    /// The context of a leaf run with `--ca-file` and `--sdk node` on a device tree with
    /// Node.js, in `environment`, with the run's `shared` state.
    fn node_context(root: &SystemRoot, environment: Environment, shared: Shared) -> Context {
        let node = root.path("/usr/bin/node");
        std::fs::create_dir_all(node.parent().unwrap()).unwrap();
        std::fs::write(&node, b"").unwrap();
        std::fs::copy(fixture("root-ca.pem"), root.path("/root-ca.pem")).unwrap();
        Context {
            leaf: crate::engine::LeafSettings {
                ca_file: Some(fixture("root-ca.pem")),
                ..Default::default()
            },
            root: root.clone(),
            sdk_runtimes: Some(vec![Runtime::Node]),
            environment,
            shared,
            ..Context::default()
        }
    }

    /// The run of `root-ca-file` and `sdk-trust` on [`node_context`]'s device.
    async fn node_run(
        root: &SystemRoot,
        environment: Environment,
        shared: Shared,
    ) -> (Status, String) {
        let context = node_context(root, environment, shared);
        let registry: Vec<Box<dyn Check>> = vec![
            Box::new(super::super::root_ca_file::RootCaFileCheck),
            Box::new(SdkTrustCheck),
        ];
        let report = run_checks(&registry, &context, &Selection::default())
            .await
            .unwrap();
        let outcome = &report.get("sdk-trust").unwrap().outcome;
        (outcome.status, outcome.message.clone())
    }

    /// Two runs in one process, on two devices, in two environments: each gets the answer of
    /// its own device (`prepare` hands its survey to its own run only), whether the runs have
    /// a `Shared` each, as every `check` does, or share one, even one holding a survey that
    /// another device's `prepare` left.
    #[tokio::test]
    async fn each_run_judges_its_own_device() {
        let extra = Environment::from_pairs([("NODE_EXTRA_CA_CERTS", "/root-ca.pem")]);
        for shared in [None, Some(Shared::default())] {
            let shared = || shared.clone().unwrap_or_default();
            let (_trusting_tree, trusting) = temporary_root();
            let (_other_tree, other) = temporary_root();
            // A survey started for the trusting device that no run of its own took.
            DeclaredCheck::prepare(
                &SdkTrustCheck,
                &node_context(&trusting, extra.clone(), shared()),
            );
            let (status, message) = node_run(&other, Environment::default(), shared()).await;
            assert_eq!(status, Status::Warning, "{message}");
            let (status, message) = node_run(&trusting, extra.clone(), shared()).await;
            assert_eq!(status, Status::Ok, "{message}");
            // The first device again, in the second's environment: its own answer again.
            let (status, message) = node_run(&trusting, Environment::default(), shared()).await;
            assert_eq!(status, Status::Warning, "{message}");
        }
    }
}
