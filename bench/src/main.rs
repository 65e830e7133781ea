//! `gatehouse-bench`: benchmark commands. Figures come from here, never from timed tests.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use gatehouse_engine::{Bundle, Config, Evaluator, Inventory, Review};

mod audit;
mod corpus;
mod drills;
mod load;
mod signatures;

#[derive(Debug, Parser)]
#[command(name = "gatehouse-bench", about = "Benchmarks of the Gatehouse engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate the bundle over generated workload objects, one evaluation per object, and
    /// print objects/s and the per-object latency distribution.
    Engine {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        objects: usize,
        /// Evaluating threads; each clones the prepared evaluator.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Repeat the measurement to show the machine's noise.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also time each policy on its own, and the input conversion, over the first 2,000
        /// objects: where the time goes.
        #[arg(long)]
        per_policy: bool,
    },
    /// Scan a generated repository of realistic manifests of mixed kinds with `policy-scan`'s
    /// pipeline, at several sizes, each in its own process: documents/s, wall time, peak RSS.
    Scan {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        /// Corpus sizes in documents.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000, 10_000, 20_000])]
        documents: Vec<usize>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Drive the webhook over TLS with keep-alive connections and a mix of reviews: requests/s,
    /// latency percentiles, errors, peak RSS.
    WebhookLoad {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Scan generated Terraform plans with `policy-scan`'s pipeline: the real plans of the AWS
    /// example and of the non-compliant AWS root (41 resources), repeated as instances of a
    /// module until a plan holds about the given number of resources: resources/s.
    Terraform {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        /// Plan sizes in resources (rounded up to whole copies of the 41).
        #[arg(long, value_delimiter = ',', default_values_t = [500, 2_000])]
        resources: Vec<usize>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Audit a generated cluster served by a fake API server on loopback (the corpus of `scan`:
    /// workloads with their Services, ServiceAccounts, ConfigMaps, PDBs and HPAs, in pages of
    /// 500): objects/s for the whole audit and for the judging alone, and the reports' size.
    Audit {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        /// Cluster sizes in objects.
        #[arg(long, value_delimiter = ',', default_values_t = [2_000, 10_000])]
        objects: Vec<usize>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 2)]
        runs: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// The real policy-webhook (built beside this binary, or $POLICY_WEBHOOK) as a child process
    /// over HTTPS: its sustained rate, an overload at five times it, recovery, a broken bundle
    /// pushed, its certificate rotated and SIGTERM under load, and a soak; prints one table.
    Drills {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        /// Seconds of each phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Minutes of the soak at the sustained rate, closed loop on 8 connections (0: none).
        #[arg(long, default_value_t = 0)]
        soak_minutes: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Image signature checks against Debian's docker-registry on loopback (images pushed by
    /// skopeo, signed by openssl): cold and warm verification latency, and the security
    /// webhook's admission latency with warm verdicts against the same reviews without rules.
    Signatures {
        #[arg(long, default_value = "policies")]
        bundle: PathBuf,
        /// Distinct signed images.
        #[arg(long, default_value_t = 50)]
        images: usize,
        /// Warm rounds over every image.
        #[arg(long, default_value_t = 40)]
        rounds: usize,
    },
    /// One measurement of `scan`, in a fresh process (run by `scan`).
    #[command(hide = true)]
    ScanOnce {
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long)]
        documents: usize,
        #[arg(long)]
        threads: usize,
        #[arg(long)]
        seed: u64,
    },
}

// Evaluation allocates and frees many small values: mimalloc measured 25-30% faster than the
// system allocator here (`gatehouse-bench engine`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    gatehouse_engine::quiet_library_backtraces();
    match Cli::parse().command {
        Command::Engine { bundle, objects, threads, runs, seed, per_policy } => {
            engine(&bundle, objects, threads.max(1), runs.max(1), seed, per_policy)
        }
        Command::Scan { bundle, documents, threads, seed } => scan_sizes(&bundle, &documents, threads, seed),
        Command::Terraform { bundle, resources, threads, runs } => terraform(&bundle, &resources, threads, runs.max(1)),
        Command::ScanOnce { bundle, documents, threads, seed } => scan_once(&bundle, documents, threads, seed),
        Command::Drills { bundle, seconds, soak_minutes, seed } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(drills::run(&bundle, seconds, soak_minutes, seed)),
        Command::Audit { bundle, objects, threads, runs, seed } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(audit::run(&bundle, &objects, threads.max(1), runs.max(1), seed)),
        Command::Signatures { bundle, images, rounds } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(signatures::run(&bundle, images.max(1), rounds.max(1))),
        Command::WebhookLoad { bundle, connections, seconds, seed } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(load::run(&bundle, connections.max(1), Duration::from_secs(seconds), seed)),
    }
}

struct Run {
    wall: Duration,
    latencies: Vec<Duration>,
    violations: usize,
    errors: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64)).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn engine(
    bundle_dir: &std::path::Path,
    count: usize,
    threads: usize,
    runs: usize,
    seed: u64,
    per_policy: bool,
) -> Result<()> {
    let started = Instant::now();
    let bundle = Bundle::load(bundle_dir, &Config::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let compile = started.elapsed();

    let mut rng = corpus::Rng::new(seed);
    let workloads: Vec<(serde_json::Value, bool)> = (0..count).map(|i| corpus::workload(&mut rng, i)).collect();
    let surroundings = corpus::surroundings(&mut rng, &workloads);
    let reviews: Vec<Review> = workloads
        .into_iter()
        .map(|(w, _)| Review::from_object(w, "default"))
        .collect::<Result<_, _>>()
        .context("generated objects are Kubernetes objects")?;
    // As the scanner does: the reviews' converted objects are shared with the inventory.
    let started = Instant::now();
    let mut inventory = Inventory::new();
    for review in &reviews {
        inventory.add_review(review, "default");
    }
    for object in &surroundings {
        inventory.add(object, "default");
    }
    let evaluator = Evaluator::new(&bundle, &inventory).map_err(|e| anyhow::anyhow!("{e}"))?;
    let prepare = started.elapsed();

    let mut kinds = std::collections::BTreeMap::new();
    for r in &reviews {
        *kinds.entry(r.kind().to_string()).or_insert(0usize) += 1;
    }
    println!(
        "bundle {}: {} policies compiled in {:.1} ms; inventory of {} objects prepared in {:.1} ms",
        bundle_dir.display(),
        bundle.policies().len(),
        compile.as_secs_f64() * 1e3,
        inventory.len(),
        prepare.as_secs_f64() * 1e3
    );
    println!("objects: {count} workloads {kinds:?}; threads: {threads}; runs: {runs}");
    if per_policy {
        breakdown(&evaluator, &reviews[..reviews.len().min(2000)]);
    }
    println!(
        "{:>4} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "run", "wall s", "objects/s", "mean us", "p50 us", "p90 us", "p99 us", "max us", "violations"
    );
    let mut p50s = Vec::new();
    let mut rates = Vec::new();
    for run in 1..=runs {
        let r = measure(&evaluator, &reviews, threads);
        let mut sorted = r.latencies.clone();
        sorted.sort();
        let mean = r.latencies.iter().sum::<Duration>() / r.latencies.len().max(1) as u32;
        let rate = reviews.len() as f64 / r.wall.as_secs_f64();
        println!(
            "{run:>4} {:>10.3} {:>12.0} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>11}",
            r.wall.as_secs_f64(),
            rate,
            micros(mean),
            micros(percentile(&sorted, 50.0)),
            micros(percentile(&sorted, 90.0)),
            micros(percentile(&sorted, 99.0)),
            micros(*sorted.last().unwrap_or(&Duration::ZERO)),
            r.violations
        );
        if r.errors > 0 {
            anyhow::bail!("{} evaluations failed: the benchmark measures nothing useful", r.errors);
        }
        p50s.push(micros(percentile(&sorted, 50.0)));
        rates.push(rate);
    }
    let spread = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
        (lo, hi, if lo > 0.0 { (hi - lo) / lo * 100.0 } else { 0.0 })
    };
    let (lo, hi, pct) = spread(&p50s);
    println!("noise across runs: p50 {lo:.1}-{hi:.1} us ({pct:.1}%)");
    let (lo, hi, pct) = spread(&rates);
    println!("noise across runs: objects/s {lo:.0}-{hi:.0} ({pct:.1}%)");
    Ok(())
}

/// Mean time of each policy evaluated alone on the objects it targets.
fn breakdown(evaluator: &Evaluator, reviews: &[Review]) {
    let mut evaluator = evaluator.clone();
    let bundle = evaluator.bundle().clone();
    let objects: Vec<serde_json::Value> = reviews.iter().filter_map(Review::object).collect();
    let started = Instant::now();
    for o in objects {
        std::hint::black_box(Review::from_object(o, "default").ok());
    }
    println!(
        "  {:<40} {:>8.1} us/object",
        "building the review (input conversion)",
        micros(started.elapsed()) / reviews.len() as f64
    );
    for (index, policy) in bundle.policies().iter().enumerate() {
        let targeted: Vec<&Review> =
            reviews.iter().filter(|r| policy.metadata.applies_to(r.group(), r.kind())).collect();
        let (mut clean, mut raised) = ((Duration::ZERO, 0usize), (Duration::ZERO, 0usize));
        for r in &targeted {
            let started = Instant::now();
            let decision = evaluator.evaluate_policies(*r, &[index]);
            let spent = started.elapsed();
            let bucket =
                if decision.violations.is_empty() && decision.patches.is_empty() { &mut clean } else { &mut raised };
            bucket.0 += spent;
            bucket.1 += 1;
        }
        let mean = |(total, n): (Duration, usize)| micros(total) / n.max(1) as f64;
        println!(
            "  {:<38} {:>7.1} us/object over {:>4} objects ({:>6.1} us on the {:>4} that pass, {:>6.1} us on the {:>4} that do not)",
            policy.id(),
            micros(clean.0 + raised.0) / targeted.len().max(1) as f64,
            targeted.len(),
            mean(clean),
            clean.1,
            mean(raised),
            raised.1
        );
    }
}

fn measure(evaluator: &Evaluator, reviews: &[Review], threads: usize) -> Run {
    let chunk = reviews.len().div_ceil(threads);
    let started = Instant::now();
    let parts: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = reviews
            .chunks(chunk.max(1))
            .map(|part| {
                let mut evaluator = evaluator.clone();
                scope.spawn(move || {
                    let mut run = Run {
                        wall: Duration::ZERO,
                        latencies: Vec::with_capacity(part.len()),
                        violations: 0,
                        errors: 0,
                    };
                    for review in part {
                        let t = Instant::now();
                        let decision = evaluator.evaluate(review);
                        run.latencies.push(t.elapsed());
                        run.violations += decision.violations.len();
                        run.errors += decision.errors.len();
                    }
                    run
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let wall = started.elapsed();
    let mut total = Run { wall, latencies: Vec::with_capacity(reviews.len()), violations: 0, errors: 0 };
    for part in parts {
        total.latencies.extend(part.latencies);
        total.violations += part.violations;
        total.errors += part.errors;
    }
    total
}

fn scan_sizes(bundle: &std::path::Path, sizes: &[usize], threads: usize, seed: u64) -> Result<()> {
    let exe = std::env::current_exe()?;
    println!("{:>9} {:>10} {:>12} {:>13} {:>14}", "documents", "wall s", "documents/s", "peak RSS MiB", "us/document");
    let mut per_document = Vec::new();
    for &n in sizes {
        let out = std::process::Command::new(&exe)
            .args(["scan-once", "--bundle"])
            .arg(bundle)
            .args(["--documents", &n.to_string(), "--threads", &threads.to_string(), "--seed", &seed.to_string()])
            .output()?;
        if !out.status.success() {
            anyhow::bail!("the measurement of {n} documents failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let fields: Vec<f64> = line.split_whitespace().filter_map(|f| f.parse().ok()).collect();
        let [documents, wall, rss_kib] = fields[..] else { anyhow::bail!("unexpected output {line:?}") };
        let us = wall * 1e6 / documents;
        per_document.push(us);
        println!("{documents:>9.0} {wall:>10.3} {:>12.0} {:>13.1} {us:>14.1}", documents / wall, rss_kib / 1024.0);
    }
    if let (Some(first), Some(last)) = (per_document.first(), per_document.last()) {
        println!(
            "growth: {:.2}x the time per document from the smallest to the largest corpus (1.00 is linear)",
            last / first
        );
    }
    Ok(())
}

/// Peak resident memory of this process, in KiB (VmHWM).
pub(crate) fn peak_rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(f64::NAN)
}

fn scan_once(bundle_dir: &std::path::Path, documents: usize, threads: usize, seed: u64) -> Result<()> {
    use std::fmt::Write as _;
    // The corpus: about 50 documents a file; the namespaces and their default-deny policies first.
    let dir = tempfile::tempdir()?;
    let mut rng = corpus::Rng::new(seed);
    let (mut written, mut file, mut text, mut index) = (0, 0, String::new(), 0);
    let flush = |text: &mut String, file: &mut usize| -> Result<()> {
        if !text.is_empty() {
            std::fs::write(dir.path().join(format!("manifests-{file:05}.yaml")), &*text)?;
            *file += 1;
            text.clear();
        }
        Ok(())
    };
    let mut namespaces = Some(corpus::namespaces());
    while written < documents {
        let mut group = namespaces.take().unwrap_or_default();
        let (workload, compliant) = corpus::workload(&mut rng, index);
        index += 1;
        let companions = corpus::companions(&mut rng, &workload, compliant);
        group.push(workload);
        group.extend(companions);
        for object in group.into_iter().take(documents - written) {
            let _ = write!(text, "---\n{}", serde_json::to_string(&object)?);
            text.push('\n');
            written += 1;
            if written % 50 == 0 {
                flush(&mut text, &mut file)?;
            }
        }
    }
    flush(&mut text, &mut file)?;
    let bundle = Bundle::load(bundle_dir, &Config::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = policy_scan::scan::ScanOptions {
        paths: vec![dir.path().display().to_string()],
        threads,
        ..policy_scan::scan::ScanOptions::default()
    };
    let started = Instant::now();
    let report = policy_scan::scan::scan(&bundle, &options, &mut std::io::empty());
    let wall = started.elapsed();
    if !report.errors.is_empty() || report.summary.documents != documents {
        anyhow::bail!("the scan did not read the corpus: {:?} {:?}", report.summary, report.errors.first());
    }
    println!("{} {:.6} {}", report.summary.documents, wall.as_secs_f64(), peak_rss_kib());
    Ok(())
}

/// A plan of `copies` instances of a module holding the resources of the given real plans.
fn repeated_plan(plans: &[serde_json::Value], copies: usize) -> serde_json::Value {
    let mut changes = Vec::new();
    let mut calls = serde_json::Map::new();
    for (p, plan) in plans.iter().enumerate() {
        calls.insert(
            format!("copy{p}"),
            serde_json::json!({"source": "./copy", "module": plan["configuration"]["root_module"]}),
        );
        for i in 0..copies {
            let prefix = format!("module.copy{p}[{i}]");
            for rc in plan["resource_changes"].as_array().into_iter().flatten() {
                let mut rc = rc.clone();
                let address = rc["address"].as_str().unwrap_or_default().to_string();
                rc["address"] = format!("{prefix}.{address}").into();
                rc["module_address"] = match rc["module_address"].as_str() {
                    Some(m) => format!("{prefix}.{m}").into(),
                    None => prefix.clone().into(),
                };
                changes.push(rc);
            }
        }
    }
    serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "configuration": {"root_module": {"module_calls": calls}},
    })
}

fn terraform(bundle_dir: &std::path::Path, sizes: &[usize], threads: usize, runs: usize) -> Result<()> {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/terraform/plans");
    let plans: Vec<serde_json::Value> = ["aws-example.plan.json", "non-compliant-aws.plan.json"]
        .iter()
        .map(|name| -> Result<serde_json::Value> {
            Ok(serde_json::from_str(&std::fs::read_to_string(fixtures.join(name))?)?)
        })
        .collect::<Result<_>>()?;
    let per_copy: usize = plans.iter().map(|p| p["resource_changes"].as_array().map_or(0, Vec::len)).sum();
    let bundle = Bundle::load(bundle_dir, &Config::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{:>9} {:>6} {:>10} {:>12} {:>13}", "resources", "run", "wall s", "resources/s", "us/resource");
    for &n in sizes {
        let copies = n.div_ceil(per_copy).max(1);
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("plan.json");
        std::fs::write(&file, serde_json::to_string_pretty(&repeated_plan(&plans, copies))?)?;
        let options = policy_scan::scan::ScanOptions {
            paths: vec![file.display().to_string()],
            threads,
            ..policy_scan::scan::ScanOptions::default()
        };
        for run in 1..=runs {
            let started = Instant::now();
            let report = policy_scan::scan::scan(&bundle, &options, &mut std::io::empty());
            let wall = started.elapsed().as_secs_f64();
            if !report.errors.is_empty() || report.findings.is_empty() {
                anyhow::bail!("the scan did not judge the plan: {:?} {:?}", report.summary, report.errors.first());
            }
            let resources = report.summary.resources as f64;
            println!(
                "{:>9} {run:>6} {wall:>10.3} {:>12.0} {:>13.1}",
                resources,
                resources / wall,
                wall * 1e6 / resources
            );
        }
    }
    Ok(())
}
