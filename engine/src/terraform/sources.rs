//! Where a Terraform resource and its attributes are written, so that a finding on
//! `module.db.aws_db_instance.this[0]` at `/backup_retention_period` points at the .tf line.

use std::collections::HashMap;
use std::sync::Arc;

use crate::yaml::Position;

/// A block (a resource, or a nested block such as `versioning`) and what is written in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockSpan {
    pub file: Arc<str>,
    pub position: Position,
    /// Attribute name to the position of its key.
    pub attributes: HashMap<String, Position>,
    /// Nested block type to its blocks in order, as the plan's lists hold them.
    pub blocks: HashMap<String, Vec<BlockSpan>>,
}

/// Resource blocks by configuration address (module path and resource, no instance keys).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub resources: HashMap<String, BlockSpan>,
}

/// A place in a .tf file; `exact` is false when the pointed field is not written and the place is
/// that of the nearest written parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: Arc<str>,
    pub position: Position,
    pub exact: bool,
}

impl SourceMap {
    /// The place of a JSON pointer into the values of the resource at `configuration_address`.
    pub fn locate(&self, configuration_address: &str, pointer: &str) -> Option<Place> {
        let block = self.resources.get(configuration_address)?;
        let mut at = block;
        let mut segments = pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~"));
        let place =
            |block: &BlockSpan, position: Position, exact: bool| Place { file: block.file.clone(), position, exact };
        loop {
            let Some(name) = segments.next() else {
                return Some(place(at, at.position, true));
            };
            if let Some(position) = at.attributes.get(&name) {
                // Inside an attribute's value the key's line is as close as the map gets.
                let exact = segments.next().is_none();
                return Some(place(at, *position, exact));
            }
            let Some(blocks) = at.blocks.get(&name) else {
                return Some(place(at, at.position, false));
            };
            let index = match segments.next() {
                None => return Some(place(at, blocks.first().map_or(at.position, |b| b.position), true)),
                Some(i) => i.parse::<usize>().ok(),
            };
            match index.and_then(|i| blocks.get(i)) {
                Some(block) => at = block,
                None => return Some(place(at, blocks.first().map_or(at.position, |b| b.position), false)),
            }
        }
    }
}

/// Byte offsets to 1-based line and column (in characters).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub(crate) fn position(&self, offset: usize) -> Position {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.text.get(start..offset.min(self.text.len())).map_or(1, |s| s.chars().count() + 1);
        Position { line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_find_attributes_and_nested_blocks() {
        let pos = |line, column| Position { line, column };
        let file: Arc<str> = "main.tf".into();
        let nested = BlockSpan {
            file: file.clone(),
            position: pos(5, 3),
            attributes: HashMap::from([("enabled".to_string(), pos(6, 5))]),
            blocks: HashMap::new(),
        };
        let block = BlockSpan {
            file: file.clone(),
            position: pos(1, 1),
            attributes: HashMap::from([("tags".to_string(), pos(2, 3))]),
            blocks: HashMap::from([("versioning".to_string(), vec![nested])]),
        };
        let map = SourceMap { resources: HashMap::from([("aws_s3_bucket.b".to_string(), block)]) };
        let at = |p: &str| map.locate("aws_s3_bucket.b", p).map(|p| (p.position.line, p.position.column, p.exact));
        assert_eq!(at(""), Some((1, 1, true)));
        assert_eq!(at("/tags"), Some((2, 3, true)));
        assert_eq!(at("/tags/env"), Some((2, 3, false)));
        assert_eq!(at("/versioning/0/enabled"), Some((6, 5, true)));
        assert_eq!(at("/versioning/0/mfa_delete"), Some((5, 3, false)));
        assert_eq!(at("/versioning/3"), Some((5, 3, false)));
        assert_eq!(at("/acl"), Some((1, 1, false)));
        assert_eq!(map.locate("aws_s3_bucket.other", ""), None);
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let index = LineIndex::new("ab\ncdé\nf");
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(3), Position { line: 2, column: 1 });
        assert_eq!(index.position(7), Position { line: 2, column: 4 });
        assert_eq!(index.position(8), Position { line: 3, column: 1 });
    }
}
