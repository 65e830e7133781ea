package gatehouse.kubernetes.namespace_environment_label

# Every Namespace but the exempt ones names its environment in a label, with a known value.

exempt if {
	names := input.parameters.exemptNamespaces
	is_array(names)
	data.gatehouse.lib.kubernetes.name in names
}

# The label's value; a missing label, a null one or a non-string (which the API server refuses)
# counts as no label.
label_value := v if {
	v := input.review.object.metadata.labels[input.parameters.environmentLabel]
	is_string(v)
}

known(value) if {
	environments := input.parameters.environments
	is_array(environments)
	value in environments
}

violation contains {"msg": msg, "path": label_path} if {
	is_object(input.review.object)
	not label_value
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	msg := sprintf(
		"Namespace %s has no %s label: label it with its environment, one of %s",
		[quoted(data.gatehouse.lib.kubernetes.name), input.parameters.environmentLabel, environments_text],
	)
}

violation contains {"msg": msg, "path": label_path} if {
	value := label_value
	not known(value)
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	msg := sprintf(
		"Namespace %s has %s label %q, which is not a known environment: use one of %s",
		[quoted(data.gatehouse.lib.kubernetes.name), input.parameters.environmentLabel, value, environments_text],
	)
}

# Message and path fragments, computed only for a violation.

# A JSON pointer segment for a label key.
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

label_path := concat("/", ["/metadata/labels", escape(input.parameters.environmentLabel)])

environments_text := concat(", ", [sprintf("%q", [e]) | some e in environments; is_string(e)]) if {
	environments := input.parameters.environments
	is_array(environments)
	count(environments) > 0
} else := "(none configured)"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
