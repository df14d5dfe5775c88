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
        let mut problems = Problems::default();
        match &device.key_matches {
            Ok(true) => {}
            Ok(false) => problems.error(
                format!("{} is not the private key of `{}`", device.key_path.display(), summary.subject),
                "use the key the certificate was made for (compare `openssl pkey -in KEY -pubout` with `openssl x509 -in CERT -noout -pubkey`)",
            ),
            Err(error) => problems.error(
                format!("whether {} belongs to the certificate cannot be told: {error}", device.key_path.display()),
                "use an RSA 2048+, ECDSA P-256/P-384 or Ed25519 key",
            ),
        }
        let mut review = ExpiryReview::new(context.now, context.leaf.expiry_warning_days);
        review.review_summary(Ok(&summary), "the device certificate");
        let (dates, validities) = review.finish("device certificates");
        if dates.status != Status::Ok {
            problems.push(
                dates.status,
                dates.message.clone(),
                "issue a new device certificate from the device CA, or check the device clock (`timedatectl`)",
            );
        }
        let client_auth = summary.extended_key_usage.is_empty()
            || summary
                .extended_key_usage
                .iter()
                .any(|usage| usage == CLIENT_AUTH);
        if !client_auth {
            problems.error(
                format!(
                    "`{}` may not be used for TLS client authentication (extendedKeyUsage: {})",
                    summary.subject,
                    summary.extended_key_usage.join(", ")
                ),
                "issue the device certificate with extendedKeyUsage clientAuth (certGen.sh create_device_certificate does)",
            );
        }
        let self_signed = summary.self_issued && device.chain.len() == 1;
        let device_id = prior
            .connection_string()
            .map(|parsed| parsed.address.device_id.clone());
        let common_name_matches = match (&device_id, self_signed) {
            (Some(device_id), false) => {
                let matches = summary.subject_common_names.contains(device_id);
                if !matches {
                    problems.error(
                        format!(
                            "the certificate's CN is {} but the DeviceId is `{device_id}`: IoT Hub accepts a CA-signed device only when its CN is the device id",
                            summary.subject_common_names.first().map_or("missing".to_owned(), |name| format!("`{name}`"))
                        ),
                        format!("issue the device certificate with CN={device_id} (`./certGen.sh create_device_certificate {device_id}`)"),
                    );
                }
                Some(matches)
            }
            _ => None,
        };
        let verification = match &context.identity.device_ca {
            None => None,
            Some(path) => match load_certificates(path) {
                Err(error) => {
                    problems.error(
                        error.to_string(),
                        "pass the CA that issued the device certificate with --device-ca",
                    );
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
                                problems.error(
                                    format!("{file} does not verify against {} for purpose sslclient: Verify return code: {code}", path.display()),
                                    "send the full chain (leaf, then its intermediates) in --cert, and check that --device-ca is the CA that issued it",
                                );
                            }
                            Some(code)
                        }
                        Err(error) => {
                            problems.error(
                                error.to_string(),
                                "export the device certificate again as PEM",
                            );
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
        let mut outcome = match problems.worst() {
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
                let mut outcome = Outcome::ok(problems.joined(|(_, problem, _)| problem));
                outcome.escalate(status);
                outcome.remedy(problems.joined(|(_, _, fix)| fix))
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

/// What is wrong with the device certificate, in the order found: status, message, remedy.
#[derive(Default)]
struct Problems(Vec<(Status, String, String)>);

impl Problems {
    fn push(&mut self, status: Status, message: impl Into<String>, remedy: impl Into<String>) {
        self.0.push((status, message.into(), remedy.into()));
    }

    fn error(&mut self, message: impl Into<String>, remedy: impl Into<String>) {
        self.push(Status::Error, message, remedy);
    }

    /// The worst status found, `None` when nothing is wrong.
    fn worst(&self) -> Option<Status> {
        self.0.iter().map(|(status, ..)| *status).max()
    }

    /// One part of every problem (its message or its remedy), `; `-separated.
    fn joined(&self, part: impl Fn(&(Status, String, String)) -> &String) -> String {
        let parts: Vec<&str> = self.0.iter().map(part).map(String::as_str).collect();
        parts.join("; ")
    }
}
