package gatehouse.kubernetes.require_probes_test

import data.gatehouse.kubernetes.require_probes

probe := {"httpGet": {"path": "/healthz", "port": 8080}}

probed := {"name": "app", "image": "app:1", "readinessProbe": probe, "livenessProbe": probe}

deployment(containers) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"object": {"spec": {"template": {"spec": {"containers": containers}}}},
}}

test_probed_containers_pass if {
	count(require_probes.violation) == 0 with input as deployment([probed])
}

test_each_missing_probe_is_reported_at_its_field if {
	bare := {"name": "app", "image": "app:1"}
	v := require_probes.violation with input as deployment([probed, bare])
	v == {
		{"msg": "container \"app\" has no readinessProbe", "path": "/spec/template/spec/containers/1/readinessProbe"},
		{"msg": "container \"app\" has no livenessProbe", "path": "/spec/template/spec/containers/1/livenessProbe"},
	}
}

test_only_liveness_missing if {
	half := object.remove(probed, ["livenessProbe"])
	v := require_probes.violation with input as deployment([half])
	[x.path | some x in v] == ["/spec/template/spec/containers/0/livenessProbe"]
}

test_init_and_ephemeral_containers_are_exempt if {
	spec := {"containers": [probed], "initContainers": [{"name": "migrate"}], "ephemeralContainers": [{"name": "debug"}]}
	count(require_probes.violation) == 0 with input as {"review": {"kind": {"kind": "Pod"}, "object": {"spec": spec}}}
}

test_every_workload_kind_is_checked if {
	bare := {"containers": [{"name": "app"}]}
	count(require_probes.violation) == 2 with input as {"review": {"kind": {"kind": "Pod"}, "object": {"spec": bare}}}
	template := {"template": {"spec": bare}}
	counts := {kind: n |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
		n := count(require_probes.violation) with input as {"review": {"kind": {"kind": kind}, "object": {"spec": template}}}
	}
	count(counts) == 6
	every n in counts {
		n == 2
	}
	cron := {"review": {"kind": {"kind": "CronJob"}, "object": {"spec": {"jobTemplate": {"spec": template}}}}}
	v := require_probes.violation with input as cron
	{x.path | some x in v} == {
		"/spec/jobTemplate/spec/template/spec/containers/0/readinessProbe",
		"/spec/jobTemplate/spec/template/spec/containers/0/livenessProbe",
	}
}

test_an_object_without_a_pod_spec_raises_nothing if {
	count(require_probes.violation) == 0 with input as {"review": {"kind": {"kind": "Deployment"}, "object": {"spec": {}}}}
}
