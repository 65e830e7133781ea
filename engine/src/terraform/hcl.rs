//! Static reading of `.tf` sources into the shape of `terraform show -json`, so that a pull
//! request gets Terraform findings without cloud credentials, from the same policies as a plan.
//!
//! What is resolved: literals, `var.*` (defaults, `terraform.tfvars` and `*.auto.tfvars` of the
//! root, the arguments of a module call), `local.*`, `each.*`, `count.index`, `path.*`, string
//! templates, conditionals, arithmetic, comparisons and logic, a few pure functions (`merge`,
//! `concat`, `lookup`, `jsonencode`, conversions, ...), `optional()` defaults, `count`,
//! `for_each` and `dynamic` blocks over known collections, and module calls with a local
//! `source`. Everything else (resource attributes, data sources, module outputs, `for`
//! expressions, splats) is unknown, exactly as a value known only after apply: `null` in
//! `after`, `true` in `after_unknown`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::template::{Element, Template};
use serde_json::{Map, Number, Value, json};

use super::sources::{BlockSpan, LineIndex, SourceMap};
use crate::yaml::Position;

/// Deepest bracket nesting read: the parser recurses per level, and a crafted file must not
/// exhaust the stack.
pub const MAX_NESTING: usize = 128;
/// Deepest chain of module calls followed.
pub const MAX_MODULE_DEPTH: usize = 16;
/// Most resource instances one root expands to (a `count` of a billion is no plan).
pub const MAX_INSTANCES: usize = 10_000;

/// A problem in a .tf file, at its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{position}: {message}")]
pub struct HclError {
    pub file: Arc<str>,
    pub position: Position,
    pub message: String,
}

/// Something the static reading could not follow (a remote module): reported, never silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub file: Arc<str>,
    pub position: Position,
    pub message: String,
}

/// A root module read statically: a plan-shaped JSON document and where each resource is written.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub plan: Value,
    pub sources: SourceMap,
    pub notes: Vec<Note>,
    /// The .tf files read, the root's and its local modules'.
    pub files: Vec<Arc<str>>,
}

#[derive(Debug)]
struct ParsedFile {
    name: Arc<str>,
    text: String,
    body: Body,
}

/// The .tf files of one directory.
#[derive(Debug)]
pub struct ModuleSource {
    dir: PathBuf,
    files: Vec<ParsedFile>,
}

/// A value read statically: known, unknown, or a container holding both.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Known(Value),
    Unknown,
    List(Vec<V>),
    Map(BTreeMap<String, V>),
}

impl V {
    fn list(items: Vec<V>) -> V {
        match items.iter().map(V::known).collect::<Option<Vec<_>>>() {
            Some(values) => V::Known(Value::Array(values.into_iter().cloned().collect())),
            None => V::List(items),
        }
    }

    fn map(entries: BTreeMap<String, V>) -> V {
        if entries.values().all(|v| v.known().is_some()) {
            let map: Map<String, Value> =
                entries.into_iter().map(|(k, v)| (k, v.known().cloned().unwrap_or(Value::Null))).collect();
            V::Known(Value::Object(map))
        } else {
            V::Map(entries)
        }
    }

    fn known(&self) -> Option<&Value> {
        match self {
            V::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The value as `after` holds it: unknown parts are `null`.
    fn after(&self) -> Value {
        match self {
            V::Known(v) => v.clone(),
            V::Unknown => Value::Null,
            V::List(items) => Value::Array(items.iter().map(V::after).collect()),
            V::Map(entries) => Value::Object(entries.iter().map(|(k, v)| (k.clone(), v.after())).collect()),
        }
    }

    /// The value as `after_unknown` marks it: `true` where unknown.
    fn unknown_mask(&self) -> Value {
        match self {
            V::Known(Value::Array(items)) => Value::Array(items.iter().map(|_| Value::Bool(false)).collect()),
            V::Known(Value::Object(_)) => json!({}),
            V::Known(_) => Value::Bool(false),
            V::Unknown => Value::Bool(true),
            V::List(items) => Value::Array(items.iter().map(V::unknown_mask).collect()),
            V::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.unknown_mask()))
                    .filter(|(_, m)| *m != Value::Bool(false))
                    .collect(),
            ),
        }
    }

    fn get(&self, name: &str) -> V {
        match self {
            V::Known(Value::Object(map)) => map.get(name).cloned().map_or(V::Unknown, V::Known),
            V::Map(entries) => entries.get(name).cloned().unwrap_or(V::Unknown),
            _ => V::Unknown,
        }
    }

    fn index(&self, key: &Value) -> V {
        match (self, key) {
            (V::Known(Value::Array(items)), Value::Number(n)) => {
                n.as_u64().and_then(|i| items.get(i as usize)).cloned().map_or(V::Unknown, V::Known)
            }
            (V::List(items), Value::Number(n)) => {
                n.as_u64().and_then(|i| items.get(i as usize)).cloned().unwrap_or(V::Unknown)
            }
            (_, Value::String(s)) => self.get(s),
            _ => V::Unknown,
        }
    }
}

fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Terraform's string conversion of a primitive; containers do not convert.
fn to_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Rejects nesting deeper than [`MAX_NESTING`] before the parser sees it. Brackets in strings and
/// comments count too: a false alarm needs a hundred-odd unclosed brackets in text.
fn check_nesting(text: &str) -> Result<(), usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for (offset, c) in text.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(offset);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '\n' => {}
            _ => {}
        }
    }
    Ok(())
}

fn parse_file(name: Arc<str>, text: String) -> Result<ParsedFile, HclError> {
    if let Err(offset) = check_nesting(&text) {
        let position = LineIndex::new(&text).position(offset);
        return Err(HclError { file: name, position, message: format!("nested deeper than {MAX_NESTING} levels") });
    }
    match hcl_edit::parser::parse_body(&text) {
        Ok(body) => Ok(ParsedFile { name, text, body }),
        Err(e) => {
            let position = Position { line: e.location().line(), column: e.location().column() };
            let message = format!("not valid HCL: {}", e.message().replace('\n', " "));
            Err(HclError { file: name, position, message })
        }
    }
}

fn parse_files(dir: &Path, paths: &[PathBuf]) -> Result<ModuleSource, Vec<HclError>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match read_text(path).and_then(|text| parse_file(path.display().to_string().into(), text)) {
            Ok(f) => files.push(f),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() { Ok(ModuleSource { dir: dir.to_path_buf(), files }) } else { Err(problems) }
}

fn read_text(path: &Path) -> Result<String, HclError> {
    let name: Arc<str> = path.display().to_string().into();
    let at = |message: String| HclError { file: name.clone(), position: Position { line: 1, column: 1 }, message };
    let meta = std::fs::metadata(path).map_err(|e| at(format!("cannot read: {e}")))?;
    if meta.len() > crate::yaml::Limits::default().max_input_bytes as u64 {
        return Err(at(format!(
            "{} bytes, more than the limit of {}",
            meta.len(),
            crate::yaml::Limits::default().max_input_bytes
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| at(format!("cannot read: {e}")))?;
    if bytes.contains(&0) {
        return Err(at("a binary file (it holds NUL bytes), not HCL".into()));
    }
    String::from_utf8(bytes)
        .map_err(|e| at(format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())))
}

/// The `.tf` files of a directory, sorted, not recursing.
pub fn tf_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads directories of .tf files once each, and the roots and modules they form.
#[derive(Debug, Default)]
pub struct Loader {
    parsed: HashMap<PathBuf, Arc<ModuleSource>>,
}

fn label(block: &Block, i: usize) -> Option<&str> {
    block.labels.get(i).map(|l| l.as_str())
}

fn start(file: &ParsedFile, span: Option<std::ops::Range<usize>>) -> Position {
    LineIndex::new(&file.text).position(span.map_or(0, |s| s.start))
}

/// A module `source` that is a local path.
fn local_source(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

impl Loader {
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Parses the .tf files of `dir`; every file's problems are reported together.
    pub fn parse_dir(&mut self, dir: &Path) -> Result<Arc<ModuleSource>, Vec<HclError>> {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Some(found) = self.parsed.get(&key) {
            return Ok(found.clone());
        }
        let name: Arc<str> = dir.display().to_string().into();
        let at_start =
            |message: String| vec![HclError { file: name.clone(), position: Position { line: 1, column: 1 }, message }];
        let paths = tf_files(dir).map_err(|e| at_start(format!("cannot read: {e}")))?;
        if paths.is_empty() {
            return Err(at_start("no .tf file: not a Terraform module".to_string()));
        }
        let module = Arc::new(parse_files(dir, &paths)?);
        self.parsed.insert(key, module.clone());
        Ok(module)
    }

    /// Reads one .tf file as a whole root module (a policy's sample).
    pub fn load_file(&mut self, file: &Path) -> Result<Loaded, Vec<HclError>> {
        let dir = file.parent().unwrap_or(Path::new("."));
        let module = Arc::new(parse_files(dir, &[file.to_path_buf()])?);
        self.load_module_source(&module, HashMap::new())
    }

    /// Reads one .tf text as a whole root module in `dir` (where its local module calls are
    /// looked for): what the fuzz target of the .tf reader drives.
    pub fn load_text(&mut self, dir: &Path, name: &str, text: String) -> Result<Loaded, Vec<HclError>> {
        let file = parse_file(name.into(), text).map_err(|e| vec![e])?;
        let module = Arc::new(ModuleSource { dir: dir.to_path_buf(), files: vec![file] });
        self.load_module_source(&module, HashMap::new())
    }

    /// The directories that `dir`'s module blocks call by a local `source`.
    pub fn local_calls(&mut self, dir: &Path) -> Result<Vec<PathBuf>, Vec<HclError>> {
        let module = self.parse_dir(dir)?;
        let mut calls = Vec::new();
        for file in &module.files {
            for block in file.body.blocks().filter(|b| b.ident.as_str() == "module") {
                let source = block.body.get_attribute("source").and_then(|a| match &a.value {
                    Expression::String(s) => Some(s.as_str().to_string()),
                    _ => None,
                });
                if let Some(source) = source.filter(|s| local_source(s)) {
                    calls.push(join_source(dir, &source));
                }
            }
        }
        Ok(calls)
    }

    /// Reads the root module at `dir` with its local modules into a plan-shaped document.
    pub fn load_root(&mut self, dir: &Path) -> Result<Loaded, Vec<HclError>> {
        let root = self.parse_dir(dir)?;
        let tfvars = self.root_variables(dir)?;
        self.load_module_source(&root, tfvars)
    }

    fn load_module_source(
        &mut self,
        root: &Arc<ModuleSource>,
        tfvars: HashMap<String, Value>,
    ) -> Result<Loaded, Vec<HclError>> {
        let mut out = Output::default();
        let configuration = self.module(root, "", "", &Inputs::Root(tfvars), &mut out, &mut vec![root.dir.clone()])?;
        let variables: Map<String, Value> = out
            .root_variables
            .iter()
            .filter_map(|(k, v)| v.known().map(|v| (k.clone(), json!({ "value": v }))))
            .collect();
        let plan = json!({
            "format_version": "1.2",
            "terraform_version": null,
            "gatehouse": {"static": true},
            "variables": variables,
            "resource_changes": out.changes,
            "configuration": {"root_module": configuration},
        });
        Ok(Loaded { plan, sources: out.sources, notes: out.notes, files: out.files })
    }

    /// `terraform.tfvars` then `*.auto.tfvars` in name order, as Terraform reads them.
    fn root_variables(&mut self, dir: &Path) -> Result<HashMap<String, Value>, Vec<HclError>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".auto.tfvars")))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let main = dir.join("terraform.tfvars");
        if main.is_file() {
            files.insert(0, main);
        }
        let mut values = HashMap::new();
        for path in files {
            let file =
                read_text(&path).and_then(|t| parse_file(path.display().to_string().into(), t)).map_err(|e| vec![e])?;
            let scope = Scope::empty(dir);
            for attribute in file.body.attributes() {
                match Evaluator::constant(&attribute.value, &scope) {
                    Some(v) => {
                        values.insert(attribute.key.as_str().to_string(), v);
                    }
                    None => {
                        return Err(vec![HclError {
                            file: file.name.clone(),
                            position: start(&file, attribute.span()),
                            message: format!("{}: a .tfvars value must be a literal", attribute.key.as_str()),
                        }]);
                    }
                }
            }
        }
        Ok(values)
    }

    fn module(
        &mut self,
        module: &Arc<ModuleSource>,
        address: &str,
        config_address: &str,
        inputs: &Inputs,
        out: &mut Output,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Value, Vec<HclError>> {
        for file in &module.files {
            out.files.push(file.name.clone());
        }
        let mut evaluator = Evaluator::new(module, inputs);
        if address.is_empty() {
            out.root_variables = evaluator.vars.clone();
        }
        let providers = evaluator.provider_sources();
        let mut resources = Vec::new();
        let mut module_calls = Map::new();
        let mut variables = Map::new();
        let mut declared: HashMap<String, (Arc<str>, Position)> = HashMap::new();
        let mut duplicates = Vec::new();
        for file in &module.files {
            for block in file.body.blocks() {
                let what = match (block.ident.as_str(), label(block, 0), label(block, 1)) {
                    ("resource", Some(kind), Some(name)) => Some(format!("resource {kind}.{name}")),
                    ("module", Some(name), _) => Some(format!("module {name}")),
                    ("variable", Some(name), _) => Some(format!("variable {name}")),
                    _ => None,
                };
                if let Some(what) = what {
                    let here = start(file, block.span());
                    if let Some((first_file, first)) = declared.get(&what) {
                        duplicates.push(HclError {
                            file: file.name.clone(),
                            position: here,
                            message: format!("{what} is declared twice (first at {first_file}:{first})"),
                        });
                        continue;
                    }
                    declared.insert(what, (file.name.clone(), here));
                }
                match (block.ident.as_str(), label(block, 0), label(block, 1)) {
                    ("variable", Some(name), _) => {
                        let mut entry = Map::new();
                        if let Some(default) = block.body.get_attribute("default") {
                            let scope = Scope::empty(&module.dir);
                            if let Some(v) = Evaluator::constant(&default.value, &scope) {
                                entry.insert("default".into(), v);
                            }
                        }
                        if let Some(Expression::Bool(b)) = block.body.get_attribute("sensitive").map(|a| &a.value) {
                            entry.insert("sensitive".into(), Value::Bool(**b));
                        }
                        variables.insert(name.to_string(), Value::Object(entry));
                    }
                    ("resource", Some(kind), Some(name)) => {
                        let config =
                            evaluator.resource(file, block, kind, name, address, config_address, &providers, out);
                        resources.push(config);
                    }
                    ("module", Some(name), _) => {
                        let call =
                            self.module_call(&mut evaluator, file, block, name, address, config_address, out, stack)?;
                        module_calls.insert(name.to_string(), call);
                    }
                    _ => {}
                }
            }
        }
        if !duplicates.is_empty() {
            return Err(duplicates);
        }
        Ok(json!({"resources": resources, "module_calls": module_calls, "variables": variables}))
    }

    #[allow(clippy::too_many_arguments)]
    fn module_call(
        &mut self,
        evaluator: &mut Evaluator,
        file: &ParsedFile,
        block: &Block,
        name: &str,
        address: &str,
        config_address: &str,
        out: &mut Output,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Value, Vec<HclError>> {
        let at = start(file, block.span());
        let source = block.body.get_attribute("source").map(|a| &a.value);
        let Some(Expression::String(source)) = source else {
            out.notes.push(Note {
                file: file.name.clone(),
                position: at,
                message: format!("module {name}: its source is not a literal string: its resources are not read"),
            });
            return Ok(json!({}));
        };
        let source = source.as_str().to_string();
        let mut call = Map::new();
        call.insert("source".into(), Value::String(source.clone()));
        let scope = Scope::new(&evaluator.dir);
        let mut expressions = Map::new();
        for attribute in block.body.attributes() {
            let key = attribute.key.as_str();
            if !matches!(key, "source" | "version" | "count" | "for_each" | "providers" | "depends_on") {
                expressions.insert(key.to_string(), evaluator.expression_config(&attribute.value, &scope));
            }
        }
        call.insert("expressions".into(), Value::Object(expressions));
        if !local_source(&source) {
            out.notes.push(Note {
                file: file.name.clone(),
                position: at,
                message: format!(
                    "module {name}: source {source:?} is not a local path: its resources are not read statically \
                     (scan a plan to judge them)"
                ),
            });
            return Ok(Value::Object(call));
        }
        let dir = join_source(&evaluator.dir, &source);
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if stack.len() >= MAX_MODULE_DEPTH || stack.contains(&canonical) {
            return Err(vec![HclError {
                file: file.name.clone(),
                position: at,
                message: format!("module {name}: calls nest deeper than {MAX_MODULE_DEPTH} or call themselves"),
            }]);
        }
        let child = self.parse_dir(&dir).map_err(|mut errors| {
            errors.insert(
                0,
                HclError {
                    file: file.name.clone(),
                    position: at,
                    message: format!("module {name}: {source} does not load"),
                },
            );
            errors
        })?;
        let child_config = format!("{}module.{name}", prefix(config_address));
        let mut config = None;
        for instance in evaluator.instances(file, block, out) {
            let scope = instance.scope(&evaluator.dir);
            let mut args = HashMap::new();
            for attribute in block.body.attributes() {
                args.insert(attribute.key.as_str().to_string(), evaluator.eval(&attribute.value, &scope));
            }
            let child_address = format!("{}module.{name}{}", prefix(address), instance.key);
            stack.push(canonical.clone());
            let module = self.module(&child, &child_address, &child_config, &Inputs::Call(args), out, stack);
            stack.pop();
            let module = module?;
            config.get_or_insert(module);
        }
        call.insert("module".into(), config.unwrap_or_else(|| json!({})));
        Ok(Value::Object(call))
    }
}

/// A module's local `source` from its caller's directory, with `.` and `..` resolved in the
/// text, as the paths findings show (`env/../modules/db` is `modules/db`).
fn join_source(dir: &Path, source: &str) -> PathBuf {
    let mut path = dir.to_path_buf();
    for part in Path::new(source).components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if path.file_name().is_some_and(|n| n != "..") => {
                path.pop();
            }
            other => path.push(other),
        }
    }
    if path.as_os_str().is_empty() { PathBuf::from(".") } else { path }
}

fn prefix(address: &str) -> String {
    if address.is_empty() { String::new() } else { format!("{address}.") }
}

enum Inputs {
    Root(HashMap<String, Value>),
    Call(HashMap<String, V>),
}

#[derive(Default)]
struct Output {
    changes: Vec<Value>,
    sources: SourceMap,
    notes: Vec<Note>,
    files: Vec<Arc<str>>,
    root_variables: HashMap<String, V>,
    instances: usize,
}

/// One instance of a resource or module call: its address key and its `each`/`count`.
struct Instance {
    key: String,
    index: Option<Value>,
    each: Option<(V, V)>,
    count: Option<V>,
}

impl Instance {
    fn scope(&self, dir: &Path) -> Scope {
        let mut scope = Scope::new(dir);
        scope.each = self.each.clone();
        scope.count = self.count.clone();
        scope
    }
}

#[derive(Clone)]
struct Scope {
    path: String,
    each: Option<(V, V)>,
    count: Option<V>,
    /// The iterators of the `dynamic` blocks being expanded: name, key, value.
    iterators: Vec<(String, V, V)>,
    /// Literal-only evaluation: a variable default or a .tfvars value.
    constant: bool,
}

impl Scope {
    fn new(dir: &Path) -> Scope {
        Scope { path: dir.display().to_string(), each: None, count: None, iterators: Vec::new(), constant: false }
    }

    fn empty(dir: &Path) -> Scope {
        Scope { constant: true, ..Scope::new(dir) }
    }
}

struct Evaluator {
    dir: PathBuf,
    vars: HashMap<String, V>,
    locals: HashMap<String, Expression>,
    local_values: RefCell<HashMap<String, V>>,
    evaluating: RefCell<HashSet<String>>,
    provider_blocks: Vec<(String, String)>,
}

impl Evaluator {
    fn new(module: &ModuleSource, inputs: &Inputs) -> Evaluator {
        let mut vars = HashMap::new();
        let mut locals = HashMap::new();
        let mut provider_blocks = Vec::new();
        for file in &module.files {
            for block in file.body.blocks() {
                match (block.ident.as_str(), label(block, 0)) {
                    ("variable", Some(name)) => {
                        let given = match inputs {
                            Inputs::Root(values) => values.get(name).cloned().map(V::Known),
                            Inputs::Call(args) => args.get(name).cloned(),
                        };
                        let default = block
                            .body
                            .get_attribute("default")
                            .and_then(|d| Evaluator::constant(&d.value, &Scope::empty(&module.dir)));
                        // A variable neither given nor defaulted comes from the pipeline: unknown here.
                        let value = given.or(default.map(V::Known)).unwrap_or(V::Unknown);
                        let value = match block.body.get_attribute("type") {
                            Some(t) => with_type_defaults(&t.value, value),
                            None => value,
                        };
                        vars.insert(name.to_string(), value);
                    }
                    ("locals", _) => {
                        for attribute in block.body.attributes() {
                            locals.insert(attribute.key.as_str().to_string(), attribute.value.clone());
                        }
                    }
                    ("terraform", _) => {
                        for required in block.body.blocks().filter(|b| b.ident.as_str() == "required_providers") {
                            for attribute in required.body.attributes() {
                                if let Expression::Object(object) = &attribute.value {
                                    for (key, value) in object.iter() {
                                        let is_source = matches!(key, ObjectKey::Ident(i) if i.as_str() == "source");
                                        if let (true, Expression::String(s)) = (is_source, value.expr()) {
                                            provider_blocks
                                                .push((attribute.key.as_str().to_string(), s.as_str().to_string()));
                                        }
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Evaluator {
            dir: module.dir.clone(),
            vars,
            locals,
            local_values: RefCell::new(HashMap::new()),
            evaluating: RefCell::new(HashSet::new()),
            provider_blocks,
        }
    }

    fn provider_sources(&self) -> HashMap<String, String> {
        self.provider_blocks.iter().cloned().collect()
    }

    /// A literal expression's value (variable defaults, .tfvars): no reference resolves.
    fn constant(expression: &Expression, scope: &Scope) -> Option<Value> {
        let evaluator = Evaluator {
            dir: PathBuf::from(&scope.path),
            vars: HashMap::new(),
            locals: HashMap::new(),
            local_values: RefCell::new(HashMap::new()),
            evaluating: RefCell::new(HashSet::new()),
            provider_blocks: Vec::new(),
        };
        evaluator.eval(expression, scope).known().cloned()
    }

    fn local(&self, name: &str) -> V {
        if let Some(v) = self.local_values.borrow().get(name) {
            return v.clone();
        }
        let Some(expression) = self.locals.get(name) else {
            return V::Unknown;
        };
        // A cycle is Terraform's error to report; here it is just unknown.
        if !self.evaluating.borrow_mut().insert(name.to_string()) {
            return V::Unknown;
        }
        let value = self.eval(expression, &Scope::new(&self.dir));
        self.evaluating.borrow_mut().remove(name);
        self.local_values.borrow_mut().insert(name.to_string(), value.clone());
        value
    }

    fn eval(&self, expression: &Expression, scope: &Scope) -> V {
        match expression {
            Expression::Null(_) => V::Known(Value::Null),
            Expression::Bool(b) => V::Known(Value::Bool(**b)),
            Expression::Number(n) => {
                let n: &hcl_edit::Number = n;
                V::Known(
                    n.as_i64()
                        .map(Value::from)
                        .or_else(|| n.as_u64().map(Value::from))
                        .or_else(|| n.as_f64().map(number))
                        .unwrap_or(Value::Null),
                )
            }
            Expression::String(s) => V::Known(Value::String(s.as_str().to_string())),
            Expression::Array(array) => V::list(array.iter().map(|e| self.eval(e, scope)).collect()),
            Expression::Object(object) => {
                let mut entries = BTreeMap::new();
                for (key, value) in object.iter() {
                    let key = match key {
                        ObjectKey::Ident(ident) => ident.as_str().to_string(),
                        ObjectKey::Expression(e) => match self.eval(e, scope).known().and_then(to_text) {
                            Some(k) => k,
                            None => return V::Unknown,
                        },
                    };
                    entries.insert(key, self.eval(value.expr(), scope));
                }
                V::map(entries)
            }
            Expression::StringTemplate(template) => self.template(template.iter(), scope),
            Expression::HeredocTemplate(heredoc) => self.template_of(&heredoc.template, scope),
            Expression::Parenthesis(inner) => self.eval(inner.inner(), scope),
            Expression::Conditional(c) => match self.eval(&c.cond_expr, scope).known() {
                Some(Value::Bool(true)) => self.eval(&c.true_expr, scope),
                Some(Value::Bool(false)) => self.eval(&c.false_expr, scope),
                _ => V::Unknown,
            },
            Expression::UnaryOp(op) => match (&*op.operator, self.eval(&op.expr, scope).known()) {
                (UnaryOperator::Not, Some(Value::Bool(b))) => V::Known(Value::Bool(!b)),
                (UnaryOperator::Neg, Some(Value::Number(n))) => n.as_f64().map_or(V::Unknown, |f| V::Known(number(-f))),
                _ => V::Unknown,
            },
            Expression::BinaryOp(op) => {
                let (l, r) = (self.eval(&op.lhs_expr, scope), self.eval(&op.rhs_expr, scope));
                match (l.known(), r.known()) {
                    (Some(l), Some(r)) => binary(*op.operator, l, r),
                    _ => V::Unknown,
                }
            }
            Expression::Traversal(traversal) => self.traversal(&traversal.expr, &traversal.operators, scope),
            Expression::FuncCall(call) => {
                if scope.constant {
                    return V::Unknown;
                }
                let args: Vec<V> = call.args.iter().map(|a| self.eval(a, scope)).collect();
                let known: Option<Vec<&Value>> = args.iter().map(V::known).collect();
                match known {
                    Some(args) => function(call.name.name.as_str(), &args).map_or(V::Unknown, V::Known),
                    None => V::Unknown,
                }
            }
            Expression::Variable(_) | Expression::ForExpr(_) => V::Unknown,
        }
    }

    fn template<'a>(&self, elements: impl Iterator<Item = &'a Element>, scope: &Scope) -> V {
        let mut text = String::new();
        for element in elements {
            match element {
                Element::Literal(s) => text.push_str(s),
                Element::Interpolation(i) => match self.eval(&i.expr, scope).known().and_then(to_text) {
                    Some(s) => text.push_str(&s),
                    None => return V::Unknown,
                },
                Element::Directive(_) => return V::Unknown,
            }
        }
        V::Known(Value::String(text))
    }

    fn template_of(&self, template: &Template, scope: &Scope) -> V {
        self.template(template.iter(), scope)
    }

    fn traversal(&self, root: &Expression, operators: &[hcl_edit::Decorated<TraversalOperator>], scope: &Scope) -> V {
        let Expression::Variable(root) = root else {
            let base = self.eval(root, scope);
            return self.apply(base, operators, scope);
        };
        if scope.constant {
            return V::Unknown;
        }
        let attr = |i: usize| match operators.get(i).map(|o| &**o) {
            Some(TraversalOperator::GetAttr(name)) => Some(name.as_str()),
            _ => None,
        };
        let (base, used) = match (root.as_str(), attr(0)) {
            ("var", Some(name)) => (self.vars.get(name).cloned().unwrap_or(V::Unknown), 1),
            ("local", Some(name)) => (self.local(name), 1),
            ("each", Some("key")) => (scope.each.as_ref().map_or(V::Unknown, |e| e.0.clone()), 1),
            ("each", Some("value")) => (scope.each.as_ref().map_or(V::Unknown, |e| e.1.clone()), 1),
            ("count", Some("index")) => (scope.count.clone().unwrap_or(V::Unknown), 1),
            ("path", Some("module" | "root" | "cwd")) => (V::Known(Value::String(scope.path.clone())), 1),
            ("terraform", Some("workspace")) => (V::Known(Value::String("default".into())), 1),
            (name, Some(field @ ("key" | "value"))) => {
                match scope.iterators.iter().rev().find(|(iterator, _, _)| iterator == name) {
                    Some((_, key, value)) => (if field == "key" { key.clone() } else { value.clone() }, 1),
                    None => return V::Unknown,
                }
            }
            _ => return V::Unknown,
        };
        self.apply(base, &operators[used..], scope)
    }

    fn apply(&self, mut value: V, operators: &[hcl_edit::Decorated<TraversalOperator>], scope: &Scope) -> V {
        for operator in operators {
            value = match &**operator {
                TraversalOperator::GetAttr(name) => value.get(name.as_str()),
                TraversalOperator::Index(e) => match self.eval(e, scope).known() {
                    Some(key) => value.index(key),
                    None => V::Unknown,
                },
                TraversalOperator::LegacyIndex(i) => value.index(&Value::from(**i)),
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => V::Unknown,
            };
            if value == V::Unknown {
                break;
            }
        }
        value
    }

    /// The instances of a block by its `count` or `for_each`; one keyless instance otherwise, and
    /// one `[*]` instance whose key is unknown when they cannot be read.
    fn instances(&self, file: &ParsedFile, block: &Block, out: &mut Output) -> Vec<Instance> {
        let scope = Scope::new(&self.dir);
        let unknown = || {
            vec![Instance {
                key: "[*]".into(),
                index: None,
                each: Some((V::Unknown, V::Unknown)),
                count: Some(V::Unknown),
            }]
        };
        let mut instances = if let Some(count) = block.body.get_attribute("count") {
            match self.eval(&count.value, &scope).known().and_then(Value::as_f64) {
                Some(n) if n >= 0.0 && n.fract() == 0.0 => (0..n as usize)
                    .map(|i| Instance {
                        key: format!("[{i}]"),
                        index: Some(Value::from(i)),
                        each: None,
                        count: Some(V::Known(Value::from(i))),
                    })
                    .collect(),
                _ => unknown(),
            }
        } else if let Some(for_each) = block.body.get_attribute("for_each") {
            match self.eval(&for_each.value, &scope) {
                V::Known(Value::Array(items)) => items
                    .iter()
                    .filter_map(to_text)
                    .map(|k| (k.clone(), V::Known(Value::String(k))))
                    .collect::<Vec<_>>(),
                V::Known(Value::Object(map)) => map.into_iter().map(|(k, v)| (k, V::Known(v))).collect(),
                V::Map(entries) => entries.into_iter().collect(),
                _ => return self.limited(unknown(), file, block, out),
            }
            .into_iter()
            .map(|(k, v)| Instance {
                key: format!("[{}]", Value::String(k.clone())),
                index: Some(Value::String(k.clone())),
                each: Some((V::Known(Value::String(k)), v)),
                count: None,
            })
            .collect()
        } else {
            vec![Instance { key: String::new(), index: None, each: None, count: None }]
        };
        instances = self.limited(instances, file, block, out);
        instances
    }

    fn limited(
        &self,
        mut instances: Vec<Instance>,
        file: &ParsedFile,
        block: &Block,
        out: &mut Output,
    ) -> Vec<Instance> {
        if out.instances + instances.len() > MAX_INSTANCES {
            out.notes.push(Note {
                file: file.name.clone(),
                position: start(file, block.span()),
                message: format!("more than {MAX_INSTANCES} resource instances: the rest are not read"),
            });
            instances.truncate(MAX_INSTANCES.saturating_sub(out.instances));
        }
        out.instances += instances.len();
        instances
    }

    #[allow(clippy::too_many_arguments)]
    fn resource(
        &self,
        file: &ParsedFile,
        block: &Block,
        kind: &str,
        name: &str,
        address: &str,
        config_address: &str,
        providers: &HashMap<String, String>,
        out: &mut Output,
    ) -> Value {
        let local_name = kind.split('_').next().unwrap_or(kind);
        let source = providers.get(local_name).cloned().unwrap_or_else(|| format!("hashicorp/{local_name}"));
        let provider_name =
            if source.matches('/').count() >= 2 { source } else { format!("registry.terraform.io/{source}") };
        let (expressions, span) = self.body_config(file, &block.body, &Scope::new(&self.dir));
        let config_key = format!("{}{kind}.{name}", prefix(config_address));
        out.sources.resources.insert(config_key, BlockSpan { position: start(file, block.span()), ..span });
        let mut config = json!({
            "address": format!("{kind}.{name}"),
            "mode": "managed",
            "type": kind,
            "name": name,
            "provider_config_key": local_name,
            "expressions": expressions,
        });
        for meta in ["count", "for_each"] {
            if let Some(attribute) = block.body.get_attribute(meta) {
                config[format!("{meta}_expression")] = self.expression_config(&attribute.value, &Scope::new(&self.dir));
            }
        }
        for instance in self.instances(file, block, out) {
            let scope = instance.scope(&self.dir);
            let values = self.body_values(&block.body, &scope);
            let mut change = json!({
                "address": format!("{}{kind}.{name}{}", prefix(address), instance.key),
                "mode": "managed",
                "type": kind,
                "name": name,
                "provider_name": provider_name,
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": values.after(),
                    "after_unknown": values.unknown_mask(),
                    "before_sensitive": false,
                    "after_sensitive": {},
                },
            });
            if !address.is_empty() {
                change["module_address"] = Value::String(address.to_string());
            }
            if let Some(index) = instance.index {
                change["index"] = index;
            }
            out.changes.push(change);
        }
        config
    }

    /// The values of a block body: attributes, and nested blocks as lists of objects.
    fn body_values(&self, body: &Body, scope: &Scope) -> V {
        let mut entries: BTreeMap<String, V> = BTreeMap::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(a) if !is_meta_argument(a.key.as_str()) => {
                    entries.insert(a.key.as_str().to_string(), self.eval(&a.value, scope));
                }
                Structure::Attribute(_) => {}
                Structure::Block(b) => match b.ident.as_str() {
                    "lifecycle" | "provisioner" | "connection" => {}
                    "dynamic" => {
                        let Some(kind) = label(b, 0) else { continue };
                        match (self.dynamic_blocks(b, kind, scope), entries.get_mut(kind)) {
                            (Some(blocks), Some(V::List(items))) => items.extend(blocks),
                            (Some(blocks), None) => {
                                entries.insert(kind.to_string(), V::List(blocks));
                            }
                            _ => {
                                entries.insert(kind.to_string(), V::Unknown);
                            }
                        }
                    }
                    kind => {
                        let value = self.body_values(&b.body, scope);
                        match entries.entry(kind.to_string()).or_insert_with(|| V::List(Vec::new())) {
                            V::List(items) => items.push(value),
                            other => *other = V::Unknown,
                        }
                    }
                },
            }
        }
        for value in entries.values_mut() {
            if let V::List(items) = value {
                *value = V::list(std::mem::take(items));
            }
        }
        V::map(entries)
    }

    /// The blocks a `dynamic` block makes, when its `for_each` is known; `None` otherwise.
    fn dynamic_blocks(&self, block: &Block, kind: &str, scope: &Scope) -> Option<Vec<V>> {
        let content = block.body.blocks().find(|b| b.ident.as_str() == "content")?;
        let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
            Some(Expression::Variable(name)) => name.as_str().to_string(),
            Some(_) => return None,
            None => kind.to_string(),
        };
        let collection = self.eval(&block.body.get_attribute("for_each")?.value, scope);
        let elements: Vec<(V, V)> = match collection {
            V::Known(Value::Array(items)) => {
                items.into_iter().enumerate().map(|(i, v)| (V::Known(Value::from(i)), V::Known(v))).collect()
            }
            V::List(items) => items.into_iter().enumerate().map(|(i, v)| (V::Known(Value::from(i)), v)).collect(),
            V::Known(Value::Object(map)) => {
                map.into_iter().map(|(k, v)| (V::Known(Value::String(k)), V::Known(v))).collect()
            }
            V::Map(entries) => entries.into_iter().map(|(k, v)| (V::Known(Value::String(k)), v)).collect(),
            _ => return None,
        };
        Some(
            elements
                .into_iter()
                .map(|(key, value)| {
                    let mut inner = scope.clone();
                    inner.iterators.push((iterator.clone(), key, value));
                    self.body_values(&content.body, &inner)
                })
                .collect(),
        )
    }

    /// The `expressions` of a block as `terraform show -json` writes its configuration, and
    /// where each attribute and nested block is written.
    fn body_config(&self, file: &ParsedFile, body: &Body, scope: &Scope) -> (Value, BlockSpan) {
        let index = LineIndex::new(&file.text);
        let at = |span: Option<std::ops::Range<usize>>| index.position(span.map_or(0, |s| s.start));
        let mut expressions = Map::new();
        let mut span = BlockSpan { file: file.name.clone(), ..BlockSpan::default() };
        for structure in body.iter() {
            match structure {
                Structure::Attribute(a) if !is_meta_argument(a.key.as_str()) => {
                    expressions.insert(a.key.as_str().to_string(), self.expression_config(&a.value, scope));
                    span.attributes.insert(a.key.as_str().to_string(), at(a.span()));
                }
                Structure::Attribute(_) => {}
                Structure::Block(b) => {
                    let kind = match b.ident.as_str() {
                        "lifecycle" | "provisioner" | "connection" => continue,
                        "dynamic" => match label(b, 0) {
                            Some(kind) => {
                                span.attributes.insert(kind.to_string(), at(b.span()));
                                continue;
                            }
                            None => continue,
                        },
                        kind => kind.to_string(),
                    };
                    let (nested, mut nested_span) = self.body_config(file, &b.body, scope);
                    nested_span.position = at(b.span());
                    if let Value::Array(items) = expressions.entry(kind.clone()).or_insert_with(|| json!([])) {
                        items.push(nested);
                    }
                    span.blocks.entry(kind).or_default().push(nested_span);
                }
            }
        }
        (Value::Object(expressions), span)
    }

    /// `{"constant_value": v}` for a literal, `{"references": [...]}` for an expression that
    /// reads something, as Terraform writes a configuration's expressions.
    fn expression_config(&self, expression: &Expression, scope: &Scope) -> Value {
        let mut references = Vec::new();
        collect_references(expression, &mut references);
        if references.is_empty()
            && let Some(v) = self.eval(expression, scope).known()
        {
            return json!({ "constant_value": v });
        }
        json!({ "references": references })
    }
}

/// Fills in the `optional(type, default)` attributes a value leaves out, as Terraform does when
/// it converts a variable to its type constraint (`map(object({days = optional(number, 30)})))`).
fn with_type_defaults(constraint: &Expression, value: V) -> V {
    let Expression::FuncCall(call) = constraint else {
        return value;
    };
    let argument = call.args.get(0);
    match (call.name.name.as_str(), argument, value) {
        ("map", Some(element), V::Known(Value::Object(map))) => {
            V::map(map.into_iter().map(|(k, v)| (k, with_type_defaults(element, V::Known(v)))).collect())
        }
        ("map", Some(element), V::Map(entries)) => {
            V::map(entries.into_iter().map(|(k, v)| (k, with_type_defaults(element, v))).collect())
        }
        ("list" | "set", Some(element), V::Known(Value::Array(items))) => {
            V::list(items.into_iter().map(|v| with_type_defaults(element, V::Known(v))).collect())
        }
        ("list" | "set", Some(element), V::List(items)) => {
            V::list(items.into_iter().map(|v| with_type_defaults(element, v)).collect())
        }
        ("object", Some(Expression::Object(fields)), value) => {
            let mut entries: BTreeMap<String, V> = match value {
                V::Known(Value::Object(map)) => map.into_iter().map(|(k, v)| (k, V::Known(v))).collect(),
                V::Map(entries) => entries,
                other => return other,
            };
            for (key, field) in fields.iter() {
                let ObjectKey::Ident(key) = key else { continue };
                let key = key.as_str().to_string();
                let field = field.expr();
                let (inner, default) = match field {
                    Expression::FuncCall(f) if f.name.name.as_str() == "optional" => (f.args.get(0), f.args.get(1)),
                    other => (Some(other), None),
                };
                let present = entries.get(&key).is_some_and(|v| *v != V::Known(Value::Null));
                if !present {
                    let default = default.and_then(|d| Evaluator::constant(d, &Scope::empty(Path::new("."))));
                    entries.insert(key.clone(), V::Known(default.unwrap_or(Value::Null)));
                }
                if let (Some(inner), Some(v)) = (inner, entries.remove(&key)) {
                    entries.insert(key, with_type_defaults(inner, v));
                }
            }
            V::map(entries)
        }
        (_, _, value) => value,
    }
}

fn is_meta_argument(name: &str) -> bool {
    matches!(name, "count" | "for_each" | "provider" | "depends_on")
}

/// Traversals an expression reads, as Terraform lists them: the whole traversal, then the
/// object it belongs to (`aws_s3_bucket.b.id`, `aws_s3_bucket.b`).
fn collect_references(expression: &Expression, out: &mut Vec<String>) {
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    match expression {
        Expression::Traversal(t) => {
            if let Expression::Variable(root) = &t.expr {
                let mut parts = vec![root.as_str().to_string()];
                for operator in &t.operators {
                    match &**operator {
                        TraversalOperator::GetAttr(name) => parts.push(name.as_str().to_string()),
                        _ => break,
                    }
                }
                let owner = match parts[0].as_str() {
                    "data" => 3,
                    "var" | "local" | "module" | "each" | "count" | "path" | "terraform" => 2,
                    _ => 2,
                };
                push(parts.join("."));
                if parts.len() > owner {
                    push(parts[..owner].join("."));
                }
            } else {
                collect_references(&t.expr, out);
            }
            for operator in &t.operators {
                if let TraversalOperator::Index(e) = &**operator {
                    collect_references(e, out);
                }
            }
        }
        Expression::Variable(v) => push(v.as_str().to_string()),
        Expression::Array(a) => a.iter().for_each(|e| collect_references(e, out)),
        Expression::Object(o) => o.iter().for_each(|(k, v)| {
            if let ObjectKey::Expression(k) = k {
                collect_references(k, out);
            }
            collect_references(v.expr(), out);
        }),
        Expression::StringTemplate(t) => t.iter().for_each(|e| {
            if let Element::Interpolation(i) = e {
                collect_references(&i.expr, out);
            }
        }),
        Expression::HeredocTemplate(h) => h.template.iter().for_each(|e| {
            if let Element::Interpolation(i) = e {
                collect_references(&i.expr, out);
            }
        }),
        Expression::Parenthesis(p) => collect_references(p.inner(), out),
        Expression::Conditional(c) => {
            collect_references(&c.cond_expr, out);
            collect_references(&c.true_expr, out);
            collect_references(&c.false_expr, out);
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| collect_references(a, out)),
        Expression::UnaryOp(u) => collect_references(&u.expr, out),
        Expression::BinaryOp(b) => {
            collect_references(&b.lhs_expr, out);
            collect_references(&b.rhs_expr, out);
        }
        Expression::ForExpr(f) => {
            collect_references(&f.intro.collection_expr, out);
        }
        Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {}
    }
}

fn binary(operator: BinaryOperator, l: &Value, r: &Value) -> V {
    use BinaryOperator::*;
    let numbers = l.as_f64().zip(r.as_f64());
    let value = match operator {
        Eq => Some(Value::Bool(equal(l, r))),
        NotEq => Some(Value::Bool(!equal(l, r))),
        And => l.as_bool().zip(r.as_bool()).map(|(a, b)| Value::Bool(a && b)),
        Or => l.as_bool().zip(r.as_bool()).map(|(a, b)| Value::Bool(a || b)),
        Less => numbers.map(|(a, b)| Value::Bool(a < b)),
        LessEq => numbers.map(|(a, b)| Value::Bool(a <= b)),
        Greater => numbers.map(|(a, b)| Value::Bool(a > b)),
        GreaterEq => numbers.map(|(a, b)| Value::Bool(a >= b)),
        Plus => numbers.map(|(a, b)| number(a + b)),
        Minus => numbers.map(|(a, b)| number(a - b)),
        Mul => numbers.map(|(a, b)| number(a * b)),
        Div => numbers.filter(|(_, b)| *b != 0.0).map(|(a, b)| number(a / b)),
        Mod => numbers.filter(|(_, b)| *b != 0.0).map(|(a, b)| number(a % b)),
    };
    value.map_or(V::Unknown, V::Known)
}

/// The pure functions read statically; any other is unknown.
fn function(name: &str, args: &[&Value]) -> Option<Value> {
    match (name, args) {
        ("tostring", [v]) => to_text(v).map(Value::String),
        ("tonumber", [Value::String(s)]) => s.parse::<f64>().ok().map(number),
        ("tonumber", [v @ Value::Number(_)]) => Some((*v).clone()),
        ("tobool", [Value::String(s)]) => s.parse::<bool>().ok().map(Value::Bool),
        ("tobool", [v @ Value::Bool(_)]) => Some((*v).clone()),
        ("tolist" | "toset", [v @ Value::Array(_)]) => Some((*v).clone()),
        ("tomap", [v @ Value::Object(_)]) => Some((*v).clone()),
        ("merge", maps) => {
            let mut merged = Map::new();
            for m in maps {
                merged.extend(m.as_object()?.clone());
            }
            Some(Value::Object(merged))
        }
        ("concat", lists) => {
            let mut all = Vec::new();
            for l in lists {
                all.extend(l.as_array()?.iter().cloned());
            }
            Some(Value::Array(all))
        }
        ("lookup", [Value::Object(m), Value::String(k), default]) => {
            Some(m.get(k).cloned().unwrap_or((*default).clone()))
        }
        ("lookup", [Value::Object(m), Value::String(k)]) => m.get(k).cloned(),
        ("length", [Value::Array(a)]) => Some(Value::from(a.len())),
        ("length", [Value::Object(m)]) => Some(Value::from(m.len())),
        ("length", [Value::String(s)]) => Some(Value::from(s.chars().count())),
        ("contains", [Value::Array(a), v]) => Some(Value::Bool(a.iter().any(|x| equal(x, v)))),
        ("keys", [Value::Object(m)]) => Some(Value::Array(m.keys().cloned().map(Value::String).collect())),
        ("values", [Value::Object(m)]) => Some(Value::Array(m.values().cloned().collect())),
        ("lower", [Value::String(s)]) => Some(Value::String(s.to_lowercase())),
        ("upper", [Value::String(s)]) => Some(Value::String(s.to_uppercase())),
        ("jsonencode", [v]) => serde_json::to_string(v).ok().map(Value::String),
        ("coalesce", values) => {
            values.iter().find(|v| !v.is_null() && **v != &Value::String(String::new())).map(|v| (*v).clone())
        }
        ("min", values) => values
            .iter()
            .map(|v| v.as_f64())
            .collect::<Option<Vec<_>>>()
            .and_then(|n| n.into_iter().reduce(f64::min))
            .map(number),
        ("max", values) => values
            .iter()
            .map(|v| v.as_f64())
            .collect::<Option<Vec<_>>>()
            .and_then(|n| n.into_iter().reduce(f64::max))
            .map(number),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
    }

    fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
        plan["resource_changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no {address} in {:#}", plan["resource_changes"]))
    }

    #[test]
    fn variables_locals_modules_and_instances_resolve_and_the_rest_is_unknown() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &[
                (
                    "main.tf",
                    r#"
variable "env" { default = "staging" }
variable "retention" {}
locals { prefix = "gh-${var.env}" }
module "db" {
  source   = "./modules/db"
  ha       = var.env == "production"
  replicas = 2
  name     = local.prefix
}
resource "aws_s3_bucket" "logs" {
  for_each = { a = 30, b = 60 }
  bucket   = "${local.prefix}-${each.key}"
  tags     = merge({ env = var.env }, { days = tostring(each.value) })
  versioning {
    enabled = true
  }
  dynamic "grant" {
    for_each = aws_iam_user.u.arns
    content {}
  }
  dynamic "rule" {
    for_each = { web = 443, api = 8443 }
    iterator = port
    content {
      name = port.key
      port = port.value
    }
  }
  rule {
    name = "static"
    port = 80
  }
}
"#,
                ),
                ("terraform.tfvars", "env = \"production\"\n"),
                (
                    "modules/db/main.tf",
                    r#"
variable "ha" {}
variable "replicas" { default = 1 }
variable "name" {}
resource "aws_db_instance" "main" {
  identifier = var.name
  multi_az   = var.ha
  password   = "hunter2"
  kms_key_id = aws_kms_key.k.arn
}
resource "aws_db_instance" "replica" {
  count               = var.replicas
  identifier          = "${var.name}-${count.index}"
  replicate_source_db = aws_db_instance.main.identifier
}
"#,
                ),
            ],
        );
        let loaded = Loader::new().load_root(dir.path()).expect("loads");
        let plan = &loaded.plan;
        let bucket = change(plan, "aws_s3_bucket.logs[\"a\"]");
        assert_eq!(bucket["change"]["after"]["bucket"], "gh-production-a");
        assert_eq!(bucket["change"]["after"]["tags"], json!({"env": "production", "days": "30"}));
        assert_eq!(bucket["change"]["after"]["versioning"], json!([{"enabled": true}]));
        assert_eq!(bucket["change"]["after_unknown"]["grant"], true);
        assert_eq!(
            bucket["change"]["after"]["rule"],
            json!([{"name": "api", "port": 8443}, {"name": "web", "port": 443}, {"name": "static", "port": 80}]),
            "generated blocks sit where their dynamic block is"
        );
        assert_eq!(bucket["index"], "a");
        let db = change(plan, "module.db.aws_db_instance.main");
        assert_eq!(db["module_address"], "module.db");
        assert_eq!(db["change"]["after"]["multi_az"], true);
        assert_eq!(db["change"]["after"]["kms_key_id"], Value::Null);
        assert_eq!(db["change"]["after_unknown"], json!({"kms_key_id": true}));
        assert_eq!(
            change(plan, "module.db.aws_db_instance.replica[1]")["change"]["after"]["identifier"],
            "gh-production-1"
        );
        let config = &plan["configuration"]["root_module"]["module_calls"]["db"]["module"]["resources"];
        let main = config.as_array().expect("resources").iter().find(|r| r["name"] == "main").expect("main");
        assert_eq!(main["expressions"]["password"], json!({"constant_value": "hunter2"}));
        assert_eq!(main["expressions"]["kms_key_id"]["references"], json!(["aws_kms_key.k.arn", "aws_kms_key.k"]));
        let replica = config.as_array().expect("resources").iter().find(|r| r["name"] == "replica").expect("replica");
        assert_eq!(
            replica["expressions"]["replicate_source_db"]["references"],
            json!(["aws_db_instance.main.identifier", "aws_db_instance.main"])
        );
        assert_eq!(plan["variables"]["env"]["value"], "production");
        assert!(plan["variables"].get("retention").is_none(), "an unset variable has no value");
        let place = loaded.sources.locate("module.db.aws_db_instance.main", "/password").expect("located");
        assert!(place.file.ends_with("modules/db/main.tf"));
        assert_eq!((place.position.line, place.position.column, place.exact), (8, 3, true));
        let place = loaded.sources.locate("aws_s3_bucket.logs", "/versioning/0/enabled").expect("located");
        assert_eq!((place.position.line, place.exact), (16, true));
        assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
    }

    #[test]
    fn optional_attributes_take_their_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &[(
                "main.tf",
                r#"
variable "buckets" {
  type = map(object({
    purpose        = string
    retention_days = optional(number, 30)
    archive        = optional(object({ after_days = optional(number, 90) }), {})
  }))
  default = { logs = { purpose = "logs" }, data = { purpose = "data", retention_days = 7 } }
}
resource "aws_s3_bucket" "b" {
  for_each = var.buckets
  bucket   = "${each.key}-${each.value.retention_days}-${each.value.archive.after_days}"
}
"#,
            )],
        );
        let loaded = Loader::new().load_root(dir.path()).expect("loads");
        assert_eq!(change(&loaded.plan, "aws_s3_bucket.b[\"logs\"]")["change"]["after"]["bucket"], "logs-30-90");
        assert_eq!(change(&loaded.plan, "aws_s3_bucket.b[\"data\"]")["change"]["after"]["bucket"], "data-7-90");
    }

    #[test]
    fn unreadable_sources_are_errors_at_their_place_and_remote_modules_are_noted() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &[("main.tf", "resource \"a\" \"b\" {\n  x = \n}\n"), ("ok.tf", "locals {}\n")]);
        let errors = Loader::new().load_root(dir.path()).expect_err("malformed");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].file.ends_with("main.tf"));
        assert_eq!(errors[0].position.line, 2, "{errors:?}");
        assert!(errors[0].message.starts_with("not valid HCL"), "{errors:?}");

        let deep = format!("locals {{\n  x = {}{}\n}}\n", "[".repeat(100_000), "]".repeat(100_000));
        write(dir.path(), &[("main.tf", &deep)]);
        let errors = Loader::new().load_root(dir.path()).expect_err("too deep");
        assert!(errors[0].message.contains("nested deeper than"), "{errors:?}");

        write(dir.path(), &[("main.tf", "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n")]);
        let loaded = Loader::new().load_root(dir.path()).expect("loads");
        assert_eq!(loaded.notes.len(), 1);
        assert!(loaded.notes[0].message.contains("not a local path"), "{:?}", loaded.notes);

        std::fs::write(dir.path().join("main.tf"), b"resource \"a\" \"b\" {}\0").expect("write");
        let errors = Loader::new().load_root(dir.path()).expect_err("binary");
        assert!(errors[0].message.contains("binary"), "{errors:?}");
    }

    #[test]
    fn a_module_that_calls_itself_or_nests_too_deep_is_an_error_at_its_call() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &[("main.tf", "locals {}\n\nmodule \"again\" {\n  source = \"./\"\n}\n")]);
        let errors = Loader::new().load_root(dir.path()).expect_err("calls itself");
        assert!(errors[0].message.contains("call themselves"), "{errors:?}");
        assert_eq!(errors[0].position.line, 3, "at the module block: {errors:?}");

        // A chain of 20 modules, each calling the next: deeper than MAX_MODULE_DEPTH.
        for i in 0..20 {
            let module = dir.path().join(format!("m{i}"));
            std::fs::create_dir_all(&module).expect("mkdir");
            write(&module, &[("main.tf", &format!("module \"next\" {{\n  source = \"../m{}\"\n}}\n", i + 1))]);
        }
        std::fs::create_dir_all(dir.path().join("m20")).expect("mkdir");
        write(&dir.path().join("m20"), &[("main.tf", "locals {}\n")]);
        let errors = Loader::new().load_root(&dir.path().join("m0")).expect_err("too deep");
        assert!(errors[0].message.contains(&format!("nest deeper than {MAX_MODULE_DEPTH}")), "{errors:?}");
    }

    #[test]
    fn counts_that_cannot_be_read_give_one_unknown_instance_and_huge_ones_are_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &[(
                "main.tf",
                "variable \"n\" {}\nresource \"aws_eks_node_group\" \"g\" {\n  count = var.n\n  node_group_name = \"g${count.index}\"\n}\n\
                 resource \"aws_s3_bucket\" \"many\" {\n  count = 1000000\n}\n",
            )],
        );
        let loaded = Loader::new().load_root(dir.path()).expect("loads");
        let group = change(&loaded.plan, "aws_eks_node_group.g[*]");
        assert_eq!(group["change"]["after_unknown"]["node_group_name"], true);
        assert_eq!(loaded.plan["resource_changes"].as_array().map(Vec::len), Some(MAX_INSTANCES));
        assert!(loaded.notes[0].message.contains("more than"), "{:?}", loaded.notes);
    }
}
