# Kubernetes nodes are not reachable from the internet: no public IPs on Scaleway, no SSH open to
# the world on AWS.
package gatehouse.terraform.node_pool_private_nodes

import data.gatehouse.lib.terraform as tf

# --- Scaleway ---------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["public_ip_disabled"], msg), "path": "/public_ip_disabled"} if {
	input.resource.type == "scaleway_k8s_pool"
	not tf.is_true(["public_ip_disabled"])
	msg := scaleway_message
}

scaleway_message := "the pool must set public_ip_disabled = true" if {
	tf.unknown(["public_ip_disabled"])
} else := "public_ip_disabled is not set (the provider's default is false): every node gets a public IP and is reachable from the internet" if {
	tf.value(["public_ip_disabled"]) == null
} else := sprintf("public_ip_disabled is %s: every node gets a public IP and is reachable from the internet", [tf.show(tf.value(["public_ip_disabled"]))])

# --- AWS ----------------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["remote_access"], msg), "path": "/remote_access"} if {
	input.resource.type == "aws_eks_node_group"
	tf.unknown(["remote_access"])
	msg := "a remote_access block without source_security_group_ids opens SSH on every node to 0.0.0.0/0"
}

violation contains {"msg": msg, "path": "/remote_access"} if {
	input.resource.type == "aws_eks_node_group"
	v := tf.value(["remote_access"])
	v != null
	not is_array(v)
	msg := sprintf("remote_access is %v, not a block", [v])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_eks_node_group"
	some i, _ in tf.blocks(["remote_access"])
	path := ["remote_access", i, "source_security_group_ids"]
	not allow_listed(i)
	msg := aws_message(path)
}

# Known security group IDs, or IDs taken from security groups of the configuration.
allow_listed(i) if {
	ids := tf.value(["remote_access", i, "source_security_group_ids"])
	is_array(ids)
	count(ids) > 0
	every j, id in ids {
		not tf.unknown(["remote_access", i, "source_security_group_ids", j])
		is_string(id)
		trim_space(id) != ""
	}
}

allow_listed(i) if {
	not known_empty(i)
	refs := object.get(tf.configuration, ["expressions", "remote_access", i, "source_security_group_ids", "references"], [])
	is_array(refs)
	some ref in refs
	is_string(ref)
	regex.match(`^(data\.)?aws_security_group\.`, ref)
}

known_empty(i) if tf.value(["remote_access", i, "source_security_group_ids"]) == null

known_empty(i) if tf.value(["remote_access", i, "source_security_group_ids"]) == []

aws_message(path) := "SSH to the nodes must be limited to listed security groups (source_security_group_ids)" if {
	tf.unknown(path)
} else := "remote_access without source_security_group_ids opens SSH (port 22) on every node to 0.0.0.0/0: remove the block (use SSM Session Manager) or list the security groups allowed in" if {
	known_empty(path[1])
} else := "source_security_group_ids lists a security group known only after apply that the configuration does not take from an aws_security_group: SSH may be open to more than the listed groups" if {
	ids := tf.value(path)
	is_array(ids)
	some j, _ in ids
	tf.unknown(array.concat(path, [j]))
} else := sprintf("source_security_group_ids is %v, not a list of security group IDs", [tf.value(path)])
