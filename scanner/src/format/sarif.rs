//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it: one rule per policy (with help
//! text and a security-severity), one result per finding with its physical location, and the
//! errors as tool execution notifications.

use std::collections::BTreeMap;

use gatehouse_engine::{Bundle, Enforcement, Severity};
use serde_json::{Value, json};

use crate::render::Rendered;
use crate::report::{Location, Report};

fn level(enforcement: Enforcement) -> &'static str {
    match enforcement {
        Enforcement::Deny => "error",
        Enforcement::Warn => "warning",
        Enforcement::Audit => "note",
    }
}

/// GitHub ranks security alerts by this 0-10 score.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A relative URI for a path (SARIF wants URIs; GitHub resolves them against the checkout).
fn uri(file: &str) -> String {
    let path = file.strip_prefix("./").unwrap_or(file);
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' | '/' => out.push(c),
            '<' | '>' => {}
            other => {
                let mut buf = [0u8; 4];
                for b in other.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

fn physical(location: &Location) -> Value {
    json!({"physicalLocation": {
        "artifactLocation": {"uri": uri(&location.file), "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": location.line, "startColumn": location.column},
    }})
}

/// The rendered document of a finding, and the values line that set the field.
fn related_locations(r: &Rendered, artifacts: &BTreeMap<&str, usize>) -> Value {
    let mut document = json!({
        "id": 1,
        "message": {"text": format!("the field in the output of `{}`", r.command)},
        "physicalLocation": {
            "region": {"startLine": r.document.line, "startColumn": r.document.column},
        },
    });
    if let Some(&i) = artifacts.get(r.command.as_str()) {
        document["physicalLocation"]["artifactLocation"] = json!({"index": i});
    }
    let mut related = vec![document];
    for (n, other) in r.related.iter().enumerate() {
        let mut location = physical(&other.location);
        location["id"] = json!(n + 2);
        location["message"] = json!({"text": format!("{} is set here", other.message)});
        related.push(location);
    }
    Value::Array(related)
}

/// The rule of one vulnerability found by an image policy: `image-vulnerabilities/CVE-2023-0286`.
fn vulnerability_rule(policy: &str, vulnerability: &str) -> String {
    format!("{policy}/{vulnerability}")
}

pub fn render(report: &Report, bundle: &Bundle) -> String {
    // The renders' outputs travel in the log: their documents are findings' related locations.
    let artifacts: BTreeMap<&str, usize> =
        report.rendered_outputs.iter().enumerate().map(|(i, s)| (&*s.name, i)).collect();
    let artifact_list: Vec<Value> = report
        .rendered_outputs
        .iter()
        .map(|s| {
            json!({
                "description": {"text": format!("the output of `{}`", s.name)},
                "contents": {"text": &*s.text},
                "mimeType": "application/yaml",
                "roles": ["analysisTarget"],
            })
        })
        .collect();
    let mut rules = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut index_owned: Vec<String> = Vec::new();
    let mut added = std::collections::BTreeSet::new();
    for policy in bundle.policies() {
        let m = &policy.metadata;
        index.insert(m.id.as_str(), rules.len());
        rules.push(json!({
            "id": m.id,
            "name": m.title,
            "shortDescription": {"text": m.title},
            "fullDescription": {"text": m.description},
            "help": {
                "text": m.remediation,
                "markdown": format!("{}\n\n**Guideline** ({}): {}", m.remediation, m.guideline.section, m.guideline.bullet),
            },
            "defaultConfiguration": {"level": level(policy.enforcement)},
            "properties": {
                "security-severity": security_severity(m.severity),
                "tags": ["kubernetes", m.category.as_str(), m.severity.as_str()],
                "precision": "high",
            },
        }));
    }
    // As trivy's own SARIF does: a rule per vulnerability, so that code scanning lists each
    // CVE once with its title, severity and advisory, whichever images and manifests carry it.
    for f in &report.findings {
        let Some(v) = f.image.as_ref().and_then(|i| i.vulnerability.as_ref()) else { continue };
        let id = vulnerability_rule(&f.policy, &v.id);
        if index.contains_key(id.as_str()) || !added.insert(id.clone()) {
            continue;
        }
        let title = if v.title.is_empty() { v.id.clone() } else { v.title.clone() };
        let fixed = if v.fixed_version.is_empty() { "none yet" } else { v.fixed_version.as_str() };
        let facts = format!(
            "Vulnerability {}\nSeverity: {}\nPackage: {} {}\nFixed version: {fixed}",
            v.id, v.severity, v.pkg_name, v.installed_version
        );
        let mut rule = json!({
            "id": id,
            "name": v.id,
            "shortDescription": {"text": title},
            "fullDescription": {"text": format!("{}: {title}", v.id)},
            "help": {
                "text": format!("{facts}\n\n{}", f.remediation),
                "markdown": format!(
                    "**Vulnerability {}**\n\n| Severity | Package | Installed | Fixed |\n|---|---|---|---|\n| {} | {} | {} | {fixed} |\n\n{}",
                    v.id, v.severity, v.pkg_name, v.installed_version, f.remediation
                ),
            },
            "defaultConfiguration": {"level": level(f.enforcement)},
            "properties": {
                "security-severity": security_severity(f.severity),
                "tags": ["vulnerability", "security", v.severity.as_str()],
                "precision": "very-high",
            },
        });
        if !v.primary_url.is_empty() {
            rule["helpUri"] = json!(v.primary_url);
        }
        index_owned.push(id);
        rules.push(rule);
    }
    for (i, id) in index_owned.iter().enumerate() {
        index.insert(id.as_str(), rules.len() - index_owned.len() + i);
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let vulnerability = f.image.as_ref().and_then(|i| i.vulnerability.as_ref());
            let rule = match vulnerability {
                Some(v) => vulnerability_rule(&f.policy, &v.id),
                None => f.policy.clone(),
            };
            // A vulnerability's fixed version changes with trivy's database: the key, not
            // the message, follows it across runs.
            let fingerprint = match vulnerability {
                Some(_) => f.key(),
                None => format!("{}|{}|{}|{}", f.policy, f.resource, f.path, f.message),
            };
            let mut result = json!({
                "ruleId": rule,
                "level": level(f.enforcement),
                "message": {"text": format!("{}: {}", f.resource, f.message)},
                "locations": [physical(&f.location)],
                "partialFingerprints": {"gatehouse/v1": fingerprint},
                "properties": {"path": f.path, "severity": f.severity.as_str()},
            });
            if let Some(&i) = index.get(rule.as_str()) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(image) = &f.image {
                result["properties"]["image"] = json!(image.reference);
            }
            if let Some(r) = &f.rendered {
                result["relatedLocations"] = related_locations(r, &artifacts);
                result["properties"]["rendered"] =
                    json!({"renderer": r.renderer, "root": r.root, "values": r.values, "hook": r.hook});
            }
            if let Some(s) = &f.suppressed {
                let ticket = s.ticket.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
                result["suppressions"] = json!([{
                    "kind": if s.annotation { "inSource" } else { "external" },
                    "status": "accepted",
                    "justification": format!("{}{ticket}; expires {}", s.reason, s.expires),
                    "location": physical(&s.waiver),
                }]);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut n = json!({"level": "error", "message": {"text": e.message}});
            if let Some(l) = &e.location {
                n["locations"] = json!([physical(l)]);
            }
            n
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "policy-scan",
                "informationUri": "https://github.com/gatehouse/gatehouse",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "artifacts": artifact_list,
        }],
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
