//! Hosts-file parsing, host name validation and certificate name matching: no panic.
#![no_main]

use edgeprobe::hostname::validate_hostname;
use edgeprobe::net::resolve::HostsFile;
use edgeprobe::pki::host_match::{dns_name_matches, match_server_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let hosts = HostsFile::parse(text);
    let _ = hosts.lookup("gw.contoso.com");
    let (pattern, host) = text.split_once('\n').unwrap_or((text, "gw.contoso.com"));
    let _ = dns_name_matches(pattern, host);
    if let Ok(name) = validate_hostname(host) {
        let _ = match_server_name(&name, &[pattern.to_owned()], &[], &[pattern.to_owned()]);
    }
});
