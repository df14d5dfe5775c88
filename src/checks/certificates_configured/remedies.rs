//! The fixes the findings suggest: where to copy a missing file, what a file setting must name,
//! and the ownership and modes the transparent gateway guide gives certificates and keys.

use std::path::Path;

use crate::config::{ConfiguredFile, EdgeConfig};
use crate::pki::load::{CertificateFileError, KeyFileError};
use crate::system::AccessDenied;

use super::Kind;

/// A file that did not load, for [`load_remedy`].
pub(super) enum Unloaded<'a> {
    Certificate(&'a CertificateFileError),
    Key(&'a KeyFileError),
}

impl<'a> From<&'a CertificateFileError> for Unloaded<'a> {
    fn from(error: &'a CertificateFileError) -> Self {
        Unloaded::Certificate(error)
    }
}

impl<'a> From<&'a KeyFileError> for Unloaded<'a> {
    fn from(error: &'a KeyFileError) -> Self {
        Unloaded::Key(error)
    }
}

/// The fix for a file that did not load: copy it where the setting says, let edgeprobe read it,
/// or put the right contents in it.
pub(super) fn load_remedy(
    error: Unloaded<'_>,
    file: &ConfiguredFile,
    config: &EdgeConfig,
) -> String {
    let apply = config.format.apply_command();
    let copy_or_correct = |what: &str, path: &Path| {
        format!(
            "copy {what} to {} or correct {} in {}, then `{apply}`",
            path.display(),
            file.setting,
            config.source.display()
        )
    };
    match error {
        Unloaded::Certificate(CertificateFileError::NotFound { path }) => {
            copy_or_correct("the certificate", path)
        }
        Unloaded::Key(KeyFileError::NotFound { path }) => {
            copy_or_correct("the device CA's private key", path)
        }
        Unloaded::Certificate(CertificateFileError::PermissionDenied { .. }) => {
            "run `sudo edgeprobe check` so the file can be read".to_owned()
        }
        Unloaded::Key(KeyFileError::PermissionDenied { .. }) => {
            "run `sudo edgeprobe check` so the key can be read".to_owned()
        }
        Unloaded::Certificate(_) => format!(
            "{} must name a PEM certificate file (the full-chain file for the device CA): copy it again from where the certificates were made, then `{apply}`",
            file.setting
        ),
        Unloaded::Key(_) => format!(
            "{} must name the device CA's unencrypted PEM private key (iot-edge-device-ca-<name>.key.pem): copy it again, then `{apply}`",
            file.setting
        ),
    }
}

/// The guide's ownership for the file, or for the directory in the way.
pub(super) fn access_remedy(
    denied: &AccessDenied,
    reader: &str,
    kind: Kind,
    restart: &str,
) -> String {
    let (mode, directory_mode, home) = match kind {
        Kind::Certificate => ("644", "755", "/var/aziot/certs"),
        Kind::Key => ("600", "700", "/var/aziot/secrets"),
    };
    match denied {
        AccessDenied::File { file, .. } => format!(
            "`sudo chown {reader}:{reader} {file} && sudo chmod {mode} {file}` (the transparent gateway guide's ownership), then `{restart}`",
            file = file.display()
        ),
        AccessDenied::Directory { directory, .. }
            if directory.ends_with("aziot/certs") || directory.ends_with("aziot/secrets") =>
        {
            format!(
                "`sudo chown {reader}:{reader} {directory} && sudo chmod {directory_mode} {directory}`, then `{restart}`",
                directory = directory.display()
            )
        }
        AccessDenied::Directory { directory, .. } => format!(
            "{reader} cannot pass through {}: move the file to {home} as the guides do (owned by {reader}), update the config, and apply it",
            directory.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::checks::certificates_configured::tests::config;
    use crate::config::ConfigFormat;
    use crate::pki::load::{CertificateContentError, KeyContentError};
    use crate::system::{Ownership, SystemRoot};

    fn setting(name: &'static str) -> ConfiguredFile {
        ConfiguredFile::new(name, "file:///var/aziot/certs/ca.pem")
    }

    fn ownership(mode: u32) -> Ownership {
        Ownership {
            mode,
            owner: "root".to_owned(),
            group: "root".to_owned(),
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn load_remedies_follow_the_error_and_the_kind_of_file() {
        let root = SystemRoot::new("/gw");
        let (v1, v2) = (
            config(&root, ConfigFormat::V1Yaml),
            config(&root, ConfigFormat::V2Toml),
        );
        let cert = setting("certificates.device_ca_cert");
        let key = setting("[edge_ca] pk");
        let cert_path = PathBuf::from("/gw/var/aziot/certs/ca.pem");
        let key_path = PathBuf::from("/gw/var/aziot/secrets/ca.key.pem");
        let cases = [
            (
                load_remedy(
                    Unloaded::Certificate(&CertificateFileError::NotFound {
                        path: cert_path.clone(),
                    }),
                    &cert,
                    &v1,
                ),
                "copy the certificate to /gw/var/aziot/certs/ca.pem or correct certificates.device_ca_cert in /gw/etc/iotedge/config.yaml, then `sudo systemctl restart iotedge`",
            ),
            (
                load_remedy(
                    Unloaded::Certificate(&CertificateFileError::PermissionDenied {
                        path: cert_path.clone(),
                    }),
                    &cert,
                    &v1,
                ),
                "run `sudo edgeprobe check` so the file can be read",
            ),
            (
                load_remedy(
                    Unloaded::Certificate(&CertificateFileError::Content(
                        CertificateContentError::PrivateKeyInsteadOfCertificate { path: cert_path },
                    )),
                    &cert,
                    &v1,
                ),
                "certificates.device_ca_cert must name a PEM certificate file (the full-chain file for the device CA): copy it again from where the certificates were made, then `sudo systemctl restart iotedge`",
            ),
            (
                load_remedy(
                    Unloaded::Key(&KeyFileError::NotFound {
                        path: key_path.clone(),
                    }),
                    &key,
                    &v2,
                ),
                "copy the device CA's private key to /gw/var/aziot/secrets/ca.key.pem or correct [edge_ca] pk in /gw/etc/aziot/config.toml, then `sudo iotedge config apply`",
            ),
            (
                load_remedy(
                    Unloaded::Key(&KeyFileError::PermissionDenied {
                        path: key_path.clone(),
                    }),
                    &key,
                    &v2,
                ),
                "run `sudo edgeprobe check` so the key can be read",
            ),
            (
                load_remedy(
                    Unloaded::Key(&KeyFileError::Content(KeyContentError::EncryptedKey {
                        path: key_path,
                    })),
                    &key,
                    &v2,
                ),
                "[edge_ca] pk must name the device CA's unencrypted PEM private key (iot-edge-device-ca-<name>.key.pem): copy it again, then `sudo iotedge config apply`",
            ),
        ];
        for (remedy, expected) in cases {
            assert_eq!(remedy, expected);
        }
    }

    #[test]
    fn access_remedies_give_the_guides_modes() {
        let restart = "sudo iotedge system restart";
        let file = |path: &str| AccessDenied::File {
            user: "aziotcs".to_owned(),
            file: PathBuf::from(path),
            ownership: ownership(0o600),
        };
        let directory = |path: &str| AccessDenied::Directory {
            user: "aziotks".to_owned(),
            directory: PathBuf::from(path),
            ownership: ownership(0o700),
        };
        assert_eq!(
            access_remedy(
                &file("/gw/var/aziot/certs/ca.pem"),
                "aziotcs",
                Kind::Certificate,
                restart
            ),
            "`sudo chown aziotcs:aziotcs /gw/var/aziot/certs/ca.pem && sudo chmod 644 /gw/var/aziot/certs/ca.pem` (the transparent gateway guide's ownership), then `sudo iotedge system restart`"
        );
        assert!(
            access_remedy(&file("/k.pem"), "aziotks", Kind::Key, restart)
                .starts_with("`sudo chown aziotks:aziotks /k.pem && sudo chmod 600 /k.pem`")
        );
        assert_eq!(
            access_remedy(
                &directory("/gw/var/aziot/secrets"),
                "aziotks",
                Kind::Key,
                restart
            ),
            "`sudo chown aziotks:aziotks /gw/var/aziot/secrets && sudo chmod 700 /gw/var/aziot/secrets`, then `sudo iotedge system restart`"
        );
        assert!(
            access_remedy(
                &directory("/gw/var/aziot/certs"),
                "aziotcs",
                Kind::Certificate,
                restart
            )
            .contains("sudo chmod 755 /gw/var/aziot/certs`")
        );
        // Any other directory: the guides' place for the file, not a chmod of someone's home.
        assert_eq!(
            access_remedy(&directory("/home/pi"), "aziotks", Kind::Key, restart),
            "aziotks cannot pass through /home/pi: move the file to /var/aziot/secrets as the guides do (owned by aziotks), update the config, and apply it"
        );
    }
}
