//! `policy-webhook`: the admission server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use gatehouse_engine::{Bundle, Config, Evaluator, Inventory};
use policy_webhook::admission::Safety;
use policy_webhook::server::{AppState, Metrics, router};

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
    /// Admit a review that cannot be judged in time (failurePolicy Ignore) instead of denying it.
    #[arg(long)]
    fail_open: bool,
    /// Reviews evaluated at once; more wait for a permit within their deadline.
    #[arg(long, default_value_t = 64)]
    max_in_flight: usize,
    /// PEM certificate chain to serve; read again when it changes on disk.
    #[arg(long, requires = "tls_key", required_unless_present_any = ["insecure_http", "dev"])]
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
async fn main() -> Result<()> {
    gatehouse_engine::quiet_library_backtraces();
    let cli = Cli::parse();
    let config = match &cli.config {
        Some(path) => Config::from_file(path).map_err(|e| anyhow::anyhow!("invalid configuration\n{e}"))?,
        None => Config::default(),
    };
    let bundle = Bundle::load(&cli.bundle, &config)
        .map_err(|e| anyhow::anyhow!("the policy bundle {} does not load\n{e}", cli.bundle.display()))?;
    let evaluator = Evaluator::new(&bundle, &Inventory::new()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = Arc::new(AppState {
        evaluator,
        safety: Safety::new(&cli.namespace),
        fail_open: cli.fail_open,
        permits: Arc::new(tokio::sync::Semaphore::new(cli.max_in_flight.max(1))),
        metrics: Metrics::default(),
    });
    let dev_port =
        cli.dev_url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse::<u16>().ok()).unwrap_or(8443);
    let listen =
        cli.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], if cli.dev { dev_port } else { 8080 })));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let policies = bundle.policies().len();
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
        eprintln!("policy-webhook --dev: {policies} policies, listening on https://{listen} for {}", cli.dev_url);
        policy_webhook::tls::serve(listener, config, router(state), terminated()).await;
        let _ = std::fs::remove_dir_all(dir);
        return Ok(());
    }
    match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => {
            let config = policy_webhook::tls::server_config(cert, key)?;
            eprintln!("policy-webhook: {policies} policies, listening on https://{listen}");
            policy_webhook::tls::serve(listener, config, router(state), terminated()).await;
        }
        _ => {
            eprintln!("policy-webhook: {policies} policies, listening on http://{listen} (insecure HTTP)");
            axum::serve(listener, router(state)).with_graceful_shutdown(terminated()).await?;
        }
    }
    Ok(())
}
