//! `policy-scan report` end to end: real scans of the repository's examples turned into the HTML
//! report and the Markdown summary, with and without a baseline, and the errors on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn policy_scan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy-scan")).current_dir(repo()).args(args).output().expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Scans `paths` into a JSON report at `out`, and reads it back.
fn scan(out: &Path, extra: &[&str], paths: &[&str]) -> Value {
    let format = format!("json={}", out.display());
    let mut args = vec!["scan", "--today", "2025-06-01", "--format", &format, "--format", "human=/dev/null"];
    args.extend_from_slice(extra);
    args.extend_from_slice(paths);
    let run = policy_scan(&args);
    assert!(matches!(run.status.code(), Some(0..=2)), "{}", text(&run.stderr));
    serde_json::from_str(&std::fs::read_to_string(out).expect("the JSON report")).expect("JSON")
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

/// The number a `data-total` element shows.
fn total(html: &str, key: &str) -> u64 {
    let marker = format!("data-total=\"{key}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no data-total={key}")) + marker.len();
    html[start..].split('<').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("data-total={key}"))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const WAIVERS: &str = "waivers:\n  - policy: require-probes\n    resource: {kind: Deployment, namespace: legacy, name: billing}\n    reason: \"no <health> endpoint & \\\"never\\\" will\"\n    expires: 2099-12-31\n    ticket: SEC-1\n";

#[test]
fn a_scan_becomes_an_html_report_and_a_markdown_summary_with_the_same_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let waivers = write(dir.path(), "waivers.yaml", WAIVERS);
    let json_path = dir.path().join("scan.json");
    let report = scan(&json_path, &["--waivers", &waivers.display().to_string()], &["examples/"]);
    let summary = &report["summary"];
    assert_eq!(summary["suppressed"], 2, "the two probes of billing are waived");

    // The per-policy table is there for every policy evaluated, passing ones with their metadata.
    let policies = summary["policies"].as_object().expect("summary.policies");
    let bucket = &policies["bucket-not-public"];
    assert_eq!((bucket["severity"].as_str(), bucket["failing"].as_u64()), (Some("critical"), Some(0)));
    assert!(bucket["title"].is_string() && bucket["guideline"]["section"].is_string(), "{bucket}");
    let probes = &policies["require-probes"];
    assert_eq!(
        (probes["failing"].as_u64(), probes["findings"].as_u64(), probes["suppressed"].as_u64()),
        (Some(0), Some(0), Some(2))
    );
    let pss = &policies["pod-security-restricted"];
    assert_eq!(
        (pss["resources"].as_u64(), pss["failing"].as_u64(), pss["findings"].as_u64()),
        (Some(2), Some(1), Some(6))
    );
    assert_eq!(summary["namespaces"]["legacy"], serde_json::json!({"resources": 1, "failing": 1, "findings": 20}));
    assert_eq!(summary["namespaces"]["shop"]["failing"], 0);

    let html_path = dir.path().join("report.html");
    let md_path = dir.path().join("report.md");
    let json_arg = json_path.display().to_string();
    let html_arg = html_path.display().to_string();
    let md_arg = md_path.display().to_string();
    let args = [
        "report",
        &json_arg,
        "--html",
        &html_arg,
        "--markdown",
        &md_arg,
        "--generated",
        "2025-06-01 09:00 UTC",
        "--title",
        "Examples",
    ];
    let run = policy_scan(&args);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(run.stdout.is_empty(), "the outputs went to their files");
    let html = std::fs::read_to_string(&html_path).expect("html");
    for key in ["findings", "suppressed", "resources", "errors"] {
        assert_eq!(total(&html, key), summary[key].as_u64().expect("count"), "{key}");
    }
    assert!(!html.contains("data-total=\"new\""), "no trend without a baseline");
    assert!(html.contains("<title>Examples</title>") && html.contains("2025-06-01 09:00 UTC"));
    // Every finding is there with its location, field and message; the waived ones with their reason.
    for f in report["findings"].as_array().expect("findings") {
        let l = &f["location"];
        let location = format!("{}:{}:{}", l["file"].as_str().expect("file"), l["line"], l["column"]);
        assert!(html.contains(&escape(&location).replace('/', "/<wbr>")), "{location}");
        assert!(html.contains(&escape(f["message"].as_str().expect("message"))), "{f}");
        let path = f["path"].as_str().expect("path");
        assert!(path.is_empty() || html.contains(&escape(path).replace('/', "/<wbr>")), "{path}");
    }
    assert!(html.contains("no &lt;health&gt; endpoint &amp; &quot;never&quot; will"), "the waiver's reason, escaped");
    assert!(html.contains("<svg") && html.contains("Compliance by guideline section"));
    // The same input gives the same report.
    let again = policy_scan(&args);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&html_path).expect("html"), html, "deterministic");

    let md = std::fs::read_to_string(&md_path).expect("markdown");
    let deny = summary["byEnforcement"]["deny"].as_u64().expect("deny");
    assert!(md.starts_with("## Examples\n"), "{md}");
    assert!(md.contains(&format!("❌ **Fails**: {deny} findings on 3 resources are enforced by `deny`")), "{md}");
    assert!(md.contains(&format!("| {} | {} | {deny} | 2 | 0 |", summary["resources"], summary["findings"])), "{md}");
    assert!(md.contains("| `pod-security-restricted` | critical | deny | 1 of 2 | 6 |"), "{md}");
    assert!(md.contains("| `database-private-network` | critical · deny | aws\\_db\\_instance.billing | `examples/legacy/terraform/main.tf:20:3` |"), "{md}");

    // Without --html and --markdown, the Markdown goes to standard output.
    let run = policy_scan(&["report", &json_arg, "--generated", "2025-06-01 09:00 UTC", "--title", "Examples"]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(text(&run.stdout), md);
}

#[test]
fn against_a_baseline_the_report_shows_what_is_new_and_what_was_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = dir.path().join("baseline.json");
    let before = scan(&baseline, &[], &["examples/legacy"]);
    // One finding fixed (the host port), one new (running as root).
    let app = std::fs::read_to_string(repo().join("examples/legacy/app.yaml"))
        .expect("example")
        .replace("              hostPort: 8080\n", "")
        .replace("privileged: true", "privileged: true\n            runAsUser: 0");
    let changed = write(dir.path(), "app.yaml", &app);
    let current = dir.path().join("current.json");
    let after = scan(&current, &[], &[&changed.display().to_string(), "examples/legacy/terraform"]);
    assert_eq!(before["summary"]["findings"], after["summary"]["findings"]);

    let html_path = dir.path().join("trend.html");
    let run = policy_scan(&[
        "report",
        &current.display().to_string(),
        "--baseline",
        &baseline.display().to_string(),
        "--html",
        &html_path.display().to_string(),
        "--markdown",
        &dir.path().join("trend.md").display().to_string(),
        "--generated",
        "now",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let html = std::fs::read_to_string(&html_path).expect("html");
    assert_eq!((total(&html, "new"), total(&html, "fixed")), (1, 1));
    assert!(html.contains("Trend against the baseline"));
    assert!(html.contains("<h3>Fixed since the baseline (1)</h3>"), "the fixed finding is listed");
    assert!(html.contains("must not use host port 8080"));
    assert_eq!(html.matches("<span class=\"badge new\">new</span>").count(), 1, "the new finding is marked");
    let md = std::fs::read_to_string(dir.path().join("trend.md")).expect("markdown");
    assert!(md.contains("**Against the baseline**: 1 new, 1 fixed, 29 unchanged; findings that count 30 → 30"), "{md}");
    let first_row = md.lines().find(|l| l.starts_with("| **new** | ") || l.starts_with("| | ")).expect("a row");
    assert!(
        first_row.starts_with("| **new** | `pod-security-restricted` |") && first_row.contains("runAsUser"),
        "{first_row}"
    );
}

#[test]
fn a_report_that_cannot_be_read_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.json");
    scan(&good, &[], &["examples/shop"]);
    let good = good.display().to_string();
    let missing = dir.path().join("missing.json").display().to_string();
    let invalid = write(dir.path(), "invalid.json", "{\"version\": 1,\n  \"summary\": }").display().to_string();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&good).expect("read")).expect("json");
    let mut future = report.clone();
    future["version"] = Value::from(2);
    let future = write(dir.path(), "future.json", &future.to_string()).display().to_string();
    let mut wrong = report.clone();
    wrong["summary"]["resources"] = Value::from("many");
    let wrong = write(dir.path(), "wrong.json", &wrong.to_string()).display().to_string();
    let sarif = write(dir.path(), "sarif.json", "{\"version\": \"2.1.0\", \"runs\": []}").display().to_string();

    let cases: [(&[&str], String); 7] = [
        (&["report", &missing], format!("error: {missing}: cannot read:")),
        (&["report", &invalid], format!("error: {invalid}:2:14: not valid JSON")),
        (&["report", &future], format!("error: {future}: version: 2 is not a report version this policy-scan reads")),
        (&["report", &wrong], format!("error: {wrong}: summary.resources: invalid type: string \"many\"")),
        (&["report", &sarif], format!("error: {sarif}: version: \"2.1.0\" is not a report version")),
        (&["report", &good, "--baseline", &invalid], format!("error: {invalid}:2:14: not valid JSON")),
        (
            &["report", &good, "--html", "/nonexistent-dir/r.html"],
            "error: cannot write /nonexistent-dir/r.html:".into(),
        ),
    ];
    for (args, expected) in cases {
        let run = policy_scan(args);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(&expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
