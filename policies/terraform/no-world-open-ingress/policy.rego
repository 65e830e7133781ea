# Nothing but the allowed TCP ports (publicTcpPorts, 443 by default) is open to the whole
# internet.
#
# Every ingress rule of the targeted resources is described as an object of paths (its source
# CIDRs, protocol, ports, action); the judgement is then the same for every cloud. A rule known to
# open only an allowed TCP port passes whatever its source; otherwise a world-open source is
# reported, and so is a source, protocol, port, action or type known only after apply.
package gatehouse.terraform.no_world_open_ingress

import data.gatehouse.lib.terraform as tf

allowed_ports := {p |
	ps := object.get(input, ["parameters", "publicTcpPorts"], [443])
	is_array(ps)
	some p in ps
	is_number(p)
}

allowed_text := concat(", ", [sprintf("%v", [p]) | some p in sort(allowed_ports)]) if {
	count(allowed_ports) > 0
} else := "(none)"

# --- The rules of each resource type ------------------------------------------------------------

rules contains {
	"cloud": "aws", "base": ["ingress", i],
	"lists": [["ingress", i, "cidr_blocks"], ["ingress", i, "ipv6_cidr_blocks"]], "singles": [],
	"protocol": ["ingress", i, "protocol"], "from": ["ingress", i, "from_port"], "to": ["ingress", i, "to_port"],
	"extra": [],
} if {
	input.resource.type == "aws_security_group"
	some i, _ in tf.blocks(["ingress"])
}

rules contains {
	"cloud": "aws", "base": [],
	"lists": [["cidr_blocks"], ["ipv6_cidr_blocks"]], "singles": [],
	"protocol": ["protocol"], "from": ["from_port"], "to": ["to_port"],
	"extra": [["type"]],
} if {
	input.resource.type == "aws_security_group_rule"
	not tf.value(["type"]) == "egress"
}

rules contains {
	"cloud": "aws", "base": [],
	"lists": [], "singles": [["cidr_ipv4"], ["cidr_ipv6"]],
	"protocol": ["ip_protocol"], "from": ["from_port"], "to": ["to_port"],
	"extra": [],
} if {
	input.resource.type == "aws_vpc_security_group_ingress_rule"
}

rules contains {
	"cloud": "scaleway", "base": ["inbound_rule", i],
	"ip_range": ["inbound_rule", i, "ip_range"], "ip": ["inbound_rule", i, "ip"],
	"protocol": ["inbound_rule", i, "protocol"], "port": ["inbound_rule", i, "port"],
	"port_range": ["inbound_rule", i, "port_range"], "action": ["inbound_rule", i, "action"],
} if {
	input.resource.type in {"scaleway_instance_security_group", "scaleway_instance_security_group_rules"}
	some i, _ in tf.blocks(["inbound_rule"])
}

# --- The judgement -----------------------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	some rule in rules
	not opens_allowed_port_only(rule)
	not drops(rule)
	[path, msg] := problem(rule)
}

problem(rule) := [path, sprintf("the rule admits %s, and only tcp port(s) %s may be open to the whole internet", [world_text(rule), allowed_text])] if {
	count(world_paths(rule)) > 0
	unknowns := unknown_setting_paths(rule)
	count(unknowns) > 0
	path := unknowns[0]
} else := [path, sprintf("ingress from %s on %s: only tcp port(s) %s may be open to the whole internet", [world_text(rule), ports_text(rule), allowed_text])] if {
	paths := world_paths(rule)
	count(paths) > 0
	path := paths[0]
} else := [path, sprintf("the rule's source may be the whole internet, and the rule does not open only tcp port(s) %s", [allowed_text])] if {
	unknowns := unknown_source_paths(rule)
	count(unknowns) > 0
	path := unknowns[0]
}

world(c) if {
	is_string(c)
	endswith(trim_space(c), "/0")
}

world_text(rule) := "any address (no ip_range nor ip)" if {
	rule.cloud == "scaleway"
	world_paths(rule) == [rule.base]
} else := sprintf("%v", [tf.value(paths[0])]) if {
	paths := world_paths(rule)
	count(paths) > 0
}

# Known world-open sources.
world_paths(rule) := array.concat(
	[array.concat(list, [j]) |
		some list in object.get(rule, "lists", [])
		cidrs := tf.value(list)
		is_array(cidrs)
		some j, c in cidrs
		world(c)
	],
	[single | some single in object.get(rule, "singles", []); world(tf.value(single))],
) if {
	rule.cloud == "aws"
}

world_paths(rule) := [rule.ip_range] if {
	rule.cloud == "scaleway"
	world(tf.value(rule.ip_range))
} else := [rule.base] if {
	rule.cloud == "scaleway"
	empty(tf.value(rule.ip_range))
	empty(tf.value(rule.ip))
} else := [] if {
	rule.cloud == "scaleway"
}

empty(v) if v == null

empty(v) if {
	is_string(v)
	trim_space(v) == ""
}

# Sources known only after apply.
unknown_source_paths(rule) := array.concat(
	[p |
		some list in object.get(rule, "lists", [])
		some p in unknown_list_paths(list)
	],
	[single | some single in object.get(rule, "singles", []); tf.unknown(single)],
) if {
	rule.cloud == "aws"
}

unknown_source_paths(rule) := [rule.ip_range] if {
	rule.cloud == "scaleway"
	tf.unknown(rule.ip_range)
} else := [rule.ip] if {
	rule.cloud == "scaleway"
	empty(tf.value(rule.ip_range))
	tf.unknown(rule.ip)
} else := [] if {
	rule.cloud == "scaleway"
}

unknown_list_paths(list) := [list] if {
	tf.unknown(list)
} else := [array.concat(list, [j]) |
	cidrs := tf.value(list)
	is_array(cidrs)
	some j, _ in cidrs
	tf.unknown(array.concat(list, [j]))
]

# Settings known only after apply that decide what the rule opens.
unknown_setting_paths(rule) := [p |
	some p in array.concat([rule.protocol, rule.from, rule.to], rule.extra)
	tf.unknown(p)
] if {
	rule.cloud == "aws"
}

unknown_setting_paths(rule) := [p |
	some p in [rule.action, rule.protocol, rule.port_range, rule.port]
	tf.unknown(p)
] if {
	rule.cloud == "scaleway"
}

# --- What a rule opens ---------------------------------------------------------------------------

opens_allowed_port_only(rule) if {
	rule.cloud == "aws"
	tcp(tf.value(rule.protocol))
	from := tf.value(rule.from)
	from == tf.value(rule.to)
	from in allowed_ports
}

opens_allowed_port_only(rule) if {
	rule.cloud == "scaleway"
	scaleway_protocol(rule) == "TCP"
	scaleway_port(rule) in allowed_ports
}

tcp(p) if {
	is_string(p)
	lower(p) in {"tcp", "6"}
}

tcp(p) if p == 6

# --- AWS: the allowed ports are the load balancers' ---------------------------------------------

load_balancer_only := v if {
	v := input.parameters.loadBalancerOnly
	is_boolean(v)
} else := true

violation contains {"msg": msg, "path": tf.pointer(path)} if {
	load_balancer_only
	some rule in rules
	rule.cloud == "aws"
	opens_allowed_port_only(rule)
	paths := world_paths(rule)
	count(paths) > 0
	not on_load_balancer
	path := paths[0]
	msg := sprintf("ingress from %s on tcp port %v, on %s, which no aws_lb of this module uses: only a load balancer's security group may be open to the whole internet", [world_text(rule), tf.value(rule.from), group_text])
}

# The aws_security_group the judged resource is, or that its rule belongs to (security_group_id).
group_addresses contains sprintf("aws_security_group.%s", [input.resource.name]) if {
	input.resource.type == "aws_security_group"
}

group_addresses contains ref if {
	input.resource.type in {"aws_security_group_rule", "aws_vpc_security_group_ingress_rule"}
	refs := object.get(tf.configuration, ["expressions", "security_group_id", "references"], [])
	is_array(refs)
	some ref in refs
	is_string(ref)
	regex.match(`^aws_security_group\.[A-Za-z0-9_-]+$`, ref)
}

on_load_balancer if {
	some group in group_addresses
	some lb in object.get(tf.configuration_module, "resources", [])
	is_object(lb)
	lb.type in {"aws_lb", "aws_alb"}
	refs := object.get(lb, ["expressions", "security_groups", "references"], [])
	is_array(refs)
	group in refs
}

group_text := sprintf("security group %s", [concat(", ", sort(group_addresses))]) if {
	count(group_addresses) > 0
} else := "a security group this configuration does not show"

# A Scaleway rule that drops what it matches opens nothing.
drops(rule) if {
	rule.cloud == "scaleway"
	v := tf.value(rule.action)
	is_string(v)
	lower(v) == "drop"
}

scaleway_protocol(rule) := "TCP" if {
	tf.value(rule.protocol) == null
} else := upper(v) if {
	v := tf.value(rule.protocol)
	is_string(v)
}

# The single port a Scaleway rule opens: port_range "443-443" (or "443"), else port.
scaleway_port(rule) := to_number(parts[1]) if {
	v := tf.value(rule.port_range)
	is_string(v)
	parts := regex.find_all_string_submatch_n(`^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$`, v, 1)[0]
	parts[2] in {"", parts[1]}
} else := p if {
	empty(tf.value(rule.port_range))
	p := tf.value(rule.port)
	is_number(p)
	p != 0
}

ports_text(rule) := "all protocols and ports" if {
	rule.cloud == "aws"
	v := tf.value(rule.protocol)
	is_string(v)
	lower(v) in {"-1", "all"}
} else := sprintf("%v port %v", [lower(tf.value(rule.protocol)), tf.value(rule.from)]) if {
	rule.cloud == "aws"
	is_string(tf.value(rule.protocol))
	tf.value(rule.from) == tf.value(rule.to)
} else := sprintf("%v ports %v-%v", [lower(tf.value(rule.protocol)), tf.value(rule.from), tf.value(rule.to)]) if {
	rule.cloud == "aws"
	is_string(tf.value(rule.protocol))
} else := sprintf("protocol %v ports %v-%v", [tf.value(rule.protocol), tf.value(rule.from), tf.value(rule.to)]) if {
	rule.cloud == "aws"
} else := sprintf("%s (every port)", [scaleway_protocol_text(rule)]) if {
	rule.cloud == "scaleway"
	empty(tf.value(rule.port_range))
	tf.value(rule.port) in {null, 0}
} else := sprintf("%s port_range %v", [scaleway_protocol_text(rule), tf.value(rule.port_range)]) if {
	rule.cloud == "scaleway"
	not empty(tf.value(rule.port_range))
} else := sprintf("%s port %v", [scaleway_protocol_text(rule), tf.value(rule.port)])

scaleway_protocol_text(rule) := scaleway_protocol(rule) if {
	scaleway_protocol(rule)
} else := sprintf("protocol %v", [tf.value(rule.protocol)])

# --- Scaleway: drop by default -------------------------------------------------------------------

violation contains {"msg": tf.explain(["inbound_default_policy"], msg), "path": "/inbound_default_policy"} if {
	input.resource.type == "scaleway_instance_security_group"
	not drops_by_default
	msg := default_policy_message
}

drops_by_default if {
	v := tf.value(["inbound_default_policy"])
	is_string(v)
	lower(v) == "drop"
}

default_policy_message := "inbound traffic must be dropped by default (inbound_default_policy = \"drop\")" if {
	tf.unknown(["inbound_default_policy"])
} else := "inbound_default_policy is not set (the provider's default is accept): every port is open to the internet unless a rule drops it; set it to \"drop\" and accept what is needed" if {
	tf.value(["inbound_default_policy"]) == null
} else := sprintf("inbound_default_policy is %v: every port is open to the internet unless a rule drops it; set it to \"drop\" and accept what is needed", [tf.value(["inbound_default_policy"])])

# --- AWS: inline ingress known only after apply -------------------------------------------------

# In a plan, a security group without inline ingress blocks has them unknown (computed): the
# configuration tells them apart from written ones.
violation contains {"msg": tf.explain(["ingress"], msg), "path": "/ingress"} if {
	input.resource.type == "aws_security_group"
	tf.unknown(["ingress"])
	not ingress_absent_from_configuration
	msg := sprintf("the group's inline ingress rules may open more than tcp port(s) %s to the whole internet", [allowed_text])
}

violation contains {"msg": tf.explain(["inbound_rule"], msg), "path": "/inbound_rule"} if {
	input.resource.type in {"scaleway_instance_security_group", "scaleway_instance_security_group_rules"}
	tf.unknown(["inbound_rule"])
	msg := sprintf("the inbound rules may open more than tcp port(s) %s to the whole internet", [allowed_text])
}

ingress_absent_from_configuration if {
	config := tf.configuration
	config != {}
	expressions := object.get(config, "expressions", {})
	is_object(expressions)
	not "ingress" in object.keys(expressions)
}

violation contains {"msg": msg, "path": tf.pointer([attr])} if {
	some [type, attr] in [["aws_security_group", "ingress"], ["scaleway_instance_security_group", "inbound_rule"], ["scaleway_instance_security_group_rules", "inbound_rule"]]
	input.resource.type == type
	v := tf.value([attr])
	v != null
	not is_array(v)
	msg := sprintf("%s is %v, not a list of rules", [attr, v])
}
