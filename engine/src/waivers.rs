//! Waivers: a documented, expiring exception to one policy for some resources. From a waiver file
//! (a resource selector per waiver) or from the `gatehouse.dev/waivers` annotation on the
//! resource itself. The scanner and the webhook read and match them the same way.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::metadata::deserialize_node;
use crate::yaml::{self, Limits, Position};

/// The annotation that carries a resource's own waivers: a YAML or JSON list of
/// `{policy, reason, expires, ticket?}`.
pub const ANNOTATION: &str = "gatehouse.dev/waivers";

/// JSON pointer to [`ANNOTATION`] in an object.
pub const ANNOTATION_POINTER: &str = "/metadata/annotations/gatehouse.dev~1waivers";

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn parse(s: &str) -> Result<Date, String> {
        let bad = || format!("{s:?} is not a date as YYYY-MM-DD");
        let mut parts = s.splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let (year, month, day) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(bad()),
        };
        if day == 0 || day > days_in_month {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// Today in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// Howard Hinnant's civil_from_days.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Which resources a file waiver applies to; an absent field matches anything, and so does `*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Selector {
    pub fn matches(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        let field = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == "*" || w == have);
        field(&self.kind, kind) && field(&self.namespace, namespace.unwrap_or("")) && field(&self.name, name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub policy: String,
    #[serde(default)]
    pub resource: Selector,
    pub reason: String,
    pub expires: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// Where a waiver was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// True for a resource's own annotation.
    pub annotation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub waiver: Waiver,
    pub origin: Origin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    waivers: Vec<Waiver>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnotationWaiver {
    policy: String,
    reason: String,
    expires: Date,
    #[serde(default)]
    ticket: Option<String>,
}

fn check(
    file: &Path,
    node: &yaml::Node,
    pointer: &str,
    waiver: &Waiver,
    known: &dyn Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let at = |field: &str| Some(node.locate(&format!("{pointer}/{field}")).position);
    if !known(&waiver.policy) {
        problems.push(Diagnostic::new(
            file,
            at("policy"),
            format!("no policy with id {:?} in the bundle", waiver.policy),
        ));
    }
    if waiver.reason.trim().is_empty() {
        problems.push(Diagnostic::new(file, at("reason"), "a waiver needs a reason"));
    }
    problems
}

/// Reads a waiver file; `known` tells which policy ids exist.
pub fn load_file(file: &Path, known: &dyn Fn(&str) -> bool) -> Result<Vec<Located>, Diagnostics> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| Diagnostic::in_file(file, format!("cannot read the waiver file: {e}")))?;
    parse_file_text(file, &source, known)
}

/// [`load_file`] of a text already read; `file` names it in diagnostics.
pub fn parse_file_text(file: &Path, source: &str, known: &dyn Fn(&str) -> bool) -> Result<Vec<Located>, Diagnostics> {
    let node = yaml::parse_single(source, &Limits::default())
        .map_err(|e| Diagnostic::new(file, Some(e.position), e.message))?;
    let parsed: WaiverFile = deserialize_node(file, &node)?;
    let mut problems = Vec::new();
    let mut waivers = Vec::new();
    for (i, waiver) in parsed.waivers.into_iter().enumerate() {
        let pointer = format!("/waivers/{i}");
        problems.extend(check(file, &node, &pointer, &waiver, known));
        let p = node.locate(&pointer).position;
        let origin = Origin { file: file.to_path_buf(), line: p.line, column: p.column, annotation: false };
        waivers.push(Located { waiver, origin });
    }
    if problems.is_empty() { Ok(waivers) } else { Err(Diagnostics(problems)) }
}

/// Reads the waivers of a resource's annotation. `at` is the annotation's position in its source.
pub fn from_annotation(
    value: &str,
    file: &Path,
    at: Position,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<Located>, Diagnostics> {
    let origin = Origin { file: file.to_path_buf(), line: at.line, column: at.column, annotation: true };
    let in_annotation =
        |message: String| Diagnostic::new(file, Some(at), format!("annotation {ANNOTATION}: {message}"));
    let node = yaml::parse_single(value, &Limits::default()).map_err(|e| in_annotation(e.message))?;
    let entries: Vec<AnnotationWaiver> = deserialize_node(file, &node).map_err(|d| in_annotation(d.message))?;
    let mut problems = Vec::new();
    let mut waivers = Vec::new();
    for e in entries {
        let waiver = Waiver {
            policy: e.policy,
            resource: Selector::default(),
            reason: e.reason,
            expires: e.expires,
            ticket: e.ticket,
        };
        problems.extend(check(file, &node, "", &waiver, known).into_iter().map(|d| in_annotation(d.message)));
        waivers.push(Located { waiver, origin: origin.clone() });
    }
    if problems.is_empty() { Ok(waivers) } else { Err(Diagnostics(problems)) }
}

/// The policies an object waives for itself today, through its annotation, as the webhook and
/// the audit read it: an annotation that does not read waives nothing (the violations stand),
/// and the second value says why.
pub fn in_force_on(review: &crate::Review, known: &dyn Fn(&str) -> bool, today: Date) -> (Vec<String>, Option<String>) {
    let Some(value) = review.object_field(ANNOTATION_POINTER) else { return (Vec::new(), None) };
    let Ok(text) = value.as_string() else {
        return (Vec::new(), Some(format!("annotation {ANNOTATION} must be a string; it waives nothing")));
    };
    let here = Position { line: 1, column: 1 };
    match from_annotation(text, Path::new("annotation"), here, known) {
        Ok(list) => (list.into_iter().filter(|w| w.waiver.expires >= today).map(|w| w.waiver.policy).collect(), None),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "{}; it waives nothing",
                e.0.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("; ")
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_validate_and_come_from_the_clock() {
        assert_eq!(Date::parse("2024-02-29"), Ok(Date { year: 2024, month: 2, day: 29 }));
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("23-1-1").is_err());
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days_since_epoch(19_782).to_string(), "2024-02-29");
        assert!(Date::today() > Date::parse("2024-01-01").expect("date"));
    }

    #[test]
    fn the_annotation_pointer_names_the_annotation() {
        assert_eq!(
            ANNOTATION_POINTER,
            format!("/metadata/annotations/{}", ANNOTATION.replace('~', "~0").replace('/', "~1"))
        );
    }

    #[test]
    fn selectors_match_kind_namespace_and_name() {
        let s = Selector { kind: Some("Deployment".into()), namespace: Some("*".into()), name: None };
        assert!(s.matches("Deployment", Some("shop"), "web"));
        assert!(!s.matches("StatefulSet", Some("shop"), "web"));
        assert!(Selector::default().matches("Namespace", None, "x"));
    }

    #[test]
    fn annotation_waivers_are_checked() {
        let known = |id: &str| id == "require-probes";
        let at = Position { line: 5, column: 5 };
        let ok = from_annotation(
            "- {policy: require-probes, reason: batch job, expires: 2999-01-01}",
            Path::new("a.yaml"),
            at,
            &known,
        )
        .expect("valid");
        assert_eq!(ok[0].waiver.expires.to_string(), "2999-01-01");
        let err = from_annotation("[{policy: nope, reason: x, expires: 2999-01-01}]", Path::new("a.yaml"), at, &known)
            .expect_err("unknown policy")
            .to_string();
        assert_eq!(err, "a.yaml:5:5: annotation gatehouse.dev/waivers: no policy with id \"nope\" in the bundle");
        let err = from_annotation("[{policy: require-probes, expires: soon}]", Path::new("a.yaml"), at, &known)
            .expect_err("bad")
            .to_string();
        assert!(err.contains("not a date as YYYY-MM-DD") || err.contains("missing field"), "{err}");
    }
}
