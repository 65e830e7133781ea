//! One result model for every output format, and the exit code computed from it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use gatehouse_engine::metadata::Guideline;
use gatehouse_engine::{Bundle, Enforcement, Severity};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

/// The `apiVersion` a Terraform resource is reported under; its kind is the resource type and
/// its name the address.
pub const TERRAFORM_API_VERSION: &str = "terraform";

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.api_version == TERRAFORM_API_VERSION {
            return f.write_str(&self.name);
        }
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Why a finding does not count: the waiver that covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub reason: String,
    pub expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Where the waiver is written.
    pub waiver: Location,
    /// True for the resource's own annotation, false for a waiver file.
    pub annotation: bool,
}

/// A waiver the run reports on: expired (it no longer waives) or unused (it matched nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverNotice {
    pub policy: String,
    pub reason: String,
    pub expires: String,
    pub location: Location,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WaiverReport {
    pub expired: Vec<WaiverNotice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused: Vec<WaiverNotice>,
}

/// A policy violation on one field of one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub policy: String,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub message: String,
    /// JSON pointer to the offending field within the resource.
    pub path: String,
    pub location: Location,
    /// False when the field is missing and the location is that of its nearest parent.
    pub exact: bool,
    pub resource: Resource,
    /// Shared by every finding of the policy: a large scan holds many.
    pub remediation: Arc<str>,
    /// The guideline bullet the policy enforces (from its metadata), so that a report groups
    /// findings by guideline section without the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guideline: Option<Arc<Guideline>>,
    /// Set when a waiver covers the finding: it is reported, and does not fail the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// For a resource of a Helm or Kustomize render: the render, and the field in its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<crate::render::Rendered>,
    /// For a finding of `policy-scan images`: the image whose report raised it, and the
    /// vulnerability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageFinding>,
}

/// What a finding on an image's vulnerability report names beyond its policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFinding {
    /// The image reference as the manifest writes it.
    pub reference: String,
    /// The vulnerability, when the policy's violation details name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<Vulnerability>,
}

/// A vulnerability as the image policies' violation `details` give it (trivy's fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vulnerability {
    #[serde(rename = "vulnerabilityID")]
    pub id: String,
    /// trivy's severity: UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL.
    pub severity: String,
    pub pkg_name: String,
    pub installed_version: String,
    /// Empty when no fixed version exists.
    #[serde(default)]
    pub fixed_version: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, rename = "primaryURL")]
    pub primary_url: String,
    /// The part of the image trivy found the package in (the OS, a lock file, a binary).
    #[serde(default)]
    pub target: String,
}

impl ImageFinding {
    /// What tells two findings on one image field apart: the image, the vulnerability and the
    /// package (one CVE may be in several packages); fixed versions change with trivy's database
    /// and are left out.
    fn key_suffix(&self) -> String {
        match &self.vulnerability {
            Some(v) => format!("|{}|{}|{}|{}", self.reference, v.id, v.pkg_name, v.target),
            None => format!("|{}", self.reference),
        }
    }
}

/// The key of a finding with its image part, as [`Finding::key`] makes it.
pub fn with_image_key(key: String, image: Option<&ImageFinding>) -> String {
    match image {
        Some(image) => key + &image.key_suffix(),
        None => key,
    }
}

/// [`Finding::key`] from its parts: policy, apiVersion, kind, namespace, name, path, and for a
/// rendered finding its chart and values (the same object of two renders is two findings).
pub fn finding_key(parts: [&str; 6], render: Option<(&str, Vec<String>)>) -> String {
    let mut key = parts.join("|");
    if let Some((root, values)) = render {
        key.push_str(&format!("|{root}|{}", values.join(",")));
    }
    key
}

/// A resource as reports name it: with the render it comes from, when it is rendered.
fn subject(resource: &Resource, rendered: Option<&crate::render::Rendered>) -> String {
    match rendered {
        Some(r) => {
            let hook = r.hook.as_deref().map(|h| format!(", helm hook {h}")).unwrap_or_default();
            format!("{resource} (rendered by `{}`{hook})", r.command)
        }
        None => resource.to_string(),
    }
}

impl Evaluated {
    pub fn subject(&self) -> String {
        subject(&self.resource, self.rendered.as_ref())
    }
}

impl Finding {
    pub fn subject(&self) -> String {
        subject(&self.resource, self.rendered.as_ref())
    }

    /// What identifies a finding across runs, for baselines and fingerprints.
    pub fn key(&self) -> String {
        let render = self.rendered.as_ref().map(|r| (r.root.as_str(), r.values.clone()));
        with_image_key(resource_finding_key(&self.policy, &self.resource, &self.path, render), self.image.as_ref())
    }
}

/// [`finding_key`] of a finding of `policy` at `path` of `resource` (in a render, when given):
/// the written report's findings and those read back are keyed alike.
pub fn resource_finding_key(policy: &str, r: &Resource, path: &str, render: Option<(&str, Vec<String>)>) -> String {
    finding_key([policy, &r.api_version, &r.kind, r.namespace.as_deref().unwrap_or(""), &r.name, path], render)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// A source that could not be read (missing, binary, too large).
    Read,
    /// A source that is not valid YAML or JSON.
    Parse,
    /// A policy that could not be evaluated on a resource.
    Evaluation,
    /// A chart or kustomization that could not be rendered.
    Render,
    /// An image trivy could not scan (missing, failed, timed out, or wrote no report).
    Image,
}

/// Something that kept part of the input from being judged: never a pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// A document that is not a Kubernetes resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub location: Location,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub empty_documents: usize,
    pub resources: usize,
    /// Helm and Kustomize renders scanned (a chart rendered with two values files counts two).
    #[serde(skip_serializing_if = "is_zero")]
    pub rendered: usize,
    /// Distinct container images scanned by `policy-scan images`.
    #[serde(skip_serializing_if = "is_zero")]
    pub images: usize,
    pub skipped_documents: usize,
    /// Findings that count (not waived), by severity and enforcement below.
    pub findings: usize,
    pub suppressed: usize,
    /// Findings already in the `--baseline` report, left out.
    pub baselined: usize,
    pub by_severity: BTreeMap<String, usize>,
    pub by_enforcement: BTreeMap<String, usize>,
    pub errors: usize,
    /// Each policy evaluated: on how many resources, and how many of them fail it; the
    /// denominators of compliance.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, PolicySummary>,
    /// Each namespace of the Kubernetes resources evaluated ([`CLUSTER_SCOPED`] for those that
    /// have none); Terraform resources are in no namespace and are left out.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, NamespaceSummary>,
}

/// The namespace the summary counts cluster-scoped Kubernetes resources under: no namespace
/// can be named so (namespace names are DNS labels).
pub const CLUSTER_SCOPED: &str = "(cluster)";

/// One policy's share of the run. A resource fails the policy when at least one of its findings
/// of the policy counts (is not waived); compliance is `1 - failing / resources`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The policy's configured enforcement; a namespace override shows on its findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Enforcement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guideline: Option<Arc<Guideline>>,
    /// Resources the policy was evaluated on.
    pub resources: usize,
    /// Of those, the resources that fail it.
    pub failing: usize,
    /// Its findings that count (a resource may have several) and those waived.
    pub findings: usize,
    pub suppressed: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSummary {
    /// Resources evaluated in the namespace.
    pub resources: usize,
    /// Of those, the resources with at least one finding that counts.
    pub failing: usize,
    /// The findings that count of its resources.
    pub findings: usize,
}

/// What the summary says of a policy beyond its id, taken from the bundle by
/// [`Report::describe_policies`] (without it, from the policy's findings when it has any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFacts {
    pub title: String,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub guideline: Arc<Guideline>,
}

/// A resource that was evaluated, and the policies that applied to it (JUnit's test cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluated {
    pub resource: Resource,
    pub location: Location,
    pub policies: Vec<Arc<str>>,
    pub rendered: Option<crate::render::Rendered>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub skipped: Vec<Skipped>,
    pub waivers: WaiverReport,
    #[serde(skip)]
    pub evaluated: Vec<Evaluated>,
    /// The output of each Helm and Kustomize render, named by its command.
    #[serde(skip)]
    pub rendered_outputs: Vec<crate::documents::Source>,
    /// The bundle's policies, by id, for the per-policy summary.
    #[serde(skip)]
    pub policy_facts: BTreeMap<String, PolicyFacts>,
}

/// Which findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Findings whose enforcement is deny (the default: what the webhook would reject).
    Deny,
    /// Findings at or above a severity, whatever their enforcement.
    Severity(Severity),
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "deny" {
            return Ok(FailOn::Deny);
        }
        s.parse::<Severity>()
            .map(FailOn::Severity)
            .map_err(|_| format!("expected deny, critical, high, medium, low or info, got {s:?}"))
    }
}

pub const EXIT_PASS: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

impl Report {
    pub fn fails(&self, finding: &Finding, fail_on: FailOn) -> bool {
        if finding.suppressed.is_some() {
            return false;
        }
        match fail_on {
            FailOn::Deny => finding.enforcement == Enforcement::Deny,
            FailOn::Severity(min) => finding.severity >= min,
        }
    }

    /// 2 when anything could not be read, parsed or evaluated, or nothing was scanned (unless
    /// allowed); else 1 when a finding fails the run; else 0.
    pub fn exit_code(&self, fail_on: FailOn, allow_empty: bool) -> u8 {
        if !self.errors.is_empty() || (self.summary.resources == 0 && !allow_empty) {
            EXIT_ERROR
        } else if self.findings.iter().any(|f| self.fails(f, fail_on)) {
            EXIT_FINDINGS
        } else {
            EXIT_PASS
        }
    }

    /// Sorts by file and position and fills in the summary counts.
    pub fn finish(&mut self) {
        // By file, then by render (two renders of a chart are two runs over its files).
        let render = |f: &Finding| f.rendered.as_ref().map(|r| r.command.clone()).unwrap_or_default();
        self.findings.sort_by(|a, b| {
            (&a.location.file, render(a), &a.location, &a.policy, &a.message).cmp(&(
                &b.location.file,
                render(b),
                &b.location,
                &b.policy,
                &b.message,
            ))
        });
        self.errors.sort_by(|a, b| a.location.cmp(&b.location));
        self.skipped.sort_by(|a, b| a.location.cmp(&b.location));
        self.evaluated.sort_by(|a, b| a.location.cmp(&b.location));
        let s = &mut self.summary;
        s.suppressed = self.findings.iter().filter(|f| f.suppressed.is_some()).count();
        s.findings = self.findings.len() - s.suppressed;
        s.errors = self.errors.len();
        s.skipped_documents = self.skipped.len();
        s.by_severity.clear();
        s.by_enforcement.clear();
        for f in self.findings.iter().filter(|f| f.suppressed.is_none()) {
            *s.by_severity.entry(f.severity.to_string()).or_default() += 1;
            *s.by_enforcement.entry(f.enforcement.to_string()).or_default() += 1;
        }
        let (policies, namespaces) = compliance(&self.findings, &self.evaluated, &self.policy_facts);
        s.policies = policies;
        s.namespaces = namespaces;
    }

    /// Takes the title, severity, configured enforcement and guideline of every policy from the
    /// bundle, for the per-policy summary, and finishes the report again.
    pub fn describe_policies(&mut self, bundle: &Bundle) {
        self.policy_facts = bundle
            .policies()
            .iter()
            .map(|p| {
                let m = &p.metadata;
                let facts = PolicyFacts {
                    title: m.title.clone(),
                    severity: m.severity,
                    enforcement: p.enforcement,
                    guideline: Arc::new(m.guideline.clone()),
                };
                (m.id.clone(), facts)
            })
            .collect();
        self.finish();
    }
}

/// The namespace a resource is counted in by the summary; none for a Terraform resource.
pub fn namespace_bucket(resource: &Resource) -> Option<&str> {
    if resource.api_version == TERRAFORM_API_VERSION {
        return None;
    }
    Some(resource.namespace.as_deref().unwrap_or(CLUSTER_SCOPED))
}

/// A resource as evaluated: two renders of one chart hold two objects of the same name.
type Subject<'a> = (&'a Resource, Option<&'a str>);

fn subject_key<'a>(resource: &'a Resource, rendered: Option<&'a crate::render::Rendered>) -> Subject<'a> {
    (resource, rendered.map(|r| r.command.as_str()))
}

/// The per-policy and per-namespace tables of the summary, in one pass over the findings and
/// one over the resources evaluated.
fn compliance(
    findings: &[Finding],
    evaluated: &[Evaluated],
    facts: &BTreeMap<String, PolicyFacts>,
) -> (BTreeMap<String, PolicySummary>, BTreeMap<String, NamespaceSummary>) {
    let mut policies: BTreeMap<&str, PolicySummary> = BTreeMap::new();
    let mut namespaces: BTreeMap<&str, NamespaceSummary> = BTreeMap::new();
    let mut failing: HashSet<(Subject, &str)> = HashSet::new();
    let mut failing_subjects: HashSet<Subject> = HashSet::new();
    for f in findings {
        let entry = policies.entry(&f.policy).or_default();
        if entry.severity.is_none() {
            entry.severity = Some(f.severity);
            entry.enforcement = Some(f.enforcement);
            entry.guideline.clone_from(&f.guideline);
        }
        if f.suppressed.is_some() {
            entry.suppressed += 1;
            continue;
        }
        entry.findings += 1;
        let subject = subject_key(&f.resource, f.rendered.as_ref());
        failing.insert((subject, &f.policy));
        failing_subjects.insert(subject);
        if let Some(ns) = namespace_bucket(&f.resource) {
            namespaces.entry(ns).or_default().findings += 1;
        }
    }
    let mut counted: HashSet<(Subject, &str)> = HashSet::new();
    let mut counted_subjects: HashSet<Subject> = HashSet::new();
    for e in evaluated {
        let subject = subject_key(&e.resource, e.rendered.as_ref());
        for policy in &e.policies {
            let entry = policies.entry(&**policy).or_default();
            entry.resources += 1;
            if failing.contains(&(subject, &**policy)) {
                entry.failing += 1;
                counted.insert((subject, &**policy));
            }
        }
        if let Some(ns) = namespace_bucket(&e.resource) {
            let entry = namespaces.entry(ns).or_default();
            entry.resources += 1;
            if failing_subjects.contains(&subject) {
                entry.failing += 1;
                counted_subjects.insert(subject);
            }
        }
    }
    // A finding proves its policy ran on its resource, even when the report lists no such
    // evaluation (a report assembled from findings alone): never more failing than evaluated.
    for (_, policy) in failing.difference(&counted) {
        let entry = policies.entry(policy).or_default();
        entry.resources += 1;
        entry.failing += 1;
    }
    for (resource, _) in failing_subjects.difference(&counted_subjects) {
        if let Some(ns) = namespace_bucket(resource) {
            let entry = namespaces.entry(ns).or_default();
            entry.resources += 1;
            entry.failing += 1;
        }
    }
    let policies = policies
        .into_iter()
        .map(|(id, mut summary)| {
            if let Some(facts) = facts.get(id) {
                summary.title = Some(facts.title.clone());
                summary.severity = Some(facts.severity);
                summary.enforcement = Some(facts.enforcement);
                summary.guideline = Some(Arc::clone(&facts.guideline));
            }
            (id.to_string(), summary)
        })
        .collect();
    let namespaces = namespaces.into_iter().map(|(ns, summary)| (ns.to_string(), summary)).collect();
    (policies, namespaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(kind: &str, namespace: Option<&str>, name: &str) -> Resource {
        let api_version = if kind.starts_with("aws_") { TERRAFORM_API_VERSION } else { "apps/v1" };
        Resource {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.map(Into::into),
            name: name.into(),
        }
    }

    fn evaluated(resource: &Resource, policies: &[&str]) -> Evaluated {
        Evaluated {
            resource: resource.clone(),
            location: Location { file: "f.yaml".into(), line: 1, column: 1 },
            policies: policies.iter().map(|p| Arc::from(*p)).collect(),
            rendered: None,
        }
    }

    fn finding(policy: &str, resource: &Resource, path: &str) -> Finding {
        Finding {
            policy: policy.into(),
            severity: Severity::High,
            enforcement: Enforcement::Warn,
            message: "m".into(),
            path: path.into(),
            location: Location { file: "f.yaml".into(), line: 2, column: 3 },
            exact: true,
            resource: resource.clone(),
            remediation: Arc::from("fix it"),
            guideline: Some(Arc::new(Guideline { section: "Security".into(), bullet: "b".into() })),
            suppressed: None,
            rendered: None,
            image: None,
        }
    }

    fn waived(mut f: Finding) -> Finding {
        f.suppressed = Some(Suppression {
            reason: "r".into(),
            expires: "2999-01-01".into(),
            ticket: None,
            waiver: Location { file: "w.yaml".into(), line: 1, column: 1 },
            annotation: false,
        });
        f
    }

    #[test]
    fn the_summary_counts_resources_evaluated_and_failing_per_policy_and_namespace() {
        let web = resource("Deployment", Some("shop"), "web");
        let api = resource("Deployment", Some("shop"), "api");
        let crd = resource("ClusterRole", None, "reader");
        let db = resource("aws_db_instance", None, "aws_db_instance.main");
        let mut report = Report {
            evaluated: vec![
                evaluated(&web, &["probes", "limits"]),
                evaluated(&api, &["probes", "limits"]),
                evaluated(&crd, &["rbac"]),
                evaluated(&db, &["encryption"]),
            ],
            findings: vec![
                // Two findings of one policy on one resource: one failing resource.
                finding("probes", &web, "/a"),
                finding("probes", &web, "/b"),
                // A waived finding does not fail its resource.
                waived(finding("limits", &api, "/c")),
                finding("encryption", &db, "/storage_encrypted"),
            ],
            ..Report::default()
        };
        report.finish();
        let p = &report.summary.policies;
        assert_eq!((p["probes"].resources, p["probes"].failing, p["probes"].findings), (2, 1, 2));
        assert_eq!((p["limits"].resources, p["limits"].failing, p["limits"].suppressed), (2, 0, 1));
        assert_eq!((p["rbac"].resources, p["rbac"].failing), (1, 0));
        assert_eq!((p["encryption"].resources, p["encryption"].failing), (1, 1));
        // Without the bundle's facts, a policy's severity comes from its findings, and a
        // policy without findings has none.
        assert_eq!(p["probes"].severity, Some(Severity::High));
        assert_eq!(p["rbac"].severity, None);
        let n = &report.summary.namespaces;
        assert_eq!(n.keys().map(String::as_str).collect::<Vec<_>>(), [CLUSTER_SCOPED, "shop"], "no Terraform bucket");
        assert_eq!((n["shop"].resources, n["shop"].failing, n["shop"].findings), (2, 1, 2));
        assert_eq!((n[CLUSTER_SCOPED].resources, n[CLUSTER_SCOPED].failing), (1, 0));

        let json: serde_json::Value = serde_json::from_str(&crate::format::json::render(&report)).expect("json");
        assert_eq!(json["summary"]["policies"]["probes"]["failing"], 1);
        assert_eq!(json["summary"]["namespaces"]["shop"]["resources"], 2);
        assert!(json["summary"]["policies"]["rbac"].get("severity").is_none());
    }

    #[test]
    fn two_renders_of_one_chart_are_two_resources_and_a_lone_finding_still_counts() {
        let web = resource("Deployment", Some("default"), "web");
        let render = |values: &str| crate::render::Rendered {
            renderer: crate::render::Renderer::Helm,
            root: "chart".into(),
            values: vec![values.into()],
            command: format!("helm template chart -f {values}"),
            hook: None,
            document: Location { file: "out".into(), line: 1, column: 1 },
            related: Vec::new(),
        };
        let mut prod = evaluated(&web, &["probes"]);
        prod.rendered = Some(render("prod.yaml"));
        let mut dev = evaluated(&web, &["probes"]);
        dev.rendered = Some(render("dev.yaml"));
        let mut failing = finding("probes", &web, "/a");
        failing.rendered = Some(render("dev.yaml"));
        // A finding whose evaluation the report does not list (a report built from findings).
        let other = resource("Deployment", Some("other"), "x");
        let mut report = Report {
            evaluated: vec![prod, dev],
            findings: vec![failing, finding("probes", &other, "/a")],
            ..Report::default()
        };
        report.finish();
        let probes = &report.summary.policies["probes"];
        assert_eq!((probes.resources, probes.failing), (3, 2));
        let n = &report.summary.namespaces;
        assert_eq!((n["default"].resources, n["default"].failing), (2, 1));
        assert_eq!((n["other"].resources, n["other"].failing), (1, 1));
    }

    #[test]
    fn an_empty_report_serializes_no_tables() {
        let mut report = Report::default();
        report.finish();
        let json: serde_json::Value = serde_json::from_str(&crate::format::json::render(&report)).expect("json");
        assert!(json["summary"].get("policies").is_none() && json["summary"].get("namespaces").is_none());
    }
}
