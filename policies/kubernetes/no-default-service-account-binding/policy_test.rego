package gatehouse.kubernetes.no_default_service_account_binding_test

import data.gatehouse.kubernetes.no_default_service_account_binding as default_sa

view_ref := {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}

binding(kind, name, subjects) := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": name, "namespace": "shop"},
	"roleRef": view_ref,
	"subjects": subjects,
}

review_of(obj, ns, operation) := {"review": {
	"kind": {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": obj.kind},
	"name": obj.metadata.name,
	"namespace": ns,
	"operation": operation,
	"object": obj,
}}

violations(obj) := v if {
	v := default_sa.violation with input as review_of(obj, "shop", "CREATE")
}

paths(obj) := {x.path | some x in violations(obj)}

dedicated := {"kind": "ServiceAccount", "name": "web", "namespace": "shop"}

default_in(ns) := {"kind": "ServiceAccount", "name": "default", "namespace": ns}

test_a_dedicated_service_account_passes if {
	count(violations(binding("RoleBinding", "web-view", [dedicated]))) == 0
	count(violations(binding("RoleBinding", "devs", [{"kind": "User", "name": "default"}, {"kind": "Group", "name": "default"}]))) == 0
}

test_the_default_service_account_is_reported_at_its_subject if {
	v := violations(binding("RoleBinding", "web-view", [dedicated, default_in("shop")]))
	v == {{
		"msg": "RoleBinding \"web-view\" grants ClusterRole \"view\" to the default ServiceAccount of namespace \"shop\", which every pod that names no ServiceAccount runs as: bind a dedicated ServiceAccount and set it as the workload's serviceAccountName",
		"path": "/subjects/1",
	}}
}

test_a_subject_without_namespace_is_read_in_the_role_binding_namespace if {
	v := violations(binding("RoleBinding", "web-view", [{"kind": "ServiceAccount", "name": "default"}]))
	[x.msg | some x in v] == ["RoleBinding \"web-view\" grants ClusterRole \"view\" to the default ServiceAccount of namespace \"shop\", which every pod that names no ServiceAccount runs as: bind a dedicated ServiceAccount and set it as the workload's serviceAccountName"]
}

test_cluster_role_bindings_are_checked if {
	crb := object.union(binding("ClusterRoleBinding", "metrics", [default_in("monitoring")]), {"roleRef": {"kind": "ClusterRole", "name": "metrics-reader"}, "metadata": {"namespace": null}})
	v := default_sa.violation with input as review_of(crb, "", "CREATE")
	v == {{
		"msg": "ClusterRoleBinding \"metrics\" grants ClusterRole \"metrics-reader\" to the default ServiceAccount of namespace \"monitoring\", which every pod that names no ServiceAccount runs as: bind a dedicated ServiceAccount and set it as the workload's serviceAccountName",
		"path": "/subjects/0",
	}}
	bare := object.union(crb, {"subjects": [{"kind": "ServiceAccount", "name": "default"}]})
	w := default_sa.violation with input as review_of(bare, "", "CREATE")
	[x.msg | some x in w] == ["ClusterRoleBinding \"metrics\" grants ClusterRole \"metrics-reader\" to the default ServiceAccount, which every pod that names no ServiceAccount runs as: bind a dedicated ServiceAccount and set it as the workload's serviceAccountName"]
}

test_every_default_subject_is_reported if {
	paths(binding("RoleBinding", "b", [default_in("shop"), dedicated, default_in("billing")])) == {"/subjects/0", "/subjects/2"}
}

test_service_account_groups_are_reported if {
	v := violations(binding("RoleBinding", "all-sa-view", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts:shop"}]))
	v == {{
		"msg": "RoleBinding \"all-sa-view\" grants ClusterRole \"view\" to group \"system:serviceaccounts:shop\", which includes the default ServiceAccount that every pod naming no ServiceAccount runs as: bind a dedicated ServiceAccount instead",
		"path": "/subjects/0",
	}}
	paths(binding("ClusterRoleBinding", "b", [{"kind": "Group", "name": "system:serviceaccounts"}])) == {"/subjects/0"}
	count(violations(binding("ClusterRoleBinding", "b", [{"kind": "Group", "name": "system:serviceaccounts-readers"}]))) == 0
	count(violations(binding("ClusterRoleBinding", "b", [{"kind": "User", "name": "system:serviceaccounts"}]))) == 0
}

test_system_bindings_are_exempt if {
	discovery := object.union(binding("ClusterRoleBinding", "system:service-account-issuer-discovery", [{"kind": "Group", "name": "system:serviceaccounts"}]), {"roleRef": {"kind": "ClusterRole", "name": "system:service-account-issuer-discovery"}})
	count(violations(discovery)) == 0
	count(violations(binding("RoleBinding", "system:controller:bootstrap-signer", [default_in("kube-system")]))) == 0
}

test_the_role_is_named_whatever_its_shape if {
	no_ref := object.remove(binding("RoleBinding", "b", [default_in("shop")]), ["roleRef"])
	some x in violations(no_ref)
	startswith(x.msg, "RoleBinding \"b\" grants its role to the default ServiceAccount")
	role_ref := object.union(binding("RoleBinding", "b", [default_in("shop")]), {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"}})
	some y in violations(role_ref)
	startswith(y.msg, "RoleBinding \"b\" grants Role \"pod-reader\" to the default ServiceAccount")
}

test_deletions_are_let_through if {
	obj := binding("RoleBinding", "web-view", [default_in("shop")])
	count(default_sa.violation) == 0 with input as review_of(obj, "shop", "DELETE")
	finalizing := object.union(obj, {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(default_sa.violation) == 0 with input as review_of(finalizing, "shop", "UPDATE")
	count(default_sa.violation) == 1 with input as review_of(obj, "shop", "UPDATE")
}

test_missing_or_malformed_subjects_raise_nothing_without_error if {
	count(violations(binding("RoleBinding", "b", null))) == 0
	count(violations(object.remove(binding("RoleBinding", "b", []), ["subjects"]))) == 0
	count(violations(binding("RoleBinding", "b", "default"))) == 0
	count(violations(binding("RoleBinding", "b", ["default", null, {"kind": "Group", "name": 5}]))) == 0
	count(violations(binding("RoleBinding", "b", [{"kind": "ServiceAccount", "name": "default", "namespace": 3}]))) == 1
	count(default_sa.violation) == 0 with input as {"review": {"kind": {"kind": "RoleBinding"}, "operation": "CREATE", "object": null}}
}
