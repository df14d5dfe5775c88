//! `root-ca-trust-store`: the trusted root is installed in the operating system's store
//! (`/etc/ssl/certs/ca-certificates.crt` on Debian and Ubuntu, the other distributions'
//! in `engine::os_trust_location`), as the gateway guides ask ("copy the root certificate into
//! the certificate directory and add `.crt` to the end of the file name", then
//! `update-ca-certificates`). The classic slip is the missing `.crt`: update-ca-certificates(8)
//! on Debian reads only `*.crt` files under /usr/local/share/ca-certificates and silently skips
//! the rest. On a gateway the root is the trust bundle; on a leaf, `--ca-file`; on a leaf
//! without one, the roots added to the store are diagnosed, since the SDK then uses the store.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;

use super::catalog;
use super::{Suite, SuiteCheck, subject_of};
use crate::engine::info::RootCaTrustStoreInfo;
use crate::engine::os_trust_location::{OsTrustLocation, StoreFamily};
use crate::engine::{CheckMeta, Context, OrSkip, Outcome, Prior, Ran, Status};
use crate::pki::load::CertificateFileError;

pub struct RootCaTrustStoreCheck;

impl SuiteCheck for RootCaTrustStoreCheck {
    const LEAF: CheckMeta = catalog::ROOT_CA_TRUST_STORE_LEAF;
    const GATEWAY: CheckMeta = catalog::ROOT_CA_TRUST_STORE_GATEWAY;
    async fn run(&self, suite: Suite, context: &Context, prior: &Prior) -> Ran {
        let location = OsTrustLocation::locate(&context.root, &context.leaf.trust_environment);
        // Without --ca-file the OS store is what the device's SDK uses: diagnose the roots
        // added to it, since no root file says which one the gateway needs.
        if suite == Suite::Leaf && context.leaf.ca_file.is_none() {
            return Ok(added_roots(context, &location).await);
        }
        let anchors = match suite {
            Suite::Leaf => prior
                .trust_anchors()
                .cloned()
                .or_skip("skipped because the root CA file was not loaded")?,
            Suite::Gateway => prior
                .configured_certificates()
                .and_then(|certificates| certificates.trust_bundle.clone())
                .or_skip("skipped because no trusted root file was loaded")?,
        };
        let family = location.family;
        let info =
            |installed, problem| store_info(&location, Some(&anchors.path), installed, problem);
        let installed = match location.load_without_blocking().await {
            Ok(installed) => installed,
            Err(error) => return Ok(unreadable_store(&location, &error, Some(&anchors.path))),
        };
        let missing: Vec<&CertificateDer<'static>> = anchors
            .certificates
            .iter()
            .filter(|root| !installed.certificates.contains(root))
            .collect();
        let source = anchors.path.display();
        let node_note = "Node.js does not read the OS store: a Node.js application needs the file itself (the SDK's `ca` option or NODE_EXTRA_CA_CERTS)";
        let mut outcome = if missing.is_empty() {
            Outcome::ok(format!(
                "the root CA from {source} is installed in {location}"
            ))
        } else {
            let copies = anchor_copies(context, family, &missing);
            let names = missing
                .iter()
                // The anchors' own description (made once, shared with root-ca-file) rather
                // than a second parse of the same root.
                .map(|root| match anchors.summary_of(root) {
                    Some(summary) => format!("`{}`", summary.subject),
                    None => format!("`{}`", subject_of(root)),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let commands = family.install_commands(&anchors.path);
            let update = family.update_command();
            match copies.iter().find(|copy| ignored_name(family, copy)) {
                Some(ignored) => Outcome::warning(format!(
                    "{} holds the root CA {names}, but update-ca-certificates ignores it: only files ending in .crt are installed, so the root is not in {location}",
                    ignored.display(),
                ))
                .remedy(format!(
                    "as the gateway guide does, copy the root with a .crt name and update the store: {commands}"
                )),
                None if !copies.is_empty() => Outcome::warning(format!(
                    "{} holds the root CA {names}, but it is not in {location} yet",
                    copies[0].display(),
                ))
                .remedy(format!("run `{update}`")),
                None => {
                    let message = format!(
                        "the root CA {names} from {source} is not in the OS trust store {location}"
                    );
                    match suite {
                        // The guides install it on every gateway (modules, docker pulls
                        // through a parent, and the host's own services use the OS store).
                        Suite::Gateway => Outcome::warning(message)
                            .remedy(format!("as the gateway guides do: {commands}")),
                        // Not installed contradicts the title, whatever the application does.
                        Suite::Leaf => Outcome::warning(message)
                            .detail("fine when the application is given the file; SDKs that use the OS store need it installed")
                            .remedy(format!("to install it: {commands}")),
                    }
                }
            }
        };
        if suite == Suite::Leaf {
            outcome = outcome.detail(node_note);
        }
        let found = outcome.status != Status::Ok;
        Ok(outcome.info(info(missing.is_empty(), found)))
    }
}

/// A leaf without `--ca-file`: the CA certificates added under the distribution's anchors
/// directories, each installed in the store or not (and why not).
async fn added_roots(context: &Context, location: &OsTrustLocation) -> Outcome {
    let family = location.family;
    let directories = family.anchor_directories().join(", ");
    let info = |installed, problem| store_info(location, None, installed, problem);
    let installed = match location.load_without_blocking().await {
        Ok(installed) => installed,
        Err(error) => return unreadable_store(location, &error, None),
    };
    let added = added_certificates(context, family);
    let pending: Vec<&(PathBuf, Vec<CertificateDer<'static>>)> = added
        .iter()
        .filter(|(_, certificates)| {
            certificates
                .iter()
                .any(|certificate| !installed.certificates.contains(certificate))
        })
        .collect();
    let describe = |(path, certificates): &(PathBuf, Vec<CertificateDer<'static>>)| {
        let subject = certificates.first().map(subject_of).unwrap_or_default();
        (path.display().to_string(), subject)
    };
    if let Some(ignored) = pending.iter().find(|(path, _)| ignored_name(family, path)) {
        let (path, subject) = describe(ignored);
        let system = system_path(context, &ignored.0);
        return Outcome::warning(format!(
            "{path} holds the CA `{subject}`, but update-ca-certificates ignores it: only files ending in .crt are installed, so SDKs that use the OS store ({location}) do not trust it"
        ))
        .remedy(format!(
            "give it a .crt name and update the store: `sudo mv {system} {system}.crt` then `{}`",
            family.update_command()
        ))
        .info(info(false, true));
    }
    if let Some(first) = pending.first() {
        let (path, subject) = describe(first);
        return Outcome::warning(format!(
            "{path} holds the CA `{subject}`, but it is not in {location} yet"
        ))
        .remedy(format!("run `{}`", family.update_command()))
        .info(info(false, true));
    }
    if added.is_empty() {
        return Outcome::warning(format!(
            "no root CA was added to the OS trust store {location} (nothing under {directories}): it holds only the distribution's public roots, never an IoT Edge gateway's own root CA"
        ))
        .detail("an application given the root file itself does not need the OS store: check that file with --ca-file")
        .remedy(format!(
            "install the gateway's root CA: {}",
            family.install_commands(Path::new("azure-iot-test-only.root.ca.cert.pem"))
        ))
        .info(info(false, true));
    }
    let names: Vec<String> = added
        .iter()
        .map(|added| format!("`{}`", describe(added).1))
        .collect();
    Outcome::ok(format!(
        "the CA certificate(s) added under {directories} ({}) are installed in {location}",
        names.join(", ")
    ))
    .info(info(true, false))
}

fn store_info(
    location: &OsTrustLocation,
    root_ca_file: Option<&Path>,
    installed: bool,
    problem: bool,
) -> RootCaTrustStoreInfo {
    RootCaTrustStoreInfo {
        root_ca_file: root_ca_file.map(Path::to_path_buf),
        trust_store: location.bundle.clone(),
        store_family: location.family.name(),
        installed,
        problem,
    }
}

/// The store cannot be read: whether the root is installed is unknown, which is never OK
/// (the title says it is installed). `root` is the root file compared, when there is one.
fn unreadable_store(
    location: &OsTrustLocation,
    error: &CertificateFileError,
    root: Option<&Path>,
) -> Outcome {
    let family = location.family;
    let example = Path::new("azure-iot-test-only.root.ca.cert.pem");
    Outcome::warning(format!(
        "the OS trust store {location} cannot be read, so whether the root is installed is unknown: {error}"
    ))
    .remedy(format!(
        "install the CA certificates package (`{}`), then the root: {}",
        family.install_package(),
        family.install_commands(root.unwrap_or(example))
    ))
    .info(store_info(location, root, false, true))
}

/// Where a file found under `--root` is on the device itself (`/usr/local/share/...`).
fn system_path(context: &Context, path: &Path) -> String {
    match path.strip_prefix(context.root.root()) {
        Ok(relative) => Path::new("/").join(relative).display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// A copy the update command skips for its name (Debian's `*.crt` rule).
fn ignored_name(family: StoreFamily, path: &Path) -> bool {
    family.requires_crt_extension() && !has_crt_extension(path)
}

/// The files under the family's anchors directories holding any of `roots`.
fn anchor_copies(
    context: &Context,
    family: StoreFamily,
    roots: &[&CertificateDer<'static>],
) -> Vec<PathBuf> {
    added_certificates(context, family)
        .into_iter()
        .filter(|(_, certificates)| certificates.iter().any(|c| roots.contains(&c)))
        .map(|(path, _)| path)
        .collect()
}

/// Every certificate file under the family's anchors directories (under `--root`), with its
/// certificates, in path order; read through the run's memo of the device's files, which
/// `sdk-trust` reads `/usr/local/share/ca-certificates` through too.
fn added_certificates(
    context: &Context,
    family: StoreFamily,
) -> Vec<(PathBuf, Vec<CertificateDer<'static>>)> {
    let files = context.shared.device_files(context.now);
    family
        .anchor_directories()
        .iter()
        .flat_map(|directory| {
            files
                .certificate_files(&context.root.path(directory))
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect()
}

fn has_crt_extension(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "crt")
}
