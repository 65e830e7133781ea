package gatehouse.kubernetes.disallow_latest_tag

# Every container image names a tag other than "latest", or a digest. No tag means "latest".

# A DELETE, and an update to an object that is already being deleted, are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The JSON pointer of a container's image, built only for a violation.
image_path(field, i) := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "image"])

# An image reference, parsed as distribution/reference does:
#   [registry[:port]/]path[:tag][@digest]
# The digest follows the "@"; the tag follows a ":" in the last path segment only, so the
# ":5000" of "registry:5000/team/app" is a port, not a tag.
digest(image) := parts[1] if {
	parts := split(image, "@")
	count(parts) > 1
} else := ""

tag(image) := t if {
	name_tag := split(image, "@")[0]
	segments := split(name_tag, "/")
	last := segments[count(segments) - 1]
	pieces := split(last, ":")
	count(pieces) > 1
	t := pieces[count(pieces) - 1]
} else := ""

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
	digest(image) == ""
	t := tag(image)
	t in {"", "latest"}
	path := image_path(field, i)
	msg := sprintf("%s %s %s uses image %q, %s: latest moves, so a rollback would not bring back the image that ran; pin a version tag or a digest", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		data.gatehouse.lib.kubernetes.container_label(field, container),
		image,
		tag_text(t),
	])
}

tag_text("") := "which names no tag and so means :latest"

tag_text("latest") := "tagged latest"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
