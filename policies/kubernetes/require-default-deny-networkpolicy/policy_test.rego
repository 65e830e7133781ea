package gatehouse.kubernetes.require_default_deny_networkpolicy_test

import data.gatehouse.kubernetes.require_default_deny_networkpolicy as netpol

system_namespaces := {"exemptNamespaces": ["kube-system", "kube-public", "kube-node-lease"]}

pod_template := {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template},
}

review_in(ns, kind, obj, parameters) := {
	"review": {
		"kind": {"kind": kind},
		"name": obj.metadata.name,
		"namespace": ns,
		"operation": "CREATE",
		"object": obj,
	},
	"parameters": parameters,
}

web := review_in("shop", "Deployment", deployment, system_namespaces)

policy(name, spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": spec,
}

# An inventory holding the given NetworkPolicy specs (name -> spec) in one namespace.
policies_in(ns, specs) := {"namespace": {ns: {"networking.k8s.io/v1": {"NetworkPolicy": {name: policy(name, spec) | some name, spec in specs}}}}}

shop(specs) := policies_in("shop", specs)

deny_all := {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

deny_ingress := {"podSelector": {}, "policyTypes": ["Ingress"]}

deny_egress := {"podSelector": {}, "policyTypes": ["Egress"]}

violations(inp, inv) := v if {
	v := netpol.violation with input as inp with data.inventory as inv
}

# The directions reported missing for the web Deployment in "shop", read back from the message.
missing(inv) := "none" if {
	count(violations(web, inv)) == 0
} else := m if {
	[only] := [x | some x in violations(web, inv)]
	only.path == "/metadata/namespace"
	m := trim_suffix(trim_prefix(only.msg, "namespace \"shop\" has no default-deny NetworkPolicy for "), split(only.msg, " traffic: ")[1])
}

both := "Ingress and Egress traffic: "

ingress := "Ingress traffic: "

egress := "Egress traffic: "

test_a_deny_all_policy_passes if {
	count(violations(web, shop({"default-deny": deny_all}))) == 0
}

test_no_policy_reports_both_directions_in_one_message if {
	violations(web, {}) == {{
		"msg": "namespace \"shop\" has no default-deny NetworkPolicy for Ingress and Egress traffic: add one with podSelector: {}, policyTypes [Ingress, Egress] and no rules, then allow-list the traffic Deployment \"web\" needs",
		"path": "/metadata/namespace",
	}}
	v := netpol.violation with input as web
	count(v) == 1
}

test_a_missing_direction_is_named if {
	violations(web, shop({"deny-ingress": deny_ingress})) == {{
		"msg": "namespace \"shop\" has no default-deny NetworkPolicy for Egress traffic: add one with podSelector: {}, policyTypes [Egress] and no rules, then allow-list the traffic Deployment \"web\" needs",
		"path": "/metadata/namespace",
	}}
	missing(shop({"deny-egress": deny_egress})) == ingress
}

test_coverage_may_be_split_over_two_policies if {
	missing(shop({"deny-ingress": deny_ingress, "deny-egress": deny_egress})) == "none"
	missing(shop({"deny-ingress": deny_ingress, "deny-ingress-again": deny_ingress})) == egress
}

test_allow_policies_beside_the_default_deny_do_not_matter if {
	allow_dns := {
		"podSelector": {},
		"policyTypes": ["Egress"],
		"egress": [{"ports": [{"protocol": "UDP", "port": 53}]}],
	}
	allow_web := {
		"podSelector": {"matchLabels": {"app": "web"}},
		"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "gateway"}}}]}],
	}
	missing(shop({"default-deny": deny_all, "allow-dns": allow_dns, "allow-web": allow_web})) == "none"
	missing(shop({"allow-dns": allow_dns, "allow-web": allow_web})) == both
}

test_policy_types_default_to_ingress_without_egress_rules if {
	missing(shop({"p": {"podSelector": {}}})) == egress
	missing(shop({"p": {"podSelector": {}, "policyTypes": []}})) == egress
	missing(shop({"p": {"podSelector": {}, "policyTypes": null}})) == egress
	missing(shop({"p": {"podSelector": {}, "egress": []}})) == egress
	missing(shop({"p": {"podSelector": {}}, "q": deny_egress})) == "none"
}

test_egress_rules_without_policy_types_add_egress_but_allow_traffic if {
	p := {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}
	missing(shop({"p": p})) == egress
	missing(shop({"p": p, "q": deny_egress})) == "none"
}

test_explicit_policy_types_are_taken_as_written if {
	missing(shop({"p": {"podSelector": {}, "policyTypes": ["Egress"], "ingress": []}})) == ingress
	missing(shop({"p": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": null}})) == "none"
}

test_rules_in_a_direction_make_it_no_default_deny if {
	allow_from_gateway := [{"from": [{"podSelector": {"matchLabels": {"app": "gateway"}}}]}]
	missing(shop({"p": object.union(deny_all, {"ingress": allow_from_gateway})})) == ingress
	missing(shop({"p": object.union(deny_all, {"ingress": [{}]})})) == ingress
	missing(shop({"p": object.union(deny_all, {"egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})})) == egress
	missing(shop({"p": object.union(deny_all, {"ingress": [{}], "egress": [{}]})})) == both
	missing(shop({"p": object.union(deny_all, {"ingress": [], "egress": []})})) == "none"
}

test_the_policy_must_select_every_pod if {
	selects_all := [
		{},
		{"matchLabels": {}},
		{"matchExpressions": []},
		{"matchLabels": {}, "matchExpressions": []},
		{"matchLabels": null, "matchExpressions": null},
		null,
	]
	found := [m | some s in selects_all; m := missing(shop({"p": object.union(deny_all, {"podSelector": s})}))]
	found == ["none" | some _ in selects_all]
	missing(shop({"p": object.remove(deny_all, ["podSelector"])})) == "none"
	selects_some := [
		{"matchLabels": {"app": "web"}},
		{"matchExpressions": [{"key": "app", "operator": "Exists"}]},
		"all",
		[],
	]
	narrow := [m | some s in selects_some; m := missing(shop({"p": object.union(deny_all, {"podSelector": s})}))]
	narrow == [both | some _ in selects_some]
}

test_a_policy_in_another_namespace_does_not_count if {
	missing(policies_in("other", {"default-deny": deny_all})) == both
	missing(policies_in("default", {"default-deny": deny_all})) == both
}

test_other_api_versions_and_kinds_do_not_count if {
	inv := {"namespace": {"shop": {
		"extensions/v1beta1": {"NetworkPolicy": {"default-deny": policy("default-deny", deny_all)}},
		"crd.projectcalico.org/v1": {"NetworkPolicy": {"default-deny": policy("default-deny", deny_all)}},
	}}}
	missing(inv) == both
}

test_the_namespace_of_the_review_wins_over_the_manifest if {
	obj := object.union(deployment, {"metadata": {"namespace": "other"}})
	inp := review_in("shop", "Deployment", obj, system_namespaces)
	count(violations(inp, shop({"default-deny": deny_all}))) == 0
	[x.msg | some x in violations(inp, policies_in("other", {"default-deny": deny_all}))] == ["namespace \"shop\" has no default-deny NetworkPolicy for Ingress and Egress traffic: add one with podSelector: {}, policyTypes [Ingress, Egress] and no rules, then allow-list the traffic Deployment \"web\" needs"]
}

test_the_namespace_falls_back_to_the_manifest_then_default if {
	obj := object.union(deployment, {"metadata": {"namespace": "other"}})
	inp := {"review": {"kind": {"kind": "Deployment"}, "object": obj}, "parameters": system_namespaces}
	count(violations(inp, policies_in("other", {"default-deny": deny_all}))) == 0
	count(violations(inp, shop({"default-deny": deny_all}))) == 1
	empty := {"review": {"kind": {"kind": "Deployment"}, "namespace": "", "object": obj}, "parameters": system_namespaces}
	count(violations(empty, policies_in("other", {"default-deny": deny_all}))) == 0
	bare := {"review": {"kind": {"kind": "Deployment"}, "object": object.remove(deployment, ["metadata"])}, "parameters": system_namespaces}
	count(violations(bare, policies_in("default", {"default-deny": deny_all}))) == 0
	[x.msg | some x in violations(bare, shop({"default-deny": deny_all}))] == ["namespace \"default\" has no default-deny NetworkPolicy for Ingress and Egress traffic: add one with podSelector: {}, policyTypes [Ingress, Egress] and no rules, then allow-list the traffic Deployment \"\" needs"]
}

test_every_targeted_kind_is_checked if {
	objects := {
		"Pod": {"metadata": {"name": "web"}, "spec": pod_template.spec},
		"ReplicationController": {"metadata": {"name": "web"}, "spec": {"template": pod_template}},
		"Deployment": deployment,
		"StatefulSet": {"metadata": {"name": "web"}, "spec": {"template": pod_template}},
		"DaemonSet": {"metadata": {"name": "web"}, "spec": {"template": pod_template}},
		"ReplicaSet": {"metadata": {"name": "web"}, "spec": {"template": pod_template}},
		"Job": {"metadata": {"name": "web"}, "spec": {"template": pod_template}},
		"CronJob": {"metadata": {"name": "web"}, "spec": {"jobTemplate": {"spec": {"template": pod_template}}}},
	}
	reported := {kind: msgs |
		some kind, obj in objects
		msgs := [x.msg | some x in violations(review_in("shop", kind, obj, system_namespaces), {})]
	}
	count(reported) == 8
	every kind, msgs in reported {
		msgs == [sprintf("namespace \"shop\" has no default-deny NetworkPolicy for Ingress and Egress traffic: add one with podSelector: {}, policyTypes [Ingress, Egress] and no rules, then allow-list the traffic %s \"web\" needs", [kind])]
	}
	covered := {kind: n |
		some kind, obj in objects
		n := count(violations(review_in("shop", kind, obj, system_namespaces), shop({"default-deny": deny_all})))
	}
	count(covered) == 8
	every n in covered {
		n == 0
	}
}

test_system_namespaces_are_exempt_by_default if {
	exempt := {ns: n |
		some ns in ["kube-system", "kube-public", "kube-node-lease"]
		n := count(violations(review_in(ns, "DaemonSet", deployment, system_namespaces), {}))
	}
	exempt == {"kube-system": 0, "kube-public": 0, "kube-node-lease": 0}
}

test_exempt_namespaces_come_from_the_parameter if {
	sandbox := {"exemptNamespaces": ["sandbox"]}
	count(violations(review_in("sandbox", "Deployment", deployment, sandbox), {})) == 0
	count(violations(review_in("kube-system", "Deployment", deployment, sandbox), {})) == 1
	count(violations(review_in("shop", "Deployment", deployment, sandbox), {})) == 1
	count(violations(review_in("kube-system", "Deployment", deployment, {"exemptNamespaces": []}), {})) == 1
}

test_absent_or_malformed_parameters_exempt_nothing if {
	count(violations(review_in("kube-system", "Deployment", deployment, {}), {})) == 1
	count(violations(review_in("kube-system", "Deployment", deployment, {"exemptNamespaces": "kube-system"}), {})) == 1
	no_parameters := {"review": {"kind": {"kind": "Deployment"}, "namespace": "kube-system", "object": deployment}}
	count(violations(no_parameters, {})) == 1
}

test_malformed_policies_raise_no_error if {
	missing(shop({"p": "not an object"})) == both
	missing({"namespace": {"shop": {"networking.k8s.io/v1": {"NetworkPolicy": {"p": "not an object"}}}}}) == both
	missing({"namespace": {"shop": {"networking.k8s.io/v1": {"NetworkPolicy": {"p": {"spec": null}}}}}}) == both
	missing({"namespace": {"shop": {"networking.k8s.io/v1": {"NetworkPolicy": "not an object"}}}}) == both
	missing({"namespace": {"shop": "not an object"}}) == both
	missing({"namespace": "not an object"}) == both
	missing(shop({"p": {"podSelector": {}, "policyTypes": "Ingress"}})) == both
	missing(shop({"p": {"podSelector": {}, "policyTypes": [1, null, "ingress"]}})) == both
	missing(shop({"p": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": "none"}})) == ingress
}
