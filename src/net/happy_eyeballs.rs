//! Racing the TCP connection over every address a name resolved to, the way device stacks do
//! (Happy Eyeballs version 2, RFC 8305): IPv6 first, the families interleaved (§4), the next
//! address started when the one before has not answered within the Connection Attempt Delay of
//! 250 ms (§5) or at once when it failed, the first connection to complete winning and the
//! others abandoned. Every attempt runs under the one deadline `--timeout` sets, so a
//! black-holed AAAA record can no longer use up the time of a working A record.
//!
//! It only connects: how each address ended (connected, refused, timed out, abandoned when
//! another won, never tried because the time ran out) is recorded for the observation; the
//! verdict on it is the checks'.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::observation::{Attempt, AttemptOutcome};
use super::tls::{ConnectError, classify_connect_error};

/// RFC 8305 §5: "the recommended value for the Connection Attempt Delay is 250 ms".
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The order addresses are tried in (RFC 8305 §4): the first IPv6 address, then the first
/// IPv4 one, alternating, each family keeping the order it was resolved in (hosts file order,
/// or the DNS answer's).
pub fn attempt_order(addresses: &[IpAddr]) -> Vec<IpAddr> {
    let mut unique: Vec<IpAddr> = Vec::with_capacity(addresses.len());
    for address in addresses {
        if !unique.contains(address) {
            unique.push(*address);
        }
    }
    let (mut v6, mut v4): (Vec<IpAddr>, Vec<IpAddr>) =
        unique.into_iter().partition(IpAddr::is_ipv6);
    v6.reverse();
    v4.reverse();
    let mut ordered = Vec::with_capacity(v6.len() + v4.len());
    loop {
        match (v6.pop(), v4.pop()) {
            (None, None) => return ordered,
            (first, second) => ordered.extend(first.into_iter().chain(second)),
        }
    }
}

/// A connected stream, the address that accepted it and how long the race took.
pub type Winner = (TcpStream, SocketAddr, Duration);

/// Races TCP connections to `addresses` on `port` (RFC 8305), all within `timeout`, recording
/// every address's outcome in `attempts`, in the order they were tried. The error, when no
/// address connected, is the last attempt's that failed (a timeout when every one timed out).
pub async fn race(
    addresses: &[IpAddr],
    port: u16,
    timeout: Duration,
    attempts: &mut Vec<Attempt>,
) -> Result<Winner, ConnectError> {
    let order: Vec<SocketAddr> = attempt_order(addresses)
        .into_iter()
        .map(|address| SocketAddr::new(address, port))
        .collect();
    let started = Instant::now();
    let deadline = started + timeout;
    let mut running = JoinSet::new();
    let mut task_index = HashMap::new();
    // One slot per address, filled as each ends; `None` until then.
    let mut outcomes: Vec<Option<(Duration, AttemptOutcome)>> = vec![None; order.len()];
    let mut started_at: Vec<Instant> = Vec::with_capacity(order.len());
    let mut next_start = started;
    let mut last_error = ConnectError::NoAddress;
    let mut winner = None;

    while winner.is_none() {
        let now = Instant::now();
        let more = started_at.len() < order.len() && now < deadline;
        if more && (running.is_empty() || now >= next_start) {
            let index = started_at.len();
            let endpoint = order[index];
            started_at.push(now);
            let handle = running.spawn(async move {
                let result =
                    match tokio::time::timeout_at(deadline, TcpStream::connect(endpoint)).await {
                        Ok(Ok(stream)) => Ok(stream),
                        Ok(Err(error)) => Err(classify_connect_error(&error, endpoint, timeout)),
                        Err(_) => Err(ConnectError::ConnectTimeout { endpoint, timeout }),
                    };
                (index, result)
            });
            task_index.insert(handle.id(), index);
            next_start = now + CONNECTION_ATTEMPT_DELAY;
            continue;
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            joined = running.join_next_with_id() => {
                let Some(joined) = joined else { break };
                let (index, result) = match joined {
                    Ok((_, ended)) => ended,
                    // A connect task does not panic; should one, its address failed.
                    Err(error) => {
                        let index = task_index.get(&error.id()).copied().unwrap_or_default();
                        let endpoint = order[index];
                        let detail = error.to_string();
                        (index, Err(ConnectError::ConnectFailed { endpoint, detail }))
                    }
                };
                let elapsed = started_at[index].elapsed();
                match result {
                    Ok(stream) => {
                        outcomes[index] = Some((elapsed, AttemptOutcome::Connected));
                        winner = Some((stream, order[index], started.elapsed()));
                    }
                    Err(error) => {
                        outcomes[index] = Some((elapsed, AttemptOutcome::Failed(error.clone())));
                        last_error = error;
                        // §5: a failed attempt starts the next one without waiting.
                        next_start = Instant::now();
                    }
                }
            }
            () = tokio::time::sleep_until(next_start), if more => {}
        }
    }
    // Dropping the set aborts the attempts still pending.
    running.abort_all();
    let winning_address = winner.as_ref().map(|(_, address, _)| *address);
    for (index, address) in order.iter().enumerate() {
        let (elapsed, outcome) = match (outcomes[index].take(), started_at.get(index)) {
            (Some(ended), _) => ended,
            (None, Some(at)) => (
                at.elapsed(),
                match winning_address {
                    Some(winner) => AttemptOutcome::Abandoned { winner },
                    None => AttemptOutcome::Failed(ConnectError::ConnectTimeout {
                        endpoint: *address,
                        timeout,
                    }),
                },
            ),
            (None, None) => (Duration::ZERO, AttemptOutcome::NotTried),
        };
        attempts.push(Attempt {
            address: *address,
            elapsed,
            outcome,
        });
    }
    match winner {
        Some(winner) => {
            let _ = winner.0.set_nodelay(true);
            Ok(winner)
        }
        None => Err(last_error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(list: &[&str]) -> Vec<IpAddr> {
        list.iter()
            .map(|address| address.parse().unwrap())
            .collect()
    }

    #[test]
    fn families_alternate_starting_with_ipv6() {
        let resolved = addresses(&["10.0.0.1", "10.0.0.2", "fd00::1", "10.0.0.3", "fd00::2"]);
        assert_eq!(
            attempt_order(&resolved),
            addresses(&["fd00::1", "10.0.0.1", "fd00::2", "10.0.0.2", "10.0.0.3"])
        );
        assert_eq!(
            attempt_order(&addresses(&["10.0.0.1", "10.0.0.1"])),
            addresses(&["10.0.0.1"])
        );
        assert!(attempt_order(&[]).is_empty());
    }

    #[tokio::test]
    async fn a_refused_address_starts_the_next_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // 127.0.0.2 is loopback too on Linux; nothing listens there on this port.
        let resolved = addresses(&["127.0.0.2", "127.0.0.1"]);
        let mut attempts = Vec::new();
        let (_, address, _) = race(&resolved, port, Duration::from_secs(5), &mut attempts)
            .await
            .unwrap();
        assert_eq!(address, SocketAddr::from(([127, 0, 0, 1], port)));
        assert_eq!(attempts.len(), 2);
        assert!(matches!(
            attempts[0].outcome,
            AttemptOutcome::Failed(ConnectError::Refused { .. })
        ));
        assert!(matches!(attempts[1].outcome, AttemptOutcome::Connected));
    }

    #[tokio::test]
    async fn no_address_is_an_error_without_attempts() {
        let mut attempts = Vec::new();
        let error = race(&[], 8883, Duration::from_secs(1), &mut attempts)
            .await
            .unwrap_err();
        assert_eq!(error, ConnectError::NoAddress);
        assert!(attempts.is_empty());
    }
}
