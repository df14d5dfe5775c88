//! `edgeprobe demo`: the main job on an embedded default. Generates a fresh PKI laid out as
//! the IoT Edge docs do (root -> intermediate -> device CA -> edgeHub server certificate),
//! serves it on loopback as MQTTS, AMQPS and HTTPS, runs the full leaf suite against it and
//! prints the verbose report; `--scenario` shows a broken gateway and its diagnosis.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use time::OffsetDateTime;

use super::{AppError, print_report};
use crate::checks::leaf_registry;
use crate::cli::{DemoArgs, OutputArgs, ReportFormat};
use crate::demo::scenario::prepare;
use crate::demo::server::{SimulatorConfig, start};
use crate::engine::{Context, RunReport, Selection, Status, run_checks};
use crate::host_info::HostInfo;
use crate::report::Target;

/// A name under the `.test` TLD, reserved for testing (RFC 2606); it is only ever mapped to
/// 127.0.0.1 with an override, never looked up.
pub const DEMO_GATEWAY: &str = "gateway.edgeprobe.test";

pub async fn run(args: DemoArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let now = OffsetDateTime::now_utc();
    let setup = prepare(args.scenario, DEMO_GATEWAY, now)
        .map_err(|error| AppError::Demo(error.to_string()))?;
    let mut simulator = SimulatorConfig::loopback(
        setup.server_chain.clone(),
        setup.server_key.clone_key(),
        setup.closed.clone(),
    );
    simulator.devices = setup
        .identity
        .as_ref()
        .map(|identity| std::sync::Arc::new(identity.devices.clone()));
    let gateway = start(simulator)
        .await
        .map_err(|error| AppError::Demo(format!("cannot start the simulated gateway: {error}")))?;

    // The root CA file the technician holds, in a private temporary directory.
    let directory = std::env::temp_dir().join(format!("edgeprobe-demo-{}", std::process::id()));
    std::fs::create_dir_all(&directory)
        .map_err(|error| AppError::Demo(format!("{}: {error}", directory.display())))?;
    let ca_file = directory.join("azure-iot-test-only.root.ca.cert.pem");
    std::fs::write(&ca_file, &setup.root_ca_pem)
        .map_err(|error| AppError::Demo(format!("{}: {error}", ca_file.display())))?;

    let mut context = Context::for_gateway(DEMO_GATEWAY);
    context.leaf.ca_file = Some(ca_file.clone());
    context.leaf.resolve_overrides.insert(
        DEMO_GATEWAY.to_owned(),
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
    );
    context.leaf.ports = gateway.ports;
    context.leaf.timeout = args.timeout;
    context.now = now;
    // The identity scenarios: the leaf authenticates as its device.
    if let Some(identity) = &setup.identity {
        context.connection_string = Some(identity.connection_string.clone());
        context.identity.authenticate = true;
        if let Some((chain, key)) = &identity.certificate {
            let (chain_file, key_file) = (
                directory.join("leaf-01-full-chain.pem"),
                directory.join("leaf-01.key.pem"),
            );
            for (path, text) in [(&chain_file, chain.as_str()), (&key_file, key.expose_str())] {
                std::fs::write(path, text)
                    .map_err(|error| AppError::Demo(format!("{}: {error}", path.display())))?;
            }
            context.identity.certificate = Some(chain_file);
            context.identity.key = Some(key_file);
        }
    }
    let target = Target {
        gateway: Some(DEMO_GATEWAY.to_owned()),
        device_id: setup.identity.as_ref().and_then(|identity| {
            crate::connection_string::parse(identity.connection_string.expose_str())
                .ok()
                .map(|parsed| parsed.address.device_id)
        }),
        connection_string: setup.identity.as_ref().map(|identity| {
            crate::connection_string::redact_connection_string(
                identity.connection_string.expose_str(),
            )
        }),
        ca_file: Some(ca_file.display().to_string()),
        config: None,
        ports: gateway.ports,
    };

    if args.output.output == ReportFormat::Text {
        writeln!(
            out,
            "edgeprobe demo, scenario `{}`: {}",
            args.scenario.id(),
            setup.description
        )?;
        writeln!(
            out,
            "A simulated IoT Edge gateway `{DEMO_GATEWAY}` serves MQTTS on 127.0.0.1:{}, AMQPS on :{}, HTTPS on :{};",
            gateway.ports.mqtt, gateway.ports.amqp, gateway.ports.https
        )?;
        writeln!(
            out,
            "the leaf holds the root CA file {}.",
            ca_file.display()
        )?;
        writeln!(out)?;
    }
    // The leaf is simulated: this machine's own OS trust store is not part of the story.
    let registry: Vec<_> = leaf_registry()
        .into_iter()
        .filter(|check| check.id() != "root-ca-trust-store")
        .collect();
    // The simulator answers MQTT and MQTT over WebSockets as edgeHub does, but has no CBS node:
    // `gateway-auth-amqp` would only find it silent.
    let selection = Selection {
        skip: match setup.identity {
            Some(_) => vec!["gateway-auth-amqp".to_owned()],
            None => Vec::new(),
        },
        ..Selection::default()
    };
    let report = run_checks(&registry, &context, &selection).await;
    gateway.shutdown().await;
    let _ = std::fs::remove_dir_all(&directory);
    let report = report.map_err(|error| AppError::Usage(error.to_string()))?;

    // The demo always shows the verbose report: it is there to be read.
    let output = OutputArgs {
        verbose: true,
        ..args.output
    };
    let host = HostInfo::collect(context.now, &context.root, &report);
    let code = print_report(
        out,
        &report,
        &target,
        &host,
        target.gateway.as_deref(),
        &output,
    )?;
    if output.output == ReportFormat::Text {
        write_verdict(out, &report)?;
    }
    Ok(code)
}

/// The closing lines, as `openssl s_client -verify_hostname` would end: the verdict a
/// technician is told to look for.
fn write_verdict(out: &mut dyn Write, report: &RunReport) -> std::io::Result<()> {
    // The verdict on the first port's chain, from the run's typed evidence.
    let code = report
        .checks
        .iter()
        .flat_map(|check| check.outcome.evidence.ports())
        .find_map(|port| port.verdict.as_ref()?.code())
        .map(|code| (u64::from(code.number()), code.text().to_owned()));
    writeln!(out)?;
    let hostname_failed = report
        .get("gateway-cert-hostname")
        .is_some_and(|check| check.outcome.status == Status::Error);
    match code {
        Some((0, _)) if hostname_failed => {
            writeln!(out, "Verification error: hostname mismatch")?;
            writeln!(out, "Verify return code: 62 (hostname mismatch)")?;
        }
        Some((0, message)) => {
            writeln!(out, "Verification: OK")?;
            writeln!(out, "Verify return code: 0 ({message})")?;
        }
        Some((code, message)) => {
            writeln!(out, "Verification error: {message}")?;
            writeln!(out, "Verify return code: {code} ({message})")?;
        }
        None => writeln!(
            out,
            "Verification: not reached (no TLS handshake completed)"
        )?,
    }
    Ok(())
}
