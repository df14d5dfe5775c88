//! Java: each JRE's truststore, `lib/security/jssecacerts` when it exists, else
//! `lib/security/cacerts` (`jre/lib/security/` in JDK 8), unless `-Djavax.net.ssl.trustStore`
//! names another (read here from JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS, the variables a JVM
//! takes options from). Debian links every JRE's `cacerts` to `/etc/ssl/certs/java/cacerts`,
//! which ca-certificates-java fills from `update-ca-certificates`.

use std::path::{Path, PathBuf};

use super::device::{Device, Environment};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole};

/// Where distributions and vendors' packages put JREs.
const JVM_DIRECTORIES: &[&str] = &["/usr/lib/jvm", "/usr/java", "/opt/java"];

pub fn discover(device: Device<'_>, environment: &Environment) -> Vec<Installation> {
    let mut candidates: Vec<(PathBuf, String)> = Vec::new();
    if let Some(home) = environment.get("JAVA_HOME") {
        candidates.push((PathBuf::from(home), "JAVA_HOME".to_owned()));
    }
    // JREs under their own names before the links to them (default-java, java-1.17.0-...), so
    // a JRE is reported by its real directory.
    let mut links = Vec::new();
    for directory in JVM_DIRECTORIES {
        for child in device.children(Path::new(directory)) {
            let entry = (child, (*directory).to_owned());
            if device
                .files
                .read_link(&device.root.path(&entry.0))
                .is_some()
            {
                links.push(entry);
            } else {
                candidates.push(entry);
            }
        }
    }
    candidates.extend(links);
    let trust_store_option = trust_store_option(environment);
    let mut seen = Vec::new();
    let mut installations = Vec::new();
    for (home, source) in candidates {
        let Some(security) = security_directory(device, &home) else {
            continue;
        };
        // default-java and java-1.17.0-openjdk-amd64 are links to the same JRE.
        let resolved = device.files.real(&device.locate(&home));
        if seen.contains(&resolved) {
            continue;
        }
        seen.push(resolved);
        let store = match &trust_store_option {
            Some((variable, path)) => StoreLocation::new(
                device,
                path,
                StoreFormat::JavaKeystore,
                format!("-Djavax.net.ssl.trustStore in {variable}"),
            ),
            None => {
                let jssecacerts = security.join("jssecacerts");
                if device.files.exists(&device.locate(&jssecacerts)) {
                    StoreLocation::new(
                        device,
                        jssecacerts,
                        StoreFormat::JavaKeystore,
                        "the JRE's jssecacerts (used instead of cacerts)",
                    )
                } else {
                    StoreLocation::new(
                        device,
                        security.join("cacerts"),
                        StoreFormat::JavaKeystore,
                        "the JRE's cacerts",
                    )
                }
            }
        };
        installations.push(Installation {
            runtime: Runtime::Java,
            found_by: if source == "JAVA_HOME" {
                format!("JAVA_HOME={}", home.display())
            } else {
                home.display().to_string()
            },
            location: Some(home),
            stores: vec![(StoreRole::Sdk, store)],
            notes: vec![
                "Java trusts its JRE's truststore unless the application passes its own".to_owned(),
            ],
        });
    }
    installations
}

/// A JRE's `lib/security` (or JDK 8's `jre/lib/security`), when `home` is a JRE at all.
fn security_directory(device: Device<'_>, home: &Path) -> Option<PathBuf> {
    ["lib/security", "jre/lib/security"]
        .iter()
        .map(|part| home.join(part))
        .find(|security| {
            device
                .files
                .exists(&device.locate(&security.join("cacerts")))
                || device
                    .files
                    .exists(&device.locate(&security.join("jssecacerts")))
        })
        .or_else(|| {
            device
                .files
                .is_file(&device.locate(&home.join("bin/java")))
                .then(|| home.join("lib/security"))
        })
}

/// `-Djavax.net.ssl.trustStore=PATH` from the variables a JVM reads options from.
fn trust_store_option(environment: &Environment) -> Option<(&'static str, PathBuf)> {
    ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"]
        .into_iter()
        .find_map(|variable| {
            let options = environment.text(variable)?;
            options.split_whitespace().find_map(|option| {
                let path = option.strip_prefix("-Djavax.net.ssl.trustStore=")?;
                Some((variable, PathBuf::from(path)))
            })
        })
}
