//! `policy-scan images` end to end: the binary, a `trivy` on PATH, the bundle's image policy.
//!
//! The `trivy` here is a small script the test writes: it logs its arguments and answers each
//! image as the test tells it, with one of trivy's own JSON reports (tests/fixtures/trivy,
//! copied from trivy's golden files), a failure as trivy reports one, a hang, or garbage.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::write;

fn repo() -> PathBuf {
    common::repo().canonicalize().expect("repository")
}

fn fixture(name: &str) -> String {
    repo().join("scanner/tests/fixtures/trivy").join(name).display().to_string()
}

const DEBIAN: &str = "debian-buster.json";
const ALPINE: &str = "alpine-310.json";
const DISTROLESS: &str = "alpine-distroless.json";

/// How the fake trivy answers an image.
enum Answer {
    Report(&'static str),
    Fail,
    Hang,
    Garbage,
}

/// A temporary directory with a fake `trivy` in `bin/`, its answers and its call log.
struct FakeTrivy {
    dir: tempfile::TempDir,
}

impl FakeTrivy {
    fn new(answers: &[(&str, Answer)]) -> FakeTrivy {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).expect("mkdir");
        let mut table = String::new();
        for (image, answer) in answers {
            let (action, argument) = match answer {
                Answer::Report(file) => ("report", fixture(file)),
                Answer::Fail => ("fail", String::new()),
                Answer::Hang => ("hang", String::new()),
                Answer::Garbage => ("garbage", String::new()),
            };
            table.push_str(&format!("{image} {action} {argument}\n"));
        }
        std::fs::write(root.join("answers"), table).expect("answers");
        let script = format!(
            r#"#!/bin/sh
dir='{}'
printf '%s\n' "$*" >> "$dir/calls.log"
for ref in "$@"; do :; done
action=$(awk -v r="$ref" '$1 == r {{ print $2; exit }}' "$dir/answers")
argument=$(awk -v r="$ref" '$1 == r {{ print $3; exit }}' "$dir/answers")
case "$action" in
  report) cat "$argument" ;;
  fail) printf '2024-05-01T10:00:01Z\tFATAL\tFatal error\timage scan error: unable to find the specified image "%s"\n' "$ref" >&2; exit 1 ;;
  hang) exec sleep 120 ;;
  garbage) echo 'Need help? Run trivy --help' ;;
  *) echo "no answer for $ref" >&2; exit 3 ;;
esac
"#,
            root.display()
        );
        let trivy = root.join("bin/trivy");
        std::fs::write(&trivy, script).expect("script");
        let mut permissions = std::fs::metadata(&trivy).expect("metadata").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&trivy, permissions).expect("chmod");
        FakeTrivy { dir }
    }

    fn path_env(&self) -> String {
        format!("{}:{}", self.dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default())
    }

    /// Each call's arguments, in order.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .map(|log| log.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn scanned(&self) -> Vec<String> {
        let mut images: Vec<String> =
            self.calls().iter().filter_map(|c| c.rsplit(' ').next().map(str::to_string)).collect();
        images.sort();
        images
    }
}

fn policy_scan(args: &[&str], path_env: &str) -> Output {
    common::run(args, None, Some(path_env))
}

fn json_images(args: &[&str], path_env: &str) -> (i32, Value) {
    common::json_run("images", args, None, Some(path_env))
}

/// The 1-based line and column of the `image:` field that names `image`, the
/// `occurrence`-th one in the file.
fn image_position(text: &str, image: &str, occurrence: usize) -> (u64, u64) {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let at = line.find("image: ")?;
            (line[at + 7..].trim() == image).then(|| ((i + 1) as u64, (at + 1) as u64))
        })
        .nth(occurrence)
        .unwrap_or_else(|| panic!("no image: {image} (occurrence {occurrence})"))
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

/// (vulnerability, line, column) of every finding, sorted.
fn places(report: &Value) -> Vec<(String, u64, u64)> {
    let mut all: Vec<(String, u64, u64)> = findings(report)
        .iter()
        .map(|f| {
            (
                f["image"]["vulnerability"]["vulnerabilityID"].as_str().expect("vulnerability").to_string(),
                f["location"]["line"].as_u64().expect("line"),
                f["location"]["column"].as_u64().expect("column"),
            )
        })
        .collect();
    all.sort();
    all
}

const API: &str = "registry.example/shop/api:1.4.2";
const REPORTS: &str = "registry.example/shop/reports:2.0.0";
const DEBUG: &str = "registry.example/tools/debug:0.3";

const WORKLOADS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: registry.example/shop/api:1.4.2
      containers:
        - name: api
          image: registry.example/shop/api:1.4.2
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: shop
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: report
              image: registry.example/shop/reports:2.0.0
---
apiVersion: v1
kind: Pod
metadata:
  name: api-debug
  namespace: shop
spec:
  containers:
    - name: api
      image: registry.example/shop/api:1.4.2
  ephemeralContainers:
    - name: debugger
      image: registry.example/tools/debug:0.3
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  image: registry.example/not/an-image:1
";

fn every_answer() -> FakeTrivy {
    FakeTrivy::new(&[
        (API, Answer::Report(DEBIAN)),
        (REPORTS, Answer::Report(ALPINE)),
        (DEBUG, Answer::Report(DISTROLESS)),
    ])
}

#[test]
fn every_image_is_collected_scanned_once_and_its_findings_placed_at_each_image_line() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    let (code, report) = json_images(&[&file, "--parallel", "2"], &trivy.path_env());
    assert_eq!(code, 1, "a CRITICAL vulnerability with a fix fails the run: {report:#}");
    assert_eq!(trivy.scanned(), [API, REPORTS, DEBUG], "one scan per distinct image, whatever the number of uses");
    for call in trivy.calls() {
        assert!(call.starts_with("image --format json --scanners vuln --quiet --timeout 300s "), "{call}");
        assert!(!call.contains("--cache-dir"), "trivy's own cache unless one is given: {call}");
    }
    assert_eq!(report["summary"]["images"], 3);
    assert_eq!(report["summary"]["resources"], 4);
    // The default threshold (HIGH): only libidn2's CRITICAL one, at every place the image is used.
    let libidn2 = "CVE-2019-18224".to_string();
    assert_eq!(
        places(&report),
        [
            (libidn2.clone(), image_position(WORKLOADS, API, 0).0, image_position(WORKLOADS, API, 0).1),
            (libidn2.clone(), image_position(WORKLOADS, API, 1).0, image_position(WORKLOADS, API, 1).1),
            (libidn2, image_position(WORKLOADS, API, 2).0, image_position(WORKLOADS, API, 2).1),
        ]
    );
    let first = &findings(&report)[0];
    assert_eq!(first["policy"], "image-vulnerabilities");
    assert_eq!(first["severity"], "critical", "trivy's severity, not the policy's");
    assert_eq!(first["enforcement"], "deny");
    assert_eq!(first["location"]["file"], file);
    assert_eq!(first["path"], "/spec/template/spec/initContainers/0/image");
    assert_eq!(first["resource"]["kind"], "Deployment");
    assert_eq!(
        first["message"],
        "CVE-2019-18224 (CRITICAL) in libidn2-0 2.0.5-1, fixed in 2.0.5-1+deb10u1: libidn2: heap-based buffer overflow in idn2_to_ascii_4i in lib/lookup.c"
    );
    let image = &first["image"];
    assert_eq!(image["reference"], API);
    assert_eq!(image["vulnerability"]["pkgName"], "libidn2-0");
    assert_eq!(image["vulnerability"]["installedVersion"], "2.0.5-1");
    assert_eq!(image["vulnerability"]["fixedVersion"], "2.0.5-1+deb10u1");
    assert_eq!(image["vulnerability"]["primaryURL"], "https://avd.aquasec.com/nvd/cve-2019-18224");
    let pod = findings(&report).iter().find(|f| f["resource"]["kind"] == "Pod").expect("the Pod's finding");
    assert_eq!(pod["path"], "/spec/containers/0/image");
    assert!(report["errors"].as_array().expect("errors").is_empty(), "{report:#}");

    // Each image judged at a lower threshold: the CronJob's image and the ephemeral container's.
    let config = write(
        dir.path(),
        "gatehouse.yaml",
        "policies:\n  image-vulnerabilities:\n    parameters:\n      severity: UNKNOWN\n",
    );
    let (_, report) = json_images(&[&file, "--config", &config], &trivy.path_env());
    let at = |image: &str, n: usize| image_position(WORKLOADS, image, n);
    let cron: Vec<_> = places(&report).into_iter().filter(|(_, line, _)| *line == at(REPORTS, 0).0).collect();
    assert_eq!(cron.len(), 4, "two CVEs in two packages each: {cron:?}");
    let debug: Vec<String> =
        places(&report).into_iter().filter(|(_, line, _)| *line == at(DEBUG, 0).0).map(|(id, ..)| id).collect();
    assert_eq!(debug, ["CVE-2021-38561", "CVE-2022-24765"]);
    let go = findings(&report)
        .iter()
        .find(|f| f["image"]["vulnerability"]["vulnerabilityID"] == "CVE-2021-38561")
        .expect("the Go binary's vulnerability");
    assert_eq!(go["severity"], "info", "UNKNOWN is the lowest");
    assert_eq!(go["message"], "CVE-2021-38561 (UNKNOWN) in golang.org/x/text v0.3.5, fixed in 0.3.7");
    assert_eq!(go["image"]["vulnerability"]["target"], "usr/bin/git-lfs");
    assert_eq!(trivy.calls().len(), 6, "three more scans, one per image");
}

#[test]
fn sarif_has_a_rule_per_vulnerability_and_results_at_the_image_lines() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    let config = write(
        dir.path(),
        "gatehouse.yaml",
        "policies:\n  image-vulnerabilities:\n    parameters:\n      severity: MEDIUM\n",
    );
    let sarif_file = dir.path().join("out.sarif");
    let out = policy_scan(
        &["images", &file, "--config", &config, "--format", &format!("sarif={}", sarif_file.display())],
        &trivy.path_env(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif_file).expect("sarif")).expect("JSON");
    let problems = common::sarif_schema_problems(&sarif);
    assert!(problems.is_empty(), "{problems:#?}");

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut cves: Vec<&str> = ids.iter().copied().filter(|id| id.starts_with("image-vulnerabilities/")).collect();
    cves.sort();
    // CVE-2019-1549 and -1551 are each in two packages of one image: one rule each.
    assert_eq!(
        cves,
        [
            "image-vulnerabilities/CVE-2019-1549",
            "image-vulnerabilities/CVE-2019-1551",
            "image-vulnerabilities/CVE-2019-18224",
            "image-vulnerabilities/CVE-2022-24765",
        ]
    );
    assert!(ids.contains(&"require-probes"), "the other policies keep their rule");
    let rule = rules.iter().find(|r| r["id"] == "image-vulnerabilities/CVE-2019-18224").expect("rule");
    assert_eq!(rule["name"], "CVE-2019-18224");
    assert_eq!(
        rule["shortDescription"]["text"],
        "libidn2: heap-based buffer overflow in idn2_to_ascii_4i in lib/lookup.c"
    );
    assert_eq!(rule["helpUri"], "https://avd.aquasec.com/nvd/cve-2019-18224");
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert!(rule["help"]["text"].as_str().expect("help").contains("Fixed version: 2.0.5-1+deb10u1"), "{rule:#}");

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3 + 4 + 1, "the API image's CVE at three places, the others at one each");
    let (line, column) = image_position(WORKLOADS, API, 1);
    let at_container = results
        .iter()
        .find(|r| {
            r["ruleId"] == "image-vulnerabilities/CVE-2019-18224"
                && r["locations"][0]["physicalLocation"]["region"]["startLine"] == line
        })
        .expect("a result at the Deployment's container image");
    let region = &at_container["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], column);
    assert_eq!(at_container["level"], "error");
    assert_eq!(at_container["properties"]["image"], API);
    let index = at_container["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["id"], "image-vulnerabilities/CVE-2019-18224");
    let fingerprints: std::collections::HashSet<&str> =
        results.iter().filter_map(|r| r["partialFingerprints"]["gatehouse/v1"].as_str()).collect();
    assert_eq!(fingerprints.len(), results.len(), "each finding is told apart");
}

#[test]
fn the_threshold_fixed_only_and_the_allow_list_are_set_in_the_configuration() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    let run = |parameters: &str| {
        let config = write(
            dir.path(),
            "gatehouse.yaml",
            &format!("policies:\n  image-vulnerabilities:\n    parameters:\n{parameters}"),
        );
        json_images(&[&file, "--config", &config], &trivy.path_env())
    };
    let ids = |report: &Value| -> Vec<String> {
        let mut ids: Vec<String> = places(report).into_iter().map(|(id, ..)| id).collect();
        ids.dedup();
        ids
    };

    let (code, report) = run("      severity: LOW\n");
    assert_eq!(code, 1);
    assert!(ids(&report).contains(&"CVE-2019-18276".to_string()), "bash's LOW one, without a fix");
    let (_, report) = run("      severity: LOW\n      ignoreUnfixed: true\n");
    assert!(!ids(&report).contains(&"CVE-2019-18276".to_string()), "no fix: left out with ignoreUnfixed");
    assert!(ids(&report).contains(&"CVE-2019-18224".to_string()), "a fixed one stays");

    // An entry in force allows; an expired one does not and says so; one without a reason
    // allows nothing either.
    let (code, report) = run(concat!(
        "      severity: MEDIUM\n",
        "      allow:\n",
        "        - {id: CVE-2019-1549, reason: 'fork() is never called after RNG use', expires: '2999-12-31'}\n",
        "        - {id: CVE-2019-1551, reason: 'waiting for alpine 3.11', expires: '2020-01-31'}\n",
        "        - {id: CVE-2022-24765, expires: '2999-12-31'}\n",
    ));
    assert_eq!(code, 1);
    let ids = ids(&report);
    assert!(!ids.contains(&"CVE-2019-1549".to_string()), "{ids:?}");
    assert!(ids.contains(&"CVE-2019-1551".to_string()), "{ids:?}");
    let expired: Vec<&str> = findings(&report)
        .iter()
        .filter(|f| f["image"]["vulnerability"]["vulnerabilityID"] == "CVE-2019-1551")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(expired.len(), 2, "in libcrypto1.1 and libssl1.1");
    assert!(expired.iter().all(|m| m.ends_with("(its allow-list entry expired on 2020-01-31)")), "{expired:?}");
    let unreasoned = findings(&report)
        .iter()
        .find(|f| f["image"]["vulnerability"]["vulnerabilityID"] == "CVE-2022-24765")
        .expect("an entry without a reason allows nothing");
    assert!(
        unreasoned["message"]
            .as_str()
            .expect("message")
            .ends_with("(its allow-list entry has no reason, so it allows nothing)")
    );

    // Everything allowed or below the threshold: the run passes.
    let (code, report) = run(concat!(
        "      severity: CRITICAL\n",
        "      allow:\n",
        "        - {id: CVE-2019-18224, reason: 'idn2_to_ascii_4i is not reachable', expires: '2999-12-31'}\n",
    ));
    assert_eq!((code, findings(&report).len()), (0, 0), "{report:#}");

    // A misspelt parameter is refused with its place in the configuration file.
    let out = policy_scan(
        &[
            "images",
            &file,
            "--config",
            &write(
                dir.path(),
                "typo.yaml",
                "policies:\n  image-vulnerabilities:\n    parameters:\n      allow:\n        - {id: CVE-2019-1549, reason: r, expiry: '2999-12-31'}\n",
            ),
        ],
        &trivy.path_env(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("typo.yaml:") && stderr.contains("expiry is not a known property"), "{stderr}");
}

#[test]
fn a_missing_trivy_is_an_error_with_the_install_hint_never_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    // PATH without trivy, but with the shell tools.
    let out = policy_scan(&["images", &file], "/usr/bin:/bin");
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error: trivy is not on PATH")
            && stdout.contains("install trivy (https://trivy.dev/latest/getting-started/installation/)"),
        "{stdout}"
    );
    let (code, report) = json_images(&[&file], "/usr/bin:/bin");
    assert_eq!(code, 2);
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "one error for the missing program, not one per image: {errors:#?}");
    assert_eq!(errors[0]["kind"], "image");
    assert!(findings(&report).is_empty());
}

#[test]
fn a_failing_hanging_or_garbled_scan_is_a_named_error_and_the_other_images_are_still_judged() {
    let broken = "registry.example/shop/broken:1";
    let stuck = "registry.example/shop/stuck:1";
    let noisy = "registry.example/shop/noisy:1";
    let trivy = FakeTrivy::new(&[
        (API, Answer::Report(DEBIAN)),
        (broken, Answer::Fail),
        (stuck, Answer::Hang),
        (noisy, Answer::Garbage),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: mixed, namespace: shop}}
spec:
  template:
    spec:
      containers:
        - {{name: api, image: {API}}}
        - {{name: broken, image: {broken}}}
        - {{name: stuck, image: {stuck}}}
        - {{name: noisy, image: {noisy}}}
"
    );
    let file = write(dir.path(), "mixed.yaml", &text);
    let started = Instant::now();
    let (code, report) = json_images(&[&file, "--timeout", "1", "--parallel", "4"], &trivy.path_env());
    assert!(started.elapsed() < Duration::from_secs(60), "the hanging scan was stopped: {:?}", started.elapsed());
    assert_eq!(code, 2);
    let errors: Vec<(String, u64)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["message"].as_str().expect("message").to_string(), e["location"]["line"].as_u64().expect("line")))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let error_of = |image: &str| {
        errors
            .iter()
            .find(|(m, _)| m.starts_with(&format!("image {image:?} could not be scanned: ")))
            .unwrap_or_else(|| panic!("no error names {image}: {errors:#?}"))
    };
    assert!(error_of(broken).0.contains("trivy failed (exit status: 1): "), "{errors:#?}");
    assert!(error_of(broken).0.contains("unable to find the specified image"), "{errors:#?}");
    assert!(error_of(stuck).0.ends_with("trivy: no answer within 1 s; stopped"), "{errors:#?}");
    assert!(error_of(noisy).0.contains("trivy wrote no JSON report"), "{errors:#?}");
    assert_eq!(error_of(broken).1, 9, "at the image's line");
    assert_eq!(error_of(stuck).1, 10);
    let scanned: Vec<&str> = findings(&report).iter().filter_map(|f| f["image"]["reference"].as_str()).collect();
    assert_eq!(scanned, [API], "the image that could be scanned is still judged");
    assert_eq!(findings(&report)[0]["location"]["line"], 8);
}

#[test]
fn the_cache_directory_is_trivys_own_unless_given() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "pod.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n    - {{name: a, image: {DEBUG}}}\n"
        ),
    );
    let cache = dir.path().join("trivy-cache").display().to_string();
    let (code, _) = json_images(&[&file, "--trivy-cache-dir", &cache, "--timeout", "42"], &trivy.path_env());
    assert_eq!(code, 0, "MEDIUM and UNKNOWN only: below HIGH");
    assert_eq!(
        trivy.calls(),
        [format!("image --format json --scanners vuln --quiet --timeout 42s --cache-dir {cache} {DEBUG}")]
    );
}

#[test]
fn the_human_format_quotes_the_image_line_and_names_the_image() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    let out = policy_scan(&["images", &file], &trivy.path_env());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (line, column) = image_position(WORKLOADS, API, 0);
    assert!(
        stdout.contains(&format!(
            "    {line}:{column}  critical deny  image-vulnerabilities  CVE-2019-18224 (CRITICAL) in libidn2-0"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{line} |           image: {API}\n")), "{stdout}");
    assert!(stdout.contains(&format!("= in image {API} (https://avd.aquasec.com/nvd/cve-2019-18224)")), "{stdout}");
    assert!(stdout.contains("1 files, 4 resources, 3 images, 3 findings (3 critical), 0 errors"), "{stdout}");
}

#[test]
fn github_junit_baselines_and_fail_on_work_on_image_findings() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    let out = policy_scan(&["images", &file, "--format", "github"], &trivy.path_env());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (line, column) = image_position(WORKLOADS, API, 1);
    assert!(
        stdout.contains(&format!(
            "::error file={file},line={line},col={column},title=image-vulnerabilities (critical)::Deployment shop/api: CVE-2019-18224 (CRITICAL)"
        )),
        "{stdout}"
    );
    let out = policy_scan(&["images", &file, "--format", "junit"], &trivy.path_env());
    assert!(String::from_utf8_lossy(&out.stdout).contains("CVE-2019-18224"));

    // A warning-level run fails on the vulnerability's own severity.
    let config = write(dir.path(), "warn.yaml", "policies:\n  image-vulnerabilities:\n    enforcement: warn\n");
    let (code, _) = json_images(&[&file, "--config", &config], &trivy.path_env());
    assert_eq!(code, 0, "warn does not fail --fail-on deny");
    let (code, _) = json_images(&[&file, "--config", &config, "--fail-on", "critical"], &trivy.path_env());
    assert_eq!(code, 1, "a CRITICAL vulnerability fails --fail-on critical");

    let baseline = dir.path().join("baseline.json");
    let out = policy_scan(&["images", &file, "--format", &format!("json={}", baseline.display())], &trivy.path_env());
    assert_eq!(out.status.code(), Some(1));
    let (code, report) = json_images(&[&file, "--baseline", &baseline.display().to_string()], &trivy.path_env());
    assert_eq!((code, report["summary"]["baselined"].as_u64()), (0, Some(3)), "{report:#}");
}

#[test]
fn scan_is_unaffected_and_runs_no_trivy() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "workloads.yaml", WORKLOADS);
    let out = policy_scan(&["scan", &file, "--format", "json"], &trivy.path_env());
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(trivy.calls().is_empty(), "scan never runs trivy");
    assert!(
        !findings(&report).iter().any(|f| f["policy"] == "image-vulnerabilities" || f.get("image").is_some()),
        "{report:#}"
    );
    assert!(report["summary"].get("images").is_none());
}

#[test]
fn resources_without_images_are_nothing_to_scan_unless_allowed() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n");
    let out = policy_scan(&["images", &file], &trivy.path_env());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was scanned: no container image"));
    let out = policy_scan(&["images", &file, "--allow-empty"], &trivy.path_env());
    assert_eq!(out.status.code(), Some(0));
    assert!(trivy.calls().is_empty());
}

/// PATH with the test `helm` first; builds its virtual environment on first use.
fn path_with_helm(before: &str) -> String {
    static VENV: OnceLock<()> = OnceLock::new();
    VENV.get_or_init(|| {
        let out = Command::new(repo().join("scripts/chart-venv")).output().expect("scripts/chart-venv runs");
        assert!(out.status.success(), "scripts/chart-venv failed: {}", String::from_utf8_lossy(&out.stderr));
    });
    format!("{}:{before}", repo().join("tests/helm/bin").display())
}

#[test]
fn images_of_a_rendered_chart_are_found_at_their_template_line() {
    let trivy = every_answer();
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("shop");
    write(&chart, "Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n");
    write(&chart, "values.yaml", "image:\n  repository: registry.example/shop/api\n  tag: 1.4.2\n");
    let template = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
spec:
  template:
    spec:
      containers:
        - name: api
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"
";
    write(&chart, "templates/deployment.yaml", template);
    let (code, report) = json_images(&[&chart.display().to_string()], &path_with_helm(&trivy.path_env()));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(trivy.scanned(), [API]);
    let finding = &findings(&report)[0];
    assert_eq!(finding["location"]["file"], chart.join("templates/deployment.yaml").display().to_string());
    assert_eq!(finding["location"]["line"], 10, "the template line that writes the image");
    assert_eq!(finding["rendered"]["renderer"], "helm");
    assert_eq!(report["summary"]["rendered"], 1);
}

/// `--verify` against a real registry on loopback (gatehouse_signatures::testing): the signed
/// image passes, the unsigned one is a finding of verify-image-signatures at its line, as at
/// admission; without rules `--verify` is an error.
#[test]
fn verify_checks_signatures_as_the_webhook_does() {
    use gatehouse_signatures::testing::{LoopbackRegistry, key_pair, push_image, sign, tools};
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let registry = LoopbackRegistry::start(root);
    let host = registry.host.clone();
    let (key, pem) = key_pair(root, "release");
    let signed = push_image(root, &host, "shop/web", "v1");
    sign(root, &host, "shop/web", &signed, &key, false);
    push_image(root, &host, "shop/worker", "v1");
    let trivy = FakeTrivy::new(&[
        (&format!("{host}/shop/web:v1"), Answer::Report(DISTROLESS)),
        (&format!("{host}/shop/worker:v1"), Answer::Report(DISTROLESS)),
    ]);
    let manifest = write(
        root,
        "deploy/app.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {host}/shop/web:v1\n        - name: worker\n          image: {host}/shop/worker:v1\n"
        ),
    );
    let indented: String = pem.lines().map(|l| format!("          {l}\n")).collect();
    let config = write(
        root,
        "gatehouse.yaml",
        &format!(
            "imageVerification:\n  plainHttp: [\"{host}\"]\n  rules:\n    - name: shop\n      images: [\"{host}/shop/*\"]\n      keys:\n        - |\n{indented}"
        ),
    );
    let (code, report) = json_images(&[&manifest, "--config", &config, "--verify"], &trivy.path_env());
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["policy"] == "verify-image-signatures")
        .collect();
    assert_eq!(findings.len(), 1, "{report}");
    let finding = findings[0];
    assert!(finding["message"].as_str().unwrap_or("").contains("which is not signed"), "{finding}");
    assert_eq!(finding["path"], "/spec/template/spec/containers/1/image");
    assert_eq!(finding["location"]["line"], 11, "{finding}");
    assert_eq!(finding["image"]["reference"], format!("{host}/shop/worker:v1"));
    assert_eq!(code, 1, "a denying signature finding fails the run: {report}");

    let (code, report) = json_images(&[&manifest, "--verify"], &trivy.path_env());
    assert_eq!(code, 2, "{report}");
    assert!(report["errors"][0]["message"].as_str().unwrap_or("").contains("no imageVerification rules"), "{report}");
}
