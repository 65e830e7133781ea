//! The scan: sources, documents, one review per resource with the whole set as inventory, the
//! engine, and findings located in the source.

use std::io::Read;

use gatehouse_engine::waivers::{self, Date, Located};
use gatehouse_engine::yaml::{Limits, Position};
use gatehouse_engine::{Bundle, Decision, EvaluationError, Evaluator, Inventory, Mode, Review};

use crate::discover::discover_with;
use std::sync::Arc;

use crate::documents::{self, Locator, Object, Source};
use crate::report::{ErrorKind, Evaluated, Finding, Location, Report, Resource, ScanError, Skipped};
use crate::waive::{Ledger, ResourceWaivers};

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<String>,
    /// Waivers from waiver files; resources add their own from their annotation.
    pub waivers: Vec<Located>,
    /// The day waivers expire against.
    pub today: Date,
    pub report_unused_waivers: bool,
    /// The namespace of resources that name none, as `kubectl apply -n` would give them.
    pub namespace: String,
    pub threads: usize,
    pub limits: Limits,
    /// The Terraform configuration beside scanned plans: it places their findings in the .tf
    /// files, and is where binary plans are converted.
    pub tf_root: Option<std::path::PathBuf>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: Vec::new(),
            waivers: Vec::new(),
            today: Date::today(),
            report_unused_waivers: false,
            namespace: "default".into(),
            threads: 2,
            limits: Limits::default(),
            tf_root: None,
        }
    }
}

fn location(file: &str, position: Position) -> Location {
    Location { file: file.to_string(), line: position.line, column: position.column }
}

pub fn scan(bundle: &Bundle, options: &ScanOptions, stdin: &mut dyn Read) -> Report {
    scan_observed(bundle, options, stdin, &mut |_| {})
}

/// [`scan`], handing the sources read to `observe` (the human format quotes their lines).
pub fn scan_observed(
    bundle: &Bundle,
    options: &ScanOptions,
    stdin: &mut dyn Read,
    observe: &mut dyn FnMut(&[Source]),
) -> Report {
    let mut report = Report::default();
    let found = discover_with(&options.paths, stdin, options.tf_root.as_deref());
    observe(&found.sources);
    let texts: std::collections::HashMap<Arc<str>, Arc<str>> =
        found.sources.iter().map(|s| (s.name.clone(), s.text.clone())).collect();
    for e in found.errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Read,
            message: e.message,
            location: Some(location(&e.source, Position { line: 1, column: 1 })),
            policy: None,
        });
    }
    report.summary.files = found.sources.len();
    let (judged, plans) = crate::terraform::collect(
        &found.sources,
        &found.terraform_dirs,
        options.tf_root.as_deref(),
        &options.limits,
        &mut report,
    );
    let mut objects: Vec<Object> = Vec::new();
    let is_terraform = |s: &Source| s.name.ends_with(".tf") || plans.contains(&s.name);
    for source in found.sources.iter().filter(|s| !is_terraform(s)) {
        match documents::load(source, &options.limits) {
            Ok(loaded) => {
                report.summary.documents += loaded.documents;
                report.summary.empty_documents += loaded.empty_documents;
                report.skipped.extend(
                    loaded
                        .skipped
                        .into_iter()
                        .map(|s| Skipped { location: location(&s.source, s.position), reason: s.reason }),
                );
                objects.extend(loaded.objects);
            }
            Err(e) => report.errors.push(ScanError {
                kind: ErrorKind::Parse,
                message: e.message,
                location: Some(location(&e.source, e.position)),
                policy: None,
            }),
        }
    }

    let mut reviews = Vec::with_capacity(objects.len());
    let mut inventory = Inventory::new();
    for object in &mut objects {
        match Review::from_rego_object(std::mem::replace(&mut object.value, regorus::Value::Null), &options.namespace) {
            Ok(review) => {
                inventory.add_review(&review, &options.namespace);
                reviews.push(review);
            }
            Err(e) => report.errors.push(ScanError {
                kind: ErrorKind::Parse,
                message: e.to_string(),
                location: Some(location(&object.source, object.position)),
                policy: None,
            }),
        }
    }
    report.summary.resources = reviews.len() + judged.len();
    let evaluator = match Evaluator::new(bundle, &inventory) {
        Ok(e) => e,
        Err(e) => {
            report.errors.push(ScanError {
                kind: ErrorKind::Evaluation,
                message: e.to_string(),
                location: None,
                policy: None,
            });
            report.finish();
            return report;
        }
    };
    let decisions = evaluate_all(&evaluator, &reviews, options.threads, |e, r| e.evaluate_mode(r, Mode::Validate));
    let mut ledger = Ledger::default();
    let mut all_waivers = options.waivers.clone();
    let mut locator = Locator::new(options.limits);
    let shared = PolicyTexts::of(bundle);
    for ((object, review), decision) in objects.iter().zip(&reviews).zip(decisions) {
        let first = report.findings.len();
        let text = texts.get(&object.source).cloned().unwrap_or_else(|| Arc::from(""));
        let mut locate = |pointer: &str| locator.locate(object, &text, pointer);
        add_decision(bundle, &shared, object, review, decision, &mut locate, &mut report);
        let own = annotation_waivers(bundle, object, review, &mut locate, &mut report);
        let waivers = ResourceWaivers { files: &options.waivers, annotation: &own };
        for finding in &mut report.findings[first..] {
            ledger.apply(finding, &waivers, options.today);
        }
        all_waivers.extend(own);
    }
    let judgements = evaluate_all(&evaluator, &judged, options.threads, |e, j| e.evaluate_resource(&j.resource));
    let text_of = |name: &str| texts.get(name).cloned().unwrap_or_else(|| Arc::from(""));
    for (item, decision) in judged.iter().zip(judgements) {
        let first = report.findings.len();
        add_terraform_decision(bundle, &shared, item, decision, &mut locator, &text_of, &mut report);
        let waivers = ResourceWaivers { files: &options.waivers, annotation: &[] };
        for finding in &mut report.findings[first..] {
            ledger.apply(finding, &waivers, options.today);
        }
    }
    ledger.finish(&all_waivers, options.today, options.report_unused_waivers, &mut report);
    report.finish();
    report
}

/// The waivers a resource carries in its `gatehouse.dev/waivers` annotation; a malformed one is
/// an error at the annotation's line.
fn annotation_waivers(
    bundle: &Bundle,
    object: &Object,
    review: &Review,
    locate: &mut dyn FnMut(&str) -> gatehouse_engine::yaml::Located,
    report: &mut Report,
) -> Vec<Located> {
    let pointer = waivers::ANNOTATION_POINTER;
    let Some(value) = review.object_field(pointer) else {
        return Vec::new();
    };
    let at = locate(pointer).position;
    let known = |id: &str| bundle.policy(id).is_some();
    let parsed = match value.as_string().ok() {
        Some(text) => waivers::from_annotation(text, std::path::Path::new(&*object.source), at, &known),
        None => Err(gatehouse_engine::Diagnostic::new(
            &*object.source,
            Some(at),
            format!("annotation {} must be a string holding a YAML list", waivers::ANNOTATION),
        )
        .into()),
    };
    parsed.unwrap_or_else(|problems| {
        for d in problems.0 {
            let position = d.position.unwrap_or(at);
            report.errors.push(ScanError {
                kind: ErrorKind::Parse,
                message: d.message,
                location: Some(location(&object.source, position)),
                policy: None,
            });
        }
        Vec::new()
    })
}

/// Evaluates on `threads` threads, each with its own clone of the prepared evaluator; the
/// decisions come back in the items' order. Only the validating policies run: a mutating
/// policy fills in at admission what a manifest leaves out, which is no finding.
fn evaluate_all<T: Sync>(
    evaluator: &Evaluator,
    reviews: &[T],
    threads: usize,
    judge: impl Fn(&mut Evaluator, &T) -> Decision + Sync,
) -> Vec<Decision> {
    let chunk = reviews.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = reviews
            .chunks(chunk)
            .map(|part| {
                let mut evaluator = evaluator.clone();
                let judge = &judge;
                (part.len(), scope.spawn(move || part.iter().map(|r| judge(&mut evaluator, r)).collect::<Vec<_>>()))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, handle)| {
                // A panic is a bug; every review of the chunk is then an error, never a pass.
                handle.join().unwrap_or_else(|_| {
                    let error = EvaluationError { policy: None, message: "the evaluation panicked".into() };
                    vec![Decision { errors: vec![error], ..Decision::default() }; len]
                })
            })
            .collect()
    })
}

fn add_terraform_decision(
    bundle: &Bundle,
    shared: &PolicyTexts,
    item: &crate::terraform::Judged,
    decision: Decision,
    locator: &mut Locator,
    texts: &dyn Fn(&str) -> Arc<str>,
    report: &mut Report,
) {
    let resource = item.report_resource();
    let (at, _) = item.locate(locator, texts, "");
    let policies = bundle
        .applicable(gatehouse_engine::terraform::GROUP, item.resource.resource_type())
        .into_iter()
        .map(|i| Arc::clone(&shared.ids[i]))
        .collect();
    report.evaluated.push(Evaluated { resource: resource.clone(), location: at.clone(), policies });
    for v in decision.violations {
        let (location, exact) = item.locate(locator, texts, &v.path);
        let remediation = shared.remediations.get(v.policy.as_str()).cloned().unwrap_or_else(|| Arc::from(""));
        report.findings.push(Finding {
            policy: v.policy,
            severity: v.severity,
            enforcement: v.enforcement,
            message: v.message,
            path: v.path,
            location,
            exact,
            resource: resource.clone(),
            remediation,
            suppressed: None,
        });
    }
    for e in decision.errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Evaluation,
            message: format!("{resource}: {}", e.message),
            location: Some(at.clone()),
            policy: e.policy,
        });
    }
}

fn resource_of(review: &Review) -> Resource {
    Resource {
        api_version: review.api_version().to_string(),
        kind: review.kind().to_string(),
        namespace: review.namespace().map(str::to_string),
        name: review.name().to_string(),
    }
}

/// Each policy's id and remediation, allocated once and shared by every finding and resource
/// of the scan.
struct PolicyTexts {
    ids: Vec<Arc<str>>,
    remediations: std::collections::HashMap<String, Arc<str>>,
}

impl PolicyTexts {
    fn of(bundle: &Bundle) -> PolicyTexts {
        PolicyTexts {
            ids: bundle.policies().iter().map(|p| Arc::from(p.id())).collect(),
            remediations: bundle
                .policies()
                .iter()
                .map(|p| (p.id().to_string(), Arc::from(p.metadata.remediation.as_str())))
                .collect(),
        }
    }
}

fn add_decision(
    bundle: &Bundle,
    shared: &PolicyTexts,
    object: &Object,
    review: &Review,
    decision: Decision,
    locate: &mut dyn FnMut(&str) -> gatehouse_engine::yaml::Located,
    report: &mut Report,
) {
    let resource = resource_of(review);
    let policies = bundle
        .applicable(review.group(), review.kind())
        .into_iter()
        .filter(|&i| bundle.policies()[i].metadata.mode == Mode::Validate)
        .map(|i| Arc::clone(&shared.ids[i]))
        .collect();
    report.evaluated.push(Evaluated {
        resource: resource.clone(),
        location: location(&object.source, object.position),
        policies,
    });
    for v in decision.violations {
        let located = locate(&v.path);
        let remediation = shared.remediations.get(v.policy.as_str()).cloned().unwrap_or_else(|| Arc::from(""));
        report.findings.push(Finding {
            policy: v.policy,
            severity: v.severity,
            enforcement: v.enforcement,
            message: v.message,
            path: v.path,
            location: location(&object.source, located.position),
            exact: located.exact,
            resource: resource.clone(),
            remediation,
            suppressed: None,
        });
    }
    for e in decision.errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Evaluation,
            message: format!("{resource}: {}", e.message),
            location: Some(location(&object.source, object.position)),
            policy: e.policy,
        });
    }
}
