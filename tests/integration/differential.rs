//! Differential test of `edgeprobe verify` against the real `openssl verify` over the forged
//! chains of [`crate::forged_chains`]: edgeprobe must never say OK where OpenSSL 3.0 does not
//! (the defect where unknown, mismatched or unverifiable signature algorithms passed), and
//! should end on the same `error N at D depth lookup` line.
//!
//! Each case runs `openssl verify -auth_level L [-purpose sslserver] -attime T -trusted root
//! -untrusted intermediate leaf` next to `edgeprobe verify --ca-file root --untrusted
//! intermediate --security-level L [--purpose any] --at T leaf`. Chains whose digests or keys
//! are too weak for level 1 (MD5, SHA-1, RSA under 1024 bits) are forged at level 0, where
//! OpenSSL still checks their signatures: at level 1 x509_vfy.c `check_auth_level` stops at
//! 66/67/68 before `internal_verify` looks at any signature. Their unforged chain also runs at
//! level 1.
//!
//! `EDGEPROBE_KEEP_DIFFERENTIAL=1` keeps the generated files of a failed run for debugging.

use std::fmt;
use std::path::Path;
use std::process::Command;

use crate::forged_chains::{Case, Forged, Generated, generate, parallel_map};
use crate::harness::{edgeprobe, fixture};

/// Code mismatches accepted on purpose, as (substring of the case name, reason). A false OK is
/// never accepted, whatever this list says; an entry that no longer matches any mismatch fails
/// the test, so the list cannot outlive the difference it excuses.
///
/// Empty: every difference from OpenSSL 3.0 found so far is a defect to fix, not a choice.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// A tool's verdict on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// The last `error N at D depth lookup` line: (N, D).
    Failed {
        code: u32,
        depth: usize,
    },
    /// Neither OK nor an error line: the files could not be loaded.
    Unreadable,
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ok => write!(formatter, "OK"),
            Verdict::Failed { code, depth } => write!(formatter, "{code} at depth {depth}"),
            Verdict::Unreadable => write!(formatter, "no verdict (unreadable input)"),
        }
    }
}

/// What one tool printed and how it exited.
struct Outcome {
    verdict: Verdict,
    exit: i32,
    text: String,
}

impl Outcome {
    fn read(output: std::process::Output, leaf: &Path) -> Outcome {
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let ok_line = format!("{}: OK", leaf.display());
        let verdict =
            if text.lines().any(|line| line == ok_line) {
                Verdict::Ok
            } else {
                text.lines().rev().find_map(error_line).map_or(
                    Verdict::Unreadable,
                    |(code, depth)| Verdict::Failed { code, depth },
                )
            };
        Outcome {
            verdict,
            exit: output.status.code().unwrap_or(-1),
            text,
        }
    }
}

/// `error N at D depth lookup: ...` as (N, D).
fn error_line(line: &str) -> Option<(u32, usize)> {
    let mut words = line.strip_prefix("error ")?.split_whitespace();
    let code = words.next()?.parse().ok()?;
    (words.next()? == "at").then_some(())?;
    let depth = words.next()?.parse().ok()?;
    (words.next()? == "depth").then_some((code, depth))
}

fn openssl_verify(case: &Case, at: i64) -> Outcome {
    let mut command = Command::new("openssl");
    command.args(["verify", "-auth_level", &case.level.to_string()]);
    if case.purpose {
        command.args(["-purpose", "sslserver"]);
    }
    command.args(["-attime", &at.to_string()]);
    // -trusted: only these roots, not the system's (apps/verify.c sets -no-CApath/-no-CAstore).
    command.arg("-trusted").arg(&case.root);
    command.arg("-untrusted").arg(&case.untrusted);
    command.arg(&case.leaf);
    let output = command.output().expect("openssl verify runs");
    let outcome = Outcome::read(output, &case.leaf);
    // apps/verify.c exits 0 for OK and 2 for anything else.
    let ok = outcome.verdict == Verdict::Ok;
    assert_eq!(
        outcome.exit == 0,
        ok,
        "openssl verify's exit status disagrees with its output for {case}:\n{}",
        outcome.text
    );
    outcome
}

fn edgeprobe_verify(case: &Case, at: i64) -> Outcome {
    let mut command = edgeprobe();
    command.arg("verify").arg("--ca-file").arg(&case.root);
    command.arg("--untrusted").arg(&case.untrusted);
    command.args(["--security-level", &case.level.to_string()]);
    if !case.purpose {
        command.args(["--purpose", "any"]);
    }
    command.args(["--at", &at.to_string()]);
    command.arg(&case.leaf);
    Outcome::read(command.output().expect("edgeprobe verify runs"), &case.leaf)
}

/// What is wrong with edgeprobe's output whatever OpenSSL said: panics, key material, an
/// exit status that contradicts the verdict (0 OK, 1 failed, 2 only for unusable input).
fn contract_violations(ours: &Outcome, theirs: &Outcome) -> Vec<String> {
    let mut violations = Vec::new();
    for forbidden in [
        "panicked",
        "stack backtrace",
        "RUST_BACKTRACE",
        "PRIVATE KEY",
    ] {
        if ours.text.contains(forbidden) {
            violations.push(format!("output contains `{forbidden}`"));
        }
    }
    let expected_exit = match (&ours.verdict, &theirs.verdict) {
        (Verdict::Ok, _) => 0,
        (Verdict::Failed { .. }, _) => 1,
        // A file openssl loads is not a usage error.
        (Verdict::Unreadable, Verdict::Unreadable) => 2,
        (Verdict::Unreadable, _) => 1,
    };
    if ours.exit != expected_exit {
        violations.push(format!(
            "exit status {} for {} (expected {expected_exit})",
            ours.exit, ours.verdict
        ));
    }
    violations
}

#[test]
fn edgeprobe_never_says_ok_where_openssl_refuses_a_forged_certificate() {
    let Generated {
        directory,
        cases,
        at,
    } = generate();
    let outcomes = parallel_map(&cases, |case| {
        (openssl_verify(case, at), edgeprobe_verify(case, at))
    });

    let mut generator_problems = Vec::new();
    let mut false_oks = Vec::new();
    let mut mismatches = Vec::new();
    let mut contract = Vec::new();
    let mut known_used = vec![false; KNOWN_DIFFERENCES.len()];
    let mut exact = 0;
    for (case, (theirs, ours)) in cases.iter().zip(&outcomes) {
        // An unforged chain that OpenSSL refuses at its own level is a generator bug, and
        // would make every forgery of it prove nothing.
        let expected = case
            .chain
            .refused
            .map_or(Verdict::Ok, |(code, depth)| Verdict::Failed { code, depth });
        if matches!(case.forged, Forged::Nothing)
            && case.level == case.chain.level
            && theirs.verdict != expected
        {
            generator_problems.push(format!(
                "{case}: openssl says {}\n{}",
                theirs.verdict, theirs.text
            ));
        }
        for violation in contract_violations(ours, theirs) {
            contract.push(format!("{case}: {violation}"));
        }
        let line = format!(
            "{case} -> openssl {}, edgeprobe {}",
            theirs.verdict, ours.verdict
        );
        if ours.verdict == theirs.verdict {
            exact += 1;
        } else if ours.verdict == Verdict::Ok {
            false_oks.push((line, case, theirs, ours));
        } else {
            let name = case.to_string();
            match KNOWN_DIFFERENCES
                .iter()
                .position(|(pattern, _)| name.contains(pattern))
            {
                Some(index) => known_used[index] = true,
                None => mismatches.push(line),
            }
        }
    }
    assert!(
        generator_problems.is_empty(),
        "unforged chains OpenSSL does not judge as the table says (fix the generator):\n{}",
        generator_problems.join("\n")
    );
    let stale: Vec<String> = KNOWN_DIFFERENCES
        .iter()
        .zip(&known_used)
        .filter(|(_, used)| !**used)
        .map(|((pattern, reason), _)| format!("`{pattern}` ({reason})"))
        .collect();

    let summary = format!(
        "differential: {} cases, {exact} exact, {} false OK",
        cases.len(),
        false_oks.len(),
    );
    let details = format!(
        "differential: {} code mismatches, {} known differences, {} contract violations",
        mismatches.len(),
        known_used.iter().filter(|used| **used).count(),
        contract.len(),
    );
    eprintln!("{summary}\n{details}");
    let mut report = vec![summary, details];
    if !false_oks.is_empty() {
        report.push("FALSE OK (edgeprobe said OK where openssl refused):".into());
        report.extend(false_oks.iter().map(|(line, ..)| format!("  {line}")));
    }
    if !mismatches.is_empty() {
        report.push("CODE MISMATCHES:".into());
        report.extend(mismatches.iter().map(|line| format!("  {line}")));
    }
    if !contract.is_empty() {
        report.push("CONTRACT VIOLATIONS:".into());
        report.extend(contract.iter().map(|line| format!("  {line}")));
    }
    if !stale.is_empty() {
        report.push("KNOWN_DIFFERENCES entries that match nothing any more (remove them):".into());
        report.extend(stale.iter().map(|line| format!("  {line}")));
    }
    // The first false OK in full, to start debugging from.
    if let Some((line, case, theirs, ours)) = false_oks.first() {
        report.push(format!(
            "first false OK: {line}\n  files: {} {} {}\n--- openssl:\n{}--- edgeprobe:\n{}",
            case.root.display(),
            case.untrusted.display(),
            case.leaf.display(),
            theirs.text,
            ours.text,
        ));
    }
    let failed =
        !(false_oks.is_empty() && mismatches.is_empty() && contract.is_empty() && stale.is_empty());
    if failed {
        // The files go with the temporary directory unless asked for.
        if std::env::var_os("EDGEPROBE_KEEP_DIFFERENTIAL").is_some() {
            report.push(format!("files kept in {}", directory.keep().display()));
        } else {
            report.push("set EDGEPROBE_KEEP_DIFFERENTIAL=1 to keep the files".into());
        }
    }
    assert!(!failed, "{}", report.join("\n"));
}

/// `-attime` wins over `-no_check_time` in OpenSSL (x509_vfy.c uses a set check time before it
/// looks at the no-check flag); without `-attime`, `-no_check_time` accepts an expired chain.
#[test]
fn a_given_time_is_judged_even_with_no_check_time_as_openssl_does() {
    let (root, chain, leaf) = (
        fixture("root-ca.pem"),
        fixture("expired-server-full-chain.pem"),
        fixture("expired-server.pem"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
        .to_string();
    for attime in [Some(now.as_str()), None] {
        let mut theirs = Command::new("openssl");
        theirs
            .args(["verify", "-no_check_time", "-CAfile"])
            .arg(&root);
        theirs.arg("-untrusted").arg(&chain);
        let mut ours = edgeprobe();
        ours.args(["verify", "--no-check-time", "--ca-file"])
            .arg(&root);
        ours.arg("--untrusted").arg(&chain);
        if let Some(at) = attime {
            theirs.args(["-attime", at]);
            ours.args(["--at", at]);
        }
        let theirs = Outcome::read(theirs.arg(&leaf).output().expect("openssl runs"), &leaf);
        let ours = Outcome::read(ours.arg(&leaf).output().expect("edgeprobe runs"), &leaf);
        let expected = match attime {
            Some(_) => Verdict::Failed { code: 10, depth: 0 },
            None => Verdict::Ok,
        };
        assert_eq!(
            theirs.verdict, expected,
            "openssl, -attime {attime:?}:\n{}",
            theirs.text
        );
        assert_eq!(
            ours.verdict, expected,
            "edgeprobe, --at {attime:?}:\n{}",
            ours.text
        );
    }
}
