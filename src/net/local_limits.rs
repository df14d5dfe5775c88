//! This machine's own limits on sockets: the open-files limit (`RLIMIT_NOFILE`) that fleet mode
//! raises at start, and telling "edgeprobe ran out of file descriptors here" apart from a
//! network or gateway failure, so a run at high `--concurrency` never blames the gateways for a
//! limit of the machine it runs on.
//!
//! Every socket is a file descriptor. `socket(2)`, `accept(2)` and `open(2)` fail with `EMFILE`
//! when the process reached its soft `RLIMIT_NOFILE` and with `ENFILE` when the whole system
//! reached `fs.file-max` (open(2), socket(2)). Many systems still start processes with a soft
//! limit of 1024 and a far higher hard limit, which any process may raise itself to
//! (getrlimit(2)); that is what [`raise_open_files_limit`] does, as Go's runtime does at start
//! since Go 1.19.

use std::fmt;
use std::io;

/// Which limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescriptorScope {
    /// `EMFILE`: this process's open-files limit.
    Process,
    /// `ENFILE`: the system-wide table (`fs.file-max`).
    System,
}

/// The process or the system had no file descriptor left for a socket: a limit of the machine
/// edgeprobe runs on, not a finding about the network or the gateway. The connect step
/// classifies its socket errors with [`DescriptorExhaustion::from_io_error`] first, so this
/// arrives as `ConnectError::LocalLimit` and checks match on that variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorExhaustion {
    pub scope: DescriptorScope,
    /// The process's open-files limit when the failure was seen, when it is known.
    pub open_files_limit: Option<OpenFilesLimit>,
}

impl DescriptorExhaustion {
    /// `Some` when `error` is `EMFILE` or `ENFILE`.
    pub fn from_io_error(error: &io::Error) -> Option<Self> {
        let scope = descriptor_scope(error.raw_os_error()?)?;
        Some(DescriptorExhaustion {
            scope,
            open_files_limit: open_files_limit(),
        })
    }

    /// The stable name JSON uses for the failure, next to the connect errors' names.
    pub fn kind(&self) -> &'static str {
        match self.scope {
            DescriptorScope::Process => "open_files_limit",
            DescriptorScope::System => "system_file_table_full",
        }
    }

    /// What the technician running edgeprobe should do.
    pub fn remedy(&self) -> String {
        let fewer = "or check fewer gateways at once with a lower --concurrency";
        match self.scope {
            DescriptorScope::Process => {
                let beyond = match self.open_files_limit.and_then(|limit| limit.hard) {
                    Some(hard) => format!(
                        " (up to the hard limit, {hard} here; beyond it, as root: LimitNOFILE= in a systemd unit or nofile in /etc/security/limits.conf)"
                    ),
                    None => String::new(),
                };
                format!(
                    "raise the open files limit in the shell that runs edgeprobe, e.g. `ulimit -n 4096`{beyond}, {fewer}; then run edgeprobe again"
                )
            }
            DescriptorScope::System => format!(
                "the whole system is out of file descriptors: close programs that hold many files or raise `sysctl fs.file-max`, {fewer}; then run edgeprobe again"
            ),
        }
    }
}

impl fmt::Display for DescriptorExhaustion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            DescriptorScope::Process => {
                write!(
                    formatter,
                    "not checked: edgeprobe reached this machine's open files limit"
                )?;
                if let Some(soft) = self.open_files_limit.and_then(|limit| limit.soft) {
                    write!(formatter, " (`ulimit -n` is {soft})")?;
                }
            }
            DescriptorScope::System => write!(
                formatter,
                "not checked: this machine's system-wide file table is full (fs.file-max)"
            )?,
        }
        write!(
            formatter,
            " and had no file descriptor left for the socket; a local limit, not a network or gateway problem"
        )
    }
}

/// A process's `RLIMIT_NOFILE`; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFilesLimit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// This process's open-files limit, where the platform has one.
pub fn open_files_limit() -> Option<OpenFilesLimit> {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        Some(OpenFilesLimit {
            soft: limit.current,
            hard: limit.maximum,
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Raises this process's soft open-files limit to its hard limit, as far as the system allows,
/// and returns the limit then in force. Best effort: when the system refuses (macOS refuses
/// "unlimited"; a sandbox may refuse any change) the limit stays as it was.
pub fn raise_open_files_limit() -> Option<OpenFilesLimit> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            // Failure leaves the old limit in force, which is what "best effort" means here.
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: limit.maximum,
                    maximum: limit.maximum,
                },
            );
        }
    }
    open_files_limit()
}

fn descriptor_scope(code: i32) -> Option<DescriptorScope> {
    [DescriptorScope::Process, DescriptorScope::System]
        .into_iter()
        .find(|scope| errno(*scope) == code)
}

fn errno(scope: DescriptorScope) -> i32 {
    #[cfg(unix)]
    {
        match scope {
            DescriptorScope::Process => rustix::io::Errno::MFILE.raw_os_error(),
            DescriptorScope::System => rustix::io::Errno::NFILE.raw_os_error(),
        }
    }
    // Windows' C runtime numbers (errno.h); its sockets report WSAEMFILE (10024) instead.
    #[cfg(not(unix))]
    {
        match scope {
            DescriptorScope::Process => 24,
            DescriptorScope::System => 23,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn emfile_and_enfile_are_local_and_other_errors_are_not() {
        let process = io::Error::from_raw_os_error(errno(DescriptorScope::Process));
        let system = io::Error::from_raw_os_error(errno(DescriptorScope::System));
        let found = DescriptorExhaustion::from_io_error(&process).unwrap();
        assert_eq!(found.scope, DescriptorScope::Process);
        assert_eq!(found.kind(), "open_files_limit");
        assert_eq!(
            DescriptorExhaustion::from_io_error(&system).map(|found| found.scope),
            Some(DescriptorScope::System)
        );
        for other in [
            io::Error::from(io::ErrorKind::ConnectionRefused),
            io::Error::from_raw_os_error(errno(DescriptorScope::Process) + 100),
            io::Error::other("Too many open files"),
        ] {
            assert_eq!(DescriptorExhaustion::from_io_error(&other), None, "{other}");
        }
    }

    /// The connect taxonomy classifies EMFILE and ENFILE from the error number itself, into
    /// the typed variant the checks match on (no text matching).
    #[test]
    fn a_connect_failure_carrying_emfile_is_recognised_and_others_are_not() {
        use crate::net::tls::{ConnectError, classify_connect_error};
        let endpoint = SocketAddr::from(([127, 0, 0, 1], 8883));
        let classify = |error: io::Error| {
            classify_connect_error(&error, endpoint, std::time::Duration::from_secs(5))
        };
        let scope_of = |error: ConnectError| match error {
            ConnectError::LocalLimit { exhaustion, .. } => Some(exhaustion.scope),
            _ => None,
        };
        let process = io::Error::from_raw_os_error(errno(DescriptorScope::Process));
        let found = classify(process);
        assert_eq!(found.kind(), "open_files_limit");
        assert_eq!(found.endpoint(), Some(endpoint));
        assert_eq!(scope_of(found), Some(DescriptorScope::Process));
        let system = io::Error::from_raw_os_error(errno(DescriptorScope::System));
        assert_eq!(scope_of(classify(system)), Some(DescriptorScope::System));
        let other = classify(io::Error::from_raw_os_error(
            errno(DescriptorScope::Process) + 100,
        ));
        assert!(
            matches!(other, ConnectError::ConnectFailed { .. }),
            "{other:?}"
        );
        let refused = classify(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(refused, ConnectError::Refused { endpoint });
        // The text of the error alone is not enough: only the error number counts.
        let lookalike = classify(io::Error::other(
            io::Error::from_raw_os_error(errno(DescriptorScope::Process)).to_string(),
        ));
        assert_eq!(scope_of(lookalike), None);
    }

    #[test]
    fn message_and_remedy_name_the_local_limit_and_ulimit() {
        let found = DescriptorExhaustion {
            scope: DescriptorScope::Process,
            open_files_limit: Some(OpenFilesLimit {
                soft: Some(40),
                hard: Some(40),
            }),
        };
        let mentions = |text: String, parts: &[&str]| {
            for part in parts {
                assert!(text.contains(part), "`{part}` not in {text}");
            }
        };
        mentions(
            found.to_string(),
            &[
                "open files limit (`ulimit -n` is 40)",
                "not a network or gateway problem",
            ],
        );
        mentions(
            found.remedy(),
            &[
                "`ulimit -n 4096`",
                "the hard limit, 40 here",
                "--concurrency",
            ],
        );
        let system = DescriptorExhaustion {
            scope: DescriptorScope::System,
            open_files_limit: None,
        };
        assert!(system.to_string().contains("fs.file-max"));
        assert!(system.remedy().contains("fs.file-max"));
    }

    #[cfg(unix)]
    #[test]
    fn raising_reaches_the_hard_limit_or_leaves_it_unchanged() {
        let before = open_files_limit().unwrap();
        let after = raise_open_files_limit().unwrap();
        assert_eq!(after.hard, before.hard);
        // The soft limit never goes down, and reaches the hard one unless the system refused.
        assert!(after.soft.is_none() || after.soft >= before.soft);
    }
}
