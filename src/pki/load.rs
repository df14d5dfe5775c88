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

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

/// Largest certificate or key file we read. A bundle of every public root CA is about
/// 200 KiB, so 10 MiB leaves room for any real bundle while bounding memory when a path
/// points at something else (a log, a disk image, `/dev/zero`).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Why a certificate file could not be loaded. Every variant names the file; `Display` is
/// one line that ends with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CertificateFileError {
    #[error("certificate file {} does not exist: check the path", path.display())]
    NotFound { path: PathBuf },

    #[error("permission denied reading certificate file {}: run edgeprobe with sudo, or give your user read access to the file", path.display())]
    PermissionDenied { path: PathBuf },

    #[error("{} is a directory, not a certificate file: pass the .pem/.crt file inside it", path.display())]
    IsDirectory { path: PathBuf },

    #[error("certificate file {} is empty: copy the PEM certificate (-----BEGIN CERTIFICATE----- ...) into it again", path.display())]
    Empty { path: PathBuf },

    #[error("certificate file {} is larger than {limit} bytes, far more than any certificate bundle: check the path", path.display())]
    TooLarge { path: PathBuf, limit: u64 },

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

    #[error("{}: PEM block {block} (CERTIFICATE at line {line}) is not a valid X.509 certificate ({reason}): copy the file again from its source", path.display())]
    InvalidCertificate {
        path: PathBuf,
        /// 1-based position of the block among all `-----BEGIN` blocks in the file.
        block: usize,
        line: usize,
        reason: String,
    },

    #[error("{} is neither PEM text nor a DER-encoded certificate ({reason}): pass a PEM (-----BEGIN CERTIFICATE-----) or DER certificate file", path.display())]
    NotDerCertificate { path: PathBuf, reason: String },

    #[error("could not read certificate file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Why a private-key file could not be loaded. Like [`CertificateFileError`], every variant
/// names the file, and no variant carries or prints key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("key file {} does not exist: check the path", path.display())]
    NotFound { path: PathBuf },

    #[error("permission denied reading key file {}: run edgeprobe with sudo, or give your user read access to the file", path.display())]
    PermissionDenied { path: PathBuf },

    #[error("{} is a directory, not a key file: pass the .pem/.key file inside it", path.display())]
    IsDirectory { path: PathBuf },

    #[error("key file {} is empty: copy the PEM private key (-----BEGIN PRIVATE KEY----- ...) into it again", path.display())]
    Empty { path: PathBuf },

    #[error("key file {} is larger than {limit} bytes, far more than any private key: check the path", path.display())]
    TooLarge { path: PathBuf, limit: u64 },

    #[error("{} holds a certificate, not a private key: pass the key file that belongs to this certificate (often named *.key.pem)", path.display())]
    CertificateInsteadOfKey { path: PathBuf },

    #[error("{} holds a certificate signing request (CSR), not a private key: pass the key the CSR was made from", path.display())]
    CertificateRequestInsteadOfKey { path: PathBuf },

    #[error("{} holds an encrypted private key: decrypt it first, e.g. `openssl pkey -in {} -out key.pem`", path.display(), path.display())]
    EncryptedKey { path: PathBuf },

    #[error("{} holds no private key ({}){}", path.display(), found_summary(found_labels, "PRIVATE KEY"), key_hint(found_labels))]
    NoKey {
        path: PathBuf,
        /// Labels of the PEM blocks that were found, in file order.
        found_labels: Vec<String>,
    },

    #[error("{}: PEM block {block} ({label} at line {line}) is damaged: {problem}; copy the file again from its source", path.display())]
    DamagedPem {
        path: PathBuf,
        block: usize,
        line: usize,
        label: String,
        problem: PemProblem,
    },

    #[error("{} holds a {format} private key that cannot be used (corrupt, or not an RSA, ECDSA P-256/P-384 or Ed25519 key): inspect it with `openssl pkey -in {} -noout -text_pub`", path.display(), path.display())]
    UnusableKey {
        path: PathBuf,
        /// `PKCS#8`, `PKCS#1 (RSA)` or `SEC1 (EC)`.
        format: &'static str,
    },

    #[error("{} is neither PEM text nor a DER-encoded private key: pass a PEM (-----BEGIN PRIVATE KEY-----) or DER key file", path.display())]
    NotDerKey { path: PathBuf },

    #[error("could not read key file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
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
    let bytes = read_bounded(path).map_err(|failure| match failure {
        ReadFailure::NotFound => CertificateFileError::NotFound { path: path.into() },
        ReadFailure::PermissionDenied => {
            CertificateFileError::PermissionDenied { path: path.into() }
        }
        ReadFailure::IsDirectory => CertificateFileError::IsDirectory { path: path.into() },
        ReadFailure::TooLarge => CertificateFileError::TooLarge {
            path: path.into(),
            limit: MAX_FILE_BYTES,
        },
        ReadFailure::Io(source) => CertificateFileError::Io {
            path: path.into(),
            source,
        },
    })?;
    parse_certificates(&bytes, path)
}

/// Parses certificates from file contents; `origin` is only used to name the file in errors.
///
/// Accepts a PEM bundle (any number of `CERTIFICATE` blocks; text around them, CRLF line ends
/// and a UTF-8 byte-order mark are fine; other blocks are ignored when at least one
/// certificate is present, as OpenSSL does for a CAfile) or a single DER certificate. Every
/// certificate must parse as X.509 with nothing after it.
pub fn parse_certificates(
    bytes: &[u8],
    origin: &Path,
) -> Result<Vec<CertificateDer<'static>>, CertificateFileError> {
    let path = || origin.to_path_buf();
    let content = strip_bom(bytes);
    if content.iter().all(u8::is_ascii_whitespace) {
        return Err(CertificateFileError::Empty { path: path() });
    }

    let blocks = pem_blocks(content);
    if blocks.is_empty() {
        return parse_der_certificate(content, origin);
    }

    let mut certificates = Vec::new();
    let mut holds_key = false;
    let mut holds_request = false;
    let mut found_labels = Vec::new();
    for block in &blocks {
        match block.decode() {
            Err(problem) => {
                return Err(CertificateFileError::DamagedPem {
                    path: path(),
                    block: block.number,
                    line: block.line,
                    label: block.label.clone(),
                    problem,
                });
            }
            Ok(Some((SectionKind::Certificate, der))) => {
                if let Err(reason) = check_certificate(&der) {
                    return Err(CertificateFileError::InvalidCertificate {
                        path: path(),
                        block: block.number,
                        line: block.line,
                        reason,
                    });
                }
                certificates.push(CertificateDer::from(der));
            }
            // Kinds and labels the PEM reader does not decode (ENCRYPTED PRIVATE KEY, OPENSSH
            // PRIVATE KEY, NEW CERTIFICATE REQUEST, ...) are classified by label.
            Ok(_) if block.is_private_key() => holds_key = true,
            Ok(_) if block.is_certificate_request() => holds_request = true,
            Ok(_) => found_labels.push(block.label.clone()),
        }
    }

    if !certificates.is_empty() {
        Ok(certificates)
    } else if holds_key {
        Err(CertificateFileError::PrivateKeyInsteadOfCertificate { path: path() })
    } else if holds_request {
        Err(CertificateFileError::CertificateRequestInsteadOfCertificate { path: path() })
    } else {
        Err(CertificateFileError::NoCertificate {
            path: path(),
            found_labels,
        })
    }
}

/// Reads a private-key file. See [`parse_private_key`] for what is accepted.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, KeyFileError> {
    let owned = || path.to_path_buf();
    let bytes = read_bounded(path).map_err(|failure| match failure {
        ReadFailure::NotFound => KeyFileError::NotFound { path: owned() },
        ReadFailure::PermissionDenied => KeyFileError::PermissionDenied { path: owned() },
        ReadFailure::IsDirectory => KeyFileError::IsDirectory { path: owned() },
        ReadFailure::TooLarge => KeyFileError::TooLarge {
            path: owned(),
            limit: MAX_FILE_BYTES,
        },
        ReadFailure::Io(source) => KeyFileError::Io {
            path: owned(),
            source,
        },
    })?;
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
        match PrivateKeyDer::try_from(content) {
            Ok(key) => key.clone_key(),
            Err(_) if x509_parser::parse_x509_certificate(content).is_ok() => {
                return Err(KeyFileError::CertificateInsteadOfKey { path: owned() });
            }
            Err(_) if X509CertificationRequest::from_der(content).is_ok() => {
                return Err(KeyFileError::CertificateRequestInsteadOfKey { path: owned() });
            }
            Err(_) if looks_like_text(content) => {
                return Err(KeyFileError::NoKey {
                    path: owned(),
                    found_labels: Vec::new(),
                });
            }
            Err(_) => return Err(KeyFileError::NotDerKey { path: owned() }),
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
        return Err(KeyFileError::UnusableKey {
            path: owned(),
            format,
        });
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
                    line: block.line,
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
        KeyFileError::EncryptedKey { path }
    } else if holds_certificate {
        KeyFileError::CertificateInsteadOfKey { path }
    } else if holds_request {
        KeyFileError::CertificateRequestInsteadOfKey { path }
    } else {
        KeyFileError::NoKey { path, found_labels }
    })
}

fn parse_der_certificate(
    content: &[u8],
    origin: &Path,
) -> Result<Vec<CertificateDer<'static>>, CertificateFileError> {
    let path = origin.to_path_buf();
    match check_certificate(content) {
        Ok(()) => Ok(vec![CertificateDer::from(content.to_vec())]),
        Err(_) if PrivateKeyDer::try_from(content).is_ok() => {
            Err(CertificateFileError::PrivateKeyInsteadOfCertificate { path })
        }
        Err(_) if X509CertificationRequest::from_der(content).is_ok() => {
            Err(CertificateFileError::CertificateRequestInsteadOfCertificate { path })
        }
        // Text without any PEM block: most likely the wrong file, or a PEM body pasted
        // without its BEGIN/END lines. Either way "no certificate" says more than "bad DER".
        Err(_) if looks_like_text(content) => Err(CertificateFileError::NoCertificate {
            path,
            found_labels: Vec::new(),
        }),
        Err(reason) => Err(CertificateFileError::NotDerCertificate { path, reason }),
    }
}

/// Parses `der` as one X.509 certificate with nothing after it. Trailing bytes are an error
/// because webpki (and so the TLS checks) rejects them; better to say so here, by name.
fn check_certificate(der: &[u8]) -> Result<(), String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], _)) => Ok(()),
        Ok((rest, _)) => Err(format!(
            "{} unexpected bytes after the certificate",
            rest.len()
        )),
        Err(x509_parser::nom::Err::Incomplete(_)) => Err("the data ends too early".into()),
        Err(x509_parser::nom::Err::Error(error) | x509_parser::nom::Err::Failure(error)) => {
            Err(error.to_string())
        }
    }
}

/// One `-----BEGIN ...-----` block of a PEM file: the text from its BEGIN line up to the next
/// BEGIN line (or the end of the file).
struct PemBlock<'a> {
    /// 1-based position among all blocks of the file.
    number: usize,
    /// 1-based line number of the BEGIN line.
    line: usize,
    /// The label between `-----BEGIN ` and `-----`, made safe to print.
    label: String,
    text: &'a [u8],
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

/// Splits PEM text at its BEGIN lines. Lines are found the way rustls-pki-types finds them
/// (`\n` or `\r` ends a line), so a block here never holds more than one BEGIN line and an
/// error from the reader belongs to exactly this block. Line numbers count `\n` (or `\r` in a
/// file that has no `\n`), as an editor would.
fn pem_blocks(content: &[u8]) -> Vec<PemBlock<'_>> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let line_feed = if content.contains(&b'\n') {
        b'\n'
    } else {
        b'\r'
    };

    let mut starts = Vec::new(); // (offset, line number, label)
    let mut offset = 0;
    let mut line = 1;
    while offset < content.len() {
        let end = content[offset..]
            .iter()
            .position(|&byte| byte == b'\n' || byte == b'\r')
            .map_or(content.len(), |position| offset + position);
        if let Some(rest) = content[offset..end].strip_prefix(BEGIN) {
            starts.push((offset, line, printable_label(rest)));
        }
        if content.get(end) == Some(&line_feed) {
            line += 1;
        }
        offset = end + 1;
    }

    let ends = starts
        .iter()
        .skip(1)
        .map(|(offset, _, _)| *offset)
        .chain([content.len()]);
    starts
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(index, ((start, line, label), end))| PemBlock {
            number: index + 1,
            line: *line,
            label: label.clone(),
            text: &content[*start..end],
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
    if std::fs::metadata(path)?.is_dir() {
        return Err(ReadFailure::IsDirectory);
    }
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadFailure::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};
    use std::process::Command;

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
        assert!(
            matches!(error, CertificateFileError::NotFound { .. }),
            "{error:?}"
        );
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
        assert!(
            matches!(error, CertificateFileError::IsDirectory { .. }),
            "{error:?}"
        );
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
        assert!(
            matches!(
                error,
                CertificateFileError::TooLarge {
                    limit: MAX_FILE_BYTES,
                    ..
                }
            ),
            "{error:?}"
        );
        // Exactly at the cap is read (and then fails for what it holds, not for its size).
        file.set_len(MAX_FILE_BYTES).unwrap();
        let error = load_certificates(&path).unwrap_err();
        assert!(
            matches!(error, CertificateFileError::NotDerCertificate { .. }),
            "{error:?}"
        );
    }

    #[test]
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
        assert!(
            matches!(error, CertificateFileError::PermissionDenied { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("sudo"));
    }

    #[test]
    fn garbage_text_holds_no_certificate() {
        let error = load_from("this is not a certificate\nat all\n").unwrap_err();
        match &error {
            CertificateFileError::NoCertificate { found_labels, .. } => {
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
            CertificateFileError::NoCertificate { found_labels, .. } => {
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
        assert!(
            matches!(
                error,
                CertificateFileError::PrivateKeyInsteadOfCertificate { .. }
            ),
            "{error:?}"
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
        assert!(
            matches!(
                error,
                CertificateFileError::PrivateKeyInsteadOfCertificate { .. }
            ),
            "{error:?}"
        );

        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(
            load_from(encrypted),
            Err(CertificateFileError::PrivateKeyInsteadOfCertificate { .. })
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
        assert!(
            matches!(
                error,
                CertificateFileError::CertificateRequestInsteadOfCertificate { .. }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("(CSR)"));
        let error = load_from(request.der().as_ref()).unwrap_err();
        assert!(
            matches!(
                error,
                CertificateFileError::CertificateRequestInsteadOfCertificate { .. }
            ),
            "{error:?}"
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
        assert!(
            matches!(
                error,
                CertificateFileError::DamagedPem {
                    block: 2,
                    problem: PemProblem::BadBase64,
                    ..
                }
            ),
            "{error:?}"
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
            CertificateFileError::InvalidCertificate { block, line, .. } => {
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
            CertificateFileError::InvalidCertificate {
                reason, block: 1, ..
            } => {
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
            assert!(
                matches!(error, CertificateFileError::NotDerCertificate { .. }),
                "{error:?}"
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
        assert!(
            matches!(error, KeyFileError::CertificateInsteadOfKey { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("holds a certificate, not a private key")
        );
        let error = key_from(generated.certificate.der().as_ref()).unwrap_err();
        assert!(
            matches!(error, KeyFileError::CertificateInsteadOfKey { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn certificate_request_instead_of_key_says_so() {
        let key = KeyPair::generate().unwrap();
        let request = CertificateParams::default()
            .serialize_request(&key)
            .unwrap();
        let error = key_from(request.pem().unwrap()).unwrap_err();
        assert!(
            matches!(error, KeyFileError::CertificateRequestInsteadOfKey { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn encrypted_key_asks_for_decryption() {
        let text = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let error = key_from(text).unwrap_err();
        assert!(
            matches!(error, KeyFileError::EncryptedKey { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("openssl pkey"));
    }

    #[test]
    fn unusable_key_is_reported_without_its_bytes() {
        let body = "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAtest";
        let text = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
        let error = key_from(&text).unwrap_err();
        assert!(
            matches!(
                error,
                KeyFileError::UnusableKey {
                    format: "PKCS#8",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(!error.to_string().contains(body) && !format!("{error:?}").contains(body));
    }

    #[test]
    fn damaged_key_pem_and_garbage_are_reported() {
        let key_pem = KeyPair::generate().unwrap().serialize_pem();
        let cut = &key_pem[..key_pem.len() - 30];
        let error = key_from(cut).unwrap_err();
        assert!(
            matches!(
                error,
                KeyFileError::DamagedPem {
                    block: 1,
                    line: 1,
                    problem: PemProblem::MissingEnd,
                    ..
                }
            ),
            "{error:?}"
        );
        for line in base64_lines(&key_pem) {
            assert!(!error.to_string().contains(line) && !format!("{error:?}").contains(line));
        }
        assert!(matches!(
            key_from("hello\n"),
            Err(KeyFileError::NoKey { .. })
        ));
        assert!(matches!(
            key_from([0xFF, 0x00, 0x12]),
            Err(KeyFileError::NotDerKey { .. })
        ));
        let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n";
        let error = key_from(openssh).unwrap_err();
        assert!(error.to_string().contains("ssh-keygen"), "{error}");
    }

    #[test]
    fn labels_in_errors_are_printable_and_bounded() {
        let label =
            printable_label(b"EVIL\x1b[31m LABEL THAT GOES ON AND ON AND ON AND ON AND ON-----");
        assert_eq!(label, "EVIL?[31m LABEL THAT GOES ON AND ON AND");
    }
}
