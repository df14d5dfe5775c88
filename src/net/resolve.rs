//! TEMPORARY stand-in matching the contract; replaced at merge.
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
#[derive(Debug, Clone, serde::Serialize)]
pub struct Resolution {
    pub name: String,
    pub addresses: Vec<IpAddr>,
    pub source: ResolutionSource,
    pub notes: Vec<String>,
}
#[derive(Debug, Clone, serde::Serialize)]
pub enum ResolutionSource {
    Override,
    IpLiteral,
    HostsFile { path: PathBuf },
    Dns { server: String },
}
impl fmt::Display for ResolutionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}
pub struct ResolverSettings {
    pub hosts_file: PathBuf,
    pub dns_server: Option<SocketAddr>,
    pub overrides: BTreeMap<String, Vec<IpAddr>>,
    pub timeout: Duration,
}
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot resolve")]
pub struct ResolveError;
impl ResolveError {
    pub fn remedy(&self, name: &str) -> String {
        name.to_owned()
    }
}
pub async fn resolve_gateway(
    name: &str,
    settings: &ResolverSettings,
) -> Result<Resolution, ResolveError> {
    match settings.overrides.get(name) {
        Some(a) => Ok(Resolution {
            name: name.to_owned(),
            addresses: a.clone(),
            source: ResolutionSource::Override,
            notes: vec![],
        }),
        None => Err(ResolveError),
    }
}
