package gatehouse.kubernetes.require_default_deny_networkpolicy

# A namespace that runs workloads has a default-deny NetworkPolicy (networking.k8s.io/v1) for
# both directions: a policy that selects every pod of the namespace, applies to the direction,
# and allows nothing in it. One policy may cover both directions, or two may share them. The
# policies come from data.inventory, looked up in the workload's own namespace only.

directions := {"Ingress", "Egress"}

rule_field := {"Ingress": "ingress", "Egress": "egress"}

# The namespaces left alone (parameter exemptNamespaces; the engine passes its default).
exempt if {
	exempt_namespaces := input.parameters.exemptNamespaces
	is_array(exempt_namespaces)
	data.gatehouse.lib.kubernetes.namespace in exempt_namespaces
}

# An absent or null field, or an empty list, counts as unset (as the API server reads it).
unset(obj, field) if object.get(obj, field, null) in {null, []}

# A label selector that selects every pod: no matchLabels and no matchExpressions. The API
# server reads an absent or null podSelector as the empty one.
selects_all_pods(spec) if object.get(spec, "podSelector", null) == null

selects_all_pods(spec) if {
	selector := spec.podSelector
	is_object(selector)
	object.get(selector, "matchLabels", null) in {null, {}}
	unset(selector, "matchExpressions")
}

# The directions a policy applies to. Without policyTypes the API server defaults them to
# Ingress, plus Egress when the policy has egress rules.
policy_types(spec) := {t | some t in spec.policyTypes} if {
	is_array(spec.policyTypes)
	count(spec.policyTypes) > 0
}

policy_types(spec) := {"Ingress"} if {
	unset(spec, "policyTypes")
	unset(spec, "egress")
}

policy_types(spec) := {"Ingress", "Egress"} if {
	unset(spec, "policyTypes")
	not unset(spec, "egress")
}

# The directions in which every pod of the namespace has its traffic denied by default: some
# policy selects all pods, applies to the direction, and has no rule allowing anything in it.
# Only policies whose podSelector requires no label can select all pods: the inventory index
# lists them, so the cost does not grow with the namespace's other policies.
denied contains direction if {
	ns := data.gatehouse.lib.kubernetes.namespace
	policies := data.inventory.namespace[ns]["networking.k8s.io/v1"].NetworkPolicy
	some name in candidates(ns)
	spec := policies[name].spec
	is_object(spec)
	selects_all_pods(spec)
	some direction in policy_types(spec)
	unset(spec, rule_field[direction])
}

candidates(ns) := names if {
	index := data.inventory_index.namespace[ns]["networking.k8s.io/v1"].NetworkPolicy.unkeyedSelectors
	names := {name | some name, _ in index}
} else := names if {
	# Without an index (hand-built unit-test data) every policy is a candidate.
	not data.inventory_index
	policies := data.inventory.namespace[ns]["networking.k8s.io/v1"].NetworkPolicy
	is_object(policies)
	names := {name | some name, _ in policies}
}

violation contains {"msg": msg, "path": "/metadata/namespace"} if {
	missing := directions - denied
	count(missing) > 0
	not exempt
	ns := data.gatehouse.lib.kubernetes.namespace
	ordered := [d | some d in ["Ingress", "Egress"]; d in missing]
	names := concat(" and ", ordered)
	types := concat(", ", ordered)
	msg := sprintf(
		"namespace %q has no default-deny NetworkPolicy for %s traffic: add one with podSelector: {}, policyTypes [%s] and no rules, then allow-list the traffic %s %q needs",
		[ns, names, types, data.gatehouse.lib.kubernetes.kind, data.gatehouse.lib.kubernetes.name],
	)
}
