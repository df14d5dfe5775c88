//! The probes against the real servers a gateway could run: mosquitto (MQTT over TLS, no
//! anonymous clients), nginx (HTTPS) and a Qpid Proton AMQP 1.0 listener with SASL, each
//! started as a child process on 127.0.0.1 with the fixture chain. `scripts/test` installs
//! them from Debian; where one is missing the test is skipped with a note, unless CI=true,
//! where a missing server fails the run.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Report, Run, fixture, loopback_check_args, run};

pub(crate) const GATEWAY: &str = "gateway.edgeprobe.test";

/// How long a server may take to start listening before the test gives up on it.
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);

/// Between two readiness polls of a server's port.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// A program from PATH or the sbin directories (mosquitto and nginx live in /usr/sbin, which
/// is not on every user's PATH).
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
}

/// A Python that can import `module` (Debian's python3-qpid-proton for `proton`): the system
/// one first, since a pyenv or venv python3 on PATH does not see /usr/lib/python3/dist-packages.
pub(crate) fn python_with(module: &str) -> Option<PathBuf> {
    ["/usr/bin/python3", "python3"]
        .into_iter()
        .map(PathBuf::from)
        .find(|python| {
            Command::new(python)
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
}

/// `Some(found)`, or: under CI=true a failure naming what is missing, otherwise a printed
/// note and `None` so the caller skips.
pub(crate) fn required<T>(what: &str, found: Option<T>) -> Option<T> {
    if found.is_none() {
        let message = format!(
            "{what} is not installed; `bash scripts/test` installs it (mosquitto, nginx-light, python3-qpid-proton, docker-registry, prometheus, tinyproxy, faketime)"
        );
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("CI=true: {message}");
        }
        eprintln!("skipping: {message}");
    }
    found
}

/// A free port on 127.0.0.1 for a child process to bind. Another process could take it
/// between here and the child's bind; the readiness check would then fail loudly.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// A server child process, killed when dropped.
pub(crate) struct Server {
    name: &'static str,
    pub(crate) port: u16,
    child: Option<Child>,
    directory: tempfile::TempDir,
}

impl Server {
    /// Starts `command` with stdout and stderr in files of `directory`, then waits until its
    /// port accepts connections (polling, bounded by [`STARTUP_DEADLINE`]).
    pub(crate) fn start(
        name: &'static str,
        port: u16,
        mut command: Command,
        directory: tempfile::TempDir,
    ) -> Server {
        let log = |stream: &str| {
            File::create(directory.path().join(format!("{name}.{stream}"))).expect("log file")
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(log("stdout"))
            .stderr(log("stderr"))
            .spawn()
            .unwrap_or_else(|error| panic!("{name} does not start: {error}"));
        let mut server = Server {
            name,
            port,
            child: Some(child),
            directory,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "{} exited with {status} before listening:\n{}",
                    self.name,
                    self.logs()
                );
            }
            if TcpStream::connect_timeout(&address, POLL_INTERVAL).is_ok() {
                return;
            }
            assert!(
                started.elapsed() < STARTUP_DEADLINE,
                "{} did not listen on {address} within {STARTUP_DEADLINE:?}:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    pub(crate) fn logs(&self) -> String {
        ["stdout", "stderr"]
            .iter()
            .map(|stream| {
                std::fs::read_to_string(
                    self.directory
                        .path()
                        .join(format!("{}.{stream}", self.name)),
                )
                .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills the server and waits for it: its port then refuses connections.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// `name` (a program of that name) started with a config file `<name>.conf` written into a
/// fresh directory: `config` writes its text for the port and the directory, `arguments` adds
/// the command line for the file's path. `None` (or, under CI=true, a failure) when missing.
pub(crate) fn configured_server(
    name: &'static str,
    config: impl FnOnce(u16, &Path) -> String,
    arguments: impl FnOnce(&mut Command, &Path, &Path),
) -> Option<Server> {
    let program = required(name, find_program(name))?;
    let directory = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let file = directory.path().join(format!("{name}.conf"));
    std::fs::write(&file, config(port, directory.path()))
        .unwrap_or_else(|error| panic!("{name}.conf: {error}"));
    let mut command = Command::new(program);
    arguments(&mut command, &file, directory.path());
    Some(Server::start(name, port, command, directory))
}

/// mosquitto 2 with a TLS listener on 127.0.0.1 and no anonymous clients: CONNACK 5.
fn mosquitto() -> Option<Server> {
    mosquitto_with("mosquitto", &fixture("root-ca.pem"), "")
}

/// mosquitto 2 on 127.0.0.1, with TLS or (the slip on a gateway) without, no anonymous clients.
fn mosquitto_listening(tls: bool) -> Option<Server> {
    if tls {
        mosquitto()
    } else {
        mosquitto_configured("mosquitto", None, "")
    }
}

/// mosquitto serving the fixture chain, `cafile` for client certificates and `settings` (more
/// `mosquitto.conf` lines) on top of no anonymous clients.
pub(crate) fn mosquitto_with(name: &'static str, cafile: &Path, settings: &str) -> Option<Server> {
    mosquitto_configured(name, Some(cafile), settings)
}

/// mosquitto with TLS (the fixture chain, `cafile` for client certificates) or, without a
/// `cafile`, in plaintext; `settings` on top of no anonymous clients.
fn mosquitto_configured(
    name: &'static str,
    cafile: Option<&Path>,
    settings: &str,
) -> Option<Server> {
    let program = required("mosquitto", find_program("mosquitto"))?;
    let directory = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = directory.path().join("mosquitto.conf");
    let certificates = match cafile {
        Some(cafile) => format!(
            "cafile {root}\ncertfile {chain}\nkeyfile {key}\n",
            root = path_text(cafile),
            chain = path_text(&fixture("server-full-chain.pem")),
            key = path_text(&fixture("server.key.pem")),
        ),
        None => String::new(),
    };
    std::fs::write(
        &config,
        format!(
            "listener {port} 127.0.0.1\n{certificates}{settings}\
allow_anonymous false\npersistence false\nlog_dest stderr\n\
# Started as root, mosquitto would switch to the mosquitto user and lose access to the\n\
# temporary files; `root` keeps it as is (and is ignored when not started as root).\n\
user root\n",
        ),
    )
    .expect("mosquitto.conf");
    let mut command = Command::new(program);
    command.arg("-c").arg(&config);
    Some(Server::start(name, port, command, directory))
}

/// nginx in the foreground, one process, everything in a temporary prefix.
fn nginx() -> Option<Server> {
    nginx_listening(true)
}

/// nginx serving the fixture chain over HTTPS, or plain HTTP (`listen PORT` without `ssl`).
fn nginx_listening(tls: bool) -> Option<Server> {
    nginx_with(
        &fixture("server-full-chain.pem"),
        &fixture("server.key.pem"),
        "location / { return 404; }\n",
        tls,
    )
}

/// nginx with TLS on a free 127.0.0.1 port for [`GATEWAY`], presenting `chain` (with `key`),
/// with `locations` as the server's location blocks.
pub(crate) fn nginx_serving(chain: &Path, key: &Path, locations: &str) -> Option<Server> {
    nginx_with(chain, key, locations, true)
}

fn nginx_with(chain: &Path, key: &Path, locations: &str, tls: bool) -> Option<Server> {
    let program = required("nginx", find_program("nginx"))?;
    let directory = tempfile::tempdir().expect("tempdir");
    let prefix = path_text(directory.path());
    let port = free_port();
    let config = directory.path().join("nginx.conf");
    std::fs::write(
        &config,
        format!(
            "daemon off;\nmaster_process off;\npid {prefix}/nginx.pid;\nerror_log stderr;\n\
events {{ worker_connections 64; }}\n\
http {{\n\
  access_log off;\n\
  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n\
  fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n\
  scgi_temp_path {prefix}/scgi;\n\
  server {{\n\
    listen 127.0.0.1:{port}{ssl};\n\
    server_name {GATEWAY};\n\
    ssl_certificate {chain};\n    ssl_certificate_key {key};\n\
    {locations}\
  }}\n\
}}\n",
            chain = path_text(chain),
            key = path_text(key),
            ssl = if tls { " ssl" } else { "" },
        ),
    )
    .expect("nginx.conf");
    let mut command = Command::new(program);
    command
        .arg("-p")
        .arg(directory.path())
        .arg("-c")
        .arg(&config)
        .args(["-e", "stderr"]);
    Some(Server::start("nginx", port, command, directory))
}

/// tests/servers/amqp_listener.py: Qpid Proton's reactor with TLS and SASL.
fn proton() -> Option<Server> {
    let python = required("python3-qpid-proton", python_with("proton"))?;
    Some(python_server("proton", python, "amqp_listener.py", &[]))
}

/// `script` of tests/servers run by `python` on a free 127.0.0.1 port with the fixture chain
/// and key, then `arguments`: `SCRIPT HOST PORT CHAIN KEY ARGUMENTS...`.
pub(crate) fn python_server(
    name: &'static str,
    python: PathBuf,
    script: &str,
    arguments: &[String],
) -> Server {
    let directory = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(script);
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(["127.0.0.1", &port.to_string()])
        .arg(fixture("server-full-chain.pem"))
        .arg(fixture("server.key.pem"))
        .args(arguments);
    Server::start(name, port, command, directory)
}

/// mosquitto on the MQTT port, Proton on the AMQP port, nginx on the HTTPS port.
pub(crate) struct Trio {
    pub(crate) mqtt: Server,
    pub(crate) amqp: Server,
    pub(crate) https: Server,
}

impl Trio {
    pub(crate) fn start() -> Option<Trio> {
        Some(Trio {
            mqtt: mosquitto()?,
            amqp: proton()?,
            https: nginx()?,
        })
    }

    fn check(&self) -> Run {
        let args = loopback_check_args(
            [self.mqtt.port, self.amqp.port, self.https.port],
            &fixture("root-ca.pem"),
            "5s",
            &[],
        );
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

const PORT_CHECKS: [&str; 6] = [
    "gateway-connect-mqtt",
    "gateway-connect-amqp",
    "gateway-connect-https",
    "gateway-protocol-mqtt",
    "gateway-protocol-amqp",
    "gateway-protocol-https",
];

fn assert_ok(report: &Report, id: &str) {
    assert_eq!(report.result(id), "ok", "{id}: {}", report.text_of(id));
}

#[test]
fn mosquitto_proton_and_nginx_pass_every_check() {
    let Some(trio) = Trio::start() else { return };
    let output = trio.check();
    let report = output.json();
    assert_eq!(output.code, 0, "{}", output.all());
    assert_eq!(report.verdict, "ok");
    for id in PORT_CHECKS.iter().chain(&[
        "gateway-cert-chain",
        "gateway-cert-hostname",
        "gateway-cert-expiry",
    ]) {
        assert_ok(&report, id);
    }

    let mqtt = &report.check("gateway-protocol-mqtt").additional_info;
    assert_eq!(mqtt["answer"]["protocol"], "mqtt");
    assert_eq!(
        mqtt["answer"]["return_code"], 5,
        "mosquitto refuses anonymous clients with CONNACK 5: {mqtt}"
    );

    let amqp = &report.check("gateway-protocol-amqp").additional_info;
    let mechanisms = amqp["answer"]["mechanisms"]
        .as_array()
        .expect("mechanisms listed");
    assert!(
        mechanisms.iter().any(|name| name == "ANONYMOUS"),
        "Proton offers ANONYMOUS: {amqp}"
    );

    let https = &report.check("gateway-protocol-https").additional_info;
    assert_eq!(https["answer"]["response"]["status"], 404, "{https}");
    assert!(
        https["answer"]["response"]["server"]
            .as_str()
            .is_some_and(|server| server.starts_with("nginx")),
        "{https}"
    );

    // Each server presented the full fixture chain: server, device CA, intermediate.
    for port in report.check("gateway-cert-chain").additional_info["ports"]
        .as_array()
        .expect("ports")
    {
        assert_eq!(port["verify_code"], 0, "{port}");
        assert_eq!(port["chain"].as_array().map(Vec::len), Some(3), "{port}");
    }
}

/// Stops one server of the trio and checks that the report names it, and only it.
fn dead_service_is_named(stop: fn(&mut Trio) -> &mut Server, protocol: &str, label: &str) {
    let Some(mut trio) = Trio::start() else {
        return;
    };
    let server = stop(&mut trio);
    server.stop();
    let port = server.port;
    let output = trio.check();
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.all());
    assert_eq!(report.verdict, "error");
    let connect = format!("gateway-connect-{protocol}");
    assert_eq!(report.result(&connect), "error");
    assert_eq!(report.check(&connect).additional_info["error"], "refused");
    let message = report.check(&connect).result.details.join("\n");
    assert!(
        message.contains(&format!("{label} {port}")),
        "names the dead service: {message}"
    );
    report.assert_text_contains(&connect, "edgeHub");
    let probe = format!("gateway-protocol-{protocol}");
    assert_eq!(report.result(&probe), "skipped");
    assert!(
        report
            .check(&probe)
            .result
            .details
            .join(" ")
            .contains(&connect),
        "the skip names its reason"
    );
    for id in PORT_CHECKS.iter().filter(|id| !id.ends_with(protocol)) {
        assert_ok(&report, id);
    }
    assert_ok(&report, "gateway-cert-chain");
}

#[test]
fn stopped_mosquitto_is_named() {
    dead_service_is_named(|trio| &mut trio.mqtt, "mqtt", "MQTTS");
}

#[test]
fn stopped_proton_is_named() {
    dead_service_is_named(|trio| &mut trio.amqp, "amqp", "AMQPS");
}

#[test]
fn stopped_nginx_is_named() {
    dead_service_is_named(|trio| &mut trio.https, "https", "HTTPS");
}

/// `connect --probe --brief` to the gateway name on `port` of 127.0.0.1, with `extra` options.
pub(crate) fn connect_probe(port: u16, extra: &[&str]) -> Run {
    let target = format!("{GATEWAY}:{port}");
    let resolve = format!("{GATEWAY}:127.0.0.1");
    let root = path_text(&fixture("root-ca.pem"));
    let mut args = vec![
        "connect",
        &target,
        "--resolve",
        &resolve,
        "--ca-file",
        &root,
        "--probe",
        "--brief",
    ];
    args.extend(extra);
    run(&args)
}

#[test]
fn connect_probe_reads_mosquitto_connack() {
    let Some(mosquitto) = mosquitto() else { return };
    let output = connect_probe(mosquitto.port, &[]);
    assert_eq!(output.code, 0, "{}", output.all());
    assert!(
        output
            .stdout
            .contains("Protocol probe (MQTT 3.1.1 CONNECT without credentials): CONNACK 5 (Connection Refused, not authorized)"),
        "{}",
        output.stdout
    );
}

/// `connect` to a plaintext service on a TLS port: exit 1 (the gateway was reached, and it is
/// a finding), the service named as what it is, not as a firewall resetting the connection.
fn assert_named_plaintext(server: Option<Server>, protocol: &str, expected: &str) {
    // No server: `required` has already failed the test under CI=true.
    let Some(server) = server else {
        return;
    };
    let output = run(&[
        "connect",
        &format!("{GATEWAY}:{}", server.port),
        "--resolve",
        &format!("{GATEWAY}:127.0.0.1"),
        "--ca-file",
        &path_text(&fixture("root-ca.pem")),
        "--protocol",
        protocol,
        "--timeout",
        "5s",
    ]);
    assert_eq!(output.code, 1, "{}", output.all());
    assert!(output.stdout.contains(expected), "{}", output.all());
    assert!(!output.all().contains("firewall"), "{}", output.all());
    assert!(output.stdout.contains("Fix: port"), "{}", output.all());
}

#[test]
fn mosquitto_without_tls_on_the_mqtt_port_is_named_as_such() {
    assert_named_plaintext(
        mosquitto_listening(false),
        "mqtt",
        "is an MQTT broker without TLS: a plaintext MQTT CONNECT was answered CONNACK 5",
    );
}

#[test]
fn nginx_serving_plain_http_on_the_https_port_is_named_as_such() {
    assert_named_plaintext(
        nginx_listening(false),
        "https",
        "is an HTTP server without TLS: it answered the TLS ClientHello with `HTTP/1.1 400 Bad Request`",
    );
}
