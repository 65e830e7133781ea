//! The bundle as a catalogue: one row per policy (id, severity, enforcement, targets,
//! guideline), as a table for a terminal, JSON for tools, or Markdown for documentation.

use std::fmt::Write as _;

use gatehouse_engine::Bundle;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogFormat {
    Table,
    Json,
    Markdown,
}

struct Row {
    id: String,
    severity: String,
    enforcement: String,
    mode: String,
    targets: String,
    guideline: String,
    enabled: bool,
}

fn rows(bundle: &Bundle) -> Vec<Row> {
    bundle
        .policies()
        .iter()
        .map(|p| {
            let targets: Vec<String> = p
                .metadata
                .targets
                .iter()
                .map(|t| {
                    if !t.resource_types.is_empty() {
                        return format!("terraform: {}", t.resource_types.join(","));
                    }
                    let groups: Vec<&str> =
                        t.api_groups.iter().map(|g| if g.is_empty() { "core" } else { g.as_str() }).collect();
                    format!("{}: {}", groups.join(","), t.kinds.join(","))
                })
                .collect();
            Row {
                id: p.metadata.id.clone(),
                severity: p.metadata.severity.to_string(),
                enforcement: if p.enabled { p.enforcement.to_string() } else { "disabled".to_string() },
                mode: match p.metadata.mode {
                    gatehouse_engine::Mode::Validate => "validate".into(),
                    gatehouse_engine::Mode::Mutate => "mutate".into(),
                },
                targets: targets.join("; "),
                guideline: format!("{}: {}", p.metadata.guideline.section, p.metadata.guideline.bullet),
                enabled: p.enabled,
            }
        })
        .collect()
}

pub fn render(bundle: &Bundle, format: CatalogFormat) -> String {
    let rows = rows(bundle);
    match format {
        CatalogFormat::Json => {
            let policies: Vec<Value> = bundle
                .policies()
                .iter()
                .zip(&rows)
                .map(|(p, r)| {
                    json!({
                        "id": r.id, "title": p.metadata.title, "severity": r.severity, "enforcement": p.enforcement,
                        "enabled": r.enabled, "mode": r.mode, "category": p.metadata.category,
                        "targets": p.metadata.targets, "inventory": p.metadata.inventory,
                        "guideline": p.metadata.guideline, "parameters": p.parameters,
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&json!({"policies": policies})).unwrap_or_default();
            text.push('\n');
            text
        }
        CatalogFormat::Markdown => {
            let mut out = String::from(
                "| policy | severity | enforcement | mode | targets | guideline |\n|---|---|---|---|---|---|\n",
            );
            for r in &rows {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    r.id,
                    r.severity,
                    r.enforcement,
                    r.mode,
                    r.targets.replace('|', "\\|"),
                    r.guideline.replace('|', "\\|")
                );
            }
            out
        }
        CatalogFormat::Table => {
            let header = ["POLICY", "SEVERITY", "ENFORCEMENT", "MODE", "TARGETS", "GUIDELINE"];
            let cells: Vec<[&str; 6]> = rows
                .iter()
                .map(|r| {
                    [
                        r.id.as_str(),
                        r.severity.as_str(),
                        r.enforcement.as_str(),
                        r.mode.as_str(),
                        r.targets.as_str(),
                        r.guideline.as_str(),
                    ]
                })
                .collect();
            let mut widths = header.map(str::len);
            for row in &cells {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let mut out = String::new();
            for row in std::iter::once(header).chain(cells) {
                let line: Vec<String> = row
                    .iter()
                    .zip(widths)
                    .enumerate()
                    .map(|(i, (c, w))| if i + 1 == row.len() { c.to_string() } else { format!("{c:<w$}") })
                    .collect();
                let _ = writeln!(out, "{}", line.join("  "));
            }
            out
        }
    }
}
