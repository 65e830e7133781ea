//! `gatehouse-bench webhook-load`: the webhook under load over TLS with keep-alive connections,
//! on loopback, with a realistic mix of reviews.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use gatehouse_engine::{Bundle, Config};
use policy_webhook::server::{AppState, router};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::corpus;

/// Bodies of AdmissionReviews for generated workloads: CREATE and UPDATE, validate and mutate.
pub(crate) fn requests(count: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = corpus::Rng::new(seed);
    (0..count)
        .map(|i| {
            let (object, _) = corpus::workload(&mut rng, i);
            let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_string();
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version.as_str()));
            let update = rng.chance(30);
            let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": format!("load-{i}"), "kind": {"group": group, "version": version, "kind": object["kind"]},
                "namespace": object["metadata"]["namespace"], "name": object["metadata"]["name"],
                "operation": if update { "UPDATE" } else { "CREATE" },
                "userInfo": {"username": "system:serviceaccount:kube-system:deployment-controller"},
                "object": object, "oldObject": if update { object.clone() } else { Value::Null }, "dryRun": false}});
            let path = if rng.chance(40) { "/mutate?timeout=10s" } else { "/validate?timeout=10s" };
            (path.to_string(), serde_json::to_vec(&body).unwrap_or_default())
        })
        .collect()
}

/// Sends one request on a keep-alive connection and reads the whole answer into `buffer`: its
/// status, and where its body starts in `buffer`. A GET when `body` is empty.
pub(crate) async fn exchange(
    stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    path: &str,
    body: &[u8],
    buffer: &mut Vec<u8>,
) -> Result<(u16, usize)> {
    let head = if body.is_empty() {
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
    } else {
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
    };
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    buffer.clear();
    let mut chunk = [0u8; 16384];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(anyhow!("the server closed the connection"));
        }
        buffer.extend_from_slice(&chunk[..n]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = std::str::from_utf8(&buffer[..end])?.to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse().ok()))
            .ok_or_else(|| anyhow!("no content-length"))?;
        if buffer.len() >= end + 4 + length {
            return Ok((head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0), end + 4));
        }
    }
}

fn peak_rss_mib() -> f64 {
    crate::peak_rss_kib() / 1024.0
}

pub async fn run(bundle_dir: &Path, connections: usize, duration: Duration, seed: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let certificate = policy_webhook::dev::certificate(dir.path(), &["localhost".to_string()])?;
    let bundle = Bundle::load(bundle_dir, &Config::default()).map_err(|e| anyhow!("{e}"))?;
    let state = Arc::new(
        AppState::for_bundle(&bundle, "gatehouse-system", false, policy_webhook::server::default_max_in_flight())
            .map_err(|e| anyhow!("{e}"))?,
    );
    let config = policy_webhook::tls::server_config(&certificate.cert, &certificate.key)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(policy_webhook::tls::serve(listener, config, router(state), async {
        let _ = stopped.await;
    }));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(&certificate.cert).context("the generated certificate")?)?;
    let client = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let bodies = Arc::new(requests(2_000, seed));
    let rss_before = peak_rss_mib();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (client, bodies) = (Arc::clone(&client), Arc::clone(&bodies));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let connector = tokio_rustls::TlsConnector::from(client);
            let tcp = tokio::net::TcpStream::connect(address).await?;
            tcp.set_nodelay(true)?;
            let mut stream = connector.connect(ServerName::try_from("localhost")?, tcp).await?;
            let mut buffer = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                let (path, body) = &bodies[i % bodies.len()];
                i += connections;
                let sent = Instant::now();
                match exchange(&mut stream, path, body, &mut buffer).await {
                    Ok((200, _)) => latencies.push(sent.elapsed()),
                    Ok(_) | Err(_) => errors += 1,
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await??;
        latencies.extend(l);
        errors += e;
    }
    let wall = started.elapsed();
    let _ = stop.send(());
    let _ = server.await;
    latencies.sort();
    let at = |p: f64| {
        latencies
            .get(((p / 100.0) * latencies.len() as f64).ceil() as usize)
            .or(latencies.last())
            .copied()
            .unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("connections: {connections}, duration: {:.1} s, over TLS with keep-alive on loopback", wall.as_secs_f64());
    println!(
        "{:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>15}",
        "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "peak RSS MiB"
    );
    println!(
        "{:>10} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>15.1}",
        latencies.len(),
        latencies.len() as f64 / wall.as_secs_f64(),
        ms(at(50.0)),
        ms(at(90.0)),
        ms(at(99.0)),
        ms(latencies.last().copied().unwrap_or_default()),
        errors,
        peak_rss_mib()
    );
    println!("(peak RSS is the whole process, load generator included; {rss_before:.1} MiB before the load)");
    Ok(())
}
