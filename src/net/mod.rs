//! Network steps: name resolution and TCP + TLS connection to the gateway's ports.

pub mod authentication;
pub mod happy_eyeballs;
pub mod local_limits;
pub mod observation;
pub mod plaintext;
pub mod probe;
pub mod proxy;
pub mod registry;
pub mod resolve;
pub mod sntp;
pub mod tls;

use serde::Serialize;

/// The three protocols a leaf device may use to reach edgeHub.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Mqtt,
    Amqp,
    Https,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Mqtt, Protocol::Amqp, Protocol::Https];

    /// Lower-case key used in ids, `--port` and JSON (`mqtt`, `amqp`, `https`).
    pub fn key(self) -> &'static str {
        match self {
            Protocol::Mqtt => "mqtt",
            Protocol::Amqp => "amqp",
            Protocol::Https => "https",
        }
    }

    /// How people write it: MQTTS, AMQPS, HTTPS.
    pub fn display_name(self) -> &'static str {
        match self {
            Protocol::Mqtt => "MQTTS",
            Protocol::Amqp => "AMQPS",
            Protocol::Https => "HTTPS",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Mqtt => 8883,
            Protocol::Amqp => 5671,
            Protocol::Https => 443,
        }
    }

    /// The leaf suite's check that reads the protocol's answer on this port.
    pub fn protocol_check_id(self) -> &'static str {
        match self {
            Protocol::Mqtt => "gateway-protocol-mqtt",
            Protocol::Amqp => "gateway-protocol-amqp",
            Protocol::Https => "gateway-protocol-https",
        }
    }

    pub fn connect_check_id(self) -> &'static str {
        match self {
            Protocol::Mqtt => "gateway-connect-mqtt",
            Protocol::Amqp => "gateway-connect-amqp",
            Protocol::Https => "gateway-connect-https",
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "mqtt" | "mqtts" => Ok(Protocol::Mqtt),
            "amqp" | "amqps" => Ok(Protocol::Amqp),
            "https" | "http" => Ok(Protocol::Https),
            other => Err(format!(
                "unknown protocol `{other}`; expected mqtt, amqp or https"
            )),
        }
    }
}
