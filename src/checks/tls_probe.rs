//! One port examined from the gateway, shared by `edgehub-listening-*`, `parent-connect-*` and
//! `iothub-connect-*`: the port's observation (one connection, the name as SNI), then OpenSSL's
//! and webpki's verdicts on what it presented against the roots a client of that endpoint
//! holds and for the name it dials, as `openssl s_client -verify_hostname` would. Verdicts come
//! from the run's memo, so three ports presenting one chain are verified once.

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::upstream::{PortUse, UpstreamProtocol, port_use};
use crate::config::{ConfigFormat, EdgeConfig};
use crate::engine::info::{ExaminedPort, TlsPortInfo, VerifyOutcome};
use crate::engine::{Context, Evidence, ObservedPort, Outcome, Peer, Status};
use crate::hostname::HostName;
use crate::net::Protocol;
use crate::net::observation::{Observation, Session, observe};
use crate::net::proxy::{NoProxy, ProxySettings, ProxyUrl};
use crate::net::tls::ConnectRequest;
use crate::pki::diagnose::{ChainSource, diagnose};
use crate::pki::verdicts::{ChainVerdict, Question, verify_error_line};
use crate::pki::verify::VerifyError;
use crate::pki::{TrustAnchors, VerifyCode};

use super::connect_failure::connect_failure;
use super::{STRICT_CLIENTS_REMEDY, listed_chain, strict_clients_object};

/// Where to connect, whose port it is and what a client there trusts.
pub(super) struct Endpoint<'a> {
    pub protocol: Protocol,
    pub peer: Peer,
    pub host: &'a HostName,
    pub addresses: &'a [IpAddr],
    pub port: u16,
    /// The HTTP proxy to tunnel through, and where it is configured (for messages).
    pub proxy: Option<(&'a ProxyUrl, &'a str)>,
    /// `None` when no root is known: only the name is judged then.
    pub anchors: Option<&'a TrustAnchors>,
    /// Names the endpoint in messages ("edgeHub on 127.0.0.1:8883 (MQTTS, SNI gw)").
    pub what: String,
    /// What to do when a certificate presented is not X.509 at all.
    pub unparseable_remedy: &'static str,
    /// When `anchors` is `None`: why there is no root, and what to do about it.
    pub no_root: Option<NoRoot>,
}

/// Why a gateway check has no trusted root to verify a chain against, and the fix: the
/// config names none, or names a file that is missing or did not load. The fix differs (set
/// the setting; restore the file), and neither is a certificate problem of the port.
pub(super) struct NoRoot {
    pub reason: String,
    pub remedy: String,
}

impl NoRoot {
    /// What the config says about the trusted root, for a gateway that has none loaded.
    pub(super) fn of(context: &Context, config: Option<&EdgeConfig>) -> Option<NoRoot> {
        let config = config?;
        let setting = config.format.trust_bundle_setting();
        let apply = config.format.apply_command();
        let source = config.source.display();
        let Some(file) = &config.trust_bundle else {
            return Some(NoRoot {
                reason: format!("no trusted root is configured ({setting} is not set in {source})"),
                remedy: format!(
                    "set {setting} in {source} to the root CA certificate your leaves hold (e.g. azure-iot-test-only.root.ca.cert.pem), then `{apply}`"
                ),
            });
        };
        let state = match file.system_path() {
            Some(path) if !context.root.path(path).exists() => "does not exist",
            _ => "could not be loaded (see certificates-configured)",
        };
        Some(NoRoot {
            reason: format!("the trusted root file {setting} = `{}` {state}", file.value),
            remedy: format!(
                "put the root CA certificate your leaves hold (e.g. azure-iot-test-only.root.ca.cert.pem) at the path {setting} names, or point {setting} in {source} at it, then `{apply}`"
            ),
        })
    }
}

/// Observes the endpoint and judges what it presented; `remedy` says what to do for a failing
/// verify code in this context.
pub(super) async fn examine(
    endpoint: &Endpoint<'_>,
    context: &Context,
    remedy: impl Fn(VerifyCode) -> String,
) -> Outcome {
    let client = match context.shared.tls_client() {
        Ok(client) => client,
        Err(error) => return Outcome::error(format!("{}: {error}", endpoint.what)),
    };
    let request = ConnectRequest {
        protocol: endpoint.protocol,
        server_name: &endpoint.host.name,
        addresses: endpoint.addresses,
        port: endpoint.port,
        timeout: context.leaf.timeout,
        client: &client,
        proxy: endpoint.proxy.map(|(proxy, _)| proxy),
    };
    let chains = context.shared.presented_chains();
    let observation = Arc::new(observe(&request, false, chains).await);
    let session = match &observation.result {
        Ok(session) => session,
        Err(error) => {
            let error = error.clone();
            return connect_failure(&endpoint.what, endpoint.peer, observation, &error);
        }
    };
    let question = Question {
        anchors: endpoint.anchors,
        name: Some(endpoint.host),
        openssl_checks_name: true,
        now: context.now,
    };
    let verdict = context.shared.verdicts().judge_digested(
        &session.chain.certificates,
        session.chain.digest,
        &question,
    );
    let mut outcome = judge(endpoint, &observation, session, &verdict, remedy);
    if let Some((proxy, source)) = endpoint.proxy {
        outcome = outcome.detail(format!("through the proxy {proxy} ({source})"));
    }
    outcome.evidence(Evidence::Port(Arc::new(ObservedPort {
        peer: endpoint.peer,
        observation: Arc::clone(&observation),
        verdict: Some(verdict),
    })))
}

/// The outcome for a completed handshake and the verdict on its chain.
fn judge(
    endpoint: &Endpoint<'_>,
    observation: &Arc<Observation>,
    session: &Session,
    verdict: &ChainVerdict,
    remedy: impl Fn(VerifyCode) -> String,
) -> Outcome {
    let what = &endpoint.what;
    let anchored = endpoint.anchors.is_some();
    let chain = &session.chain;
    let verification = match &verdict.openssl {
        Ok(verification) => verification,
        Err(error) => {
            return Outcome::error(format!("{what}: {error}"))
                .remedy(endpoint.unparseable_remedy)
                .info(TlsPortInfo::Observed(Arc::clone(observation)));
        }
    };
    let presented = chain.leaf().map_or_else(
        || "no certificate".to_owned(),
        |leaf| format!("`{}` issued by `{}`", leaf.subject, leaf.issuer),
    );
    let mut outcome = Outcome::ok(String::new()).detail(format!(
        "{} {}, {} certificate(s) presented",
        session.handshake.negotiated.tls_version,
        session.handshake.negotiated.cipher_suite,
        chain.len()
    ));
    outcome = outcome.details(listed_chain(chain.readable()));
    let name_codes = [VerifyCode::HostnameMismatch, VerifyCode::IpAddressMismatch];
    // Without a root, every chain ends in "unable to get local issuer": only the name counts.
    let errors: Vec<&VerifyError> = verification
        .errors
        .iter()
        .filter(|error| anchored || name_codes.contains(&error.code))
        .collect();
    outcome = outcome.details(errors.iter().map(|error| verify_error_line(error)));
    let code = errors.last().map_or(VerifyCode::Ok, |error| error.code);
    if !code.is_ok() {
        outcome.escalate(Status::Error);
        outcome.message = format!("{what} presents {presented}: Verify return code: {code}");
        if let Some(anchors) = endpoint.anchors
            && let Some(diagnosis) =
                diagnose(verification, chain.len(), anchors, ChainSource::Gateway)
        {
            outcome = outcome.detail(format!("cause: {}", diagnosis.cause));
        }
        outcome.remedy = Some(remedy(code));
    } else if !anchored {
        outcome.escalate(Status::Warning);
        let (reason, fix) = match &endpoint.no_root {
            Some(no_root) => (no_root.reason.clone(), no_root.remedy.clone()),
            None => (
                "no trusted root is configured".to_owned(),
                remedy(VerifyCode::UnableToGetIssuerCertLocally),
            ),
        };
        outcome.message = format!(
            "{what} presents {presented} for the right name, but the chain was not verified: {reason}"
        );
        outcome.remedy = Some(fix);
    } else {
        outcome.message = format!("{what} presents {presented}: Verify return code: 0 (ok)");
        // Name objections are already judged above, with OpenSSL's rules.
        if let Some(objection) = strict_clients_object(verdict.strict.as_ref(), code) {
            outcome.escalate(Status::Warning);
            outcome.message.push_str(" (strict clients disagree)");
            outcome = outcome.detail(objection);
            outcome.remedy = Some(STRICT_CLIENTS_REMEDY.to_owned());
        }
    }
    outcome.info(TlsPortInfo::Examined(ExaminedPort {
        handshake: Arc::clone(observation),
        verdict: VerifyOutcome::new(code, errors.into_iter().cloned().collect()),
        strict_client_verdict: verdict.strict.clone(),
        trusted_root_file: endpoint.anchors.map(|anchors| anchors.path.clone()),
    }))
}

/// How edgeHub will reach one upstream port (the parent's, or IoT Hub's): through the proxy
/// IoT Edge is configured with, or directly.
pub(super) struct UpstreamPath {
    /// The proxy and where it is configured, when the connection goes through one.
    pub proxy: Option<(Arc<ProxyUrl>, String)>,
}

impl UpstreamPath {
    pub fn proxy(&self) -> Option<(&ProxyUrl, &str)> {
        self.proxy
            .as_ref()
            .map(|(proxy, source)| (proxy.as_ref(), source.as_str()))
    }
}

/// The path edgeHub takes to `host` on `protocol`'s port, from the config's `[agent.env]`
/// (`https_proxy`, `no_proxy`, `UpstreamProtocol`; `--proxy` wins): `Err` is the outcome
/// instead of a probe, a skip for a port this configuration does not use (unless asked for by
/// name) or an error for a setting edgeHub cannot use.
pub(super) fn upstream_path(
    context: &Context,
    config: &EdgeConfig,
    peer: Peer,
    protocol: Protocol,
    host: &str,
) -> Result<UpstreamPath, Box<Outcome>> {
    let file = config.source.display();
    let (proxy_setting, upstream_setting) = match config.format {
        ConfigFormat::V2Toml => ("[agent.env] https_proxy", "[agent.env] UpstreamProtocol"),
        ConfigFormat::V1Yaml => ("agent.env.https_proxy", "agent.env.UpstreamProtocol"),
    };
    let settings = if context.leaf.proxy.source == "--proxy" {
        context.leaf.proxy.clone()
    } else {
        let env = &config.agent.env;
        let proxy = match &env.https_proxy {
            None => None,
            Some(url) => Some(Arc::new(ProxyUrl::parse(url.expose_str()).map_err(|error| {
                Box::new(Outcome::error(format!("{proxy_setting} in {file}: {error}")).remedy(format!(
                    "set {proxy_setting} to the proxy as http://host:port (`user:password@` before the host when it needs credentials), then `{}`",
                    config.format.apply_command()
                )))
            })?)),
        };
        ProxySettings {
            proxy,
            no_proxy: NoProxy::parse(env.no_proxy.as_deref().unwrap_or_default()),
            source: format!("{proxy_setting} in {file}"),
        }
    };
    let upstream = match config.agent.env.upstream_protocol.as_deref() {
        None | Some("") => None,
        Some(value) => Some(UpstreamProtocol::parse(value).map_err(|error| {
            Box::new(Outcome::error(format!("{upstream_setting} in {file}: {error}")).remedy(format!(
                "set {upstream_setting} (and edgeHub's UpstreamProtocol in the deployment) to Amqp, AmqpWs, Mqtt or MqttWs, then `{}`",
                config.format.apply_command()
            )))
        })?),
    };
    let route = settings.route(host).cloned();
    let asked = context.asked_for(peer, protocol);
    let through_proxy = match port_use(upstream, protocol, route.is_some()) {
        PortUse::NotUsed(reason) if !asked => return Err(Box::new(Outcome::skipped(reason))),
        // Asked for by name: tried the way a client of that port would, through the proxy.
        PortUse::NotUsed(_) | PortUse::Proxied => route,
        PortUse::Direct => None,
    };
    Ok(UpstreamPath {
        proxy: through_proxy.map(|proxy| (proxy, settings.source.clone())),
    })
}
