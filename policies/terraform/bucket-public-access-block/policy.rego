# Every S3 bucket has a public access block (its own, or the account's in the same module). Reads
# the configuration only.
package gatehouse.terraform.bucket_public_access_block

import data.gatehouse.lib.terraform as tf

violation contains {"msg": msg, "path": ""} if {
	input.resource.type == "aws_s3_bucket"
	count(tf.referrers("aws_s3_bucket_public_access_block", "bucket")) == 0
	not account_block
	msg := "no aws_s3_bucket_public_access_block refers to the bucket (bucket = aws_s3_bucket.<name>.id): nothing stops an ACL or bucket policy from opening it to everyone"
}

violation contains {"msg": msg, "path": "/acl"} if {
	input.resource.type == "aws_s3_bucket"
	acl := tf.literal(["acl"])
	is_string(acl)
	lower(acl) in {"public-read", "public-read-write", "authenticated-read"}
	msg := sprintf("acl is %q: the bucket is open to everyone; drop the inline ACL and disable ACLs (BucketOwnerEnforced)", [acl])
}

account_block if {
	resources := object.get(tf.configuration_module, "resources", [])
	is_array(resources)
	some r in resources
	is_object(r)
	r.type == "aws_s3_account_public_access_block"
}
