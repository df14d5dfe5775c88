//! `edgeprobe connect HOST[:PORT]`: the `openssl s_client -connect ... -verify_hostname`
//! every IoT Edge guide ends with, in s_client's shape, but with the name always checked, an
//! exit status that reflects the verdict, and a diagnosis after it.

use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use serde::Serialize;
use time::OffsetDateTime;

use super::AppError;
use crate::checks::connect_remedy;
use crate::cli::{ConnectArgs, OutputFormat};
use crate::engine::Peer;
use crate::engine::os_trust_location::{OsTrustLocation, TrustEnvironment};
use crate::hostname::validate_hostname;
use crate::identity::certificate::DeviceCertificate;
use crate::net::Protocol;
use crate::net::observation::{Attempt, PresentedChains, observe};
use crate::net::probe::{ProbeAnswer, ProbeError};
use crate::net::resolve::{ResolverSettings, resolve_gateway};
use crate::net::tls::{ConnectError, ConnectRequest, Handshake, TlsClient};
use crate::pki::TrustAnchors;
use crate::pki::describe::{CertificateSummary, s_client_listing};
use crate::pki::diagnose::{ChainSource, Diagnosis, diagnose};
use crate::pki::strict::StrictVerdict;
use crate::pki::verdicts::{ChainVerdict, Question, verify_error_line};
use crate::pki::verify::VerifyError;
use crate::system::SystemRoot;

/// `handshake` in the JSON: what the handshake showed, with the protocol and name it was for.
#[derive(Serialize)]
struct HandshakeJson<'a> {
    protocol: Protocol,
    server_name: &'a str,
    #[serde(flatten)]
    handshake: &'a Handshake,
}

#[derive(Serialize)]
struct ConnectReport<'a> {
    host: &'a str,
    port: u16,
    servername: &'a str,
    handshake: HandshakeJson<'a>,
    chain: Vec<&'a CertificateSummary>,
    verify_code: u32,
    verify_message: &'static str,
    errors: &'a [VerifyError],
    verified_peername: Option<&'a str>,
    diagnosis: Option<DiagnosisJson<'a>>,
    strict_client_verdict: &'a Option<StrictVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probe: Option<ProbeJson>,
}

/// `--probe`'s result in JSON: the answer, or the error kind and message.
#[derive(Serialize)]
struct ProbeJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<ProbeAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Serialize)]
struct DiagnosisJson<'a> {
    cause: &'a str,
    remedy: &'a str,
}

/// Split `HOST[:PORT]`, `[v6]:PORT` or a bare IPv6 address.
fn split_target(target: &str) -> Result<(String, Option<u16>), String> {
    let parse_port = |port: &str| {
        port.parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| format!("`{port}` is not a port (1-65535)"))
    };
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{target}`: missing `]`"))?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(parse_port(port)?),
            None if after.is_empty() => None,
            None => return Err(format!("`{target}` is not HOST[:PORT]")),
        };
        return Ok((host.to_owned(), port));
    }
    if target.parse::<IpAddr>().is_ok() {
        return Ok((target.to_owned(), None));
    }
    match target.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_owned(), Some(parse_port(port)?))),
        None => Ok((target.to_owned(), None)),
    }
}

pub async fn run(args: &ConnectArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let (host, target_port) = split_target(&args.target).map_err(AppError::Usage)?;
    let port = args
        .port
        .or(target_port)
        .unwrap_or(Protocol::Mqtt.default_port());
    let servername = args.servername.clone().unwrap_or_else(|| host.clone());
    let checked_name = validate_hostname(&servername)
        .map_err(|error| AppError::Usage(format!("`{servername}` cannot be checked: {error}")))?;
    // The CA file given, or the system bundle, read as the checks read it (once per process).
    let anchors: Arc<TrustAnchors> = match &args.ca_file {
        Some(path) => {
            Arc::new(TrustAnchors::load(path).map_err(|error| AppError::Usage(error.to_string()))?)
        }
        None => OsTrustLocation::locate(&SystemRoot::host(), &TrustEnvironment::from_process())
            .load()
            .map_err(|error| AppError::Usage(error.to_string()))?,
    };

    let mut settings = ResolverSettings::system(args.timeout);
    settings.hosts_file = args.resolver.hosts_file.clone();
    settings.dns_server = args.resolver.dns_server;
    settings.overrides = args.resolver.overrides();
    let proxies = args
        .proxy
        .settings(true)
        .map_err(|error| AppError::Usage(error.to_string()))?;
    let proxy = proxies.route(&host).map(|proxy| proxy.as_ref());
    let protocol = args.protocol.unwrap_or(match port {
        5671 => Protocol::Amqp,
        443 => Protocol::Https,
        _ => Protocol::Mqtt,
    });
    // Through a proxy the proxy resolves the name, as curl lets it. A name that does not
    // resolve is a finding about the network (exit 1, as `check`).
    let addresses = match proxy {
        Some(_) => Vec::new(),
        None => match resolve_gateway(&host, &settings).await {
            Ok(resolution) => resolution.addresses,
            Err(failure) => {
                let unreachable = Unreachable {
                    host: &host,
                    port,
                    error: "unresolved",
                    message: failure.to_string(),
                    remedy: failure.remedy(&host),
                    attempts: &[],
                };
                return unreachable.write(out, args.output);
            }
        },
    };
    let client = match (&args.cert, &args.key) {
        // `-cert`/`-key`: the device's identity, refused up front when it cannot be presented.
        (Some(certificate), Some(key)) => {
            let device = DeviceCertificate::load(certificate, key).map_err(AppError::Usage)?;
            Arc::clone(
                device
                    .client
                    .as_ref()
                    .map_err(|error| AppError::Usage(error.clone()))?,
            )
        }
        _ => Arc::new(TlsClient::new().map_err(|error| AppError::Connect(error.to_string()))?),
    };
    let request = ConnectRequest {
        protocol,
        server_name: &servername,
        addresses: &addresses,
        port,
        timeout: args.timeout,
        client: client.as_ref(),
        proxy,
    };
    // One connection: the handshake, then (with --probe) the protocol's answer on it.
    let observation = observe(&request, args.probe, &PresentedChains::default()).await;
    let session = match &observation.result {
        Ok(session) => session,
        // A finding about the gateway, not a failure of edgeprobe: a failed check (exit 1).
        Err(error @ ConnectError::CertificateTooLarge { .. }) => {
            writeln!(out, "{error}")?;
            return Ok(1);
        }
        // This machine out of descriptors: edgeprobe itself could not run (exit 2).
        Err(error @ ConnectError::LocalLimit { .. }) => {
            return Err(AppError::Connect(error.to_string()));
        }
        Err(error) => {
            let remedy = match error {
                // The proxy's answer, with the fix for where its setting came from.
                ConnectError::Proxy {
                    error: proxy_error,
                    proxy,
                    ..
                } => proxy_error.remedy(proxy, &proxies.source),
                _ => connect_remedy(error, Peer::Gateway, protocol, port, &host),
            };
            let unreachable = Unreachable {
                host: &host,
                port,
                error: error.kind(),
                message: error.to_string(),
                remedy,
                attempts: &observation.attempts,
            };
            return unreachable.write(out, args.output);
        }
    };
    let handshake = &session.handshake;
    let chain = &session.chain;
    let probed = session.answer.as_ref();

    let verdict = ChainVerdict::reach(
        &chain.certificates,
        &Question {
            anchors: Some(&anchors),
            name: Some(&checked_name),
            openssl_checks_name: true,
            now: OffsetDateTime::now_utc(),
        },
    );
    let verification = verdict
        .openssl
        .as_ref()
        .map_err(|error| AppError::Connect(format!("{}:{port}: {error}", host)))?;
    let code = verification.code();
    let diagnosis = diagnose(verification, chain.len(), &anchors, ChainSource::Gateway);
    let summaries: Vec<&CertificateSummary> = chain.readable().collect();

    match args.output {
        OutputFormat::Json => {
            let report = ConnectReport {
                host: &host,
                port,
                servername: &servername,
                handshake: HandshakeJson {
                    protocol,
                    server_name: &servername,
                    handshake,
                },
                chain: summaries,
                verify_code: code.number(),
                verify_message: code.text(),
                errors: &verification.errors,
                verified_peername: code.is_ok().then_some(servername.as_str()),
                diagnosis: diagnosis
                    .as_ref()
                    .map(|Diagnosis { cause, remedy }| DiagnosisJson { cause, remedy }),
                strict_client_verdict: &verdict.strict,
                probe: probed.map(|result| match result {
                    Ok(answer) => ProbeJson {
                        answer: Some(answer.clone()),
                        error: None,
                        message: None,
                    },
                    Err(error) => ProbeJson {
                        answer: None,
                        error: Some(error.kind()),
                        message: Some(error.to_string()),
                    },
                }),
            };
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Text if args.brief => {
            writeln!(out, "CONNECTION ESTABLISHED")?;
            writeln!(
                out,
                "Protocol version: {}",
                handshake.negotiated.tls_version
            )?;
            writeln!(out, "Ciphersuite: {}", handshake.negotiated.cipher_suite)?;
            if let Some(leaf) = summaries.first() {
                writeln!(out, "Peer certificate: {}", leaf.subject)?;
            }
        }
        OutputFormat::Text => {
            writeln!(out, "CONNECTED({})", handshake.address)?;
            writeln!(out, "---")?;
            writeln!(out, "Certificate chain")?;
            for (depth, (summary, der)) in summaries.iter().zip(&chain.certificates).enumerate() {
                for line in s_client_listing(depth, summary) {
                    writeln!(out, "{line}")?;
                }
                if args.showcerts {
                    write_pem(out, der.as_ref())?;
                }
            }
            writeln!(out, "---")?;
            if !args.showcerts
                && let (Some(leaf), Some(der)) = (summaries.first(), chain.certificates.first())
            {
                writeln!(out, "Server certificate")?;
                write_pem(out, der.as_ref())?;
                writeln!(out, "subject={}", leaf.subject)?;
                writeln!(out, "issuer={}", leaf.issuer)?;
                writeln!(out, "---")?;
            }
            writeln!(
                out,
                "New, {}, Cipher is {}",
                handshake.negotiated.tls_version, handshake.negotiated.cipher_suite
            )?;
            if let Some(alpn) = &handshake.negotiated.alpn {
                writeln!(out, "ALPN protocol: {alpn}")?;
            }
        }
    }
    if args.output == OutputFormat::Text {
        write_verdict(
            out,
            code,
            &verification.errors,
            &servername,
            diagnosis.as_ref(),
            verdict.strict.as_ref(),
        )?;
        write_probe(out, protocol, probed)?;
        for unchecked in &verification.unchecked_signatures {
            writeln!(out, "{}", unchecked.note())?;
        }
    }
    let probe_failed = matches!(probed, Some(Err(_)));
    Ok(if code.is_ok() && !probe_failed { 0 } else { 1 })
}

/// The gateway could not be resolved, reached, or did not complete a TLS handshake: the
/// finding, every address tried and the fix (exit status 1).
#[derive(Serialize)]
struct Unreachable<'a> {
    host: &'a str,
    port: u16,
    /// `unresolved`, or the connect error's kind (`refused`, `connect_timeout`, ...).
    error: &'static str,
    message: String,
    remedy: String,
    attempts: &'a [Attempt],
}

impl Unreachable<'_> {
    fn write(&self, out: &mut dyn Write, format: OutputFormat) -> Result<u8, AppError> {
        match format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            OutputFormat::Text => {
                writeln!(
                    out,
                    "connect: {}:{}: {}",
                    self.host, self.port, self.message
                )?;
                if self.attempts.len() > 1 {
                    for attempt in self.attempts {
                        match attempt.message() {
                            Some(message) => writeln!(out, "  tried: {message}")?,
                            None => writeln!(out, "  tried: {} connected", attempt.address)?,
                        }
                    }
                }
                writeln!(out, "Fix: {}", self.remedy)?;
            }
        }
        Ok(1)
    }
}

/// `--probe`'s result, after the verdict: what was sent and what came back.
fn write_probe(
    out: &mut dyn Write,
    protocol: Protocol,
    probed: Option<&Result<ProbeAnswer, ProbeError>>,
) -> std::io::Result<()> {
    let Some(result) = probed else {
        return Ok(());
    };
    let sent = match protocol {
        Protocol::Mqtt => "MQTT 3.1.1 CONNECT without credentials",
        Protocol::Amqp => "AMQP 1.0 SASL header",
        Protocol::Https => "HTTP/1.1 GET /",
    };
    writeln!(out, "---")?;
    match result {
        Ok(answer) => writeln!(out, "Protocol probe ({sent}): {}", answer.summary()),
        Err(error) => writeln!(
            out,
            "Protocol probe ({sent}) failed: the server {error} [{}]",
            error.kind()
        ),
    }
}

fn write_verdict(
    out: &mut dyn Write,
    code: crate::pki::VerifyCode,
    errors: &[VerifyError],
    servername: &str,
    diagnosis: Option<&Diagnosis>,
    strict: Option<&StrictVerdict>,
) -> std::io::Result<()> {
    for error in errors {
        writeln!(out, "{}", verify_error_line(error))?;
    }
    if code.is_ok() {
        writeln!(out, "Verification: OK")?;
        writeln!(out, "Verified peername: {servername}")?;
    } else {
        writeln!(out, "Verification error: {}", code.text())?;
    }
    writeln!(out, "Verify return code: {code}")?;
    // OpenSSL's verdict stands; say when strict clients will refuse what it accepts.
    if code.is_ok()
        && let Some(warning) = strict.and_then(|verdict| verdict.compared_with(code))
    {
        writeln!(out, "Warning: {warning}")?;
    }
    if let Some(diagnosis) = diagnosis {
        writeln!(out, "---")?;
        writeln!(out, "Diagnosis: {}", diagnosis.cause)?;
        writeln!(out, "Fix: {}", diagnosis.remedy)?;
    }
    Ok(())
}

fn write_pem(out: &mut dyn Write, der: &[u8]) -> std::io::Result<()> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    writeln!(out, "-----BEGIN CERTIFICATE-----")?;
    for chunk in encoded.as_bytes().chunks(64) {
        writeln!(out, "{}", String::from_utf8_lossy(chunk))?;
    }
    writeln!(out, "-----END CERTIFICATE-----")
}

#[cfg(test)]
mod tests {
    use super::split_target;

    #[test]
    fn targets_split_like_s_client() {
        assert_eq!(
            split_target("gw.contoso.com:5671"),
            Ok(("gw.contoso.com".into(), Some(5671)))
        );
        assert_eq!(
            split_target("gw.contoso.com"),
            Ok(("gw.contoso.com".into(), None))
        );
        assert_eq!(split_target("[::1]:8883"), Ok(("::1".into(), Some(8883))));
        assert_eq!(split_target("::1"), Ok(("::1".into(), None)));
        assert!(split_target("gw:0").is_err());
        assert!(split_target("gw:99999").is_err());
    }
}
