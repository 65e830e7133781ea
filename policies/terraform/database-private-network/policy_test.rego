package gatehouse.terraform.database_private_network_test

import data.gatehouse.terraform.database_private_network as p

change(type, after, unknown) := {
	"address": sprintf("%s.main", [type]), "type": type, "name": "main", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

# `expressions` is the resource's configuration; `static` says the plan was read from .tf files.
judge(resource, expressions, static) := {"resource": resource, "plan": {
	"gatehouse": {"static": static},
	"configuration": {"root_module": {"resources": [{"address": resource.address, "type": resource.type, "name": "main", "expressions": expressions}]}},
	"resource_changes": [resource],
}}

plain(type, after, unknown) := judge(change(type, after, unknown), {}, false)

paths(v) := {x.path | some x in v}

pn := [{"pn_id": "fr-par/11111111-1111-1111-1111-111111111111", "enable_ipam": true}]

# --- Scaleway instance -----------------------------------------------------------------------

test_scaleway_private_instance_passes if {
	count(p.violation) == 0 with input as plain("scaleway_rdb_instance", {"private_network": pn}, {})
	count(p.violation) == 0 with input as plain("scaleway_rdb_instance", {"private_network": pn, "load_balancer": []}, {})
}

test_scaleway_instance_without_private_network_fails_at_the_instance if {
	v := p.violation with input as plain("scaleway_rdb_instance", {}, {})
	[x | some x in v] == [{"path": "", "msg": "the instance has no private_network block: it must be reachable on a Private Network only"}]
	paths(p.violation) == {""} with input as plain("scaleway_rdb_instance", {"private_network": []}, {})
}

test_scaleway_unknown_private_network_fails if {
	v := p.violation with input as plain("scaleway_rdb_instance", {"private_network": null}, {"private_network": true})
	[x | some x in v] == [{"path": "/private_network", "msg": "private_network is known only after apply, so it cannot be checked: the instance has no private_network block: it must be reachable on a Private Network only"}]
	paths(p.violation) == {"/private_network"} with input as plain("scaleway_rdb_instance", {"private_network": "pn"}, {})
}

test_scaleway_load_balancer_endpoint_fails if {
	v := p.violation with input as plain("scaleway_rdb_instance", {"private_network": pn, "load_balancer": [{"endpoint_id": null}]}, {"load_balancer": [{"endpoint_id": true}]})
	[x | some x in v] == [{"path": "/load_balancer", "msg": "the instance has a load_balancer block: a public endpoint, reachable from the Internet"}]
}

test_scaleway_computed_load_balancer_in_a_plan_passes_unless_written if {
	after := {"private_network": pn, "load_balancer": null}
	unknown := {"load_balancer": true}

	# None written: the provider computes an empty list.
	count(p.violation) == 0 with input as judge(change("scaleway_rdb_instance", after, unknown), {}, false)

	# Written (here from something known only after apply): reported.
	v := p.violation with input as judge(change("scaleway_rdb_instance", after, unknown), {"load_balancer": [{}]}, false)
	[x | some x in v] == [{"path": "/load_balancer", "msg": "load_balancer is known only after apply, so it cannot be checked: the instance must have no load_balancer block (a public endpoint)"}]

	# A static reading: only a dynamic block makes it unknown.
	paths(p.violation) == {"/load_balancer"} with input as judge(change("scaleway_rdb_instance", after, unknown), {}, true)
}

# --- Scaleway read replica -------------------------------------------------------------------

replica_pn := [{"private_network_id": "fr-par/11111111-1111-1111-1111-111111111111", "enable_ipam": true}]

test_scaleway_private_replica_passes if {
	count(p.violation) == 0 with input as plain("scaleway_rdb_read_replica", {"private_network": replica_pn, "direct_access": []}, {})
}

test_scaleway_replica_with_direct_access_fails if {
	v := p.violation with input as plain("scaleway_rdb_read_replica", {"private_network": replica_pn, "direct_access": [{}]}, {})
	[x | some x in v] == [{"path": "/direct_access", "msg": "the read replica has a direct_access block: a public endpoint, reachable from the Internet"}]
	w := p.violation with input as plain("scaleway_rdb_read_replica", {"direct_access": [{}]}, {})
	paths(w) == {"", "/direct_access"}
}

test_scaleway_replica_unknown_blocks_fail if {
	v := p.violation with input as plain("scaleway_rdb_read_replica", {"private_network": null, "direct_access": null}, {"private_network": true, "direct_access": true})
	paths(v) == {"/private_network", "/direct_access"}
	some x in v
	x.msg == "direct_access is known only after apply, so it cannot be checked: the read replica must have no direct_access block (a public endpoint)"
}

# --- Scaleway ACL ----------------------------------------------------------------------------

acl(rules, unknown) := plain("scaleway_rdb_acl", {"acl_rules": rules}, unknown)

test_scaleway_acl_of_private_networks_passes if {
	count(p.violation) == 0 with input as acl([{"ip": "10.20.0.0/16", "description": "cluster nodes"}, {"ip": "2001:db8::/32"}], {})
	count(p.violation) == 0 with input as acl([], {})
}

test_scaleway_acl_open_to_the_internet_fails_at_the_rule if {
	v := p.violation with input as acl([{"ip": "10.20.0.0/16"}, {"ip": "0.0.0.0/0", "description": "anyone"}], {})
	[x | some x in v] == [{"path": "/acl_rules/1/ip", "msg": "the rule allows 0.0.0.0/0, the whole Internet: list only the networks that need the database"}]
	paths(p.violation) == {"/acl_rules/0/ip"} with input as acl([{"ip": "::/0"}], {})
	paths(p.violation) == {"/acl_rules/0/ip"} with input as acl([{"ip": "192.168.0.0/00"}], {})
}

test_scaleway_acl_unknown_rules_fail if {
	v := p.violation with input as acl(null, {"acl_rules": true})
	[x | some x in v] == [{"path": "/acl_rules", "msg": "acl_rules is known only after apply, so it cannot be checked: the ACL's rules must each allow a known network, not 0.0.0.0/0"}]
	w := p.violation with input as acl([{"ip": null}], {"acl_rules": [{"ip": true}]})
	[y | some y in w] == [{"path": "/acl_rules/0/ip", "msg": "acl_rules.0.ip is known only after apply, so it cannot be checked: the rule must allow a known network, not the whole Internet"}]
}

test_scaleway_acl_wrong_types_fail_without_error if {
	v := p.violation with input as acl([{"ip": 10}], {})
	[x | some x in v] == [{"path": "/acl_rules/0/ip", "msg": "the rule's ip is 10, not a CIDR block"}]
	paths(p.violation) == {"/acl_rules/0/ip"} with input as acl([{"ip": "everyone"}], {})
	paths(p.violation) == {"/acl_rules"} with input as acl("0.0.0.0/0", {})
}

# --- AWS -------------------------------------------------------------------------------------

test_aws_private_instances_pass if {
	count(p.violation) == 0 with input as plain("aws_db_instance", {"publicly_accessible": false}, {})
	count(p.violation) == 0 with input as plain("aws_rds_cluster_instance", {"publicly_accessible": false}, {})
	count(p.violation) == 0 with input as plain("aws_rds_cluster_instance", {"publicly_accessible": "false"}, {})
}

test_aws_db_instance_left_out_is_the_private_default if {
	count(p.violation) == 0 with input as plain("aws_db_instance", {}, {})
}

test_aws_public_instances_fail_at_publicly_accessible if {
	v := p.violation with input as plain("aws_db_instance", {"publicly_accessible": true}, {})
	[x | some x in v] == [{"path": "/publicly_accessible", "msg": "publicly_accessible is true: the instance must not be publicly accessible (publicly_accessible = false, the default)"}]
	w := p.violation with input as plain("aws_rds_cluster_instance", {"publicly_accessible": true}, {})
	[y | some y in w] == [{"path": "/publicly_accessible", "msg": "publicly_accessible is true: the cluster instance must not be publicly accessible (publicly_accessible = false)"}]
}

test_aws_cluster_instance_must_say_false if {
	v := p.violation with input as plain("aws_rds_cluster_instance", {}, {})
	[x | some x in v] == [{"path": "/publicly_accessible", "msg": "publicly_accessible is not set (AWS decides from the DB subnet group: public subnets make a public instance): the cluster instance must not be publicly accessible (publicly_accessible = false)"}]
}

test_aws_unknown_or_wrong_flag_fails if {
	v := p.violation with input as plain("aws_rds_cluster_instance", {"publicly_accessible": null}, {"publicly_accessible": true})
	some x in v
	x.msg == "publicly_accessible is known only after apply, so it cannot be checked: the cluster instance must not be publicly accessible (publicly_accessible = false)"
	paths(p.violation) == {"/publicly_accessible"} with input as plain("aws_db_instance", {"publicly_accessible": null}, {"publicly_accessible": true})
	paths(p.violation) == {"/publicly_accessible"} with input as plain("aws_db_instance", {"publicly_accessible": "no"}, {})
	paths(p.violation) == {"/publicly_accessible"} with input as plain("aws_db_instance", {"publicly_accessible": 0}, {})
}

test_other_resource_types_are_not_judged if {
	count(p.violation) == 0 with input as plain("aws_rds_cluster", {}, {})
	count(p.violation) == 0 with input as plain("scaleway_rdb_user", {}, {})
}
