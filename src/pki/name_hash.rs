//! OpenSSL's subject-name hash (`X509_NAME_hash`, `openssl x509 -hash`): the name a hashed
//! certificate directory (`/etc/ssl/certs/<hash>.0`, what `openssl rehash` makes) files a
//! certificate under, and so the one name OpenSSL's by-directory lookup opens for a subject.
//!
//! The hash is over the name's canonical encoding, as crypto/x509/x_name.c (`x509_name_canon`,
//! `asn1_string_canon`, `i2d_name_canon`) makes it: every string value of the usual
//! DirectoryString types becomes a UTF8String, lower-cased in ASCII, without leading or trailing
//! white space and with inner runs of it folded to one space; each RDN is DER-encoded again as
//! a SET OF (so sorted after that change) and the RDNs are concatenated without the outer
//! SEQUENCE. `X509_NAME_hash_ex` takes the first four bytes of the SHA-1 of that, little-endian.

use x509_parser::x509::X509Name;

use super::name_constraints::canonical_name;

/// The hash OpenSSL files a certificate with this subject under, or `None` when OpenSSL could
/// not decode the name (a UTF8String that is not UTF-8, a BMPString of odd length, ...), so
/// that no hashed name can be worked out for it.
pub fn name_hash(name: &X509Name<'_>) -> Option<u32> {
    let canonical = canonical_name(name.as_raw())?;
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &canonical);
    let first: [u8; 4] = digest.as_ref().get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(first))
}

/// The file name prefix of a hashed directory entry: `%08lx` of [`name_hash`].
pub fn hash_file_stem(hash: u32) -> String {
    format!("{hash:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::name_constraints::tlv;
    use std::path::Path;
    use std::process::Command;
    use x509_parser::prelude::{FromDer, X509Certificate};

    /// CI must have what these tests compare against; elsewhere a missing tool skips.
    fn in_ci() -> bool {
        std::env::var("CI").as_deref() == Ok("true")
    }

    fn subject_hash(der: &[u8]) -> Option<u32> {
        let (_, certificate) = X509Certificate::from_der(der).ok()?;
        name_hash(certificate.subject())
    }

    /// Every `<hash>.N` entry of the system's hashed directory is named after its certificate's
    /// subject hash (`openssl rehash` named them): hundreds of real names, of every string type
    /// the public roots use.
    #[test]
    fn every_link_of_the_system_hashed_directory_bears_its_subject_hash() {
        let directory = Path::new("/etc/ssl/certs");
        let Ok(entries) = std::fs::read_dir(directory) else {
            assert!(
                !in_ci(),
                "{} is missing: install ca-certificates",
                directory.display()
            );
            eprintln!("skipped: {} is missing", directory.display());
            return;
        };
        let mut checked = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((stem, number)) = name.split_once('.') else {
                continue;
            };
            if stem.len() != 8 || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let certificates = crate::pki::load::load_certificates(&entry.path())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            let hash = subject_hash(&certificates[0]).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(hash_file_stem(hash), stem, "{name}");
            checked += 1;
        }
        assert!(
            checked > 0 || !in_ci(),
            "no <hash>.N entry in {}: run `openssl rehash`",
            directory.display()
        );
    }

    /// An attribute of the name: `oid` (the last arc of 2.5.4, `id-at`) and a string value.
    fn attribute(arc: u8, string_tag: u8, value: &[u8]) -> Vec<u8> {
        tlv(
            0x30,
            &[tlv(0x06, &[0x55, 0x04, arc]), tlv(string_tag, value)].concat(),
        )
    }

    const COMMON_NAME: u8 = 3;
    const ORGANIZATION: u8 = 10;
    const ORGANIZATIONAL_UNIT: u8 = 11;
    const UTF8: u8 = 0x0c;
    const PRINTABLE: u8 = 0x13;
    const BMP: u8 = 0x1e;

    /// A certificate made by rcgen with its subject replaced by `subject` (a whole Name): the
    /// signature no longer matches, which `openssl x509 -hash` does not look at.
    fn certificate_with_subject(subject: &[u8]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "placeholder subject");
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let (_, parsed) = X509Certificate::from_der(&der).unwrap();
        let old = parsed.subject().as_raw().to_vec();
        // Self-signed: the issuer comes first with the same bytes; the subject is the second.
        let first = der.windows(old.len()).position(|w| w == old).unwrap();
        let at = first
            + 1
            + der[first + 1..]
                .windows(old.len())
                .position(|w| w == old)
                .unwrap();
        let tbs = parsed.tbs_certificate.as_ref();
        let tbs_start = tbs.as_ptr() as usize - der.as_ptr() as usize;
        let tbs_header = tlv(0x30, tbs).len() - tbs.len();
        // Rebuild TBSCertificate and Certificate around the new subject.
        let tbs_content = [
            &der[tbs_start + tbs_header..at],
            subject,
            &der[at + old.len()..tbs_start + tbs.len()],
        ]
        .concat();
        let rest = &der[tbs_start + tbs.len()..];
        tlv(0x30, &[tlv(0x30, &tbs_content).as_slice(), rest].concat())
    }

    /// `openssl x509 -hash -noout` of `der`, when openssl is installed.
    fn openssl_hash(der: &[u8]) -> Option<String> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("certificate.der");
        std::fs::write(&path, der).unwrap();
        let output = Command::new("openssl")
            .args(["x509", "-inform", "DER", "-hash", "-noout", "-in"])
            .arg(&path)
            .output();
        match output {
            Ok(output) => {
                assert!(output.status.success(), "{output:?}");
                Some(String::from_utf8(output.stdout).unwrap().trim().to_owned())
            }
            Err(_) => {
                assert!(!in_ci(), "openssl is missing");
                None
            }
        }
    }

    #[test]
    fn names_hash_as_openssl_hashes_them() {
        let bmp: Vec<u8> = "Zürich  Ω"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty subject", tlv(0x30, &[])),
            (
                "upper case and runs of white space",
                tlv(
                    0x30,
                    &tlv(
                        0x31,
                        &attribute(COMMON_NAME, PRINTABLE, b"  Edge \t  GATEWAY\r\n CA  "),
                    ),
                ),
            ),
            (
                // Canonical order differs from the original one: PRINTABLE "a" sorted after
                // UTF8 "B" before (tag 0x13 > 0x0c), before it after (both UTF8, "a" < "b").
                "multi-valued RDN of mixed string types",
                tlv(
                    0x30,
                    &[
                        tlv(0x31, &attribute(ORGANIZATION, UTF8, b"Contoso")),
                        tlv(
                            0x31,
                            &[
                                attribute(ORGANIZATIONAL_UNIT, UTF8, b"B"),
                                attribute(ORGANIZATIONAL_UNIT, PRINTABLE, b"a"),
                                attribute(COMMON_NAME, UTF8, b"Leaf"),
                            ]
                            .concat(),
                        ),
                    ]
                    .concat(),
                ),
            ),
            (
                "BMPString and UTF8String beyond ASCII",
                tlv(
                    0x30,
                    &[
                        tlv(0x31, &attribute(ORGANIZATION, BMP, &bmp)),
                        tlv(0x31, &attribute(COMMON_NAME, UTF8, "ÉDGE Gerät".as_bytes())),
                    ]
                    .concat(),
                ),
            ),
        ];
        for (case, subject) in cases {
            let der = certificate_with_subject(&subject);
            let (_, name) = X509Name::from_der(&subject).unwrap();
            let ours = hash_file_stem(name_hash(&name).unwrap());
            assert_eq!(subject_hash(&der).map(hash_file_stem), Some(ours.clone()));
            if let Some(theirs) = openssl_hash(&der) {
                assert_eq!(ours, theirs, "{case}");
            }
        }
    }

    #[test]
    fn a_name_openssl_cannot_decode_has_no_hash() {
        for (tag, value) in [
            (UTF8, &[0xc3, 0x28][..]),
            (BMP, &[0x00][..]),
            (BMP, &[0xd8, 0x00]),
        ] {
            let subject = tlv(0x30, &tlv(0x31, &attribute(COMMON_NAME, tag, value)));
            let (_, name) = X509Name::from_der(&subject).unwrap();
            assert_eq!(name_hash(&name), None, "{value:?}");
        }
    }
}
