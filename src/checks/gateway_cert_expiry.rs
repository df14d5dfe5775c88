//! `gateway-cert-expiry`: no certificate the gateway presents (or the root that anchors it) is
//! expired, not yet valid, close to expiry, or past IoT Edge's 2038 limit.

use time::{Duration, OffsetDateTime, macros::datetime};

use crate::engine::{Check, CheckFuture, Context, Dependency, Group, Outcome, Prior, Status};
use crate::pki::describe::{describe, openssl_date};
use crate::pki::verify::build_chain;

use super::{CONNECT_CHECKS, group_by_chain};

/// libiothsm (IoT Edge 1.1's security daemon) stores validity as a 32-bit `time_t`: the
/// docs require certificates to expire before 2038-01-01.
pub(super) const IOTHSM_LIMIT: OffsetDateTime = datetime!(2038-01-01 00:00 UTC);

pub struct GatewayCertExpiryCheck;

const DEPENDENCIES: &[Dependency] = &[
    Dependency::RequiresAny(CONNECT_CHECKS),
    Dependency::Uses("root-ca-file"),
];

#[derive(serde::Serialize)]
struct Validity {
    subject: String,
    source: &'static str,
    not_before: String,
    not_after: String,
    not_after_unix: i64,
    days_left: i64,
    status: Status,
}

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
            let warn_within = Duration::days(i64::from(context.expiry_warning_days));
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

            let mut outcome = Outcome::ok(String::new());
            let mut problems = Vec::new();
            let mut validities = Vec::new();
            let mut earliest: Option<(OffsetDateTime, String)> = None;
            for (der, source) in &certificates {
                let summary = match describe(der) {
                    Ok(summary) => summary,
                    Err(error) => {
                        outcome.escalate(Status::Error);
                        problems.push(format!("a certificate ({source}) cannot be read: {error}"));
                        continue;
                    }
                };
                let subject = summary.subject.clone();
                let left = summary.not_after - now;
                let status = if summary.not_before > now {
                    problems.push(format!(
                        "`{subject}` is not valid until {} ({} from now): the certificate is too new or this device's clock is behind",
                        openssl_date(summary.not_before),
                        human_span(summary.not_before - now)
                    ));
                    Status::Error
                } else if summary.not_after < now {
                    problems.push(format!(
                        "`{subject}` expired on {} ({} ago)",
                        openssl_date(summary.not_after),
                        human_span(now - summary.not_after)
                    ));
                    Status::Error
                } else if summary.not_after >= IOTHSM_LIMIT {
                    problems.push(format!(
                        "`{subject}` expires on {}, on or after 2038-01-01, which IoT Edge's libiothsm cannot handle",
                        openssl_date(summary.not_after)
                    ));
                    Status::Error
                } else if left < warn_within {
                    problems.push(format!(
                        "`{subject}` expires in {} (on {})",
                        human_span(left),
                        openssl_date(summary.not_after)
                    ));
                    Status::Warning
                } else {
                    Status::Ok
                };
                outcome.escalate(status);
                outcome = outcome.detail(format!(
                    "`{subject}` ({source}): valid {} to {}",
                    openssl_date(summary.not_before),
                    openssl_date(summary.not_after)
                ));
                if earliest
                    .as_ref()
                    .is_none_or(|(when, _)| summary.not_after < *when)
                {
                    earliest = Some((summary.not_after, subject.clone()));
                }
                validities.push(Validity {
                    subject,
                    source,
                    not_before: openssl_date(summary.not_before),
                    not_after: openssl_date(summary.not_after),
                    not_after_unix: summary.not_after.unix_timestamp(),
                    days_left: left.whole_days(),
                    status,
                });
            }
            outcome.message = match (&earliest, problems.is_empty()) {
                (_, false) => problems.join("; "),
                (Some((when, subject)), true) => format!(
                    "all certificates are valid; the first to expire is `{subject}` in {} ({})",
                    human_span(*when - now),
                    openssl_date(*when)
                ),
                (None, true) => {
                    outcome.escalate(Status::Error);
                    "the gateway presented no certificate".to_owned()
                }
            };
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

/// "3 days", "5 hours", "2 years": the largest unit that is at least one.
pub fn human_span(span: Duration) -> String {
    let span = span.abs();
    let (value, unit) = if span.whole_days() >= 730 {
        (span.whole_days() / 365, "year")
    } else if span.whole_days() >= 60 {
        (span.whole_days() / 30, "month")
    } else if span.whole_days() >= 1 {
        (span.whole_days(), "day")
    } else if span.whole_hours() >= 1 {
        (span.whole_hours(), "hour")
    } else {
        (span.whole_minutes().max(1), "minute")
    };
    format!("{value} {unit}{}", if value == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(human_span(Duration::days(3)), "3 days");
        assert_eq!(human_span(Duration::hours(-5)), "5 hours");
        assert_eq!(human_span(Duration::days(800)), "2 years");
        assert_eq!(human_span(Duration::days(1)), "1 day");
        assert_eq!(human_span(Duration::seconds(10)), "1 minute");
    }
}
