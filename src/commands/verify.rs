//! `edgeprobe verify`: offline chain verification with `openssl verify`'s output and codes,
//! followed by the diagnosis `openssl verify` never gives.

use std::io::Write;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use super::AppError;
use crate::checks::SYSTEM_BUNDLE;
use crate::cli::{VerifyArgs, VerifyPurpose};
use crate::hostname::{HostName, validate_hostname};
use crate::pki::TrustAnchors;
use crate::pki::diagnose::{ChainSource, diagnose_printed};
use crate::pki::load::{
    CertificateFileError, StoreReader, load_certificates, load_store_certificates_as,
};
use crate::pki::strict::{server_name, strict_verdict, unix_time};
use crate::pki::trust_settings::StoreCertificate;
use crate::pki::verify::{VerifyOptions, verify_chain_with_store};

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let usage = |error: &dyn std::fmt::Display| AppError::Usage(error.to_string());
    let trusted_files = trusted_files(args);
    let store = load_trusted(args)?;
    let roots: Vec<CertificateDer<'static>> = store
        .iter()
        .map(|certificate| certificate.der.clone())
        .collect();
    let mut certificates = load_certificates(&args.certificate).map_err(|error| usage(&error))?;
    // Like `openssl verify`, only the first certificate of the file is verified.
    let ignored = certificates.split_off(1);
    let mut presented = certificates;
    for untrusted in &args.untrusted {
        presented.extend(load_certificates(untrusted).map_err(|error| usage(&error))?);
    }
    let host = checked_host(args)?;
    let now = args.at.unwrap_or_else(OffsetDateTime::now_utc);
    let options = VerifyOptions {
        purpose: args.purpose.purpose(),
        security_level: args.security_level,
        email: args.verify_email.as_deref(),
        // As x509_vfy.c's check_cert_time: a given time (-attime) is used even with
        // -no_check_time, which only stops validity being judged against the clock.
        time: (args.at.is_some() || !args.no_check_time).then_some(now),
        partial_chain: args.partial_chain,
        verify_depth: args.verify_depth,
        x509_strict: args.x509_strict,
        allow_proxy_certs: args.allow_proxy_certs,
        check_self_signature: args.check_ss_sig,
        ..VerifyOptions::openssl_verify(now)
    }
    .with_host(host.as_ref());
    let verification =
        verify_chain_with_store(&presented, &store, &options).map_err(|error| usage(&error))?;
    let file = args.certificate.display();
    for unchecked in &verification.unchecked_signatures {
        writeln!(out, "{}", unchecked.note())?;
    }

    // `openssl verify` prints each error its callback sees, up to the one it stops at.
    let printed = verification.openssl_verify_printed();
    for error in printed {
        writeln!(out, "{}", error.subject)?;
        writeln!(
            out,
            "error {} at {} depth lookup: {}",
            error.code.number(),
            error.depth,
            error.code.text()
        )?;
    }
    let code = printed
        .last()
        .map_or(crate::pki::VerifyCode::Ok, |error| error.code);
    if code.is_ok() {
        writeln!(out, "{file}: OK")?;
    } else {
        writeln!(out, "error {file}: verification failed")?;
        let anchors = TrustAnchors::new(joined(&trusted_files), roots.clone());
        if let Some(diagnosis) = diagnose_printed(
            &verification,
            printed,
            presented.len(),
            &anchors,
            ChainSource::Files,
        ) {
            writeln!(out)?;
            writeln!(out, "Diagnosis: {}", diagnosis.cause)?;
            writeln!(out, "Fix: {}", diagnosis.remedy)?;
        }
    }
    // OpenSSL's verdict stands; say when strict clients (webpki, checked with the same time and
    // name) decide otherwise. webpki verifies for a TLS server only, so only that purpose
    // compares.
    if args.purpose == VerifyPurpose::SslServer {
        let name = host.as_ref().and_then(|host| server_name(&host.name));
        if let Some(verdict) = strict_verdict(&presented, &roots, name.as_ref(), unix_time(now))
            && verdict.disagrees_with(code)
            && let Some(sentence) = verdict.compared_with(code)
        {
            let label = if code.is_ok() { "warning" } else { "note" };
            writeln!(out, "{label}: {sentence}")?;
        }
    }
    if !ignored.is_empty() {
        writeln!(
            out,
            "note: {} more certificate(s) in {file} were not used; pass intermediates with --untrusted",
            ignored.len()
        )?;
    }
    Ok(if code.is_ok() { 0 } else { 1 })
}

/// `--ca-file` and every `--trusted`, in that order; the system bundle when neither is given,
/// as `openssl verify` then uses OpenSSL's default store.
fn trusted_files(args: &VerifyArgs) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = args.ca_file.iter().cloned().collect();
    files.extend(args.trusted.iter().cloned());
    if files.is_empty() {
        files.push(PathBuf::from(SYSTEM_BUNDLE));
    }
    files
}

/// The trusted files as one path for the diagnosis ("a.pem, b.pem holds ...").
fn joined(files: &[PathBuf]) -> PathBuf {
    let names: Vec<String> = files
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    PathBuf::from(names.join(", "))
}

/// The one place trusted certificates are read, with their `TRUSTED CERTIFICATE` settings:
/// `--ca-file` as `-CAfile` reads it, each `--trusted` as `-trusted` does (OSSL_STORE, which
/// also reads trust settings after a plain certificate), the system bundle as a CA file.
fn load_trusted(args: &VerifyArgs) -> Result<Vec<StoreCertificate>, AppError> {
    let usage = |error: CertificateFileError| AppError::Usage(error.to_string());
    let mut store = Vec::new();
    let read =
        |path: &Path, reader: StoreReader| load_store_certificates_as(path, reader).map_err(usage);
    if let Some(file) = &args.ca_file {
        store.extend(read(file, StoreReader::CaFile)?);
    }
    for file in &args.trusted {
        store.extend(read(file, StoreReader::Store)?);
    }
    if store.is_empty() && args.ca_file.is_none() && args.trusted.is_empty() {
        store.extend(read(Path::new(SYSTEM_BUNDLE), StoreReader::CaFile)?);
    }
    Ok(store)
}

/// `--hostname` (a name or an address) or `--verify-ip`.
fn checked_host(args: &VerifyArgs) -> Result<Option<HostName>, AppError> {
    let (flag, text) = match (&args.hostname, &args.verify_ip) {
        (Some(name), _) => ("--hostname", name.clone()),
        (None, Some(address)) => ("--verify-ip", address.to_string()),
        (None, None) => return Ok(None),
    };
    validate_hostname(&text)
        .map(Some)
        .map_err(|error| AppError::Usage(format!("{flag} `{text}`: {error}")))
}
