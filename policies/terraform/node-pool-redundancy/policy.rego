# Node pools keep at least minNodes nodes (parameter) however far they scale down.
package gatehouse.terraform.node_pool_redundancy

import data.gatehouse.lib.terraform as tf

min_nodes := n if {
	n := input.parameters.minNodes
	is_number(n)
} else := 2

# --- Scaleway: min_size when autoscaled, size otherwise ----------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_k8s_pool"
	not redundant
	[path, msg] := scaleway_problem
}

# min_size of an autoscaled pool, with the provider's default of 1.
effective_min := 1 if {
	tf.value(["min_size"]) == null
} else := v if {
	v := tf.value(["min_size"])
	is_number(v)
}

redundant if {
	tf.is_true(["autoscaling"])
	effective_min >= min_nodes
}

redundant if {
	fixed_size
	tf.at_least(["size"], min_nodes)
}

redundant if {
	effective_min >= min_nodes
	tf.at_least(["size"], min_nodes)
}

# Autoscaling is known to be off (false, or unset: the provider's default is false).
fixed_size if {
	not tf.unknown(["autoscaling"])
	not tf.is_true(["autoscaling"])
}

scaleway_problem := [["autoscaling"], sprintf("the pool keeps min_size nodes when autoscaled and size nodes otherwise, and needs at least %d", [min_nodes])] if {
	tf.unknown(["autoscaling"])
} else := [["min_size"], sprintf("the autoscaled pool keeps min_size nodes and needs at least %d", [min_nodes])] if {
	tf.unknown(["min_size"])
	tf.is_true(["autoscaling"])
} else := [["min_size"], sprintf("min_size is %s: the autoscaled pool may shrink to %v node(s), fewer than %d: one node failing or being drained leaves its workloads nowhere to run", [min_text, effective_min, min_nodes])] if {
	tf.is_true(["autoscaling"])
	effective_min
} else := [["min_size"], sprintf("min_size is %s, not a number of nodes (the autoscaled pool needs at least %d)", [tf.show(tf.value(["min_size"])), min_nodes])] if {
	tf.is_true(["autoscaling"])
} else := [["size"], sprintf("the pool keeps size nodes (autoscaling is off) and needs at least %d", [min_nodes])] if {
	tf.unknown(["size"])
} else := [["size"], sprintf("the pool has a fixed size of %v node(s) (autoscaling is off), fewer than %d: one node failing or being drained leaves its workloads nowhere to run", [tf.value(["size"]), min_nodes])] if {
	is_number(tf.value(["size"]))
} else := [["size"], sprintf("size is %s, not a number of nodes (the pool, without autoscaling, needs at least %d)", [tf.show(tf.value(["size"])), min_nodes])]

min_text := "not set (the provider's default is 1)" if {
	tf.value(["min_size"]) == null
} else := tf.show(tf.value(["min_size"]))

# --- AWS: scaling_config.min_size ------------------------------------------------------------

violation contains {"msg": tf.explain(["scaling_config"], msg), "path": "/scaling_config"} if {
	input.resource.type == "aws_eks_node_group"
	tf.unknown(["scaling_config"])
	msg := sprintf("the node group keeps scaling_config.min_size nodes and needs at least %d", [min_nodes])
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
	msg := sprintf("the node group has no scaling_config: set min_size to at least %d", [min_nodes])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_eks_node_group"
	some i, _ in tf.blocks(["scaling_config"])
	path := ["scaling_config", i, "min_size"]
	not tf.at_least(path, min_nodes)
	msg := aws_message(path)
}

aws_message(path) := sprintf("the node group keeps scaling_config.min_size nodes and needs at least %d", [min_nodes]) if {
	tf.unknown(path)
} else := sprintf("scaling_config.min_size is %s, not a number of nodes (the node group needs at least %d)", [text(path), min_nodes]) if {
	v := tf.value(path)
	v != null
	not is_number(v)
} else := sprintf("scaling_config.min_size is %s, fewer than %d nodes: one node failing or being replaced leaves the group's workloads nowhere to run", [text(path), min_nodes])

text(path) := "not set" if {
	tf.value(path) == null
} else := tf.show(tf.value(path))
