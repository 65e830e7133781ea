//! Escaping for the outputs: every text of a report (messages, names, paths, reasons) comes from
//! scanned files and goes through here.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Text or an attribute value (quoted with `"` or `'`) in HTML and SVG. Control characters,
/// which XML forbids and HTML shows as garbage, are dropped.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || is_control(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t')
}

/// Text in a cell of a GitHub Markdown table: on one line, with `|` escaped (it would end the
/// cell), and Markdown and HTML syntax shown as text rather than formatting.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(' ');
            }
            '\n' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// An inline code span in a Markdown table cell: literal text, fenced with more backticks than
/// it holds; `|` still needs its escape there (GitHub splits cells before reading code spans).
pub fn markdown_code(s: &str) -> String {
    let text: String = s
        .chars()
        .filter_map(|c| match c {
            '\r' | '\n' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    let text = text.replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    let mut out = String::with_capacity(text.len() + 2 * fence.len() + 2);
    let _ = write!(out, "{fence}{pad}{text}{pad}{fence}");
    out
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((end, _)) => {
            let cut = s[..end].char_indices().nth(max.saturating_sub(1)).map_or(end, |(i, _)| i);
            Cow::Owned(format!("{}…", &s[..cut]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_both_quotes() {
        assert_eq!(
            html(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert!(matches!(html("plain text: 1/2"), Cow::Borrowed(_)));
        assert_eq!(html("a\u{0}b\u{1b}[31mc\nd"), "ab[31mc\nd");
    }

    #[test]
    fn a_markdown_cell_stays_one_cell_on_one_line() {
        let cell = markdown_cell("a | b\nc\r\nd <img src=x> **bold** `code` [link](http://x) \\|");
        assert!(!cell.contains('\n') && !cell.contains('\r'), "{cell}");
        // Every pipe is escaped: the cell cannot be split.
        let unescaped = cell.match_indices('|').filter(|(i, _)| !cell[..*i].ends_with('\\')).count();
        assert_eq!(unescaped, 0, "{cell}");
        assert!(cell.contains("&lt;img src=x&gt;"), "{cell}");
        assert!(cell.contains("\\*\\*bold\\*\\*") && cell.contains("\\`code\\`") && cell.contains("\\[link\\]"));
        assert_eq!(markdown_cell("x \\| y"), "x \\\\\\| y", "a backslash cannot unescape the pipe");
    }

    #[test]
    fn a_code_span_holds_any_text() {
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code("x `y` z"), "``x `y` z``");
        assert_eq!(markdown_code("`edge"), "`` `edge ``");
        assert_eq!(markdown_code("two\nlines"), "`two lines`");
    }

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("héllo wörld", 5).chars().count(), 5);
        assert_eq!(truncate("", 0), "");
    }
}
