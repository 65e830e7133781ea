package gatehouse.kubernetes.no_rbac_wildcards

# A "*" in a rule's verbs, resources or apiGroups, in a Role or ClusterRole that is not the API
# server's own, one of the allowed ClusterRoles, or an aggregated ClusterRole.

granted := {"verbs": "every verb", "resources": "every resource", "apiGroups": "every API group"}

nouns := {"verbs": "verbs", "resources": "resources", "apiGroups": "API groups"}

# The API server's bootstrap roles (system:controller:..., system:node...).
exempt if {
	name := input.review.object.metadata.name
	is_string(name)
	startswith(name, "system:")
}

exempt if {
	input.review.kind.kind == "ClusterRole"
	allowed := input.parameters.allowedRoles
	is_array(allowed)
	input.review.object.metadata.name in allowed
}

# An aggregated ClusterRole: the controller manager writes its rules from the ClusterRoles its
# aggregationRule selects.
exempt if {
	input.review.kind.kind == "ClusterRole"
	object.get(input.review.object, "aggregationRule", null) != null
}

violation contains {"msg": msg, "path": path} if {
	rules := input.review.object.rules
	is_array(rules)
	some i, rule in rules
	some field, what in granted
	values := rule[field]
	is_array(values)
	"*" in values
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	path := sprintf("/rules/%d/%s", [i, field])
	msg := sprintf(
		"%s %s grants %s in rules[%d] (\"*\" in %s): list the %s the subjects need instead",
		[input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), what, i, field, nouns[field]],
	)
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
