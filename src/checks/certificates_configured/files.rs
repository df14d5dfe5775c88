//! Reading the files the config names: the certificate files must hold PEM (or DER)
//! certificates and the key file a private key, as IoT Edge's services load them. Each file read
//! is listed for JSON, with its owner and mode.

use std::path::{Path, PathBuf};

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

use crate::config::ConfiguredFile;
use crate::engine::Status;
use crate::pki::load::{load_certificates, load_private_key};
use crate::system::{Accounts, Ownership};

use super::remedies::{certificate_remedy, key_remedy};
use super::{Finding, Inspector, Kind};

/// Per file, for JSON.
#[derive(Serialize)]
pub(super) struct FileInfo {
    setting: &'static str,
    value: String,
    path: Option<PathBuf>,
    /// The service user that must read it.
    reader: &'static str,
    status: Status,
    certificates: Option<usize>,
    ownership: Option<Ownership>,
}

impl Inspector<'_> {
    /// Loads a certificate file and checks its reader's access.
    pub(super) fn certificates(
        &mut self,
        file: &ConfiguredFile,
    ) -> Option<(PathBuf, Vec<CertificateDer<'static>>)> {
        let path = self.resolve(file, Kind::Certificate)?;
        let mut info = self.file_info(file, &path, Kind::Certificate);
        let loaded = match load_certificates(&path) {
            Ok(certificates) => {
                info.certificates = Some(certificates.len());
                self.notes.push(format!(
                    "{} = {}: {} certificate(s)",
                    file.setting,
                    path.display(),
                    certificates.len()
                ));
                Some((path.clone(), certificates))
            }
            Err(error) => {
                let remedy = certificate_remedy(&error, file, self.config);
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!("{}: {error}", file.setting),
                    remedy: Some(remedy),
                });
                info.status = Status::Error;
                None
            }
        };
        if loaded.is_some() {
            info.status = self.access(&path, Kind::Certificate);
        }
        self.files.push(info);
        loaded
    }

    /// Loads the private key and checks its reader's access and that others cannot read it.
    pub(super) fn key(
        &mut self,
        file: &ConfiguredFile,
    ) -> Option<(PathBuf, PrivateKeyDer<'static>)> {
        let path = self.resolve(file, Kind::Key)?;
        let mut info = self.file_info(file, &path, Kind::Key);
        let loaded = match load_private_key(&path) {
            Ok(key) => Some((path.clone(), key)),
            Err(error) => {
                let remedy = key_remedy(&error, file, self.config);
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!("{}: {error}", file.setting),
                    remedy: Some(remedy),
                });
                info.status = Status::Error;
                None
            }
        };
        if loaded.is_some() {
            info.status = self.access(&path, Kind::Key);
            if let Some(ownership) = &info.ownership
                && self.key_readable_by_everyone(&path, ownership)
            {
                info.status = info.status.max(Status::Warning);
            }
        }
        self.files.push(info);
        loaded
    }

    fn file_info(&self, file: &ConfiguredFile, path: &Path, kind: Kind) -> FileInfo {
        FileInfo {
            setting: file.setting,
            value: file.value.clone(),
            path: Some(path.to_path_buf()),
            reader: self.reader(kind),
            status: Status::Ok,
            certificates: None,
            // Owners are shown by name when the accounts could be read, by number otherwise.
            ownership: Ownership::of(path, self.accounts.as_ref().unwrap_or(&Accounts::default()))
                .ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::certificates_configured::tests::{Tree, config, fixture};
    use crate::config::{ConfigFormat, EdgeConfig};

    const CERT: &str = "/var/aziot/certs/ca.pem";
    const KEY: &str = "/var/aziot/secrets/ca.key.pem";

    fn v2(tree: &Tree) -> EdgeConfig {
        config(&tree.root, ConfigFormat::V2Toml)
    }

    fn inspector<'a>(tree: &'a Tree, config: &'a EdgeConfig) -> Inspector<'a> {
        let accounts = tree.accounts(tree.owner());
        Inspector::new(&tree.root, config, Ok(accounts))
    }

    fn certificate_setting() -> ConfiguredFile {
        ConfiguredFile::new("[edge_ca] cert", &format!("file://{CERT}"))
    }

    fn key_setting() -> ConfiguredFile {
        ConfiguredFile::new("[edge_ca] pk", &format!("file://{KEY}"))
    }

    /// The one finding, as (message, remedy).
    fn only_finding(inspector: &Inspector<'_>) -> (String, String) {
        match inspector.findings.as_slice() {
            [finding] => {
                assert_eq!(finding.status, Status::Error);
                (
                    finding.message.clone(),
                    finding.remedy.clone().unwrap_or_default(),
                )
            }
            findings => panic!("{} findings", findings.len()),
        }
    }

    #[test]
    fn certificates_are_counted_and_listed_with_owner_and_reader() {
        let tree = Tree::new();
        let path = tree.write(CERT, &fixture("top-device-ca-full-chain.pem"), 0o644);
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        let (loaded_path, certificates) = inspector
            .certificates(&certificate_setting())
            .expect("loaded");
        assert_eq!(loaded_path, path);
        assert_eq!(certificates.len(), 2);
        assert!(inspector.findings.is_empty());
        assert_eq!(
            inspector.notes,
            [format!(
                "[edge_ca] cert = {}: 2 certificate(s)",
                path.display()
            )]
        );
        let [info] = inspector.files.as_slice() else {
            panic!("one file listed");
        };
        assert_eq!(
            (info.setting, info.value.as_str(), info.reader),
            (
                "[edge_ca] cert",
                "file:///var/aziot/certs/ca.pem",
                "aziotcs"
            )
        );
        assert_eq!((info.status, info.certificates), (Status::Ok, Some(2)));
        assert_eq!(info.path.as_deref(), Some(path.as_path()));
        assert_eq!(
            info.ownership.as_ref().map(|ownership| ownership.mode),
            Some(0o644)
        );
    }

    #[test]
    fn a_missing_certificate_says_where_to_copy_it() {
        let tree = Tree::new();
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        assert!(inspector.certificates(&certificate_setting()).is_none());
        let path = tree.root.path(CERT);
        let (message, remedy) = only_finding(&inspector);
        assert_eq!(
            message,
            format!(
                "[edge_ca] cert: certificate file {} does not exist: check the path",
                path.display()
            )
        );
        assert_eq!(
            remedy,
            format!(
                "copy the certificate to {} or correct [edge_ca] cert in {}, then `sudo iotedge config apply`",
                path.display(),
                config.source.display()
            )
        );
        let [info] = inspector.files.as_slice() else {
            panic!("one file listed");
        };
        assert_eq!((info.status, info.certificates), (Status::Error, None));
        assert!(info.ownership.is_none());
    }

    #[test]
    fn an_empty_or_wrong_certificate_file_must_be_copied_again() {
        for (contents, problem) in [
            (&b""[..], "is empty"),
            (
                &fixture("top-device-ca.key.pem"),
                "holds a private key, not a certificate",
            ),
            (b"[edge_ca]\ncert = \"file:///x\"\n", "holds no certificate"),
        ] {
            let tree = Tree::new();
            tree.write(CERT, contents, 0o644);
            let config = v2(&tree);
            let mut inspector = inspector(&tree, &config);
            assert!(inspector.certificates(&certificate_setting()).is_none());
            let (message, remedy) = only_finding(&inspector);
            assert!(message.starts_with("[edge_ca] cert: "), "{message}");
            assert!(message.contains(problem), "{message}");
            assert_eq!(
                remedy,
                "[edge_ca] cert must name a PEM certificate file (the full-chain file for the device CA): copy it again from where the certificates were made, then `sudo iotedge config apply`"
            );
            assert_eq!(inspector.files[0].status, Status::Error);
        }
    }

    #[test]
    fn a_directory_is_not_a_certificate_file() {
        let tree = Tree::new();
        tree.write("/var/aziot/certs/ca.pem/inside.pem", b"", 0o644);
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        assert!(inspector.certificates(&certificate_setting()).is_none());
        let (message, _) = only_finding(&inspector);
        assert!(message.contains("is a directory"), "{message}");
    }

    #[test]
    fn a_private_key_is_loaded_and_listed() {
        let tree = Tree::new();
        let path = tree.write(KEY, &fixture("top-device-ca.key.pem"), 0o600);
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        let (loaded_path, _key) = inspector.key(&key_setting()).expect("loaded");
        assert_eq!(loaded_path, path);
        assert!(inspector.findings.is_empty());
        assert!(inspector.notes.is_empty(), "{:?}", inspector.notes);
        let [info] = inspector.files.as_slice() else {
            panic!("one file listed");
        };
        assert_eq!((info.reader, info.status), ("aziotks", Status::Ok));
        assert_eq!(info.certificates, None);
    }

    #[test]
    fn a_certificate_where_the_key_belongs_asks_for_the_key() {
        let tree = Tree::new();
        tree.write(KEY, &fixture("top-device-ca-full-chain.pem"), 0o600);
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        assert!(inspector.key(&key_setting()).is_none());
        let (message, remedy) = only_finding(&inspector);
        assert!(
            message.contains("holds a certificate, not a private key"),
            "{message}"
        );
        assert_eq!(
            remedy,
            "[edge_ca] pk must name the device CA's unencrypted PEM private key (iot-edge-device-ca-<name>.key.pem): copy it again, then `sudo iotedge config apply`"
        );
        assert_eq!(inspector.files[0].status, Status::Error);
    }

    #[test]
    fn a_missing_or_empty_key_file() {
        let tree = Tree::new();
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        assert!(inspector.key(&key_setting()).is_none());
        let (message, remedy) = only_finding(&inspector);
        assert!(message.starts_with("[edge_ca] pk: key file "), "{message}");
        assert!(
            remedy.starts_with(&format!(
                "copy the device CA's private key to {} or correct [edge_ca] pk in ",
                tree.root.path(KEY).display()
            )),
            "{remedy}"
        );

        tree.write(KEY, b"", 0o600);
        let mut inspector = Inspector::new(&tree.root, &config, Ok(Accounts::default()));
        assert!(inspector.key(&key_setting()).is_none());
        let (message, _) = only_finding(&inspector);
        assert!(message.contains("is empty"), "{message}");
    }

    #[test]
    fn a_setting_that_is_not_a_file_lists_no_file() {
        let tree = Tree::new();
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        let hsm = ConfiguredFile::new("[edge_ca] pk", "pkcs11:object=edge-ca");
        assert!(inspector.key(&hsm).is_none());
        let https = ConfiguredFile::new("[edge_ca] cert", "https://contoso.com/ca.pem");
        assert!(inspector.certificates(&https).is_none());
        assert!(inspector.files.is_empty());
        assert_eq!(inspector.notes.len(), 1, "{:?}", inspector.notes);
        assert_eq!(inspector.findings.len(), 1);
    }
}
