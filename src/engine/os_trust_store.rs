//! The operating system's trust bundle (`/etc/ssl/certs/ca-certificates.crt`, under `--root`
//! when one is given), read at most once per process for each path, and only when a check
//! asks for it.
//!
//! Parsing the bundle's ~140 certificates costs about a millisecond. The checks that compare
//! against it run once per gateway in fleet mode and once per port in gateway mode, and a run's
//! [`super::Shared`] cache would still let the first burst of concurrent targets all read it.
//! The store does not change while edgeprobe runs, so a failure to read it is kept too: every
//! check that asks reports the same reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};

use crate::pki::TrustAnchors;
use crate::pki::load::CertificateFileError;

/// What reading one bundle gave: its certificates, or why it could not be read.
pub type OsTrustStore = Result<Arc<TrustAnchors>, Arc<CertificateFileError>>;

/// One slot per bundle path; the slot is filled by the first caller while later ones wait for
/// it, so the file is read once even when a whole fleet asks at the same moment.
static STORES: LazyLock<Mutex<HashMap<PathBuf, Arc<OnceLock<OsTrustStore>>>>> =
    LazyLock::new(Mutex::default);

/// The trust bundle at `path` (already mapped under `--root`), read on the first call for that
/// path and shared afterwards.
pub fn os_trust_store(path: &Path) -> OsTrustStore {
    let slot = {
        // A poisoned lock only means a caller panicked while inserting an empty slot.
        let mut stores = STORES.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(stores.entry(path.to_path_buf()).or_default())
    };
    // Read outside the map's lock, so another path never waits on this one.
    slot.get_or_init(|| TrustAnchors::load(path).map(Arc::new).map_err(Arc::new))
        .clone()
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
