//! `device-ca-key-match`: the device CA private key is the private half of the device CA
//! certificate, the comparison "Manage IoT Edge certificates" has operators make by hand with
//! `openssl x509 -modulus` / `openssl pkey -pubout`. With a mismatched pair IoT Edge cannot sign
//! edgeHub's server certificate (1.2+ fails to start; 1.1's libiothsm errors).

use crate::engine::info::DeviceCaKeyMatchInfo;
use crate::engine::{CheckMeta, Context, DeclaredCheck, OrSkip, Outcome, Prior, Ran};
use crate::pki::describe::describe;
use crate::pki::keys::{describe_key, key_matches_certificate};

use super::catalog;
use super::{DEVICE_CA_FILE_EMPTY, device_ca, subject_of};

pub struct DeviceCaKeyMatchCheck;

impl DeclaredCheck for DeviceCaKeyMatchCheck {
    const META: CheckMeta = catalog::DEVICE_CA_KEY_MATCH;
    async fn run(&self, _context: &Context, prior: &Prior) -> Ran {
        let (certificates, device_ca) = device_ca(prior)?;
        let (key, key_path) = device_ca.key.as_ref().zip(device_ca.key_path.as_ref()).or_skip(
            "skipped because the device CA private key was not loaded (see `certificates-configured`)",
        )?;
        let first = device_ca.chain.first().or_skip(DEVICE_CA_FILE_EMPTY)?;
        let cert_path = device_ca.cert_path.display();
        let key_kind = describe_key(key)
            .map(|summary| format!("{} ({})", summary.kind, summary.format))
            .unwrap_or_else(|_| "unknown".to_owned());
        let certificate_key = describe(first)
            .map(|summary| summary.public_key)
            .unwrap_or_default();
        let info = DeviceCaKeyMatchInfo {
            certificate: device_ca.cert_path.clone(),
            key: key_path.clone(),
            key_kind: key_kind.clone(),
            certificate_public_key: certificate_key.clone(),
        };
        Ok(match key_matches_certificate(key, first) {
            Ok(true) => Outcome::ok(format!(
                "{} is the private key of `{}` ({cert_path})",
                key_path.display(),
                subject_of(first)
            ))
            .detail(format!("key: {key_kind}; certificate: {certificate_key}"))
            .info(info),
            Ok(false) => {
                // The key may belong to another certificate of the same file: then the file
                // is in the wrong order, which is a different fix from a wrong key.
                let elsewhere = device_ca
                    .chain
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, der)| key_matches_certificate(key, der).unwrap_or(false));
                let outcome = match elsewhere {
                    Some((index, der)) => Outcome::error(format!(
                        "{} belongs to certificate {} of {cert_path} (`{}`), not to the first one (`{}`)",
                        key_path.display(),
                        index + 1,
                        subject_of(der),
                        subject_of(first)
                    ))
                    .remedy(format!(
                        "IoT Edge takes the first certificate of {} as the device CA: put the device CA certificate first, then its intermediates (the order of certGen.sh's full-chain file), then `{}`",
                        certificates.format.device_ca_cert_setting(),
                        certificates.format.apply_command()
                    )),
                    None => Outcome::error(format!(
                        "{} is not the private key of the device CA certificate `{}` ({cert_path})",
                        key_path.display(),
                        subject_of(first)
                    ))
                    .remedy(format!(
                        "use the key and certificate made together (iot-edge-device-ca-<name>.key.pem with iot-edge-device-ca-<name>-full-chain.cert.pem from the same run) in {} and {}; compare with `openssl pkey -in KEY -pubout` and `openssl x509 -in CERT -noout -pubkey`; then `{}`",
                        certificates.format.device_ca_key_setting(),
                        certificates.format.device_ca_cert_setting(),
                        certificates.format.apply_command()
                    )),
                };
                outcome
                    .detail(format!("key: {key_kind}; certificate: {certificate_key}"))
                    .info(info)
            }
            Err(error) => Outcome::error(format!(
                "{} cannot be compared with {cert_path}: {error}",
                key_path.display()
            ))
            .remedy(
                "use an RSA (2048 bits or more), ECDSA P-256/P-384 or Ed25519 key, unencrypted PEM",
            )
            .info(info),
        })
    }
}
