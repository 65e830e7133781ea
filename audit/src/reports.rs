//! Policy reports from an audit: one `Report` per namespace and one `ClusterReport` for
//! cluster-scoped objects (OpenReports, `openreports.io/v1alpha1`), or the same shape as
//! wgpolicyk8s.io `PolicyReport`/`ClusterPolicyReport` (`v1alpha2`) for consumers that still
//! read those.
//!
//! A report's summary counts every check; its result list is bounded in count and in bytes, so
//! that a namespace with thousands of violations never writes an object etcd refuses (1.5 MiB)
//! or one that slows every list of reports. The results kept are the most severe; the number
//! left out is in an annotation.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::evaluate::{Audit, AuditResult, Outcome};

pub const REPORT_NAME: &str = "gatehouse-audit";
pub const SOURCE: &str = "gatehouse";
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "gatehouse");
/// How many results a report left out to stay within its limits.
pub const OMITTED_ANNOTATION: &str = "gatehouse.dev/results-omitted";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    OpenReports,
    /// wgpolicyk8s.io/v1alpha2.
    PolicyReport,
}

impl ReportFormat {
    pub fn api_version(self) -> &'static str {
        match self {
            ReportFormat::OpenReports => "openreports.io/v1alpha1",
            ReportFormat::PolicyReport => "wgpolicyk8s.io/v1alpha2",
        }
    }

    /// The kind of a namespace's report (`namespaced`) or of the cluster's.
    pub fn kind(self, namespaced: bool) -> &'static str {
        match (self, namespaced) {
            (ReportFormat::OpenReports, true) => "Report",
            (ReportFormat::OpenReports, false) => "ClusterReport",
            (ReportFormat::PolicyReport, true) => "PolicyReport",
            (ReportFormat::PolicyReport, false) => "ClusterPolicyReport",
        }
    }

    /// The resource's plural, for RBAC and the API path.
    pub fn plural(self, namespaced: bool) -> &'static str {
        match (self, namespaced) {
            (ReportFormat::OpenReports, true) => "reports",
            (ReportFormat::OpenReports, false) => "clusterreports",
            (ReportFormat::PolicyReport, true) => "policyreports",
            (ReportFormat::PolicyReport, false) => "clusterpolicyreports",
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openreports" => Ok(ReportFormat::OpenReports),
            "policyreport" | "wgpolicyk8s" => Ok(ReportFormat::PolicyReport),
            _ => Err(format!("expected openreports or policyreport, got {s:?}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimits {
    pub max_results: usize,
    /// Bound on the serialized results of one report.
    pub max_bytes: usize,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits { max_results: 1000, max_bytes: 512 * 1024 }
    }
}

fn result_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Fail => "fail",
        Outcome::Waived => "skip",
        Outcome::Error => "error",
    }
}

fn result_value(r: &AuditResult, format: ReportFormat, seconds: i64) -> Value {
    let s = &r.subject;
    let mut subject = json!({"apiVersion": s.api_version, "kind": s.kind, "name": s.name});
    if let Some(ns) = &s.namespace {
        subject["namespace"] = json!(ns);
    }
    if let Some(uid) = &s.uid {
        subject["uid"] = json!(uid);
    }
    let mut properties = json!({"enforcement": r.enforcement.to_string()});
    if !r.path.is_empty() {
        properties["path"] = json!(r.path);
    }
    let mut value = json!({
        "policy": r.policy,
        "rule": r.policy,
        "severity": r.severity.to_string(),
        "result": result_name(r.outcome),
        "scored": true,
        "timestamp": {"seconds": seconds, "nanos": 0},
        "message": r.message,
        "resources": [subject],
        "properties": properties,
    });
    if !r.category.is_empty() {
        value["category"] = json!(r.category);
    }
    // OpenReports names the source once per report; v1alpha2 only per result.
    if format == ReportFormat::PolicyReport {
        value["source"] = json!(SOURCE);
    }
    value
}

/// Most severe first, then failures before errors before waived, denying policies first; the
/// order the bound keeps.
fn importance(r: &AuditResult) -> impl Ord + '_ {
    (std::cmp::Reverse(r.severity), r.outcome, std::cmp::Reverse(r.enforcement == gatehouse_engine::Enforcement::Deny))
}

/// The reports of an audit, one per namespace with judged objects (a namespace that passes
/// everything gets a report too: its summary says so) and one for the cluster-scoped objects.
pub fn build(audit: &Audit, format: ReportFormat, limits: ReportLimits, seconds: i64) -> Vec<Value> {
    let mut by_scope: BTreeMap<Option<&str>, Vec<&AuditResult>> = BTreeMap::new();
    for j in &audit.judged {
        by_scope.entry(j.subject.namespace.as_deref()).or_default();
    }
    for r in &audit.results {
        by_scope.entry(r.subject.namespace.as_deref()).or_default().push(r);
    }
    let passes = audit.passes();
    by_scope
        .into_iter()
        .map(|(namespace, mut results)| {
            let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
            let summary = json!({
                "pass": passes.get(&namespace.map(str::to_string)).copied().unwrap_or(0),
                "fail": count(Outcome::Fail),
                "warn": 0,
                "error": count(Outcome::Error),
                "skip": count(Outcome::Waived),
            });
            results.sort_by(|a, b| importance(a).cmp(&importance(b)).then_with(|| a.subject.cmp(&b.subject)));
            let mut kept = Vec::new();
            let mut bytes = 0;
            for r in &results {
                if kept.len() == limits.max_results {
                    break;
                }
                let value = result_value(r, format, seconds);
                let size = serde_json::to_vec(&value).map_or(0, |v| v.len());
                if bytes + size > limits.max_bytes {
                    break;
                }
                bytes += size;
                kept.push(value);
            }
            let omitted = results.len() - kept.len();
            let mut metadata = json!({
                "name": REPORT_NAME,
                "labels": {MANAGED_BY.0: MANAGED_BY.1},
                "annotations": {OMITTED_ANNOTATION: omitted.to_string()},
            });
            if let Some(ns) = namespace {
                metadata["namespace"] = json!(ns);
            }
            let mut report = json!({
                "apiVersion": format.api_version(),
                "kind": format.kind(namespace.is_some()),
                "metadata": metadata,
                "summary": summary,
                "results": kept,
            });
            if format == ReportFormat::OpenReports {
                report["source"] = json!(SOURCE);
                report["configuration"] = json!({"limits": {"maxResults": limits.max_results}});
            }
            report
        })
        .collect()
}
