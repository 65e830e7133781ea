package gatehouse.kubernetes.hpa_bounds

# A HorizontalPodAutoscaler keeps at least minReplicas replicas, may scale above them, and (in
# autoscaling/v2) scales on at least one metric when it lists any.

# A DELETE, and an update to an object that is already being deleted, are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

spec := s if {
	s := input.review.object.spec
	is_object(s)
} else := {}

# spec.minReplicas as the API server reads it: unset or null means 1. Any other type is kept as
# it is, to be reported (a string "3" would otherwise pass `>=` by Rego's ordering of types).
min_replicas := m if {
	m := spec.minReplicas
	m != null
} else := 1

max_replicas := spec.maxReplicas

# The API version of the object: the review's, else the object's own apiVersion.
version := v if {
	v := input.review.kind.version
	is_string(v)
	v != ""
} else := trim_prefix(input.review.object.apiVersion, "autoscaling/") if {
	is_string(input.review.object.apiVersion)
} else := ""

violation contains {"msg": msg, "path": "/spec/minReplicas"} if {
	checked
	not is_number(min_replicas)
	msg := sprintf("%s sets spec.minReplicas to %s, which is not a number", [hpa_text, json.marshal(min_replicas)])
}

violation contains {"msg": msg, "path": "/spec/maxReplicas"} if {
	checked
	object.get(spec, "maxReplicas", null) == null
	msg := sprintf("%s sets no spec.maxReplicas: set the most replicas it may scale up to, above minReplicas", [hpa_text])
}

violation contains {"msg": msg, "path": "/spec/maxReplicas"} if {
	checked
	max_replicas != null
	not is_number(max_replicas)
	msg := sprintf("%s sets spec.maxReplicas to %s, which is not a number", [hpa_text, json.marshal(max_replicas)])
}

violation contains {"msg": msg, "path": "/spec/minReplicas"} if {
	checked
	is_number(min_replicas)
	min_replicas < input.parameters.minReplicas
	msg := sprintf("%s %s, below the minimum of %v: when load is low it keeps too few replicas to stay redundant", [
		hpa_text,
		min_text,
		input.parameters.minReplicas,
	])
}

violation contains {"msg": msg, "path": "/spec/maxReplicas"} if {
	checked
	is_number(min_replicas)
	is_number(max_replicas)
	max_replicas <= min_replicas
	msg := sprintf("%s has maxReplicas %v, not above its minReplicas %v: it can never scale up; raise maxReplicas to the peak the workload must absorb", [
		hpa_text,
		max_replicas,
		min_replicas,
	])
}

violation contains {"msg": msg, "path": "/spec/metrics"} if {
	checked
	version != "v1"
	metrics := object.get(spec, "metrics", null)
	metrics != null
	not non_empty_list(metrics)
	msg := sprintf("%s sets spec.metrics to %s, so it names nothing to scale on: list the metrics (such as a Resource metric on cpu with target type Utilization), or leave the field out for the default of 80%% CPU utilization", [
		hpa_text,
		json.marshal(metrics),
	])
}

non_empty_list(x) if {
	is_array(x)
	count(x) > 0
}

# Message fragments, computed only for a violation.

hpa_text := sprintf("HorizontalPodAutoscaler %s", [quoted(data.gatehouse.lib.kubernetes.name)])

min_text := "sets no spec.minReplicas, so it scales down to 1 replica" if {
	object.get(spec, "minReplicas", null) == null
} else := sprintf("has minReplicas %v", [min_replicas])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
