//! `gateway-cert-expiry`: no certificate the gateway presents (or the root that anchors it) is
//! expired, not yet valid, close to expiry, or past IoT Edge's 2038 limit.

use rustls_pki_types::CertificateDer;

use crate::engine::info::ExpiryInfo;
use crate::engine::{CheckMeta, Context, DeclaredCheck, Prior, Ran, Status};
use crate::pki::describe::CertificateSummary;

use super::catalog;
use super::device_clock::clock_first;
use super::expiry::ExpiryReview;
use super::{group_by_chain, leaf_verdict};

/// A certificate to review: as the port described it, or the root, as the CA file's anchors
/// describe it.
enum Reviewed<'a> {
    Presented(
        &'a CertificateDer<'static>,
        &'a Result<CertificateSummary, String>,
    ),
    Root(
        &'a CertificateDer<'static>,
        &'a Result<CertificateSummary, String>,
    ),
    /// A root the anchors do not list (not expected: the verifier's store is the anchors),
    /// described here.
    Unlisted(CertificateDer<'static>),
}

impl Reviewed<'_> {
    fn der(&self) -> &CertificateDer<'static> {
        match self {
            Reviewed::Presented(der, _) | Reviewed::Root(der, _) => der,
            Reviewed::Unlisted(der) => der,
        }
    }
}

pub struct GatewayCertExpiryCheck;

impl DeclaredCheck for GatewayCertExpiryCheck {
    const META: CheckMeta = catalog::GATEWAY_CERT_EXPIRY;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let now = context.now;
        // Every distinct certificate sent on any port, then the root that anchors it. Ports
        // that presented the same chain (edgeHub's usual case) are looked at once: the same
        // chain gives the same certificates and the same root.
        let observations = prior.observations();
        let mut certificates: Vec<Reviewed<'_>> = Vec::new();
        for group in group_by_chain(&observations) {
            let Some(chain) = group[0].chain() else {
                continue;
            };
            for (der, summary) in chain.certificates.iter().zip(&chain.summaries) {
                if !certificates.iter().any(|known| known.der() == der) {
                    certificates.push(Reviewed::Presented(der, summary));
                }
            }
            if let Some(anchors) = prior.trust_anchors() {
                // Only which root anchors the chain matters here: the chain OpenSSL built
                // for the run's verdict (the same question gateway-cert-chain asks, so the
                // memo answers it once).
                let verdict = leaf_verdict(context, anchors, group[0]);
                let built = verdict
                    .as_ref()
                    .and_then(|verdict| verdict.openssl.as_ref().ok());
                // A link from the store is one of the anchors, described once per run.
                for link in built
                    .into_iter()
                    .flat_map(|verification| &verification.chain)
                    .filter(|link| link.from_trust_store)
                {
                    let index = anchors
                        .certificates
                        .iter()
                        .position(|anchor| *anchor == link.der);
                    let reviewed = match index.and_then(|index| {
                        Some((
                            &anchors.certificates[index],
                            anchors.summaries().get(index)?,
                        ))
                    }) {
                        Some((der, summary)) => Reviewed::Root(der, summary),
                        None => Reviewed::Unlisted(link.der.clone()),
                    };
                    if !certificates
                        .iter()
                        .any(|known| known.der() == reviewed.der())
                    {
                        certificates.push(reviewed);
                    }
                }
            }
        }

        let mut review = ExpiryReview::new(now, context.leaf.expiry_warning_days);
        for certificate in &certificates {
            match certificate {
                Reviewed::Presented(_, summary) => review.review_summary(
                    summary.as_ref().map_err(String::as_str),
                    "sent by the gateway",
                ),
                Reviewed::Root(_, summary) => {
                    review.review_summary(summary.as_ref().map_err(String::as_str), "root CA file")
                }
                Reviewed::Unlisted(der) => review.review(der, "root CA file"),
            }
        }
        let reviewed_any = review.reviewed_any();
        let (mut outcome, validities) = review.finish("certificates");
        if !reviewed_any && certificates.is_empty() {
            outcome.escalate(Status::Error);
            outcome.message = "the gateway presented no certificate".to_owned();
        }
        if outcome.status != Status::Ok {
            outcome.remedy = Some(
                    "renew the certificate(s) named: for the edgeHub server certificate restart IoT Edge (`sudo iotedge system restart`) so it is reissued; for the device CA, issue a new one (valid before 2038) and set it in [edge_ca] of /etc/aziot/config.toml, then `sudo iotedge config apply`; check this device's clock with `timedatectl`".to_owned(),
                );
        }
        Ok(clock_first(prior, outcome).info(ExpiryInfo {
            warning_days: context.leaf.expiry_warning_days,
            certificates: validities,
        }))
    }
}
