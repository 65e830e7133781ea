package gatehouse.kubernetes.cnpg_cluster_ha

# A CloudNativePG Cluster runs at least minInstances instances: a primary and its standbys.

# A DELETE (whose object is null), and an update to a cluster that is already being deleted
# (its finalizers being removed), are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# spec.instances as the CRD reads it: unset or null means 1. Any other type is kept as it is,
# to be reported (a string "3" would otherwise pass `>=` by Rego's ordering of types).
instances := n if {
	n := input.review.object.spec.instances
	n != null
} else := 1

violation contains {"msg": msg, "path": "/spec/instances"} if {
	checked
	not is_number(instances)
	msg := sprintf("Cluster %s sets spec.instances to %s, which is not a number: set it to %v or more", [
		quoted(data.gatehouse.lib.kubernetes.name),
		json.marshal(instances),
		input.parameters.minInstances,
	])
}

violation contains {"msg": msg, "path": "/spec/instances"} if {
	checked
	is_number(instances)
	instances < input.parameters.minInstances
	msg := sprintf(
		"Cluster %s %s, below the minimum of %v: run a primary and at least %v standbys so that CloudNativePG can fail over when the primary or its node goes down",
		[
			quoted(data.gatehouse.lib.kubernetes.name),
			instances_text(input.review.object),
			input.parameters.minInstances,
			input.parameters.minInstances - 1,
		],
	)
}

# Message fragments: functions, so that they are computed only for a violation (regorus
# evaluates every complete rule of the package).

instances_text(obj) := sprintf("runs %v PostgreSQL %s (spec.instances)", [n, plural(n)]) if {
	n := obj.spec.instances
	n != null
} else := "sets no spec.instances, so it runs 1 PostgreSQL instance"

plural(1) := "instance"

plural(n) := "instances" if n != 1

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
