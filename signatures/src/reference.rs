//! Image references as a container runtime reads them: `nginx`, `ghcr.io/acme/shop:1.2`,
//! `registry.local:5000/shop/web@sha256:…`, with Docker Hub's defaults.

use std::fmt;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The registry as written (`docker.io` when none is).
    pub registry: String,
    /// The repository, with Docker Hub's `library/` for official images.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// A `sha256:` content digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// Accepts `sha256:` and 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Digest, String> {
        match text.strip_prefix("sha256:") {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
                Ok(Digest(text.to_string()))
            }
            _ => Err(format!("{text:?} is not a sha256 digest (sha256: and 64 lowercase hex digits)")),
        }
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let hash = ring::digest::digest(&ring::digest::SHA256, bytes);
        let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Digest(format!("sha256:{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tag cosign stores the image's signatures under: `sha256-<hex>.sig`.
    pub fn signature_tag(&self) -> String {
        format!("{}.sig", self.0.replace(':', "-"))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const DOCKER_HUB: &str = "docker.io";

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, String> {
        let invalid = |why: &str| format!("image reference {text:?}: {why}");
        if text.is_empty() || text.len() > 4096 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("empty, too long, or holds spaces"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(Digest::parse(digest).map_err(|e| invalid(&e))?)),
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(rest[last_slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if let Some(tag) = &tag {
            let ok = tag.len() <= 128
                && tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok {
                return Err(invalid(&format!("the tag {tag:?} is not valid")));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let valid_component = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        };
        if !repository.split('/').all(valid_component) {
            return Err(invalid("the repository must be lowercase letters, digits, '.', '_', '-' and '/'"));
        }
        Ok(Reference { registry, repository, tag, digest })
    }

    /// Where the registry's API answers: Docker Hub's is not at its name.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB { "registry-1.docker.io" } else { &self.registry }
    }

    /// The reference a manifest is fetched by: the digest when there is one, else the tag
    /// (`latest` when none is written).
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// The same image pinned to `digest`, tag kept: `registry/repo:tag@sha256:…`.
    pub fn pinned(&self, digest: &Digest) -> String {
        let tag = self.tag.as_ref().map(|t| format!(":{t}")).unwrap_or_default();
        format!("{}/{}{tag}@{digest}", self.registry, self.repository)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "87ef60f558bad79beea6425a3b28989f01dd417164150ab3baab98dcbf04def8";

    #[test]
    fn references_are_read_as_a_container_runtime_reads_them() {
        let r = Reference::parse("nginx").expect("parses");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/nginx", None)
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.manifest_reference(), "latest");
        let r = Reference::parse("ghcr.io/acme/shop/web:1.2.3").expect("parses");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("ghcr.io", "acme/shop/web", Some("1.2.3"))
        );
        let r = Reference::parse(&format!("127.0.0.1:5000/shop/web:v1@sha256:{HEX}")).expect("parses");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.manifest_reference(), format!("sha256:{HEX}"));
        assert_eq!(r.to_string(), format!("127.0.0.1:5000/shop/web:v1@sha256:{HEX}"));
        let r = Reference::parse("localhost/web").expect("parses");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("localhost", "web"));
        assert_eq!(Reference::parse("acme/web:2").expect("parses").repository, "acme/web");
        let digest = Digest::parse(&format!("sha256:{HEX}")).expect("digest");
        assert_eq!(digest.signature_tag(), format!("sha256-{HEX}.sig"));
        assert_eq!(
            Reference::parse("acme/web:2").expect("parses").pinned(&digest),
            format!("docker.io/acme/web:2@sha256:{HEX}")
        );
    }

    #[test]
    fn malformed_references_are_refused_with_the_reason() {
        for (text, why) in [
            ("", "empty"),
            ("web:", "tag"),
            ("Acme/Web", "lowercase"),
            ("web@sha256:abc", "sha256 digest"),
            ("web@md5:0123", "sha256 digest"),
            ("we b", "spaces"),
            ("web:-x", "tag"),
        ] {
            let error = Reference::parse(text).expect_err(text);
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn the_digest_of_bytes_is_their_sha256() {
        assert_eq!(Digest::of(b"").as_str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
