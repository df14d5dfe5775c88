//! `edgeprobe explain ID`: a check's page from `checks/<id>.md`, compiled into the binary.

use std::io::Write;

use super::AppError;
use crate::checks::{all_checks, explanation};
use crate::cli::ExplainArgs;

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let registry = all_checks();
    match registry.iter().find(|check| check.id() == args.id) {
        Some(check) => {
            match explanation(check.id()) {
                Some(page) => write!(out, "{page}")?,
                None => writeln!(out, "{}: {}", check.id(), check.description())?,
            }
            Ok(0)
        }
        None => {
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
    }
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
