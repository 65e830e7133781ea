package gatehouse.kubernetes.require_probes

probes := ["readinessProbe", "livenessProbe"]

violation contains {"msg": msg, "path": path} if {
	containers := data.gatehouse.lib.kubernetes.pod_spec.containers
	is_array(containers)
	some i, container in containers
	some probe in probes
	not container[probe]
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path("containers", i), probe])
	msg := sprintf("%s has no %s", [data.gatehouse.lib.kubernetes.container_label("containers", container), probe])
}
