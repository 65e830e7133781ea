package gatehouse.kubernetes.require_canary_for_critical_test

import data.gatehouse.kubernetes.require_canary_for_critical

params := {"criticalLabel": "gatehouse.dev/tier", "criticalValues": ["critical"]}

critical := {"gatehouse.dev/tier": "critical"}

template := {"metadata": {"labels": {"app": "checkout"}}, "spec": {"containers": [{"name": "checkout", "image": "checkout:1"}]}}

review(group, kind, labels, spec) := {
	"review": {
		"kind": {"group": group, "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {
			"kind": kind,
			"metadata": {"name": "checkout", "namespace": "shop", "labels": labels},
			"spec": spec,
		},
	},
	"parameters": params,
}

deployment(labels, spec) := review("apps", "Deployment", labels, object.union({"replicas": 3, "template": template}, spec))

rollout(labels, strategy) := review("argoproj.io", "Rollout", labels, {"replicas": 3, "template": template, "strategy": strategy})

canary(steps) := {"canary": {"steps": steps}}

good_steps := [{"setWeight": 20}, {"pause": {"duration": "10m"}}, {"analysis": {"templates": [{"templateName": "success-rate"}]}}]

paths(inp) := {x.path | some x in require_canary_for_critical.violation with input as inp}

deployment_msg := "Deployment \"checkout\" is labelled gatehouse.dev/tier=critical but is a Deployment, which replaces its pods without exposing the new version to part of the traffic first: convert it to an Argo Rollout (argoproj.io/v1alpha1) with canary steps, or take it over with a Rollout's spec.workloadRef"

test_a_critical_deployment_is_reported_at_its_kind if {
	v := require_canary_for_critical.violation with input as deployment(critical, {})
	v == {{"msg": deployment_msg, "path": "/kind"}}
}

test_the_label_may_sit_on_the_pod_template if {
	labelled := object.union(template, {"metadata": {"labels": critical}})
	paths(deployment({"app": "checkout"}, {"template": labelled})) == {"/kind"}
	paths(deployment(null, {"template": labelled})) == {"/kind"}
}

test_other_deployments_pass if {
	count(require_canary_for_critical.violation) == 0 with input as deployment({"gatehouse.dev/tier": "standard"}, {})
	count(require_canary_for_critical.violation) == 0 with input as deployment({"app": "checkout"}, {})
	count(require_canary_for_critical.violation) == 0 with input as deployment(null, {})
	count(require_canary_for_critical.violation) == 0 with input as deployment("gatehouse.dev/tier=critical", {"template": "x"})
	count(require_canary_for_critical.violation) == 0 with input as deployment({"tier": "critical"}, {})
}

test_label_and_values_are_parameters if {
	custom := {"criticalLabel": "example.com/criticality", "criticalValues": ["tier-0", "tier-1"]}
	inp := object.union(deployment({"example.com/criticality": "tier-1"}, {}), {"parameters": custom})
	v := require_canary_for_critical.violation with input as inp
	[x.msg | some x in v] == [replace(deployment_msg, "gatehouse.dev/tier=critical", "example.com/criticality=tier-1")]
	count(require_canary_for_critical.violation) == 0 with input as object.union(deployment(critical, {}), {"parameters": custom})
	count(require_canary_for_critical.violation) == 0 with input as object.union(deployment(critical, {}), {"parameters": {"criticalLabel": "gatehouse.dev/tier", "criticalValues": []}})
	count(require_canary_for_critical.violation) == 0 with input as object.union(deployment(critical, {}), {"parameters": {"criticalLabel": "gatehouse.dev/tier", "criticalValues": "critical"}})
}

test_object_and_template_values_may_differ_without_conflict if {
	both := {"criticalLabel": "gatehouse.dev/tier", "criticalValues": ["critical", "tier-0"]}
	labelled := object.union(template, {"metadata": {"labels": {"gatehouse.dev/tier": "tier-0"}}})
	inp := object.union(deployment(critical, {"template": labelled}), {"parameters": both})
	v := require_canary_for_critical.violation with input as inp
	[x.msg | some x in v] == [deployment_msg]
}

test_a_parked_deployment_is_exempt if {
	count(require_canary_for_critical.violation) == 0 with input as deployment(critical, {"replicas": 0})
	paths(deployment(critical, {"replicas": null})) == {"/kind"}
}

workload_ref_rollout(ns, name) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "Rollout",
	"metadata": {"name": "checkout", "namespace": ns},
	"spec": {
		"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
		"strategy": canary(good_steps),
	},
}

rollouts_in(ns, r) := {"namespace": {ns: {"argoproj.io/v1alpha1": {"Rollout": {"checkout": r}}}}}

test_a_deployment_taken_over_by_a_rollout_of_its_namespace_is_exempt if {
	inp := deployment(critical, {})
	count(require_canary_for_critical.violation) == 0 with input as inp with data.inventory as rollouts_in("shop", workload_ref_rollout("shop", "checkout"))
	paths(inp) == {"/kind"} with data.inventory as rollouts_in("other", workload_ref_rollout("other", "checkout"))
	paths(inp) == {"/kind"} with data.inventory as rollouts_in("shop", workload_ref_rollout("shop", "cart"))
	stateful := object.union(workload_ref_rollout("shop", "checkout"), {"spec": {"workloadRef": {"kind": "ReplicaSet"}}})
	paths(inp) == {"/kind"} with data.inventory as rollouts_in("shop", stateful)
	paths(inp) == {"/kind"} with data.inventory as rollouts_in("shop", "not a rollout")
	paths(inp) == {"/kind"} with data.inventory as {"namespace": {"shop": {"argoproj.io/v1alpha1": {"Rollout": ["x"]}}}}
}

test_a_critical_canary_rollout_passes if {
	count(require_canary_for_critical.violation) == 0 with input as rollout(critical, canary(good_steps))
	count(require_canary_for_critical.violation) == 0 with input as rollout(critical, canary([{"setCanaryScale": {"weight": 10}}, {"setWeight": 1}]))
	count(require_canary_for_critical.violation) == 0 with input as rollout(critical, canary([{"setWeight": 99}]))
}

test_a_blue_green_rollout_is_reported if {
	v := require_canary_for_critical.violation with input as rollout(critical, {"blueGreen": {"activeService": "checkout", "previewService": "checkout-preview"}})
	v == {{
		"msg": "Rollout \"checkout\" is labelled gatehouse.dev/tier=critical but uses the blueGreen strategy, which moves all traffic to the new version at once: use spec.strategy.canary with setWeight steps",
		"path": "/spec/strategy/blueGreen",
	}}
}

test_a_rollout_without_strategy_is_reported if {
	v := require_canary_for_critical.violation with input as rollout(critical, null)
	v == {{
		"msg": "Rollout \"checkout\" is labelled gatehouse.dev/tier=critical but sets no canary strategy: use spec.strategy.canary with setWeight steps",
		"path": "/spec/strategy",
	}}
	paths(rollout(critical, {})) == {"/spec/strategy"}
	paths(rollout(critical, "canary")) == {"/spec/strategy"}
	paths(rollout(critical, {"canary": null})) == {"/spec/strategy"}
	paths(rollout(critical, {"canary": "steps"})) == {"/spec/strategy"}
}

test_a_canary_that_never_splits_traffic_is_reported if {
	msg := "Rollout \"checkout\" is labelled gatehouse.dev/tier=critical but its canary has no setWeight step between 1 and 99, so the new version never serves only part of the traffic: it goes to 100% in one step. Add steps such as setWeight: 20 and a pause before full promotion"
	v := require_canary_for_critical.violation with input as rollout(critical, {"canary": {}})
	v == {{"msg": msg, "path": "/spec/strategy/canary/steps"}}
	no_step_splits := [
		{"canary": {"steps": null}},
		{"canary": {"steps": []}},
		{"canary": {"steps": "setWeight: 20"}},
		canary([{"pause": {}}, {"analysis": {"templates": [{"templateName": "success-rate"}]}}]),
		canary([{"setWeight": 100}]),
		canary([{"setWeight": 0}, {"pause": {"duration": "1h"}}]),
		canary([{"setWeight": "20"}]),
		canary(["setWeight", null]),
	]
	every strategy in no_step_splits {
		paths(rollout(critical, strategy)) == {"/spec/strategy/canary/steps"}
	}
}

test_non_critical_rollouts_are_left_alone if {
	count(require_canary_for_critical.violation) == 0 with input as rollout({"app": "checkout"}, {"blueGreen": {"activeService": "checkout"}})
	count(require_canary_for_critical.violation) == 0 with input as rollout(null, null)
}

test_a_workload_ref_rollout_is_judged_by_its_own_labels if {
	ref := {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"}}
	inp := review("argoproj.io", "Rollout", critical, object.union(ref, {"strategy": canary(good_steps)}))
	count(require_canary_for_critical.violation) == 0 with input as inp
	blue := review("argoproj.io", "Rollout", critical, object.union(ref, {"strategy": {"blueGreen": {"activeService": "checkout"}}}))
	paths(blue) == {"/spec/strategy/blueGreen"}
	unlabelled := review("argoproj.io", "Rollout", null, object.union(ref, {"strategy": {"blueGreen": {"activeService": "checkout"}}}))
	count(require_canary_for_critical.violation) == 0 with input as unlabelled
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	inp := object.union(deployment(critical, {}), {"review": {"object": {"metadata": {"name": 9}}}})
	v := require_canary_for_critical.violation with input as inp
	[x.msg | some x in v] == [replace(deployment_msg, "\"checkout\"", "9")]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	old := deployment(critical, {}).review.object
	deletion := {"review": {"kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "namespace": "shop", "operation": "DELETE", "object": null, "oldObject": old}, "parameters": params}
	count(require_canary_for_critical.violation) == 0 with input as deletion
	deleting := object.union(rollout(critical, null), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(require_canary_for_critical.violation) == 0 with input as deleting
}
