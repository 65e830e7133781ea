//! Charts: `helm template` once per values set, and findings placed in the template line (and
//! the values line) that produced the field, by the `# Source:` comment Helm writes before
//! every document.

use std::path::{Path, PathBuf};

use gatehouse_engine::yaml::{self, Position};

use super::{FileCache, Mapping, NotRendered, Related, Render, RenderError, RenderOptions, Root};
use crate::documents::Source;
use crate::report::Location;

/// The values sets a chart is rendered with, one render each; a library chart is not rendered.
pub(super) fn variants(root: &Root, options: &RenderOptions) -> Result<Vec<Vec<PathBuf>>, NotRendered> {
    let chart = root.dir.join("Chart.yaml");
    let chart_type = std::fs::read_to_string(&chart)
        .ok()
        .and_then(|text| yaml::parse_documents(&text, &yaml::Limits::default()).ok())
        .and_then(|docs| docs.into_iter().next().and_then(|d| d.root))
        .and_then(|root| super::string_field(&root, "type").map(str::to_string));
    if chart_type.as_deref() == Some("library") {
        return Err(NotRendered {
            root: root.dir.clone(),
            reason: "a library chart: Helm renders its templates only in the charts that use it".into(),
        });
    }
    let mut variants = options.helm_values.clone();
    if options.helm_ci_values {
        let mut ci: Vec<PathBuf> = std::fs::read_dir(root.dir.join("ci"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("-values.yaml")))
            .collect();
        ci.sort();
        variants.extend(ci.into_iter().map(|p| vec![p]));
    }
    if variants.is_empty() {
        variants.push(Vec::new());
    }
    Ok(variants)
}

/// `helm template` with one values set.
pub(super) fn render(
    root: &Root,
    values: Vec<PathBuf>,
    alternative: bool,
    options: &RenderOptions,
    scan_namespace: &str,
) -> Result<Render, RenderError> {
    let namespace = options.namespace.as_deref().unwrap_or(scan_namespace);
    let mut command = std::process::Command::new("helm");
    command.arg("template").arg(&options.release).arg(&root.dir);
    command.arg("--namespace").arg(namespace).arg("--include-crds");
    let mut shown = format!("helm template {} {}", options.release, root.dir.display());
    for file in &values {
        command.arg("--values").arg(file);
        shown.push_str(&format!(" -f {}", file.display()));
    }
    for set in &options.helm_set {
        command.arg("--set").arg(set);
        shown.push_str(&format!(" --set {set}"));
    }
    for set in &options.helm_set_string {
        command.arg("--set-string").arg(set);
        shown.push_str(&format!(" --set-string {set}"));
    }
    match super::run(command, "helm", &format!("the chart {}", root.dir.display())) {
        Ok(text) => Ok(Render {
            source: Source { name: shown.into(), text: text.into() },
            root: root.clone(),
            values,
            alternative,
            mapping: Mapping::Helm,
        }),
        Err(message) => {
            let at = blamed_template(&message, &root.dir);
            Err(RenderError { root: root.marker(), message: format!("{shown}: {message}"), at })
        }
    }
}

/// The template Helm's error names (`template: app/templates/x.yaml:12:3: executing ...`,
/// `parse error at (app/templates/x.yaml:5): ...`), when it is a file of the chart.
fn blamed_template(message: &str, chart_dir: &Path) -> Option<(PathBuf, usize)> {
    message.split([' ', '(', ')']).find_map(|word| {
        let (chart_path, rest) = word.split_once(':')?;
        let line: usize = rest.split(':').next()?.parse().ok()?;
        let (_, inner) = chart_path.split_once('/')?;
        let file = chart_dir.join(inner);
        file.is_file().then_some((file, line))
    })
}

/// The `# Source:` path of the document holding `line`, and the rendered document's lines
/// (0-based: first line, and the lines).
fn document_at(text: &str, line: usize) -> Option<(&str, usize, Vec<&str>)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = line.checked_sub(1)?;
    let header = (0..=at.min(lines.len().checked_sub(1)?)).rev().find(|&i| lines[i].starts_with("# Source: "))?;
    let source = lines[header].trim_start_matches("# Source: ").trim();
    let start = header + 1;
    let end = (start..lines.len()).find(|&i| lines[i].starts_with("---")).unwrap_or(lines.len());
    Some((source, start, lines[start..end].to_vec()))
}

/// The file a `# Source:` path names: `<chart>/templates/x.yaml` under the chart's directory,
/// `<chart>/charts/<sub>/...` under the subchart's (found by its name when its directory is
/// named otherwise). `None` for a subchart packed as an archive. With the file come the charts
/// from the root down to the template's own, each with its name.
fn template_file(chart_dir: &Path, source: &str, files: &mut FileCache) -> Option<(PathBuf, Vec<(PathBuf, String)>)> {
    let (root_name, mut rest) = source.split_once('/')?;
    let mut dir = chart_dir.to_path_buf();
    let mut chain = vec![(dir.clone(), root_name.to_string())];
    while let Some(after) = rest.strip_prefix("charts/") {
        let (name, inner) = after.split_once('/')?;
        let direct = dir.join("charts").join(name);
        dir = if direct.join("Chart.yaml").is_file() {
            direct
        } else {
            std::fs::read_dir(dir.join("charts")).ok()?.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                files
                    .documents(&p.join("Chart.yaml"))
                    .and_then(|d| d.first().cloned().flatten())
                    .is_some_and(|root| super::string_field(&root, "name") == Some(name))
            })?
        };
        chain.push((dir.clone(), name.to_string()));
        rest = inner;
    }
    let file = dir.join(rest);
    file.is_file().then_some((file, chain))
}

pub(super) fn place(
    render: &Render,
    at: Position,
    files: &mut FileCache,
    related: &mut Vec<Related>,
) -> Option<(Location, bool)> {
    let (source, start, lines) = document_at(&render.source.text, at.line)?;
    let Some((file, charts)) = template_file(&render.root.dir, source, files) else {
        return packed_dependency(&render.root.dir, source, files);
    };
    let text = files.text(&file)?;
    let index = at.line.checked_sub(1 + start)?;
    let template_line = super::align::align(&text, &lines).get(index).copied().flatten();
    let Some(template_line) = template_line else {
        return Some((Location { file: file.display().to_string(), line: 1, column: 1 }, false));
    };
    let line_text = text.lines().nth(template_line).unwrap_or("");
    let column = line_text.chars().take_while(|c| c.is_whitespace()).count() + 1;
    if let Some(reference) = values_reference(line_text)
        && let Some(location) = locate_value(&reference, &render.values, &charts, files)
    {
        related.push(Related { location, message: format!("the value .Values.{}", reference.join(".")) });
    }
    Some((Location { file: file.display().to_string(), line: template_line + 1, column }, true))
}

/// A template of a subchart packed as an archive (`charts/redis-17.0.0.tgz`) cannot be shown: the
/// finding goes to the dependency's entry in the chart's Chart.yaml, where its version and
/// values are chosen.
fn packed_dependency(chart_dir: &Path, source: &str, files: &mut FileCache) -> Option<(Location, bool)> {
    let name = source.split('/').nth(2).filter(|_| source.split('/').nth(1) == Some("charts"))?;
    let chart = chart_dir.join("Chart.yaml");
    let docs = files.documents(&chart)?;
    let root = docs.first()?.as_ref()?;
    let at = match root.get("dependencies").map(|e| &e.value.kind) {
        Some(yaml::NodeKind::Sequence(entries)) => {
            entries.iter().find(|d| super::string_field(d, "name") == Some(name)).map(|d| d.position)
        }
        _ => None,
    };
    Some((super::location_in(&chart, at.unwrap_or(Position { line: 1, column: 1 })), false))
}

/// The first `.Values.a.b` a template line reads, as its keys.
fn values_reference(line: &str) -> Option<Vec<String>> {
    let start = line.find(".Values.")? + ".Values.".len();
    let path: String =
        line[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
    let keys: Vec<String> = path.split('.').filter(|k| !k.is_empty()).map(str::to_string).collect();
    (!keys.is_empty()).then_some(keys)
}

/// Where a value is set, by Helm's precedence: the render's values files (last first), then the
/// root chart's values.yaml, then each subchart's down to the template's own; a subchart's
/// value sits under its name in its parents' values.
fn locate_value(
    keys: &[String],
    values: &[PathBuf],
    charts: &[(PathBuf, String)],
    files: &mut FileCache,
) -> Option<Location> {
    let pointer = |prefix: &[(PathBuf, String)]| -> String {
        prefix
            .iter()
            .map(|(_, name)| name.as_str())
            .chain(keys.iter().map(String::as_str))
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect()
    };
    let below_root = charts.get(1..).unwrap_or(&[]);
    let mut candidates: Vec<(PathBuf, String)> =
        values.iter().rev().map(|f| (f.clone(), pointer(below_root))).collect();
    for (level, (dir, _)) in charts.iter().enumerate() {
        candidates.push((dir.join("values.yaml"), pointer(&charts[level + 1..])));
    }
    candidates.into_iter().find_map(|(file, pointer)| {
        let docs = files.documents(&file)?;
        let root = docs.first()?.as_ref()?;
        let located = root.locate(&pointer);
        located.exact.then(|| Location {
            file: file.display().to_string(),
            line: located.position.line,
            column: located.position.column,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_found_by_its_source_comment() {
        let text =
            "---\n# Source: app/templates/a.yaml\nkind: A\n---\n# Source: app/templates/b.yaml\nkind: B\nspec: {}\n";
        let (source, start, lines) = document_at(text, 7).expect("found");
        assert_eq!((source, start, lines), ("app/templates/b.yaml", 5, vec!["kind: B", "spec: {}"]));
        assert!(document_at(text, 1).is_none(), "the separator before any source comment");
    }

    #[test]
    fn helm_errors_are_placed_in_the_template_they_name() {
        let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/render/helm/broken");
        let message = "Error: parse error at (broken/templates/configmap.yaml:5): function \"data\" not defined";
        assert_eq!(blamed_template(message, &chart), Some((chart.join("templates/configmap.yaml"), 5)));
        let message =
            "Error: template: broken/templates/configmap.yaml:4:21: executing \"x\" at <.Values.a.b>: nil pointer";
        assert_eq!(blamed_template(message, &chart), Some((chart.join("templates/configmap.yaml"), 4)));
        assert_eq!(blamed_template("Error: chart requires kubeVersion: >=1.40", &chart), None);
    }

    #[test]
    fn values_references_are_read_from_template_lines() {
        assert_eq!(
            values_reference("  {{- toYaml .Values.resources | nindent 12 }}"),
            Some(vec!["resources".to_string()])
        );
        assert_eq!(
            values_reference(r#"image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}""#),
            Some(vec!["image".to_string(), "repository".to_string()])
        );
        assert_eq!(values_reference("name: {{ .Chart.Name }}"), None);
    }
}
