//! Probe modules, as blackbox_exporter's `blackbox.yml` names them: the command line's leaf
//! options are the module `leaf`; `--config FILE` (TOML) adds modules, each starting from those
//! options and changing what it sets.
//!
//! ```toml
//! [modules.mqtt-only]
//! ca_file = "/etc/edgeprobe/contoso-root.pem"
//! only = ["gateway-connect-mqtt", "gateway-protocol-mqtt", "gateway-cert-chain"]
//! timeout = "3s"
//! ports = { mqtt = 18883 }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{LeafSettings, Selection};
use crate::net::Protocol;

/// The module the command line defines, used when a probe names none.
pub const DEFAULT_MODULE: &str = "leaf";

/// How one module probes a gateway: the leaf settings `check` takes from the same options
/// (`leaf.timeout` is each network step's deadline, as `check --timeout`; a probe's whole
/// deadline comes from Prometheus's scrape timeout), and which checks run.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub leaf: LeafSettings,
    pub selection: Selection,
}

/// A module as written in the file: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleFile {
    ca_file: Option<PathBuf>,
    hosts_file: Option<PathBuf>,
    dns_server: Option<String>,
    resolve: Option<Vec<String>>,
    ports: Option<BTreeMap<String, u16>>,
    timeout: Option<String>,
    expiry_warning_days: Option<u32>,
    websocket: Option<bool>,
    only: Option<Vec<String>>,
    skip: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    modules: BTreeMap<String, ModuleFile>,
}

/// Why a config file was not taken; the message names the file and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{path}: {reason}")]
pub struct ConfigError {
    pub path: String,
    pub reason: String,
}

/// The modules in `text` (read from `path`), each built over `base`; relative paths in the
/// file are taken from the file's directory. `base` stays the module [`DEFAULT_MODULE`] unless
/// the file redefines it.
pub fn parse_modules(
    path: &Path,
    text: &str,
    base: &Module,
) -> Result<BTreeMap<String, Module>, ConfigError> {
    let error = |reason: String| ConfigError {
        path: path.display().to_string(),
        reason,
    };
    let file: ConfigFile = toml::from_str(text).map_err(|problem| {
        error(format!(
            "{} (modules are `[modules.NAME]` tables; see `edgeprobe exporter --help`)",
            problem.message()
        ))
    })?;
    let directory = path.parent().unwrap_or(Path::new(""));
    let mut modules = BTreeMap::new();
    modules.insert(DEFAULT_MODULE.to_owned(), base.clone());
    for (name, written) in file.modules {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(error(format!(
                "module name `{name}`: use letters, digits, `-`, `_` and `.`"
            )));
        }
        let module = build(base, written, directory)
            .map_err(|reason| error(format!("module `{name}`: {reason}")))?;
        modules.insert(name, module);
    }
    Ok(modules)
}

fn build(base: &Module, written: ModuleFile, directory: &Path) -> Result<Module, String> {
    let relative = |path: PathBuf| {
        if path.is_absolute() {
            path
        } else {
            directory.join(path)
        }
    };
    let mut module = base.clone();
    if let Some(path) = written.ca_file {
        module.leaf.ca_file = Some(relative(path));
    }
    if let Some(path) = written.hosts_file {
        module.leaf.hosts_file = relative(path);
    }
    if let Some(server) = written.dns_server {
        module.leaf.dns_server = Some(crate::cli::parse_dns_server(&server)?);
    }
    if let Some(entries) = written.resolve {
        module.leaf.resolve_overrides = BTreeMap::new();
        for entry in entries {
            let (name, address) = crate::cli::parse_resolve(&entry)?;
            module
                .leaf
                .resolve_overrides
                .entry(name)
                .or_default()
                .push(address);
        }
    }
    if let Some(ports) = written.ports {
        for (protocol, port) in ports {
            let protocol: Protocol = protocol.parse()?;
            if port == 0 {
                return Err(format!("port 0 for {}: use 1 to 65535", protocol.key()));
            }
            match protocol {
                Protocol::Mqtt => module.leaf.ports.mqtt = port,
                Protocol::Amqp => module.leaf.ports.amqp = port,
                Protocol::Https => module.leaf.ports.https = port,
            }
        }
    }
    if let Some(timeout) = written.timeout {
        module.leaf.timeout = crate::cli::parse_timeout(&timeout)?;
    }
    if let Some(days) = written.expiry_warning_days {
        module.leaf.expiry_warning_days = days;
    }
    if let Some(websocket) = written.websocket {
        module.leaf.websocket = websocket;
    }
    if let Some(only) = written.only {
        module.selection.only = only;
    }
    if let Some(skip) = written.skip {
        module.selection.skip = skip;
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;

    fn base() -> Module {
        Module {
            // The documented defaults (hosts file, 5 s, 30 days, ...) with a CA file.
            leaf: LeafSettings {
                ca_file: Some(PathBuf::from("/etc/root.pem")),
                ..LeafSettings::default()
            },
            selection: Selection::default(),
        }
    }

    #[test]
    fn modules_start_from_the_command_line_and_change_what_they_set() {
        let text = "[modules.mqtt]\nca_file = \"roots/contoso.pem\"\nports = { mqtt = 18883 }\n\
timeout = \"1500ms\"\nonly = [\"gateway-connect-mqtt\"]\nresolve = [\"gw.contoso.com:10.0.0.5\"]\n";
        let modules =
            parse_modules(Path::new("/etc/edgeprobe/exporter.toml"), text, &base()).expect("valid");
        assert_eq!(modules[DEFAULT_MODULE], base());
        let mqtt = &modules["mqtt"];
        assert_eq!(
            mqtt.leaf.ca_file.as_deref(),
            Some(Path::new("/etc/edgeprobe/roots/contoso.pem"))
        );
        assert_eq!(mqtt.leaf.ports.mqtt, 18883);
        assert_eq!(mqtt.leaf.ports.amqp, 5671);
        assert_eq!(mqtt.leaf.timeout, Duration::from_millis(1500));
        assert_eq!(mqtt.selection.only, ["gateway-connect-mqtt"]);
        assert_eq!(
            mqtt.leaf.resolve_overrides["gw.contoso.com"],
            ["10.0.0.5".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(mqtt.leaf.hosts_file, PathBuf::from("/etc/hosts"));
    }

    #[test]
    fn mistakes_name_the_file_the_module_and_the_fix() {
        let path = Path::new("exporter.toml");
        let unknown = parse_modules(path, "[modules.a]\ncafile = \"x\"\n", &base()).unwrap_err();
        assert!(
            unknown.to_string().starts_with("exporter.toml: "),
            "{unknown}"
        );
        assert!(unknown.reason.contains("cafile"), "{unknown}");
        let port =
            parse_modules(path, "[modules.a]\nports = { smtp = 25 }\n", &base()).unwrap_err();
        assert!(port.reason.starts_with("module `a`: "), "{port}");
        let timeout =
            parse_modules(path, "[modules.a]\ntimeout = \"soon\"\n", &base()).unwrap_err();
        assert!(timeout.reason.contains("not a duration"), "{timeout}");
        let name = parse_modules(path, "[modules.\"a b\"]\n", &base()).unwrap_err();
        assert!(name.reason.contains("module name"), "{name}");
        let garbage = parse_modules(path, "modules = 3\n", &base()).unwrap_err();
        assert!(garbage.to_string().contains("exporter.toml"), "{garbage}");
    }
}
