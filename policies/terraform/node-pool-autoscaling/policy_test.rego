package gatehouse.terraform.node_pool_autoscaling_test

import data.gatehouse.terraform.node_pool_autoscaling as p

only(v) := x if {
	count(v) == 1
	some x in v
}

pool(after, unknown) := {"resource": {
	"address": "scaleway_k8s_pool.apps", "type": "scaleway_k8s_pool", "name": "apps", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

group(scaling, unknown) := {"resource": {
	"address": "aws_eks_node_group.apps", "type": "aws_eks_node_group", "name": "apps", "mode": "managed",
	"change": {"actions": ["create"], "after": {"scaling_config": scaling}, "after_unknown": unknown},
}}

paths(v) := {x.path | some x in v}

test_autoscaled_pools_with_room_pass if {
	count(p.violation) == 0 with input as pool({"autoscaling": true, "min_size": 2, "max_size": 6, "size": 2}, {})
	count(p.violation) == 0 with input as pool({"autoscaling": true, "max_size": 2}, {})
}

test_pool_without_autoscaling_fails if {
	x := only(p.violation) with input as pool({"autoscaling": false, "min_size": 2, "max_size": 6}, {})
	x.path == "/autoscaling"
	x.msg == "autoscaling is false: the pool cannot add nodes when the load rises"
	y := only(p.violation) with input as pool({"min_size": 2, "max_size": 6}, {})
	y.msg == "autoscaling is not set (the provider's default is false): the pool cannot add nodes when the load rises"
	z := only(p.violation) with input as pool({"autoscaling": "true", "min_size": 2, "max_size": 6}, {})
	z.msg == "autoscaling is \"true\": the pool cannot add nodes when the load rises"
	# A fixed pool: both reported.
	paths(p.violation) == {"/autoscaling", "/max_size"} with input as pool({"size": 3}, {})
}

test_no_room_to_grow_fails_at_max_size if {
	x := only(p.violation) with input as pool({"autoscaling": true, "min_size": 3, "max_size": 3}, {})
	x.path == "/max_size"
	x.msg == "max_size is 3, not above min_size (3): the pool cannot grow"
	y := only(p.violation) with input as pool({"autoscaling": true, "max_size": 1}, {})
	y.msg == "max_size is 1, not above min_size (1): the pool cannot grow"
	z := only(p.violation) with input as pool({"autoscaling": true, "min_size": 2, "size": 5}, {})
	z.path == "/max_size"
	startswith(z.msg, "max_size is not set, so the provider takes size as the maximum")
}

test_scaleway_wrong_types_fail_without_error if {
	x := only(p.violation) with input as pool({"autoscaling": true, "min_size": 2, "max_size": "6"}, {})
	x.msg == "max_size is \"6\", not a number of nodes"
	y := only(p.violation) with input as pool({"autoscaling": true, "min_size": "2", "max_size": 6}, {})
	y.path == "/min_size"
	y.msg == "min_size is \"2\", not a number of nodes"
}

test_scaleway_unknown_values_fail if {
	x := only(p.violation) with input as pool({"autoscaling": null, "min_size": 2, "max_size": 6}, {"autoscaling": true})
	x.path == "/autoscaling"
	x.msg == "autoscaling is known only after apply, so it cannot be checked: the pool must set autoscaling = true to add nodes when the load rises"
	y := only(p.violation) with input as pool({"autoscaling": true, "min_size": 2, "max_size": null}, {"max_size": true})
	y.path == "/max_size"
	y.msg == "max_size is known only after apply, so it cannot be checked: the pool's maximum must be above its minimum"
	z := only(p.violation) with input as pool({"autoscaling": true, "min_size": null, "max_size": 6}, {"min_size": true})
	z.path == "/min_size"
	paths(p.violation) == {"/autoscaling", "/max_size"} with input as pool({"autoscaling": null, "min_size": null, "max_size": null}, {"autoscaling": true, "min_size": true, "max_size": true})
}

test_aws_node_groups if {
	count(p.violation) == 0 with input as group([{"min_size": 2, "max_size": 6, "desired_size": 3}], {})
	x := only(p.violation) with input as group([{"min_size": 3, "max_size": 3, "desired_size": 3}], {})
	x.path == "/scaling_config/0/max_size"
	x.msg == "scaling_config.max_size is 3, not above min_size (3): the node group cannot grow"
	y := only(p.violation) with input as group([], {})
	y.path == "/scaling_config"
	z := only(p.violation) with input as {"resource": {"type": "aws_eks_node_group", "change": {"after": {}}}}
	z.path == "/scaling_config"
}

test_aws_wrong_types_fail_without_error if {
	x := only(p.violation) with input as group([{"min_size": 2, "max_size": "6"}], {})
	x.msg == "scaling_config.max_size is \"6\", not a number of nodes"
	y := only(p.violation) with input as group([{"max_size": 6}], {})
	y.path == "/scaling_config/0/min_size"
	y.msg == "scaling_config.min_size is not set, not a number of nodes"
	z := only(p.violation) with input as group("scaling", {})
	z.path == "/scaling_config"
}

test_aws_unknown_values_fail if {
	x := only(p.violation) with input as group(null, {"scaling_config": true})
	x.path == "/scaling_config"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as group([{"min_size": 2, "max_size": null}], {"scaling_config": [{"max_size": true}]})
	y.path == "/scaling_config/0/max_size"
	y.msg == "scaling_config.0.max_size is known only after apply, so it cannot be checked: the node group's max_size must be above its min_size"
	z := only(p.violation) with input as group([{"min_size": null, "max_size": 6}], {"scaling_config": [{"min_size": true}]})
	z.path == "/scaling_config/0/min_size"
}
