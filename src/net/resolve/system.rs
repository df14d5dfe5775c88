//! The system resolver: getaddrinfo(3), what device SDKs call (through their TLS or socket
//! library). It follows `/etc/nsswitch.conf`'s `hosts:` line, so it may answer from sources
//! edgeprobe's own lookup (the hosts file, then DNS) does not read: mDNS for `.local` names
//! (nss-mdns), systemd-resolved, LDAP, or another hosts file order. Asked only to compare.

use std::net::IpAddr;
use std::time::Duration;

/// The addresses getaddrinfo gives for `name`, each once, in its order (RFC 6724 sorted), or
/// why it gave none, within `timeout`.
pub async fn system_lookup(name: &str, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    let name = name.trim().trim_end_matches('.');
    let lookup = tokio::net::lookup_host((name, 0));
    let found = tokio::time::timeout(timeout, lookup)
        .await
        .map_err(|_| {
            format!(
                "no answer within {}",
                super::super::tls::format_duration(timeout)
            )
        })?
        .map_err(|error| error.to_string())?;
    let mut addresses: Vec<IpAddr> = Vec::new();
    for address in found {
        if !addresses.contains(&address.ip()) {
            addresses.push(address.ip());
        }
    }
    if addresses.is_empty() {
        return Err("no address".to_owned());
    }
    Ok(addresses)
}

/// Whether two answers hold the same addresses, whatever their order (getaddrinfo sorts by
/// RFC 6724, the hosts file keeps file order).
pub fn same_addresses(left: &[IpAddr], right: &[IpAddr]) -> bool {
    left.iter().all(|address| right.contains(address))
        && right.iter().all(|address| left.contains(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn localhost_resolves_on_loopback() {
        let addresses = system_lookup("localhost", Duration::from_secs(5))
            .await
            .unwrap();
        assert!(addresses.iter().all(IpAddr::is_loopback), "{addresses:?}");
    }

    #[test]
    fn order_does_not_matter() {
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "::1".parse().unwrap();
        assert!(same_addresses(&[a, b], &[b, a]));
        assert!(!same_addresses(&[a], &[a, b]));
    }
}
