package gatehouse.kubernetes.require_pdb_test

import data.gatehouse.kubernetes.require_pdb

web_labels := {"app": "web", "tier": "front"}

workload(kind, spec) := {
	"apiVersion": "apps/v1",
	"kind": kind,
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": spec,
}

template := {"metadata": {"labels": web_labels}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}

deployment(replicas) := workload("Deployment", {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": template})

# A Deployment that leaves spec.replicas to an HPA.
scaled := workload("Deployment", {"selector": {"matchLabels": {"app": "web"}}, "template": template})

review(obj) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": obj.kind},
	"name": obj.metadata.name,
	"namespace": "shop",
	"operation": "CREATE",
	"object": obj,
}}

pdb(name, spec) := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": spec,
}

web_selector := {"matchLabels": {"app": "web"}}

budget := pdb("web", {"maxUnavailable": 1, "selector": web_selector})

# An inventory holding the given budgets (name -> object) in one namespace.
pdbs_in(ns, budgets) := {"namespace": {ns: {"policy/v1": {"PodDisruptionBudget": budgets}}}}

with_selector(selector) := pdbs_in("shop", {"web": pdb("web", {"maxUnavailable": 1, "selector": selector})})

with_budget(spec) := pdbs_in("shop", {"web": pdb("web", object.union({"selector": web_selector}, spec))})

hpa(min) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {
		"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
		"minReplicas": min,
		"maxReplicas": 10,
	},
}

violations(inp, inv) := v if {
	v := require_pdb.violation with input as inp with data.inventory as inv
}

paths(inp, inv) := {x.path | some x in violations(inp, inv)}

missing_msg := "Deployment \"web\" runs at least 3 replicas but no PodDisruptionBudget (policy/v1) in namespace \"shop\" selects its pods: node drains and upgrades may take them all down at once"

test_a_selecting_budget_passes if {
	count(violations(review(deployment(3)), pdbs_in("shop", {"web": budget}))) == 0
}

test_no_budget_is_reported_at_spec_replicas if {
	violations(review(deployment(3)), {}) == {{"msg": missing_msg, "path": "/spec/replicas"}}
}

test_no_inventory_at_all_is_no_budget if {
	v := require_pdb.violation with input as review(deployment(3))
	v == {{"msg": missing_msg, "path": "/spec/replicas"}}
}

test_a_budget_in_another_namespace_does_not_count if {
	violations(review(deployment(3)), pdbs_in("other", {"web": budget})) == {{"msg": missing_msg, "path": "/spec/replicas"}}
}

test_other_kinds_in_the_namespace_do_not_count if {
	inv := {"namespace": {"shop": {
		"policy/v1beta1": {"PodDisruptionBudget": {"web": budget}},
		"v1": {"Service": {"web": {"spec": {"selector": {"app": "web"}}}}},
	}}}
	paths(review(deployment(3)), inv) == {"/spec/replicas"}
}

test_a_label_mismatch_is_no_budget if {
	paths(review(deployment(3)), with_selector({"matchLabels": {"app": "api"}})) == {"/spec/replicas"}
	paths(review(deployment(3)), with_selector({"matchLabels": {"app": "web", "tier": "back"}})) == {"/spec/replicas"}
	paths(review(deployment(3)), with_selector({"matchLabels": {"app": "web", "tier": "front"}})) == set()
}

test_match_expressions_are_honoured if {
	inp := review(deployment(3))
	count(violations(inp, with_selector({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}))) == 0
	count(violations(inp, with_selector({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}))) == 0
	count(violations(inp, with_selector({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}))) == 0
	count(violations(inp, with_selector({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}))) == 0
	count(violations(inp, with_selector({
		"matchLabels": {"app": "web"},
		"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}],
	}))) == 0
	paths(inp, with_selector({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]})) == {"/spec/replicas"}
	paths(inp, with_selector({
		"matchLabels": {"app": "web"},
		"matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}],
	})) == {"/spec/replicas"}
}

test_a_null_or_absent_selector_selects_nothing if {
	inp := review(deployment(3))
	paths(inp, with_selector(null)) == {"/spec/replicas"}
	paths(inp, pdbs_in("shop", {"web": pdb("web", {"maxUnavailable": 1})})) == {"/spec/replicas"}
}

test_an_empty_selector_selects_every_pod_of_the_namespace if {
	inp := review(deployment(3))
	count(violations(inp, with_selector({}))) == 0
	count(violations(inp, with_selector({"matchLabels": {}, "matchExpressions": []}))) == 0
	count(violations(inp, with_selector({"matchLabels": null, "matchExpressions": null}))) == 0
	unlabelled := workload("Deployment", {"replicas": 2, "template": {"spec": {}}})
	count(violations(review(unlabelled), with_selector({}))) == 0
	paths(review(unlabelled), with_selector(web_selector)) == {"/spec/replicas"}
}

test_malformed_selectors_and_budgets_select_nothing_without_error if {
	inp := review(deployment(3))
	paths(inp, with_selector("app=web")) == {"/spec/replicas"}
	paths(inp, with_selector({"matchLabels": "app=web"})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": {"key": "app"}})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": [{"key": "app", "operator": "In", "values": "web"}]})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": [{"key": "app", "operator": "In"}]})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": ["app"]})) == {"/spec/replicas"}
	paths(inp, with_selector({"matchExpressions": [{"key": 1, "operator": "Exists"}]})) == {"/spec/replicas"}
	paths(inp, pdbs_in("shop", {"web": "not an object"})) == {"/spec/replicas"}
	paths(inp, pdbs_in("shop", {"web": {"spec": "not an object"}})) == {"/spec/replicas"}
	paths(inp, {"namespace": {"shop": {"policy/v1": {"PodDisruptionBudget": "not an object"}}}}) == {"/spec/replicas"}
	paths(inp, {"namespace": {"shop": {"policy/v1": {"PodDisruptionBudget": ["not", "an", "object"]}}}}) == {"/spec/replicas"}
	paths(inp, {"namespace": {"shop": "not an object"}}) == {"/spec/replicas"}
	paths(inp, {"namespace": "not an object"}) == {"/spec/replicas"}
}

test_malformed_workloads_raise_nothing_without_error if {
	count(violations(review(deployment("3")), {})) == 0
	count(violations(review(deployment(null)), {})) == 0
	count(violations(review(workload("Deployment", "not a spec")), {})) == 0
	null_labels := workload("Deployment", {"replicas": 2, "template": {"metadata": {"labels": null}}})
	paths(review(null_labels), pdbs_in("shop", {"web": budget})) == {"/spec/replicas"}
	count(violations(review(null_labels), with_selector({}))) == 0
	string_labels := workload("Deployment", {"replicas": 2, "template": {"metadata": {"labels": "app=web"}}})
	paths(review(string_labels), pdbs_in("shop", {"web": budget})) == {"/spec/replicas"}
	hpas := {"namespace": {"shop": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa(3)}}}}}
	paths(review(workload("Deployment", "not a spec")), hpas) == {"/spec"}
	paths(review(workload("Deployment", ["not a spec"])), hpas) == {"/spec"}
}

test_a_single_replica_is_exempt if {
	count(violations(review(deployment(1)), {})) == 0
	count(violations(review(deployment(0)), {})) == 0
	count(violations(review(scaled), {})) == 0
	count(require_pdb.violation) == 0 with input as review(deployment(1))
}

test_an_hpa_makes_a_workload_multi_replica if {
	inv := {"namespace": {"shop": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa(2)}}}}}
	v := violations(review(scaled), inv)
	v == {{
		"msg": "Deployment \"web\" runs at least 2 replicas but no PodDisruptionBudget (policy/v1) in namespace \"shop\" selects its pods: node drains and upgrades may take them all down at once",
		"path": "/spec",
	}}
	paths(review(deployment(1)), inv) == {"/spec/replicas"}
	with_pdb := object.union(inv, pdbs_in("shop", {"web": budget}))
	count(violations(review(scaled), with_pdb)) == 0
}

test_an_hpa_with_one_minimum_replica_exempts_the_workload if {
	inv := {"namespace": {"shop": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa(1)}}}}}
	count(violations(review(deployment(3)), inv)) == 0
}

test_an_hpa_in_another_namespace_does_not_count if {
	inv := {"namespace": {"other": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa(4)}}}}}
	count(violations(review(scaled), inv)) == 0
}

test_the_namespace_of_the_review_wins_over_the_manifest if {
	obj := object.union(deployment(3), {"metadata": {"namespace": "other"}})
	count(violations(review(obj), pdbs_in("shop", {"web": budget}))) == 0
	paths(review(obj), pdbs_in("other", {"web": budget})) == {"/spec/replicas"}
}

test_the_namespace_falls_back_to_the_manifest_then_default if {
	inp := {"review": {"kind": {"group": "apps", "kind": "Deployment"}, "object": object.union(deployment(3), {"metadata": {"namespace": "other"}})}}
	count(violations(inp, pdbs_in("other", {"web": budget}))) == 0
	paths(inp, pdbs_in("shop", {"web": budget})) == {"/spec/replicas"}
	bare := {"review": {"kind": {"group": "apps", "kind": "Deployment"}, "object": object.remove(deployment(3), ["metadata"])}}
	count(violations(bare, pdbs_in("default", {"web": budget}))) == 0
	paths(bare, pdbs_in("shop", {"web": budget})) == {"/spec/replicas"}
}

test_every_targeted_kind_is_checked if {
	spec := {"replicas": 2, "selector": web_selector, "template": template}
	kinds := ["Deployment", "StatefulSet", "ReplicaSet"]
	missing := {kind: p |
		some kind in kinds
		p := paths(review(workload(kind, spec)), {})
	}
	count(missing) == 3
	every p in missing {
		p == {"/spec/replicas"}
	}
	covered := {kind: n |
		some kind in kinds
		n := count(violations(review(workload(kind, spec)), pdbs_in("shop", {"web": budget})))
	}
	count(covered) == 3
	every n in covered {
		n == 0
	}
}

test_the_message_names_the_kind if {
	v := violations(review(workload("StatefulSet", {"replicas": 3, "template": template})), {})
	[x.msg | some x in v] == ["StatefulSet \"web\" runs at least 3 replicas but no PodDisruptionBudget (policy/v1) in namespace \"shop\" selects its pods: node drains and upgrades may take them all down at once"]
}

test_a_budget_that_allows_no_disruption_is_reported if {
	v := violations(review(deployment(3)), with_budget({"maxUnavailable": 0}))
	v == {{
		"msg": "PodDisruptionBudget \"web\" selects the pods of Deployment \"web\" but allows no voluntary disruption (maxUnavailable 0 with 3 replicas): it blocks node drains and cluster upgrades",
		"path": "/spec/replicas",
	}}
}

test_every_blocking_budget_is_reported if {
	inp := review(deployment(3))
	blocking := [
		{"maxUnavailable": 0},
		{"maxUnavailable": "0%"},
		{"minAvailable": 3},
		{"minAvailable": 5},
		{"minAvailable": "100%"},
		{"minAvailable": "70%"},
	]
	found := [p | some spec in blocking; p := paths(inp, with_budget(spec))]
	found == [{"/spec/replicas"} | some _ in blocking]
	msgs := [x.msg | some x in violations(inp, with_budget({"minAvailable": "100%"}))]
	msgs == ["PodDisruptionBudget \"web\" selects the pods of Deployment \"web\" but allows no voluntary disruption (minAvailable 100% with 3 replicas): it blocks node drains and cluster upgrades"]
}

test_budgets_that_allow_a_disruption_pass if {
	inp := review(deployment(3))
	allowing := [
		{"maxUnavailable": 1},
		{"maxUnavailable": "1%"},
		{"maxUnavailable": "25%"},
		{"minAvailable": 2},
		{"minAvailable": "66%"},
		{"minAvailable": "50%"},
		{"minAvailable": 0},
		{"maxUnavailable": 1, "minAvailable": 3},
	]
	found := [n | some spec in allowing; n := count(violations(inp, with_budget(spec)))]
	found == [0 | some _ in allowing]
}

test_percentages_round_up_as_the_disruption_controller_does if {
	two := review(deployment(2))
	paths(two, with_budget({"minAvailable": "51%"})) == {"/spec/replicas"}
	count(violations(two, with_budget({"minAvailable": "50%"}))) == 0
	ten := review(deployment(10))
	paths(ten, with_budget({"minAvailable": "91%"})) == {"/spec/replicas"}
	count(violations(ten, with_budget({"minAvailable": "90%"}))) == 0
}

test_malformed_budgets_are_not_blocking_and_raise_no_error if {
	inp := review(deployment(3))
	count(violations(inp, with_budget({"maxUnavailable": "0"}))) == 0
	count(violations(inp, with_budget({"minAvailable": "all"}))) == 0
	count(violations(inp, with_budget({"minAvailable": "3"}))) == 0
	count(violations(inp, with_budget({"minAvailable": null}))) == 0
	count(violations(inp, with_budget({"minAvailable": "-5%"}))) == 0
}

test_a_blocking_budget_is_measured_against_the_hpa_minimum if {
	hpas := {"namespace": {"shop": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa(2)}}}}}
	inv := object.union(hpas, with_budget({"minAvailable": 2}))
	v := violations(review(deployment(5)), inv)
	[x.msg | some x in v] == ["PodDisruptionBudget \"web\" selects the pods of Deployment \"web\" but allows no voluntary disruption (minAvailable 2 with 2 replicas): it blocks node drains and cluster upgrades"]
	[x.path | some x in v] == ["/spec/replicas"]
	count(violations(review(scaled), object.union(hpas, with_budget({"minAvailable": 1})))) == 0
}

test_a_blocking_budget_that_does_not_select_the_pods_is_ignored if {
	budgets := {
		"web": budget,
		"api": pdb("api", {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "api"}}}),
	}
	count(violations(review(deployment(3)), pdbs_in("shop", budgets))) == 0
}

test_overlapping_budgets_are_reported if {
	budgets := {
		"web": budget,
		"front": pdb("front", {"minAvailable": 1, "selector": {"matchLabels": {"tier": "front"}}}),
	}
	v := violations(review(deployment(3)), pdbs_in("shop", budgets))
	v == {{
		"msg": "PodDisruptionBudgets \"front\", \"web\" all select the pods of Deployment \"web\": the eviction API refuses to evict a pod that more than one budget selects, so node drains and upgrades block on them",
		"path": "/spec/replicas",
	}}
}
