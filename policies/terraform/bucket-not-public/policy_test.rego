package gatehouse.terraform.bucket_not_public_test

import data.gatehouse.terraform.bucket_not_public as p

only(v) := x if {
	count(v) == 1
	some x in v
}

paths(v) := {x.path | some x in v}

res(type, after, unknown) := {"resource": {
	"address": sprintf("%s.main", [type]), "type": type, "name": "main", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

doc(statements) := json.marshal({"Version": "2012-10-17", "Statement": statements})

allow_role := {"Sid": "Writer", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/backup"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}

deny_all := {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}

public_read := {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}

aws_policy(policy) := res("aws_s3_bucket_policy", {"bucket": "b", "policy": policy}, {})

scw_policy(policy) := res("scaleway_object_bucket_policy", {"bucket": "b", "policy": policy}, {})

# --- Canned ACLs

test_private_acls_pass if {
	count(p.violation) == 0 with input as res("scaleway_object_bucket", {"name": "b"}, {})
	count(p.violation) == 0 with input as res("scaleway_object_bucket", {"name": "b", "acl": "private"}, {})
	count(p.violation) == 0 with input as res("scaleway_object_bucket_acl", {"bucket": "b", "acl": "private"}, {})
	count(p.violation) == 0 with input as res("aws_s3_bucket_acl", {"bucket": "b", "acl": "log-delivery-write"}, {})
	count(p.violation) == 0 with input as res("aws_s3_bucket_acl", {"bucket": "b", "acl": "bucket-owner-full-control"}, {})
}

test_public_acls_fail if {
	x := only(p.violation) with input as res("scaleway_object_bucket", {"name": "b", "acl": "public-read"}, {})
	x.path == "/acl"
	x.msg == "acl is \"public-read\": the bucket is open to everyone; use \"private\" and grant access to named identities"
	y := only(p.violation) with input as res("scaleway_object_bucket_acl", {"bucket": "b", "acl": "public-read-write"}, {})
	y.path == "/acl"
	z := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "acl": "authenticated-read"}, {})
	z.path == "/acl"
	w := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "acl": "Public-Read"}, {})
	w.path == "/acl"
}

test_acl_wrong_types_and_unknown if {
	x := only(p.violation) with input as res("scaleway_object_bucket", {"name": "b", "acl": true}, {})
	x.msg == "acl is true, not a canned ACL"
	y := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "acl": null}, {"acl": true})
	y.msg == "acl is known only after apply, so it cannot be checked: the bucket's ACL must not be public"
}

# --- ACL grants

grant(uri, permission) := {"grantee": [{"type": "Group", "uri": uri}], "permission": permission}

owner_grant := {"grantee": [{"type": "CanonicalUser", "id": "abc", "uri": null}], "permission": "FULL_CONTROL"}

acp(grants) := [{"grant": grants, "owner": [{"id": "abc"}]}]

test_grants_to_named_identities_pass if {
	count(p.violation) == 0 with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": acp([owner_grant])}, {})
	count(p.violation) == 0 with input as res("scaleway_object_bucket_acl", {"bucket": "b", "access_control_policy": acp([owner_grant])}, {})
	# With a canned ACL, the grants are the provider's computation.
	count(p.violation) == 0 with input as res("aws_s3_bucket_acl", {"bucket": "b", "acl": "private", "access_control_policy": null}, {"access_control_policy": true})
}

test_grants_to_everyone_fail_at_the_uri if {
	x := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": acp([owner_grant, grant("http://acs.amazonaws.com/groups/global/AllUsers", "READ")])}, {})
	x.path == "/access_control_policy/0/grant/1/grantee/0/uri"
	x.msg == "the ACL grants READ to http://acs.amazonaws.com/groups/global/AllUsers: the bucket is open to everyone"
	y := only(p.violation) with input as res("scaleway_object_bucket_acl", {"bucket": "b", "access_control_policy": acp([grant("http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "WRITE")])}, {})
	y.path == "/access_control_policy/0/grant/0/grantee/0/uri"
	z := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": acp([grant("http://acs.amazonaws.com/groups/global/AllUsers", null)])}, {})
	z.msg == "the ACL grants a permission to http://acs.amazonaws.com/groups/global/AllUsers: the bucket is open to everyone"
}

test_grants_unknown_and_wrong_types if {
	x := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": null}, {"access_control_policy": true})
	x.path == "/access_control_policy"
	contains(x.msg, "known only after apply")
	y := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": [{"grant": null}]}, {"access_control_policy": [{"grant": true}]})
	y.path == "/access_control_policy/0/grant"
	z := only(p.violation) with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": acp([grant(null, "READ")])}, {"access_control_policy": [{"grant": [{"grantee": [{"uri": true}]}]}]})
	z.path == "/access_control_policy/0/grant/0/grantee/0/uri"
	count(p.violation) == 0 with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": "public"}, {})
	count(p.violation) == 0 with input as res("aws_s3_bucket_acl", {"bucket": "b", "access_control_policy": [{"grant": [{"grantee": "AllUsers"}]}]}, {})
}

# --- Bucket policies

test_policies_naming_principals_pass if {
	count(p.violation) == 0 with input as aws_policy(doc([allow_role, deny_all]))
	count(p.violation) == 0 with input as scw_policy(doc([{"Effect": "Allow", "Principal": {"SCW": "application_id:7d7e9d0b"}, "Action": "s3:*"}]))
	count(p.violation) == 0 with input as aws_policy(json.marshal({"Statement": allow_role}))
	count(p.violation) == 0 with input as aws_policy(json.marshal({"Statement": [allow_role, "junk", 3]}))
	count(p.violation) == 0 with input as aws_policy(json.marshal({"Version": "2012-10-17"}))
}

test_policies_allowing_everyone_fail if {
	x := only(p.violation) with input as aws_policy(doc([allow_role, public_read]))
	x.path == "/policy"
	x.msg == "statement \"PublicRead\" allows everyone (Principal \"*\"): name the principals that need access"
	y := only(p.violation) with input as scw_policy(doc([{"Effect": "Allow", "Principal": {"SCW": "*"}, "Action": "s3:GetObject"}]))
	y.msg == "statement 0 allows everyone (Principal {\"SCW\": \"*\"}): name the principals that need access"
	z := only(p.violation) with input as aws_policy(doc([allow_role, {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}, "Action": "s3:GetObject"}]))
	z.msg == "statement 1 allows everyone (Principal {\"AWS\": \"*\"}): name the principals that need access"
	w := only(p.violation) with input as aws_policy(json.marshal({"Statement": public_read}))
	w.path == "/policy"
	v := only(p.violation) with input as aws_policy(doc([{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject"}]))
	v.msg == "statement 0 allows everyone (NotPrincipal): name the principals that need access"
	count(p.violation) == 2 with input as aws_policy(doc([public_read, object.union(public_read, {"Sid": "Second"})]))
}

test_policy_unknown_and_wrong_types if {
	x := only(p.violation) with input as res("aws_s3_bucket_policy", {"bucket": "b", "policy": null}, {"policy": true})
	x.msg == "policy is known only after apply, so it cannot be checked: the bucket policy must not allow Principal \"*\""
	y := only(p.violation) with input as aws_policy("{not json")
	y.msg == "policy is not valid JSON"
	z := only(p.violation) with input as aws_policy({"Statement": []})
	startswith(z.msg, "policy is {")
	count(p.violation) == 0 with input as aws_policy(null)
	count(p.violation) == 0 with input as aws_policy("[1, 2]")
	count(p.violation) == 0 with input as aws_policy(json.marshal({"Statement": [{"Effect": "Allow", "Principal": 7}]}))
}

# --- Public access blocks

blocked := {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}

test_full_public_access_blocks_pass if {
	count(p.violation) == 0 with input as res("aws_s3_bucket_public_access_block", object.union(blocked, {"bucket": "b"}), {})
	count(p.violation) == 0 with input as res("aws_s3_account_public_access_block", blocked, {})
}

test_partial_public_access_blocks_fail_at_each_setting if {
	x := only(p.violation) with input as res("aws_s3_bucket_public_access_block", object.union(blocked, {"block_public_policy": false}), {})
	x.path == "/block_public_policy"
	x.msg == "block_public_policy is false: all four settings of the public access block must be true"
	paths(p.violation) == {"/block_public_acls", "/block_public_policy", "/ignore_public_acls", "/restrict_public_buckets"} with input as res("aws_s3_bucket_public_access_block", {"bucket": "b"}, {})
	y := only(p.violation) with input as res("aws_s3_account_public_access_block", object.union(blocked, {"ignore_public_acls": null}), {})
	y.msg == "ignore_public_acls is not set (AWS's default is false): all four settings of the public access block must be true"
	z := only(p.violation) with input as res("aws_s3_bucket_public_access_block", object.union(blocked, {"restrict_public_buckets": "true"}), {})
	z.msg == "restrict_public_buckets is \"true\": all four settings of the public access block must be true"
	w := only(p.violation) with input as res("aws_s3_bucket_public_access_block", object.union(blocked, {"block_public_acls": null}), {"block_public_acls": true})
	w.msg == "block_public_acls is known only after apply, so it cannot be checked: block_public_acls must be true"
}
