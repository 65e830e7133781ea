//! `policy-scan scan`: thin: parse the options, run the scan, write each format, exit.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use gatehouse_engine::Bundle;
use gatehouse_engine::waivers::Date;
use policy_scan::format::{self, Sources};
use policy_scan::render::RenderOptions;
use policy_scan::report::{EXIT_ERROR, FailOn};
use policy_scan::scan::{ScanOptions, scan_observed};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<String>,
    #[command(flatten)]
    report: ReportArgs,
    /// The Terraform configuration a scanned plan was made from: findings then point at its .tf
    /// lines, and binary plans are converted there with `terraform show -json`.
    #[arg(long, value_name = "DIR")]
    tf_root: Option<PathBuf>,
    #[command(flatten)]
    render: RenderArgs,
}

/// What `scan` and `images` share: the bundle, the formats, what fails the run, waivers and
/// baselines.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The policy bundle directory.
    #[arg(long, env = "GATEHOUSE_BUNDLE", default_value = "policies")]
    bundle: PathBuf,
    /// Configuration file with per-policy parameters and enforcement.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Namespace of the resources that name none, as `kubectl apply -n` would give them.
    #[arg(long, short, default_value = "default")]
    namespace: String,
    /// Output format, repeatable: `human`, `json`, `sarif`, `junit`, `github`, or `FORMAT=FILE`
    /// to write to a file.
    #[arg(long = "format", short, default_value = "human")]
    formats: Vec<String>,
    /// What fails the run: `deny` (findings the webhook would reject) or a severity and above.
    #[arg(long, default_value = "deny")]
    pub fail_on: FailOn,
    /// Exit 0 rather than 2 when nothing was scanned.
    #[arg(long)]
    pub allow_empty: bool,
    /// Also list the documents that are not Kubernetes resources.
    #[arg(long, short)]
    pub verbose: bool,
    /// Evaluating threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Waiver file (repeatable): `waivers: [{policy, resource: {kind, namespace, name}, reason, expires, ticket}]`.
    #[arg(long = "waivers")]
    waiver_files: Vec<PathBuf>,
    /// List the waivers that matched no finding.
    #[arg(long)]
    report_unused_waivers: bool,
    /// The day waivers expire against (YYYY-MM-DD; default: today, UTC).
    #[arg(long)]
    today: Option<String>,
    /// A previous `--format json` report: only findings that are new against it are reported.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// How charts are rendered, for `scan` and `images`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Values for the charts scanned, repeatable: each is one render (a CI matrix); files
    /// joined by commas are layered in one render (`base.yaml,prod.yaml`).
    #[arg(long = "helm-values", value_name = "FILE[,FILE...]")]
    helm_values: Vec<String>,
    /// Also render each chart once per `ci/*-values.yaml` it carries (chart-testing's matrix).
    #[arg(long)]
    helm_ci_values: bool,
    /// `--set` for every chart render, repeatable.
    #[arg(long = "helm-set", value_name = "KEY=VALUE")]
    helm_set: Vec<String>,
    /// `--set-string` for every chart render, repeatable.
    #[arg(long = "helm-set-string", value_name = "KEY=VALUE")]
    helm_set_string: Vec<String>,
    /// The release name charts are rendered with.
    #[arg(long, default_value = "release-name")]
    helm_release: String,
    /// The namespace charts are rendered into (`.Release.Namespace`); `--namespace` when not given.
    #[arg(long)]
    helm_namespace: Option<String>,
}

impl RenderArgs {
    fn options(self) -> RenderOptions {
        RenderOptions {
            helm_values: self
                .helm_values
                .iter()
                .map(|set| set.split(',').filter(|f| !f.is_empty()).map(PathBuf::from).collect())
                .collect(),
            helm_ci_values: self.helm_ci_values,
            helm_set: self.helm_set,
            helm_set_string: self.helm_set_string,
            release: self.helm_release,
            namespace: self.helm_namespace,
        }
    }
}

/// A run's setting up, done alike by `scan` and `images`: formats, bundle, waivers, baseline.
pub(crate) struct Prepared {
    pub formats: Vec<(String, Output)>,
    pub bundle: Bundle,
    pub options: ScanOptions,
    /// The finding keys of the `--baseline` report.
    pub known: Option<std::collections::HashSet<String>>,
}

/// Reads the options; `Err` is the exit code after the error was printed.
pub(crate) fn prepare(paths: Vec<String>, args: &ReportArgs, render: RenderArgs) -> Result<Prepared, ExitCode> {
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(EXIT_ERROR)
    };
    let formats = parse_formats(&args.formats, &REPORT_FORMATS).map_err(fail)?;
    let bundle = Bundle::load_configured(&args.bundle, args.config.as_deref()).map_err(|e| fail(e.to_string()))?;
    let today = match args.today.as_deref().map(Date::parse).transpose() {
        Ok(d) => d.unwrap_or_else(Date::today),
        Err(e) => return Err(fail(format!("--today: {e}"))),
    };
    let mut waivers = Vec::new();
    for file in &args.waiver_files {
        match gatehouse_engine::waivers::load_file(file, &|id| bundle.policy(id).is_some()) {
            Ok(w) => waivers.extend(w),
            Err(e) => return Err(fail(format!("invalid waiver file\n{e}"))),
        }
    }
    let known = args.baseline.as_deref().map(policy_scan::baseline::load).transpose().map_err(fail)?;
    let options = ScanOptions {
        paths,
        namespace: args.namespace.clone(),
        threads: args.threads.max(1),
        waivers,
        today,
        report_unused_waivers: args.report_unused_waivers,
        render: render.options(),
        ..ScanOptions::default()
    };
    Ok(Prepared { formats, bundle, options, known })
}

/// Leaves out what the baseline knows, writes every format, and gives the exit code;
/// `nothing` says what an empty run missed (it fails unless `--allow-empty`).
pub(crate) fn conclude(
    mut report: policy_scan::report::Report,
    sources: &Sources,
    prepared: Prepared,
    args: &ReportArgs,
    nothing: Option<&str>,
) -> ExitCode {
    if let Some(known) = &prepared.known {
        policy_scan::baseline::apply(&mut report, known);
    }
    let failed_output = !write_outputs(&report, &prepared.bundle, sources, prepared.formats, args.verbose);
    if let Some(nothing) = nothing
        && !args.allow_empty
    {
        eprintln!("error: nothing was scanned: {nothing} (--allow-empty accepts that)");
    }
    let code = if nothing.is_some() && !args.allow_empty { EXIT_ERROR } else { report.exit_code(args.fail_on, true) };
    ExitCode::from(if failed_output { EXIT_ERROR } else { code })
}

pub(crate) enum Output {
    Stdout,
    File(PathBuf),
}

/// `FORMAT` or `FORMAT=FILE`, each of `known`.
pub(crate) fn parse_formats(formats: &[String], known: &[&str]) -> Result<Vec<(String, Output)>, String> {
    let mut parsed = Vec::new();
    for f in formats {
        let (name, output) = match f.split_once('=') {
            Some((name, file)) => (name, Output::File(PathBuf::from(file))),
            None => (f.as_str(), Output::Stdout),
        };
        if !known.contains(&name) {
            return Err(format!("unknown format {name:?}: expected {}", known.join(", ")));
        }
        parsed.push((name.to_string(), output));
    }
    if parsed.iter().filter(|(_, o)| matches!(o, Output::Stdout)).count() > 1 {
        return Err("only one format can write to standard output; give the others a file (json=report.json)".into());
    }
    Ok(parsed)
}

pub fn run(args: ScanArgs) -> ExitCode {
    let mut prepared = match prepare(args.paths, &args.report, args.render) {
        Ok(p) => p,
        Err(code) => return code,
    };
    prepared.options.tf_root = args.tf_root;
    let mut stdin = std::io::stdin().lock();
    let (report, sources) = scan_with_sources(&prepared.bundle, &prepared.options, &mut stdin);
    let nothing = (report.summary.resources == 0).then_some("no Kubernetes or Terraform resource in the given paths");
    conclude(report, &sources, prepared, &args.report, nothing)
}

pub(crate) const REPORT_FORMATS: [&str; 5] = ["human", "json", "sarif", "junit", "github"];

/// Writes each format of the report model; false when an output could not be written.
pub(crate) fn write_outputs(
    report: &policy_scan::report::Report,
    bundle: &Bundle,
    sources: &Sources,
    formats: Vec<(String, Output)>,
    verbose: bool,
) -> bool {
    let mut written = true;
    for (name, output) in formats {
        let text = match name.as_str() {
            "json" => format::json::render(report),
            "sarif" => format::sarif::render(report, bundle),
            "junit" => format::junit::render(report),
            "github" => format::github::render(report),
            _ => {
                let colour = matches!(output, Output::Stdout)
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none();
                format::human::render(report, sources, format::human::Style { colour, verbose })
            }
        };
        written &= write_output(&output, &text);
    }
    written
}

pub(crate) fn write_output(output: &Output, text: &str) -> bool {
    match output {
        Output::Stdout => {
            print!("{text}");
            true
        }
        Output::File(path) => match std::fs::write(path, text) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                false
            }
        },
    }
}

/// The scan, plus the source texts the human format quotes.
fn scan_with_sources(
    bundle: &Bundle,
    options: &ScanOptions,
    stdin: &mut dyn std::io::Read,
) -> (policy_scan::report::Report, Sources) {
    let mut captured = Sources::new();
    let mut tee = |sources: &[policy_scan::documents::Source]| {
        for s in sources {
            captured.insert(s.name.clone(), s.text.clone());
        }
    };
    let report = scan_observed(bundle, options, stdin, &mut tee);
    (report, captured)
}
