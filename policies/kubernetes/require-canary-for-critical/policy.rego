package gatehouse.kubernetes.require_canary_for_critical

# A workload labelled critical (input.parameters.criticalLabel in criticalValues) is an Argo
# Rollout with a canary strategy that shifts part of the traffic (a setWeight step strictly
# between 0 and 100). A critical Deployment is reported unless it is parked at 0 replicas or a
# Rollout of its namespace takes it over through spec.workloadRef (from the inventory).

# The critical label's value, on the object or else on its pod template.
critical_value := value if {
	not data.gatehouse.lib.kubernetes.deleting
	value := critical_in(input.review.object.metadata.labels)
} else := value if {
	not data.gatehouse.lib.kubernetes.deleting
	value := critical_in(input.review.object.spec.template.metadata.labels)
}

critical_in(labels) := value if {
	is_object(labels)
	value := labels[input.parameters.criticalLabel]
	values := input.parameters.criticalValues
	is_array(values)
	value in values
}

workload_text := sprintf("%s %s is labelled %s=%s", [
	input.review.kind.kind,
	quoted(data.gatehouse.lib.kubernetes.name),
	input.parameters.criticalLabel,
	critical_value,
])

# Deployments.

parked if input.review.object.spec.replicas == 0

# A Rollout of the Deployment's namespace that runs its template through spec.workloadRef.
taken_over if {
	rollouts := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["argoproj.io/v1alpha1"].Rollout
	is_object(rollouts)
	some rollout in rollouts
	ref := rollout.spec.workloadRef
	ref.kind == "Deployment"
	ref.name == data.gatehouse.lib.kubernetes.name
}

violation contains {"msg": msg, "path": "/kind"} if {
	input.review.kind.kind == "Deployment"
	critical_value
	not parked
	not taken_over
	msg := sprintf("%s but is a Deployment, which replaces its pods without exposing the new version to part of the traffic first: convert it to an Argo Rollout (argoproj.io/v1alpha1) with canary steps, or take it over with a Rollout's spec.workloadRef", [workload_text])
}

# Rollouts.

strategy := s if {
	s := input.review.object.spec.strategy
	is_object(s)
} else := {}

canary := c if {
	c := strategy.canary
	is_object(c)
}

# A step that sends part of the traffic, not none or all of it, to the new version.
shifts_traffic(step) if {
	weight := step.setWeight
	is_number(weight)
	weight > 0
	weight < 100
}

violation contains {"msg": msg, "path": "/spec/strategy/blueGreen"} if {
	input.review.kind.kind == "Rollout"
	critical_value
	not canary
	is_object(strategy.blueGreen)
	msg := sprintf("%s but uses the blueGreen strategy, which moves all traffic to the new version at once: use spec.strategy.canary with setWeight steps", [workload_text])
}

violation contains {"msg": msg, "path": "/spec/strategy"} if {
	input.review.kind.kind == "Rollout"
	critical_value
	not canary
	not is_object(strategy.blueGreen)
	msg := sprintf("%s but sets no canary strategy: use spec.strategy.canary with setWeight steps", [workload_text])
}

violation contains {"msg": msg, "path": "/spec/strategy/canary/steps"} if {
	input.review.kind.kind == "Rollout"
	critical_value
	steps := object.get(canary, "steps", null)
	not some_step_shifts_traffic(steps)
	msg := sprintf("%s but its canary has no setWeight step between 1 and 99, so the new version never serves only part of the traffic: it goes to 100%% in one step. Add steps such as setWeight: 20 and a pause before full promotion", [workload_text])
}

some_step_shifts_traffic(steps) if {
	is_array(steps)
	some step in steps
	shifts_traffic(step)
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
