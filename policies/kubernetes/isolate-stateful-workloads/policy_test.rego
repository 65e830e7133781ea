package gatehouse.kubernetes.isolate_stateful_workloads_test

import data.gatehouse.kubernetes.isolate_stateful_workloads as policy

params := {"stateLabel": "gatehouse.dev/workload-class", "allowUnknownNamespaces": false}

group := {"StatefulSet": "apps", "Deployment": "apps", "PersistentVolumeClaim": ""}

review(kind, ns, metadata) := {
	"review": {
		"kind": {"group": group[kind], "version": "v1", "kind": kind},
		"namespace": ns,
		"operation": "CREATE",
		"object": {"kind": kind, "metadata": object.union({"name": "db", "namespace": ns}, metadata), "spec": {}},
	},
	"parameters": params,
}

namespace(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

# Two namespaces: "data" reserved for stateful workloads, "shop" for stateless applications.
inventory := {"cluster": {"v1": {"Namespace": {
	"data": namespace("data", {"gatehouse.dev/workload-class": "stateful", "team": "platform"}),
	"shop": namespace("shop", {"gatehouse.dev/workload-class": "stateless"}),
	"legacy": namespace("legacy", null),
}}}}

violations(inp) := v if {
	v := policy.violation with input as inp with data.inventory as inventory
}

msgs(inp) := {x.msg | some x in violations(inp)}

paths(inp) := {x.path | some x in violations(inp)}

test_statefulsets_and_claims_pass_in_a_stateful_namespace if {
	count(violations(review("StatefulSet", "data", {}))) == 0
	count(violations(review("PersistentVolumeClaim", "data", {}))) == 0
}

test_a_statefulset_in_a_stateless_namespace_is_reported if {
	violations(review("StatefulSet", "shop", {})) == {{
		"msg": "StatefulSet \"db\" is in namespace \"shop\", whose gatehouse.dev/workload-class label is \"stateless\", not \"stateful\": create stateful workloads and their volumes only in a namespace labelled gatehouse.dev/workload-class=stateful, apart from stateless applications",
		"path": "/metadata/namespace",
	}}
}

test_a_claim_in_an_unlabelled_namespace_is_reported if {
	msgs(review("PersistentVolumeClaim", "legacy", {})) == {"PersistentVolumeClaim \"db\" is in namespace \"legacy\", which carries no gatehouse.dev/workload-class label: create stateful workloads and their volumes only in a namespace labelled gatehouse.dev/workload-class=stateful, apart from stateless applications"}
}

test_only_the_exact_value_stateful_counts if {
	inv := {"cluster": {"v1": {"Namespace": {
		"a": namespace("a", {"gatehouse.dev/workload-class": "Stateful"}),
		"b": namespace("b", {"gatehouse.dev/workload-class": true}),
		"c": namespace("c", {"workload-class": "stateful"}),
		"d": namespace("d", "gatehouse.dev/workload-class=stateful"),
	}}}}
	every ns in ["a", "b", "c", "d"] {
		p := {x.path | some x in policy.violation} with input as review("StatefulSet", ns, {}) with data.inventory as inv
		p == {"/metadata/namespace"}
	}
	v := policy.violation with input as review("StatefulSet", "b", {}) with data.inventory as inv
	[x.msg | some x in v] == ["StatefulSet \"db\" is in namespace \"b\", whose gatehouse.dev/workload-class label is true, not \"stateful\": create stateful workloads and their volumes only in a namespace labelled gatehouse.dev/workload-class=stateful, apart from stateless applications"]
}

test_deployments_pass_in_stateless_namespaces if {
	count(violations(review("Deployment", "shop", {}))) == 0
	count(violations(review("Deployment", "legacy", {}))) == 0
}

test_a_deployment_in_a_stateful_namespace_is_reported if {
	violations(review("Deployment", "data", {})) == {{
		"msg": "Deployment \"db\" is in namespace \"data\", which is labelled gatehouse.dev/workload-class=stateful and reserved for stateful workloads: run stateless applications in a namespace of their own (a Deployment that needs a volume is a StatefulSet)",
		"path": "/metadata/namespace",
	}}
}

test_a_deployment_a_controller_owns_may_sit_beside_its_database if {
	pooler := {"ownerReferences": [{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "name": "db-rw", "uid": "1", "controller": true}]}
	count(violations(review("Deployment", "data", pooler))) == 0
	# An owner that is not the controller does not count.
	plain := {"ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "2"}]}
	paths(review("Deployment", "data", plain)) == {"/metadata/namespace"}
	paths(review("Deployment", "data", {"ownerReferences": "Pooler/db-rw"})) == {"/metadata/namespace"}
	paths(review("Deployment", "data", {"ownerReferences": null})) == {"/metadata/namespace"}
	# Controller-owned StatefulSets and claims still need a stateful namespace.
	paths(review("StatefulSet", "shop", pooler)) == {"/metadata/namespace"}
	paths(review("PersistentVolumeClaim", "shop", pooler)) == {"/metadata/namespace"}
}

test_the_label_is_a_parameter if {
	inv := {"cluster": {"v1": {"Namespace": {"data": namespace("data", {"tier": "stateful"})}}}}
	custom := object.union(review("StatefulSet", "data", {}), {"parameters": {"stateLabel": "tier"}})
	count(policy.violation) == 0 with input as custom with data.inventory as inv
	v := policy.violation with input as review("StatefulSet", "data", {}) with data.inventory as inv
	[x.msg | some x in v] == ["StatefulSet \"db\" is in namespace \"data\", which carries no gatehouse.dev/workload-class label: create stateful workloads and their volumes only in a namespace labelled gatehouse.dev/workload-class=stateful, apart from stateless applications"]
	deployment := object.union(review("Deployment", "data", {}), {"parameters": {"stateLabel": "tier"}})
	{x.msg | some x in policy.violation} == {"Deployment \"db\" is in namespace \"data\", which is labelled tier=stateful and reserved for stateful workloads: run stateless applications in a namespace of their own (a Deployment that needs a volume is a StatefulSet)"} with input as deployment with data.inventory as inv
}

test_an_unknown_namespace_cannot_be_verified if {
	violations(review("StatefulSet", "payments", {})) == {{
		"msg": "namespace \"payments\" of StatefulSet \"db\" is not in the inventory, so its gatehouse.dev/workload-class label cannot be verified: declare the Namespace (labelled gatehouse.dev/workload-class=stateful for stateful workloads, without it for stateless ones) alongside the workload",
		"path": "/metadata/namespace",
	}}
	paths(review("PersistentVolumeClaim", "payments", {})) == {"/metadata/namespace"}
	paths(review("Deployment", "payments", {})) == {"/metadata/namespace"}
	# No inventory at all.
	count(policy.violation) == 1 with input as review("Deployment", "payments", {})
}

test_unknown_namespaces_may_be_allowed if {
	allow := {"stateLabel": "gatehouse.dev/workload-class", "allowUnknownNamespaces": true}
	every kind in ["StatefulSet", "PersistentVolumeClaim", "Deployment"] {
		inp := object.union(review(kind, "payments", {}), {"parameters": allow})
		count(policy.violation) == 0 with input as inp with data.inventory as inventory
	}
	# Known namespaces are still judged.
	inp := object.union(review("StatefulSet", "shop", {}), {"parameters": allow})
	count(policy.violation) == 1 with input as inp with data.inventory as inventory
}

test_a_controller_owned_deployment_in_an_unknown_namespace_passes if {
	pooler := {"ownerReferences": [{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "name": "db-rw", "controller": true}]}
	count(violations(review("Deployment", "payments", pooler))) == 0
}

test_a_namespace_of_the_same_name_in_another_scope_does_not_count if {
	# A namespaced object called "data" is no Namespace.
	inv := {
		"namespace": {"data": {"v1": {"Namespace": {"data": namespace("data", {"gatehouse.dev/workload-class": "stateful"})}}}},
		"cluster": {"v1": {"ConfigMap": {"data": namespace("data", {"gatehouse.dev/workload-class": "stateful"})}}},
	}
	p := {x.path | some x in policy.violation} with input as review("StatefulSet", "data", {}) with data.inventory as inv
	p == {"/metadata/namespace"}
	m := {x.msg | some x in policy.violation} with input as review("StatefulSet", "data", {}) with data.inventory as inv
	every s in m {
		startswith(s, "namespace \"data\" of StatefulSet \"db\" is not in the inventory")
	}
}

test_the_namespace_of_the_review_wins_then_the_manifest_then_default if {
	inp := review("StatefulSet", "data", {"namespace": "shop"})
	count(violations(inp)) == 0
	bare := {"review": {"kind": {"group": "apps", "kind": "StatefulSet"}, "operation": "CREATE", "object": {"metadata": {"name": "db", "namespace": "data"}}}, "parameters": params}
	count(violations(bare)) == 0
	nowhere := {"review": {"kind": {"group": "apps", "kind": "StatefulSet"}, "operation": "CREATE", "object": {"metadata": {"name": "db"}}}, "parameters": params}
	msgs(nowhere) == {"namespace \"default\" of StatefulSet \"db\" is not in the inventory, so its gatehouse.dev/workload-class label cannot be verified: declare the Namespace (labelled gatehouse.dev/workload-class=stateful for stateful workloads, without it for stateless ones) alongside the workload"}
}

test_malformed_inventories_raise_no_error if {
	every inv in [
		{"cluster": {"v1": {"Namespace": "data"}}},
		{"cluster": {"v1": "Namespace"}},
		{"cluster": "v1"},
		{"cluster": {"v1": {"Namespace": {"data": "stateful"}}}},
		{"cluster": {"v1": {"Namespace": {"data": {"metadata": "labels"}}}}},
	] {
		v := policy.violation with input as review("StatefulSet", "data", {}) with data.inventory as inv
		{x.path | some x in v} == {"/metadata/namespace"}
	}
}

test_updates_are_judged_deletes_are_not if {
	update := object.union(review("StatefulSet", "shop", {}), {"review": {"operation": "UPDATE"}})
	count(violations(update)) == 1
	delete := object.union(review("StatefulSet", "shop", {}), {"review": {"operation": "DELETE", "object": null}})
	count(violations(delete)) == 0
	finalizing := review("PersistentVolumeClaim", "shop", {"deletionTimestamp": "2025-01-01T00:00:00Z"})
	count(violations(finalizing)) == 0
}

test_a_numeric_name_still_reads if {
	msgs(review("Deployment", "data", {"name": 7})) == {"Deployment 7 is in namespace \"data\", which is labelled gatehouse.dev/workload-class=stateful and reserved for stateful workloads: run stateless applications in a namespace of their own (a Deployment that needs a volume is a StatefulSet)"}
}
