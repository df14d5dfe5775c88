//! Certificates: loading, describing and verifying chains the way OpenSSL does.

pub mod codes;
pub mod describe;
pub mod diagnose;
pub mod load;
pub mod verify;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;
use x509_parser::x509::X509Name;

pub use codes::VerifyCode;

/// The roots a leaf device trusts: the `--ca-file` (or the system bundle), loaded and parsed.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    pub path: PathBuf,
    pub certificates: Vec<CertificateDer<'static>>,
}

/// A distinguished name as OpenSSL 3 prints it by default (`XN_FLAG_ONELINE` without the
/// leading slash): RDNs in certificate order, `C = US, O = Contoso, CN = gw.contoso.com`.
pub fn openssl_oneline(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        for attribute in rdn.iter() {
            let oid = attribute.attr_type().to_id_string();
            let label = match oid.as_str() {
                "2.5.4.3" => "CN".to_owned(),
                "2.5.4.6" => "C".to_owned(),
                "2.5.4.7" => "L".to_owned(),
                "2.5.4.8" => "ST".to_owned(),
                "2.5.4.10" => "O".to_owned(),
                "2.5.4.11" => "OU".to_owned(),
                "2.5.4.5" => "serialNumber".to_owned(),
                "0.9.2342.19200300.100.1.25" => "DC".to_owned(),
                "1.2.840.113549.1.9.1" => "emailAddress".to_owned(),
                _ => oid,
            };
            let value = attribute.as_str().map_or_else(
                |_| {
                    format!(
                        "#{}",
                        attribute
                            .attr_value()
                            .data
                            .iter()
                            .map(|b| format!("{b:02X}"))
                            .collect::<String>()
                    )
                },
                str::to_owned,
            );
            parts.push(format!("{label} = {value}"));
        }
    }
    parts.join(", ")
}
