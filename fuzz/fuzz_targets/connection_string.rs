//! Connection string parsing and redaction: no panic, and no key value ever survives in the
//! redacted or displayed form.
#![no_main]

use edgeprobe::connection_string::{Authentication, parse, redact};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let redacted = redact(text);
    assert_eq!(redact(&redacted), redacted, "redaction is idempotent");
    if let Ok(parsed) = parse(text) {
        let shown = format!("{parsed} {parsed:?}");
        if let Authentication::SharedAccessKey(_) = parsed.authentication {
            // The key value as written: whatever follows `SharedAccessKey=` up to `;`.
            let lower = text.to_ascii_lowercase();
            if let Some(start) = lower.find("sharedaccesskey=") {
                let value: String = text[start + 16..].chars().take_while(|c| *c != ';').collect();
                let value = value.trim();
                if value.len() >= 8 {
                    assert!(!shown.contains(value), "key leaked in Display/Debug");
                    assert!(!redacted.contains(value), "key leaked in redact()");
                }
            }
        }
    }
});
