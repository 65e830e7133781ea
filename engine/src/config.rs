//! The configuration file: per-policy enforcement, parameters and on/off switches, so that a
//! platform team tunes the bundle without editing it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::metadata::{Enforcement, deserialize_node};
use crate::yaml::{self, Limits, Node};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub policies: BTreeMap<String, PolicyOverride>,
    /// Enforcement by namespace label, over the per-policy one: the first entry whose selector
    /// matches the object's namespace applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<NamespaceOverride>,
    /// Which images must be signed, by which keys: the webhook and `policy-scan images
    /// --verify` check them and give the results to the policies as `input.images`.
    #[serde(default, rename = "imageVerification", skip_serializing_if = "ImageVerification::is_default")]
    pub image_verification: ImageVerification,
    /// Where each override came from, for errors found when it is applied to a bundle.
    #[serde(skip)]
    pub source: Option<SourceMap>,
}

/// The signature rules, and how registries are reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageVerification {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<SignatureRule>,
    /// Registries spoken to over plain HTTP (`host:port`), as Docker's insecure registries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plain_http: Vec<String>,
    /// A Docker config file with pull credentials by registry (the `.dockerconfigjson` of an
    /// imagePullSecret); anonymous pulls without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// The most one registry call may take.
    #[serde(default = "default_registry_timeout")]
    pub timeout_milliseconds: u64,
    /// How long verdicts are kept: a verified digest, an unsigned or invalid one, a registry
    /// error, and what a tag points to.
    #[serde(default = "default_verified_seconds")]
    pub verified_seconds: u64,
    #[serde(default = "default_rejected_seconds")]
    pub rejected_seconds: u64,
    #[serde(default = "default_unavailable_seconds")]
    pub unavailable_seconds: u64,
    #[serde(default = "default_tag_seconds")]
    pub tag_seconds: u64,
    #[serde(default = "default_cache_entries")]
    pub cache_entries: usize,
}

impl Default for ImageVerification {
    fn default() -> ImageVerification {
        ImageVerification::default_settings()
    }
}

fn default_registry_timeout() -> u64 {
    2_000
}
fn default_verified_seconds() -> u64 {
    3_600
}
fn default_rejected_seconds() -> u64 {
    60
}
fn default_unavailable_seconds() -> u64 {
    5
}
fn default_tag_seconds() -> u64 {
    60
}
fn default_cache_entries() -> usize {
    10_000
}

impl ImageVerification {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether anything but the defaults is set, for serialising.
    fn is_default(&self) -> bool {
        *self == ImageVerification::default_settings()
    }

    fn default_settings() -> ImageVerification {
        ImageVerification {
            rules: Vec::new(),
            plain_http: Vec::new(),
            credentials: None,
            timeout_milliseconds: default_registry_timeout(),
            verified_seconds: default_verified_seconds(),
            rejected_seconds: default_rejected_seconds(),
            unavailable_seconds: default_unavailable_seconds(),
            tag_seconds: default_tag_seconds(),
            cache_entries: default_cache_entries(),
        }
    }

    /// The index of the first rule that covers `image` in `namespace` (`None` for a
    /// cluster-scoped object).
    pub fn rule_for(&self, image: &str, namespace: Option<&str>) -> Option<usize> {
        self.rules.iter().position(|r| {
            r.images.iter().any(|p| glob_matches(p, image))
                && (r.namespaces.is_empty() || r.namespaces.iter().any(|p| glob_matches(p, namespace.unwrap_or(""))))
        })
    }
}

/// Images (by reference glob: `registry.example/shop/*`) that must carry a cosign signature by
/// one of `keys` (PEM public keys), in the namespaces named (all when none are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignatureRule {
    pub name: String,
    pub images: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    pub keys: Vec<String>,
    /// What a review gets when the registry cannot be asked in time: `deny` (the default) or
    /// `allow`.
    #[serde(default)]
    pub on_registry_error: RegistryErrorAction,
    /// Also require a signed vulnerability attestation (`cosign attest --type vuln`) by the same
    /// keys: recent enough, and without findings at the severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttestationRule {
    /// The oldest scan accepted.
    #[serde(default = "default_max_age_hours")]
    pub max_age_hours: u64,
    /// UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL: a finding at or above it fails.
    #[serde(default = "default_attestation_severity")]
    pub severity: String,
    /// Count only findings that have a fix.
    #[serde(default)]
    pub ignore_unfixed: bool,
}

fn default_max_age_hours() -> u64 {
    168
}

fn default_attestation_severity() -> String {
    "HIGH".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryErrorAction {
    #[default]
    Deny,
    Allow,
}

/// `*` matches any run of characters (slashes included), everything else itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Enforcement>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub parameters: serde_json::Map<String, Value>,
}

/// Enforcement for the namespaces whose labels match a selector, for every policy
/// (`enforcement`) or for the ones named (`policies`, which win).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceOverride {
    pub namespace_selector: LabelSelector,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Enforcement>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Enforcement>,
}

impl NamespaceOverride {
    /// The enforcement this override sets for a policy, if any.
    pub fn enforcement_of(&self, policy: &str) -> Option<Enforcement> {
        self.policies.get(policy).copied().or(self.enforcement)
    }
}

/// A Kubernetes `metav1.LabelSelector`: every `matchLabels` pair and every expression must hold;
/// an empty selector matches every namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: LabelOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    LabelOperator::In => value.is_some_and(|v| r.values.contains(v)),
                    LabelOperator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    LabelOperator::Exists => value.is_some(),
                    LabelOperator::DoesNotExist => value.is_none(),
                }
            })
    }

    /// What is wrong with the selector, as the API server would say it, with the field.
    fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for (i, r) in self.match_expressions.iter().enumerate() {
            let needs_values = matches!(r.operator, LabelOperator::In | LabelOperator::NotIn);
            if needs_values == r.values.is_empty() {
                let message = if needs_values {
                    format!("operator {:?} needs at least one value", r.operator)
                } else {
                    format!("operator {:?} takes no values", r.operator)
                };
                problems.push((format!("matchExpressions/{i}/operator"), message));
            }
        }
        problems
    }
}

/// The parsed file, kept to point errors at lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMap {
    pub file: std::path::PathBuf,
    pub root: Node,
}

impl SourceMap {
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, Some(self.root.locate(pointer).position), message)
    }
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, Diagnostics> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::in_file(path, format!("cannot read the configuration: {e}")))?;
        Config::from_source(path, &source)
    }

    pub fn from_source(path: &Path, source: &str) -> Result<Config, Diagnostics> {
        let root = yaml::parse_single(source, &Limits::default())
            .map_err(|e| Diagnostic::new(path, Some(e.position), e.message))?;
        let mut config: Config = deserialize_node(path, &root)?;
        config.source = Some(SourceMap { file: path.to_path_buf(), root });
        let mut problems = Vec::new();
        for (i, over) in config.namespaces.iter().enumerate() {
            if over.enforcement.is_none() && over.policies.is_empty() {
                problems.push(config.diagnostic(
                    &format!("/namespaces/{i}"),
                    "a namespace override sets `enforcement`, `policies` or both",
                ));
            }
            for (field, message) in over.namespace_selector.problems() {
                problems.push(config.diagnostic(&format!("/namespaces/{i}/namespaceSelector/{field}"), message));
            }
        }
        if problems.is_empty() { Ok(config) } else { Err(Diagnostics(problems)) }
    }

    /// The enforcement the namespace overrides set for a policy in a namespace with these labels.
    pub fn namespace_enforcement(&self, policy: &str, labels: &BTreeMap<String, String>) -> Option<Enforcement> {
        namespace_enforcement(&self.namespaces, policy, labels)
    }

    /// Points at an override's field, or at the file when the config was built in code.
    pub(crate) fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        match &self.source {
            Some(map) => map.diagnostic(pointer, message),
            None => Diagnostic::in_file(Path::new("<configuration>"), message),
        }
    }
}

pub(crate) fn namespace_enforcement(
    overrides: &[NamespaceOverride],
    policy: &str,
    labels: &BTreeMap<String, String>,
) -> Option<Enforcement> {
    overrides.iter().find(|o| o.namespace_selector.matches(labels)).and_then(|o| o.enforcement_of(policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn signature_rules_match_images_by_glob_and_namespace_and_keep_their_defaults() {
        let config = Config::from_source(
            Path::new("gatehouse.yaml"),
            "imageVerification:
  plainHttp: [\"127.0.0.1:5000\"]
  rules:
    - name: shop
      images: [\"rg.fr-par.scw.cloud/shop/*\"]
      namespaces: [shop, \"shop-*\"]
      keys: [k]
    - name: all
      images: [\"*\"]
      keys: [k]
      onRegistryError: allow
",
        )
        .expect("config");
        let v = &config.image_verification;
        assert_eq!((v.timeout_milliseconds, v.verified_seconds, v.rejected_seconds), (2_000, 3_600, 60));
        assert_eq!(v.rule_for("rg.fr-par.scw.cloud/shop/web:1", Some("shop-eu")), Some(0));
        assert_eq!(v.rule_for("rg.fr-par.scw.cloud/shop/web:1", Some("billing")), Some(1));
        assert_eq!(v.rule_for("rg.fr-par.scw.cloud/shop/web:1", None), Some(1));
        assert_eq!(v.rules[1].on_registry_error, RegistryErrorAction::Allow);
        assert!(
            glob_matches("a*b*c", "a-b-c")
                && glob_matches("a*", "a")
                && !glob_matches("a*b", "ab-")
                && glob_matches("x", "x")
        );
        let error = Config::from_source(Path::new("g.yaml"), "imageVerification:\n  rules:\n    - name: x\n      images: [a]\n      keys: [k]\n      onRegistryError: maybe\n")
            .expect_err("an unknown action");
        assert!(error.to_string().contains("g.yaml:6:"), "{error}");
    }

    #[test]
    fn the_first_matching_namespace_override_sets_enforcement() {
        let config = Config::from_source(
            Path::new("gatehouse.yaml"),
            "namespaces:
  - namespaceSelector:
      matchLabels: {gatehouse.dev/enforcement: audit}
    enforcement: audit
  - namespaceSelector:
      matchExpressions:
        - {key: env, operator: In, values: [dev, test]}
    enforcement: warn
    policies:
      require-pdb: audit
",
        )
        .expect("valid");
        let dev = labels(&[("env", "dev")]);
        assert_eq!(config.namespace_enforcement("require-probes", &dev), Some(Enforcement::Warn));
        assert_eq!(config.namespace_enforcement("require-pdb", &dev), Some(Enforcement::Audit));
        let both = labels(&[("env", "dev"), ("gatehouse.dev/enforcement", "audit")]);
        assert_eq!(config.namespace_enforcement("require-probes", &both), Some(Enforcement::Audit));
        assert_eq!(config.namespace_enforcement("require-probes", &labels(&[("env", "prod")])), None);
        assert_eq!(config.namespace_enforcement("require-probes", &labels(&[])), None);
    }

    #[test]
    fn selector_operators_follow_kubernetes() {
        let selector = |operator: LabelOperator, values: &[&str]| LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelRequirement {
                key: "tier".into(),
                operator,
                values: values.iter().map(|v| v.to_string()).collect(),
            }],
        };
        let front = labels(&[("tier", "front")]);
        let none = labels(&[]);
        assert!(selector(LabelOperator::In, &["front"]).matches(&front));
        assert!(!selector(LabelOperator::In, &["back"]).matches(&front));
        assert!(!selector(LabelOperator::NotIn, &["front"]).matches(&front));
        assert!(selector(LabelOperator::NotIn, &["front"]).matches(&none));
        assert!(selector(LabelOperator::Exists, &[]).matches(&front));
        assert!(selector(LabelOperator::DoesNotExist, &[]).matches(&none));
        assert!(LabelSelector::default().matches(&none));
    }

    #[test]
    fn malformed_overrides_are_refused_at_their_line() {
        let e = Config::from_source(
            Path::new("gatehouse.yaml"),
            "namespaces:
  - namespaceSelector: {matchLabels: {team: a}}
  - namespaceSelector:
      matchExpressions:
        - {key: env, operator: In}
    enforcement: warn
",
        )
        .expect_err("invalid")
        .to_string();
        assert!(e.contains("gatehouse.yaml:2:5: a namespace override sets"), "{e}");
        assert!(e.contains("gatehouse.yaml:5:22: operator In needs at least one value"), "{e}");
        let e = Config::from_source(
            Path::new("g.yaml"),
            "namespaces:\n  - namespaceSelector: {}\n    enforcement: block\n",
        )
        .expect_err("invalid")
        .to_string();
        assert!(e.contains("g.yaml:3:5: namespaces[0].enforcement: unknown variant `block`"), "{e}");
    }
}
