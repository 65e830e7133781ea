package gatehouse.kubernetes.verify_image_signatures

# Images a signature rule covers are signed by one of its keys: input.images holds the checks
# the webhook made, by image reference as written.

checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

image_path(field, i) := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "image"])

# The covered containers: those whose image the webhook checked.
covered contains [field, i, container, result] if {
	checked
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	list := spec[field]
	is_array(list)
	some i, container in list
	is_string(container.image)
	result := input.images[container.image]
}

# A registry that could not be asked lets the image through only when its rule says so.
tolerated(check, result) if {
	check.verdict == "unavailable"
	result.onRegistryError == "allow"
}

violation contains {"msg": message(field, container, reason(result), result), "path": image_path(field, i), "details": result} if {
	some [field, i, container, result] in covered
	result.verdict != "verified"
	not tolerated(result, result)
}

# A rule that asks for a signed vulnerability attestation: the signature is not enough.
violation contains {"msg": message(field, container, attestation_reason(attestation), result), "path": image_path(field, i), "details": result} if {
	some [field, i, container, result] in covered
	result.verdict == "verified"
	attestation := result.attestation
	attestation.verdict != "passed"
	not tolerated(attestation, result)
}

message(field, container, why, result) := sprintf("%s %s %s uses image %q, %s (signature rule %q)", [
	data.gatehouse.lib.kubernetes.kind,
	quoted(data.gatehouse.lib.kubernetes.name),
	data.gatehouse.lib.kubernetes.container_label(field, container),
	container.image,
	why,
	object.get(result, "rule", "?"),
])

attestation_reason(a) := "signed, but without a signed vulnerability attestation" if a.verdict == "missing"

# Fields read leniently: a malformed verdict must still deny, with what it does say.
list(x) := x if is_array(x)

else := []

scanned(a) := object.get(a, "scannedAt", "at an unknown time")

attestation_reason(a) := sprintf("signed, but its newest signed vulnerability scan (%s) is older than the rule allows", [scanned(a)]) if {
	a.verdict == "stale"
}

attestation_reason(a) := sprintf("signed, but its signed vulnerability scan (%s) found %d at or above the rule's severity: %s", [
	scanned(a),
	count(list(a.findings)),
	concat(", ", array.slice(list(a.findings), 0, 5)),
]) if {
	a.verdict == "vulnerable"
}

attestation_reason(a) := sprintf("signed, but its vulnerability attestations are not valid: %s", [concat("; ", list(a.reasons))]) if {
	a.verdict == "invalid"
}

attestation_reason(a) := sprintf("signed, but its vulnerability attestation could not be read: %s", [object.get(a, "reason", "the registry did not answer")]) if {
	a.verdict == "unavailable"
}

attestation_reason(a) := sprintf("signed, but its attestation has the unknown verdict %q", [a.verdict]) if {
	not a.verdict in {"missing", "stale", "vulnerable", "invalid", "unavailable"}
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
