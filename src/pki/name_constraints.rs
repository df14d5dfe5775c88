//! Name constraints (RFC 5280 §4.2.1.10) exactly as OpenSSL 3.0 checks them
//! (crypto/x509/v3_ncons.c), with the same `X509_V_ERR_*` code for every outcome.
//!
//! # How x509_vfy.c uses this (`check_name_constraints`)
//!
//! After the chain is built, for every certificate `x` at index `i` of the chain (0 is the
//! leaf), from the top (`i = len - 1`) down to the leaf:
//!
//! 1. skip `x` when `i != 0` and `x` is self-issued (`EXFLAG_SI`: subject equals issuer);
//! 2. (proxy certificates: the subject-name rule, error 72, is the caller's);
//! 3. for every certificate `j` above it, from the top down (`j = len - 1` to `i + 1`, the
//!    trust anchor included) whose name constraints extension decoded (`x->nc`), call
//!    [`check`]`(x, constraints of j)`. When that is `Ok` and `i == 0`, and unless the host
//!    flags say `X509_CHECK_FLAG_NEVER_CHECK_SUBJECT`, also call
//!    [`check_common_names`]`(x, constraints of j)` when the host flags hold
//!    `X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT` or the leaf has no DNS subjectAltName
//!    ([`has_dns_subject_alt_name`]; `openssl verify` sets neither flag). An `Err(code)`
//!    from either is reported at depth `i` for `x` (`CB_FAIL_IF`), and the loops go on when
//!    the verify callback tolerates it. [`VerifyCode::OutOfMem`] is OpenSSL's internal-error
//!    return (`check_name_constraints` returns -1, and verification stops at once).
//!
//! A constraints extension that does not decode ([`parse_name_constraints`] fails) makes
//! OpenSSL mark that certificate `EXFLAG_INVALID` (reported by `check_extensions` as error 41,
//! X509_V_ERR_INVALID_EXTENSION, at its depth); its constraints are then simply absent.
//!
//! # What is compared
//!
//! - the subject DN (when it has any attribute) against directoryName subtrees, by
//!   OpenSSL's canonical encoding (`x509_name_canon`: strings to UTF-8, lower-cased ASCII,
//!   white space trimmed and collapsed; a subtree matches a name it is a prefix of);
//! - every `emailAddress` attribute of the subject against rfc822Name subtrees (an attribute
//!   that is not an IA5String is error 53);
//! - every subjectAltName entry (the extension is read as OpenSSL caches it: one SAN
//!   extension; two, or one that does not decode, count as none);
//! - for [`check_common_names`], every commonName that looks like a DNS name (two or more
//!   labels, letters, digits, `-` and `_`) against dNSName subtrees.
//!
//! Codes: 47 (permitted subtree violation), 48 (excluded), 49 (a minimum other than 0, or a
//! maximum, on a subtree of the name's type), 51 (a subtree of a type OpenSSL cannot check
//! — x400Address, ediPartyName, registeredID, otherName — that has a name of that type to
//! check), 53 (a name OpenSSL cannot parse: an email without `@`, a URI without `//host`, an
//! IP address that is not 4 or 16 bytes, an SmtpUTF8Mailbox that is not a UTF8String), 1
//! (over 2^20 name-subtree comparisons; or an internationalized email subtree whose A-label
//! does not decode). OpenSSL 3.0 never returns 52 from name constraints.

use x509_parser::asn1_rs::Class;

use crate::pki::VerifyCode;
use crate::pki::oids::{
    self, OID_PKCS9_EMAIL_ADDRESS, OID_PKIX_ON_SMTP_UTF8_MAILBOX, OID_X509_COMMON_NAME,
    OID_X509_EXT_SUBJECT_ALT_NAME,
};
use crate::pki::signature::der::{Tagged, c2i_object_identifier_accepts, tagged};

/// OpenSSL's `NAME_CHECK_MAX`: names times constraints beyond this are refused with
/// X509_V_ERR_UNSPECIFIED, to bound the work a hostile certificate can cause.
pub const NAME_CHECK_MAX: usize = 1 << 20;

/// A decoded name constraints extension: `NameConstraints ::= SEQUENCE { permittedSubtrees
/// [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] GeneralSubtrees OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameConstraints {
    permitted: Vec<GeneralSubtree>,
    excluded: Vec<GeneralSubtree>,
}

impl NameConstraints {
    /// How many permitted subtrees there are.
    pub fn permitted_count(&self) -> usize {
        self.permitted.len()
    }

    /// How many excluded subtrees there are.
    pub fn excluded_count(&self) -> usize {
        self.excluded.len()
    }
}

/// `GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0,
/// maximum [1] BaseDistance OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GeneralSubtree {
    base: GeneralName,
    /// `nc_minmax_valid`: a maximum, or a minimum other than 0, is unsupported (49).
    minmax_valid: bool,
}

/// A GeneralName as OpenSSL's `GENERAL_NAME` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GeneralName {
    /// The type-id OID's content bytes and the `[0] EXPLICIT` value's whole TLV.
    OtherName {
        type_id: Vec<u8>,
        value: Vec<u8>,
    },
    Email(Vec<u8>),
    Dns(Vec<u8>),
    X400Address,
    Directory(Name),
    EdiPartyName,
    Uri(Vec<u8>),
    IpAddress(Vec<u8>),
    RegisteredId,
}

/// The kinds of GeneralName (`GEN_*`), which `nc_match` compares first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OtherName,
    Email,
    Dns,
    X400Address,
    Directory,
    EdiPartyName,
    Uri,
    IpAddress,
    RegisteredId,
}

impl GeneralName {
    fn kind(&self) -> Kind {
        match self {
            GeneralName::OtherName { .. } => Kind::OtherName,
            GeneralName::Email(_) => Kind::Email,
            GeneralName::Dns(_) => Kind::Dns,
            GeneralName::X400Address => Kind::X400Address,
            GeneralName::Directory(_) => Kind::Directory,
            GeneralName::EdiPartyName => Kind::EdiPartyName,
            GeneralName::Uri(_) => Kind::Uri,
            GeneralName::IpAddress(_) => Kind::IpAddress,
            GeneralName::RegisteredId => Kind::RegisteredId,
        }
    }
}

/// An X.509 Name: its attributes in order and OpenSSL's canonical encoding of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    attributes: Vec<Attribute>,
    canonical: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Attribute {
    /// Content bytes of the attribute type OID.
    oid: Vec<u8>,
    /// The value's universal tag number (12 UTF8String, 22 IA5String, ...).
    tag: u32,
    /// The value's content bytes.
    value: Vec<u8>,
}

/// Why a name constraints extension (or a name inside it) does not decode. OpenSSL marks
/// such a certificate `EXFLAG_INVALID`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameConstraintsError {
    #[error("the name constraints are not DER: {reason}")]
    NotDer { reason: String },
    #[error("the name constraints hold {found} where {expected} belongs")]
    Unexpected {
        found: String,
        expected: &'static str,
    },
    #[error("the name constraints hold a badly encoded INTEGER")]
    InvalidInteger,
    #[error("the name constraints hold an invalid object identifier")]
    InvalidObjectIdentifier,
    #[error("a directory name in the name constraints cannot be decoded: {reason}")]
    InvalidName { reason: &'static str },
}

/// Parses a name constraints extension value (the OCTET STRING's content), as
/// `X509V3_EXT_d2i` does. `Err` means OpenSSL would mark the certificate invalid
/// (`EXFLAG_INVALID`). Like OpenSSL, bytes after the outer SEQUENCE are ignored, and empty
/// subtree lists are accepted (RFC 5280 forbids them; OpenSSL does not check).
pub fn parse_name_constraints(
    extension_value_der: &[u8],
) -> Result<NameConstraints, NameConstraintsError> {
    let (outer, _ignored) = constructed(extension_value_der, SEQUENCE, "a SEQUENCE")?;
    let mut constraints = NameConstraints {
        permitted: Vec::new(),
        excluded: Vec::new(),
    };
    let mut fields = outer.content;
    for (number, list) in [
        (0, &mut constraints.permitted),
        (1, &mut constraints.excluded),
    ] {
        let Some(field) = optional_field(&mut fields, number, true, "a subtree list")? else {
            continue;
        };
        let mut subtrees = field.content;
        while !subtrees.is_empty() {
            let (subtree, after) = element(subtrees)?;
            list.push(general_subtree(&subtree)?);
            subtrees = after;
        }
    }
    expect_end(fields, "the end of the name constraints")?;
    Ok(constraints)
}

/// The next of a SEQUENCE's `fields` when it is the OPTIONAL `[number]` field, checked to be
/// `constructed` (else `what` is what was expected) and taken off `fields`; `None` when the
/// fields are used up or the next one has another tag (the field is absent).
fn optional_field<'a>(
    fields: &mut &'a [u8],
    number: u32,
    constructed: bool,
    what: &'static str,
) -> Result<Option<Element<'a>>, NameConstraintsError> {
    if fields.is_empty() {
        return Ok(None);
    }
    let (field, rest) = element(fields)?;
    if field.class != Class::ContextSpecific || field.tag != number {
        return Ok(None);
    }
    expect(&field, Class::ContextSpecific, number, constructed, what)?;
    *fields = rest;
    Ok(Some(field))
}

/// Refuses what is left of a SEQUENCE's fields after the last one it may hold.
fn expect_end(fields: &[u8], expected: &'static str) -> Result<(), NameConstraintsError> {
    if fields.is_empty() {
        return Ok(());
    }
    let (field, _) = element(fields)?;
    Err(NameConstraintsError::Unexpected {
        found: describe(&field),
        expected,
    })
}

fn general_subtree(subtree: &Element<'_>) -> Result<GeneralSubtree, NameConstraintsError> {
    expect(
        subtree,
        Class::Universal,
        SEQUENCE,
        true,
        "a GeneralSubtree",
    )?;
    let (base, mut fields) = element(subtree.content)?;
    let base = general_name(&base)?;
    let mut minmax_valid = true;
    for number in [0, 1] {
        let Some(field) = optional_field(&mut fields, number, false, "a BaseDistance")? else {
            continue;
        };
        let zero = integer_is_zero(field.content)?;
        // nc_minmax_valid: the maximum must be absent, the minimum absent or 0.
        if number == 1 || !zero {
            minmax_valid = false;
        }
    }
    expect_end(fields, "the end of a GeneralSubtree")?;
    Ok(GeneralSubtree { base, minmax_valid })
}

/// `c2i_ASN1_INTEGER`: no empty content and no redundant leading 0x00/0xFF byte.
fn integer_is_zero(content: &[u8]) -> Result<bool, NameConstraintsError> {
    match content {
        [] => Err(NameConstraintsError::InvalidInteger),
        [0x00, next, ..] if next & 0x80 == 0 => Err(NameConstraintsError::InvalidInteger),
        [0xff, next, ..] if next & 0x80 != 0 => Err(NameConstraintsError::InvalidInteger),
        _ => Ok(content == [0]),
    }
}

/// A `GENERAL_NAME` (crypto/x509/v3_genn.c): an IMPLICIT-tagged choice, directoryName
/// EXPLICIT. IA5String contents are not checked for being ASCII, as OpenSSL does not.
fn general_name(name: &Element<'_>) -> Result<GeneralName, NameConstraintsError> {
    if name.class != Class::ContextSpecific {
        return Err(NameConstraintsError::Unexpected {
            found: describe(name),
            expected: "a GeneralName",
        });
    }
    let constructed = matches!(name.tag, 0 | 3 | 4 | 5);
    expect(
        name,
        Class::ContextSpecific,
        name.tag,
        constructed,
        "a GeneralName",
    )?;
    Ok(match name.tag {
        0 => {
            // OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
            let (type_id, rest) = element(name.content)?;
            let type_id = object_identifier(&type_id)?;
            let (value, rest) = element(rest)?;
            expect(
                &value,
                Class::ContextSpecific,
                0,
                true,
                "an otherName value",
            )?;
            let (inner, after) = element(value.content)?;
            if !after.is_empty() || !rest.is_empty() {
                return Err(NameConstraintsError::Unexpected {
                    found: "extra data".into(),
                    expected: "the end of an otherName",
                });
            }
            GeneralName::OtherName {
                type_id,
                value: inner.encoded.to_vec(),
            }
        }
        1 => GeneralName::Email(name.content.to_vec()),
        2 => GeneralName::Dns(name.content.to_vec()),
        3 => GeneralName::X400Address,
        4 => {
            let (inner, after) = element(name.content)?;
            if !after.is_empty() {
                return Err(NameConstraintsError::Unexpected {
                    found: "extra data".into(),
                    expected: "the end of a directoryName",
                });
            }
            GeneralName::Directory(parse_name(&inner)?)
        }
        5 => GeneralName::EdiPartyName,
        6 => GeneralName::Uri(name.content.to_vec()),
        7 => GeneralName::IpAddress(name.content.to_vec()),
        8 => {
            object_identifier(&Element {
                tag: OBJECT_IDENTIFIER,
                class: Class::Universal,
                ..*name
            })?;
            GeneralName::RegisteredId
        }
        _ => {
            return Err(NameConstraintsError::Unexpected {
                found: describe(name),
                expected: "a GeneralName",
            });
        }
    })
}

/// `NAME_CONSTRAINTS_check`: the certificate's subject DN, its emailAddress attributes and
/// its subjectAltName entries against `constraints`. See the module documentation for
/// where x509_vfy.c calls it; `certificate_der` must be a certificate that x509-parser
/// reads (every certificate edgeprobe loads is one); one that is not gives
/// [`VerifyCode::UnsupportedNameSyntax`].
pub fn check(certificate_der: &[u8], constraints: &NameConstraints) -> Result<(), VerifyCode> {
    let names = CertificateNames::read(certificate_der)?;
    let name_count = names.subject.attributes.len() + names.alt_names.len();
    let constraint_count = constraints.permitted.len() + constraints.excluded.len();
    // Computed as OpenSSL does, with integer division.
    if name_count > 0 && constraint_count > NAME_CHECK_MAX / name_count {
        return Err(VerifyCode::Unspecified);
    }

    if !names.subject.attributes.is_empty() {
        match_name(&GeneralName::Directory(names.subject.clone()), constraints)?;
        for attribute in &names.subject.attributes {
            if attribute.oid != OID_PKCS9_EMAIL_ADDRESS.as_bytes() {
                continue;
            }
            if attribute.tag != IA5_STRING {
                return Err(VerifyCode::UnsupportedNameSyntax);
            }
            match_name(&GeneralName::Email(attribute.value.clone()), constraints)?;
        }
    }
    for name in &names.alt_names {
        match_name(name, constraints)?;
    }
    Ok(())
}

/// `NAME_CONSTRAINTS_check_CN`: the commonNames of a leaf that look like DNS names
/// (`cn2dnsid`) against the dNSName subtrees. Only meaningful after [`check`] passed, which
/// also bounds the work.
pub fn check_common_names(
    certificate_der: &[u8],
    constraints: &NameConstraints,
) -> Result<(), VerifyCode> {
    let names = CertificateNames::read(certificate_der)?;
    for attribute in &names.subject.attributes {
        if attribute.oid != OID_X509_COMMON_NAME.as_bytes() {
            continue;
        }
        if let Some(dns_id) = common_name_dns_id(attribute)? {
            match_name(&GeneralName::Dns(dns_id), constraints)?;
        }
    }
    Ok(())
}

/// Whether the certificate has a dNSName in its subjectAltName (x509_vfy.c `has_san_id(x,
/// GEN_DNS)`), which decides whether [`check_common_names`] is called for the leaf.
pub fn has_dns_subject_alt_name(certificate_der: &[u8]) -> bool {
    CertificateNames::read(certificate_der).is_ok_and(|names| {
        names
            .alt_names
            .iter()
            .any(|name| matches!(name, GeneralName::Dns(_)))
    })
}

/// `cn2dnsid`: the CN as a DNS-ID, or `None` when it does not look like a host name.
fn common_name_dns_id(attribute: &Attribute) -> Result<Option<Vec<u8>>, VerifyCode> {
    // ASN1_STRING_to_UTF8 fails only for types it cannot convert; OpenSSL maps that to
    // X509_V_ERR_OUT_OF_MEM, its internal-error path.
    let mut utf8 = string_to_utf8(attribute.tag, &attribute.value).ok_or(VerifyCode::OutOfMem)?;
    // Trailing NULs are harmless; embedded ones are refused.
    while utf8.last() == Some(&0) {
        utf8.pop();
    }
    if utf8.contains(&0) {
        return Err(VerifyCode::UnsupportedNameSyntax);
    }
    let length = utf8.len();
    let mut looks_like_dns = false;
    for (index, &byte) in utf8.iter().enumerate() {
        if byte.is_ascii_alphanumeric() || byte == b'_' {
            continue;
        }
        // A '-' or '.' must be inside the name, and a '.' between two label characters.
        if index > 0 && index < length - 1 {
            if byte == b'-' {
                continue;
            }
            if byte == b'.'
                && utf8[index + 1] != b'.'
                && utf8[index - 1] != b'-'
                && utf8[index + 1] != b'-'
            {
                looks_like_dns = true;
                continue;
            }
        }
        looks_like_dns = false;
        break;
    }
    Ok(looks_like_dns.then_some(utf8))
}

/// `nc_match`: one name against every subtree of its type, permitted then excluded.
fn match_name(name: &GeneralName, constraints: &NameConstraints) -> Result<(), VerifyCode> {
    // RFC 8398 §6: an SmtpUTF8Mailbox otherName is checked against rfc822Name subtrees.
    let effective = match name {
        GeneralName::OtherName { type_id, .. }
            if type_id == OID_PKIX_ON_SMTP_UTF8_MAILBOX.as_bytes() =>
        {
            Kind::Email
        }
        other => other.kind(),
    };
    let applies = |subtree: &GeneralSubtree| {
        effective == subtree.base.kind()
            && match (name, &subtree.base) {
                (
                    GeneralName::OtherName { type_id, .. },
                    GeneralName::OtherName {
                        type_id: base_type, ..
                    },
                ) => type_id == base_type,
                _ => true,
            }
    };

    let mut seen = false;
    let mut matched = false;
    for subtree in constraints.permitted.iter().filter(|s| applies(s)) {
        if !subtree.minmax_valid {
            return Err(VerifyCode::SubtreeMinmax);
        }
        if matched {
            continue;
        }
        seen = true;
        match match_single(name, &subtree.base) {
            Ok(()) => matched = true,
            Err(VerifyCode::PermittedViolation) => {}
            Err(other) => return Err(other),
        }
    }
    if seen && !matched {
        return Err(VerifyCode::PermittedViolation);
    }

    for subtree in constraints.excluded.iter().filter(|s| applies(s)) {
        if !subtree.minmax_valid {
            return Err(VerifyCode::SubtreeMinmax);
        }
        match match_single(name, &subtree.base) {
            Ok(()) => return Err(VerifyCode::ExcludedViolation),
            Err(VerifyCode::PermittedViolation) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// `nc_match_single`: `Ok` when `name` is within `base`; `PermittedViolation` when not.
fn match_single(name: &GeneralName, base: &GeneralName) -> Result<(), VerifyCode> {
    match (name, base) {
        (GeneralName::OtherName { type_id, value }, GeneralName::Email(base))
            if type_id == OID_PKIX_ON_SMTP_UTF8_MAILBOX.as_bytes() =>
        {
            match_email_eai(value, base)
        }
        (GeneralName::Directory(name), GeneralName::Directory(base)) => {
            if name.canonical.starts_with(&base.canonical) {
                Ok(())
            } else {
                Err(VerifyCode::PermittedViolation)
            }
        }
        (GeneralName::Dns(name), GeneralName::Dns(base)) => match_dns(name, base),
        (GeneralName::Email(name), GeneralName::Email(base)) => match_email(name, base),
        (GeneralName::Uri(name), GeneralName::Uri(base)) => match_uri(name, base),
        (GeneralName::IpAddress(name), GeneralName::IpAddress(base)) => match_ip(name, base),
        // otherName (but SmtpUTF8Mailbox), x400Address, ediPartyName, registeredID.
        _ => Err(VerifyCode::UnsupportedConstraintType),
    }
}

fn violation_unless(matches: bool) -> Result<(), VerifyCode> {
    if matches {
        Ok(())
    } else {
        Err(VerifyCode::PermittedViolation)
    }
}

/// `ia5ncasecmp` equality: ASCII letters compare case-insensitively, every other byte
/// exactly (no locale, so no Turkish dotless i).
fn ascii_case_equal(left: &[u8], right: &[u8]) -> bool {
    left.eq_ignore_ascii_case(right)
}

/// `nc_dns`: an empty base matches everything; otherwise the name must end with the base,
/// at a label boundary unless the base itself starts with '.'.
fn match_dns(name: &[u8], base: &[u8]) -> Result<(), VerifyCode> {
    if base.is_empty() {
        return Ok(());
    }
    if name.len() < base.len() {
        return Err(VerifyCode::PermittedViolation);
    }
    let start = name.len() - base.len();
    if start > 0 && base[0] != b'.' && name[start - 1] != b'.' {
        return Err(VerifyCode::PermittedViolation);
    }
    violation_unless(ascii_case_equal(base, &name[start..]))
}

fn last_at(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&byte| byte == b'@')
}

/// `nc_email`: `.domain` matches any address in a subdomain; `domain` an address at that
/// host; `local@domain` that mailbox (local part case-sensitive, host not).
fn match_email(name: &[u8], base: &[u8]) -> Result<(), VerifyCode> {
    let name_at = last_at(name).ok_or(VerifyCode::UnsupportedNameSyntax)?;
    let base_at = last_at(base);
    if base_at.is_none() && base.first() == Some(&b'.') {
        return violation_unless(
            name.len() > base.len() && ascii_case_equal(base, &name[name.len() - base.len()..]),
        );
    }
    let mut base_host = base;
    if let Some(base_at) = base_at {
        if base_at != 0 {
            if base_at != name_at {
                return Err(VerifyCode::PermittedViolation);
            }
            if base[..base_at].contains(&0) || name[..name_at].contains(&0) {
                return Err(VerifyCode::UnsupportedNameSyntax);
            }
            if base[..base_at] != name[..name_at] {
                return Err(VerifyCode::PermittedViolation);
            }
        }
        base_host = &base[base_at + 1..];
    }
    violation_unless(ascii_case_equal(base_host, &name[name_at + 1..]))
}

/// `nc_email_eai`: an SmtpUTF8Mailbox (UTF-8) against an rfc822Name subtree whose host is
/// an A-label, compared after decoding it to a U-label (RFC 8398 §6).
fn match_email_eai(value: &[u8], base: &[u8]) -> Result<(), VerifyCode> {
    if base.contains(&0) {
        return Err(VerifyCode::UnsupportedNameSyntax);
    }
    let (value, _) = element(value).map_err(|_| VerifyCode::UnsupportedNameSyntax)?;
    if value.class != Class::Universal || value.tag != UTF8_STRING || value.constructed {
        return Err(VerifyCode::UnsupportedNameSyntax);
    }
    let email = value.content;
    let at = last_at(email).ok_or(VerifyCode::UnsupportedNameSyntax)?;
    if base.first() == Some(&b'.') {
        // OpenSSL writes '.' and then the whole decoded base, which starts with '.' too:
        // the subtree ".example.com" becomes "..example.com" here, and matches only an
        // address ending that way. Reproduced as is (openssl verify 3.0.19 gives 47 for
        // a@mail.example.com and OK for a@mail..example.com under ".example.com").
        let decoded = a_label_to_u_label(base, 254).ok_or(VerifyCode::Unspecified)?;
        let suffix = [b".".as_slice(), &decoded].concat();
        return violation_unless(
            email.len() > suffix.len()
                && ascii_case_equal(&suffix, &email[email.len() - suffix.len()..]),
        );
    }
    let decoded = a_label_to_u_label(base, 255).ok_or(VerifyCode::Unspecified)?;
    violation_unless(ascii_case_equal(&decoded, &email[at + 1..]))
}

/// `nc_uri`: the host of `scheme://host[:port][/path]` against the base (`.domain` matches
/// subdomains only).
fn match_uri(uri: &[u8], base: &[u8]) -> Result<(), VerifyCode> {
    let colon = uri
        .iter()
        .position(|&byte| byte == b':')
        .ok_or(VerifyCode::UnsupportedNameSyntax)?;
    if uri.len() - colon < 3 || uri[colon + 1] != b'/' || uri[colon + 2] != b'/' {
        return Err(VerifyCode::UnsupportedNameSyntax);
    }
    let after = &uri[colon + 3..];
    // A port ends the host first; otherwise a '/'.
    let host_length = after
        .iter()
        .position(|&byte| byte == b':')
        .or_else(|| after.iter().position(|&byte| byte == b'/'))
        .unwrap_or(after.len());
    if host_length == 0 {
        return Err(VerifyCode::UnsupportedNameSyntax);
    }
    let host = &after[..host_length];
    if base.first() == Some(&b'.') {
        return violation_unless(
            host.len() > base.len() && ascii_case_equal(&host[host.len() - base.len()..], base),
        );
    }
    violation_unless(ascii_case_equal(host, base))
}

/// `nc_ip`: address and mask (8 or 32 bytes) against a 4- or 16-byte address.
fn match_ip(address: &[u8], base: &[u8]) -> Result<(), VerifyCode> {
    if !matches!(address.len(), 4 | 16) || !matches!(base.len(), 8 | 32) {
        return Err(VerifyCode::UnsupportedNameSyntax);
    }
    if address.len() * 2 != base.len() {
        return Err(VerifyCode::PermittedViolation);
    }
    let (network, mask) = base.split_at(address.len());
    violation_unless(
        address
            .iter()
            .zip(network)
            .zip(mask)
            .all(|((address, network), mask)| address & mask == network & mask),
    )
}

/// `ossl_a2ulabel` (crypto/punycode.c): every `xn--` label decoded to UTF-8, the others
/// copied; `None` when a label does not decode or the result (with OpenSSL's terminating
/// NUL) would not fit in `capacity` bytes.
fn a_label_to_u_label(name: &[u8], capacity: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let labels: Vec<&[u8]> = name.split(|&byte| byte == b'.').collect();
    for (index, label) in labels.iter().enumerate() {
        match label.strip_prefix(b"xn--") {
            Some(encoded) => {
                for code_point in punycode_decode(encoded)? {
                    push_utf8(&mut out, code_point)?;
                }
            }
            None => out.extend_from_slice(label),
        }
        if index + 1 < labels.len() {
            out.push(b'.');
        }
    }
    // The NUL OpenSSL writes after the last label counts against the buffer.
    (out.len() < capacity).then_some(out)
}

/// `codepoint2utf8`: UTF-8 of any code point up to U+10FFFF (surrogates included, as
/// OpenSSL writes them); `None` above.
fn push_utf8(out: &mut Vec<u8>, code_point: u32) -> Option<()> {
    let continuation = |shift: u32| 0x80 | ((code_point >> shift) & 0x3f) as u8;
    match code_point {
        0..=0x7f => out.push(code_point as u8),
        0x80..=0x7ff => out.extend([0xc0 | (code_point >> 6) as u8, continuation(0)]),
        0x800..=0xffff => out.extend([
            0xe0 | (code_point >> 12) as u8,
            continuation(6),
            continuation(0),
        ]),
        0x1_0000..=0x10_ffff => out.extend([
            0xf0 | (code_point >> 18) as u8,
            continuation(12),
            continuation(6),
            continuation(0),
        ]),
        _ => return None,
    }
    Some(())
}

/// RFC 3492 decoding with the limits of OpenSSL's `ossl_punycode_decode` (32-bit
/// arithmetic with overflow checks, at most 512 code points).
fn punycode_decode(encoded: &[u8]) -> Option<Vec<u32>> {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    const MAX_OUT: usize = 512;

    fn adapt(delta: u32, points: u32, first: bool) -> u32 {
        let mut delta = if first { delta / DAMP } else { delta / 2 };
        delta = delta.wrapping_add(delta / points);
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + ((BASE - T_MIN + 1) * delta) / (delta + SKEW)
    }
    fn digit(byte: u8) -> Option<u32> {
        match byte {
            b'A'..=b'Z' => Some(u32::from(byte - b'A')),
            b'a'..=b'z' => Some(u32::from(byte - b'a')),
            b'0'..=b'9' => Some(u32::from(byte - b'0') + 26),
            _ => None,
        }
    }

    let mut output: Vec<u32> = Vec::new();
    // The basic code points are those before the last '-' (none when it is first).
    let basic = encoded.iter().rposition(|&byte| byte == b'-').unwrap_or(0);
    let mut position = 0;
    if basic > 0 {
        if basic > MAX_OUT || !encoded[..basic].is_ascii() {
            return None;
        }
        output.extend(encoded[..basic].iter().map(|&byte| u32::from(byte)));
        position = basic + 1;
    }
    let (mut n, mut i, mut bias) = (0x80_u32, 0_u32, 72_u32);
    while position < encoded.len() {
        let old_i = i;
        let mut weight = 1_u32;
        let mut k = BASE;
        loop {
            let value = digit(*encoded.get(position)?)?;
            position += 1;
            if value > (u32::MAX - i) / weight {
                return None;
            }
            i += value * weight;
            let threshold = if k <= bias {
                T_MIN
            } else if k >= bias + T_MAX {
                T_MAX
            } else {
                k - bias
            };
            if value < threshold {
                break;
            }
            if weight > u32::MAX / (BASE - threshold) {
                return None;
            }
            weight *= BASE - threshold;
            k += BASE;
        }
        let count = u32::try_from(output.len() + 1).ok()?;
        bias = adapt(i - old_i, count, old_i == 0);
        if i / count > u32::MAX - n {
            return None;
        }
        n += i / count;
        i %= count;
        if output.len() >= MAX_OUT {
            return None;
        }
        output.insert(i as usize, n);
        i += 1;
    }
    Some(output)
}

/// The names of a certificate that name constraints look at.
struct CertificateNames {
    subject: Name,
    alt_names: Vec<GeneralName>,
}

impl CertificateNames {
    fn read(certificate_der: &[u8]) -> Result<CertificateNames, VerifyCode> {
        let (_, certificate) = x509_parser::parse_x509_certificate(certificate_der)
            .map_err(|_| VerifyCode::UnsupportedNameSyntax)?;
        let (subject, _) = element(certificate.tbs_certificate.subject.as_raw())
            .map_err(|_| VerifyCode::UnsupportedNameSyntax)?;
        let subject = parse_name(&subject).map_err(|_| VerifyCode::UnsupportedNameSyntax)?;
        // x->altname: the one subjectAltName extension, decoded; none when there are two
        // (X509_get_ext_d2i's "more than one") or it does not decode (EXFLAG_INVALID).
        let extensions: Vec<_> = certificate
            .tbs_certificate
            .extensions()
            .iter()
            .filter(|extension| oids::same(&extension.oid, &OID_X509_EXT_SUBJECT_ALT_NAME))
            .collect();
        let alt_names = match extensions.as_slice() {
            [only] => general_names(only.value).unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(CertificateNames { subject, alt_names })
    }
}

/// `GeneralNames ::= SEQUENCE OF GeneralName`, bytes after it ignored (X509V3_EXT_d2i).
fn general_names(der: &[u8]) -> Result<Vec<GeneralName>, NameConstraintsError> {
    let (outer, _) = constructed(der, SEQUENCE, "GeneralNames")?;
    let mut names = Vec::new();
    let mut rest = outer.content;
    while !rest.is_empty() {
        let (name, after) = element(rest)?;
        names.push(general_name(&name)?);
        rest = after;
    }
    Ok(names)
}

/// OpenSSL's canonical encoding (`x509_name_canon`, see [`parse_name`]) of the DER Name
/// `der`: what name constraints compare and what `X509_NAME_hash` is computed over
/// ([`super::name_hash`]). `None` where OpenSSL's decoding of the name fails.
pub(crate) fn canonical_name(der: &[u8]) -> Option<Vec<u8>> {
    match element(der).ok()? {
        (name, []) => parse_name(&name).ok().map(|name| name.canonical),
        _ => None,
    }
}

/// Decodes a Name and computes OpenSSL's canonical encoding of it (`x509_name_canon`): each
/// RDN as a DER SET (members sorted) of `SEQUENCE { type, value }`, concatenated without the
/// outer SEQUENCE, with string values converted to lower-cased, space-collapsed UTF8String
/// (`asn1_string_canon`). Fails where OpenSSL's decoding of the name fails.
fn parse_name(name: &Element<'_>) -> Result<Name, NameConstraintsError> {
    expect(name, Class::Universal, SEQUENCE, true, "a Name")?;
    let mut attributes = Vec::new();
    let mut canonical = Vec::new();
    let mut rdns = name.content;
    while !rdns.is_empty() {
        let (rdn, after) = constructed(rdns, SET, "a RelativeDistinguishedName")?;
        let mut members = Vec::new();
        let mut rest = rdn.content;
        while !rest.is_empty() {
            let (member, after_member) = constructed(rest, SEQUENCE, "an AttributeTypeAndValue")?;
            let (oid, value_and_rest) = element(member.content)?;
            let oid_content = object_identifier(&oid)?;
            let (value, end) = element(value_and_rest)?;
            if !end.is_empty() || value.class != Class::Universal {
                return Err(NameConstraintsError::Unexpected {
                    found: describe(&value),
                    expected: "an attribute value",
                });
            }
            let canonical_value = canonical_value(&value)?;
            members.push(tlv(
                SEQUENCE_BYTE,
                &[oid.encoded, &canonical_value].concat(),
            ));
            attributes.push(Attribute {
                oid: oid_content,
                tag: value.tag,
                value: value.content.to_vec(),
            });
            rest = after_member;
        }
        // An empty RDN leaves no trace in OpenSSL's X509_NAME.
        if !members.is_empty() {
            // DER SET OF order (der_cmp): bytewise, then shorter first.
            members.sort();
            canonical.extend(tlv(SET_BYTE, &members.concat()));
        }
        rdns = after;
    }
    Ok(Name {
        attributes,
        canonical,
    })
}

/// `asn1_string_canon` of one attribute value, re-encoded.
fn canonical_value(value: &Element<'_>) -> Result<Vec<u8>, NameConstraintsError> {
    // ASN1_MASK_CANON: UTF8String, BMPString, UniversalString, PrintableString, T61String,
    // IA5String, VisibleString. Other types are copied as they are.
    if value.constructed || !matches!(value.tag, 12 | 19 | 20 | 22 | 26 | 28 | 30) {
        return Ok(value.encoded.to_vec());
    }
    let utf8 =
        string_to_utf8(value.tag, value.content).ok_or(NameConstraintsError::InvalidName {
            reason: "a string attribute is not valid in its character set",
        })?;
    // ossl_isspace: space, \t, \n, \v, \f, \r.
    let space = |byte: &u8| matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = utf8.iter().position(|b| !space(b)).unwrap_or(utf8.len());
    let end = utf8
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |p| p + 1);
    let mut canonical = Vec::with_capacity(end - start);
    let mut previous_space = false;
    for byte in &utf8[start..end] {
        if space(byte) {
            if !previous_space {
                canonical.push(b' ');
            }
            previous_space = true;
        } else {
            canonical.push(byte.to_ascii_lowercase());
            previous_space = false;
        }
    }
    Ok(tlv(UTF8_STRING as u8, &canonical))
}

/// `ASN1_STRING_to_UTF8` for a universal string tag; `None` for a type it cannot convert
/// or content invalid for the type.
fn string_to_utf8(tag: u32, content: &[u8]) -> Option<Vec<u8>> {
    let from_code_points = |points: &mut dyn Iterator<Item = u32>| -> Option<Vec<u8>> {
        let mut text = String::new();
        for point in points {
            text.push(char::from_u32(point)?);
        }
        Some(text.into_bytes())
    };
    match tag {
        12 => std::str::from_utf8(content).ok().map(|_| content.to_vec()),
        // One byte per character, read as Latin-1 (NumericString, PrintableString,
        // T61String, IA5String, UTCTime, GeneralizedTime, VisibleString).
        18 | 19 | 20 | 22 | 23 | 24 | 26 => {
            from_code_points(&mut content.iter().map(|&byte| u32::from(byte)))
        }
        28 if content.len().is_multiple_of(4) => from_code_points(
            &mut content
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
        ),
        30 if content.len().is_multiple_of(2) => from_code_points(
            &mut content
                .chunks_exact(2)
                .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))),
        ),
        _ => None,
    }
}

const OBJECT_IDENTIFIER: u32 = 6;
const UTF8_STRING: u32 = 12;
const SEQUENCE: u32 = 16;
const SET: u32 = 17;
const IA5_STRING: u32 = 22;
const SEQUENCE_BYTE: u8 = 0x30;
const SET_BYTE: u8 = 0x31;

/// DER tag-length-value with a one-byte identifier.
pub(crate) fn tlv(identifier: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![identifier];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

type Element<'a> = Tagged<'a>;

/// The element's class and tag, as the errors name them.
fn describe(element: &Element<'_>) -> String {
    format!("tag {}", element.describe_tag())
}

/// `element`, which must have this class, tag and form.
fn expect(
    element: &Element<'_>,
    class: Class,
    tag: u32,
    constructed: bool,
    expected: &'static str,
) -> Result<(), NameConstraintsError> {
    if element.is(class, tag, constructed) {
        Ok(())
    } else {
        Err(NameConstraintsError::Unexpected {
            found: describe(element),
            expected,
        })
    }
}

fn element(input: &[u8]) -> Result<(Element<'_>, &[u8]), NameConstraintsError> {
    let element = tagged(input).map_err(|reason| NameConstraintsError::NotDer { reason })?;
    Ok((element, element.rest))
}

/// The next element of `input`, which must be the constructed universal `tag` (else `expected`
/// is what was expected), and what follows it.
fn constructed<'a>(
    input: &'a [u8],
    tag: u32,
    expected: &'static str,
) -> Result<(Element<'a>, &'a [u8]), NameConstraintsError> {
    let (found, rest) = element(input)?;
    expect(&found, Class::Universal, tag, true, expected)?;
    Ok((found, rest))
}

/// An OBJECT IDENTIFIER's content, refused where `c2i_ASN1_OBJECT` refuses it.
fn object_identifier(element: &Element<'_>) -> Result<Vec<u8>, NameConstraintsError> {
    expect(
        element,
        Class::Universal,
        OBJECT_IDENTIFIER,
        false,
        "an OBJECT IDENTIFIER",
    )?;
    if c2i_object_identifier_accepts(element.content) {
        Ok(element.content.to_vec())
    } else {
        Err(NameConstraintsError::InvalidObjectIdentifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    use crate::pki::load::load_certificates;
    use crate::pki::oids::OID_X509_EXT_NAME_CONSTRAINTS;

    fn fixture(name: &str) -> Vec<u8> {
        let path = crate::test_fixtures::fixture(&format!("openssl/{name}.pem"));
        load_certificates(&path).unwrap()[0].to_vec()
    }

    fn subject_and_issuer(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (_, certificate) = x509_parser::parse_x509_certificate(der).unwrap();
        (
            certificate.tbs_certificate.subject.as_raw().to_vec(),
            certificate.tbs_certificate.issuer.as_raw().to_vec(),
        )
    }

    fn constraints_of(der: &[u8]) -> Option<NameConstraints> {
        let (_, certificate) = x509_parser::parse_x509_certificate(der).unwrap();
        let extension = certificate
            .tbs_certificate
            .extensions()
            .iter()
            .find(|extension| oids::same(&extension.oid, &OID_X509_EXT_NAME_CONSTRAINTS))?;
        Some(parse_name_constraints(extension.value).unwrap())
    }

    /// The chain from `leaf` up through `issuers` by subject/issuer names.
    fn chain(leaf: &str, issuers: &[&str]) -> Vec<Vec<u8>> {
        let candidates: Vec<Vec<u8>> = issuers.iter().map(|name| fixture(name)).collect();
        let mut chain = vec![fixture(leaf)];
        loop {
            let (subject, issuer) = subject_and_issuer(chain.last().unwrap());
            if subject == issuer {
                break;
            }
            match candidates
                .iter()
                .find(|candidate| subject_and_issuer(candidate).0 == issuer)
            {
                Some(next) if !chain.contains(next) => chain.push(next.clone()),
                _ => break,
            }
        }
        chain
    }

    /// x509_vfy.c's check_name_constraints over a chain (no proxy certificates, default host
    /// flags), stopping at the first error as `openssl verify` does: (code, depth).
    fn check_chain(chain: &[Vec<u8>]) -> Option<(u32, usize)> {
        for depth in (0..chain.len()).rev() {
            let certificate = &chain[depth];
            let (subject, issuer) = subject_and_issuer(certificate);
            if depth != 0 && subject == issuer {
                continue;
            }
            for above in (depth + 1..chain.len()).rev() {
                let Some(constraints) = constraints_of(&chain[above]) else {
                    continue;
                };
                let mut result = check(certificate, &constraints);
                if result.is_ok() && depth == 0 && !has_dns_subject_alt_name(certificate) {
                    result = check_common_names(certificate, &constraints);
                }
                if let Err(code) = result {
                    return Some((code.number(), depth));
                }
            }
        }
        None
    }

    /// What `openssl verify -auth_level 1` says: the first "error N at D depth", or `None`
    /// for OK; `Err` when openssl is not installed.
    fn openssl_verify(arguments: &[&str], leaf: &str) -> Result<Option<(u32, usize)>, ()> {
        let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/openssl");
        let mut command = Command::new("openssl");
        command.args(["verify", "-auth_level", "1"]);
        for argument in arguments {
            if argument.starts_with('-') || argument.parse::<u64>().is_ok() {
                command.arg(argument);
            } else {
                command.arg(directory.join(format!("{argument}.pem")));
            }
        }
        let output = command
            .arg(directory.join(format!("{leaf}.pem")))
            .output()
            .map_err(|_| ())?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return Ok(None);
        }
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix("error "))
            .unwrap_or_else(|| panic!("no error line: {text}"));
        let mut words = line.split(' ');
        let code = words.next().unwrap().parse().unwrap();
        let depth = words.nth(1).unwrap().parse().unwrap();
        Ok(Some((code, depth)))
    }

    /// 25-test_verify.t's name constraint cases, each checked against the verdict asserted
    /// here and, when openssl is installed, against what `openssl verify` prints.
    #[test]
    fn openssl_test_suite_cases_give_openssl_codes() {
        let ncca1: &[&str] = &["ncca1-cert", "root-cert"];
        let ncca2: &[&str] = &["ncca2-cert", "root-cert"];
        let ncca13: &[&str] = &["ncca1-cert", "ncca3-cert", "root-cert"];
        type Verdict = Option<(u32, usize)>;
        let cases: &[(&str, &[&str], Verdict)] = &[
            ("alt1-cert", ncca1, None),
            ("alt2-cert", ncca2, None),
            ("alt3-cert", ncca13, None),
            ("goodcn1-cert", ncca1, None),
            ("goodcn2-cert", ncca1, None),
            ("badcn1-cert", ncca1, Some((47, 0))),
            ("badalt1-cert", ncca1, Some((47, 0))),
            ("badalt2-cert", ncca2, Some((48, 0))),
            ("badalt3-cert", ncca1, Some((47, 0))),
            ("badalt4-cert", ncca1, Some((47, 0))),
            ("badalt5-cert", ncca1, Some((47, 0))),
            ("badalt6-cert", ncca1, Some((47, 0))),
            ("badalt7-cert", ncca1, Some((47, 0))),
            ("badalt8-cert", ncca13, Some((47, 0))),
            ("badalt9-cert", ncca13, Some((47, 0))),
            ("badalt10-cert", ncca13, Some((48, 0))),
            (
                "bad-othername-cert",
                &["nccaothername-cert", "root-cert"],
                Some((51, 0)),
            ),
        ];
        for (leaf, issuers, expected) in cases {
            let built = chain(leaf, issuers);
            assert_eq!(built.len(), issuers.len() + 1, "{leaf}: chain not built");
            assert_eq!(check_chain(&built), *expected, "{leaf}");
            let mut arguments = vec!["-trusted", "root-cert"];
            for issuer in issuers.iter().filter(|name| **name != "root-cert") {
                arguments.extend(["-untrusted", issuer]);
            }
            if let Ok(openssl) = openssl_verify(&arguments, leaf) {
                assert_eq!(openssl, *expected, "{leaf}: openssl disagrees");
            }
        }

        // "Name constraints bad othername name constraint": exit code 2, error 53.
        let built = chain("bad-othername-namec", &["bad-othername-namec-inter"]);
        assert_eq!(check_chain(&built), Some((53, 0)));
        let arguments = [
            "-trusted",
            "bad-othername-namec-inter",
            "-partial_chain",
            "-attime",
            "1623060000",
        ];
        if let Ok(openssl) = openssl_verify(&arguments, "bad-othername-namec") {
            assert_eq!(openssl, Some((53, 0)));
        }

        // "Too many names and constraints to check" and the "Not too many" ones.
        for (leaf, expected) in [
            ("many-names1", Some((1, 0))),
            ("many-names2", Some((1, 0))),
            ("many-names3", Some((1, 0))),
            ("some-names1", None),
            ("some-names2", None),
        ] {
            let built = chain(leaf, &["many-constraints"]);
            assert_eq!(built.len(), 2, "{leaf}");
            assert_eq!(check_chain(&built), expected, "{leaf}");
            let arguments = [
                "-trusted",
                "many-constraints",
                "-untrusted",
                "many-constraints",
            ];
            if let Ok(openssl) = openssl_verify(&arguments, leaf) {
                assert_eq!(openssl, expected, "{leaf}: openssl disagrees");
            }
        }
    }

    #[test]
    fn parses_the_constraints_of_openssl_test_cas() {
        let ncca1 = constraints_of(&fixture("ncca1-cert")).unwrap();
        assert!(ncca1.permitted_count() > 0);
        let other = constraints_of(&fixture("nccaothername-cert")).unwrap();
        assert_eq!((other.permitted_count(), other.excluded_count()), (0, 1));
        assert!(constraints_of(&fixture("root-cert")).is_none());
    }

    fn dns_subtree(base: &[u8]) -> Vec<u8> {
        tlv(SEQUENCE_BYTE, &tlv(0x82, base))
    }

    fn constraints(permitted: &[Vec<u8>], excluded: &[Vec<u8>]) -> Vec<u8> {
        let mut content = Vec::new();
        if !permitted.is_empty() {
            content.extend(tlv(0xa0, &permitted.concat()));
        }
        if !excluded.is_empty() {
            content.extend(tlv(0xa1, &excluded.concat()));
        }
        tlv(SEQUENCE_BYTE, &content)
    }

    #[test]
    fn parse_accepts_what_openssl_accepts_and_refuses_the_rest() {
        let permitted = [dns_subtree(b"example.com")];
        let mut der = constraints(&permitted, &[]);
        let parsed = parse_name_constraints(&der).unwrap();
        assert_eq!((parsed.permitted_count(), parsed.excluded_count()), (1, 0));
        // Bytes after the extension's SEQUENCE are ignored by X509V3_EXT_d2i.
        der.extend([0xde, 0xad]);
        assert_eq!(parse_name_constraints(&der).unwrap(), parsed);
        // Empty lists and no lists at all are accepted.
        assert!(parse_name_constraints(&[0x30, 0x00]).is_ok());
        assert!(parse_name_constraints(&[0x30, 0x02, 0xa0, 0x00]).is_ok());

        for (bad, what) in [
            (vec![0x31, 0x00], "a SET"),
            (vec![0x30, 0x02, 0xa2, 0x00], "an unknown list"),
            (
                vec![0x30, 0x04, 0xa1, 0x00, 0xa0, 0x00],
                "lists out of order",
            ),
            (
                tlv(SEQUENCE_BYTE, &tlv(0xa0, &tlv(SEQUENCE_BYTE, &[]))),
                "a subtree without a base",
            ),
            (
                constraints(
                    &[tlv(
                        SEQUENCE_BYTE,
                        &[tlv(0x82, b"a.com"), vec![0x80, 0x00]].concat(),
                    )],
                    &[],
                ),
                "an empty minimum",
            ),
            (
                constraints(
                    &[tlv(
                        SEQUENCE_BYTE,
                        &[tlv(0x82, b"a.com"), vec![0x80, 0x02, 0x00, 0x01]].concat(),
                    )],
                    &[],
                ),
                "a padded minimum",
            ),
            (
                constraints(&[tlv(SEQUENCE_BYTE, &tlv(0x89, b"x"))], &[]),
                "GeneralName tag 9",
            ),
            (
                constraints(&[tlv(SEQUENCE_BYTE, &tlv(0xa4, &[0x31, 0x00]))], &[]),
                "a directoryName that is not a Name",
            ),
            (
                constraints(
                    &[tlv(
                        SEQUENCE_BYTE,
                        &tlv(
                            0xa4,
                            &tlv(
                                0x30,
                                &tlv(
                                    0x31,
                                    &tlv(
                                        0x30,
                                        &[tlv(0x06, &[0x55, 4, 3]), tlv(0x0c, &[0xff])].concat(),
                                    ),
                                ),
                            ),
                        ),
                    )],
                    &[],
                ),
                "a directoryName with invalid UTF-8",
            ),
            (vec![0x30, 0x80, 0x00, 0x00], "indefinite length"),
        ] {
            assert!(parse_name_constraints(&bad).is_err(), "{what}");
        }
    }

    #[test]
    fn minimum_zero_is_fine_other_minimums_and_any_maximum_are_49() {
        let name = GeneralName::Dns(b"www.example.com".to_vec());
        let with = |extra: &[u8]| {
            let subtree = tlv(
                SEQUENCE_BYTE,
                &[tlv(0x82, b"example.com"), extra.to_vec()].concat(),
            );
            parse_name_constraints(&constraints(&[subtree], &[])).unwrap()
        };
        assert_eq!(match_name(&name, &with(&[0x80, 0x01, 0x00])), Ok(()));
        assert_eq!(
            match_name(&name, &with(&[0x80, 0x01, 0x01])),
            Err(VerifyCode::SubtreeMinmax)
        );
        assert_eq!(
            match_name(&name, &with(&[0x81, 0x01, 0x05])),
            Err(VerifyCode::SubtreeMinmax)
        );
        // Only subtrees of the name's own type are looked at.
        let email = GeneralName::Email(b"a@example.com".to_vec());
        assert_eq!(match_name(&email, &with(&[0x81, 0x01, 0x05])), Ok(()));
    }

    #[test]
    fn permitted_needs_one_match_and_excluded_none() {
        let parsed = parse_name_constraints(&constraints(
            &[dns_subtree(b"example.com"), dns_subtree(b".example.org")],
            &[dns_subtree(b"bad.example.com")],
        ))
        .unwrap();
        let dns = |name: &[u8]| match_name(&GeneralName::Dns(name.to_vec()), &parsed);
        assert_eq!(dns(b"example.com"), Ok(()));
        assert_eq!(dns(b"WWW.Example.COM"), Ok(()));
        assert_eq!(dns(b"www.example.org"), Ok(()));
        assert_eq!(dns(b"example.org"), Err(VerifyCode::PermittedViolation));
        assert_eq!(dns(b"badexample.com"), Err(VerifyCode::PermittedViolation));
        assert_eq!(
            dns(b"x.bad.example.com"),
            Err(VerifyCode::ExcludedViolation)
        );
        // Names of other types are unconstrained by DNS subtrees.
        assert_eq!(
            match_name(&GeneralName::Uri(b"not a uri".to_vec()), &parsed),
            Ok(())
        );
    }

    const MATCHES: Result<(), VerifyCode> = Ok(());
    const VIOLATION: Result<(), VerifyCode> = Err(VerifyCode::PermittedViolation);
    const SYNTAX: Result<(), VerifyCode> = Err(VerifyCode::UnsupportedNameSyntax);

    /// One of OpenSSL's `nc_*` matchers, by name.
    type Matcher = (&'static str, fn(&[u8], &[u8]) -> Result<(), VerifyCode>);
    const NC_DNS: Matcher = ("nc_dns", match_dns);
    const NC_EMAIL: Matcher = ("nc_email", match_email);
    const NC_URI: Matcher = ("nc_uri", match_uri);
    /// nc_email_eai; the name is the SmtpUTF8Mailbox's DER: a UTF8String.
    const NC_EMAIL_EAI: Matcher = ("nc_email_eai", |name, base| {
        match_email_eai(&tlv(0x0c, name), base)
    });

    /// (matcher, name, base, what OpenSSL answers): one row a case.
    #[rustfmt::skip]
    const NAME_MATCHING: &[(Matcher, &str, &str, Result<(), VerifyCode>)] = &[
        (NC_DNS, "anything", "", MATCHES),
        (NC_DNS, "a.b.com", "b.com", MATCHES),
        (NC_DNS, "ab.com", "b.com", VIOLATION),
        (NC_DNS, "ab.com", ".b.com", VIOLATION),
        (NC_DNS, "a.b.com", ".b.com", MATCHES),
        // A leading-dot base also matches the name equal to it.
        (NC_DNS, ".b.com", ".b.com", MATCHES),
        (NC_DNS, "com", "b.com", VIOLATION),
        (NC_EMAIL, "no-at-sign", "example.com", SYNTAX),
        (NC_EMAIL, "a@example.com", "EXAMPLE.com", MATCHES),
        (NC_EMAIL, "a@mail.example.com", "example.com", VIOLATION),
        (NC_EMAIL, "a@mail.example.com", ".example.com", MATCHES),
        (NC_EMAIL, "a@example.com", ".example.com", VIOLATION),
        (NC_EMAIL, "a@example.com", "a@example.com", MATCHES),
        (NC_EMAIL, "A@example.com", "a@example.com", VIOLATION),
        (NC_EMAIL, "b@example.com", "@example.com", MATCHES),
        (NC_EMAIL, "a\0@example.com", "a\0@example.com", SYNTAX),
        (NC_EMAIL, "a@", "", MATCHES),
        (NC_URI, "https://Example.com:443/x", "example.com", MATCHES),
        (NC_URI, "https://www.example.com/x", ".example.com", MATCHES),
        (NC_URI, "https://example.com", ".example.com", VIOLATION),
        (NC_URI, "mailto:a@example.com", "example.com", SYNTAX),
        (NC_URI, "https://:443/", "example.com", SYNTAX),
        (NC_URI, "https:/", "example.com", SYNTAX),
        (NC_URI, "no colon", "example.com", SYNTAX),
        (NC_EMAIL_EAI, "jörg@example.com", "example.com", MATCHES),
        (NC_EMAIL_EAI, "jörg@bücher.example", "xn--bcher-kva.example", MATCHES),
        (NC_EMAIL_EAI, "a@other.com", "example.com", VIOLATION),
        // No '@', a NUL in the base: 53.
        (NC_EMAIL_EAI, "nobody", "example.com", SYNTAX),
        (NC_EMAIL_EAI, "a@example.com", "exa\0mple.com", SYNTAX),
        // An A-label that does not decode: X509_V_ERR_UNSPECIFIED.
        (NC_EMAIL_EAI, "a@example.com", "xn--!.com", Err(VerifyCode::Unspecified)),
        // OpenSSL 3.0's leading-dot case doubles the dot (see match_email_eai).
        (NC_EMAIL_EAI, "a@mail.example.com", ".example.com", VIOLATION),
        (NC_EMAIL_EAI, "a@mail..example.com", ".example.com", MATCHES),
    ];

    #[test]
    fn name_matching_follows_nc_dns_nc_email_nc_uri_and_nc_email_eai() {
        for ((matcher_name, matcher), name, base, expected) in NAME_MATCHING {
            assert_eq!(
                matcher(name.as_bytes(), base.as_bytes()),
                *expected,
                "{matcher_name}: {name:?} against {base:?}"
            );
        }
        // Not a UTF8String (bad-othername-namec): 53.
        assert_eq!(
            match_email_eai(&tlv(0x16, b"a@example.com"), b"example.com"),
            SYNTAX
        );
    }

    #[test]
    fn ip_matching_follows_nc_ip() {
        let base = [10, 1, 0, 0, 255, 255, 0, 0];
        assert_eq!(match_ip(&[10, 1, 2, 3], &base), Ok(()));
        assert_eq!(
            match_ip(&[10, 2, 2, 3], &base),
            Err(VerifyCode::PermittedViolation)
        );
        assert_eq!(
            match_ip(&[0; 16], &base),
            Err(VerifyCode::PermittedViolation)
        );
        assert_eq!(
            match_ip(&[10, 1, 2], &base),
            Err(VerifyCode::UnsupportedNameSyntax)
        );
        assert_eq!(
            match_ip(&[10, 1, 2, 3], &base[..4]),
            Err(VerifyCode::UnsupportedNameSyntax)
        );
    }

    #[test]
    fn unsupported_subtree_types_are_51_only_when_a_name_of_the_type_is_checked() {
        let registered = tlv(SEQUENCE_BYTE, &tlv(0x88, &[0x2a, 0x03]));
        let parsed = parse_name_constraints(&constraints(&[registered], &[])).unwrap();
        assert_eq!(
            match_name(&GeneralName::RegisteredId, &parsed),
            Err(VerifyCode::UnsupportedConstraintType)
        );
        assert_eq!(
            match_name(&GeneralName::Dns(b"a.b".to_vec()), &parsed),
            Ok(())
        );
    }

    #[test]
    fn punycode_decodes_rfc_3492_samples() {
        let decode = |label: &[u8]| {
            a_label_to_u_label(label, 255).map(|bytes| String::from_utf8(bytes).unwrap())
        };
        assert_eq!(decode(b"xn--bcher-kva.de").as_deref(), Some("bücher.de"));
        assert_eq!(decode(b"xn--mnchen-3ya").as_deref(), Some("münchen"));
        assert_eq!(decode(b"plain.example").as_deref(), Some("plain.example"));
        assert_eq!(decode(b"xn--").as_deref(), Some(""));
        assert!(decode(b"xn--99999999999999").is_none());
        // 254 bytes and OpenSSL's NUL fill the 255-byte buffer; one more does not fit.
        assert!(a_label_to_u_label(&[b'a'; 254], 255).is_some());
        assert!(a_label_to_u_label(&[b'a'; 255], 255).is_none());
    }

    #[test]
    fn common_names_that_look_like_dns_names() {
        let cn = |tag: u32, value: &[u8]| Attribute {
            oid: OID_X509_COMMON_NAME.as_bytes().to_vec(),
            tag,
            value: value.to_vec(),
        };
        let dns = |value: &[u8]| common_name_dns_id(&cn(12, value));
        assert_eq!(
            dns(b"www.example.com"),
            Ok(Some(b"www.example.com".to_vec()))
        );
        assert_eq!(
            dns(b"under_score.example"),
            Ok(Some(b"under_score.example".to_vec()))
        );
        assert_eq!(dns(b"localhost"), Ok(None));
        assert_eq!(dns(b"Jane Doe"), Ok(None));
        assert_eq!(dns(b"a..b"), Ok(None));
        assert_eq!(dns(b"a-.b"), Ok(None));
        assert_eq!(dns(b".a.b"), Ok(None));
        assert_eq!(dns(b"a.b\0\0"), Ok(Some(b"a.b".to_vec())));
        assert_eq!(dns(b"a\0.b"), Err(VerifyCode::UnsupportedNameSyntax));
        // BMPString is converted first.
        assert_eq!(
            common_name_dns_id(&cn(30, &[0, b'a', 0, b'.', 0, b'b'])),
            Ok(Some(b"a.b".to_vec()))
        );
        // OCTET STRING cannot be converted: OpenSSL's internal-error path.
        assert_eq!(
            common_name_dns_id(&cn(4, b"a.b")),
            Err(VerifyCode::OutOfMem)
        );
    }

    #[test]
    fn directory_names_compare_canonically_as_prefixes() {
        let attribute = |oid: &[u8], tag: u8, value: &[u8]| {
            tlv(0x30, &[tlv(0x06, oid), tlv(tag, value)].concat())
        };
        let name = |rdns: &[Vec<u8>]| {
            let der = tlv(
                0x30,
                &rdns
                    .iter()
                    .map(|rdn| tlv(0x31, rdn))
                    .collect::<Vec<_>>()
                    .concat(),
            );
            let (element, _) = element(&der).map(|(e, r)| (e, r.to_vec())).unwrap();
            parse_name(&element).unwrap()
        };
        let country = attribute(&[0x55, 4, 6], 0x13, b"US");
        let org = attribute(&[0x55, 4, 10], 0x0c, b"Good  Org ");
        let org_printable = attribute(&[0x55, 4, 10], 0x13, b"  GOOD ORG");
        let cn = attribute(&[0x55, 4, 3], 0x0c, b"leaf");
        let base = name(&[country.clone(), org.clone()]);
        let subject = name(&[country.clone(), org_printable, cn.clone()]);
        assert_eq!(
            match_single(
                &GeneralName::Directory(subject.clone()),
                &GeneralName::Directory(base.clone())
            ),
            Ok(())
        );
        let other = name(&[
            country.clone(),
            attribute(&[0x55, 4, 10], 0x0c, b"Bad Org"),
            cn,
        ]);
        assert_eq!(
            match_single(
                &GeneralName::Directory(other),
                &GeneralName::Directory(base)
            ),
            Err(VerifyCode::PermittedViolation)
        );
        // Multi-valued RDNs are sorted, so member order does not matter.
        let one = name(&[[country.clone(), org.clone()].concat()]);
        let two = name(&[[org, country].concat()]);
        assert_eq!(one.canonical, two.canonical);
        // An empty name matches everything.
        assert_eq!(
            match_single(
                &GeneralName::Directory(subject),
                &GeneralName::Directory(name(&[]))
            ),
            Ok(())
        );
    }

    /// Every one-byte change and every truncation of a real extension and a real leaf is
    /// decided without a panic (the fuzz target goes further).
    #[test]
    fn damaged_inputs_never_panic() {
        let ca = fixture("ncca1-cert");
        let leaf = fixture("alt1-cert");
        let (_, certificate) = x509_parser::parse_x509_certificate(&ca).unwrap();
        let value = certificate
            .tbs_certificate
            .extensions()
            .iter()
            .find(|extension| oids::same(&extension.oid, &OID_X509_EXT_NAME_CONSTRAINTS))
            .unwrap()
            .value
            .to_vec();
        let good = parse_name_constraints(&value).unwrap();
        for index in 0..value.len() {
            for mutated in [
                value[..index].to_vec(),
                [&value[..index], &[value[index] ^ 0xff], &value[index + 1..]].concat(),
            ] {
                if let Ok(constraints) = parse_name_constraints(&mutated) {
                    let _ = check(&leaf, &constraints);
                    let _ = check_common_names(&leaf, &constraints);
                }
            }
        }
        for index in (0..leaf.len()).step_by(3) {
            let mutated = [&leaf[..index], &[leaf[index] ^ 0x5a], &leaf[index + 1..]].concat();
            let _ = check(&mutated, &good);
            let _ = check_common_names(&mutated, &good);
        }
    }
}
