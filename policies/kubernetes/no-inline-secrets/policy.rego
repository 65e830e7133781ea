package gatehouse.kubernetes.no_inline_secrets

# A Secret whose data or stringData holds values was written by hand, so it sits in a
# repository. Secrets written by a controller (ownerReferences) or of a type the cluster or a
# deployment tool fills in (parameter exemptTypes) are left alone.

value_fields := ["data", "stringData"]

# The keys of a data map that hold a value: an empty or null value holds no secret.
filled_keys(values) := [key |
	some key, value in values
	not value in {null, ""}
]

# Written by a controller for an object it owns (ExternalSecret, SealedSecret, Certificate...).
owned(secret) if {
	refs := secret.metadata.ownerReferences
	is_array(refs)
	count(refs) > 0
}

# A Secret without a type (or with a null one) is Opaque, as the API server defaults it.
secret_type(secret) := t if {
	t := secret.type
	t != null
} else := "Opaque"

exempt_type(secret) if {
	types := input.parameters.exemptTypes
	is_array(types)
	secret_type(secret) in types
}

checked(secret) if {
	not owned(secret)
	not exempt_type(secret)
	not data.gatehouse.lib.kubernetes.deleting
}

violation contains {"msg": msg, "path": path} if {
	secret := input.review.object
	is_object(secret)
	some field in value_fields
	values := secret[field]
	is_object(values)
	keys := filled_keys(values)
	count(keys) > 0
	checked(secret)
	path := concat("", ["/", field])
	msg := sprintf(
		"Secret %s has values committed in %s (%s): inject them at deploy time with an ExternalSecret or a SealedSecret, and rotate them",
		[quoted(data.gatehouse.lib.kubernetes.name), field, concat(", ", [quoted(k) | some k in sort(keys)])],
	)
}

# A data field that is not a map (the API server refuses it) but holds something: reported,
# since a string or a list here is still a value written in the manifest.
violation contains {"msg": msg, "path": path} if {
	secret := input.review.object
	is_object(secret)
	some field in value_fields
	values := secret[field]
	not is_object(values)
	not values in {null, "", []}
	checked(secret)
	path := concat("", ["/", field])
	msg := sprintf(
		"Secret %s sets %s to something other than a map of keys: a Secret's values are injected at deploy time with an ExternalSecret or a SealedSecret, never written in the manifest",
		[quoted(data.gatehouse.lib.kubernetes.name), field],
	)
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
