//! YAML (and JSON, its subset) documents with the source position of every node.
//!
//! Scalars resolve the way Kubernetes' own YAML reader (go-yaml v2 behind sigs.k8s.io/yaml)
//! resolves them, so a manifest means here what it means to `kubectl apply`: `yes`/`on` are
//! booleans, `0x1F` is an integer, timestamps stay strings. Alias expansion, nesting depth and
//! input size are bounded, so a hostile file fails fast with a clear error instead of exhausting
//! memory.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

fn position(span: &Span) -> Position {
    Position { line: span.start.line(), column: span.start.col() + 1 }
}

/// Bounds that keep a hostile input from exhausting memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: usize,
    /// Most nodes one document may expand to, aliases included.
    pub max_nodes_per_document: usize,
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most documents in one input.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * 1024 * 1024,
            max_nodes_per_document: 1_000_000,
            max_depth: 128,
            max_documents: 100_000,
        }
    }
}

/// Why an input could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub position: Position,
    /// Index of the document (0-based) in a multi-document input.
    pub document: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (document {})", self.position, self.message, self.document + 1)
    }
}

impl std::error::Error for YamlError {}

/// A parsed node with its position. Mapping entries keep the position of their key, which is
/// where a diagnostic about that field should point.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub position: Position,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Sequence(Vec<Node>),
    Mapping(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_position: Position,
    pub value: Node,
}

/// One value per distinct short string, shared by the documents converted with it: a repository
/// repeats its keys and most of its values (`metadata`, `apps/v1`, label values) in every
/// document, and a shared string is a reference count rather than an allocation.
#[derive(Debug, Default)]
pub struct SharedStrings {
    values: HashMap<String, regorus::Value>,
}

impl SharedStrings {
    /// Longer strings (scripts, certificates, JSON blobs) rarely repeat.
    const LONGEST: usize = 64;

    pub fn get(&mut self, s: &str) -> regorus::Value {
        if s.len() > Self::LONGEST {
            return regorus::Value::from(s);
        }
        if let Some(value) = self.values.get(s) {
            return value.clone();
        }
        let value = regorus::Value::from(s);
        self.values.insert(s.to_string(), value.clone());
        value
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Index of the document (0-based) in its stream.
    pub index: usize,
    /// Position of the document's first node (or of its start marker when empty).
    pub position: Position,
    /// `None` for an empty document (`---` followed by nothing, or only comments).
    pub root: Option<Node>,
}

impl Node {
    /// Converts to JSON. Mapping order is kept.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number(n) => Value::Number(n.clone()),
            NodeKind::String(s) => Value::String(s.clone()),
            NodeKind::Sequence(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Mapping(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for entry in entries {
                    map.insert(entry.key.clone(), entry.value.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// Converts straight to the value policies read, without an intermediate JSON copy.
    pub fn to_rego(&self) -> regorus::Value {
        self.to_rego_sharing(&mut SharedStrings::default())
    }

    /// As [`Node::to_rego`], with one copy of each short string for every node converted with
    /// the same `strings`.
    pub fn to_rego_sharing(&self, strings: &mut SharedStrings) -> regorus::Value {
        match &self.kind {
            NodeKind::Null => regorus::Value::Null,
            NodeKind::Bool(b) => regorus::Value::from(*b),
            NodeKind::Number(n) => crate::review::number_to_rego(n),
            NodeKind::String(s) => strings.get(s),
            NodeKind::Sequence(items) => {
                regorus::Value::from(items.iter().map(|item| item.to_rego_sharing(strings)).collect::<Vec<_>>())
            }
            NodeKind::Mapping(entries) => regorus::Value::from(
                entries
                    .iter()
                    .map(|e| (strings.get(&e.key), e.value.to_rego_sharing(strings)))
                    .collect::<std::collections::BTreeMap<_, _>>(),
            ),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Finds the position of the field a JSON pointer (RFC 6901) names. When the field does not
    /// exist, the position of its nearest existing parent is returned, with `exact` false: a
    /// missing probe points at its container.
    pub fn locate(&self, pointer: &str) -> Located {
        let mut node = self;
        let mut at = self.position;
        if pointer.is_empty() {
            return Located { position: at, exact: true };
        }
        let Some(rest) = pointer.strip_prefix('/') else {
            return Located { position: at, exact: false };
        };
        for raw in rest.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                NodeKind::Mapping(entries) => {
                    entries.iter().find(|e| e.key == token).map(|e| (e.key_position, &e.value))
                }
                NodeKind::Sequence(items) => {
                    token.parse::<usize>().ok().and_then(|i| items.get(i)).map(|n| (n.position, n))
                }
                _ => None,
            };
            match next {
                Some((position, child)) => {
                    at = position;
                    node = child;
                }
                None => {
                    return Located { position: at, exact: false };
                }
            }
        }
        Located { position: at, exact: true }
    }

    /// Like [`Node::locate`], for a path given as segments (as serde reports them).
    pub fn locate_segments<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Located {
        let pointer: String =
            segments.into_iter().map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1"))).collect();
        self.locate(&pointer)
    }
}

/// Where a JSON pointer landed in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub position: Position,
    /// False when the field is missing and `position` is that of its nearest parent.
    pub exact: bool,
}

/// Parses every document of a YAML (or JSON) stream. A leading UTF-8 BOM is ignored.
pub fn parse_documents(source: &str, limits: &Limits) -> Result<Vec<Document>, YamlError> {
    if source.len() > limits.max_input_bytes {
        return Err(YamlError {
            position: Position { line: 1, column: 1 },
            document: 0,
            message: format!(
                "input is {} bytes, more than the limit of {} bytes",
                source.len(),
                limits.max_input_bytes
            ),
        });
    }
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut builder = Builder {
        parser: Parser::new_from_str(source),
        limits,
        anchors: HashMap::new(),
        nodes: 0,
        document: 0,
        last: Position { line: 1, column: 1 },
    };
    builder.stream()
}

/// Parses a stream that must hold exactly one non-empty document (a metadata or config file).
pub fn parse_single(source: &str, limits: &Limits) -> Result<Node, YamlError> {
    let documents = parse_documents(source, limits)?;
    let mut roots = documents.into_iter().filter_map(|d| d.root.map(|r| (d.index, r)));
    match (roots.next(), roots.next()) {
        (Some((_, root)), None) => Ok(root),
        (None, _) => Err(YamlError {
            position: Position { line: 1, column: 1 },
            document: 0,
            message: "the file is empty".into(),
        }),
        (Some(_), Some((index, second))) => Err(YamlError {
            position: second.position,
            document: index,
            message: "expected one YAML document, found several".into(),
        }),
    }
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    limits: &'a Limits,
    /// Anchored nodes of the current document with their expanded size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    document: usize,
    last: Position,
}

impl Builder<'_> {
    fn next(&mut self) -> Result<(OwnedEvent, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.last = position(&span);
                Ok((event_owned(event), span))
            }
            Some(Err(e)) => Err(self.scan_error(&e)),
            None => Err(self.error(self.last, "unexpected end of input")),
        }
    }

    fn scan_error(&self, e: &ScanError) -> YamlError {
        let mark = e.marker();
        YamlError {
            position: Position { line: mark.line(), column: mark.col() + 1 },
            document: self.document,
            message: e.info().to_string(),
        }
    }

    fn error(&self, position: Position, message: impl Into<String>) -> YamlError {
        YamlError { position, document: self.document, message: message.into() }
    }

    fn stream(&mut self) -> Result<Vec<Document>, YamlError> {
        let mut documents = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                OwnedEvent::StreamStart => {}
                OwnedEvent::StreamEnd => return Ok(documents),
                OwnedEvent::DocumentStart => {
                    if documents.len() >= self.limits.max_documents {
                        return Err(
                            self.error(position(&span), format!("more than {} documents", self.limits.max_documents))
                        );
                    }
                    self.anchors.clear();
                    self.nodes = 0;
                    let start = position(&span);
                    let root = self.document_body()?;
                    let position = root.as_ref().map_or(start, |r| r.position);
                    documents.push(Document { index: self.document, position, root });
                    self.document += 1;
                }
                other => {
                    return Err(self.error(position(&span), format!("unexpected {other:?}")));
                }
            }
        }
    }

    fn document_body(&mut self) -> Result<Option<Node>, YamlError> {
        let (event, span) = self.next()?;
        let root = match event {
            OwnedEvent::DocumentEnd => return Ok(None),
            // An empty document reads as a null scalar.
            OwnedEvent::Scalar(ref value, ScalarStyle::Plain, _, None) if value.is_empty() || value == "~" => None,
            other => Some(self.node(other, span, 0)?),
        };
        let (event, span) = self.next()?;
        match event {
            OwnedEvent::DocumentEnd => Ok(root),
            other => Err(self.error(position(&span), format!("unexpected {other:?} after document"))),
        }
    }

    fn count(&mut self, n: usize, at: Position) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.limits.max_nodes_per_document {
            return Err(self.error(
                at,
                format!(
                    "document expands to more than {} nodes (alias expansion or size limit); \
                     refusing it",
                    self.limits.max_nodes_per_document
                ),
            ));
        }
        Ok(())
    }

    fn node(&mut self, event: OwnedEvent, span: Span, depth: usize) -> Result<Node, YamlError> {
        let at = position(&span);
        if depth > self.limits.max_depth {
            return Err(self.error(at, format!("nesting deeper than {} levels", self.limits.max_depth)));
        }
        let start_count = self.nodes;
        self.count(1, at)?;
        let (node, anchor) = match event {
            OwnedEvent::Alias(id) => {
                let Some(size) = self.anchors.get(&id).map(|(_, size)| *size) else {
                    return Err(self.error(at, "alias to an unknown anchor"));
                };
                // Count before cloning, so a bomb is refused before it is built.
                self.count(size.saturating_sub(1), at)?;
                let kind = self.anchors[&id].0.kind.clone();
                (Node { position: at, kind }, 0)
            }
            OwnedEvent::Scalar(value, style, anchor, tag) => {
                let kind = resolve_scalar(value, style, tag.as_ref()).map_err(|message| self.error(at, message))?;
                (Node { position: at, kind }, anchor)
            }
            OwnedEvent::SequenceStart(anchor) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, OwnedEvent::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span, depth + 1)?);
                }
                (Node { position: at, kind: NodeKind::Sequence(items) }, anchor)
            }
            OwnedEvent::MappingStart(anchor) => (self.mapping(at, depth)?, anchor),
            other => return Err(self.error(at, format!("unexpected {other:?}"))),
        };
        if anchor != 0 {
            let size = self.nodes - start_count;
            self.anchors.insert(anchor, (node.clone(), size));
        }
        Ok(node)
    }

    fn mapping(&mut self, at: Position, depth: usize) -> Result<Node, YamlError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merged: Vec<Entry> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, OwnedEvent::MappingEnd) {
                break;
            }
            let key_position = position(&span);
            let key_node = self.node(event, span, depth + 1)?;
            let (event, span) = self.next()?;
            let value = self.node(event, span, depth + 1)?;
            let key = match key_node.kind {
                NodeKind::String(s) => s,
                NodeKind::Null => "null".to_string(),
                NodeKind::Bool(b) => b.to_string(),
                NodeKind::Number(n) => n.to_string(),
                NodeKind::Sequence(_) | NodeKind::Mapping(_) => {
                    return Err(self.error(key_position, "a mapping key must be a scalar"));
                }
            };
            if key == "<<" {
                self.collect_merge(value, key_position, &mut merged)?;
                continue;
            }
            if entries.iter().any(|e| e.key == key) {
                return Err(self.error(key_position, format!("mapping key {key:?} already defined")));
            }
            entries.push(Entry { key, key_position, value });
        }
        // Merged keys never override the mapping's own keys, wherever `<<` stands.
        for entry in merged {
            if !entries.iter().any(|e| e.key == entry.key) {
                entries.push(entry);
            }
        }
        Ok(Node { position: at, kind: NodeKind::Mapping(entries) })
    }

    fn collect_merge(&self, value: Node, at: Position, merged: &mut Vec<Entry>) -> Result<(), YamlError> {
        let sources = match value.kind {
            NodeKind::Mapping(entries) => vec![entries],
            NodeKind::Sequence(items) => {
                let mut sources = Vec::with_capacity(items.len());
                for item in items {
                    match item.kind {
                        NodeKind::Mapping(entries) => sources.push(entries),
                        _ => {
                            return Err(self.error(item.position, "a merge key (<<) takes mappings only"));
                        }
                    }
                }
                sources
            }
            _ => {
                return Err(self.error(at, "a merge key (<<) takes a mapping or a sequence of mappings"));
            }
        };
        // Earlier sources win over later ones, as in YAML's merge key spec.
        for entries in sources {
            for entry in entries {
                if !merged.iter().any(|e| e.key == entry.key) {
                    merged.push(entry);
                }
            }
        }
        Ok(())
    }
}

/// Events detached from the input's lifetime, so the builder can keep borrowing its parser.
#[derive(Debug)]
enum OwnedEvent {
    Alias(usize),
    Scalar(String, ScalarStyle, usize, Option<Tag>),
    SequenceStart(usize),
    SequenceEnd,
    MappingStart(usize),
    MappingEnd,
    DocumentEnd,
    StreamStart,
    StreamEnd,
    DocumentStart,
}

fn event_owned(event: Event<'_>) -> OwnedEvent {
    match event {
        Event::Alias(id) => OwnedEvent::Alias(id),
        Event::Scalar(value, style, anchor, tag) => {
            OwnedEvent::Scalar(value.into_owned(), style, anchor, tag.map(|t| t.into_owned()))
        }
        Event::SequenceStart(anchor, _) => OwnedEvent::SequenceStart(anchor),
        Event::SequenceEnd => OwnedEvent::SequenceEnd,
        Event::MappingStart(anchor, _) => OwnedEvent::MappingStart(anchor),
        Event::MappingEnd => OwnedEvent::MappingEnd,
        Event::DocumentEnd => OwnedEvent::DocumentEnd,
        Event::StreamStart | Event::Nothing => OwnedEvent::StreamStart,
        Event::StreamEnd => OwnedEvent::StreamEnd,
        Event::DocumentStart(_) => OwnedEvent::DocumentStart,
    }
}

fn resolve_scalar(value: String, style: ScalarStyle, tag: Option<&Tag>) -> Result<NodeKind, String> {
    if let Some(tag) = tag
        && (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
    {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Ok(NodeKind::String(value)),
            "null" => Ok(NodeKind::Null),
            "bool" => resolve_bool(&value).map(NodeKind::Bool).ok_or_else(|| format!("{value:?} is not a boolean")),
            "int" => resolve_int(&value).map(NodeKind::Number).ok_or_else(|| format!("{value:?} is not an integer")),
            "float" => resolve_number(&value)
                .map(NodeKind::Number)
                .ok_or_else(|| format!("{value:?} is not a number JSON can hold")),
            other => Err(format!("unsupported tag !!{other}")),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(NodeKind::String(value));
    }
    resolve_plain(value)
}

fn resolve_plain(value: String) -> Result<NodeKind, String> {
    match value.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(NodeKind::Null),
        _ => {}
    }
    if let Some(b) = resolve_bool(&value) {
        return Ok(NodeKind::Bool(b));
    }
    let first = value.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if matches!(
            value.as_str(),
            ".inf"
                | ".Inf"
                | ".INF"
                | "+.inf"
                | "+.Inf"
                | "+.INF"
                | "-.inf"
                | "-.Inf"
                | "-.INF"
                | ".nan"
                | ".NaN"
                | ".NAN"
        ) {
            return Err(format!("{value} cannot be represented in JSON"));
        }
        if let Some(n) = resolve_number(&value) {
            return Ok(NodeKind::Number(n));
        }
    }
    Ok(NodeKind::String(value))
}

fn resolve_bool(value: &str) -> Option<bool> {
    match value {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn resolve_int(value: &str) -> Option<Number> {
    let plain = value.replace('_', "");
    let (negative, digits) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = digits.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = digits.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = digits.strip_prefix("0b") {
        (2, d)
    } else if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative { i64::try_from(-i128::from(magnitude)).ok().map(Number::from) } else { Some(Number::from(magnitude)) }
}

fn resolve_number(value: &str) -> Option<Number> {
    if let Some(n) = resolve_int(value) {
        return Some(n);
    }
    let plain = value.replace('_', "");
    let bytes = plain.as_bytes();
    // YAML floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let mut i = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let f = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        i += 1;
        if i < bytes.len() && matches!(bytes[i], b'-' | b'+') {
            i += 1;
        }
        let e = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    plain.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(source: &str) -> Value {
        parse_single(source, &Limits::default()).expect("parses").to_json()
    }

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let v = one(
            "a: yes\nb: off\nc: 0x1F\nd: 010\ne: 1_000\nf: 1.5e3\ng: ~\nh: '42'\ni: 2024-01-01\nj: -7\nk: .5\nl: 12abc\n",
        );
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": 31, "d": 8, "e": 1000, "f": 1500.0, "g": null,
                   "h": "42", "i": "2024-01-01", "j": -7, "k": 0.5, "l": "12abc"})
        );
    }

    #[test]
    fn multi_document_streams_keep_empty_documents_and_positions() {
        let docs =
            parse_documents("---\na: 1\n---\n# only a comment\n---\nb:\n  - x\n", &Limits::default()).expect("parses");
        assert_eq!(docs.len(), 3);
        assert!(docs[1].root.is_none());
        let b = docs[2].root.as_ref().expect("third document");
        assert_eq!(b.locate("/b/0"), Located { position: Position { line: 7, column: 5 }, exact: true });
    }

    #[test]
    fn missing_fields_locate_their_nearest_parent() {
        let root = parse_single("spec:\n  containers:\n    - name: app\n      image: x\n", &Limits::default())
            .expect("parses");
        let exact = root.locate("/spec/containers/0/image");
        assert_eq!(exact, Located { position: Position { line: 4, column: 7 }, exact: true });
        let missing = root.locate("/spec/containers/0/readinessProbe");
        assert_eq!(missing, Located { position: Position { line: 3, column: 7 }, exact: false });
    }

    #[test]
    fn merge_keys_and_anchors_expand_without_overriding_explicit_keys() {
        let v = one("base: &b {a: 1, b: 2}\nd:\n  <<: *b\n  b: 3\n");
        assert_eq!(v, json!({"base": {"a": 1, "b": 2}, "d": {"b": 3, "a": 1}}));
        // As in go-yaml v2 (and so kubectl), a bare `y` key is the boolean true.
        assert_eq!(one("y: 1\n"), json!({"true": 1}));
    }

    #[test]
    fn an_alias_bomb_is_refused_with_a_clear_error() {
        let mut source = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            source.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let started = std::time::Instant::now();
        let err = parse_documents(&source, &Limits::default()).expect_err("refused");
        assert!(err.message.contains("more than 1000000 nodes"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn syntax_errors_and_duplicate_keys_carry_positions() {
        let err = parse_documents("a: 1\nb: [1, 2\n", &Limits::default()).expect_err("fails");
        assert!(err.position.line >= 2, "{err}");
        let err = parse_documents("---\nx: 1\n---\na: 1\na: 2\n", &Limits::default()).expect_err("fails");
        assert_eq!((err.position, err.document), (Position { line: 5, column: 1 }, 1));
        assert!(err.message.contains("already defined"));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let source = "[".repeat(200) + &"]".repeat(200);
        let err = parse_documents(&source, &Limits::default()).expect_err("too deep");
        assert!(err.message.contains("nesting deeper than 128"), "{err}");
        let source = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse_documents(&source, &Limits::default()).is_err());
    }

    #[test]
    fn too_many_documents_and_too_large_an_input_are_refused_at_their_place() {
        let limits = Limits { max_documents: 3, ..Limits::default() };
        let err = parse_documents("a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n", &limits).expect_err("four documents");
        assert!(err.message.contains("more than 3 documents"), "{err}");
        assert_eq!(err.position.line, 6, "at the start of the first document past the limit: {err}");
        assert!(parse_documents("a: 1\n---\nb: 2\n---\nc: 3\n", &limits).is_ok(), "three are fine");
        let limits = Limits { max_input_bytes: 16, ..Limits::default() };
        let err = parse_documents("name: a-longer-value\n", &limits).expect_err("too large");
        assert!(err.message.contains("more than the limit of 16"), "{err}");
    }

    #[test]
    fn json_reads_as_yaml_with_positions_and_bom() {
        let root = parse_single("\u{feff}{\n  \"a\": {\"b\": [1, true, null, \"s\"]}\n}\n", &Limits::default())
            .expect("parses");
        assert_eq!(root.to_json(), json!({"a": {"b": [1, true, null, "s"]}}));
        assert_eq!(root.locate("/a/b").position, Position { line: 2, column: 9 });
    }

    #[test]
    fn the_rego_conversion_equals_the_json_one() {
        let root = parse_single("a: [1, -2, 2.5, yes, ~, s]\nb: {c: {}}\n", &Limits::default()).expect("parses");
        assert_eq!(root.to_rego(), crate::review::to_rego(&root.to_json()));
    }

    #[test]
    fn documents_converted_together_share_their_short_strings_only() {
        let long = "x".repeat(SharedStrings::LONGEST + 1);
        let text = format!("kind: Deployment\nname: {long}\n---\nkind: Deployment\nname: {long}\n");
        let documents = parse_documents(&text, &Limits::default()).expect("parses");
        let mut strings = SharedStrings::default();
        let values: Vec<regorus::Value> =
            documents.iter().map(|d| d.root.as_ref().expect("a document").to_rego_sharing(&mut strings)).collect();
        assert_eq!(values[0], values[1]);
        assert_eq!(values[0], documents[0].root.as_ref().expect("a document").to_rego());
        let field = |v: &regorus::Value, key: &str| v[key].as_string().expect("a string").clone();
        assert!(std::ptr::eq(field(&values[0], "kind").as_ptr(), field(&values[1], "kind").as_ptr()));
        assert!(!std::ptr::eq(field(&values[0], "name").as_ptr(), field(&values[1], "name").as_ptr()));
        // Keys are shared too: both documents' "kind" key is one allocation.
        let key = |v: &regorus::Value| {
            v.as_object()
                .expect("a mapping")
                .keys()
                .find(|k| k.as_string().is_ok_and(|s| s.as_ref() == "kind"))
                .cloned()
        };
        let (a, b) = (key(&values[0]).expect("kind"), key(&values[1]).expect("kind"));
        assert!(std::ptr::eq(a.as_string().expect("s").as_ptr(), b.as_string().expect("s").as_ptr()));
    }

    #[test]
    fn crlf_line_endings_count_lines_correctly() {
        let root = parse_single("a: 1\r\nb:\r\n  c: 2\r\n", &Limits::default()).expect("parses");
        assert_eq!(root.locate("/b/c").position, Position { line: 3, column: 3 });
        assert_eq!(root.to_json(), json!({"a": 1, "b": {"c": 2}}));
    }
}
