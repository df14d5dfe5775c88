//! The operating system's trust bundle (`/etc/ssl/certs/ca-certificates.crt`, under `--root`
//! when one is given), with the hashed directory read beside it if any, read at most once per
//! process for each path, and only when a check asks for it.
//!
//! Its ~140 certificates are decoded and checked for their DER framing, not parsed
//! ([`TrustAnchors::load_system_store`]): the checks compare a root against them, and whatever
//! uses one parses it then. The checks that compare
//! against it run once per gateway in fleet mode and once per port in gateway mode, and a run's
//! [`super::Shared`] cache would still let the first burst of concurrent targets all read it.
//! The store does not change while edgeprobe runs, so a failure to read it is kept too: every
//! check that asks reports the same reason. Checks read it with [`os_trust_store_without_blocking`],
//! so that the first read happens beside the run's connections rather than before them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};

use crate::pki::TrustAnchors;
use crate::pki::load::CertificateFileError;

/// What reading one bundle gave: its certificates, or why it could not be read.
pub type OsTrustStore = Result<Arc<TrustAnchors>, Arc<CertificateFileError>>;

/// Which files a store is read from: a bundle alone, or a bundle and a hashed directory
/// (`SSL_CERT_DIR`, or `/etc/ssl/certs` where there is no bundle).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StoreFiles {
    bundle: PathBuf,
    directory: Option<PathBuf>,
}

/// One slot per store; the slot is filled by the first caller while later ones wait for it, so
/// the files are read once even when a whole fleet asks at the same moment. A hashed directory
/// is a few hundred files (Debian's /etc/ssl/certs holds ~290 links): read per target, it
/// would cost several times a whole fleet target's own work.
static STORES: LazyLock<Mutex<HashMap<StoreFiles, Arc<OnceLock<OsTrustStore>>>>> =
    LazyLock::new(Mutex::default);

/// The trust bundle at `path` (already mapped under `--root`), read on the first call for that
/// path and shared afterwards.
pub fn os_trust_store(path: &Path) -> OsTrustStore {
    read_once(path, None, || {
        TrustAnchors::load_system_store(path)
            .map(Arc::new)
            .map_err(Arc::new)
    })
}

/// The store made of the bundle at `bundle` and the hashed `directory` (both under `--root`),
/// made by `read` on the first call for that pair and shared afterwards.
pub(super) fn read_once(
    bundle: &Path,
    directory: Option<&Path>,
    read: impl FnOnce() -> OsTrustStore,
) -> OsTrustStore {
    // Read outside the map's lock, so another store never waits on this one.
    slot(bundle, directory).get_or_init(read).clone()
}

/// The store of `bundle` and `directory` when it was read already.
pub(super) fn already_read(bundle: &Path, directory: Option<&Path>) -> Option<OsTrustStore> {
    slot(bundle, directory).get().cloned()
}

/// [`os_trust_store`] for checks: a bundle not read yet is read on tokio's blocking pool, so the
/// runner, which polls every check of a run on one thread, goes on with the connections (and
/// the handshakes) while the bundle's certificates are decoded, instead of starting them after.
/// A bundle already read is returned at once.
pub async fn os_trust_store_without_blocking(path: &Path) -> OsTrustStore {
    if let Some(read) = already_read(path, None) {
        return read;
    }
    let owned = path.to_path_buf();
    match tokio::task::spawn_blocking(move || os_trust_store(&owned)).await {
        Ok(read) => read,
        // The blocking pool could not run it (the runtime is shutting down): read it here.
        Err(_) => os_trust_store(path),
    }
}

fn slot(bundle: &Path, directory: Option<&Path>) -> Arc<OnceLock<OsTrustStore>> {
    let files = StoreFiles {
        bundle: bundle.to_path_buf(),
        directory: directory.map(Path::to_path_buf),
    };
    // A poisoned lock only means a caller panicked while inserting an empty slot.
    let mut stores = STORES.lock().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(stores.entry(files).or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::fixture;

    #[test]
    fn a_bundle_is_read_once_and_then_shared() {
        let directory = tempfile::tempdir().unwrap();
        let bundle = directory.path().join("ca-certificates.crt");
        std::fs::copy(fixture("root-ca.pem"), &bundle).unwrap();
        let first = os_trust_store(&bundle).unwrap();
        assert_eq!(first.path, bundle);
        // Replaced on disk after the first read: the process keeps what it read.
        std::fs::copy(fixture("other-root-ca.pem"), &bundle).unwrap();
        let again = os_trust_store(&bundle).unwrap();
        assert!(Arc::ptr_eq(&first, &again));

        let other = directory.path().join("other.crt");
        std::fs::copy(fixture("other-root-ca.pem"), &other).unwrap();
        let other = os_trust_store(&other).unwrap();
        assert_ne!(other.certificates, first.certificates);
    }

    #[tokio::test]
    async fn checks_read_the_same_bundle_off_the_runner_thread() {
        let directory = tempfile::tempdir().unwrap();
        let bundle = directory.path().join("ca-certificates.crt");
        std::fs::copy(fixture("root-ca.pem"), &bundle).unwrap();
        let first = os_trust_store_without_blocking(&bundle).await.unwrap();
        assert_eq!(first.path, bundle);
        assert!(Arc::ptr_eq(&first, &os_trust_store(&bundle).unwrap()));
        let again = os_trust_store_without_blocking(&bundle).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let missing = directory.path().join("missing.crt");
        let error = os_trust_store_without_blocking(&missing).await.unwrap_err();
        assert!(matches!(*error, CertificateFileError::NotFound { .. }));
    }

    #[test]
    fn a_missing_bundle_is_reported_the_same_way_every_time() {
        let directory = tempfile::tempdir().unwrap();
        let bundle = directory.path().join("ca-certificates.crt");
        let first = os_trust_store(&bundle).unwrap_err();
        assert!(matches!(*first, CertificateFileError::NotFound { .. }));
        std::fs::copy(fixture("root-ca.pem"), &bundle).unwrap();
        assert!(Arc::ptr_eq(&first, &os_trust_store(&bundle).unwrap_err()));
    }

    #[test]
    fn concurrent_first_calls_share_one_read() {
        let directory = tempfile::tempdir().unwrap();
        let bundle = directory.path().join("ca-certificates.crt");
        std::fs::copy(fixture("root-ca.pem"), &bundle).unwrap();
        let loaded: Vec<Arc<TrustAnchors>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| os_trust_store(&bundle).unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        assert!(
            loaded
                .iter()
                .all(|anchors| Arc::ptr_eq(anchors, &loaded[0]))
        );
    }
}
