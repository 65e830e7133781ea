package gatehouse.kubernetes.require_zero_downtime_rollout

# A Deployment that runs pods updates with RollingUpdate, an explicit maxUnavailable of 0 (or
# "0%") and a maxSurge that is not 0. Absent fields take the API defaults: strategy type
# RollingUpdate, maxUnavailable and maxSurge 25%.

# A DELETE and an object being deleted are let through, and so is a Deployment parked at 0
# replicas. spec.replicas unset or null is 1; a value that is not a number is left to
# min-replicas, which reports it.
checked if {
	not data.gatehouse.lib.kubernetes.deleting
	r := replicas
	is_number(r)
	r >= 1
}

replicas := r if {
	r := input.review.object.spec.replicas
	r != null
} else := 1

strategy := s if {
	s := input.review.object.spec.strategy
	is_object(s)
} else := {}

strategy_type := object.get(strategy, "type", null)

rolling := r if {
	r := strategy.rollingUpdate
	is_object(r)
} else := {}

rolling_update if strategy_type in {null, "RollingUpdate"}

# 0, or a percentage that is 0 ("0%"). A string without "%" is refused by the API server and
# is not zero here either.
zero(v) if v == 0

zero(v) if {
	is_string(v)
	regex.match(`^0+%$`, v)
}

violation contains {"msg": msg, "path": "/spec/strategy/type"} if {
	checked
	strategy_type == "Recreate"
	msg := sprintf("Deployment %s uses the Recreate strategy, which stops every pod before the new ones start: use type RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1", [quoted(data.gatehouse.lib.kubernetes.name)])
}

violation contains {"msg": msg, "path": "/spec/strategy/type"} if {
	checked
	not strategy_type in {null, "RollingUpdate", "Recreate"}
	msg := sprintf("Deployment %s uses strategy type %s, which is neither RollingUpdate nor Recreate: use type RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1", [quoted(data.gatehouse.lib.kubernetes.name), json.marshal(strategy_type)])
}

violation contains {"msg": msg, "path": "/spec/strategy/rollingUpdate/maxUnavailable"} if {
	checked
	rolling_update
	object.get(rolling, "maxUnavailable", null) == null
	msg := sprintf("Deployment %s leaves strategy.rollingUpdate.maxUnavailable unset, so it defaults to 25%%: a rollout may stop that share of the serving pods before their replacements are ready. Set maxUnavailable: 0 (with maxSurge 1 or more)", [quoted(data.gatehouse.lib.kubernetes.name)])
}

violation contains {"msg": msg, "path": "/spec/strategy/rollingUpdate/maxUnavailable"} if {
	checked
	rolling_update
	max_unavailable := rolling.maxUnavailable
	max_unavailable != null
	not zero(max_unavailable)
	msg := sprintf("Deployment %s sets strategy.rollingUpdate.maxUnavailable to %s: a rollout stops serving pods before their replacements are ready. Set it to 0 (with maxSurge 1 or more)", [quoted(data.gatehouse.lib.kubernetes.name), json.marshal(max_unavailable)])
}

violation contains {"msg": msg, "path": "/spec/strategy/rollingUpdate/maxSurge"} if {
	checked
	rolling_update
	max_surge := rolling.maxSurge
	zero(max_surge)
	msg := sprintf("Deployment %s sets strategy.rollingUpdate.maxSurge to %s: a rollout cannot start a new pod before an old one stops, and with maxUnavailable 0 it cannot progress at all. Set maxSurge to 1 or a percentage such as 25%%", [quoted(data.gatehouse.lib.kubernetes.name), json.marshal(max_surge)])
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
