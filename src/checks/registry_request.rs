//! One registry request from the gateway, shared by `parent-registry` and
//! `agent-image-upstream`: connect as the Docker daemon would (HTTPS, the chain judged with
//! OpenSSL's rules against the roots given, for the name dialed; or plain HTTP to the port a
//! registry module publishes), send one `GET`, read the response head and judge it
//! ([`crate::net::registry::judge`]). A chain that does not verify ends the request: the daemon
//! refuses to pull from it, so that is the finding.

use std::net::{IpAddr, SocketAddr};

use super::parent_hostname::extra_host;
use crate::config::EdgeConfig;
use crate::engine::info::{AddressSource, RegistryRequestInfo};
use crate::engine::{Context, OrSkip, Prior, Skip};
use crate::hostname::{HostName, validate_hostname};
use crate::net::Protocol;
use crate::net::probe::http::{HttpError, HttpResponse, host_header};
use crate::net::registry::{self, API_VERSION_HEADER, RegistryAnswer};
use crate::net::tls::{self, ConnectError, ConnectRequest};
use crate::pki::verdicts::{Question, verify_error_line};
use crate::pki::{TrustAnchors, VerifyCode};

/// How the registry is spoken to.
#[derive(Clone, Copy)]
pub(super) enum Transport<'a> {
    /// HTTPS, the chain verified against `anchors` (only the name is judged without them).
    Https { anchors: Option<&'a TrustAnchors> },
    /// Plain HTTP, as the registry module serves on its published port.
    Http,
}

/// Where the request goes.
pub(super) struct RegistryTarget<'a> {
    pub host: &'a HostName,
    pub addresses: &'a [IpAddr],
    pub address_source: AddressSource,
    pub port: u16,
    pub transport: Transport<'a>,
}

/// A response came back.
pub(super) struct Answered {
    pub response: HttpResponse,
    pub answer: RegistryAnswer,
    /// The chain's verify code (0 when it verified); `None` for plain HTTP.
    pub verify_code: Option<VerifyCode>,
    /// The chain was not verified: no root was given.
    pub unverified: bool,
}

/// Why no judged response came back.
#[derive(Debug)]
pub(super) enum RequestFailure {
    Connect(ConnectError),
    /// The chain does not verify (or a certificate in it is not X.509): the daemon refuses it.
    Untrusted {
        code: VerifyCode,
        presented: String,
        errors: Vec<String>,
    },
    /// Connected, but no HTTP response head came back.
    NoHttp(HttpError),
    /// The TLS client could not be set up.
    Setup(String),
}

impl RequestFailure {
    /// One line: what went wrong (read after "GET <url>: ").
    pub fn describe(&self) -> String {
        match self {
            RequestFailure::Connect(error) => error.to_string(),
            RequestFailure::Untrusted {
                code, presented, ..
            } => format!("the server presents {presented}: Verify return code: {code}"),
            RequestFailure::NoHttp(error) => format!("the server {error}"),
            RequestFailure::Setup(error) => error.clone(),
        }
    }
}

/// One request and its result.
pub(super) struct Exchange {
    pub url: String,
    pub address_source: AddressSource,
    pub address: Option<SocketAddr>,
    pub result: Result<Answered, RequestFailure>,
}

impl Exchange {
    /// The JSON `additional_info` of the request, with the image it was about (if any).
    pub fn info(&self, image: Option<&str>) -> RegistryRequestInfo {
        let answered = self.result.as_ref().ok();
        let verify_code = match &self.result {
            Ok(answered) => answered.verify_code,
            Err(RequestFailure::Untrusted { code, .. }) => Some(*code),
            Err(_) => None,
        };
        RegistryRequestInfo {
            image: image.map(str::to_owned),
            url: Some(self.url.clone()),
            address_source: Some(self.address_source),
            address: self.address.map(|address| address.ip()),
            verify_code: verify_code.map(VerifyCode::number),
            status: answered.map(|answered| answered.response.status),
            distribution_api_version: answered.and_then(|answered| {
                answered
                    .response
                    .header(API_VERSION_HEADER)
                    .map(str::to_owned)
            }),
            server: answered.and_then(|answered| answered.response.server.clone()),
        }
    }

    /// The detail every outcome of a request carries: which address was asked, and why that one.
    pub fn address_detail(&self) -> Option<String> {
        let address = self.address?;
        Some(match self.address_source {
            AddressSource::ExtraHosts => format!(
                "asked {address}, the address edgeAgent's createOptions ExtraHosts gives the name (what its container uses)"
            ),
            AddressSource::Resolved => format!("asked {address}, as resolved on this host"),
            AddressSource::Loopback => format!("asked {address}, this machine"),
        })
    }

    /// "HTTP/1.1 404 Not Found (Server: nginx/1.22.1)" for messages.
    pub fn status_line(answered: &Answered) -> String {
        match &answered.response.server {
            Some(server) => format!("{} (Server: {server})", answered.response.status_line()),
            None => answered.response.status_line(),
        }
    }
}

/// `GET path` on `target`, accepting `accept` (none: `*/*`), within the run's deadlines.
pub(super) async fn request(
    target: &RegistryTarget<'_>,
    path: &str,
    accept: &[&str],
    context: &Context,
) -> Exchange {
    let scheme = match target.transport {
        Transport::Https { .. } => "https",
        Transport::Http => "http",
    };
    // Always with the port, so the URL says which port was asked even when it is 443.
    let authority = format!("{}:{}", host_header(&target.host.name, 443), target.port);
    let mut exchange = Exchange {
        url: format!("{scheme}://{authority}{path}"),
        address_source: target.address_source,
        address: None,
        result: Err(RequestFailure::Setup(String::new())),
    };
    let client = match context.shared.tls_client() {
        Ok(client) => client,
        Err(error) => {
            exchange.result = Err(RequestFailure::Setup(error.to_string()));
            return exchange;
        }
    };
    let connect = ConnectRequest {
        protocol: Protocol::Https,
        server_name: &target.host.name,
        addresses: target.addresses,
        port: target.port,
        timeout: context.leaf.timeout,
        client: &client,
        // Image pulls are the Docker daemon's, whose proxy is its own setting (not
        // `[agent.env]`): these requests go direct.
        proxy: None,
    };
    let host = host_header(&target.host.name, target.port);
    exchange.result = match target.transport {
        Transport::Http => match tls::connect_tcp(&connect, &mut Vec::new()).await {
            Err(error) => Err(RequestFailure::Connect(error)),
            Ok((mut stream, address, _)) => {
                exchange.address = Some(address);
                registry::get(&mut stream, &host, path, accept, context.leaf.timeout)
                    .await
                    .map(|response| Answered {
                        answer: registry::judge(&response),
                        response,
                        verify_code: None,
                        unverified: false,
                    })
                    .map_err(RequestFailure::NoHttp)
            }
        },
        Transport::Https { anchors } => match tls::connect(&connect).await {
            Err(error) => Err(RequestFailure::Connect(error)),
            Ok(mut connected) => {
                exchange.address = Some(connected.handshake.address);
                let judged = verify(target.host, anchors, &connected.chain, context);
                let result = match judged {
                    Err(failure) => Err(failure),
                    Ok(code) => registry::get(
                        &mut connected.stream,
                        &host,
                        path,
                        accept,
                        context.leaf.timeout,
                    )
                    .await
                    .map(|response| Answered {
                        answer: registry::judge(&response),
                        response,
                        verify_code: Some(code),
                        unverified: anchors.is_none(),
                    })
                    .map_err(RequestFailure::NoHttp),
                };
                connected.close().await;
                result
            }
        },
    };
    exchange
}

/// OpenSSL's verdict on the chain for the name dialed (`openssl s_client -verify_hostname`):
/// the code when it is OK, else why the daemon would refuse it. Without a root only the name
/// is judged, as every chain then ends in "unable to get local issuer certificate".
fn verify(
    host: &HostName,
    anchors: Option<&TrustAnchors>,
    chain: &[rustls_pki_types::CertificateDer<'static>],
    context: &Context,
) -> Result<VerifyCode, RequestFailure> {
    let question = Question {
        anchors,
        name: Some(host),
        openssl_checks_name: true,
        now: context.now,
    };
    let verdict = context.shared.verdicts().judge(chain, &question);
    let verification = verdict
        .openssl
        .as_ref()
        .map_err(|error| RequestFailure::Untrusted {
            code: VerifyCode::Unspecified,
            presented: format!("a certificate that is not valid X.509 ({error})"),
            errors: Vec::new(),
        })?;
    let name_codes = [VerifyCode::HostnameMismatch, VerifyCode::IpAddressMismatch];
    let errors: Vec<_> = verification
        .errors
        .iter()
        .filter(|error| anchors.is_some() || name_codes.contains(&error.code))
        .collect();
    match errors.last() {
        None => Ok(VerifyCode::Ok),
        Some(last) => Err(RequestFailure::Untrusted {
            code: last.code,
            presented: chain.first().map_or_else(
                || "no certificate".to_owned(),
                |leaf| format!("`{}`", super::subject_of(leaf)),
            ),
            errors: errors
                .iter()
                .map(|error| verify_error_line(error))
                .collect(),
        }),
    }
}

/// The parent's registry as edgeAgent on a lower layer reaches it: the parent's name, its
/// addresses as edgeAgent's container sees them, and the trust bundle its chain is verified
/// against. The lower-layer prologue of both nested checks.
pub(super) struct ParentRoute<'a> {
    pub host: HostName,
    pub addresses: Vec<IpAddr>,
    pub address_source: AddressSource,
    pub anchors: Option<&'a TrustAnchors>,
}

impl<'a> ParentRoute<'a> {
    /// The route to `parent`, or why the check cannot run: the name is invalid, or no address
    /// is known for it.
    pub fn to(config: &EdgeConfig, prior: &'a Prior, parent: &str) -> Result<Self, Skip> {
        let host = validate_hostname(parent)
            .ok()
            .or_skip("skipped because parent_hostname is not a valid name (see parent-hostname)")?;
        let (addresses, address_source) = parent_addresses(config, prior, &host)?;
        let anchors = prior
            .configured_certificates()
            .and_then(|certificates| certificates.trust_bundle.as_deref());
        Ok(ParentRoute {
            host,
            addresses,
            address_source,
            anchors,
        })
    }

    /// The parent's registry on `port`, over HTTPS.
    pub fn target(&self, port: u16) -> RegistryTarget<'_> {
        RegistryTarget {
            host: &self.host,
            addresses: &self.addresses,
            address_source: self.address_source,
            port,
            transport: Transport::Https {
                anchors: self.anchors,
            },
        }
    }
}

/// The parent's addresses as edgeAgent's container sees them ("Connect Azure IoT Edge devices
/// to create a hierarchy" maps the parent with the agent's `createOptions.HostConfig.ExtraHosts`
/// because containers do not see the host's /etc/hosts): the ExtraHosts entry when there is
/// one, else what `parent-hostname` resolved on this host.
fn parent_addresses(
    config: &EdgeConfig,
    prior: &Prior,
    host: &HostName,
) -> Result<(Vec<IpAddr>, AddressSource), Skip> {
    if let Some(address) = extra_host(&config.agent.extra_hosts, &host.name) {
        return Ok((vec![address], AddressSource::ExtraHosts));
    }
    let resolution = prior
        .resolution()
        .or_skip("skipped because the parent's address is unknown (see parent-hostname)")?;
    Ok((resolution.addresses.clone(), AddressSource::Resolved))
}
