package gatehouse.terraform.node_pool_autohealing_test

import data.gatehouse.terraform.node_pool_autohealing as p

only(v) := x if {
	count(v) == 1
	some x in v
}

pool(after, unknown) := {"resource": {
	"address": "scaleway_k8s_pool.apps", "type": "scaleway_k8s_pool", "name": "apps", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

group(after, unknown) := {"resource": {
	"address": "aws_eks_node_group.apps", "type": "aws_eks_node_group", "name": "apps", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

# A plan's configuration of the node group, with the given expressions.
configured(doc, expressions) := object.union(doc, {"plan": {"configuration": {"root_module": {"resources": [
	{"address": "aws_eks_node_group.apps", "type": "aws_eks_node_group", "name": "apps", "expressions": expressions},
]}}}})

test_scaleway_autohealing_passes if {
	count(p.violation) == 0 with input as pool({"autohealing": true}, {})
}

test_scaleway_without_autohealing_fails if {
	x := only(p.violation) with input as pool({"autohealing": false}, {})
	x.path == "/autohealing"
	x.msg == "autohealing is false: a failed node stays in the pool until someone replaces it"
	y := only(p.violation) with input as pool({"name": "apps"}, {})
	y.msg == "autohealing is not set (the provider's default is false): a failed node stays in the pool until someone replaces it"
	z := only(p.violation) with input as pool({"autohealing": "true"}, {})
	z.msg == "autohealing is \"true\": a failed node stays in the pool until someone replaces it"
}

test_scaleway_unknown_autohealing_fails if {
	x := only(p.violation) with input as pool({"autohealing": null}, {"autohealing": true})
	x.path == "/autohealing"
	x.msg == "autohealing is known only after apply, so it cannot be checked: the pool must set autohealing = true"
}

test_aws_node_repair_passes if {
	count(p.violation) == 0 with input as group({"node_repair_config": [{"enabled": true}]}, {})
}

test_aws_without_node_repair_fails if {
	x := only(p.violation) with input as group({"node_repair_config": []}, {})
	x.path == "/node_repair_config"
	x.msg == "the node group has no node_repair_config { enabled = true }: a node that turns NotReady stays in the group until someone replaces it"
	y := only(p.violation) with input as group({}, {})
	y.path == "/node_repair_config"
	z := only(p.violation) with input as group({"node_repair_config": [{"enabled": false}]}, {})
	z.path == "/node_repair_config/0/enabled"
	z.msg == "node_repair_config.enabled is false: node auto repair is off"
	w := only(p.violation) with input as group({"node_repair_config": [{}]}, {})
	w.msg == "node_repair_config.enabled is not set: node auto repair is off"
}

test_aws_wrong_types_fail_without_error if {
	x := only(p.violation) with input as group({"node_repair_config": [{"enabled": "true"}]}, {})
	x.path == "/node_repair_config/0/enabled"
	y := only(p.violation) with input as group({"node_repair_config": {"enabled": true}}, {})
	y.msg == "node_repair_config is {\"enabled\": true}, not a block"
	z := only(p.violation) with input as group({"node_repair_config": ["enabled"]}, {})
	z.path == "/node_repair_config"
}

test_aws_plan_placeholder_for_an_absent_block_reads_as_absent if {
	# In a plan an absent node_repair_config is unknown; the configuration shows it is not written.
	x := only(p.violation) with input as configured(group({"node_repair_config": null}, {"node_repair_config": true}), {"cluster_name": {"constant_value": "gh"}})
	x.path == "/node_repair_config"
	startswith(x.msg, "the node group has no node_repair_config")
}

test_aws_unknown_values_fail if {
	# Written but unknown.
	x := only(p.violation) with input as configured(group({"node_repair_config": null}, {"node_repair_config": true}), {"node_repair_config": [{"enabled": {"references": ["var.repair"]}}]})
	x.path == "/node_repair_config"
	x.msg == "node_repair_config is known only after apply, so it cannot be checked: the node group needs node_repair_config { enabled = true }"
	# No configuration to tell: unknown.
	y := only(p.violation) with input as group({"node_repair_config": null}, {"node_repair_config": true})
	contains(y.msg, "known only after apply")
	z := only(p.violation) with input as group({"node_repair_config": [{"enabled": null}]}, {"node_repair_config": [{"enabled": true}]})
	z.path == "/node_repair_config/0/enabled"
	z.msg == "node_repair_config.0.enabled is known only after apply, so it cannot be checked: node auto repair must be enabled (enabled = true)"
}
