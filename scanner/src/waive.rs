//! Applying waivers to a scan's findings: a finding covered by a waiver in force is suppressed
//! (reported, never failing), an expired waiver stops waiving and is reported, and a waiver that
//! matched nothing can be listed.

use std::collections::HashSet;

use gatehouse_engine::waivers::{Date, Located};

use crate::report::{Finding, Location, Report, Suppression, WaiverNotice};

fn location(waiver: &Located) -> Location {
    let o = &waiver.origin;
    Location { file: o.file.display().to_string(), line: o.line, column: o.column }
}

fn notice(waiver: &Located) -> WaiverNotice {
    let w = &waiver.waiver;
    WaiverNotice {
        policy: w.policy.clone(),
        reason: w.reason.clone(),
        expires: w.expires.to_string(),
        location: location(waiver),
    }
}

/// The waivers of one resource: those of the waiver files and its own annotation's.
#[derive(Debug)]
pub struct ResourceWaivers<'a> {
    pub files: &'a [Located],
    pub annotation: &'a [Located],
}

/// Tracks which waivers were used across the run.
#[derive(Debug, Default)]
pub struct Ledger {
    used: HashSet<(String, usize, usize, String)>,
}

fn id(waiver: &Located) -> (String, usize, usize, String) {
    let o = &waiver.origin;
    (o.file.display().to_string(), o.line, o.column, waiver.waiver.policy.clone())
}

impl Ledger {
    /// Suppresses the finding when a waiver in force covers it.
    pub fn apply(&mut self, finding: &mut Finding, waivers: &ResourceWaivers<'_>, today: Date) {
        let r = &finding.resource;
        let covering = waivers
            .files
            .iter()
            .filter(|w| w.waiver.resource.matches(&r.kind, r.namespace.as_deref(), &r.name))
            .chain(waivers.annotation.iter())
            .filter(|w| w.waiver.policy == finding.policy);
        for waiver in covering {
            self.used.insert(id(waiver));
            if waiver.waiver.expires >= today && finding.suppressed.is_none() {
                let w = &waiver.waiver;
                finding.suppressed = Some(Suppression {
                    reason: w.reason.clone(),
                    expires: w.expires.to_string(),
                    ticket: w.ticket.clone(),
                    waiver: location(waiver),
                    annotation: waiver.origin.annotation,
                });
            }
        }
    }

    /// Records the expired waivers, and the unused ones when asked.
    pub fn finish(&self, all: &[Located], today: Date, report_unused: bool, report: &mut Report) {
        let mut seen = HashSet::new();
        for waiver in all {
            if !seen.insert(id(waiver)) {
                continue;
            }
            if waiver.waiver.expires < today {
                report.waivers.expired.push(notice(waiver));
            } else if report_unused && !self.used.contains(&id(waiver)) {
                report.waivers.unused.push(notice(waiver));
            }
        }
        report.waivers.expired.sort_by(|a, b| a.location.cmp(&b.location));
        report.waivers.unused.sort_by(|a, b| a.location.cmp(&b.location));
    }
}
