//! `edgeprobe verify`: offline chain verification with `openssl verify`'s output and codes,
//! followed by the diagnosis `openssl verify` never gives.

use std::io::Write;

use time::OffsetDateTime;

use super::AppError;
use crate::cli::{Purpose, VerifyArgs};
use crate::hostname::validate_hostname;
use crate::pki::TrustAnchors;
use crate::pki::diagnose::{ChainSource, diagnose};
use crate::pki::load::load_certificates;
use crate::pki::strict::{server_name, strict_verdict, unix_time};
use crate::pki::verify::{Purpose as VerifyPurpose, VerifyOptions, verify_chain};

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let usage = |error: &dyn std::fmt::Display| AppError::Usage(error.to_string());
    let roots = load_certificates(&args.ca_file).map_err(|error| usage(&error))?;
    let mut certificates = load_certificates(&args.certificate).map_err(|error| usage(&error))?;
    // Like `openssl verify`, only the first certificate of the file is verified.
    let ignored = certificates.split_off(1);
    let mut presented = certificates;
    if let Some(untrusted) = &args.untrusted {
        presented.extend(load_certificates(untrusted).map_err(|error| usage(&error))?);
    }
    let host = match &args.hostname {
        Some(name) => Some(
            validate_hostname(name)
                .map_err(|error| AppError::Usage(format!("--hostname `{name}`: {error}")))?,
        ),
        None => None,
    };
    let options = VerifyOptions {
        purpose: (args.purpose == Purpose::SslServer).then_some(VerifyPurpose::SslServer),
        security_level: args.security_level,
        ..VerifyOptions::openssl_verify(args.at.unwrap_or_else(OffsetDateTime::now_utc))
    }
    .with_host(host.as_ref());
    let verification = verify_chain(&presented, &roots, &options).map_err(|error| usage(&error))?;
    let file = args.certificate.display();
    for unchecked in &verification.unchecked_signatures {
        writeln!(out, "{}", unchecked.note())?;
    }

    let Some(stop) = verification.openssl_verify_error() else {
        writeln!(out, "{file}: OK")?;
        // OpenSSL's verdict stands; say when strict clients (webpki, checked with the same
        // time and name) will refuse what OpenSSL accepts.
        let name = host.as_ref().and_then(|host| server_name(&host.name));
        if let Some(warning) =
            strict_verdict(&presented, &roots, name.as_ref(), unix_time(options.now))
                .and_then(|verdict| verdict.warning())
        {
            writeln!(out, "warning: {warning}")?;
        }
        if !ignored.is_empty() {
            writeln!(
                out,
                "note: {} more certificate(s) in {file} were not used; pass intermediates with --untrusted",
                ignored.len()
            )?;
        }
        return Ok(0);
    };
    // `openssl verify` prints each error its callback sees, up to the one it stops at.
    for error in &verification.errors {
        writeln!(out, "{}", error.subject)?;
        writeln!(
            out,
            "error {} at {} depth lookup: {}",
            error.code.number(),
            error.depth,
            error.code.text()
        )?;
        if std::ptr::eq(error, stop) {
            break;
        }
    }
    writeln!(out, "error {file}: verification failed")?;
    let anchors = TrustAnchors {
        path: args.ca_file.clone(),
        certificates: roots,
    };
    if let Some(diagnosis) = diagnose(&verification, presented.len(), &anchors, ChainSource::Files)
    {
        writeln!(out)?;
        writeln!(out, "Diagnosis: {}", diagnosis.cause)?;
        writeln!(out, "Fix: {}", diagnosis.remedy)?;
    }
    if !ignored.is_empty() {
        writeln!(
            out,
            "note: {} more certificate(s) in {file} were not used; pass intermediates with --untrusted",
            ignored.len()
        )?;
    }
    Ok(1)
}
