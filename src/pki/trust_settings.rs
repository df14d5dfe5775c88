//! OpenSSL's local trust settings: the `X509_CERT_AUX` trailer of `TRUSTED CERTIFICATE` blocks,
//! and the trust decision `X509_check_trust` makes from it (crypto/x509/x509_trust.c).
//!
//! `openssl x509 -addtrust serverAuth -trustout` writes a certificate followed by
//! `X509_CERT_AUX` (crypto/x509/x_x509a.c):
//!
//! ```text
//! X509_CERT_AUX ::= SEQUENCE {
//!     trust   SEQUENCE OF OBJECT IDENTIFIER OPTIONAL,       -- trusted uses
//!     reject  [0] IMPLICIT SEQUENCE OF OBJECT IDENTIFIER OPTIONAL,
//!     alias   UTF8String OPTIONAL,                           -- "friendly name"
//!     keyid   OCTET STRING OPTIONAL,
//!     other   [1] IMPLICIT SEQUENCE OF AlgorithmIdentifier OPTIONAL }
//! ```
//!
//! A CA file can so say "trust this root for TLS servers only" or "never trust it for TLS
//! clients". OpenSSL consults those lists twice while verifying (crypto/x509/x509_vfy.c):
//!
//! 1. **`check_trust`** decides whether the chain ends in a trust anchor. For every
//!    certificate of the chain that came from the trust store, from the first trusted one
//!    (index `num_untrusted`, counting from the leaf at 0) up to the top, it calls
//!    `X509_check_trust(x, ctx->param->trust, 0)`, i.e.
//!    `check_trust(x's settings, x is self-signed, x's extensions are valid, trust, TrustFlags::NONE)`
//!    with `trust` from [`trust_for_verify`]. The first [`TrustVerdict::Trusted`] makes the
//!    chain trusted, the first [`TrustVerdict::Rejected`] reports `X509_V_ERR_CERT_REJECTED`
//!    (28) at that certificate's depth; if every one is [`TrustVerdict::Untrusted`], the
//!    chain is trusted only when the top is in the store and `-partial_chain` is set, and
//!    otherwise falls through to OpenSSL's "no trust anchor" errors (2, 18, 19, 20 or 27,
//!    decided by the caller). With `-partial_chain` and no trusted certificate in the chain,
//!    the leaf itself is looked up in the store; when an identical certificate is there,
//!    its settings are checked the same way and only [`TrustVerdict::Rejected`] counts
//!    (reported at depth 0); anything else makes the chain trusted.
//! 2. **`check_purpose`** (inside `check_extensions`) lets explicit local trust override
//!    the EKU check: for a certificate at depth `>= num_untrusted` (from the store), when
//!    the purpose being checked is `ctx->param->purpose`, it first calls
//!    `check_trust(.., trust, TrustFlags::NO_SS_COMPAT)`; [`TrustVerdict::Trusted`] means the
//!    purpose check passes without looking at the certificate's extensions,
//!    [`TrustVerdict::Rejected`] means `X509_V_ERR_INVALID_PURPOSE` (26) at once, and
//!    [`TrustVerdict::Untrusted`] means the usual `X509_check_purpose` decides.
//!
//! Note what the decision does *not* read: the certificate's own extendedKeyUsage
//! extension. Only the auxiliary lists, the certificate's self-signed flag (`EXFLAG_SS`:
//! subject equals issuer, its AKID does not contradict its SKID and the signature
//! algorithm fits its key, as `ossl_x509v3_cache_extensions` computes it) and whether its
//! extensions could be decoded at all (`EXFLAG_INVALID`) matter.

use std::borrow::Cow;

use x509_parser::asn1_rs::{Class, Oid};

use crate::pki::oids::{
    OID_ANY_EXTENDED_KEY_USAGE, OID_PKIX_ACCESS_DESCRIPTOR_OCSP, OID_PKIX_KP_CLIENT_AUTH,
    OID_PKIX_KP_CODE_SIGNING, OID_PKIX_KP_EMAIL_PROTECTION, OID_PKIX_KP_OCSP_SIGNING,
    OID_PKIX_KP_SERVER_AUTH, OID_PKIX_KP_TIME_STAMPING,
};
use crate::pki::signature::der::{Tagged, c2i_object_identifier_accepts, tagged};
use crate::pki::verify::Purpose;

/// The decoded `X509_CERT_AUX` of one certificate.
///
/// `trust` and `reject` are `None` when the list is absent and `Some(vec![])` when it is
/// present but empty: OpenSSL tells the two apart, and a present, empty trust list rejects
/// the certificate for every purpose (`obj_trust`: "explicit trust EKU are set and none
/// match"), which `openssl verify` reports as error 28.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    /// Trusted uses, in file order (`openssl x509 -addtrust`).
    pub trust: Option<Vec<Oid<'static>>>,
    /// Rejected uses, in file order (`openssl x509 -addreject`).
    pub reject: Option<Vec<Oid<'static>>>,
    /// The alias (`-setalias`). OpenSSL does not check that a UTF8String is UTF-8; invalid
    /// sequences are replaced by U+FFFD here, since the alias is only ever displayed.
    pub alias: Option<String>,
    /// The key identifier (`X509_keyid_set1`).
    pub key_id: Option<Vec<u8>>,
}

/// A certificate as an OpenSSL trust store holds it: the certificate and, for a
/// `TRUSTED CERTIFICATE`, its trust settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCertificate {
    /// The certificate alone (without the `X509_CERT_AUX` that followed it).
    pub der: rustls_pki_types::CertificateDer<'static>,
    pub trust: Option<TrustSettings>,
}

/// Why bytes after a certificate are not a valid `X509_CERT_AUX`: the cases in which
/// `d2i_X509_AUX` fails, and with it OpenSSL's loading of the whole CA file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustSettingsError {
    #[error("the trust settings after the certificate are not DER: {reason}")]
    NotDer { reason: String },
    #[error(
        "the bytes after the certificate are not trust settings (expected a SEQUENCE, found tag {tag})"
    )]
    NotASequence { tag: String },
    #[error("the trust settings hold an unexpected field (tag {tag}) where {expected} belongs")]
    UnexpectedField { tag: String, expected: &'static str },
    #[error("the trust settings hold an invalid object identifier")]
    InvalidObjectIdentifier,
}

/// Parses an `X509_CERT_AUX` from the start of `der`, as `d2i_X509_CERT_AUX` does, and
/// returns the rest. Like OpenSSL, every field must be in order and the SEQUENCE must hold
/// nothing else; bytes *after* the SEQUENCE are returned, not judged: `d2i_X509_AUX` and
/// OpenSSL's PEM reader ignore them.
pub fn parse_trust_settings(der: &[u8]) -> Result<(TrustSettings, &[u8]), TrustSettingsError> {
    let (outer, rest) = next_element(der)?;
    if outer.class != Class::Universal || outer.tag != SEQUENCE || !outer.constructed {
        return Err(TrustSettingsError::NotASequence {
            tag: outer.describe_tag(),
        });
    }

    let mut settings = TrustSettings::default();
    let mut fields = outer.content;
    // The template's fields in order; each is optional, so a field is taken only when its
    // tag is the one expected at this position (ASN1_SEQUENCE with OPT templates).
    if let Some(element) = peek(fields, Class::Universal, SEQUENCE, true)? {
        settings.trust = Some(object_identifiers(element.content)?);
        fields = element.rest;
    }
    if let Some(element) = peek(fields, Class::ContextSpecific, 0, true)? {
        settings.reject = Some(object_identifiers(element.content)?);
        fields = element.rest;
    }
    if let Some(element) = peek(fields, Class::Universal, UTF8_STRING, false)? {
        settings.alias = Some(String::from_utf8_lossy(element.content).into_owned());
        fields = element.rest;
    }
    if let Some(element) = peek(fields, Class::Universal, OCTET_STRING, false)? {
        settings.key_id = Some(element.content.to_vec());
        fields = element.rest;
    }
    if let Some(element) = peek(fields, Class::ContextSpecific, 1, true)? {
        // SEQUENCE OF X509_ALGOR: kept by OpenSSL but used by nothing; checked for shape.
        let mut algorithms = element.content;
        while !algorithms.is_empty() {
            let (algorithm, after) = next_element(algorithms)?;
            if algorithm.class != Class::Universal || algorithm.tag != SEQUENCE {
                return Err(TrustSettingsError::UnexpectedField {
                    tag: algorithm.describe_tag(),
                    expected: "an AlgorithmIdentifier",
                });
            }
            let (oid, parameters) = next_element(algorithm.content)?;
            object_identifier(&oid)?;
            if !parameters.is_empty() {
                let (_, after_parameters) = next_element(parameters)?;
                if !after_parameters.is_empty() {
                    return Err(TrustSettingsError::UnexpectedField {
                        tag: next_element(after_parameters)?.0.describe_tag(),
                        expected: "the end of the AlgorithmIdentifier",
                    });
                }
            }
            algorithms = after;
        }
        fields = element.rest;
    }
    if !fields.is_empty() {
        // ASN1_R_SEQUENCE_LENGTH_MISMATCH (or a field out of order).
        return Err(TrustSettingsError::UnexpectedField {
            tag: next_element(fields)?.0.describe_tag(),
            expected: "the end of the trust settings",
        });
    }
    Ok((settings, rest))
}

/// OpenSSL's trust identifiers (`X509_TRUST_*`, include/openssl/x509_vfy.h), each with its
/// row of the `trstandard` table in x509_trust.c.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustId {
    /// `X509_TRUST_DEFAULT` (0): what `openssl verify` uses without `-purpose`, and with
    /// `-purpose any`. Trusted when anyExtendedKeyUsage is in the trust list, or when there
    /// are no lists at all and the certificate is self-signed.
    Default,
    /// `X509_TRUST_COMPAT`: self-signed means trusted; the lists are not read.
    Compat,
    SslClient,
    SslServer,
    Email,
    ObjectSign,
    OcspSign,
    OcspRequest,
    Tsa,
}

impl TrustId {
    /// The number OpenSSL gives it (`X509_TRUST_SSL_SERVER` is 3, ...).
    pub fn number(self) -> u32 {
        match self {
            TrustId::Default => 0,
            TrustId::Compat => 1,
            TrustId::SslClient => 2,
            TrustId::SslServer => 3,
            TrustId::Email => 4,
            TrustId::ObjectSign => 5,
            TrustId::OcspSign => 6,
            TrustId::OcspRequest => 7,
            TrustId::Tsa => 8,
        }
    }
}

/// What `X509_check_trust` answers (`X509_TRUST_TRUSTED`, `_REJECTED`, `_UNTRUSTED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustVerdict {
    /// Explicitly trusted for the use (or self-signed, where the compat rule applies).
    Trusted,
    /// Explicitly rejected for the use, or an explicit trust list that does not name it.
    Rejected,
    /// Neither: the settings say nothing about this use.
    Untrusted,
}

/// The `flags` argument of `X509_check_trust` (`X509_TRUST_*` flag bits of x509_vfy.h).
/// Callers pass [`TrustFlags::NONE`] or [`TrustFlags::NO_SS_COMPAT`]; the other two bits
/// are the ones the table's check functions add themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrustFlags(u8);

impl TrustFlags {
    /// No flag: what x509_vfy.c's `check_trust` passes.
    pub const NONE: TrustFlags = TrustFlags(0);
    /// `X509_TRUST_NO_SS_COMPAT`: a self-signed certificate is not trusted just for being
    /// self-signed. What x509_vfy.c's `check_purpose` passes.
    pub const NO_SS_COMPAT: TrustFlags = TrustFlags(1 << 2);
    /// `X509_TRUST_DO_SS_COMPAT`: without lists, fall back to the compat rule.
    pub const DO_SS_COMPAT: TrustFlags = TrustFlags(1 << 3);
    /// `X509_TRUST_OK_ANY_EKU`: anyExtendedKeyUsage in a list stands for every use.
    pub const OK_ANY_EKU: TrustFlags = TrustFlags(1 << 4);

    pub fn contains(self, other: TrustFlags) -> bool {
        self.0 & other.0 == other.0
    }

    #[must_use]
    pub fn with(self, other: TrustFlags) -> TrustFlags {
        TrustFlags(self.0 | other.0)
    }

    #[must_use]
    pub fn without(self, other: TrustFlags) -> TrustFlags {
        TrustFlags(self.0 & !other.0)
    }
}

/// `X509_check_trust(x, trust, flags)` of crypto/x509/x509_trust.c.
///
/// - `settings`: the certificate's `X509_CERT_AUX` (`None` for a plain `CERTIFICATE`).
/// - `self_signed`: OpenSSL's `EXFLAG_SS` for the certificate.
/// - `extensions_valid`: whether `ossl_x509v3_cache_extensions` succeeds, i.e. the
///   certificate is not `EXFLAG_INVALID` (an undecodable or duplicated extension, a bad
///   name constraints extension, ...). An invalid certificate is never trusted by the
///   self-signed (compat) rule.
/// - `trust`: `ctx->param->trust`, see [`trust_for_verify`].
/// - `flags`: see the module documentation for which caller passes what.
pub fn check_trust(
    settings: Option<&TrustSettings>,
    self_signed: bool,
    extensions_valid: bool,
    trust: TrustId,
    flags: TrustFlags,
) -> TrustVerdict {
    let certificate = Certificate {
        settings,
        self_signed,
        extensions_valid,
    };
    match trust {
        // "We get this as a default value": anyEKU, without OK_ANY_EKU, with compat.
        TrustId::Default => certificate.object_trust(
            &OID_ANY_EXTENDED_KEY_USAGE,
            flags.with(TrustFlags::DO_SS_COMPAT),
        ),
        TrustId::Compat => certificate.compat(flags),
        // trust_1oid: only an explicit entry for the use itself counts.
        TrustId::OcspSign | TrustId::OcspRequest => certificate.object_trust(
            &use_of(trust),
            flags.without(TrustFlags::DO_SS_COMPAT.with(TrustFlags::OK_ANY_EKU)),
        ),
        // trust_1oidany: the use, or anyEKU, or (without lists) self-signed.
        TrustId::SslClient
        | TrustId::SslServer
        | TrustId::Email
        | TrustId::ObjectSign
        | TrustId::Tsa => certificate.object_trust(
            &use_of(trust),
            flags
                .with(TrustFlags::DO_SS_COMPAT)
                .with(TrustFlags::OK_ANY_EKU),
        ),
    }
}

/// The trust a purpose implies: the `trust` column of v3_purp.c's `xstandard` table.
pub fn trust_for_purpose(purpose: Purpose) -> TrustId {
    match purpose {
        Purpose::SslClient => TrustId::SslClient,
        Purpose::SslServer | Purpose::NsSslServer => TrustId::SslServer,
        Purpose::SmimeSign | Purpose::SmimeEncrypt => TrustId::Email,
        Purpose::CrlSign | Purpose::OcspHelper => TrustId::Compat,
        Purpose::Any => TrustId::Default,
        Purpose::TimestampSign => TrustId::Tsa,
    }
}

/// `ctx->param->trust` for a verification with this purpose (`VerifyOptions::purpose`).
///
/// `X509_STORE_CTX_init` keeps the parameter's trust unless it is `X509_TRUST_DEFAULT`, in
/// which case it takes the purpose's trust. `openssl verify` sets only `-purpose`, so
/// without one the trust stays [`TrustId::Default`]; libssl's TLS client selects the
/// "ssl_server" parameters (x509_vpm.c), purpose and trust both SSL server, which is
/// `Some(Purpose::SslServer)` here.
pub fn trust_for_verify(purpose: Option<Purpose>) -> TrustId {
    purpose.map_or(TrustId::Default, trust_for_purpose)
}

/// The OID a trust identifier looks for in the lists (the `arg1` NID of `trstandard`):
/// `NID_client_auth`, `NID_server_auth`, `NID_email_protect`, `NID_code_sign`,
/// `NID_OCSP_sign`, `NID_ad_OCSP` (what the "OCSP request" trust looks for),
/// `NID_time_stamp`, and `NID_anyExtendedKeyUsage`.
fn use_of(trust: TrustId) -> Oid<'static> {
    match trust {
        TrustId::SslClient => OID_PKIX_KP_CLIENT_AUTH,
        TrustId::SslServer => OID_PKIX_KP_SERVER_AUTH,
        TrustId::Email => OID_PKIX_KP_EMAIL_PROTECTION,
        TrustId::ObjectSign => OID_PKIX_KP_CODE_SIGNING,
        TrustId::OcspSign => OID_PKIX_KP_OCSP_SIGNING,
        TrustId::OcspRequest => OID_PKIX_ACCESS_DESCRIPTOR_OCSP,
        TrustId::Tsa => OID_PKIX_KP_TIME_STAMPING,
        TrustId::Default | TrustId::Compat => OID_ANY_EXTENDED_KEY_USAGE,
    }
}

struct Certificate<'a> {
    settings: Option<&'a TrustSettings>,
    self_signed: bool,
    extensions_valid: bool,
}

impl Certificate<'_> {
    /// `obj_trust`: reject list first, then the trust list, then (only with
    /// `DO_SS_COMPAT`) the compat rule.
    fn object_trust(&self, wanted: &Oid<'_>, flags: TrustFlags) -> TrustVerdict {
        // OpenSSL compares NIDs; OIDs it does not know map to NID_undef and never match a
        // use, which comparing the encodings reproduces (padded ones were refused, and DER has
        // one encoding per OID).
        let names_use = |oid: &Oid<'static>| {
            oid == wanted
                || (*oid == OID_ANY_EXTENDED_KEY_USAGE && flags.contains(TrustFlags::OK_ANY_EKU))
        };
        let settings = self.settings;
        if let Some(reject) = settings.and_then(|s| s.reject.as_ref())
            && reject.iter().any(names_use)
        {
            return TrustVerdict::Rejected;
        }
        if let Some(trust) = settings.and_then(|s| s.trust.as_ref()) {
            // "Reject when explicit trust EKU are set and none match": without this a
            // partial chain could not tell a mismatch from the absence of settings.
            return if trust.iter().any(names_use) {
                TrustVerdict::Trusted
            } else {
                TrustVerdict::Rejected
            };
        }
        if !flags.contains(TrustFlags::DO_SS_COMPAT) {
            return TrustVerdict::Untrusted;
        }
        self.compat(flags)
    }

    /// `trust_compat`: a valid self-signed certificate is trusted unless `NO_SS_COMPAT`.
    fn compat(&self, flags: TrustFlags) -> TrustVerdict {
        if self.extensions_valid && self.self_signed && !flags.contains(TrustFlags::NO_SS_COMPAT) {
            TrustVerdict::Trusted
        } else {
            TrustVerdict::Untrusted
        }
    }
}

const OCTET_STRING: u32 = 4;
const OBJECT_IDENTIFIER: u32 = 6;
const UTF8_STRING: u32 = 12;
const SEQUENCE: u32 = 16;

type Element<'a> = Tagged<'a>;

fn next_element(input: &[u8]) -> Result<(Element<'_>, &[u8]), TrustSettingsError> {
    let element = tagged(input).map_err(|reason| TrustSettingsError::NotDer { reason })?;
    Ok((element, element.rest))
}

/// The next element if it has this class, tag and form; `None` when the field is absent
/// (input empty, or another tag: the next optional field may match it).
fn peek(
    input: &[u8],
    class: Class,
    tag: u32,
    constructed: bool,
) -> Result<Option<Element<'_>>, TrustSettingsError> {
    if input.is_empty() {
        return Ok(None);
    }
    let (element, _) = next_element(input)?;
    if element.class == class && element.tag == tag {
        if element.constructed != constructed {
            return Err(TrustSettingsError::UnexpectedField {
                tag: element.describe_tag(),
                expected: "a field of the other encoding form",
            });
        }
        Ok(Some(element))
    } else {
        Ok(None)
    }
}

fn object_identifiers(mut content: &[u8]) -> Result<Vec<Oid<'static>>, TrustSettingsError> {
    let mut oids = Vec::new();
    while !content.is_empty() {
        let (element, rest) = next_element(content)?;
        oids.push(object_identifier(&element)?);
        content = rest;
    }
    Ok(oids)
}

/// An OBJECT IDENTIFIER, refused where `c2i_ASN1_OBJECT` refuses it: empty, the last byte
/// continuing, or a sub-identifier padded with a leading 0x80.
fn object_identifier(element: &Element<'_>) -> Result<Oid<'static>, TrustSettingsError> {
    if !element.is(Class::Universal, OBJECT_IDENTIFIER, false) {
        return Err(TrustSettingsError::UnexpectedField {
            tag: element.describe_tag(),
            expected: "an OBJECT IDENTIFIER",
        });
    }
    if c2i_object_identifier_accepts(element.content) {
        Ok(Oid::new(Cow::Owned(element.content.to_vec())))
    } else {
        Err(TrustSettingsError::InvalidObjectIdentifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(trust: Option<&[Oid<'static>]>, reject: Option<&[Oid<'static>]>) -> TrustSettings {
        TrustSettings {
            trust: trust.map(<[Oid<'static>]>::to_vec),
            reject: reject.map(<[Oid<'static>]>::to_vec),
            alias: None,
            key_id: None,
        }
    }

    #[test]
    fn parses_every_field_in_order() {
        // trust [serverAuth], reject [clientAuth], alias "my root", keyid 01 02 03,
        // other [ {rsaEncryption, NULL} ]
        let der = [
            0x30, 0x37, //
            0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01, //
            0xa0, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02, //
            0x0c, 0x07, b'm', b'y', b' ', b'r', b'o', b'o', b't', //
            0x04, 0x03, 0x01, 0x02, 0x03, //
            0xa1, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00, //
            0xff, // after the SEQUENCE: returned, not judged
        ];
        let (parsed, rest) = parse_trust_settings(&der).unwrap();
        assert_eq!(
            parsed,
            TrustSettings {
                trust: Some(vec![OID_PKIX_KP_SERVER_AUTH]),
                reject: Some(vec![OID_PKIX_KP_CLIENT_AUTH]),
                alias: Some("my root".to_owned()),
                key_id: Some(vec![1, 2, 3]),
            }
        );
        assert_eq!(rest, &[0xff]);
    }

    #[test]
    fn absent_and_empty_lists_differ() {
        let (empty_aux, _) = parse_trust_settings(&[0x30, 0x00]).unwrap();
        assert_eq!(empty_aux, TrustSettings::default());
        let (empty_trust, _) = parse_trust_settings(&[0x30, 0x02, 0x30, 0x00]).unwrap();
        assert_eq!(empty_trust.trust, Some(vec![]));
    }

    #[test]
    fn refuses_what_d2i_x509_cert_aux_refuses() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x05, 0x00], "NULL instead of the SEQUENCE"),
            (&[0x30, 0x02, 0x00, 0x00], "end-of-contents inside"),
            (&[0x30, 0x02, 0x05, 0x00], "an unknown field"),
            (&[0x30, 0x05, 0x04, 0x01, 0x01][..], "truncated"),
            (
                &[0x30, 0x07, 0x04, 0x01, 0x01, 0x0c, 0x02, b'a', b'b'],
                "alias after keyid",
            ),
            (&[0x30, 0x04, 0x30, 0x02, 0x06, 0x00], "an empty OID"),
            (
                &[0x30, 0x05, 0x30, 0x03, 0x06, 0x01, 0x81],
                "an OID whose last byte continues",
            ),
            (
                &[0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x80, 0x01],
                "a padded sub-identifier",
            ),
            (
                &[0x30, 0x04, 0x30, 0x02, 0x04, 0x00],
                "an OCTET STRING as trust",
            ),
        ];
        for (der, what) in cases {
            assert!(parse_trust_settings(der).is_err(), "{what}");
        }
    }

    #[test]
    fn default_trust_is_any_eku_or_self_signed() {
        let none = TrustFlags::NONE;
        // No settings: the compat rule.
        assert_eq!(
            check_trust(None, true, true, TrustId::Default, none),
            TrustVerdict::Trusted
        );
        assert_eq!(
            check_trust(None, false, true, TrustId::Default, none),
            TrustVerdict::Untrusted
        );
        assert_eq!(
            check_trust(None, true, false, TrustId::Default, none),
            TrustVerdict::Untrusted
        );
        // An explicit list without anyEKU rejects (root+serverAuth under plain `verify`).
        let server = settings(Some(&[OID_PKIX_KP_SERVER_AUTH]), None);
        assert_eq!(
            check_trust(Some(&server), true, true, TrustId::Default, none),
            TrustVerdict::Rejected
        );
        let any = settings(Some(&[OID_ANY_EXTENDED_KEY_USAGE]), None);
        assert_eq!(
            check_trust(Some(&any), false, true, TrustId::Default, none),
            TrustVerdict::Trusted
        );
        // Only a rejected anyEKU counts for the default trust, not a rejected use.
        let no_client = settings(None, Some(&[OID_PKIX_KP_CLIENT_AUTH]));
        assert_eq!(
            check_trust(Some(&no_client), true, true, TrustId::Default, none),
            TrustVerdict::Trusted
        );
        let no_any = settings(None, Some(&[OID_ANY_EXTENDED_KEY_USAGE]));
        assert_eq!(
            check_trust(Some(&no_any), true, true, TrustId::Default, none),
            TrustVerdict::Rejected
        );
    }

    #[test]
    fn one_oid_any_trusts_the_use_or_any_eku() {
        let none = TrustFlags::NONE;
        let server = settings(Some(&[OID_PKIX_KP_SERVER_AUTH]), None);
        let client = settings(Some(&[OID_PKIX_KP_CLIENT_AUTH]), None);
        let any = settings(Some(&[OID_ANY_EXTENDED_KEY_USAGE]), None);
        let no_any = settings(None, Some(&[OID_ANY_EXTENDED_KEY_USAGE]));
        let empty = settings(Some(&[]), None);
        for (entry, self_signed, expected) in [
            (Some(&server), false, TrustVerdict::Trusted),
            (Some(&client), true, TrustVerdict::Rejected),
            (Some(&any), false, TrustVerdict::Trusted),
            (Some(&no_any), true, TrustVerdict::Rejected),
            (Some(&empty), true, TrustVerdict::Rejected),
            (None, true, TrustVerdict::Trusted),
            (None, false, TrustVerdict::Untrusted),
        ] {
            assert_eq!(
                check_trust(entry, self_signed, true, TrustId::SslServer, none),
                expected,
                "{entry:?} self-signed {self_signed}"
            );
        }
        // check_purpose's call: no blanket trust for being self-signed.
        assert_eq!(
            check_trust(
                None,
                true,
                true,
                TrustId::SslServer,
                TrustFlags::NO_SS_COMPAT
            ),
            TrustVerdict::Untrusted
        );
        assert_eq!(
            check_trust(
                Some(&server),
                true,
                true,
                TrustId::SslServer,
                TrustFlags::NO_SS_COMPAT
            ),
            TrustVerdict::Trusted
        );
    }

    /// `check_trust` for `trust` (extensions valid) gives each case's verdict:
    /// (settings, self-signed, flags, expected).
    #[track_caller]
    fn assert_verdicts(
        trust: TrustId,
        cases: &[(Option<&TrustSettings>, bool, TrustFlags, TrustVerdict)],
    ) {
        for &(entry, self_signed, flags, expected) in cases {
            assert_eq!(
                check_trust(entry, self_signed, true, trust, flags),
                expected,
                "{trust:?} {entry:?} self-signed {self_signed} {flags:?}"
            );
        }
    }

    #[test]
    fn one_oid_ignores_any_eku_and_self_signed() {
        let any = settings(Some(&[OID_ANY_EXTENDED_KEY_USAGE]), None);
        let ocsp = settings(Some(&[OID_PKIX_KP_OCSP_SIGNING]), None);
        let none = TrustFlags::NONE;
        assert_verdicts(
            TrustId::OcspSign,
            &[
                (Some(&any), true, none, TrustVerdict::Rejected),
                (Some(&ocsp), false, none, TrustVerdict::Trusted),
                (None, true, none, TrustVerdict::Untrusted),
            ],
        );
    }

    #[test]
    fn compat_reads_no_list() {
        let client = settings(None, Some(&[OID_ANY_EXTENDED_KEY_USAGE]));
        let none = TrustFlags::NONE;
        assert_verdicts(
            TrustId::Compat,
            &[
                (Some(&client), true, none, TrustVerdict::Trusted),
                (None, false, none, TrustVerdict::Untrusted),
                (
                    None,
                    true,
                    TrustFlags::NO_SS_COMPAT,
                    TrustVerdict::Untrusted,
                ),
            ],
        );
    }

    #[test]
    fn purposes_map_as_v3_purp_says() {
        assert_eq!(trust_for_verify(None), TrustId::Default);
        assert_eq!(trust_for_verify(Some(Purpose::Any)), TrustId::Default);
        assert_eq!(
            trust_for_verify(Some(Purpose::NsSslServer)),
            TrustId::SslServer
        );
        assert_eq!(trust_for_purpose(Purpose::SslClient), TrustId::SslClient);
        assert_eq!(trust_for_purpose(Purpose::SmimeEncrypt), TrustId::Email);
        assert_eq!(trust_for_purpose(Purpose::CrlSign), TrustId::Compat);
        assert_eq!(trust_for_purpose(Purpose::OcspHelper), TrustId::Compat);
        assert_eq!(trust_for_purpose(Purpose::TimestampSign), TrustId::Tsa);
        assert_eq!(TrustId::SslServer.number(), 3);
    }

    #[test]
    fn damaged_settings_never_panic() {
        let der = [
            0x30, 0x1b, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
            0xa0, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02, 0x04, 0x01,
            0x07,
        ];
        assert!(parse_trust_settings(&der).is_ok());
        for index in 0..der.len() {
            for mutated in [
                der[..index].to_vec(),
                [&der[..index], &[der[index] ^ 0xff], &der[index + 1..]].concat(),
            ] {
                if let Ok((settings, _)) = parse_trust_settings(&mutated) {
                    let _ = check_trust(
                        Some(&settings),
                        true,
                        true,
                        TrustId::SslServer,
                        TrustFlags::NONE,
                    );
                }
            }
        }
    }
}
