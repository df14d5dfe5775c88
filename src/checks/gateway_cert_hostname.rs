//! `gateway-cert-hostname`: the gateway's certificate is issued for the name the device dials
//! (RFC 6125 matching, as OpenSSL's X509_check_host; `iotedge check` never compares these).

use crate::config::{self, EdgeConfig};
use crate::engine::info::{GatewayCertHostnameInfo, NameMatchResult, PortNameMatch, ProtocolPort};
use crate::engine::{CheckMeta, Context, DeclaredCheck, OrSkip, Outcome, Prior, Ran, Status};
use crate::hostname::validate_hostname;
use crate::pki::VerifyCode;
use crate::pki::describe::CertificateSummary;
use crate::pki::host_match::{MatchedBy, MismatchKind, NameMatch, match_server_name};

use super::catalog;
use super::{gateway_name, group_by_chain, ports_of};

pub struct GatewayCertHostnameCheck;

impl DeclaredCheck for GatewayCertHostnameCheck {
    const META: CheckMeta = catalog::GATEWAY_CERT_HOSTNAME;
    async fn run(&self, context: &Context, prior: &Prior) -> Ran {
        let name = gateway_name(prior)?;
        let host = validate_hostname(name)
            .ok()
            .or_skip("skipped because the gateway name is invalid")?;
        let gateway = gateway_copy(context);
        let mut outcome = Outcome::ok(format!("the certificate is issued for `{name}`"));
        let mut ports_info = Vec::new();
        let mut messages = Vec::new();
        let observations = prior.observations();
        for group in group_by_chain(&observations) {
            let ports = ports_of(&group);
            let summaries = group[0].chain().map(|chain| chain.summaries.as_slice());
            let leaf = match summaries.unwrap_or_default().first() {
                Some(Ok(leaf)) => leaf,
                Some(Err(error)) => {
                    outcome.escalate(Status::Error);
                    messages.push(format!(
                        "{ports}: the server certificate cannot be read: {error}"
                    ));
                    continue;
                }
                None => {
                    outcome.escalate(Status::Error);
                    messages.push(format!("{ports}: no certificate was presented"));
                    continue;
                }
            };
            let result = match_server_name(
                &host,
                &leaf.alt_names.dns_names,
                &leaf.alt_names.ip_addresses,
                &leaf.subject_common_names,
            );
            outcome = outcome.detail(format!(
                "{ports}: subject `{}`, subjectAltName: {}",
                leaf.subject,
                leaf.alt_names.text()
            ));
            let (verdict, matched) = match &result {
                NameMatch::Matched {
                    by: MatchedBy::CommonName,
                    presented,
                } => {
                    outcome.escalate(Status::Warning);
                    messages.push(format!("{ports}: `{name}` matches only the subject CN `{presented}`; the certificate has no subjectAltName"));
                    outcome.remedy.get_or_insert_with(|| {
                            format!("reissue the certificate with subjectAltName DNS:{name}: OpenSSL-based SDKs accept a CN-only certificate, but rustls/webpki, Go 1.15+ and browsers reject it")
                        });
                    (NameMatchResult::CommonName, Some(presented.clone()))
                }
                NameMatch::Matched { presented, .. } => {
                    (NameMatchResult::Ok, Some(presented.clone()))
                }
                NameMatch::Mismatch { kind, presented } => {
                    outcome.escalate(Status::Error);
                    let code = match kind {
                        MismatchKind::Dns => VerifyCode::HostnameMismatch,
                        MismatchKind::Ip => VerifyCode::IpAddressMismatch,
                    };
                    messages.push(format!("{ports}: Verify return code: {code}"));
                    outcome = outcome.detail(format!(
                            "{ports}: `{name}` is not among the names the certificate is issued for ({})",
                            if presented.is_empty() { "none".to_owned() } else { presented.join(", ") }
                        ));
                    outcome.remedy = Some(mismatch_remedy(
                        name,
                        kind,
                        leaf,
                        presented,
                        gateway.as_ref(),
                    ));
                    (NameMatchResult::Mismatch, None)
                }
            };
            for observation in &group {
                ports_info.push(PortNameMatch {
                    probed: ProtocolPort {
                        protocol: observation.protocol,
                        port: observation.port,
                    },
                    result: verdict,
                    matched: matched.clone(),
                    alt_names: leaf.alt_names.clone(),
                    subject: leaf.subject.clone(),
                });
            }
        }
        if !messages.is_empty() {
            outcome.message = messages.join("; ");
        }
        Ok(outcome.info(GatewayCertHostnameInfo {
            gateway: name.to_owned(),
            ports: ports_info,
        }))
    }
}

/// The copy of the gateway's config given with `--gateway-config`: its `hostname` says which
/// side is wrong, and its own syntax and commands go in the remedy. `None` when not given or
/// unreadable (gateway-hostname-matches-config reports why).
fn gateway_copy(context: &Context) -> Option<EdgeConfig> {
    config::load(context.gateway_config.as_ref()?).ok()
}

/// What to do when the certificate is not issued for the dialled name. The leaf is fixed
/// first: the gateway's certificate is right for every other leaf that dials its `hostname`,
/// and renaming the gateway to this leaf's name would break them all.
fn mismatch_remedy(
    name: &str,
    kind: &MismatchKind,
    leaf: &CertificateSummary,
    presented: &[String],
    gateway: Option<&EdgeConfig>,
) -> String {
    if leaf.is_ca {
        return format!(
            "the gateway serves a CA certificate (`{}`, basicConstraints CA:TRUE) as its server certificate: serve a server certificate issued by it for `{name}` instead, followed by its chain (on IoT Edge, [edge_ca] cert names the device CA and edgeHub issues its own server certificate from it; for mosquitto or nginx, issue one with certGen.sh create_edge_server_certificate {name} and serve its -full-chain file)",
            leaf.subject
        );
    }
    // `DNS:name`, `IP:address` or `CN=name`, as host_match lists them: the bare name.
    let certified = presented.first().map(|entry| {
        ["DNS:", "IP:", "CN="]
            .iter()
            .find_map(|prefix| entry.strip_prefix(prefix))
            .unwrap_or(entry)
    });
    let Some(certified) = certified else {
        return format!(
            "the gateway's certificate names no host at all: reissue it with subjectAltName DNS:{name} (IoT Edge issues edgeHub's for its `hostname`)"
        );
    };
    let leaf_fix = match kind {
        MismatchKind::Ip => format!(
            "dial the gateway by the name its certificate is issued for: set GatewayHostName={certified} in this leaf's connection string and make `{certified}` resolve to {name} (DNS, or the line `{name} {certified}` in /etc/hosts); the IoT Edge docs advise a host name over an address for `hostname`"
        ),
        MismatchKind::Dns => format!(
            "set GatewayHostName={certified} in this leaf's connection string (and --gateway, if used): the gateway's certificate is issued for `{certified}`, the name its other leaves dial"
        ),
    };
    let configured = gateway.and_then(|config| config.names.hostname.as_deref());
    match (gateway, configured) {
        // The gateway's config agrees with its certificate: only the leaf is wrong.
        (Some(config), Some(hostname)) if hostname.eq_ignore_ascii_case(certified) => format!(
            "{leaf_fix}; the gateway's {} agrees (`hostname` {hostname})",
            config.format.system_path()
        ),
        // The config already names what the leaf dials: edgeHub was not recreated.
        (Some(config), Some(hostname)) if hostname.eq_ignore_ascii_case(name) => format!(
            "the gateway's {} already sets `hostname` {hostname}, but edgeHub still presents a certificate for `{certified}`: edgeHub keeps the name it was created with, so on the gateway remove it to have it recreated (`sudo docker rm -f edgeAgent edgeHub`, then `{}`)",
            config.format.system_path(),
            config.format.apply_command()
        ),
        _ if *kind == MismatchKind::Ip => leaf_fix,
        (config, _) => {
            let (config_file, apply) = match config {
                Some(config) => (config.format.system_path(), config.format.apply_command()),
                None => (
                    "/etc/aziot/config.toml (1.1: /etc/iotedge/config.yaml)",
                    "sudo iotedge config apply` (1.1: `sudo systemctl restart iotedge",
                ),
            };
            format!(
                "{leaf_fix}. Only if `{certified}` is itself wrong, set `hostname` in the gateway's {config_file} to `{name}`, run `{apply}` so edgeHub gets a certificate for it, and move every other leaf to the new name"
            )
        }
    }
}
