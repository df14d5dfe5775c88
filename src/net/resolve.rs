//! Resolving the gateway name the way the device does. (stub: being written)

use std::net::IpAddr;

#[derive(Debug, Clone)]
pub struct Resolution {
    pub name: String,
    pub addresses: Vec<IpAddr>,
}
