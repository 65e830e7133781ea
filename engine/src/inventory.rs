//! The other objects a cross-resource policy may look at, shaped as Gatekeeper's
//! `data.inventory`: `namespace[ns][apiVersion][kind][name]` and `cluster[apiVersion][kind][name]`.
//!
//! Beside it, `data.inventory_index` keeps cross-resource lookups proportional to what matches
//! rather than to the size of a namespace (Checkov's cross-resource checks are quadratic; ours
//! must not be). Per namespace, apiVersion and kind of an object that selects pods:
//! - `selectorLabels[key][value][name]`: the objects whose pod selector requires `key=value`
//!   (`matchLabels` of a PodDisruptionBudget or NetworkPolicy, the selector of a Service);
//! - `unkeyedSelectors[name]`: those whose selector requires no label (empty, or expressions
//!   only), to be checked against every workload;
//!
//! and per namespace `scaleTargets[kind][name]["apiVersion/kind/name"]` = `{apiVersion, kind, name}`
//! of the HorizontalPodAutoscalers and KEDA ScaledObjects that scale that workload.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::kinds::{group_of, is_cluster_scoped};
use crate::review::{Review, key, object, rego_pointer, to_rego};

/// apiVersion -> kind -> name -> object, as regorus values (converted once, shared by reference).
type Versions = BTreeMap<String, BTreeMap<String, BTreeMap<String, regorus::Value>>>;

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    namespace: BTreeMap<String, Versions>,
    cluster: Versions,
    index: Map<String, Value>,
    len: usize,
}

/// Where a kind keeps its pod selector, and whether it is a metav1.LabelSelector
/// (`matchLabels`) or a plain label map (a Service's).
fn pod_selector(kind: &str) -> Option<(&'static str, &'static str, bool)> {
    match kind {
        "PodDisruptionBudget" => Some(("spec", "selector", true)),
        "NetworkPolicy" => Some(("spec", "podSelector", true)),
        "Service" => Some(("spec", "selector", false)),
        _ => None,
    }
}

fn is_scaler(api_version: &str, kind: &str) -> bool {
    matches!(kind, "HorizontalPodAutoscaler") && api_version.starts_with("autoscaling/")
        || (kind == "ScaledObject" && api_version.starts_with("keda.sh/"))
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
    pub fn of_rego(object: &regorus::Value, default_namespace: &str) -> Option<ObjectKey> {
        let text = |pointer: &str| match rego_pointer(object, pointer) {
            Some(regorus::Value::String(s)) if !s.is_empty() => Some(s.to_string()),
            _ => None,
        };
        let api_version = text("/apiVersion")?;
        let kind = text("/kind")?;
        let name = text("/metadata/name").or_else(|| text("/metadata/generateName")).unwrap_or_default();
        let namespace = if is_cluster_scoped(group_of(&api_version), &kind) {
            None
        } else {
            Some(text("/metadata/namespace").unwrap_or_else(|| default_namespace.to_string()))
        };
        Some(ObjectKey { api_version, kind, name, namespace })
    }
}

fn slot<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
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
        self.add_rego(to_rego(object), default_namespace)
    }

    /// Adds the object of a review, sharing the value the review already converted.
    pub fn add_review(&mut self, review: &Review, default_namespace: &str) -> bool {
        review.object_value().is_some_and(|object| self.add_rego(object, default_namespace))
    }

    /// Adds an object already converted to a regorus value.
    pub fn add_rego(&mut self, object: regorus::Value, default_namespace: &str) -> bool {
        let Some(key) = ObjectKey::of_rego(&object, default_namespace) else {
            return false;
        };
        if let Some(ns) = &key.namespace {
            self.index_object(ns, &key, &object);
        }
        let converted = match &key.namespace {
            Some(ns) if rego_pointer(&object, "/metadata/namespace").is_none() => with_namespace(object, ns),
            _ => object,
        };
        let versions = match &key.namespace {
            Some(ns) => self.namespace.entry(ns.clone()).or_default(),
            None => &mut self.cluster,
        };
        versions.entry(key.api_version).or_default().entry(key.kind).or_default().insert(key.name, converted);
        self.len += 1;
        true
    }

    fn index_object(&mut self, ns: &str, key: &ObjectKey, object: &regorus::Value) {
        let mark = |map: &mut Map<String, Value>, name: &str| {
            map.insert(name.to_string(), Value::Bool(true));
        };
        if let Some((parent, field, label_selector)) = pod_selector(&key.kind) {
            let at =
                if label_selector { format!("/{parent}/{field}/matchLabels") } else { format!("/{parent}/{field}") };
            let pairs = string_map_at(object, &at);
            let by_kind = slot(slot(slot(&mut self.index, ns), &key.api_version), &key.kind);
            if pairs.is_empty() {
                mark(slot(by_kind, "unkeyedSelectors"), &key.name);
            } else {
                // One required pair is enough to find the candidates; the policy then checks the
                // whole selector.
                for (k, v) in pairs {
                    mark(slot(slot(slot(by_kind, "selectorLabels"), &k), &v), &key.name);
                }
            }
        }
        if is_scaler(&key.api_version, &key.kind) {
            let text = |pointer: &str| match rego_pointer(object, pointer) {
                Some(regorus::Value::String(s)) => Some(s.to_string()),
                _ => None,
            };
            let target_kind = text("/spec/scaleTargetRef/kind").unwrap_or_else(|| "Deployment".to_string());
            let target_kind = target_kind.as_str();
            if let Some(target_name) = text("/spec/scaleTargetRef/name").as_deref() {
                let scalers = slot(slot(slot(slot(&mut self.index, ns), "scaleTargets"), target_kind), target_name);
                scalers.insert(
                    format!("{}/{}/{}", key.api_version, key.kind, key.name),
                    serde_json::json!({"apiVersion": key.api_version, "kind": key.kind, "name": key.name}),
                );
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The labels of every Namespace object in the inventory, by name.
    pub fn namespace_labels(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let Some(namespaces) = self.cluster.get("v1").and_then(|kinds| kinds.get("Namespace")) else {
            return BTreeMap::new();
        };
        namespaces.iter().map(|(name, object)| (name.clone(), labels_of(object))).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `data` document: `{"inventory": {"namespace": ..., "cluster": ...}, "inventory_index": {"namespace": ...}}`.
    /// Objects are shared, not copied.
    pub fn to_data(&self) -> regorus::Value {
        let namespaces: BTreeMap<_, _> =
            self.namespace.iter().map(|(ns, versions)| (key(ns), versions_value(versions))).collect();
        let inventory =
            object([("namespace", regorus::Value::from(namespaces)), ("cluster", versions_value(&self.cluster))]);
        let index = object([("namespace", to_rego(&Value::Object(self.index.clone())))]);
        object([("inventory", inventory), ("inventory_index", index)])
    }
}

/// `metadata.labels` of an object, keeping the string values.
pub fn labels_of(object: &regorus::Value) -> BTreeMap<String, String> {
    string_map_at(object, "/metadata/labels")
}

/// The string-to-string entries of the map at `pointer` (labels, a selector's matchLabels);
/// anything else there counts as no entries.
fn string_map_at(object: &regorus::Value, pointer: &str) -> BTreeMap<String, String> {
    match rego_pointer(object, pointer) {
        Some(regorus::Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| match (k, v) {
                (regorus::Value::String(k), regorus::Value::String(v)) => Some((k.to_string(), v.to_string())),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn versions_value(versions: &Versions) -> regorus::Value {
    let by_version = versions.iter().map(|(version, kinds)| {
        let by_kind = kinds.iter().map(|(kind, names)| {
            let by_name = names.iter().map(|(name, o)| (key(name), o.clone())).collect::<BTreeMap<_, _>>();
            (key(kind), regorus::Value::from(by_name))
        });
        (key(version), regorus::Value::from(by_kind.collect::<BTreeMap<_, _>>()))
    });
    regorus::Value::from(by_version.collect::<BTreeMap<_, _>>())
}

/// The object with `metadata.namespace` set, as the API server sets it on a namespaced object.
fn with_namespace(mut object: regorus::Value, ns: &str) -> regorus::Value {
    let metadata_key = key("metadata");
    let mut metadata = object[&metadata_key].clone();
    if metadata == regorus::Value::Undefined || metadata.as_object().is_err() {
        metadata = regorus::Value::new_object();
    }
    if let Ok(m) = metadata.as_object_mut() {
        m.insert(key("namespace"), key(ns));
    }
    if let Ok(o) = object.as_object_mut() {
        o.insert(metadata_key, metadata);
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_filed_by_namespace_version_kind_and_name() {
        let mut inv = Inventory::new();
        assert!(inv.add(
            &json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "a"}}),
            "team"
        ));
        assert!(inv.add(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}), "x"));
        assert!(!inv.add(&json!({"just": "data"}), "x"));
        let data = serde_json::to_value(inv.to_data()).expect("JSON");
        assert_eq!(
            data["inventory"]["namespace"]["team"]["policy/v1"]["PodDisruptionBudget"]["a"]["metadata"]["namespace"],
            "team"
        );
        assert_eq!(data["inventory"]["cluster"]["v1"]["Namespace"]["team"]["kind"], "Namespace");
        assert_eq!(inv.len(), 2);
    }

    #[test]
    fn selectors_and_scale_targets_are_indexed() {
        let mut inv = Inventory::new();
        let pdb = |name: &str, selector: Value| json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": "shop"}, "spec": {"selector": selector}});
        inv.add(&pdb("web", json!({"matchLabels": {"app": "web", "tier": "front"}})), "default");
        inv.add(&pdb("all", json!({})), "default");
        inv.add(&json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}}), "default");
        inv.add(&json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}), "default");
        let data = serde_json::to_value(inv.to_data()).expect("JSON");
        let index = &data["inventory_index"]["namespace"]["shop"];
        let pdbs = &index["policy/v1"]["PodDisruptionBudget"];
        assert_eq!(pdbs["selectorLabels"]["app"]["web"], json!({"web": true}));
        assert_eq!(pdbs["selectorLabels"]["tier"]["front"], json!({"web": true}));
        assert_eq!(pdbs["unkeyedSelectors"], json!({"all": true}));
        assert_eq!(index["v1"]["Service"]["selectorLabels"]["app"]["web"], json!({"web": true}));
        assert_eq!(
            index["scaleTargets"]["Deployment"]["web"],
            json!({"autoscaling/v2/HorizontalPodAutoscaler/h": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "h"}})
        );
    }
}
