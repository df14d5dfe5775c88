//! TEMPORARY stand-in matching the contract; replaced at merge.
use std::fmt;
#[derive(Debug, Clone)]
pub struct ConnectionString {
    pub host_name: String,
    pub device_id: String,
    pub module_id: Option<String>,
    pub gateway_host_name: Option<String>,
    pub authentication: Authentication,
    pub unknown_keys: Vec<String>,
}
#[derive(Debug, Clone)]
pub enum Authentication {
    SharedAccessKey(SharedAccessKey),
    X509,
}
#[derive(Debug, Clone)]
pub struct SharedAccessKey(usize);
impl SharedAccessKey {
    pub fn decoded_len(&self) -> usize {
        self.0
    }
}
#[derive(Debug, Clone, thiserror::Error)]
#[error("bad connection string")]
pub struct ConnectionStringError;
pub fn parse(text: &str) -> Result<ConnectionString, ConnectionStringError> {
    let _ = text;
    Err(ConnectionStringError)
}
pub fn redact(text: &str) -> String {
    text.to_owned()
}
impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostName={}", self.host_name)
    }
}
