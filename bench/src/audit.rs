//! `gatehouse-bench audit`: the cluster audit against a fake API server on loopback.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::Result;
use gatehouse_audit::fake_apiserver::{FakeApiServer, Served};
use gatehouse_audit::reports::{self, ReportFormat, ReportLimits};
use gatehouse_audit::{AuditOptions, ListOptions, audit_cluster, evaluate};
use gatehouse_engine::kinds::{group_of, is_cluster_scoped};
use gatehouse_engine::{Bundle, Config};
use serde_json::Value;

use crate::corpus;

/// The corpus's objects: the namespaces with their policies, then workloads and companions.
fn cluster_objects(count: usize, seed: u64) -> Vec<Value> {
    let mut rng = corpus::Rng::new(seed);
    let mut objects = corpus::namespaces();
    let mut index = 0;
    while objects.len() < count {
        let (workload, compliant) = corpus::workload(&mut rng, index);
        index += 1;
        let companions = corpus::companions(&mut rng, &workload, compliant);
        objects.push(workload);
        objects.extend(companions);
    }
    objects.truncate(count);
    objects
}

pub async fn run(bundle_dir: &std::path::Path, sizes: &[usize], threads: usize, runs: usize, seed: u64) -> Result<()> {
    let bundle = Bundle::load(bundle_dir, &Config::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("objects  run  audit (s)  objects/s  judging (s)  judged  violations  reports  largest report");
    for &size in sizes {
        let objects = cluster_objects(size, seed);
        let kinds: BTreeSet<(String, String)> = objects
            .iter()
            .map(|o| {
                (
                    o["apiVersion"].as_str().unwrap_or_default().to_string(),
                    o["kind"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let served = kinds
            .iter()
            .map(|(api_version, kind)| {
                let namespaced = !is_cluster_scoped(group_of(api_version), kind);
                Served::new(api_version, kind, &policy_webhook::cluster::plural(kind), namespaced)
            })
            .collect();
        let server = FakeApiServer::new(served);
        for o in &objects {
            server.add(o.clone());
        }
        let url = server.start().await;
        let client = FakeApiServer::client(&url);
        let options = AuditOptions { threads, ..AuditOptions::default() };
        let list = ListOptions::default();
        for run in 1..=runs {
            let started = Instant::now();
            let result =
                audit_cluster(client.clone(), &bundle, &list, &options).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let wall = started.elapsed();
            let judging = {
                let started = Instant::now();
                let _ = evaluate::evaluate(&bundle, &result.objects, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
                started.elapsed()
            };
            let built = reports::build(&result.audit, ReportFormat::OpenReports, ReportLimits::default(), 0);
            let largest = built.iter().map(|r| serde_json::to_vec(r).map_or(0, |v| v.len())).max().unwrap_or(0);
            println!(
                "{size:>7}  {run:>3}  {:>9.2}  {:>9.0}  {:>11.2}  {:>6}  {:>10}  {:>7}  {:>10} KiB",
                wall.as_secs_f64(),
                size as f64 / wall.as_secs_f64().max(f64::EPSILON),
                judging.as_secs_f64(),
                result.audit.judged.len(),
                result.audit.results.len(),
                built.len(),
                largest / 1024,
            );
        }
    }
    Ok(())
}
