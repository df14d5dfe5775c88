//! Regenerates the checked-in test PKI under `fixtures/` (see `fixtures/README.md`):
//!
//!     cargo run --example generate_fixtures -- fixtures
//!
//! Validity dates are fixed, not taken from the clock, so the files stay valid for years and
//! tests can pin their own `now`. Everything stays before 2038-01-01, which IoT Edge 1.1's
//! libiothsm cannot represent, except the one certificate that exists to test exactly that.

mod exit_status;
mod fixture_support;

use std::error::Error;
use std::process::ExitCode;

use edgeprobe::demo::pki::{CertificateSpec, GatewayPki, Validity, unrelated_root_ca};
use fixture_support::{CA_VALIDITY, EXPIRED_VALIDITY, SERVER_VALIDITY, Writer, main_with};
use time::OffsetDateTime;
use time::macros::datetime;

const GATEWAY: &str = "gateway.edgeprobe.test";
const OTHER_NAME: &str = "other.edgeprobe.test";

const POST_2038_NOT_AFTER: OffsetDateTime = datetime!(2039-06-01 00:00:00 UTC);

/// A config.toml fragment pasted where a certificate belongs: text, but not PEM.
const GARBAGE: &str = "# Not a certificate: a config.toml fragment pasted where the CA file belongs.\n\
hostname = \"gateway.edgeprobe.test\"\n";

fn main() -> ExitCode {
    main_with("generate_fixtures", generate)
}

fn generate(out: &mut Writer) -> Result<(), Box<dyn Error>> {
    let mut write = |name: &str, contents: &str| out.write(name, contents);

    let pki = GatewayPki::generate_with_validity(GATEWAY, CA_VALIDITY, SERVER_VALIDITY)?;
    write("root-ca.pem", &pki.root.pem)?;
    write("intermediate-ca.pem", &pki.intermediate.pem)?;
    write("device-ca.pem", &pki.device_ca.pem)?;
    write("server.pem", &pki.server.pem)?;
    write("server.key.pem", &pki.server.key_pem())?;
    write("server-full-chain.pem", &pki.server_full_chain_pem())?;
    write("intermediate-only-as-root.pem", &pki.intermediate.pem)?;

    write("other-root-ca.pem", &unrelated_root_ca(CA_VALIDITY)?.pem)?;

    let expired =
        pki.issue_from_device_ca(&CertificateSpec::tls_server(GATEWAY, EXPIRED_VALIDITY))?;
    write("expired-server.pem", &expired.pem)?;
    write("expired-server.key.pem", &expired.key_pem())?;
    write(
        "expired-server-full-chain.pem",
        &pki.full_chain_pem_with(&expired),
    )?;

    let post_2038 = pki.issue_from_device_ca(&CertificateSpec::tls_server(
        GATEWAY,
        Validity::new(SERVER_VALIDITY.not_before, POST_2038_NOT_AFTER),
    ))?;
    write(
        "post-2038-server-full-chain.pem",
        &pki.full_chain_pem_with(&post_2038),
    )?;
    write("post-2038-server.key.pem", &post_2038.key_pem())?;

    let wrong_name =
        pki.issue_from_device_ca(&CertificateSpec::tls_server(OTHER_NAME, SERVER_VALIDITY))?;
    write(
        "wrong-name-server-full-chain.pem",
        &pki.full_chain_pem_with(&wrong_name),
    )?;
    write("wrong-name-server.key.pem", &wrong_name.key_pem())?;

    let cn_only = pki.issue_from_device_ca(
        &CertificateSpec::tls_server(GATEWAY, SERVER_VALIDITY).without_subject_alt_names(),
    )?;
    write(
        "cn-only-server-full-chain.pem",
        &pki.full_chain_pem_with(&cn_only),
    )?;
    write("cn-only-server.key.pem", &cn_only.key_pem())?;

    write("empty.pem", "")?;
    write("garbage.pem", GARBAGE)?;
    write("private-key-only.pem", &pki.server.key_pem())?;
    Ok(())
}
