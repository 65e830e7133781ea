//! The Markdown summary, for a pull-request comment: the verdict, the totals, the trend, the
//! most violated policies and as many findings as fit. GitHub refuses a comment over 65,536
//! characters; the summary stays under [`LIMIT`] bytes whatever the report holds, every part of
//! it bounded and the findings table cut with a count of what was left out.

use std::fmt::Write as _;

use gatehouse_engine::Enforcement;

use super::escape::{markdown_cell as cell, markdown_code as code, truncate};
use super::input::Finding;
use super::{Analysis, TOP_POLICIES, Verdict, percent};

/// The most bytes the summary takes (so the most characters, too).
pub const LIMIT: usize = 60_000;
/// Errors quoted in the summary; the HTML report lists them all.
const ERRORS_SHOWN: usize = 5;
/// Room kept for the "and N more findings" line.
const MORE_LINE: usize = 240;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn render(a: &Analysis<'_>) -> String {
    let t = &a.totals;
    let mut head = String::new();
    let _ = writeln!(head, "## {}\n", cell(&truncate(&a.options.title, 200)));
    if t.errors > 0 {
        let _ = writeln!(
            head,
            "⚠️ **Incomplete**: {} kept part of the input from being judged; what they concern is neither a pass \
             nor a failure (a scan exits 2).\n",
            plural(t.errors, "error", "errors")
        );
    }
    let verdict = match a.verdict {
        Verdict::Fail | Verdict::Incomplete if t.denied > 0 => format!(
            "❌ **Fails**: {} on {} {} enforced by `deny`: the admission webhook would reject {} \
             (`--fail-on deny`, the default).",
            plural(t.denied, "finding", "findings"),
            plural(t.denied_resources, "resource", "resources"),
            if t.denied == 1 { "is" } else { "are" },
            if t.denied_resources == 1 { "it" } else { "them" },
        ),
        Verdict::Empty => "⚠️ **Nothing was evaluated**: the report holds no resource.".into(),
        Verdict::Incomplete => "No finding is enforced by `deny` in what was evaluated.".into(),
        Verdict::Fail | Verdict::Pass if t.findings == 0 => "✅ **Passes**: no finding counts.".into(),
        Verdict::Fail | Verdict::Pass => format!(
            "✅ **Passes** with `--fail-on deny`: no finding is enforced by `deny`; {} enforced by `warn` or \
             `audit` {} admitted.",
            plural(t.findings, "finding", "findings"),
            if t.findings == 1 { "is" } else { "are" }
        ),
    };
    let _ = writeln!(head, "{verdict}\n");
    head.push_str("| resources | findings | of which deny | suppressed | errors | compliance |\n");
    head.push_str("|---:|---:|---:|---:|---:|---:|\n");
    let compliance =
        t.checks.map_or("n/a".to_string(), |(passed, all)| format!("{} of {all} checks", percent(passed, all)));
    let _ = writeln!(
        head,
        "| {} | {} | {} | {} | {} | {} |\n",
        t.resources, t.findings, t.denied, t.suppressed, t.errors, compliance
    );
    if t.baselined > 0 {
        let _ = writeln!(
            head,
            "The scan ran with `--baseline`: {} already in its baseline {} left out.\n",
            plural(t.baselined, "finding", "findings"),
            if t.baselined == 1 { "is" } else { "are" }
        );
    }
    if let Some(trend) = &a.trend {
        // Findings the scan's own --baseline left out are missing from its report: they cannot
        // be told from fixed ones.
        let fixed = if t.baselined > 0 {
            format!("{} fixed or left out by the scan's `--baseline`", trend.fixed)
        } else {
            format!("{} fixed", trend.fixed)
        };
        let _ = writeln!(
            head,
            "**Against the baseline**: {} new, {fixed}, {} unchanged{}; findings that count {} → {}, of which \
             deny {} → {}.\n",
            trend.new,
            trend.unchanged,
            if trend.now_waived > 0 { format!(", {} waived since", trend.now_waived) } else { String::new() },
            trend.before.findings,
            t.findings,
            trend.before.denied,
            t.denied
        );
    }
    if t.errors > 0 {
        head.push_str("<details><summary>Errors</summary>\n\n");
        for err in a.current.errors.iter().take(ERRORS_SHOWN) {
            let at =
                err.location.as_ref().map(|l| format!("{} ", code(&truncate(&l.to_string(), 160)))).unwrap_or_default();
            let _ = writeln!(head, "- {at}{}", cell(&truncate(&err.message, 300)));
        }
        if t.errors > ERRORS_SHOWN {
            let _ = writeln!(head, "- …and {} more", t.errors - ERRORS_SHOWN);
        }
        head.push_str("\n</details>\n\n");
    }
    let top: Vec<_> = a.most_violated(TOP_POLICIES).collect();
    if !top.is_empty() {
        let _ = writeln!(head, "### Most violated policies\n");
        head.push_str("| policy | severity | enforcement | failing resources | findings |\n|---|---|---|---:|---:|\n");
        for p in &top {
            let failing = match p.resources {
                Some(all) => format!("{} of {all}", p.failing),
                None => p.failing.to_string(),
            };
            let _ = writeln!(
                head,
                "| {} | {} | {} | {failing} | {} |",
                code(&truncate(p.id, 80)),
                p.severity.map_or("unknown", |s| s.as_str()),
                p.enforcement.map_or("unknown", |e| e.as_str()),
                p.findings
            );
        }
        head.push('\n');
    }
    let lenient: Vec<_> = a.would_deny().collect();
    if !lenient.is_empty() {
        let listed: Vec<String> = lenient
            .iter()
            .take(TOP_POLICIES)
            .map(|p| format!("{} ({})", code(&truncate(p.id, 80)), plural(p.lenient_failing, "resource", "resources")))
            .collect();
        let more = lenient.len().saturating_sub(TOP_POLICIES);
        let _ = writeln!(
            head,
            "> **Switching to `deny` would reject existing resources**: {}{}.\n",
            listed.join(", "),
            if more > 0 { format!(" and {more} more policies") } else { String::new() }
        );
    }

    let tail = format!(
        "\n<sub>`policy-scan report` of {}{}, generated {}.</sub>\n",
        code(&truncate(&a.options.source, 160)),
        a.options
            .baseline_source
            .as_deref()
            .map(|b| format!(" against {}", code(&truncate(b, 160))))
            .unwrap_or_default(),
        cell(&truncate(&a.options.generated, 60))
    );

    let mut out = head;
    let counting: Vec<usize> = (0..a.current.findings.len()).filter(|&i| a.current.findings[i].counts()).collect();
    if !counting.is_empty() {
        findings_table(&mut out, a, counting, tail.len());
    }
    out.push_str(&tail);
    out
}

/// The findings that count, most urgent first (new ones first against a baseline), as many as
/// the size limit leaves room for.
fn findings_table(out: &mut String, a: &Analysis<'_>, mut order: Vec<usize>, tail: usize) {
    let findings = &a.current.findings;
    let trend = a.trend.is_some();
    order.sort_by(|&x, &y| {
        let (fx, fy) = (&findings[x], &findings[y]);
        let urgency = |i: usize, f: &Finding| {
            (!a.new_finding(i), f.enforcement != Enforcement::Deny, std::cmp::Reverse(f.severity))
        };
        (urgency(x, fx), &fx.policy, fx.subject_key(), &fx.location).cmp(&(
            urgency(y, fy),
            &fy.policy,
            fy.subject_key(),
            &fy.location,
        ))
    });
    let _ = writeln!(out, "### Findings ({})\n", order.len());
    if trend {
        out.push_str("| trend | policy | severity | resource | location | message |\n|---|---|---|---|---|---|\n");
    } else {
        out.push_str("| policy | severity | resource | location | message |\n|---|---|---|---|---|\n");
    }
    let budget = LIMIT.saturating_sub(tail + MORE_LINE);
    let mut shown = 0;
    let mut row = String::new();
    for &i in &order {
        let f = &findings[i];
        row.clear();
        if trend {
            row.push_str(if a.new_finding(i) { "| **new** " } else { "| " });
        }
        let _ = writeln!(
            row,
            "| {} | {} · {} | {} | {} | {} |",
            code(&truncate(&f.policy, 80)),
            f.severity,
            f.enforcement,
            cell(&truncate(&f.subject(), 160)),
            code(&truncate(&f.location.to_string(), 160)),
            cell(&truncate(&f.message, 300))
        );
        if out.len() + row.len() > budget {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    let more = order.len() - shown;
    if more > 0 {
        let _ = writeln!(
            out,
            "\n…and {more} more {} (a pull-request comment is limited in size: the HTML report lists them all).",
            if more == 1 { "finding" } else { "findings" }
        );
    }
}
