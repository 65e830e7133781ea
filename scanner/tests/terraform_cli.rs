//! `policy-scan scan` on Terraform: .tf roots read statically, plans from `terraform show -json`,
//! and what goes wrong with either.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

mod common;

use common::{repo, write};

fn policy_scan(args: &[&str], path_env: Option<&str>) -> Output {
    common::run(args, None, path_env)
}

fn json_report(args: &[&str]) -> (i32, Value) {
    common::json_run("scan", args, None, None)
}

/// (policy, resource name, file suffix, line, message) of each finding.
fn findings(report: &Value) -> Vec<(String, String, String, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap_or_default().to_string(),
                f["resource"]["name"].as_str().unwrap_or_default().to_string(),
                f["location"]["file"].as_str().unwrap_or_default().to_string(),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

const MODULE: &str = r#"variable "check" {
  type = string
}

resource "scaleway_lb_backend" "web" {
  lb_id            = var.lb_id
  forward_protocol = "tcp"
  forward_port     = 8080

  health_check_tcp {}
}
"#;

#[test]
fn a_root_with_a_local_module_is_read_statically_and_findings_point_at_the_module_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("env");
    write(&root, "main.tf", "module \"lb\" {\n  source = \"../modules/lb\"\n  check  = \"tcp\"\n}\n");
    write(dir.path(), "modules/lb/main.tf", MODULE);
    let (code, report) = json_report(&[&dir.path().display().to_string()]);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "the module is judged once, through its caller: {found:?}");
    let (policy, name, file, line, _) = &found[0];
    assert_eq!(
        (policy.as_str(), name.as_str(), *line),
        ("lb-http-health-check", "module.lb.scaleway_lb_backend.web", 5)
    );
    assert!(file.ends_with("modules/lb/main.tf"), "{file}");
    assert_eq!(report["findings"][0]["resource"]["kind"], "scaleway_lb_backend");
    assert_eq!(code, 1);
    let skipped: Vec<&str> =
        report["skipped"].as_array().expect("skipped").iter().filter_map(|s| s["reason"].as_str()).collect();
    assert!(skipped.iter().any(|r| r.starts_with("a module called by")), "{skipped:?}");
}

fn change(address: &str, module: Option<&str>, kind: &str, actions: &[&str], after: Value, unknown: Value) -> Value {
    let mut change = json!({
        "address": address, "mode": "managed", "type": kind,
        "name": address.rsplit('.').next().unwrap_or_default().split('[').next().unwrap_or_default(),
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown},
    });
    if let Some(module) = module {
        change["module_address"] = json!(module);
    }
    change
}

fn plan(changes: Vec<Value>) -> String {
    serde_json::to_string_pretty(&json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "configuration": {"root_module": {}},
    }))
    .expect("json")
}

#[test]
fn a_plan_is_judged_by_resource_address_and_placed_in_the_plan_or_the_tf_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tcp = json!({"name": "api", "protocol": "TCP", "health_check": [{"protocol": "TCP"}]});
    let file = write(
        dir.path(),
        "plan.json",
        &plan(vec![
            change(
                "module.svc[0].aws_lb_target_group.api[\"blue\"]",
                Some("module.svc[0]"),
                "aws_lb_target_group",
                &["create"],
                tcp.clone(),
                json!({}),
            ),
            change("aws_lb_target_group.old", None, "aws_lb_target_group", &["delete"], Value::Null, json!({})),
            json!({"address": "data.aws_vpc.main", "mode": "data", "type": "aws_vpc", "name": "main",
                   "change": {"actions": ["read"], "after": {}}}),
        ]),
    );
    let (code, report) = json_report(&[&file]);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "module.svc[0].aws_lb_target_group.api[\"blue\"]");
    assert!(found[0].2.ends_with("plan.json"));
    let text = std::fs::read_to_string(&file).expect("read");
    let expected = text
        .lines()
        .position(|l| l.contains("\"protocol\": \"TCP\"") && l.starts_with("              "))
        .expect("line")
        + 1;
    assert_eq!(found[0].3, expected as u64, "the health check's protocol in the plan");
    assert_eq!(code, 1);
    let skipped: Vec<&str> =
        report["skipped"].as_array().expect("skipped").iter().filter_map(|s| s["reason"].as_str()).collect();
    assert!(skipped.contains(&"aws_lb_target_group.old: deleted by the plan"), "{skipped:?}");
    assert!(skipped.contains(&"data.aws_vpc.main: a data resource: read, not managed"), "{skipped:?}");

    let tf = dir.path().join("tf");
    write(&tf, "main.tf", "module \"svc\" {\n  source = \"./svc\"\n  count  = 1\n}\n");
    write(
        &tf,
        "svc/main.tf",
        "resource \"aws_lb_target_group\" \"api\" {\n  for_each = toset([\"blue\"])\n  protocol = \"TCP\"\n\n  health_check {\n    protocol = \"TCP\"\n  }\n}\n",
    );
    let (_, report) = json_report(&["--tf-root", &tf.display().to_string(), &file]);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].2.ends_with("tf/svc/main.tf"), "{found:?}");
    assert_eq!(found[0].3, 6, "the protocol line of the .tf file");
}

#[test]
fn a_value_known_only_after_apply_is_a_finding_never_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "plan.json",
        &plan(vec![change(
            "scaleway_lb_backend.web",
            None,
            "scaleway_lb_backend",
            &["update"],
            json!({"health_check_http": null}),
            json!({"health_check_http": true}),
        )]),
    );
    let (code, report) = json_report(&[&file]);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].4.starts_with("health_check_http is known only after apply"), "{found:?}");
    assert_eq!(report["findings"][0]["path"], "/health_check_http");
    assert_eq!(code, 1);
}

#[test]
fn malformed_plans_states_and_sources_are_errors_at_their_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad-plan.json",
        "{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [\n    {\"address\": \"a.b\", \"mode\": \"managed\", \"type\": \"a\", \"name\": \"b\",\n     \"change\": {\"actions\": \"create\"}}\n  ]\n}\n",
    );
    let state = write(
        dir.path(),
        "state.json",
        "{\"format_version\": \"1.0\", \"terraform_version\": \"1.11.4\", \"values\": {}}\n",
    );
    let hcl = write(&dir.path().join("broken"), "main.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n}\n");
    let (code, report) = json_report(&["--allow-empty", &bad, &state, &hcl]);
    assert_eq!(code, 2);
    let errors: Vec<(String, u64, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["location"]["file"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string(),
                e["location"]["line"].as_u64().unwrap_or_default(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        errors.contains(&(
            "bad-plan.json".into(),
            5,
            "not a valid Terraform plan: resource_changes[0].change.actions: missing: an array of strings such as [\"create\"]".into()
        )),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.0 == "state.json" && e.2.starts_with("a Terraform state, not a plan")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.0 == "main.tf" && e.1 == 2 && e.2.starts_with("not valid HCL")), "{errors:#?}");
}

#[test]
fn a_binary_plan_needs_terraform_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.tfplan");
    std::fs::write(&path, b"PK\x03\x04\x14\x00\x08\x00rest of a zip").expect("write");
    let out = policy_scan(&["scan", "--format", "json", &path.display().to_string()], Some(""));
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let message = report["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("terraform is not on PATH"), "{message}");
}

/// A bundle with one policy that reports every bucket it is given, with the bucket's name, so
/// that a test sees exactly which resources a plan yields.
fn bucket_reporting_bundle(dir: &Path) -> String {
    let bundle = dir.join("bundle");
    write(
        &bundle,
        "terraform/every-bucket/policy.yaml",
        "id: every-bucket\ntitle: t\ndescription: d\nseverity: low\ncategory: test\n\
         guideline: {section: Platform, bullet: Object storage for backups}\n\
         targets:\n  - resourceTypes: [aws_s3_bucket]\nremediation: r\n",
    );
    write(
        &bundle,
        "terraform/every-bucket/policy.rego",
        "package t.every_bucket\n\nviolation contains {\"msg\": sprintf(\"%v\", [input.resource.change.after.bucket]), \"path\": \"/bucket\"} if {\n\tinput.resource.type == \"aws_s3_bucket\"\n}\n",
    );
    bundle.display().to_string()
}

fn judged_addresses(report: &Value) -> Vec<String> {
    let mut names: Vec<String> = findings(report).into_iter().map(|(_, name, _, _, _)| name).collect();
    names.sort();
    names
}

#[test]
fn real_plans_give_one_resource_per_instance_with_count_for_each_and_module_addresses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bucket_reporting_bundle(dir.path());
    let (_, report) = json_report(&["--bundle", &bundle, "tests/fixtures/terraform/plans/cases-count.plan.json"]);
    assert_eq!(
        judged_addresses(&report),
        [
            "aws_s3_bucket.counted[0]",
            "aws_s3_bucket.counted[1]",
            "aws_s3_bucket.keyed[\"alpha\"]",
            "aws_s3_bucket.keyed[\"team/payments\"]",
            "module.regional[\"backups\"].aws_s3_bucket.this",
            "module.regional[\"logs\"].aws_s3_bucket.this",
            "module.tenant[0].aws_s3_bucket.this",
            "module.tenant[1].aws_s3_bucket.this",
        ]
    );
    // The same root read statically gives the same addresses.
    let (_, report) = json_report(&["--bundle", &bundle, "tests/fixtures/terraform/cases/count"]);
    assert_eq!(judged_addresses(&report).len(), 8, "{:#?}", findings(&report));
}

#[test]
fn a_real_plan_judges_what_it_keeps_and_lists_what_it_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bucket_reporting_bundle(dir.path());
    let (_, report) =
        json_report(&["--bundle", &bundle, "--verbose", "tests/fixtures/terraform/plans/cases-deleted.plan.json"]);
    assert_eq!(judged_addresses(&report), ["aws_s3_bucket.added", "aws_s3_bucket.kept", "aws_s3_bucket.renamed"]);
    let skipped: Vec<&str> =
        report["skipped"].as_array().expect("skipped").iter().filter_map(|s| s["reason"].as_str()).collect();
    assert!(skipped.contains(&"aws_s3_bucket.retired: deleted by the plan"), "{skipped:?}");
}

fn finding_pairs(report: &Value) -> Vec<String> {
    let mut pairs: Vec<String> =
        findings(report).into_iter().map(|(policy, name, _, _, _)| format!("{name} {policy}")).collect();
    pairs.sort();
    pairs
}

fn expected_pairs(root: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(root).join("expected-findings.txt")).expect("expected findings");
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(str::to_string).collect()
}

#[test]
fn the_platform_terraform_passes_its_own_policies() {
    let (code, report) = json_report(&["terraform/"]);
    assert!(report["errors"].as_array().expect("errors").is_empty(), "{:#}", report["errors"]);
    assert_eq!(finding_pairs(&report), Vec::<String>::new(), "terraform/ must meet the Terraform policies");
    assert!(report["summary"]["resources"].as_u64().expect("resources") >= 100, "{:#}", report["summary"]);
    assert_eq!(code, 0);
    let (code, report) = json_report(&["tests/fixtures/terraform/plans/aws-example.plan.json"]);
    assert_eq!(finding_pairs(&report), Vec::<String>::new(), "the AWS example's real plan");
    assert_eq!(report["summary"]["resources"], 25);
    assert_eq!(code, 0);
}

#[test]
fn the_non_compliant_roots_report_exactly_the_expected_findings() {
    for root in ["tests/fixtures/terraform/non-compliant/scaleway", "tests/fixtures/terraform/non-compliant/aws"] {
        let (code, report) = json_report(&[root]);
        assert!(report["errors"].as_array().expect("errors").is_empty(), "{root}: {:#}", report["errors"]);
        assert_eq!(finding_pairs(&report), expected_pairs(root), "{root}, read statically");
        assert_eq!(code, 1);
    }
    let (_, report) = json_report(&["tests/fixtures/terraform/plans/non-compliant-aws.plan.json"]);
    assert_eq!(
        finding_pairs(&report),
        expected_pairs("tests/fixtures/terraform/non-compliant/aws"),
        "the real plan of the AWS root finds what its sources do"
    );
}

#[test]
fn values_a_real_plan_knows_only_after_apply_are_reported_as_such() {
    let (_, report) = json_report(&["tests/fixtures/terraform/plans/cases-unknown.plan.json"]);
    let found = findings(&report);
    let unknown: Vec<(&str, &str)> = found
        .iter()
        .filter(|f| f.4.contains("is known only after apply"))
        .map(|f| (f.1.as_str(), f.0.as_str()))
        .collect();
    for expected in [
        ("aws_db_instance.orders", "database-encryption-at-rest"),
        ("aws_eks_node_group.orders", "node-pool-redundancy"),
        ("aws_vpc_security_group_ingress_rule.orders_ssh", "no-world-open-ingress"),
    ] {
        assert!(unknown.contains(&expected), "{expected:?} in {found:#?}");
    }
}

#[test]
fn the_repository_scans_clean_with_its_own_policies() {
    // `.policyscanignore` leaves out the build output, the deliberately broken samples and
    // fixtures, and the chart templates (rendered and scanned by the chart tests).
    let (code, report) = json_report(&["."]);
    assert!(report["errors"].as_array().expect("errors").is_empty(), "{:#}", report["errors"]);
    // Only the DR drill's throwaway restore is waived (one instance, no backups of its own).
    let (waived, counted): (Vec<&Value>, Vec<&Value>) =
        report["findings"].as_array().expect("findings").iter().partition(|f| f["suppressed"].is_object());
    assert_eq!(counted, Vec::<&Value>::new());
    let waived_files: std::collections::BTreeSet<&str> =
        waived.iter().map(|f| f["location"]["file"].as_str().unwrap_or("")).collect();
    assert_eq!(waived_files.into_iter().collect::<Vec<_>>(), ["./ci/dr-drill/restore-cluster.yaml"]);
    assert!(report["summary"]["resources"].as_u64().expect("resources") >= 120, "{:#}", report["summary"]);
    assert_eq!(code, 0);
}

#[test]
fn a_plan_with_a_malformed_configuration_is_judged_without_evaluation_errors() {
    // Found by mutating real plans: policies that read the configuration must take a part of the
    // wrong type as absent, never fail to evaluate.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut plan: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/terraform/plans/non-compliant-aws.plan.json"))
            .expect("fixture"),
    )
    .expect("json");
    for broken in [json!([]), json!("x"), json!({"resources": {"a": 1}, "variables": [], "module_calls": 3})] {
        plan["configuration"]["root_module"] = broken.clone();
        let file = write(dir.path(), "plan.json", &plan.to_string());
        let (_, report) = json_report(&[&file]);
        assert!(report["errors"].as_array().expect("errors").is_empty(), "{broken}: {:#}", report["errors"]);
        assert!(!findings(&report).is_empty(), "{broken}: the values are still judged");
    }
}
