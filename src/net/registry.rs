//! Docker Registry HTTP API V2 requests, made as the Docker daemon makes them when it pulls an
//! image, without credentials (the distribution specification: `GET /v2/` answers 200, or 401
//! when credentials are required, with `Docker-Distribution-API-Version: registry/2.0`;
//! `GET /v2/<name>/manifests/<reference>` is answered in the first media type of `Accept` the
//! registry has). Responses are read with the HTTPS probe's parser and deadline
//! ([`super::probe::exchange`]); judging them is [`judge`]'s job.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::probe::exchange;
use super::probe::http::{ANSWER_LIMIT, HttpError, HttpResponse, parse_response};

/// The header a registry sends on every API response (lower case, as the parser keeps names).
pub const API_VERSION_HEADER: &str = "docker-distribution-api-version";

/// Its value for the V2 API.
pub const API_VERSION: &str = "registry/2.0";

/// The `/v2/` base endpoint: "does this server implement the V2 API".
pub const BASE_PATH: &str = "/v2/";

/// The manifest media types the Docker daemon accepts, multi-platform lists first: IoT Edge's
/// images are manifest lists (amd64, arm32v7, arm64v8), which a registry only serves to a
/// client that accepts them.
pub const MANIFEST_ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
];

/// `GET path` with `host` as the Host header and one `Accept` header per media type, asking
/// the server to close afterwards.
pub fn get_request(host: &str, path: &str, accept: &[&str]) -> Vec<u8> {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: edgeprobe/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if accept.is_empty() {
        request.push_str("Accept: */*\r\n");
    }
    for media_type in accept {
        request.push_str(&format!("Accept: {media_type}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    request.into_bytes()
}

/// Sends [`get_request`] and reads the response head within `timeout`.
pub async fn get<S>(
    stream: &mut S,
    host: &str,
    path: &str,
    accept: &[&str],
    timeout: Duration,
) -> Result<HttpResponse, HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    exchange(
        stream,
        &get_request(host, path, accept),
        ANSWER_LIMIT,
        timeout,
        parse_response,
    )
    .await
}

/// What answered a registry request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryAnswer {
    /// 200 from a registry: it serves what was asked.
    Found,
    /// 401 from a registry: it is there and wants credentials; what it holds is not known
    /// without them.
    NeedsCredentials,
    /// 404 from a registry: the repository or the tag is not there.
    NotInRegistry,
    /// 404 without the registry header: no registry behind this URL (edgeHub's own 404 on 443,
    /// or an API proxy without the `/v2` route).
    NoRegistryRoute,
    /// 502, 503 or 504: a proxy answered, the registry behind it did not.
    UpstreamDown,
    /// 200 or 401 without `Docker-Distribution-API-Version: registry/2.0`: not a registry.
    NotARegistry,
    /// Any other status.
    Unexpected,
}

/// Judges a response by its status and API version header.
pub fn judge(response: &HttpResponse) -> RegistryAnswer {
    let registry = response
        .header(API_VERSION_HEADER)
        .is_some_and(|version| version.trim().eq_ignore_ascii_case(API_VERSION));
    match (response.status, registry) {
        (200, true) => RegistryAnswer::Found,
        (401, true) => RegistryAnswer::NeedsCredentials,
        (200 | 401, false) => RegistryAnswer::NotARegistry,
        (404, true) => RegistryAnswer::NotInRegistry,
        (404, false) => RegistryAnswer::NoRegistryRoute,
        (502..=504, _) => RegistryAnswer::UpstreamDown,
        _ => RegistryAnswer::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(head: &str) -> HttpResponse {
        parse_response(head.as_bytes())
            .expect("HTTP")
            .expect("complete")
    }

    #[test]
    fn requests_name_the_path_host_and_every_media_type() {
        let request = String::from_utf8(get_request(
            "gw.contoso.com",
            "/v2/azureiotedge-agent/manifests/1.5",
            MANIFEST_ACCEPT,
        ))
        .unwrap();
        assert!(request.starts_with(
            "GET /v2/azureiotedge-agent/manifests/1.5 HTTP/1.1\r\nHost: gw.contoso.com\r\n"
        ));
        assert!(
            request.contains(
                "\r\nAccept: application/vnd.docker.distribution.manifest.list.v2+json\r\n"
            )
        );
        assert_eq!(request.matches("\r\nAccept: ").count(), 4);
        assert!(request.ends_with("Connection: close\r\n\r\n"));
        assert!(
            String::from_utf8(get_request("gw", BASE_PATH, &[]))
                .unwrap()
                .contains("Accept: */*")
        );
    }

    #[test]
    fn answers_are_judged_by_status_and_api_version() {
        let registry = "Docker-Distribution-Api-Version: registry/2.0\r\n";
        for (status, header, expected) in [
            ("200 OK", registry, RegistryAnswer::Found),
            (
                "401 Unauthorized",
                registry,
                RegistryAnswer::NeedsCredentials,
            ),
            ("404 Not Found", registry, RegistryAnswer::NotInRegistry),
            (
                "404 Not Found",
                "Server: nginx\r\n",
                RegistryAnswer::NoRegistryRoute,
            ),
            ("502 Bad Gateway", "", RegistryAnswer::UpstreamDown),
            ("504 Gateway Time-out", "", RegistryAnswer::UpstreamDown),
            ("200 OK", "", RegistryAnswer::NotARegistry),
            (
                "500 Internal Server Error",
                registry,
                RegistryAnswer::Unexpected,
            ),
        ] {
            let head = format!("HTTP/1.1 {status}\r\n{header}Content-Length: 0\r\n\r\n");
            assert_eq!(judge(&response(&head)), expected, "{head}");
        }
    }
}
