//! `config-well-formed`: the IoT Edge config (1.1 config.yaml or 1.2+ config.toml) can be read
//! and parsed, as `iotedge check`'s check of the same name does.

use std::sync::Arc;

use super::catalog;
use crate::config::{self, ConfigError, EdgeCa, EdgeConfig, Provisioning};
use crate::engine::info::{
    ConfigSummary, ConfigWellFormedInfo, EdgeCaKind, ProvisioningKind, UnreadableConfig,
};
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Evidence, OrSkip, Outcome, Prior, Ran, Status,
};

pub struct ConfigWellFormedCheck;

impl DeclaredCheck for ConfigWellFormedCheck {
    const META: CheckMeta = catalog::CONFIG_WELL_FORMED;
    async fn run(&self, context: &Context, _prior: &Prior) -> Ran {
        let located = context
            .gateway_mode
            .config
            .as_ref()
            .or_skip("no IoT Edge config to check")?;
        let parsed = match config::load(&located.path) {
            Ok(parsed) => parsed,
            Err(error) => {
                return Ok(Outcome::error(error.to_string())
                    .remedy(remedy(&error))
                    .info(ConfigWellFormedInfo::Unreadable(UnreadableConfig {
                        path: located.path.clone(),
                    })));
            }
        };
        let mut outcome = Outcome::ok(format!(
            "{} is a well-formed {}",
            parsed.source.display(),
            parsed.format.title()
        ))
        .details(summary(&parsed));
        if let Some(other) = &located.also_present {
            outcome = outcome.detail(format!(
                "{} (IoT Edge 1.1) is also present and is ignored by IoT Edge 1.2+; remove it once `sudo iotedge config import` has carried it over",
                other.display()
            ));
        }
        if !parsed.misplaced_keys.is_empty() {
            // TOML puts a key written after `[section]` inside that section: aziot then
            // never sees it, with no error ("Configure IoT Edge device settings" asks for
            // these keys at the beginning of the file, before any section).
            outcome.raise(
                Status::Warning,
                format!(
                    "{}: {} inside a section, where IoT Edge does not read it",
                    parsed.source.display(),
                    parsed.misplaced_keys.join(", ")
                ),
                format!(
                    "move {} to the top of {}, before the first [section], then `{}`",
                    parsed
                        .misplaced_keys
                        .iter()
                        .map(|key| format!("`{}`", key.split(' ').next().unwrap_or(key)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    parsed.source.display(),
                    parsed.format.apply_command()
                ),
            );
        }
        let info = ConfigSummary {
            path: parsed.source.clone(),
            version: parsed.format,
            names: parsed.names.clone(),
            provisioning: provisioning_kind(&parsed.provisioning),
            edge_ca: edge_ca_kind(&parsed.edge_ca),
            misplaced_keys: parsed.misplaced_keys.clone(),
        };
        Ok(outcome
            .info(ConfigWellFormedInfo::Read(info))
            .evidence(Evidence::EdgeConfig(Arc::new(parsed))))
    }
}

fn remedy(error: &ConfigError) -> String {
    match error {
        ConfigError::PermissionDenied { .. } => {
            "run `sudo edgeprobe check`: the IoT Edge config is readable by root only".to_owned()
        }
        ConfigError::Syntax {
            path,
            format,
            line,
            column,
            ..
        } => format!(
            "fix line {line}, column {column} of {} ({}); `{}` rejects the file with the same error until it is fixed",
            path.display(),
            match format {
                config::ConfigFormat::V1Yaml =>
                    "YAML: indent with spaces, never tabs, and quote values that contain `:` or `#`",
                config::ConfigFormat::V2Toml =>
                    "TOML: strings in double quotes, `key = value`, sections in [brackets]",
            },
            format.apply_command()
        ),
        ConfigError::UnknownFormat { .. } => {
            "pass the IoT Edge config with --config: /etc/aziot/config.toml (1.2+) or /etc/iotedge/config.yaml (1.1)".to_owned()
        }
        ConfigError::Empty { .. } => {
            "restore the config from the template (`sudo cp /etc/aziot/config.toml.edge.template /etc/aziot/config.toml`), fill in hostname, [provisioning] and [edge_ca], then `sudo iotedge config apply`".to_owned()
        }
        _ => "check the path passed with --config, or install and provision IoT Edge".to_owned(),
    }
}

/// One line per setting that matters for a gateway, for `--verbose`.
fn summary(parsed: &EdgeConfig) -> Vec<String> {
    let mut lines = vec![format!(
        "hostname: {}",
        parsed.names.hostname.as_deref().unwrap_or("(not set)")
    )];
    if let Some(parent) = &parsed.names.parent_hostname {
        lines.push(format!("parent_hostname: {parent} (lower-layer device)"));
    }
    lines.push(format!(
        "provisioning: {}",
        provisioning_kind(&parsed.provisioning).text()
    ));
    lines.push(match &parsed.edge_ca {
        EdgeCa::Files { cert, key } => format!(
            "device CA: {} = {}, {} = {}",
            cert.setting, cert.value, key.setting, key.value
        ),
        other => format!("device CA: {}", edge_ca_kind(other).text()),
    });
    lines.push(match &parsed.trust_bundle {
        Some(file) => format!("{}: {}", file.setting, file.value),
        None => format!("{}: (not set)", parsed.format.trust_bundle_setting()),
    });
    lines
}

fn provisioning_kind(provisioning: &Provisioning) -> ProvisioningKind {
    match provisioning {
        Provisioning::ConnectionString(_) => ProvisioningKind::ConnectionString,
        Provisioning::Manual { .. } => ProvisioningKind::Manual,
        Provisioning::Dps { .. } => ProvisioningKind::Dps,
        Provisioning::Other { .. } => ProvisioningKind::Other,
        Provisioning::Missing => ProvisioningKind::Missing,
    }
}

fn edge_ca_kind(edge_ca: &EdgeCa) -> EdgeCaKind {
    match edge_ca {
        EdgeCa::Files { .. } => EdgeCaKind::Files,
        EdgeCa::Incomplete { .. } => EdgeCaKind::Incomplete,
        EdgeCa::Quickstart { .. } => EdgeCaKind::Quickstart,
        EdgeCa::Issued { .. } => EdgeCaKind::Issued,
    }
}
