package gatehouse.terraform.backup_bucket_lifecycle_test

import data.gatehouse.terraform.backup_bucket_lifecycle as p

only(v) := x if {
	count(v) == 1
	some x in v
}

paths(v) := {x.path | some x in v}

params := {
	"retentionDays": 30, "archiveDays": 365,
	"archiveStorageClasses": ["GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"],
	"bucketPurposes": ["backup", "(^|[^a-z0-9])logs?([^a-z0-9]|$)"],
}

rc(type, name, after, unknown) := {
	"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

retention := {"enabled": true, "noncurrent_version_expiration": [{"noncurrent_days": 30}]}

archive := {"enabled": true, "transition": [{"days": 30, "storage_class": "GLACIER"}], "expiration": [{"days": 365}]}

scw(rules, unknown) := {"resource": rc("scaleway_object_bucket", "b", {"name": "gh-prod-backups", "lifecycle_rule": rules}, unknown), "parameters": params}

why := " (a backup or log bucket: name gh-prod-backups)"

# --- Scaleway

test_scaleway_retention_and_archives_pass if {
	count(p.violation) == 0 with input as scw([retention, archive], {})
	count(p.violation) == 0 with input as scw([archive], {})
	# Longer is fine; a deep archive counts.
	count(p.violation) == 0 with input as scw([{"enabled": true, "transition": [{"days": 0, "storage_class": "glacier"}], "expiration": [{"days": 730}]}], {})
	# A prefix-filtered archive rule counts, and disabled rules are ignored.
	count(p.violation) == 0 with input as scw([object.union(archive, {"prefix": "monthly/"}), {"enabled": true, "prefix": "daily/", "expiration": [{"days": 30}]}, {"enabled": false, "expiration": [{"days": 1}]}], {})
}

test_scaleway_buckets_of_other_purposes_are_not_judged if {
	count(p.violation) == 0 with input as {"resource": rc("scaleway_object_bucket", "b", {"name": "gh-prod-data-uploads", "lifecycle_rule": [{"enabled": true, "expiration": [{"days": 1}]}]}, {}), "parameters": params}
}

test_scaleway_missing_rules_fail if {
	x := only(p.violation) with input as scw([], {})
	x.path == ""
	x.msg == concat("", ["the bucket has no lifecycle rule: nothing is archived, and the 30-day retention and 365-day archives are not enforced; add rules that move objects to DEEP_ARCHIVE or GLACIER or GLACIER_IR and expire them after 365 days", why])
	y := only(p.violation) with input as {"resource": rc("scaleway_object_bucket", "b", {"name": "gh-prod-backups"}, {}), "parameters": params}
	y.path == ""
}

test_scaleway_short_expirations_fail_at_their_days if {
	x := only(p.violation) with input as scw([retention, archive, {"enabled": true, "expiration": [{"days": 7}]}], {})
	x.path == "/lifecycle_rule/2/expiration/0/days"
	x.msg == concat("", ["the lifecycle rule expires objects after 7 days, before the 30-day retention", why])
	y := only(p.violation) with input as scw([{"enabled": true, "noncurrent_version_expiration": [{"noncurrent_days": 14}]}, archive], {})
	y.path == "/lifecycle_rule/0/noncurrent_version_expiration/0/noncurrent_days"
	y.msg == concat("", ["the lifecycle rule expires noncurrent versions after 14 days, before the 30-day retention", why])
	z := only(p.violation) with input as scw([retention, archive, {"enabled": true, "expiration": [{"date": "2026-01-01"}]}], {})
	z.path == "/lifecycle_rule/2/expiration/0/date"
	contains(z.msg, "expires objects on the date 2026-01-01, whatever their age")
}

test_scaleway_missing_archive_fails_at_the_rules if {
	x := only(p.violation) with input as scw([retention], {})
	x.path == "/lifecycle_rule"
	x.msg == concat("", ["no enabled lifecycle rule moves objects to DEEP_ARCHIVE or GLACIER or GLACIER_IR and expires them no earlier than 365 days (monthly archives kept a year)", why])
	# Archived but kept less than a year.
	paths(p.violation) == {"/lifecycle_rule"} with input as scw([object.union(archive, {"expiration": [{"days": 180}]})], {})
	# Deleted before it is archived.
	only(p.violation).path == "/lifecycle_rule" with input as scw([object.union(archive, {"transition": [{"days": 400, "storage_class": "GLACIER"}]})], {})
	# Not an archive class.
	only(p.violation).path == "/lifecycle_rule" with input as scw([object.union(archive, {"transition": [{"days": 30, "storage_class": "ONEZONE_IA"}]})], {})
	# A disabled archive rule.
	only(p.violation).path == "/lifecycle_rule" with input as scw([retention, object.union(archive, {"enabled": false})], {})
}

test_scaleway_wrong_types_fail_without_error if {
	x := p.violation with input as scw([retention, object.union(archive, {"expiration": [{"days": "365"}]})], {})
	paths(x) == {"/lifecycle_rule/1/expiration/0/days", "/lifecycle_rule"}
	some xx in x
	contains(xx.msg, "expires objects after 365 days, which is not a number")
	y := only(p.violation) with input as scw("rules", {})
	y.path == "/lifecycle_rule"
	y.msg == concat("", ["lifecycle_rule is rules, not a list of rules", why])
	z := only(p.violation) with input as scw([retention, object.union(archive, {"enabled": "true"})], {})
	z.path == "/lifecycle_rule"
	count(p.violation) == 0 with input as scw([retention, object.union(archive, {"transition": [{"days": 30, "storage_class": "GLACIER"}, "x"]})], {})
}

test_scaleway_unknown_values_fail if {
	x := only(p.violation) with input as scw(null, {"lifecycle_rule": true})
	x.path == "/lifecycle_rule"
	x.msg == concat("", ["lifecycle_rule is known only after apply, so it cannot be checked: the rules may archive objects, known only after apply", why])
	y := p.violation with input as scw([retention, object.union(archive, {"expiration": [{"days": null}]})], {"lifecycle_rule": [{}, {"expiration": [{"days": true}]}]})
	count(y) == 2
	paths(p.violation) == {"/lifecycle_rule/1/expiration/0/days"} with input as scw([retention, object.union(archive, {"expiration": [{"days": null}]})], {"lifecycle_rule": [{}, {"expiration": [{"days": true}]}]})
	some yy in y
	yy.msg == "lifecycle_rule.1.expiration.0.days is known only after apply, so it cannot be checked: the lifecycle rule expires objects possibly before the 30-day retention (a backup or log bucket: name gh-prod-backups)"
	z := only(p.violation) with input as scw([retention, object.union(archive, {"enabled": null})], {"lifecycle_rule": [{}, {"enabled": true}]})
	z.path == "/lifecycle_rule/1/enabled"
	w := only(p.violation) with input as scw([retention, object.union(archive, {"transition": [{"days": 30, "storage_class": null}]})], {"lifecycle_rule": [{}, {"transition": [{"storage_class": true}]}]})
	w.path == "/lifecycle_rule/1/transition/0/storage_class"
	# A rule that may be enabled is held to the retention.
	t := only(p.violation) with input as scw([retention, archive, {"enabled": null, "expiration": [{"days": 7}]}], {"lifecycle_rule": [{}, {}, {"enabled": true}]})
	t.path == "/lifecycle_rule/2/expiration/0/days"
	# An unknown expiration of an enabled rule is reported even when archives are fine.
	v := only(p.violation) with input as scw([retention, archive, {"enabled": true, "expiration": null}], {"lifecycle_rule": [{}, {}, {"expiration": true}]})
	v.path == "/lifecycle_rule/2/expiration"
	# The bucket's name known only after apply: judged.
	u := only(p.violation) with input as {"resource": rc("scaleway_object_bucket", "b", {"name": null, "lifecycle_rule": [retention]}, {"name": true}), "parameters": params}
	u.path == "/name"
	startswith(u.msg, "name is known only after apply, so it cannot be checked: the bucket may hold backups or logs, and no enabled lifecycle rule")
}

test_parameters if {
	x := only(p.violation) with input as scw([retention, archive], {})
		with input.parameters.retentionDays as 45
	x.path == "/lifecycle_rule/0/noncurrent_version_expiration/0/noncurrent_days"
	contains(x.msg, "before the 45-day retention")
	y := only(p.violation) with input as scw([retention, archive], {})
		with input.parameters.archiveDays as 400
	contains(y.msg, "no earlier than 400 days")
	count(p.violation) == 0 with input as scw([retention, object.union(archive, {"transition": [{"days": 30, "storage_class": "STANDARD_IA"}]})], {})
		with input.parameters.archiveStorageClasses as ["STANDARD_IA"]
	# Without parameters the defaults apply.
	count(p.violation) == 0 with input as {"resource": scw([retention, archive], {}).resource}
	count(p.violation) == 1 with input as {"resource": scw([retention], {}).resource}
}

# --- AWS lifecycle configurations

aws_retention := {"id": "retention", "status": "Enabled", "filter": [{}], "noncurrent_version_expiration": [{"noncurrent_days": 30, "newer_noncurrent_versions": null}], "expiration": [], "transition": []}

aws_archive := {"id": "archive", "status": "Enabled", "filter": [{}], "transition": [{"days": 30, "storage_class": "GLACIER", "date": null}], "expiration": [{"days": 365, "date": null, "expired_object_delete_marker": false}]}

config(resources) := {"configuration": {"root_module": {"resources": resources}}}

bucket_config := {"address": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "name": "logs", "expressions": {}}

lifecycle_config(refs, rules) := {"address": "aws_s3_bucket_lifecycle_configuration.logs", "type": "aws_s3_bucket_lifecycle_configuration", "name": "logs", "expressions": {"bucket": {"references": refs}, "rule": rules}}

linked_plan(rules_config) := object.union(config([bucket_config, lifecycle_config(["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"], rules_config)]), {"resource_changes": [rc("aws_s3_bucket", "logs", {"bucket": "gh-logs"}, {})]})

lifecycle(rules, unknown, plan) := {"resource": rc("aws_s3_bucket_lifecycle_configuration", "logs", {"bucket": null, "rule": rules}, object.union({"bucket": true}, unknown)), "plan": plan, "parameters": params}

aws_why := " (a backup or log bucket: bucket aws_s3_bucket.logs, name gh-logs)"

test_aws_lifecycle_configuration_passes if {
	count(p.violation) == 0 with input as lifecycle([aws_retention, aws_archive], {}, linked_plan([]))
	# By its own bucket name, when it refers to no bucket.
	count(p.violation) == 0 with input as {"resource": rc("aws_s3_bucket_lifecycle_configuration", "logs", {"bucket": "gh-backups", "rule": [aws_retention, aws_archive]}, {}), "parameters": params}
	# The lifecycle of a data bucket is not judged.
	count(p.violation) == 0 with input as {"resource": rc("aws_s3_bucket_lifecycle_configuration", "logs", {"bucket": "gh-uploads", "rule": [{"status": "Enabled", "expiration": [{"days": 1}]}]}, {}), "parameters": params}
}

test_aws_lifecycle_configuration_fails if {
	x := only(p.violation) with input as lifecycle([aws_retention], {}, linked_plan([]))
	x.path == "/rule"
	x.msg == concat("", ["no enabled lifecycle rule moves objects to DEEP_ARCHIVE or GLACIER or GLACIER_IR and expires them no earlier than 365 days (monthly archives kept a year)", aws_why])
	y := only(p.violation) with input as lifecycle([object.union(aws_retention, {"noncurrent_version_expiration": [{"noncurrent_days": 7}]}), aws_archive], {}, linked_plan([]))
	y.path == "/rule/0/noncurrent_version_expiration/0/noncurrent_days"
	z := only(p.violation) with input as lifecycle([aws_retention, object.union(aws_archive, {"status": "Disabled"})], {}, linked_plan([]))
	z.path == "/rule"
	w := only(p.violation) with input as lifecycle([], {}, linked_plan([]))
	w.path == ""
}

test_aws_expiration_days_computed_by_the_provider_read_as_unset if {
	marker := {"status": "Enabled", "expiration": [{"days": null, "expired_object_delete_marker": true}]}
	unknown := {"rule": [{}, {}, {"expiration": [{"days": true}]}]}
	written := [{}, {}, {"expiration": [{"expired_object_delete_marker": {"constant_value": true}}]}]
	count(p.violation) == 0 with input as lifecycle([aws_retention, aws_archive, marker], unknown, linked_plan(written))
	# Written, but unknown: reported.
	written_days := [{}, {}, {"expiration": [{"days": {"references": ["var.days"]}}]}]
	x := only(p.violation) with input as lifecycle([aws_retention, aws_archive, marker], unknown, linked_plan(written_days))
	x.path == "/rule/2/expiration/0/days"
	contains(x.msg, "known only after apply")
}

test_aws_lifecycle_unknown_values_fail if {
	x := only(p.violation) with input as lifecycle(null, {"rule": true}, linked_plan([]))
	x.path == "/rule"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as lifecycle([aws_retention, object.union(aws_archive, {"status": null})], {"rule": [{}, {"status": true}]}, linked_plan([]))
	y.path == "/rule/1/status"
}

# --- AWS buckets

bucket(after, unknown, plan) := {"resource": rc("aws_s3_bucket", "logs", after, unknown), "plan": plan, "parameters": params}

test_aws_bucket_needs_a_lifecycle_configuration if {
	count(p.violation) == 0 with input as bucket({"bucket": "gh-logs"}, {"lifecycle_rule": true}, linked_plan([]))
	x := only(p.violation) with input as bucket({"bucket": "gh-logs"}, {"lifecycle_rule": true}, config([bucket_config]))
	x.path == ""
	x.msg == "no aws_s3_bucket_lifecycle_configuration refers to the bucket (bucket = aws_s3_bucket.<name>.id): nothing enforces the 30-day retention and the 365-day archives (a backup or log bucket: name gh-logs)"
	count(p.violation) == 0 with input as bucket({"bucket": "gh-uploads"}, {"lifecycle_rule": true}, config([bucket_config]))
	y := only(p.violation) with input as bucket({"bucket": null}, {"bucket": true, "lifecycle_rule": true}, config([bucket_config]))
	y.path == "/bucket"
}

test_aws_bucket_inline_rules_are_judged if {
	inline_retention := {"enabled": true, "noncurrent_version_expiration": [{"days": 30}]}
	inline_archive := {"enabled": true, "transition": [{"days": 30, "storage_class": "GLACIER"}], "expiration": [{"days": 365}]}
	count(p.violation) == 0 with input as bucket({"bucket": "gh-logs", "lifecycle_rule": [inline_retention, inline_archive]}, {}, config([bucket_config]))
	x := only(p.violation) with input as bucket({"bucket": "gh-logs", "lifecycle_rule": [{"enabled": true, "noncurrent_version_expiration": [{"days": 3}]}, inline_archive]}, {}, config([bucket_config]))
	x.path == "/lifecycle_rule/0/noncurrent_version_expiration/0/days"
}
