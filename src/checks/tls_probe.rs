//! One TLS connection and OpenSSL's verdict on it, shared by `edgehub-listening-*`,
//! `parent-connect-*` and `iothub-connect-*`: connect with the name as SNI, then verify what was
//! presented against the roots a client of that endpoint holds and for the name it dials, as
//! `openssl s_client -verify_hostname` would.

use std::net::IpAddr;

use crate::engine::{Context, Outcome, Status};
use crate::hostname::HostName;
use crate::net::Protocol;
use crate::net::tls::{ConnectError, ConnectRequest, Handshake, StrictVerdict, TlsClient, connect};
use crate::pki::describe::{describe, s_client_listing};
use crate::pki::diagnose::{ChainSource, diagnose};
use crate::pki::verify::{UnparseableCertificate, Verification, VerifyOptions, verify_chain};
use crate::pki::{TrustAnchors, VerifyCode};

/// Where to connect and what a client there trusts.
pub(super) struct Endpoint<'a> {
    pub protocol: Protocol,
    pub host: &'a HostName,
    pub addresses: &'a [IpAddr],
    pub port: u16,
    /// `None` when no root is known: only the name is judged then.
    pub anchors: Option<&'a TrustAnchors>,
}

pub(super) struct Probed {
    pub handshake: Handshake,
    pub verification: Verification,
    pub anchored: bool,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum ProbeError {
    #[error(transparent)]
    Connect(ConnectError),
    #[error(transparent)]
    Unparseable(UnparseableCertificate),
}

pub(super) async fn probe(
    endpoint: &Endpoint<'_>,
    context: &Context,
) -> Result<Probed, ProbeError> {
    let roots = endpoint
        .anchors
        .map(|anchors| anchors.certificates.as_slice())
        .unwrap_or_default();
    let client = TlsClient::new(roots).map_err(|error| {
        let address = endpoint
            .addresses
            .first()
            .copied()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        ProbeError::Connect(ConnectError::Tls {
            endpoint: std::net::SocketAddr::new(address, endpoint.port),
            detail: error.to_string(),
        })
    })?;
    let request = ConnectRequest {
        protocol: endpoint.protocol,
        server_name: &endpoint.host.name,
        addresses: endpoint.addresses,
        port: endpoint.port,
        timeout: context.timeout,
        client: &client,
    };
    let connected = connect(&request).await.map_err(ProbeError::Connect)?;
    let handshake = connected.handshake.clone();
    connected.close().await;
    let options = VerifyOptions::tls_server(Some(endpoint.host), context.now);
    let verification =
        verify_chain(&handshake.chain, roots, &options).map_err(ProbeError::Unparseable)?;
    Ok(Probed {
        handshake,
        verification,
        anchored: endpoint.anchors.is_some(),
    })
}

/// The outcome for a completed handshake: `what` names the endpoint ("edgeHub on
/// 127.0.0.1:8883"), `remedy` says what to do for a failing verify code in this context.
pub(super) fn verdict(
    what: &str,
    probed: &Probed,
    anchors: Option<&TrustAnchors>,
    remedy: impl Fn(VerifyCode) -> String,
) -> Outcome {
    let handshake = &probed.handshake;
    let verification = &probed.verification;
    let leaf = handshake.chain.first().and_then(|der| describe(der).ok());
    let presented = leaf.as_ref().map_or_else(
        || "no certificate".to_owned(),
        |leaf| format!("`{}` issued by `{}`", leaf.subject, leaf.issuer),
    );
    let mut outcome = Outcome::ok(String::new()).detail(format!(
        "{} {}, {} certificate(s) presented",
        handshake.tls_version,
        handshake.cipher_suite,
        handshake.chain.len()
    ));
    for (depth, der) in handshake.chain.iter().enumerate() {
        if let Ok(summary) = describe(der) {
            outcome = outcome.details(
                s_client_listing(depth, &summary)
                    .into_iter()
                    .map(|line| format!("  {line}")),
            );
        }
    }
    let name_codes = [VerifyCode::HostnameMismatch, VerifyCode::IpAddressMismatch];
    // Without a root, every chain ends in "unable to get local issuer": only the name counts.
    let errors: Vec<_> = verification
        .errors
        .iter()
        .filter(|error| probed.anchored || name_codes.contains(&error.code))
        .collect();
    for error in &errors {
        outcome = outcome.detail(format!(
            "verify error:num={}:{} at depth {} (`{}`)",
            error.code.number(),
            error.code.text(),
            error.depth,
            error.subject
        ));
    }
    let code = errors.last().map_or(VerifyCode::Ok, |error| error.code);
    if !code.is_ok() {
        outcome.escalate(Status::Error);
        outcome.message = format!("{what} presents {presented}: Verify return code: {code}");
        if let Some(anchors) = anchors
            && let Some(diagnosis) = diagnose(
                verification,
                handshake.chain.len(),
                anchors,
                ChainSource::Gateway,
            )
        {
            outcome = outcome.detail(format!("cause: {}", diagnosis.cause));
        }
        outcome.remedy = Some(remedy(code));
    } else if !probed.anchored {
        outcome.escalate(Status::Warning);
        outcome.message = format!(
            "{what} presents {presented} for the right name, but the chain was not verified: no trusted root is configured"
        );
        outcome.remedy = Some(remedy(VerifyCode::UnableToGetIssuerCertLocally));
    } else {
        outcome.message = format!("{what} presents {presented}: Verify return code: 0 (ok)");
        // Name objections are already judged above, with OpenSSL's rules.
        if let Some(
            verdict @ StrictVerdict::Rejected {
                name_mismatch: false,
                ..
            },
        ) = &handshake.strict_client_verdict
            && let Some(warning) = verdict.compared_with(code)
        {
            outcome.escalate(Status::Warning);
            outcome.message.push_str(" (strict clients disagree)");
            outcome = outcome.detail(format!(
                "{warning}; OpenSSL-based clients (C, Python, Node SDKs) connect"
            ));
            outcome.remedy = Some(
                "reissue the certificate so that strict clients accept it too (a leaf that is not a CA, SHA-256 signatures, a subjectAltName, at most 6 intermediates)".to_owned(),
            );
        }
    }
    outcome.info(&serde_json::json!({
        "handshake": handshake,
        "verify_code": code.number(),
        "verify_message": code.text(),
        "errors": errors,
        "trusted_root_file": anchors.map(|anchors| &anchors.path),
    }))
}
