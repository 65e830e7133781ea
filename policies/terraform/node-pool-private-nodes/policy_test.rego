package gatehouse.terraform.node_pool_private_nodes_test

import data.gatehouse.terraform.node_pool_private_nodes as p

only(v) := x if {
	count(v) == 1
	some x in v
}

pool(after, unknown) := {"resource": {
	"address": "scaleway_k8s_pool.apps", "type": "scaleway_k8s_pool", "name": "apps", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

group(remote, unknown) := {"resource": {
	"address": "aws_eks_node_group.apps", "type": "aws_eks_node_group", "name": "apps", "mode": "managed",
	"change": {"actions": ["create"], "after": {"remote_access": remote}, "after_unknown": unknown},
}}

configured(doc, refs) := object.union(doc, {"plan": {"configuration": {"root_module": {"resources": [
	{"address": "aws_eks_node_group.apps", "type": "aws_eks_node_group", "name": "apps", "expressions": {"remote_access": [{"source_security_group_ids": {"references": refs}}]}},
]}}}})

test_scaleway_private_nodes_pass if {
	count(p.violation) == 0 with input as pool({"public_ip_disabled": true}, {})
}

test_scaleway_public_nodes_fail if {
	x := only(p.violation) with input as pool({"public_ip_disabled": false}, {})
	x.path == "/public_ip_disabled"
	x.msg == "public_ip_disabled is false: every node gets a public IP and is reachable from the internet"
	y := only(p.violation) with input as pool({}, {})
	y.msg == "public_ip_disabled is not set (the provider's default is false): every node gets a public IP and is reachable from the internet"
	z := only(p.violation) with input as pool({"public_ip_disabled": "true"}, {})
	z.msg == "public_ip_disabled is \"true\": every node gets a public IP and is reachable from the internet"
}

test_scaleway_unknown_fails if {
	x := only(p.violation) with input as pool({"public_ip_disabled": null}, {"public_ip_disabled": true})
	x.msg == "public_ip_disabled is known only after apply, so it cannot be checked: the pool must set public_ip_disabled = true"
}

test_aws_without_remote_access_passes if {
	count(p.violation) == 0 with input as group([], {})
	count(p.violation) == 0 with input as group(null, {})
	count(p.violation) == 0 with input as {"resource": {"type": "aws_eks_node_group", "change": {"after": {}}}}
}

test_aws_allow_listed_ssh_passes if {
	count(p.violation) == 0 with input as group([{"ec2_ssh_key": "oncall", "source_security_group_ids": ["sg-0123456789abcdef0"]}], {})
	# IDs of security groups created in the same apply, taken from the configuration.
	count(p.violation) == 0 with input as configured(
		group([{"ec2_ssh_key": "oncall", "source_security_group_ids": null}], {"remote_access": [{"source_security_group_ids": true}]}),
		["aws_security_group.bastion.id", "aws_security_group.bastion"],
	)
	count(p.violation) == 0 with input as configured(
		group([{"ec2_ssh_key": "oncall", "source_security_group_ids": [null]}], {"remote_access": [{"source_security_group_ids": [true]}]}),
		["data.aws_security_group.bastion.id", "data.aws_security_group.bastion"],
	)
}

test_aws_ssh_from_anywhere_fails if {
	x := only(p.violation) with input as group([{"ec2_ssh_key": "oncall"}], {})
	x.path == "/remote_access/0/source_security_group_ids"
	x.msg == "remote_access without source_security_group_ids opens SSH (port 22) on every node to 0.0.0.0/0: remove the block (use SSM Session Manager) or list the security groups allowed in"
	y := only(p.violation) with input as group([{"ec2_ssh_key": "oncall", "source_security_group_ids": []}], {})
	y.path == "/remote_access/0/source_security_group_ids"
	# A configuration reference does not make an empty list allow-listed.
	z := only(p.violation) with input as configured(group([{"ec2_ssh_key": "oncall", "source_security_group_ids": []}], {}), ["aws_security_group.bastion"])
	z.path == "/remote_access/0/source_security_group_ids"
}

test_aws_wrong_types_fail_without_error if {
	x := only(p.violation) with input as group([{"source_security_group_ids": "sg-0123456789abcdef0"}], {})
	x.msg == "source_security_group_ids is sg-0123456789abcdef0, not a list of security group IDs"
	y := only(p.violation) with input as group([{"source_security_group_ids": [""]}], {})
	y.path == "/remote_access/0/source_security_group_ids"
	z := only(p.violation) with input as group({"ec2_ssh_key": "oncall"}, {})
	z.path == "/remote_access"
	startswith(z.msg, "remote_access is ")
}

test_aws_unknown_values_fail if {
	x := only(p.violation) with input as group(null, {"remote_access": true})
	x.path == "/remote_access"
	x.msg == "remote_access is known only after apply, so it cannot be checked: a remote_access block without source_security_group_ids opens SSH on every node to 0.0.0.0/0"
	# Unknown IDs not taken from a security group.
	y := only(p.violation) with input as configured(group([{"source_security_group_ids": null}], {"remote_access": [{"source_security_group_ids": true}]}), ["var.ssh_sources"])
	y.path == "/remote_access/0/source_security_group_ids"
	contains(y.msg, "known only after apply")
	z := only(p.violation) with input as group([{"source_security_group_ids": ["sg-0123456789abcdef0", null]}], {"remote_access": [{"source_security_group_ids": [false, true]}]})
	z.msg == "source_security_group_ids lists a security group known only after apply that the configuration does not take from an aws_security_group: SSH may be open to more than the listed groups"
}
