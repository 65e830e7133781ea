//! The other objects a cross-resource policy may look at, shaped as Gatekeeper's
//! `data.inventory`: `namespace[ns][apiVersion][kind][name]` and `cluster[apiVersion][kind][name]`.

use serde_json::{Map, Value};

use crate::kinds::{group_of, is_cluster_scoped};

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    namespace: Map<String, Value>,
    cluster: Map<String, Value>,
    len: usize,
}

/// The parts of an object that place it in the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
}

impl ObjectKey {
    /// Reads apiVersion, kind, name and namespace; a namespaced object without a namespace takes
    /// `default_namespace`, as `kubectl apply` would. `None` when it is not a Kubernetes object.
    pub fn of(object: &Value, default_namespace: &str) -> Option<ObjectKey> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        if api_version.is_empty() || kind.is_empty() {
            return None;
        }
        let metadata = object.get("metadata");
        let name = metadata
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let namespace = if is_cluster_scoped(group_of(api_version), kind) {
            None
        } else {
            Some(
                metadata
                    .and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(default_namespace)
                    .to_string(),
            )
        };
        Some(ObjectKey {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            name,
            namespace,
        })
    }
}

fn slot<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

impl Inventory {
    pub fn new() -> Self {
        Inventory::default()
    }

    /// Adds an object; returns false (and adds nothing) when it is not a Kubernetes object.
    pub fn add(&mut self, object: &Value, default_namespace: &str) -> bool {
        let Some(key) = ObjectKey::of(object, default_namespace) else {
            return false;
        };
        let mut object = object.clone();
        if let (Some(ns), Some(metadata)) = (
            &key.namespace,
            object.get_mut("metadata").and_then(Value::as_object_mut),
        ) {
            metadata
                .entry("namespace")
                .or_insert_with(|| Value::String(ns.clone()));
        }
        let by_version = match &key.namespace {
            Some(ns) => slot(&mut self.namespace, ns),
            None => &mut self.cluster,
        };
        let by_kind = slot(by_version, &key.api_version);
        let by_name = slot(by_kind, &key.kind);
        by_name.insert(key.name, object);
        self.len += 1;
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `data` document: `{"inventory": {"namespace": ..., "cluster": ...}}`.
    pub fn to_data(&self) -> Value {
        serde_json::json!({"inventory": {"namespace": self.namespace, "cluster": self.cluster}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_filed_by_namespace_version_kind_and_name() {
        let mut inv = Inventory::new();
        assert!(inv.add(&json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "a"}}), "team"));
        assert!(inv.add(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
            "x"
        ));
        assert!(!inv.add(&json!({"just": "data"}), "x"));
        let data = inv.to_data();
        assert_eq!(
            data["inventory"]["namespace"]["team"]["policy/v1"]["PodDisruptionBudget"]["a"]["metadata"]
                ["namespace"],
            "team"
        );
        assert_eq!(
            data["inventory"]["cluster"]["v1"]["Namespace"]["team"]["kind"],
            "Namespace"
        );
        assert_eq!(inv.len(), 2);
    }
}
