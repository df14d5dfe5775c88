//! `certificates-configured`: the device CA certificate and key and the trusted root that the
//! config names exist, parse, and are readable by the service that loads them, as "Configure an
//! IoT Edge device to act as a transparent gateway" sets them up: certificates owned by
//! `aziotcs` and readable, keys owned by `aziotks` and private (1.2+); `iotedge` reads both in
//! 1.1. No device CA at all means quickstart certificates, which the docs reserve for testing.
//!
//! This file decides what the config asks for and sums up the findings; [`location`] turns a
//! file setting into a path under `--root`, [`files`] reads each file, [`access`] judges who may
//! read it, and [`remedies`] words the fixes.

mod access;
mod files;
mod location;
mod remedies;

use std::sync::Arc;

use crate::config::{ConfiguredCertificates, DeviceCa, EdgeCa, EdgeConfig};
use crate::engine::{CheckMeta, Context, DeclaredCheck, Evidence, Outcome, Prior, Ran, Status};
use crate::pki::TrustAnchors;
use crate::system::{Accounts, SystemRoot};

use super::catalog;
use super::edge_config;
use files::FileInfo;

pub struct CertificatesConfiguredCheck;

/// One finding; the check's status is the worst, its message lists them all.
struct Finding {
    status: Status,
    message: String,
    remedy: Option<String>,
}

use crate::engine::info::CertificatesConfiguredInfo;

/// What the check has found so far, file by file.
struct Inspector<'a> {
    /// `--root`: where the config's paths are looked up.
    root: &'a SystemRoot,
    config: &'a EdgeConfig,
    accounts: Result<Accounts, String>,
    findings: Vec<Finding>,
    notes: Vec<String>,
    /// What could not be checked (access without the service users, a key in an HSM): the
    /// OK message then claims only what was checked.
    unchecked: Vec<String>,
    files: Vec<FileInfo>,
}

/// What a file is, for choosing the reader and the remedies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Certificate,
    Key,
}

impl DeclaredCheck for CertificatesConfiguredCheck {
    const META: CheckMeta = catalog::CERTIFICATES_CONFIGURED;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let config = edge_config(prior)?;
        let accounts = Accounts::load(&context.root).map_err(|error| error.to_string());
        let mut inspector = Inspector::new(&context.root, config, accounts);
        let format = config.format;
        let apply = format.apply_command();
        let mut device_ca = None;
        let mut quickstart = false;
        match &config.edge_ca {
            EdgeCa::Files { cert, key } => {
                let chain = inspector.certificates(cert);
                let key_loaded = inspector.key(key);
                if let Some((cert_path, chain)) = chain {
                    let (key_path, key) = match key_loaded {
                        Some((path, key)) => (Some(path), Some(Arc::new(key))),
                        None => (None, None),
                    };
                    device_ca = Some(DeviceCa {
                        cert_path,
                        chain,
                        key_path,
                        key,
                    });
                }
            }
            EdgeCa::Incomplete { cert, key } => {
                let (set, missing) = match (cert, key) {
                    (Some(cert), _) => (cert.setting, format.device_ca_key_setting()),
                    (_, Some(key)) => (key.setting, format.device_ca_cert_setting()),
                    (None, None) => (
                        format.device_ca_cert_setting(),
                        format.device_ca_key_setting(),
                    ),
                };
                inspector.findings.push(Finding {
                        status: Status::Error,
                        message: format!("{set} is set but {missing} is not: IoT Edge needs both the device CA certificate and its private key"),
                        remedy: Some(format!("set {missing} in {} to the device CA's private key (file:///var/aziot/secrets/<name>.key.pem), then `{apply}`", config.source.display())),
                    });
            }
            EdgeCa::Quickstart { lifetime_days } => {
                quickstart = true;
                inspector.findings.push(Finding {
                        status: Status::Warning,
                        message: format!(
                            "no device CA is configured: IoT Edge generates a quickstart CA{}, for testing only; leaves cannot be given a lasting root for it",
                            lifetime_days.map(|days| format!(" valid {days} days")).unwrap_or_default()
                        ),
                        remedy: Some(format!(
                            "issue a device CA certificate and key from your PKI (or, for tests, `./certGen.sh create_edge_device_ca_certificate <name>`), copy them to /var/aziot/certs and /var/aziot/secrets, set {} and {} in {}, then `{apply}`",
                            format.device_ca_cert_setting(),
                            format.device_ca_key_setting(),
                            config.source.display()
                        )),
                    });
            }
            EdgeCa::Issued { method } => {
                inspector.notes.push(format!(
                        "the edge CA is issued at run time ([edge_ca] method = \"{method}\"): no certificate file to check"
                    ));
            }
        }
        let trust_bundle = match &config.trust_bundle {
            Some(file) => inspector
                .certificates(file)
                .map(|(path, certificates)| Arc::new(TrustAnchors::new(path, certificates))),
            None if !quickstart => {
                // A lower layer verifies its parent with it; a top layer's modules and
                // edgeHub get it as their trust bundle.
                let nested = config.names.parent_hostname.is_some();
                inspector.findings.push(Finding {
                        status: if nested { Status::Error } else { Status::Warning },
                        message: format!(
                            "{} is not set{}",
                            format.trust_bundle_setting(),
                            if nested {
                                ": this lower-layer device cannot verify its parent's certificate"
                            } else {
                                ": IoT Edge's trust bundle then lacks the root CA your leaves use, and the device CA's chain cannot be checked"
                            }
                        ),
                        remedy: Some(format!(
                            "set `{} = \"file:///var/aziot/certs/<root CA>.pem\"` at the top of {} (the root CA shared by the hierarchy), then `{apply}`",
                            format.trust_bundle_setting(),
                            config.source.display()
                        )),
                    });
                None
            }
            None => None,
        };

        let certificates = ConfiguredCertificates {
            format,
            device_ca,
            trust_bundle,
            quickstart,
        };
        Ok(inspector
            .outcome(&certificates)
            .evidence(Evidence::ConfiguredCertificates(Arc::new(certificates))))
    }
}

impl<'a> Inspector<'a> {
    fn new(
        root: &'a SystemRoot,
        config: &'a EdgeConfig,
        accounts: Result<Accounts, String>,
    ) -> Inspector<'a> {
        Inspector {
            root,
            config,
            accounts,
            findings: Vec::new(),
            notes: Vec::new(),
            unchecked: Vec::new(),
            files: Vec::new(),
        }
    }

    /// A note about something that was not checked; said once.
    fn not_checked(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note.clone());
            self.unchecked.push(note);
        }
    }

    fn outcome(self, certificates: &ConfiguredCertificates) -> Outcome {
        let status = self
            .findings
            .iter()
            .map(|finding| finding.status)
            .max()
            .unwrap_or(Status::Ok);
        let message = if self.findings.is_empty() {
            let mut parts = Vec::new();
            if let Some(device_ca) = &certificates.device_ca {
                parts.push(format!(
                    "device CA {} ({} certificate(s)){}",
                    device_ca.cert_path.display(),
                    device_ca.chain.len(),
                    device_ca
                        .key_path
                        .as_ref()
                        .map(|key| format!(" with key {}", key.display()))
                        .unwrap_or_default()
                ));
            }
            if let Some(trust) = &certificates.trust_bundle {
                parts.push(format!("trusted root {}", trust.path.display()));
            }
            if parts.is_empty() {
                "no certificate files to check".to_owned()
            } else if self.unchecked.is_empty() {
                format!(
                    "{}: present, valid PEM, readable by IoT Edge",
                    parts.join("; ")
                )
            } else {
                // Something was not checked (access without the service users, a key in an
                // HSM): the title's "readable" is not claimed for it.
                format!(
                    "{}: present and valid PEM; {}",
                    parts.join("; "),
                    self.unchecked.join("; ")
                )
            }
        } else {
            // One cause can be found through two files (an unreadable directory holding the
            // device CA and its key): say it once.
            let mut messages: Vec<&str> = Vec::new();
            for finding in &self.findings {
                if !messages.contains(&finding.message.as_str()) {
                    messages.push(&finding.message);
                }
            }
            messages.join("; ")
        };
        let mut remedies: Vec<String> = Vec::new();
        for remedy in self
            .findings
            .iter()
            .filter_map(|finding| finding.remedy.clone())
        {
            if !remedies.contains(&remedy) {
                remedies.push(remedy);
            }
        }
        let mut outcome = Outcome::ok(message).details(self.notes);
        outcome.escalate(status);
        if !remedies.is_empty() {
            outcome = outcome.remedy(remedies.join(". Also: "));
        }
        outcome.info(CertificatesConfiguredInfo {
            version: self.config.format,
            quickstart: certificates.quickstart,
            files: self.files,
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::PathBuf;

    use super::*;
    use crate::config::{
        ConfigFormat, ConfiguredFile, DeviceNames, Provisioning, V1_CONFIG_PATH, V2_CONFIG_PATH,
    };
    use crate::engine::Check;
    use crate::pki::load::load_certificates;

    /// A uid that owns none of the files the tests write, for a service user that may not read them.
    pub(super) const STRANGER: u32 = 4242;

    /// A `format` config read from under `root`, with quickstart certificates and nothing else.
    pub(super) fn config(root: &SystemRoot, format: ConfigFormat) -> EdgeConfig {
        EdgeConfig {
            source: root.path(match format {
                ConfigFormat::V1Yaml => V1_CONFIG_PATH,
                ConfigFormat::V2Toml => V2_CONFIG_PATH,
            }),
            format,
            names: DeviceNames {
                hostname: Some("gw.contoso.com".to_owned()),
                parent_hostname: None,
            },
            provisioning: Provisioning::Missing,
            edge_ca: EdgeCa::Quickstart {
                lifetime_days: None,
            },
            trust_bundle: None,
            homedir: PathBuf::from("/var/lib/iotedge"),
            agent: Default::default(),
            misplaced_keys: Vec::new(),
        }
    }

    /// The bytes of a generated gateway fixture (see fixtures/README.md).
    pub(super) fn fixture(name: &str) -> Vec<u8> {
        let path = crate::test_fixtures::fixture(&format!("gateway/pki/{name}"));
        fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    /// A gateway's file tree in a temporary directory, as `--root` names it.
    pub(super) struct Tree {
        _directory: tempfile::TempDir,
        pub(super) root: SystemRoot,
    }

    impl Tree {
        pub(super) fn new() -> Tree {
            let directory = tempfile::tempdir().expect("temporary directory");
            let root = SystemRoot::new(directory.path());
            Tree {
                _directory: directory,
                root,
            }
        }

        /// Writes the system path `path` with `mode` (its directories 755); its real path.
        pub(super) fn write(&self, path: &str, contents: &[u8], mode: u32) -> PathBuf {
            let real = self.root.path(path);
            let root = self.root.root();
            for directory in real
                .ancestors()
                .skip(1)
                .take_while(|directory| *directory != root)
            {
                fs::create_dir_all(directory).expect("directories");
                fs::set_permissions(directory, fs::Permissions::from_mode(0o755)).expect("chmod");
            }
            fs::write(&real, contents).expect("write");
            self.chmod(path, mode);
            real
        }

        /// Sets the mode of the system path `path`, a file or a directory.
        pub(super) fn chmod(&self, path: &str, mode: u32) {
            fs::set_permissions(self.root.path(path), fs::Permissions::from_mode(mode))
                .expect("chmod");
        }

        /// The uid that owns what the tests write.
        pub(super) fn owner(&self) -> u32 {
            fs::metadata(self.root.root()).expect("root").uid()
        }

        /// Writes `<root>/etc/passwd` and `<root>/etc/group` with IoT Edge's service users as
        /// `uid`, and returns them as read.
        pub(super) fn accounts(&self, uid: u32) -> Accounts {
            let passwd = format!(
                "root:x:0:0:root:/root:/bin/bash\n\
                 aziotcs:x:{uid}:{uid}::/home/aziotcs:/sbin/nologin\n\
                 aziotks:x:{uid}:{uid}::/home/aziotks:/sbin/nologin\n\
                 iotedge:x:{uid}:{uid}::/var/lib/iotedge:/sbin/nologin\n"
            );
            let group = format!("root:x:0:\naziot:x:{uid}:\n");
            self.write("/etc/passwd", passwd.as_bytes(), 0o644);
            self.write("/etc/group", group.as_bytes(), 0o644);
            Accounts::parse(&passwd, &group)
        }
    }

    async fn run(tree: &Tree, config: EdgeConfig) -> Outcome {
        let context = Context {
            root: tree.root.clone(),
            ..Context::default()
        };
        let prior = Prior::from_outcomes([(
            "config-well-formed",
            Outcome::ok("read").evidence(Evidence::EdgeConfig(Arc::new(config))),
        )]);
        Check::run(&CertificatesConfiguredCheck, &context, &prior).await
    }

    /// Asserts the outcome's status and that its message says `says`.
    fn assert_says(outcome: &Outcome, status: Status, says: &str) {
        assert_eq!(outcome.status, status, "{}", outcome.message);
        assert!(outcome.message.contains(says), "{}", outcome.message);
    }

    fn loaded(outcome: &Outcome) -> &ConfiguredCertificates {
        match &outcome.evidence {
            Evidence::ConfiguredCertificates(certificates) => certificates,
            other => panic!("no certificates handed on: {other:?}"),
        }
    }

    /// The top layer's device CA, key and root, owned as the gateway guide sets them.
    fn healthy(tree: &Tree) -> EdgeConfig {
        tree.accounts(tree.owner());
        tree.write(
            "/var/aziot/certs/ca.pem",
            &fixture("top-device-ca-full-chain.pem"),
            0o644,
        );
        tree.write(
            "/var/aziot/secrets/ca.key.pem",
            &fixture("top-device-ca.key.pem"),
            0o600,
        );
        tree.write("/var/aziot/certs/root.pem", &fixture("root-ca.pem"), 0o644);
        let mut config = config(&tree.root, ConfigFormat::V2Toml);
        config.edge_ca = EdgeCa::Files {
            cert: ConfiguredFile::new("[edge_ca] cert", "file:///var/aziot/certs/ca.pem"),
            key: ConfiguredFile::new("[edge_ca] pk", "file:///var/aziot/secrets/ca.key.pem"),
        };
        config.trust_bundle = Some(ConfiguredFile::new(
            "trust_bundle_cert",
            "file:///var/aziot/certs/root.pem",
        ));
        config
    }

    #[tokio::test]
    async fn without_a_config_it_is_skipped() {
        let outcome = Check::run(
            &CertificatesConfiguredCheck,
            &Context::default(),
            &Prior::default(),
        )
        .await;
        assert_eq!(outcome.status, Status::Skipped);
        assert_eq!(outcome.message, "skipped because the config was not read");
    }

    #[tokio::test]
    async fn healthy_files_are_summed_up_and_handed_on() {
        let tree = Tree::new();
        let outcome = run(&tree, healthy(&tree)).await;
        assert_eq!(outcome.status, Status::Ok, "{}", outcome.message);
        let chain = load_certificates(&tree.root.path("/var/aziot/certs/ca.pem")).unwrap();
        assert_eq!(
            outcome.message,
            format!(
                "device CA {} ({} certificate(s)) with key {}; trusted root {}: present, valid PEM, readable by IoT Edge",
                tree.root.path("/var/aziot/certs/ca.pem").display(),
                chain.len(),
                tree.root.path("/var/aziot/secrets/ca.key.pem").display(),
                tree.root.path("/var/aziot/certs/root.pem").display(),
            )
        );
        assert_eq!(outcome.remedy, None);
        let info = serde_json::to_value(&outcome.info).expect("info serializes");
        assert_eq!(info["version"], "1.2+");
        assert_eq!(info["quickstart"], false);
        let readers: Vec<_> = info["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|file| (file["setting"].clone(), file["reader"].clone()))
            .collect();
        assert_eq!(
            readers,
            [
                ("[edge_ca] cert".into(), "aziotcs".into()),
                ("[edge_ca] pk".into(), "aziotks".into()),
                ("trust_bundle_cert".into(), "aziotcs".into()),
            ]
        );
        let certificates = loaded(&outcome);
        let device_ca = certificates.device_ca.as_ref().expect("device CA");
        assert_eq!(device_ca.chain, chain);
        assert!(device_ca.key.is_some());
        assert_eq!(
            certificates
                .trust_bundle
                .as_ref()
                .map(|trust| trust.certificates.len()),
            Some(1)
        );
        assert!(!certificates.quickstart);
    }

    #[tokio::test]
    async fn a_device_ca_without_its_key_is_still_handed_on() {
        let tree = Tree::new();
        let config = healthy(&tree);
        fs::remove_file(tree.root.path("/var/aziot/secrets/ca.key.pem")).unwrap();
        let outcome = run(&tree, config).await;
        assert_says(&outcome, Status::Error, "[edge_ca] pk: key file ");
        let device_ca = loaded(&outcome).device_ca.as_ref().expect("device CA");
        assert_eq!(
            (device_ca.key_path.as_ref(), device_ca.key.as_ref()),
            (None, None)
        );
    }

    #[tokio::test]
    async fn quickstart_certificates_are_a_warning_for_testing_only() {
        let tree = Tree::new();
        let mut config = config(&tree.root, ConfigFormat::V2Toml);
        config.edge_ca = EdgeCa::Quickstart {
            lifetime_days: Some(90),
        };
        let outcome = run(&tree, config).await;
        assert_says(
            &outcome,
            Status::Warning,
            "no device CA is configured: IoT Edge generates a quickstart CA valid 90 days, for testing only",
        );
        // No trust bundle is expected with quickstart certificates.
        assert!(
            !outcome.message.contains("trust_bundle_cert"),
            "{}",
            outcome.message
        );
        assert!(loaded(&outcome).quickstart);
        let info = serde_json::to_value(&outcome.info).expect("info serializes");
        assert_eq!(info["quickstart"], true);
    }

    #[tokio::test]
    async fn half_a_device_ca_is_an_error_naming_the_other_half() {
        let tree = Tree::new();
        for (cert, key, set, missing) in [
            (
                Some("file:///c.pem"),
                None,
                "[edge_ca] cert",
                "[edge_ca] pk",
            ),
            (
                None,
                Some("file:///k.pem"),
                "[edge_ca] pk",
                "[edge_ca] cert",
            ),
        ] {
            let mut config = config(&tree.root, ConfigFormat::V2Toml);
            config.edge_ca = EdgeCa::Incomplete {
                cert: cert.map(|value| ConfiguredFile::new("[edge_ca] cert", value)),
                key: key.map(|value| ConfiguredFile::new("[edge_ca] pk", value)),
            };
            let outcome = run(&tree, config).await;
            assert_says(
                &outcome,
                Status::Error,
                &format!("{set} is set but {missing} is not"),
            );
            let remedy = outcome.remedy.unwrap_or_default();
            assert!(
                remedy.starts_with(&format!(
                    "set {missing} in {}",
                    tree.root.path(V2_CONFIG_PATH).display()
                )),
                "{remedy}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_trust_bundle_is_an_error_only_below_a_parent() {
        let tree = Tree::new();
        let mut config = config(&tree.root, ConfigFormat::V2Toml);
        config.edge_ca = EdgeCa::Issued {
            method: "est".to_owned(),
        };
        let top = run(&tree, config.clone()).await;
        assert_says(
            &top,
            Status::Warning,
            "trust_bundle_cert is not set: IoT Edge's trust bundle",
        );
        assert!(
            top.details
                .iter()
                .any(|note| note.contains("method = \"est\"")),
            "{:?}",
            top.details
        );
        config.names.parent_hostname = Some("parent.contoso.com".to_owned());
        let lower = run(&tree, config).await;
        assert_says(
            &lower,
            Status::Error,
            "this lower-layer device cannot verify its parent's certificate",
        );
    }

    #[tokio::test]
    async fn every_finding_is_in_the_message_and_each_remedy_once() {
        let tree = Tree::new();
        let mut config = healthy(&tree);
        tree.accounts(STRANGER);
        // The device CA file is also the trust bundle: one fix for two findings.
        tree.chmod("/var/aziot/certs/ca.pem", 0o600);
        config.trust_bundle = Some(ConfiguredFile::new(
            "trust_bundle_cert",
            "file:///var/aziot/certs/ca.pem",
        ));
        let outcome = run(&tree, config).await;
        assert_says(&outcome, Status::Error, "aziotcs cannot read");
        // The same cause through two settings is said once (issue 15 item 11).
        let denied = outcome.message.split("; ").collect::<Vec<_>>();
        assert_eq!(denied.len(), 2, "{}", outcome.message);
        let readers = denied.iter().map(|finding| finding.split(' ').next());
        assert_eq!(
            readers.collect::<Vec<_>>(),
            [Some("aziotcs"), Some("aziotks")]
        );
        let remedies = outcome.remedy.unwrap_or_default();
        let remedies = remedies.split(". Also: ").collect::<Vec<_>>();
        assert_eq!(remedies.len(), 2, "{remedies:?}");
        assert!(remedies[0].contains("sudo chmod 644"), "{}", remedies[0]);
        assert!(remedies[1].contains("sudo chmod 600"), "{}", remedies[1]);
    }
}
