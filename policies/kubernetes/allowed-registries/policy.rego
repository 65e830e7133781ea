package gatehouse.kubernetes.allowed_registries

# Every container image starts with one of the allowed registry or repository prefixes, once
# normalized as the container runtime reads it.

# A DELETE, and an update to an object that is already being deleted, are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The JSON pointer of a container's image, built only for a violation.
image_path(field, i) := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "image"])

# The allowed prefixes that are strings (the parameter's schema says so; a list that is not one
# allows nothing).
prefixes := {p | some p in input.parameters.registries; is_string(p)} if {
	is_array(input.parameters.registries)
} else := set()

# An image reference as the runtime reads it (distribution/reference's normalization): the
# first path segment is a registry only when it holds a "." or a ":" (a port), is "localhost",
# or has uppercase letters; otherwise the image is on Docker Hub, and a one-segment path there
# is an official image under library/.
normalized(image) := concat("/", [registry_host(first), repository(registry_host(first), rest)]) if {
	i := indexof(image, "/")
	i > 0
	first := substring(image, 0, i)
	is_registry(first)
	rest := substring(image, i + 1, count(image) - i - 1)
} else := concat("/", ["docker.io", repository("docker.io", image)])

is_registry(segment) if contains(segment, ".")

is_registry(segment) if contains(segment, ":")

is_registry(segment) if segment == "localhost"

is_registry(segment) if lower(segment) != segment

registry_host(d) := "docker.io" if {
	d == "index.docker.io"
} else := d

repository(d, p) := concat("/", ["library", p]) if {
	d == "docker.io"
	not contains(p, "/")
} else := p

allowed(reference) if {
	some prefix in prefixes
	startswith(reference, prefix)
}

violation contains {"msg": msg, "path": path} if {
	checked
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	list := spec[field]
	is_array(list)
	some i, container in list
	image := container.image
	is_string(image)
	image != ""
	reference := normalized(image)
	not allowed(reference)
	path := image_path(field, i)
	msg := sprintf("%s %s %s uses image %q%s, which is not from an allowed registry (%s): push it through CI to one of them", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		data.gatehouse.lib.kubernetes.container_label(field, container),
		image,
		normalized_text(image, reference),
		allowed_text,
	])
}

normalized_text(image, reference) := "" if {
	reference == image
} else := sprintf(" (%s)", [reference])

allowed_text := concat(", ", sort(prefixes)) if {
	count(prefixes) > 0
} else := "the registries parameter lists none"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
