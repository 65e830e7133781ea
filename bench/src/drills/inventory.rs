//! The inventory watch failing and resuming under steady load: a webhook whose cluster is a fake
//! API server in this process. The server goes down for a while; a PodDisruptionBudget is made
//! meanwhile. A probe sends the shop's Deployment (denied for want of a budget while the
//! inventory has none) and reads /readyz every 50 ms, to time when readiness drops and returns,
//! and to show that no review that reads the inventory is judged from it while it is stale.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use gatehouse_audit::fake_apiserver::{FakeApiServer, Served};
use gatehouse_engine::yaml::{Limits, parse_documents};
use serde_json::{Value, json};

use super::{Offer, Row, Webhook, get, offer, request, start};

const SHOP: &str = include_str!("../../../examples/shop/namespace.yaml");
const WEB: &str = include_str!("../../../examples/shop/web.yaml");

fn find(text: &str, kind: &str) -> Result<Value> {
    let documents = parse_documents(text, &Limits::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    documents
        .into_iter()
        .filter_map(|d| d.root.map(|n| n.to_json()))
        .find(|d| d["kind"] == kind)
        .with_context(|| format!("no {kind} in the shop example"))
}

fn kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: drill\n  cluster: {{server: \"{url}\"}}\nusers:\n- name: drill\n  user: {{}}\ncontexts:\n- name: drill\n  context: {{cluster: drill, user: drill}}\ncurrent-context: drill\n"
    )
}

/// What the probe saw at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Judged, and denied for want of a budget.
    NoBudget,
    /// Judged, and allowed: the budget is seen.
    Allowed,
    /// Answered by the failure policy because the inventory is not current.
    NotJudged,
    Other,
}

struct Sample {
    at: Instant,
    ready: bool,
    answer: Answer,
}

async fn probe(webhook: &Webhook, client: &Arc<rustls::ClientConfig>, review: &[u8]) -> Sample {
    let ready = matches!(get(webhook.address, client, "/readyz").await, Ok((200, _)));
    let at = Instant::now();
    let answer = match request(webhook.address, client, "/validate?timeout=2s", review).await {
        Ok((200, body)) => {
            let response = serde_json::from_str::<Value>(&body).map(|v| v["response"].clone()).unwrap_or(Value::Null);
            let message = response["status"]["message"].as_str().unwrap_or("");
            if message.starts_with("gatehouse: the cluster inventory is stale") {
                Answer::NotJudged
            } else if response["allowed"] == true {
                Answer::Allowed
            } else if message.contains("[require-pdb]") {
                Answer::NoBudget
            } else {
                Answer::Other
            }
        }
        _ => Answer::Other,
    };
    Sample { at, ready, answer }
}

pub(super) async fn drill(
    binary: &Path,
    dir: &Path,
    policies: &Path,
    client: &Arc<rustls::ClientConfig>,
    bodies: &Arc<Vec<(String, Vec<u8>)>>,
    steady: Offer,
) -> Result<Row> {
    let api = FakeApiServer::new(vec![
        Served::new("v1", "Namespace", "namespaces", false),
        Served::new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        Served::new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
        Served::new("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
    ]);
    api.add(find(SHOP, "Namespace")?);
    api.add(find(SHOP, "NetworkPolicy")?);
    api.add(find(WEB, "HorizontalPodAutoscaler")?);
    let url = api.start().await;
    std::fs::create_dir_all(dir)?;
    let config = dir.join("kubeconfig");
    std::fs::write(&config, kubeconfig(&url))?;
    let webhook = start(binary, dir, policies, client, Some(&config)).await?;

    let deployment = find(WEB, "Deployment")?;
    let review = serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "inventory-drill", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "shop", "name": deployment["metadata"]["name"], "operation": "CREATE",
            "userInfo": {"username": "alice"}, "object": deployment, "oldObject": null, "dryRun": false}}))?;
    let mut budget = find(WEB, "PodDisruptionBudget")?;
    budget["metadata"]["namespace"] = json!("shop");

    let rss = webhook.rss_mib();
    let phase = steady.duration.max(Duration::from_secs(8));
    let load = offer(webhook.address, client, bodies, Offer { duration: phase, ..steady }, None);
    let (down_at, up_at) = (phase / 4, phase / 4 + phase / 3);
    let drive = async {
        let started = Instant::now();
        let mut samples = Vec::new();
        let (mut went_down, mut came_up, mut budget_made) = (None, None, false);
        while started.elapsed() < phase {
            if went_down.is_none() && started.elapsed() >= down_at {
                api.outage(Some(500));
                went_down = Some(Instant::now());
            }
            if !budget_made && went_down.is_some_and(|t| t.elapsed() >= Duration::from_millis(500)) {
                api.add(budget.clone());
                budget_made = true;
            }
            if came_up.is_none() && started.elapsed() >= up_at {
                api.outage(None);
                came_up = Some(Instant::now());
            }
            samples.push(probe(&webhook, client, &review).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (samples, went_down, came_up)
    };
    let (measured, (samples, went_down, came_up)) = tokio::join!(load, drive);
    let (Some(down), Some(up)) = (went_down, came_up) else {
        anyhow::bail!("the inventory drill ended before its outage");
    };

    let before = samples.iter().filter(|s| s.at < down).collect::<Vec<_>>();
    let dropped = samples.iter().find(|s| s.at >= down && !s.ready).map(|s| s.at);
    let back = samples.iter().find(|s| s.at >= up && s.ready).map(|s| s.at);
    let baseline_ok = !before.is_empty() && before.iter().all(|s| s.ready && s.answer == Answer::NoBudget);
    // While /readyz said stale, every probe must be answered by the failure policy.
    let unready = samples.iter().filter(|s| s.at >= down && !s.ready && back.is_none_or(|b| s.at < b));
    let (mut not_judged, mut judged_from_stale) = (0, 0);
    for s in unready {
        match s.answer {
            Answer::NotJudged => not_judged += 1,
            _ => judged_from_stale += 1,
        }
    }
    let unseen = dropped.map_or(0, |d| samples.iter().filter(|s| s.at >= down && s.at < d).count());
    let after: Vec<&Sample> = back.map_or(Vec::new(), |b| samples.iter().filter(|s| s.at >= b).collect());
    let budget_seen = !after.is_empty() && after.iter().all(|s| s.answer == Answer::Allowed);
    let seconds = |from: Instant, to: Option<Instant>| to.map_or(f64::NAN, |t| t.duration_since(from).as_secs_f64());
    let passed = baseline_ok
        && dropped.is_some()
        && back.is_some()
        && judged_from_stale == 0
        && not_judged > 0
        && budget_seen
        && measured.errors == 0;
    let outcome = format!(
        "API server down {:.1} s: unready {:.2} s after, ready {:.2} s after it returned; {not_judged} probes not judged while stale, {judged_from_stale} judged from it, {unseen} before it was seen; {}{}",
        up.duration_since(down).as_secs_f64(),
        seconds(down, dropped),
        seconds(up, back),
        if budget_seen { "the budget made meanwhile is seen" } else { "the budget made meanwhile is NOT seen" },
        if baseline_ok { "" } else { "; the probe was NOT denied for want of a budget before the outage" },
    );
    let rss_end = webhook.rss_mib();
    drop(webhook);
    Ok(Row {
        phase: "inventory watch fails".into(),
        offered: format!("{:.0}/s", steady.rate.unwrap_or(0.0)),
        rss_start: rss,
        rss_end,
        outcome,
        passed,
        measured,
    })
}
