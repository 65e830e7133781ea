//! `policy-scan scan` end to end: the binary, its exit codes, formats and locations.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{repo, write};

fn policy_scan(args: &[&str], stdin: Option<&str>) -> Output {
    common::run(args, stdin, None)
}

fn json_report(args: &[&str], stdin: Option<&str>) -> (i32, Value) {
    common::json_run("scan", args, stdin, None)
}

fn findings_at(report: &Value, policy: &str) -> Vec<(u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["policy"] == policy)
        .map(|f| (f["location"]["line"].as_u64().expect("line"), f["location"]["column"].as_u64().expect("column")))
        .collect()
}

#[test]
fn the_bundled_examples_fail_on_the_legacy_manifest_only() {
    let (code, report) = json_report(&["examples/"], None);
    assert_eq!(code, 1);
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["files"], 5);
    assert_eq!(report["summary"]["resources"], 16, "6 Kubernetes resources and 10 Terraform ones");
    let files: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["file"].as_str())
        .collect();
    assert!(files.iter().all(|f| f.starts_with("examples/legacy/")), "{files:?}");
    assert!(files.contains(&"examples/legacy/terraform/main.tf"), "{files:?}");
    // The privileged flag is reported on its own line; a missing probe at its container.
    assert!(findings_at(&report, "pod-security-restricted").contains(&(22, 13)));
    assert_eq!(findings_at(&report, "require-probes"), [(16, 11), (16, 11)]);
    let (code, _) = json_report(&["examples/shop"], None);
    assert_eq!(code, 0, "the compliant namespace passes");
}

#[test]
fn human_output_quotes_the_line_and_summarises() {
    let out = policy_scan(&["scan", "examples/legacy"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("  Deployment legacy/billing\n"), "{text}");
    assert!(text.contains("22:13  critical deny  pod-security-restricted  container \"billing\" must not set securityContext.privileged to true\n      22 |             privileged: true\n         |             ^^^^^^^^^^\n"), "{text}");
    assert!(text.contains("2 files, 3 resources, 30 findings (7 critical, 12 high, 11 medium), 0 errors"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
}

#[test]
fn standard_input_and_fail_on() {
    let manifest =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: x:1\n";
    let (code, report) = json_report(&["-"], Some(manifest));
    assert_eq!(code, 1);
    assert_eq!(report["findings"][0]["location"]["file"], "<stdin>");
    assert_eq!(report["findings"][0]["resource"]["namespace"], "default");
    // Only critical findings fail: the Pod has some (pod security).
    let (code, _) = json_report(&["--fail-on", "critical", "-"], Some(manifest));
    assert_eq!(code, 1);
    let out = policy_scan(&["scan", "--fail-on", "urgent", "-"], Some(manifest));
    assert_eq!(out.status.code(), Some(2), "a bad option is a usage error");
}

#[test]
fn a_file_that_does_not_parse_is_an_error_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n");
    write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 'x:1'}]}\n",
    );
    let (code, report) = json_report(&[&dir.path().display().to_string()], None);
    assert_eq!(code, 2);
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "parse");
    assert!(error["location"]["file"].as_str().expect("file").ends_with("broken.yaml"));
    assert!(error["location"]["line"].as_u64().expect("line") >= 3);
    assert!(report["summary"]["findings"].as_u64().expect("n") > 0, "the other file was still scanned");
}

#[test]
fn an_oversized_or_binary_file_is_a_read_error_naming_it_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limit = policy_scan::discover::MAX_SOURCE_BYTES as usize;
    // A comment line repeated past the limit: valid YAML, refused for its size alone.
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    let big = line.repeat(limit / line.len() + 2);
    write(dir.path(), "huge.yaml", &big);
    std::fs::write(dir.path().join("image.yaml"), b"apiVersion: v1\0\x89PNG\r\n").expect("write");
    write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 'x:1'}]}\n",
    );
    let (code, report) = json_report(&[&dir.path().display().to_string()], None);
    assert_eq!(code, 2, "{report}");
    let errors = report["errors"].as_array().expect("errors");
    let of = |name: &str| {
        errors
            .iter()
            .find(|e| e["location"]["file"].as_str().is_some_and(|f| f.ends_with(name)))
            .unwrap_or_else(|| panic!("no error for {name}: {errors:?}"))
    };
    assert_eq!(of("huge.yaml")["kind"], "read");
    assert!(of("huge.yaml")["message"].as_str().expect("message").contains(&format!("more than the limit of {limit}")));
    assert_eq!(of("image.yaml")["kind"], "read");
    assert_eq!(report["summary"]["resources"], 1, "the pod was still scanned");
}

#[test]
fn an_alias_bomb_is_refused_quickly() {
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let mut previous = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        let refs = vec![format!("*{previous}"); 10].join(", ");
        bomb.push_str(&format!("  {name}: &{name} [{refs}]\n"));
        previous = name;
    }
    let started = Instant::now();
    let (code, report) = json_report(&["-"], Some(&bomb));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(code, 2);
    assert!(report["errors"][0]["message"].as_str().expect("message").contains("more than 1000000 nodes"), "{report}");
}

#[test]
fn nothing_scanned_is_an_error_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "values.yaml", "replicaCount: 2\n");
    let path = dir.path().display().to_string();
    let (code, report) = json_report(&[&path], None);
    assert_eq!((code, report["summary"]["skippedDocuments"].as_u64()), (2, Some(1)));
    let (code, _) = json_report(&["--allow-empty", &path], None);
    assert_eq!(code, 0);
    let out = policy_scan(&["scan", "--verbose", "--allow-empty", &path], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("values.yaml:1:1: no apiVersion and kind, so not a Kubernetes resource"), "{text}");
    let quiet = policy_scan(&["scan", "--allow-empty", &path], None);
    assert!(
        String::from_utf8_lossy(&quiet.stdout).contains("1 skipped (not resources to judge; --verbose lists them)")
    );
}

#[test]
fn formats_go_to_files_and_ignore_files_are_honoured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 'x:1'}]}\n";
    write(dir.path(), "app/pod.yaml", pod);
    write(dir.path(), "vendor/pod.yaml", pod);
    write(dir.path(), ".policyscanignore", "vendor/\n");
    let json_file = dir.path().join("out.json");
    let out = policy_scan(
        &[
            "scan",
            "--format",
            "human",
            "--format",
            &format!("json={}", json_file.display()),
            &dir.path().display().to_string(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).expect("written")).expect("JSON");
    assert_eq!(report["summary"]["files"], 1, "vendor/ is ignored");
    assert!(String::from_utf8_lossy(&out.stdout).contains("app/pod.yaml"));
    let out = policy_scan(&["scan", "--format", "json", "--format", "human", "-"], Some(pod));
    assert_eq!(out.status.code(), Some(2), "two formats on standard output is a usage error");
}

#[test]
fn locations_survive_real_world_file_shapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // CRLF line endings, a BOM, comments, flow style and a List.
    let text = "\u{feff}# header comment\r\n---\r\napiVersion: v1\r\nkind: List\r\nitems:\r\n  # a pod\r\n  - {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: 'x:1', securityContext: {privileged: true}}]}}\r\n";
    let path = write(dir.path(), "list.yaml", text);
    let (_, report) = json_report(&[&path], None);
    let privileged: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["path"] == "/spec/containers/0/securityContext/privileged")
        .collect();
    assert_eq!(privileged.len(), 1, "{report}");
    assert_eq!(privileged[0]["location"]["line"], 7);
    assert_eq!(privileged[0]["location"]["column"], 116);
    assert_eq!(privileged[0]["exact"], true);
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_rules_and_locations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sarif_file = dir.path().join("out.sarif");
    let broken = write(dir.path(), "broken.yaml", "a: [\n");
    let out =
        policy_scan(&["scan", "--format", &format!("sarif={}", sarif_file.display()), "examples/", &broken], None);
    assert_eq!(out.status.code(), Some(2), "the broken file makes it an error run");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif_file).expect("written")).expect("JSON");
    let problems = common::sarif_schema_problems(&sarif);
    assert!(problems.is_empty(), "{problems:#?}");

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let probes = rules.iter().find(|r| r["id"] == "require-probes").expect("a rule per policy");
    assert_eq!(probes["properties"]["security-severity"], "8.0");
    assert!(probes["help"]["text"].as_str().expect("help").contains("readinessProbe"));
    let result = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| {
            r["ruleId"] == "pod-security-restricted"
                && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 22
        })
        .expect("privileged");
    assert_eq!(result["level"], "error");
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "examples/legacy/app.yaml");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startColumn"], 13);
    assert_eq!(rules[result["ruleIndex"].as_u64().expect("index") as usize]["id"], "pod-security-restricted");
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn junit_has_a_case_per_resource_and_policy_and_github_annotates_lines() {
    let out = policy_scan(&["scan", "--format", "junit", "examples/"], None);
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"policy-scan\" tests=\"74\" failures=\"19\" errors=\"0\">"), "{xml}");
    assert!(
        xml.contains(
            "<testcase classname=\"Deployment shop/web\" name=\"require-probes\" file=\"examples/shop/web.yaml\"/>"
        ),
        "{xml}"
    );
    assert!(xml.contains("<testcase classname=\"Deployment legacy/billing\" name=\"require-probes\" file=\"examples/legacy/app.yaml\" line=\"16\">"), "{xml}");
    assert!(xml.contains("<testcase classname=\"aws_db_instance.billing\" name=\"database-backups\" file=\"examples/legacy/terraform/main.tf\" line=\"18\">"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 74, "no case for the mutating policy");
    assert_eq!(xml.matches("<failure ").count(), 19);

    let out = policy_scan(&["scan", "--format", "github", "examples/legacy"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l == "::error file=examples/legacy/app.yaml,line=22,col=13,title=pod-security-restricted (critical)::Deployment legacy/billing: container \"billing\" must not set securityContext.privileged to true"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("::error file=examples/legacy/terraform/main.tf,line=19,col=3,title=database-encryption-at-rest (high)::aws_db_instance.billing: storage_encrypted is false")), "{text}");
    assert_eq!(text.lines().count(), 30);
}

const POD_WITHOUT_PROBES: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: batch\n  namespace: jobs\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  automountServiceAccountToken: false\n  containers:\n    - name: c\n      image: rg.fr-par.scw.cloud/jobs/batch:1.0@sha256:9b2a4f6c8d0e1f23456789abcdef0123456789abcdef0123456789abcdef0123\n      resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}\n      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";

#[test]
fn waivers_suppress_expire_and_report_unused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = write(dir.path(), "pod.yaml", POD_WITHOUT_PROBES);
    let netpol = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: jobs}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";
    std::fs::write(&pod, format!("{POD_WITHOUT_PROBES}{netpol}")).expect("write");
    let waivers = write(
        dir.path(),
        "waivers.yaml",
        "waivers:\n  - policy: require-probes\n    resource: {kind: Pod, namespace: jobs, name: batch}\n    reason: a batch pod has nothing to probe\n    expires: 2999-12-31\n    ticket: SEC-42\n  - policy: require-resources\n    resource: {name: other}\n    reason: not this one\n    expires: 2999-12-31\n",
    );
    let (code, report) =
        json_report(&["--waivers", &waivers, "--report-unused-waivers", "--today", "2026-11-27", &pod], None);
    assert_eq!(code, 0, "every finding is waived: {report}");
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(report["summary"]["suppressed"], 2, "both missing probes");
    let suppressed = &report["findings"][0]["suppressed"];
    assert_eq!(suppressed["reason"], "a batch pod has nothing to probe");
    assert_eq!(suppressed["ticket"], "SEC-42");
    assert_eq!(suppressed["waiver"]["line"], 2);
    assert_eq!(report["waivers"]["unused"][0]["policy"], "require-resources");
    assert_eq!(report["waivers"]["unused"][0]["location"]["line"], 7);

    // The same waiver, expired: it stops waiving, and is reported.
    let (code, report) = json_report(&["--waivers", &waivers, "--today", "3000-01-01", &pod], None);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["findings"], 2);
    assert_eq!(report["waivers"]["expired"][0]["expires"], "2999-12-31");
    let out = policy_scan(&["scan", "--waivers", &waivers, "--today", "3000-01-01", &pod], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("the waiver of require-probes expired on 2999-12-31: it no longer waives"), "{text}");

    // Waived findings appear as suppressed in every format.
    let out = policy_scan(&["scan", "--format", "github", "--waivers", &waivers, "--today", "2026-11-27", &pod], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("::notice file="), "waived findings become notices");
    let out = policy_scan(&["scan", "--format", "junit", "--waivers", &waivers, "--today", "2026-11-27", &pod], None);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "<skipped message=\"waived: a batch pod has nothing to probe; a batch pod has nothing to probe\"/>"
        )
    );
    let out = policy_scan(&["scan", "--format", "sarif", "--waivers", &waivers, "--today", "2026-11-27", &pod], None);
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("sarif");
    assert_eq!(sarif["runs"][0]["results"][0]["suppressions"][0]["kind"], "external");
}

#[test]
fn an_annotation_waives_only_the_policies_it_names() {
    let annotated = POD_WITHOUT_PROBES.replace(
        "  namespace: jobs\n",
        "  namespace: jobs\n  annotations:\n    gatehouse.dev/waivers: |\n      - {policy: require-probes, reason: one-shot batch pod, expires: 2999-01-01}\n",
    );
    let (code, report) = json_report(&["--today", "2026-11-27", "-"], Some(&annotated));
    assert_eq!(code, 1, "the NetworkPolicy finding is not waived");
    let waived: Vec<&Value> =
        report["findings"].as_array().expect("findings").iter().filter(|f| f["suppressed"].is_object()).collect();
    assert_eq!(waived.len(), 2);
    assert!(waived.iter().all(|f| f["policy"] == "require-probes" && f["suppressed"]["annotation"] == true));
    assert_eq!(report["summary"]["findings"], 1);

    let broken = POD_WITHOUT_PROBES.replace("  namespace: jobs\n", "  namespace: jobs\n  annotations:\n    gatehouse.dev/waivers: '[{policy: no-such-policy, reason: x, expires: 2999-01-01}]'\n");
    let (code, report) = json_report(&["-"], Some(&broken));
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["location"]["line"], 7);
    assert!(report["errors"][0]["message"].as_str().expect("message").contains("no policy with id \"no-such-policy\""));
}

#[test]
fn a_bad_waiver_file_is_a_usage_error_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let waivers =
        write(dir.path(), "w.yaml", "waivers:\n  - policy: require-probes\n    reason: r\n    expires: next week\n");
    let out = policy_scan(&["scan", "--waivers", &waivers, "examples/"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("w.yaml:4:5: waivers[0].expires: \"next week\" is not a date as YYYY-MM-DD"), "{err}");
}

#[test]
fn a_baseline_reports_only_new_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = dir.path().join("baseline.json");
    let out = policy_scan(&["scan", "--format", &format!("json={}", baseline.display()), "examples/legacy"], None);
    assert_eq!(out.status.code(), Some(1));
    let (code, report) = json_report(&["--baseline", &baseline.display().to_string(), "examples/legacy"], None);
    assert_eq!(code, 0, "nothing new");
    assert_eq!(report["summary"]["baselined"], 30, "22 in the manifest, 8 in the Terraform");
    // A new problem in the same file is reported on its own.
    let changed = std::fs::read_to_string(repo().join("examples/legacy/app.yaml"))
        .expect("read")
        .replace("hostPort: 8080", "hostPort: 8080\n              protocol: TCP")
        .replace("privileged: true", "privileged: true\n            runAsUser: 0");
    let (code, report) = json_report(&["--baseline", &baseline.display().to_string(), "-"], Some(&changed));
    assert_eq!(code, 1);
    let new: Vec<&str> =
        report["findings"].as_array().expect("findings").iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(new, ["/spec/template/spec/containers/0/securityContext/runAsUser"]);
    let garbage = write(dir.path(), "garbage.json", "{\"not\": \"a report\"}");
    let out = policy_scan(&["scan", "--baseline", &garbage, "examples/"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn namespace_labels_in_the_scanned_set_switch_enforcement_as_at_admission() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "gatehouse.yaml",
        "namespaces:\n  - namespaceSelector: {matchLabels: {stage: legacy}}\n    enforcement: warn\n",
    );
    let app = std::fs::read_to_string(repo().join("examples/legacy/app.yaml")).expect("example");
    let manifests = write(dir.path(), "app.yaml", &app);
    let (code, report) = json_report(&["--config", &config, &manifests], None);
    assert_eq!(code, 1, "the namespace is not in the scanned set: the policies deny");
    let labelled =
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels: {{stage: legacy}}\n---\n{app}");
    let manifests = write(dir.path(), "app.yaml", &labelled);
    let (code, report_labelled) = json_report(&["--config", &config, &manifests], None);
    assert_eq!(code, 0, "every finding is a warning in a legacy-labelled namespace: {report_labelled}");
    let enforcements: Vec<&str> = report_labelled["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["enforcement"].as_str())
        .collect();
    assert!(!enforcements.is_empty() && enforcements.iter().all(|e| *e == "warn"), "{enforcements:?}");
    assert!(report["findings"].as_array().expect("findings").iter().any(|f| f["enforcement"] == "deny"));
}
