//! The inventory when its watch fails: against an API server on loopback that goes down, cuts
//! its watches and compacts its history, readiness drops while a kind is stale, reviews that
//! read it are answered by the failure policy instead of from it, and a fresh list makes it
//! current again with what changed meanwhile.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use gatehouse_audit::fake_apiserver::{FakeApiServer, Served};
use policy_webhook::admission::Safety;
use policy_webhook::cluster::{ClusterInventory, kinds_needed};
use policy_webhook::generation::{self, BundleSource, InventorySource, Live, Reloader};
use policy_webhook::server::AppState;
use serde_json::{Value, json};

use common::{example, get, repo, review, tick_until, validate};

const BUDGETS: &str = "GET /apis/policy/v1/poddisruptionbudgets";

fn lists(api: &FakeApiServer) -> usize {
    api.log().iter().filter(|l| l.starts_with(BUDGETS) && !l.contains("watch=")).count()
}

struct Cluster {
    api: FakeApiServer,
    live: Arc<Live>,
    state: Arc<AppState>,
    reloader: Reloader,
    deployment: Value,
    budget: Value,
    _dir: tempfile::TempDir,
}

/// The shop's namespace, NetworkPolicy and HPA in the cluster, no PodDisruptionBudget yet; the
/// webhook (failing closed) synced to it.
async fn synced_cluster() -> Cluster {
    let (shop, web) = ("examples/shop/namespace.yaml", "examples/shop/web.yaml");
    let api = FakeApiServer::new(vec![
        Served::new("v1", "Namespace", "namespaces", false),
        Served::new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        Served::new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
        Served::new("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
    ]);
    api.add(example(shop, "Namespace"));
    api.add(example(shop, "NetworkPolicy"));
    api.add(example(web, "HorizontalPodAutoscaler"));
    let url = api.start().await;

    let dir = tempfile::tempdir().expect("temp dir");
    let policies = dir.path().join("policies");
    common::copy_tree(&repo().join("policies"), &policies);
    let mut source = BundleSource::new(&policies, None);
    let bundle = source.load().expect("bundle");
    let cluster =
        Arc::new(ClusterInventory::start(FakeApiServer::client(&url), &kinds_needed(&bundle)).await.expect("starts"));
    let first = generation::build(1, &bundle, &gatehouse_engine::Inventory::new(), 0).expect("generation");
    let live = Arc::new(Live::new(first, &policies, cluster.state()));
    let state = Arc::new(AppState::new(Arc::clone(&live), Safety::new("gatehouse-system"), false, 4));
    let inventory: Arc<dyn InventorySource> = cluster;
    let mut reloader = Reloader::new(source, bundle, Some(inventory), Arc::clone(&live));
    let ready = || live.readiness().ready;
    tick_until(&mut reloader, &live, "the inventory has synced", ready).await;
    Cluster {
        api,
        live,
        state,
        reloader,
        deployment: example(web, "Deployment"),
        budget: example(web, "PodDisruptionBudget"),
        _dir: dir,
    }
}

impl Cluster {
    fn deployment_review(&self) -> Vec<u8> {
        review("apps", "Deployment", "deployments", &self.deployment)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_watch_drops_readiness_and_is_not_judged_from_until_listed_again() {
    let mut c = synced_cluster().await;
    let response = validate(&c.state, "/validate", c.deployment_review()).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert!(response["status"]["message"].as_str().unwrap_or("").contains("[require-pdb]"), "{response}");
    let lists_before = lists(&c.api);

    // The API server goes down: the watches end, and watching again fails.
    c.api.outage(Some(500));
    let live = Arc::clone(&c.live);
    let unready = || !live.readiness().ready;
    tick_until(&mut c.reloader, &c.live, "readiness drops", unready).await;
    let (status, text) = get(&c.state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(
        text.contains("inventory: stale, not judged from: PodDisruptionBudget (policy/v1): the watch failed"),
        "{text}"
    );
    let (_, metrics) = get(&c.state, "/metrics").await;
    assert!(metrics.contains("gatehouse_inventory_synced 0"), "{metrics}");

    // A budget is created meanwhile; the webhook cannot see it.
    let mut budget = c.budget.clone();
    budget["metadata"]["namespace"] = json!("shop");
    c.api.add(budget);

    // Reviews that read the inventory follow the failure policy; the others are judged.
    let response = validate(&c.state, "/validate", c.deployment_review()).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"]["code"], 500, "{response}");
    let message = response["status"]["message"].as_str().unwrap_or("");
    assert!(message.starts_with("gatehouse: the cluster inventory is stale: "), "{message}");
    assert!(message.contains("not judged until it is current") && !message.contains("[require-pdb]"), "{message}");
    let response = validate(&c.state, "/validate/practices", c.deployment_review()).await;
    assert_eq!(response["allowed"], true, "best practices fail open: {response}");
    assert!(response["warnings"].to_string().contains("inventory is stale"), "{response}");
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "fast"}});
    let response = validate(&c.state, "/validate", review("", "ConfigMap", "configmaps", &config_map)).await;
    assert_eq!(response["allowed"], true, "no policy of a ConfigMap reads the inventory: {response}");
    let (_, metrics) = get(&c.state, "/metrics").await;
    assert!(metrics.contains("decision=\"stale\""), "{metrics}");

    // Back up: the kind is listed again (not only watched), with the budget made meanwhile.
    c.api.outage(None);
    let live = Arc::clone(&c.live);
    let ready = || live.readiness().ready;
    tick_until(&mut c.reloader, &c.live, "the inventory is current again", ready).await;
    assert!(lists(&c.api) > lists_before, "listed again: {:?}", c.api.log());
    let response = validate(&c.state, "/validate", c.deployment_review()).await;
    assert_eq!(response["allowed"], true, "the budget made during the outage is seen: {response}");
    let (_, metrics) = get(&c.state, "/metrics").await;
    assert!(metrics.contains("gatehouse_inventory_synced 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_closed_by_the_server_resumes_while_an_expired_one_is_listed_again() {
    let mut c = synced_cluster().await;
    let lists_before = lists(&c.api);
    let api = c.api.clone();
    let watching = || api.watches_open("policy", "poddisruptionbudgets") == 1;
    tick_until(&mut c.reloader, &c.live, "the budgets are watched", watching).await;

    // A watch the server ends at its timeout is resumed from its resourceVersion: no event is
    // missed, so the inventory never goes stale and nothing is listed again.
    c.api.cut_watches();
    let mut budget = c.budget.clone();
    budget["metadata"]["namespace"] = json!("shop");
    c.api.add(budget.clone());
    let live = Arc::clone(&c.live);
    let seen = || live.current().inventory_objects == 4;
    let held = tick_until(&mut c.reloader, &c.live, "the budget is seen through the resumed watch", seen).await;
    assert!(held, "readiness held through a watch the server closed");
    assert_eq!(lists(&c.api), lists_before, "{:?}", c.api.log());
    let response = validate(&c.state, "/validate", c.deployment_review()).await;
    assert_eq!(response["allowed"], true, "{response}");

    // The history is compacted: 410 Expired. Events may have been lost, so the kind is stale
    // until a fresh list.
    let api = c.api.clone();
    let watching = || api.watches_open("policy", "poddisruptionbudgets") == 1;
    tick_until(&mut c.reloader, &c.live, "the budgets are watched again", watching).await;
    c.api.expire_watches();
    let live = Arc::clone(&c.live);
    let unready = || !live.readiness().ready;
    tick_until(&mut c.reloader, &c.live, "readiness drops on 410 Expired", unready).await;
    let ready = || live.readiness().ready;
    tick_until(&mut c.reloader, &c.live, "listed again", ready).await;
    assert!(lists(&c.api) > lists_before, "{:?}", c.api.log());
}
