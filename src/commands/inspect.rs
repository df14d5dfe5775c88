//! `edgeprobe inspect`: what a certificate or key file holds, condensed from `openssl x509
//! -text` to what matters for IoT Edge, with the 2038 limit and key matching. Key material is
//! never printed.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::AppError;
use crate::cli::{InspectArgs, OutputFormat};
use crate::pki::IOTHSM_LIMIT;
use crate::pki::describe::{CertificateSummary, describe, openssl_date};
use crate::pki::keys::{KeySummary, describe_key, key_matches_certificate};
use crate::pki::load::CertificateContentError::PrivateKeyInsteadOfCertificate;
use crate::pki::load::{CertificateFileError, load_certificates, load_private_key};

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Item {
    Certificate {
        file: String,
        position: usize,
        of: usize,
        #[serde(flatten)]
        summary: Box<CertificateSummary>,
        expires_after_2038: bool,
    },
    PrivateKey {
        file: String,
        #[serde(flatten)]
        summary: KeySummary,
        matches_certificate: Option<bool>,
    },
    Error {
        file: String,
        error: String,
    },
}

pub fn run(args: &InspectArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let match_against = match &args.cert {
        Some(path) => load_certificates(path)
            .map_err(|error| AppError::Usage(error.to_string()))?
            .into_iter()
            .next(),
        None => None,
    };
    let now = OffsetDateTime::now_utc();
    let mut items = Vec::new();
    for path in &args.files {
        items.extend(inspect_file(path, match_against.as_ref()));
    }
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &items).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for item in &items {
                write_item(out, item, now)?;
            }
        }
    }
    let failed = items.iter().any(|item| matches!(item, Item::Error { .. }));
    let mismatched = items.iter().any(|item| {
        matches!(
            item,
            Item::PrivateKey {
                matches_certificate: Some(false),
                ..
            }
        )
    });
    Ok(if failed {
        2
    } else if mismatched {
        1
    } else {
        0
    })
}

fn inspect_file(
    path: &Path,
    certificate: Option<&rustls_pki_types::CertificateDer<'static>>,
) -> Vec<Item> {
    let file = path.display().to_string();
    match load_certificates(path) {
        Ok(certificates) => {
            let count = certificates.len();
            certificates
                .iter()
                .enumerate()
                .map(|(index, der)| match describe(der) {
                    Ok(summary) => Item::Certificate {
                        file: file.clone(),
                        position: index + 1,
                        of: count,
                        expires_after_2038: summary.not_after >= IOTHSM_LIMIT,
                        summary: Box::new(summary),
                    },
                    Err(error) => Item::Error {
                        file: file.clone(),
                        error: error.to_string(),
                    },
                })
                .collect()
        }
        Err(CertificateFileError::Content(PrivateKeyInsteadOfCertificate { .. })) => {
            match load_private_key(path) {
                Ok(key) => match describe_key(&key) {
                    Ok(summary) => vec![Item::PrivateKey {
                        file,
                        summary,
                        matches_certificate: certificate.and_then(|certificate| {
                            key_matches_certificate(&key, certificate).ok()
                        }),
                    }],
                    Err(error) => vec![Item::Error {
                        file,
                        error: error.to_string(),
                    }],
                },
                Err(error) => vec![Item::Error {
                    file,
                    error: error.to_string(),
                }],
            }
        }
        Err(error) => vec![Item::Error {
            file,
            error: error.to_string(),
        }],
    }
}

fn write_item(out: &mut dyn Write, item: &Item, now: OffsetDateTime) -> std::io::Result<()> {
    match item {
        Item::Certificate {
            file,
            position,
            of,
            summary,
            expires_after_2038,
        } => {
            writeln!(out, "{file}: certificate {position} of {of}")?;
            let field =
                |out: &mut dyn Write, name: &str, value: &str| writeln!(out, "  {name:<21}{value}");
            field(out, "Subject:", &summary.subject)?;
            field(out, "Issuer:", &summary.issuer)?;
            field(out, "Serial:", &summary.serial)?;
            let remaining = summary.not_after - now;
            let state = if summary.not_after < now {
                "EXPIRED".to_owned()
            } else if summary.not_before > now {
                "NOT YET VALID".to_owned()
            } else {
                format!("{} days left", remaining.whole_days())
            };
            field(
                out,
                "Validity:",
                &format!(
                    "{} to {} ({state})",
                    openssl_date(summary.not_before),
                    openssl_date(summary.not_after)
                ),
            )?;
            field(out, "Public key:", &summary.public_key)?;
            field(out, "Signature algorithm:", &summary.signature_algorithm)?;
            field(out, "Subject alt names:", &summary.alt_names.text())?;
            let constraints = match (summary.is_ca, summary.path_len) {
                (true, Some(length)) => format!("CA:TRUE, pathlen:{length}"),
                (true, None) => "CA:TRUE".to_owned(),
                (false, _) => "CA:FALSE".to_owned(),
            };
            field(out, "Basic constraints:", &constraints)?;
            field(out, "Key usage:", &list_or_none(&summary.key_usage))?;
            field(
                out,
                "Extended key usage:",
                &list_or_none(&summary.extended_key_usage),
            )?;
            field(out, "SHA-256 fingerprint:", &summary.sha256_fingerprint)?;
            field(
                out,
                "Self-signed:",
                if summary.self_issued { "yes" } else { "no" },
            )?;
            if *expires_after_2038 {
                field(
                    out,
                    "Warning:",
                    "expires on or after 2038-01-01, which IoT Edge 1.1's libiothsm cannot handle (1.2+ accepts it; devices with a 32-bit time_t misread it)",
                )?;
            }
            writeln!(out)
        }
        Item::PrivateKey {
            file,
            summary,
            matches_certificate,
        } => {
            writeln!(
                out,
                "{file}: private key ({}, {}); key material not shown",
                summary.kind, summary.format
            )?;
            match matches_certificate {
                Some(true) => writeln!(out, "  Matches the certificate: yes")?,
                Some(false) => writeln!(
                    out,
                    "  Matches the certificate: NO (this key belongs to another certificate)"
                )?,
                None => {}
            }
            writeln!(out)
        }
        Item::Error { file, error } => {
            let _ = file;
            writeln!(out, "error: {error}")?;
            writeln!(out)
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
