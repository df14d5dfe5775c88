//! `edgeprobe check`: on a leaf device, the leaf suite against its gateway (`--gateway` or
//! `--connection-string`), or against every gateway of a list (`--targets`, see
//! [`super::fleet`]); on an IoT Edge gateway (no arguments, or `--config`), the gateway suite
//! against its own configuration, certificates, local edgeHub and upstream.

use std::io::Write;
use std::path::Path;

use time::OffsetDateTime;

use super::{AppError, gateway_name, print_report};
use crate::checks::{gateway_registry, leaf_registry};
use crate::cli::CheckArgs;
use crate::config::{self, ConfigError};
use crate::connection_string;
use crate::engine::os_trust_location::TrustEnvironment;
use crate::engine::{
    Check, Context, GATEWAY_EXPIRY_WARNING_DAYS, LeafSettings, Peer, Selection, run_checks,
};
use crate::host_info::HostInfo;
use crate::net::Protocol;
use crate::net::proxy::ProxySettings;
use crate::report::Target;
use crate::system::SystemRoot;

/// The hosts file flag's default; in gateway mode it is read under `--root` like every system file.
const DEFAULT_HOSTS_FILE: &str = "/etc/hosts";

pub async fn run(args: CheckArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    if let Some(targets) = args.targets.clone() {
        return super::fleet::run(args, targets, out).await;
    }
    // clap's `requires` gives way when --gateway is present (it conflicts with --targets).
    if args.concurrency.is_some() {
        return Err(AppError::Usage(
            "--concurrency applies only with --targets FILE (fleet mode)".to_owned(),
        ));
    }
    // Leaf mode is today's behaviour, chosen by naming the gateway; `--config` (or naming
    // nothing at all) means this machine is the gateway.
    let gateway_mode =
        args.config.is_some() || (args.gateway.is_none() && args.connection_string.is_none());
    if gateway_mode {
        run_gateway(args, out).await
    } else {
        run_leaf(args, out).await
    }
}

async fn run_leaf(args: CheckArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let parsed = args
        .connection_string
        .as_ref()
        .map(|raw| connection_string::parse(raw.expose_str()));
    let target = Target {
        gateway: args.gateway.clone().or_else(|| {
            parsed
                .as_ref()?
                .as_ref()
                .ok()?
                .address
                .gateway_host_name
                .clone()
        }),
        device_id: parsed
            .as_ref()
            .and_then(|parsed| parsed.as_ref().ok())
            .map(|parsed| parsed.address.device_id.clone()),
        connection_string: match (&parsed, &args.connection_string) {
            (Some(Ok(parsed)), _) => Some(parsed.to_string()),
            // Not parsed, so not known to be one: keep only the parts known to be public.
            (_, Some(raw)) => Some(connection_string::redact_connection_string(
                raw.expose_str(),
            )),
            _ => None,
        },
        ca_file: args.ca_file.as_ref().map(|path| path.display().to_string()),
        config: None,
        ports: args.network.ports(),
    };
    let selection = selection(&args, &leaf_registry())?;
    let context = Context {
        gateway: args.gateway.clone(),
        connection_string: args.connection_string.clone(),
        root: SystemRoot::new(&args.root),
        gateway_config: args.gateway_config.clone(),
        ntp_server: args.ntp_server.clone(),
        compare_system_resolver: true,
        identity: args.identity.options(),
        asked_ports: asked_ports(&args, &selection, &leaf_registry(), Peer::Gateway),
        sdk_runtimes: Some(crate::sdk_trust::requested(&args.sdk)),
        environment: crate::sdk_trust::Environment::from_process(),
        ..Context::leaf(&leaf_settings(&args)?)
    };
    let report = run_checks(&leaf_registry(), &context, &selection)
        .await
        .map_err(|error| AppError::Usage(error.to_string()))?;
    let host = HostInfo::collect(context.now, &context.root, &report);
    print_report(
        out,
        &report,
        &target,
        &host,
        target.gateway.as_deref(),
        &args.output,
    )
}

async fn run_gateway(args: CheckArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    // Only reachable together with --config (clap already refuses --config with --gateway).
    if args.connection_string.is_some() {
        return Err(AppError::Usage(
            "--connection-string checks from a leaf device; with --config edgeprobe checks the gateway itself and reads the gateway's connection string from its config".to_owned(),
        ));
    }
    if args.identity.authenticate || args.identity.cert.is_some() {
        return Err(AppError::Usage(
            "--authenticate, --cert and --key prove a leaf device's identity through its gateway: give --connection-string (or --gateway) as well".to_owned(),
        ));
    }
    if !args.sdk.is_empty() {
        return Err(AppError::Usage(
            "--sdk checks the SDK runtimes of a leaf device and needs --gateway or --connection-string".to_owned(),
        ));
    }
    if args.gateway_config.is_some() {
        return Err(AppError::Usage(
            "--gateway-config cross-checks from a leaf device and needs --gateway or --connection-string; on the gateway itself, use --config".to_owned(),
        ));
    }
    let root = SystemRoot::new(&args.root);
    let located = match config::locate(&root, args.config.as_deref()) {
        Ok(located) => located,
        // No IoT Edge here and no gateway named: most likely a leaf device run without
        // arguments, so say how to name the gateway rather than report a broken gateway.
        Err(ConfigError::NotFound { tried }) => {
            return Err(AppError::Usage(format!(
                "no IoT Edge config here ({}): on a leaf device, name the gateway with --gateway <gateway FQDN> or --connection-string; on a gateway, run with sudo or pass the config with --config",
                tried
                    .iter()
                    .map(|path| path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Err(error) => return Err(AppError::Usage(error.to_string())),
    };
    let target = Target {
        gateway: None,
        device_id: None,
        connection_string: None,
        ca_file: args.ca_file.as_ref().map(|path| path.display().to_string()),
        config: Some(located.path.display().to_string()),
        ports: args.network.ports(),
    };
    let hosts_file = if args.network.resolver.hosts_file == Path::new(DEFAULT_HOSTS_FILE) {
        root.path(DEFAULT_HOSTS_FILE)
    } else {
        args.network.resolver.hosts_file.clone()
    };
    let selection = selection(&args, &gateway_registry())?;
    let machine_hostname = root.machine_hostname().ok();
    let config_path = located.path.clone();
    let mut context = Context::for_config(root, located);
    context.leaf.ca_file = args.ca_file.clone();
    context.leaf.hosts_file = hosts_file;
    context.leaf.dns_server = args.network.resolver.dns_server;
    context.leaf.resolve_overrides = args.network.resolver.overrides();
    context.leaf.ports = args.network.ports();
    context.gateway_mode.parent_ports = args.network.parent_ports();
    context.gateway_mode.iothub_ports = args.network.iothub_ports();
    context.leaf.timeout = args.network.timeout;
    context.leaf.expiry_warning_days = args
        .expiry_warning_days
        .unwrap_or(GATEWAY_EXPIRY_WARNING_DAYS);
    context.gateway_mode.iothub_hostname = args.iothub_hostname.clone();
    context.leaf.trust_environment = TrustEnvironment::from_process();
    // The shell's https_proxy is not edgeHub's: the upstream checks read the config's.
    context.leaf.proxy = proxy_settings(&args, false)?;
    context.asked_ports = asked_ports(&args, &selection, &gateway_registry(), Peer::EdgeHub);
    context.gateway_mode.nested.top_layer = args.nested.top_layer;
    context.gateway_mode.nested.registry_port = args.nested.registry_port;
    context.now = OffsetDateTime::now_utc();
    let report = run_checks(&gateway_registry(), &context, &selection)
        .await
        .map_err(|error| AppError::Usage(error.to_string()))?;
    let host = HostInfo::collect(context.now, &context.root, &report);
    let name = gateway_name(&report, machine_hostname, &config_path);
    print_report(out, &report, &target, &host, Some(&name), &args.output)
}

/// `--only` and `--skip` in `registry`'s ids (iotedge's ids translated), or the usage error.
pub(super) fn selection(
    args: &CheckArgs,
    registry: &[Box<dyn Check>],
) -> Result<Selection, AppError> {
    Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    }
    .resolve(registry)
    .map_err(|error| AppError::Usage(error.to_string()))
}

/// The leaf settings of `check`'s command line (one gateway, or every target of a fleet).
pub(super) fn leaf_settings(args: &CheckArgs) -> Result<LeafSettings, AppError> {
    super::leaf_settings(
        &args.network,
        args.ca_file.as_deref(),
        args.expiry_warning_days,
        args.websocket,
    )
}

/// `--proxy`/`--noproxy` and, with `read_environment`, `https_proxy`/`no_proxy`.
pub(super) fn proxy_settings(
    args: &CheckArgs,
    read_environment: bool,
) -> Result<ProxySettings, AppError> {
    args.network
        .proxy
        .settings(read_environment)
        .map_err(|error| AppError::Usage(error.to_string()))
}

/// The ports named on the command line: by `--port` (whose ports are `local`'s: the gateway's
/// on a leaf, edgeHub's on a gateway), `--parent-port`, `--iothub-port`, or `--only` naming a
/// port's check (`selection`, resolved).
pub(super) fn asked_ports(
    args: &CheckArgs,
    selection: &Selection,
    registry: &[Box<dyn Check>],
    local: Peer,
) -> Vec<(Peer, Protocol)> {
    let network = &args.network;
    let flags = [
        (local, &network.port),
        (Peer::Parent, &network.parent_port),
        (Peer::IotHub, &network.iothub_port),
    ];
    let mut asked: Vec<(Peer, Protocol)> = flags
        .into_iter()
        .flat_map(|(peer, ports)| ports.iter().map(move |(protocol, _)| (peer, *protocol)))
        .collect();
    let context = Context::default();
    asked.extend(
        registry
            .iter()
            .filter(|check| selection.only.iter().any(|id| id == check.id()))
            .filter_map(|check| check.port(&context))
            .map(|port| (port.peer, port.protocol)),
    );
    asked
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};
    use crate::engine::Context;

    /// Decodes to "secret-key-do:not-print".
    const KEY: &str = "c2VjcmV0LWtleS1kbzpub3QtcHJpbnQ=";

    /// Issue #12: `Context` and `CheckArgs` derived `Debug` over the raw connection string.
    #[test]
    fn debug_of_the_arguments_and_the_context_never_shows_the_key() {
        let raw = format!("HostName=h;DeviceId=d;SharedAccessKey={KEY};GatewayHostName=gw");
        let cli = Cli::try_parse_from(["edgeprobe", "check", "--connection-string", &raw])
            .expect("parses");
        let Command::Check(args) = &cli.command else {
            panic!("not check: {cli:?}");
        };
        let context = Context {
            connection_string: args.connection_string.clone(),
            ..Context::default()
        };
        assert_eq!(
            context
                .connection_string
                .as_ref()
                .map(|secret| secret.expose_str()),
            Some(raw.as_str()),
            "the value itself is kept for the check"
        );
        for shown in [
            format!("{cli:?}"),
            format!("{args:#?}"),
            format!("{context:?}"),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(!shown.contains("HostName=h"), "{shown}");
            let compact: String = shown.split_whitespace().collect();
            assert!(
                compact.contains("connection_string:Some(<redacted>"),
                "{shown}"
            );
        }
    }
}
