//! `--format human`: findings grouped by file and resource, each with its source line and the
//! field underlined, then a summary. Colour only on a terminal, and never with NO_COLOR.

use std::fmt::Write as _;

use gatehouse_engine::{Enforcement, Severity};

use super::Sources;
use crate::report::{Finding, Report};

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub colour: bool,
    pub verbose: bool,
}

fn paint(style: Style, code: &str, text: &str) -> String {
    if style.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

fn severity_colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low | Severity::Info => "36",
    }
}

pub fn render(report: &Report, sources: &Sources, style: Style) -> String {
    let mut out = String::new();
    let mut current: Option<(&str, String)> = None;
    for f in &report.findings {
        let resource = f.subject();
        if current.as_ref().map(|(file, _)| *file) != Some(f.location.file.as_str()) {
            let _ = writeln!(out, "{}", paint(style, "1", &f.location.file));
            current = Some((&f.location.file, String::new()));
        }
        if let Some((_, last)) = current.as_mut()
            && *last != resource
        {
            let _ = writeln!(out, "  {resource}");
            *last = resource;
        }
        finding(&mut out, f, sources, style);
    }
    for e in &report.errors {
        let at = e.location.as_ref().map(|l| format!("{}:{}:{}: ", l.file, l.line, l.column)).unwrap_or_default();
        let _ = writeln!(out, "{} {at}{}", paint(style, "1;31", "error:"), e.message);
    }
    for w in &report.waivers.expired {
        let l = &w.location;
        let _ = writeln!(
            out,
            "{} {}:{}:{}: the waiver of {} expired on {}: it no longer waives ({})",
            paint(style, "33", "warning:"),
            l.file,
            l.line,
            l.column,
            w.policy,
            w.expires,
            w.reason
        );
    }
    for w in &report.waivers.unused {
        let l = &w.location;
        let _ =
            writeln!(out, "note: {}:{}:{}: the waiver of {} matched no finding", l.file, l.line, l.column, w.policy);
    }
    if style.verbose {
        for s in &report.skipped {
            let l = &s.location;
            let _ = writeln!(out, "skipped {}:{}:{}: {}", l.file, l.line, l.column, s.reason);
        }
    }
    summary(&mut out, report);
    out
}

fn finding(out: &mut String, f: &Finding, sources: &Sources, style: Style) {
    let label = match f.enforcement {
        Enforcement::Deny => "deny",
        Enforcement::Warn => "warn",
        Enforcement::Audit => "audit",
    };
    let label = if f.suppressed.is_some() { "waived" } else { label };
    let _ = writeln!(
        out,
        "    {}:{}  {} {}  {}  {}",
        f.location.line,
        f.location.column,
        paint(style, severity_colour(f.severity), f.severity.as_str()),
        label,
        paint(style, "1", &f.policy),
        f.message
    );
    if let Some(s) = &f.suppressed {
        let ticket = s.ticket.as_deref().map(|t| format!(", {t}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "      waived until {}{ticket}: {} ({}:{}:{})",
            s.expires, s.reason, s.waiver.file, s.waiver.line, s.waiver.column
        );
        return;
    }
    let Some(line) = sources.get(f.location.file.as_str()).and_then(|text| text.lines().nth(f.location.line - 1))
    else {
        return;
    };
    let line = line.trim_end_matches('\r');
    let start = f.location.column.saturating_sub(1);
    let width = line.chars().skip(start).take_while(|c| !matches!(c, ':' | ' ' | ',' | '}' | ']')).count().max(1);
    let gutter = f.location.line.to_string();
    let _ = writeln!(out, "      {gutter} | {line}");
    let marks = "^".repeat(width);
    let _ = writeln!(out, "      {} | {}{}", " ".repeat(gutter.len()), " ".repeat(start), paint(style, "1;31", &marks));
    let pad = " ".repeat(gutter.len());
    if !f.exact {
        let _ = writeln!(out, "      {pad} = the field is missing: shown at its parent");
    }
    if let Some(image) = &f.image {
        let advisory = image.vulnerability.as_ref().map(|v| v.primary_url.as_str()).filter(|u| !u.is_empty());
        let advisory = advisory.map(|u| format!(" ({u})")).unwrap_or_default();
        let _ = writeln!(out, "      {pad} = in image {}{advisory}", image.reference);
    }
    if let Some(r) = &f.rendered {
        for related in &r.related {
            let l = &related.location;
            let _ = writeln!(out, "      {pad} = {} is set at {}:{}:{}", related.message, l.file, l.line, l.column);
        }
        let _ = writeln!(out, "      {pad} = rendered at line {}:{} of the output", r.document.line, r.document.column);
    }
}

fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    let by_severity: Vec<String> =
        Severity::ALL.iter().filter_map(|sev| s.by_severity.get(sev.as_str()).map(|n| format!("{n} {sev}"))).collect();
    let mut extra = String::new();
    if s.suppressed > 0 {
        let _ = write!(extra, ", {} waived", s.suppressed);
    }
    if s.baselined > 0 {
        let _ = write!(extra, ", {} already in the baseline", s.baselined);
    }
    let rendered = if s.rendered > 0 { format!(", {} renders", s.rendered) } else { String::new() };
    let images = if s.images > 0 { format!(", {} images", s.images) } else { String::new() };
    let _ = writeln!(
        out,
        "{} files{rendered}, {} resources{images}, {} findings{}{extra}, {} errors, {} skipped (not resources to judge{})",
        s.files,
        s.resources,
        s.findings,
        if by_severity.is_empty() { String::new() } else { format!(" ({})", by_severity.join(", ")) },
        s.errors,
        s.skipped_documents,
        if s.skipped_documents > 0 { "; --verbose lists them" } else { "" }
    );
}
