//! `policy-scan report`: thin: read the JSON reports, analyse, write the HTML and Markdown.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use policy_scan::compliance_report::{self, Analysis, Options, input};
use policy_scan::report::{EXIT_ERROR, EXIT_PASS};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The JSON report of a scan or an audit (`--format json`).
    current: PathBuf,
    /// An earlier JSON report: the trend (new, fixed, unchanged findings) is shown against it.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Write the self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the Markdown summary (sized for a pull-request comment) here. With neither --html
    /// nor --markdown, it goes to standard output.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// The title of both outputs.
    #[arg(long, default_value = "Policy compliance report")]
    title: String,
    /// The generation time shown (default: the modification time of CURRENT, in UTC).
    #[arg(long, value_name = "TEXT")]
    generated: Option<String>,
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_ERROR)
}

fn modified(path: &Path) -> Result<String, String> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(compliance_report::utc_timestamp)
        .map_err(|e| format!("{}: cannot read its modification time: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn run(args: ReportArgs) -> ExitCode {
    let current = match input::load(&args.current) {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    let baseline = match args.baseline.as_deref().map(input::load).transpose() {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    let generated = match args.generated {
        Some(text) => text,
        None => match modified(&args.current) {
            Ok(t) => t,
            Err(e) => return fail(&e),
        },
    };
    let options = Options {
        title: args.title,
        generated,
        source: args.current.display().to_string(),
        baseline_source: args.baseline.as_ref().map(|b| b.display().to_string()),
    };
    let analysis = Analysis::new(&current, baseline.as_ref(), options);
    let mut written = Ok(());
    if let Some(path) = &args.html {
        written = written.and_then(|()| write(path, &compliance_report::html::render(&analysis)));
    }
    if let Some(path) = &args.markdown {
        written = written.and_then(|()| write(path, &compliance_report::markdown::render(&analysis)));
    }
    if args.html.is_none() && args.markdown.is_none() {
        print!("{}", compliance_report::markdown::render(&analysis));
    }
    match written {
        Ok(()) => ExitCode::from(EXIT_PASS),
        Err(e) => fail(&e),
    }
}
