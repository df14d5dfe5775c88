//! `gateway-cert-chain`: the chain each port presents verifies against the device's root CA
//! file, with OpenSSL's verdict (`Verify return code: N (text)`) and a diagnosis.

use std::sync::Arc;

use crate::engine::info::{
    ChainEntry, GatewayCertChainInfo, PortVerdict, ProtocolPort, VerifyOutcome,
};
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Evidence, ObservedPort, OrSkip, Outcome, Peer, Prior, Ran,
    Status, Timestamp,
};
use crate::pki::VerifyCode;
use crate::pki::describe::CertificateSummary;
use crate::pki::diagnose::{ChainSource, diagnose};
use crate::pki::verdicts::verify_error_line;

use super::catalog;
use super::device_clock::clock_first;
use super::{
    STRICT_CLIENTS_REMEDY, group_by_chain, leaf_verdict, listed_chain, ports_of,
    strict_clients_object,
};

pub struct GatewayCertChainCheck;

impl From<&CertificateSummary> for ChainEntry {
    fn from(summary: &CertificateSummary) -> Self {
        ChainEntry {
            subject: summary.subject.clone(),
            issuer: summary.issuer.clone(),
            not_before: Timestamp(summary.not_before),
            not_after: Timestamp(summary.not_after),
            sans: summary.alt_names.listed("IP"),
            sha256: summary.sha256_fingerprint.clone(),
            serial: summary.serial.clone(),
            public_key: summary.public_key.clone(),
            signature_algorithm: summary.signature_algorithm.clone(),
            is_ca: summary.is_ca,
        }
    }
}

impl DeclaredCheck for GatewayCertChainCheck {
    const META: CheckMeta = catalog::GATEWAY_CERT_CHAIN;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let anchors = prior
            .trust_anchors()
            .or_skip("skipped because no root CA file was loaded")?;
        let observations = prior.observations();
        let mut outcome = Outcome::ok("Verification: OK");
        let mut verdicts = Vec::new();
        let mut judged = Vec::new();
        let mut messages = Vec::new();
        for group in group_by_chain(&observations) {
            let first = group[0];
            let ports = ports_of(&group);
            let (Some(chain), Some(verdict)) =
                (first.chain(), leaf_verdict(context, anchors, first))
            else {
                continue;
            };
            judged.extend(group.iter().map(|observation| ObservedPort {
                peer: Peer::Gateway,
                observation: Arc::clone(observation),
                verdict: Some(Arc::clone(&verdict)),
            }));
            let verification = match &verdict.openssl {
                Ok(verification) => verification,
                Err(error) => {
                    outcome.escalate(Status::Error);
                    messages.push(format!("{ports}: {error}"));
                    continue;
                }
            };
            let summaries: Vec<&CertificateSummary> = chain.readable().collect();
            let code = verification.code();
            for unchecked in &verification.unchecked_signatures {
                outcome = outcome.detail(format!("{ports}: {}", unchecked.note()));
            }
            outcome = outcome
                .detail(format!("{ports}: Certificate chain (as sent)"))
                .details(listed_chain(summaries.iter().copied()));
            if code.is_ok() {
                outcome = outcome
                    .detail("Verification: OK".to_owned())
                    .detail(format!("Verify return code: {code}"));
                messages.push(format!("{ports}: Verification: OK"));
                // OpenSSL accepts; say so when a strict client would not. Name problems
                // (a CN-only certificate) are gateway-cert-hostname's business.
                if let Some(objection) = strict_clients_object(verdict.strict.as_ref(), code) {
                    outcome.escalate(Status::Warning);
                    outcome = outcome.detail(objection);
                    outcome
                        .remedy
                        .get_or_insert_with(|| STRICT_CLIENTS_REMEDY.to_owned());
                }
            } else {
                outcome.escalate(Status::Error);
                outcome = outcome.details(verification.errors.iter().map(verify_error_line));
                outcome = outcome
                    .detail(format!("Verification error: {}", code.text()))
                    .detail(format!("Verify return code: {code}"));
                messages.push(format!("{ports}: Verify return code: {code}"));
                if let Some(diagnosis) =
                    diagnose(verification, chain.len(), anchors, ChainSource::Gateway)
                {
                    outcome = outcome.detail(format!("cause: {}", diagnosis.cause));
                    outcome.remedy = Some(diagnosis.remedy);
                }
            }
            for observation in &group {
                verdicts.push(PortVerdict {
                    probed: ProtocolPort {
                        protocol: observation.protocol,
                        port: observation.port,
                    },
                    verdict: VerifyOutcome::new(code, verification.errors.clone()),
                    strict_client_verdict: verdict.strict.clone(),
                    chain: summaries
                        .iter()
                        .map(|summary| ChainEntry::from(*summary))
                        .collect(),
                });
            }
        }
        for (protocol, failed) in prior.failed_protocols() {
            outcome = outcome.detail(format!(
                "{}: not checked ({})",
                protocol.display_name(),
                failed.message
            ));
        }
        // "Verification: OK" only for a chain that was verified.
        if judged.is_empty() {
            outcome.escalate(Status::Error);
            messages.push("no port presented a certificate chain to verify".to_owned());
        }
        if outcome.status != Status::Ok || messages.len() > 1 {
            outcome.message = messages.join("; ");
        }
        if outcome.status == Status::Warning {
            outcome.message.push_str(" (strict clients disagree)");
        }
        if verdicts.iter().any(|port| {
            matches!(
                port.verdict.verify_code,
                VerifyCode::CertNotYetValid | VerifyCode::CertHasExpired
            )
        }) {
            outcome = clock_first(prior, outcome);
        }
        Ok(outcome
            .info(GatewayCertChainInfo {
                root_ca_file: anchors.path.clone(),
                ports: verdicts,
            })
            .evidence(Evidence::JudgedPorts(judged.into())))
    }
}
