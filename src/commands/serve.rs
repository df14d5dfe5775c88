//! `edgeprobe serve`: the demo's simulated gateway as a standalone server, so a technician can
//! validate a leaf's setup (its root CA file, its name resolution, its firewall) before the real
//! gateway exists, with a real chain (`--cert`/`--key`) or a generated demo PKI. Runs until the
//! shutdown future resolves (Ctrl-C or SIGTERM in the binary), then stops every listener.

use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;

use super::AppError;
use crate::cli::ServeArgs;
use crate::connection_string::SharedAccessKey;
use crate::demo::devices::DeviceRegistry;
use crate::demo::scenario::prepare;
use crate::demo::server::{
    DEFAULT_CONNECTION_LIFETIME, DEFAULT_MAX_CONNECTIONS_PER_PORT, SimulatorConfig, start,
};
use crate::net::Protocol;
use crate::pki::describe::describe;
use crate::pki::load::{load_certificates, load_private_key};
use crate::secrets::SecretBytes;

/// What is served, and what to tell the technician about it.
struct Served {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    closed: Vec<Protocol>,
    /// The name leaves should dial, when known.
    gateway_name: Option<String>,
    /// The root CA file written for the leaf, and whether it lives in a directory we made.
    root_ca: Option<(PathBuf, bool)>,
    description: String,
    /// An identity scenario's devices (`--device` and `--device-ca` win).
    devices: Option<DeviceRegistry>,
}

pub async fn run(
    args: ServeArgs,
    out: &mut dyn Write,
    shutdown: impl Future<Output = ()>,
) -> Result<u8, AppError> {
    let served = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => from_files(cert, key)?,
        _ => generated(&args)?,
    };
    let Served {
        chain,
        key,
        closed,
        gateway_name,
        root_ca,
        description,
        devices: scenario_devices,
    } = served;
    let gateway = start(SimulatorConfig {
        bind: args.bind,
        ports: args.ports(),
        chain,
        key,
        closed,
        connection_lifetime: DEFAULT_CONNECTION_LIFETIME,
        // Clients beyond it wait to be accepted; none is turned away (issue 12).
        max_connections_per_port: DEFAULT_MAX_CONNECTIONS_PER_PORT,
        devices: devices(&args)?.or(scenario_devices.map(Arc::new)),
    })
    .await
    .map_err(|error| AppError::Demo(format!("cannot start the simulated gateway: {error}")))?;

    writeln!(out, "edgeprobe serve: {description}")?;
    for protocol in Protocol::ALL {
        let state = if gateway.closed.contains(&protocol) {
            " (closed: nothing listens)"
        } else {
            ""
        };
        writeln!(
            out,
            "{}  {}{state}",
            protocol.display_name(),
            gateway.address(protocol)
        )?;
    }
    if let Some((path, _)) = &root_ca {
        writeln!(out, "root CA for the leaf: {}", path.display())?;
    }
    if !args.device.is_empty() || args.device_ca.is_some() {
        let ids: Vec<&str> = args.device.iter().map(|(id, _)| id.as_str()).collect();
        writeln!(
            out,
            "devices: {}{} (keys not shown); check them with --authenticate",
            if ids.is_empty() {
                "none by key".to_owned()
            } else {
                ids.join(", ")
            },
            args.device_ca
                .as_ref()
                .map(|path| format!(", and certificates issued by {}", path.display()))
                .unwrap_or_default()
        )?;
    }
    if !args.bind.is_loopback() {
        writeln!(
            out,
            "note: listening on {}, reachable from other machines",
            args.bind
        )?;
    }
    writeln!(
        out,
        "try: {}",
        check_command(gateway_name.as_deref(), root_ca.as_ref(), &gateway)
    )?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;

    shutdown.await;
    gateway.shutdown().await;
    if let Some((path, true)) = &root_ca
        && let Some(directory) = path.parent()
    {
        let _ = std::fs::remove_dir_all(directory);
    }
    writeln!(out, "stopped")?;
    Ok(0)
}

/// `--cert`/`--key`: the technician's own chain, loaded with the same precise errors as checks.
/// `--device ID=KEY` and `--device-ca FILE`, or `None` to answer as edgeHub answers anonymous
/// clients.
fn devices(args: &ServeArgs) -> Result<Option<Arc<DeviceRegistry>>, AppError> {
    if args.device.is_empty() && args.device_ca.is_none() {
        return Ok(None);
    }
    let mut registry = DeviceRegistry::default();
    for (id, key) in &args.device {
        let key = SharedAccessKey::from_base64(key.expose_str())
            .map_err(|error| AppError::Usage(format!("--device {id}=...: {error}")))?;
        registry.add(id.clone(), SecretBytes::new(key.expose_secret().to_vec()));
    }
    if let Some(path) = &args.device_ca {
        registry.device_ca =
            load_certificates(path).map_err(|error| AppError::Usage(error.to_string()))?;
    }
    Ok(Some(Arc::new(registry)))
}

fn from_files(cert: &std::path::Path, key: &std::path::Path) -> Result<Served, AppError> {
    let chain = load_certificates(cert).map_err(|error| AppError::Usage(error.to_string()))?;
    let key = load_private_key(key).map_err(|error| AppError::Usage(error.to_string()))?;
    let leaf = chain.first().and_then(|der| describe(der).ok());
    let gateway_name = leaf
        .as_ref()
        .and_then(|leaf| leaf.alt_names.dns_names.first().cloned());
    let subject = leaf
        .as_ref()
        .map(|leaf| format!(", leaf `{}`", leaf.subject))
        .unwrap_or_default();
    Ok(Served {
        description: format!(
            "a simulated IoT Edge gateway presenting {} ({} certificate(s){subject})",
            cert.display(),
            chain.len()
        ),
        chain,
        key,
        closed: Vec::new(),
        gateway_name,
        root_ca: None,
        devices: None,
    })
}

/// No `--cert`: a fresh PKI laid out as IoT Edge's (the demo's), for `--hostname`, staged as
/// `--scenario` says; the root CA the leaf needs is written to a file.
fn generated(args: &ServeArgs) -> Result<Served, AppError> {
    let setup =
        prepare(args.scenario, &args.hostname, OffsetDateTime::now_utc()).map_err(|error| {
            AppError::Usage(format!(
                "cannot generate a PKI for `{}`: {error}",
                args.hostname
            ))
        })?;
    let (path, temporary) = match &args.ca_out {
        Some(path) => (path.clone(), false),
        None => {
            let directory =
                std::env::temp_dir().join(format!("edgeprobe-serve-{}", std::process::id()));
            std::fs::create_dir_all(&directory)
                .map_err(|error| AppError::Usage(format!("{}: {error}", directory.display())))?;
            (directory.join("azure-iot-test-only.root.ca.cert.pem"), true)
        }
    };
    std::fs::write(&path, &setup.root_ca_pem)
        .map_err(|error| AppError::Usage(format!("{}: {error}", path.display())))?;
    Ok(Served {
        description: format!(
            "a simulated IoT Edge gateway `{}`, scenario `{}`: {}",
            args.hostname,
            args.scenario.id(),
            setup.description
        ),
        chain: setup.server_chain,
        key: setup.server_key,
        closed: setup.closed,
        gateway_name: Some(args.hostname.clone()),
        root_ca: Some((path, temporary)),
        devices: setup.identity.map(|identity| identity.devices),
    })
}

/// The `edgeprobe check` a leaf on this machine would run against the simulator.
fn check_command(
    gateway_name: Option<&str>,
    root_ca: Option<&(PathBuf, bool)>,
    gateway: &crate::demo::server::RunningGateway,
) -> String {
    let name = gateway_name.unwrap_or("<gateway name>");
    let address = if gateway.bind.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        gateway.bind
    };
    let mut command = format!("edgeprobe check --gateway {name} --resolve {name}:{address}");
    match root_ca {
        Some((path, _)) => command.push_str(&format!(" --ca-file {}", path.display())),
        None => command.push_str(" --ca-file <root CA file>"),
    }
    for protocol in Protocol::ALL {
        let port = gateway.ports.get(protocol);
        if port != protocol.default_port() {
            command.push_str(&format!(" --port {}={port}", protocol.key()));
        }
    }
    command
}
