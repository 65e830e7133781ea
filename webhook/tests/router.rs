//! The webhook's router driven with AdmissionReview bodies captured from real kube-apiservers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use gatehouse_engine::{Bundle, Config};
use http_body_util::BodyExt;
use policy_webhook::server::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn state_with(bundle: &Path, config: &str, fail_open: bool) -> Arc<AppState> {
    let config = Config::from_source(Path::new("gatehouse.yaml"), config).expect("config");
    let bundle = Bundle::load(bundle, &config).expect("bundle");
    Arc::new(AppState::for_bundle(&bundle, "gatehouse-system", fail_open, 4).expect("state"))
}

fn state() -> Arc<AppState> {
    state_with(&repo().join("policies"), "{}", false)
}

fn captured(name: &str) -> (String, Value) {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/admission-review").join(name)).expect("fixture");
    let capture: Value = serde_json::from_str(&text).expect("JSON");
    (capture["_meta"]["path"].as_str().expect("path").to_string(), capture["body"].clone())
}

async fn post(state: &Arc<AppState>, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request =
        Request::post(path).header("content-type", "application/json").body(Body::from(body)).expect("request");
    let response = router(Arc::clone(state)).oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
    )
}

fn review_of(object: Value, operation: &str) -> Value {
    let kind = object["kind"].as_str().expect("kind").to_string();
    let api_version = object["apiVersion"].as_str().expect("apiVersion").to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version.as_str()));
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": kind},
        "namespace": object["metadata"]["namespace"], "name": object["metadata"]["name"],
        "operation": operation, "userInfo": {"username": "alice"}, "object": object, "oldObject": null, "dryRun": false}})
}

#[tokio::test]
async fn a_captured_deployment_is_denied_with_every_reason_and_its_uid() {
    let state = state();
    for fixture in [
        "kube-apiserver-v1.32/validate-CREATE-Deployment-1.json",
        "kube-apiserver-v1.20/validate-UPDATE-Deployment-2.json",
    ] {
        let (path, body) = captured(fixture);
        let (status, answer) = post(&state, &path, serde_json::to_vec(&body).expect("bytes")).await;
        assert_eq!(status, StatusCode::OK, "{fixture}: {answer}");
        let response = &answer["response"];
        assert_eq!(response["uid"], body["request"]["uid"]);
        assert_eq!(response["allowed"], false);
        assert_eq!(response["status"]["code"], 403);
        let message = response["status"]["message"].as_str().expect("message");
        assert!(message.starts_with("gatehouse denied Deployment webhook-demo/"), "{message}");
        assert!(message.contains("[require-probes] container \"demo\" has no readinessProbe (at /spec/template/spec/containers/0/readinessProbe)"), "{message}");
        assert!(message.contains("[min-replicas]"), "{message}");
    }
}

#[tokio::test]
async fn a_server_side_dry_run_is_judged_the_same_way() {
    let state = state();
    for fixture in [
        "kube-apiserver-v1.32/validate-CREATE-Deployment-3.json",
        "kube-apiserver-v1.20/validate-CREATE-Deployment-4.json",
    ] {
        let (path, body) = captured(fixture);
        assert_eq!(body["request"]["dryRun"], true, "{fixture} is the captured dry run");
        let (_, answer) = post(&state, &path, serde_json::to_vec(&body).expect("bytes")).await;
        assert_eq!(answer["response"]["allowed"], false, "{fixture}");
    }
}

#[tokio::test]
async fn the_mutation_patch_applies_and_a_second_pass_changes_nothing() {
    let state = state();
    for fixture in
        ["kube-apiserver-v1.32/mutate-CREATE-Deployment-4.json", "kube-apiserver-v1.32/mutate-pods-CREATE-Pod-1.json"]
    {
        let (_, body) = captured(fixture);
        let (status, answer) = post(&state, "/mutate?timeout=5s", serde_json::to_vec(&body).expect("bytes")).await;
        assert_eq!(status, StatusCode::OK);
        let response = &answer["response"];
        assert_eq!(
            (response["allowed"].clone(), response["patchType"].clone()),
            (json!(true), json!("JSONPatch")),
            "{fixture}"
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(response["patch"].as_str().expect("patch"))
            .expect("base64");
        let patch: json_patch::Patch = serde_json::from_slice(&bytes).expect("RFC 6902");
        let mut object = body["request"]["object"].clone();
        json_patch::patch(&mut object, &patch).expect("applies");
        assert_eq!(
            object
                .pointer("/spec/template/spec/securityContext/seccompProfile/type")
                .or(object.pointer("/spec/securityContext/seccompProfile/type")),
            Some(&json!("RuntimeDefault"))
        );
        let mut again = body.clone();
        again["request"]["object"] = object;
        let (_, answer) = post(&state, "/mutate?timeout=5s", serde_json::to_vec(&again).expect("bytes")).await;
        assert_eq!(answer["response"].get("patch"), None, "{fixture}: idempotent");
    }
}

#[tokio::test]
async fn the_control_plane_and_exempt_namespaces_are_never_judged() {
    let state = state();
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "x", "namespace": "team"}});
    let (_, answer) = post(&state, "/validate", serde_json::to_vec(&review_of(lease, "UPDATE")).expect("bytes")).await;
    assert_eq!(answer["response"]["allowed"], true);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "kube-system"}, "spec": {"containers": [{"name": "c", "image": "x:1", "securityContext": {"privileged": true}}]}});
    let (_, answer) =
        post(&state, "/validate", serde_json::to_vec(&review_of(pod.clone(), "CREATE")).expect("bytes")).await;
    assert_eq!(answer["response"]["allowed"], true, "kube-system");
    let mut own = pod;
    own["metadata"]["namespace"] = json!("gatehouse-system");
    let (_, answer) = post(&state, "/validate", serde_json::to_vec(&review_of(own, "CREATE")).expect("bytes")).await;
    assert_eq!(answer["response"]["allowed"], true, "the webhook's own namespace");
}

#[tokio::test]
async fn warn_mode_answers_with_warnings_and_an_annotation_waives_named_policies() {
    let state = state_with(&repo().join("policies"), "policies:\n  require-probes: {enforcement: warn}\n", false);
    let labels = json!({"app.kubernetes.io/name": "once", "app.kubernetes.io/part-of": "batch", "team": "data"});
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "jobs", "labels": labels},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"restartPolicy": "Never", "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "rg.fr-par.scw.cloud/data/once:1.0@sha256:0f5e4c6b9d1e7f6c2b8a4e110d9a1f6e0f5e4c6b9d1e7f6c2b8a4e110d9a1f6e", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}}}});
    let (_, answer) =
        post(&state, "/validate", serde_json::to_vec(&review_of(job.clone(), "CREATE")).expect("bytes")).await;
    let response = &answer["response"];
    // No inventory here: the namespace's NetworkPolicies are unknown, so that policy denies.
    assert_eq!(response["allowed"], false);
    let warnings: Vec<&str> =
        response["warnings"].as_array().expect("warnings").iter().filter_map(Value::as_str).collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("gatehouse: [require-probes] container \"c\" has no readinessProbe")),
        "{warnings:?}"
    );
    let mut waived = job;
    waived["metadata"]["annotations"] = json!({"gatehouse.dev/waivers": "- {policy: require-default-deny-networkpolicy, reason: a test, expires: 2999-01-01}"});
    let (_, answer) = post(&state, "/validate", serde_json::to_vec(&review_of(waived, "CREATE")).expect("bytes")).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_a_json_error() {
    let state = state();
    for body in [
        b"not json".to_vec(),
        b"{\"kind\": \"AdmissionReview\"}".to_vec(),
        br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u"}}"#.to_vec(),
    ] {
        let (status, answer) = post(&state, "/validate", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, answer) = post(&state, "/validate", vec![b' '; policy_webhook::server::MAX_BODY_BYTES + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_denial_with_hundreds_of_reasons_stays_within_the_message_and_warning_bounds() {
    use policy_webhook::admission::{MAX_MESSAGE_BYTES, MAX_WARNING_BYTES, MAX_WARNINGS};
    let state = state();
    // 150 containers, each without probes, resources or a security context, on a mutable tag:
    // hundreds of denying reasons and warnings.
    let containers: Vec<Value> =
        (0..150).map(|i| json!({"name": format!("c{i}"), "image": format!("registry.example/app:{i}")})).collect();
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "wide", "namespace": "team"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "wide"}},
                 "template": {"metadata": {"labels": {"app": "wide"}}, "spec": {"containers": containers}}},
    });
    let (status, answer) =
        post(&state, "/validate", serde_json::to_vec(&review_of(deployment, "CREATE")).expect("json")).await;
    assert_eq!(status, StatusCode::OK);
    let response = &answer["response"];
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().expect("message");
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
    assert!(message.contains("more violations"), "the reasons left out are counted: {message}");
    let warnings = response["warnings"].as_array().expect("warnings");
    assert!(warnings.len() <= MAX_WARNINGS, "{} warnings", warnings.len());
    assert!(warnings.iter().all(|w| w.as_str().is_some_and(|w| w.len() <= MAX_WARNING_BYTES)));
    assert!(warnings.last().and_then(Value::as_str).is_some_and(|w| w.contains("more warnings")), "{warnings:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_webhook_sheds_at_once_by_the_failure_policy_and_recovers() {
    let dir = tempfile_dir();
    std::fs::create_dir_all(dir.join("kubernetes/slow")).expect("mkdir");
    std::fs::write(dir.join("kubernetes/slow/policy.yaml"), "id: slow\ntitle: Slow\ndescription: Slow.\nseverity: low\ncategory: security\nguideline: {section: S, bullet: B}\ntargets: [{apiGroups: [''], kinds: [ConfigMap]}]\nremediation: None.\n").expect("write");
    std::fs::write(dir.join("kubernetes/slow/policy.rego"), "package t.slow\n\nviolation contains {\"msg\": \"never\"} if {\n\tinput.review.object.kind == \"ConfigMap\"\n\tsome i in numbers.range(1, 30000)\n\tsome j in numbers.range(1, 30000)\n\ti + j < 0\n}\n").expect("write");
    let bundle = Bundle::load(&dir, &Config::default()).expect("bundle");
    // One evaluator and one review allowed to wait for it.
    let mut state = AppState::for_bundle(&bundle, "gatehouse-system", false, 1).expect("state");
    state.max_waiting = 1;
    let state = Arc::new(state);
    let body = serde_json::to_vec(&review_of(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}}),
        "CREATE",
    ))
    .expect("bytes");
    let busy = {
        let (state, body) = (Arc::clone(&state), body.clone());
        tokio::spawn(async move { post(&state, "/validate?timeout=2s", body).await })
    };
    let queued = {
        let (state, body) = (Arc::clone(&state), body.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            post(&state, "/validate?timeout=2s", body).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (_, shed) = post(&state, "/validate?timeout=2s", body.clone()).await;
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "shed at once, not at the deadline: {:?}",
        started.elapsed()
    );
    assert_eq!(shed["response"]["allowed"], false, "the security policy fails closed: {shed}");
    assert!(
        shed["response"]["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("overloaded: 1 reviews already wait")),
        "{shed}"
    );
    for task in [busy, queued] {
        let (_, answer) = task.await.expect("joined");
        assert_eq!(answer["response"]["allowed"], false, "answered by the failure policy at the deadline: {answer}");
    }
    let metrics = state.metrics.render(&state.live.counters());
    assert!(metrics.contains("decision=\"shed\""), "{metrics}");
    // Nothing waits any more: the next review queues again rather than being shed.
    let started = Instant::now();
    let (_, again) = post(&state, "/validate?timeout=1s", body).await;
    assert!(started.elapsed() >= Duration::from_millis(500), "judged (until its deadline), not shed");
    assert!(!again["response"].to_string().contains("overloaded"), "{again}");
}

#[tokio::test]
async fn an_evaluation_that_would_overrun_is_answered_in_time_by_the_failure_policy() {
    let dir = tempfile_dir();
    std::fs::create_dir_all(dir.join("kubernetes/slow")).expect("mkdir");
    std::fs::write(dir.join("kubernetes/slow/policy.yaml"), "id: slow\ntitle: Slow\ndescription: Slow.\nseverity: low\ncategory: test\nguideline: {section: S, bullet: B}\ntargets: [{apiGroups: [''], kinds: [ConfigMap]}]\nremediation: None.\n").expect("write");
    // Nested loops the evaluation timer can interrupt (one huge builtin call it could not).
    std::fs::write(dir.join("kubernetes/slow/policy.rego"), "package t.slow\n\nviolation contains {\"msg\": \"never\"} if {\n\tinput.review.object.kind == \"ConfigMap\"\n\tsome i in numbers.range(1, 30000)\n\tsome j in numbers.range(1, 30000)\n\ti + j < 0\n}\n").expect("write");
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}});
    for fail_open in [false, true] {
        let state = state_with(&dir, "{}", fail_open);
        let started = Instant::now();
        // The evaluation is cut at the deadline too, not only the answer: the blocking thread
        // and its permit come back (checked below by a second request finishing in time).
        let (_, answer) = post(
            &state,
            "/validate?timeout=1s",
            serde_json::to_vec(&review_of(config_map.clone(), "CREATE")).expect("bytes"),
        )
        .await;
        assert!(started.elapsed() < Duration::from_millis(1500), "answered within the API server's deadline");
        assert_eq!(answer["response"]["allowed"], fail_open, "{answer}");
        let started = Instant::now();
        let (_, again) = post(
            &state,
            "/validate?timeout=1s",
            serde_json::to_vec(&review_of(config_map.clone(), "CREATE")).expect("bytes"),
        )
        .await;
        assert!(started.elapsed() < Duration::from_millis(1500));
        assert_eq!(again["response"]["allowed"], fail_open);
    }
    // The split endpoints answer as their own failure policies, whatever --fail-open says: the
    // slow policy is a best practice, and its twin below a security policy.
    std::fs::create_dir_all(dir.join("kubernetes/slow-security")).expect("mkdir");
    let metadata = std::fs::read_to_string(dir.join("kubernetes/slow/policy.yaml")).expect("read");
    std::fs::write(
        dir.join("kubernetes/slow-security/policy.yaml"),
        metadata.replace("id: slow", "id: slow-security").replace("category: test", "category: security"),
    )
    .expect("write");
    let rego = std::fs::read_to_string(dir.join("kubernetes/slow/policy.rego")).expect("read");
    std::fs::write(dir.join("kubernetes/slow-security/policy.rego"), rego.replace("t.slow", "t.slow_security"))
        .expect("write");
    for fail_open in [false, true] {
        let state = state_with(&dir, "{}", fail_open);
        for (path, admitted) in [("/validate/practices?timeout=1s", true), ("/validate/security?timeout=1s", false)] {
            let started = Instant::now();
            let (_, answer) =
                post(&state, path, serde_json::to_vec(&review_of(config_map.clone(), "CREATE")).expect("bytes")).await;
            assert!(started.elapsed() < Duration::from_millis(1500), "{path}");
            assert_eq!(answer["response"]["allowed"], admitted, "{path} with --fail-open {fail_open}: {answer}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-webhook-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn metrics_count_decisions_and_health_answers() {
    let state = state();
    let (path, body) = captured("kube-apiserver-v1.32/validate-CREATE-Deployment-1.json");
    post(&state, &path, serde_json::to_vec(&body).expect("bytes")).await;
    let metrics = || async {
        let response = router(Arc::clone(&state))
            .oneshot(Request::get("/metrics").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        String::from_utf8(response.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("UTF-8")
    };
    let text = metrics().await;
    assert!(
        text.contains(
            "gatehouse_admission_requests_total{endpoint=\"validate\",decision=\"denied\",kind=\"Deployment\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("gatehouse_admission_duration_seconds_count 1"), "{text}");
    assert!(
        text.contains("gatehouse_policy_violations_total{policy=\"require-probes\",enforcement=\"deny\"} 2"),
        "one per missing probe: {text}"
    );
    // The first review is also timed policy by policy, after it was answered.
    let started = Instant::now();
    let mut text = text;
    while !text.contains("gatehouse_policy_evaluation_seconds_count{policy=\"require-probes\"} 1") {
        assert!(started.elapsed() < Duration::from_secs(10), "no per-policy timing: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        text = metrics().await;
    }
    assert!(text.contains("gatehouse_policy_timing_samples_total 1"), "{text}");
    let response =
        router(state).oneshot(Request::get("/healthz").body(Body::empty()).expect("request")).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
}

fn denied_policies(answer: &Value) -> std::collections::BTreeSet<String> {
    let message = answer["response"]["status"]["message"].as_str().unwrap_or("");
    message.split("; ").filter_map(|reason| Some(reason.split_once('[')?.1.split_once(']')?.0.to_string())).collect()
}

#[tokio::test]
async fn the_security_and_practices_calls_split_the_policies_by_category() {
    let state = state();
    let bundle = Bundle::load(&repo().join("policies"), &Config::default()).expect("bundle");
    let category = |id: &str| bundle.policy(id).expect("policy").metadata.category.clone();
    let (_, body) = captured("kube-apiserver-v1.32/validate-CREATE-Deployment-1.json");
    let bytes = serde_json::to_vec(&body).expect("bytes");
    let (_, all) = post(&state, "/validate", bytes.clone()).await;
    let (_, security) = post(&state, "/validate/security", bytes.clone()).await;
    let (_, practices) = post(&state, "/validate/practices", bytes).await;
    let (all, security, practices) = (denied_policies(&all), denied_policies(&security), denied_policies(&practices));
    assert!(!security.is_empty() && !practices.is_empty(), "security {security:?}, practices {practices:?}");
    assert!(security.iter().all(|id| category(id) == "security"), "{security:?}");
    assert!(practices.iter().all(|id| category(id) != "security"), "{practices:?}");
    assert_eq!(all, security.union(&practices).cloned().collect(), "the two calls together judge as /validate does");
}
