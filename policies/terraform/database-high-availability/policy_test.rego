package gatehouse.terraform.database_high_availability_test

import data.gatehouse.terraform.database_high_availability as p

change(type, name, after, unknown) := {
	"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

config(type, name, expressions) := {"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed", "expressions": expressions}

# The input for `resource`, judged in a root module holding `configs` and planning `changes`.
judge(resource, configs, changes) := {"resource": resource, "plan": {
	"configuration": {"root_module": {"resources": configs}},
	"resource_changes": array.concat([resource], changes),
}}

paths(v) := {x.path | some x in v}

# --- Scaleway --------------------------------------------------------------------------------

rdb(after, unknown) := change("scaleway_rdb_instance", "main", after, unknown)

replica_config(name, target) := config("scaleway_rdb_read_replica", name, {"instance_id": {"references": [sprintf("%s.id", [target]), target]}})

replica_change(name) := change("scaleway_rdb_read_replica", name, {"same_zone": false}, {"instance_id": true})

with_replica(resource) := judge(resource, [replica_config("replica", "scaleway_rdb_instance.main")], [replica_change("replica")])

test_scaleway_ha_cluster_with_a_replica_passes if {
	count(p.violation) == 0 with input as with_replica(rdb({"is_ha_cluster": true}, {}))
}

test_scaleway_ha_flag_written_as_a_string_is_converted if {
	count(p.violation) == 0 with input as with_replica(rdb({"is_ha_cluster": "true"}, {}))
}

test_scaleway_single_node_fails_at_is_ha_cluster if {
	v := p.violation with input as with_replica(rdb({"is_ha_cluster": false}, {}))
	[x | some x in v] == [{"path": "/is_ha_cluster", "msg": "is_ha_cluster is false: the instance must be a high-availability cluster (is_ha_cluster = true), with a standby node it fails over to automatically"}]
}

test_scaleway_absent_ha_flag_is_the_single_node_default if {
	v := p.violation with input as with_replica(rdb({}, {}))
	some x in v
	x.path == "/is_ha_cluster"
	startswith(x.msg, "is_ha_cluster is not set (false by default: a single node): ")
}

test_scaleway_unknown_ha_flag_fails if {
	v := p.violation with input as with_replica(rdb({"is_ha_cluster": null}, {"is_ha_cluster": true}))
	some x in v
	x.path == "/is_ha_cluster"
	startswith(x.msg, "is_ha_cluster is known only after apply, so it cannot be checked: the instance must be")
}

test_scaleway_wrong_types_fail_without_error if {
	paths(p.violation) == {"/is_ha_cluster"} with input as with_replica(rdb({"is_ha_cluster": 1}, {}))
	paths(p.violation) == {"/is_ha_cluster"} with input as with_replica(rdb({"is_ha_cluster": "yes"}, {}))
	paths(p.violation) == {"/is_ha_cluster"} with input as with_replica(rdb({"is_ha_cluster": [true]}, {}))
}

test_scaleway_instance_without_replica_fails_at_the_instance if {
	v := p.violation with input as judge(rdb({"is_ha_cluster": true}, {}), [], [])
	[x | some x in v] == [{"path": "", "msg": "the instance has 0 read replicas (scaleway_rdb_read_replica whose instance_id refers to it), fewer than 1: with the HA pair, a replica makes the third copy of the data"}]
}

test_scaleway_replicas_that_are_not_planned_do_not_count if {
	resource := rdb({"is_ha_cluster": true}, {})
	configs := [replica_config("replica", "scaleway_rdb_instance.main")]

	# count = 0: configured, never planned.
	paths(p.violation) == {""} with input as judge(resource, configs, [])

	# Deleted by the plan.
	deleted := object.union(replica_change("replica"), {"change": {"actions": ["delete"]}})
	paths(p.violation) == {""} with input as judge(resource, configs, [deleted])

	# A count unknown in a static reading: maybe none.
	unknown_count := object.union(replica_change("replica"), {"address": "scaleway_rdb_read_replica.replica[*]"})
	paths(p.violation) == {""} with input as judge(resource, configs, [unknown_count])

	# The same replica block in another instance of the module.
	elsewhere := object.union(replica_change("replica"), {"module_address": "module.other"})
	paths(p.violation) == {""} with input as judge(resource, configs, [elsewhere])
}

test_scaleway_replica_of_another_instance_does_not_count if {
	v := p.violation with input as judge(rdb({"is_ha_cluster": true}, {}), [replica_config("replica", "scaleway_rdb_instance.other")], [replica_change("replica")])
	paths(v) == {""}
}

test_scaleway_min_read_replicas_parameter if {
	resource := rdb({"is_ha_cluster": true}, {})
	configs := [config("scaleway_rdb_read_replica", "replica", {"count_expression": {"constant_value": 2}, "instance_id": {"references": ["scaleway_rdb_instance.main.id", "scaleway_rdb_instance.main"]}})]
	one := [object.union(replica_change("replica"), {"address": "scaleway_rdb_read_replica.replica[0]", "index": 0})]
	two := array.concat(one, [object.union(replica_change("replica"), {"address": "scaleway_rdb_read_replica.replica[1]", "index": 1})])
	v := p.violation with input as judge(resource, configs, one) with input.parameters as {"minReadReplicas": 2}
	some x in v
	x.msg == "the instance has 1 read replicas (scaleway_rdb_read_replica whose instance_id refers to it), fewer than 2: with the HA pair, a replica makes the third copy of the data"
	count(p.violation) == 0 with input as judge(resource, configs, two) with input.parameters as {"minReadReplicas": 2}
	count(p.violation) == 0 with input as judge(resource, configs, two) with input.parameters as {"minReadReplicas": "many"}
}

# --- AWS RDS instances -----------------------------------------------------------------------

primary(after, unknown) := change("aws_db_instance", "main", after, unknown)

rds_replica_config := config("aws_db_instance", "replica", {"replicate_source_db": {"references": ["aws_db_instance.main.identifier", "aws_db_instance.main"]}})

rds_replica(after, unknown) := change("aws_db_instance", "replica", after, unknown)

rds_pair(resource) := judge(resource, [config("aws_db_instance", "main", {}), rds_replica_config], [rds_replica({"replicate_source_db": "main", "multi_az": true}, {})])

test_aws_multi_az_primary_with_a_replica_passes if {
	count(p.violation) == 0 with input as rds_pair(primary({"multi_az": true}, {}))
}

test_aws_single_az_primary_fails_at_multi_az if {
	v := p.violation with input as rds_pair(primary({"multi_az": false}, {}))
	[x | some x in v] == [{"path": "/multi_az", "msg": "multi_az is false: the instance must be Multi-AZ (multi_az = true), with a synchronous standby in another Availability Zone that RDS fails over to"}]
}

test_aws_absent_or_unknown_multi_az_fails if {
	v := p.violation with input as rds_pair(primary({}, {}))
	some x in v
	startswith(x.msg, "multi_az is not set (a single-AZ instance by default): ")
	w := p.violation with input as rds_pair(primary({"multi_az": null}, {"multi_az": true}))
	some y in w
	y.path == "/multi_az"
	startswith(y.msg, "multi_az is known only after apply, so it cannot be checked: the instance must be Multi-AZ")
	paths(p.violation) == {"/multi_az"} with input as rds_pair(primary({"multi_az": "1"}, {}))
}

test_aws_primary_without_replica_fails_at_the_instance if {
	v := p.violation with input as judge(primary({"multi_az": true}, {}), [config("aws_db_instance", "main", {})], [])
	[x | some x in v] == [{"path": "", "msg": "the instance has 0 read replicas (aws_db_instance whose replicate_source_db refers to it), fewer than 1: with the Multi-AZ standby, a replica makes the third copy of the data"}]
}

test_aws_replica_needs_no_replica_but_must_be_multi_az if {
	# Known source: a replica of an instance outside this configuration.
	count(p.violation) == 0 with input as judge(rds_replica({"replicate_source_db": "legacy-db", "multi_az": true}, {}), [rds_replica_config], [])

	# Source known only after apply (aws_db_instance.main.arn on creation), read from the configuration.
	unknown_source := rds_replica({"replicate_source_db": null, "multi_az": false}, {"replicate_source_db": true})
	v := p.violation with input as judge(unknown_source, [rds_replica_config], [])
	[x | some x in v] == [{"path": "/multi_az", "msg": "multi_az is false: the read replica must be Multi-AZ (multi_az = true), with a synchronous standby in another Availability Zone that RDS fails over to"}]
}

test_aws_unknown_source_through_a_variable_or_an_empty_one_is_not_a_replica if {
	through_var := config("aws_db_instance", "replica", {"replicate_source_db": {"references": ["var.source_db"]}})
	resource := rds_replica({"replicate_source_db": null, "multi_az": true}, {"replicate_source_db": true})
	paths(p.violation) == {""} with input as judge(resource, [through_var], [])
	paths(p.violation) == {""} with input as judge(rds_replica({"replicate_source_db": " ", "multi_az": true}, {}), [], [])
	paths(p.violation) == {""} with input as judge(rds_replica({"replicate_source_db": 7, "multi_az": true}, {}), [], [])
}

# --- AWS RDS clusters ------------------------------------------------------------------------

cluster(after, unknown) := change("aws_rds_cluster", "main", after, unknown)

cluster_instances(n) := judge(cluster({"engine": "aurora-postgresql"}, {}), [config("aws_rds_cluster_instance", "node", {"count_expression": {"constant_value": n}, "cluster_identifier": {"references": ["aws_rds_cluster.main.id", "aws_rds_cluster.main"]}})], [
object.union(change("aws_rds_cluster_instance", "node", {"instance_class": "db.r6g.large"}, {}), {"address": sprintf("aws_rds_cluster_instance.node[%d]", [i]), "index": i}) |
	some i in numbers.range(0, n - 1)
])

test_aurora_cluster_with_two_instances_passes if {
	count(p.violation) == 0 with input as cluster_instances(2)
}

test_aurora_cluster_with_one_instance_fails_at_the_cluster if {
	v := p.violation with input as cluster_instances(1)
	[x | some x in v] == [{"path": "", "msg": "the Aurora cluster has 1 instances (aws_rds_cluster_instance whose cluster_identifier refers to it), fewer than 2: without a reader there is no instance to fail over to"}]
}

test_aurora_min_cluster_instances_parameter if {
	paths(p.violation) == {""} with input as cluster_instances(2) with input.parameters as {"minClusterInstances": 3}
	count(p.violation) == 0 with input as cluster_instances(3) with input.parameters as {"minClusterInstances": 3}
}

test_cluster_engine_unknown_or_wrong_type_fails if {
	v := p.violation with input as judge(cluster({"engine": null}, {"engine": true}), [], [])
	[x | some x in v] == [{"path": "/engine", "msg": "engine is known only after apply, so it cannot be checked: the engine decides how the cluster is made highly available (Aurora: cluster instances; mysql or postgres: a Multi-AZ DB cluster)"}]
	paths(p.violation) == {"/engine"} with input as judge(cluster({"engine": 5}, {}), [], [])
	paths(p.violation) == {"/engine"} with input as judge(cluster({}, {}), [], [])
}

test_multi_az_db_cluster_passes if {
	count(p.violation) == 0 with input as judge(cluster({"engine": "postgres", "db_cluster_instance_class": "db.m6gd.large", "storage_type": "io2"}, {}), [], [])
	count(p.violation) == 0 with input as judge(cluster({"engine": "mysql", "db_cluster_instance_class": "db.m6gd.large", "storage_type": "gp3"}, {}), [], [])

	# Left out, the storage type of a Multi-AZ DB cluster is io1.
	count(p.violation) == 0 with input as judge(cluster({"engine": "postgres", "db_cluster_instance_class": "db.m6gd.large"}, {}), [], [])
}

test_multi_az_db_cluster_without_instance_class_fails if {
	v := p.violation with input as judge(cluster({"engine": "postgres", "storage_type": "io1"}, {}), [], [])
	[x | some x in v] == [{"path": "/db_cluster_instance_class", "msg": "db_cluster_instance_class is not set (required): a postgres cluster is a Multi-AZ DB cluster (a writer and two readable standbys in three Availability Zones) only with db_cluster_instance_class"}]
	w := p.violation with input as judge(cluster({"engine": "postgres", "db_cluster_instance_class": null, "storage_type": "io1"}, {"db_cluster_instance_class": true}), [], [])
	some y in w
	startswith(y.msg, "db_cluster_instance_class is known only after apply")
	paths(p.violation) == {"/db_cluster_instance_class"} with input as judge(cluster({"engine": "postgres", "db_cluster_instance_class": 3}, {}), [], [])
}

test_multi_az_db_cluster_storage_type if {
	v := p.violation with input as judge(cluster({"engine": "postgres", "db_cluster_instance_class": "db.m6gd.large", "storage_type": "gp2"}, {}), [], [])
	[x | some x in v] == [{"path": "/storage_type", "msg": "storage_type is \"gp2\": a Multi-AZ DB cluster stores its data on io1, io2 or gp3 volumes"}]
	w := p.violation with input as judge(cluster({"engine": "postgres", "db_cluster_instance_class": "db.m6gd.large", "storage_type": null}, {"storage_type": true}), [], [])
	some y in w
	y.path == "/storage_type"
	startswith(y.msg, "storage_type is known only after apply")
}

test_other_resource_types_are_not_judged if {
	count(p.violation) == 0 with input as judge(change("aws_s3_bucket", "b", {}, {}), [], [])
}
