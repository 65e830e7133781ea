//! `--format github`: GitHub Actions workflow commands, which annotate the pull request's files.

use std::fmt::Write as _;

use gatehouse_engine::Enforcement;

use crate::report::Report;

/// Workflow command data: `%`, CR and LF are escaped; properties also escape `:` and `,`.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match (f.enforcement, &f.suppressed) {
            (_, Some(_)) => "notice",
            (Enforcement::Deny, None) => "error",
            (Enforcement::Warn, None) => "warning",
            (Enforcement::Audit, None) => "notice",
        };
        let waived =
            f.suppressed.as_ref().map(|s| format!(" (waived until {}: {})", s.expires, s.reason)).unwrap_or_default();
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            property(&f.location.file),
            f.location.line,
            f.location.column,
            property(&format!("{} ({})", f.policy, f.severity)),
            data(&format!("{}: {}{waived}", f.resource, f.message))
        );
    }
    for w in &report.waivers.expired {
        let l = &w.location;
        let message =
            format!("the waiver of {} expired on {}: it no longer waives ({})", w.policy, w.expires, w.reason);
        let _ =
            writeln!(out, "::warning file={},line={},col={}::{}", property(&l.file), l.line, l.column, data(&message));
    }
    for e in &report.errors {
        match &e.location {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "::error file={},line={},col={}::{}",
                    property(&l.file),
                    l.line,
                    l.column,
                    data(&e.message)
                );
            }
            None => {
                let _ = writeln!(out, "::error::{}", data(&e.message));
            }
        }
    }
    out
}
