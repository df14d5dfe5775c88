//! `stale-generated-certs`: the certificates IoT Edge issued and cached (edgeHub's server
//! certificate, 1.1's workload CA) were issued by the device CA configured now. IoT Edge reuses
//! them after the device CA is replaced, so edgeHub keeps presenting a certificate from the old
//! CA until they are deleted, which the gateway guides tell operators to do: 1.1's
//! `<homedir>/hsm/certs` and `hsm/cert_keys`, 1.2+'s `/var/lib/aziot/certd/certs` and
//! `/var/lib/aziot/keyd/keys`.

use std::io;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;

use crate::config::ConfigFormat;
use crate::engine::info::{StaleCertificate, StaleGeneratedCertsInfo};
use crate::engine::{CheckMeta, Context, DeclaredCheck, Outcome, Prior, Ran, Skip};
use crate::pki::describe::describe;
use crate::pki::load::load_certificates;
use crate::pki::verify::is_signed_by;

use super::catalog;
use super::{configured_certificates, device_ca_unavailable};

pub struct StaleGeneratedCertsCheck;

/// A certificate found in the store.
struct Cached {
    file: PathBuf,
    der: CertificateDer<'static>,
    subject: String,
    issuer: String,
}

impl DeclaredCheck for StaleGeneratedCertsCheck {
    const META: CheckMeta = catalog::STALE_GENERATED_CERTS;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let certificates = configured_certificates(prior)?;
        let config = prior
            .edge_config()
            .ok_or_else(|| device_ca_unavailable(prior, None))?;
        let Some(device_ca) = &certificates.device_ca else {
            if certificates.quickstart {
                return Err(Skip::because(
                    "no device CA is configured: IoT Edge manages the quickstart CA and what it issues itself",
                ));
            }
            return Err(device_ca_unavailable(prior, Some(certificates)));
        };
        let (certs, keys) = store_directories(config.format, &config.homedir);
        let directory = context.root.path(&certs);
        let files = match list_files(&directory) {
            Ok(files) => files,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Outcome::ok(format!(
                    "{} does not exist: IoT Edge has not issued any certificate yet",
                    directory.display()
                )));
            }
            Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
                return Ok(Outcome::warning(format!(
                    "cannot read {}: permission denied",
                    directory.display()
                ))
                .remedy(
                    "run `sudo edgeprobe check` to check the certificates IoT Edge generated",
                ));
            }
            Err(error) => {
                return Ok(Outcome::warning(format!(
                    "cannot read {}: {error}",
                    directory.display()
                )));
            }
        };
        let known: Vec<&CertificateDer<'static>> = device_ca
            .chain
            .iter()
            .chain(
                certificates
                    .trust_bundle
                    .iter()
                    .flat_map(|trust| trust.certificates.iter()),
            )
            .collect();
        let mut cached = Vec::new();
        for file in files {
            let Ok(found) = load_certificates(&file) else {
                continue;
            };
            let Some(der) = found.into_iter().next() else {
                continue;
            };
            let Ok(summary) = describe(&der) else {
                continue;
            };
            // Only what IoT Edge issues from the device CA: server certificates and (1.1)
            // the workload CA. Copies of configured certificates, self-signed roots and
            // identity (client) certificates from other PKIs are not its business.
            let issued_by_edge = summary.is_ca
                || summary
                    .extended_key_usage
                    .iter()
                    .any(|usage| usage == "TLS Web Server Authentication");
            if summary.self_issued || !issued_by_edge || known.contains(&&der) {
                continue;
            }
            cached.push(Cached {
                file,
                der,
                subject: summary.subject,
                issuer: summary.issuer,
            });
        }
        // Current: issued by the device CA, or by something issued by it (1.1's workload CA).
        let mut issuers: Vec<CertificateDer<'static>> = device_ca.chain.clone();
        let mut current = vec![false; cached.len()];
        let mut changed = true;
        while changed {
            changed = false;
            for (index, certificate) in cached.iter().enumerate() {
                if !current[index]
                    && issuers
                        .iter()
                        .any(|issuer| is_signed_by(&certificate.der, issuer))
                {
                    current[index] = true;
                    issuers.push(certificate.der.clone());
                    changed = true;
                }
            }
        }
        let device_ca_subject = super::subject_of(&device_ca.chain[0]);
        let stale: Vec<&Cached> = cached
            .iter()
            .zip(&current)
            .filter(|(_, current)| !**current)
            .map(|(certificate, _)| certificate)
            .collect();
        let info = StaleGeneratedCertsInfo {
            directory: directory.clone(),
            checked: cached.len(),
            stale: stale
                .iter()
                .map(|certificate| StaleCertificate {
                    file: certificate.file.clone(),
                    subject: certificate.subject.clone(),
                    issuer: certificate.issuer.clone(),
                })
                .collect(),
        };
        if stale.is_empty() {
            return Ok(Outcome::ok(format!(
                "the {} certificate(s) IoT Edge issued in {} come from the configured device CA `{device_ca_subject}`",
                cached.len(),
                directory.display()
            ))
            .info(info));
        }
        let mut outcome = Outcome::warning(format!(
            "{} certificate(s) in {} were issued by a CA other than the configured device CA `{device_ca_subject}`: edgeHub may still present them",
            stale.len(),
            directory.display()
        ));
        for certificate in &stale {
            outcome = outcome.detail(format!(
                "{}: `{}` issued by `{}`",
                certificate.file.display(),
                certificate.subject,
                certificate.issuer
            ));
        }
        let remedy = match config.format {
            ConfigFormat::V1Yaml => format!(
                "delete what libiothsm generated and restart, as the gateway guide says: `sudo rm -rf {}/* {}/*` then `sudo systemctl restart iotedge`",
                certs.display(),
                keys.display()
            ),
            ConfigFormat::V2Toml => format!(
                "delete the certificates and keys IoT Edge generated, as the gateway guides say: `sudo iotedge system stop`, `sudo rm -rf {} {}`, then `sudo iotedge config apply` (IoT Edge re-creates them from the configured device CA)",
                certs.display(),
                keys.display()
            ),
        };
        Ok(outcome.remedy(remedy).info(info))
    }
}

/// Where IoT Edge keeps the certificates it issued, and their keys (system paths).
fn store_directories(format: ConfigFormat, homedir: &Path) -> (PathBuf, PathBuf) {
    match format {
        ConfigFormat::V1Yaml => (homedir.join("hsm/certs"), homedir.join("hsm/cert_keys")),
        ConfigFormat::V2Toml => (
            PathBuf::from("/var/lib/aziot/certd/certs"),
            PathBuf::from("/var/lib/aziot/keyd/keys"),
        ),
    }
}

/// Regular files of `directory`, sorted by name so the report is stable.
fn list_files(directory: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
