# Kubernetes clusters sit on a private network (Scaleway) and keep their API endpoint off the open
# internet (AWS).
#
# A private_network_id known only after apply counts as set when the configuration wires it to a
# scaleway_vpc_private_network: the references are followed through module variables (to the
# calling module's arguments) and module outputs, a bounded number of steps.
package gatehouse.terraform.cluster_private_network

import data.gatehouse.lib.terraform as tf

# --- Scaleway ---------------------------------------------------------------------------------

violation contains {"msg": msg, "path": "/private_network_id"} if {
	input.resource.type == "scaleway_k8s_cluster"
	not tf.unknown(["private_network_id"])
	v := tf.value(["private_network_id"])
	not valid_id(v)
	msg := sprintf("private_network_id %s: the cluster is not attached to a Private Network of this configuration, so its nodes and the platform's services (database, load balancers) cannot talk over a private network", [id_text(v)])
}

violation contains {"msg": tf.explain(["private_network_id"], msg), "path": "/private_network_id"} if {
	input.resource.type == "scaleway_k8s_cluster"
	tf.unknown(["private_network_id"])
	not wired_to_private_network
	msg := "the configuration does not wire it to a scaleway_vpc_private_network either: set it from a scaleway_vpc_private_network's id (directly or through module variables and outputs), a variable or a literal ID"
}

valid_id(v) if {
	is_string(v)
	trim_space(v) != ""
}

id_text(null) := "is not set"

id_text(v) := "is empty" if {
	is_string(v)
	trim_space(v) == ""
}

id_text(v) := sprintf("is %v, not an ID", [v]) if {
	v != null
	not is_string(v)
}

private_network_ref := `^(data\.)?scaleway_vpc_private_network\.`

# The configuration of the module at a call path: [] is the root module, ["cluster"] the module of
# `module "cluster"`, and so on.
module_at(calls) := object.get(
	input.plan,
	array.concat(["configuration", "root_module"], [step | some c in calls; some step in ["module_calls", c, "module"]]),
	{},
)

# The call path of the resource's module, from its address ("module.k8s[0].module.inner").
resource_calls := [] if {
	not input.resource.module_address
} else := [c |
	some i, part in split(regex.replace(input.resource.module_address, `\[[^\]]*\]`, ""), ".")
	i % 2 == 1
	c := part
]

# A reference in the configuration: [call path of its module, reference].
start_nodes := {[resource_calls, r] |
	refs := object.get(tf.configuration, ["expressions", "private_network_id", "references"], [])
	is_array(refs)
	some r in refs
	is_string(r)
}

# var.<name>: the argument the calling module passes.
var_hops(node) := {[parent, r] |
	[calls, ref] := node
	parts := split(ref, ".")
	count(parts) >= 2
	parts[0] == "var"
	count(calls) > 0
	parent := array.slice(calls, 0, count(calls) - 1)
	call := calls[count(calls) - 1]
	refs := object.get(module_at(parent), ["module_calls", call, "expressions", parts[1], "references"], [])
	is_array(refs)
	some r in refs
	is_string(r)
}

module_hops(node) := output_hops(node) | static_output_hops(node)

# module.<name>.<output>: the output's expression, in the called module.
output_hops(node) := {[inner, r] |
	[calls, ref] := node
	parts := split(regex.replace(ref, `\[[^\]]*\]`, ""), ".")
	count(parts) >= 3
	parts[0] == "module"
	called := object.get(module_at(calls), ["module_calls", parts[1], "module"], null)
	is_object(called)
	inner := array.concat(calls, [parts[1]])
	refs := object.get(called, ["outputs", parts[2], "expression", "references"], [])
	is_array(refs)
	some r in refs
	is_string(r)
}

# A static scan records no module outputs: an output of a module that declares a private network
# stands for that network.
static_output_hops(node) := {[inner, sprintf("scaleway_vpc_private_network.%s", [r.name])] |
	[calls, ref] := node
	parts := split(regex.replace(ref, `\[[^\]]*\]`, ""), ".")
	count(parts) >= 3
	parts[0] == "module"
	called := object.get(module_at(calls), ["module_calls", parts[1], "module"], null)
	is_object(called)
	not "outputs" in object.keys(called)
	inner := array.concat(calls, [parts[1]])
	resources := object.get(called, "resources", [])
	is_array(resources)
	some r in resources
	is_object(r)
	r.type == "scaleway_vpc_private_network"
}

hops(node) := var_hops(node) | module_hops(node)

advance(nodes) := {n | some node in nodes; some n in hops(node)}

# Eight steps cover any realistic chain of modules.
reached := ((((((start_nodes | level1) | level2) | level3) | level4) | level5) | level6) | level7

level1 := advance(start_nodes)

level2 := advance(level1)

level3 := advance(level2)

level4 := advance(level3)

level5 := advance(level4)

level6 := advance(level5)

level7 := advance(level6)

wired_to_private_network if {
	some [_, ref] in reached
	regex.match(private_network_ref, ref)
}

# --- AWS ----------------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["vpc_config"], msg), "path": "/vpc_config"} if {
	input.resource.type == "aws_eks_cluster"
	tf.unknown(["vpc_config"])
	msg := "the cluster's API endpoint may be open to the internet"
}

violation contains {"msg": msg, "path": "/vpc_config"} if {
	input.resource.type == "aws_eks_cluster"
	count(tf.blocks(["vpc_config"])) == 0
	msg := "the cluster has no vpc_config, so its API endpoint is public and open to 0.0.0.0/0 (AWS's default)"
}

violation contains {"msg": explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_eks_cluster"
	some i, _ in tf.blocks(["vpc_config"])
	not tf.value(["vpc_config", i, "endpoint_public_access"]) == false
	not restricted_cidrs(i)
	[path, msg] := endpoint_problem(i)
}

violation contains {"msg": msg, "path": "/vpc_config"} if {
	input.resource.type == "aws_eks_cluster"
	v := tf.value(["vpc_config"])
	v != null
	not is_array(v)
	msg := sprintf("vpc_config is %v, not a block", [v])
}

explain(path, msg) := msg if {
	tf.computed_unset(path)
} else := tf.explain(path, msg)

restricted_cidrs(i) if {
	cidrs := tf.value(["vpc_config", i, "public_access_cidrs"])
	is_array(cidrs)
	count(cidrs) > 0
	every j, c in cidrs {
		not tf.unknown(["vpc_config", i, "public_access_cidrs", j])
		is_string(c)
		not world(c)
	}
}

world(c) if endswith(trim_space(c), "/0")

endpoint_problem(i) := [["vpc_config", i, "endpoint_public_access"], "the API endpoint may be public, and public_access_cidrs does not restrict it"] if {
	tf.unknown(["vpc_config", i, "endpoint_public_access"])
} else := [["vpc_config", i, "public_access_cidrs"], sprintf("the API endpoint is public (endpoint_public_access is %s) and public_access_cidrs is unset, so AWS opens it to 0.0.0.0/0", [public_text(i)])] if {
	tf.computed_unset(["vpc_config", i, "public_access_cidrs"])
} else := [["vpc_config", i, "public_access_cidrs"], "the public API endpoint is open to 0.0.0.0/0 unless public_access_cidrs lists narrower networks"] if {
	tf.unknown(["vpc_config", i, "public_access_cidrs"])
} else := [["vpc_config", i, "public_access_cidrs", j], sprintf("the public API endpoint is open to %s, the whole internet: list only the networks allowed to reach it, or set endpoint_public_access = false", [c])] if {
	cidrs := tf.value(["vpc_config", i, "public_access_cidrs"])
	is_array(cidrs)
	worlds := [[j, c] | some j, c in cidrs; is_string(c); world(c)]
	count(worlds) > 0
	[j, c] := worlds[0]
} else := [["vpc_config", i, "public_access_cidrs", j], "the public API endpoint may be open to the whole internet"] if {
	cidrs := tf.value(["vpc_config", i, "public_access_cidrs"])
	is_array(cidrs)
	unknowns := [j | some j, _ in cidrs; tf.unknown(["vpc_config", i, "public_access_cidrs", j])]
	count(unknowns) > 0
	j := unknowns[0]
} else := [["vpc_config", i, "public_access_cidrs"], sprintf("the API endpoint is public (endpoint_public_access is %s) and public_access_cidrs %s, so AWS opens it to 0.0.0.0/0", [public_text(i), cidrs_text(i)])] if {
	tf.value(["vpc_config", i, "public_access_cidrs"]) == null
} else := [["vpc_config", i, "public_access_cidrs"], sprintf("the API endpoint is public (endpoint_public_access is %s) and public_access_cidrs %s, so AWS opens it to 0.0.0.0/0", [public_text(i), cidrs_text(i)])] if {
	tf.value(["vpc_config", i, "public_access_cidrs"]) == []
} else := [["vpc_config", i, "public_access_cidrs"], sprintf("public_access_cidrs is %v, not a list of CIDR blocks", [tf.value(["vpc_config", i, "public_access_cidrs"])])]

public_text(i) := "unset, so true" if {
	tf.value(["vpc_config", i, "endpoint_public_access"]) == null
} else := sprintf("%v", [tf.value(["vpc_config", i, "endpoint_public_access"])])

cidrs_text(i) := "is unset" if {
	tf.value(["vpc_config", i, "public_access_cidrs"]) == null
} else := "is empty"
