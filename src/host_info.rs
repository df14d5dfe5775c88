//! The report's top-level `additional_info`, as `iotedge check -o json` has it
//! (`edgelet/iotedge/src/check/additional_info.rs`): when the run happened and on which
//! operating system (`/etc/os-release`'s `ID` and `VERSION_ID`, os-release(5)), plus what
//! edgeprobe knows besides: its own version and, on a gateway, the IoT Edge version its config
//! names. Gathered by the command, once per run; the JSON printer only writes it.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;
use time::OffsetDateTime;

use crate::config::image_reference::parse_image_reference;
use crate::engine::{Evidence, RunReport, Timestamp};
use crate::system::SystemRoot;

/// The top-level `additional_info` of `check --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct HostInfo {
    /// When the checks ran: the clock every certificate was judged by (iotedge's `now`).
    pub now: Timestamp,
    pub os: OsInfo,
    /// The edgeprobe release that wrote the report (also `tool.version`).
    pub edgeprobe_version: &'static str,
    /// Gateway mode: the IoT Edge version the config names, the tag of its edgeAgent image
    /// (`1.5` for `mcr.microsoft.com/azureiotedge-agent:1.5`). Absent on a leaf, and when the
    /// config names no image or one whose tag is not a version (`latest`, a digest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iot_edge_version: Option<String>,
}

/// The operating system edgeprobe ran on (under `--root`, the tree's): iotedge's `os`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct OsInfo {
    /// os-release's `ID` (`debian`, `ubuntu`, `raspbian`); null when there is no os-release.
    pub id: Option<String>,
    /// os-release's `VERSION_ID` (`12`, `22.04`); null when the file has none (Debian testing).
    pub version_id: Option<String>,
    /// The CPU architecture edgeprobe was built for (Rust's `std::env::consts::ARCH`:
    /// `x86_64`, `aarch64`, `arm`).
    pub arch: &'static str,
}

/// Where os-release(5) says the file is: `/etc/os-release`, else `/usr/lib/os-release`.
const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

impl HostInfo {
    /// What the run at `now` under `root` produced: the OS from `root`, the IoT Edge version
    /// from the config `config-well-formed` parsed (when it ran).
    pub fn collect(now: OffsetDateTime, root: &SystemRoot, report: &RunReport) -> HostInfo {
        let config = report
            .checks
            .iter()
            .find_map(|check| match &check.outcome.evidence {
                Evidence::EdgeConfig(config) => Some(config),
                _ => None,
            });
        HostInfo {
            now: Timestamp(now),
            os: OsInfo::read(root),
            edgeprobe_version: env!("CARGO_PKG_VERSION"),
            iot_edge_version: config
                .and_then(|config| config.agent.image.as_deref())
                .and_then(iot_edge_version),
        }
    }
}

impl OsInfo {
    /// The first os-release file found under `root`; an unreadable one gives nulls, which
    /// say "not known" (as iotedge's do), never a guess.
    pub fn read(root: &SystemRoot) -> OsInfo {
        let release = OsRelease::read(root);
        OsInfo {
            id: release.id,
            version_id: release.version_id,
            arch: std::env::consts::ARCH,
        }
    }
}

/// The os-release(5) fields edgeprobe reads: this report's `os`, and the trust-store family
/// (`os_trust_location::StoreFamily::detect`). `None` for a field the file does not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: Option<String>,
    /// `ID_LIKE`: space-separated ids of the distributions this one derives from.
    pub id_like: Option<String>,
    pub version_id: Option<String>,
}

impl OsRelease {
    /// The first os-release file found under `root`; none readable gives no fields.
    pub fn read(root: &SystemRoot) -> OsRelease {
        let text = OS_RELEASE
            .iter()
            .find_map(|path| std::fs::read_to_string(root.path(Path::new(path))).ok());
        OsRelease::parse(text.as_deref().unwrap_or_default())
    }

    /// The fields of os-release text; a key set twice keeps its last value, as a shell would.
    pub fn parse(text: &str) -> OsRelease {
        let mut release = OsRelease::default();
        for line in text.lines() {
            match parse_os_release_line(line) {
                Some(("ID", value)) => release.id = Some(value),
                Some(("ID_LIKE", value)) => release.id_like = Some(value),
                Some(("VERSION_ID", value)) => release.version_id = Some(value),
                _ => {}
            }
        }
        release
    }
}

/// `KEY=value` of os-release(5): the value is a shell string, quoted with `"` or `'` or not,
/// with `\` escaping `"`, `\`, `$` and `` ` `` inside double quotes. Comments and blank lines
/// give `None`.
fn parse_os_release_line(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    let value = if let Some(inner) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        let mut unescaped = String::with_capacity(inner.len());
        let mut characters = inner.chars();
        while let Some(character) = characters.next() {
            match character {
                '\\' => unescaped.extend(characters.next()),
                other => unescaped.push(other),
            }
        }
        unescaped
    } else if let Some(inner) = value
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
    {
        inner.to_owned()
    } else {
        value.to_owned()
    };
    Some((key.trim(), value))
}

/// The version in the tag of the config's edgeAgent image: `1.5`, `1.4.10` (of
/// `1.4.10-linux-amd64`); `None` for another image, `latest` or a digest.
fn iot_edge_version(agent_image: &str) -> Option<String> {
    let image = parse_image_reference(agent_image).ok()?;
    if !image.repository.ends_with("azureiotedge-agent") {
        return None;
    }
    let version: &str = image
        .reference
        .split(|character: char| !(character.is_ascii_digit() || character == '.'))
        .next()?
        .trim_end_matches('.');
    let is_version = version.split('.').count() >= 2
        && version
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
    is_version.then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_are_unquoted_and_unescaped() {
        assert_eq!(
            parse_os_release_line("ID=debian"),
            Some(("ID", "debian".to_owned()))
        );
        assert_eq!(
            parse_os_release_line(r#"VERSION_ID="22.04""#),
            Some(("VERSION_ID", "22.04".to_owned()))
        );
        assert_eq!(
            parse_os_release_line(r#"PRETTY_NAME="say \"hi\" \$x""#),
            Some(("PRETTY_NAME", r#"say "hi" $x"#.to_owned()))
        );
        assert_eq!(
            parse_os_release_line("ID='opensuse-tumbleweed'"),
            Some(("ID", "opensuse-tumbleweed".to_owned()))
        );
        assert_eq!(parse_os_release_line("# ID=commented"), None);
        assert_eq!(parse_os_release_line(""), None);
    }

    #[test]
    fn os_is_read_under_the_root_with_the_fallback_path() {
        let root = tempfile::tempdir().expect("tempdir");
        let system = SystemRoot::new(root.path());
        let unknown = OsInfo::read(&system);
        assert_eq!((unknown.id, unknown.version_id), (None, None));
        assert_eq!(unknown.arch, std::env::consts::ARCH);

        std::fs::create_dir_all(root.path().join("usr/lib")).expect("dir");
        std::fs::write(
            root.path().join("usr/lib/os-release"),
            "NAME=\"Raspbian GNU/Linux\"\nVERSION_ID=\"11\"\nID=raspbian\n",
        )
        .expect("written");
        let found = OsInfo::read(&system);
        assert_eq!(found.id.as_deref(), Some("raspbian"));
        assert_eq!(found.version_id.as_deref(), Some("11"));
    }

    #[test]
    fn the_iot_edge_version_is_the_agent_images_version_tag() {
        for (image, version) in [
            ("mcr.microsoft.com/azureiotedge-agent:1.5", Some("1.5")),
            (
                "$upstream:443/azureiotedge-agent:1.4.10-linux-arm32v7",
                Some("1.4.10"),
            ),
            ("mcr.microsoft.com/azureiotedge-agent:latest", None),
            ("mcr.microsoft.com/azureiotedge-agent", None),
            ("myacr.azurecr.io/custom-agent:1.5", None),
            ("mcr.microsoft.com/azureiotedge-agent:1", None),
        ] {
            assert_eq!(iot_edge_version(image).as_deref(), version, "{image}");
        }
    }
}
