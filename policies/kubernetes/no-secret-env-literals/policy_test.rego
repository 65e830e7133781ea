package gatehouse.kubernetes.no_secret_env_literals_test

import data.gatehouse.kubernetes.no_secret_env_literals

default_pattern := {"namePattern": "(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)"}

container(env) := {"name": "api", "image": "registry.example/api:1.0.0", "env": env}

pod_review(kind, spec, operation) := {
	"review": {
		"kind": {"kind": kind},
		"name": "api",
		"namespace": "shop",
		"operation": operation,
		"object": {"metadata": {"name": "api", "namespace": "shop"}, "spec": spec},
	},
	"parameters": default_pattern,
}

deployment(pod_spec) := pod_review("Deployment", {"template": {"spec": pod_spec}}, "CREATE")

violations(inp) := v if {
	v := no_secret_env_literals.violation with input as inp
}

# The paths reported for a Deployment whose only container has these env entries.
env_paths(env) := {x.path | some x in violations(deployment({"containers": [container(env)]}))}

test_a_literal_password_is_reported_at_its_value if {
	env := [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": "hunter2"}]
	v := violations(deployment({"containers": [container(env)]}))
	v == {{
		"msg": "container \"api\" of Deployment \"api\" sets DB_PASSWORD to a literal value: read it from a Secret with valueFrom.secretKeyRef instead, and rotate the committed value",
		"path": "/spec/template/spec/containers/0/env/1/value",
	}}
}

test_the_message_never_shows_the_value if {
	some x in violations(deployment({"containers": [container([{"name": "API_TOKEN", "value": "ghp_s3cr3t"}])]}))
	not contains(x.msg, "ghp_s3cr3t")
}

test_secret_like_names_match_in_any_case if {
	names := [
		"PASSWORD", "db_password", "MYSQL_ROOT_PASSWD", "JWT_SECRET", "GITHUB_TOKEN", "STRIPE_API_KEY",
		"ApiKey", "SENDGRID_APIKEY", "TLS_PRIVATE_KEY", "PRIVATEKEY", "AWS_CREDENTIALS", "REGISTRY_CREDENTIAL",
	]
	found := [p | some n in names; p := env_paths([{"name": n, "value": "x"}])]
	found == [{"/spec/template/spec/containers/0/env/0/value"} | some _ in names]
}

test_other_names_pass if {
	names := ["LOG_LEVEL", "DATABASE_HOST", "PORT", "USERNAME", "KEYCLOAK_REALM", "APIKEEPER"]
	found := [n | some name in names; n := count(env_paths([{"name": name, "value": "x"}]))]
	found == [0 | some _ in names]
}

test_value_from_passes if {
	env := [
		{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "orders-db", "key": "password"}}},
		{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}, "value": ""},
		{"name": "SECRET_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
	]
	count(env_paths(env)) == 0
}

test_empty_and_null_values_pass if {
	count(env_paths([{"name": "DB_PASSWORD", "value": ""}, {"name": "API_TOKEN", "value": null}, {"name": "JWT_SECRET"}])) == 0
}

test_file_and_path_names_are_exempt if {
	env := [
		{"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db/password"},
		{"name": "TOKEN_PATH", "value": "token.jwt"},
		{"name": "api_key_file", "value": "key"},
	]
	count(env_paths(env)) == 0
	env_paths([{"name": "DB_PASSWORD_FILENAME", "value": "x"}]) == {"/spec/template/spec/containers/0/env/0/value"}
}

test_file_path_values_pass if {
	env := [
		{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/var/run/secrets/gcp/key.json"},
		{"name": "VAULT_TOKEN", "value": "/vault/secrets/token"},
		{"name": "TLS_PRIVATE_KEY", "value": "/etc/tls/"},
	]
	count(env_paths(env)) == 0
}

test_values_that_only_look_like_paths_are_reported if {
	values := ["/s3cr3t", "/var/run/secrets/a b", "var/run/secrets/token", "/pa$$word/x", "//"]
	found := [p | some value in values; p := env_paths([{"name": "API_TOKEN", "value": value}])]
	found == [{"/spec/template/spec/containers/0/env/0/value"} | some _ in values]
}

test_variable_references_pass if {
	env := [
		{"name": "SPRING_DATASOURCE_PASSWORD", "value": "$(DB_PASSWORD)"},
		{"name": "AUTH_TOKEN", "value": "$(TOKEN_A)$(TOKEN_B)"},
	]
	count(env_paths(env)) == 0
	env_paths([{"name": "AUTH_TOKEN", "value": "Bearer $(TOKEN)"}]) == {"/spec/template/spec/containers/0/env/0/value"}
	env_paths([{"name": "AUTH_TOKEN", "value": "$$(TOKEN)"}]) == {"/spec/template/spec/containers/0/env/0/value"}
}

test_non_string_values_are_literals if {
	env_paths([{"name": "PIN_SECRET", "value": 1234}]) == {"/spec/template/spec/containers/0/env/0/value"}
	env_paths([{"name": "PIN_SECRET", "value": true}]) == {"/spec/template/spec/containers/0/env/0/value"}
}

test_init_and_ephemeral_containers_are_checked if {
	secret_env := [{"name": "MIGRATION_DB_PASSWORD", "value": "hunter2"}]
	spec := {
		"containers": [container([])],
		"initContainers": [{"name": "migrate", "env": secret_env}],
		"ephemeralContainers": [{"name": "debug", "env": [{"name": "X"}, {"name": "ADMIN_TOKEN", "value": "t"}]}],
	}
	v := violations(pod_review("Pod", spec, "CREATE"))
	{x.path | some x in v} == {"/spec/initContainers/0/env/0/value", "/spec/ephemeralContainers/0/env/1/value"}
	{x.msg | some x in v} == {
		"initContainer \"migrate\" of Pod \"api\" sets MIGRATION_DB_PASSWORD to a literal value: read it from a Secret with valueFrom.secretKeyRef instead, and rotate the committed value",
		"ephemeralContainer \"debug\" of Pod \"api\" sets ADMIN_TOKEN to a literal value: read it from a Secret with valueFrom.secretKeyRef instead, and rotate the committed value",
	}
}

test_every_workload_kind_is_checked if {
	pod := {"containers": [container([{"name": "API_KEY", "value": "k"}])]}
	paths := {kind: p |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
		p := {x.path | some x in violations(pod_review(kind, {"template": {"spec": pod}}, "CREATE"))}
	}
	count(paths) == 6
	every p in paths {
		p == {"/spec/template/spec/containers/0/env/0/value"}
	}
	{x.path | some x in violations(pod_review("Pod", pod, "CREATE"))} == {"/spec/containers/0/env/0/value"}
	cron := pod_review("CronJob", {"jobTemplate": {"spec": {"template": {"spec": pod}}}}, "CREATE")
	{x.path | some x in violations(cron)} == {"/spec/jobTemplate/spec/template/spec/containers/0/env/0/value"}
}

test_the_pattern_comes_from_the_parameter if {
	env := [{"name": "DB_PASSWORD", "value": "x"}, {"name": "SESSION_SALT", "value": "y"}]
	inp := object.union(deployment({"containers": [container(env)]}), {"parameters": {"namePattern": "^SESSION_"}})
	{x.path | some x in violations(inp)} == {"/spec/template/spec/containers/0/env/1/value"}
	anchored := object.union(deployment({"containers": [container([{"name": "SECRET_NAME", "value": "orders-db"}])]}), {"parameters": {"namePattern": "(?i)^(.*_)?SECRET$"}})
	count(violations(anchored)) == 0
}

test_deletions_are_let_through if {
	pod := {"containers": [container([{"name": "API_KEY", "value": "k"}])]}
	count(violations(pod_review("Deployment", {"template": {"spec": pod}}, "DELETE"))) == 0
	count(violations(pod_review("Deployment", {"template": {"spec": pod}}, "UPDATE"))) == 1
	finalizing := {"review": {
		"kind": {"kind": "Pod"},
		"operation": "UPDATE",
		"object": {"metadata": {"name": "api", "deletionTimestamp": "2024-05-01T10:00:00Z"}, "spec": pod},
	}, "parameters": default_pattern}
	count(violations(finalizing)) == 0
}

test_malformed_specs_raise_nothing_without_error if {
	count(violations(deployment({"containers": null, "initContainers": "migrate"}))) == 0
	count(violations(deployment({"containers": ["api", null]}))) == 0
	count(violations(deployment({"containers": [{"name": "api", "env": null}]}))) == 0
	count(violations(deployment({"containers": [{"name": "api", "env": {"DB_PASSWORD": "x"}}]}))) == 0
	count(violations(deployment({"containers": [{"name": "api", "env": ["DB_PASSWORD=x", null]}]}))) == 0
	count(violations(deployment({"containers": [{"name": "api", "env": [{"name": 7, "value": "x"}]}]}))) == 0
	count(violations(pod_review("Deployment", "not a spec", "CREATE"))) == 0
	count(violations(pod_review("Deployment", {"template": {"spec": "not a spec"}}, "CREATE"))) == 0
	unnamed := deployment({"containers": [{"env": [{"name": "API_TOKEN", "value": "t"}]}]})
	[x.msg | some x in violations(unnamed)] == ["container <unnamed> of Deployment \"api\" sets API_TOKEN to a literal value: read it from a Secret with valueFrom.secretKeyRef instead, and rotate the committed value"]
}
