//! Reading certificate and private-key files (PEM or DER), with errors a technician can act on.
//!
//! IoT Edge setups pass certificates around as files: the root CA a leaf device trusts
//! (`trust_bundle_cert`, `azure-iot-test-only.root.ca.cert.pem`), the gateway's server
//! certificate chain and its key. The usual mistakes are the wrong file (a key where a
//! certificate belongs, a CSR that was never signed), a damaged copy (a truncated paste, a
//! changed base64 character) or an unreadable path. Each gets its own error variant naming the
//! file and the fix; none ever quotes the file's contents.
//!
//! PEM framing and base64 are decoded by `rustls_pki_types::pem` (RFC 7468); this module only
//! splits the text at `-----BEGIN` lines first, so that an error can name the block it is in.
//! Every certificate is then parsed with `x509-parser`, so a file that loads here is one the
//! rest of edgeprobe can describe and verify.
//!
//! Trust stores are read like OpenSSL reads them: [`load_store_certificates`] keeps the trust
//! settings of `TRUSTED CERTIFICATE` blocks (see [`crate::pki::trust_settings`]) and skips
//! keys, CRLs and other blocks the way `PEM_X509_INFO_read_bio` does for `-CAfile`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use crate::pki::trust_settings::{
    StoreCertificate, TrustSettings, TrustSettingsError, parse_trust_settings,
};

/// Largest certificate or key file we read. A bundle of every public root CA is about
/// 200 KiB, so 10 MiB leaves room for any real bundle while bounding memory when a path
/// points at something else (a log, a disk image, `/dev/zero`).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Why a certificate or key file could not be loaded: the reading and PEM-framing errors
/// every kind of file shares, or `C`, what is wrong with what the file holds. Every variant
/// names the file; `Display` is one line that ends with what to do about it, and no variant
/// carries or prints key material.
#[derive(Debug, thiserror::Error)]
pub enum FileError<C: FileContent> {
    #[error("{} file {} does not exist: check the path", C::NOUN, path.display())]
    NotFound { path: PathBuf },

    #[error("permission denied reading {} file {}: run edgeprobe with sudo, or give your user read access to the file", C::NOUN, path.display())]
    PermissionDenied { path: PathBuf },

    #[error("{} is a directory, not a {} file: pass the {} file inside it", path.display(), C::NOUN, C::EXTENSIONS)]
    IsDirectory { path: PathBuf },

    #[error("{} file {} is empty: copy the {} into it again", C::NOUN, path.display(), C::PEM_EXAMPLE)]
    Empty { path: PathBuf },

    #[error("{} file {} is larger than {limit} bytes, far more than any {}: check the path", C::NOUN, path.display(), C::LARGEST)]
    TooLarge { path: PathBuf, limit: u64 },

    #[error("{}: PEM block {block} ({label} at line {line}) is damaged: {problem}; copy the file again from its source", path.display())]
    DamagedPem {
        path: PathBuf,
        /// 1-based position of the block among all `-----BEGIN` blocks in the file.
        block: usize,
        /// 1-based line of the block's `-----BEGIN` line.
        line: usize,
        label: String,
        problem: PemProblem,
    },

    #[error("could not read {} file {}: {source}", C::NOUN, path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The file was read, but what it holds is not a usable one of its kind.
    #[error(transparent)]
    Content(C),
}

/// What a [`FileError`] is about: the words its messages use for the file, and (as `Self`)
/// what can be wrong with the file's contents.
pub trait FileContent: std::error::Error + 'static {
    /// `certificate` or `key`.
    const NOUN: &'static str;
    /// The file names to look for in a directory given by mistake.
    const EXTENSIONS: &'static str;
    /// What an empty file should hold.
    const PEM_EXAMPLE: &'static str;
    /// The largest file of this kind there is.
    const LARGEST: &'static str;
}

impl<C: FileContent> From<C> for FileError<C> {
    fn from(content: C) -> Self {
        FileError::Content(content)
    }
}

impl<C: FileContent> FileError<C> {
    /// The error for a file [`read_bounded`] could not read.
    fn unreadable(path: &Path, failure: ReadFailure) -> Self {
        let path = path.to_path_buf();
        match failure {
            ReadFailure::NotFound => FileError::NotFound { path },
            ReadFailure::PermissionDenied => FileError::PermissionDenied { path },
            ReadFailure::IsDirectory => FileError::IsDirectory { path },
            ReadFailure::TooLarge => FileError::TooLarge {
                path,
                limit: MAX_FILE_BYTES,
            },
            ReadFailure::Io(source) => FileError::Io { path, source },
        }
    }
}

/// Why a certificate file could not be loaded.
pub type CertificateFileError = FileError<CertificateContentError>;

/// Why a private-key file could not be loaded.
pub type KeyFileError = FileError<KeyContentError>;

/// What is wrong with what a certificate file holds. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CertificateContentError {
    #[error("{} holds a private key, not a certificate: pass the root CA certificate (e.g. azure-iot-test-only.root.ca.cert.pem) instead", path.display())]
    PrivateKeyInsteadOfCertificate { path: PathBuf },

    #[error("{} holds a certificate signing request (CSR), not a certificate: have your CA sign it and pass the resulting certificate", path.display())]
    CertificateRequestInsteadOfCertificate { path: PathBuf },

    #[error("{} holds no certificate ({}){}", path.display(), found_summary(found_labels, "CERTIFICATE"), certificate_hint(found_labels))]
    NoCertificate {
        path: PathBuf,
        /// Labels of the PEM blocks that were found (`PKCS7`, `PUBLIC KEY`, ...), in file order.
        found_labels: Vec<String>,
    },

    #[error("{}: PEM block {block} ({label} at line {line}) is not a valid X.509 certificate ({reason}): copy the file again from its source", path.display())]
    InvalidCertificate {
        path: PathBuf,
        /// 1-based position of the block among all `-----BEGIN` blocks in the file.
        block: usize,
        line: usize,
        /// `CERTIFICATE`, `X509 CERTIFICATE` or `TRUSTED CERTIFICATE`.
        label: String,
        reason: String,
    },

    #[error("{}: PEM block {block} (TRUSTED CERTIFICATE at line {line}) has damaged trust settings after the certificate ({reason}), and OpenSSL refuses the whole file: export it again with `openssl x509 -in FILE -trustout`, or keep only the plain certificate (`openssl x509 -in FILE -out cert.pem`)", path.display())]
    InvalidTrustSettings {
        path: PathBuf,
        /// 1-based position of the block among all `-----BEGIN` blocks in the file.
        block: usize,
        line: usize,
        reason: TrustSettingsError,
    },

    #[error("{} is a PKCS#12 bundle (.pfx/.p12, as certGen.sh writes beside each certificate), not a PEM or DER certificate: extract the certificates with `openssl pkcs12 -in {} -nokeys -out cert.pem` and pass cert.pem", path.display(), path.display())]
    Pkcs12InsteadOfCertificate { path: PathBuf },

    #[error("{} is neither PEM text nor a DER-encoded certificate ({reason}): pass a PEM (-----BEGIN CERTIFICATE-----) or DER certificate file", path.display())]
    NotDerCertificate { path: PathBuf, reason: String },
}

impl FileContent for CertificateContentError {
    const NOUN: &'static str = "certificate";
    const EXTENSIONS: &'static str = ".pem/.crt";
    const PEM_EXAMPLE: &'static str = "PEM certificate (-----BEGIN CERTIFICATE----- ...)";
    const LARGEST: &'static str = "certificate bundle";
}

/// What is wrong with what a private-key file holds. Like [`CertificateContentError`], every
/// variant names the file, and no variant carries or prints key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyContentError {
    #[error("{} holds a certificate, not a private key: pass the key file that belongs to this certificate (often named *.key.pem)", path.display())]
    CertificateInsteadOfKey { path: PathBuf },

    #[error("{} holds a certificate signing request (CSR), not a private key: pass the key the CSR was made from", path.display())]
    CertificateRequestInsteadOfKey { path: PathBuf },

    #[error("{} holds an encrypted private key: decrypt it first, e.g. `openssl pkey -in {} -out key.pem`", path.display(), path.display())]
    EncryptedKey { path: PathBuf },

    #[error("{} is a PKCS#12 bundle (.pfx/.p12), not a PEM or DER private key: extract the key with `openssl pkcs12 -in {} -nocerts -nodes -out key.pem` and pass key.pem", path.display(), path.display())]
    Pkcs12InsteadOfKey { path: PathBuf },

    #[error("{} holds no private key ({}){}", path.display(), found_summary(found_labels, "PRIVATE KEY"), key_hint(found_labels))]
    NoKey {
        path: PathBuf,
        /// Labels of the PEM blocks that were found, in file order.
        found_labels: Vec<String>,
    },

    #[error("{} holds a {format} private key that cannot be used (corrupt, or not an RSA, ECDSA P-256/P-384 or Ed25519 key): inspect it with `openssl pkey -in {} -noout -text_pub`", path.display(), path.display())]
    UnusableKey {
        path: PathBuf,
        /// `PKCS#8`, `PKCS#1 (RSA)` or `SEC1 (EC)`.
        format: &'static str,
    },

    #[error("{} is neither PEM text nor a DER-encoded private key: pass a PEM (-----BEGIN PRIVATE KEY-----) or DER key file", path.display())]
    NotDerKey { path: PathBuf },
}

impl FileContent for KeyContentError {
    const NOUN: &'static str = "key";
    const EXTENSIONS: &'static str = ".pem/.key";
    const PEM_EXAMPLE: &'static str = "PEM private key (-----BEGIN PRIVATE KEY----- ...)";
    const LARGEST: &'static str = "private key";
}

/// What is wrong inside a damaged PEM block (RFC 7468 framing or base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PemProblem {
    #[error(
        "it has no matching -----END----- line (the file is truncated, or two blocks run together)"
    )]
    MissingEnd,
    #[error("its -----BEGIN----- line is malformed")]
    MalformedBegin,
    #[error("its base64 body is invalid (a character was changed or lines were lost)")]
    BadBase64,
    #[error("it is implausibly large")]
    TooLarge,
    #[error("it could not be decoded")]
    Other,
}

/// Reads a certificate file: a PEM bundle or a single DER certificate.
/// See [`parse_certificates`] for what is accepted.
pub fn load_certificates(
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, CertificateFileError> {
    parse_certificates(&read_certificate_file(path)?, path)
}

/// Parses certificates from file contents; `origin` is only used to name the file in errors.
///
/// Accepts a PEM bundle (any number of `CERTIFICATE`, `X509 CERTIFICATE` or
/// `TRUSTED CERTIFICATE` blocks; text around them, CRLF line ends and a UTF-8 byte-order mark
/// are fine; other blocks are ignored when at least one certificate is present, as OpenSSL
/// does for a CAfile) or a single DER certificate. Every certificate must parse as X.509 with
/// nothing after it but, in a `TRUSTED CERTIFICATE`, valid trust settings, which are dropped
/// here: use [`parse_store_certificates`] to keep them.
pub fn parse_certificates(
    bytes: &[u8],
    origin: &Path,
) -> Result<Vec<CertificateDer<'static>>, CertificateFileError> {
    Ok(parse_any(bytes, origin, Reader::Plain)?
        .into_iter()
        .map(|certificate| certificate.der)
        .collect())
}

/// Which of OpenSSL's readers a trust-store file is read as. The two disagree on a few
/// malformed inputs, and `openssl verify` uses both: `-CAfile` goes through
/// `X509_load_cert_crl_file_ex` (crypto/x509/by_file.c, `PEM_X509_INFO_read_bio`), while
/// `-trusted` and `-untrusted` go through `OSSL_STORE` (crypto/store/store_result.c,
/// `try_cert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreReader {
    /// `-CAfile`, `SSL_CTX_load_verify_locations`: a `TRUSTED CERTIFICATE` is decoded with
    /// `d2i_X509_AUX` and damaged trust settings fail the whole file; a `CERTIFICATE` is
    /// decoded with `d2i_X509`, so whatever follows the certificate is ignored.
    CaFile,
    /// `-trusted`/`-untrusted` (OSSL_STORE): every certificate block, `CERTIFICATE` included,
    /// is first decoded with `d2i_X509_AUX`, so trust settings after a plain `CERTIFICATE`
    /// do count; when they do not decode, the certificate alone is taken.
    Store,
}

/// Reads a trust-store file as `openssl verify -CAfile` does; see
/// [`parse_store_certificates_as`].
pub fn load_store_certificates(path: &Path) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    parse_store_certificates(&read_certificate_file(path)?, path)
}

/// Reads a trust-store file the way `reader` says OpenSSL reads it.
pub fn load_store_certificates_as(
    path: &Path,
    reader: StoreReader,
) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    parse_store_certificates_as(&read_certificate_file(path)?, path, reader)
}

/// Reads a system trust bundle (the OS store, an SDK's CA bundle, a hashed directory's file) as
/// [`load_store_certificates`] does, except that each certificate is only checked to be a
/// well-formed DER `Certificate` (see [`split_framed_certificate`]) rather than parsed: such a
/// file holds a hundred roots or more, the checks compare one root against them, and whoever
/// uses a root parses it then. A damaged block (base64, framing, a broken length anywhere in
/// a certificate) is the same error as from [`load_store_certificates`].
pub fn load_system_store_certificates(
    path: &Path,
) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    parse_any(&read_certificate_file(path)?, path, Reader::SystemStore)
}

/// [`parse_store_certificates_as`] with [`StoreReader::CaFile`], the reader of `-CAfile` and
/// of TLS clients' CA files.
pub fn parse_store_certificates(
    bytes: &[u8],
    origin: &Path,
) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    parse_store_certificates_as(bytes, origin, StoreReader::CaFile)
}

/// Parses the certificates of a trust-store file with their OpenSSL trust settings;
/// `origin` is only used to name the file in errors.
///
/// PEM blocks are read in file order as `PEM_X509_INFO_read_bio` reads them: `CERTIFICATE`,
/// `X509 CERTIFICATE` and `TRUSTED CERTIFICATE` become certificates; private keys (before or
/// after the certificate: 25-test_verify.t's "Mixed cert + key file test"), CRLs and any other
/// block are skipped. A file without PEM blocks is read as one DER certificate, optionally
/// followed by trust settings, as OSSL_STORE reads it. Bytes after a certificate's DER (and
/// after its trust settings) are ignored, as OpenSSL ignores them.
///
/// Not reproduced: OpenSSL also decodes the skipped key and CRL blocks and refuses the whole
/// file when one of them is corrupt; `-CAfile` refuses a DER file, which is accepted here.
pub fn parse_store_certificates_as(
    bytes: &[u8],
    origin: &Path,
    reader: StoreReader,
) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    parse_any(
        bytes,
        origin,
        match reader {
            StoreReader::CaFile => Reader::CaFile,
            StoreReader::Store => Reader::Store,
        },
    )
}

/// How certificate bytes are decoded: edgeprobe's strict reading for webpki, or one of
/// OpenSSL's two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Plain,
    CaFile,
    Store,
    /// [`Reader::CaFile`] for a system bundle: each certificate is framed by its DER alone
    /// ([`split_framed_certificate`]).
    SystemStore,
}

fn read_certificate_file(path: &Path) -> Result<Vec<u8>, CertificateFileError> {
    read_bounded(path).map_err(|failure| FileError::unreadable(path, failure))
}

fn parse_any(
    bytes: &[u8],
    origin: &Path,
    reader: Reader,
) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    let path = || origin.to_path_buf();
    let content = strip_bom(bytes);
    if content.iter().all(u8::is_ascii_whitespace) {
        return Err(CertificateFileError::Empty { path: path() });
    }

    let blocks = pem_blocks(content);
    if blocks.is_empty() {
        return parse_der_certificate(content, origin, reader);
    }

    let mut certificates = Vec::new();
    let mut holds_key = false;
    let mut holds_request = false;
    let mut found_labels = Vec::new();
    // One buffer for every block's base64 lines, rather than one per block.
    let mut base64_lines = Vec::new();
    for block in &blocks {
        let decoded = match block.certificate_kind() {
            Some(kind) => block
                .decode_certificate(&mut base64_lines)
                .map(|der| Some((kind, der))),
            None => block.decode().map(|_| None),
        };
        match decoded {
            Err(problem) => {
                return Err(CertificateFileError::DamagedPem {
                    path: path(),
                    block: block.number,
                    line: block.line.number(),
                    label: block.label.clone(),
                    problem,
                });
            }
            Ok(Some((kind, der))) => {
                let certificate =
                    decode_certificate(Cow::Owned(der), kind, reader).map_err(|failure| {
                        match failure {
                            CertificateFailure::Certificate(reason) => {
                                CertificateFileError::Content(
                                    CertificateContentError::InvalidCertificate {
                                        path: path(),
                                        block: block.number,
                                        line: block.line.number(),
                                        label: block.label.clone(),
                                        reason,
                                    },
                                )
                            }
                            CertificateFailure::TrustSettings(reason) => {
                                CertificateFileError::Content(
                                    CertificateContentError::InvalidTrustSettings {
                                        path: path(),
                                        block: block.number,
                                        line: block.line.number(),
                                        reason,
                                    },
                                )
                            }
                        }
                    })?;
                certificates.push(certificate);
            }
            // Kinds and labels the PEM reader does not decode (ENCRYPTED PRIVATE KEY, OPENSSH
            // PRIVATE KEY, NEW CERTIFICATE REQUEST, ...) are classified by label.
            Ok(None) if block.is_private_key() => holds_key = true,
            Ok(None) if block.is_certificate_request() => holds_request = true,
            Ok(None) => found_labels.push(block.label.clone()),
        }
    }

    if !certificates.is_empty() {
        Ok(certificates)
    } else if holds_key {
        Err(CertificateFileError::Content(
            CertificateContentError::PrivateKeyInsteadOfCertificate { path: path() },
        ))
    } else if holds_request {
        Err(CertificateFileError::Content(
            CertificateContentError::CertificateRequestInsteadOfCertificate { path: path() },
        ))
    } else {
        Err(CertificateFileError::Content(
            CertificateContentError::NoCertificate {
                path: path(),
                found_labels,
            },
        ))
    }
}

/// The PEM labels OpenSSL reads as certificates (`PEM_STRING_X509`, `PEM_STRING_X509_OLD`,
/// `PEM_STRING_X509_TRUSTED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertificateKind {
    Plain,
    Trusted,
}

enum CertificateFailure {
    Certificate(String),
    TrustSettings(TrustSettingsError),
}

/// Decodes one certificate (and the trust settings after it) as `reader` would. `der` is the
/// decoded block: when it is owned (a PEM block's), the certificate keeps that buffer rather
/// than a copy of it.
fn decode_certificate(
    der: Cow<'_, [u8]>,
    kind: CertificateKind,
    reader: Reader,
) -> Result<StoreCertificate, CertificateFailure> {
    let (certificate, rest) = match reader {
        Reader::SystemStore => {
            split_framed_certificate(&der).map_or_else(|| split_certificate(&der), Ok)
        }
        _ => split_certificate(&der),
    }
    .map_err(CertificateFailure::Certificate)?;
    // d2i_X509_AUX: trust settings follow only when bytes are left; what follows them is
    // not looked at.
    let with_settings = |rest: &[u8]| -> Result<Option<TrustSettings>, TrustSettingsError> {
        if rest.is_empty() {
            Ok(None)
        } else {
            parse_trust_settings(rest).map(|(settings, _)| Some(settings))
        }
    };
    let trust = match (reader, kind) {
        // webpki refuses trailing bytes, so name them here rather than at the handshake.
        (Reader::Plain, CertificateKind::Plain) if !rest.is_empty() => {
            return Err(CertificateFailure::Certificate(format!(
                "{} unexpected bytes after the certificate",
                rest.len()
            )));
        }
        (Reader::Plain | Reader::CaFile | Reader::SystemStore, CertificateKind::Plain) => None,
        (Reader::Plain | Reader::CaFile | Reader::SystemStore, CertificateKind::Trusted) => {
            with_settings(rest).map_err(CertificateFailure::TrustSettings)?
        }
        // try_cert: d2i_X509_AUX first, then plain d2i_X509 (which ignores the rest). The
        // PEM decoder names TRUSTED CERTIFICATE data "Certificate", so the fallback that
        // store_result.c means to forbid for it is taken too.
        (Reader::Store, _) => with_settings(rest).unwrap_or(None),
    };
    let length = certificate.len();
    let der = match der {
        Cow::Owned(mut owned) => {
            owned.truncate(length);
            owned
        }
        Cow::Borrowed(borrowed) => borrowed[..length].to_vec(),
    };
    Ok(StoreCertificate {
        der: CertificateDer::from(der),
        trust,
    })
}

/// Splits `der` into one X.509 certificate and what follows it.
///
/// The extensions' contents are not parsed here: x509-parser keeps a damaged extension as
/// `ParsedExtension::ParseError` rather than failing the certificate (and ignores bytes left
/// inside an `Extension` either way), so the same certificates parse, with the same errors, as
/// with deep parsing, which a trust bundle's ~140 roots would pay for and never read.
fn split_certificate(der: &[u8]) -> Result<(&[u8], &[u8]), String> {
    use x509_parser::certificate::X509CertificateParser;
    use x509_parser::nom::Parser as _;
    match X509CertificateParser::new()
        .with_deep_parse_extensions(false)
        .parse(der)
    {
        Ok((rest, _)) => Ok((&der[..der.len() - rest.len()], rest)),
        Err(x509_parser::nom::Err::Incomplete(_)) => Err("the data ends too early".into()),
        Err(x509_parser::nom::Err::Error(error) | x509_parser::nom::Err::Failure(error)) => {
            Err(error.to_string())
        }
    }
}

/// A certificate nests six deep (the value of an extension, of a name's attribute); a
/// deeper structure is left to the parser.
const FRAMING_DEPTH: u8 = 8;

/// Every element of `content` is well-formed by the rules of
/// [`Reader::element`](crate::pki::signature::der::Reader::element) (a one-byte
/// tag, a definite, minimal length of at most four bytes that fits), and so is every
/// element inside a constructed one, down to [`FRAMING_DEPTH`] levels. One loop over the bytes, with
/// the ends of the open constructed elements on a stack: a bundle's ~140 roots hold some
/// 25,000 elements, and this walk is much of the time spent reading one. (A length of four
/// bytes fits no file that is read: they are bounded by [`MAX_FILE_BYTES`].)
fn well_formed(content: &[u8]) -> bool {
    let mut ends = [0; FRAMING_DEPTH as usize + 1];
    ends[0] = content.len();
    let mut level = 0;
    let mut at = 0;
    loop {
        while at == ends[level] {
            if level == 0 {
                return true;
            }
            level -= 1;
        }
        // Here at < limit <= content.len(), and every element found ends by its limit.
        let limit = ends[level];
        let tag = content[at];
        if tag & 0x1f == 0x1f || limit - at < 2 {
            return false;
        }
        let first = content[at + 1];
        at += 2;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || limit - at < count || content[at] == 0 {
                return false;
            }
            let length = content[at..at + count]
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            if length < 0x80 {
                return false;
            }
            at += count;
            length
        };
        if limit - at < length {
            return false;
        }
        if tag & 0x20 == 0 {
            at += length;
        } else if level == usize::from(FRAMING_DEPTH) {
            return false;
        } else {
            level += 1;
            ends[level] = at + length;
        }
    }
}

/// Splits `der` into one certificate and what follows it by its DER alone, as far as that can
/// tell: a `SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING }` (RFC 5280 §4.1) whose elements, and
/// theirs all the way down, are well-formed DER (definite, minimal lengths that fit, X.690
/// §10.1), the tbsCertificate starting with its version or serial number. `None` for anything
/// else, which [`split_certificate`] then parses (and names the problem of, or accepts). A
/// damaged copy (a truncated paste, a changed length or tag byte) fails here; what only a parse
/// sees (a wrongly typed field inside a well-formed structure) is found when the certificate is
/// parsed for use.
fn split_framed_certificate(der: &[u8]) -> Option<(&[u8], &[u8])> {
    use crate::pki::signature::der::{BIT_STRING, INTEGER, Reader as DerReader, SEQUENCE};
    let (outer, encoding) = DerReader::new(der).element_with_encoding()?;
    if outer.tag != SEQUENCE || !well_formed(outer.content) {
        return None;
    }
    let mut fields = DerReader::new(outer.content);
    let tbs = fields.expect(SEQUENCE)?;
    fields.expect(SEQUENCE)?;
    fields.expect(BIT_STRING)?;
    let version_or_serial = DerReader::new(tbs).peek_tag()?;
    (fields.is_empty() && matches!(version_or_serial, 0xa0 | INTEGER))
        .then(|| (encoding, &der[encoding.len()..]))
}

/// Reads a private-key file. See [`parse_private_key`] for what is accepted.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, KeyFileError> {
    let bytes = read_bounded(path).map_err(|failure| FileError::unreadable(path, failure))?;
    parse_private_key(&bytes, path)
}

/// Parses a private key from file contents; `origin` is only used to name the file in errors.
///
/// Accepts PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM,
/// with text around it, or the same structures as DER. The first key in the file is used, and
/// it must be one rustls can sign with.
pub fn parse_private_key(
    bytes: &[u8],
    origin: &Path,
) -> Result<PrivateKeyDer<'static>, KeyFileError> {
    let owned = || origin.to_path_buf();
    let content = strip_bom(bytes);
    if content.iter().all(u8::is_ascii_whitespace) {
        return Err(KeyFileError::Empty { path: owned() });
    }

    let blocks = pem_blocks(content);
    let key = if blocks.is_empty() {
        if is_pkcs12(content) {
            return Err(KeyFileError::Content(KeyContentError::Pkcs12InsteadOfKey {
                path: owned(),
            }));
        }
        match PrivateKeyDer::try_from(content) {
            Ok(key) => key.clone_key(),
            Err(_) if x509_parser::parse_x509_certificate(content).is_ok() => {
                return Err(KeyFileError::Content(
                    KeyContentError::CertificateInsteadOfKey { path: owned() },
                ));
            }
            Err(_) if X509CertificationRequest::from_der(content).is_ok() => {
                return Err(KeyFileError::Content(
                    KeyContentError::CertificateRequestInsteadOfKey { path: owned() },
                ));
            }
            Err(_) if looks_like_text(content) => {
                return Err(KeyFileError::Content(KeyContentError::NoKey {
                    path: owned(),
                    found_labels: Vec::new(),
                }));
            }
            Err(_) => {
                return Err(KeyFileError::Content(KeyContentError::NotDerKey {
                    path: owned(),
                }));
            }
        }
    } else {
        first_pem_key(&blocks, origin)?
    };

    // A PEM or DER wrapper can hold bytes that are not a key at all; find out now rather than
    // at the first TLS handshake.
    if rustls::crypto::ring::sign::any_supported_type(&key).is_err() {
        let format = match key {
            PrivateKeyDer::Pkcs1(_) => "PKCS#1 (RSA)",
            PrivateKeyDer::Sec1(_) => "SEC1 (EC)",
            _ => "PKCS#8",
        };
        return Err(KeyFileError::Content(KeyContentError::UnusableKey {
            path: owned(),
            format,
        }));
    }
    Ok(key)
}

fn first_pem_key(
    blocks: &[PemBlock<'_>],
    path: &Path,
) -> Result<PrivateKeyDer<'static>, KeyFileError> {
    let mut holds_certificate = false;
    let mut holds_request = false;
    let mut holds_encrypted_key = false;
    let mut found_labels = Vec::new();
    for block in blocks {
        match block.decode() {
            Err(problem) => {
                return Err(KeyFileError::DamagedPem {
                    path: path.into(),
                    block: block.number,
                    line: block.line.number(),
                    label: block.label.clone(),
                    problem,
                });
            }
            Ok(Some((kind, der))) => match PrivateKeyDer::from_pem(kind, der) {
                Some(key) => return Ok(key),
                None if kind == SectionKind::Certificate => holds_certificate = true,
                None if kind == SectionKind::Csr => holds_request = true,
                None => found_labels.push(block.label.clone()),
            },
            // RFC 5958 encrypted PKCS#8, as `openssl genpkey -aes256` writes it.
            Ok(None) if block.label == "ENCRYPTED PRIVATE KEY" => holds_encrypted_key = true,
            Ok(None) if block.is_certificate_request() => holds_request = true,
            Ok(None) => found_labels.push(block.label.clone()),
        }
    }
    let path = path.to_path_buf();
    Err(if holds_encrypted_key {
        KeyFileError::Content(KeyContentError::EncryptedKey { path })
    } else if holds_certificate {
        KeyFileError::Content(KeyContentError::CertificateInsteadOfKey { path })
    } else if holds_request {
        KeyFileError::Content(KeyContentError::CertificateRequestInsteadOfKey { path })
    } else {
        KeyFileError::Content(KeyContentError::NoKey { path, found_labels })
    })
}

fn parse_der_certificate(
    content: &[u8],
    origin: &Path,
    reader: Reader,
) -> Result<Vec<StoreCertificate>, CertificateFileError> {
    let path = origin.to_path_buf();
    // A DER file has no label to say "trusted": read it as OSSL_STORE does, except for
    // edgeprobe's own strict reading.
    let reader = match reader {
        Reader::Plain => Reader::Plain,
        Reader::CaFile | Reader::Store | Reader::SystemStore => Reader::Store,
    };
    match decode_certificate(Cow::Borrowed(content), CertificateKind::Plain, reader) {
        Ok(certificate) => Ok(vec![certificate]),
        // Before the key test: a PFX is a SEQUENCE starting with an INTEGER too, which the
        // PKCS#8 guess of rustls-pki-types takes for a key.
        Err(_) if is_pkcs12(content) => Err(CertificateFileError::Content(
            CertificateContentError::Pkcs12InsteadOfCertificate { path },
        )),
        Err(_) if PrivateKeyDer::try_from(content).is_ok() => Err(CertificateFileError::Content(
            CertificateContentError::PrivateKeyInsteadOfCertificate { path },
        )),
        Err(_) if X509CertificationRequest::from_der(content).is_ok() => {
            Err(CertificateFileError::Content(
                CertificateContentError::CertificateRequestInsteadOfCertificate { path },
            ))
        }
        // Text without any PEM block: most likely the wrong file, or a PEM body pasted
        // without its BEGIN/END lines. Either way "no certificate" says more than "bad DER".
        Err(_) if looks_like_text(content) => Err(CertificateFileError::Content(
            CertificateContentError::NoCertificate {
                path,
                found_labels: Vec::new(),
            },
        )),
        Err(CertificateFailure::Certificate(reason)) => Err(CertificateFileError::Content(
            CertificateContentError::NotDerCertificate { path, reason },
        )),
        Err(CertificateFailure::TrustSettings(reason)) => Err(CertificateFileError::Content(
            CertificateContentError::NotDerCertificate {
                path,
                reason: reason.to_string(),
            },
        )),
    }
}

/// Whether `content` is a PKCS#12 PFX (RFC 7292 section 4): `SEQUENCE { version INTEGER 3,
/// authSafe ContentInfo { contentType pkcs7-data or pkcs7-signedData, ... }, ... }`. The outer
/// structure is enough to name the file; its contents (often encrypted) are not read.
pub fn is_pkcs12(content: &[u8]) -> bool {
    use crate::pki::signature::der::{INTEGER, OBJECT_IDENTIFIER, Reader as DerReader, SEQUENCE};
    /// pkcs7-data (1.2.840.113549.1.7.1) and pkcs7-signedData (1.2.840.113549.1.7.2).
    const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let mut outer = DerReader::new(content);
    let Some(pfx) = outer.expect(SEQUENCE) else {
        return false;
    };
    let mut fields = DerReader::new(pfx);
    if fields.expect(INTEGER) != Some(&[3]) {
        return false;
    }
    let Some(auth_safe) = fields.expect(SEQUENCE) else {
        return false;
    };
    let content_type = DerReader::new(auth_safe).expect(OBJECT_IDENTIFIER);
    matches!(content_type, Some(DATA | SIGNED_DATA))
}

/// One `-----BEGIN ...-----` block of a PEM file: the text from its BEGIN line up to the next
/// BEGIN line (or the end of the file).
struct PemBlock<'a> {
    /// 1-based position among all blocks of the file.
    number: usize,
    /// Where the BEGIN line is.
    line: BeginLine<'a>,
    /// The label between `-----BEGIN ` and `-----`, made safe to print.
    label: String,
    text: &'a [u8],
}

/// Where a block's BEGIN line is in its file. Its line number is counted only when an error
/// names it: a bundle of ~140 certificates has ~3,500 lines, and a block that reads well is
/// never named.
#[derive(Clone, Copy)]
struct BeginLine<'a> {
    file: &'a [u8],
    offset: usize,
}

impl BeginLine<'_> {
    /// The 1-based line number, counted as an editor would: `\n` ends a line, or `\r` in a
    /// file that has no `\n`.
    fn number(self) -> usize {
        let line_feed = if self.file.contains(&b'\n') {
            b'\n'
        } else {
            b'\r'
        };
        1 + memchr::memchr_iter(line_feed, &self.file[..self.offset]).count()
    }
}

impl PemBlock<'_> {
    /// Decodes the block with the PEM reader of rustls-pki-types. `Ok(None)` means the reader
    /// does not know the label (it skips such blocks).
    fn decode(&self) -> Result<Option<(SectionKind, Vec<u8>)>, PemProblem> {
        match <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(self.text).next() {
            None => Ok(None),
            Some(Ok(section)) => Ok(Some(section)),
            Some(Err(error)) => Err(match error {
                pem::Error::MissingSectionEnd { .. } => PemProblem::MissingEnd,
                pem::Error::IllegalSectionStart { .. } => PemProblem::MalformedBegin,
                pem::Error::Base64Decode(_) => PemProblem::BadBase64,
                pem::Error::SectionTooLarge => PemProblem::TooLarge,
                _ => PemProblem::Other,
            }),
        }
    }

    /// Whether OpenSSL reads the block as a certificate, and as which kind. Labels compare
    /// exactly, as `strcmp` in pem_info.c does.
    fn certificate_kind(&self) -> Option<CertificateKind> {
        match self.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => Some(CertificateKind::Plain),
            "TRUSTED CERTIFICATE" => Some(CertificateKind::Trusted),
            _ => None,
        }
    }

    /// Decodes a certificate block of any of OpenSSL's three labels. The PEM reader only
    /// knows `CERTIFICATE`, so the other two are relabelled first (BEGIN and END lines
    /// alike, so a missing END line is still reported as such).
    /// `base64_lines` is scratch space, kept from block to block.
    fn decode_certificate(&self, base64_lines: &mut Vec<u8>) -> Result<Vec<u8>, PemProblem> {
        match self.decode_usual_certificate(base64_lines) {
            Some(der) => Ok(der),
            None => self.decode_certificate_with_reader(),
        }
    }

    /// [`Self::decode_certificate`] through the PEM reader of rustls-pki-types, whatever the
    /// block's layout.
    fn decode_certificate_with_reader(&self) -> Result<Vec<u8>, PemProblem> {
        let relabelled;
        let text = if self.label == "CERTIFICATE" {
            self.text
        } else {
            let begin = format!("-----BEGIN {}-----", self.label);
            let end = format!("-----END {}-----", self.label);
            relabelled = replace_first(
                &replace_first(self.text, begin.as_bytes(), b"-----BEGIN CERTIFICATE-----"),
                end.as_bytes(),
                b"-----END CERTIFICATE-----",
            );
            &relabelled
        };
        let block = PemBlock {
            number: self.number,
            line: self.line,
            label: String::new(),
            text,
        };
        match block.decode()? {
            Some((SectionKind::Certificate, der)) => Ok(der),
            // The BEGIN line did not hold exactly the label (trailing text after it).
            _ => Err(PemProblem::MalformedBegin),
        }
    }

    /// A certificate block as OpenSSL and every CA bundle write it, decoded without the general
    /// reader: the BEGIN line alone on its line, lines of nothing but base64 (a multiple of four
    /// characters in all, `=` only as the last one or two), then the END line of the same
    /// label. The lines are joined ([`join_base64_lines`], in `base64_lines`, scratch space) and
    /// decoded by [`decode_pem_base64`]. `None` for anything else
    /// (white space in a line, headers, a missing END line, unpadded base64, ...), which the
    /// general reader then decodes or names the problem of. For the blocks taken here, the PEM
    /// reader of rustls-pki-types reads the same characters (it joins the lines, reads the rest
    /// of the END line as text after the block) and decodes them alike (it ignores the unused
    /// bits of the last character too, hence [`PEM_BASE64`]), so the result is always what it
    /// would have given. In a system bundle of ~140 roots this reading is most of the time
    /// spent on the file, and the general reader (constant-time base64, not needed for public
    /// certificates) takes several times longer.
    fn decode_usual_certificate(&self, base64_lines: &mut Vec<u8>) -> Option<Vec<u8>> {
        let text = self.text;
        let begin_end = line_end(text, 0);
        let label = text[..begin_end]
            .strip_prefix(b"-----BEGIN ")?
            .strip_suffix(b"-----")?;
        if !matches!(
            label,
            b"CERTIFICATE" | b"X509 CERTIFICATE" | b"TRUSTED CERTIFICATE"
        ) {
            return None;
        }
        // 64-character lines taken whole first; when that does not decode, line by line.
        [true, false].into_iter().find_map(|whole_lines| {
            join_base64_lines(text, begin_end, label, whole_lines, base64_lines)?;
            decode_pem_base64(base64_lines)
        })
    }

    /// `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`,
    /// `OPENSSH PRIVATE KEY`, ...
    fn is_private_key(&self) -> bool {
        self.label.ends_with("PRIVATE KEY")
    }

    /// `CERTIFICATE REQUEST` (RFC 7468) or `NEW CERTIFICATE REQUEST` (older Netscape/MS tools).
    fn is_certificate_request(&self) -> bool {
        self.label.ends_with("CERTIFICATE REQUEST")
    }
}

/// Joins into `joined` (cleared first) the base64 lines of a PEM block's `text` from
/// `from` (the end of its BEGIN line) to its END line of `label`, without their line breaks;
/// `None` when the block has no such END line.
///
/// With `whole_lines`, a piece of 64 characters followed by a line end, which is how OpenSSL
/// and the CA tools write every line but the last, is taken without looking for a line end
/// inside it. The decoder refuses `\n` and `\r`, so when it decodes what was joined, every
/// such piece was a whole line and the join is the one made line by line; when it does not,
/// the caller joins again line by line (a file wrapped at other widths, a damaged block).
fn join_base64_lines(
    text: &[u8],
    from: usize,
    label: &[u8],
    whole_lines: bool,
    joined: &mut Vec<u8>,
) -> Option<()> {
    joined.clear();
    joined.reserve(text.len());
    let mut at = from;
    loop {
        // At a line end: skip it (`\r\n` is two), then read the next line.
        while text
            .get(at)
            .is_some_and(|&byte| byte == b'\n' || byte == b'\r')
        {
            at += 1;
        }
        let rest = text.get(at..).filter(|rest| !rest.is_empty())?;
        if let Some(end) = rest.strip_prefix(b"-----END ") {
            end.strip_prefix(label)?.strip_prefix(b"-----")?;
            return Some(());
        }
        let line = match rest.get(BASE64_LINE) {
            Some(b'\n' | b'\r') if whole_lines => &rest[..BASE64_LINE],
            _ => &rest[..line_end(rest, 0)],
        };
        joined.extend_from_slice(line);
        at += line.len();
    }
}

/// The length of a full base64 line in PEM (RFC 7468 §2: "exactly 64 characters" for
/// generators, as `PEM_write` does).
const BASE64_LINE: usize = 64;

/// `base64` decoded as [`PEM_BASE64`] decodes it, by `base64-simd` where that accepts it: it
/// decodes the same characters to the same bytes (the standard alphabet, padding required)
/// several times faster, and refuses what it does not take (unused bits of the last
/// character that are not zero), which [`PEM_BASE64`] then decodes or refuses. Tests compare
/// the two on generated inputs.
fn decode_pem_base64(base64: &[u8]) -> Option<Vec<u8>> {
    base64_simd::STANDARD
        .decode_to_vec(base64)
        .ok()
        .or_else(|| PEM_BASE64.decode(base64).ok())
}

/// Base64 as the PEM reader of rustls-pki-types decodes it: the standard alphabet, padding
/// required (a multiple of four characters), and the unused low bits of the last character
/// ignored rather than refused.
const PEM_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Where the line that starts at `from` ends: at its `\n` or `\r` (the line ends the PEM
/// reader splits at), or at the end of `text`.
fn line_end(text: &[u8], from: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &text[from..]).map_or(text.len(), |position| from + position)
}

/// `haystack` with the first `needle` replaced (unchanged when there is none).
fn replace_first(haystack: &[u8], needle: &[u8], replacement: &[u8]) -> Vec<u8> {
    match haystack
        .windows(needle.len())
        .position(|window| window == needle)
    {
        Some(start) => [
            &haystack[..start],
            replacement,
            &haystack[start + needle.len()..],
        ]
        .concat(),
        None => haystack.to_vec(),
    }
}

/// Splits PEM text at its BEGIN lines. Lines are found the way rustls-pki-types finds them
/// (`\n` or `\r` ends a line), so a block here never holds more than one BEGIN line and an
/// error from the reader belongs to exactly this block: a BEGIN line is `-----BEGIN ` at the
/// start of the file or right after a `\n` or `\r`. (The text cannot overlap itself, so
/// searching for it finds every one.)
fn pem_blocks(content: &[u8]) -> Vec<PemBlock<'_>> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let starts: Vec<usize> = memchr::memmem::find_iter(content, BEGIN)
        .filter(|&offset| offset == 0 || matches!(content[offset - 1], b'\n' | b'\r'))
        .collect();
    let ends = starts.iter().skip(1).copied().chain([content.len()]);
    starts
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(index, (&start, end))| PemBlock {
            number: index + 1,
            line: BeginLine {
                file: content,
                offset: start,
            },
            label: printable_label(&content[start + BEGIN.len()..line_end(content, start)]),
            text: &content[start..end],
        })
        .collect()
}

/// The label of a BEGIN line, cut at its closing dashes, limited to printable ASCII and a
/// sane length: it ends up in error messages, and file bytes must not reach a terminal.
fn printable_label(after_begin: &[u8]) -> String {
    let label = after_begin
        .split(|&byte| byte == b'-')
        .next()
        .unwrap_or_default();
    let mut printable: String = label
        .iter()
        .take(40)
        .map(|&byte| {
            if byte.is_ascii_graphic() || byte == b' ' {
                char::from(byte)
            } else {
                '?'
            }
        })
        .collect();
    printable.truncate(printable.trim_end().len());
    printable
}

fn found_summary(labels: &[String], wanted: &str) -> String {
    if labels.is_empty() {
        format!("no -----BEGIN {wanted}----- block, and not DER either")
    } else {
        format!("found only PEM blocks of type {}", labels.join(", "))
    }
}

/// A fix for the common non-certificate PEM files.
fn certificate_hint(labels: &[String]) -> &'static str {
    if labels.iter().any(|label| label == "PKCS7") {
        ": extract the certificates with `openssl pkcs7 -print_certs -in FILE -out certs.pem`"
    } else if labels.iter().any(|label| label == "TRUSTED CERTIFICATE") {
        ": convert it with `openssl x509 -in FILE -out cert.pem`"
    } else if labels.iter().any(|label| label == "PUBLIC KEY") {
        ": a public key is not a certificate; pass the certificate file"
    } else {
        ": pass the PEM or DER certificate file"
    }
}

fn key_hint(labels: &[String]) -> &'static str {
    if labels.iter().any(|label| label == "OPENSSH PRIVATE KEY") {
        ": convert it with `ssh-keygen -p -m PKCS8 -f FILE` (on a copy)"
    } else {
        ": pass the PEM or DER private key file"
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    // Windows editors (Notepad) save UTF-8 with a byte-order mark; OpenSSL skips text before
    // the BEGIN line, and so does the PEM reader, but a BOM glued to the first BEGIN line
    // would hide that block.
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| !text.contains('\0'))
}

enum ReadFailure {
    NotFound,
    PermissionDenied,
    IsDirectory,
    TooLarge,
    Io(io::Error),
}

impl From<io::Error> for ReadFailure {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::NotFound => Self::NotFound,
            io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            io::ErrorKind::IsADirectory => Self::IsDirectory,
            _ => Self::Io(error),
        }
    }
}

/// Reads at most `MAX_FILE_BYTES + 1` bytes, so a wrong path costs bounded memory and time.
fn read_bounded(path: &Path) -> Result<Vec<u8>, ReadFailure> {
    // Opening a directory read-only succeeds on Linux; its metadata tells.
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(ReadFailure::IsDirectory);
    }
    let bytes = read_to_end_bounded(file, metadata.len())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadFailure::TooLarge);
    }
    Ok(bytes)
}

/// `file` read to its end, but never more than `MAX_FILE_BYTES + 1` bytes (one more than a
/// file that is read may hold, so that a larger one shows), into a buffer sized from its
/// `length` (its metadata's): the read does not grow the buffer by doubling, which would copy a
/// 220 KB bundle six times and fault in twice its size.
pub(crate) fn read_to_end_bounded(file: File, length: u64) -> io::Result<Vec<u8>> {
    // +1 to see the end of the file without growing.
    let expected = length.min(MAX_FILE_BYTES) + 1;
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};
    use std::process::Command;

    use x509_parser::asn1_rs::Oid;

    use crate::pki::oids::{
        OID_ANY_EXTENDED_KEY_USAGE, OID_PKIX_KP_CLIENT_AUTH, OID_PKIX_KP_SERVER_AUTH,
    };

    /// `assert!(matches!(value, pattern))` that shows the value when it does not match.
    macro_rules! assert_matches {
        ($value:expr, $pattern:pat) => {
            let value = &$value;
            assert!(matches!(value, $pattern), "{value:?}");
        };
    }

    struct Generated {
        certificate: rcgen::Certificate,
        key: KeyPair,
    }

    fn self_signed(common_name: &str) -> Generated {
        let mut params = CertificateParams::new(vec![common_name.to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        Generated { certificate, key }
    }

    fn write(dir: &tempfile::TempDir, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn load_from(
        contents: impl AsRef<[u8]>,
    ) -> Result<Vec<CertificateDer<'static>>, CertificateFileError> {
        let dir = tempfile::tempdir().unwrap();
        load_certificates(&write(&dir, "cert.pem", contents))
    }

    fn key_from(contents: impl AsRef<[u8]>) -> Result<PrivateKeyDer<'static>, KeyFileError> {
        let dir = tempfile::tempdir().unwrap();
        load_private_key(&write(&dir, "key.pem", contents))
    }

    /// The base64 lines of a PEM text: what must never show up in an error message.
    fn base64_lines(pem: &str) -> Vec<&str> {
        pem.lines()
            .filter(|line| !line.starts_with("-----") && line.len() > 8)
            .collect()
    }

    #[test]
    fn loads_a_single_pem_certificate() {
        let generated = self_signed("gw.contoso.com");
        let certificates = load_from(generated.certificate.pem()).unwrap();
        assert_eq!(certificates, vec![generated.certificate.der().clone()]);
    }

    #[test]
    fn loads_a_bundle_of_three_with_text_around_in_file_order() {
        let all: Vec<_> = ["root", "intermediate", "leaf"]
            .into_iter()
            .map(self_signed)
            .collect();
        let bundle = format!(
            "Bag Attributes\n    friendlyName: root\nsubject=CN = root\n{}\n# intermediate\n{}\nsome trailing words\n{}\n\n\n",
            all[0].certificate.pem(),
            all[1].certificate.pem(),
            all[2].certificate.pem()
        );
        let certificates = load_from(bundle).unwrap();
        let expected: Vec<_> = all.iter().map(|g| g.certificate.der().clone()).collect();
        assert_eq!(certificates, expected);
    }

    #[test]
    fn loads_a_der_certificate() {
        let generated = self_signed("der.contoso.com");
        let certificates = load_from(generated.certificate.der().as_ref()).unwrap();
        assert_eq!(certificates, vec![generated.certificate.der().clone()]);
    }

    #[test]
    fn loads_pem_with_crlf_line_ends_and_a_byte_order_mark() {
        let first = self_signed("one");
        let second = self_signed("two");
        let text = format!("{}{}", first.certificate.pem(), second.certificate.pem())
            .replace('\n', "\r\n");
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let certificates = load_from(bytes).unwrap();
        assert_eq!(
            certificates,
            vec![
                first.certificate.der().clone(),
                second.certificate.der().clone()
            ]
        );
    }

    #[test]
    fn ignores_a_key_next_to_the_certificate() {
        let generated = self_signed("combined");
        let combined = format!(
            "{}{}",
            generated.key.serialize_pem(),
            generated.certificate.pem()
        );
        assert_eq!(load_from(combined).unwrap().len(), 1);
    }

    #[test]
    fn missing_file_is_not_found_and_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.pem");
        let error = load_certificates(&path).unwrap_err();
        assert_matches!(error, CertificateFileError::NotFound { .. });
        assert!(error.to_string().contains(&path.display().to_string()));
        assert!(matches!(
            load_private_key(&path),
            Err(KeyFileError::NotFound { .. })
        ));
    }

    #[test]
    fn directory_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let error = load_certificates(dir.path()).unwrap_err();
        assert_matches!(error, CertificateFileError::IsDirectory { .. });
        assert!(
            error
                .to_string()
                .contains(&dir.path().display().to_string())
        );
        assert!(matches!(
            load_private_key(dir.path()),
            Err(KeyFileError::IsDirectory { .. })
        ));
    }

    #[test]
    fn empty_and_whitespace_only_files_are_empty() {
        for contents in ["", " \n\t\r\n  ", "\u{FEFF}\n"] {
            let error = load_from(contents).unwrap_err();
            assert!(
                matches!(error, CertificateFileError::Empty { .. }),
                "{contents:?}: {error:?}"
            );
            assert!(matches!(
                key_from(contents),
                Err(KeyFileError::Empty { .. })
            ));
        }
    }

    #[test]
    fn oversized_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.pem");
        let file = File::create(&path).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap();
        let error = load_certificates(&path).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::TooLarge {
                limit: MAX_FILE_BYTES,
                ..
            }
        );
        // Exactly at the cap is read (and then fails for what it holds, not for its size).
        file.set_len(MAX_FILE_BYTES).unwrap();
        let error = load_certificates(&path).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::Content(CertificateContentError::NotDerCertificate { .. })
        );
    }

    #[test]
    #[cfg(unix)]
    fn permission_errors_map_to_permission_denied() {
        let failure = ReadFailure::from(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(matches!(failure, ReadFailure::PermissionDenied));

        // With a real unreadable file, when not running as root (root can read anything).
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "locked.pem", self_signed("x").certificate.pem());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&path).is_ok() {
            eprintln!("running as root: unreadable-file case not exercisable here");
            return;
        }
        let error = load_certificates(&path).unwrap_err();
        assert_matches!(error, CertificateFileError::PermissionDenied { .. });
        assert!(error.to_string().contains("sudo"));
    }

    #[test]
    fn garbage_text_holds_no_certificate() {
        let error = load_from("this is not a certificate\nat all\n").unwrap_err();
        match &error {
            CertificateFileError::Content(CertificateContentError::NoCertificate {
                found_labels,
                ..
            }) => {
                assert!(found_labels.is_empty())
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!error.to_string().contains("at all"));
    }

    #[test]
    fn names_the_pem_blocks_it_found_instead() {
        let text = "-----BEGIN PKCS7-----\nMIIBAA==\n-----END PKCS7-----\n-----BEGIN PUBLIC KEY-----\nMIIBAA==\n-----END PUBLIC KEY-----\n";
        let error = load_from(text).unwrap_err();
        match &error {
            CertificateFileError::Content(CertificateContentError::NoCertificate {
                found_labels,
                ..
            }) => {
                assert_eq!(found_labels, &["PKCS7", "PUBLIC KEY"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let message = error.to_string();
        assert!(message.contains("PKCS7, PUBLIC KEY"), "{message}");
        assert!(message.contains("openssl pkcs7 -print_certs"), "{message}");
    }

    #[test]
    fn private_key_instead_of_certificate_says_so_without_the_key() {
        let generated = self_signed("gw");
        let key_pem = generated.key.serialize_pem();
        let error = load_from(&key_pem).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::Content(
                CertificateContentError::PrivateKeyInsteadOfCertificate { .. }
            )
        );
        let message = error.to_string();
        assert!(
            message.contains("holds a private key, not a certificate"),
            "{message}"
        );
        assert!(
            message.contains("azure-iot-test-only.root.ca.cert.pem"),
            "{message}"
        );
        for line in base64_lines(&key_pem) {
            assert!(!message.contains(line) && !format!("{error:?}").contains(line));
        }

        let error = load_from(generated.key.serialize_der()).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::Content(
                CertificateContentError::PrivateKeyInsteadOfCertificate { .. }
            )
        );

        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(
            load_from(encrypted),
            Err(CertificateFileError::Content(
                CertificateContentError::PrivateKeyInsteadOfCertificate { .. }
            ))
        ));
    }

    #[test]
    fn certificate_request_is_recognised() {
        let key = KeyPair::generate().unwrap();
        let request = CertificateParams::new(vec!["gw.contoso.com".to_owned()])
            .unwrap()
            .serialize_request(&key)
            .unwrap();
        let error = load_from(request.pem().unwrap()).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::Content(
                CertificateContentError::CertificateRequestInsteadOfCertificate { .. }
            )
        );
        assert!(error.to_string().contains("(CSR)"));
        let error = load_from(request.der().as_ref()).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::Content(
                CertificateContentError::CertificateRequestInsteadOfCertificate { .. }
            )
        );
    }

    #[test]
    fn truncated_pem_names_the_block_and_its_line() {
        let first = self_signed("first").certificate.pem();
        let second = self_signed("second").certificate.pem();
        let cut = &second[..second.len() / 2];
        let text = format!("intro\n{first}{cut}");
        let error = load_from(&text).unwrap_err();
        let first_lines = first.lines().count();
        match &error {
            CertificateFileError::DamagedPem {
                block,
                line,
                label,
                problem,
                ..
            } => {
                assert_eq!(*block, 2);
                assert_eq!(*line, 2 + first_lines);
                assert_eq!(label, "CERTIFICATE");
                assert_eq!(*problem, PemProblem::MissingEnd);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains(&format!(
            "PEM block 2 (CERTIFICATE at line {})",
            2 + first_lines
        )));
    }

    #[test]
    fn bad_base64_names_the_block() {
        let first = self_signed("first").certificate.pem();
        let mut lines: Vec<String> = self_signed("second")
            .certificate
            .pem()
            .lines()
            .map(str::to_owned)
            .collect();
        lines[3].replace_range(10..11, "!");
        let text = format!("{first}{}\n", lines.join("\n"));
        let error = load_from(&text).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::DamagedPem {
                block: 2,
                problem: PemProblem::BadBase64,
                ..
            }
        );
    }

    #[test]
    fn valid_base64_that_is_not_a_certificate_names_the_block() {
        let first = self_signed("first").certificate.pem();
        let text = format!(
            "{first}\n-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
        );
        let error = load_from(&text).unwrap_err();
        let first_lines = first.lines().count();
        match &error {
            CertificateFileError::Content(CertificateContentError::InvalidCertificate {
                block,
                line,
                ..
            }) => {
                assert_eq!((*block, *line), (2, first_lines + 2));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn certificate_with_trailing_bytes_is_invalid() {
        let mut der = self_signed("trailing").certificate.der().to_vec();
        der.extend_from_slice(&[0, 0]);
        let text = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der)
        );
        let error = load_from(text).unwrap_err();
        match &error {
            CertificateFileError::Content(CertificateContentError::InvalidCertificate {
                reason,
                block: 1,
                ..
            }) => {
                assert!(reason.contains("2 unexpected bytes"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn binary_garbage_is_not_a_der_certificate() {
        for bytes in [
            &[0x30, 0x03, 0x02, 0x01, 0xFF][..],
            &[0xFF, 0xFE, 0x00, 0x81, 0x92],
        ] {
            let error = load_from(bytes).unwrap_err();
            assert_matches!(
                error,
                CertificateFileError::Content(CertificateContentError::NotDerCertificate { .. })
            );
        }
    }

    #[test]
    fn loads_a_pkcs8_key_as_pem_and_der() {
        let key = KeyPair::generate().unwrap();
        assert!(matches!(
            key_from(key.serialize_pem()),
            Ok(PrivateKeyDer::Pkcs8(_))
        ));
        let loaded = key_from(key.serialize_der()).unwrap();
        assert!(matches!(loaded, PrivateKeyDer::Pkcs8(_)));
        assert_eq!(loaded.secret_der(), key.serialize_der());
    }

    #[test]
    fn key_after_a_certificate_in_the_same_file_is_found() {
        let generated = self_signed("combined");
        let combined = format!(
            "{}{}",
            generated.certificate.pem(),
            generated.key.serialize_pem()
        );
        assert!(matches!(key_from(combined), Ok(PrivateKeyDer::Pkcs8(_))));
    }

    /// SEC1 and PKCS#1 keys are what `openssl ecparam -genkey` and older `openssl genrsa`
    /// write (and what the IoT Edge test-certificate scripts produce); rcgen cannot make them.
    #[test]
    fn loads_sec1_and_pkcs1_keys_made_by_openssl() {
        let dir = tempfile::tempdir().unwrap();
        let sec1 = dir.path().join("ec.key.pem");
        let pkcs1 = dir.path().join("rsa.key.pem");
        let made = Command::new("openssl")
            .args([
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ])
            .arg(&sec1)
            .status()
            .is_ok_and(|status| status.success())
            && Command::new("openssl")
                .args(["genrsa", "-traditional", "-out"])
                .arg(&pkcs1)
                .arg("2048")
                .status()
                .is_ok_and(|status| status.success());
        if !made {
            eprintln!("openssl not available: skipping SEC1/PKCS#1 key test");
            return;
        }
        assert!(matches!(
            load_private_key(&sec1),
            Ok(PrivateKeyDer::Sec1(_))
        ));
        assert!(matches!(
            load_private_key(&pkcs1),
            Ok(PrivateKeyDer::Pkcs1(_))
        ));
    }

    #[test]
    fn certificate_instead_of_key_says_so() {
        let generated = self_signed("gw");
        let error = key_from(generated.certificate.pem()).unwrap_err();
        assert_matches!(
            error,
            KeyFileError::Content(KeyContentError::CertificateInsteadOfKey { .. })
        );
        assert!(
            error
                .to_string()
                .contains("holds a certificate, not a private key")
        );
        let error = key_from(generated.certificate.der().as_ref()).unwrap_err();
        assert_matches!(
            error,
            KeyFileError::Content(KeyContentError::CertificateInsteadOfKey { .. })
        );
    }

    #[test]
    fn certificate_request_instead_of_key_says_so() {
        let key = KeyPair::generate().unwrap();
        let request = CertificateParams::default()
            .serialize_request(&key)
            .unwrap();
        let error = key_from(request.pem().unwrap()).unwrap_err();
        assert_matches!(
            error,
            KeyFileError::Content(KeyContentError::CertificateRequestInsteadOfKey { .. })
        );
    }

    #[test]
    fn encrypted_key_asks_for_decryption() {
        let text = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let error = key_from(text).unwrap_err();
        assert_matches!(
            error,
            KeyFileError::Content(KeyContentError::EncryptedKey { .. })
        );
        assert!(error.to_string().contains("openssl pkey"));
    }

    #[test]
    fn unusable_key_is_reported_without_its_bytes() {
        let body = "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAtest";
        let text = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
        let error = key_from(&text).unwrap_err();
        assert_matches!(
            error,
            KeyFileError::Content(KeyContentError::UnusableKey {
                format: "PKCS#8",
                ..
            })
        );
        assert!(!error.to_string().contains(body) && !format!("{error:?}").contains(body));
    }

    #[test]
    fn damaged_key_pem_and_garbage_are_reported() {
        let key_pem = KeyPair::generate().unwrap().serialize_pem();
        let cut = &key_pem[..key_pem.len() - 30];
        let error = key_from(cut).unwrap_err();
        assert_matches!(
            error,
            KeyFileError::DamagedPem {
                block: 1,
                line: 1,
                problem: PemProblem::MissingEnd,
                ..
            }
        );
        for line in base64_lines(&key_pem) {
            assert!(!error.to_string().contains(line) && !format!("{error:?}").contains(line));
        }
        assert!(matches!(
            key_from("hello\n"),
            Err(KeyFileError::Content(KeyContentError::NoKey { .. }))
        ));
        assert!(matches!(
            key_from([0xFF, 0x00, 0x12]),
            Err(KeyFileError::Content(KeyContentError::NotDerKey { .. }))
        ));
        let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n";
        let error = key_from(openssh).unwrap_err();
        assert!(error.to_string().contains("ssh-keygen"), "{error}");
    }

    fn openssl_fixture(name: &str) -> PathBuf {
        crate::test_fixtures::fixture(&format!("openssl/{name}"))
    }

    fn pem_body(path: &Path) -> Vec<u8> {
        let text = std::fs::read_to_string(path).unwrap();
        let body: String = text
            .lines()
            .skip_while(|line| !line.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|line| !line.starts_with("-----END"))
            .collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
    }

    fn pem_text(label: &str, der: &[u8]) -> String {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der)
        )
    }

    fn uses(list: &[Oid<'static>]) -> Option<Vec<Oid<'static>>> {
        Some(list.to_vec())
    }

    /// The lists `openssl x509 -in F -noout -text` prints for OpenSSL's test roots
    /// ("Trusted Uses: TLS Web Server Authentication", "No Rejected Uses.", ...).
    #[test]
    fn trusted_certificates_of_openssl_tests_load_with_their_lists() {
        type Lists = (Option<Vec<Oid<'static>>>, Option<Vec<Oid<'static>>>);
        const SERVER: Oid<'static> = OID_PKIX_KP_SERVER_AUTH;
        const CLIENT: Oid<'static> = OID_PKIX_KP_CLIENT_AUTH;
        const ANY: Oid<'static> = OID_ANY_EXTENDED_KEY_USAGE;
        let cases: &[(&str, Lists)] = &[
            ("root+serverAuth.pem", (uses(&[SERVER]), None)),
            ("root+clientAuth.pem", (uses(&[CLIENT]), None)),
            ("root+anyEKU.pem", (uses(&[ANY]), None)),
            ("root-serverAuth.pem", (None, uses(&[SERVER]))),
            ("root-clientAuth.pem", (None, uses(&[CLIENT]))),
            ("root-anyEKU.pem", (None, uses(&[ANY]))),
            ("ca+serverAuth.pem", (uses(&[SERVER]), None)),
            ("sroot+anyEKU.pem", (uses(&[ANY]), None)),
            ("nroot+serverAuth.pem", (uses(&[SERVER]), None)),
        ];
        for (name, (trust, reject)) in cases {
            let path = openssl_fixture(name);
            let loaded = load_store_certificates(&path).unwrap();
            assert_eq!(loaded.len(), 1, "{name}");
            let settings = loaded[0].trust.as_ref().expect(name);
            assert_eq!(
                (&settings.trust, &settings.reject),
                (trust, reject),
                "{name}"
            );
            assert_eq!(
                (&settings.alias, &settings.key_id),
                (&None, &None),
                "{name}"
            );
            // The certificate alone, without the trailer, and what load_certificates gives.
            let certificate = &loaded[0].der;
            assert!(pem_body(&path).starts_with(certificate.as_ref()));
            assert!(
                x509_parser::parse_x509_certificate(certificate)
                    .is_ok_and(|(rest, _)| rest.is_empty())
            );
            assert_eq!(load_certificates(&path).unwrap(), vec![certificate.clone()]);
            for reader in [StoreReader::CaFile, StoreReader::Store] {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(
                    parse_store_certificates_as(&bytes, &path, reader).unwrap(),
                    loaded
                );
            }
            assert_eq!(openssl_uses(&path), openssl_uses_of(settings), "{name}");
        }
    }

    /// What `openssl x509 -noout -text` prints after the certificate, when openssl is here.
    fn openssl_uses(path: &Path) -> Option<String> {
        let output = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-certopt"])
            .arg("no_header,no_version,no_serial,no_signame,no_validity,no_subject,no_issuer,no_pubkey,no_sigdump,no_extensions")
            .arg("-in")
            .arg(path)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The same text made from our settings (X509_aux_print's layout), or `None` when
    /// openssl is not installed, so that the comparison is skipped with it.
    fn openssl_uses_of(settings: &TrustSettings) -> Option<String> {
        Command::new("openssl").arg("version").output().ok()?;
        let names = [
            (OID_PKIX_KP_SERVER_AUTH, "TLS Web Server Authentication"),
            (OID_PKIX_KP_CLIENT_AUTH, "TLS Web Client Authentication"),
            (OID_ANY_EXTENDED_KEY_USAGE, "Any Extended Key Usage"),
        ];
        let name = |oid: &Oid<'static>| {
            names
                .iter()
                .find(|(known, _)| known == oid)
                .map_or("?", |(_, name)| name)
        };
        let list = |heading: &str, list: &Option<Vec<Oid<'static>>>| match list {
            None => format!("No {heading} Uses.\n"),
            Some(list) => format!(
                "{heading} Uses:\n  {}\n",
                list.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
        };
        Some(format!(
            "{}{}",
            list("Trusted", &settings.trust),
            list("Rejected", &settings.reject)
        ))
    }

    /// 25-test_verify.t's root variants: with the chain ee-cert <- ca-cert <- root, OpenSSL
    /// reports 28 at depth 2 exactly when X509_check_trust rejects the (self-signed) root.
    #[test]
    fn trust_verdicts_of_openssl_test_roots_match_openssl_verify() {
        use crate::pki::trust_settings::{TrustFlags, TrustVerdict, check_trust, trust_for_verify};
        use crate::pki::verify::Purpose;
        let rejected = true;
        let cases: &[(&str, Option<Purpose>, bool)] = &[
            ("root-cert.pem", None, !rejected),
            ("root-cert.pem", Some(Purpose::SslServer), !rejected),
            ("root+serverAuth.pem", None, rejected),
            ("root+serverAuth.pem", Some(Purpose::SslServer), !rejected),
            ("root+serverAuth.pem", Some(Purpose::SslClient), rejected),
            ("root+serverAuth.pem", Some(Purpose::Any), rejected),
            ("root-serverAuth.pem", None, !rejected),
            ("root-serverAuth.pem", Some(Purpose::SslServer), rejected),
            ("root+clientAuth.pem", Some(Purpose::SslServer), rejected),
            ("root+clientAuth.pem", Some(Purpose::SslClient), !rejected),
            ("root-clientAuth.pem", Some(Purpose::SslServer), !rejected),
            ("root-clientAuth.pem", Some(Purpose::SslClient), rejected),
            ("root+anyEKU.pem", None, !rejected),
            ("root+anyEKU.pem", Some(Purpose::SslServer), !rejected),
            ("root-anyEKU.pem", None, rejected),
            ("root-anyEKU.pem", Some(Purpose::SslServer), rejected),
            ("root-anyEKU.pem", Some(Purpose::Any), rejected),
            ("sroot+anyEKU.pem", None, !rejected),
        ];
        let openssl_here = Command::new("openssl").arg("version").output().is_ok();
        for (root, purpose, expect_rejected) in cases {
            let loaded = load_store_certificates(&openssl_fixture(root)).unwrap();
            let verdict = check_trust(
                loaded[0].trust.as_ref(),
                true,
                true,
                trust_for_verify(*purpose),
                TrustFlags::NONE,
            );
            assert_eq!(
                verdict == TrustVerdict::Rejected,
                *expect_rejected,
                "{root} {purpose:?}"
            );
            assert_ne!(verdict, TrustVerdict::Untrusted, "{root} {purpose:?}");
            if !openssl_here {
                continue;
            }
            let mut command = Command::new("openssl");
            command.args(["verify", "-auth_level", "1"]);
            if let Some(purpose) = purpose {
                let name = match purpose {
                    Purpose::SslServer => "sslserver",
                    Purpose::SslClient => "sslclient",
                    _ => "any",
                };
                command.args(["-purpose", name]);
            }
            let output = command
                .arg("-trusted")
                .arg(openssl_fixture(root))
                .arg("-untrusted")
                .arg(openssl_fixture("ca-cert.pem"))
                .arg(openssl_fixture("ee-cert.pem"))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                text.contains("error 28 at 2 depth"),
                *expect_rejected,
                "{root} {purpose:?}: {text}"
            );
        }
    }

    #[test]
    fn trusted_certificate_blocks_mix_with_plain_ones_in_file_order() {
        let plain = std::fs::read_to_string(openssl_fixture("root-cert.pem")).unwrap();
        let trusted = std::fs::read_to_string(openssl_fixture("root+serverAuth.pem")).unwrap();
        let text = format!("{trusted}{plain}{trusted}");
        let origin = Path::new("mixed.pem");
        let loaded = parse_store_certificates(text.as_bytes(), origin).unwrap();
        let kinds: Vec<_> = loaded.iter().map(|c| c.trust.is_some()).collect();
        assert_eq!(kinds, [true, false, true]);
        assert_eq!(
            parse_certificates(text.as_bytes(), origin).unwrap().len(),
            3
        );
        // X509 CERTIFICATE, the pre-RFC 7468 label, is a certificate too.
        let old = plain
            .replace("BEGIN CERTIFICATE", "BEGIN X509 CERTIFICATE")
            .replace("END CERTIFICATE", "END X509 CERTIFICATE");
        assert_eq!(
            parse_store_certificates(old.as_bytes(), origin).unwrap()[0].der,
            loaded[1].der
        );
    }

    /// 25-test_verify.t "Mixed cert + key file test" and "Mixed key + cert file test".
    #[test]
    fn certificate_and_key_in_either_order_load_the_certificate() {
        let certificate = std::fs::read_to_string(openssl_fixture("root-cert.pem")).unwrap();
        let key = std::fs::read_to_string(openssl_fixture("key-pass-12345.pem")).unwrap();
        let expected = load_certificates(&openssl_fixture("root-cert.pem")).unwrap();
        for text in [format!("{certificate}{key}"), format!("{key}{certificate}")] {
            let origin = Path::new("certplusrsa.pem");
            let loaded = parse_store_certificates(text.as_bytes(), origin).unwrap();
            assert_eq!(loaded.len(), 1);
            assert_eq!((&loaded[0].der, &loaded[0].trust), (&expected[0], &None));
            assert_eq!(
                parse_certificates(text.as_bytes(), origin).unwrap(),
                expected
            );
        }
    }

    /// What `openssl verify` did with damaged trailers (checked by hand with 3.0.19):
    /// bytes after valid settings are ignored by both readers; bytes that are not settings
    /// fail `-CAfile` ("X509_load_cert_crl_file_ex:PEM lib") but not `-trusted`; settings
    /// after a plain CERTIFICATE count for `-trusted` only.
    #[test]
    fn damaged_trailers_are_read_as_each_openssl_reader_reads_them() {
        let full = pem_body(&openssl_fixture("root+serverAuth.pem"));
        let certificate =
            load_certificates(&openssl_fixture("root+serverAuth.pem")).unwrap()[0].clone();
        let settings = &full[certificate.len()..];
        let origin = Path::new("root.pem");
        let read = |label: &str, der: &[u8], reader| {
            parse_store_certificates_as(pem_text(label, der).as_bytes(), origin, reader)
        };
        let junk_after = [full.as_slice(), &[0, 0]].concat();
        for reader in [StoreReader::CaFile, StoreReader::Store] {
            let loaded = read("TRUSTED CERTIFICATE", &junk_after, reader).unwrap();
            assert!(loaded[0].trust.is_some());
        }
        let junk_instead = [certificate.as_ref(), &[5, 0]].concat();
        let error = read("TRUSTED CERTIFICATE", &junk_instead, StoreReader::CaFile).unwrap_err();
        assert_matches!(
            error,
            CertificateFileError::Content(CertificateContentError::InvalidTrustSettings {
                block: 1,
                line: 1,
                ..
            })
        );
        assert!(error.to_string().contains("-trustout"), "{error}");
        let loaded = read("TRUSTED CERTIFICATE", &junk_instead, StoreReader::Store).unwrap();
        assert_eq!((&loaded[0].der, &loaded[0].trust), (&certificate, &None));

        let plain_with_settings = [certificate.as_ref(), settings].concat();
        let loaded = read("CERTIFICATE", &plain_with_settings, StoreReader::CaFile).unwrap();
        assert_eq!(loaded[0].trust, None);
        let loaded = read("CERTIFICATE", &plain_with_settings, StoreReader::Store).unwrap();
        assert!(loaded[0].trust.is_some());
        // edgeprobe's own reading still names the trailer.
        assert!(matches!(
            parse_certificates(
                pem_text("CERTIFICATE", &plain_with_settings).as_bytes(),
                origin
            ),
            Err(CertificateFileError::Content(
                CertificateContentError::InvalidCertificate { .. }
            ))
        ));
        // DER: certificate plus settings, as OSSL_STORE reads a DER file.
        let loaded = parse_store_certificates(&full, origin).unwrap();
        assert!(loaded[0].trust.is_some());
        assert_eq!(loaded[0].der, certificate);
    }

    #[test]
    fn a_file_of_only_trusted_certificates_is_no_longer_refused() {
        let path = openssl_fixture("root-anyEKU.pem");
        assert_eq!(load_certificates(&path).unwrap().len(), 1);
    }

    #[test]
    fn truncated_trusted_certificate_is_damaged_pem() {
        let text = std::fs::read_to_string(openssl_fixture("root+serverAuth.pem")).unwrap();
        let cut = &text[..text.len() - 40];
        let error = parse_store_certificates(cut.as_bytes(), Path::new("cut.pem")).unwrap_err();
        assert!(
            matches!(
                &error,
                CertificateFileError::DamagedPem { label, problem: PemProblem::MissingEnd, .. }
                    if label == "TRUSTED CERTIFICATE"
            ),
            "{error:?}"
        );
    }

    #[test]
    fn labels_in_errors_are_printable_and_bounded() {
        let label =
            printable_label(b"EVIL\x1b[31m LABEL THAT GOES ON AND ON AND ON AND ON AND ON-----");
        assert_eq!(label, "EVIL?[31m LABEL THAT GOES ON AND ON AND");
    }

    /// Every certificate block of `text` read both ways: where the fast reading of the usual
    /// layout answers, it answers what the PEM reader does.
    fn assert_fast_reading_agrees(text: &[u8]) -> usize {
        let mut fast = 0;
        for block in pem_blocks(text) {
            if block.certificate_kind().is_none() {
                continue;
            }
            if let Some(der) = block.decode_usual_certificate(&mut Vec::new()) {
                fast += 1;
                assert_eq!(
                    Ok(der),
                    block.decode_certificate_with_reader(),
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
        fast
    }

    #[test]
    fn certificate_blocks_read_fast_decode_as_the_pem_reader_decodes_them() {
        // The system bundle where there is one (Debian's ~140 roots), and every fixture.
        let mut files: Vec<PathBuf> = vec![PathBuf::from("/etc/ssl/certs/ca-certificates.crt")];
        for directory in ["fixtures", "fixtures/openssl"] {
            let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join(directory);
            for entry in std::fs::read_dir(directory).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        let mut fast = 0;
        for file in files.iter().filter(|file| file.is_file()) {
            fast += assert_fast_reading_agrees(&std::fs::read(file).unwrap());
        }
        assert!(fast > 40, "{fast}");
        // The same blocks with CRLF line ends, as Windows tools write them, and relabelled.
        let text = std::fs::read_to_string(crate::test_fixtures::fixture("server-full-chain.pem"))
            .unwrap();
        let blocks = text.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(
            assert_fast_reading_agrees(text.replace('\n', "\r\n").as_bytes()),
            blocks
        );
        let trusted = text.replace(" CERTIFICATE-----", " TRUSTED CERTIFICATE-----");
        assert_eq!(assert_fast_reading_agrees(trusted.as_bytes()), blocks);
    }

    #[test]
    fn damaged_certificate_blocks_are_left_to_the_pem_reader_or_read_alike() {
        // Every byte of a certificate block replaced by characters that matter to one of the
        // readers: white space, line ends, padding, dashes, another base64 digit, a non-ASCII
        // byte. Whatever the fast reading accepts, the PEM reader reads the same.
        let text = std::fs::read(crate::test_fixtures::fixture("root-ca.pem")).unwrap();
        let mut fast = 0;
        for position in 0..text.len() {
            for replacement in [b' ', b'\t', b'\n', b'\r', b'=', b'-', b'A', b'/', 0xC3] {
                let mut damaged = text.clone();
                damaged[position] = replacement;
                fast += assert_fast_reading_agrees(&damaged);
                damaged.insert(position, replacement);
                fast += assert_fast_reading_agrees(&damaged);
            }
            fast +=
                assert_fast_reading_agrees(&[&text[..position], &text[position + 1..]].concat());
        }
        // Most replacements still leave a well-formed block (a different certificate).
        assert!(fast > text.len(), "{fast}");
    }

    /// Calls `visit` with every certificate of fixtures with many extensions, then with each
    /// of its bytes flipped (by three masks) as `Some((position, damaged))`.
    fn each_flipped_certificate(mut visit: impl FnMut(&[u8], Option<(usize, &[u8])>)) {
        for name in [
            "server-full-chain.pem",
            "openssl/alt1-cert.pem",
            "openssl/badalt1-cert.pem",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(name);
            for certificate in load_certificates(&path).unwrap() {
                visit(&certificate, None);
                for position in 0..certificate.len() {
                    for mask in [0x01, 0x80, 0xff] {
                        let mut damaged = certificate.to_vec();
                        damaged[position] ^= mask;
                        visit(&certificate, Some((position, &damaged)));
                    }
                }
            }
        }
    }

    #[test]
    fn certificates_split_without_deep_parsing_as_with_it() {
        // The shallow parse accepts what the deep parse accepts, and fails with the same reason.
        let deep = |der: &[u8]| match x509_parser::parse_x509_certificate(der) {
            Ok((rest, _)) => Ok(der.len() - rest.len()),
            Err(x509_parser::nom::Err::Incomplete(_)) => Err("the data ends too early".into()),
            Err(x509_parser::nom::Err::Error(error) | x509_parser::nom::Err::Failure(error)) => {
                Err(error.to_string())
            }
        };
        let mut damaged_parsed = 0;
        each_flipped_certificate(|_, damaged| {
            let Some((position, damaged)) = damaged else {
                return;
            };
            let shallow = split_certificate(damaged).map(|(der, _)| der.len());
            assert_eq!(shallow, deep(damaged), "byte {position}");
            damaged_parsed += usize::from(shallow.is_ok());
        });
        assert!(damaged_parsed > 100, "{damaged_parsed}");
    }

    /// The framing rule as it read before the walk became a loop: recursion over the DER
    /// reader's elements. The oracle the loop is held to.
    fn well_formed_by_recursion(content: &[u8], depth: u8) -> bool {
        let mut elements = crate::pki::signature::der::Reader::new(content);
        while !elements.is_empty() {
            let Some(element) = elements.element() else {
                return false;
            };
            if element.tag & 0x20 != 0
                && (depth == 0 || !well_formed_by_recursion(element.content, depth - 1))
            {
                return false;
            }
        }
        true
    }

    #[test]
    fn the_framing_walk_agrees_with_the_recursive_rule() {
        let agree = |content: &[u8]| {
            assert_eq!(
                well_formed(content),
                well_formed_by_recursion(content, FRAMING_DEPTH),
                "{content:02x?}"
            );
            well_formed(content)
        };
        // Certificates, each byte flipped, and every prefix of the undamaged ones.
        let mut accepted = 0;
        let mut refused = 0;
        each_flipped_certificate(|certificate, damaged| match damaged {
            Some((_, damaged)) => {
                if agree(damaged) {
                    accepted += 1;
                } else {
                    refused += 1;
                }
            }
            None => {
                for end in 0..=certificate.len() {
                    agree(&certificate[..end]);
                }
            }
        });
        assert!(accepted > 100 && refused > 100, "{accepted} {refused}");
        // Nesting around the depth limit: SEQUENCEs n deep, with a primitive inside or not.
        for depth in 0..12 {
            let mut nested = vec![0x04, 0x01, 0x00];
            for _ in 0..depth {
                let length = u8::try_from(nested.len()).unwrap();
                nested = [&[0x30, length][..], &nested].concat();
            }
            agree(&nested);
            agree(&nested[..nested.len() - 3]);
        }
        // Long-form lengths: minimal, padded, one byte short, of every length-of-length.
        for header in [
            &[0x04, 0x81, 0x80][..],
            &[0x04, 0x81, 0x7f],
            &[0x04, 0x82, 0x00, 0x80],
            &[0x04, 0x82, 0x01, 0x00],
            &[0x04, 0x83, 0x00, 0x01, 0x00],
            &[0x04, 0x84, 0x00, 0x00, 0x01, 0x00],
            &[0x04, 0x85, 0x00, 0x00, 0x00, 0x01, 0x00],
            &[0x04, 0x80],
            &[0x1f, 0x01, 0x00],
            &[0x30],
        ] {
            for body in [127, 128, 255, 256, 257] {
                agree(&[header, &vec![0; body][..]].concat());
            }
        }
        // Short random element lists, from bytes biased to tags and lengths.
        let mut next = crate::test_fixtures::xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let length = usize::try_from(next() % 24).unwrap();
            let bytes: Vec<u8> = (0..length)
                .map(|_| {
                    let pick = next();
                    [
                        0x30, 0x31, 0xa0, 0x02, 0x04, 0x00, 0x01, 0x02, 0x03, 0x81, 0x82,
                    ][usize::try_from(pick % 11).unwrap()]
                })
                .collect();
            agree(&bytes);
        }
    }

    #[test]
    fn simd_base64_decodes_only_what_the_pem_decoder_decodes_and_alike() {
        // Whatever base64-simd accepts, PEM_BASE64 accepts and decodes to the same bytes;
        // where it refuses, the result is PEM_BASE64's. Inputs: short strings of base64
        // characters, padding and a few others, and a certificate's base64 with each
        // character replaced.
        let agree = |text: &[u8]| {
            if let Ok(simd) = base64_simd::STANDARD.decode_to_vec(text) {
                assert_eq!(
                    PEM_BASE64.decode(text).ok(),
                    Some(simd),
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
            }
            assert_eq!(decode_pem_base64(text), PEM_BASE64.decode(text).ok());
        };
        let mut next = crate::test_fixtures::xorshift(0x9e37_79b9_7f4a_7c15);
        let characters = b"ABCQRgwxyz0189+/==\n -";
        for _ in 0..40_000 {
            let length = usize::try_from(next() % 41).unwrap();
            let text: Vec<u8> = (0..length)
                .map(|_| characters[usize::try_from(next()).unwrap() % characters.len()])
                .collect();
            agree(&text);
        }
        let pem = std::fs::read_to_string(crate::test_fixtures::fixture("root-ca.pem")).unwrap();
        let base64: Vec<u8> = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<String>()
            .into_bytes();
        agree(&base64);
        for position in 0..base64.len() {
            for replacement in [b'=', b'A', b'/', b'\n', b' ', b'-', 0xC3] {
                let mut changed = base64.clone();
                changed[position] = replacement;
                agree(&changed);
            }
            agree(&base64[..position]);
        }
        // Unused bits of the last character set: refused by base64-simd, read by PEM_BASE64.
        assert_eq!(decode_pem_base64(b"QR=="), Some(b"A".to_vec()));
    }

    #[test]
    fn rewrapped_certificate_blocks_read_fast_as_the_pem_reader_reads_them() {
        // A certificate's base64 wrapped at other widths than 64 (one line, 76 as MIME
        // writes, a line one short and one long of 64), with LF and CRLF: the fast reading
        // takes them all, and decodes what the PEM reader decodes.
        let text = std::fs::read_to_string(crate::test_fixtures::fixture("root-ca.pem")).unwrap();
        let base64: String = text
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        for width in [1, 4, 63, 64, 65, 76, 128, base64.len()] {
            for line_end in ["\n", "\r\n"] {
                let mut block = format!("-----BEGIN CERTIFICATE-----{line_end}");
                for line in base64.as_bytes().chunks(width) {
                    block.push_str(std::str::from_utf8(line).unwrap());
                    block.push_str(line_end);
                }
                block.push_str("-----END CERTIFICATE-----");
                block.push_str(line_end);
                assert_eq!(
                    assert_fast_reading_agrees(block.as_bytes()),
                    1,
                    "{width} {line_end:?}"
                );
            }
        }
    }

    #[test]
    fn system_stores_split_certificates_by_their_framing_where_the_parser_would() {
        // Where the framing alone accepts a certificate, the parser finds the same end; what the
        // framing refuses is parsed, as by every reader.
        let mut framed = 0;
        let mut parsed_later = 0;
        each_flipped_certificate(|certificate, damaged| {
            let Some((position, damaged)) = damaged else {
                let with_rest = [certificate, b"rest"].concat();
                assert_eq!(
                    split_framed_certificate(&with_rest),
                    Some((certificate, &b"rest"[..]))
                );
                return;
            };
            let Some((der, _)) = split_framed_certificate(damaged) else {
                return;
            };
            framed += 1;
            match split_certificate(damaged) {
                Ok((parsed, _)) => assert_eq!(der, parsed, "byte {position}"),
                // A well-formed structure with a wrongly typed field.
                Err(_) => parsed_later += 1,
            }
        });
        assert!(
            framed > 100 && parsed_later < framed / 4,
            "{framed} {parsed_later}"
        );
    }

    #[test]
    fn a_damaged_system_bundle_is_the_same_error_as_any_damaged_ca_file() {
        let directory = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(crate::test_fixtures::fixture("server-full-chain.pem"))
            .unwrap();
        let good = write(&directory, "bundle.crt", &text);
        assert_eq!(
            load_system_store_certificates(&good).unwrap(),
            load_store_certificates(&good).unwrap()
        );
        // The second certificate cut short (its END line kept), then one with a changed
        // length byte: each named the same way by both readers.
        let blocks: Vec<&str> = text
            .split_inclusive("-----END CERTIFICATE-----\n")
            .collect();
        let second = blocks[1];
        let body_end = second.find("-----END").unwrap();
        let cut = [
            blocks[0],
            &second[..body_end - 80],
            "\n",
            &second[body_end..],
        ]
        .concat();
        let mut der = load_certificates(&good).unwrap()[1].to_vec();
        der[1] ^= 0x01;
        let base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
        let lines: Vec<&str> = base64
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        let changed = format!(
            "{}-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            blocks[0],
            lines.join("\n")
        );
        for damaged in [cut, changed] {
            let path = write(&directory, "damaged.crt", &damaged);
            let expected = load_store_certificates(&path).unwrap_err().to_string();
            assert_eq!(
                load_system_store_certificates(&path)
                    .unwrap_err()
                    .to_string(),
                expected
            );
            assert!(expected.contains("block 2"), "{expected}");
        }
    }
}
