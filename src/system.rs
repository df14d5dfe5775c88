//! The gateway's filesystem as edgeprobe reads it: every system path (`/etc/...`, `/var/lib/...`)
//! is looked up under `--root` (default `/`), so tests, and reviews of a copied gateway tree, read
//! the same files a gateway would. Also users and groups from `<root>/etc/passwd` and
//! `<root>/etc/group`, and whether a given user may read a file, judged from its mode bits the
//! way the kernel's permission check does (owner, then group, then others; see path_resolution(7)).

use std::fs;
use std::io;
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

/// Where `/` of the gateway is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRoot {
    root: PathBuf,
}

impl Default for SystemRoot {
    fn default() -> Self {
        SystemRoot::host()
    }
}

impl SystemRoot {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SystemRoot { root: root.into() }
    }

    /// This machine's own `/`.
    pub fn host() -> Self {
        SystemRoot::new("/")
    }

    pub fn is_host(&self) -> bool {
        self.root == Path::new("/")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of the system path `path` (`/etc/hosts` -> `<root>/etc/hosts`). `..`
    /// components are dropped so a path from a config file cannot climb out of the root.
    pub fn path(&self, path: impl AsRef<Path>) -> PathBuf {
        let mut joined = self.root.clone();
        for component in path.as_ref().components() {
            if let Component::Normal(part) = component {
                joined.push(part);
            }
        }
        joined
    }

    /// The system path a real path stands for (`<root>/etc/hosts` -> `/etc/hosts`), for commands
    /// meant for the gateway itself rather than for the copy under `--root`. A path outside
    /// the root is returned as it is.
    pub fn system_path(&self, real: &Path) -> PathBuf {
        match real.strip_prefix(&self.root) {
            Ok(inside) if !self.is_host() => Path::new("/").join(inside),
            _ => real.to_path_buf(),
        }
    }

    /// The machine's host name, as `hostname(1)` prints it: `<root>/etc/hostname`, or on the host
    /// itself the kernel's `/proc/sys/kernel/hostname` when that file is missing (containers and
    /// some images have no `/etc/hostname`).
    pub fn machine_hostname(&self) -> Result<String, MachineHostnameError> {
        let file = self.path("/etc/hostname");
        let read = |path: &Path| -> Result<Option<String>, MachineHostnameError> {
            match fs::read_to_string(path) {
                Ok(text) => Ok(first_line(&text)),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(MachineHostnameError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                }),
            }
        };
        if let Some(name) = read(&file)? {
            return Ok(name);
        }
        if self.is_host() {
            let kernel = Path::new("/proc/sys/kernel/hostname");
            if let Some(name) = read(kernel)? {
                return Ok(name);
            }
        }
        Err(MachineHostnameError::Missing { path: file })
    }
}

/// The first non-empty, non-comment line, trimmed (hostname(5) allows comments).
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
}

#[derive(Debug, thiserror::Error)]
pub enum MachineHostnameError {
    #[error("{} is missing or empty: the machine has no host name set", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// One line of passwd(5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
}

/// One line of group(5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// The users and groups of the system under the root. Read from the files, not through NSS, so
/// that `--root` works; accounts from LDAP or systemd-homed are not seen (IoT Edge's service
/// users are always local: the packages create them with `useradd --system`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    pub users: Vec<Account>,
    pub groups: Vec<GroupEntry>,
}

/// The colon-separated records of a passwd(5)/group(5) file with at least `min_fields`
/// fields; comments and shorter (malformed) lines are skipped.
fn colon_records(text: &str, min_fields: usize) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split(':').collect::<Vec<&str>>())
        .filter(move |fields| fields.len() >= min_fields)
}

impl Accounts {
    /// Reads `<root>/etc/passwd` and `<root>/etc/group`; a missing group file is an empty one.
    pub fn load(root: &SystemRoot) -> Result<Accounts, AccountsError> {
        let read = |path: PathBuf, required: bool| match fs::read_to_string(&path) {
            Ok(text) => Ok(text),
            Err(error) if !required && error.kind() == io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(AccountsError { path, source }),
        };
        let passwd = read(root.path("/etc/passwd"), true)?;
        let group = read(root.path("/etc/group"), false)?;
        Ok(Accounts::parse(&passwd, &group))
    }

    /// Parses passwd(5) and group(5) text; malformed lines are skipped, as getpwent(3) does.
    pub fn parse(passwd: &str, group: &str) -> Accounts {
        let users = colon_records(passwd, 4)
            .filter_map(|fields| {
                Some(Account {
                    name: fields[0].to_owned(),
                    uid: fields[2].parse().ok()?,
                    gid: fields[3].parse().ok()?,
                })
            })
            .collect();
        let groups = colon_records(group, 3)
            .filter_map(|fields| {
                Some(GroupEntry {
                    name: fields[0].to_owned(),
                    gid: fields[2].parse().ok()?,
                    members: fields
                        .get(3)
                        .map(|members| {
                            members
                                .split(',')
                                .map(str::trim)
                                .filter(|member| !member.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect();
        Accounts { users, groups }
    }

    pub fn user(&self, name: &str) -> Option<&Account> {
        self.users.iter().find(|user| user.name == name)
    }

    /// `root`, or the number when the uid has no name.
    pub fn user_name(&self, uid: u32) -> String {
        self.users
            .iter()
            .find(|user| user.uid == uid)
            .map_or_else(|| uid.to_string(), |user| user.name.clone())
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.groups
            .iter()
            .find(|group| group.gid == gid)
            .map_or_else(|| gid.to_string(), |group| group.name.clone())
    }

    /// Whether `user` is in group `gid`: as its primary group or as a listed member.
    pub fn in_group(&self, user: &Account, gid: u32) -> bool {
        user.gid == gid
            || self
                .groups
                .iter()
                .any(|group| group.gid == gid && group.members.contains(&user.name))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct AccountsError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// A file's owner and mode, for messages ("mode 640, owner root:aziotks").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Ownership {
    /// The permission bits, as a number (`0o640` is 416).
    pub mode: u32,
    pub owner: String,
    pub group: String,
    #[serde(skip)]
    pub uid: u32,
    #[serde(skip)]
    pub gid: u32,
}

impl Ownership {
    #[cfg(unix)]
    pub fn of(path: &Path, accounts: &Accounts) -> io::Result<Ownership> {
        let metadata = fs::metadata(path)?;
        Ok(Ownership {
            mode: metadata.mode() & 0o7777,
            owner: accounts.user_name(metadata.uid()),
            group: accounts.group_name(metadata.gid()),
            uid: metadata.uid(),
            gid: metadata.gid(),
        })
    }

    /// Owners and mode bits are Unix notions (IoT Edge 1.2+ runs on Linux only): elsewhere the
    /// question cannot be answered, and saying so keeps a permission check from reading as OK.
    #[cfg(not(unix))]
    pub fn of(path: &Path, _accounts: &Accounts) -> io::Result<Ownership> {
        fs::metadata(path)?;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "file owners and modes are only read on Unix",
        ))
    }

    /// Readable by every user on the machine (the "other" read bit).
    pub fn world_readable(&self) -> bool {
        self.mode & 0o004 != 0
    }
}

impl std::fmt::Display for Ownership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mode {:o}, owner {}:{}",
            self.mode, self.owner, self.group
        )
    }
}

/// Why a user cannot read a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    #[error("{user} cannot enter directory {} ({ownership}): it needs the search (x) permission", directory.display())]
    Directory {
        user: String,
        directory: PathBuf,
        ownership: Ownership,
    },
    #[error("{user} cannot read {} ({ownership})", file.display())]
    File {
        user: String,
        file: PathBuf,
        ownership: Ownership,
    },
}

impl AccessDenied {
    /// The same finding with system paths instead of real ones (see [`SystemRoot::system_path`]),
    /// for commands run on the gateway itself.
    pub fn at_system_paths(&self, root: &SystemRoot) -> AccessDenied {
        let mut denied = self.clone();
        match &mut denied {
            AccessDenied::Directory { directory, .. } => *directory = root.system_path(directory),
            AccessDenied::File { file, .. } => *file = root.system_path(file),
        }
        denied
    }
}

/// Whether `user` may read `file` (a real path under `root`): search permission on every
/// directory from the root down, then read permission on the file. The kernel checks the
/// owner bits if the user owns the inode, else the group bits if the user is in its group,
/// else the other bits; root (uid 0) may read anything. The root directory itself and those above
/// it are not judged: on a gateway `/` is always searchable, and a test root is a private
/// temporary directory.
pub fn check_read_access(
    root: &SystemRoot,
    file: &Path,
    user: &Account,
    accounts: &Accounts,
) -> io::Result<Result<(), AccessDenied>> {
    let mut directories: Vec<&Path> = file
        .ancestors()
        .skip(1)
        .take_while(|directory| directory.starts_with(root.root()) && *directory != root.root())
        .collect();
    directories.reverse();
    let directories = directories
        .into_iter()
        .map(|directory| Ok((directory.to_path_buf(), Ownership::of(directory, accounts)?)))
        .collect::<io::Result<Vec<_>>>()?;
    let ownership = Ownership::of(file, accounts)?;
    Ok(decide_read_access(
        &directories,
        (file, &ownership),
        user,
        accounts,
    ))
}

/// The decision itself, on owners and modes already read (so it can be tested for any uid).
pub fn decide_read_access(
    directories: &[(PathBuf, Ownership)],
    (file, ownership): (&Path, &Ownership),
    user: &Account,
    accounts: &Accounts,
) -> Result<(), AccessDenied> {
    if user.uid == 0 {
        return Ok(());
    }
    for (directory, directory_ownership) in directories {
        if !permitted(directory_ownership, user, accounts, 0o1) {
            return Err(AccessDenied::Directory {
                user: user.name.clone(),
                directory: directory.clone(),
                ownership: directory_ownership.clone(),
            });
        }
    }
    if permitted(ownership, user, accounts, 0o4) {
        Ok(())
    } else {
        Err(AccessDenied::File {
            user: user.name.clone(),
            file: file.to_path_buf(),
            ownership: ownership.clone(),
        })
    }
}

/// The kernel's class selection: only one class of bits applies (owner, else group, else other).
fn permitted(ownership: &Ownership, user: &Account, accounts: &Accounts, bit: u32) -> bool {
    let shift = if ownership.uid == user.uid {
        6
    } else if accounts.in_group(user, ownership.gid) {
        3
    } else {
        0
    };
    (ownership.mode >> shift) & bit != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # a comment\n\
        broken line\n\
        aziotcs:x:995:993::/home/aziotcs:/sbin/nologin\n\
        aziotks:x:996:994::/home/aziotks:/sbin/nologin\n\
        iotedge:x:997:997::/var/lib/iotedge:/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\naziotcs:x:993:iotedge\naziotks:x:994:pi, iotedge\n";

    #[test]
    fn system_paths_are_joined_under_the_root() {
        let root = SystemRoot::new("/tmp/gw");
        assert_eq!(
            root.path("/etc/aziot/config.toml"),
            Path::new("/tmp/gw/etc/aziot/config.toml")
        );
        assert_eq!(root.path("/../../etc/x"), Path::new("/tmp/gw/etc/x"));
        assert_eq!(
            SystemRoot::host().path("/etc/hosts"),
            Path::new("/etc/hosts")
        );
        assert!(SystemRoot::host().is_host());
        assert!(!root.is_host());
    }

    #[test]
    fn passwd_and_group_parse_like_getpwent() {
        let accounts = Accounts::parse(PASSWD, GROUP);
        assert_eq!(accounts.users.len(), 4);
        let aziotks = accounts.user("aziotks").unwrap();
        assert_eq!((aziotks.uid, aziotks.gid), (996, 994));
        let iotedge = accounts.user("iotedge").unwrap();
        assert!(accounts.in_group(iotedge, 993));
        assert!(accounts.in_group(iotedge, 994), "members are trimmed");
        assert!(!accounts.in_group(aziotks, 993));
        assert_eq!(accounts.user_name(995), "aziotcs");
        assert_eq!(accounts.user_name(12345), "12345");
        assert_eq!(accounts.group_name(994), "aziotks");
    }

    fn ownership(mode: u32, uid: u32, gid: u32) -> Ownership {
        Ownership {
            mode,
            owner: uid.to_string(),
            group: gid.to_string(),
            uid,
            gid,
        }
    }

    #[test]
    fn read_access_follows_owner_group_other_bits() {
        let accounts = Accounts::parse(PASSWD, GROUP);
        let aziotks = accounts.user("aziotks").unwrap().clone();
        let iotedge = accounts.user("iotedge").unwrap().clone();
        let aziotcs = accounts.user("aziotcs").unwrap().clone();
        let root = accounts.user("root").unwrap().clone();
        let file = Path::new("/var/aziot/secrets/ca.key.pem");
        let open = ownership(0o755, 0, 0);
        let decide = |mode: u32, user: &Account| {
            decide_read_access(
                &[(PathBuf::from("/var"), open.clone())],
                (file, &ownership(mode, 996, 994)),
                user,
                &accounts,
            )
        };
        // aziotks:aziotks 600, as the transparent gateway guide sets keys.
        assert!(decide(0o600, &aziotks).is_ok());
        assert!(matches!(
            decide(0o600, &iotedge),
            Err(AccessDenied::File { .. })
        ));
        // iotedge is a listed member of group aziotks; aziotcs is not.
        assert!(decide(0o640, &iotedge).is_ok());
        assert!(decide(0o640, &aziotcs).is_err());
        // Only one class applies: owner bits win even when stricter than the others'.
        assert!(decide(0o044, &aziotks).is_err());
        assert!(decide(0o044, &aziotcs).is_ok());
        assert!(ownership(0o644, 0, 0).world_readable());
        assert!(!ownership(0o640, 0, 0).world_readable());
        assert!(decide(0o000, &root).is_ok(), "root reads anything");

        // A directory without search permission blocks the file whatever its mode.
        let closed = [(
            PathBuf::from("/var/aziot/secrets"),
            ownership(0o700, 996, 994),
        )];
        let through = |user: &Account| {
            decide_read_access(
                &closed,
                (file, &ownership(0o644, 996, 994)),
                user,
                &accounts,
            )
        };
        assert!(through(&aziotks).is_ok());
        match through(&aziotcs) {
            Err(error @ AccessDenied::Directory { .. }) => assert_eq!(
                error.to_string(),
                "aziotcs cannot enter directory /var/aziot/secrets (mode 700, owner 996:994): it needs the search (x) permission"
            ),
            other => panic!("expected a directory denial, got {other:?}"),
        }
    }

    #[test]
    #[cfg(unix)]
    fn read_access_reads_modes_from_the_filesystem() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let root = SystemRoot::new(directory.path());
        let file = root.path("/var/aziot/secrets/ca.key.pem");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "key").unwrap();
        // Nobody owns uid 4244 here, so only the "other" bits apply to this user.
        let stranger = Account {
            name: "stranger".into(),
            uid: 4244,
            gid: 4244,
        };
        let accounts = Accounts::default();
        let access = || check_read_access(&root, &file, &stranger, &accounts).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(access(), Err(AccessDenied::File { .. })));
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(access().is_ok());
        let secrets = file.parent().unwrap();
        fs::set_permissions(secrets, fs::Permissions::from_mode(0o700)).unwrap();
        match access() {
            Err(AccessDenied::Directory { directory, .. }) => assert_eq!(directory, secrets),
            other => panic!("expected a directory denial, got {other:?}"),
        }
        fs::set_permissions(secrets, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn machine_hostname_reads_etc_hostname_under_the_root() {
        let directory = tempfile::tempdir().unwrap();
        let root = SystemRoot::new(directory.path());
        assert!(matches!(
            root.machine_hostname(),
            Err(MachineHostnameError::Missing { .. })
        ));
        fs::create_dir_all(root.path("/etc")).unwrap();
        fs::write(
            root.path("/etc/hostname"),
            "# set by cloud-init\n  EdgeGW01 \n",
        )
        .unwrap();
        assert_eq!(root.machine_hostname().unwrap(), "EdgeGW01");
    }
}
