//! Connection-string parsing and the one secrets redactor: no panic, redaction is idempotent,
//! and no key the parser would take survives `secrets::redact`, the connection-string echo
//! (`redact_connection_string`, whether or not the text parses), `Display` or `Debug`.
#![no_main]

use edgeprobe::connection_string::{parse, redact_connection_string};
use edgeprobe::secrets::{REDACTED, REDACTED_PRIVATE_KEY, redact};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let redacted = redact(text);
    assert_eq!(redact(&redacted), redacted, "redaction is idempotent");
    let echoed = redact_connection_string(text);
    assert_eq!(
        redact_connection_string(&echoed),
        echoed,
        "the echo is idempotent"
    );
    let parsed = parse(text).ok();
    let shown = parsed
        .as_ref()
        .map(|parsed| format!("{parsed} {parsed:?}"))
        .unwrap_or_default();
    for value in key_values(text) {
        // Too short to tell apart, also written outside the key (`DeviceId=<same>`), or
        // overlapping what redaction writes (`<redacted>`, the name before it): not a leak.
        if value.len() < 8
            || text.replacen(value, "", 1).contains(value)
            || value.contains(['<', '>'])
            || REDACTED.contains(value)
            || REDACTED_PRIVATE_KEY.contains(value)
        {
            continue;
        }
        assert!(
            !echoed.contains(value),
            "key leaked in redact_connection_string()"
        );
        if parsed.is_some() {
            // A key of letters only can spell what Debug prints (`ConnectionString`).
            if value.bytes().all(|byte| byte.is_ascii_alphabetic()) {
                continue;
            }
            assert!(!shown.contains(value), "key leaked in Display/Debug");
            assert!(!redacted.contains(value), "key leaked in redact()");
        }
    }
});

/// The values of every `SharedAccessKey=` and `SharedAccessSignature=` part, cut as the parser
/// cuts them: trimmed, one pair of enclosing quotes dropped, split at `;`, names in any case.
fn key_values(text: &str) -> Vec<&str> {
    let mut text = text.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            text = inner.trim();
            break;
        }
    }
    text.split(';')
        .filter_map(|part| part.split_once('='))
        .filter(|(name, _)| {
            let name = name.trim();
            name.eq_ignore_ascii_case("SharedAccessKey")
                || name.eq_ignore_ascii_case("SharedAccessSignature")
        })
        .map(|(_, value)| value.trim())
        .collect()
}
