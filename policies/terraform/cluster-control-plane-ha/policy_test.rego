package gatehouse.terraform.cluster_control_plane_ha_test

import data.gatehouse.terraform.cluster_control_plane_ha as p

production := {"productionTags": ["environment=production"]}

cluster(after, unknown) := {
	"resource": {
		"address": "scaleway_k8s_cluster.main", "type": "scaleway_k8s_cluster", "name": "main", "mode": "managed",
		"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
	},
	"parameters": production,
}

prod_tags := ["environment=production", "platform=gatehouse"]

only(v) := x if {
	count(v) == 1
	some x in v
}

test_dedicated_production_clusters_pass if {
	count(p.violation) == 0 with input as cluster({"type": "kapsule-dedicated-8", "tags": prod_tags}, {})
	count(p.violation) == 0 with input as cluster({"type": "kapsule-dedicated-4", "tags": prod_tags}, {})
	count(p.violation) == 0 with input as cluster({"type": "multicloud-dedicated-4", "tags": prod_tags}, {})
}

test_non_production_clusters_may_share_a_control_plane if {
	count(p.violation) == 0 with input as cluster({"type": "kapsule", "tags": ["environment=staging"]}, {})
	count(p.violation) == 0 with input as cluster({"tags": []}, {})
	count(p.violation) == 0 with input as cluster({"type": "kapsule", "tags": null}, {})
	count(p.violation) == 0 with input as cluster({"type": "kapsule"}, {})
}

test_shared_production_cluster_fails_at_its_type if {
	x := only(p.violation) with input as cluster({"type": "kapsule", "tags": prod_tags}, {})
	x.path == "/type"
	x.msg == "the production cluster (tag environment=production) has type \"kapsule\", a shared control plane: it has no SLA and is a single point of failure; use a dedicated control plane (type kapsule-dedicated-4, -8 or -16)"
	y := only(p.violation) with input as cluster({"type": "multicloud", "tags": prod_tags}, {})
	y.path == "/type"
}

test_unset_type_is_the_shared_control_plane if {
	x := only(p.violation) with input as cluster({"tags": prod_tags}, {})
	x.path == "/type"
	contains(x.msg, "sets no type, so it gets the shared control plane \"kapsule\"")
	y := only(p.violation) with input as cluster({"type": null, "tags": prod_tags}, {})
	y.path == "/type"
}

test_a_type_of_the_wrong_kind_fails_without_error if {
	x := only(p.violation) with input as cluster({"type": 8, "tags": prod_tags}, {})
	contains(x.msg, "has type 8, which is not a control plane type")
	y := only(p.violation) with input as cluster({"type": ["kapsule-dedicated-8"], "tags": prod_tags}, {})
	y.path == "/type"
	z := only(p.violation) with input as cluster({"type": "KAPSULE-DEDICATED-8", "tags": prod_tags}, {})
	z.path == "/type"
}

test_tags_of_the_wrong_kind_are_not_production if {
	count(p.violation) == 0 with input as cluster({"type": "kapsule", "tags": "environment=production"}, {})
	count(p.violation) == 0 with input as cluster({"type": "kapsule", "tags": [1, {"environment": "production"}]}, {})
}

test_colon_tags_and_maps_count if {
	x := only(p.violation) with input as cluster({"type": "kapsule", "tags": ["environment:production"]}, {})
	x.path == "/type"
	y := only(p.violation) with input as cluster({"type": "kapsule", "tags": {"environment": "production"}}, {})
	y.path == "/type"
}

test_unknown_type_of_a_production_cluster_fails if {
	x := only(p.violation) with input as cluster({"type": null, "tags": prod_tags}, {"type": true})
	x.path == "/type"
	x.msg == "type is known only after apply, so it cannot be checked: a production cluster needs a dedicated control plane (type kapsule-dedicated-*)"
}

test_unknown_tags_with_a_shared_type_fail_at_the_tags if {
	x := only(p.violation) with input as cluster({"type": "kapsule", "tags": null}, {"tags": true})
	x.path == "/tags"
	x.msg == "tags is known only after apply, so it cannot be checked: the cluster has type \"kapsule\", a shared control plane, and it may be a production cluster, which needs a dedicated control plane (type kapsule-dedicated-*)"
	y := only(p.violation) with input as cluster({"type": "kapsule", "tags": ["platform=gatehouse", null]}, {"tags": [false, true]})
	y.path == "/tags/1"
	# One known production tag decides, whatever the others are.
	z := only(p.violation) with input as cluster({"type": "kapsule", "tags": [null, "environment=production"]}, {"tags": [true, false]})
	z.path == "/type"
}

test_unknown_tags_with_a_dedicated_type_pass if {
	count(p.violation) == 0 with input as cluster({"type": "kapsule-dedicated-16", "tags": null}, {"tags": true})
}

test_everything_unknown_fails_at_the_type if {
	x := only(p.violation) with input as cluster({"type": null, "tags": null}, {"type": true, "tags": true})
	x.path == "/type"
	contains(x.msg, "known only after apply")
}

test_production_tags_parameter if {
	custom := object.union(cluster({"type": "kapsule", "tags": ["env=prod"]}, {}), {"parameters": {"productionTags": ["env=prod", "tier=critical"]}})
	x := only(p.violation) with input as custom
	contains(x.msg, "(tag env=prod)")
	count(p.violation) == 0 with input as object.union(cluster({"type": "kapsule", "tags": prod_tags}, {}), {"parameters": {"productionTags": ["env=prod"]}})
	# Without parameters the default applies.
	y := only(p.violation) with input as {"resource": cluster({"type": "kapsule", "tags": prod_tags}, {}).resource}
	y.path == "/type"
}

test_other_resource_types_are_ignored if {
	count(p.violation) == 0 with input as {"resource": {"type": "aws_eks_cluster", "change": {"after": {"tags": {"environment": "production"}}}}, "parameters": production}
}
