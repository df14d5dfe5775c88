//! `edgeprobe explain ID`: a check's page from `checks/<id>.md`, compiled into the binary. ID
//! may also be `iotedge check`'s id for the same check (`explain certificates-quickstart`).

use std::io::Write;

use super::AppError;
use crate::checks::iotedge_ids::{self, Resolved, iotedge_ids_of};
use crate::checks::{all_checks, explanation};
use crate::cli::ExplainArgs;

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let registry = all_checks();
    let named = match iotedge_ids::resolve(&args.id, &registry) {
        Resolved::Edgeprobe(id) => vec![id],
        Resolved::Iotedge(ids) => {
            writeln!(
                out,
                "`{}` is iotedge check's id; edgeprobe's check is {}.\n",
                args.id,
                ids.iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )?;
            ids
        }
        // `registry` holds both suites, so every counterpart is in it.
        Resolved::OtherSuite(_) | Resolved::Unknown => Vec::new(),
    };
    let checks: Vec<_> = named
        .iter()
        .filter_map(|id| registry.iter().find(|check| check.id() == *id))
        .collect();
    if !checks.is_empty() {
        for check in checks {
            match explanation(check.id()) {
                Some(page) => write!(out, "{page}")?,
                None => writeln!(out, "{}: {}", check.id(), check.description())?,
            }
            let iotedge = iotedge_ids_of(check.id());
            if !iotedge.is_empty() {
                writeln!(
                    out,
                    "\n`iotedge check` calls this check {} (accepted by --only and --skip).",
                    iotedge.join(", ")
                )?;
            }
        }
        return Ok(0);
    }
    let ids: Vec<&str> = registry.iter().map(|check| check.id()).collect();
    let mut nearest: Vec<(usize, &str)> = ids
        .iter()
        .map(|id| (edit_distance(&args.id, id), *id))
        .collect();
    nearest.sort();
    let suggestions: Vec<&str> = nearest.iter().take(3).map(|(_, id)| *id).collect();
    Err(AppError::Usage(format!(
        "unknown check id `{}`; did you mean {}? (`edgeprobe list` shows all)",
        args.id,
        suggestions.join(", ")
    )))
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}
