package gatehouse.kubernetes.distinct_probes

# A container whose livenessProbe is its readinessProbe over again is restarted whenever it is
# only unready. The probes are compared after filling in the API defaults the kubelet applies;
# fields that do not change when a failing container is restarted are left out.

# Timing defaults of a probe (core/v1 defaulting).
timing_defaults := {"timeoutSeconds": 1, "periodSeconds": 10, "failureThreshold": 3, "initialDelaySeconds": 0}

# successThreshold only delays a recovery (and must be 1 on a liveness probe);
# terminationGracePeriodSeconds is liveness-only and applies after the restart is decided.
ignored_fields := {"successThreshold", "terminationGracePeriodSeconds"}

# A probe as the kubelet runs it: null fields dropped, defaults filled in.
normalized(probe) := object.union(timing_defaults, {key: normal_value(key, value) |
	some key, value in probe
	value != null
	not key in ignored_fields
})

normal_value(key, value) := object.union({"scheme": "HTTP"}, {k: v | some k, v in value; v != null}) if {
	key == "httpGet"
	is_object(value)
} else := value

# The containers that keep running beside the workload and whose probes the kubelet acts on:
# every regular container, and init containers with restartPolicy Always (sidecars).
violation contains {"msg": msg, "path": path} if {
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers"]
	containers := spec[field]
	is_array(containers)
	some i, container in containers
	long_running(field, container)
	readiness := container.readinessProbe
	is_object(readiness)
	liveness := container.livenessProbe
	is_object(liveness)
	normalized(readiness) == normalized(liveness)
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "livenessProbe"])
	msg := sprintf("%s has a livenessProbe identical to its readinessProbe: when it is only overloaded or waiting on a dependency it gets restarted instead of just taken out of rotation, turning overload into a restart storm. Point the liveness probe at a cheaper endpoint, or give it a higher failureThreshold or periodSeconds", [data.gatehouse.lib.kubernetes.container_label(field, container)])
}

long_running(field, _) if field == "containers"

long_running(field, container) if {
	field == "initContainers"
	container.restartPolicy == "Always"
}
