//! One certificate as OpenSSL 3.0's verifier sees it: the flags and fields that
//! `ossl_x509v3_cache_extensions` (crypto/x509/v3_purp.c) derives once per certificate, the
//! issuer test `ossl_x509_likely_issued`, `X509_check_ca`, and the purpose checks of the
//! X509_PURPOSE table. `verify.rs` runs x509_vfy.c's flow over these facts.
//!
//! Only facts are computed here; nothing reads the clock, and no verdict is reached.

use std::net::IpAddr;

use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::asn1_rs::Oid;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use super::VerifyCode;
use super::name_constraints::{NameConstraints, parse_name_constraints};
use super::oids::{self, *};
use super::signature::der::{self, Reader};
use super::signature::{self, SignatureInfo};
use super::trust_settings::TrustSettings;
use super::verify::Purpose;

// Key usage bits as OpenSSL stores them (`ex_kusage`: the BIT STRING's first two bytes,
// x509v3.h KU_*).
pub const KU_DIGITAL_SIGNATURE: u16 = 0x0080;
pub const KU_NON_REPUDIATION: u16 = 0x0040;
pub const KU_KEY_ENCIPHERMENT: u16 = 0x0020;
pub const KU_KEY_AGREEMENT: u16 = 0x0008;
pub const KU_KEY_CERT_SIGN: u16 = 0x0004;
pub const KU_CRL_SIGN: u16 = 0x0002;

// Extended key usage bits (x509v3.h XKU_*).
const XKU_SSL_SERVER: u32 = 0x1;
const XKU_SSL_CLIENT: u32 = 0x2;
const XKU_SMIME: u32 = 0x4;
const XKU_CODE_SIGN: u32 = 0x8;
const XKU_SGC: u32 = 0x10;
const XKU_OCSP_SIGN: u32 = 0x20;
const XKU_TIMESTAMP: u32 = 0x40;
const XKU_DVCS: u32 = 0x80;
const XKU_ANYEKU: u32 = 0x100;

// Netscape certificate type bits (x509v3.h NS_*).
const NS_SSL_CLIENT: u8 = 0x80;
const NS_SSL_SERVER: u8 = 0x40;
const NS_SMIME: u8 = 0x20;
const NS_SSL_CA: u8 = 0x04;
const NS_SMIME_CA: u8 = 0x02;
const NS_ANY_CA: u8 = 0x07;

/// The authorityKeyIdentifier fields `X509_check_akid` compares.
#[derive(Debug, Clone, Default)]
pub struct AuthorityKeyId {
    pub key_id: Option<Vec<u8>>,
    pub serial: Option<Vec<u8>>,
    /// The first directoryName of authorityCertIssuer, canonicalised.
    pub issuer: Option<CanonicalName>,
}

/// X509_NAME_cmp compares canonical encodings: attribute values case-folded with white space
/// trimmed and collapsed (x_name.c `asn1_string_canon`), RDN structure preserved.
pub type CanonicalName = Vec<Vec<(String, String)>>;

/// What verification needs to know about one certificate, extracted once.
#[derive(Debug)]
pub struct Facts {
    pub der: CertificateDer<'static>,
    /// Came from the trust store rather than from the peer.
    pub from_store: bool,
    /// `TRUSTED CERTIFICATE` trust and reject settings (X509_CERT_AUX), store certificates only.
    pub trust_settings: Option<TrustSettings>,
    pub subject_text: String,
    pub issuer_text: String,
    pub subject_name: CanonicalName,
    pub issuer_name: CanonicalName,
    pub subject_entry_count: usize,
    pub issuer_entry_count: usize,
    /// The subject's RDN sets, per entry, for the proxy certificate name rule.
    pub subject_entry_sets: Vec<usize>,
    pub subject_last_entry_is_common_name: bool,
    /// The subject without its last entry, for the proxy certificate name rule.
    pub subject_name_without_last: CanonicalName,
    /// 1, 2 or 3.
    pub version: u32,
    pub serial: Vec<u8>,
    /// EXFLAG_INVALID: an extension OpenSSL could not decode, a duplicate, an empty key usage,
    /// a negative path length... OpenSSL then refuses the certificate as an issuer and fails
    /// its purpose and CA checks.
    pub invalid: bool,
    pub self_issued: bool,
    pub self_signed: bool,
    /// EXFLAG_BCONS, EXFLAG_CA, EXFLAG_BCONS_CRITICAL.
    pub basic_constraints: bool,
    pub ca: bool,
    pub basic_constraints_critical: bool,
    /// ex_pathlen, None for -1.
    pub path_len: Option<u64>,
    pub proxy: bool,
    pub proxy_path_len: Option<u64>,
    pub key_usage: Option<u16>,
    pub extended_key_usage: Option<u32>,
    pub extended_key_usage_critical: bool,
    pub netscape_cert_type: Option<u8>,
    pub subject_key_id: Option<Vec<u8>>,
    pub subject_key_id_critical: bool,
    pub authority_key_id: Option<AuthorityKeyId>,
    pub authority_key_id_critical: bool,
    /// Subject alternative names: None without the extension.
    pub subject_alt_names: Option<usize>,
    pub subject_alt_name_critical: bool,
    pub name_constraints: Option<NameConstraints>,
    /// EXFLAG_CRITICAL: a critical extension OpenSSL does not handle.
    pub unhandled_critical_extension: bool,
    pub extension_count: usize,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// The inner (tbsCertificate.signature) and outer signatureAlgorithm, as DER.
    pub inner_algorithm: Vec<u8>,
    pub outer_algorithm: Vec<u8>,
    /// X509_get_signature_info over the outer algorithm (None: OpenSSL cannot tell).
    pub signature_info: Option<SignatureInfo>,
    pub tbs: Vec<u8>,
    /// The signature bits; None when the BIT STRING has unused bits (OpenSSL refuses those).
    pub signature: Option<Vec<u8>>,
    pub key: PublicKey,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub email_addresses: Vec<String>,
    pub subject_email_addresses: Vec<String>,
    pub common_names: Vec<String>,
}

/// The subjectPublicKeyInfo and what OpenSSL's `X509_get0_pubkey` makes of it, decoded once:
/// the verifier asks whether it decodes, how strong it is (`EVP_PKEY_get_security_bits`) and
/// whether an EC key spells out its curve; the certificates it issued are verified with it.
#[derive(Debug)]
pub struct PublicKey {
    pub spki: Vec<u8>,
    /// X509_get0_pubkey(x) != NULL.
    pub decodes: bool,
    pub security_bits: Option<u32>,
    pub ec_explicit_parameters: bool,
}

impl PublicKey {
    pub fn of(spki: Vec<u8>) -> PublicKey {
        let signature::KeyProperties {
            decodes,
            security_bits,
            ec_explicit_parameters,
        } = signature::key_properties(&spki);
        PublicKey {
            spki,
            decodes,
            security_bits,
            ec_explicit_parameters,
        }
    }
}

impl Facts {
    pub fn parse(
        der: &CertificateDer<'static>,
        from_store: bool,
        trust_settings: Option<TrustSettings>,
    ) -> Result<Facts, String> {
        let (_, certificate) =
            X509Certificate::from_der(der.as_ref()).map_err(|error| error.to_string())?;
        let raw = signature::certificate_parts(der.as_ref())
            .ok_or_else(|| "the certificate's outer structure is malformed".to_owned())?;
        let subject_name = canonical_name(certificate.subject());
        let issuer_name = canonical_name(certificate.issuer());
        let subject_entries: Vec<_> = certificate
            .subject()
            .iter()
            .enumerate()
            .flat_map(|(set, rdn)| rdn.iter().map(move |attribute| (set, attribute)))
            .collect();
        let mut subject_name_without_last = subject_name.clone();
        if let Some(last_set) = subject_name_without_last.last_mut() {
            last_set.pop();
            if last_set.is_empty() {
                subject_name_without_last.pop();
            }
        }
        let mut facts = Facts {
            der: der.clone(),
            from_store,
            trust_settings,
            subject_text: super::openssl_oneline(certificate.subject()),
            issuer_text: super::openssl_oneline(certificate.issuer()),
            self_issued: subject_name == issuer_name,
            subject_entry_count: subject_entries.len(),
            issuer_entry_count: certificate.issuer().iter_attributes().count(),
            subject_entry_sets: subject_entries.iter().map(|(set, _)| *set).collect(),
            subject_last_entry_is_common_name: subject_entries.last().is_some_and(
                |(_, attribute)| oids::same(attribute.attr_type(), &OID_X509_COMMON_NAME),
            ),
            subject_name_without_last,
            subject_name,
            issuer_name,
            version: certificate.version().0 + 1,
            serial: certificate.raw_serial().to_vec(),
            invalid: false,
            self_signed: false,
            basic_constraints: false,
            ca: false,
            basic_constraints_critical: false,
            path_len: None,
            proxy: false,
            proxy_path_len: None,
            key_usage: None,
            extended_key_usage: None,
            extended_key_usage_critical: false,
            netscape_cert_type: None,
            subject_key_id: None,
            subject_key_id_critical: false,
            authority_key_id: None,
            authority_key_id_critical: false,
            subject_alt_names: None,
            subject_alt_name_critical: false,
            name_constraints: None,
            unhandled_critical_extension: false,
            extension_count: certificate.extensions().len(),
            not_before: certificate.validity().not_before.to_datetime(),
            not_after: certificate.validity().not_after.to_datetime(),
            signature_info: signature::signature_info(raw.signature_algorithm),
            inner_algorithm: raw.inner_signature_algorithm.to_vec(),
            outer_algorithm: raw.signature_algorithm.to_vec(),
            tbs: raw.tbs_certificate.to_vec(),
            // OpenSSL refuses a signature BIT STRING with unused bits.
            signature: (raw.signature_unused_bits == 0).then(|| raw.signature.to_vec()),
            key: PublicKey::of(certificate.public_key().raw.to_vec()),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            email_addresses: Vec::new(),
            subject_email_addresses: certificate
                .subject()
                .iter_email()
                .filter_map(|attribute| attribute.as_str().ok().map(str::to_owned))
                .collect(),
            common_names: certificate
                .subject()
                .iter_common_name()
                .filter_map(|attribute| attribute.as_str().ok().map(str::to_owned))
                .collect(),
        };
        facts.cache_extensions(&certificate);
        facts.self_signed = facts.self_issued
            && facts.akid_matches(&facts)
            && facts.signature_algorithm_matches_key_of(&facts);
        Ok(facts)
    }

    /// ossl_x509v3_cache_extensions: read every extension the verifier uses; anything it
    /// cannot decode (or finds twice: X509_get_ext_d2i refuses duplicates) makes the
    /// certificate invalid.
    fn cache_extensions(&mut self, certificate: &X509Certificate<'_>) {
        let mut seen: Vec<&Oid<'_>> = Vec::new();
        let mut critical_done = false;
        for extension in certificate.extensions() {
            let oid = &extension.oid;
            let duplicate = seen.iter().any(|earlier| oids::same(earlier, oid));
            seen.push(oid);
            let parsed = extension.parsed_extension();
            let failed = matches!(parsed, ParsedExtension::ParseError { .. });
            let known = oids::is_one_of(oid, CACHED_EXTENSIONS);
            if known && (duplicate || failed) {
                self.invalid = true;
            }
            if !duplicate {
                self.read_extension(oid, parsed, extension.value);
            }
            // The first unhandled critical extension ends the critical-flags loop
            // (v3_purp.c breaks there).
            if extension.critical && !critical_done {
                if !oids::is_one_of(oid, OPENSSL_SUPPORTED_EXTENSIONS) {
                    self.unhandled_critical_extension = true;
                    critical_done = true;
                } else if oids::same(oid, &OID_X509_EXT_BASIC_CONSTRAINTS) {
                    self.basic_constraints_critical = true;
                } else if oids::same(oid, &OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER) {
                    self.authority_key_id_critical = true;
                } else if oids::same(oid, &OID_X509_EXT_SUBJECT_KEY_IDENTIFIER) {
                    self.subject_key_id_critical = true;
                } else if oids::same(oid, &OID_X509_EXT_SUBJECT_ALT_NAME) {
                    self.subject_alt_name_critical = true;
                }
            }
            if oids::same(oid, &OID_X509_EXT_EXTENDED_KEY_USAGE) && extension.critical {
                self.extended_key_usage_critical = true;
            }
        }
    }

    fn read_extension(&mut self, oid: &Oid<'_>, parsed: &ParsedExtension<'_>, value: &[u8]) {
        let is = |known: &Oid<'_>| oids::same(oid, known);
        match parsed {
            ParsedExtension::BasicConstraints(constraints)
                if is(&OID_X509_EXT_BASIC_CONSTRAINTS) =>
            {
                self.basic_constraints = true;
                self.ca = constraints.ca;
                self.path_len = constraints.path_len_constraint.map(u64::from);
            }
            _ if is(&OID_PKIX_PROXY_CERT_INFO) => match parse_proxy_cert_info(value) {
                Some(path_len) => {
                    self.proxy = true;
                    self.proxy_path_len = path_len;
                }
                None => self.invalid = true,
            },
            _ if is(&OID_X509_EXT_KEY_USAGE) => match bit_string_bytes(value) {
                Some(bytes) => {
                    let usage = u16::from(bytes.first().copied().unwrap_or(0))
                        | (u16::from(bytes.get(1).copied().unwrap_or(0)) << 8);
                    self.key_usage = Some(usage);
                    // RFC 5280 4.2.1.3: at least one bit must be set.
                    if usage == 0 {
                        self.invalid = true;
                    }
                }
                None => self.invalid = true,
            },
            ParsedExtension::ExtendedKeyUsage(usage) if is(&OID_X509_EXT_EXTENDED_KEY_USAGE) => {
                let mut flags = 0;
                let pairs = [
                    (usage.server_auth, XKU_SSL_SERVER),
                    (usage.client_auth, XKU_SSL_CLIENT),
                    (usage.email_protection, XKU_SMIME),
                    (usage.code_signing, XKU_CODE_SIGN),
                    (usage.ocsp_signing, XKU_OCSP_SIGN),
                    (usage.time_stamping, XKU_TIMESTAMP),
                    (usage.any, XKU_ANYEKU),
                ];
                for (present, flag) in pairs {
                    if present {
                        flags |= flag;
                    }
                }
                for other in &usage.other {
                    let server_gated_crypto =
                        [OID_MS_SERVER_GATED_CRYPTO, OID_NETSCAPE_SERVER_GATED_CRYPTO];
                    if oids::is_one_of(other, &server_gated_crypto) {
                        flags |= XKU_SGC;
                    } else if oids::same(other, &OID_PKIX_KP_DVCS) {
                        flags |= XKU_DVCS;
                    }
                }
                self.extended_key_usage = Some(flags);
            }
            _ if is(&OID_X509_EXT_CERT_TYPE) => match bit_string_bytes(value) {
                Some(bytes) => self.netscape_cert_type = Some(bytes.first().copied().unwrap_or(0)),
                None => self.invalid = true,
            },
            ParsedExtension::SubjectKeyIdentifier(id)
                if is(&OID_X509_EXT_SUBJECT_KEY_IDENTIFIER) =>
            {
                self.subject_key_id = Some(id.0.to_vec());
            }
            ParsedExtension::AuthorityKeyIdentifier(id)
                if is(&OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER) =>
            {
                self.authority_key_id = Some(AuthorityKeyId {
                    key_id: id.key_identifier.as_ref().map(|key| key.0.to_vec()),
                    serial: id.authority_cert_serial.map(<[u8]>::to_vec),
                    issuer: id.authority_cert_issuer.as_ref().and_then(|names| {
                        names.iter().find_map(|name| match name {
                            GeneralName::DirectoryName(name) => Some(canonical_name(name)),
                            _ => None,
                        })
                    }),
                });
            }
            ParsedExtension::SubjectAlternativeName(names)
                if is(&OID_X509_EXT_SUBJECT_ALT_NAME) =>
            {
                self.subject_alt_names = Some(names.general_names.len());
                for name in &names.general_names {
                    match name {
                        GeneralName::DNSName(dns) => self.dns_names.push((*dns).to_owned()),
                        GeneralName::IPAddress(bytes) => {
                            if let Some(address) = ip_from_san(bytes) {
                                self.ip_addresses.push(address);
                            }
                        }
                        GeneralName::RFC822Name(email) => {
                            self.email_addresses.push((*email).to_owned())
                        }
                        _ => {}
                    }
                }
            }
            _ if is(&OID_X509_EXT_NAME_CONSTRAINTS) => match parse_name_constraints(value) {
                Ok(constraints) => self.name_constraints = Some(constraints),
                Err(_) => self.invalid = true,
            },
            // setup_dp: a distribution point needs a name or a CRL issuer.
            ParsedExtension::CRLDistributionPoints(points)
                if is(&OID_X509_EXT_CRL_DISTRIBUTION_POINTS)
                    && points.points.iter().any(|point| {
                        point.distribution_point.is_none()
                            && point
                                .crl_issuer
                                .as_ref()
                                .is_none_or(|issuers| issuers.is_empty())
                    }) =>
            {
                self.invalid = true;
            }
            _ => {}
        }
    }

    /// `X509_check_akid(self, subject.akid)`: a subject's authority key id must match this
    /// issuer's subject key id (when both are present), its serial and its issuer name (when
    /// given).
    pub fn akid_matches(&self, subject: &Facts) -> bool {
        let Some(akid) = &subject.authority_key_id else {
            return true;
        };
        if let (Some(authority), Some(own)) = (&akid.key_id, &self.subject_key_id)
            && authority != own
        {
            return false;
        }
        if let Some(serial) = &akid.serial
            && strip_integer(serial) != strip_integer(&self.serial)
        {
            return false;
        }
        if let Some(issuer) = &akid.issuer
            && issuer != &self.issuer_name
        {
            return false;
        }
        true
    }

    /// `check_sig_alg_match(X509_get0_pubkey(self), subject)`: the subject's (inner)
    /// signature algorithm is one this key type makes; an RSA key may also make RSA-PSS
    /// signatures.
    pub fn signature_algorithm_matches_key_of(&self, subject: &Facts) -> bool {
        self.key.decodes
            && signature::signature_algorithm_matches_key(&subject.inner_algorithm, &self.key.spki)
                == Some(true)
    }

    /// `ossl_x509_likely_issued(self, subject)`: names, key identifiers and the signature
    /// algorithm's key type agree, and neither certificate is invalid. The signature itself is
    /// checked later, by `internal_verify`.
    pub fn likely_issued(&self, subject: &Facts) -> bool {
        self.subject_name == subject.issuer_name
            && !self.invalid
            && !subject.invalid
            && self.akid_matches(subject)
            && self.signature_algorithm_matches_key_of(subject)
    }

    /// `X509_self_signed(x, 0) > 0`: an invalid certificate is never self-signed.
    pub fn is_self_signed(&self) -> bool {
        self.self_signed && !self.invalid && self.key.decodes
    }

    /// `X509_check_ca`: 1 = CA by basicConstraints, 3 = self-signed v1 root, 4 = keyCertSign
    /// without basicConstraints, 5 = Netscape CA type, 0 = not a CA (or invalid).
    pub fn check_ca(&self) -> u8 {
        if self.invalid {
            return 0;
        }
        self.check_ca_valid()
    }

    fn check_ca_valid(&self) -> u8 {
        if self.key_usage_rejects(KU_KEY_CERT_SIGN) {
            return 0;
        }
        if self.basic_constraints {
            return u8::from(self.ca);
        }
        if self.version == 1 && self.self_signed {
            3
        } else if self.key_usage.is_some() {
            4
        } else if self
            .netscape_cert_type
            .is_some_and(|kind| kind & NS_ANY_CA != 0)
        {
            5
        } else {
            0
        }
    }

    pub fn key_usage_rejects(&self, wanted: u16) -> bool {
        self.key_usage.is_some_and(|usage| usage & wanted == 0)
    }

    fn extended_key_usage_rejects(&self, wanted: u32) -> bool {
        self.extended_key_usage
            .is_some_and(|usage| usage & wanted == 0)
    }

    fn netscape_rejects(&self, wanted: u8) -> bool {
        self.netscape_cert_type
            .is_some_and(|kind| kind & wanted == 0)
    }

    fn check_ssl_ca(&self) -> bool {
        let ca = self.check_ca_valid();
        ca != 0
            && (ca != 5
                || self
                    .netscape_cert_type
                    .is_some_and(|kind| kind & NS_SSL_CA != 0))
    }

    /// `X509_check_purpose(x, purpose, require_ca)`: 1 suits, 0 does not, -1 the certificate
    /// is invalid (x509_vfy.c then fails only under -x509_strict).
    pub fn check_purpose(&self, purpose: Purpose, require_ca: bool) -> i8 {
        if self.invalid {
            return -1;
        }
        let suits = match purpose {
            Purpose::SslClient => {
                if self.extended_key_usage_rejects(XKU_SSL_CLIENT) {
                    false
                } else if require_ca {
                    self.check_ssl_ca()
                } else {
                    !self.key_usage_rejects(KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)
                        && !self.netscape_rejects(NS_SSL_CLIENT)
                }
            }
            Purpose::SslServer => self.suits_ssl_server(require_ca),
            Purpose::NsSslServer => {
                self.suits_ssl_server(require_ca)
                    && (require_ca || !self.key_usage_rejects(KU_KEY_ENCIPHERMENT))
            }
            Purpose::SmimeSign | Purpose::SmimeEncrypt => {
                let smime = self.purpose_smime(require_ca);
                if smime == 0 || require_ca {
                    smime != 0
                } else if purpose == Purpose::SmimeSign {
                    !self.key_usage_rejects(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)
                } else {
                    !self.key_usage_rejects(KU_KEY_ENCIPHERMENT)
                }
            }
            Purpose::CrlSign => {
                if require_ca {
                    let ca = self.check_ca_valid();
                    ca != 0 && ca != 2
                } else {
                    !self.key_usage_rejects(KU_CRL_SIGN)
                }
            }
            Purpose::Any => true,
            Purpose::OcspHelper => !require_ca || self.check_ca_valid() != 0,
            Purpose::TimestampSign => {
                if require_ca {
                    self.check_ca_valid() != 0
                } else {
                    let signing = KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE;
                    let usage_ok = self
                        .key_usage
                        .is_none_or(|usage| usage & !signing == 0 && usage & signing != 0);
                    usage_ok
                        && self.extended_key_usage == Some(XKU_TIMESTAMP)
                        && self.extended_key_usage_critical
                }
            }
        };
        i8::from(suits)
    }

    fn suits_ssl_server(&self, require_ca: bool) -> bool {
        if self.extended_key_usage_rejects(XKU_SSL_SERVER | XKU_SGC) {
            return false;
        }
        if require_ca {
            return self.check_ssl_ca();
        }
        !self.netscape_rejects(NS_SSL_SERVER)
            && !self
                .key_usage_rejects(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)
    }

    /// v3_purp.c `purpose_smime`: 0 no, 1 yes, 2 a buggy SSL-client-typed certificate OpenSSL
    /// tolerates, 3-5 the CA kinds.
    fn purpose_smime(&self, require_ca: bool) -> u8 {
        if self.extended_key_usage_rejects(XKU_SMIME) {
            return 0;
        }
        if require_ca {
            let ca = self.check_ca_valid();
            if ca == 0 {
                return 0;
            }
            return if ca != 5
                || self
                    .netscape_cert_type
                    .is_some_and(|kind| kind & NS_SMIME_CA != 0)
            {
                ca
            } else {
                0
            };
        }
        match self.netscape_cert_type {
            Some(kind) if kind & NS_SMIME != 0 => 1,
            Some(kind) if kind & NS_SSL_CLIENT != 0 => 2,
            Some(_) => 0,
            None => 1,
        }
    }

    /// `ossl_x509_signing_allowed(self, subject)`: the issuer's key usage allows signing the
    /// subject (digitalSignature for a proxy certificate, keyCertSign otherwise).
    pub fn signing_allowed(&self, subject: &Facts) -> Result<(), VerifyCode> {
        if subject.proxy {
            if self.key_usage_rejects(KU_DIGITAL_SIGNATURE) {
                return Err(VerifyCode::KeyUsageNoDigitalSignature);
            }
        } else if self.key_usage_rejects(KU_KEY_CERT_SIGN) {
            return Err(VerifyCode::KeyUsageNoCertSign);
        }
        Ok(())
    }

    /// `X509_verify(self, issuer_key)`: the outer and inner algorithms must be identical
    /// (X509_ALGOR_cmp), then the signature must verify with the issuer's key.
    pub fn signature_verifies_with(&self, issuer: &Facts) -> Result<(), signature::SignatureError> {
        if self.outer_algorithm != self.inner_algorithm {
            return Err(signature::SignatureError::Invalid);
        }
        let Some(signature) = &self.signature else {
            return Err(signature::SignatureError::Invalid);
        };
        signature::verify_signature(
            &self.outer_algorithm,
            &issuer.key.spki,
            &self.tbs,
            signature,
        )
    }
}

/// Extensions ossl_x509v3_cache_extensions decodes (an undecodable or duplicated one makes
/// the certificate invalid).
const CACHED_EXTENSIONS: &[Oid<'static>] = &[
    OID_X509_EXT_BASIC_CONSTRAINTS,
    OID_PKIX_PROXY_CERT_INFO,
    OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_EXTENDED_KEY_USAGE,
    OID_X509_EXT_CERT_TYPE,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
    OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_NAME_CONSTRAINTS,
    OID_X509_EXT_CRL_DISTRIBUTION_POINTS,
    OID_PKIX_IP_ADDR_BLOCKS,
    OID_PKIX_AUTONOMOUS_SYS_IDS,
];

/// Extensions OpenSSL 3.0 handles, so a critical one is not "unhandled" (v3_purp.c
/// `X509_supported_extension`).
const OPENSSL_SUPPORTED_EXTENSIONS: &[Oid<'static>] = &[
    OID_X509_EXT_CERT_TYPE,
    OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_BASIC_CONSTRAINTS,
    OID_X509_EXT_CERTIFICATE_POLICIES,
    OID_X509_EXT_CRL_DISTRIBUTION_POINTS,
    OID_X509_EXT_EXTENDED_KEY_USAGE,
    OID_PKIX_IP_ADDR_BLOCKS,
    OID_PKIX_AUTONOMOUS_SYS_IDS,
    OID_PKIX_OCSP_NOCHECK,
    OID_X509_EXT_POLICY_CONSTRAINTS,
    OID_PKIX_PROXY_CERT_INFO,
    OID_X509_EXT_NAME_CONSTRAINTS,
    OID_X509_EXT_POLICY_MAPPINGS,
    OID_X509_EXT_INHIBIT_ANY_POLICY,
];

/// The canonical form X509_NAME_cmp compares.
pub fn canonical_name(name: &X509Name<'_>) -> CanonicalName {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let value = match attribute.as_str() {
                        Ok(text) => text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_lowercase(),
                        Err(_) => format!("{:02x?}", attribute.attr_value().data),
                    };
                    (attribute.attr_type().to_id_string(), value)
                })
                .collect()
        })
        .collect()
}

fn ip_from_san(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// An INTEGER's value bytes without redundant leading zero bytes (ASN1_INTEGER_cmp compares
/// values).
fn strip_integer(bytes: &[u8]) -> &[u8] {
    let mut rest = bytes;
    while rest.len() > 1 && rest[0] == 0 && rest[1] & 0x80 == 0 {
        rest = &rest[1..];
    }
    rest
}

/// The bytes of a DER BIT STRING (the extension value of key usage and Netscape cert type).
fn bit_string_bytes(value: &[u8]) -> Option<&[u8]> {
    der::single(value, der::BIT_STRING)?
        .split_first()
        .map(|(_, bytes)| bytes)
}

/// RFC 3820 ProxyCertInfo ::= SEQUENCE { pCPathLenConstraint INTEGER OPTIONAL, proxyPolicy
/// SEQUENCE { policyLanguage OID, policy OCTET STRING OPTIONAL } }. `Some(path length)` when
/// well formed.
fn parse_proxy_cert_info(value: &[u8]) -> Option<Option<u64>> {
    let mut fields = Reader::new(der::single(value, der::SEQUENCE)?);
    let path_len = match fields.optional(der::INTEGER) {
        Some(integer) => {
            if integer.is_empty() || integer.len() > 8 || integer[0] & 0x80 != 0 {
                return None;
            }
            Some(
                integer
                    .iter()
                    .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)),
            )
        }
        None => None,
    };
    let policy = fields.expect(der::SEQUENCE)?;
    if !fields.is_empty() {
        return None;
    }
    Reader::new(policy)
        .expect(der::OBJECT_IDENTIFIER)
        .map(|_| path_len)
}
