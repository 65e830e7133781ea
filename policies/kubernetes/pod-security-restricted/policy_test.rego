package gatehouse.kubernetes.pod_security_restricted_test

import data.gatehouse.kubernetes.pod_security_restricted

secure_context := {
	"allowPrivilegeEscalation": false,
	"runAsNonRoot": true,
	"capabilities": {"drop": ["ALL"]},
	"seccompProfile": {"type": "RuntimeDefault"},
}

secure := {"name": "app", "image": "registry.example/app:1.0.0", "securityContext": secure_context}

# A compliant container whose securityContext takes the given fields on top (object.union
# merges nested objects: drop a field with without_context to replace it whole).
with_context(fields) := object.union(secure, {"securityContext": object.union(secure_context, fields)})

# A compliant container without the given securityContext fields.
without_context(keys) := object.union(object.remove(secure, ["securityContext"]), {"securityContext": object.remove(secure_context, keys)})

review(kind, obj) := {"review": {"kind": {"group": "", "version": "v1", "kind": kind}, "object": obj}}

pod(spec) := review("Pod", {"metadata": {"name": "app"}, "spec": spec})

deployment(spec) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"object": {"spec": {"template": {"spec": spec}}},
}}

paths(inp) := {v.path | some v in pod_security_restricted.violation with input as inp}

messages(inp) := {v.msg | some v in pod_security_restricted.violation with input as inp}

tpl := "/spec/template/spec"

# ---------------------------------------------------------------------------------------------
# Compliant pods

test_compliant_deployment_passes if {
	count(pod_security_restricted.violation) == 0 with input as deployment({"containers": [secure]})
}

test_fully_hardened_pod_passes if {
	spec := {
		"securityContext": {
			"runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
			"seccompProfile": {"type": "RuntimeDefault"},
			"appArmorProfile": {"type": "RuntimeDefault"},
			"seLinuxOptions": {"type": "container_t", "level": "s0:c123,c456"},
			"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}],
		},
		"hostNetwork": false, "hostPID": false, "hostIPC": false,
		"containers": [with_context({
			"privileged": false, "procMount": "Default", "readOnlyRootFilesystem": true,
			"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
			"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/app.json"},
			"appArmorProfile": {"type": "Localhost", "localhostProfile": "app"},
			"seLinuxOptions": {"type": "", "user": "", "role": ""},
			"windowsOptions": {"hostProcess": false},
		})],
		"initContainers": [object.union(with_context({}), {"name": "migrate", "ports": [{"containerPort": 80, "hostPort": 0}]})],
		"volumes": [
			{"name": "a", "configMap": {"name": "a"}},
			{"name": "b", "csi": {"driver": "x"}},
			{"name": "c", "downwardAPI": {}},
			{"name": "d", "emptyDir": {}},
			{"name": "e", "ephemeral": {}},
			{"name": "f", "persistentVolumeClaim": {"claimName": "f"}},
			{"name": "g", "projected": {"sources": []}},
			{"name": "h", "secret": {"secretName": "h"}, "hostPath": null},
		],
	}
	count(pod_security_restricted.violation) == 0 with input as pod(spec)
}

test_pod_level_defaults_are_inherited if {
	bare := without_context(["runAsNonRoot", "seccompProfile"])
	spec := {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": [bare]}
	count(pod_security_restricted.violation) == 0 with input as deployment(spec)
}

# ---------------------------------------------------------------------------------------------
# Pod level

test_each_host_namespace_fails_on_its_own if {
	found := {key: p |
		some key in ["hostNetwork", "hostPID", "hostIPC"]
		p := paths(deployment(object.union({"containers": [secure]}, {key: true})))
	}
	found == {
		"hostNetwork": {"/spec/template/spec/hostNetwork"},
		"hostPID": {"/spec/template/spec/hostPID"},
		"hostIPC": {"/spec/template/spec/hostIPC"},
	}
}

test_host_network_message if {
	messages(pod({"hostNetwork": true, "containers": [secure]})) == {"pod must not use the host's network namespace: remove hostNetwork or set it to false"}
}

test_host_path_volume_fails_and_says_so if {
	spec := {"containers": [secure], "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]}
	v := pod_security_restricted.violation with input as deployment(spec)
	[x.path | some x in v] == ["/spec/template/spec/volumes/1/hostPath"]
	some x in v
	contains(x.msg, "hostPath")
	startswith(x.msg, "volume \"docker\" must not use hostPath")
}

test_other_volume_types_fail if {
	spec := {"containers": [secure], "volumes": [{"name": "nfs", "nfs": {"server": "nfs.example", "path": "/"}}, {"name": "repo", "gitRepo": {"repository": "x"}}]}
	paths(deployment(spec)) == {"/spec/template/spec/volumes/0/nfs", "/spec/template/spec/volumes/1/gitRepo"}
	messages(deployment({"containers": [secure], "volumes": [{"name": "nfs", "nfs": {}}]})) == {"volume \"nfs\" must not use nfs; allowed volume types: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret"}
}

test_unsafe_sysctl_fails if {
	sysctls := [{"name": "kernel.shm_rmid_forced", "value": "1"}, {"name": "kernel.msgmax", "value": "65536"}]
	spec := {"securityContext": {"sysctls": sysctls}, "containers": [secure]}
	paths(deployment(spec)) == {"/spec/template/spec/securityContext/sysctls/1/name"}
}

test_every_safe_sysctl_passes if {
	names := [
		"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
		"net.ipv4.tcp_keepalive_probes",
	]
	spec := {"securityContext": {"sysctls": [{"name": n, "value": "1"} | some n in names]}, "containers": [secure]}
	count(pod_security_restricted.violation) == 0 with input as deployment(spec)
}

test_pod_selinux_options if {
	found := {key: p |
		some key, options in {
			"type": {"type": "spc_t"},
			"user": {"user": "system_u"},
			"role": {"role": "sysadm_r"},
			"allowed": {"type": "container_init_t", "level": "s0"},
		}
		p := paths(deployment({"securityContext": {"seLinuxOptions": options}, "containers": [secure]}))
	}
	found == {
		"type": {"/spec/template/spec/securityContext/seLinuxOptions/type"},
		"user": {"/spec/template/spec/securityContext/seLinuxOptions/user"},
		"role": {"/spec/template/spec/securityContext/seLinuxOptions/role"},
		"allowed": set(),
	}
}

test_container_selinux_options if {
	c := with_context({"seLinuxOptions": {"type": "unconfined_t", "user": "root"}})
	v := pod_security_restricted.violation with input as deployment({"containers": [c]})
	v == {
		{
			"msg": "container \"app\" must not set securityContext.seLinuxOptions.type to \"unconfined_t\"; allowed: container_t, container_init_t, container_kvm_t, container_engine_t",
			"path": "/spec/template/spec/containers/0/securityContext/seLinuxOptions/type",
		},
		{
			"msg": "container \"app\" must not set securityContext.seLinuxOptions.user",
			"path": "/spec/template/spec/containers/0/securityContext/seLinuxOptions/user",
		},
	}
}

test_apparmor_profile_types if {
	found := {p |
		some type in ["Unconfined", "unconfined", "runtime/default", ""]
		p := paths(deployment({"securityContext": {"appArmorProfile": {"type": type}}, "containers": [secure]}))
	}
	found == {{"/spec/template/spec/securityContext/appArmorProfile/type"}}
	c := with_context({"appArmorProfile": {"type": "Unconfined"}})
	paths(deployment({"containers": [c]})) == {"/spec/template/spec/containers/0/securityContext/appArmorProfile/type"}
	ok := with_context({"appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-app"}})
	count(pod_security_restricted.violation) == 0 with input as deployment({"containers": [ok]})
}

annotated(annotations) := {"review": {"kind": {"kind": "Deployment"}, "object": {"spec": {"template": {
	"metadata": {"annotations": annotations},
	"spec": {"containers": [secure]},
}}}}}

test_legacy_apparmor_annotation if {
	ok := {
		"container.apparmor.security.beta.kubernetes.io/app": "runtime/default",
		"container.apparmor.security.beta.kubernetes.io/sidecar": "localhost/k8s-sidecar",
		"example.com/unrelated": "unconfined",
	}
	count(pod_security_restricted.violation) == 0 with input as annotated(ok)
	found := {p |
		some value in ["localhost", "localhostk8s-app", "RuntimeDefault", true]
		p := paths(annotated({"container.apparmor.security.beta.kubernetes.io/app": value}))
	}
	found == {{"/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app"}}
	bad := {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
	v := pod_security_restricted.violation with input as annotated(bad)
	v == {{
		"msg": "annotation container.apparmor.security.beta.kubernetes.io/app must be runtime/default or localhost/<profile>, not \"unconfined\"",
		"path": "/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app",
	}}
}

test_legacy_apparmor_annotation_on_a_pod if {
	p := {"review": {"kind": {"kind": "Pod"}, "object": {
		"metadata": {"name": "app", "annotations": {"container.apparmor.security.beta.kubernetes.io/app": ""}},
		"spec": {"containers": [secure]},
	}}}
	paths(p) == {"/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app"}
}

test_pod_host_process_fails if {
	spec := {"securityContext": {"windowsOptions": {"hostProcess": true}}, "containers": [secure]}
	paths(deployment(spec)) == {"/spec/template/spec/securityContext/windowsOptions/hostProcess"}
}

# ---------------------------------------------------------------------------------------------
# Per container

test_privileged_fails if {
	v := pod_security_restricted.violation with input as deployment({"containers": [with_context({"privileged": true})]})
	v == {{
		"msg": "container \"app\" must not set securityContext.privileged to true",
		"path": "/spec/template/spec/containers/0/securityContext/privileged",
	}}
}

test_host_process_container_fails if {
	c := with_context({"windowsOptions": {"hostProcess": true}})
	paths(deployment({"containers": [c]})) == {"/spec/template/spec/containers/0/securityContext/windowsOptions/hostProcess"}
}

test_proc_mount_must_be_default if {
	c := with_context({"procMount": "Unmasked"})
	paths(deployment({"containers": [c]})) == {"/spec/template/spec/containers/0/securityContext/procMount"}
}

test_host_port_fails if {
	c := object.union(secure, {"ports": [{"containerPort": 8443}, {"containerPort": 8080, "hostPort": 8080}]})
	v := pod_security_restricted.violation with input as deployment({"containers": [c]})
	v == {{
		"msg": "container \"app\" must not use host port 8080: remove ports[1].hostPort and expose the pod through a Service",
		"path": "/spec/template/spec/containers/0/ports/1/hostPort",
	}}
}

test_allow_privilege_escalation_must_be_false if {
	found := {name: p |
		some name, c in {
			"missing": without_context(["allowPrivilegeEscalation"]),
			"true": with_context({"allowPrivilegeEscalation": true}),
		}
		p := paths(deployment({"containers": [c]}))
	}
	every p in found {
		p == {"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"}
	}
	count(found) == 2
	messages(deployment({"containers": [with_context({"allowPrivilegeEscalation": true})]})) == {"container \"app\" must set securityContext.allowPrivilegeEscalation to false"}
}

test_run_as_non_root_must_be_true if {
	p := paths(deployment({"containers": [with_context({"runAsNonRoot": false})]}))
	p == {"/spec/template/spec/containers/0/securityContext/runAsNonRoot"}
	missing := paths(deployment({"containers": [without_context(["runAsNonRoot"])]}))
	missing == {"/spec/template/spec/containers/0/securityContext/runAsNonRoot"}
}

test_run_as_non_root_inheritance_and_override if {
	inherited := {"securityContext": {"runAsNonRoot": true}, "containers": [without_context(["runAsNonRoot"])]}
	count(pod_security_restricted.violation) == 0 with input as deployment(inherited)

	# A container's false always fails, whatever the pod says.
	overridden := {"securityContext": {"runAsNonRoot": true}, "containers": [with_context({"runAsNonRoot": false})]}
	paths(deployment(overridden)) == {"/spec/template/spec/containers/0/securityContext/runAsNonRoot"}

	# A null container value is unset: the pod's true applies.
	null_value := {"securityContext": {"runAsNonRoot": true}, "containers": [with_context({"runAsNonRoot": null})]}
	count(pod_security_restricted.violation) == 0 with input as deployment(null_value)

	# The pod's false fails even when every container sets true, and leaves unset ones failing.
	pod_false := {"securityContext": {"runAsNonRoot": false}, "containers": [secure, object.union(without_context(["runAsNonRoot"]), {"name": "side"})]}
	paths(deployment(pod_false)) == {
		"/spec/template/spec/securityContext/runAsNonRoot",
		"/spec/template/spec/containers/1/securityContext/runAsNonRoot",
	}
}

test_run_as_user_zero_fails_at_either_level if {
	paths(deployment({"containers": [with_context({"runAsUser": 0})]})) == {"/spec/template/spec/containers/0/securityContext/runAsUser"}
	paths(deployment({"securityContext": {"runAsUser": 0}, "containers": [with_context({"runAsUser": 1000})]})) == {"/spec/template/spec/securityContext/runAsUser"}
	count(pod_security_restricted.violation) == 0 with input as deployment({"securityContext": {"runAsUser": 1000}, "containers": [with_context({"runAsUser": 1001})]})
}

test_capabilities_must_drop_all if {
	found := {name: p |
		some name, c in {
			"missing": without_context(["capabilities"]),
			"other": with_context({"capabilities": {"drop": ["NET_RAW"]}}),
			"lowercase": with_context({"capabilities": {"drop": ["all"]}}),
			"add only": object.union(without_context(["capabilities"]), {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}),
		}
		p := paths(deployment({"containers": [c]}))
	}
	count(found) == 4
	every p in found {
		p == {"/spec/template/spec/containers/0/securityContext/capabilities/drop"}
	}
}

test_only_net_bind_service_may_be_added if {
	c := with_context({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN", "NET_RAW"]}})
	v := pod_security_restricted.violation with input as deployment({"containers": [c]})
	v == {
		{
			"msg": "container \"app\" must not add capability \"SYS_ADMIN\": only NET_BIND_SERVICE may be added",
			"path": "/spec/template/spec/containers/0/securityContext/capabilities/add/1",
		},
		{
			"msg": "container \"app\" must not add capability \"NET_RAW\": only NET_BIND_SERVICE may be added",
			"path": "/spec/template/spec/containers/0/securityContext/capabilities/add/2",
		},
	}
}

test_seccomp_must_be_runtime_default_or_localhost if {
	unconfined := with_context({"seccompProfile": {"type": "Unconfined"}})
	paths(deployment({"containers": [unconfined]})) == {"/spec/template/spec/containers/0/securityContext/seccompProfile/type"}
	missing := without_context(["seccompProfile"])
	paths(deployment({"containers": [missing]})) == {"/spec/template/spec/containers/0/securityContext/seccompProfile/type"}
}

test_seccomp_inheritance_and_override if {
	pod_default := {"seccompProfile": {"type": "RuntimeDefault"}}
	inherited := {"securityContext": pod_default, "containers": [without_context(["seccompProfile"])]}
	count(pod_security_restricted.violation) == 0 with input as deployment(inherited)

	# A container's Unconfined fails under a RuntimeDefault pod.
	overridden := {"securityContext": pod_default, "containers": [with_context({"seccompProfile": {"type": "Unconfined"}})]}
	paths(deployment(overridden)) == {"/spec/template/spec/containers/0/securityContext/seccompProfile/type"}

	# The pod's Unconfined fails even when every container overrides it, and unset containers
	# inherit nothing valid.
	unconfined_pod := {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [secure, object.union(without_context(["seccompProfile"]), {"name": "side"})]}
	paths(deployment(unconfined_pod)) == {
		"/spec/template/spec/securityContext/seccompProfile/type",
		"/spec/template/spec/containers/1/securityContext/seccompProfile/type",
	}
}

test_missing_security_context_entirely if {
	bare := {"name": "app", "image": "registry.example/app:1.0.0"}
	v := pod_security_restricted.violation with input as deployment({"containers": [bare]})
	v == {
		{"msg": "container \"app\" must set securityContext.allowPrivilegeEscalation to false", "path": "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"},
		{"msg": "container \"app\" must set securityContext.runAsNonRoot to true (or leave it unset under a pod that sets it to true)", "path": "/spec/template/spec/containers/0/securityContext/runAsNonRoot"},
		{"msg": "container \"app\" must drop all capabilities: add \"ALL\" to securityContext.capabilities.drop", "path": "/spec/template/spec/containers/0/securityContext/capabilities/drop"},
		{"msg": "container \"app\" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (or leave it unset under a pod that does)", "path": "/spec/template/spec/containers/0/securityContext/seccompProfile/type"},
	}
}

# ---------------------------------------------------------------------------------------------
# Every container list, every workload kind

test_init_and_ephemeral_containers_are_checked if {
	spec := {
		"containers": [secure],
		"initContainers": [object.union(with_context({"runAsUser": 0}), {"name": "migrate"})],
		"ephemeralContainers": [object.union(with_context({"privileged": true}), {"name": "debug"})],
	}
	v := pod_security_restricted.violation with input as pod(spec)
	v == {
		{"msg": "initContainer \"migrate\" must not run as root: set securityContext.runAsUser to a non-zero UID or leave it unset", "path": "/spec/initContainers/0/securityContext/runAsUser"},
		{"msg": "ephemeralContainer \"debug\" must not set securityContext.privileged to true", "path": "/spec/ephemeralContainers/0/securityContext/privileged"},
	}
}

test_every_workload_kind_is_checked if {
	spec := {"containers": [secure, with_context({"privileged": true})]}
	template := {"template": {"spec": spec}}
	found := {kind: p |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
		p := paths(review(kind, {"spec": template}))
	}
	count(found) == 6
	every p in found {
		p == {"/spec/template/spec/containers/1/securityContext/privileged"}
	}
	paths(review("Pod", {"spec": spec})) == {"/spec/containers/1/securityContext/privileged"}
	cron := review("CronJob", {"spec": {"schedule": "@daily", "jobTemplate": {"spec": template}}})
	paths(cron) == {"/spec/jobTemplate/spec/template/spec/containers/1/securityContext/privileged"}
}

test_other_kinds_and_empty_objects_raise_nothing if {
	count(pod_security_restricted.violation) == 0 with input as review("Service", {"spec": {"containers": [{"name": "x"}], "hostNetwork": true}})
	count(pod_security_restricted.violation) == 0 with input as review("Deployment", {"spec": {}})
	count(pod_security_restricted.violation) == 0 with input as review("Pod", {})
}

# ---------------------------------------------------------------------------------------------
# Windows

test_windows_pods_are_exempt_from_escalation_capabilities_and_seccomp if {
	c := {"name": "app", "image": "registry.example/app:1.0.0", "securityContext": {"runAsNonRoot": true, "capabilities": {"add": ["SYS_ADMIN"]}}}
	spec := {"os": {"name": "windows"}, "securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [c]}
	count(pod_security_restricted.violation) == 0 with input as deployment(spec)

	# Only those three checks.
	rooted := {"os": {"name": "windows"}, "containers": [{"name": "app", "securityContext": {"windowsOptions": {"hostProcess": true}}}]}
	paths(deployment(rooted)) == {
		"/spec/template/spec/containers/0/securityContext/runAsNonRoot",
		"/spec/template/spec/containers/0/securityContext/windowsOptions/hostProcess",
	}

	# A Linux pod gets no exemption.
	linux := object.union(spec, {"os": {"name": "linux"}})
	paths(deployment(linux)) == {
		"/spec/template/spec/securityContext/seccompProfile/type",
		"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
		"/spec/template/spec/containers/0/securityContext/capabilities/drop",
		"/spec/template/spec/containers/0/securityContext/capabilities/add/0",
		"/spec/template/spec/containers/0/securityContext/seccompProfile/type",
	}
}

# ---------------------------------------------------------------------------------------------
# Wrong types fail closed, and never make evaluation fail

test_wrong_types_fail_closed if {
	flags := {"hostNetwork": "yes", "hostPID": 1, "hostIPC": "false"}
	paths(deployment(object.union({"containers": [secure]}, flags))) == {
		"/spec/template/spec/hostNetwork",
		"/spec/template/spec/hostPID",
		"/spec/template/spec/hostIPC",
	}
	c := with_context({
		"privileged": "yes",
		"allowPrivilegeEscalation": "false",
		"runAsNonRoot": "true",
		"runAsUser": "1000",
		"capabilities": {"drop": "ALL", "add": "SYS_ADMIN"},
		"seccompProfile": {"type": ["RuntimeDefault"]},
		"procMount": 0,
		"windowsOptions": {"hostProcess": "no"},
	})
	paths(deployment({"containers": [c]})) == {
		"/spec/template/spec/containers/0/securityContext/privileged",
		"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
		"/spec/template/spec/containers/0/securityContext/runAsNonRoot",
		"/spec/template/spec/containers/0/securityContext/runAsUser",
		"/spec/template/spec/containers/0/securityContext/capabilities/drop",
		"/spec/template/spec/containers/0/securityContext/capabilities/add",
		"/spec/template/spec/containers/0/securityContext/seccompProfile/type",
		"/spec/template/spec/containers/0/securityContext/procMount",
		"/spec/template/spec/containers/0/securityContext/windowsOptions/hostProcess",
	}
	port := object.union(secure, {"ports": [{"containerPort": 80, "hostPort": "80"}]})
	paths(deployment({"containers": [port]})) == {"/spec/template/spec/containers/0/ports/0/hostPort"}
}

test_a_security_context_of_the_wrong_type_is_no_security_context if {
	c := {"name": "app", "securityContext": "restricted"}
	paths(deployment({"securityContext": "restricted", "containers": [c]})) == {
		"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
		"/spec/template/spec/containers/0/securityContext/runAsNonRoot",
		"/spec/template/spec/containers/0/securityContext/capabilities/drop",
		"/spec/template/spec/containers/0/securityContext/seccompProfile/type",
	}
}

test_null_and_malformed_lists_are_no_error if {
	spec := {
		"containers": [secure, null, "app"],
		"initContainers": null,
		"ephemeralContainers": {"debug": {"name": "debug"}},
		"volumes": null,
		"securityContext": {"sysctls": {"name": "kernel.msgmax"}, "seLinuxOptions": "spc_t", "appArmorProfile": null},
	}
	count(pod_security_restricted.violation) == 0 with input as deployment(spec)
	nulls := {
		"capabilities": {"drop": ["ALL"], "add": null},
		"seLinuxOptions": {"type": null, "user": null},
		"privileged": null, "procMount": null, "runAsUser": null,
		"appArmorProfile": null, "windowsOptions": {"hostProcess": null},
	}
	c := object.union(secure, {"ports": [{"containerPort": 80, "hostPort": null}], "securityContext": object.union(secure_context, nulls)})
	count(pod_security_restricted.violation) == 0 with input as deployment({"containers": [c], "volumes": [{"name": "x", "emptyDir": null}, "bogus", null]})
	pod_nulls := {
		"hostNetwork": null, "hostPID": null, "hostIPC": null,
		"securityContext": {
			"runAsNonRoot": null, "runAsUser": null, "seccompProfile": null,
			"windowsOptions": {"hostProcess": null}, "appArmorProfile": {"type": null},
		},
		"containers": [secure],
	}
	count(pod_security_restricted.violation) == 0 with input as deployment(pod_nulls)
}

test_unnamed_objects_get_a_label if {
	messages(deployment({"containers": [object.remove(with_context({"privileged": true}), ["name"])]})) == {"unnamed container must not set securityContext.privileged to true"}
	messages(deployment({"containers": [secure], "volumes": [{"hostPath": {"path": "/"}}]})) == {"unnamed volume must not use hostPath, which exposes the node's filesystem; use a persistentVolumeClaim, emptyDir, configMap or secret volume"}
	messages(deployment({"initContainers": [{"name": 7, "securityContext": secure_context}], "containers": [with_context({"runAsUser": 0})]})) == {"container \"app\" must not run as root: set securityContext.runAsUser to a non-zero UID or leave it unset"}
}

# ---------------------------------------------------------------------------------------------
# Operations: only creations and updates of the object itself are refused

request(fields) := {"review": object.union({"kind": {"group": "apps", "version": "v1", "kind": "Deployment"}}, fields)}

test_deletions_status_updates_and_terminating_objects_pass if {
	privileged := {"spec": {"template": {"spec": {"containers": [with_context({"privileged": true})]}}}}
	count(pod_security_restricted.violation) == 1 with input as request({"operation": "CREATE", "object": privileged})
	count(pod_security_restricted.violation) == 1 with input as request({"operation": "UPDATE", "object": privileged, "subResource": ""})
	count(pod_security_restricted.violation) == 0 with input as request({"operation": "DELETE", "object": null, "oldObject": privileged})
	count(pod_security_restricted.violation) == 0 with input as request({"operation": "UPDATE", "object": privileged, "subResource": "status"})
	terminating := object.union(privileged, {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}})
	count(pod_security_restricted.violation) == 0 with input as request({"operation": "UPDATE", "object": terminating})

	# A manifest cannot skip the checks by carrying a deletionTimestamp: the API server clears it
	# on create.
	count(pod_security_restricted.violation) == 1 with input as request({"operation": "CREATE", "object": terminating})
}

test_adding_an_ephemeral_container_is_checked if {
	spec := {"containers": [secure], "ephemeralContainers": [{"name": "debug", "image": "registry.example/toolbox:1.0.0"}]}
	inp := {"review": {"kind": {"kind": "Pod"}, "operation": "UPDATE", "subResource": "ephemeralcontainers", "object": {"spec": spec}}}
	count(pod_security_restricted.violation) == 4 with input as inp
}
