//! The configuration's signature rules applied to a review: the images a rule covers are
//! verified (through the caching verifier), and the results are what the policies get as
//! `input.images`. The webhook does it before the policies run at admission, and
//! `policy-scan images --verify` for every workload it scans.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::attestation::{Finding, Requirement, Severity, rfc3339};
use crate::cache::Source;
use crate::{AttestationVerdict, CacheSettings, KeySet, PublicKey, Reference, Registry, Verdict, Verifier};
use gatehouse_engine::config::{ImageVerification, RegistryErrorAction};
use gatehouse_engine::images::images_of;
use gatehouse_engine::review::to_rego;
use gatehouse_engine::{Bundle, Review};
use serde_json::{Value, json};

/// A generation's signature rules, their keys parsed.
#[derive(Debug, Default)]
pub struct SignatureRules {
    config: ImageVerification,
    keys: Vec<KeySet>,
    attestations: Vec<Option<Requirement>>,
}

impl SignatureRules {
    /// The bundle's rules; a key that is not a P-256 PEM public key names its rule.
    pub fn of(bundle: &Bundle) -> Result<SignatureRules, String> {
        let config = bundle.image_verification().clone();
        let mut keys = Vec::new();
        let mut attestations = Vec::new();
        for rule in &config.rules {
            attestations.push(match &rule.attestation {
                None => None,
                Some(a) => Some(Requirement {
                    max_age_seconds: a.max_age_hours.saturating_mul(3600),
                    severity: Severity::parse(&a.severity).ok_or_else(|| {
                        format!(
                            "imageVerification rule {:?}: attestation severity {:?} is not UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL",
                            rule.name, a.severity
                        )
                    })?,
                    ignore_unfixed: a.ignore_unfixed,
                }),
            });
            let mut parsed = Vec::new();
            for (i, pem) in rule.keys.iter().enumerate() {
                let name = format!("{}[{i}]", rule.name);
                parsed.push(
                    PublicKey::from_pem(&name, pem)
                        .map_err(|e| format!("imageVerification rule {:?}: {e}", rule.name))?,
                );
            }
            if parsed.is_empty() {
                return Err(format!("imageVerification rule {:?} names no key", rule.name));
            }
            keys.push(KeySet::new(parsed));
        }
        Ok(SignatureRules { config, keys, attestations })
    }

    pub fn is_empty(&self) -> bool {
        self.config.rules.is_empty()
    }

    /// How the verifier reaches registries and keeps verdicts: read once, at the first check.
    pub fn verifier(&self) -> Result<Verifier, String> {
        let c = &self.config;
        let mut registry = Registry::new(c.plain_http.clone(), Duration::from_millis(c.timeout_milliseconds.max(1)))?;
        if let Some(file) = &c.credentials {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("imageVerification.credentials {file}: cannot read: {e}"))?;
            let credentials = crate::Credentials::from_docker_config(&text)
                .map_err(|e| format!("imageVerification.credentials {file}: {e}"))?;
            registry = registry.with_credentials(credentials);
        }
        let settings = CacheSettings {
            verified: Duration::from_secs(c.verified_seconds),
            rejected: Duration::from_secs(c.rejected_seconds),
            unavailable: Duration::from_secs(c.unavailable_seconds),
            tag: Duration::from_secs(c.tag_seconds),
            entries: c.cache_entries,
        };
        Ok(Verifier::new(registry, settings))
    }
}

fn attestation_result(verdict: AttestationVerdict) -> Value {
    match verdict {
        AttestationVerdict::Checked(Finding::Passed { scanned_at }) => {
            json!({"verdict": "passed", "scannedAt": rfc3339(scanned_at)})
        }
        AttestationVerdict::Checked(Finding::Missing) => json!({"verdict": "missing"}),
        AttestationVerdict::Checked(Finding::Stale { scanned_at }) => {
            json!({"verdict": "stale", "scannedAt": rfc3339(scanned_at)})
        }
        AttestationVerdict::Checked(Finding::Vulnerable { scanned_at, findings }) => {
            json!({"verdict": "vulnerable", "scannedAt": rfc3339(scanned_at), "findings": findings})
        }
        AttestationVerdict::Checked(Finding::Invalid(reasons)) => json!({"verdict": "invalid", "reasons": reasons}),
        AttestationVerdict::Unavailable { reason } => json!({"verdict": "unavailable", "reason": reason}),
    }
}

fn verdict_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Verified { .. } => "verified",
        Verdict::Unsigned { .. } => "unsigned",
        Verdict::Invalid { .. } => "invalid",
        Verdict::Unavailable { .. } => "unavailable",
        Verdict::Malformed { .. } => "malformed",
    }
}

fn result(verdict: Verdict, rule: &str, on_error: RegistryErrorAction) -> Value {
    let name = verdict_name(&verdict);
    let mut value = match verdict {
        Verdict::Verified { digest, key } => json!({"verdict": name, "digest": digest.as_str(), "key": key}),
        Verdict::Unsigned { digest } => json!({"verdict": "unsigned", "digest": digest.as_str()}),
        Verdict::Invalid { digest, reasons } => {
            json!({"verdict": "invalid", "digest": digest.as_str(), "reasons": reasons})
        }
        Verdict::Unavailable { reason } => json!({"verdict": "unavailable", "reason": reason}),
        Verdict::Malformed { reason } => json!({"verdict": "malformed", "reason": reason}),
    };
    value["rule"] = json!(rule);
    value["onRegistryError"] = json!(match on_error {
        RegistryErrorAction::Deny => "deny",
        RegistryErrorAction::Allow => "allow",
    });
    value
}

/// What the checks of one review found.
#[derive(Debug, Clone)]
pub struct Checks {
    /// `input.images`: by image reference, `{verdict, digest, key, reason(s), rule,
    /// onRegistryError, attestation}`.
    pub images: Value,
    /// Per image: its verdict's name, where the verdict came from, and how long it took.
    pub outcomes: Vec<(&'static str, Source, Duration)>,
}

/// The checks of the review's covered images, by image reference, each bounded by `deadline`
/// (past it, the image is `unavailable`, and so is every image when there is no verifier);
/// `None` when no rule covers any of its images.
pub async fn check(
    verifier: &Result<Arc<Verifier>, String>,
    rules: &SignatureRules,
    review: &Review,
    deadline: Duration,
) -> Option<Checks> {
    // Most reviews are of kinds that run no pods: they are not converted to look for images.
    if review.operation() == "DELETE" || gatehouse_engine::images::pod_spec_pointer(review.kind()).is_none() {
        return None;
    }
    let object = review.object()?;
    let mut covered: BTreeMap<String, usize> = BTreeMap::new();
    for found in images_of(review.kind(), &object) {
        if let Some(rule) = rules.config.rule_for(&found.image, review.namespace()) {
            covered.entry(found.image).or_insert(rule);
        }
    }
    if covered.is_empty() {
        return None;
    }
    let checks = covered.into_iter().map(|(image, index)| {
        let rule = &rules.config.rules[index];
        let keys = &rules.keys[index];
        let need = rules.attestations[index].as_ref();
        let late = || format!("no answer within {} ms, the time this review allows", deadline.as_millis());
        async move {
            let started = std::time::Instant::now();
            let verifier = match verifier {
                Ok(v) => v,
                Err(e) => {
                    let verdict = Verdict::Unavailable { reason: format!("no registry client: {e}") };
                    let outcome = ("unavailable", Source::Fetched, started.elapsed());
                    return (image, result(verdict, &rule.name, rule.on_registry_error), outcome);
                }
            };
            let checks = async {
                let (verdict, source) = verifier.verify(&image, keys).await;
                let attested = match (&verdict, need, Reference::parse(&image)) {
                    (Verdict::Verified { digest, .. }, Some(need), Ok(reference)) => {
                        Some(verifier.attestation(&reference, digest, keys, need).await.0)
                    }
                    _ => None,
                };
                (verdict, source, attested)
            };
            let (verdict, source, attested) = match tokio::time::timeout(deadline, checks).await {
                Ok(done) => done,
                Err(_) => (Verdict::Unavailable { reason: late() }, Source::Fetched, None),
            };
            let outcome = (verdict_name(&verdict), source, started.elapsed());
            let mut value = result(verdict, &rule.name, rule.on_registry_error);
            if let Some(attested) = attested {
                value["attestation"] = attestation_result(attested);
            }
            (image, value, outcome)
        }
    });
    let mut images = serde_json::Map::new();
    let mut outcomes = Vec::new();
    for (image, value, outcome) in futures::future::join_all(checks).await {
        images.insert(image, value);
        outcomes.push(outcome);
    }
    Some(Checks { images: Value::Object(images), outcomes })
}

/// Puts the checks into the review's input.
pub fn attach(review: &mut Review, checks: &Checks) {
    review.set_images(to_rego(&checks.images));
}
