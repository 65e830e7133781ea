//! Helm charts and Kustomize overlays: rendered by their own tools (`helm template`,
//! `kubectl kustomize`), scanned like any manifest, and their findings placed back in the
//! template, values, base or patch file that produced the field.

pub mod align;
mod helm;
mod kustomize;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use gatehouse_engine::yaml::{self, Limits, Node, NodeKind, Position};
use serde::Serialize;

use crate::documents::{Object, Source};
use crate::report::Location;

/// What one render may take: time, and output (as much as a file the scanner reads).
const RENDER_BOUNDS: crate::process::Bounds =
    crate::process::Bounds { time: std::time::Duration::from_secs(300), output: crate::discover::MAX_SOURCE_BYTES };

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    Helm,
    Kustomize,
}

impl std::fmt::Display for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Renderer::Helm => "helm",
            Renderer::Kustomize => "kustomize",
        })
    }
}

/// A directory found to be a chart (`Chart.yaml`) or a kustomization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub renderer: Renderer,
    pub dir: PathBuf,
}

pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

impl Root {
    /// The file that makes the directory what it is: where a render error is reported.
    pub fn marker(&self) -> PathBuf {
        match self.renderer {
            Renderer::Helm => self.dir.join("Chart.yaml"),
            Renderer::Kustomize => KUSTOMIZATION_FILES
                .iter()
                .map(|f| self.dir.join(f))
                .find(|p| p.is_file())
                .unwrap_or_else(|| self.dir.join(KUSTOMIZATION_FILES[0])),
        }
    }

    /// The kind of source `dir` is, when it is one.
    pub fn of(dir: &Path) -> Option<Root> {
        if dir.join("Chart.yaml").is_file() {
            return Some(Root { renderer: Renderer::Helm, dir: dir.to_path_buf() });
        }
        KUSTOMIZATION_FILES
            .iter()
            .any(|f| dir.join(f).is_file())
            .then(|| Root { renderer: Renderer::Kustomize, dir: dir.to_path_buf() })
    }
}

/// How charts are rendered.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// One render per entry, each entry's files layered in order (`-f a -f b`); none: one
    /// render with the chart's own values.
    pub helm_values: Vec<Vec<PathBuf>>,
    /// Also render each chart once per `ci/*-values.yaml` it carries (chart-testing's matrix).
    pub helm_ci_values: bool,
    /// `--set` expressions, given to every render.
    pub helm_set: Vec<String>,
    /// `--set-string` expressions, given to every render.
    pub helm_set_string: Vec<String>,
    pub release: String,
    /// `.Release.Namespace`; the scan's namespace when not given.
    pub namespace: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            helm_values: Vec::new(),
            helm_ci_values: false,
            helm_set: Vec::new(),
            helm_set_string: Vec::new(),
            release: "release-name".into(),
            namespace: None,
        }
    }
}

/// What a rendered finding carries of its render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub renderer: Renderer,
    /// The chart or kustomization directory.
    pub root: String,
    /// The values files of this render (Helm), in the order layered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// The command that reproduces the render.
    pub command: String,
    /// `helm.sh/hook` of a hook or test object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    /// The field in the rendered output (`file` is the command).
    pub document: Location,
    /// Other places that produced the field: the values file line a template line reads.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// One render's output, and how to place its documents.
#[derive(Debug)]
pub struct Render {
    pub source: Source,
    pub root: Root,
    pub values: Vec<PathBuf>,
    /// Renders of one root with several values sets are alternatives (a CI matrix): each is
    /// judged against its own objects, not its siblings'.
    pub alternative: bool,
    mapping: Mapping,
}

#[derive(Debug)]
enum Mapping {
    Helm,
    Kustomize(Vec<Option<kustomize::Origin>>),
}

/// Something that kept a root from being rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// The chart's `Chart.yaml` or the kustomization file.
    pub root: PathBuf,
    pub message: String,
    /// The template file and line the renderer blames, when it names one.
    pub at: Option<(PathBuf, usize)>,
}

/// A root not rendered on its own, and why (a library chart, a base its overlays render).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRendered {
    pub root: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Renders {
    pub renders: Vec<Render>,
    pub errors: Vec<RenderError>,
    pub not_rendered: Vec<NotRendered>,
}

/// One run of a renderer.
enum Job<'a> {
    Helm { root: &'a Root, values: Vec<PathBuf>, alternative: bool },
    Kustomize(&'a Root),
}

/// Renders every root, each values set of a chart on its own, `threads` renders at a time (a
/// render is mostly waiting for its process).
pub fn render_all(
    roots: &[Root],
    options: &RenderOptions,
    scan_namespace: &str,
    limits: &Limits,
    threads: usize,
) -> Renders {
    let mut out = Renders::default();
    let called = kustomize::called_bases(roots, limits);
    let mut jobs = Vec::new();
    for root in roots {
        match root.renderer {
            Renderer::Helm => match helm::variants(root, options) {
                Ok(variants) => {
                    let alternative = variants.len() > 1;
                    jobs.extend(variants.into_iter().map(|values| Job::Helm { root, values, alternative }));
                }
                Err(not_rendered) => out.not_rendered.push(not_rendered),
            },
            Renderer::Kustomize => match called.get(&root.dir) {
                Some(by) => out.not_rendered.push(NotRendered {
                    root: root.dir.clone(),
                    reason: format!("a Kustomize base: judged as rendered by {}", by.display()),
                }),
                None => jobs.push(Job::Kustomize(root)),
            },
        }
    }
    let run = |job: &Job| match job {
        Job::Helm { root, values, alternative } => {
            helm::render(root, values.clone(), *alternative, options, scan_namespace)
        }
        Job::Kustomize(root) => kustomize::render(root, limits),
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<Render, RenderError>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, jobs.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break done };
                        done.push((i, run(job)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    for (_, result) in results {
        match result {
            Ok(render) => out.renders.push(render),
            Err(error) => out.errors.push(error),
        }
    }
    out
}

impl Render {
    /// The command that reproduces this render.
    pub fn command(&self) -> &str {
        &self.source.name
    }

    /// The template line that produced a line of a Helm render's output.
    pub fn place_line(&self, at: Position, files: &mut FileCache) -> Option<Location> {
        match self.mapping {
            Mapping::Helm => helm::place(self, at, files, &mut Vec::new()).map(|(location, _)| location),
            Mapping::Kustomize(_) => None,
        }
    }

    /// Places a field of a rendered object: its source file and line when they can be found,
    /// the rendered output otherwise.
    pub fn place(
        &self,
        object: &Object,
        object_value: Option<&regorus::Value>,
        pointer: &str,
        at: yaml::Located,
        files: &mut FileCache,
    ) -> (Location, bool, Rendered) {
        let document =
            Location { file: self.source.name.to_string(), line: at.position.line, column: at.position.column };
        let mut rendered = Rendered {
            renderer: self.root.renderer,
            root: self.root.dir.display().to_string(),
            values: self.values.iter().map(|v| v.display().to_string()).collect(),
            command: self.source.name.to_string(),
            hook: object_value.and_then(hook_of),
            document: document.clone(),
            related: Vec::new(),
        };
        let placed = match &self.mapping {
            Mapping::Helm => helm::place(self, at.position, files, &mut rendered.related),
            Mapping::Kustomize(origins) => origins
                .get(object.document)
                .and_then(Option::as_ref)
                .and_then(|origin| kustomize::place(origin, object_value, pointer, files)),
        };
        match placed {
            Some((location, exact)) => (location, exact && at.exact, rendered),
            None => (document, at.exact, rendered),
        }
    }
}

fn hook_of(object: &regorus::Value) -> Option<String> {
    let annotations = &object["metadata"]["annotations"];
    annotations["helm.sh/hook"].as_string().ok().map(|s| s.to_string())
}

/// Files read while placing findings, each read and parsed once.
#[derive(Debug, Default)]
pub struct FileCache {
    texts: HashMap<PathBuf, Option<Arc<str>>>,
    documents: HashMap<PathBuf, Option<Arc<Vec<Option<Node>>>>>,
    limits: Limits,
}

impl FileCache {
    pub fn new(limits: Limits) -> FileCache {
        FileCache { limits, ..FileCache::default() }
    }

    pub fn text(&mut self, path: &Path) -> Option<Arc<str>> {
        self.texts
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                std::fs::metadata(path)
                    .ok()
                    .filter(|m| m.is_file() && m.len() <= crate::discover::MAX_SOURCE_BYTES)
                    .and_then(|_| std::fs::read_to_string(path).ok())
                    .map(Arc::from)
            })
            .clone()
    }

    /// The YAML documents of a file, `None` when it cannot be read or parsed.
    pub fn documents(&mut self, path: &Path) -> Option<Arc<Vec<Option<Node>>>> {
        if let Some(done) = self.documents.get(path) {
            return done.clone();
        }
        let parsed = self.text(path).and_then(|text| {
            yaml::parse_documents(&text, &self.limits).ok().map(|d| Arc::new(d.into_iter().map(|d| d.root).collect()))
        });
        self.documents.insert(path.to_path_buf(), parsed.clone());
        parsed
    }

    /// Every file read, with its text, for formats that quote source lines.
    pub fn sources(&self) -> Vec<Source> {
        self.texts
            .iter()
            .filter_map(|(path, text)| text.as_ref().map(|t| Source { name: display(path).into(), text: t.clone() }))
            .collect()
    }
}

/// Runs a renderer; `Err` holds the message for the user.
fn run(mut command: std::process::Command, program: &str, what: &str) -> Result<String, String> {
    command.stdin(std::process::Stdio::null());
    let output = crate::process::run_bounded(command, RENDER_BOUNDS).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{program} is not on PATH, so {what} cannot be rendered (policy-scan renders, never skips)")
        } else {
            format!("{program} failed to run: {e}")
        }
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Helm and kubectl end with the error; log lines before it are noise.
        let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let start = lines.iter().position(|l| l.starts_with("Error:") || l.contains("error:")).unwrap_or(0);
        let message: Vec<&str> = lines[start..].iter().copied().take(6).collect();
        return Err(format!("{program} failed ({}): {}", output.status, message.join(" ")));
    }
    String::from_utf8(output.stdout).map_err(|_| format!("{program} wrote output that is not UTF-8"))
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A path as findings show it: relative to the working directory when under it.
fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn location_in(path: &Path, position: Position) -> Location {
    Location { file: display(path), line: position.line, column: position.column }
}

/// The string value of a mapping's key.
fn string_field<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(|e| match &e.value.kind {
        NodeKind::String(s) => Some(s.as_str()),
        _ => None,
    })
}
