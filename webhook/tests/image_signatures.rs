//! Signature checks at admission against a real OCI registry on loopback (Debian's
//! docker-registry, images pushed by skopeo, signed by openssl in cosign's formats; see
//! `gatehouse_signatures::testing`): a signed image is admitted; an unsigned one, one signed by
//! another key and a tampered signature are denied; the mutating call pins a verified tag to its
//! digest; a second review of the same image asks the registry nothing (by its access log); a
//! registry that is down yields the rule's action in time.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_signatures::attestation::rfc3339;
use gatehouse_signatures::testing::{LoopbackRegistry, attest, key_pair, push_image, sign, tools};
use policy_webhook::admission::Safety;
use policy_webhook::generation::{self, BundleSource, InventoryState, Live};
use policy_webhook::server::AppState;
use serde_json::{Value, json};

use common::{example, repo, review, validate};

fn deployment_running(image: &str) -> Vec<u8> {
    let mut deployment = example("examples/shop/web.yaml", "Deployment");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
    review("apps", "Deployment", "deployments", &deployment)
}

fn signature_violation(response: &Value) -> Option<String> {
    let message = response["status"]["message"].as_str().unwrap_or("");
    message.split("; ").find(|m| m.contains("[verify-image-signatures]")).map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_checks_signatures_against_a_real_registry() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let mut registry = LoopbackRegistry::start(dir);
    let host = registry.host.clone();
    let (ours, ours_pem) = key_pair(dir, "release");
    let (theirs, _) = key_pair(dir, "stranger");
    let signed = push_image(dir, &host, "shop/web", "v1");
    sign(dir, &host, "shop/web", &signed, &ours, false);
    push_image(dir, &host, "shop/unsigned", "v1");
    let foreign = push_image(dir, &host, "shop/foreign", "v1");
    sign(dir, &host, "shop/foreign", &foreign, &theirs, false);
    let tampered = push_image(dir, &host, "shop/tampered", "v1");
    sign(dir, &host, "shop/tampered", &tampered, &ours, true);
    // Under the "scanned" rule a signed vulnerability attestation is needed too.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    for (name, vulnerabilities, attested) in [
        ("clean", vec![("CVE-2024-0001", "LOW", "1.1")], true),
        ("vulnerable", vec![("CVE-2024-0002", "CRITICAL", "3.0.3")], true),
        ("unattested", vec![], false),
    ] {
        let repository = format!("scanned/{name}");
        let digest = push_image(dir, &host, &repository, "v1");
        sign(dir, &host, &repository, &digest, &ours, false);
        if attested {
            attest(dir, &host, &repository, &digest, &ours, &rfc3339(now - 600), &vulnerabilities);
        }
    }

    let config = dir.join("gatehouse.yaml");
    let key = ours_pem.lines().map(|l| format!("          {l}\n")).collect::<String>();
    std::fs::write(
        &config,
        format!(
            "policies:
  allowed-registries:
    parameters:
      registries: [{host}/]
  # It reads the cluster's NetworkPolicies, and this test has no cluster.
  require-default-deny-networkpolicy:
    enabled: false
imageVerification:
  plainHttp: [\"{host}\"]
  timeoutMilliseconds: 1000
  rules:
    - name: shop
      images: [\"{host}/shop/*\"]
      keys:
        - |
{key}    - name: scanned
      images: [\"{host}/scanned/*\"]
      attestation:
        maxAgeHours: 24
        severity: HIGH
      keys:
        - |
{key}    - name: tolerant
      images: [\"{host}/tolerant/*\"]
      onRegistryError: allow
      keys:
        - |
{key}"
        ),
    )
    .expect("config");
    let policies = dir.join("policies");
    for domain in ["kubernetes", "lib"] {
        common::copy_tree(&repo().join("policies").join(domain), &policies.join(domain));
    }
    let bundle = BundleSource::new(&policies, Some(&config)).load().expect("bundle");
    let first = generation::build(1, &bundle, &gatehouse_engine::Inventory::new(), 0).expect("generation");
    let live = Arc::new(Live::new(first, &policies, InventoryState::Off { without: Vec::new() }));
    let state = Arc::new(AppState::new(live, Safety::new("gatehouse-system"), false, 4));
    let security = |image: String| {
        let state = Arc::clone(&state);
        async move { validate(&state, "/validate/security", deployment_running(&image)).await }
    };

    let response = security(format!("{host}/shop/web:v1")).await;
    assert_eq!(response["allowed"], true, "a signed image is admitted: {response}");
    let response = security(format!("{host}/shop/unsigned:v1")).await;
    let denied = signature_violation(&response).unwrap_or_else(|| panic!("unsigned: {response}"));
    assert!(denied.contains("which is not signed") && denied.contains("signature rule \"shop\""), "{denied}");
    let response = security(format!("{host}/shop/foreign:v1")).await;
    let denied = signature_violation(&response).unwrap_or_else(|| panic!("foreign: {response}"));
    assert!(denied.contains("made by none of the keys (shop[0])"), "{denied}");
    let response = security(format!("{host}/shop/tampered:v1")).await;
    let denied = signature_violation(&response).unwrap_or_else(|| panic!("tampered: {response}"));
    assert!(denied.contains("not valid for the rule's keys"), "{denied}");
    let response = security(format!("{host}/scanned/clean:v1")).await;
    assert_eq!(response["allowed"], true, "signed, and attested without a HIGH finding: {response}");
    let response = security(format!("{host}/scanned/vulnerable:v1")).await;
    let denied = signature_violation(&response).unwrap_or_else(|| panic!("vulnerable: {response}"));
    assert!(denied.contains("found 1 at or above the rule's severity: CVE-2024-0002"), "{denied}");
    let response = security(format!("{host}/scanned/unattested:v1")).await;
    let denied = signature_violation(&response).unwrap_or_else(|| panic!("unattested: {response}"));
    assert!(denied.contains("without a signed vulnerability attestation"), "{denied}");
    // Images no rule covers are not checked.
    let before = registry.requests();
    let response = security(format!("{host}/other/web:v1")).await;
    assert!(signature_violation(&response).is_none(), "{response}");

    // The mutating call pins the verified tag to the digest that was verified.
    let request = axum::http::Request::post("/mutate?timeout=10s")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(deployment_running(&format!("{host}/shop/web:v1"))))
        .expect("request");
    let (_, text) = common::call(&state, request).await;
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    let patch = answer["response"]["patch"].as_str().unwrap_or_else(|| panic!("no patch: {text}"));
    let patch: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, patch).expect("base64"),
    )
    .expect("patch");
    let pin = json!({"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": format!("{host}/shop/web:v1@{signed}")});
    assert!(patch.as_array().expect("ops").contains(&pin), "{patch}");

    // The signed image again, by tag and by digest: the registry is asked nothing.
    let response = security(format!("{host}/shop/web:v1")).await;
    assert_eq!(response["allowed"], true, "{response}");
    let response = security(format!("{host}/shop/web:v1@{signed}")).await;
    assert_eq!(response["allowed"], true, "the pinned image: {response}");
    assert_eq!(registry.requests(), before, "cached verdicts ask the registry nothing");
    let (_, metrics) = common::get(&state, "/metrics").await;
    for line in [
        "gatehouse_image_verifications_total{verdict=\"verified\",source=\"cached\"} 3",
        "gatehouse_image_verifications_total{verdict=\"unsigned\",source=\"fetched\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // The registry goes down: a new image is denied by the rule's failure action, in time, and a
    // rule that allows on registry errors lets its image through.
    registry.stop();
    let started = Instant::now();
    let response = security(format!("{host}/shop/new:v1")).await;
    let denied = signature_violation(&response).unwrap_or_else(|| panic!("registry down: {response}"));
    assert!(denied.contains("could not be checked"), "{denied}");
    assert!(started.elapsed() < Duration::from_secs(3), "answered in {:?}", started.elapsed());
    let response = security(format!("{host}/tolerant/web:v1")).await;
    assert_eq!(response["allowed"], true, "onRegistryError: allow: {response}");
    // What was verified before stays verified from the cache.
    let response = security(format!("{host}/shop/web@{signed}")).await;
    assert_eq!(response["allowed"], true, "{response}");
}
