//! The background audit of two webhook replicas against an API server on loopback: one takes
//! the lease and publishes the reports, the other does not audit, and the audit's figures reach
//! /metrics with a bounded set of namespaces.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gatehouse_audit::fake_apiserver::{FakeApiServer, Served};
use gatehouse_audit::{ListOptions, ReportFormat, ReportLimits};
use gatehouse_engine::{Bundle, Config, Inventory};
use policy_webhook::admission::Safety;
use policy_webhook::background_audit::{self, AuditSettings};
use policy_webhook::generation::{self, InventoryState, Live};
use policy_webhook::server::AppState;
use serde_json::{Value, json};

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

fn replica(bundle: &Bundle) -> Arc<AppState> {
    let first = generation::build(1, bundle, &Inventory::new(), 0).expect("generation");
    let live = Arc::new(Live::new(first, &policies(), InventoryState::Off { without: Vec::new() }));
    Arc::new(AppState::new(live, Safety::new("gatehouse-system"), false, 2))
}

fn settings(identity: &str, metric_namespaces: usize) -> AuditSettings {
    AuditSettings {
        interval: Duration::from_secs(3600),
        format: ReportFormat::OpenReports,
        limits: ReportLimits::default(),
        list: ListOptions { page_size: 50, attempts: 2, backoff: Duration::from_millis(10) },
        exempt_namespaces: Safety::new("gatehouse-system").exempt_namespaces,
        lease_namespace: "gatehouse-system".into(),
        lease_name: "gatehouse-audit".into(),
        identity: identity.into(),
        lease_duration: Duration::from_secs(3),
        metric_namespaces,
        threads: 1,
        secrets: false,
    }
}

fn deployment(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_audits_and_publishes_reports_and_metrics() {
    let server = FakeApiServer::new(vec![
        Served::new("v1", "Namespace", "namespaces", false),
        Served::new("apps/v1", "Deployment", "deployments", true),
        Served::new("coordination.k8s.io/v1", "Lease", "leases", true),
        Served::new("openreports.io/v1alpha1", "Report", "reports", true),
        Served::new("openreports.io/v1alpha1", "ClusterReport", "clusterreports", false),
    ]);
    for ns in ["shop", "billing", "search"] {
        server.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        server.add(deployment(ns, "web"));
    }
    server.add(deployment("shop", "cart"));
    let url = server.start().await;
    let client = FakeApiServer::client(&url);
    let bundle = Bundle::load(&policies(), &Config::default()).expect("bundle");
    let (a, b) = (replica(&bundle), replica(&bundle));
    let stop = Arc::new(AtomicBool::new(false));
    let run_a =
        tokio::spawn(background_audit::run(client.clone(), Arc::clone(&a), settings("pod-a", 2), Arc::clone(&stop)));
    // The second replica starts once the first holds the lease.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.objects("coordination.k8s.io", "leases").is_empty() {
        assert!(Instant::now() < deadline, "no lease taken");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let run_b =
        tokio::spawn(background_audit::run(client.clone(), Arc::clone(&b), settings("pod-b", 2), Arc::clone(&stop)));
    while server.objects("openreports.io", "reports").len() < 3 {
        assert!(Instant::now() < deadline, "no reports: {:?}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let reports = server.objects("openreports.io", "reports");
    let shop = reports.iter().find(|r| r["metadata"]["namespace"] == "shop").expect("shop's report");
    let results = shop["results"].as_array().expect("results");
    assert!(
        results
            .iter()
            .any(|r| r["policy"] == "require-probes" && r["result"] == "fail" && r["resources"][0]["name"] == "cart"),
        "{shop}"
    );
    assert_eq!(shop["source"], "gatehouse");
    assert_eq!(shop["summary"]["fail"].as_u64(), Some(results.len() as u64));

    let metrics_a = a.metrics.render(&a.live.counters());
    let metrics_b = b.metrics.render(&b.live.counters());
    assert!(metrics_a.contains("gatehouse_audit_runs_total 1\n"), "{metrics_a}");
    assert!(metrics_a.contains("gatehouse_audit_leader 1\n"), "{metrics_a}");
    assert!(metrics_b.contains("gatehouse_audit_runs_total 0\n"), "the other replica does not audit: {metrics_b}");
    assert!(metrics_b.contains("gatehouse_audit_leader 0\n"), "{metrics_b}");
    assert!(metrics_a.contains("gatehouse_audit_objects 7\n"), "4 Deployments and 3 Namespaces: {metrics_a}");
    // Two namespaces are named (shop has the most violations), the third is summed as _other.
    let namespaces: std::collections::BTreeSet<&str> = metrics_a
        .lines()
        .filter(|l| l.starts_with("gatehouse_audit_violations{"))
        .filter_map(|l| l.split("namespace=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(namespaces.len(), 3, "{namespaces:?}");
    assert!(namespaces.contains("shop") && namespaces.contains("_other"), "{namespaces:?}");
    assert!(
        metrics_a.contains("gatehouse_audit_would_deny{policy=\"require-image-digest\"} 4\n"),
        "require-image-digest warns today; switching it to deny would reject the 4 Deployments: {metrics_a}"
    );

    stop.store(true, Ordering::Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(10), run_a).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), run_b).await;
    let lease = &server.objects("coordination.k8s.io", "leases")[0];
    assert!(lease["spec"]["holderIdentity"].is_null(), "the lease is given up on shutdown: {lease}");
}
