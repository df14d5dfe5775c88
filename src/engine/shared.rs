//! What a run builds once and every check reuses (and, in fleet mode, every target): the DNS
//! resolver, the trust anchors loaded from each CA file, the TLS client, the chains the ports
//! presented (each described once) and the verdicts on them (`pki::verdicts`). It never changes a result; it only avoids redoing the
//! same work hundreds of times.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::net::observation::PresentedChains;
use crate::net::resolve::{ResolverSettings, SharedResolver};
use crate::net::tls::{TlsClient, TlsSetupError};
use crate::pki::TrustAnchors;
use crate::pki::load::CertificateFileError;
use crate::pki::verdicts::Verdicts;

/// A handle to the run's shared state; clones share it. `Default` is a fresh, empty one.
#[derive(Clone, Default)]
pub struct Shared {
    state: Arc<SharedState>,
}

#[derive(Default)]
struct SharedState {
    /// The resolver for the last settings asked for. A run uses one set of settings, so one
    /// slot is enough; different settings get a resolver of their own.
    resolver: Mutex<Option<SharedResolver>>,
    /// Trust anchors by CA file path, loaded once. Failures are not kept: they are cheap to
    /// repeat and each target reports its own.
    anchors: Mutex<HashMap<PathBuf, Arc<TrustAnchors>>>,
    /// The TLS client: it trusts nothing itself (verdicts are the PKI layer's), so one serves
    /// every connection of the run.
    tls_client: OnceLock<Arc<TlsClient>>,
    /// The chains ports presented, each described once.
    chains: PresentedChains,
    /// OpenSSL's and webpki's verdicts per chain, anchors, name and time.
    verdicts: Verdicts,
}

impl fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let anchors: Vec<PathBuf> = lock(&self.state.anchors).keys().cloned().collect();
        formatter
            .debug_struct("Shared")
            .field("resolver", &*lock(&self.state.resolver))
            .field("anchors", &anchors)
            .finish_non_exhaustive()
    }
}

/// A poisoned lock only means another task panicked mid-update of a cache; the cached values
/// themselves are whole (inserted in one step), so carry on with them.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The resolver for `settings`, created on first use and reused while the settings stay
    /// the same.
    pub fn resolver(&self, settings: &ResolverSettings) -> SharedResolver {
        let mut slot = lock(&self.state.resolver);
        match slot.as_ref() {
            Some(resolver) if resolver.settings() == settings => resolver.clone(),
            _ => {
                let resolver = SharedResolver::new(settings.clone());
                *slot = Some(resolver.clone());
                resolver
            }
        }
    }

    /// The certificates in the CA file at `path`, read and parsed once per run.
    pub fn trust_anchors(&self, path: &Path) -> Result<Arc<TrustAnchors>, CertificateFileError> {
        if let Some(anchors) = lock(&self.state.anchors).get(path) {
            return Ok(Arc::clone(anchors));
        }
        // Loaded outside the lock: two targets may both load a file the first time, which
        // costs a read and keeps every other target waiting on nothing.
        let anchors = Arc::new(TrustAnchors::load(path)?);
        Ok(Arc::clone(
            lock(&self.state.anchors)
                .entry(path.to_path_buf())
                .or_insert(anchors),
        ))
    }

    /// The TLS client every connection uses.
    pub fn tls_client(&self) -> Result<Arc<TlsClient>, TlsSetupError> {
        if let Some(client) = self.state.tls_client.get() {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(TlsClient::new()?);
        Ok(Arc::clone(self.state.tls_client.get_or_init(|| client)))
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
