package gatehouse.kubernetes.cnpg_connection_pooling_test

import data.gatehouse.kubernetes.cnpg_connection_pooling as policy

review := {
	"review": {
		"kind": {"group": "postgresql.cnpg.io", "version": "v1", "kind": "Cluster"},
		"namespace": "databases",
		"operation": "CREATE",
		"object": {
			"apiVersion": "postgresql.cnpg.io/v1",
			"kind": "Cluster",
			"metadata": {"name": "shop-db", "namespace": "databases"},
			"spec": {"instances": 3, "storage": {"size": "20Gi"}},
		},
	},
	"parameters": {},
}

pooler(name, spec) := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "Pooler",
	"metadata": {"name": name, "namespace": "databases"},
	"spec": object.union({"cluster": {"name": "shop-db"}, "pgbouncer": {"poolMode": "transaction"}}, spec),
}

rw := pooler("shop-db-pooler-rw", {"type": "rw", "instances": 2})

ro := pooler("shop-db-pooler-ro", {"type": "ro", "instances": 2})

inventory(ns, poolers) := {"namespace": {ns: {"postgresql.cnpg.io/v1": {"Pooler": {p.metadata.name: p | some p in poolers}}}}}

violations(inp, inv) := v if {
	v := policy.violation with input as inp with data.inventory as inv
}

msgs(inp, inv) := [x.msg | some x in violations(inp, inv)]

missing := {{
	"msg": "Cluster \"shop-db\" has no Pooler in namespace \"databases\": add a Pooler (postgresql.cnpg.io/v1) with spec.cluster.name \"shop-db\" and type: rw, and connect the applications through it, so that their connections share a few PostgreSQL backends",
	"path": "/metadata/name",
}}

test_a_read_write_pooler_passes if {
	count(violations(review, inventory("databases", [rw]))) == 0
	count(violations(review, inventory("databases", [rw, ro]))) == 0
}

test_type_and_instances_default_to_rw_and_one if {
	count(violations(review, inventory("databases", [pooler("shop-db-pooler", {})]))) == 0
	count(violations(review, inventory("databases", [pooler("shop-db-pooler", {"type": null, "instances": null})]))) == 0
}

test_no_pooler_is_reported if {
	violations(review, inventory("databases", [])) == missing
	violations(review, {}) == missing
	v := policy.violation with input as review
	v == missing
}

test_a_pooler_elsewhere_does_not_count if {
	violations(review, inventory("staging", [rw])) == missing
	violations(review, inventory("databases", [pooler("orders-pooler-rw", {"cluster": {"name": "orders-db"}})])) == missing
	violations(review, inventory("databases", [object.remove(rw, ["spec"])])) == missing
	violations(review, {"namespace": {"databases": {"postgresql.cnpg.io/v1": {"Pooler": "shop-db-pooler-rw"}}}}) == missing
	violations(review, {"namespace": {"databases": {"postgresql.cnpg.io/v1": {"Pooler": {"x": "shop-db"}}}}}) == missing
	violations(review, {"namespace": {"databases": {"postgresql.cnpg.io/v1beta1": {"Pooler": {"x": rw}}}}}) == missing
}

test_a_read_only_pooler_alone_is_reported if {
	violations(review, inventory("databases", [ro])) == {{
		"msg": "Cluster \"shop-db\" has no read-write Pooler (Pooler \"shop-db-pooler-ro\" is of type \"ro\"): add a Pooler of type rw with at least one instance, and connect the applications through it",
		"path": "/metadata/name",
	}}
	count(violations(review, inventory("databases", [pooler("p", {"type": "r"})]))) == 1
	count(violations(review, inventory("databases", [pooler("p", {"type": "RW"})]))) == 1
}

test_a_pooler_scaled_to_zero_does_not_count if {
	msgs(review, inventory("databases", [pooler("shop-db-pooler-rw", {"instances": 0}), ro])) == ["Cluster \"shop-db\" has no read-write Pooler (Pooler \"shop-db-pooler-ro\" is of type \"ro\"; Pooler \"shop-db-pooler-rw\" runs 0 PgBouncer instances): add a Pooler of type rw with at least one instance, and connect the applications through it"]
	msgs(review, inventory("databases", [pooler("shop-db-pooler-rw", {"instances": "2"})])) == ["Cluster \"shop-db\" has no read-write Pooler (Pooler \"shop-db-pooler-rw\" runs \"2\" PgBouncer instances): add a Pooler of type rw with at least one instance, and connect the applications through it"]
}

test_the_namespace_of_the_review_is_used if {
	inp := object.union(review, {"review": {"namespace": "staging"}})
	count(violations(inp, inventory("staging", [rw]))) == 0
	violations(inp, inventory("databases", [rw])) == {{
		"msg": "Cluster \"shop-db\" has no Pooler in namespace \"staging\": add a Pooler (postgresql.cnpg.io/v1) with spec.cluster.name \"shop-db\" and type: rw, and connect the applications through it, so that their connections share a few PostgreSQL backends",
		"path": "/metadata/name",
	}}
}

test_deletes_are_let_through if {
	count(violations(object.union(review, {"review": {"operation": "DELETE", "object": null}}), {})) == 0
	finalizing := object.union(review, {"review": {"operation": "UPDATE", "object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(finalizing, {})) == 0
	update := object.union(review, {"review": {"operation": "UPDATE"}})
	violations(update, {}) == missing
}
