//! `policy-scan report`: a scan's (or an audit's) JSON report, optionally against a baseline
//! report, as a self-contained HTML compliance report for auditors and a Markdown summary sized
//! for a pull-request comment. Both are rendered from one [`Analysis`], so that they cannot
//! disagree on a number.

pub mod escape;
pub mod html;
pub mod input;
pub mod markdown;
pub mod svg;

use std::collections::{BTreeMap, HashMap, HashSet};

use gatehouse_engine::{Enforcement, Severity};

use crate::report::CLUSTER_SCOPED;
use input::{Document, Finding, Guideline, Resource};

/// What the outputs are titled and dated with, and the files they present.
#[derive(Debug, Clone)]
pub struct Options {
    pub title: String,
    /// When the report was generated, as shown (the caller chooses: tests need it fixed).
    pub generated: String,
    /// The current report's file, as named to the user.
    pub source: String,
    pub baseline_source: Option<String>,
}

/// Namespaces charted by name; the others are summed in one row.
pub const TOP_NAMESPACES: usize = 12;
/// Policies in the "most violated" tables.
pub const TOP_POLICIES: usize = 10;

/// One bar of a compliance chart: checks (or resources) that pass and that fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub passed: usize,
    pub failed: usize,
    /// Findings that count behind the failures.
    pub findings: usize,
}

impl Row {
    pub fn total(&self) -> usize {
        self.passed + self.failed
    }
}

/// `passed` of `total` as a percentage with one decimal, rounded down: a report never shows
/// 100% while something fails, nor more compliance than there is.
pub fn percent(passed: usize, total: usize) -> String {
    if total == 0 {
        return "n/a".into();
    }
    let permille = (passed as u128 * 1000 / total as u128) as usize;
    if permille == 0 && passed > 0 {
        return "<0.1%".into();
    }
    format!("{}.{}%", permille / 10, permille % 10)
}

/// The counts a report's header shows, all from the report's lists and summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: usize,
    pub resources: usize,
    pub rendered: usize,
    pub skipped_documents: usize,
    /// Findings that count, and of those, the ones enforced by deny (what `--fail-on deny` fails).
    pub findings: usize,
    pub denied: usize,
    /// Resources with a finding enforced by deny: those the webhook would reject.
    pub denied_resources: usize,
    pub suppressed: usize,
    pub baselined: usize,
    pub errors: usize,
    /// Counting findings by severity, in [`Severity::ALL`]'s order (critical first).
    pub by_severity: [usize; 5],
    /// Resource-policy checks that pass, and all of them; none when the report has no
    /// per-policy summary (written by an older policy-scan).
    pub checks: Option<(usize, usize)>,
}

impl Totals {
    fn of(d: &Document) -> Totals {
        let mut by_severity = [0; 5];
        let mut denied = 0;
        let mut denied_resources = HashSet::new();
        for f in d.findings.iter().filter(|f| f.counts()) {
            by_severity[severity_index(f.severity)] += 1;
            if f.enforcement == Enforcement::Deny {
                denied += 1;
                denied_resources.insert(f.subject_key());
            }
        }
        let checks = (!d.summary.policies.is_empty()).then(|| {
            d.summary
                .policies
                .values()
                .fold((0, 0), |(passed, all), p| (passed + p.resources - p.failing, all + p.resources))
        });
        let s = &d.summary;
        Totals {
            files: s.files,
            resources: s.resources,
            rendered: s.rendered,
            skipped_documents: s.skipped_documents,
            findings: s.findings,
            denied,
            denied_resources: denied_resources.len(),
            suppressed: s.suppressed,
            baselined: s.baselined,
            errors: s.errors,
            by_severity,
            checks,
        }
    }
}

fn severity_index(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(Severity::ALL.len() - 1)
}

/// What a scan with the default `--fail-on deny` concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Errors kept part of the input from being judged (exit 2): the report is incomplete.
    Incomplete,
    /// Nothing was evaluated (exit 2 unless `--allow-empty`).
    Empty,
    /// Findings enforced by deny: the webhook would reject these resources (exit 1).
    Fail,
    /// Nothing fails (exit 0), possibly with warn and audit findings.
    Pass,
}

/// One policy, from the report's per-policy summary and its findings.
#[derive(Debug, Clone)]
pub struct PolicyRow<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub severity: Option<Severity>,
    /// The configured enforcement (the summary's), else that of its first finding.
    pub enforcement: Option<Enforcement>,
    pub guideline: Option<&'a Guideline>,
    pub remediation: &'a str,
    /// Resources evaluated; unknown without a per-policy summary.
    pub resources: Option<usize>,
    /// Resources failing the policy.
    pub failing: usize,
    pub findings: usize,
    pub suppressed: usize,
    /// Failing resources whose findings are all enforced by warn or audit: admitted today,
    /// rejected if the policy is switched to deny.
    pub lenient_failing: usize,
}

/// The findings of the current report against those of the baseline, matched by the key
/// `--baseline` uses. Only findings that count take part: a finding waived since the baseline
/// is "now waived", not fixed.
#[derive(Debug, Clone)]
pub struct Trend<'a> {
    pub new: usize,
    pub unchanged: usize,
    pub fixed: usize,
    pub now_waived: usize,
    pub before: Totals,
    /// Baseline findings that no longer show, fixed.
    pub fixed_findings: Vec<&'a Finding>,
}

/// Everything the HTML and Markdown outputs show.
#[derive(Debug, Clone)]
pub struct Analysis<'a> {
    pub current: &'a Document,
    pub options: Options,
    pub totals: Totals,
    pub verdict: Verdict,
    /// Compliance of the checks of each guideline section's policies, least compliant first.
    pub sections: Vec<Row>,
    /// Compliance of the checks of each severity's policies, critical first.
    pub severities: Vec<Row>,
    /// Resources without a finding, per namespace: the least compliant [`TOP_NAMESPACES`],
    /// then one row for the others.
    pub namespaces: Vec<Row>,
    pub namespace_count: usize,
    /// Resources counted in no namespace (Terraform resources).
    pub outside_namespaces: usize,
    /// Every policy evaluated or with findings, most violated first.
    pub policies: Vec<PolicyRow<'a>>,
    /// The counting findings grouped by policy, in [`Analysis::policies`]' order: (index in
    /// `policies`, indices in `current.findings`), each group by resource and location.
    pub groups: Vec<(usize, Vec<usize>)>,
    /// Indices of the suppressed findings, by policy and resource.
    pub suppressed: Vec<usize>,
    /// With a baseline: which of `current.findings` are new.
    pub is_new: Vec<bool>,
    pub trend: Option<Trend<'a>>,
}

impl<'a> Analysis<'a> {
    pub fn new(current: &'a Document, baseline: Option<&'a Document>, options: Options) -> Analysis<'a> {
        let totals = Totals::of(current);
        let verdict = if totals.errors > 0 {
            Verdict::Incomplete
        } else if totals.resources == 0 {
            Verdict::Empty
        } else if totals.denied > 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        let policies = policy_rows(current);
        let (namespaces, namespace_count) = namespace_rows(current);
        let in_namespaces: usize = current.summary.namespaces.values().map(|n| n.resources).sum();
        let groups = groups(current, &policies);
        let mut suppressed: Vec<usize> =
            (0..current.findings.len()).filter(|&i| !current.findings[i].counts()).collect();
        suppressed.sort_by(|&a, &b| by_resource(&current.findings[a], &current.findings[b]));
        let (trend, is_new) = match baseline {
            Some(b) => {
                let (trend, is_new) = trend(current, b);
                (Some(trend), is_new)
            }
            None => (None, Vec::new()),
        };
        Analysis {
            current,
            totals,
            verdict,
            sections: section_rows(current),
            severities: severity_rows(current),
            namespaces,
            namespace_count,
            outside_namespaces: current.summary.resources.saturating_sub(in_namespaces),
            policies,
            groups,
            suppressed,
            is_new,
            trend,
            options,
        }
    }

    /// Whether the report carries the per-policy summary that compliance needs.
    pub fn has_compliance(&self) -> bool {
        self.totals.checks.is_some()
    }

    /// The policies that fail at least one resource, most violated first, at most `n`.
    pub fn most_violated(&self, n: usize) -> impl Iterator<Item = &PolicyRow<'a>> {
        self.policies.iter().filter(|p| p.failing > 0).take(n)
    }

    /// Policies in warn or audit whose findings would reject resources under deny.
    pub fn would_deny(&self) -> impl Iterator<Item = &PolicyRow<'a>> {
        self.policies.iter().filter(|p| p.lenient_failing > 0)
    }

    pub fn new_finding(&self, index: usize) -> bool {
        self.is_new.get(index).copied().unwrap_or(false)
    }
}

fn by_resource(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (&a.policy, a.subject_key(), &a.location, &a.path).cmp(&(&b.policy, b.subject_key(), &b.location, &b.path))
}

fn policy_rows(d: &Document) -> Vec<PolicyRow<'_>> {
    let mut rows: BTreeMap<&str, PolicyRow<'_>> = BTreeMap::new();
    for (id, p) in &d.summary.policies {
        rows.insert(
            id,
            PolicyRow {
                id,
                title: p.title.as_deref(),
                severity: p.severity,
                enforcement: p.enforcement,
                guideline: p.guideline.as_ref(),
                remediation: "",
                resources: Some(p.resources),
                failing: p.failing,
                findings: p.findings,
                suppressed: p.suppressed,
                lenient_failing: 0,
            },
        );
    }
    // (resource, policy) -> whether a finding that counts is enforced by deny.
    let mut failing: HashMap<((&Resource, Option<&str>), &str), bool> = HashMap::new();
    for f in &d.findings {
        let row = rows.entry(&f.policy).or_insert_with(|| PolicyRow {
            id: &f.policy,
            title: None,
            severity: None,
            enforcement: None,
            guideline: None,
            remediation: "",
            resources: None,
            failing: 0,
            findings: 0,
            suppressed: 0,
            lenient_failing: 0,
        });
        if row.remediation.is_empty() {
            row.remediation = &f.remediation;
        }
        row.severity = row.severity.or(Some(f.severity));
        row.enforcement = row.enforcement.or(Some(f.enforcement));
        row.guideline = row.guideline.or(f.guideline.as_ref());
        // A report without the per-policy summary: the counts come from the findings.
        let unsummarized = row.resources.is_none();
        if !f.counts() {
            row.suppressed += usize::from(unsummarized);
            continue;
        }
        row.findings += usize::from(unsummarized);
        *failing.entry((f.subject_key(), &f.policy)).or_default() |= f.enforcement == Enforcement::Deny;
    }
    for ((_, policy), denied) in failing {
        if let Some(row) = rows.get_mut(policy) {
            row.failing += usize::from(row.resources.is_none());
            row.lenient_failing += usize::from(!denied);
        }
    }
    let mut rows: Vec<PolicyRow<'_>> = rows.into_values().collect();
    rows.sort_by(|a, b| (b.failing, b.findings, b.severity, a.id).cmp(&(a.failing, a.findings, a.severity, b.id)));
    rows
}

fn section_rows(d: &Document) -> Vec<Row> {
    let mut sections: BTreeMap<&str, Row> = BTreeMap::new();
    for p in d.summary.policies.values() {
        let label = p.guideline.as_ref().map_or("(no guideline)", |g| g.section.as_str());
        let row =
            sections.entry(label).or_insert_with(|| Row { label: label.into(), passed: 0, failed: 0, findings: 0 });
        row.passed += p.resources - p.failing;
        row.failed += p.failing;
        row.findings += p.findings;
    }
    let mut rows: Vec<Row> = sections.into_values().collect();
    rows.sort_by(least_compliant_first);
    rows
}

/// By compliance, lowest first (compared exactly, as fractions), then by label.
fn least_compliant_first(a: &Row, b: &Row) -> std::cmp::Ordering {
    let ratio = |r: &Row| (r.passed as u128, r.total().max(1) as u128);
    let ((pa, ta), (pb, tb)) = (ratio(a), ratio(b));
    (pa * tb).cmp(&(pb * ta)).then_with(|| b.failed.cmp(&a.failed)).then_with(|| a.label.cmp(&b.label))
}

fn severity_rows(d: &Document) -> Vec<Row> {
    let mut rows: Vec<Row> = Severity::ALL
        .iter()
        .map(|s| Row { label: s.to_string(), passed: 0, failed: 0, findings: 0 })
        .chain(std::iter::once(Row { label: "unknown".into(), passed: 0, failed: 0, findings: 0 }))
        .collect();
    for p in d.summary.policies.values() {
        let row = &mut rows[p.severity.map_or(Severity::ALL.len(), severity_index)];
        row.passed += p.resources - p.failing;
        row.failed += p.failing;
        row.findings += p.findings;
    }
    rows.retain(|r| r.total() > 0);
    rows
}

/// A namespace's label in charts and tables.
pub fn namespace_label(ns: &str) -> String {
    if ns == CLUSTER_SCOPED { "cluster-scoped".into() } else { ns.into() }
}

fn namespace_rows(d: &Document) -> (Vec<Row>, usize) {
    let mut rows: Vec<Row> = d
        .summary
        .namespaces
        .iter()
        .map(|(ns, n)| Row {
            label: namespace_label(ns),
            passed: n.resources - n.failing,
            failed: n.failing,
            findings: n.findings,
        })
        .collect();
    let count = rows.len();
    rows.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| least_compliant_first(a, b)));
    if rows.len() > TOP_NAMESPACES {
        let rest = rows.split_off(TOP_NAMESPACES);
        let mut others = Row { label: format!("{} other namespaces", rest.len()), passed: 0, failed: 0, findings: 0 };
        for r in rest {
            others.passed += r.passed;
            others.failed += r.failed;
            others.findings += r.findings;
        }
        rows.push(others);
    }
    (rows, count)
}

fn groups(d: &Document, policies: &[PolicyRow<'_>]) -> Vec<(usize, Vec<usize>)> {
    let index: HashMap<&str, usize> = policies.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, f) in d.findings.iter().enumerate().filter(|(_, f)| f.counts()) {
        if let Some(&p) = index.get(f.policy.as_str()) {
            groups.entry(p).or_default().push(i);
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = groups.into_iter().collect();
    for (_, members) in &mut groups {
        members.sort_by(|&a, &b| by_resource(&d.findings[a], &d.findings[b]));
    }
    groups
}

fn trend<'a>(current: &'a Document, baseline: &'a Document) -> (Trend<'a>, Vec<bool>) {
    let keys = |d: &Document, counting: bool| -> HashSet<String> {
        d.findings.iter().filter(|f| f.counts() == counting).map(Finding::key).collect()
    };
    let before_counting = keys(baseline, true);
    let now_counting = keys(current, true);
    let now_waived = keys(current, false);
    let is_new: Vec<bool> =
        current.findings.iter().map(|f| f.counts() && !before_counting.contains(&f.key())).collect();
    let new = is_new.iter().filter(|n| **n).count();
    let mut trend = Trend {
        new,
        unchanged: current.findings.iter().filter(|f| f.counts()).count() - new,
        fixed: 0,
        now_waived: 0,
        before: Totals::of(baseline),
        fixed_findings: Vec::new(),
    };
    for f in baseline.findings.iter().filter(|f| f.counts()) {
        let key = f.key();
        if now_counting.contains(&key) {
            continue;
        }
        if now_waived.contains(&key) {
            trend.now_waived += 1;
        } else {
            trend.fixed += 1;
            trend.fixed_findings.push(f);
        }
    }
    trend.fixed_findings.sort_by(|a, b| by_resource(a, b));
    (trend, is_new)
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a time (the default generation time is the report's mtime).
pub fn utc_timestamp(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let of_day = seconds % 86_400;
    let date = gatehouse_engine::waivers::Date::from_days_since_epoch(days);
    format!("{date} {:02}:{:02}:{:02} UTC", of_day / 3600, of_day % 3600 / 60, of_day % 60)
}

#[cfg(test)]
mod tests;
