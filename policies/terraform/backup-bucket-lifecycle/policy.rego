# Backup and log buckets (parameter bucketPurposes) keep retentionDays of history and archiveDays
# of archives.
#
# The rules of the three shapes (Scaleway lifecycle_rule, AWS lifecycle configuration rule, AWS
# inline lifecycle_rule) are described as objects of paths; the judgement is then the same.
package gatehouse.terraform.backup_bucket_lifecycle

import data.gatehouse.lib.terraform as tf
import data.gatehouse.lib.terraform_buckets as buckets

retention_days := n if {
	n := input.parameters.retentionDays
	is_number(n)
} else := 30

archive_days := n if {
	n := input.parameters.archiveDays
	is_number(n)
} else := 365

archive_classes := {upper(c) |
	cs := object.get(input, ["parameters", "archiveStorageClasses"], ["GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"])
	is_array(cs)
	some c in cs
	is_string(c)
}

archive_text := concat(" or ", sort(archive_classes))

# --- The rule list of the resource and its shape --------------------------------------------------

container := ["lifecycle_rule"] if {
	input.resource.type in {"scaleway_object_bucket", "aws_s3_bucket"}
} else := ["rule"] if {
	input.resource.type == "aws_s3_bucket_lifecycle_configuration"
}

rules := [{
	"base": array.concat(container, [i]),
	"enabled": array.concat(container, [i, enabled_key]),
} |
	some i, _ in tf.blocks(container)
]

enabled_key := "status" if input.resource.type == "aws_s3_bucket_lifecycle_configuration"

else := "enabled"

noncurrent_days_key := "days" if input.resource.type == "aws_s3_bucket"

else := "noncurrent_days"

# The rule is enabled, or may be (known only after apply).
may_run(rule) if tf.unknown(rule.enabled)

may_run(rule) if runs(rule)

runs(rule) if {
	input.resource.type == "aws_s3_bucket_lifecycle_configuration"
	tf.value(rule.enabled) == "Enabled"
}

runs(rule) if {
	input.resource.type != "aws_s3_bucket_lifecycle_configuration"
	tf.is_true(rule.enabled)
}

unknown_value(path) if {
	tf.unknown(path)
	not tf.computed_unset(path)
}

# --- Retention: nothing is deleted before retentionDays ---------------------------------------------

# [path, message] of each retention problem of a rule.
retention_problems contains [path, sprintf("the lifecycle rule expires objects %s", [when])] if {
	some rule in rules
	may_run(rule)
	some [path, when] in expiration_problems(array.concat(rule.base, ["expiration"]), "days")
}

retention_problems contains [path, sprintf("the lifecycle rule expires noncurrent versions %s", [when])] if {
	some rule in rules
	may_run(rule)
	some [path, when] in expiration_problems(array.concat(rule.base, ["noncurrent_version_expiration"]), noncurrent_days_key)
}

expiration_problems(blocks_path, days_key) := {[blocks_path, sprintf("possibly before the %d-day retention", [retention_days])]} if {
	tf.unknown(blocks_path)
} else := {problem |
	some j, _ in tf.blocks(blocks_path)
	some problem in day_problems(array.concat(blocks_path, [j]), days_key)
}

day_problems(block, key) := ((too_early(array.concat(block, [key])) | unknown_days(array.concat(block, [key]))) | not_days(array.concat(block, [key]))) | dated(array.concat(block, ["date"]))

too_early(p) := {[p, sprintf("after %v days, before the %d-day retention", [v, retention_days])] |
	v := tf.value(p)
	is_number(v)
	v < retention_days
}

unknown_days(p) := {[p, sprintf("possibly before the %d-day retention", [retention_days])] | unknown_value(p)}

not_days(p) := {[p, sprintf("after %v days, which is not a number", [v])] |
	v := tf.value(p)
	v != null
	not is_number(v)
}

dated(p) := {[p, sprintf("on the date %v, whatever their age", [v])] |
	v := tf.value(p)
	v != null
	v != ""
} | {[p, "possibly on a fixed date, whatever their age"] | unknown_value(p)}

# --- Archives: a rule moves objects to an archive class and keeps them archiveDays --------------

archives(rule) if {
	runs(rule)
	some t in tf.blocks(array.concat(rule.base, ["transition"]))
	class := object.get(t, "storage_class", null)
	is_string(class)
	upper(class) in archive_classes
	some e in tf.blocks(array.concat(rule.base, ["expiration"]))
	expire := object.get(e, "days", null)
	is_number(expire)
	expire >= archive_days
	moved := transition_day(t)
	moved < expire
}

# A transition on a date (days unset) moves objects once that date is past: day 0 for the order.
transition_day(t) := d if {
	d := object.get(t, "days", null)
	is_number(d)
} else := 0 if {
	object.get(t, "days", null) == null
}

archived if {
	some rule in rules
	archives(rule)
}

# Where a value known only after apply may hide an archive rule.
archive_unknowns := [p |
	some rule in rules
	some p in archive_paths(rule)
	unknown_value(p)
]

archive_paths(rule) := array.concat(
	array.concat([rule.enabled], [array.concat(rule.base, [k]) | some k in ["transition", "expiration"]]),
	array.concat(
		[array.concat(rule.base, ["transition", k, attr]) |
			some k, _ in tf.blocks(array.concat(rule.base, ["transition"]))
			some attr in ["storage_class", "days"]
		],
		[array.concat(rule.base, ["expiration", k, "days"]) | some k, _ in tf.blocks(array.concat(rule.base, ["expiration"]))],
	),
)

archive_problem := [container, "the rules may archive objects, known only after apply"] if {
	tf.unknown(container)
} else := [p, sprintf("a rule must move objects to %s and expire them no earlier than %d days", [archive_text, archive_days])] if {
	count(archive_unknowns) > 0
	p := archive_unknowns[0]
} else := [container, sprintf("%s is %v, not a list of rules", [tf.dotted(container), tf.value(container)])] if {
	v := tf.value(container)
	v != null
	not is_array(v)
} else := [[], sprintf("the bucket has no lifecycle rule: nothing is archived, and the %d-day retention and %d-day archives are not enforced; add rules that move objects to %s and expire them after %d days", [retention_days, archive_days, archive_text, archive_days])] if {
	count(rules) == 0
} else := [container, sprintf("no enabled lifecycle rule moves objects to %s and expires them no earlier than %d days (monthly archives kept a year)", [archive_text, archive_days])]

# --- Violations ----------------------------------------------------------------------------------

judged if input.resource.type == "scaleway_object_bucket"

judged if {
	input.resource.type == "aws_s3_bucket"
	inline_rules
}

judged if input.resource.type == "aws_s3_bucket_lifecycle_configuration"

# The deprecated inline rules of aws_s3_bucket, when written (in a plan they are computed).
inline_rules if count(tf.blocks(["lifecycle_rule"])) > 0

resource_scope := buckets.bucket_scope(input.resource) if {
	input.resource.type in {"scaleway_object_bucket", "aws_s3_bucket"}
} else := buckets.linked_scope

scope_reason := buckets.purpose_match(input.resource) if {
	input.resource.type in {"scaleway_object_bucket", "aws_s3_bucket"}
	buckets.purpose_match(input.resource)
} else := buckets.linked_match if {
	input.resource.type == "aws_s3_bucket_lifecycle_configuration"
} else := ""

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	judged
	resource_scope != "out"
	some [problem_path, problem] in retention_problems
	[path, msg] := report(resource_scope, problem_path, problem, scope_reason)
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	judged
	resource_scope != "out"
	not archived
	[problem_path, problem] := archive_problem
	[path, msg] := report(resource_scope, problem_path, problem, scope_reason)
}

# An AWS bucket needs a lifecycle configuration (or the inline rules).
violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_s3_bucket"
	not inline_rules
	count(tf.referrers("aws_s3_bucket_lifecycle_configuration", "bucket")) == 0
	resource_scope != "out"
	problem := sprintf("no aws_s3_bucket_lifecycle_configuration refers to the bucket (bucket = aws_s3_bucket.<name>.id): nothing enforces the %d-day retention and the %d-day archives", [retention_days, archive_days])
	[path, msg] := report(resource_scope, [], problem, scope_reason)
}

# --- Messages ------------------------------------------------------------------------------------

report("in", path, problem, reason) := [path, sprintf("%s (a backup or log bucket: %s)", [problem, reason])]

report(scope, path, problem, _) := [path, problem] if {
	is_array(scope)
	tf.unknown(path)
}

report(scope, path, problem, _) := [scope[1], sprintf("the bucket may hold backups or logs, and %s", [problem])] if {
	is_array(scope)
	not tf.unknown(path)
}
