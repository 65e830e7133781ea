//! Verification against a real OCI registry on loopback: Debian's `docker-registry`, images
//! built here as OCI layouts and pushed by `skopeo`, keys made and payloads signed by
//! `openssl` (an implementation independent of the verifier's, in cosign's formats: a PEM
//! P-256 public key, a DER ECDSA SHA-256 signature of the simple-signing payload). Without the
//! two programs the tests say so and pass, unless GATEHOUSE_REQUIRE_REGISTRY=1 (the test
//! command installs them and sets it).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use gatehouse_signatures::cache::Source;
use gatehouse_signatures::{CacheSettings, Digest, KeySet, PublicKey, Registry, Verdict, Verifier};
use serde_json::json;

fn available(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Whether the registry tests can run here; false (with a note) when a program is missing and
/// not required.
fn tools() -> bool {
    let missing: Vec<&str> = ["docker-registry", "skopeo", "openssl"].into_iter().filter(|p| !available(p)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("GATEHOUSE_REQUIRE_REGISTRY").as_deref() != Ok("1"),
        "GATEHOUSE_REQUIRE_REGISTRY=1 but {} not installed (scripts/registry installs them)",
        missing.join(", ")
    );
    eprintln!("skipped: {} not installed (scripts/registry installs them)", missing.join(", "));
    false
}

fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// `docker-registry serve` on a free loopback port, its access log in a file.
struct LoopbackRegistry {
    child: Child,
    host: String,
    log: PathBuf,
}

impl Drop for LoopbackRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LoopbackRegistry {
    fn start(dir: &Path) -> LoopbackRegistry {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("address").port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
                dir.join("data").display()
            ),
        )
        .expect("config");
        let log = dir.join("registry.log");
        let file = std::fs::File::create(&log).expect("log");
        let child = Command::new("docker-registry")
            .args(["serve", &config.display().to_string()])
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("docker-registry starts");
        let registry = LoopbackRegistry { child, host, log };
        let started = Instant::now();
        while std::net::TcpStream::connect(&registry.host).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "the registry did not listen in 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// The requests of the access log (`127.0.0.1 - - [...] "GET /v2/... HTTP/1.1" 200 ...`), as
    /// `METHOD path`.
    fn requests(&self) -> Vec<String> {
        let file = std::fs::File::open(&self.log).expect("log");
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                let request = l.split('"').find(|part| part.ends_with(" HTTP/1.1"))?;
                Some(request.trim_end_matches(" HTTP/1.1").to_string())
            })
            .filter(|r| !r.ends_with(" /v2/"))
            .collect()
    }
}

fn write_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = Digest::of(bytes).to_string();
    let hex = digest.trim_start_matches("sha256:");
    std::fs::write(layout.join("blobs/sha256").join(hex), bytes).expect("blob");
    (digest, bytes.len())
}

/// An OCI layout holding one manifest under `tag`, with `config` and one layer.
fn layout(dir: &Path, tag: &str, config: &[u8], layer: (&str, &[u8], Option<serde_json::Value>)) -> (PathBuf, String) {
    let layout = dir.join(format!("layout-{}", Digest::of(config).as_str().trim_start_matches("sha256:")));
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("layout");
    std::fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    let (config_digest, config_size) = write_blob(&layout, config);
    let (layer_digest, layer_size) = write_blob(&layout, layer.1);
    let mut layer_descriptor = json!({"mediaType": layer.0, "digest": layer_digest, "size": layer_size});
    if let Some(annotations) = layer.2 {
        layer_descriptor["annotations"] = annotations;
    }
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [layer_descriptor]}))
    .expect("manifest");
    let (manifest_digest, manifest_size) = write_blob(&layout, &manifest);
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest, "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": tag}}]});
    std::fs::write(layout.join("index.json"), index.to_string()).expect("index");
    (layout, manifest_digest)
}

fn push(layout: &Path, tag: &str, destination: &str) {
    run(Command::new("skopeo").args([
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--preserve-digests",
        &format!("oci:{}:{tag}", layout.display()),
        &format!("docker://{destination}"),
    ]));
}

/// Builds a one-file image and pushes it as `host/repository:tag`; its manifest digest.
fn push_image(dir: &Path, host: &str, repository: &str, tag: &str) -> String {
    let root = dir.join(format!("rootfs-{repository}-{tag}").replace('/', "-"));
    std::fs::create_dir_all(&root).expect("rootfs");
    std::fs::write(root.join("app.txt"), format!("{repository}:{tag}\n")).expect("file");
    let tar = run(Command::new("tar").args(["-C", &root.display().to_string(), "-cf", "-", "app.txt"]));
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&tar).to_string()]}, "config": {}}))
    .expect("config");
    let (layout, digest) = layout(dir, tag, &config, ("application/vnd.oci.image.layer.v1.tar", &tar, None));
    push(&layout, tag, &format!("{host}/{repository}:{tag}"));
    digest
}

/// A P-256 key pair made by openssl: the private key's file and the public key's PEM.
fn key_pair(dir: &Path, name: &str) -> (PathBuf, String) {
    let private = dir.join(format!("{name}.key"));
    run(Command::new("openssl").args(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out"]).arg(&private));
    let public = run(Command::new("openssl").args(["ec", "-pubout", "-in"]).arg(&private).stderr(Stdio::null()));
    (private, String::from_utf8(public).expect("PEM"))
}

/// Signs `digest` as `cosign sign --key` does and pushes the signature manifest beside the
/// image; `tamper` changes the payload after signing.
fn sign(dir: &Path, host: &str, repository: &str, digest: &str, private: &Path, tamper: bool) {
    let payload = json!({"critical": {"identity": {"docker-reference": format!("{host}/{repository}")},
        "image": {"docker-manifest-digest": digest}, "type": "cosign container image signature"}, "optional": null})
    .to_string();
    let payload_file =
        dir.join(format!("payload-{}.json", Digest::of(payload.as_bytes()).as_str().trim_start_matches("sha256:")));
    std::fs::write(&payload_file, &payload).expect("payload");
    let signature = run(Command::new("openssl").args(["dgst", "-sha256", "-sign"]).arg(private).arg(&payload_file));
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    let payload = if tamper { payload.replace(repository, "evil/image") } else { payload };
    let config = serde_json::to_vec(&json!({"architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(payload.as_bytes()).to_string()]}}))
    .expect("config");
    let annotations = json!({"dev.cosignproject.cosign/signature": signature});
    let (layout, _) = layout(
        dir,
        "sig",
        &config,
        ("application/vnd.dev.cosign.simplesigning.v1+json", payload.as_bytes(), Some(annotations)),
    );
    let tag = Digest::parse(digest).expect("digest").signature_tag();
    push(&layout, "sig", &format!("{host}/{repository}:{tag}"));
}

fn verifier_for(host: &str, timeout: Duration) -> Verifier {
    Verifier::new(Registry::new(vec![host.to_string()], timeout).expect("client"), CacheSettings::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_against_a_real_registry_and_verdicts_cached_by_digest() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let registry = LoopbackRegistry::start(dir);
    let host = registry.host.clone();
    let (ours, ours_pem) = key_pair(dir, "ours");
    let (theirs, _) = key_pair(dir, "theirs");
    let keys = KeySet::new(vec![PublicKey::from_pem("ours", &ours_pem).expect("key")]);

    let signed = push_image(dir, &host, "shop/web", "v1");
    sign(dir, &host, "shop/web", &signed, &ours, false);
    let unsigned = push_image(dir, &host, "shop/unsigned", "v1");
    let foreign = push_image(dir, &host, "shop/foreign", "v1");
    sign(dir, &host, "shop/foreign", &foreign, &theirs, false);
    let tampered = push_image(dir, &host, "shop/tampered", "v1");
    sign(dir, &host, "shop/tampered", &tampered, &ours, true);
    let verifier = verifier_for(&host, Duration::from_secs(5));

    let (verdict, _) = verifier.verify(&format!("{host}/shop/web:v1"), &keys).await;
    assert_eq!(verdict, Verdict::Verified { digest: Digest::parse(&signed).expect("digest"), key: "ours".into() });
    let (verdict, _) = verifier.verify(&format!("{host}/shop/unsigned:v1"), &keys).await;
    assert_eq!(verdict, Verdict::Unsigned { digest: Digest::parse(&unsigned).expect("digest") });
    let (verdict, _) = verifier.verify(&format!("{host}/shop/foreign:v1"), &keys).await;
    assert!(
        matches!(&verdict, Verdict::Invalid { reasons, .. } if reasons[0].contains("none of the keys (ours)")),
        "{verdict:?}"
    );
    let (verdict, _) = verifier.verify(&format!("{host}/shop/tampered:v1"), &keys).await;
    assert!(matches!(&verdict, Verdict::Invalid { .. }), "a tampered payload: {verdict:?}");
    let (verdict, _) = verifier.verify(&format!("{host}/shop/web:v2"), &keys).await;
    assert!(
        matches!(&verdict, Verdict::Malformed { reason } if reason.contains("no such image or tag")),
        "{verdict:?}"
    );

    // The same digest again, by digest: no registry call at all, by the registry's own log.
    let before = registry.requests();
    let (verdict, source) = verifier.verify(&format!("{host}/shop/web@{signed}"), &keys).await;
    assert!(matches!(verdict, Verdict::Verified { .. }) && source == Source::Cached, "{verdict:?} {source:?}");
    assert_eq!(registry.requests(), before, "a cached digest asks the registry nothing");

    // Twenty concurrent admissions of a new image share one lookup.
    let fresh = push_image(dir, &host, "shop/fresh", "v1");
    sign(dir, &host, "shop/fresh", &fresh, &ours, false);
    let verifier = Arc::new(verifier);
    let before = registry.requests().len();
    let mut checks = Vec::new();
    for _ in 0..20 {
        let (verifier, keys, image) = (Arc::clone(&verifier), keys.clone(), format!("{host}/shop/fresh@{fresh}"));
        checks.push(tokio::spawn(async move { verifier.verify(&image, &keys).await }));
    }
    for check in checks {
        assert!(matches!(check.await.expect("check").0, Verdict::Verified { .. }));
    }
    let asked: Vec<String> = registry.requests().split_off(before);
    assert_eq!(asked.len(), 2, "the signature manifest and its payload, once: {asked:?}");
    assert!(asked[0].contains("/manifests/sha256-") && asked[1].contains("/blobs/sha256:"), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_or_silent_is_unavailable_within_the_timeout() {
    // Nothing listens: refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("address");
    let verifier = verifier_for(&closed.to_string(), Duration::from_millis(500));
    let keys = KeySet::new(Vec::new());
    let started = Instant::now();
    let (verdict, _) = verifier.verify(&format!("{closed}/shop/web:v1"), &keys).await;
    assert!(matches!(&verdict, Verdict::Unavailable { reason } if reason.contains(&closed.to_string())), "{verdict:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // A registry that accepts and never answers: unavailable once the timeout passes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let address = silent.local_addr().expect("address").to_string();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let verifier = verifier_for(&address, Duration::from_millis(300));
    let started = Instant::now();
    let (verdict, _) = verifier.verify(&format!("{address}/shop/web@sha256:{}", "a".repeat(64)), &keys).await;
    assert!(
        matches!(&verdict, Verdict::Unavailable { reason } if reason.contains("no answer within 300 ms")),
        "{verdict:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}
