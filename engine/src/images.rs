//! The container images an object runs: every container, init container and ephemeral
//! container of its pod spec, wherever its kind keeps one (the same places the policies'
//! `data.gatehouse.lib.kubernetes.pod_spec` reads).

use serde_json::Value;

/// Where a kind keeps its pod spec, as a JSON pointer; `None` for a kind that runs no pods.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" | "Rollout" => {
            Some("/spec/template/spec")
        }
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// One image an object runs, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// The JSON pointer of the `image` field, `/spec/template/spec/initContainers/0/image`.
    pub pointer: String,
    pub image: String,
}

/// Every image of `object` (of `kind`), in container-list order; a container without a string
/// image is left to the schema-checking policies.
pub fn images_of(kind: &str, object: &Value) -> Vec<ImageUse> {
    let Some(spec_pointer) = pod_spec_pointer(kind) else { return Vec::new() };
    let Some(spec) = object.pointer(spec_pointer) else { return Vec::new() };
    let mut uses = Vec::new();
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(containers) = spec.get(field).and_then(Value::as_array) else { continue };
        for (i, container) in containers.iter().enumerate() {
            if let Some(image) = container.get("image").and_then(Value::as_str) {
                uses.push(ImageUse { pointer: format!("{spec_pointer}/{field}/{i}/image"), image: image.to_string() });
            }
        }
    }
    uses
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_container_list_of_every_workload_kind_is_read() {
        let spec = json!({"containers": [{"name": "a", "image": "r/a:1"}, {"name": "b"}],
            "initContainers": [{"name": "i", "image": "r/i:1"}], "ephemeralContainers": [{"name": "e", "image": "r/e:1"}]});
        let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}});
        let uses = images_of("CronJob", &cron);
        let pointers: Vec<&str> = uses.iter().map(|u| u.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/spec/jobTemplate/spec/template/spec/containers/0/image",
                "/spec/jobTemplate/spec/template/spec/initContainers/0/image",
                "/spec/jobTemplate/spec/template/spec/ephemeralContainers/0/image"
            ]
        );
        assert_eq!(images_of("Pod", &json!({"spec": spec}))[1].image, "r/i:1");
        assert_eq!(images_of("Deployment", &json!({"spec": {"template": {"spec": spec}}})).len(), 3);
        assert!(images_of("ConfigMap", &json!({"data": {}})).is_empty());
        assert!(images_of("Deployment", &json!({"spec": {"template": {"spec": {"containers": "x"}}}})).is_empty());
    }
}
