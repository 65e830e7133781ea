//! The scan: sources, documents, one review per resource with the whole set as inventory, the
//! engine, and findings located in the source.

use std::io::Read;

use gatehouse_engine::evaluate::evaluate_in_parallel;
use gatehouse_engine::waivers::{self, Date, Located};
use gatehouse_engine::yaml::{Limits, Position};
use gatehouse_engine::{Bundle, Decision, Evaluator, Inventory, Mode, Review};

use crate::discover::discover_with;
use std::sync::Arc;

use crate::documents::{self, Locator, Object, Source};
use crate::render::{self, FileCache, RenderOptions, Rendered};
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
    /// How charts are rendered.
    pub render: RenderOptions,
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
            render: RenderOptions::default(),
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
    let renders =
        render::render_all(&found.render_roots, &options.render, &options.namespace, &options.limits, options.threads);
    let texts: std::collections::HashMap<Arc<str>, Arc<str>> = found
        .sources
        .iter()
        .chain(renders.renders.iter().map(|r| &r.source))
        .map(|s| (s.name.clone(), s.text.clone()))
        .collect();
    for e in &renders.errors {
        let (file, line) = e.at.clone().unwrap_or_else(|| (e.root.clone(), 1));
        report.errors.push(ScanError {
            kind: ErrorKind::Render,
            message: e.message.clone(),
            location: Some(location(&file.display().to_string(), Position { line, column: 1 })),
            policy: None,
        });
    }
    for n in &renders.not_rendered {
        report.skipped.push(Skipped {
            location: location(&n.root.display().to_string(), Position { line: 1, column: 1 }),
            reason: n.reason.clone(),
        });
    }
    report.summary.rendered = renders.renders.len();
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
    let mut files = FileCache::new(options.limits);
    let mut objects: Vec<Object> = Vec::new();
    // Which render each object comes from, if any.
    let mut rendered_by: Vec<Option<usize>> = Vec::new();
    let is_terraform = |s: &Source| s.name.ends_with(".tf") || plans.contains(&s.name);
    let manifests = found.sources.iter().filter(|s| !is_terraform(s)).map(|s| (s, None));
    let outputs = renders.renders.iter().enumerate().map(|(i, r)| (&r.source, Some(i)));
    for (source, render) in manifests.chain(outputs) {
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
                rendered_by.extend(std::iter::repeat_n(render, loaded.objects.len()));
                objects.extend(loaded.objects);
            }
            Err(e) => {
                // Helm writes whatever its templates produce: a template that renders invalid
                // YAML is reported at its line, with the output's line in the message.
                let placed = render.and_then(|r| renders.renders[r].place_line(e.position, &mut files));
                let (at, message) = match placed {
                    Some(at) => (at, format!("{} (line {} of `{}`)", e.message, e.position.line, e.source)),
                    None => (location(&e.source, e.position), e.message),
                };
                report.errors.push(ScanError { kind: ErrorKind::Parse, message, location: Some(at), policy: None })
            }
        }
    }

    let mut reviews = Vec::with_capacity(objects.len());
    let mut kept = Vec::with_capacity(objects.len());
    for (object, render) in objects.into_iter().zip(rendered_by) {
        let mut object = object;
        match Review::from_rego_object(std::mem::replace(&mut object.value, regorus::Value::Null), &options.namespace) {
            Ok(review) => {
                reviews.push(review);
                kept.push((object, render));
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
    // A render that is one of several of its chart (a values matrix) is an alternative world:
    // judged against the shared objects and its own, never a sibling render's.
    let world_of = |render: Option<usize>| render.filter(|&r| renders.renders[r].alternative).map_or(0, |r| r + 1);
    let mut worlds: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, (_, render)) in kept.iter().enumerate() {
        worlds.entry(world_of(*render)).or_default().push(i);
    }
    worlds.entry(0).or_default();
    let mut shared_inventory = Inventory::new();
    for &i in &worlds[&0] {
        shared_inventory.add_review(&reviews[i], &options.namespace);
    }
    let mut decisions: Vec<Option<Decision>> = vec![None; reviews.len()];
    let mut shared_evaluator = None;
    for (&world, members) in &worlds {
        let mut inventory = shared_inventory.clone();
        if world != 0 {
            for &i in members {
                inventory.add_review(&reviews[i], &options.namespace);
            }
        }
        let evaluator = match Evaluator::new(bundle, &inventory) {
            Ok(e) => e,
            Err(e) => {
                report.errors.push(ScanError {
                    kind: ErrorKind::Evaluation,
                    message: e.to_string(),
                    location: None,
                    policy: None,
                });
                report.describe_policies(bundle);
                return report;
            }
        };
        let members_reviews: Vec<&Review> = members.iter().map(|&i| &reviews[i]).collect();
        // Only the validating policies run: a mutating policy fills in at admission what a manifest
        // leaves out, which is no finding.
        let judged_world = evaluate_in_parallel(&evaluator, &members_reviews, options.threads, |e, r| {
            e.evaluate_mode(r, Mode::Validate)
        });
        for (&i, decision) in members.iter().zip(judged_world) {
            decisions[i] = Some(decision);
        }
        if world == 0 {
            shared_evaluator = Some(evaluator);
        }
    }
    let evaluator = shared_evaluator.expect("world 0 is always judged");
    let mut ledger = Ledger::default();
    let mut all_waivers = options.waivers.clone();
    let mut locator = Locator::new(options.limits);
    let shared = PolicyTexts::of(bundle);
    for (((object, render), review), decision) in kept.iter().zip(&reviews).zip(decisions) {
        let decision = decision.unwrap_or_default();
        let first = report.findings.len();
        let text = texts.get(&object.source).cloned().unwrap_or_else(|| Arc::from(""));
        let value = render.map(|_| review.object_value()).flatten();
        let mut locate = |pointer: &str| {
            let at = locator.locate(object, &text, pointer);
            match render {
                Some(r) => {
                    let (location, exact, rendered) =
                        renders.renders[*r].place(object, value.as_ref(), pointer, at, &mut files);
                    Placed { location, exact, rendered: Some(rendered) }
                }
                None => Placed { location: location(&object.source, at.position), exact: at.exact, rendered: None },
            }
        };
        add_decision(bundle, &shared, review, decision, &mut locate, &mut report);
        let own = annotation_waivers(bundle, review, &mut locate, &mut report);
        let waivers = ResourceWaivers { files: &options.waivers, annotation: &own };
        for finding in &mut report.findings[first..] {
            ledger.apply(finding, &waivers, options.today);
        }
        all_waivers.extend(own);
    }
    let judgements =
        evaluate_in_parallel(&evaluator, &judged, options.threads, |e, j| e.evaluate_resource(&j.resource));
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
    report.describe_policies(bundle);
    report.rendered_outputs = renders.renders.iter().map(|r| r.source.clone()).collect();
    let mut observed = found.sources;
    observed.extend(renders.renders.into_iter().map(|r| r.source));
    observed.extend(files.sources());
    observe(&observed);
    report
}

/// Where a field of a resource is written.
struct Placed {
    location: Location,
    /// False when the field is missing and the location is that of its nearest parent.
    exact: bool,
    /// For a rendered resource: the render, and the field in its output.
    rendered: Option<Rendered>,
}

/// The waivers a resource carries in its `gatehouse.dev/waivers` annotation; a malformed one is
/// an error at the annotation's line.
fn annotation_waivers(
    bundle: &Bundle,
    review: &Review,
    locate: &mut dyn FnMut(&str) -> Placed,
    report: &mut Report,
) -> Vec<Located> {
    let pointer = waivers::ANNOTATION_POINTER;
    let Some(value) = review.object_field(pointer) else {
        return Vec::new();
    };
    let placed = locate(pointer).location;
    let at = Position { line: placed.line, column: placed.column };
    let file = placed.file;
    let known = |id: &str| bundle.policy(id).is_some();
    let parsed = match value.as_string().ok() {
        Some(text) => waivers::from_annotation(text, std::path::Path::new(&file), at, &known),
        None => Err(gatehouse_engine::Diagnostic::new(
            &*file,
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
                location: Some(location(&file, position)),
                policy: None,
            });
        }
        Vec::new()
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
    report.evaluated.push(Evaluated { resource: resource.clone(), location: at.clone(), policies, rendered: None });
    for v in decision.violations {
        let (location, exact) = item.locate(locator, texts, &v.path);
        let remediation = shared.remediations.get(v.policy.as_str()).cloned().unwrap_or_else(|| Arc::from(""));
        let guideline = shared.guidelines.get(v.policy.as_str()).cloned();
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
            guideline,
            suppressed: None,
            rendered: None,
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
    guidelines: std::collections::HashMap<String, Arc<gatehouse_engine::metadata::Guideline>>,
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
            guidelines: bundle
                .policies()
                .iter()
                .map(|p| (p.id().to_string(), Arc::new(p.metadata.guideline.clone())))
                .collect(),
        }
    }
}

fn add_decision(
    bundle: &Bundle,
    shared: &PolicyTexts,
    review: &Review,
    decision: Decision,
    locate: &mut dyn FnMut(&str) -> Placed,
    report: &mut Report,
) {
    let resource = resource_of(review);
    let policies = bundle
        .applicable(review.group(), review.kind())
        .into_iter()
        .filter(|&i| bundle.policies()[i].metadata.mode == Mode::Validate)
        .map(|i| Arc::clone(&shared.ids[i]))
        .collect();
    let whole = locate("");
    report.evaluated.push(Evaluated {
        resource: resource.clone(),
        location: whole.location.clone(),
        policies,
        rendered: whole.rendered.clone(),
    });
    for v in decision.violations {
        let placed = locate(&v.path);
        let remediation = shared.remediations.get(v.policy.as_str()).cloned().unwrap_or_else(|| Arc::from(""));
        let guideline = shared.guidelines.get(v.policy.as_str()).cloned();
        report.findings.push(Finding {
            policy: v.policy,
            severity: v.severity,
            enforcement: v.enforcement,
            message: v.message,
            path: v.path,
            location: placed.location,
            exact: placed.exact,
            resource: resource.clone(),
            remediation,
            guideline,
            suppressed: None,
            rendered: placed.rendered,
        });
    }
    for e in decision.errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Evaluation,
            message: format!("{resource}: {}", e.message),
            location: Some(whole.location.clone()),
            policy: e.policy,
        });
    }
}
