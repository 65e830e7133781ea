package gatehouse.terraform.no_world_open_ingress_test

import data.gatehouse.terraform.no_world_open_ingress as p

only(v) := x if {
	count(v) == 1
	some x in v
}

paths(v) := {x.path | some x in v}

res(type, after, unknown) := {
	"resource": {
		"address": sprintf("%s.main", [type]), "type": type, "name": "main", "mode": "managed",
		"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
	},
	"parameters": {"publicTcpPorts": [443], "loadBalancerOnly": false},
}

sg(ingress) := res("aws_security_group", {"ingress": ingress}, {})

https := {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": ["::/0"]}

ssh := {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": []}

sg_rule(after) := res("aws_security_group_rule", after, {})

vpc_rule(after) := res("aws_vpc_security_group_ingress_rule", after, {})

scw(after) := res("scaleway_instance_security_group", object.union({"inbound_default_policy": "drop"}, after), {})

scw_rule(rule) := scw({"inbound_rule": [rule]})

# --- AWS security groups

test_aws_https_and_private_rules_pass if {
	count(p.violation) == 0 with input as sg([https])
	count(p.violation) == 0 with input as sg([{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}])
	count(p.violation) == 0 with input as sg([{"protocol": "6", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}])
	count(p.violation) == 0 with input as sg([{"protocol": "-1", "from_port": 0, "to_port": 0, "security_groups": ["sg-1"], "cidr_blocks": []}])
	count(p.violation) == 0 with input as sg([])
	count(p.violation) == 0 with input as res("aws_security_group", {"name": "x"}, {})
}

test_aws_world_open_inline_rules_fail_at_the_cidr if {
	x := only(p.violation) with input as sg([https, ssh])
	x.path == "/ingress/1/cidr_blocks/0"
	x.msg == "ingress from 0.0.0.0/0 on tcp port 22: only tcp port(s) 443 may be open to the whole internet"
	y := only(p.violation) with input as sg([{"protocol": "-1", "from_port": 0, "to_port": 0, "ipv6_cidr_blocks": ["2001:db8::/32", "::/0"]}])
	y.path == "/ingress/0/ipv6_cidr_blocks/1"
	y.msg == "ingress from ::/0 on all protocols and ports: only tcp port(s) 443 may be open to the whole internet"
	# -1 opens everything whatever the ports say.
	z := only(p.violation) with input as sg([{"protocol": "-1", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}])
	z.path == "/ingress/0/cidr_blocks/0"
	# A range including 443 is more than 443.
	u := only(p.violation) with input as sg([{"protocol": "tcp", "from_port": 443, "to_port": 8443, "cidr_blocks": ["0.0.0.0/0"]}])
	u.msg == "ingress from 0.0.0.0/0 on tcp ports 443-8443: only tcp port(s) 443 may be open to the whole internet"
	w := only(p.violation) with input as sg([{"protocol": "tcp", "from_port": 80, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}])
	w.msg == "ingress from 0.0.0.0/0 on tcp ports 80-443: only tcp port(s) 443 may be open to the whole internet"
	v := only(p.violation) with input as sg([{"protocol": "udp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/0"]}])
	v.msg == "ingress from 10.0.0.0/0 on udp port 443: only tcp port(s) 443 may be open to the whole internet"
}

test_aws_security_group_rules if {
	count(p.violation) == 0 with input as sg_rule({"type": "ingress", "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]})
	count(p.violation) == 0 with input as sg_rule({"type": "egress", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]})
	count(p.violation) == 0 with input as sg_rule({"type": "ingress", "protocol": "tcp", "from_port": 5432, "to_port": 5432, "source_security_group_id": "sg-1"})
	x := only(p.violation) with input as sg_rule({"type": "ingress", "protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["0.0.0.0/0"]})
	x.path == "/cidr_blocks/0"
	x.msg == "ingress from 0.0.0.0/0 on tcp port 5432: only tcp port(s) 443 may be open to the whole internet"
}

test_aws_vpc_ingress_rules if {
	count(p.violation) == 0 with input as vpc_rule({"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv6": "::/0"})
	count(p.violation) == 0 with input as vpc_rule({"ip_protocol": "-1", "referenced_security_group_id": "sg-1"})
	x := only(p.violation) with input as vpc_rule({"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0", "from_port": null, "to_port": null})
	x.path == "/cidr_ipv4"
	x.msg == "ingress from 0.0.0.0/0 on all protocols and ports: only tcp port(s) 443 may be open to the whole internet"
	y := only(p.violation) with input as vpc_rule({"ip_protocol": "tcp", "cidr_ipv6": "::/0", "from_port": 8080, "to_port": 8080})
	y.path == "/cidr_ipv6"
}

test_aws_wrong_types_fail_without_error if {
	x := only(p.violation) with input as sg([{"protocol": "tcp", "from_port": "443", "to_port": "443", "cidr_blocks": ["0.0.0.0/0"]}])
	x.path == "/ingress/0/cidr_blocks/0"
	# A CIDR list that is a string is no list: nothing known to be open (the provider rejects it).
	count(p.violation) == 0 with input as sg([{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": "0.0.0.0/0"}])
	y := only(p.violation) with input as res("aws_security_group", {"ingress": "all"}, {})
	y.msg == "ingress is all, not a list of rules"
	z := only(p.violation) with input as sg_rule({"type": "ingress", "protocol": 6, "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]})
	z.msg == "ingress from 0.0.0.0/0 on protocol 6 ports 22-22: only tcp port(s) 443 may be open to the whole internet"
	count(p.violation) == 0 with input as sg_rule({"type": "ingress", "protocol": 6, "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]})
}

test_aws_unknown_values_fail if {
	# Unknown source of a rule that opens SSH.
	x := only(p.violation) with input as res("aws_security_group_rule", {"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": null}, {"cidr_blocks": true})
	x.path == "/cidr_blocks"
	x.msg == "cidr_blocks is known only after apply, so it cannot be checked: the rule's source may be the whole internet, and the rule does not open only tcp port(s) 443"
	y := only(p.violation) with input as res("aws_security_group_rule", {"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8", null]}, {"cidr_blocks": [false, true]})
	y.path == "/cidr_blocks/1"
	# Unknown port of a world-open rule.
	z := only(p.violation) with input as vpc_rule({"ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0", "from_port": null, "to_port": 443})
		with input.resource.change.after_unknown as {"from_port": true}
	z.path == "/from_port"
	z.msg == "from_port is known only after apply, so it cannot be checked: the rule admits 0.0.0.0/0, and only tcp port(s) 443 may be open to the whole internet"
	# Unknown type of a world-open rule.
	w := only(p.violation) with input as res("aws_security_group_rule", {"type": null, "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}, {"type": true})
	w.path == "/type"
	# An unknown source is harmless on a rule known to open tcp 443 only.
	count(p.violation) == 0 with input as res("aws_vpc_security_group_ingress_rule", {"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": null}, {"cidr_ipv4": true})
	# Everything unknown.
	v := only(p.violation) with input as res("aws_vpc_security_group_ingress_rule", {"ip_protocol": null, "from_port": null, "to_port": null, "cidr_ipv4": null, "cidr_ipv6": null}, {"ip_protocol": true, "from_port": true, "to_port": true, "cidr_ipv4": true, "cidr_ipv6": true})
	v.path == "/cidr_ipv4"
}

test_aws_inline_ingress_known_only_after_apply if {
	unknown := res("aws_security_group", {"ingress": null}, {"ingress": true})
	# No configuration to tell: unknown.
	x := only(p.violation) with input as unknown
	x.path == "/ingress"
	contains(x.msg, "known only after apply")
	# Written in the configuration: unknown.
	written := object.union(unknown, {"plan": {"configuration": {"root_module": {"resources": [{"address": "aws_security_group.main", "type": "aws_security_group", "name": "main", "expressions": {"ingress": [{"from_port": {"references": ["var.port"]}}]}}]}}}})
	y := only(p.violation) with input as written
	y.path == "/ingress"
	# Not written: the plan's placeholder for rules kept in separate resources.
	absent := object.union(unknown, {"plan": {"configuration": {"root_module": {"resources": [{"address": "aws_security_group.main", "type": "aws_security_group", "name": "main", "expressions": {"name_prefix": {"constant_value": "lb-"}}}]}}}})
	count(p.violation) == 0 with input as absent
}

test_public_tcp_ports_parameter if {
	count(p.violation) == 0 with input as sg([{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["0.0.0.0/0"]}])
		with input.parameters as {"publicTcpPorts": [80, 443], "loadBalancerOnly": false}
	x := only(p.violation) with input as sg([https])
		with input.parameters as {"publicTcpPorts": [8443]}
	contains(x.msg, "only tcp port(s) 8443 may be open")
	y := only(p.violation) with input as sg([ssh])
		with input.parameters as {"publicTcpPorts": [443, 80], "loadBalancerOnly": false}
	contains(y.msg, "only tcp port(s) 80, 443 may be open")
	# Without parameters the defaults apply: 443, on a load balancer's group only.
	count(p.violation) == 1 with input as {"resource": sg([https]).resource}
}

# --- Scaleway security groups

test_scaleway_https_and_private_rules_pass if {
	count(p.violation) == 0 with input as scw_rule({"action": "accept", "protocol": "TCP", "port": 443, "ip_range": "0.0.0.0/0"})
	count(p.violation) == 0 with input as scw_rule({"action": "accept", "port": 443, "ip_range": "::/0"})
	count(p.violation) == 0 with input as scw_rule({"action": "accept", "protocol": "TCP", "port_range": "443-443", "ip_range": "0.0.0.0/0"})
	count(p.violation) == 0 with input as scw_rule({"action": "accept", "protocol": "ANY", "ip_range": "172.16.0.0/22"})
	count(p.violation) == 0 with input as scw_rule({"action": "accept", "protocol": "TCP", "port": 22, "ip": "198.51.100.7"})
	count(p.violation) == 0 with input as scw_rule({"action": "drop", "protocol": "ANY", "ip_range": "0.0.0.0/0"})
	count(p.violation) == 0 with input as scw({})
}

test_scaleway_world_open_rules_fail if {
	x := only(p.violation) with input as scw_rule({"action": "accept", "protocol": "TCP", "port": 22, "ip_range": "0.0.0.0/0"})
	x.path == "/inbound_rule/0/ip_range"
	x.msg == "ingress from 0.0.0.0/0 on TCP port 22: only tcp port(s) 443 may be open to the whole internet"
	y := only(p.violation) with input as scw_rule({"action": "accept", "port": 22})
	y.path == "/inbound_rule/0"
	y.msg == "ingress from any address (no ip_range nor ip) on TCP port 22: only tcp port(s) 443 may be open to the whole internet"
	z := only(p.violation) with input as scw_rule({"action": "accept", "protocol": "TCP", "ip_range": "0.0.0.0/0"})
	z.msg == "ingress from 0.0.0.0/0 on TCP (every port): only tcp port(s) 443 may be open to the whole internet"
	w := only(p.violation) with input as scw_rule({"action": "accept", "protocol": "TCP", "port_range": "1-1024", "ip_range": "::/0"})
	w.msg == "ingress from ::/0 on TCP port_range 1-1024: only tcp port(s) 443 may be open to the whole internet"
	v := only(p.violation) with input as scw_rule({"action": "accept", "protocol": "UDP", "port": 443, "ip_range": "0.0.0.0/0"})
	v.path == "/inbound_rule/0/ip_range"
	u := only(p.violation) with input as res("scaleway_instance_security_group_rules", {"inbound_rule": [{"action": "accept", "protocol": "ICMP", "ip_range": "0.0.0.0/0"}]}, {})
	u.msg == "ingress from 0.0.0.0/0 on ICMP (every port): only tcp port(s) 443 may be open to the whole internet"
}

test_scaleway_default_policy if {
	x := only(p.violation) with input as res("scaleway_instance_security_group", {"name": "edge"}, {})
	x.path == "/inbound_default_policy"
	startswith(x.msg, "inbound_default_policy is not set (the provider's default is accept)")
	y := only(p.violation) with input as res("scaleway_instance_security_group", {"inbound_default_policy": "accept"}, {})
	startswith(y.msg, "inbound_default_policy is accept: every port is open")
	z := only(p.violation) with input as res("scaleway_instance_security_group", {"inbound_default_policy": null}, {"inbound_default_policy": true})
	z.msg == "inbound_default_policy is known only after apply, so it cannot be checked: inbound traffic must be dropped by default (inbound_default_policy = \"drop\")"
	# The rules resource has no default policy of its own.
	count(p.violation) == 0 with input as res("scaleway_instance_security_group_rules", {"inbound_rule": []}, {})
}

test_scaleway_wrong_types_fail_without_error if {
	x := only(p.violation) with input as scw_rule({"action": "accept", "port_range": "https", "ip_range": "0.0.0.0/0"})
	x.msg == "ingress from 0.0.0.0/0 on TCP port_range https: only tcp port(s) 443 may be open to the whole internet"
	y := only(p.violation) with input as scw_rule({"action": "accept", "port": "443", "ip_range": "0.0.0.0/0"})
	y.path == "/inbound_rule/0/ip_range"
	z := only(p.violation) with input as scw_rule({"action": "accept", "protocol": 6, "port": 443, "ip_range": "0.0.0.0/0"})
	z.msg == "ingress from 0.0.0.0/0 on protocol 6 port 443: only tcp port(s) 443 may be open to the whole internet"
	w := only(p.violation) with input as scw({"inbound_rule": "all"})
	w.msg == "inbound_rule is all, not a list of rules"
	count(p.violation) == 0 with input as scw_rule({"action": "accept", "port_range": " 443 - 443 ", "ip_range": "0.0.0.0/0"})
	v := only(p.violation) with input as scw_rule({"action": "accept", "port_range": "443-444", "ip_range": "0.0.0.0/0"})
	v.path == "/inbound_rule/0/ip_range"
}

test_scaleway_unknown_values_fail if {
	x := only(p.violation) with input as scw_rule({"action": "accept", "port": 22, "ip_range": null})
		with input.resource.change.after_unknown as {"inbound_rule": [{"ip_range": true}]}
	x.path == "/inbound_rule/0/ip_range"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as scw_rule({"action": null, "port": 22, "ip_range": "0.0.0.0/0"})
		with input.resource.change.after_unknown as {"inbound_rule": [{"action": true}]}
	y.path == "/inbound_rule/0/action"
	z := only(p.violation) with input as scw_rule({"action": "accept", "port": null, "ip_range": "0.0.0.0/0"})
		with input.resource.change.after_unknown as {"inbound_rule": [{"port": true}]}
	z.path == "/inbound_rule/0/port"
	w := only(p.violation) with input as scw({"inbound_rule": null})
		with input.resource.change.after_unknown as {"inbound_rule": true}
	w.path == "/inbound_rule"
	contains(w.msg, "known only after apply")
}

# --- The allowed port belongs to a load balancer ---------------------------------------------

lb_plan(lb_refs) := {"configuration": {"root_module": {"resources": [
	{"address": "aws_security_group.main", "type": "aws_security_group", "name": "main", "expressions": {}},
	{"address": "aws_lb.public", "type": "aws_lb", "name": "public", "expressions": {"security_groups": {"references": lb_refs}}},
	{"address": "aws_vpc_security_group_ingress_rule.main", "type": "aws_vpc_security_group_ingress_rule", "name": "main", "expressions": {"security_group_id": {"references": ["aws_security_group.main.id", "aws_security_group.main"]}}},
]}}}

on_lb(resource_input, lb_refs) := object.union(resource_input, {"plan": lb_plan(lb_refs), "parameters": {"publicTcpPorts": [443], "loadBalancerOnly": true}})

test_https_from_the_world_passes_on_a_load_balancer_s_group if {
	count(p.violation) == 0 with input as on_lb(sg([https]), ["aws_security_group.main.id", "aws_security_group.main"])
	count(p.violation) == 0 with input as on_lb(vpc_rule({"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}), ["aws_security_group.main.id", "aws_security_group.main"])
}

test_https_from_the_world_fails_on_a_group_no_load_balancer_uses if {
	v := p.violation with input as on_lb(sg([https]), ["aws_security_group.other.id", "aws_security_group.other"])
	x := only(v)
	x.path == "/ingress/0/cidr_blocks/0"
	contains(x.msg, "security group aws_security_group.main, which no aws_lb of this module uses")
	w := p.violation with input as on_lb(vpc_rule({"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}), [])
	y := only(w)
	y.path == "/cidr_ipv4"
}

test_https_from_known_networks_needs_no_load_balancer if {
	narrow := object.union(https, {"cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": []})
	count(p.violation) == 0 with input as on_lb(sg([narrow]), [])
}
