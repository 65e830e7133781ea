//! The cluster inventory against an API server that speaks the Kubernetes discovery, list and
//! watch protocol on loopback: readiness waits for the first lists, watch events reach the
//! decisions, namespace labels switch enforcement, and a reloaded bundle that reads a new kind
//! gets it watched.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gatehouse_engine::Bundle;
use gatehouse_engine::yaml::{Limits, parse_documents};
use http_body_util::BodyExt;
use policy_webhook::admission::Safety;
use policy_webhook::cluster::{ClusterInventory, kinds_needed};
use policy_webhook::generation::{self, BundleSource, InventorySource, Live, Reloader, Tick};
use policy_webhook::server::{AppState, router};
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast};
use tower::ServiceExt;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One collection the fake API server lists and watches.
struct Collection {
    api_version: &'static str,
    kind: &'static str,
    items: Vec<Value>,
    events: broadcast::Sender<String>,
    /// The first list waits for this, to hold the inventory in its syncing state.
    gate: Option<Arc<Notify>>,
}

#[derive(Clone)]
struct FakeApiServer {
    collections: Arc<Mutex<BTreeMap<String, Collection>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn resource(name: &str, kind: &str, namespaced: bool) -> Value {
    json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind,
           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
}

fn discovery(path: &str) -> Option<Value> {
    let group = |name: &str, versions: &[&str]| {
        let versions: Vec<Value> =
            versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect();
        json!({"name": name, "versions": versions, "preferredVersion": versions[0]})
    };
    let list = |group_version: &str, resources: Vec<Value>| json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources});
    Some(match path {
        "/api" => json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
        "/apis" => json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            group("apps", &["v1"]), group("policy", &["v1"]), group("networking.k8s.io", &["v1"]),
            group("autoscaling", &["v2", "v1"])]}),
        "/api/v1" => list(
            "v1",
            vec![
                resource("namespaces", "Namespace", false),
                resource("pods", "Pod", true),
                resource("services", "Service", true),
            ],
        ),
        "/apis/policy/v1" => list("policy/v1", vec![resource("poddisruptionbudgets", "PodDisruptionBudget", true)]),
        "/apis/networking.k8s.io/v1" => {
            list("networking.k8s.io/v1", vec![resource("networkpolicies", "NetworkPolicy", true)])
        }
        "/apis/autoscaling/v2" | "/apis/autoscaling/v1" => list(
            path.trim_start_matches("/apis/"),
            vec![resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true)],
        ),
        "/apis/apps/v1" => list("apps/v1", vec![resource("deployments", "Deployment", true)]),
        _ => return None,
    })
}

async fn serve_api(
    State(api): State<FakeApiServer>,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let path = uri.path().to_string();
    api.requests.lock().expect("requests").push(uri.to_string());
    if let Some(document) = discovery(&path) {
        return axum::Json(document).into_response();
    }
    let watching = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let (list, receiver, gate) = {
        let collections = api.collections.lock().expect("collections");
        let Some(c) = collections.get(&path) else {
            return (StatusCode::NOT_FOUND, axum::Json(json!({"kind": "Status", "code": 404}))).into_response();
        };
        let list = json!({"apiVersion": c.api_version, "kind": format!("{}List", c.kind),
            "metadata": {"resourceVersion": "100"}, "items": c.items});
        (list, c.events.subscribe(), c.gate.clone())
    };
    if !watching {
        if let Some(gate) = gate {
            gate.notified().await;
        }
        return axum::Json(list).into_response();
    }
    let lines = futures::stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(line) => Some((Ok::<Bytes, std::convert::Infallible>(Bytes::from(line + "\n")), receiver)),
            Err(_) => None,
        }
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(lines))
        .expect("watch response")
}

impl FakeApiServer {
    fn new() -> FakeApiServer {
        FakeApiServer { collections: Arc::default(), requests: Arc::default() }
    }

    fn collection(&self, path: &str, api_version: &'static str, kind: &'static str, items: Vec<Value>) {
        let (events, _) = broadcast::channel(64);
        self.collections
            .lock()
            .expect("collections")
            .insert(path.to_string(), Collection { api_version, kind, items, events, gate: None });
    }

    fn gate(&self, path: &str) -> Arc<Notify> {
        let gate = Arc::new(Notify::new());
        self.collections.lock().expect("collections").get_mut(path).expect("collection").gate = Some(Arc::clone(&gate));
        gate
    }

    fn event(&self, path: &str, kind: &str, object: Value) {
        let line = json!({"type": kind, "object": object}).to_string();
        let collections = self.collections.lock().expect("collections");
        collections[path].events.send(line).expect("a watch is open");
    }

    fn watchers(&self, path: &str) -> usize {
        self.collections.lock().expect("collections")[path].events.receiver_count()
    }

    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let app = Router::new().fallback(serve_api).with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }
}

fn documents(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(file)).expect("example");
    parse_documents(&text, &Limits::default())
        .expect("YAML")
        .into_iter()
        .filter_map(|d| d.root.map(|n| n.to_json()))
        .collect()
}

fn find(documents: &[Value], kind: &str) -> Value {
    documents.iter().find(|d| d["kind"] == kind).cloned().unwrap_or_else(|| panic!("no {kind}"))
}

fn review_of(object: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "0d9a1f6e-0f5e-4c6b-9d1e-7f6c2b8a4e11",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "namespace": "shop", "name": "web", "operation": "CREATE", "userInfo": {"username": "alice"},
        "object": object, "oldObject": null, "dryRun": false}}))
    .expect("bytes")
}

async fn call(state: &Arc<AppState>, request: Request<Body>) -> (StatusCode, String) {
    let response = router(Arc::clone(state)).oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn validate(state: &Arc<AppState>, body: Vec<u8>) -> Value {
    let request = Request::post("/validate?timeout=10s")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, text) = call(state, request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str::<Value>(&text).expect("JSON")["response"].clone()
}

async fn readyz(state: &Arc<AppState>) -> (StatusCode, String) {
    call(state, Request::get("/readyz").body(Body::empty()).expect("request")).await
}

/// Ticks the reloader until `done` holds, as its thread would every interval.
async fn tick_until(reloader: &mut Reloader, what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting until {what}");
        assert!(!matches!(reloader.tick(), Tick::Failed(_)));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_syncs_from_list_and_watch_and_namespace_labels_switch_enforcement() {
    let shop = documents("examples/shop/namespace.yaml");
    let web = documents("examples/shop/web.yaml");
    let deployment = find(&web, "Deployment");
    let budget = find(&web, "PodDisruptionBudget");
    let mut namespace = find(&shop, "Namespace");

    let api = FakeApiServer::new();
    api.collection("/api/v1/namespaces", "v1", "Namespace", vec![namespace.clone()]);
    api.collection("/apis/policy/v1/poddisruptionbudgets", "policy/v1", "PodDisruptionBudget", vec![]);
    api.collection(
        "/apis/networking.k8s.io/v1/networkpolicies",
        "networking.k8s.io/v1",
        "NetworkPolicy",
        vec![find(&shop, "NetworkPolicy")],
    );
    api.collection(
        "/apis/autoscaling/v2/horizontalpodautoscalers",
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        vec![find(&web, "HorizontalPodAutoscaler")],
    );
    let budgets_listed = api.gate("/apis/policy/v1/poddisruptionbudgets");
    let url = api.clone().start().await;

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

    let client = kube::Client::try_from(kube::Config::new(url.parse().expect("URL"))).expect("client");
    let cluster = Arc::new(ClusterInventory::start(client, &kinds).await.expect("inventory starts"));
    let first = generation::build(1, &bundle, &gatehouse_engine::Inventory::new(), 0).expect("generation");
    let live = Arc::new(Live::new(first, &policies, cluster.state()));
    let state = Arc::new(AppState::new(Arc::clone(&live), Safety::new("gatehouse-system"), false, 4));
    let inventory: Arc<dyn InventorySource> = cluster.clone();
    let mut reloader = Reloader::new(source, bundle, Some(inventory), Arc::clone(&live));

    // The budgets' first list is held back: not ready, and /readyz says what it waits for.
    reloader.tick();
    let (status, text) = readyz(&state).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("waiting for the first list of PodDisruptionBudget (policy/v1)"), "{text}");

    budgets_listed.notify_waiters();
    let ready = || live.readiness().ready;
    tick_until(&mut reloader, "the inventory has synced", ready).await;
    let (status, text) = readyz(&state).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("inventory: synced, 3 objects"), "{text}");
    // Kinds of add-ons this cluster does not run are named, and their policies see none.
    assert!(text.contains("not served by this cluster:") && text.contains("ScaledObject.keda.sh"), "{text}");

    // The NetworkPolicy and HPA came from the lists; no budget yet.
    let response = validate(&state, review_of(&deployment)).await;
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().expect("message");
    assert!(message.contains("[require-pdb]"), "{message}");
    assert!(!message.contains("require-default-deny-networkpolicy"), "{message}");
    assert!(!message.contains("[min-replicas]"), "{message}");

    // A budget created in the cluster reaches the decision through the watch.
    let watches_open = || api.watchers("/apis/policy/v1/poddisruptionbudgets") > 0;
    tick_until(&mut reloader, "the budgets are watched", watches_open).await;
    let mut created = budget.clone();
    created["metadata"]["resourceVersion"] = json!("101");
    api.event("/apis/policy/v1/poddisruptionbudgets", "ADDED", created.clone());
    let has_budget = || live.current().inventory_objects == 4;
    tick_until(&mut reloader, "the budget is in the inventory", has_budget).await;
    let response = validate(&state, review_of(&deployment)).await;
    assert_eq!(response["allowed"], true, "{response}");

    // The namespace is relabelled to staging, then the budget deleted: require-pdb now warns.
    namespace["metadata"]["labels"]["environment"] = json!("staging");
    namespace["metadata"]["resourceVersion"] = json!("102");
    api.event("/api/v1/namespaces", "MODIFIED", namespace);
    created["metadata"]["resourceVersion"] = json!("103");
    api.event("/apis/policy/v1/poddisruptionbudgets", "DELETED", created);
    let relabelled = || live.current().inventory_objects == 3;
    tick_until(&mut reloader, "the budget is gone", relabelled).await;
    let response = validate(&state, review_of(&deployment)).await;
    assert_eq!(response["allowed"], true, "{response}");
    let warnings = response["warnings"].to_string();
    assert!(warnings.contains("[require-pdb]"), "{warnings}");

    // A reloaded bundle adds a policy that reads Services: they are listed and watched too.
    api.collection("/api/v1/services", "v1", "Service", vec![]);
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
    tick_until(&mut reloader, "generation 2 watches Services", || {
        live.current().number == 2 && live.readiness().detail.iter().any(|d| d.contains("Service (v1)"))
    })
    .await;
    let response = validate(&state, review_of(&deployment)).await;
    assert!(response["warnings"].to_string().contains("[require-service]"), "staging warns: {response}");
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "104"}, "spec": {"selector": {"app": "web"}}});
    tick_until(&mut reloader, "the Services are watched", || api.watchers("/api/v1/services") > 0).await;
    api.event("/api/v1/services", "ADDED", service);
    tick_until(&mut reloader, "the Service is in the inventory", || live.current().inventory_objects == 4).await;
    let response = validate(&state, review_of(&deployment)).await;
    assert!(!response.to_string().contains("[require-service]"), "{response}");

    // The inventory follows the cluster through watches, not by listing again.
    let requests = api.requests.lock().expect("requests").clone();
    assert!(requests.iter().any(|r| r.contains("watch=true")), "{requests:?}");
}
