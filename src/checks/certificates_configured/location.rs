//! Where a file setting points once `--root` is applied: a local file to read, a key kept in an
//! HSM (not a file, and rightly so), or a value IoT Edge cannot use. The value itself (a plain
//! path or a `file://` URI) was parsed with the config, by [`crate::config::parse_file_uri`].

use std::path::PathBuf;

use crate::config::{ConfigFormat, ConfiguredFile, EdgeConfig, FileLocation};
use crate::engine::Status;
use crate::system::SystemRoot;

use super::{Finding, Inspector, Kind};

/// What [`locate`] made of a file setting.
enum Located {
    /// A local file: its real path under the root.
    File(PathBuf),
    /// Not a file, as IoT Edge allows for this setting: a note says why it is not checked.
    NotChecked { note: String },
    /// Not a file IoT Edge can use.
    Unusable(Finding),
}

/// Where `file` points under `root`, for a setting holding a `kind` of file.
fn locate(file: &ConfiguredFile, kind: Kind, root: &SystemRoot, config: &EdgeConfig) -> Located {
    let source = config.source.display();
    match &file.location {
        FileLocation::Path(path) => Located::File(root.path(path)),
        FileLocation::NotAFile { scheme } if kind == Kind::Key && scheme == "pkcs11" => {
            Located::NotChecked {
                note: format!(
                    "{} is a PKCS#11 URI: the key lives in an HSM and is not checked here",
                    file.setting
                ),
            }
        }
        FileLocation::NotAFile { scheme } => Located::Unusable(Finding {
            status: Status::Error,
            message: format!(
                "{} = `{}` is a `{scheme}:` URI, not a file",
                file.setting, file.value
            ),
            remedy: Some(format!(
                "set {} in {source} to file:///<absolute path>",
                file.setting
            )),
        }),
        FileLocation::Invalid { reason } => Located::Unusable(Finding {
            status: Status::Error,
            message: format!("{}: {reason}", file.setting),
            remedy: Some(format!(
                "set {} in {source} to file:///<absolute path> (three slashes), then `{}`",
                file.setting,
                config.format.apply_command()
            )),
        }),
    }
}

/// IoT Edge 1.2+ types its file settings as URLs (`trust_bundle_cert`, `[edge_ca] cert` and
/// `pk` are `Url` in aziotctl's super-config), so `iotedge config apply` rejects a plain path
/// that 1.1's config.yaml accepted: an error with the exact value to write.
fn plain_path_in_url_setting(file: &ConfiguredFile, config: &EdgeConfig) -> Option<Finding> {
    let value = file.value.trim();
    if config.format != ConfigFormat::V2Toml || !value.starts_with('/') {
        return None;
    }
    Some(Finding {
        status: Status::Error,
        message: format!(
            "{} = \"{value}\" is a plain path, but IoT Edge 1.2+ reads this setting as a URL: `iotedge config apply` rejects it",
            file.setting
        ),
        remedy: Some(format!(
            "write {} = \"file://{value}\" in {} (a file:// URI, three slashes before the absolute path), then `{}`",
            file.setting,
            config.source.display(),
            config.format.apply_command()
        )),
    })
}

impl Inspector<'_> {
    /// The real path of a file setting, or a finding (or note) when it is not a local file.
    pub(super) fn resolve(&mut self, file: &ConfiguredFile, kind: Kind) -> Option<PathBuf> {
        match locate(file, kind, self.root, self.config) {
            Located::File(path) => {
                if let Some(finding) = plain_path_in_url_setting(file, self.config) {
                    // Still read the file: what it holds is worth judging once the value is fixed.
                    self.findings.push(finding);
                }
                Some(path)
            }
            Located::NotChecked { note } => {
                self.not_checked(note);
                None
            }
            Located::Unusable(finding) => {
                self.findings.push(finding);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::checks::certificates_configured::tests::config;
    use crate::config::ConfigFormat;

    fn located(value: &str, kind: Kind, format: ConfigFormat) -> Located {
        let root = SystemRoot::new("/gw");
        let file = ConfiguredFile::new("[edge_ca] cert", value);
        locate(&file, kind, &root, &config(&root, format))
    }

    fn path(located: Located) -> PathBuf {
        match located {
            Located::File(path) => path,
            Located::NotChecked { note } => panic!("not checked: {note}"),
            Located::Unusable(finding) => panic!("unusable: {}", finding.message),
        }
    }

    fn unusable(located: Located) -> Finding {
        match located {
            Located::Unusable(finding) => finding,
            Located::File(path) => panic!("a file: {}", path.display()),
            Located::NotChecked { note } => panic!("not checked: {note}"),
        }
    }

    #[test]
    fn paths_and_file_uris_are_looked_up_under_the_root_and_cannot_climb_out() {
        for (value, real) in [
            // A plain absolute path, as IoT Edge 1.0 and 1.1 also accepted.
            ("/var/aziot/certs/ca.pem", "/gw/var/aziot/certs/ca.pem"),
            (
                "file:///var/aziot/certs/ca.pem",
                "/gw/var/aziot/certs/ca.pem",
            ),
            (
                "file://localhost/var/aziot/certs/ca.pem",
                "/gw/var/aziot/certs/ca.pem",
            ),
            (
                "FILE:///var/aziot/certs/c%61.pem",
                "/gw/var/aziot/certs/ca.pem",
            ),
            // The URI's dot segments are removed as IoT Edge's URL parser removes them
            // (RFC 3986 section 5.2.4), and what is left stays under the root.
            ("file:///var/aziot/../../etc/shadow", "/gw/etc/shadow"),
            // A plain path's are dropped by the root itself.
            ("/var/aziot/../../etc/shadow", "/gw/var/aziot/etc/shadow"),
        ] {
            for kind in [Kind::Certificate, Kind::Key] {
                for format in [ConfigFormat::V1Yaml, ConfigFormat::V2Toml] {
                    assert_eq!(
                        path(located(value, kind, format)),
                        Path::new(real),
                        "{value}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_pkcs11_key_is_noted_not_checked() {
        match located(
            "pkcs11:slot-id=0;object=edge-ca?pin-value=1234",
            Kind::Key,
            ConfigFormat::V2Toml,
        ) {
            Located::NotChecked { note } => {
                assert!(note.contains("PKCS#11 URI"), "{note}");
                assert!(note.starts_with("[edge_ca] cert"), "{note}");
            }
            _ => panic!("a PKCS#11 key is not checked, and is no error"),
        }
    }

    #[test]
    fn a_certificate_in_an_hsm_or_behind_another_scheme_is_an_error() {
        for (value, scheme) in [
            ("pkcs11:slot-id=0;object=edge-ca", "pkcs11"),
            ("https://contoso.com/ca.pem", "https"),
        ] {
            let finding = unusable(located(value, Kind::Certificate, ConfigFormat::V2Toml));
            assert_eq!(finding.status, Status::Error);
            assert_eq!(
                finding.message,
                format!("[edge_ca] cert = `{value}` is a `{scheme}:` URI, not a file")
            );
            assert_eq!(
                finding.remedy.as_deref(),
                Some("set [edge_ca] cert in /gw/etc/aziot/config.toml to file:///<absolute path>")
            );
        }
        let finding = unusable(located(
            "https://contoso.com/ca.key",
            Kind::Key,
            ConfigFormat::V2Toml,
        ));
        assert!(
            finding.message.contains("`https:` URI"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn an_invalid_value_says_why_and_how_to_write_it() {
        for (value, reason) in [
            ("", "the value is empty"),
            ("certs/ca.pem", "is a relative path"),
            ("file://gw/var/aziot/certs/ca.pem", "names the host `gw`"),
            ("<path to the device CA>", "the template's placeholder"),
        ] {
            let finding = unusable(located(value, Kind::Certificate, ConfigFormat::V2Toml));
            assert_eq!(finding.status, Status::Error);
            assert!(
                finding.message.starts_with("[edge_ca] cert: "),
                "{}",
                finding.message
            );
            assert!(finding.message.contains(reason), "{}", finding.message);
            let remedy = finding.remedy.unwrap_or_default();
            assert!(
                remedy.contains("file:///<absolute path> (three slashes)")
                    && remedy.ends_with("then `sudo iotedge config apply`"),
                "{remedy}"
            );
        }
    }

    #[test]
    fn the_remedy_names_the_config_and_the_command_of_its_generation() {
        let finding = unusable(located("ca.pem", Kind::Key, ConfigFormat::V1Yaml));
        let remedy = finding.remedy.unwrap_or_default();
        assert!(remedy.contains("/gw/etc/iotedge/config.yaml"), "{remedy}");
        assert!(
            remedy.ends_with(&format!("`{}`", ConfigFormat::V1Yaml.apply_command())),
            "{remedy}"
        );
    }
}
