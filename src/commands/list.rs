//! `edgeprobe list`: the check catalogue of both suites, like `iotedge check-list`, saying which
//! suite runs each check: `leaf` (`check --gateway ...`), `gateway` (`check` on an IoT Edge
//! device) or `both`.

use std::collections::BTreeSet;
use std::io::Write;

use super::AppError;
use crate::checks::{all_checks, gateway_registry, leaf_registry};
use crate::cli::{ListArgs, OutputFormat};

pub fn run(args: &ListArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let registry = all_checks();
    let leaf: BTreeSet<&str> = leaf_registry().iter().map(|check| check.id()).collect();
    let gateway: BTreeSet<&str> = gateway_registry().iter().map(|check| check.id()).collect();
    let suite = |id: &str| match (leaf.contains(id), gateway.contains(id)) {
        (true, true) => "both",
        (false, true) => "gateway",
        _ => "leaf",
    };
    match args.output {
        OutputFormat::Json => {
            let checks: Vec<_> = registry
                .iter()
                .map(|check| {
                    serde_json::json!({
                        "id": check.id(),
                        "group": check.group().title(),
                        "suite": suite(check.id()),
                        "description": check.description(),
                        "depends_on": check.dependencies().iter().flat_map(|dependency| dependency.ids().iter().copied()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "checks": checks }))
                .map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            let group_width = registry
                .iter()
                .map(|check| check.group().title().len())
                .max()
                .unwrap_or(5)
                .max(5);
            let id_width = registry
                .iter()
                .map(|check| check.id().len())
                .max()
                .unwrap_or(2)
                .max(2);
            writeln!(
                out,
                "{:7}  {:group_width$}  {:id_width$}  DESCRIPTION",
                "SUITE", "GROUP", "ID"
            )?;
            for check in &registry {
                writeln!(
                    out,
                    "{:7}  {:group_width$}  {:id_width$}  {}",
                    suite(check.id()),
                    check.group().title(),
                    check.id(),
                    check.description()
                )?;
            }
        }
    }
    Ok(0)
}
