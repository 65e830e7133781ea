# Which buckets hold backups or logs, for the bucket policies (backup-bucket-versioning,
# backup-bucket-lifecycle): by name or tag against the policy's bucketPurposes parameter, which
# every policy calling these helpers declares; and the bucket an AWS sub-resource belongs to.
package gatehouse.lib.terraform_buckets

import data.gatehouse.lib.terraform as tf

# --- Which buckets hold backups or logs (parameter bucketPurposes) ------------------------------
#
# A bucket is judged when its name (AWS: bucket, else bucket_prefix) or one of its tags, as
# "key=value", matches a pattern of bucketPurposes (case-insensitive). When nothing known matches
# and the name or a tag is known only after apply, the bucket may be one: it is judged too, and the
# message says why. The helpers take a resource_changes entry, so that a versioning or lifecycle
# resource is judged by the bucket it refers to.

purpose_patterns := [sprintf("(?i)%s", [p]) |
	ps := object.get(input, ["parameters", "bucketPurposes"], ["backup", "(^|[^a-z0-9])logs?([^a-z0-9]|$)"])
	is_array(ps)
	some p in ps
	is_string(p)
]

rc_unknown(rc, path) if {
	unknown := object.get(rc, ["change", "after_unknown"], {})
	is_object(unknown)
	some n in numbers.range(1, count(path))
	object.get(unknown, array.slice(path, 0, n), false) == true
}

rc_value(rc, path) := v if {
	not rc_unknown(rc, path)
	after := object.get(rc, ["change", "after"], {})
	is_object(after)
	v := object.get(after, path, null)
}

# The name a bucket is known by now, and the path it is read from.
bucket_name(rc) := [["name"], v] if {
	rc.type == "scaleway_object_bucket"
	v := rc_value(rc, ["name"])
	is_string(v)
} else := [["bucket"], v] if {
	rc.type == "aws_s3_bucket"
	v := rc_value(rc, ["bucket"])
	is_string(v)
} else := [["bucket_prefix"], v] if {
	rc.type == "aws_s3_bucket"
	v := rc_value(rc, ["bucket_prefix"])
	is_string(v)
}

# The path of a name known only after apply.
unknown_name_path(rc) := ["name"] if {
	rc.type == "scaleway_object_bucket"
	rc_unknown(rc, ["name"])
} else := ["bucket"] if {
	rc.type == "aws_s3_bucket"
	not bucket_name(rc)
	rc_unknown(rc, ["bucket"])
} else := ["bucket_prefix"] if {
	rc.type == "aws_s3_bucket"
	not bucket_name(rc)
	rc_unknown(rc, ["bucket_prefix"])
}

known_tag_texts(rc) := {sprintf("%s=%s", [k, v]) |
	tags := rc_value(rc, ["tags"])
	is_object(tags)
	some k, v in tags
	is_string(v)
	not rc_unknown(rc, ["tags", k])
}

unknown_tags_path(rc) := ["tags"] if {
	rc_unknown(rc, ["tags"])
} else := p if {
	tags := rc_value(rc, ["tags"])
	is_object(tags)
	paths := [["tags", k] | some k, _ in tags; rc_unknown(rc, ["tags", k])]
	count(paths) > 0
	p := paths[0]
}

# What marks the bucket as a backup or log bucket: "name gh-backups" or "tag purpose=logs".
purpose_match(rc) := sprintf("name %s", [name]) if {
	[_, name] := bucket_name(rc)
	some p in purpose_patterns
	regex.match(p, name)
} else := sprintf("tag %s", [t]) if {
	matches := [t | some t in known_tag_texts(rc); some p in purpose_patterns; regex.match(p, t)]
	count(matches) > 0
	t := sort(matches)[0]
}

# "in", ["unknown", path of what is unknown], or "out".
bucket_scope(rc) := "in" if {
	purpose_match(rc)
} else := ["unknown", p] if {
	p := unknown_name_path(rc)
} else := ["unknown", p] if {
	p := unknown_tags_path(rc)
} else := "out"

# --- The bucket an AWS sub-resource (versioning, lifecycle configuration) belongs to -----------
#
# Its `bucket` argument refers to an aws_s3_bucket of the same module: `aws_s3_bucket.<name>`, with
# a literal index (`aws_s3_bucket.<name>["logs"]`) or the same count/for_each key as the
# sub-resource. Without such a reference, the sub-resource's own `bucket` value (the bucket's name)
# is matched against bucketPurposes.

all_bucket_refs := {[m[1], m[2]] |
	refs := object.get(tf.configuration, ["expressions", "bucket", "references"], [])
	is_array(refs)
	some r in refs
	is_string(r)
	some m in regex.find_all_string_submatch_n(`^aws_s3_bucket\.([A-Za-z0-9_-]+)(\[.*\])?`, r, 1)
}

# Terraform records `aws_s3_bucket.b["k"]` and `aws_s3_bucket.b` for a literal index: the index wins.
linked_bucket_refs := {[name, index] |
	some [name, index] in all_bucket_refs
	not indexed_elsewhere(name, index)
}

indexed_elsewhere(name, "") if {
	some ref in all_bucket_refs
	ref[0] == name
	ref[1] != ""
}

linked_buckets := [rc |
	some rc in tf.planned("aws_s3_bucket")
	some [name, index] in linked_bucket_refs
	rc.name == name
	same_instance(rc, index)
]

# A literal index names the instance.
same_instance(rc, index) if {
	index != ""
	json.is_valid(trim_suffix(trim_prefix(index, "["), "]"))
	object.get(rc, "index", null) == json.unmarshal(trim_suffix(trim_prefix(index, "["), "]"))
}

# Otherwise the instance with the sub-resource's own key, or every instance when none has it.
same_instance(rc, "") if {
	object.get(rc, "index", null) == object.get(input.resource, "index", null)
}

same_instance(rc, "") if {
	not instance_with_own_key
}

instance_with_own_key if {
	some rc in tf.planned("aws_s3_bucket")
	some [name, ""] in linked_bucket_refs
	rc.name == name
	object.get(rc, "index", null) == object.get(input.resource, "index", null)
}

# The scope of a sub-resource: "in", ["unknown", path], or "out".
linked_scope := "in" if {
	some rc in linked_buckets
	bucket_scope(rc) == "in"
} else := ["unknown", ["bucket"]] if {
	some rc in linked_buckets
	is_array(bucket_scope(rc))
} else := "out" if {
	count(linked_buckets) > 0
} else := "in" if {
	v := tf.value(["bucket"])
	is_string(v)
	some p in purpose_patterns
	regex.match(p, v)
} else := "out" if {
	is_string(tf.value(["bucket"]))
} else := ["unknown", ["bucket"]]

# What marks the linked bucket, for messages.
linked_match := sprintf("bucket %s, %s", [rc.address, m]) if {
	matches := [[rc, m] | some rc in linked_buckets; m := purpose_match(rc)]
	count(matches) > 0
	[rc, m] := matches[0]
} else := sprintf("bucket %s", [v]) if {
	v := tf.value(["bucket"])
	is_string(v)
} else := ""
