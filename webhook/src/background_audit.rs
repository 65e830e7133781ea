//! The background audit: the replica holding the Lease judges what already runs with the
//! generation in force, every `interval`, and publishes policy reports, metrics and a log line.
//! The other replicas only keep asking for the lease, so one audit runs at a time however many
//! replicas serve admission.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use gatehouse_audit::lease::Elector;
use gatehouse_audit::publish::publish;
use gatehouse_audit::reports::{self, ReportFormat, ReportLimits};
use gatehouse_audit::{AuditOptions, ClusterAudit, ListOptions, Outcome, audit_cluster};
use gatehouse_engine::waivers::Date;

use crate::generation::Live;
use crate::metrics::{AuditFigures, Metrics};

#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub interval: Duration,
    pub format: ReportFormat,
    pub limits: ReportLimits,
    pub list: ListOptions,
    pub exempt_namespaces: Vec<String>,
    /// The Lease's namespace (the webhook's own) and name.
    pub lease_namespace: String,
    pub lease_name: String,
    /// This replica's identity in the Lease (its pod name).
    pub identity: String,
    pub lease_duration: Duration,
    /// Namespaces named in the violation metrics; the others are summed under `_other`.
    pub metric_namespaces: usize,
    pub threads: usize,
    /// List and judge Secrets (`--audit-secrets`).
    pub secrets: bool,
}

/// The figures the metrics keep of one audit: violations by policy, severity and namespace,
/// with at most `namespaces` distinct namespaces (the most violating), so that a cluster with
/// thousands of namespaces does not make thousands of series.
pub fn figures(result: &ClusterAudit, namespaces: usize, elapsed: Duration) -> AuditFigures {
    let failing = || result.audit.results.iter().filter(|r| r.outcome == Outcome::Fail);
    let mut per_namespace: BTreeMap<&str, usize> = BTreeMap::new();
    for r in failing() {
        *per_namespace.entry(r.subject.namespace.as_deref().unwrap_or("")).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = per_namespace.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let named: Vec<&str> = ranked.iter().take(namespaces).map(|(ns, _)| *ns).collect();
    let mut violations: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for r in failing() {
        let ns = r.subject.namespace.as_deref().unwrap_or("");
        let ns = if named.contains(&ns) { ns } else { "_other" };
        *violations.entry((r.policy.clone(), r.severity.to_string(), ns.to_string())).or_default() += 1;
    }
    AuditFigures {
        objects: result.audit.judged.len() as u64,
        violations,
        would_deny: result.audit.would_deny().into_iter().map(|(p, n)| (p.to_string(), n as u64)).collect(),
        errors: result.audit.results.iter().filter(|r| r.outcome == Outcome::Error).count() as u64,
        seconds: elapsed.as_secs_f64(),
        finished: SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
    }
}

async fn audit_once(client: &kube::Client, live: &Live, metrics: &Metrics, settings: &AuditSettings) {
    let started = Instant::now();
    let bundle = live.current().evaluator.bundle().clone();
    let options = AuditOptions {
        exempt_namespaces: settings.exempt_namespaces.clone(),
        today: Date::today(),
        threads: settings.threads,
        secrets: settings.secrets,
    };
    let result = match audit_cluster(client.clone(), &bundle, &settings.list, &options).await {
        Ok(result) => result,
        Err(e) => {
            metrics.audit_failed();
            tracing::error!(error = %e, "the audit failed; the reports of the last audit stay");
            return;
        }
    };
    let seconds = i64::try_from(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
        .unwrap_or(i64::MAX);
    let built = reports::build(&result.audit, settings.format, settings.limits, seconds);
    let published = match publish(client, &built, settings.format).await {
        Ok(published) => published,
        Err(e) => {
            metrics.audit_failed();
            tracing::error!(error = %e, "the audit ran but its reports could not be written");
            return;
        }
    };
    let elapsed = started.elapsed();
    metrics.audit_done(figures(&result, settings.metric_namespaces, elapsed));
    let failing = result.audit.results.iter().filter(|r| r.outcome == Outcome::Fail).count();
    tracing::info!(
        objects = result.audit.judged.len(),
        violations = failing,
        exempt = result.audit.exempt,
        controlled = result.audit.controlled,
        reports = published.applied,
        stale_reports_deleted = published.deleted,
        pages = result.pages,
        retries = result.retries,
        restarts = result.restarts,
        seconds = elapsed.as_secs_f64(),
        secrets_audited = settings.secrets,
        "audit done"
    );
    if !result.not_served.is_empty() {
        tracing::info!(kinds = %result.not_served.join(", "), "the cluster does not serve these kinds; nothing of them was audited");
    }
    let mut by_policy: BTreeMap<&str, usize> = BTreeMap::new();
    for r in result.audit.results.iter().filter(|r| r.outcome == Outcome::Fail) {
        *by_policy.entry(r.policy.as_str()).or_default() += 1;
    }
    for (policy, violations) in by_policy {
        tracing::info!(policy, violations, "audit: running objects violate this policy");
    }
    for (policy, count) in result.audit.would_deny() {
        let enforcement = bundle.policy(policy).map(|p| p.metadata.enforcement.to_string()).unwrap_or_default();
        tracing::warn!(
            policy,
            enforcement = %enforcement,
            objects_violating = count,
            "switching this policy to deny would reject objects that run today"
        );
    }
}

/// Runs until `stop`: renews or asks for the lease every third of its duration, and audits
/// every `interval` while it holds it.
pub async fn run(
    client: kube::Client,
    state: Arc<crate::server::AppState>,
    settings: AuditSettings,
    stop: Arc<AtomicBool>,
) {
    let elector = Elector::new(
        client.clone(),
        &settings.lease_namespace,
        &settings.lease_name,
        &settings.identity,
        settings.lease_duration,
    );
    let tick = (settings.lease_duration / 3).max(Duration::from_secs(1));
    let mut next_audit = Instant::now();
    let mut leading = false;
    while !stop.load(Ordering::Relaxed) {
        match elector.acquire_or_renew().await {
            Ok(now_leading) => {
                if now_leading != leading {
                    tracing::info!(identity = %settings.identity, leading = now_leading, "audit lease");
                    if now_leading {
                        next_audit = Instant::now();
                    }
                }
                leading = now_leading;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read or renew the audit lease; not auditing until it can");
                leading = false;
            }
        }
        state.metrics.audit_leading(leading);
        if leading && Instant::now() >= next_audit {
            // The lease is renewed while the audit runs, so a long audit does not lose it.
            let audit = audit_once(&client, &state.live, &state.metrics, &settings);
            let mut audit = std::pin::pin!(audit);
            loop {
                tokio::select! {
                    () = &mut audit => break,
                    () = tokio::time::sleep(tick) => {
                        if let Err(e) = elector.acquire_or_renew().await {
                            tracing::warn!(error = %e, "cannot renew the audit lease during the audit");
                        }
                    }
                }
            }
            next_audit = Instant::now() + settings.interval;
        }
        tokio::time::sleep(tick).await;
    }
    if leading {
        let _ = elector.release().await;
    }
}
