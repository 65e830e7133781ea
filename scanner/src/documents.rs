//! Kubernetes documents read from YAML and JSON sources, with the source position of every field.

use std::sync::Arc;

use gatehouse_engine::yaml::{self, Limits, Located, Node, NodeKind, Position, SharedStrings};

/// One file's text (or standard input's), by the name findings carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
}

/// A Kubernetes object found in a source: where it is, and its value. The positioned tree of
/// its document is not kept (it would double the memory of a scan): [`Locator`] parses a source
/// again when a finding in it needs a position.
#[derive(Debug, Clone)]
pub struct Object {
    pub source: Arc<str>,
    /// 0-based index of the YAML document in its source.
    pub document: usize,
    /// Where the object sits in its document: empty, or `/items/3` for a member of a `List`.
    pub prefix: String,
    /// Where the object starts.
    pub position: Position,
    /// The object as policies read it (no JSON copy is kept: it would double a scan's memory).
    pub value: regorus::Value,
}

/// Maps JSON pointers to source positions, holding the parsed documents of one source at a time
/// (objects are visited source by source).
#[derive(Debug)]
pub struct Locator {
    limits: Limits,
    current: Option<(Arc<str>, Vec<Option<Node>>)>,
}

impl Locator {
    pub fn new(limits: Limits) -> Self {
        Locator { limits, current: None }
    }

    /// The position of a field of the object (or of its nearest existing parent).
    pub fn locate(&mut self, object: &Object, text: &str, pointer: &str) -> Located {
        let stale = self.current.as_ref().is_none_or(|(name, _)| *name != object.source);
        if stale {
            let roots = yaml::parse_documents(text, &self.limits)
                .map(|docs| docs.into_iter().map(|d| d.root).collect())
                .unwrap_or_default();
            self.current = Some((object.source.clone(), roots));
        }
        let root = self.current.as_ref().and_then(|(_, roots)| roots.get(object.document)).and_then(Option::as_ref);
        match root {
            Some(root) => root.locate(&format!("{}{pointer}", object.prefix)),
            None => Located { position: object.position, exact: false },
        }
    }
}

/// A document that is not a Kubernetes object, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub source: Arc<str>,
    pub position: Position,
    pub reason: String,
}

/// A source that could not be read as YAML, with the position of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub source: Arc<str>,
    pub position: Position,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub skipped: Vec<Skipped>,
    pub empty_documents: usize,
    pub documents: usize,
}

/// Reads every document of a source. A source that fails to parse yields nothing but the error:
/// half of a file is not scanned as if it were the whole.
/// Short strings are shared through `strings` with every other source it loads.
pub fn load(source: &Source, limits: &Limits, strings: &mut SharedStrings) -> Result<Loaded, ParseError> {
    let documents = yaml::parse_documents(&source.text, limits).map_err(|e| ParseError {
        source: source.name.clone(),
        position: e.position,
        message: format!("{} (document {})", e.message, e.document + 1),
    })?;
    let mut loaded = Loaded { documents: documents.len(), ..Loaded::default() };
    for document in documents {
        let Some(root) = document.root else {
            loaded.empty_documents += 1;
            continue;
        };
        collect(source, document.index, &root, String::new(), &mut loaded, strings);
    }
    Ok(loaded)
}

fn collect(
    source: &Source,
    document: usize,
    node: &Node,
    prefix: String,
    loaded: &mut Loaded,
    strings: &mut SharedStrings,
) {
    let skip = |loaded: &mut Loaded, reason: &str| {
        loaded.skipped.push(Skipped { source: source.name.clone(), position: node.position, reason: reason.into() })
    };
    if !matches!(node.kind, NodeKind::Mapping(_)) {
        return skip(loaded, "not a mapping, so not a Kubernetes resource");
    }
    let field = |name: &str| {
        node.get(name).and_then(|e| match &e.value.kind {
            NodeKind::String(s) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        })
    };
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        return skip(loaded, "no apiVersion and kind, so not a Kubernetes resource");
    };
    // `kubectl apply` takes the items of a List (v1 List, or any *List kind with items).
    if kind.ends_with("List") && (api_version == "v1" || node.get("items").is_some()) {
        match node.get("items").map(|e| &e.value.kind) {
            Some(NodeKind::Sequence(items)) => {
                for (i, item) in items.iter().enumerate() {
                    collect(source, document, item, format!("{prefix}/items/{i}"), loaded, strings);
                }
            }
            Some(NodeKind::Null) | None => {}
            Some(_) => skip(loaded, "a List whose items is not a sequence"),
        }
        return;
    }
    loaded.objects.push(Object {
        source: source.name.clone(),
        document,
        prefix,
        position: node.position,
        value: node.to_rego_sharing(strings),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source { name: "test.yaml".into(), text: text.into() }
    }

    #[test]
    fn lists_are_expanded_and_positions_kept() {
        let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: b\n";
        let loaded = load(&source(text), &Limits::default(), &mut SharedStrings::default()).expect("parses");
        assert_eq!(loaded.objects.len(), 2);
        let secret = &loaded.objects[1];
        assert_eq!(secret.prefix, "/items/1");
        let mut locator = Locator::new(Limits::default());
        assert_eq!(locator.locate(secret, text, "/metadata/name").position, Position { line: 10, column: 7 });
        assert_eq!(
            locator.locate(secret, text, "/spec"),
            Located { position: Position { line: 7, column: 5 }, exact: false }
        );
    }

    #[test]
    fn non_kubernetes_and_empty_documents_are_counted_not_dropped() {
        let text =
            "---\n# nothing\n---\nfoo: bar\n---\n- 1\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n";
        let loaded = load(&source(text), &Limits::default(), &mut SharedStrings::default()).expect("parses");
        assert_eq!((loaded.documents, loaded.empty_documents, loaded.objects.len()), (4, 1, 1));
        let reasons: Vec<(usize, &str)> = loaded.skipped.iter().map(|s| (s.position.line, s.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (4, "no apiVersion and kind, so not a Kubernetes resource"),
                (6, "not a mapping, so not a Kubernetes resource")
            ]
        );
    }

    #[test]
    fn a_file_that_does_not_parse_is_an_error_with_its_position() {
        let err = load(&source("apiVersion: v1\nkind: [\n"), &Limits::default(), &mut SharedStrings::default())
            .expect_err("broken");
        assert_eq!(&*err.source, "test.yaml");
        assert!(err.position.line >= 2, "{err:?}");
    }
}
