//! Evaluation semantics: kind routing, parameters, configuration, inventory, and errors that are
//! reported rather than counted as passing.

mod common;

use std::path::Path;

use common::{TempBundle, deployment, team_label_rego};
use gatehouse_engine::testing::{self, Outcome};
use gatehouse_engine::{Bundle, Config, Enforcement, Evaluator, Inventory, Review};
use serde_json::json;

fn bundle(b: &TempBundle) -> Bundle {
    Bundle::load(b.path(), &Config::default()).unwrap_or_else(|e| panic!("bundle loads: {e}"))
}

fn review(object: serde_json::Value) -> Review {
    Review::from_object(object, "default").expect("a Kubernetes object")
}

#[test]
fn only_policies_that_target_the_kind_run() {
    let b = TempBundle::new();
    b.policy("team-label", &team_label_rego("t.team_label"), "");
    let bundle = bundle(&b);
    let mut evaluator = Evaluator::new(&bundle, &Inventory::new()).expect("evaluator");

    let decision = evaluator.evaluate(&review(deployment("web", json!({}))));
    assert_eq!(decision.evaluated, 1);
    assert_eq!(decision.violations.len(), 1);
    let v = &decision.violations[0];
    assert_eq!(
        (v.policy.as_str(), v.message.as_str(), v.path.as_str()),
        ("team-label", "no team label", "/metadata/labels")
    );
    assert_eq!(v.enforcement, Enforcement::Deny);
    assert!(!decision.allowed());

    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    let decision = evaluator.evaluate(&review(pod));
    assert_eq!((decision.evaluated, decision.violations.len()), (0, 0));
    // A Deployment of another API group is another kind.
    let other = json!({"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "x"}});
    assert_eq!(evaluator.evaluate(&review(other)).evaluated, 0);
}

const PARAMETERISED: &str = "package t.replicas

violation contains {\"msg\": msg, \"path\": \"/spec/replicas\"} if {
\tinput.review.object.spec.replicas < input.parameters.minReplicas
\tmsg := sprintf(\"%d < %d\", [input.review.object.spec.replicas, input.parameters.minReplicas])
}
";

const PARAMETER_YAML: &str = "parameters:\n  minReplicas:\n    type: integer\n    minimum: 1\n    default: 2\n    description: Fewest replicas.\n";

#[test]
fn parameters_come_from_defaults_and_configuration_overrides() {
    let b = TempBundle::new();
    b.policy("replicas", PARAMETERISED, PARAMETER_YAML);
    b.policy("team-label", &team_label_rego("t.team_label"), "");
    let object = deployment("web", json!({"team": "a"}));

    let defaults = bundle(&b);
    let mut evaluator = Evaluator::new(&defaults, &Inventory::new()).expect("evaluator");
    let messages: Vec<String> =
        evaluator.evaluate(&review(object.clone())).violations.into_iter().map(|v| v.message).collect();
    assert_eq!(messages, ["1 < 2"]);

    let config = Config::from_source(
        Path::new("gatehouse.yaml"),
        "policies:\n  replicas:\n    enforcement: warn\n    parameters: {minReplicas: 3}\n  team-label:\n    enabled: false\n",
    )
    .expect("config");
    let tuned = Bundle::load(b.path(), &config).expect("loads");
    let mut evaluator = Evaluator::new(&tuned, &Inventory::new()).expect("evaluator");
    let decision = evaluator.evaluate(&review(deployment("web", json!({}))));
    assert_eq!(decision.evaluated, 1, "the disabled policy does not run");
    assert_eq!(decision.violations.len(), 1);
    assert_eq!(
        (decision.violations[0].message.as_str(), decision.violations[0].enforcement),
        ("1 < 3", Enforcement::Warn)
    );
    assert!(decision.allowed(), "a warning does not deny");
}

#[test]
fn a_policy_that_fails_to_evaluate_is_an_error_and_the_others_still_count() {
    let b = TempBundle::new();
    b.policy("team-label", &team_label_rego("t.team_label"), "");
    // In strict mode a builtin error is an error, not a silent undefined.
    b.policy(
        "fragile",
        "package t.fragile\n\nviolation contains {\"msg\": \"big\"} if {\n\tto_number(input.review.object.metadata.annotations.size) > 10\n}\n",
        "",
    );
    let bundle = bundle(&b);
    let mut evaluator = Evaluator::new(&bundle, &Inventory::new()).expect("evaluator");
    let mut object = deployment("web", json!({}));
    object["metadata"]["annotations"] = json!({"size": "huge"});
    let decision = evaluator.evaluate(&review(object));
    assert_eq!(decision.errors.len(), 1, "{decision:?}");
    assert_eq!(decision.errors[0].policy.as_deref(), Some("fragile"));
    assert!(decision.errors[0].message.contains("kubernetes/fragile/policy.rego:4:"), "{:?}", decision.errors[0]);
    assert_eq!(decision.violations.len(), 1, "team-label still reports");
    assert!(!decision.allowed(), "an evaluation error never allows");
}

#[test]
fn the_test_runner_counts_an_erroring_test_or_sample_as_a_failure() {
    let b = TempBundle::new();
    b.policy(
        "fragile",
        "package t.fragile\n\nviolation contains {\"msg\": \"big\"} if {\n\tto_number(input.review.object.metadata.labels.size) > 10\n}\n",
        "",
    );
    b.file(
        "kubernetes/fragile/policy_test.rego",
        "package t.fragile_test\n\ntest_errors if {\n\tcount(data.t.fragile.violation) == 0 with input as {\"review\": {\"object\": {\"metadata\": {\"labels\": {\"size\": \"x\"}}}}}\n}\n\ntest_passes if {\n\tcount(data.t.fragile.violation) == 1 with input as {\"review\": {\"object\": {\"metadata\": {\"labels\": {\"size\": \"11\"}}}}}\n}\n\ntest_fails if {\n\tprint(\"looking at\", count(data.t.fragile.violation))\n\tcount(data.t.fragile.violation) == 1 with input as {\"review\": {\"object\": {}}}\n}\n",
    );
    let sample = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: {size: LABEL}\n";
    b.file("kubernetes/fragile/samples/allowed-small.yaml", &sample.replace("LABEL", "\"3\""));
    b.file("kubernetes/fragile/samples/disallowed-broken.yaml", &sample.replace("LABEL", "lots"));
    let report = testing::run(&bundle(&b));
    let outcome = |name: &str| {
        report
            .results
            .iter()
            .find(|r| r.name.ends_with(name) || r.file.ends_with(name))
            .map(|r| r.outcome.clone())
            .expect(name)
    };
    assert!(matches!(outcome("test_errors"), Outcome::Error(m) if m.contains("policy.rego:4:")));
    assert_eq!(outcome("test_passes"), Outcome::Pass);
    match outcome("test_fails") {
        Outcome::Fail(why) => {
            assert!(why.starts_with("undefined\n  "), "{why}");
            assert!(why.contains("looking at 0"), "a failing test shows what it printed: {why}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outcome("allowed-small.yaml"), Outcome::Pass);
    assert!(matches!(outcome("disallowed-broken.yaml"), Outcome::Error(_)));
    assert_eq!(report.failed(), 3);
}

#[test]
fn an_incomplete_policy_folder_fails_the_suite() {
    let b = TempBundle::new();
    b.policy("team-label", &team_label_rego("t.team_label"), "");
    let report = testing::run(&bundle(&b));
    let complete = report.results.iter().find(|r| r.name == "complete team-label").expect("completeness result");
    assert_eq!(
        complete.outcome,
        Outcome::Fail(
            "policy folder is incomplete: missing policy_test.rego, samples/allowed-*.yaml, samples/disallowed-*.yaml"
                .into()
        )
    );
}

#[test]
fn the_inventory_is_data_inventory_and_namespace_aware() {
    let b = TempBundle::new();
    b.policy(
        "needs-service",
        "package t.needs_service\n\nviolation contains {\"msg\": \"no Service of the same name\"} if {\n\tns := input.review.namespace\n\tnot data.inventory.namespace[ns].v1.Service[input.review.object.metadata.name]\n}\n",
        "inventory:\n  - apiGroups: [\"\"]\n    kinds: [Service]\n",
    );
    let bundle = bundle(&b);
    let web = deployment("web", json!({}));
    let service =
        |ns: &str| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns}});
    let mut inventory = Inventory::new();
    inventory.add(&service("other"), "default");
    let mut evaluator = Evaluator::new(&bundle, &inventory).expect("evaluator");
    assert_eq!(
        evaluator.evaluate(&review(web.clone())).violations.len(),
        1,
        "a Service in another namespace does not count"
    );
    inventory.add(&service("shop"), "default");
    let mut evaluator = Evaluator::new(&bundle, &inventory).expect("evaluator");
    assert_eq!(evaluator.evaluate(&review(web)).violations.len(), 0);
}

#[test]
fn a_gatekeeper_library_style_policy_ports_with_only_a_metadata_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gatekeeper-port");
    let report = testing::run(&Bundle::load(&root, &Config::default()).expect("the ported bundle loads"));
    let failures: Vec<_> = report.results.iter().filter(|r| r.outcome != Outcome::Pass).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(report.passed(), 7, "its own Rego tests (v0), samples and completeness");

    let config = Config::from_source(
        Path::new("gatehouse.yaml"),
        "policies:\n  k8srequiredlabels:\n    parameters:\n      labels: [{key: team}, {key: tier, allowedRegex: '^(front|back)$'}]\n",
    )
    .expect("config");
    let bundle = Bundle::load(&root, &config).expect("loads");
    let mut evaluator = Evaluator::new(&bundle, &Inventory::new()).expect("evaluator");
    let ns = |labels: serde_json::Value| {
        review(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": labels}}))
    };
    let decision = evaluator.evaluate(&ns(json!({"tier": "middle"})));
    let mut messages: Vec<&str> = decision.violations.iter().map(|v| v.message.as_str()).collect();
    messages.sort();
    assert_eq!(
        messages,
        ["Label <tier: middle> does not satisfy allowed regex: ^(front|back)$", "you must provide labels: {\"team\"}"]
    );
    let missing = decision.violations.iter().find_map(|v| v.details.clone()).expect("details");
    assert_eq!(missing, json!({"missing_labels": ["team"]}));
    assert!(evaluator.evaluate(&ns(json!({"team": "a", "tier": "front"}))).violations.is_empty());
}

#[test]
fn policies_sharing_a_kind_each_see_only_their_own_parameters() {
    let b = TempBundle::new();
    // These read only `input.parameters.limit`, so they may share one input.parameters.
    let rego = |pkg: &str| {
        format!(
            "package t.{pkg}\n\nviolation contains {{\"msg\": sprintf(\"{pkg} %v\", [input.parameters.limit])}} if true\n"
        )
    };
    let limit = |default: &str| {
        format!("parameters:\n  limit:\n    type: integer\n    default: {default}\n    description: A limit.\n")
    };
    b.policy("one", &rego("one"), &limit("1"));
    b.policy("two", &rego("two"), &limit("2"));
    b.policy("three", &rego("three"), &limit("1"));
    // An unset parameter must stay unset beside a policy that sets the same name.
    b.policy(
        "unset",
        "package t.unset\n\nviolation contains {\"msg\": \"unset\"} if not input.parameters.limit\n",
        &limit("null"),
    );
    // Reads `input.parameters` whole: it keeps its own `with`, and sees only its own.
    b.policy(
        "whole",
        "package t.whole\n\nviolation contains {\"msg\": sprintf(\"whole %v\", [input.parameters])} if true\n",
        &limit("9"),
    );
    let bundle = bundle(&b);
    let mut evaluator = Evaluator::new(&bundle, &Inventory::new()).expect("evaluator");
    let mut messages: Vec<String> =
        evaluator.evaluate(&review(deployment("web", json!({})))).violations.into_iter().map(|v| v.message).collect();
    messages.sort();
    assert_eq!(messages, ["one 1", "three 1", "two 2", "unset", "whole {\"limit\": 9}"]);
}

#[test]
fn namespace_labels_override_enforcement_per_policy() {
    let b = TempBundle::new();
    b.policy("replicas", PARAMETERISED, PARAMETER_YAML);
    b.policy("team-label", &team_label_rego("t.team_label"), "");
    let config = Config::from_source(
        Path::new("gatehouse.yaml"),
        "namespaces:
  - namespaceSelector: {matchLabels: {stage: legacy}}
    enforcement: warn
    policies: {replicas: audit}
",
    )
    .expect("config");
    let tuned = Bundle::load(b.path(), &config).expect("loads");
    let enforcement_in = |labels: serde_json::Value| {
        let mut inventory = Inventory::new();
        inventory
            .add(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}), "");
        let mut evaluator = Evaluator::new(&tuned, &inventory).expect("evaluator");
        let decision = evaluator.evaluate(&review(deployment("web", json!({}))));
        decision.violations.iter().map(|v| (v.policy.clone(), v.enforcement)).collect::<Vec<_>>()
    };
    assert_eq!(
        enforcement_in(json!({"stage": "legacy"})),
        [("replicas".to_string(), Enforcement::Audit), ("team-label".to_string(), Enforcement::Warn)]
    );
    assert_eq!(
        enforcement_in(json!({"stage": "prod"})),
        [("replicas".to_string(), Enforcement::Deny), ("team-label".to_string(), Enforcement::Deny)]
    );

    let unknown = Config::from_source(
        Path::new("gatehouse.yaml"),
        "namespaces:\n  - namespaceSelector: {}\n    policies: {no-such-policy: warn}\n",
    )
    .expect("parses");
    let e = Bundle::load(b.path(), &unknown).expect_err("unknown policy").to_string();
    assert!(e.contains("gatehouse.yaml:3:16: no policy with id \"no-such-policy\""), "{e}");
}

#[test]
fn a_policy_reading_the_inventory_must_declare_its_kinds() {
    let b = TempBundle::new();
    b.policy(
        "needs-pdb",
        "package t.needs_pdb\n\nviolation contains {\"msg\": \"none\"} if {\n\tcount(data.inventory.namespace.shop) == 0\n}\n",
        "",
    );
    let e = Bundle::load(b.path(), &Config::default()).expect_err("undeclared").to_string();
    assert!(e.contains("policy.rego:4:8: the policy reads data.inventory"), "{e}");
}

#[test]
fn each_family_of_kinds_is_judged_with_the_library_modules_its_policies_need() {
    let b = TempBundle::new();
    // Library a reads library b: a policy naming only a still needs both.
    b.file("lib/a.rego", "package gatehouse.lib.a\n\nowner := data.gatehouse.lib.b.owner\n");
    b.file("lib/b.rego", "package gatehouse.lib.b\n\nowner := concat(\"\", [\"team of \", input.review.kind.kind])\n");
    let owner_rego = |package: &str| {
        format!(
            "package {package}\n\nviolation contains {{\"msg\": data.gatehouse.lib.a.owner}} if not input.review.object.metadata.labels.team\n"
        )
    };
    b.policy("deployment-owner", &owner_rego("t.deployment_owner"), "");
    b.file(
        "kubernetes/service-owner/policy.yaml",
        &common::POLICY_YAML
            .replace("ID", "service-owner")
            .replace(
                "  - apiGroups: [apps]\n    kinds: [Deployment]\n",
                "  - apiGroups: [\"\"]\n    kinds: [Service]\n",
            )
            .replace("remediation:", "inventory:\n  - apiGroups: [\"\"]\n    kinds: [ConfigMap]\nremediation:"),
    );
    b.file(
        "kubernetes/service-owner/policy.rego",
        &(owner_rego("t.service_owner")
            + "\nviolation contains {\"msg\": \"no ConfigMap of the same name\"} if {\n\tns := input.review.namespace\n\tnot data.inventory.namespace[ns].v1.ConfigMap[input.review.object.metadata.name]\n}\n"),
    );
    let bundle = bundle(&b);
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}});
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "shop"}});
    let messages = |evaluator: &mut Evaluator, object: serde_json::Value| {
        let decision = evaluator.evaluate(&review(object));
        assert!(decision.errors.is_empty(), "{:?}", decision.errors);
        let mut m: Vec<String> = decision.violations.into_iter().map(|v| v.message).collect();
        m.sort();
        m
    };
    let mut evaluator = Evaluator::new(&bundle, &Inventory::new()).expect("evaluator");
    assert_eq!(messages(&mut evaluator, deployment("web", json!({}))), ["team of Deployment"]);
    assert_eq!(messages(&mut evaluator, service.clone()), ["no ConfigMap of the same name", "team of Service"]);
    let mut inventory = Inventory::new();
    inventory.add(&config_map, "default");
    let mut evaluator = Evaluator::new(&bundle, &inventory).expect("evaluator");
    assert_eq!(messages(&mut evaluator, service), ["team of Service"]);
    assert_eq!(messages(&mut evaluator, deployment("web", json!({"team": "shop"}))), Vec::<String>::new());
}
