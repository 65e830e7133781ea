//! Judges listed objects with the bundle, exactly as admission judges a CREATE of them: the same
//! engine, every listed object in the inventory, the object's own waiver annotation, the
//! configured namespace overrides. Every violation is a result whatever the policy's
//! enforcement: an audit is where a policy in `audit` or `warn` shows what it would deny.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gatehouse_engine::evaluate::evaluate_in_parallel;
use gatehouse_engine::kinds::group_of;
use gatehouse_engine::review::to_rego;
use gatehouse_engine::waivers::{self, Date};
use gatehouse_engine::{Bundle, Enforcement, EvaluationError, Evaluator, Inventory, Mode, Review, Severity};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Namespaces the webhook never judges: the audit leaves them out too.
    pub exempt_namespaces: Vec<String>,
    pub today: Date,
    pub threads: usize,
    /// List and judge Secrets too: it needs `list` on every Secret of the cluster, so it is off
    /// unless asked for.
    pub secrets: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            exempt_namespaces: ["kube-system", "kube-public", "kube-node-lease"].map(String::from).to_vec(),
            today: Date::today(),
            threads: 2,
            secrets: false,
        }
    }
}

/// An object the audit judged, as reports reference it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The policy is not met.
    Fail,
    /// The policy could not be evaluated on the object: never a pass.
    Error,
    /// The policy is not met, and the object waives it for itself (reason and expiry in its
    /// annotation).
    Waived,
}

/// One policy's verdict on one object, other than a pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditResult {
    pub subject: Arc<Subject>,
    pub policy: String,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub category: String,
    pub message: String,
    /// JSON pointer to the offending field; empty for the whole object.
    pub path: String,
    pub outcome: Outcome,
}

/// An object judged, and the policies that applied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub subject: Arc<Subject>,
    pub policies: Vec<Arc<str>>,
}

/// What one audit found.
#[derive(Debug, Default)]
pub struct Audit {
    pub results: Vec<AuditResult>,
    pub judged: Vec<Judged>,
    /// Objects listed (judged, inventory only, exempt or controlled).
    pub listed: usize,
    /// Objects in an exempt namespace.
    pub exempt: usize,
    /// Objects a judged controller owns (a Deployment's ReplicaSets and Pods): the controller's
    /// results cover them, so they are not judged again.
    pub controlled: usize,
}

impl Audit {
    /// Passing (object, policy) checks of a namespace (`None`: cluster-scoped objects).
    pub fn passes(&self) -> BTreeMap<Option<String>, usize> {
        let failed: BTreeSet<(&Subject, &str)> =
            self.results.iter().map(|r| (&*r.subject, r.policy.as_str())).collect();
        let mut passes = BTreeMap::new();
        for j in &self.judged {
            let passing = j.policies.iter().filter(|p| !failed.contains(&(&*j.subject, &***p))).count();
            *passes.entry(j.subject.namespace.clone()).or_default() += passing;
        }
        passes
    }

    /// Violations of policies that do not deny today, by policy: what switching each to `deny`
    /// would reject among the objects already running.
    pub fn would_deny(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for r in self.results.iter().filter(|r| r.outcome == Outcome::Fail && r.enforcement != Enforcement::Deny) {
            *counts.entry(r.policy.as_str()).or_default() += 1;
        }
        counts
    }
}

fn subject_of(review: &Review, object: &Value) -> Subject {
    Subject {
        api_version: review.api_version().to_string(),
        kind: review.kind().to_string(),
        namespace: review.namespace().map(str::to_string),
        name: review.name().to_string(),
        uid: object.pointer("/metadata/uid").and_then(Value::as_str).map(str::to_string),
    }
}

/// The validating policies that apply to objects of this group and kind.
fn validating(bundle: &Bundle, group: &str, kind: &str) -> Vec<usize> {
    bundle
        .applicable(group, kind)
        .into_iter()
        .filter(|&i| bundle.policies()[i].metadata.mode == Mode::Validate)
        .collect()
}

/// Whether a controller that policies judge owns the object.
fn controlled(bundle: &Bundle, object: &Value) -> bool {
    let Some(owners) = object.pointer("/metadata/ownerReferences").and_then(Value::as_array) else { return false };
    owners.iter().any(|o| {
        let is_controller = o.get("controller").and_then(Value::as_bool) == Some(true);
        let api_version = o.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
        is_controller && !validating(bundle, group_of(api_version), kind).is_empty()
    })
}

/// Judges the objects. Every object is in the inventory; those that policies target, outside
/// the exempt namespaces and not owned by a judged controller, are evaluated on `threads`
/// threads, each with its own clone of the prepared evaluator.
pub fn evaluate(bundle: &Bundle, objects: &[Value], options: &AuditOptions) -> Result<Audit, EvaluationError> {
    // Each object is converted once: its review and the inventory share the value.
    let mut inventory = Inventory::new();
    let mut candidates = Vec::with_capacity(objects.len());
    for object in objects {
        let Ok(review) = Review::from_rego_object(to_rego(object), "default") else { continue };
        inventory.add_review(&review, "default");
        candidates.push((object, review));
    }
    let evaluator = Evaluator::new(bundle, &inventory)?;
    let mut audit = Audit { listed: objects.len(), ..Audit::default() };
    let ids: Vec<Arc<str>> = bundle.policies().iter().map(|p| Arc::from(p.id())).collect();
    let mut reviews: Vec<(Review, Arc<Subject>, Vec<usize>)> = Vec::new();
    for (object, review) in candidates {
        let policies = validating(bundle, review.group(), review.kind());
        if policies.is_empty() {
            continue;
        }
        if review.namespace().is_some_and(|ns| options.exempt_namespaces.iter().any(|e| e == ns)) {
            audit.exempt += 1;
            continue;
        }
        if controlled(bundle, object) {
            audit.controlled += 1;
            continue;
        }
        let subject = Arc::new(subject_of(&review, object));
        reviews.push((review, subject, policies));
    }
    let decisions = evaluate_in_parallel(&evaluator, &reviews, options.threads, |e, (review, _, _)| {
        e.evaluate_mode(review, Mode::Validate)
    });
    let known = |id: &str| bundle.policy(id).is_some();
    let mut categories: BTreeMap<&str, &str> = BTreeMap::new();
    for p in bundle.policies() {
        categories.insert(p.id(), p.metadata.category.as_str());
    }
    for ((review, subject, policies), decision) in reviews.iter().zip(decisions) {
        audit.judged.push(Judged {
            subject: Arc::clone(subject),
            policies: policies.iter().map(|&i| Arc::clone(&ids[i])).collect(),
        });
        let (waived, _) = waivers::in_force_on(review, &known, options.today);
        for v in decision.violations {
            let outcome = if waived.contains(&v.policy) { Outcome::Waived } else { Outcome::Fail };
            let category = categories.get(v.policy.as_str()).copied().unwrap_or_default().to_string();
            audit.results.push(AuditResult {
                subject: Arc::clone(subject),
                policy: v.policy,
                severity: v.severity,
                enforcement: v.enforcement,
                category,
                message: v.message,
                path: v.path,
                outcome,
            });
        }
        for e in decision.errors {
            let policy = e.policy.clone().unwrap_or_else(|| "gatehouse-engine".into());
            let metadata = bundle.policy(&policy).map(|p| &p.metadata);
            audit.results.push(AuditResult {
                subject: Arc::clone(subject),
                severity: metadata.map_or(Severity::High, |m| m.severity),
                enforcement: metadata.map_or(Enforcement::Deny, |m| m.enforcement),
                category: metadata.map(|m| m.category.clone()).unwrap_or_default(),
                policy,
                message: format!("the policy could not be evaluated: {}", e.message),
                path: String::new(),
                outcome: Outcome::Error,
            });
        }
    }
    audit.results.sort_by(|a, b| (&a.subject, &a.policy, &a.path).cmp(&(&b.subject, &b.policy, &b.path)));
    Ok(audit)
}
