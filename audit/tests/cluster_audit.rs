//! The audit against an HTTP server that answers as a kube-apiserver does: paginated lists,
//! failures in the middle of a list, reports published within their bounds, and the lease.

use std::collections::BTreeMap;
use std::time::Duration;

use gatehouse_audit::fake_apiserver::{FakeApiServer, Fault, Served};
use gatehouse_audit::lease::Elector;
use gatehouse_audit::publish::publish;
use gatehouse_audit::reports::{self, OMITTED_ANNOTATION, ReportFormat, ReportLimits};
use gatehouse_audit::{AuditError, AuditOptions, ListOptions, Outcome, audit_cluster};
use gatehouse_engine::{Bundle, Config};
use serde_json::{Value, json};

fn bundle() -> Bundle {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    Bundle::load(&root, &Config::default()).unwrap_or_else(|e| panic!("the bundled policies: {e}"))
}

fn served() -> Vec<Served> {
    vec![
        Served::new("v1", "Namespace", "namespaces", false),
        Served::new("v1", "Secret", "secrets", true),
        Served::new("apps/v1", "Deployment", "deployments", true),
        Served::new("apps/v1", "ReplicaSet", "replicasets", true),
        Served::new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        Served::new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
        Served::new("coordination.k8s.io/v1", "Lease", "leases", true),
        Served::new("openreports.io/v1alpha1", "Report", "reports", true),
        Served::new("openreports.io/v1alpha1", "ClusterReport", "clusterreports", false),
    ]
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"environment": "production"}}})
}

/// A Deployment with no probes, resources or security context: about ten violations.
fn bare_deployment(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
        },
    })
}

fn listing(page_size: u32) -> ListOptions {
    ListOptions { page_size, attempts: 3, backoff: Duration::from_millis(10) }
}

async fn cluster_with(deployments: usize) -> (FakeApiServer, String) {
    let server = FakeApiServer::new(served());
    for ns in ["shop", "kube-system"] {
        server.add(namespace(ns));
    }
    for i in 0..deployments {
        server.add(bare_deployment("shop", &format!("web-{i:04}")));
    }
    server.add(bare_deployment("kube-system", "coredns"));
    let url = server.start().await;
    (server, url)
}

/// Deployment names judged, with how many times each was judged.
fn judged_deployments(audit: &gatehouse_audit::Audit) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for j in audit.judged.iter().filter(|j| j.subject.kind == "Deployment") {
        *seen.entry(j.subject.name.clone()).or_insert(0) += 1;
    }
    seen
}

fn deployment_pages(server: &FakeApiServer) -> Vec<String> {
    server.log().into_iter().filter(|l| l.starts_with("GET /apis/apps/v1/deployments")).collect()
}

#[tokio::test]
async fn pages_through_every_kind_and_judges_each_object_once() {
    let (server, url) = cluster_with(230).await;
    server.add(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-0000-5d4f", "namespace": "shop",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-0000", "uid": "x", "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}},
    }));
    let client = FakeApiServer::client(&url);
    let result = audit_cluster(client, &bundle(), &listing(100), &AuditOptions::default()).await.expect("the audit");
    let seen = judged_deployments(&result.audit);
    assert_eq!(seen.len(), 230, "every Deployment outside kube-system is judged");
    assert!(seen.values().all(|&n| n == 1), "none twice");
    assert_eq!(result.audit.exempt, 1, "coredns in kube-system is exempt");
    assert_eq!(result.audit.controlled, 1, "the Deployment's ReplicaSet is covered by its Deployment");
    let pages = deployment_pages(&server);
    assert_eq!(pages.len(), 3, "230 objects in pages of 100: {pages:?}");
    assert!(pages[0].contains("limit=100") && !pages[0].contains("continue="));
    assert!(pages[1].contains("continue=") && pages[2].contains("continue="));
    assert!(result.kinds.iter().any(|k| k == "Deployment (apps/v1)"));
    assert!(result.not_served.iter().any(|k| k == "HorizontalPodAutoscaler.autoscaling"), "{:?}", result.not_served);
    let probes = result.audit.results.iter().filter(|r| r.policy == "require-probes" && r.outcome == Outcome::Fail);
    assert_eq!(probes.map(|r| &r.subject.name).collect::<std::collections::BTreeSet<_>>().len(), 230);
}

#[tokio::test]
async fn a_page_that_fails_is_asked_again_without_losing_or_duplicating_objects() {
    let (server, url) = cluster_with(250).await;
    // The second page of Deployments fails with a 500, a 429 (which the client itself asks
    // again), then a 502.
    server.inject(Fault::new("GET /apis/apps/v1/deployments?*continue=", 0, 500));
    server.inject(Fault::new("GET /apis/apps/v1/deployments?*continue=", 1, 429));
    server.inject(Fault::new("GET /apis/apps/v1/deployments?*continue=", 2, 502));
    let client = FakeApiServer::client(&url);
    let result = audit_cluster(client, &bundle(), &listing(100), &AuditOptions::default()).await.expect("the audit");
    let seen = judged_deployments(&result.audit);
    assert_eq!(seen.len(), 250);
    assert!(seen.values().all(|&n| n == 1));
    assert_eq!(result.retries, 2);
    assert_eq!(result.restarts, 0);
    let pages = deployment_pages(&server);
    assert_eq!(pages.len(), 6, "3 pages and 3 asked again: {pages:?}");
    assert!(pages[1..5].iter().all(|p| *p == pages[1]), "a page is asked again with the same continue token");
}

#[tokio::test]
async fn an_expired_continue_token_lists_again_from_the_start() {
    let (server, url) = cluster_with(250).await;
    server.inject(Fault::new("GET /apis/apps/v1/deployments?*continue=", 1, 410));
    let client = FakeApiServer::client(&url);
    let result = audit_cluster(client, &bundle(), &listing(100), &AuditOptions::default()).await.expect("the audit");
    let seen = judged_deployments(&result.audit);
    assert_eq!(seen.len(), 250);
    assert!(seen.values().all(|&n| n == 1), "the pages read before the 410 are not kept twice");
    assert_eq!(result.restarts, 1);
    let pages = deployment_pages(&server);
    assert_eq!(pages.len(), 6, "page 1, page 2, 410 on page 3, then 3 pages again: {pages:?}");
    assert!(!pages[3].contains("continue="), "the restart asks without a token");
}

#[tokio::test]
async fn a_kind_that_cannot_be_listed_fails_the_audit_and_names_it() {
    let (server, url) = cluster_with(5).await;
    server.inject(Fault::new("GET /apis/policy/v1/poddisruptionbudgets", 0, 403));
    let client = FakeApiServer::client(&url);
    let error = audit_cluster(client, &bundle(), &listing(100), &AuditOptions::default()).await.expect_err("no audit");
    let text = error.to_string();
    assert!(matches!(error, AuditError::List(_)));
    assert!(
        text.contains("PodDisruptionBudget (policy/v1)") && text.contains("needs `list` on poddisruptionbudgets"),
        "{text}"
    );
    // A server error that does not go away fails too, after the configured attempts.
    let (server, url) = cluster_with(5).await;
    for nth in 0..4 {
        server.inject(Fault::new("GET /apis/apps/v1/deployments", nth, 500));
    }
    let client = FakeApiServer::client(&url);
    let error = audit_cluster(client, &bundle(), &listing(100), &AuditOptions::default()).await.expect_err("no audit");
    assert!(error.to_string().contains("500 InternalError"), "{error}");
    assert_eq!(deployment_pages(&server).len(), 4, "the first ask and three attempts");
}

#[tokio::test]
async fn thousands_of_violations_in_one_namespace_stay_within_the_report_bounds() {
    let (server, url) = cluster_with(600).await;
    server.add(json!({
        "apiVersion": "openreports.io/v1alpha1", "kind": "Report",
        "metadata": {"name": "gatehouse-audit", "namespace": "deleted-since",
                     "labels": {"app.kubernetes.io/managed-by": "gatehouse"}},
    }));
    let client = FakeApiServer::client(&url);
    let result =
        audit_cluster(client.clone(), &bundle(), &listing(250), &AuditOptions::default()).await.expect("the audit");
    let failures = result.audit.results.iter().filter(|r| r.subject.namespace.as_deref() == Some("shop")).count();
    assert!(failures > 3000, "thousands of violations in one namespace: {failures}");
    let limits = ReportLimits::default();
    let built = reports::build(&result.audit, ReportFormat::OpenReports, limits, 1_764_000_000);
    let shop = built.iter().find(|r| r["metadata"]["namespace"] == "shop").expect("the shop report");
    let kept = shop["results"].as_array().map_or(0, Vec::len);
    let bytes = serde_json::to_vec(shop).map_or(0, |v| v.len());
    assert!(kept <= limits.max_results && kept > 0);
    assert!(bytes < 1024 * 1024, "a report stays far below etcd's 1.5 MiB: {bytes} bytes");
    assert_eq!(shop["summary"]["fail"], json!(failures), "the summary counts every violation");
    assert_eq!(shop["metadata"]["annotations"][OMITTED_ANNOTATION], json!((failures - kept).to_string()));
    let severities: Vec<&str> =
        shop["results"].as_array().into_iter().flatten().filter_map(|r| r["severity"].as_str()).collect();
    let rank = |s: &str| ["critical", "high", "medium", "low", "info"].iter().position(|x| *x == s).unwrap_or(9);
    assert!(severities.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "the most severe are kept first");

    let published = publish(&client, &built, ReportFormat::OpenReports).await.expect("published");
    assert_eq!(published.applied, built.len());
    assert_eq!(published.deleted, 1, "the report of a namespace no longer audited is deleted");
    let stored = server.objects("openreports.io", "reports");
    let namespaces: Vec<&str> = stored.iter().filter_map(|r| r["metadata"]["namespace"].as_str()).collect();
    assert_eq!(namespaces, vec!["shop"], "kube-system is exempt; deleted-since is gone");
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.starts_with("PATCH /apis/openreports.io/v1alpha1/namespaces/shop/reports/gatehouse-audit?")
                && l.contains("fieldManager=gatehouse-audit")
                && l.contains("force=true")),
        "{:?}",
        server.log().iter().filter(|l| l.starts_with("PATCH")).collect::<Vec<_>>()
    );
    assert_eq!(stored[0]["summary"]["fail"], json!(failures));

    let wg = reports::build(&result.audit, ReportFormat::PolicyReport, limits, 1_764_000_000);
    assert!(wg.iter().all(|r| r["apiVersion"] == "wgpolicyk8s.io/v1alpha2"));
    assert!(
        wg.iter().any(|r| r["kind"] == "ClusterPolicyReport") == built.iter().any(|r| r["kind"] == "ClusterReport")
    );
    assert_eq!(
        wg.iter().find(|r| r["metadata"]["namespace"] == "shop").map(|r| &r["results"][0]["source"]),
        Some(&json!("gatehouse"))
    );
}

#[tokio::test]
async fn one_replica_holds_the_lease_until_it_stops_renewing_it() {
    let server = FakeApiServer::new(served());
    let url = server.start().await;
    let client = FakeApiServer::client(&url);
    let lease = Duration::from_secs(1);
    let a = Elector::new(client.clone(), "gatehouse-system", "gatehouse-audit", "pod-a", lease);
    let b = Elector::new(client.clone(), "gatehouse-system", "gatehouse-audit", "pod-b", lease);
    assert!(a.acquire_or_renew().await.expect("a"), "the first replica takes a free lease");
    assert!(!b.acquire_or_renew().await.expect("b"), "the second waits while it is held");
    assert!(a.acquire_or_renew().await.expect("a renews"));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(b.acquire_or_renew().await.expect("b"), "an expired lease is taken over");
    assert!(!a.acquire_or_renew().await.expect("a"), "the old holder does not take it back while b renews");
    let stored = server.objects("coordination.k8s.io", "leases");
    assert_eq!(stored[0]["spec"]["holderIdentity"], "pod-b");
    assert_eq!(stored[0]["spec"]["leaseTransitions"], 1);
    b.release().await.expect("released");
    assert!(a.acquire_or_renew().await.expect("a"), "a released lease is free at once");
}

#[tokio::test]
async fn secrets_are_listed_only_when_asked_for() {
    let (server, url) = cluster_with(2).await;
    server.add(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                      "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "aHVudGVyMg=="}}));
    let client = FakeApiServer::client(&url);
    let result =
        audit_cluster(client.clone(), &bundle(), &listing(100), &AuditOptions::default()).await.expect("the audit");
    assert!(!server.log().iter().any(|l| l.starts_with("GET /api/v1/secrets")), "Secrets are not listed by default");
    assert!(result.audit.judged.iter().all(|j| j.subject.kind != "Secret"));
    assert!(!result.kinds.iter().any(|k| k.starts_with("Secret ")));

    let options = AuditOptions { secrets: true, ..AuditOptions::default() };
    let result = audit_cluster(client, &bundle(), &listing(100), &options).await.expect("the audit");
    assert!(server.log().iter().any(|l| l.starts_with("GET /api/v1/secrets")));
    let secret = result.audit.results.iter().find(|r| r.subject.kind == "Secret").expect("the Secret is judged");
    assert_eq!((secret.policy.as_str(), secret.outcome), ("no-inline-secrets", Outcome::Fail));
    assert!(!secret.message.contains("aHVudGVyMg=="), "a result never carries the value: {}", secret.message);
}
