//! Helpers shared by the webhook's integration tests.
// Each test binary uses some of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_engine::yaml::{Limits, parse_documents};
use http_body_util::BodyExt;
use policy_webhook::generation::{Live, Reloader, Tick};
use policy_webhook::server::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Copies a directory tree, for a bundle a test may change.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The first object of `kind` in a YAML file of the repository.
pub fn example(file: &str, kind: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(file)).expect("example");
    parse_documents(&text, &Limits::default())
        .expect("YAML")
        .into_iter()
        .filter_map(|d| d.root.map(|n| n.to_json()))
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {file}"))
}

/// An AdmissionReview creating `object` in the namespace shop, as the API server sends it.
pub fn review(group: &str, kind: &str, resource: &str, object: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "0d9a1f6e-0f5e-4c6b-9d1e-7f6c2b8a4e11",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "namespace": "shop", "name": object["metadata"]["name"], "operation": "CREATE",
        "userInfo": {"username": "alice"}, "object": object, "oldObject": null, "dryRun": false}}))
    .expect("bytes")
}

pub async fn call(state: &Arc<AppState>, request: Request<Body>) -> (StatusCode, String) {
    let response = router(Arc::clone(state)).oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn get(state: &Arc<AppState>, path: &str) -> (StatusCode, String) {
    call(state, Request::get(path).body(Body::empty()).expect("request")).await
}

/// The `response` of the AdmissionReview an endpoint answers.
pub async fn validate(state: &Arc<AppState>, endpoint: &str, body: Vec<u8>) -> Value {
    let request = Request::post(format!("{endpoint}?timeout=10s"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, text) = call(state, request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str::<Value>(&text).expect("JSON")["response"].clone()
}

/// Ticks the reloader, as its thread does, until `done` holds; returns whether the webhook was
/// ready on every tick.
pub async fn tick_until(reloader: &mut Reloader, live: &Live, what: &str, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    let mut always_ready = true;
    loop {
        assert!(!matches!(reloader.tick(), Tick::Failed(_)), "a reload failed while waiting until {what}");
        always_ready &= live.readiness().ready;
        if done() {
            return always_ready;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
