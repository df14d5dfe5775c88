//! `edgeprobe exporter`: a blackbox_exporter-style endpoint. Prometheus asks
//! `GET /probe?target=HOST[:PORT]&module=NAME`; the exporter runs the leaf suite against that
//! gateway right then and answers with the metrics of that one run (the same families as
//! `check --output prometheus`). `GET /metrics` is the exporter's own (probes run, their
//! durations, errors, probes in flight), `GET /` a page with links.
//!
//! What a module's probes share is built once, when the exporter starts: its context (the
//! module's settings, the OS store's environment) and, in it, one resolver, one set of trust
//! anchors and one TLS client (`engine::Shared`). A probe does only its target's work: its
//! clock, its lookup, its connections, its verdicts. The CA file and the hosts file are re-read
//! when they change on disk, so a root replaced or a hosts line added is seen by the next scrape,
//! as is a certificate that expired overnight; what is remembered between probes is bounded, so
//! nothing grows with their number. The probe's deadline is Prometheus's scrape timeout
//! (`X-Prometheus-Scrape-Timeout-Seconds`) less half a second, as blackbox_exporter does; at
//! most `max_concurrent` probes run at once and the rest wait for a slot within their deadline.

pub mod config;
pub mod http;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::checks::leaf_registry;
use crate::engine::{Check, Context, Selection, run_checks, validate_selection};
use crate::net::Protocol;
use crate::report::prometheus::{PrometheusWriter, escape_label_value};
use crate::report::{TargetResult, Verdict};
pub use config::{DEFAULT_MODULE, Module};
use http::{ReadError, Request, Response};

/// How long a kept-alive connection may sit idle between scrapes.
const IDLE: Duration = Duration::from_secs(120);
/// Subtracted from Prometheus's scrape timeout, so the answer arrives before Prometheus gives
/// up (blackbox_exporter's default `--timeout-offset`).
const TIMEOUT_OFFSET: Duration = Duration::from_millis(500);
/// The deadline of a probe whose request carries no scrape timeout (a `curl` by hand).
const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
/// How long a stopping exporter lets running probes finish.
const DRAIN: Duration = Duration::from_secs(30);

/// Everything the exporter serves with.
pub struct Exporter {
    modules: BTreeMap<String, Prepared>,
    registry: Vec<Box<dyn Check>>,
    slots: Semaphore,
    max_concurrent: usize,
    stats: Stats,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Exporter")
            .field("modules", &self.modules)
            .field("max_concurrent", &self.max_concurrent)
            .finish_non_exhaustive()
    }
}

/// A module and the context every one of its probes' is made from: the module's settings and
/// the state its probes share for the exporter's whole life (resolver, trust anchors, TLS
/// client, chain descriptions).
#[derive(Debug)]
struct Prepared {
    module: Module,
    template: Context,
}

/// The exporter's own counters, for `/metrics`.
#[derive(Debug, Default)]
struct Stats {
    in_flight: AtomicU64,
    /// Per module: (successful probes, failed probes, total seconds).
    probes: Mutex<BTreeMap<String, ModuleStats>>,
    /// Requests answered with an error, by reason.
    refused: Mutex<BTreeMap<&'static str, u64>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct ModuleStats {
    success: u64,
    failure: u64,
    seconds: f64,
}

/// Why the exporter could not start with these modules.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("module `{module}`: {reason}")]
    Selection { module: String, reason: String },
}

impl Exporter {
    /// Validates every module's check selection once, up front, and builds what each module's
    /// probes share.
    pub fn new(
        modules: BTreeMap<String, Module>,
        max_concurrent: usize,
    ) -> Result<Exporter, SetupError> {
        let registry = leaf_registry();
        for (name, module) in &modules {
            validate_selection(&registry, &module.selection).map_err(|error| {
                SetupError::Selection {
                    module: name.clone(),
                    reason: error.to_string(),
                }
            })?;
        }
        let modules = modules
            .into_iter()
            .map(|(name, module)| {
                let template = Context::leaf(&module.leaf);
                (name, Prepared { module, template })
            })
            .collect();
        let max_concurrent = max_concurrent.max(1);
        Ok(Exporter {
            modules,
            registry,
            slots: Semaphore::new(max_concurrent),
            max_concurrent,
            stats: Stats::default(),
        })
    }

    /// Serves `listener` until `shutdown` turns true, then stops accepting, lets the running
    /// requests finish (at most [`DRAIN`]) and returns.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let exporter = Arc::clone(&self);
                        let stop = shutdown.clone();
                        connections.spawn(async move { exporter.connection(stream, stop).await });
                    }
                    // Out of file descriptors or a reset before accept: try again shortly
                    // rather than spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        let drained = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(DRAIN, drained).await.is_err() {
            connections.shutdown().await;
        }
    }

    /// Answers requests on one connection until the peer closes, goes idle, asks to close, or
    /// the exporter stops (after the request in progress).
    async fn connection(&self, mut stream: TcpStream, shutdown: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let mut buffer = Vec::new();
        loop {
            let request = tokio::select! {
                request = http::read_request(&mut stream, &mut buffer, IDLE) => request,
                () = stopped(shutdown.clone()) => return,
            };
            let (response, head_only, keep_alive) = match request {
                Ok(request) => {
                    let response = self.answer(&request).await;
                    let keep_alive = request.keep_alive && !*shutdown.borrow();
                    (response, request.method == "HEAD", keep_alive)
                }
                Err(ReadError::Closed | ReadError::Io(_)) => return,
                Err(ReadError::TooLarge) => {
                    self.refused("request_too_large");
                    (
                        Response::error(431, "the request head is too large"),
                        false,
                        false,
                    )
                }
                Err(ReadError::Malformed(reason)) => {
                    self.refused("malformed_request");
                    (
                        Response::error(400, format!("malformed HTTP request: {reason}")),
                        false,
                        false,
                    )
                }
            };
            if http::write_response(&mut stream, &response, head_only, keep_alive)
                .await
                .is_err()
                || !keep_alive
            {
                return;
            }
        }
    }

    /// Routes one request.
    pub async fn answer(&self, request: &Request) -> Response {
        if request.method != "GET" && request.method != "HEAD" {
            self.refused("method_not_allowed");
            return Response::error(
                405,
                format!("{} is not served here: use GET", request.method),
            );
        }
        match request.path.as_str() {
            "/probe" => self.probe(request).await,
            "/metrics" => Response::metrics(self.own_metrics()),
            "/" => Response::html(self.index()),
            "/-/healthy" => Response::text(200, "Healthy\n"),
            other => {
                self.refused("not_found");
                Response::error(
                    404,
                    format!("no page {other}: try /probe?target=HOST, /metrics or /"),
                )
            }
        }
    }

    fn refused(&self, reason: &'static str) {
        *lock(&self.stats.refused).entry(reason).or_default() += 1;
    }

    async fn probe(&self, request: &Request) -> Response {
        let module_name = request
            .query
            .get("module")
            .map(String::as_str)
            .filter(|name| !name.is_empty())
            .unwrap_or(DEFAULT_MODULE);
        let Some(prepared) = self.modules.get(module_name) else {
            self.refused("unknown_module");
            let known: Vec<&str> = self.modules.keys().map(String::as_str).collect();
            return Response::error(
                400,
                format!(
                    "unknown module `{module_name}`: this exporter has {}",
                    known.join(", ")
                ),
            );
        };
        let target = match request.query.get("target").map(String::as_str) {
            None | Some("") => {
                self.refused("bad_target");
                return Response::error(
                    400,
                    "no target: ask /probe?target=HOST[:PORT]&module=NAME",
                );
            }
            Some(target) => match Target::parse(target, &prepared.module) {
                Ok(target) => target,
                Err(reason) => {
                    self.refused("bad_target");
                    return Response::error(400, reason);
                }
            },
        };
        let deadline = scrape_deadline(request);
        let started = Instant::now();
        let Ok(Ok(_slot)) = tokio::time::timeout(deadline, self.slots.acquire()).await else {
            self.refused("busy");
            return Response::error(
                503,
                format!(
                    "all {} probe slots stayed busy for the whole {:.1} s deadline: raise --max-concurrent-probes or the scrape timeout",
                    self.max_concurrent,
                    deadline.as_secs_f64()
                ),
            );
        };
        self.stats.in_flight.fetch_add(1, Ordering::Relaxed);
        let remaining = deadline.saturating_sub(started.elapsed());
        let result = self.run_probe(prepared, &target, remaining).await;
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        let elapsed = started.elapsed();
        {
            let mut probes = lock(&self.stats.probes);
            let stats = probes.entry(module_name.to_owned()).or_default();
            if result.verdict == Verdict::Error {
                stats.failure += 1;
            } else {
                stats.success += 1;
            }
            stats.seconds += elapsed.as_secs_f64();
        }
        let mut writer = PrometheusWriter::new();
        writer.add(&result);
        let mut body = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = writer.write(&mut body);
        Response::metrics(String::from_utf8_lossy(&body).into_owned())
    }

    async fn run_probe(
        &self,
        prepared: &Prepared,
        target: &Target,
        deadline: Duration,
    ) -> TargetResult {
        let module = &prepared.module;
        // Every step's own timeout fits twice in the deadline (connect, then handshake), so a
        // dead port still leaves time to report the others.
        let step = module
            .leaf
            .timeout
            .min(deadline / 2)
            .max(Duration::from_millis(100));
        let mut context = Context {
            gateway: Some(target.host.clone()),
            now: whole_second(OffsetDateTime::now_utc()),
            ..prepared.template.clone()
        };
        context.leaf.timeout = step;
        let selection = target.selection(module);
        let ca_file = module
            .leaf
            .ca_file
            .as_ref()
            .map(|path| path.display().to_string());
        match tokio::time::timeout(deadline, run_checks(&self.registry, &context, &selection)).await
        {
            Ok(Ok(report)) => TargetResult::from_run(None, &target.host, ca_file, &report),
            Ok(Err(error)) => {
                TargetResult::not_checked(None, &target.host, "selection", error.to_string(), None)
            }
            Err(_) => {
                let mut result = TargetResult::not_checked(
                    None,
                    &target.host,
                    "deadline",
                    format!(
                        "the checks did not finish within the probe's {:.1} s deadline",
                        deadline.as_secs_f64()
                    ),
                    Some("raise the scrape timeout, or lower the module's timeout".to_owned()),
                );
                result.elapsed = deadline;
                result
            }
        }
    }

    fn own_metrics(&self) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "edgeprobe_exporter_build_info",
            "gauge",
            "The exporter's version, as a label; the value is 1.",
            [(
                format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")),
                "1".to_owned(),
            )],
        );
        family(
            &mut out,
            "edgeprobe_exporter_probes_in_flight",
            "gauge",
            "Probes running now.",
            [(
                String::new(),
                self.stats.in_flight.load(Ordering::Relaxed).to_string(),
            )],
        );
        family(
            &mut out,
            "edgeprobe_exporter_max_concurrent_probes",
            "gauge",
            "Probes that may run at once (--max-concurrent-probes).",
            [(String::new(), self.max_concurrent.to_string())],
        );
        let probes = lock(&self.stats.probes).clone();
        let modules = || {
            probes
                .iter()
                .map(|(module, stats)| (escape_label_value(module), stats))
        };
        family(
            &mut out,
            "edgeprobe_exporter_probes_total",
            "counter",
            "Probes answered, by module and result (success: no check failed).",
            modules().flat_map(|(module, stats)| {
                [("success", stats.success), ("failure", stats.failure)].map(|(result, count)| {
                    let labels = format!("{{module=\"{module}\",result=\"{result}\"}}");
                    (labels, count.to_string())
                })
            }),
        );
        family(
            &mut out,
            "edgeprobe_exporter_probe_duration_seconds",
            "summary",
            "Time spent answering probes, by module.",
            modules().flat_map(|(module, stats)| {
                [
                    (
                        format!("_sum{{module=\"{module}\"}}"),
                        stats.seconds.to_string(),
                    ),
                    (
                        format!("_count{{module=\"{module}\"}}"),
                        (stats.success + stats.failure).to_string(),
                    ),
                ]
            }),
        );
        family(
            &mut out,
            "edgeprobe_exporter_request_errors_total",
            "counter",
            "Requests answered with an error instead of a probe, by reason.",
            lock(&self.stats.refused)
                .iter()
                .map(|(reason, count)| (format!("{{reason=\"{reason}\"}}"), count.to_string())),
        );
        out
    }

    fn index(&self) -> String {
        let modules: String = self
            .modules
            .keys()
            .map(|name| {
                let name = html_escape(name);
                format!("<li><code>{name}</code>: <a href=\"/probe?target=gw.contoso.com&amp;module={name}\">/probe?target=gw.contoso.com&amp;module={name}</a></li>\n")
            })
            .collect();
        format!(
            "<!DOCTYPE html>\n<html><head><title>edgeprobe exporter</title></head><body>\n\
<h1>edgeprobe exporter {}</h1>\n<p>Checks an Azure IoT Edge gateway as a leaf device would, per scrape.</p>\n\
<ul>\n<li><a href=\"/metrics\">/metrics</a>: the exporter's own metrics</li>\n</ul>\n<h2>Modules</h2>\n<ul>\n{modules}</ul>\n</body></html>\n",
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// One metric family in the text exposition format: HELP and TYPE, then a line per sample,
/// each given as what follows the name (a `_sum`-like suffix and the labels) and its value.
fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, String)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// The gateway a probe asks for: a host, and a port when the target names one (then only that
/// port's protocol is probed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: String,
    protocol: Option<Protocol>,
}

impl Target {
    fn parse(text: &str, module: &Module) -> Result<Target, String> {
        if text.len() > 300 || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(
                "the target must be a host name or address, with an optional :PORT".to_owned(),
            );
        }
        // `[::1]:8883`, `[::1]`, a bare IPv6 address, `host:8883`, `host`.
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("`{text}`: an IPv6 address needs its closing `]`"))?;
            (host, after.strip_prefix(':'))
        } else if text.matches(':').count() > 1 {
            (text, None)
        } else {
            match text.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{text}`: the host is empty"));
        }
        let protocol = match port {
            None => None,
            Some(port) => {
                let number: u16 = port
                    .parse()
                    .map_err(|_| format!("`{text}`: `{port}` is not a port number"))?;
                let protocol = Protocol::ALL
                    .into_iter()
                    .find(|protocol| module.leaf.ports.get(*protocol) == number)
                    .ok_or_else(|| {
                        let ports: Vec<String> = Protocol::ALL
                            .iter()
                            .map(|protocol| format!("{} {}", protocol.key(), module.leaf.ports.get(*protocol)))
                            .collect();
                        format!(
                            "`{text}`: port {number} is none of the module's ports ({}); give the host alone, or a module whose `ports` has it",
                            ports.join(", ")
                        )
                    })?;
                Some(protocol)
            }
        };
        Ok(Target {
            host: host.to_owned(),
            protocol,
        })
    }

    /// The module's selection, narrowed to one protocol's ports when the target named a port:
    /// the other ports' connect checks are left out (and with them what depends on them).
    fn selection(&self, module: &Module) -> Selection {
        let mut selection = module.selection.clone();
        if let Some(chosen) = self.protocol {
            for other in Protocol::ALL.into_iter().filter(|other| *other != chosen) {
                let id = format!("gateway-connect-{}", other.key());
                if !selection.skip.contains(&id) {
                    selection.skip.push(id);
                }
            }
        }
        selection
    }
}

/// `now` to the whole second, the clock OpenSSL verifies with (`X509_cmp_time` against
/// `time(NULL)`) and rustls-webpki too (`UnixTime` counts seconds); certificate times are whole
/// seconds. Every probe of the same second then asks the module's verdict memo the same
/// question about a chain, and one answer serves them all.
fn whole_second(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Prometheus's scrape timeout less [`TIMEOUT_OFFSET`], or [`DEFAULT_DEADLINE`].
fn scrape_deadline(request: &Request) -> Duration {
    request
        .headers
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|seconds| seconds.parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(|seconds| {
            Duration::from_secs_f64(seconds.min(600.0))
                .saturating_sub(TIMEOUT_OFFSET)
                .max(Duration::from_millis(100))
        })
        .unwrap_or(DEFAULT_DEADLINE)
}

async fn stopped(mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The address the exporter listens on, as printed when it starts.
pub fn listening_line(address: SocketAddr) -> String {
    format!(
        "edgeprobe exporter listening on http://{address}/ (probe: /probe?target=HOST&module=NAME)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{LeafSettings, Ports};

    fn module() -> Module {
        Module {
            leaf: LeafSettings {
                ports: Ports {
                    mqtt: 18883,
                    ..Ports::default()
                },
                ..LeafSettings::default()
            },
            selection: Selection::default(),
        }
    }

    #[test]
    fn targets_name_a_host_and_optionally_one_of_the_modules_ports() {
        let module = module();
        let parse = |text| Target::parse(text, &module);
        assert_eq!(parse("gw.contoso.com").unwrap().protocol, None);
        assert_eq!(
            parse("gw.contoso.com:18883").unwrap().protocol,
            Some(Protocol::Mqtt)
        );
        assert_eq!(
            parse("[::1]:443").unwrap(),
            Target {
                host: "::1".into(),
                protocol: Some(Protocol::Https)
            }
        );
        assert_eq!(parse("::1").unwrap().host, "::1");
        let wrong = parse("gw:8883").unwrap_err();
        assert!(
            wrong.contains("none of the module's ports (mqtt 18883, amqp 5671, https 443)"),
            "{wrong}"
        );
        assert!(parse("gw:http").unwrap_err().contains("not a port number"));
        assert!(parse("gw contoso").is_err());
        assert!(parse(":443").unwrap_err().contains("host is empty"));
    }

    #[test]
    fn a_port_in_the_target_leaves_the_other_ports_out() {
        let module = module();
        let target = Target::parse("gw:5671", &module).unwrap();
        assert_eq!(
            target.selection(&module).skip,
            ["gateway-connect-mqtt", "gateway-connect-https"]
        );
        assert!(
            Target::parse("gw", &module)
                .unwrap()
                .selection(&module)
                .skip
                .is_empty()
        );
    }

    #[test]
    fn probes_of_one_second_share_its_clock() {
        let now = time::macros::datetime!(2026-12-01 12:00:00.75 UTC);
        assert_eq!(
            whole_second(now),
            time::macros::datetime!(2026-12-01 12:00:00 UTC)
        );
    }

    #[test]
    fn the_deadline_is_the_scrape_timeout_less_the_offset() {
        let mut request = Request {
            method: "GET".into(),
            path: "/probe".into(),
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            keep_alive: true,
        };
        assert_eq!(scrape_deadline(&request), DEFAULT_DEADLINE);
        request
            .headers
            .insert("x-prometheus-scrape-timeout-seconds".into(), "4.5".into());
        assert_eq!(scrape_deadline(&request), Duration::from_secs(4));
        request
            .headers
            .insert("x-prometheus-scrape-timeout-seconds".into(), "soon".into());
        assert_eq!(scrape_deadline(&request), DEFAULT_DEADLINE);
    }

    #[tokio::test]
    async fn unknown_modules_and_bad_targets_are_400_with_one_line() {
        let mut modules = BTreeMap::new();
        modules.insert(DEFAULT_MODULE.to_owned(), module());
        let exporter = Exporter::new(modules, 4).unwrap();
        let ask = |path: &str, query: &[(&str, &str)]| Request {
            method: "GET".into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: BTreeMap::new(),
            keep_alive: true,
        };
        let unknown = exporter
            .answer(&ask("/probe", &[("target", "gw"), ("module", "nope")]))
            .await;
        assert_eq!(unknown.status, 400);
        assert_eq!(
            unknown.body,
            "unknown module `nope`: this exporter has leaf\n"
        );
        let missing = exporter.answer(&ask("/probe", &[])).await;
        assert_eq!(missing.status, 400);
        assert_eq!(missing.body.lines().count(), 1);
        assert_eq!(exporter.answer(&ask("/nothing", &[])).await.status, 404);
        let metrics = exporter.answer(&ask("/metrics", &[])).await;
        assert!(
            metrics
                .body
                .contains("edgeprobe_exporter_request_errors_total{reason=\"unknown_module\"} 1"),
            "{}",
            metrics.body
        );
        assert!(
            exporter
                .answer(&ask("/", &[]))
                .await
                .body
                .contains("module=leaf")
        );
    }
}
