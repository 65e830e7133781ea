//! `gatehouse-bench signatures`: signature verification against Debian's docker-registry on
//! loopback (images pushed by skopeo, signed by openssl), cold (every image's first check: its
//! tag, its signature manifest, its payload) and warm (from the cache), then whole admission
//! reviews of the security webhook, in process, with the verdicts warm, against the same
//! reviews without signature rules.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gatehouse_signatures::testing::{LoopbackRegistry, key_pair, push_image, sign, tools};
use gatehouse_signatures::{CacheSettings, KeySet, PublicKey, Registry, Verdict, Verifier};
use policy_webhook::admission::Safety;
use policy_webhook::generation::{self, BundleSource, InventoryState, Live};
use policy_webhook::server::{AppState, router};
use serde_json::json;

use crate::percentile;

fn summary(label: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{label:<44} n={:<6} p50 {:>8.0} µs   p99 {:>8.0} µs   max {:>8.0} µs",
        latencies.len(),
        us(percentile(&latencies, 50.0)),
        us(percentile(&latencies, 99.0)),
        us(*latencies.last().unwrap_or(&Duration::ZERO))
    );
}

fn config(host: &str, pem: &str, rules: bool) -> String {
    let key: String = pem.lines().map(|l| format!("          {l}\n")).collect();
    let mut text = format!(
        "policies:\n  allowed-registries:\n    parameters:\n      registries: [{host}/]\n  require-default-deny-networkpolicy:\n    enabled: false\n"
    );
    if rules {
        text.push_str(&format!(
            "imageVerification:\n  plainHttp: [\"{host}\"]\n  rules:\n    - name: shop\n      images: [\"{host}/shop/*\"]\n      keys:\n        - |\n{key}"
        ));
    }
    text
}

async fn admissions(
    policies: &Path,
    dir: &Path,
    config_text: &str,
    bodies: &[Vec<u8>],
    rounds: usize,
) -> Result<Vec<Duration>> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let file = dir.join(format!("gatehouse-{}.yaml", config_text.len()));
    std::fs::write(&file, config_text)?;
    let bundle = BundleSource::new(policies, Some(&file)).load().map_err(|e| anyhow::anyhow!("{e}"))?;
    let first =
        generation::build(1, &bundle, &gatehouse_engine::Inventory::new(), 0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let live = Arc::new(Live::new(first, policies, InventoryState::Off { without: Vec::new() }));
    let state = Arc::new(AppState::new(live, Safety::new("gatehouse-system"), false, 4));
    let app = router(state);
    let mut latencies = Vec::new();
    for round in 0..rounds + 1 {
        for body in bodies {
            let request = axum::http::Request::post("/validate/security?timeout=10s")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.clone()))?;
            let started = Instant::now();
            let response = app.clone().oneshot(request).await?;
            let bytes = response.into_body().collect().await?.to_bytes();
            let elapsed = started.elapsed();
            let answer: serde_json::Value = serde_json::from_slice(&bytes)?;
            if answer["response"]["allowed"] != true {
                bail!("a signed image was not admitted: {answer}");
            }
            // The first round fills the verdict cache and the evaluators.
            if round > 0 {
                latencies.push(elapsed);
            }
        }
    }
    Ok(latencies)
}

pub async fn run(policies: &Path, images: usize, rounds: usize) -> Result<()> {
    if !tools() {
        bail!("docker-registry, skopeo and openssl are needed: scripts/registry installs them");
    }
    let dir = tempfile::tempdir()?;
    let dir = dir.path();
    let registry = LoopbackRegistry::start(dir);
    let host = registry.host.clone();
    let (private, pem) = key_pair(dir, "release");
    let keys = KeySet::new(vec![PublicKey::from_pem("release", &pem).map_err(anyhow::Error::msg)?]);
    let started = Instant::now();
    let mut references = Vec::new();
    for i in 0..images {
        let repository = format!("shop/app{i}");
        let digest = push_image(dir, &host, &repository, "v1");
        sign(dir, &host, &repository, &digest, &private, false);
        references.push(format!("{host}/{repository}:v1"));
    }
    println!("{images} images pushed and signed in {:.1} s (registry {host})", started.elapsed().as_secs_f64());

    let registry_client = Registry::new(vec![host.clone()], Duration::from_secs(2)).map_err(anyhow::Error::msg)?;
    let verifier = Verifier::new(registry_client, CacheSettings::default());
    let mut cold = Vec::new();
    for image in &references {
        let started = Instant::now();
        let (verdict, _) = verifier.verify(image, &keys).await;
        cold.push(started.elapsed());
        if !matches!(verdict, Verdict::Verified { .. }) {
            bail!("{image}: {verdict:?}");
        }
    }
    let calls = verifier.registry().calls();
    let mut warm = Vec::new();
    for _ in 0..rounds {
        for image in &references {
            let started = Instant::now();
            let _ = verifier.verify(image, &keys).await;
            warm.push(started.elapsed());
        }
    }
    summary("verify, cold (tag, signature manifest, payload)", cold);
    summary("verify, warm (cached)", warm);
    println!("registry calls: {calls} for the cold checks, {} for the warm ones", verifier.registry().calls() - calls);

    let bundle_dir = dir.join("policies");
    for domain in ["kubernetes", "lib"] {
        crate::drills::copy_tree(&policies.join(domain), &bundle_dir.join(domain))
            .with_context(|| format!("copying {}", policies.join(domain).display()))?;
    }
    let web = std::fs::read_to_string(policies.join("../examples/shop/web.yaml"))
        .context("reading examples/shop/web.yaml beside the bundle")?;
    let deployment = gatehouse_engine::yaml::parse_documents(&web, &gatehouse_engine::yaml::Limits::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .filter_map(|d| d.root.map(|n| n.to_json()))
        .find(|d| d["kind"] == "Deployment")
        .context("no Deployment in examples/shop/web.yaml")?;
    let bodies: Vec<Vec<u8>> = references
        .iter()
        .map(|image| {
            let mut object = deployment.clone();
            object["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
            serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": "bench", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "namespace": "shop", "name": "web", "operation": "CREATE", "userInfo": {"username": "bench"},
                "object": object, "oldObject": null, "dryRun": false}}))
            .unwrap_or_default()
        })
        .collect();
    let without = admissions(&bundle_dir, dir, &config(&host, &pem, false), &bodies, rounds).await?;
    let before = registry.requests().len();
    let with = admissions(&bundle_dir, dir, &config(&host, &pem, true), &bodies, rounds).await?;
    summary("admission /validate/security, no signature rules", without);
    summary("admission /validate/security, signatures warm", with);
    println!(
        "registry requests during the admissions: {} (the first round's cold checks: {images} images x 3)",
        registry.requests().len() - before
    );
    Ok(())
}
