package gatehouse.kubernetes.require_hpa_test

import data.gatehouse.kubernetes.require_hpa

params := {"minReplicas": 2, "scaleToZeroLabel": "gatehouse.dev/scale-to-zero"}

workload(kind, labels, spec) := {
	"review": {
		"kind": {"group": "apps", "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {"metadata": {"name": "web", "namespace": "shop", "labels": labels}, "spec": spec},
	},
	"parameters": params,
}

deployment(spec) := workload("Deployment", {"app": "web"}, spec)

scale_to_zero(spec) := workload("Deployment", {"app": "web", "gatehouse.dev/scale-to-zero": "true"}, spec)

cpu := {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}

memory := {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}}

hpa_named(name, version, target_kind, spec) := {
	"apiVersion": version,
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": object.union({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": "web"}, "maxReplicas": 10}, spec),
}

hpa(spec) := hpa_named("web", "autoscaling/v2", "Deployment", spec)

good_hpa := hpa({"minReplicas": 2, "metrics": [cpu]})

scaled_object_named(name, target) := {
	"apiVersion": "keda.sh/v1alpha1",
	"kind": "ScaledObject",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {
		"scaleTargetRef": target,
		"minReplicaCount": 0,
		"maxReplicaCount": 10,
		"triggers": [{"type": "rabbitmq", "metadata": {"queueName": "jobs", "mode": "QueueLength", "value": "20"}}],
	},
}

scaled_object := scaled_object_named("web", {"name": "web"})

# An inventory of HPAs (any API version) and ScaledObjects in one namespace.
inventory_in(ns, hpas, scaled_objects) := {"namespace": {ns: object.union(
	{v: {"HorizontalPodAutoscaler": {h.metadata.name: h | some h in hpas; h.apiVersion == v}} | some v in {h.apiVersion | some h in hpas}},
	{"keda.sh/v1alpha1": {"ScaledObject": {s.metadata.name: s | some s in scaled_objects}}},
)}}

shop(hpas, scaled_objects) := inventory_in("shop", hpas, scaled_objects)

violations(inp, inv) := v if {
	v := require_hpa.violation with input as inp with data.inventory as inv
}

messages(inp, inv) := {x.msg | some x in violations(inp, inv)}

none := {"namespace": {}}

no_hpa := "Deployment \"web\" runs 3 replicas but no HorizontalPodAutoscaler in namespace \"shop\" scales it: add an autoscaling/v2 HPA with minReplicas of at least 2 and a Resource metric on cpu (target type Utilization)"

test_a_multi_replica_workload_without_an_hpa_is_reported if {
	violations(deployment({"replicas": 3}), none) == {{"msg": no_hpa, "path": "/spec/replicas"}}
	count(violations(deployment({"replicas": 2}), none)) == 1
}

test_a_cpu_hpa_with_a_redundant_floor_passes if {
	count(violations(deployment({"replicas": 3}), shop([good_hpa], []))) == 0
	count(violations(deployment({}), shop([good_hpa], []))) == 0
}

test_container_resource_cpu_counts if {
	container_cpu := {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 60}}}
	inv := shop([hpa({"minReplicas": 2, "metrics": [memory, container_cpu]})], [])
	count(violations(deployment({"replicas": 3}), inv)) == 0
}

test_an_hpa_without_metrics_defaults_to_cpu if {
	count(violations(deployment({"replicas": 3}), shop([hpa({"minReplicas": 2})], []))) == 0
	count(violations(deployment({"replicas": 3}), shop([hpa({"minReplicas": 2, "metrics": null})], []))) == 0
	count(violations(deployment({"replicas": 3}), shop([hpa({"minReplicas": 2, "metrics": []})], []))) == 0
}

test_an_hpa_on_other_metrics_is_reported if {
	average_cpu := {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "500m"}}}
	external := {"type": "External", "external": {"metric": {"name": "queue_depth"}, "target": {"type": "AverageValue", "averageValue": "30"}}}
	msg := "Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which scales on no CPU utilization metric: add a Resource metric on cpu with target type Utilization (such as averageUtilization: 70)"
	every metrics in [[memory], [average_cpu], [external], [{"type": "Resource"}], [null, "cpu"]] {
		messages(deployment({"replicas": 3}), shop([hpa({"minReplicas": 2, "metrics": metrics})], [])) == {msg}
	}
	messages(deployment({"replicas": 3}), shop([hpa({"minReplicas": 2, "metrics": {"cpu": 70}})], [])) == {msg}
}

test_a_low_floor_is_reported if {
	v := violations(deployment({"replicas": 3}), shop([hpa({"minReplicas": 1, "metrics": [cpu]})], []))
	v == {{"msg": "Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which has minReplicas 1, below the minimum of 2", "path": "/spec/replicas"}}
	messages(deployment({"replicas": 3}), shop([hpa({"metrics": [cpu]})], [])) == {"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which sets no minReplicas, so it scales down to 1 replica, below the minimum of 2"}
	messages(deployment({"replicas": 3}), shop([hpa({"minReplicas": "3", "metrics": [cpu]})], [])) == {"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which has minReplicas \"3\", which is not a number (the minimum is 2)"}
}

test_an_hpa_brings_a_single_replica_workload_in_scope if {
	v := violations(deployment({}), shop([hpa({"minReplicas": 1, "metrics": [cpu]})], []))
	[x.path | some x in v] == ["/spec"]
	count(violations(deployment({"replicas": 1}), shop([hpa({"minReplicas": 1, "metrics": [cpu]})], []))) == 1
}

test_single_replica_workloads_without_an_autoscaler_are_left_to_min_replicas if {
	every spec in [{}, {"replicas": 1}, {"replicas": 0}, {"replicas": null}, {"replicas": "3"}] {
		count(violations(deployment(spec), none)) == 0
	}
}

test_an_autoscaling_v1_hpa_is_reported_with_the_fix if {
	v1 := hpa_named("web", "autoscaling/v1", "Deployment", {"minReplicas": 2, "targetCPUUtilizationPercentage": 70})
	messages(deployment({"replicas": 3}), shop([v1], [])) == {"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which is autoscaling/v1, not autoscaling/v2: write it as autoscaling/v2 with a Resource metric on cpu (target type Utilization)"}
	low := hpa_named("web", "autoscaling/v1", "Deployment", {"minReplicas": 1})
	count(violations(deployment({"replicas": 3}), shop([low], []))) == 2
}

test_one_fitting_hpa_is_enough if {
	other := hpa_named("web-memory", "autoscaling/v2", "Deployment", {"minReplicas": 1, "metrics": [memory]})
	count(violations(deployment({"replicas": 3}), shop([other, good_hpa], []))) == 0
	messages(deployment({"replicas": 3}), shop([other, hpa({"minReplicas": 1, "metrics": [cpu]})], [])) == {
		"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web-memory\", which scales on no CPU utilization metric: add a Resource metric on cpu with target type Utilization (such as averageUtilization: 70)",
		"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web-memory\", which has minReplicas 1, below the minimum of 2",
		"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which has minReplicas 1, below the minimum of 2",
	}
}

test_an_hpa_in_another_namespace_or_for_another_target_does_not_count if {
	messages(deployment({"replicas": 3}), inventory_in("other", [good_hpa], [])) == {no_hpa}
	for_statefulset := hpa_named("web", "autoscaling/v2", "StatefulSet", {"minReplicas": 2, "metrics": [cpu]})
	messages(deployment({"replicas": 3}), shop([for_statefulset], [])) == {no_hpa}
	api := object.union(good_hpa, {"spec": {"scaleTargetRef": {"name": "api"}}})
	messages(deployment({"replicas": 3}), shop([api], [])) == {no_hpa}
}

test_statefulsets_are_checked if {
	sts := workload("StatefulSet", {"app": "web"}, {"replicas": 3})
	messages(sts, none) == {"StatefulSet \"web\" runs 3 replicas but no HorizontalPodAutoscaler in namespace \"shop\" scales it: add an autoscaling/v2 HPA with minReplicas of at least 2 and a Resource metric on cpu (target type Utilization)"}
	for_sts := hpa_named("web", "autoscaling/v2", "StatefulSet", {"minReplicas": 2, "metrics": [cpu]})
	count(violations(sts, shop([for_sts], []))) == 0
}

test_the_minimum_is_a_parameter if {
	three := object.union(deployment({"replicas": 3}), {"parameters": {"minReplicas": 3}})
	messages(three, shop([good_hpa], [])) == {"Deployment \"web\" is scaled by HorizontalPodAutoscaler \"web\", which has minReplicas 2, below the minimum of 3"}
	one := object.union(deployment({"replicas": 3}), {"parameters": {"minReplicas": 1}})
	count(violations(one, shop([hpa({"metrics": [cpu]})], []))) == 0
}

test_a_scale_to_zero_workload_with_a_scaled_object_needs_no_hpa if {
	every spec in [{}, {"replicas": 0}, {"replicas": 3}] {
		count(violations(scale_to_zero(spec), shop([], [scaled_object]))) == 0
	}
	deployment_kind := scaled_object_named("web", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"})
	count(violations(scale_to_zero({}), shop([], [deployment_kind]))) == 0
}

test_a_scale_to_zero_workload_without_a_scaled_object_is_reported_at_its_label if {
	v := violations(scale_to_zero({"replicas": 0}), none)
	v == {{
		"msg": "Deployment \"web\" is labelled gatehouse.dev/scale-to-zero=true but no KEDA ScaledObject (keda.sh/v1alpha1) in namespace \"shop\" scales it: add one whose spec.scaleTargetRef names it, or remove the label and scale it with an autoscaling/v2 HorizontalPodAutoscaler on CPU utilization",
		"path": "/metadata/labels/gatehouse.dev~1scale-to-zero",
	}}
	# An HPA does not stand in for the ScaledObject.
	count(violations(scale_to_zero({"replicas": 3}), shop([good_hpa], []))) == 1
	count(violations(scale_to_zero({}), inventory_in("other", [], [scaled_object]))) == 1
}

test_a_scaled_object_targets_a_deployment_unless_it_names_a_kind if {
	sts := workload("StatefulSet", {"gatehouse.dev/scale-to-zero": "true"}, {"replicas": 0})
	count(violations(sts, shop([], [scaled_object]))) == 1
	for_sts := scaled_object_named("web", {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"})
	count(violations(sts, shop([], [for_sts]))) == 0
	count(violations(scale_to_zero({}), shop([], [for_sts]))) == 1
	other := scaled_object_named("web", {"name": "api"})
	count(violations(scale_to_zero({}), shop([], [other]))) == 1
}

test_only_the_value_true_marks_scale_to_zero if {
	off := workload("Deployment", {"gatehouse.dev/scale-to-zero": "false"}, {"replicas": 3})
	messages(off, none) == {no_hpa}
	count(violations(workload("Deployment", {"gatehouse.dev/scale-to-zero": "false"}, {}), none)) == 0
	count(violations(workload("Deployment", null, {"replicas": 3}), none)) == 1
	count(violations(workload("Deployment", "gatehouse.dev/scale-to-zero=true", {"replicas": 3}), none)) == 1
}

test_the_label_is_a_parameter if {
	custom := object.union(workload("Deployment", {"autoscaling.acme.io/idle": "true"}, {}), {"parameters": {"scaleToZeroLabel": "autoscaling.acme.io/idle"}})
	[x.path | some x in violations(custom, none)] == ["/metadata/labels/autoscaling.acme.io~1idle"]
	count(violations(custom, shop([], [scaled_object]))) == 0
	# The default label means nothing then.
	default_label := object.union(scale_to_zero({"replicas": 3}), {"parameters": {"scaleToZeroLabel": "autoscaling.acme.io/idle"}})
	messages(default_label, none) == {no_hpa}
}

test_a_scaled_object_on_an_unlabelled_workload_is_reported if {
	v := violations(deployment({}), shop([], [scaled_object]))
	v == {{
		"msg": "Deployment \"web\" is scaled by KEDA ScaledObject \"web\" but is not labelled gatehouse.dev/scale-to-zero=true: label it if it scales to zero, or else scale it with an autoscaling/v2 HorizontalPodAutoscaler on CPU utilization",
		"path": "/metadata/labels",
	}}
}

test_hpas_owned_by_a_scaled_object_are_left_out if {
	owner := {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "web", "controller": true}
	keda_hpa := object.union(hpa_named("keda-hpa-web", "autoscaling/v2", "Deployment", {"minReplicas": 2, "metrics": [cpu]}), {"metadata": {"ownerReferences": [owner]}})
	count(violations(scale_to_zero({}), shop([keda_hpa], [scaled_object]))) == 0
	messages(deployment({"replicas": 3}), shop([keda_hpa], [])) == {no_hpa}
	[x.path | some x in violations(deployment({}), shop([keda_hpa], [scaled_object]))] == ["/metadata/labels"]
	not_keda := object.union(keda_hpa, {"metadata": {"ownerReferences": [{"apiVersion": 1, "kind": "ScaledObject"}]}})
	count(violations(deployment({"replicas": 3}), shop([not_keda], []))) == 0
}

test_the_inventory_index_is_used_when_present if {
	inv := shop([good_hpa], [scaled_object])
	index := {"namespace": {"shop": {"scaleTargets": {"Deployment": {"web": {
		"autoscaling/v2/HorizontalPodAutoscaler/web": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "web"},
		"keda.sh/v1alpha1/ScaledObject/web": {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "web"},
	}}}}}}
	n := count(require_hpa.violation) with input as scale_to_zero({}) with data.inventory as inv with data.inventory_index as index
	n == 0
	m := count(require_hpa.violation) with input as deployment({"replicas": 3}) with data.inventory as shop([good_hpa], []) with data.inventory_index as index
	m == 0
	# With an index, what it does not list is not scanned for.
	empty := {"namespace": {}}
	k := count(require_hpa.violation) with input as scale_to_zero({}) with data.inventory as inv with data.inventory_index as empty
	k == 1
}

test_malformed_inventory_objects_raise_no_error if {
	broken_so := {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"}, "spec": {"scaleTargetRef": "web"}}
	no_spec := {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "y"}, "spec": null}
	count(violations(scale_to_zero({}), shop([], [broken_so, no_spec]))) == 1
	string_spec := object.union(hpa({}), {"spec": {"minReplicas": 2, "metrics": "cpu"}})
	count(violations(deployment({"replicas": 3}), shop([string_spec], []))) == 1
	string_owners := object.union(good_hpa, {"metadata": {"ownerReferences": "keda"}})
	count(violations(deployment({"replicas": 3}), shop([string_owners], []))) == 0
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	doc := object.union(deployment({"replicas": 2}), {"review": {"object": {"metadata": {"name": 99}}}})
	messages(doc, none) == {"Deployment 99 runs 2 replicas but no HorizontalPodAutoscaler in namespace \"shop\" scales it: add an autoscaling/v2 HPA with minReplicas of at least 2 and a Resource metric on cpu (target type Utilization)"}
}

test_deletes_and_objects_being_deleted_are_let_through if {
	old := {"metadata": {"name": "web"}, "spec": {"replicas": 3}}
	deletion := {"review": {"kind": {"kind": "Deployment"}, "namespace": "shop", "operation": "DELETE", "object": null, "oldObject": old}, "parameters": params}
	count(violations(deletion, none)) == 0
	going := object.union(deployment({"replicas": 3}), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(going, none)) == 0
	update := object.union(deployment({"replicas": 3}), {"review": {"operation": "UPDATE"}})
	count(violations(update, none)) == 1
}
