//! The webhook over real HTTPS: captured reviews, certificate rotation while a client stays
//! connected, hot reload of a good and of a broken bundle, and graceful shutdown with a request
//! in flight.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use common::copy_tree;
use gatehouse_engine::{Bundle, Config};
use policy_webhook::admission::Safety;
use policy_webhook::generation::{self, BundleSource, InventoryState, Live, Reloader};
use policy_webhook::server::{AppState, router};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::client::TlsStream;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Certificate {
    der: CertificateDer<'static>,
}

/// A fresh self-signed certificate for localhost, written over the given files.
fn write_certificate(cert: &Path, key: &Path) -> Certificate {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    std::fs::write(cert, generated.cert.pem()).expect("write cert");
    std::fs::write(key, generated.signing_key.serialize_pem()).expect("write key");
    Certificate { der: generated.cert.der().clone() }
}

async fn start(
    bundle: &Path,
    cert: &Path,
    key: &Path,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let bundle = Bundle::load(bundle, &Config::default()).expect("bundle");
    let state = Arc::new(AppState::for_bundle(&bundle, "gatehouse-system", false, 4).expect("state"));
    start_with(state, cert, key).await
}

async fn start_with(
    state: Arc<AppState>,
    cert: &Path,
    key: &Path,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let config = policy_webhook::tls::server_config(cert, key).expect("TLS config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(policy_webhook::tls::serve(listener, config, router(state), async {
        let _ = stopped.await;
    }));
    (address, stop, server)
}

async fn connect(address: SocketAddr, trusted: &[&Certificate]) -> TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for c in trusted {
        roots.add(c.der.clone()).expect("trust");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await.expect("connect");
    connector.connect(ServerName::try_from("localhost").expect("name"), tcp).await.expect("TLS handshake")
}

/// One HTTP/1.1 request on a kept-alive connection: status and body text.
async fn send(stream: &mut TlsStream<tokio::net::TcpStream>, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the connection closed before the answer");
        buffer.extend_from_slice(&chunk[..n]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().expect("length")))
            .expect("content-length");
        if buffer.len() >= end + 4 + length {
            let status = head[9..12].parse().expect("status");
            return (status, String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).into_owned());
        }
    }
}

/// POSTs a review and reads the JSON answer.
async fn exchange(stream: &mut TlsStream<tokio::net::TcpStream>, path: &str, body: &[u8]) -> (u16, Value) {
    let (status, text) = send(stream, "POST", path, body).await;
    (status, serde_json::from_str(&text).expect("JSON"))
}

fn captured_body() -> Vec<u8> {
    let text = std::fs::read_to_string(
        repo().join("tests/fixtures/admission-review/kube-apiserver-v1.32/validate-CREATE-Deployment-1.json"),
    )
    .expect("fixture");
    let capture: Value = serde_json::from_str(&text).expect("JSON");
    serde_json::to_vec(&capture["body"]).expect("bytes")
}

#[tokio::test]
async fn reviews_are_answered_over_https_and_a_rotated_certificate_is_served_without_dropping_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let first = write_certificate(&cert, &key);
    let (address, stop, server) = start(&repo().join("policies"), &cert, &key).await;

    let mut kept = connect(address, &[&first]).await;
    let (status, answer) = exchange(&mut kept, "/validate?timeout=10s", &captured_body()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["response"]["allowed"], false);

    // cert-manager rotates the files; the next handshake serves the new certificate.
    let second = write_certificate(&cert, &key);
    let later = SystemTime::now() + Duration::from_secs(5);
    for f in [&cert, &key] {
        std::fs::File::options().write(true).open(f).expect("open").set_modified(later).expect("touch");
    }
    let fresh = connect(address, &[&first, &second]).await;
    let served = fresh.get_ref().1.peer_certificates().expect("peer certificates")[0].clone();
    assert_eq!(served, second.der, "a new connection gets the rotated certificate");
    // The connection opened before the rotation still answers.
    let (status, _) = exchange(&mut kept, "/validate?timeout=10s", &captured_body()).await;
    assert_eq!(status, 200);

    // A rotation that is half-written keeps the last good certificate.
    std::fs::write(&key, "not a key").expect("write");
    let still = connect(address, &[&first, &second]).await;
    assert_eq!(still.get_ref().1.peer_certificates().expect("peer")[0], second.der);

    let _ = stop.send(());
    drop((kept, fresh, still));
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("stops").expect("joins");
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let certificate = write_certificate(&cert, &key);
    // A policy that takes about a second on ConfigMaps keeps the request in flight.
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(bundle.join("kubernetes/slow")).expect("mkdir");
    std::fs::write(bundle.join("kubernetes/slow/policy.yaml"), "id: slow\ntitle: Slow\ndescription: Slow.\nseverity: low\ncategory: test\nguideline: {section: S, bullet: B}\ntargets: [{apiGroups: [''], kinds: [ConfigMap]}]\nremediation: None.\n").expect("write");
    std::fs::write(bundle.join("kubernetes/slow/policy.rego"), "package t.slow\n\nviolation contains {\"msg\": \"slow\"} if {\n\tinput.review.object.kind == \"ConfigMap\"\n\tn := count([x | some i in numbers.range(1, 1500); some j in numbers.range(1, 1500); x := i + j])\n\tn > 0\n}\n").expect("write");
    let (address, stop, server) = start(&bundle, &cert, &key).await;
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"}, "namespace": "team", "name": "c",
        "operation": "CREATE", "userInfo": {"username": "alice"},
        "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}}}});
    let mut client = connect(address, &[&certificate]).await;
    let body = serde_json::to_vec(&review).expect("bytes");
    let in_flight = tokio::spawn(async move { exchange(&mut client, "/validate?timeout=30s", &body).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = stop.send(());
    let (status, answer) =
        tokio::time::timeout(Duration::from_secs(30), in_flight).await.expect("answered").expect("task");
    assert_eq!(status, 200);
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], false, "the slow policy's violation, not an error");
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("stops after the request").expect("joins");
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_bundle_is_swapped_in_and_a_broken_one_leaves_the_last_good_in_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let trusted = write_certificate(&cert, &key);
    let policies = dir.path().join("policies");
    copy_tree(&repo().join("policies"), &policies);

    let mut source = BundleSource::new(&policies, None);
    let bundle = source.load().expect("bundle");
    let first = generation::build(1, &bundle, &gatehouse_engine::Inventory::new(), 0).expect("generation");
    let live = Arc::new(Live::new(first, &policies, InventoryState::Off { without: Vec::new() }));
    let state = Arc::new(AppState::new(Arc::clone(&live), Safety::new("gatehouse-system"), false, 4));
    let stop_reloading = Arc::new(AtomicBool::new(false));
    let reloader = Reloader::new(source, bundle, None, Arc::clone(&live))
        .spawn(Duration::from_millis(50), Arc::clone(&stop_reloading))
        .expect("reloader");
    let (address, stop, server) = start_with(state, &cert, &key).await;
    let mut client = connect(address, &[&trusted]).await;

    let (_, answer) = exchange(&mut client, "/validate?timeout=10s", &captured_body()).await;
    let message = answer["response"]["status"]["message"].as_str().expect("denied").to_string();
    assert!(message.contains("[require-probes]"), "{message}");

    // The security team turns require-probes to warn: generation 2 warns instead of denying.
    let metadata = policies.join("kubernetes/require-probes/policy.yaml");
    let text = std::fs::read_to_string(&metadata).expect("policy.yaml");
    assert!(text.contains("\nenforcement: deny\n"), "require-probes denies to begin with");
    std::fs::write(&metadata, text.replace("\nenforcement: deny\n", "\nenforcement: warn\n")).expect("write");
    wait_for("generation 2 is in force", || live.current().number == 2).await;
    let (_, answer) = exchange(&mut client, "/validate?timeout=10s", &captured_body()).await;
    let message = answer["response"]["status"]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("[require-probes]"), "{message}");
    assert!(answer["response"]["warnings"].to_string().contains("[require-probes]"), "{answer}");

    // A Rego syntax error: reported, and generation 2 keeps answering on the same connection.
    let rego = policies.join("kubernetes/require-probes/policy.rego");
    let good_rego = std::fs::read_to_string(&rego).expect("policy.rego");
    std::fs::write(&rego, format!("{good_rego}\nviolation contains msg if {{ msg := \n")).expect("write");
    wait_for("the reload fails", || live.last_failure().is_some()).await;
    let (status, readiness) = send(&mut client, "GET", "/readyz", b"").await;
    assert_eq!(status, 200, "the last good generation still serves: {readiness}");
    assert!(readiness.contains("the last reload failed"), "{readiness}");
    assert!(readiness.contains("generation 2 stays in force"), "{readiness}");
    assert!(readiness.contains("require-probes/policy.rego:"), "the error names the file: {readiness}");
    let (_, metrics) = send(&mut client, "GET", "/metrics", b"").await;
    assert!(metrics.contains("gatehouse_bundle_generation 2\n"), "{metrics}");
    assert!(metrics.contains("gatehouse_bundle_reload_failures_total 1\n"), "{metrics}");
    assert!(metrics.contains("gatehouse_bundle_reload_failing 1\n"), "{metrics}");
    let (_, answer) = exchange(&mut client, "/validate?timeout=10s", &captured_body()).await;
    assert!(answer["response"]["warnings"].to_string().contains("[require-probes]"), "{answer}");

    // Mended: generation 3, and the failure is cleared.
    std::fs::write(&rego, &good_rego).expect("write");
    wait_for("generation 3 is in force", || live.current().number == 3).await;
    let (_, metrics) = send(&mut client, "GET", "/metrics", b"").await;
    assert!(metrics.contains("gatehouse_bundle_reload_failing 0\n"), "{metrics}");
    assert!(metrics.contains("gatehouse_bundle_reloads_total 2\n"), "{metrics}");

    stop_reloading.store(true, Ordering::Relaxed);
    let _ = stop.send(());
    server.await.expect("server stops");
    reloader.join().expect("reloader stops");
}
