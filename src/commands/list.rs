//! `edgeprobe list`: the check catalogue of both suites, like `iotedge check-list`, saying which
//! suite runs each check: `leaf` (`check --gateway ...`), `gateway` (`check` on an IoT Edge
//! device) or `both`, and the ids `iotedge check` gives the same checks.

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;

use super::AppError;
use crate::checks::iotedge_ids::iotedge_ids_of;
use crate::checks::{all_checks, gateway_registry, leaf_registry};
use crate::cli::{ListArgs, OutputFormat};
use crate::engine::Group;

/// `list --output json`: `{"checks": [...]}`.
#[derive(Serialize)]
struct Catalogue {
    checks: Vec<ListedCheck>,
}

#[derive(Serialize)]
struct ListedCheck {
    id: &'static str,
    group: Group,
    /// `leaf`, `gateway` or `both`.
    suite: &'static str,
    description: &'static str,
    /// Every check it waits for, in declaration order.
    depends_on: Vec<&'static str>,
    /// The ids `iotedge check` gives the check that does the same (also accepted by `--only`
    /// and `--skip`); empty when iotedge has none.
    iotedge_ids: Vec<&'static str>,
}

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
            let checks = registry
                .iter()
                .map(|check| {
                    let meta = check.meta();
                    ListedCheck {
                        id: meta.id,
                        group: meta.group,
                        suite: suite(meta.id),
                        description: meta.title,
                        depends_on: meta
                            .dependencies
                            .iter()
                            .flat_map(|dependency| dependency.ids().iter().copied())
                            .collect(),
                        iotedge_ids: iotedge_ids_of(meta.id),
                    }
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &Catalogue { checks })
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
                let iotedge = iotedge_ids_of(check.id());
                let iotedge = if iotedge.is_empty() {
                    String::new()
                } else {
                    format!(" [iotedge check: {}]", iotedge.join(", "))
                };
                writeln!(
                    out,
                    "{:7}  {:group_width$}  {:id_width$}  {}{iotedge}",
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
