package gatehouse.terraform.database_high_availability

import data.gatehouse.lib.terraform as tf

# A managed relational database keeps three or more copies of its data and fails over on its
# own: an HA pair (Scaleway is_ha_cluster, RDS multi_az) plus read replicas, or an RDS cluster
# with a writer and readers. Replicas and cluster instances are the planned instances of the
# resources whose configuration refers to this one (tf.referrers), in the same module.

min_read_replicas := n if {
	n := input.parameters.minReadReplicas
	is_number(n)
} else := 1

min_cluster_instances := n if {
	n := input.parameters.minClusterInstances
	is_number(n)
} else := 2

multi_az_cluster_storage := {"io1", "io2", "gp3"}

# --- Scaleway Managed Database ---------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_rdb_instance"
	path := ["is_ha_cluster"]
	not tf.boolean(path) == true
	msg := sprintf("%sthe instance must be a high-availability cluster (is_ha_cluster = true), with a standby node it fails over to automatically", [tf.found(path, "false by default: a single node")])
}

violation contains {"msg": msg, "path": ""} if {
	input.resource.type == "scaleway_rdb_instance"
	n := replicas("scaleway_rdb_read_replica", "instance_id")
	n < min_read_replicas
	msg := sprintf("the instance has %d read replicas (scaleway_rdb_read_replica whose instance_id refers to it), fewer than %d: with the HA pair, a replica makes the third copy of the data", [n, min_read_replicas])
}

# --- AWS RDS instances -----------------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_db_instance"
	path := ["multi_az"]
	not tf.boolean(path) == true
	msg := sprintf("%sthe %s must be Multi-AZ (multi_az = true), with a synchronous standby in another Availability Zone that RDS fails over to", [tf.found(path, "a single-AZ instance by default"), role])
}

violation contains {"msg": msg, "path": ""} if {
	input.resource.type == "aws_db_instance"
	not tf.rds_replica
	n := replicas("aws_db_instance", "replicate_source_db")
	n < min_read_replicas
	msg := sprintf("the instance has %d read replicas (aws_db_instance whose replicate_source_db refers to it), fewer than %d: with the Multi-AZ standby, a replica makes the third copy of the data", [n, min_read_replicas])
}

role := "read replica" if tf.rds_replica else := "instance"

# --- AWS RDS clusters ------------------------------------------------------------------------

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "aws_rds_cluster"
	path := ["engine"]
	not is_string(tf.value(path))
	msg := sprintf("%sthe engine decides how the cluster is made highly available (Aurora: cluster instances; mysql or postgres: a Multi-AZ DB cluster)", [tf.found(path, "required")])
}

violation contains {"msg": msg, "path": ""} if {
	aurora
	n := replicas("aws_rds_cluster_instance", "cluster_identifier")
	n < min_cluster_instances
	msg := sprintf("the Aurora cluster has %d instances (aws_rds_cluster_instance whose cluster_identifier refers to it), fewer than %d: without a reader there is no instance to fail over to", [n, min_cluster_instances])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	multi_az_cluster
	path := ["db_cluster_instance_class"]
	not non_empty_string(tf.value(path))
	msg := sprintf("%sa %s cluster is a Multi-AZ DB cluster (a writer and two readable standbys in three Availability Zones) only with db_cluster_instance_class", [tf.found(path, "required"), tf.value(["engine"])])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	multi_az_cluster
	path := ["storage_type"]
	not multi_az_cluster_storage_type(path)
	msg := sprintf("%sa Multi-AZ DB cluster stores its data on io1, io2 or gp3 volumes", [tf.found(path, "io1 by default")])
}

aurora if {
	input.resource.type == "aws_rds_cluster"
	engine := tf.value(["engine"])
	is_string(engine)
	startswith(engine, "aurora")
}

multi_az_cluster if {
	input.resource.type == "aws_rds_cluster"
	engine := tf.value(["engine"])
	is_string(engine)
	not startswith(engine, "aurora")
}

multi_az_cluster_storage_type(path) if tf.value(path) in multi_az_cluster_storage

# Left out, a Multi-AZ DB cluster gets io1.
multi_az_cluster_storage_type(path) if tf.value(path) == null

# --- Helpers ---------------------------------------------------------------------------------

# The planned instances of the resources of `type` whose `attr` refers to this resource: a count
# of 0 makes none, a deleted one is not counted, nor one whose count is unknown (its address
# ends in [*] in a static reading).
replicas(type, attr) := count([rc |
	names := {r.name | some r in tf.referrers(type, attr)}
	some rc in tf.planned(type)
	rc.name in names
	not endswith(rc.address, "[*]")
])

non_empty_string(v) if {
	is_string(v)
	trim_space(v) != ""
}
