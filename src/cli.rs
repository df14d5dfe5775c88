//! The command line, defined once: help, man pages and shell completions are generated from
//! these definitions (as ripgrep does from its flag list).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::demo::Scenario;
use crate::engine::Ports;
use crate::net::Protocol;
use crate::report::ColorChoice;

#[derive(Debug, Parser)]
#[command(
    name = "edgeprobe",
    version,
    about = "Tells why a device cannot connect to its Azure IoT Edge gateway, and how to fix it",
    long_about = "Tells, in seconds, why a device cannot connect to its Azure IoT Edge gateway, and how to fix it: \
name resolution, ports 8883/5671/443, TLS, the certificate chain (with OpenSSL's verify codes), the name in the \
certificate and expiry, all checked at once within a bounded time.",
    after_help = "Exit status: 0 no errors (warnings allowed), 1 at least one check failed, 2 usage error or edgeprobe itself failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a leaf's path to its gateway, or a gateway's setup
    ///
    /// On a leaf (--gateway or --connection-string): check that it can reach its IoT Edge gateway
    /// securely on MQTTS, AMQPS and HTTPS. On a gateway (no arguments, or --config): check its IoT
    /// Edge config, certificates, local edgeHub and upstream connection.
    Check(Deferred<Box<CheckArgs>>),
    /// Run the full check against a generated gateway on loopback
    ///
    /// Run the full check against a generated PKI and an in-process gateway on loopback.
    Demo(Deferred<DemoArgs>),
    /// Serve a simulated IoT Edge gateway on loopback or the LAN
    ///
    /// Serve a simulated IoT Edge gateway (TLS on the MQTT, AMQP and HTTPS ports) until Ctrl-C, to
    /// validate a leaf's setup before the real gateway exists.
    Serve(Deferred<ServeArgs>),
    /// Serve Prometheus probes of gateways, like blackbox_exporter
    ///
    /// Serve Prometheus probes of gateways, like blackbox_exporter: `GET
    /// /probe?target=HOST[:PORT]&module=NAME` runs the leaf checks against that gateway and
    /// answers with its metrics; `GET /metrics` gives the exporter's own. The leaf options below
    /// make the module `leaf`; `--config FILE` adds modules.
    Exporter(Deferred<Box<ExporterArgs>>),
    /// Show one port's chain and verdict, like openssl s_client
    ///
    /// Connect to one port and show the chain and OpenSSL's verdict, like `openssl s_client`, but
    /// always checking the name and exiting non-zero when verification fails.
    Connect(Deferred<ConnectArgs>),
    /// Verify a certificate offline with openssl verify's codes
    ///
    /// Verify a certificate file offline, like `openssl verify`, with the same codes.
    Verify(Deferred<VerifyArgs>),
    /// Describe certificates and keys (never printing key material)
    Inspect(Deferred<InspectArgs>),
    /// List every check: group, id and description
    List(Deferred<ListArgs>),
    /// Explain a check: what it verifies, why it fails and the fix
    Explain(Deferred<ExplainArgs>),
    /// Print a shell completion script
    ///
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(Deferred<CompletionsArgs>),
}

/// A subcommand's arguments, defined only when clap needs them: for the subcommand typed, or
/// for help, man pages and completions (which build every subcommand). Building all ten
/// subcommands' arguments was most of clap's start-up on every run (callgrind, full leaf check:
/// 1.38 M instructions in `Cli::command`). The subcommand's own help texts, set by its variant
/// before the arguments come, are kept where the arguments' definitions would set them too.
pub struct Deferred<T>(pub T);

impl<T> std::ops::Deref for Deferred<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Deferred<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

impl<T: clap::FromArgMatches> clap::FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn augment_args(command: clap::Command) -> clap::Command {
        command.defer(|command| keeping_own_help(command, T::augment_args))
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        command.defer(|command| keeping_own_help(command, T::augment_args_for_update))
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// `augment(command)`, with the about texts `command` already has winning over any the
/// arguments' definitions set (a flattened struct's doc comment), as they do when the variant
/// sets them after its arguments.
fn keeping_own_help(
    command: clap::Command,
    augment: fn(clap::Command) -> clap::Command,
) -> clap::Command {
    let about = command.get_about().cloned();
    let long_about = command.get_long_about().cloned();
    let mut command = augment(command);
    if let Some(about) = about {
        command = command.about(about);
    }
    if let Some(long_about) = long_about {
        command = command.long_about(long_about);
    }
    command
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Gateways checked at once with `--targets` unless `--concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: u32 = 64;

/// `check --help`'s headings: which options serve which mode.
const LEAF: &str = "Leaf device (--gateway or --connection-string)";
const GATEWAY: &str = "Gateway (on the IoT Edge device)";
const FLEET: &str = "Fleet (many gateways)";
const NETWORK: &str = "Network";
const AUTHENTICATION: &str = "Authentication (leaf, opt-in)";
const CHECKS: &str = "Checks and output";

/// `check --help` ends with these (`-h` leaves them out).
const CHECK_EXAMPLES: &str = "Examples:
  On a leaf device, with its connection string and the gateway's root CA file:
    edgeprobe check --connection-string \"$CONNECTION_STRING\" --ca-file root.pem
  Without a connection string:
    edgeprobe check --gateway gw.contoso.com --ca-file root.pem
  On the IoT Edge gateway itself (reads /etc/aziot/config.toml or /etc/iotedge/config.yaml):
    sudo edgeprobe check
  Only some checks (edgeprobe's ids or iotedge check's), as JSON:
    edgeprobe check --gateway gw.contoso.com --ca-file root.pem --only gateway-cert-chain -o json
  Every gateway of a list, one JSON line each:
    edgeprobe check --targets gateways.txt --output jsonl
  What a check verifies and how to fix it:
    edgeprobe explain gateway-cert-chain";

#[derive(Debug, Args)]
#[command(after_long_help = CHECK_EXAMPLES)]
pub struct CheckArgs {
    /// The gateway's host name as devices dial it (wins over the connection string's GatewayHostName)
    #[arg(help_heading = LEAF, long, value_name = "HOST")]
    pub gateway: Option<String>,

    /// Check every gateway listed in FILE, one `HOST [CA-FILE]` per line (`#` starts a comment; a relative CA-FILE is relative to FILE's directory); `-` reads the list from standard input
    #[arg(help_heading = FLEET, long, value_name = "FILE", conflicts_with = "gateway", value_hint = clap::ValueHint::FilePath)]
    pub targets: Option<PathBuf>,

    /// With --targets: how many gateways to check at once [default: 64]
    #[arg(help_heading = FLEET, long, value_name = "N", requires = "targets", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,

    /// The device connection string (HostName=...;DeviceId=...;SharedAccessKey=...;GatewayHostName=...); the key is never printed
    #[arg(
        help_heading = LEAF,
        long,
        value_name = "STRING",
        env = "EDGEPROBE_CONNECTION_STRING",
        hide_env_values = true
    )]
    pub connection_string: Option<crate::secrets::SecretString>,

    /// The gateway's root CA certificate as given to the device (e.g. azure-iot-test-only.root.ca.cert.pem); default: the system trust store. On a gateway: the root given to its leaves, checked against the device CA. With --targets: for the gateways whose line names none
    #[arg(help_heading = LEAF, long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,

    /// Gateway mode: the IoT Edge config to check; an absolute path that exists under --root is read there, like the default [default: /etc/aziot/config.toml (1.2+), else /etc/iotedge/config.yaml (1.1), under --root]
    #[arg(help_heading = GATEWAY, long, value_name = "PATH", conflicts_with = "gateway", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Leaf mode: a copy of the gateway's config.toml or config.yaml, to check GatewayHostName against its hostname
    #[arg(help_heading = LEAF, long, value_name = "PATH", conflicts_with = "config", value_hint = clap::ValueHint::FilePath)]
    pub gateway_config: Option<PathBuf>,

    /// Read system files (/etc/..., /var/lib/..., the default hosts file, the files a config names) under DIR instead of /, e.g. a copy of a gateway's filesystem
    #[arg(help_heading = GATEWAY, long, value_name = "DIR", default_value = "/", value_hint = clap::ValueHint::DirPath)]
    pub root: PathBuf,

    /// Gateway mode: the IoT hub a top-layer gateway connects to, when the config does not name it (DPS provisioning)
    #[arg(help_heading = GATEWAY, long, value_name = "HOST")]
    pub iothub_hostname: Option<String>,

    #[command(flatten, next_help_heading = NETWORK)]
    pub network: NetworkArgs,

    /// Leaf mode: check only this device SDK runtime's trust (sdk-trust): node, dotnet, c, java or python (repeatable); without --sdk (or with `all`, or `--sdk` alone) every runtime found on the device is checked
    #[arg(help_heading = LEAF, long, value_name = "RUNTIME", value_enum, num_args = 0..=1, default_missing_value = "all")]
    pub sdk: Vec<crate::sdk_trust::SdkChoice>,

    #[command(flatten, next_help_heading = GATEWAY)]
    pub nested: NestedArgs,

    /// Also try the WebSocket upgrade device SDKs use for MQTT over WebSockets (/$iothub/websocket on the HTTPS port)
    #[arg(help_heading = LEAF, long)]
    pub websocket: bool,

    /// Also compare this device's clock with an NTP server (SNTP, UDP 123; HOST or HOST:PORT), besides the gateway's HTTP Date
    #[arg(help_heading = LEAF, long, value_name = "HOST")]
    pub ntp_server: Option<String>,

    #[command(flatten, next_help_heading = AUTHENTICATION)]
    pub identity: IdentityArgs,

    /// Warn when a certificate expires within this many days [default: 30 on a leaf, 90 on a gateway]
    #[arg(help_heading = CHECKS, long, value_name = "DAYS")]
    pub expiry_warning_days: Option<u32>,

    /// Run only these checks (comma-separated ids, edgeprobe's or iotedge check's) and the checks they need
    #[arg(help_heading = CHECKS, long, value_name = "ID,...", value_delimiter = ',', value_parser = CheckIdParser, hide_possible_values = true)]
    pub only: Vec<String>,

    /// Do not run these checks (comma-separated ids, edgeprobe's or iotedge check's; reported as ignored); checks that need them are skipped
    #[arg(
        help_heading = CHECKS,
        long,
        visible_alias = "dont-run",
        value_name = "ID,...",
        value_delimiter = ',',
        value_parser = CheckIdParser,
        hide_possible_values = true
    )]
    pub skip: Vec<String>,

    #[command(flatten, next_help_heading = CHECKS)]
    pub output: OutputArgs,
}

/// Leaf mode: proving the device's identity through the gateway (issue 13).
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// Also connect as the device (its SharedAccessKey, SharedAccessSignature or --cert) and report whether the gateway accepts it. Opt-in because IoT Hub allows one connection per device id: this ends a live session of the real device with the same id, which then reconnects
    #[arg(long, conflicts_with_all = ["targets", "config"])]
    pub authenticate: bool,

    /// With --authenticate: after the gateway accepts the device, publish one QoS 1 test message (property edgeprobe-test=true) to devices/{DeviceId}/messages/events/ and wait for its PUBACK
    #[arg(long, requires = "authenticate")]
    pub send_test_message: bool,

    /// The device's X.509 certificate (PEM, its full chain, leaf first), presented in the TLS handshake as an x509=true device does
    #[arg(long, value_name = "PATH", requires = "key", conflicts_with_all = ["targets", "config"], value_hint = clap::ValueHint::FilePath)]
    pub cert: Option<PathBuf>,

    /// The private key of --cert (PEM or DER); never printed
    #[arg(long, value_name = "PATH", requires = "cert", value_hint = clap::ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// The CA the device certificate should chain to (verified with purpose sslclient)
    #[arg(long, value_name = "PATH", requires = "cert", value_hint = clap::ValueHint::FilePath)]
    pub device_ca: Option<PathBuf>,
}

impl IdentityArgs {
    pub fn options(&self) -> crate::identity::IdentityOptions {
        crate::identity::IdentityOptions {
            authenticate: self.authenticate,
            send_test_message: self.send_test_message,
            certificate: self.cert.clone(),
            key: self.key.clone(),
            device_ca: self.device_ca.clone(),
        }
    }
}

/// Gateway mode, nested hierarchies: what the top layer serves the layers below it.
#[derive(Debug, Args)]
pub struct NestedArgs {
    /// Gateway mode: this gateway is the top layer of a nested hierarchy (IoT Edge devices below it): check its registry module and that it reaches the registry of its edgeAgent image
    #[arg(long)]
    pub top_layer: bool,

    /// Gateway mode, with --top-layer: the host port the registry module publishes (its createOptions PortBindings "5000/tcp")
    #[arg(long, value_name = "PORT", default_value_t = crate::engine::DEFAULT_REGISTRY_PORT)]
    pub registry_port: u16,
}

/// How a name is resolved: `check`'s and `connect`'s resolver options.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Hosts file consulted before DNS, as the device's resolver does
    #[arg(long, value_name = "PATH", default_value = "/etc/hosts", value_hint = clap::ValueHint::FilePath)]
    pub hosts_file: PathBuf,

    /// Query this DNS server instead of those in /etc/resolv.conf
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,

    /// Use ADDR for NAME without resolving it, like curl's --resolve (repeatable)
    #[arg(long, value_name = "NAME:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, IpAddr)>,
}

impl ResolveArgs {
    /// `--resolve`'s entries by name, in the order given.
    pub fn overrides(&self) -> BTreeMap<String, Vec<IpAddr>> {
        let mut overrides: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
        for (name, address) in &self.resolve {
            overrides.entry(name.clone()).or_default().push(*address);
        }
        overrides
    }
}

/// How the gateway is reached: resolution, ports and deadlines.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(flatten)]
    pub resolver: ResolveArgs,

    /// Probe a protocol on another port: mqtt=18883, amqp=15671, https=18443 (repeatable); on a gateway, the local edgeHub's ports
    #[arg(long, value_name = "PROTOCOL=PORT", value_parser = parse_port)]
    pub port: Vec<(Protocol, u16)>,

    /// Gateway mode: probe the parent gateway (nested edge) on another port, as --port (repeatable)
    #[arg(long, value_name = "PROTOCOL=PORT", value_parser = parse_port)]
    pub parent_port: Vec<(Protocol, u16)>,

    /// Gateway mode: probe IoT Hub on another port, as --port (repeatable)
    #[arg(long, value_name = "PROTOCOL=PORT", value_parser = parse_port)]
    pub iothub_port: Vec<(Protocol, u16)>,

    /// Deadline for each network step (DNS, each connect, each handshake): 5s, 1500ms, 2
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub proxy: ProxyArgs,
}

/// How TCP streams are opened: directly, or through an HTTP proxy (CONNECT), as curl does.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Tunnel through this HTTP proxy (CONNECT), as curl's -x: http://[user:password@]host:port (port 1080 when not given; "" for none). On a leaf the default is https_proxy/HTTPS_PROXY; on a gateway, the config's [agent.env] https_proxy. The password is never printed
    #[arg(long, value_name = "URL")]
    pub proxy: Option<crate::secrets::SecretString>,

    /// Hosts reached without the proxy, as curl's --noproxy: comma-separated names (each matches itself and its subdomains), addresses, CIDR blocks, or * (default: no_proxy/NO_PROXY)
    #[arg(long, value_name = "LIST")]
    pub noproxy: Option<String>,
}

impl ProxyArgs {
    /// The flags, and with `read_environment` the `https_proxy`/`no_proxy` family as curl
    /// reads it (a leaf device's view; a gateway's proxy is in its config instead).
    pub fn settings(
        &self,
        read_environment: bool,
    ) -> Result<crate::net::proxy::ProxySettings, crate::net::proxy::ProxyUrlError> {
        crate::net::proxy::ProxySettings::from_command_line(
            self.proxy.as_ref().map(|secret| secret.expose_str()),
            self.noproxy.as_deref(),
            |name| {
                if read_environment {
                    std::env::var(name).ok()
                } else {
                    None
                }
            },
        )
    }
}

impl NetworkArgs {
    /// `--port`: the gateway's ports on a leaf, the local edgeHub's on a gateway.
    pub fn ports(&self) -> Ports {
        ports_with(&self.port)
    }

    pub fn parent_ports(&self) -> Ports {
        ports_with(&self.parent_port)
    }

    pub fn iothub_ports(&self) -> Ports {
        ports_with(&self.iothub_port)
    }
}

/// The default ports with `overrides` applied, the last one winning.
fn ports_with(overrides: &[(Protocol, u16)]) -> Ports {
    let mut ports = Ports::default();
    for (protocol, port) in overrides {
        match protocol {
            Protocol::Mqtt => ports.mqtt = *port,
            Protocol::Amqp => ports.amqp = *port,
            Protocol::Https => ports.https = *port,
        }
    }
    ports
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// How `check` and `demo` report. (`connect`, `inspect` and `list` print text or JSON only:
/// [`OutputFormat`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people, laid out like `iotedge check` (in fleet mode, `check --targets`, one table row per gateway)
    Text,
    /// One JSON document, a superset of `iotedge check -o json` (in fleet mode, one result per gateway)
    Json,
    /// One compact JSON object per gateway, one per line, each written as soon as the gateway is done
    Jsonl,
    /// Prometheus text exposition format, for node_exporter's textfile collector
    Prometheus,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    /// Show details, causes, remedies and the certificate chain for every check
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Colour: auto (only on a terminal, honouring NO_COLOR, CLICOLOR, CLICOLOR_FORCE and TERM=dumb), always or never
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Exit with 1 when any check raises a warning
    #[arg(long)]
    pub warnings_as_errors: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which gateway to simulate: a healthy one, or one broken in a way seen in the field
    #[arg(long, value_enum, default_value_t = Scenario::Healthy)]
    pub scenario: Scenario,

    /// Deadline for each network step
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Prometheus scrapes it with blackbox_exporter's relabelling (README, Monitoring):\n  \
scrape_configs:\n    - job_name: iot-edge-gateways\n      metrics_path: /probe\n      params: { module: [leaf] }\n      \
static_configs: [{ targets: [gw1.contoso.com, gw2.contoso.com] }]\n      relabel_configs:\n        \
- { source_labels: [__address__], target_label: __param_target }\n        \
- { source_labels: [__param_target], target_label: instance }\n        \
- { target_label: __address__, replacement: 127.0.0.1:9115 }"
)]
pub struct ExporterArgs {
    /// Address to serve on (a port of 0 lets the system choose; the address is printed)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:9115")]
    pub listen: SocketAddr,

    /// Modules in TOML (`[modules.NAME]` tables with ca_file, ports, timeout, only, skip,
    /// resolve, dns_server, hosts_file, websocket, expiry_warning_days), each starting from
    /// the options given here
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Probes run at once; more wait for a free slot within their deadline (then 503)
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_concurrent_probes: u32,

    /// The gateways' root CA file, as their leaf devices hold it
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,

    #[command(flatten)]
    pub network: NetworkArgs,

    /// Warn when a certificate expires within this many days (default 30)
    #[arg(long, value_name = "DAYS")]
    pub expiry_warning_days: Option<u32>,

    /// Also try the IoT Hub WebSocket upgrade on the HTTPS port
    #[arg(long)]
    pub websocket: bool,

    /// Run only these checks (comma-separated ids)
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = CheckIdParser, hide_possible_values = true)]
    pub only: Vec<String>,

    /// Leave these checks out (comma-separated ids)
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = CheckIdParser, hide_possible_values = true)]
    pub skip: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; the default serves this machine only
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Serve a protocol on another port: mqtt=18883, amqp=15671, https=18443; 0 picks a free port (repeatable)
    #[arg(long, value_name = "PROTOCOL=PORT", value_parser = parse_listen_port)]
    pub port: Vec<(Protocol, u16)>,

    /// The certificate chain to present, leaf first (PEM), e.g. the gateway's full-chain file; default: a generated demo PKI
    #[arg(long, value_name = "PATH", requires = "key", value_hint = clap::ValueHint::FilePath)]
    pub cert: Option<PathBuf>,

    /// The private key of --cert (PEM or DER); never printed
    #[arg(long, value_name = "PATH", requires = "cert", value_hint = clap::ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// Without --cert: the gateway name the generated server certificate is issued for
    #[arg(
        long,
        value_name = "HOST",
        default_value = "gateway.edgeprobe.test",
        conflicts_with = "cert"
    )]
    pub hostname: String,

    /// Without --cert: serve one of the demo's gateways, healthy or broken
    #[arg(long, value_enum, default_value_t = Scenario::Healthy, conflicts_with = "cert")]
    pub scenario: Scenario,

    /// Without --cert: where to write the generated root CA for the leaf (default: a new temporary directory)
    #[arg(long, value_name = "PATH", conflicts_with = "cert", value_hint = clap::ValueHint::FilePath)]
    pub ca_out: Option<PathBuf>,

    /// Know this device as edgeHub would: tokens signed with KEY (base64, the device's SharedAccessKey) earn CONNACK 0, others 4, unknown devices 5 (repeatable); without --device or --device-ca every CONNECT gets CONNACK 5
    #[arg(long, value_name = "ID=KEY", value_parser = parse_device)]
    pub device: Vec<(String, crate::secrets::SecretString)>,

    /// Accept client certificates issued by this CA (PEM) whose CN is the MQTT client id (X.509 devices)
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub device_ca: Option<PathBuf>,
}

/// `--device ID=KEY`; the error never repeats the key.
fn parse_device(text: &str) -> Result<(String, crate::secrets::SecretString), String> {
    let (id, key) = text
        .split_once('=')
        .ok_or("expected ID=KEY: the device id, `=`, then its SharedAccessKey (base64)")?;
    if id.is_empty() || key.is_empty() {
        return Err("expected ID=KEY with a device id and a key".to_owned());
    }
    Ok((
        id.to_owned(),
        crate::secrets::SecretString::new(key.to_owned()),
    ))
}

impl ServeArgs {
    /// 8883, 5671 and 443 unless `--port` says otherwise.
    pub fn ports(&self) -> Ports {
        let mut ports = Ports::default();
        for (protocol, port) in &self.port {
            match protocol {
                Protocol::Mqtt => ports.mqtt = *port,
                Protocol::Amqp => ports.amqp = *port,
                Protocol::Https => ports.https = *port,
            }
        }
        ports
    }
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// HOST[:PORT] to connect to (default port 8883, MQTT over TLS)
    pub target: String,

    /// Port, when not given in the target
    #[arg(long, short = 'p')]
    pub port: Option<u16>,

    /// Trusted roots (default: the system trust store)
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,

    /// Name sent as SNI and checked against the certificate (default: HOST)
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,

    #[command(flatten)]
    pub resolver: ResolveArgs,

    /// Deadline for each network step
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub proxy: ProxyArgs,

    /// Print every certificate the server sent in PEM, not only the first
    #[arg(long)]
    pub showcerts: bool,

    /// Print only the connection summary and the verdict
    #[arg(long, conflicts_with = "showcerts")]
    pub brief: bool,

    /// After the handshake, check that the protocol answers: MQTT CONNECT/CONNACK, AMQP SASL header, HTTP GET /
    #[arg(long)]
    pub probe: bool,

    /// Present this client certificate (PEM, leaf first) in the handshake, like s_client -cert: a device's X.509 identity
    #[arg(long, value_name = "PATH", requires = "key", value_hint = clap::ValueHint::FilePath)]
    pub cert: Option<PathBuf>,

    /// The private key of --cert, like s_client -key; never printed
    #[arg(long, value_name = "PATH", requires = "cert", value_hint = clap::ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// The protocol spoken on the port, for --probe: mqtt, amqp or https (default: from the port, 5671 amqp, 443 https, else mqtt)
    #[arg(long, value_name = "PROTOCOL", value_parser = parse_protocol)]
    pub protocol: Option<Protocol>,

    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `edgeprobe verify`: `openssl verify`'s options under their kebab-case names (apps/verify.c and
/// the X509_VERIFY_PARAM options of openssl-verification-options(1)). Two defaults differ, as
/// edgeprobe is a TLS tool: the purpose is sslserver (`--purpose none` is `openssl verify`'s
/// default) and the security level is 1 (`-auth_level 1`, what TLS clients run at).
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Trusted certificates (PEM bundle or DER), like `openssl verify -CAfile`; the same as one --trusted
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,

    /// Trusted certificates, like `openssl verify -trusted` (repeatable); with neither this nor --ca-file, the system bundle
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub trusted: Vec<PathBuf>,

    /// Intermediate certificates, as a server would send them (repeatable)
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub untrusted: Vec<PathBuf>,

    /// Also check that the certificate is issued for this host name or IP address (also --verify-hostname, `-verify_hostname`)
    #[arg(long, visible_alias = "verify-hostname", value_name = "NAME")]
    pub hostname: Option<String>,

    /// Also check that the certificate is issued for this IP address (`-verify_ip`)
    #[arg(long, value_name = "IP", conflicts_with = "hostname")]
    pub verify_ip: Option<IpAddr>,

    /// Also check that the certificate is issued for this email address (`-verify_email`)
    #[arg(long, value_name = "EMAIL")]
    pub verify_email: Option<String>,

    /// Verify as of this time instead of now: RFC 3339 (2030-01-01T00:00:00Z) or Unix seconds (also --attime, `-attime`)
    #[arg(long, visible_alias = "attime", value_name = "TIME", value_parser = parse_time)]
    pub at: Option<time::OffsetDateTime>,

    /// Do not check validity periods against the clock (`-no_check_time`); a time given with --at is still judged, as OpenSSL does
    #[arg(long)]
    pub no_check_time: bool,

    /// The purpose to verify for (`-purpose`); sslserver, as TLS clients check, unless told; `none` is `openssl verify`'s default
    #[arg(long, value_enum, default_value_t = VerifyPurpose::SslServer)]
    pub purpose: VerifyPurpose,

    /// OpenSSL security level for keys and signatures: 1 is TLS clients' default, 0 checks none (also --auth-level, `-auth_level`)
    #[arg(long, visible_alias = "auth-level", value_name = "LEVEL", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub security_level: u8,

    /// Accept a chain that ends at a trusted certificate that is not self-signed (`-partial_chain`)
    #[arg(long)]
    pub partial_chain: bool,

    /// At most N CA certificates between the certificate and its trust anchor (`-verify_depth`)
    #[arg(long, value_name = "N")]
    pub verify_depth: Option<usize>,

    /// Apply RFC 5280's profile checks to every certificate (`-x509_strict`)
    #[arg(long)]
    pub x509_strict: bool,

    /// Accept RFC 3820 proxy certificates (`-allow_proxy_certs`)
    #[arg(long)]
    pub allow_proxy_certs: bool,

    /// Also check the signature of a self-signed trust anchor (`-check_ss_sig`)
    #[arg(long)]
    pub check_ss_sig: bool,

    /// The certificate to verify (the first certificate in the file)
    #[arg(value_hint = clap::ValueHint::FilePath)]
    pub certificate: PathBuf,
}

/// `openssl verify -purpose` names (OpenSSL's X509_PURPOSE table, v3_purp.c), and `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyPurpose {
    /// No purpose check: `openssl verify` without -purpose
    None,
    #[value(name = "sslclient")]
    SslClient,
    #[value(name = "sslserver")]
    SslServer,
    #[value(name = "nssslserver")]
    NsSslServer,
    #[value(name = "smimesign")]
    SmimeSign,
    #[value(name = "smimeencrypt")]
    SmimeEncrypt,
    #[value(name = "crlsign")]
    CrlSign,
    Any,
    #[value(name = "ocsphelper")]
    OcspHelper,
    #[value(name = "timestampsign")]
    TimestampSign,
}

impl VerifyPurpose {
    /// The verifier's purpose; `None` checks none.
    pub fn purpose(self) -> Option<crate::pki::verify::Purpose> {
        use crate::pki::verify::Purpose;
        match self {
            VerifyPurpose::None => None,
            VerifyPurpose::SslClient => Some(Purpose::SslClient),
            VerifyPurpose::SslServer => Some(Purpose::SslServer),
            VerifyPurpose::NsSslServer => Some(Purpose::NsSslServer),
            VerifyPurpose::SmimeSign => Some(Purpose::SmimeSign),
            VerifyPurpose::SmimeEncrypt => Some(Purpose::SmimeEncrypt),
            VerifyPurpose::CrlSign => Some(Purpose::CrlSign),
            VerifyPurpose::Any => Some(Purpose::Any),
            VerifyPurpose::OcspHelper => Some(Purpose::OcspHelper),
            VerifyPurpose::TimestampSign => Some(Purpose::TimestampSign),
        }
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Certificate or key files: PEM (bundles too) or DER
    #[arg(required = true, value_hint = clap::ValueHint::FilePath)]
    pub files: Vec<PathBuf>,

    /// For private keys: say whether each key belongs to this certificate
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub cert: Option<PathBuf>,

    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The check id, as shown by `edgeprobe list` (or iotedge check's id for it)
    #[arg(value_parser = CheckIdParser, hide_possible_values = true)]
    pub id: String,
}

/// A check id for `--only`, `--skip` and `explain`: any text (the runner and `explain` name an
/// unknown id and the nearest ones), with every id offered to shell completion.
#[derive(Debug, Clone, Copy)]
pub struct CheckIdParser;

impl clap::builder::TypedValueParser for CheckIdParser {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            crate::checks::iotedge_ids::accepted_ids()
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(millis) = text.strip_suffix("ms") {
        (millis, 0.001)
    } else if let Some(seconds) = text.strip_suffix('s') {
        (seconds, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use e.g. 5s, 1500ms or 2"))?;
    let seconds = value * scale;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("`{text}`: the timeout must be greater than zero"));
    }
    if seconds > 600.0 {
        return Err(format!("`{text}`: the timeout must be at most 600 s"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_time(text: &str) -> Result<time::OffsetDateTime, String> {
    if let Ok(seconds) = text.trim().parse::<i64>() {
        return time::OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|error| format!("`{text}`: {error}"));
    }
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            format!("`{text}` is not a time: use RFC 3339 (2030-01-01T00:00:00Z) or Unix seconds")
        })
}

pub(crate) fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|address| SocketAddr::new(address, 53))
        .map_err(|_| format!("`{text}` is not an IP address with an optional port (e.g. 10.0.0.2 or 10.0.0.2:5353)"))
}

pub(crate) fn parse_resolve(text: &str) -> Result<(String, IpAddr), String> {
    let (name, address) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not NAME:ADDR (e.g. gw.contoso.com:10.0.0.5)"))?;
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err(format!("`{text}`: the name before `:` is empty"));
    }
    let address = address
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map_err(|_| format!("`{text}`: `{address}` is not an IP address"))?;
    Ok((name, address))
}

fn parse_protocol(text: &str) -> Result<Protocol, String> {
    text.trim().parse()
}

/// Like `--port` for probing, but 0 is allowed: the system picks a free port.
fn parse_listen_port(text: &str) -> Result<(Protocol, u16), String> {
    match text.split_once('=') {
        Some((protocol, "0")) => Ok((protocol.trim().parse()?, 0)),
        _ => parse_port(text),
    }
}

fn parse_port(text: &str) -> Result<(Protocol, u16), String> {
    let (protocol, port) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not PROTOCOL=PORT (e.g. mqtt=18883)"))?;
    let protocol: Protocol = protocol.trim().parse()?;
    let port: u16 = port
        .trim()
        .parse()
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| format!("`{port}` is not a port number between 1 and 65535"))?;
    Ok((protocol, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts_parse_and_reject_nonsense() {
        assert_eq!(parse_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_timeout("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
        assert!(parse_timeout("-1s").is_err());
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    #[test]
    fn ports_and_overrides_parse() {
        assert_eq!(parse_port("mqtt=18883"), Ok((Protocol::Mqtt, 18883)));
        assert!(parse_port("mqtt=0").is_err());
        assert!(parse_port("mqtt=70000").is_err());
        assert!(parse_port("ftp=21").is_err());
        assert_eq!(parse_listen_port("amqp=0"), Ok((Protocol::Amqp, 0)));
        assert_eq!(parse_listen_port("https=8443"), Ok((Protocol::Https, 8443)));
        assert!(parse_listen_port("ftp=0").is_err());
        assert_eq!(
            parse_resolve("GW.contoso.com.:10.0.0.5"),
            Ok(("gw.contoso.com".into(), "10.0.0.5".parse().unwrap()))
        );
        assert_eq!(
            parse_resolve("gw:[::1]"),
            Ok(("gw".into(), "::1".parse().unwrap()))
        );
        assert!(parse_resolve("gw.contoso.com").is_err());
        assert_eq!(
            parse_dns_server("127.0.0.1"),
            Ok("127.0.0.1:53".parse().unwrap())
        );
        assert_eq!(
            parse_dns_server("127.0.0.1:5353"),
            Ok("127.0.0.1:5353".parse().unwrap())
        );
    }
}
