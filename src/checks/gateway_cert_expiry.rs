//! `gateway-cert-expiry`: no certificate the gateway presents (or the root that anchors it) is
//! expired, not yet valid, close to expiry, or past IoT Edge's 2038 limit.

use crate::engine::{Check, CheckFuture, Context, Dependency, Group, Prior, Status};
use crate::pki::verify::build_chain;

use super::expiry::ExpiryReview;
use super::{CONNECT_CHECKS, group_by_chain};

pub struct GatewayCertExpiryCheck;

const DEPENDENCIES: &[Dependency] = &[
    Dependency::RequiresAny(CONNECT_CHECKS),
    Dependency::Uses("root-ca-file"),
];

impl Check for GatewayCertExpiryCheck {
    fn id(&self) -> &'static str {
        "gateway-cert-expiry"
    }
    fn group(&self) -> Group {
        Group::GatewayConnectivity
    }
    fn description(&self) -> &'static str {
        "gateway certificates are valid and not close to expiry"
    }
    fn dependencies(&self) -> &'static [Dependency] {
        DEPENDENCIES
    }
    fn run<'a>(&'a self, context: &'a Context, prior: &'a Prior) -> CheckFuture<'a> {
        Box::pin(async move {
            let now = context.now;
            // Every distinct certificate sent on any port, then the root that anchors it. Ports
            // that presented the same chain (edgeHub's usual case) are looked at once: the same
            // chain gives the same certificates and the same root.
            let mut certificates = Vec::new();
            for group in group_by_chain(&prior.handshakes()) {
                let handshake = group[0];
                for der in &handshake.chain {
                    if !certificates.iter().any(|(known, _)| known == der) {
                        certificates.push((der.clone(), "sent by the gateway"));
                    }
                }
                if let Some(anchors) = prior.trust_anchors() {
                    // Only which root anchors the chain matters here: the chain as OpenSSL
                    // builds it, without re-checking signatures (gateway-cert-chain does).
                    if let Ok(chain) = build_chain(&handshake.chain, &anchors.certificates, now) {
                        for link in chain.iter().filter(|link| link.from_trust_store) {
                            if !certificates.iter().any(|(known, _)| known == &link.der) {
                                certificates.push((link.der.clone(), "root CA file"));
                            }
                        }
                    }
                }
            }

            let mut review = ExpiryReview::new(now, context.expiry_warning_days);
            for (der, source) in &certificates {
                review.review(der, source);
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
            outcome.info(&serde_json::json!({
                "warning_days": context.expiry_warning_days,
                "certificates": validities,
            }))
        })
    }
}
