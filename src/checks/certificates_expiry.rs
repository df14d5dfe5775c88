//! `certificates-expiry`: the certificates the gateway is configured with (the device CA file
//! and the trusted root) are within their validity period, not about to expire, and end before
//! 2038-01-01. IoT Edge does not renew a device CA you supply ("Manage IoT Edge certificates"):
//! when it expires, edgeHub's certificate can no longer be issued and every leaf fails at once.

use crate::config::ConfigFormat;
use crate::engine::info::ExpiryInfo;
use crate::engine::{CheckMeta, Context, DeclaredCheck, Prior, Ran, Status};

use super::catalog;
use super::expiry::{ExpiryReview, Year2038};
use super::{configured_certificates, device_ca_unavailable};

pub struct CertificatesExpiryCheck;

impl DeclaredCheck for CertificatesExpiryCheck {
    const META: CheckMeta = catalog::CERTIFICATES_EXPIRY;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let certificates = configured_certificates(prior)?;
        let mut rated = Vec::new();
        if let Some(device_ca) = &certificates.device_ca {
            for (index, der) in device_ca.chain.iter().enumerate() {
                let source = if index == 0 {
                    format!("device CA, {}", device_ca.cert_path.display())
                } else {
                    format!(
                        "certificate {} of {}",
                        index + 1,
                        device_ca.cert_path.display()
                    )
                };
                rated.push((der, source));
            }
        }
        if let Some(trust) = &certificates.trust_bundle {
            for der in &trust.certificates {
                if !rated.iter().any(|(known, _)| *known == der) {
                    rated.push((der, format!("trusted root, {}", trust.path.display())));
                }
            }
        }
        if rated.is_empty() {
            return Err(device_ca_unavailable(prior, Some(certificates)));
        }

        let year_2038 = match certificates.format {
            ConfigFormat::V1Yaml => Year2038::Libiothsm,
            ConfigFormat::V2Toml => Year2038::TimeT,
        };
        let mut review =
            ExpiryReview::new(context.now, context.leaf.expiry_warning_days).year_2038(year_2038);
        for (der, source) in &rated {
            review.review(der, source);
        }
        let (mut outcome, validities) = review.finish("configured certificates");
        if outcome.status != Status::Ok {
            let format = certificates.format;
            outcome.remedy = Some(format!(
                "issue a new certificate (valid for the time you need, ending before 2038) from your PKI for each one named; for the device CA set {} and {} to the new files, delete the certificates IoT Edge issued from the old one (see stale-generated-certs), then `{}`; for the root, also copy it to {} and to every leaf; check this machine's clock with `timedatectl`",
                format.device_ca_cert_setting(),
                format.device_ca_key_setting(),
                format.apply_command(),
                format.trust_bundle_setting()
            ));
        }
        Ok(outcome.info(ExpiryInfo {
            warning_days: context.leaf.expiry_warning_days,
            certificates: validities,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;
    use crate::config::{ConfigFormat, ConfiguredCertificates, DeviceCa};
    use crate::engine::{Check, Evidence, Outcome};
    use crate::pki::TrustAnchors;
    use crate::pki::load::load_certificates;

    fn fixture(name: &str) -> PathBuf {
        crate::test_fixtures::fixture(&format!("gateway/pki/{name}"))
    }

    /// The top layer's device CA (valid 2020-01-01 to 2037-12-31) and root, as
    /// `certificates-configured` hands them over.
    fn prior() -> Prior {
        let chain = load_certificates(&fixture("top-device-ca-full-chain.pem")).unwrap();
        let root = load_certificates(&fixture("root-ca.pem")).unwrap();
        let certificates = ConfiguredCertificates {
            format: ConfigFormat::V2Toml,
            device_ca: Some(DeviceCa {
                cert_path: fixture("top-device-ca-full-chain.pem"),
                chain,
                key_path: None,
                key: None,
            }),
            trust_bundle: Some(Arc::new(TrustAnchors::new(fixture("root-ca.pem"), root))),
            quickstart: false,
        };
        Prior::from_outcomes([(
            "certificates-configured",
            Outcome::ok("loaded")
                .evidence(Evidence::ConfiguredCertificates(Arc::new(certificates))),
        )])
    }

    async fn rate(now: time::OffsetDateTime, warning_days: u32) -> Outcome {
        let mut context = Context {
            now,
            ..Context::default()
        };
        context.leaf.expiry_warning_days = warning_days;
        Check::run(&CertificatesExpiryCheck, &context, &prior()).await
    }

    #[tokio::test]
    async fn the_device_ca_warns_within_the_threshold_and_fails_outside_its_validity() {
        let ok = rate(datetime!(2026-06-01 00:00 UTC), 90).await;
        assert_eq!(ok.status, Status::Ok, "{}", ok.message);

        let soon = rate(datetime!(2037-11-01 00:00 UTC), 90).await;
        assert_eq!(soon.status, Status::Warning, "{}", soon.message);
        assert!(
            soon.message.contains("expires in 2 months"),
            "{}",
            soon.message
        );
        assert!(soon.message.contains("device CA"), "{}", soon.message);
        let quieter = rate(datetime!(2037-11-01 00:00 UTC), 30).await;
        assert_eq!(quieter.status, Status::Ok, "{}", quieter.message);

        let early = rate(datetime!(2019-06-01 00:00 UTC), 90).await;
        assert_eq!(early.status, Status::Error);
        assert!(
            early.message.contains("is not valid until"),
            "{}",
            early.message
        );

        let late = rate(datetime!(2038-02-01 00:00 UTC), 90).await;
        assert_eq!(late.status, Status::Error);
        assert!(late.message.contains("expired on"), "{}", late.message);
        assert!(late.remedy.is_some());
    }

    #[tokio::test]
    async fn nothing_loaded_is_a_skip_that_names_the_prerequisite() {
        let context = Context::default();
        let outcome = Check::run(
            &CertificatesExpiryCheck,
            &context,
            &Prior::from_outcomes([]),
        )
        .await;
        assert_eq!(outcome.status, Status::Skipped);
        assert!(outcome.message.contains("certificates-configured"));
    }
}
