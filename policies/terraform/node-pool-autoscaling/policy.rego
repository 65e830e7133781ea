# Node pools are autoscaled, with a maximum above their minimum.
package gatehouse.terraform.node_pool_autoscaling

import data.gatehouse.lib.terraform as tf

# --- Scaleway ---------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["autoscaling"], msg), "path": "/autoscaling"} if {
	input.resource.type == "scaleway_k8s_pool"
	not tf.is_true(["autoscaling"])
	msg := autoscaling_message
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_k8s_pool"
	not grows
	[path, msg] := scaleway_range_problem
}

autoscaling_message := "the pool must set autoscaling = true to add nodes when the load rises" if {
	tf.unknown(["autoscaling"])
} else := sprintf("autoscaling is %s: the pool cannot add nodes when the load rises", [text(["autoscaling"], "not set (the provider's default is false)")])

# min_size, with the provider's default of 1.
scaleway_min := 1 if {
	tf.value(["min_size"]) == null
} else := v if {
	v := tf.value(["min_size"])
	is_number(v)
}

grows if {
	max := tf.value(["max_size"])
	is_number(max)
	max > scaleway_min
}

scaleway_range_problem := [["max_size"], "the pool's maximum must be above its minimum"] if {
	tf.unknown(["max_size"])
} else := [["min_size"], "the pool's maximum must be above its minimum"] if {
	tf.unknown(["min_size"])
} else := [["max_size"], "max_size is not set, so the provider takes size as the maximum: set it above min_size so that the autoscaler can add nodes"] if {
	tf.value(["max_size"]) == null
} else := [["max_size"], sprintf("max_size is %s, not a number of nodes", [tf.show(tf.value(["max_size"]))])] if {
	not is_number(tf.value(["max_size"]))
} else := [["min_size"], sprintf("min_size is %s, not a number of nodes", [tf.show(tf.value(["min_size"]))])] if {
	not scaleway_min
} else := [["max_size"], sprintf("max_size is %v, not above min_size (%v): the pool cannot grow", [tf.value(["max_size"]), scaleway_min])]

# --- AWS ----------------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["scaling_config"], msg), "path": "/scaling_config"} if {
	input.resource.type == "aws_eks_node_group"
	tf.unknown(["scaling_config"])
	msg := "the node group's scaling_config.max_size must be above its min_size"
}

violation contains {"msg": msg, "path": "/scaling_config"} if {
	input.resource.type == "aws_eks_node_group"
	v := tf.value(["scaling_config"])
	v != null
	not is_array(v)
	msg := sprintf("scaling_config is %v, not a block", [v])
}

violation contains {"msg": msg, "path": "/scaling_config"} if {
	input.resource.type == "aws_eks_node_group"
	count(tf.blocks(["scaling_config"])) == 0
	msg := "the node group has no scaling_config: set max_size above min_size so that it can grow"
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_eks_node_group"
	some i, _ in tf.blocks(["scaling_config"])
	not aws_grows(i)
	[path, msg] := aws_problem(i)
}

aws_grows(i) if {
	max := tf.value(["scaling_config", i, "max_size"])
	min := tf.value(["scaling_config", i, "min_size"])
	is_number(max)
	is_number(min)
	max > min
}

aws_problem(i) := [["scaling_config", i, "max_size"], "the node group's max_size must be above its min_size"] if {
	tf.unknown(["scaling_config", i, "max_size"])
} else := [["scaling_config", i, "min_size"], "the node group's max_size must be above its min_size"] if {
	tf.unknown(["scaling_config", i, "min_size"])
} else := [["scaling_config", i, "max_size"], sprintf("scaling_config.max_size is %s, not a number of nodes", [text(["scaling_config", i, "max_size"], "not set")])] if {
	not is_number(tf.value(["scaling_config", i, "max_size"]))
} else := [["scaling_config", i, "min_size"], sprintf("scaling_config.min_size is %s, not a number of nodes", [text(["scaling_config", i, "min_size"], "not set")])] if {
	not is_number(tf.value(["scaling_config", i, "min_size"]))
} else := [["scaling_config", i, "max_size"], sprintf("scaling_config.max_size is %v, not above min_size (%v): the node group cannot grow", [tf.value(["scaling_config", i, "max_size"]), tf.value(["scaling_config", i, "min_size"])])]

text(path, unset) := unset if {
	tf.value(path) == null
} else := tf.show(v) if {
	v := tf.value(path)
} else := "unknown"
