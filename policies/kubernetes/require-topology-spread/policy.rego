package gatehouse.kubernetes.require_topology_spread

# A Deployment or StatefulSet that runs two or more replicas spreads its pods over every key of
# input.parameters.topologyKeys (node and zone by default), with a topologySpreadConstraint or a
# podAntiAffinity term on that key that selects the workload's own pods. The replicas come from
# spec.replicas or from an HPA that scales the workload (lib min_replicas, inventory lookup in
# the workload's own namespace).

# The fewest replicas the workload runs, when that is two or more.
replicas := n if {
	not data.gatehouse.lib.kubernetes.deleting
	n := data.gatehouse.lib.kubernetes.min_replicas
	is_number(n)
	n >= 2
}

pod_spec := spec if {
	spec := input.review.object.spec.template.spec
	is_object(spec)
} else := {}

# The scheduling rules of the pod template that name a topology key: topologySpreadConstraints,
# and the required and preferred podAntiAffinity terms (the term of a preferred one).
rules contains rule if {
	constraints := pod_spec.topologySpreadConstraints
	is_array(constraints)
	some rule in constraints
	is_object(rule)
}

rules contains rule if {
	terms := pod_spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution
	is_array(terms)
	some rule in terms
	is_object(rule)
}

rules contains rule if {
	terms := pod_spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution
	is_array(terms)
	some weighted in terms
	rule := weighted.podAffinityTerm
	is_object(rule)
}

# Topology keys some rule spreads the workload's own pods over.
spread_keys contains key if {
	some rule in rules
	key := rule.topologyKey
	is_string(key)
	selects_own_pods(rule)
}

# A rule counts the workload's own pods when its labelSelector matches the template's labels (a
# null or absent selector selects no pod), no mismatchLabelKeys entry excludes them (it keeps
# pods whose value of the key differs from the incoming pod's), and its namespaces, when listed
# without a namespaceSelector, include the workload's namespace.
selects_own_pods(rule) if {
	data.gatehouse.lib.kubernetes.selector_matches(rule.labelSelector, data.gatehouse.lib.kubernetes.pod_labels)
	not excluded_by_mismatch_keys(rule)
	in_own_namespace(rule)
}

excluded_by_mismatch_keys(rule) if {
	keys := rule.mismatchLabelKeys
	is_array(keys)
	some key in keys
	is_string(key)
	_ = data.gatehouse.lib.kubernetes.pod_labels[key]
}

in_own_namespace(rule) if object.get(rule, "namespaces", null) in {null, []}

in_own_namespace(rule) if object.get(rule, "namespaceSelector", null) != null

in_own_namespace(rule) if {
	namespaces := rule.namespaces
	is_array(namespaces)
	data.gatehouse.lib.kubernetes.namespace in namespaces
}

violation contains {"msg": msg, "path": "/spec/template/spec"} if {
	n := replicas
	keys := input.parameters.topologyKeys
	is_array(keys)
	some key in keys
	is_string(key)
	not spread_keys[key]
	msg := sprintf("%s %s runs at least %v replicas but %s: add a topologySpreadConstraint or a podAntiAffinity term with topologyKey %q and a labelSelector matching the pod template's labels, or losing one %s can take every replica", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		n,
		problem(key),
		key,
		domain(key),
	])
}

# Message fragments, computed only for a violation.

problem(key) := sprintf("its only rules on %q do not select its own pods (labels %s)", [key, json.marshal(data.gatehouse.lib.kubernetes.pod_labels)]) if {
	some rule in rules
	rule.topologyKey == key
} else := sprintf("nothing spreads its pods over %q", [key])

domain(key) := "node" if key == "kubernetes.io/hostname"

domain(key) := "zone" if key in {"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"}

domain(key) := "region" if key in {"topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"}

domain(key) := sprintf("%s domain", [key]) if {
	not key in {
		"kubernetes.io/hostname",
		"topology.kubernetes.io/zone",
		"failure-domain.beta.kubernetes.io/zone",
		"topology.kubernetes.io/region",
		"failure-domain.beta.kubernetes.io/region",
	}
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
