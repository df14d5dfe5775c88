//! The servers `bench/run` measures against, on 127.0.0.1 only (benchmarks, not tests):
//!
//! - `bench_server tls DIR`: the gateway simulator serving a freshly generated IoT Edge-style
//!   chain whose server certificate is valid for `*.edgeprobe.test`, so one server stands in
//!   for any number of gateway names. Writes the root CA to `DIR/root.pem`, and the chain it
//!   presents with its key to `DIR/chain.pem` and `DIR/key.pem`, so that real servers
//!   (mosquitto, Qpid Proton, nginx) can present the same chain.
//! - `bench_server silent`: three listeners that accept connections and never send a byte,
//!   like a hung edgeHub.
//!
//! Either prints one line, `mqtt=PORT amqp=PORT https=PORT`, once listening, then serves
//! until killed.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use edgeprobe::demo::pki::{CertificateSpec, GatewayPki, Validity};
use edgeprobe::demo::server::{SimulatorConfig, start};
use edgeprobe::engine::Ports;
use time::OffsetDateTime;
use tokio::net::TcpListener;

/// More than a fleet run at `--concurrency 256` opens on one port at once (a connect and a
/// probe per gateway), so the bench measures edgeprobe, not clients queued for a slot.
const MAX_CONNECTIONS_PER_PORT: usize = 4096;

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let result = match arguments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["tls", directory] => serve_tls(PathBuf::from(directory)).await,
        ["silent"] => serve_silent().await,
        _ => Err("usage: bench_server tls DIR | bench_server silent".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_server: {message}");
            ExitCode::from(2)
        }
    }
}

fn announce(ports: Ports) {
    println!(
        "mqtt={} amqp={} https={}",
        ports.mqtt, ports.amqp, ports.https
    );
}

async fn serve_tls(directory: PathBuf) -> Result<(), String> {
    let now = OffsetDateTime::now_utc();
    let pki = GatewayPki::generate("gateway.edgeprobe.test", now).map_err(|e| e.to_string())?;
    let server = pki
        .issue_from_device_ca(&CertificateSpec::tls_server(
            "*.edgeprobe.test",
            Validity::around(now, 1, 90).map_err(|e| e.to_string())?,
        ))
        .map_err(|e| e.to_string())?;
    for (name, text) in [
        ("root.pem", pki.root_pem()),
        ("chain.pem", pki.full_chain_pem_with(&server)),
        ("key.pem", server.key_pem()),
    ] {
        let path = directory.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut config = SimulatorConfig::loopback(pki.chain_with(&server), server.key_der(), vec![]);
    config.max_connections_per_port = MAX_CONNECTIONS_PER_PORT;
    let gateway = start(config).await.map_err(|e| e.to_string())?;
    announce(gateway.ports);
    std::future::pending::<()>().await;
    Ok(())
}

async fn serve_silent() -> Result<(), String> {
    let mut ports = Vec::new();
    for _ in 0..3 {
        let listener = TcpListener::bind((IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
            .await
            .map_err(|e| e.to_string())?;
        ports.push(listener.local_addr().map_err(|e| e.to_string())?.port());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
    }
    announce(Ports {
        mqtt: ports[0],
        amqp: ports[1],
        https: ports[2],
    });
    std::future::pending::<()>().await;
    Ok(())
}
