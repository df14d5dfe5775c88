//! Just enough HTTP/1.1 for Prometheus to scrape: one GET (or HEAD) at a time per connection,
//! keep-alive as Prometheus uses it, a bounded request head, and answers with a length. The
//! request head is parsed by `httparse` (the parser hyper uses); a server framework would cost
//! several hundred kilobytes of the 5 MiB binary budget for routes this small.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A request head larger than this is refused (431): Prometheus sends a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Query parameters, percent-decoded (`+` as a space); the first of a repeated name wins.
    pub query: BTreeMap<String, String>,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// Whether the connection stays open after the answer (HTTP/1.1 without
    /// `Connection: close`).
    pub keep_alive: bool,
}

/// Why no request could be read from a connection.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer closed (or went idle past the limit) between requests: not an error.
    #[error("connection closed")]
    Closed,
    #[error("the request head is larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads one request head. `idle` bounds the wait for its first byte and for the rest.
pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    idle: Duration,
) -> Result<Request, ReadError> {
    loop {
        if let Some(request) = parse(buffer)? {
            return Ok(request);
        }
        if buffer.len() >= MAX_HEAD {
            return Err(ReadError::TooLarge);
        }
        let mut chunk = [0u8; 4096];
        let read = match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
            Err(_) => return Err(ReadError::Closed),
            Ok(read) => read?,
        };
        if read == 0 {
            return Err(if buffer.is_empty() {
                ReadError::Closed
            } else {
                ReadError::Malformed("the connection closed inside the request head".to_owned())
            });
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Parses a complete head at the start of `buffer` and removes it (GET and HEAD have no body;
/// a request announcing one is refused rather than misread).
fn parse(buffer: &mut Vec<u8>) -> Result<Option<Request>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let length = match parsed.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(ReadError::Malformed(error.to_string())),
    };
    let method = parsed.method.unwrap_or_default().to_owned();
    let target = parsed.path.unwrap_or_default();
    let version = parsed.version.unwrap_or(1);
    let headers: BTreeMap<String, String> = parsed
        .headers
        .iter()
        .map(|header| {
            (
                header.name.to_ascii_lowercase(),
                String::from_utf8_lossy(header.value).trim().to_owned(),
            )
        })
        .collect();
    if headers
        .get("content-length")
        .is_some_and(|length| length != "0")
        || headers.contains_key("transfer-encoding")
    {
        return Err(ReadError::Malformed(
            "a request body is not accepted here".to_owned(),
        ));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let connection = headers
        .get("connection")
        .map(|value| value.to_ascii_lowercase())
        .unwrap_or_default();
    let keep_alive = match version {
        0 => connection.contains("keep-alive"),
        _ => !connection.contains("close"),
    };
    let request = Request {
        method,
        path: decode(path),
        query: parse_query(query),
        headers,
        keep_alive,
    };
    buffer.drain(..length);
    Ok(Some(request))
}

fn parse_query(query: &str) -> BTreeMap<String, String> {
    let mut parameters = BTreeMap::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters
            .entry(decode(name))
            .or_insert_with(|| decode(value));
    }
    parameters
}

/// `application/x-www-form-urlencoded` decoding, as Prometheus encodes `params`.
fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// The Prometheus text exposition format, version 0.0.4.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const PLAIN_TEXT: &str = "text/plain; charset=utf-8";

impl Response {
    pub fn metrics(body: String) -> Response {
        Response {
            status: 200,
            content_type: PROMETHEUS_TEXT,
            body,
        }
    }

    pub fn html(body: String) -> Response {
        Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body,
        }
    }

    /// An error answer: one line saying what was wrong and what to send instead.
    pub fn error(status: u16, line: impl Into<String>) -> Response {
        let mut body = line.into();
        body.push('\n');
        Response {
            status,
            content_type: PLAIN_TEXT,
            body,
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: PLAIN_TEXT,
            body: body.into(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

/// Writes `response` (the head only for HEAD) and flushes it.
pub async fn write_response<S: AsyncWrite + Unpin>(
    stream: &mut S,
    response: &Response,
    head_only: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    let mut bytes = head.into_bytes();
    if !head_only {
        bytes.extend_from_slice(response.body.as_bytes());
    }
    stream.write_all(&bytes).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Option<Request>, ReadError> {
        parse(&mut text.as_bytes().to_vec())
    }

    #[test]
    fn a_prometheus_probe_request_is_read_with_its_parameters_decoded() {
        let request = parsed(
            "GET /probe?target=gw.contoso.com%3A8883&module=leaf+mqtt&module=other HTTP/1.1\r\n\
Host: 127.0.0.1:9115\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/probe");
        assert_eq!(request.query["target"], "gw.contoso.com:8883");
        assert_eq!(request.query["module"], "leaf mqtt");
        assert_eq!(request.headers["x-prometheus-scrape-timeout-seconds"], "10");
        assert!(request.keep_alive);
    }

    #[test]
    fn keep_alive_follows_the_version_and_the_connection_header() {
        let close = parsed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!close.keep_alive);
        let old = parsed("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!old.keep_alive);
    }

    #[test]
    fn partial_heads_wait_and_bodies_and_garbage_are_refused() {
        assert!(
            parsed("GET /probe HTTP/1.1\r\nHost: x\r\n")
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            parsed("POST /probe HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse(&mut b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n".to_vec()),
            Err(ReadError::Malformed(_))
        ));
    }

    #[test]
    fn two_pipelined_requests_are_read_one_after_the_other() {
        let mut buffer = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n".to_vec();
        assert_eq!(parse(&mut buffer).unwrap().unwrap().path, "/a");
        assert_eq!(parse(&mut buffer).unwrap().unwrap().path, "/b");
        assert!(buffer.is_empty());
    }
}
