package gatehouse.kubernetes.namespace_environment_label_test

import data.gatehouse.kubernetes.namespace_environment_label as env_label

parameters := {
	"exemptNamespaces": ["default", "kube-system", "kube-public", "kube-node-lease"],
	"environmentLabel": "environment",
	"environments": ["production", "staging", "development", "ci", "local"],
}

namespace(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

review_of(obj, operation, params) := {
	"review": {
		"kind": {"group": "", "version": "v1", "kind": "Namespace"},
		"name": object.get(obj, ["metadata", "name"], ""),
		"operation": operation,
		"object": obj,
	},
	"parameters": params,
}

violations(obj) := v if {
	v := env_label.violation with input as review_of(obj, "CREATE", parameters)
}

with_params(obj, params) := v if {
	v := env_label.violation with input as review_of(obj, "CREATE", params)
}

known := "\"production\", \"staging\", \"development\", \"ci\", \"local\""

test_each_known_environment_passes if {
	found := [n | some e in parameters.environments; n := count(violations(namespace("shop", {"environment": e, "team": "shop"})))]
	found == [0, 0, 0, 0, 0]
}

test_a_missing_label_is_reported_where_it_belongs if {
	v := violations(namespace("shop", {"team": "shop"}))
	v == {{
		"msg": sprintf("Namespace \"shop\" has no environment label: label it with its environment, one of %s", [known]),
		"path": "/metadata/labels/environment",
	}}
	count(violations(namespace("shop", null))) == 1
	count(violations({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})) == 1
	count(violations(namespace("shop", {"environment": null}))) == 1
	count(violations(namespace("shop", {"environment": true}))) == 1
}

test_an_unknown_value_is_reported if {
	v := violations(namespace("shop", {"environment": "prod"}))
	v == {{
		"msg": sprintf("Namespace \"shop\" has environment label \"prod\", which is not a known environment: use one of %s", [known]),
		"path": "/metadata/labels/environment",
	}}
	count(violations(namespace("shop", {"environment": "Production"}))) == 1
	count(violations(namespace("shop", {"environment": ""}))) == 1
	count(violations(namespace("shop", {"env": "production"}))) == 1
}

test_system_namespaces_are_exempt if {
	found := [n | some ns in parameters.exemptNamespaces; n := count(violations(namespace(ns, {})))]
	found == [0, 0, 0, 0]
	count(violations(namespace("kube-system-extra", {}))) == 1
}

test_exempt_namespaces_come_from_the_parameter if {
	params := object.union(parameters, {"exemptNamespaces": ["sandbox"]})
	count(with_params(namespace("sandbox", {}), params)) == 0
	count(with_params(namespace("default", {}), params)) == 1
	count(with_params(namespace("default", {}), object.union(parameters, {"exemptNamespaces": []}))) == 1
	count(with_params(namespace("default", {}), object.remove(parameters, ["exemptNamespaces"]))) == 1
}

test_the_label_and_environments_come_from_the_parameters if {
	params := object.union(parameters, {"environmentLabel": "example.com/stage", "environments": ["prod", "preprod"]})
	count(with_params(namespace("shop", {"example.com/stage": "prod"}), params)) == 0
	v := with_params(namespace("shop", {"environment": "production"}), params)
	v == {{
		"msg": "Namespace \"shop\" has no example.com/stage label: label it with its environment, one of \"prod\", \"preprod\"",
		"path": "/metadata/labels/example.com~1stage",
	}}
	w := with_params(namespace("shop", {"example.com/stage": "production"}), params)
	[x.path | some x in w] == ["/metadata/labels/example.com~1stage"]
	none := with_params(namespace("shop", {"environment": "production"}), object.union(parameters, {"environments": []}))
	[x.msg | some x in none] == ["Namespace \"shop\" has environment label \"production\", which is not a known environment: use one of (none configured)"]
}

test_a_generated_name_is_used_in_the_message if {
	obj := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"generateName": "preview-"}}
	v := violations(obj)
	[x.msg | some x in v] == [sprintf("Namespace \"preview-\" has no environment label: label it with its environment, one of %s", [known])]
}

test_deletions_are_let_through if {
	obj := namespace("shop", {})
	count(env_label.violation) == 0 with input as review_of(obj, "DELETE", parameters)
	count(env_label.violation) == 0 with input as {"review": {"kind": {"kind": "Namespace"}, "operation": "DELETE", "object": null, "oldObject": obj}, "parameters": parameters}
	finalizing := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "deletionTimestamp": "2024-05-01T10:00:00Z"}}
	count(env_label.violation) == 0 with input as review_of(finalizing, "UPDATE", parameters)
	count(env_label.violation) == 1 with input as review_of(obj, "UPDATE", parameters)
}

test_malformed_objects_raise_nothing_without_error if {
	count(env_label.violation) == 0 with input as {"review": {"kind": {"kind": "Namespace"}, "operation": "CREATE", "object": "shop"}, "parameters": parameters}
	count(violations({"kind": "Namespace", "metadata": {"name": "shop", "labels": "environment=production"}})) == 1
	count(with_params(namespace("shop", {"environment": "production"}), object.union(parameters, {"environments": "production"}))) == 1
}
