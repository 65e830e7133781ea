# Node pools replace failed nodes on their own: Scaleway autohealing, EKS node auto repair.
package gatehouse.terraform.node_pool_autohealing

import data.gatehouse.lib.terraform as tf

# --- Scaleway ---------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["autohealing"], msg), "path": "/autohealing"} if {
	input.resource.type == "scaleway_k8s_pool"
	not tf.is_true(["autohealing"])
	msg := scaleway_message
}

scaleway_message := "the pool must set autohealing = true" if {
	tf.unknown(["autohealing"])
} else := "autohealing is not set (the provider's default is false): a failed node stays in the pool until someone replaces it" if {
	tf.value(["autohealing"]) == null
} else := sprintf("autohealing is %s: a failed node stays in the pool until someone replaces it", [tf.show(tf.value(["autohealing"]))])

# --- AWS ----------------------------------------------------------------------------------------

# Unknown, and the configuration shows no node_repair_config: the plan's placeholder for an
# absent block.
violation contains {"msg": msg, "path": "/node_repair_config"} if {
	input.resource.type == "aws_eks_node_group"
	tf.unknown(["node_repair_config"])
	unset_in_configuration
	msg := missing_message
}

violation contains {"msg": tf.explain(["node_repair_config"], msg), "path": "/node_repair_config"} if {
	input.resource.type == "aws_eks_node_group"
	tf.unknown(["node_repair_config"])
	not unset_in_configuration
	msg := "the node group needs node_repair_config { enabled = true }"
}

violation contains {"msg": missing_message, "path": "/node_repair_config"} if {
	input.resource.type == "aws_eks_node_group"
	count(tf.blocks(["node_repair_config"])) == 0
}

violation contains {"msg": msg, "path": "/node_repair_config"} if {
	input.resource.type == "aws_eks_node_group"
	v := tf.value(["node_repair_config"])
	v != null
	not is_array(v)
	msg := sprintf("node_repair_config is %v, not a block", [v])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_eks_node_group"
	some i, _ in tf.blocks(["node_repair_config"])
	path := ["node_repair_config", i, "enabled"]
	not tf.is_true(path)
	msg := enabled_message(path)
}

missing_message := "the node group has no node_repair_config { enabled = true }: a node that turns NotReady stays in the group until someone replaces it"

unset_in_configuration if {
	config := tf.configuration
	config != {}
	expressions := object.get(config, "expressions", {})
	is_object(expressions)
	not "node_repair_config" in object.keys(expressions)
}

enabled_message(path) := "node auto repair must be enabled (enabled = true)" if {
	tf.unknown(path)
} else := "node_repair_config.enabled is not set: node auto repair is off" if {
	tf.value(path) == null
} else := sprintf("node_repair_config.enabled is %s: node auto repair is off", [tf.show(tf.value(path))])
