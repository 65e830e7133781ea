package gatehouse.kubernetes.pin_image_digests

# Pins every verified image to the digest that was verified (input.images, from the webhook's
# signature checks): a tag can move after the check, a digest cannot.

# A review without an operation (the scanner's) is a CREATE.
open if {
	not input.review.operation
	not input.review.object.metadata.deletionTimestamp
}

open if {
	input.review.operation == "CREATE"
	not input.review.object.metadata.deletionTimestamp
}

# The API server refuses changes to a Pod's containers and a Job's template on UPDATE.
open if {
	input.review.operation == "UPDATE"
	not input.review.object.metadata.deletionTimestamp
	not input.review.kind.kind in {"Pod", "Job"}
}

patch contains {"op": "replace", "path": path, "value": concat("@", [image, result.digest])} if {
	open
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	list := spec[field]
	is_array(list)
	some i, container in list
	image := container.image
	is_string(image)
	not contains(image, "@")
	result := input.images[image]
	result.verdict == "verified"
	regex.match(`^sha256:[a-f0-9]{64}$`, result.digest)
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "image"])
}
