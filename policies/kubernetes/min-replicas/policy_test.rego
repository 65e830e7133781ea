package gatehouse.kubernetes.min_replicas_test

import data.gatehouse.kubernetes.min_replicas

params := {"minReplicas": 2}

review(kind, spec) := {
	"review": {
		"kind": {"group": "apps", "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {"metadata": {"name": "web", "namespace": "shop"}, "spec": spec},
	},
	"parameters": params,
}

deployment(spec) := review("Deployment", spec)

with_parameters(input_doc, parameters) := object.union(input_doc, {"parameters": parameters})

hpa(kind, name, spec) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "web-hpa", "namespace": "shop"},
	"spec": object.union(
		{"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}, "maxReplicas": 10},
		spec,
	),
}

inventory(ns, version, hpas) := {"namespace": {ns: {version: {"HorizontalPodAutoscaler": {h.metadata.name: h | some h in hpas}}}}}

paths(v) := {x.path | some x in v}

one_replica := "Deployment \"web\" has spec.replicas 1, below the minimum of 2, and no HorizontalPodAutoscaler scales it"

test_enough_replicas_pass if {
	count(min_replicas.violation) == 0 with input as deployment({"replicas": 2})
	count(min_replicas.violation) == 0 with input as deployment({"replicas": 5})
}

test_too_few_replicas_are_reported_at_spec_replicas if {
	v := min_replicas.violation with input as deployment({"replicas": 1})
	v == {{
		"msg": one_replica,
		"path": "/spec/replicas",
	}}
}

test_zero_replicas_are_reported if {
	v := min_replicas.violation with input as deployment({"replicas": 0})
	paths(v) == {"/spec/replicas"}
}

test_unset_replicas_mean_one if {
	v := min_replicas.violation with input as deployment({})
	v == {{
		"msg": "Deployment \"web\" sets no spec.replicas, so it runs 1 replica, below the minimum of 2, and no HorizontalPodAutoscaler scales it",
		"path": "/spec/replicas",
	}}
}

test_null_replicas_mean_one if {
	v := min_replicas.violation with input as deployment({"replicas": null})
	[x.msg | some x in v] == ["Deployment \"web\" sets no spec.replicas, so it runs 1 replica, below the minimum of 2, and no HorizontalPodAutoscaler scales it"]
}

test_unset_replicas_pass_when_the_minimum_is_one if {
	count(min_replicas.violation) == 0 with input as with_parameters(deployment({}), {"minReplicas": 1})
}

test_the_minimum_is_a_parameter if {
	three := {"minReplicas": 3}
	v := min_replicas.violation with input as with_parameters(deployment({"replicas": 2}), three)
	[x.msg | some x in v] == ["Deployment \"web\" has spec.replicas 2, below the minimum of 3, and no HorizontalPodAutoscaler scales it"]
	count(min_replicas.violation) == 0 with input as with_parameters(deployment({"replicas": 3}), three)
	count(min_replicas.violation) == 0 with input as with_parameters(deployment({"replicas": 1}), {"minReplicas": 1})
}

test_a_string_is_not_a_number if {
	v := min_replicas.violation with input as deployment({"replicas": "3"})
	v == {{"msg": "Deployment \"web\" sets spec.replicas to \"3\", which is not a number", "path": "/spec/replicas"}}
}

test_other_types_are_not_numbers if {
	bad := [true, {"count": 3}, [3]]
	counts := [n | some value in bad; n := count(min_replicas.violation) with input as deployment({"replicas": value})]
	counts == [1, 1, 1]
}

test_a_string_replicas_is_reported_even_under_an_hpa if {
	inv := inventory("shop", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": 3})])
	v := min_replicas.violation with input as deployment({"replicas": "1"}) with data.inventory as inv
	[x.msg | some x in v] == ["Deployment \"web\" sets spec.replicas to \"1\", which is not a number"]
}

test_statefulsets_are_checked if {
	v := min_replicas.violation with input as review("StatefulSet", {"replicas": 1})
	[x.msg | some x in v] == ["StatefulSet \"web\" has spec.replicas 1, below the minimum of 2, and no HorizontalPodAutoscaler scales it"]
	count(min_replicas.violation) == 0 with input as review("StatefulSet", {"replicas": 3})
}

test_an_hpa_with_enough_min_replicas_in_the_same_namespace_passes if {
	inv := inventory("shop", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": 2})])
	count(min_replicas.violation) == 0 with input as deployment({"replicas": 1}) with data.inventory as inv
	count(min_replicas.violation) == 0 with input as deployment({}) with data.inventory as inv
}

test_every_hpa_api_version_counts if {
	versions := ["autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta2"]
	counts := [n |
		some version in versions
		inv := inventory("shop", version, [hpa("Deployment", "web", {"minReplicas": 3})])
		n := count(min_replicas.violation) with input as deployment({"replicas": 1}) with data.inventory as inv
	]
	counts == [0, 0, 0]
}

test_an_hpa_in_another_namespace_does_not_count if {
	inv := inventory("other", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": 3})])
	v := min_replicas.violation with input as deployment({"replicas": 1}) with data.inventory as inv
	[x.msg | some x in v] == [one_replica]
}

test_the_namespace_falls_back_to_the_object_then_default if {
	inv := inventory("default", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": 2})])
	bare := {"review": {"kind": {"kind": "Deployment"}, "object": {"metadata": {"name": "web"}, "spec": {"replicas": 1}}}, "parameters": params}
	count(min_replicas.violation) == 0 with input as bare with data.inventory as inv
	elsewhere := object.union(bare, {"review": {"object": {"metadata": {"namespace": "shop"}}}})
	count(min_replicas.violation) == 1 with input as elsewhere with data.inventory as inv
}

test_an_hpa_targeting_another_object_does_not_count if {
	api := object.union(hpa("Deployment", "api", {"minReplicas": 3}), {"metadata": {"name": "api"}})
	stateful := object.union(hpa("StatefulSet", "web", {"minReplicas": 3}), {"metadata": {"name": "web-sts"}})
	inv := inventory("shop", "autoscaling/v2", [api, stateful])
	v := min_replicas.violation with input as deployment({"replicas": 1}) with data.inventory as inv
	[x.msg | some x in v] == [one_replica]
}

test_an_hpa_with_too_low_min_replicas_is_named if {
	inv := inventory("shop", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": 1})])
	v := min_replicas.violation with input as deployment({"replicas": 3}) with data.inventory as inv
	v == {{
		"msg": "Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web-hpa\" whose minReplicas is 1, below the minimum of 2",
		"path": "/spec/replicas",
	}}
}

test_an_hpa_without_min_replicas_means_one if {
	inv := inventory("shop", "autoscaling/v2", [hpa("Deployment", "web", {})])
	v := min_replicas.violation with input as deployment({"replicas": 2}) with data.inventory as inv
	[x.msg | some x in v] == ["Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web-hpa\" whose minReplicas is unset, so 1, below the minimum of 2"]
}

test_an_hpa_min_replicas_that_is_not_a_number_does_not_count if {
	inv := inventory("shop", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": "5"})])
	v := min_replicas.violation with input as deployment({"replicas": 2}) with data.inventory as inv
	[x.msg | some x in v] == ["Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web-hpa\" whose minReplicas \"5\" is not a number (the minimum is 2)"]
}

test_one_hpa_with_enough_min_replicas_is_enough if {
	low := hpa("Deployment", "web", {"minReplicas": 1})
	high := object.union(hpa("Deployment", "web", {"minReplicas": 2}), {"metadata": {"name": "web-hpa-2"}})
	inv := inventory("shop", "autoscaling/v2", [low, high])
	count(min_replicas.violation) == 0 with input as deployment({"replicas": 1}) with data.inventory as inv
}

test_the_hpa_minimum_is_compared_with_the_parameter if {
	inv := inventory("shop", "autoscaling/v2", [hpa("Deployment", "web", {"minReplicas": 2})])
	v := min_replicas.violation with input as with_parameters(deployment({"replicas": 3}), {"minReplicas": 3}) with data.inventory as inv
	[x.msg | some x in v] == ["Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web-hpa\" whose minReplicas is 2, below the minimum of 3"]
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	doc := object.union(deployment({"replicas": 1}), {"review": {"object": {"metadata": {"name": 2048}}}})
	v := min_replicas.violation with input as doc
	[x.msg | some x in v] == ["Deployment 2048 has spec.replicas 1, below the minimum of 2, and no HorizontalPodAutoscaler scales it"]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	old := {"metadata": {"name": "web"}, "spec": {"replicas": 1}}
	deletion := {"review": {"kind": {"kind": "Deployment"}, "operation": "DELETE", "oldObject": old}, "parameters": params}
	count(min_replicas.violation) == 0 with input as deletion
	count(min_replicas.violation) == 0 with input as object.union(deletion, {"review": {"object": null}})
	deleting := object.union(deployment({"replicas": 1}), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(min_replicas.violation) == 0 with input as deleting
}

test_an_update_is_checked if {
	update := object.union(deployment({"replicas": 1}), {"review": {"operation": "UPDATE", "oldObject": {"spec": {"replicas": 3}}}})
	count(min_replicas.violation) == 1 with input as update
}
