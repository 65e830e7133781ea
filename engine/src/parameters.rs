//! Policy parameters: a small, closed schema (the part of OpenAPI v3 that Gatekeeper constraint
//! templates use in practice), checked for the defaults in `policy.yaml` and for every override
//! in the configuration file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    #[serde(rename = "type")]
    pub kind: ParamType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required for a top-level parameter (`null` leaves it unset); absent for `items` and
    /// `properties`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<ParameterSpec>>,
    /// For objects: the known properties. An object with none takes any keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, ParameterSpec>,
}

impl ParameterSpec {
    /// Checks that a top-level parameter is documented and that its default fits its schema.
    /// The error names the field at fault: `description` or `default`.
    pub fn check_definition(&self, name: &str) -> Result<(), (&'static str, String)> {
        if self.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return Err(("description", format!("parameter {name} needs a description")));
        }
        let Some(default) = &self.default else {
            return Err(("default", format!("parameter {name} needs a default (null leaves it unset)")));
        };
        if default.is_null() {
            return Ok(());
        }
        self.check(default).map_err(|e| ("default", format!("default of parameter {name}: {e}")))
    }

    /// Checks a value against this schema; the error names the offending element.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        self.check_at(value, "")
    }

    fn check_at(&self, value: &Value, at: &str) -> Result<(), String> {
        let here = if at.is_empty() { String::from("value") } else { at.to_string() };
        let type_ok = match self.kind {
            ParamType::String => value.is_string(),
            ParamType::Integer => value.as_i64().is_some() || value.as_u64().is_some(),
            ParamType::Number => value.is_number(),
            ParamType::Boolean => value.is_boolean(),
            ParamType::Array => value.is_array(),
            ParamType::Object => value.is_object(),
        };
        if !type_ok {
            return Err(format!("{here} {value} is not of type {}", type_name(self.kind)));
        }
        if let Some(allowed) = &self.allowed
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Err(format!("{here} {value} is not one of {}", list.join(", ")));
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = self.minimum.filter(|min| n < *min) {
                return Err(format!("{here} {value} is below the minimum {min}"));
            }
            if let Some(max) = self.maximum.filter(|max| n > *max) {
                return Err(format!("{here} {value} is above the maximum {max}"));
            }
        }
        if let (Some(items), Some(array)) = (&self.items, value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                items.check_at(item, &format!("{at}[{i}]"))?;
            }
        }
        if let (false, Some(object)) = (self.properties.is_empty(), value.as_object()) {
            for (key, item) in object {
                let Some(spec) = self.properties.get(key) else {
                    let known: Vec<&str> = self.properties.keys().map(String::as_str).collect();
                    return Err(format!("{at}.{key} is not a known property (known: {})", known.join(", ")));
                };
                spec.check_at(item, &format!("{at}.{key}"))?;
            }
        }
        Ok(())
    }
}

/// Tells `default: null` (present) from an absent `default`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn type_name(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
        ParamType::Array => "array",
        ParamType::Object => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> ParameterSpec {
        serde_json::from_value(v).expect("spec")
    }

    #[test]
    fn values_are_checked_against_type_bounds_enum_and_items() {
        let s = spec(json!({"type": "integer", "minimum": 2, "description": "d", "default": 2}));
        assert!(s.check_definition("n").is_ok());
        assert!(s.check(&json!(1)).expect_err("below").contains("below the minimum"));
        assert!(s.check(&json!("3")).expect_err("type").contains("not of type integer"));
        let s = spec(json!({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}));
        assert!(s.check(&json!(["a", "b"])).is_ok());
        assert_eq!(s.check(&json!(["a", "c"])).expect_err("enum"), "[1] \"c\" is not one of \"a\", \"b\"");
    }

    #[test]
    fn a_parameter_needs_a_description_and_a_fitting_default() {
        let s = spec(json!({"type": "boolean", "description": "d"}));
        assert!(s.check_definition("b").expect_err("no default").1.contains("needs a default"));
        let s = spec(json!({"type": "object", "description": "d", "default": {"x": 1},
                            "properties": {"y": {"type": "integer"}}}));
        assert!(s.check_definition("o").expect_err("unknown").1.contains(".x is not a known property"));
    }
}
