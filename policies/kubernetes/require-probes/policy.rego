package gatehouse.kubernetes.require_probes

probes := ["readinessProbe", "livenessProbe"]

violation contains {"msg": msg, "path": path} if {
	some i, container in data.gatehouse.lib.kubernetes.pod_spec.containers
	some probe in probes
	not container[probe]
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path("containers", i), probe])
	msg := sprintf("container %q has no %s", [container.name, probe])
}
