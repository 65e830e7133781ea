package gatehouse.terraform.backup_bucket_versioning_test

import data.gatehouse.terraform.backup_bucket_versioning as p

only(v) := x if {
	count(v) == 1
	some x in v
}

paths(v) := {x.path | some x in v}

params := {"bucketPurposes": ["backup", "(^|[^a-z0-9])logs?([^a-z0-9]|$)"]}

rc(type, name, after, unknown) := {
	"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

scw(after, unknown) := {"resource": rc("scaleway_object_bucket", "b", after, unknown), "parameters": params}

versioned := {"versioning": [{"enabled": true}]}

# --- Which buckets are judged

test_buckets_of_other_purposes_are_not_judged if {
	count(p.violation) == 0 with input as scw({"name": "gh-prod-data-uploads", "tags": {"purpose": "data"}}, {})
	count(p.violation) == 0 with input as scw({"name": "gh-prod-catalog"}, {})
	count(p.violation) == 0 with input as scw({"name": "gh-prod-blogposts", "force_destroy": true}, {})
}

test_buckets_are_judged_by_name_or_tag if {
	x := only(p.violation) with input as scw({"name": "gh-prod-backups-postgres"}, {})
	x.msg == "the bucket has no versioning block: an object overwritten or deleted is lost at once; add versioning { enabled = true } (a backup or log bucket: name gh-prod-backups-postgres)"
	x.path == ""
	y := only(p.violation) with input as scw({"name": "gh-prod-store", "tags": {"purpose": "logs", "team": "platform"}}, {})
	contains(y.msg, "(a backup or log bucket: tag purpose=logs)")
	z := only(p.violation) with input as scw({"name": "GH-PROD-LOGS"}, {})
	contains(z.msg, "name GH-PROD-LOGS")
	count(p.violation) == 1 with input as scw({"name": "pgbackup"}, {})
	count(p.violation) == 1 with input as scw({"name": "loki_log"}, {})
}

test_bucket_purposes_parameter if {
	count(p.violation) == 0 with input as scw({"name": "gh-prod-backups"}, {})
		with input.parameters as {"bucketPurposes": ["^archive-"]}
	x := only(p.violation) with input as scw({"name": "archive-2024"}, {})
		with input.parameters as {"bucketPurposes": ["^archive-"]}
	contains(x.msg, "name archive-2024")
	# Without parameters the defaults apply.
	count(p.violation) == 1 with input as {"resource": scw({"name": "gh-backups"}, {}).resource}
	# A pattern of the wrong type is ignored.
	count(p.violation) == 0 with input as scw({"name": "gh-backups"}, {})
		with input.parameters as {"bucketPurposes": [7]}
}

test_unknown_name_or_tags_make_the_bucket_judged if {
	x := only(p.violation) with input as scw({"name": null, "tags": {"purpose": "data"}}, {"name": true})
	x.path == "/name"
	x.msg == "name is known only after apply, so it cannot be checked: the bucket may hold backups or logs, and the bucket has no versioning block: an object overwritten or deleted is lost at once; add versioning { enabled = true }"
	y := only(p.violation) with input as scw({"name": "gh-prod-store", "tags": {"purpose": null}}, {"tags": {"purpose": true}})
	y.path == "/tags/purpose"
	z := only(p.violation) with input as scw({"name": "gh-prod-store", "tags": null}, {"tags": true})
	z.path == "/tags"
	# A known match decides whatever is unknown.
	w := only(p.violation) with input as scw({"name": "gh-prod-store", "tags": {"purpose": "backups", "owner": null}}, {"tags": {"owner": true}})
	w.path == ""
	# A compliant bucket passes whatever is unknown.
	count(p.violation) == 0 with input as scw(object.union(versioned, {"name": null, "tags": null}), {"name": true, "tags": true})
}

# --- Scaleway versioning

test_scaleway_versioned_buckets_pass if {
	count(p.violation) == 0 with input as scw(object.union(versioned, {"name": "gh-backups"}), {})
	count(p.violation) == 0 with input as scw({"name": "gh-backups", "object_lock_enabled": true}, {})
	count(p.violation) == 0 with input as scw(object.union(versioned, {"name": "gh-backups", "force_destroy": false}), {})
}

test_scaleway_unversioned_buckets_fail if {
	x := only(p.violation) with input as scw({"name": "gh-backups", "versioning": [{"enabled": false}]}, {})
	x.path == "/versioning/0/enabled"
	x.msg == "versioning.enabled is false: an object overwritten or deleted is lost at once (a backup or log bucket: name gh-backups)"
	y := only(p.violation) with input as scw({"name": "gh-backups", "versioning": [{}]}, {})
	startswith(y.msg, "versioning.enabled is not set")
	z := only(p.violation) with input as scw({"name": "gh-backups", "versioning": []}, {})
	z.path == ""
}

test_scaleway_wrong_types_fail_without_error if {
	x := only(p.violation) with input as scw({"name": "gh-backups", "versioning": [{"enabled": "true"}]}, {})
	startswith(x.msg, "versioning.enabled is \"true\"")
	y := only(p.violation) with input as scw({"name": "gh-backups", "versioning": {"enabled": true}}, {})
	y.path == "/versioning"
	startswith(y.msg, "versioning is ")
	count(p.violation) == 0 with input as scw({"name": 42, "tags": "backups"}, {})
	count(p.violation) == 0 with input as scw({"name": "gh-backups", "tags": ["backup"], "versioning": [{"enabled": true}]}, {})
}

test_scaleway_unknown_values_fail if {
	x := only(p.violation) with input as scw({"name": "gh-backups", "versioning": null}, {"versioning": true})
	x.path == "/versioning"
	x.msg == "versioning is known only after apply, so it cannot be checked: the bucket must be versioned (versioning { enabled = true }) (a backup or log bucket: name gh-backups)"
	y := only(p.violation) with input as scw({"name": "gh-backups", "versioning": [{"enabled": null}]}, {"versioning": [{"enabled": true}]})
	y.path == "/versioning/0/enabled"
	contains(y.msg, "known only after apply")
}

# --- force_destroy

test_force_destroy_fails_on_both_clouds if {
	x := only(p.violation) with input as scw(object.union(versioned, {"name": "gh-backups", "force_destroy": true}), {})
	x.path == "/force_destroy"
	x.msg == "force_destroy is true: destroying or replacing the bucket deletes every object and every version in it (a backup or log bucket: name gh-backups)"
	y := only(p.violation) with input as aws_bucket({"bucket": "gh-logs", "force_destroy": true}, {}, with_versioning)
	y.path == "/force_destroy"
	z := only(p.violation) with input as scw(object.union(versioned, {"name": "gh-backups", "force_destroy": null}), {"force_destroy": true})
	z.msg == "force_destroy is known only after apply, so it cannot be checked: force_destroy must be false (the default) (a backup or log bucket: name gh-backups)"
	w := only(p.violation) with input as scw(object.union(versioned, {"name": "gh-backups", "force_destroy": "false"}), {})
	startswith(w.msg, "force_destroy is \"false\"")
}

# --- AWS buckets

config(resources) := {"configuration": {"root_module": {"resources": resources}}}

bucket_config := {"address": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "name": "logs", "expressions": {}}

versioning_config(refs) := {"address": "aws_s3_bucket_versioning.logs", "type": "aws_s3_bucket_versioning", "name": "logs", "expressions": {"bucket": {"references": refs}}}

with_versioning := config([bucket_config, versioning_config(["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"])])

without_versioning := config([bucket_config, versioning_config(["aws_s3_bucket.other.id", "aws_s3_bucket.other"])])

aws_bucket(after, unknown, plan) := {"resource": rc("aws_s3_bucket", "logs", after, unknown), "plan": plan, "parameters": params}

test_aws_bucket_with_a_versioning_resource_passes if {
	count(p.violation) == 0 with input as aws_bucket({"bucket": "gh-logs"}, {}, with_versioning)
	# The deprecated inline block counts.
	count(p.violation) == 0 with input as aws_bucket({"bucket": "gh-logs", "versioning": [{"enabled": true}]}, {}, without_versioning)
	# Out of scope.
	count(p.violation) == 0 with input as aws_bucket({"bucket": "gh-uploads"}, {}, without_versioning)
	# No name at all: AWS makes a random one.
	count(p.violation) == 0 with input as aws_bucket({"bucket": null, "bucket_prefix": null}, {}, without_versioning)
}

test_aws_bucket_without_versioning_fails if {
	x := only(p.violation) with input as aws_bucket({"bucket": "gh-logs"}, {}, without_versioning)
	x.path == ""
	x.msg == "no aws_s3_bucket_versioning refers to the bucket (bucket = aws_s3_bucket.<name>.id): an object overwritten or deleted is lost at once (a backup or log bucket: name gh-logs)"
	y := only(p.violation) with input as aws_bucket({"bucket": null, "bucket_prefix": "gh-backups-"}, {"bucket": true}, without_versioning)
	contains(y.msg, "name gh-backups-")
	z := only(p.violation) with input as aws_bucket({"bucket": "gh-store", "tags": {"purpose": "backups"}}, {}, without_versioning)
	contains(z.msg, "tag purpose=backups")
}

test_aws_bucket_unknown_name_fails if {
	x := only(p.violation) with input as aws_bucket({"bucket": null, "bucket_prefix": null}, {"bucket": true, "bucket_prefix": true}, without_versioning)
	x.path == "/bucket"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as aws_bucket({"bucket": null, "bucket_prefix": null, "force_destroy": null}, {"bucket": true, "bucket_prefix": true, "force_destroy": true}, with_versioning)
	y.path == "/force_destroy"
}

# --- AWS versioning resources

versioning(after, unknown, plan) := {"resource": rc("aws_s3_bucket_versioning", "logs", after, unknown), "plan": plan, "parameters": params}

enabled := {"bucket": null, "versioning_configuration": [{"status": "Enabled"}]}

suspended := {"bucket": null, "versioning_configuration": [{"status": "Suspended"}]}

planned(buckets) := object.union(with_versioning, {"resource_changes": buckets})

logs_bucket := rc("aws_s3_bucket", "logs", {"bucket": "gh-logs"}, {})

data_bucket := rc("aws_s3_bucket", "logs", {"bucket": "gh-uploads"}, {})

test_aws_versioning_of_a_backup_bucket if {
	count(p.violation) == 0 with input as versioning(enabled, {"bucket": true}, planned([logs_bucket]))
	x := only(p.violation) with input as versioning(suspended, {"bucket": true}, planned([logs_bucket]))
	x.path == "/versioning_configuration/0/status"
	x.msg == "versioning_configuration.status is \"Suspended\", not \"Enabled\": an object overwritten or deleted is lost at once (a backup or log bucket: bucket aws_s3_bucket.logs, name gh-logs)"
	# The bucket of another purpose: not judged.
	count(p.violation) == 0 with input as versioning(suspended, {"bucket": true}, planned([data_bucket]))
}

test_aws_versioning_follows_instance_keys if {
	backups := object.union(rc("aws_s3_bucket", "logs", {"bucket": "gh-backups"}, {}), {"address": "aws_s3_bucket.logs[\"backups\"]", "index": "backups"})
	uploads := object.union(rc("aws_s3_bucket", "logs", {"bucket": "gh-uploads"}, {}), {"address": "aws_s3_bucket.logs[\"uploads\"]", "index": "uploads"})
	# for_each with each.key: the instance with the same key.
	for_uploads := object.union(versioning(suspended, {"bucket": true}, planned([backups, uploads])), {"resource": {"index": "uploads"}})
	count(p.violation) == 0 with input as for_uploads
	for_backups := object.union(versioning(suspended, {"bucket": true}, planned([backups, uploads])), {"resource": {"index": "backups"}})
	x := only(p.violation) with input as for_backups
	contains(x.msg, "bucket aws_s3_bucket.logs[\"backups\"], name gh-backups")
	# A literal index names the instance.
	literal := object.union(planned([backups, uploads]), config([bucket_config, versioning_config(["aws_s3_bucket.logs[\"uploads\"].id", "aws_s3_bucket.logs[\"uploads\"]", "aws_s3_bucket.logs"])]))
	count(p.violation) == 0 with input as versioning(suspended, {"bucket": true}, literal)
}

test_aws_versioning_without_a_linked_bucket_uses_its_own_bucket_name if {
	no_link := config([versioning_config(["var.bucket"])])
	x := only(p.violation) with input as versioning(object.union(suspended, {"bucket": "gh-backups"}), {}, no_link)
	contains(x.msg, "(a backup or log bucket: bucket gh-backups)")
	count(p.violation) == 0 with input as versioning(object.union(suspended, {"bucket": "gh-uploads"}), {}, no_link)
	y := only(p.violation) with input as versioning(suspended, {"bucket": true}, no_link)
	y.path == "/bucket"
	y.msg == "bucket is known only after apply, so it cannot be checked: the bucket may hold backups or logs, and versioning_configuration.status is \"Suspended\", not \"Enabled\": an object overwritten or deleted is lost at once"
}

test_aws_versioning_unknown_and_wrong_values if {
	x := only(p.violation) with input as versioning({"bucket": null, "versioning_configuration": null}, {"bucket": true, "versioning_configuration": true}, planned([logs_bucket]))
	x.path == "/versioning_configuration"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as versioning({"bucket": null, "versioning_configuration": [{"status": null}]}, {"bucket": true, "versioning_configuration": [{"status": true}]}, planned([logs_bucket]))
	y.path == "/versioning_configuration/0/status"
	z := only(p.violation) with input as versioning({"versioning_configuration": []}, {"bucket": true}, planned([logs_bucket]))
	z.path == "/versioning_configuration"
	w := only(p.violation) with input as versioning({"versioning_configuration": [{"status": true}]}, {}, planned([logs_bucket]))
	startswith(w.msg, "versioning_configuration.status is true")
	# The linked bucket's name unknown: judged.
	unknown_bucket := rc("aws_s3_bucket", "logs", {"bucket": null}, {"bucket": true})
	v := only(p.violation) with input as versioning(suspended, {"bucket": true}, planned([unknown_bucket]))
	v.path == "/bucket"
}
