//! Java: each JRE's truststore, `lib/security/jssecacerts` when it exists, else
//! `lib/security/cacerts` (`jre/lib/security/` in JDK 8), unless `-Djavax.net.ssl.trustStore`
//! names another (read here from JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS, the variables a JVM
//! takes options from). Debian links every JRE's `cacerts` to `/etc/ssl/certs/java/cacerts`,
//! which ca-certificates-java fills from `update-ca-certificates`.

use std::path::{Path, PathBuf};

use super::device::{Environment, children, locate};
use super::store::{StoreFormat, StoreLocation};
use super::{Installation, Runtime, StoreRole};
use crate::system::SystemRoot;

/// Where distributions and vendors' packages put JREs.
const JVM_DIRECTORIES: &[&str] = &["/usr/lib/jvm", "/usr/java", "/opt/java"];

pub fn discover(root: &SystemRoot, environment: &Environment) -> Vec<Installation> {
    let mut candidates: Vec<(PathBuf, String)> = Vec::new();
    if let Some(home) = environment.get("JAVA_HOME") {
        candidates.push((PathBuf::from(home), "JAVA_HOME".to_owned()));
    }
    // JREs under their own names before the links to them (default-java, java-1.17.0-...), so
    // a JRE is reported by its real directory.
    let mut links = Vec::new();
    for directory in JVM_DIRECTORIES {
        for child in children(root, Path::new(directory)) {
            let entry = (child, (*directory).to_owned());
            if std::fs::symlink_metadata(root.path(&entry.0)).is_ok_and(|meta| meta.is_symlink()) {
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
        let Some(security) = security_directory(root, &home) else {
            continue;
        };
        // default-java and java-1.17.0-openjdk-amd64 are links to the same JRE.
        let resolved = locate(root, &home).real();
        if seen.contains(&resolved) {
            continue;
        }
        seen.push(resolved);
        let store = match &trust_store_option {
            Some((variable, path)) => StoreLocation::new(
                root,
                path,
                StoreFormat::JavaKeystore,
                format!("-Djavax.net.ssl.trustStore in {variable}"),
            ),
            None => {
                let jssecacerts = security.join("jssecacerts");
                if locate(root, &jssecacerts).exists() {
                    StoreLocation::new(
                        root,
                        jssecacerts,
                        StoreFormat::JavaKeystore,
                        "the JRE's jssecacerts (used instead of cacerts)",
                    )
                } else {
                    StoreLocation::new(
                        root,
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
fn security_directory(root: &SystemRoot, home: &Path) -> Option<PathBuf> {
    ["lib/security", "jre/lib/security"]
        .iter()
        .map(|part| home.join(part))
        .find(|security| {
            locate(root, &security.join("cacerts")).exists()
                || locate(root, &security.join("jssecacerts")).exists()
        })
        .or_else(|| {
            locate(root, &home.join("bin/java"))
                .host
                .is_file()
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
