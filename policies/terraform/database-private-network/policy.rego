package gatehouse.terraform.database_private_network

import data.gatehouse.lib.terraform as tf

# Managed databases have no public endpoint and no ACL open to the whole Internet.

# --- Scaleway: a private network endpoint, and no public one ---------------------------------

scaleway_endpoints := {"scaleway_rdb_instance": "instance", "scaleway_rdb_read_replica": "read replica"}

# The public endpoint block of each type.
public_blocks := {"scaleway_rdb_instance": "load_balancer", "scaleway_rdb_read_replica": "direct_access"}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	noun := scaleway_endpoints[input.resource.type]
	not has_blocks(["private_network"])
	path := private_network_path
	msg := sprintf("the %s has no private_network block: it must be reachable on a Private Network only", [noun])
}

# An absent block points at the resource; an unknown (or malformed) one is named.
private_network_path := [] if {
	tf.value(["private_network"]) in {null, []}
} else := ["private_network"]

violation contains {"msg": msg, "path": tf.pointer(path)} if {
	block := public_blocks[input.resource.type]
	path := [block]
	count(tf.blocks(path)) > 0
	msg := sprintf("the %s has a %s block: a public endpoint, reachable from the Internet", [scaleway_endpoints[input.resource.type], block])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	block := public_blocks[input.resource.type]
	path := [block]
	not tf.blocks(path)
	unknown_block_counts(block)
	msg := sprintf("the %s must have no %s block (a public endpoint)", [scaleway_endpoints[input.resource.type], block])
}

# direct_access is not computed: unknown, it comes from the configuration. The provider computes
# load_balancer, which a plan shows as known only after apply even when none is written: it
# counts when the configuration writes one, or in a static reading of the .tf sources, where
# only a dynamic block makes it unknown.
unknown_block_counts("direct_access") := true

unknown_block_counts("load_balancer") if object.get(tf.configuration, ["expressions", "load_balancer"], null) != null

unknown_block_counts("load_balancer") if object.get(input.plan, ["gatehouse", "static"], false) == true

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_rdb_acl"
	path := ["acl_rules"]
	not tf.blocks(path)
	msg := "the ACL's rules must each allow a known network, not 0.0.0.0/0"
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_rdb_acl"
	some i, _ in tf.blocks(["acl_rules"])
	path := ["acl_rules", i, "ip"]
	not narrow_cidr(tf.value(path))
	msg := acl_message(path)
}

acl_message(path) := "the rule must allow a known network, not the whole Internet" if {
	tf.unknown(path)
} else := sprintf("the rule allows %s, the whole Internet: list only the networks that need the database", [tf.value(path)]) if {
	is_string(tf.value(path))
} else := sprintf("the rule's ip is %s, not a CIDR block", [json.marshal(tf.value(path))])

# A CIDR block whose prefix is not /0.
narrow_cidr(ip) if {
	is_string(ip)
	regex.match(`^\s*[0-9A-Fa-f.:]+/[0-9]+\s*$`, ip)
	not regex.match(`/0+\s*$`, ip)
}

has_blocks(path) if count(tf.blocks(path)) > 0

# --- AWS -------------------------------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_db_instance"
	path := ["publicly_accessible"]
	not private(path)
	msg := sprintf("%sthe instance must not be publicly accessible (publicly_accessible = false, the default)", [tf.found(path, "")])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_rds_cluster_instance"
	path := ["publicly_accessible"]
	not tf.boolean(path) == false
	msg := sprintf("%sthe cluster instance must not be publicly accessible (publicly_accessible = false)", [tf.found(path, "AWS decides from the DB subnet group: public subnets make a public instance")])
}

private(path) if tf.boolean(path) == false

# Left out, the provider sends false (the plan shows false).
private(path) if tf.value(path) == null

# --- Helpers ---------------------------------------------------------------------------------
