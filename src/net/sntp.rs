//! One SNTP exchange (RFC 4330, SNTPv4 over UDP port 123): how far this device's clock is from
//! an NTP server's. The request carries the local transmit time; the server's answer its
//! receive and transmit times; with the local arrival time the offset is
//! `((T2 - T1) + (T3 - T4)) / 2` and the round trip `(T4 - T1) - (T3 - T2)` (§5). Answers
//! that RFC 4330 §5 says to discard (wrong mode, stratum 0 "kiss-o'-death", an unsynchronized
//! server, a reply to another request) are errors naming why.
//!
//! This is the one place besides the run's start that reads the local clock: measuring it is
//! the point. The deadline bounds the whole exchange.

use std::net::SocketAddr;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::net::UdpSocket;

use super::tls::format_duration;

/// Seconds from the NTP era 0 (1900-01-01) to the Unix epoch (RFC 868).
const NTP_UNIX_OFFSET: i128 = 2_208_988_800;

/// What one exchange measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SntpAnswer {
    /// Local clock minus the server's: positive when this device is ahead.
    pub offset: time::Duration,
    pub round_trip: Duration,
    pub stratum: u8,
}

/// Why no usable answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SntpError {
    #[error("cannot ask NTP server {server}: {detail}")]
    Socket { server: SocketAddr, detail: String },
    #[error("NTP server {server} sent no answer within {}: UDP port 123 may be blocked", format_duration(*timeout))]
    Timeout {
        server: SocketAddr,
        timeout: Duration,
    },
    #[error("NTP server {server} sent an answer RFC 4330 says to discard: {problem}")]
    Unusable { server: SocketAddr, problem: String },
}

/// An NTP timestamp (RFC 4330 §3: seconds since 1900 and a 32-bit fraction) as a time.
fn from_ntp(bytes: [u8; 8]) -> OffsetDateTime {
    let seconds = i128::from(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
    let fraction = i128::from(u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]));
    let nanos = (seconds - NTP_UNIX_OFFSET) * 1_000_000_000 + ((fraction * 1_000_000_000) >> 32);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A time as an NTP timestamp (era 0, which runs until 2036).
fn to_ntp(moment: OffsetDateTime) -> [u8; 8] {
    let nanos = moment.unix_timestamp_nanos();
    let seconds = nanos.div_euclid(1_000_000_000) + NTP_UNIX_OFFSET;
    let fraction = (nanos.rem_euclid(1_000_000_000) << 32) / 1_000_000_000;
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&(seconds as u32).to_be_bytes());
    bytes[4..].copy_from_slice(&(fraction as u32).to_be_bytes());
    bytes
}

/// The 48-byte client request: LI 0, version 4, mode 3 (client), the transmit time set.
pub fn request(transmit: OffsetDateTime) -> [u8; 48] {
    let mut packet = [0u8; 48];
    packet[0] = (4 << 3) | 3;
    packet[40..48].copy_from_slice(&to_ntp(transmit));
    packet
}

/// Judges a server's reply to the request sent with `sent` (its transmit field, as the server
/// echoes it back in Originate), received at `arrived`.
pub fn judge(reply: &[u8], sent: [u8; 8], arrived: OffsetDateTime) -> Result<SntpAnswer, String> {
    if reply.len() < 48 {
        return Err(format!("{} bytes, less than an NTP header", reply.len()));
    }
    let leap = reply[0] >> 6;
    let mode = reply[0] & 0x07;
    let stratum = reply[1];
    let field = |at: usize| -> [u8; 8] {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&reply[at..at + 8]);
        bytes
    };
    if mode != 4 {
        return Err(format!("mode {mode}, not 4 (server)"));
    }
    if stratum == 0 {
        let code = String::from_utf8_lossy(&reply[12..16]).into_owned();
        return Err(format!("stratum 0, kiss-o'-death `{code}`"));
    }
    if leap == 3 {
        return Err("leap indicator 3: the server's own clock is not synchronized".to_owned());
    }
    if field(24) != sent {
        return Err("its Originate Timestamp is not this request's".to_owned());
    }
    if field(40) == [0; 8] {
        return Err("a zero Transmit Timestamp".to_owned());
    }
    let (t1, t2, t3, t4) = (
        from_ntp(sent),
        from_ntp(field(32)),
        from_ntp(field(40)),
        arrived,
    );
    // RFC 4330 §5: offset = ((T2 - T1) + (T3 - T4)) / 2; positive means the server is ahead,
    // so this device's lead is its negation.
    let server_lead: time::Duration = ((t2 - t1) + (t3 - t4)) / 2;
    let round_trip = ((t4 - t1) - (t3 - t2)).max(time::Duration::ZERO);
    Ok(SntpAnswer {
        offset: -server_lead,
        round_trip: round_trip.try_into().unwrap_or_default(),
        stratum,
    })
}

/// Asks `server` once, within `timeout`.
pub async fn query(server: SocketAddr, timeout: Duration) -> Result<SntpAnswer, SntpError> {
    let socket_error = |error: std::io::Error| SntpError::Socket {
        server,
        detail: error.to_string(),
    };
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let exchange = async {
        let socket = UdpSocket::bind(local).await.map_err(socket_error)?;
        socket.connect(server).await.map_err(socket_error)?;
        let packet = request(OffsetDateTime::now_utc());
        let mut sent = [0u8; 8];
        sent.copy_from_slice(&packet[40..48]);
        socket.send(&packet).await.map_err(socket_error)?;
        let mut buffer = [0u8; 512];
        loop {
            let length = socket.recv(&mut buffer).await.map_err(socket_error)?;
            let arrived = OffsetDateTime::now_utc();
            match judge(&buffer[..length], sent, arrived) {
                Ok(answer) => return Ok(answer),
                // A stray datagram for an earlier request: keep waiting for ours.
                Err(problem) if problem.contains("Originate") => continue,
                Err(problem) => return Err(SntpError::Unusable { server, problem }),
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(SntpError::Timeout { server, timeout }))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// A server reply as RFC 4330 §4 lays it out.
    fn reply(originate: [u8; 8], receive: OffsetDateTime, transmit: OffsetDateTime) -> Vec<u8> {
        let mut packet = vec![0u8; 48];
        packet[0] = (4 << 3) | 4;
        packet[1] = 2;
        packet[24..32].copy_from_slice(&originate);
        packet[32..40].copy_from_slice(&to_ntp(receive));
        packet[40..48].copy_from_slice(&to_ntp(transmit));
        packet
    }

    #[test]
    fn timestamps_round_trip_through_the_ntp_format() {
        let moment = datetime!(2026-12-01 09:30:15.25 UTC);
        assert_eq!(from_ntp(to_ntp(moment)), moment);
    }

    #[test]
    fn a_device_45_days_ahead_measures_45_days() {
        let device = datetime!(2027-01-15 10:00:00 UTC);
        let server = device - time::Duration::days(45);
        let sent = to_ntp(device);
        let answer = judge(
            &reply(
                sent,
                server + time::Duration::milliseconds(5),
                server + time::Duration::milliseconds(6),
            ),
            sent,
            device + time::Duration::milliseconds(10),
        )
        .unwrap();
        let offset = answer.offset - time::Duration::days(45);
        assert!(offset.abs() < time::Duration::milliseconds(10), "{offset}");
        assert_eq!(answer.round_trip, Duration::from_millis(9));
    }

    #[test]
    fn discarded_answers_say_why() {
        let now = datetime!(2026-12-01 09:30:00 UTC);
        let sent = to_ntp(now);
        let mut kiss = reply(sent, now, now);
        kiss[1] = 0;
        kiss[12..16].copy_from_slice(b"RATE");
        assert!(judge(&kiss, sent, now).unwrap_err().contains("`RATE`"));
        let mut unsynchronized = reply(sent, now, now);
        unsynchronized[0] |= 3 << 6;
        assert!(
            judge(&unsynchronized, sent, now)
                .unwrap_err()
                .contains("leap")
        );
        let other = reply(to_ntp(now + time::Duration::SECOND), now, now);
        assert!(judge(&other, sent, now).unwrap_err().contains("Originate"));
        assert!(judge(&[0u8; 12], sent, now).is_err());
    }
}
