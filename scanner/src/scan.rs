//! The scan: sources, documents, one review per resource with the whole set as inventory, the
//! engine, and findings located in the source.

use std::collections::HashMap;
use std::io::Read;

use gatehouse_engine::evaluate::evaluate_in_parallel;
use gatehouse_engine::waivers::{self, Date, Located};
use gatehouse_engine::yaml::{Limits, Position, SharedStrings};
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

pub(crate) fn location(file: &str, position: Position) -> Location {
    Location { file: file.to_string(), line: position.line, column: position.column }
}

pub fn scan(bundle: &Bundle, options: &ScanOptions, stdin: &mut dyn Read) -> Report {
    scan_observed(bundle, options, stdin, &mut |_| {})
}

/// What a run reads before it judges anything: the sources, the renders of charts and
/// overlays, the Kubernetes objects found in both (each with the render it comes from, if any)
/// and the Terraform resources. Whatever could not be read, rendered or parsed is in the report.
pub(crate) struct Gathered {
    pub sources: Vec<Source>,
    pub renders: render::Renders,
    /// Every source's and render output's text, by name.
    pub texts: HashMap<Arc<str>, Arc<str>>,
    pub objects: Vec<(Object, Option<usize>)>,
    pub terraform: Vec<crate::terraform::Judged>,
    /// Template, values and patch files read to place findings in renders.
    pub files: FileCache,
}

/// Whether a run judges the Terraform it finds (`scan`) or passes it over (`images`: Terraform
/// runs no container image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terraform {
    Judge,
    PassOver,
}

pub(crate) fn gather(
    options: &ScanOptions,
    stdin: &mut dyn Read,
    terraform: Terraform,
    report: &mut Report,
) -> Gathered {
    let found = discover_with(&options.paths, stdin, options.tf_root.as_deref());
    let renders =
        render::render_all(&found.render_roots, &options.render, &options.namespace, &options.limits, options.threads);
    let texts: HashMap<Arc<str>, Arc<str>> = found
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
    let (judged, plans) = match terraform {
        Terraform::Judge => crate::terraform::collect(
            &found.sources,
            &found.terraform_dirs,
            options.tf_root.as_deref(),
            &options.limits,
            report,
        ),
        Terraform::PassOver => {
            let plans: std::collections::HashSet<Arc<str>> = found
                .sources
                .iter()
                .filter(|s| s.name.ends_with(".tf") || crate::terraform::may_be_plan(s))
                .map(|s| s.name.clone())
                .collect();
            report.skipped.extend(plans.iter().map(|name| Skipped {
                location: location(name, Position { line: 1, column: 1 }),
                reason: "Terraform, which runs no container image".into(),
            }));
            (Vec::new(), plans)
        }
    };
    let mut files = FileCache::new(options.limits);
    let mut objects = Vec::new();
    let is_terraform = |s: &Source| s.name.ends_with(".tf") || plans.contains(&s.name);
    let manifests = found.sources.iter().filter(|s| !is_terraform(s)).map(|s| (s, None));
    let outputs = renders.renders.iter().enumerate().map(|(i, r)| (&r.source, Some(i)));
    let mut strings = SharedStrings::default();
    for (source, render) in manifests.chain(outputs) {
        match documents::load(source, &options.limits, &mut strings) {
            Ok(loaded) => {
                report.summary.documents += loaded.documents;
                report.summary.empty_documents += loaded.empty_documents;
                report.skipped.extend(
                    loaded
                        .skipped
                        .into_iter()
                        .map(|s| Skipped { location: location(&s.source, s.position), reason: s.reason }),
                );
                objects.extend(loaded.objects.into_iter().map(|o| (o, render)));
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
    Gathered { sources: found.sources, renders, texts, objects, terraform: judged, files }
}

/// Places fields of gathered objects: in their source, or through their render in the template,
/// values, base or patch file that produced them.
pub(crate) struct Placer<'a> {
    renders: &'a [render::Render],
    texts: &'a HashMap<Arc<str>, Arc<str>>,
    pub locator: Locator,
    pub files: FileCache,
}

impl<'a> Placer<'a> {
    pub fn new(gathered: &'a Gathered, files: FileCache, limits: Limits) -> Placer<'a> {
        Placer { renders: &gathered.renders.renders, texts: &gathered.texts, locator: Locator::new(limits), files }
    }

    /// Where the field at `pointer` of `object` is written; `value` is the object's value, which
    /// a rendered object needs (its hook, its list items matched by name).
    pub fn place(
        &mut self,
        object: &Object,
        render: Option<usize>,
        value: Option<&regorus::Value>,
        pointer: &str,
    ) -> Placed {
        let text = self.texts.get(&object.source).cloned().unwrap_or_else(|| Arc::from(""));
        let at = self.locator.locate(object, &text, pointer);
        match render {
            Some(r) => {
                let (location, exact, rendered) = self.renders[r].place(object, value, pointer, at, &mut self.files);
                Placed { location, exact, rendered: Some(rendered) }
            }
            None => Placed { location: location(&object.source, at.position), exact: at.exact, rendered: None },
        }
    }
}

/// [`scan`], handing the sources read to `observe` (the human format quotes their lines).
pub fn scan_observed(
    bundle: &Bundle,
    options: &ScanOptions,
    stdin: &mut dyn Read,
    observe: &mut dyn FnMut(&[Source]),
) -> Report {
    let mut report = Report::default();
    let mut gathered = gather(options, stdin, Terraform::Judge, &mut report);
    let objects = std::mem::take(&mut gathered.objects);
    let judged = std::mem::take(&mut gathered.terraform);
    let files = std::mem::replace(&mut gathered.files, FileCache::new(options.limits));
    let mut reviews = Vec::with_capacity(objects.len());
    let mut kept = Vec::with_capacity(objects.len());
    for (mut object, render) in objects {
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
    let world_of =
        |render: Option<usize>| render.filter(|&r| gathered.renders.renders[r].alternative).map_or(0, |r| r + 1);
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
    let mut placer = Placer::new(&gathered, files, options.limits);
    let shared = PolicyTexts::of(bundle);
    for (((object, render), review), decision) in kept.iter().zip(&reviews).zip(decisions) {
        let decision = decision.unwrap_or_default();
        let first = report.findings.len();
        let value = render.and_then(|_| review.object_value());
        let mut locate = |pointer: &str| placer.place(object, *render, value.as_ref(), pointer);
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
    let text_of = |name: &str| gathered.texts.get(name).cloned().unwrap_or_else(|| Arc::from(""));
    for (item, decision) in judged.iter().zip(judgements) {
        let first = report.findings.len();
        add_terraform_decision(bundle, &shared, item, decision, &mut placer.locator, &text_of, &mut report);
        let waivers = ResourceWaivers { files: &options.waivers, annotation: &[] };
        for finding in &mut report.findings[first..] {
            ledger.apply(finding, &waivers, options.today);
        }
    }
    ledger.finish(&all_waivers, options.today, options.report_unused_waivers, &mut report);
    report.describe_policies(bundle);
    let files = placer.files;
    finish_observed(gathered, files, &mut report, observe);
    report
}

/// Keeps the renders' outputs in the report and hands every text read to `observe`.
pub(crate) fn finish_observed(
    gathered: Gathered,
    files: FileCache,
    report: &mut Report,
    observe: &mut dyn FnMut(&[Source]),
) {
    report.rendered_outputs = gathered.renders.renders.iter().map(|r| r.source.clone()).collect();
    let mut observed = gathered.sources;
    observed.extend(gathered.renders.renders.into_iter().map(|r| r.source));
    observed.extend(files.sources());
    observe(&observed);
}

/// Where a field of a resource is written.
/// The finding of a violation of `resource`, at its place, with its policy's texts.
pub(crate) fn finding_of(
    v: gatehouse_engine::Violation,
    placed: Placed,
    resource: &Resource,
    shared: &PolicyTexts,
) -> Finding {
    Finding {
        remediation: shared.remediations.get(v.policy.as_str()).cloned().unwrap_or_else(|| Arc::from("")),
        guideline: shared.guidelines.get(v.policy.as_str()).cloned(),
        policy: v.policy,
        severity: v.severity,
        enforcement: v.enforcement,
        message: v.message,
        path: v.path,
        location: placed.location,
        exact: placed.exact,
        resource: resource.clone(),
        suppressed: None,
        rendered: placed.rendered,
        image: None,
    }
}

pub(crate) struct Placed {
    pub location: Location,
    /// False when the field is missing and the location is that of its nearest parent.
    pub exact: bool,
    /// For a rendered resource: the render, and the field in its output.
    pub rendered: Option<Rendered>,
}

/// The waivers a resource carries in its `gatehouse.dev/waivers` annotation; a malformed one is
/// an error at the annotation's line.
pub(crate) fn annotation_waivers(
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
            image: None,
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

pub(crate) fn resource_of(review: &Review) -> Resource {
    Resource {
        api_version: review.api_version().to_string(),
        kind: review.kind().to_string(),
        namespace: review.namespace().map(str::to_string),
        name: review.name().to_string(),
    }
}

/// Each policy's id and remediation, allocated once and shared by every finding and resource
/// of the scan.
pub(crate) struct PolicyTexts {
    pub ids: Vec<Arc<str>>,
    pub remediations: HashMap<String, Arc<str>>,
    pub guidelines: HashMap<String, Arc<gatehouse_engine::metadata::Guideline>>,
}

impl PolicyTexts {
    pub fn of(bundle: &Bundle) -> PolicyTexts {
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
        report.findings.push(finding_of(v, placed, &resource, shared));
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
