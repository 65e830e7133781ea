package gatehouse.kubernetes.require_zero_downtime_rollout_test

import data.gatehouse.kubernetes.require_zero_downtime_rollout

deployment(spec) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "apps/v1",
		"kind": "Deployment",
		"metadata": {"name": "web", "namespace": "shop"},
		"spec": object.union(
			{
				"selector": {"matchLabels": {"app": "web"}},
				"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
			},
			spec,
		),
	},
}}

rolling(update) := deployment({"replicas": 3, "strategy": {"type": "RollingUpdate", "rollingUpdate": update}})

paths(inp) := {x.path | some x in require_zero_downtime_rollout.violation with input as inp}

unavailable_path := "/spec/strategy/rollingUpdate/maxUnavailable"

unset_msg := "Deployment \"web\" leaves strategy.rollingUpdate.maxUnavailable unset, so it defaults to 25%: a rollout may stop that share of the serving pods before their replacements are ready. Set maxUnavailable: 0 (with maxSurge 1 or more)"

test_max_unavailable_zero_with_surge_passes if {
	count(require_zero_downtime_rollout.violation) == 0 with input as rolling({"maxUnavailable": 0, "maxSurge": 1})
	count(require_zero_downtime_rollout.violation) == 0 with input as rolling({"maxUnavailable": "0%", "maxSurge": "25%"})
	count(require_zero_downtime_rollout.violation) == 0 with input as rolling({"maxUnavailable": 0})
	count(require_zero_downtime_rollout.violation) == 0 with input as rolling({"maxUnavailable": 0, "maxSurge": null})
}

test_the_type_may_be_left_to_its_default if {
	inp := deployment({"replicas": 3, "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}})
	count(require_zero_downtime_rollout.violation) == 0 with input as inp
	inp_null := deployment({"replicas": 3, "strategy": {"type": null, "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}})
	count(require_zero_downtime_rollout.violation) == 0 with input as inp_null
}

test_recreate_is_reported_at_the_type if {
	v := require_zero_downtime_rollout.violation with input as deployment({"replicas": 2, "strategy": {"type": "Recreate"}})
	v == {{
		"msg": "Deployment \"web\" uses the Recreate strategy, which stops every pod before the new ones start: use type RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1",
		"path": "/spec/strategy/type",
	}}
}

test_an_unknown_type_is_reported if {
	v := require_zero_downtime_rollout.violation with input as deployment({"strategy": {"type": "BlueGreen"}})
	v == {{
		"msg": "Deployment \"web\" uses strategy type \"BlueGreen\", which is neither RollingUpdate nor Recreate: use type RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1",
		"path": "/spec/strategy/type",
	}}
	paths(deployment({"strategy": {"type": 1}})) == {"/spec/strategy/type"}
}

test_an_absent_strategy_defaults_to_25_percent if {
	v := require_zero_downtime_rollout.violation with input as deployment({"replicas": 3})
	v == {{"msg": unset_msg, "path": unavailable_path}}
	paths(deployment({"replicas": 3, "strategy": null})) == {unavailable_path}
	paths(deployment({"replicas": 3, "strategy": {}})) == {unavailable_path}
	paths(deployment({"replicas": 3, "strategy": {"type": "RollingUpdate"}})) == {unavailable_path}
	paths(deployment({"replicas": 3, "strategy": {"type": "RollingUpdate", "rollingUpdate": null}})) == {unavailable_path}
	paths(rolling({"maxSurge": 1})) == {unavailable_path}
	paths(rolling({"maxUnavailable": null, "maxSurge": 1})) == {unavailable_path}
}

test_a_non_zero_max_unavailable_is_reported_with_its_value if {
	v := require_zero_downtime_rollout.violation with input as rolling({"maxUnavailable": 1, "maxSurge": 1})
	v == {{
		"msg": "Deployment \"web\" sets strategy.rollingUpdate.maxUnavailable to 1: a rollout stops serving pods before their replacements are ready. Set it to 0 (with maxSurge 1 or more)",
		"path": unavailable_path,
	}}
	w := require_zero_downtime_rollout.violation with input as rolling({"maxUnavailable": "25%"})
	[x.msg | some x in w] == ["Deployment \"web\" sets strategy.rollingUpdate.maxUnavailable to \"25%\": a rollout stops serving pods before their replacements are ready. Set it to 0 (with maxSurge 1 or more)"]
	paths(rolling({"maxUnavailable": "10%"})) == {unavailable_path}
	paths(rolling({"maxUnavailable": "0"})) == {unavailable_path}
	paths(rolling({"maxUnavailable": "0.5%"})) == {unavailable_path}
	paths(rolling({"maxUnavailable": false})) == {unavailable_path}
}

test_a_zero_surge_is_reported if {
	v := require_zero_downtime_rollout.violation with input as rolling({"maxUnavailable": 0, "maxSurge": 0})
	v == {{
		"msg": "Deployment \"web\" sets strategy.rollingUpdate.maxSurge to 0: a rollout cannot start a new pod before an old one stops, and with maxUnavailable 0 it cannot progress at all. Set maxSurge to 1 or a percentage such as 25%",
		"path": "/spec/strategy/rollingUpdate/maxSurge",
	}}
	paths(rolling({"maxUnavailable": "0%", "maxSurge": "0%"})) == {"/spec/strategy/rollingUpdate/maxSurge"}
	paths(rolling({"maxUnavailable": 1, "maxSurge": 0})) == {unavailable_path, "/spec/strategy/rollingUpdate/maxSurge"}
}

test_recreate_ignores_a_rolling_update_block if {
	inp := deployment({"replicas": 2, "strategy": {"type": "Recreate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}})
	paths(inp) == {"/spec/strategy/type"}
}

test_replicas_unset_or_null_mean_one_and_are_checked if {
	paths(deployment({})) == {unavailable_path}
	paths(deployment({"replicas": null})) == {unavailable_path}
	paths(deployment({"replicas": 1, "strategy": {"type": "Recreate"}})) == {"/spec/strategy/type"}
}

test_a_parked_deployment_is_exempt if {
	count(require_zero_downtime_rollout.violation) == 0 with input as deployment({"replicas": 0, "strategy": {"type": "Recreate"}})
	count(require_zero_downtime_rollout.violation) == 0 with input as deployment({"replicas": 0})
}

test_replicas_that_are_not_a_number_are_left_to_min_replicas if {
	count(require_zero_downtime_rollout.violation) == 0 with input as deployment({"replicas": "3"})
	count(require_zero_downtime_rollout.violation) == 0 with input as deployment({"replicas": [3]})
}

test_a_malformed_spec_raises_nothing_without_error if {
	inp := object.union(deployment({}), {"review": {"object": {"spec": "not a spec"}}})
	paths(inp) == {unavailable_path}
	paths(deployment({"strategy": "Recreate"})) == {unavailable_path}
	paths(deployment({"strategy": {"rollingUpdate": "maxUnavailable=0"}})) == {unavailable_path}
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	inp := object.union(deployment({}), {"review": {"object": {"metadata": {"name": 7}}}})
	v := require_zero_downtime_rollout.violation with input as inp
	[x.msg | some x in v] == [replace(unset_msg, "\"web\"", "7")]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	old := deployment({"strategy": {"type": "Recreate"}}).review.object
	deletion := {"review": {"kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "operation": "DELETE", "object": null, "oldObject": old}}
	count(require_zero_downtime_rollout.violation) == 0 with input as deletion
	deleting := object.union(deployment({"strategy": {"type": "Recreate"}}), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(require_zero_downtime_rollout.violation) == 0 with input as deleting
}

test_an_update_is_checked if {
	update := object.union(deployment({"strategy": {"type": "Recreate"}}), {"review": {"operation": "UPDATE", "oldObject": deployment({}).review.object}})
	paths(update) == {"/spec/strategy/type"}
}
