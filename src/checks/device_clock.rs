//! `device-clock`: this device's clock against the gateway's (the HTTP `Date` header the HTTPS
//! port already sent, RFC 9110 §6.6.1) and, with `--ntp-server`, an NTP server's (SNTP,
//! RFC 4330). TLS judges certificates by the local clock, so a device whose clock is off sees
//! valid certificates as "not yet valid" or all "expired" at once, and IoT Hub rejects its SAS
//! tokens (their expiry is the device's clock plus the token lifetime). Over 5 minutes is a
//! warning, over a day an error. The checks whose findings a wrong clock explains lead their
//! remedy with the clock ([`clock_first`]).

use std::net::SocketAddr;

use time::{Duration, OffsetDateTime};

use super::catalog;
use crate::engine::info::DeviceClockInfo;
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Evidence, Outcome, Prior, Ran, Status, Timestamp,
};
use crate::net::Protocol;
use crate::net::probe::ProbeAnswer;
use crate::net::probe::http::parse_http_date;
use crate::net::sntp;

/// A skew up to this is normal drift between NTP-synchronized machines and an RTC.
const WARN_ABOVE: Duration = Duration::minutes(5);
/// Beyond this the clock was never set (no RTC battery, no NTP) or set by hand wrongly.
const ERROR_ABOVE: Duration = Duration::days(1);

/// The remedy for a wrong clock on this device.
const FIX_THE_CLOCK: &str = "set this device's clock: `timedatectl` shows it and whether NTP synchronizes it; `sudo timedatectl set-ntp true` turns on systemd-timesyncd (open UDP 123 to the NTP server, or set `NTP=` in /etc/systemd/timesyncd.conf to one the device can reach); devices without an RTC battery lose the time at every power cut";

pub struct DeviceClockCheck;

impl DeclaredCheck for DeviceClockCheck {
    const META: CheckMeta = catalog::DEVICE_CLOCK;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let now = context.now;
        let gateway_date = gateway_date(prior);
        let mut info = DeviceClockInfo {
            local_time: Timestamp(now),
            gateway_date: gateway_date.map(Timestamp),
            gateway_skew_seconds: gateway_date.map(|date| (now - date).whole_seconds()),
            ntp_server: context.ntp_server.clone(),
            ntp_skew_seconds: None,
            ntp_error: None,
        };
        let ntp = match &context.ntp_server {
            Some(server) => Some(ask_ntp(server, context).await),
            None => None,
        };
        let ntp_skew = match &ntp {
            Some(Ok(skew)) => Some(*skew),
            Some(Err(error)) => {
                info.ntp_error = Some(error.clone());
                None
            }
            None => None,
        };
        info.ntp_skew_seconds = ntp_skew.map(|skew| skew.as_seconds_f64());

        // The device is judged against NTP when it answered, else against the gateway.
        let (skew, reference) = match (ntp_skew, gateway_date, &context.ntp_server) {
            (Some(skew), _, Some(server)) => (skew, format!("NTP server {server}")),
            (None, Some(date), _) => (
                now - date,
                format!("the gateway's (HTTP Date: {})", http_date_text(date)),
            ),
            _ => {
                return Ok(match &info.ntp_error {
                    // Asked and not answered: unknown, which is never OK.
                    Some(error) => Outcome::warning(format!("the device clock could not be compared: {error}"))
                        .remedy("let this device reach the NTP server on UDP 123, or name one it can reach with --ntp-server")
                        .info(info),
                    None => Outcome::skipped(
                        "skipped because there is no clock to compare with: the HTTPS port sent no Date header (or was not reached) and no --ntp-server was given",
                    )
                    .info(info),
                });
            }
        };
        let mut outcome = judge(skew, &reference);
        if outcome.status != Status::Ok {
            outcome = outcome
                .remedy(FIX_THE_CLOCK)
                .evidence(Evidence::ClockSkew(skew));
        }
        // With NTP as the reference, the gateway's own clock can be the one that is off.
        if let (Some(ntp_skew), Some(date)) = (ntp_skew, gateway_date) {
            let gateway_lag = (now - date) - ntp_skew;
            if gateway_lag.abs() > WARN_ABOVE {
                outcome.escalate(Status::Warning);
                outcome = outcome.detail(format!(
                    "the gateway's clock is {} (HTTP Date: {}): on the gateway, check `timedatectl`; its certificates and tokens are judged by it",
                    describe_skew(-gateway_lag, "NTP's"),
                    http_date_text(date)
                ));
                if outcome.remedy.is_none() {
                    outcome = outcome.remedy("set the gateway's clock: `timedatectl` on the gateway, then `sudo timedatectl set-ntp true`");
                }
            } else {
                outcome = outcome.detail(format!(
                    "the gateway's clock agrees (HTTP Date: {})",
                    http_date_text(date)
                ));
            }
        }
        Ok(outcome.info(info))
    }
}

/// Ok, warning or error for `skew` (local minus `reference`), the value shown.
fn judge(skew: Duration, reference: &str) -> Outcome {
    let message = format!("this device's clock is {}", describe_skew(skew, reference));
    if skew.abs() > ERROR_ABOVE {
        Outcome::error(message)
    } else if skew.abs() > WARN_ABOVE {
        Outcome::warning(message)
    } else {
        Outcome::ok(message)
    }
}

/// "45 days ahead of X", "3 min 20 s behind X", "within 1 s of X".
fn describe_skew(skew: Duration, reference: &str) -> String {
    let size = skew.abs();
    if size < Duration::SECOND {
        return format!("within 1 s of {reference}");
    }
    let direction = if skew.is_positive() {
        "ahead of"
    } else {
        "behind"
    };
    format!("{} {direction} {reference}", describe_size(size))
}

/// Rounded to the unit shown: a Date header has whole seconds, so 45 days read as 44.9999.
fn describe_size(size: Duration) -> String {
    let seconds = size.as_seconds_f64();
    let (count, unit) = if size >= Duration::days(2) {
        (seconds / 86_400.0, "days")
    } else if size >= Duration::hours(2) {
        (seconds / 3_600.0, "hours")
    } else if size >= Duration::minutes(2) {
        (seconds / 60.0, "min")
    } else {
        (seconds, "s")
    };
    format!("{count:.0} {unit}")
}

fn http_date_text(date: OffsetDateTime) -> String {
    crate::net::probe::http::format_http_date(date)
}

/// The Date header of the HTTPS port's answer, when the port answered with one.
fn gateway_date(prior: &Prior) -> Option<OffsetDateTime> {
    let observations = prior.observations();
    let https = observations
        .iter()
        .find(|observation| observation.protocol == Protocol::Https)?;
    match https.session()?.answer.as_ref()? {
        Ok(ProbeAnswer::Https(probe)) => parse_http_date(probe.response.header("date")?),
        _ => None,
    }
}

/// `--ntp-server HOST[:PORT]`: resolved by the system resolver, asked once (SNTP), the
/// device's lead over it returned.
async fn ask_ntp(server: &str, context: &Context) -> Result<Duration, String> {
    let target = ntp_target(server);
    let address = tokio::time::timeout(
        context.leaf.timeout,
        tokio::net::lookup_host(target.clone()),
    )
    .await
    .map_err(|_| format!("NTP server `{server}` did not resolve within the timeout"))?
    .map_err(|error| format!("NTP server `{server}` does not resolve: {error}"))?
    .next()
    .ok_or_else(|| format!("NTP server `{server}` resolves to no address"))?;
    sntp::query(address, context.leaf.timeout)
        .await
        .map(|answer| answer.offset)
        .map_err(|error| error.to_string())
}

/// `HOST[:PORT]`, `IP`, `[IPv6]:PORT` as `lookup_host` takes it, port 123 when none is given.
fn ntp_target(server: &str) -> String {
    let server = server.trim();
    if server.parse::<SocketAddr>().is_ok() {
        return server.to_owned();
    }
    let bare = server.trim_start_matches('[').trim_end_matches(']');
    if let Ok(std::net::IpAddr::V6(address)) = bare.parse() {
        return format!("[{address}]:123");
    }
    match server.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => server.to_owned(),
        _ => format!("{server}:123"),
    }
}

/// `outcome` with its remedy led by the clock when `device-clock` found it off: a wrong clock
/// makes valid certificates look expired or not yet valid, so renewing them fixes nothing.
pub(super) fn clock_first(prior: &Prior, outcome: Outcome) -> Outcome {
    lead_with_clock(prior, outcome, |ahead| {
        let looks = if ahead { "expired" } else { "not yet valid" };
        format!("makes valid certificates look {looks}")
    })
}

/// [`clock_first`] for a refused SAS token (CONNACK 4, CBS 401): its expiry is signed from the
/// device clock, so a clock that is off makes the gateway take a good key's token as expired
/// (or not yet valid), and a new key fixes nothing.
pub(super) fn token_clock_first(prior: &Prior, outcome: Outcome) -> Outcome {
    lead_with_clock(prior, outcome, |ahead| {
        if ahead {
            "signs SAS tokens whose expiry lies further ahead than the gateway allows, however right the key".to_owned()
        } else {
            "signs SAS tokens that have already expired by the gateway's clock, however right the key".to_owned()
        }
    })
}

fn lead_with_clock(
    prior: &Prior,
    mut outcome: Outcome,
    effect: impl Fn(bool) -> String,
) -> Outcome {
    let Some(skew) = prior.clock_skew() else {
        return outcome;
    };
    if !matches!(outcome.status, Status::Warning | Status::Error) {
        return outcome;
    }
    let lead = format!(
        "first fix the clock: this device's clock is {} (see device-clock), which {}; `timedatectl` shows it, `sudo timedatectl set-ntp true` synchronizes it; then check again",
        describe_skew(skew, "the reference"),
        effect(skew.is_positive())
    );
    outcome.remedy = Some(match outcome.remedy.take() {
        Some(remedy) => format!("{lead}. Only if the clock is right: {remedy}"),
        None => lead,
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_five_minutes_and_a_day() {
        let status = |skew: Duration| judge(skew, "X").status;
        assert_eq!(status(Duration::minutes(4)), Status::Ok);
        assert_eq!(status(Duration::minutes(-6)), Status::Warning);
        assert_eq!(status(Duration::hours(23)), Status::Warning);
        assert_eq!(status(Duration::days(45)), Status::Error);
        assert_eq!(status(Duration::days(-400)), Status::Error);
        assert_eq!(
            judge(Duration::days(45), "NTP server n").message,
            "this device's clock is 45 days ahead of NTP server n"
        );
        assert_eq!(
            describe_skew(Duration::seconds(-200), "X"),
            "3 min behind X"
        );
    }

    #[test]
    fn ntp_servers_default_to_port_123() {
        for (given, target) in [
            ("pool.ntp.org", "pool.ntp.org:123"),
            ("127.0.0.1:10123", "127.0.0.1:10123"),
            ("fd00::7", "[fd00::7]:123"),
            ("[fd00::7]:124", "[fd00::7]:124"),
            ("ntp.local:5123", "ntp.local:5123"),
        ] {
            assert_eq!(ntp_target(given), target, "--ntp-server {given}");
        }
    }

    #[test]
    fn remedies_lead_with_the_clock_only_when_it_is_off() {
        let failing = || Outcome::error("expired").remedy("renew it");
        let off = Prior::from_outcomes([(
            "device-clock",
            Outcome::error("off").evidence(Evidence::ClockSkew(Duration::days(-400))),
        )]);
        let remedy = clock_first(&off, failing()).remedy.unwrap();
        assert!(remedy.starts_with("first fix the clock"), "{remedy}");
        assert!(
            remedy.contains("400 days behind") && remedy.contains("not yet valid"),
            "{remedy}"
        );
        assert!(
            remedy.ends_with("Only if the clock is right: renew it"),
            "{remedy}"
        );
        let fine = Prior::from_outcomes([("device-clock", Outcome::ok("fine"))]);
        assert_eq!(
            clock_first(&fine, failing()).remedy.as_deref(),
            Some("renew it")
        );
        assert_eq!(clock_first(&off, Outcome::ok("valid")).remedy, None);
    }
}
