# Backup and log buckets (parameter bucketPurposes) are versioned, and Terraform may not empty them
# (force_destroy).
package gatehouse.terraform.backup_bucket_versioning

import data.gatehouse.lib.terraform as tf
import data.gatehouse.lib.terraform_buckets as buckets

# --- Scaleway: versioning { enabled = true } on the bucket ---------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_object_bucket"
	not scaleway_versioned
	scope := buckets.bucket_scope(input.resource)
	scope != "out"
	[problem_path, problem] := scaleway_problem
	[path, msg] := report(scope, problem_path, problem, bucket_scope_text)
}

scaleway_versioned if tf.is_true(["object_lock_enabled"])

scaleway_versioned if {
	some i, _ in tf.blocks(["versioning"])
	tf.is_true(["versioning", i, "enabled"])
}

scaleway_problem := [["versioning"], "the bucket must be versioned (versioning { enabled = true })"] if {
	tf.unknown(["versioning"])
} else := [["versioning"], sprintf("versioning is %v, not a block", [tf.value(["versioning"])])] if {
	not is_array(tf.value(["versioning"]))
	tf.value(["versioning"]) != null
} else := [["versioning", 0, "enabled"], "versioning must be enabled"] if {
	tf.unknown(["versioning", 0, "enabled"])
} else := [["versioning", 0, "enabled"], sprintf("versioning.enabled is %s: an object overwritten or deleted is lost at once", [text(["versioning", 0, "enabled"])])] if {
	count(tf.blocks(["versioning"])) > 0
} else := [[], "the bucket has no versioning block: an object overwritten or deleted is lost at once; add versioning { enabled = true }"]

# --- AWS: an aws_s3_bucket_versioning refers to the bucket ----------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_s3_bucket"
	count(tf.referrers("aws_s3_bucket_versioning", "bucket")) == 0
	not tf.is_true(["versioning", 0, "enabled"])
	scope := buckets.bucket_scope(input.resource)
	scope != "out"
	problem := "no aws_s3_bucket_versioning refers to the bucket (bucket = aws_s3_bucket.<name>.id): an object overwritten or deleted is lost at once"
	[path, msg] := report(scope, [], problem, bucket_scope_text)
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_s3_bucket_versioning"
	not tf.value(["versioning_configuration", 0, "status"]) == "Enabled"
	scope := buckets.linked_scope
	scope != "out"
	[problem_path, problem] := aws_problem
	[path, msg] := report(scope, problem_path, problem, buckets.linked_match)
}

aws_problem := [["versioning_configuration"], "versioning must be enabled (status = \"Enabled\")"] if {
	tf.unknown(["versioning_configuration"])
} else := [["versioning_configuration", 0, "status"], "versioning must be enabled (status = \"Enabled\")"] if {
	tf.unknown(["versioning_configuration", 0, "status"])
} else := [["versioning_configuration", 0, "status"], sprintf("versioning_configuration.status is %s, not \"Enabled\": an object overwritten or deleted is lost at once", [text(["versioning_configuration", 0, "status"])])] if {
	count(tf.blocks(["versioning_configuration"])) > 0
} else := [["versioning_configuration"], "the resource has no versioning_configuration block"]

# --- Both: no force_destroy -----------------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type in {"scaleway_object_bucket", "aws_s3_bucket"}
	not tf.value(["force_destroy"]) in {null, false}
	scope := buckets.bucket_scope(input.resource)
	scope != "out"
	problem := force_destroy_problem
	[path, msg] := report(scope, ["force_destroy"], problem, bucket_scope_text)
}

force_destroy_problem := "force_destroy must be false (the default)" if {
	tf.unknown(["force_destroy"])
} else := sprintf("force_destroy is %s: destroying or replacing the bucket deletes every object and every version in it", [text(["force_destroy"])])

# --- Messages ------------------------------------------------------------------------------------

# A problem of a backup or log bucket, or of a bucket that may be one (its name or tags unknown).
report("in", path, problem, why) := [path, sprintf("%s (a backup or log bucket: %s)", [problem, why])]

report(scope, path, problem, _) := [path, problem] if {
	is_array(scope)
	tf.unknown(path)
}

report(scope, path, problem, _) := [scope[1], sprintf("the bucket may hold backups or logs, and %s", [problem])] if {
	is_array(scope)
	not tf.unknown(path)
}

bucket_scope_text := m if {
	m := buckets.purpose_match(input.resource)
} else := ""

text(path) := "not set" if {
	tf.value(path) == null
} else := sprintf("%q", [v]) if {
	v := tf.value(path)
	is_string(v)
} else := sprintf("%v", [tf.value(path)])
