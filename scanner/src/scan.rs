//! The scan: sources, documents, one review per resource with the whole set as inventory, the
//! engine, and findings located in the source.

use std::io::Read;

use gatehouse_engine::yaml::{Limits, Position};
use gatehouse_engine::{Bundle, Decision, EvaluationError, Evaluator, Inventory, Review};

use crate::discover::discover;
use crate::documents::{self, Object, Source};
use crate::report::{ErrorKind, Evaluated, Finding, Location, Report, Resource, ScanError, Skipped};

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<String>,
    /// The namespace of resources that name none, as `kubectl apply -n` would give them.
    pub namespace: String,
    pub threads: usize,
    pub limits: Limits,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { paths: Vec::new(), namespace: "default".into(), threads: 2, limits: Limits::default() }
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
    let found = discover(&options.paths, stdin);
    observe(&found.sources);
    for e in found.errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Read,
            message: e.message,
            location: Some(location(&e.source, Position { line: 1, column: 1 })),
            policy: None,
        });
    }
    report.summary.files = found.sources.len();
    let mut objects: Vec<Object> = Vec::new();
    for source in &found.sources {
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
        match Review::from_object(std::mem::take(&mut object.value), &options.namespace) {
            Ok(review) => {
                inventory.add_review(&review, &options.namespace);
                reviews.push(review);
            }
            Err(e) => report.errors.push(ScanError {
                kind: ErrorKind::Parse,
                message: e.to_string(),
                location: Some(location(&object.source, object.position())),
                policy: None,
            }),
        }
    }
    report.summary.resources = reviews.len();
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
    let decisions = evaluate_all(&evaluator, &reviews, options.threads);
    for ((object, review), decision) in objects.iter().zip(&reviews).zip(decisions) {
        add_decision(bundle, object, review, decision, &mut report);
    }
    report.finish();
    report
}

/// Evaluates on `threads` threads, each with its own clone of the prepared evaluator; the
/// decisions come back in the reviews' order.
fn evaluate_all(evaluator: &Evaluator, reviews: &[Review], threads: usize) -> Vec<Decision> {
    let chunk = reviews.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = reviews
            .chunks(chunk)
            .map(|part| {
                let mut evaluator = evaluator.clone();
                (part.len(), scope.spawn(move || part.iter().map(|r| evaluator.evaluate(r)).collect::<Vec<_>>()))
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

fn resource_of(review: &Review) -> Resource {
    let object = review.object();
    let field = |name: &str| object.and_then(|o| o.get(name)).and_then(|v| v.as_str()).unwrap_or("").to_string();
    Resource {
        api_version: field("apiVersion"),
        kind: review.kind().to_string(),
        namespace: review.namespace().map(str::to_string),
        name: review.name().to_string(),
    }
}

fn add_decision(bundle: &Bundle, object: &Object, review: &Review, decision: Decision, report: &mut Report) {
    let resource = resource_of(review);
    let policies = bundle
        .applicable(review.group(), review.kind())
        .into_iter()
        .map(|i| bundle.policies()[i].id().to_string())
        .collect();
    report.evaluated.push(Evaluated {
        resource: resource.clone(),
        location: location(&object.source, object.position()),
        policies,
    });
    for v in decision.violations {
        let located = object.locate(&v.path);
        let remediation = bundle.policy(&v.policy).map(|p| p.metadata.remediation.clone()).unwrap_or_default();
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
        });
    }
    for e in decision.errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Evaluation,
            message: format!("{resource}: {}", e.message),
            location: Some(location(&object.source, object.position())),
            policy: e.policy,
        });
    }
}
