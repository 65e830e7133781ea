package gatehouse.kubernetes.require_resources_test

import data.gatehouse.kubernetes.require_resources

params := {"requireCpuLimit": false}

resources := {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}}

sized := {"name": "app", "image": "app:1", "resources": resources}

review(kind, object) := {"review": {"kind": {"kind": kind}, "operation": "CREATE", "object": object}, "parameters": params}

pod(spec) := review("Pod", {"spec": spec})

deployment(spec) := review("Deployment", {"spec": {"template": {"spec": spec}}})

with_cpu_limit(input_doc) := object.union(input_doc, {"parameters": {"requireCpuLimit": true}})

paths(v) := {x.path | some x in v}

test_sized_containers_pass if {
	count(require_resources.violation) == 0 with input as deployment({"containers": [sized], "initContainers": [sized]})
}

test_each_missing_field_is_reported_at_its_path if {
	no_cpu := object.union(sized, {"name": "api", "resources": {"requests": {"cpu": null}}})
	v := require_resources.violation with input as deployment({"containers": [sized, no_cpu]})
	v == {{
		"msg": "container \"api\" has no resources.requests.cpu: CPU autoscaling computes utilisation from it, and the scheduler places the pod by it",
		"path": "/spec/template/spec/containers/1/resources/requests/cpu",
	}}
	no_memory := json.remove(sized, ["resources/requests/memory"])
	w := require_resources.violation with input as deployment({"containers": [no_memory]})
	w == {{
		"msg": "container \"app\" has no resources.requests.memory: the scheduler places the pod by it",
		"path": "/spec/template/spec/containers/0/resources/requests/memory",
	}}
	no_limit := json.remove(sized, ["resources/limits"])
	x := require_resources.violation with input as deployment({"containers": [no_limit]})
	x == {{
		"msg": "container \"app\" has no resources.limits.memory: without it, a leaking container takes memory from every pod on its node",
		"path": "/spec/template/spec/containers/0/resources/limits/memory",
	}}
}

test_a_missing_resources_block_raises_one_violation_per_field if {
	v := require_resources.violation with input as pod({"containers": [{"name": "app", "image": "app:1"}]})
	paths(v) == {
		"/spec/containers/0/resources/requests/cpu",
		"/spec/containers/0/resources/requests/memory",
		"/spec/containers/0/resources/limits/memory",
	}
	count(v) == 3
}

test_empty_resources_are_missing_resources if {
	v := require_resources.violation with input as pod({"containers": [{"name": "app", "resources": {"requests": {}, "limits": {}}}]})
	count(v) == 3
	w := require_resources.violation with input as pod({"containers": [{"name": "app", "resources": {}}]})
	count(w) == 3
}

test_init_containers_are_checked if {
	setup := {"name": "migrate", "image": "migrate:1", "resources": {"requests": {"cpu": "100m"}}}
	v := require_resources.violation with input as deployment({"containers": [sized], "initContainers": [sized, setup]})
	v == {
		{
			"msg": "initContainer \"migrate\" has no resources.requests.memory: the scheduler places the pod by it",
			"path": "/spec/template/spec/initContainers/1/resources/requests/memory",
		},
		{
			"msg": "initContainer \"migrate\" has no resources.limits.memory: without it, a leaking container takes memory from every pod on its node",
			"path": "/spec/template/spec/initContainers/1/resources/limits/memory",
		},
	}
}

test_sidecar_init_containers_are_checked if {
	sidecar := {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"}
	v := require_resources.violation with input as pod({"containers": [sized], "initContainers": [sidecar]})
	count(v) == 3
}

test_ephemeral_containers_are_exempt if {
	spec := {"containers": [sized], "ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}]}
	count(require_resources.violation) == 0 with input as pod(spec)
}

test_every_workload_kind_is_checked_at_its_pod_spec if {
	bare := {"containers": [{"name": "app", "image": "app:1"}]}
	pod_paths := paths(require_resources.violation) with input as pod(bare)
	pod_paths == {
		"/spec/containers/0/resources/requests/cpu",
		"/spec/containers/0/resources/requests/memory",
		"/spec/containers/0/resources/limits/memory",
	}
	template_kinds := ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
	template_paths := {kind: p |
		some kind in template_kinds
		p := paths(require_resources.violation) with input as review(kind, {"spec": {"template": {"spec": bare}}})
	}
	count(template_paths) == 6
	every p in template_paths {
		p == {
			"/spec/template/spec/containers/0/resources/requests/cpu",
			"/spec/template/spec/containers/0/resources/requests/memory",
			"/spec/template/spec/containers/0/resources/limits/memory",
		}
	}
	cron := review("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": bare}}}}})
	paths(require_resources.violation) == {
		"/spec/jobTemplate/spec/template/spec/containers/0/resources/requests/cpu",
		"/spec/jobTemplate/spec/template/spec/containers/0/resources/requests/memory",
		"/spec/jobTemplate/spec/template/spec/containers/0/resources/limits/memory",
	} with input as cron
}

test_compliant_workloads_of_every_kind_pass if {
	spec := {"containers": [sized], "initContainers": [sized]}
	counts := [n |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
		n := count(require_resources.violation) with input as review(kind, {"spec": {"template": {"spec": spec}}})
	]
	counts == [0, 0, 0, 0, 0, 0]
	count(require_resources.violation) == 0 with input as pod(spec)
	cron := review("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}})
	count(require_resources.violation) == 0 with input as cron
}

test_a_cpu_limit_is_not_required_by_default if {
	count(require_resources.violation) == 0 with input as deployment({"containers": [sized]})
}

test_require_cpu_limit_adds_limits_cpu if {
	v := require_resources.violation with input as with_cpu_limit(deployment({"containers": [sized], "initContainers": [sized]}))
	v == {
		{"msg": "container \"app\" has no resources.limits.cpu: requireCpuLimit is on", "path": "/spec/template/spec/containers/0/resources/limits/cpu"},
		{"msg": "initContainer \"app\" has no resources.limits.cpu: requireCpuLimit is on", "path": "/spec/template/spec/initContainers/0/resources/limits/cpu"},
	}
	capped := object.union(sized, {"resources": {"limits": {"cpu": "500m"}}})
	count(require_resources.violation) == 0 with input as with_cpu_limit(deployment({"containers": [capped]}))
}

test_require_cpu_limit_with_no_resources_at_all if {
	v := require_resources.violation with input as with_cpu_limit(pod({"containers": [{"name": "app"}]}))
	count(v) == 4
	"/spec/containers/0/resources/limits/cpu" in paths(v)
}

test_numbers_are_quantities if {
	numeric := object.union(sized, {"resources": {"requests": {"cpu": 1, "memory": 268435456}, "limits": {"memory": 268435456, "cpu": 0.5}}})
	count(require_resources.violation) == 0 with input as with_cpu_limit(pod({"containers": [numeric]}))
}

test_a_value_that_is_not_a_quantity_is_reported if {
	odd := object.union(sized, {"resources": {"requests": {"cpu": true, "memory": {"value": "1Gi"}}}})
	v := require_resources.violation with input as pod({"containers": [odd]})
	v == {
		{"msg": "container \"app\" sets resources.requests.cpu to true, which is not a quantity", "path": "/spec/containers/0/resources/requests/cpu"},
		{"msg": "container \"app\" sets resources.requests.memory to {\"value\":\"1Gi\"}, which is not a quantity", "path": "/spec/containers/0/resources/requests/memory"},
	}
}

test_resources_of_the_wrong_type_are_missing_resources if {
	shapes := [{"resources": "lots"}, {"resources": ["requests"]}, {"resources": {"requests": "250m", "limits": []}}]
	counts := [n |
		some shape in shapes
		n := count(require_resources.violation) with input as pod({"containers": [object.union({"name": "app"}, shape)]})
	]
	counts == [3, 3, 3]
}

test_malformed_container_lists_raise_nothing_and_do_not_fail if {
	count(require_resources.violation) == 0 with input as pod({"containers": {"app": {"name": "app"}}})
	count(require_resources.violation) == 0 with input as pod({"containers": "app", "initContainers": null})
	count(require_resources.violation) == 0 with input as pod({"containers": ["app", 3, null]})
	count(require_resources.violation) == 0 with input as pod("not a spec")
}

test_a_container_without_a_string_name_is_labelled_by_index if {
	v := require_resources.violation with input as pod({"containers": [sized, {"name": 42}], "initContainers": [{"image": "x"}]})
	{x.msg | some x in v; endswith(x.path, "/requests/memory")} == {
		"container at index 1 has no resources.requests.memory: the scheduler places the pod by it",
		"initContainer at index 0 has no resources.requests.memory: the scheduler places the pod by it",
	}
}

test_an_object_without_a_pod_spec_raises_nothing if {
	count(require_resources.violation) == 0 with input as review("Deployment", {"spec": {}})
	count(require_resources.violation) == 0 with input as review("CronJob", {"spec": {"jobTemplate": {}}})
}

test_deletes_and_objects_being_deleted_are_let_through if {
	bare := {"spec": {"containers": [{"name": "app"}]}}
	deletion := {"review": {"kind": {"kind": "Pod"}, "operation": "DELETE", "oldObject": bare}, "parameters": params}
	count(require_resources.violation) == 0 with input as deletion
	count(require_resources.violation) == 0 with input as object.union(deletion, {"review": {"object": null}})
	deleting := review("Pod", object.union(bare, {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}))
	count(require_resources.violation) == 0 with input as deleting
	count(require_resources.violation) == 3 with input as review("Pod", bare)
}
