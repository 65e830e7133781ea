//! A bundle either loads whole or fails with every problem named by file, line and column.

mod common;

use common::{TempBundle, team_label_rego};
use gatehouse_engine::{Bundle, Config, Diagnostics};

fn load(bundle: &TempBundle) -> Result<Bundle, Diagnostics> {
    Bundle::load(bundle.path(), &Config::default())
}

fn errors(bundle: &TempBundle) -> String {
    let Err(text) = load(bundle) else { panic!("the bundle must not load") };
    let text = text.to_string();
    text.replace(&format!("{}/", bundle.path().display()), "")
}

#[test]
fn a_valid_bundle_loads() {
    let b = TempBundle::new();
    b.policy("team-label", &team_label_rego("t.team_label"), "");
    let bundle = load(&b).expect("loads");
    assert_eq!(bundle.policies().len(), 1);
    assert_eq!(bundle.policies()[0].package, "data.t.team_label");
}

#[test]
fn a_rego_syntax_error_names_file_line_and_column() {
    let b = TempBundle::new();
    b.policy("good", &team_label_rego("t.good"), "");
    b.policy("broken", "package t.broken\n\nviolation contains x if {\n\tx := {\"msg\": \n}\n", "");
    let e = errors(&b);
    assert!(e.starts_with("kubernetes/broken/policy.rego:4:7: expecting `}`"), "{e}");
}

#[test]
fn a_compile_error_found_by_analysis_names_its_place() {
    let b = TempBundle::new();
    b.policy(
        "conflict",
        "package t.conflict\n\nviolation contains {\"msg\": m} if {\n\tm := undefined_function(input.x)\n}\n",
        "",
    );
    let e = errors(&b);
    assert!(e.contains("kubernetes/conflict/policy.rego:4:"), "{e}");
    assert!(e.contains("undefined_function"), "{e}");
}

#[test]
fn metadata_errors_are_all_reported_with_positions() {
    let b = TempBundle::new();
    b.policy("a", &team_label_rego("t.a"), "colour: red\n");
    b.file("kubernetes/b/policy.yaml", &common::POLICY_YAML.replace("id: ID\n", ""));
    b.file("kubernetes/b/policy.rego", &team_label_rego("t.b"));
    b.file(
        "kubernetes/c/policy.yaml",
        &common::POLICY_YAML.replace("ID", "c").replace("severity: high", "severity: urgent"),
    );
    b.file("kubernetes/c/policy.rego", &team_label_rego("t.c"));
    let e = errors(&b);
    assert!(e.contains("kubernetes/a/policy.yaml:13:1: colour: unknown field `colour`"), "{e}");
    assert!(e.contains("kubernetes/b/policy.yaml:1:1: missing field `id`"), "{e}");
    assert!(e.contains("kubernetes/c/policy.yaml:4:1: severity: unknown variant `urgent`"), "{e}");
}

#[test]
fn duplicate_ids_and_packages_are_refused() {
    let b = TempBundle::new();
    b.policy("same", &team_label_rego("t.one"), "");
    b.file("shared/same/policy.yaml", &common::POLICY_YAML.replace("ID", "same"));
    b.file("shared/same/policy.rego", &team_label_rego("t.two"));
    let e = errors(&b);
    assert!(e.contains("shared/same/policy.yaml: duplicate policy id \"same\": already defined in"), "{e}");

    let b = TempBundle::new();
    b.policy("one", &team_label_rego("t.shared"), "");
    b.policy("two", &team_label_rego("t.shared"), "");
    let e = errors(&b);
    assert!(e.contains("kubernetes/two/policy.rego: package data.t.shared is already used by"), "{e}");
}

#[test]
fn a_policy_must_define_its_rule_and_its_files() {
    let b = TempBundle::new();
    b.policy("no-rule", "package t.no_rule\n\nviolations contains \"x\" if true\n", "");
    b.file("kubernetes/no-rego/policy.yaml", &common::POLICY_YAML.replace("ID", "no-rego"));
    b.file("kubernetes/stray.rego", "package t.stray\n");
    b.file("kubernetes/no-rule/samples/sample.yaml", "a: 1\n");
    let e = errors(&b);
    assert!(e.contains("kubernetes/no-rego/policy.rego: missing: every policy folder needs policy.rego"), "{e}");
    assert!(e.contains("kubernetes/stray.rego: Rego file outside any policy folder"), "{e}");
    assert!(
        e.contains("kubernetes/no-rule/samples/sample.yaml: a sample's name must start with allowed- or disallowed-"),
        "{e}"
    );

    let b = TempBundle::new();
    b.policy("no-rule", "package t.no_rule\n\nviolations contains \"x\" if true\n", "");
    let e = errors(&b);
    assert!(e.contains("kubernetes/no-rule/policy.rego: a validating policy must define `violation`"), "{e}");
}

#[test]
fn binary_and_missing_bundles_are_clear_errors() {
    let b = TempBundle::new();
    b.policy("bin", "", "");
    std::fs::write(b.path().join("kubernetes/bin/policy.rego"), [0xff, 0xfe, 0x00, 0x12]).expect("write");
    let e = errors(&b);
    assert!(e.contains("kubernetes/bin/policy.rego: not UTF-8 text"), "{e}");
    let Err(e) = Bundle::load("/nonexistent/bundle".as_ref(), &Config::default()) else { panic!("missing") };
    let e = e.to_string();
    assert_eq!(e, "/nonexistent/bundle: the policy bundle is not a directory");
}

#[test]
fn configuration_errors_point_into_the_configuration_file() {
    let b = TempBundle::new();
    b.policy(
        "replicas",
        "package t.replicas\n\nviolation contains {\"msg\": \"few\"} if input.review.object.spec.replicas < input.parameters.min\n",
        "parameters:\n  min:\n    type: integer\n    minimum: 1\n    default: 2\n    description: Fewest replicas.\n",
    );
    let config_file = b.file(
        "gatehouse.yaml",
        "policies:\n  replicas:\n    parameters:\n      min: zero\n      max: 3\n  ghost:\n    enforcement: warn\n",
    );
    let config = Config::from_file(&config_file).expect("parses");
    let Err(e) = Bundle::load(b.path(), &config) else { panic!("invalid overrides must not load") };
    let e = e.to_string();
    let e = e.replace(&format!("{}/", b.path().display()), "");
    assert!(e.contains("gatehouse.yaml:4:7: parameter min of replicas: value \"zero\" is not of type integer"), "{e}");
    assert!(e.contains("gatehouse.yaml:5:7: policy replicas has no parameter \"max\" (it has: min)"), "{e}");
    assert!(e.contains("gatehouse.yaml:6:3: no policy with id \"ghost\" in the bundle"), "{e}");

    let bad = b.file("bad.yaml", "policies:\n  replicas:\n    enforcement: block\n");
    let e = Config::from_file(&bad).expect_err("bad enforcement").to_string();
    assert!(e.ends_with("bad.yaml:3:5: policies.replicas.enforcement: unknown variant `block`, expected one of `deny`, `warn`, `audit`"), "{e}");
}

#[test]
fn a_policy_that_runs_away_on_an_empty_review_fails_the_load_in_time() {
    let b = TempBundle::new();
    b.policy(
        "runaway",
        "package t.runaway\n\nviolation contains {\"msg\": \"never\"} if {\n\tsome i in numbers.range(1, 30000)\n\tsome j in numbers.range(1, 30000)\n\ti + j < 0\n}\n",
        "",
    );
    let started = std::time::Instant::now();
    let e = errors(&b);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        e.contains("kubernetes/runaway/policy.rego: evaluating the policy on an empty review took more than 2s"),
        "{e}"
    );
}
