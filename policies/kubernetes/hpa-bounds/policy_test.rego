package gatehouse.kubernetes.hpa_bounds_test

import data.gatehouse.kubernetes.hpa_bounds as bounds

cpu := {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}

hpa_in(version, spec) := {
	"review": {
		"kind": {"group": "autoscaling", "version": version, "kind": "HorizontalPodAutoscaler"},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {
			"apiVersion": concat("/", ["autoscaling", version]),
			"kind": "HorizontalPodAutoscaler",
			"metadata": {"name": "web", "namespace": "shop"},
			"spec": object.union({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}, spec),
		},
	},
	"parameters": {"minReplicas": 2},
}

hpa(spec) := hpa_in("v2", spec)

violations_of(inp) := v if {
	v := bounds.violation with input as inp
}

paths(inp) := {x.path | some x in violations_of(inp)}

test_a_redundant_floor_with_room_to_scale_passes if {
	count(violations_of(hpa({"minReplicas": 2, "maxReplicas": 10, "metrics": [cpu]}))) == 0
	count(violations_of(hpa({"minReplicas": 3, "maxReplicas": 4, "metrics": [cpu]}))) == 0
	count(violations_of(hpa_in("v1", {"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70}))) == 0
}

test_absent_or_null_metrics_default_to_cpu_and_pass if {
	count(violations_of(hpa({"minReplicas": 2, "maxReplicas": 10}))) == 0
	count(violations_of(hpa({"minReplicas": 2, "maxReplicas": 10, "metrics": null}))) == 0
}

test_an_empty_metrics_list_is_reported if {
	v := violations_of(hpa({"minReplicas": 2, "maxReplicas": 10, "metrics": []}))
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" sets spec.metrics to [], so it names nothing to scale on: list the metrics (such as a Resource metric on cpu with target type Utilization), or leave the field out for the default of 80% CPU utilization",
		"path": "/spec/metrics",
	}}
	paths(hpa({"minReplicas": 2, "maxReplicas": 10, "metrics": {"type": "Resource"}})) == {"/spec/metrics"}
	paths(hpa({"minReplicas": 2, "maxReplicas": 10, "metrics": "cpu"})) == {"/spec/metrics"}
}

test_metrics_are_only_checked_outside_autoscaling_v1 if {
	count(violations_of(hpa_in("v1", {"minReplicas": 2, "maxReplicas": 10, "metrics": []}))) == 0
	paths(hpa_in("v2beta2", {"minReplicas": 2, "maxReplicas": 10, "metrics": []})) == {"/spec/metrics"}
}

test_the_version_falls_back_to_the_object_api_version if {
	doc := hpa_in("v1", {"minReplicas": 2, "maxReplicas": 10, "metrics": []})
	no_kind_version := object.union(doc, {"review": {"kind": {"version": ""}}})
	count(violations_of(no_kind_version)) == 0
	as_v2 := object.union(no_kind_version, {"review": {"object": {"apiVersion": "autoscaling/v2"}}})
	paths(as_v2) == {"/spec/metrics"}
	no_version := object.union(no_kind_version, {"review": {"object": {"apiVersion": null}}})
	paths(no_version) == {"/spec/metrics"}
}

test_a_floor_below_the_minimum_is_reported if {
	v := violations_of(hpa({"minReplicas": 1, "maxReplicas": 10}))
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" has minReplicas 1, below the minimum of 2: when load is low it keeps too few replicas to stay redundant",
		"path": "/spec/minReplicas",
	}}
	paths(hpa({"minReplicas": 0, "maxReplicas": 10})) == {"/spec/minReplicas"}
}

test_an_unset_or_null_floor_means_one if {
	msg := "HorizontalPodAutoscaler \"web\" sets no spec.minReplicas, so it scales down to 1 replica, below the minimum of 2: when load is low it keeps too few replicas to stay redundant"
	[x.msg | some x in violations_of(hpa({"maxReplicas": 10}))] == [msg]
	[x.msg | some x in violations_of(hpa({"maxReplicas": 10, "minReplicas": null}))] == [msg]
	[x.msg | some x in violations_of(hpa_in("v1", {"maxReplicas": 10}))] == [msg]
}

test_the_minimum_is_a_parameter if {
	three := object.union(hpa({"minReplicas": 2, "maxReplicas": 10}), {"parameters": {"minReplicas": 3}})
	[x.msg | some x in violations_of(three)] == ["HorizontalPodAutoscaler \"web\" has minReplicas 2, below the minimum of 3: when load is low it keeps too few replicas to stay redundant"]
	one := object.union(hpa({"maxReplicas": 10}), {"parameters": {"minReplicas": 1}})
	count(violations_of(one)) == 0
}

test_max_not_above_min_is_reported if {
	v := violations_of(hpa({"minReplicas": 3, "maxReplicas": 3}))
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" has maxReplicas 3, not above its minReplicas 3: it can never scale up; raise maxReplicas to the peak the workload must absorb",
		"path": "/spec/maxReplicas",
	}}
	paths(hpa({"minReplicas": 4, "maxReplicas": 2})) == {"/spec/maxReplicas"}
	# An unset floor is 1: maxReplicas 1 cannot scale up either, and the floor is too low.
	paths(hpa({"maxReplicas": 1})) == {"/spec/minReplicas", "/spec/maxReplicas"}
	paths(hpa_in("v1", {"minReplicas": 2, "maxReplicas": 2})) == {"/spec/maxReplicas"}
}

test_a_missing_max_is_reported if {
	v := violations_of(hpa({"minReplicas": 2}))
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" sets no spec.maxReplicas: set the most replicas it may scale up to, above minReplicas",
		"path": "/spec/maxReplicas",
	}}
	paths(hpa({"minReplicas": 2, "maxReplicas": null})) == {"/spec/maxReplicas"}
}

test_values_that_are_not_numbers_are_reported if {
	v := violations_of(hpa({"minReplicas": "2", "maxReplicas": "10"}))
	{x.msg | some x in v} == {
		"HorizontalPodAutoscaler \"web\" sets spec.minReplicas to \"2\", which is not a number",
		"HorizontalPodAutoscaler \"web\" sets spec.maxReplicas to \"10\", which is not a number",
	}
	{x.path | some x in v} == {"/spec/minReplicas", "/spec/maxReplicas"}
}

test_a_missing_or_malformed_spec_raises_no_error if {
	doc := hpa({})
	no_spec := object.union(doc, {"review": {"object": {"spec": null}}})
	paths(no_spec) == {"/spec/minReplicas", "/spec/maxReplicas"}
	string_spec := object.union(doc, {"review": {"object": {"spec": "minReplicas: 2"}}})
	paths(string_spec) == {"/spec/minReplicas", "/spec/maxReplicas"}
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	doc := object.union(hpa({"minReplicas": 1, "maxReplicas": 5}), {"review": {"object": {"metadata": {"name": 7}}}})
	[x.msg | some x in violations_of(doc)] == ["HorizontalPodAutoscaler 7 has minReplicas 1, below the minimum of 2: when load is low it keeps too few replicas to stay redundant"]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	doc := hpa({"minReplicas": 1, "maxReplicas": 1})
	deletion := object.union(doc, {"review": {"operation": "DELETE", "object": null, "oldObject": doc.review.object}})
	count(violations_of(deletion)) == 0
	going := object.union(doc, {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations_of(going)) == 0
	update := object.union(doc, {"review": {"operation": "UPDATE"}})
	count(violations_of(update)) == 2
}
