//! Every certificate edgeprobe generates is DER, not merely BER that lenient parsers accept.
//!
//! DER (X.690 section 10 and 11) gives every value exactly one encoding; in particular a
//! SEQUENCE component equal to its DEFAULT must be left out (section 11.5). rcgen before 0.14.10
//! wrote basicConstraints `cA` FALSE explicitly, which OpenSSL, x509-parser and webpki all
//! accept but strict parsers (Python's `cryptography`, mozilla::pkix in its day, zlint) reject.
//! So the check here is a round trip through a strict DER codec (RustCrypto's `der`, through
//! `x509-cert`): decode, encode again, and demand the very same bytes, for the certificate and
//! for the value of every extension the codec knows. A default written out decodes fine but is
//! dropped when encoding again, so the bytes differ.

use std::path::{Path, PathBuf};

use edgeprobe::demo::pki::{GatewayPki, Validity, unrelated_root_ca};
use edgeprobe::demo::scenario::{Scenario, prepare};
use edgeprobe::pki::load::{load_certificates, parse_certificates};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::der::oid::{AssociatedOid, ObjectIdentifier};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, NameConstraints,
    SubjectAltName, SubjectKeyIdentifier,
};

use crate::harness::assert_contains;

/// Why `bytes` is not the DER encoding of a `T`, if it is not.
fn round_trip<T>(bytes: &[u8]) -> Result<T, String>
where
    T: for<'a> Decode<'a> + Encode,
{
    let value = T::from_der(bytes).map_err(|error| format!("does not decode as DER: {error}"))?;
    let again = value
        .to_der()
        .map_err(|error| format!("does not encode again: {error}"))?;
    if again != bytes {
        return Err(format!(
            "is BER but not DER: it re-encodes as {} instead of {}",
            hex(&again),
            hex(bytes)
        ));
    }
    Ok(value)
}

/// Why an extension value is not DER, if it is not.
type ExtensionCheck = fn(&[u8]) -> Result<(), String>;

/// [`round_trip`] for a value whose decoded form is not needed.
fn is_der<T>(bytes: &[u8]) -> Result<(), String>
where
    T: for<'a> Decode<'a> + Encode,
{
    round_trip::<T>(bytes).map(drop)
}

/// The same round trip for an extension value, by its OID; unknown extensions pass (the
/// certificate round trip has still checked their framing).
fn extension_problem(oid: &ObjectIdentifier, value: &[u8]) -> Result<(), String> {
    let known: [(ObjectIdentifier, ExtensionCheck); 7] = [
        (BasicConstraints::OID, is_der::<BasicConstraints>),
        (KeyUsage::OID, is_der::<KeyUsage>),
        (ExtendedKeyUsage::OID, is_der::<ExtendedKeyUsage>),
        (SubjectAltName::OID, is_der::<SubjectAltName>),
        (SubjectKeyIdentifier::OID, is_der::<SubjectKeyIdentifier>),
        (
            AuthorityKeyIdentifier::OID,
            is_der::<AuthorityKeyIdentifier>,
        ),
        (NameConstraints::OID, is_der::<NameConstraints>),
    ];
    match known.iter().find(|(known_oid, _)| known_oid == oid) {
        Some((_, check)) => check(value),
        None => Ok(()),
    }
}

/// Why `der` is not a strictly DER-encoded certificate, if it is not.
fn strict_der_problem(der: &[u8]) -> Result<(), String> {
    let certificate: Certificate = round_trip(der)?;
    for extension in certificate
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
    {
        extension_problem(&extension.extn_id, extension.extn_value.as_bytes())
            .map_err(|problem| format!("extension {}: {problem}", extension.extn_id))?;
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    if bytes.len() > 16 {
        return format!("{} bytes", bytes.len());
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn pem_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            pem_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "pem") {
            found.push(path);
        }
    }
}

#[test]
fn the_check_rejects_a_default_written_out_and_accepts_it_omitted() {
    // basicConstraints { cA FALSE }: what rcgen 0.14.7 wrote for every server certificate.
    let explicit_false = [0x30, 0x03, 0x01, 0x01, 0x00];
    let problem = extension_problem(&BasicConstraints::OID, &explicit_false).unwrap_err();
    assert_contains(&problem, "not DER");
    // The empty SEQUENCE OpenSSL writes for `CA:FALSE`, and `CA:TRUE`.
    extension_problem(&BasicConstraints::OID, &[0x30, 0x00]).unwrap();
    extension_problem(&BasicConstraints::OID, &[0x30, 0x03, 0x01, 0x01, 0xff]).unwrap();
    // A BOOLEAN TRUE must be 0xff in DER (X.690 section 11.1).
    assert!(extension_problem(&BasicConstraints::OID, &[0x30, 0x03, 0x01, 0x01, 0x01]).is_err());
}

#[test]
fn every_fixture_certificate_is_strict_der() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    pem_files(&fixtures, &mut files);
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in &files {
        // Keys, the empty file and the garbage file hold no certificate: nothing to check.
        let Ok(certificates) = load_certificates(file) else {
            continue;
        };
        for (index, der) in certificates.iter().enumerate() {
            checked += 1;
            if let Err(problem) = strict_der_problem(der) {
                problems.push(format!(
                    "{} certificate {}: {problem}",
                    file.display(),
                    index + 1
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // Both generators' output was read (54 certificates in 45 files today).
    assert!(checked >= 50, "only {checked} certificates found");
}

#[test]
fn every_certificate_the_demo_and_serve_generate_is_strict_der() {
    let now = OffsetDateTime::now_utc();
    let pki = GatewayPki::generate("gateway.edgeprobe.test", now).expect("PKI");
    let mut certificates = vec![
        ("root".to_owned(), pki.root.der.clone()),
        ("intermediate".to_owned(), pki.intermediate.der.clone()),
        ("device CA".to_owned(), pki.device_ca.der.clone()),
        ("server".to_owned(), pki.server.der.clone()),
    ];
    let unrelated =
        unrelated_root_ca(Validity::around(now, 1, 30).expect("validity")).expect("unrelated root");
    certificates.push(("unrelated root".to_owned(), unrelated.der.clone()));
    for scenario in Scenario::ALL {
        let setup = prepare(scenario, "gateway.edgeprobe.test", now).expect("scenario");
        for (index, der) in setup.server_chain.iter().enumerate() {
            certificates.push((
                format!("{} chain {}", scenario.id(), index + 1),
                der.clone(),
            ));
        }
        let roots = parse_certificates(setup.root_ca_pem.as_bytes(), Path::new("root CA"))
            .expect("the scenario's root CA file parses");
        for der in roots {
            certificates.push((format!("{} root", scenario.id()), der));
        }
    }
    let problems: Vec<String> = certificates
        .iter()
        .filter_map(|(name, der)| {
            strict_der_problem(der)
                .err()
                .map(|problem| format!("{name}: {problem}"))
        })
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}
