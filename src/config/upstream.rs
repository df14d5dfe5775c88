//! The way upstream as IoT Edge is configured to take it: the environment the config gives
//! edgeAgent (`[agent.env]` in 1.2+'s config.toml, `agent.env` in 1.1's config.yaml), which is
//! where "Configure an IoT Edge device to communicate through a proxy server" has operators put
//! `https_proxy` and `UpstreamProtocol`, and which ports that protocol needs.
//!
//! edgeHub speaks to its parent or IoT Hub with `UpstreamProtocol`: `Amqp` (the default, with
//! a fallback to `AmqpWs`), `AmqpWs`, `Mqtt` or `MqttWs`. The WebSocket protocols use 443, and
//! only they (and HTTPS) go through an HTTP proxy: the device SDKs tunnel WebSockets, never
//! plain AMQP or MQTT. 443 is needed whatever the protocol: a nested child pulls its images
//! and reaches its parent's API proxy there, and IoT Hub's HTTPS endpoint is what the runtime
//! falls back to.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::net::Protocol;
use crate::secrets::SecretString;

/// The settings of `[agent.env]` that decide the way upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentEnv {
    /// `https_proxy` (or `HTTPS_PROXY`): may hold a password, so kept as a secret.
    pub https_proxy: Option<SecretString>,
    /// `no_proxy` (or `NO_PROXY`).
    pub no_proxy: Option<String>,
    /// `UpstreamProtocol` as written.
    pub upstream_protocol: Option<String>,
}

/// One environment value as a config writes it: a string, or anything else (kept out).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum EnvValue {
    Text(String),
    Other(serde::de::IgnoredAny),
}

impl AgentEnv {
    /// From the `env` table or map: names as the Linux environment has them (exact case, the
    /// lower-case proxy variables first, as curl and the SDKs read them); `UpstreamProtocol`
    /// in any case, as .NET's configuration reads it.
    pub(super) fn from_table(env: Option<BTreeMap<String, EnvValue>>) -> AgentEnv {
        let env: BTreeMap<String, String> = env
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(name, value)| match value {
                EnvValue::Text(text) => Some((name, text)),
                EnvValue::Other(_) => None,
            })
            .collect();
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| env.get(*name))
                .filter(|value| !value.trim().is_empty())
                .cloned()
        };
        AgentEnv {
            https_proxy: first(&["https_proxy", "HTTPS_PROXY"]).map(SecretString::new),
            no_proxy: first(&["no_proxy", "NO_PROXY"]),
            upstream_protocol: env
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("UpstreamProtocol"))
                .map(|(_, value)| value.trim().to_owned()),
        }
    }
}

/// edgeHub's `UpstreamProtocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamProtocol {
    Amqp,
    AmqpWs,
    Mqtt,
    MqttWs,
}

impl UpstreamProtocol {
    /// The value as the docs write it; case is ignored, as edgeHub ignores it.
    pub fn parse(text: &str) -> Result<UpstreamProtocol, String> {
        match text.to_ascii_lowercase().as_str() {
            "amqp" => Ok(UpstreamProtocol::Amqp),
            "amqpws" => Ok(UpstreamProtocol::AmqpWs),
            "mqtt" => Ok(UpstreamProtocol::Mqtt),
            "mqttws" => Ok(UpstreamProtocol::MqttWs),
            _ => Err(format!(
                "UpstreamProtocol `{text}` is not one edgeHub knows (Amqp, AmqpWs, Mqtt or MqttWs)"
            )),
        }
    }

    fn uses_websockets(self) -> bool {
        matches!(self, UpstreamProtocol::AmqpWs | UpstreamProtocol::MqttWs)
    }
}

impl fmt::Display for UpstreamProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UpstreamProtocol::Amqp => "Amqp",
            UpstreamProtocol::AmqpWs => "AmqpWs",
            UpstreamProtocol::Mqtt => "Mqtt",
            UpstreamProtocol::MqttWs => "MqttWs",
        })
    }
}

/// How edgeHub reaches one upstream port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortUse {
    /// edgeHub connects to it directly.
    Direct,
    /// edgeHub reaches it through the HTTP proxy.
    Proxied,
    /// edgeHub does not use it in this configuration; the reason says why.
    NotUsed(String),
}

/// How edgeHub, with `upstream` (`None`: not set) and with or without a proxy for the upstream
/// host, reaches `protocol`'s port.
pub fn port_use(upstream: Option<UpstreamProtocol>, protocol: Protocol, proxied: bool) -> PortUse {
    let setting = match upstream {
        Some(upstream) => format!("UpstreamProtocol={upstream}"),
        None => "UpstreamProtocol not set (Amqp, falling back to AmqpWs)".to_owned(),
    };
    let used = match protocol {
        Protocol::Https => true,
        Protocol::Amqp => matches!(upstream, None | Some(UpstreamProtocol::Amqp)),
        Protocol::Mqtt => upstream == Some(UpstreamProtocol::Mqtt),
    };
    if !used {
        let instead = match upstream {
            Some(upstream) if upstream.uses_websockets() => "443 (WebSockets)",
            Some(UpstreamProtocol::Mqtt) => "8883 and 443",
            _ => "5671 and 443",
        };
        return PortUse::NotUsed(format!(
            "not required in this configuration: with {setting}, edgeHub uses {instead}, not {}",
            protocol.default_port()
        ));
    }
    match (protocol, proxied) {
        (Protocol::Https, true) => PortUse::Proxied,
        // Not set: edgeHub's AMQP fails at the proxy and it falls back to AMQP over WebSockets,
        // which the proxy tunnels.
        (Protocol::Amqp, true) if upstream.is_none() => PortUse::NotUsed(format!(
            "not required in this configuration: through the proxy, edgeHub with {setting} falls back to AmqpWs on 443 (set UpstreamProtocol=AmqpWs to skip the AMQP attempt)"
        )),
        // Set explicitly to a protocol a proxy does not carry: edgeHub connects directly.
        _ => PortUse::Direct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_protocol_decides_the_ports_and_the_proxy_carries_only_443() {
        use PortUse::*;
        let not_used = |use_: PortUse| matches!(use_, NotUsed(_));
        // The nested guide's 443 + 5671: Amqp, set or not, needs no 8883.
        for upstream in [None, Some(UpstreamProtocol::Amqp)] {
            assert!(not_used(port_use(upstream, Protocol::Mqtt, false)));
            assert_eq!(port_use(upstream, Protocol::Amqp, false), Direct);
            assert_eq!(port_use(upstream, Protocol::Https, false), Direct);
        }
        assert_eq!(
            port_use(Some(UpstreamProtocol::Mqtt), Protocol::Mqtt, false),
            Direct
        );
        assert!(not_used(port_use(
            Some(UpstreamProtocol::Mqtt),
            Protocol::Amqp,
            false
        )));
        for upstream in [UpstreamProtocol::AmqpWs, UpstreamProtocol::MqttWs] {
            assert!(not_used(port_use(Some(upstream), Protocol::Mqtt, true)));
            assert!(not_used(port_use(Some(upstream), Protocol::Amqp, true)));
            assert_eq!(port_use(Some(upstream), Protocol::Https, true), Proxied);
        }
        // Through a proxy, the default falls back to 443; an explicit Amqp goes direct.
        assert!(not_used(port_use(None, Protocol::Amqp, true)));
        assert_eq!(
            port_use(Some(UpstreamProtocol::Amqp), Protocol::Amqp, true),
            Direct
        );
        let NotUsed(reason) = port_use(None, Protocol::Mqtt, false) else {
            panic!("8883 is not used by default");
        };
        assert!(reason.contains("not required"), "{reason}");
    }

    #[test]
    fn values_parse_in_any_case_and_unknown_ones_are_named() {
        assert_eq!(
            UpstreamProtocol::parse("amqpws"),
            Ok(UpstreamProtocol::AmqpWs)
        );
        assert_eq!(UpstreamProtocol::parse("MQTT"), Ok(UpstreamProtocol::Mqtt));
        assert!(
            UpstreamProtocol::parse("websocket")
                .unwrap_err()
                .contains("`websocket`")
        );
    }
}
