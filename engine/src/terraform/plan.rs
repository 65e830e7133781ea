//! Reading `terraform show -json` output: checked field by field, so that a malformed plan is
//! an error naming the field, never a resource passed over.

use std::collections::BTreeMap;

use regorus::Value as Rego;
use serde_json::Value;

use crate::evaluate::Subject;
use crate::review::{object, rego_pointer, to_rego};

/// A plan that is not one: what is wrong, and where (a path such as
/// `resource_changes[2].change.actions`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PlanError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError { field: field.into(), message: message.into() }
}

/// One managed resource the plan creates, updates, replaces or keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    address: String,
    resource_type: String,
    module_address: Option<String>,
    actions: Vec<String>,
    /// Index of its entry in `resource_changes`.
    pub position: usize,
    after: Rego,
    resource: Rego,
    plan: Rego,
    /// The kept managed resources of the same module instance, by type: what a cross-resource
    /// policy looks through, without going over the whole plan for every resource.
    module_resources: Rego,
    /// `{"in_module": i, "in_plan": j}`: the resource's rank among the kept managed resources
    /// of its module (instance keys left out) and of the plan.
    position_facts: Rego,
}

/// A resource no policy judges, and why (deleted, a data source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub address: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub resources: Vec<Resource>,
    pub skipped: Vec<Skipped>,
    pub terraform_version: Option<String>,
}

/// True for what `terraform show -json` writes of a plan: a `format_version` and the plan's own
/// fields. A state (`values` without `resource_changes`) is not a plan.
pub fn looks_like_plan(value: &Value) -> bool {
    value.get("format_version").is_some_and(Value::is_string)
        && (value.get("resource_changes").is_some() || value.get("planned_values").is_some())
}

/// True for a JSON document that is Terraform's but not a plan (a state, `terraform show -json`
/// without a plan file), which deserves a clearer word than "not a Kubernetes object".
pub fn looks_like_state(value: &Value) -> bool {
    value.get("format_version").is_some_and(Value::is_string)
        && value.get("terraform_version").is_some()
        && !looks_like_plan(value)
}

impl Plan {
    pub fn from_json(value: &Value) -> Result<Plan, PlanError> {
        let Value::Object(top) = value else {
            return Err(error("(document)", "a Terraform plan is a JSON object"));
        };
        match top.get("format_version") {
            Some(Value::String(v)) if v.split('.').next() == Some("1") => {}
            Some(Value::String(v)) => {
                return Err(error("format_version", format!("{v:?} is not a plan format this scanner reads (1.x)")));
            }
            _ => return Err(error("format_version", "missing: not `terraform show -json` output")),
        }
        let changes = match top.get("resource_changes") {
            None | Some(Value::Null) => &Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(error("resource_changes", "must be an array")),
        };
        let plan = to_rego(value);
        let mut resources = Vec::new();
        let mut skipped = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            let at = |field: &str| format!("resource_changes[{i}]{field}");
            let text = |field: &str| -> Result<String, PlanError> {
                change
                    .get(field)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| error(at(&format!(".{field}")), "missing or not a string"))
            };
            if !change.is_object() {
                return Err(error(at(""), "must be an object"));
            }
            let address = text("address")?;
            let mode = text("mode")?;
            let resource_type = text("type")?;
            let module_address = match change.get("module_address") {
                None | Some(Value::Null) => None,
                Some(Value::String(m)) => Some(m.clone()),
                Some(_) => return Err(error(at(".module_address"), "must be a string")),
            };
            let Some(body) = change.get("change").filter(|c| c.is_object()) else {
                return Err(error(at(".change"), "missing or not an object"));
            };
            let actions: Vec<String> = match body.get("actions") {
                Some(Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .map(|a| a.as_str().map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or_else(|| error(at(".change.actions"), "must be an array of strings"))?,
                _ => return Err(error(at(".change.actions"), "missing: an array of strings such as [\"create\"]")),
            };
            if mode != "managed" {
                skipped.push(Skipped { address, reason: format!("a {mode} resource: read, not managed") });
                continue;
            }
            if actions == ["delete"] {
                skipped.push(Skipped { address, reason: "deleted by the plan".into() });
                continue;
            }
            let after = match body.get("after") {
                Some(v @ Value::Object(_)) => v,
                _ => return Err(error(at(".change.after"), "must be an object for a resource the plan keeps")),
            };
            match body.get("after_unknown") {
                None | Some(Value::Object(_)) => {}
                Some(_) => return Err(error(at(".change.after_unknown"), "must be an object")),
            }
            let resource = to_rego(change);
            resources.push(Resource {
                address,
                resource_type,
                module_address,
                actions,
                position: i,
                after: to_rego(after),
                resource,
                plan: plan.clone(),
                module_resources: Rego::Null,
                position_facts: Rego::Null,
            });
        }
        index_modules(&mut resources);
        let terraform_version = top.get("terraform_version").and_then(Value::as_str).map(str::to_string);
        Ok(Plan { resources, skipped, terraform_version })
    }
}

/// Gives each resource its module's resources by type, and its ranks, in one pass over the plan.
fn index_modules(resources: &mut [Resource]) {
    let mut by_module: BTreeMap<Option<String>, BTreeMap<String, Vec<Rego>>> = BTreeMap::new();
    for r in resources.iter() {
        let types = by_module.entry(r.module_address.clone()).or_default();
        types.entry(r.resource_type.clone()).or_default().push(r.resource.clone());
    }
    let shared: BTreeMap<Option<String>, Rego> = by_module
        .into_iter()
        .map(|(module, types)| {
            let index: BTreeMap<Rego, Rego> =
                types.into_iter().map(|(t, list)| (Rego::from(t.as_str()), Rego::from(list))).collect();
            (module, Rego::from(index))
        })
        .collect();
    let mut seen_in_module: BTreeMap<String, usize> = BTreeMap::new();
    for (rank, r) in resources.iter_mut().enumerate() {
        let configuration_module = r.module_address.as_deref().map(strip_instance_keys).unwrap_or_default();
        let in_module = seen_in_module.entry(configuration_module).or_insert(0);
        r.position_facts = object([("in_module", Rego::from(*in_module)), ("in_plan", Rego::from(rank))]);
        *in_module += 1;
        r.module_resources = shared.get(&r.module_address).cloned().unwrap_or(Rego::Null);
    }
}

impl Resource {
    /// `module.db.aws_db_instance.this[0]`.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    pub fn module_address(&self) -> Option<&str> {
        self.module_address.as_deref()
    }

    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// The values after apply.
    pub fn after(&self) -> &Rego {
        &self.after
    }

    /// The resource's `resource_changes` entry, as the policy sees it.
    pub fn resource(&self) -> &Rego {
        &self.resource
    }

    /// The address without instance keys: `module.db.aws_db_instance.this`, as the configuration
    /// names it.
    pub fn configuration_address(&self) -> String {
        strip_instance_keys(&self.address)
    }
}

/// Removes `[0]` and `["key"]` instance keys from an address, minding brackets inside quotes.
pub fn strip_instance_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for c in address.chars() {
        if depth > 0 {
            if quoted {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    quoted = false;
                }
            } else if c == '"' {
                quoted = true;
            } else if c == ']' {
                depth -= 1;
            }
            continue;
        }
        if c == '[' {
            depth += 1;
        } else {
            out.push(c);
        }
    }
    out
}

impl Subject for Resource {
    fn group(&self) -> &str {
        super::GROUP
    }

    fn kind(&self) -> &str {
        &self.resource_type
    }

    fn input(&self) -> Rego {
        object([
            ("resource", self.resource.clone()),
            ("plan", self.plan.clone()),
            ("module_resources", self.module_resources.clone()),
            ("position", self.position_facts.clone()),
        ])
    }

    fn input_with(&self, parameters: &Rego) -> Rego {
        object([
            ("resource", self.resource.clone()),
            ("plan", self.plan.clone()),
            ("module_resources", self.module_resources.clone()),
            ("position", self.position_facts.clone()),
            ("parameters", parameters.clone()),
        ])
    }

    fn field(&self, pointer: &str) -> Option<Rego> {
        rego_pointer(&self.after, pointer).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(address: &str, actions: &[&str], after: Value) -> Value {
        json!({"address": address, "mode": "managed", "type": "aws_s3_bucket", "name": "b",
               "change": {"actions": actions, "before": null, "after": after, "after_unknown": {}}})
    }

    #[test]
    fn kept_resources_are_judged_and_deleted_ones_and_data_sources_are_not() {
        let plan = json!({"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": [
            change("aws_s3_bucket.a", &["create"], json!({"bucket": "a"})),
            change("aws_s3_bucket.b", &["delete"], Value::Null),
            change("module.m.aws_s3_bucket.c[\"x]\"]", &["delete", "create"], json!({})),
            {"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document",
             "name": "d", "change": {"actions": ["read"], "after": {}}},
        ]});
        assert!(looks_like_plan(&plan));
        let plan = Plan::from_json(&plan).expect("plan");
        let kept: Vec<&str> = plan.resources.iter().map(Resource::address).collect();
        assert_eq!(kept, ["aws_s3_bucket.a", "module.m.aws_s3_bucket.c[\"x]\"]"]);
        assert_eq!(plan.resources[1].configuration_address(), "module.m.aws_s3_bucket.c");
        assert_eq!(plan.resources[1].position, 2);
        let reasons: Vec<&str> = plan.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons, ["deleted by the plan", "a data resource: read, not managed"]);
        assert_eq!(plan.resources[0].field("/bucket"), Some(Rego::from("a")));
    }

    #[test]
    fn each_resource_knows_its_module_s_resources_and_its_rank() {
        let rc = |address: &str, module: Option<&str>, kind: &str| {
            let mut c = change(address, &["create"], json!({}));
            c["type"] = json!(kind);
            if let Some(m) = module {
                c["module_address"] = json!(m);
            }
            c
        };
        let plan = json!({"format_version": "1.2", "resource_changes": [
            rc("aws_s3_bucket.a", None, "aws_s3_bucket"),
            rc("module.m[0].aws_s3_bucket.b", Some("module.m[0]"), "aws_s3_bucket"),
            rc("module.m[0].aws_s3_bucket_versioning.b", Some("module.m[0]"), "aws_s3_bucket_versioning"),
            rc("module.m[1].aws_s3_bucket.b", Some("module.m[1]"), "aws_s3_bucket"),
        ]});
        let plan = Plan::from_json(&plan).expect("plan");
        let input = |i: usize| serde_json::to_value(plan.resources[i].input()).expect("json");
        let names = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().filter_map(|r| r["address"].as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        assert_eq!(names(&input(1)["module_resources"]["aws_s3_bucket"]), ["module.m[0].aws_s3_bucket.b"]);
        assert_eq!(
            names(&input(1)["module_resources"]["aws_s3_bucket_versioning"]),
            ["module.m[0].aws_s3_bucket_versioning.b"]
        );
        assert_eq!(names(&input(0)["module_resources"]["aws_s3_bucket"]), ["aws_s3_bucket.a"]);
        let ranks: Vec<(u64, u64)> = (0..4)
            .map(|i| {
                let p = &input(i)["position"];
                (p["in_module"].as_u64().expect("rank"), p["in_plan"].as_u64().expect("rank"))
            })
            .collect();
        assert_eq!(ranks, [(0, 0), (0, 1), (1, 2), (2, 3)], "module.m[0] and module.m[1] are one configuration module");
    }

    #[test]
    fn a_malformed_plan_names_the_field() {
        let bad = |v: Value| Plan::from_json(&v).expect_err("malformed").to_string();
        assert_eq!(bad(json!([])), "(document): a Terraform plan is a JSON object");
        assert!(bad(json!({"resource_changes": []})).starts_with("format_version: missing"));
        assert!(bad(json!({"format_version": "2.0"})).contains("not a plan format"));
        let no_actions = json!({"format_version": "1.2", "resource_changes": [
            {"address": "a.b", "mode": "managed", "type": "a", "name": "b", "change": {"after": {}}}]});
        assert_eq!(
            bad(no_actions),
            "resource_changes[0].change.actions: missing: an array of strings such as [\"create\"]"
        );
        let wrong_type = json!({"format_version": "1.2", "resource_changes": [{"address": 3}]});
        assert_eq!(bad(wrong_type), "resource_changes[0].address: missing or not a string");
        let state = json!({"format_version": "1.0", "terraform_version": "1.11.4", "values": {}});
        assert!(looks_like_state(&state) && !looks_like_plan(&state));
    }
}
