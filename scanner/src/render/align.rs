//! Which line of a Helm template produced a line of its rendered output.
//!
//! Templates are YAML with Go template actions. A weighted longest common subsequence aligns the
//! template's lines with the rendered document's: a line without actions must be rendered as
//! written, a line with actions matches when its literal parts do, a line that is only an
//! output action (`{{ toYaml .Values.resources | nindent 12 }}`) matches any line, and a line
//! that is only control flow (`{{- if }}`, `{{- end }}`) renders nothing. A rendered line left
//! unaligned (the rest of a `toYaml` block, a named template's body) belongs to the nearest
//! aligned line above it.

/// More cells than this (template lines × rendered lines) and no alignment is tried.
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// Renders as written.
    Literal(String),
    /// Literal pieces around actions: the first piece anchors at the start, the last at the end.
    Pattern(Vec<String>),
    /// Only actions, at least one of which writes output.
    Output,
    /// Only control flow, comments or assignments: renders nothing of its own.
    Control,
}

/// Keywords of actions that write nothing.
const CONTROL: [&str; 9] = ["if ", "else", "end", "range ", "with ", "define ", "/*", "break", "continue"];

fn is_control(action: &str) -> bool {
    let body = action.trim_start_matches('-').trim().trim_end_matches('-').trim();
    if CONTROL.iter().any(|k| body.starts_with(k) || body == k.trim()) || body.starts_with("block ") {
        return true;
    }
    // `$name := ...` and `$name = ...` assign.
    body.starts_with('$') && body.split_whitespace().nth(1).is_some_and(|op| op == ":=" || op == "=")
}

fn classify(template: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut open_action = false;
    for raw in template.lines() {
        let mut pieces = vec![String::new()];
        let mut output = false;
        let mut actions = 0;
        let mut rest = raw;
        if open_action {
            match rest.find("}}") {
                Some(end) => {
                    rest = &rest[end + 2..];
                    open_action = false;
                    actions += 1;
                }
                None => {
                    lines.push(Line::Control);
                    continue;
                }
            }
        }
        while let Some(start) = rest.find("{{") {
            pieces.last_mut().expect("one piece").push_str(&rest[..start]);
            let after = &rest[start + 2..];
            actions += 1;
            match after.find("}}") {
                Some(end) => {
                    output |= !is_control(&after[..end]);
                    rest = &after[end + 2..];
                    pieces.push(String::new());
                }
                None => {
                    // An action that goes on over the next lines (a long `include`, a comment).
                    output |= !is_control(after);
                    open_action = true;
                    rest = "";
                    break;
                }
            }
        }
        pieces.last_mut().expect("one piece").push_str(rest);
        if actions == 0 {
            lines.push(Line::Literal(raw.trim_end().to_string()));
        } else if pieces.iter().all(|p| p.trim().is_empty()) {
            lines.push(if output { Line::Output } else { Line::Control });
        } else {
            if let Some(last) = pieces.last_mut() {
                *last = last.trim_end().to_string();
            }
            lines.push(Line::Pattern(pieces));
        }
    }
    lines
}

impl Line {
    /// How much a match of this line with `rendered` counts for; 0 when they do not match.
    fn weight(&self, rendered: &str) -> u32 {
        match self {
            Line::Literal(text) if text.is_empty() => 0,
            Line::Literal(text) => 3 * u32::from(text == rendered.trim_end()),
            Line::Pattern(pieces) => 2 * u32::from(pattern_matches(pieces, rendered.trim_end())),
            Line::Output => u32::from(!rendered.trim().is_empty()),
            Line::Control => 0,
        }
    }
}

fn pattern_matches(pieces: &[String], text: &str) -> bool {
    let (first, rest) = pieces.split_first().expect("a pattern has pieces");
    // A leading action may write the indentation itself; a leading literal must match exactly.
    let Some(mut remaining) = (if first.trim().is_empty() && !first.is_empty() {
        text.strip_prefix(first.as_str()).or(Some(text))
    } else {
        text.strip_prefix(first.as_str())
    }) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return true;
    };
    for piece in middle {
        match remaining.find(piece.as_str()) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.ends_with(last.as_str())
}

/// For each line of `rendered` (0-based), the 0-based template line that produced it, or `None`
/// when no line of the rendered document could be aligned (or they are too large to try).
pub fn align(template: &str, rendered: &[&str]) -> Vec<Option<usize>> {
    let lines = classify(template);
    let (n, m) = (lines.len(), rendered.len());
    if n == 0 || m == 0 || n.saturating_mul(m) > MAX_CELLS {
        return vec![None; m];
    }
    let width = m + 1;
    let mut score = vec![0u32; (n + 1) * width];
    for i in 1..=n {
        for j in 1..=m {
            let w = lines[i - 1].weight(rendered[j - 1]);
            let diagonal = if w > 0 { score[(i - 1) * width + j - 1] + w } else { 0 };
            score[i * width + j] = diagonal.max(score[(i - 1) * width + j]).max(score[i * width + j - 1]);
        }
    }
    let mut matched = vec![None; m];
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        let here = score[i * width + j];
        let w = lines[i - 1].weight(rendered[j - 1]);
        // Among equal alignments, a template line takes the first rendered line it can: an
        // action's output then starts at the action.
        if here == score[i * width + j - 1] {
            j -= 1;
        } else if w > 0 && here == score[(i - 1) * width + j - 1] + w {
            matched[j - 1] = Some(i - 1);
            i -= 1;
            j -= 1;
        } else {
            i -= 1;
        }
    }
    let mut last = None;
    matched
        .into_iter()
        .map(|m| {
            if m.is_some() {
                last = m;
            }
            last
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"#;

    const RENDERED: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-app
  labels:
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: rel
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: "nginx:1.27"
          resources:
            limits:
              cpu: 100m
"#;

    fn aligned() -> Vec<Option<usize>> {
        let rendered: Vec<&str> = RENDERED.lines().collect();
        align(TEMPLATE, &rendered)
    }

    #[test]
    fn literal_and_pattern_lines_map_to_themselves() {
        let a = aligned();
        assert_eq!(a[0], Some(0), "apiVersion");
        assert_eq!(a[3], Some(3), "name from include");
        assert_eq!(a[8], Some(8), "replicas inside an if");
        assert_eq!(a[12], Some(13), "the container's name");
        assert_eq!(a[13], Some(14), "image with two actions");
    }

    #[test]
    fn lines_an_action_wrote_map_to_the_action() {
        let a = aligned();
        assert_eq!(a[5], Some(5), "first label: the include line");
        assert_eq!(a[6], Some(5), "second label: still the include line");
        assert_eq!(a[15], Some(16), "toYaml of resources");
        assert_eq!(a[16], Some(16));
    }

    #[test]
    fn control_lines_render_nothing() {
        let lines = classify("  {{- if .Values.x }}\n  {{- end }}\n  {{- $n := 3 }}\n{{/* a\ncomment */}}\n");
        assert_eq!(lines, [Line::Control, Line::Control, Line::Control, Line::Control, Line::Control]);
    }

    #[test]
    fn nothing_aligns_with_an_unrelated_text() {
        let rendered = ["foo: bar", "baz: 1"];
        assert_eq!(align("kind: Service\n", &rendered), [None, None]);
    }
}
