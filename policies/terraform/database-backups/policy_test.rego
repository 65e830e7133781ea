package gatehouse.terraform.database_backups_test

import data.gatehouse.terraform.database_backups as p

change(type, name, after, unknown) := {
	"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

judge(resource, configs) := {"resource": resource, "plan": {
	"configuration": {"root_module": {"resources": configs}},
	"resource_changes": [resource],
}}

paths(v) := {x.path | some x in v}

# --- Scaleway --------------------------------------------------------------------------------

good_rdb := {"disable_backup": false, "backup_schedule_frequency": 24, "backup_schedule_retention": 30}

rdb(overrides, unknown) := judge(change("scaleway_rdb_instance", "main", object.union(good_rdb, overrides), unknown), [])

test_scaleway_daily_backups_kept_30_days_pass if {
	count(p.violation) == 0 with input as rdb({}, {})
	count(p.violation) == 0 with input as rdb({"backup_schedule_frequency": 1, "backup_schedule_retention": 365}, {})
}

test_scaleway_absent_disable_backup_is_the_default_false if {
	count(p.violation) == 0 with input as judge(change("scaleway_rdb_instance", "main", object.remove(good_rdb, ["disable_backup"]), {}), [])
}

test_scaleway_numbers_written_as_strings_are_converted if {
	count(p.violation) == 0 with input as rdb({"disable_backup": "false", "backup_schedule_frequency": "12", "backup_schedule_retention": " 30 "}, {})
}

test_scaleway_disabled_backups_fail_at_disable_backup_only if {
	v := p.violation with input as rdb({"disable_backup": true, "backup_schedule_retention": 7}, {})
	[x | some x in v] == [{"path": "/disable_backup", "msg": "disable_backup is true: the instance's automated backups must stay on (disable_backup = false, the default)"}]
}

test_scaleway_unknown_or_wrong_disable_backup_fails if {
	v := p.violation with input as rdb({"disable_backup": null}, {"disable_backup": true})
	some x in v
	x.path == "/disable_backup"
	x.msg == "disable_backup is known only after apply, so it cannot be checked: the instance's automated backups must stay on (disable_backup = false, the default)"
	paths(p.violation) == {"/disable_backup"} with input as rdb({"disable_backup": "off"}, {})
	paths(p.violation) == {"/disable_backup"} with input as rdb({"disable_backup": 0}, {})
}

test_scaleway_too_rare_backups_fail_at_the_frequency if {
	v := p.violation with input as rdb({"backup_schedule_frequency": 48}, {})
	[x | some x in v] == [{"path": "/backup_schedule_frequency", "msg": "backup_schedule_frequency is 48: the instance must be backed up at least every 24 hours (backup_schedule_frequency from 1 to 24)"}]
	paths(p.violation) == {"/backup_schedule_frequency"} with input as rdb({"backup_schedule_frequency": 0}, {})
	paths(p.violation) == {"/backup_schedule_frequency"} with input as rdb({"backup_schedule_frequency": "daily"}, {})
	paths(p.violation) == {"/backup_schedule_frequency"} with input as rdb({"backup_schedule_frequency": [24]}, {})
}

test_scaleway_short_retention_fails_at_the_retention if {
	v := p.violation with input as rdb({"backup_schedule_retention": 7}, {})
	[x | some x in v] == [{"path": "/backup_schedule_retention", "msg": "backup_schedule_retention is 7: the instance's backups must be kept at least 30 days (backup_schedule_retention >= 30)"}]
	paths(p.violation) == {"/backup_schedule_retention"} with input as rdb({"backup_schedule_retention": "a month"}, {})
	paths(p.violation) == {"/backup_schedule_retention"} with input as rdb({"backup_schedule_retention": true}, {})
}

test_scaleway_schedule_left_to_the_default_fails if {
	v := p.violation with input as judge(change("scaleway_rdb_instance", "main", {}, {}), [])
	paths(v) == {"/backup_schedule_frequency", "/backup_schedule_retention"}
	some x in v
	x.msg == "backup_schedule_retention is not set (Scaleway's default retention applies, which the configuration does not show): the instance's backups must be kept at least 30 days (backup_schedule_retention >= 30)"
}

test_scaleway_unknown_schedule_fails if {
	v := p.violation with input as rdb({"backup_schedule_frequency": null, "backup_schedule_retention": null}, {"backup_schedule_frequency": true, "backup_schedule_retention": true})
	paths(v) == {"/backup_schedule_frequency", "/backup_schedule_retention"}
	some x in v
	x.msg == "backup_schedule_frequency is known only after apply, so it cannot be checked: the instance must be backed up at least every 24 hours (backup_schedule_frequency from 1 to 24)"
}

test_scaleway_parameters if {
	paths(p.violation) == {"/backup_schedule_frequency", "/backup_schedule_retention"} with input as rdb({}, {}) with input.parameters as {"minRetentionDays": 60, "maxBackupIntervalHours": 12}
	count(p.violation) == 0 with input as rdb({"backup_schedule_frequency": 12, "backup_schedule_retention": 60}, {}) with input.parameters as {"minRetentionDays": 60, "maxBackupIntervalHours": 12}
	count(p.violation) == 0 with input as rdb({}, {}) with input.parameters as {"minRetentionDays": "long", "maxBackupIntervalHours": null}
}

# --- AWS -------------------------------------------------------------------------------------

rds(after, unknown) := judge(change("aws_db_instance", "main", after, unknown), [])

cluster(after, unknown) := judge(change("aws_rds_cluster", "main", after, unknown), [])

test_aws_30_days_pass if {
	count(p.violation) == 0 with input as rds({"backup_retention_period": 30}, {})
	count(p.violation) == 0 with input as cluster({"backup_retention_period": 35}, {})
	count(p.violation) == 0 with input as rds({"backup_retention_period": "30"}, {})
}

test_aws_short_retention_fails_at_the_retention if {
	v := p.violation with input as rds({"backup_retention_period": 7}, {})
	[x | some x in v] == [{"path": "/backup_retention_period", "msg": "backup_retention_period is 7: RDS must keep the instance's automated backups at least 30 days (backup_retention_period >= 30)"}]
	w := p.violation with input as cluster({"backup_retention_period": 0}, {})
	[y | some y in w] == [{"path": "/backup_retention_period", "msg": "backup_retention_period is 0: RDS must keep the cluster's automated backups at least 30 days (backup_retention_period >= 30)"}]
}

test_aws_absent_unknown_or_wrong_retention_fails if {
	v := p.violation with input as rds({}, {})
	some x in v
	x.msg == "backup_retention_period is not set (RDS keeps automated backups 1 day): RDS must keep the instance's automated backups at least 30 days (backup_retention_period >= 30)"
	w := p.violation with input as cluster({"backup_retention_period": null}, {"backup_retention_period": true})
	some y in w
	y.path == "/backup_retention_period"
	startswith(y.msg, "backup_retention_period is known only after apply, so it cannot be checked: ")
	paths(p.violation) == {"/backup_retention_period"} with input as rds({"backup_retention_period": "thirty"}, {})
	paths(p.violation) == {"/backup_retention_period"} with input as rds({"backup_retention_period": {"days": 30}}, {})
}

test_aws_minimum_is_capped_at_35_days if {
	count(p.violation) == 0 with input as rds({"backup_retention_period": 35}, {}) with input.parameters as {"minRetentionDays": 90}
	v := p.violation with input as rds({"backup_retention_period": 30}, {}) with input.parameters as {"minRetentionDays": 90}
	[x | some x in v] == [{"path": "/backup_retention_period", "msg": "backup_retention_period is 30: RDS must keep the instance's automated backups at least 35 days (backup_retention_period >= 35; minRetentionDays is 90, but RDS keeps 35 days at most)"}]
	paths(p.violation) == {"/backup_retention_period"} with input as rds({"backup_retention_period": 10}, {}) with input.parameters as {"minRetentionDays": 14}
}

replica_config(refs) := {"address": "aws_db_instance.main", "type": "aws_db_instance", "name": "main", "expressions": {"replicate_source_db": {"references": refs}}}

test_aws_read_replicas_are_exempt if {
	count(p.violation) == 0 with input as rds({"replicate_source_db": "prod-main"}, {})

	# Known only after apply (the source's ARN on creation): the configuration refers to it.
	unknown := change("aws_db_instance", "main", {"replicate_source_db": null}, {"replicate_source_db": true})
	count(p.violation) == 0 with input as judge(unknown, [replica_config(["aws_db_instance.primary.arn", "aws_db_instance.primary"])])

	# Through a variable known only after apply, or empty: not a replica.
	paths(p.violation) == {"/backup_retention_period"} with input as judge(unknown, [replica_config(["var.source"])])
	paths(p.violation) == {"/backup_retention_period"} with input as rds({"replicate_source_db": ""}, {})
}

test_aws_cluster_replication_source_is_not_an_exemption if {
	paths(p.violation) == {"/backup_retention_period"} with input as cluster({"replicate_source_db": "x", "replication_source_identifier": "arn:aws:rds:eu-west-1:123456789012:cluster:prod"}, {})
}

test_other_resource_types_are_not_judged if {
	count(p.violation) == 0 with input as judge(change("aws_rds_cluster_instance", "i", {}, {}), [])
}
