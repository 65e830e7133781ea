package gatehouse.terraform.database_encryption_at_rest_test

import data.gatehouse.terraform.database_encryption_at_rest as p

resource(type, after, unknown) := {"resource": {
	"address": sprintf("%s.main", [type]), "type": type, "name": "main", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

test_encrypted_databases_pass if {
	count(p.violation) == 0 with input as resource("scaleway_rdb_instance", {"encryption_at_rest": true}, {})
	count(p.violation) == 0 with input as resource("aws_db_instance", {"storage_encrypted": true}, {})
	count(p.violation) == 0 with input as resource("aws_rds_cluster", {"storage_encrypted": "true"}, {})
}

test_encrypted_replica_passes if {
	count(p.violation) == 0 with input as resource("aws_db_instance", {"replicate_source_db": "prod-main", "storage_encrypted": true}, {})
}

test_scaleway_unencrypted_fails_at_encryption_at_rest if {
	v := p.violation with input as resource("scaleway_rdb_instance", {"encryption_at_rest": false}, {})
	[x | some x in v] == [{"path": "/encryption_at_rest", "msg": "encryption_at_rest is false: the instance's storage must be encrypted at rest (encryption_at_rest = true)"}]
	w := p.violation with input as resource("scaleway_rdb_instance", {}, {})
	[y | some y in w] == [{"path": "/encryption_at_rest", "msg": "encryption_at_rest is not set (unencrypted by default): the instance's storage must be encrypted at rest (encryption_at_rest = true)"}]
}

test_aws_unencrypted_fails_at_storage_encrypted if {
	v := p.violation with input as resource("aws_rds_cluster", {"storage_encrypted": false}, {})
	[x | some x in v] == [{"path": "/storage_encrypted", "msg": "storage_encrypted is false: the cluster's storage must be encrypted at rest (storage_encrypted = true)"}]
	w := p.violation with input as resource("aws_db_instance", {"storage_encrypted": null}, {})
	[y | some y in w] == [{"path": "/storage_encrypted", "msg": "storage_encrypted is not set (unencrypted by default): the instance's storage must be encrypted at rest (storage_encrypted = true)"}]
}

test_replica_without_the_flag_fails if {
	v := p.violation with input as resource("aws_db_instance", {"replicate_source_db": "prod-main"}, {})
	[x | x := v[_].path] == ["/storage_encrypted"]
}

test_unknown_flag_fails if {
	v := p.violation with input as resource("aws_rds_cluster", {"storage_encrypted": null}, {"storage_encrypted": true})
	[x | some x in v] == [{"path": "/storage_encrypted", "msg": "storage_encrypted is known only after apply, so it cannot be checked: the cluster's storage must be encrypted at rest (storage_encrypted = true)"}]
}

test_wrong_types_fail_without_error if {
	count(p.violation) == 1 with input as resource("scaleway_rdb_instance", {"encryption_at_rest": "yes"}, {})
	count(p.violation) == 1 with input as resource("aws_db_instance", {"storage_encrypted": 1}, {})
	count(p.violation) == 1 with input as resource("aws_db_instance", {"storage_encrypted": {"enabled": true}}, {})
}

test_other_resource_types_are_not_judged if {
	count(p.violation) == 0 with input as resource("aws_rds_cluster_instance", {}, {})
	count(p.violation) == 0 with input as resource("scaleway_rdb_read_replica", {}, {})
}
