package gatehouse.kubernetes.require_graceful_termination_test

import data.gatehouse.kubernetes.require_graceful_termination

params := {"minGracePeriodSeconds": 30}

sleep_hook := {"preStop": {"sleep": {"seconds": 10}}}

web := {"name": "web", "image": "web:1", "ports": [{"name": "http", "containerPort": 8080}], "lifecycle": sleep_hook}

workload(kind, pod_spec) := {
	"review": {
		"kind": {"group": "apps", "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {
			"apiVersion": "apps/v1",
			"kind": kind,
			"metadata": {"name": "web", "namespace": "shop"},
			"spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
		},
	},
	"parameters": params,
}

deployment(pod_spec) := workload("Deployment", pod_spec)

of(containers) := deployment({"containers": containers})

with_params(inp, p) := object.union(inp, {"parameters": p})

paths(inp) := {x.path | some x in require_graceful_termination.violation with input as inp}

no_hook_msg := "container \"web\" serves on port 8080 but has no lifecycle.preStop hook: it gets SIGTERM while Services and load balancers still send it requests, which then fail. Add a preStop hook that waits for the pod to leave rotation, for example sleep: {seconds: 10}"

hook_path := "/spec/template/spec/containers/0/lifecycle/preStop"

bare := object.remove(web, ["lifecycle"])

with_lifecycle(lifecycle) := object.union(bare, {"lifecycle": lifecycle})

grace_path := "/spec/template/spec/terminationGracePeriodSeconds"

test_a_pre_stop_hook_and_the_default_grace_period_pass if {
	count(require_graceful_termination.violation) == 0 with input as of([web])
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": [web], "terminationGracePeriodSeconds": 45})
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": [web], "terminationGracePeriodSeconds": null})
}

test_every_hook_handler_counts if {
	hooks := [
		{"exec": {"command": ["sleep", "10"]}},
		{"sleep": {"seconds": 5}},
		{"httpGet": {"path": "/drain", "port": 8080}},
	]
	every hook in hooks {
		count(require_graceful_termination.violation) == 0 with input as of([with_lifecycle({"preStop": hook})])
	}
}

test_a_missing_hook_is_reported_where_it_belongs if {
	v := require_graceful_termination.violation with input as of([object.remove(web, ["lifecycle"])])
	v == {{"msg": no_hook_msg, "path": hook_path}}
}

test_hooks_that_do_not_drain_are_missing if {
	paths(of([with_lifecycle({"postStart": {"exec": {"command": ["warm-up"]}}})])) == {hook_path}
	paths(of([with_lifecycle({"preStop": {"tcpSocket": {"port": 8080}}})])) == {hook_path}
	paths(of([with_lifecycle({"preStop": {}})])) == {hook_path}
	paths(of([with_lifecycle({"preStop": null})])) == {hook_path}
	paths(of([with_lifecycle({"preStop": {"exec": null}})])) == {hook_path}
	paths(of([with_lifecycle(null)])) == {hook_path}
	paths(of([with_lifecycle("preStop")])) == {hook_path}
}

test_only_containers_with_ports_need_a_hook if {
	worker := {"name": "worker", "image": "worker:1"}
	count(require_graceful_termination.violation) == 0 with input as of([worker])
	count(require_graceful_termination.violation) == 0 with input as of([object.union(worker, {"ports": []})])
	count(require_graceful_termination.violation) == 0 with input as of([object.union(worker, {"ports": null})])
	v := require_graceful_termination.violation with input as of([worker, bare, object.union(bare, {"name": "admin", "ports": [{"containerPort": 9000}, {"containerPort": 9001}]})])
	v == {
		{"msg": no_hook_msg, "path": "/spec/template/spec/containers/1/lifecycle/preStop"},
		{"msg": replace(replace(no_hook_msg, "\"web\"", "\"admin\""), "port 8080", "ports 9000, 9001"), "path": "/spec/template/spec/containers/2/lifecycle/preStop"},
	}
}

test_init_and_ephemeral_containers_are_not_checked if {
	sidecar := {"name": "envoy", "restartPolicy": "Always", "ports": [{"containerPort": 15001}]}
	inp := deployment({"initContainers": [sidecar], "ephemeralContainers": [{"name": "debug", "ports": [{"containerPort": 1}]}], "containers": [web]})
	count(require_graceful_termination.violation) == 0 with input as inp
}

test_a_short_grace_period_is_reported if {
	v := require_graceful_termination.violation with input as deployment({"containers": [with_lifecycle({"preStop": {"sleep": {"seconds": 5}}})], "terminationGracePeriodSeconds": 10})
	v == {{
		"msg": "Deployment \"web\" sets terminationGracePeriodSeconds to 10, below the minimum of 30 seconds its serving containers get to drain connections and shut down before SIGKILL",
		"path": grace_path,
	}}
	paths(deployment({"containers": [web], "terminationGracePeriodSeconds": 29})) == {grace_path}
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": [web], "terminationGracePeriodSeconds": 30})
}

test_the_grace_period_only_matters_for_serving_pods if {
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": [{"name": "worker"}], "terminationGracePeriodSeconds": 0})
}

test_the_minimum_is_a_parameter if {
	sixty := {"minGracePeriodSeconds": 60}
	v := require_graceful_termination.violation with input as with_params(of([web]), sixty)
	v == {{
		"msg": "Deployment \"web\" leaves terminationGracePeriodSeconds unset, so 30, below the minimum of 60 seconds its serving containers get to drain connections and shut down before SIGKILL",
		"path": grace_path,
	}}
	paths(with_params(deployment({"containers": [web], "terminationGracePeriodSeconds": 45}), sixty)) == {grace_path}
	count(require_graceful_termination.violation) == 0 with input as with_params(deployment({"containers": [web], "terminationGracePeriodSeconds": 60}), sixty)
	count(require_graceful_termination.violation) == 0 with input as with_params(deployment({"containers": [web], "terminationGracePeriodSeconds": 15}), {"minGracePeriodSeconds": 15})
	count(require_graceful_termination.violation) == 0 with input as with_params(of([web]), {"minGracePeriodSeconds": 0})
}

test_a_pre_stop_sleep_as_long_as_the_grace_period_is_reported if {
	long_sleep := with_lifecycle({"preStop": {"sleep": {"seconds": 30}}})
	v := require_graceful_termination.violation with input as of([long_sleep])
	v == {{
		"msg": "container \"web\" sleeps 30 seconds in its preStop hook, which uses up the pod's whole terminationGracePeriodSeconds of 30: it is killed without ever handling SIGTERM. Sleep for less, or raise terminationGracePeriodSeconds above the sleep plus the shutdown time",
		"path": "/spec/template/spec/containers/0/lifecycle/preStop/sleep/seconds",
	}}
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": [long_sleep], "terminationGracePeriodSeconds": 60})
	count(require_graceful_termination.violation) == 0 with input as of([with_lifecycle({"preStop": {"sleep": {"seconds": "30"}}})])
}

test_statefulsets_and_daemonsets_are_checked if {
	paths(workload("StatefulSet", {"containers": [bare]})) == {hook_path}
	paths(workload("DaemonSet", {"containers": [bare], "terminationGracePeriodSeconds": 5})) == {hook_path, grace_path}
}

test_malformed_specs_raise_nothing_without_error if {
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": null})
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": "web"})
	count(require_graceful_termination.violation) == 0 with input as of(["web", null])
	count(require_graceful_termination.violation) == 0 with input as of([object.union(web, {"ports": "8080"})])
	count(require_graceful_termination.violation) == 0 with input as deployment({"containers": [web], "terminationGracePeriodSeconds": "10"})
	count(require_graceful_termination.violation) == 0 with input as object.union(of([web]), {"review": {"object": {"spec": {"template": "x"}}}})
	count(require_graceful_termination.violation) == 0 with input as with_params(deployment({"containers": [with_lifecycle({"preStop": {"exec": {"command": ["sleep", "5"]}}})], "terminationGracePeriodSeconds": 1}), {"minGracePeriodSeconds": "30"})
	v := require_graceful_termination.violation with input as of([object.union(object.remove(web, ["lifecycle"]), {"ports": ["http", {"containerPort": null}]})])
	[x.msg | some x in v] == [replace(no_hook_msg, "port 8080", "ports ?, ?")]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	bare_deployment := of([bare])
	deletion := {"review": {"kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "operation": "DELETE", "object": null, "oldObject": bare_deployment.review.object}, "parameters": params}
	count(require_graceful_termination.violation) == 0 with input as deletion
	deleting := object.union(bare_deployment, {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(require_graceful_termination.violation) == 0 with input as deleting
}
