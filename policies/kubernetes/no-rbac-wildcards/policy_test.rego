package gatehouse.kubernetes.no_rbac_wildcards_test

import data.gatehouse.kubernetes.no_rbac_wildcards

parameters := {"allowedRoles": ["cluster-admin", "admin", "edit", "view"]}

role(kind, name, fields) := object.union(
	{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}},
	fields,
)

review_of(obj, operation) := {
	"review": {
		"kind": {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": obj.kind},
		"name": obj.metadata.name,
		"operation": operation,
		"object": obj,
	},
	"parameters": parameters,
}

violations(obj) := v if {
	v := no_rbac_wildcards.violation with input as review_of(obj, "CREATE")
}

paths(obj) := {x.path | some x in violations(obj)}

read_pods := {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}

all_verbs_on_deployments := {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}

everything := {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}

test_named_rules_pass if {
	count(violations(role("Role", "pod-reader", {"rules": [read_pods]}))) == 0
	count(violations(role("ClusterRole", "pod-reader", {"rules": [read_pods]}))) == 0
}

test_a_wildcard_verb_is_reported_at_the_rule_field if {
	v := violations(role("Role", "deployer", {"metadata": {"name": "deployer", "namespace": "shop"}, "rules": [read_pods, all_verbs_on_deployments]}))
	v == {{
		"msg": "Role \"deployer\" grants every verb in rules[1] (\"*\" in verbs): list the verbs the subjects need instead",
		"path": "/rules/1/verbs",
	}}
}

test_each_wildcard_field_is_reported if {
	v := violations(role("ClusterRole", "ci-admin", {"rules": [everything]}))
	v == {
		{"msg": "ClusterRole \"ci-admin\" grants every verb in rules[0] (\"*\" in verbs): list the verbs the subjects need instead", "path": "/rules/0/verbs"},
		{"msg": "ClusterRole \"ci-admin\" grants every resource in rules[0] (\"*\" in resources): list the resources the subjects need instead", "path": "/rules/0/resources"},
		{"msg": "ClusterRole \"ci-admin\" grants every API group in rules[0] (\"*\" in apiGroups): list the API groups the subjects need instead", "path": "/rules/0/apiGroups"},
	}
}

test_a_wildcard_among_names_is_reported if {
	paths(role("Role", "r", {"rules": [{"apiGroups": ["", "*"], "resources": ["pods"], "verbs": ["get"]}]})) == {"/rules/0/apiGroups"}
	paths(role("Role", "r", {"rules": [{"apiGroups": [""], "resources": ["pods", "*"], "verbs": ["get"]}]})) == {"/rules/0/resources"}
}

test_only_a_literal_star_is_a_wildcard if {
	rule := {"apiGroups": ["apps"], "resources": ["*/scale", "deployments/*"], "verbs": ["get", "list*"]}
	count(violations(role("ClusterRole", "scaler", {"rules": [rule]}))) == 0
	non_resource := {"nonResourceURLs": ["*"], "verbs": ["get"]}
	count(violations(role("ClusterRole", "prober", {"rules": [non_resource]}))) == 0
}

test_the_default_user_facing_cluster_roles_are_exempt if {
	found := [n |
		some name in parameters.allowedRoles
		n := count(violations(role("ClusterRole", name, {"rules": [everything]})))
	]
	found == [0, 0, 0, 0]
}

test_allowed_roles_exempt_cluster_roles_only if {
	paths(role("Role", "admin", {"metadata": {"name": "admin", "namespace": "shop"}, "rules": [all_verbs_on_deployments]})) == {"/rules/0/verbs"}
}

test_allowed_roles_come_from_the_parameter if {
	obj := role("ClusterRole", "argocd-application-controller", {"rules": [everything]})
	count(no_rbac_wildcards.violation) == 0 with input as object.union(review_of(obj, "CREATE"), {"parameters": {"allowedRoles": ["argocd-application-controller"]}})
	count(no_rbac_wildcards.violation) == 3 with input as object.union(review_of(role("ClusterRole", "admin", {"rules": [everything]}), "CREATE"), {"parameters": {"allowedRoles": []}})
	count(no_rbac_wildcards.violation) == 3 with input as object.union(review_of(role("ClusterRole", "admin", {"rules": [everything]}), "CREATE"), {"parameters": {"allowedRoles": "admin"}})
}

test_system_roles_are_exempt if {
	count(violations(role("ClusterRole", "system:controller:generic-garbage-collector", {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch", "patch", "update", "delete"]}]}))) == 0
	count(violations(role("Role", "system:controller:bootstrap-signer", {"metadata": {"name": "system:controller:bootstrap-signer", "namespace": "kube-system"}, "rules": [everything]}))) == 0
	paths(role("ClusterRole", "my-system:admin", {"rules": [all_verbs_on_deployments]})) == {"/rules/0/verbs"}
}

test_aggregated_cluster_roles_are_exempt if {
	aggregated := role("ClusterRole", "monitoring", {
		"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]},
		"rules": [everything],
	})
	count(violations(aggregated)) == 0
	paths(role("ClusterRole", "monitoring", {"aggregationRule": null, "rules": [everything]})) == {"/rules/0/verbs", "/rules/0/resources", "/rules/0/apiGroups"}
}

test_deletions_are_let_through if {
	obj := role("ClusterRole", "ci-admin", {"rules": [everything]})
	count(no_rbac_wildcards.violation) == 0 with input as review_of(obj, "DELETE")
	finalizing := role("ClusterRole", "ci-admin", {"metadata": {"name": "ci-admin", "deletionTimestamp": "2024-05-01T10:00:00Z"}, "rules": [everything]})
	count(no_rbac_wildcards.violation) == 0 with input as review_of(finalizing, "UPDATE")
	count(no_rbac_wildcards.violation) == 3 with input as review_of(obj, "UPDATE")
}

test_missing_or_malformed_rules_raise_nothing_without_error if {
	count(violations(role("ClusterRole", "empty", {}))) == 0
	count(violations(role("ClusterRole", "empty", {"rules": null}))) == 0
	count(violations(role("ClusterRole", "empty", {"rules": "*"}))) == 0
	count(violations(role("ClusterRole", "odd", {"rules": ["*", null, {"verbs": "*"}, {"verbs": null}]}))) == 0
	v := violations({"kind": "ClusterRole", "metadata": {"name": 5}, "rules": [all_verbs_on_deployments]})
	[x.msg | some x in v] == ["ClusterRole 5 grants every verb in rules[0] (\"*\" in verbs): list the verbs the subjects need instead"]
	count(no_rbac_wildcards.violation) == 0 with input as {"review": {"kind": {"kind": "Role"}, "operation": "CREATE", "object": null}, "parameters": parameters}
}
