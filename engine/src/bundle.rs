//! The policy bundle: every policy folder and the shared library, validated and compiled once.
//!
//! Loading either yields a complete, prepared bundle or every problem found, each naming its file
//! (and line and column where known): a bundle that fails to load is never half-used.
//!
//! For speed, the loader generates one Rego module, `data.gatehouse.generated`, with one
//! aggregate rule per targeted kind: an object is evaluated once against exactly the policies
//! that target its kind, each seeing its own `input.parameters`. One rule per policy serves
//! errors attribution and wildcard targets. The routes evaluate in partition engines, one per
//! family of kinds (workloads, other Kubernetes kinds, Terraform resources), each holding only
//! the modules its policies need.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use walkdir::WalkDir;

use crate::config::{Config, NamespaceOverride};
use crate::diagnostic::{Diagnostic, Diagnostics, from_regorus_error};
use crate::metadata::{self, Class, Enforcement, Mode, PolicyMetadata, RegoVersion};

pub const GENERATED_PACKAGE: &str = "gatehouse.generated";

/// Budget of the load-time evaluation of each policy on an empty review.
pub const SMOKE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);
const GENERATED_FILE: &str = "<gatehouse generated aggregate>";

/// A loaded policy, with the enforcement and parameters in force after configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    pub metadata: PolicyMetadata,
    /// The folder's parent under the bundle root: `kubernetes`, `terraform`.
    pub domain: String,
    pub dir: PathBuf,
    pub rego_file: PathBuf,
    pub test_file: Option<PathBuf>,
    pub samples: Vec<Sample>,
    /// `data.<package>` of `policy.rego`.
    pub package: String,
    pub enabled: bool,
    pub enforcement: Enforcement,
    pub parameters: serde_json::Map<String, Value>,
    /// The generated rule that evaluates this policy alone.
    pub(crate) rule: String,
    /// Its Rego reads only declared parameters, by name: it may share `input.parameters`.
    pub(crate) shares_parameters: bool,
}

impl Policy {
    pub fn id(&self) -> &str {
        &self.metadata.id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    Allowed,
    Disallowed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub file: PathBuf,
    pub expectation: Expectation,
}

/// The policies that apply to one (group, kind), the rule that evaluates them together, and the
/// `input.parameters` its policies share (those that read only their declared parameters).
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// Every member has this mode: the webhook's validating call runs no mutating policy.
    pub mode: Mode,
    /// `None`: every class; the webhook's split calls use the routes of one class.
    pub class: Option<Class>,
    pub rule: String,
    pub policies: Vec<usize>,
    pub parameters: Option<regorus::Value>,
    /// The engine of [`Compiled::partitions`] that holds the rule.
    pub partition: usize,
}

pub(crate) struct Compiled {
    pub root: PathBuf,
    pub policies: Vec<Policy>,
    pub lib_files: Vec<PathBuf>,
    pub lib_test_files: Vec<PathBuf>,
    pub engine: regorus::Engine,
    /// Smaller engines that the routes evaluate in, each with only the policies (and library
    /// modules) of its family of kinds. regorus scans every module of an engine on each `data.`
    /// lookup, so a workload judged among 25 modules instead of 63 costs 16% less.
    pub partitions: Vec<Partition>,
    /// By group, then kind.
    pub routes: HashMap<String, HashMap<String, Vec<Route>>>,
    /// Enabled policies with a `*` in a target: they may apply to kinds without a route.
    pub wildcard: Vec<usize>,
    pub namespace_overrides: Vec<NamespaceOverride>,
    pub image_verification: crate::config::ImageVerification,
}

impl Compiled {
    /// The routes of a (group, kind): one per mode and class (or every class) with policies for it.
    pub(crate) fn routes(&self, group: &str, kind: &str) -> Option<&[Route]> {
        self.routes.get(group)?.get(kind).map(Vec::as_slice)
    }
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.policies.iter().map(|p| p.metadata.id.as_str()).collect();
        f.debug_struct("Bundle").field("root", &self.root).field("policies", &ids).finish_non_exhaustive()
    }
}

/// A prepared engine with the policies of one family of kinds.
#[derive(Debug, Clone)]
pub(crate) struct Partition {
    pub engine: regorus::Engine,
    /// Some of its Rego reads `data.inventory`: an evaluator adds its inventory to the engine.
    pub reads_inventory: bool,
}

/// Why [`Bundle::load_configured`] found no bundle, worded for the operator.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    Configuration(Diagnostics),
    Bundle { root: PathBuf, problems: Diagnostics },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Configuration(problems) => write!(f, "invalid configuration\n{problems}"),
            LoadError::Bundle { root, problems } => {
                write!(f, "the policy bundle {} does not load\n{problems}", root.display())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// A compiled policy bundle; cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub(crate) inner: Arc<Compiled>,
}

impl Bundle {
    /// Loads, validates and compiles the bundle at `root` with the configuration applied.
    pub fn load(root: &Path, config: &Config) -> Result<Bundle, Diagnostics> {
        let layout = discover(root)?;
        let mut problems = Vec::new();
        let mut policies = Vec::new();
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for folder in &layout.policies {
            let meta_file = folder.dir.join("policy.yaml");
            let folder_name = folder.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let source = match read_text(&meta_file) {
                Ok(s) => s,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            match metadata::load(&meta_file, &source, &folder_name, &folder.domain) {
                Ok(meta) => {
                    if let Some(first) = seen.get(&meta.id) {
                        problems.push(Diagnostic::in_file(
                            &meta_file,
                            format!("duplicate policy id {:?}: already defined in {}", meta.id, first.display()),
                        ));
                        continue;
                    }
                    seen.insert(meta.id.clone(), meta_file.clone());
                    policies.push(Policy {
                        enforcement: meta.enforcement,
                        parameters: meta.default_parameters(),
                        metadata: meta,
                        domain: folder.domain.clone(),
                        dir: folder.dir.clone(),
                        rego_file: folder.dir.join("policy.rego"),
                        test_file: folder.test_file.clone(),
                        samples: folder.samples.clone(),
                        package: String::new(),
                        enabled: true,
                        rule: String::new(),
                        shares_parameters: false,
                    });
                }
                Err(mut ds) => problems.append(&mut ds),
            }
        }
        policies.sort_by(|a, b| a.metadata.id.cmp(&b.metadata.id));
        apply_config(&mut policies, config, &mut problems);
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        compile(root, layout, policies, config.namespaces.clone(), config.image_verification.clone())
    }

    /// Reads the configuration file, when there is one, and loads the bundle with it: what the
    /// scanner's commands and the webhook do at start and on every reload.
    pub fn load_configured(root: &Path, config_file: Option<&Path>) -> Result<Bundle, LoadError> {
        let config = match config_file {
            Some(path) => Config::from_file(path).map_err(LoadError::Configuration)?,
            None => Config::default(),
        };
        Bundle::load(root, &config).map_err(|problems| LoadError::Bundle { root: root.to_path_buf(), problems })
    }

    /// The policies the configuration leaves enabled.
    pub fn enabled_policies(&self) -> impl Iterator<Item = &Policy> {
        self.inner.policies.iter().filter(|p| p.enabled)
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub fn policies(&self) -> &[Policy] {
        &self.inner.policies
    }

    pub fn policy(&self, id: &str) -> Option<&Policy> {
        self.inner.policies.iter().find(|p| p.metadata.id == id)
    }

    /// The configuration's enforcement by namespace label, applied by the evaluator.
    pub fn namespace_overrides(&self) -> &[NamespaceOverride] {
        &self.inner.namespace_overrides
    }

    /// The configuration's signature rules, which the webhook and the scanner check images by.
    pub fn image_verification(&self) -> &crate::config::ImageVerification {
        &self.inner.image_verification
    }

    /// The policies that read other objects from the inventory, with the kinds they read.
    pub fn inventory_policies(&self) -> impl Iterator<Item = &Policy> {
        self.enabled_policies().filter(|p| !p.metadata.inventory.is_empty())
    }

    pub fn lib_files(&self) -> &[PathBuf] {
        &self.inner.lib_files
    }

    pub fn lib_test_files(&self) -> &[PathBuf] {
        &self.inner.lib_test_files
    }

    /// The engine with every policy and the library loaded, not prepared: tests add to a clone,
    /// and an evaluator adds its inventory to one.
    pub fn engine(&self) -> &regorus::Engine {
        &self.inner.engine
    }

    /// Whether judging an object of this group and kind by the policies of `mode` (of `class`
    /// only, when given) reads the cluster inventory: one of them declares an `inventory:`, or
    /// the configuration overrides enforcement by namespace label.
    pub fn reads_inventory(&self, group: &str, kind: &str, mode: Mode, class: Option<Class>) -> bool {
        if !self.namespace_overrides().is_empty() {
            return true;
        }
        self.applicable(group, kind).into_iter().any(|i| {
            let metadata = &self.inner.policies[i].metadata;
            !metadata.inventory.is_empty()
                && metadata.mode == mode
                && class.is_none_or(|c| Class::of(&metadata.category) == c)
        })
    }

    /// Indices of the enabled policies that apply to objects of this group and kind.
    pub fn applicable(&self, group: &str, kind: &str) -> Vec<usize> {
        match self.inner.routes(group, kind) {
            Some(routes) => {
                let mut members: Vec<usize> =
                    routes.iter().filter(|r| r.class.is_none()).flat_map(|r| r.policies.iter().copied()).collect();
                members.sort_unstable();
                members
            }
            None => self
                .inner
                .wildcard
                .iter()
                .copied()
                .filter(|&i| self.inner.policies[i].metadata.applies_to(group, kind))
                .collect(),
        }
    }
}

struct PolicyFolder {
    domain: String,
    dir: PathBuf,
    test_file: Option<PathBuf>,
    samples: Vec<Sample>,
}

struct Layout {
    policies: Vec<PolicyFolder>,
    lib: Vec<PathBuf>,
    lib_tests: Vec<PathBuf>,
}

/// Hidden entries, and the `..data` indirection of a mounted ConfigMap, are not content.
fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

fn discover(root: &Path) -> Result<Layout, Diagnostics> {
    if !root.is_dir() {
        return Err(Diagnostic::in_file(root, "the policy bundle is not a directory").into());
    }
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for entry in WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter().filter_entry(|e| !is_hidden(e)) {
        match entry {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                problems.push(Diagnostic::in_file(&path, format!("cannot read: {e}")));
            }
        }
    }
    let lib_dir = root.join("lib");
    let mut layout = Layout { policies: Vec::new(), lib: Vec::new(), lib_tests: Vec::new() };
    let policy_dirs: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "policy.yaml"))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    for dir in &policy_dirs {
        let relative = dir.strip_prefix(root).unwrap_or(dir);
        let parts: Vec<_> = relative.components().collect();
        if parts.len() != 2 || dir.starts_with(&lib_dir) {
            problems.push(Diagnostic::in_file(
                &dir.join("policy.yaml"),
                "a policy folder must sit at <bundle>/<domain>/<policy-id>/",
            ));
            continue;
        }
        let domain = parts[0].as_os_str().to_string_lossy().into_owned();
        layout.policies.push(PolicyFolder { domain, dir: dir.clone(), test_file: None, samples: Vec::new() });
    }
    for file in &files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if file.starts_with(&lib_dir) {
            if name.ends_with("_test.rego") {
                layout.lib_tests.push(file.clone());
            } else if name.ends_with(".rego") {
                layout.lib.push(file.clone());
            } else if !is_documentation(&name) {
                problems.push(Diagnostic::in_file(file, "unexpected file in the policy library"));
            }
            continue;
        }
        let owner = layout.policies.iter_mut().find(|p| file.starts_with(&p.dir));
        let Some(owner) = owner else {
            if name.ends_with(".rego") {
                problems.push(Diagnostic::in_file(file, "Rego file outside any policy folder and outside lib/"));
            }
            continue;
        };
        let parent = file.parent().unwrap_or(Path::new(""));
        if parent == owner.dir {
            match name.as_str() {
                "policy.yaml" | "policy.rego" => {}
                "policy_test.rego" => owner.test_file = Some(file.clone()),
                _ if is_documentation(&name) => {}
                _ => problems.push(Diagnostic::in_file(
                    file,
                    "unexpected file in a policy folder (expected policy.yaml, policy.rego, policy_test.rego, samples/)",
                )),
            }
        } else if parent == owner.dir.join("samples") {
            let expectation = if name.starts_with("allowed-") {
                Expectation::Allowed
            } else if name.starts_with("disallowed-") {
                Expectation::Disallowed
            } else {
                problems.push(Diagnostic::in_file(file, "a sample's name must start with allowed- or disallowed-"));
                continue;
            };
            let terraform = owner.domain == metadata::TERRAFORM_DOMAIN;
            let extensions: &[&str] = if terraform { &[".tf", ".json"] } else { &[".yaml", ".yml", ".json"] };
            if !extensions.iter().any(|e| name.ends_with(e)) {
                let message = if terraform {
                    "a Terraform sample must be a .tf file or a plan's .json"
                } else {
                    "a sample must be a .yaml, .yml or .json file"
                };
                problems.push(Diagnostic::in_file(file, message));
                continue;
            }
            owner.samples.push(Sample { file: file.clone(), expectation });
        } else {
            problems.push(Diagnostic::in_file(file, "unexpected file in a policy folder"));
        }
    }
    for folder in &layout.policies {
        if !folder.dir.join("policy.rego").is_file() {
            problems.push(Diagnostic::in_file(
                &folder.dir.join("policy.rego"),
                "missing: every policy folder needs policy.rego",
            ));
        }
    }
    if problems.is_empty() { Ok(layout) } else { Err(Diagnostics(problems)) }
}

fn is_documentation(name: &str) -> bool {
    name.ends_with(".md")
}

pub(crate) fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::in_file(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::in_file(path, format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
    })
}

fn apply_config(policies: &mut [Policy], config: &Config, problems: &mut Vec<Diagnostic>) {
    for (i, over) in config.namespaces.iter().enumerate() {
        for id in over.policies.keys().filter(|id| !policies.iter().any(|p| &p.metadata.id == *id)) {
            let pointer = format!("/namespaces/{i}/policies/{}", id.replace('~', "~0").replace('/', "~1"));
            problems.push(config.diagnostic(&pointer, format!("no policy with id {id:?} in the bundle")));
        }
    }
    for (id, over) in &config.policies {
        let base = format!("/policies/{}", id.replace('~', "~0").replace('/', "~1"));
        let Some(policy) = policies.iter_mut().find(|p| &p.metadata.id == id) else {
            problems.push(config.diagnostic(&base, format!("no policy with id {id:?} in the bundle")));
            continue;
        };
        if let Some(enabled) = over.enabled {
            policy.enabled = enabled;
        }
        if let Some(enforcement) = over.enforcement {
            policy.enforcement = enforcement;
        }
        for (name, value) in &over.parameters {
            let pointer = format!("{base}/parameters/{name}");
            match policy.metadata.parameters.get(name) {
                None => {
                    let known: Vec<&str> = policy.metadata.parameters.keys().map(String::as_str).collect();
                    problems.push(config.diagnostic(
                        &pointer,
                        format!("policy {id} has no parameter {name:?} (it has: {})", known.join(", ")),
                    ));
                }
                Some(spec) => match spec.check(value) {
                    Ok(()) => {
                        policy.parameters.insert(name.clone(), value.clone());
                    }
                    Err(e) => problems.push(config.diagnostic(&pointer, format!("parameter {name} of {id}: {e}"))),
                },
            }
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn compile(
    root: &Path,
    layout: Layout,
    mut policies: Vec<Policy>,
    namespace_overrides: Vec<NamespaceOverride>,
    image_verification: crate::config::ImageVerification,
) -> Result<Bundle, Diagnostics> {
    let mut engine = regorus::Engine::new();
    add_opa_compatibility(&mut engine);
    let mut problems = Vec::new();
    // Library packages may span files; they only must not collide with a policy's.
    let mut packages: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut lib_modules = Vec::new();
    for file in &layout.lib {
        if let Some((package, source)) = add_module(&mut engine, file, &mut problems) {
            packages.insert(package.clone(), file.clone());
            lib_modules.push(Module { file: file.clone(), package, source });
        }
    }
    let mut sources: Vec<Option<String>> = vec![None; policies.len()];
    for (policy, kept) in policies.iter_mut().zip(&mut sources) {
        engine.set_rego_v0(policy.metadata.rego_version == RegoVersion::V0);
        let Some((package, source)) = add_module(&mut engine, &policy.rego_file, &mut problems) else {
            continue;
        };
        *kept = Some(source.clone());
        policy.shares_parameters = crate::rego_text::parameter_reads(&source)
            .is_some_and(|read| read.iter().all(|name| policy.metadata.parameters.contains_key(name)));
        if policy.metadata.inventory.is_empty()
            && let Some(offset) = source.find("data.inventory")
        {
            let line = source[..offset].matches('\n').count() + 1;
            let column = offset - source[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
            problems.push(Diagnostic::new(
                &policy.rego_file,
                Some(crate::yaml::Position { line, column }),
                "the policy reads data.inventory: name the kinds it reads under `inventory:` in policy.yaml, \
                 so that the webhook keeps them in sync",
            ));
        }
        let components: Vec<&str> = package.trim_start_matches("data.").split('.').collect();
        if !components.iter().all(|c| is_identifier(c)) {
            problems.push(Diagnostic::in_file(
                &policy.rego_file,
                format!("package {package} must be a dotted path of identifiers"),
            ));
            continue;
        }
        if package == format!("data.{GENERATED_PACKAGE}") {
            problems.push(Diagnostic::in_file(&policy.rego_file, format!("package {package} is reserved")));
            continue;
        }
        if let Some(other) = packages.get(&package) {
            problems.push(Diagnostic::in_file(
                &policy.rego_file,
                format!("package {package} is already used by {}", other.display()),
            ));
            continue;
        }
        packages.insert(package.clone(), policy.rego_file.clone());
        let rule = match policy.metadata.mode {
            Mode::Validate => "violation",
            Mode::Mutate => "patch",
        };
        let path = policy.rego_file.to_string_lossy();
        if !engine.has_declared_rule_rooted_at(&path, rule).unwrap_or(false) {
            problems.push(Diagnostic::in_file(
                &policy.rego_file,
                format!(
                    "a {} policy must define `{rule}` (mode: {} in policy.yaml)",
                    if rule == "patch" { "mutating" } else { "validating" },
                    if rule == "patch" { "mutate" } else { "validate" }
                ),
            ));
        }
        policy.package = package;
    }
    engine.set_rego_v0(false);
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let (generated, mut routes, wildcard) = generate(&mut policies);
    let module = generated.whole();
    if let Err(e) = engine.add_policy(GENERATED_FILE.to_string(), module) {
        return Err(Diagnostic::in_file(Path::new(GENERATED_FILE), e.to_string()).into());
    }
    // Preparing an engine runs regorus' analysis (unsafe variables, recursion, conflicts) over
    // every module, here rather than on the first request. The bundle keeps the whole engine
    // unprepared: prepared, it holds 29 MB of analysis that only tests and policies evaluated
    // by name use, and they add to a clone (which prepares it again) anyway.
    let mut smoke = engine.clone();
    smoke.set_input(regorus::Value::new_object());
    if let Err(e) = smoke.eval_rule(format!("data.{GENERATED_PACKAGE}.ready")) {
        return Err(from_regorus_error(root, &e.to_string()).into());
    }
    // regorus resolves functions only when it evaluates: run every policy once on an empty
    // review so that a call to a function that does not exist fails the load, not a request.
    smoke.set_input(serde_json::json!({"review": {"object": {}}}).into());
    // A policy that runs away on an empty review would stall every load (and a hot reload).
    crate::evaluate::set_time_limit(&mut smoke, SMOKE_TIME_LIMIT);
    for policy in &policies {
        if let Err(e) = smoke.eval_rule(policy.rule.clone()) {
            let mut d = from_regorus_error(&policy.rego_file, &e.to_string());
            if d.message.contains("exceeded time limit") {
                d.message = format!("evaluating the policy on an empty review took more than {SMOKE_TIME_LIMIT:?}");
            }
            problems.push(d);
        }
    }
    drop(smoke);
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let partitions = partition(&lib_modules, &policies, &sources, &generated, &mut routes)?;
    Ok(Bundle {
        inner: Arc::new(Compiled {
            root: root.to_path_buf(),
            policies,
            lib_files: layout.lib,
            lib_test_files: layout.lib_tests,
            engine,
            partitions,
            routes,
            wildcard,
            namespace_overrides,
            image_verification,
        }),
    })
}

/// OPA builtins that regorus lacks and that gatekeeper-library templates still call, so that
/// they port unchanged: `re_match` is OPA's deprecated name of `regex.match`.
fn add_opa_compatibility(engine: &mut regorus::Engine) {
    let re_match = |args: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
        let (Ok(pattern), Ok(value)) = (args[0].as_string(), args[1].as_string()) else {
            anyhow::bail!("re_match expects two strings");
        };
        let regex = regex::Regex::new(pattern)?;
        Ok(regorus::Value::from(regex.is_match(value)))
    };
    // Adding a builtin to a fresh engine cannot collide.
    let _ = engine.add_extension("re_match".to_string(), 2, Box::new(re_match));
}

fn add_module(engine: &mut regorus::Engine, file: &Path, problems: &mut Vec<Diagnostic>) -> Option<(String, String)> {
    let source = match read_text(file) {
        Ok(s) => s,
        Err(d) => {
            problems.push(d);
            return None;
        }
    };
    if let Some(diagnostic) = too_deep_diagnostic(file, &source) {
        problems.push(diagnostic);
        return None;
    }
    match engine.add_policy(file.to_string_lossy().into_owned(), source.clone()) {
        Ok(package) => Some((package, source)),
        Err(e) => {
            problems.push(from_regorus_error(file, &e.to_string()));
            None
        }
    }
}

/// A file whose literals nest too deep for regorus to parse in reasonable time.
pub(crate) fn too_deep_diagnostic(file: &Path, source: &str) -> Option<Diagnostic> {
    let limit = crate::rego_text::MAX_LITERAL_DEPTH;
    crate::rego_text::too_deep(source, limit).map(|(line, column)| {
        Diagnostic::new(
            file,
            Some(crate::yaml::Position { line, column }),
            format!(
                "literal nested deeper than {limit} levels: regorus' parse time doubles with each level; build the value from named parts"
            ),
        )
    })
}

/// One rule body that evaluates policy `index` and yields `[index, item]`: with its own
/// parameters, or (`shared`) reading them from the route's shared `input.parameters`.
fn contribution(index: usize, policy: &Policy, shared: bool) -> String {
    let rule = match policy.metadata.mode {
        Mode::Validate => "violation",
        Mode::Mutate => "patch",
    };
    let mut body = String::new();
    if shared {
        let _ = writeln!(body, "\titems := {}.{rule}", policy.package);
    } else {
        let params = Value::Object(policy.parameters.clone()).to_string();
        let _ = writeln!(body, "\titems := {}.{rule} with input.parameters as {params}", policy.package);
    }
    let _ = write!(body, "\tsome item in items\n\tentry := [{index}, item]\n");
    body
}

/// Splits a route's policies into those that can share one `input.parameters` (they read only
/// their declared parameters, and agree on every name they share, an unset one included) and
/// those that need their own.
fn share_parameters(policies: &[Policy], members: &[usize]) -> (Vec<bool>, Option<regorus::Value>) {
    let mut merged: BTreeMap<&str, Option<&Value>> = BTreeMap::new();
    let mut shared = Vec::with_capacity(members.len());
    for &i in members {
        let policy = &policies[i];
        let wants: Vec<(&str, Option<&Value>)> =
            policy.metadata.parameters.keys().map(|name| (name.as_str(), policy.parameters.get(name))).collect();
        let fits = policy.shares_parameters
            && wants.iter().all(|(name, value)| merged.get(name).is_none_or(|existing| existing == value));
        if fits {
            merged.extend(wants);
        }
        shared.push(fits);
    }
    let values: serde_json::Map<String, Value> =
        merged.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v.clone()))).collect();
    let parameters = (!values.is_empty()).then(|| crate::review::to_rego(&Value::Object(values)));
    (shared, parameters)
}

type Routes = HashMap<String, HashMap<String, Vec<Route>>>;

/// A loaded library module.
struct Module {
    file: PathBuf,
    package: String,
    source: String,
}

/// The generated aggregate module in pieces: the whole engine takes every piece, each
/// partition only those of its routes and their policies.
struct Generated {
    /// `p{i}`, policy `i` alone, by policy index.
    policy_rules: Vec<String>,
    /// `r{n}`, the policies of one route together, with the rule's path.
    route_rules: Vec<(String, String)>,
}

impl Generated {
    fn header() -> String {
        format!("package {GENERATED_PACKAGE}\n\nready := true\n")
    }

    fn whole(&self) -> String {
        let mut module = Generated::header();
        module.extend(self.policy_rules.iter().cloned());
        module.extend(self.route_rules.iter().map(|(_, text)| text.clone()));
        module
    }

    fn part(&self, policies: &BTreeSet<usize>, rules: &BTreeSet<String>) -> String {
        let mut module = Generated::header();
        module.extend(policies.iter().map(|&i| self.policy_rules[i].clone()));
        module.extend(self.route_rules.iter().filter(|(rule, _)| rules.contains(rule)).map(|(_, text)| text.clone()));
        module
    }
}

/// The family of kinds a (group, kind) is judged with: Terraform resources, Kubernetes kinds
/// that run pods (most policies are about pod specs), and every other kind. Each family gets
/// its own partition engine.
fn family(group: &str, kind: &str) -> &'static str {
    if group == crate::terraform::GROUP {
        "terraform"
    } else if crate::images::pod_spec_pointer(kind).is_some() {
        "workloads"
    } else {
        "objects"
    }
}

/// Builds one prepared engine per family of kinds with the policies routed to it, the library
/// modules they read and their generated rules, and points each route at its engine.
fn partition(
    lib: &[Module],
    policies: &[Policy],
    sources: &[Option<String>],
    generated: &Generated,
    routes: &mut Routes,
) -> Result<Vec<Partition>, Diagnostics> {
    let mut families: BTreeMap<&'static str, (BTreeSet<usize>, BTreeSet<String>)> = BTreeMap::new();
    for (group, kinds) in routes.iter() {
        for (kind, list) in kinds {
            let (members, rules) = families.entry(family(group, kind)).or_default();
            for route in list {
                members.extend(route.policies.iter().copied());
                rules.insert(route.rule.clone());
            }
        }
    }
    let index: BTreeMap<&str, usize> = families.keys().enumerate().map(|(i, f)| (*f, i)).collect();
    for (group, kinds) in routes.iter_mut() {
        for (kind, list) in kinds.iter_mut() {
            for route in list {
                route.partition = index[family(group, kind)];
            }
        }
    }
    families
        .values()
        .map(|(members, rules)| partition_engine(lib, policies, sources, members, generated.part(members, rules)))
        .collect::<Result<Vec<_>, Diagnostic>>()
        .map_err(Diagnostics::from)
}

fn partition_engine(
    lib: &[Module],
    policies: &[Policy],
    sources: &[Option<String>],
    members: &BTreeSet<usize>,
    generated: String,
) -> Result<Partition, Diagnostic> {
    let texts: Vec<&str> = members.iter().filter_map(|&i| sources[i].as_deref()).collect();
    // The library modules the members name, and those these name in turn.
    let mut needed = vec![false; lib.len()];
    loop {
        let mut grew = false;
        for j in 0..lib.len() {
            let name = lib[j].package.trim_start_matches("data.");
            let named = texts.iter().any(|t| t.contains(name))
                || lib.iter().zip(&needed).any(|(other, &taken)| taken && other.source.contains(name));
            if !needed[j] && named {
                needed[j] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let reads_inventory = texts
        .iter()
        .copied()
        .chain(lib.iter().zip(&needed).filter(|(_, t)| **t).map(|(m, _)| m.source.as_str()))
        .any(|t| t.contains("data.inventory"));
    let mut engine = regorus::Engine::new();
    add_opa_compatibility(&mut engine);
    let add = |engine: &mut regorus::Engine, file: &Path, source: &str| {
        engine
            .add_policy(file.to_string_lossy().into_owned(), source.to_string())
            .map(|_| ())
            .map_err(|e| from_regorus_error(file, &e.to_string()))
    };
    for module in lib.iter().zip(&needed).filter(|(_, taken)| **taken).map(|(m, _)| m) {
        add(&mut engine, &module.file, &module.source)?;
    }
    for &i in members {
        let Some(source) = sources[i].as_deref() else { continue };
        engine.set_rego_v0(policies[i].metadata.rego_version == RegoVersion::V0);
        add(&mut engine, &policies[i].rego_file, source)?;
    }
    engine.set_rego_v0(false);
    add(&mut engine, Path::new(GENERATED_FILE), &generated)?;
    engine.set_input(regorus::Value::new_object());
    engine
        .eval_rule(format!("data.{GENERATED_PACKAGE}.ready"))
        .map_err(|e| from_regorus_error(Path::new(GENERATED_FILE), &e.to_string()))?;
    Ok(Partition { engine, reads_inventory })
}

fn generate(policies: &mut [Policy]) -> (Generated, Routes, Vec<usize>) {
    let mut generated = Generated { policy_rules: Vec::new(), route_rules: Vec::new() };
    for (i, policy) in policies.iter_mut().enumerate() {
        policy.rule = format!("data.{GENERATED_PACKAGE}.p{i}");
        generated.policy_rules.push(format!("\np{i} contains entry if {{\n{}}}\n", contribution(i, policy, false)));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut wildcard = Vec::new();
    for (i, policy) in policies.iter().enumerate().filter(|(_, p)| p.enabled) {
        for target in &policy.metadata.targets {
            let any = |names: &[String]| names.iter().any(|n| n == "*");
            if any(&target.api_groups) || any(&target.kinds) || any(&target.resource_types) {
                wildcard.push(i);
            }
            for resource_type in target.resource_types.iter().filter(|t| *t != "*") {
                let pair = (crate::terraform::GROUP.to_string(), resource_type.clone());
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
            for group in target.api_groups.iter().filter(|g| *g != "*") {
                for kind in target.kinds.iter().filter(|k| *k != "*") {
                    let pair = (group.clone(), kind.clone());
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
            }
        }
    }
    wildcard.dedup();
    let mut routes: Routes = HashMap::new();
    let mut r = 0;
    for (group, kind) in pairs {
        for (mode, class) in [Mode::Validate, Mode::Mutate]
            .into_iter()
            .flat_map(|m| [None, Some(Class::Security), Some(Class::Practices)].map(|c| (m, c)))
        {
            let members: Vec<usize> = policies
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.enabled
                        && p.metadata.mode == mode
                        && class.is_none_or(|c| Class::of(&p.metadata.category) == c)
                        && p.metadata.applies_to(&group, &kind)
                })
                .map(|(i, _)| i)
                .collect();
            if members.is_empty() {
                continue;
            }
            let (shared, parameters) = share_parameters(policies, &members);
            let rule = format!("data.{GENERATED_PACKAGE}.r{r}");
            let mut text = String::new();
            for (&i, shared) in members.iter().zip(shared) {
                let _ = write!(text, "\nr{r} contains entry if {{\n{}}}\n", contribution(i, &policies[i], shared));
            }
            generated.route_rules.push((rule.clone(), text));
            r += 1;
            let route = Route { mode, class, rule, policies: members, parameters, partition: 0 };
            routes.entry(group.clone()).or_default().entry(kind.clone()).or_default().push(route);
        }
    }
    (generated, routes, wildcard)
}
