//! Kustomizations: `kubectl kustomize` (or `kustomize build`), and findings placed in the patch
//! that set the field, else in the base file the object comes from.
//!
//! Kustomize records origins only on request (`buildMetadata` in a kustomization), so the
//! overlay is rendered twice: as it is, which is what policies judge, and through a throwaway
//! kustomization that includes it with `buildMetadata: [originAnnotations, transformerAnnotations]`,
//! whose annotations say which file each object comes from and which kustomizations patched it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gatehouse_engine::yaml::{self, Limits, Node, NodeKind};

use super::{FileCache, Mapping, Render, RenderError, Root, normalize};
use crate::documents::Source;
use crate::report::Location;

/// Where a rendered object comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    kind: String,
    name: String,
    /// The resource file, absolute; `None` for a generated object.
    file: Option<PathBuf>,
    /// The kustomization that generated the object, when one did.
    generated_by: Option<PathBuf>,
    /// Kustomizations whose patches changed the object, in the order applied.
    patched_in: Vec<PathBuf>,
}

fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    super::KUSTOMIZATION_FILES.iter().map(|f| dir.join(f)).find(|p| p.is_file())
}

/// Kustomization roots another scanned kustomization includes, and the first that does: a base
/// is judged as its overlays render it, not once more alone.
pub(super) fn called_bases(roots: &[Root], limits: &Limits) -> HashMap<PathBuf, PathBuf> {
    let canonical: HashMap<PathBuf, &PathBuf> = roots
        .iter()
        .filter(|r| r.renderer == super::Renderer::Kustomize)
        .filter_map(|r| r.dir.canonicalize().ok().map(|c| (c, &r.dir)))
        .collect();
    let mut called = HashMap::new();
    for root in roots.iter().filter(|r| r.renderer == super::Renderer::Kustomize) {
        let Some(doc) = kustomization_file(&root.dir)
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|t| yaml::parse_documents(&t, limits).ok())
            .and_then(|d| d.into_iter().next().and_then(|d| d.root))
        else {
            continue;
        };
        for key in ["resources", "bases", "components"] {
            for entry in strings(&doc, key) {
                let target = root.dir.join(entry);
                if let Some(dir) = target.canonicalize().ok().and_then(|c| canonical.get(&c)) {
                    called.entry((*dir).clone()).or_insert_with(|| root.dir.clone());
                }
            }
        }
    }
    called
}

fn strings<'a>(node: &'a Node, key: &str) -> Vec<&'a str> {
    match node.get(key).map(|e| &e.value.kind) {
        Some(NodeKind::Sequence(items)) => items
            .iter()
            .filter_map(|i| match &i.kind {
                NodeKind::String(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `kubectl kustomize DIR`, or `kustomize build DIR` when kubectl is missing.
fn build(dir: &Path, what: &str) -> Result<(String, String), String> {
    let mut kubectl = std::process::Command::new("kubectl");
    kubectl.arg("kustomize").arg(dir);
    match super::run(kubectl, "kubectl", what) {
        Err(e) if e.starts_with("kubectl is not on PATH") => {
            let mut kustomize = std::process::Command::new("kustomize");
            kustomize.arg("build").arg(dir);
            super::run(kustomize, "kustomize", what)
                .map(|text| (text, format!("kustomize build {}", dir.display())))
                .map_err(|e| {
                    if e.starts_with("kustomize is not on PATH") {
                        format!("neither kubectl nor kustomize is on PATH, so {what} cannot be rendered (policy-scan renders, never skips)")
                    } else {
                        e
                    }
                })
        }
        other => other.map(|text| (text, format!("kubectl kustomize {}", dir.display()))),
    }
}

pub(super) fn render(root: &Root, limits: &Limits) -> Result<Render, RenderError> {
    let what = format!("the kustomization {}", root.dir.display());
    let (built, with_origins) = std::thread::scope(|scope| {
        let with_origins = scope.spawn(|| origins(&root.dir, &what, limits));
        (build(&root.dir, &what), with_origins.join().ok().flatten())
    });
    let (text, command) = built.map_err(|message| RenderError { root: root.marker(), message, at: None })?;
    // Without origins, findings point at the rendered output: still judged, less precisely.
    let origins = with_origins.unwrap_or_default();
    let documents = yaml::parse_documents(&text, limits).map(|d| d.len()).unwrap_or(0);
    let origins = if origins.len() == documents { origins } else { vec![None; documents] };
    Ok(Render {
        source: Source { name: command.into(), text: text.into() },
        root: root.clone(),
        values: Vec::new(),
        alternative: false,
        mapping: Mapping::Kustomize(origins),
    })
}

/// Renders `dir` through a kustomization that asks for origin annotations, and reads them.
fn origins(dir: &Path, what: &str, limits: &Limits) -> Option<Vec<Option<Origin>>> {
    let target = dir.canonicalize().ok()?;
    let wrapper = tempfile::tempdir().ok()?;
    let wrapper_dir = wrapper.path().canonicalize().ok()?;
    let relative = relative_path(&wrapper_dir, &target);
    let kustomization = format!(
        "resources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        serde_json::to_string(&relative.display().to_string()).ok()?
    );
    std::fs::write(wrapper_dir.join("kustomization.yaml"), kustomization).ok()?;
    let (text, _) = build(&wrapper_dir, what).ok()?;
    let documents = yaml::parse_documents(&text, limits).ok()?;
    Some(documents.iter().map(|d| d.root.as_ref().and_then(|root| origin_of(root, &wrapper_dir, limits))).collect())
}

fn origin_of(object: &Node, base: &Path, limits: &Limits) -> Option<Origin> {
    let metadata = &object.get("metadata")?.value;
    let annotations = &metadata.get("annotations")?.value;
    let parse = |key: &str| {
        super::string_field(annotations, key)
            .and_then(|text| yaml::parse_documents(text, limits).ok())
            .and_then(|d| d.into_iter().next().and_then(|d| d.root))
    };
    let origin = parse("config.kubernetes.io/origin");
    let resolve = |p: &str| normalize(&base.join(p));
    let file = origin.as_ref().and_then(|o| super::string_field(o, "path")).map(resolve);
    let generated_by = origin.as_ref().and_then(|o| super::string_field(o, "configuredIn")).map(resolve);
    let mut patched_in = Vec::new();
    if let Some(NodeKind::Sequence(steps)) = parse("alpha.config.kubernetes.io/transformations").map(|n| n.kind) {
        for step in &steps {
            let by = step.get("configuredBy").map(|e| &e.value);
            let kind = by.and_then(|b| super::string_field(b, "kind")).unwrap_or("");
            if let (true, Some(file)) = (kind.starts_with("Patch"), super::string_field(step, "configuredIn")) {
                let file = resolve(file);
                if !patched_in.contains(&file) {
                    patched_in.push(file);
                }
            }
        }
    }
    Some(Origin {
        kind: super::string_field(object, "kind")?.to_string(),
        name: super::string_field(metadata, "name").unwrap_or("").to_string(),
        file,
        generated_by,
        patched_in,
    })
}

/// `to` relative to `from`, both absolute.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    out
}

/// A patch of a kustomization, where it is written.
struct Patch {
    /// The patch document(s), parsed.
    documents: Vec<Node>,
    /// The patch file, or the kustomization holding an inline patch.
    file: PathBuf,
    /// For an inline patch: the position of its entry in the kustomization.
    inline_at: Option<yaml::Position>,
}

fn patches_of(kustomization: &Path, files: &mut FileCache) -> Vec<Patch> {
    let Some(docs) = files.documents(kustomization) else {
        return Vec::new();
    };
    let Some(Some(root)) = docs.first() else {
        return Vec::new();
    };
    let dir = kustomization.parent().unwrap_or(Path::new("."));
    let mut patches = Vec::new();
    for key in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        let Some(NodeKind::Sequence(entries)) = root.get(key).map(|e| &e.value.kind) else {
            continue;
        };
        for entry in entries {
            let (path, inline) = match &entry.kind {
                NodeKind::String(s) if key == "patchesStrategicMerge" && !s.contains('\n') => (Some(s.as_str()), None),
                NodeKind::String(s) => (None, Some(s.as_str())),
                NodeKind::Mapping(_) => (super::string_field(entry, "path"), super::string_field(entry, "patch")),
                _ => (None, None),
            };
            if let Some(path) = path {
                let file = normalize(&dir.join(path));
                let documents =
                    files.documents(&file).map(|d| d.iter().flatten().cloned().collect()).unwrap_or_default();
                patches.push(Patch { documents, file, inline_at: None });
            } else if let Some(text) = inline {
                let documents = yaml::parse_documents(text, &Limits::default())
                    .map(|d| d.into_iter().filter_map(|d| d.root).collect())
                    .unwrap_or_default();
                patches.push(Patch { documents, file: kustomization.to_path_buf(), inline_at: Some(entry.position) });
            }
        }
    }
    patches
}

/// A pointer of the rendered object, in a strategic-merge patch: list items are matched by
/// their `name`, as the merge matches containers, volumes and ports.
fn in_merge_patch(patch: &Node, object: &regorus::Value, pointer: &str) -> Option<yaml::Position> {
    let mut node = patch;
    let mut value = object;
    let mut at = None;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        match &node.kind {
            NodeKind::Mapping(entries) => {
                let entry = entries.iter().find(|e| e.key == token)?;
                at = Some(entry.key_position);
                node = &entry.value;
                value = &value[token.as_str()];
            }
            NodeKind::Sequence(items) => {
                let index: usize = token.parse().ok()?;
                let item = value.as_array().ok()?.get(index)?;
                let name = item["name"].as_string().ok()?;
                node = items.iter().find(|i| super::string_field(i, "name") == Some(name.as_ref()))?;
                at = Some(node.position);
                value = item;
            }
            _ => return None,
        }
    }
    // A mapping is merged into the base's: the patch sets its leaves, not the field itself.
    (!matches!(node.kind, NodeKind::Mapping(_))).then_some(at).flatten()
}

/// A JSON 6902 patch operation that writes the pointer or a field above it.
fn in_json_patch(patch: &Node, pointer: &str) -> Option<yaml::Position> {
    let NodeKind::Sequence(operations) = &patch.kind else {
        return None;
    };
    operations.iter().rev().find_map(|op| {
        let path = super::string_field(op, "path")?;
        let writes = matches!(super::string_field(op, "op"), Some("add" | "replace" | "copy" | "move"));
        (writes && (pointer == path || pointer.starts_with(&format!("{path}/")))).then_some(op.position)
    })
}

pub(super) fn place(
    origin: &Origin,
    object: Option<&regorus::Value>,
    pointer: &str,
    files: &mut FileCache,
) -> Option<(Location, bool)> {
    if let Some(object) = object.filter(|_| !pointer.is_empty()) {
        for kustomization in origin.patched_in.iter().rev() {
            for patch in patches_of(kustomization, files).iter().rev() {
                for document in &patch.documents {
                    let found = match &document.kind {
                        NodeKind::Sequence(_) => in_json_patch(document, pointer),
                        _ if super::string_field(document, "kind").is_some_and(|k| k != origin.kind) => None,
                        _ => in_merge_patch(document, object, pointer),
                    };
                    if let Some(position) = found {
                        return Some((super::location_in(&patch.file, patch.inline_at.unwrap_or(position)), true));
                    }
                }
            }
        }
    }
    if let Some(file) = &origin.file {
        let docs = files.documents(file)?;
        // The base document of the same kind whose name the rendered name contains (a prefix
        // or suffix may have been added).
        let document =
            docs.iter().flatten().filter(|d| super::string_field(d, "kind") == Some(origin.kind.as_str())).max_by_key(
                |d| {
                    let name = d.get("metadata").and_then(|m| super::string_field(&m.value, "name")).unwrap_or("");
                    (name == origin.name, !name.is_empty() && origin.name.contains(name))
                },
            )?;
        let located = document.locate(pointer);
        return Some((super::location_in(file, located.position), located.exact));
    }
    let generator = origin.generated_by.as_ref()?;
    let docs = files.documents(generator)?;
    let root = docs.first()?.as_ref()?;
    let entry = ["configMapGenerator", "secretGenerator"].iter().find_map(|k| root.get(k))?;
    Some((super::location_in(generator, entry.key_position), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_parent() {
        assert_eq!(relative_path(Path::new("/tmp/x"), Path::new("/work/a/b")), PathBuf::from("../../work/a/b"));
        assert_eq!(relative_path(Path::new("/work/a"), Path::new("/work/a/b")), PathBuf::from("b"));
    }

    fn node(text: &str) -> Node {
        yaml::parse_documents(text, &Limits::default()).expect("parses").remove(0).root.expect("a document")
    }

    #[test]
    fn merge_patch_items_are_matched_by_name() {
        let patch = node(
            "spec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        image: b\n      - name: api\n        securityContext:\n          privileged: true\n",
        );
        let object = regorus::Value::from_json_str(
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"api","securityContext":{"privileged":true}},{"name":"sidecar"}]}}}}"#,
        )
        .expect("JSON");
        let at = in_merge_patch(&patch, &object, "/spec/template/spec/containers/0/securityContext/privileged");
        assert_eq!(at.map(|p| p.line), Some(9));
        assert_eq!(in_merge_patch(&patch, &object, "/spec/template/spec/containers/0/readinessProbe"), None);
        // A mapping is merged into the base's, so the patch does not own it.
        assert_eq!(in_merge_patch(&patch, &object, "/spec/template/spec/containers/0/securityContext"), None);
    }

    #[test]
    fn json_patches_cover_the_fields_below_what_they_write() {
        let patch = node(
            "- op: replace\n  path: /spec/replicas\n  value: 1\n- op: add\n  path: /spec/template/spec/hostNetwork\n  value: true\n",
        );
        assert_eq!(in_json_patch(&patch, "/spec/template/spec/hostNetwork").map(|p| p.line), Some(4));
        assert_eq!(in_json_patch(&patch, "/spec/template/spec/containers"), None);
    }
}
