//! HTTPS probe: `GET /` (RFC 9112) and, optionally, the WebSocket upgrade IoT Hub and edgeHub
//! serve MQTT over at `/$iothub/websocket` (RFC 6455 section 4). Any HTTP status proves an HTTP
//! server; responses are parsed with `httparse`, the parser hyper uses.

use std::time::Duration;

use base64::Engine;
use serde::Serialize;

use super::{ByteStream, TransportError, describe_received, exchange, kept, random_bytes};

/// The most of a response head read: far more than any status line and headers need.
pub const ANSWER_LIMIT: usize = 16 * 1024;

/// Where IoT Hub and edgeHub accept WebSocket connections for MQTT and AMQP.
pub const WEBSOCKET_PATH: &str = "/$iothub/websocket";

/// The subprotocol device SDKs request for MQTT over WebSockets.
pub const WEBSOCKET_SUBPROTOCOL: &str = "mqtt";

/// RFC 6455 section 1.3: appended to the key before hashing into Sec-WebSocket-Accept.
const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Header values kept for messages are cut to this many characters.
const VALUE_KEPT: usize = 120;

/// A response head as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct HttpResponse {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// The Server header, when sent.
    pub server: Option<String>,
    /// Every header, names lower-cased, values cut and stripped of control characters.
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
}

impl HttpResponse {
    /// `HTTP/1.1 404 Not Found`.
    pub fn status_line(&self) -> String {
        format!("{} {} {}", self.version, self.status, self.reason)
            .trim_end()
            .to_owned()
    }

    /// The first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What the HTTPS probe found: the answer to `GET /`, and to the WebSocket upgrade when tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct HttpProbe {
    pub response: HttpResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocketAnswer>,
}

/// Why no HTTP response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(
        "answered {} instead of an HTTP response ({problem})",
        describe_received(received)
    )]
    NotHttp { problem: String, received: Vec<u8> },
}

impl HttpError {
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Transport(error) => error.kind(),
            HttpError::NotHttp { .. } => "not_http",
        }
    }

    pub fn received(&self) -> &[u8] {
        match self {
            HttpError::Transport(error) => error.received(),
            HttpError::NotHttp { received, .. } => received,
        }
    }
}

/// The Host header for `name` on `port` (RFC 9110 section 7.2): the port only when it is not
/// HTTPS's 443, IPv6 literals in brackets.
pub fn host_header(name: &str, port: u16) -> String {
    let name = name.trim_end_matches('.');
    let host = if name.contains(':') && !name.starts_with('[') {
        format!("[{name}]")
    } else {
        name.to_owned()
    };
    if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_FIXDATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// A `Date` header's time. Senders must use IMF-fixdate (RFC 9110 §5.6.7), which every server
/// edgeprobe meets does (edgeHub's Kestrel, nginx); the obsolete RFC 850 and asctime forms
/// are not read.
pub fn parse_http_date(value: &str) -> Option<time::OffsetDateTime> {
    time::PrimitiveDateTime::parse(value.trim(), IMF_FIXDATE)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// `time` as IMF-fixdate, for a `Date` header and for messages.
pub fn format_http_date(time: time::OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(IMF_FIXDATE)
        .unwrap_or_else(|_| time.to_string())
}

/// `GET /` asking the server to close afterwards, so nothing lingers.
pub fn get_request(host: &str) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: edgeprobe/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// Reads a response head: `Ok(None)` until the blank line that ends it has arrived.
pub fn parse_response(bytes: &[u8]) -> Result<Option<HttpResponse>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let not_http = |problem: String| HttpError::NotHttp {
        problem,
        received: kept(bytes),
    };
    match response.parse(bytes) {
        Ok(httparse::Status::Partial) => Ok(None),
        Err(error) => Err(not_http(error.to_string())),
        Ok(httparse::Status::Complete(_)) => {
            let (Some(version), Some(status)) = (response.version, response.code) else {
                return Err(not_http("incomplete status line".to_owned()));
            };
            let headers: Vec<(String, String)> = response
                .headers
                .iter()
                .map(|header| (header.name.to_ascii_lowercase(), clean(header.value)))
                .collect();
            let server = headers
                .iter()
                .find(|(name, _)| name == "server")
                .map(|(_, value)| value.clone());
            Ok(Some(HttpResponse {
                version: format!("HTTP/1.{version}"),
                status,
                reason: clean(response.reason.unwrap_or_default().as_bytes()),
                server,
                headers,
            }))
        }
    }
}

/// A header value safe to print: lossy UTF-8, no control characters, bounded.
fn clean(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .chars()
        .filter(|character| !character.is_control())
        .take(VALUE_KEPT)
        .collect()
}

/// Sends `request` and reads the response head within `timeout`: the one HTTP exchange the
/// probes and the WebSocket login share.
pub async fn send_request<S: ByteStream>(
    stream: &mut S,
    request: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    exchange(stream, request, ANSWER_LIMIT, timeout, parse_response).await
}

/// Sends `GET /` with `host` as the Host header and reads the response head within `timeout`.
pub async fn probe<S: ByteStream>(
    stream: &mut S,
    host: &str,
    timeout: Duration,
) -> Result<HttpProbe, HttpError> {
    let response = send_request(stream, &get_request(host), timeout).await?;
    Ok(HttpProbe {
        response,
        websocket: None,
    })
}

/// A fresh Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 section 4.1).
pub fn websocket_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(random_bytes::<16>())
}

/// The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 section 4.2.2):
/// base64(SHA-1(key + GUID)).
pub fn websocket_accept(key: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{WEBSOCKET_GUID}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// The opening handshake a device SDK sends for MQTT over WebSockets (RFC 6455 section 4.1).
pub fn websocket_request(host: &str, key: &str) -> Vec<u8> {
    format!(
        "GET {WEBSOCKET_PATH} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {WEBSOCKET_SUBPROTOCOL}\r\n\
User-Agent: edgeprobe/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// How the server answered the WebSocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WebSocketAnswer {
    /// `None` when no HTTP answer came back at all.
    pub status_line: Option<String>,
    /// 101 with the right Sec-WebSocket-Accept and the `mqtt` subprotocol: what SDKs need.
    pub upgraded: bool,
    /// Why not, when not upgraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Judges an upgrade response against the key that was sent (RFC 6455 section 4.1, the
/// client's checks on the server's handshake).
pub fn judge_upgrade(response: &HttpResponse, key: &str) -> WebSocketAnswer {
    let problem = if response.status != 101 {
        Some(format!(
            "the server answered {} instead of 101 Switching Protocols",
            response.status
        ))
    } else if !response
        .header("upgrade")
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
    {
        Some("the 101 answer lacks `Upgrade: websocket`".to_owned())
    } else if response.header("sec-websocket-accept") != Some(websocket_accept(key).as_str()) {
        Some("Sec-WebSocket-Accept does not match the key sent".to_owned())
    } else if !response
        .header("sec-websocket-protocol")
        .is_some_and(|value| value.eq_ignore_ascii_case(WEBSOCKET_SUBPROTOCOL))
    {
        Some(format!(
            "the server did not select the `{WEBSOCKET_SUBPROTOCOL}` subprotocol"
        ))
    } else {
        None
    };
    WebSocketAnswer {
        status_line: Some(response.status_line()),
        upgraded: problem.is_none(),
        problem,
    }
}

impl WebSocketAnswer {
    /// An attempt that got no HTTP answer (or no connection), with the reason.
    pub fn failed(problem: impl Into<String>) -> Self {
        WebSocketAnswer {
            status_line: None,
            upgraded: false,
            problem: Some(problem.into()),
        }
    }
}

/// Sends the WebSocket upgrade for MQTT and judges the answer within `timeout`. Nothing is
/// sent over the WebSocket: the caller closes the connection.
pub async fn probe_websocket<S: ByteStream>(
    stream: &mut S,
    host: &str,
    timeout: Duration,
) -> Result<WebSocketAnswer, HttpError> {
    let key = websocket_key();
    let response = send_request(stream, &websocket_request(host, &key), timeout).await?;
    Ok(judge_upgrade(&response, &key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_omits_the_default_port_and_brackets_ipv6() {
        assert_eq!(host_header("gw.contoso.com", 443), "gw.contoso.com");
        assert_eq!(host_header("gw.contoso.com.", 8443), "gw.contoso.com:8443");
        assert_eq!(host_header("::1", 443), "[::1]");
        assert_eq!(host_header("[::1]", 8443), "[::1]:8443");
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        let date = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(date, time::macros::datetime!(1994-11-06 08:49:37 UTC));
        assert_eq!(format_http_date(date), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn get_request_is_http_1_1_with_host_and_close() {
        let request = String::from_utf8(get_request("gw.contoso.com")).unwrap();
        assert!(request.starts_with("GET / HTTP/1.1\r\nHost: gw.contoso.com\r\n"));
        assert!(request.contains("\r\nConnection: close\r\n"));
        assert!(request.ends_with("\r\n\r\n"));
    }

    #[test]
    fn response_heads_parse_incrementally() {
        let head =
            b"HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nContent-Length: 0\r\n\r\nbody";
        for end in 0..head.len() - 4 {
            assert_eq!(parse_response(&head[..end]), Ok(None), "{end}");
        }
        let response = parse_response(head).unwrap().unwrap();
        assert_eq!(response.status_line(), "HTTP/1.1 404 Not Found");
        assert_eq!(response.server.as_deref(), Some("nginx/1.22.1"));
        assert_eq!(response.header("content-length"), Some("0"));
        let bare = parse_response(b"HTTP/1.0 200\r\n\r\n").unwrap().unwrap();
        assert_eq!(bare.status_line(), "HTTP/1.0 200");
        assert_eq!(bare.server, None);
    }

    #[test]
    fn non_http_answers_are_named() {
        let error = parse_response(b"SSH-2.0-OpenSSH_9.2\r\n").unwrap_err();
        assert_eq!(error.kind(), "not_http");
        assert!(
            error
                .to_string()
                .starts_with("answered `SSH-2.0-OpenSSH_9.2` instead of an HTTP response"),
            "{error}"
        );
        assert_eq!(
            parse_response(&[0x20, 0x02, 0x00, 0x05])
                .unwrap_err()
                .kind(),
            "not_http"
        );
    }

    #[test]
    fn websocket_accept_matches_rfc_6455_example() {
        // RFC 6455 section 1.3.
        assert_eq!(
            websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let key = websocket_key();
        assert_eq!(key.len(), 24);
        assert_ne!(key, websocket_key());
    }

    #[test]
    fn upgrade_answers_are_judged() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let upgraded = parse_response(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(judge_upgrade(&upgraded, key).upgraded);
        let wrong_key = judge_upgrade(&upgraded, "AAAAAAAAAAAAAAAAAAAAAA==");
        assert!(!wrong_key.upgraded);
        assert!(wrong_key.problem.unwrap().contains("Accept"));
        let refused = parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n")
            .unwrap()
            .unwrap();
        let answer = judge_upgrade(&refused, key);
        assert_eq!(
            answer.status_line.as_deref(),
            Some("HTTP/1.1 404 Not Found")
        );
        assert!(answer.problem.unwrap().contains("404"));
    }
}
