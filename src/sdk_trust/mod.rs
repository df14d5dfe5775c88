//! Trust as each Azure IoT device SDK on a leaf device sees it. Microsoft's downstream-device
//! guide (how-to-connect-downstream-device) spends half its length on one fact: every runtime
//! looks for the gateway's root CA somewhere else. Node.js ignores the OS store (its `ca` option
//! or `NODE_EXTRA_CA_CERTS`); .NET reads the OS store and its CurrentUser Root store; the C SDK
//! takes `OPTION_TRUSTED_CERT` or OpenSSL's default paths; Java its JRE's `cacerts`; Python's
//! SDK OpenSSL's defaults unless the application passes the file, and `requests` its certifi
//! bundle.
//!
//! Runtimes are found from files and environment variables only, never by running them: a
//! device under review may be a copied tree (`--root`), and running its programs would run
//! someone else's code.

mod device;
mod dotnet;
pub mod files;
pub mod fixes;
mod java;
pub mod keystore;
mod node;
mod openssl;
mod pkcs12;
mod python;
mod store;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

pub use device::{Device, DevicePath, Environment, VARIABLES};
pub use files::DeviceFiles;
pub use store::{Lookup, StoreFormat, StoreLocation, WantedRoot, look_up};

/// A device SDK's runtime, as `--sdk` names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// azure-iot-device for Node.js.
    Node,
    /// Microsoft.Azure.Devices.Client for .NET.
    Dotnet,
    /// azure-iot-sdk-c with OpenSSL.
    C,
    /// azure-iot-device-client for Java.
    Java,
    /// azure-iot-device for Python.
    Python,
}

impl Runtime {
    pub const ALL: [Runtime; 5] = [
        Runtime::Node,
        Runtime::Dotnet,
        Runtime::C,
        Runtime::Java,
        Runtime::Python,
    ];

    /// The name `--sdk` and JSON use.
    pub fn id(self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Dotnet => "dotnet",
            Runtime::C => "c",
            Runtime::Java => "java",
            Runtime::Python => "python",
        }
    }

    /// The name a technician knows it by.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Node => "Node.js",
            Runtime::Dotnet => ".NET",
            Runtime::C => "C SDK (OpenSSL)",
            Runtime::Java => "Java",
            Runtime::Python => "Python",
        }
    }

    /// Where edgeprobe looks for the runtime, for the message when it finds none.
    pub fn looked_for(self) -> &'static str {
        match self {
            Runtime::Node => "`node` on PATH, NODE_EXTRA_CA_CERTS",
            Runtime::Dotnet => {
                "DOTNET_ROOT, `dotnet` on PATH, /usr/share/dotnet, /usr/lib/dotnet, ~/.dotnet"
            }
            Runtime::C => "libssl.so in /usr/lib, /lib and their <triplet> directories",
            Runtime::Java => "JAVA_HOME, /usr/lib/jvm/*, /usr/java/*, /opt/java/*",
            Runtime::Python => "`python3` on PATH, VIRTUAL_ENV, certifi in site-packages",
        }
    }
}

/// One `--sdk` value: a runtime, or `all` of those found on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SdkChoice {
    Node,
    Dotnet,
    C,
    Java,
    Python,
    /// Every runtime found on the device.
    All,
}

/// The runtimes `sdk-trust` examines on a leaf device: those `--sdk` names; without `--sdk`
/// (the default) or with `--sdk all`, an empty list: every runtime found on the device.
pub fn requested(choices: &[SdkChoice]) -> Vec<Runtime> {
    if choices.contains(&SdkChoice::All) {
        return Vec::new();
    }
    let mut runtimes: Vec<Runtime> = choices
        .iter()
        .filter_map(|choice| match choice {
            SdkChoice::Node => Some(Runtime::Node),
            SdkChoice::Dotnet => Some(Runtime::Dotnet),
            SdkChoice::C => Some(Runtime::C),
            SdkChoice::Java => Some(Runtime::Java),
            SdkChoice::Python => Some(Runtime::Python),
            SdkChoice::All => None,
        })
        .collect();
    runtimes.sort();
    runtimes.dedup();
    runtimes
}

/// Whether a store decides what the SDK trusts, or only what some other library on the same
/// runtime trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StoreRole {
    /// The SDK's own TLS connection reads it.
    Sdk,
    /// Only Python's `requests` (and code built on it) reads it: not the SDK's MQTT/AMQP link.
    Requests,
}

/// One runtime found on the device (one JRE, for Java) and the stores it reads, in the order it
/// reads them.
#[derive(Debug, Clone)]
pub struct Installation {
    pub runtime: Runtime,
    /// What showed it is there: a program, a directory, a variable.
    pub found_by: String,
    /// Its directory where it has one (a JRE's home).
    pub location: Option<PathBuf>,
    pub stores: Vec<(StoreRole, StoreLocation)>,
    /// What a technician should know about how this runtime reads trust.
    pub notes: Vec<String>,
}

/// Every installation of `runtime` on the device.
pub fn discover(
    runtime: Runtime,
    device: Device<'_>,
    environment: &Environment,
) -> Vec<Installation> {
    match runtime {
        Runtime::Node => node::discover(device, environment).into_iter().collect(),
        Runtime::Dotnet => dotnet::discover(device, environment).into_iter().collect(),
        Runtime::C => openssl::discover_c_sdk(device, environment)
            .into_iter()
            .collect(),
        Runtime::Java => java::discover(device, environment),
        Runtime::Python => python::discover(device, environment).into_iter().collect(),
    }
}
