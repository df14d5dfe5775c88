//! What a hostile server can answer a protocol probe with: MQTT CONNACK, AMQP header and
//! sasl-mechanisms frame, HTTP response. The parsers see arbitrary bytes; none may panic.
#![no_main]

use edgeprobe::net::probe::{amqp, describe_received, http, mqtt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = mqtt::parse_connack(bytes);
    let _ = amqp::parse_answer(bytes);
    let _ = amqp::parse_sasl_mechanisms_frame(bytes);
    if let Ok(Some(response)) = http::parse_response(bytes) {
        let _ = http::judge_upgrade(&response, "dGhlIHNhbXBsZSBub25jZQ==");
    }
    let _ = describe_received(bytes);
});
