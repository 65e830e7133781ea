//! The promise: a manifest that passes policy-scan is admitted by the webhook, and the other way
//! round. Checked on every document of every policy sample, with the same inventory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gatehouse_engine::waivers::Date;
use gatehouse_engine::yaml::{self, Limits};
use gatehouse_engine::{Bundle, Config, Enforcement, Evaluator, Inventory, Review};
use policy_webhook::admission::{self, Endpoint, Safety};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn admission_review(review: &Review, object: &Value) -> Vec<u8> {
    let (group, version) = review.api_version().rsplit_once('/').unwrap_or(("", review.api_version()));
    let request = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "parity", "kind": {"group": group, "version": version, "kind": review.kind()},
        "namespace": review.namespace(), "name": review.name(), "operation": "CREATE",
        "userInfo": {"username": "parity"}, "object": object, "oldObject": null, "dryRun": false}});
    serde_json::to_vec(&request).expect("bytes")
}

#[test]
fn the_webhook_and_the_scanner_agree_on_every_sample() {
    let bundle = Bundle::load(&repo().join("policies"), &Config::default()).expect("bundle");
    let safety = Safety::new("gatehouse-system");
    let mut compared = 0;
    // Terraform samples have no admission side: the webhook judges Kubernetes objects only.
    for policy in bundle.policies().iter().filter(|p| p.domain != "terraform") {
        for sample in &policy.samples {
            let text = std::fs::read_to_string(&sample.file).expect("sample");
            let objects: Vec<Value> = yaml::parse_documents(&text, &Limits::default())
                .expect("parses")
                .into_iter()
                .filter_map(|d| d.root.map(|r| r.to_json()))
                .collect();
            let mut inventory = Inventory::new();
            for o in &objects {
                inventory.add(o, "default");
            }
            let mut evaluator = Evaluator::new(&bundle, &inventory).expect("evaluator");
            for object in objects {
                // The scanner's view: the manifest wrapped as a synthetic CREATE.
                let Ok(scanned) = Review::from_object(object.clone(), "default") else { continue };
                if safety.exempt(scanned.group(), scanned.kind(), scanned.namespace()).is_some() {
                    continue;
                }
                let decision = evaluator.evaluate(&scanned);
                let scanner_denies: BTreeSet<String> =
                    decision.with_enforcement(Enforcement::Deny).map(|v| v.policy.clone()).collect();
                // The webhook's view: the same object as an API server would send it.
                let mut with_namespace = object.clone();
                if let Some(ns) = scanned.namespace() {
                    with_namespace["metadata"]["namespace"] = json!(ns);
                }
                let request = admission::parse(&admission_review(&scanned, &with_namespace)).expect("parses");
                let validated =
                    admission::decide(&mut evaluator, &request, Endpoint::Validate(None), Date::today(), false);
                let webhook_denies: BTreeSet<String> = validated.denied.iter().map(|v| v.policy.clone()).collect();
                assert_eq!(scanner_denies, webhook_denies, "{}: {}", sample.file.display(), scanned.name());
                assert_eq!(
                    validated.allowed,
                    scanner_denies.is_empty() && decision.errors.is_empty(),
                    "{}",
                    sample.file.display()
                );
                let mutated = admission::decide(&mut evaluator, &request, Endpoint::Mutate, Date::today(), false);
                let patch = mutated.response["response"].get("patch").is_some();
                assert_eq!(patch, !decision.json_patch().is_empty(), "{}: mutation", sample.file.display());
                compared += 1;
            }
        }
    }
    assert!(compared > 50, "{compared} documents compared");
}
