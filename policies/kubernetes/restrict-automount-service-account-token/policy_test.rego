package gatehouse.kubernetes.restrict_automount_service_account_token_test

import data.gatehouse.kubernetes.restrict_automount_service_account_token as automount

parameters := {"apiAccessAnnotation": "gatehouse.dev/needs-kubernetes-api"}

needs_api := {"gatehouse.dev/needs-kubernetes-api": "true"}

app := {"name": "web", "image": "registry.example/web:1.0.0"}

# A review of `kind` named "web" in namespace "shop" whose pod spec is `pod_spec`, the pod
# template carrying `template_metadata`.
review_of(kind, metadata, template_metadata, pod_spec) := {
	"review": {
		"kind": {"kind": kind},
		"name": "web",
		"namespace": "shop",
		"operation": "CREATE",
		"object": {"metadata": object.union({"name": "web", "namespace": "shop"}, metadata), "spec": spec_of(kind, template_metadata, pod_spec)},
	},
	"parameters": parameters,
}

spec_of("Pod", _, pod_spec) := pod_spec

spec_of("CronJob", template_metadata, pod_spec) := {"jobTemplate": {"spec": {"template": {"metadata": template_metadata, "spec": pod_spec}}}}

spec_of(kind, template_metadata, pod_spec) := {"template": {"metadata": template_metadata, "spec": pod_spec}} if {
	not kind in {"Pod", "CronJob"}
}

deployment(pod_spec) := review_of("Deployment", {}, {}, pod_spec)

service_account(name, fields) := object.union({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "shop"}}, fields)

# An inventory holding the given ServiceAccounts (name -> object) in one namespace.
accounts_in(ns, accounts) := {"namespace": {ns: {"v1": {"ServiceAccount": accounts}}}}

opted_out(name) := accounts_in("shop", {name: service_account(name, {"automountServiceAccountToken": false})})

violations(inp, inv) := v if {
	v := automount.violation with input as inp with data.inventory as inv
}

paths(inp, inv) := {x.path | some x in violations(inp, inv)}

unset_msg := "Deployment \"web\" mounts the API token of ServiceAccount \"default\" in its pods: automountServiceAccountToken is unset in the pod spec, and not false on that ServiceAccount in namespace \"shop\". Set it to false in either, or annotate the workload gatehouse.dev/needs-kubernetes-api: \"true\" if it calls the Kubernetes API"

test_a_pod_spec_that_turns_the_mount_off_passes if {
	count(violations(deployment({"automountServiceAccountToken": false, "containers": [app]}), {})) == 0
}

test_an_unset_field_is_reported_at_the_pod_spec if {
	violations(deployment({"containers": [app]}), {}) == {{"msg": unset_msg, "path": "/spec/template/spec/automountServiceAccountToken"}}
	violations(deployment({"automountServiceAccountToken": null, "containers": [app]}), {}) == {{"msg": unset_msg, "path": "/spec/template/spec/automountServiceAccountToken"}}
	v := automount.violation with input as deployment({"containers": [app]})
	count(v) == 1
}

test_a_token_mounted_on_purpose_without_the_annotation_is_reported if {
	v := violations(deployment({"automountServiceAccountToken": true, "containers": [app]}), {})
	v == {{
		"msg": "Deployment \"web\" sets automountServiceAccountToken to true but does not declare that it calls the Kubernetes API: set it to false, or annotate the workload gatehouse.dev/needs-kubernetes-api: \"true\"",
		"path": "/spec/template/spec/automountServiceAccountToken",
	}}
	paths(deployment({"automountServiceAccountToken": "false", "containers": [app]}), {}) == {"/spec/template/spec/automountServiceAccountToken"}
}

test_the_annotation_on_the_workload_or_its_template_exempts_it if {
	spec := {"automountServiceAccountToken": true, "containers": [app]}
	count(violations(review_of("Deployment", {"annotations": needs_api}, {}, spec), {})) == 0
	count(violations(review_of("Deployment", {}, {"annotations": needs_api}, spec), {})) == 0
	count(violations(review_of("CronJob", {}, {"annotations": needs_api}, {"containers": [app]}), {})) == 0
	count(violations(review_of("Pod", {"annotations": needs_api}, {}, {"containers": [app]}), {})) == 0
}

test_the_annotation_must_say_true if {
	spec := {"containers": [app]}
	values := ["false", true, "yes", "", null]
	found := [p |
		some value in values
		p := paths(review_of("Deployment", {"annotations": {"gatehouse.dev/needs-kubernetes-api": value}}, {}, spec), {})
	]
	found == [{"/spec/template/spec/automountServiceAccountToken"} | some _ in values]
	paths(review_of("Deployment", {"annotations": {"needs-kubernetes-api": "true"}}, {}, spec), {}) == {"/spec/template/spec/automountServiceAccountToken"}
}

test_the_annotation_name_comes_from_the_parameter if {
	inp := object.union(review_of("Deployment", {"annotations": {"example.com/api-client": "true"}}, {}, {"containers": [app]}), {"parameters": {"apiAccessAnnotation": "example.com/api-client"}})
	count(violations(inp, {})) == 0
	inp2 := object.union(review_of("Deployment", {"annotations": needs_api}, {}, {"containers": [app]}), {"parameters": {"apiAccessAnnotation": "example.com/api-client"}})
	v := violations(inp2, {})
	[x.msg | some x in v] == ["Deployment \"web\" mounts the API token of ServiceAccount \"default\" in its pods: automountServiceAccountToken is unset in the pod spec, and not false on that ServiceAccount in namespace \"shop\". Set it to false in either, or annotate the workload example.com/api-client: \"true\" if it calls the Kubernetes API"]
}

test_a_service_account_that_turns_the_mount_off_covers_an_unset_pod if {
	count(violations(deployment({"containers": [app]}), opted_out("default"))) == 0
	count(violations(deployment({"serviceAccountName": "web", "containers": [app]}), opted_out("web"))) == 0
	count(violations(deployment({"serviceAccount": "web", "containers": [app]}), opted_out("web"))) == 0
	count(violations(deployment({"serviceAccountName": "", "containers": [app]}), opted_out("default"))) == 0
}

test_the_pod_named_service_account_is_the_one_looked_up if {
	paths(deployment({"serviceAccountName": "web", "containers": [app]}), opted_out("default")) == {"/spec/template/spec/automountServiceAccountToken"}
	paths(deployment({"containers": [app]}), opted_out("web")) == {"/spec/template/spec/automountServiceAccountToken"}
	v := violations(deployment({"serviceAccountName": "web", "serviceAccount": "legacy", "containers": [app]}), opted_out("legacy"))
	[x.msg | some x in v] == ["Deployment \"web\" mounts the API token of ServiceAccount \"web\" in its pods: automountServiceAccountToken is unset in the pod spec, and not false on that ServiceAccount in namespace \"shop\". Set it to false in either, or annotate the workload gatehouse.dev/needs-kubernetes-api: \"true\" if it calls the Kubernetes API"]
}

test_a_pod_that_sets_true_overrides_its_service_account if {
	paths(deployment({"automountServiceAccountToken": true, "containers": [app]}), opted_out("default")) == {"/spec/template/spec/automountServiceAccountToken"}
}

for_value(v) := accounts_in("shop", {"default": service_account("default", {"automountServiceAccountToken": v})})

test_a_service_account_that_keeps_the_mount_does_not_count if {
	spec := {"containers": [app]}
	paths(deployment(spec), for_value(true)) == {"/spec/template/spec/automountServiceAccountToken"}
	paths(deployment(spec), for_value(null)) == {"/spec/template/spec/automountServiceAccountToken"}
	paths(deployment(spec), for_value("false")) == {"/spec/template/spec/automountServiceAccountToken"}
	paths(deployment(spec), accounts_in("shop", {"default": service_account("default", {})})) == {"/spec/template/spec/automountServiceAccountToken"}
}

test_a_service_account_in_another_namespace_does_not_count if {
	other := {"namespace": {"other": {"v1": {"ServiceAccount": {"default": service_account("default", {"automountServiceAccountToken": false})}}}}}
	paths(deployment({"containers": [app]}), other) == {"/spec/template/spec/automountServiceAccountToken"}
	cluster := {"cluster": {"v1": {"ServiceAccount": {"default": service_account("default", {"automountServiceAccountToken": false})}}}}
	paths(deployment({"containers": [app]}), cluster) == {"/spec/template/spec/automountServiceAccountToken"}
}

test_the_namespace_falls_back_to_the_manifest_then_default if {
	obj := {"metadata": {"name": "web", "namespace": "other"}, "spec": {"template": {"spec": {"containers": [app]}}}}
	inp := {"review": {"kind": {"kind": "Deployment"}, "object": obj}, "parameters": parameters}
	count(violations(inp, accounts_in("other", {"default": service_account("default", {"automountServiceAccountToken": false})}))) == 0
	count(violations(inp, opted_out("default"))) == 1
	bare := {"review": {"kind": {"kind": "Deployment"}, "object": {"spec": {"template": {"spec": {"containers": [app]}}}}}, "parameters": parameters}
	count(violations(bare, accounts_in("default", {"default": service_account("default", {"automountServiceAccountToken": false})}))) == 0
}

test_every_workload_kind_is_checked if {
	spec := {"containers": [app]}
	kinds := ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
	found := {kind: p | some kind in kinds; p := paths(review_of(kind, {}, {}, spec), {})}
	count(found) == 6
	every p in found {
		p == {"/spec/template/spec/automountServiceAccountToken"}
	}
	paths(review_of("Pod", {}, {}, spec), {}) == {"/spec/automountServiceAccountToken"}
	paths(review_of("CronJob", {}, {}, spec), {}) == {"/spec/jobTemplate/spec/template/spec/automountServiceAccountToken"}
	passing := [n |
		some kind in array.concat(kinds, ["Pod", "CronJob"])
		n := count(violations(review_of(kind, {}, {}, {"automountServiceAccountToken": false, "containers": [app]}), {}))
	]
	passing == [0, 0, 0, 0, 0, 0, 0, 0]
}

test_deletions_are_let_through if {
	inp := deployment({"containers": [app]})
	count(violations(json.patch(inp, [{"op": "replace", "path": "/review/operation", "value": "DELETE"}]), {})) == 0
	finalizing := json.patch(inp, [{"op": "add", "path": "/review/object/metadata/deletionTimestamp", "value": "2024-05-01T10:00:00Z"}, {"op": "replace", "path": "/review/operation", "value": "UPDATE"}])
	count(violations(finalizing, {})) == 0
	count(violations(json.patch(inp, [{"op": "replace", "path": "/review/operation", "value": "UPDATE"}]), {})) == 1
}

test_malformed_objects_raise_nothing_without_error if {
	count(violations(review_of("Deployment", {}, {}, "not a spec"), {})) == 0
	count(violations(review_of("Deployment", {}, {}, null), {})) == 0
	count(violations(review_of("Deployment", {"annotations": "needs-api"}, {"annotations": ["x"]}, {"containers": [app]}), {})) == 1
	count(violations(deployment({"serviceAccountName": 7, "containers": [app]}), opted_out("default"))) == 0
	count(violations(deployment({"containers": [app]}), accounts_in("shop", {"default": "not an object"}))) == 1
	count(violations(deployment({"containers": [app]}), {"namespace": {"shop": {"v1": {"ServiceAccount": ["default"]}}}})) == 1
	count(violations(deployment({"containers": [app]}), {"namespace": "not an object"})) == 1
}
