# Helpers over `input.review` shared by the Kubernetes policies. Policies reference them by
# full path (data.gatehouse.lib.kubernetes.x): import aliases cost about 10% per evaluation.
#
# Two regorus facts shape this file: each rule-to-rule indirection costs about 10 us per
# evaluation, so the hot helpers read `input` directly; and iterating over null or a string
# (`some x in null`) is an evaluation error in regorus where OPA gives undefined, so every
# helper that iterates over user data checks its type first.
package gatehouse.lib.kubernetes

# The object under review; on a DELETE the API server sends `object: null` and the old object.
resource := input.review.object if is_object(input.review.object)

resource := input.review.oldObject if {
	not is_object(input.review.object)
	is_object(input.review.oldObject)
}

kind := input.review.kind.kind

name := n if {
	n := input.review.object.metadata.name
	n != null
} else := n if {
	n := input.review.object.metadata.generateName
	n != null
} else := ""

# The namespace the object lands in, as the API server would place it.
namespace := ns if {
	ns := input.review.namespace
	is_string(ns)
	ns != ""
} else := ns if {
	ns := input.review.object.metadata.namespace
	is_string(ns)
	ns != ""
} else := "default"

# The object is on its way out: policies that only judge what gets created or changed skip it.
deleting if input.review.operation == "DELETE"

deleting if input.review.object.metadata.deletionTimestamp

# Kinds whose pod template is at spec.template. An Argo Rollout is one too, unless it takes its
# template from a Deployment (spec.workloadRef): then it has no spec.template, and the
# Deployment is judged instead.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController", "Rollout"}

# Kinds that run pods, each keeping its pod spec at its own place.
workload_kinds := template_kinds | {"Pod", "CronJob"}

# The pod spec of any workload kind, and a JSON pointer to it.
pod_spec := input.review.object.spec if input.review.kind.kind == "Pod"

pod_spec := input.review.object.spec.template.spec if template_kinds[input.review.kind.kind]

pod_spec := input.review.object.spec.jobTemplate.spec.template.spec if input.review.kind.kind == "CronJob"

pod_spec_path := "/spec" if input.review.kind.kind == "Pod"

pod_spec_path := "/spec/template/spec" if template_kinds[input.review.kind.kind]

pod_spec_path := "/spec/jobTemplate/spec/template/spec" if input.review.kind.kind == "CronJob"

# Labels of the pods the workload runs; anything but a label map counts as no labels.
pod_labels := labels if {
	labels := pod_labels_raw
	is_object(labels)
} else := {}

pod_labels_raw := input.review.object.metadata.labels if input.review.kind.kind == "Pod"

pod_labels_raw := input.review.object.spec.template.metadata.labels if template_kinds[input.review.kind.kind]

pod_labels_raw := input.review.object.spec.jobTemplate.spec.template.metadata.labels if input.review.kind.kind == "CronJob"

# The container lists of a pod spec are containers, initContainers and ephemeralContainers
# (ephemeral containers take no resources or probes). Iterate them as
#   spec := data.gatehouse.lib.kubernetes.pod_spec
#   some field in ["containers", "initContainers", "ephemeralContainers"]
#   containers := spec[field]; is_array(containers); some i, c in containers
# A YAML `initContainers:` with nothing after it is null, and the inline guard is the cheapest
# (a helper rule that filters the lists costs about 15 us more per evaluation). regorus resolves
# a `data.` reference again on every iteration of the loop around it: bound once before the
# loop, with the field names written out, the walk costs about 25 us less per policy.

# Pointer to a container, built only once a violation is certain (string work is the costly
# part of a rule).
container_path(field, index) := concat("/", [pod_spec_path, field, format_int(index, 10)])

# A readable name for a container in messages, whatever its name's type.
container_label(field, container) := sprintf("%s %s", [container_noun[field], quoted_name(container)])

container_noun := {"containers": "container", "initContainers": "initContainer", "ephemeralContainers": "ephemeralContainer"}

quoted_name(container) := sprintf("%q", [container.name]) if is_string(container.name)

quoted_name(container) := sprintf("%v", [object.get(container, "name", "<unnamed>")]) if not is_string(container.name)

# HorizontalPodAutoscalers in the inventory that scale this object, found through the
# inventory index (never by scanning every HPA of the namespace).
targeting_hpas contains hpa if {
	targets := data.inventory_index.namespace[namespace].scaleTargets[input.review.kind.kind][name]
	is_object(targets)
	some ref in targets
	ref.kind == "HorizontalPodAutoscaler"
	hpa := data.inventory.namespace[namespace][ref.apiVersion].HorizontalPodAutoscaler[ref.name]
}

# Without an index (unit tests that build data.inventory by hand) the HPAs are scanned. The
# engine always provides the index.
targeting_hpas contains hpa if {
	not data.inventory_index
	some version in ["autoscaling/v2", "autoscaling/v1", "autoscaling/v2beta2"]
	hpas := data.inventory.namespace[namespace][version].HorizontalPodAutoscaler
	is_object(hpas)
	some hpa in hpas
	hpa.spec.scaleTargetRef.kind == input.review.kind.kind
	hpa.spec.scaleTargetRef.name == name
}

# The replicas the workload declares: spec.replicas, 1 when unset or null (the API default).
declared_replicas := r if {
	r := input.review.object.spec.replicas
	r != null
} else := 1

# The fewest replicas the workload runs: the highest minReplicas of an HPA that scales it (an
# HPA's minReplicas defaults to 1), else spec.replicas. Not a number when the object says so.
hpa_min_replicas := max({m |
	some hpa in targeting_hpas
	m := object.get(hpa, ["spec", "minReplicas"], 1)
	is_number(m)
})

min_replicas := hpa_min_replicas if count(targeting_hpas) > 0

min_replicas := declared_replicas if count(targeting_hpas) == 0

# Names of the objects of `api_version`/`kind` in the workload's namespace whose pod selector may
# select its pods: those requiring one of its labels and those requiring none, from the inventory
# index. Callers check each candidate's whole selector with selector_matches. Without an index
# (hand-built unit-test data) every object of the kind is a candidate.
selector_candidates(api_version, selector_kind) := keyed | unkeyed if {
	index := data.inventory_index.namespace[namespace][api_version][selector_kind]
	keyed := {n |
		some key, value in pod_labels
		some n, _ in index.selectorLabels[key][value]
	}
	unkeyed := {n | some n, _ in index.unkeyedSelectors}
} else := all if {
	not data.inventory_index
	objects := data.inventory.namespace[namespace][api_version][selector_kind]
	is_object(objects)
	all := {n | some n, _ in objects}
} else := set()

# metav1.LabelSelector semantics: every matchLabels pair and every matchExpressions requirement
# holds. An empty selector matches everything; null fields count as empty. A malformed selector
# (one the API server would refuse) matches nothing.
selector_matches(selector, labels) if {
	is_object(selector)
	match_labels := object.get(selector, "matchLabels", {})
	match_expressions := object.get(selector, "matchExpressions", [])
	every key, value in object_or_empty(match_labels) {
		labels[key] == value
	}
	every requirement in array_or_empty(match_expressions) {
		requirement_holds(requirement, labels)
	}
	is_object_or_null(match_labels)
	is_array_or_null(match_expressions)
}

object_or_empty(x) := x if is_object(x)

object_or_empty(x) := {} if not is_object(x)

array_or_empty(x) := x if is_array(x)

array_or_empty(x) := [] if not is_array(x)

is_object_or_null(x) if is_object(x)

is_object_or_null(x) if x == null

is_array_or_null(x) if is_array(x)

is_array_or_null(x) if x == null

requirement_holds(r, labels) if {
	r.operator == "In"
	is_array(r.values)
	labels[r.key] in r.values
}

requirement_holds(r, labels) if {
	r.operator == "NotIn"
	is_array(r.values)
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
