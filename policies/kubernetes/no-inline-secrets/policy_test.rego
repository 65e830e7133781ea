package gatehouse.kubernetes.no_inline_secrets_test

import data.gatehouse.kubernetes.no_inline_secrets

default_types := {"exemptTypes": ["kubernetes.io/service-account-token", "helm.sh/release.v1", "bootstrap.kubernetes.io/token"]}

secret(fields) := object.union(
	{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-credentials", "namespace": "shop"}},
	fields,
)

review_of(obj, operation, parameters) := {
	"review": {
		"kind": {"group": "", "version": "v1", "kind": "Secret"},
		"name": "db-credentials",
		"namespace": "shop",
		"operation": operation,
		"object": obj,
	},
	"parameters": parameters,
}

violations(obj) := v if {
	v := no_inline_secrets.violation with input as review_of(obj, "CREATE", default_types)
}

paths(obj) := {x.path | some x in violations(obj)}

test_data_values_are_reported_at_data_naming_the_keys if {
	v := violations(secret({"type": "Opaque", "data": {"username": "YXBw", "password": "aHVudGVyMg=="}}))
	v == {{
		"msg": "Secret \"db-credentials\" has values committed in data (\"password\", \"username\"): inject them at deploy time with an ExternalSecret or a SealedSecret, and rotate them",
		"path": "/data",
	}}
}

test_string_data_values_are_reported_at_string_data if {
	v := violations(secret({"stringData": {"DATABASE_URL": "postgres://app:hunter2@db:5432/shop"}}))
	v == {{
		"msg": "Secret \"db-credentials\" has values committed in stringData (\"DATABASE_URL\"): inject them at deploy time with an ExternalSecret or a SealedSecret, and rotate them",
		"path": "/stringData",
	}}
}

test_the_message_never_shows_a_value if {
	some x in violations(secret({"stringData": {"password": "hunter2"}}))
	not contains(x.msg, "hunter2")
}

test_both_fields_are_reported if {
	paths(secret({"data": {"a": "eA=="}, "stringData": {"b": "y"}})) == {"/data", "/stringData"}
}

test_a_secret_without_values_passes if {
	count(violations(secret({}))) == 0
	count(violations(secret({"type": "Opaque"}))) == 0
	count(violations(secret({"data": {}}))) == 0
	count(violations(secret({"data": null, "stringData": null}))) == 0
	count(violations(secret({"data": {}, "stringData": {}}))) == 0
}

test_empty_or_null_values_hold_no_secret if {
	count(violations(secret({"data": {"password": ""}, "stringData": {"token": null}}))) == 0
	v := violations(secret({"data": {"password": "", "username": "YXBw"}}))
	[x.msg | some x in v] == ["Secret \"db-credentials\" has values committed in data (\"username\"): inject them at deploy time with an ExternalSecret or a SealedSecret, and rotate them"]
}

test_every_non_exempt_type_is_checked if {
	types := ["Opaque", "kubernetes.io/tls", "kubernetes.io/dockerconfigjson", "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth"]
	found := [p | some t in types; p := paths(secret({"type": t, "data": {"k": "dg=="}}))]
	found == [{"/data"} | some _ in types]
	paths(secret({"type": null, "data": {"k": "dg=="}})) == {"/data"}
}

test_default_exempt_types_pass if {
	found := [n |
		some t in default_types.exemptTypes
		n := count(violations(secret({"type": t, "data": {"token": "dg=="}})))
	]
	found == [0, 0, 0]
}

test_exempt_types_come_from_the_parameter if {
	tls := secret({"type": "kubernetes.io/tls", "data": {"tls.crt": "Yw==", "tls.key": "aw=="}})
	count(no_inline_secrets.violation) == 0 with input as review_of(tls, "CREATE", {"exemptTypes": ["kubernetes.io/tls"]})
	token := secret({"type": "kubernetes.io/service-account-token", "data": {"token": "dg=="}})
	count(no_inline_secrets.violation) == 1 with input as review_of(token, "CREATE", {"exemptTypes": []})
	count(no_inline_secrets.violation) == 1 with input as review_of(token, "CREATE", {})
	count(no_inline_secrets.violation) == 1 with input as review_of(token, "CREATE", {"exemptTypes": "kubernetes.io/service-account-token"})
}

test_secrets_owned_by_a_controller_pass if {
	owner := {"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret", "name": "db-credentials", "uid": "0b6f6b4e-1c1e-4a39-9a65-3b7a4c1f0c2d", "controller": true}
	owned := secret({"metadata": {"name": "db-credentials", "namespace": "shop", "ownerReferences": [owner]}, "data": {"password": "aHVudGVyMg=="}})
	count(violations(owned)) == 0
}

test_empty_or_malformed_owner_references_do_not_exempt if {
	refs := [[], null, "ExternalSecret/db", {"kind": "ExternalSecret"}]
	found := [p |
		some r in refs
		p := paths(secret({"metadata": {"name": "db-credentials", "ownerReferences": r}, "data": {"k": "dg=="}}))
	]
	found == [{"/data"} | some _ in refs]
}

test_deletions_are_let_through if {
	committed := secret({"data": {"password": "aHVudGVyMg=="}})
	count(no_inline_secrets.violation) == 0 with input as review_of(committed, "DELETE", default_types)
	deleted := {"review": {"kind": {"kind": "Secret"}, "operation": "DELETE", "object": null, "oldObject": committed}, "parameters": default_types}
	count(no_inline_secrets.violation) == 0 with input as deleted
	finalizing := secret({"metadata": {"name": "db-credentials", "deletionTimestamp": "2024-05-01T10:00:00Z"}, "data": {"k": "dg=="}})
	count(no_inline_secrets.violation) == 0 with input as review_of(finalizing, "UPDATE", default_types)
	count(no_inline_secrets.violation) == 1 with input as review_of(committed, "UPDATE", default_types)
}

test_values_that_are_not_a_map_are_reported_without_error if {
	v := violations(secret({"stringData": "password=hunter2"}))
	v == {{
		"msg": "Secret \"db-credentials\" sets stringData to something other than a map of keys: a Secret's values are injected at deploy time with an ExternalSecret or a SealedSecret, never written in the manifest",
		"path": "/stringData",
	}}
	paths(secret({"data": ["aHVudGVyMg=="]})) == {"/data"}
	count(violations(secret({"data": "", "stringData": []}))) == 0
}

test_malformed_objects_raise_nothing_without_error if {
	count(no_inline_secrets.violation) == 0 with input as review_of("not a secret", "CREATE", default_types)
	count(no_inline_secrets.violation) == 0 with input as review_of(null, "CREATE", default_types)
	v := violations({"kind": "Secret", "metadata": {"name": 42}, "data": {"k": "dg=="}})
	[x.msg | some x in v] == ["Secret 42 has values committed in data (\"k\"): inject them at deploy time with an ExternalSecret or a SealedSecret, and rotate them"]
	count(violations({"kind": "Secret", "metadata": "x", "data": {"k": "dg=="}})) == 1
}
