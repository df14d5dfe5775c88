//! Reading the files the config names: the certificate files must hold PEM (or DER)
//! certificates and the key file a private key, as IoT Edge's services load them. Each file read
//! is listed for JSON, with its owner and mode.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ConfiguredFile;
use crate::engine::Status;
use crate::pki::load::{load_certificates, load_private_key};
use crate::system::{Accounts, Ownership};

use super::remedies::{Unloaded, load_remedy};
use super::{Finding, Inspector, Kind};

/// Per file, for JSON: the typed `additional_info` entry.
pub(super) use crate::engine::info::ConfiguredFileInfo as FileInfo;

impl Inspector<'_> {
    /// Loads a certificate file and checks its reader's access.
    pub(super) fn certificates(
        &mut self,
        file: &ConfiguredFile,
    ) -> Option<(PathBuf, Vec<CertificateDer<'static>>)> {
        let path = self.resolve(file, Kind::Certificate)?;
        let mut info = self.file_info(file, &path, Kind::Certificate);
        let loaded = self.usable(file, &mut info, load_certificates(&path));
        if let Some(certificates) = &loaded {
            info.certificates = Some(certificates.len());
            self.notes.push(format!(
                "{} = {}: {} certificate(s)",
                file.setting,
                path.display(),
                certificates.len()
            ));
            info.status = self.access(&path, Kind::Certificate);
        }
        self.files.push(info);
        loaded.map(|certificates| (path, certificates))
    }

    /// Loads the private key and checks its reader's access and that others cannot read it.
    pub(super) fn key(
        &mut self,
        file: &ConfiguredFile,
    ) -> Option<(PathBuf, PrivateKeyDer<'static>)> {
        let path = self.resolve(file, Kind::Key)?;
        let mut info = self.file_info(file, &path, Kind::Key);
        let loaded = self.usable(file, &mut info, load_private_key(&path));
        if loaded.is_some() {
            info.status = self.access(&path, Kind::Key);
            if let Some(ownership) = &info.ownership
                && self.key_readable_by_everyone(&path, ownership)
            {
                info.status = info.status.max(Status::Warning);
            }
        }
        self.files.push(info);
        loaded.map(|key| (path, key))
    }

    /// What a file held, or an error finding when it could not be used.
    fn usable<T, E>(
        &mut self,
        file: &ConfiguredFile,
        info: &mut FileInfo,
        loaded: Result<T, E>,
    ) -> Option<T>
    where
        E: Display,
        for<'e> &'e E: Into<Unloaded<'e>>,
    {
        match loaded {
            Ok(value) => Some(value),
            Err(error) => {
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!("{}: {error}", file.setting),
                    remedy: Some(load_remedy((&error).into(), file, self.config)),
                });
                info.status = Status::Error;
                None
            }
        }
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
    const APPLY: &str = "then `sudo iotedge config apply`";

    fn v2(tree: &Tree) -> EdgeConfig {
        config(&tree.root, ConfigFormat::V2Toml)
    }

    fn inspector<'a>(tree: &'a Tree, config: &'a EdgeConfig) -> Inspector<'a> {
        let accounts = tree.accounts(tree.owner());
        Inspector::new(&tree.root, config, Ok(accounts))
    }

    fn setting(kind: Kind) -> ConfiguredFile {
        match kind {
            Kind::Certificate => ConfiguredFile::new("[edge_ca] cert", &format!("file://{CERT}")),
            Kind::Key => ConfiguredFile::new("[edge_ca] pk", &format!("file://{KEY}")),
        }
    }

    /// Reads the `kind` setting's file after writing `written` (a system path and its bytes;
    /// nothing for a missing file), which must be refused: the tree, and the one finding as
    /// (message, remedy).
    fn refused(kind: Kind, written: Option<(&str, &[u8])>) -> (Tree, String, String) {
        let tree = Tree::new();
        if let Some((path, contents)) = written {
            tree.write(path, contents, 0o600);
        }
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        let loaded = match kind {
            Kind::Certificate => inspector.certificates(&setting(kind)).is_some(),
            Kind::Key => inspector.key(&setting(kind)).is_some(),
        };
        assert!(!loaded, "the file was accepted");
        let [info] = inspector.files.as_slice() else {
            panic!("one file listed");
        };
        assert_eq!((info.status, info.certificates), (Status::Error, None));
        assert_eq!(info.ownership.is_some(), written.is_some());
        let [finding] = inspector.findings.as_slice() else {
            panic!("{} findings", inspector.findings.len());
        };
        assert_eq!(finding.status, Status::Error);
        let (message, remedy) = (finding.message.clone(), finding.remedy.clone());
        (tree, message, remedy.unwrap_or_default())
    }

    #[test]
    fn certificates_and_key_are_loaded_and_listed_with_owner_and_reader() {
        let tree = Tree::new();
        let cert = tree.write(CERT, &fixture("top-device-ca-full-chain.pem"), 0o644);
        let key = tree.write(KEY, &fixture("top-device-ca.key.pem"), 0o600);
        let config = v2(&tree);
        let mut inspector = inspector(&tree, &config);
        let (cert_path, certificates) = inspector
            .certificates(&setting(Kind::Certificate))
            .expect("certificates loaded");
        let (key_path, _key) = inspector.key(&setting(Kind::Key)).expect("key loaded");
        assert_eq!((cert_path, certificates.len()), (cert.clone(), 2));
        assert_eq!(key_path, key);
        assert!(inspector.findings.is_empty());
        assert_eq!(
            inspector.notes,
            [format!(
                "[edge_ca] cert = {}: 2 certificate(s)",
                cert.display()
            )]
        );
        let [cert_info, key_info] = inspector.files.as_slice() else {
            panic!("two files listed");
        };
        assert_eq!(
            (
                cert_info.setting,
                cert_info.value.as_str(),
                cert_info.reader
            ),
            (
                "[edge_ca] cert",
                "file:///var/aziot/certs/ca.pem",
                "aziotcs"
            )
        );
        assert_eq!(
            (key_info.setting, key_info.value.as_str(), key_info.reader),
            (
                "[edge_ca] pk",
                "file:///var/aziot/secrets/ca.key.pem",
                "aziotks"
            )
        );
        assert_eq!(
            (cert_info.status, cert_info.certificates),
            (Status::Ok, Some(2))
        );
        assert_eq!((key_info.status, key_info.certificates), (Status::Ok, None));
        assert_eq!(cert_info.path.as_deref(), Some(cert.as_path()));
        assert_eq!(key_info.path.as_deref(), Some(key.as_path()));
        let mode = |info: &FileInfo| info.ownership.as_ref().map(|ownership| ownership.mode);
        assert_eq!(
            (mode(cert_info), mode(key_info)),
            (Some(0o644), Some(0o600))
        );
    }

    #[test]
    fn a_missing_certificate_says_where_to_copy_it() {
        let (tree, message, remedy) = refused(Kind::Certificate, None);
        let path = tree.root.path(CERT);
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
                "copy the certificate to {} or correct [edge_ca] cert in {}, {APPLY}",
                path.display(),
                v2(&tree).source.display()
            )
        );
    }

    #[test]
    fn an_empty_wrong_or_misplaced_certificate_file_must_be_copied_again() {
        let key = fixture("top-device-ca.key.pem");
        let inside = format!("{CERT}/inside.pem");
        for (written, problem) in [
            ((CERT, &b""[..]), "is empty"),
            ((CERT, &key), "holds a private key, not a certificate"),
            ((CERT, b"[edge_ca]\ncert = \"x\"\n"), "holds no certificate"),
            ((&inside, b""), "is a directory, not a certificate file"),
        ] {
            let (_tree, message, remedy) = refused(Kind::Certificate, Some(written));
            assert!(message.starts_with("[edge_ca] cert: "), "{message}");
            assert!(message.contains(problem), "{message}");
            assert_eq!(
                remedy,
                format!(
                    "[edge_ca] cert must name a PEM certificate file (the full-chain file for the device CA): copy it again from where the certificates were made, {APPLY}"
                )
            );
        }
    }

    #[test]
    fn a_certificate_or_nothing_where_the_key_belongs_asks_for_the_key() {
        let certificate = fixture("top-device-ca-full-chain.pem");
        for (written, problem) in [
            (
                (KEY, &certificate[..]),
                "holds a certificate, not a private key",
            ),
            ((KEY, b""), "is empty"),
        ] {
            let (_tree, message, remedy) = refused(Kind::Key, Some(written));
            assert!(message.contains(problem), "{message}");
            assert_eq!(
                remedy,
                format!(
                    "[edge_ca] pk must name the device CA's unencrypted PEM private key (iot-edge-device-ca-<name>.key.pem): copy it again, {APPLY}"
                )
            );
        }
    }

    #[test]
    fn a_missing_key_says_where_to_copy_it() {
        let (tree, message, remedy) = refused(Kind::Key, None);
        let path = tree.root.path(KEY);
        assert!(message.starts_with("[edge_ca] pk: key file "), "{message}");
        assert_eq!(
            remedy,
            format!(
                "copy the device CA's private key to {} or correct [edge_ca] pk in {}, {APPLY}",
                path.display(),
                v2(&tree).source.display()
            )
        );
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
