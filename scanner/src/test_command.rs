//! `policy-scan test`: prints results the way `opa test -v` does, exit 1 on any failure and 2
//! when the bundle does not load.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use gatehouse_engine::Bundle;
use gatehouse_engine::testing::{self, Outcome};

pub fn run(bundle_dir: &Path, config: Option<&Path>, quiet: bool) -> ExitCode {
    let bundle = match Bundle::load_configured(bundle_dir, config) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = testing::run(&bundle);
    let mut out = std::io::stdout().lock();
    let mut current = None;
    for result in &report.results {
        let shown = !quiet || result.outcome != Outcome::Pass;
        if !shown {
            continue;
        }
        if current != Some(&result.file) {
            let _ = writeln!(out, "{}:", result.file.display());
            current = Some(&result.file);
        }
        let micros = result.duration.as_micros();
        let _ = match &result.outcome {
            Outcome::Pass => writeln!(out, "{}: PASS ({micros}µs)", result.name),
            Outcome::Fail(why) => writeln!(out, "{}: FAIL ({micros}µs)\n  {why}", result.name),
            Outcome::Error(why) => writeln!(out, "{}: ERROR ({micros}µs)\n  {why}", result.name),
        };
    }
    let total = report.results.len();
    let _ = writeln!(out, "{}", "-".repeat(80));
    let _ = writeln!(out, "PASS: {}/{total}", report.passed());
    if report.failed() > 0 {
        let _ = writeln!(out, "FAIL: {}/{total}", report.failed());
    }
    let _ = writeln!(out, "{} passed, {} failed", report.passed(), report.failed());
    if total == 0 {
        let _ = writeln!(out, "error: the bundle has no policy and no test");
        return ExitCode::from(1);
    }
    if report.failed() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
