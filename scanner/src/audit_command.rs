//! `policy-scan audit`: thin: connect through the kubeconfig, run the shared audit, write each
//! format, exit as a scan does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Args;
use gatehouse_audit::reports::{self, ReportFormat, ReportLimits};
use gatehouse_audit::{AuditOptions, ListOptions, audit_cluster};
use gatehouse_engine::Bundle;
use gatehouse_engine::waivers::Date;
use policy_scan::format::Sources;
use policy_scan::report::{EXIT_ERROR, FailOn};

use crate::scan_command::{Output, REPORT_FORMATS, parse_formats, write_output, write_outputs};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The kubeconfig to reach the cluster with (default: $KUBECONFIG, ~/.kube/config, or the
    /// in-cluster service account).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long)]
    context: Option<String>,
    /// The policy bundle directory.
    #[arg(long, env = "GATEHOUSE_BUNDLE", default_value = "policies")]
    bundle: PathBuf,
    /// Configuration file with per-policy parameters and enforcement.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format, repeatable: `human`, `json`, `sarif`, `junit`, `github`, `openreports`
    /// or `policyreport` (the policy reports the webhook's audit writes, as a List to `kubectl
    /// apply`), or `FORMAT=FILE`.
    #[arg(long = "format", short, default_value = "human")]
    formats: Vec<String>,
    /// What fails the run: `deny` (violations of policies that deny) or a severity and above.
    #[arg(long, default_value = "deny")]
    fail_on: FailOn,
    /// Namespaces left out, as the webhook leaves them out (repeatable; default kube-system,
    /// kube-public, kube-node-lease).
    #[arg(long = "exclude-namespace", value_name = "NAMESPACE")]
    exclude_namespaces: Vec<String>,
    /// Objects per page when listing a kind.
    #[arg(long, default_value_t = 500)]
    page_size: u32,
    /// Results kept per policy report (openreports and policyreport formats).
    #[arg(long, default_value_t = 1000)]
    max_results: usize,
    /// A previous `--format json` report (of a scan or an audit): only new findings are reported.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Evaluating threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seconds to wait for the cluster before giving up.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Leave Secrets out (the audit otherwise lists every Secret, values included, to judge
    /// the policies that target them; without `list` on Secrets the audit fails).
    #[arg(long)]
    skip_secrets: bool,
    /// Also list the objects left unjudged and why.
    #[arg(long, short)]
    verbose: bool,
}

async fn client(args: &AuditArgs) -> Result<kube::Client, String> {
    let options = kube::config::KubeConfigOptions { context: args.context.clone(), ..Default::default() };
    let mut config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read the kubeconfig {}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| format!("the kubeconfig {}: {e}", path.display()))?
        }
        None => kube::Config::infer().await.map_err(|e| format!("no cluster to audit: {e} (give --kubeconfig)"))?,
    };
    let timeout = Some(Duration::from_secs(args.timeout.max(1)));
    config.connect_timeout = timeout;
    config.read_timeout = timeout;
    kube::Client::try_from(config).map_err(|e| format!("cannot make a client for the cluster: {e}"))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_ERROR)
}

pub fn run(args: AuditArgs) -> ExitCode {
    let mut known_formats: Vec<&str> = REPORT_FORMATS.to_vec();
    known_formats.extend(["openreports", "policyreport"]);
    let formats = match parse_formats(&args.formats, &known_formats) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let bundle = match Bundle::load_configured(&args.bundle, args.config.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(&e.to_string()),
    };
    let baseline = match args.baseline.as_deref().map(policy_scan::baseline::load).transpose() {
        Ok(k) => k,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let mut options = AuditOptions {
        today: Date::today(),
        threads: args.threads.max(1),
        secrets: !args.skip_secrets,
        ..AuditOptions::default()
    };
    if !args.exclude_namespaces.is_empty() {
        options.exempt_namespaces = args.exclude_namespaces.clone();
    }
    let list = ListOptions { page_size: args.page_size.max(1), ..ListOptions::default() };
    let result = runtime.block_on(async {
        let client = client(&args).await?;
        audit_cluster(client, &bundle, &list, &options).await.map_err(|e| e.to_string())
    });
    let result = match result {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if args.verbose {
        eprintln!("listed: {}", result.kinds.join(", "));
        eprintln!(
            "{} objects listed: {} judged, {} in excluded namespaces, {} covered by their controller",
            result.audit.listed,
            result.audit.judged.len(),
            result.audit.exempt,
            result.audit.controlled
        );
    }
    if !result.not_served.is_empty() {
        eprintln!("note: the cluster does not serve {}: nothing of them was audited", result.not_served.join(", "));
    }
    if args.skip_secrets {
        eprintln!("note: --skip-secrets: Secrets were not audited");
    }
    if !result.wildcard_policies.is_empty() {
        eprintln!(
            "note: {} target every kind; they were judged only on the kinds other policies list",
            result.wildcard_policies.join(", ")
        );
    }
    let mut report = policy_scan::cluster_audit::to_report(&result, &bundle);
    if let Some(known) = &baseline {
        policy_scan::baseline::apply(&mut report, known);
    }
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    let limits = ReportLimits { max_results: args.max_results, ..ReportLimits::default() };
    let (policy_reports, model): (Vec<_>, Vec<_>) =
        formats.into_iter().partition(|(name, _): &(String, Output)| name == "openreports" || name == "policyreport");
    let mut written = write_outputs(&report, &bundle, &Sources::new(), model, args.verbose);
    for (name, output) in policy_reports {
        let format = if name == "openreports" { ReportFormat::OpenReports } else { ReportFormat::PolicyReport };
        let items = reports::build(&result.audit, format, limits, seconds);
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
        let text = serde_json::to_string_pretty(&list).map(|t| t + "\n").unwrap_or_default();
        written &= write_output(&output, &text);
    }
    let code = report.exit_code(args.fail_on, true);
    ExitCode::from(if written { code } else { EXIT_ERROR })
}
