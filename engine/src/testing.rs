//! The bundle's own test suite: every `test_` rule of every policy and library test file, every
//! allowed and disallowed sample, and the completeness of every policy folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::bundle::{Bundle, Expectation, Policy, read_text};
use crate::diagnostic::from_regorus_error;
use crate::evaluate::{Decision, Evaluator};
use crate::inventory::Inventory;
use crate::metadata::RegoVersion;
use crate::review::Review;
use crate::yaml::{self, Limits};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    /// The test could not be evaluated; never counted as passing.
    Error(String),
}

#[derive(Debug, Clone)]
pub struct TestResult {
    /// The file the test lives in (a test file, a sample, or a policy folder).
    pub file: PathBuf,
    pub name: String,
    pub outcome: Outcome,
    pub duration: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct TestReport {
    pub results: Vec<TestResult>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.outcome == Outcome::Pass).count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

/// Namespace the samples' namespaced objects take when they name none.
pub const SAMPLE_NAMESPACE: &str = "default";

/// Wall-clock budget of one test rule or one sample: a runaway test is an error, not a hang.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(20);

fn time_limited(engine: &mut regorus::Engine) {
    crate::evaluate::set_time_limit(engine, TEST_TIME_LIMIT);
}

/// Runs the whole suite. Only a bundle that loads can be tested; its load errors come back as
/// the error.
pub fn run(bundle: &Bundle) -> TestReport {
    let mut report = TestReport::default();
    for policy in bundle.policies() {
        check_completeness(policy, &mut report);
    }
    run_unit_tests(bundle, &mut report);
    for (index, policy) in bundle.policies().iter().enumerate() {
        for sample in &policy.samples {
            let started = Instant::now();
            if policy.domain == crate::metadata::TERRAFORM_DOMAIN {
                check_terraform_sample(bundle, index, &sample.file, sample.expectation, &mut report);
                continue;
            }
            let outcome = check_sample(bundle, index, &sample.file, sample.expectation);
            report.results.push(TestResult {
                file: sample.file.clone(),
                name: format!("sample {}", policy.id()),
                outcome,
                duration: started.elapsed(),
            });
        }
    }
    report
}

fn check_completeness(policy: &Policy, report: &mut TestReport) {
    let mut missing = Vec::new();
    if policy.test_file.is_none() {
        missing.push("policy_test.rego");
    }
    let extension = if policy.domain == crate::metadata::TERRAFORM_DOMAIN { "tf" } else { "yaml" };
    if !policy.samples.iter().any(|s| s.expectation == Expectation::Allowed) {
        missing.push(if extension == "tf" { "samples/allowed-*.tf" } else { "samples/allowed-*.yaml" });
    }
    if !policy.samples.iter().any(|s| s.expectation == Expectation::Disallowed) {
        missing.push(if extension == "tf" { "samples/disallowed-*.tf" } else { "samples/disallowed-*.yaml" });
    }
    let outcome = if missing.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("policy folder is incomplete: missing {}", missing.join(", ")))
    };
    report.results.push(TestResult {
        file: policy.dir.clone(),
        name: format!("complete {}", policy.id()),
        outcome,
        duration: Duration::ZERO,
    });
}

/// Names of the `test_` rules a Rego file defines (rule heads start a line, as `opa fmt` writes
/// them).
pub fn test_rule_names(source: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in source.lines() {
        if !line.starts_with("test_") {
            continue;
        }
        let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Each test file is compiled into its own copy of the bundle's engine, so that one file that
/// does not compile fails its own tests only.
fn run_unit_tests(bundle: &Bundle, report: &mut TestReport) {
    let mut files: Vec<(PathBuf, RegoVersion)> =
        bundle.lib_test_files().iter().map(|f| (f.clone(), RegoVersion::V1)).collect();
    files.extend(bundle.policies().iter().filter_map(|p| p.test_file.clone().map(|f| (f, p.metadata.rego_version))));
    for (file, version) in files {
        run_test_file(bundle, &file, version, report);
    }
}

fn run_test_file(bundle: &Bundle, file: &Path, version: RegoVersion, report: &mut TestReport) {
    let started = Instant::now();
    let mut engine = bundle.engine().clone();
    time_limited(&mut engine);
    engine.set_rego_v0(version == RegoVersion::V0);
    let loaded = read_text(file).map_err(|d| d.to_string()).and_then(|source| {
        if let Some(diagnostic) = crate::bundle::too_deep_diagnostic(file, &source) {
            return Err(diagnostic.to_string());
        }
        engine
            .add_policy(file.to_string_lossy().into_owned(), source.clone())
            .map(|package| (package, source))
            .map_err(|e| from_regorus_error(file, &e.to_string()).to_string())
    });
    let (package, source) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => {
            let outcome = Outcome::Error(message);
            report.results.push(TestResult {
                file: file.to_path_buf(),
                name: "load".into(),
                outcome,
                duration: started.elapsed(),
            });
            return;
        }
    };
    engine.set_input(regorus::Value::new_object());
    engine.set_gather_prints(true);
    let names = test_rule_names(&source);
    if names.is_empty() {
        let outcome = Outcome::Fail("the file defines no test_ rule".into());
        report.results.push(TestResult {
            file: file.to_path_buf(),
            name: "test rules".into(),
            outcome,
            duration: Duration::ZERO,
        });
    }
    for name in names {
        let rule = format!("{package}.{name}");
        let started = Instant::now();
        let outcome = match engine.eval_rule(rule.clone()) {
            Ok(regorus::Value::Bool(true)) => Outcome::Pass,
            Ok(regorus::Value::Undefined) => Outcome::Fail("undefined".into()),
            Ok(other) => Outcome::Fail(format!("returned {other}")),
            Err(e) => Outcome::Error(from_regorus_error(file, &e.to_string()).to_string()),
        };
        // As `opa test` does, a failing test shows what it printed.
        let prints = engine.take_prints().unwrap_or_default();
        let outcome = match outcome {
            Outcome::Fail(why) if !prints.is_empty() => Outcome::Fail(format!("{why}\n  {}", prints.join("\n  "))),
            Outcome::Error(why) if !prints.is_empty() => Outcome::Error(format!("{why}\n  {}", prints.join("\n  "))),
            other => other,
        };
        report.results.push(TestResult { file: file.to_path_buf(), name: rule, outcome, duration: started.elapsed() });
    }
}

/// Every document of a sample is evaluated against its policy, with the other documents as
/// inventory: an allowed sample raises no violation of the policy, a disallowed one at least one.
fn check_sample(bundle: &Bundle, index: usize, file: &Path, expectation: Expectation) -> Outcome {
    let policy = &bundle.policies()[index];
    let source = match read_text(file) {
        Ok(s) => s,
        Err(d) => return Outcome::Error(d.to_string()),
    };
    let documents = match yaml::parse_documents(&source, &Limits::default()) {
        Ok(d) => d,
        Err(e) => return Outcome::Error(format!("{}:{e}", file.display())),
    };
    // A `gatehouse.dev/v1` `ImageVerdicts` document stands for the signature checks the
    // webhook makes: its `verdicts` are every review's `input.images`.
    let is_verdicts = |v: &serde_json::Value| v["apiVersion"] == "gatehouse.dev/v1" && v["kind"] == "ImageVerdicts";
    let verdicts = documents
        .iter()
        .filter_map(|d| d.root.as_ref().map(|n| n.to_json()))
        .find(|v| is_verdicts(v))
        .map(|v| crate::review::to_rego(&v["verdicts"]));
    // Each document is converted once, for its review and for the inventory.
    let reviews: Vec<Review> = documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .filter(|root| !is_verdicts(&root.to_json()))
        .filter_map(|root| Review::from_rego_object(root.to_rego(), SAMPLE_NAMESPACE).ok())
        .map(|mut review| {
            if let Some(images) = &verdicts {
                review.set_images(images.clone());
            }
            review
        })
        .collect();
    let mut inventory = Inventory::new();
    for review in &reviews {
        inventory.add_review(review, SAMPLE_NAMESPACE);
    }
    let mut evaluator = match Evaluator::new(bundle, &inventory) {
        Ok(e) => e,
        Err(e) => return Outcome::Error(e.message),
    };
    evaluator.set_time_limit(TEST_TIME_LIMIT);
    let mut total = Decision::default();
    for review in &reviews {
        if !policy.metadata.applies_to(review.group(), review.kind()) {
            continue;
        }
        let decision = evaluator.evaluate_policies(review, &[index]);
        total.evaluated += decision.evaluated;
        total.violations.extend(decision.violations);
        total.patches.extend(decision.patches);
        total.errors.extend(decision.errors);
    }
    if let Some(error) = total.errors.first() {
        return Outcome::Error(error.message.clone());
    }
    if total.evaluated == 0 {
        return Outcome::Fail(format!("no document in the sample is a kind that {} targets", policy.id()));
    }
    let raised = total.violations.len() + total.patches.len();
    match (expectation, raised) {
        (Expectation::Allowed, 0) | (Expectation::Disallowed, 1..) => Outcome::Pass,
        (Expectation::Allowed, _) => {
            let first = total
                .violations
                .first()
                .map(|v| format!("{} at {}", v.message, v.path))
                .or_else(|| total.patches.first().map(|p| format!("patch {}", p.operation)))
                .unwrap_or_default();
            Outcome::Fail(format!("allowed sample raised {raised}: {first}"))
        }
        (Expectation::Disallowed, _) => Outcome::Fail("disallowed sample raised nothing".into()),
    }
}

/// A Terraform sample, a .tf file read statically or a plan in JSON, is evaluated resource by
/// resource. Each allowed one is also checked with the values of each resource it targets made
/// unknown: a value known only after apply must never pass.
fn check_terraform_sample(
    bundle: &Bundle,
    index: usize,
    file: &Path,
    expectation: Expectation,
    report: &mut TestReport,
) {
    let policy = &bundle.policies()[index];
    let started = Instant::now();
    let mut push = |name: String, outcome: Outcome, started: Instant| {
        report.results.push(TestResult { file: file.to_path_buf(), name, outcome, duration: started.elapsed() });
    };
    let plan = match terraform_sample_plan(file) {
        Ok(plan) => plan,
        Err(message) => return push(format!("sample {}", policy.id()), Outcome::Error(message), started),
    };
    let outcome = judge_plan(bundle, index, &plan, expectation);
    push(format!("sample {}", policy.id()), outcome, started);
    if expectation != Expectation::Allowed || policy.metadata.configuration_only {
        return;
    }
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    for (i, change) in changes.iter().enumerate() {
        let targeted = change["type"].as_str().is_some_and(|t| policy.metadata.applies_to(crate::terraform::GROUP, t));
        if !targeted || change["mode"] != "managed" || change["change"]["actions"] == serde_json::json!(["delete"]) {
            continue;
        }
        let started = Instant::now();
        let mut variant = plan.clone();
        let after = &mut variant["resource_changes"][i]["change"];
        let keys: Vec<String> = after["after"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        after["after"] = keys.iter().map(|k| (k.clone(), serde_json::Value::Null)).collect();
        after["after_unknown"] = keys.iter().map(|k| (k.clone(), serde_json::Value::Bool(true))).collect();
        let outcome = match judge_plan(bundle, index, &variant, Expectation::Disallowed) {
            Outcome::Fail(_) => Outcome::Fail(format!(
                "{} passes when its values are known only after apply: check `unknown(path)` before judging a value \
                 (or set configurationOnly: true if the policy reads only the configuration)",
                change["address"].as_str().unwrap_or("a resource")
            )),
            other => other,
        };
        push(format!("unknown values {}", policy.id()), outcome, started);
    }
}

fn terraform_sample_plan(file: &Path) -> Result<serde_json::Value, String> {
    let is_tf = file.extension().is_some_and(|e| e == "tf");
    if is_tf {
        let loaded = crate::terraform::hcl::Loader::new()
            .load_file(file)
            .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
        return Ok(loaded.plan);
    }
    let text = read_text(file).map_err(|d| d.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{}:{}:{}: not JSON: {e}", file.display(), e.line(), e.column()))
}

fn judge_plan(bundle: &Bundle, index: usize, plan: &serde_json::Value, expectation: Expectation) -> Outcome {
    let policy = &bundle.policies()[index];
    let plan = match crate::terraform::Plan::from_json(plan) {
        Ok(plan) => plan,
        Err(e) => return Outcome::Error(format!("not a Terraform plan: {e}")),
    };
    let mut evaluator = match Evaluator::new(bundle, &Inventory::new()) {
        Ok(e) => e,
        Err(e) => return Outcome::Error(e.message),
    };
    evaluator.set_time_limit(TEST_TIME_LIMIT);
    let mut total = Decision::default();
    let mut first = None;
    for resource in &plan.resources {
        if !policy.metadata.applies_to(crate::terraform::GROUP, resource.resource_type()) {
            continue;
        }
        let decision = evaluator.evaluate_policies(resource, &[index]);
        if first.is_none() {
            first = decision.violations.first().map(|v| format!("{}: {} at {}", resource.address(), v.message, v.path));
        }
        total.evaluated += decision.evaluated;
        total.violations.extend(decision.violations);
        total.errors.extend(decision.errors);
    }
    if let Some(error) = total.errors.first() {
        return Outcome::Error(error.message.clone());
    }
    if total.evaluated == 0 {
        return Outcome::Fail(format!("no resource in the sample is of a type that {} targets", policy.id()));
    }
    match (expectation, total.violations.len()) {
        (Expectation::Allowed, 0) | (Expectation::Disallowed, 1..) => Outcome::Pass,
        (Expectation::Allowed, n) => Outcome::Fail(format!("allowed sample raised {n}: {}", first.unwrap_or_default())),
        (Expectation::Disallowed, _) => Outcome::Fail("disallowed sample raised nothing".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rules_are_found_at_line_starts() {
        let source = "package p_test\n\ntest_a if {\n  true\n}\ntest_b if true\n  test_not_head\ntest_a if false\n";
        assert_eq!(test_rule_names(source), vec!["test_a", "test_b"]);
    }
}
