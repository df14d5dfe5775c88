//! `device-ca-chain`: the device CA can issue edgeHub's certificate (basicConstraints CA:TRUE,
//! keyUsage keyCertSign when present, RFC 5280 §4.2.1.3 and §4.2.1.9) and the device CA file
//! verifies up to a root in the trusted root file, with OpenSSL's verify codes. That root is the
//! one leaves must hold: edgeHub presents its certificate with the device CA file's chain, so a
//! device CA from another PKI fails on every leaf exactly as it fails here.

use crate::config::{ConfiguredCertificates, DeviceCa};
use crate::engine::info::{ChainVerification, DeviceCaChainInfo, VerifyOutcome};
use crate::engine::{CheckMeta, Context, DeclaredCheck, OrSkip, Outcome, Prior, Ran, Skip, Status};
use crate::pki::describe::describe;
use crate::pki::diagnose::{ChainSource, diagnose_printed};
use crate::pki::load::load_certificates;
use crate::pki::verdicts::verify_error_line;
use crate::pki::verify::{Verification, VerifyOptions, verify_chain};
use crate::pki::{TrustAnchors, VerifyCode};

use super::catalog;
use super::{DEVICE_CA_FILE_EMPTY, device_ca};

pub struct DeviceCaChainCheck;

impl DeclaredCheck for DeviceCaChainCheck {
    const META: CheckMeta = catalog::DEVICE_CA_CHAIN;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let (certificates, device_ca) = device_ca(prior)?;
        let first = device_ca.chain.first().or_skip(DEVICE_CA_FILE_EMPTY)?;
        let summary = match describe(first) {
            Ok(summary) => summary,
            Err(error) => {
                return Ok(Outcome::error(format!(
                    "the device CA certificate in {} cannot be read: {error}",
                    device_ca.cert_path.display()
                ))
                .remedy("copy the device CA full-chain file again from where it was made"));
            }
        };
        let mut outcome = Outcome::ok(String::new());
        let mut problems = Vec::new();
        if !summary.is_ca {
            outcome.escalate(Status::Error);
            problems.push(format!(
                "`{}` is not a CA certificate (basicConstraints CA:TRUE missing): IoT Edge cannot issue edgeHub's certificate from it",
                summary.subject
            ));
            outcome.remedy = Some(format!(
                "{} must be the device CA (made with certGen.sh's create_edge_device_ca_certificate, or issued by your PKI with CA:TRUE and keyCertSign), not a server or device identity certificate",
                certificates.format.device_ca_cert_setting()
            ));
        } else if !summary.key_usage.is_empty()
            && !summary
                .key_usage
                .iter()
                .any(|usage| usage == "Certificate Sign")
        {
            outcome.escalate(Status::Error);
            problems.push(format!(
                "`{}` has keyUsage {} without Certificate Sign (keyCertSign): certificates it issues fail verification (OpenSSL code 32)",
                summary.subject,
                summary.key_usage.join(", ")
            ));
            outcome.remedy = Some(
                "reissue the device CA with keyUsage keyCertSign, cRLSign, digitalSignature"
                    .to_owned(),
            );
        }

        let Some(trust) = &certificates.trust_bundle else {
            if problems.is_empty() {
                return Err(Skip::because(format!(
                    "skipped because no trusted root is configured ({}) to verify the device CA against",
                    certificates.format.trust_bundle_setting()
                )));
            }
            outcome.message = problems.join("; ");
            return Ok(outcome);
        };
        let options = VerifyOptions::openssl_verify(context.now);
        let mut roots: Vec<(String, TrustAnchors)> = vec![(
            format!("the trusted root file {}", trust.path.display()),
            TrustAnchors::clone(trust),
        )];
        // On a gateway, --ca-file names the root its leaves were given.
        if let Some(leaf_root) = &context.leaf.ca_file {
            match load_certificates(leaf_root) {
                Ok(certificates) => roots.push((
                    format!("the leaves' root CA file {}", leaf_root.display()),
                    TrustAnchors::new(leaf_root.clone(), certificates),
                )),
                Err(error) => {
                    outcome.escalate(Status::Error);
                    problems.push(format!("--ca-file: {error}"));
                }
            }
        }
        let mut verdicts = Vec::new();
        for (label, anchors) in &roots {
            let verification = match verify_chain(&device_ca.chain, &anchors.certificates, &options)
            {
                Ok(verification) => verification,
                Err(error) => {
                    outcome.escalate(Status::Error);
                    problems.push(error.to_string());
                    continue;
                }
            };
            // The device CA file is checked as `openssl verify` checks files: the code is the
            // error it stops at (20 for a missing issuer), not the last one s_client reports
            // after carrying on (21).
            let printed = verification.openssl_verify_printed();
            let code = printed.last().map_or(VerifyCode::Ok, |error| error.code);
            outcome = outcome.details(chain_listing(&verification, label));
            outcome = outcome.detail(format!("Verify return code: {code}"));
            if !code.is_ok() {
                outcome.escalate(Status::Error);
                problems.push(format!(
                    "the device CA file does not verify against {label}: Verify return code: {code}"
                ));
                outcome = outcome.details(printed.iter().map(verify_error_line));
                // The device CA file is given like `openssl verify`'s input, not sent by
                // a server: a missing intermediate is a file to add.
                if let Some(diagnosis) = diagnose_printed(
                    &verification,
                    printed,
                    device_ca.chain.len(),
                    anchors,
                    ChainSource::Files,
                ) {
                    outcome = outcome.detail(format!("cause: {}", diagnosis.cause));
                }
                outcome.remedy.get_or_insert_with(|| {
                    remedy(code, certificates, device_ca, anchors, roots.len() > 1)
                });
            }
            verdicts.push(ChainVerification {
                against: anchors.path.clone(),
                verdict: VerifyOutcome::new(code, verification.errors),
                chain: verification.chain,
            });
        }
        outcome.message = if problems.is_empty() {
            let root = roots
                .first()
                .map(|(label, _)| label.clone())
                .unwrap_or_default();
            format!(
                "device CA `{}` is a CA and verifies against {root} (Verify return code: 0 (ok))",
                summary.subject
            )
        } else {
            problems.join("; ")
        };
        Ok(outcome.info(DeviceCaChainInfo {
            device_ca: device_ca.cert_path.clone(),
            subject: summary.subject,
            is_ca: summary.is_ca,
            key_usage: summary.key_usage,
            verifications: verdicts,
        }))
    }
}

/// `depth 0: CN=... (device CA file, sha256 Fingerprint=AB:...)` lines, as OpenSSL built the
/// chain: the fingerprint tells an old root or device CA from a renewed one of the same name.
fn chain_listing(verification: &Verification, label: &str) -> Vec<String> {
    let mut lines = vec![format!("chain built against {label}:")];
    lines.extend(verification.chain.iter().map(|link| {
        let source = if link.from_trust_store {
            "trusted root"
        } else {
            "device CA file"
        };
        match describe(&link.der) {
            Ok(summary) => format!(
                "  depth {}: {} ({source}, sha256 Fingerprint={})",
                link.depth, link.subject, summary.sha256_fingerprint
            ),
            Err(_) => format!("  depth {}: {} ({source})", link.depth, link.subject),
        }
    }));
    lines
}

fn remedy(
    code: VerifyCode,
    certificates: &ConfiguredCertificates,
    device_ca: &DeviceCa,
    anchors: &TrustAnchors,
    leaf_root_given: bool,
) -> String {
    let format = certificates.format;
    let apply = format.apply_command();
    match code {
        VerifyCode::UnableToGetIssuerCertLocally
        | VerifyCode::UnableToGetIssuerCert
        | VerifyCode::SelfSignedCertInChain
        | VerifyCode::UnableToVerifyLeafSignature
        | VerifyCode::CertSignatureFailure => format!(
            "the device CA ({}) and the root ({}) must come from the same PKI, the one whose root every leaf holds: set {} to the device CA's full-chain file (device CA, then intermediates) issued under that root, and {} to that root{}; then `{apply}` and delete the certificates IoT Edge issued from the old CA (see stale-generated-certs)",
            device_ca.cert_path.display(),
            anchors.path.display(),
            format.device_ca_cert_setting(),
            format.trust_bundle_setting(),
            if leaf_root_given {
                "; or give the leaves the root the device CA really comes from"
            } else {
                ""
            }
        ),
        VerifyCode::CertHasExpired | VerifyCode::CertNotYetValid => {
            "renew the certificate named (see certificates-expiry), or check this machine's clock with `timedatectl`".to_owned()
        }
        _ => format!(
            "reissue the device CA from your root with CA:TRUE and keyUsage keyCertSign (certGen.sh's create_edge_device_ca_certificate does), set it in {}, then `{apply}`",
            format.device_ca_cert_setting()
        ),
    }
}
