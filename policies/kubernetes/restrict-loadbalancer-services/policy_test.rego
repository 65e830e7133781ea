package gatehouse.kubernetes.restrict_loadbalancer_services_test

import data.gatehouse.kubernetes.restrict_loadbalancer_services as lb

key := "service.beta.kubernetes.io/scw-loadbalancer-health-check-type"

annotation_path := "/metadata/annotations/service.beta.kubernetes.io~1scw-loadbalancer-health-check-type"

defaults := {
	"allowedNamespaces": ["ingress-nginx", "envoy-gateway-system", "gateway-system"],
	"healthCheckTypes": ["http", "https"],
}

ports := [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "https", "port": 443, "targetPort": "https"}]

service(ns, annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "edge", "namespace": ns, "annotations": annotations},
	"spec": spec,
}

lb_spec := {"type": "LoadBalancer", "ports": ports}

review_with(obj, parameters) := {
	"review": {
		"kind": {"group": "", "version": "v1", "kind": "Service"},
		"name": "edge",
		"namespace": obj.metadata.namespace,
		"operation": "CREATE",
		"object": obj,
	},
	"parameters": parameters,
}

violations(ns, annotations, spec) := v if {
	v := lb.violation with input as review_with(service(ns, annotations, spec), defaults)
}

paths(ns, annotations, spec) := {x.path | some x in violations(ns, annotations, spec)}

# The messages reported at the annotation for a load balancer in an allowed namespace.
annotation_msgs(value) := {x.msg |
	some x in violations("ingress-nginx", {key: value}, lb_spec)
	x.path == annotation_path
}

test_an_edge_load_balancer_with_an_http_check_passes if {
	count(violations("ingress-nginx", {key: "http"}, lb_spec)) == 0
	count(violations("envoy-gateway-system", {key: "https"}, lb_spec)) == 0
	count(violations("gateway-system", {key: "http", "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-uri": "/healthz"}, lb_spec)) == 0
}

test_other_service_types_are_not_checked if {
	count(violations("shop", null, {"ports": ports})) == 0
	count(violations("shop", null, {"type": "ClusterIP", "ports": ports})) == 0
	count(violations("shop", null, {"type": "NodePort", "ports": ports})) == 0
	count(violations("shop", null, {"type": "loadbalancer", "ports": ports})) == 0
	count(violations("shop", null, "not a spec")) == 0
}

test_a_load_balancer_in_another_namespace_is_reported_at_the_namespace if {
	v := violations("shop", {key: "http"}, lb_spec)
	v == {{
		"msg": "Service \"edge\" of type LoadBalancer is in namespace \"shop\", where load balancers are not allowed (allowed namespaces: ingress-nginx, envoy-gateway-system, gateway-system): publish it through the ingress controller or a Gateway and make it a ClusterIP Service",
		"path": "/metadata/namespace",
	}}
}

test_the_namespace_comes_from_the_review_then_the_manifest_then_default if {
	obj := service("ingress-nginx", {key: "http"}, lb_spec)
	in_shop := object.union(review_with(obj, defaults), {"review": {"namespace": "shop"}})
	{x.path | some x in lb.violation} == {"/metadata/namespace"} with input as in_shop
	no_review_ns := object.remove(review_with(obj, defaults), ["review"])
	manifest_only := object.union(no_review_ns, {"review": object.remove(review_with(obj, defaults).review, ["namespace"])})
	count(lb.violation) == 0 with input as manifest_only
	bare := object.union(manifest_only, {"review": {"object": {"metadata": {"namespace": null}}}})
	[x.msg | some x in lb.violation] == ["Service \"edge\" of type LoadBalancer is in namespace \"default\", where load balancers are not allowed (allowed namespaces: ingress-nginx, envoy-gateway-system, gateway-system): publish it through the ingress controller or a Gateway and make it a ClusterIP Service"] with input as bare
}

test_a_missing_annotation_is_reported_at_the_annotation if {
	msg := "Service \"edge\" of type LoadBalancer sets no annotation service.beta.kubernetes.io/scw-loadbalancer-health-check-type, so the Scaleway load balancer only checks that a node accepts TCP connections: set it to an application-level check (allowed types: http, https) with the matching health-check URI annotation"
	violations("ingress-nginx", {"service.beta.kubernetes.io/scw-loadbalancer-health-check-http-uri": "/healthz"}, lb_spec) == {{"msg": msg, "path": annotation_path}}
	paths("ingress-nginx", null, lb_spec) == {annotation_path}
	paths("ingress-nginx", {}, lb_spec) == {annotation_path}
	paths("ingress-nginx", {key: null}, lb_spec) == {annotation_path}
	paths("ingress-nginx", {key: true}, lb_spec) == {annotation_path}
	paths("ingress-nginx", "not a map", lb_spec) == {annotation_path}
	bare := {"review": {"kind": {"kind": "Service"}, "object": {"spec": lb_spec}}, "parameters": object.union(defaults, {"allowedNamespaces": ["default"]})}
	{x.path | some x in lb.violation} == {annotation_path} with input as bare
}

test_each_failure_is_reported_separately if {
	paths("shop", null, lb_spec) == {"/metadata/namespace", annotation_path}
	count(violations("shop", null, lb_spec)) == 2
	count(violations("shop", {key: "tcp"}, lb_spec)) == 2
}

test_a_type_outside_the_allowed_list_is_reported if {
	annotation_msgs("tcp") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"tcp\": health-check type \"tcp\" is not allowed (allowed types: http, https)"}
	count(annotation_msgs("HTTP")) == 1
	count(annotation_msgs("pgsql")) == 1
}

test_per_port_types_are_each_checked if {
	count(annotation_msgs("80:http;443:https")) == 0
	count(annotation_msgs("80,443:https")) == 0
	count(annotation_msgs(" 80 : http ; 443 : https ")) == 0
	count(annotation_msgs("http;443:https")) == 0
	count(annotation_msgs("*:https")) == 0
	count(annotation_msgs("true:http")) == 0
	annotation_msgs("80:http;443:tcp") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"80:http;443:tcp\": health-check type \"tcp\" is not allowed (allowed types: http, https)"}
	annotation_msgs("tcp;443:redis") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"tcp;443:redis\": health-check types \"redis\", \"tcp\" are not allowed (allowed types: http, https)"}
}

test_a_malformed_segment_is_a_wrong_value if {
	annotation_msgs("80:443:http") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"80:443:http\": health-check type \"80:443:http\" is not allowed (allowed types: http, https)"}
}

test_a_port_without_a_type_is_reported if {
	annotation_msgs("80:http") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"80:http\", which gives no health-check type to port 443: the Scaleway cloud controller refuses to configure the load balancer; add a default type or an entry for 443"}
	annotation_msgs("8080:http") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"8080:http\", which gives no health-check type to ports 80, 443: the Scaleway cloud controller refuses to configure the load balancer; add a default type or an entry for 80, 443"}
	count(annotation_msgs("false:http")) == 1
	count(annotation_msgs("https;80:http")) == 0
}

test_empty_segments_are_ignored if {
	count(annotation_msgs("http;")) == 0
	count(annotation_msgs(";https")) == 0
	# Nothing but separators is no type at all, as the controller reads it.
	annotation_msgs(";") == {"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \";\", which gives no health-check type to ports 80, 443: the Scaleway cloud controller refuses to configure the load balancer; add a default type or an entry for 80, 443"}
	count(annotation_msgs("")) == 1
}

test_the_parameters_are_honoured if {
	params := {"allowedNamespaces": ["edge"], "healthCheckTypes": ["tcp", "http"]}
	ok := service("edge", {key: "tcp"}, lb_spec)
	count(lb.violation) == 0 with input as review_with(ok, params)
	moved := service("ingress-nginx", {key: "https"}, lb_spec)
	v := lb.violation with input as review_with(moved, params)
	{x.path | some x in v} == {"/metadata/namespace", annotation_path}
	none := {"allowedNamespaces": [], "healthCheckTypes": ["http"]}
	w := lb.violation with input as review_with(moved, none)
	{x.msg | some x in w} == {
		"Service \"edge\" of type LoadBalancer is in namespace \"ingress-nginx\", where load balancers are not allowed (no allowed namespaces are configured): publish it through the ingress controller or a Gateway and make it a ClusterIP Service",
		"Service \"edge\" of type LoadBalancer sets service.beta.kubernetes.io/scw-loadbalancer-health-check-type to \"https\": health-check type \"https\" is not allowed (allowed types: http)",
	}
}

test_a_load_balancer_class_skips_the_annotation_but_not_the_namespace if {
	spec := object.union(lb_spec, {"loadBalancerClass": "metallb.io/metallb"})
	count(violations("ingress-nginx", null, spec)) == 0
	paths("shop", {key: "tcp"}, spec) == {"/metadata/namespace"}
	paths("ingress-nginx", null, object.union(lb_spec, {"loadBalancerClass": null})) == {annotation_path}
}

test_malformed_ports_raise_nothing_without_error if {
	count(violations("ingress-nginx", {key: "80:http"}, {"type": "LoadBalancer", "ports": null})) == 0
	count(violations("ingress-nginx", {key: "80:http"}, {"type": "LoadBalancer", "ports": "80"})) == 0
	count(violations("ingress-nginx", {key: "80:http"}, {"type": "LoadBalancer", "ports": [null, {"port": "443"}, {"port": 80}]})) == 0
}

test_deletes_are_let_through if {
	obj := service("shop", null, lb_spec)
	inp := object.union(review_with(obj, defaults), {"review": {"operation": "DELETE"}})
	count(lb.violation) == 0 with input as inp
	being_deleted := object.union(obj, {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(lb.violation) == 0 with input as review_with(being_deleted, defaults)
	count(lb.violation) == 2 with input as review_with(obj, defaults)
}
