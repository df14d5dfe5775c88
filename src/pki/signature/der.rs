//! A minimal DER reader for the few structures signature checking looks inside (keys, PSS
//! parameters, ECDSA/DSA signatures), with byte-level control over strictness: OpenSSL is
//! lenient in some places (RSA key integers are read unsigned, `x_bignum.c`) and strict in
//! others (ECDSA/DSA signatures are re-encoded and compared, `ecdsa_ossl.c`), so the callers
//! decide, not a general-purpose parser.

use std::borrow::Cow;

use x509_parser::asn1_rs::{Any, Class, FromDer, Length, Oid};

/// One tag-length-value element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OBJECT_IDENTIFIER: u8 = 0x06;

/// Reads consecutive elements from a byte string.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { input }
    }

    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// The next element, with a definite, minimally encoded length (X.690 §10.1) and a
    /// single-byte tag.
    pub fn element(&mut self) -> Option<Element<'a>> {
        let (&tag, rest) = self.input.split_first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (length, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (bytes, rest) = rest.split_at(count);
            if bytes[0] == 0 {
                return None;
            }
            let length = bytes
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            if length < 0x80 {
                return None;
            }
            (length, rest)
        };
        if rest.len() < length {
            return None;
        }
        let (content, rest) = rest.split_at(length);
        self.input = rest;
        Some(Element { tag, content })
    }

    /// The next element and its whole encoding (tag and length included).
    pub fn element_with_encoding(&mut self) -> Option<(Element<'a>, &'a [u8])> {
        let before = self.input;
        let element = self.element()?;
        Some((element, &before[..before.len() - self.input.len()]))
    }

    /// The next element, which must have `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let element = self.element()?;
        (element.tag == tag).then_some(element.content)
    }

    /// The next element if it has `tag`, else nothing consumed.
    pub fn optional(&mut self, tag: u8) -> Option<&'a [u8]> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag)
        } else {
            None
        }
    }
}

/// The whole of `input` as one element with `tag` and nothing after it.
pub(crate) fn single(input: &[u8], tag: u8) -> Option<&[u8]> {
    let mut reader = Reader::new(input);
    let content = reader.expect(tag)?;
    reader.is_empty().then_some(content)
}

/// An INTEGER's content read the way OpenSSL's BIGNUM primitive reads it (`x_bignum.c`
/// `bn_c2i`: unsigned big-endian, any padding), without leading zero bytes.
pub(crate) fn unsigned_lenient(content: &[u8]) -> &[u8] {
    let start = content
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(content.len());
    &content[start..]
}

/// An INTEGER's content that must be a positive, minimally encoded value (what survives
/// OpenSSL's decode-and-re-encode comparison of signatures); returned without the sign byte.
pub(crate) fn positive_strict(content: &[u8]) -> Option<&[u8]> {
    match content {
        [] => None,
        [first, ..] if first & 0x80 != 0 => None,
        [0, second, ..] if second & 0x80 == 0 => None,
        [0, rest @ ..] => Some(rest),
        _ => Some(content),
    }
}

/// The two's complement negation of a big-endian integer (the magnitude of a negative one).
pub(crate) fn twos_complement_negation(bytes: &[u8]) -> Vec<u8> {
    let mut negated: Vec<u8> = bytes.iter().map(|byte| !byte).collect();
    for byte in negated.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    negated
}

/// ASN1_INTEGER_get (a_int.c): the value as a C `long`, or -1 when it does not fit.
pub(crate) fn integer_as_long(content: &[u8]) -> i64 {
    if content.is_empty() {
        return -1;
    }
    let negative = content[0] & 0x80 != 0;
    let magnitude: Vec<u8> = if negative {
        // Two's complement: negate to get the magnitude.
        twos_complement_negation(content)
    } else {
        content.to_vec()
    };
    let magnitude = unsigned_lenient(&magnitude);
    if magnitude.len() > 8 {
        return -1;
    }
    let value = magnitude
        .iter()
        .fold(0u64, |value, byte| (value << 8) | u64::from(*byte));
    match (negative, i64::try_from(value)) {
        (false, Ok(value)) => value,
        (true, Ok(value)) => -value,
        (true, Err(_)) if value == 1 << 63 => i64::MIN,
        _ => -1,
    }
}

/// An OBJECT IDENTIFIER's content, refused when it is not minimally encoded (empty, the last
/// byte continuing, an arc padded with a leading 0x80) or has an arc beyond 128 bits. Being
/// minimal, it compares with the constants of [`crate::pki::oids`] byte for byte.
pub(crate) fn object_identifier(content: &[u8]) -> Option<Oid<'_>> {
    arcs(content, |_| {})?;
    Some(Oid::new(Cow::Borrowed(content)))
}

/// An OBJECT IDENTIFIER's content in dotted form (X.690 §8.19), for messages.
pub(crate) fn oid_string(content: &[u8]) -> Option<String> {
    let mut dotted = Vec::new();
    arcs(content, |arc| dotted.push(arc.to_string()))?;
    Some(dotted.join("."))
}

/// The dotted form of an OID [`object_identifier`] accepted.
pub(crate) fn dotted(oid: &Oid<'_>) -> String {
    oid_string(oid.as_bytes()).unwrap_or_default()
}

/// Calls `arc` with each arc of an OBJECT IDENTIFIER's content (X.690 §8.19.4: the first
/// sub-identifier holds two arcs); `None` when the content is not a minimal encoding.
fn arcs(content: &[u8], mut arc: impl FnMut(u128)) -> Option<()> {
    if content.is_empty() || content.last().is_some_and(|byte| byte & 0x80 != 0) {
        return None;
    }
    let mut value: u128 = 0;
    let mut fresh = true;
    let mut first = true;
    for byte in content {
        if fresh && *byte == 0x80 {
            return None; // non-minimal arc
        }
        value = value.checked_mul(128)? | u128::from(byte & 0x7f);
        fresh = byte & 0x80 == 0;
        if fresh {
            if first {
                let top = (value / 40).min(2);
                arc(top);
                arc(value - top * 40);
                first = false;
            } else {
                arc(value);
            }
            value = 0;
        }
    }
    Some(())
}

/// One element as OpenSSL's template decoder (`tasn_dec.c`) sees it: any class, multi-byte tags,
/// definite lengths only. For the structures that name classes and tag numbers in their
/// errors (name constraints, trust settings), read with asn1-rs rather than [`Reader`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tagged<'a> {
    pub class: Class,
    pub constructed: bool,
    pub tag: u32,
    pub content: &'a [u8],
    /// The whole element, identifier and length included.
    pub encoded: &'a [u8],
    /// What follows the element.
    pub rest: &'a [u8],
}

impl Tagged<'_> {
    /// Whether this is the element expected: class, tag number and form.
    pub fn is(&self, class: Class, tag: u32, constructed: bool) -> bool {
        self.class == class && self.tag == tag && self.constructed == constructed
    }

    /// The class and tag for messages: `CONTEXT 0`, `16`.
    pub fn describe_tag(&self) -> String {
        let class = match self.class {
            Class::Universal => "",
            Class::Application => "APPLICATION ",
            Class::ContextSpecific => "CONTEXT ",
            Class::Private => "PRIVATE ",
        };
        format!("{class}{}", self.tag)
    }
}

/// The first element of `input`; the error is why it is not DER.
pub(crate) fn tagged(input: &[u8]) -> Result<Tagged<'_>, String> {
    match Any::from_der(input) {
        Ok((rest, any)) if matches!(any.header.length(), Length::Definite(_)) => Ok(Tagged {
            class: any.header.class(),
            constructed: any.header.is_constructed(),
            tag: any.header.tag().0,
            content: any.data,
            encoded: &input[..input.len() - rest.len()],
            rest,
        }),
        Ok(_) => Err("indefinite length".into()),
        Err(error) => Err(error.to_string()),
    }
}

/// Whether an OBJECT IDENTIFIER's content is one `c2i_ASN1_OBJECT` (a_object.c) accepts: not
/// empty, the last byte not continuing, no sub-identifier padded with a leading 0x80.
pub(crate) fn c2i_object_identifier_accepts(bytes: &[u8]) -> bool {
    let padded = bytes
        .iter()
        .enumerate()
        .any(|(index, &byte)| byte == 0x80 && (index == 0 || bytes[index - 1] & 0x80 == 0));
    bytes.last().is_some_and(|last| last & 0x80 == 0) && !padded
}

/// An AlgorithmIdentifier (RFC 5280 §4.1.1.2): the OID and the parameters, if any.
#[derive(Debug, Clone)]
pub(crate) struct AlgorithmIdentifier<'a> {
    pub oid: Oid<'a>,
    pub parameters: Option<Element<'a>>,
}

pub(crate) fn algorithm_identifier(content: &[u8]) -> Option<AlgorithmIdentifier<'_>> {
    let mut reader = Reader::new(content);
    let oid = object_identifier(reader.expect(OBJECT_IDENTIFIER)?)?;
    let parameters = if reader.is_empty() {
        None
    } else {
        Some(reader.element()?)
    };
    reader
        .is_empty()
        .then_some(AlgorithmIdentifier { oid, parameters })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_minimal() {
        assert!(
            Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5])
                .element()
                .is_none()
        );
        assert!(Reader::new(&[0x04, 0x82, 0x00, 0x81]).element().is_none());
        assert_eq!(
            Reader::new(&[0x04, 0x02, 1, 2]).element(),
            Some(Element {
                tag: 4,
                content: &[1, 2]
            })
        );
    }

    #[test]
    fn integers_and_oids() {
        assert_eq!(positive_strict(&[0x00, 0x80]), Some(&[0x80][..]));
        assert_eq!(positive_strict(&[0x00, 0x7f]), None);
        assert_eq!(positive_strict(&[0x80]), None);
        assert_eq!(integer_as_long(&[0x14]), 20);
        assert_eq!(integer_as_long(&[0xff]), -1);
        assert_eq!(integer_as_long(&[0xfe]), -2);
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]).as_deref(),
            Some("1.2.840.113549.1.1.11")
        );
        assert_eq!(
            oid_string(&[0x2b, 0x65, 0x70]).as_deref(),
            Some("1.3.101.112")
        );
        // Refused: empty, the last byte continuing, a padded arc.
        let malformed: [&[u8]; 3] = [&[], &[0x2b, 0x65, 0xf0], &[0x2b, 0x80, 0x65, 0x70]];
        for malformed in malformed {
            assert_eq!(oid_string(malformed), None, "{malformed:02x?}");
            assert_eq!(object_identifier(malformed), None, "{malformed:02x?}");
        }
        let ed25519 = object_identifier(&[0x2b, 0x65, 0x70]).expect("minimal");
        assert_eq!(ed25519, crate::pki::oids::OID_SIG_ED25519);
        assert_eq!(dotted(&ed25519), ed25519.to_id_string());
    }
}
