//! Why a connection string was refused, as diagnoses a technician can act on. No message
//! carries any part of the input that could be a piece of the key; names are quoted in
//! backticks (`` `SharedAccessKey=` ``), which the redactor never takes for a value.

use base64::DecodeError;
use thiserror::Error;

/// Where to get a device connection string, for error messages.
const HOW_TO_GET_ONE: &str = "copy the device connection string from the Azure portal (IoT Hub > \
     Devices > <device>) or `az iot hub device-identity connection-string show`";

/// Why a connection string was refused. No message ever contains the key, nor any part of the
/// input that could be a fragment of it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnectionStringError {
    #[error("the connection string is empty: {HOW_TO_GET_ONE}")]
    Empty,

    // The segment's text is withheld on purpose: a stray `;` inside a pasted key would make a
    // key fragment the segment.
    #[error(
        "part {position} of the connection string has no `=`: every `;`-separated part must be \
         Name=value; look for a stray `;` or a line break where the string was pasted"
    )]
    SegmentWithoutEquals {
        /// 1-based position among the `;`-separated parts.
        position: usize,
    },

    #[error(
        "part {position} of the connection string has nothing before its `=`: every part must be \
         Name=value; look for a stray `;` where the string was pasted"
    )]
    EmptyKeyName { position: usize },

    #[error("`{key}=` has no value in the connection string: fill it in, or {HOW_TO_GET_ONE}")]
    EmptyValue { key: &'static str },

    // An unknown name is withheld: a key split by a stray `;` leaves a fragment ending in `=`
    // padding, which looks exactly like `Name=` with an empty value.
    #[error(
        "part {position} of the connection string has nothing after its `=`: fill the value in or \
         remove the part; if it is a piece of the key, the key was split by a stray `;`"
    )]
    EmptyUnknownValue {
        /// 1-based position among the `;`-separated parts.
        position: usize,
    },

    #[error("`{key}` appears more than once in the connection string: keep exactly one")]
    DuplicateKey { key: String },

    #[error(
        "the connection string has no `{key}=`: a device connection string needs HostName, \
         DeviceId and SharedAccessKey (or x509=true); {HOW_TO_GET_ONE}"
    )]
    MissingKey { key: &'static str },

    #[error(
        "the connection string has neither `SharedAccessKey=` nor `x509=true`: add the device's \
         primary key for symmetric-key authentication, or `x509=true` if the device authenticates \
         with a certificate"
    )]
    MissingAuthentication,

    #[error(
        "the connection string has both `SharedAccessKey=` and `x509=true`: keep `SharedAccessKey` for \
         a symmetric-key device or `x509=true` for a certificate device, not both"
    )]
    ConflictingAuthentication,

    #[error(
        "`x509=` must be `true` (certificate authentication) or absent; remove it if the device \
         uses SharedAccessKey"
    )]
    InvalidX509Flag,

    #[error(
        "the SharedAccessKey is not valid base64 ({problem}): it was probably cut or altered when \
         pasted; {HOW_TO_GET_ONE}"
    )]
    InvalidKey { problem: KeyProblem },

    #[error(
        "this is an IoT Hub policy connection string (SharedAccessKeyName={policy_name}), not a \
         device connection string: a device needs its own; {HOW_TO_GET_ONE}"
    )]
    ServiceConnectionString { policy_name: String },

    #[error(
        "the connection string carries a SharedAccessSignature (a SAS token, which expires), not \
         a device key: edgeprobe needs the device connection string with `SharedAccessKey=`; \
         {HOW_TO_GET_ONE}"
    )]
    SasToken,
}

/// What is wrong with a key's base64, described without any of its characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum KeyProblem {
    #[error("character {position} is not in the base64 alphabet")]
    InvalidCharacter {
        /// 1-based position in the key.
        position: usize,
    },
    #[error(
        "character {position} is from URL-safe base64 (`-` or `_`), but IoT Hub keys use \
         standard base64 (`+` and `/`)"
    )]
    UrlSafeCharacter { position: usize },
    #[error("its length or last character cannot end a base64 text, so it was likely cut short")]
    Truncated,
    #[error("its `=` padding is missing or misplaced")]
    Padding,
}

impl KeyProblem {
    // base64's own DecodeError Display includes the offending byte; it must not reach output.
    pub(super) fn from_decode_error(error: &DecodeError) -> Self {
        match *error {
            DecodeError::InvalidByte(_, b'=') | DecodeError::InvalidPadding => KeyProblem::Padding,
            DecodeError::InvalidByte(offset, b'-' | b'_') => KeyProblem::UrlSafeCharacter {
                position: offset + 1,
            },
            DecodeError::InvalidByte(offset, _) => KeyProblem::InvalidCharacter {
                position: offset + 1,
            },
            // A length of 4n+1, or a last character whose bits decode to nothing: cut short.
            DecodeError::InvalidLength(_) | DecodeError::InvalidLastSymbol(..) => {
                KeyProblem::Truncated
            }
        }
    }
}
