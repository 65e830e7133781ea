package gatehouse.kubernetes.cnpg_connection_pooling

# A CloudNativePG Cluster is fronted by a read-write Pooler (PgBouncer) of its namespace, found
# in the inventory.

# A DELETE (whose object is null), and an update to a cluster that is already being deleted
# (its finalizers being removed), are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The Poolers of the Cluster's namespace that name it, by name.
poolers[name] := pooler if {
	candidates := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["postgresql.cnpg.io/v1"].Pooler
	is_object(candidates)
	some name, pooler in candidates
	pooler.spec.cluster.name == data.gatehouse.lib.kubernetes.name
}

# spec.type and spec.instances as the CRD defaults them.
pooler_type(spec) := t if {
	t := spec.type
	t != null
} else := "rw"

pooler_instances(spec) := n if {
	n := spec.instances
	n != null
} else := 1

# Why a Pooler does not front the Cluster for writes; undefined when it does.
pooler_problem(spec) := sprintf("is of type %s", [json.marshal(pooler_type(spec))]) if {
	pooler_type(spec) != "rw"
} else := sprintf("runs %s PgBouncer instances", [json.marshal(pooler_instances(spec))]) if {
	n := pooler_instances(spec)
	not positive(n)
}

positive(n) if {
	is_number(n)
	n > 0
}

fronted if {
	some pooler in poolers
	not pooler_problem(pooler.spec)
}

violation contains {"msg": msg, "path": "/metadata/name"} if {
	checked
	count(poolers) == 0
	msg := sprintf(
		"%s has no Pooler in namespace %q: add a Pooler (postgresql.cnpg.io/v1) with spec.cluster.name %s and type: rw, and connect the applications through it, so that their connections share a few PostgreSQL backends",
		[cluster_text(data.gatehouse.lib.kubernetes.name), data.gatehouse.lib.kubernetes.namespace, quoted(data.gatehouse.lib.kubernetes.name)],
	)
}

violation contains {"msg": msg, "path": "/metadata/name"} if {
	checked
	count(poolers) > 0
	not fronted
	reasons := [sprintf("Pooler %q %s", [name, pooler_problem(pooler.spec)]) | some name, pooler in poolers]
	msg := sprintf(
		"%s has no read-write Pooler (%s): add a Pooler of type rw with at least one instance, and connect the applications through it",
		[cluster_text(data.gatehouse.lib.kubernetes.name), concat("; ", reasons)],
	)
}

# Message fragments: functions, so that they are computed only for a violation (regorus
# evaluates every complete rule of the package).

cluster_text(name) := sprintf("Cluster %s", [quoted(name)])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
