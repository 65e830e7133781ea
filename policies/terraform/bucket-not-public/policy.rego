# Object storage buckets are never open to everyone: no public canned ACL, no ACL grant to the
# AllUsers or AuthenticatedUsers groups, no bucket policy that allows Principal "*", and (AWS)
# public access blocks with all four settings on.
package gatehouse.terraform.bucket_not_public

import data.gatehouse.lib.terraform as tf

public_acls := {"public-read", "public-read-write", "authenticated-read"}

public_groups := {
	"http://acs.amazonaws.com/groups/global/AllUsers",
	"http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

acl_types := {"scaleway_object_bucket", "scaleway_object_bucket_acl", "aws_s3_bucket_acl"}

# --- Canned ACLs ---------------------------------------------------------------------------------

violation contains {"msg": tf.explain(["acl"], msg), "path": "/acl"} if {
	input.resource.type in acl_types
	not private_acl
	msg := acl_message
}

private_acl if tf.value(["acl"]) == null

private_acl if {
	v := tf.value(["acl"])
	is_string(v)
	not lower(v) in public_acls
}

acl_message := "the bucket's ACL must not be public" if {
	tf.unknown(["acl"])
} else := sprintf("acl is %q: the bucket is open to everyone; use \"private\" and grant access to named identities", [tf.value(["acl"])]) if {
	is_string(tf.value(["acl"]))
} else := sprintf("acl is %v, not a canned ACL", [tf.value(["acl"])])

# --- ACL grants ----------------------------------------------------------------------------------

# Read only when no canned ACL is set: with one, the provider computes the grants from it.
grants_judged if {
	input.resource.type in {"scaleway_object_bucket_acl", "aws_s3_bucket_acl"}
	tf.value(["acl"]) == null
}

violation contains {"msg": tf.explain(["access_control_policy"], msg), "path": "/access_control_policy"} if {
	grants_judged
	tf.unknown(["access_control_policy"])
	msg := "the bucket's ACL grants must not include the AllUsers or AuthenticatedUsers groups"
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	grants_judged
	some i, _ in tf.blocks(["access_control_policy"])
	grants := ["access_control_policy", i, "grant"]
	some [path, msg] in grant_problems(grants)
}

grant_problems(grants) := {[grants, "the bucket's ACL grants must not include the AllUsers or AuthenticatedUsers groups"]} if {
	tf.unknown(grants)
} else := {[uri, msg] |
	some j, _ in tf.blocks(grants)
	some k, _ in tf.blocks(array.concat(grants, [j, "grantee"]))
	uri := array.concat(grants, [j, "grantee", k, "uri"])
	some msg in uri_problems(uri, array.concat(grants, [j, "permission"]))
}

uri_problems(uri, permission) := {"the grantee must not be the AllUsers or AuthenticatedUsers group"} if {
	tf.unknown(uri)
} else := {sprintf("the ACL grants %v to %s: the bucket is open to everyone", [permission_text(permission), tf.value(uri)])} if {
	tf.value(uri) in public_groups
} else := set()

permission_text(path) := v if {
	v := tf.value(path)
	is_string(v)
} else := "a permission"

# --- Bucket policies -----------------------------------------------------------------------------

policy_types := {"scaleway_object_bucket_policy", "aws_s3_bucket_policy"}

violation contains {"msg": tf.explain(["policy"], msg), "path": "/policy"} if {
	input.resource.type in policy_types
	some msg in policy_problems
}

policy_problems := {"the bucket policy must not allow Principal \"*\""} if {
	tf.unknown(["policy"])
} else := {sprintf("policy is %v, not a JSON document", [tf.value(["policy"])])} if {
	v := tf.value(["policy"])
	v != null
	not is_string(v)
} else := {"policy is not valid JSON"} if {
	v := tf.value(["policy"])
	is_string(v)
	not json.is_valid(v)
} else := {sprintf("statement %s allows everyone (%s): name the principals that need access", [statement_name(i, s), who]) |
	v := tf.value(["policy"])
	is_string(v)
	doc := json.unmarshal(v)
	some i, s in statements(doc)
	is_object(s)
	object.get(s, "Effect", null) == "Allow"
	some who in open_principal(s)
}

statements(doc) := doc.Statement if {
	is_object(doc)
	is_array(doc.Statement)
} else := [doc.Statement] if {
	is_object(doc)
	is_object(doc.Statement)
} else := []

statement_name(i, s) := sprintf("%q", [s.Sid]) if {
	is_string(s.Sid)
	s.Sid != ""
} else := sprintf("%d", [i])

open_principal(s) := ({"Principal \"*\"" | s.Principal == "*"} | {sprintf("Principal {%q: \"*\"}", [k]) |
	is_object(s.Principal)
	some k, v in s.Principal
	wildcard(v)
}) | {"NotPrincipal" | "NotPrincipal" in object.keys(s)}

wildcard(v) if v == "*"

wildcard(v) if {
	is_array(v)
	"*" in v
}

# --- AWS public access blocks --------------------------------------------------------------------

block_settings := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

violation contains {"msg": tf.explain([setting], msg), "path": tf.pointer([setting])} if {
	input.resource.type in {"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"}
	some setting in block_settings
	not tf.is_true([setting])
	msg := block_message(setting)
}

block_message(setting) := sprintf("%s must be true", [setting]) if {
	tf.unknown([setting])
} else := sprintf("%s is not set (AWS's default is false): all four settings of the public access block must be true", [setting]) if {
	tf.value([setting]) == null
} else := sprintf("%s is %s: all four settings of the public access block must be true", [setting, tf.show(tf.value([setting]))])
