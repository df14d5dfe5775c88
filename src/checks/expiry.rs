//! The validity review shared by `gateway-cert-expiry` (what a gateway presents to leaves) and
//! `certificates-expiry` (what a gateway is configured with): one judgement of each
//! certificate's dates, the 2038 limit and the warning window, used by both suites.

use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

pub use crate::engine::info::Validity;
use crate::engine::{Outcome, Status, Timestamp};
use crate::pki::IOTHSM_LIMIT;
use crate::pki::describe::{CertificateSummary, describe, openssl_date};

/// What a certificate ending on or after 2038-01-01 means, by who will read it. IoT Edge 1.1's
/// libiothsm cannot represent such a date (Azure/iotedge issue 5395); 1.2+ no longer uses
/// libiothsm, but a 32-bit `time_t` (the 2038 overflow) and older TLS stacks on leaves still
/// misread it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Year2038 {
    /// IoT Edge 1.1 (`config.yaml`): libiothsm fails, an error.
    Libiothsm,
    /// IoT Edge 1.2+ (`config.toml`): a warning for what can still break.
    TimeT,
    /// The gateway's version is unknown (a leaf): an error, naming both.
    Unknown,
}

/// Reviews certificates one by one against a clock and a warning window.
pub struct ExpiryReview {
    now: OffsetDateTime,
    warn_within: Duration,
    year_2038: Year2038,
    status: Status,
    problems: Vec<String>,
    details: Vec<String>,
    validities: Vec<Validity>,
    earliest: Option<(OffsetDateTime, String)>,
    /// A certificate close to expiry was issued for exactly certGen.sh's default 30 days.
    certgen_lifetime: bool,
}

/// How long `certGen.sh` makes every certificate unless `DEFAULT_VALIDITY_DAYS` says otherwise
/// (Azure/iotedge `tools/CACertificates/certGen.sh`: `days_till_expire=${DEFAULT_VALIDITY_DAYS:=30}`).
const CERTGEN_DEFAULT_DAYS: i64 = 30;

impl ExpiryReview {
    pub fn new(now: OffsetDateTime, warning_days: u32) -> Self {
        ExpiryReview {
            now,
            warn_within: Duration::days(i64::from(warning_days)),
            year_2038: Year2038::Unknown,
            status: Status::Ok,
            problems: Vec::new(),
            details: Vec::new(),
            validities: Vec::new(),
            earliest: None,
            certgen_lifetime: false,
        }
    }

    /// How to weigh the 2038 limit (the default is [`Year2038::Unknown`]).
    pub fn year_2038(mut self, year_2038: Year2038) -> Self {
        self.year_2038 = year_2038;
        self
    }

    /// Judge one certificate; `source` says where it came from ("sent by the gateway").
    pub fn review(&mut self, der: &CertificateDer<'_>, source: &str) {
        match describe(der) {
            Ok(summary) => self.review_summary(Ok(&summary), source),
            Err(error) => self.review_summary(Err(&error.to_string()), source),
        }
    }

    /// [`ExpiryReview::review`] for a certificate already described (or why it could not be).
    pub fn review_summary(&mut self, summary: Result<&CertificateSummary, &str>, source: &str) {
        let now = self.now;
        let summary = match summary {
            Ok(summary) => summary,
            Err(error) => {
                self.status = self.status.max(Status::Error);
                self.problems
                    .push(format!("a certificate ({source}) cannot be read: {error}"));
                return;
            }
        };
        let subject = summary.subject.clone();
        let left = summary.not_after - now;
        let (status, problem) = if summary.not_before > now {
            let problem = format!(
                "`{subject}` ({source}) is not valid until {} ({} from now): it was issued with a future start, or this machine's clock is behind",
                openssl_date(summary.not_before),
                human_span(summary.not_before - now)
            );
            (Status::Error, Some(problem))
        } else if summary.not_after < now {
            let problem = format!(
                "`{subject}` ({source}) expired on {} ({} ago)",
                openssl_date(summary.not_after),
                human_span(now - summary.not_after)
            );
            (Status::Error, Some(problem))
        } else if summary.not_after >= IOTHSM_LIMIT {
            let ends = format!(
                "`{subject}` ({source}) expires on {}, on or after 2038-01-01",
                openssl_date(summary.not_after)
            );
            match self.year_2038 {
                Year2038::Libiothsm => (
                    Status::Error,
                    Some(format!(
                        "{ends}, which IoT Edge 1.1's libiothsm cannot handle"
                    )),
                ),
                Year2038::TimeT => (
                    Status::Warning,
                    Some(format!(
                        "{ends}: IoT Edge 1.2+ accepts it, but devices with a 32-bit time_t and older TLS stacks on leaves may misread or reject dates past 2038"
                    )),
                ),
                Year2038::Unknown => (
                    Status::Error,
                    Some(format!(
                        "{ends}: an IoT Edge 1.1 gateway's libiothsm cannot handle it, and devices with a 32-bit time_t misread it"
                    )),
                ),
            }
        } else if left < self.warn_within {
            let problem = format!(
                "`{subject}` ({source}) expires in {} (on {})",
                human_span(left),
                openssl_date(summary.not_after)
            );
            if (summary.not_after - summary.not_before).whole_days() == CERTGEN_DEFAULT_DAYS {
                self.certgen_lifetime = true;
            }
            (Status::Warning, Some(problem))
        } else {
            (Status::Ok, None)
        };
        self.status = self.status.max(status);
        self.problems.extend(problem);
        self.details.push(format!(
            "`{subject}` ({source}): valid {} to {}",
            openssl_date(summary.not_before),
            openssl_date(summary.not_after)
        ));
        if self
            .earliest
            .as_ref()
            .is_none_or(|(when, _)| summary.not_after < *when)
        {
            self.earliest = Some((summary.not_after, subject.clone()));
        }
        self.validities.push(Validity {
            subject,
            source: source.to_owned(),
            not_before: Timestamp(summary.not_before),
            not_after: Timestamp(summary.not_after),
            not_after_unix: summary.not_after.unix_timestamp(),
            sha256: summary.sha256_fingerprint.clone(),
            days_left: left.whole_days(),
            status,
        });
    }

    /// Whether any certificate could be read.
    pub fn reviewed_any(&self) -> bool {
        !self.validities.is_empty()
    }

    /// The outcome (status, the problems or the first expiry as the message, one detail per
    /// certificate) and the per-certificate data for JSON. `what` names the set reviewed.
    pub fn finish(self, what: &str) -> (Outcome, Vec<Validity>) {
        let mut problems = self.problems;
        if self.certgen_lifetime {
            problems.push(format!(
                "certGen.sh's test certificates last {CERTGEN_DEFAULT_DAYS} days, so they warn from the first day: for longer ones, run certGen.sh again with DEFAULT_VALIDITY_DAYS set (e.g. `DEFAULT_VALIDITY_DAYS=365 ./certGen.sh create_root_and_intermediate`, then `DEFAULT_VALIDITY_DAYS=365 ./certGen.sh create_edge_device_ca_certificate <name>`), or lower the threshold with --expiry-warning-days"
            ));
        }
        let message = match (&self.earliest, problems.as_slice()) {
            (_, [only]) => only.clone(),
            // One certificate per line: four on one line are unreadable.
            (_, [_, ..]) => problems.join("\n"),
            (Some((when, subject)), []) => format!(
                "all {what} are valid; the first to expire is `{subject}` in {} ({})",
                human_span(*when - self.now),
                openssl_date(*when)
            ),
            (None, []) => format!("no {what} to check"),
        };
        let mut outcome = Outcome::ok(message).details(self.details);
        outcome.escalate(self.status);
        (outcome, self.validities)
    }
}

/// "3 days", "5 hours", "2 years": the largest unit that is at least one.
pub fn human_span(span: Duration) -> String {
    let span = span.abs();
    let (value, unit) = if span.whole_days() >= 730 {
        (span.whole_days() / 365, "year")
    } else if span.whole_days() >= 60 {
        (span.whole_days() / 30, "month")
    } else if span.whole_days() == 1 && span.whole_hours() > 24 {
        // "1 day" for 47 hours would be off by almost a whole day.
        let hours = span.whole_hours() - 24;
        return format!("1 day {hours} hour{}", if hours == 1 { "" } else { "s" });
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
        assert_eq!(human_span(Duration::hours(47)), "1 day 23 hours");
        assert_eq!(human_span(Duration::hours(25)), "1 day 1 hour");
        assert_eq!(human_span(Duration::hours(48)), "2 days");
    }
}
