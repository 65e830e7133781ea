package gatehouse.kubernetes.require_ownership_labels

# Workloads carry the recommended labels and an owner label, and their pods carry the name
# label, so that metrics, logs and alerts are attributable to an application and a team.

# A DELETE, an update to a workload already being deleted, and a workload a controller creates
# (judged through its owner) are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
	not controller_owned
}

controller_owned if {
	refs := input.review.object.metadata.ownerReferences
	is_array(refs)
	some ref in refs
	ref.controller == true
}

# A label is set when its value is a non-empty string.
has_label(labels, key) if {
	value := labels[key]
	is_string(value)
	value != ""
}

labels := l if {
	l := input.review.object.metadata.labels
	is_object(l)
} else := {}

missing_required := [key |
	checked
	keys := input.parameters.requiredLabels
	is_array(keys)
	some key in keys
	is_string(key)
	not has_label(labels, key)
]

has_owner if {
	keys := input.parameters.ownerLabels
	is_array(keys)
	some key in keys
	has_label(labels, key)
}

# Where the pod template keeps its labels. A Rollout with spec.workloadRef has no template.
template_path := "/spec/jobTemplate/spec/template/metadata/labels" if {
	input.review.kind.kind == "CronJob"
} else := "/spec/template/metadata/labels" if {
	input.review.kind.kind in {"Deployment", "StatefulSet", "DaemonSet", "Job"}
} else := "/spec/template/metadata/labels" if {
	input.review.kind.kind == "Rollout"
	is_object(input.review.object.spec.template)
}

template_labels := l if {
	input.review.kind.kind == "CronJob"
	l := input.review.object.spec.jobTemplate.spec.template.metadata.labels
	is_object(l)
} else := l if {
	input.review.kind.kind != "CronJob"
	l := input.review.object.spec.template.metadata.labels
	is_object(l)
} else := {}

missing_template := [key |
	checked
	template_path
	keys := input.parameters.podTemplateLabels
	is_array(keys)
	some key in keys
	is_string(key)
	not has_label(template_labels, key)
]

violation contains {"msg": msg, "path": "/metadata/labels"} if {
	count(missing_required) > 0
	msg := sprintf(
		"%s %s lacks the label%s %s in metadata.labels: add %s so that its metrics, logs and alerts are attributable to the application",
		[
			input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), plural(missing_required),
			concat(", ", missing_required), pronoun(missing_required),
		],
	)
}

violation contains {"msg": msg, "path": "/metadata/labels"} if {
	checked
	owner_labels := input.parameters.ownerLabels
	is_array(owner_labels)
	count(owner_labels) > 0
	not has_owner
	msg := sprintf(
		"%s %s names no owner in metadata.labels (one of %s): add the owning team, so that its alerts are routed to that team and escalated by its policy",
		[input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), concat(", ", owner_labels)],
	)
}

violation contains {"msg": msg, "path": template_path} if {
	count(missing_template) > 0
	msg := sprintf(
		"the pod template of %s %s lacks the label%s %s: add %s so that the metrics and logs of its pods are attributable to the application",
		[
			input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), plural(missing_template),
			concat(", ", missing_template), pronoun(missing_template),
		],
	)
}

# Message fragments.

plural(keys) := "s" if count(keys) > 1

plural(keys) := "" if count(keys) == 1

pronoun(keys) := "them" if count(keys) > 1

pronoun(keys) := "it" if count(keys) == 1

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
