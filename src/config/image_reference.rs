//! Docker image references as the config names them (`[agent.config] image`), split the way
//! the Docker daemon splits them (distribution's `reference.ParseNormalizedNamed`): the first
//! path component is a registry when it holds a `.` or a `:` or is `localhost`, otherwise the
//! image is on Docker Hub (`library/` added to a one-component name). IoT Edge adds `$upstream`,
//! which aziot-edged replaces by `parent_hostname` on a lower layer of a nested hierarchy
//! ("Connect Azure IoT Edge devices to create a hierarchy": `$upstream:443/azureiotedge-agent:1.5`).

use std::fmt;

/// The name IoT Edge replaces by the parent's hostname in image names.
pub const UPSTREAM: &str = "$upstream";

/// Where Docker Hub's registry API is served (`docker.io` is its name in references).
const DOCKER_HUB_REGISTRY: &str = "registry-1.docker.io";

/// An image reference, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    pub registry: Registry,
    /// The repository on the registry (`azureiotedge-agent`, `library/registry`).
    pub repository: String,
    /// The tag (`1.5`, `latest` when none is written) or the digest (`sha256:...`).
    pub reference: String,
}

/// The registry part of an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    /// `$upstream[:port]`: the parent gateway, through its API proxy module.
    Upstream { port: Option<u16> },
    /// A registry named directly (`mcr.microsoft.com`, `myacr.azurecr.io:443`).
    Host { host: String, port: Option<u16> },
}

impl Registry {
    /// The port written, or HTTPS's 443, which Docker uses for a registry named without one.
    pub fn port(&self) -> u16 {
        match self {
            Registry::Upstream { port } | Registry::Host { port, .. } => port.unwrap_or(443),
        }
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, port) = match self {
            Registry::Upstream { port } => (UPSTREAM, port),
            Registry::Host { host, port } => (host.as_str(), port),
        };
        match port {
            Some(port) => write!(formatter, "{name}:{port}"),
            None => formatter.write_str(name),
        }
    }
}

impl ImageReference {
    /// The registry API path of the image's manifest (Docker Registry HTTP API V2,
    /// `GET /v2/<name>/manifests/<reference>`).
    pub fn manifest_path(&self) -> String {
        format!("/v2/{}/manifests/{}", self.repository, self.reference)
    }

    /// The same image pulled through the parent, as the nested guide writes it.
    pub fn through_upstream(&self) -> String {
        let separator = if self.reference.contains(':') {
            '@'
        } else {
            ':'
        };
        let repository = self
            .repository
            .strip_prefix("library/")
            .unwrap_or(&self.repository);
        format!("{UPSTREAM}:443/{repository}{separator}{}", self.reference)
    }
}

/// Why an image reference cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{image}` is not a valid image reference: {reason}")]
pub struct ImageReferenceError {
    pub image: String,
    pub reason: String,
}

/// Splits `image` into registry, repository and tag or digest.
pub fn parse_image_reference(image: &str) -> Result<ImageReference, ImageReferenceError> {
    let invalid = |reason: &str| ImageReferenceError {
        image: image.to_owned(),
        reason: reason.to_owned(),
    };
    let text = image.trim();
    if text.is_empty() {
        return Err(invalid("it is empty"));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(invalid("it contains white space"));
    }
    let (name, digest) = match text.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (text, None),
    };
    let (registry, path) = match name.split_once('/') {
        Some((first, rest))
            if first == UPSTREAM
                || first.starts_with("$upstream:")
                || first.contains(['.', ':'])
                || first == "localhost" =>
        {
            (
                parse_registry(first).map_err(|reason| invalid(&reason))?,
                rest,
            )
        }
        _ => (
            Registry::Host {
                host: DOCKER_HUB_REGISTRY.to_owned(),
                port: None,
            },
            name,
        ),
    };
    // A tag follows the last `:` of the last path component.
    let last_slash = path.rfind('/').map_or(0, |index| index + 1);
    let (repository, tag) = match path[last_slash..].rfind(':') {
        Some(index) => (
            &path[..last_slash + index],
            Some(&path[last_slash + index + 1..]),
        ),
        None => (path, None),
    };
    if repository.is_empty() || repository.split('/').any(str::is_empty) {
        return Err(invalid(
            "the repository name is empty or has an empty component",
        ));
    }
    if repository.contains('$') {
        return Err(invalid(
            "`$` is only allowed as the `$upstream` registry, before the first `/`",
        ));
    }
    if !repository.chars().all(|character| {
        character.is_ascii_lowercase() || character.is_ascii_digit() || "._-/".contains(character)
    }) {
        return Err(invalid(
            "a repository name has only lower-case letters, digits and `.`, `_`, `-`, `/`",
        ));
    }
    if tag.is_some_and(str::is_empty) || digest.is_some_and(str::is_empty) {
        return Err(invalid("the tag or digest after `:` or `@` is empty"));
    }
    let repository = match &registry {
        Registry::Host { host, .. } if host == DOCKER_HUB_REGISTRY && !repository.contains('/') => {
            format!("library/{repository}")
        }
        _ => repository.to_owned(),
    };
    Ok(ImageReference {
        registry,
        repository,
        reference: digest.or(tag).unwrap_or("latest").to_owned(),
    })
}

fn parse_registry(text: &str) -> Result<Registry, String> {
    let (host, port) = match text.rsplit_once(':') {
        // An IPv6 literal's own colons are inside brackets.
        Some((host, port)) if !port.contains(']') => {
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| format!("the registry port `{port}` is not a port number"))?;
            (host, Some(port))
        }
        _ => (text, None),
    };
    if host.is_empty() {
        return Err("the registry name is empty".to_owned());
    }
    if host == UPSTREAM {
        return Ok(Registry::Upstream { port });
    }
    if host.contains('$') {
        return Err(format!(
            "`{host}` is not a registry name: IoT Edge replaces only `{UPSTREAM}`"
        ));
    }
    Ok(Registry::Host {
        host: host.to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(image: &str) -> ImageReference {
        parse_image_reference(image).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn upstream_images_name_the_parent_and_its_port() {
        let image = parsed("$upstream:443/azureiotedge-agent:1.5");
        assert_eq!(image.registry, Registry::Upstream { port: Some(443) });
        assert_eq!(image.repository, "azureiotedge-agent");
        assert_eq!(image.reference, "1.5");
        assert_eq!(
            image.manifest_path(),
            "/v2/azureiotedge-agent/manifests/1.5"
        );
        assert_eq!(
            parsed("$upstream/azureiotedge-hub").registry,
            Registry::Upstream { port: None }
        );
        assert_eq!(parsed("$upstream/azureiotedge-hub").reference, "latest");
    }

    #[test]
    fn registries_are_told_apart_from_repositories_as_docker_does() {
        let mcr = parsed("mcr.microsoft.com/azureiotedge-agent:1.5");
        assert_eq!(
            mcr.registry,
            Registry::Host {
                host: "mcr.microsoft.com".into(),
                port: None
            }
        );
        assert_eq!(mcr.registry.port(), 443);
        assert_eq!(
            mcr.through_upstream(),
            "$upstream:443/azureiotedge-agent:1.5"
        );
        // (image, registry, repository, the same image through the parent)
        for (image, registry, repository, through_upstream) in [
            (
                "localhost:5000/team/agent@sha256:abcd",
                "localhost:5000",
                "team/agent",
                "$upstream:443/team/agent@sha256:abcd",
            ),
            (
                "registry:2",
                "registry-1.docker.io",
                "library/registry",
                "$upstream:443/registry:2",
            ),
        ] {
            let reference = parsed(image);
            assert_eq!(reference.registry.to_string(), registry, "{image}");
            assert_eq!(reference.repository, repository, "{image}");
            assert_eq!(reference.through_upstream(), through_upstream, "{image}");
        }
        assert_eq!(
            parsed("localhost:5000/team/agent@sha256:abcd").reference,
            "sha256:abcd"
        );
        assert_eq!(parsed("team/agent").repository, "team/agent");
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (image, reason) in [
            ("", "empty"),
            ("mcr.microsoft.com/Azure-Agent:1.5", "lower-case"),
            ("$upstream:99999/agent:1", "not a port number"),
            ("$parent:443/agent:1", "replaces only"),
            ("mcr.microsoft.com//agent", "empty component"),
            ("mcr.microsoft.com/agent:", "empty"),
            ("agent/$upstream", "only allowed"),
        ] {
            let error = parse_image_reference(image).unwrap_err();
            assert!(error.to_string().contains(reason), "{image}: {error}");
        }
    }
}
