//! Image signature verification, shared by the webhook (at admission) and the scanner (in CI):
//! an image reference is resolved to its manifest digest, and the cosign signatures stored
//! beside it are checked against the configured public keys. Verdicts are cached by digest
//! (verified ones longer than rejected ones), and concurrent checks of one image make one set
//! of registry calls.

pub mod attestation;
pub mod cache;
pub mod cosign;
pub mod reference;
pub mod registry;
pub mod rules;
#[cfg(feature = "test-registry")]
pub mod testing;

use std::time::Duration;

pub use cosign::PublicKey;
pub use reference::{Digest, Reference};
pub use registry::{Credentials, Registry, RegistryError};

use cache::{Cache, Source};
use cosign::{Rejection, SignatureLayer};

/// A mutex whose holder panicked is still usable: the data is plain.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The keys one trust rule accepts, and a fingerprint of them for cache keys.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<PublicKey>,
    fingerprint: String,
}

impl KeySet {
    pub fn new(keys: Vec<PublicKey>) -> KeySet {
        let mut names: Vec<String> = keys.iter().map(|k| format!("{}={:?}", k.name, k)).collect();
        names.sort();
        let fingerprint = Digest::of(names.join("\n").as_bytes()).to_string();
        KeySet { keys, fingerprint }
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

/// What the check of one image found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Verified {
        digest: Digest,
        key: String,
    },
    Unsigned {
        digest: Digest,
    },
    /// Signatures, none valid: by another key, tampered, or for another digest.
    Invalid {
        digest: Digest,
        reasons: Vec<String>,
    },
    /// The registry could not be asked, or did not answer in time: the caller's failure action
    /// decides.
    Unavailable {
        reason: String,
    },
    Malformed {
        reason: String,
    },
}

impl Verdict {
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Verdict::Verified { digest, .. } | Verdict::Unsigned { digest } | Verdict::Invalid { digest, .. } => {
                Some(digest)
            }
            Verdict::Unavailable { .. } | Verdict::Malformed { .. } => None,
        }
    }
}

/// How long verdicts are kept, and how many.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// A verified digest: its signatures do not change.
    pub verified: Duration,
    /// An unsigned or invalid one: a signature may be pushed after the image.
    pub rejected: Duration,
    /// A registry that failed: briefly, so that a registry that is down is not asked again by
    /// every admission.
    pub unavailable: Duration,
    /// What a tag points to: tags move.
    pub tag: Duration,
    pub entries: usize,
}

impl Default for CacheSettings {
    fn default() -> CacheSettings {
        CacheSettings {
            verified: Duration::from_secs(3600),
            rejected: Duration::from_secs(60),
            unavailable: Duration::from_secs(5),
            tag: Duration::from_secs(60),
            entries: 10_000,
        }
    }
}

/// Checks images, with its caches.
#[derive(Debug)]
pub struct Verifier {
    registry: Registry,
    settings: CacheSettings,
    tags: Cache<Result<Digest, RegistryError>>,
    verdicts: Cache<Verdict>,
    attestations: Cache<AttestationVerdict>,
}

/// What an image's vulnerability attestations show, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestationVerdict {
    Checked(attestation::Finding),
    Unavailable { reason: String },
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Verifier {
    /// The newest signed vulnerability attestation of `digest` (in `image`'s repository),
    /// judged against `need`. A passing one is kept until it would go stale, at most as long as
    /// a verified signature.
    pub async fn attestation(
        &self,
        image: &Reference,
        digest: &Digest,
        keys: &KeySet,
        need: &attestation::Requirement,
    ) -> (AttestationVerdict, Source) {
        let key = format!(
            "att {}/{}@{digest} {} {}/{:?}/{}",
            image.registry,
            image.repository,
            keys.fingerprint,
            need.max_age_seconds,
            need.severity,
            need.ignore_unfixed
        );
        let settings = self.settings;
        let ttl = move |v: &AttestationVerdict| match v {
            AttestationVerdict::Checked(attestation::Finding::Passed { scanned_at }) => {
                let left = (scanned_at + need.max_age_seconds).saturating_sub(now_seconds());
                settings.verified.min(Duration::from_secs(left))
            }
            AttestationVerdict::Checked(_) => settings.rejected,
            AttestationVerdict::Unavailable { .. } => settings.unavailable,
        };
        self.attestations.get_or_fetch(&key, ttl, || self.read_attestations(image, digest, keys, need)).await
    }

    async fn read_attestations(
        &self,
        image: &Reference,
        digest: &Digest,
        keys: &KeySet,
        need: &attestation::Requirement,
    ) -> AttestationVerdict {
        let tag = digest.signature_tag().replace(".sig", ".att");
        let manifest = match self.registry.manifest(image, &tag).await {
            Ok(m) => m,
            Err(RegistryError::NotFound(_)) => return AttestationVerdict::Checked(attestation::Finding::Missing),
            Err(RegistryError::Failed(reason)) => return AttestationVerdict::Unavailable { reason },
        };
        let manifest: serde_json::Value = match serde_json::from_slice(&manifest) {
            Ok(m) => m,
            Err(e) => {
                let reason = format!("the attestation manifest is not JSON: {e}");
                return AttestationVerdict::Checked(attestation::Finding::Invalid(vec![reason]));
            }
        };
        let mut envelopes = Vec::new();
        let layers = manifest["layers"].as_array().map(Vec::as_slice).unwrap_or_default();
        for layer in layers.iter().filter(|l| l["mediaType"] == attestation::DSSE_ENVELOPE) {
            let Some(Ok(blob)) = layer["digest"].as_str().map(Digest::parse) else { continue };
            match self.registry.blob(image, &blob).await {
                Ok(bytes) => envelopes.push(bytes.to_vec()),
                Err(RegistryError::NotFound(_)) => {}
                Err(RegistryError::Failed(reason)) => return AttestationVerdict::Unavailable { reason },
            }
        }
        AttestationVerdict::Checked(attestation::judge(&envelopes, digest, keys.keys(), need, now_seconds()))
    }

    pub fn new(registry: Registry, settings: CacheSettings) -> Verifier {
        Verifier {
            registry,
            settings,
            tags: Cache::new(settings.entries),
            verdicts: Cache::new(settings.entries),
            attestations: Cache::new(settings.entries),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The digest an image reference names: its own, or what its tag points to now.
    pub async fn resolve(&self, image: &Reference) -> Result<Digest, RegistryError> {
        if let Some(digest) = &image.digest {
            return Ok(digest.clone());
        }
        let settings = self.settings;
        let key = image.to_string();
        let ttl = move |r: &Result<Digest, RegistryError>| if r.is_ok() { settings.tag } else { settings.unavailable };
        self.tags.get_or_fetch(&key, ttl, || self.registry.manifest_digest(image)).await.0
    }

    /// Whether `image` is signed by one of `keys`; a reference by tag is resolved first.
    pub async fn verify(&self, image: &str, keys: &KeySet) -> (Verdict, Source) {
        let image = match Reference::parse(image) {
            Ok(r) => r,
            Err(reason) => return (Verdict::Malformed { reason }, Source::Fetched),
        };
        let digest = match self.resolve(&image).await {
            Ok(d) => d,
            Err(RegistryError::NotFound(what)) => {
                return (Verdict::Malformed { reason: format!("no such image or tag ({what})") }, Source::Fetched);
            }
            Err(RegistryError::Failed(reason)) => return (Verdict::Unavailable { reason }, Source::Fetched),
        };
        let key = format!("{}/{}@{digest} {}", image.registry, image.repository, keys.fingerprint);
        let settings = self.settings;
        let ttl = move |v: &Verdict| match v {
            Verdict::Verified { .. } => settings.verified,
            Verdict::Unsigned { .. } | Verdict::Invalid { .. } => settings.rejected,
            Verdict::Unavailable { .. } => settings.unavailable,
            Verdict::Malformed { .. } => Duration::ZERO,
        };
        self.verdicts.get_or_fetch(&key, ttl, || self.check(&image, digest.clone(), keys)).await
    }

    async fn check(&self, image: &Reference, digest: Digest, keys: &KeySet) -> Verdict {
        let manifest = match self.registry.manifest(image, &digest.signature_tag()).await {
            Ok(m) => m,
            Err(RegistryError::NotFound(_)) => return Verdict::Unsigned { digest },
            Err(RegistryError::Failed(reason)) => return Verdict::Unavailable { reason },
        };
        let listed = match cosign::signature_layers(&manifest) {
            Ok(l) => l,
            Err(reason) => return Verdict::Invalid { digest, reasons: vec![reason] },
        };
        let mut layers = Vec::new();
        for (payload_digest, signature) in listed {
            match self.registry.blob(image, &payload_digest).await {
                Ok(payload) => layers.push(SignatureLayer { payload: payload.to_vec(), signature }),
                Err(RegistryError::NotFound(what)) => {
                    return Verdict::Invalid {
                        digest,
                        reasons: vec![format!("a signature's payload is missing ({what})")],
                    };
                }
                Err(RegistryError::Failed(reason)) => return Verdict::Unavailable { reason },
            }
        }
        match cosign::check(&layers, &digest, keys.keys()) {
            Ok(key) => Verdict::Verified { digest, key },
            Err(Rejection::Unsigned) => Verdict::Unsigned { digest },
            Err(Rejection::Invalid(reasons)) => Verdict::Invalid { digest, reasons },
        }
    }
}
