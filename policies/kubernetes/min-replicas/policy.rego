package gatehouse.kubernetes.min_replicas

# A DELETE (whose object is null), and an update to an object that is already being deleted
# (its finalizers being removed), are let through: refusing them would only keep the object from
# going away.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# spec.replicas as the API server reads it: unset or null means 1. Any other type is kept as
# it is, to be reported (a string "3" would otherwise pass `>=` by Rego's ordering of types).
replicas := r if {
	r := input.review.object.spec.replicas
	r != null
} else := 1

# minReplicas of a HorizontalPodAutoscaler: unset or null means 1.
hpa_minimum(hpa) := m if {
	m := hpa.spec.minReplicas
	m != null
} else := 1

# Some HorizontalPodAutoscaler that scales the object keeps it at the minimum or above.
scaled_high_enough if {
	some hpa in data.gatehouse.lib.kubernetes.targeting_hpas
	m := hpa_minimum(hpa)
	is_number(m)
	m >= input.parameters.minReplicas
}

violation contains {"msg": msg, "path": "/spec/replicas"} if {
	checked
	not is_number(replicas)
	msg := sprintf("%s %s sets spec.replicas to %s, which is not a number", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		json.marshal(replicas),
	])
}

violation contains {"msg": msg, "path": "/spec/replicas"} if {
	checked
	is_number(replicas)
	replicas < input.parameters.minReplicas
	count(data.gatehouse.lib.kubernetes.targeting_hpas) == 0
	msg := sprintf("%s %s %s, below the minimum of %v, and no HorizontalPodAutoscaler scales it", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		replicas_text,
		input.parameters.minReplicas,
	])
}

violation contains {"msg": msg, "path": "/spec/replicas"} if {
	checked
	some hpa in data.gatehouse.lib.kubernetes.targeting_hpas
	not scaled_high_enough
	msg := sprintf("%s %s is scaled by HorizontalPodAutoscaler %s whose minReplicas %s", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		quoted(object.get(hpa, ["metadata", "name"], "")),
		hpa_minimum_text(hpa, input.parameters.minReplicas),
	])
}

# Message fragments, computed only for a violation.

replicas_text := sprintf("has spec.replicas %v", [replicas]) if {
	input.review.object.spec.replicas != null
} else := "sets no spec.replicas, so it runs 1 replica"

hpa_minimum_text(hpa, minimum) := sprintf("is unset, so 1, below the minimum of %v", [minimum]) if {
	object.get(hpa, ["spec", "minReplicas"], null) == null
} else := sprintf("is %v, below the minimum of %v", [m, minimum]) if {
	m := hpa.spec.minReplicas
	is_number(m)
} else := sprintf("%s is not a number (the minimum is %v)", [json.marshal(hpa.spec.minReplicas), minimum])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
