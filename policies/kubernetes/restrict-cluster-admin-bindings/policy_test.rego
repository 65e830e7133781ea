package gatehouse.kubernetes.restrict_cluster_admin_bindings_test

import data.gatehouse.kubernetes.restrict_cluster_admin_bindings as cluster_admin

parameters := {"allowedSubjects": [{"kind": "Group", "name": "system:masters"}]}

cluster_admin_ref := {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}

binding(kind, name, subjects) := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": name},
	"roleRef": cluster_admin_ref,
	"subjects": subjects,
}

review_of(obj, ns, operation, params) := {
	"review": {
		"kind": {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": obj.kind},
		"name": obj.metadata.name,
		"namespace": ns,
		"operation": operation,
		"object": obj,
	},
	"parameters": params,
}

violations(obj) := v if {
	v := cluster_admin.violation with input as review_of(obj, "", "CREATE", parameters)
}

violations_in(obj, ns, params) := v if {
	v := cluster_admin.violation with input as review_of(obj, ns, "CREATE", params)
}

masters := {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}

alice := {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"}

deployer := {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}

test_system_masters_passes if {
	count(violations(binding("ClusterRoleBinding", "cluster-admin", [masters]))) == 0
}

test_each_other_subject_is_reported_at_its_index if {
	v := violations(binding("ClusterRoleBinding", "platform-admins", [masters, alice, deployer]))
	v == {
		{"msg": "ClusterRoleBinding \"platform-admins\" grants cluster-admin to User \"alice@example.com\": bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster", "path": "/subjects/1"},
		{"msg": "ClusterRoleBinding \"platform-admins\" grants cluster-admin to ServiceAccount \"ci/deployer\": bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster", "path": "/subjects/2"},
	}
}

test_kind_and_name_must_both_match if {
	{x.path | some x in violations(binding("ClusterRoleBinding", "b", [{"kind": "User", "name": "system:masters"}]))} == {"/subjects/0"}
	{x.path | some x in violations(binding("ClusterRoleBinding", "b", [{"kind": "Group", "name": "system:master"}]))} == {"/subjects/0"}
}

test_a_role_binding_to_cluster_admin_is_checked_in_its_namespace if {
	rb := object.union(binding("RoleBinding", "team-admin", [{"kind": "ServiceAccount", "name": "argo"}]), {"metadata": {"namespace": "shop"}})
	v := violations_in(rb, "shop", parameters)
	v == {{"msg": "RoleBinding \"team-admin\" grants cluster-admin to ServiceAccount \"shop/argo\": bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster", "path": "/subjects/0"}}
}

test_bindings_to_other_roles_pass if {
	edit := object.union(binding("ClusterRoleBinding", "devs", [alice]), {"roleRef": {"kind": "ClusterRole", "name": "edit"}})
	count(violations(edit)) == 0
	local_role := object.union(binding("RoleBinding", "devs", [alice]), {"roleRef": {"kind": "Role", "name": "cluster-admin"}})
	count(violations_in(local_role, "shop", parameters)) == 0
	count(violations(object.remove(binding("ClusterRoleBinding", "devs", [alice]), ["roleRef"]))) == 0
}

test_allowed_subjects_come_from_the_parameter if {
	params := {"allowedSubjects": [
		{"kind": "Group", "name": "oidc:platform-admins"},
		{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"},
		{"kind": "ServiceAccount", "name": "velero"},
	]}
	ok := binding("ClusterRoleBinding", "platform", [
		{"kind": "Group", "name": "oidc:platform-admins"},
		deployer,
		{"kind": "ServiceAccount", "name": "velero", "namespace": "backup"},
	])
	count(violations_in(ok, "", params)) == 0
	{x.path | some x in violations_in(binding("ClusterRoleBinding", "cluster-admin", [masters]), "", params)} == {"/subjects/0"}
	{x.path | some x in violations_in(binding("ClusterRoleBinding", "b", [alice]), "", {"allowedSubjects": []})} == {"/subjects/0"}
	{x.path | some x in violations_in(binding("ClusterRoleBinding", "b", [masters]), "", {})} == {"/subjects/0"}
}

test_a_namespaced_entry_matches_only_that_namespace if {
	params := {"allowedSubjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]}
	other := {"kind": "ServiceAccount", "name": "deployer", "namespace": "sandbox"}
	{x.path | some x in violations_in(binding("ClusterRoleBinding", "b", [deployer, other]), "", params)} == {"/subjects/1"}
	rb := binding("RoleBinding", "b", [{"kind": "ServiceAccount", "name": "deployer"}])
	count(violations_in(rb, "ci", params)) == 0
	count(violations_in(rb, "sandbox", params)) == 1
	user := {"allowedSubjects": [{"kind": "User", "name": "alice@example.com", "namespace": "ci"}]}
	count(violations_in(binding("ClusterRoleBinding", "b", [alice]), "", user)) == 1
	crb_no_ns := binding("ClusterRoleBinding", "b", [{"kind": "ServiceAccount", "name": "deployer"}])
	v := violations_in(crb_no_ns, "", params)
	[x.msg | some x in v] == ["ClusterRoleBinding \"b\" grants cluster-admin to ServiceAccount \"deployer\": bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster"]
}

test_incomplete_entries_match_nothing if {
	params := {"allowedSubjects": [{"kind": "User"}, {"name": "alice@example.com"}, "User:alice@example.com", null]}
	count(violations_in(binding("ClusterRoleBinding", "b", [alice]), "", params)) == 1
}

test_system_bindings_are_exempt if {
	count(violations(binding("ClusterRoleBinding", "system:kube-controller-manager", [{"kind": "User", "name": "system:kube-controller-manager"}]))) == 0
	count(violations(binding("ClusterRoleBinding", "my-system:admins", [alice]))) == 1
}

test_bindings_without_subjects_pass if {
	count(violations(binding("ClusterRoleBinding", "empty", []))) == 0
	count(violations(binding("ClusterRoleBinding", "empty", null))) == 0
	count(violations(object.remove(binding("ClusterRoleBinding", "empty", []), ["subjects"]))) == 0
}

test_deletions_are_let_through if {
	obj := binding("ClusterRoleBinding", "platform-admins", [alice])
	count(cluster_admin.violation) == 0 with input as review_of(obj, "", "DELETE", parameters)
	finalizing := object.union(obj, {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(cluster_admin.violation) == 0 with input as review_of(finalizing, "", "UPDATE", parameters)
	count(cluster_admin.violation) == 1 with input as review_of(obj, "", "UPDATE", parameters)
}

test_malformed_subjects_raise_nothing_without_error if {
	count(violations(binding("ClusterRoleBinding", "b", "alice"))) == 0
	count(violations(binding("ClusterRoleBinding", "b", ["alice", null]))) == 0
	v := violations(binding("ClusterRoleBinding", "b", [{"name": 7}, {"kind": "ServiceAccount", "name": ["x"], "namespace": "ci"}]))
	{x.msg | some x in v} == {
		"ClusterRoleBinding \"b\" grants cluster-admin to subject 7: bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster",
		"ClusterRoleBinding \"b\" grants cluster-admin to ServiceAccount [\"x\"]: bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster",
	}
	count(cluster_admin.violation) == 0 with input as {"review": {"kind": {"kind": "ClusterRoleBinding"}, "operation": "CREATE", "object": "b"}, "parameters": parameters}
}
