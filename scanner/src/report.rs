//! One result model for every output format, and the exit code computed from it.

use std::collections::BTreeMap;

use gatehouse_engine::{Enforcement, Severity};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    pub remediation: std::sync::Arc<str>,
    /// The guideline bullet the policy enforces (from its metadata), so that a report groups
    /// findings by guideline section without the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guideline: Option<std::sync::Arc<gatehouse_engine::metadata::Guideline>>,
    /// Set when a waiver covers the finding: it is reported, and does not fail the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// For a resource of a Helm or Kustomize render: the render, and the field in its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<crate::render::Rendered>,
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
        let r = &self.resource;
        let render = self.rendered.as_ref().map(|r| (r.root.as_str(), r.values.clone()));
        finding_key(
            [&self.policy, &r.api_version, &r.kind, r.namespace.as_deref().unwrap_or(""), &r.name, &self.path],
            render,
        )
    }
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
    pub skipped_documents: usize,
    /// Findings that count (not waived), by severity and enforcement below.
    pub findings: usize,
    pub suppressed: usize,
    /// Findings already in the `--baseline` report, left out.
    pub baselined: usize,
    pub by_severity: BTreeMap<String, usize>,
    pub by_enforcement: BTreeMap<String, usize>,
    pub errors: usize,
}

/// A resource that was evaluated, and the policies that applied to it (JUnit's test cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluated {
    pub resource: Resource,
    pub location: Location,
    pub policies: Vec<std::sync::Arc<str>>,
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
    }
}
