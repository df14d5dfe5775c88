//! A small DER editor for forging certificates in tests: it splits a Certificate into
//! tbsCertificate, signatureAlgorithm and signatureValue (RFC 5280 section 4.1), edits the
//! parts a forger would touch (the two AlgorithmIdentifiers, the signature bits, the subject
//! name, the serial number) and re-encodes every enclosing length. The input is always a
//! certificate the test just generated, so a malformed one is a test bug and panics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OBJECT_IDENTIFIER: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// `[0] EXPLICIT Version` at the start of tbsCertificate (absent in v1 certificates).
const VERSION: u8 = 0xa0;
/// `[3] EXPLICIT Extensions` at the end of tbsCertificate.
const EXTENSIONS: u8 = 0xa3;

const COMMON_NAME: &str = "2.5.4.3";
const SUBJECT_KEY_IDENTIFIER: &str = "2.5.29.14";

/// One DER element: its tag (certificates use only one-byte tags) and its content octets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u8,
    pub content: Vec<u8>,
}

impl Tlv {
    pub fn new(tag: u8, content: Vec<u8>) -> Tlv {
        Tlv { tag, content }
    }

    /// A constructed element holding `children`, in order.
    pub fn constructed(tag: u8, children: &[Tlv]) -> Tlv {
        Tlv::new(tag, children.iter().flat_map(Tlv::to_der).collect())
    }

    /// The first element of `input` and what follows it.
    pub fn parse(input: &[u8]) -> (Tlv, &[u8]) {
        let (&tag, rest) = input.split_first().expect("DER: a tag");
        assert_ne!(
            tag & 0x1f,
            0x1f,
            "DER: multi-byte tags are not used in certificates"
        );
        let (&first, rest) = rest.split_first().expect("DER: a length");
        let (length, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            assert!((1..=4).contains(&count), "DER: length of {count} octets");
            let (octets, rest) = rest.split_at(count);
            let length = octets
                .iter()
                .fold(0usize, |length, &octet| (length << 8) | usize::from(octet));
            (length, rest)
        };
        assert!(rest.len() >= length, "DER: element longer than its input");
        let (content, rest) = rest.split_at(length);
        (Tlv::new(tag, content.to_vec()), rest)
    }

    /// Every element of a constructed element's content.
    pub fn children(&self) -> Vec<Tlv> {
        assert_ne!(
            self.tag & 0x20,
            0,
            "DER: tag {:#04x} is primitive",
            self.tag
        );
        let mut children = Vec::new();
        let mut rest = self.content.as_slice();
        while !rest.is_empty() {
            let (child, after) = Tlv::parse(rest);
            children.push(child);
            rest = after;
        }
        children
    }

    pub fn to_der(&self) -> Vec<u8> {
        let mut der = vec![self.tag];
        let length = self.content.len();
        if length < 0x80 {
            der.push(length as u8);
        } else {
            let octets: Vec<u8> = length
                .to_be_bytes()
                .into_iter()
                .skip_while(|&octet| octet == 0)
                .collect();
            der.push(0x80 | octets.len() as u8);
            der.extend(octets);
        }
        der.extend_from_slice(&self.content);
        der
    }
}

/// The content octets of an OBJECT IDENTIFIER in dotted form (X.690 section 8.19).
pub fn encode_oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|arc| arc.parse().expect("OID arcs are numbers"))
        .collect();
    assert!(arcs.len() >= 2, "OID {dotted} has fewer than two arcs");
    let mut content = Vec::new();
    for arc in std::iter::once(arcs[0] * 40 + arcs[1]).chain(arcs[2..].iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        content.extend(groups.into_iter().rev());
    }
    content
}

/// The dotted form of an OBJECT IDENTIFIER's content octets.
pub fn decode_oid(content: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut value = 0u64;
    for &octet in content {
        value = (value << 7) | u64::from(octet & 0x7f);
        if octet & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    let first = arcs.first().copied().unwrap_or_default();
    let (a, b) = if first < 80 {
        (first / 40, first % 40)
    } else {
        (2, first - 80)
    };
    std::iter::once(a)
        .chain(std::iter::once(b))
        .chain(arcs.into_iter().skip(1))
        .map(|arc| arc.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

pub fn oid(dotted: &str) -> Tlv {
    Tlv::new(OBJECT_IDENTIFIER, encode_oid(dotted))
}

pub fn null() -> Tlv {
    Tlv::new(NULL, Vec::new())
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
pub fn algorithm_identifier(algorithm: &str, parameters: Option<Tlv>) -> Tlv {
    let mut children = vec![oid(algorithm)];
    children.extend(parameters);
    Tlv::constructed(SEQUENCE, &children)
}

/// RSASSA-PSS-params (RFC 4055 section 3.1) with the same hash for the message and MGF1,
/// each hash AlgorithmIdentifier with NULL parameters, as OpenSSL writes them.
pub fn pss_parameters(hash: &str, salt_length: u8) -> Tlv {
    const MGF1: &str = "1.2.840.113549.1.1.8";
    let hash_algorithm = algorithm_identifier(hash, Some(null()));
    Tlv::constructed(
        SEQUENCE,
        &[
            Tlv::constructed(0xa0, std::slice::from_ref(&hash_algorithm)),
            Tlv::constructed(0xa1, &[algorithm_identifier(MGF1, Some(hash_algorithm))]),
            Tlv::constructed(0xa2, &[Tlv::new(INTEGER, vec![salt_length])]),
        ],
    )
}

/// Which of a certificate's two signature-algorithm fields an edit replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Certificate.signatureAlgorithm and tbsCertificate.signature alike.
    Both,
    /// Certificate.signatureAlgorithm only, outside what was signed.
    Outer,
    /// tbsCertificate.signature only, inside what was signed.
    Inner,
}

/// A certificate taken apart into the pieces the forgeries edit.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The elements of tbsCertificate, in order.
    tbs: Vec<Tlv>,
    signature_algorithm: Tlv,
    signature_value: Tlv,
}

impl Certificate {
    pub fn from_der(der: &[u8]) -> Certificate {
        let (certificate, rest) = Tlv::parse(der);
        assert!(
            certificate.tag == SEQUENCE && rest.is_empty(),
            "not a certificate"
        );
        let [tbs, signature_algorithm, signature_value]: [Tlv; 3] = certificate
            .children()
            .try_into()
            .expect("a Certificate has three fields");
        assert_eq!(signature_value.tag, BIT_STRING, "signatureValue");
        Certificate {
            tbs: tbs.children(),
            signature_algorithm,
            signature_value,
        }
    }

    pub fn to_der(&self) -> Vec<u8> {
        Tlv::constructed(
            SEQUENCE,
            &[
                Tlv::constructed(SEQUENCE, &self.tbs),
                self.signature_algorithm.clone(),
                self.signature_value.clone(),
            ],
        )
        .to_der()
    }

    /// Where tbsCertificate.signature is: after the version, when there is one.
    fn signature_index(&self) -> usize {
        usize::from(self.tbs[0].tag == VERSION) + 1
    }

    fn serial_index(&self) -> usize {
        self.signature_index() - 1
    }

    /// issuer, validity, then subject follow the signature field.
    fn subject_index(&self) -> usize {
        self.signature_index() + 3
    }

    /// Certificate.signatureAlgorithm.
    pub fn signature_algorithm(&self) -> &Tlv {
        &self.signature_algorithm
    }

    /// The OID of Certificate.signatureAlgorithm.
    pub fn signature_algorithm_oid(&self) -> String {
        let children = self.signature_algorithm.children();
        assert_eq!(children[0].tag, OBJECT_IDENTIFIER, "AlgorithmIdentifier");
        decode_oid(&children[0].content)
    }

    pub fn set_signature_algorithm(&mut self, place: Place, algorithm: &Tlv) {
        if place != Place::Inner {
            self.signature_algorithm = algorithm.clone();
        }
        if place != Place::Outer {
            let index = self.signature_index();
            self.tbs[index] = algorithm.clone();
        }
    }

    /// The signature octets (the BIT STRING's content after its unused-bits octet).
    pub fn signature(&self) -> &[u8] {
        &self.signature_value.content[1..]
    }

    /// Replace the signature octets, with no unused bits.
    pub fn set_signature(&mut self, signature: &[u8]) {
        let mut content = vec![0];
        content.extend_from_slice(signature);
        self.signature_value = Tlv::new(BIT_STRING, content);
    }

    /// Append `suffix` to the subject's commonName, keeping its string type.
    pub fn rename_subject(&mut self, suffix: &str) {
        let index = self.subject_index();
        let mut renamed = false;
        let relative_names: Vec<Tlv> = self.tbs[index]
            .children()
            .into_iter()
            .map(|set| {
                let attributes: Vec<Tlv> = set
                    .children()
                    .into_iter()
                    .map(|attribute| {
                        let mut fields = attribute.children();
                        if decode_oid(&fields[0].content) == COMMON_NAME {
                            fields[1].content.extend_from_slice(suffix.as_bytes());
                            renamed = true;
                        }
                        Tlv::constructed(attribute.tag, &fields)
                    })
                    .collect();
                Tlv::constructed(set.tag, &attributes)
            })
            .collect();
        assert!(renamed, "the subject has no commonName");
        self.tbs[index] = Tlv::constructed(SEQUENCE, &relative_names);
    }

    /// Change the serial number's last octet, keeping it a positive INTEGER.
    pub fn change_serial(&mut self) {
        let index = self.serial_index();
        let serial = &mut self.tbs[index];
        assert_eq!(serial.tag, INTEGER, "serialNumber");
        let last = serial
            .content
            .last_mut()
            .expect("a serial number has octets");
        *last ^= 0x20;
    }

    /// The subjectKeyIdentifier extension's key identifier, when there is one.
    pub fn subject_key_identifier(&self) -> Option<Vec<u8>> {
        let extensions = self.tbs.iter().find(|field| field.tag == EXTENSIONS)?;
        let list = extensions.children().into_iter().next()?;
        list.children().into_iter().find_map(|extension| {
            let fields = extension.children();
            if decode_oid(&fields[0].content) != SUBJECT_KEY_IDENTIFIER {
                return None;
            }
            let value = fields.last()?;
            assert_eq!(value.tag, OCTET_STRING, "extnValue");
            let (identifier, _) = Tlv::parse(&value.content);
            Some(identifier.content)
        })
    }
}

/// DER as a PEM CERTIFICATE block (RFC 7468), 64 characters a line.
pub fn pem(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str("-----END CERTIFICATE-----\n");
    text
}

/// The DER of the first CERTIFICATE block of a PEM file.
pub fn der_from_pem(text: &str) -> Vec<u8> {
    let body: String = text
        .lines()
        .skip_while(|line| *line != "-----BEGIN CERTIFICATE-----")
        .skip(1)
        .take_while(|line| *line != "-----END CERTIFICATE-----")
        .collect();
    STANDARD.decode(body).expect("PEM body is base64")
}

#[test]
fn oids_round_trip_through_their_encoding() {
    for dotted in [
        "1.2.840.10045.4.3.9",
        "1.2.840.113549.1.1.11",
        "2.16.840.1.101.3.4.3.2",
        "1.3.101.112",
        "2.5.29.14",
    ] {
        assert_eq!(decode_oid(&encode_oid(dotted)), dotted);
    }
    // ecdsa-with-SHA256, as every certificate encodes it.
    assert_eq!(
        encode_oid("1.2.840.10045.4.3.2"),
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
    );
}

#[test]
fn lengths_are_re_encoded_around_an_edit() {
    // A 200-octet element needs the long form (0x81 0xc8); growing it to 300 needs 0x82.
    let short = Tlv::new(OCTET_STRING, vec![7; 200]);
    assert_eq!(&short.to_der()[..3], &[OCTET_STRING, 0x81, 200]);
    let outer = Tlv::constructed(SEQUENCE, &[short.clone(), null()]);
    let der = outer.to_der();
    let (parsed, rest) = Tlv::parse(&der);
    assert!(rest.is_empty());
    assert_eq!(parsed.children(), vec![short, null()]);
    let long = Tlv::new(OCTET_STRING, vec![7; 300]);
    assert_eq!(&long.to_der()[..4], &[OCTET_STRING, 0x82, 0x01, 0x2c]);
}
