//! Traceability from the infrastructure guidelines to what meets them: the policies that name a
//! bullet in their metadata, and a mapping file for the bullets no manifest can show (they name
//! the chart, module, pipeline or process that meets them instead).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::metadata::deserialize_node;
use crate::yaml::{self, Limits, Position};

/// One bullet of the guidelines, with where it stands in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bullet {
    pub section: String,
    pub text: String,
    pub line: usize,
}

/// Reads the bullets (`- text` under `## Section`) of the guidelines document.
pub fn parse_guidelines(source: &str) -> Vec<Bullet> {
    let mut bullets = Vec::new();
    let mut section = String::new();
    for (i, line) in source.lines().enumerate() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.trim().to_string();
        } else if let Some(text) = line.strip_prefix("- ") {
            bullets.push(Bullet { section: section.clone(), text: text.trim().to_string(), line: i + 1 });
        }
    }
    bullets
}

/// How far a bullet met outside the policies is met today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Met,
    Partial,
    Planned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Partial => "partial",
            Status::Planned => "planned",
        }
    }
}

/// Where a bullet is met when a manifest cannot show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MappingEntry {
    pub section: String,
    pub bullet: String,
    /// `chart`, `terraform`, `pipeline`, `process`, `scanner`, `webhook`...
    pub kind: String,
    /// The artifact that meets it: a path, a command or a process.
    pub met_by: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub bullets: Vec<MappingEntry>,
}

impl Mapping {
    pub fn from_source(file: &Path, source: &str) -> Result<(Mapping, yaml::Node), Diagnostics> {
        let root = yaml::parse_single(source, &Limits::default())
            .map_err(|e| Diagnostic::new(file, Some(e.position), e.message))?;
        let mapping: Mapping = deserialize_node(file, &root)?;
        Ok((mapping, root))
    }
}

/// What meets one bullet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub section: String,
    pub bullet: String,
    /// Policy ids, enabled or not, that name this bullet.
    pub policies: Vec<String>,
    pub elsewhere: Vec<MappingEntry>,
}

/// The whole map, or every inconsistency between the guidelines, the policies and the mapping.
pub fn trace(
    guidelines_file: &Path,
    guidelines: &str,
    bundle: &Bundle,
    mapping_file: &Path,
    mapping_source: &str,
) -> Result<Vec<Trace>, Diagnostics> {
    let bullets = parse_guidelines(guidelines);
    let (mapping, root) = Mapping::from_source(mapping_file, mapping_source)?;
    let mut problems = Vec::new();
    let mut traces: Vec<Trace> = bullets
        .iter()
        .map(|b| Trace {
            section: b.section.clone(),
            bullet: b.text.clone(),
            policies: Vec::new(),
            elsewhere: Vec::new(),
        })
        .collect();
    let index: BTreeMap<(&str, &str), usize> =
        bullets.iter().enumerate().map(|(i, b)| ((b.section.as_str(), b.text.as_str()), i)).collect();
    for policy in bundle.policies() {
        let g = &policy.metadata.guideline;
        match index.get(&(g.section.as_str(), g.bullet.as_str())) {
            Some(&i) => traces[i].policies.push(policy.metadata.id.clone()),
            None => problems.push(Diagnostic::in_file(
                &policy.dir.join("policy.yaml"),
                format!("guideline {:?} / {:?} is not a bullet of {}", g.section, g.bullet, guidelines_file.display()),
            )),
        }
    }
    for (n, entry) in mapping.bullets.iter().enumerate() {
        let at = root.locate(&format!("/bullets/{n}")).position;
        match index.get(&(entry.section.as_str(), entry.bullet.as_str())) {
            Some(&i) => {
                if traces[i].elsewhere.iter().any(|e| e.kind == entry.kind && e.met_by == entry.met_by) {
                    problems.push(Diagnostic::new(mapping_file, Some(at), "this entry is listed twice"));
                }
                traces[i].elsewhere.push(entry.clone());
            }
            None => problems.push(Diagnostic::new(
                mapping_file,
                Some(at),
                format!("{:?} / {:?} is not a bullet of {}", entry.section, entry.bullet, guidelines_file.display()),
            )),
        }
    }
    for (trace, bullet) in traces.iter().zip(&bullets) {
        if trace.policies.is_empty() && trace.elsewhere.is_empty() {
            problems.push(Diagnostic::new(
                guidelines_file,
                Some(Position { line: bullet.line, column: 3 }),
                format!(
                    "{:?} / {:?} is met by no policy and by nothing in {}",
                    bullet.section,
                    bullet.text,
                    mapping_file.display()
                ),
            ));
        }
    }
    if problems.is_empty() { Ok(traces) } else { Err(Diagnostics(problems)) }
}

/// Where a policy is enforced, by its domain and mode.
fn enforced_where(policy: &crate::bundle::Policy) -> &'static str {
    match (policy.domain.as_str(), policy.metadata.mode) {
        ("kubernetes", crate::metadata::Mode::Validate) => "admission and CI",
        ("kubernetes", crate::metadata::Mode::Mutate) => "mutates at admission",
        ("terraform", _) => "CI, Terraform",
        ("images", _) => "CI, `policy-scan images`",
        _ => "CI",
    }
}

/// The traceability map as Markdown: one table per section of the guidelines.
pub fn render_markdown(traces: &[Trace], bundle: &Bundle) -> String {
    let mut out = String::from(
        "# Guidelines traceability\n\n\
         Generated by `policy-scan guidelines` from the guidelines (docs/infrastructure-guidelines.md), \
         the policies' metadata (policies/) and docs/guidelines-mapping.yaml; do not edit by hand.\n\n\
         Each bullet is met by the policies that name it, or by what the mapping names for bullets no \
         policy can show. Each policy says where it is enforced: Kubernetes policies that validate at \
         admission by `policy-webhook` and in CI by `policy-scan scan`, those that mutate at admission \
         only, Terraform policies in CI on plans and `.tf` sources, and the image-report policy in CI by \
         `policy-scan images`.\n",
    );
    let enforced = traces.iter().filter(|t| !t.policies.is_empty()).count();
    let elsewhere_only = traces.iter().filter(|t| t.policies.is_empty()).count();
    let _ = writeln!(
        out,
        "\n{} bullets: {enforced} enforced by at least one policy, {elsewhere_only} met elsewhere only.",
        traces.len()
    );
    let mut section = "";
    for t in traces {
        if t.section != section {
            section = &t.section;
            let _ = write!(out, "\n## {section}\n\n| guideline | policies | met elsewhere |\n|---|---|---|\n");
        }
        let policies: Vec<String> = t
            .policies
            .iter()
            .map(|id| match bundle.policy(id) {
                Some(p) => format!("`{id}` ({}, {}; {})", p.metadata.severity, p.enforcement, enforced_where(p)),
                None => format!("`{id}`"),
            })
            .collect();
        let elsewhere: Vec<String> = t
            .elsewhere
            .iter()
            .map(|e| {
                let note = e.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default();
                format!("{} `{}` ({}){note}", e.kind, e.met_by, e.status.as_str())
            })
            .collect();
        let cell = |items: &[String]| if items.is_empty() { "-".to_string() } else { items.join("<br>") };
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            t.bullet.replace('|', "\\|"),
            cell(&policies),
            cell(&elsewhere).replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bullets_carry_their_section_and_line() {
        let bullets = parse_guidelines("# Title\n\n## Scaling\n\n- CPU based\n- Scale to zero\n## Security\n- RBAC\n");
        assert_eq!(
            bullets.iter().map(|b| (b.section.as_str(), b.text.as_str(), b.line)).collect::<Vec<_>>(),
            [("Scaling", "CPU based", 5), ("Scaling", "Scale to zero", 6), ("Security", "RBAC", 8)]
        );
    }

    #[test]
    fn mapping_entries_are_strict() {
        let e = Mapping::from_source(
            Path::new("m.yaml"),
            "bullets:\n  - {section: S, bullet: B, kind: chart, metBy: charts/x, status: done}\n",
        )
        .expect_err("bad status")
        .to_string();
        assert!(e.contains("m.yaml:2:"), "{e}");
        assert!(e.contains("unknown variant `done`"), "{e}");
    }
}
