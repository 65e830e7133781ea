package gatehouse.terraform.node_pool_redundancy_test

import data.gatehouse.terraform.node_pool_redundancy as p

only(v) := x if {
	count(v) == 1
	some x in v
}

pool(after, unknown) := {
	"resource": {
		"address": "scaleway_k8s_pool.apps", "type": "scaleway_k8s_pool", "name": "apps", "mode": "managed",
		"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
	},
	"parameters": {"minNodes": 2},
}

group(scaling, unknown) := {
	"resource": {
		"address": "aws_eks_node_group.apps", "type": "aws_eks_node_group", "name": "apps", "mode": "managed",
		"change": {"actions": ["create"], "after": {"scaling_config": scaling}, "after_unknown": unknown},
	},
	"parameters": {"minNodes": 2},
}

test_redundant_scaleway_pools_pass if {
	count(p.violation) == 0 with input as pool({"autoscaling": true, "min_size": 2, "max_size": 5, "size": 2}, {})
	count(p.violation) == 0 with input as pool({"autoscaling": true, "min_size": 3, "size": 1}, {})
	count(p.violation) == 0 with input as pool({"autoscaling": false, "size": 3, "min_size": 1}, {})
	count(p.violation) == 0 with input as pool({"size": 2}, {})
}

test_autoscaled_pool_below_the_minimum_fails_at_min_size if {
	x := only(p.violation) with input as pool({"autoscaling": true, "min_size": 1, "size": 3}, {})
	x.path == "/min_size"
	x.msg == "min_size is 1: the autoscaled pool may shrink to 1 node(s), fewer than 2: one node failing or being drained leaves its workloads nowhere to run"
	y := only(p.violation) with input as pool({"autoscaling": true, "size": 3}, {})
	y.path == "/min_size"
	startswith(y.msg, "min_size is not set (the provider's default is 1): the autoscaled pool may shrink to 1 node(s)")
	z := only(p.violation) with input as pool({"autoscaling": true, "min_size": 0, "size": 3}, {})
	z.path == "/min_size"
}

test_fixed_pool_below_the_minimum_fails_at_size if {
	x := only(p.violation) with input as pool({"size": 1, "min_size": 3}, {})
	x.path == "/size"
	x.msg == "the pool has a fixed size of 1 node(s) (autoscaling is off), fewer than 2: one node failing or being drained leaves its workloads nowhere to run"
	y := only(p.violation) with input as pool({"autoscaling": false, "size": 1}, {})
	y.path == "/size"
}

test_scaleway_wrong_types_fail_without_error if {
	x := only(p.violation) with input as pool({"autoscaling": true, "min_size": "2"}, {})
	x.msg == "min_size is \"2\", not a number of nodes (the autoscaled pool needs at least 2)"
	y := only(p.violation) with input as pool({"size": "3"}, {})
	y.msg == "size is \"3\", not a number of nodes (the pool, without autoscaling, needs at least 2)"
	# "true" is not true: the pool is judged as a fixed one.
	z := only(p.violation) with input as pool({"autoscaling": "true", "min_size": 2, "size": 1}, {})
	z.path == "/size"
	w := only(p.violation) with input as pool({"autoscaling": true, "min_size": [2]}, {})
	w.path == "/min_size"
}

test_scaleway_unknown_values_fail if {
	x := only(p.violation) with input as pool({"autoscaling": true, "min_size": null, "size": 3}, {"min_size": true})
	x.path == "/min_size"
	x.msg == "min_size is known only after apply, so it cannot be checked: the autoscaled pool keeps min_size nodes and needs at least 2"
	y := only(p.violation) with input as pool({"autoscaling": null, "min_size": 1, "size": 3}, {"autoscaling": true})
	y.path == "/autoscaling"
	contains(y.msg, "known only after apply")
	z := only(p.violation) with input as pool({"size": null}, {"size": true})
	z.path == "/size"
	# Unknown autoscaling is harmless when both counts are enough.
	count(p.violation) == 0 with input as pool({"autoscaling": null, "min_size": 2, "size": 2}, {"autoscaling": true})
	# An unknown size does not matter to an autoscaled pool.
	count(p.violation) == 0 with input as pool({"autoscaling": true, "min_size": 2, "size": null}, {"size": true})
	# Everything unknown.
	w := only(p.violation) with input as pool({"autoscaling": null, "min_size": null, "size": null}, {"autoscaling": true, "min_size": true, "size": true})
	w.path == "/autoscaling"
}

test_min_nodes_parameter if {
	x := only(p.violation) with input as pool({"autoscaling": true, "min_size": 2}, {})
		with input.parameters as {"minNodes": 3}
	contains(x.msg, "fewer than 3")
	count(p.violation) == 0 with input as pool({"autoscaling": true, "min_size": 1}, {})
		with input.parameters as {"minNodes": 1}
	# Without parameters the default (2) applies.
	y := only(p.violation) with input as {"resource": pool({"autoscaling": true, "min_size": 1}, {}).resource}
	contains(y.msg, "fewer than 2")
}

test_aws_node_groups if {
	count(p.violation) == 0 with input as group([{"min_size": 2, "max_size": 6, "desired_size": 3}], {})
	x := only(p.violation) with input as group([{"min_size": 1, "max_size": 6, "desired_size": 1}], {})
	x.path == "/scaling_config/0/min_size"
	x.msg == "scaling_config.min_size is 1, fewer than 2 nodes: one node failing or being replaced leaves the group's workloads nowhere to run"
	y := only(p.violation) with input as group([{"max_size": 6}], {})
	startswith(y.msg, "scaling_config.min_size is not set")
	z := only(p.violation) with input as group([], {})
	z.path == "/scaling_config"
	v := only(p.violation) with input as group({"min_size": 2}, {})
	v.path == "/scaling_config"
	w := only(p.violation) with input as group([{"min_size": "2"}], {})
	w.msg == "scaling_config.min_size is \"2\", not a number of nodes (the node group needs at least 2)"
}

test_aws_unknown_values_fail if {
	x := only(p.violation) with input as group(null, {"scaling_config": true})
	x.path == "/scaling_config"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as group([{"min_size": null, "max_size": 6}], {"scaling_config": [{"min_size": true}]})
	y.path == "/scaling_config/0/min_size"
	y.msg == "scaling_config.0.min_size is known only after apply, so it cannot be checked: the node group keeps scaling_config.min_size nodes and needs at least 2"
}
