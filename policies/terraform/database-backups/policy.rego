package gatehouse.terraform.database_backups

import data.gatehouse.lib.terraform as tf

# Automated backups of managed databases: on, at least every maxBackupIntervalHours (Scaleway),
# kept at least minRetentionDays (35 at most on RDS). RDS read replicas are exempt.

min_retention_days := n if {
	n := input.parameters.minRetentionDays
	is_number(n)
} else := 30

max_interval_hours := n if {
	n := input.parameters.maxBackupIntervalHours
	is_number(n)
} else := 24

# RDS keeps automated backups 35 days at most.
rds_max_retention := 35

rds_min_retention := min([min_retention_days, rds_max_retention])

# --- Scaleway Managed Database ---------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_rdb_instance"
	path := ["disable_backup"]
	not backups_on(path)
	msg := sprintf("%sthe instance's automated backups must stay on (disable_backup = false, the default)", [tf.found(path, "")])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_rdb_instance"
	not tf.boolean(["disable_backup"]) == true
	path := ["backup_schedule_frequency"]
	not between(path, 1, max_interval_hours)
	msg := sprintf("%sthe instance must be backed up at least every %v hours (backup_schedule_frequency from 1 to %v)", [tf.found(path, "Scaleway's default schedule applies, which the configuration does not show"), max_interval_hours, max_interval_hours])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_rdb_instance"
	not tf.boolean(["disable_backup"]) == true
	path := ["backup_schedule_retention"]
	not tf.number(path) >= min_retention_days
	msg := sprintf("%sthe instance's backups must be kept at least %v days (backup_schedule_retention >= %v)", [tf.found(path, "Scaleway's default retention applies, which the configuration does not show"), min_retention_days, min_retention_days])
}

# Left out, disable_backup is false.
backups_on(path) if tf.boolean(path) == false

backups_on(path) if tf.value(path) == null

# --- AWS RDS ---------------------------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type in {"aws_db_instance", "aws_rds_cluster"}
	not tf.rds_replica
	path := ["backup_retention_period"]
	not tf.number(path) >= rds_min_retention
	msg := sprintf("%sRDS must keep the %s's automated backups at least %v days (backup_retention_period >= %v%s)", [tf.found(path, "RDS keeps automated backups 1 day"), noun, rds_min_retention, rds_min_retention, capped])
}

noun := "cluster" if input.resource.type == "aws_rds_cluster" else := "instance"

capped := sprintf("; minRetentionDays is %v, but RDS keeps %v days at most", [min_retention_days, rds_max_retention]) if {
	min_retention_days > rds_max_retention
} else := ""

# --- Helpers ---------------------------------------------------------------------------------

between(path, low, high) if {
	n := tf.number(path)
	n >= low
	n <= high
}
