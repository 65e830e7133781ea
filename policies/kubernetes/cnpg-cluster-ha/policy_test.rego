package gatehouse.kubernetes.cnpg_cluster_ha_test

import data.gatehouse.kubernetes.cnpg_cluster_ha as policy

params := {"minInstances": 3}

cluster(spec) := {
	"review": {
		"kind": {"group": "postgresql.cnpg.io", "version": "v1", "kind": "Cluster"},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {
			"apiVersion": "postgresql.cnpg.io/v1",
			"kind": "Cluster",
			"metadata": {"name": "shop-db", "namespace": "shop"},
			"spec": spec,
		},
	},
	"parameters": params,
}

storage := {"storage": {"size": "20Gi"}}

violations(inp) := v if {
	v := policy.violation with input as inp
}

msgs(inp) := [x.msg | some x in violations(inp)]

test_three_or_more_instances_pass if {
	count(violations(cluster(object.union(storage, {"instances": 3})))) == 0
	count(violations(cluster(object.union(storage, {"instances": 5})))) == 0
}

test_synchronous_replication_is_not_required if {
	count(violations(cluster({"instances": 3, "minSyncReplicas": 0, "maxSyncReplicas": 0}))) == 0
	count(violations(cluster({"instances": 3}))) == 0
}

test_too_few_instances_are_reported if {
	violations(cluster(object.union(storage, {"instances": 2}))) == {{
		"msg": "Cluster \"shop-db\" runs 2 PostgreSQL instances (spec.instances), below the minimum of 3: run a primary and at least 2 standbys so that CloudNativePG can fail over when the primary or its node goes down",
		"path": "/spec/instances",
	}}
	msgs(cluster({"instances": 1})) == ["Cluster \"shop-db\" runs 1 PostgreSQL instance (spec.instances), below the minimum of 3: run a primary and at least 2 standbys so that CloudNativePG can fail over when the primary or its node goes down"]
}

test_unset_or_null_instances_mean_one if {
	expected := ["Cluster \"shop-db\" sets no spec.instances, so it runs 1 PostgreSQL instance, below the minimum of 3: run a primary and at least 2 standbys so that CloudNativePG can fail over when the primary or its node goes down"]
	msgs(cluster(storage)) == expected
	msgs(cluster({"instances": null})) == expected
	msgs(cluster(null)) == expected
	bare := {"review": {"kind": {"group": "postgresql.cnpg.io", "kind": "Cluster"}, "object": {"metadata": {"name": "shop-db"}}}, "parameters": params}
	msgs(bare) == expected
}

test_a_string_is_not_a_number if {
	violations(cluster({"instances": "3"})) == {{
		"msg": "Cluster \"shop-db\" sets spec.instances to \"3\", which is not a number: set it to 3 or more",
		"path": "/spec/instances",
	}}
	count(violations(cluster({"instances": [3]}))) == 1
	count(violations(cluster({"instances": {"count": 3}}))) == 1
}

test_the_minimum_is_a_parameter if {
	two := object.union(cluster({"instances": 2}), {"parameters": {"minInstances": 2}})
	count(policy.violation) == 0 with input as two
	five := object.union(cluster({"instances": 3}), {"parameters": {"minInstances": 5}})
	v := policy.violation with input as five
	[x.msg | some x in v] == ["Cluster \"shop-db\" runs 3 PostgreSQL instances (spec.instances), below the minimum of 5: run a primary and at least 4 standbys so that CloudNativePG can fail over when the primary or its node goes down"]
	one := object.union(cluster({}), {"parameters": {"minInstances": 1}})
	count(policy.violation) == 0 with input as one
}

test_deletes_are_let_through if {
	count(violations(object.union(cluster({"instances": 1}), {"review": {"operation": "DELETE", "object": null}}))) == 0
	finalizing := object.union(cluster({"instances": 1}), {"review": {"operation": "UPDATE", "object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(finalizing)) == 0
	update := object.union(cluster({"instances": 1}), {"review": {"operation": "UPDATE"}})
	count(violations(update)) == 1
}
