//! The JSON report a scan or an audit writes (`--format json`), read back: only what the
//! compliance report shows, tolerant of fields it does not know (the document grows within a
//! version), strict on the types of those it reads.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use gatehouse_engine::{Enforcement, Severity};
use serde::Deserialize;
use serde_json::Value;

use crate::format::json::SCHEMA_VERSION;
use crate::report::{ImageFinding, resource_finding_key, with_image_key};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub version: u32,
    #[serde(default)]
    pub tool: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    #[serde(default)]
    pub waivers: Waivers,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(default)]
    pub files: usize,
    #[serde(default)]
    pub documents: usize,
    pub resources: usize,
    #[serde(default)]
    pub rendered: usize,
    #[serde(default)]
    pub skipped_documents: usize,
    pub findings: usize,
    pub suppressed: usize,
    #[serde(default)]
    pub baselined: usize,
    pub errors: usize,
    /// Missing from the reports of versions of policy-scan before the compliance report.
    #[serde(default)]
    pub policies: BTreeMap<String, PolicySummary>,
    #[serde(default)]
    pub namespaces: BTreeMap<String, NamespaceSummary>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySummary {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    #[serde(default)]
    pub guideline: Option<Guideline>,
    pub resources: usize,
    pub failing: usize,
    #[serde(default)]
    pub findings: usize,
    #[serde(default)]
    pub suppressed: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamespaceSummary {
    pub resources: usize,
    pub failing: usize,
    #[serde(default)]
    pub findings: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct Guideline {
    pub section: String,
    #[serde(default)]
    pub bullet: String,
}

// The report model's own types: they read back what they wrote.
pub use crate::report::{Location, Resource};

#[derive(Debug, Clone, Deserialize)]
pub struct Suppression {
    pub reason: String,
    #[serde(default)]
    pub expires: String,
    #[serde(default)]
    pub ticket: Option<String>,
    #[serde(default)]
    pub waiver: Option<Location>,
    #[serde(default)]
    pub annotation: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rendered {
    pub root: String,
    #[serde(default)]
    pub values: Vec<String>,
    pub command: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Finding {
    pub policy: String,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub message: String,
    pub path: String,
    pub location: Location,
    #[serde(default = "yes")]
    pub exact: bool,
    pub resource: Resource,
    #[serde(default)]
    pub remediation: String,
    #[serde(default)]
    pub guideline: Option<Guideline>,
    #[serde(default)]
    pub suppressed: Option<Suppression>,
    #[serde(default)]
    pub rendered: Option<Rendered>,
    #[serde(default)]
    pub image: Option<ImageFinding>,
}

fn yes() -> bool {
    true
}

impl Finding {
    /// The key `--baseline` matches findings by (policy, resource, field, render, and image and
    /// vulnerability for a finding of `policy-scan images`).
    pub fn key(&self) -> String {
        let render = self.rendered.as_ref().map(|r| (r.root.as_str(), r.values.clone()));
        with_image_key(resource_finding_key(&self.policy, &self.resource, &self.path, render), self.image.as_ref())
    }

    pub fn counts(&self) -> bool {
        self.suppressed.is_none()
    }

    /// The resource, and the render it comes from when rendered.
    pub fn subject(&self) -> String {
        match &self.rendered {
            Some(r) => format!("{} (rendered by `{}`)", self.resource, r.command),
            None => self.resource.to_string(),
        }
    }

    /// Identifies the resource, render included, without allocating.
    pub fn subject_key(&self) -> (&Resource, Option<&str>) {
        (&self.resource, self.rendered.as_ref().map(|r| r.command.as_str()))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScanError {
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Waivers {
    #[serde(default)]
    pub expired: Vec<WaiverNotice>,
    #[serde(default)]
    pub unused: Vec<WaiverNotice>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WaiverNotice {
    pub policy: String,
    pub reason: String,
    pub expires: String,
    pub location: Location,
}

/// Why a JSON report could not be read, naming the file (and the field).
#[derive(Debug)]
pub enum ReadError {
    Io { file: PathBuf, error: std::io::Error },
    Syntax { file: PathBuf, error: serde_json::Error },
    NotAReport { file: PathBuf, why: String },
    Version { file: PathBuf, found: Value },
    Shape { file: PathBuf, field: String, error: String },
    Inconsistent { file: PathBuf, why: String },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io { file, error } => write!(f, "{}: cannot read: {error}", file.display()),
            ReadError::Syntax { file, error } => {
                write!(f, "{}:{}:{}: not valid JSON: {error}", file.display(), error.line(), error.column())
            }
            ReadError::NotAReport { file, why } => {
                write!(f, "{}: not a policy-scan JSON report: {why}", file.display())
            }
            ReadError::Version { file, found } => write!(
                f,
                "{}: version: {found} is not a report version this policy-scan reads (it reads version {SCHEMA_VERSION})",
                file.display()
            ),
            ReadError::Shape { file, field, error } => write!(f, "{}: {field}: {error}", file.display()),
            ReadError::Inconsistent { file, why } => write!(f, "{}: inconsistent report: {why}", file.display()),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads and checks a `--format json` report.
pub fn load(file: &Path) -> Result<Document, ReadError> {
    let text = std::fs::read_to_string(file).map_err(|error| ReadError::Io { file: file.to_path_buf(), error })?;
    parse(file, &text)
}

/// [`load`] of a text already read; `file` names it in errors.
pub fn parse(file: &Path, text: &str) -> Result<Document, ReadError> {
    let file = file.to_path_buf();
    let value: Value = serde_json::from_str(text).map_err(|error| ReadError::Syntax { file: file.clone(), error })?;
    let Some(object) = value.as_object() else {
        return Err(ReadError::NotAReport { file, why: "the document is not a JSON object".into() });
    };
    match object.get("version") {
        None => {
            return Err(ReadError::NotAReport { file, why: "it has no \"version\" field".into() });
        }
        Some(v) if v.as_u64() != Some(u64::from(SCHEMA_VERSION)) => {
            return Err(ReadError::Version { file, found: v.clone() });
        }
        Some(_) => {}
    }
    let document: Document = serde_path_to_error::deserialize(value).map_err(|e| ReadError::Shape {
        file: file.clone(),
        field: e.path().to_string(),
        error: e.into_inner().to_string(),
    })?;
    check_totals(&file, &document)?;
    Ok(document)
}

/// The totals a report shows are its lists counted: a summary that disagrees with them (a file
/// edited by hand, or cut short) is refused rather than shown.
fn check_totals(file: &Path, d: &Document) -> Result<(), ReadError> {
    let counting = d.findings.iter().filter(|f| f.counts()).count();
    let waived = d.findings.len() - counting;
    let checks = [
        ("summary.findings", d.summary.findings, counting, "findings that count (not suppressed)"),
        ("summary.suppressed", d.summary.suppressed, waived, "suppressed findings"),
        ("summary.errors", d.summary.errors, d.errors.len(), "errors"),
    ];
    for (field, said, listed, what) in checks {
        if said != listed {
            return Err(ReadError::Inconsistent {
                file: file.to_path_buf(),
                why: format!("{field} is {said}, but the report lists {listed} {what}"),
            });
        }
    }
    for (id, p) in &d.summary.policies {
        if p.failing > p.resources {
            return Err(ReadError::Inconsistent {
                file: file.to_path_buf(),
                why: format!("summary.policies.{id}: {} failing of {} resources", p.failing, p.resources),
            });
        }
    }
    for (ns, n) in &d.summary.namespaces {
        if n.failing > n.resources {
            return Err(ReadError::Inconsistent {
                file: file.to_path_buf(),
                why: format!("summary.namespaces.{ns}: {} failing of {} resources", n.failing, n.resources),
            });
        }
    }
    Ok(())
}
