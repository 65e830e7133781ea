//! What the engine reads from Rego source text before handing it to regorus: which parameters a
//! policy reads, and whether its literals nest deeper than regorus parses in reasonable time.
//!
//! ## Which parameters a policy reads
//!
//! Each policy must see only its own `input.parameters`. The general way is
//! `with input.parameters as {...}`, which costs about 12% of an evaluation because regorus
//! then recomputes the library rules that depend on `input`. A policy whose every use of `input`
//! is `input.review...` or `input.parameters.<name>` (or `["<name>"]`) provably reads nothing
//! but those names, so it can share one `input.parameters` with other policies, as long as no
//! two of them disagree on a name's value. Any other use of `input` (passing
//! `input.parameters` whole to a function, binding `input` to a variable) makes the answer
//! unknown, and the policy keeps its `with`.

use std::collections::BTreeSet;

/// The parameter names the source reads, or `None` when its uses of `input` cannot be
/// followed.
pub fn parameter_reads(source: &str) -> Option<BTreeSet<String>> {
    let code = blank_comments_and_strings(source);
    let bytes = code.as_bytes();
    let mut names = BTreeSet::new();
    let mut at = 0;
    while let Some(found) = code[at..].find("input") {
        let start = at + found;
        let end = start + "input".len();
        at = end;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(end).copied();
        if before.is_some_and(|b| is_ident(b) || b == b'.') || after.is_some_and(is_ident) {
            continue;
        }
        let rest = &code[end..];
        if let Some(tail) = rest.strip_prefix(".review") {
            if tail.bytes().next().is_some_and(is_ident) {
                return None;
            }
            continue;
        }
        let tail = rest.strip_prefix(".parameters")?;
        if let Some(field) = tail.strip_prefix('.') {
            let name: String = field.bytes().take_while(|b| is_ident(*b)).map(char::from).collect();
            if name.is_empty() {
                return None;
            }
            names.insert(name);
        } else if tail.starts_with('[') {
            // The literal was blanked; read it from the original text.
            let original = &source[end + ".parameters[".len()..];
            let literal = original.strip_prefix('"')?;
            let close = literal.find('"')?;
            if !original[close + 2..].starts_with(']') {
                return None;
            }
            names.insert(literal[..close].to_string());
        } else {
            return None;
        }
    }
    Some(names)
}

/// Deepest nesting of `[` and `{` accepted in a Rego file. regorus' parse time doubles with
/// each level of a nested literal (measured: 16 levels 1.5-3 s, 20 levels over a minute), so a
/// deeper file would stall a bundle load: it is refused with its position instead.
pub const MAX_LITERAL_DEPTH: usize = 16;

/// The 1-based line and column where a literal first nests deeper than `limit`.
pub fn too_deep(source: &str, limit: usize) -> Option<(usize, usize)> {
    let code = blank_comments_and_strings(source);
    let mut depth: usize = 0;
    for (line_index, line) in code.lines().enumerate() {
        for (column, c) in line.chars().enumerate() {
            match c {
                '[' | '{' => {
                    depth += 1;
                    if depth > limit {
                        return Some((line_index + 1, column + 1));
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Replaces comments and the contents of string literals with spaces, keeping every offset.
fn blank_comments_and_strings(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                out.push(' ');
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    chars.next();
                    out.extend(std::iter::repeat_n(' ', n.len_utf8()));
                }
            }
            '"' => {
                out.push('"');
                while let Some(n) = chars.next() {
                    if n == '\\' {
                        out.push(' ');
                        if let Some(escaped) = chars.next() {
                            out.extend(std::iter::repeat_n(' ', escaped.len_utf8()));
                        }
                    } else if n == '"' {
                        out.push('"');
                        break;
                    } else {
                        out.extend(std::iter::repeat_n(' ', n.len_utf8()));
                    }
                }
            }
            '`' => {
                out.push('`');
                for n in chars.by_ref() {
                    if n == '`' {
                        out.push('`');
                        break;
                    }
                    out.extend(std::iter::repeat_n(if n == '\n' { '\n' } else { ' ' }, n.len_utf8()));
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(source: &str) -> Option<Vec<String>> {
        parameter_reads(source).map(|s| s.into_iter().collect())
    }

    #[test]
    fn dotted_and_bracketed_reads_are_followed() {
        let source = "package p\n# input is fine in a comment: input.parameters\nv if {\n\tinput.review.object.spec.replicas < input.parameters.minReplicas\n\tinput.parameters[\"max\"] > 1\n\tmsg := \"input\"\n}\n";
        assert_eq!(reads(source), Some(vec!["max".to_string(), "minReplicas".to_string()]));
        assert_eq!(reads("package p\nx := my_input.y\n"), Some(vec![]));
    }

    #[test]
    fn literal_depth_is_measured_outside_strings_and_comments() {
        let deep = format!("package p\n\nx := {}1{}\n", "[".repeat(17), "]".repeat(17));
        assert_eq!(too_deep(&deep, MAX_LITERAL_DEPTH), Some((3, 22)));
        let fine = format!("package p\n# {}\nx := \"{}\"\ny := [[1]]\n", "[".repeat(40), "{".repeat(40));
        assert_eq!(too_deep(&fine, MAX_LITERAL_DEPTH), None);
    }

    #[test]
    fn uses_that_cannot_be_followed_are_unknown() {
        assert_eq!(reads("package p\nm := get_message(input.parameters, \"d\")\n"), None);
        assert_eq!(reads("package p\nx := input\n"), None);
        assert_eq!(reads("package p\nx := input.parameters[k]\n"), None);
        assert_eq!(reads("package p\nx := input.other\n"), None);
        assert_eq!(reads("package p\nx := input.reviewer\n"), None);
    }
}
