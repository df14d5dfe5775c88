//! The conventions of the tools users know (issue 17): `iotedge check`'s ids accepted and
//! named beside edgeprobe's.

use crate::gateway_mode::{Tree, assert_result, check_args_report, check_config_report};
use crate::harness::{check_loopback, fixture, position_of, run};

/// `--only` and `--dont-run` take iotedge's ids and mean edgeprobe's checks that do the same.
#[tokio::test(flavor = "multi_thread")]
async fn iotedge_ids_select_and_exclude_the_same_checks() {
    let tree = Tree::top_layer();
    let only = check_args_report(&tree, &["--only", "aziot-edged-config-well-formed"]).await;
    assert_eq!(
        only.checks.keys().collect::<Vec<_>>(),
        ["config-well-formed"]
    );
    assert_result(&only, "config-well-formed", "ok");

    let excluded = check_config_report(&tree, &["--dont-run", "certificates-quickstart"]).await;
    assert_result(&excluded, "certificates-configured", "ignored");
    assert!(!excluded.checks.contains_key("certificates-quickstart"));
    // Its dependents say which check was excluded, by edgeprobe's id.
    assert!(
        crate::gateway_mode::message(&excluded, "device-ca-chain")
            .contains("`certificates-configured` was excluded"),
        "{:?}",
        excluded.check("device-ca-chain")
    );
}

/// An iotedge id whose counterpart runs in the other suite is a usage error that says so.
#[test]
fn an_iotedge_id_of_the_other_suite_is_a_usage_error_naming_the_counterpart() {
    let output = run(&[
        "check",
        "--gateway",
        "gw.edgeprobe.test",
        "--only",
        "certificates-quickstart",
    ]);
    assert_eq!(output.code, 2, "{}", output.all());
    assert!(
        output.stderr.contains("certificates-configured") && output.stderr.contains("iotedge"),
        "{}",
        output.stderr
    );
}

/// `list` names iotedge's ids beside edgeprobe's; `explain` takes either.
#[test]
fn list_and_explain_name_iotedge_ids() {
    let list = run(&["list"]);
    let line = list
        .stdout
        .lines()
        .find(|line| line.contains(" config-well-formed "))
        .expect("config-well-formed listed");
    assert!(
        line.ends_with("[iotedge check: config-yaml-well-formed, aziot-edged-config-well-formed]"),
        "{line}"
    );
    // `list -o json`'s `iotedge_ids` are tested with the rest of the catalogue (docs.rs).
    let by_iotedge = run(&["explain", "certificates-quickstart"]);
    assert_eq!(by_iotedge.code, 0, "{}", by_iotedge.all());
    assert!(
        by_iotedge.stdout.starts_with(
            "`certificates-quickstart` is iotedge check's id; edgeprobe's check is `certificates-configured`."
        ) && by_iotedge.stdout.contains("# certificates-configured"),
        "{}",
        by_iotedge.stdout
    );
    let by_edgeprobe = run(&["explain", "device-ca-key-match"]);
    assert!(
        by_edgeprobe
            .stdout
            .contains("`iotedge check` calls this check certs-match-private-keys"),
        "{}",
        by_edgeprobe.stdout
    );
}

/// The top-level `additional_info` is iotedge's: `now` and `os` (from the tree's os-release
/// under `--root`), with edgeprobe's version and the IoT Edge version the config names.
#[tokio::test(flavor = "multi_thread")]
async fn top_level_additional_info_names_the_os_and_the_iot_edge_version() {
    let tree = Tree::top_layer();
    tree.write(
        "/etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n",
    );
    let gateway = check_args_report(&tree, &["--only", "config-well-formed"]).await;
    let info = &gateway.additional_info;
    assert_eq!(info.os.id.as_deref(), Some("debian"));
    assert_eq!(info.os.version_id.as_deref(), Some("12"));
    // fixtures/gateway/config/top-layer.toml: mcr.microsoft.com/azureiotedge-agent:1.5
    assert_eq!(info.iot_edge_version.as_deref(), Some("1.5"));

    tree.remove("/etc/os-release");
    let unknown = check_args_report(&tree, &["--only", "config-well-formed"]).await;
    assert_eq!(
        unknown.additional_info.os.id, None,
        "not known, not guessed"
    );

    let leaf = run(&[
        "check",
        "--gateway",
        "gw.edgeprobe.test",
        "--only",
        "gateway-hostname",
        "--output",
        "json",
    ])
    .json();
    assert_eq!(leaf.additional_info.iot_edge_version, None);
}

/// Completion scripts offer the check ids (edgeprobe's and iotedge's) for `--only`, `--skip`
/// and `explain`, and files or directories where a path is expected.
#[test]
fn completions_offer_check_ids_and_paths() {
    let script = |shell: &str| {
        let output = run(&["completions", shell]);
        assert_eq!(output.code, 0, "{shell}: {}", output.stderr);
        output.stdout
    };
    for shell in ["bash", "zsh", "fish"] {
        let text = script(shell);
        for id in [
            "gateway-cert-chain",
            "certificates-quickstart",
            "device-ca-key-match",
        ] {
            assert!(text.contains(id), "{shell} does not offer {id}");
        }
    }
    let zsh = script("zsh");
    // One option per line; a repeatable one is `*--only=[...]`, its values after the text.
    assert_entry(&zsh, "'--ca-file=[", "\n", ":_files'");
    assert_entry(&zsh, "'--root=[", "\n", ":_files -/'");
    assert_entry(&zsh, "--only=[", "\n", "gateway-cert-chain");
    // One `complete` command per option; a value list spans lines.
    let fish = script("fish");
    assert_entry(&fish, "-l ca-file", "\ncomplete ", "-F");
    assert_entry(&fish, "-l skip", "\ncomplete ", "certificates-quickstart");
}

/// The first entry of `script` that starts at `needle` (up to `end`) contains `expected`.
fn assert_entry(script: &str, needle: &str, end: &str, expected: &str) {
    let start = position_of(script, needle);
    let rest = &script[start..];
    let entry = &rest[..rest.find(end).unwrap_or(rest.len())];
    assert!(
        entry.contains(expected),
        "{needle}: no {expected} in {entry}"
    );
}

/// `check --help` groups its options by mode and ends with examples; `-h` stays short.
#[test]
fn check_help_is_grouped_with_examples_and_short_help_is_short() {
    let long = run(&["check", "--help"]);
    assert_eq!(long.code, 0, "{}", long.stderr);
    let mut last = 0;
    for heading in [
        "Leaf device (--gateway or --connection-string):",
        "Fleet (many gateways):",
        "Gateway (on the IoT Edge device):",
        "Network:",
        "Authentication (leaf, opt-in):",
        "Checks and output:",
        "Examples:",
    ] {
        let at = position_of(&long.stdout, heading);
        assert!(at > last, "{heading} out of order:\n{}", long.stdout);
        last = at;
    }
    // Each option under its heading: --hosts-file under Network, --cert under Authentication.
    // A section runs to the next heading (a line that is not indented).
    let section = |heading: &str| {
        let start = long.stdout.find(heading).expect("heading");
        let rest = &long.stdout[start + heading.len()..];
        let end = rest
            .match_indices("\n\n")
            .map(|(at, _)| at)
            .find(|at| rest[at + 2..].starts_with(|first: char| !first.is_whitespace()))
            .unwrap_or(rest.len());
        rest[..end].to_owned()
    };
    assert!(section("Network:").contains("--hosts-file"));
    assert!(section("Authentication (leaf, opt-in):").contains("--cert"));
    assert!(section("Checks and output:").contains("--dont-run"));
    assert!(section("Gateway (on the IoT Edge device):").contains("--top-layer"));

    // Every example command is on one line, to be copied.
    let examples = &long.stdout[long.stdout.find("Examples:").expect("examples")..];
    for line in examples.lines().skip(1) {
        assert!(
            !line.starts_with("    ")
                || line.starts_with("    edgeprobe ")
                || line.starts_with("    sudo edgeprobe"),
            "a wrapped example: {line}"
        );
    }

    let short = run(&["check", "-h"]);
    assert_eq!(short.code, 0, "{}", short.stderr);
    assert!(short.stdout.contains("Network:"), "{}", short.stdout);
    assert!(!short.stdout.contains("Examples:"), "{}", short.stdout);
    assert!(short.stdout.len() < long.stdout.len());
}

/// Whether `edgeprobe check` colours its lines with `environment` (on a terminal made by
/// util-linux's `script`, or on a pipe) and `extra` arguments. The gateway name is invalid, so
/// the one check fails (a red line) without any network.
fn coloured(terminal: bool, environment: &[(&str, &str)], extra: &[&str]) -> bool {
    let binary = env!("CARGO_BIN_EXE_edgeprobe");
    let mut args = vec![
        "check",
        "--gateway",
        "bad_name!",
        "--only",
        "gateway-hostname",
    ];
    args.extend_from_slice(extra);
    let mut command = if terminal {
        let mut script = std::process::Command::new("script");
        script.args(["-qec", &format!("{binary} {}", args.join(" ")), "/dev/null"]);
        script
    } else {
        let mut direct = std::process::Command::new(binary);
        direct.args(&args);
        direct
    };
    for name in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM", "CI"] {
        command.env_remove(name);
    }
    command.env("TERM", "xterm-256color");
    command.envs(environment.iter().copied());
    let output = match command.output() {
        Ok(output) => output,
        Err(error) => {
            // `script` is in bsdutils, essential on Debian; scripts/test installs it anyway.
            panic!(
                "cannot run {}: {error}",
                if terminal { "script" } else { binary }
            )
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("gateway name is a valid host name"),
        "{stdout}"
    );
    stdout.contains('\u{1b}')
}

/// `--color auto` is anstream's decision, with the behaviour the hand-made one had:
/// NO_COLOR, CLICOLOR_FORCE, CLICOLOR, TERM=dumb and a terminal, and the flag over all.
#[test]
fn colour_follows_no_color_clicolor_and_the_terminal() {
    assert!(coloured(true, &[], &[]), "a colour terminal");
    assert!(!coloured(false, &[], &[]), "a pipe");
    assert!(!coloured(true, &[("NO_COLOR", "1")], &[]));
    assert!(
        coloured(true, &[("NO_COLOR", "")], &[]),
        "an empty NO_COLOR does not count (no-color.org)"
    );
    assert!(
        coloured(false, &[("NO_COLOR", "1")], &["--color", "always"]),
        "an explicit flag wins over NO_COLOR"
    );
    assert!(!coloured(true, &[], &["--color", "never"]));
    assert!(
        coloured(false, &[("CLICOLOR_FORCE", "1")], &[]),
        "CLICOLOR_FORCE colours a pipe"
    );
    assert!(
        !coloured(false, &[("CLICOLOR_FORCE", "0")], &[]),
        "CLICOLOR_FORCE=0 does not force"
    );
    assert!(
        !coloured(true, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")], &[]),
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
    assert!(
        !coloured(true, &[("CLICOLOR", "0")], &[]),
        "CLICOLOR=0 disables"
    );
    assert!(coloured(true, &[("CLICOLOR", "1")], &[]));
    assert!(
        !coloured(false, &[("CLICOLOR", "1")], &[]),
        "CLICOLOR=1 needs a terminal"
    );
    assert!(
        !coloured(true, &[("TERM", "dumb")], &[]),
        "TERM=dumb has no escape codes"
    );
    assert!(
        coloured(true, &[("TERM", "dumb")], &["--color", "always"]),
        "--color always wins"
    );
}

/// The text report prints each certificate's SHA-256 fingerprint beside its name, where a
/// renewed root or a re-issued CA would otherwise look the same.
#[tokio::test(flavor = "multi_thread")]
async fn text_output_tells_certificates_apart_by_their_sha256_fingerprint() {
    use edgeprobe::pki::describe::describe;
    use edgeprobe::pki::load::load_certificates;
    let fingerprint = |name: &str| {
        let certificates = load_certificates(&fixture(name)).expect("fixture");
        describe(&certificates[0])
            .expect("describes")
            .sha256_fingerprint
    };
    let gateway = crate::harness::fixture_gateway().await;
    let ports = gateway.ports;
    let output = check_loopback(
        [ports.mqtt, ports.amqp, ports.https],
        &fixture("root-ca.pem"),
        "5s",
        &[
            "--verbose",
            "--output",
            "text",
            "--only",
            "root-ca-file,gateway-cert-chain",
        ],
    )
    .await;
    for name in ["root-ca.pem", "server-full-chain.pem"] {
        let expected = format!("sha256 Fingerprint={}", fingerprint(name));
        assert!(
            output.stdout.contains(&expected),
            "no {expected} in:\n{}",
            output.stdout
        );
    }
    // The chain listing keeps s_client's four lines, the fingerprint after them.
    let listing: Vec<&str> = output
        .stdout
        .lines()
        .skip_while(|line| !line.contains(" 0 s:CN = gateway.edgeprobe.test"))
        .take(5)
        .collect();
    assert!(
        listing[4].trim_start().starts_with("sha256 Fingerprint="),
        "{listing:#?}"
    );
    gateway.shutdown().await;
}
