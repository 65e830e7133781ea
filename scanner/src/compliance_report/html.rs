//! The HTML report: one file, inline CSS and SVG, no script and no external reference, readable
//! on screen and on paper. Its totals carry `data-total` attributes for machines (tests read
//! them from the rendered DOM).

use std::fmt::Write as _;

use gatehouse_engine::{Enforcement, Severity};

use super::escape::html as e;
use super::input::{Finding, Location};
use super::{Analysis, PolicyRow, Row, TOP_NAMESPACES, TOP_POLICIES, Verdict, percent, svg};

const STYLE: &str = r#"
:root { --fg: #1c2330; --muted: #5a6473; --line: #d8dde6; --soft: #f4f6f9; --accent: #1f4e8c;
  --pass: #2f7d46; --fail: #c0392b; --warn: #b26a00; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 32px 40px 56px; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 14px; }
h1 { font-size: 28px; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 21px; margin: 44px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 30px 0 4px; }
p { margin: 6px 0 10px; }
a { color: var(--accent); }
.meta, .note { color: var(--muted); font-size: 13.5px; }
.meta dt { float: left; clear: left; width: 110px; font-weight: 600; }
.meta dd { margin: 0 0 2px 110px; }
code { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  overflow-wrap: anywhere; }
.banner { padding: 12px 18px; border-radius: 6px; margin: 18px 0; border-left: 6px solid; font-size: 15.5px; }
.banner.fail { background: #fdecea; border-color: var(--fail); }
.banner.pass { background: #e8f4eb; border-color: var(--pass); }
.banner.incomplete { background: #fff1dc; border-color: #e67e22; }
.banner.info { background: #eef3fa; border-color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(126px, 1fr)); gap: 12px; margin: 18px 0 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: var(--soft); }
.card .num { display: block; font-size: 27px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.25; }
.card .what { color: var(--muted); font-size: 13px; }
.card.bad .num { color: var(--fail); }
.card.good .num { color: var(--pass); }
nav.toc { font-size: 13.5px; margin: 12px 0 0; }
nav.toc a { margin-right: 14px; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 8px 0 18px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfd; }
table.fixed { table-layout: fixed; }
table.fixed td { overflow-wrap: anywhere; }
table.fixed th { white-space: normal; }
table.compact { width: auto; min-width: 62%; }
table.compact td:first-child { padding-right: 40px; }
.banner code { white-space: nowrap; }
.small { font-size: 12px; color: var(--muted); }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 11.5px; font-weight: 600;
  line-height: 18px; white-space: nowrap; vertical-align: 1px; }
.sev { color: #fff; }
.sev-critical { background: #6c1d8f; } .sev-high { background: #c0392b; } .sev-medium { background: #c75a00; }
.sev-low { background: #2471a3; } .sev-info { background: #5f7480; } .sev-unknown { background: #8d8d8d; }
.enf { border: 1px solid currentColor; }
.enf-deny { color: var(--fail); } .enf-warn { color: var(--warn); } .enf-audit { color: var(--muted); }
.new { background: #fdecea; color: var(--fail); border: 1px solid var(--fail); }
.callout { border: 1px solid #f0c36d; background: #fff8e6; border-radius: 6px; padding: 10px 16px; margin: 12px 0 18px; }
.callout h3 { margin-top: 4px; }
.remediation { background: var(--soft); border-left: 3px solid var(--accent); padding: 8px 12px; margin: 8px 0;
  font-size: 14px; }
article.policy { margin-bottom: 10px; }
svg.chart { display: block; width: 100%; max-width: 760px; height: auto; margin: 10px 0 4px; }
svg.chart text { font-family: inherit; }
svg .label { font-size: 13px; fill: #1c2330; }
svg .value { font-size: 12.5px; fill: #1c2330; font-variant-numeric: tabular-nums; }
svg .muted { fill: #5a6473; }
svg .tick { font-size: 11px; fill: #5a6473; }
svg .grid { stroke: #d8dde6; stroke-dasharray: 2 3; }
svg .inbar { font-size: 11px; fill: #fff; font-weight: 600; }
.legend { font-size: 12.5px; color: var(--muted); margin: 0 0 8px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin: 0 5px -1px 0; }
.swatch + .swatch, .legend .swatch:not(:first-child) { margin-left: 14px; }
footer { margin-top: 48px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
@page { margin: 14mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2, h3 { break-after: avoid; }
  tr, .card, svg.chart, .banner, .callout { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

fn severity_badge(out: &mut String, severity: Option<Severity>) {
    let name = severity.map_or("unknown", Severity::as_str);
    let _ = write!(out, "<span class=\"badge sev sev-{name}\">{name}</span>");
}

fn enforcement_badge(out: &mut String, enforcement: Option<Enforcement>) {
    match enforcement {
        Some(x) => {
            let _ = write!(out, "<span class=\"badge enf enf-{x}\">{x}</span>");
        }
        None => out.push_str("<span class=\"small\">unknown</span>"),
    }
}

fn card(out: &mut String, key: Option<&str>, number: &str, what: &str, class: &str) {
    let attribute = key.map(|k| format!(" data-total=\"{k}\"")).unwrap_or_default();
    let _ = write!(
        out,
        "<div class=\"card {class}\"><span class=\"num\"{attribute}>{number}</span><span class=\"what\">{what}</span></div>"
    );
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Code that may break after each `/` (paths, pointers) rather than anywhere.
fn breakable_code(out: &mut String, text: &str) {
    out.push_str("<code>");
    out.push_str(&e(text).replace('/', "/<wbr>"));
    out.push_str("</code>");
}

fn location(out: &mut String, l: &Location) {
    breakable_code(out, &l.to_string());
}

fn pointer(out: &mut String, path: &str) {
    if path.is_empty() {
        out.push_str("<span class=\"small\">the resource as a whole</span>");
    } else {
        breakable_code(out, path);
    }
}

/// The anchor of a policy's findings.
fn policy_anchor(id: &str) -> String {
    let slug: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("policy-{slug}")
}

pub fn render(a: &Analysis<'_>) -> String {
    let findings = a.current.findings.len();
    let mut out = String::with_capacity(48 * 1024 + findings * 720);
    let title = e(&a.options.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"policy-scan {}\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION")
    );
    header(&mut out, a);
    guidelines(&mut out, a);
    namespaces(&mut out, a);
    severities(&mut out, a);
    policies(&mut out, a);
    if a.trend.is_some() {
        trend(&mut out, a);
    }
    findings_by_policy(&mut out, a);
    suppressed(&mut out, a);
    waivers(&mut out, a);
    errors(&mut out, a);
    all_policies(&mut out, a);
    let _ = write!(
        out,
        "<footer>Generated by policy-scan {} from <code>{}</code>{}. A check is one policy evaluated on one \
         resource; it passes when the resource has no finding of that policy that counts (waived findings do \
         not count).</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        e(&a.options.source),
        a.options.baseline_source.as_deref().map(|b| format!(" against <code>{}</code>", e(b))).unwrap_or_default()
    );
    out
}

fn header(out: &mut String, a: &Analysis<'_>) {
    let t = &a.totals;
    let _ = write!(
        out,
        "<header class=\"top\">\n<h1>{}</h1>\n<dl class=\"meta\"><dt>Generated</dt><dd>{}</dd>\
         <dt>Report</dt><dd><code>{}</code> ({} JSON report, version {})</dd>",
        e(&a.options.title),
        e(&a.options.generated),
        e(&a.options.source),
        e(if a.current.tool.is_empty() { "policy-scan" } else { &a.current.tool }),
        a.current.version
    );
    if let Some(b) = &a.options.baseline_source {
        let _ = write!(out, "<dt>Baseline</dt><dd><code>{}</code></dd>", e(b));
    }
    let mut scope = vec![plural(t.files, "file", "files")];
    if t.rendered > 0 {
        scope.push(plural(t.rendered, "Helm or Kustomize render", "Helm and Kustomize renders"));
    }
    scope.push(plural(t.skipped_documents, "document skipped", "documents skipped") + " (not resources)");
    let _ = writeln!(out, "<dt>Scope</dt><dd>{}</dd></dl>", scope.join(" · "));
    out.push_str("<nav class=\"toc\">");
    let mut links = vec![
        ("guidelines", "Guideline sections"),
        ("namespaces", "Namespaces"),
        ("severity", "Severity"),
        ("policies", "Most violated"),
    ];
    if a.trend.is_some() {
        links.push(("trend", "Trend"));
    }
    links.extend([
        ("findings", "Findings"),
        ("suppressed", "Suppressed"),
        ("errors", "Errors"),
        ("all-policies", "All policies"),
    ]);
    for (id, text) in links {
        let _ = write!(out, "<a href=\"#{id}\">{text}</a>");
    }
    out.push_str("</nav>\n</header>\n");

    if t.errors > 0 {
        let _ = writeln!(
            out,
            "<div class=\"banner incomplete\" role=\"alert\"><strong>Incomplete report:</strong> {} kept part of the \
             input from being judged. The figures below cover only what was evaluated: what could not be read, \
             parsed, rendered or evaluated is neither a pass nor a failure. See <a href=\"#errors\">Errors</a>.</div>",
            plural(t.errors, "error", "errors")
        );
    }
    let (class, text) = match a.verdict {
        Verdict::Fail | Verdict::Incomplete if t.denied > 0 => (
            "fail",
            format!(
                "<strong>Fails:</strong> {} on {} {} enforced by <em>deny</em>: the admission webhook would reject \
                 {}, and a scan with the default <code>--fail-on deny</code> fails.",
                plural(t.denied, "finding", "findings"),
                plural(t.denied_resources, "resource", "resources"),
                if t.denied == 1 { "is" } else { "are" },
                if t.denied_resources == 1 { "it" } else { "them" },
            ),
        ),
        Verdict::Empty => (
            "incomplete",
            "<strong>Nothing was evaluated:</strong> the report holds no Kubernetes or Terraform resource.".to_string(),
        ),
        Verdict::Incomplete => (
            "incomplete",
            "<strong>No finding is enforced by deny</strong> in what was evaluated, but the report is incomplete."
                .to_string(),
        ),
        Verdict::Fail | Verdict::Pass => {
            let lenient = t.findings - t.denied;
            (
                "pass",
                if lenient == 0 {
                    "<strong>Passes:</strong> no finding counts.".to_string()
                } else {
                    format!(
                        "<strong>Passes</strong> with the default <code>--fail-on deny</code>: no finding is enforced by \
                         deny; {} enforced by warn or audit {} admitted.",
                        plural(lenient, "finding", "findings"),
                        if lenient == 1 { "is" } else { "are" }
                    )
                },
            )
        }
    };
    let _ = writeln!(out, "<div class=\"banner {class}\">{text}</div>");
    out.push_str("<section class=\"cards\" aria-label=\"Totals\">");
    card(out, Some("resources"), &t.resources.to_string(), "resources evaluated", "");
    if let Some((passed, all)) = t.checks {
        card(out, None, &percent(passed, all), &format!("compliant: {passed} of {all} checks"), "");
    }
    card(
        out,
        Some("findings"),
        &t.findings.to_string(),
        &format!("findings that count ({} deny)", t.denied),
        if t.findings > 0 { "bad" } else { "good" },
    );
    card(out, Some("suppressed"), &t.suppressed.to_string(), "suppressed by a waiver", "");
    card(out, Some("errors"), &t.errors.to_string(), "errors", if t.errors > 0 { "bad" } else { "good" });
    if let Some(trend) = &a.trend {
        card(
            out,
            Some("new"),
            &trend.new.to_string(),
            "new since the baseline",
            if trend.new > 0 { "bad" } else { "" },
        );
        card(
            out,
            Some("fixed"),
            &trend.fixed.to_string(),
            "fixed since the baseline",
            if trend.fixed > 0 { "good" } else { "" },
        );
    }
    out.push_str("</section>\n");
    let sev: Vec<String> = Severity::ALL
        .iter()
        .zip(t.by_severity)
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("<span class=\"badge sev sev-{s}\">{s}</span> {n}"))
        .collect();
    if !sev.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">Findings that count by severity: {}</p>", sev.join(" &nbsp; "));
    }
    if t.baselined > 0 {
        let _ = writeln!(
            out,
            "<p class=\"banner info\">This scan ran with <code>--baseline</code>: {} already in its baseline {} left \
             out of it, and of every figure below.</p>",
            plural(t.baselined, "finding", "findings"),
            if t.baselined == 1 { "is" } else { "are" }
        );
    }
}

fn no_compliance(out: &mut String) {
    out.push_str(
        "<p class=\"note\">This JSON report has no per-policy summary (<code>summary.policies</code>): it was \
         written by an older policy-scan, or nothing was evaluated. Compliance cannot be computed from it; scan \
         again with this version.</p>\n",
    );
}

fn compliance_table(out: &mut String, first: &str, rows: &[Row], unit: &str) {
    let _ = write!(
        out,
        "<table class=\"compact\"><thead><tr><th>{first}</th><th class=\"num\">{unit}</th><th class=\"num\">failing</th>\
         <th class=\"num\">compliance</th><th class=\"num\">findings</th></tr></thead><tbody>"
    );
    for r in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            e(&r.label),
            r.total(),
            r.failed,
            percent(r.passed, r.total()),
            r.findings
        );
    }
    out.push_str("</tbody></table>\n");
}

fn guidelines(out: &mut String, a: &Analysis<'_>) {
    out.push_str("<section id=\"guidelines\"><h2>Compliance by guideline section</h2>\n");
    if !a.has_compliance() {
        no_compliance(out);
        out.push_str("</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">The checks of the policies that enforce each section of the infrastructure guidelines: \
         one check per policy and resource it applies to. Least compliant first.</p>\n",
    );
    out.push_str(&svg::compliance_bars("Compliance by guideline section", &a.sections, "checks"));
    out.push_str(&svg::legend("checks that pass", "checks that fail"));
    compliance_table(out, "guideline section", &a.sections, "checks");
    out.push_str("</section>\n");
}

fn namespaces(out: &mut String, a: &Analysis<'_>) {
    out.push_str("<section id=\"namespaces\"><h2>Compliance by namespace</h2>\n");
    if a.namespaces.is_empty() {
        let text = if a.totals.resources > 0 && a.has_compliance() {
            "No Kubernetes resource was evaluated."
        } else {
            "No per-namespace summary in this report."
        };
        let _ = writeln!(out, "<p class=\"note\">{text}</p></section>");
        return;
    }
    let mut note = String::from(
        "Resources without a finding that counts, per namespace; cluster-scoped resources are counted together.",
    );
    if a.namespace_count > TOP_NAMESPACES {
        let _ = write!(
            note,
            " The {TOP_NAMESPACES} namespaces with the most failing resources are shown, and the other {} summed.",
            a.namespace_count - TOP_NAMESPACES
        );
    }
    if a.outside_namespaces > 0 {
        let _ = write!(
            note,
            " {} in no namespace (Terraform) {} not counted here.",
            plural(a.outside_namespaces, "resource", "resources"),
            if a.outside_namespaces == 1 { "is" } else { "are" }
        );
    }
    let _ = writeln!(out, "<p class=\"note\">{}</p>", e(&note));
    out.push_str(&svg::compliance_bars("Compliance by namespace", &a.namespaces, "resources"));
    out.push_str(&svg::legend("resources without a finding", "resources with findings"));
    compliance_table(out, "namespace", &a.namespaces, "resources");
    out.push_str("</section>\n");
}

fn severities(out: &mut String, a: &Analysis<'_>) {
    out.push_str("<section id=\"severity\"><h2>Compliance by severity</h2>\n");
    if !a.has_compliance() {
        no_compliance(out);
        out.push_str("</section>\n");
        return;
    }
    out.push_str("<p class=\"note\">The checks of the policies of each severity.</p>\n");
    out.push_str(&svg::compliance_bars("Compliance by policy severity", &a.severities, "checks"));
    out.push_str(&svg::legend("checks that pass", "checks that fail"));
    compliance_table(out, "severity", &a.severities, "checks");
    out.push_str("</section>\n");
}

fn policy_cell(out: &mut String, p: &PolicyRow<'_>, link: bool) {
    if link {
        let _ = write!(out, "<a href=\"#{}\"><code>{}</code></a>", policy_anchor(p.id), e(p.id));
    } else {
        let _ = write!(out, "<code>{}</code>", e(p.id));
    }
    if let Some(title) = p.title {
        let _ = write!(out, "<div class=\"small\">{}</div>", e(title));
    }
}

fn resources_cells(out: &mut String, p: &PolicyRow<'_>) {
    match p.resources {
        Some(all) => {
            let _ = write!(
                out,
                "<td class=\"num\">{} / {all}</td><td class=\"num\">{}</td>",
                p.failing,
                percent(all - p.failing, all)
            );
        }
        None => {
            let _ = write!(out, "<td class=\"num\">{}</td><td class=\"num\">n/a</td>", p.failing);
        }
    }
}

fn policies(out: &mut String, a: &Analysis<'_>) {
    let _ = writeln!(out, "<section id=\"policies\"><h2>The {TOP_POLICIES} most violated policies</h2>");
    let top: Vec<&PolicyRow<'_>> = a.most_violated(TOP_POLICIES).collect();
    if top.is_empty() {
        out.push_str("<p>No policy fails any resource.</p>\n");
    } else {
        out.push_str(
            "<table><thead><tr><th class=\"num\">#</th><th>policy</th><th>severity</th><th>enforcement</th>\
             <th class=\"num\">failing resources</th><th class=\"num\">compliance</th><th class=\"num\">findings</th>\
             <th>guideline section</th></tr></thead><tbody>",
        );
        for (i, p) in top.iter().enumerate() {
            let _ = write!(out, "<tr><td class=\"num\">{}</td><td>", i + 1);
            policy_cell(out, p, true);
            out.push_str("</td><td>");
            severity_badge(out, p.severity);
            out.push_str("</td><td>");
            enforcement_badge(out, p.enforcement);
            out.push_str("</td>");
            resources_cells(out, p);
            let _ = write!(
                out,
                "<td class=\"num\">{}</td><td>{}</td></tr>",
                p.findings,
                e(p.guideline.map_or("", |g| g.section.as_str()))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let lenient: Vec<&PolicyRow<'_>> = a.would_deny().collect();
    if !lenient.is_empty() {
        out.push_str(
            "<div class=\"callout\"><h3>Switching these policies to deny would reject existing resources</h3>\
             <p class=\"note\">Their findings are enforced by warn or audit today: the webhook admits these \
             resources with a warning or records them. Under deny, it would reject them.</p><ul>",
        );
        for p in lenient {
            let _ = write!(out, "<li><a href=\"#{}\"><code>{}</code></a> (", policy_anchor(p.id), e(p.id));
            enforcement_badge(out, p.enforcement);
            let _ = write!(out, "): {} would be rejected</li>", plural(p.lenient_failing, "resource", "resources"));
        }
        out.push_str("</ul></div>\n");
    }
    out.push_str("</section>\n");
}

fn trend(out: &mut String, a: &Analysis<'_>) {
    let Some(trend) = &a.trend else { return };
    let (before, after) = (&trend.before, &a.totals);
    out.push_str("<section id=\"trend\"><h2>Trend against the baseline</h2>\n");
    out.push_str(
        "<p class=\"note\">Findings that count, matched with the baseline by policy, resource and field (the key \
         <code>--baseline</code> uses). A finding of the baseline that is now waived is not counted as fixed.</p>\n",
    );
    out.push_str(&svg::trend(trend, after.findings));
    let _ = write!(
        out,
        "<p><strong>{}</strong> new, <strong>{}</strong> fixed, {} unchanged, {} waived since the baseline.</p>",
        trend.new, trend.fixed, trend.unchanged, trend.now_waived
    );
    out.push_str(
        "<table class=\"compact\"><thead><tr><th></th><th class=\"num\">baseline</th><th class=\"num\">current</th>\
         <th class=\"num\">change</th></tr></thead><tbody>",
    );
    let mut row = |what: &str, b: usize, c: usize| {
        let change = c as i128 - b as i128;
        let sign = if change > 0 { "+" } else { "" };
        let _ = write!(
            out,
            "<tr><td>{what}</td><td class=\"num\">{b}</td><td class=\"num\">{c}</td><td class=\"num\">{sign}{change}</td></tr>"
        );
    };
    row("resources evaluated", before.resources, after.resources);
    row("findings that count", before.findings, after.findings);
    row("&nbsp;&nbsp;of which deny", before.denied, after.denied);
    for (i, s) in Severity::ALL.iter().enumerate() {
        if before.by_severity[i] + after.by_severity[i] > 0 {
            row(&format!("&nbsp;&nbsp;{s}"), before.by_severity[i], after.by_severity[i]);
        }
    }
    row("suppressed", before.suppressed, after.suppressed);
    row("errors", before.errors, after.errors);
    if let (Some((bp, ba)), Some((cp, ca))) = (before.checks, after.checks) {
        let _ = write!(
            out,
            "<tr><td>compliance</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td></td></tr>",
            percent(bp, ba),
            percent(cp, ca)
        );
    }
    out.push_str("</tbody></table>\n");
    if after.baselined > 0 {
        out.push_str(
            "<p class=\"banner info\">The current scan itself ran with <code>--baseline</code>: the findings it left \
             out show as fixed here. Compare reports of scans without <code>--baseline</code>.</p>\n",
        );
    }
    if !trend.fixed_findings.is_empty() {
        let _ = writeln!(out, "<h3>Fixed since the baseline ({})</h3>", trend.fixed_findings.len());
        out.push_str(
            "<table class=\"fixed\"><colgroup><col style=\"width:22%\"><col style=\"width:22%\">\
             <col style=\"width:20%\"><col></colgroup><thead><tr><th>resource</th><th>location (in the baseline)</th>\
             <th>policy</th><th>message</th></tr></thead><tbody>",
        );
        for f in &trend.fixed_findings {
            out.push_str("<tr><td>");
            resource_cell(out, f, false);
            out.push_str("</td><td>");
            location(out, &f.location);
            let _ = write!(out, "</td><td><code>{}</code></td><td>{}</td></tr>", e(&f.policy), e(&f.message));
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

fn resource_cell(out: &mut String, f: &Finding, new: bool) {
    let _ = write!(out, "{}", e(&f.resource.to_string()));
    if new {
        out.push_str(" <span class=\"badge new\">new</span>");
    }
    if let Some(r) = &f.rendered {
        let _ = write!(out, "<div class=\"small\">rendered by <code>{}</code></div>", e(&r.command));
    }
}

fn findings_by_policy(out: &mut String, a: &Analysis<'_>) {
    let _ = writeln!(out, "<section id=\"findings\"><h2>Findings ({})</h2>", a.totals.findings);
    if a.groups.is_empty() {
        out.push_str("<p>No finding counts.</p></section>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">Every finding that counts, by policy (most violated first), then by resource.</p>\n",
    );
    for (p, members) in &a.groups {
        let policy = &a.policies[*p];
        let _ = write!(out, "<article class=\"policy\" id=\"{}\"><h3>", policy_anchor(policy.id));
        severity_badge(out, policy.severity);
        let _ = write!(out, " <code>{}</code>", e(policy.id));
        if let Some(title) = policy.title {
            let _ = write!(out, " — {}", e(title));
        }
        out.push_str("</h3><p class=\"meta\">Enforcement ");
        enforcement_badge(out, policy.enforcement);
        let _ = write!(out, " · {}", plural(policy.findings, "finding", "findings"));
        if let Some(all) = policy.resources {
            let _ = write!(
                out,
                " on {} of {all} resources ({} compliant)",
                policy.failing,
                percent(all - policy.failing, all)
            );
        }
        if let Some(g) = policy.guideline {
            let _ = write!(out, " · Guideline: <strong>{}</strong> — {}", e(&g.section), e(&g.bullet));
        }
        out.push_str("</p>");
        if !policy.remediation.is_empty() {
            let _ =
                write!(out, "<div class=\"remediation\"><strong>Remediation:</strong> {}</div>", e(policy.remediation));
        }
        out.push_str(
            "<table class=\"fixed\"><colgroup><col style=\"width:19%\"><col style=\"width:19%\">\
             <col style=\"width:19%\"><col><col style=\"width:9.5em\"></colgroup><thead><tr><th>resource</th>\
             <th>location</th><th>field (JSON pointer)</th><th>message</th><th>severity · enforcement</th></tr></thead><tbody>",
        );
        for &i in members {
            let f = &a.current.findings[i];
            out.push_str("<tr><td>");
            resource_cell(out, f, a.new_finding(i));
            out.push_str("</td><td>");
            location(out, &f.location);
            if !f.exact {
                out.push_str("<div class=\"small\">the field is missing: shown at its parent</div>");
            }
            out.push_str("</td><td>");
            pointer(out, &f.path);
            let _ = write!(out, "</td><td>{}</td><td>", e(&f.message));
            severity_badge(out, Some(f.severity));
            out.push(' ');
            enforcement_badge(out, Some(f.enforcement));
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table></article>\n");
    }
    out.push_str("</section>\n");
}

fn suppressed(out: &mut String, a: &Analysis<'_>) {
    let _ = writeln!(out, "<section id=\"suppressed\"><h2>Suppressed findings ({})</h2>", a.suppressed.len());
    if a.suppressed.is_empty() {
        out.push_str("<p>No finding is waived.</p></section>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">Findings a documented, expiring waiver covers: reported, and not counted in the figures \
         above.</p><table><thead><tr><th>resource</th><th>location</th><th>policy</th><th>message</th>\
         <th>waiver reason</th><th>expires</th><th>waived by</th></tr></thead><tbody>",
    );
    for &i in &a.suppressed {
        let f = &a.current.findings[i];
        let Some(s) = &f.suppressed else { continue };
        out.push_str("<tr><td>");
        resource_cell(out, f, false);
        out.push_str("</td><td>");
        location(out, &f.location);
        out.push_str("<div class=\"small\">");
        pointer(out, &f.path);
        out.push_str("</div>");
        let _ =
            write!(out, "</td><td><code>{}</code></td><td>{}</td><td>{}", e(&f.policy), e(&f.message), e(&s.reason));
        if let Some(ticket) = &s.ticket {
            let _ = write!(out, " <span class=\"small\">({})</span>", e(ticket));
        }
        let expires = if s.expires.is_empty() { "—" } else { &s.expires };
        let _ = write!(out, "</td><td class=\"nowrap\">{}</td><td>", e(expires));
        let by = if s.annotation { "the resource's annotation" } else { "waiver file" };
        let _ = write!(out, "{by}");
        if let Some(w) = &s.waiver {
            out.push(' ');
            location(out, w);
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table></section>\n");
}

fn waivers(out: &mut String, a: &Analysis<'_>) {
    let w = &a.current.waivers;
    if w.expired.is_empty() && w.unused.is_empty() {
        return;
    }
    out.push_str("<section id=\"waivers\"><h2>Waivers to review</h2>");
    for (list, what) in [(&w.expired, "Expired: they no longer waive"), (&w.unused, "Unused: they matched no finding")]
    {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<h3>{what} ({})</h3><table><thead><tr><th>policy</th><th>reason</th><th>expires</th><th>written at</th></tr></thead><tbody>",
            list.len()
        );
        for n in list {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"nowrap\">{}</td><td>",
                e(&n.policy),
                e(&n.reason),
                e(&n.expires)
            );
            location(out, &n.location);
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn errors(out: &mut String, a: &Analysis<'_>) {
    let list = &a.current.errors;
    let _ = writeln!(out, "<section id=\"errors\"><h2>Errors ({})</h2>", list.len());
    if list.is_empty() {
        out.push_str("<p>None: every source was read, parsed, rendered and evaluated.</p></section>\n");
        return;
    }
    out.push_str(
        "<p class=\"banner incomplete\">What these errors concern was not judged: the report is incomplete until \
         they are fixed.</p><table><thead><tr><th>kind</th><th>location</th><th>policy</th><th>message</th></tr></thead><tbody>",
    );
    for err in list {
        let _ = write!(out, "<tr><td>{}</td><td>", e(&err.kind));
        if let Some(l) = &err.location {
            location(out, l);
        }
        let _ = write!(
            out,
            "</td><td>{}</td><td>{}</td></tr>",
            err.policy.as_deref().map(|p| format!("<code>{}</code>", e(p))).unwrap_or_default(),
            e(&err.message)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn all_policies(out: &mut String, a: &Analysis<'_>) {
    let _ = writeln!(out, "<section id=\"all-policies\"><h2>Every policy evaluated ({})</h2>", a.policies.len());
    if a.policies.is_empty() {
        out.push_str("<p>No policy was evaluated.</p></section>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">What was checked, passing policies included, with the guideline bullet each enforces.</p>\
         <table><thead><tr><th>policy</th><th>severity</th><th>enforcement</th><th class=\"num\">failing resources</th>\
         <th class=\"num\">compliance</th><th class=\"num\">findings</th><th class=\"num\">suppressed</th>\
         <th>guideline</th></tr></thead><tbody>",
    );
    let mut rows: Vec<&PolicyRow<'_>> = a.policies.iter().collect();
    rows.sort_by_key(|p| (p.guideline.map(|g| g.section.as_str()), p.id));
    for p in rows {
        out.push_str("<tr><td>");
        policy_cell(out, p, p.failing > 0);
        out.push_str("</td><td>");
        severity_badge(out, p.severity);
        out.push_str("</td><td>");
        enforcement_badge(out, p.enforcement);
        out.push_str("</td>");
        resources_cells(out, p);
        let _ = write!(out, "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>", p.findings, p.suppressed);
        if let Some(g) = p.guideline {
            let _ = write!(out, "<strong>{}</strong><div class=\"small\">{}</div>", e(&g.section), e(&g.bullet));
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table></section>\n");
}
