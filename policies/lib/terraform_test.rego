package gatehouse.lib.terraform_test

import data.gatehouse.lib.terraform as tf

rc := {
	"address": "module.db[0].module.inner.aws_db_instance.main",
	"module_address": "module.db[0].module.inner",
	"mode": "managed", "type": "aws_db_instance", "name": "main",
	"change": {
		"actions": ["create"],
		"after": {"multi_az": true, "backup_retention_period": null, "tags": {"environment": "production"}, "network": [{"id": null, "mode": "private"}]},
		"after_unknown": {"backup_retention_period": true, "network": [{"id": true}]},
	},
}

plan := {"configuration": {"root_module": {"module_calls": {"db": {"module": {"module_calls": {"inner": {"module": {"resources": [
	{"address": "aws_db_instance.main", "type": "aws_db_instance", "name": "main", "expressions": {"password": {"constant_value": "hunter2"}, "username": {"references": ["var.user"]}}},
	{"address": "aws_db_instance.replica", "type": "aws_db_instance", "name": "replica", "expressions": {"replicate_source_db": {"references": ["aws_db_instance.main.identifier", "aws_db_instance.main"]}}},
	{"address": "aws_db_instance.other", "type": "aws_db_instance", "name": "other", "expressions": {"replicate_source_db": {"references": ["aws_db_instance.elsewhere"]}}},
]}}}}}}}}}

test_unknown_values_are_never_values if {
	tf.unknown(["backup_retention_period"]) with input as {"resource": rc}
	tf.unknown(["network", 0, "id"]) with input as {"resource": rc}
	not tf.unknown(["network", 0, "mode"]) with input as {"resource": rc}
	not tf.value(["backup_retention_period"]) with input as {"resource": rc}
	not tf.at_least(["backup_retention_period"], 30) with input as {"resource": rc}
	tf.is_true(["multi_az"]) with input as {"resource": rc}
	tf.value(["absent"]) == null with input as {"resource": rc}
}

test_a_wholly_unknown_parent_makes_its_children_unknown if {
	tf.unknown(["network", 0, "mode"]) with input as {"resource": object.union(rc, {"change": {"after": {}, "after_unknown": {"network": true}}})}
}

test_explain_says_why_an_unknown_value_fails if {
	tf.explain(["backup_retention_period"], "m") == "backup_retention_period is known only after apply, so it cannot be checked: m" with input as {"resource": rc}
	tf.explain(["multi_az"], "m") == "m" with input as {"resource": rc}
	tf.pointer(["network", 0, "id"]) == "/network/0/id"
	tf.pointer([]) == ""
}

test_tags_from_maps_and_lists if {
	tf.has_tag("environment", "production") with input as {"resource": rc}
	tf.tag_set(["environment=production", 3]) == {"environment=production"}
	tf.tag_set(null) == set()
}

test_configuration_of_a_nested_module_instance if {
	tf.literal(["password"]) == "hunter2" with input as {"resource": rc, "plan": plan}
	not tf.literal(["username"]) with input as {"resource": rc, "plan": plan}
	[r.name | some r in tf.referrers("aws_db_instance", "replicate_source_db")] == ["replica"] with input as {"resource": rc, "plan": plan}
}

test_root_module_resources if {
	root := {"configuration": {"root_module": {"resources": [{"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "expressions": {"acl": {"constant_value": "private"}}}]}}}
	bucket := {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "change": {"after": {}}}
	tf.literal(["acl"]) == "private" with input as {"resource": bucket, "plan": root}
}

test_numbers_and_booleans_written_as_strings_convert if {
	r := {"type": "aws_db_instance", "name": "m", "change": {"after": {"a": "30", "b": 7, "c": "true", "d": false, "e": "x"}, "after_unknown": {"f": true}}}
	tf.number(["a"]) == 30 with input as {"resource": r}
	tf.number(["b"]) == 7 with input as {"resource": r}
	not tf.number(["e"]) with input as {"resource": r}
	not tf.number(["f"]) with input as {"resource": r}
	tf.boolean(["c"]) == true with input as {"resource": r}
	tf.boolean(["d"]) == false with input as {"resource": r}
	not tf.boolean(["e"]) with input as {"resource": r}
	tf.found(["b"], "x") == "b is 7: " with input as {"resource": r}
	tf.found(["g"], "default 1") == "g is not set (default 1): " with input as {"resource": r}
	tf.found(["f"], "x") == "" with input as {"resource": r}
}

test_rds_replicas_by_value_or_by_reference if {
	replica := {"type": "aws_db_instance", "name": "r", "change": {"after": {"replicate_source_db": "orders"}}}
	tf.rds_replica with input as {"resource": replica}
	pending := {"type": "aws_db_instance", "name": "r", "change": {"after": {}, "after_unknown": {"replicate_source_db": true}}}
	config := {"configuration": {"root_module": {"resources": [{"address": "aws_db_instance.r", "expressions": {"replicate_source_db": {"references": ["aws_db_instance.main.arn", "aws_db_instance.main"]}}}]}}}
	tf.rds_replica with input as {"resource": pending, "plan": config}
	from_variable := {"configuration": {"root_module": {"resources": [{"address": "aws_db_instance.r", "expressions": {"replicate_source_db": {"references": ["var.source"]}}}]}}}
	not tf.rds_replica with input as {"resource": pending, "plan": from_variable}
	primary := {"type": "aws_db_instance", "name": "r", "change": {"after": {"replicate_source_db": null}}}
	not tf.rds_replica with input as {"resource": primary}
}

for_plan(plan) := {"resource": {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "change": {"after": {}}}, "plan": plan}

test_a_malformed_configuration_is_no_configuration_not_an_error if {
	tf.configuration == {} with input as for_plan({"configuration": {"root_module": {"resources": "oops"}}})
	tf.referrers("aws_s3_bucket_versioning", "bucket") == [] with input as for_plan({"configuration": {"root_module": {"resources": [3, {"type": "aws_s3_bucket_versioning", "expressions": {"bucket": {"references": "x"}}}]}}})
	tf.planned("aws_s3_bucket") == [] with input as for_plan({"resource_changes": {"a": 1}})
	not tf.literal(["acl"]) with input as for_plan({"configuration": []})
}

test_planned_reads_the_engine_s_module_index_when_it_is_given if {
	bucket := {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "mode": "managed", "change": {"actions": ["create"], "after": {}}}
	indexed := {"resource": bucket, "module_resources": {"aws_s3_bucket": [bucket]}, "plan": {"resource_changes": []}}
	[r.address | some r in tf.planned("aws_s3_bucket")] == ["aws_s3_bucket.b"] with input as indexed
	tf.planned("aws_s3_bucket_versioning") == [] with input as indexed
	by_plan := {"resource": bucket, "plan": {"resource_changes": [bucket]}}
	[r.address | some r in tf.planned("aws_s3_bucket")] == ["aws_s3_bucket.b"] with input as by_plan
}
