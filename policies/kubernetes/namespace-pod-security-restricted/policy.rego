package gatehouse.kubernetes.namespace_pod_security_restricted

# Every Namespace but the exempt ones enforces the configured Pod Security Standard (parameter
# level) or a stricter one, through the Pod Security Admission label.

enforce_label := "pod-security.kubernetes.io/enforce"

label_path := "/metadata/labels/pod-security.kubernetes.io~1enforce"

strictness := {"privileged": 0, "baseline": 1, "restricted": 2}

exempt if {
	names := input.parameters.exemptNamespaces
	is_array(names)
	data.gatehouse.lib.kubernetes.name in names
}

# The label is set to the required level or a stricter one.
strict_enough(value) if strictness[value] >= strictness[input.parameters.level]

violation contains {"msg": msg, "path": label_path} if {
	is_object(input.review.object)
	not has_label(object.get(input.review.object, ["metadata", "labels"], null))
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	msg := sprintf(
		"Namespace %s has no %s label, so pods run there at the cluster's default level: label it %s: %s",
		[quoted(data.gatehouse.lib.kubernetes.name), enforce_label, enforce_label, input.parameters.level],
	)
}

violation contains {"msg": msg, "path": label_path} if {
	value := input.review.object.metadata.labels[enforce_label]
	value != null
	not strict_enough(value)
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	msg := sprintf("Namespace %s %s: set %s to %s", [
		quoted(data.gatehouse.lib.kubernetes.name),
		level_text(value),
		enforce_label,
		input.parameters.level,
	])
}

has_label(labels) if labels[enforce_label] != null

level_text(value) := sprintf("enforces the %q Pod Security Standard, less strict than %q", [value, input.parameters.level]) if {
	strictness[value]
} else := sprintf("sets %s to %s, which is not a Pod Security level", [enforce_label, json.marshal(value)])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
