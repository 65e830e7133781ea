package gatehouse.kubernetes.namespace_pod_security_restricted_test

import data.gatehouse.kubernetes.namespace_pod_security_restricted as psa

parameters := {"exemptNamespaces": ["default", "kube-system", "kube-public", "kube-node-lease"], "level": "restricted"}

namespace(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

enforcing(level) := namespace("shop", {"environment": "production", "pod-security.kubernetes.io/enforce": level})

review_of(obj, operation, params) := {
	"review": {
		"kind": {"group": "", "version": "v1", "kind": "Namespace"},
		"operation": operation,
		"object": obj,
	},
	"parameters": params,
}

violations(obj) := v if {
	v := psa.violation with input as review_of(obj, "CREATE", parameters)
}

with_params(obj, params) := v if {
	v := psa.violation with input as review_of(obj, "CREATE", params)
}

path := "/metadata/labels/pod-security.kubernetes.io~1enforce"

test_restricted_passes if {
	count(violations(enforcing("restricted"))) == 0
}

test_a_missing_label_is_reported_where_it_belongs if {
	v := violations(namespace("shop", {"environment": "production", "pod-security.kubernetes.io/warn": "restricted"}))
	v == {{
		"msg": "Namespace \"shop\" has no pod-security.kubernetes.io/enforce label, so pods run there at the cluster's default level: label it pod-security.kubernetes.io/enforce: restricted",
		"path": path,
	}}
	count(violations(namespace("shop", null))) == 1
	count(violations(namespace("shop", {"pod-security.kubernetes.io/enforce": null}))) == 1
	count(violations({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})) == 1
	count(violations({"apiVersion": "v1", "kind": "Namespace"})) == 1
}

test_a_weaker_level_is_reported if {
	v := violations(enforcing("baseline"))
	v == {{
		"msg": "Namespace \"shop\" enforces the \"baseline\" Pod Security Standard, less strict than \"restricted\": set pod-security.kubernetes.io/enforce to restricted",
		"path": path,
	}}
	{x.path | some x in violations(enforcing("privileged"))} == {path}
}

test_a_value_that_is_not_a_level_is_reported if {
	v := violations(enforcing("Restricted"))
	v == {{
		"msg": "Namespace \"shop\" sets pod-security.kubernetes.io/enforce to \"Restricted\", which is not a Pod Security level: set pod-security.kubernetes.io/enforce to restricted",
		"path": path,
	}}
	count(violations(enforcing(""))) == 1
	count(violations(enforcing(true))) == 1
}

test_the_level_comes_from_the_parameter if {
	baseline := object.union(parameters, {"level": "baseline"})
	count(with_params(enforcing("baseline"), baseline)) == 0
	count(with_params(enforcing("restricted"), baseline)) == 0
	v := with_params(enforcing("privileged"), baseline)
	[x.msg | some x in v] == ["Namespace \"shop\" enforces the \"privileged\" Pod Security Standard, less strict than \"baseline\": set pod-security.kubernetes.io/enforce to baseline"]
	count(with_params(enforcing("privileged"), object.union(parameters, {"level": "privileged"}))) == 0
	count(with_params(namespace("shop", {}), object.union(parameters, {"level": "privileged"}))) == 1
}

test_system_namespaces_are_exempt if {
	found := [n | some ns in parameters.exemptNamespaces; n := count(violations(namespace(ns, {"pod-security.kubernetes.io/enforce": "privileged"})))]
	found == [0, 0, 0, 0]
	count(violations(namespace("monitoring", {"pod-security.kubernetes.io/enforce": "privileged"}))) == 1
}

test_exempt_namespaces_come_from_the_parameter if {
	params := object.union(parameters, {"exemptNamespaces": ["node-agents"]})
	count(with_params(namespace("node-agents", {"pod-security.kubernetes.io/enforce": "privileged"}), params)) == 0
	count(with_params(namespace("kube-system", {}), params)) == 1
	count(with_params(namespace("kube-system", {}), object.remove(parameters, ["exemptNamespaces"]))) == 1
}

test_deletions_are_let_through if {
	obj := namespace("shop", {})
	count(psa.violation) == 0 with input as review_of(obj, "DELETE", parameters)
	count(psa.violation) == 0 with input as review_of(null, "DELETE", parameters)
	finalizing := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "deletionTimestamp": "2024-05-01T10:00:00Z"}}
	count(psa.violation) == 0 with input as review_of(finalizing, "UPDATE", parameters)
	count(psa.violation) == 1 with input as review_of(obj, "UPDATE", parameters)
}

test_malformed_objects_raise_nothing_without_error if {
	count(psa.violation) == 0 with input as review_of("shop", "CREATE", parameters)
	count(violations({"kind": "Namespace", "metadata": {"name": "shop", "labels": "pod-security.kubernetes.io/enforce=restricted"}})) == 1
	count(violations({"kind": "Namespace", "metadata": "shop"})) == 1
}
