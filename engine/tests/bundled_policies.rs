//! The bundled policies, exercised through the engine as the webhook and the scanner use them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gatehouse_engine::bundle::Expectation;
use gatehouse_engine::testing::{self, Outcome};
use gatehouse_engine::yaml::{self, Limits};
use gatehouse_engine::{Bundle, Config, Decision, Evaluator, Inventory, Review};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bundle() -> Bundle {
    Bundle::load(&repo().join("policies"), &Config::default()).unwrap_or_else(|e| panic!("the bundle loads: {e}"))
}

fn documents(file: &Path) -> Vec<Value> {
    let source = std::fs::read_to_string(file).expect("readable");
    yaml::parse_documents(&source, &Limits::default())
        .expect("parses")
        .into_iter()
        .filter_map(|d| d.root.map(|r| r.to_json()))
        .collect()
}

/// Evaluates every document of a file with the file as inventory, as the scanner does.
fn evaluate_file(bundle: &Bundle, file: &Path) -> Vec<(Value, Decision)> {
    let objects = documents(file);
    let mut inventory = Inventory::new();
    for o in &objects {
        inventory.add(o, "default");
    }
    let mut evaluator = Evaluator::new(bundle, &inventory).expect("evaluator");
    objects
        .into_iter()
        .filter_map(|o| Review::from_object(o.clone(), "default").ok().map(|r| (o, evaluator.evaluate(&r))))
        .collect()
}

#[test]
fn the_bundle_passes_its_own_suite() {
    let report = testing::run(&bundle());
    let failures: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .map(|r| format!("{} {}: {:?}", r.file.display(), r.name, r.outcome))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(report.passed() > 100);
}

#[test]
fn every_policy_names_a_bullet_of_the_guidelines() {
    let guidelines = std::fs::read_to_string(repo().join("docs/infrastructure-guidelines.md")).expect("guidelines");
    let bullets: BTreeSet<(String, String)> =
        gatehouse_engine::guidelines::parse_guidelines(&guidelines).into_iter().map(|b| (b.section, b.text)).collect();
    assert!(bullets.len() > 50, "the guidelines were read");
    for policy in bundle().policies() {
        let g = &policy.metadata.guideline;
        assert!(
            bullets.contains(&(g.section.clone(), g.bullet.clone())),
            "{} names {:?} / {:?}, which is not a bullet of the guidelines",
            policy.id(),
            g.section,
            g.bullet
        );
    }
}

#[test]
fn the_aggregate_rule_agrees_with_each_policy_evaluated_alone() {
    let bundle = bundle();
    let mut checked = 0;
    for policy in bundle.policies() {
        for sample in &policy.samples {
            if policy.domain == "terraform" {
                checked += terraform_aggregate_agrees(&bundle, &sample.file);
                continue;
            }
            let objects = documents(&sample.file);
            let mut inventory = Inventory::new();
            for o in &objects {
                inventory.add(o, "default");
            }
            let mut evaluator = Evaluator::new(&bundle, &inventory).expect("evaluator");
            for object in objects {
                let Ok(review) = Review::from_object(object, "default") else { continue };
                let together = evaluator.evaluate(&review);
                let alone = evaluator.evaluate_policies(&review, &bundle.applicable(review.group(), review.kind()));
                let key = |d: &Decision| {
                    let mut v: Vec<String> =
                        d.violations.iter().map(|v| format!("{} {} {}", v.policy, v.path, v.message)).collect();
                    v.extend(d.patches.iter().map(|p| format!("{} {}", p.policy, p.operation)));
                    v.sort();
                    v
                };
                assert_eq!(key(&together), key(&alone), "{}", sample.file.display());
                assert!(together.errors.is_empty(), "{}: {:?}", sample.file.display(), together.errors);
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "{checked} documents compared");
}

/// The Terraform sample's resources evaluated through the routes and each policy alone agree;
/// returns how many resources were compared.
fn terraform_aggregate_agrees(bundle: &Bundle, file: &Path) -> usize {
    use gatehouse_engine::terraform::{self, Plan};
    let plan = if file.extension().is_some_and(|e| e == "tf") {
        terraform::hcl::Loader::new().load_file(file).unwrap_or_else(|e| panic!("{}: {e:?}", file.display())).plan
    } else {
        serde_json::from_str(&std::fs::read_to_string(file).expect("readable")).expect("JSON")
    };
    let plan = Plan::from_json(&plan).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut evaluator = Evaluator::new(bundle, &Inventory::new()).expect("evaluator");
    for resource in &plan.resources {
        let together = evaluator.evaluate_resource(resource);
        let alone =
            evaluator.evaluate_policies(resource, &bundle.applicable(terraform::GROUP, resource.resource_type()));
        let key = |d: &Decision| {
            let mut v: Vec<String> =
                d.violations.iter().map(|v| format!("{} {} {}", v.policy, v.path, v.message)).collect();
            v.sort();
            v
        };
        assert_eq!(key(&together), key(&alone), "{} {}", file.display(), resource.address());
        assert!(together.errors.is_empty(), "{}: {:?}", file.display(), together.errors);
    }
    plan.resources.len()
}

#[test]
fn mutation_patches_apply_cleanly_and_a_second_pass_changes_nothing() {
    let bundle = bundle();
    let policy = bundle.policy("default-security-context").expect("the mutating policy");
    let mut patched_objects = 0;
    for sample in &policy.samples {
        for (object, decision) in evaluate_file(&bundle, &sample.file) {
            let patch = decision.json_patch();
            if sample.expectation == Expectation::Allowed {
                assert!(patch.is_empty(), "{}: {patch:?}", sample.file.display());
                continue;
            }
            if patch.is_empty() {
                continue;
            }
            let mut mutated = object.clone();
            let ops: json_patch::Patch =
                serde_json::from_value(Value::Array(patch.clone())).expect("RFC 6902 operations");
            json_patch::patch(&mut mutated, &ops)
                .unwrap_or_else(|e| panic!("{}: {e}: {patch:?}", sample.file.display()));
            for (pointer, value) in leaves(&object, String::new()) {
                assert_eq!(
                    mutated.pointer(&pointer),
                    Some(&value),
                    "{}: the patch changed {pointer}",
                    sample.file.display()
                );
            }
            let again = Evaluator::new(&bundle, &Inventory::new())
                .expect("evaluator")
                .evaluate(&Review::from_object(mutated.clone(), "default").expect("object"));
            assert!(
                again.json_patch().is_empty(),
                "{}: not idempotent: {:?}",
                sample.file.display(),
                again.json_patch()
            );
            patched_objects += 1;
        }
    }
    assert!(patched_objects >= 2, "{patched_objects} objects were patched");
}

/// Every non-null leaf of a document, by JSON pointer: what the user set.
fn leaves(value: &Value, at: String) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) if !map.is_empty() => map
            .iter()
            .flat_map(|(k, v)| leaves(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"))))
            .collect(),
        Value::Array(items) if !items.is_empty() => {
            items.iter().enumerate().flat_map(|(i, v)| leaves(v, format!("{at}/{i}"))).collect()
        }
        Value::Null => Vec::new(),
        _ => vec![(at, value.clone())],
    }
}

fn captured(name: &str) -> Value {
    let file = repo().join("tests/fixtures/admission-review").join(name);
    let capture: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("fixture")).expect("JSON");
    capture["body"]["request"].clone()
}

#[test]
fn requests_captured_from_real_api_servers_are_evaluated() {
    let bundle = bundle();
    let mut evaluator = Evaluator::new(&bundle, &Inventory::new()).expect("evaluator");
    for version in ["kube-apiserver-v1.20", "kube-apiserver-v1.32"] {
        let dir = repo().join("tests/fixtures/admission-review").join(version);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        assert!(names.len() >= 5);
        for name in names {
            let review =
                Review::from_admission_request(captured(&format!("{version}/{name}"))).expect("an AdmissionRequest");
            let decision = evaluator.evaluate(&review);
            assert!(decision.errors.is_empty(), "{name}: {:?}", decision.errors);
            // The demo Deployment runs one replica without probes or resources: denied, with
            // the field of each problem.
            let policies: BTreeSet<&str> = decision.violations.iter().map(|v| v.policy.as_str()).collect();
            for expected in ["require-probes", "require-resources", "pod-security-restricted"] {
                assert!(policies.contains(expected), "{name}: {policies:?}");
            }
            if review.kind() == "Deployment" {
                assert!(policies.contains("min-replicas"), "{name}: {policies:?}");
                let paths: BTreeSet<&str> = decision
                    .violations
                    .iter()
                    .filter(|v| v.policy == "require-probes")
                    .map(|v| v.path.as_str())
                    .collect();
                assert_eq!(
                    paths,
                    BTreeSet::from([
                        "/spec/template/spec/containers/0/livenessProbe",
                        "/spec/template/spec/containers/0/readinessProbe"
                    ])
                );
            }
            assert!(!decision.allowed(), "{name}");
            // The mutation fills the restricted defaults into the empty securityContext.
            if review.operation() == "CREATE" {
                let patch = decision.json_patch();
                let mut object = review.object().expect("object");
                let ops: json_patch::Patch = serde_json::from_value(Value::Array(patch.clone())).expect("patch");
                json_patch::patch(&mut object, &ops).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!patch.is_empty(), "{name}");
            }
        }
    }
}

#[test]
fn a_pod_created_by_a_controller_is_evaluated_like_any_pod() {
    let request = captured("kube-apiserver-v1.32/mutate-pods-CREATE-Pod-1.json");
    assert!(request["object"]["metadata"].get("name").is_none(), "the Pod has only a generateName");
    let review = Review::from_admission_request(request).expect("request");
    assert_eq!((review.kind(), review.namespace()), ("Pod", Some("kcmtest")));
    let decision = Evaluator::new(&bundle(), &Inventory::new()).expect("evaluator").evaluate(&review);
    assert!(decision.errors.is_empty(), "{:?}", decision.errors);
    assert!(
        decision
            .violations
            .iter()
            .any(|v| v.policy == "require-probes" && v.path == "/spec/containers/0/readinessProbe"),
        "{:?}",
        decision.violations
    );
}
