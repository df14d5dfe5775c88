//! TEMPORARY stand-in, replaced by the real module at merge.
use ::time::OffsetDateTime;
use rustls_pki_types::CertificateDer;
use std::net::IpAddr;
use x509_parser::prelude::*;

#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub subject_common_names: Vec<String>,
    pub serial: String,
    #[serde(with = "::time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "::time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub public_key: String,
    pub signature_algorithm: String,
    pub is_ca: bool,
    pub path_len: Option<u32>,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    pub self_issued: bool,
    pub sha256_fingerprint: String,
    pub subject_key_id: Option<String>,
    pub authority_key_id: Option<String>,
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DescribeError(String);
pub fn describe(der: &CertificateDer<'_>) -> Result<CertificateSummary, DescribeError> {
    let (_, c) =
        X509Certificate::from_der(der.as_ref()).map_err(|e| DescribeError(e.to_string()))?;
    let mut dns = vec![];
    let mut ips = vec![];
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) if b.len() == 4 => {
                    ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default()))
                }
                _ => {}
            }
        }
    }
    Ok(CertificateSummary {
        subject: super::openssl_oneline(c.subject()),
        issuer: super::openssl_oneline(c.issuer()),
        subject_common_names: c
            .subject()
            .iter_common_name()
            .filter_map(|a| a.as_str().ok().map(str::to_owned))
            .collect(),
        serial: String::new(),
        not_before: c.validity().not_before.to_datetime(),
        not_after: c.validity().not_after.to_datetime(),
        dns_names: dns,
        ip_addresses: ips,
        public_key: String::new(),
        signature_algorithm: String::new(),
        is_ca: c.is_ca(),
        path_len: None,
        key_usage: vec![],
        extended_key_usage: vec![],
        self_issued: c.subject() == c.issuer(),
        sha256_fingerprint: String::new(),
        subject_key_id: None,
        authority_key_id: None,
    })
}
pub fn openssl_date(t: OffsetDateTime) -> String {
    t.to_string()
}
pub fn s_client_listing(depth: usize, s: &CertificateSummary) -> Vec<String> {
    vec![
        format!("{depth:2} s:{}", s.subject),
        format!("   i:{}", s.issuer),
    ]
}
