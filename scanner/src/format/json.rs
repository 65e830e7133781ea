//! `--format json`: a stable, versioned document (see README, "JSON report").

use serde::Serialize;

use crate::report::Report;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: &'static str,
    #[serde(flatten)]
    report: &'a Report,
}

pub fn render(report: &Report) -> String {
    let document = Document { version: SCHEMA_VERSION, tool: "policy-scan", report };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
