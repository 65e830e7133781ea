package gatehouse.kubernetes.isolate_stateful_workloads

# StatefulSets and PersistentVolumeClaims go only to namespaces labelled <stateLabel>=stateful;
# Deployments stay out of them. The Namespace comes from the inventory (cluster-scoped):
# data.inventory.cluster["v1"]["Namespace"][ns].

# A DELETE (whose object is null), and an update to an object that is already being deleted, are
# let through: refusing them would only keep the object from going away.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

stateful_kinds := {"StatefulSet", "PersistentVolumeClaim"}

namespace_name := data.gatehouse.lib.kubernetes.namespace

# The namespace is in the inventory, whatever its object looks like.
known_namespace if _ = data.inventory.cluster.v1.Namespace[namespace_name]

# The value of the state label on the namespace; undefined when it has none.
state := value if {
	labels := data.inventory.cluster.v1.Namespace[namespace_name].metadata.labels
	is_object(labels)
	value := labels[input.parameters.stateLabel]
}

stateful_namespace if state == "stateful"

# A Deployment created by a controller (a CloudNativePG Pooler's PgBouncer, an operator's
# companion) belongs to the stateful system that owns it.
controller_owned if {
	refs := input.review.object.metadata.ownerReferences
	is_array(refs)
	some ref in refs
	ref.controller == true
}

violation contains {"msg": msg, "path": "/metadata/namespace"} if {
	checked
	input.review.kind.kind in stateful_kinds
	known_namespace
	not stateful_namespace
	msg := sprintf(
		"%s %s is in namespace %q, %s: create stateful workloads and their volumes only in a namespace labelled %s=stateful, apart from stateless applications",
		[input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), namespace_name, state_text(input.parameters.stateLabel), input.parameters.stateLabel],
	)
}

violation contains {"msg": msg, "path": "/metadata/namespace"} if {
	checked
	input.review.kind.kind == "Deployment"
	stateful_namespace
	not controller_owned
	msg := sprintf(
		"Deployment %s is in namespace %q, which is labelled %s=stateful and reserved for stateful workloads: run stateless applications in a namespace of their own (a Deployment that needs a volume is a StatefulSet)",
		[quoted(data.gatehouse.lib.kubernetes.name), namespace_name, input.parameters.stateLabel],
	)
}

violation contains {"msg": msg, "path": "/metadata/namespace"} if {
	checked
	not known_namespace
	not input.parameters.allowUnknownNamespaces == true
	judged
	msg := sprintf(
		"namespace %q of %s %s is not in the inventory, so its %s label cannot be verified: declare the Namespace (labelled %s=stateful for stateful workloads, without it for stateless ones) alongside the workload",
		[namespace_name, input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), input.parameters.stateLabel, input.parameters.stateLabel],
	)
}

# Objects whose placement is judged: every targeted kind, but controller-owned Deployments.
judged if input.review.kind.kind in stateful_kinds

judged if {
	input.review.kind.kind == "Deployment"
	not controller_owned
}

# Message fragments: functions, so that they are computed only for a violation (regorus
# evaluates every complete rule of the package).

state_text(label) := sprintf("whose %s label is %s, not \"stateful\"", [label, json.marshal(state)]) if {
	_ = state
} else := sprintf("which carries no %s label", [label])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
