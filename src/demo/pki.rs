//! A generated test PKI laid out the way the IoT Edge documentation's test-certificate scripts
//! lay it out: root CA -> intermediate CA -> device (edge) CA -> edgeHub server certificate.
//!
//! The names follow Microsoft's `certGen.sh` (Azure/iotedge `tools/CACertificates`): the root is
//! `CN=Azure_IoT_Hub_CA_Cert_Test_Only`, the intermediate
//! `CN=Azure_IoT_Hub_Intermediate_Cert_Test_Only`, and the device CA is named after the edge
//! device with `.ca` appended (the script appends it so that the device CA never carries the
//! gateway hostname, which the server certificate below it does). IoT Edge then issues the
//! edgeHub server certificate from the device CA with `CN` and `subjectAltName` set to the
//! `hostname` in `config.toml`; that is the certificate leaf devices see on 8883/5671/443.
//!
//! Keys are ECDSA P-256 because rcgen with ring cannot generate RSA keys; nothing the checks
//! look at depends on the key type. The clock is passed in: nothing here reads it.

use std::fmt;
use std::net::IpAddr;

use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, SanType};
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::pki::describe::SubjectAltNames;

pub use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose};

/// Subject CN of the root CA made by `certGen.sh create_root_and_intermediate`.
pub const ROOT_CA_COMMON_NAME: &str = "Azure_IoT_Hub_CA_Cert_Test_Only";
/// Subject CN of the intermediate CA made by `certGen.sh create_root_and_intermediate`.
pub const INTERMEDIATE_CA_COMMON_NAME: &str = "Azure_IoT_Hub_Intermediate_Cert_Test_Only";
/// The file the IoT Edge docs tell people to copy to leaf devices as the trusted root.
pub const ROOT_CA_FILE_NAME: &str = "azure-iot-test-only.root.ca.cert.pem";

/// Subject CN of the root of [`unrelated_root_ca`]: a CA that has nothing to do with the gateway.
pub const UNRELATED_ROOT_CA_COMMON_NAME: &str = "edgeprobe_Unrelated_Root_CA_Test_Only";

/// Subject CN `certGen.sh create_edge_device_ca_certificate <name>` gives the device CA.
pub fn device_ca_common_name(device_name: &str) -> String {
    format!("{device_name}.ca")
}

/// File name `certGen.sh` gives the device CA's full chain (device CA, intermediate, root);
/// this is the file `[edge_ca] cert` in `config.toml` should point at.
pub fn device_ca_full_chain_file_name(device_name: &str) -> String {
    format!("iot-edge-device-ca-{device_name}-full-chain.cert.pem")
}

/// Why a certificate could not be issued. Each variant names the certificate (its CN).
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(
        "cannot issue `CN={common_name}`: not_after {not_after} is not later than not_before {not_before}"
    )]
    EmptyValidity {
        common_name: String,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    },
    #[error(
        "cannot issue `CN={common_name}`: validity date {date} is outside what X.509 can encode (years 1950 to 9999)"
    )]
    DateOutOfRange {
        common_name: String,
        date: OffsetDateTime,
    },
    #[error("cannot compute a validity window of {days} days around {now}: out of range")]
    WindowOutOfRange { now: OffsetDateTime, days: i64 },
    #[error("cannot issue `CN={common_name}`: its issuer `CN={issuer}` is not a CA certificate")]
    IssuerNotCa { common_name: String, issuer: String },
    #[error(
        "cannot issue `CN={common_name}`: `{name}` is not a valid DNS name for a subjectAltName"
    )]
    InvalidDnsName {
        common_name: String,
        name: String,
        source: rcgen::Error,
    },
    #[error("cannot issue `CN={common_name}`: the system random source failed")]
    RandomSource { common_name: String },
    #[error("cannot issue `CN={common_name}`: key generation failed: {source}")]
    KeyGeneration {
        common_name: String,
        source: rcgen::Error,
    },
    #[error("cannot issue `CN={common_name}`: signing failed: {source}")]
    Signing {
        common_name: String,
        source: rcgen::Error,
    },
}

/// The period a certificate is valid for (RFC 5280 section 4.1.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    pub fn new(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        Validity {
            not_before,
            not_after,
        }
    }

    /// From `days_before` days before `now` until `days_after` days after it. A start in the
    /// past keeps a certificate valid on a device whose clock lags a little.
    pub fn around(
        now: OffsetDateTime,
        days_before: i64,
        days_after: i64,
    ) -> Result<Self, PkiError> {
        let shift = |days: i64| {
            now.checked_add(Duration::days(days))
                .ok_or(PkiError::WindowOutOfRange { now, days })
        };
        Ok(Validity {
            not_before: shift(-days_before)?,
            not_after: shift(days_after)?,
        })
    }
}

/// `basicConstraints` (RFC 5280 section 4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicConstraints {
    /// `CA:FALSE`: a server or client certificate.
    EndEntity,
    /// `CA:TRUE` with an optional `pathlen`.
    CertificateAuthority { path_length: Option<u8> },
}

/// What a certificate may be used for: the extensions that tell a CA from a leaf and a server
/// from a client (RFC 5280 sections 4.2.1.3, 4.2.1.9 and 4.2.1.12), chosen together by each of
/// [`CertificateSpec`]'s constructors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub basic_constraints: BasicConstraints,
    /// Written as a critical `keyUsage` extension when not empty.
    pub key_usages: Vec<KeyUsagePurpose>,
    pub extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
}

/// What to put in one certificate. Start from [`CertificateSpec::certificate_authority`] or
/// [`CertificateSpec::tls_server`] and adjust the public fields for unusual cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSpec {
    /// Subject (and, for self-signed certificates, issuer) `CN`; the only subject attribute,
    /// as in `certGen.sh` (`-subj "/CN=..."`).
    pub common_name: String,
    pub usage: Usage,
    /// `subjectAltName` entries; none at all means no SAN.
    pub alt_names: SubjectAltNames,
    pub validity: Validity,
}

impl CertificateSpec {
    /// A CA certificate as `certGen.sh` makes them (`v3_ca` / `v3_intermediate_ca` in its
    /// `openssl_root_ca.cnf`): `CA:TRUE` without a path length, key usage `keyCertSign`,
    /// `cRLSign` and `digitalSignature`, no extended key usage.
    pub fn certificate_authority(common_name: &str, validity: Validity) -> Self {
        let usage = Usage {
            basic_constraints: BasicConstraints::CertificateAuthority { path_length: None },
            key_usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
            ],
            extended_key_usages: Vec::new(),
        };
        Self::new(common_name, usage, validity)
    }

    /// A TLS server certificate like the one IoT Edge issues to edgeHub: `CN` and one dNSName
    /// SAN equal to `host_name`, `CA:FALSE`, key usage `digitalSignature`, EKU `serverAuth`.
    ///
    /// `keyEncipherment` is left out on purpose: the keys are ECDSA, and RFC 5480 section 3
    /// allows only `digitalSignature`, `nonRepudiation` and `keyAgreement` for EC keys.
    pub fn tls_server(host_name: &str, validity: Validity) -> Self {
        Self::end_entity(host_name, ExtendedKeyUsagePurpose::ServerAuth, validity)
            .with_dns_name(host_name)
    }

    /// A device (client) certificate as the IoT Edge docs' `certGen.sh
    /// create_device_certificate` makes it: `CN` = the device id, `CA:FALSE`, key usage
    /// `digitalSignature`, EKU `clientAuth`, no SAN.
    pub fn tls_client(device_id: &str, validity: Validity) -> Self {
        Self::end_entity(device_id, ExtendedKeyUsagePurpose::ClientAuth, validity)
    }

    /// What both leaf kinds share: `CA:FALSE`, key usage `digitalSignature`, one extended key
    /// usage, no SAN.
    fn end_entity(common_name: &str, purpose: ExtendedKeyUsagePurpose, validity: Validity) -> Self {
        let usage = Usage {
            basic_constraints: BasicConstraints::EndEntity,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            extended_key_usages: vec![purpose],
        };
        Self::new(common_name, usage, validity)
    }

    /// `common_name` for `usage`, without SAN: what every constructor starts from.
    fn new(common_name: &str, usage: Usage, validity: Validity) -> Self {
        CertificateSpec {
            common_name: common_name.to_owned(),
            usage,
            alt_names: SubjectAltNames::default(),
            validity,
        }
    }

    pub fn with_dns_name(mut self, name: &str) -> Self {
        self.alt_names.dns_names.push(name.to_owned());
        self
    }

    pub fn with_ip_address(mut self, address: IpAddr) -> Self {
        self.alt_names.ip_addresses.push(address);
        self
    }

    /// Drops every SAN, leaving the name only in the subject CN (pre-RFC 2818 style, which
    /// RFC 6125 section 6.4.4 and rustls no longer accept).
    pub fn without_subject_alt_names(mut self) -> Self {
        self.alt_names = SubjectAltNames::default();
        self
    }
}

/// An issued certificate with its private key. The key stays inside: read it through
/// [`Issued::key_der`] or [`Issued::key_pem`]; `Debug` never shows it.
pub struct Issued {
    /// What the certificate was issued from.
    pub spec: CertificateSpec,
    pub der: CertificateDer<'static>,
    /// One `CERTIFICATE` PEM block, ending in a newline.
    pub pem: String,
    /// Kept to sign certificates below this one: rcgen's issuer is its parameters plus key.
    params: CertificateParams,
    key: KeyPair,
}

impl Issued {
    pub fn common_name(&self) -> &str {
        &self.spec.common_name
    }

    /// The private key as PKCS#8 DER, the form rustls takes.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    /// The private key as a PKCS#8 `PRIVATE KEY` PEM block.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    fn is_ca(&self) -> bool {
        matches!(
            self.spec.usage.basic_constraints,
            BasicConstraints::CertificateAuthority { .. }
        )
    }
}

impl fmt::Debug for Issued {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Issued")
            .field("spec", &self.spec)
            .field("der_length", &self.der.len())
            .field("key", &"[private key redacted]")
            .finish()
    }
}

/// Issues a CA certificate as [`CertificateSpec::certificate_authority`] describes it, from
/// `issuer`, or self-signed when `issuer` is `None`.
pub fn issue_ca(
    common_name: &str,
    validity: Validity,
    issuer: Option<&Issued>,
) -> Result<Issued, PkiError> {
    issue(
        &CertificateSpec::certificate_authority(common_name, validity),
        issuer,
    )
}

/// Issues a certificate for `spec` with a fresh P-256 key, signed by `issuer`, or self-signed
/// when `issuer` is `None`. Every certificate gets a random 128-bit serial number (RFC 5280
/// section 4.1.2.2: positive, at most 20 octets), a subject key identifier and an authority key
/// identifier, so OpenSSL can match issuers by key id as well as by name.
pub fn issue(spec: &CertificateSpec, issuer: Option<&Issued>) -> Result<Issued, PkiError> {
    let common_name = &spec.common_name;
    if let Some(issuer) = issuer.filter(|issuer| !issuer.is_ca()) {
        return Err(PkiError::IssuerNotCa {
            common_name: common_name.clone(),
            issuer: issuer.common_name().to_owned(),
        });
    }
    if spec.validity.not_after <= spec.validity.not_before {
        return Err(PkiError::EmptyValidity {
            common_name: common_name.clone(),
            not_before: spec.validity.not_before,
            not_after: spec.validity.not_after,
        });
    }

    let mut params = CertificateParams::default();
    params.not_before = encodable_date(common_name, spec.validity.not_before)?;
    params.not_after = encodable_date(common_name, spec.validity.not_after)?;
    params.serial_number = Some(random_serial(common_name)?.into());
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, common_name.as_str());
    params.distinguished_name = subject;
    params.is_ca = match spec.usage.basic_constraints {
        // ExplicitNoCa writes a critical basicConstraints holding an empty SEQUENCE (what
        // OpenSSL writes for `basicConstraints = CA:FALSE`) and a subject key identifier; NoCa
        // would write neither. The SEQUENCE is empty because `cA` is `BOOLEAN DEFAULT FALSE`
        // (RFC 5280 section 4.2.1.9) and DER never encodes a default value (X.690 section
        // 11.5); rcgen before 0.14.10 wrote `cA FALSE`, which strict parsers reject.
        BasicConstraints::EndEntity => IsCa::ExplicitNoCa,
        BasicConstraints::CertificateAuthority { path_length: None } => {
            IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
        }
        BasicConstraints::CertificateAuthority {
            path_length: Some(length),
        } => IsCa::Ca(rcgen::BasicConstraints::Constrained(length)),
    };
    params.key_usages = spec.usage.key_usages.clone();
    params.extended_key_usages = spec.usage.extended_key_usages.clone();
    params.use_authority_key_identifier_extension = true;
    for name in &spec.alt_names.dns_names {
        let dns_name = name
            .as_str()
            .try_into()
            .map_err(|source| PkiError::InvalidDnsName {
                common_name: common_name.clone(),
                name: name.clone(),
                source,
            })?;
        params.subject_alt_names.push(SanType::DnsName(dns_name));
    }
    params.subject_alt_names.extend(
        spec.alt_names
            .ip_addresses
            .iter()
            .copied()
            .map(SanType::IpAddress),
    );

    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|source| {
        PkiError::KeyGeneration {
            common_name: common_name.clone(),
            source,
        }
    })?;
    let signed = match issuer {
        None => params.self_signed(&key),
        Some(issuer) => params.signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key)),
    }
    .map_err(|source| PkiError::Signing {
        common_name: common_name.clone(),
        source,
    })?;

    Ok(Issued {
        spec: spec.clone(),
        pem: signed.pem(),
        der: signed.der().clone(),
        params,
        key,
    })
}

/// UTC, whole seconds, and a year X.509 can encode: rcgen (through yasna) asserts on anything
/// else, and a caller's `now` must never be able to cause a panic.
fn encodable_date(common_name: &str, date: OffsetDateTime) -> Result<OffsetDateTime, PkiError> {
    let out_of_range = || PkiError::DateOutOfRange {
        common_name: common_name.to_owned(),
        date,
    };
    let utc = date
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(out_of_range)?;
    if !(1950..=9999).contains(&utc.year()) {
        return Err(out_of_range());
    }
    utc.replace_nanosecond(0).map_err(|_| out_of_range())
}

fn random_serial(common_name: &str) -> Result<Vec<u8>, PkiError> {
    let mut serial = vec![0u8; 16];
    SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| PkiError::RandomSource {
            common_name: common_name.to_owned(),
        })?;
    // Clear the sign bit (serials are positive) and set the next one so the encoding is always
    // 16 octets long and the value never zero.
    serial[0] = (serial[0] & 0x7f) | 0x40;
    Ok(serial)
}

/// The self-signed root of another, unrelated PKI: what a leaf holds when it was given the
/// wrong CA file (another site's, or a since-regenerated test PKI's).
pub fn unrelated_root_ca(validity: Validity) -> Result<Issued, PkiError> {
    issue_ca(UNRELATED_ROOT_CA_COMMON_NAME, validity, None)
}

/// Verifies `chain` (leaf first) as a leaf device with rustls would: path to `root`, EKU
/// serverAuth, validity at `at`, and the certificate valid for `server_name`.
#[cfg(test)]
pub(crate) fn verify_as_leaf_device(
    chain: &[CertificateDer<'static>],
    root: &CertificateDer<'static>,
    server_name: &str,
    at: OffsetDateTime,
) -> Result<(), webpki::Error> {
    let anchors = [webpki::anchor_from_trusted_cert(root)?.to_owned()];
    let (leaf, intermediates) = chain.split_first().ok_or(webpki::Error::BadDer)?;
    let leaf = webpki::EndEntityCert::try_from(leaf)?;
    let seconds = u64::try_from(at.unix_timestamp()).map_err(|_| webpki::Error::BadDerTime)?;
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        intermediates,
        rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds)),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )?;
    let name = rustls_pki_types::ServerName::try_from(server_name)
        .map_err(|_| webpki::Error::MalformedDnsIdentifier)?;
    leaf.verify_is_valid_for_subject_name(&name)
}

/// The four certificates between a leaf device and its gateway: root and intermediate CA from
/// `certGen.sh create_root_and_intermediate`, the device CA from
/// `create_edge_device_ca_certificate`, and the edgeHub server certificate IoT Edge issues from
/// that device CA for the gateway hostname.
#[derive(Debug)]
pub struct GatewayPki {
    pub gateway_name: String,
    pub root: Issued,
    pub intermediate: Issued,
    pub device_ca: Issued,
    pub server: Issued,
}

impl GatewayPki {
    /// A PKI valid at `now`: CAs from a day before `now` for a year, the server certificate
    /// from a day before `now` for 90 days (IoT Edge renews edgeHub's certificate itself, so it
    /// is short-lived compared to the CAs).
    pub fn generate(gateway_name: &str, now: OffsetDateTime) -> Result<Self, PkiError> {
        Self::generate_with_validity(
            gateway_name,
            Validity::around(now, 1, 365)?,
            Validity::around(now, 1, 90)?,
        )
    }

    /// A PKI with fixed dates, for checked-in fixtures.
    pub fn generate_with_validity(
        gateway_name: &str,
        ca_validity: Validity,
        server_validity: Validity,
    ) -> Result<Self, PkiError> {
        let root = issue_ca(ROOT_CA_COMMON_NAME, ca_validity, None)?;
        let intermediate = issue_ca(INTERMEDIATE_CA_COMMON_NAME, ca_validity, Some(&root))?;
        let device_ca = issue_ca(
            &device_ca_common_name(gateway_name),
            ca_validity,
            Some(&intermediate),
        )?;
        let server = issue(
            &CertificateSpec::tls_server(gateway_name, server_validity),
            Some(&device_ca),
        )?;
        Ok(GatewayPki {
            gateway_name: gateway_name.to_owned(),
            root,
            intermediate,
            device_ca,
            server,
        })
    }

    /// Issues another certificate from this PKI's device CA, as IoT Edge would after a change
    /// of hostname or validity (used for the expired and wrong-name variants).
    pub fn issue_from_device_ca(&self, spec: &CertificateSpec) -> Result<Issued, PkiError> {
        issue(spec, Some(&self.device_ca))
    }

    /// What edgeHub sends in its TLS Certificate message when `[edge_ca] cert` is the device
    /// CA's full chain: server, device CA, intermediate. The root is not sent; the leaf device
    /// must already hold it (RFC 8446 section 4.4.2 allows omitting the trust anchor).
    pub fn server_chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain_with(&self.server)
    }

    /// [`GatewayPki::server_chain`] as concatenated PEM blocks, leaf first.
    pub fn server_full_chain_pem(&self) -> String {
        self.full_chain_pem_with(&self.server)
    }

    /// `server` (another certificate from [`GatewayPki::issue_from_device_ca`]) followed by
    /// this PKI's device CA and intermediate, as edgeHub would send it.
    pub fn chain_with(&self, server: &Issued) -> Vec<CertificateDer<'static>> {
        vec![
            server.der.clone(),
            self.device_ca.der.clone(),
            self.intermediate.der.clone(),
        ]
    }

    /// [`GatewayPki::chain_with`] as concatenated PEM blocks, leaf first.
    pub fn full_chain_pem_with(&self, server: &Issued) -> String {
        [&server.pem, &self.device_ca.pem, &self.intermediate.pem]
            .into_iter()
            .map(String::as_str)
            .collect()
    }

    /// The root CA certificate: the file a technician copies to the leaf device.
    pub fn root_pem(&self) -> String {
        self.root.pem.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use time::macros::datetime;
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    use x509_parser::prelude::{FromDer, X509Certificate};

    const GATEWAY: &str = "gateway.edgeprobe.test";
    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

    fn parse<'a>(der: &'a CertificateDer<'_>) -> X509Certificate<'a> {
        let (rest, certificate) = X509Certificate::from_der(der).expect("rcgen emits valid DER");
        assert!(rest.is_empty());
        certificate
    }

    /// (subject key identifier, authority key identifier) of a certificate.
    fn key_identifiers(der: &CertificateDer<'_>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let certificate = parse(der);
        let mut ids = (None, None);
        for extension in certificate.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => ids.0 = Some(id.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    ids.1 = aki.key_identifier.as_ref().map(|id| id.0.to_vec())
                }
                _ => {}
            }
        }
        ids
    }

    fn verify_server(
        pki: &GatewayPki,
        chain: &[CertificateDer<'static>],
        root: &CertificateDer<'static>,
        at: OffsetDateTime,
    ) -> Result<(), webpki::Error> {
        verify_as_leaf_device(chain, root, &pki.gateway_name, at)
    }

    #[test]
    fn names_follow_the_iot_edge_test_scripts() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let subject = |issued: &Issued| parse(&issued.der).subject().to_string();
        let issuer = |issued: &Issued| parse(&issued.der).issuer().to_string();
        assert_eq!(subject(&pki.root), "CN=Azure_IoT_Hub_CA_Cert_Test_Only");
        assert_eq!(issuer(&pki.root), subject(&pki.root));
        assert_eq!(
            subject(&pki.intermediate),
            "CN=Azure_IoT_Hub_Intermediate_Cert_Test_Only"
        );
        assert_eq!(issuer(&pki.intermediate), subject(&pki.root));
        assert_eq!(subject(&pki.device_ca), "CN=gateway.edgeprobe.test.ca");
        assert_eq!(issuer(&pki.device_ca), subject(&pki.intermediate));
        assert_eq!(subject(&pki.server), "CN=gateway.edgeprobe.test");
        assert_eq!(issuer(&pki.server), subject(&pki.device_ca));
        assert_eq!(
            device_ca_full_chain_file_name("gateway"),
            "iot-edge-device-ca-gateway-full-chain.cert.pem"
        );
    }

    #[test]
    fn ca_certificates_carry_ca_extensions() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        for ca in [&pki.root, &pki.intermediate, &pki.device_ca] {
            let certificate = parse(&ca.der);
            let constraints = certificate.basic_constraints().unwrap().unwrap();
            assert!(constraints.critical, "{}", ca.common_name());
            assert!(constraints.value.ca);
            let usage = certificate.key_usage().unwrap().unwrap();
            assert!(usage.critical);
            assert!(usage.value.key_cert_sign() && usage.value.crl_sign());
            assert!(usage.value.digital_signature());
            assert!(key_identifiers(&ca.der).0.is_some());
            assert!(certificate.extended_key_usage().unwrap().is_none());
        }
    }

    #[test]
    fn server_certificate_is_a_tls_server_leaf_for_the_gateway() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let certificate = parse(&pki.server.der);
        assert!(!certificate.basic_constraints().unwrap().unwrap().value.ca);
        let usage = certificate.key_usage().unwrap().unwrap().value;
        assert!(usage.digital_signature() && !usage.key_cert_sign());
        let eku = certificate.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
        let san = certificate
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value;
        assert_eq!(san.general_names, vec![GeneralName::DNSName(GATEWAY)]);
        let validity = certificate.validity();
        assert!(validity.not_before.to_datetime() < NOW && NOW < validity.not_after.to_datetime());
    }

    #[test]
    fn authority_key_identifiers_match_issuer_subject_key_identifiers() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let pairs = [
            (&pki.root, &pki.root),
            (&pki.intermediate, &pki.root),
            (&pki.device_ca, &pki.intermediate),
            (&pki.server, &pki.device_ca),
        ];
        for (subject, issuer) in pairs {
            let (_, authority) = key_identifiers(&subject.der);
            let (issuer_subject_key_id, _) = key_identifiers(&issuer.der);
            assert!(authority.is_some(), "{} has no AKI", subject.common_name());
            assert_eq!(
                authority,
                issuer_subject_key_id,
                "{}",
                subject.common_name()
            );
        }
    }

    #[test]
    fn serial_numbers_are_distinct_and_positive() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let serials: Vec<Vec<u8>> = [&pki.root, &pki.intermediate, &pki.device_ca, &pki.server]
            .iter()
            .map(|issued| parse(&issued.der).raw_serial().to_vec())
            .collect();
        for (index, serial) in serials.iter().enumerate() {
            assert_eq!(serial.len(), 16);
            assert_eq!(serial[0] & 0x80, 0);
            assert!(!serials[index + 1..].contains(serial));
        }
    }

    #[test]
    fn chain_verifies_against_the_root_for_the_gateway_name() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let chain = pki.server_chain();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[0], pki.server.der);
        assert_eq!(verify_server(&pki, &chain, &pki.root.der, NOW), Ok(()));
        // Without the intermediate the path cannot be built: the check must be able to fail.
        assert_eq!(
            verify_server(&pki, &chain[..2], &pki.root.der, NOW),
            Err(webpki::Error::UnknownIssuer)
        );
    }

    #[test]
    fn full_chain_pem_parses_back_to_the_same_chain() {
        use rustls_pki_types::pem::PemObject;
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let parsed: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(pki.server_full_chain_pem().as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(parsed, pki.server_chain());
        let key = PrivateKeyDer::from_pem_slice(pki.server.key_pem().as_bytes()).unwrap();
        assert_eq!(key.secret_der(), pki.server.key_der().secret_der());
    }

    #[test]
    fn fixed_validity_is_written_exactly() {
        let validity = Validity::new(
            datetime!(2025-01-01 00:00:00 UTC),
            datetime!(2036-12-31 00:00:00 UTC),
        );
        let pki = GatewayPki::generate_with_validity(GATEWAY, validity, validity).unwrap();
        let written = parse(&pki.server.der).validity().clone();
        assert_eq!(written.not_before.to_datetime(), validity.not_before);
        assert_eq!(written.not_after.to_datetime(), validity.not_after);
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let debug = format!("{pki:?}");
        let key_pem = pki.server.key_pem();
        let key_body = key_pem.lines().nth(1).unwrap();
        assert!(!debug.contains(key_body));
        assert!(!debug.contains("PRIVATE KEY"));
        assert!(debug.contains("[private key redacted]"));
    }

    #[test]
    fn refuses_to_issue_from_a_leaf() {
        let pki = GatewayPki::generate(GATEWAY, NOW).unwrap();
        let spec = CertificateSpec::tls_server("other.edgeprobe.test", pki.server.spec.validity);
        let error = issue(&spec, Some(&pki.server)).unwrap_err();
        assert!(matches!(error, PkiError::IssuerNotCa { .. }));
        assert!(error.to_string().contains("CN=gateway.edgeprobe.test"));
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        let window = Validity::around(NOW, 1, 1).unwrap();
        let backwards = Validity::new(window.not_after, window.not_before);
        assert!(matches!(
            issue(&CertificateSpec::tls_server(GATEWAY, backwards), None),
            Err(PkiError::EmptyValidity { .. })
        ));
        let ancient = Validity::new(datetime!(1900-01-01 00:00 UTC), NOW);
        assert!(matches!(
            issue(&CertificateSpec::tls_server(GATEWAY, ancient), None),
            Err(PkiError::DateOutOfRange { .. })
        ));
        let bad_name = CertificateSpec::tls_server(GATEWAY, window).with_dns_name("caf\u{e9}.test");
        assert!(matches!(
            issue(&bad_name, None),
            Err(PkiError::InvalidDnsName { .. })
        ));
        assert!(matches!(
            Validity::around(
                OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT),
                0,
                1
            ),
            Err(PkiError::WindowOutOfRange { .. })
        ));
        // A non-UTC `now` with sub-second precision still encodes (rcgen would assert).
        let offset_now = datetime!(2049-12-31 23:30:00.5 -01:00);
        let late = Validity::new(NOW, offset_now);
        let issued = issue(&CertificateSpec::tls_server(GATEWAY, late), None).unwrap();
        assert_eq!(
            parse(&issued.der).validity().not_after.to_datetime(),
            datetime!(2050-01-01 00:30:00 UTC)
        );
    }

    /// The checked-in fixtures (regenerated by `examples/generate_fixtures.rs`) are what
    /// `fixtures/README.md` says they are.
    mod checked_in_fixtures {
        use super::*;

        use rustls_pki_types::pem::PemObject;

        const AT: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);

        use crate::test_fixtures::fixture as path;

        fn certificates(name: &str) -> Vec<CertificateDer<'static>> {
            CertificateDer::pem_file_iter(path(name))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        }

        fn one_certificate(name: &str) -> CertificateDer<'static> {
            let mut all = certificates(name);
            assert_eq!(all.len(), 1, "{name}");
            all.remove(0)
        }

        fn verdict(chain: &str, root: &str) -> Result<(), webpki::Error> {
            verify_as_leaf_device(&certificates(chain), &one_certificate(root), GATEWAY, AT)
        }

        #[test]
        fn chains_fail_exactly_as_documented() {
            assert_eq!(verdict("server-full-chain.pem", "root-ca.pem"), Ok(()));
            assert_eq!(
                verdict("post-2038-server-full-chain.pem", "root-ca.pem"),
                Ok(())
            );
            assert_eq!(
                verdict("server-full-chain.pem", "other-root-ca.pem"),
                Err(webpki::Error::UnknownIssuer)
            );
            assert!(matches!(
                verdict("expired-server-full-chain.pem", "root-ca.pem"),
                Err(webpki::Error::CertExpired { .. })
            ));
            for wrong in [
                "wrong-name-server-full-chain.pem",
                "cn-only-server-full-chain.pem",
            ] {
                assert!(matches!(
                    verdict(wrong, "root-ca.pem"),
                    Err(webpki::Error::CertNotValidForName(_))
                ));
            }
        }

        #[test]
        fn chains_and_single_files_agree() {
            let chain = certificates("server-full-chain.pem");
            let parts = ["server.pem", "device-ca.pem", "intermediate-ca.pem"].map(one_certificate);
            assert_eq!(chain, parts);
            assert_eq!(
                one_certificate("intermediate-only-as-root.pem"),
                one_certificate("intermediate-ca.pem")
            );
            assert_eq!(
                certificates("expired-server-full-chain.pem")[0],
                one_certificate("expired-server.pem")
            );
            let subject = |der: &CertificateDer<'_>| parse(der).subject().to_string();
            assert_eq!(
                subject(&one_certificate("root-ca.pem")),
                "CN=Azure_IoT_Hub_CA_Cert_Test_Only"
            );
            let cn_only = &certificates("cn-only-server-full-chain.pem")[0];
            assert_eq!(subject(cn_only), "CN=gateway.edgeprobe.test");
            assert!(parse(cn_only).subject_alternative_name().unwrap().is_none());
        }

        #[test]
        fn key_files_belong_to_their_certificates() {
            let pairs = [
                ("server.key.pem", "server-full-chain.pem"),
                ("expired-server.key.pem", "expired-server-full-chain.pem"),
                (
                    "post-2038-server.key.pem",
                    "post-2038-server-full-chain.pem",
                ),
                (
                    "wrong-name-server.key.pem",
                    "wrong-name-server-full-chain.pem",
                ),
                ("cn-only-server.key.pem", "cn-only-server-full-chain.pem"),
                ("private-key-only.pem", "server-full-chain.pem"),
            ];
            for (key, chain) in pairs {
                let key_pem = std::fs::read_to_string(path(key)).unwrap();
                let key = KeyPair::from_pem(&key_pem).unwrap();
                let leaf = &certificates(chain)[0];
                let public_key = parse(leaf).public_key().subject_public_key.data.to_vec();
                assert_eq!(key.public_key_raw(), public_key.as_slice(), "{chain}");
            }
        }

        #[test]
        fn dates_stay_below_2038_except_the_post_2038_certificate() {
            let limit = datetime!(2038-01-01 00:00:00 UTC);
            for entry in std::fs::read_dir(path("")).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if !name.ends_with(".pem") || name.contains("key") {
                    continue;
                }
                for (index, der) in certificates(&name).iter().enumerate() {
                    let not_after = parse(der).validity().not_after.to_datetime();
                    let post_2038 = name.starts_with("post-2038") && index == 0;
                    assert_eq!(
                        not_after >= limit,
                        post_2038,
                        "{name} #{index}: {not_after}"
                    );
                }
            }
        }

        #[test]
        fn non_certificate_inputs_hold_no_certificate() {
            assert_eq!(std::fs::metadata(path("empty.pem")).unwrap().len(), 0);
            for name in ["empty.pem", "garbage.pem", "private-key-only.pem"] {
                assert!(certificates(name).is_empty(), "{name}");
            }
            let garbage = std::fs::read_to_string(path("garbage.pem")).unwrap();
            assert!(!garbage.is_empty() && !garbage.contains("-----BEGIN"));
            assert!(PrivateKeyDer::from_pem_file(path("private-key-only.pem")).is_ok());
        }
    }
}
