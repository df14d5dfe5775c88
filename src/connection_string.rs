//! IoT Hub device connection strings. (stub: being written)

#[derive(Debug, Clone)]
pub struct ConnectionString {
    pub gateway_host_name: Option<String>,
}
