//! `policy-scan scan` on Helm charts and Kustomize overlays: rendered by real Helm (Helm v4 as a
//! library, behind the `helm` program in tests/helm/bin) and real kubectl, and findings placed
//! in the template, values, base or patch file that produced the field.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    common::repo().canonicalize().expect("repository")
}

/// PATH with the test `helm` first; builds its virtual environment on first use.
fn path_with_helm() -> String {
    static VENV: OnceLock<()> = OnceLock::new();
    VENV.get_or_init(|| {
        let out = Command::new(repo().join("scripts/chart-venv")).output().expect("scripts/chart-venv runs");
        assert!(out.status.success(), "scripts/chart-venv failed: {}", String::from_utf8_lossy(&out.stderr));
    });
    format!("{}:{}", repo().join("tests/helm/bin").display(), std::env::var("PATH").unwrap_or_default())
}

fn policy_scan(args: &[&str], path_env: &str) -> Output {
    common::run(args, None, Some(path_env))
}

fn json_report(args: &[&str], path_env: &str) -> (i32, Value) {
    common::json_run("scan", args, None, Some(path_env))
}

fn findings<'a>(report: &'a Value, policy: &str, message_part: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["policy"] == policy && f["message"].as_str().unwrap_or("").contains(message_part))
        .collect()
}

fn line_of(file: &str, line: u64) -> String {
    let text = std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines().nth(line as usize - 1).unwrap_or_else(|| panic!("{file} has no line {line}")).to_string()
}

const SHOP: &str = "tests/fixtures/render/helm/shop";

#[test]
fn a_missing_probe_in_a_chart_is_reported_in_its_template_inside_the_container_block() {
    let (code, report) = json_report(&[SHOP], &path_with_helm());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]));
    let missing = findings(&report, "require-probes", "container \"web\" has no readinessProbe");
    assert_eq!(missing.len(), 1, "{missing:#?}");
    let f = missing[0];
    let file = f["location"]["file"].as_str().expect("file");
    assert_eq!(file, format!("{SHOP}/templates/deployment.yaml"));
    // The container block of `web` spans lines 18 (`- name: web`) to 27 of the template.
    let line = f["location"]["line"].as_u64().expect("line");
    assert!((18..=27).contains(&line), "line {line}: {}", line_of(file, line));
    assert_eq!(line_of(file, line).trim(), "- name: web");
    // The rendered document is kept: the command, and the line in its output.
    let rendered = &f["rendered"];
    assert_eq!(rendered["renderer"], "helm");
    assert_eq!(rendered["command"], format!("helm template release-name {SHOP}"));
    assert_eq!(rendered["document"]["file"], rendered["command"]);
    let output = Command::new("helm")
        .env("PATH", path_with_helm())
        .current_dir(repo())
        .args(["template", "release-name", SHOP, "--namespace", "default", "--include-crds"])
        .output()
        .expect("helm runs");
    let output = String::from_utf8(output.stdout).expect("UTF-8");
    let rendered_line = rendered["document"]["line"].as_u64().expect("line") as usize;
    assert_eq!(output.lines().nth(rendered_line - 1).map(str::trim), Some("- name: web"));
}

#[test]
fn a_field_from_values_is_placed_in_the_template_with_the_values_line_beside() {
    let (_, report) =
        json_report(&[SHOP, "--helm-values", &format!("{SHOP}/ci/minimal-values.yaml")], &path_with_helm());
    let privileged =
        findings(&report, "pod-security-restricted", "container \"cache\" must not set securityContext.privileged");
    assert_eq!(privileged.len(), 1, "{:#}", report["findings"]);
    let f = privileged[0];
    assert_eq!(f["location"]["file"], format!("{SHOP}/charts/cache/templates/statefulset.yaml"));
    assert_eq!(
        line_of(f["location"]["file"].as_str().expect("file"), f["location"]["line"].as_u64().expect("line")).trim(),
        "privileged: {{ .Values.privileged }}"
    );
    // The subchart's own default is false; the values file of this render sets cache.privileged.
    let related = &f["rendered"]["related"][0];
    assert_eq!(related["location"]["file"], format!("{SHOP}/ci/minimal-values.yaml"));
    assert_eq!(related["location"]["line"], 3);
    assert_eq!(related["message"], "the value .Values.privileged");

    let (_, defaults) = json_report(&[SHOP], &path_with_helm());
    assert!(findings(&defaults, "pod-security-restricted", "container \"cache\" must not set").is_empty());
}

#[test]
fn each_values_file_is_a_render_judged_with_its_own_objects() {
    let (_, report) = json_report(
        &[
            SHOP,
            "--helm-values",
            &format!("{SHOP}/ci/ha-values.yaml"),
            "--helm-values",
            &format!("{SHOP}/ci/minimal-values.yaml"),
        ],
        &path_with_helm(),
    );
    assert_eq!(report["summary"]["rendered"], 2);
    // ha-values.yaml renders a PodDisruptionBudget; minimal-values.yaml does not, and the
    // other render's budget does not cover it.
    let pdb = findings(&report, "require-pdb", "release-name-shop");
    let values: Vec<&Value> = pdb.iter().map(|f| &f["rendered"]["values"]).collect();
    assert_eq!(values, [&serde_json::json!([format!("{SHOP}/ci/minimal-values.yaml")])], "{pdb:#?}");

    // The same matrix from the chart's own ci/ directory.
    let (_, ci) = json_report(&[SHOP, "--helm-ci-values"], &path_with_helm());
    assert_eq!(ci["summary"]["rendered"], 2);
    assert_eq!(ci["findings"], report["findings"]);

    // Layered files are one render.
    let layered = format!("{SHOP}/ci/minimal-values.yaml,{SHOP}/ci/ha-values.yaml");
    let (_, one) = json_report(&[SHOP, "--helm-values", &layered], &path_with_helm());
    assert_eq!(one["summary"]["rendered"], 1);
    assert!(findings(&one, "require-pdb", "release-name-shop").is_empty(), "ha-values.yaml, last, enables the budget");
    assert_eq!(findings(&one, "pod-security-restricted", "container \"cache\" must not set").len(), 1);
}

#[test]
fn hooks_tests_crds_subcharts_and_library_charts_are_rendered() {
    let (_, report) = json_report(&[SHOP, "--helm-set", "replicaCount=1"], &path_with_helm());
    // Deployment, the subchart's Deployment, the pre-install Job, the test Pod and the CRD.
    assert_eq!(report["summary"]["resources"], 5, "{:#}", report["summary"]);
    let job = findings(&report, "pod-security-restricted", "container \"migrate\" must not set");
    assert_eq!(job[0]["rendered"]["hook"], "pre-install,pre-upgrade");
    assert_eq!(job[0]["location"]["file"], format!("{SHOP}/templates/migrate-job.yaml"));
    let test_pod = findings(&report, "disallow-latest-tag", "busybox:latest");
    assert_eq!(test_pod[0]["rendered"]["hook"], "test");
    assert_eq!(test_pod[0]["location"]["file"], format!("{SHOP}/templates/tests/test-connection.yaml"));
    // The labels come from the library subchart: the Deployment has them, so no finding.
    assert!(findings(&report, "require-ownership-labels", "Deployment \"release-name-shop\" lacks").is_empty());
    // --helm-set reached the render.
    assert!(findings(&report, "require-pdb", "release-name-shop").is_empty());

    let out = policy_scan(
        &["scan", "--verbose", "--allow-empty", "tests/fixtures/render/helm/common-only"],
        &path_with_helm(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("skipped tests/fixtures/render/helm/common-only:1:1: a library chart: Helm renders its templates only in the charts that use it"),
        "{text}"
    );
}

#[test]
fn a_chart_that_does_not_render_is_an_error_with_helms_message_at_the_template() {
    let (code, report) =
        json_report(&["tests/fixtures/render/helm/broken", "examples/shop/web.yaml"], &path_with_helm());
    assert_eq!(code, 2);
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "render");
    assert_eq!(errors[0]["location"]["file"], "tests/fixtures/render/helm/broken/templates/configmap.yaml");
    assert_eq!(errors[0]["location"]["line"], 5);
    assert!(errors[0]["message"].as_str().expect("message").contains("function \"data\" not defined"), "{errors:#?}");
    // The rest of the scan goes on.
    assert!(report["summary"]["resources"].as_u64().expect("resources") > 0);
}

#[test]
fn a_missing_renderer_is_an_error_for_that_source_never_a_skip() {
    let empty = tempfile::tempdir().expect("tempdir");
    let path = empty.path().display().to_string();
    let (code, report) =
        json_report(&[SHOP, "tests/fixtures/render/kustomize/overlays/staging", "examples/shop/web.yaml"], &path);
    assert_eq!(code, 2);
    let messages: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["location"]["file"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(messages[0].0, "tests/fixtures/render/helm/shop/Chart.yaml");
    assert!(
        messages[0].1.contains("helm is not on PATH, so the chart tests/fixtures/render/helm/shop cannot be rendered"),
        "{messages:#?}"
    );
    assert_eq!(messages[1].0, "tests/fixtures/render/kustomize/overlays/staging/kustomization.yaml");
    assert!(messages[1].1.starts_with("neither kubectl nor kustomize is on PATH"), "{messages:#?}");
    assert!(report["summary"]["resources"].as_u64().expect("resources") > 0, "the manifest is still judged");
}

const OVERLAYS: &str = "tests/fixtures/render/kustomize";

#[test]
fn kustomize_findings_point_at_the_patch_or_the_base_that_set_the_field() {
    let (_, report) = json_report(&[OVERLAYS], &path_with_helm());
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["summary"]["rendered"], 2, "prod and staging; the base only through them");
    let at = |f: &Value| {
        (f["location"]["file"].as_str().unwrap_or("").to_string(), f["location"]["line"].as_u64().unwrap_or(0))
    };
    // A strategic-merge patch file sets privileged.
    let privileged = findings(&report, "pod-security-restricted", "must not set securityContext.privileged");
    assert_eq!(
        privileged.iter().map(|f| at(f)).collect::<Vec<_>>(),
        [(format!("{OVERLAYS}/overlays/prod/api-hardening.yaml"), 12)]
    );
    // An inline JSON 6902 patch in the kustomization adds hostNetwork.
    let host = findings(&report, "pod-security-restricted", "host's network namespace");
    assert_eq!(
        host.iter().map(|f| at(f)).collect::<Vec<_>>(),
        [(format!("{OVERLAYS}/overlays/prod/kustomization.yaml"), 7)]
    );
    // The missing probe is the base's, in both overlays, inside the container block.
    let probes = findings(&report, "require-probes", "container \"api\" has no readinessProbe");
    assert_eq!(probes.len(), 2);
    for f in &probes {
        assert_eq!(at(f), (format!("{OVERLAYS}/base/deployment.yaml"), 18));
        assert_eq!(f["rendered"]["renderer"], "kustomize");
    }
    let names: Vec<&str> = probes.iter().map(|f| f["resource"]["namespace"].as_str().unwrap_or("")).collect();
    assert_eq!(names, ["shop-prod", "shop-staging"]);

    let out = policy_scan(&["scan", "--verbose", OVERLAYS], &path_with_helm());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "skipped {OVERLAYS}/base:1:1: a Kustomize base: judged as rendered by {OVERLAYS}/overlays/prod"
        )),
        "{text}"
    );
}

#[test]
fn sarif_keeps_the_rendered_document_as_a_related_location() {
    let out = policy_scan(&["scan", "--format", "sarif", SHOP, OVERLAYS], &path_with_helm());
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    let problems = common::sarif_schema_problems(&sarif);
    assert!(problems.is_empty(), "{problems:#?}");

    let run = &sarif["runs"][0];
    let result = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| {
            r["ruleId"] == "require-probes"
                && r["message"]["text"].as_str().unwrap_or("").contains("\"web\" has no readinessProbe")
        })
        .expect("the web container's finding");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("{SHOP}/templates/deployment.yaml")
    );
    let related = &result["relatedLocations"][0];
    let index = related["physicalLocation"]["artifactLocation"]["index"].as_u64().expect("an artifact") as usize;
    let artifact = &run["artifacts"][index];
    assert_eq!(artifact["description"]["text"], format!("the output of `helm template release-name {SHOP}`"));
    let line = related["physicalLocation"]["region"]["startLine"].as_u64().expect("line") as usize;
    let text = artifact["contents"]["text"].as_str().expect("the rendered output");
    assert_eq!(text.lines().nth(line - 1).map(str::trim), Some("- name: web"));
}

#[test]
fn the_projects_own_charts_render_through_the_scanner_and_pass_the_bundle() {
    let charts = ["charts/policy-webhook", "charts/platform-baseline"];
    let ci_files: usize = charts
        .iter()
        .map(|c| std::fs::read_dir(repo().join(c).join("ci")).expect("ci/").filter_map(Result::ok).count())
        .sum();
    // The release namespace as the cluster has it, as the chart checks add it.
    let context = tempfile::tempdir().expect("tempdir");
    let namespace = context.path().join("release-namespace.yaml");
    let text = std::fs::read_to_string(repo().join("tests/charts/context/release-namespace.yaml")).expect("context");
    std::fs::write(&namespace, text.replace("${NAMESPACE}", "gatehouse-system")).expect("write");
    let namespace = namespace.display().to_string();
    let mut args =
        vec!["--helm-ci-values", "--helm-release", "gatehouse", "--namespace", "gatehouse-system", &namespace];
    args.extend(charts);
    let (_, report) = json_report(&args, &path_with_helm());
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["summary"]["rendered"].as_u64(), Some(ci_files as u64));
    for f in report["findings"].as_array().expect("findings") {
        // Every finding is placed in a template of the chart, on a line that exists...
        let file = f["location"]["file"].as_str().expect("file");
        assert!(charts.iter().any(|c| file.starts_with(&format!("{c}/templates/"))), "{f:#}");
        line_of(file, f["location"]["line"].as_u64().expect("line"));
        // ...and is waived, or a digest warning of a values set that pins no digest.
        let digest_warning = f["policy"] == "require-image-digest" && f["enforcement"] == "warn";
        let values = f["rendered"]["values"].to_string();
        assert!(f["suppressed"].is_object() || (digest_warning && !values.contains("digest-values")), "{f:#}");
    }
}

#[test]
fn a_template_that_renders_invalid_yaml_is_an_error_at_its_line() {
    let (code, report) = json_report(&["tests/fixtures/render/helm/bad-yaml"], &path_with_helm());
    assert_eq!(code, 2);
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "parse");
    assert_eq!(errors[0]["location"]["file"], "tests/fixtures/render/helm/bad-yaml/templates/service.yaml");
    assert_eq!(errors[0]["location"]["line"], 7, "the line that broke the YAML: {errors:#?}");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(message.ends_with("of `helm template release-name tests/fixtures/render/helm/bad-yaml`)"), "{message}");
}

#[test]
fn a_finding_in_a_packed_subchart_points_at_its_dependency_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("shop");
    let copied = Command::new("cp").arg("-r").arg(repo().join(SHOP)).arg(&chart).status().expect("cp runs");
    assert!(copied.success());
    let packed = Command::new("tar")
        .current_dir(chart.join("charts"))
        .args(["czf", "cache-0.1.0.tgz", "cache"])
        .status()
        .expect("tar runs");
    assert!(packed.success());
    std::fs::remove_dir_all(chart.join("charts/cache")).expect("unpacked copy removed");
    let chart_arg = chart.display().to_string();
    let (_, report) = json_report(&[&chart_arg, "--helm-set", "cache.privileged=true"], &path_with_helm());
    assert_eq!(report["errors"], serde_json::json!([]));
    let privileged =
        findings(&report, "pod-security-restricted", "container \"cache\" must not set securityContext.privileged");
    assert_eq!(privileged.len(), 1, "{:#}", report["findings"]);
    let f = privileged[0];
    assert_eq!(f["location"]["file"], format!("{chart_arg}/Chart.yaml"));
    assert_eq!(f["location"]["line"], 8, "the `- name: cache` dependency");
    assert_eq!(f["exact"], false);
}

#[test]
fn a_baseline_of_rendered_findings_keys_them_by_chart_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = dir.path().join("baseline.json");
    let minimal = format!("{SHOP}/ci/minimal-values.yaml");
    let out = policy_scan(
        &["scan", "--format", &format!("json={}", baseline.display()), SHOP, "--helm-values", &minimal],
        &path_with_helm(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let baseline = baseline.display().to_string();
    let (code, again) = json_report(&[SHOP, "--helm-values", &minimal, "--baseline", &baseline], &path_with_helm());
    assert_eq!((code, &again["findings"]), (0, &serde_json::json!([])), "{again:#}");
    // The same chart with other values is another render: its findings are new.
    let ha = format!("{SHOP}/ci/ha-values.yaml");
    let (code, other) = json_report(&[SHOP, "--helm-values", &ha, "--baseline", &baseline], &path_with_helm());
    assert_eq!(code, 1);
    assert_eq!(other["summary"]["baselined"], 0);
}
