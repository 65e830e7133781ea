# Helpers over `input.review` shared by the Kubernetes policies. Policies reference them by
# full path (data.gatehouse.lib.kubernetes.x): import aliases cost about 10% per evaluation.
package gatehouse.lib.kubernetes

# The object under review (oldObject for a DELETE).
resource := input.review.object if input.review.object != null

resource := input.review.oldObject if {
	not input.review.object
	input.review.oldObject
}

kind := input.review.kind.kind

name := n if {
	n := resource.metadata.name
} else := n if {
	n := resource.metadata.generateName
} else := ""

# The namespace the object lands in, as the API server would place it.
namespace := ns if {
	ns := input.review.namespace
	ns != ""
} else := ns if {
	ns := resource.metadata.namespace
	ns != ""
} else := "default"

template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}

# Kinds that run pods, each keeping its pod spec at its own place.
workload_kinds := template_kinds | {"Pod", "CronJob"}

# JSON pointer to the pod spec of any workload kind, and the spec itself.
pod_spec_path := "/spec" if kind == "Pod"

pod_spec_path := "/spec/template/spec" if template_kinds[kind]

pod_spec_path := "/spec/jobTemplate/spec/template/spec" if kind == "CronJob"

pod_spec := resource.spec if kind == "Pod"

pod_spec := resource.spec.template.spec if template_kinds[kind]

pod_spec := resource.spec.jobTemplate.spec.template.spec if kind == "CronJob"

# Labels of the pods the workload runs.
pod_labels := object.get(resource, ["metadata", "labels"], {}) if kind == "Pod"

pod_labels := object.get(resource, ["spec", "template", "metadata", "labels"], {}) if template_kinds[kind]

pod_labels := object.get(resource, ["spec", "jobTemplate", "spec", "template", "metadata", "labels"], {}) if kind == "CronJob"

# Every container list of a pod spec. Ephemeral containers take no resources or probes.
container_fields := ["containers", "initContainers", "ephemeralContainers"]

# Pointer to a container, built only once a violation is certain (sprintf is the costly part).
container_path(field, index) := concat("/", [pod_spec_path, field, format_int(index, 10)])

# A readable name for a container in messages.
container_label(field, container) := sprintf("%s %q", [trim_suffix(field, "s"), container.name]) if field != "containers"

container_label("containers", container) := sprintf("container %q", [container.name])

# HorizontalPodAutoscalers in the inventory that scale this object.
hpa_versions := ["autoscaling/v2", "autoscaling/v1", "autoscaling/v2beta2"]

targeting_hpas contains hpa if {
	some version in hpa_versions
	some hpa in data.inventory.namespace[namespace][version].HorizontalPodAutoscaler
	hpa.spec.scaleTargetRef.kind == kind
	hpa.spec.scaleTargetRef.name == name
}

# The fewest replicas the workload runs: spec.replicas (1 when unset), or the highest
# minReplicas of an HPA that scales it (an HPA's minReplicas defaults to 1).
declared_replicas := object.get(resource, ["spec", "replicas"], 1)

hpa_min_replicas := max({m | some hpa in targeting_hpas; m := object.get(hpa, ["spec", "minReplicas"], 1)})

min_replicas := hpa_min_replicas if count(targeting_hpas) > 0

min_replicas := declared_replicas if count(targeting_hpas) == 0

# Label selector semantics of metav1.LabelSelector: every matchLabels pair and every
# matchExpressions requirement must hold. An empty selector matches everything.
selector_matches(selector, labels) if {
	every key, value in object.get(selector, "matchLabels", {}) {
		labels[key] == value
	}
	every requirement in object.get(selector, "matchExpressions", []) {
		requirement_holds(requirement, labels)
	}
}

requirement_holds(r, labels) if {
	r.operator == "In"
	labels[r.key] in r.values
}

requirement_holds(r, labels) if {
	r.operator == "NotIn"
	not labels[r.key] in r.values
}

requirement_holds(r, labels) if {
	r.operator == "Exists"
	labels[r.key]
}

requirement_holds(r, labels) if {
	r.operator == "DoesNotExist"
	not labels[r.key]
}
