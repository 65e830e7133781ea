//! The charts, as inline SVG written by hand: horizontal bars that scale with the page and
//! print, each with a title and a text alternative for screen readers.

use std::fmt::Write as _;

use super::escape::{html, truncate};
use super::{Row, Trend, percent};

pub const PASS: &str = "#2f7d46";
pub const FAIL: &str = "#c0392b";
pub const UNCHANGED: &str = "#8a94a6";
pub const WAIVED: &str = "#d39e00";

const WIDTH: f64 = 760.0;
const LABEL: f64 = 230.0;
const BAR: f64 = 330.0;
const ROW: f64 = 30.0;
const TOP: f64 = 26.0;

fn open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"{0}\"><title>{0}</title>",
        html(title)
    );
}

/// Percent ticks above the bars.
fn scale(out: &mut String, height: f64) {
    for (tick, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let x = LABEL + tick * BAR;
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{:.1}\" class=\"grid\"/>\
             <text x=\"{x:.1}\" y=\"14\" class=\"tick\" text-anchor=\"middle\">{label}</text>",
            TOP - 6.0,
            height - 4.0
        );
    }
}

/// One bar per row: the share that passes in green, the share that fails in red, and the
/// figures beside it. `unit` names what is counted (checks, resources).
pub fn compliance_bars(title: &str, rows: &[Row], unit: &str) -> String {
    let height = TOP + ROW * rows.len() as f64 + 8.0;
    let mut out = String::new();
    open(&mut out, height, title);
    scale(&mut out, height);
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let total = row.total();
        let pass_width = if total == 0 { 0.0 } else { BAR * row.passed as f64 / total as f64 };
        let label = truncate(&row.label, 34);
        let _ = write!(
            out,
            "<g><title>{}: {} compliant, {} of {total} {unit} fail</title>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{BAR}\" height=\"18\" fill=\"{FAIL}\" rx=\"2\"/>\
             <rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{pass_width:.1}\" height=\"18\" fill=\"{PASS}\" rx=\"2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"value\">{} <tspan class=\"muted\">· {} / {total} fail</tspan></text></g>",
            html(&row.label),
            percent(row.passed, total),
            row.failed,
            LABEL - 10.0,
            y + 14.0,
            html(&label),
            y + 1.0,
            y + 1.0,
            LABEL + BAR + 10.0,
            y + 14.0,
            percent(row.passed, total),
            row.failed,
        );
    }
    out.push_str("</svg>");
    out
}

/// A part of a bar: how many, its colour, what it is.
type Segment = (usize, &'static str, &'static str);

/// The baseline's findings (unchanged, fixed, waived since) over the current ones (unchanged,
/// new), on one scale.
pub fn trend(trend: &Trend<'_>, after: usize) -> String {
    let before = trend.before.findings;
    let max = before.max(after).max(1) as f64;
    let height = 2.0 * ROW + 44.0;
    let mut out = String::new();
    open(
        &mut out,
        height,
        &format!(
            "Findings that count: {before} in the baseline, {after} now ({} new, {} fixed, {} unchanged, {} waived since)",
            trend.new, trend.fixed, trend.unchanged, trend.now_waived
        ),
    );
    let baseline_unchanged = before.saturating_sub(trend.fixed + trend.now_waived);
    let bars: [(&str, usize, Vec<Segment>); 2] = [
        (
            "baseline",
            before,
            vec![
                (baseline_unchanged, UNCHANGED, "unchanged"),
                (trend.fixed, PASS, "fixed"),
                (trend.now_waived, WAIVED, "waived since"),
            ],
        ),
        ("current", after, vec![(trend.unchanged, UNCHANGED, "unchanged"), (trend.new, FAIL, "new")]),
    ];
    for (i, (name, total, segments)) in bars.iter().enumerate() {
        let y = 8.0 + ROW * i as f64;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{name}</text>",
            LABEL - 10.0,
            y + 14.0
        );
        let mut x = LABEL;
        for (count, colour, what) in segments {
            if *count == 0 {
                continue;
            }
            let width = BAR * *count as f64 / max;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"18\" fill=\"{colour}\"><title>{count} {what}</title></rect>",
                y + 1.0
            );
            if width > 28.0 {
                let _ = write!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"inbar\" text-anchor=\"middle\">{count}</text>",
                    x + width / 2.0,
                    y + 14.0
                );
            }
            x += width;
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"value\">{total} findings</text>",
            LABEL + BAR + 10.0,
            y + 14.0
        );
    }
    let mut x = LABEL;
    let y = 2.0 * ROW + 22.0;
    for (colour, what) in [(UNCHANGED, "unchanged"), (FAIL, "new"), (PASS, "fixed"), (WAIVED, "waived since")] {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{what}</text>",
            y - 10.0,
            x + 16.0,
            y
        );
        x += 100.0;
    }
    out.push_str("</svg>");
    out
}

/// The legend under compliance bars.
pub fn legend(passing: &str, failing: &str) -> String {
    format!(
        "<p class=\"legend\"><span class=\"swatch\" style=\"background:{PASS}\"></span>{}\
         <span class=\"swatch\" style=\"background:{FAIL}\"></span>{}</p>",
        html(passing),
        html(failing)
    )
}
