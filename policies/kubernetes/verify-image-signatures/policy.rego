package gatehouse.kubernetes.verify_image_signatures

# Images a signature rule covers are signed by one of its keys: input.images holds the checks
# the webhook made, by image reference as written.

checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

image_path(field, i) := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "image"])

# A registry that could not be asked lets the image through only when its rule says so.
tolerated(result) if {
	result.verdict == "unavailable"
	result.onRegistryError == "allow"
}

violation contains {"msg": msg, "path": path, "details": result} if {
	checked
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	list := spec[field]
	is_array(list)
	some i, container in list
	image := container.image
	is_string(image)
	result := input.images[image]
	result.verdict != "verified"
	not tolerated(result)
	path := image_path(field, i)
	msg := sprintf("%s %s %s uses image %q, %s (signature rule %q)", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		data.gatehouse.lib.kubernetes.container_label(field, container),
		image,
		reason(result),
		object.get(result, "rule", "?"),
	])
}

reason(r) := "which is not signed" if r.verdict == "unsigned"

reason(r) := sprintf("whose signatures are not valid for the rule's keys: %s", [concat("; ", r.reasons)]) if {
	r.verdict == "invalid"
	is_array(r.reasons)
}

reason(r) := "whose signatures are not valid for the rule's keys" if {
	r.verdict == "invalid"
	not is_array(r.reasons)
}

reason(r) := sprintf("whose signatures could not be checked: %s", [object.get(r, "reason", "the registry did not answer")]) if {
	r.verdict == "unavailable"
}

reason(r) := sprintf("which cannot be checked: %s", [object.get(r, "reason", "not an image reference")]) if {
	r.verdict == "malformed"
}

reason(r) := sprintf("with the unknown verdict %q", [r.verdict]) if {
	not r.verdict in {"unsigned", "invalid", "unavailable", "malformed"}
}

quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
