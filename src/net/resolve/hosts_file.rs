//! The hosts file (hosts(5)), parsed as glibc's `nss_files` reads it: the first step of
//! resolution that can answer for a name, and the one where a typo hides the gateway.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::Path;

use super::normalize;

/// A parsed hosts file: the usable lines, and the ones glibc would skip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsFile {
    pub entries: Vec<HostsEntry>,
    pub malformed: Vec<MalformedHostsLine>,
    /// The entries listing each name (canonical or alias, compared as [`normalize`] makes it),
    /// in file order: a fleet run looks up every gateway in a hosts file that may list all of
    /// them, and a scan per lookup made that quadratic.
    by_name: HashMap<String, Vec<usize>>,
}

/// One line of hosts(5): an address, its canonical name, then aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsEntry {
    pub line_number: usize,
    pub address: IpAddr,
    pub names: Vec<String>,
}

/// A line that is neither blank, a comment, nor `ADDRESS NAME [ALIAS...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedHostsLine {
    pub line_number: usize,
    pub text: String,
    pub reason: String,
}

impl HostsFile {
    /// Parses hosts(5) text: `#` starts a comment anywhere on a line, fields are separated by
    /// any run of blanks, and a line needs an address followed by at least one name.
    pub fn parse(text: &str) -> HostsFile {
        let mut hosts = HostsFile::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let content = line.split('#').next().unwrap_or_default();
            let mut fields = content.split_ascii_whitespace();
            let Some(address_text) = fields.next() else {
                continue;
            };
            let names: Vec<String> = fields.map(str::to_owned).collect();
            let reason = match address_text.parse::<IpAddr>() {
                Ok(address) if !names.is_empty() => {
                    for name in &names {
                        let listing = hosts.by_name.entry(normalize(name)).or_default();
                        if listing.last() != Some(&hosts.entries.len()) {
                            listing.push(hosts.entries.len());
                        }
                    }
                    hosts.entries.push(HostsEntry {
                        line_number,
                        address,
                        names,
                    });
                    continue;
                }
                Ok(_) => "no host name after the address".to_owned(),
                Err(_) => format!("`{address_text}` is not an IP address"),
            };
            hosts.malformed.push(MalformedHostsLine {
                line_number,
                text: line.trim().to_owned(),
                reason,
            });
        }
        hosts
    }

    /// Every address listed for `name` (canonical name or alias), in file order, without
    /// repeats; glibc returns them all since 2.26 made `multi on` the default.
    pub fn lookup(&self, name: &str) -> Vec<IpAddr> {
        let mut addresses = Vec::new();
        let listing = self.by_name.get(&normalize(name));
        for entry in listing
            .into_iter()
            .flatten()
            .filter_map(|index| self.entries.get(*index))
        {
            if !addresses.contains(&entry.address) {
                addresses.push(entry.address);
            }
        }
        addresses
    }

    /// One note naming the skipped lines, or `None` when every line was understood.
    pub(super) fn malformed_note(&self, path: &Path) -> Option<String> {
        const SHOWN: usize = 3;
        if self.malformed.is_empty() {
            return None;
        }
        let mut listed: Vec<String> = self
            .malformed
            .iter()
            .take(SHOWN)
            .map(|line| {
                format!(
                    "line {} `{}` ({})",
                    line.line_number, line.text, line.reason
                )
            })
            .collect();
        if self.malformed.len() > SHOWN {
            listed.push(format!("and {} more", self.malformed.len() - SHOWN));
        }
        let count = self.malformed.len();
        let lines = if count == 1 { "line" } else { "lines" };
        Some(format!(
            "skipped {count} malformed {lines} in {}: {}",
            path.display(),
            listed.join(", ")
        ))
    }
}

/// `Ok(None)` when the file does not exist: like glibc, a device without one just goes to DNS.
pub(super) async fn read_hosts_file(path: &Path) -> io::Result<Option<HostsFile>> {
    match tokio::fs::read(path).await {
        // Bytes, not UTF-8: glibc compares bytes, and a stray Latin-1 comment must not hide
        // the rest of the file.
        Ok(bytes) => Ok(Some(HostsFile::parse(&String::from_utf8_lossy(&bytes)))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // --- hosts file parsing ---

    #[test]
    fn lookups_in_a_large_file_find_every_line_of_a_name_in_file_order() {
        let mut text = String::new();
        for index in 0..1000 {
            text.push_str(&format!(
                "10.0.{}.{} gw-{index}.example.test\n",
                index / 250,
                index % 250
            ));
        }
        text.push_str("192.0.2.7 GW-7.Example.Test. gw-7-alias gw-7-alias\n");
        text.push_str("10.0.0.7 gw-7.example.test\n");
        let hosts = HostsFile::parse(&text);
        assert_eq!(
            hosts.lookup("gw-7.example.test."),
            ["10.0.0.7", "192.0.2.7"]
                .map(|address| address.parse::<IpAddr>().unwrap())
                .to_vec(),
            "both lines, in file order, the repeated address once"
        );
        assert_eq!(
            hosts.lookup("GW-7-ALIAS"),
            vec!["192.0.2.7".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            hosts.lookup("gw-999.example.test"),
            vec!["10.0.3.249".parse::<IpAddr>().unwrap()]
        );
        assert!(hosts.lookup("gw-1000.example.test").is_empty());
    }

    const HOSTS: &str = "\
# /etc/hosts on a leaf device
127.0.0.1\tlocalhost
192.0.2.50   Gateway.Contoso.Local   gateway  edge-gw # the transparent gateway

fd00::50 gateway.contoso.local
   # an indented comment
192.0.2.51\t \tgateway.contoso.local.
192.0.2.52gateway.contoso.local
192.0.2.53
300.1.2.3 gateway.contoso.local
192.0.2.50 gateway
";

    #[test]
    fn hosts_parser_collects_every_address_for_a_name_in_file_order() {
        let hosts = HostsFile::parse(HOSTS);
        let expected: Vec<IpAddr> = vec![
            "192.0.2.50".parse().unwrap(),
            "fd00::50".parse().unwrap(),
            "192.0.2.51".parse().unwrap(),
        ];
        assert_eq!(hosts.lookup("gateway.contoso.local"), expected);
        assert_eq!(
            hosts.lookup("GATEWAY.contoso.LOCAL."),
            expected,
            "case and root dot"
        );
    }

    #[test]
    fn hosts_parser_matches_aliases_and_ignores_comments() {
        let hosts = HostsFile::parse(HOSTS);
        let gateway: IpAddr = "192.0.2.50".parse().unwrap();
        assert_eq!(hosts.lookup("edge-gw"), vec![gateway]);
        assert_eq!(
            hosts.lookup("gateway"),
            vec![gateway],
            "repeated line adds no duplicate"
        );
        assert!(
            hosts.lookup("the").is_empty(),
            "words after `#` are not aliases"
        );
        assert!(hosts.lookup("transparent").is_empty());
        assert!(
            hosts.lookup("contoso.local").is_empty(),
            "no partial matches"
        );
    }

    #[test]
    fn hosts_parser_reports_malformed_lines_with_their_numbers() {
        let hosts = HostsFile::parse(HOSTS);
        let numbers: Vec<usize> = hosts
            .malformed
            .iter()
            .map(|line| line.line_number)
            .collect();
        assert_eq!(numbers, vec![8, 9, 10]);
        assert!(
            hosts.malformed[0]
                .reason
                .contains("192.0.2.52gateway.contoso.local")
        );
        assert!(hosts.malformed[1].reason.contains("no host name"));
        assert!(hosts.malformed[2].reason.contains("300.1.2.3"));

        let note = hosts
            .malformed_note(Path::new("/etc/hosts"))
            .expect("a note");
        assert!(
            note.starts_with("skipped 3 malformed lines in /etc/hosts"),
            "{note}"
        );
        assert!(
            note.contains("line 8 `192.0.2.52gateway.contoso.local`"),
            "{note}"
        );
    }

    #[test]
    fn hosts_parser_accepts_an_empty_or_comment_only_file() {
        for text in ["", "\n\n", "# nothing here\n   \t\n"] {
            let hosts = HostsFile::parse(text);
            assert!(
                hosts.entries.is_empty() && hosts.malformed.is_empty(),
                "{text:?}"
            );
            assert_eq!(hosts.malformed_note(Path::new("/etc/hosts")), None);
        }
    }
}
