//! `--baseline old.json`: report only the findings that are new against a previous JSON report,
//! so that a team adopts the gate on a repository that does not pass it yet.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use crate::report::{ImageFinding, Report, finding_key, with_image_key};

/// The keys of the findings of a previous `--format json` report.
pub fn load(path: &Path) -> Result<HashSet<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read the baseline: {e}", path.display()))?;
    let report: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: not a JSON report: {e}", path.display(), e.line(), e.column()))?;
    if report["version"] != 1 {
        return Err(format!("{}: not a policy-scan JSON report of version 1", path.display()));
    }
    let findings =
        report["findings"].as_array().ok_or_else(|| format!("{}: the report has no findings list", path.display()))?;
    Ok(findings
        .iter()
        .map(|f| {
            let r = &f["resource"];
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            let parts = [&f["policy"], &r["apiVersion"], &r["kind"], &r["namespace"], &r["name"], &f["path"]].map(s);
            let rendered = &f["rendered"];
            let render = rendered.is_object().then(|| {
                (
                    rendered["root"].as_str().unwrap_or(""),
                    rendered["values"].as_array().into_iter().flatten().map(s).collect(),
                )
            });
            let image = serde_json::from_value::<ImageFinding>(f["image"].clone()).ok();
            with_image_key(finding_key(parts.each_ref().map(String::as_str), render), image.as_ref())
        })
        .collect())
}

/// Leaves out the findings the baseline already has, counting them.
pub fn apply(report: &mut Report, known: &HashSet<String>) {
    let before = report.findings.len();
    report.findings.retain(|f| !known.contains(&f.key()));
    report.summary.baselined = before - report.findings.len();
    report.finish();
}
