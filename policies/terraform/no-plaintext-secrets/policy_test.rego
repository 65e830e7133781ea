package gatehouse.terraform.no_plaintext_secrets_test

import data.gatehouse.terraform.no_plaintext_secrets as p

change(type, name) := {
	"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed",
	"change": {"actions": ["create"], "after": {}, "after_unknown": {}, "after_sensitive": {}},
}

config(type, name, expressions) := {"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed", "expressions": expressions}

# One resource of the root module, with its configuration.
one(type, expressions) := {"resource": change(type, "main"), "plan": {
	"configuration": {"root_module": {"resources": [config(type, "main", expressions)]}},
	"resource_changes": [change(type, "main")],
}}

lit(v) := {"constant_value": v}

ref(r) := {"references": [r]}

paths(v) := {x.path | some x in v}

# --- Resource attributes ---------------------------------------------------------------------

test_references_and_computed_values_pass if {
	count(p.violation) == 0 with input as one("scaleway_rdb_instance", {
		"name": lit("prod-main"),
		"password": ref("var.db_admin_password"),
		"user_name": lit("gatehouse_admin"),
		"tags": lit(["environment=production", "secret-rotation=90d"]),
	})
	count(p.violation) == 0 with input as one("aws_secretsmanager_secret_version", {"secret_id": ref("aws_secretsmanager_secret.db.id"), "secret_string": {}})
}

test_password_literal_fails_at_the_attribute if {
	v := p.violation with input as one("scaleway_rdb_instance", {"password": lit("correct-horse-battery-staple")})
	[x | some x in v] == [{"path": "/password", "msg": "password is written as a literal in the configuration (its name says it holds a secret): a secret committed to the repository"}]
}

test_the_message_never_shows_the_secret if {
	v := p.violation with input as one("aws_db_instance", {"password": lit("correct-horse-battery-staple")})
	some x in v
	not contains(x.msg, "correct-horse")
}

test_write_only_and_other_secret_names_fail if {
	paths(p.violation) == {"/password_wo"} with input as one("aws_db_instance", {"password_wo": lit("s3cr3t-value"), "password_wo_version": lit(1)})
	paths(p.violation) == {"/master_password"} with input as one("aws_rds_cluster", {"master_password": lit("s3cr3t-value")})
	paths(p.violation) == {"/auth_token"} with input as one("aws_elasticache_replication_group", {"auth_token": lit("s3cr3t-value-s3cr3t"), "auth_token_update_strategy": lit("ROTATE")})
	paths(p.violation) == {"/private_key"} with input as one("aws_iam_server_certificate", {"private_key": lit("-----BEGIN PRIVATE KEY-----\nxyz"), "certificate_body": lit("-----BEGIN CERTIFICATE-----")})
}

test_nested_blocks_and_map_keys_are_searched if {
	v := p.violation with input as one("aws_lambda_function", {
		"function_name": lit("api"),
		"environment": [{"variables": lit({"DB_PASSWORD": "hunter2hunter2", "MODE": "production", "StripeApiKey": "sk-test-123"})}],
	})
	paths(v) == {"/environment/0/variables/DB_PASSWORD", "/environment/0/variables/StripeApiKey"}
}

test_every_string_under_a_secret_named_attribute_fails if {
	v := p.violation with input as one("scaleway_container", {
		"environment_variables": lit({"LOG_LEVEL": "info"}),
		"secret_environment_variables": lit({"DATABASE_URL": "postgres://app:pw@db:5432/app", "EMPTY": ""}),
	})
	paths(v) == {"/secret_environment_variables/DATABASE_URL"}
}

test_the_nearest_name_decides_the_allow_list if {
	v := p.violation with input as one("vault_generic_endpoint", {"data_json": lit({"credentials": {"client_id": "app-42", "client_secret": "abc123def"}})})
	paths(v) == {"/data_json/credentials/client_secret"}
}

test_allow_listed_names_and_values_pass if {
	count(p.violation) == 0 with input as one("aws_instance", {
		"key_name": lit("deployer"),
		"metadata_options": [{"http_tokens": lit("required")}],
		"root_block_device": [{"kms_key_id": lit("arn:aws:kms:eu-west-1:123456789012:key/1234")}],
	})
	count(p.violation) == 0 with input as one("aws_efs_file_system", {"creation_token": lit("prod-shared")})
	count(p.violation) == 0 with input as one("aws_secretsmanager_secret_version", {"secret_id": lit("prod/db/admin"), "secret_string_wo_version": lit(1)})
	count(p.violation) == 0 with input as one("aws_apprunner_service", {"runtime_environment_secrets": lit({"DB_PASSWORD": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"})})
	count(p.violation) == 0 with input as one("kubernetes_deployment", {"env_from": [{"secret_ref": [{"name": lit("db-credentials")}]}]})
}

test_empty_and_non_string_literals_pass if {
	count(p.violation) == 0 with input as one("aws_db_instance", {"password": lit(""), "master_password": lit("   "), "manage_master_user_password": lit(true), "password_length": lit(32)})
	count(p.violation) == 0 with input as one("aws_db_instance", {"password": lit(null)})
}

test_secret_resources_content_fails_whatever_its_name if {
	paths(p.violation) == {"/data"} with input as one("scaleway_secret_version", {"secret_id": ref("scaleway_secret.db.id"), "data": lit("s3cr3t"), "description": lit("admin password")})
	paths(p.violation) == {"/secret_string"} with input as one("aws_secretsmanager_secret_version", {"secret_id": ref("aws_secretsmanager_secret.db.id"), "secret_string": lit("{\"password\":\"s3cr3t\"}")})
	v := p.violation with input as one("kubernetes_secret_v1", {"metadata": [{"name": lit("db"), "namespace": lit("apps")}], "type": lit("kubernetes.io/basic-auth"), "data": lit({"username": "app", "password": "s3cr3t"})})
	paths(v) == {"/data/username", "/data/password"}
	some x in v
	x.msg == "data.username is written as a literal in the configuration (the content of a secret): a secret committed to the repository"
}

test_helm_values_by_name if {
	v := p.violation with input as one("helm_release", {
		"chart": lit("postgresql"),
		"set": [
			{"name": lit("auth.postgresPassword"), "value": lit("s3cr3t")},
			{"name": lit("auth.existingSecret"), "value": lit("pg-credentials")},
			{"name": lit("primary.persistence.size"), "value": lit("20Gi")},
		],
		"set_sensitive": [{"name": lit("auth.replicationPasswordHash"), "value": lit("abc"), "type": lit("string")}],
	})
	paths(v) == {"/set/0/value", "/set_sensitive/0/value"}
	some x in v
	x.msg == "set.0.value is written as a literal in the configuration (the value of auth.postgresPassword): a secret committed to the repository"

	# helm provider v3: `set` is a list attribute.
	w := p.violation with input as one("helm_release", {"set": lit([{"name": "metrics.enabled", "value": "true"}, {"name": "redis.auth.password", "value": "s3cr3t"}])})
	paths(w) == {"/set/1/value"}
}

test_kubernetes_env_block_by_name if {
	v := p.violation with input as one("kubernetes_deployment_v1", {"spec": [{"template": [{"spec": [{"container": [{"env": [
		{"name": lit("API_TOKEN"), "value": lit("t0k3n")},
		{"name": lit("LOG_LEVEL"), "value": lit("info")},
	]}]}]}]}]})
	paths(v) == {"/spec/0/template/0/spec/0/container/0/env/0/value"}
}

test_ssm_secure_string_value_fails if {
	paths(p.violation) == {"/value"} with input as one("aws_ssm_parameter", {"name": lit("/prod/db/url"), "type": lit("SecureString"), "value": lit("postgres://...")})
	count(p.violation) == 0 with input as one("aws_ssm_parameter", {"name": lit("/prod/db/host"), "type": lit("String"), "value": lit("db.internal")})
}

test_attributes_the_provider_marks_sensitive_fail if {
	input_ := one("datadog_integration_aws", {"role_name": lit("DatadogRole"), "extra": lit({"k": "v"})})
	sensitive := {"extra": true}
	v := p.violation with input as object.union(input_, {"resource": {"change": {"after_sensitive": sensitive}}})
	paths(v) == {"/extra/k"}
	some x in v
	endswith(x.msg, "(an attribute the provider marks sensitive): a secret committed to the repository")
}

test_malformed_configuration_does_not_error if {
	count(p.violation) == 0 with input as one("aws_db_instance", "password")
	count(p.violation) == 0 with input as one("aws_db_instance", {"password": "hunter2", "block": [null, 3, {"x": {"constant_value": null}}]})
	count(p.violation) == 0 with input as {"resource": change("aws_db_instance", "main"), "plan": {}}
	count(p.violation) == 0 with input as {"resource": change("aws_db_instance", "main"), "plan": {"resource_changes": "x", "configuration": []}}
}

test_parameters if {
	i := one("aws_db_instance", {"password": lit("hunter2hunter2"), "pin": lit("1234"), "note": lit("vault:kv/db")})
	paths(p.violation) == {"/pin"} with input as i with input.parameters as {"secretNamePatterns": ["^pin$"]}
	paths(p.violation) == {"/pin"} with input as i with input.parameters as {"secretNamePatterns": ["^pin$", 7]}
	count(p.violation) == 0 with input as i with input.parameters as {"allowedNamePatterns": ["^password$"], "secretNamePatterns": ["passw"]}
	count(p.violation) == 0 with input as i with input.parameters as {"allowedValuePatterns": ["^hunter"]}
	paths(p.violation) == {"/password", "/note"} with input as i with input.parameters as {"secretValueAttributes": {"aws_db_instance": ["note"]}}
	paths(p.violation) == {"/password"} with input as i with input.parameters as {"secretNamePatterns": "pin", "secretValueAttributes": ["x"]}
	paths(p.violation) == {"/password"} with input as i with input.parameters as {"secretValueAttributes": {"aws_db_instance": "note"}}
}

# --- Outside resources -----------------------------------------------------------------------

plan_of(root, changes) := {"configuration": {"root_module": root}, "resource_changes": changes}

first := change("aws_db_instance", "main")

second := change("aws_s3_bucket", "logs")

root_with(extra) := object.union({"resources": [config("aws_db_instance", "main", {}), config("aws_s3_bucket", "logs", {})]}, extra)

test_secret_variable_default_is_reported_once_on_the_first_resource if {
	root := root_with({"variables": {
		"db_password": {"default": "hunter2hunter2", "sensitive": true},
		"region": {"default": "eu-west-1"},
		"api_token": {"default": null},
	}})
	v := p.violation with input as {"resource": first, "plan": plan_of(root, [first, second])}
	[x | some x in v] == [{"path": "", "msg": "variable \"db_password\" (root module) has a default written in the configuration: a secret committed to the repository; remove the default and let the pipeline set it (TF_VAR_db_password)"}]
	count(p.violation) == 0 with input as {"resource": second, "plan": plan_of(root, [first, second])}
}

test_sensitive_and_nested_defaults if {
	root := root_with({"variables": {
		"bootstrap": {"default": "opaque", "sensitive": true},
		"database": {"default": {"host": "db", "password": "pw1", "replicas": [{"name": "r1", "password": "pw2"}]}},
		"settings": {"default": {"env": [{"name": "API_KEY", "value": "k"}, {"name": "MODE", "value": "prod"}]}},
	}})
	v := p.violation with input as {"resource": first, "plan": plan_of(root, [first, second])}
	{x.msg | some x in v} == {
		"variable \"bootstrap\" (root module) has a default written in the configuration: a secret committed to the repository; remove the default and let the pipeline set it (TF_VAR_bootstrap)",
		"variable \"database\" (root module) has a default written in the configuration (at default.password, default.replicas.0.password): a secret committed to the repository; remove the default and let the pipeline set it (TF_VAR_database)",
		"variable \"settings\" (root module) has a default written in the configuration (at default.env.0.value): a secret committed to the repository; remove the default and let the pipeline set it (TF_VAR_settings)",
	}
}

test_anchor_skips_deleted_resources_and_data_sources if {
	root := root_with({"variables": {"db_password": {"default": "hunter2hunter2"}}})
	gone := object.union(change("aws_db_instance", "old"), {"change": {"actions": ["delete"]}})
	read := object.union(change("aws_iam_policy_document", "p"), {"mode": "data"})
	paths(p.violation) == {""} with input as {"resource": second, "plan": plan_of(root, [gone, read, second, first])}
	count(p.violation) == 0 with input as {"resource": first, "plan": plan_of(root, [gone, read, second, first])}
}

module_resource(address, name) := object.union(change("scaleway_rdb_instance", name), {"address": sprintf("%s.scaleway_rdb_instance.%s", [address, name]), "module_address": address})

test_module_variables_are_anchored_in_their_module if {
	db := {"resources": [config("scaleway_rdb_instance", "main", {})], "variables": {"api_token": {"default": "t0k3n"}}}
	root := root_with({"module_calls": {"db": {"source": "./modules/db", "expressions": {}, "module": db}}})
	in_db0 := module_resource("module.db[0]", "main")
	in_db1 := module_resource("module.db[1]", "main")
	plan := plan_of(root, [first, in_db0, in_db1, second])
	v := p.violation with input as {"resource": in_db0, "plan": plan}
	[x | some x in v] == [{"path": "", "msg": "variable \"api_token\" (module.db) has a default written in the configuration: a secret committed to the repository; remove the default and pass it in the module call, from a variable the pipeline sets"}]
	count(p.violation) == 0 with input as {"resource": in_db1, "plan": plan}
	count(p.violation) == 0 with input as {"resource": first, "plan": plan}
}

test_a_root_without_resources_is_anchored_on_the_plans_first_resource if {
	db := {"resources": [config("scaleway_rdb_instance", "main", {})], "module_calls": {"inner": {"module": {"variables": {"token": {"default": "t0k3n"}}}}}}
	root := {
		"variables": {"scw_secret_key": {"default": "11111111-2222-3333-4444-555555555555"}},
		"module_calls": {"database": {"source": "../modules/db", "expressions": {
			"admin_password": lit("hunter2hunter2"),
			"bootstrap": lit({"a": "b"}),
			"name": lit("prod"),
			"network_id": ref("module.network.id"),
		}, "module": object.union(db, {"variables": {"bootstrap": {"sensitive": true}, "admin_password": {"sensitive": true}}})}},
	}
	in_db := module_resource("module.database", "main")
	v := p.violation with input as {"resource": in_db, "plan": plan_of(root, [in_db])}
	{x.msg | some x in v} == {
		"variable \"scw_secret_key\" (root module) has a default written in the configuration: a secret committed to the repository; remove the default and let the pipeline set it (TF_VAR_scw_secret_key)",
		"module \"database\" (called in the root module) is given admin_password as a literal (its name says it holds a secret): a secret committed to the repository",
		"module \"database\" (called in the root module) is given bootstrap.a as a literal (a variable the module declares sensitive): a secret committed to the repository",
		"variable \"token\" (module.database.module.inner) has a default written in the configuration: a secret committed to the repository; remove the default and pass it in the module call, from a variable the pipeline sets",
	}
	paths(v) == {""}
}

test_provider_configuration_literals_are_reported if {
	root := root_with({})
	plan := object.union(plan_of(root, [first, second]), {"configuration": {"provider_config": {
		"scaleway": {"name": "scaleway", "expressions": {"access_key": lit("SCWXXXXXXXXXXXXXXXXX"), "secret_key": lit("11111111-2222-3333-4444-555555555555"), "region": lit("fr-par")}},
		"aws": {"name": "aws", "expressions": {"region": lit("eu-west-1"), "assume_role": [{"role_arn": lit("arn:aws:iam::123456789012:role/ci")}]}},
	}}})
	v := p.violation with input as {"resource": first, "plan": plan}
	{x.msg | some x in v} == {
		"provider \"scaleway\" is configured with access_key as a literal (its name says it holds a secret): a secret committed to the repository",
		"provider \"scaleway\" is configured with secret_key as a literal (its name says it holds a secret): a secret committed to the repository",
	}
	count(p.violation) == 0 with input as {"resource": second, "plan": plan}
}

test_tfvars_values_in_a_static_reading if {
	root := root_with({"variables": {"db_password": {"sensitive": true}, "region": {}, "api_key": {"default": "k"}}})
	plan := object.union(plan_of(root, [first, second]), {"gatehouse": {"static": true}, "variables": {
		"db_password": {"value": "hunter2hunter2"},
		"region": {"value": "eu-west-1"},
		"api_key": {"value": "k"},
	}})
	v := p.violation with input as {"resource": first, "plan": plan}
	{x.msg | some x in v} == {
		"variable \"db_password\" is given a value in terraform.tfvars or a *.auto.tfvars file: a secret committed to the repository; let the pipeline set it (TF_VAR_db_password)",
		"variable \"api_key\" (root module) has a default written in the configuration: a secret committed to the repository; remove the default and let the pipeline set it (TF_VAR_api_key)",
	}

	# In a plan from terraform, variables hold what the pipeline set: not read.
	w := p.violation with input as {"resource": first, "plan": object.remove(plan, ["gatehouse"])}
	count(w) == 1
}

test_urls_with_a_password_fail_whatever_their_name if {
	v := p.violation with input as one("scaleway_container", {
		"environment_variables": lit({
			"DATABASE_URL": "postgres://app:s3cr3t@db.internal:5432/app",
			"API_URL": "https://api.example.com/v1",
			"GIT_URL": "ssh://git@github.com/org/repo.git",
		}),
		"registry_image": lit("rg.fr-par.scw.cloud/gatehouse/api:1.4.2"),
	})
	[x | some x in v] == [{"path": "/environment_variables/DATABASE_URL", "msg": "environment_variables.DATABASE_URL is written as a literal in the configuration (a URL with a password in it): a secret committed to the repository"}]
	root := root_with({"variables": {"broker": {"default": {"url": "amqp://guest:guest@rabbit:5672/"}}}})
	w := p.violation with input as {"resource": first, "plan": plan_of(root, [first, second])}
	paths(w) == {""}
}
