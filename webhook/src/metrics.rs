//! Prometheus metrics in the text exposition format: requests by endpoint, decision and kind, a
//! latency histogram with sub-millisecond buckets, per-policy violations and (sampled)
//! evaluation time, and the bundle and inventory generations.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::lock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gatehouse_engine::PolicyTiming;

use crate::generation::ReloadCounters;

const BUCKETS: [f64; 14] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// What the metrics keep of the last audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFigures {
    pub objects: u64,
    /// Violations by (policy, severity, namespace); namespaces beyond the bound are `_other`.
    pub violations: BTreeMap<(String, String, String), u64>,
    /// Violations of policies that do not deny today, by policy.
    pub would_deny: BTreeMap<String, u64>,
    pub errors: u64,
    pub seconds: f64,
    /// When it finished, in seconds since the epoch.
    pub finished: f64,
}

#[derive(Debug, Default)]
struct AuditState {
    last: Option<AuditFigures>,
    runs: u64,
    failures: u64,
    leading: bool,
}

#[derive(Debug, Default)]
pub struct Metrics {
    audit: Mutex<AuditState>,
    requests: Mutex<BTreeMap<(&'static str, &'static str, String), u64>>,
    latency: Mutex<Histogram>,
    violations: Mutex<BTreeMap<(String, &'static str), u64>>,
    policy_time: Mutex<BTreeMap<String, Histogram>>,
    policy_errors: Mutex<BTreeMap<String, u64>>,
    sampled: AtomicU64,
    /// Image signature checks by verdict and by where the verdict came from.
    image_checks: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    image_check_time: Mutex<Histogram>,
}

/// Escapes a label value as the exposition format requires.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn record(&self, endpoint: &'static str, decision: &'static str, kind: &str, elapsed: Duration) {
        *lock(&self.requests).entry((endpoint, decision, kind.to_string())).or_default() += 1;
        lock(&self.latency).observe(elapsed);
    }

    /// Counts one image signature check: its verdict, whether it was `cached`, `shared` with a
    /// concurrent check or `fetched` from the registry, and how long it took.
    pub fn image_check(&self, verdict: &'static str, source: &'static str, elapsed: Duration) {
        *lock(&self.image_checks).entry((verdict, source)).or_default() += 1;
        lock(&self.image_check_time).observe(elapsed);
    }

    /// Counts one violation of a policy as it was enforced (deny, warn or audit).
    pub fn violation(&self, policy: &str, enforcement: &'static str) {
        *lock(&self.violations).entry((policy.to_string(), enforcement)).or_default() += 1;
    }

    pub fn audit_done(&self, figures: AuditFigures) {
        let mut audit = lock(&self.audit);
        audit.runs += 1;
        audit.last = Some(figures);
    }

    pub fn audit_failed(&self) {
        lock(&self.audit).failures += 1;
    }

    pub fn audit_leading(&self, leading: bool) {
        lock(&self.audit).leading = leading;
    }

    fn render_audit(&self, out: &mut String) {
        let audit = lock(&self.audit);
        let _ = writeln!(
            out,
            "# HELP gatehouse_audit_runs_total Background audits completed and published.\n# TYPE gatehouse_audit_runs_total counter\ngatehouse_audit_runs_total {}",
            audit.runs
        );
        let _ = writeln!(
            out,
            "# HELP gatehouse_audit_failures_total Background audits that could not list, judge or publish.\n# TYPE gatehouse_audit_failures_total counter\ngatehouse_audit_failures_total {}",
            audit.failures
        );
        let _ = writeln!(
            out,
            "# HELP gatehouse_audit_leader 1 on the replica that holds the audit lease.\n# TYPE gatehouse_audit_leader gauge\ngatehouse_audit_leader {}",
            u8::from(audit.leading)
        );
        let Some(last) = &audit.last else { return };
        let gauges: [(&str, &str, f64); 4] = [
            ("gatehouse_audit_objects", "Objects judged by the last audit.", last.objects as f64),
            ("gatehouse_audit_errors", "Policies the last audit could not evaluate, by object.", last.errors as f64),
            (
                "gatehouse_audit_duration_seconds",
                "How long the last audit took, listing and publishing included.",
                last.seconds,
            ),
            ("gatehouse_audit_last_success_timestamp_seconds", "When the last audit finished.", last.finished),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        out.push_str("# HELP gatehouse_audit_violations Violations found by the last audit, by policy, severity and namespace (the most violating namespaces; the rest under _other).\n");
        out.push_str("# TYPE gatehouse_audit_violations gauge\n");
        for ((policy, severity, namespace), n) in &last.violations {
            let _ = writeln!(
                out,
                "gatehouse_audit_violations{{policy=\"{}\",severity=\"{severity}\",namespace=\"{}\"}} {n}",
                label(policy),
                label(namespace)
            );
        }
        out.push_str("# HELP gatehouse_audit_would_deny Violations the last audit found of policies in audit or warn: what switching each to deny would reject among running objects.\n");
        out.push_str("# TYPE gatehouse_audit_would_deny gauge\n");
        for (policy, n) in &last.would_deny {
            let _ = writeln!(out, "gatehouse_audit_would_deny{{policy=\"{}\"}} {n}", label(policy));
        }
    }

    pub fn policy_timings(&self, timings: &[PolicyTiming]) {
        self.sampled.fetch_add(1, Ordering::Relaxed);
        let mut time = lock(&self.policy_time);
        for t in timings {
            time.entry(t.policy.clone()).or_default().observe(t.elapsed);
        }
        drop(time);
        let mut errors = lock(&self.policy_errors);
        for t in timings.iter().filter(|t| t.failed) {
            *errors.entry(t.policy.clone()).or_default() += 1;
        }
    }

    pub fn render(&self, reload: &ReloadCounters) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP gatehouse_admission_requests_total Admission reviews by endpoint, decision and kind.\n");
        out.push_str("# TYPE gatehouse_admission_requests_total counter\n");
        for ((endpoint, decision, kind), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "gatehouse_admission_requests_total{{endpoint=\"{endpoint}\",decision=\"{decision}\",kind=\"{}\"}} {n}",
                label(kind)
            );
        }
        out.push_str("# HELP gatehouse_admission_duration_seconds Time to answer an admission review.\n");
        out.push_str("# TYPE gatehouse_admission_duration_seconds histogram\n");
        lock(&self.latency).render(&mut out, "gatehouse_admission_duration_seconds", "");
        out.push_str(
            "# HELP gatehouse_policy_violations_total Violations found, by policy and by the enforcement applied.\n",
        );
        out.push_str("# TYPE gatehouse_policy_violations_total counter\n");
        for ((policy, enforcement), n) in lock(&self.violations).iter() {
            let _ = writeln!(
                out,
                "gatehouse_policy_violations_total{{policy=\"{}\",enforcement=\"{enforcement}\"}} {n}",
                label(policy)
            );
        }
        out.push_str("# HELP gatehouse_policy_evaluation_seconds Time to evaluate one policy alone, measured on a sample of the reviews (see --policy-timing-every).\n");
        out.push_str("# TYPE gatehouse_policy_evaluation_seconds histogram\n");
        for (policy, histogram) in lock(&self.policy_time).iter() {
            histogram.render(&mut out, "gatehouse_policy_evaluation_seconds", &format!("policy=\"{}\"", label(policy)));
        }
        out.push_str(
            "# HELP gatehouse_policy_evaluation_errors_total Sampled evaluations of one policy that failed.\n",
        );
        out.push_str("# TYPE gatehouse_policy_evaluation_errors_total counter\n");
        for (policy, n) in lock(&self.policy_errors).iter() {
            let _ = writeln!(out, "gatehouse_policy_evaluation_errors_total{{policy=\"{}\"}} {n}", label(policy));
        }
        out.push_str("# HELP gatehouse_image_verifications_total Image signature checks at admission, by verdict and by source (cached, shared with a concurrent check, fetched from the registry).\n");
        out.push_str("# TYPE gatehouse_image_verifications_total counter\n");
        for ((verdict, source), n) in lock(&self.image_checks).iter() {
            let _ =
                writeln!(out, "gatehouse_image_verifications_total{{verdict=\"{verdict}\",source=\"{source}\"}} {n}");
        }
        out.push_str(
            "# HELP gatehouse_image_verification_seconds Time to check one image's signatures (and attestation).\n",
        );
        out.push_str("# TYPE gatehouse_image_verification_seconds histogram\n");
        lock(&self.image_check_time).render(&mut out, "gatehouse_image_verification_seconds", "");
        let gauges: [(&str, &str, &str, f64); 7] = [
            (
                "gatehouse_policy_timing_samples_total",
                "counter",
                "Reviews evaluated again policy by policy for timing.",
                self.sampled.load(Ordering::Relaxed) as f64,
            ),
            (
                "gatehouse_bundle_generation",
                "gauge",
                "Bundle generation in force: 1 at start, one more per successful reload.",
                reload.generation as f64,
            ),
            (
                "gatehouse_bundle_policies",
                "gauge",
                "Enabled policies in the generation in force.",
                reload.policies as f64,
            ),
            ("gatehouse_bundle_reloads_total", "counter", "Bundle reloads put in force.", reload.reloads as f64),
            (
                "gatehouse_bundle_reload_failures_total",
                "counter",
                "Bundle reloads that failed to load or compile; the last good generation stayed in force.",
                reload.reload_failures as f64,
            ),
            (
                "gatehouse_bundle_reload_failing",
                "gauge",
                "1 while the bundle on disk does not load and an older generation is in force.",
                f64::from(u8::from(reload.failing)),
            ),
            (
                "gatehouse_inventory_objects",
                "gauge",
                "Objects in the inventory of the generation in force.",
                reload.inventory_objects as f64,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        self.render_audit(&mut out);
        let synced = u8::from(reload.inventory_synced);
        let _ = writeln!(
            out,
            "# HELP gatehouse_inventory_synced 1 while the cluster inventory is current (or runs without one); 0 while it waits for its first lists or lists a kind again after a watch failure.\n# TYPE gatehouse_inventory_synced gauge\ngatehouse_inventory_synced {synced}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let metrics = Metrics::default();
        metrics.record("validate", "denied", "Deploy\"ment", Duration::from_micros(80));
        metrics.record("validate", "allowed", "Pod", Duration::from_millis(3));
        metrics.policy_timings(&[PolicyTiming {
            policy: "require-pdb".into(),
            elapsed: Duration::from_micros(200),
            violations: 1,
            failed: false,
        }]);
        let counters = ReloadCounters {
            generation: 2,
            policies: 7,
            reloads: 1,
            reload_failures: 0,
            failing: false,
            inventory_synced: true,
            inventory_objects: 3,
        };
        let text = metrics.render(&counters);
        assert!(text.contains("kind=\"Deploy\\\"ment\"} 1"), "{text}");
        assert!(text.contains("gatehouse_admission_duration_seconds_bucket{le=\"0.0001\"} 1\n"), "{text}");
        assert!(text.contains("gatehouse_admission_duration_seconds_bucket{le=\"0.005\"} 2\n"), "{text}");
        assert!(text.contains("gatehouse_admission_duration_seconds_count 2\n"), "{text}");
        assert!(
            text.contains("gatehouse_policy_evaluation_seconds_bucket{policy=\"require-pdb\",le=\"0.00025\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("gatehouse_bundle_generation 2\n"), "{text}");
    }
}
