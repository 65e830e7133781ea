//! The input a Kubernetes policy sees: `input.review`, an AdmissionRequest, exactly as
//! Gatekeeper builds it. The scanner wraps a manifest into a synthetic CREATE request; the
//! webhook passes the API server's request through.
//!
//! A review holds its request once, as the regorus value the policies read; the few callers that
//! want JSON get it converted on demand. Holding a JSON copy too doubled a scan's memory.

use std::collections::BTreeMap;

use regorus::Value as Rego;
use serde_json::Value;

use crate::inventory::ObjectKey;
use crate::kinds::{group_of, version_of};

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    api_version: String,
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    operation: String,
    review: Rego,
    input: Rego,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("not a Kubernetes object: apiVersion and kind must be non-empty strings")]
    NotAnObject,
    #[error("the AdmissionRequest has no {0}")]
    MissingField(&'static str),
    #[error("the AdmissionRequest field {field} must be {expected}")]
    WrongType { field: &'static str, expected: &'static str },
}

pub(crate) fn key(s: &str) -> Rego {
    Rego::from(s)
}

/// A regorus object from string keys.
pub(crate) fn object<const N: usize>(entries: [(&str, Rego); N]) -> Rego {
    Rego::from(entries.into_iter().map(|(k, v)| (key(k), v)).collect::<BTreeMap<_, _>>())
}

impl Review {
    /// Wraps a manifest as Gatekeeper's audit and `gator` do: a CREATE by a synthetic user.
    pub fn from_object(object: Value, default_namespace: &str) -> Result<Review, ReviewError> {
        Review::from_rego_object(to_rego(&object), default_namespace)
    }

    /// [`Review::from_object`] for an object already converted (the scanner builds it straight
    /// from the YAML it read).
    pub fn from_rego_object(object: Rego, default_namespace: &str) -> Result<Review, ReviewError> {
        let key = ObjectKey::of_rego(&object, default_namespace).ok_or(ReviewError::NotAnObject)?;
        Ok(Review::create(key, object))
    }

    fn create(key: ObjectKey, value: Rego) -> Review {
        let group = group_of(&key.api_version).to_string();
        let version = version_of(&key.api_version).to_string();
        let mut request = BTreeMap::from([
            (Rego::from("uid"), Rego::from("")),
            (
                Rego::from("kind"),
                object([
                    ("group", Rego::from(group.as_str())),
                    ("version", Rego::from(version)),
                    ("kind", Rego::from(key.kind.as_str())),
                ]),
            ),
            (Rego::from("name"), Rego::from(key.name.as_str())),
            (Rego::from("operation"), Rego::from("CREATE")),
            (Rego::from("userInfo"), object([("username", Rego::from("policy-scan"))])),
            (Rego::from("dryRun"), Rego::from(true)),
            (Rego::from("oldObject"), Rego::Null),
            (Rego::from("object"), value),
        ]);
        if let Some(ns) = &key.namespace {
            request.insert(Rego::from("namespace"), Rego::from(ns.as_str()));
        }
        Review::new(key.api_version, group, key.kind, key.namespace, key.name, "CREATE".into(), Rego::from(request))
    }

    /// Takes the `request` of an `admission.k8s.io/v1` AdmissionReview.
    pub fn from_admission_request(request: Value) -> Result<Review, ReviewError> {
        if !request.is_object() {
            return Err(ReviewError::WrongType { field: "request", expected: "an object" });
        }
        let kind = request.get("kind").ok_or(ReviewError::MissingField("kind"))?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let group =
            text(kind.get("group")).ok_or(ReviewError::WrongType { field: "kind.group", expected: "a string" })?;
        let version = text(kind.get("version")).unwrap_or_default();
        let kind = text(kind.get("kind"))
            .filter(|k| !k.is_empty())
            .ok_or(ReviewError::WrongType { field: "kind.kind", expected: "a non-empty string" })?;
        let operation = match request.get("operation") {
            Some(Value::String(op)) => op.clone(),
            Some(_) => return Err(ReviewError::WrongType { field: "operation", expected: "a string" }),
            None => return Err(ReviewError::MissingField("operation")),
        };
        let api_version = if group.is_empty() { version } else { format!("{group}/{version}") };
        let namespace = text(request.get("namespace")).filter(|s| !s.is_empty());
        let name = text(request.get("name")).unwrap_or_default();
        Ok(Review::new(api_version, group, kind, namespace, name, operation, to_rego(&request)))
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        api_version: String,
        group: String,
        kind: String,
        namespace: Option<String>,
        name: String,
        operation: String,
        review: Rego,
    ) -> Review {
        let input = object([("review", review.clone())]);
        Review { api_version, group, kind, namespace, name, operation, review, input }
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The object under review (`oldObject` for a DELETE), as the policy sees it; shared, not
    /// copied.
    pub fn object_value(&self) -> Option<Rego> {
        [self.review[&key("object")].clone(), self.review[&key("oldObject")].clone()]
            .into_iter()
            .find(|v| !matches!(v, Rego::Null | Rego::Undefined))
    }

    /// The object under review as JSON, converted on demand.
    pub fn object(&self) -> Option<Value> {
        self.object_value().and_then(|v| serde_json::to_value(v).ok())
    }

    /// A field of the object under review, by JSON pointer.
    pub fn object_field(&self, pointer: &str) -> Option<Rego> {
        self.object_value().and_then(|o| rego_pointer(&o, pointer).cloned())
    }

    /// The policy input, `{"review": <request>}`. Cloning it is a reference count.
    pub(crate) fn input(&self) -> Rego {
        self.input.clone()
    }

    /// The policy input with `parameters` beside the review.
    pub(crate) fn input_with(&self, parameters: &Rego) -> Rego {
        let mut input = self.input.clone();
        if let Ok(map) = input.as_object_mut() {
            map.insert(Rego::from("parameters"), parameters.clone());
        }
        input
    }

    /// The review with the signature checks of its images beside it, as `input.images`: by
    /// image reference as written, `{verdict, digest, key, reason, rule, onRegistryError}`.
    pub fn set_images(&mut self, images: Rego) {
        self.input = object([("review", self.review.clone()), ("images", images)]);
    }
}

/// RFC 6901 lookup in a regorus value.
pub fn rego_pointer<'a>(value: &'a Rego, pointer: &str) -> Option<&'a Rego> {
    if pointer.is_empty() {
        return Some(value);
    }
    let mut at = value;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        at = match at {
            Rego::Object(map) => map.get(&Rego::from(token.as_str()))?,
            Rego::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// A JSON number as regorus holds it: integers exactly, others as floats.
pub(crate) fn number_to_rego(n: &serde_json::Number) -> Rego {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => Rego::from(i),
        (None, Some(u)) => Rego::from(u),
        _ => Rego::from(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// JSON to a regorus value, directly (about 12% cheaper than going through serde).
pub fn to_rego(value: &Value) -> Rego {
    match value {
        Value::Null => Rego::Null,
        Value::Bool(b) => Rego::from(*b),
        Value::Number(n) => number_to_rego(n),
        Value::String(s) => Rego::from(s.as_str()),
        Value::Array(items) => Rego::from(items.iter().map(to_rego).collect::<Vec<_>>()),
        Value::Object(map) => {
            Rego::from(map.iter().map(|(k, v)| (Rego::from(k.as_str()), to_rego(v))).collect::<BTreeMap<_, _>>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_manifest_becomes_a_create_review_in_its_namespace() {
        let review = Review::from_object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
            "shop",
        )
        .expect("object");
        assert_eq!(
            (review.group(), review.kind(), review.namespace(), review.name(), review.operation()),
            ("apps", "Deployment", Some("shop"), "web", "CREATE")
        );
        let input = serde_json::to_value(review.input()).expect("JSON");
        assert_eq!(input["review"]["kind"], json!({"group": "apps", "version": "v1", "kind": "Deployment"}));
        assert_eq!(input["review"]["namespace"], "shop");
        assert_eq!(review.object().expect("object")["metadata"]["name"], "web");
        assert_eq!(review.object_field("/metadata/name"), Some(Rego::from("web")));
        assert!(Review::from_object(json!({"kind": "X"}), "d").is_err());
    }

    #[test]
    fn the_direct_conversion_equals_serde_s() {
        use serde::Deserialize;
        let v = json!({"a": [1, -2, 3.5, u64::MAX, "s", null, true], "b": {"c": {}}, "d": []});
        assert_eq!(to_rego(&v), Rego::deserialize(&v).expect("converts"));
        assert_eq!(rego_pointer(&to_rego(&v), "/a/4"), Some(&Rego::from("s")));
        assert_eq!(rego_pointer(&to_rego(&v), "/a/9"), None);
    }

    #[test]
    fn a_half_written_admission_request_is_refused() {
        assert_eq!(
            Review::from_admission_request(json!({"operation": "CREATE"})),
            Err(ReviewError::MissingField("kind"))
        );
        let err = Review::from_admission_request(json!({"kind": {"group": "", "kind": 3}, "operation": "CREATE"}));
        assert!(matches!(err, Err(ReviewError::WrongType { field: "kind.kind", .. })));
    }
}
