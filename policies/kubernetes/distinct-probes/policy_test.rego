package gatehouse.kubernetes.distinct_probes_test

import data.gatehouse.kubernetes.distinct_probes

ready := {"httpGet": {"path": "/healthz", "port": 8080}}

app(readiness, liveness) := {"name": "app", "image": "app:1", "readinessProbe": readiness, "livenessProbe": liveness}

deployment(spec) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"namespace": "shop",
	"operation": "CREATE",
	"object": {"metadata": {"name": "web"}, "spec": {"template": {"spec": spec}}},
}}

of(containers) := deployment({"containers": containers})

paths(inp) := {x.path | some x in distinct_probes.violation with input as inp}

same_msg := "container \"app\" has a livenessProbe identical to its readinessProbe: when it is only overloaded or waiting on a dependency it gets restarted instead of just taken out of rotation, turning overload into a restart storm. Point the liveness probe at a cheaper endpoint, or give it a higher failureThreshold or periodSeconds"

test_identical_probes_are_reported_at_the_liveness_probe if {
	v := distinct_probes.violation with input as of([app(ready, ready)])
	v == {{"msg": same_msg, "path": "/spec/template/spec/containers/0/livenessProbe"}}
}

test_every_handler_kind_is_compared if {
	probes := [
		{"tcpSocket": {"port": 5432}},
		{"exec": {"command": ["pg_isready", "-U", "app"]}},
		{"grpc": {"port": 9090, "service": "health"}},
		{"httpGet": {"path": "/healthz", "port": "http", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}},
	]
	every probe in probes {
		paths(of([app(probe, probe)])) == {"/spec/template/spec/containers/0/livenessProbe"}
	}
}

test_a_different_handler_or_endpoint_is_distinct if {
	count(distinct_probes.violation) == 0 with input as of([app(ready, {"httpGet": {"path": "/livez", "port": 8080}})])
	count(distinct_probes.violation) == 0 with input as of([app(ready, {"httpGet": {"path": "/healthz", "port": 8081}})])
	count(distinct_probes.violation) == 0 with input as of([app(ready, {"tcpSocket": {"port": 8080}})])
	count(distinct_probes.violation) == 0 with input as of([app(ready, {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTPS"}})])
	count(distinct_probes.violation) == 0 with input as of([app({"exec": {"command": ["check", "--ready"]}}, {"exec": {"command": ["check"]}})])
}

test_more_tolerant_timing_is_distinct if {
	tolerant := [
		{"failureThreshold": 6},
		{"periodSeconds": 20},
		{"initialDelaySeconds": 30},
		{"timeoutSeconds": 5},
	]
	every t in tolerant {
		count(distinct_probes.violation) == 0 with input as of([app(ready, object.union(ready, t))])
	}
}

test_spelled_out_defaults_are_still_a_copy if {
	explicit := object.union(ready, {"timeoutSeconds": 1, "periodSeconds": 10, "failureThreshold": 3, "initialDelaySeconds": 0})
	paths(of([app(ready, explicit)])) == {"/spec/template/spec/containers/0/livenessProbe"}
	with_scheme := {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}}
	paths(of([app(ready, with_scheme)])) == {"/spec/template/spec/containers/0/livenessProbe"}
	nulls := {"httpGet": {"path": "/healthz", "port": 8080, "host": null}, "periodSeconds": null}
	paths(of([app(ready, nulls)])) == {"/spec/template/spec/containers/0/livenessProbe"}
}

test_success_threshold_and_grace_period_do_not_make_a_probe_distinct if {
	paths(of([app(object.union(ready, {"successThreshold": 2}), ready)])) == {"/spec/template/spec/containers/0/livenessProbe"}
	paths(of([app(ready, object.union(ready, {"terminationGracePeriodSeconds": 10}))])) == {"/spec/template/spec/containers/0/livenessProbe"}
}

test_a_single_probe_or_none_is_left_to_require_probes if {
	count(distinct_probes.violation) == 0 with input as of([{"name": "app", "readinessProbe": ready}])
	count(distinct_probes.violation) == 0 with input as of([{"name": "app", "livenessProbe": ready}])
	count(distinct_probes.violation) == 0 with input as of([{"name": "app"}])
	count(distinct_probes.violation) == 0 with input as of([app(null, null)])
	count(distinct_probes.violation) == 0 with input as of([app(ready, null)])
}

test_each_container_is_reported_at_its_index if {
	other := object.union(app(ready, ready), {"name": "proxy"})
	v := distinct_probes.violation with input as of([app(ready, object.union(ready, {"failureThreshold": 6})), other])
	v == {{
		"msg": replace(same_msg, "\"app\"", "\"proxy\""),
		"path": "/spec/template/spec/containers/1/livenessProbe",
	}}
}

test_sidecar_init_containers_are_checked_and_others_are_not if {
	sidecar := object.union(app(ready, ready), {"name": "envoy", "restartPolicy": "Always"})
	v := distinct_probes.violation with input as deployment({"initContainers": [{"name": "migrate"}, sidecar], "containers": [{"name": "app"}]})
	v == {{
		"msg": replace(same_msg, "container \"app\"", "initContainer \"envoy\""),
		"path": "/spec/template/spec/initContainers/1/livenessProbe",
	}}
	plain := object.union(app(ready, ready), {"name": "migrate"})
	count(distinct_probes.violation) == 0 with input as deployment({"initContainers": [plain], "containers": [{"name": "app"}]})
	ephemeral := {"containers": [{"name": "app"}], "ephemeralContainers": [app(ready, ready)]}
	count(distinct_probes.violation) == 0 with input as {"review": {"kind": {"kind": "Pod"}, "object": {"spec": ephemeral}}}
}

test_every_workload_kind_is_checked if {
	bare := {"containers": [app(ready, ready)]}
	count(distinct_probes.violation) == 1 with input as {"review": {"kind": {"kind": "Pod"}, "object": {"spec": bare}}}
	counts := {kind: n |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
		n := count(distinct_probes.violation) with input as {"review": {"kind": {"kind": kind}, "object": {"spec": {"template": {"spec": bare}}}}}
	}
	counts == {"Deployment": 1, "StatefulSet": 1, "DaemonSet": 1, "ReplicaSet": 1, "Job": 1, "ReplicationController": 1}
	cron := {"review": {"kind": {"kind": "CronJob"}, "object": {"spec": {"jobTemplate": {"spec": {"template": {"spec": bare}}}}}}}
	paths(cron) == {"/spec/jobTemplate/spec/template/spec/containers/0/livenessProbe"}
	pod := {"review": {"kind": {"kind": "Pod"}, "object": {"spec": bare}}}
	paths(pod) == {"/spec/containers/0/livenessProbe"}
}

test_malformed_specs_raise_nothing_without_error if {
	count(distinct_probes.violation) == 0 with input as deployment({"containers": null})
	count(distinct_probes.violation) == 0 with input as deployment({"containers": "app"})
	count(distinct_probes.violation) == 0 with input as deployment({"initContainers": null, "containers": ["app", null]})
	count(distinct_probes.violation) == 0 with input as of([app("GET /healthz", "GET /healthz")])
	count(distinct_probes.violation) == 0 with input as {"review": {"kind": {"kind": "Deployment"}, "object": {"spec": {"template": "x"}}}}
	count(distinct_probes.violation) == 0 with input as {"review": {"kind": {"kind": "Deployment"}, "object": {"spec": {"template": {"spec": "x"}}}}}
	paths(of([app({"httpGet": "/healthz"}, {"httpGet": "/healthz"})])) == {"/spec/template/spec/containers/0/livenessProbe"}
	count(distinct_probes.violation) == 0 with input as of([app({"httpGet": "/healthz"}, {"httpGet": "/livez"})])
}

test_a_delete_raises_nothing if {
	deletion := {"review": {"kind": {"kind": "Deployment"}, "operation": "DELETE", "object": null, "oldObject": of([app(ready, ready)]).review.object}}
	count(distinct_probes.violation) == 0 with input as deletion
}
