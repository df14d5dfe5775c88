//! What a run builds once and every check reuses (and, in fleet mode, every target): the DNS
//! resolver, the trust anchors loaded from each CA file, the TLS client, the chains the ports
//! presented (each described once) and the verdicts on them (`pki::verdicts`). It never changes a result; it only avoids redoing the
//! same work hundreds of times.
//!
//! The exporter keeps one for as long as it runs, so the files read here are read again when
//! they change on disk (a CA file replaced, a hosts line added): a [`FileStamp`] per file, a
//! `stat` per use, tells.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::SystemTime;

use time::OffsetDateTime;

use super::Ran;
use crate::identity::certificate::DeviceCertificate;
use crate::net::observation::PresentedChains;
use crate::net::resolve::{ResolverSettings, SharedResolver};
use crate::net::tls::{TlsClient, TlsSetupError};
use crate::pki::TrustAnchors;
use crate::pki::load::CertificateFileError;
use crate::pki::verdicts::Verdicts;
use crate::sdk_trust::DeviceFiles;

/// A handle to the run's shared state; clones share it. `Default` is a fresh, empty one.
#[derive(Clone, Default)]
pub struct Shared {
    state: Arc<SharedState>,
}

#[derive(Default)]
struct SharedState {
    /// The resolver for the last settings asked for, with the stamps of the hosts file and
    /// resolv.conf it read. A run uses one set of settings, so one slot is enough; different
    /// settings, or files changed since, get a resolver of their own.
    resolver: Mutex<Option<(ResolverFiles, SharedResolver)>>,
    /// Trust anchors by CA file path, loaded once per version of the file. Failures are not
    /// kept: they are cheap to repeat and each target reports its own.
    anchors: Mutex<HashMap<PathBuf, (FileStamp, Arc<TrustAnchors>)>>,
    /// The TLS client: it trusts nothing itself (verdicts are the PKI layer's), so one serves
    /// every connection of the run.
    tls_client: OnceLock<Arc<TlsClient>>,
    /// The chains ports presented, each described once.
    chains: PresentedChains,
    /// OpenSSL's and webpki's verdicts per chain, anchors, name and time.
    verdicts: Verdicts,
    /// `--cert`/`--key`: the device's certificate, read once (a run has one device).
    device_certificate: OnceLock<Result<Arc<DeviceCertificate>, String>>,
    /// The device's files as the run that reads them last saw them, by that run's clock
    /// reading (`Context::now`, read once per run): see [`Shared::device_files`].
    device_files: Mutex<Option<(OffsetDateTime, Arc<DeviceFiles>)>>,
    /// What checks' `prepare` started for their own `run` (see [`Shared::hand_over`]).
    handed_over: Mutex<Vec<HandedOver>>,
}

/// Work a check's `prepare` started: the check, the inputs it was started for, and where its
/// result lands.
struct HandedOver {
    check: &'static str,
    inputs: Box<dyn Any + Send + Sync>,
    slot: Arc<OnceLock<Ran>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let anchors: Vec<PathBuf> = lock(&self.state.anchors).keys().cloned().collect();
        formatter
            .debug_struct("Shared")
            .field(
                "resolver",
                &lock(&self.state.resolver)
                    .as_ref()
                    .map(|(_, resolver)| resolver),
            )
            .field("anchors", &anchors)
            .finish_non_exhaustive()
    }
}

/// What tells one version of a file from another without reading it: its length, its
/// modification time and, on Unix, its device and inode (a file replaced by `mv` or `cp` is a
/// new inode or a new time). `None` fields when the file cannot be examined.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    length: Option<u64>,
    modified: Option<SystemTime>,
    identity: Option<(u64, u64)>,
}

impl FileStamp {
    fn of(path: &Path) -> FileStamp {
        match std::fs::metadata(path) {
            Ok(metadata) => FileStamp {
                length: Some(metadata.len()),
                modified: metadata.modified().ok(),
                identity: file_identity(&metadata),
            },
            Err(_) => FileStamp {
                length: None,
                modified: None,
                identity: None,
            },
        }
    }
}

#[cfg(unix)]
fn file_identity(metadata: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// The stamps of the files a resolver read: the hosts file and resolv.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResolverFiles {
    hosts_file: FileStamp,
    resolv_conf: FileStamp,
}

impl ResolverFiles {
    fn of(settings: &ResolverSettings) -> ResolverFiles {
        ResolverFiles {
            hosts_file: FileStamp::of(&settings.hosts_file),
            resolv_conf: FileStamp::of(&settings.resolv_conf),
        }
    }
}

/// A poisoned lock only means another task panicked mid-update of a cache; the cached values
/// themselves are whole (inserted in one step), so carry on with them.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The resolver for `settings`, created on first use and reused while the settings, the
    /// hosts file and resolv.conf stay the same.
    pub fn resolver(&self, settings: &ResolverSettings) -> SharedResolver {
        let files = ResolverFiles::of(settings);
        let mut slot = lock(&self.state.resolver);
        match slot.as_ref() {
            Some((read, resolver)) if resolver.settings() == settings && *read == files => {
                resolver.clone()
            }
            _ => {
                let resolver = SharedResolver::new(settings.clone());
                *slot = Some((files, resolver.clone()));
                resolver
            }
        }
    }

    /// The certificates in the CA file at `path`, read and parsed once per version of the file
    /// (once per run, unless it is replaced meanwhile).
    pub fn trust_anchors(&self, path: &Path) -> Result<Arc<TrustAnchors>, CertificateFileError> {
        // Stamped before reading: a file changed during the read is read again next time.
        let stamp = FileStamp::of(path);
        if let Some((read, anchors)) = lock(&self.state.anchors).get(path)
            && *read == stamp
        {
            return Ok(Arc::clone(anchors));
        }
        // Loaded outside the lock: two targets may both load a file the first time, which
        // costs a read and keeps every other target waiting on nothing.
        let anchors = Arc::new(TrustAnchors::load(path)?);
        let mut cached = lock(&self.state.anchors);
        let entry = cached
            .entry(path.to_path_buf())
            .or_insert_with(|| (stamp.clone(), Arc::clone(&anchors)));
        if entry.0 != stamp {
            *entry = (stamp, anchors);
        }
        Ok(Arc::clone(&entry.1))
    }

    /// The TLS client every connection uses.
    pub fn tls_client(&self) -> Result<Arc<TlsClient>, TlsSetupError> {
        if let Some(client) = self.state.tls_client.get() {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(TlsClient::new()?);
        Ok(Arc::clone(self.state.tls_client.get_or_init(|| client)))
    }

    /// The device certificate of `--cert`/`--key`, read on first use; later calls get the same
    /// one whatever paths they pass (a run checks one device).
    pub fn device_certificate(
        &self,
        certificate: &Path,
        key: &Path,
    ) -> Result<Arc<DeviceCertificate>, String> {
        self.state
            .device_certificate
            .get_or_init(|| DeviceCertificate::load(certificate, key).map(Arc::new))
            .clone()
    }

    /// The chains the run's ports presented, each described once.
    pub fn presented_chains(&self) -> &PresentedChains {
        &self.state.chains
    }

    /// The run's verdicts on the chains its ports presented: each distinct question is
    /// answered once.
    pub fn verdicts(&self) -> &Verdicts {
        &self.state.verdicts
    }

    /// The memo of the device's files for the run whose clock reads `run` (its
    /// `Context::now`): every check of that run (and every target of a fleet run, which share
    /// one clock reading) gets the same one, so a path is resolved and a directory listed
    /// once; a run with another reading (the exporter's next probe, which keeps this
    /// `Shared`) gets a fresh one and sees files changed meanwhile.
    pub fn device_files(&self, run: OffsetDateTime) -> Arc<DeviceFiles> {
        let mut slot = lock(&self.state.device_files);
        match slot.as_ref() {
            Some((read, files)) if *read == run => Arc::clone(files),
            _ => {
                let files = Arc::new(DeviceFiles::default());
                *slot = Some((run, Arc::clone(&files)));
                files
            }
        }
    }

    /// Hands the result `check`'s `prepare` is computing into `slot` over to that check's
    /// `run` in the same run: [`Shared::take_over`] with equal `inputs` takes it, once.
    pub fn hand_over<I: Any + Send + Sync>(
        &self,
        check: &'static str,
        inputs: I,
        slot: Arc<OnceLock<Ran>>,
    ) {
        lock(&self.state.handed_over).push(HandedOver {
            check,
            inputs: Box::new(inputs),
            slot,
        });
    }

    /// The slot [`Shared::hand_over`] left for `check` with these `inputs`, taken out: a later
    /// run (the files may have changed) computes afresh.
    pub fn take_over<I: Any + PartialEq>(
        &self,
        check: &'static str,
        inputs: &I,
    ) -> Option<Arc<OnceLock<Ran>>> {
        let mut handed = lock(&self.state.handed_over);
        let index = handed.iter().position(|handed| {
            handed.check == check && handed.inputs.downcast_ref::<I>() == Some(inputs)
        })?;
        Some(handed.swap_remove(index).slot)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::test_fixtures::fixture;

    #[test]
    fn anchors_are_loaded_once_per_path_and_failures_are_not_cached() {
        let shared = Shared::default();
        let first = shared.trust_anchors(&fixture("root-ca.pem")).unwrap();
        let again = shared.trust_anchors(&fixture("root-ca.pem")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let other = shared.trust_anchors(&fixture("other-root-ca.pem")).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_ne!(first.certificates, other.certificates);

        let directory = tempfile::tempdir().unwrap();
        let late = directory.path().join("late.pem");
        assert!(matches!(
            shared.trust_anchors(&late),
            Err(CertificateFileError::NotFound { .. })
        ));
        std::fs::copy(fixture("root-ca.pem"), &late).unwrap();
        assert!(shared.trust_anchors(&late).is_ok());
    }

    /// The client trusts nothing itself (verdicts are `pki::verdicts`'), so whatever the
    /// anchors one client serves them all; verdicts are shared the same way.
    #[test]
    fn one_tls_client_and_one_verdict_memo_serve_the_run() {
        let shared = Shared::default();
        let client = shared.tls_client().unwrap();
        assert!(Arc::ptr_eq(&client, &shared.tls_client().unwrap()));
        let clone = shared.clone();
        assert!(Arc::ptr_eq(&client, &clone.tls_client().unwrap()));
        assert!(std::ptr::eq(shared.verdicts(), clone.verdicts()));
        let other = Shared::default();
        assert!(!Arc::ptr_eq(&client, &other.tls_client().unwrap()));
        assert!(!std::ptr::eq(shared.verdicts(), other.verdicts()));
    }

    /// The exporter keeps its `Shared` for as long as it runs: a CA file replaced on disk is
    /// read again, one left alone is not.
    #[test]
    fn a_replaced_ca_file_is_read_again() {
        let shared = Shared::default();
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("root.pem");
        std::fs::copy(fixture("root-ca.pem"), &path).unwrap();
        let first = shared.trust_anchors(&path).unwrap();
        assert!(Arc::ptr_eq(&first, &shared.trust_anchors(&path).unwrap()));
        let replacement = directory.path().join("new.pem");
        std::fs::copy(fixture("other-root-ca.pem"), &replacement).unwrap();
        std::fs::rename(&replacement, &path).unwrap();
        let replaced = shared.trust_anchors(&path).unwrap();
        assert_ne!(first.certificates, replaced.certificates);
        assert!(Arc::ptr_eq(
            &replaced,
            &shared.trust_anchors(&path).unwrap()
        ));
    }

    #[test]
    fn a_changed_hosts_file_gets_a_new_resolver() {
        let shared = Shared::default();
        let directory = tempfile::tempdir().unwrap();
        let settings = ResolverSettings {
            hosts_file: directory.path().join("hosts"),
            ..ResolverSettings::system(Duration::from_secs(5))
        };
        std::fs::write(&settings.hosts_file, "127.0.0.1 localhost\n").unwrap();
        let first = shared.resolver(&settings);
        assert!(first.same_as(&shared.resolver(&settings)));
        let replacement = directory.path().join("hosts.new");
        std::fs::write(
            &replacement,
            "127.0.0.1 localhost\n10.0.0.5 gw.contoso.com\n",
        )
        .unwrap();
        std::fs::rename(&replacement, &settings.hosts_file).unwrap();
        let second = shared.resolver(&settings);
        assert!(!first.same_as(&second));
        assert!(second.same_as(&shared.resolver(&settings)));
    }

    #[test]
    fn one_resolver_per_settings() {
        let shared = Shared::default();
        let settings = ResolverSettings::system(Duration::from_secs(5));
        let first = shared.resolver(&settings);
        let again = shared.resolver(&settings.clone());
        assert!(first.same_as(&again));
        let other = shared.resolver(&ResolverSettings::system(Duration::from_secs(2)));
        assert!(!first.same_as(&other));
        assert_eq!(other.settings().timeout, Duration::from_secs(2));
    }
}
