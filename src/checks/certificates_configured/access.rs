//! Who may read the files: the service user that loads each one (`aziotcs` for certificates and
//! `aziotks` for keys in 1.2+, `iotedge` in 1.1), judged from `<root>/etc/passwd` and the mode
//! bits, and that nobody else can read the private key.

use std::path::Path;

use crate::config::ConfigFormat;
use crate::engine::Status;
use crate::system::{Ownership, check_read_access};

use super::remedies::access_remedy;
use super::{Finding, Inspector, Kind};

impl Inspector<'_> {
    /// The service user that loads a `kind` of file.
    pub(super) fn reader(&self, kind: Kind) -> &'static str {
        match kind {
            Kind::Certificate => self.config.format.certificate_user(),
            Kind::Key => self.config.format.key_user(),
        }
    }

    /// Whether the service user can read `path`; a finding when it cannot.
    pub(super) fn access(&mut self, path: &Path, kind: Kind) -> Status {
        let reader = self.reader(kind);
        let accounts = match &self.accounts {
            Ok(accounts) => accounts,
            Err(error) => {
                let note = format!("which users may read the files was not checked: {error}");
                self.not_checked(note);
                return Status::Ok;
            }
        };
        let Some(user) = accounts.user(reader) else {
            let note = format!(
                "user `{reader}` does not exist in {}: IoT Edge is not installed here (or this is a copy of its files), so access was not checked",
                self.root.path("/etc/passwd").display()
            );
            self.not_checked(note);
            return Status::Ok;
        };
        match check_read_access(self.root, path, user, accounts) {
            Ok(Ok(())) => Status::Ok,
            Ok(Err(denied)) => {
                // The commands are for the gateway itself, not for the copy under --root.
                let on_gateway = denied.at_system_paths(self.root);
                let remedy = access_remedy(
                    &on_gateway,
                    reader,
                    kind,
                    self.config.format.restart_command(),
                );
                self.findings.push(Finding {
                    status: Status::Error,
                    message: format!(
                        "{denied}: IoT Edge's {} runs as `{reader}` and will fail to load it",
                        match (self.config.format, kind) {
                            (ConfigFormat::V1Yaml, _) => "daemon (iotedged)",
                            (ConfigFormat::V2Toml, Kind::Certificate) =>
                                "certificate service (aziot-certd)",
                            (ConfigFormat::V2Toml, Kind::Key) => "key service (aziot-keyd)",
                        }
                    ),
                    remedy: Some(remedy),
                });
                Status::Error
            }
            Err(error) => {
                self.not_checked(format!("access to {} not checked: {error}", path.display()));
                Status::Ok
            }
        }
    }

    /// Whether every user may read the private key at `path`; a warning when they may.
    pub(super) fn key_readable_by_everyone(&mut self, path: &Path, ownership: &Ownership) -> bool {
        if !ownership.world_readable() {
            return false;
        }
        self.findings.push(Finding {
            status: Status::Warning,
            message: format!(
                "the device CA private key {} is readable by every user ({ownership}): anyone on this machine can copy it and impersonate the gateway",
                path.display()
            ),
            remedy: Some(format!(
                "`sudo chown {reader}:{reader} {path} && sudo chmod 600 {path}`, as the gateway guide sets keys",
                reader = self.reader(Kind::Key),
                path = self.root.system_path(path).display()
            )),
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::certificates_configured::tests::{STRANGER, Tree, config};
    use crate::config::EdgeConfig;
    use crate::system::Accounts;

    const CERT: &str = "/var/aziot/certs/ca.pem";
    const KEY: &str = "/var/aziot/secrets/ca.key.pem";

    /// `access` on the system path `path` for a reader with `uid`: the status, and the findings
    /// as (status, message, remedy).
    fn judge(
        tree: &Tree,
        config: &EdgeConfig,
        uid: u32,
        path: &str,
        kind: Kind,
    ) -> (Status, Vec<(Status, String, String)>) {
        let accounts = tree.accounts(uid);
        let mut inspector = Inspector::new(&tree.root, config, Ok(accounts));
        let status = inspector.access(&tree.root.path(path), kind);
        let findings = inspector
            .findings
            .into_iter()
            .map(|finding| {
                (
                    finding.status,
                    finding.message,
                    finding.remedy.unwrap_or_default(),
                )
            })
            .collect();
        (status, findings)
    }

    #[test]
    fn the_reader_is_the_service_that_loads_the_file() {
        let tree = Tree::new();
        let v1 = config(&tree.root, ConfigFormat::V1Yaml);
        let v2 = config(&tree.root, ConfigFormat::V2Toml);
        let readers = |config: &EdgeConfig| {
            let inspector = Inspector::new(&tree.root, config, Ok(Accounts::default()));
            (
                inspector.reader(Kind::Certificate),
                inspector.reader(Kind::Key),
            )
        };
        assert_eq!(readers(&v1), ("iotedge", "iotedge"));
        assert_eq!(readers(&v2), ("aziotcs", "aziotks"));
    }

    #[test]
    fn a_file_its_owner_may_read_is_fine() {
        let tree = Tree::new();
        tree.write(KEY, b"key", 0o600);
        let config = config(&tree.root, ConfigFormat::V2Toml);
        let owner = tree.owner();
        assert_eq!(
            judge(&tree, &config, owner, KEY, Kind::Key),
            (Status::Ok, vec![])
        );
    }

    #[test]
    fn a_file_the_service_cannot_read_gets_the_guides_ownership() {
        let tree = Tree::new();
        let file = tree.write(CERT, b"certificate", 0o600);
        for (format, kind, service, mode, restart) in [
            (
                ConfigFormat::V2Toml,
                Kind::Certificate,
                "certificate service (aziot-certd) runs as `aziotcs`",
                "644",
                "sudo iotedge system restart",
            ),
            (
                ConfigFormat::V2Toml,
                Kind::Key,
                "key service (aziot-keyd) runs as `aziotks`",
                "600",
                "sudo iotedge system restart",
            ),
            (
                ConfigFormat::V1Yaml,
                Kind::Certificate,
                "daemon (iotedged) runs as `iotedge`",
                "644",
                "sudo systemctl restart iotedge",
            ),
        ] {
            let config = config(&tree.root, format);
            let (status, findings) = judge(&tree, &config, STRANGER, CERT, kind);
            assert_eq!(status, Status::Error);
            let [(status, message, remedy)] = findings.as_slice() else {
                panic!("one finding: {findings:?}");
            };
            assert_eq!(*status, Status::Error);
            let reader = Inspector::new(&tree.root, &config, Ok(Accounts::default())).reader(kind);
            assert!(
                message.starts_with(&format!("{reader} cannot read {}", file.display())),
                "{message}"
            );
            assert!(
                message.ends_with(&format!(": IoT Edge's {service} and will fail to load it")),
                "{message}"
            );
            assert_eq!(
                *remedy,
                // Commands name the gateway's own paths, not the tree's (issue 15).
                format!(
                    "`sudo chown {reader}:{reader} {file} && sudo chmod {mode} {file}` (the transparent gateway guide's ownership), then `{restart}`",
                    file = tree.root.system_path(&file).display()
                )
            );
        }
    }

    #[test]
    fn a_directory_in_the_way_is_named() {
        let tree = Tree::new();
        tree.write(KEY, b"key", 0o644);
        tree.chmod("/var/aziot/secrets", 0o700);
        let config = config(&tree.root, ConfigFormat::V2Toml);
        let (status, findings) = judge(&tree, &config, STRANGER, KEY, Kind::Key);
        assert_eq!(status, Status::Error);
        let [(_, message, remedy)] = findings.as_slice() else {
            panic!("one finding: {findings:?}");
        };
        let directory = tree.root.path("/var/aziot/secrets");
        assert!(
            message.starts_with(&format!(
                "aziotks cannot enter directory {}",
                directory.display()
            )),
            "{message}"
        );
        assert!(
            remedy.starts_with(&format!(
                "`sudo chown aziotks:aziotks {directory} && sudo chmod 700 {directory}`",
                directory = tree.root.system_path(&directory).display()
            )),
            "{remedy}"
        );
    }

    #[test]
    fn unknown_service_users_or_unreadable_accounts_leave_one_note() {
        let tree = Tree::new();
        tree.write(CERT, b"certificate", 0o600);
        let config = config(&tree.root, ConfigFormat::V2Toml);
        let path = tree.root.path(CERT);

        let mut inspector = Inspector::new(&tree.root, &config, Ok(Accounts::default()));
        assert_eq!(inspector.access(&path, Kind::Certificate), Status::Ok);
        assert_eq!(inspector.access(&path, Kind::Certificate), Status::Ok);
        assert!(inspector.findings.is_empty());
        assert_eq!(
            inspector.notes,
            [format!(
                "user `aziotcs` does not exist in {}: IoT Edge is not installed here (or this is a copy of its files), so access was not checked",
                tree.root.path("/etc/passwd").display()
            )]
        );

        let unreadable = Err("cannot read /etc/passwd: denied".to_owned());
        let mut inspector = Inspector::new(&tree.root, &config, unreadable);
        assert_eq!(inspector.access(&path, Kind::Certificate), Status::Ok);
        assert_eq!(inspector.access(&path, Kind::Key), Status::Ok);
        assert_eq!(
            inspector.notes,
            ["which users may read the files was not checked: cannot read /etc/passwd: denied"]
        );
    }

    #[test]
    fn a_key_every_user_may_read_is_a_warning() {
        let tree = Tree::new();
        let path = tree.write(KEY, b"key", 0o644);
        let config = config(&tree.root, ConfigFormat::V2Toml);
        let accounts = tree.accounts(tree.owner());
        let mut inspector = Inspector::new(&tree.root, &config, Ok(accounts.clone()));
        let private = Ownership {
            mode: 0o640,
            ..Ownership::of(&path, &accounts).expect("ownership")
        };
        assert!(!inspector.key_readable_by_everyone(&path, &private));
        assert!(inspector.findings.is_empty());

        let public = Ownership::of(&path, &accounts).expect("ownership");
        assert!(inspector.key_readable_by_everyone(&path, &public));
        let [finding] = inspector.findings.as_slice() else {
            panic!("one finding");
        };
        assert_eq!(finding.status, Status::Warning);
        assert!(
            finding.message.starts_with(&format!(
                "the device CA private key {} is readable by every user (mode 644, owner ",
                path.display()
            )),
            "{}",
            finding.message
        );
        assert_eq!(
            finding.remedy.as_deref(),
            Some(
                format!(
                    "`sudo chown aziotks:aziotks {path} && sudo chmod 600 {path}`, as the gateway guide sets keys",
                    path = tree.root.system_path(&path).display()
                )
                .as_str()
            )
        );
    }
}
