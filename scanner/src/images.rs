//! `policy-scan images`: every container image the scanned resources run (read, rendered and
//! parsed as `scan` does), scanned once per distinct reference by trivy, each report judged by
//! the bundle's policies as a `scan.gatehouse.dev/v1` `ImageReport` object, and each finding
//! placed at the image's line in every manifest that uses it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gatehouse_engine::evaluate::evaluate_in_parallel;
use gatehouse_engine::waivers::Located;
use gatehouse_engine::{Bundle, Evaluator, Inventory, Mode, Review, Severity};
use serde_json::{Value, json};

use crate::documents::Source;
use crate::render::FileCache;
use crate::report::{ErrorKind, Evaluated, Finding, ImageFinding, Report, Resource, ScanError, Vulnerability};
use crate::scan::{
    Placed, Placer, PolicyTexts, ScanOptions, Terraform, annotation_waivers, finding_of, finish_observed, gather,
    location,
};
use crate::trivy::{Failure, INSTALL_HINT, Trivy};
use crate::waive::{Ledger, ResourceWaivers};

/// The group, apiVersion and kind of the object a trivy report is judged as.
pub const GROUP: &str = "scan.gatehouse.dev";
pub const API_VERSION: &str = "scan.gatehouse.dev/v1";
pub const KIND: &str = "ImageReport";

#[derive(Debug, Clone)]
pub struct ImagesOptions {
    /// The sources and how they are read and rendered, as `scan` takes them.
    pub scan: ScanOptions,
    pub trivy: Trivy,
    /// Images scanned at a time.
    pub parallel: usize,
    /// Also check the signatures of the images the configuration's `imageVerification` rules
    /// cover, and judge every workload by the policies that read them (`readsImages`), as the
    /// webhook does at admission.
    pub verify: bool,
}

/// What `--verify` needs: the rules, the verifier with its cache, and the policies to judge by.
struct Verification {
    runtime: tokio::runtime::Runtime,
    rules: gatehouse_signatures::rules::SignatureRules,
    verifier: Result<Arc<gatehouse_signatures::Verifier>, String>,
    evaluator: Evaluator,
    policies: Vec<usize>,
}

/// The most one workload's signature checks may take.
const VERIFY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

impl Verification {
    /// Set up for `--verify`, or why it cannot be.
    fn new(bundle: &Bundle) -> Result<Verification, String> {
        let rules = gatehouse_signatures::rules::SignatureRules::of(bundle)?;
        if rules.is_empty() {
            return Err("--verify: the configuration has no imageVerification rules, so no image would be verified                  (see the README's image signatures)"
                .into());
        }
        let policies: Vec<usize> = (0..bundle.policies().len())
            .filter(|&i| {
                let m = &bundle.policies()[i].metadata;
                bundle.policies()[i].enabled && m.reads_images && m.mode == Mode::Validate
            })
            .collect();
        if policies.is_empty() {
            return Err("--verify: no enabled policy of the bundle reads the signature checks (readsImages: true;                  kubernetes/verify-image-signatures does)"
                .into());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("--verify: cannot start the registry client's runtime: {e}"))?;
        let evaluator = Evaluator::new(bundle, &Inventory::new()).map_err(|e| e.message)?;
        let verifier = rules.verifier().map(Arc::new);
        Ok(Verification { runtime, rules, verifier, evaluator, policies })
    }

    /// The violations of the review's signature checks, if a rule covers any of its images.
    fn judge(&mut self, review: &Review) -> Option<gatehouse_engine::Decision> {
        let checks = self.runtime.block_on(gatehouse_signatures::rules::check(
            &self.verifier,
            &self.rules,
            review,
            VERIFY_DEADLINE,
        ))?;
        let mut review = review.clone();
        gatehouse_signatures::rules::attach(&mut review, &checks);
        Some(self.evaluator.evaluate_policies(&review, &self.policies))
    }
}

/// One place an image is used.
struct Use {
    reference: String,
    resource: Resource,
    /// The JSON pointer of the `image` field in the resource.
    path: String,
    placed: Placed,
    /// The resource's own waivers (its annotation), by index.
    waivers: usize,
}

pub fn images(bundle: &Bundle, options: &ImagesOptions, stdin: &mut dyn Read) -> Report {
    images_observed(bundle, options, stdin, &mut |_| {})
}

/// [`images`], handing the sources read to `observe` (the human format quotes their lines).
pub fn images_observed(
    bundle: &Bundle,
    options: &ImagesOptions,
    stdin: &mut dyn Read,
    observe: &mut dyn FnMut(&[Source]),
) -> Report {
    let mut report = Report::default();
    let judges: Vec<usize> = bundle
        .applicable(GROUP, KIND)
        .into_iter()
        .filter(|&i| bundle.policies()[i].metadata.mode == Mode::Validate)
        .collect();
    if judges.is_empty() {
        // Scanning images that nothing judges would pass whatever trivy found.
        report.errors.push(ScanError {
            kind: ErrorKind::Image,
            message: format!(
                "no enabled policy of the bundle {} judges {KIND} objects ({GROUP}), so image reports would \
                 be judged by nothing (the bundle's images/image-vulnerabilities policy does)",
                bundle.root().display()
            ),
            location: None,
            policy: None,
        });
        report.describe_policies(bundle);
        return report;
    }
    let mut verification = None;
    if options.verify {
        match Verification::new(bundle) {
            Ok(v) => verification = Some(v),
            Err(message) => {
                report.errors.push(ScanError { kind: ErrorKind::Image, message, location: None, policy: None });
                report.describe_policies(bundle);
                return report;
            }
        }
    }
    // Signature findings wait for the waivers, as the vulnerability findings do.
    let mut signed: Vec<(Finding, usize)> = Vec::new();
    let scan = &options.scan;
    let mut gathered = gather(scan, stdin, Terraform::PassOver, &mut report);
    let objects = std::mem::take(&mut gathered.objects);
    let files = std::mem::replace(&mut gathered.files, FileCache::new(scan.limits));
    let mut placer = Placer::new(&gathered, files, scan.limits);
    let shared = PolicyTexts::of(bundle);
    let judged_by: Vec<Arc<str>> = judges.iter().map(|&i| Arc::clone(&shared.ids[i])).collect();
    let mut uses: Vec<Use> = Vec::new();
    let mut own_waivers: Vec<Vec<Located>> = Vec::new();
    for (mut object, render) in objects {
        let value = std::mem::replace(&mut object.value, regorus::Value::Null);
        let review = match Review::from_rego_object(value, &scan.namespace) {
            Ok(review) => review,
            Err(e) => {
                report.errors.push(ScanError {
                    kind: ErrorKind::Parse,
                    message: e.to_string(),
                    location: Some(location(&object.source, object.position)),
                    policy: None,
                });
                continue;
            }
        };
        report.summary.resources += 1;
        let written = review
            .object()
            .map(|o| gatehouse_engine::images::images_of(review.kind(), &o))
            .unwrap_or_default()
            .into_iter()
            // An empty image is left for config management to fill in, as the policies leave it.
            .filter(|u| !u.image.is_empty())
            .collect::<Vec<_>>();
        if written.is_empty() {
            continue;
        }
        let resource = crate::scan::resource_of(&review);
        let value = render.and_then(|_| review.object_value());
        let mut locate = |pointer: &str| placer.place(&object, render, value.as_ref(), pointer);
        let whole = locate("");
        report.evaluated.push(Evaluated {
            resource: resource.clone(),
            location: whole.location.clone(),
            policies: match &verification {
                Some(v) => {
                    judged_by.iter().cloned().chain(v.policies.iter().map(|&i| Arc::clone(&shared.ids[i]))).collect()
                }
                None => judged_by.clone(),
            },
            rendered: whole.rendered,
        });
        let own = annotation_waivers(bundle, &review, &mut locate, &mut report);
        for u in written {
            let placed = locate(&u.pointer);
            if let Err(why) = check_reference(&u.image) {
                report.errors.push(ScanError {
                    kind: ErrorKind::Image,
                    message: format!("{resource}: image {:?} cannot be scanned: {why}", u.image),
                    location: Some(placed.location),
                    policy: None,
                });
                continue;
            }
            uses.push(Use {
                reference: u.image,
                resource: resource.clone(),
                path: u.pointer,
                placed,
                waivers: own_waivers.len(),
            });
        }
        if let Some(decision) = verification.as_mut().and_then(|v| v.judge(&review)) {
            for e in decision.errors {
                report.errors.push(ScanError {
                    kind: ErrorKind::Evaluation,
                    message: format!("{resource}: {}", e.message),
                    location: Some(whole.location.clone()),
                    policy: e.policy,
                });
            }
            for v in decision.violations {
                let placed = locate(&v.path);
                let reference = review.object_field(&v.path).and_then(|i| i.as_string().ok().map(|s| s.to_string()));
                let mut finding = finding_of(v, placed, &resource, &shared);
                finding.image = reference.map(|reference| ImageFinding { reference, vulnerability: None });
                signed.push((finding, own_waivers.len()));
            }
        }
        own_waivers.push(own);
    }

    let mut by_reference: HashMap<&str, Vec<&Use>> = HashMap::new();
    let mut references: Vec<&str> = Vec::new();
    for u in &uses {
        let places = by_reference.entry(u.reference.as_str()).or_default();
        if places.is_empty() {
            references.push(&u.reference);
        }
        places.push(u);
    }
    report.summary.images = references.len();
    let first_place = |reference: &str| by_reference[reference][0].placed.location.clone();

    let mut scanned: Vec<(&str, Review)> = Vec::new();
    let mut missing = false;
    for (&reference, result) in references.iter().zip(scan_all(&options.trivy, &references, options.parallel)) {
        let failure = match result {
            Ok(trivy_report) => match Review::from_object(report_object(reference, trivy_report), &scan.namespace) {
                Ok(review) => {
                    scanned.push((reference, review));
                    continue;
                }
                Err(e) => e.to_string(),
            },
            Err(Failure::Missing) => {
                missing = true;
                continue;
            }
            Err(Failure::Failed(message)) => message,
        };
        report.errors.push(ScanError {
            kind: ErrorKind::Image,
            message: format!("image {reference:?} could not be scanned: {failure}"),
            location: Some(first_place(reference)),
            policy: None,
        });
    }
    if missing {
        report.errors.push(ScanError {
            kind: ErrorKind::Image,
            message: format!(
                "trivy is not on PATH: policy-scan images scans each image with `trivy image`, and no image \
                 was scanned; install trivy ({INSTALL_HINT})"
            ),
            location: None,
            policy: None,
        });
    }

    let reviews: Vec<&Review> = scanned.iter().map(|(_, review)| review).collect();
    let decisions = match Evaluator::new(bundle, &Inventory::new()) {
        Ok(evaluator) => {
            evaluate_in_parallel(&evaluator, &reviews, scan.threads, |e, r| e.evaluate_mode(r, Mode::Validate))
        }
        Err(e) => {
            report.errors.push(ScanError {
                kind: ErrorKind::Evaluation,
                message: e.message,
                location: None,
                policy: None,
            });
            Vec::new()
        }
    };
    let mut ledger = Ledger::default();
    for ((reference, _), decision) in scanned.iter().zip(decisions) {
        for e in decision.errors {
            report.errors.push(ScanError {
                kind: ErrorKind::Evaluation,
                message: format!("the report of image {reference:?}: {}", e.message),
                location: Some(first_place(reference)),
                policy: e.policy,
            });
        }
        for v in decision.violations {
            let vulnerability = v.details.and_then(|d| serde_json::from_value::<Vulnerability>(d).ok());
            // A vulnerability weighs what trivy rates it, so that --fail-on high means HIGH
            // and CRITICAL vulnerabilities.
            let severity = vulnerability.as_ref().and_then(|x| severity_of(&x.severity)).unwrap_or(v.severity);
            let image = ImageFinding { reference: reference.to_string(), vulnerability };
            let remediation = shared.remediations.get(v.policy.as_str()).cloned().unwrap_or_else(|| Arc::from(""));
            let guideline = shared.guidelines.get(v.policy.as_str()).cloned();
            for u in &by_reference[reference] {
                let mut finding = Finding {
                    policy: v.policy.clone(),
                    severity,
                    enforcement: v.enforcement,
                    message: v.message.clone(),
                    path: u.path.clone(),
                    location: u.placed.location.clone(),
                    exact: u.placed.exact,
                    resource: u.resource.clone(),
                    remediation: Arc::clone(&remediation),
                    guideline: guideline.clone(),
                    suppressed: None,
                    rendered: u.placed.rendered.clone(),
                    image: Some(image.clone()),
                };
                let waivers = ResourceWaivers { files: &scan.waivers, annotation: &own_waivers[u.waivers] };
                ledger.apply(&mut finding, &waivers, scan.today);
                report.findings.push(finding);
            }
        }
    }
    for (mut finding, w) in signed {
        let waivers = ResourceWaivers { files: &scan.waivers, annotation: &own_waivers[w] };
        ledger.apply(&mut finding, &waivers, scan.today);
        report.findings.push(finding);
    }
    let mut all_waivers = scan.waivers.clone();
    all_waivers.extend(own_waivers.into_iter().flatten());
    ledger.finish(&all_waivers, scan.today, scan.report_unused_waivers, &mut report);
    report.describe_policies(bundle);
    let files = placer.files;
    finish_observed(gathered, files, &mut report, observe);
    report
}

/// trivy's severities, by the scanner's; UNKNOWN (not rated yet) as the lowest.
fn severity_of(trivy: &str) -> Option<Severity> {
    match trivy {
        "CRITICAL" => Some(Severity::Critical),
        "HIGH" => Some(Severity::High),
        "MEDIUM" => Some(Severity::Medium),
        "LOW" => Some(Severity::Low),
        "UNKNOWN" => Some(Severity::Info),
        _ => None,
    }
}

/// A reference trivy could mistake for something else is not handed to it.
fn check_reference(reference: &str) -> Result<(), &'static str> {
    if reference.starts_with('-') {
        Err("it starts with \"-\", which trivy would read as an option")
    } else if reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("it holds whitespace or control characters")
    } else {
        Ok(())
    }
}

/// The object policies judge: the trivy report of one image.
pub fn report_object(reference: &str, report: Value) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": object_name(reference)},
        "spec": {"image": reference},
        "report": report,
    })
}

/// A Kubernetes name (a DNS label) for a reference: its letters and digits in lower case, every
/// run of other characters a dash, and a hash of the reference so that two never share a name.
pub fn object_name(reference: &str) -> String {
    let mut readable = String::new();
    for c in reference.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            readable.push(c);
        } else if !readable.ends_with('-') {
            readable.push('-');
        }
    }
    let readable: String = readable.trim_matches('-').chars().take(54).collect();
    let readable = readable.trim_end_matches('-');
    // FNV-1a: stable across runs and platforms, unlike the standard library's hasher.
    let hash =
        reference.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let prefix = if readable.is_empty() { "image" } else { readable };
    format!("{prefix}-{:08x}", hash as u32)
}

/// Scans every reference, `parallel` at a time; the results come back in the references' order.
fn scan_all(trivy: &Trivy, references: &[&str], parallel: usize) -> Vec<Result<Value, Failure>> {
    let next = AtomicUsize::new(0);
    let missing = AtomicBool::new(false);
    let done: Vec<(usize, Result<Value, Failure>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..parallel.clamp(1, references.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(reference) = references.get(i) else { break done };
                        // Without trivy no image can be scanned: the others are not tried.
                        let result =
                            if missing.load(Ordering::Relaxed) { Err(Failure::Missing) } else { trivy.scan(reference) };
                        if matches!(result, Err(Failure::Missing)) {
                            missing.store(true, Ordering::Relaxed);
                        }
                        done.push((i, result));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    let mut results: Vec<Result<Value, Failure>> =
        references.iter().map(|_| Err(Failure::Failed("its scan stopped unexpectedly".into()))).collect();
    for (i, result) in done {
        results[i] = result;
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_labels_and_distinct() {
        let name = object_name(
            "rg.fr-par.scw.cloud/Shop/api:1.4.2@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        );
        assert!(name.starts_with("rg-fr-par-scw-cloud-shop-api-1-4-2-sha256-9f86d081884c-"), "{name}");
        for reference in ["a/b:c", "a-b:c", "a.b/c", "---", "x".repeat(300).as_str(), "nginx"] {
            let name = object_name(reference);
            assert!(name.len() <= 63, "{name}");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{name}");
            assert!(!name.starts_with('-') && !name.ends_with('-') && !name.contains("--"), "{name}");
        }
        assert_ne!(object_name("a/b:c"), object_name("a-b:c"));
        assert_eq!(object_name("nginx"), object_name("nginx"));
        assert!(object_name("---").starts_with("image-"));
    }

    #[test]
    fn references_trivy_could_misread_are_refused() {
        assert!(check_reference("registry.example/shop/api:1.4.2").is_ok());
        assert!(check_reference("--config=/etc/passwd").is_err());
        assert!(check_reference("nginx latest").is_err());
        assert!(check_reference("nginx\n").is_err());
    }

    #[test]
    fn trivy_severities_map_to_the_scanners() {
        assert_eq!(severity_of("CRITICAL"), Some(Severity::Critical));
        assert_eq!(severity_of("UNKNOWN"), Some(Severity::Info));
        assert_eq!(severity_of("NEGLIGIBLE"), None);
    }
}
