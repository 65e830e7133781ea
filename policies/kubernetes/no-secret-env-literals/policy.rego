package gatehouse.kubernetes.no_secret_env_literals

# An env entry whose name matches namePattern and that carries a literal value, in any container
# list of any workload kind. valueFrom (secretKeyRef...) is the way to pass such a variable.

# Values that point at the secret rather than hold it: an absolute file path of two or more
# segments (/var/run/secrets/...), or nothing but $(VAR) references to other variables.
file_path_value := `^/[A-Za-z0-9._@-]+(/[A-Za-z0-9._@-]+)+/?$`

references_only_value := `^(\$\([A-Za-z_][A-Za-z0-9_.-]*\))+$`

literal(value) if {
	is_string(value)
	value != ""
	not regex.match(file_path_value, value)
	not regex.match(references_only_value, value)
}

# A number or a boolean (which the API server refuses for a value) is a literal too.
literal(value) if is_number(value)

literal(value) if is_boolean(value)

# A variable naming the file that holds the secret.
file_reference_name(name) if endswith(upper(name), "_FILE")

file_reference_name(name) if endswith(upper(name), "_PATH")

violation contains {"msg": msg, "path": path} if {
	pod_spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	containers := pod_spec[field]
	is_array(containers)
	some i, container in containers
	env := container.env
	is_array(env)
	some j, entry in env
	value := entry.value
	not value in {null, ""}
	name := entry.name
	is_string(name)
	regex.match(input.parameters.namePattern, name)
	literal(value)
	not file_reference_name(name)
	not data.gatehouse.lib.kubernetes.deleting
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "env", format_int(j, 10), "value"])
	msg := sprintf(
		"%s of %s %s sets %s to a literal value: read it from a Secret with valueFrom.secretKeyRef instead, and rotate the committed value",
		[
			data.gatehouse.lib.kubernetes.container_label(field, container),
			data.gatehouse.lib.kubernetes.kind,
			quoted(data.gatehouse.lib.kubernetes.name),
			name,
		],
	)
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
