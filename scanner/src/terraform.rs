//! Terraform in a scan: plans (`terraform show -json` output, or a binary plan converted by it)
//! and roots of `.tf` files read statically, split into resources the engine judges one by one,
//! and the places in the sources that findings point at.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gatehouse_engine::terraform::hcl::{HclError, Loader};
use gatehouse_engine::terraform::{self, Plan, SourceMap};
use gatehouse_engine::yaml::{Limits, Position};

use crate::documents::{Locator, Object, Source};
use crate::report::{ErrorKind, Location, Report, Resource, ScanError, Skipped};

/// What `terraform show -json` is given at most: time, and output (as much as a plan file the
/// scanner reads).
const SHOW_BOUNDS: crate::process::Bounds =
    crate::process::Bounds { time: std::time::Duration::from_secs(300), output: crate::discover::MAX_SOURCE_BYTES };

/// Converts a binary plan with `terraform show -json`, run in `cwd` (the initialised
/// configuration the plan was made from, whose providers' schemas terraform needs).
pub fn show_json(plan: &Path, cwd: Option<&Path>) -> Result<String, String> {
    let absolute = plan.canonicalize().map_err(|e| format!("cannot read: {e}"))?;
    let mut command = std::process::Command::new("terraform");
    command.arg("show").arg("-json").arg("-no-color").arg(&absolute);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.stdin(std::process::Stdio::null());
    let output = match crate::process::run_bounded(command, SHOW_BOUNDS) {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("a binary Terraform plan: reading it needs `terraform show -json`, and terraform is not on \
                 PATH (install it, or scan the output of `terraform show -json plan > plan.json`)"
                .into());
        }
        Err(e) => return Err(format!("a binary Terraform plan: `terraform show -json` failed: {e}")),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Terraform boxes its diagnostics; the error, not a warning before it, is the reason.
        let lines: Vec<&str> =
            stderr.lines().map(|l| l.trim_start_matches(['│', '╷', '╵']).trim()).filter(|l| !l.is_empty()).collect();
        let start = lines.iter().position(|l| l.starts_with("Error:")).unwrap_or(0);
        let first = lines[start..].iter().copied().take(3);
        let dir = cwd.map_or_else(|| ".".to_string(), |d| d.display().to_string());
        return Err(format!(
            "a binary Terraform plan: `terraform show -json` in {dir} failed ({}): {} (run it where the \
             configuration was initialised, or pass --tf-root)",
            output.status,
            first.collect::<Vec<_>>().join(" ")
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| "`terraform show -json` wrote text that is not UTF-8".to_string())
}

/// A JSON source that may be a plan: worth parsing as one before it is read as manifests.
pub fn may_be_plan(source: &Source) -> bool {
    source.text.trim_start().starts_with('{') && source.text.contains("\"format_version\"")
}

/// Where a judged resource comes from, to place its findings.
#[derive(Debug, Clone)]
enum Origin {
    /// Read statically from .tf files.
    Static(Arc<SourceMap>),
    /// An entry of a plan's `resource_changes`; `map` places it in the configuration beside the
    /// plan (`--tf-root`).
    Plan { file: Arc<str>, map: Option<Arc<SourceMap>> },
}

/// One Terraform resource to judge, and where it is written.
#[derive(Debug, Clone)]
pub struct Judged {
    pub resource: terraform::Resource,
    origin: Origin,
}

impl Judged {
    pub fn report_resource(&self) -> Resource {
        Resource {
            api_version: crate::report::TERRAFORM_API_VERSION.to_string(),
            kind: self.resource.resource_type().to_string(),
            namespace: None,
            name: self.resource.address().to_string(),
        }
    }

    /// The place of a JSON pointer into the resource's values after apply (`""`: the resource);
    /// `exact` is false when the field is not written and the place is its nearest parent's.
    pub fn locate(&self, locator: &mut Locator, texts: &dyn Fn(&str) -> Arc<str>, pointer: &str) -> (Location, bool) {
        let address = self.resource.configuration_address();
        let map = match &self.origin {
            Origin::Static(map) => Some(map),
            Origin::Plan { map, .. } => map.as_ref(),
        };
        if let Some(place) = map.and_then(|m| m.locate(&address, pointer)) {
            let location =
                Location { file: place.file.to_string(), line: place.position.line, column: place.position.column };
            return (location, place.exact);
        }
        match &self.origin {
            Origin::Plan { file, .. } => {
                let prefix = format!("/resource_changes/{}", self.resource.position);
                let object = Object {
                    source: file.clone(),
                    document: 0,
                    prefix: if pointer.is_empty() { prefix } else { format!("{prefix}/change/after") },
                    position: Position { line: 1, column: 1 },
                    value: regorus::Value::Null,
                };
                let located = locator.locate(&object, &texts(file), pointer);
                (
                    Location { file: file.to_string(), line: located.position.line, column: located.position.column },
                    located.exact,
                )
            }
            Origin::Static(_) => (Location { file: address, line: 1, column: 1 }, false),
        }
    }
}

fn hcl_errors(errors: Vec<HclError>, report: &mut Report) {
    for e in errors {
        report.errors.push(ScanError {
            kind: ErrorKind::Parse,
            message: e.message,
            location: Some(Location { file: e.file.to_string(), line: e.position.line, column: e.position.column }),
            policy: None,
        });
    }
}

/// `resource_changes[2].change.actions` as a pointer, `/resource_changes/2/change/actions`.
fn field_pointer(field: &str) -> String {
    let mut pointer = String::new();
    for part in field.split('.').filter(|p| !p.starts_with('(')) {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        pointer.push('/');
        pointer.push_str(name);
        for index in rest.split('[').map(|i| i.trim_end_matches(']')).filter(|i| !i.is_empty()) {
            pointer.push('/');
            pointer.push_str(index);
        }
    }
    pointer
}

/// Reads the Terraform of a scan: each plan among `sources` (their names are returned, so that
/// they are not read again as manifests), and each root module among `dirs`.
pub fn collect(
    sources: &[Source],
    dirs: &[PathBuf],
    tf_root: Option<&Path>,
    limits: &Limits,
    report: &mut Report,
) -> (Vec<Judged>, HashSet<Arc<str>>) {
    let mut judged = Vec::new();
    let mut plans = HashSet::new();
    let mut loader = Loader::new();
    let root_map = tf_root.and_then(|dir| match loader.load_root(dir) {
        Ok(loaded) => Some(Arc::new(loaded.sources)),
        Err(errors) => {
            hcl_errors(errors, report);
            None
        }
    });
    let mut locator = Locator::new(*limits);
    for source in sources.iter().filter(|s| may_be_plan(s)) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&source.text) else {
            continue;
        };
        if terraform::plan::looks_like_state(&value) {
            plans.insert(source.name.clone());
            report.errors.push(ScanError {
                kind: ErrorKind::Parse,
                message: "a Terraform state, not a plan: scan `terraform show -json <planfile>`".into(),
                location: Some(Location { file: source.name.to_string(), line: 1, column: 1 }),
                policy: None,
            });
            continue;
        }
        if !terraform::plan::looks_like_plan(&value) {
            continue;
        }
        plans.insert(source.name.clone());
        report.summary.documents += 1;
        match Plan::from_json(&value) {
            Ok(plan) => {
                for skipped in &plan.skipped {
                    report.skipped.push(Skipped {
                        location: Location { file: source.name.to_string(), line: 1, column: 1 },
                        reason: format!("{}: {}", skipped.address, skipped.reason),
                    });
                }
                let map = root_map.clone();
                judged.extend(plan.resources.into_iter().map(|resource| Judged {
                    resource,
                    origin: Origin::Plan { file: source.name.clone(), map: map.clone() },
                }));
            }
            Err(e) => {
                let object = Object {
                    source: source.name.clone(),
                    document: 0,
                    prefix: String::new(),
                    position: Position { line: 1, column: 1 },
                    value: regorus::Value::Null,
                };
                let at = locator.locate(&object, &source.text, &field_pointer(&e.field)).position;
                report.errors.push(ScanError {
                    kind: ErrorKind::Parse,
                    message: format!("not a valid Terraform plan: {e}"),
                    location: Some(Location { file: source.name.to_string(), line: at.line, column: at.column }),
                    policy: None,
                });
            }
        }
    }
    // A module that another scanned directory calls is judged with its callers' values.
    let canonical = |d: &Path| d.canonicalize().unwrap_or_else(|_| d.to_path_buf());
    let mut called: Vec<(PathBuf, PathBuf)> = Vec::new();
    for dir in dirs {
        if let Ok(calls) = loader.local_calls(dir) {
            called.extend(calls.iter().map(|c| (canonical(c), dir.clone())));
        }
    }
    for dir in dirs {
        if let Some((_, caller)) = called.iter().find(|(c, _)| *c == canonical(dir)) {
            report.skipped.push(Skipped {
                location: Location { file: dir.display().to_string(), line: 1, column: 1 },
                reason: format!("a module called by {}: judged with its caller's values", caller.display()),
            });
            continue;
        }
        match loader.load_root(dir) {
            Ok(loaded) => {
                report.summary.documents += 1;
                for note in loaded.notes {
                    report.skipped.push(Skipped {
                        location: Location {
                            file: note.file.to_string(),
                            line: note.position.line,
                            column: note.position.column,
                        },
                        reason: note.message,
                    });
                }
                let map = Arc::new(loaded.sources);
                match Plan::from_json(&loaded.plan) {
                    Ok(plan) => judged.extend(
                        plan.resources
                            .into_iter()
                            .map(|resource| Judged { resource, origin: Origin::Static(map.clone()) }),
                    ),
                    Err(e) => report.errors.push(ScanError {
                        kind: ErrorKind::Parse,
                        message: format!("the static reading of {} gave no plan: {e}", dir.display()),
                        location: Some(Location { file: dir.display().to_string(), line: 1, column: 1 }),
                        policy: None,
                    }),
                }
            }
            Err(errors) => hcl_errors(errors, report),
        }
    }
    (judged, plans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_fields_become_pointers() {
        assert_eq!(field_pointer("resource_changes[2].change.actions"), "/resource_changes/2/change/actions");
        assert_eq!(field_pointer("format_version"), "/format_version");
        assert_eq!(field_pointer("(document)"), "");
    }
}
