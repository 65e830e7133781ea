package gatehouse.kubernetes.disallow_nodeport_test

import data.gatehouse.kubernetes.disallow_nodeport

service(spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": spec,
}

review(obj) := {"review": {
	"kind": {"group": "", "version": "v1", "kind": "Service"},
	"name": "web",
	"namespace": "shop",
	"operation": "CREATE",
	"object": obj,
}}

violations(spec) := v if {
	v := disallow_nodeport.violation with input as review(service(spec))
}

paths(spec) := {x.path | some x in violations(spec)}

http := {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}

https := {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}

type_msg := "Service \"web\" is of type NodePort, which opens its ports on every node of the cluster, outside the allow-listing done at the load balancer and ingress: make it a ClusterIP Service and expose it through the ingress controller or a Gateway"

test_cluster_ip_services_pass if {
	count(violations({"ports": [http], "selector": {"app": "web"}})) == 0
	count(violations({"type": "ClusterIP", "ports": [http, https]})) == 0
	count(violations({"type": "ClusterIP", "clusterIP": "None", "ports": [http]})) == 0
	count(violations({"type": "ExternalName", "externalName": "db.example.com"})) == 0
}

test_a_load_balancer_with_allocated_node_ports_passes if {
	count(violations({"type": "LoadBalancer", "ports": [http, https]})) == 0
	count(violations({"type": "LoadBalancer", "ports": [object.union(http, {"nodePort": 0})]})) == 0
	count(violations({"type": "LoadBalancer", "ports": [object.union(http, {"nodePort": null})]})) == 0
}

test_a_node_port_service_is_reported_at_spec_type if {
	violations({"type": "NodePort", "ports": [http]}) == {{"msg": type_msg, "path": "/spec/type"}}
}

test_a_node_port_service_pinning_ports_is_reported_twice if {
	spec := {"type": "NodePort", "ports": [http, object.union(https, {"nodePort": 30443})]}
	violations(spec) == {
		{"msg": type_msg, "path": "/spec/type"},
		{
			"msg": "Service \"web\" pins nodePort 30443 on port \"https\": a fixed port open on every node of the cluster lets clients reach it around the allow-listing done at the edge; remove spec.ports[1].nodePort",
			"path": "/spec/ports/1/nodePort",
		},
	}
}

test_an_explicit_node_port_is_reported_on_any_type if {
	pinned := [http, object.union(https, {"nodePort": 31443})]
	paths({"type": "LoadBalancer", "ports": pinned}) == {"/spec/ports/1/nodePort"}
	paths({"ports": [object.union(http, {"nodePort": 30080}), object.union(https, {"nodePort": 30443})]}) == {"/spec/ports/0/nodePort", "/spec/ports/1/nodePort"}
}

test_an_unnamed_port_is_named_by_its_number if {
	v := violations({"type": "LoadBalancer", "ports": [{"port": 5432, "nodePort": 30432}]})
	[x.msg | some x in v] == ["Service \"web\" pins nodePort 30432 on port 5432: a fixed port open on every node of the cluster lets clients reach it around the allow-listing done at the edge; remove spec.ports[0].nodePort"]
}

test_the_type_is_case_sensitive_as_the_api_server_reads_it if {
	count(violations({"type": "nodeport", "ports": [http]})) == 0
}

test_malformed_fields_raise_nothing_without_error if {
	count(violations({"type": "LoadBalancer", "ports": null})) == 0
	count(violations({"type": "LoadBalancer", "ports": "80:30080"})) == 0
	count(violations({"type": "LoadBalancer", "ports": [null, "http", 80]})) == 0
	count(violations({"type": null})) == 0
	count(violations("not a spec")) == 0
	count(disallow_nodeport.violation) == 0 with input as review({"metadata": {"name": "web"}})
	paths({"type": "NodePort", "ports": "80:30080"}) == {"/spec/type"}
}

test_a_name_that_is_not_a_string_still_reads if {
	obj := object.union(service({"type": "NodePort"}), {"metadata": {"name": 7}})
	v := disallow_nodeport.violation with input as review(obj)
	[x.msg | some x in v] == ["Service 7 is of type NodePort, which opens its ports on every node of the cluster, outside the allow-listing done at the load balancer and ingress: make it a ClusterIP Service and expose it through the ingress controller or a Gateway"]
}

test_deletes_are_let_through if {
	spec := {"type": "NodePort", "ports": [object.union(http, {"nodePort": 30080})]}
	inp := object.union(review(service(spec)), {"review": {"operation": "DELETE"}})
	count(disallow_nodeport.violation) == 0 with input as inp
	being_deleted := object.union(service(spec), {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(disallow_nodeport.violation) == 0 with input as review(being_deleted)
	count(disallow_nodeport.violation) == 2 with input as review(service(spec))
}
