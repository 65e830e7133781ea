package gatehouse.kubernetes.require_httproute_tls_test

import data.gatehouse.kubernetes.require_httproute_tls as tls

route_in(ns, version, spec) := {
	"apiVersion": concat("/", ["gateway.networking.k8s.io", version]),
	"kind": "HTTPRoute",
	"metadata": {"name": "store", "namespace": ns},
	"spec": spec,
}

review_with(obj, parameters) := {
	"review": {
		"kind": {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "HTTPRoute"},
		"name": "store",
		"namespace": obj.metadata.namespace,
		"operation": "CREATE",
		"object": obj,
	},
	"parameters": parameters,
}

strict := {"allowUnknownGateways": false}

backend_rule := {"backendRefs": [{"name": "store", "port": 8080}]}

# A route of namespace "shop" with the given parentRefs.
route(refs) := route_in("shop", "v1", {"parentRefs": refs, "hostnames": ["store.example.com"], "rules": [backend_rule]})

https_listener := {
	"name": "https",
	"protocol": "HTTPS",
	"port": 443,
	"tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "wildcard-example-com-tls"}]},
	"allowedRoutes": {"namespaces": {"from": "All"}},
}

http_listener(from) := {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": from}}}

gateway(ns, name, listeners) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "Gateway",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"gatewayClassName": "eg", "listeners": listeners},
}

# An inventory holding one Gateway under the given apiVersion.
gateways_in(ns, version, gws) := {"namespace": {ns: {version: {"Gateway": {g.metadata.name: g | some g in gws}}}}}

edge(listeners) := gateways_in("gateway-system", "gateway.networking.k8s.io/v1", [gateway("gateway-system", "public", listeners)])

public_ref := {"name": "public", "namespace": "gateway-system"}

violations(obj, inv) := v if {
	v := tls.violation with input as review_with(obj, strict) with data.inventory as inv
}

paths(obj, inv) := {x.path | some x in violations(obj, inv)}

http_msg := "HTTPRoute \"store\" attaches through spec.parentRefs[0] to listener \"http\" (protocol HTTP, port 80) of Gateway \"gateway-system/public\", which does not terminate TLS: the route is served over plain HTTP; set the parentRef's sectionName to an HTTPS listener"

test_a_route_on_https_listeners_only_passes if {
	count(violations(route([public_ref]), edge([https_listener]))) == 0
	count(violations(route([object.union(public_ref, {"sectionName": "https"})]), edge([https_listener, http_listener("All")]))) == 0
}

test_a_route_that_reaches_an_http_listener_is_reported if {
	violations(route([public_ref]), edge([https_listener, http_listener("All")])) == {{"msg": http_msg, "path": "/spec/parentRefs/0"}}
}

test_a_section_name_selects_the_listener if {
	inv := edge([https_listener, http_listener("All")])
	paths(route([object.union(public_ref, {"sectionName": "http"})]), inv) == {"/spec/parentRefs/0"}
	count(violations(route([object.union(public_ref, {"sectionName": null})]), edge([https_listener]))) == 0
	paths(route([object.union(public_ref, {"sectionName": null})]), inv) == {"/spec/parentRefs/0"}
}

test_a_port_selects_the_listeners if {
	inv := edge([https_listener, http_listener("All")])
	count(violations(route([object.union(public_ref, {"port": 443})]), inv)) == 0
	paths(route([object.union(public_ref, {"port": 80})]), inv) == {"/spec/parentRefs/0"}
	count(violations(route([object.union(public_ref, {"port": 443, "sectionName": "https"})]), inv)) == 0
}

test_a_tls_listener_counts_as_terminating_tls if {
	tls_listener := {"name": "tls", "protocol": "TLS", "port": 8443, "tls": {"mode": "Terminate"}, "allowedRoutes": {"namespaces": {"from": "All"}, "kinds": [{"kind": "HTTPRoute"}]}}
	count(violations(route([public_ref]), edge([tls_listener]))) == 0
}

test_allowed_routes_from_same_keeps_other_namespaces_off_a_listener if {
	# The default (no allowedRoutes) is Same: a route of "shop" cannot attach to the HTTP
	# listener of a Gateway in "gateway-system".
	bare_http := {"name": "http", "protocol": "HTTP", "port": 80}
	count(violations(route([public_ref]), edge([https_listener, bare_http]))) == 0
	count(violations(route([public_ref]), edge([https_listener, http_listener("Same")]))) == 0
	count(violations(route([public_ref]), edge([https_listener, http_listener(null)]))) == 0
	count(violations(route([public_ref]), edge([https_listener, http_listener("None")]))) == 0
	# A route of the Gateway's own namespace does attach.
	local := route_in("gateway-system", "v1", {"parentRefs": [{"name": "public"}], "rules": [backend_rule]})
	paths(local, edge([https_listener, bare_http])) == {"/spec/parentRefs/0"}
	paths(local, edge([https_listener, http_listener("Same")])) == {"/spec/parentRefs/0"}
}

test_an_unknown_from_value_is_assumed_to_accept if {
	paths(route([public_ref]), edge([https_listener, http_listener("Everyone")])) == {"/spec/parentRefs/0"}
}

selector_listener(selector) := {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "Selector", "selector": selector}}}

namespace(name, labels) := {"cluster": {"v1": {"Namespace": {name: {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}}}}}

with_ns(listener, labels) := object.union(edge([https_listener, listener]), namespace("shop", labels))

test_a_selector_is_matched_against_the_route_namespace_labels if {
	listener := selector_listener({"matchLabels": {"gateway-access": "public"}})
	paths(route([public_ref]), with_ns(listener, {"gateway-access": "public"})) == {"/spec/parentRefs/0"}
	count(violations(route([public_ref]), with_ns(listener, {"gateway-access": "internal"}))) == 0
	count(violations(route([public_ref]), with_ns(listener, null))) == 0
	count(violations(route([public_ref]), object.union(edge([https_listener, listener]), namespace("other", {"gateway-access": "public"})))) == 1
}

test_the_namespace_name_label_is_always_set if {
	listener := selector_listener({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop"]}]})
	inv := object.union(edge([https_listener, listener]), namespace("shop", {}))
	paths(route([public_ref]), inv) == {"/spec/parentRefs/0"}
	other := selector_listener({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["blog"]}]})
	count(violations(route([public_ref]), object.union(edge([https_listener, other]), namespace("shop", {})))) == 0
}

test_a_selector_without_the_namespace_in_the_inventory_is_assumed_to_match if {
	listener := selector_listener({"matchLabels": {"gateway-access": "public"}})
	paths(route([public_ref]), edge([https_listener, listener])) == {"/spec/parentRefs/0"}
}

test_allowed_route_kinds_are_honoured if {
	grpc_only := object.union(http_listener("All"), {"allowedRoutes": {"kinds": [{"kind": "GRPCRoute"}]}})
	count(violations(route([public_ref]), edge([https_listener, grpc_only]))) == 0
	http_routes := object.union(http_listener("All"), {"allowedRoutes": {"kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}]}})
	paths(route([public_ref]), edge([https_listener, http_routes])) == {"/spec/parentRefs/0"}
	other_group := object.union(http_listener("All"), {"allowedRoutes": {"kinds": [{"group": "example.com", "kind": "HTTPRoute"}]}})
	count(violations(route([public_ref]), edge([https_listener, other_group]))) == 0
	tcp := {"name": "tcp", "protocol": "TCP", "port": 5432, "allowedRoutes": {"namespaces": {"from": "All"}}}
	count(violations(route([public_ref]), edge([https_listener, tcp]))) == 0
	tcp_http := object.union(tcp, {"allowedRoutes": {"kinds": [{"kind": "HTTPRoute"}]}})
	[x.msg | some x in violations(route([public_ref]), edge([https_listener, tcp_http]))] == ["HTTPRoute \"store\" attaches through spec.parentRefs[0] to listener \"tcp\" (protocol TCP, port 5432) of Gateway \"gateway-system/public\", which does not terminate TLS: the route is served over plain HTTP; set the parentRef's sectionName to an HTTPS listener"]
}

test_every_insecure_listener_is_reported if {
	alt := {"name": "http-alt", "protocol": "HTTP", "port": 8080, "allowedRoutes": {"namespaces": {"from": "All"}}}
	count(violations(route([public_ref]), edge([https_listener, http_listener("All"), alt]))) == 2
}

test_the_gateway_namespace_defaults_to_the_route_namespace if {
	local_gw := gateways_in("shop", "gateway.networking.k8s.io/v1", [gateway("shop", "public", [https_listener, http_listener("Same")])])
	paths(route([{"name": "public"}]), local_gw) == {"/spec/parentRefs/0"}
	paths(route([{"name": "public", "namespace": null}]), local_gw) == {"/spec/parentRefs/0"}
	# The same Gateway name in another namespace does not count.
	[x.msg | some x in violations(route([{"name": "public"}]), edge([https_listener]))] == ["HTTPRoute \"store\" attaches through spec.parentRefs[0] to Gateway \"shop/public\", which is not in the inventory: whether its listeners terminate TLS cannot be verified; apply or scan the Gateway together with the route, or fix the parentRef's name and namespace"]
}

test_v1beta1_gateways_and_routes_are_checked if {
	beta := gateways_in("gateway-system", "gateway.networking.k8s.io/v1beta1", [gateway("gateway-system", "public", [https_listener, http_listener("All")])])
	paths(route([public_ref]), beta) == {"/spec/parentRefs/0"}
	beta_route := route_in("shop", "v1beta1", {"parentRefs": [public_ref], "rules": [backend_rule]})
	paths(beta_route, beta) == {"/spec/parentRefs/0"}
	count(violations(beta_route, edge([https_listener]))) == 0
}

test_a_gateway_missing_from_the_inventory_is_reported if {
	msg := "HTTPRoute \"store\" attaches through spec.parentRefs[0] to Gateway \"gateway-system/public\", which is not in the inventory: whether its listeners terminate TLS cannot be verified; apply or scan the Gateway together with the route, or fix the parentRef's name and namespace"
	violations(route([public_ref]), {}) == {{"msg": msg, "path": "/spec/parentRefs/0"}}
	v := tls.violation with input as review_with(route([public_ref]), strict)
	v == {{"msg": msg, "path": "/spec/parentRefs/0"}}
	paths(route([public_ref]), gateways_in("gateway-system", "gateway.networking.k8s.io/v1alpha2", [gateway("gateway-system", "public", [https_listener])])) == {"/spec/parentRefs/0"}
	paths(route([public_ref]), gateways_in("gateway-system", "gateway.networking.k8s.io/v1", [gateway("gateway-system", "private", [https_listener])])) == {"/spec/parentRefs/0"}
}

test_unknown_gateways_can_be_allowed if {
	count(tls.violation) == 0 with input as review_with(route([public_ref]), {"allowUnknownGateways": true})
	# Known Gateways are still checked.
	inp := review_with(route([public_ref]), {"allowUnknownGateways": true})
	v := tls.violation with input as inp with data.inventory as edge([http_listener("All")])
	{x.path | some x in v} == {"/spec/parentRefs/0"}
}

test_a_section_name_the_gateway_lacks_is_reported if {
	v := violations(route([object.union(public_ref, {"sectionName": "websecure"})]), edge([https_listener]))
	v == {{
		"msg": "HTTPRoute \"store\" attaches through spec.parentRefs[0] to listener \"websecure\", which Gateway \"gateway-system/public\" does not have: whether it terminates TLS cannot be verified; name one of the Gateway's HTTPS listeners",
		"path": "/spec/parentRefs/0/sectionName",
	}}
}

test_each_parent_ref_is_checked_on_its_own if {
	inv := object.union(edge([https_listener, http_listener("All")]), gateways_in("shop", "gateway.networking.k8s.io/v1", [gateway("shop", "internal", [https_listener])]))
	refs := [{"name": "internal"}, object.union(public_ref, {"sectionName": "https"}), public_ref, {"name": "missing"}]
	paths(route(refs), inv) == {"/spec/parentRefs/2", "/spec/parentRefs/3"}
}

test_parents_other_than_gateways_are_not_checked if {
	mesh := {"group": "", "kind": "Service", "name": "store"}
	count(violations(route([mesh]), {})) == 0
	count(violations(route([{"group": "example.com", "kind": "Gateway", "name": "public"}]), {})) == 0
	count(violations(route([{"kind": "ListenerSet", "name": "public"}]), {})) == 0
	paths(route([{"group": null, "kind": null, "name": "public", "namespace": "gateway-system"}]), {}) == {"/spec/parentRefs/0"}
	paths(route([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "gateway-system"}]), {}) == {"/spec/parentRefs/0"}
}

redirect_route(ns, refs) := route_in(ns, "v1", {"parentRefs": refs, "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]})

test_an_https_redirect_route_may_attach_to_http_listeners if {
	local_http := [https_listener, http_listener("Same")]
	inv := edge(local_http)
	count(violations(redirect_route("gateway-system", [{"name": "public", "sectionName": "http"}]), inv)) == 0
	count(violations(redirect_route("gateway-system", [{"name": "unknown"}]), {})) == 0
}

test_a_route_that_does_not_only_redirect_to_https_is_checked if {
	inv := edge([https_listener, http_listener("All")])
	to_http := route_in("shop", "v1", {"parentRefs": [public_ref], "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "http"}}]}]})
	paths(to_http, inv) == {"/spec/parentRefs/0"}
	mixed := route_in("shop", "v1", {"parentRefs": [public_ref], "rules": [
		{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}]},
		backend_rule,
	]})
	paths(mixed, inv) == {"/spec/parentRefs/0"}
	path_only := route_in("shop", "v1", {"parentRefs": [public_ref], "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/"}}}]}]})
	paths(path_only, inv) == {"/spec/parentRefs/0"}
	no_rules := route_in("shop", "v1", {"parentRefs": [public_ref]})
	paths(no_rules, inv) == {"/spec/parentRefs/0"}
}

broken_gw(spec) := gateways_in("gateway-system", "gateway.networking.k8s.io/v1", [{"metadata": {"name": "public"}, "spec": spec}])

test_malformed_routes_and_gateways_raise_nothing_without_error if {
	count(violations(route_in("shop", "v1", {"parentRefs": null}), {})) == 0
	count(violations(route_in("shop", "v1", {"parentRefs": "public"}), {})) == 0
	count(violations(route_in("shop", "v1", "not a spec"), {})) == 0
	count(violations(route([null, "public", {"name": 3}, {}]), {})) == 0
	count(violations(route_in("shop", "v1", {"parentRefs": [public_ref], "rules": "none"}), edge([https_listener]))) == 0
	count(violations(route_in("shop", "v1", {"parentRefs": [public_ref], "rules": [{"filters": "x"}]}), edge([https_listener]))) == 0
	count(violations(route([public_ref]), broken_gw({"listeners": null}))) == 0
	count(violations(route([public_ref]), broken_gw({"listeners": "https"}))) == 0
	count(violations(route([public_ref]), broken_gw("not a spec"))) == 0
	count(violations(route([public_ref]), broken_gw({"listeners": [null, "http", 3]}))) == 0
	count(violations(route([public_ref]), edge([object.union(http_listener("All"), {"allowedRoutes": {"kinds": "HTTPRoute"}})]))) == 1
	count(violations(route([public_ref]), edge([object.union(http_listener("All"), {"allowedRoutes": {"kinds": [null, "HTTPRoute"]}})]))) == 0
	count(violations(route([public_ref]), edge([object.union(http_listener("All"), {"allowedRoutes": "All"})]))) == 0
	count(violations(route([public_ref]), object.union(edge([selector_listener("x")]), namespace("shop", {"a": "b"})))) == 0
	count(violations(route([public_ref]), {"namespace": {"gateway-system": "not an object"}})) == 1
	count(violations(route([public_ref]), {"namespace": "not an object", "cluster": "not an object"})) == 1
	count(violations(route([public_ref]), object.union(edge([selector_listener({})]), {"cluster": {"v1": {"Namespace": {"shop": "x"}}}}))) == 1
}

test_deletes_are_let_through if {
	obj := route([public_ref])
	inp := object.union(review_with(obj, strict), {"review": {"operation": "DELETE"}})
	count(tls.violation) == 0 with input as inp
	being_deleted := object.union(obj, {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(tls.violation) == 0 with input as review_with(being_deleted, strict)
	count(tls.violation) == 1 with input as review_with(obj, strict)
}
