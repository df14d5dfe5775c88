//! `root-ca-trust-store`: the trusted root is installed in the operating system's store
//! (`/etc/ssl/certs/ca-certificates.crt` on Debian and Ubuntu), as the gateway guides ask
//! ("copy the root certificate into the certificate directory and add `.crt` to the end of the
//! file name", then `update-ca-certificates`). The classic slip is the missing `.crt`:
//! update-ca-certificates(8) reads only `*.crt` files under /usr/local/share/ca-certificates and
//! silently skips the rest. On a gateway the root is the trust bundle; on a leaf, `--ca-file`.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;

use super::{SYSTEM_BUNDLE, Suite, subject_of};
use crate::engine::info::RootCaTrustStoreInfo;
use crate::engine::os_trust_store::os_trust_store_without_blocking;
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Dependency, Group, InfoSchema, OrSkip, Outcome, Prior, Ran,
    Status,
};
use crate::pki::load::load_certificates;

/// Where local roots are dropped for update-ca-certificates.
const LOCAL_CERTIFICATES: &str = "/usr/local/share/ca-certificates";

pub struct RootCaTrustStoreCheck {
    suite: Suite,
}

impl RootCaTrustStoreCheck {
    pub fn leaf() -> Self {
        RootCaTrustStoreCheck { suite: Suite::Leaf }
    }

    pub fn gateway() -> Self {
        RootCaTrustStoreCheck {
            suite: Suite::Gateway,
        }
    }
}

/// One id and one page in both suites; the group and where the root comes from differ.
const LEAF: CheckMeta = CheckMeta {
    id: "root-ca-trust-store",
    group: Group::GatewayConnectivity,
    title: "root CA is installed in the operating system's trust store",
    dependencies: &[Dependency::Uses("root-ca-file")],
    info: InfoSchema::RootCaTrustStore,
};

const GATEWAY: CheckMeta = CheckMeta {
    group: Group::Configuration,
    dependencies: &[Dependency::Uses("certificates-configured")],
    ..LEAF
};

impl DeclaredCheck for RootCaTrustStoreCheck {
    const META: CheckMeta = LEAF;
    fn meta(&self) -> &'static CheckMeta {
        self.suite.meta(&LEAF, &GATEWAY)
    }
    fn applies(&self, context: &Context) -> bool {
        match self.suite {
            // Without --ca-file the leaf suite already reads the OS store: nothing to compare.
            Suite::Leaf => context.ca_file.is_some(),
            Suite::Gateway => true,
        }
    }
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let anchors = match self.suite {
            Suite::Leaf => prior
                .trust_anchors()
                .cloned()
                .or_skip("skipped because the root CA file was not loaded")?,
            Suite::Gateway => prior
                .configured_certificates()
                .and_then(|certificates| certificates.trust_bundle.clone())
                .or_skip("skipped because no trusted root file was loaded")?,
        };
        let store = context.root.path(SYSTEM_BUNDLE);
        let installed = match os_trust_store_without_blocking(&store).await {
            Ok(installed) => installed,
            // A leaf given the file does not depend on the OS store, and other distributions
            // keep it elsewhere (Fedora: /etc/pki/tls/certs): nothing to warn about there.
            Err(error) if self.suite == Suite::Leaf => {
                return Ok(Outcome::ok(format!(
                    "no Debian-style OS trust store to compare with ({error})"
                )));
            }
            Err(error) => {
                return Ok(Outcome::warning(format!("the OS trust store cannot be read: {error}"))
                    .remedy("install the CA certificates package: `sudo apt-get install ca-certificates`"));
            }
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
                "the root CA from {source} is installed in {}",
                store.display()
            ))
        } else {
            let local = context.root.path(LOCAL_CERTIFICATES);
            let copies = copies_in(&local, |certificates| {
                certificates.iter().any(|c| missing.contains(&c))
            });
            let names = missing
                .iter()
                .map(|root| format!("`{}`", subject_of(root)))
                .collect::<Vec<_>>()
                .join(", ");
            let file_name = anchors
                .path
                .file_name()
                .map_or_else(|| "root-ca.pem".into(), |name| name.to_string_lossy());
            let commands = format!(
                "`sudo cp {source} {LOCAL_CERTIFICATES}/{file_name}.crt` then `sudo update-ca-certificates`"
            );
            match copies.iter().find(|copy| !has_crt_extension(copy)) {
                Some(ignored) => Outcome::warning(format!(
                    "{} holds the root CA {names}, but update-ca-certificates ignores it: only files ending in .crt are installed, so the root is not in {}",
                    ignored.display(),
                    store.display()
                ))
                .remedy(format!(
                    "as the gateway guide does, copy the root with a .crt name and update the store: {commands}"
                )),
                None if !copies.is_empty() => Outcome::warning(format!(
                    "{} holds the root CA {names}, but it is not in {} yet",
                    copies[0].display(),
                    store.display()
                ))
                .remedy("run `sudo update-ca-certificates`"),
                None => {
                    let message = format!(
                        "the root CA {names} from {source} is not in the OS trust store {}",
                        store.display()
                    );
                    match self.suite {
                        // The guides install it on every gateway (modules, docker pulls
                        // through a parent, and the host's own services use the OS store).
                        Suite::Gateway => Outcome::warning(message)
                            .remedy(format!("as the gateway guides do: {commands}")),
                        // A leaf whose application is given the file does not need it.
                        Suite::Leaf => Outcome::ok(format!(
                            "{message}: fine when the application is given the file; SDKs that use the OS store need it installed"
                        ))
                        .detail(format!("to install it: {commands}")),
                    }
                }
            }
        };
        if self.suite == Suite::Leaf {
            outcome = outcome.detail(node_note);
        }
        let found = outcome.status != Status::Ok;
        let installed = missing.is_empty();
        Ok(outcome.info(RootCaTrustStoreInfo {
            root_ca_file: anchors.path.clone(),
            trust_store: store,
            installed,
            problem: found,
        }))
    }
}

/// Files under `directory` (recursively, as update-ca-certificates searches) whose certificates
/// `holds` accepts, whatever their name.
pub(super) fn copies_in(
    directory: &Path,
    holds: impl Fn(&[CertificateDer<'static>]) -> bool,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                pending.push(path);
            } else if load_certificates(&path).is_ok_and(|certificates| holds(&certificates)) {
                found.push(path);
            }
        }
    }
    found
}

fn has_crt_extension(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "crt")
}
