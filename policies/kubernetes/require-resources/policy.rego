package gatehouse.kubernetes.require_resources

# Ephemeral containers cannot take resources (the API server refuses them): they are exempt.
container_fields := ["containers", "initContainers"]

required contains ["requests", "cpu"]

required contains ["requests", "memory"]

required contains ["limits", "memory"]

required contains ["limits", "cpu"] if input.parameters.requireCpuLimit == true

reasons := {
	"requests": {
		"cpu": "CPU autoscaling computes utilisation from it, and the scheduler places the pod by it",
		"memory": "the scheduler places the pod by it",
	},
	"limits": {
		"memory": "without it, a leaking container takes memory from every pod on its node",
		"cpu": "requireCpuLimit is on",
	},
}

# A DELETE, and an update to an object that is already being deleted (its finalizers being
# removed), are let through (lib deleting): refusing them would only keep the object from going
# away.
violation contains {"msg": msg, "path": path} if {
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in container_fields
	containers := spec[field]
	is_array(containers)
	some i, container in containers
	is_object(container)
	some [section, resource] in required
	value := object.get(container, ["resources", section, resource], null)
	not is_string(value)
	not is_number(value)
	not data.gatehouse.lib.kubernetes.deleting
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "resources", section, resource])
	msg := sprintf("%s %s", [label(field, i, container), problem(section, resource, value)])
}

# Message fragments, computed only for a violation. A quantity is a string ("250m", "1Gi") or a
# number; a null is no value either.

problem(section, resource, null) := sprintf("has no resources.%s.%s: %s", [
	section,
	resource,
	reasons[section][resource],
])

problem(section, resource, value) := sprintf("sets resources.%s.%s to %s, which is not a quantity", [
	section,
	resource,
	json.marshal(value),
]) if value != null

# container_label quotes the name with %q, which refuses anything but a string.
label(field, i, container) := data.gatehouse.lib.kubernetes.container_label(field, container) if {
	is_string(container.name)
} else := sprintf("%s at index %d", [trim_suffix(field, "s"), i])
