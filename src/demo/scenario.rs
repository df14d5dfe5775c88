//! The gateway misconfigurations `edgeprobe demo` can stage, each one a mistake seen in the
//! field, and what the simulated gateway serves and the simulated leaf holds for each.

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;

use super::devices::DeviceRegistry;
use super::pki::{
    CertificateSpec, GatewayPki, PkiError, Validity, issue, issue_ca, unrelated_root_ca,
};
use crate::identity::sas::{make_token, resource};
use crate::net::Protocol;
use crate::secrets::{SecretBytes, SecretString};

/// One staged situation. The kebab-case names are the `--scenario` values and stable ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Scenario {
    #[value(help = Scenario::Healthy.description())]
    Healthy,
    #[value(help = Scenario::MissingIntermediate.description())]
    MissingIntermediate,
    #[value(help = Scenario::WrongRoot.description())]
    WrongRoot,
    #[value(help = Scenario::Expired.description())]
    Expired,
    #[value(help = Scenario::HostnameMismatch.description())]
    HostnameMismatch,
    #[value(help = Scenario::PortClosed.description())]
    PortClosed,
    #[value(help = Scenario::WrongKey.description())]
    WrongKey,
    #[value(help = Scenario::UnknownDevice.description())]
    UnknownDevice,
    #[value(help = Scenario::ExpiredToken.description())]
    ExpiredToken,
    #[value(help = Scenario::X509.description())]
    X509,
}

/// The name the server certificate is issued for in [`Scenario::HostnameMismatch`]: a typical
/// `hostname` left in `config.toml` while leaves dial the gateway's DNS name.
pub const MISMATCHED_HOST_NAME: &str = "edgegateway.local";

/// How long ago the server certificate expired in [`Scenario::Expired`].
pub const EXPIRED_DAYS_AGO: i64 = 3;

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::Healthy,
        Scenario::MissingIntermediate,
        Scenario::WrongRoot,
        Scenario::Expired,
        Scenario::HostnameMismatch,
        Scenario::PortClosed,
        Scenario::WrongKey,
        Scenario::UnknownDevice,
        Scenario::ExpiredToken,
        Scenario::X509,
    ];

    /// The stable kebab-case id, identical to the `--scenario` value clap accepts.
    pub fn id(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::MissingIntermediate => "missing-intermediate",
            Scenario::WrongRoot => "wrong-root",
            Scenario::Expired => "expired",
            Scenario::HostnameMismatch => "hostname-mismatch",
            Scenario::PortClosed => "port-closed",
            Scenario::WrongKey => "wrong-key",
            Scenario::UnknownDevice => "unknown-device",
            Scenario::ExpiredToken => "expired-token",
            Scenario::X509 => "x509",
        }
    }

    /// One line saying what is wrong, in the words a technician would use.
    pub const fn description(self) -> &'static str {
        match self {
            Scenario::Healthy => {
                "Everything right: full chain sent, matching root on the leaf, all ports open"
            }
            Scenario::MissingIntermediate => {
                "edgeHub sends the device CA but not the intermediate: [edge_ca] cert holds \
                 the device CA alone instead of its full chain"
            }
            Scenario::WrongRoot => "The leaf's CA file holds the root of an unrelated PKI",
            Scenario::Expired => "edgeHub's server certificate expired 3 days ago",
            Scenario::HostnameMismatch => {
                "The server certificate is for edgegateway.local, not the name the leaf dials \
                 (hostname in config.toml)"
            }
            Scenario::PortClosed => "AMQPS port 5671 is closed; MQTTS and HTTPS are healthy",
            Scenario::WrongKey => {
                "The leaf's connection string holds an old SharedAccessKey: the device's key was \
                 rotated in IoT Hub"
            }
            Scenario::UnknownDevice => {
                "The leaf connects as leaf-02, a device the gateway does not know (not created, \
                 or not a child of this gateway)"
            }
            Scenario::ExpiredToken => {
                "The leaf's connection string carries a SharedAccessSignature that expired an \
                 hour ago"
            }
            Scenario::X509 => {
                "An x509=true leaf presents a certificate with CN leaf-01 from a device CA the \
                 gateway trusts: accepted"
            }
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.id())
    }
}

/// The device identity a scenario stages: what the gateway knows and what the leaf holds.
pub struct DemoIdentity {
    pub devices: DeviceRegistry,
    /// The leaf's connection string (a secret: it may hold the key).
    pub connection_string: SecretString,
    /// The leaf's X.509 certificate (PEM, leaf then its CA) and key (PEM), for `x509`.
    pub certificate: Option<(String, SecretString)>,
}

// By hand: neither the connection string nor the key is ever shown.
impl std::fmt::Debug for DemoIdentity {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DemoIdentity")
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// The device id the identity scenarios register.
pub const DEMO_DEVICE: &str = "leaf-01";
/// The hub the demo's connection strings name (never dialled).
pub const DEMO_HUB: &str = "hub.edgeprobe.test";

/// What the simulated gateway serves and what the leaf is given, for one scenario.
/// `Debug` is safe to print: rustls-pki-types elides private key bytes, and [`DemoIdentity`]
/// shows only device ids.
#[derive(Debug)]
pub struct ScenarioSetup {
    pub scenario: Scenario,
    /// The certificates the gateway sends, leaf first, exactly as edgeHub would.
    pub server_chain: Vec<CertificateDer<'static>>,
    pub server_key: PrivateKeyDer<'static>,
    /// The CA file the technician holds on the leaf device (PEM).
    pub root_ca_pem: String,
    /// Protocols whose port is closed.
    pub closed: Vec<Protocol>,
    pub description: &'static str,
    /// The identity scenarios: the devices the gateway knows and the leaf's credentials.
    pub identity: Option<DemoIdentity>,
}

/// Builds the certificates and port layout for `scenario`, for a gateway the leaf dials as
/// `gateway_name`, valid (or deliberately not) at `now`.
pub fn prepare(
    scenario: Scenario,
    gateway_name: &str,
    now: OffsetDateTime,
) -> Result<ScenarioSetup, PkiError> {
    let setup = |server_chain, server_key, root_ca_pem, closed| ScenarioSetup {
        scenario,
        server_chain,
        server_key,
        root_ca_pem,
        closed,
        description: scenario.description(),
        identity: None,
    };
    match scenario {
        Scenario::Healthy | Scenario::PortClosed => {
            let pki = GatewayPki::generate(gateway_name, now)?;
            let closed = match scenario {
                Scenario::PortClosed => vec![Protocol::Amqp],
                _ => Vec::new(),
            };
            Ok(setup(
                pki.server_chain(),
                pki.server.key_der(),
                pki.root_pem(),
                closed,
            ))
        }
        Scenario::WrongKey | Scenario::UnknownDevice | Scenario::ExpiredToken | Scenario::X509 => {
            let pki = GatewayPki::generate(gateway_name, now)?;
            let mut staged = setup(
                pki.server_chain(),
                pki.server.key_der(),
                pki.root_pem(),
                Vec::new(),
            );
            staged.identity = Some(demo_identity(scenario, gateway_name, now)?);
            Ok(staged)
        }
        Scenario::MissingIntermediate => {
            // IoT Edge sends the server certificate followed by the contents of the edge CA
            // certificate file; with the device CA alone in that file, the intermediate that
            // links it to the leaf's root never reaches the leaf.
            let pki = GatewayPki::generate(gateway_name, now)?;
            let chain = vec![pki.server.der.clone(), pki.device_ca.der.clone()];
            Ok(setup(
                chain,
                pki.server.key_der(),
                pki.root_pem(),
                Vec::new(),
            ))
        }
        Scenario::WrongRoot => {
            let pki = GatewayPki::generate(gateway_name, now)?;
            let other_root = unrelated_root_ca(pki.root.spec.validity)?;
            Ok(setup(
                pki.server_chain(),
                pki.server.key_der(),
                other_root.pem,
                Vec::new(),
            ))
        }
        Scenario::Expired => {
            // CAs valid from a year back so the expired certificate lies inside its issuers'
            // validity: the only fault is the server certificate's notAfter.
            let pki = GatewayPki::generate_with_validity(
                gateway_name,
                Validity::around(now, 365, 365)?,
                Validity::around(now, 90 + EXPIRED_DAYS_AGO, -EXPIRED_DAYS_AGO)?,
            )?;
            Ok(setup(
                pki.server_chain(),
                pki.server.key_der(),
                pki.root_pem(),
                Vec::new(),
            ))
        }
        Scenario::HostnameMismatch => {
            let pki = GatewayPki::generate(gateway_name, now)?;
            // If the leaf happens to dial the very name we would use, pick another one so the
            // scenario still mismatches.
            let wrong_name = if gateway_name.eq_ignore_ascii_case(MISMATCHED_HOST_NAME) {
                "edgegateway-old.local"
            } else {
                MISMATCHED_HOST_NAME
            };
            let server = pki.issue_from_device_ca(&CertificateSpec::tls_server(
                wrong_name,
                pki.server.spec.validity,
            ))?;
            Ok(setup(
                pki.chain_with(&server),
                server.key_der(),
                pki.root_pem(),
                Vec::new(),
            ))
        }
    }
}

/// The gateway's device registry and the leaf's credentials for an identity scenario: the
/// device `leaf-01` is known with a fresh random key; the leaf holds another key
/// (`wrong-key`), another device id (`unknown-device`), a token signed with the right key that
/// expired an hour ago (`expired-token`) or a certificate from the device CA (`x509`).
fn demo_identity(
    scenario: Scenario,
    gateway_name: &str,
    now: OffsetDateTime,
) -> Result<DemoIdentity, PkiError> {
    let key = random_key();
    let mut devices = DeviceRegistry::default();
    devices.add(DEMO_DEVICE.to_owned(), SecretBytes::new(key.clone()));
    let base = |device: &str, credential: &str| {
        SecretString::new(format!(
            "HostName={DEMO_HUB};DeviceId={device};{credential};GatewayHostName={gateway_name}"
        ))
    };
    let encode =
        |bytes: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let mut certificate = None;
    let connection_string = match scenario {
        Scenario::WrongKey => base(
            DEMO_DEVICE,
            &format!("SharedAccessKey={}", encode(&random_key())),
        ),
        Scenario::UnknownDevice => base("leaf-02", &format!("SharedAccessKey={}", encode(&key))),
        Scenario::ExpiredToken => {
            let token = make_token(
                &key,
                &resource(DEMO_HUB, DEMO_DEVICE, None),
                (now - time::Duration::hours(1)).unix_timestamp(),
            );
            base(
                DEMO_DEVICE,
                &format!("SharedAccessSignature={}", token.expose_str()),
            )
        }
        _ => {
            let validity = Validity::around(now, 1, 365)?;
            let device_ca = issue_ca("edgeprobe demo device CA", validity, None)?;
            let leaf = issue(
                &CertificateSpec::tls_client(DEMO_DEVICE, validity),
                Some(&device_ca),
            )?;
            devices.device_ca = vec![device_ca.der.clone()];
            certificate = Some((
                format!("{}{}", leaf.pem, device_ca.pem),
                SecretString::new(leaf.key_pem()),
            ));
            base(DEMO_DEVICE, "x509=true")
        }
    };
    Ok(DemoIdentity {
        devices,
        connection_string,
        certificate,
    })
}

/// 32 random bytes, as IoT Hub's keys are; a demo key, never shown.
fn random_key() -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut key = vec![0u8; 32];
    // A failing system generator leaves zeros: still a valid (demo-only) key.
    let _ = ring::rand::SystemRandom::new().fill(&mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::ValueEnum;
    use rustls_pki_types::pem::PemObject;
    use time::macros::datetime;

    use crate::demo::pki::verify_as_leaf_device;

    const GATEWAY: &str = "gateway.edgeprobe.test";
    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

    /// What the leaf device's TLS stack would say about the served chain.
    fn leaf_verdict(setup: &ScenarioSetup) -> Result<(), webpki::Error> {
        let root = CertificateDer::from_pem_slice(setup.root_ca_pem.as_bytes()).unwrap();
        verify_as_leaf_device(&setup.server_chain, &root, GATEWAY, NOW)
    }

    #[test]
    fn healthy_chain_verifies_and_all_ports_are_open() {
        let setup = prepare(Scenario::Healthy, GATEWAY, NOW).unwrap();
        assert_eq!(leaf_verdict(&setup), Ok(()));
        assert_eq!(setup.server_chain.len(), 3);
        assert!(setup.closed.is_empty());
    }

    #[test]
    fn missing_intermediate_leaves_the_device_ca_without_issuer() {
        let setup = prepare(Scenario::MissingIntermediate, GATEWAY, NOW).unwrap();
        assert_eq!(setup.server_chain.len(), 2);
        assert_eq!(leaf_verdict(&setup), Err(webpki::Error::UnknownIssuer));
    }

    #[test]
    fn wrong_root_is_unrelated_to_the_chain() {
        let setup = prepare(Scenario::WrongRoot, GATEWAY, NOW).unwrap();
        assert!(setup.root_ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(leaf_verdict(&setup), Err(webpki::Error::UnknownIssuer));
    }

    #[test]
    fn expired_server_certificate_expired_three_days_ago() {
        let setup = prepare(Scenario::Expired, GATEWAY, NOW).unwrap();
        match leaf_verdict(&setup) {
            Err(webpki::Error::CertExpired { time, not_after }) => {
                let seconds = time.as_secs() - not_after.as_secs();
                assert_eq!(seconds, 3 * 24 * 3600);
            }
            other => panic!("expected CertExpired, got {other:?}"),
        }
    }

    #[test]
    fn hostname_mismatch_chain_is_trusted_but_for_another_name() {
        let setup = prepare(Scenario::HostnameMismatch, GATEWAY, NOW).unwrap();
        assert!(matches!(
            leaf_verdict(&setup),
            Err(webpki::Error::CertNotValidForName(_))
        ));
        let root = CertificateDer::from_pem_slice(setup.root_ca_pem.as_bytes()).unwrap();
        assert_eq!(
            verify_as_leaf_device(&setup.server_chain, &root, MISMATCHED_HOST_NAME, NOW),
            Ok(())
        );
        // Dialling the mismatched name itself must still give a mismatch.
        let setup = prepare(Scenario::HostnameMismatch, MISMATCHED_HOST_NAME, NOW).unwrap();
        let root = CertificateDer::from_pem_slice(setup.root_ca_pem.as_bytes()).unwrap();
        assert!(matches!(
            verify_as_leaf_device(&setup.server_chain, &root, MISMATCHED_HOST_NAME, NOW),
            Err(webpki::Error::CertNotValidForName(_))
        ));
    }

    #[test]
    fn port_closed_closes_amqp_only_with_a_healthy_chain() {
        let setup = prepare(Scenario::PortClosed, GATEWAY, NOW).unwrap();
        assert_eq!(setup.closed, vec![Protocol::Amqp]);
        assert_eq!(leaf_verdict(&setup), Ok(()));
    }

    #[test]
    fn cli_names_are_the_kebab_case_ids_and_every_scenario_is_described() {
        assert_eq!(Scenario::value_variants(), Scenario::ALL.as_slice());
        for scenario in Scenario::ALL {
            let value = scenario.to_possible_value().unwrap();
            assert_eq!(value.get_name(), scenario.id());
            assert_eq!(Scenario::from_str(scenario.id(), false), Ok(scenario));
            assert!(!scenario.description().is_empty());
            assert!(!scenario.description().contains('\n'));
            let help = value.get_help().unwrap().to_string();
            assert_eq!(help, scenario.description());
        }
    }
}
