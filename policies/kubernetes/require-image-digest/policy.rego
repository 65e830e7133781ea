package gatehouse.kubernetes.require_image_digest

# Every container image is pinned by a sha256 digest, so that what runs is what CI scanned.

# A DELETE, and an update to an object that is already being deleted, are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The JSON pointer of a container's image, built only for a violation.
image_path(field, i) := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "image"])

# The digest of an image reference, after the "@" ([registry/]path[:tag][@digest]), or "".
# One "@", then a sha256 digest: the whole test in one builtin call, the cheapest form in regorus.
pinned(image) if regex.match(`^[^@]*@sha256:[a-f0-9]{64}$`, image)

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
	not pinned(image)
	path := image_path(field, i)
	msg := sprintf("%s %s %s uses image %q, %s: only a digest guarantees that what runs is the image CI scanned; pin it as %s@sha256:<digest>", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		data.gatehouse.lib.kubernetes.container_label(field, container),
		image,
		problem(image),
		split(image, "@")[0],
	])
}

problem(image) := "which is not pinned by digest" if {
	not contains(image, "@")
} else := "whose digest is not sha256 followed by 64 lowercase hexadecimal digits"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
