package gatehouse.terraform.database_encryption_at_rest

import data.gatehouse.lib.terraform as tf

# The flag that encrypts each targeted type's storage at rest.
flags := {
	"scaleway_rdb_instance": "encryption_at_rest",
	"aws_db_instance": "storage_encrypted",
	"aws_rds_cluster": "storage_encrypted",
}

nouns := {
	"scaleway_rdb_instance": "instance",
	"aws_db_instance": "instance",
	"aws_rds_cluster": "cluster",
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	flag := flags[input.resource.type]
	path := [flag]
	not tf.boolean(path) == true
	msg := sprintf("%sthe %s's storage must be encrypted at rest (%s = true)", [tf.found(path, "unencrypted by default"), nouns[input.resource.type], flag])
}
