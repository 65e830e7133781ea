package gatehouse.kubernetes.default_security_context_test

import data.gatehouse.kubernetes.default_security_context

hardened_sc := {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}

hardened := {"name": "app", "image": "app:1", "securityContext": hardened_sc}

bare := {"name": "app", "image": "app:1"}

pod_sc := {"seccompProfile": {"type": "RuntimeDefault"}}

review(kind, obj) := {"review": {"kind": {"kind": kind}, "operation": "CREATE", "object": obj}}

update(kind, obj) := {"review": {"kind": {"kind": kind}, "operation": "UPDATE", "object": obj, "oldObject": obj}}

deployment(spec) := review("Deployment", {"spec": {"template": {"spec": spec}}})

pod(spec) := review("Pod", {"spec": spec})

with_parameters(inp, parameters) := object.union(inp, {"parameters": parameters})

ops(inp) := p if {
	p := default_security_context.patch with input as inp
}

add(path, value) := {"op": "add", "path": path, "value": value}

c0 := "/spec/template/spec/containers/0"

# The object under review with the ops applied parents first, as the engine merges them.
patched(inp) := json.patch(inp.review.object, ordered) if {
	p := ops(inp)
	ordered := [op | some depth in numbers.range(1, 16); some op in p; count(split(op.path, "/")) == depth]
	count(ordered) == count(p)
}

# The review again, now of the patched object.
again(inp) := object.union(inp, {"review": {"object": patched(inp)}})

# A JSON pointer names something in the object.
pointer_exists(obj, pointer) if {
	walk(obj, [path, _])
	count(path) > 0
	pointer == concat("", [concat("", ["/", format_path_segment(s)]) | some s in path])
}

format_path_segment(s) := s if is_string(s)

format_path_segment(s) := format_int(s, 10) if is_number(s)

# What the engine's check_patch demands of each op, and that no op lands inside another.
well_formed(inp) if {
	p := ops(inp)
	every op in p {
		object.keys(op) == {"op", "path", "value"}
		op.op == "add"
		startswith(op.path, "/")
		not pointer_exists(inp.review.object, op.path)
	}
	nested := [[a.path, b.path] | some a in p; some b in p; a != b; startswith(b.path, concat("", [a.path, "/"]))]
	count(nested) == 0
}

idempotent(inp) if {
	count(ops(inp)) > 0
	count(ops(again(inp))) == 0
}

test_a_bare_deployment_gets_exactly_the_defaults if {
	ops(deployment({"containers": [bare]})) == {
		add(concat("/", [c0, "securityContext"]), hardened_sc),
		add("/spec/template/spec/securityContext", pod_sc),
	}
}

test_a_fully_set_deployment_gets_nothing if {
	count(ops(deployment({"securityContext": pod_sc, "containers": [hardened]}))) == 0
}

test_explicit_values_are_never_overridden if {
	sc := {"allowPrivilegeEscalation": true, "capabilities": {"drop": ["NET_RAW"]}, "runAsNonRoot": false}
	spec := {
		"securityContext": {"seccompProfile": {"type": "Unconfined"}, "runAsNonRoot": false},
		"containers": [object.union(bare, {"securityContext": sc})],
	}
	count(ops(deployment(spec))) == 0
	count(ops(with_parameters(deployment(spec), {"setRunAsNonRoot": true}))) == 0
}

test_an_explicit_false_is_kept_and_only_the_rest_added if {
	container := object.union(bare, {"securityContext": {"allowPrivilegeEscalation": false}})
	ops(deployment({"securityContext": pod_sc, "containers": [container]})) == {add(concat("/", [c0, "securityContext/capabilities"]), {"drop": ["ALL"]})}
}

test_a_partial_security_context_gets_only_the_missing_fields if {
	container := object.union(bare, {"securityContext": {"runAsUser": 1000, "readOnlyRootFilesystem": true}})
	spec := {"securityContext": {"fsGroup": 2000}, "containers": [container]}
	ops(deployment(spec)) == {
		add(concat("/", [c0, "securityContext/allowPrivilegeEscalation"]), false),
		add(concat("/", [c0, "securityContext/capabilities"]), {"drop": ["ALL"]}),
		add("/spec/template/spec/securityContext/seccompProfile", {"type": "RuntimeDefault"}),
	}
}

test_capabilities_without_drop_get_drop_all if {
	sc := {"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"]}}
	spec := {"securityContext": pod_sc, "containers": [object.union(bare, {"securityContext": sc})]}
	ops(deployment(spec)) == {add(concat("/", [c0, "securityContext/capabilities/drop"]), ["ALL"])}
}

test_a_drop_list_without_all_is_the_users_choice if {
	for_drop := {d: n |
		some d in [[], ["NET_RAW"], ["CHOWN", "SETUID"]]
		sc := {"allowPrivilegeEscalation": false, "capabilities": {"drop": d}}
		spec := {"securityContext": pod_sc, "containers": [object.union(bare, {"securityContext": sc})]}
		n := count(ops(deployment(spec)))
	}
	for_drop == {[]: 0, ["NET_RAW"]: 0, ["CHOWN", "SETUID"]: 0}
}

test_each_container_is_addressed_by_its_index if {
	spec := {"securityContext": pod_sc, "containers": [hardened, bare, object.union(bare, {"securityContext": {}})]}
	ops(deployment(spec)) == {
		add("/spec/template/spec/containers/1/securityContext", hardened_sc),
		add("/spec/template/spec/containers/2/securityContext/allowPrivilegeEscalation", false),
		add("/spec/template/spec/containers/2/securityContext/capabilities", {"drop": ["ALL"]}),
	}
}

test_init_and_ephemeral_containers_get_the_defaults if {
	spec := {
		"securityContext": pod_sc,
		"initContainers": [{"name": "migrate", "image": "app:1"}, object.union(bare, {"securityContext": {"capabilities": {}}})],
		"containers": [hardened],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
	}
	ops(pod(spec)) == {
		add("/spec/initContainers/0/securityContext", hardened_sc),
		add("/spec/initContainers/1/securityContext/allowPrivilegeEscalation", false),
		add("/spec/initContainers/1/securityContext/capabilities/drop", ["ALL"]),
		add("/spec/ephemeralContainers/0/securityContext", hardened_sc),
	}
}

test_every_workload_kind_is_patched_at_its_pod_spec if {
	spec := {"containers": [bare]}
	ops(review("Pod", {"spec": spec})) == {add("/spec/containers/0/securityContext", hardened_sc), add("/spec/securityContext", pod_sc)}
	template_kinds := ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
	by_kind := {kind: p |
		some kind in template_kinds
		p := ops(review(kind, {"spec": {"template": {"spec": spec}}}))
	}
	count(by_kind) == 6
	every p in by_kind {
		p == {add("/spec/template/spec/containers/0/securityContext", hardened_sc), add("/spec/template/spec/securityContext", pod_sc)}
	}
	cron := review("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}})
	ops(cron) == {
		add("/spec/jobTemplate/spec/template/spec/containers/0/securityContext", hardened_sc),
		add("/spec/jobTemplate/spec/template/spec/securityContext", pod_sc),
	}
}

test_windows_pods_get_nothing if {
	spec := {"os": {"name": "windows"}, "containers": [bare]}
	count(ops(pod(spec))) == 0
	count(ops(deployment(spec))) == 0
	count(ops(with_parameters(deployment(spec), {"setRunAsNonRoot": true}))) == 0
	linux := {"os": {"name": "linux"}, "containers": [bare]}
	count(ops(deployment(linux))) == 2
}

test_run_as_non_root_is_not_defaulted_by_default if {
	inp := deployment({"containers": [bare]})
	pod_ops := {op | some op in ops(inp); op.path == "/spec/template/spec/securityContext"}
	pod_ops == {add("/spec/template/spec/securityContext", pod_sc)}
	ops(with_parameters(inp, {"setRunAsNonRoot": false})) == ops(inp)
}

test_run_as_non_root_is_defaulted_when_asked if {
	params := {"setRunAsNonRoot": true}
	whole := with_parameters(deployment({"containers": [hardened]}), params)
	ops(whole) == {add("/spec/template/spec/securityContext", {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true})}
	partial := with_parameters(deployment({"securityContext": pod_sc, "containers": [hardened]}), params)
	ops(partial) == {add("/spec/template/spec/securityContext/runAsNonRoot", true)}
	already := with_parameters(deployment({"securityContext": object.union(pod_sc, {"runAsNonRoot": true}), "containers": [hardened]}), params)
	count(ops(already)) == 0
}

test_run_as_non_root_is_not_defaulted_beside_an_explicit_root_user if {
	params := {"setRunAsNonRoot": true}
	on_pod := with_parameters(deployment({"securityContext": {"runAsUser": 0}, "containers": [hardened]}), params)
	ops(on_pod) == {add("/spec/template/spec/securityContext/seccompProfile", {"type": "RuntimeDefault"})}
	root := object.union(hardened, {"securityContext": {"runAsUser": 0}})
	on_container := with_parameters(deployment({"containers": [root]}), params)
	ops(on_container) == {add("/spec/template/spec/securityContext", pod_sc)}

	# A container that decides runAsNonRoot itself is not affected by the pod-level default.
	own := object.union(hardened, {"securityContext": {"runAsUser": 0, "runAsNonRoot": false}})
	decided := with_parameters(deployment({"containers": [own]}), params)
	ops(decided) == {add("/spec/template/spec/securityContext", {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true})}
}

test_no_escalation_default_where_the_api_server_would_refuse_it if {
	privileged := object.union(bare, {"securityContext": {"privileged": true}})
	ops(deployment({"securityContext": pod_sc, "containers": [privileged]})) == {add(concat("/", [c0, "securityContext/capabilities"]), {"drop": ["ALL"]})}
	sys_admin := object.union(bare, {"securityContext": {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}})
	ops(deployment({"securityContext": pod_sc, "containers": [sys_admin]})) == {add(concat("/", [c0, "securityContext/capabilities/drop"]), ["ALL"])}
	unprivileged := object.union(bare, {"securityContext": {"privileged": false, "capabilities": {"add": null}}})
	ops(deployment({"securityContext": pod_sc, "containers": [unprivileged]})) == {
		add(concat("/", [c0, "securityContext/allowPrivilegeEscalation"]), false),
		add(concat("/", [c0, "securityContext/capabilities/drop"]), ["ALL"]),
	}
}

test_null_values_count_as_unset if {
	# The API server reads an explicit null as unset; the engine lets an add replace a null.
	null_sc := object.union(bare, {"securityContext": null})
	null_caps := object.union(bare, {"securityContext": {"allowPrivilegeEscalation": null, "capabilities": null}})
	null_drop := object.union(bare, {"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": null}}})
	inp := deployment({"securityContext": null, "containers": [null_sc, null_caps, null_drop]})
	ops(inp) == {
		add("/spec/template/spec/securityContext", pod_sc),
		add(concat("", [c0, "/securityContext"]), hardened_sc),
		add("/spec/template/spec/containers/1/securityContext/allowPrivilegeEscalation", false),
		add("/spec/template/spec/containers/1/securityContext/capabilities", {"drop": ["ALL"]}),
		add("/spec/template/spec/containers/2/securityContext/capabilities/drop", ["ALL"]),
	}
	count(ops(again(inp))) == 0
	ops(deployment({"securityContext": {"seccompProfile": null}, "containers": [hardened]})) == {
		add("/spec/template/spec/securityContext/seccompProfile", {"type": "RuntimeDefault"}),
	}
}

test_objects_without_containers_get_only_the_pod_default if {
	count(ops(review("Deployment", {"spec": {}}))) == 0
	count(ops(review("CronJob", {"spec": {"jobTemplate": {"spec": {}}}}))) == 0
	ops(deployment({"containers": null, "initContainers": "oops", "ephemeralContainers": [null, "x"]})) == {add("/spec/template/spec/securityContext", pod_sc)}
}

test_a_review_without_an_operation_is_a_create if {
	inp := {"review": {"kind": {"kind": "Deployment"}, "object": {"spec": {"template": {"spec": {"containers": [bare]}}}}}}
	count(ops(inp)) == 2
}

test_deletes_and_objects_being_deleted_get_nothing if {
	spec := {"containers": [bare]}
	deletion := {"review": {"kind": {"kind": "Deployment"}, "operation": "DELETE", "object": null, "oldObject": {"spec": {"template": {"spec": spec}}}}}
	count(ops(deletion)) == 0
	deleting := review("Deployment", {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}, "spec": {"template": {"spec": spec}}})
	count(ops(deleting)) == 0
	connect := object.union(deployment(spec), {"review": {"operation": "CONNECT"}})
	count(ops(connect)) == 0
}

test_updates_patch_templates_but_not_immutable_pod_specs if {
	spec := {"containers": [bare]}
	count(ops(update("Deployment", {"spec": {"template": {"spec": spec}}}))) == 2
	count(ops(update("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}))) == 2
	count(ops(update("Pod", {"spec": spec}))) == 0
	count(ops(update("Job", {"spec": {"template": {"spec": spec}}}))) == 0
}

test_an_ephemeral_container_added_to_a_running_pod_gets_the_defaults if {
	old := {"spec": {"containers": [bare], "ephemeralContainers": [{"name": "debug-1", "image": "busybox:1.36"}]}}
	new := {"spec": {
		"containers": [bare],
		"ephemeralContainers": [{"name": "debug-1", "image": "busybox:1.36"}, {"name": "debug-2", "image": "busybox:1.36"}],
	}}
	inp := {"review": {"kind": {"kind": "Pod"}, "operation": "UPDATE", "subResource": "ephemeralcontainers", "object": new, "oldObject": old}}
	ops(inp) == {add("/spec/ephemeralContainers/1/securityContext", hardened_sc)}
	first := {"review": {"kind": {"kind": "Pod"}, "operation": "UPDATE", "object": {"spec": {"containers": [bare], "ephemeralContainers": [bare]}}, "oldObject": {"spec": {"containers": [bare]}}}}
	ops(first) == {add("/spec/ephemeralContainers/0/securityContext", hardened_sc)}
}

cases := [
	deployment({"containers": [bare]}),
	deployment({"securityContext": {"fsGroup": 2000}, "initContainers": [bare], "containers": [hardened, object.union(bare, {"securityContext": {"runAsUser": 1000}})]}),
	deployment({"containers": [object.union(bare, {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}})]}),
	deployment({"containers": [object.union(bare, {"securityContext": {"privileged": true}})]}),
	with_parameters(deployment({"containers": [bare]}), {"setRunAsNonRoot": true}),
	with_parameters(deployment({"securityContext": {"fsGroup": 2000}, "containers": [hardened]}), {"setRunAsNonRoot": true}),
	pod({"containers": [bare], "initContainers": [bare], "ephemeralContainers": [bare]}),
	review("StatefulSet", {"spec": {"template": {"spec": {"containers": [bare]}}}}),
	review("DaemonSet", {"spec": {"template": {"spec": {"containers": [bare]}}}}),
	review("ReplicaSet", {"spec": {"template": {"spec": {"containers": [bare]}}}}),
	review("ReplicationController", {"spec": {"template": {"spec": {"containers": [bare]}}}}),
	review("Job", {"spec": {"template": {"spec": {"containers": [bare]}}}}),
	review("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [bare]}}}}}}),
]

test_the_patch_applies_and_a_second_evaluation_adds_nothing if {
	results := [idempotent(inp) | some inp in cases]
	count(results) == count(cases)
	every r in results {
		r == true
	}
}

test_every_op_is_an_add_of_an_absent_path_outside_the_others if {
	results := [well_formed(inp) | some inp in cases]
	count(results) == count(cases)
	every r in results {
		r == true
	}
}

test_the_patched_object_holds_the_defaults if {
	spec := {"initContainers": [bare], "containers": [bare, object.union(bare, {"securityContext": {"capabilities": {}}})]}
	result := patched(with_parameters(deployment(spec), {"setRunAsNonRoot": true}))
	result.spec.template.spec.securityContext == {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true}
	result.spec.template.spec.initContainers[0].securityContext == hardened_sc
	result.spec.template.spec.containers[0].securityContext == hardened_sc
	result.spec.template.spec.containers[1].securityContext == hardened_sc
}
