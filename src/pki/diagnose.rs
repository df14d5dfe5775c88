//! Turns OpenSSL's verdict into what a technician needs: which certificate is at fault, the
//! most specific cause, and what to change. Shared by `check`, `connect` and `verify`.
//!
//! Each tool explains what it printed: `openssl verify` (and `edgeprobe verify`) prints the
//! errors up to the first one its callback does not tolerate, so [`diagnose_printed`] explains
//! those, in OpenSSL's order; `s_client` (and `connect`, `check`) reports the last error, so
//! [`diagnose`] explains that one and names the others OpenSSL recorded before it. In both,
//! the fix that comes first is the chain's: OpenSSL ran its other checks on whatever chain it
//! could build, so they may change once the chain is complete.

use super::describe::{CertificateSummary, describe};
use super::verify::{Verification, VerifyError};
use super::{TrustAnchors, VerifyCode};

/// A plain-language cause and fix for a failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub cause: String,
    pub remedy: String,
}

/// The IoT Edge setting that decides what chain edgeHub sends (1.2+ and 1.1 names).
const FULL_CHAIN_SETTING: &str = "in the gateway's /etc/aziot/config.toml set [edge_ca] cert to the device CA \
     *full-chain* file (iot-edge-device-ca-<name>-full-chain.cert.pem; certificates.device_ca_cert in \
     1.1's config.yaml), then run `sudo iotedge config apply`";

/// Where the chain being diagnosed came from: the remedy differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainSource {
    /// Presented by a gateway in a TLS handshake.
    Gateway,
    /// Given as files to `edgeprobe verify`.
    Files,
}

/// Explain the error `s_client` reports (the last one), naming the other errors OpenSSL recorded
/// before it, in order; `None` when verification passed.
pub fn diagnose(
    verification: &Verification,
    presented_count: usize,
    anchors: &TrustAnchors,
    source: ChainSource,
) -> Option<Diagnosis> {
    let (reported, before) = verification.errors.split_last()?;
    let situation = Situation::new(verification, presented_count, anchors, source);
    let mut diagnosis = situation.explain(reported);
    let others: Vec<&VerifyError> = before
        .iter()
        .filter(|error| !same_error(error, reported))
        .collect();
    if others.is_empty() {
        return Some(diagnosis);
    }
    let named: Vec<String> = others.iter().map(|error| numbered(error)).collect();
    diagnosis.cause = format!(
        "{}. Before that, OpenSSL also recorded, in this order: {}",
        diagnosis.cause,
        named.join("; ")
    );
    let mut remedies = vec![sentence_part(&diagnosis.remedy)];
    for error in fix_order(&others) {
        let remedy = sentence_part(&situation.explain(error).remedy);
        if !remedies.contains(&remedy) {
            remedies.push(remedy);
        }
    }
    if remedies.len() > 1 {
        diagnosis.remedy = format!("{}. Also: {}", remedies[0], remedies[1..].join("; then "));
    }
    Some(diagnosis)
}

/// Explain the errors `openssl verify` printed (`errors`, up to the one it stopped at), each in
/// OpenSSL's order, with the fix to do first first; `None` when there were none.
pub fn diagnose_printed(
    verification: &Verification,
    errors: &[VerifyError],
    presented_count: usize,
    anchors: &TrustAnchors,
    source: ChainSource,
) -> Option<Diagnosis> {
    let situation = Situation::new(verification, presented_count, anchors, source);
    let mut distinct: Vec<&VerifyError> = Vec::new();
    for error in errors {
        if !distinct.iter().any(|seen| same_error(seen, error)) {
            distinct.push(error);
        }
    }
    match distinct.as_slice() {
        [] => None,
        [only] => Some(situation.explain(only)),
        several => {
            let causes: Vec<String> = several
                .iter()
                .enumerate()
                .map(|(index, error)| {
                    format!(
                        "({}) error {}: {}",
                        index + 1,
                        error.code.number(),
                        situation.explain(error).cause
                    )
                })
                .collect();
            let mut remedies: Vec<String> = Vec::new();
            for error in fix_order(several) {
                let remedy = sentence_part(&situation.explain(error).remedy);
                if !remedies.contains(&remedy) {
                    remedies.push(remedy);
                }
            }
            let remedy = match remedies.as_slice() {
                [only] => only.clone(),
                [first, rest @ ..] => format!("first, {first}; then {}", rest.join("; then ")),
                [] => String::new(),
            };
            Some(Diagnosis {
                cause: format!(
                    "OpenSSL found {} problems, in this order: {}",
                    several.len(),
                    causes.join("; ")
                ),
                remedy,
            })
        }
    }
}

/// A remedy without its final full stop, to be joined with others.
fn sentence_part(remedy: &str) -> String {
    remedy.trim_end_matches('.').to_owned()
}

/// The same code at the same depth: one problem, however often it was recorded.
fn same_error(a: &VerifyError, b: &VerifyError) -> bool {
    a.code == b.code && a.depth == b.depth
}

/// `error 20 at depth 0 (unable to get local issuer certificate)`.
fn numbered(error: &VerifyError) -> String {
    format!(
        "error {} at depth {} ({})",
        error.code.number(),
        error.depth,
        error.code.text()
    )
}

/// The order in which to fix `errors`: the chain first (an issuer or the anchor missing, which
/// the other checks depend on), then the rest in OpenSSL's order.
fn fix_order<'e>(errors: &[&'e VerifyError]) -> Vec<&'e VerifyError> {
    let mut ordered = errors.to_vec();
    ordered.sort_by_key(|error| !is_chain_error(error.code));
    ordered
}

/// Errors that mean OpenSSL could not build the chain to a trust anchor (build_chain's verdicts
/// and the lone-leaf 21 of internal_verify).
fn is_chain_error(code: VerifyCode) -> bool {
    matches!(
        code,
        VerifyCode::UnableToGetIssuerCert
            | VerifyCode::UnableToGetIssuerCertLocally
            | VerifyCode::UnableToVerifyLeafSignature
            | VerifyCode::DepthZeroSelfSignedCert
            | VerifyCode::SelfSignedCertInChain
            | VerifyCode::CertChainTooLong
            | VerifyCode::CertUntrusted
            | VerifyCode::CertRejected
    )
}

/// What every explanation needs to know besides the error itself.
struct Situation<'v> {
    verification: &'v Verification,
    presented_count: usize,
    source: ChainSource,
    /// The trusted file's certificates, described: when a name collides, the fingerprints
    /// and key identifiers tell the two certificates apart.
    root_summaries: Vec<CertificateSummary>,
    root_file: String,
    holds: String,
}

impl<'v> Situation<'v> {
    fn new(
        verification: &'v Verification,
        presented_count: usize,
        anchors: &TrustAnchors,
        source: ChainSource,
    ) -> Situation<'v> {
        let root_summaries: Vec<CertificateSummary> = anchors
            .certificates
            .iter()
            .filter_map(|der| describe(der).ok())
            .collect();
        let roots: Vec<String> = root_summaries
            .iter()
            .map(|summary| summary.subject.clone())
            .collect();
        let holds = if roots.is_empty() {
            "no certificates".to_owned()
        } else if roots.len() <= 3 {
            roots
                .iter()
                .map(|subject| format!("`{subject}`"))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            format!("{} certificates", roots.len())
        };
        Situation {
            verification,
            presented_count,
            source,
            root_summaries,
            root_file: anchors.path.display().to_string(),
            holds,
        }
    }

    /// The certificates of the trusted file named `subject`, each told apart by its SHA-256
    /// fingerprint and subject key identifier: `SHA-256 AB:..., key identifier 12:...`.
    fn same_name_in_file(&self, subject: &str) -> Vec<String> {
        self.root_summaries
            .iter()
            .filter(|summary| summary.subject.eq_ignore_ascii_case(subject))
            .map(identity)
            .collect()
    }

    /// The chain's certificate at `depth`, described.
    fn chain_summary(&self, depth: usize) -> Option<CertificateSummary> {
        let link = self.verification.chain.get(depth)?;
        describe(&link.der).ok()
    }

    /// One error's cause and fix.
    fn explain(&self, error: &VerifyError) -> Diagnosis {
        let root_file = &self.root_file;
        let holds = &self.holds;
        let at = describe_position(error);
        match error.code {
            VerifyCode::UnableToVerifyLeafSignature | VerifyCode::UnableToGetIssuerCertLocally
                if self.presented_count == 1 && self.source == ChainSource::Files =>
            {
                Diagnosis {
                    cause: format!(
                        "only the certificate itself was given ({at}); nothing links it to a root in {root_file}, which holds {holds}"
                    ),
                    remedy: "pass the intermediate certificates with --untrusted (e.g. the device CA full-chain file)".to_owned(),
                }
            }
            VerifyCode::UnableToVerifyLeafSignature | VerifyCode::UnableToGetIssuerCertLocally
                if self.presented_count == 1 =>
            {
                Diagnosis {
                    cause: format!(
                        "the gateway sent only its own certificate ({at}); nothing links it to a root in {root_file}, which holds {holds}"
                    ),
                    remedy: format!("make the gateway send the full chain: {FULL_CHAIN_SETTING}."),
                }
            }
            VerifyCode::UnableToGetIssuerCertLocally => {
                let same_name = self.same_name_in_file(&error.issuer);
                if !same_name.is_empty() {
                    // The signer is known only by the key identifier the certificate names.
                    let signer = self
                        .chain_summary(error.depth)
                        .and_then(|summary| summary.authority_key_id)
                        .map(|key| format!(" (it names the signer's key identifier {key})"))
                        .unwrap_or_default();
                    Diagnosis {
                        cause: format!(
                            "the chain ends at {at}{signer}; {root_file} holds a different root with the same name `{}` ({}): the CA was regenerated, and the file holds the old one",
                            error.issuer,
                            same_name.join("; ")
                        ),
                        remedy: format!(
                            "copy the gateway's current root CA certificate to this device and pass it with --ca-file (replacing {root_file})"
                        ),
                    }
                } else {
                    Diagnosis {
                        cause: format!(
                            "the chain the gateway sent ends at {at}, but {root_file} holds {holds}, not `{}`",
                            error.issuer
                        ),
                        remedy: format!(
                            "either {root_file} is not the root this gateway's certificates come from (give the device the gateway's root CA, e.g. azure-iot-test-only.root.ca.cert.pem), or the gateway leaves out an intermediate: {FULL_CHAIN_SETTING}"
                        ),
                    }
                }
            }
            VerifyCode::UnableToVerifyLeafSignature => Diagnosis {
                cause: format!("the server certificate ({at}) cannot be linked to any root in {root_file} ({holds})"),
                remedy: format!("make the gateway send the full chain: {FULL_CHAIN_SETTING}."),
            },
            VerifyCode::SelfSignedCertInChain => Diagnosis {
                cause: match (self.chain_summary(error.depth), self.same_name_in_file(&error.subject)) {
                    (Some(presented), same_name) if !same_name.is_empty() => format!(
                        "the gateway's chain ends at its own root `{}` ({}), and {root_file} holds a different root with the same name ({}): the CA was regenerated, so the two runs' roots share a name but not a key",
                        error.subject,
                        identity(&presented),
                        same_name.join("; ")
                    ),
                    _ => format!(
                        "the gateway's chain ends at its own root `{}`, which is not in {root_file} (that file holds {holds})",
                        error.subject
                    ),
                },
                remedy: format!(
                    "give the device the gateway's root CA (`{}`) as its trusted root, or reissue the gateway's device CA from the root the devices already trust",
                    error.subject
                ),
            },
            VerifyCode::DepthZeroSelfSignedCert => Diagnosis {
                cause: format!(
                    "the gateway presents a self-signed certificate (`{}`), not one issued by a CA: IoT Edge is not using your device CA, or another service answers on this port",
                    error.subject
                ),
                remedy: "configure the edge CA certificate and key ([edge_ca] in /etc/aziot/config.toml), run `sudo iotedge config apply`, and check that edgeHub owns this port".to_owned(),
            },
            VerifyCode::UnableToGetIssuerCert => Diagnosis {
                cause: format!(
                    "{root_file} holds `{}`, which is not a root: it is issued by `{}`, and that root is not in the file",
                    chain_subject_at(self.verification, error.depth),
                    error.issuer
                ),
                remedy: format!(
                    "pass the root CA certificate (the self-signed one, e.g. azure-iot-test-only.root.ca.cert.pem) with --ca-file, or add `{}` to {root_file}",
                    error.issuer
                ),
            },
            VerifyCode::CertHasExpired | VerifyCode::CertNotYetValid => Diagnosis {
                cause: format!(
                    "{at} {}",
                    if error.code == VerifyCode::CertHasExpired {
                        "has expired"
                    } else {
                        "is not valid yet (or this device's clock is wrong)"
                    }
                ),
                remedy: if error.code == VerifyCode::CertNotYetValid {
                    "check this device's clock first (`timedatectl`; enable NTP with `sudo timedatectl set-ntp true`): a clock behind the certificate's start date is the usual cause; otherwise the certificate was issued with a future start date and must be reissued".to_owned()
                } else if error.depth == 0 {
                    "renew the gateway's certificates: restart IoT Edge to reissue the edgeHub certificate (`sudo iotedge system restart`) and renew the device CA if it is the one expiring; check the device clock with `timedatectl`".to_owned()
                } else {
                    "renew the expired CA certificate and redeploy the full chain to the gateway; check the device clock with `timedatectl`".to_owned()
                },
            },
            VerifyCode::CertSignatureFailure => Diagnosis {
                cause: format!(
                    "{at} was not signed by the key of the certificate above it: the chain mixes certificates from two generations of the PKI"
                ),
                remedy: "rebuild the full-chain file from the current device CA, intermediate and root, then `sudo iotedge config apply`".to_owned(),
            },
            VerifyCode::InvalidCa => Diagnosis {
                cause: format!("{at} is used as an issuer but is not a CA certificate (basicConstraints CA:TRUE missing)"),
                remedy: "issue the device CA and intermediates with basicConstraints CA:TRUE and keyUsage keyCertSign (the IoT Edge certificate scripts' `create_edge_device_ca_certificate` does)".to_owned(),
            },
            VerifyCode::KeyUsageNoCertSign => Diagnosis {
                cause: format!("{at} signs other certificates but its keyUsage does not include keyCertSign"),
                remedy: "reissue that CA certificate with keyUsage keyCertSign, cRLSign".to_owned(),
            },
            VerifyCode::PathLengthExceeded => Diagnosis {
                cause: format!("{at} has a pathLenConstraint that allows fewer CAs below it than this chain has"),
                remedy: "reissue the CA without (or with a larger) pathLenConstraint, or shorten the chain".to_owned(),
            },
            VerifyCode::InvalidPurpose => Diagnosis {
                cause: format!(
                    "{at} is not allowed for TLS server authentication (its extendedKeyUsage lacks serverAuth, or its keyUsage lacks digitalSignature/keyEncipherment)"
                ),
                remedy: "the certificate on this port must be a server certificate: let IoT Edge issue it from the device CA, or reissue with extendedKeyUsage serverAuth".to_owned(),
            },
            VerifyCode::CaMdTooWeak => Diagnosis {
                cause: format!("{at} is signed with SHA-1 (or MD5), which OpenSSL 3 rejects at its default security level"),
                remedy: "reissue the chain with SHA-256 signatures".to_owned(),
            },
            VerifyCode::CaKeyTooSmall | VerifyCode::EeKeyTooSmall => Diagnosis {
                cause: format!("{at} has a key too small for OpenSSL's default security level (under 1024-bit RSA)"),
                remedy: "reissue the certificate with at least a 2048-bit RSA or a P-256 key".to_owned(),
            },
            VerifyCode::HostnameMismatch | VerifyCode::IpAddressMismatch => {
                let leaf = self.chain_summary(error.depth);
                match leaf {
                    // certGen's device CA full chain served as is: the CA itself is the
                    // server certificate, and no name in it will ever be right.
                    Some(summary) if summary.is_ca => Diagnosis {
                        cause: format!(
                            "{at} is a CA certificate (basicConstraints CA:TRUE), not a server certificate: a CA certificate is being served"
                        ),
                        remedy: format!(
                            "serve a server certificate issued by `{}` for the name the devices dial, followed by its chain: on IoT Edge, [edge_ca] cert names the device CA and edgeHub issues its own server certificate from it; for another TLS server (mosquitto certfile, nginx ssl_certificate), issue one with certGen.sh create_edge_server_certificate <name> and serve its -full-chain file",
                            summary.subject
                        ),
                    },
                    Some(summary)
                        if summary.alt_names.is_empty() =>
                    {
                        Diagnosis {
                            cause: format!(
                                "{at} is not issued for the name being checked: it has no subjectAltName at all, and its subject CN does not match"
                            ),
                            remedy: "reissue the server certificate with subjectAltName DNS:<the name the devices dial> (IoT Edge issues edgeHub's with its `hostname`), or dial the gateway by the name in its subject CN".to_owned(),
                        }
                    }
                    _ if error.code == VerifyCode::IpAddressMismatch => Diagnosis {
                        cause: format!("{at} is not issued for the address being checked: its subjectAltName does not list it"),
                        remedy: "dial the gateway by a name the certificate lists (`edgeprobe inspect` shows them; make it resolve to the address with DNS or /etc/hosts): IoT Edge issues edgeHub's certificate for its `hostname`, which the docs advise to be a name".to_owned(),
                    },
                    _ => Diagnosis {
                        cause: format!("{at} is not issued for the name being checked: its subjectAltName does not list it"),
                        remedy: "dial the gateway by a name the certificate lists (`edgeprobe inspect` shows them), or have it reissued for the dialled name: on IoT Edge set `hostname` in /etc/aziot/config.toml to that name and run `sudo iotedge config apply`".to_owned(),
                    },
                }
            }
            other => Diagnosis {
                cause: format!("{at}: {}", other.text()),
                remedy: "inspect the chain with `openssl s_client -showcerts` and reissue the faulty certificate".to_owned(),
            },
        }
    }
}

/// `SHA-256 AB:..., key identifier 12:...`: what tells two certificates of one name apart.
fn identity(summary: &CertificateSummary) -> String {
    match &summary.subject_key_id {
        Some(key) => format!(
            "SHA-256 {}, key identifier {key}",
            summary.sha256_fingerprint
        ),
        None => format!("SHA-256 {}", summary.sha256_fingerprint),
    }
}

fn describe_position(error: &VerifyError) -> String {
    format!(
        "depth {} `{}` issued by `{}`",
        error.depth, error.subject, error.issuer
    )
}

fn chain_subject_at(verification: &Verification, depth: usize) -> String {
    verification
        .chain
        .get(depth)
        .map(|link| link.subject.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn error(code: VerifyCode, depth: usize) -> VerifyError {
        VerifyError {
            code,
            depth,
            subject: format!("CN = depth {depth}"),
            issuer: format!("CN = depth {}", depth + 1),
        }
    }

    fn anchors() -> TrustAnchors {
        TrustAnchors::new(PathBuf::from("roots.pem"), Vec::new())
    }

    fn recorded(errors: Vec<VerifyError>) -> Verification {
        Verification {
            chain: Vec::new(),
            errors,
            unchecked_signatures: Vec::new(),
        }
    }

    /// `openssl verify`'s case: the errors it printed are the ones the verification recorded.
    fn diagnose_as_printed(printed: &[VerifyError]) -> Diagnosis {
        let verification = recorded(printed.to_vec());
        diagnose_printed(&verification, printed, 2, &anchors(), ChainSource::Files)
            .expect("a diagnosis")
    }

    #[test]
    fn printed_errors_are_named_in_order_and_the_chain_is_fixed_first() {
        let printed = vec![
            error(VerifyCode::CertHasExpired, 0),
            error(VerifyCode::UnableToGetIssuerCert, 1),
        ];
        let diagnosis = diagnose_as_printed(&printed);
        assert!(
            diagnosis
                .cause
                .starts_with("OpenSSL found 2 problems, in this order: (1) error 10: depth 0"),
            "{}",
            diagnosis.cause
        );
        assert!(
            diagnosis.cause.contains("; (2) error 2: "),
            "{}",
            diagnosis.cause
        );
        assert!(
            diagnosis
                .remedy
                .starts_with("first, pass the root CA certificate")
                && diagnosis
                    .remedy
                    .contains("; then renew the gateway's certificates"),
            "{}",
            diagnosis.remedy
        );
    }

    #[test]
    fn one_printed_error_is_explained_alone_and_repeats_count_once() {
        let printed = vec![
            error(VerifyCode::CertHasExpired, 0),
            error(VerifyCode::CertHasExpired, 0),
        ];
        let diagnosis = diagnose_as_printed(&printed);
        assert_eq!(
            diagnosis.cause,
            "depth 0 `CN = depth 0` issued by `CN = depth 1` has expired"
        );
        let verification = recorded(printed);
        assert!(diagnose_printed(&verification, &[], 2, &anchors(), ChainSource::Files).is_none());
    }

    #[test]
    fn s_client_style_explains_the_last_error_and_names_the_earlier_ones() {
        let verification = recorded(vec![
            error(VerifyCode::UnableToGetIssuerCertLocally, 0),
            error(VerifyCode::UnableToVerifyLeafSignature, 0),
            error(VerifyCode::CertHasExpired, 0),
        ]);
        let diagnosis =
            diagnose(&verification, 1, &anchors(), ChainSource::Gateway).expect("a diagnosis");
        assert!(
            diagnosis.cause.starts_with("depth 0 `CN = depth 0` issued by `CN = depth 1` has expired. Before that, OpenSSL also recorded, in this order: error 20 at depth 0 (unable to get local issuer certificate); error 21 at depth 0"),
            "{}",
            diagnosis.cause
        );
        assert!(
            diagnosis
                .remedy
                .starts_with("renew the gateway's certificates")
                && diagnosis
                    .remedy
                    .contains(". Also: make the gateway send the full chain")
                && !diagnosis.remedy.contains(".."),
            "{}",
            diagnosis.remedy
        );
        assert!(diagnose(&recorded(Vec::new()), 1, &anchors(), ChainSource::Gateway).is_none());
    }
}
