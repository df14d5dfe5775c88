//! `root-ca-file`: the root CA file the device trusts is readable and holds root certificates.

use super::catalog;
use crate::engine::info::{RootCaFileInfo, RootCertificate, RootFile, SystemStore};
use crate::engine::os_trust_location::OsTrustLocation;
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Evidence, Outcome, Prior, Ran, Status, Timestamp,
};
use crate::pki::describe::openssl_date;

/// Where Debian, Ubuntu and Raspberry Pi OS keep the system trust bundle, which device SDKs
/// that use the OS store read when no root file is configured.
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub struct RootCaFileCheck;

impl DeclaredCheck for RootCaFileCheck {
    const META: CheckMeta = catalog::ROOT_CA_FILE;
    async fn run(&self, context: &Context, _prior: &Prior) -> Ran {
        // Without --ca-file: the store the device's distribution (or SSL_CERT_FILE) names,
        // under --root.
        let location = OsTrustLocation::locate(&context.root, &context.leaf.trust_environment);
        let (path, system) = match &context.leaf.ca_file {
            Some(path) => (path.clone(), false),
            None => (location.bundle.clone(), true),
        };
        // The OS bundle is read once per process; a CA file once per run.
        let loaded = if system {
            location
                .load_without_blocking()
                .await
                .map_err(|error| error.to_string())
        } else {
            context
                .shared
                .trust_anchors(&path)
                .map_err(|error| error.to_string())
        };
        let anchors = match loaded {
            Ok(anchors) => anchors,
            Err(error) => {
                let remedy = if system {
                    "pass the gateway's root CA with --ca-file (e.g. azure-iot-test-only.root.ca.cert.pem)".to_owned()
                } else {
                    format!(
                        "pass the gateway's root CA certificate in PEM or DER form (e.g. azure-iot-test-only.root.ca.cert.pem) instead of {}",
                        path.display()
                    )
                };
                return Ok(Outcome::error(error).remedy(remedy));
            }
        };
        if system {
            let count = anchors.certificates.len();
            let path = anchors.path.clone();
            return Ok(Outcome::ok(format!(
                "no --ca-file given: using the system trust store {location} ({} certificates), as SDKs that use the OS store do",
                anchors.certificates.len()
            ))
            .remedy("pass the gateway's root CA with --ca-file to check exactly what the device is configured with")
            .info(RootCaFileInfo::SystemStore(SystemStore { path, system_store: true, count }))
            .evidence(Evidence::TrustAnchors(anchors)));
        }

        let mut outcome = Outcome::ok(format!(
            "{} holds {} certificate(s)",
            path.display(),
            anchors.certificates.len()
        ));
        let mut roots = Vec::new();
        for (index, summary) in anchors.summaries().iter().enumerate() {
            let summary = match summary {
                Ok(summary) => summary.clone(),
                Err(error) => {
                    outcome.escalate(Status::Warning);
                    outcome = outcome
                        .detail(format!("certificate {} cannot be read: {error}", index + 1));
                    continue;
                }
            };
            let position = format!("certificate {} (`{}`)", index + 1, summary.subject);
            outcome = outcome.detail(format!(
                "{position}, expires {}, sha256 Fingerprint={}",
                openssl_date(summary.not_after),
                summary.sha256_fingerprint
            ));
            if !summary.is_ca {
                outcome.escalate(Status::Warning);
                outcome = outcome
                    .detail(format!("{position} is not a CA certificate: it cannot be a trusted root"))
                    .remedy("the root CA file must hold the root CA certificate, not the gateway's own certificate");
            } else if !summary.self_issued {
                outcome.escalate(Status::Warning);
                outcome = outcome
                    .detail(format!(
                        "{position} is not self-signed (issued by `{}`): an intermediate given as the root; OpenSSL then reports 2 (unable to get issuer certificate)",
                        summary.issuer
                    ))
                    .remedy("use the root CA certificate (the self-signed one, e.g. azure-iot-test-only.root.ca.cert.pem) or append it to this file");
            }
            if summary.not_after < context.now {
                outcome.escalate(Status::Warning);
                outcome = outcome.detail(format!(
                    "{position} expired on {}",
                    openssl_date(summary.not_after)
                ));
            }
            roots.push(RootCertificate {
                subject: summary.subject,
                issuer: summary.issuer,
                not_after: Timestamp(summary.not_after),
                sha256: summary.sha256_fingerprint,
                is_ca: summary.is_ca,
                self_signed: summary.self_issued,
            });
        }
        if outcome.status == Status::Warning {
            outcome.message = format!(
                "{} holds certificates that cannot serve as a root",
                path.display()
            );
        }
        Ok(outcome
            .info(RootCaFileInfo::File(RootFile {
                path,
                system_store: false,
                certificates: roots,
            }))
            .evidence(Evidence::TrustAnchors(anchors)))
    }
}
