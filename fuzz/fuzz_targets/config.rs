//! IoT Edge config parsers (1.1 YAML, 1.2+ TOML) and file URI resolution: arbitrary text
//! never panics, and no error message quotes a SharedAccessKey from the input.
#![no_main]

use std::path::Path;

use edgeprobe::config::{parse_file_uri, v1_yaml, v2_toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for error in [
        v1_yaml::parse(text, Path::new("config.yaml")).err(),
        v2_toml::parse(text, Path::new("config.toml")).err(),
    ]
    .into_iter()
    .flatten()
    {
        let message = error.to_string();
        if let Some(start) = text.find("SharedAccessKey=") {
            let value: String = text[start + 16..].chars().take_while(|c| *c != ';' && *c != '"').collect();
            if value.len() >= 12 {
                assert!(!message.contains(&value), "a config error quoted the key");
            }
        }
    }
    let _ = parse_file_uri(text);
});
