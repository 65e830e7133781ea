package gatehouse.terraform.cluster_private_network_test

import data.gatehouse.terraform.cluster_private_network as p

only(v) := x if {
	count(v) == 1
	some x in v
}

resource(type, after, unknown) := {
	"address": sprintf("%s.main", [type]), "type": type, "name": "main", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

cluster(after, unknown) := {"resource": resource("scaleway_k8s_cluster", after, unknown), "plan": {}}

eks(vpc_config, unknown) := {"resource": resource("aws_eks_cluster", {"name": "gh", "vpc_config": vpc_config}, unknown)}

pn_id := "fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8"

unknown_pn := {"private_network_id": true}

# A root module whose cluster refers to `refs`.
root_plan(refs) := {"configuration": {"root_module": {"resources": [
	{"address": "scaleway_vpc_private_network.main", "type": "scaleway_vpc_private_network", "name": "main", "expressions": {}},
	{"address": "scaleway_k8s_cluster.main", "type": "scaleway_k8s_cluster", "name": "main", "expressions": {"private_network_id": {"references": refs}}},
]}}}

# --- Scaleway

test_known_private_network_id_passes if {
	count(p.violation) == 0 with input as cluster({"private_network_id": pn_id}, {})
	count(p.violation) == 0 with input as cluster({"private_network_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, {})
}

test_missing_private_network_fails if {
	x := only(p.violation) with input as cluster({"name": "gh"}, {})
	x.path == "/private_network_id"
	startswith(x.msg, "private_network_id is not set: the cluster is not attached to a Private Network")
	y := only(p.violation) with input as cluster({"private_network_id": null}, {})
	y.path == "/private_network_id"
	z := only(p.violation) with input as cluster({"private_network_id": "  "}, {})
	startswith(z.msg, "private_network_id is empty")
}

test_wrong_types_fail_without_error if {
	x := only(p.violation) with input as cluster({"private_network_id": 42}, {})
	startswith(x.msg, "private_network_id is 42, not an ID")
	y := only(p.violation) with input as cluster({"private_network_id": ["a"]}, {})
	y.path == "/private_network_id"
	# A malformed configuration is no reference.
	z := only(p.violation) with input as object.union(cluster({"private_network_id": null}, unknown_pn), {"plan": root_plan("scaleway_vpc_private_network.main.id")})
	z.path == "/private_network_id"
}

test_unknown_id_wired_to_a_private_network_passes if {
	count(p.violation) == 0 with input as object.union(cluster({"private_network_id": null}, unknown_pn), {"plan": root_plan(["scaleway_vpc_private_network.main.id", "scaleway_vpc_private_network.main"])})
	count(p.violation) == 0 with input as object.union(cluster({"private_network_id": null}, unknown_pn), {"plan": root_plan(["data.scaleway_vpc_private_network.shared.id", "data.scaleway_vpc_private_network.shared"])})
}

test_unknown_id_not_wired_to_a_private_network_fails if {
	x := only(p.violation) with input as object.union(cluster({"private_network_id": null}, unknown_pn), {"plan": root_plan(["scaleway_vpc.main.id", "scaleway_vpc.main"])})
	x.path == "/private_network_id"
	x.msg == "private_network_id is known only after apply, so it cannot be checked: the configuration does not wire it to a scaleway_vpc_private_network either: set it from a scaleway_vpc_private_network's id (directly or through module variables and outputs), a variable or a literal ID"
	# A root variable leads nowhere further.
	y := only(p.violation) with input as object.union(cluster({"private_network_id": null}, unknown_pn), {"plan": root_plan(["var.private_network_id"])})
	y.path == "/private_network_id"
	# No configuration at all.
	z := only(p.violation) with input as cluster({"private_network_id": null}, unknown_pn)
	z.path == "/private_network_id"
}

# The production environment's shape: the cluster module gets var.private_network_id, which the
# root passes from module.network's output.
module_resource := object.union(
	resource("scaleway_k8s_cluster", {"private_network_id": null}, unknown_pn),
	{"address": "module.cluster.scaleway_k8s_cluster.this", "name": "this", "module_address": "module.cluster"},
)

network_module(extra) := object.union({"resources": [
	{"address": "scaleway_vpc.this", "type": "scaleway_vpc", "name": "this", "expressions": {}},
	{"address": "scaleway_vpc_private_network.this", "type": "scaleway_vpc_private_network", "name": "this", "expressions": {}},
]}, extra)

modules_plan(network) := {"configuration": {"root_module": {"module_calls": {
	"network": {"source": "../network", "module": network},
	"cluster": {
		"source": "../cluster",
		"expressions": {"private_network_id": {"references": ["module.network.private_network_id", "module.network"]}},
		"module": {"resources": [{"address": "scaleway_k8s_cluster.this", "type": "scaleway_k8s_cluster", "name": "this", "expressions": {"private_network_id": {"references": ["var.private_network_id"]}}}]},
	},
}}}}

test_wiring_through_module_outputs_of_a_plan if {
	outputs := {"outputs": {
		"private_network_id": {"expression": {"references": ["scaleway_vpc_private_network.this.id", "scaleway_vpc_private_network.this"]}},
		"vpc_id": {"expression": {"references": ["scaleway_vpc.this.id", "scaleway_vpc.this"]}},
	}}
	count(p.violation) == 0 with input as {"resource": module_resource, "plan": modules_plan(network_module(outputs))}
	# The VPC's output is not a private network.
	wrong := json.patch(modules_plan(network_module(outputs)), [{"op": "replace", "path": "/configuration/root_module/module_calls/cluster/expressions/private_network_id/references", "value": ["module.network.vpc_id", "module.network"]}])
	x := only(p.violation) with input as {"resource": module_resource, "plan": wrong}
	x.path == "/private_network_id"
}

test_wiring_through_a_module_in_a_static_scan if {
	# No outputs recorded: a module declaring a private network stands for it.
	count(p.violation) == 0 with input as {"resource": module_resource, "plan": modules_plan(network_module({}))}
	# A module without one does not.
	bare := {"resources": [{"address": "scaleway_vpc.this", "type": "scaleway_vpc", "name": "this"}]}
	x := only(p.violation) with input as {"resource": module_resource, "plan": modules_plan(bare)}
	x.path == "/private_network_id"
}

test_wiring_through_nested_module_instances if {
	nested := object.union(module_resource, {"address": "module.env[\"prod\"].module.cluster.scaleway_k8s_cluster.this", "module_address": "module.env[\"prod\"].module.cluster"})
	plan := {"configuration": {"root_module": {
		"resources": [{"address": "scaleway_vpc_private_network.shared", "type": "scaleway_vpc_private_network", "name": "shared"}],
		"module_calls": {"env": {
			"expressions": {"network": {"references": ["scaleway_vpc_private_network.shared.id", "scaleway_vpc_private_network.shared"]}},
			"module": modules_plan(network_module({})).configuration.root_module,
		}},
	}}}
	count(p.violation) == 0 with input as {"resource": nested, "plan": plan}
}

test_a_known_value_is_judged_before_references if {
	x := only(p.violation) with input as object.union(cluster({"private_network_id": ""}, {}), {"plan": root_plan(["scaleway_vpc_private_network.main.id"])})
	startswith(x.msg, "private_network_id is empty")
}

# --- AWS

test_private_or_allow_listed_endpoints_pass if {
	count(p.violation) == 0 with input as eks([{"endpoint_public_access": false, "endpoint_private_access": true}], {})
	count(p.violation) == 0 with input as eks([{"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}], {})
	count(p.violation) == 0 with input as eks([{"public_access_cidrs": ["203.0.113.0/24", "2001:db8::/32"]}], {})
	# Known private, unknown CIDRs (computed in a real plan): fine.
	count(p.violation) == 0 with input as eks([{"endpoint_public_access": false, "public_access_cidrs": null}], {"vpc_config": [{"public_access_cidrs": true}]})
}

test_default_public_endpoint_fails if {
	x := only(p.violation) with input as eks([{"subnet_ids": ["subnet-1"]}], {})
	x.path == "/vpc_config/0/public_access_cidrs"
	x.msg == "the API endpoint is public (endpoint_public_access is unset, so true) and public_access_cidrs is unset, so AWS opens it to 0.0.0.0/0"
	y := only(p.violation) with input as eks([{"endpoint_public_access": true, "public_access_cidrs": []}], {})
	y.msg == "the API endpoint is public (endpoint_public_access is true) and public_access_cidrs is empty, so AWS opens it to 0.0.0.0/0"
}

test_world_cidrs_fail_at_the_cidr if {
	x := only(p.violation) with input as eks([{"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24", "0.0.0.0/0"]}], {})
	x.path == "/vpc_config/0/public_access_cidrs/1"
	contains(x.msg, "open to 0.0.0.0/0, the whole internet")
	y := only(p.violation) with input as eks([{"public_access_cidrs": ["::/0"]}], {})
	y.path == "/vpc_config/0/public_access_cidrs/0"
	z := only(p.violation) with input as eks([{"public_access_cidrs": ["10.0.0.0/0"]}], {})
	z.path == "/vpc_config/0/public_access_cidrs/0"
}

test_missing_vpc_config_fails if {
	x := only(p.violation) with input as eks([], {})
	x.path == "/vpc_config"
	y := only(p.violation) with input as {"resource": resource("aws_eks_cluster", {"name": "gh"}, {})}
	y.path == "/vpc_config"
}

test_unknown_values_fail if {
	x := only(p.violation) with input as eks(null, {"vpc_config": true})
	x.path == "/vpc_config"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as eks([{"endpoint_public_access": null, "public_access_cidrs": null}], {"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": true}]})
	y.path == "/vpc_config/0/endpoint_public_access"
	contains(y.msg, "known only after apply")
	z := only(p.violation) with input as eks([{"endpoint_public_access": true, "public_access_cidrs": null}], {"vpc_config": [{"public_access_cidrs": true}]})
	z.path == "/vpc_config/0/public_access_cidrs"
	contains(z.msg, "known only after apply")
	w := only(p.violation) with input as eks([{"public_access_cidrs": ["203.0.113.0/24", null]}], {"vpc_config": [{"public_access_cidrs": [false, true]}]})
	w.path == "/vpc_config/0/public_access_cidrs/1"
	# Known restricted CIDRs make an unknown flag harmless.
	count(p.violation) == 0 with input as eks([{"endpoint_public_access": null, "public_access_cidrs": ["203.0.113.0/24"]}], {"vpc_config": [{"endpoint_public_access": true}]})
}

test_aws_unset_cidrs_computed_in_a_plan_read_as_unset if {
	doc := eks([{"endpoint_public_access": true, "public_access_cidrs": null}], {"vpc_config": [{"public_access_cidrs": true}]})
	plan := {"configuration": {"root_module": {"resources": [{"address": "aws_eks_cluster.main", "type": "aws_eks_cluster", "name": "main", "expressions": {"vpc_config": [{"subnet_ids": {"constant_value": ["subnet-1"]}}]}}]}}}
	x := only(p.violation) with input as object.union(doc, {"plan": plan})
	x.path == "/vpc_config/0/public_access_cidrs"
	x.msg == "the API endpoint is public (endpoint_public_access is true) and public_access_cidrs is unset, so AWS opens it to 0.0.0.0/0"
	# Written but unknown: still unknown.
	written := json.patch(plan, [{"op": "add", "path": "/configuration/root_module/resources/0/expressions/vpc_config/0/public_access_cidrs", "value": {"references": ["var.cidrs"]}}])
	y := only(p.violation) with input as object.union(doc, {"plan": written})
	contains(y.msg, "known only after apply")
}

test_aws_wrong_types_fail_without_error if {
	x := only(p.violation) with input as eks([{"endpoint_public_access": "false"}], {})
	x.path == "/vpc_config/0/public_access_cidrs"
	y := only(p.violation) with input as eks([{"public_access_cidrs": "203.0.113.0/24"}], {})
	y.msg == "public_access_cidrs is 203.0.113.0/24, not a list of CIDR blocks"
	z := only(p.violation) with input as eks([{"public_access_cidrs": [24]}], {})
	z.path == "/vpc_config/0/public_access_cidrs"
	w := only(p.violation) with input as eks("vpc", {})
	w.path == "/vpc_config"
}
