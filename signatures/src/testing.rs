//! A real OCI registry on loopback for tests (Debian's `docker-registry`), images built as OCI
//! layouts and pushed by `skopeo`, keys made and payloads signed by `openssl`: an implementation
//! independent of the verifier's, in cosign's formats (a PEM P-256 public key, a DER ECDSA
//! SHA-256 signature of the simple-signing payload, stored under `sha256-<hex>.sig`).
//!
//! Built only with the `test-registry` feature, for this workspace's tests. Without the three
//! programs [`tools`] says so and returns false, unless GATEHOUSE_REQUIRE_REGISTRY=1 (the test
//! command installs them with scripts/registry and sets it), where it panics.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;

use crate::Digest;

fn available(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Whether the registry tests can run here; false (with a note) when a program is missing and
/// not required.
pub fn tools() -> bool {
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
#[derive(Debug)]
pub struct LoopbackRegistry {
    child: Child,
    pub host: String,
    log: PathBuf,
}

impl Drop for LoopbackRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LoopbackRegistry {
    pub fn start(dir: &Path) -> LoopbackRegistry {
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

    /// Stops it: the registry is down from now on.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The requests of the access log (`127.0.0.1 - - [...] "GET /v2/... HTTP/1.1" 200 ...`), as
    /// `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
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
pub fn push_image(dir: &Path, host: &str, repository: &str, tag: &str) -> String {
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
pub fn key_pair(dir: &Path, name: &str) -> (PathBuf, String) {
    let private = dir.join(format!("{name}.key"));
    run(Command::new("openssl").args(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out"]).arg(&private));
    let public = run(Command::new("openssl").args(["ec", "-pubout", "-in"]).arg(&private).stderr(Stdio::null()));
    (private, String::from_utf8(public).expect("PEM"))
}

/// Signs `digest` as `cosign sign --key` does and pushes the signature manifest beside the
/// image; `tamper` changes the payload after signing.
pub fn sign(dir: &Path, host: &str, repository: &str, digest: &str, private: &Path, tamper: bool) {
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

/// Attests a vulnerability scan of `digest` as `cosign attest --type vuln --key` does: an
/// in-toto statement whose predicate holds a trivy report with `vulnerabilities` (id, severity,
/// fixed version) and `scanned` as `scanFinishedOn`, in a DSSE envelope signed by openssl over
/// DSSE's pre-authentication encoding, pushed under `sha256-<hex>.att`.
pub fn attest(
    dir: &Path,
    host: &str,
    repository: &str,
    digest: &str,
    private: &Path,
    scanned: &str,
    vulnerabilities: &[(&str, &str, &str)],
) {
    let found: Vec<serde_json::Value> = vulnerabilities
        .iter()
        .map(|(id, severity, fixed)| {
            json!({"VulnerabilityID": id, "PkgName": "openssl", "InstalledVersion": "3.0.2", "FixedVersion": fixed, "Severity": severity})
        })
        .collect();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": crate::attestation::VULN_PREDICATE,
        "subject": [{"name": format!("{host}/{repository}"), "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
        "predicate": {
            "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.56.2", "version": "0.56.2",
                "result": {"SchemaVersion": 2, "ArtifactName": format!("{host}/{repository}"), "ArtifactType": "container_image",
                    "Results": [{"Target": "app (debian 12.7)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": found}]}},
            "metadata": {"scanStartedOn": scanned, "scanFinishedOn": scanned},
        },
    })
    .to_string();
    let payload_type = "application/vnd.in-toto+json";
    let signed = crate::attestation::pae(payload_type, statement.as_bytes());
    let signed_file = dir.join(format!("pae-{}", Digest::of(&signed).as_str().trim_start_matches("sha256:")));
    std::fs::write(&signed_file, &signed).expect("PAE");
    let signature = run(Command::new("openssl").args(["dgst", "-sha256", "-sign"]).arg(private).arg(&signed_file));
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = json!({"payloadType": payload_type, "payload": b64.encode(statement.as_bytes()),
        "signatures": [{"keyid": "", "sig": b64.encode(signature)}]})
    .to_string();
    let config = serde_json::to_vec(&json!({"architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(envelope.as_bytes()).to_string()]}}))
    .expect("config");
    let annotations = json!({"predicateType": crate::attestation::VULN_PREDICATE});
    let (layout, _) =
        layout(dir, "att", &config, (crate::attestation::DSSE_ENVELOPE, envelope.as_bytes(), Some(annotations)));
    let tag = Digest::parse(digest).expect("digest").signature_tag().replace(".sig", ".att");
    push(&layout, "att", &format!("{host}/{repository}:{tag}"));
}
