package gatehouse.kubernetes.require_topology_spread_test

import data.gatehouse.kubernetes.require_topology_spread

params := {"topologyKeys": ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]}

host := "kubernetes.io/hostname"

zone := "topology.kubernetes.io/zone"

web_labels := {"app": "web", "tier": "front"}

web_selector := {"matchLabels": {"app": "web"}}

spread(key) := {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": web_selector}

required_term(key) := {"topologyKey": key, "labelSelector": web_selector}

preferred_term(key) := {"weight": 100, "podAffinityTerm": required_term(key)}

containers := [{"name": "web", "image": "web:1"}]

workload(kind, replicas, pod_spec) := {
	"review": {
		"kind": {"group": "apps", "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {
			"apiVersion": "apps/v1",
			"kind": kind,
			"metadata": {"name": "web", "namespace": "shop"},
			"spec": {
				"replicas": replicas,
				"selector": web_selector,
				"template": {"metadata": {"labels": web_labels}, "spec": object.union({"containers": containers}, pod_spec)},
			},
		},
	},
	"parameters": params,
}

deployment(pod_spec) := workload("Deployment", 3, pod_spec)

with_constraints(constraints) := deployment({"topologySpreadConstraints": constraints})

with_anti_affinity(anti) := deployment({"affinity": {"podAntiAffinity": anti}})

keys_missing(inp) := {key |
	some v in require_topology_spread.violation with input as inp
	some key in [host, zone]
	contains(v.msg, sprintf("topologyKey %q", [key]))
}

missing_msg(kind, n, key, noun) := sprintf("%s \"web\" runs at least %v replicas but nothing spreads its pods over %q: add a topologySpreadConstraint or a podAntiAffinity term with topologyKey %q and a labelSelector matching the pod template's labels, or losing one %s can take every replica", [kind, n, key, key, noun])

test_spread_constraints_on_both_keys_pass if {
	count(require_topology_spread.violation) == 0 with input as with_constraints([spread(host), spread(zone)])
}

test_anti_affinity_required_or_preferred_passes if {
	count(require_topology_spread.violation) == 0 with input as with_anti_affinity({
		"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host)],
		"preferredDuringSchedulingIgnoredDuringExecution": [preferred_term(zone)],
	})
	count(require_topology_spread.violation) == 0 with input as with_anti_affinity({"preferredDuringSchedulingIgnoredDuringExecution": [preferred_term(host), preferred_term(zone)]})
}

test_a_constraint_and_a_term_together_pass if {
	inp := deployment({
		"topologySpreadConstraints": [spread(zone)],
		"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host)]}},
	})
	count(require_topology_spread.violation) == 0 with input as inp
}

test_no_spreading_reports_each_key_at_the_pod_spec if {
	v := require_topology_spread.violation with input as deployment({})
	v == {
		{"msg": missing_msg("Deployment", 3, host, "node"), "path": "/spec/template/spec"},
		{"msg": missing_msg("Deployment", 3, zone, "zone"), "path": "/spec/template/spec"},
	}
}

test_a_node_spread_alone_misses_the_zone if {
	v := require_topology_spread.violation with input as with_constraints([spread(host)])
	v == {{"msg": missing_msg("Deployment", 3, zone, "zone"), "path": "/spec/template/spec"}}
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(zone)]})) == {host}
}

test_pod_affinity_is_not_spreading if {
	inp := deployment({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), required_term(zone)]}}})
	keys_missing(inp) == {host, zone}
}

test_a_selector_that_misses_the_pods_spreads_nothing if {
	other := {"matchLabels": {"app": "api"}}
	inp := with_constraints([spread(host), object.union(spread(zone), {"labelSelector": other})])
	v := require_topology_spread.violation with input as inp
	v == {{
		"msg": "Deployment \"web\" runs at least 3 replicas but its only rules on \"topology.kubernetes.io/zone\" do not select its own pods (labels {\"app\":\"web\",\"tier\":\"front\"}): add a topologySpreadConstraint or a podAntiAffinity term with topologyKey \"topology.kubernetes.io/zone\" and a labelSelector matching the pod template's labels, or losing one zone can take every replica",
		"path": "/spec/template/spec",
	}}
}

test_selector_semantics if {
	no_selector := object.remove(spread(zone), ["labelSelector"])
	keys_missing(with_constraints([spread(host), no_selector])) == {zone}
	keys_missing(with_constraints([spread(host), object.union(spread(zone), {"labelSelector": null})])) == {zone}
	keys_missing(with_constraints([spread(host), object.union(spread(zone), {"labelSelector": {}})])) == set()
	expressions := {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}
	keys_missing(with_constraints([spread(host), object.union(spread(zone), {"labelSelector": expressions})])) == set()
	too_narrow := {"matchLabels": {"app": "web", "tier": "back"}}
	keys_missing(with_constraints([spread(host), object.union(spread(zone), {"labelSelector": too_narrow})])) == {zone}
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [
		required_term(host),
		{"topologyKey": zone},
	]})) == {zone}
}

test_match_label_keys_keep_the_own_pods if {
	keyed := object.union(spread(zone), {"matchLabelKeys": ["pod-template-hash"]})
	keys_missing(with_constraints([spread(host), keyed])) == set()
}

test_mismatch_label_keys_on_an_own_label_exclude_the_own_pods if {
	term := object.union(required_term(zone), {"mismatchLabelKeys": ["tier"]})
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), term]})) == {zone}
	absent_label := object.union(required_term(zone), {"mismatchLabelKeys": ["tenant"]})
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), absent_label]})) == set()
}

test_a_term_over_other_namespaces_does_not_count if {
	elsewhere := object.union(required_term(zone), {"namespaces": ["other"]})
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), elsewhere]})) == {zone}
	own := object.union(required_term(zone), {"namespaces": ["other", "shop"]})
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), own]})) == set()
	by_selector := object.union(required_term(zone), {"namespaces": ["other"], "namespaceSelector": {}})
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), by_selector]})) == set()
	empty := object.union(required_term(zone), {"namespaces": []})
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [required_term(host), empty]})) == set()
}

test_statefulsets_are_checked if {
	v := require_topology_spread.violation with input as workload("StatefulSet", 3, {"topologySpreadConstraints": [spread(zone)]})
	v == {{"msg": missing_msg("StatefulSet", 3, host, "node"), "path": "/spec/template/spec"}}
}

test_single_replica_workloads_are_exempt if {
	count(require_topology_spread.violation) == 0 with input as workload("Deployment", 1, {})
	count(require_topology_spread.violation) == 0 with input as workload("Deployment", 0, {})
	count(require_topology_spread.violation) == 0 with input as workload("Deployment", null, {})
	count(require_topology_spread.violation) == 0 with input as workload("Deployment", "3", {})
	count(require_topology_spread.violation) == 2 with input as workload("Deployment", 2, {})
}

hpa(min) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": min, "maxReplicas": 10},
}

hpas_in(ns, h) := {"namespace": {ns: {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": h}}}}}

test_an_hpa_in_the_namespace_makes_the_workload_multi_replica if {
	inp := workload("Deployment", null, {"topologySpreadConstraints": [spread(host)]})
	v := require_topology_spread.violation with input as inp with data.inventory as hpas_in("shop", hpa(4))
	v == {{"msg": missing_msg("Deployment", 4, zone, "zone"), "path": "/spec/template/spec"}}
	count(require_topology_spread.violation) == 0 with input as inp with data.inventory as hpas_in("other", hpa(4))
	count(require_topology_spread.violation) == 0 with input as inp with data.inventory as hpas_in("shop", hpa(1))
}

test_the_keys_are_a_parameter if {
	node_only := object.union(deployment({}), {"parameters": {"topologyKeys": [host]}})
	v := require_topology_spread.violation with input as node_only
	v == {{"msg": missing_msg("Deployment", 3, host, "node"), "path": "/spec/template/spec"}}
	count(require_topology_spread.violation) == 0 with input as object.union(deployment({}), {"parameters": {"topologyKeys": []}})
	rack := "example.com/rack"
	custom := object.union(with_constraints([spread(host), spread(zone)]), {"parameters": {"topologyKeys": [rack]}})
	w := require_topology_spread.violation with input as custom
	[x.msg | some x in w] == [missing_msg("Deployment", 3, rack, "example.com/rack domain")]
	count(require_topology_spread.violation) == 0 with input as object.union(with_constraints([spread(rack)]), {"parameters": {"topologyKeys": [rack]}})
}

test_malformed_rules_count_as_no_spreading_without_error if {
	keys_missing(deployment({"topologySpreadConstraints": null})) == {host, zone}
	keys_missing(deployment({"topologySpreadConstraints": "zone"})) == {host, zone}
	keys_missing(deployment({"topologySpreadConstraints": ["zone", null, {"topologyKey": 1, "labelSelector": {}}]})) == {host, zone}
	keys_missing(deployment({"affinity": null})) == {host, zone}
	keys_missing(deployment({"affinity": {"podAntiAffinity": "spread"}})) == {host, zone}
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": null})) == {host, zone}
	keys_missing(with_anti_affinity({"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1}, "x", {"podAffinityTerm": "x"}]})) == {host, zone}
	keys_missing(with_constraints([object.union(spread(zone), {"labelSelector": "app=web"}), object.union(spread(host), {"mismatchLabelKeys": "tier"})])) == {zone}
	keys_missing(with_anti_affinity({"requiredDuringSchedulingIgnoredDuringExecution": [object.union(required_term(host), {"namespaces": "shop"})]})) == {host, zone}
	count(require_topology_spread.violation) == 0 with input as object.union(deployment({}), {"parameters": {"topologyKeys": "zone"}})
	count(require_topology_spread.violation) == 0 with input as object.union(deployment({}), {"parameters": {"topologyKeys": [1, null]}})
}

test_a_workload_without_a_pod_template_is_reported_without_error if {
	inp := object.union(deployment({}), {"review": {"object": {"spec": {"template": null}}}})
	keys_missing(inp) == {host, zone}
	unlabelled := object.union(deployment({"topologySpreadConstraints": [spread(host), spread(zone)]}), {"review": {"object": {"spec": {"template": {"metadata": {"labels": null}}}}}})
	keys_missing(unlabelled) == {host, zone}
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	inp := object.union(with_constraints([spread(host)]), {"review": {"object": {"metadata": {"name": 42}}}})
	v := require_topology_spread.violation with input as inp
	[x.msg | some x in v] == [replace(missing_msg("Deployment", 3, zone, "zone"), "\"web\"", "42")]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	old := deployment({}).review.object
	deletion := {"review": {"kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "namespace": "shop", "operation": "DELETE", "object": null, "oldObject": old}, "parameters": params}
	count(require_topology_spread.violation) == 0 with input as deletion
	deleting := object.union(deployment({}), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(require_topology_spread.violation) == 0 with input as deleting
}

test_an_update_is_checked if {
	update := object.union(deployment({}), {"review": {"operation": "UPDATE", "oldObject": deployment({}).review.object}})
	count(require_topology_spread.violation) == 2 with input as update
}
