//! `gatehouse-bench drills`: the real `policy-webhook` binary, as a child process serving HTTPS on
//! loopback, through an overload and fault drills under steady load, then a soak; one table.
//!
//! Every review is sent with `?timeout=2s`, the deadline the API server would give it. An answer
//! counts as in time when it arrives within that deadline, measured from when the request was
//! due (open-loop phases), so a stalled server cannot hide behind a stalled client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::Value;

use crate::load::{exchange, requests};

mod inventory;

const DEADLINE: Duration = Duration::from_secs(2);

/// The webhook under drill: its process, its files, its address.
struct Webhook {
    child: Child,
    address: std::net::SocketAddr,
    bundle: PathBuf,
    tls: PathBuf,
}

impl Webhook {
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn webhook_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("POLICY_WEBHOOK") {
        return Ok(PathBuf::from(path));
    }
    let beside = std::env::current_exe()?.with_file_name("policy-webhook");
    if beside.exists() {
        return Ok(beside);
    }
    bail!(
        "no policy-webhook binary beside {}: build it with `cargo build --release -p policy-webhook` (or set POLICY_WEBHOOK)",
        std::env::current_exe()?.display()
    )
}

pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walk(from)? {
        let relative = entry.strip_prefix(from)?;
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&entry, &target).with_context(|| format!("copying {}", entry.display()))?;
    }
    Ok(())
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// A TLS client trusting every certificate given (the drill rotates from one to the other).
fn client(certificates: &[PathBuf]) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certificates {
        roots.add(CertificateDer::from_pem_file(c).with_context(|| format!("{}", c.display()))?)?;
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

type Stream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

async fn connect(address: std::net::SocketAddr, client: &Arc<rustls::ClientConfig>) -> Result<Stream> {
    let tcp = tokio::net::TcpStream::connect(address).await?;
    tcp.set_nodelay(true)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(client));
    Ok(connector.connect(ServerName::try_from("localhost")?, tcp).await?)
}

/// One request on a new connection: a GET when `body` is empty, else a POST.
async fn request(
    address: std::net::SocketAddr,
    client: &Arc<rustls::ClientConfig>,
    path: &str,
    body: &[u8],
) -> Result<(u16, String)> {
    let mut stream = connect(address, client).await?;
    let mut buffer = Vec::new();
    let (status, start) = exchange(&mut stream, path, body, &mut buffer).await?;
    Ok((status, String::from_utf8_lossy(&buffer[start..]).into_owned()))
}

async fn get(address: std::net::SocketAddr, client: &Arc<rustls::ClientConfig>, path: &str) -> Result<(u16, String)> {
    request(address, client, path, &[]).await
}

/// Starts the webhook on the bundle copied into `dir`, with the TLS files in `dir/tls`: without
/// a cluster, or with the kubeconfig given.
async fn start(
    binary: &Path,
    dir: &Path,
    policies: &Path,
    client: &Arc<rustls::ClientConfig>,
    kubeconfig: Option<&Path>,
) -> Result<Webhook> {
    let bundle = dir.join("policies");
    copy_tree(policies, &bundle)?;
    let tls = dir.join("tls");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut command = Command::new(binary);
    command
        .arg(format!("--bundle={}", bundle.display()))
        .arg(format!("--listen={address}"))
        .arg(format!("--tls-cert={}", tls.join("tls.crt").display()))
        .arg(format!("--tls-key={}", tls.join("tls.key").display()))
        .args(["--reload-interval=500", "--log-format=json"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("webhook.log"))?);
    match kubeconfig {
        Some(file) => command.env("KUBECONFIG", file).env_remove("KUBERNETES_SERVICE_HOST"),
        None => command.arg("--no-cluster"),
    };
    let child = command.spawn().with_context(|| format!("starting {}", binary.display()))?;
    let webhook = Webhook { child, address, bundle, tls };
    let ready_by = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = get(address, client, "/readyz").await {
            return Ok(webhook);
        }
        if Instant::now() > ready_by {
            bail!("the webhook was not ready in 60 s; see {}", dir.join("webhook.log").display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What one load phase measured.
#[derive(Debug, Default, Clone)]
struct Measured {
    seconds: f64,
    /// Answers, and those that came within the deadline.
    answered: usize,
    in_time: usize,
    /// Answers by the failure policy (not judged in time, or overloaded), within the answered.
    failure_action: usize,
    /// Requests without an answer: refused connections, resets, non-200 statuses.
    errors: usize,
    /// Requests sent before `cutoff` that got no answer.
    lost_before_cutoff: usize,
    latencies: Vec<Duration>,
}

impl Measured {
    fn p99_ms(&self) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        let i = ((l.len() as f64) * 0.99).ceil() as usize;
        l.get(i.saturating_sub(1)).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    }

    fn rate(&self) -> f64 {
        self.answered as f64 / self.seconds.max(f64::EPSILON)
    }

    fn merge(&mut self, other: Measured) {
        self.answered += other.answered;
        self.in_time += other.in_time;
        self.failure_action += other.failure_action;
        self.errors += other.errors;
        self.lost_before_cutoff += other.lost_before_cutoff;
        self.latencies.extend(other.latencies);
    }
}

/// How the load is offered.
#[derive(Debug, Clone, Copy)]
struct Offer {
    connections: usize,
    /// Requests per second in all, open loop; `None`: closed loop, each connection as fast as it
    /// is answered.
    rate: Option<f64>,
    duration: Duration,
    /// A new connection (a TLS handshake) every this many requests on a connection.
    reconnect_every: Option<usize>,
}

fn failure_action(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return false };
    // The webhook's own answers when it does not judge (a policy's message can say "overloaded").
    let text = v["response"].to_string();
    [
        "gatehouse: too many reviews in flight",
        "gatehouse: the evaluation did not finish",
        "gatehouse: overloaded:",
        "gatehouse: the cluster inventory",
    ]
    .iter()
    .any(|m| text.contains(m))
}

async fn offer(
    address: std::net::SocketAddr,
    client: &Arc<rustls::ClientConfig>,
    bodies: &Arc<Vec<(String, Vec<u8>)>>,
    offer: Offer,
    cutoff: Option<Instant>,
) -> Measured {
    let started = Instant::now();
    let stop = started + offer.duration;
    let mut tasks = Vec::new();
    for c in 0..offer.connections {
        let (client, bodies) = (Arc::clone(client), Arc::clone(bodies));
        tasks.push(tokio::spawn(async move {
            let mut m = Measured::default();
            let mut stream: Option<Stream> = None;
            let mut buffer = Vec::new();
            let mut k = 0usize;
            loop {
                let due = match offer.rate {
                    Some(rate) => started + Duration::from_secs_f64((k * offer.connections + c) as f64 / rate),
                    None => Instant::now(),
                };
                if due >= stop {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let (path, body) = &bodies[(k * offer.connections + c) % bodies.len()];
                k += 1;
                if offer.reconnect_every.is_some_and(|n| k.is_multiple_of(n)) {
                    stream = None;
                }
                if stream.is_none() {
                    match connect(address, &client).await {
                        Ok(s) => stream = Some(s),
                        Err(_) => {
                            m.errors += 1;
                            if cutoff.is_some_and(|t| due < t) {
                                m.lost_before_cutoff += 1;
                            }
                            // The server is gone or refusing: no busy loop.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    }
                }
                let Some(s) = stream.as_mut() else { continue };
                let path = path.replace("timeout=10s", "timeout=2s");
                match exchange(s, &path, body, &mut buffer).await {
                    Ok((200, start)) => {
                        let latency = due.elapsed();
                        m.answered += 1;
                        if latency <= DEADLINE {
                            m.in_time += 1;
                        }
                        if failure_action(&buffer[start..]) {
                            m.failure_action += 1;
                        }
                        m.latencies.push(latency);
                    }
                    Ok(_) | Err(_) => {
                        m.errors += 1;
                        if cutoff.is_some_and(|t| due < t) {
                            m.lost_before_cutoff += 1;
                        }
                        stream = None;
                    }
                }
            }
            m
        }));
    }
    let mut total = Measured::default();
    for t in tasks {
        if let Ok(m) = t.await {
            total.merge(m);
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total
}

struct Row {
    phase: String,
    offered: String,
    measured: Measured,
    rss_start: f64,
    rss_end: f64,
    outcome: String,
    /// Whether the drill held; any that did not makes the command fail.
    passed: bool,
}

fn print(rows: &[Row]) {
    println!(
        "{:<22} {:>14} {:>9} {:>8} {:>9} {:>8} {:>7} {:>9} {:>9}  outcome",
        "phase", "offered", "answers/s", "p99 ms", "in time", "failure", "errors", "RSS start", "RSS end"
    );
    for r in rows {
        let m = &r.measured;
        println!(
            "{:<22} {:>14} {:>9.0} {:>8.1} {:>8.1}% {:>8} {:>7} {:>8.1}M {:>8.1}M  {}",
            r.phase,
            r.offered,
            m.rate(),
            m.p99_ms(),
            100.0 * m.in_time as f64 / (m.answered.max(1)) as f64,
            m.failure_action,
            m.errors,
            r.rss_start,
            r.rss_end,
            r.outcome
        );
    }
}

pub async fn run(policies: &Path, seconds: u64, soak_minutes: u64, seed: u64) -> Result<()> {
    let binary = webhook_binary()?;
    let dir = tempfile::tempdir()?;
    let tls = dir.path().join("tls");
    let first = policy_webhook::dev::certificate(&tls, &["localhost".to_string()])?;
    let next_dir = dir.path().join("tls-next");
    let next = policy_webhook::dev::certificate(&next_dir, &["localhost".to_string()])?;
    let client = client(&[first.cert.clone(), next.cert.clone()])?;
    let mut webhook = start(&binary, dir.path(), policies, &client, None).await?;
    let bodies = Arc::new(requests(2_000, seed));
    let phase = Duration::from_secs(seconds.max(5));
    let mut rows = Vec::new();

    // Capacity: closed loop on 8 connections.
    let sustained = Offer { connections: 8, rate: None, duration: phase, reconnect_every: None };
    let rss = webhook.rss_mib();
    let base = offer(webhook.address, &client, &bodies, sustained, None).await;
    let capacity = base.rate();
    let base_p99 = base.p99_ms();
    rows.push(Row {
        phase: "sustained (closed loop)".into(),
        offered: "8 connections".into(),
        rss_start: rss,
        rss_end: webhook.rss_mib(),
        outcome: format!("{} errors", base.errors),
        passed: base.errors == 0,
        measured: base,
    });

    // Overload: five times that, open loop, on 256 connections.
    let rss = webhook.rss_mib();
    let over = offer(
        webhook.address,
        &client,
        &bodies,
        Offer { connections: 256, rate: Some(5.0 * capacity), duration: phase, reconnect_every: None },
        None,
    )
    .await;
    let rss_peak = webhook.rss_mib();
    let answered_in_time = over.in_time == over.answered && over.errors == 0;
    rows.push(Row {
        phase: "overload 5x".into(),
        offered: format!("{:.0}/s", 5.0 * capacity),
        rss_start: rss,
        rss_end: rss_peak,
        outcome: if answered_in_time {
            "every answer in time".into()
        } else {
            format!("{} late, {} errors", over.answered - over.in_time, over.errors)
        },
        passed: answered_in_time,
        measured: over,
    });

    // Recovery: the sustained load again, at once.
    let rss = webhook.rss_mib();
    let again = offer(webhook.address, &client, &bodies, sustained, None).await;
    let recovered = again.p99_ms() <= 2.0 * base_p99 && again.rate() >= 0.8 * capacity && again.failure_action == 0;
    rows.push(Row {
        phase: "recovery".into(),
        offered: "8 connections".into(),
        rss_start: rss,
        rss_end: webhook.rss_mib(),
        outcome: if recovered { "recovered".into() } else { "NOT recovered".into() },
        passed: recovered,
        measured: again,
    });

    let steady = Offer { connections: 16, rate: Some(0.5 * capacity), duration: phase, reconnect_every: None };

    // A broken bundle pushed under load: the last good generation serves, /readyz says so.
    let rss = webhook.rss_mib();
    let rego = webhook.bundle.join("kubernetes/require-probes/policy.rego");
    let good = std::fs::read_to_string(&rego)?;
    let load = offer(webhook.address, &client, &bodies, steady, None);
    let push = async {
        tokio::time::sleep(phase / 4).await;
        std::fs::write(&rego, format!("{good}\nthis is not rego {{\n"))?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let seen = get(webhook.address, &client, "/readyz").await?;
        std::fs::write(&rego, &good)?;
        anyhow::Ok(seen)
    };
    let (measured, seen) = tokio::join!(load, push);
    let (status, body) = seen?;
    let reported = body.contains("require-probes") || body.to_lowercase().contains("reload");
    rows.push(Row {
        phase: "broken bundle pushed".into(),
        offered: format!("{:.0}/s", 0.5 * capacity),
        rss_start: rss,
        rss_end: webhook.rss_mib(),
        outcome: format!(
            "/readyz {status}{}; {} errors",
            if reported { ", reports the failed reload" } else { ", says NOTHING of it" },
            measured.errors
        ),
        passed: reported && measured.errors == 0,
        measured,
    });

    // Certificate files rotated under load, with a new connection every 20 requests.
    let rss = webhook.rss_mib();
    let rotating = Offer { reconnect_every: Some(20), ..steady };
    let load = offer(webhook.address, &client, &bodies, rotating, None);
    let tls_dir = webhook.tls.clone();
    let rotate = async {
        tokio::time::sleep(phase / 3).await;
        // Each file replaced atomically; the key first, as a rotation tool writes them.
        for name in ["tls.key", "tls.crt"] {
            let staged = tls_dir.join(format!("{name}.new"));
            std::fs::copy(next_dir.join(name), &staged)?;
            std::fs::rename(&staged, tls_dir.join(name))?;
        }
        anyhow::Ok(())
    };
    let (measured, rotated) = tokio::join!(load, rotate);
    rotated?;
    let served_new = serving_certificate(webhook.address, &next.cert).await.unwrap_or(false);
    rows.push(Row {
        phase: "certificate rotated".into(),
        offered: format!("{:.0}/s", 0.5 * capacity),
        rss_start: rss,
        rss_end: webhook.rss_mib(),
        outcome: format!(
            "{} failed requests or handshakes; {}",
            measured.errors,
            if served_new { "the new certificate is served" } else { "the OLD certificate is still served" }
        ),
        passed: served_new && measured.errors == 0,
        measured,
    });

    // The inventory's watch fails under load: a second webhook, on a cluster of its own.
    let inventory_dir = dir.path().join("inventory");
    copy_tree(&tls, &inventory_dir.join("tls"))?;
    rows.push(inventory::drill(&binary, &inventory_dir, policies, &client, &bodies, steady).await?);

    // Soak: the steady load for the given minutes, memory and p99 sampled every 30 s.
    if soak_minutes > 0 {
        let rss = webhook.rss_mib();
        let mut soak = Measured::default();
        let mut samples = Vec::new();
        let windows = (soak_minutes * 2).max(1);
        for _ in 0..windows {
            let window = Offer { duration: Duration::from_secs(30), ..sustained };
            let window = offer(webhook.address, &client, &bodies, window, None).await;
            samples.push((webhook.rss_mib(), window.p99_ms()));
            soak.seconds += window.seconds;
            soak.merge(window);
        }
        let series: Vec<String> = samples.iter().map(|(r, p)| format!("{r:.0}M/{p:.1}ms")).collect();
        println!("soak samples every 30 s (RSS/p99): {}", series.join(" "));
        let grew = samples.last().map_or(0.0, |l| l.0) - samples.get(1).or(samples.first()).map_or(0.0, |f| f.0);
        rows.push(Row {
            phase: format!("soak {soak_minutes} min"),
            offered: "8 connections".into(),
            rss_start: rss,
            rss_end: webhook.rss_mib(),
            outcome: format!("RSS {grew:+.1} MiB after the first minute; {} errors", soak.errors),
            passed: soak.errors == 0,
            measured: soak,
        });
    }

    // SIGTERM under load: no request sent before the signal goes unanswered.
    let rss = webhook.rss_mib();
    let signal_at = Instant::now() + phase / 2;
    let load = offer(webhook.address, &client, &bodies, steady, Some(signal_at));
    let pid = webhook.child.id();
    let terminate = async {
        tokio::time::sleep_until(signal_at.into()).await;
        let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        anyhow::Ok(())
    };
    let (measured, signalled) = tokio::join!(load, terminate);
    signalled?;
    let exit = tokio::task::spawn_blocking(move || webhook.child.wait().map(|s| s.code())).await??;
    rows.push(Row {
        phase: "SIGTERM".into(),
        offered: format!("{:.0}/s", 0.5 * capacity),
        rss_start: rss,
        rss_end: f64::NAN,
        outcome: format!(
            "{} sent before the signal unanswered; exit {}",
            measured.lost_before_cutoff,
            exit.map_or("by signal".into(), |c| c.to_string())
        ),
        passed: measured.lost_before_cutoff == 0 && exit == Some(0),
        measured,
    });

    print(&rows);
    println!(
        "(the webhook: {}, {} CPUs; deadline {} s per review)",
        binary.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        DEADLINE.as_secs()
    );
    if rows.iter().any(|r| !r.passed) {
        return Err(anyhow!("a drill failed (see the outcome column)"));
    }
    Ok(())
}

/// Whether the server presents `expected` on a new connection.
async fn serving_certificate(address: std::net::SocketAddr, expected: &Path) -> Result<bool> {
    let client = client(&[expected.to_path_buf()])?;
    Ok(connect(address, &client).await.is_ok())
}
