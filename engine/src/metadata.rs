//! Policy metadata (`policy.yaml`): what a policy enforces, how hard, on what, with which
//! parameters. It lives beside the Rego so that the security team can change enforcement
//! without touching logic.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::parameters::ParameterSpec;
use crate::yaml::{self, Limits, Node};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown severity {s:?}: expected critical, high, medium, low or info"))
    }
}

/// What happens to a violation: `deny` rejects, `warn` lets through with a warning, `audit`
/// only records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    Deny,
    Warn,
    Audit,
}

impl Enforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Deny => "deny",
            Enforcement::Warn => "warn",
            Enforcement::Audit => "audit",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validating policy reports `violation`s; a mutating one reports `patch` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Validate,
    Mutate,
}

/// The webhook's two validating calls: the security policies, which a cluster enforces with
/// `failurePolicy: Fail`, and every other category (best practices), with `Ignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Security,
    Practices,
}

impl Class {
    pub fn of(category: &str) -> Class {
        if category == "security" { Class::Security } else { Class::Practices }
    }
}

/// Rego language version of `policy.rego`: `v0` lets gatekeeper-library policies be used
/// verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegoVersion {
    V0,
    #[default]
    V1,
}

/// The guideline bullet a policy enforces, quoted from the infrastructure guidelines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guideline {
    pub section: String,
    pub bullet: String,
}

/// What a policy applies to: Kubernetes objects, as in a Gatekeeper constraint's `match.kinds`
/// (`apiGroups` and `kinds`), or, for a policy under `terraform/`, Terraform resource types
/// (`resourceTypes`). `"*"` matches any group, kind or type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KindTarget {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<String>,
}

impl KindTarget {
    pub fn matches(&self, group: &str, kind: &str) -> bool {
        if group == crate::terraform::GROUP {
            return self.resource_types.iter().any(|t| t == "*" || t == kind);
        }
        self.api_groups.iter().any(|g| g == "*" || g == group) && self.kinds.iter().any(|k| k == "*" || k == kind)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyMetadata {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub category: String,
    pub guideline: Guideline,
    pub targets: Vec<KindTarget>,
    #[serde(default = "default_enforcement")]
    pub enforcement: Enforcement,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub rego_version: RegoVersion,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSpec>,
    /// The kinds a cross-resource policy reads from `data.inventory` (Gatekeeper's
    /// `requires-sync-data`): the webhook watches them in the cluster, and says which policies
    /// go without when it runs with `--no-cluster`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<KindTarget>,
    /// A Terraform policy that reads only the configuration (literals, references), never values
    /// after apply: the test suite does not expect it to flag unknown values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configuration_only: bool,
    /// The policy judges the signature checks of the object's images (`input.images`):
    /// `policy-scan images --verify` makes them and evaluates it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reads_images: bool,
    pub remediation: String,
}

fn default_enforcement() -> Enforcement {
    Enforcement::Deny
}

impl PolicyMetadata {
    /// The parameters the policy sees when nothing overrides them. A `null` default leaves the
    /// parameter unset, as an optional field of a Gatekeeper constraint is.
    pub fn default_parameters(&self) -> serde_json::Map<String, Value> {
        self.parameters
            .iter()
            .filter_map(|(name, spec)| spec.default.clone().filter(|d| !d.is_null()).map(|d| (name.clone(), d)))
            .collect()
    }

    pub fn applies_to(&self, group: &str, kind: &str) -> bool {
        self.targets.iter().any(|t| t.matches(group, kind))
    }
}

/// Deserializes a YAML node strictly, mapping a serde error to the position of the field it
/// names.
pub fn deserialize_node<T: DeserializeOwned>(file: &Path, node: &Node) -> Result<T, Diagnostic> {
    let value = node.to_json();
    serde_path_to_error::deserialize::<_, T>(&value).map_err(|e| {
        let segments: Vec<String> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let located = node.locate_segments(segments.iter().map(String::as_str));
        let field = e.path().to_string();
        let message = if field == "." { e.inner().to_string() } else { format!("{field}: {}", e.inner()) };
        Diagnostic::new(file, Some(located.position), message)
    })
}

/// Reads and validates one `policy.yaml`. `folder_name` is the policy's folder, which must
/// carry the policy's id.
/// Policies under `terraform/` judge Terraform resources; every other domain, Kubernetes objects.
pub const TERRAFORM_DOMAIN: &str = "terraform";
/// Policies under `images/` judge the reports `policy-scan images` makes of container images
/// (`scan.gatehouse.dev/v1` `ImageReport`), objects no cluster serves.
pub const IMAGES_DOMAIN: &str = "images";

pub fn load(file: &Path, source: &str, folder_name: &str, domain: &str) -> Result<PolicyMetadata, Vec<Diagnostic>> {
    let node = yaml::parse_single(source, &Limits::default())
        .map_err(|e| vec![Diagnostic::new(file, Some(e.position), e.message)])?;
    let metadata: PolicyMetadata = deserialize_node(file, &node).map_err(|d| vec![d])?;
    let mut problems = Vec::new();
    let at = |field: &str| node.locate(field).position;
    if !is_valid_id(&metadata.id) {
        problems.push(Diagnostic::new(
            file,
            Some(at("/id")),
            format!("id {:?} must be lowercase letters, digits and dashes", metadata.id),
        ));
    } else if metadata.id != folder_name {
        problems.push(Diagnostic::new(
            file,
            Some(at("/id")),
            format!("id {:?} differs from its folder name {folder_name:?}", metadata.id),
        ));
    }
    for (field, value) in [
        ("/title", &metadata.title),
        ("/description", &metadata.description),
        ("/category", &metadata.category),
        ("/remediation", &metadata.remediation),
        ("/guideline/section", &metadata.guideline.section),
        ("/guideline/bullet", &metadata.guideline.bullet),
    ] {
        if value.trim().is_empty() {
            problems.push(Diagnostic::new(file, Some(at(field)), format!("{} must not be empty", &field[1..])));
        }
    }
    if metadata.targets.is_empty() {
        problems.push(Diagnostic::new(file, Some(at("/targets")), "targets must name at least one kind"));
    }
    let terraform = domain == TERRAFORM_DOMAIN;
    for (i, target) in metadata.targets.iter().enumerate() {
        let kubernetes_fields = !target.kinds.is_empty() || !target.api_groups.is_empty();
        let problem = if terraform && (target.resource_types.is_empty() || kubernetes_fields) {
            Some("a Terraform policy's target names resourceTypes (e.g. [aws_db_instance]) and no apiGroups or kinds")
        } else if !terraform && (target.kinds.is_empty() || target.api_groups.is_empty()) {
            Some("a target needs at least one apiGroup (\"\" for the core group) and one kind")
        } else if !terraform && !target.resource_types.is_empty() {
            Some("resourceTypes name Terraform resources: only policies under terraform/ take them")
        } else {
            None
        };
        if let Some(problem) = problem {
            problems.push(Diagnostic::new(file, Some(at(&format!("/targets/{i}"))), problem));
        }
    }
    if terraform && metadata.mode == Mode::Mutate {
        problems.push(Diagnostic::new(
            file,
            Some(at("/mode")),
            "a Terraform policy validates: nothing applies a patch to a plan",
        ));
    }
    if !terraform && metadata.configuration_only {
        problems.push(Diagnostic::new(
            file,
            Some(at("/configurationOnly")),
            "configurationOnly describes Terraform policies only",
        ));
    }
    if terraform && !metadata.inventory.is_empty() {
        problems.push(Diagnostic::new(
            file,
            Some(at("/inventory")),
            "a Terraform policy reads the other resources from input.plan, not from an inventory",
        ));
    }
    for (i, target) in metadata.inventory.iter().enumerate() {
        let all = |names: &[String]| names.iter().any(|n| n == "*");
        if target.kinds.is_empty() || target.api_groups.is_empty() || all(&target.kinds) || all(&target.api_groups) {
            problems.push(Diagnostic::new(
                file,
                Some(at(&format!("/inventory/{i}"))),
                "an inventory entry names its apiGroups (\"\" for the core group) and kinds, without \"*\": \
                 the webhook watches exactly these",
            ));
        }
    }
    for (name, spec) in &metadata.parameters {
        if let Err((field, message)) = spec.check_definition(name) {
            problems.push(Diagnostic::new(file, Some(at(&format!("/parameters/{name}/{field}"))), message));
        }
    }
    if problems.is_empty() { Ok(metadata) } else { Err(problems) }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "id: min-replicas
title: Enough replicas
description: Two or more.
severity: high
category: high-availability
guideline:
  section: High Availability
  bullet: All services deployed with redundancy
targets:
  - apiGroups: [apps]
    kinds: [Deployment]
parameters:
  minReplicas:
    type: integer
    minimum: 1
    default: 2
    description: Fewest replicas.
remediation: Set spec.replicas.
";

    fn errors(source: &str) -> Vec<String> {
        load(Path::new("p/policy.yaml"), source, "min-replicas", "kubernetes")
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_complete_file_loads_with_defaults() {
        let m = load(Path::new("p/policy.yaml"), GOOD, "min-replicas", "kubernetes").expect("valid");
        assert_eq!(m.enforcement, Enforcement::Deny);
        assert_eq!(m.default_parameters()["minReplicas"], 2);
        assert!(m.applies_to("apps", "Deployment"));
        assert!(!m.applies_to("", "Deployment"));
        assert!(m.inventory.is_empty());
    }

    #[test]
    fn inventory_kinds_are_named_without_wildcards() {
        let with = |entry: &str| GOOD.replace("remediation:", &format!("inventory:\n  - {entry}\nremediation:"));
        let m = load(
            Path::new("p/policy.yaml"),
            &with("{apiGroups: [policy], kinds: [PodDisruptionBudget]}"),
            "min-replicas",
            "kubernetes",
        )
        .expect("valid");
        assert_eq!(m.inventory[0].kinds, ["PodDisruptionBudget"]);
        let e = errors(&with("{apiGroups: [\"*\"], kinds: [PodDisruptionBudget]}"));
        assert!(e[0].starts_with("p/policy.yaml:19:5: "), "{e:?}");
        assert!(e[0].contains("without \"*\""), "{e:?}");
    }

    #[test]
    fn unknown_fields_are_refused_at_their_line() {
        let e = errors(&GOOD.replace("category:", "enforcment: warn\ncategory:"));
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("p/policy.yaml:5:1: "), "{e:?}");
        assert!(e[0].contains("unknown field `enforcment`"), "{e:?}");
    }

    #[test]
    fn a_missing_id_and_a_bad_severity_are_named() {
        let e = errors(&GOOD.replace("id: min-replicas\n", ""));
        assert!(e[0].contains("missing field `id`"), "{e:?}");
        let e = errors(&GOOD.replace("severity: high", "severity: urgent"));
        assert!(e[0].starts_with("p/policy.yaml:4:"), "{e:?}");
        assert!(e[0].contains("unknown variant `urgent`"), "{e:?}");
    }

    #[test]
    fn an_id_must_match_its_folder_and_defaults_their_schema() {
        let e = errors(&GOOD.replace("id: min-replicas", "id: other-id"));
        assert!(e[0].contains("differs from its folder name"), "{e:?}");
        let e = errors(&GOOD.replace("default: 2", "default: two"));
        assert!(e[0].starts_with("p/policy.yaml:16:5: "), "{e:?}");
        assert!(e[0].contains("minReplicas"), "{e:?}");
    }
}
