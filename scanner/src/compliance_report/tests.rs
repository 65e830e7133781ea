use std::path::Path;

use serde_json::{Value, json};

use super::input::{self, Document, ReadError};
use super::*;

fn finding(policy: &str, name: &str, path: &str) -> Value {
    json!({
        "policy": policy, "severity": "high", "enforcement": "deny", "message": format!("{policy} fails on {name}"),
        "path": path, "location": {"file": "deploy/app.yaml", "line": 3, "column": 5}, "exact": true,
        "resource": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": name},
        "remediation": format!("fix {policy}"),
        "guideline": {"section": "Security", "bullet": "b"},
    })
}

fn waived(mut f: Value) -> Value {
    f["suppressed"] = json!({"reason": "r", "expires": "2999-01-01", "waiver": {"file": "w.yaml", "line": 1, "column": 1}, "annotation": false});
    f
}

fn document(findings: Vec<Value>, policies: Value, namespaces: Value) -> Value {
    let counting = findings.iter().filter(|f| f.get("suppressed").is_none()).count();
    json!({
        "version": 1, "tool": "policy-scan",
        "summary": {
            "files": 1, "documents": 3, "emptyDocuments": 0, "resources": 3, "skippedDocuments": 0,
            "findings": counting, "suppressed": findings.len() - counting, "baselined": 0,
            "bySeverity": {}, "byEnforcement": {}, "errors": 0,
            "policies": policies, "namespaces": namespaces,
        },
        "findings": findings, "errors": [], "skipped": [], "waivers": {"expired": []},
    })
}

fn parse(value: &Value) -> Result<Document, ReadError> {
    input::parse(Path::new("reports/scan.json"), &value.to_string())
}

fn doc(value: &Value) -> Document {
    parse(value).unwrap_or_else(|e| panic!("{e}"))
}

fn options() -> Options {
    Options {
        title: "Report".into(),
        generated: "2025-01-01 00:00:00 UTC".into(),
        source: "scan.json".into(),
        baseline_source: None,
    }
}

#[test]
fn unreadable_reports_are_refused_with_the_file_and_the_field() {
    let syntax = input::parse(Path::new("r.json"), "{\n  \"version\": 1,\n  oops").expect_err("syntax");
    assert!(syntax.to_string().starts_with("r.json:3:3: not valid JSON"), "{syntax}");

    let mut wrong = document(vec![finding("probes", "web", "/a")], json!({}), json!({}));
    wrong["version"] = json!(2);
    let e = parse(&wrong).expect_err("version");
    assert_eq!(
        e.to_string(),
        "reports/scan.json: version: 2 is not a report version this policy-scan reads (it reads version 1)"
    );

    let e = input::parse(Path::new("r.json"), "[1, 2]").expect_err("array");
    assert!(e.to_string().contains("r.json: not a policy-scan JSON report"), "{e}");
    let e = input::parse(Path::new("r.json"), "{\"summary\": {}}").expect_err("no version");
    assert!(e.to_string().contains("no \"version\" field"), "{e}");

    let mut shape =
        document(vec![finding("probes", "web", "/a"), finding("probes", "api", "/a")], json!({}), json!({}));
    shape["findings"][1]["severity"] = json!("urgent");
    let e = parse(&shape).expect_err("severity");
    assert!(e.to_string().starts_with("reports/scan.json: findings[1].severity: unknown variant `urgent`"), "{e}");
    shape["findings"][1]["severity"] = json!("high");
    shape["findings"][0]["location"].as_object_mut().expect("location").remove("line");
    let e = parse(&shape).expect_err("line");
    assert!(e.to_string().starts_with("reports/scan.json: findings[0].location: missing field `line`"), "{e}");

    let mut inconsistent = document(vec![finding("probes", "web", "/a")], json!({}), json!({}));
    inconsistent["summary"]["findings"] = json!(7);
    let e = parse(&inconsistent).expect_err("totals");
    assert!(e.to_string().contains("summary.findings is 7, but the report lists 1 findings"), "{e}");
    let mut impossible =
        document(vec![], json!({"probes": {"resources": 1, "failing": 2, "findings": 0, "suppressed": 0}}), json!({}));
    impossible["summary"]["findings"] = json!(0);
    assert!(parse(&impossible).expect_err("failing > resources").to_string().contains("summary.policies.probes"));
}

#[test]
fn unknown_fields_are_tolerated_within_a_version() {
    let mut d = document(vec![finding("probes", "web", "/a")], json!({}), json!({}));
    d["future"] = json!({"anything": true});
    d["findings"][0]["fingerprint"] = json!("x");
    assert_eq!(doc(&d).findings.len(), 1);
}

#[test]
fn findings_are_keyed_as_baselines_key_them() {
    // A finding of the real model, through the JSON format, keeps its key: the trend and
    // `--baseline` match the same findings.
    use crate::report::{Finding as Model, Location as ModelLocation, Report, Resource as ModelResource};
    use std::sync::Arc;
    let model = Model {
        policy: "probes".into(),
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        message: "m".into(),
        path: "/spec/x".into(),
        location: ModelLocation { file: "f".into(), line: 1, column: 1 },
        exact: true,
        resource: ModelResource { api_version: "v1".into(), kind: "Pod".into(), namespace: None, name: "p".into() },
        remediation: Arc::from(""),
        guideline: None,
        suppressed: None,
        rendered: Some(crate::render::Rendered {
            renderer: crate::render::Renderer::Helm,
            root: "chart".into(),
            values: vec!["a.yaml".into(), "b.yaml".into()],
            command: "helm template".into(),
            hook: None,
            document: ModelLocation { file: "helm template".into(), line: 1, column: 1 },
            related: Vec::new(),
        }),
        image: None,
    };
    // Two vulnerabilities of one image at one field are two findings.
    let vulnerability = |id: &str| {
        let mut finding = model.clone();
        finding.rendered = None;
        finding.image = Some(crate::report::ImageFinding {
            reference: "registry.example/shop/api:1.4.2".into(),
            vulnerability: Some(crate::report::Vulnerability {
                id: id.into(),
                severity: "HIGH".into(),
                pkg_name: "openssl".into(),
                installed_version: "3.0.2".into(),
                fixed_version: "3.0.3".into(),
                status: "fixed".into(),
                title: String::new(),
                primary_url: String::new(),
                target: "api (ubuntu 22.04)".into(),
            }),
        });
        finding
    };
    let models = [model.clone(), vulnerability("CVE-2023-0286"), vulnerability("CVE-2023-0464")];
    let mut report = Report { findings: models.to_vec(), ..Report::default() };
    report.finish();
    let read = input::parse(Path::new("r.json"), &crate::format::json::render(&report)).expect("reads");
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), crate::format::json::render(&report)).expect("write");
    let keys = crate::baseline::load(file.path()).expect("a baseline");
    assert_eq!(keys.len(), 3, "{keys:?}");
    for model in &models {
        let read = read.findings.iter().find(|f| f.key() == model.key()).expect("read with the same key");
        assert!(keys.contains(&read.key()));
    }
}

#[test]
fn the_trend_matches_findings_by_key_and_a_waiver_is_no_fix() {
    let baseline = doc(&document(
        vec![finding("probes", "web", "/a"), finding("probes", "api", "/a"), finding("limits", "web", "/c")],
        json!({}),
        json!({}),
    ));
    let current = doc(&document(
        vec![
            finding("probes", "web", "/a"),
            // Same policy and resource, another field: new.
            finding("probes", "web", "/b"),
            waived(finding("limits", "web", "/c")),
        ],
        json!({}),
        json!({}),
    ));
    let a = Analysis::new(&current, Some(&baseline), options());
    let trend = a.trend.as_ref().expect("trend");
    assert_eq!((trend.new, trend.unchanged, trend.fixed, trend.now_waived), (1, 1, 1, 1));
    assert_eq!(trend.fixed_findings.len(), 1);
    assert_eq!(trend.fixed_findings[0].resource.name, "api");
    assert_eq!((trend.before.findings, a.totals.findings), (3, 2));
    let new: Vec<&str> =
        (0..current.findings.len()).filter(|&i| a.new_finding(i)).map(|i| current.findings[i].path.as_str()).collect();
    assert_eq!(new, ["/b"]);
}

#[test]
fn compliance_is_computed_from_the_per_policy_summary() {
    let policies = json!({
        "probes": {"severity": "high", "enforcement": "deny", "guideline": {"section": "Security", "bullet": "b"},
                   "resources": 4, "failing": 1, "findings": 2, "suppressed": 0},
        "limits": {"severity": "medium", "enforcement": "warn", "guideline": {"section": "Security", "bullet": "c"},
                   "resources": 4, "failing": 0, "findings": 0, "suppressed": 0},
        "backups": {"severity": "high", "guideline": {"section": "Disaster Recovery", "bullet": "d"},
                    "resources": 2, "failing": 2, "findings": 2, "suppressed": 0},
        "legacy": {"resources": 1, "failing": 0, "findings": 0, "suppressed": 0},
    });
    let findings = vec![
        finding("probes", "web", "/a"),
        finding("probes", "web", "/b"),
        finding("backups", "db", "/x"),
        finding("backups", "db2", "/x"),
    ];
    let d = doc(&document(findings, policies, json!({"shop": {"resources": 3, "failing": 2, "findings": 4}})));
    let a = Analysis::new(&d, None, options());
    assert_eq!(a.totals.checks, Some((8, 11)));
    let rows: Vec<(&str, usize, usize)> = a.sections.iter().map(|r| (r.label.as_str(), r.passed, r.failed)).collect();
    assert_eq!(rows, [("Disaster Recovery", 0, 2), ("Security", 7, 1), ("(no guideline)", 1, 0)]);
    let severities: Vec<(&str, usize, usize)> =
        a.severities.iter().map(|r| (r.label.as_str(), r.passed, r.failed)).collect();
    assert_eq!(severities, [("high", 3, 3), ("medium", 4, 0), ("unknown", 1, 0)]);
    let top: Vec<&str> = a.most_violated(10).map(|p| p.id).collect();
    assert_eq!(top, ["backups", "probes"], "by failing resources; passing policies are not violated");
    assert_eq!(a.policies[0].remediation, "fix backups");
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!((a.totals.denied, a.totals.denied_resources), (4, 3));
    assert_eq!(a.outside_namespaces, 0);
}

#[test]
fn namespaces_are_bounded_with_the_others_summed() {
    let namespaces: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("ns-{i:02}"), json!({"resources": 10, "failing": i % 7, "findings": i % 7})))
        .chain(std::iter::once((CLUSTER_SCOPED.to_string(), json!({"resources": 5, "failing": 0}))))
        .collect();
    let d = doc(&document(vec![], json!({}), Value::Object(namespaces)));
    let a = Analysis::new(&d, None, options());
    assert_eq!(a.namespace_count, 21);
    assert_eq!(a.namespaces.len(), TOP_NAMESPACES + 1);
    let others = a.namespaces.last().expect("others");
    assert_eq!(others.label, "9 other namespaces");
    let total: usize = a.namespaces.iter().map(Row::total).sum();
    let failing: usize = a.namespaces.iter().map(|r| r.failed).sum();
    assert_eq!((total, failing), (205, (0..20).map(|i| i % 7).sum()));
    assert_eq!(a.namespaces[0].failed, 6, "most failing first");
    assert!(a.namespaces.iter().all(|r| r.label != CLUSTER_SCOPED));
}

#[test]
fn percentages_never_round_up_to_compliance() {
    assert_eq!(percent(1999, 2000), "99.9%");
    assert_eq!(percent(9999, 10000), "99.9%");
    assert_eq!(percent(2, 3), "66.6%");
    assert_eq!(percent(1, 3000), "<0.1%");
    assert_eq!(percent(0, 3), "0.0%");
    assert_eq!(percent(5, 5), "100.0%");
    assert_eq!(percent(0, 0), "n/a");
}

#[test]
fn warn_findings_are_called_out_as_what_deny_would_reject() {
    let mut warn = finding("digest", "web", "/image");
    warn["enforcement"] = json!("warn");
    let mut warn_again = finding("digest", "web", "/initImage");
    warn_again["enforcement"] = json!("warn");
    // The same policy denies in another namespace (an override): that resource is rejected today.
    let denied = finding("digest", "api", "/image");
    let d = doc(&document(vec![warn, warn_again, denied], json!({}), json!({})));
    let a = Analysis::new(&d, None, options());
    let lenient: Vec<(&str, usize)> = a.would_deny().map(|p| (p.id, p.lenient_failing)).collect();
    assert_eq!(lenient, [("digest", 1)]);
    assert_eq!(a.policies[0].failing, 2, "counted from the findings when the summary has no table");
    assert_eq!(a.policies[0].resources, None);
}

#[test]
fn the_verdict_is_that_of_fail_on_deny() {
    let mut warn = finding("digest", "web", "/image");
    warn["enforcement"] = json!("warn");
    let d = doc(&document(vec![warn.clone()], json!({}), json!({})));
    assert_eq!(Analysis::new(&d, None, options()).verdict, Verdict::Pass);
    let mut broken = document(vec![warn], json!({}), json!({}));
    broken["errors"] = json!([{"kind": "parse", "message": "bad"}]);
    broken["summary"]["errors"] = json!(1);
    let d = doc(&broken);
    let a = Analysis::new(&d, None, options());
    assert_eq!(a.verdict, Verdict::Incomplete);
    assert!(html::render(&a).contains("Incomplete report"));
    assert!(markdown::render(&a).contains("**Incomplete**"));
}

fn hostile() -> Document {
    let mut f = finding("probes", "web", "/a");
    f["message"] = json!("<script>alert(\"x\")</script> it's | a\nmessage & more");
    f["resource"]["name"] = json!("<img src=x onerror=alert(1)>");
    f["location"]["file"] = json!("\"quoted\" 'file'.yaml");
    f["remediation"] = json!("<b>bold</b> & \"quotes\"");
    let mut w = waived(finding("limits", "web", "/b"));
    w["suppressed"]["reason"] = json!("<script>reason</script>");
    let mut d = document(vec![f, w], json!({}), json!({}));
    d["errors"] = json!([{"kind": "parse", "message": "<script>error</script>", "location": {"file": "<x>", "line": 1, "column": 1}}]);
    d["summary"]["errors"] = json!(1);
    doc(&d)
}

#[test]
fn every_text_of_the_report_is_escaped_in_html() {
    let d = hostile();
    let mut o = options();
    o.title = "<script>title</script> \"q\"".into();
    let page = html::render(&Analysis::new(&d, None, o));
    assert!(!page.contains("<script"), "a script tag got through");
    assert!(!page.contains("<img"), "an image tag got through");
    assert!(!page.contains("<b>bold"), "markup of the remediation got through");
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; it&#39;s | a\nmessage &amp; more"));
    assert!(page.contains("&lt;script&gt;reason&lt;/script&gt;"));
    assert!(page.contains("<title>&lt;script&gt;title&lt;/script&gt; &quot;q&quot;</title>"));
    assert!(page.contains("&quot;quoted&quot; &#39;file&#39;.yaml"));
}

#[test]
fn the_html_is_self_contained() {
    let d = hostile();
    let page = html::render(&Analysis::new(&d, Some(&d), options()));
    for (i, _) in page.match_indices("href=") {
        assert!(page[i..].starts_with("href=\"#"), "an outside link: {}", &page[i..i + 60]);
    }
    assert!(!page.contains("src=\"") && !page.contains("src='"), "nothing is loaded");
    assert!(!page.contains("@import") && !page.contains("url("), "no stylesheet or font is fetched");
    assert!(!page.contains("<script"), "no script");
    // The only URLs are the SVG namespace names, which are never fetched.
    let urls: Vec<&str> = page.match_indices("http").map(|(i, _)| &page[i..i + 26]).collect();
    assert!(urls.iter().all(|u| u.starts_with("http://www.w3.org/2000/svg")), "{urls:?}");
}

#[test]
fn the_html_marks_the_totals_for_machines() {
    let d = hostile();
    let a = Analysis::new(&d, Some(&d), options());
    let page = html::render(&a);
    for (key, value) in [("findings", 1), ("suppressed", 1), ("errors", 1), ("resources", 3), ("new", 0), ("fixed", 0)]
    {
        assert!(page.contains(&format!("data-total=\"{key}\">{value}<")), "{key}");
    }
}

/// `n` findings on `n / 3` resources, with long messages full of Markdown syntax.
fn many(n: usize) -> Document {
    let findings: Vec<Value> = (0..n)
        .map(|i| {
            let mut f = finding(&format!("policy-{}", i % 40), &format!("workload-{}", i / 3), &format!("/spec/{i}"));
            f["message"] = json!(format!("{i} | a message with | pipes,\nnewlines and `code` {}", "x".repeat(i % 500)));
            if i % 5 == 0 {
                f["enforcement"] = json!("warn");
            }
            f
        })
        .collect();
    doc(&document(findings, json!({}), json!({})))
}

/// The unescaped pipes of a Markdown line: the cell separators.
fn separators(line: &str) -> usize {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'|' && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0)
        .count()
}

#[test]
fn the_markdown_stays_under_the_comment_limit_whatever_the_input() {
    let d = many(4000);
    let md = markdown::render(&Analysis::new(&d, Some(&many(10)), options()));
    assert!(md.len() <= markdown::LIMIT, "{} bytes", md.len());
    assert!(md.len() > markdown::LIMIT - 4000, "the room is used: {} bytes", md.len());
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| **new** | ") || l.starts_with("| | ")).collect();
    let more: usize = md
        .lines()
        .find_map(|l| l.strip_prefix("…and ").and_then(|rest| rest.split(' ').next()).and_then(|n| n.parse().ok()))
        .expect("the cut is said");
    assert_eq!(rows.len() + more, 4000 - 10 + 10, "every finding is shown or counted");
    // Every row of the findings table has its 7 cells: no pipe or newline of a message broke it.
    for row in &rows {
        assert_eq!(separators(row), 7, "{row}");
    }

    // Whatever is long: the title, error messages, policy names.
    let mut huge = document(vec![], json!({}), json!({}));
    let findings: Vec<Value> = (0..300)
        .map(|i| {
            let mut f = finding(&format!("{}-{i}", "p".repeat(5000)), &"n".repeat(5000), &"/x".repeat(3000));
            f["message"] = json!("<&>|".repeat(20_000));
            f["location"]["file"] = json!("`|".repeat(5000));
            f
        })
        .collect();
    huge["summary"]["findings"] = json!(findings.len());
    huge["findings"] = Value::Array(findings);
    let errors: Vec<Value> = (0..500).map(|_| json!({"kind": "read", "message": "&".repeat(100_000)})).collect();
    huge["summary"]["errors"] = json!(errors.len());
    huge["errors"] = Value::Array(errors);
    let d = doc(&huge);
    let mut o = options();
    o.title = "|".repeat(1_000_000);
    o.source = "`".repeat(100_000);
    let md = markdown::render(&Analysis::new(&d, None, o));
    assert!(md.len() <= markdown::LIMIT, "{} bytes", md.len());
    assert!(md.contains("more findings"));
}

#[test]
fn the_markdown_has_the_verdict_totals_trend_and_tables() {
    let current = many(30);
    let baseline = many(12);
    let md = markdown::render(&Analysis::new(&current, Some(&baseline), options()));
    assert!(md.starts_with("## Report\n"), "{md}");
    assert!(md.contains("❌ **Fails**: 24 findings on 10 resources are enforced by `deny`"), "{md}");
    assert!(md.contains("| 3 | 30 | 24 | 0 | 0 | n/a |"), "{md}");
    assert!(
        md.contains("**Against the baseline**: 18 new, 0 fixed, 12 unchanged; findings that count 12 → 30"),
        "{md}"
    );
    assert!(md.contains("### Most violated policies"), "{md}");
    assert!(md.contains("> **Switching to `deny` would reject existing resources**"), "{md}");
    assert!(!md.contains("more findings"), "30 findings fit");
    // New findings come first.
    let first = md.lines().find(|l| l.starts_with("| **new** ") || l.starts_with("| | ")).expect("a row");
    assert!(first.starts_with("| **new** "), "{first}");
}

#[test]
fn the_html_grows_linearly_with_the_findings() {
    let small = html::render(&Analysis::new(&many(1000), None, options())).len();
    let started = std::time::Instant::now();
    let large = html::render(&Analysis::new(&many(10_000), None, options())).len();
    let ratio = large as f64 / small as f64;
    assert!((8.0..12.0).contains(&ratio), "1,000 findings: {small} bytes; 10,000: {large} bytes");
    assert!(large < 10_000 * 1500, "{large} bytes for 10,000 findings");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn the_default_generation_time_is_utc() {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    assert_eq!(utc_timestamp(t), "2023-11-14 22:13:20 UTC");
}

#[test]
fn a_scan_that_left_its_baseline_out_does_not_claim_those_findings_fixed() {
    let baseline =
        doc(&document(vec![finding("probes", "web", "/a"), finding("probes", "api", "/a")], json!({}), json!({})));
    let mut current = document(vec![], json!({}), json!({}));
    current["summary"]["baselined"] = json!(2);
    let current = doc(&current);
    let a = Analysis::new(&current, Some(&baseline), options());
    let text = markdown::render(&a);
    assert!(text.contains("2 fixed or left out by the scan's `--baseline`"), "{text}");
    let plain = doc(&document(vec![], json!({}), json!({})));
    let text = markdown::render(&Analysis::new(&plain, Some(&baseline), options()));
    assert!(text.contains("2 fixed,"), "{text}");
}
