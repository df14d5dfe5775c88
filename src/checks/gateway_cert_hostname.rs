//! `gateway-cert-hostname`: the gateway's certificate is issued for the name the device dials
//! (RFC 6125 matching, as OpenSSL's X509_check_host; `iotedge check` never compares these).

use crate::engine::info::{GatewayCertHostnameInfo, NameMatchResult, PortNameMatch};
use crate::engine::{
    CheckMeta, Context, DeclaredCheck, Dependency, Group, InfoSchema, OrSkip, Outcome, Prior, Ran,
    Status,
};
use crate::hostname::validate_hostname;
use crate::pki::VerifyCode;
use crate::pki::host_match::{MatchedBy, MismatchKind, NameMatch, match_server_name};

use super::{CONNECT_CHECKS, group_by_chain, ports_of};

pub struct GatewayCertHostnameCheck;

impl DeclaredCheck for GatewayCertHostnameCheck {
    const META: CheckMeta = CheckMeta {
        id: "gateway-cert-hostname",
        group: Group::GatewayConnectivity,
        title: "gateway certificate is issued for the gateway name",
        dependencies: &[
            Dependency::Requires("gateway-hostname"),
            Dependency::RequiresAny(CONNECT_CHECKS),
        ],
        info: InfoSchema::GatewayCertHostname,
    };
    async fn run(&self, _context: &Context, prior: &Prior) -> Ran {
        let name = prior
            .gateway_name()
            .or_skip("skipped because no gateway name is known")?;
        let host = validate_hostname(name)
            .ok()
            .or_skip("skipped because the gateway name is invalid")?;
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
                &leaf.dns_names,
                &leaf.ip_addresses,
                &leaf.subject_common_names,
            );
            outcome = outcome.detail(format!(
                "{ports}: subject `{}`, subjectAltName: {}",
                leaf.subject,
                leaf.alt_names_text()
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
                    outcome.remedy = Some(format!(
                        "the device dials `{name}` but the gateway's certificate is for {}: set `hostname` in the gateway's config.toml to `{name}` (exactly the GatewayHostName leaves use), run `sudo iotedge config apply` so edgeHub gets a certificate for it, or change GatewayHostName to the name in the certificate",
                        presented
                            .first()
                            .map_or("another name".to_owned(), |first| format!("`{first}`"))
                    ));
                    (NameMatchResult::Mismatch, None)
                }
            };
            for observation in &group {
                ports_info.push(PortNameMatch {
                    protocol: observation.protocol,
                    port: observation.port,
                    result: verdict,
                    matched: matched.clone(),
                    dns_names: leaf.dns_names.clone(),
                    ip_addresses: leaf.ip_addresses.clone(),
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
