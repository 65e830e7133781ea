//! `policy-webhook`: the admission server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gatehouse_engine::Inventory;
use policy_webhook::admission::Safety;
use policy_webhook::background_audit::{self, AuditSettings};
use policy_webhook::cluster::{ClusterInventory, kinds_needed, policies_reading_inventory};
use policy_webhook::generation::{self, BundleSource, InventorySource, InventoryState, Live, Reloader};
use policy_webhook::server::{AppState, router};

// Evaluation allocates and frees many small values: mimalloc measured 25-30% faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "policy-webhook", version, about = "Gatehouse validating and mutating admission webhook")]
struct Cli {
    /// The policy bundle directory.
    #[arg(long, default_value = "policies")]
    bundle: PathBuf,
    /// Configuration file with per-policy parameters and enforcement.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080; with --dev, the port of --dev-url).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The webhook's own namespace, never judged.
    #[arg(long, env = "POD_NAMESPACE", default_value = "gatehouse-system")]
    namespace: String,
    /// Admit a review that cannot be judged in time (failurePolicy Ignore) instead of denying it,
    /// on /validate and /mutate; /validate/security always denies it and /validate/practices
    /// always admits it, as the failure policies they are registered with.
    #[arg(long)]
    fail_open: bool,
    /// Reviews evaluated at once; more wait for a permit within their deadline. Evaluation is
    /// CPU-bound: the default, twice the CPUs, keeps the cores busy without piling up memory.
    #[arg(long)]
    max_in_flight: Option<usize>,
    /// Reviews that may wait for an evaluator (default: four times --max-in-flight); one more is
    /// answered at once by its failure policy ("overloaded") instead of queueing to its deadline.
    #[arg(long)]
    max_waiting: Option<usize>,
    /// PEM certificate chain to serve; read again when it changes on disk.
    #[arg(long, requires = "tls_key", required_unless_present_any = ["insecure_http", "dev", "print_rbac"])]
    tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS, for local development only.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "dev"])]
    insecure_http: bool,
    /// Local development: serve HTTPS with a self-signed certificate made now, and print the
    /// caBundle and webhook configurations for a local cluster (`kubectl apply -f -`).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    dev: bool,
    /// With --dev: the URL the cluster's API server reaches this process at (from a kind
    /// cluster's containers that is not 127.0.0.1; give the host's address).
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    dev_url: String,
    /// Run without cluster access: no inventory is watched, and the policies that read one are
    /// evaluated without it (they are listed at start and on /readyz).
    #[arg(long)]
    no_cluster: bool,
    /// How often the bundle directory and configuration are checked for changes, and the
    /// inventory for new objects, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    reload_interval: u64,
    /// Evaluate one review in N again, policy by policy, for the per-policy timing metrics (0: never).
    #[arg(long, default_value_t = 100, value_name = "N")]
    policy_timing_every: u64,
    /// Log lines as text or as one JSON object each; RUST_LOG filters them (default info).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Print the read-only ClusterRole and ClusterRoleBinding the inventory needs for this
    /// bundle (service account `gatehouse-webhook` in --namespace), and exit; with
    /// --audit-interval above 0, the audit's access too.
    #[arg(long)]
    print_rbac: bool,
    /// Audit what already runs every N seconds on the replica that holds the audit Lease, and
    /// publish policy reports (0: no audit).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    audit_interval: u64,
    /// The reports' API: OpenReports (openreports.io/v1alpha1 Report and ClusterReport) or
    /// policyreport (wgpolicyk8s.io/v1alpha2 PolicyReport and ClusterPolicyReport).
    #[arg(long, default_value = "openreports")]
    audit_report_format: gatehouse_audit::ReportFormat,
    /// Results kept in one report (the summary counts them all); the most severe are kept.
    #[arg(long, default_value_t = 1000)]
    audit_max_results: usize,
    /// Objects per page when the audit lists a kind.
    #[arg(long, default_value_t = 500)]
    audit_page_size: u32,
    /// Namespaces named in the audit's violation metrics (the most violating); the others are
    /// summed under namespace="_other".
    #[arg(long, default_value_t = 50)]
    audit_metric_namespaces: usize,
    /// Audit Secrets too (the policies that target them): it needs `list` on every Secret of
    /// the cluster, every secret value, which an admission webhook should not hold by default.
    #[arg(long)]
    audit_secrets: bool,
    /// This replica's identity in the audit Lease.
    #[arg(long, env = "POD_NAME", default_value = "policy-webhook")]
    pod_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}

async fn terminated() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[tokio::main]
async fn main() -> ExitCode {
    gatehouse_engine::quiet_library_backtraces();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("policy-webhook: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let mut source = BundleSource::new(&cli.bundle, cli.config.as_deref());
    let bundle = source.load().map_err(|e| anyhow::anyhow!("{e}"))?;
    if cli.print_rbac {
        print!("{}", policy_webhook::cluster::rbac(&kinds_needed(&bundle), &cli.namespace));
        if cli.audit_interval > 0 {
            print!(
                "{}",
                policy_webhook::cluster::audit_rbac(
                    &bundle,
                    cli.audit_report_format,
                    cli.audit_secrets,
                    &cli.namespace
                )
            );
        }
        return Ok(());
    }
    if cli.audit_interval > 0 && cli.no_cluster {
        tracing::warn!("--no-cluster: no background audit (--audit-interval needs cluster access)");
    }
    let mut audit_client = None;
    let (inventory, state): (Option<Arc<dyn InventorySource>>, InventoryState) = if cli.no_cluster {
        let without = policies_reading_inventory(&bundle);
        if !without.is_empty() {
            tracing::warn!(
                policies = %without.join(", "),
                "--no-cluster: these policies read an inventory and are evaluated without one"
            );
        }
        (None, InventoryState::Off { without })
    } else {
        let client = kube::Client::try_default().await.context(
            "no cluster access (in-cluster service account or kubeconfig); run with --no-cluster to evaluate without an inventory",
        )?;
        let kinds = kinds_needed(&bundle);
        audit_client = Some(client.clone());
        let cluster = ClusterInventory::start(client, &kinds).await?;
        let state = cluster.state();
        (Some(Arc::new(cluster)), state)
    };
    let first = generation::build(1, &bundle, &Inventory::new(), 0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let live = Arc::new(Live::new(first, &cli.bundle, state));
    let mut app = AppState::new(
        Arc::clone(&live),
        Safety::new(&cli.namespace),
        cli.fail_open,
        cli.max_in_flight.unwrap_or_else(policy_webhook::server::default_max_in_flight),
    );
    app.policy_timing_every = cli.policy_timing_every;
    if let Some(n) = cli.max_waiting {
        app.max_waiting = n;
    }
    let state = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let reloader = Reloader::new(source, bundle.clone(), inventory, Arc::clone(&live));
    let reloader = reloader
        .spawn(Duration::from_millis(cli.reload_interval.max(100)), Arc::clone(&stop))
        .context("cannot start the reloader")?;
    let audit = match audit_client.filter(|_| cli.audit_interval > 0) {
        Some(client) => {
            let settings = AuditSettings {
                interval: Duration::from_secs(cli.audit_interval),
                format: cli.audit_report_format,
                limits: gatehouse_audit::ReportLimits { max_results: cli.audit_max_results, ..Default::default() },
                list: gatehouse_audit::ListOptions { page_size: cli.audit_page_size.max(1), ..Default::default() },
                exempt_namespaces: state.safety.exempt_namespaces.clone(),
                lease_namespace: cli.namespace.clone(),
                lease_name: "gatehouse-audit".into(),
                identity: cli.pod_name.clone(),
                lease_duration: Duration::from_secs(15),
                metric_namespaces: cli.audit_metric_namespaces,
                // One thread: the audit must not take the cores admission answers on.
                threads: 1,
                secrets: cli.audit_secrets,
            };
            Some(tokio::spawn(background_audit::run(client, Arc::clone(&state), settings, Arc::clone(&stop))))
        }
        None => None,
    };
    let served = serve(&cli, state, bundle.enabled_policies().count()).await;
    stop.store(true, Ordering::Relaxed);
    if let Some(audit) = audit {
        // Gives the lease up, unless it is in the middle of a list or a publish.
        let _ = tokio::time::timeout(Duration::from_secs(5), audit).await;
    }
    let _ = tokio::task::spawn_blocking(move || reloader.join()).await;
    served
}

async fn serve(cli: &Cli, state: Arc<AppState>, policies: usize) -> Result<()> {
    let dev_port =
        cli.dev_url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse::<u16>().ok()).unwrap_or(8443);
    let listen =
        cli.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], if cli.dev { dev_port } else { 8080 })));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let listen = listener.local_addr().unwrap_or(listen);
    if cli.dev {
        let host =
            cli.dev_url.split("://").nth(1).unwrap_or("localhost").split([':', '/']).next().unwrap_or("localhost");
        let dir = std::env::temp_dir().join(format!("gatehouse-dev-{}", std::process::id()));
        let certificate = policy_webhook::dev::certificate(&dir, &[host.to_string(), "localhost".to_string()])?;
        println!("# caBundle: {}", certificate.ca_bundle);
        println!(
            "# Apply with: kubectl apply -f - (this output); remove with: kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration gatehouse-dev"
        );
        print!("{}", policy_webhook::dev::webhook_configurations(&cli.dev_url, &certificate.ca_bundle));
        let config = policy_webhook::tls::server_config(&certificate.cert, &certificate.key)?;
        tracing::info!(policies, address = %listen, url = %cli.dev_url, "policy-webhook --dev listening (HTTPS, self-signed)");
        policy_webhook::tls::serve(listener, config, router(state), terminated()).await;
        let _ = std::fs::remove_dir_all(dir);
        return Ok(());
    }
    match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => {
            let config = policy_webhook::tls::server_config(cert, key)?;
            tracing::info!(policies, address = %listen, "policy-webhook listening (HTTPS)");
            policy_webhook::tls::serve(listener, config, router(state), terminated()).await;
        }
        _ => {
            tracing::warn!(policies, address = %listen, "policy-webhook listening on insecure HTTP");
            axum::serve(listener, router(state)).with_graceful_shutdown(terminated()).await?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}
