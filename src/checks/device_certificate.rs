//! `device-certificate`: the device's own X.509 identity (`--cert`, `--key`) is usable before it
//! is presented: the files read, the key is the certificate's, the dates hold, the EKU allows TLS
//! client authentication, the CN is the DeviceId (what IoT Hub requires of a CA-signed device),
//! and, with `--device-ca`, the chain verifies for purpose sslclient with OpenSSL's codes. The
//! SHA-1 and SHA-256 thumbprints are printed: what IoT Hub registers for a self-signed device
//! ("Authenticate identities with X.509 certificates").

use crate::engine::info::DeviceCertificateInfo;
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, OrSkip, Outcome, Prior, Ran, Status, Timestamp,
};
use crate::pki::describe::describe;
use crate::pki::load::load_certificates;
use crate::pki::verify::{Purpose, VerifyOptions, verify_chain};

use super::catalog;
use super::expiry::ExpiryReview;
use super::gateway_connect::device_certificate;

pub struct DeviceCertificateCheck;

/// OpenSSL's name for the clientAuth purpose, as `describe` lists extended key usages.
const CLIENT_AUTH: &str = "TLS Web Client Authentication";

impl DeclaredCheck for DeviceCertificateCheck {
    const META: CheckMeta = catalog::DEVICE_CERTIFICATE;
    fn applies(&self, context: &Context) -> bool {
        context.identity.certificate.is_some()
    }
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let loaded = device_certificate(context)
            .or_skip("skipped because --cert was given without --key")?;
        let device = match loaded {
            Ok(device) => device,
            Err(error) => {
                return Ok(Outcome::error(error).remedy(
                    "pass the device's certificate (PEM, leaf first, e.g. the full-chain file) with --cert and its private key with --key",
                ));
            }
        };
        let file = device.certificate_path.display().to_string();
        let leaf = device
            .leaf()
            .or_skip("skipped because the certificate file holds no certificate")?;
        let summary = match describe(leaf) {
            Ok(summary) => summary,
            Err(error) => {
                return Ok(Outcome::error(format!(
                    "{file}: the device certificate cannot be read: {error}"
                ))
                .remedy("export the device certificate again as PEM"));
            }
        };
        let mut problems: Vec<(Status, String, String)> = Vec::new();
        match &device.key_matches {
            Ok(true) => {}
            Ok(false) => problems.push((
                Status::Error,
                format!("{} is not the private key of `{}`", device.key_path.display(), summary.subject),
                "use the key the certificate was made for (compare `openssl pkey -in KEY -pubout` with `openssl x509 -in CERT -noout -pubkey`)".to_owned(),
            )),
            Err(error) => problems.push((
                Status::Error,
                format!("whether {} belongs to the certificate cannot be told: {error}", device.key_path.display()),
                "use an RSA 2048+, ECDSA P-256/P-384 or Ed25519 key".to_owned(),
            )),
        }
        let mut review = ExpiryReview::new(context.now, context.leaf.expiry_warning_days);
        review.review_summary(Ok(&summary), "the device certificate");
        let (dates, validities) = review.finish("device certificates");
        if dates.status != Status::Ok {
            problems.push((
                dates.status,
                dates.message.clone(),
                "issue a new device certificate from the device CA, or check the device clock (`timedatectl`)".to_owned(),
            ));
        }
        let client_auth = summary.extended_key_usage.is_empty()
            || summary
                .extended_key_usage
                .iter()
                .any(|usage| usage == CLIENT_AUTH);
        if !client_auth {
            problems.push((
                Status::Error,
                format!(
                    "`{}` may not be used for TLS client authentication (extendedKeyUsage: {})",
                    summary.subject,
                    summary.extended_key_usage.join(", ")
                ),
                "issue the device certificate with extendedKeyUsage clientAuth (certGen.sh create_device_certificate does)".to_owned(),
            ));
        }
        let self_signed = summary.self_issued && device.chain.len() == 1;
        let device_id = prior
            .connection_string()
            .map(|parsed| parsed.device_id.clone());
        let common_name_matches = match (&device_id, self_signed) {
            (Some(device_id), false) => {
                let matches = summary
                    .subject_common_names
                    .iter()
                    .any(|name| name == device_id);
                if !matches {
                    problems.push((
                        Status::Error,
                        format!(
                            "the certificate's CN is {} but the DeviceId is `{device_id}`: IoT Hub accepts a CA-signed device only when its CN is the device id",
                            summary.subject_common_names.first().map_or("missing".to_owned(), |name| format!("`{name}`"))
                        ),
                        format!("issue the device certificate with CN={device_id} (`./certGen.sh create_device_certificate {device_id}`)"),
                    ));
                }
                Some(matches)
            }
            _ => None,
        };
        let verification = match &context.identity.device_ca {
            None => None,
            Some(path) => match load_certificates(path) {
                Err(error) => {
                    problems.push((
                        Status::Error,
                        error.to_string(),
                        "pass the CA that issued the device certificate with --device-ca"
                            .to_owned(),
                    ));
                    None
                }
                Ok(trusted) => {
                    let options = VerifyOptions {
                        purpose: Some(Purpose::SslClient),
                        ..VerifyOptions::openssl_verify(context.now)
                    };
                    match verify_chain(&device.chain, &trusted, &options) {
                        Ok(verification) => {
                            let code = verification.code();
                            if !code.is_ok() {
                                problems.push((
                                    Status::Error,
                                    format!("{file} does not verify against {} for purpose sslclient: Verify return code: {code}", path.display()),
                                    "send the full chain (leaf, then its intermediates) in --cert, and check that --device-ca is the CA that issued it".to_owned(),
                                ));
                            }
                            Some(code)
                        }
                        Err(error) => {
                            problems.push((
                                Status::Error,
                                error.to_string(),
                                "export the device certificate again as PEM".to_owned(),
                            ));
                            None
                        }
                    }
                }
            },
        };
        let sha1 = thumbprint::<sha1::Sha1>(leaf.as_ref());
        let sha256 = thumbprint::<sha2::Sha256>(leaf.as_ref());
        let info = DeviceCertificateInfo {
            certificate: device.certificate_path.clone(),
            key: device.key_path.clone(),
            subject: summary.subject.clone(),
            issuer: summary.issuer.clone(),
            self_signed,
            key_matches: device.key_matches.as_ref().ok().copied(),
            client_auth,
            common_name_matches,
            not_after: Timestamp(summary.not_after),
            sha1_thumbprint: sha1.clone(),
            sha256_thumbprint: sha256.clone(),
            verify_code: verification.map(|code| code.number()),
            validity: validities,
        };
        let mut outcome = match problems.iter().map(|(status, ..)| *status).max() {
            None => Outcome::ok(format!(
                "`{}` ({file}): key matches, valid until {}, usable for client authentication{}{}",
                summary.subject,
                crate::pki::describe::openssl_date(summary.not_after),
                match common_name_matches {
                    Some(true) => ", CN is the DeviceId",
                    _ => "",
                },
                match verification {
                    Some(_) => ", chains to --device-ca (purpose sslclient)",
                    None => "",
                }
            )),
            Some(status) => {
                let mut outcome = Outcome::ok(
                    problems
                        .iter()
                        .map(|(_, problem, _)| problem.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                outcome.escalate(status);
                outcome.remedy(
                    problems
                        .iter()
                        .map(|(_, _, fix)| fix.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
        };
        outcome = outcome
            .detail(format!("SHA-1 thumbprint: {sha1}"))
            .detail(format!("SHA-256 thumbprint: {sha256}"));
        if self_signed {
            outcome = outcome.detail("self-signed: IoT Hub must hold one of these thumbprints for the device (`az iot hub device-identity create --am x509_thumbprint --ptp <SHA-1 or SHA-256>`)");
        } else if device_id.is_none() {
            outcome = outcome
                .detail("no connection string given: the CN was not compared with a DeviceId");
        }
        Ok(outcome.info(info))
    }
}

/// Upper-case hex without separators, as IoT Hub shows and takes thumbprints.
fn thumbprint<D: sha2::Digest>(der: &[u8]) -> String {
    D::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect()
}
