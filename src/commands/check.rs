//! `edgeprobe check`: the leaf-device suite against a gateway (or, with `--targets`, against
//! every gateway of a list: see [`super::fleet`]).

use std::io::Write;

use time::OffsetDateTime;

use super::{AppError, print_report};
use crate::checks::leaf_registry;
use crate::cli::CheckArgs;
use crate::connection_string;
use crate::engine::{Context, Selection, Shared, run_checks};
use crate::report::Target;

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
    if args.gateway.is_none() && args.connection_string.is_none() {
        return Err(AppError::Usage(
            "name the gateway: --gateway <gateway FQDN>, or --connection-string with GatewayHostName=<gateway FQDN>, or list gateways with --targets FILE".to_owned(),
        ));
    }
    let parsed = args
        .connection_string
        .as_deref()
        .map(connection_string::parse);
    let target = Target {
        gateway: args
            .gateway
            .clone()
            .or_else(|| parsed.as_ref()?.as_ref().ok()?.gateway_host_name.clone()),
        device_id: parsed
            .as_ref()
            .and_then(|parsed| parsed.as_ref().ok())
            .map(|parsed| parsed.device_id.clone()),
        connection_string: match (&parsed, &args.connection_string) {
            (Some(Ok(parsed)), _) => Some(parsed.to_string()),
            (_, Some(raw)) => Some(connection_string::redact(raw)),
            _ => None,
        },
        ca_file: args.ca_file.as_ref().map(|path| path.display().to_string()),
        ports: args.network.ports(),
    };
    let context = Context {
        gateway: args.gateway.clone(),
        connection_string: args.connection_string.clone(),
        ca_file: args.ca_file.clone(),
        hosts_file: args.network.hosts_file.clone(),
        dns_server: args.network.dns_server,
        resolve_overrides: args.network.resolve_overrides(),
        ports: args.network.ports(),
        timeout: args.network.timeout,
        expiry_warning_days: args.expiry_warning_days,
        now: OffsetDateTime::now_utc(),
        shared: Shared::default(),
    };
    let selection = Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    let report = run_checks(&leaf_registry(), &context, &selection)
        .await
        .map_err(|error| AppError::Usage(error.to_string()))?;
    print_report(out, &report, &target, &args.output)
}
