package gatehouse.terraform.bucket_public_access_block_test

import data.gatehouse.terraform.bucket_public_access_block as p

only(v) := x if {
	count(v) == 1
	some x in v
}

bucket := {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "mode": "managed", "change": {"actions": ["create"], "after": {}, "after_unknown": {}}}

bucket_config(expressions) := {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "expressions": expressions}

block(refs) := {"address": "aws_s3_bucket_public_access_block.b", "type": "aws_s3_bucket_public_access_block", "name": "b", "expressions": {"bucket": {"references": refs}}}

plan(resources) := {"configuration": {"root_module": {"resources": resources}}}

test_bucket_with_its_block_passes if {
	count(p.violation) == 0 with input as {"resource": bucket, "plan": plan([bucket_config({}), block(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])])}
	count(p.violation) == 0 with input as {"resource": bucket, "plan": plan([bucket_config({}), block(["aws_s3_bucket.b", "each.key"])])}
}

test_account_block_in_the_module_passes if {
	account := {"address": "aws_s3_account_public_access_block.a", "type": "aws_s3_account_public_access_block", "name": "a", "expressions": {}}
	count(p.violation) == 0 with input as {"resource": bucket, "plan": plan([account, bucket_config({})])}
}

test_bucket_without_a_block_fails if {
	x := only(p.violation) with input as {"resource": bucket, "plan": plan([bucket_config({}), block(["aws_s3_bucket.other.id", "aws_s3_bucket.other"])])}
	x.path == ""
	x.msg == "no aws_s3_bucket_public_access_block refers to the bucket (bucket = aws_s3_bucket.<name>.id): nothing stops an ACL or bucket policy from opening it to everyone"
	y := only(p.violation) with input as {"resource": bucket, "plan": plan([bucket_config({}), block(["var.bucket"])])}
	y.path == ""
	# No configuration at all.
	z := only(p.violation) with input as {"resource": bucket}
	z.path == ""
}

test_blocks_of_other_modules_do_not_count if {
	nested := object.union(bucket, {"address": "module.s.aws_s3_bucket.b", "module_address": "module.s"})
	in_root := plan([block(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])])
	with_module := object.union(in_root, {"configuration": {"root_module": {"module_calls": {"s": {"module": {"resources": [bucket_config({})]}}}}}})
	x := only(p.violation) with input as {"resource": nested, "plan": with_module}
	x.path == ""
}

test_public_inline_acl_fails if {
	ok := [bucket_config({"acl": {"constant_value": "public-read"}}), block(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])]
	x := only(p.violation) with input as {"resource": bucket, "plan": plan(ok)}
	x.path == "/acl"
	x.msg == "acl is \"public-read\": the bucket is open to everyone; drop the inline ACL and disable ACLs (BucketOwnerEnforced)"
	private := [bucket_config({"acl": {"constant_value": "private"}}), block(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])]
	count(p.violation) == 0 with input as {"resource": bucket, "plan": plan(private)}
	computed := [bucket_config({"acl": {"references": ["var.acl"]}}), block(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])]
	count(p.violation) == 0 with input as {"resource": bucket, "plan": plan(computed)}
}

test_wrong_types_fail_without_error if {
	count(p.violation) == 0 with input as {"resource": bucket, "plan": plan([bucket_config({"acl": {"constant_value": 3}}), block(["aws_s3_bucket.b"])])}
	count(p.violation) == 1 with input as {"resource": bucket, "plan": plan([bucket_config({}), {"address": "x", "type": "aws_s3_bucket_public_access_block", "name": "x", "expressions": {"bucket": {"references": "aws_s3_bucket.b"}}}])}
}
