//! The input a Kubernetes policy sees: `input.review`, an AdmissionRequest, exactly as
//! Gatekeeper builds it. The scanner wraps a manifest into a synthetic CREATE request; the
//! webhook passes the API server's request through.

use serde_json::{Value, json};

use crate::inventory::ObjectKey;
use crate::kinds::{group_of, version_of};

/// A review and the policy input built from it once, so that evaluating it against several
/// evaluators (or twice) does not convert it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    request: Value,
    group: String,
    kind: String,
    input: regorus::Value,
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

impl Review {
    /// Wraps a manifest as Gatekeeper's audit and `gator` do: a CREATE by a synthetic user.
    pub fn from_object(object: Value, default_namespace: &str) -> Result<Review, ReviewError> {
        let key = ObjectKey::of(&object, default_namespace).ok_or(ReviewError::NotAnObject)?;
        let group = group_of(&key.api_version).to_string();
        let mut request = json!({
            "uid": "",
            "kind": {"group": group, "version": version_of(&key.api_version), "kind": key.kind},
            "name": key.name,
            "operation": "CREATE",
            "userInfo": {"username": "policy-scan"},
            "dryRun": true,
            "oldObject": null,
        });
        if let Some(ns) = key.namespace {
            request["namespace"] = Value::String(ns);
        }
        request["object"] = object;
        Ok(Review::new(request, group, key.kind))
    }

    /// Takes the `request` of an `admission.k8s.io/v1` AdmissionReview.
    pub fn from_admission_request(request: Value) -> Result<Review, ReviewError> {
        if !request.is_object() {
            return Err(ReviewError::WrongType { field: "request", expected: "an object" });
        }
        let kind = request.get("kind").ok_or(ReviewError::MissingField("kind"))?;
        let group = kind
            .get("group")
            .and_then(Value::as_str)
            .ok_or(ReviewError::WrongType { field: "kind.group", expected: "a string" })?
            .to_string();
        let kind = kind
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or(ReviewError::WrongType { field: "kind.kind", expected: "a non-empty string" })?
            .to_string();
        match request.get("operation") {
            Some(Value::String(_)) => {}
            Some(_) => {
                return Err(ReviewError::WrongType { field: "operation", expected: "a string" });
            }
            None => return Err(ReviewError::MissingField("operation")),
        }
        Ok(Review::new(request, group, kind))
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn request(&self) -> &Value {
        &self.request
    }

    /// The object under review (`oldObject` for a DELETE).
    pub fn object(&self) -> Option<&Value> {
        match self.request.get("object") {
            Some(Value::Null) | None => self.request.get("oldObject").filter(|v| !v.is_null()),
            Some(v) => Some(v),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        self.request.get("namespace").and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    pub fn name(&self) -> &str {
        self.request.get("name").and_then(Value::as_str).unwrap_or("")
    }

    fn new(request: Value, group: String, kind: String) -> Review {
        use serde::Deserialize;
        let review = regorus::Value::deserialize(&request).unwrap_or(regorus::Value::Undefined);
        let mut input = regorus::Value::new_object();
        if let Ok(map) = input.as_object_mut() {
            map.insert(regorus::Value::from("review"), review);
        }
        Review { request, group, kind, input }
    }

    /// The policy input, `{"review": <request>}`. Cloning it is a reference count.
    pub(crate) fn input(&self) -> regorus::Value {
        self.input.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_becomes_a_create_review_in_its_namespace() {
        let review = Review::from_object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
            "shop",
        )
        .expect("object");
        assert_eq!(
            (review.group(), review.kind(), review.namespace(), review.name()),
            ("apps", "Deployment", Some("shop"), "web")
        );
        assert_eq!(review.request()["operation"], "CREATE");
        assert!(Review::from_object(json!({"kind": "X"}), "d").is_err());
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
