//! TEMPORARY stand-in matching the contract; replaced at merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Healthy,
    MissingIntermediate,
    WrongRoot,
    Expired,
    HostnameMismatch,
    PortClosed,
}
