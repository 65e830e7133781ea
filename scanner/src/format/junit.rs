//! `--format junit`: one test suite per file, one test case per resource and policy (a failure
//! per finding), and the errors as erroring test cases, for CI systems that show JUnit reports.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{Finding, Report};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report) -> String {
    // file -> (resource, policy) -> findings
    let mut files: BTreeMap<&str, BTreeMap<(String, &str), Vec<&Finding>>> = BTreeMap::new();
    // A finding's case sits in its resource's suite, even when a patch or values file placed
    // the finding elsewhere.
    let mut suite_of: BTreeMap<String, &str> = BTreeMap::new();
    for e in &report.evaluated {
        let subject = e.subject();
        suite_of.insert(subject.clone(), &e.location.file);
        let cases = files.entry(&e.location.file).or_default();
        for p in &e.policies {
            cases.entry((subject.clone(), &**p)).or_default();
        }
    }
    for f in &report.findings {
        let subject = f.subject();
        let file = suite_of.get(&subject).copied().unwrap_or(&f.location.file);
        files.entry(file).or_default().entry((subject, f.policy.as_str())).or_default().push(f);
    }
    let tests: usize = files.values().map(BTreeMap::len).sum::<usize>() + report.errors.len();
    let counts = |f: &&Vec<&Finding>| f.iter().any(|f| f.suppressed.is_none());
    let failures: usize = files.values().flat_map(|c| c.values()).filter(counts).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"policy-scan\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">",
        report.errors.len()
    );
    for (file, cases) in &files {
        let failed = cases.values().filter(counts).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">",
            escape(file),
            cases.len()
        );
        for ((resource, policy), findings) in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
                escape(resource),
                escape(policy),
                escape(file)
            );
            if findings.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            let _ = writeln!(out, " line=\"{}\">", findings[0].location.line);
            let (waived, findings): (Vec<&Finding>, Vec<&Finding>) =
                findings.iter().partition(|f| f.suppressed.is_some());
            if findings.is_empty() {
                let reasons: Vec<&str> =
                    waived.iter().filter_map(|f| f.suppressed.as_ref().map(|s| s.reason.as_str())).collect();
                let _ = writeln!(out, "      <skipped message=\"waived: {}\"/>", escape(&reasons.join("; ")));
                out.push_str("    </testcase>\n");
                continue;
            }
            let detail: Vec<String> = findings
                .iter()
                .map(|f| {
                    format!(
                        "{}:{}:{} {} ({}, {})",
                        f.location.file, f.location.line, f.location.column, f.message, f.severity, f.enforcement
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&findings[0].message),
                findings[0].severity,
                escape(&detail.join("\n"))
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"errors\" tests=\"{0}\" failures=\"0\" errors=\"{0}\">",
            report.errors.len()
        );
        for e in &report.errors {
            let file = e.location.as_ref().map(|l| l.file.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{:?}\"><error message=\"{}\"/></testcase>",
                escape(file),
                e.kind,
                escape(&e.message)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
