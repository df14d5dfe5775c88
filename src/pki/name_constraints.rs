//! TEMPORARY shim until helper/trustnc lands.

use super::VerifyCode;

#[derive(Debug, Clone)]
pub struct NameConstraints;

#[derive(Debug)]
pub struct NameConstraintsError;

pub fn parse_name_constraints(_value: &[u8]) -> Result<NameConstraints, NameConstraintsError> {
    Ok(NameConstraints)
}

pub fn check(_certificate_der: &[u8], _constraints: &NameConstraints) -> Result<(), VerifyCode> {
    Ok(())
}

pub fn check_common_names(
    _certificate_der: &[u8],
    _constraints: &NameConstraints,
) -> Result<(), VerifyCode> {
    Ok(())
}
