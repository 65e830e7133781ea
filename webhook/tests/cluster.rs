//! The cluster inventory against an API server that speaks the Kubernetes discovery, list and
//! watch protocol on loopback: readiness waits for the first lists (and says why one failed),
//! watch events reach the decisions, namespace labels switch enforcement, and a reloaded bundle
//! that reads a new kind gets it watched.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use gatehouse_audit::fake_apiserver::{FakeApiServer, Fault, Served};
use gatehouse_engine::Bundle;
use policy_webhook::admission::Safety;
use policy_webhook::cluster::{ClusterInventory, kinds_needed};
use policy_webhook::generation::{self, BundleSource, InventorySource, Live, Reloader};
use policy_webhook::server::AppState;
use serde_json::json;

use common::{example, get, repo, review, tick_until, validate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_syncs_from_list_and_watch_and_namespace_labels_switch_enforcement() {
    let (shop, web) = ("examples/shop/namespace.yaml", "examples/shop/web.yaml");
    let deployment = review("apps", "Deployment", "deployments", &example(web, "Deployment"));
    let budget = example(web, "PodDisruptionBudget");
    let mut namespace = example(shop, "Namespace");

    let api = FakeApiServer::new(vec![
        Served::new("v1", "Namespace", "namespaces", false),
        Served::new("v1", "Pod", "pods", true),
        Served::new("v1", "Service", "services", true),
        Served::new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        Served::new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
        Served::new("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
        Served::new("apps/v1", "Deployment", "deployments", true),
    ]);
    api.add(namespace.clone());
    api.add(example(shop, "NetworkPolicy"));
    api.add(example(web, "HorizontalPodAutoscaler"));
    // The budgets' first list fails; the next, half a second later, succeeds.
    api.inject(Fault::new("GET /apis/policy/v1/poddisruptionbudgets?*", 0, 500));
    let url = api.start().await;

    let config_dir = tempfile::tempdir().expect("temp dir");
    let config_file = config_dir.path().join("gatehouse.yaml");
    std::fs::write(
        &config_file,
        "namespaces:\n  - namespaceSelector: {matchLabels: {environment: staging}}\n    enforcement: warn\n",
    )
    .expect("config");
    let policies = config_dir.path().join("policies");
    common::copy_tree(&repo().join("policies"), &policies);
    let mut source = BundleSource::new(&policies, Some(&config_file));
    let bundle: Bundle = source.load().expect("bundle");
    let kinds = kinds_needed(&bundle);
    let names: Vec<String> = kinds.iter().map(ToString::to_string).collect();
    for kind in [
        "Namespace",
        "HorizontalPodAutoscaler.autoscaling",
        "NetworkPolicy.networking.k8s.io",
        "PodDisruptionBudget.policy",
    ] {
        assert!(names.iter().any(|n| n == kind), "{kind} in {names:?}");
    }

    let client = FakeApiServer::client(&url);
    let cluster = Arc::new(ClusterInventory::start(client, &kinds).await.expect("inventory starts"));
    let first = generation::build(1, &bundle, &gatehouse_engine::Inventory::new(), 0).expect("generation");
    let live = Arc::new(Live::new(first, &policies, cluster.state()));
    let state = Arc::new(AppState::new(Arc::clone(&live), Safety::new("gatehouse-system"), false, 4));
    let inventory: Arc<dyn InventorySource> = cluster.clone();
    let mut reloader = Reloader::new(source, bundle, Some(inventory), Arc::clone(&live));

    // The budgets' first list failed: not ready, and /readyz says what it waits for, and why.
    let failed = || live.readiness().detail.iter().any(|d| d.contains("the last attempt failed"));
    tick_until(&mut reloader, &live, "the failed list is reported", failed).await;
    let (status, text) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(
        text.contains("waiting for the first list of PodDisruptionBudget (policy/v1) (the last attempt failed: ")
            && text.contains("injected fault"),
        "{text}"
    );

    let ready = || live.readiness().ready;
    tick_until(&mut reloader, &live, "the inventory has synced", ready).await;
    let (status, text) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("inventory: synced, 3 objects"), "{text}");
    // Kinds of add-ons this cluster does not run are named, and their policies see none.
    assert!(text.contains("not served by this cluster:") && text.contains("ScaledObject.keda.sh"), "{text}");

    // The NetworkPolicy and HPA came from the lists; no budget yet.
    let response = validate(&state, "/validate", deployment.clone()).await;
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().expect("message");
    assert!(message.contains("[require-pdb]"), "{message}");
    assert!(!message.contains("require-default-deny-networkpolicy"), "{message}");
    assert!(!message.contains("[min-replicas]"), "{message}");

    // A budget created in the cluster reaches the decision through the watch.
    let watches_open = || api.watches_open("policy", "poddisruptionbudgets") > 0;
    tick_until(&mut reloader, &live, "the budgets are watched", watches_open).await;
    let mut created = budget.clone();
    created["metadata"]["namespace"] = json!("shop");
    api.add(created);
    let has_budget = || live.current().inventory_objects == 4;
    tick_until(&mut reloader, &live, "the budget is in the inventory", has_budget).await;
    let response = validate(&state, "/validate", deployment.clone()).await;
    assert_eq!(response["allowed"], true, "{response}");

    // The namespace is relabelled to staging, then the budget deleted: require-pdb now warns.
    namespace["metadata"]["labels"]["environment"] = json!("staging");
    api.add(namespace);
    let name = budget["metadata"]["name"].as_str().expect("name");
    api.delete("policy/v1", "PodDisruptionBudget", Some("shop"), name);
    let relabelled = || live.current().inventory_objects == 3;
    tick_until(&mut reloader, &live, "the budget is gone", relabelled).await;
    let response = validate(&state, "/validate", deployment.clone()).await;
    assert_eq!(response["allowed"], true, "{response}");
    let warnings = response["warnings"].to_string();
    assert!(warnings.contains("[require-pdb]"), "{warnings}");

    // A reloaded bundle adds a policy that reads Services: they are listed and watched too.
    let folder = policies.join("kubernetes/require-service");
    std::fs::create_dir_all(&folder).expect("policy folder");
    std::fs::write(
        folder.join("policy.rego"),
        "package t.require_service

violation contains {\"msg\": \"no Service of the same name\"} if {
\tnot data.inventory.namespace[input.review.namespace].v1.Service[input.review.object.metadata.name]
}
",
    )
    .expect("policy.rego");
    std::fs::write(
        folder.join("policy.yaml"),
        "id: require-service
title: A Service per workload
description: Each Deployment has a Service of its name.
severity: low
category: networking
guideline: {section: Networking, bullet: Every workload is reachable through a Service}
targets:
  - apiGroups: [apps]
    kinds: [Deployment]
inventory:
  - apiGroups: [\"\"]
    kinds: [Service]
remediation: Add a Service.
",
    )
    .expect("policy.yaml");
    tick_until(&mut reloader, &live, "generation 2 watches Services", || {
        live.current().number == 2 && live.readiness().detail.iter().any(|d| d.contains("Service (v1)"))
    })
    .await;
    let response = validate(&state, "/validate", deployment.clone()).await;
    assert!(response["warnings"].to_string().contains("[require-service]"), "staging warns: {response}");
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}});
    tick_until(&mut reloader, &live, "the Services are watched", || api.watches_open("", "services") > 0).await;
    api.add(service);
    tick_until(&mut reloader, &live, "the Service is in the inventory", || live.current().inventory_objects == 4).await;
    let response = validate(&state, "/validate", deployment.clone()).await;
    assert!(!response.to_string().contains("[require-service]"), "{response}");

    // The inventory follows the cluster through watches, not by listing again.
    let requests = api.log();
    assert!(requests.iter().any(|r| r.contains("watch=true")), "{requests:?}");
}
