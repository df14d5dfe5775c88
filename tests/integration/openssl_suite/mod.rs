//! OpenSSL's own verify tests as edgeprobe's conformance measure: every case of OpenSSL 3.0's
//! `test/recipes/25-test_verify.t` is run with the real `openssl verify`, exactly as the recipe
//! runs it (`openssl verify -auth_level 1 [-purpose P] opts -trusted F... -untrusted F... cert`),
//! and with `edgeprobe verify` given the same options; the codes must be the same.
//!
//! The recipe and its certificates come from Debian's openssl source package, fetched by
//! `scripts/openssl-test-sources` (which `scripts/test` runs) into the directory named by
//! `EDGEPROBE_OPENSSL_TESTS`. Without it the test skips, except on CI, where it fails.
//!
//! A code is the one `openssl verify` stops at: the last `error N at D depth lookup` line it
//! prints (apps/verify.c's callback prints every error and goes on past the ones it tolerates),
//! 0 for `OK`. The test fails when edgeprobe says OK where OpenSSL does not (a false OK, the
//! worst answer this tool can give), or when a code differs and the case is not a row of the
//! README's "Deliberate differences from OpenSSL 3.0" table. Cases whose options edgeprobe
//! cannot express (certificate policies, SM2 IDs, providers, `-CAstore` URIs) are counted and
//! listed as not runnable.

mod recipe;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use recipe::{Case, Value};

use crate::harness::{Run, edgeprobe};

/// Where `scripts/openssl-test-sources` put the recipe and test/certs.
const TESTS_VARIABLE: &str = "EDGEPROBE_OPENSSL_TESTS";
const RECIPE: &str = "test/recipes/25-test_verify.t";
/// The README heading whose table lists the cases where edgeprobe differs on purpose.
const DIFFERENCES_HEADING: &str = "### Deliberate differences from OpenSSL 3.0";

/// How a run of either tool ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// The code of the last `error N at D depth lookup` line.
    Code(u32),
    /// Failed without printing a verify code (a file it could not load, a usage error): the
    /// first line it printed.
    NoCode(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Ok => write!(formatter, "OK"),
            Verdict::Code(code) => write!(formatter, "{code}"),
            Verdict::NoCode(_) => write!(formatter, "failed"),
        }
    }
}

/// The two command lines of one case, or why edgeprobe cannot run it.
enum Plan {
    Runnable {
        openssl: Vec<String>,
        edgeprobe: Vec<String>,
    },
    NotRunnable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agreement {
    Exact,
    FalseOk,
    Differs,
    NotRunnable,
}

struct Outcome {
    case: Case,
    /// The case's name made unique (the recipe repeats some descriptions): `name #2`.
    id: String,
    agreement: Agreement,
    openssl: Option<Verdict>,
    edgeprobe: Option<Verdict>,
    note: String,
}

impl Outcome {
    /// `` `name` (line 42): openssl 79, edgeprobe 20 (why edgeprobe refused) ``
    fn describe(&self) -> String {
        let show = |verdict: &Option<Verdict>| {
            verdict
                .as_ref()
                .map_or_else(String::new, Verdict::to_string)
        };
        let note = if self.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.note)
        };
        format!(
            "`{}` (line {}): openssl {}, edgeprobe {}{note}",
            self.id,
            self.case.line,
            show(&self.openssl),
            show(&self.edgeprobe)
        )
    }
}

#[test]
fn openssl_suite() {
    let Some(root) = tests_directory() else {
        return;
    };
    let started = Instant::now();
    let source = std::fs::read_to_string(root.join(RECIPE))
        .unwrap_or_else(|error| panic!("{}: {error}", root.join(RECIPE).display()));
    let parsed = recipe::parse(&source, &root);
    assert!(
        parsed.problems.is_empty(),
        "the recipe reader does not understand these calls:\n{}",
        parsed.problems.join("\n")
    );
    assert!(
        parsed.cases.len() > 100,
        "only {} verify cases read from {RECIPE}: has the recipe changed shape?",
        parsed.cases.len()
    );
    if let Some(planned) = parsed.planned {
        assert_eq!(
            parsed.cases.len() + parsed.other_tests.len(),
            planned,
            "the recipe plans {planned} tests but the reader found {} verify cases and {} others: has it changed shape?",
            parsed.cases.len(),
            parsed.other_tests.len()
        );
    }
    let certs = root.join("test/certs");
    let ids = unique_ids(&parsed.cases);
    let differences = readme_differences();

    let outcomes = run_all(&parsed.cases, &ids, &certs);
    let elapsed = started.elapsed();

    let count = |agreement: Agreement| {
        outcomes
            .iter()
            .filter(|outcome| outcome.agreement == agreement)
            .count()
    };
    let runnable = outcomes.len() - count(Agreement::NotRunnable);
    let report = render(&outcomes, &differences);
    let recipe_version = std::fs::read_to_string(root.join("VERSION")).unwrap_or_default();
    eprintln!(
        "\nOpenSSL's verify tests ({} {RECIPE}, {} cases; {} other tests not compared: {}), against {}",
        recipe_version.trim(),
        parsed.cases.len(),
        parsed.other_tests.len(),
        parsed.other_tests.join("; "),
        crate::openssl::version()
    );
    eprintln!("{report}");
    let summary = format!(
        "openssl suite: {}/{runnable} cases give OpenSSL's exact code, {} false OK, {} not runnable ({:.1} s)",
        count(Agreement::Exact),
        count(Agreement::FalseOk),
        count(Agreement::NotRunnable),
        elapsed.as_secs_f64()
    );
    eprintln!("{summary}");

    let mut failures = Vec::new();
    for outcome in &outcomes {
        let listed = differences.get(&outcome.id);
        match (outcome.agreement, listed) {
            (Agreement::FalseOk, Some(_)) => failures.push(format!(
                "FALSE OK: {} (a false OK is never a deliberate difference)",
                outcome.describe()
            )),
            (Agreement::FalseOk, None) => failures.push(format!("FALSE OK: {}", outcome.describe())),
            (Agreement::Differs, None) => failures.push(outcome.describe()),
            (Agreement::Exact, Some(_)) => failures.push(format!(
                "`{}` is listed in README.md's differences but now gives OpenSSL's code: remove the row",
                outcome.id
            )),
            (Agreement::NotRunnable, Some(_)) => failures.push(format!(
                "`{}` is listed in README.md's differences but is not runnable: remove the row",
                outcome.id
            )),
            _ => {}
        }
    }
    for id in differences.keys() {
        if !outcomes.iter().any(|outcome| &outcome.id == id) {
            failures.push(format!(
                "README.md's differences list `{id}`, which is not a case of {RECIPE}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{summary}\n{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The directory holding the recipe and test/certs; `None` (skip) when it is not configured
/// and this is not CI.
fn tests_directory() -> Option<PathBuf> {
    let Some(directory) = std::env::var_os(TESTS_VARIABLE) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{TESTS_VARIABLE} is not set on CI: scripts/test fetches OpenSSL's tests with scripts/openssl-test-sources and sets it"
        );
        eprintln!(
            "openssl suite skipped: set {TESTS_VARIABLE} to the directory `bash scripts/openssl-test-sources` prints (scripts/test does)"
        );
        return None;
    };
    let directory = PathBuf::from(directory);
    assert!(
        directory.join(RECIPE).is_file() && directory.join("test/certs").is_dir(),
        "{TESTS_VARIABLE}={} does not hold {RECIPE} and test/certs/: run scripts/openssl-test-sources",
        directory.display()
    );
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl is missing on CI: scripts/test installs it"
        );
        eprintln!("openssl suite skipped: no openssl command");
        return None;
    }
    Some(directory)
}

/// Each case's name, with ` #2`, ` #3` added to repeats, so that a README row names one case.
fn unique_ids(cases: &[Case]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    cases
        .iter()
        .map(|case| {
            let count = seen.entry(&case.name).or_default();
            *count += 1;
            if *count == 1 {
                case.name.clone()
            } else {
                format!("{} #{count}", case.name)
            }
        })
        .collect()
}

/// README.md's table of deliberate differences: case id -> reason.
fn readme_differences() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let mut lines = readme
        .lines()
        .skip_while(|line| line.trim() != DIFFERENCES_HEADING);
    assert!(
        lines.next().is_some(),
        "README.md has no `{DIFFERENCES_HEADING}` section for the openssl suite"
    );
    let table = lines
        .skip_while(|line| !line.trim_start().starts_with('|'))
        .take_while(|line| line.trim_start().starts_with('|'));
    let mut rows = BTreeMap::new();
    for (index, line) in table.enumerate() {
        // The header and the --- separator.
        if index < 2 {
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let (Some(case), Some(reason)) = (cells.first(), cells.get(1)) else {
            panic!("README.md differences row without a case and a reason: {line}");
        };
        assert!(
            !reason.is_empty(),
            "README.md differences row without a reason: {line}"
        );
        rows.insert(case.trim_matches('`').to_owned(), (*reason).to_owned());
    }
    rows
}

/// Every case, on a few threads (each case is two short processes).
fn run_all(cases: &[Case], ids: &[String], certs: &Path) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..cases.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(2, |count| count.get())
        .clamp(2, 4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(index) else {
                        break;
                    };
                    let outcome = run_case(case, &ids[index], certs);
                    results.lock().expect("no worker panicked")[index] = Some(outcome);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|outcome| outcome.expect("every case ran"))
        .collect()
}

fn run_case(case: &Case, id: &str, certs: &Path) -> Outcome {
    let outcome = |agreement, openssl, edgeprobe, note: String| Outcome {
        case: case.clone(),
        id: id.to_owned(),
        agreement,
        openssl,
        edgeprobe,
        note,
    };
    let (openssl_args, edgeprobe_args) = match plan(case, certs) {
        Plan::Runnable { openssl, edgeprobe } => (openssl, edgeprobe),
        Plan::NotRunnable(reason) => {
            return outcome(Agreement::NotRunnable, None, None, reason);
        }
    };
    let theirs: Run = Command::new("openssl")
        .args(&openssl_args)
        .output()
        .expect("openssl runs")
        .into();
    let ours: Run = edgeprobe()
        .args(&edgeprobe_args)
        .output()
        .expect("edgeprobe runs")
        .into();
    let openssl = verdict(&theirs);
    let mine = verdict(&ours);
    let agreement = match (&openssl, &mine) {
        (a, b) if a == b => Agreement::Exact,
        // Both refused without a code (a file neither could use): the same answer.
        (Verdict::NoCode(_), Verdict::NoCode(_)) => Agreement::Exact,
        (_, Verdict::Ok) => Agreement::FalseOk,
        _ => Agreement::Differs,
    };
    // The reason edgeprobe refused, short: file names without their directory.
    let note = match &mine {
        Verdict::NoCode(line) => {
            let line = line.replace(&format!("{}/", certs.display()), "");
            let line = line.replace("exit 2: edgeprobe: error: ", "");
            match line.char_indices().nth(100) {
                Some((cut, _)) => format!("{}...", &line[..cut]),
                None => line,
            }
        }
        _ => String::new(),
    };
    outcome(agreement, Some(openssl), Some(mine), note)
}

/// The verdict a run printed: OpenSSL's format, which `edgeprobe verify` shares.
fn verdict(run: &Run) -> Verdict {
    let text = run.all();
    let codes: Vec<u32> = text
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix("[CRL path] ").unwrap_or(line);
            let rest = line.strip_prefix("error ")?;
            let (number, rest) = rest.split_once(' ')?;
            rest.starts_with("at ").then(|| number.parse().ok())?
        })
        .collect();
    if let Some(code) = codes.last() {
        return Verdict::Code(*code);
    }
    if run.code == 0 && run.stdout.lines().any(|line| line.ends_with(": OK")) {
        return Verdict::Ok;
    }
    let first = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("(nothing printed)");
    Verdict::NoCode(format!("exit {}: {first}", run.code))
}

/// The recipe's `openssl verify` command line, and edgeprobe's with the same meaning.
fn plan(case: &Case, certs: &Path) -> Plan {
    let file = |value: &Value| -> Result<String, String> {
        value
            .text()
            .map(|name| certs.join(format!("{name}.pem")).display().to_string())
            .ok_or_else(|| {
                format!("the recipe computes a file name this reader cannot evaluate: {value}")
            })
    };
    let text = |value: &Value| -> Result<String, String> {
        value.text().map(str::to_owned).ok_or_else(|| {
            format!("the recipe computes an argument this reader cannot evaluate: {value}")
        })
    };
    let build = || -> Result<(Vec<String>, Vec<String>), String> {
        let purpose = text(&case.purpose)?;
        // The recipe's `verify`: openssl verify -auth_level 1 [-purpose P] opts -trusted... -untrusted... cert
        let mut openssl: Vec<String> = vec!["verify".into(), "-auth_level".into(), "1".into()];
        let mut edgeprobe: Vec<String> = vec!["verify".into()];
        if purpose.is_empty() {
            edgeprobe.extend(["--purpose".into(), "none".into()]);
        } else {
            openssl.extend(["-purpose".into(), purpose.clone()]);
            edgeprobe.extend(["--purpose".into(), purpose]);
        }
        let mut auth_level = "1".to_owned();
        let mut options = case.options.iter();
        while let Some(option) = options.next() {
            let option = text(option)?;
            openssl.push(option.clone());
            let mut value = || -> Result<String, String> {
                let value = text(
                    options
                        .next()
                        .ok_or_else(|| format!("{option} without its value"))?,
                )?;
                openssl.push(value.clone());
                Ok(value)
            };
            match option.as_str() {
                "-partial_chain" => edgeprobe.push("--partial-chain".into()),
                "-x509_strict" => edgeprobe.push("--x509-strict".into()),
                "-allow_proxy_certs" => edgeprobe.push("--allow-proxy-certs".into()),
                "-check_ss_sig" => edgeprobe.push("--check-ss-sig".into()),
                "-no_check_time" => edgeprobe.push("--no-check-time".into()),
                // Later settings win in openssl; edgeprobe takes the flag once.
                "-auth_level" => auth_level = value()?,
                "-verify_depth" => edgeprobe.extend(["--verify-depth".into(), value()?]),
                "-attime" => edgeprobe.extend(["--attime".into(), value()?]),
                "-verify_hostname" => edgeprobe.extend(["--hostname".into(), value()?]),
                "-verify_ip" => edgeprobe.extend(["--verify-ip".into(), value()?]),
                "-verify_email" => edgeprobe.extend(["--verify-email".into(), value()?]),
                "-purpose" => {
                    let purpose = value()?;
                    edgeprobe.extend(["--purpose".into(), purpose]);
                }
                "-CAfile" => edgeprobe.extend(["--ca-file".into(), value()?]),
                "-policy_check" | "-policy" | "-explicit_policy" | "-inhibit_any"
                | "-inhibit_map" => {
                    return Err("certificate policies (-policy_check, -policy, -explicit_policy) are not implemented".into());
                }
                "-vfyopt" => {
                    return Err("-vfyopt (the SM2 distinguishing ID) has no edgeprobe equivalent; ring has no SM2".into());
                }
                "-provider-path" | "-provider" | "-propquery" => {
                    return Err("needs OpenSSL's FIPS provider (-provider-path)".into());
                }
                "-CAstore" | "-CApath" => {
                    return Err(format!(
                        "{option}: edgeprobe reads trusted certificates from files only (no OSSL_STORE URIs or hashed directories)"
                    ));
                }
                "-crl_check" | "-crl_check_all" | "-CRLfile" | "-use_deltas" | "-crl_download" => {
                    return Err("CRLs are not implemented".into());
                }
                other => return Err(format!("{other} has no edgeprobe equivalent")),
            }
        }
        edgeprobe.extend(["--auth-level".into(), auth_level]);
        for trusted in &case.trusted {
            let path = file(trusted)?;
            openssl.extend(["-trusted".into(), path.clone()]);
            edgeprobe.extend(["--trusted".into(), path]);
        }
        for untrusted in &case.untrusted {
            let path = file(untrusted)?;
            openssl.extend(["-untrusted".into(), path.clone()]);
            edgeprobe.extend(["--untrusted".into(), path]);
        }
        let cert = file(&case.cert)?;
        // A file the recipe names but the source package lacks would fail both tools alike.
        for path in openssl
            .iter()
            .chain([&cert])
            .filter(|arg| arg.starts_with(&*certs.to_string_lossy()))
        {
            if !Path::new(path).is_file() {
                let name = path.rsplit('/').next().unwrap_or(path);
                return Err(format!(
                    "the recipe names test/certs/{name}, which the source package does not have (both tools would fail to open it)"
                ));
            }
        }
        openssl.push(cert.clone());
        edgeprobe.push(cert);
        Ok((openssl, edgeprobe))
    };
    match build() {
        Ok((openssl, edgeprobe)) => Plan::Runnable { openssl, edgeprobe },
        Err(reason) => Plan::NotRunnable(reason),
    }
}

/// The table: one row per case, then the not-runnable ones with their reasons.
fn render(outcomes: &[Outcome], differences: &BTreeMap<String, String>) -> String {
    let width = outcomes
        .iter()
        .map(|outcome| outcome.id.len())
        .max()
        .unwrap_or(4)
        .min(72);
    let mut out = format!(
        "{:>4}  {:width$}  {:>7}  {:>9}  result\n",
        "line", "case", "openssl", "edgeprobe"
    );
    for outcome in outcomes {
        if outcome.agreement == Agreement::NotRunnable {
            continue;
        }
        let result = match outcome.agreement {
            Agreement::Exact => "exact".to_owned(),
            Agreement::FalseOk => "FALSE OK".to_owned(),
            Agreement::Differs if differences.contains_key(&outcome.id) => {
                "differs (deliberate, README)".to_owned()
            }
            Agreement::Differs => "DIFFERS".to_owned(),
            Agreement::NotRunnable => unreachable!("filtered above"),
        };
        let recipe_disagrees = outcome
            .openssl
            .as_ref()
            .is_some_and(|verdict| (*verdict == Verdict::Ok) != outcome.case.expect_pass);
        out.push_str(&format!(
            "{:>4}  {:width$}  {:>7}  {:>9}  {result}{}{}\n",
            outcome.case.line,
            outcome.id,
            outcome
                .openssl
                .as_ref()
                .map_or_else(String::new, Verdict::to_string),
            outcome
                .edgeprobe
                .as_ref()
                .map_or_else(String::new, Verdict::to_string),
            if outcome.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", outcome.note)
            },
            if recipe_disagrees {
                " [this openssl disagrees with the recipe's expectation]"
            } else {
                ""
            },
        ));
    }
    out.push_str("not runnable:\n");
    for outcome in outcomes {
        if outcome.agreement == Agreement::NotRunnable {
            let block = outcome
                .case
                .skip_block
                .as_ref()
                .map_or_else(String::new, |message| format!(" [SKIP block: {message}]"));
            out.push_str(&format!(
                "{:>4}  {}: {}{block}\n",
                outcome.case.line, outcome.id, outcome.note
            ));
        }
    }
    out
}
